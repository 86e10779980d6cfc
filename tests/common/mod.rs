//! The test harness: every scenario runs against a fresh SQLite file and, when
//! `WIF_TEST_DATABASE_URL` names a PostgreSQL server, against a fresh PostgreSQL database.

#![allow(dead_code)]

pub mod django;
pub mod ds;
pub mod oidc;
pub mod poll;
pub mod smtp;

// Each test binary uses some of them.
#[allow(unused_imports)]
pub use ds::{simulator_settings, start_simulator};
#[allow(unused_imports)]
pub use poll::{eventually, poll, until};

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use std::collections::HashMap;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use wif::store::Db;

/// A database of its own for one test, removed when the test ends.
pub struct TestDb {
    pub db: Db,
    pub url: String,
    /// The directory of the SQLite file, or a scratch directory for PostgreSQL tests.
    pub dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

impl TestDb {
    /// A new SQLite file, its schema migrated when `migrated`.
    pub async fn sqlite(migrated: bool) -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let path: PathBuf = dir.path().join("wif.sqlite3");
        let url = format!("sqlite://{}", path.display());
        let db = Db::connect(&url).await.unwrap();
        if migrated {
            db.migrate().await.unwrap();
        }
        TestDb {
            db,
            url,
            dir,
            postgres: None,
        }
    }

    /// A new PostgreSQL database on the server of `WIF_TEST_DATABASE_URL`, or `None` (and a
    /// note on stderr) when the variable is not set, unless `CI` is set: then the test fails. A
    /// set but unreachable server fails the test.
    pub async fn postgres(migrated: bool) -> Option<TestDb> {
        let (admin_url, name) = new_postgres_database("wif_test").await?;
        let url = with_database(&admin_url, &name);
        let db = Db::connect(&url).await.unwrap();
        if migrated {
            db.migrate().await.unwrap();
        }
        Some(TestDb {
            db,
            url,
            dir: tempfile::tempdir().unwrap(),
            postgres: Some((admin_url, name)),
        })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.take() else {
            return;
        };
        // Drop cannot await: a short-lived runtime on its own thread removes the database.
        block_on_thread(async move {
            if let Ok(Db::Postgres(pool)) = Db::connect(&admin_url).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&pool)
                    .await;
                pool.close().await;
            }
        });
    }
}

/// A new, empty database named `<prefix>_…` on the server of `WIF_TEST_DATABASE_URL`: the server's
/// URL and the name. `None` (and a note on stderr) when the variable is not set, unless `CI` is
/// set: then the test fails, since a skipped test would print `ok` like one that ran.
pub async fn new_postgres_database(prefix: &str) -> Option<(String, String)> {
    let Ok(admin_url) = std::env::var("WIF_TEST_DATABASE_URL") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but WIF_TEST_DATABASE_URL is not: the PostgreSQL tests cannot run"
        );
        eprintln!("PostgreSQL skipped: set WIF_TEST_DATABASE_URL to run this test on PostgreSQL");
        return None;
    };
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    let admin = Db::connect(&admin_url)
        .await
        .expect("WIF_TEST_DATABASE_URL is set but its server cannot be reached");
    let Db::Postgres(pool) = &admin else {
        panic!("WIF_TEST_DATABASE_URL must be a postgres:// URL");
    };
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(pool)
        .await
        .unwrap();
    admin.close().await;
    Some((admin_url, name))
}

/// Runs `future` to its end on a runtime of its own, in a thread of its own: for `Drop`, which
/// cannot await and may run inside a blocked test runtime.
pub fn block_on_thread(future: impl Future<Output = ()> + Send + 'static) {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(future)
    })
    .join()
    .unwrap();
}

/// The same server URL with another database name.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let (scheme, rest) = base.split_once("://").expect("a postgres:// URL");
    let server = rest.split_once('/').map_or(rest, |(server, _)| server);
    let query = query.map(|q| format!("?{q}")).unwrap_or_default();
    format!("{scheme}://{server}/{name}{query}")
}

/// Declares, for each `async fn scenario(t: &TestDb)`, a module with a `sqlite` and a
/// `postgres` test running it on a fresh, migrated database.
#[macro_export]
macro_rules! both_engines {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[tokio::test]
            async fn sqlite() {
                let t = $crate::common::TestDb::sqlite(true).await;
                super::$scenario(&t).await;
            }

            #[tokio::test]
            async fn postgres() {
                if let Some(t) = $crate::common::TestDb::postgres(true).await {
                    super::$scenario(&t).await;
                }
            }
        }
    )*};
}

/// Runs `sql` with its `binds` on a test database, whichever its engine: what a test changes
/// behind the program's back.
#[macro_export]
macro_rules! execute {
    ($t:expr, $sql:expr $(, $bind:expr)* $(,)?) => {
        match &$t.db {
            wif::store::Db::Sqlite(pool) => {
                sqlx::query($sql)$(.bind($bind))*.execute(pool).await.unwrap();
            }
            wif::store::Db::Postgres(pool) => {
                sqlx::query($sql)$(.bind($bind))*.execute(pool).await.unwrap();
            }
        }
    };
}

/// Runs `wif purge` thirty years from now, when every decided dossier is past its time
/// (SPEC 14); returns its counts.
pub async fn erase_every_decided_dossier(db: &Db) -> wif::store::purge::PurgeCounts {
    let far = chrono::Utc::now() + chrono::Duration::days(365 * 30);
    let policy = wif::domain::retention::RetentionPolicy::default();
    wif::purge::run(db, &policy, chrono_tz::Europe::Paris, far, false, &|_| {})
        .await
        .unwrap()
}

/// A dossier of démarche 1 with only a number and a status; tests set what they need.
pub fn dossier(ds_id: i64, status: wif::domain::Status) -> wif::domain::Dossier {
    let ds_id = wif::domain::DsId::new(ds_id).unwrap();
    let mut d = wif::domain::Dossier::new(ds_id, 1, status, wif::domain::ApiVersion::V1);
    d.raw = serde_json::json!({"dossier": {"id": ds_id.get(), "state": status.as_str()}});
    d
}

/// Dossiers of a status created at the given instants, numbered as given.
pub fn created(status: wif::domain::Status, list: &[(i64, &str)]) -> Vec<wif::domain::Dossier> {
    list.iter()
        .map(|(id, when)| {
            let mut d = dossier(*id, status);
            d.created_at = Some(at(when));
            d
        })
        .collect()
}

/// An instant from RFC 3339 text.
pub fn at(rfc3339: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .with_timezone(&chrono::Utc)
}

/// Runs `wif` in `dir` with only the given variables (no inherited `WIF_*`), feeding `stdin`.
pub fn wif(dir: &Path, vars: &[(&str, &str)], args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wif"))
        .current_dir(dir)
        .env_clear()
        .envs(vars.iter().copied())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A child process killed and reaped when dropped, so that a test failing while it runs leaves
/// nothing behind (a `wif demo` would otherwise serve on after the test).
pub struct Running(pub std::process::Child);

impl std::ops::Deref for Running {
    type Target = std::process::Child;

    fn deref(&self) -> &std::process::Child {
        &self.0
    }
}

impl std::ops::DerefMut for Running {
    fn deref_mut(&mut self) -> &mut std::process::Child {
        &mut self.0
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sends SIGINT to `child`, as Ctrl-C in its terminal would: from Rust, since a machine with only
/// the Rust toolchain may have no `kill` program.
pub fn interrupt(child: &std::process::Child) {
    let pid = nix::unistd::Pid::from_raw(child.id().try_into().unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
}

/// A failure as the user must see it: non-zero, one line on stderr, no panic.
pub fn assert_clear_failure(output: &Output, expected: &str) -> String {
    let err = stderr(output);
    assert!(!output.status.success(), "should fail: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("erreur : "), "{err}");
    assert!(err.contains(expected), "{expected:?} not in {err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

pub const ADMIN_PASSWORD: &str = "correct cheval agrafe";

/// The admin app on a free port of 127.0.0.1, serving `t`'s database; returns its base URL.
/// Cookies are not `Secure` (plain HTTP), as with `WIF_DEBUG`.
pub async fn start_admin(t: &TestDb) -> String {
    start_admin_with(t, true).await
}

/// The admin app as `start_admin`, with `WIF_DEBUG` as given.
pub async fn start_admin_with(t: &TestDb, debug: bool) -> String {
    let debug = debug.to_string();
    start_admin_configured(t, &[("WIF_DEBUG", &debug)], |_| {}).await
}

/// The admin app on `t`'s database with these settings (`WIF_DEBUG` is `True` unless given),
/// its state adjusted by `adjust` before it serves.
pub async fn start_admin_configured(
    t: &TestDb,
    vars: &[(&str, &str)],
    adjust: impl FnOnce(&mut wif::admin::AppState),
) -> String {
    let settings = wif::config::Settings::from_lookup(|key| match key {
        "WIF_DATABASE_URL" => Some(t.url.clone()),
        _ => vars
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.to_string())
            .or_else(|| (key == "WIF_DEBUG").then(|| "True".to_owned())),
    })
    .unwrap();
    let mut state = wif::admin::AppState::new(t.db.clone(), &settings, test_secret());
    adjust(&mut state);
    serve_admin(state, None).await
}

/// The key that peppers the test admins' sessions.
pub fn test_secret() -> wif::config::Secret {
    wif::config::Secret::new("0123456789abcdef0123456789abcdef".into())
}

/// Serves `state` on `listener`, or on a free port of 127.0.0.1; returns the base URL.
pub async fn serve_admin(
    state: wif::admin::AppState,
    listener: Option<tokio::net::TcpListener>,
) -> String {
    let listener = match listener {
        Some(listener) => listener,
        None => tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
    };
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(wif::admin::serve_on(
        listener,
        std::sync::Arc::new(state),
        std::future::pending(),
    ));
    url
}

/// The admin app and its metrics listener, each on a free port; returns their base URLs.
pub async fn start_admin_and_metrics(t: &TestDb) -> (String, String) {
    let settings = wif::config::Settings::from_lookup(|key| match key {
        "WIF_DATABASE_URL" => Some(t.url.clone()),
        "WIF_DEBUG" => Some("True".into()),
        _ => None,
    })
    .unwrap();
    let state = std::sync::Arc::new(wif::admin::AppState::new(
        t.db.clone(),
        &settings,
        test_secret(),
    ));
    let mut urls = Vec::new();
    for metrics in [false, true] {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        urls.push(format!("http://{}", listener.local_addr().unwrap()));
        let (state, shutdown) = (state.clone(), std::future::pending());
        match metrics {
            false => tokio::spawn(wif::admin::serve_on(listener, state, shutdown)),
            true => tokio::spawn(wif::admin::serve_metrics(listener, state, shutdown)),
        };
    }
    (urls.remove(0), urls.remove(0))
}

/// An account with `ADMIN_PASSWORD`; returns its id.
pub async fn create_user(t: &TestDb, username: &str, superuser: bool) -> i64 {
    let hash = wif::domain::account::hash(ADMIN_PASSWORD);
    wif::store::users::create(
        &t.db,
        wif::store::users::NewUser {
            username,
            email: &format!("{username}@dreets.gouv.fr"),
            password_hash: &hash,
            is_superuser: superuser,
        },
    )
    .await
    .unwrap()
}

/// `count` synthetic dossiers (seed 7) of démarche 1, as the sync would store them.
pub async fn seed_dossiers(t: &TestDb, count: u64) -> Vec<wif::domain::Dossier> {
    let now = chrono::Utc::now();
    let dossiers: Vec<_> = (0..count)
        .map(|i| wif::synthetic::dossier(7, i, 1, now))
        .collect();
    wif::store::dossiers::upsert(&t.db, &dossiers)
        .await
        .unwrap();
    dossiers
}

/// A client that keeps its cookies and does not follow redirects, to look at each answer.
pub struct Agent {
    pub http: reqwest::Client,
    pub base: String,
    pub cookies: HashMap<String, String>,
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The value of the hidden `csrf` field of the page.
    pub fn csrf(&self) -> String {
        let start = self
            .body
            .find("name=\"csrf\" value=\"")
            .expect("a CSRF field")
            + 19;
        self.body[start..start + 64].to_owned()
    }
}

/// A URL-encoded form body, as a browser posts it.
pub fn with_form(
    request: reqwest::RequestBuilder,
    form: &[(&str, &str)],
) -> reqwest::RequestBuilder {
    request
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(form).unwrap())
}

impl Agent {
    pub fn new(base: &str) -> Agent {
        Agent {
            http: wif::ds::http_client()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: base.to_owned(),
            cookies: HashMap::new(),
        }
    }

    pub async fn send(&mut self, request: reqwest::RequestBuilder) -> Answer {
        let response = self.respond(request).await;
        Answer {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        }
    }

    /// A file: its status, headers and bytes (an `Answer` holds text).
    pub async fn download(&mut self, path: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
        let request = self.http.get(format!("{}{path}", self.base));
        let response = self.respond(request).await;
        let (status, headers) = (response.status(), response.headers().clone());
        (status, headers, response.bytes().await.unwrap().to_vec())
    }

    /// Sends `request` with the cookies kept, and keeps those of the response.
    async fn respond(&mut self, request: reqwest::RequestBuilder) -> reqwest::Response {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let response = request.header("cookie", cookie).send().await.unwrap();
        for set in response.headers().get_all(SET_COOKIE) {
            let set = set.to_str().unwrap();
            let (pair, _) = set.split_once(';').unwrap_or((set, ""));
            let (name, value) = pair.split_once('=').unwrap();
            match value.is_empty() {
                true => self.cookies.remove(name),
                false => self.cookies.insert(name.to_owned(), value.to_owned()),
            };
        }
        response
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        let request = self.http.get(format!("{}{path}", self.base));
        self.send(request).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        let request = with_form(self.http.post(format!("{}{path}", self.base)), form);
        self.send(request).await
    }

    /// Signs in through the login form; returns the answer to the POST.
    pub async fn sign_in(&mut self, username: &str, password: &str) -> Answer {
        self.sign_in_to("/admin/", username, password).await
    }

    /// Signs in through the login form, asking to go to `next` afterwards.
    pub async fn sign_in_to(&mut self, next: &str, username: &str, password: &str) -> Answer {
        let request = self.login_request(next, username, password).await;
        self.send(request).await
    }

    /// The login form's POST, ready to send: a test may add headers first.
    pub async fn login_request(
        &mut self,
        next: &str,
        username: &str,
        password: &str,
    ) -> reqwest::RequestBuilder {
        let form = self.get("/admin/login").await;
        assert_eq!(form.status, StatusCode::OK);
        let csrf = form.csrf();
        let form = [
            ("csrf", csrf.as_str()),
            ("next", next),
            ("username", username),
            ("password", password),
        ];
        with_form(self.http.post(format!("{}/admin/login", self.base)), &form)
    }

    /// A page's CSRF token, for the forms of a signed-in user.
    pub async fn csrf(&mut self) -> String {
        self.get("/admin/").await.csrf()
    }
}
