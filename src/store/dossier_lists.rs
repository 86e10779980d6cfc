//! The admin's lists of dossiers: filters, search, sort and pages, as SQL both engines run with
//! their indexes.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::types::Json;

use super::{Db, StoreError, with_db};
use crate::domain::Status;

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
#[derive(Debug, Default)]
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

    /// The name in the query string (`?o=fin_apt`).
    pub fn key(self) -> &'static str {
        match self {
            Column::DsId => "ds_id",
            Column::Status => "statut",
            Column::CreatedAt => "cree_le",
            Column::Department => "departement",
            Column::DebutApt => "debut_apt",
            Column::FinApt => "fin_apt",
            Column::Instructeurs => "instructeurs",
        }
    }

    pub fn from_key(key: &str) -> Option<Column> {
        Column::ALL.into_iter().find(|c| c.key() == key)
    }
}

/// What the dossiers list shows: every filter is optional.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub status: Option<Status>,
    pub department: Option<String>,
    /// `[from, to)` on `created_at`, from the date hierarchy.
    pub created: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// A DS number, or the start of a name, a first name or an e-mail.
    pub search: Option<String>,
    pub sort: Column,
    pub descending: bool,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ListRow {
    pub ds_id: i64,
    pub status: String,
    pub created_at: Option<DateTime<Utc>>,
    pub department: Option<String>,
    pub date_de_debut_apt: Option<NaiveDate>,
    pub date_de_fin_apt: Option<NaiveDate>,
    pub instructeurs: Json<Vec<String>>,
    pub deleted_on_ds_at: Option<DateTime<Utc>>,
}

/// Which filters a `WHERE` carries: the facets count under every filter but their own.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Except {
    Nothing,
    Status,
    Department,
}

fn filter(q: &ListQuery, except: Except) -> Filter {
    let mut f = Filter::default();
    if let (Some(status), false) = (q.status, except == Except::Status) {
        f.and("status = ?", vec![Bind::Text(status.as_str().into())]);
    }
    if let (Some(department), false) = (&q.department, except == Except::Department) {
        f.and("department = ?", vec![Bind::Text(department.clone())]);
    }
    if let Some((from, to)) = q.created {
        f.and(
            "created_at >= ? AND created_at < ?",
            vec![Bind::Time(from), Bind::Time(to)],
        );
    }
    if let Some(search) = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        match search.parse::<i64>() {
            Ok(ds_id) => f.and("ds_id = ?", vec![Bind::Int(ds_id)]),
            Err(_) => {
                let prefix = format!("{}%", escape_like(&search.to_lowercase()));
                f.and(
                    "(lower(nom) LIKE ? ESCAPE '\\' OR lower(prenom) LIKE ? ESCAPE '\\' OR lower(email) LIKE ? ESCAPE '\\')",
                    vec![Bind::Text(prefix.clone()), Bind::Text(prefix.clone()), Bind::Text(prefix)],
                );
            }
        }
    }
    f
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// One page of the list, and how many dossiers match.
pub async fn page(db: &Db, q: &ListQuery) -> Result<(Vec<ListRow>, i64), StoreError> {
    let f = filter(q, Except::Nothing);
    let (direction, nulls) = match q.descending {
        true => ("DESC", "NULLS FIRST"),
        false => ("ASC", "NULLS LAST"),
    };
    let sql = format!(
        "SELECT ds_id, status, created_at, department, date_de_debut_apt, date_de_fin_apt, \
         instructeurs, deleted_on_ds_at FROM dossiers{} ORDER BY {} {direction} {nulls}, \
         ds_id {direction} LIMIT {} OFFSET {}",
        f.sql(),
        q.sort.sql(),
        q.limit,
        q.offset
    );
    let count_sql = format!("SELECT COUNT(*) FROM dossiers{}", f.sql());
    Ok(with_db!(db, pool => {
        let rows = bind_all!(sqlx::query_as(&sql), &f.binds).fetch_all(pool).await?;
        let total = bind_all!(sqlx::query_scalar(&count_sql), &f.binds).fetch_one(pool).await?;
        (rows, total)
    }))
}

/// How many dossiers of each status match the other filters.
pub async fn status_counts(db: &Db, q: &ListQuery) -> Result<Vec<(String, i64)>, StoreError> {
    facet(db, q, Except::Status, "status").await
}

/// How many dossiers of each department match the other filters.
pub async fn department_counts(db: &Db, q: &ListQuery) -> Result<Vec<(String, i64)>, StoreError> {
    facet(db, q, Except::Department, "department").await
}

async fn facet(
    db: &Db,
    q: &ListQuery,
    except: Except,
    column: &str,
) -> Result<Vec<(String, i64)>, StoreError> {
    let mut f = filter(q, except);
    f.and(&format!("{column} IS NOT NULL"), vec![]);
    let sql = format!(
        "SELECT {column}, COUNT(*) FROM dossiers{} GROUP BY {column} ORDER BY {column}",
        f.sql()
    );
    Ok(with_db!(db, pool => {
        bind_all!(sqlx::query_as(&sql), &f.binds).fetch_all(pool).await?
    }))
}

/// The first and last creation instants, for the date hierarchy.
pub async fn created_bounds(db: &Db) -> Result<Option<(DateTime<Utc>, DateTime<Utc>)>, StoreError> {
    let (first, last): (Option<DateTime<Utc>>, Option<DateTime<Utc>>) = with_db!(db, pool => {
        let first = sqlx::query_scalar(
            "SELECT created_at FROM dossiers WHERE created_at IS NOT NULL ORDER BY created_at LIMIT 1",
        )
        .fetch_optional(pool)
        .await?;
        let last = sqlx::query_scalar(
            "SELECT created_at FROM dossiers WHERE created_at IS NOT NULL ORDER BY created_at DESC LIMIT 1",
        )
        .fetch_optional(pool)
        .await?;
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

    pub fn key(self) -> &'static str {
        match self {
            PrefectureColumn::Expiration => "expiration",
            PrefectureColumn::DsId => "ds_id",
            PrefectureColumn::Nationalite => "nationalite",
            PrefectureColumn::Prenom => "prenom",
            PrefectureColumn::Nom => "nom",
            PrefectureColumn::Status => "statut",
        }
    }

    pub fn from_key(key: &str) -> Option<PrefectureColumn> {
        PrefectureColumn::ALL.into_iter().find(|c| c.key() == key)
    }
}

#[derive(Debug, Clone)]
pub struct PrefectureQuery {
    /// Residence permits expiring after this day.
    pub after: NaiveDate,
    pub status: Option<Status>,
    pub sort: PrefectureColumn,
    pub descending: bool,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PrefectureRow {
    pub date_dexpiration_titre_sejour: Option<NaiveDate>,
    pub ds_id: i64,
    pub nationalite: Option<String>,
    pub prenom: Option<String>,
    pub nom: Option<String>,
    pub status: String,
}

fn prefecture_filter(q: &PrefectureQuery, with_status: bool) -> Filter {
    let mut f = Filter::default();
    f.and(
        "date_dexpiration_titre_sejour > ?",
        vec![Bind::Date(q.after)],
    );
    if let (Some(status), true) = (q.status, with_status) {
        f.and("status = ?", vec![Bind::Text(status.as_str().into())]);
    }
    f
}

/// One page of Suivi Préfecture, and how many dossiers it holds.
pub async fn prefecture_page(
    db: &Db,
    q: &PrefectureQuery,
) -> Result<(Vec<PrefectureRow>, i64), StoreError> {
    let f = prefecture_filter(q, true);
    let (direction, nulls) = match q.descending {
        true => ("DESC", "NULLS FIRST"),
        false => ("ASC", "NULLS LAST"),
    };
    let sql = format!(
        "SELECT date_dexpiration_titre_sejour, ds_id, nationalite, prenom, nom, status FROM dossiers{} \
         ORDER BY {} {direction} {nulls}, ds_id {direction} LIMIT {} OFFSET {}",
        f.sql(),
        q.sort.sql(),
        q.limit,
        q.offset
    );
    let count_sql = format!("SELECT COUNT(*) FROM dossiers{}", f.sql());
    Ok(with_db!(db, pool => {
        let rows = bind_all!(sqlx::query_as(&sql), &f.binds).fetch_all(pool).await?;
        let total = bind_all!(sqlx::query_scalar(&count_sql), &f.binds).fetch_one(pool).await?;
        (rows, total)
    }))
}

/// How many dossiers of Suivi Préfecture have each status.
pub async fn prefecture_status_counts(
    db: &Db,
    q: &PrefectureQuery,
) -> Result<Vec<(String, i64)>, StoreError> {
    let mut f = prefecture_filter(q, false);
    f.and("status IS NOT NULL", vec![]);
    let sql = format!(
        "SELECT status, COUNT(*) FROM dossiers{} GROUP BY status ORDER BY status",
        f.sql()
    );
    Ok(with_db!(db, pool => {
        bind_all!(sqlx::query_as(&sql), &f.binds).fetch_all(pool).await?
    }))
}

/// How many dossiers have each status (the home page).
pub async fn counts_by_status(db: &Db) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(with_db!(db, pool => {
        sqlx::query_as("SELECT status, COUNT(*) FROM dossiers WHERE deleted_on_ds_at IS NULL GROUP BY status")
            .fetch_all(pool)
            .await?
    }))
}
