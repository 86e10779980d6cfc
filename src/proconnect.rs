//! The ProConnect relying party (SPEC 15): discovery, the authorization request, the exchange of
//! the code, the verification of the ID token and of the signed userinfo, the logout address.
//! Everything that speaks OpenID Connect is here; `admin::proconnect` holds the pages and the
//! accounts.
//!
//! The provider's metadata and keys are read again at each step (two requests before the sign-in,
//! two more at its return), so that a key rotation at ProConnect never needs a restart here.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreJsonWebKey, CoreJwsSigningAlgorithm,
};
use openidconnect::http::header::{ACCEPT, CONTENT_TYPE};
use openidconnect::{
    AccessToken, AsyncHttpClient, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    HttpRequest, HttpResponse, IssuerUrl, JsonWebKey, JsonWebKeySet, LogoutRequest, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl,
    ProviderMetadataWithLogout, RedirectUrl, RequestTokenError, Scope, TokenResponse,
};
use serde::Deserialize;

use crate::config::ProConnectSettings;
use crate::crypto::random_token;

/// Where ProConnect sends agents back, under `WIF_ADMIN_URL`.
pub const CALLBACK_PATH: &str = "/admin/proconnect/callback/";
/// Where ProConnect sends agents after its logout.
pub const LOGOUT_RETURN_PATH: &str = "/admin/proconnect/logout/";
/// The claims asked for, besides `openid` (which the request always carries).
const SCOPES: [&str; 6] = [
    "email",
    "given_name",
    "usual_name",
    "uid",
    "siret",
    "idp_id",
];
/// The `acr` values that mean two factors, asked for and checked with `WIF_PROCONNECT_MFA`.
pub const MFA_ACRS: [&str; 3] = ["eidas1-mfa", "eidas2", "eidas3"];
/// The signatures accepted on the ID token and the userinfo: those ProConnect uses.
const ALGORITHMS: [CoreJwsSigningAlgorithm; 2] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
];
/// How long a request to ProConnect may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Why a sign-in or a logout through ProConnect failed; the sentence goes to the log, never a
/// token.
#[derive(Debug, thiserror::Error)]
pub enum ProConnectError {
    #[error("ProConnect ne répond pas : {0}")]
    Unreachable(String),
    #[error("ProConnect a refusé l'échange du code : {0}")]
    CodeRefused(String),
    #[error("réponse de ProConnect non vérifiée : {0}")]
    Unverified(String),
    #[error("connexion sans double authentification (acr « {0} »)")]
    WeakAcr(String),
}

/// A sign-in sent to ProConnect: the address to send the browser to, and what the return must
/// match.
pub struct Authorization {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// Who ProConnect says signed in, verified.
#[derive(Debug, Clone)]
pub struct Identity {
    pub issuer: String,
    pub sub: String,
    pub email: String,
    pub given_name: String,
    pub usual_name: String,
    /// The ID token as received: the logout's `id_token_hint`.
    pub id_token: String,
}

pub struct ProConnect {
    settings: ProConnectSettings,
    http: Http,
}

type Metadata = ProviderMetadataWithLogout;

impl ProConnect {
    pub fn new(settings: ProConnectSettings) -> ProConnect {
        let client = crate::ds::http_client()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .build()
            .expect("a client without custom TLS settings builds");
        ProConnect {
            settings,
            http: Http(client),
        }
    }

    pub fn redirect_uri(&self) -> String {
        format!("{}{CALLBACK_PATH}", self.settings.admin_url)
    }

    pub fn logout_return_uri(&self) -> String {
        format!("{}{LOGOUT_RETURN_PATH}", self.settings.admin_url)
    }

    /// The issuer's origin (`https://host[:port]`), where the sign-in and the logout send the
    /// browser; `None` if the issuer is not a URL.
    pub fn origin(&self) -> Option<String> {
        let url = reqwest::Url::parse(&self.settings.issuer).ok()?;
        Some(url.origin().ascii_serialization()).filter(|o| o != "null")
    }

    /// The provider's metadata and keys, read from its discovery document.
    async fn discover(&self) -> Result<Metadata, ProConnectError> {
        let issuer = IssuerUrl::new(self.settings.issuer.clone())
            .map_err(|e| ProConnectError::Unverified(format!("adresse de l'émetteur : {e}")))?;
        Metadata::discover_async(issuer, &self.http)
            .await
            .map_err(|error| match error {
                openidconnect::DiscoveryError::Request(e) => {
                    ProConnectError::Unreachable(e.to_string())
                }
                openidconnect::DiscoveryError::Response(status, _, _) => {
                    ProConnectError::Unreachable(format!("découverte : statut HTTP {status}"))
                }
                other => ProConnectError::Unverified(format!("découverte : {other}")),
            })
    }

    fn client(&self, metadata: Metadata) -> Result<Client, ProConnectError> {
        let redirect = RedirectUrl::new(self.redirect_uri())
            .map_err(|e| ProConnectError::Unverified(format!("WIF_ADMIN_URL : {e}")))?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.settings.client_id.clone()),
            Some(ClientSecret::new(
                self.settings.client_secret.expose().to_owned(),
            )),
        )
        .set_redirect_uri(redirect))
    }

    /// A new sign-in: `state` and `nonce` of 64 random characters, PKCE S256, the ProConnect
    /// claims, and with `WIF_PROCONNECT_MFA` an `acr` among [`MFA_ACRS`].
    pub async fn authorization(&self) -> Result<Authorization, ProConnectError> {
        let client = self.client(self.discover().await?)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (state, nonce) = (random_token(), random_token());
        let mut request = client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            {
                let state = state.clone();
                move || CsrfToken::new(state)
            },
            {
                let nonce = nonce.clone();
                move || Nonce::new(nonce)
            },
        );
        for scope in SCOPES {
            request = request.add_scope(Scope::new(scope.to_owned()));
        }
        let (url, _, _) = request
            .set_pkce_challenge(challenge)
            .add_extra_param("claims", self.claims_parameter())
            .url();
        Ok(Authorization {
            url: url.to_string(),
            state,
            nonce,
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// The `claims` parameter: `acr` is always asked for, among the two-factor values with
    /// `WIF_PROCONNECT_MFA`.
    fn claims_parameter(&self) -> String {
        let acr = match self.settings.mfa {
            true => serde_json::json!({ "essential": true, "values": MFA_ACRS }),
            false => serde_json::json!({ "essential": true }),
        };
        serde_json::json!({ "id_token": { "acr": acr } }).to_string()
    }

    /// Exchanges the code of a sign-in that came back, and verifies what ProConnect says: the ID
    /// token (signature, issuer, audience, expiry, nonce, `acr`), then the signed userinfo.
    pub async fn identity(
        &self,
        code: &str,
        nonce: &str,
        pkce_verifier: &str,
    ) -> Result<Identity, ProConnectError> {
        let metadata = self.discover().await?;
        let keys = metadata.jwks().clone();
        let userinfo = metadata.userinfo_endpoint().cloned();
        let client = self.client(metadata)?;
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| ProConnectError::Unverified(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(|error| match error {
                RequestTokenError::ServerResponse(e) => {
                    ProConnectError::CodeRefused(e.error().to_string())
                }
                RequestTokenError::Request(e) => ProConnectError::Unreachable(e.to_string()),
                other => ProConnectError::Unverified(format!("jeton : {other}")),
            })?;
        let id_token = response
            .id_token()
            .ok_or_else(|| ProConnectError::Unverified("pas de jeton d'identité".into()))?;
        let verifier = client.id_token_verifier().set_allowed_algs(ALGORITHMS);
        let claims = id_token
            .claims(&verifier, &Nonce::new(nonce.to_owned()))
            .map_err(|e| ProConnectError::Unverified(format!("jeton d'identité : {e}")))?;
        if self.settings.mfa {
            let acr = claims.auth_context_ref().map(|a| a.as_str().to_owned());
            if !acr.as_deref().is_some_and(|acr| MFA_ACRS.contains(&acr)) {
                return Err(ProConnectError::WeakAcr(acr.unwrap_or_default()));
            }
        }
        let sub = claims.subject().as_str().to_owned();
        let userinfo =
            userinfo.ok_or_else(|| ProConnectError::Unverified("pas d'adresse userinfo".into()))?;
        let info = self
            .userinfo(userinfo.url().as_str(), response.access_token(), &keys)
            .await?;
        if info.sub != sub {
            return Err(ProConnectError::Unverified(
                "le sub de userinfo diffère de celui du jeton d'identité".into(),
            ));
        }
        let email = info
            .email
            .filter(|e| !e.is_empty())
            .ok_or_else(|| ProConnectError::Unverified("userinfo sans e-mail".into()))?;
        Ok(Identity {
            issuer: self.settings.issuer.clone(),
            sub,
            email,
            given_name: info.given_name.unwrap_or_default(),
            usual_name: info.usual_name.unwrap_or_default(),
            id_token: id_token.to_string(),
        })
    }

    /// The userinfo answer, which ProConnect signs (`application/jwt`): its signature, issuer and
    /// audience are checked here, since `openidconnect` 4 verifies a signed userinfo in RS256
    /// only and ProConnect may sign in ES256.
    async fn userinfo(
        &self,
        url: &str,
        access_token: &AccessToken,
        keys: &JsonWebKeySet<CoreJsonWebKey>,
    ) -> Result<UserInfo, ProConnectError> {
        let response = self
            .http
            .0
            .get(url)
            .bearer_auth(access_token.secret())
            .header(ACCEPT, "application/jwt")
            .send()
            .await
            .map_err(|e| ProConnectError::Unreachable(format!("userinfo : {e}")))?;
        let status = response.status();
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = response
            .text()
            .await
            .map_err(|e| ProConnectError::Unreachable(format!("userinfo : {e}")))?;
        if !status.is_success() {
            return Err(ProConnectError::Unverified(format!(
                "userinfo : statut HTTP {status}"
            )));
        }
        if !content_type.starts_with("application/jwt") {
            return Err(ProConnectError::Unverified(
                "userinfo n'est pas un JWT signé".into(),
            ));
        }
        let payload = verified_payload(body.trim(), keys)
            .map_err(|e| ProConnectError::Unverified(format!("userinfo : {e}")))?;
        let info: UserInfo = serde_json::from_slice(&payload)
            .map_err(|e| ProConnectError::Unverified(format!("userinfo illisible : {e}")))?;
        if info.iss != self.settings.issuer {
            return Err(ProConnectError::Unverified(
                "userinfo d'un autre émetteur".into(),
            ));
        }
        if !info.aud.contains(&self.settings.client_id) {
            return Err(ProConnectError::Unverified(
                "userinfo destiné à un autre service".into(),
            ));
        }
        Ok(info)
    }

    /// Where to send the browser to end its ProConnect session, or `None` when the provider has
    /// no `end_session_endpoint`.
    pub async fn end_session_url(
        &self,
        id_token: &str,
        state: &str,
    ) -> Result<Option<String>, ProConnectError> {
        let metadata = self.discover().await?;
        let Some(endpoint) = metadata.additional_metadata().end_session_endpoint.clone() else {
            return Ok(None);
        };
        let id_token: CoreIdToken = id_token
            .parse()
            .map_err(|_| ProConnectError::Unverified("jeton d'identité de la session".into()))?;
        let back = PostLogoutRedirectUrl::new(self.logout_return_uri())
            .map_err(|e| ProConnectError::Unverified(format!("WIF_ADMIN_URL : {e}")))?;
        let url = LogoutRequest::from(endpoint)
            .set_id_token_hint(&id_token)
            .set_post_logout_redirect_uri(back)
            .set_state(CsrfToken::new(state.to_owned()))
            .http_get_url();
        Ok(Some(url.to_string()))
    }
}

type Client = openidconnect::Client<
    openidconnect::EmptyAdditionalClaims,
    openidconnect::core::CoreAuthDisplay,
    openidconnect::core::CoreGenderClaim,
    openidconnect::core::CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    openidconnect::core::CoreAuthPrompt,
    openidconnect::StandardErrorResponse<openidconnect::core::CoreErrorResponseType>,
    openidconnect::core::CoreTokenResponse,
    openidconnect::core::CoreTokenIntrospectionResponse,
    openidconnect::core::CoreRevocableToken,
    openidconnect::core::CoreRevocationErrorResponse,
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

/// The claims of ProConnect's userinfo that the back office reads.
#[derive(Debug, Deserialize)]
struct UserInfo {
    iss: String,
    aud: Audience,
    sub: String,
    email: Option<String>,
    given_name: Option<String>,
    usual_name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn contains(&self, client_id: &str) -> bool {
        match self {
            Audience::One(aud) => aud == client_id,
            Audience::Many(auds) => auds.iter().any(|aud| aud == client_id),
        }
    }
}

/// The payload of a compact JWS whose signature one of `keys` verifies, in one of
/// [`ALGORITHMS`].
fn verified_payload(jwt: &str, keys: &JsonWebKeySet<CoreJsonWebKey>) -> Result<Vec<u8>, String> {
    #[derive(Deserialize)]
    struct Header {
        alg: CoreJwsSigningAlgorithm,
        kid: Option<String>,
    }
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, payload, signature] = parts[..] else {
        return Err("JWT mal formé".into());
    };
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|_| "JWT mal formé");
    let header: Header =
        serde_json::from_slice(&decode(header)?).map_err(|_| "en-tête de JWT illisible")?;
    if !ALGORITHMS.contains(&header.alg) {
        return Err("algorithme de signature refusé".into());
    }
    let message = &jwt[..jwt.rfind('.').expect("three parts")];
    let signature = decode(signature)?;
    let verified = keys
        .keys()
        .iter()
        .filter(|key| match (&header.kid, key.key_id()) {
            (Some(kid), Some(id)) => **id == *kid,
            _ => true,
        })
        .any(|key| {
            key.verify_signature(&header.alg, message.as_bytes(), &signature)
                .is_ok()
        });
    if !verified {
        return Err("signature invalide".into());
    }
    Ok(decode(payload)?)
}

/// `openidconnect`'s requests sent through the service's own `reqwest` client: redirects are not
/// followed (a provider must not send us elsewhere), and every request has a timeout.
struct Http(reqwest::Client);

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);

impl<'c> AsyncHttpClient<'c> for Http {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let request = reqwest::Request::try_from(request)
                .map_err(|e| HttpError(format!("requête invalide : {e}")))?;
            let response = self
                .0
                .execute(request)
                .await
                .map_err(|e| HttpError(describe(&e)))?;
            let mut answer = HttpResponse::new(Vec::new());
            *answer.status_mut() = response.status();
            *answer.headers_mut() = response.headers().clone();
            *answer.body_mut() = response
                .bytes()
                .await
                .map_err(|e| HttpError(describe(&e)))?
                .to_vec();
            Ok(answer)
        })
    }
}

/// A transport error in a few words, without the address's query (a code could be there).
fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "délai dépassé"
    } else if error.is_connect() {
        "connexion impossible"
    } else {
        "erreur de transport"
    };
    match error.url() {
        Some(url) => format!(
            "{kind} ({}{})",
            url.origin().ascii_serialization(),
            url.path()
        ),
        None => kind.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jws_is_refused_unless_its_signature_and_algorithm_are_accepted() {
        let keys = JsonWebKeySet::<CoreJsonWebKey>::new(Vec::new());
        assert_eq!(verified_payload("a.b", &keys), Err("JWT mal formé".into()));
        let none = URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#);
        let payload = URL_SAFE_NO_PAD.encode(br#"{"sub":"x"}"#);
        assert_eq!(
            verified_payload(&format!("{none}.{payload}."), &keys),
            Err("algorithme de signature refusé".into()),
            "an unsigned JWT"
        );
        let unknown = URL_SAFE_NO_PAD.encode(br#"{"alg":"XYZ"}"#);
        assert_eq!(
            verified_payload(&format!("{unknown}.{payload}.c2ln"), &keys),
            Err("en-tête de JWT illisible".into())
        );
        let hs256 = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256"}"#);
        assert_eq!(
            verified_payload(&format!("{hs256}.{payload}.c2ln"), &keys),
            Err("algorithme de signature refusé".into())
        );
        let rs256 = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256"}"#);
        assert_eq!(
            verified_payload(&format!("{rs256}.{payload}.c2ln"), &keys),
            Err("signature invalide".into()),
            "no key verifies it"
        );
    }

    #[test]
    fn the_audience_may_be_one_client_or_several() {
        let one: Audience = serde_json::from_str(r#""wif""#).unwrap();
        let many: Audience = serde_json::from_str(r#"["autre","wif"]"#).unwrap();
        assert!(one.contains("wif") && many.contains("wif"));
        assert!(!one.contains("autre-service") && !many.contains("w"));
    }
}
