//! `GET /metrics` (Prometheus text format), served on a listener of its own (`WIF_METRICS_BIND`,
//! local by default: it tells dossier counts and sync times), and `GET /readyz`. Figures only:
//! routes are patterns (`/admin/dossiers/{ds_id}`), never a dossier's number or data.
//!
//! Written by hand rather than with the `metrics` crates: a few counters and one histogram, read
//! from the database at scrape time.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::store::{job_runs, sync_runs};

/// Upper bounds, in seconds, of the latency histogram's buckets.
const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// Requests answered, by route pattern and status: how many, their total time, and how many
/// took at most each bucket's bound.
#[derive(Default)]
pub struct HttpCounters {
    counts: Mutex<BTreeMap<(String, u16), Latencies>>,
}

#[derive(Default, Clone)]
struct Latencies {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

impl HttpCounters {
    fn add(&self, route: String, status: u16, seconds: f64) {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let entry = counts.entry((route, status)).or_default();
        entry.count += 1;
        entry.sum += seconds;
        for (bound, bucket) in BUCKETS.iter().zip(entry.buckets.iter_mut()) {
            if seconds <= *bound {
                *bucket += 1;
            }
        }
    }
}

/// A label value as the text format wants it: backslash, double quote and line feed escaped.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The metrics listener's routes.
pub fn app(state: Arc<AppState>) -> axum::Router {
    use axum::routing::get;
    axum::Router::new()
        .route("/metrics", get(metrics))
        .route("/readyz", get(readyz))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(state)
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

/// `GET /readyz`: the database answers, and the instance is not stopping (SPEC 16: the proxy
/// sends it nothing more).
pub async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    if state.shutdown.is_asked() {
        return (StatusCode::SERVICE_UNAVAILABLE, "arrêt en cours").into_response();
    }
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
    let dossiers = super::home::counts_by_status(state).await?;
    let mut out = String::new();

    family(
        &mut out,
        "wif_sync_runs_total",
        "counter",
        "Sync runs by outcome.",
    );
    for (outcome, n) in &runs.by_outcome {
        let outcome = label(outcome);
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
        let (job, outcome) = (label(job), label(outcome));
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
        let job = label(job);
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
    for (status, n) in &dossiers.by_status(None) {
        let status = label(&status.to_string());
        let _ = writeln!(out, "wif_dossiers{{status=\"{status}\"}} {n}");
    }

    family(
        &mut out,
        "wif_http_request_duration_seconds",
        "histogram",
        "Time spent answering, by route pattern and status.",
    );
    let counts = state
        .http
        .counts
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    for ((route, status), latencies) in &counts {
        let labels = format!("route=\"{}\",status=\"{status}\"", label(route));
        for (bound, n) in BUCKETS.iter().zip(latencies.buckets) {
            let _ = writeln!(
                out,
                "wif_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {n}"
            );
        }
        let n = latencies.count;
        let _ = writeln!(
            out,
            "wif_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {n}"
        );
        let _ = writeln!(
            out,
            "wif_http_request_duration_seconds_sum{{{labels}}} {}",
            latencies.sum
        );
        let _ = writeln!(
            out,
            "wif_http_request_duration_seconds_count{{{labels}}} {n}"
        );
    }

    if let Some(webhooks) = &state.webhooks {
        let activity = &webhooks.activity;
        family(
            &mut out,
            "wif_webhook_events_total",
            "counter",
            "DS webhook events received, by type (repeated deliveries included).",
        );
        for (event_type, n) in activity.events() {
            let _ = writeln!(
                out,
                "wif_webhook_events_total{{type=\"{}\"}} {n}",
                label(&event_type)
            );
        }
        family(
            &mut out,
            "wif_webhook_rejections_total",
            "counter",
            "DS webhook deliveries refused, by reason.",
        );
        for (reason, n) in activity.rejections() {
            let _ = writeln!(
                out,
                "wif_webhook_rejections_total{{reason=\"{}\"}} {n}",
                reason.as_str()
            );
        }
        family(
            &mut out,
            "wif_webhook_syncs_total",
            "counter",
            "Syncs run after DS webhooks.",
        );
        let passes = activity.passes.load(std::sync::atomic::Ordering::Relaxed);
        let _ = writeln!(out, "wif_webhook_syncs_total {passes}");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(label("deux\nlignes"), r"deux\nlignes");
        assert_eq!(label("/admin/dossiers/{ds_id}"), "/admin/dossiers/{ds_id}");
    }

    #[test]
    fn latencies_fall_in_every_bucket_above_them() {
        let counters = HttpCounters::default();
        counters.add("/admin/".into(), 200, 0.03);
        counters.add("/admin/".into(), 200, 3.0);
        let counts = counters.counts.lock().unwrap();
        let l = &counts[&("/admin/".to_owned(), 200)];
        assert_eq!(l.count, 2);
        assert_eq!(
            l.buckets[BUCKETS.iter().position(|b| *b == 0.025).unwrap()],
            0
        );
        assert_eq!(
            l.buckets[BUCKETS.iter().position(|b| *b == 0.05).unwrap()],
            1
        );
        assert_eq!(l.buckets[BUCKETS.len() - 1], 2);
        assert!((l.sum - 3.03).abs() < 1e-9);
    }
}
