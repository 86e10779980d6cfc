//! The `sessions` table: who is signed in. The cookie carries a random token; the table keeps
//! only its HMAC keyed by `WIF_SECRET_KEY` (`admin::auth`), so that a copy of the database does
//! not let anyone sign in.

use chrono::{DateTime, Duration, Utc};

use super::users::{self, User};
use super::{Db, StoreError, with_db};
use crate::domain::Scope;

/// A live session and its user.
#[derive(Debug, Clone)]
pub struct Session {
    pub id_hash: String,
    pub csrf_token: String,
    pub user: User,
    /// What the user may see, read with the session.
    pub scope: Scope,
    /// The ID token of a session opened through ProConnect, for its logout.
    pub id_token: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id_hash: String,
    csrf_token: String,
    id_token: Option<String>,
    #[sqlx(flatten)]
    user: User,
}

/// A new session; `id_token` when it was opened through ProConnect.
pub async fn create(
    db: &Db,
    id_hash: &str,
    user_id: i64,
    csrf_token: &str,
    id_token: Option<&str>,
    now: DateTime<Utc>,
    idle: Duration,
) -> Result<(), StoreError> {
    with_db!(db, pool => {
        sqlx::query(
            "INSERT INTO sessions \
             (id_hash, user_id, csrf_token, id_token, created_at, last_seen_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $5, $6)",
        )
        .bind(id_hash)
        .bind(user_id)
        .bind(csrf_token)
        .bind(id_token)
        .bind(now)
        .bind(now + idle)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// The session of `id_hash` if it has not expired and its user is still active; its expiry is
/// pushed back by `idle`, at most once a minute.
pub async fn touch(
    db: &Db,
    id_hash: &str,
    now: DateTime<Utc>,
    idle: Duration,
) -> Result<Option<Session>, StoreError> {
    let row: Option<Row> = with_db!(db, pool => {
        sqlx::query_as(
            "SELECT s.id_hash, s.csrf_token, s.id_token, u.id, u.username, u.email, u.password_hash, \
             u.is_superuser, u.is_active, u.created_at, u.last_login_at \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.id_hash = $1 AND s.expires_at > $2 AND u.is_active",
        )
        .bind(id_hash)
        .bind(now)
        .fetch_optional(pool)
        .await?
    });
    let Some(row) = row else {
        return Ok(None);
    };
    with_db!(db, pool => {
        sqlx::query(
            "UPDATE sessions SET last_seen_at = $2, expires_at = $3 \
             WHERE id_hash = $1 AND last_seen_at < $4",
        )
        .bind(id_hash)
        .bind(now)
        .bind(now + idle)
        .bind(now - Duration::minutes(1))
        .execute(pool)
        .await?;
    });
    let scope = users::scope(db, &row.user).await?;
    Ok(Some(Session {
        id_hash: row.id_hash,
        csrf_token: row.csrf_token,
        user: row.user,
        scope,
        id_token: row.id_token,
    }))
}

pub async fn delete(db: &Db, id_hash: &str) -> Result<(), StoreError> {
    with_db!(db, pool => {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// Ends every session of a user (deactivated, or a new password).
pub async fn delete_for_user(db: &Db, user_id: i64) -> Result<(), StoreError> {
    with_db!(db, pool => {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// Removes the expired sessions.
pub async fn purge_expired(db: &Db, now: DateTime<Utc>) -> Result<u64, StoreError> {
    Ok(with_db!(db, pool => {
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
    }))
}
