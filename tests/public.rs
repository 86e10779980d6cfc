//! The public service over HTTP, started on a random port with files written by the test.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use chrono::{Days, Utc};
use chrono_tz::Europe::Paris;
use reqwest::StatusCode;
use serde_json::{Value, json};
use wif::http::TrustedProxies;
use wif::public::{PublicConfig, serve_on};

struct Service {
    base: String,
    media: tempfile::TempDir,
    client: reqwest::Client,
}

fn config(media: &Path, per_minute: u32, trusted_proxies: TrustedProxies) -> PublicConfig {
    PublicConfig {
        media_root: media.to_owned(),
        time_zone: Paris,
        cors_origins: vec!["https://workinfrance.beta.gouv.fr".into()],
        rate_limit_per_minute: per_minute,
        trusted_proxies,
        hsts: false,
        limits: wif::http::ServerLimits::default(),
        reload_interval: Duration::from_millis(50),
        legal: wif::web::legal::LegalInfo::from_settings(
            &wif::config::Settings::from_lookup(|_| None).unwrap(),
        ),
    }
}

async fn start_with(
    media: tempfile::TempDir,
    per_minute: u32,
    trusted_proxies: TrustedProxies,
) -> Service {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let config = config(media.path(), per_minute, trusted_proxies);
    tokio::spawn(async move {
        serve_on(listener, &config, std::future::pending())
            .await
            .unwrap()
    });
    Service {
        base: format!("http://{addr}"),
        media,
        client: wif::ds::http_client().build().unwrap(),
    }
}

/// A service serving `records`, which reads its files again only when the test calls
/// `Watcher::refresh`, rather than every 50 ms.
async fn start_by_hand(records: &Value) -> (Service, wif::public::data::Watcher) {
    let media = tempfile::tempdir().unwrap();
    write_atomically(
        &media.path().join("validity_check.json"),
        &records.to_string(),
    );
    let config = config(media.path(), 100_000, TrustedProxies::default());
    let shutdown = wif::shutdown::Shutdown::new(Duration::from_secs(1));
    let (router, watcher) = wif::public::app(&config, &shutdown).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(wif::http::serve(
        listener,
        router,
        config.limits,
        TrustedProxies::default(),
        std::future::pending(),
    ));
    let service = Service {
        base,
        media,
        client: wif::ds::http_client().build().unwrap(),
    };
    (service, watcher)
}

/// A service with a generous rate limit, serving `records`.
async fn start(records: &Value) -> Service {
    let media = tempfile::tempdir().unwrap();
    write_atomically(
        &media.path().join("validity_check.json"),
        &records.to_string(),
    );
    start_with(media, 100_000, TrustedProxies::default()).await
}

/// Replaces a file the way the exports do: a whole new file renamed over the old one.
fn write_atomically(path: &Path, content: &str) {
    let temp = path.with_extension("tmp");
    std::fs::write(&temp, content).unwrap();
    std::fs::rename(&temp, path).unwrap();
}

impl Service {
    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn check(&self, ds_id: &str, date: &str) -> (StatusCode, Value) {
        self.get(&format!("/api/v1/apt_validity_check/{ds_id}/{date}"))
            .await
    }
}

fn today() -> chrono::NaiveDate {
    Utc::now().with_timezone(&Paris).date_naive()
}

fn record(ds_id: i64, kind: &str, birth: &str, fin: Option<chrono::NaiveDate>) -> Value {
    json!({"ds_id": ds_id, "type": kind, "siret": "52222222222222", "prenom": "*m**", "nom": "*o*",
           "date_de_naissance": birth, "has_expired": true, "date_de_debut_apt": "2018-03-27",
           "date_de_fin_apt": fin.map(|d| d.to_string())})
}

fn sample() -> Value {
    let yesterday = today() - Days::new(1);
    json!([
        record(44950, "authorization", "1978-12-20", Some(today())),
        record(44951, "authorization", "1990-01-01", Some(yesterday)),
        record(44952, "introduction", "1991-02-03", Some(yesterday)),
        record(44953, "authorization", "1992-03-04", None),
    ])
}

#[tokio::test]
async fn a_valid_apt_is_confirmed_with_its_record() {
    let service = start(&sample()).await;
    let response = service
        .client
        .get(format!(
            "{}/api/v1/apt_validity_check/44950/1978-12-20",
            service.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    let body: Value = response.json().await.unwrap();
    let mut expected = record(44950, "authorization", "1978-12-20", Some(today()));
    expected["has_expired"] = json!(false); // recomputed for today, whatever the file said
    assert_eq!(body, json!({"status": "valid", "data": [expected]}));
}

#[tokio::test]
async fn expired_unknown_or_mismatched_apts_are_invalid() {
    let service = start(&sample()).await;
    let invalid = json!({"status": "invalid", "data": []});
    for (id, date) in [
        ("44951", "1990-01-01"), // ended yesterday
        ("44953", "1992-03-04"), // no end date
        ("44950", "1978-12-21"), // another birth date
        ("99999", "1978-12-20"), // unknown
    ] {
        assert_eq!(
            service.check(id, date).await,
            (StatusCode::OK, invalid.clone()),
            "{id}"
        );
    }
    // An introduction is not judged on the APT's end date.
    let (status, body) = service.check("44952", "1991-02-03").await;
    assert_eq!((status, &body["status"]), (StatusCode::OK, &json!("valid")));
    assert_eq!(body["data"][0]["has_expired"], true);
}

/// A `validity_check.json` as the Python back office's exporter wrote it, which a site may still
/// serve while it switches over: no `type`, `has_expired` null or missing, dates as ISO, as
/// `DD/MM/YYYY` or as free text.
#[tokio::test]
async fn the_python_exporters_file_is_served_as_it_is() {
    let later = today() + Days::new(30);
    let french = |d: chrono::NaiveDate| d.format("%d/%m/%Y").to_string();
    let file = json!([
        {"ds_id": 50001, "siret": "52222222222222", "prenom": "*m**", "nom": "*o*",
         "date_de_naissance": "1978-12-20", "has_expired": false,
         "date_de_debut_apt": "2024-09-01", "date_de_fin_apt": later.to_string()},
        {"ds_id": 50002, "siret": "52222222222222", "prenom": "*a*", "nom": "*i*",
         "date_de_naissance": "1990-01-01", "has_expired": null,
         "date_de_debut_apt": "01/09/2024", "date_de_fin_apt": french(later)},
        {"ds_id": 50003, "siret": null, "prenom": "*o*", "nom": "*e*",
         "date_de_naissance": "1991-02-03",
         "date_de_debut_apt": "à définir", "date_de_fin_apt": "à définir"},
        {"ds_id": 50004, "siret": null, "prenom": null, "nom": "*u*",
         "date_de_naissance": "1992-03-04", "has_expired": false,
         "date_de_debut_apt": "01/01/2020", "date_de_fin_apt": french(today() - Days::new(1))},
        {"ds_id": 50005, "siret": null, "prenom": "*é*", "nom": "*a*",
         "date_de_naissance": "20/12/1978", "has_expired": null,
         "date_de_debut_apt": null, "date_de_fin_apt": later.to_string()},
    ]);
    let service = start(&file).await;
    assert_eq!(
        service.get("/readyz").await.1["records"],
        5,
        "the file is loaded"
    );

    let (status, body) = service.check("50001", "1978-12-20").await;
    assert_eq!((status, &body["status"]), (StatusCode::OK, &json!("valid")));
    assert_eq!(body["data"][0]["type"], "authorization", "no type: an APT");
    assert_eq!(body["data"][0]["has_expired"], false);

    let (_, body) = service.check("50002", "1990-01-01").await;
    assert_eq!(body["status"], "valid");
    assert_eq!(body["data"][0]["date_de_fin_apt"], later.to_string());
    assert_eq!(body["data"][0]["date_de_debut_apt"], "2024-09-01");

    let (_, body) = service.check("50005", "1978-12-20").await;
    assert_eq!(body["status"], "valid", "a DD/MM/YYYY birth date matches");

    let invalid = json!({"status": "invalid", "data": []});
    for (id, date) in [
        ("50003", "1991-02-03"), // « à définir »: unreadable, hence expired
        ("50004", "1992-03-04"), // ended yesterday, whatever has_expired said
    ] {
        assert_eq!(
            service.check(id, date).await,
            (StatusCode::OK, invalid.clone()),
            "{id}"
        );
    }
}

#[tokio::test]
async fn malformed_ids_and_dates_get_a_french_400() {
    let service = start(&sample()).await;
    for (id, date, word) in [
        ("abc", "1978-12-20", "numéro"),
        ("0", "1978-12-20", "numéro"),
        ("12345678901234567890", "1978-12-20", "numéro"),
        ("-5", "1978-12-20", "numéro"),
        ("44950", "2023-02-30", "date"),
        ("44950", "20-12-1978", "date"),
        ("44950", "1978-12-20x", "date"),
        ("44950", "+1978-12-2", "date"),
    ] {
        let (status, body) = service.check(id, date).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{id}/{date}");
        assert_eq!(body["status"], "error");
        assert!(body["message"].as_str().unwrap().contains(word), "{body}");
    }
}

#[tokio::test]
async fn stats_are_served_once_exported() {
    let service = start(&sample()).await;
    let (status, body) = service.get("/static/stats.json").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["status"], "error");

    // A real export, so that the file is exactly what the admin side writes.
    let t = common::TestDb::sqlite(true).await;
    let path = service.media.path().join("stats.json");
    let now = common::at("2024-05-01T10:00:00+02:00");
    wif::export::stats::export(&t.db, &wif::export::Output::File(path.clone()), now, Paris)
        .await
        .unwrap();
    let expected = std::fs::read(&path).unwrap();
    let url = format!("{}/static/stats.json", service.base);
    let response = common::eventually("stats.json to be served", async || {
        let response = service.client.get(&url).send().await.unwrap();
        (response.status() == StatusCode::OK).then_some(response)
    })
    .await;
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(
        response.bytes().await.unwrap().as_ref(),
        expected.as_slice()
    );
}

#[tokio::test]
async fn a_new_file_is_picked_up_and_a_broken_one_refused() {
    let (service, mut watcher) = start_by_hand(&sample()).await;
    let file = service.media.path().join("validity_check.json");
    assert_eq!(
        service.check("50000", "2000-01-01").await.1["status"],
        "invalid"
    );

    let mut updated = sample();
    updated.as_array_mut().unwrap().push(record(
        50000,
        "authorization",
        "2000-01-01",
        Some(today()),
    ));
    write_atomically(&file, &updated.to_string());
    watcher.refresh().await;
    assert_eq!(
        service.check("50000", "2000-01-01").await.1["status"],
        "valid"
    );

    // Truncated, then not JSON at all: both refused, the previous data stays.
    let text = sample().to_string();
    write_atomically(&file, &text[..text.len() / 2]);
    watcher.refresh().await;
    assert_eq!(
        service.check("50000", "2000-01-01").await.1["status"],
        "valid"
    );
    write_atomically(&file, "<html>oups</html>");
    watcher.refresh().await;
    assert_eq!(
        service.check("50000", "2000-01-01").await.1["status"],
        "valid"
    );
    let (_, ready) = service.get("/readyz").await;
    assert_eq!(ready["records"], 5);
}

#[tokio::test]
async fn reloads_under_load_never_serve_half_a_file() {
    let many = |birth: &str| -> Value {
        Value::Array(
            (1..=20_000)
                .map(|id| record(id, "authorization", birth, Some(today())))
                .collect(),
        )
    };
    let (a, b) = (
        many("2001-01-01").to_string(),
        many("2002-02-02").to_string(),
    );
    let service = start(&serde_json::from_str(&a).unwrap()).await;
    let file = service.media.path().join("validity_check.json");

    let base = service.base.clone();
    let load = tokio::spawn(async move {
        let client = wif::ds::http_client().build().unwrap();
        let mut answers = 0;
        for _ in 0..300 {
            let url = format!("{base}/readyz");
            let ready: Value = client.get(url).send().await.unwrap().json().await.unwrap();
            assert_eq!(ready["records"], 20_000, "a partial data set was served");
            let url = format!("{base}/api/v1/apt_validity_check/20000/2001-01-01");
            let body: Value = client.get(url).send().await.unwrap().json().await.unwrap();
            let url = format!("{base}/api/v1/apt_validity_check/20000/2002-02-02");
            let other: Value = client.get(url).send().await.unwrap().json().await.unwrap();
            // Exactly one of the two versions answers, unless a swap fell between the calls.
            assert!(
                body["status"] == "valid"
                    || other["status"] == "valid"
                    || body["status"] == "invalid"
            );
            answers += 1;
        }
        answers
    });
    for i in 0..20 {
        write_atomically(&file, if i % 2 == 0 { &b } else { &a });
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    assert_eq!(load.await.unwrap(), 300);
}

#[tokio::test]
async fn cors_is_granted_to_listed_origins_only() {
    let service = start(&sample()).await;
    let url = format!(
        "{}/api/v1/apt_validity_check/44950/1978-12-20",
        service.base
    );
    let allowed = service
        .client
        .get(&url)
        .header("Origin", "https://workinfrance.beta.gouv.fr")
        .send()
        .await
        .unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://workinfrance.beta.gouv.fr"
    );
    let refused = service
        .client
        .get(&url)
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    let preflight = |origin: &'static str| {
        service
            .client
            .request(reqwest::Method::OPTIONS, &url)
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "GET")
            .send()
    };
    let ok = preflight("https://workinfrance.beta.gouv.fr")
        .await
        .unwrap();
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://workinfrance.beta.gouv.fr"
    );
    assert!(
        ok.headers()["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("GET")
    );
    let ko = preflight("https://evil.example").await.unwrap();
    assert!(ko.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn the_rate_limit_answers_429_with_retry_after() {
    let media = tempfile::tempdir().unwrap();
    write_atomically(
        &media.path().join("validity_check.json"),
        &sample().to_string(),
    );
    let service = start_with(media, 60, TrustedProxies::default()).await;
    let url = format!(
        "{}/api/v1/apt_validity_check/44950/1978-12-20",
        service.base
    );
    let mut statuses = Vec::new();
    for i in 0..8 {
        // Without WIF_TRUST_PROXY a forged header changes nothing.
        let response = service
            .client
            .get(&url)
            .header("X-Forwarded-For", format!("203.0.113.{i}"))
            .send()
            .await
            .unwrap();
        statuses.push(response.status());
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            let retry: u64 = response.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=60).contains(&retry));
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["status"], "error");
        }
    }
    assert_eq!(&statuses[..6], &[StatusCode::OK; 6]);
    assert_eq!(&statuses[6..], &[StatusCode::TOO_MANY_REQUESTS; 2]);
    let (health, _) = service.get("/healthz").await;
    assert_eq!(health, StatusCode::OK, "only the validity check is limited");
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_allowance() {
    // `WIF_TRUST_PROXY=True` (the connected peer), then `WIF_TRUSTED_PROXIES` with an inner
    // proxy whose entry comes last.
    let alias = TrustedProxies {
        any_peer: true,
        networks: Vec::new(),
    };
    let listed = TrustedProxies::parse("127.0.0.1, 10.0.0.0/8").unwrap();
    for (trusted, last_hop) in [(alias, ""), (listed, ", 10.9.9.9")] {
        let media = tempfile::tempdir().unwrap();
        write_atomically(
            &media.path().join("validity_check.json"),
            &sample().to_string(),
        );
        each_client_has_its_own_allowance(start_with(media, 60, trusted).await, last_hop).await;
    }
}

async fn each_client_has_its_own_allowance(service: Service, last_hop: &str) {
    let url = format!(
        "{}/api/v1/apt_validity_check/44950/1978-12-20",
        service.base
    );
    let get = |client_ip: String| {
        service
            .client
            .get(&url)
            .header(
                "X-Forwarded-For",
                format!("198.51.100.7, {client_ip}{last_hop}"),
            )
            .send()
    };
    for _ in 0..6 {
        assert_eq!(
            get("203.0.113.1".into()).await.unwrap().status(),
            StatusCode::OK
        );
    }
    assert_eq!(
        get("203.0.113.1".into()).await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        get("203.0.113.2".into()).await.unwrap().status(),
        StatusCode::OK
    );
}

/// One IPv6 host holds a whole /64: its 2^64 addresses share one allowance, while the next /64
/// is another client.
#[tokio::test]
async fn the_addresses_of_one_ipv6_64_share_one_allowance() {
    let media = tempfile::tempdir().unwrap();
    write_atomically(
        &media.path().join("validity_check.json"),
        &sample().to_string(),
    );
    let proxy = TrustedProxies::parse("127.0.0.1").unwrap();
    let service = start_with(media, 60, proxy).await;
    let url = format!(
        "{}/api/v1/apt_validity_check/44950/1978-12-20",
        service.base
    );
    let get = |client: String| {
        service
            .client
            .get(&url)
            .header("X-Forwarded-For", client)
            .send()
    };
    let mut answered = 0;
    for i in 0..300u32 {
        let client = format!("2001:db8:1:2:{i:x}:{:x}:7:{i:x}", i * 7);
        let status = get(client).await.unwrap().status();
        answered += usize::from(status == StatusCode::OK);
    }
    assert_eq!(
        answered, 6,
        "300 addresses of one /64, the burst of one client"
    );
    assert_eq!(
        get("2001:db8:1:3::1".into()).await.unwrap().status(),
        StatusCode::OK,
        "the next /64 has its own allowance"
    );
}

#[tokio::test]
async fn a_thousand_malformed_requests_never_get_a_5xx() {
    let service = start(&sample()).await;
    let mut seed: u64 = 0x5EED;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let fixed = [
        "/api/v1/apt_validity_check/../../etc/passwd/1978-12-20".to_owned(),
        "/api/v1/apt_validity_check/%2e%2e%2f%2e%2e/1978-12-20".to_owned(),
        "/api/v1/apt_validity_check/44950/%00".to_owned(),
        "/api/v1/apt_validity_check/44950/1978-12-20/extra".to_owned(),
        "/api/v1/apt_validity_check/44950".to_owned(),
        "/api/v1/apt_validity_check//1978-12-20".to_owned(),
        "/api/v1/apt_validity_check/%FF%FE/1978-12-20".to_owned(),
        format!("/api/v1/apt_validity_check/{}/1978-12-20", "9".repeat(5000)),
        "/static/../Cargo.toml".to_owned(),
        "/static/%2e%2e/%2e%2e/etc/passwd".to_owned(),
    ];
    let mut paths: Vec<String> = fixed.to_vec();
    while paths.len() < 1200 {
        let len = (next() % 40) as usize + 1;
        let junk: String = (0..len)
            .map(|_| match next() % 4 {
                0 => format!("%{:02X}", next() % 256),
                1 => ((b'!' + (next() % 94) as u8) as char)
                    .to_string()
                    .replace(['#', '?', '/'], "x"),
                2 => "é".to_owned(),
                _ => ((b'0' + (next() % 10) as u8) as char).to_string(),
            })
            .collect();
        // The junk in the id, in the date, or elsewhere: never both well formed.
        let path = match next() % 3 {
            0 => format!("/api/v1/apt_validity_check/{junk}x/1978-12-20"),
            1 => format!("/api/v1/apt_validity_check/44950/{junk}x"),
            _ => format!("/{junk}"),
        };
        paths.push(path);
    }
    let mut client_errors = 0;
    for path in &paths {
        let response = service
            .client
            .get(format!("{}{path}", service.base))
            .send()
            .await;
        let status = response.unwrap().status();
        assert!(status.is_client_error(), "{path} gave {status}");
        client_errors += 1;
    }
    assert!(client_errors >= 1000);
}

#[tokio::test]
async fn serve_public_runs_without_any_database() {
    let media = tempfile::tempdir().unwrap();
    write_atomically(
        &media.path().join("validity_check.json"),
        &sample().to_string(),
    );
    let mut child = common::Running(
        std::process::Command::new(env!("CARGO_BIN_EXE_wif"))
            .arg("serve-public")
            .current_dir(media.path())
            .env_clear()
            .env(
                "WIF_DATABASE_URL",
                "postgres://nobody:secret@127.0.0.1:1/none",
            )
            .env("WIF_MEDIA_ROOT", media.path())
            .env("WIF_PUBLIC_BIND", "127.0.0.1:0")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Its first line says where it listens, on the port the system chose; connections made from
    // then on wait for it to serve.
    let stdout = child.0.stdout.take().unwrap();
    let first = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).unwrap();
        line
    })
    .await
    .unwrap();
    let base = first
        .trim_end()
        .strip_prefix("Service public : ")
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .trim_end_matches('/');
    let client = wif::ds::http_client().build().unwrap();
    let url = format!("{base}/api/v1/apt_validity_check/44950/1978-12-20");
    let body: Value = client.get(&url).send().await.unwrap().json().await.unwrap();
    drop(child);
    assert_eq!(body["status"], "valid");
    assert!(!media.path().join("wif.sqlite3").exists());
}

impl Service {
    /// A page as a browser asks for it: status, `Content-Type` and body.
    async fn page(
        &self,
        path: &str,
        accept_language: Option<&str>,
    ) -> (StatusCode, String, String) {
        let mut request = self.client.get(format!("{}{path}", self.base));
        if let Some(language) = accept_language {
            request = request.header("accept-language", language);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let kind = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        (status, kind, response.text().await.unwrap())
    }
}

/// The verification page answers like the API: the record of a valid APT; one generic answer
/// for a wrong date, an expired APT or an unknown number; form errors next to their field.
#[tokio::test]
async fn the_verification_page_answers_like_the_api() {
    let service = start(&sample()).await;
    let (status, kind, home) = service.page("/", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(kind.starts_with("text/html"), "{kind}");
    assert!(home.contains("<html lang=\"fr\""));
    assert!(home.contains("Vérifier une autorisation provisoire de travail"));
    assert!(home.contains("<label class=\"fr-label\" for=\"numero\">"));
    assert!(home.contains("<label class=\"fr-label\" for=\"date_de_naissance\">"));
    assert!(!home.contains("<script"), "no JavaScript needed");

    let (status, _, valid) = service
        .page("/verifier?numero=44950&date_de_naissance=1978-12-20", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(valid.contains("Autorisation valide"), "{valid}");
    assert!(valid.contains("*m**") && valid.contains("*o*"));
    assert!(
        valid.contains("27/03/2018") && valid.contains(&today().format("%d/%m/%Y").to_string())
    );
    assert!(valid.contains("Autorisation provisoire de travail"));

    let generic = |body: &str| {
        body.contains("Aucune autorisation valide")
            && !body.contains("Autorisation valide<")
            && !body.contains("*m**")
    };
    let mut answers = Vec::new();
    for query in [
        "numero=44950&date_de_naissance=1978-12-21",
        "numero=44951&date_de_naissance=1990-01-01",
        "numero=99999999&date_de_naissance=1978-12-20",
    ] {
        let (status, _, body) = service.page(&format!("/verifier?{query}"), None).await;
        assert_eq!(status, StatusCode::OK, "{query}");
        assert!(generic(&body), "{query}: {body}");
        let start = body.find("<main").unwrap();
        answers.push(body[start..].replace(query, ""));
    }
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "the answer does not tell whether the number exists"
    );

    let (status, _, errors) = service
        .page("/verifier?numero=abc&date_de_naissance=1997-02-30", None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(errors.contains("<title>Erreur :"));
    assert!(errors.contains("id=\"numero-erreur\">Le numéro doit comporter de 1 à 19 chiffres."));
    assert!(errors.contains(
        "id=\"date_de_naissance-erreur\">La date de naissance doit être une date réelle au format AAAA-MM-JJ."
    ));
    assert!(errors.contains("aria-describedby=\"numero-aide numero-erreur\""));
    assert!(errors.contains("value=\"abc\""), "what was typed stays");

    let (status, _, prefilled) = service.page("/verifier?numero=44950", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(prefilled.contains("name=\"numero\" type=\"text\" value=\"44950\""));
    assert!(!prefilled.contains("fr-error-text"));
}

/// English with `?lang=en` or the browser's language, French otherwise; the switch keeps the
/// form's values.
#[tokio::test]
async fn the_pages_speak_french_or_english() {
    let service = start(&sample()).await;
    let (_, _, english) = service.page("/", Some("en-GB,en;q=0.8")).await;
    assert!(english.contains("<html lang=\"en\""));
    assert!(english.contains("Check a temporary work authorisation"));
    let (_, _, asked) = service
        .page(
            "/verifier?numero=44950&date_de_naissance=1978-12-20&lang=en",
            None,
        )
        .await;
    assert!(asked.contains("Valid authorisation") && asked.contains("2018-03-27"));
    assert!(
        asked.contains("name=\"lang\" value=\"en\""),
        "the next check stays in English"
    );
    assert!(
        asked.contains(
            "href=\"/verifier?numero=44950&amp;date_de_naissance=1978-12-20&amp;lang=fr\""
        )
    );
    let (_, _, french) = service.page("/", Some("fr-FR,fr;q=0.9,en;q=0.5")).await;
    assert!(french.contains("<html lang=\"fr\""));
}

/// The statistics of the exported file, as charts with their tables; the DSFR from the binary;
/// the admin's strict security headers.
#[tokio::test]
async fn statistics_assets_and_headers() {
    let t = common::TestDb::sqlite(true).await;
    common::seed_dossiers(&t, 200).await;
    let stats = wif::export::stats::compute(&t.db, Utc::now(), Paris)
        .await
        .unwrap();
    let service = start(&sample()).await;
    let (_, _, before) = service.page("/statistiques", None).await;
    assert!(before.contains("pas encore disponibles"));
    write_atomically(
        &service.media.path().join("stats.json"),
        &serde_json::to_string(&stats).unwrap(),
    );
    let page = common::eventually("the statistics page to draw its charts", async || {
        let page = service.page("/statistiques", None).await.2;
        page.contains("<svg").then_some(page)
    })
    .await;
    assert_eq!(page.matches("<svg").count(), 5, "{page}");
    let total = format!("{}", stats.data.total_dossiers);
    assert!(page.contains(&total), "the total of the file");
    for status in ["Brouillon", "Accepté", "Sans suite"] {
        assert!(page.contains(status));
    }
    let (_, _, english) = service.page("/statistiques?lang=en", None).await;
    assert!(english.contains("Accepted") && english.contains("Applications per day"));

    let css = service
        .client
        .get(format!("{}/static/dsfr/dsfr.min.css", service.base))
        .send()
        .await
        .unwrap();
    let dsfr = wif::web::assets::dsfr_available();
    assert_eq!(
        css.status(),
        if dsfr {
            StatusCode::OK
        } else {
            StatusCode::NOT_FOUND
        }
    );
    let home = service
        .client
        .get(format!("{}/", service.base))
        .send()
        .await
        .unwrap();
    let csp = home.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(home.headers()["x-frame-options"], "DENY");
    assert!(home.headers().get("permissions-policy").is_some());
}

/// The pages share the API's allowance per address; beyond it, a French page says to wait.
#[tokio::test]
async fn the_pages_count_against_the_rate_limit() {
    let media = tempfile::tempdir().unwrap();
    write_atomically(
        &media.path().join("validity_check.json"),
        &sample().to_string(),
    );
    let service = start_with(media, 60, TrustedProxies::default()).await;
    let mut statuses = Vec::new();
    for path in [
        "/",
        "/statistiques",
        "/verifier?numero=1",
        "/",
        "/",
        "/api/v1/apt_validity_check/44950/1978-12-20",
        "/",
    ] {
        statuses.push(service.page(path, None).await);
    }
    let codes: Vec<StatusCode> = statuses.iter().map(|(s, _, _)| *s).collect();
    assert_eq!(&codes[..6], &[StatusCode::OK; 6]);
    assert_eq!(codes[6], StatusCode::TOO_MANY_REQUESTS);
    let (_, kind, body) = &statuses[6];
    assert!(kind.starts_with("text/html"));
    assert!(body.contains("Trop de requêtes depuis votre adresse"));
    let css = service
        .client
        .get(format!("{}/static/wif.css", service.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        css.status(),
        StatusCode::OK,
        "the style sheet is not counted"
    );
}
