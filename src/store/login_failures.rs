//! The `login_failures` table: failed sign-ins per username and per address, kept for the
//! throttling window, shared by every instance.

use chrono::{DateTime, Utc};

use super::{Db, StoreError, with_db};

/// Records a failure for each key, and forgets every failure older than `forget_before`.
pub async fn record(
    db: &Db,
    keys: &[String],
    at: DateTime<Utc>,
    forget_before: DateTime<Utc>,
) -> Result<(), StoreError> {
    with_db!(db, pool => {
        sqlx::query("DELETE FROM login_failures WHERE failed_at < $1")
            .bind(forget_before)
            .execute(pool)
            .await?;
    });
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

/// Forgets the failures of `key`, after a successful sign-in.
pub async fn clear(db: &Db, key: &str) -> Result<(), StoreError> {
    with_db!(db, pool => {
        sqlx::query("DELETE FROM login_failures WHERE key = $1")
            .bind(key)
            .execute(pool)
            .await?;
    });
    Ok(())
}
