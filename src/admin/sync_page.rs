//! `/admin/sync/`: the sync runs with their counters and errors; a superuser can start one.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use indicatif::ProgressBar;
use maud::{Markup, html};

use super::home::outcome_tag;
use super::layout::Audience;
use super::layout::{alert, csrf_field, datetime, number, page};
use super::{AppState, PageError, require, require_superuser};
use crate::ds::RetryPolicy;
use crate::store::sessions::Session;
use crate::store::{sync_runs, webhook_events};
use crate::sync::{self, SyncError, SyncOptions};

/// How long « Synchroniser maintenant » waits to tell a refused sync from a started one.
const STARTED_AFTER: std::time::Duration = std::time::Duration::from_millis(1500);

pub async fn show(
    State(state): State<Arc<AppState>>,
    Extension(session): Extension<Session>,
    RawQuery(raw): RawQuery,
) -> Result<Markup, PageError> {
    // Runs name dossiers of every département.
    require(Audience::NationalAgents, &session)?;
    let runs = sync_runs::latest(&state.db, 50).await?;
    let last_event = webhook_events::last(&state.db).await?;
    let events_per_type =
        webhook_events::count_by_type(&state.db, Utc::now() - chrono::Duration::hours(24)).await?;
    let answer = raw.as_deref();
    let tz = state.time_zone;
    let body = html! {
        @match answer {
            Some("lancee=1") => (alert("info", "Synchronisation lancée : elle apparaît ci-dessous ; rechargez la page pour suivre son avancement.")),
            Some("refusee=1") => (alert("warning", "Synchronisation non lancée : une autre est déjà en cours (planifiée, ou lancée par une autre instance). Elle apparaît ci-dessous.")),
            Some("echec=1") => (alert("error", "Synchronisation non lancée : elle a échoué dès le départ ; la raison est consignée dans le journal et, le cas échéant, ci-dessous.")),
            _ => {}
        }
        @if session.user.is_superuser {
            @if state.ds.token.is_none() {
                (alert("warning", "DEMARCHES_SIMPLIFIEES_API_TOKEN n'est pas configurée : la synchronisation est impossible."))
            } @else {
                form.fr-mb-3w method="post" action="/admin/sync/" {
                    (csrf_field(&session))
                    button.fr-btn.fr-icon-refresh-line.fr-btn--icon-left type="submit" { "Synchroniser maintenant" }
                }
            }
        }
        h2 { "Tâches planifiées" }
        @if state.jobs.is_empty() {
            p { "Aucune tâche planifiée (WIF_SYNC_SCHEDULE, WIF_STATS_SCHEDULE, WIF_ALERTS_SCHEDULE et WIF_REPORTS_SCHEDULE à « off », ou wif serve --no-scheduler)." }
        } @else {
            ul {
                @for job in &state.jobs {
                    li {
                        (job.kind.label()) " (" code { (job.schedule.as_str()) } ") : prochaine exécution le "
                        strong { (datetime(job.schedule.next_after(Utc::now(), tz), tz)) }
                    }
                }
            }
        }
        h2 { "Webhooks DS" }
        @match &state.webhooks {
            None => p { "Webhooks non configurés (WIF_DS_WEBHOOK_SECRETS) : les changements sur DS arrivent par la synchronisation planifiée." },
            Some(webhooks) => {
                p {
                    "Dernier événement reçu : "
                    @match &last_event {
                        Some(e) => { strong { (datetime(Some(e.received_at), tz)) } " — " code { (e.event_type) } " (démarche " (e.procedure_id) @if let Some(n) = e.dossier_number { ", dossier " (n) } ")" }
                        None => "aucun.",
                    }
                }
                p {
                    "Dernière livraison refusée : "
                    @match webhooks.activity.last_rejection() {
                        Some((at, reason)) => { strong { (datetime(Some(at), tz)) } " — " (reason.label()) }
                        None => "aucune depuis le démarrage.",
                    }
                }
                div.fr-table.wif-table { table {
                    caption { "Événements reçus sur 24 heures, par type" }
                    thead { tr { th scope="col" { "Type" } th scope="col" { "Événements" } } }
                    tbody {
                        @for (event_type, n) in &events_per_type { tr { td { code { (event_type) } } td { (number(*n)) } } }
                        @if events_per_type.is_empty() { tr { td colspan="2" { "Aucun événement sur 24 heures." } } }
                    }
                } }
            }
        }
        h2 { "Historique" }
        div.fr-table.wif-table { table {
            caption { "Dernières synchronisations" }
            thead { tr {
                th scope="col" { "Début" } th scope="col" { "Fin" } th scope="col" { "Démarche" }
                th scope="col" { "API" } th scope="col" { "Résultat" } th scope="col" { "Requêtes" }
                th scope="col" { "Vus" } th scope="col" { "Créés" } th scope="col" { "Mis à jour" }
                th scope="col" { "Inchangés" } th scope="col" { "Ignorés" } th scope="col" { "Supprimés sur DS" }
            } }
            tbody {
                @for run in &runs {
                    tr {
                        td { (datetime(Some(run.started_at), tz)) }
                        td { (datetime(run.finished_at, tz)) }
                        td { (run.procedure_id.map_or("—".into(), |p| p.to_string())) }
                        td { (run.api_version) }
                        td {
                            (outcome_tag(&run.outcome))
                            @if let Some(error) = &run.error { p.fr-text--xs.fr-mb-0 { (error) } }
                            @for skipped in &run.skipped_details.0 { p.fr-text--xs.fr-mb-0 { "ignoré : " (skipped) } }
                        }
                        td { (number(run.requests)) }
                        td { (number(run.seen)) }
                        td { (number(run.created)) }
                        td { (number(run.updated)) }
                        td { (number(run.unchanged)) }
                        td { (number(run.skipped)) }
                        td { (number(run.marked_deleted)) }
                    }
                }
                @if runs.is_empty() { tr { td colspan="12" { "Aucune synchronisation pour l'instant." } } }
            }
        } }
    };
    Ok(page(
        "Synchronisation",
        Some(&session),
        "/admin/sync/",
        body,
    ))
}

/// `POST /admin/sync/`: starts a sync in the background (superusers only). A sync already
/// running elsewhere refuses it; the refusal is logged and the page shows the runs.
pub async fn start(
    State(state): State<Arc<AppState>>,
    Extension(session): Extension<Session>,
) -> Result<Response, PageError> {
    require_superuser(&session)?;
    let (db, ds, rules) = (state.db.clone(), state.ds.clone(), state.alert_rules);
    tracing::info!(
        user_id = session.user.id,
        "synchronisation demandée depuis l'administration"
    );
    let (ended, end) = tokio::sync::oneshot::channel();
    let (stop, work) = (state.shutdown.asked(), state.shutdown.begin_work());
    tokio::spawn(async move {
        let _work = work;
        {
            let options = SyncOptions::default();
            let hidden = ProgressBar::hidden();
            let outcome =
                sync::run(&db, &ds, RetryPolicy::default(), &options, &hidden, stop).await;
            match &outcome {
                Ok(report) => {
                    tracing::info!(dossiers = report.total().seen, "synchronisation terminée");
                    crate::alerts::evaluate_after_sync(&db, &rules).await;
                }
                Err(error) => tracing::warn!(%error, "synchronisation échouée"),
            }
            let _ = ended.send(outcome.map(|_| ()));
        }
    });
    // A refusal (the lock is taken) or a configuration error comes within milliseconds; a sync
    // still going after this wait has started.
    let target = match tokio::time::timeout(STARTED_AFTER, end).await {
        Ok(Ok(Err(SyncError::AlreadyRunning { .. }))) => "/admin/sync/?refusee=1",
        Ok(Ok(Err(_))) => "/admin/sync/?echec=1",
        _ => "/admin/sync/?lancee=1",
    };
    Ok(Redirect::to(target).into_response())
}
