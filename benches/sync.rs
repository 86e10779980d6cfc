//! Benchmark of a full sync from the DS simulator (issue: 100,000 dossiers through v2, and the
//! HTTP requests per 1,000 dossiers of each API).
//!
//! `cargo bench --bench sync` runs, on a fresh SQLite file and, when `WIF_TEST_DATABASE_URL`
//! names a PostgreSQL server, on a fresh PostgreSQL database: a full v2 sync of
//! `WIF_BENCH_DOSSIERS` dossiers (default 100,000), the rate limit disabled, then a full v1 sync
//! of `WIF_BENCH_V1_DOSSIERS` (default 5,000: v1 asks for each dossier one by one). It prints
//! the dossiers stored per second and the requests per 1,000 dossiers. The simulator runs in the
//! same process and shares the machine's cores with the sync.

#[path = "../tests/common/mod.rs"]
mod common;

use common::TestDb;
use indicatif::ProgressBar;
use wif::domain::ApiVersion;
use wif::ds::RetryPolicy;
use wif::fake_ds::FakeDs;
use wif::sync::{self, SyncOptions};

const PROCEDURE: i64 = 4242;
const TOKEN: &str = "jeton-de-benchmark";

fn count(variable: &str, default: u64) -> u64 {
    std::env::var(variable)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let v2_dossiers = count("WIF_BENCH_DOSSIERS", 100_000);
    let v1_dossiers = count("WIF_BENCH_V1_DOSSIERS", 5_000);
    let postgres = std::env::var_os("WIF_TEST_DATABASE_URL").is_some();
    for (api, dossiers) in [(ApiVersion::V2, v2_dossiers), (ApiVersion::V1, v1_dossiers)] {
        bench("SQLite", &TestDb::sqlite(true).await, api, dossiers).await;
        if postgres {
            let t = TestDb::postgres(true)
                .await
                .expect("WIF_TEST_DATABASE_URL is set");
            bench("PostgreSQL", &t, api, dossiers).await;
        }
    }
}

/// One full sync of `dossiers` simulated dossiers into the empty database of `t`.
async fn bench(engine: &str, t: &TestDb, api: ApiVersion, dossiers: u64) {
    let ds = FakeDs::new(dossiers, 7, PROCEDURE, TOKEN);
    let url = common::start_simulator(&ds).await;
    let settings = common::simulator_settings(&url, PROCEDURE, TOKEN, api);
    let report = sync::run(
        &t.db,
        &settings,
        RetryPolicy::default(),
        &SyncOptions {
            full: true,
            procedure: None,
        },
        &ProgressBar::hidden(),
        std::future::pending(),
    )
    .await
    .expect("the sync succeeds");
    let total = report.total();
    let seconds = report.duration.as_secs_f64();
    let stored = total.created + total.updated;
    assert_eq!(
        total.seen,
        stored + total.skipped,
        "every dossier read is stored or skipped"
    );
    println!(
        "{api:?} -> {engine}: {stored} dossiers stored ({} skipped) in {seconds:.1} s = {:.0} dossiers/s; \
         {} HTTP requests = {:.1} per 1,000 dossiers",
        total.skipped,
        stored as f64 / seconds,
        total.requests,
        total.requests as f64 * 1000.0 / total.seen as f64,
    );
}
