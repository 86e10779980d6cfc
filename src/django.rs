//! The Python back office's database (`DJANGO_DB.md`), as `wif import-django` reads it: one
//! read-only transaction on one connection, so that every part comes from the same snapshot and
//! nothing is ever written there; the dossiers come through a cursor, a batch at a time.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection};

use crate::store::{describe, short_cause};

/// The columns `wif import-django` reads, by table: what makes a database a Python back office.
const REQUIRED: [(&str, &[&str]); 2] = [
    ("dossiers_dossier", &["ds_id", "raw_json"]),
    (
        "auth_user",
        &[
            "username",
            "email",
            "first_name",
            "last_name",
            "password",
            "is_superuser",
            "is_staff",
            "is_active",
            "date_joined",
            "last_login",
        ],
    ),
];

const CURSOR: &str = "wif_import_dossiers";

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(
        "--from attend l'adresse PostgreSQL du back office Python, par exemple postgres://utilisateur@hote:5432/base"
    )]
    NotPostgres,
    #[error(
        "impossible d'ouvrir la base du back office Python {target} ({cause}) : vérifiez l'adresse donnée à --from et que le serveur est démarré"
    )]
    Connect { target: String, cause: String },
    #[error(
        "la base {target} n'est pas celle d'un back office Python de Work in France ({missing})"
    )]
    NotDjango { target: String, missing: String },
    #[error("lecture de la base du back office Python {target} impossible : {cause}")]
    Read { target: String, cause: String },
}

/// An account of the Django admin (`auth_user`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DjangoUser {
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// Django's hash string.
    pub password: String,
    pub is_superuser: bool,
    pub is_staff: bool,
    pub is_active: bool,
    pub date_joined: DateTime<Utc>,
    pub last_login: Option<DateTime<Utc>>,
}

/// A row of `dossiers_dossier`: its number, and the v1 document as text, read later.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DjangoDossier {
    pub ds_id: i64,
    pub raw_json: String,
}

/// An open read-only transaction on the Python back office's database.
pub struct Source {
    conn: PgConnection,
    target: String,
}

impl Source {
    /// Connects, begins the read-only transaction and checks that this is a Python back office.
    pub async fn open(url: &str) -> Result<Source, SourceError> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(SourceError::NotPostgres);
        }
        let target = describe(url);
        let connect_error = |e: sqlx::Error| SourceError::Connect {
            target: target.clone(),
            cause: short_cause(&e),
        };
        // Read-only for the whole session too: even a mistake of ours could not write there.
        let options = PgConnectOptions::from_str(url)
            .map_err(connect_error)?
            .application_name("wif import-django")
            .options([("default_transaction_read_only", "on")]);
        let conn = options.connect().await.map_err(connect_error)?;
        let mut source = Source { conn, target };
        // One snapshot for the accounts, the count and every batch of the cursor.
        sqlx::raw_sql("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut source.conn)
            .await
            .map_err(|e| source.read_error(e))?;
        source.check_schema().await?;
        Ok(source)
    }

    /// Where the source is, without its password.
    pub fn target(&self) -> &str {
        &self.target
    }

    fn read_error(&self, error: sqlx::Error) -> SourceError {
        SourceError::Read {
            target: self.target.clone(),
            cause: short_cause(&error),
        }
    }

    async fn check_schema(&mut self) -> Result<(), SourceError> {
        let columns: Vec<(String, String)> = sqlx::query_as(
            "SELECT c.relname::text, a.attname::text FROM pg_attribute a \
             JOIN pg_class c ON c.oid = a.attrelid \
             WHERE c.oid IN (to_regclass('dossiers_dossier'), to_regclass('auth_user')) \
             AND a.attnum > 0 AND NOT a.attisdropped",
        )
        .fetch_all(&mut self.conn)
        .await
        .map_err(|e| self.read_error(e))?;
        let has = |table: &str, column: &str| {
            columns
                .iter()
                .any(|(t, c)| t == table && (column.is_empty() || c == column))
        };
        for (table, required) in REQUIRED {
            let missing = if !has(table, "") {
                Some(format!("table {table} absente"))
            } else {
                let absent: Vec<&str> = required
                    .iter()
                    .copied()
                    .filter(|c| !has(table, c))
                    .collect();
                (!absent.is_empty())
                    .then(|| format!("colonnes absentes de {table} : {}", absent.join(", ")))
            };
            if let Some(missing) = missing {
                return Err(SourceError::NotDjango {
                    target: self.target.clone(),
                    missing,
                });
            }
        }
        Ok(())
    }

    /// Every account, by username.
    pub async fn users(&mut self) -> Result<Vec<DjangoUser>, SourceError> {
        // The casts accept the variants of older Django schemas (no time zone, nullable e-mail).
        sqlx::query_as(
            "SELECT username::text, COALESCE(email, '')::text AS email, \
             COALESCE(first_name, '')::text AS first_name, \
             COALESCE(last_name, '')::text AS last_name, password::text, \
             is_superuser, is_staff, is_active, date_joined::timestamptz AS date_joined, \
             last_login::timestamptz AS last_login \
             FROM auth_user ORDER BY username",
        )
        .fetch_all(&mut self.conn)
        .await
        .map_err(|e| self.read_error(e))
    }

    /// How many dossiers the cursor will give.
    pub async fn count_dossiers(&mut self) -> Result<u64, SourceError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM dossiers_dossier")
            .fetch_one(&mut self.conn)
            .await
            .map_err(|e| self.read_error(e))?;
        Ok(count as u64)
    }

    /// Opens the cursor over the dossiers, by DS number.
    pub async fn open_dossiers(&mut self) -> Result<(), SourceError> {
        // As text, so that a `json` or `text` column of an older schema reads the same.
        sqlx::raw_sql(&format!(
            "DECLARE {CURSOR} NO SCROLL CURSOR FOR \
             SELECT ds_id::bigint AS ds_id, raw_json::text AS raw_json \
             FROM dossiers_dossier ORDER BY ds_id"
        ))
        .execute(&mut self.conn)
        .await
        .map_err(|e| self.read_error(e))?;
        Ok(())
    }

    /// The next `count` dossiers of the cursor; empty at the end.
    pub async fn next_dossiers(&mut self, count: usize) -> Result<Vec<DjangoDossier>, SourceError> {
        let sql = format!("FETCH FORWARD {count} FROM {CURSOR}");
        let rows = sqlx::query_as(&sql).fetch_all(&mut self.conn).await;
        rows.map_err(|e| self.read_error(e))
    }

    /// Ends the transaction (it wrote nothing) and the connection.
    pub async fn close(mut self) {
        let _ = sqlx::query("ROLLBACK").execute(&mut self.conn).await;
        let _ = self.conn.close().await;
    }
}
