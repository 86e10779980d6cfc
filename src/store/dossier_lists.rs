//! The admin's lists of dossiers: filters, search, sort and pages, as SQL both engines run with
//! their indexes.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::types::Json;

use super::{Db, Engine, StoreError, with_db};
use crate::domain::text::search_key;
use crate::domain::{Scope, Status};

/// A value bound to a `$n` placeholder.
#[derive(Debug, Clone)]
enum Bind {
    Text(String),
    Int(i64),
    Time(DateTime<Utc>),
    Date(NaiveDate),
}

/// Binds every value of `$binds`, in order, to the query `$query`.
macro_rules! bind_all {
    ($query:expr, $binds:expr) => {{
        let mut query = $query;
        for bind in $binds {
            query = match bind {
                Bind::Text(v) => query.bind(v.clone()),
                Bind::Int(v) => query.bind(*v),
                Bind::Time(v) => query.bind(*v),
                Bind::Date(v) => query.bind(*v),
            };
        }
        query
    }};
}

/// A `WHERE` clause under construction.
#[derive(Debug, Default, Clone)]
struct Filter {
    conditions: Vec<String>,
    binds: Vec<Bind>,
}

impl Filter {
    /// Adds a condition whose `?` are the given values, in order.
    fn and(&mut self, condition: &str, values: Vec<Bind>) {
        let mut sql = String::new();
        let mut values = values.into_iter();
        for (i, part) in condition.split('?').enumerate() {
            if i > 0 {
                let value = values.next().expect("one value per ?");
                self.binds.push(value);
                sql.push_str(&format!("${}", self.binds.len()));
            }
            sql.push_str(part);
        }
        self.conditions.push(sql);
    }

    /// Limits the rows to the départements of `scope`.
    fn within(&mut self, scope: &Scope) {
        if let Some(departments) = scope.departments() {
            let marks = vec!["?"; departments.len()].join(", ");
            let values = departments.iter().cloned().map(Bind::Text).collect();
            self.and(&format!("department IN ({marks})"), values);
        }
    }

    fn sql(&self) -> String {
        match self.conditions.is_empty() {
            true => String::new(),
            false => format!(" WHERE {}", self.conditions.join(" AND ")),
        }
    }
}

/// The columns of the dossiers list, each sortable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    DsId,
    Status,
    CreatedAt,
    Department,
    DebutApt,
    FinApt,
    Instructeurs,
}

impl Column {
    pub const ALL: [Column; 7] = [
        Column::DsId,
        Column::Status,
        Column::CreatedAt,
        Column::Department,
        Column::DebutApt,
        Column::FinApt,
        Column::Instructeurs,
    ];

    fn sql(self) -> &'static str {
        match self {
            Column::DsId => "ds_id",
            Column::Status => "status",
            Column::CreatedAt => "created_at",
            Column::Department => "department",
            Column::DebutApt => "date_de_debut_apt",
            Column::FinApt => "date_de_fin_apt",
            Column::Instructeurs => "instructeurs",
        }
    }
}

/// What the dossiers list shows: every filter is optional.
#[derive(Debug, Clone)]
pub struct ListQuery {
    /// What the agent may see: applied to the rows; the counts are restricted by the caller.
    pub scope: Scope,
    pub status: Option<Status>,
    pub department: Option<String>,
    /// `[from, to)` on `created_at`, from the date hierarchy.
    pub created: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// A DS number, or the start of a name, a first name or an e-mail.
    pub search: Option<String>,
    pub sort: Column,
    pub descending: bool,
    pub limit: i64,
    pub start: PageStart,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ListRow {
    pub ds_id: i64,
    #[sqlx(try_from = "String")]
    pub status: Status,
    pub created_at: Option<DateTime<Utc>>,
    pub department: Option<String>,
    pub date_de_debut_apt: Option<NaiveDate>,
    pub date_de_fin_apt: Option<NaiveDate>,
    pub instructeurs: Json<Vec<String>>,
    pub deleted_on_ds_at: Option<DateTime<Utc>>,
}

/// The filters of `q`; `with_facets` adds status and department, which the counts leave out
/// (they are applied to the cross-tabulation instead); `along_sort`, see [`search_keys`].
fn filter(q: &ListQuery, with_facets: bool, along_sort: bool) -> Filter {
    let mut f = Filter::default();
    // An erased dossier (SPEC 14) is a statistical record, not a dossier an agent follows.
    f.and("erased_at IS NULL", vec![]);
    if with_facets {
        f.within(&q.scope);
    }
    if let (Some(status), true) = (q.status, with_facets) {
        f.and("status = ?", vec![Bind::Text(status.as_str().into())]);
    }
    if let (Some(department), true) = (&q.department, with_facets) {
        f.and("department = ?", vec![Bind::Text(department.clone())]);
    }
    if let Some((from, to)) = q.created {
        f.and(
            "created_at >= ? AND created_at < ?",
            vec![Bind::Time(from), Bind::Time(to)],
        );
    }
    match search(q) {
        Some(Search::DsId(ds_id)) => f.and("ds_id = ?", vec![Bind::Int(ds_id)]),
        Some(Search::Prefix(prefix)) => search_keys(&mut f, &prefix, along_sort),
        None => {}
    }
    f
}

/// What the search box asks for.
enum Search {
    DsId(i64),
    /// The start of a name, a first name or an e-mail, as a search key.
    Prefix(String),
}

fn search(q: &ListQuery) -> Option<Search> {
    let search = q
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())?;
    Some(match search.parse::<i64>() {
        Ok(ds_id) => Search::DsId(ds_id),
        Err(_) => Search::Prefix(search_key(search)),
    })
}

/// Adds the condition that a search key starts with `prefix`. Keys compare bytewise on both
/// engines: a prefix is a range of their indexes. `along_sort` hides those indexes
/// (`key || ''` is not indexed): the page is then found walking the index of its sort and
/// reading each row's keys, which is faster when most rows match (see [`MANY_MATCHES`]).
fn search_keys(f: &mut Filter, prefix: &str, along_sort: bool) {
    let mut ranges = Vec::new();
    let mut values = Vec::new();
    for key in ["nom_search", "prenom_search", "email_search"] {
        let key = match along_sort {
            true => format!("({key} || '')"),
            false => key.to_owned(),
        };
        ranges.push(format!("({key} >= ? AND {key} < ?)"));
        values.push(Bind::Text(prefix.to_owned()));
        values.push(Bind::Text(format!("{prefix}\u{10FFFF}")));
    }
    f.and(&format!("({})", ranges.join(" OR ")), values);
}

/// Past this many matches, a page of a search is found along the sort's index rather than in
/// the keys' indexes. Through the keys, a page reads (and sorts) every match; along the sort,
/// about `limit × dossiers ÷ matches` rows: at 1,000,000 dossiers and 100 a page, the two
/// meet near 10,000. SQLite's planner, which has no estimate of a range's size, always takes
/// the keys (« nguy », 128,161 matches: 0.8 s instead of 13 ms).
const MANY_MATCHES: i64 = 10_000;

/// Whether `q` searches a prefix that more than [`MANY_MATCHES`] dossiers start with, counted
/// in the keys' indexes up to that number (a few milliseconds).
async fn matches_many(db: &Db, q: &ListQuery) -> Result<bool, StoreError> {
    let Some(Search::Prefix(prefix)) = search(q) else {
        return Ok(false);
    };
    let mut f = Filter::default();
    search_keys(&mut f, &prefix, false);
    let sql = format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM dossiers{} LIMIT {MANY_MATCHES}) AS matches",
        f.sql()
    );
    let matches: i64 = with_db!(db, pool => {
        bind_all!(sqlx::query_scalar(&sql), &f.binds).fetch_one(pool).await?
    });
    Ok(matches >= MANY_MATCHES)
}

/// `ORDER BY` of a column, empty values last when ascending (first when descending): the
/// order of the `(column, ds_id)` indexes, read forwards or backwards.
fn order_by(column: &str, descending: bool) -> String {
    match descending {
        true => format!("{column} DESC NULLS FIRST, ds_id DESC"),
        false => format!("{column} ASC NULLS LAST, ds_id ASC"),
    }
}

/// A row of a list page, read from either engine.
trait PageRow:
    for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
    + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
    + Send
    + Unpin
{
}

impl<R> PageRow for R where
    R: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin
{
}

/// Where a page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageStart {
    /// After this many rows: any page, at the cost of reading the rows it skips.
    Offset(i64),
    /// Just after this dossier, in the list's order ("page suivante"): read from the index at
    /// that place, however deep.
    After(i64),
    /// Just before this dossier ("page précédente").
    Before(i64),
}

/// One page of the list.
pub async fn page(db: &Db, q: &ListQuery) -> Result<Vec<ListRow>, StoreError> {
    let columns = "ds_id, status, created_at, department, date_de_debut_apt, date_de_fin_apt, \
                   instructeurs, deleted_on_ds_at";
    let along_sort = db.engine() == Engine::Sqlite && matches_many(db, q).await?;
    let f = filter(q, true, along_sort);
    rows_of_page(db, columns, f, q.sort.sql(), q.descending, q.limit, q.start).await
}

/// The rows of a page. The page's numbers are found first (in an index when the sort allows),
/// then only those rows are read. From a neighbouring dossier (`After`, `Before`), the index is
/// entered at that dossier's place: `(column, ds_id)` compared as a row with the dossier's own.
/// Empty values form a block of their own (first when descending, last when ascending): when
/// the page reaches the end of its dossier's block, the next block completes it.
async fn rows_of_page<R: PageRow>(
    db: &Db,
    columns: &str,
    f: Filter,
    sort: &str,
    descending: bool,
    limit: i64,
    start: PageStart,
) -> Result<Vec<R>, StoreError> {
    let (anchor, descending, reversed) = match start {
        PageStart::Offset(offset) => {
            return rows_from(db, columns, &f, sort, descending, limit, offset).await;
        }
        PageStart::After(id) => (id, descending, false),
        // The rows before a dossier are the rows after it in the opposite order.
        PageStart::Before(id) => (id, !descending, true),
    };
    // The anchor is read under the list's own filters, scope included: a dossier the list
    // cannot show (another département's, edited by hand) is a missing anchor, so that its
    // neighbours never reveal its sort value.
    let mut anchor_row = f.clone();
    anchor_row.and("ds_id = ?", vec![Bind::Int(anchor)]);
    let anchor_where = anchor_row.sql();
    let sql = format!("SELECT {sort} IS NULL FROM dossiers{anchor_where}");
    let anchor_is_empty: Option<bool> = with_db!(db, pool => {
        bind_all!(sqlx::query_scalar(&sql), &anchor_row.binds).fetch_optional(pool).await?
    });
    let Some(anchor_is_empty) = anchor_is_empty else {
        // A number that is not stored or not in this list: the first page.
        return rows_from(db, columns, &f, sort, descending, limit, 0).await;
    };
    let further = if descending { "<" } else { ">" };
    // Same placeholders as the anchor's lookup: `f`'s values, then the anchor's number.
    let mut same_block = anchor_row.clone();
    same_block.conditions.pop();
    let anchor_mark = format!("${}", anchor_row.binds.len());
    match anchor_is_empty {
        true => same_block.and(
            &format!("{sort} IS NULL AND ds_id {further} {anchor_mark}"),
            vec![],
        ),
        false => same_block.and(
            &format!(
                "({sort}, ds_id) {further} \
                 ((SELECT {sort} FROM dossiers{anchor_where}), {anchor_mark})"
            ),
            vec![],
        ),
    }
    let mut rows = rows_from(db, columns, &same_block, sort, descending, limit, 0).await?;
    // Empty values first when descending, last when ascending.
    let next_block = match (descending, anchor_is_empty) {
        (true, true) => Some(format!("{sort} IS NOT NULL")),
        (false, false) => Some(format!("{sort} IS NULL")),
        _ => None,
    };
    if let (Some(condition), true) = (next_block, (rows.len() as i64) < limit) {
        let mut next = f;
        next.and(&condition, vec![]);
        let rest = limit - rows.len() as i64;
        rows.extend(rows_from(db, columns, &next, sort, descending, rest, 0).await?);
    }
    if reversed {
        rows.reverse();
    }
    Ok(rows)
}

/// `limit` rows matching `f`, in order, after `offset` of them.
async fn rows_from<R: PageRow>(
    db: &Db,
    columns: &str,
    f: &Filter,
    sort: &str,
    descending: bool,
    limit: i64,
    offset: i64,
) -> Result<Vec<R>, StoreError> {
    let order = order_by(sort, descending);
    let sql = format!(
        "SELECT {columns} FROM dossiers WHERE ds_id IN \
         (SELECT ds_id FROM dossiers{} ORDER BY {order} LIMIT {limit} OFFSET {offset}) \
         ORDER BY {order}",
        f.sql(),
    );
    Ok(with_db!(db, pool => {
        bind_all!(sqlx::query_as(&sql), &f.binds).fetch_all(pool).await?
    }))
}

/// How many dossiers match, by status and department: one pass gives the total and both
/// filters' counts for every status and department selection.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    cells: Vec<(String, Option<String>, i64)>,
}

impl Counts {
    /// Only the cells of the départements `scope` allows.
    pub fn within(&self, scope: &Scope) -> Counts {
        Counts {
            cells: self
                .cells
                .iter()
                .filter(|(_, department, _)| scope.allows(department.as_deref()))
                .cloned()
                .collect(),
        }
    }

    /// The dossiers matching `status` and `department` (any when `None`).
    pub fn total(&self, status: Option<Status>, department: Option<&str>) -> i64 {
        self.cells
            .iter()
            .filter(|(s, d, _)| Self::matches(s, d, status, department))
            .map(|(_, _, n)| n)
            .sum()
    }

    /// Per status, under the department filter.
    pub fn by_status(&self, department: Option<&str>) -> Vec<(String, i64)> {
        self.group(|(s, d, _)| Self::matches(s, d, None, department).then(|| s.clone()))
    }

    /// Per department, under the status filter.
    pub fn by_department(&self, status: Option<Status>) -> Vec<(String, i64)> {
        self.group(|(s, d, _)| {
            Self::matches(s, d, status, None)
                .then(|| d.clone())
                .flatten()
        })
    }

    fn matches(
        s: &str,
        d: &Option<String>,
        status: Option<Status>,
        department: Option<&str>,
    ) -> bool {
        status.is_none_or(|status| s == status.as_str())
            && department.is_none_or(|department| d.as_deref() == Some(department))
    }

    fn group(
        &self,
        key: impl Fn(&(String, Option<String>, i64)) -> Option<String>,
    ) -> Vec<(String, i64)> {
        let mut groups = std::collections::BTreeMap::<String, i64>::new();
        for cell in &self.cells {
            if let Some(k) = key(cell) {
                *groups.entry(k).or_default() += cell.2;
            }
        }
        groups.into_iter().collect()
    }
}

/// The counts of the dossiers matching `q`'s date and search filters, in every département:
/// one cross-tabulation serves every agent, each seeing its part through [`Counts::within`].
pub async fn counts(db: &Db, q: &ListQuery) -> Result<Counts, StoreError> {
    let f = filter(q, false, false);
    let sql = format!(
        "SELECT status, department, COUNT(*) FROM dossiers{} GROUP BY status, department",
        f.sql()
    );
    let cells = with_db!(db, pool => {
        bind_all!(sqlx::query_as(&sql), &f.binds).fetch_all(pool).await?
    });
    Ok(Counts { cells })
}

/// The first and last creation instants of the dossiers `scope` allows, for the date
/// hierarchy.
pub async fn created_bounds(
    db: &Db,
    scope: &Scope,
) -> Result<Option<(DateTime<Utc>, DateTime<Utc>)>, StoreError> {
    let mut f = Filter::default();
    f.and("created_at IS NOT NULL", vec![]);
    f.within(scope);
    let bound = |order: &str| {
        format!(
            "SELECT created_at FROM dossiers{} ORDER BY created_at {order} LIMIT 1",
            f.sql()
        )
    };
    let (first, last) = (bound("ASC"), bound("DESC"));
    let (first, last): (Option<DateTime<Utc>>, Option<DateTime<Utc>>) = with_db!(db, pool => {
        let first = bind_all!(sqlx::query_scalar(&first), &f.binds).fetch_optional(pool).await?;
        let last = bind_all!(sqlx::query_scalar(&last), &f.binds).fetch_optional(pool).await?;
        (first, last)
    });
    Ok(first.zip(last))
}

/// The columns of Suivi Préfecture, each sortable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrefectureColumn {
    Expiration,
    DsId,
    Nationalite,
    Prenom,
    Nom,
    Status,
}

impl PrefectureColumn {
    pub const ALL: [PrefectureColumn; 6] = [
        PrefectureColumn::Expiration,
        PrefectureColumn::DsId,
        PrefectureColumn::Nationalite,
        PrefectureColumn::Prenom,
        PrefectureColumn::Nom,
        PrefectureColumn::Status,
    ];

    fn sql(self) -> &'static str {
        match self {
            PrefectureColumn::Expiration => "date_dexpiration_titre_sejour",
            PrefectureColumn::DsId => "ds_id",
            PrefectureColumn::Nationalite => "nationalite",
            PrefectureColumn::Prenom => "prenom",
            PrefectureColumn::Nom => "nom",
            PrefectureColumn::Status => "status",
        }
    }
}

#[derive(Debug, Clone)]
pub struct PrefectureQuery {
    /// What the agent may see: applied to the rows; the counts are restricted by the caller.
    pub scope: Scope,
    /// Residence permits expiring after this day.
    pub after: NaiveDate,
    pub status: Option<Status>,
    pub sort: PrefectureColumn,
    pub descending: bool,
    pub limit: i64,
    pub start: PageStart,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PrefectureRow {
    pub date_dexpiration_titre_sejour: Option<NaiveDate>,
    pub ds_id: i64,
    pub nationalite: Option<String>,
    pub prenom: Option<String>,
    pub nom: Option<String>,
    #[sqlx(try_from = "String")]
    pub status: Status,
}

/// The filters of `q`; `for_rows` adds the status and the scope, which the counts leave out.
fn prefecture_filter(q: &PrefectureQuery, for_rows: bool) -> Filter {
    let mut f = Filter::default();
    f.and(
        "date_dexpiration_titre_sejour > ?",
        vec![Bind::Date(q.after)],
    );
    if let (Some(status), true) = (q.status, for_rows) {
        f.and("status = ?", vec![Bind::Text(status.as_str().into())]);
    }
    if for_rows {
        f.within(&q.scope);
    }
    f
}

/// One page of Suivi Préfecture.
pub async fn prefecture_page(
    db: &Db,
    q: &PrefectureQuery,
) -> Result<Vec<PrefectureRow>, StoreError> {
    let columns = "date_dexpiration_titre_sejour, ds_id, nationalite, prenom, nom, status";
    let f = prefecture_filter(q, true);
    rows_of_page(db, columns, f, q.sort.sql(), q.descending, q.limit, q.start).await
}

/// The counts of Suivi Préfecture, per status and département, in every département (as
/// [`counts`]).
pub async fn prefecture_counts(db: &Db, q: &PrefectureQuery) -> Result<Counts, StoreError> {
    let f = prefecture_filter(q, false);
    let sql = format!(
        // `status || ''`: grouped as an expression, SQLite reads the expiration index (which
        // carries the status and the département) instead of walking the whole status index.
        "SELECT status || '', department, COUNT(*) FROM dossiers{} \
         GROUP BY status || '', department",
        f.sql()
    );
    let cells: Vec<(String, Option<String>, i64)> = with_db!(db, pool => {
        bind_all!(sqlx::query_as(&sql), &f.binds).fetch_all(pool).await?
    });
    Ok(Counts { cells })
}

/// How many dossiers still on DS have each status, per département (the home page).
pub async fn counts_by_status(db: &Db) -> Result<Counts, StoreError> {
    let cells = with_db!(db, pool => {
        sqlx::query_as(
            "SELECT status, department, COUNT(*) FROM dossiers WHERE deleted_on_ds_at IS NULL \
             GROUP BY status, department",
        )
        .fetch_all(pool)
        .await?
    });
    Ok(Counts { cells })
}

/// Every département a dossier or an account has, by name. The dossiers' are read one value at
/// a time from the index on `department` (a loose index scan), not by reading every dossier.
pub async fn departments(db: &Db) -> Result<Vec<String>, StoreError> {
    Ok(with_db!(db, pool => {
        sqlx::query_scalar(
            "WITH RECURSIVE known (department) AS ( \
                 SELECT MIN(department) FROM dossiers \
                 UNION ALL \
                 SELECT (SELECT MIN(department) FROM dossiers WHERE department > known.department) \
                 FROM known WHERE known.department IS NOT NULL \
             ) \
             SELECT department FROM known WHERE department IS NOT NULL \
             UNION SELECT department FROM user_departments \
             ORDER BY 1",
        )
        .fetch_all(pool)
        .await?
    }))
}
