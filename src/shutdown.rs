//! A clean stop (SPEC 16). On Ctrl-C or SIGTERM an instance stops accepting connections and
//! `/readyz` answers 503 at once; the requests in flight, the page a sync is storing and the
//! scheduled job under way get `WIF_SHUTDOWN_GRACE` to end; no job starts any more.
//!
//! `Shutdown` is that one decision, shared by everything the process runs: the listeners, the
//! readiness probes, the scheduler, the syncs started by a webhook or by an agent.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

/// `WIF_SHUTDOWN_GRACE`'s default.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(20);

#[derive(Debug, Clone)]
pub struct Shutdown {
    /// When the stop was asked for; `None` while the process serves.
    asked: Arc<watch::Sender<Option<Instant>>>,
    /// The background work under way (jobs, syncs), which the process waits for.
    busy: Arc<watch::Sender<usize>>,
    grace: Duration,
}

/// Background work under way, from `Shutdown::begin_work` until dropped.
#[derive(Debug)]
pub struct Work(Arc<watch::Sender<usize>>);

impl Drop for Work {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n -= 1);
    }
}

impl Shutdown {
    /// Not asked yet; `grace` is the time given to the work under way once it is.
    pub fn new(grace: Duration) -> Shutdown {
        Shutdown {
            asked: Arc::new(watch::channel(None).0),
            busy: Arc::new(watch::channel(0).0),
            grace,
        }
    }

    /// Asks for the stop on Ctrl-C or SIGTERM.
    pub fn on_signals(&self) {
        let this = self.clone();
        tokio::spawn(async move {
            crate::shutdown_signal().await;
            this.ask();
        });
    }

    /// Asks for the stop; the first time counts.
    pub fn ask(&self) {
        self.asked.send_if_modified(|asked| {
            let first = asked.is_none();
            if first {
                *asked = Some(Instant::now());
            }
            first
        });
    }

    pub fn is_asked(&self) -> bool {
        self.asked.borrow().is_some()
    }

    /// Resolves once the stop is asked.
    pub fn asked(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut asked = self.asked.subscribe();
        async move {
            // The sender lives as long as `self`'s clones; dropped, no stop can come.
            if asked.wait_for(Option::is_some).await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }

    /// Counts work that the process must let end before it exits.
    pub fn begin_work(&self) -> Work {
        self.busy.send_modify(|n| *n += 1);
        Work(self.busy.clone())
    }

    /// Once the stop is asked, waits for the work under way until the grace period ends;
    /// whether it all ended.
    pub async fn drain(&self) -> bool {
        self.asked().await;
        let mut busy = self.busy.subscribe();
        tokio::select! {
            // Work that ended counts as ended, even once the grace is over.
            biased;
            _ = busy.wait_for(|n| *n == 0) => true,
            () = self.grace_over() => false,
        }
    }

    /// Resolves when the grace period ends (never before the stop is asked).
    pub fn grace_over(&self) -> impl Future<Output = ()> + Send + 'static {
        let (asked, grace, this) = (self.asked(), self.grace, self.clone());
        async move {
            asked.await;
            let since = (*this.asked.borrow()).unwrap_or_else(Instant::now);
            tokio::time::sleep_until(since + grace).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_grace_runs_from_the_first_ask() {
        let shutdown = Shutdown::new(Duration::from_secs(20));
        assert!(!shutdown.is_asked());
        let over = tokio::spawn(shutdown.grace_over());
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert!(
            !over.is_finished(),
            "no grace runs before the stop is asked"
        );
        shutdown.ask();
        assert!(shutdown.is_asked());
        tokio::time::sleep(Duration::from_secs(15)).await;
        shutdown.ask();
        tokio::time::sleep(Duration::from_secs(4)).await;
        assert!(!over.is_finished(), "a second ask does not move the end");
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(over.is_finished());
    }

    #[tokio::test(start_paused = true)]
    async fn the_stop_waits_for_the_work_within_the_grace() {
        let shutdown = Shutdown::new(Duration::from_secs(20));
        let short = shutdown.begin_work();
        let long = shutdown.begin_work();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(5)).await;
            drop(short);
        });
        shutdown.ask();
        let started = Instant::now();
        assert!(!shutdown.drain().await, "work still under way at the end");
        assert_eq!(started.elapsed(), Duration::from_secs(20));
        drop(long);
        assert!(shutdown.drain().await);
    }

    #[tokio::test]
    async fn clones_share_the_stop() {
        let shutdown = Shutdown::new(DEFAULT_GRACE);
        let asked = tokio::spawn(shutdown.clone().asked());
        shutdown.clone().ask();
        tokio::time::timeout(Duration::from_secs(5), asked)
            .await
            .expect("the stop reaches every clone")
            .unwrap();
    }
}
