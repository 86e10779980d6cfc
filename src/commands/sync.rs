//! `wif sync-dossiers`: copies the dossiers from DS, with a progress bar and the seed's summary.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

use super::open_database;
use crate::cli::SyncArgs;
use crate::ds::RetryPolicy;
use crate::sync::{self, Report, SyncOptions};

pub async fn run(args: SyncArgs) -> anyhow::Result<()> {
    let (settings, db) = open_database().await?;
    let progress = progress_bar();
    let options = SyncOptions {
        full: args.full,
        procedure: args.procedure,
    };
    let result = sync::run(
        &db,
        &settings.ds,
        RetryPolicy::default(),
        &options,
        &progress,
        crate::shutdown_signal(),
    )
    .await;
    progress.finish_and_clear();
    let report = result?;
    print_summary(&report);
    if let Some(e) = crate::alerts::evaluate_after_sync(&db, &settings.alert_rules).await {
        println!(
            "alertes : {} ouvertes, {} résolues, {} ouvertes en tout",
            e.opened, e.resolved, e.open
        );
    }
    db.close().await;
    Ok(())
}

/// A bar on a terminal; hidden otherwise (the sync then logs its progress).
pub fn progress_bar() -> ProgressBar {
    if std::io::stderr().is_terminal() {
        ProgressBar::new(0).with_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({eta})")
                .expect("a valid template")
                .progress_chars("=> "),
        )
    } else {
        ProgressBar::hidden()
    }
}

/// The seed's three counters, then ours.
pub fn print_summary(report: &Report) {
    let total = report.total();
    println!("{} - number of dossiers checked", total.seen);
    println!("{} - number of HTTP queries performed", total.requests);
    println!(
        "{} - number of dossiers processed",
        total.created + total.updated
    );
    println!(
        "{} créés, {} mis à jour, {} inchangés, {} ignorés, {} marqués supprimés sur DS, en {:.1} s",
        total.created,
        total.updated,
        total.unchanged,
        total.skipped,
        total.marked_deleted,
        report.duration.as_secs_f64()
    );
    for reason in &total.skipped_details {
        println!("ignoré : {reason}");
    }
}
