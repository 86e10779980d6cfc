//! The `proconnect_requests` table: the sign-ins and logouts sent to ProConnect and not back yet
//! (SPEC 15). Shared by every instance, so that the return may reach another one; each row is
//! read once, then gone, and lives 10 minutes at most.

use chrono::{DateTime, Duration, Utc};

use super::{Db, StoreError, with_db};

/// How long a request waits for its return.
pub const LIFETIME: Duration = Duration::minutes(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Login,
    Logout,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Login => "login",
            Purpose::Logout => "logout",
        }
    }
}

/// A request as stored: `state_hash` and `browser_hash` are HMACs of the `state` and of the
/// browser's cookie, never the values.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Pending {
    pub browser_hash: String,
    pub nonce: String,
    pub pkce_verifier: String,
    /// Where to go once signed in.
    pub next_path: String,
}

/// Stores a request sent now; the expired ones go at the same time.
pub async fn create(
    db: &Db,
    state_hash: &str,
    purpose: Purpose,
    pending: &Pending,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    with_db!(db, pool => {
        sqlx::query("DELETE FROM proconnect_requests WHERE expires_at <= $1")
            .bind(now)
            .execute(pool)
            .await?;
        sqlx::query(
            "INSERT INTO proconnect_requests \
             (state_hash, purpose, browser_hash, nonce, pkce_verifier, next_path, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(state_hash)
        .bind(purpose.as_str())
        .bind(&pending.browser_hash)
        .bind(&pending.nonce)
        .bind(&pending.pkce_verifier)
        .bind(&pending.next_path)
        .bind(now + LIFETIME)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// The request of `state_hash` for `purpose` sent by the browser of `browser_hash`, removed: a
/// second return with the same `state` finds nothing. `None` when there is none, it has expired,
/// or another browser sent it (which leaves it to the right one).
pub async fn take(
    db: &Db,
    state_hash: &str,
    browser_hash: &str,
    purpose: Purpose,
    now: DateTime<Utc>,
) -> Result<Option<Pending>, StoreError> {
    Ok(with_db!(db, pool => {
        sqlx::query_as(
            "DELETE FROM proconnect_requests \
             WHERE state_hash = $1 AND browser_hash = $2 AND purpose = $3 AND expires_at > $4 \
             RETURNING browser_hash, nonce, pkce_verifier, next_path",
        )
        .bind(state_hash)
        .bind(browser_hash)
        .bind(purpose.as_str())
        .bind(now)
        .fetch_optional(pool)
        .await?
    }))
}
