//! Migrations are append-only (STYLE, SPEC): a database that applied one must keep working, and
//! sqlx refuses a migration whose text changed since it was applied. Every committed migration's
//! SHA-256 is checked in (`tests/fixtures/migration-checksums.txt`); both engines end with the
//! same tables and columns.

mod common;

use std::collections::BTreeSet;

use common::TestDb;
use sha2::{Digest, Sha256};

const CHECKSUMS: &str = include_str!("fixtures/migration-checksums.txt");

/// Every migration file, `engine/name`, with its SHA-256 in hex.
fn migration_files() -> Vec<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for engine in ["postgres", "sqlite"] {
        for entry in std::fs::read_dir(root.join("migrations").join(engine)).unwrap() {
            let path = entry.unwrap().path();
            let digest = Sha256::digest(std::fs::read(&path).unwrap());
            let hex = wif::crypto::hex(&digest);
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            files.push((format!("migrations/{engine}/{name}"), hex));
        }
    }
    files.sort();
    files
}

/// A committed migration never changes; a new one is listed with its checksum.
#[test]
fn committed_migrations_never_change() {
    let recorded: Vec<(&str, &str)> = CHECKSUMS
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let (sum, path) = line.split_once("  ").expect("`checksum  path` lines");
            (path, sum)
        })
        .collect();
    let files = migration_files();
    for (path, sum) in &recorded {
        let now = files.iter().find(|(p, _)| p == path);
        let now = now.unwrap_or_else(|| panic!("{path} was removed: migrations are append-only"));
        assert_eq!(
            now.1, *sum,
            "{path} changed after it was committed: a database that applied it fails sqlx's \
             checksum; restore it and fix it with a new migration"
        );
    }
    for (path, sum) in &files {
        assert!(
            recorded.iter().any(|(p, _)| p == path),
            "{path} is new: add « {sum}  {path} » to tests/fixtures/migration-checksums.txt"
        );
    }
}

/// The tables and columns of a migrated database, as `table.column`.
async fn columns(t: &TestDb) -> BTreeSet<String> {
    let rows: Vec<(String, String)> = match &t.db {
        wif::store::Db::Sqlite(pool) => sqlx::query_as(
            "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx_%'",
        )
        .fetch_all(pool)
        .await
        .unwrap(),
        wif::store::Db::Postgres(pool) => sqlx::query_as(
            "SELECT table_name::text, column_name::text FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx_%'",
        )
        .fetch_all(pool)
        .await
        .unwrap(),
    };
    rows.into_iter()
        .map(|(table, column)| format!("{table}.{column}"))
        .collect()
}

/// Both engines end their migrations with the same tables and columns.
#[tokio::test]
async fn both_engines_have_the_same_tables_and_columns() {
    let sqlite = TestDb::sqlite(true).await;
    let Some(postgres) = TestDb::postgres(true).await else {
        return;
    };
    let (lite, pg) = (columns(&sqlite).await, columns(&postgres).await);
    assert!(lite.contains("dossiers.erased_at"), "{lite:?}");
    let only_sqlite: Vec<_> = lite.difference(&pg).collect();
    let only_postgres: Vec<_> = pg.difference(&lite).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "only on SQLite: {only_sqlite:?}; only on PostgreSQL: {only_postgres:?}"
    );
}
