//! Benchmark of the monthly reports over a large database (1,000,000 dossiers): the national
//! report of the month before the data set's instant (the figures the database counts), its XLSX
//! workbook and CSV table, one département's report, and `wif report` end to end.
//!
//! `cargo bench --bench reports` uses the synthetic data set of `support::DataSet` (the same
//! database as `cargo bench --bench exports`: 1,000,000 dossiers whose history ends at a fixed
//! instant, generated at the first run and reused), then times each step three times and prints
//! the median. The synthetic dossiers are decided over the two years before that instant: a month
//! holds about a twenty-fourth of the decisions.

mod support;

use std::hint::black_box;
use std::process::Command;
use std::time::Instant;

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
    let data = support::DataSet::from_env();
    data.prepare(wif);
    let url = &data.url;
    let run = |args: &[&str]| {
        let started = Instant::now();
        let output = Command::new(wif)
            .args(args)
            .env("WIF_DATABASE_URL", url)
            .output()
            .expect("wif runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "wif {args:?} failed: {stderr}");
        started.elapsed().as_secs_f64()
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();

    let time_zone = chrono_tz::Europe::Paris;
    let month = Month::before(data.now, time_zone);
    runtime.block_on(async {
        let db = Db::connect(url).await.unwrap();
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
            black_box(csv::national_table(black_box(&report)));
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
            black_box(
                reports::compute(&db, month, time_zone, &scope)
                    .await
                    .unwrap(),
            );
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
