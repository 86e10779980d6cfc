//! Benchmark of the monthly reports over a large database (1,000,000 dossiers): the national
//! report of the previous month (the figures the database counts), its XLSX workbook and CSV
//! table, one département's report, and `wif report` end to end.
//!
//! `cargo bench --bench reports` fills the database named by `WIF_BENCH_DATABASE_URL` (default:
//! an SQLite file under `target/`) with `WIF_BENCH_DOSSIERS` synthetic dossiers (default
//! 1,000,000) if it has fewer, then times each step three times and prints the median. The
//! synthetic dossiers are decided over the two years before their generation: a month holds
//! about a twenty-fourth of the decisions.

use std::process::Command;
use std::time::Instant;

use chrono::Utc;
use wif::domain::Scope;
use wif::domain::report::Month;
use wif::reports::{self, csv, xlsx};
use wif::store::Db;

const RUNS: usize = 3;

fn median(mut times: Vec<f64>) -> String {
    times.sort_by(f64::total_cmp);
    let shown: Vec<String> = times.iter().map(|t| format!("{t:.3}")).collect();
    format!(
        "median {:.3} s (runs: {})",
        times[RUNS / 2],
        shown.join(", ")
    )
}

fn main() {
    let wif = env!("CARGO_BIN_EXE_wif");
    let url = std::env::var("WIF_BENCH_DATABASE_URL").unwrap_or_else(|_| {
        format!(
            "sqlite://{}/target/bench-reports.sqlite3",
            env!("CARGO_MANIFEST_DIR")
        )
    });
    let dossiers: u64 = std::env::var("WIF_BENCH_DOSSIERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let run = |args: &[&str]| {
        let started = Instant::now();
        let output = Command::new(wif)
            .args(args)
            .env("WIF_DATABASE_URL", &url)
            .output()
            .expect("wif runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "wif {args:?} failed: {stderr}");
        started.elapsed().as_secs_f64()
    };
    run(&["migrate"]);
    println!("database: {}", wif::store::describe(&url));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let stored: i64 = runtime.block_on(async {
        let db = Db::connect(&url).await.unwrap();
        let sql = "SELECT COUNT(*) FROM dossiers";
        let count = match &db {
            Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
            Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
        };
        db.close().await;
        count.unwrap()
    });
    // Generated dossiers are dated from the time of their generation: generating again would
    // rewrite every one of them.
    if stored < dossiers as i64 {
        let seconds = run(&["dev", "generate", "--dossiers", &dossiers.to_string()]);
        println!("generate {dossiers} dossiers: {seconds:.1} s");
    }

    let time_zone = chrono_tz::Europe::Paris;
    let month = Month::before(Utc::now(), time_zone);
    runtime.block_on(async {
        let db = Db::connect(&url).await.unwrap();
        let ds = wif::config::Settings::from_lookup(|_| None).unwrap().ds;

        let mut times = Vec::new();
        let mut report = None;
        for _ in 0..RUNS {
            let started = Instant::now();
            report = Some(
                reports::compute(&db, month, time_zone, &Scope::National)
                    .await
                    .unwrap(),
            );
            times.push(started.elapsed().as_secs_f64());
        }
        let report = report.unwrap();
        println!(
            "national report of {month}: {} dossiers decided, {} départements: {}",
            report.total.decided(),
            report.departments.len(),
            median(times)
        );

        let mut times = Vec::new();
        let mut size = 0;
        for _ in 0..RUNS {
            let started = Instant::now();
            size = xlsx::workbook(&report, &ds).unwrap().len();
            times.push(started.elapsed().as_secs_f64());
        }
        println!(
            "its XLSX workbook ({} refused dossiers listed, {} KiB): {}",
            report.total.refused_dossiers.len(),
            size / 1024,
            median(times)
        );

        let mut times = Vec::new();
        for _ in 0..RUNS {
            let started = Instant::now();
            csv::national_table(&report);
            times.push(started.elapsed().as_secs_f64());
        }
        println!("its CSV table: {}", median(times));

        let department = report
            .departments
            .iter()
            .find_map(|d| d.department.clone())
            .expect("a département");
        let scope = Scope::Departments(vec![department.clone()]);
        let mut times = Vec::new();
        for _ in 0..RUNS {
            let started = Instant::now();
            reports::compute(&db, month, time_zone, &scope)
                .await
                .unwrap();
            times.push(started.elapsed().as_secs_f64());
        }
        println!("report of {department} alone: {}", median(times));
        db.close().await;
    });

    let out = std::env::temp_dir().join("wif-bench-report.xlsx");
    let out = out.to_str().unwrap();
    let month = month.to_string();
    let times = (0..RUNS)
        .map(|_| run(&["report", "--month", &month, "--output", out]))
        .collect();
    println!(
        "wif report --month {month} --output …xlsx: {}",
        median(times)
    );
}
