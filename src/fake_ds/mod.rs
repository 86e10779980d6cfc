//! A simulated démarches-simplifiées: a real HTTP server speaking DS's protocol, serving a
//! deterministic synthetic data set, with faults to inject. Used by the tests, the demo and the
//! benchmarks (`wif fake-ds`); never by production.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration as Span, SubsecRound, Utc};

use crate::domain::{Dossier, Status};
use crate::synthetic;

pub mod v1;
pub mod v2;
mod webhooks;

use webhooks::Change;
pub use webhooks::WebhookTarget;

/// The messages DS shows on a dossier (sender, date, text): the instructor's when instruction
/// began, and the applicant's at the time the dossier says they last wrote.
pub fn messages(d: &Dossier) -> Vec<(String, DateTime<Utc>, &'static str)> {
    let mut messages = Vec::new();
    if let (Some(instructeur), Some(at)) = (d.instructeurs.first(), d.received_at) {
        messages.push((
            instructeur.clone(),
            at,
            "Votre dossier est en cours d'instruction.",
        ));
    }
    if let (Some(email), Some(at)) = (&d.email, d.applicant_message_at) {
        messages.push((
            email.clone(),
            at,
            "Bonjour, j'ai une question sur mon dossier.",
        ));
    }
    messages.sort_by_key(|(_, at, _)| *at);
    messages
}

/// Faults the server injects, for tests of the client's patience.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Requests allowed per window before answering 429 with `RateLimit-Reset`.
    pub rate_limit: Option<u32>,
    /// The window of the rate limit (DS: one minute).
    pub rate_window: Duration,
    /// Share of requests answered 503, in percent.
    pub error_percent: u64,
    /// Share of successful answers whose body is cut in the middle, in percent.
    pub truncate_percent: u64,
    /// Share of GraphQL answers replaced by DS's query-timeout error (HTTP 200), in percent.
    pub graphql_timeout_percent: u64,
    /// Added to every answer.
    pub delay: Duration,
}

#[derive(Debug, Clone)]
pub struct SimDossier {
    /// Shared with the pages being answered: a page costs no copy of its dossiers.
    pub dossier: Arc<Dossier>,
    /// Sent with a state no client knows, as a damaged document would be (v1).
    pub unreadable: bool,
    /// When DS deleted it: no longer listed. Even numbers are only hidden
    /// (`pendingDeletedDossiers`), odd ones purged (`deletedDossiers`).
    pub deleted_at: Option<DateTime<Utc>>,
}

struct Data {
    procedure: i64,
    token: String,
    seed: u64,
    /// The simulator's clock: the last instant it gave a change, never behind the real clock.
    now: DateTime<Utc>,
    next_index: u64,
    dossiers: BTreeMap<i64, SimDossier>,
    faults: Faults,
    requests: u64,
    window: (DateTime<Utc>, u32),
    /// When each request arrived, to check the client's pace.
    request_times: Vec<tokio::time::Instant>,
    webhook: Option<WebhookTarget>,
    next_sequence: i64,
    webhook_attempts: u64,
    /// Deliveries not yet answered with a 2xx nor given up.
    webhooks_sending: u64,
}

/// The simulator; clones share the same data.
#[derive(Clone)]
pub struct FakeDs {
    state: Arc<Mutex<Data>>,
}

impl FakeDs {
    /// `count` dossiers of démarche `procedure`, generated from `seed`, reachable with `token`.
    pub fn new(count: u64, seed: u64, procedure: i64, token: &str) -> FakeDs {
        // Whole seconds, so that every API's timestamp format carries them exactly; a little in
        // the past, so that the data set is older than any sync started after it.
        let now = Utc::now().trunc_subsecs(0) - Span::minutes(10);
        let dossiers = (0..count)
            .map(|i| synthetic::dossier(seed, i, procedure, now))
            .map(|d| {
                (
                    d.ds_id.get(),
                    SimDossier {
                        dossier: Arc::new(d),
                        deleted_at: None,
                        unreadable: false,
                    },
                )
            })
            .collect();
        FakeDs {
            state: Arc::new(Mutex::new(Data {
                procedure,
                token: token.to_owned(),
                seed,
                now,
                next_index: count,
                dossiers,
                faults: Faults::default(),
                requests: 0,
                window: (now, 0),
                request_times: Vec::new(),
                webhook: None,
                next_sequence: 1,
                webhook_attempts: 0,
                webhooks_sending: 0,
            })),
        }
    }

    /// The démarche it serves.
    pub fn procedure(&self) -> i64 {
        self.with(|s| s.procedure)
    }

    fn with<T>(&self, f: impl FnOnce(&mut Data) -> T) -> T {
        f(&mut self.state.lock().expect("lock never poisoned"))
    }

    pub fn set_faults(&self, faults: Faults) {
        self.with(|s| s.faults = faults);
    }

    /// How many requests the server has answered, faults included.
    pub fn requests(&self) -> u64 {
        self.with(|s| s.requests)
    }

    /// When each request arrived, in order, on tokio's clock (a test may pause it).
    pub fn request_times(&self) -> Vec<tokio::time::Instant> {
        self.with(|s| s.request_times.clone())
    }

    /// The dossiers DS shows now (not deleted).
    pub fn dossiers(&self) -> Vec<Dossier> {
        self.with(|s| {
            s.dossiers
                .values()
                .filter(|d| d.deleted_at.is_none())
                .map(|d| Dossier::clone(&d.dossier))
                .collect()
        })
    }

    /// Moves `n` dossiers forward: a new status and a later `updated_at`. Returns their numbers.
    pub fn modify(&self, n: usize) -> Vec<i64> {
        let done = self.with(|s| {
            let now = s.tick();
            let ids: Vec<i64> = s
                .dossiers
                .values()
                .filter(|d| d.deleted_at.is_none() && d.dossier.status != Status::Draft)
                .step_by(7)
                .take(n)
                .map(|d| d.dossier.ds_id.get())
                .collect();
            let mut changes = Vec::new();
            for id in &ids {
                let d = Arc::make_mut(&mut s.dossiers.get_mut(id).expect("listed above").dossier);
                d.status = match d.status {
                    Status::Initiated => Status::Received,
                    Status::Received => Status::Closed,
                    _ => Status::WithoutContinuation,
                };
                d.updated_at = Some(now);
                d.instructeurs
                    .push("nouvel.instructeur@dreets.gouv.fr".into());
                changes.push(Change {
                    event_type: webhooks::event_type(d.status),
                    dossier_number: *id,
                    at: now,
                });
            }
            (ids, changes)
        });
        self.notified(done)
    }

    /// Adds `n` new dossiers. Returns their numbers.
    pub fn add(&self, n: u64) -> Vec<i64> {
        let done = self.with(|s| {
            let now = s.tick();
            let mut changes = Vec::new();
            let ids = (0..n)
                .map(|_| {
                    // Deposited just now: its champs from the data set, its dates from the clock.
                    let mut d = synthetic::dossier(s.seed, s.next_index, s.procedure, now);
                    d.status = Status::Initiated;
                    (d.received_at, d.processed_at) = (None, None);
                    (d.created_at, d.initiated_at, d.updated_at) =
                        (Some(now), Some(now), Some(now));
                    s.next_index += 1;
                    let id = d.ds_id.get();
                    changes.push(Change {
                        event_type: "dossier_depose",
                        dossier_number: id,
                        at: now,
                    });
                    s.dossiers.insert(
                        id,
                        SimDossier {
                            dossier: Arc::new(d),
                            deleted_at: None,
                            unreadable: false,
                        },
                    );
                    id
                })
                .collect();
            (ids, changes)
        });
        self.notified(done)
    }

    /// Deletes `n` dossiers on DS, from the last ones (`modify` starts from the first). Returns
    /// their numbers.
    pub fn delete(&self, n: usize) -> Vec<i64> {
        let done = self.with(|s| {
            let ids: Vec<i64> = s
                .dossiers
                .values()
                .rev()
                .filter(|d| d.deleted_at.is_none() && d.dossier.status != Status::Draft)
                .skip(3)
                .step_by(11)
                .take(n)
                .map(|d| d.dossier.ds_id.get())
                .collect();
            let now = s.tick();
            for id in &ids {
                s.dossiers.get_mut(id).expect("listed above").deleted_at = Some(now);
            }
            let changes = ids
                .iter()
                .map(|id| Change {
                    event_type: "dossier_supprime",
                    dossier_number: *id,
                    at: now,
                })
                .collect();
            (ids, changes)
        });
        self.notified(done)
    }

    /// Sends DS's webhooks for the changes made from now on to `target` (none: `None`).
    pub fn set_webhook(&self, target: Option<WebhookTarget>) {
        self.with(|s| s.webhook = target);
    }

    /// How many webhook deliveries were attempted, repeated ones included.
    pub fn webhook_attempts(&self) -> u64 {
        self.with(|s| s.webhook_attempts)
    }

    /// How many deliveries are still being sent: neither answered with a 2xx nor given up.
    pub fn webhooks_sending(&self) -> u64 {
        self.with(|s| s.webhooks_sending)
    }

    /// Changes dossier `number` (not a draft, not deleted) with `change`, which returns the
    /// event it amounts to, or `None` to leave it as it is. Returns its new status.
    pub fn change_one(
        &self,
        number: i64,
        change: impl FnOnce(&mut Dossier, DateTime<Utc>) -> Option<&'static str>,
    ) -> Option<&'static str> {
        self.with(|s| {
            let now = s.tick();
            let sim = s
                .dossiers
                .get_mut(&number)
                .filter(|d| d.deleted_at.is_none() && d.dossier.status != Status::Draft)?;
            let mut d = Dossier::clone(&sim.dossier);
            let event_type = change(&mut d, now)?;
            d.updated_at = Some(now);
            let status = d.status.as_str();
            sim.dossier = Arc::new(d);
            Some((
                status,
                vec![Change {
                    event_type,
                    dossier_number: number,
                    at: now,
                }],
            ))
        })
        .map(|done| self.notified(done))
    }

    /// A change's result, once its events are sent (after the simulator's lock is released).
    fn notified<T>(&self, (result, changes): (T, Vec<Change>)) -> T {
        self.notify(changes);
        result
    }

    /// Sends the webhooks of `changes`, if a target is set.
    fn notify(&self, changes: Vec<Change>) {
        if changes.is_empty() {
            return;
        }
        let reserved = self.with(|s| {
            let target = s.webhook.clone()?;
            let first = s.next_sequence;
            s.next_sequence += changes.len() as i64;
            s.webhooks_sending += 1;
            Some((target, s.procedure, first))
        });
        if let Some((target, procedure, first)) = reserved {
            webhooks::deliver(self.clone(), target, procedure, first, changes);
        }
    }

    /// Damages dossier `id`: the v1 API sends it with an unknown state.
    pub fn make_unreadable(&self, id: i64) {
        self.with(|s| {
            if let Some(d) = s.dossiers.get_mut(&id) {
                d.unreadable = true;
            }
        });
    }

    pub fn router(&self) -> Router {
        Router::new()
            .merge(v1::router())
            .merge(v2::router(self.clone()))
            .layer(middleware::from_fn_with_state(
                self.clone(),
                faults_and_token,
            ))
            // The control endpoints are the simulator's own, not DS's: no token, no faults.
            .merge(webhooks::router())
            .with_state(self.clone())
    }

    /// Serves on `listener` until the process ends.
    pub async fn serve(self, listener: tokio::net::TcpListener) -> std::io::Result<()> {
        axum::serve(listener, self.router()).await
    }

    /// Every dossier of the démarche, deleted ones included, in number order.
    fn with_dossiers<T>(&self, f: impl FnOnce(&BTreeMap<i64, SimDossier>) -> T) -> T {
        self.with(|s| f(&s.dossiers))
    }

    /// The dossier `id` of `procedure`, as DS shows it now.
    fn visible(&self, procedure: i64, id: i64) -> Option<SimDossier> {
        self.with(|s| {
            (s.procedure == procedure)
                .then(|| s.dossiers.get(&id))
                .flatten()
                .filter(|d| d.deleted_at.is_none())
                .cloned()
        })
    }

    /// Every dossier of `procedure` DS lists now, in number order; `None` for another démarche.
    fn listed(&self, procedure: i64) -> Option<Vec<Dossier>> {
        (self.with(|s| s.procedure) == procedure).then(|| self.dossiers())
    }
}

impl Data {
    /// A new instant for a change: after the previous one, and not behind the real clock.
    fn tick(&mut self) -> DateTime<Utc> {
        self.now = (self.now + Span::seconds(1)).max(Utc::now().trunc_subsecs(0));
        self.now
    }
}

/// Deterministic "randomness" for faults: the n-th request always meets the same fate.
fn roll(n: u64, salt: u64) -> u64 {
    let mut z = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt;
    z = (z ^ (z >> 31)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    (z ^ (z >> 29)) % 100
}

async fn faults_and_token(State(ds): State<FakeDs>, request: Request, next: Next) -> Response {
    let token_ok = {
        let expected = ds.with(|s| format!("Bearer {}", s.token));
        request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            == Some(&expected)
    };
    let (n, faults, limited) = ds.with(|s| {
        s.requests += 1;
        s.request_times.push(tokio::time::Instant::now());
        let now = Utc::now();
        let window = Span::from_std(s.faults.rate_window).unwrap_or(Span::minutes(1));
        if now >= s.window.0 + window {
            s.window = (now, 0);
        }
        s.window.1 += 1;
        let limited = s
            .faults
            .rate_limit
            .filter(|limit| s.window.1 > *limit)
            .map(|_| (s.window.0 + window).timestamp() + 1);
        (s.requests, s.faults.clone(), limited)
    });
    if !faults.delay.is_zero() {
        tokio::time::sleep(faults.delay).await;
    }
    if let Some(reset) = limited {
        let mut response = (StatusCode::TOO_MANY_REQUESTS, "Too Many Requests").into_response();
        let headers = response.headers_mut();
        headers.insert("ratelimit-remaining", HeaderValue::from(0));
        headers.insert("ratelimit-reset", HeaderValue::from(reset));
        return response;
    }
    if roll(n, 1) < faults.error_percent {
        return (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response();
    }
    let graphql = request.uri().path().starts_with("/api/v2/");
    if !token_ok {
        // v2 answers a bad or missing token with 403 and an `errors` list, v1 with 401 `{}`.
        return match graphql {
            true => (
                StatusCode::FORBIDDEN,
                v2::error_body("forbidden", "Invalid token"),
            )
                .into_response(),
            false => (StatusCode::UNAUTHORIZED, axum::Json(serde_json::json!({}))).into_response(),
        };
    }
    if graphql && roll(n, 3) < faults.graphql_timeout_percent {
        return v2::error_body("timeout", "Timeout on demarche.dossiers").into_response();
    }
    let response = next.run(request).await;
    if response.status().is_success() && roll(n, 2) < faults.truncate_percent {
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX)
            .await
            .unwrap_or_default();
        let cut = bytes.slice(..bytes.len() / 2);
        let mut truncated = Response::from_parts(parts, axum::body::Body::from(cut));
        truncated.headers_mut().remove(header::CONTENT_LENGTH);
        return truncated;
    }
    response
}

/// A timestamp as DS v1 writes it: UTC, milliseconds, `Z`.
fn v1_time(t: Option<DateTime<Utc>>) -> serde_json::Value {
    t.map_or(serde_json::Value::Null, |t| {
        t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string().into()
    })
}
