//! The `login_failures` table: failed sign-ins per key (a username, a username at a client's
//! address or IPv6 /64), kept for the throttling window, shared by every instance.
//!
//! An attempt is recorded as a failure *before* its password is checked, in the same locked
//! transaction that counts the failures before it: parallel attempts are then counted exactly like
//! successive ones. A right password withdraws its own record.

use chrono::{DateTime, Utc};

use super::{Db, StoreError};

/// The rows that record one attempt, to withdraw when it succeeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    ids: Vec<i64>,
}

/// Serialises the attempts on PostgreSQL (SQLite serialises writers by itself).
const ATTEMPTS_LOCK: i64 = 0x0057_4946_5f4c_4f47; // "WIF_LOG"

/// Forgets failures older than `since`, then reads each key's failures since then (oldest
/// first) and asks `throttle` about them: when it answers for a key, nothing is recorded and its
/// answer is returned; otherwise this attempt is recorded as a failure under every key.
pub async fn attempt<T>(
    db: &Db,
    keys: &[String],
    at: DateTime<Utc>,
    since: DateTime<Utc>,
    throttle: impl Fn(usize, &[DateTime<Utc>]) -> Option<T>,
) -> Result<Result<Attempt, T>, StoreError> {
    macro_rules! in_transaction {
        ($pool:expr, $lock:expr) => {{
            let mut tx = $pool.begin().await?;
            if let Some(lock) = $lock {
                sqlx::query(lock)
                    .bind(ATTEMPTS_LOCK)
                    .execute(&mut *tx)
                    .await?;
            }
            // A write first: on SQLite it takes the database's write lock for the transaction.
            sqlx::query("DELETE FROM login_failures WHERE failed_at <= $1")
                .bind(since)
                .execute(&mut *tx)
                .await?;
            for (index, key) in keys.iter().enumerate() {
                let failures: Vec<DateTime<Utc>> = sqlx::query_scalar(
                    "SELECT failed_at FROM login_failures WHERE key = $1 ORDER BY failed_at, id",
                )
                .bind(key)
                .fetch_all(&mut *tx)
                .await?;
                if let Some(answer) = throttle(index, &failures) {
                    tx.rollback().await?;
                    return Ok(Err(answer));
                }
            }
            let mut ids = Vec::with_capacity(keys.len());
            for key in keys {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO login_failures (key, failed_at) VALUES ($1, $2) RETURNING id",
                )
                .bind(key)
                .bind(at)
                .fetch_one(&mut *tx)
                .await?;
                ids.push(id);
            }
            tx.commit().await?;
            Ok(Ok(Attempt { ids }))
        }};
    }
    match db {
        Db::Sqlite(pool) => in_transaction!(pool, None::<&str>),
        Db::Postgres(pool) => in_transaction!(pool, Some("SELECT pg_advisory_xact_lock($1)")),
    }
}

/// The password could not be checked (the server was too busy): the attempt does not count.
pub async fn withdraw(db: &Db, attempt: &Attempt) -> Result<(), StoreError> {
    super::with_db!(db, pool => {
        for id in &attempt.ids {
            sqlx::query("DELETE FROM login_failures WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await?;
        }
    });
    Ok(())
}

/// The password was right: the attempt was no failure, and `clear` (the username at this
/// address) starts afresh.
pub async fn succeeded(db: &Db, attempt: &Attempt, clear: &str) -> Result<(), StoreError> {
    withdraw(db, attempt).await?;
    super::with_db!(db, pool => {
        sqlx::query("DELETE FROM login_failures WHERE key = $1")
            .bind(clear)
            .execute(pool)
            .await?;
    });
    Ok(())
}
