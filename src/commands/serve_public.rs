//! `wif serve-public`: the public service. It reads the exported files, never the database.

use crate::config::Settings;

pub async fn run() -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    crate::public::serve(&settings).await
}
