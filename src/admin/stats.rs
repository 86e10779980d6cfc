//! `/admin/stats/`: the figures of `stats.json` (SPEC 5.2), computed live, as charts and tables.

use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use chrono::Utc;
use maud::{Markup, html};

use super::layout::page;
use super::{AppState, PageError};
use crate::export::stats::compute_within;
use crate::store::sessions::Session;
use crate::web::{Lang, statistics};

pub async fn show(
    State(state): State<Arc<AppState>>,
    Extension(session): Extension<Session>,
) -> Result<Markup, PageError> {
    let stats = compute_within(&state.db, &session.scope, Utc::now(), state.time_zone).await?;
    let body = html! {
        p.fr-text--sm { "Calculé à l'instant (" (stats.data.last_update) "), comme le fichier public stats.json." }
        @if let Some(departments) = session.scope.departments() {
            p.fr-text--sm { "Dossiers de vos départements seulement (" (departments.join(", ")) ") ; les statistiques publiques sont nationales." }
        }
        (statistics::figures(&stats, Lang::Fr))
    };
    Ok(page("Statistiques", Some(&session), "/admin/stats/", body))
}
