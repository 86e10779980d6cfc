//! One small file per subcommand: each wires configuration, store and domain together.

pub mod alerts;
pub mod createuser;
pub mod demo;
pub mod dev;
pub mod export;
pub mod fake_ds;
pub mod import_django;
pub mod migrate;
pub mod procedures;
pub mod purge;
pub mod report;
pub mod serve;
pub mod serve_public;
pub mod sync;

use crate::config::Settings;
use crate::store::Db;

/// The settings and an open, migrated database: what most commands start from.
pub async fn open_database() -> anyhow::Result<(Settings, Db)> {
    let settings = Settings::from_env()?;
    let db = Db::connect(settings.database_url.expose()).await?;
    db.ensure_migrated().await?;
    Ok((settings, db))
}
