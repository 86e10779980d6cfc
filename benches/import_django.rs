//! Benchmark of `wif import-django` (issue: 100,000 dossiers in under 30 s on PostgreSQL).
//!
//! `WIF_TEST_DATABASE_URL=postgres://… cargo bench --bench import_django` builds a Python back
//! office's database of `WIF_BENCH_DOSSIERS` dossiers (default 100,000; `raw_json` rendered by
//! the DS simulator's v1) on that server, then imports it into a fresh PostgreSQL database and
//! into a fresh SQLite file, twice each: the first run stores everything, the second finds
//! everything unchanged. The source, the target and the import share the machine's cores.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use common::TestDb;
use common::django::{DjangoDb, DjangoRow};
use indicatif::ProgressBar;
use wif::import_django::{self, ImportOptions};

const PROCEDURE: i64 = 4242;

#[tokio::main]
async fn main() {
    let count: u64 = std::env::var("WIF_BENCH_DOSSIERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let Some(source) = DjangoDb::create().await else {
        return;
    };
    let started = Instant::now();
    let now = chrono::Utc::now();
    let mut raw_bytes = 0;
    for from in (0..count).step_by(10_000) {
        let rows: Vec<DjangoRow> = (from..(from + 10_000).min(count))
            .map(|i| DjangoRow::of(&wif::synthetic::dossier(7, i, PROCEDURE, now)))
            .collect();
        raw_bytes += rows
            .iter()
            .map(|r| r.raw_json.to_string().len())
            .sum::<usize>();
        source.insert_dossiers(&rows).await;
    }
    sqlx::query("VACUUM ANALYZE dossiers_dossier")
        .execute(&source.pool)
        .await
        .unwrap();
    println!(
        "source: {count} dossiers ({:.0} MB of raw_json, {:.1} KB each) written in {:.1} s",
        raw_bytes as f64 / 1e6,
        raw_bytes as f64 / count as f64 / 1e3,
        started.elapsed().as_secs_f64()
    );

    let postgres = TestDb::postgres(true)
        .await
        .expect("WIF_TEST_DATABASE_URL is set");
    bench("PostgreSQL", &postgres, &source, count).await;
    drop(postgres);
    bench("SQLite", &TestDb::sqlite(true).await, &source, count).await;
}

/// Two imports of the whole source into `t`'s empty database.
async fn bench(engine: &str, t: &TestDb, source: &DjangoDb, count: u64) {
    let options = ImportOptions {
        procedure: PROCEDURE,
        dry_run: false,
    };
    for run in ["first", "second"] {
        let report =
            import_django::run(&t.db, &source.url, &t.url, &options, &ProgressBar::hidden())
                .await
                .expect("the import succeeds");
        let d = &report.dossiers;
        assert_eq!(d.read, count);
        assert_eq!(
            d.created + d.updated + d.unchanged,
            count - d.skipped.len() as u64
        );
        let seconds = report.duration.as_secs_f64();
        println!(
            "-> {engine}, {run} run: {} dossiers read in {seconds:.1} s = {:.0} dossiers/s \
             ({} created, {} updated, {} unchanged, {} skipped)",
            d.read,
            d.read as f64 / seconds,
            d.created,
            d.updated,
            d.unchanged,
            d.skipped.len()
        );
    }
}
