//! The `users` table: back-office accounts.

use chrono::{DateTime, Utc};

use super::{Db, StoreError, with_db};
use crate::domain::Scope;

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
    /// Empty unless imported from the Python back office; absent from the sessions' query.
    #[sqlx(default)]
    pub first_name: String,
    #[sqlx(default)]
    pub last_name: String,
    /// The ProConnect identity linked to the account (SPEC 15): its issuer and `sub`.
    #[sqlx(default)]
    pub proconnect_issuer: Option<String>,
    #[sqlx(default)]
    pub proconnect_sub: Option<String>,
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

/// An account of the Python back office, as `wif import-django` stores it.
pub struct ImportedUser<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    /// The Django hash, kept until the first sign-in replaces it.
    pub password_hash: &'a str,
    pub is_superuser: bool,
    pub is_active: bool,
    pub date_joined: DateTime<Utc>,
    pub last_login: Option<DateTime<Utc>>,
}

/// Stores an imported account unless its username is taken; returns whether it was stored.
pub async fn insert_imported(db: &Db, user: &ImportedUser<'_>) -> Result<bool, StoreError> {
    let inserted = with_db!(db, pool => {
        sqlx::query(
            "INSERT INTO users (username, email, first_name, last_name, password_hash, \
             is_superuser, is_active, created_at, last_login_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (username) DO NOTHING",
        )
        .bind(user.username)
        .bind(user.email)
        .bind(user.first_name)
        .bind(user.last_name)
        .bind(user.password_hash)
        .bind(user.is_superuser)
        .bind(user.is_active)
        .bind(user.date_joined)
        .bind(user.last_login)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(inserted == 1)
}

pub async fn find_by_username(db: &Db, username: &str) -> Result<Option<User>, StoreError> {
    Ok(with_db!(db, pool => {
        sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1"))
            .bind(username)
            .fetch_optional(pool)
            .await?
    }))
}

const USER_COLUMNS: &str = "id, username, email, password_hash, is_superuser, is_active, \
    created_at, last_login_at, first_name, last_name, proconnect_issuer, proconnect_sub";

/// The account linked to a ProConnect identity.
pub async fn find_by_proconnect(
    db: &Db,
    issuer: &str,
    sub: &str,
) -> Result<Option<User>, StoreError> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users WHERE proconnect_issuer = $1 AND proconnect_sub = $2"
    );
    Ok(with_db!(db, pool => {
        sqlx::query_as(&sql).bind(issuer).bind(sub).fetch_optional(pool).await?
    }))
}

/// The accounts of an e-mail address, whatever its case, by username.
pub async fn find_by_email(db: &Db, email: &str) -> Result<Vec<User>, StoreError> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users WHERE LOWER(email) = LOWER($1) ORDER BY username"
    );
    Ok(with_db!(db, pool => { sqlx::query_as(&sql).bind(email).fetch_all(pool).await? }))
}

/// Links an account to a ProConnect identity, unless it already has one from this issuer;
/// `false` then, or when the identity belongs to another account.
pub async fn link_proconnect(
    db: &Db,
    id: i64,
    issuer: &str,
    sub: &str,
) -> Result<bool, StoreError> {
    let result: Result<u64, sqlx::Error> = with_db!(db, pool => {
        sqlx::query(
            "UPDATE users SET proconnect_issuer = $2, proconnect_sub = $3 \
             WHERE id = $1 AND (proconnect_issuer IS NULL OR proconnect_issuer <> $2)",
        )
        .bind(id)
        .bind(issuer)
        .bind(sub)
        .execute(pool)
        .await
        .map(|done| done.rows_affected())
    });
    match result {
        Ok(linked) => Ok(linked == 1),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(false),
        Err(error) => Err(error.into()),
    }
}

/// Forgets an account's ProConnect identity: its next ProConnect sign-in links by e-mail again.
pub async fn unlink_proconnect(db: &Db, id: i64) -> Result<(), StoreError> {
    with_db!(db, pool => {
        sqlx::query("UPDATE users SET proconnect_issuer = NULL, proconnect_sub = NULL WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// The names ProConnect gives, refreshed at each sign-in through it.
pub async fn set_names(
    db: &Db,
    id: i64,
    first_name: &str,
    last_name: &str,
) -> Result<(), StoreError> {
    with_db!(db, pool => {
        sqlx::query("UPDATE users SET first_name = $2, last_name = $3 WHERE id = $1")
            .bind(id)
            .bind(first_name)
            .bind(last_name)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// Every account, by username.
pub async fn all(db: &Db) -> Result<Vec<User>, StoreError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY username");
    Ok(with_db!(db, pool => { sqlx::query_as(&sql).fetch_all(pool).await? }))
}

pub async fn get(db: &Db, id: i64) -> Result<Option<User>, StoreError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    Ok(with_db!(db, pool => { sqlx::query_as(&sql).bind(id).fetch_optional(pool).await? }))
}

pub async fn set_active(db: &Db, id: i64, active: bool) -> Result<(), StoreError> {
    with_db!(db, pool => {
        sqlx::query("UPDATE users SET is_active = $2 WHERE id = $1")
            .bind(id)
            .bind(active)
            .execute(pool)
            .await?;
    });
    Ok(())
}

pub async fn set_password_hash(db: &Db, id: i64, hash: &str) -> Result<(), StoreError> {
    with_db!(db, pool => {
        sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
            .bind(id)
            .bind(hash)
            .execute(pool)
            .await?;
    });
    Ok(())
}

pub async fn set_last_login(db: &Db, id: i64, at: DateTime<Utc>) -> Result<(), StoreError> {
    with_db!(db, pool => {
        sqlx::query("UPDATE users SET last_login_at = $2 WHERE id = $1")
            .bind(id)
            .bind(at)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// The départements an account is limited to, in order.
pub async fn departments(db: &Db, user_id: i64) -> Result<Vec<String>, StoreError> {
    Ok(with_db!(db, pool => {
        sqlx::query_scalar(
            "SELECT department FROM user_departments WHERE user_id = $1 ORDER BY department",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await?
    }))
}

/// What the account may see.
pub async fn scope(db: &Db, user: &User) -> Result<Scope, StoreError> {
    if user.is_superuser {
        return Ok(Scope::National);
    }
    Ok(Scope::of(false, departments(db, user.id).await?))
}

/// Every account's départements, as (account, département), by account then département.
pub async fn all_departments(db: &Db) -> Result<Vec<(i64, String)>, StoreError> {
    Ok(with_db!(db, pool => {
        sqlx::query_as("SELECT user_id, department FROM user_departments ORDER BY user_id, department")
            .fetch_all(pool)
            .await?
    }))
}

/// Replaces the départements of an account, at once.
pub async fn set_departments(
    db: &Db,
    user_id: i64,
    departments: &[String],
) -> Result<(), StoreError> {
    with_db!(db, pool => {
        let mut tx = pool.begin().await?;
        sqlx::query("DELETE FROM user_departments WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        for department in departments {
            sqlx::query(
                "INSERT INTO user_departments (user_id, department) VALUES ($1, $2) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(user_id)
            .bind(department)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// The active agents limited to a département, by username: a report's recipients.
pub async fn agents_of_department(db: &Db, department: &str) -> Result<Vec<User>, StoreError> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users WHERE is_active AND NOT is_superuser \
         AND id IN (SELECT user_id FROM user_departments WHERE department = $1) ORDER BY username"
    );
    Ok(with_db!(db, pool => {
        sqlx::query_as(&sql).bind(department).fetch_all(pool).await?
    }))
}
