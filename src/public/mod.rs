//! The public service (`wif serve-public`, SPEC section 7): the validity-check API and the
//! public statistics, answered from the exported files only, never from the database.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{NaiveDate, Utc};
use chrono_tz::Tz;
use serde_json::json;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::config::Settings;
use crate::domain::dates::{has_expired, parse_iso_date};
use crate::domain::validity::ValidityRecord;
use crate::domain::{DsId, ProcedureKind};
use crate::http::{ServerLimits, TrustedProxies, access_log};
use crate::shutdown::Shutdown;
use crate::web::legal::{LegalInfo, LegalPage};

pub mod data;
mod pages;
pub mod rate_limit;

use data::{PublicData, Watcher};
use rate_limit::RateLimiter;

/// What the public service needs of the settings.
#[derive(Debug, Clone)]
pub struct PublicConfig {
    pub media_root: PathBuf,
    pub time_zone: Tz,
    pub cors_origins: Vec<String>,
    pub rate_limit_per_minute: u32,
    pub trusted_proxies: TrustedProxies,
    /// `Strict-Transport-Security` on answers: off with `WIF_DEBUG` (plain HTTP on a workstation).
    pub hsts: bool,
    pub limits: ServerLimits,
    /// How often the files are checked for a new version.
    pub reload_interval: Duration,
    /// What the legal pages say of this deployment: durations, contacts (SPEC §14).
    pub legal: LegalInfo,
}

impl PublicConfig {
    pub fn from_settings(settings: &Settings) -> PublicConfig {
        PublicConfig {
            media_root: settings.media_root.clone(),
            time_zone: settings.time_zone,
            cors_origins: settings.cors_origins.clone(),
            rate_limit_per_minute: settings.public_rate_limit_per_minute,
            trusted_proxies: settings.trusted_proxies.clone(),
            hsts: !settings.debug,
            limits: ServerLimits {
                shutdown_grace: settings.shutdown_grace,
                ..ServerLimits::default()
            },
            reload_interval: Duration::from_secs(2),
            legal: LegalInfo::from_settings(settings),
        }
    }
}

struct AppState {
    data: Arc<PublicData>,
    limiter: RateLimiter,
    time_zone: Tz,
    trusted_proxies: TrustedProxies,
    legal: LegalInfo,
    /// Asked, `/readyz` answers 503 (SPEC 16).
    shutdown: Shutdown,
}

/// Loads the files once, then returns the router and the watcher that keeps them fresh.
pub async fn app(config: &PublicConfig, shutdown: &Shutdown) -> (Router, Watcher) {
    let data = Arc::new(PublicData::default());
    let mut watcher = Watcher::new(&config.media_root, data.clone());
    watcher.refresh().await;
    if data.validity().is_empty() {
        tracing::warn!(
            media_root = %config.media_root.display(),
            "aucune APT chargée : les vérifications répondront « invalid » jusqu'au premier export"
        );
    }
    let state = Arc::new(AppState {
        data,
        limiter: RateLimiter::new(config.rate_limit_per_minute),
        time_zone: config.time_zone,
        trusted_proxies: config.trusted_proxies.clone(),
        legal: config.legal.clone(),
        shutdown: shutdown.clone(),
    });
    let origins: Vec<HeaderValue> = config
        .cors_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::HEAD, Method::OPTIONS]);

    let validity = Router::new().route(
        "/api/v1/apt_validity_check/{ds_id}/{date}",
        get(validity_check),
    );
    let legal = LegalPage::ALL
        .into_iter()
        .fold(Router::new(), |router, page| {
            router.route(
                &format!("/{}", page.slug()),
                get(move |visit| pages::legal(visit, page)),
            )
        });
    let router = Router::new()
        .merge(validity)
        .merge(legal)
        .route("/static/stats.json", get(stats_json))
        .route("/static/{*path}", get(crate::web::assets::asset))
        .route("/", get(pages::home))
        .route("/verifier", get(pages::verify))
        .route("/statistiques", get(pages::statistics_page))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "Adresse inconnue.") })
        .layer(cors)
        .layer(middleware::from_fn(crate::http::page_security_headers))
        .layer(middleware::from_fn_with_state(
            config.hsts,
            crate::http::transport_headers,
        ))
        .layer(middleware::from_fn(access_log))
        .with_state(state);
    (router, watcher)
}

/// `wif serve-public`: serves on `WIF_PUBLIC_BIND` until Ctrl-C or SIGTERM.
pub async fn serve(settings: &Settings) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(settings.public_bind)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "WIF_PUBLIC_BIND : impossible d'écouter sur {} ({e})",
                settings.public_bind
            )
        })?;
    // The address bound, not the one asked for: with port 0, the system chose the port.
    println!("Service public : http://{}/", listener.local_addr()?);
    let config = PublicConfig::from_settings(settings);
    serve_on(listener, &config, crate::shutdown_signal()).await
}

/// Serves on `listener`, reloading the files as they change, until `shutdown` resolves.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    config: &PublicConfig,
    stop: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let shutdown = Shutdown::new(config.limits.shutdown_grace);
    let (router, watcher) = app(config, &shutdown).await;
    let reload = tokio::spawn(watcher.run(config.reload_interval));
    tracing::info!(address = ?listener.local_addr().ok(), "service public démarré");
    let proxies = config.trusted_proxies.clone();
    let stop = async move {
        stop.await;
        shutdown.ask();
    };
    crate::http::serve(listener, router, config.limits, proxies, stop).await?;
    reload.abort();
    Ok(())
}

/// A JSON answer with the charset the existing clients expect.
fn json_response(status: StatusCode, body: &serde_json::Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, JSON_UTF8)],
        body.to_string(),
    )
        .into_response()
}

fn error(status: StatusCode, message: &str) -> Response {
    json_response(status, &json!({"status": "error", "message": message}))
}

async fn validity_check(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    path: Result<Path<(String, String)>, PathRejection>,
    // The request itself, for its headers: read in place rather than copied.
    request: Request,
) -> Response {
    // Limited before anything else, malformed requests included: they also probe.
    if let Some(seconds) = rate_limited(&state, peer, request.headers()) {
        let mut response = error(
            StatusCode::TOO_MANY_REQUESTS,
            "Trop de requêtes : réessayez dans quelques secondes.",
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        return response;
    }
    let Ok(Path((ds_id, date))) = path else {
        return error(StatusCode::BAD_REQUEST, "Adresse invalide.");
    };
    let Ok(ds_id) = ds_id.parse::<DsId>() else {
        return error(
            StatusCode::BAD_REQUEST,
            "Le numéro de dossier doit comporter de 1 à 19 chiffres.",
        );
    };
    let Some(birth_date) = parse_iso_date(&date) else {
        return error(
            StatusCode::BAD_REQUEST,
            "La date de naissance doit être une date réelle au format AAAA-MM-JJ.",
        );
    };
    let data = check(&state, ds_id, birth_date);
    let answer = Answer {
        status: if data.is_empty() { "invalid" } else { "valid" },
        data,
    };
    let body = serde_json::to_vec(&answer).expect("serialising plain values cannot fail");
    ([(header::CONTENT_TYPE, JSON_UTF8)], body).into_response()
}

const JSON_UTF8: &str = "application/json; charset=utf-8";

#[derive(serde::Serialize)]
struct Answer {
    status: &'static str,
    /// The records as answered today: `has_expired` recomputed, the rest as exported.
    data: Vec<ValidityRecord>,
}

async fn stats_json(State(state): State<Arc<AppState>>) -> Response {
    match state.data.stats() {
        Some(bytes) => (
            [(header::CONTENT_TYPE, "application/json")],
            Body::from(bytes.to_vec()),
        )
            .into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "Les statistiques ne sont pas encore disponibles.",
        ),
    }
}

async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    if state.shutdown.is_asked() {
        return json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({"status": "stopping"}),
        );
    }
    let records = state.data.validity().len();
    json_response(
        StatusCode::OK,
        &json!({"status": "ready", "records": records}),
    )
}

/// The valid records of `ds_id` with that birth date, as answered today: an authorization must
/// not have ended, and `has_expired` is recomputed.
fn check(state: &AppState, ds_id: DsId, birth_date: NaiveDate) -> Vec<ValidityRecord> {
    let today = Utc::now().with_timezone(&state.time_zone).date_naive();
    let validity = state.data.validity();
    validity
        .find(ds_id.get(), birth_date)
        .filter(|r| {
            r.kind != ProcedureKind::Authorization
                || r.date_de_fin_apt.is_some_and(|end| end >= today)
        })
        .map(|record| ValidityRecord {
            has_expired: has_expired(record.date_de_fin_apt, today),
            ..record.clone()
        })
        .collect()
}

/// Takes one request from the client's allowance; beyond it, the seconds to wait.
fn rate_limited(state: &AppState, peer: SocketAddr, headers: &HeaderMap) -> Option<u64> {
    let client = state.trusted_proxies.client_key(peer.ip(), headers);
    let wait = state.limiter.check(client).err()?;
    Some(wait.as_secs_f64().ceil().max(1.0) as u64)
}
