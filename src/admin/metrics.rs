//! `GET /metrics` (Prometheus text format) and `GET /readyz` of the admin listener. Figures only:
//! routes are patterns (`/admin/dossiers/{ds_id}`), never a dossier's number or data.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::store::{dossier_lists, job_runs, sync_runs};

/// Requests answered, by route pattern and status, with their total time.
#[derive(Default)]
pub struct HttpCounters {
    counts: Mutex<BTreeMap<(String, u16), (u64, f64)>>,
}

impl HttpCounters {
    fn add(&self, route: String, status: u16, seconds: f64) {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let entry = counts.entry((route, status)).or_default();
        entry.0 += 1;
        entry.1 += seconds;
    }
}

/// Counts each request under its route pattern.
pub async fn count(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("(inconnue)".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let seconds = started.elapsed().as_secs_f64();
    state.http.add(route, response.status().as_u16(), seconds);
    response
}

/// `GET /readyz`: the database answers.
pub async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    match state.db.ping().await {
        Ok(()) => (StatusCode::OK, "ok").into_response(),
        Err(error) => {
            tracing::warn!(%error, "base de données injoignable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "base de données injoignable",
            )
                .into_response()
        }
    }
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    match render(&state).await {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(error) => {
            tracing::warn!(%error, "métriques indisponibles");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "base de données injoignable",
            )
                .into_response()
        }
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

async fn render(state: &AppState) -> Result<String, crate::store::StoreError> {
    let runs = sync_runs::figures(&state.db).await?;
    let (jobs, job_durations) = job_runs::figures(&state.db).await?;
    let dossiers = dossier_lists::counts_by_status(&state.db).await?;
    let mut out = String::new();

    family(
        &mut out,
        "wif_sync_runs_total",
        "counter",
        "Sync runs by outcome.",
    );
    for (outcome, n) in &runs.by_outcome {
        let _ = writeln!(out, "wif_sync_runs_total{{outcome=\"{outcome}\"}} {n}");
    }
    family(
        &mut out,
        "wif_sync_last_success_timestamp_seconds",
        "gauge",
        "End of the last successful sync.",
    );
    let last = runs.last_success_at.map_or(0, |t| t.timestamp());
    let _ = writeln!(out, "wif_sync_last_success_timestamp_seconds {last}");
    family(
        &mut out,
        "wif_sync_last_duration_seconds",
        "gauge",
        "Duration of the last finished sync.",
    );
    let _ = writeln!(
        out,
        "wif_sync_last_duration_seconds {}",
        runs.last_duration_s.unwrap_or(0.0)
    );

    family(
        &mut out,
        "wif_job_runs_total",
        "counter",
        "Scheduled job runs (sync then validity export, stats export) by outcome.",
    );
    for (job, outcome, n) in &jobs {
        let _ = writeln!(
            out,
            "wif_job_runs_total{{job=\"{job}\",outcome=\"{outcome}\"}} {n}"
        );
    }
    family(
        &mut out,
        "wif_job_last_duration_seconds",
        "gauge",
        "Duration of each job's last finished run, exports included.",
    );
    for (job, seconds) in &job_durations {
        let _ = writeln!(
            out,
            "wif_job_last_duration_seconds{{job=\"{job}\"}} {seconds}"
        );
    }

    family(
        &mut out,
        "wif_dossiers",
        "gauge",
        "Dossiers per status (not deleted on DS).",
    );
    for (status, n) in &dossiers {
        let _ = writeln!(out, "wif_dossiers{{status=\"{status}\"}} {n}");
    }

    family(
        &mut out,
        "wif_http_requests_total",
        "counter",
        "Requests answered by route pattern and status.",
    );
    family(
        &mut out,
        "wif_http_request_duration_seconds_sum",
        "counter",
        "Total time spent answering, by route pattern and status.",
    );
    let counts = state
        .http
        .counts
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    for ((route, status), (n, seconds)) in &counts {
        let labels = format!("route=\"{}\",status=\"{status}\"", route.replace('"', "'"));
        let _ = writeln!(out, "wif_http_requests_total{{{labels}}} {n}");
        let _ = writeln!(
            out,
            "wif_http_request_duration_seconds_sum{{{labels}}} {seconds}"
        );
    }
    Ok(out)
}
