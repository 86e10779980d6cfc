//! The lists' counts, kept a minute: one cross-tabulation serves the total and both filters'
//! counts of every status and department selection, so that moving between filters reads only a
//! page of rows. Counts may lag a sync by up to a minute; the rows never do.
//!
//! A count older than a minute is still answered while a background task computes the new one,
//! so that no agent waits for a recount; one older than `STALE_LIMIT` is recomputed before
//! answering.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::store::StoreError;
use crate::store::dossier_lists::Counts;

const TTL: Duration = Duration::from_secs(60);
const STALE_LIMIT: Duration = Duration::from_secs(600);
/// Beyond this many kept counts (distinct searches and dates), the oldest are dropped.
const CAPACITY: usize = 256;

struct Entry<T> {
    at: Instant,
    counts: Arc<T>,
    refreshing: bool,
}

/// Counts of type `T`: the dossiers lists' cross-tabulations, or the alerts' per rule.
pub struct CountsCache<T = Counts> {
    entries: Mutex<HashMap<String, Entry<T>>>,
    ttl: Duration,
    stale_limit: Duration,
}

impl<T: Send + Sync + 'static> Default for CountsCache<T> {
    fn default() -> Self {
        CountsCache::new(TTL, STALE_LIMIT)
    }
}

impl<T: Send + Sync + 'static> CountsCache<T> {
    fn new(ttl: Duration, stale_limit: Duration) -> CountsCache<T> {
        CountsCache {
            entries: Mutex::default(),
            ttl,
            stale_limit,
        }
    }

    /// The counts of `key`, computed by `compute` when missing or too old; refreshed in the
    /// background when merely older than a minute.
    pub async fn get(
        self: &Arc<Self>,
        key: String,
        compute: impl Future<Output = Result<T, StoreError>> + Send + 'static,
    ) -> Result<Arc<T>, StoreError> {
        let now = Instant::now();
        if let Some(entry) = self.lock().get_mut(&key) {
            let age = now.duration_since(entry.at);
            if age < self.ttl {
                return Ok(entry.counts.clone());
            }
            if age < self.stale_limit {
                if !entry.refreshing {
                    entry.refreshing = true;
                    tokio::spawn(self.clone().refresh(key, compute));
                }
                return Ok(entry.counts.clone());
            }
        }
        let counts = Arc::new(compute.await?);
        self.insert(key, counts.clone());
        Ok(counts)
    }

    async fn refresh(
        self: Arc<Self>,
        key: String,
        compute: impl Future<Output = Result<T, StoreError>>,
    ) {
        match compute.await {
            Ok(counts) => self.insert(key, Arc::new(counts)),
            Err(error) => {
                tracing::warn!(%error, "recalcul des effectifs impossible");
                if let Some(entry) = self.lock().get_mut(&key) {
                    entry.refreshing = false;
                }
            }
        }
    }

    fn insert(&self, key: String, counts: Arc<T>) {
        let now = Instant::now();
        let mut entries = self.lock();
        if entries.len() >= CAPACITY {
            entries.retain(|_, e| now.duration_since(e.at) < self.ttl);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        let entry = Entry {
            at: now,
            counts,
            refreshing: false,
        };
        entries.insert(key, entry);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry<T>>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counted(
        calls: &Arc<Mutex<u32>>,
    ) -> impl Future<Output = Result<Counts, StoreError>> + use<> {
        let calls = calls.clone();
        async move {
            *calls.lock().unwrap() += 1;
            Ok(Counts::default())
        }
    }

    #[tokio::test]
    async fn fresh_counts_are_kept_a_while() {
        let cache = Arc::new(CountsCache::new(Duration::from_secs(60), STALE_LIMIT));
        let calls = Arc::new(Mutex::new(0));
        let first = cache.get("k".into(), counted(&calls)).await.unwrap();
        let again = cache.get("k".into(), counted(&calls)).await.unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(*calls.lock().unwrap(), 1);
        let other = cache.get("other".into(), counted(&calls)).await.unwrap();
        assert!(!Arc::ptr_eq(&first, &other));
    }

    #[tokio::test]
    async fn old_counts_are_answered_while_recomputed_in_the_background() {
        let cache = Arc::new(CountsCache::new(Duration::ZERO, Duration::from_secs(3600)));
        let calls = Arc::new(Mutex::new(0));
        let first = cache.get("k".into(), counted(&calls)).await.unwrap();
        let stale = cache
            .get("k".into(), std::future::pending())
            .await
            .expect("the old counts, without waiting");
        assert!(Arc::ptr_eq(&first, &stale));
        // The recount never ends: no second recount starts meanwhile.
        let still = cache.get("k".into(), counted(&calls)).await.unwrap();
        assert!(Arc::ptr_eq(&first, &still));
        assert_eq!(*calls.lock().unwrap(), 1);
    }

    #[tokio::test]
    async fn a_background_recount_replaces_the_old_counts() {
        let cache = Arc::new(CountsCache::new(Duration::ZERO, Duration::from_secs(3600)));
        let calls = Arc::new(Mutex::new(0));
        let first = cache.get("k".into(), counted(&calls)).await.unwrap();
        cache.get("k".into(), counted(&calls)).await.unwrap();
        for _ in 0..100 {
            if *calls.lock().unwrap() == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::task::yield_now().await;
        let later = cache.get("k".into(), counted(&calls)).await.unwrap();
        assert!(
            !Arc::ptr_eq(&first, &later),
            "the recount's result is answered"
        );
    }

    #[tokio::test]
    async fn counts_too_old_are_recomputed_before_answering() {
        let cache = Arc::new(CountsCache::new(Duration::ZERO, Duration::ZERO));
        let calls = Arc::new(Mutex::new(0));
        let first = cache.get("k".into(), counted(&calls)).await.unwrap();
        let second = cache.get("k".into(), counted(&calls)).await.unwrap();
        assert!(!Arc::ptr_eq(&first, &second));
        assert_eq!(*calls.lock().unwrap(), 2);
    }
}
