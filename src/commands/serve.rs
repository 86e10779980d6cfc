//! `wif serve`: the admin web app, and the scheduled jobs unless `--no-scheduler`.

use super::open_database;
use crate::cli::ServeArgs;
use crate::config::Settings;
use crate::scheduler::{self, Job};
use crate::store::Db;

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let (settings, db) = open_database().await?;
    let jobs = match args.no_scheduler {
        true => Vec::new(),
        false => scheduler::jobs(&settings),
    };
    let (listeners, state) = crate::admin::prepare(&settings, db.clone(), jobs.clone()).await?;
    if !jobs.is_empty() {
        start_scheduler(db.clone(), settings.clone(), jobs);
    }
    println!("Administration : http://{}/admin/", settings.bind);
    if let Some(listener) = listeners.metrics {
        println!("Métriques : http://{}/metrics", listener.local_addr()?);
        let metrics =
            crate::admin::serve_metrics(listener, state.clone(), crate::shutdown_signal());
        tokio::spawn(async move {
            if let Err(error) = metrics.await {
                tracing::error!(%error, "métriques arrêtées");
            }
        });
    }
    let result = crate::admin::serve_on(listeners.admin, state, crate::shutdown_signal()).await;
    db.close().await;
    result
}

/// The jobs, on the server's runtime and database pool.
fn start_scheduler(db: Db, settings: Settings, jobs: Vec<Job>) {
    tokio::spawn(async move { scheduler::run(db, settings, jobs).await });
}
