//! Logs: readable on a terminal, one JSON object per line with `WIF_LOG_FORMAT=json`.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Installs the log subscriber on stderr; levels come from `RUST_LOG` (default `info`, without
/// sqlx's slow-statement warnings, which every export over a large base would raise).
pub fn init() {
    let json = std::env::var("WIF_LOG_FORMAT").is_ok_and(|f| f.trim().eq_ignore_ascii_case("json"));
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=error"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
