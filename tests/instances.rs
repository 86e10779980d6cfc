//! Several instances and clean stops (SPEC 16), on real `wif serve` processes: SIGTERM lets the
//! requests in flight end while `/readyz` answers 503, a sync stops after its page and the next
//! run resumes, no job starts once the stop is asked, and two instances run each tick once, even
//! when one is killed in the middle of a job.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{ADMIN_PASSWORD, Agent, Running, TestDb, create_user};
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wif::fake_ds::{FakeDs, Faults};
use wif::store::{dossiers, job_runs, locks, sync_runs};

const TOKEN: &str = "jeton-de-test";
/// Long enough for the next minute's tick, and its job, on a loaded machine.
const TICKS: Duration = Duration::from_secs(150);
const SECRET_KEY: &str = "une clé de test assez longue pour signer les sessions";

/// A `wif serve` process on `t`'s database, with its addresses read from its output and its log
/// in `serve-<name>.log` beside the database.
struct Instance {
    process: Running,
    admin: String,
    metrics: String,
}

fn serve(t: &TestDb, name: &str, ds: Option<&str>, vars: &[(&str, &str)]) -> Instance {
    let log = std::fs::File::create(t.dir.path().join(format!("serve-{name}.log"))).unwrap();
    let media = t.dir.path().join("media");
    let mut command = Command::new(env!("CARGO_BIN_EXE_wif"));
    command
        .current_dir(t.dir.path())
        .env_clear()
        .env("WIF_DATABASE_URL", &t.url)
        .env("WIF_SECRET_KEY", SECRET_KEY)
        .env("WIF_DEBUG", "True")
        .env("WIF_BIND", "127.0.0.1:0")
        .env("WIF_METRICS_BIND", "127.0.0.1:0")
        .env("WIF_MEDIA_ROOT", &media)
        .env("WIF_LOG_FORMAT", "json");
    for job in ["SYNC", "STATS", "ALERTS", "REPORTS", "PURGE"] {
        command.env(format!("WIF_{job}_SCHEDULE"), "off");
    }
    if let Some(url) = ds {
        command
            .env("DEMARCHES_SIMPLIFIEES_API_URL", url)
            .env("DEMARCHES_SIMPLIFIEES_API_TOKEN", TOKEN)
            .env("DEMARCHES_SIMPLIFIEES_PROCEDURE_ID_APT", "1")
            .env("DEMARCHES_SIMPLIFIEES_RATE_LIMIT", "100000");
    }
    command.envs(vars.iter().copied());
    let mut child = command
        .arg("serve")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut address = |prefix: &str| loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("wif serve ended before printing « {prefix} »"))
            .unwrap();
        if let Some(rest) = line.strip_prefix(prefix) {
            let url = rest.trim_start_matches("http://");
            break format!("http://{}", url.split('/').next().unwrap());
        }
    };
    let admin = address("Administration : ");
    let metrics = address("Métriques : ");
    // Nothing else is printed on stdout: the pipe may close.
    Instance {
        process: Running(child),
        admin,
        metrics,
    }
}

impl Instance {
    fn signal(&self, signal: nix::sys::signal::Signal) {
        let pid = nix::unistd::Pid::from_raw(self.process.id().try_into().unwrap());
        nix::sys::signal::kill(pid, signal).unwrap();
    }

    /// Waits for the process to end, at most `limit`; its exit status.
    async fn exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Some(status) = self.process.try_wait().unwrap() {
                return status;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "wif serve still runs {limit:?} after SIGTERM"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn status_of(url: &str) -> Option<StatusCode> {
    let client = wif::ds::http_client().build().unwrap();
    client.get(url).send().await.ok().map(|r| r.status())
}

/// A simulated DS on a port of its own, each answer delayed by `delay`.
async fn start_ds(count: u64, delay: Duration) -> (FakeDs, String) {
    let ds = FakeDs::new(count, 11, 1, TOKEN);
    ds.set_faults(Faults {
        delay,
        ..Faults::default()
    });
    let url = common::start_simulator(&ds).await;
    (ds, url)
}

/// The value `attempt` gives within `patience` (ticks of the scheduler take up to a minute).
async fn within<T>(patience: Duration, what: &str, attempt: impl AsyncFnMut() -> Option<T>) -> T {
    common::poll::poll(patience, attempt)
        .await
        .unwrap_or_else(|| panic!("waited {patience:?} for {what}"))
}

both_engines!(
    sigterm_ends_the_requests_in_flight_and_exits_0,
    sigterm_stops_a_sync_after_its_page_and_the_next_run_resumes,
);

/// On SIGTERM: `/readyz` answers 503 at once, no new connection is accepted, a request whose
/// body is still arriving is answered in full, then the process exits 0.
async fn sigterm_ends_the_requests_in_flight_and_exits_0(t: &TestDb) {
    create_user(t, "marie", true).await;
    let mut instance = serve(t, "seule", None, &[("WIF_SHUTDOWN_GRACE", "30s")]);
    let readyz = format!("{}/readyz", instance.metrics);
    assert_eq!(status_of(&readyz).await, Some(StatusCode::OK));

    // A sign-in whose body is half sent when the stop comes.
    let mut agent = Agent::new(&instance.admin);
    let csrf = agent.get("/admin/login").await.csrf();
    let body = serde_urlencoded::to_string([
        ("csrf", csrf.as_str()),
        ("next", "/admin/"),
        ("username", "marie"),
        ("password", ADMIN_PASSWORD),
    ])
    .unwrap();
    let cookies: Vec<String> = agent
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let host = instance.admin.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&host).await.unwrap();
    // `Expect: 100-continue`: the server says « 100 Continue » once the handler waits for the
    // body, so the request is in flight when the stop comes, whatever the machine's load.
    let head = format!(
        "POST /admin/login HTTP/1.1\r\nHost: {host}\r\nCookie: {}\r\nExpect: 100-continue\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        cookies.join("; "),
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answered = Vec::new();
    while !answered.ends_with(b"\r\n\r\n") {
        let mut chunk = [0u8; 1];
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the connection closed before « 100 Continue »");
        answered.extend_from_slice(&chunk[..n]);
    }
    assert!(answered.starts_with(b"HTTP/1.1 100 Continue"));

    instance.signal(nix::sys::signal::Signal::SIGTERM);
    common::until("/readyz answers 503", async || {
        status_of(&readyz).await == Some(StatusCode::SERVICE_UNAVAILABLE)
    })
    .await;
    common::until("new connections refused", async || {
        tokio::net::TcpStream::connect(&host).await.is_err()
    })
    .await;
    assert_eq!(
        instance.process.try_wait().unwrap(),
        None,
        "the process waits for the request in flight"
    );

    stream.write_all(body.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 303"),
        "the sign-in in flight is answered in full: {answer}"
    );
    assert!(answer.contains("location: /admin/"), "{answer}");

    let status = instance.exit(Duration::from_secs(30)).await;
    assert!(status.success(), "exit status {status}");
    let log = std::fs::read_to_string(t.dir.path().join("serve-seule.log")).unwrap();
    assert!(log.contains("arrêt terminé"), "{log}");
}

/// On SIGTERM during a sync started from the admin: the page under way is stored with its
/// cursor, the run is recorded « interrompue » and the lock released, the process exits 0; the
/// next run reads only the pages left.
async fn sigterm_stops_a_sync_after_its_page_and_the_next_run_resumes(t: &TestDb) {
    const DOSSIERS: u64 = 3_000;
    let (ds, url) = start_ds(DOSSIERS, Duration::from_millis(400)).await;
    create_user(t, "marie", true).await;
    let mut instance = serve(t, "sync", Some(&url), &[]);
    let mut agent = Agent::new(&instance.admin);
    agent.sign_in("marie", ADMIN_PASSWORD).await;
    let csrf = agent.csrf().await;
    let started = agent.post("/admin/sync/", &[("csrf", &csrf)]).await;
    assert_eq!(started.location(), "/admin/sync/?lancee=1");

    common::until("two pages stored", async || {
        let runs = sync_runs::latest(&t.db, 1).await.unwrap();
        runs.first().is_some_and(|r| r.pages >= 2)
    })
    .await;
    instance.signal(nix::sys::signal::Signal::SIGTERM);
    let status = instance.exit(Duration::from_secs(30)).await;
    assert!(status.success(), "exit status {status}");

    let run = sync_runs::latest(&t.db, 1).await.unwrap().remove(0);
    assert_eq!(run.outcome, "failure");
    assert_eq!(
        run.error,
        Some(wif::sync::SyncError::Interrupted.to_string()),
        "the sync closed its own run after a page, « interrompue »"
    );
    assert!(run.pages < 25, "stopped well before the end: {run:?}");
    assert_eq!(locks::holder(&t.db, "sync").await.unwrap(), None);
    assert_eq!(
        run.seen,
        run.pages * i64::from(wif::ds::v2::PAGE_SIZE),
        "whole pages were read"
    );
    assert_eq!(
        dossiers::count(&t.db).await.unwrap(),
        run.created,
        "every dossier read was stored"
    );

    // The next run asks DS only for the pages left.
    ds.set_faults(Faults::default());
    let settings = wif::config::Settings::from_lookup(|name| match name {
        "DEMARCHES_SIMPLIFIEES_API_URL" => Some(url.clone()),
        "DEMARCHES_SIMPLIFIEES_API_TOKEN" => Some(TOKEN.into()),
        "DEMARCHES_SIMPLIFIEES_PROCEDURE_ID_APT" => Some("1".into()),
        "DEMARCHES_SIMPLIFIEES_RATE_LIMIT" => Some("100000".into()),
        _ => None,
    })
    .unwrap();
    let report = wif::sync::run(
        &t.db,
        &settings.ds,
        wif::ds::RetryPolicy::default(),
        &wif::sync::SyncOptions::default(),
        &indicatif::ProgressBar::hidden(),
        std::future::pending(),
    )
    .await
    .unwrap();
    assert!(report.total().pages > 0);
    let total = report.total();
    // DS lists every dossier but the drafts.
    let listed = ds
        .dossiers()
        .iter()
        .filter(|d| d.status != wif::domain::Status::Draft)
        .count();
    assert_eq!(
        total.seen + run.seen as u64,
        listed as u64,
        "each dossier read once"
    );
    assert_eq!(
        dossiers::count(&t.db).await.unwrap(),
        run.created + (total.created as i64),
        "{total:?}"
    );
    assert_eq!(
        total.created + run.created as u64 + total.skipped,
        listed as u64
    );
}

/// Once the stop is asked, the scheduler starts no job: it returns instead of waiting for the
/// next minute, and claims nothing.
#[tokio::test]
async fn no_job_starts_once_the_stop_is_asked() {
    let t = TestDb::sqlite(true).await;
    let settings = wif::config::Settings::from_lookup(|name| {
        name.ends_with("_SCHEDULE").then(|| "* * * * *".to_owned())
    })
    .unwrap();
    let jobs = wif::scheduler::jobs(&settings);
    assert_eq!(jobs.len(), 5);
    // Asked before it starts, even at a minute's tick: without the stop it would claim them.
    let shutdown = wif::shutdown::Shutdown::new(Duration::from_secs(20));
    shutdown.ask();
    let run = wif::scheduler::run(t.db.clone(), settings, jobs, shutdown.clone());
    tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("the scheduler returns at once, instead of waiting for the next minute");
    for job in ["sync", "stats", "alerts", "reports", "purge"] {
        assert!(job_runs::latest(&t.db, job, 10).await.unwrap().is_empty());
    }
    assert!(shutdown.drain().await, "no work left under way");
}

/// Two instances with every job scheduled each minute, on PostgreSQL: each tick of each job runs
/// once, on one instance. Then the instance running a sync is killed (SIGKILL): at the next tick
/// the other one closes the dead run, takes the expired lock, resumes from the cursor, and no
/// e-mail goes twice.
#[tokio::test]
async fn two_instances_run_each_tick_once_even_when_one_is_killed() {
    let Some(t) = TestDb::postgres(true).await else {
        return;
    };
    let (ds, url) = start_ds(600, Duration::ZERO).await;
    let smtp = common::smtp::SmtpServer::start(t.dir.path());
    let smtp_url = format!("smtp://127.0.0.1:{}?tls=none", smtp.port);
    let vars = [
        ("WIF_SYNC_SCHEDULE", "* * * * *"),
        ("WIF_STATS_SCHEDULE", "* * * * *"),
        ("WIF_ALERTS_SCHEDULE", "* * * * *"),
        ("WIF_REPORTS_SCHEDULE", "* * * * *"),
        ("WIF_PURGE_SCHEDULE", "* * * * *"),
        ("WIF_SMTP_URL", smtp_url.as_str()),
        (
            "WIF_EMAIL_FROM",
            "Work in France <ne-pas-repondre@wif.example>",
        ),
        ("WIF_REPORTS_RECIPIENTS", "pilotage@dreets.gouv.fr"),
    ];
    let mut a = serve(&t, "a", Some(&url), &vars);
    let mut b = serve(&t, "b", Some(&url), &vars);
    let jobs = ["sync", "stats", "alerts", "reports", "purge"];
    let finished = |job: &'static str| {
        let db = t.db.clone();
        async move {
            let runs = job_runs::latest(&db, job, 100).await.unwrap();
            runs.into_iter()
                .filter(|r| r.outcome != "running")
                .collect::<Vec<_>>()
        }
    };

    // One tick with both instances up.
    for job in jobs {
        within(TICKS, "a first tick of every job", async || {
            (!finished(job).await.is_empty()).then_some(())
        })
        .await;
    }
    let first_tick = finished("sync").await.remove(0).scheduled_for;
    for job in jobs {
        let runs = finished(job).await;
        assert!(
            runs.iter().all(|r| r.outcome == "success"),
            "{job}: {runs:?}"
        );
    }
    assert_eq!(
        sync_runs::latest(&t.db, 100).await.unwrap().len(),
        finished("sync").await.len(),
        "one sync per tick"
    );

    // The next tick's sync is slow: kill the instance that runs it.
    ds.modify(500);
    ds.set_faults(Faults {
        delay: Duration::from_millis(1500),
        ..Faults::default()
    });
    let holder = within(TICKS, "a slow sync under way", async || {
        let run = sync_runs::latest(&t.db, 1).await.unwrap().remove(0);
        let holder = locks::holder(&t.db, "sync").await.unwrap()?;
        (run.outcome == "running" && run.pages >= 1).then_some(holder.0)
    })
    .await;
    let killed_tick = job_runs::latest(&t.db, "sync", 1).await.unwrap().remove(0);
    assert!(killed_tick.scheduled_for > first_tick);
    let (victim, survivor) = match holder.contains(&format!("processus {},", a.process.id())) {
        true => (&mut a, &mut b),
        false => (&mut b, &mut a),
    };
    victim.signal(nix::sys::signal::Signal::SIGKILL);
    victim.exit(Duration::from_secs(10)).await;
    ds.set_faults(Faults::default());

    // The survivor's next tick: the dead run closed, the sync resumed and complete.
    let resumed = within(TICKS, "a sync after the kill", async || {
        let runs = finished("sync").await;
        runs.into_iter()
            .find(|r| r.scheduled_for > killed_tick.scheduled_for && r.outcome == "success")
    })
    .await;
    let dead = job_runs::latest(&t.db, "sync", 100)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.scheduled_for == killed_tick.scheduled_for)
        .unwrap();
    assert_eq!(dead.outcome, "failure");
    assert_eq!(dead.error.as_deref(), Some(job_runs::ABANDONED));
    assert_ne!(resumed.holder, dead.holder);
    let syncs = sync_runs::latest(&t.db, 100).await.unwrap();
    assert!(
        syncs.iter().all(|r| r.outcome != "running"),
        "the killed sync's run is closed: {syncs:?}"
    );
    let stored = dossiers::updated_at_by_ds_id(&t.db, 1).await.unwrap();
    // The purge, every minute here, erased the decided dossiers past their time: those stay.
    let wif::store::Db::Postgres(pool) = &t.db else {
        unreachable!()
    };
    let erased: Vec<i64> =
        sqlx::query_scalar("SELECT ds_id FROM dossiers WHERE erased_at IS NOT NULL")
            .fetch_all(pool)
            .await
            .unwrap();
    assert!(!erased.is_empty(), "the purge ran");
    let stale: Vec<i64> = ds
        .dossiers()
        .into_iter()
        .filter(|d| d.status != wif::domain::Status::Draft)
        .filter(|d| !erased.contains(&d.ds_id.get()))
        .filter(|d| stored.get(&d.ds_id.get()).copied().flatten() != d.updated_at)
        .map(|d| d.ds_id.get())
        .collect();
    assert!(
        stale.is_empty(),
        "dossiers not up to date: {stale:?}\nsyncs: {syncs:#?}\nstate: {:?}",
        wif::store::sync_state::unfinished(&t.db, 1).await
    );

    // Each tick ran once: every job's « tâche lancée » counted across both logs, once per run.
    let logs: String = ["a", "b"]
        .iter()
        .map(|name| {
            std::fs::read_to_string(t.dir.path().join(format!("serve-{name}.log"))).unwrap()
        })
        .collect();
    for job in jobs {
        let started = logs
            .lines()
            .filter(|l| l.contains("tâche lancée") && l.contains(&format!("\"job\":\"{job}\"")))
            .count();
        let runs = job_runs::latest(&t.db, job, 100).await.unwrap().len();
        assert_eq!(started, runs, "{job}: started once per tick");
    }
    let reports: Vec<_> = smtp
        .messages()
        .into_iter()
        .filter(|m| common::smtp::header(m, "To").contains("pilotage@dreets.gouv.fr"))
        .collect();
    assert_eq!(reports.len(), 1, "the monthly report goes once");
    survivor.signal(nix::sys::signal::Signal::SIGTERM);
    assert!(survivor.exit(Duration::from_secs(30)).await.success());
}

/// A connection still in the listener's queue when the stop comes was sent by a proxy that counts
/// on an answer: it is served before the listener closes. Here the only slot is held by a
/// half-sent request, so the second connection waits in the queue, deterministically.
#[tokio::test]
async fn connections_queued_at_the_stop_are_served() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let router = axum::Router::new().route("/healthz", axum::routing::get(|| async { "ok" }));
    let limits = wif::http::ServerLimits {
        max_connections: 1,
        ..wif::http::ServerLimits::default()
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(wif::http::serve(
        listener,
        router,
        limits,
        wif::http::TrustedProxies::default(),
        async {
            let _ = stopped.await;
        },
    ));
    let mut first = tokio::net::TcpStream::connect(address).await.unwrap();
    first.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
    let mut queued = tokio::net::TcpStream::connect(address).await.unwrap();
    queued
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();

    stop.send(()).unwrap();
    first
        .write_all(b"Host: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    for (name, stream) in [("first", &mut first), ("queued", &mut queued)] {
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
        let answer = String::from_utf8_lossy(&answer);
        assert!(
            answer.starts_with("HTTP/1.1 200") && answer.ends_with("ok"),
            "{name}: {answer}"
        );
    }
    server.await.unwrap().unwrap();
    assert!(
        tokio::net::TcpStream::connect(address).await.is_err(),
        "the listener is closed"
    );
}

/// `wif serve-public` on SIGTERM: stops accepting connections and exits 0.
#[tokio::test]
async fn serve_public_exits_0_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_wif"))
        .current_dir(dir.path())
        .env_clear()
        .env("WIF_PUBLIC_BIND", "127.0.0.1:0")
        .env("WIF_MEDIA_ROOT", dir.path())
        .arg("serve-public")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let line = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map(Result::unwrap)
        .find(|l| l.starts_with("Service public : "))
        .expect("the address is printed");
    let base = line["Service public : ".len()..]
        .trim_end_matches('/')
        .to_owned();
    let mut instance = Instance {
        process: Running(child),
        admin: base.clone(),
        metrics: base.clone(),
    };
    assert_eq!(
        status_of(&format!("{base}/readyz")).await,
        Some(StatusCode::OK)
    );
    instance.signal(nix::sys::signal::Signal::SIGTERM);
    let status = instance.exit(Duration::from_secs(10)).await;
    assert!(status.success(), "exit status {status}");
    let host = base.trim_start_matches("http://");
    assert!(tokio::net::TcpStream::connect(host).await.is_err());
}

/// The public service's `/readyz` answers 503 once the stop is asked, so that a proxy polling it
/// sends nothing more to a stopping instance.
#[tokio::test]
async fn the_public_readyz_answers_503_once_stopping() {
    use tower::ServiceExt;

    let media = tempfile::tempdir().unwrap();
    let settings = wif::config::Settings::from_lookup(|_| None).unwrap();
    let config = wif::public::PublicConfig {
        media_root: media.path().to_owned(),
        ..wif::public::PublicConfig::from_settings(&settings)
    };
    let shutdown = wif::shutdown::Shutdown::new(Duration::from_secs(20));
    let (router, _watcher) = wif::public::app(&config, &shutdown).await;
    let readyz = || {
        axum::http::Request::builder()
            .uri("/readyz")
            .extension(axum::extract::ConnectInfo(std::net::SocketAddr::from((
                [127, 0, 0, 1],
                4000,
            ))))
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let before = router.clone().oneshot(readyz()).await.unwrap();
    assert_eq!(before.status(), StatusCode::OK);
    shutdown.ask();
    let after = router.oneshot(readyz()).await.unwrap();
    assert_eq!(after.status(), StatusCode::SERVICE_UNAVAILABLE);
}
