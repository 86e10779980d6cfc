//! The jobs `wif serve` runs by itself (SPEC 8), replacing the seed's crontab: the sync then the
//! validity-check export and the alerts (`WIF_SYNC_SCHEDULE`), the stats export
//! (`WIF_STATS_SCHEDULE`), the alerts' e-mails (`WIF_ALERTS_SCHEDULE`) and the monthly reports
//! (`WIF_REPORTS_SCHEDULE`), the erasure of personal data past their time
//! (`WIF_PURGE_SCHEDULE`), in
//! `WIF_TIME_ZONE`. Each scheduled time is claimed in the database, so that several instances run
//! it once. A failure is recorded and logged; the job runs again at its next time. A job under
//! way says it is alive every `HEARTBEAT`: the run of an instance killed meanwhile is closed as
//! interrupted by the next claim of that job.

use std::time::Duration;

use chrono::{DateTime, Utc};
use indicatif::ProgressBar;

use crate::alerts::{self, DigestContext};
use crate::config::Settings;
use crate::domain::cron::Schedule;
use crate::domain::report::Month;
use crate::ds::RetryPolicy;
use crate::export::{Output, stats, validity_check};
use crate::mail::Mailer;
use crate::reports;
use crate::shutdown::Shutdown;
use crate::store::{Db, job_runs};
use crate::sync::{self, SyncOptions};

/// How often a job under way says it is alive.
const HEARTBEAT: Duration = Duration::from_secs(5);
/// A run silent for this long lost its instance.
const ABANDONED_AFTER: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// A sync, then the validity-check export.
    Sync,
    /// The stats export.
    Stats,
    /// The alerts' evaluation, then their e-mail digests.
    Alerts,
    /// The previous month's reports, e-mailed.
    Reports,
    /// The erasure of the personal data past their time.
    Purge,
}

impl JobKind {
    pub fn name(self) -> &'static str {
        match self {
            JobKind::Sync => "sync",
            JobKind::Stats => "stats",
            JobKind::Alerts => "alerts",
            JobKind::Reports => "reports",
            JobKind::Purge => "purge",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            JobKind::Sync => "Synchronisation puis export validity_check.json",
            JobKind::Stats => "Export stats.json",
            JobKind::Alerts => "Évaluation des alertes puis e-mails aux instructeurs",
            JobKind::Reports => "Rapports mensuels du mois précédent par e-mail",
            JobKind::Purge => "Effacement des données personnelles échues",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Job {
    pub kind: JobKind,
    pub schedule: Schedule,
}

/// The jobs the settings turn on.
pub fn jobs(settings: &Settings) -> Vec<Job> {
    [
        (JobKind::Sync, &settings.sync_schedule),
        (JobKind::Stats, &settings.stats_schedule),
        (JobKind::Alerts, &settings.alerts_schedule),
        (JobKind::Reports, &settings.reports_schedule),
        (JobKind::Purge, &settings.purge_schedule),
    ]
    .into_iter()
    .filter_map(|(kind, schedule)| schedule.clone().map(|schedule| Job { kind, schedule }))
    .collect()
}

/// Runs `jobs` at their times until the stop is asked: no job starts after that, and a sync
/// under way stops after the page it is storing (SPEC 16).
pub async fn run(db: Db, settings: Settings, jobs: Vec<Job>, shutdown: Shutdown) {
    let holder = format!("processus {}", std::process::id());
    for job in &jobs {
        if let Some(next) = job.schedule.next_after(Utc::now(), settings.time_zone) {
            tracing::info!(
                job = job.kind.name(),
                schedule = job.schedule.as_str(),
                next = %next.with_timezone(&settings.time_zone),
                "tâche planifiée"
            );
        }
    }
    let loops = jobs
        .into_iter()
        .map(|job| job_loop(&db, &settings, job, &holder, &shutdown));
    futures_util::future::join_all(loops).await;
}

async fn job_loop(db: &Db, settings: &Settings, job: Job, holder: &str, shutdown: &Shutdown) {
    loop {
        let Some(due) = job.schedule.next_after(Utc::now(), settings.time_zone) else {
            tracing::warn!(
                job = job.kind.name(),
                "cette planification ne se déclenche jamais"
            );
            return;
        };
        tokio::select! {
            biased;
            () = shutdown.asked() => return,
            () = sleep_until(due) => {}
        }
        let _work = shutdown.begin_work();
        match claim(db, job.kind, due, holder).await {
            Ok(true) => run_claimed(db, settings, job.kind, due, shutdown.asked()).await,
            Ok(false) => {
                tracing::info!(job = job.kind.name(), "déjà lancée par une autre instance")
            }
            Err(error) => tracing::error!(job = job.kind.name(), %error, "tâche non lancée"),
        }
    }
}

/// Claims `kind` at `due` for this instance, after closing the runs of `kind` whose instance
/// stopped saying it was alive.
async fn claim(
    db: &Db,
    kind: JobKind,
    due: DateTime<Utc>,
    holder: &str,
) -> Result<bool, crate::store::StoreError> {
    let now = Utc::now();
    let silent_since = now - chrono::Duration::from_std(ABANDONED_AFTER).expect("a short duration");
    let closed = job_runs::close_abandoned(db, kind.name(), silent_since, now).await?;
    if closed > 0 {
        tracing::warn!(job = kind.name(), runs = closed, "{}", job_runs::ABANDONED);
    }
    job_runs::claim(db, kind.name(), due, holder, now).await
}

/// Sleeps until `due`, in steps of at most a minute, so that a clock change is noticed.
async fn sleep_until(due: DateTime<Utc>) {
    loop {
        let left = (due - Utc::now()).to_std().unwrap_or_default();
        if left.is_zero() {
            return;
        }
        tokio::time::sleep(left.min(Duration::from_secs(60))).await;
    }
}

/// Runs one job now and records how it went.
pub async fn run_once(db: &Db, settings: &Settings, kind: JobKind, due: DateTime<Utc>) {
    run_claimed(db, settings, kind, due, std::future::pending()).await;
}

/// Runs the job claimed at `due`, saying it is alive meanwhile, and records how it went; a sync
/// stops after its page when `stop` resolves.
async fn run_claimed(
    db: &Db,
    settings: &Settings,
    kind: JobKind,
    due: DateTime<Utc>,
    stop: impl Future<Output = ()>,
) {
    tracing::info!(job = kind.name(), "tâche lancée");
    let alive = async {
        loop {
            tokio::time::sleep(HEARTBEAT).await;
            if let Err(error) = job_runs::keep_alive(db, kind.name(), due, Utc::now()).await {
                tracing::warn!(job = kind.name(), %error, "tâche : signe de vie non enregistré");
            }
        }
    };
    let outcome = tokio::select! {
        outcome = execute(db, settings, kind, stop) => outcome,
        never = alive => never,
    };
    let error = outcome.as_ref().err().map(ToString::to_string);
    match &error {
        None => tracing::info!(job = kind.name(), "tâche terminée"),
        Some(error) => tracing::error!(job = kind.name(), %error, "tâche échouée"),
    }
    if let Err(error) = job_runs::finish(db, kind.name(), due, error.as_deref()).await {
        tracing::error!(job = kind.name(), %error, "résultat de la tâche non enregistré");
    }
}

async fn execute(
    db: &Db,
    settings: &Settings,
    kind: JobKind,
    stop: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let now = Utc::now();
    match kind {
        JobKind::Sync => {
            sync::run(
                db,
                &settings.ds,
                RetryPolicy::default(),
                &SyncOptions::default(),
                &ProgressBar::hidden(),
                stop,
            )
            .await?;
            let output = Output::choose(None, &settings.media_root, validity_check::FILE_NAME);
            let today = now.with_timezone(&settings.time_zone).date_naive();
            validity_check::export(db, &output, today).await?;
            alerts::evaluate_after_sync(db, &settings.alert_rules).await;
        }
        JobKind::Stats => {
            let output = Output::choose(None, &settings.media_root, stats::FILE_NAME);
            stats::export(db, &output, now, settings.time_zone).await?;
        }
        JobKind::Alerts => {
            alerts::evaluate(db, &settings.alert_rules, now).await?;
            let mailer = Mailer::new(&settings.email)?;
            let context = DigestContext::of(settings);
            let n = alerts::notify(db, &mailer, &context, now).await?;
            if n.failed > 0 {
                anyhow::bail!(
                    "{} e-mail(s) d'alertes non envoyés, nouvel essai au prochain passage",
                    n.failed
                );
            }
        }
        JobKind::Purge => {
            let counts = crate::purge::run(
                db,
                &settings.retention,
                settings.time_zone,
                now,
                false,
                &|_| {},
            )
            .await?;
            tracing::info!(
                erased = counts.dossiers_erased,
                reduced = counts.dossiers_reduced,
                "données personnelles échues effacées"
            );
        }
        JobKind::Reports => {
            let mailer = Mailer::new(&settings.email)?;
            let month = Month::before(now, settings.time_zone);
            let mailing = reports::send(db, &mailer, settings, month).await?;
            tracing::info!(
                month = %month,
                sent = mailing.sent,
                failed = mailing.failed,
                "rapports mensuels envoyés"
            );
            if mailing.failed > 0 {
                anyhow::bail!(
                    "{} e-mail(s) de rapport non envoyés (voir la page « E-mails ») : « wif report --month {month} --send » les renvoie tous",
                    mailing.failed
                );
            }
        }
    }
    Ok(())
}
