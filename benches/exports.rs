//! Benchmark of the jobs that read the whole database, over a large one (1,000,000 dossiers):
//! both exports and the alerts' evaluation.
//!
//! `cargo bench --bench exports` uses the synthetic data set of `support::DataSet` (1,000,000
//! dossiers whose history ends at a fixed instant, generated into a file under `target/` at the
//! first run and reused by the next ones), then runs each export and `wif alerts evaluate`, as of
//! that instant, three times through the `wif` binary and prints the median wall time and the
//! peak resident memory (from `/usr/bin/time`). The first evaluation of a new database opens
//! every alert; the next ones find them open. Last, it times in this process what the admin's
//! *Statistiques* page computes on each view (`export::stats::compute`), without the process
//! start and connection of the commands.
//!
//! Figures at 1,000,000 dossiers (2 shared cores, median of the runs): see `docs/exports.md`.

mod support;

use std::hint::black_box;
use std::process::Command;

const RUNS: usize = 3;

fn main() {
    let wif = env!("CARGO_BIN_EXE_wif");
    let data = support::DataSet::from_env();
    data.prepare(wif);
    let now = data.now_arg();
    let run = |args: &[&str]| {
        let output = Command::new("/usr/bin/time")
            .args(["-f", "%e %M"])
            .arg(wif)
            .args(args)
            .env("WIF_DATABASE_URL", &data.url)
            .output()
            .expect("/usr/bin/time runs (apt-get install time)");
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

    let out = std::env::temp_dir().join("wif-bench-export.json");
    let out = out.to_str().unwrap();
    let commands: [&[&str]; 3] = [
        &["export-validity-check-data", "--output", out, "--now", &now],
        &["export-stats-data", "--output", out, "--now", &now],
        &["alerts", "evaluate", "--now", &now],
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
        let db = wif::store::Db::connect(&data.url)
            .await
            .expect("the database");
        let mut times = Vec::new();
        for _ in 0..=RUNS {
            let started = std::time::Instant::now();
            let stats = wif::export::stats::compute(&db, data.now, chrono_tz::Europe::Paris)
                .await
                .expect("the statistics");
            black_box(stats);
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
