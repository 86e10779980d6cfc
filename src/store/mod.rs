//! The database: SQLite (embedded default) or PostgreSQL, chosen at run time from the URL.
//!
//! Each query is written once, inside `with_db!`, which compiles it for both engines; the
//! schema lives in `migrations/<engine>/`, one numbered file per change.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::{ConnectOptions, Connection};

pub mod access_log;
pub mod alerts;
pub mod dossier_changes;
pub mod dossier_lists;
pub mod dossiers;
pub mod emails;
pub mod job_runs;
pub mod locks;
pub mod login_failures;
pub mod procedures;
pub mod proconnect_requests;
pub mod purge;
pub mod reports;
pub mod sessions;
pub mod sync_runs;
pub mod sync_state;
pub mod users;
pub mod webhook_events;

/// The `outcome` column of a finished run: a failure when it ended with an error.
pub(crate) fn outcome(error: Option<&str>) -> &'static str {
    match error {
        Some(_) => "failure",
        None => "success",
    }
}

/// Runs `$body` with `$pool` bound to the concrete pool of either engine.
macro_rules! with_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::store::Db::Sqlite($pool) => $body,
            $crate::store::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_db;

#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "impossible d'ouvrir la base de données {target} ({cause}) : vérifiez WIF_DATABASE_URL et que le serveur est démarré"
    )]
    Connect { target: String, cause: String },
    #[error("la mise à jour du schéma a échoué : {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("le schéma de la base n'est pas à jour : lancez d'abord « wif migrate »")]
    NotMigrated,
    #[error("le nom d'utilisateur « {0} » est déjà pris")]
    UsernameTaken(String),
    #[error("donnée illisible dans la base : {0}")]
    Corrupt(String),
    #[error("erreur de la base de données : {0}")]
    Sqlx(#[from] sqlx::Error),
}

impl Db {
    /// Opens a pool for a `sqlite://…` or `postgres://…` URL; an SQLite file is created if missing.
    pub async fn connect(url: &str) -> Result<Db, StoreError> {
        let target = describe(url);
        let connect_error = |e: sqlx::Error| StoreError::Connect {
            target: target.clone(),
            cause: short_cause(&e),
        };
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(connect_error)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .foreign_keys(true)
                // Erased personal data are overwritten, not left in the file's free pages.
                .pragma("secure_delete", "on")
                .busy_timeout(Duration::from_secs(10));
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await
                .map_err(connect_error)?;
            Ok(Db::Sqlite(pool))
        } else {
            // No JIT: the export scans are estimated costly enough to be compiled, and the
            // compilation took longer than it saved (0.27 s of a 0.74 s query).
            let options = PgConnectOptions::from_str(url)
                .map_err(connect_error)?
                .options([("jit", "off")]);
            // One direct connection first: a refused connection or a bad password is reported
            // at once, instead of after the pool's acquire timeout.
            options
                .connect()
                .await
                .map_err(connect_error)?
                .close()
                .await
                .ok();
            let pool = PgPoolOptions::new()
                .max_connections(10)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .map_err(connect_error)?;
            Ok(Db::Postgres(pool))
        }
    }

    pub fn engine(&self) -> Engine {
        match self {
            Db::Sqlite(_) => Engine::Sqlite,
            Db::Postgres(_) => Engine::Postgres,
        }
    }

    /// Creates or upgrades the schema, then fills what SQL cannot compute for the rows stored
    /// before (the dossiers' search keys); returns how many migrations were applied now.
    /// Safe to run again, and from two processes at once on PostgreSQL (sqlx takes a lock).
    pub async fn migrate(&self) -> Result<usize, StoreError> {
        let before = self.applied_migrations().await?;
        match self {
            Db::Sqlite(pool) => sqlx::migrate!("migrations/sqlite").run(pool).await?,
            Db::Postgres(pool) => sqlx::migrate!("migrations/postgres").run(pool).await?,
        }
        let filled = dossiers::fill_search_keys(self).await?;
        if filled > 0 {
            tracing::info!(filled, "clés de recherche des dossiers existants calculées");
        }
        Ok(self.applied_migrations().await? - before)
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), StoreError> {
        with_db!(self, pool => {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// Fails with a clear sentence when `wif migrate` has not been run on this database.
    pub async fn ensure_migrated(&self) -> Result<(), StoreError> {
        let known = match self {
            Db::Sqlite(_) => sqlx::migrate!("migrations/sqlite").migrations.len(),
            Db::Postgres(_) => sqlx::migrate!("migrations/postgres").migrations.len(),
        };
        if self.applied_migrations().await? < known {
            return Err(StoreError::NotMigrated);
        }
        Ok(())
    }

    async fn applied_migrations(&self) -> Result<usize, StoreError> {
        let exists: bool = match self {
            Db::Sqlite(pool) => sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations')",
            )
            .fetch_one(pool)
            .await?,
            Db::Postgres(pool) => {
                sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
                    .fetch_one(pool)
                    .await?
            }
        };
        if !exists {
            return Ok(0);
        }
        let count: i64 = with_db!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
                .fetch_one(pool)
                .await?
        });
        Ok(count as usize)
    }

    pub async fn close(&self) {
        with_db!(self, pool => pool.close().await)
    }
}

/// The file path of a `sqlite://…` (or `sqlite:…`) URL, without its options; `None` for another
/// engine.
pub fn sqlite_path(url: &str) -> Option<&str> {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .map(|rest| rest.split('?').next().unwrap_or(rest))
}

/// Where a URL points, without its password, for error messages.
pub fn describe(url: &str) -> String {
    if let Some(path) = sqlite_path(url) {
        return format!("SQLite « {path} »");
    }
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let host_and_db = rest.rsplit_once('@').map_or(rest, |(_, after)| after);
    format!(
        "PostgreSQL « {} »",
        host_and_db.split('?').next().unwrap_or(host_and_db)
    )
}

/// The first line of a driver error, which for connection failures is the useful part.
pub(crate) fn short_cause(error: &sqlx::Error) -> String {
    let text = match error {
        sqlx::Error::Io(io) => io.to_string(),
        sqlx::Error::Database(db) => db.message().to_owned(),
        sqlx::Error::PoolTimedOut => "délai de connexion dépassé".to_owned(),
        other => other.to_string(),
    };
    text.lines().next().unwrap_or_default().to_owned()
}

/// ` AND {column} IN (…)`: the départements of a limited scope; nothing for a national one.
pub(crate) fn push_departments<'a, DB: sqlx::Database>(
    query: &mut sqlx::QueryBuilder<'a, DB>,
    column: &str,
    scope: &'a crate::domain::Scope,
) where
    &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    if let Some(departments) = scope.departments() {
        query.push(format!(" AND {column} IN ("));
        let mut list = query.separated(", ");
        for department in departments {
            list.push_bind(department.as_str());
        }
        list.push_unseparated(")");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_never_show_the_password() {
        assert_eq!(
            describe("postgres://wif:s3cret@db:5432/wif?sslmode=disable"),
            "PostgreSQL « db:5432/wif »"
        );
        assert_eq!(describe("sqlite://wif.sqlite3"), "SQLite « wif.sqlite3 »");
        assert_eq!(
            describe("sqlite:data/wif.db?mode=rwc"),
            "SQLite « data/wif.db »"
        );
    }
}
