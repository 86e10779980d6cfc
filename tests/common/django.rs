//! A Python back office's database, for the tests of `wif import-django` and its benchmark: a
//! fresh PostgreSQL database on the server of `WIF_TEST_DATABASE_URL`, with the schema of
//! `tests/fixtures/django_db.sql` and `raw_json` rendered by the DS simulator's v1.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::postgres::PgPool;
use sqlx::types::Json;
use wif::domain::Dossier;

use super::{block_on_thread, with_database};

/// The test vectors of `DJANGO_DB.md`: (password, Django hash).
pub const VECTOR_260K: (&str, &str) = (
    "correct horse battery staple",
    "pbkdf2_sha256$260000$wifTestSalt2018$vRbrIXHEUuZ4gvgo57xiiX7qpXQxr/6qmOWqPICLbLA=",
);
pub const VECTOR_100K: (&str, &str) = (
    "mot de passe du back office",
    "pbkdf2_sha256$100000$seedSalt$vb8SWn+NeKf51onW0PGqpYy5w53s42I/ABJa6mGB/70=",
);

/// A row of `dossiers_dossier`.
pub struct DjangoRow {
    pub ds_id: i64,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: Option<DateTime<Utc>>,
    pub department: String,
    pub raw_json: Value,
    pub champs_json: Value,
}

impl DjangoRow {
    /// The row the Python back office kept for a dossier: its v1 detail, and what it derived.
    pub fn of(d: &Dossier) -> DjangoRow {
        DjangoRow {
            ds_id: d.ds_id.get(),
            status: d.status.as_str().to_owned(),
            created_at: d.created_at.unwrap_or_else(Utc::now),
            updated_at: d.updated_at,
            department: d.department.clone().unwrap_or_default(),
            raw_json: wif::fake_ds::v1::render(d),
            champs_json: serde_json::to_value(&d.champs).unwrap(),
        }
    }
}

/// A row of `auth_user`.
pub struct DjangoAccount<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub is_superuser: bool,
    pub is_staff: bool,
    pub is_active: bool,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub email: &'a str,
    pub date_joined: DateTime<Utc>,
    pub last_login: Option<DateTime<Utc>>,
}

/// A Python back office's database, removed when dropped.
pub struct DjangoDb {
    pub url: String,
    pub pool: PgPool,
    admin_url: String,
    name: String,
}

impl DjangoDb {
    /// A database with the Django schema and no rows in its two tables; `None` (said on stderr)
    /// without `WIF_TEST_DATABASE_URL`, and a failure when `CI` is set: a skipped test is not a
    /// passing one.
    pub async fn create() -> Option<DjangoDb> {
        let db = DjangoDb::empty().await?;
        let schema = include_str!("../fixtures/django_db.sql");
        sqlx::raw_sql(schema).execute(&db.pool).await.unwrap();
        Some(db)
    }

    /// A database without any table.
    pub async fn empty() -> Option<DjangoDb> {
        let (admin_url, name) = super::new_postgres_database("wif_django").await?;
        let url = with_database(&admin_url, &name);
        let pool = PgPool::connect(&url).await.unwrap();
        Some(DjangoDb {
            url,
            pool,
            admin_url,
            name,
        })
    }

    /// Inserts rows of `dossiers_dossier`, many per statement.
    pub async fn insert_dossiers(&self, rows: &[DjangoRow]) {
        for chunk in rows.chunks(1000) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let p: Vec<String> = (1..=7).map(|j| format!("${}", i * 7 + j)).collect();
                    format!("({})", p.join(", "))
                })
                .collect();
            let sql = format!(
                "INSERT INTO dossiers_dossier (ds_id, status, created_at, updated_at, department, \
                 raw_json, champs_json) VALUES {}",
                values.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for row in chunk {
                query = query
                    .bind(i32::try_from(row.ds_id).unwrap())
                    .bind(&row.status)
                    .bind(row.created_at)
                    .bind(row.updated_at)
                    .bind(&row.department)
                    .bind(Json(&row.raw_json))
                    .bind(Json(&row.champs_json));
            }
            query.execute(&self.pool).await.unwrap();
        }
    }

    pub async fn insert_account(&self, account: &DjangoAccount<'_>) {
        sqlx::query(
            "INSERT INTO auth_user (password, last_login, is_superuser, username, first_name, \
             last_name, email, is_staff, is_active, date_joined) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(account.password)
        .bind(account.last_login)
        .bind(account.is_superuser)
        .bind(account.username)
        .bind(account.first_name)
        .bind(account.last_name)
        .bind(account.email)
        .bind(account.is_staff)
        .bind(account.is_active)
        .bind(account.date_joined)
        .execute(&self.pool)
        .await
        .unwrap();
    }

    /// A digest of every row of the two tables the import reads: the same before and after
    /// means nothing was written there.
    pub async fn fingerprint(&self) -> String {
        sqlx::query_scalar(
            "SELECT md5(COALESCE((SELECT string_agg(d::text, '|' ORDER BY d.id) FROM dossiers_dossier d), '') \
             || COALESCE((SELECT string_agg(u::text, '|' ORDER BY u.id) FROM auth_user u), ''))",
        )
        .fetch_one(&self.pool)
        .await
        .unwrap()
    }
}

impl Drop for DjangoDb {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        block_on_thread(async move {
            if let Ok(pool) = PgPool::connect(&admin_url).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&pool)
                    .await;
                pool.close().await;
            }
        });
    }
}
