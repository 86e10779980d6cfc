//! `/admin/conservation/` (administrators): the retention policy in plain French with the
//! configured durations, what the last runs of `wif purge` erased, what falls due in the next
//! 30 days (SPEC 14).

use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use chrono::Utc;
use maud::{Markup, html};

use super::layout::{datetime, number, page};
use super::{AppState, PageError, require_superuser};
use crate::store::purge::{self, PurgeCounts};
use crate::store::sessions::Session;
use crate::web::Lang;
use crate::web::legal::retention_table;

/// How far ahead the page looks.
const AHEAD_DAYS: u64 = 30;

pub async fn show(
    State(state): State<Arc<AppState>>,
    Extension(session): Extension<Session>,
) -> Result<Markup, PageError> {
    require_superuser(&session)?;
    let policy = state.legal.retention;
    let tz = state.time_zone;
    let now = Utc::now();
    let runs = purge::latest(&state.db, 10).await?;
    let coming = crate::purge::coming(&state.db, &policy, tz, now, AHEAD_DAYS).await?;
    let schedule = state
        .jobs
        .iter()
        .find(|job| job.kind == crate::scheduler::JobKind::Purge);
    let body = html! {
        p.fr-text--lead { "Les données personnelles des étudiants et des agents sont gardées le temps indiqué ci-dessous, puis effacées pour de bon. D'un dossier effacé ne reste qu'un enregistrement statistique qui n'identifie personne : numéro, démarche, statut, département, nationalité, dates de la procédure et de l'APT." }
        (retention_table(&policy, Lang::Fr))
        p { "Réglages : " code { "WIF_RETENTION_MONTHS" } ", " code { "WIF_RETENTION_DELETED_DAYS" } ", " code { "WIF_LOG_RETENTION_MONTHS" } " (voir le README)." }
        p {
            @match schedule {
                Some(job) => { "L'effacement a lieu automatiquement (" code { (job.schedule.as_str()) } ", " code { "WIF_PURGE_SCHEDULE" } ") ; prochain passage le " strong { (datetime(job.schedule.next_after(now, tz), tz)) } "." }
                None => { "L'effacement automatique n'est pas planifié dans cette instance (" code { "WIF_PURGE_SCHEDULE" } " à « off », ou " code { "wif serve --no-scheduler" } ") : lancez " code { "wif purge" } "." }
            }
            " Les sauvegardes gardent les données effacées jusqu'à leur propre expiration : ne les gardez pas plus longtemps que les journaux."
        }
        h2 { "Dans les " (AHEAD_DAYS) " prochains jours" }
        (counts_table("Ce qui sera effacé dans les 30 prochains jours", &coming))
        h2 { "Derniers passages" }
        @if runs.is_empty() {
            p { "Aucun passage pour l'instant." }
        } @else {
            div.fr-table.wif-table { table {
                caption { "Les dix derniers passages de wif purge" }
                thead { tr { th scope="col" { "Date" } th scope="col" { "Échéances au" } th scope="col" { "Type" } th scope="col" { "Effacé" } } }
                tbody {
                    @for run in &runs {
                        tr {
                            td { (datetime(Some(run.started_at), tz)) }
                            // What was due at this instant: `wif purge --now` may look ahead.
                            td { (datetime(Some(run.as_of), tz)) }
                            td { @if run.dry_run { "essai à blanc" } @else { "effacement" } }
                            td { (crate::purge::summary(&run.counts.0, false)) }
                        }
                    }
                }
            } }
        }
    };
    Ok(page(
        "Conservation des données",
        Some(&session),
        "/admin/conservation/",
        body,
    ))
}

fn counts_table(caption: &str, counts: &PurgeCounts) -> Markup {
    html! {
        div.fr-table.wif-table { table {
            caption { (caption) }
            thead { tr { th scope="col" { "Données" } th scope="col" { "Nombre" } } }
            tbody {
                @for (kind, n) in counts.lines() {
                    tr { td { (kind) } td { (number(n)) } }
                }
            }
        } }
    }
}
