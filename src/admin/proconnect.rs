//! The ProConnect pages (SPEC 15): the start of a sign-in, the return from ProConnect and the
//! account it opens, the return from ProConnect's logout. `crate::proconnect` speaks OpenID
//! Connect; this module decides who may sign in.
//!
//! A sign-in sent to ProConnect is stored (`proconnect_requests`) under the HMAC of its `state`,
//! with the HMAC of a random cookie of the browser that left: the return must bring both, once,
//! within 10 minutes.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use maud::html;
use serde::Deserialize;

use super::auth::{self, SignedIn};
use super::layout::{alert, page};
use super::{AppState, PageError};
use crate::config::PasswordLogin;
use crate::crypto::random_token;
use crate::proconnect::{Identity, ProConnectError};
use crate::store::access_log::{self, Action, NewEntry};
use crate::store::proconnect_requests::{self, LIFETIME, Pending, Purpose};
use crate::store::users::{self, User};
use crate::store::{Db, StoreError};

/// The browser's side of a request sent to ProConnect.
const BROWSER_COOKIE: &str = "wif_proconnect";

#[derive(Deserialize)]
pub struct StartQuery {
    next: Option<String>,
}

/// `GET /admin/proconnect/`: sends the browser to ProConnect.
pub async fn start(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Query<StartQuery>,
) -> Result<Response, PageError> {
    let proconnect = state.proconnect.as_ref().ok_or(PageError::NotFound)?;
    let authorization = match proconnect.authorization().await {
        Ok(authorization) => authorization,
        Err(error) => return Ok(failed(&state, error)),
    };
    let browser = browser_token(&headers);
    let pending = Pending {
        browser_hash: auth::hash_token(&state, &browser),
        nonce: authorization.nonce,
        pkce_verifier: authorization.pkce_verifier,
        next_path: auth::safe_next(query.next.as_deref()),
    };
    let state_hash = auth::hash_token(&state, &authorization.state);
    proconnect_requests::create(&state.db, &state_hash, Purpose::Login, &pending, Utc::now())
        .await?;
    Ok(to_provider(&state, &authorization.url, &browser))
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /admin/proconnect/callback/`: ProConnect's answer. The request must be this browser's,
/// unused and recent; then the code is exchanged, the tokens verified, and the account found.
pub async fn callback(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Result<Response, PageError> {
    let proconnect = state.proconnect.as_ref().ok_or(PageError::NotFound)?;
    let address = auth::address(&state, peer, &headers);
    let attempt = Attempt {
        state: &state,
        address: &address,
    };
    let Some(pending) = returned(&state, &headers, query.state.as_deref(), Purpose::Login).await?
    else {
        return attempt
            .refused(
                None,
                "état inconnu, déjà utilisé, expiré ou d'un autre navigateur",
                Refusal::State,
                "",
            )
            .await;
    };
    if let Some(error) = query.error {
        let refusal = match error.as_str() {
            "access_denied" => Refusal::Denied,
            _ => Refusal::ProviderError,
        };
        let detail = format!("erreur renvoyée : {}", printable(&error));
        return attempt.refused(None, &detail, refusal, "").await;
    }
    let Some(code) = query.code else {
        return attempt
            .refused(None, "retour sans code", Refusal::Unverified, "")
            .await;
    };
    let identity = match proconnect
        .identity(&code, &pending.nonce, &pending.pkce_verifier)
        .await
    {
        Ok(identity) => identity,
        Err(error) => {
            let refusal = match error {
                ProConnectError::Unreachable(_) => {
                    attempt.record(None, &error.to_string()).await?;
                    return Ok(failed(&state, error));
                }
                ProConnectError::WeakAcr(_) => Refusal::WeakAcr,
                _ => Refusal::Unverified,
            };
            return attempt.refused(None, &error.to_string(), refusal, "").await;
        }
    };
    let (user, linked) = match account(&state.db, &identity).await? {
        Ok(found) => found,
        Err(refusal) => {
            let (username, detail) = match &refusal {
                Refusal::Inactive(username) => (username.clone(), "compte désactivé"),
                Refusal::Ambiguous => (identity.email.clone(), "plusieurs comptes à cette adresse"),
                _ => (identity.email.clone(), "aucun compte ne correspond"),
            };
            return attempt
                .refused(Some(&username), detail, refusal, &identity.email)
                .await;
        }
    };
    let now = Utc::now();
    if linked {
        let entry = NewEntry {
            user_id: Some(user.id),
            username: &user.username,
            action: Action::ProConnectLinked,
            ds_id: None,
            address: &address,
            detail: None,
        };
        access_log::record(&state.db, entry, now).await?;
        tracing::info!(user_id = user.id, "compte relié à ProConnect");
    }
    users::set_names(
        &state.db,
        user.id,
        &identity.given_name,
        &identity.usual_name,
    )
    .await?;
    let signed_in = SignedIn {
        user: &user,
        id_token: Some(&identity.id_token),
        address: &address,
        detail: Some("ProConnect"),
    };
    let mut response = auth::open_session(&state, &headers, signed_in, &pending.next_path).await?;
    response.headers_mut().append(
        header::SET_COOKIE,
        auth::set_cookie(&state, BROWSER_COOKIE, "", 0),
    );
    Ok(response)
}

#[derive(Deserialize)]
pub struct LoggedOutQuery {
    state: Option<String>,
}

/// `GET /admin/proconnect/logout/`: back from ProConnect's logout; the `state` must be the one
/// this browser left with.
pub async fn logged_out(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Query<LoggedOutQuery>,
) -> Result<Response, PageError> {
    if state.proconnect.is_none() {
        return Err(PageError::NotFound);
    }
    if returned(&state, &headers, query.state.as_deref(), Purpose::Logout)
        .await?
        .is_none()
    {
        tracing::warn!("retour de déconnexion ProConnect non vérifié");
        return Ok(message_page(
            StatusCode::BAD_REQUEST,
            "Déconnexion",
            "Le retour de ProConnect n'a pas pu être vérifié. Votre session sur ce service est bien fermée.",
        ));
    }
    Ok(Redirect::to("/admin/login?deconnecte=proconnect").into_response())
}

/// After the local session ended: the way to ProConnect's logout, with `id_token_hint`, a
/// `state` kept for the return, and `post_logout_redirect_uri`. When ProConnect cannot be
/// reached, the login page says that its session may still be open.
///
/// The way is a page that moves on by itself (`Refresh`), not a redirect: the logout is a form,
/// and browsers check each redirect after a form against the CSP's `form-action`, while
/// ProConnect's logout goes on through the identity provider's own site.
pub(super) async fn end_session(
    state: &AppState,
    headers: &HeaderMap,
    id_token: &str,
) -> Result<Response, PageError> {
    let Some(proconnect) = &state.proconnect else {
        return Ok(Redirect::to("/admin/login?deconnecte=1").into_response());
    };
    let logout_state = random_token();
    let url = match proconnect.end_session_url(id_token, &logout_state).await {
        Ok(Some(url)) => url,
        Ok(None) => return Ok(Redirect::to("/admin/login?deconnecte=1").into_response()),
        Err(error) => {
            tracing::warn!(%error, "déconnexion ProConnect impossible");
            return Ok(Redirect::to("/admin/login?deconnecte=sans-proconnect").into_response());
        }
    };
    let browser = browser_token(headers);
    let pending = Pending {
        browser_hash: auth::hash_token(state, &browser),
        nonce: String::new(),
        pkce_verifier: String::new(),
        next_path: String::new(),
    };
    let state_hash = auth::hash_token(state, &logout_state);
    proconnect_requests::create(
        &state.db,
        &state_hash,
        Purpose::Logout,
        &pending,
        Utc::now(),
    )
    .await?;
    let body = html! {
        (alert("info", "Vous êtes déconnecté de ce service. Votre navigateur passe maintenant par ProConnect pour y fermer aussi votre session."))
        p { a.fr-btn href=(url) { "Continuer vers ProConnect" } }
    };
    let mut response = page("Déconnexion", None, "", body).into_response();
    let refresh = HeaderValue::from_str(&format!("0; url={url}"))
        .map_err(|_| PageError::Internal("adresse de déconnexion ProConnect invalide".into()))?;
    let headers = response.headers_mut();
    headers.insert(header::REFRESH, refresh);
    headers.append(
        header::SET_COOKIE,
        auth::set_cookie(state, BROWSER_COOKIE, &browser, LIFETIME.num_seconds()),
    );
    Ok(response)
}

/// The request a return from ProConnect answers, taken (a second return finds nothing), when it
/// exists, has not expired and was sent by this browser.
async fn returned(
    state: &AppState,
    headers: &HeaderMap,
    returned_state: Option<&str>,
    purpose: Purpose,
) -> Result<Option<Pending>, StoreError> {
    let (Some(returned_state), Some(browser)) =
        (returned_state, auth::cookie(headers, BROWSER_COOKIE))
    else {
        return Ok(None);
    };
    let state_hash = auth::hash_token(state, returned_state);
    let browser_hash = auth::hash_token(state, &browser);
    proconnect_requests::take(&state.db, &state_hash, &browser_hash, purpose, Utc::now()).await
}

/// The browser's cookie: the one it already has, so that two tabs signing in at once both come
/// back; a new one otherwise.
fn browser_token(headers: &HeaderMap) -> String {
    auth::cookie(headers, BROWSER_COOKIE)
        .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_else(random_token)
}

/// A redirect to ProConnect that leaves the browser's cookie behind, for the return.
fn to_provider(state: &AppState, url: &str, browser: &str) -> Response {
    let mut response = Redirect::to(url).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        auth::set_cookie(state, BROWSER_COOKIE, browser, LIFETIME.num_seconds()),
    );
    response
}

/// The account a verified identity opens, and whether it was linked just now; or why none.
async fn account(
    db: &Db,
    identity: &Identity,
) -> Result<Result<(User, bool), Refusal>, StoreError> {
    if let Some(user) = users::find_by_proconnect(db, &identity.issuer, &identity.sub).await? {
        return Ok(match user.is_active {
            true => Ok((user, false)),
            false => Err(Refusal::Inactive(user.username)),
        });
    }
    // Linking by e-mail, once per issuer: an account linked to another identity of this issuer is
    // not a candidate; one linked under another issuer (ProConnect's integration platform, before
    // production) is linked again.
    let candidates: Vec<User> = users::find_by_email(db, &identity.email)
        .await?
        .into_iter()
        .filter(|user| user.proconnect_issuer.as_deref() != Some(identity.issuer.as_str()))
        .collect();
    Ok(match <[User; 1]>::try_from(candidates) {
        Ok([user]) if !user.is_active => Err(Refusal::Inactive(user.username)),
        Ok([user]) => {
            match users::link_proconnect(db, user.id, &identity.issuer, &identity.sub).await? {
                true => Ok((user, true)),
                false => Err(Refusal::Unknown),
            }
        }
        Err(candidates) if candidates.is_empty() => Err(Refusal::Unknown),
        Err(_) => Err(Refusal::Ambiguous),
    })
}

/// Why a return from ProConnect opens no session.
enum Refusal {
    /// No request of this browser for this `state`: forged, replayed, expired or misrouted.
    State,
    /// The agent declined at ProConnect (`access_denied`).
    Denied,
    /// ProConnect answered another error.
    ProviderError,
    /// A token or the userinfo failed verification.
    Unverified,
    /// `WIF_PROCONNECT_MFA` and a one-factor `acr`.
    WeakAcr,
    /// No account for this identity or e-mail.
    Unknown,
    /// Several accounts without an identity share the e-mail.
    Ambiguous,
    /// The account's username.
    Inactive(String),
}

impl Refusal {
    /// The sentence an agent reads, with what to do; `email` is the one ProConnect gave, when
    /// the refusal is about the account.
    fn answer(self, email: &str) -> (StatusCode, String) {
        let (status, sentence) = match self {
            Refusal::State => (
                StatusCode::BAD_REQUEST,
                "Cette connexion ProConnect a expiré, a déjà servi ou a été commencée dans un autre navigateur. Recommencez depuis la page de connexion.",
            ),
            Refusal::Denied => (
                StatusCode::FORBIDDEN,
                "La connexion ProConnect a été annulée ou refusée. Recommencez depuis la page de connexion si vous le souhaitez.",
            ),
            Refusal::ProviderError => (
                StatusCode::BAD_GATEWAY,
                "ProConnect a renvoyé une erreur. Recommencez dans quelques minutes ; si cela se reproduit, prévenez l'administrateur du service.",
            ),
            Refusal::Unverified => (
                StatusCode::FORBIDDEN,
                "La réponse de ProConnect n'a pas pu être vérifiée. Recommencez depuis la page de connexion ; si cela se reproduit, prévenez l'administrateur du service.",
            ),
            Refusal::WeakAcr => (
                StatusCode::FORBIDDEN,
                "Ce service exige une connexion ProConnect avec double authentification. Reconnectez-vous avec un moyen d'identification à deux facteurs, ou demandez à votre administrateur comment en activer un.",
            ),
            Refusal::Inactive(_) => (
                StatusCode::FORBIDDEN,
                "Votre compte est désactivé. Demandez à un administrateur de Work in France de le réactiver.",
            ),
            Refusal::Unknown => {
                return (
                    StatusCode::FORBIDDEN,
                    format!(
                        "Aucun compte de ce service ne correspond à votre identité ProConnect ({email}). Demandez à un administrateur de Work in France de vous créer un compte avec cette adresse e-mail, puis reconnectez-vous."
                    ),
                );
            }
            Refusal::Ambiguous => {
                return (
                    StatusCode::FORBIDDEN,
                    format!(
                        "Plusieurs comptes de ce service portent l'adresse {email}. Demandez à un administrateur de Work in France de n'en garder qu'un, puis reconnectez-vous."
                    ),
                );
            }
        };
        (status, sentence.to_owned())
    }
}

/// A return from ProConnect being answered: where from.
struct Attempt<'a> {
    state: &'a AppState,
    address: &'a str,
}

impl Attempt<'_> {
    /// Writes the refused sign-in to the access log (`username`: the account or e-mail when
    /// known) and answers with the refusal's page.
    async fn refused(
        &self,
        username: Option<&str>,
        detail: &str,
        refusal: Refusal,
        email: &str,
    ) -> Result<Response, PageError> {
        self.record(username, detail).await?;
        let (status, sentence) = refusal.answer(email);
        Ok(message_page(status, "Connexion impossible", &sentence))
    }

    /// Writes a refused sign-in to the access log and the application's log; `detail` says why,
    /// without a token or personal data.
    async fn record(&self, username: Option<&str>, detail: &str) -> Result<(), StoreError> {
        let detail = format!("ProConnect : {detail}");
        let entry = NewEntry {
            user_id: None,
            username: username.unwrap_or("ProConnect"),
            action: Action::LoginFailed,
            ds_id: None,
            address: self.address,
            detail: Some(&detail),
        };
        access_log::record(&self.state.db, entry, Utc::now()).await?;
        tracing::info!(raison = %detail, "connexion ProConnect refusée");
        Ok(())
    }
}

/// ProConnect could not be reached, or answered something unusable: a page that says so, and
/// the log line.
fn failed(state: &AppState, error: ProConnectError) -> Response {
    tracing::warn!(%error, "ProConnect indisponible");
    let sentence = match error {
        ProConnectError::Unreachable(_) => {
            "ProConnect ne répond pas pour le moment. Réessayez dans quelques minutes."
        }
        _ => {
            "ProConnect a donné une réponse inutilisable. Réessayez dans quelques minutes ; si cela se reproduit, prévenez l'administrateur du service."
        }
    };
    let fallback = match state.password_login {
        PasswordLogin::All => " Vous pouvez aussi vous connecter avec votre mot de passe.",
        PasswordLogin::Administrators => {
            " Les administrateurs peuvent se connecter avec leur mot de passe."
        }
        PasswordLogin::Off => "",
    };
    message_page(
        StatusCode::BAD_GATEWAY,
        "ProConnect indisponible",
        &format!("{sentence}{fallback}"),
    )
}

/// A page of one message and a way back to the login page.
fn message_page(status: StatusCode, title: &str, sentence: &str) -> Response {
    let body = html! {
        (alert("error", sentence))
        p { a.fr-link href="/admin/login" { "Revenir à la page de connexion" } }
    };
    (status, page(title, None, "", body)).into_response()
}

/// An error code from the query, as the log may show it: short, and printable.
fn printable(text: &str) -> String {
    text.chars()
        .take(64)
        .map(|c| if c.is_ascii_graphic() { c } else { '?' })
        .collect()
}
