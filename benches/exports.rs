//! Benchmark of the jobs that read the whole database, over a large one (1,000,000 dossiers):
//! both exports and the alerts' evaluation.
//!
//! `cargo bench --bench exports` fills the database named by `WIF_BENCH_DATABASE_URL` (default: an
//! SQLite file under `target/`) with `WIF_BENCH_DOSSIERS` synthetic dossiers (default 1,000,000)
//! if it has fewer, then runs each export and `wif alerts evaluate` three times through the `wif`
//! binary and prints the median wall time and the peak resident memory (from `/usr/bin/time`).
//! The first evaluation of a new database opens every alert; the next ones find them open.
//! Last, it times in this process what the admin's *Statistiques* page computes on each view
//! (`export::stats::compute`), without the process start and connection of the commands.
//!
//! Figures at 1,000,000 dossiers (2 shared cores, median of the runs): see `docs/exports.md`.

use std::process::Command;

const RUNS: usize = 3;

fn main() {
    let wif = env!("CARGO_BIN_EXE_wif");
    let url = std::env::var("WIF_BENCH_DATABASE_URL").unwrap_or_else(|_| {
        format!(
            "sqlite://{}/target/bench-exports.sqlite3",
            env!("CARGO_MANIFEST_DIR")
        )
    });
    let dossiers: u64 = std::env::var("WIF_BENCH_DOSSIERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let run = |args: &[&str]| {
        let output = Command::new("/usr/bin/time")
            .args(["-f", "%e %M"])
            .arg(wif)
            .args(args)
            .env("WIF_DATABASE_URL", &url)
            .output()
            .expect("/usr/bin/time runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "wif {args:?} failed: {stderr}");
        let last = stderr.lines().last().unwrap_or_default().to_owned();
        let mut fields = last.split_whitespace();
        let seconds: f64 = fields
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or(f64::NAN);
        let peak_kib: u64 = fields.next().and_then(|s| s.parse().ok()).unwrap_or(0);
        (seconds, peak_kib)
    };

    run(&["migrate"]);
    println!("database: {}", wif::store::describe(&url));
    let (seconds, _) = run(&["dev", "generate", "--dossiers", &dossiers.to_string()]);
    println!("generate {dossiers} dossiers (or check they exist): {seconds:.1} s");

    let out = std::env::temp_dir().join("wif-bench-export.json");
    let out = out.to_str().unwrap();
    let commands: [&[&str]; 3] = [
        &["export-validity-check-data", "--output", out],
        &["export-stats-data", "--output", out],
        &["alerts", "evaluate"],
    ];
    for command in commands {
        let mut times = Vec::new();
        let mut peak = 0;
        for _ in 0..RUNS {
            let (seconds, kib) = run(command);
            times.push(seconds);
            peak = peak.max(kib);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{}: median {:.2} s (runs: {times:?}), peak memory {:.0} MiB",
            command
                .iter()
                .take_while(|a| !a.starts_with("--"))
                .copied()
                .collect::<Vec<_>>()
                .join(" "),
            times[RUNS / 2],
            peak as f64 / 1024.0
        );
    }

    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let times = runtime.block_on(async {
        let db = wif::store::Db::connect(&url).await.expect("the database");
        let mut times = Vec::new();
        for _ in 0..=RUNS {
            let started = std::time::Instant::now();
            wif::export::stats::compute(&db, chrono::Utc::now(), chrono_tz::Europe::Paris)
                .await
                .expect("the statistics");
            times.push(started.elapsed().as_secs_f64());
        }
        times
    });
    // The first run warms the connections up.
    let mut times = times[1..].to_vec();
    times.sort_by(f64::total_cmp);
    println!(
        "admin statistics page (computation): median {:.3} s (runs: {times:?})",
        times[RUNS / 2]
    );
}
