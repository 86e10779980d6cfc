//! `wif migrate`: creates or upgrades the schema.

use crate::config::Settings;
use crate::store::{Db, describe};

pub async fn run() -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    let url = settings.database_url.expose();
    let db = Db::connect(url).await?;
    let applied = db.migrate().await?;
    db.close().await;
    match applied {
        0 => println!("Le schéma de {} est déjà à jour.", describe(url)),
        n => println!("{n} migration(s) appliquée(s) à {}.", describe(url)),
    }
    Ok(())
}
