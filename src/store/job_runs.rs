//! The `job_runs` table: each scheduled time of each job, claimed by one instance.

use chrono::{DateTime, Utc};

use super::{Db, StoreError, with_db};

/// Claims `job` at `scheduled_for` for `holder`; `false` if another instance has it.
pub async fn claim(
    db: &Db,
    job: &str,
    scheduled_for: DateTime<Utc>,
    holder: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let inserted = with_db!(db, pool => {
        sqlx::query(
            "INSERT INTO job_runs (job, scheduled_for, holder, started_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (job, scheduled_for) DO NOTHING",
        )
        .bind(job)
        .bind(scheduled_for)
        .bind(holder)
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(inserted == 1)
}

/// Says that the run of `job` at `scheduled_for` is still under way.
pub async fn keep_alive(
    db: &Db,
    job: &str,
    scheduled_for: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    with_db!(db, pool => {
        sqlx::query(
            "UPDATE job_runs SET alive_at = $3 WHERE job = $1 AND scheduled_for = $2 AND outcome = 'running'",
        )
        .bind(job)
        .bind(scheduled_for)
        .bind(now)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// Closes as interrupted the runs of `job` that stopped saying they are alive before `silent_since`
/// (their instance was killed). Returns how many.
pub async fn close_abandoned(
    db: &Db,
    job: &str,
    silent_since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    Ok(with_db!(db, pool => {
        sqlx::query(
            "UPDATE job_runs SET outcome = 'failure', finished_at = $3, error = $4 \
             WHERE job = $1 AND outcome = 'running' AND COALESCE(alive_at, started_at) < $2",
        )
        .bind(job)
        .bind(silent_since)
        .bind(now)
        .bind(ABANDONED)
        .execute(pool)
        .await?
        .rows_affected()
    }))
}

/// The error of a run whose instance stopped during it.
pub const ABANDONED: &str = "interrompue : l'instance s'est arrêtée pendant la tâche";

pub async fn finish(
    db: &Db,
    job: &str,
    scheduled_for: DateTime<Utc>,
    error: Option<&str>,
) -> Result<(), StoreError> {
    let outcome = super::outcome(error);
    with_db!(db, pool => {
        sqlx::query(
            "UPDATE job_runs SET finished_at = $3, outcome = $4, error = $5 \
             WHERE job = $1 AND scheduled_for = $2",
        )
        .bind(job)
        .bind(scheduled_for)
        .bind(Utc::now())
        .bind(outcome)
        .bind(error)
        .execute(pool)
        .await?;
    });
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct JobRun {
    pub job: String,
    pub scheduled_for: DateTime<Utc>,
    pub holder: String,
    pub outcome: String,
    pub error: Option<String>,
}

/// The runs of `job`, latest first.
pub async fn latest(db: &Db, job: &str, limit: i64) -> Result<Vec<JobRun>, StoreError> {
    Ok(with_db!(db, pool => {
        sqlx::query_as(
            "SELECT job, scheduled_for, holder, outcome, error FROM job_runs WHERE job = $1 \
             ORDER BY scheduled_for DESC LIMIT $2",
        )
        .bind(job)
        .bind(limit)
        .fetch_all(pool)
        .await?
    }))
}

/// Per job: runs per outcome, and the duration in seconds of its last finished run.
pub async fn figures(
    db: &Db,
) -> Result<(Vec<(String, String, i64)>, Vec<(String, f64)>), StoreError> {
    Ok(with_db!(db, pool => {
        let counts = sqlx::query_as(
            "SELECT job, outcome, COUNT(*) FROM job_runs GROUP BY job, outcome ORDER BY job, outcome",
        )
        .fetch_all(pool)
        .await?;
        let finished: Vec<(String, DateTime<Utc>, DateTime<Utc>)> = sqlx::query_as(
            "SELECT job, started_at, finished_at FROM job_runs WHERE finished_at IS NOT NULL \
             ORDER BY scheduled_for DESC LIMIT 50",
        )
        .fetch_all(pool)
        .await?;
        let mut last: Vec<(String, f64)> = Vec::new();
        for (job, start, end) in finished {
            if !last.iter().any(|(j, _)| *j == job) {
                last.push((job, (end - start).as_seconds_f64()));
            }
        }
        (counts, last)
    }))
}
