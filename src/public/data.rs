//! The exported files as the public service holds them: parsed whole before they replace the
//! previous data, so that no request is ever answered from half a file.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use chrono::NaiveDate;

use crate::domain::validity::ValidityRecord;
use crate::export::{stats, validity_check};

/// The accepted APTs, sorted by DS number. The numbers are also kept apart, packed, with every
/// `STRIDE`-th of them in a summary small enough to stay in the processor's cache: a look-up
/// searches the summary, then one block of numbers, then reads the records it found.
#[derive(Debug, Default)]
pub struct ValidityData {
    ds_ids: Vec<i64>,
    summary: Vec<i64>,
    records: Vec<ValidityRecord>,
}

const STRIDE: usize = 64;

impl ValidityData {
    /// Parses a whole `validity_check.json`; any defect refuses the file.
    pub fn parse(bytes: &[u8]) -> Result<ValidityData, serde_json::Error> {
        let records: Vec<ValidityRecord> = serde_json::from_slice(bytes)?;
        Ok(ValidityData::new(records))
    }

    fn new(mut records: Vec<ValidityRecord>) -> ValidityData {
        records.sort_by_key(|r| r.ds_id);
        let ds_ids: Vec<i64> = records.iter().map(|r| r.ds_id).collect();
        let summary = ds_ids.iter().copied().step_by(STRIDE).collect();
        ValidityData {
            ds_ids,
            summary,
            records,
        }
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The records of `ds_id` with that birth date.
    pub fn find(&self, ds_id: i64, birth_date: NaiveDate) -> impl Iterator<Item = &ValidityRecord> {
        // summary[block - 1] < ds_id <= summary[block]: the first record of `ds_id`, if any, is
        // in the block before, or is the first of `block`.
        let block = self.summary.partition_point(|id| *id < ds_id);
        let from = block.saturating_sub(1) * STRIDE;
        let to = (block * STRIDE).min(self.ds_ids.len());
        let start = from + self.ds_ids[from..to].partition_point(|id| *id < ds_id);
        self.records[start..]
            .iter()
            .take_while(move |r| r.ds_id == ds_id)
            .filter(move |r| r.date_de_naissance == Some(birth_date))
    }
}

/// What the service currently serves; each part is replaced whole.
#[derive(Default)]
pub struct PublicData {
    validity: RwLock<Arc<ValidityData>>,
    stats: RwLock<Option<Arc<[u8]>>>,
}

impl PublicData {
    pub fn validity(&self) -> Arc<ValidityData> {
        self.validity.read().expect("lock never poisoned").clone()
    }

    pub fn stats(&self) -> Option<Arc<[u8]>> {
        self.stats.read().expect("lock never poisoned").clone()
    }

    fn set_validity(&self, data: ValidityData) {
        *self.validity.write().expect("lock never poisoned") = Arc::new(data);
    }

    fn set_stats(&self, bytes: Vec<u8>) {
        *self.stats.write().expect("lock never poisoned") = Some(bytes.into());
    }
}

/// What identifies a version of a file: exports replace it by renaming a new file over it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Signature {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

fn signature(path: &Path) -> Option<Signature> {
    let meta = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0;
    Some(Signature {
        len: meta.len(),
        modified: meta.modified().ok(),
        inode,
    })
}

#[derive(Clone, Copy)]
enum Kind {
    Validity,
    Stats,
}

struct Watched {
    path: PathBuf,
    kind: Kind,
    /// The version last looked at, loaded or refused, so that a bad file is reported once.
    seen: Option<Signature>,
}

impl Watched {
    /// Loads the file if it changed since last time; logs what happened.
    async fn refresh(&mut self, data: &Arc<PublicData>) {
        let current = signature(&self.path);
        if current.is_none() || current == self.seen {
            return;
        }
        self.seen = current;
        let (path, kind, data) = (self.path.clone(), self.kind, data.clone());
        let started = std::time::Instant::now();
        let outcome = tokio::task::spawn_blocking(move || load(&path, kind, &data)).await;
        match outcome {
            Ok(Ok(count)) => tracing::info!(
                file = %self.path.display(),
                records = count,
                duration_ms = started.elapsed().as_millis() as u64,
                "fichier chargé"
            ),
            Ok(Err(error)) => tracing::error!(
                file = %self.path.display(),
                %error,
                "fichier refusé, les données précédentes restent servies"
            ),
            Err(error) => tracing::error!(%error, "chargement interrompu"),
        }
    }
}

fn load(path: &Path, kind: Kind, data: &PublicData) -> Result<usize, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    match kind {
        Kind::Validity => {
            let parsed = ValidityData::parse(&bytes).map_err(|e| e.to_string())?;
            let count = parsed.len();
            data.set_validity(parsed);
            Ok(count)
        }
        Kind::Stats => {
            // Checked whole, then served byte for byte as the export wrote it.
            serde_json::from_slice::<stats::StatsFile>(&bytes).map_err(|e| e.to_string())?;
            data.set_stats(bytes);
            Ok(1)
        }
    }
}

/// Watches the media root: loads both files now, then again whenever one is replaced.
pub struct Watcher {
    files: Vec<Watched>,
    data: Arc<PublicData>,
}

impl Watcher {
    pub fn new(media_root: &Path, data: Arc<PublicData>) -> Watcher {
        let watched = |name: &str, kind| Watched {
            path: media_root.join(name),
            kind,
            seen: None,
        };
        Watcher {
            files: vec![
                watched(validity_check::FILE_NAME, Kind::Validity),
                watched(stats::FILE_NAME, Kind::Stats),
            ],
            data,
        }
    }

    pub async fn refresh(&mut self) {
        for file in &mut self.files {
            file.refresh(&self.data).await;
        }
    }

    /// Checks the files every `interval`, forever.
    pub async fn run(mut self, interval: Duration) {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            self.refresh().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ProcedureKind;

    fn record(ds_id: i64, birth: NaiveDate) -> ValidityRecord {
        ValidityRecord {
            ds_id,
            kind: ProcedureKind::Authorization,
            siret: None,
            prenom: "*m****".into(),
            nom: "*h***".into(),
            date_de_naissance: Some(birth),
            has_expired: false,
            date_de_debut_apt: None,
            date_de_fin_apt: None,
            champs: None,
        }
    }

    #[test]
    fn find_agrees_with_a_plain_scan_around_every_block_boundary() {
        let births = [
            NaiveDate::from_ymd_opt(1990, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(2001, 12, 31).unwrap(),
        ];
        // Gaps, repeated numbers (a dossier with records in two procedures) and both births.
        let mut records = Vec::new();
        for i in 0..1000i64 {
            let ds_id = i * 3 + (i % 7) / 3;
            records.push(record(ds_id, births[(i % 2) as usize]));
            if i % 5 == 0 {
                records.push(record(ds_id, births[0]));
            }
        }
        records.reverse();
        let data = ValidityData::new(records.clone());
        for ds_id in -2..3100 {
            for birth in births {
                let mut expected: Vec<_> = records
                    .iter()
                    .filter(|r| r.ds_id == ds_id && r.date_de_naissance == Some(birth))
                    .collect();
                expected.sort_by_key(|r| r.ds_id);
                let found: Vec<_> = data.find(ds_id, birth).collect();
                assert_eq!(found.len(), expected.len(), "{ds_id} {birth}");
                assert!(found.iter().all(|r| r.ds_id == ds_id));
            }
        }
        assert!(ValidityData::default().find(1, births[0]).next().is_none());
    }
}
