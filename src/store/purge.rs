//! Erasure of the personal data the retention policy says are due (SPEC 14): dossiers in
//! batches of at most 1,000 per transaction, so that the admin stays responsive, then the logs.
//! Which data fall due is `domain::retention`'s rule; the SQL below applies its cut-offs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::types::Json;

use super::{Db, StoreError, with_db};
use crate::domain::retention::Cutoffs;
use crate::domain::validity::INTRODUCTION_CHAMPS;

/// Dossiers erased per transaction.
pub const BATCH: usize = 1000;

/// Log rows deleted per statement.
const LOG_BATCH: i64 = 10_000;

/// What a run erased (or, dry, would erase), per kind of data.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgeCounts {
    /// Dossiers reduced to their statistical record.
    pub dossiers_erased: i64,
    /// Accepted dossiers deleted on DS whose APT still runs: all but what the validity check
    /// needs was erased.
    pub dossiers_reduced: i64,
    pub access_log: i64,
    pub emails: i64,
    pub login_failures: i64,
    pub webhook_events: i64,
    pub sessions: i64,
}

impl PurgeCounts {
    /// Each kind with its count, in the words of the command and the pages.
    pub fn lines(&self) -> [(&'static str, i64); 7] {
        [
            ("dossiers effacés", self.dossiers_erased),
            (
                "dossiers réduits à la vérification d'APT",
                self.dossiers_reduced,
            ),
            ("lignes du journal d'accès", self.access_log),
            ("e-mails du journal", self.emails),
            ("échecs de connexion", self.login_failures),
            ("événements de webhook", self.webhook_events),
            ("sessions expirées", self.sessions),
        ]
    }

    pub fn total(&self) -> i64 {
        self.lines().iter().map(|(_, n)| n).sum()
    }

    /// What `self` has more than `earlier`: the data falling due between two instants.
    pub fn added_since(&self, earlier: &PurgeCounts) -> PurgeCounts {
        let more = |a: i64, b: i64| (a - b).max(0);
        PurgeCounts {
            dossiers_erased: more(self.dossiers_erased, earlier.dossiers_erased),
            dossiers_reduced: more(self.dossiers_reduced, earlier.dossiers_reduced),
            access_log: more(self.access_log, earlier.access_log),
            emails: more(self.emails, earlier.emails),
            login_failures: more(self.login_failures, earlier.login_failures),
            webhook_events: more(self.webhook_events, earlier.webhook_events),
            sessions: more(self.sessions, earlier.sessions),
        }
    }
}

/// Decided dossiers past their time: `$1` decided before, `$2` APT ended before.
const DECIDED_DUE: &str = "erased_at IS NULL \
    AND status IN ('closed', 'refused', 'without_continuation') \
    AND processed_at < $1 AND (date_de_fin_apt IS NULL OR date_de_fin_apt < $2)";

/// Dossiers deleted on DS past their time (`$3`), but accepted ones whose APT still runs (`$4`,
/// today): those are reduced instead.
const DELETED_DUE: &str = "erased_at IS NULL AND deleted_on_ds_at < $3 \
    AND NOT (status = 'closed' AND date_de_fin_apt IS NOT NULL AND date_de_fin_apt >= $4)";

const REDUCE_DUE: &str = "erased_at IS NULL AND reduced_at IS NULL AND deleted_on_ds_at < $3 \
    AND status = 'closed' AND date_de_fin_apt IS NOT NULL AND date_de_fin_apt >= $4";

/// Every column of personal data but those the validity check reads.
const ERASE_OTHERS: &str = "raw = '{}', email = NULL, email_search = NULL, instructeurs = '[]', \
    date_dexpiration_titre_sejour = NULL, applicant_message_at = NULL, warnings = '[]'";

/// What the validity check reads, erased last.
const ERASE_VALIDITY: &str = "champs = '{}', siret = NULL, nom = NULL, prenom = NULL, \
    nom_search = NULL, prenom_search = NULL, date_de_naissance = NULL";

/// The logs and what bounds them: table, column, which cut-off.
fn logs(c: &Cutoffs, now: DateTime<Utc>) -> [(&'static str, &'static str, DateTime<Utc>); 5] {
    [
        ("access_log", "at", c.logs_before),
        ("emails", "at", c.logs_before),
        ("login_failures", "failed_at", c.short_logs_before),
        ("webhook_events", "received_at", c.short_logs_before),
        ("sessions", "expires_at", now),
    ]
}

fn set_log_count(counts: &mut PurgeCounts, table: &str, n: i64) {
    match table {
        "access_log" => counts.access_log = n,
        "emails" => counts.emails = n,
        "login_failures" => counts.login_failures = n,
        "webhook_events" => counts.webhook_events = n,
        _ => counts.sessions = n,
    }
}

/// What is due at these cut-offs, counted without writing anything (`--dry-run`, the page's
/// « dans les 30 prochains jours »).
pub async fn due(db: &Db, c: &Cutoffs, now: DateTime<Utc>) -> Result<PurgeCounts, StoreError> {
    let mut counts = PurgeCounts {
        dossiers_erased: count_where(db, &erased_due(), c).await?,
        dossiers_reduced: count_where(db, REDUCE_DUE, c).await?,
        ..PurgeCounts::default()
    };
    for (table, column, before) in logs(c, now) {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE {column} < $1");
        let n: i64 = with_db!(db, pool => {
            sqlx::query_scalar(&sql).bind(before).fetch_one(pool).await?
        });
        set_log_count(&mut counts, table, n);
    }
    Ok(counts)
}

/// The dossiers erased whole.
fn erased_due() -> String {
    format!("({DECIDED_DUE}) OR ({DELETED_DUE})")
}

/// The dossiers matching `sql`, whose `$1`…`$4` are the dossiers' cut-offs, counted.
async fn count_where(db: &Db, sql: &str, c: &Cutoffs) -> Result<i64, StoreError> {
    Ok(with_db!(db, pool => {
        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM dossiers WHERE {sql}"))
            .bind(c.decided_before)
            .bind(c.apt_ended_before)
            .bind(c.deleted_before)
            .bind(c.today)
            .fetch_one(pool)
            .await?
    }))
}

/// The next batch of dossiers matching `condition` (with the four cut-offs bound), after the
/// number `after`: each batch starts where the last ended instead of stepping again over the
/// dossiers already erased.
async fn next_batch(
    db: &Db,
    condition: &str,
    c: &Cutoffs,
    after: i64,
) -> Result<Vec<i64>, StoreError> {
    let sql = format!(
        "SELECT ds_id FROM dossiers WHERE ({condition}) AND ds_id > $5 \
         ORDER BY ds_id LIMIT {BATCH}"
    );
    Ok(with_db!(db, pool => {
        sqlx::query_scalar(&sql)
            .bind(c.decided_before)
            .bind(c.apt_ended_before)
            .bind(c.deleted_before)
            .bind(c.today)
            .bind(after)
            .fetch_all(pool)
            .await?
    }))
}

/// Erases what is due at these cut-offs; `on_batch` hears of each batch of dossiers done (the
/// command's progress). Returns the counts.
pub async fn run(
    db: &Db,
    c: &Cutoffs,
    now: DateTime<Utc>,
    on_batch: &(dyn Fn(&PurgeCounts) + Sync),
) -> Result<PurgeCounts, StoreError> {
    let mut counts = PurgeCounts::default();
    for (condition, reduce) in [(erased_due(), false), (REDUCE_DUE.to_owned(), true)] {
        let mut after = 0;
        loop {
            let ids = next_batch(db, &condition, c, after).await?;
            let Some(&last) = ids.last() else {
                break;
            };
            after = last;
            erase(db, &ids, reduce, now).await?;
            match reduce {
                true => counts.dossiers_reduced += ids.len() as i64,
                false => counts.dossiers_erased += ids.len() as i64,
            }
            on_batch(&counts);
        }
    }
    for (table, column, before) in logs(c, now) {
        let n = delete_before(db, table, column, before).await?;
        set_log_count(&mut counts, table, n);
    }
    if counts.total() > 0 {
        reclaim(db).await?;
    }
    Ok(counts)
}

/// Deletes the rows of `table` whose `column` is before `before`: the long logs in statements
/// of `LOG_BATCH` rows, so that no transaction holds them long.
async fn delete_before(
    db: &Db,
    table: &str,
    column: &str,
    before: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let batched = matches!(table, "access_log" | "emails");
    let sql = match batched {
        true => format!(
            "DELETE FROM {table} WHERE id IN \
             (SELECT id FROM {table} WHERE {column} < $1 LIMIT {LOG_BATCH})"
        ),
        false => format!("DELETE FROM {table} WHERE {column} < $1"),
    };
    let mut deleted = 0;
    loop {
        let n = with_db!(db, pool => {
            sqlx::query(&sql).bind(before).execute(pool).await?.rows_affected()
        }) as i64;
        deleted += n;
        if !batched || n < LOG_BATCH {
            return Ok(deleted);
        }
    }
}

/// Erases the personal data of these dossiers in one transaction; with `reduce`, keeps what
/// the validity check needs (an introduction's champs: those it exports, none personal).
async fn erase(db: &Db, ids: &[i64], reduce: bool, now: DateTime<Utc>) -> Result<(), StoreError> {
    let marks: Vec<String> = (2..ids.len() + 2).map(|i| format!("${i}")).collect();
    let marks = marks.join(", ");
    let set = match reduce {
        true => format!("{ERASE_OTHERS}, champs = '{{}}', reduced_at = $1"),
        false => format!("{ERASE_OTHERS}, {ERASE_VALIDITY}, erased_at = $1"),
    };
    let update = format!("UPDATE dossiers SET {set} WHERE ds_id IN ({marks})");
    let introductions = format!(
        "SELECT ds_id, champs FROM dossiers WHERE ds_id IN ({marks}) \
         AND procedure_id IN (SELECT id FROM procedures WHERE kind = 'introduction')"
    );
    let history = format!("DELETE FROM dossier_changes WHERE ds_id IN ({marks})");
    let alerts = format!("DELETE FROM alerts WHERE ds_id IN ({marks})");
    with_db!(db, pool => {
        let mut tx = pool.begin().await?;
        let mut kept: Vec<(i64, Json<Value>)> = Vec::new();
        if reduce {
            let mut query = sqlx::query_as(&introductions).bind(now);
            for id in ids {
                query = query.bind(id);
            }
            kept = query.fetch_all(&mut *tx).await?;
        }
        for sql in [&update, &history, &alerts] {
            let mut query = sqlx::query(sql).bind(now);
            for id in ids {
                query = query.bind(id);
            }
            query.execute(&mut *tx).await?;
        }
        if reduce {
            // An introduction's record carries the champs it exports: put those back.
            for (ds_id, Json(champs)) in kept {
                let exported: serde_json::Map<String, Value> = INTRODUCTION_CHAMPS
                    .iter()
                    .filter_map(|slug| Some(((*slug).to_owned(), champs.get(*slug)?.clone())))
                    .collect();
                sqlx::query("UPDATE dossiers SET champs = $1 WHERE ds_id = $2")
                    .bind(Json(Value::Object(exported)))
                    .bind(ds_id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
    });
    Ok(())
}

/// After an erasure, the freed space. SQLite overwrites deleted content (`secure_delete`), but
/// the write-ahead log still holds the old pages until a checkpoint: truncate it. PostgreSQL
/// keeps dead rows until VACUUM marks their space reusable (the bytes stay on disk until
/// overwritten; see docs/donnees-personnelles.md).
async fn reclaim(db: &Db) -> Result<(), StoreError> {
    match db {
        Db::Sqlite(pool) => {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(pool)
                .await?;
        }
        Db::Postgres(pool) => {
            sqlx::query("VACUUM (ANALYZE) dossiers, dossier_changes, alerts, access_log, emails")
                .execute(pool)
                .await?;
        }
    }
    Ok(())
}

/// A run of `wif purge`, as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PurgeRun {
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub as_of: DateTime<Utc>,
    pub dry_run: bool,
    pub counts: Json<PurgeCounts>,
}

pub async fn record_run(db: &Db, run: &PurgeRun) -> Result<(), StoreError> {
    with_db!(db, pool => {
        sqlx::query(
            "INSERT INTO purge_runs (started_at, finished_at, as_of, dry_run, counts) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(run.started_at)
        .bind(run.finished_at)
        .bind(run.as_of)
        .bind(run.dry_run)
        .bind(run.counts)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// The last `limit` runs, newest first.
pub async fn latest(db: &Db, limit: i64) -> Result<Vec<PurgeRun>, StoreError> {
    Ok(with_db!(db, pool => {
        sqlx::query_as(
            "SELECT started_at, finished_at, as_of, dry_run, counts FROM purge_runs \
             ORDER BY started_at DESC, id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(pool)
        .await?
    }))
}
