//! The retention policy applied (SPEC 14): what `wif purge` and its scheduled job do. The policy's
//! cut-offs at a given instant (`domain::retention`), the erasure (`store::purge`), then one
//! record of the run and one line of the access log, with counts only, never an erased value.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::domain::retention::RetentionPolicy;
use crate::store::purge::{self, PurgeCounts, PurgeRun};
use crate::store::{Db, StoreError, access_log};
use sqlx::types::Json;

/// Who the access log names for a purge.
const ACTOR: &str = "wif purge";

/// Erases what is due at `now` (counts it only when `dry_run`), records the run and writes it
/// to the access log. `on_batch` hears of each batch of dossiers done.
pub async fn run(
    db: &Db,
    policy: &RetentionPolicy,
    time_zone: Tz,
    now: DateTime<Utc>,
    dry_run: bool,
    on_batch: &(dyn Fn(&PurgeCounts) + Sync),
) -> Result<PurgeCounts, StoreError> {
    let started_at = Utc::now();
    let cutoffs = policy.cutoffs(now, time_zone);
    let counts = match dry_run {
        true => purge::due(db, &cutoffs, now).await?,
        false => purge::run(db, &cutoffs, now, on_batch).await?,
    };
    purge::record_run(
        db,
        &PurgeRun {
            started_at,
            finished_at: Utc::now(),
            as_of: now,
            dry_run,
            counts: Json(counts),
        },
    )
    .await?;
    let detail = summary(&counts, dry_run);
    access_log::record(
        db,
        access_log::NewEntry {
            user_id: None,
            username: ACTOR,
            action: access_log::Action::Purge,
            ds_id: None,
            address: "-",
            detail: Some(&detail),
        },
        Utc::now(),
    )
    .await?;
    Ok(counts)
}

/// The counts in one line: « 12 dossiers effacés, 3 lignes du journal d'accès… ».
pub fn summary(counts: &PurgeCounts, dry_run: bool) -> String {
    let kinds: Vec<String> = counts
        .lines()
        .iter()
        .map(|(kind, n)| format!("{n} {kind}"))
        .collect();
    let prefix = if dry_run { "essai à blanc : " } else { "" };
    format!("{prefix}{}", kinds.join(", "))
}

/// What falls due between `now` and `days` later: the page's « à venir ».
pub async fn coming(
    db: &Db,
    policy: &RetentionPolicy,
    time_zone: Tz,
    now: DateTime<Utc>,
    days: u64,
) -> Result<PurgeCounts, StoreError> {
    let later = now + chrono::Days::new(days);
    let due_now = purge::due(db, &policy.cutoffs(now, time_zone), now).await?;
    let due_later = purge::due(db, &policy.cutoffs(later, time_zone), later).await?;
    Ok(due_later.added_since(&due_now))
}
