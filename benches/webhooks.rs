//! Benchmark of real-time updates (SPEC 12): from the simulator accepting a dossier (its webhook
//! sent) to `serve-public` answering `valid` for it, and the receiver's answer times under 100
//! webhooks a second.
//!
//! `cargo bench --bench webhooks` syncs `WIF_BENCH_DOSSIERS` simulated dossiers (default
//! 100,000) into a fresh SQLite file and, when `WIF_TEST_DATABASE_URL` names a PostgreSQL
//! server, into a fresh PostgreSQL database; then runs the admin (webhooks on, the default 5 s
//! debounce) and the public service (files checked every 2 s, as in production) in this process,
//! accepts 20 dossiers one after the other on the simulator and times each until the public API
//! says `valid`; then sends 1,000 signed deliveries at 100 a second and prints the median and
//! 99th percentile of the answers.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::TestDb;
use indicatif::ProgressBar;
use serde_json::json;
use wif::config::Settings;
use wif::domain::Status;
use wif::domain::webhook::{SIGNATURE_HEADER, sign};
use wif::ds::RetryPolicy;
use wif::export::{Output, validity_check};
use wif::fake_ds::{FakeDs, WebhookTarget};
use wif::sync::{self, SyncOptions};

const PROCEDURE: i64 = 4242;
const TOKEN: &str = "jeton-de-benchmark";
const SECRET: &str = "whsec_secret-de-benchmark-0123456789";
const ACCEPTANCES: usize = 20;

#[tokio::main]
async fn main() {
    let dossiers = std::env::var("WIF_BENCH_DOSSIERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    bench("SQLite", &TestDb::sqlite(true).await, dossiers).await;
    if std::env::var_os("WIF_TEST_DATABASE_URL").is_some() {
        let t = TestDb::postgres(true)
            .await
            .expect("WIF_TEST_DATABASE_URL is set");
        bench("PostgreSQL", &t, dossiers).await;
    }
}

async fn bench(engine: &str, t: &TestDb, dossiers: u64) {
    let ds = FakeDs::new(dossiers, 7, PROCEDURE, TOKEN);
    let ds_url = common::start_simulator(&ds).await;
    let media = t.dir.path().join("media");
    let settings = Settings::from_lookup(|key| {
        let value = match key {
            "WIF_DATABASE_URL" => t.url.clone(),
            "WIF_DEBUG" => "True".into(),
            "WIF_MEDIA_ROOT" => media.to_str().unwrap().to_owned(),
            "WIF_DS_WEBHOOK_SECRETS" => SECRET.into(),
            "DEMARCHES_SIMPLIFIEES_API_URL" => ds_url.clone(),
            "DEMARCHES_SIMPLIFIEES_API_TOKEN" => TOKEN.into(),
            "DEMARCHES_SIMPLIFIEES_PROCEDURE_ID_APT" => PROCEDURE.to_string(),
            "DEMARCHES_SIMPLIFIEES_RATE_LIMIT" => "1000000".into(),
            _ => return None,
        };
        Some(value)
    })
    .unwrap();
    let started = Instant::now();
    let options = SyncOptions {
        full: true,
        procedure: None,
    };
    sync::run(
        &t.db,
        &settings.ds,
        RetryPolicy::default(),
        &options,
        &ProgressBar::hidden(),
        std::future::pending(),
    )
    .await
    .unwrap();
    let output = Output::choose(None, &media, validity_check::FILE_NAME);
    validity_check::export(&t.db, &output, chrono::Utc::now().date_naive())
        .await
        .unwrap();
    println!(
        "{engine}: {dossiers} dossiers synced and exported in {:.0} s",
        started.elapsed().as_secs_f64()
    );

    let admin = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let admin_url = format!("http://{}", admin.local_addr().unwrap());
    let state = wif::admin::AppState::new(t.db.clone(), &settings, common::test_secret());
    common::serve_admin(state, Some(admin)).await;
    let public = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let public_url = format!("http://{}", public.local_addr().unwrap());
    let config = wif::public::PublicConfig {
        rate_limit_per_minute: 1_000_000,
        ..wif::public::PublicConfig::from_settings(&settings)
    };
    tokio::spawn(
        async move { wif::public::serve_on(public, &config, std::future::pending()).await },
    );
    ds.set_webhook(Some(WebhookTarget {
        url: format!("{admin_url}/webhooks/ds"),
        secret: SECRET.into(),
        retry_delays: WebhookTarget::ds_schedule(),
    }));

    let client = wif::ds::http_client().build().unwrap();
    let waiting: Vec<_> = ds
        .dossiers()
        .into_iter()
        .filter(|d| d.status == Status::Received && d.date_de_naissance.is_some())
        .take(ACCEPTANCES)
        .collect();
    let mut delays = Vec::new();
    for d in &waiting {
        let birth = d.date_de_naissance.unwrap().format("%Y-%m-%d");
        let check = format!("{public_url}/api/v1/apt_validity_check/{}/{birth}", d.ds_id);
        let accepted_at = Instant::now();
        ds.change_one(d.ds_id.get(), |d, now| {
            let today = now.date_naive();
            d.status = Status::Closed;
            d.processed_at = Some(now);
            d.date_de_debut_apt = Some(today);
            d.date_de_fin_apt = Some(today + chrono::Days::new(180));
            d.champs
                .insert("date_de_debut_apt".into(), json!(today.to_string()));
            d.champs.insert(
                "date_de_fin_apt".into(),
                json!((today + chrono::Days::new(180)).to_string()),
            );
            Some("dossier_accepte")
        });
        common::until(&format!("dossier {} to be valid", d.ds_id), async || {
            let answer = client.get(&check).send().await.unwrap();
            answer.text().await.unwrap().contains("\"valid\"")
        })
        .await;
        delays.push(accepted_at.elapsed().as_secs_f64());
    }
    delays.sort_by(f64::total_cmp);
    println!(
        "{engine}: acceptance → public `valid` over {} dossiers: median {:.1} s, max {:.1} s",
        delays.len(),
        delays[delays.len() / 2],
        delays[delays.len() - 1]
    );

    // 100 deliveries a second for ten seconds, each answered on its own connection's time.
    let mut answers = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    let mut sent = Vec::new();
    for i in 0..1000_i64 {
        tick.tick().await;
        let body = json!({"webhook_id": "bench", "demarche_number": PROCEDURE,
            "events": [{"sequence": 1_000_000 + i, "type": "dossier_modifie", "dossier_number": waiting[0].ds_id.get(),
                        "timestamp": "2026-03-05T14:12:31+01:00"}]})
        .to_string();
        let request = client
            .post(format!("{admin_url}/webhooks/ds"))
            .header(SIGNATURE_HEADER, sign(SECRET, body.as_bytes()))
            .body(body);
        sent.push(tokio::spawn(async move {
            let at = Instant::now();
            let status = request.send().await.unwrap().status();
            assert!(status.is_success(), "{status}");
            at.elapsed().as_secs_f64() * 1000.0
        }));
    }
    for answer in sent {
        answers.push(answer.await.unwrap());
    }
    answers.sort_by(f64::total_cmp);
    println!(
        "{engine}: receiver at 100 webhooks/s: median {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        answers[answers.len() / 2],
        answers[answers.len() * 99 / 100],
        answers[answers.len() - 1]
    );
}
