//! `wif serve`: the admin web app, and the scheduled jobs unless `--no-scheduler`. On Ctrl-C or
//! SIGTERM it stops as SPEC 16 says (see `crate::shutdown`) and exits 0.

use super::open_database;
use crate::cli::ServeArgs;
use crate::scheduler;

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let (settings, db) = open_database().await?;
    let jobs = match args.no_scheduler {
        true => Vec::new(),
        false => scheduler::jobs(&settings),
    };
    let (listeners, state) = crate::admin::prepare(&settings, db.clone(), jobs.clone()).await?;
    let shutdown = state.shutdown.clone();
    shutdown.on_signals();
    if !jobs.is_empty() {
        let (db, settings, shutdown) = (db.clone(), settings.clone(), shutdown.clone());
        tokio::spawn(async move { scheduler::run(db, settings, jobs, shutdown).await });
    }
    println!(
        "Administration : http://{}/admin/",
        listeners.admin.local_addr()?
    );
    // The metrics listener outlives the admin's: during the grace, `/readyz` answers 503 there.
    let (served, admin_done) = tokio::sync::oneshot::channel::<()>();
    if let Some(listener) = listeners.metrics {
        println!("Métriques : http://{}/metrics", listener.local_addr()?);
        let metrics = crate::admin::serve_metrics(listener, state.clone(), async {
            let _ = admin_done.await;
        });
        tokio::spawn(async move {
            if let Err(error) = metrics.await {
                tracing::error!(%error, "métriques arrêtées");
            }
        });
    }
    let result = crate::admin::serve_on(listeners.admin, state, shutdown.asked()).await;
    shutdown.ask();
    if !shutdown.drain().await {
        tracing::warn!("délai d'arrêt écoulé : tâche en cours abandonnée, elle sera reprise");
    }
    drop(served);
    db.close().await;
    tracing::info!("arrêt terminé");
    result
}
