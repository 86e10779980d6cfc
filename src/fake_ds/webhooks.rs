//! The simulator's webhooks (DS_API.md « Webhooks »): for each change it makes, a signed
//! delivery of DS's shape, sent again on DS's schedule while the answer is not 2xx; and the
//! control endpoints that make a change by hand (`POST /control/dossiers/{number}/{action}`).

use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::{DateTime, Days, Utc};
use serde_json::json;

use super::FakeDs;
use crate::domain::webhook::{SIGNATURE_HEADER, sign};
use crate::domain::{Dossier, Status};

/// Where and how the simulator sends its webhooks.
#[derive(Debug, Clone)]
pub struct WebhookTarget {
    pub url: String,
    pub secret: String,
    /// Waits before each new attempt after a failed one; DS's: `ds_schedule()`.
    pub retry_delays: Vec<Duration>,
}

impl WebhookTarget {
    /// DS's waits between attempts (5 s, 5 min, 30 min, 2 h…): ten attempts in all.
    pub fn ds_schedule() -> Vec<Duration> {
        [5, 300, 1800, 7200, 18_000, 36_000, 50_400, 72_000, 86_400]
            .into_iter()
            .map(Duration::from_secs)
            .collect()
    }
}

/// One event, before its sequence number.
pub(super) struct Change {
    pub event_type: &'static str,
    pub dossier_number: i64,
    pub at: DateTime<Utc>,
}

/// The event DS sends when a dossier took `status`.
pub(super) fn event_type(status: Status) -> &'static str {
    match status {
        Status::Draft | Status::Initiated => "dossier_depose",
        Status::Received => "dossier_en_instruction",
        Status::Closed => "dossier_accepte",
        Status::Refused => "dossier_refuse",
        Status::WithoutContinuation => "dossier_sans_suite",
    }
}

/// Sends `changes` (numbered from `first_sequence`) to `target`, by batches of 100, each sent
/// again after DS's waits until it is answered with a 2xx. Returns at once; the sending goes on.
pub(super) fn deliver(
    ds: FakeDs,
    target: WebhookTarget,
    procedure: i64,
    first_sequence: i64,
    changes: Vec<Change>,
) {
    let events: Vec<serde_json::Value> = changes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            json!({
                "sequence": first_sequence + i as i64,
                "type": c.event_type,
                "dossier_number": c.dossier_number,
                "timestamp": c.at.to_rfc3339(),
            })
        })
        .collect();
    tokio::spawn(async move {
        send(&ds, &target, procedure, &events).await;
        ds.with(|s| s.webhooks_sending -= 1);
    });
}

/// Sends `events` by batches of 100, each until it is answered with a 2xx or its attempts run
/// out.
async fn send(ds: &FakeDs, target: &WebhookTarget, procedure: i64, events: &[serde_json::Value]) {
    let client = match crate::ds::http_client().build() {
        Ok(client) => client,
        Err(error) => return tracing::error!(%error, "webhooks simulés impossibles"),
    };
    for batch in events.chunks(100) {
        let body = json!({
            "webhook_id": format!("webhook-{procedure}"),
            "demarche_number": procedure,
            "events": batch,
        })
        .to_string();
        let signature = sign(&target.secret, body.as_bytes());
        let mut waits = target.retry_delays.iter();
        loop {
            ds.with(|s| s.webhook_attempts += 1);
            let sent = client
                .post(&target.url)
                .header("Content-Type", "application/json")
                .header(SIGNATURE_HEADER, &signature)
                .timeout(Duration::from_secs(10))
                .body(body.clone())
                .send()
                .await;
            if sent.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            match waits.next() {
                Some(wait) => tokio::time::sleep(*wait).await,
                None => {
                    tracing::warn!("webhook simulé abandonné après tous les essais");
                    break;
                }
            }
        }
    }
}

/// `POST /control/dossiers/{number}/{action}`: `accepter` (with APT dates from today for six
/// months), `refuser`, or `modifier` (the APT ends a month later); a webhook follows.
pub(super) fn router() -> Router<FakeDs> {
    Router::new().route("/control/dossiers/{number}/{action}", post(control))
}

async fn control(
    State(ds): State<FakeDs>,
    Path((number, action)): Path<(i64, String)>,
) -> Response {
    let change = |d: &mut Dossier, now: DateTime<Utc>| -> Option<&'static str> {
        match action.as_str() {
            "accepter" => {
                let debut = now.date_naive();
                let fin = debut.checked_add_months(chrono::Months::new(6))? - Days::new(1);
                set_apt(d, debut, fin);
                decide(d, Status::Closed, now);
                Some("dossier_accepte")
            }
            "refuser" => {
                decide(d, Status::Refused, now);
                Some("dossier_refuse")
            }
            "modifier" => {
                let fin = d
                    .date_de_fin_apt?
                    .checked_add_months(chrono::Months::new(1))?;
                let debut = d.date_de_debut_apt?;
                set_apt(d, debut, fin);
                Some("dossier_modifie")
            }
            _ => None,
        }
    };
    match ds.change_one(number, change) {
        Some(state) => Json(json!({"dossier": number, "state": state})).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            "Dossier inconnu, ou action impossible (accepter, refuser, modifier : un dossier accepté).",
        )
            .into_response(),
    }
}

fn decide(d: &mut Dossier, status: Status, now: DateTime<Utc>) {
    d.status = status;
    d.received_at = d.received_at.or(Some(now));
    d.processed_at = Some(now);
}

fn set_apt(d: &mut Dossier, debut: chrono::NaiveDate, fin: chrono::NaiveDate) {
    let iso = |date: chrono::NaiveDate| json!(date.format("%Y-%m-%d").to_string());
    d.champs.insert("date_de_debut_apt".into(), iso(debut));
    d.champs.insert("date_de_fin_apt".into(), iso(fin));
    d.date_de_debut_apt = Some(debut);
    d.date_de_fin_apt = Some(fin);
}
