//! The sync engine (SPEC section 4): DS -> `domain` -> `store`, one démarche at a time, under a
//! lock that keeps two syncs from running at once, even from two processes.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use futures_util::future::OptionFuture;
use futures_util::{StreamExt, stream};
use indicatif::ProgressBar;

use crate::config::DsSettings;
use crate::domain::{ApiVersion, Dossier, DossierError, DsId};
use crate::ds::{DsClient, DsError, RetryPolicy, v1, v2};
use crate::store::sync_runs::{self, Counters};
use crate::store::sync_state::{self, Pass};
use crate::store::{Db, StoreError, dossiers, locks};

const LOCK: &str = "sync";
/// A killed sync's lock is free again after this; a live one renews it well before.
const LOCK_TTL: Duration = Duration::from_secs(30);
/// v1 details fetched at once.
const CONCURRENCY: usize = 8;
/// v2 asks for what changed since the last pass began, less this margin, in case DS's clock and
/// ours differ a little: a dossier read twice is simply found unchanged.
const SINCE_MARGIN: chrono::Duration = chrono::Duration::minutes(1);
/// Dossiers stored per transaction.
const BATCH: usize = 100;
/// Once asked to stop, how long the sync may take to store the page under way.
const PAGE_PATIENCE: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Default)]
pub struct SyncOptions {
    /// Re-read everything, ignoring what is stored.
    pub full: bool,
    /// Only this démarche, instead of every configured one.
    pub procedure: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("DEMARCHES_SIMPLIFIEES_API_TOKEN est vide : indiquez le jeton de l'API de DS")]
    MissingToken,
    #[error(
        "aucune démarche à synchroniser : indiquez son numéro dans DEMARCHES_SIMPLIFIEES_PROCEDURE_ID_APT"
    )]
    NoProcedure,
    #[error("une synchronisation est déjà en cours ({holder}) : réessayez après {until}")]
    AlreadyRunning { holder: String, until: String },
    #[error(
        "synchronisation interrompue : les dossiers déjà lus sont enregistrés, la prochaine reprendra la suite"
    )]
    Interrupted,
    #[error(transparent)]
    Ds(#[from] DsError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a whole sync did, démarche by démarche.
#[derive(Debug, Default)]
pub struct Report {
    pub procedures: Vec<(i64, Counters)>,
    pub duration: Duration,
}

impl Report {
    /// The counters of every démarche added up.
    pub fn total(&self) -> Counters {
        let mut total = Counters::default();
        for (_, c) in &self.procedures {
            total.requests += c.requests;
            total.pages += c.pages;
            total.seen += c.seen;
            total.created += c.created;
            total.updated += c.updated;
            total.unchanged += c.unchanged;
            total.skipped += c.skipped;
            total.marked_deleted += c.marked_deleted;
            total
                .skipped_details
                .extend(c.skipped_details.iter().cloned());
        }
        total
    }
}

/// Holds the sync lock. A finished or failed sync gives it back with `release`; a cancelled one
/// (its future dropped) gives it back from `Drop`. A killed process cannot: its lock expires after
/// `LOCK_TTL`.
struct LockGuard {
    db: Db,
    /// Empty once released.
    holder: String,
    heartbeat: tokio::task::JoinHandle<()>,
}

impl LockGuard {
    async fn acquire(db: &Db) -> Result<LockGuard, SyncError> {
        static RUNS: AtomicU64 = AtomicU64::new(0);
        let holder = format!(
            "processus {}, synchronisation {}",
            std::process::id(),
            RUNS.fetch_add(1, Ordering::Relaxed) + 1
        );
        if !locks::try_acquire(db, LOCK, &holder, lock_ttl(), Utc::now()).await? {
            let (holder, until) = locks::holder(db, LOCK)
                .await?
                .unwrap_or_else(|| ("?".into(), Utc::now()));
            return Err(SyncError::AlreadyRunning {
                holder,
                until: until.format("%d/%m/%Y %H:%M:%S UTC").to_string(),
            });
        }
        let heartbeat = tokio::spawn(renew_lock(db.clone(), holder.clone()));
        Ok(LockGuard {
            db: db.clone(),
            holder,
            heartbeat,
        })
    }

    async fn release(mut self) -> Result<(), SyncError> {
        self.heartbeat.abort();
        let holder = std::mem::take(&mut self.holder);
        locks::release(&self.db, LOCK, &holder).await?;
        Ok(())
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        self.heartbeat.abort();
        let (db, holder) = (self.db.clone(), std::mem::take(&mut self.holder));
        if holder.is_empty() {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(error) = locks::release(&db, LOCK, &holder).await {
                    tracing::warn!(%error, "libération du verrou de synchronisation impossible");
                }
            });
        }
    }
}

/// Syncs every configured démarche (or `options.procedure`), until done or until `stop`
/// completes. Each démarche's run is recorded in `sync_runs`; what was stored before a failure
/// or a stop stays stored.
pub async fn run(
    db: &Db,
    settings: &DsSettings,
    retry: RetryPolicy,
    options: &SyncOptions,
    progress: &ProgressBar,
    stop: impl Future<Output = ()>,
) -> Result<Report, SyncError> {
    let token = settings.token.clone().ok_or(SyncError::MissingToken)?;
    let procedures = match options.procedure {
        Some(id) => vec![id],
        None => settings.procedure_ids.clone(),
    };
    if procedures.is_empty() {
        return Err(SyncError::NoProcedure);
    }
    let lock = LockGuard::acquire(db).await?;
    let client = DsClient::new(settings, token, retry);
    let stopping = AtomicBool::new(false);
    let work = run_locked(
        db,
        settings,
        client,
        &procedures,
        options,
        progress,
        &stopping,
    );
    tokio::pin!(work);
    let report = tokio::select! {
        report = &mut work => report,
        () = stop => {
            // The page being stored ends, with its cursor, and the run is closed as interrupted;
            // a page that takes too long (DS slow to answer) is dropped, its transaction rolled
            // back: the next run reads it again.
            stopping.store(true, Ordering::Relaxed);
            match tokio::time::timeout(PAGE_PATIENCE, &mut work).await {
                Ok(report) => report,
                Err(_) => {
                    sync_runs::mark_interrupted(db).await?;
                    Err(SyncError::Interrupted)
                }
            }
        }
    };
    lock.release().await?;
    report
}

/// What the sync of every démarche works with.
#[derive(Clone, Copy)]
struct Work<'a> {
    db: &'a Db,
    client: &'a DsClient,
    progress: &'a ProgressBar,
    /// Set when the sync is asked to stop after the page under way.
    stopping: &'a AtomicBool,
}

/// Stops the sync with `SyncError::Interrupted` if it was asked to.
fn check_stop(stopping: &AtomicBool) -> Result<(), SyncError> {
    match stopping.load(Ordering::Relaxed) {
        true => Err(SyncError::Interrupted),
        false => Ok(()),
    }
}

fn lock_ttl() -> chrono::Duration {
    chrono::Duration::from_std(LOCK_TTL).expect("a short duration")
}

async fn renew_lock(db: Db, holder: String) {
    loop {
        tokio::time::sleep(LOCK_TTL / 4).await;
        if let Err(error) = locks::try_acquire(&db, LOCK, &holder, lock_ttl(), Utc::now()).await {
            tracing::warn!(%error, "renouvellement du verrou de synchronisation impossible");
        }
    }
}

async fn run_locked(
    db: &Db,
    settings: &DsSettings,
    client: DsClient,
    procedures: &[i64],
    options: &SyncOptions,
    progress: &ProgressBar,
    stopping: &AtomicBool,
) -> Result<Report, SyncError> {
    let started = Instant::now();
    sync_runs::mark_interrupted(db).await?;
    let mut report = Report::default();
    let work = Work {
        db,
        client: &client,
        progress,
        stopping,
    };
    for &procedure in procedures {
        check_stop(stopping)?;
        let run_id = sync_runs::start(db, procedure, settings.api_version).await?;
        let mut counters = Counters::default();
        let requests_before = client.requests();
        progress.set_message(format!("démarche {procedure}"));
        let outcome = match settings.api_version {
            ApiVersion::V1 => sync_v1(work, procedure, options.full, &mut counters, run_id).await,
            ApiVersion::V2 => sync_v2(work, procedure, options.full, &mut counters, run_id).await,
        };
        counters.requests = client.requests() - requests_before;
        let error = outcome.as_ref().err().map(ToString::to_string);
        sync_runs::finish(db, run_id, &counters, error.as_deref()).await?;
        report.procedures.push((procedure, counters));
        outcome?;
    }
    report.duration = started.elapsed();
    Ok(report)
}

/// v1: the whole list, then the detail of each dossier new or updated since it was stored.
async fn sync_v1(
    work: Work<'_>,
    procedure: i64,
    full: bool,
    counters: &mut Counters,
    run_id: i64,
) -> Result<(), SyncError> {
    let Work {
        db,
        client,
        progress,
        stopping,
    } = work;
    let mut listed = Vec::new();
    let mut page = 1;
    loop {
        let (items, pages) = v1::list_page(client, procedure, page).await?;
        counters.pages += 1;
        let last = items.is_empty() || page >= pages;
        listed.extend(items);
        progress.set_message(format!("démarche {procedure} : liste, page {page}/{pages}"));
        if last {
            break;
        }
        check_stop(stopping)?;
        page += 1;
    }
    counters.seen = listed.len() as u64;

    let stored = dossiers::updated_at_by_ds_id(db, procedure).await?;
    let to_fetch: Vec<i64> = listed
        .iter()
        .filter(|l| {
            full || match stored.get(&l.id) {
                None => true,
                Some(old) => l.updated_at.is_none() || l.updated_at > *old,
            }
        })
        .map(|l| l.id)
        .collect();
    counters.unchanged += (listed.len() - to_fetch.len()) as u64;
    progress.set_length(to_fetch.len() as u64);
    progress.set_position(0);
    progress.set_message(format!("démarche {procedure} : dossiers"));

    for chunk in to_fetch.chunks(BATCH) {
        // The requests are made before they are streamed: a closure that borrows the client
        // inside the stream would make the sync's future not `Send` (rust-lang/rust#102211).
        let requests: Vec<_> = chunk
            .iter()
            .map(|&id| async move { (id, v1::dossier(client, procedure, id).await) })
            .collect();
        let fetched: Vec<(i64, Result<Option<serde_json::Value>, DsError>)> =
            stream::iter(requests)
                .buffer_unordered(CONCURRENCY)
                .collect()
                .await;
        let mut documents = Vec::with_capacity(fetched.len());
        for (_, result) in fetched {
            // A dossier removed between the list and its detail is simply not stored.
            documents.extend(result?);
        }
        store(db, procedure, documents, Dossier::from_v1, counters).await?;
        // Kept as it goes, so that a killed process leaves true figures behind.
        sync_runs::record_progress(db, run_id, counters).await?;
        progress.inc(chunk.len() as u64);
        log_progress(progress, procedure, chunk.len() as u64);
        // Stopped here, the next run fetches only what is not stored yet.
        check_stop(stopping)?;
    }

    // The list was read to its end: what it no longer shows is gone from DS.
    let listed_ids: HashSet<i64> = listed.iter().map(|l| l.id).collect();
    let gone: Vec<DsId> = dossiers::present_ds_ids(db, procedure)
        .await?
        .into_iter()
        .filter(|id| !listed_ids.contains(id))
        .filter_map(DsId::new)
        .collect();
    counters.marked_deleted += dossiers::mark_deleted_on_ds(db, &gone, Utc::now()).await?;
    Ok(())
}

/// v2: the dossiers updated since the last complete pass, page by page, the cursor saved after
/// each stored page; then the dossiers DS deleted meanwhile.
async fn sync_v2(
    work: Work<'_>,
    procedure: i64,
    full: bool,
    counters: &mut Counters,
    run_id: i64,
) -> Result<(), SyncError> {
    let Work {
        db,
        client,
        progress,
        stopping,
    } = work;
    let now = Utc::now();
    let pass = match sync_state::unfinished(db, procedure).await? {
        Some(pass) if !full => {
            tracing::info!(procedure, "reprise de la synchronisation interrompue");
            pass
        }
        _ => {
            let since = match full {
                true => None,
                false => sync_state::last_success(db, procedure)
                    .await?
                    .map(|t| t - SINCE_MARGIN),
            };
            sync_state::begin(db, procedure, since, now).await?;
            Pass {
                since,
                cursor: None,
            }
        }
    };
    progress.set_position(0);
    let since = pass.since;
    let fetch = |after: Option<String>| async move {
        v2::dossiers_page(client, procedure, since, after.as_deref()).await
    };
    let mut page = fetch(pass.cursor).await?;
    loop {
        counters.pages += 1;
        let read = page.nodes.len() as u64;
        counters.seen += read;
        // The next page is on its way while this one is stored.
        let next: OptionFuture<_> = page
            .has_next_page
            .then(|| fetch(page.end_cursor.clone()))
            .into();
        let end = page.end_cursor;
        let store_then_save = async {
            store(db, procedure, page.nodes, Dossier::from_v2, counters).await?;
            if let Some(end) = &end {
                sync_state::save_cursor(db, procedure, end).await?;
            }
            // After the cursor: a run stopped here resumes after the page it stored.
            sync_runs::record_progress(db, run_id, counters).await?;
            Ok::<_, SyncError>(())
        };
        let (stored, next) = tokio::join!(store_then_save, next);
        stored?;
        // Stopped here, the next run resumes after this page.
        check_stop(stopping)?;
        // DS does not say how many dossiers will come: the bar grows with each page.
        progress.inc_length(read);
        progress.inc(read);
        progress.set_message(format!("démarche {procedure} : page {}", counters.pages));
        log_progress(progress, procedure, read);
        match next {
            Some(next) => page = next?,
            None => break,
        }
    }

    let gone: Vec<DsId> = v2::deleted_numbers(client, procedure, pass.since)
        .await?
        .into_iter()
        .filter_map(DsId::new)
        .collect();
    counters.marked_deleted += dossiers::mark_deleted_on_ds(db, &gone, now).await?;
    sync_state::complete(db, procedure).await?;
    Ok(())
}

/// Reads DS documents as dossiers and stores them in one transaction; a document that cannot be
/// read is skipped and reported, the others are stored.
async fn store(
    db: &Db,
    procedure: i64,
    documents: Vec<serde_json::Value>,
    read: fn(i64, serde_json::Value) -> Result<Dossier, DossierError>,
    counters: &mut Counters,
) -> Result<(), SyncError> {
    // Reading a page is CPU work: done beside the runtime, while the next page downloads.
    let read_page =
        move || -> Vec<_> { documents.into_iter().map(|d| read(procedure, d)).collect() };
    let results = tokio::task::spawn_blocking(read_page)
        .await
        .unwrap_or_else(|error| std::panic::resume_unwind(error.into_panic()));
    let mut batch = Vec::with_capacity(results.len());
    for result in results {
        match result {
            Ok(dossier) => batch.push(dossier),
            Err(error) => {
                let reason = error.to_string();
                tracing::warn!(%reason, "dossier ignoré");
                counters.skipped += 1;
                counters.skipped_details.push(reason);
            }
        }
    }
    let done = dossiers::upsert(db, &batch).await?;
    counters.created += done.created;
    counters.updated += done.updated;
    counters.unchanged += done.unchanged;
    Ok(())
}

/// Off a terminal the bar is hidden: progress goes to the log instead, every thousand dossiers
/// and at the end.
fn log_progress(progress: &ProgressBar, procedure: i64, added: u64) {
    let (done, total) = (progress.position(), progress.length());
    let thousands_crossed = done / 1000 != done.saturating_sub(added) / 1000;
    if progress.is_hidden() && (thousands_crossed || Some(done) == total) {
        tracing::info!(procedure, done, total, "dossiers lus");
    }
}

/// The sync's future is `Send`, checked here at compile time: `serve`'s scheduler, « Synchroniser
/// maintenant » and the webhooks run it with `tokio::spawn` on the one runtime and pool.
const _: () = {
    fn assert_send<T: Send>(_: &T) {}
    #[allow(dead_code)]
    fn sync_is_send(db: &Db, settings: &DsSettings, options: &SyncOptions, progress: &ProgressBar) {
        let stop = std::future::pending::<()>();
        assert_send(&run(
            db,
            settings,
            RetryPolicy::default(),
            options,
            progress,
            stop,
        ));
    }
};
