//! The Work in France back office. Data flows one way:
//! DS → `domain` → `store` → exports, admin and public service.

pub mod admin;
pub mod alerts;
pub mod cli;
pub mod commands;
pub mod config;
pub mod crypto;
pub mod django;
pub mod domain;
pub mod ds;
pub mod export;
pub mod fake_ds;
pub mod http;
pub mod import_django;
pub mod mail;
pub mod proconnect;
pub mod public;
pub mod purge;
pub mod reports;
pub mod scheduler;
pub mod shutdown;
pub mod store;
pub mod sync;
pub mod synthetic;
pub mod telemetry;
pub mod web;
pub mod webhooks;

/// Resolves on Ctrl-C or SIGTERM, for a clean stop of the servers.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("arrêt demandé");
}
