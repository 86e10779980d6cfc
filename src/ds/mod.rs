//! The client of the démarches-simplifiées API: authentication, the client-side rate limit,
//! retries with back-off, and errors a user can act on. `v1` and `v2` speak each API.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::Value;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::config::{DsSettings, Secret};

pub mod v1;
pub mod v2;

#[derive(Debug, thiserror::Error)]
pub enum DsError {
    #[error(
        "DS refuse le jeton (HTTP {0}) : vérifiez DEMARCHES_SIMPLIFIEES_API_TOKEN (expiré, révoqué ou limité à d'autres réseaux ?)"
    )]
    Unauthorized(u16),
    #[error(
        "démarche {0} inconnue de DS ou inaccessible avec ce jeton : vérifiez DEMARCHES_SIMPLIFIEES_PROCEDURE_ID_APT"
    )]
    ProcedureNotFound(i64),
    #[error("DS ne répond pas correctement après {attempts} essais (dernière erreur : {last})")]
    Unavailable { attempts: u32, last: String },
    #[error("réponse de DS illisible : {0}")]
    Invalid(String),
}

impl DsSettings {
    /// A dossier's page on DS, for the agents who instruct it there.
    pub fn dossier_url(&self, procedure_id: i64, ds_id: i64) -> String {
        format!(
            "{}/procedures/{procedure_id}/dossiers/{ds_id}",
            self.api_url.trim_end_matches('/')
        )
    }
}

/// GraphQL error codes that say "try again later" rather than "this query is wrong".
const TRANSIENT_GRAPHQL_CODES: [&str; 2] = ["timeout", "internal_server_error"];

/// A request still refused for its rate after this many waits is given up.
const MAX_RATE_LIMIT_WAITS: u32 = 20;

/// How often, and how patiently, a failed request is tried again.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub first_delay: Duration,
    pub max_delay: Duration,
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 6,
            first_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            timeout: Duration::from_secs(60),
        }
    }
}

/// At most `limit` requests in any sliding minute, the count DS keeps per token: a burst up to
/// the limit goes at once, the next request waits for the oldest to leave the minute.
///
/// Written here rather than with `governor`: its GCRA either lets up to `2 × limit − 1`
/// requests through in some minute (a burst of `limit`, then the steady rate) or spaces every
/// request by `60 s / limit` (a burst of one); and its `until_ready` waits on its own clock and
/// timer, outside tokio's, which tests cannot pause. Time here is tokio's.
struct RateLimit {
    limit: usize,
    sent: Mutex<VecDeque<Instant>>,
}

impl RateLimit {
    async fn acquire(&self) {
        let mut sent = self.sent.lock().await;
        loop {
            let now = Instant::now();
            while sent
                .front()
                .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(60))
            {
                sent.pop_front();
            }
            if sent.len() < self.limit {
                sent.push_back(now);
                return;
            }
            let oldest = *sent.front().expect("the window is full");
            tokio::time::sleep_until(oldest + Duration::from_secs(60)).await;
        }
    }
}

pub struct DsClient {
    http: reqwest::Client,
    base_url: String,
    token: Secret,
    limit: RateLimit,
    retry: RetryPolicy,
    requests: AtomicU64,
}

/// What went wrong with one attempt.
enum Failure {
    /// Worth another try: 5xx, timeout, reset, unreadable body.
    Transient(String),
    /// DS asked to wait until then.
    RateLimited(Duration),
    Final(DsError),
    NotFound,
}

impl DsClient {
    pub fn new(settings: &DsSettings, token: Secret, retry: RetryPolicy) -> DsClient {
        let http = http_client()
            .timeout(retry.timeout)
            .build()
            .expect("the HTTP client has a valid configuration");
        DsClient {
            http,
            base_url: settings.api_url.trim_end_matches('/').to_owned(),
            token,
            limit: RateLimit {
                limit: settings.rate_limit_per_minute as usize,
                sent: Mutex::new(VecDeque::new()),
            },
            retry,
            requests: AtomicU64::new(0),
        }
    }

    /// How many HTTP requests were sent, retries included.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// GETs `path` (v1) and returns its JSON; `None` for a 404.
    pub async fn get_json(&self, path: &str) -> Result<Option<Value>, DsError> {
        self.send(|| self.request(Method::GET, path)).await
    }

    /// POSTs a JSON body (v2) and returns the JSON answer.
    pub async fn post_json(&self, path: &str, body: &Value) -> Result<Option<Value>, DsError> {
        self.send(|| self.request(Method::POST, path).json(body))
            .await
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base_url))
            .bearer_auth(self.token.expose())
    }

    async fn send(&self, build: impl Fn() -> RequestBuilder) -> Result<Option<Value>, DsError> {
        let mut last = String::new();
        let (mut attempt, mut waits) = (0, 0);
        while attempt < self.retry.attempts && waits < MAX_RATE_LIMIT_WAITS {
            self.limit.acquire().await;
            self.requests.fetch_add(1, Ordering::Relaxed);
            match self.attempt(build()).await {
                Ok(value) => return Ok(Some(value)),
                Err(Failure::NotFound) => return Ok(None),
                Err(Failure::Final(error)) => return Err(error),
                Err(Failure::RateLimited(wait)) => {
                    tracing::warn!(
                        wait_s = wait.as_secs(),
                        "DS : limite de débit atteinte, attente"
                    );
                    tokio::time::sleep(wait).await;
                    waits += 1;
                    last = "limite de débit (HTTP 429)".into();
                }
                Err(Failure::Transient(reason)) => {
                    attempt += 1;
                    let delay = self.backoff(attempt);
                    tracing::warn!(attempt, %reason, delay_ms = delay.as_millis() as u64, "DS : nouvel essai");
                    last = reason;
                    if attempt < self.retry.attempts {
                        tokio::time::sleep(delay).await;
                    }
                }
            }
        }
        Err(DsError::Unavailable {
            attempts: attempt + waits,
            last,
        })
    }

    async fn attempt(&self, request: RequestBuilder) -> Result<Value, Failure> {
        let response = request
            .send()
            .await
            .map_err(|e| Failure::Transient(describe(&e)))?;
        let status = response.status();
        match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                return Err(Failure::Final(DsError::Unauthorized(status.as_u16())));
            }
            StatusCode::NOT_FOUND => return Err(Failure::NotFound),
            StatusCode::TOO_MANY_REQUESTS => {
                let reset = response
                    .headers()
                    .get("ratelimit-reset")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<i64>().ok());
                let now = chrono::Utc::now().timestamp();
                let wait = reset.map_or(60, |at| (at - now).clamp(1, 120));
                return Err(Failure::RateLimited(Duration::from_secs(wait as u64)));
            }
            s if s.is_server_error() => {
                return Err(Failure::Transient(format!("HTTP {}", s.as_u16())));
            }
            s if !s.is_success() && s != StatusCode::BAD_REQUEST => {
                return Err(Failure::Final(DsError::Invalid(format!(
                    "HTTP {}",
                    s.as_u16()
                ))));
            }
            _ => {}
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| Failure::Transient(describe(&e)))?;
        // A truncated body does not parse: the page is asked again, never stored in part.
        let value: Value = serde_json::from_slice(&bytes)
            .map_err(|e| Failure::Transient(format!("réponse incomplète ou illisible ({e})")))?;
        // GraphQL: DS gave up on the query (its 30 s limit) or failed inside; worth another try.
        if let Some(code) = value
            .pointer("/errors/0/extensions/code")
            .and_then(Value::as_str)
            .filter(|c| TRANSIENT_GRAPHQL_CODES.contains(c))
        {
            return Err(Failure::Transient(format!("erreur GraphQL « {code} »")));
        }
        if status == StatusCode::BAD_REQUEST {
            return Err(Failure::Final(DsError::Invalid(format!(
                "requête refusée : {value}"
            ))));
        }
        Ok(value)
    }

    /// Exponential back-off with full jitter: a random delay up to `first × 2^attempt`.
    fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self
            .retry
            .first_delay
            .saturating_mul(1 << attempt.min(16))
            .min(self.retry.max_delay);
        ceiling.mul_f64(0.5 + jitter() * 0.5)
    }
}

/// An HTTP client builder with TLS ready and our user agent: DS is reached over HTTPS.
pub fn http_client() -> reqwest::ClientBuilder {
    // rustls needs one process-wide crypto provider; a second install is a harmless error.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().user_agent(concat!("wif/", env!("CARGO_PKG_VERSION")))
}

/// A number in [0, 1) that differs between calls and processes.
fn jitter() -> f64 {
    use std::hash::{BuildHasher, RandomState};
    let random = RandomState::new().hash_one(std::time::Instant::now());
    (random >> 11) as f64 / (1u64 << 53) as f64
}

/// A transport error in a few words. The token travels in a header, never in the URL.
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "délai dépassé".into()
    } else if error.is_connect() {
        "connexion impossible".into()
    } else if error.is_body() || error.is_decode() {
        "réponse interrompue".into()
    } else {
        error.to_string()
    }
}
