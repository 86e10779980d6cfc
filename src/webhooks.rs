//! Real-time updates from DS (SPEC 12): what a webhook delivery leads to. The receiver records
//! the events once per (démarche, sequence) and, when one is new, asks the syncer for a pass; the
//! syncer waits `WIF_DS_WEBHOOK_DEBOUNCE`, folds every request that came meanwhile into one
//! incremental sync of the démarche (the code and lock of `sync-dossiers`), then exports
//! `validity_check.json` again and re-evaluates the alerts when the pass changed anything.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use indicatif::ProgressBar;
use tokio::sync::mpsc;

use crate::config::{Secret, Settings};
use crate::domain::webhook::{Delivery, Signature, check_signature};
use crate::ds::RetryPolicy;
use crate::export::{Output, validity_check};
use crate::shutdown::Shutdown;
use crate::store::{Db, StoreError, webhook_events};
use crate::sync::{self, SyncError, SyncOptions};

/// The largest body accepted (DS sends at most 100 small events).
pub const MAX_BODY: usize = 1 << 20;

/// How long a pass waits for a sync running elsewhere (scheduled, another instance) to end.
const LOCK_PATIENCE: Duration = Duration::from_secs(15 * 60);

/// Why a delivery was refused, as counted in the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rejection {
    MissingSignature,
    WrongSignature,
    TooLarge,
    Malformed,
    DatabaseDown,
}

impl Rejection {
    pub fn as_str(self) -> &'static str {
        match self {
            Rejection::MissingSignature => "missing_signature",
            Rejection::WrongSignature => "wrong_signature",
            Rejection::TooLarge => "too_large",
            Rejection::Malformed => "malformed",
            Rejection::DatabaseDown => "database_down",
        }
    }

    /// In the Synchronisation page's words.
    pub fn label(self) -> &'static str {
        match self {
            Rejection::MissingSignature => "signature absente",
            Rejection::WrongSignature => "signature invalide",
            Rejection::TooLarge => "corps trop long",
            Rejection::Malformed => "corps illisible",
            Rejection::DatabaseDown => "base de données indisponible",
        }
    }
}

/// What the receiver did with a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Recorded; `new` events were not seen before.
    Accepted {
        new: u64,
    },
    /// A démarche this back office does not sync.
    Ignored {
        procedure_id: i64,
    },
    Refused(Rejection),
}

/// Counters for `/metrics` and the Synchronisation page, since the process started.
#[derive(Default)]
pub struct Activity {
    events: Mutex<BTreeMap<String, u64>>,
    rejections: Mutex<BTreeMap<Rejection, u64>>,
    last_rejection: Mutex<Option<(DateTime<Utc>, Rejection)>>,
    /// Passes the syncer ran.
    pub passes: AtomicU64,
    /// Deliveries that asked the syncer for a pass, and those of them that ended passes served.
    requested: AtomicU64,
    served: AtomicU64,
}

impl Activity {
    pub fn events(&self) -> BTreeMap<String, u64> {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn rejections(&self) -> BTreeMap<Rejection, u64> {
        self.rejections
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn last_rejection(&self) -> Option<(DateTime<Utc>, Rejection)> {
        *self
            .last_rejection
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Whether every pass asked for so far has run to its end: none is due until a delivery
    /// brings a new event.
    pub fn settled(&self) -> bool {
        self.served.load(Ordering::SeqCst) == self.requested.load(Ordering::SeqCst)
    }

    fn refused(&self, rejection: Rejection) {
        *self
            .rejections
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(rejection)
            .or_default() += 1;
        *self
            .last_rejection
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some((Utc::now(), rejection));
    }
}

/// The receiving end of `POST /webhooks/ds`, shared by the admin's handlers.
pub struct Receiver {
    secrets: Vec<Secret>,
    procedure_ids: Vec<i64>,
    passes: mpsc::UnboundedSender<i64>,
    pub activity: std::sync::Arc<Activity>,
}

impl Receiver {
    /// A receiver whose passes run on a syncer of its own (see `start_syncer`); `None` when
    /// `WIF_DS_WEBHOOK_SECRETS` is unset.
    pub fn start(db: &Db, settings: &Settings, shutdown: &Shutdown) -> Option<Receiver> {
        if settings.webhook_secrets.is_empty() {
            return None;
        }
        let activity = std::sync::Arc::new(Activity::default());
        let passes = start_syncer(
            db.clone(),
            settings.clone(),
            activity.clone(),
            shutdown.clone(),
        );
        Some(Receiver {
            secrets: settings.webhook_secrets.clone(),
            procedure_ids: settings.ds.procedure_ids.clone(),
            passes,
            activity,
        })
    }

    /// Checks, records and acts on one delivery: `body` is the raw body (already cut at
    /// `MAX_BODY`, `too_large` when it was longer), `signature` the header's value.
    pub async fn receive(
        &self,
        db: &Db,
        body: &[u8],
        too_large: bool,
        signature: Option<&str>,
    ) -> Outcome {
        let refuse = |rejection| {
            self.activity.refused(rejection);
            tracing::warn!(reason = rejection.as_str(), "webhook DS refusé");
            Outcome::Refused(rejection)
        };
        if too_large {
            return refuse(Rejection::TooLarge);
        }
        let secrets: Vec<&str> = self.secrets.iter().map(Secret::expose).collect();
        match check_signature(body, signature, &secrets) {
            Signature::Missing => return refuse(Rejection::MissingSignature),
            Signature::Wrong => return refuse(Rejection::WrongSignature),
            Signature::Valid(_) => {}
        }
        let delivery = match Delivery::parse(body) {
            Ok(delivery) => delivery,
            Err(reason) => {
                tracing::warn!(%reason, "webhook DS illisible");
                return refuse(Rejection::Malformed);
            }
        };
        if !self.procedure_ids.contains(&delivery.procedure_id) {
            tracing::info!(
                procedure = delivery.procedure_id,
                "webhook DS d'une démarche non synchronisée : ignoré"
            );
            return Outcome::Ignored {
                procedure_id: delivery.procedure_id,
            };
        }
        let new =
            match webhook_events::record(db, delivery.procedure_id, &delivery.events, Utc::now())
                .await
            {
                Ok(new) => new,
                Err(error) => {
                    tracing::error!(%error, "webhook DS non enregistré : DS le renverra");
                    return refuse(Rejection::DatabaseDown);
                }
            };
        {
            let mut events = self
                .activity
                .events
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            for event in &delivery.events {
                *events.entry(event.event_type.clone()).or_default() += 1;
            }
        }
        if new > 0 {
            self.activity.requested.fetch_add(1, Ordering::SeqCst);
            let _ = self.passes.send(delivery.procedure_id);
        }
        tracing::info!(
            procedure = delivery.procedure_id,
            events = delivery.events.len(),
            new,
            "webhook DS reçu"
        );
        Outcome::Accepted { new }
    }
}

/// Starts the syncer on the server's runtime and pool. Returns where to ask for a pass.
fn start_syncer(
    db: Db,
    settings: Settings,
    activity: std::sync::Arc<Activity>,
    shutdown: Shutdown,
) -> mpsc::UnboundedSender<i64> {
    let (sender, receiver) = mpsc::unbounded_channel();
    tokio::spawn(async move { run_syncer(&db, &settings, &activity, receiver, &shutdown).await });
    sender
}

/// Waits for a request, lets `WIF_DS_WEBHOOK_DEBOUNCE` pass, then runs one pass per démarche
/// asked for meanwhile. Requests that arrive during a pass lead to exactly one more.
async fn run_syncer(
    db: &Db,
    settings: &Settings,
    activity: &Activity,
    mut requests: mpsc::UnboundedReceiver<i64>,
    shutdown: &Shutdown,
) {
    // No pass starts once the instance stops: the next sync, here or on another instance, reads
    // the changes; a pass under way stops after the page it is storing.
    loop {
        let first = tokio::select! {
            first = requests.recv() => match first {
                Some(first) => first,
                None => return,
            },
            () = shutdown.asked() => return,
        };
        tokio::select! {
            () = tokio::time::sleep(settings.webhook_debounce) => {}
            () = shutdown.asked() => return,
        }
        let _work = shutdown.begin_work();
        let mut procedures = BTreeSet::from([first]);
        let mut asked = 1;
        while let Ok(more) = requests.try_recv() {
            procedures.insert(more);
            asked += 1;
        }
        for procedure in procedures {
            if shutdown.is_asked() {
                return;
            }
            activity.passes.fetch_add(1, Ordering::Relaxed);
            if let Err(error) = pass(db, settings, procedure, shutdown).await {
                tracing::error!(procedure, %error, "synchronisation par webhook échouée");
            }
        }
        activity.served.fetch_add(asked, Ordering::SeqCst);
    }
}

#[derive(Debug, thiserror::Error)]
enum PassError {
    #[error(transparent)]
    Sync(#[from] SyncError),
    #[error(transparent)]
    Export(#[from] crate::export::ExportError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One incremental sync of `procedure`, waiting for a sync running elsewhere to end (it may have
/// started before the change); then the export and the alerts, when it stored a change.
async fn pass(
    db: &Db,
    settings: &Settings,
    procedure: i64,
    shutdown: &Shutdown,
) -> Result<(), PassError> {
    let options = SyncOptions {
        full: false,
        procedure: Some(procedure),
    };
    let waited = tokio::time::Instant::now();
    let report = loop {
        let hidden = ProgressBar::hidden();
        match sync::run(
            db,
            &settings.ds,
            RetryPolicy::default(),
            &options,
            &hidden,
            shutdown.asked(),
        )
        .await
        {
            Err(SyncError::AlreadyRunning { .. })
                if waited.elapsed() < LOCK_PATIENCE && !shutdown.is_asked() =>
            {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            other => break other?,
        }
    };
    let total = report.total();
    tracing::info!(
        procedure,
        created = total.created,
        updated = total.updated,
        "synchronisation par webhook terminée"
    );
    if total.created + total.updated + total.marked_deleted == 0 {
        return Ok(());
    }
    let now = Utc::now();
    let output = Output::choose(None, &settings.media_root, validity_check::FILE_NAME);
    validity_check::export(
        db,
        &output,
        now.with_timezone(&settings.time_zone).date_naive(),
    )
    .await?;
    crate::alerts::evaluate(db, &settings.alert_rules, now).await?;
    Ok(())
}
