//! The private admin web app (`wif serve`, SPEC section 6): server-rendered French pages in the
//! State design system, behind a session. Pages read the database through `store`; they never
//! write dossiers (DS is the source of truth).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::middleware;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Duration;
use chrono_tz::Tz;
use maud::html;

use crate::config::{DsSettings, PasswordLogin, Secret, Settings, SmtpSetting};
use crate::domain::alerts::AlertRules;
use crate::http::{ServerLimits, TrustedProxies};
use crate::proconnect as proconnect_rp;
use crate::shutdown::Shutdown;
use crate::store::sessions::Session;
use crate::store::{Db, StoreError};
use crate::web::Lang;
use crate::web::legal::{LegalInfo, LegalPage};

mod alerts_page;
mod auth;
mod counts;
mod dossiers;
mod home;
mod input;
pub mod layout;
mod lists;
mod metrics;
mod prefecture;
mod proconnect;
mod reports_page;
mod retention_page;
mod stats;
mod sync_page;
mod users;
mod webhooks;

pub use auth::PasswordChecks;
use layout::{alert, page};
pub use users::departments_detail;

/// Sessions end after this long without a request (SPEC: two weeks).
const IDLE: Duration = Duration::weeks(2);

pub struct AppState {
    pub db: Db,
    /// Peppers the stored hashes of session tokens.
    pub secret: Secret,
    /// `Secure` on cookies: off only with `WIF_DEBUG`, for plain HTTP on a workstation.
    pub secure_cookies: bool,
    /// `WIF_DEBUG`: internal errors show their cause.
    pub debug: bool,
    pub trusted_proxies: TrustedProxies,
    /// `WIF_ALLOWED_ORIGINS`: where a POST may come from besides the request's `Host`.
    pub allowed_origins: Vec<String>,
    pub limits: ServerLimits,
    /// Password checks (Argon2, CPU-bound) run on the blocking pool, a few at a time.
    pub password_checks: auth::PasswordChecks,
    pub idle: Duration,
    pub time_zone: Tz,
    pub ds: DsSettings,
    /// Verified against when the username does not exist, so that both take as long.
    pub dummy_hash: String,
    counts: Arc<counts::CountsCache>,
    alert_counts: Arc<counts::CountsCache<Vec<crate::store::alerts::AlertCount>>>,
    /// The scheduled jobs, shown with their next times on the sync page.
    pub jobs: Vec<crate::scheduler::Job>,
    pub alert_rules: AlertRules,
    /// Whether `WIF_SMTP_URL` is set: the pages say when e-mails are not sent.
    pub email_on: bool,
    /// `POST /webhooks/ds`, when `WIF_DS_WEBHOOK_SECRETS` is set.
    pub webhooks: Option<Arc<crate::webhooks::Receiver>>,
    /// What the legal pages say of this deployment: durations, contacts.
    pub legal: LegalInfo,
    /// The instance's stop (SPEC 16): `/readyz` answers 503 once it is asked, and the syncs it
    /// starts end with it.
    pub shutdown: Shutdown,
    /// The ProConnect sign-in (SPEC 15), when `WIF_PROCONNECT_URL` is set.
    pub proconnect: Option<Arc<proconnect_rp::ProConnect>>,
    /// `WIF_PASSWORD_LOGIN`: who may still sign in with a password.
    pub password_login: PasswordLogin,
    http: metrics::HttpCounters,
}

impl AppState {
    pub fn new(db: Db, settings: &Settings, secret: Secret) -> AppState {
        let shutdown = Shutdown::new(settings.shutdown_grace);
        AppState {
            webhooks: crate::webhooks::Receiver::start(&db, settings, &shutdown).map(Arc::new),
            shutdown,
            db,
            secret,
            secure_cookies: !settings.debug,
            debug: settings.debug,
            trusted_proxies: settings.trusted_proxies.clone(),
            allowed_origins: settings.allowed_origins.clone(),
            limits: ServerLimits {
                shutdown_grace: settings.shutdown_grace,
                ..ServerLimits::default()
            },
            password_checks: auth::PasswordChecks::new(),
            idle: IDLE,
            time_zone: settings.time_zone,
            ds: settings.ds.clone(),
            dummy_hash: crate::domain::account::hash(&crate::crypto::random_token()),
            counts: Arc::default(),
            alert_counts: Arc::default(),
            jobs: Vec::new(),
            alert_rules: settings.alert_rules,
            email_on: settings.email.smtp != SmtpSetting::Off,
            legal: LegalInfo::from_settings(settings),
            proconnect: settings
                .proconnect
                .clone()
                .map(|settings| Arc::new(proconnect_rp::ProConnect::new(settings))),
            password_login: settings.password_login,
            http: metrics::HttpCounters::default(),
        }
    }
}

/// Why a page could not be shown.
#[derive(Debug)]
pub enum PageError {
    NotFound,
    /// A staff user asked for a superuser page.
    Forbidden,
    Internal(String),
}

impl From<StoreError> for PageError {
    fn from(error: StoreError) -> PageError {
        PageError::Internal(error.to_string())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, title, message) = match self {
            PageError::NotFound => (
                StatusCode::NOT_FOUND,
                "Page introuvable",
                "Cette page n'existe pas. Vérifiez l'adresse ou revenez à l'accueil.",
            ),
            PageError::Forbidden => (
                StatusCode::FORBIDDEN,
                "Accès refusé",
                "Votre compte ne donne pas accès à cette page (réservée aux administrateurs, ou aux agents non limités à des départements).",
            ),
            PageError::Internal(error) => {
                tracing::error!(%error, "erreur interne de l'administration");
                let mut response = error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Erreur interne",
                    "Une erreur est survenue ; elle a été consignée dans le journal. Réessayez dans un instant.",
                    None,
                );
                response.extensions_mut().insert(ErrorDetail(error));
                return response;
            }
        };
        error_page(status, title, message, None)
    }
}

fn error_page(status: StatusCode, title: &str, message: &str, detail: Option<&str>) -> Response {
    let body = html! {
        (alert("error", message))
        @if let Some(detail) = detail {
            h2 { "Détail (WIF_DEBUG=True)" }
            pre.wif-json { code { (detail) } }
        }
        p { a.fr-link href="/admin/" { "Retour à l'accueil" } }
    };
    (status, page(title, None, "", body)).into_response()
}

/// The cause of an internal error, kept with its response for `show_error_details`.
#[derive(Clone)]
struct ErrorDetail(String);

/// With `WIF_DEBUG=True` only, an internal error's page shows its cause (SPEC 3: detailed
/// errors); otherwise the cause goes to the log alone.
async fn show_error_details(
    axum::extract::State(debug): axum::extract::State<bool>,
    request: axum::extract::Request,
    next: middleware::Next,
) -> Response {
    let response = next.run(request).await;
    match (debug, response.extensions().get::<ErrorDetail>()) {
        (true, Some(ErrorDetail(detail))) => error_page(
            response.status(),
            "Erreur interne",
            "Une erreur est survenue ; elle a été consignée dans le journal.",
            Some(&detail.clone()),
        ),
        _ => response,
    }
}

/// Django's `APPEND_SLASH`: a section's address typed without its final slash
/// (`/admin/dossiers`) goes to the section, with its query string.
async fn append_slash(uri: axum::http::Uri) -> Response {
    let with_slash = format!("{}/", uri.path());
    match layout::is_section(&with_slash) {
        true => {
            let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
            Redirect::permanent(&format!("{with_slash}{query}")).into_response()
        }
        false => PageError::NotFound.into_response(),
    }
}

/// Refuses a page to the users outside its audience.
fn require(audience: layout::Audience, session: &Session) -> Result<(), PageError> {
    match audience.admits(session) {
        true => Ok(()),
        false => Err(PageError::Forbidden),
    }
}

/// Refuses staff users a superuser action.
fn require_superuser(session: &Session) -> Result<(), PageError> {
    require(layout::Audience::Administrators, session)
}

/// A legal page (SPEC §14), open without a session: the login page's footer links it too.
fn legal_page(page: LegalPage) -> axum::routing::MethodRouter<Arc<AppState>> {
    get(
        move |axum::extract::State(state): axum::extract::State<Arc<AppState>>| async move {
            let body = page.body(Lang::Fr, "/admin", &state.legal);
            layout::page(page.title(Lang::Fr), None, "", body)
        },
    )
}

pub fn app(state: Arc<AppState>) -> Router {
    let legal = LegalPage::ALL
        .into_iter()
        .fold(Router::new(), |router, page| {
            router.route(&format!("/admin/{}", page.slug()), legal_page(page))
        });
    let proconnect_origin = state.proconnect.as_ref().and_then(|p| p.origin());
    let private = Router::new()
        .route("/admin/", get(home::show))
        .route("/admin/dossiers/", get(dossiers::list))
        .route("/admin/dossiers/{ds_id}", get(dossiers::show))
        .route("/admin/prefecture/", get(prefecture::list))
        .route("/admin/alertes/", get(alerts_page::list))
        .route(
            "/admin/alertes/{id}/prise-en-compte",
            post(alerts_page::acknowledge),
        )
        .route("/admin/emails/", get(alerts_page::emails))
        .route("/admin/rapports/", get(reports_page::show))
        .route(
            "/admin/rapports/rapport.xlsx",
            get(reports_page::download_xlsx),
        )
        .route(
            "/admin/rapports/rapport.csv",
            get(reports_page::download_csv),
        )
        .route("/admin/stats/", get(stats::show))
        .route("/admin/sync/", get(sync_page::show).post(sync_page::start))
        .route("/admin/users/", get(users::list).post(users::create))
        .route("/admin/users/{id}/active", post(users::set_active))
        .route("/admin/users/{id}/password", post(users::set_password))
        .route(
            "/admin/users/{id}/proconnect",
            post(users::unlink_proconnect),
        )
        .route(
            "/admin/users/{id}/departements",
            get(users::departments_form).post(users::set_departments),
        )
        .route("/admin/access-log/", get(users::access_log))
        .route("/admin/conservation/", get(retention_page::show))
        .route("/admin/logout", post(auth::logout))
        // Any other address of the admin, without a session, goes to the login page too.
        .route("/admin/{*rest}", get(append_slash))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_session,
        ));
    Router::new()
        .route("/", get(|| async { Redirect::to("/admin/") }))
        .route("/admin", get(|| async { Redirect::to("/admin/") }))
        .route("/admin/login", get(auth::login_form).post(auth::login))
        .route("/admin/proconnect/", get(proconnect::start))
        .route(proconnect_rp::CALLBACK_PATH, get(proconnect::callback))
        .route(
            proconnect_rp::LOGOUT_RETURN_PATH,
            get(proconnect::logged_out),
        )
        .route("/webhooks/ds", post(webhooks::receive))
        .route("/admin/static/{*path}", get(crate::web::assets::asset))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(metrics::readyz))
        .merge(legal)
        .merge(private)
        // Outside the admin (a browser's /favicon.ico, say): not found, no session involved.
        .fallback(|| async { (StatusCode::NOT_FOUND, "Adresse inconnue.") })
        .layer(middleware::from_fn_with_state(
            state.debug,
            show_error_details,
        ))
        // ProConnect's start and the logout answer a form with a redirect to ProConnect, which
        // browsers check against `form-action`.
        .layer(middleware::from_fn_with_state(
            crate::http::content_security_policy(proconnect_origin.as_deref()),
            crate::http::page_security_headers_with,
        ))
        .layer(middleware::from_fn_with_state(
            state.secure_cookies,
            crate::http::transport_headers,
        ))
        .layer(middleware::from_fn_with_state(
            state.limits.header_read_timeout,
            input::reject_control_characters,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::count,
        ))
        .layer(middleware::from_fn(crate::http::access_log))
        .with_state(state)
}

/// The file where `WIF_DEBUG` keeps the key it made, in the data directory (next to the SQLite
/// file), never in the media root that the public service reads.
const DEBUG_KEY_FILE: &str = ".wif_secret_key";

/// The shortest secret accepted, in bytes, from `WIF_SECRET_KEY` or the debug key's file.
const MIN_SECRET_LENGTH: usize = 32;

/// The secret that peppers session hashes: `WIF_SECRET_KEY`, or with `WIF_DEBUG` a key made once
/// and kept, readable by its owner only, in the data directory.
pub fn secret_key(settings: &Settings) -> anyhow::Result<Secret> {
    if let Some(secret) = &settings.secret_key {
        if secret.expose().len() < MIN_SECRET_LENGTH {
            anyhow::bail!("WIF_SECRET_KEY : la clé doit compter au moins 32 caractères");
        }
        return Ok(secret.clone());
    }
    if !settings.debug {
        anyhow::bail!(
            "WIF_SECRET_KEY : la clé secrète est obligatoire hors WIF_DEBUG (par exemple : openssl rand -hex 32)"
        );
    }
    let path = settings.data_dir().join(DEBUG_KEY_FILE);
    // Earlier versions kept it in the media root: take it from there, and remove it there.
    let old = settings.media_root.join(DEBUG_KEY_FILE);
    let key = match read_debug_key(&path)? {
        Some(key) => key,
        None => read_debug_key(&old)?.unwrap_or_else(crate::crypto::random_token),
    };
    write_private(&path, &key).map_err(|e| {
        anyhow::anyhow!(
            "WIF_SECRET_KEY : impossible d'enregistrer la clé dans {} ({e})",
            path.display()
        )
    })?;
    if old.exists() && old != path {
        std::fs::remove_file(&old).ok();
    }
    Ok(Secret::new(key))
}

/// The debug key kept in `path`, if there is one: a symbolic link (which could point the key at
/// a file that others write) or a key too short to be secret is refused.
fn read_debug_key(path: &std::path::Path) -> anyhow::Result<Option<String>> {
    let refused = |why: &str| {
        anyhow::anyhow!(
            "WIF_SECRET_KEY : {} {why} ; supprimez-le pour qu'une nouvelle clé soit créée",
            path.display()
        )
    };
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(refused(&format!("est illisible ({e})"))),
        Ok(meta) if meta.file_type().is_symlink() => {
            return Err(refused("est un lien symbolique"));
        }
        Ok(_) => {}
    }
    let key = std::fs::read_to_string(path)
        .map_err(|e| refused(&format!("est illisible ({e})")))?
        .trim()
        .to_owned();
    if key.len() < MIN_SECRET_LENGTH {
        return Err(refused("contient une clé de moins de 32 caractères"));
    }
    Ok(Some(key))
}

/// Writes `content` to `path` with permissions 0600 (owner only).
fn write_private(path: &std::path::Path, content: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    #[cfg(unix)]
    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    file.write_all(content.as_bytes())
}

/// What `wif serve` listens on.
pub struct Listeners {
    pub admin: tokio::net::TcpListener,
    /// `WIF_METRICS_BIND`, unless `off`.
    pub metrics: Option<tokio::net::TcpListener>,
}

/// `wif serve`: everything the admin needs before it serves, checked first so that a wrong
/// setting stops the command before anything starts: the secret key, then `WIF_BIND` and
/// `WIF_METRICS_BIND`.
pub async fn prepare(
    settings: &Settings,
    db: Db,
    jobs: Vec<crate::scheduler::Job>,
) -> anyhow::Result<(Listeners, Arc<AppState>)> {
    let secret = secret_key(settings)?;
    crate::mail::Mailer::new(&settings.email)?;
    let bind = |variable: &'static str, address: SocketAddr| async move {
        tokio::net::TcpListener::bind(address)
            .await
            .map_err(|e| anyhow::anyhow!("{variable} : impossible d'écouter sur {address} ({e})"))
    };
    let admin = bind("WIF_BIND", settings.bind).await?;
    let metrics = match settings.metrics_bind {
        Some(address) => Some(bind("WIF_METRICS_BIND", address).await?),
        None => None,
    };
    let state = Arc::new(AppState {
        jobs,
        ..AppState::new(db, settings, secret)
    });
    Ok((Listeners { admin, metrics }, state))
}

/// Serves the admin on `listener` until `stop` resolves, which also asks for the instance's stop
/// (`state.shutdown`); returns once the requests under way have ended.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    stop: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    tracing::info!(address = ?listener.local_addr().ok(), "administration démarrée");
    let (limits, proxies) = (state.limits, state.trusted_proxies.clone());
    let shutdown = state.shutdown.clone();
    let stop = async move {
        tokio::select! {
            () = stop => shutdown.ask(),
            () = shutdown.asked() => {}
        }
    };
    crate::http::serve(listener, app(state), limits, proxies, stop).await?;
    Ok(())
}

/// Serves `/metrics` (with `/healthz` and `/readyz`) on the metrics listener.
pub async fn serve_metrics(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    tracing::info!(address = ?listener.local_addr().ok(), "métriques disponibles");
    let (limits, proxies) = (state.limits, state.trusted_proxies.clone());
    crate::http::serve(listener, metrics::app(state), limits, proxies, shutdown).await?;
    Ok(())
}
