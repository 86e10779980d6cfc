//! The `sync_runs` table: one row per démarche and sync, with its counters and outcome.

use chrono::{DateTime, Utc};
use sqlx::types::Json;

use super::{Db, StoreError, with_db};
use crate::domain::ApiVersion;

/// What a sync did for one démarche.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Counters {
    pub requests: u64,
    pub pages: u64,
    pub seen: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub skipped: u64,
    pub marked_deleted: u64,
    /// The dossiers skipped: `dossier 123: reason`.
    pub skipped_details: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SyncRun {
    pub id: i64,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub procedure_id: Option<i64>,
    pub api_version: String,
    pub requests: i64,
    pub pages: i64,
    pub seen: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub skipped: i64,
    pub marked_deleted: i64,
    pub outcome: String,
    pub error: Option<String>,
    pub skipped_details: Json<Vec<String>>,
}

/// Records the start of a sync of `procedure_id`; returns the run's id.
pub async fn start(db: &Db, procedure_id: i64, api: ApiVersion) -> Result<i64, StoreError> {
    Ok(with_db!(db, pool => {
        sqlx::query_scalar(
            "INSERT INTO sync_runs (started_at, procedure_id, api_version) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(Utc::now())
        .bind(procedure_id)
        .bind(api.as_str())
        .fetch_one(pool)
        .await?
    }))
}

/// Records the end of a run: its counters, and the error that ended it if any.
pub async fn finish(
    db: &Db,
    id: i64,
    counters: &Counters,
    error: Option<&str>,
) -> Result<(), StoreError> {
    let outcome = super::outcome(error);
    let n = |v: u64| v as i64;
    record_progress(db, id, counters).await?;
    with_db!(db, pool => {
        sqlx::query(
            "UPDATE sync_runs SET finished_at = $2, requests = $3, marked_deleted = $4, outcome = $5, \
             error = $6, skipped_details = $7 WHERE id = $1",
        )
        .bind(id)
        .bind(Utc::now())
        .bind(n(counters.requests))
        .bind(n(counters.marked_deleted))
        .bind(outcome)
        .bind(error)
        .bind(Json(&counters.skipped_details))
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// The counters of a run still under way, so that a run whose process is killed keeps what it
/// did; `finish` writes them, and the rest, at the end.
pub async fn record_progress(db: &Db, id: i64, counters: &Counters) -> Result<(), StoreError> {
    let n = |v: u64| v as i64;
    with_db!(db, pool => {
        sqlx::query(
            "UPDATE sync_runs SET pages = $2, seen = $3, created = $4, updated = $5, unchanged = $6, \
             skipped = $7 WHERE id = $1",
        )
        .bind(id)
        .bind(n(counters.pages))
        .bind(n(counters.seen))
        .bind(n(counters.created))
        .bind(n(counters.updated))
        .bind(n(counters.unchanged))
        .bind(n(counters.skipped))
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// The most recent runs first.
pub async fn latest(db: &Db, limit: i64) -> Result<Vec<SyncRun>, StoreError> {
    Ok(with_db!(db, pool => {
        sqlx::query_as(
            "SELECT id, started_at, finished_at, procedure_id, api_version, requests, pages, seen, created, \
             updated, unchanged, skipped, marked_deleted, outcome, error, skipped_details \
             FROM sync_runs ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(pool)
        .await?
    }))
}

/// Closes the runs left `running` by a process that stopped without finishing them. Called by
/// the holder of the sync lock, so no other run can be under way.
pub async fn mark_interrupted(db: &Db) -> Result<u64, StoreError> {
    Ok(with_db!(db, pool => {
        sqlx::query(
            "UPDATE sync_runs SET outcome = 'failure', finished_at = $1, \
             error = 'interrompue avant la fin (processus arrêté)' WHERE outcome = 'running'",
        )
        .bind(Utc::now())
        .execute(pool)
        .await?
        .rows_affected()
    }))
}

/// What `/metrics` shows of the sync runs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunFigures {
    /// Runs per outcome (`success`, `failure`, `running`).
    pub by_outcome: Vec<(String, i64)>,
    pub last_success_at: Option<DateTime<Utc>>,
    /// The duration of the last finished run, in seconds.
    pub last_duration_s: Option<f64>,
}

pub async fn figures(db: &Db) -> Result<RunFigures, StoreError> {
    Ok(with_db!(db, pool => {
        let by_outcome = sqlx::query_as("SELECT outcome, COUNT(*) FROM sync_runs GROUP BY outcome ORDER BY outcome")
            .fetch_all(pool)
            .await?;
        let last_success_at = sqlx::query_scalar(
            "SELECT finished_at FROM sync_runs WHERE outcome = 'success' ORDER BY id DESC LIMIT 1",
        )
        .fetch_optional(pool)
        .await?
        .flatten();
        let last: Option<(DateTime<Utc>, Option<DateTime<Utc>>)> = sqlx::query_as(
            "SELECT started_at, finished_at FROM sync_runs WHERE finished_at IS NOT NULL ORDER BY id DESC LIMIT 1",
        )
        .fetch_optional(pool)
        .await?;
        let last_duration_s = last.and_then(|(start, end)| Some((end? - start).as_seconds_f64()));
        RunFigures { by_outcome, last_success_at, last_duration_s }
    }))
}
