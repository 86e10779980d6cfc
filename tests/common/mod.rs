//! The test harness: every scenario runs against a fresh SQLite file and, when
//! `WIF_TEST_DATABASE_URL` names a PostgreSQL server, against a fresh PostgreSQL database.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use wif::store::Db;

/// A database of its own for one test, removed when the test ends.
pub struct TestDb {
    pub db: Db,
    pub url: String,
    /// The directory of the SQLite file, or a scratch directory for PostgreSQL tests.
    pub dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

impl TestDb {
    /// A new SQLite file, its schema migrated when `migrated`.
    pub async fn sqlite(migrated: bool) -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let path: PathBuf = dir.path().join("wif.sqlite3");
        let url = format!("sqlite://{}", path.display());
        let db = Db::connect(&url).await.unwrap();
        if migrated {
            db.migrate().await.unwrap();
        }
        TestDb {
            db,
            url,
            dir,
            postgres: None,
        }
    }

    /// A new PostgreSQL database on the server of `WIF_TEST_DATABASE_URL`, or `None` (and a
    /// note on stderr) when the variable is not set. A set but unreachable server fails the test.
    pub async fn postgres(migrated: bool) -> Option<TestDb> {
        let Ok(admin_url) = std::env::var("WIF_TEST_DATABASE_URL") else {
            eprintln!(
                "PostgreSQL skipped: set WIF_TEST_DATABASE_URL to run this test on PostgreSQL"
            );
            return None;
        };
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "wif_test_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos()
        );
        let admin = Db::connect(&admin_url)
            .await
            .expect("WIF_TEST_DATABASE_URL is set but its server cannot be reached");
        let Db::Postgres(pool) = &admin else {
            panic!("WIF_TEST_DATABASE_URL must be a postgres:// URL");
        };
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(pool)
            .await
            .unwrap();
        admin.close().await;
        let url = with_database(&admin_url, &name);
        let db = Db::connect(&url).await.unwrap();
        if migrated {
            db.migrate().await.unwrap();
        }
        Some(TestDb {
            db,
            url,
            dir: tempfile::tempdir().unwrap(),
            postgres: Some((admin_url, name)),
        })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.take() else {
            return;
        };
        // Drop cannot await: a short-lived runtime on its own thread removes the database.
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                if let Ok(Db::Postgres(pool)) = Db::connect(&admin_url).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&pool)
                        .await;
                    pool.close().await;
                }
            });
        })
        .join()
        .unwrap();
    }
}

/// The same server URL with another database name.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let (scheme, rest) = base.split_once("://").expect("a postgres:// URL");
    let server = rest.split_once('/').map_or(rest, |(server, _)| server);
    let query = query.map(|q| format!("?{q}")).unwrap_or_default();
    format!("{scheme}://{server}/{name}{query}")
}

/// Declares, for each `async fn scenario(t: &TestDb)`, a module with a `sqlite` and a
/// `postgres` test running it on a fresh, migrated database.
#[macro_export]
macro_rules! both_engines {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[tokio::test]
            async fn sqlite() {
                let t = $crate::common::TestDb::sqlite(true).await;
                super::$scenario(&t).await;
            }

            #[tokio::test]
            async fn postgres() {
                if let Some(t) = $crate::common::TestDb::postgres(true).await {
                    super::$scenario(&t).await;
                }
            }
        }
    )*};
}
