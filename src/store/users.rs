//! The `users` table: back-office accounts.

use chrono::{DateTime, Utc};

use super::{Db, StoreError, with_db};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub password_hash: String,
    pub is_superuser: bool,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

pub struct NewUser<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub is_superuser: bool,
}

/// Creates an active account; a taken username is refused.
pub async fn create(db: &Db, user: NewUser<'_>) -> Result<i64, StoreError> {
    let result: Result<i64, sqlx::Error> = with_db!(db, pool => {
        sqlx::query_scalar(
            "INSERT INTO users (username, email, password_hash, is_superuser, is_active, created_at) \
             VALUES ($1, $2, $3, $4, TRUE, $5) RETURNING id",
        )
        .bind(user.username)
        .bind(user.email)
        .bind(user.password_hash)
        .bind(user.is_superuser)
        .bind(Utc::now())
        .fetch_one(pool)
        .await
    });
    result.map_err(|error| match &error {
        sqlx::Error::Database(e) if e.is_unique_violation() => {
            StoreError::UsernameTaken(user.username.to_owned())
        }
        _ => error.into(),
    })
}

pub async fn find_by_username(db: &Db, username: &str) -> Result<Option<User>, StoreError> {
    Ok(with_db!(db, pool => {
        sqlx::query_as("SELECT id, username, email, password_hash, is_superuser, is_active, created_at, last_login_at FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(pool)
            .await?
    }))
}
