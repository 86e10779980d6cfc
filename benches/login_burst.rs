//! Benchmark (issue 13): how an authenticated page and `/healthz` answer while 300 sign-ins for
//! unknown users arrive at once (Argon2 costs tens of milliseconds of CPU each).
//!
//! `cargo bench --bench login_burst` starts the admin on a fresh SQLite file, on a runtime of
//! its own with two worker threads (as `wif serve` on a 2-core machine); the client runs on
//! another thread. It prints p50, p99 and the maximum of the page's latency during the burst,
//! the same for `/healthz`, how the sign-ins were answered and how long the burst took.

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const BURST: usize = 300;

fn main() {
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (base, ds_id, _t) = server.block_on(async {
        let t = common::TestDb::sqlite(true).await;
        let dossiers = common::seed_dossiers(&t, 100).await;
        common::create_user(&t, "marie", true).await;
        // The burst comes from this one address, where in production it would come from many:
        // the bound on one client's connections would close most of it before any password
        // check.
        let base = common::start_admin_configured(&t, &[], |state| {
            state.limits.max_connections_per_client = BURST + 100
        })
        .await;
        (base, dossiers[0].ds_id.get(), t)
    });
    let client = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    client.block_on(measure(&base, ds_id));
    drop(server);
}

async fn measure(base: &str, ds_id: i64) {
    let http = wif::ds::http_client()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(1000)
        .build()
        .unwrap();
    let (csrf, cookie) = login_form(&http, base).await;
    let signed_in = http
        .post(format!("{base}/admin/login"))
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            serde_urlencoded::to_string([
                ("csrf", csrf.as_str()),
                ("next", "/admin/"),
                ("username", "marie"),
                ("password", common::ADMIN_PASSWORD),
            ])
            .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let session = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("wif_session="))
        .and_then(|v| v.split(';').next())
        .expect("signed in")
        .to_owned();
    let page = format!("{base}/admin/dossiers/{ds_id}");
    let before = latencies(&http, &page, &session, 20).await;

    let started = Instant::now();
    let burst: Vec<_> = (0..BURST)
        .map(|i| {
            let form = serde_urlencoded::to_string([
                ("csrf", csrf.as_str()),
                ("next", "/admin/"),
                ("username", &format!("inconnu{i}")),
                ("password", "mauvais mot de passe"),
            ])
            .unwrap();
            http.post(format!("{base}/admin/login"))
                .header("cookie", &cookie)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form)
                .send()
        })
        .collect();
    let burst = futures_util::future::join_all(burst);
    tokio::pin!(burst);
    let mut pages = Vec::new();
    let mut health = Vec::new();
    let answers = loop {
        tokio::select! {
            answers = &mut burst => break answers,
            () = async {
                pages.push(timed(&http, &page, &session).await);
                health.push(timed(&http, &format!("{base}/healthz"), "").await);
            } => {}
        }
    };
    let burst_time = started.elapsed();
    let mut statuses = BTreeMap::new();
    for answer in answers {
        let status = answer.map_or(0, |a| a.status().as_u16());
        *statuses.entry(status).or_insert(0) += 1;
    }
    println!("page before the burst: {}", summary(&mut before.clone()));
    println!("page during the burst: {}", summary(&mut pages));
    println!("/healthz during the burst: {}", summary(&mut health));
    println!(
        "{BURST} sign-ins answered in {:.2} s, by status: {statuses:?}",
        burst_time.as_secs_f64()
    );
}

async fn login_form(http: &reqwest::Client, base: &str) -> (String, String) {
    let form = http
        .get(format!("{base}/admin/login"))
        .send()
        .await
        .unwrap();
    let cookie = form
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("wif_login_csrf="))
        .and_then(|v| v.split(';').next())
        .unwrap()
        .to_owned();
    let body = form.text().await.unwrap();
    let start = body.find("name=\"csrf\" value=\"").unwrap() + 19;
    (body[start..start + 64].to_owned(), cookie)
}

async fn timed(http: &reqwest::Client, url: &str, cookie: &str) -> Duration {
    let started = Instant::now();
    let answer = http.get(url).header("cookie", cookie).send().await.unwrap();
    assert_eq!(answer.status(), 200, "{url}");
    answer.bytes().await.unwrap();
    started.elapsed()
}

async fn latencies(http: &reqwest::Client, url: &str, cookie: &str, n: usize) -> Vec<Duration> {
    let mut all = Vec::with_capacity(n);
    for _ in 0..n {
        all.push(timed(http, url, cookie).await);
    }
    all
}

fn summary(latencies: &mut [Duration]) -> String {
    latencies.sort();
    let at = |q: f64| {
        let index = ((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[index].as_secs_f64() * 1000.0
    };
    format!(
        "{} requests, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        latencies.len(),
        at(0.5),
        at(0.99),
        at(1.0)
    )
}
