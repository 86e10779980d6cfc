//! The scheduled jobs on both engines: one run per scheduled time whatever the number of
//! instances, and failures recorded without stopping anything.

mod common;

use chrono::{TimeZone, Utc};
use common::TestDb;
use wif::config::Settings;
use wif::scheduler::{self, JobKind};
use wif::store::job_runs;

fn settings(t: &TestDb) -> Settings {
    let media = t.dir.path().join("media").display().to_string();
    Settings::from_lookup(|key| match key {
        "WIF_DATABASE_URL" => Some(t.url.clone()),
        "WIF_MEDIA_ROOT" => Some(media.clone()),
        _ => None,
    })
    .unwrap()
}

/// Two instances reach the same scheduled time: exactly one claims it.
async fn one_instance_runs_each_scheduled_time(t: &TestDb) {
    let due = Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap();
    let (a, b) = tokio::join!(
        job_runs::claim(&t.db, "sync", due, "instance a", Utc::now()),
        job_runs::claim(&t.db, "sync", due, "instance b", Utc::now()),
    );
    assert_eq!([a.unwrap(), b.unwrap()].iter().filter(|c| **c).count(), 1);
    // The next time, and another job at the same time, are claims of their own.
    let next = due + chrono::Duration::hours(1);
    assert!(
        job_runs::claim(&t.db, "sync", next, "instance b", Utc::now())
            .await
            .unwrap()
    );
    assert!(
        job_runs::claim(&t.db, "stats", due, "instance a", Utc::now())
            .await
            .unwrap()
    );
}

/// The stats job writes stats.json and is recorded a success; a sync without a token is
/// recorded a failure with its reason, and nothing panics.
async fn jobs_record_their_outcome(t: &TestDb) {
    common::seed_dossiers(t, 20).await;
    let settings = settings(t);
    let due = Utc::now();
    for kind in [JobKind::Stats, JobKind::Sync] {
        assert!(
            job_runs::claim(&t.db, kind.name(), due, "test", Utc::now())
                .await
                .unwrap()
        );
        scheduler::run_once(&t.db, &settings, kind, due).await;
    }
    let stats = std::fs::read_to_string(t.dir.path().join("media/stats.json")).unwrap();
    let stats: serde_json::Value = serde_json::from_str(&stats).unwrap();
    assert_eq!(stats["data"]["total_dossiers"], 20);
    let done = job_runs::latest(&t.db, "stats", 1).await.unwrap();
    assert_eq!(done[0].outcome, "success");
    let failed = job_runs::latest(&t.db, "sync", 1).await.unwrap();
    assert_eq!(failed[0].outcome, "failure");
    assert!(
        failed[0]
            .error
            .as_deref()
            .unwrap()
            .contains("DEMARCHES_SIMPLIFIEES_API_TOKEN")
    );
    assert!(
        !t.dir.path().join("media/validity_check.json").exists(),
        "no export after a failed sync"
    );
}

both_engines!(
    one_instance_runs_each_scheduled_time,
    jobs_record_their_outcome
);
