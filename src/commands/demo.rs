//! `wif demo`: the whole product with no configuration: an embedded database in a directory of
//! its own, the DS simulator with synthetic dossiers, a sync, both exports, a superuser, then the
//! admin and the public service until Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::Utc;
use tokio::net::TcpListener;

use super::sync::{print_summary, progress_bar};
use crate::alerts::{self, DigestContext};
use crate::cli::DemoArgs;
use crate::config::{DsSettings, EmailSettings, Secret, Settings, SmtpSetting};
use crate::domain::{ApiVersion, Status, account};
use crate::ds::RetryPolicy;
use crate::export::{Output, stats, validity_check};
use crate::fake_ds::{FakeDs, WebhookTarget};
use crate::mail::Mailer;
use crate::store::Db;
use crate::store::users::{self, NewUser};
use crate::sync::{self, SyncOptions};

const PROCEDURE: i64 = 1;

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    // Only the listening addresses and the time zone are read from the environment.
    let defaults = Settings::from_env()?;
    let (_keep, dir) = match &args.data {
        Some(dir) => (None, dir.clone()),
        None => {
            let temp = tempfile::Builder::new().prefix("wif-demo-").tempdir()?;
            let path = temp.path().to_path_buf();
            (Some(temp), path)
        }
    };
    std::fs::create_dir_all(&dir)
        .map_err(|e| anyhow::anyhow!("--data : impossible de créer {} ({e})", dir.display()))?;
    let media_root = dir.join("media");
    let database_url = format!("sqlite://{}", dir.join("wif.sqlite3").display());
    println!("Démonstration dans {}", dir.display());

    let db = Db::connect(&database_url).await?;
    db.migrate().await?;

    let token = crate::crypto::random_token();
    let ds = FakeDs::new(args.dossiers, args.seed, PROCEDURE, &token);
    let ds_listener = TcpListener::bind("127.0.0.1:0").await?;
    let ds_url = format!("http://{}", ds_listener.local_addr()?);
    let ds_server = tokio::spawn(ds.clone().serve(ds_listener));
    println!(
        "DS simulé : {ds_url} ({} dossiers synthétiques)",
        args.dossiers
    );

    let ds_settings = DsSettings {
        token: Some(Secret::new(token)),
        procedure_ids: vec![PROCEDURE],
        api_url: ds_url.clone(),
        api_version: ApiVersion::V2,
        rate_limit_per_minute: 100_000,
    };
    let progress = progress_bar();
    let report = sync::run(
        &db,
        &ds_settings,
        RetryPolicy::default(),
        &SyncOptions::default(),
        &progress,
        crate::shutdown_signal(),
    )
    .await;
    progress.finish_and_clear();
    print_summary(&report?);

    let now = Utc::now();
    let today = now.with_timezone(&defaults.time_zone).date_naive();
    let validity = Output::choose(None, &media_root, validity_check::FILE_NAME);
    let exported = validity_check::export(&db, &validity, today).await?;
    stats::export(
        &db,
        &Output::choose(None, &media_root, stats::FILE_NAME),
        now,
        defaults.time_zone,
    )
    .await?;
    println!("Exports : {exported} APT dans {}", media_root.display());
    let webhook_secret = format!("whsec_{}", crate::crypto::random_token());
    let demo_settings = Settings {
        database_url: Secret::new(database_url.clone()),
        ds: ds_settings.clone(),
        webhook_secrets: vec![Secret::new(webhook_secret.clone())],
        webhook_debounce: std::time::Duration::from_secs(1),
        email: EmailSettings {
            smtp: SmtpSetting::Console,
            ..defaults.email.clone()
        },
        ..defaults.clone()
    };
    let evaluation = alerts::evaluate(&db, &demo_settings.alert_rules, now).await?;
    let context = DigestContext::of(&demo_settings);
    let emails = dir.join(EMAILS_FILE);
    let digests = alerts::notify(&db, &Mailer::to_file(emails.clone()), &context, now).await?;
    println!(
        "Alertes : {} ouvertes ; {} e-mails aux instructeurs écrits dans {}",
        evaluation.open,
        digests.sent,
        emails.display()
    );

    let password = crate::crypto::random_token()[..20].to_owned();
    let username = "demo";
    demo_account(&db, username, &password, &[]).await?;
    demo_account(&db, DEMO_AGENT, &password, &[DEMO_DEPARTMENT.to_owned()]).await?;

    let settings = Settings {
        debug: true,
        media_root: media_root.clone(),
        ..demo_settings
    };
    let admin_listener = bind(settings.bind).await?;
    let public_listener = bind(settings.public_bind).await?;
    let admin_address = admin_listener.local_addr()?;
    let admin_url = format!("http://{admin_address}/admin/");
    let public_url = format!("http://{}", public_listener.local_addr()?);
    let example = first_record(&media_root.join(validity_check::FILE_NAME));
    ds.set_webhook(Some(WebhookTarget {
        url: format!("http://{admin_address}/webhooks/ds"),
        secret: webhook_secret,
        retry_delays: WebhookTarget::ds_schedule(),
    }));
    let to_accept = ds
        .dossiers()
        .into_iter()
        .find(|d| d.status == Status::Received && d.date_de_naissance.is_some());

    let secret = Secret::new(crate::crypto::random_token());
    let state = Arc::new(crate::admin::AppState::new(db.clone(), &settings, secret));
    let shutdown = state.shutdown.clone();
    let public_config = crate::public::PublicConfig {
        rate_limit_per_minute: settings.public_rate_limit_per_minute.max(600),
        ..crate::public::PublicConfig::from_settings(&settings)
    };
    let (stop_admin, stopped_admin) = tokio::sync::oneshot::channel::<()>();
    let (stop_public, stopped_public) = tokio::sync::oneshot::channel::<()>();
    let admin = tokio::spawn(crate::admin::serve_on(admin_listener, state, async {
        let _ = stopped_admin.await;
    }));
    let public = tokio::spawn(async move {
        crate::public::serve_on(public_listener, &public_config, async {
            let _ = stopped_public.await;
        })
        .await
    });
    // Both answer before they are announced, so that their start-up lines in the log come
    // before the addresses and the password, the last lines a newcomer reads.
    answering(&format!("http://{admin_address}/healthz")).await?;
    answering(&format!("{public_url}/healthz")).await?;

    println!();
    if let Some(d) = to_accept {
        let birth = d
            .date_de_naissance
            .map(|b| b.format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        println!(
            "Temps réel (webhooks DS) : accepter le dossier {} sur le DS simulé,",
            d.ds_id
        );
        println!(
            "  curl -X POST {ds_url}/control/dossiers/{}/accepter",
            d.ds_id
        );
        println!(
            "  puis, quelques secondes plus tard : {public_url}/verifier?numero={}&date_de_naissance={birth}",
            d.ds_id
        );
    }
    println!("Ctrl-C pour arrêter.");
    println!();
    if !crate::web::assets::dsfr_available() {
        println!(
            "Attention : l'administration est servie sans le style du système de design de l'État"
        );
        println!(
            "  (DSFR), car npm était absent à la compilation : installez Node.js et npm, puis \
             relancez « cargo run -- demo »."
        );
        println!();
    }
    println!("Service public : {public_url}/");
    println!("  statistiques : {public_url}/statistiques ({public_url}/static/stats.json)");
    if let Some((ds_id, birth)) = example {
        println!(
            "  page de vérification : {public_url}/verifier?numero={ds_id}&date_de_naissance={birth}"
        );
        println!(
            "  vérification d'une APT : {public_url}/api/v1/apt_validity_check/{ds_id}/{birth}"
        );
    }
    println!();
    println!("Administration : {admin_url}");
    println!(
        "  comptes : {username} (administrateur) et {DEMO_AGENT} (agent limité à « {DEMO_DEPARTMENT} »)"
    );
    println!("  mot de passe des deux comptes : {password}");

    crate::shutdown_signal().await;
    let _ = (stop_admin.send(()), stop_public.send(()));
    admin.await??;
    public.await??;
    // A sync started by a webhook or from the admin stops after its page.
    shutdown.drain().await;
    ds_server.abort();
    db.close().await;
    println!("Démonstration arrêtée.");
    Ok(())
}

/// Where the demo writes the e-mails it would send, in its directory.
const EMAILS_FILE: &str = "emails.log";

/// Waits until `url` answers, for at most ten seconds.
async fn answering(url: &str) -> anyhow::Result<()> {
    let client = crate::ds::http_client().build()?;
    for _ in 0..100 {
        if client.get(url).send().await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    anyhow::bail!("{url} ne répond pas")
}

/// The configured address, or any free port if it is taken (another `wif serve`, say).
async fn bind(address: SocketAddr) -> anyhow::Result<TcpListener> {
    match TcpListener::bind(address).await {
        Ok(listener) => Ok(listener),
        Err(_) => Ok(TcpListener::bind((address.ip(), 0)).await?),
    }
}

/// A number and birth date that the validity check confirms, to try it at once.
fn first_record(path: &PathBuf) -> Option<(i64, String)> {
    let text = std::fs::read_to_string(path).ok()?;
    let records: Vec<serde_json::Value> = serde_json::from_str(&text).ok()?;
    records.iter().find_map(|r| {
        if r.get("has_expired")?.as_bool()? {
            return None;
        }
        Some((
            r.get("ds_id")?.as_i64()?,
            r.get("date_de_naissance")?.as_str()?.to_owned(),
        ))
    })
}

/// An agent of the demo limited to one département, to see what such an agent sees.
const DEMO_AGENT: &str = "agent.paris";
const DEMO_DEPARTMENT: &str = "75 - Paris";

/// The demo's account `username` with `password`: an administrator, or an agent limited to
/// `departments`; made on the first run, its password renewed on the next ones.
async fn demo_account(
    db: &Db,
    username: &str,
    password: &str,
    departments: &[String],
) -> anyhow::Result<()> {
    let hash = account::hash(password);
    let id = match users::find_by_username(db, username).await? {
        Some(user) => {
            users::set_password_hash(db, user.id, &hash).await?;
            user.id
        }
        None => {
            let email = format!("{username}@example.org");
            let user = NewUser {
                username,
                email: &email,
                password_hash: &hash,
                is_superuser: departments.is_empty(),
            };
            users::create(db, user).await?
        }
    };
    users::set_departments(db, id, departments).await?;
    Ok(())
}
