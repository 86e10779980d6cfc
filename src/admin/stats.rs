//! `/admin/stats/`: the figures of `stats.json` (SPEC 5.2), computed live, as charts and tables.

use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use chrono::Utc;
use maud::{Markup, html};

use super::charts::{bars, horizontal_bars, table};
use super::layout::{number, page};
use super::{AppState, PageError};
use crate::export::stats::{Chart, compute};
use crate::store::sessions::Session;

/// The countries shown on the chart; the table lists them all.
const TOP_COUNTRIES: usize = 15;

fn series(chart: &Chart) -> (&[String], &[i64]) {
    let values = chart.datasets.first().map_or(&[][..], |d| &d.values[..]);
    (&chart.labels, values)
}

pub async fn show(
    State(state): State<Arc<AppState>>,
    Extension(session): Extension<Session>,
) -> Result<Markup, PageError> {
    let stats = compute(&state.db, Utc::now(), state.time_zone).await?;
    let (days, per_day) = series(&stats.data_num_dossiers_day);
    let (months, per_month) = series(&stats.data_num_dossiers_month);
    let (statuses, per_status) = series(&stats.data_num_by_status);
    let (countries, per_country) = series(&stats.data_num_by_contry);
    let (process_months, process_days) = series(&stats.data_time_to_process_by_month);
    let mut ranked: Vec<(String, i64)> = countries
        .iter()
        .cloned()
        .zip(per_country.iter().copied())
        .collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let (top_labels, top_values): (Vec<String>, Vec<i64>) =
        ranked.iter().take(TOP_COUNTRIES).cloned().unzip();
    let s = &stats.data;
    let body = html! {
        div.fr-grid-row.fr-grid-row--gutters.fr-mb-3w {
            div.fr-col-12.fr-col-md-4 { div.fr-callout { p.fr-callout__title { (number(s.total_dossiers as i64)) } p.fr-callout__text { "dossiers au total" } } }
            div.fr-col-12.fr-col-md-4 { div.fr-callout { p.fr-callout__title { (number(s.total_dossiers_closed as i64)) } p.fr-callout__text { "dossiers acceptés" } } }
            div.fr-col-12.fr-col-md-4 { div.fr-callout { p.fr-callout__title { (number(s.time_to_process)) " jours" } p.fr-callout__text { "de traitement en moyenne" } } }
        }
        p.fr-text--sm { "Calculé à l'instant (" (s.last_update) "), comme le fichier public stats.json." }
        h2 { "Dossiers déposés par jour (32 derniers jours)" }
        (bars("jours", "Dossiers déposés par jour", days, per_day, "dossiers"))
        (table("Dossiers déposés par jour", ("Jour", "Dossiers"), days, per_day))
        h2 { "Dossiers déposés par mois" }
        (bars("mois", "Dossiers déposés par mois", months, per_month, "dossiers"))
        (table("Dossiers déposés par mois", ("Mois", "Dossiers"), months, per_month))
        h2 { "Dossiers par statut" }
        (bars("statuts", "Dossiers par statut", statuses, per_status, "dossiers"))
        (table("Dossiers par statut", ("Statut", "Dossiers"), statuses, per_status))
        h2 { "Dossiers par pays (" (TOP_COUNTRIES) " premiers)" }
        (horizontal_bars("pays", "Dossiers par pays", &top_labels, &top_values))
        (table("Dossiers par pays", ("Pays", "Dossiers"), &ranked.iter().map(|r| r.0.clone()).collect::<Vec<_>>(), &ranked.iter().map(|r| r.1).collect::<Vec<_>>()))
        h2 { "Délai moyen de traitement par mois (jours)" }
        (bars("delais", "Délai moyen de traitement par mois, en jours", process_months, process_days, "jours"))
        (table("Délai moyen de traitement par mois", ("Mois", "Jours"), process_months, process_days))
    };
    Ok(page("Statistiques", Some(&session), "/admin/stats/", body))
}
