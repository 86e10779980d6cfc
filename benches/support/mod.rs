//! What the benchmarks over a large database share: one synthetic data set per size and instant,
//! filled once with `wif dev generate` and found again by the next runs.

use std::process::Command;
use std::time::Instant;

use chrono::{DateTime, SecondsFormat, Utc};
use wif::store::{Db, dossiers};

/// Where the synthetic dossiers' history ends, and the "now" of every timed command, unless
/// `WIF_BENCH_NOW` says otherwise: fixed, so that every run reads and computes the same things.
const DEFAULT_NOW: &str = "2026-11-15T09:00:00Z";

/// The `--seed` and `--procedure` of `wif dev generate`, left at their defaults.
const SEED: u64 = 1;
const PROCEDURE: i64 = 1;

pub struct DataSet {
    pub url: String,
    pub dossiers: u64,
    pub now: DateTime<Utc>,
}

impl DataSet {
    /// `WIF_BENCH_DOSSIERS` dossiers (default 1,000,000) whose history ends at `WIF_BENCH_NOW`
    /// (RFC 3339), in the database `WIF_BENCH_DATABASE_URL`; by default an SQLite file under
    /// `target/` named after both, so that another size or instant gets a file of its own.
    pub fn from_env() -> DataSet {
        let dossiers = std::env::var("WIF_BENCH_DOSSIERS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(1_000_000);
        let now = std::env::var("WIF_BENCH_NOW").unwrap_or_else(|_| DEFAULT_NOW.to_owned());
        let now = DateTime::parse_from_rfc3339(&now)
            .expect("WIF_BENCH_NOW is an RFC 3339 instant")
            .with_timezone(&Utc);
        let url = std::env::var("WIF_BENCH_DATABASE_URL").unwrap_or_else(|_| {
            format!(
                "sqlite://{}/target/bench-{dossiers}-dossiers-{}.sqlite3",
                env!("CARGO_MANIFEST_DIR"),
                now.format("%Y%m%dT%H%M%SZ")
            )
        });
        DataSet { url, dossiers, now }
    }

    /// The instant as the commands' `--now` takes it.
    pub fn now_arg(&self) -> String {
        self.now.to_rfc3339_opts(SecondsFormat::Secs, true)
    }

    /// Migrates the database and generates the dossiers it lacks. Panics when it holds other
    /// dossiers (another instant, seed or size): the figures would not be this data set's.
    pub fn prepare(&self, wif: &str) {
        self.wif(wif, &["migrate"]);
        println!("database: {}", wif::store::describe(&self.url));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let stored = runtime.block_on(self.stored());
        if stored < self.dossiers {
            let started = Instant::now();
            self.wif(
                wif,
                &[
                    "dev",
                    "generate",
                    "--dossiers",
                    &self.dossiers.to_string(),
                    "--now",
                    &self.now_arg(),
                ],
            );
            println!(
                "generated {} dossiers up to {} in {:.1} s",
                self.dossiers - stored,
                self.now_arg(),
                started.elapsed().as_secs_f64()
            );
        }
        let stored = runtime.block_on(self.stored());
        assert_eq!(
            stored, self.dossiers,
            "the database holds {stored} dossiers, not WIF_BENCH_DOSSIERS = {}: name another one",
            self.dossiers
        );
    }

    /// How many dossiers the database holds, after checking that they are this data set's.
    async fn stored(&self) -> u64 {
        let db = Db::connect(&self.url).await.expect("the database");
        let count = dossiers::count(&db).await.expect("a count") as u64;
        if count > 0 {
            let expected = wif::synthetic::dossier(SEED, 0, PROCEDURE, self.now);
            let first = dossiers::get(&db, expected.ds_id).await.expect("a dossier");
            let same = first.is_some_and(|stored| {
                stored.dossier.created_at == expected.created_at
                    && stored.dossier.updated_at == expected.updated_at
            });
            assert!(
                same,
                "the database holds dossiers generated for another instant (WIF_BENCH_NOW = {}) \
                 or seed: name another one",
                self.now_arg()
            );
        }
        db.close().await;
        count
    }

    fn wif(&self, wif: &str, args: &[&str]) {
        let output = Command::new(wif)
            .args(args)
            .env("WIF_DATABASE_URL", &self.url)
            .output()
            .expect("wif runs");
        assert!(
            output.status.success(),
            "wif {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
