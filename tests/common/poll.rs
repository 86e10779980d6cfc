//! Waiting for what a test expects, however slow the machine: poll for a condition that holds
//! once the work is done, rather than sleep a fixed time and hope it was enough.

use std::time::{Duration, Instant};

/// How long a condition may take to hold: far more than it needs, even on a loaded machine.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// Polls `attempt` until it gives a value, for at most `patience` of real time; `None` after.
pub async fn poll<T>(patience: Duration, mut attempt: impl AsyncFnMut() -> Option<T>) -> Option<T> {
    let started = Instant::now();
    loop {
        if let Some(value) = attempt().await {
            return Some(value);
        }
        if started.elapsed() > patience {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The value `attempt` gives within `PATIENCE`; panics naming `what` if none comes.
pub async fn eventually<T>(what: &str, attempt: impl AsyncFnMut() -> Option<T>) -> T {
    poll(PATIENCE, attempt)
        .await
        .unwrap_or_else(|| panic!("waited {PATIENCE:?} for {what}"))
}

/// Waits until `check` holds, for at most `PATIENCE`; panics naming `what` if it never does.
pub async fn until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    eventually(what, async || check().await.then_some(())).await
}
