//! `wif export-validity-check-data` and `wif export-stats-data`.

use chrono::{DateTime, Utc};

use super::open_database;
use crate::cli::ExportArgs;
use crate::export::{Output, stats, validity_check};

pub async fn validity_check(args: ExportArgs) -> anyhow::Result<()> {
    let (settings, db) = open_database().await?;
    let now = args.now.unwrap_or_else(Utc::now);
    let today = now.with_timezone(&settings.time_zone).date_naive();
    let output = Output::choose(
        args.output.as_deref(),
        &settings.media_root,
        validity_check::FILE_NAME,
    );
    let count = validity_check::export(&db, &output, today).await?;
    db.close().await;
    report(&output, &format!("{count} dossiers exported."));
    report(&output, "Done.");
    Ok(())
}

pub async fn stats(args: ExportArgs) -> anyhow::Result<()> {
    let (settings, db) = open_database().await?;
    let now: DateTime<Utc> = args.now.unwrap_or_else(Utc::now);
    let output = Output::choose(
        args.output.as_deref(),
        &settings.media_root,
        stats::FILE_NAME,
    );
    stats::export(&db, &output, now, settings.time_zone).await?;
    db.close().await;
    report(&output, "Done.");
    Ok(())
}

/// The seed's messages, on stderr when stdout carries the file itself.
fn report(output: &Output, message: &str) {
    match output {
        Output::Stdout => eprintln!("{message}"),
        Output::File(_) => println!("{message}"),
    }
}
