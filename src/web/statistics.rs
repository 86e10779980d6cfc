//! The figures of `stats.json` (SPEC 5.2) as charts and tables: the admin's *Statistiques* page
//! (computed live) and the public `/statistiques` page (read from the exported file).

use maud::{Markup, html};

use super::charts::{bars, horizontal_bars, table};
use super::{Lang, number};
use crate::export::stats::{Chart, StatsFile};

/// The countries shown on the chart; the table lists them all.
const TOP_COUNTRIES: usize = 15;

fn series(chart: &Chart) -> (&[String], &[i64]) {
    let values = chart.datasets.first().map_or(&[][..], |d| &d.values[..]);
    (&chart.labels, values)
}

/// The file's French labels (statuses, « jour(s) »), in the page's language.
fn labels(labels: &[String], lang: Lang) -> Vec<String> {
    labels
        .iter()
        .map(|label| match lang {
            Lang::Fr => label.clone(),
            Lang::En => match label.as_str() {
                "Brouillon" => "Draft".to_owned(),
                "En construction" => "Submitted".to_owned(),
                "En instruction" => "Under review".to_owned(),
                "Accepté" => "Accepted".to_owned(),
                "Refusé" => "Refused".to_owned(),
                "Sans suite" => "Closed without decision".to_owned(),
                other => other.replace(" jour(s)", " day(s)"),
            },
        })
        .collect()
}

/// Every chart of the file, each followed by its figures as a table.
pub fn figures(stats: &StatsFile, lang: Lang) -> Markup {
    let t = |fr: &'static str, en: &'static str| lang.pick(fr, en);
    let (days, per_day) = series(&stats.data_num_dossiers_day);
    let (months, per_month) = series(&stats.data_num_dossiers_month);
    let (statuses, per_status) = series(&stats.data_num_by_status);
    let statuses = labels(statuses, lang);
    let (countries, per_country) = series(&stats.data_num_by_contry);
    let (process_months, process_days) = series(&stats.data_time_to_process_by_month);
    let process_months = labels(process_months, lang);
    let mut ranked: Vec<(String, i64)> = countries
        .iter()
        .cloned()
        .zip(per_country.iter().copied())
        .collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let (top_labels, top_values): (Vec<String>, Vec<i64>) =
        ranked.iter().take(TOP_COUNTRIES).cloned().unzip();
    let (all_labels, all_values): (Vec<String>, Vec<i64>) = ranked.into_iter().unzip();
    let s = &stats.data;
    let dossiers = t("dossiers", "applications");
    let callout = |figure: String, text: &str| {
        html! {
            div.fr-col-12.fr-col-md-4 { div.fr-callout {
                p.fr-callout__title { (figure) } p.fr-callout__text { (text) }
            } }
        }
    };
    html! {
        div.fr-grid-row.fr-grid-row--gutters.fr-mb-3w {
            (callout(number(s.total_dossiers as i64), t("dossiers au total", "applications in all")))
            (callout(number(s.total_dossiers_closed as i64), t("dossiers acceptés", "applications accepted")))
            (callout(format!("{} {}", number(s.time_to_process), t("jours", "days")), t("de traitement en moyenne", "to process, on average")))
        }
        h2 { (t("Dossiers déposés par jour (32 derniers jours)", "Applications per day (last 32 days)")) }
        (bars("jours", t("Dossiers déposés par jour", "Applications per day"), days, per_day, dossiers))
        (table(lang, t("Dossiers déposés par jour", "Applications per day"), (t("Jour", "Day"), t("Dossiers", "Applications")), days, per_day))
        h2 { (t("Dossiers déposés par mois", "Applications per month")) }
        (bars("mois", t("Dossiers déposés par mois", "Applications per month"), months, per_month, dossiers))
        (table(lang, t("Dossiers déposés par mois", "Applications per month"), (t("Mois", "Month"), t("Dossiers", "Applications")), months, per_month))
        h2 { (t("Dossiers par statut", "Applications per status")) }
        (bars("statuts", t("Dossiers par statut", "Applications per status"), &statuses, per_status, dossiers))
        (table(lang, t("Dossiers par statut", "Applications per status"), (t("Statut", "Status"), t("Dossiers", "Applications")), &statuses, per_status))
        h2 { (t("Dossiers par pays", "Applications per country")) " (" (TOP_COUNTRIES) " " (t("premiers", "first")) ")" }
        (horizontal_bars("pays", t("Dossiers par pays", "Applications per country"), &top_labels, &top_values))
        (table(lang, t("Dossiers par pays", "Applications per country"), (t("Pays", "Country"), t("Dossiers", "Applications")), &all_labels, &all_values))
        h2 { (t("Délai moyen de traitement par mois (jours)", "Average processing time per month (days)")) }
        (bars("delais", t("Délai moyen de traitement par mois, en jours", "Average processing time per month, in days"), &process_months, process_days, t("jours", "days")))
        (table(lang, t("Délai moyen de traitement par mois", "Average processing time per month"), (t("Mois", "Month"), t("Jours", "Days")), &process_months, process_days))
    }
}
