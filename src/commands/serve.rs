//! `wif serve`: the admin web app. (The scheduler comes with the operations issue.)

use super::open_database;

pub async fn run() -> anyhow::Result<()> {
    let (settings, db) = open_database().await?;
    let result = crate::admin::serve(&settings, db.clone()).await;
    db.close().await;
    result
}
