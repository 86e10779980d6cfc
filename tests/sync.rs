//! The sync against the DS simulator, a real HTTP server, on both database engines: full and
//! incremental runs, faults, interruptions and the errors a user must understand.

mod common;

use std::time::Duration;

use common::TestDb;
use indicatif::ProgressBar;
use wif::config::{DsSettings, Secret};
use wif::domain::{ApiVersion, Dossier, DsId, Status};
use wif::ds::{DsClient, RetryPolicy, v1};
use wif::fake_ds::{FakeDs, Faults};
use wif::store::{dossiers, locks, sync_runs};
use wif::sync::{self, Report, SyncError, SyncOptions};

const PROCEDURE: i64 = 4242;
const TOKEN: &str = "jeton-de-test";

/// A simulator with `count` dossiers, and the settings to reach it.
async fn start(count: u64, api: ApiVersion) -> (FakeDs, DsSettings) {
    let ds = FakeDs::new(count, 7, PROCEDURE, TOKEN);
    let url = common::start_simulator(&ds).await;
    (ds, common::simulator_settings(&url, PROCEDURE, TOKEN, api))
}

/// Patient enough for the injected faults, quick enough for a test.
fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        attempts: 8,
        first_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(50),
        timeout: Duration::from_secs(10),
    }
}

async fn sync_with(t: &TestDb, settings: &DsSettings, full: bool) -> Result<Report, SyncError> {
    let options = SyncOptions {
        full,
        procedure: None,
    };
    sync::run(
        &t.db,
        settings,
        fast_retry(),
        &options,
        &ProgressBar::hidden(),
        std::future::pending(),
    )
    .await
}

/// What DS shows through its APIs: drafts are never listed.
fn expected(ds: &FakeDs) -> Vec<Dossier> {
    ds.dossiers()
        .into_iter()
        .filter(|d| d.status != Status::Draft)
        .collect()
}

/// Every dossier DS shows is stored with every field equal (the raw document aside, which
/// differs by API), and every other stored dossier is marked deleted on DS.
async fn assert_same_as_ds(t: &TestDb, ds: &FakeDs, api: ApiVersion) {
    let expected = expected(ds);
    assert!(!expected.is_empty());
    for want in &expected {
        let stored = dossiers::get(&t.db, want.ds_id)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("dossier {} not stored", want.ds_id.get()));
        assert_eq!(stored.deleted_on_ds_at, None, "{}", want.ds_id.get());
        assert_eq!(stored.dossier.api_version, api);
        let mut got = stored.dossier;
        got.raw = want.raw.clone();
        got.api_version = want.api_version;
        assert_eq!(&got, want);
    }
    let present = dossiers::present_ds_ids(&t.db, PROCEDURE).await.unwrap();
    assert_eq!(present.len(), expected.len(), "no dossier left unmarked");
}

async fn assert_marked_deleted(t: &TestDb, ids: &[i64]) {
    for &id in ids {
        let stored = dossiers::get(&t.db, DsId::new(id).unwrap())
            .await
            .unwrap()
            .expect("a deleted dossier keeps its row");
        assert!(stored.deleted_on_ds_at.is_some(), "{id} marked deleted");
    }
}

async fn full_then_incremental(t: &TestDb, api: ApiVersion) {
    let (ds, settings) = start(250, api).await;
    let count = expected(&ds).len() as u64;

    let first = sync_with(t, &settings, false).await.unwrap().total();
    assert_eq!(first.created, count);
    assert_eq!(first.seen, count);
    assert_eq!(first.requests, ds.requests());
    assert_same_as_ds(t, &ds, api).await;

    // Nothing changed: the second run only reads the list, and rewrites nothing.
    let before = ds.requests();
    let second = sync_with(t, &settings, false).await.unwrap().total();
    let asked = ds.requests() - before;
    assert_eq!(second.created + second.updated, 0);
    match api {
        ApiVersion::V1 => assert_eq!(asked, 1, "one list page of 1000"),
        // One empty page of changes, then the deleted and pending-deleted lists.
        ApiVersion::V2 => assert!(asked <= 3, "{asked} requests"),
    }

    let deleted = ds.delete(4);
    let modified = ds.modify(5);
    let added = ds.add(3);
    let before = ds.requests();
    let third = sync_with(t, &settings, false).await.unwrap().total();
    assert_eq!(third.created, 3, "{added:?}");
    assert_eq!(third.updated, 5, "{modified:?}");
    assert_eq!(third.marked_deleted, 4, "{deleted:?}");
    if api == ApiVersion::V1 {
        // The list, then the detail of the 8 new or changed dossiers only.
        assert_eq!(ds.requests() - before, 1 + 8);
    }
    assert_same_as_ds(t, &ds, api).await;
    assert_marked_deleted(t, &deleted).await;

    // --full re-reads everything and finds it unchanged.
    let full = sync_with(t, &settings, true).await.unwrap().total();
    assert_eq!(full.created + full.updated, 0);
    assert_eq!(full.unchanged, count + 3 - 4);

    let runs = sync_runs::latest(&t.db, 10).await.unwrap();
    assert_eq!(runs.len(), 4);
    assert!(
        runs.iter()
            .all(|r| r.outcome == "success" && r.error.is_none())
    );
    assert_eq!(runs[1].created, 3);
    assert_eq!(runs[1].api_version, api.as_str());
}

async fn v1_full_then_incremental(t: &TestDb) {
    full_then_incremental(t, ApiVersion::V1).await;
}

async fn v2_full_then_incremental(t: &TestDb) {
    full_then_incremental(t, ApiVersion::V2).await;
}

/// 429 with `RateLimit-Reset`, 503, cut bodies and GraphQL timeouts: the same database as
/// without faults.
async fn converges_under_faults(t: &TestDb, api: ApiVersion) {
    let (ds, settings) = start(200, api).await;
    ds.set_faults(Faults {
        rate_limit: Some(50),
        rate_window: Duration::from_secs(1),
        error_percent: 15,
        truncate_percent: 10,
        graphql_timeout_percent: 10,
        delay: Duration::ZERO,
    });
    let report = sync_with(t, &settings, false).await.unwrap().total();
    assert!(report.requests > report.pages + 1, "faults cost retries");
    assert_eq!(report.created, expected(&ds).len() as u64);
    assert_same_as_ds(t, &ds, api).await;
    assert_eq!(
        dossiers::count(&t.db).await.unwrap() as usize,
        expected(&ds).len(),
        "nothing duplicated"
    );
}

async fn v1_converges_under_faults(t: &TestDb) {
    converges_under_faults(t, ApiVersion::V1).await;
}

async fn v2_converges_under_faults(t: &TestDb) {
    converges_under_faults(t, ApiVersion::V2).await;
}

/// A sync dropped in the middle keeps what it stored; the next run completes the database
/// (v2: from the saved cursor, without reading again the pages already stored).
async fn interrupted_then_rerun(t: &TestDb, api: ApiVersion) {
    let (ds, settings) = start(450, api).await;
    ds.set_faults(Faults {
        delay: Duration::from_millis(match api {
            ApiVersion::V1 => 10,
            ApiVersion::V2 => 150,
        }),
        ..Faults::default()
    });
    // Dropped as soon as a first batch is stored (v2: and its cursor saved, else the next run
    // rightly reads that page again), however slow the machine.
    let first_batch_stored = common::until("a first batch stored", async || {
        let stored = dossiers::count(&t.db).await.unwrap() > 0;
        let saved = match api {
            ApiVersion::V1 => true,
            ApiVersion::V2 => wif::store::sync_state::unfinished(&t.db, PROCEDURE)
                .await
                .unwrap()
                .is_some_and(|pass| pass.cursor.is_some()),
        };
        stored && saved
    });
    tokio::select! {
        result = sync_with(t, &settings, false) => panic!("the sync ended first: {result:?}"),
        () = first_batch_stored => {}
    }
    let stored = dossiers::count(&t.db).await.unwrap() as usize;
    assert!(stored > 0 && stored < expected(&ds).len(), "{stored}");

    ds.set_faults(Faults::default());
    // The dropped sync gives its lock back from a spawned task.
    common::until("the dropped sync's lock given back", async || {
        locks::holder(&t.db, "sync").await.unwrap().is_none()
    })
    .await;
    let report = sync_with(t, &settings, false).await.unwrap().total();
    if api == ApiVersion::V2 {
        assert_eq!(report.unchanged, 0, "resumed after the pages stored");
    }
    assert_eq!(report.created as usize + stored, expected(&ds).len());
    assert_same_as_ds(t, &ds, api).await;
    let runs = sync_runs::latest(&t.db, 10).await.unwrap();
    assert_eq!(runs[1].outcome, "failure", "the dropped run is closed");
}

async fn v1_interrupted_then_rerun(t: &TestDb) {
    interrupted_then_rerun(t, ApiVersion::V1).await;
}

async fn v2_interrupted_then_rerun(t: &TestDb) {
    interrupted_then_rerun(t, ApiVersion::V2).await;
}

/// A missing or refused token, an unknown démarche, DS out of reach: one clear sentence, no
/// retry loop, and the failed runs recorded.
async fn clear_errors(t: &TestDb, api: ApiVersion) {
    let (_ds, settings) = start(10, api).await;

    let no_token = DsSettings {
        token: None,
        ..settings.clone()
    };
    let error = sync_with(t, &no_token, false).await.unwrap_err();
    assert!(matches!(error, SyncError::MissingToken), "{error}");
    assert!(
        error
            .to_string()
            .contains("DEMARCHES_SIMPLIFIEES_API_TOKEN")
    );

    let bad_token = DsSettings {
        token: Some(Secret::new("mauvais".into())),
        ..settings.clone()
    };
    let error = sync_with(t, &bad_token, false)
        .await
        .unwrap_err()
        .to_string();
    // v1 answers 401, v2 403 with a `forbidden` error.
    let status = match api {
        ApiVersion::V1 => 401,
        ApiVersion::V2 => 403,
    };
    assert!(
        error.contains(&format!("refuse le jeton (HTTP {status})")),
        "{error}"
    );

    let unknown = DsSettings {
        procedure_ids: vec![999],
        ..settings.clone()
    };
    let error = sync_with(t, &unknown, false).await.unwrap_err().to_string();
    assert!(error.contains("démarche 999 inconnue"), "{error}");

    let down = DsSettings {
        api_url: "http://127.0.0.1:9".into(),
        ..settings.clone()
    };
    let error = sync_with(t, &down, false).await.unwrap_err().to_string();
    assert!(error.contains("après 8 essais"), "{error}");
    assert!(error.contains("connexion impossible"), "{error}");

    let runs = sync_runs::latest(&t.db, 10).await.unwrap();
    assert_eq!(runs.len(), 3, "a run is recorded once the token is there");
    assert!(runs.iter().all(|r| r.outcome == "failure"));
    assert!(
        runs[0]
            .error
            .as_deref()
            .unwrap()
            .contains("connexion impossible")
    );
}

async fn v1_clear_errors(t: &TestDb) {
    clear_errors(t, ApiVersion::V1).await;
}

async fn v2_clear_errors(t: &TestDb) {
    clear_errors(t, ApiVersion::V2).await;
}

/// A dossier DS sends that cannot be read is skipped, named in the run; the others are stored.
async fn unreadable_dossier_is_skipped(t: &TestDb) {
    let (ds, settings) = start(30, ApiVersion::V1).await;
    let broken = expected(&ds)[4].ds_id.get();
    ds.make_unreadable(broken);
    let report = sync_with(t, &settings, false).await.unwrap().total();
    assert_eq!(report.skipped, 1);
    assert_eq!(report.created as usize, expected(&ds).len() - 1);
    let runs = sync_runs::latest(&t.db, 1).await.unwrap();
    assert_eq!(runs[0].outcome, "success");
    assert_eq!(runs[0].skipped, 1);
    let detail = &runs[0].skipped_details.0[0];
    assert!(
        detail.starts_with(&format!("dossier {broken}:")),
        "{detail}"
    );
    assert!(detail.contains("inconnu"), "{detail}");
    let missing = dossiers::get(&t.db, DsId::new(broken).unwrap())
        .await
        .unwrap();
    assert!(missing.is_none());
}

/// Another instance holds the lock: the sync says so and stores nothing.
async fn one_sync_at_a_time(t: &TestDb) {
    let (ds, settings) = start(20, ApiVersion::V1).await;
    let now = chrono::Utc::now();
    assert!(
        locks::try_acquire(
            &t.db,
            "sync",
            "autre instance",
            chrono::Duration::minutes(2),
            now
        )
        .await
        .unwrap()
    );
    let error = sync_with(t, &settings, false)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("déjà en cours (autre instance)"), "{error}");
    assert_eq!(ds.requests(), 0);
    assert_eq!(dossiers::count(&t.db).await.unwrap(), 0);

    // A crashed holder's lock expires.
    let later = now + chrono::Duration::minutes(3);
    assert!(
        locks::try_acquire(
            &t.db,
            "sync",
            "nouvelle instance",
            chrono::Duration::minutes(2),
            later
        )
        .await
        .unwrap()
    );
    locks::release(&t.db, "sync", "nouvelle instance")
        .await
        .unwrap();

    // Two syncs started together: one runs, the other is refused.
    let (a, b) = tokio::join!(
        sync_with(t, &settings, false),
        sync_with(t, &settings, false)
    );
    let refused = [&a, &b]
        .iter()
        .filter(|r| matches!(r, Err(SyncError::AlreadyRunning { .. })))
        .count();
    assert_eq!(refused, 1, "{a:?} {b:?}");
    assert_same_as_ds(t, &ds, ApiVersion::V1).await;
    // The lock was given back: a third sync runs.
    sync_with(t, &settings, false).await.unwrap();
}

/// A champ holding a NUL character (DS's JSON allows `\u0000`; PostgreSQL stores it nowhere) is
/// stored without it, and the batch with it: the sync does not fail on every retry.
async fn nul_characters_are_stored_without_them(t: &TestDb, api: ApiVersion) {
    let (ds, settings) = start(20, api).await;
    let target = expected(&ds)[3].ds_id.get();
    ds.change_one(target, |d, _| {
        d.nom = Some("Du\u{0}pont".into());
        d.champs.insert("nom".into(), "Du\u{0}pont".into());
        d.champs
            .insert("nationalite".into(), "\u{0}Chili\u{0}".into());
        Some("dossier_modifie")
    })
    .expect("a dossier of the simulator changed");
    let report = sync_with(t, &settings, false).await.unwrap().total();
    assert_eq!(report.skipped, 0);
    assert_eq!(report.created as usize, expected(&ds).len());
    let stored = dossiers::get(&t.db, DsId::new(target).unwrap())
        .await
        .unwrap()
        .expect("the dossier with NUL characters is stored");
    assert_eq!(stored.dossier.nom.as_deref(), Some("Dupont"));
    assert_eq!(stored.dossier.nationalite.as_deref(), Some("Chili"));
    assert!(!stored.dossier.raw.to_string().contains("\\u0000"));
}

/// A sync never fills an erased dossier again (SPEC 14), incremental or full, unless DS
/// reports it re-opened.
async fn erased_dossiers_stay_erased(t: &TestDb, api: ApiVersion) {
    let (ds, settings) = start(40, api).await;
    sync_with(t, &settings, false).await.unwrap();
    let decided: Vec<i64> = expected(&ds)
        .iter()
        .filter(|d| d.status.is_completed() && d.processed_at.is_some())
        .map(|d| d.ds_id.get())
        .collect();
    assert!(decided.len() >= 3, "the simulator has decided dossiers");
    common::erase_every_decided_dossier(&t.db).await;
    let erased = |id: i64| async move {
        let s = dossiers::get(&t.db, DsId::new(id).unwrap())
            .await
            .unwrap()
            .unwrap();
        (
            s.erased_at.is_some(),
            s.dossier.nom.clone(),
            s.dossier.email.clone(),
        )
    };
    for &id in &decided {
        assert_eq!(erased(id).await, (true, None, None), "{id}");
    }
    // DS changes a decided dossier (a new annotation, say): still erased.
    ds.change_one(decided[0], |d, _| {
        d.nom = Some("Nouveaunom".into());
        d.champs.insert("nom".into(), "Nouveaunom".into());
        Some("dossier_modifie")
    })
    .unwrap();
    sync_with(t, &settings, false).await.unwrap();
    sync_with(t, &settings, true).await.unwrap();
    for &id in &decided {
        assert_eq!(erased(id).await, (true, None, None), "{id} filled again");
    }
    // DS re-opens one: a live dossier again, with its data.
    ds.change_one(decided[1], |d, _| {
        d.status = Status::Received;
        d.processed_at = None;
        Some("dossier_en_instruction")
    })
    .unwrap();
    sync_with(t, &settings, false).await.unwrap();
    let (still_erased, nom, _) = erased(decided[1]).await;
    assert!(!still_erased, "a re-opened dossier is live again");
    assert!(nom.is_some());
}

async fn v1_erased_dossiers_stay_erased(t: &TestDb) {
    erased_dossiers_stay_erased(t, ApiVersion::V1).await;
}

async fn v2_erased_dossiers_stay_erased(t: &TestDb) {
    erased_dossiers_stay_erased(t, ApiVersion::V2).await;
}

async fn v1_nul_characters_are_stored_without_them(t: &TestDb) {
    nul_characters_are_stored_without_them(t, ApiVersion::V1).await;
}

async fn v2_nul_characters_are_stored_without_them(t: &TestDb) {
    nul_characters_are_stored_without_them(t, ApiVersion::V2).await;
}

both_engines!(
    v1_erased_dossiers_stay_erased,
    v2_erased_dossiers_stay_erased,
    v1_nul_characters_are_stored_without_them,
    v2_nul_characters_are_stored_without_them,
    v1_full_then_incremental,
    v2_full_then_incremental,
    v1_converges_under_faults,
    v2_converges_under_faults,
    v1_interrupted_then_rerun,
    v2_interrupted_then_rerun,
    v1_clear_errors,
    v2_clear_errors,
    unreadable_dossier_is_skipped,
    one_sync_at_a_time,
);

/// The environment of `wif sync-dossiers` against the simulator of `settings`.
fn command_vars(t: &TestDb, settings: &DsSettings) -> Vec<(&'static str, String)> {
    vec![
        ("WIF_DATABASE_URL", t.url.clone()),
        ("DEMARCHES_SIMPLIFIEES_API_URL", settings.api_url.clone()),
        ("DEMARCHES_SIMPLIFIEES_API_TOKEN", TOKEN.to_owned()),
        (
            "DEMARCHES_SIMPLIFIEES_PROCEDURE_ID_APT",
            PROCEDURE.to_string(),
        ),
    ]
}

/// `wif sync-dossiers` started in the background, its output captured.
/// A simulator of 400 dossiers answering each request in 200 ms, and the variables of a
/// `wif sync-dossiers` against it.
async fn slow_command(t: &TestDb) -> (FakeDs, Vec<(&'static str, String)>) {
    let (ds, settings) = start(400, ApiVersion::V2).await;
    ds.set_faults(Faults {
        delay: Duration::from_millis(200),
        ..Faults::default()
    });
    (ds, command_vars(t, &settings))
}

fn spawn_sync(t: &TestDb, vars: &[(&str, &str)]) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_wif"))
        .current_dir(t.dir.path())
        .env_clear()
        .envs(vars.iter().copied())
        .arg("sync-dossiers")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// The command as an operator runs it: a second process is refused while the first syncs, and
/// the first prints the seed's counters and the new ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_dossiers_command_runs_alone_and_prints_the_summary() {
    let t = TestDb::sqlite(true).await;
    let (ds, settings) = start(120, ApiVersion::V2).await;
    let count = expected(&ds).len();
    let owned = command_vars(&t, &settings);
    let vars: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
    ds.set_faults(Faults {
        delay: Duration::from_millis(300),
        ..Faults::default()
    });
    let first = spawn_sync(&t, &vars);
    common::until("the first sync to take the lock", async || {
        locks::holder(&t.db, "sync").await.unwrap().is_some()
    })
    .await;
    let second = common::wif(t.dir.path(), &vars, &["sync_dossiers"], "");
    common::assert_clear_failure(&second, "une synchronisation est déjà en cours");

    let first = first.wait_with_output().unwrap();
    let out = common::stdout(&first);
    assert!(first.status.success(), "{}", common::stderr(&first));
    assert!(
        out.contains(&format!("{count} - number of dossiers checked\n")),
        "{out}"
    );
    assert!(
        out.contains(" - number of HTTP queries performed\n"),
        "{out}"
    );
    assert!(
        out.contains(&format!("{count} - number of dossiers processed\n")),
        "{out}"
    );
    assert!(
        out.contains(&format!("{count} créés, 0 mis à jour")),
        "{out}"
    );
    assert!(!out.contains(TOKEN) && !common::stderr(&first).contains(TOKEN));

    ds.set_faults(Faults::default());
    let again = common::wif(t.dir.path(), &vars, &["sync-dossiers"], "");
    assert!(common::stdout(&again).contains("0 - number of dossiers processed"));
}

/// Ctrl-C (SIGINT) in the middle: the command says what happened, gives the lock back at once,
/// and the next run completes the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_dossiers_stopped_by_ctrl_c_releases_the_lock_and_resumes() {
    let t = TestDb::sqlite(true).await;
    let (ds, owned) = slow_command(&t).await;
    let vars: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let child = spawn_sync(&t, &vars);
    common::until("the sync to store a page", async || {
        dossiers::count(&t.db).await.unwrap() > 0
    })
    .await;
    common::interrupt(&child);
    let stopped = child.wait_with_output().unwrap();
    let err = common::stderr(&stopped);
    assert!(!stopped.status.success());
    let last = err.trim_end().lines().last().unwrap();
    assert!(
        last.starts_with("erreur : synchronisation interrompue"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(locks::holder(&t.db, "sync").await.unwrap(), None);
    let runs = sync_runs::latest(&t.db, 1).await.unwrap();
    assert_eq!(runs[0].outcome, "failure");
    let stored = dossiers::count(&t.db).await.unwrap() as usize;
    assert!(stored < expected(&ds).len());

    ds.set_faults(Faults::default());
    let again = common::wif(t.dir.path(), &vars, &["sync-dossiers"], "");
    assert!(again.status.success(), "{}", common::stderr(&again));
    assert_same_as_ds(&t, &ds, ApiVersion::V2).await;
}

/// A sync killed outright (SIGKILL) leaves its run with the figures of the pages it stored; the
/// next run, once the lock has expired, closes it as interrupted and completes the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_sync_is_closed_as_interrupted_by_the_next_one() {
    let t = TestDb::sqlite(true).await;
    let (ds, owned) = slow_command(&t).await;
    let vars: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut child = spawn_sync(&t, &vars);
    common::until("the run to record a stored page", async || {
        let runs = sync_runs::latest(&t.db, 1).await.unwrap();
        runs.first().is_some_and(|run| run.created > 0)
    })
    .await;
    child.kill().unwrap();
    child.wait().unwrap();
    let killed = sync_runs::latest(&t.db, 1).await.unwrap().remove(0);
    assert_eq!(killed.outcome, "running");

    // What a minute of waiting does: the dead process's lock expires.
    let wif::store::Db::Sqlite(pool) = &t.db else {
        unreachable!()
    };
    sqlx::query("UPDATE locks SET expires_at = $1")
        .bind(chrono::Utc::now() - chrono::Duration::seconds(1))
        .execute(pool)
        .await
        .unwrap();
    ds.set_faults(Faults::default());
    let again = common::wif(t.dir.path(), &vars, &["sync-dossiers"], "");
    assert!(again.status.success(), "{}", common::stderr(&again));
    let runs = sync_runs::latest(&t.db, 2).await.unwrap();
    let closed = runs.iter().find(|r| r.id == killed.id).unwrap();
    assert_eq!(closed.outcome, "failure");
    assert!(
        closed
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("interrompue"),
        "{:?}",
        closed.error
    );
    assert!(closed.created > 0 && closed.finished_at.is_some());
    assert_same_as_ds(&t, &ds, ApiVersion::V2).await;
}

/// `DEMARCHES_SIMPLIFIEES_RATE_LIMIT` as the simulator sees it: with 2 requests a minute, the
/// first two go at once and the third a minute after the first. The client's limit only: no
/// sync, no database. The minute passes on tokio's paused clock, moved by hand a second at a
/// time; a blocking task keeps the clock from jumping ahead by itself (to the requests'
/// timeouts) while a request travels.
#[tokio::test(start_paused = true)]
async fn the_client_keeps_under_its_rate_limit() {
    let (ds, settings) = start(10, ApiVersion::V1).await;
    let settings = DsSettings {
        rate_limit_per_minute: 2,
        ..settings
    };
    let (hold, held) = std::sync::mpsc::channel::<()>();
    tokio::task::spawn_blocking(move || held.recv());
    let patient = RetryPolicy {
        timeout: Duration::from_secs(3600),
        ..fast_retry()
    };
    let client = std::sync::Arc::new(DsClient::new(&settings, Secret::new(TOKEN.into()), patient));
    v1::list_page(&client, PROCEDURE, 1).await.unwrap();
    v1::list_page(&client, PROCEDURE, 1).await.unwrap();
    let third = tokio::spawn({
        let client = client.clone();
        async move { v1::list_page(&client, PROCEDURE, 1).await }
    });
    let mut seconds = 0;
    while ds.requests() < 3 {
        assert!(seconds < 120, "no third request after two minutes");
        tokio::time::advance(Duration::from_secs(1)).await;
        seconds += 1;
        // Real time for the request, if one left, to reach the simulator.
        tokio::task::spawn_blocking(|| std::thread::sleep(Duration::from_millis(10)))
            .await
            .unwrap();
    }
    third.await.unwrap().unwrap();
    drop(hold);
    let times = ds.request_times();
    assert_eq!(times.len(), 3);
    assert_eq!(times[1], times[0], "the first two at once");
    let third = times[2] - times[0];
    assert!(third >= Duration::from_secs(60), "{third:?}");
}
