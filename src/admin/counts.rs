//! The lists' counts, kept a minute: one cross-tabulation serves the total and both filters'
//! counts of every status and department selection, so that moving between filters reads only a
//! page of rows. Counts may lag a sync by up to a minute; the rows never do.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::store::StoreError;
use crate::store::dossier_lists::Counts;

const TTL: Duration = Duration::from_secs(60);
/// Beyond this many kept counts (distinct searches and dates), the oldest are dropped.
const CAPACITY: usize = 256;

#[derive(Default)]
pub struct CountsCache {
    entries: Mutex<HashMap<String, (Instant, Arc<Counts>)>>,
}

impl CountsCache {
    /// The counts of `key`, computed by `compute` when missing or older than a minute.
    pub async fn get(
        &self,
        key: String,
        compute: impl Future<Output = Result<Counts, StoreError>>,
    ) -> Result<Arc<Counts>, StoreError> {
        let now = Instant::now();
        if let Some((at, counts)) = self.lock().get(&key)
            && now.duration_since(*at) < TTL
        {
            return Ok(counts.clone());
        }
        let counts = Arc::new(compute.await?);
        let mut entries = self.lock();
        if entries.len() >= CAPACITY {
            entries.retain(|_, (at, _)| now.duration_since(*at) < TTL);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(key, (now, counts.clone()));
        Ok(counts)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Arc<Counts>)>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
