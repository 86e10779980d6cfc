//! `wif dev`: developer tools, such as filling a database for benchmarks.

use std::time::Instant;

use chrono::Utc;

use super::open_database;
use crate::cli::DevCommand;
use crate::domain::{ApiVersion, Dossier};
use crate::store::dossiers;
use crate::synthetic;

const BATCH: u64 = 1000;

/// A synthetic dossier as a sync stores it: with the whole document DS sends (here its v1
/// document, about 4 KB), so that figures measured on generated rows hold for synced ones.
fn as_synced(mut d: Dossier) -> Dossier {
    d.raw = crate::fake_ds::v1::render(&d);
    d.api_version = ApiVersion::V1;
    d
}

pub async fn run(command: DevCommand) -> anyhow::Result<()> {
    match command {
        DevCommand::Generate {
            dossiers: count,
            seed,
            procedure,
            now,
        } => {
            let (_settings, db) = open_database().await?;
            let now = now.unwrap_or_else(Utc::now);
            let started = Instant::now();
            let mut created = 0;
            for first in (0..count).step_by(BATCH as usize) {
                let batch: Vec<_> = (first..(first + BATCH).min(count))
                    .map(|i| as_synced(synthetic::dossier(seed, i, procedure, now)))
                    .collect();
                created += dossiers::upsert(&db, &batch).await?.created;
                let done = first + batch.len() as u64;
                if done.is_multiple_of(50_000) || done == count {
                    eprintln!("{done}/{count} dossiers générés");
                }
            }
            println!(
                "{created} dossiers créés en {:.1} s (les dossiers déjà présents sont inchangés).",
                started.elapsed().as_secs_f64()
            );
            let analysing = Instant::now();
            dossiers::refresh_statistics(&db).await?;
            db.close().await;
            println!(
                "Statistiques de la base mises à jour en {:.1} s.",
                analysing.elapsed().as_secs_f64()
            );
            Ok(())
        }
    }
}
