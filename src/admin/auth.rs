//! Signing in and out, sessions, CSRF and the throttling of failed sign-ins.
//!
//! The session cookie carries 32 random bytes; the database keeps only their HMAC keyed by
//! `WIF_SECRET_KEY`. Each session has its CSRF token, checked on every POST by
//! `require_session`; the login form, which has no session yet, uses a double-submit cookie.
//!
//! Failed sign-ins are counted per username at one address (an IPv6 client's whole /64) and per
//! username everywhere, with separate thresholds: one address's failures never refuse another
//! person's right password, and a guesser spread over many addresses is still slowed down.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use axum::Form;
use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use maud::html;
use serde::Deserialize;
use sha2::Sha256;

use super::layout::{alert, page};
use super::{AppState, PageError};
use crate::config::PasswordLogin;
use crate::crypto::{hex, random_token, same};
use crate::domain::account;
use crate::http::ClientKey;
use crate::store::access_log::{self, Action, NewEntry};
use crate::store::sessions::{self, Session};
use crate::store::{login_failures, users};

const SESSION_COOKIE: &str = "wif_session";
const LOGIN_CSRF_COOKIE: &str = "wif_login_csrf";
/// Failures counted over this window.
const WINDOW: Duration = Duration::minutes(15);
/// Thresholds of one throttling key: from `slow_after` failures in the window on, each attempt
/// waits a growing delay (1 s, 2 s, 4 s…); from `lock_after` on, sign-in is refused until the
/// window forgets the first ones.
struct Thresholds {
    slow_after: usize,
    lock_after: usize,
}

/// A username at one address: the guesser sitting at a keyboard.
const AT_ADDRESS: Thresholds = Thresholds {
    slow_after: 5,
    lock_after: 10,
};
/// A username from anywhere: higher than one address can reach alone, since `AT_ADDRESS` stops
/// it at 10.
const ANYWHERE: Thresholds = Thresholds {
    slow_after: 20,
    lock_after: 50,
};
/// How long a sign-in waits for a turn to check its password before being told to retry.
const CHECK_WAIT: StdDuration = StdDuration::from_secs(5);
/// The answer to a wrong username, a wrong password and an inactive account alike.
const REFUSED: &str = "Nom d'utilisateur ou mot de passe incorrect, ou compte désactivé.";
/// The answer to an agent's right password under `WIF_PASSWORD_LOGIN=administrators`.
const AGENTS_USE_PROCONNECT: &str = "Les agents se connectent avec ProConnect : utilisez le bouton « S’identifier avec ProConnect ». Le mot de passe est réservé aux administrateurs.";
/// The answer to a password under `WIF_PASSWORD_LOGIN=off`.
const PASSWORDS_OFF: &str = "La connexion par mot de passe est désactivée : connectez-vous avec ProConnect depuis la page de connexion.";

/// The session id as stored: HMAC-SHA256 of the cookie's token keyed by `WIF_SECRET_KEY`, so
/// that the table alone does not give a usable cookie.
pub(super) fn hash_token(state: &AppState, token: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(state.secret.expose().as_bytes())
        .expect("HMAC takes any key");
    mac.update(token.as_bytes());
    let digest = mac.finalize().into_bytes();
    hex(&digest)
}

pub(super) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

pub(super) fn set_cookie(state: &AppState, name: &str, value: &str, max_age: i64) -> HeaderValue {
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/admin; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .expect("a cookie of safe characters")
}

/// The client's address, as the access log records it.
pub(super) fn address(state: &AppState, peer: SocketAddr, headers: &HeaderMap) -> String {
    state
        .trusted_proxies
        .client_address(peer.ip(), headers)
        .to_string()
}

/// Whom failed sign-ins are counted against: the client's address, an IPv6 client's whole /64.
fn throttling_client(state: &AppState, peer: SocketAddr, headers: &HeaderMap) -> ClientKey {
    state.trusted_proxies.client_key(peer.ip(), headers)
}

/// Password checks (Argon2: tens of milliseconds of CPU each) run on the blocking pool, as many
/// at once as half the cores, so that a burst of sign-ins never stalls the pages; a bounded
/// queue waits behind them, and beyond it a sign-in is told at once to retry. Hashing a new
/// password (the Users page) takes the same turns.
pub struct PasswordChecks {
    running: Arc<tokio::sync::Semaphore>,
    queued: Arc<tokio::sync::Semaphore>,
}

impl PasswordChecks {
    pub fn new() -> PasswordChecks {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let at_once = (cores / 2).max(1);
        PasswordChecks::with_limits(at_once, at_once * 64)
    }

    /// `at_once` checks running, and at most `waiting` more in the queue (the running ones
    /// included).
    pub fn with_limits(at_once: usize, waiting: usize) -> PasswordChecks {
        PasswordChecks {
            running: Arc::new(tokio::sync::Semaphore::new(at_once.max(1))),
            queued: Arc::new(tokio::sync::Semaphore::new(waiting.max(at_once).max(1))),
        }
    }

    /// Whether `password` matches `hash`; `None` when too many checks are waiting already.
    async fn verify(&self, password: &str, hash: &str) -> Option<bool> {
        if account::too_costly(hash) {
            // Matches nothing, unverified and without a turn of the pool; the hash itself
            // stays out of the log.
            tracing::warn!(
                "mot de passe refusé sans vérification : hachage aux paramètres refusés"
            );
            return Some(false);
        }
        let (password, hash) = (password.to_owned(), hash.to_owned());
        self.run(move || account::verify(&password, &hash)).await
    }

    /// The Argon2id hash of a new password; `None` when too many checks are waiting already.
    pub async fn hash(&self, password: &str) -> Option<String> {
        let password = password.to_owned();
        self.run(move || account::hash(&password)).await
    }

    /// Runs `work` on the blocking pool at its turn. The work holds its place and its turn
    /// until it ends: a client that hangs up stops waiting, not the work, which still counts.
    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
        let place = self.queued.clone().try_acquire_owned().ok()?;
        let turn = tokio::time::timeout(CHECK_WAIT, self.running.clone().acquire_owned())
            .await
            .ok()?
            .ok()?;
        tokio::task::spawn_blocking(move || {
            let _held = (place, turn);
            work()
        })
        .await
        .ok()
    }
}

impl Default for PasswordChecks {
    fn default() -> PasswordChecks {
        PasswordChecks::new()
    }
}

/// Every admin route but the login page and the assets: without a live session, to the login
/// page; a POST without the session's CSRF token, or sent from another site, is refused.
pub async fn require_session(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let now = Utc::now();
    let session = match cookie(request.headers(), SESSION_COOKIE) {
        Some(token) => {
            match sessions::touch(&state.db, &hash_token(&state, &token), now, state.idle).await {
                Ok(session) => session,
                Err(error) => return PageError::from(error).into_response(),
            }
        }
        None => None,
    };
    let Some(session) = session else {
        let next_path = request
            .uri()
            .path_and_query()
            .map_or("/admin/".to_owned(), |p| p.as_str().to_owned());
        let target = match request.method() == Method::GET {
            true => format!(
                "/admin/login?{}",
                serde_urlencoded::to_string([("next", next_path)]).unwrap_or_default()
            ),
            false => "/admin/login".to_owned(),
        };
        return Redirect::to(&target).into_response();
    };
    let mut request = request;
    if request.method() == Method::POST {
        if !same_origin(request.headers(), &state.allowed_origins) {
            return forbidden("Requête refusée : elle ne vient pas de ce site.");
        }
        let (parts, body) = request.into_parts();
        let Ok(bytes) = to_bytes(body, 1 << 20).await else {
            return forbidden("Requête refusée : formulaire trop long.");
        };
        let fields: Vec<(String, String)> =
            serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
        let token = fields.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v);
        if !token.is_some_and(|t| same(t, &session.csrf_token)) {
            return forbidden(
                "Requête refusée : le formulaire a expiré ou ne vient pas de ce site. Rechargez la page et recommencez.",
            );
        }
        request = Request::from_parts(parts, Body::from(bytes));
    }
    request.extensions_mut().insert(session);
    next.run(request).await
}

/// A POST sent by a page of another site carries its `Origin` (or at least its `Referer`): it
/// must be this site, as named by `Host` or, behind a proxy that rewrites `Host`, by
/// `WIF_ALLOWED_ORIGINS`.
fn same_origin(headers: &HeaderMap, allowed: &[String]) -> bool {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|v| v.to_str().ok());
    let Some(origin) = origin else {
        return true;
    };
    let Some((scheme, rest)) = origin.split_once("://") else {
        return false;
    };
    let origin_host = rest.split('/').next().unwrap_or_default();
    let origin = format!("{scheme}://{origin_host}");
    allowed.iter().any(|a| a.eq_ignore_ascii_case(&origin))
        || host.is_some_and(|host| origin_host.eq_ignore_ascii_case(host))
}

fn forbidden(message: &str) -> Response {
    (
        StatusCode::FORBIDDEN,
        page("Accès refusé", None, "", alert("error", message)),
    )
        .into_response()
}

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    next: Option<String>,
    /// After a logout: `proconnect` when ProConnect's session ended too.
    deconnecte: Option<String>,
}

/// Where to go after signing in: a path of the admin only, never another site, and nothing a
/// `Location` header cannot carry (a control character, say).
pub(super) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with("/admin/")
                && !n.contains('\\')
                && n.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            n.to_owned()
        }
        _ => "/admin/".to_owned(),
    }
}

/// The login form's token: the one its cookie already carries, so that another tab or a request
/// the browser makes by itself does not invalidate a form on screen; a new one otherwise.
fn login_token(headers: &HeaderMap) -> String {
    cookie(headers, LOGIN_CSRF_COOKIE)
        .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_else(random_token)
}

/// What the login page says above its forms.
enum Notice<'a> {
    None,
    Error(&'a str),
    Info(&'a str),
}

fn login_page(
    state: &AppState,
    csrf: &str,
    next: &str,
    notice: Notice<'_>,
    username: &str,
) -> Response {
    let passwords = state.password_login != PasswordLogin::Off;
    let body = html! {
        div.fr-grid-row.fr-grid-row--center {
            div.fr-col-12.fr-col-md-6 {
                @match notice {
                    Notice::Error(message) => (alert("error", message)),
                    Notice::Info(message) => (alert("info", message)),
                    Notice::None => {},
                }
                @if state.proconnect.is_some() {
                    h2.fr-h5 { "Agents de l'État : connectez-vous avec ProConnect" }
                    form method="get" action="/admin/proconnect/" {
                        input type="hidden" name="next" value=(next);
                        div.fr-connect-group {
                            button.fr-connect.fr-connect--pro type="submit" {
                                span.fr-connect__login { "S’identifier avec" }
                                " "
                                span.fr-connect__brand { "ProConnect" }
                            }
                            p {
                                a href="https://www.proconnect.gouv.fr/" target="_blank" rel="noopener"
                                    title="Qu’est-ce que ProConnect ? - nouvelle fenêtre" {
                                    "Qu’est-ce que ProConnect ?"
                                }
                            }
                        }
                    }
                    @if passwords {
                        p.fr-hr-or { "ou" }
                    }
                }
                @if passwords {
                form method="post" action="/admin/login" {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="next" value=(next);
                    fieldset.fr-fieldset {
                        legend.fr-fieldset__legend {
                            @match state.password_login {
                                PasswordLogin::Administrators => "Administrateurs : identifiez-vous avec votre mot de passe",
                                _ => "Identifiez-vous avec votre compte d'agent",
                            }
                        }
                        div.fr-fieldset__element {
                            div.fr-input-group {
                                label.fr-label for="username" { "Nom d'utilisateur" }
                                input.fr-input #username type="text" name="username" value=(username)
                                    autocomplete="username" required autofocus[state.proconnect.is_none()];
                            }
                        }
                        div.fr-fieldset__element {
                            div.fr-input-group {
                                label.fr-label for="password" { "Mot de passe" }
                                input.fr-input #password type="password" name="password"
                                    autocomplete="current-password" required;
                            }
                        }
                        div.fr-fieldset__element {
                            button.fr-btn type="submit" { "Se connecter" }
                        }
                    }
                }
                }
            }
        }
    };
    let status = match notice {
        Notice::Error(_) => StatusCode::UNAUTHORIZED,
        _ => StatusCode::OK,
    };
    let mut response = (status, page("Connexion", None, "", body)).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(state, LOGIN_CSRF_COOKIE, csrf, 3600),
    );
    response
}

/// `GET /admin/login`.
pub async fn login_form(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Query<LoginQuery>,
) -> Response {
    let next = safe_next(query.next.as_deref());
    let notice = match query.deconnecte.as_deref() {
        Some("proconnect") => Notice::Info("Vous êtes déconnecté de ce service et de ProConnect."),
        Some("sans-proconnect") => Notice::Info(
            "Vous êtes déconnecté de ce service. ProConnect n'a pas pu être joint : fermez votre navigateur pour y fermer aussi votre session.",
        ),
        Some(_) => Notice::Info("Vous êtes déconnecté de ce service."),
        None => Notice::None,
    };
    login_page(&state, &login_token(&headers), &next, notice, "")
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

/// `POST /admin/login`.
pub async fn login(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    let next = safe_next(Some(&form.next));
    let csrf_cookie = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if !same_origin(&headers, &state.allowed_origins)
        || form.csrf.is_empty()
        || !same(&form.csrf, &csrf_cookie)
    {
        return Ok(forbidden(
            "Requête refusée : le formulaire a expiré ou ne vient pas de ce site. Rechargez la page et recommencez.",
        ));
    }
    if state.password_login == PasswordLogin::Off {
        return Ok(forbidden(PASSWORDS_OFF));
    }
    let now = Utc::now();
    let address = address(&state, peer, &headers);
    let client = throttling_client(&state, peer, &headers);
    let username = form.username.trim().to_owned();
    let lowercase = username.to_lowercase();
    // Keys and thresholds in the same order.
    let keys = [
        format!("user_address:{lowercase} {client}"),
        format!("user:{lowercase}"),
    ];
    let thresholds = [AT_ADDRESS, ANYWHERE];

    let attempt = login_failures::attempt(&state.db, &keys, now, now - WINDOW, |i, failures| {
        throttle_message(&thresholds[i], failures, now)
    })
    .await?;
    let attempt = match attempt {
        Ok(attempt) => attempt,
        Err(wait) => {
            return Ok(login_page(
                &state,
                &csrf_cookie,
                &next,
                Notice::Error(&wait),
                &username,
            ));
        }
    };

    let user = users::find_by_username(&state.db, &username).await?;
    // An unknown name is checked against a dummy hash, so that the time does not tell whether
    // the name exists.
    let hash = user
        .as_ref()
        .map_or(state.dummy_hash.as_str(), |u| u.password_hash.as_str());
    let Some(matches) = state.password_checks.verify(&form.password, hash).await else {
        login_failures::withdraw(&state.db, &attempt).await?;
        return Ok(busy());
    };
    let accepted = matches && user.as_ref().is_some_and(|u| u.is_active);
    let entry = |action, user_id| NewEntry {
        user_id,
        username: &username,
        action,
        ds_id: None,
        address: &address,
        detail: None,
    };
    let Some(user) = user.filter(|_| accepted) else {
        access_log::record(&state.db, entry(Action::LoginFailed, None), now).await?;
        tracing::info!("connexion refusée");
        return Ok(login_page(
            &state,
            &csrf_cookie,
            &next,
            Notice::Error(REFUSED),
            &username,
        ));
    };

    login_failures::succeeded(&state.db, &attempt, &keys[0]).await?;
    if state.password_login == PasswordLogin::Administrators && !user.is_superuser {
        // The right password of an agent: told where to sign in instead, and logged.
        let entry = NewEntry {
            detail: Some("mot de passe réservé aux administrateurs"),
            ..entry(Action::LoginFailed, Some(user.id))
        };
        access_log::record(&state.db, entry, now).await?;
        return Ok(login_page(
            &state,
            &csrf_cookie,
            &next,
            Notice::Error(AGENTS_USE_PROCONNECT),
            &username,
        ));
    }
    if account::needs_rehash(&user.password_hash) {
        // A hash kept from the Python back office gives way to ours, at a turn of the bounded
        // pool (Argon2id: CPU work); when the pool is full, at a later sign-in.
        if let Some(hash) = state.password_checks.hash(&form.password).await {
            users::set_password_hash(&state.db, user.id, &hash).await?;
        }
    }
    let signed_in = SignedIn {
        user: &user,
        id_token: None,
        address: &address,
        detail: None,
    };
    open_session(&state, &headers, signed_in, &next).await
}

/// Who has just proved who they are, and how.
pub(super) struct SignedIn<'a> {
    pub user: &'a users::User,
    /// The ID token of a ProConnect sign-in.
    pub id_token: Option<&'a str>,
    pub address: &'a str,
    /// How, in the access log (« ProConnect »); nothing for a password.
    pub detail: Option<&'a str>,
}

/// Opens a session for a user who has just signed in (password or ProConnect) and sends the
/// browser to `next`.
pub(super) async fn open_session(
    state: &AppState,
    headers: &HeaderMap,
    signed_in: SignedIn<'_>,
    next: &str,
) -> Result<Response, PageError> {
    let now = Utc::now();
    let user = signed_in.user;
    sessions::purge_expired(&state.db, now).await?;
    // A new session id at each sign-in: an id planted before cannot be reused.
    if let Some(old) = cookie(headers, SESSION_COOKIE) {
        sessions::delete(&state.db, &hash_token(state, &old)).await?;
    }
    let token = random_token();
    sessions::create(
        &state.db,
        &hash_token(state, &token),
        user.id,
        &random_token(),
        signed_in.id_token,
        now,
        state.idle,
    )
    .await?;
    users::set_last_login(&state.db, user.id, now).await?;
    let entry = NewEntry {
        user_id: Some(user.id),
        username: &user.username,
        action: Action::Login,
        ds_id: None,
        address: signed_in.address,
        detail: signed_in.detail,
    };
    access_log::record(&state.db, entry, now).await?;
    tracing::info!(user_id = user.id, "connexion");
    let mut response = Redirect::to(next).into_response();
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        set_cookie(state, SESSION_COOKIE, &token, state.idle.num_seconds()),
    );
    headers.append(
        header::SET_COOKIE,
        set_cookie(state, LOGIN_CSRF_COOKIE, "", 0),
    );
    Ok(response)
}

/// Too many sign-ins waiting for a password check: try again in a moment.
fn busy() -> Response {
    let mut response = (
        StatusCode::SERVICE_UNAVAILABLE,
        page(
            "Service occupé",
            None,
            "",
            alert(
                "error",
                "Trop de connexions en même temps : réessayez dans quelques secondes.",
            ),
        ),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    response
}

/// Whether a sign-in must wait, given the failures of one key in the window (oldest first), and
/// the message that says so.
fn throttle_message(
    thresholds: &Thresholds,
    failures: &[DateTime<Utc>],
    now: DateTime<Utc>,
) -> Option<String> {
    let Thresholds {
        slow_after,
        lock_after,
    } = *thresholds;
    if failures.len() >= lock_after {
        let until = failures[failures.len() - lock_after] + WINDOW;
        let minutes = ((until - now).num_seconds() + 59) / 60;
        return Some(format!(
            "Trop de tentatives de connexion : réessayez dans {} minute{}.",
            minutes.max(1),
            if minutes > 1 { "s" } else { "" }
        ));
    }
    if failures.len() >= slow_after {
        // 1 s, 2 s, 4 s… up to about a minute.
        let delay = Duration::seconds(1 << (failures.len() - slow_after).min(6));
        let last = *failures.last().expect("not empty");
        if now < last + delay {
            let seconds = (last + delay - now).num_seconds().max(1);
            return Some(format!(
                "Trop de tentatives de connexion : patientez {seconds} seconde{} avant de réessayer.",
                if seconds > 1 { "s" } else { "" }
            ));
        }
    }
    None
}

/// `POST /admin/logout`: the session ends on the server, the cookie is cleared; a session opened
/// through ProConnect then ends at ProConnect too.
pub async fn logout(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    axum::Extension(session): axum::Extension<Session>,
) -> Result<Response, PageError> {
    sessions::delete(&state.db, &session.id_hash).await?;
    let entry = NewEntry {
        user_id: Some(session.user.id),
        username: &session.user.username,
        action: Action::Logout,
        ds_id: None,
        address: &address(&state, peer, &headers),
        detail: None,
    };
    access_log::record(&state.db, entry, Utc::now()).await?;
    let mut response = match &session.id_token {
        Some(id_token) => super::proconnect::end_session(&state, &headers, id_token).await?,
        None => Redirect::to("/admin/login?deconnecte=1").into_response(),
    };
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, SESSION_COOKIE, "", 0),
    );
    Ok(response)
}

/// Records a view of personal data: a dossier (`ds_id`), Suivi Préfecture, a search (`detail`
/// says its kind).
pub async fn record_access(
    state: &AppState,
    session: &Session,
    peer: SocketAddr,
    headers: &HeaderMap,
    action: Action,
    ds_id: Option<i64>,
    detail: Option<&str>,
) -> Result<(), PageError> {
    let entry = NewEntry {
        user_id: Some(session.user.id),
        username: &session.user.username,
        action,
        ds_id,
        address: &address(state, peer, headers),
        detail,
    };
    access_log::record(&state.db, entry, Utc::now()).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_abandoned_check_keeps_its_turn_until_its_work_ends() {
        let checks = PasswordChecks::with_limits(1, 0);
        let stored = account::hash("correct cheval agrafe");
        // Polled once, the check hands its Argon2 work to the blocking pool; then its client
        // hangs up, long before the tens of milliseconds of work end.
        let abandoned = tokio::time::timeout(
            StdDuration::from_millis(1),
            checks.verify("mauvais mot de passe", &stored),
        )
        .await;
        assert!(abandoned.is_err(), "the check ended within 1 ms");
        assert_eq!(
            checks.verify("correct cheval agrafe", &stored).await,
            None,
            "the abandoned work still holds the only turn"
        );
        // Once that work ends, the turn is free again.
        let started = std::time::Instant::now();
        let matched = loop {
            if let Some(matched) = checks.verify("correct cheval agrafe", &stored).await {
                break matched;
            }
            assert!(
                started.elapsed() < StdDuration::from_secs(30),
                "never freed"
            );
            tokio::time::sleep(StdDuration::from_millis(5)).await;
        };
        assert!(matched);
    }

    #[tokio::test]
    async fn new_passwords_are_hashed_at_a_turn() {
        let checks = PasswordChecks::with_limits(1, 0);
        let stored = checks.hash("correct cheval agrafe").await.unwrap();
        assert!(account::verify("correct cheval agrafe", &stored));
        let abandoned = tokio::time::timeout(
            StdDuration::from_millis(1),
            checks.hash("autre mot de passe"),
        )
        .await;
        assert!(abandoned.is_err());
        assert_eq!(checks.hash("correct cheval agrafe").await, None);
    }
}
