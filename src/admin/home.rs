//! `/admin/`: the dossiers per status, the last syncs, and where to go next.

use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use maud::{Markup, html};

use super::alerts_page::alert_counts;
use super::layout::{Audience, datetime, number, page};
use super::{AppState, PageError};
use crate::domain::Status;
use crate::domain::alerts::AlertCode;
use crate::store::dossier_lists::{self, Counts};
use crate::store::sessions::Session;
use crate::store::{StoreError, sync_runs};

/// How many dossiers still on DS have each status, per département, kept a minute: shared by
/// the home page of every agent and `/metrics`, so that neither counts every dossier each time.
pub(super) async fn counts_by_status(state: &AppState) -> Result<Arc<Counts>, StoreError> {
    let db = state.db.clone();
    let by_status = async move { dossier_lists::counts_by_status(&db).await };
    state
        .counts
        .get("home|statuses".to_owned(), by_status)
        .await
}

pub async fn show(
    State(state): State<Arc<AppState>>,
    Extension(session): Extension<Session>,
) -> Result<Markup, PageError> {
    let counts = counts_by_status(&state)
        .await?
        .within(&session.scope)
        .by_status(None);
    let total: i64 = counts.iter().map(|(_, n)| n).sum();
    // The runs count dossiers of every département: not for a limited agent.
    let national = Audience::NationalAgents.admits(&session);
    let runs = match national {
        true => sync_runs::latest(&state.db, 5).await?,
        false => Vec::new(),
    };
    let mut open_alerts: std::collections::BTreeMap<AlertCode, i64> = Default::default();
    for count in alert_counts(&state, false, &session.scope).await? {
        if let Some(code) = count.code.current() {
            *open_alerts.entry(code).or_default() += count.count;
        }
    }
    let count_of = |status: Status| {
        counts
            .iter()
            .find(|(s, _)| s == status.as_str())
            .map_or(0, |(_, n)| *n)
    };
    let body = html! {
        @match session.scope.departments() {
            None => p.fr-text--lead { (number(total)) " dossiers copiés depuis démarches-simplifiées." },
            Some(departments) => p.fr-text--lead {
                (number(total)) " dossiers copiés depuis démarches-simplifiées dans vos départements : "
                (departments.join(", ")) "."
            },
        }
        div.fr-grid-row.fr-grid-row--gutters.fr-mb-4w {
            @for status in Status::ALL {
                div.fr-col-6.fr-col-md-4.fr-col-lg-2 {
                    div.fr-tile.fr-tile--sm.fr-enlarge-link {
                        div.fr-tile__body {
                            h2.fr-tile__title {
                                a href=(format!("/admin/dossiers/?statut={}", status.as_str())) { (status.label()) }
                            }
                            p.fr-tile__desc.wif-figure { (number(count_of(status))) }
                        }
                    }
                }
            }
        }
        h2 { "Alertes ouvertes" }
        div.fr-table.wif-table { table {
            caption.fr-sr-only { "Alertes ouvertes par règle" }
            thead { tr { th scope="col" { "Règle" } th scope="col" { "Alertes ouvertes" } } }
            tbody {
                @for code in AlertCode::ALL {
                    tr {
                        td { a href=(format!("/admin/alertes/?regle={}", code.as_str())) { (state.alert_rules.message(code)) } }
                        td { (number(open_alerts.get(&code).copied().unwrap_or(0))) }
                    }
                }
            }
        } }
        @if national {
            h2 { "Dernières synchronisations" }
        }
        @if national && runs.is_empty() {
            p { "Aucune synchronisation pour l'instant." }
        } @else if national {
            div.fr-table { table {
                caption.fr-sr-only { "Dernières synchronisations" }
                thead { tr { th scope="col" { "Début" } th scope="col" { "Démarche" } th scope="col" { "Résultat" } th scope="col" { "Créés" } th scope="col" { "Mis à jour" } } }
                tbody {
                    @for run in &runs {
                        tr {
                            td { (datetime(Some(run.started_at), state.time_zone)) }
                            td { (run.procedure_id.map_or("—".into(), |p| p.to_string())) }
                            td { (outcome_tag(&run.outcome)) }
                            td { (number(run.created)) }
                            td { (number(run.updated)) }
                        }
                    }
                }
            } }
        }
        ul.fr-btns-group.fr-btns-group--inline-md {
            li { a.fr-btn href="/admin/dossiers/" { "Voir les dossiers" } }
            li { a.fr-btn.fr-btn--secondary href="/admin/prefecture/" { "Suivi Préfecture" } }
            li { a.fr-btn.fr-btn--secondary href="/admin/stats/" { "Statistiques" } }
        }
    };
    Ok(page("Accueil", Some(&session), "/admin/", body))
}

/// The outcome of a sync run as a coloured badge.
pub fn outcome_tag(outcome: &str) -> Markup {
    let (class, label) = match outcome {
        "success" => ("fr-badge--success", "Réussie"),
        "failure" => ("fr-badge--error", "Échouée"),
        _ => ("fr-badge--info", "En cours"),
    };
    html! { span class=(format!("fr-badge fr-badge--sm {class}")) { (label) } }
}
