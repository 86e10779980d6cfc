//! Named locks in the database, shared by every instance: a holder keeps a lock by renewing it,
//! and a crashed holder loses it when it expires.

use chrono::{DateTime, Duration, Utc};

use super::{Db, StoreError, with_db};

/// Takes `name` for `holder` until `now + ttl`, unless another holder has it and it has not
/// expired. Returns whether the lock is now held.
pub async fn try_acquire(
    db: &Db,
    name: &str,
    holder: &str,
    ttl: Duration,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let taken = with_db!(db, pool => {
        sqlx::query(
            "INSERT INTO locks (name, holder, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE locks.expires_at < $4 OR locks.holder = excluded.holder",
        )
        .bind(name)
        .bind(holder)
        .bind(now + ttl)
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(taken == 1)
}

/// Gives the lock back, if `holder` still has it.
pub async fn release(db: &Db, name: &str, holder: &str) -> Result<(), StoreError> {
    with_db!(db, pool => {
        sqlx::query("DELETE FROM locks WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// Who holds `name` and until when, if anybody.
pub async fn holder(db: &Db, name: &str) -> Result<Option<(String, DateTime<Utc>)>, StoreError> {
    Ok(with_db!(db, pool => {
        sqlx::query_as("SELECT holder, expires_at FROM locks WHERE name = $1")
            .bind(name)
            .fetch_optional(pool)
            .await?
    }))
}
