//! The `sync_state` table: where the v2 sync of each démarche stands. A pass reads every dossier
//! updated since `since`, page by page; its cursor is saved after each stored page, so that an
//! interrupted pass resumes where it stopped, and a complete pass sets the next pass's `since`.

use chrono::{DateTime, Utc};

use super::{Db, StoreError, with_db};

const API: &str = "v2";

/// A pass under way: its `updatedSince` and the last cursor stored, if any.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Pass {
    pub since: Option<DateTime<Utc>>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
struct Row {
    since: Option<DateTime<Utc>>,
    cursor: Option<String>,
    pass_started_at: Option<DateTime<Utc>>,
    last_success_at: Option<DateTime<Utc>>,
}

async fn row(db: &Db, procedure_id: i64) -> Result<Option<Row>, StoreError> {
    Ok(with_db!(db, pool => {
        sqlx::query_as(
            "SELECT since, cursor, pass_started_at, last_success_at FROM sync_state \
             WHERE procedure_id = $1 AND api_version = $2",
        )
        .bind(procedure_id)
        .bind(API)
        .fetch_optional(pool)
        .await?
    }))
}

/// The pass an interrupted sync left under way, if any.
pub async fn unfinished(db: &Db, procedure_id: i64) -> Result<Option<Pass>, StoreError> {
    Ok(row(db, procedure_id)
        .await?
        .filter(|r| r.pass_started_at.is_some())
        .map(|r| Pass {
            since: r.since,
            cursor: r.cursor,
        }))
}

/// When the last complete pass began: what changed since then is what the next pass reads.
pub async fn last_success(db: &Db, procedure_id: i64) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(row(db, procedure_id).await?.and_then(|r| r.last_success_at))
}

/// Starts a pass reading what changed since `since` (everything when `None`).
pub async fn begin(
    db: &Db,
    procedure_id: i64,
    since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    with_db!(db, pool => {
        sqlx::query(
            "INSERT INTO sync_state (procedure_id, api_version, since, cursor, pass_started_at) \
             VALUES ($1, $2, $3, NULL, $4) ON CONFLICT (procedure_id, api_version) DO UPDATE \
             SET since = excluded.since, cursor = NULL, pass_started_at = excluded.pass_started_at",
        )
        .bind(procedure_id)
        .bind(API)
        .bind(since)
        .bind(now)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// Records the cursor after the page it ends has been stored.
pub async fn save_cursor(db: &Db, procedure_id: i64, cursor: &str) -> Result<(), StoreError> {
    with_db!(db, pool => {
        sqlx::query("UPDATE sync_state SET cursor = $3 WHERE procedure_id = $1 AND api_version = $2")
            .bind(procedure_id)
            .bind(API)
            .bind(cursor)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// Ends the pass under way: the next one reads what changed since it began.
pub async fn complete(db: &Db, procedure_id: i64) -> Result<(), StoreError> {
    with_db!(db, pool => {
        sqlx::query(
            "UPDATE sync_state SET last_success_at = pass_started_at, pass_started_at = NULL, \
             cursor = NULL, since = NULL WHERE procedure_id = $1 AND api_version = $2",
        )
        .bind(procedure_id)
        .bind(API)
        .execute(pool)
        .await?;
    });
    Ok(())
}
