//! The `login_failures` table: failed sign-ins per username and per address, kept for the
//! throttling window, shared by every instance.

use chrono::{DateTime, Utc};

use super::{Db, StoreError, with_db};

pub async fn record(db: &Db, keys: &[String], at: DateTime<Utc>) -> Result<(), StoreError> {
    for key in keys {
        with_db!(db, pool => {
            sqlx::query("INSERT INTO login_failures (key, failed_at) VALUES ($1, $2)")
                .bind(key)
                .bind(at)
                .execute(pool)
                .await?;
        });
    }
    Ok(())
}

/// The failures of `key` since `since`, oldest first.
pub async fn since(
    db: &Db,
    key: &str,
    since: DateTime<Utc>,
) -> Result<Vec<DateTime<Utc>>, StoreError> {
    Ok(with_db!(db, pool => {
        sqlx::query_scalar(
            "SELECT failed_at FROM login_failures WHERE key = $1 AND failed_at > $2 ORDER BY failed_at",
        )
        .bind(key)
        .bind(since)
        .fetch_all(pool)
        .await?
    }))
}

/// Forgets the failures of `key` (a successful sign-in) and every failure older than `before`.
pub async fn clear(db: &Db, key: &str, before: DateTime<Utc>) -> Result<(), StoreError> {
    with_db!(db, pool => {
        sqlx::query("DELETE FROM login_failures WHERE key = $1 OR failed_at < $2")
            .bind(key)
            .bind(before)
            .execute(pool)
            .await?;
    });
    Ok(())
}
