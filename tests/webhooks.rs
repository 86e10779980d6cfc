//! DS webhooks (SPEC 12) over real HTTP, on both engines: the receiver's answers, events kept
//! once, the debounced sync and export they lead to, and the simulator's signed deliveries.

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::Utc;
use common::TestDb;
use indicatif::ProgressBar;
use serde_json::json;
use wif::domain::webhook::{SIGNATURE_HEADER, sign};
use wif::domain::{ApiVersion, Status};
use wif::ds::RetryPolicy;
use wif::fake_ds::{FakeDs, WebhookTarget};
use wif::store::{dossiers, locks, sync_runs, webhook_events};
use wif::sync::{self, SyncOptions};
use wif::webhooks::Activity;

const PROCEDURE: i64 = 4242;
const TOKEN: &str = "jeton-de-test";
const SECRET: &str = "whsec_secret-du-moment-0123456789";
const PREVIOUS: &str = "whsec_secret-precedent-0123456789";

/// An admin receiving webhooks, as `start_receiver` gives it.
struct Receiver {
    url: String,
    /// What its syncer did, and whether it has passes left to run.
    activity: Arc<Activity>,
}

/// A simulator with its dossiers already synced into `t`, and an admin receiving webhooks for
/// its démarche with a 200 ms debounce; returns the simulator, its URL and the admin.
async fn setup(t: &TestDb, dossiers: u64) -> (FakeDs, String, Receiver) {
    let ds = FakeDs::new(dossiers, 7, PROCEDURE, TOKEN);
    let ds_url = common::start_simulator(&ds).await;
    let settings = common::simulator_settings(&ds_url, PROCEDURE, TOKEN, ApiVersion::V2);
    let options = SyncOptions {
        full: true,
        procedure: None,
    };
    sync::run(
        &t.db,
        &settings,
        RetryPolicy::default(),
        &options,
        &ProgressBar::hidden(),
        std::future::pending(),
    )
    .await
    .unwrap();
    let admin = start_receiver(t, &t.db, &ds_url, None).await;
    (ds, ds_url, admin)
}

/// An admin on `db` receiving the webhooks of démarche `PROCEDURE`, syncing from `ds_url`; on
/// `listener` if given.
async fn start_receiver(
    t: &TestDb,
    db: &wif::store::Db,
    ds_url: &str,
    listener: Option<tokio::net::TcpListener>,
) -> Receiver {
    let media = t.dir.path().join("media").to_str().unwrap().to_owned();
    let settings = wif::config::Settings::from_lookup(|key| {
        let value = match key {
            "WIF_DATABASE_URL" => t.url.as_str(),
            "WIF_DEBUG" => "True",
            "WIF_MEDIA_ROOT" => &media,
            "WIF_DS_WEBHOOK_SECRETS" => &format!("{SECRET},{PREVIOUS}"),
            "WIF_DS_WEBHOOK_DEBOUNCE" => "200ms",
            "DEMARCHES_SIMPLIFIEES_API_URL" => ds_url,
            "DEMARCHES_SIMPLIFIEES_API_TOKEN" => TOKEN,
            "DEMARCHES_SIMPLIFIEES_PROCEDURE_ID_APT" => &PROCEDURE.to_string(),
            _ => return None,
        };
        Some(value.to_owned())
    })
    .unwrap();
    let state = wif::admin::AppState::new(db.clone(), &settings, common::test_secret());
    let activity = state
        .webhooks
        .as_ref()
        .expect("webhooks on")
        .activity
        .clone();
    let url = common::serve_admin(state, listener).await;
    Receiver { url, activity }
}

fn delivery(procedure: i64, first_sequence: i64, events: &[(&str, i64)]) -> String {
    let events: Vec<_> = events
        .iter()
        .enumerate()
        .map(|(i, (kind, number))| {
            json!({"sequence": first_sequence + i as i64, "type": kind, "dossier_number": number,
                   "timestamp": "2026-03-05T14:12:31+01:00"})
        })
        .collect();
    json!({"webhook_id": "w1", "demarche_number": procedure, "events": events}).to_string()
}

async fn post(admin: &str, body: &str, signature: Option<String>) -> reqwest::StatusCode {
    let mut request = reqwest::Client::new()
        .post(format!("{admin}/webhooks/ds"))
        .header("Content-Type", "application/json")
        .body(body.to_owned());
    if let Some(signature) = signature {
        request = request.header(SIGNATURE_HEADER, signature);
    }
    request.send().await.unwrap().status()
}

async fn signed(admin: &str, body: &str) -> reqwest::StatusCode {
    post(admin, body, Some(sign(SECRET, body.as_bytes()))).await
}

async fn runs(t: &TestDb) -> usize {
    sync_runs::latest(&t.db, 1000).await.unwrap().len()
}

/// Every answer of SPEC 12, and a repeated delivery changes nothing.
async fn the_receiver_answers_as_ds_expects(t: &TestDb) {
    let (_ds, _, receiver) = setup(t, 50).await;
    let admin = receiver.url;
    let body = delivery(PROCEDURE, 1, &[("dossier_accepte", 100_001)]);
    assert_eq!(post(&admin, &body, None).await, 401);
    assert_eq!(
        post(
            &admin,
            &body,
            Some(sign("whsec_un-autre-secret-000", body.as_bytes()))
        )
        .await,
        401
    );
    assert_eq!(
        post(&admin, &body, Some(sign(SECRET, b"un autre corps"))).await,
        401
    );
    assert_eq!(
        post(&admin, "pas du json", Some(sign(SECRET, b"pas du json"))).await,
        400
    );
    let big = format!("{{\"x\":\"{}\"}}", "a".repeat(1 << 20));
    assert_eq!(
        post(&admin, &big, Some(sign(SECRET, big.as_bytes()))).await,
        413
    );
    assert_eq!(
        signed(&admin, &delivery(999, 1, &[("dossier_accepte", 5)])).await,
        202
    );
    // Not DS's: more events than DS sends (11,000 would pass PostgreSQL's bind limit), a NUL in
    // a type. Refused as malformed (400), never « database down » (503, retried for ever).
    let many: Vec<(&str, i64)> = (0..101).map(|i| ("dossier_modifie", 200_000 + i)).collect();
    let many = delivery(PROCEDURE, 10, &many);
    assert_eq!(signed(&admin, &many).await, 400);
    let nul = delivery(PROCEDURE, 10, &[("dossier_\u{0}accepte", 100_001)]);
    assert_eq!(signed(&admin, &nul).await, 400);
    assert_eq!(
        webhook_events::last(&t.db).await.unwrap(),
        None,
        "nothing refused is kept"
    );

    assert_eq!(signed(&admin, &body).await, 200);
    // The previous secret, during a rotation.
    let second = delivery(
        PROCEDURE,
        2,
        &[("dossier_modifie", 100_002), ("dossier_envole", 100_003)],
    );
    assert_eq!(
        post(&admin, &second, Some(sign(PREVIOUS, second.as_bytes()))).await,
        200
    );
    // DS delivers again: already seen.
    assert_eq!(signed(&admin, &body).await, 200);
    let counts = webhook_events::count_by_type(&t.db, Utc::now() - chrono::Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(
        counts,
        [
            ("dossier_accepte".to_owned(), 1),
            ("dossier_envole".to_owned(), 1),
            ("dossier_modifie".to_owned(), 1)
        ]
    );
}

/// Events are kept 30 days: a delivery prunes the older ones; a hundred events, DS's most, are
/// recorded in one go.
async fn events_are_kept_thirty_days(t: &TestDb) {
    let event = |sequence: i64| wif::domain::webhook::WebhookEvent {
        sequence,
        event_type: "dossier_modifie".into(),
        dossier_number: Some(sequence),
        at: None,
    };
    let long_ago = Utc::now() - chrono::Duration::days(31);
    let old: Vec<_> = (1..=100).map(event).collect();
    assert_eq!(
        webhook_events::record(&t.db, PROCEDURE, &old, long_ago)
            .await
            .unwrap(),
        100
    );
    let recent = Utc::now() - chrono::Duration::days(29);
    webhook_events::record(&t.db, PROCEDURE, &[event(101)], recent)
        .await
        .unwrap();
    webhook_events::record(&t.db, PROCEDURE, &[event(102)], Utc::now())
        .await
        .unwrap();
    let counts = webhook_events::count_by_type(&t.db, long_ago - chrono::Duration::days(1))
        .await
        .unwrap();
    assert_eq!(counts, [("dossier_modifie".to_owned(), 2)]);
}

/// Without secrets, the endpoint does not exist.
async fn without_secrets_there_is_no_endpoint(t: &TestDb) {
    let admin = common::start_admin(t).await;
    let body = delivery(PROCEDURE, 1, &[("dossier_accepte", 1)]);
    assert_eq!(signed(&admin, &body).await, 404);
}

/// An acceptance on the simulator, pushed by its signed webhook, reaches the database and the
/// exported validity_check.json.
async fn an_acceptance_becomes_verifiable(t: &TestDb) {
    let (ds, _, admin) = setup(t, 80).await;
    ds.set_webhook(Some(WebhookTarget {
        url: format!("{}/webhooks/ds", admin.url),
        secret: SECRET.into(),
        retry_delays: vec![Duration::from_millis(100); 3],
    }));
    let waiting = ds
        .dossiers()
        .into_iter()
        .find(|d| d.status == Status::Received)
        .unwrap();
    let before = runs(t).await;
    let state = ds.change_one(waiting.ds_id.get(), |d, now| {
        d.status = Status::Closed;
        d.processed_at = Some(now);
        d.date_de_debut_apt = chrono::NaiveDate::from_ymd_opt(2026, 1, 1);
        d.date_de_fin_apt = chrono::NaiveDate::from_ymd_opt(2026, 6, 30);
        Some("dossier_accepte")
    });
    assert_eq!(state, Some("closed"));
    let export = t.dir.path().join("media/validity_check.json");
    let number = waiting.ds_id.get();
    common::until("the accepted dossier in validity_check.json", async || {
        std::fs::read_to_string(&export)
            .is_ok_and(|text| text.contains(&format!("\"ds_id\":{number}")))
    })
    .await;
    let stored = dossiers::get(&t.db, waiting.ds_id).await.unwrap().unwrap();
    assert_eq!(stored.dossier.status, Status::Closed);
    assert_eq!(runs(t).await, before + 1, "one event, one sync");
    assert_eq!(ds.webhook_attempts(), 1);
}

/// A thousand events in ten deliveries lead to one or two syncs, not a thousand.
async fn a_burst_of_events_leads_to_one_or_two_syncs(t: &TestDb) {
    let (_ds, _, admin) = setup(t, 20).await;
    let before = runs(t).await;
    for batch in 0..10 {
        let events: Vec<(&str, i64)> = (0..100).map(|i| ("dossier_modifie", 100_000 + i)).collect();
        assert_eq!(
            signed(&admin.url, &delivery(PROCEDURE, 1 + batch * 100, &events)).await,
            200
        );
    }
    let counted = webhook_events::count_by_type(&t.db, Utc::now() - chrono::Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(counted, [("dossier_modifie".to_owned(), 1000)]);
    // Every delivery is answered: each pass they asked for is known, and none comes after.
    common::until("the passes the deliveries asked for", async || {
        admin.activity.settled()
    })
    .await;
    let syncs = runs(t).await - before;
    assert!((1..=2).contains(&syncs), "{syncs} syncs");
}

/// A sync running elsewhere holds the lock: the webhook's pass waits for it, then runs once.
async fn a_webhook_during_a_running_sync_waits_for_it(t: &TestDb) {
    let (ds, _, admin) = setup(t, 30).await;
    let before = runs(t).await;
    let now = Utc::now();
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
    let changed = ds.modify(1);
    let body = delivery(PROCEDURE, 1, &[("dossier_modifie", changed[0])]);
    assert_eq!(signed(&admin.url, &body).await, 200);
    common::until("the webhook's pass to start", async || {
        admin.activity.passes.load(Ordering::SeqCst) == 1
    })
    .await;
    let released = Utc::now();
    locks::release(&t.db, "sync", "autre instance")
        .await
        .unwrap();
    // A run is listed from its start: wait for it to end before reading what it wrote.
    common::until("the pass to run once the lock is released", async || {
        admin.activity.settled()
    })
    .await;
    let latest = sync_runs::latest(&t.db, 1000).await.unwrap();
    assert_eq!(latest.len(), before + 1, "one sync");
    assert!(latest[0].finished_at.is_some());
    assert!(
        latest[0].started_at >= released,
        "a sync ran while the lock was held"
    );
    let id = wif::domain::DsId::new(changed[0]).unwrap();
    let expected = ds.dossiers().into_iter().find(|d| d.ds_id == id).unwrap();
    let stored = dossiers::get(&t.db, id).await.unwrap().unwrap();
    assert_eq!(stored.dossier.status, expected.status);
}

/// Two instances behind one address, DS delivering the same events to each: one sync.
async fn two_instances_sync_each_event_once(t: &TestDb) {
    let (ds, ds_url, first) = setup(t, 30).await;
    let second = start_receiver(t, &t.db, &ds_url, None).await;
    let before = runs(t).await;
    let changed = ds.modify(1);
    let body = delivery(PROCEDURE, 1, &[("dossier_modifie", changed[0])]);
    assert_eq!(signed(&first.url, &body).await, 200);
    assert_eq!(signed(&second.url, &body).await, 200);
    common::until("the passes the deliveries asked for", async || {
        first.activity.settled() && second.activity.settled()
    })
    .await;
    assert_eq!(runs(t).await, before + 1);
}

/// The database is down: 503, so that DS delivers again; the simulator does, and the delivery
/// that finally gets through is kept.
async fn a_failed_delivery_is_sent_again(t: &TestDb) {
    // An admin whose database connections are closed.
    let down = wif::store::Db::connect(&t.url).await.unwrap();
    let broken = start_receiver(t, &down, "http://127.0.0.1:9", None).await;
    down.close().await;
    let body = delivery(PROCEDURE, 1, &[("dossier_accepte", 100_001)]);
    assert_eq!(signed(&broken.url, &body).await, 503);
    assert_eq!(webhook_events::last(&t.db).await.unwrap(), None);

    // The simulator sends to an address where the connection is closed unanswered, then again:
    // the admin that starts there meanwhile keeps the delivery, and the simulator stops sending.
    let ds = FakeDs::new(10, 7, PROCEDURE, TOKEN);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    ds.set_webhook(Some(WebhookTarget {
        url: format!("http://{}/webhooks/ds", listener.local_addr().unwrap()),
        secret: SECRET.into(),
        retry_delays: vec![Duration::from_millis(300); 20],
    }));
    ds.modify(1);
    drop(listener.accept().await.unwrap());
    assert_eq!(webhook_events::last(&t.db).await.unwrap(), None);
    start_receiver(t, &t.db, "http://127.0.0.1:9", Some(listener)).await;
    common::until("the delivery sent again to be kept", async || {
        webhook_events::last(&t.db).await.unwrap().is_some()
    })
    .await;
    let attempts = ds.webhook_attempts();
    assert!(attempts >= 2);
    common::until("the simulator to end its delivery", async || {
        ds.webhooks_sending() == 0
    })
    .await;
    assert_eq!(
        ds.webhook_attempts(),
        attempts,
        "no more attempts once answered 2xx"
    );
}

both_engines!(
    events_are_kept_thirty_days,
    the_receiver_answers_as_ds_expects,
    without_secrets_there_is_no_endpoint,
    an_acceptance_becomes_verifiable,
    a_burst_of_events_leads_to_one_or_two_syncs,
    a_webhook_during_a_running_sync_waits_for_it,
    two_instances_sync_each_event_once,
    a_failed_delivery_is_sent_again,
);
