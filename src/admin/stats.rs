//! `/admin/stats/`: the figures of `stats.json` (SPEC 5.2), computed live, as charts and tables.

use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use chrono::Utc;
use maud::{Markup, html};

use super::layout::page;
use super::{AppState, PageError};
use crate::export::stats::compute;
use crate::store::sessions::Session;
use crate::web::{Lang, statistics};

pub async fn show(
    State(state): State<Arc<AppState>>,
    Extension(session): Extension<Session>,
) -> Result<Markup, PageError> {
    let stats = compute(&state.db, Utc::now(), state.time_zone).await?;
    let body = html! {
        p.fr-text--sm { "Calculé à l'instant (" (stats.data.last_update) "), comme le fichier public stats.json." }
        @if session.scope.departments().is_some() {
            p.fr-text--sm { "Ces statistiques sont nationales, comme la page publique : elles ne nomment aucun dossier ni aucun département. Les chiffres de vos départements sont dans « Dossiers » et « Rapports mensuels »." }
        }
        (statistics::figures(&stats, Lang::Fr))
    };
    Ok(page("Statistiques", Some(&session), "/admin/stats/", body))
}
