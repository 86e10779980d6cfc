//! The `dossiers` table: idempotent upserts from the sync, reads for exports and the admin.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use futures_util::stream::{BoxStream, StreamExt, TryStreamExt};
use serde_json::Value;
use sqlx::types::Json;

use super::dossier_changes::{AptDates, Change, record_changes};
use super::{Db, Engine, StoreError, push_departments, with_db};
use crate::domain::text::search_key;
use crate::domain::{ApiVersion, Dossier, DsId, Scope, Status};

/// What an upsert did, dossier by dossier.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct UpsertCounts {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// A stored dossier and what the back office knows about it beyond DS's data.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDossier {
    pub dossier: Dossier,
    pub deleted_on_ds_at: Option<DateTime<Utc>>,
    pub synced_at: DateTime<Utc>,
    /// When a sync first copied it; unknown for dossiers copied before the history was kept.
    pub first_synced_at: Option<DateTime<Utc>>,
    /// When its personal data were erased (SPEC 14): only its statistical record is left.
    pub erased_at: Option<DateTime<Utc>>,
    /// When all but what the validity check needs was erased (accepted, deleted on DS, APT
    /// running).
    pub reduced_at: Option<DateTime<Utc>>,
}

/// Stores a page of dossiers in one transaction. A dossier already stored is rewritten only
/// when DS's `updated_at` is newer than the stored one, so running a sync twice writes nothing.
/// The dossiers to write go in multi-row statements (`rows_per_statement`).
pub async fn upsert(db: &Db, dossiers: &[Dossier]) -> Result<UpsertCounts, StoreError> {
    let (counts, changed, changes) = plan(db, dossiers).await?;
    if changed.is_empty() {
        return Ok(counts);
    }
    let now = Utc::now();
    let mut procedure_ids: Vec<i64> = changed.iter().map(|d| d.procedure_id).collect();
    procedure_ids.sort_unstable();
    procedure_ids.dedup();

    with_db!(db, pool => {
        let mut tx = pool.begin().await?;
        for procedure_id in &procedure_ids {
            sqlx::query("INSERT INTO procedures (id, created_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING")
                .bind(procedure_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        for rows in changed.chunks(rows_per_statement(db.engine())) {
            let sql = upsert_sql(rows.len());
            let mut query = sqlx::query(&sql);
            for d in rows {
                query = query
                    .bind(d.ds_id.get())
                    .bind(d.procedure_id)
                    .bind(d.status.as_str())
                    .bind(d.created_at)
                    .bind(d.initiated_at)
                    .bind(d.received_at)
                    .bind(d.processed_at)
                    .bind(d.updated_at)
                    .bind(d.archived)
                    .bind(d.email.as_deref())
                    .bind(Json(&d.instructeurs))
                    .bind(d.siret.as_deref())
                    .bind(Json(&d.champs))
                    .bind(d.department.as_deref())
                    .bind(d.nationalite.as_deref())
                    .bind(d.nom.as_deref())
                    .bind(d.prenom.as_deref())
                    .bind(d.date_de_naissance)
                    .bind(d.date_de_debut_apt)
                    .bind(d.date_de_fin_apt)
                    .bind(d.date_dexpiration_titre_sejour)
                    .bind(d.applicant_message_at)
                    .bind(Json(&d.warnings))
                    .bind(Json(&d.raw))
                    .bind(d.api_version.as_str())
                    .bind(d.processing_ms())
                    .bind(now)
                    .bind(now)
                    .bind(d.nom.as_deref().map(search_key))
                    .bind(d.prenom.as_deref().map(search_key))
                    .bind(d.email.as_deref().map(search_key));
            }
            query.execute(&mut *tx).await?;
        }
        // An alert belongs to its dossier's current département: a dossier that moved takes
        // its alerts with it, so that the old département's agents no longer see them.
        for rows in changed.chunks(500) {
            let marks: Vec<String> = (1..=rows.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "UPDATE alerts SET department = \
                 (SELECT d.department FROM dossiers d WHERE d.ds_id = alerts.ds_id) \
                 WHERE ds_id IN ({}) AND department IS DISTINCT FROM \
                 (SELECT d.department FROM dossiers d WHERE d.ds_id = alerts.ds_id)",
                marks.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for d in rows {
                query = query.bind(d.ds_id.get());
            }
            query.execute(&mut *tx).await?;
        }
        record_changes!(tx, changes, now);
        tx.commit().await?;
    });
    Ok(counts)
}

/// What `upsert` would do with these dossiers, without writing anything (`--dry-run`).
pub async fn preview_upsert(db: &Db, dossiers: &[Dossier]) -> Result<UpsertCounts, StoreError> {
    Ok(plan(db, dossiers).await?.0)
}

/// Which dossiers an upsert writes: the new ones, and those whose `updated_at` is newer than the
/// stored one. A dossier without `updated_at` is not newer than anything. With them, the changes
/// their history keeps.
async fn plan<'a>(
    db: &Db,
    dossiers: &'a [Dossier],
) -> Result<(UpsertCounts, Vec<&'a Dossier>, Vec<(i64, Change)>), StoreError> {
    let mut counts = UpsertCounts::default();
    if dossiers.is_empty() {
        return Ok((counts, Vec::new(), Vec::new()));
    }
    let stored = stored_states(db, dossiers.iter().map(|d| d.ds_id.get())).await?;
    let mut changed = Vec::with_capacity(dossiers.len());
    let mut changes = Vec::new();
    for d in dossiers {
        match stored.get(&d.ds_id.get()) {
            None => counts.created += 1,
            // Erased (SPEC 14): DS may keep a decided dossier longer than this back office; its
            // personal data come back only if DS re-opened it.
            Some(old) if old.erased && d.status.is_completed() => {
                counts.unchanged += 1;
                continue;
            }
            Some(old)
                if d.updated_at
                    .is_some_and(|new| old.updated_at.is_none_or(|old| new > old)) =>
            {
                counts.updated += 1;
                changes.extend(old.changes_to(d));
            }
            Some(_) => {
                counts.unchanged += 1;
                continue;
            }
        }
        changed.push(d);
    }
    Ok((counts, changed, changes))
}

/// What the history compares of a stored dossier.
#[derive(sqlx::FromRow)]
struct StoredState {
    ds_id: i64,
    updated_at: Option<DateTime<Utc>>,
    #[sqlx(try_from = "String")]
    status: Status,
    date_de_debut_apt: Option<NaiveDate>,
    date_de_fin_apt: Option<NaiveDate>,
    deleted_on_ds_at: Option<DateTime<Utc>>,
    /// Its personal data were erased, in whole or but what the validity check needs.
    erased: bool,
}

impl StoredState {
    /// What the history keeps of the change from this state to `d`, with the dossier's number.
    fn changes_to(&self, d: &Dossier) -> Vec<(i64, Change)> {
        let mut changes = Vec::new();
        if self.status != d.status {
            changes.push(Change::Status {
                before: self.status,
                after: d.status,
            });
        }
        let (before, after) = (
            AptDates {
                debut: self.date_de_debut_apt,
                fin: self.date_de_fin_apt,
            },
            AptDates {
                debut: d.date_de_debut_apt,
                fin: d.date_de_fin_apt,
            },
        );
        if before != after {
            changes.push(Change::Apt { before, after });
        }
        if self.deleted_on_ds_at.is_some() {
            changes.push(Change::Restored);
        }
        changes.into_iter().map(|c| (self.ds_id, c)).collect()
    }
}

/// Rows per statement, of 31 values each. PostgreSQL: one round trip for a whole page (under
/// its 65,535 parameters). SQLite has no round trip to save, and binding a value costs it a scan
/// of the statement's parameters: a few rows at a time.
fn rows_per_statement(engine: Engine) -> usize {
    match engine {
        Engine::Sqlite => 8,
        Engine::Postgres => 500,
    }
}

const COLUMNS: &str = "ds_id, procedure_id, status, created_at, initiated_at, received_at, \
    processed_at, updated_at, archived, email, instructeurs, siret, champs, department, \
    nationalite, nom, prenom, date_de_naissance, date_de_debut_apt, date_de_fin_apt, \
    date_dexpiration_titre_sejour, applicant_message_at, warnings, raw, api_version, processing_ms, \
    synced_at, first_synced_at, nom_search, prenom_search, email_search";

/// `INSERT` of `rows` dossiers, each replacing the stored one of the same number. A dossier DS
/// lists again is no longer deleted there.
fn upsert_sql(rows: usize) -> String {
    let per_row = COLUMNS.split(',').count();
    let values: Vec<String> = (0..rows)
        .map(|row| {
            let placeholders: Vec<String> = (1..=per_row)
                .map(|i| format!("${}", row * per_row + i))
                .collect();
            format!("({})", placeholders.join(", "))
        })
        .collect();
    let updates: Vec<String> = COLUMNS
        .split(',')
        .map(str::trim)
        .filter(|c| *c != "ds_id" && *c != "first_synced_at")
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    format!(
        "INSERT INTO dossiers ({COLUMNS}) VALUES {} ON CONFLICT (ds_id) DO UPDATE SET {}, \
         deleted_on_ds_at = NULL, erased_at = NULL, reduced_at = NULL",
        values.join(", "),
        updates.join(", ")
    )
}

/// After a mass insert: the planner's statistics, and on PostgreSQL the visibility map that lets
/// the lists read their indexes alone (autovacuum would get there, later).
pub async fn refresh_statistics(db: &Db) -> Result<(), StoreError> {
    let sql = match db.engine() {
        Engine::Sqlite => "ANALYZE dossiers",
        Engine::Postgres => "VACUUM (ANALYZE) dossiers",
    };
    with_db!(db, pool => {
        sqlx::query(sql).execute(pool).await?;
    });
    Ok(())
}

/// What the history compares of those of `ds_ids` that are stored.
async fn stored_states(
    db: &Db,
    ds_ids: impl Iterator<Item = i64>,
) -> Result<HashMap<i64, StoredState>, StoreError> {
    let ids: Vec<i64> = ds_ids.collect();
    let mut stored = HashMap::with_capacity(ids.len());
    // Bounded IN lists keep SQLite under its parameter limit.
    for chunk in ids.chunks(500) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT ds_id, updated_at, status, date_de_debut_apt, date_de_fin_apt, deleted_on_ds_at, \
             (erased_at IS NOT NULL OR reduced_at IS NOT NULL) AS erased \
             FROM dossiers WHERE ds_id IN ({})",
            placeholders.join(", ")
        );
        let rows: Vec<StoredState> = with_db!(db, pool => {
            let mut query = sqlx::query_as(&sql);
            for id in chunk {
                query = query.bind(id);
            }
            query.fetch_all(pool).await?
        });
        stored.extend(rows.into_iter().map(|r| (r.ds_id, r)));
    }
    Ok(stored)
}

#[derive(sqlx::FromRow)]
struct DossierRow {
    ds_id: i64,
    procedure_id: i64,
    status: String,
    created_at: Option<DateTime<Utc>>,
    initiated_at: Option<DateTime<Utc>>,
    received_at: Option<DateTime<Utc>>,
    processed_at: Option<DateTime<Utc>>,
    updated_at: Option<DateTime<Utc>>,
    archived: bool,
    email: Option<String>,
    instructeurs: Json<Vec<String>>,
    siret: Option<String>,
    champs: Json<BTreeMap<String, Value>>,
    department: Option<String>,
    nationalite: Option<String>,
    nom: Option<String>,
    prenom: Option<String>,
    date_de_naissance: Option<NaiveDate>,
    date_de_debut_apt: Option<NaiveDate>,
    date_de_fin_apt: Option<NaiveDate>,
    date_dexpiration_titre_sejour: Option<NaiveDate>,
    applicant_message_at: Option<DateTime<Utc>>,
    warnings: Json<Vec<String>>,
    raw: Json<Value>,
    api_version: String,
    deleted_on_ds_at: Option<DateTime<Utc>>,
    synced_at: DateTime<Utc>,
    first_synced_at: Option<DateTime<Utc>>,
    erased_at: Option<DateTime<Utc>>,
    reduced_at: Option<DateTime<Utc>>,
}

impl TryFrom<DossierRow> for StoredDossier {
    type Error = StoreError;

    fn try_from(row: DossierRow) -> Result<Self, Self::Error> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("dossier {} : {what}", row.ds_id));
        let dossier = Dossier {
            ds_id: DsId::new(row.ds_id).ok_or_else(|| corrupt("numéro invalide"))?,
            procedure_id: row.procedure_id,
            status: row
                .status
                .parse::<Status>()
                .map_err(|e| corrupt(&e.to_string()))?,
            created_at: row.created_at,
            initiated_at: row.initiated_at,
            received_at: row.received_at,
            processed_at: row.processed_at,
            updated_at: row.updated_at,
            archived: row.archived,
            email: row.email,
            instructeurs: row.instructeurs.0,
            siret: row.siret,
            champs: row.champs.0,
            department: row.department,
            nationalite: row.nationalite,
            nom: row.nom,
            prenom: row.prenom,
            date_de_naissance: row.date_de_naissance,
            date_de_debut_apt: row.date_de_debut_apt,
            date_de_fin_apt: row.date_de_fin_apt,
            date_dexpiration_titre_sejour: row.date_dexpiration_titre_sejour,
            applicant_message_at: row.applicant_message_at,
            warnings: row.warnings.0,
            raw: row.raw.0,
            api_version: row
                .api_version
                .parse::<ApiVersion>()
                .map_err(|()| corrupt("version d'API inconnue"))?,
        };
        Ok(StoredDossier {
            dossier,
            deleted_on_ds_at: row.deleted_on_ds_at,
            synced_at: row.synced_at,
            first_synced_at: row.first_synced_at,
            erased_at: row.erased_at,
            reduced_at: row.reduced_at,
        })
    }
}

/// One dossier by its DS number.
pub async fn get(db: &Db, ds_id: DsId) -> Result<Option<StoredDossier>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS}, deleted_on_ds_at, erased_at, reduced_at FROM dossiers WHERE ds_id = $1"
    );
    let row: Option<DossierRow> = with_db!(db, pool => {
        sqlx::query_as(&sql).bind(ds_id.get()).fetch_optional(pool).await?
    });
    row.map(StoredDossier::try_from).transpose()
}

/// How many dossiers are stored, deleted on DS or not.
pub async fn count(db: &Db) -> Result<i64, StoreError> {
    Ok(with_db!(db, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM dossiers").fetch_one(pool).await?
    }))
}

/// Dossiers whose search keys one statement fills.
const SEARCH_KEY_BATCH: usize = 1_000;

/// Fills the search keys (`domain::text::search_key`) of the dossiers written before they
/// existed (migration 0019), a batch at a time; returns how many dossiers were filled. Safe to
/// run again, and beside a sync: a row whose name changed since it was read is left to the
/// sync, which writes its keys.
pub async fn fill_search_keys(db: &Db) -> Result<u64, StoreError> {
    type Names = (i64, Option<String>, Option<String>, Option<String>);
    // Their numbers first, in one pass over the keys' indexes (a missing key is NULL there):
    // batches read in the order of the numbers made each batch walk every missing key again.
    let mut missing: Vec<i64> = with_db!(db, pool => {
        sqlx::query_scalar(
            "SELECT ds_id FROM dossiers WHERE (nom IS NOT NULL AND nom_search IS NULL) \
             OR (prenom IS NOT NULL AND prenom_search IS NULL) \
             OR (email IS NOT NULL AND email_search IS NULL)",
        )
        .fetch_all(pool)
        .await?
    });
    missing.sort_unstable();
    let mut filled = 0;
    for ids in missing.chunks(SEARCH_KEY_BATCH) {
        let rows: Vec<Names> = with_db!(db, pool => {
            let mut select =
                sqlx::QueryBuilder::new("SELECT ds_id, nom, prenom, email FROM dossiers WHERE ds_id IN (");
            let mut list = select.separated(", ");
            for id in ids {
                list.push_bind(*id);
            }
            select.push(")");
            select.build_query_as().fetch_all(pool).await?
        });
        if rows.is_empty() {
            continue;
        }
        let key = |text: &Option<String>| text.as_deref().map(search_key);
        filled += with_db!(db, pool => {
            let mut update = sqlx::QueryBuilder::new(
                "WITH names (ds_id, nom, prenom, email, nom_key, prenom_key, email_key) AS (",
            );
            update.push_values(&rows, |mut row, (ds_id, nom, prenom, email)| {
                row.push_bind(*ds_id)
                    .push_bind(nom.as_deref())
                    .push_bind(prenom.as_deref())
                    .push_bind(email.as_deref())
                    .push_bind(key(nom))
                    .push_bind(key(prenom))
                    .push_bind(key(email));
            });
            update.push(
                ") UPDATE dossiers SET nom_search = names.nom_key, \
                 prenom_search = names.prenom_key, email_search = names.email_key \
                 FROM names WHERE dossiers.ds_id = names.ds_id \
                 AND dossiers.nom IS NOT DISTINCT FROM names.nom \
                 AND dossiers.prenom IS NOT DISTINCT FROM names.prenom \
                 AND dossiers.email IS NOT DISTINCT FROM names.email",
            );
            update.build().execute(pool).await?.rows_affected()
        });
    }
    if filled > 0 {
        // The new keys' indexes, and on PostgreSQL the rewritten rows' visibility.
        refresh_statistics(db).await?;
    }
    Ok(filled)
}

/// Marks the dossiers DS no longer lists; the rows are kept. Returns how many were marked now.
pub async fn mark_deleted_on_ds(
    db: &Db,
    ds_ids: &[DsId],
    when: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let mut marked = 0;
    with_db!(db, pool => {
        let mut tx = pool.begin().await?;
        let mut changes = Vec::new();
        for id in ds_ids {
            let rows = sqlx::query(
                "UPDATE dossiers SET deleted_on_ds_at = $1 WHERE ds_id = $2 AND deleted_on_ds_at IS NULL",
            )
            .bind(when)
            .bind(id.get())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if rows > 0 {
                changes.push((id.get(), Change::Deleted));
            }
            marked += rows;
        }
        record_changes!(tx, changes, when);
        tx.commit().await?;
    });
    Ok(marked)
}

/// What `validity_check.json` needs of an accepted dossier.
#[derive(Debug, sqlx::FromRow)]
pub struct ValidityRow {
    pub ds_id: i64,
    pub kind: String,
    pub siret: Option<String>,
    pub prenom: Option<String>,
    pub nom: Option<String>,
    pub date_de_naissance: Option<NaiveDate>,
    pub date_de_debut_apt: Option<NaiveDate>,
    pub date_de_fin_apt: Option<NaiveDate>,
    /// Only for introduction démarches, whose records carry some champs.
    pub champs: Option<Json<BTreeMap<String, Value>>>,
}

/// The query `$before $after`, reading its table through `$index` on SQLite: its planner prefers a
/// search on `status` that reads every dossier's row to a scan of the covering partial indexes of
/// the exports (1,000,000 dossiers: 11 s instead of 1.5 s for the statistics).
macro_rules! with_index {
    ($db:expr, $before:literal, $index:literal, $after:literal) => {
        match $db.engine() {
            Engine::Sqlite => concat!($before, " INDEXED BY ", $index, $after),
            Engine::Postgres => concat!($before, $after),
        }
    };
}

/// Every `closed` dossier, by DS number, streamed so that memory stays bounded. The champs are
/// read apart, for introductions only: the other columns come from the covering index alone
/// (PostgreSQL, 1,000,000 dossiers: 0.4 s instead of 1.5 s reading every row).
pub fn validity_rows(db: &Db) -> BoxStream<'_, Result<ValidityRow, StoreError>> {
    let sql = with_index!(
        db,
        "SELECT d.ds_id, p.kind, d.siret, d.prenom, d.nom, d.date_de_naissance, \
        d.date_de_debut_apt, d.date_de_fin_apt, \
        CASE WHEN p.kind = 'introduction' \
            THEN (SELECT c.champs FROM dossiers c WHERE c.ds_id = d.ds_id) END AS champs \
        FROM dossiers d",
        "dossiers_validity_check",
        " JOIN procedures p ON p.id = d.procedure_id \
        WHERE d.status = 'closed' AND d.erased_at IS NULL ORDER BY d.ds_id"
    );
    with_db!(db, pool => sqlx::query_as(sql).fetch(pool).map_err(StoreError::from).boxed())
}

/// Processing times (`Dossier::processing_ms`) added up by the database: how many dossiers have
/// one, and their sum in milliseconds.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct ProcessingSum {
    pub timed: i64,
    pub total_ms: i64,
}

/// The dossiers not marked deleted of one status and nationality.
#[derive(Debug)]
pub struct StatusCount {
    pub status: Status,
    pub nationalite: Option<String>,
    pub dossiers: i64,
    pub processing: ProcessingSum,
}

/// How many dossiers not marked deleted have each status and nationality, with their processing
/// times, read from the index `dossiers_stats_counts` alone.
pub async fn count_by_status_and_nationality(
    db: &Db,
    scope: &Scope,
) -> Result<Vec<StatusCount>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        status: String,
        nationalite: Option<String>,
        dossiers: i64,
        #[sqlx(flatten)]
        processing: ProcessingSum,
    }
    let rows: Vec<Row> = with_db!(db, pool => {
        let mut query = sqlx::QueryBuilder::new(
            "SELECT status, nationalite, COUNT(*) AS dossiers, COUNT(processing_ms) AS timed, \
             CAST(COALESCE(SUM(processing_ms), 0) AS BIGINT) AS total_ms FROM dossiers",
        );
        query.push(indexed_by(db, scope, "dossiers_stats_counts"));
        query.push(" WHERE deleted_on_ds_at IS NULL");
        push_departments(&mut query, "department", scope);
        query.push(" GROUP BY status, nationalite");
        query.build_query_as().fetch_all(pool).await?
    });
    rows.into_iter()
        .map(|r| {
            Ok(StatusCount {
                status: r
                    .status
                    .parse()
                    .map_err(|e: crate::domain::status::UnknownStatus| {
                        StoreError::Corrupt(e.to_string())
                    })?,
                nationalite: r.nationalite,
                dossiers: r.dossiers,
                processing: r.processing,
            })
        })
        .collect()
}

/// How many dossiers not marked deleted were created in each interval between consecutive
/// `bounds` (in increasing order).
pub async fn count_created_between(
    db: &Db,
    scope: &Scope,
    bounds: &[DateTime<Utc>],
) -> Result<Vec<i64>, StoreError> {
    let sums = per_interval(
        db,
        scope,
        bounds,
        "COUNT(*), CAST(0 AS BIGINT)",
        "dossiers_stats_created",
        "",
    )
    .await?;
    Ok(sums.into_iter().map(|(n, _)| n).collect())
}

/// The processing times of the accepted dossiers not marked deleted created in each interval
/// between consecutive `bounds` (in increasing order).
pub async fn closed_processing_between(
    db: &Db,
    scope: &Scope,
    bounds: &[DateTime<Utc>],
) -> Result<Vec<ProcessingSum>, StoreError> {
    let sums = per_interval(
        db,
        scope,
        bounds,
        "COUNT(processing_ms), CAST(COALESCE(SUM(processing_ms), 0) AS BIGINT)",
        "dossiers_stats_closed",
        " AND status = 'closed'",
    )
    .await?;
    Ok(sums
        .into_iter()
        .map(|(timed, total_ms)| ProcessingSum { timed, total_ms })
        .collect())
}

/// Per interval between consecutive `bounds`, over the dossiers not marked deleted created in it
/// (and matching `filter`), two `aggregates`: one range of `index` per interval, all in one
/// query (a join with a list of intervals took twice as long on PostgreSQL, in its hash table).
async fn per_interval(
    db: &Db,
    scope: &Scope,
    bounds: &[DateTime<Utc>],
    aggregates: &str,
    index: &str,
    filter: &str,
) -> Result<Vec<(i64, i64)>, StoreError> {
    let mut sums = vec![(0, 0); bounds.len().saturating_sub(1)];
    if sums.is_empty() {
        return Ok(sums);
    }
    let indexed_by = indexed_by(db, scope, index);
    let rows: Vec<(i64, i64, i64)> = with_db!(db, pool => {
        let mut query = sqlx::QueryBuilder::new("");
        for (i, pair) in bounds.windows(2).enumerate() {
            if i > 0 {
                query.push(" UNION ALL ");
            }
            query
                .push("SELECT ")
                .push_bind(i as i64)
                .push(format!(", {aggregates} FROM dossiers{indexed_by} WHERE created_at >= "))
                .push_bind(pair[0])
                .push(" AND created_at < ")
                .push_bind(pair[1])
                .push(format!(" AND deleted_on_ds_at IS NULL{filter}"));
            push_departments(&mut query, "department", scope);
        }
        query.build_query_as().fetch_all(pool).await?
    });
    for (i, n, total) in rows {
        if let Some(slot) = usize::try_from(i).ok().and_then(|i| sums.get_mut(i)) {
            *slot = (n, total);
        }
    }
    Ok(sums)
}

/// The creation and processing times of the accepted dossiers not marked deleted created since
/// `since` that have a processing time, streamed.
pub async fn closed_processing_since(
    db: &Db,
    scope: &Scope,
    since: DateTime<Utc>,
) -> Result<Vec<(DateTime<Utc>, i64)>, StoreError> {
    let head = format!(
        "SELECT created_at, processing_ms FROM dossiers{} \
         WHERE deleted_on_ds_at IS NULL AND status = 'closed' AND processing_ms IS NOT NULL \
         AND created_at >= ",
        indexed_by(db, scope, "dossiers_stats_closed")
    );
    Ok(with_db!(db, pool => {
        let mut query = sqlx::QueryBuilder::new(head);
        query.push_bind(since);
        push_departments(&mut query, "department", scope);
        query.build_query_as().fetch_all(pool).await?
    }))
}

/// SQLite's ` INDEXED BY {index}` for the whole country's statistics (its planner would pick a
/// narrower index and read every row); a limited scope leaves the choice to the planner, which
/// takes the département's own index.
fn indexed_by(db: &Db, scope: &Scope, index: &str) -> String {
    match (db.engine(), scope.departments()) {
        (Engine::Sqlite, None) => format!(" INDEXED BY {index}"),
        _ => String::new(),
    }
}

/// The stored `updated_at` of every dossier of a démarche, marked deleted or not.
pub async fn updated_at_by_ds_id(
    db: &Db,
    procedure_id: i64,
) -> Result<HashMap<i64, Option<DateTime<Utc>>>, StoreError> {
    let rows: Vec<(i64, Option<DateTime<Utc>>)> = with_db!(db, pool => {
        sqlx::query_as("SELECT ds_id, updated_at FROM dossiers WHERE procedure_id = $1")
            .bind(procedure_id)
            .fetch_all(pool)
            .await?
    });
    Ok(rows.into_iter().collect())
}

/// The DS numbers of a démarche's dossiers not marked deleted.
pub async fn present_ds_ids(db: &Db, procedure_id: i64) -> Result<Vec<i64>, StoreError> {
    Ok(with_db!(db, pool => {
        sqlx::query_scalar("SELECT ds_id FROM dossiers WHERE procedure_id = $1 AND deleted_on_ds_at IS NULL")
            .bind(procedure_id)
            .fetch_all(pool)
            .await?
    }))
}
