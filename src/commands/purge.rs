//! `wif purge`: erases the personal data past their time (SPEC 14).

use chrono::Utc;

use super::open_database;
use crate::cli::PurgeArgs;

pub async fn run(args: PurgeArgs) -> anyhow::Result<()> {
    let (settings, db) = open_database().await?;
    let now = args.now.unwrap_or_else(Utc::now);
    // A line every ten batches: a long purge shows it progresses without flooding the terminal.
    let progress = |counts: &crate::store::purge::PurgeCounts| {
        let done = counts.dossiers_erased + counts.dossiers_reduced;
        if done % (10 * crate::store::purge::BATCH as i64) == 0 {
            eprintln!(
                "… {} dossiers effacés, {} réduits à la vérification d'APT",
                counts.dossiers_erased, counts.dossiers_reduced
            );
        }
    };
    let counts = crate::purge::run(
        &db,
        &settings.retention,
        settings.time_zone,
        now,
        args.dry_run,
        &progress,
    )
    .await?;
    db.close().await;
    if args.dry_run {
        println!("Essai à blanc : rien n'a été effacé. Seraient effacés :");
    }
    for (kind, n) in counts.lines() {
        println!("{n:>9} {kind}");
    }
    Ok(())
}
