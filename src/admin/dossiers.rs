//! `/admin/dossiers/`: the list with its filters, date hierarchy, search, sort and pages, all in
//! the query string; and `/admin/dossiers/{ds_id}`: one dossier, read only.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::HeaderMap;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use maud::{Markup, html};

use super::alerts_page::alert_table;
use super::layout::{
    PAGE_KEYS, Params, alert, date, datetime, json_block, page, pagination, sort_header,
    status_tag, total_line,
};
use super::lists::{
    PER_PAGE, edges, facet, page_number, page_start, parse_query, sort_param, status_entries,
};
use super::{AppState, PageError, auth};
use crate::domain::champs::CHAMPS;
use crate::domain::dates::start_of_day;
use crate::domain::{DsId, Status};
use crate::store::access_log::Action;
use crate::store::dossier_changes::{self, AptDates, Change};
use crate::store::dossier_lists::{self, Column, ListQuery};
use crate::store::sessions::Session;
use crate::store::{alerts, dossiers};
use crate::web::MONTHS;

/// The parameters of the query string, kept in links.
const KEYS: [&str; 10] = [
    "q",
    "statut",
    "departement",
    "annee",
    "mois",
    "jour",
    "o",
    "p",
    "apres",
    "avant",
];

/// What a search looks for, for the access log: nothing personal for a dossier number (`None`),
/// else a name or an e-mail address; never the text itself.
fn search_kind(search: &str) -> Option<&'static str> {
    let search = search.trim();
    match () {
        _ if search.is_empty() || search.parse::<i64>().is_ok() => None,
        _ if search.contains('@') => Some("par e-mail"),
        _ => Some("par nom"),
    }
}

/// The date hierarchy's selection: a year, a month of it, a day of that.
struct DateSelection {
    year: Option<i32>,
    month: Option<u32>,
    day: Option<u32>,
}

impl DateSelection {
    fn from(params: &Params) -> DateSelection {
        let year = params
            .get("annee")
            .and_then(|v| v.parse().ok())
            .filter(|y| (1900..3000).contains(y));
        let month = year
            .and(params.get("mois"))
            .and_then(|v| v.parse().ok())
            .filter(|m| (1..=12).contains(m));
        let day = month
            .and(params.get("jour"))
            .and_then(|v| v.parse().ok())
            .filter(|d| (1..=31).contains(d));
        DateSelection { year, month, day }
    }

    /// `[from, to)` in UTC for the selected period in the service's time zone.
    fn range(&self, tz: Tz) -> Option<(chrono::DateTime<Utc>, chrono::DateTime<Utc>)> {
        let year = self.year?;
        let (start, end) = match (self.month, self.day) {
            (Some(m), Some(d)) => {
                let start = NaiveDate::from_ymd_opt(year, m, d)?;
                (start, start.succ_opt()?)
            }
            (Some(m), None) => {
                let start = NaiveDate::from_ymd_opt(year, m, 1)?;
                let end = match m {
                    12 => NaiveDate::from_ymd_opt(year + 1, 1, 1)?,
                    _ => NaiveDate::from_ymd_opt(year, m + 1, 1)?,
                };
                (start, end)
            }
            _ => (
                NaiveDate::from_ymd_opt(year, 1, 1)?,
                NaiveDate::from_ymd_opt(year + 1, 1, 1)?,
            ),
        };
        Some((start_of_day(start, &tz), start_of_day(end, &tz)))
    }
}

pub async fn list(
    State(state): State<Arc<AppState>>,
    Extension(session): Extension<Session>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Markup, PageError> {
    let pairs = parse_query(raw.as_deref());
    let params = Params::from_pairs(&pairs, &KEYS);
    if let Some(kind) = params.get("q").and_then(search_kind) {
        auth::record_access(
            &state,
            &session,
            peer,
            &headers,
            Action::DossierSearch,
            None,
            Some(kind),
        )
        .await?;
    }
    let status = params.get("statut").and_then(Status::from_v1);
    let dates = DateSelection::from(&params);
    let (sort, descending) = sort_param(&params, column_from_key, (Column::CreatedAt, true));
    let current_page = page_number(&params);
    let query = ListQuery {
        scope: session.scope.clone(),
        status,
        department: params.get("departement").map(str::to_owned),
        created: dates.range(state.time_zone),
        search: params.get("q").map(str::to_owned),
        sort,
        descending,
        limit: PER_PAGE,
        start: page_start(&params, current_page, PER_PAGE),
    };
    let rows = dossier_lists::page(&state.db, &query).await?;
    let key = format!("dossiers|{:?}|{:?}", query.created, query.search);
    let counts = state
        .counts
        .get(key, {
            let (db, query) = (state.db.clone(), query.clone());
            async move { dossier_lists::counts(&db, &query).await }
        })
        .await?
        .within(&session.scope);
    let total = counts.total(query.status, query.department.as_deref());
    let statuses = counts.by_status(query.department.as_deref());
    let departments = counts.by_department(query.status);
    let bounds = dossier_lists::created_bounds(&state.db, &session.scope).await?;
    let tz = state.time_zone;

    let body = html! {
        form.fr-search-bar.fr-mb-3w role="search" method="get" action="/admin/dossiers/" {
            label.fr-label for="q" { "Rechercher un dossier" }
            @for (key, value) in params_without(&params, &["q"]) {
                input type="hidden" name=(key) value=(value);
            }
            input.fr-input #q type="search" name="q" value=(params.get("q").unwrap_or_default())
                placeholder="Numéro DS, début du nom, du prénom ou de l'e-mail";
            button.fr-btn type="submit" title="Rechercher" { "Rechercher" }
        }
        (date_hierarchy(&params, &dates, bounds.map(|(a, b)| (a.with_timezone(&tz).year(), b.with_timezone(&tz).year()))))
        div.fr-grid-row.fr-grid-row--gutters {
            div.fr-col-12.fr-col-lg-9 {
                (total_line(total, "dossier"))
                div.fr-table.fr-table--no-caption.wif-table {
                    table {
                        caption { "Dossiers" }
                        thead { tr {
                            (sort_header("ID DS", column_key(Column::DsId), &params))
                            (sort_header("Statut", column_key(Column::Status), &params))
                            (sort_header("Créé le", column_key(Column::CreatedAt), &params))
                            (sort_header("Département", column_key(Column::Department), &params))
                            (sort_header("Début APT", column_key(Column::DebutApt), &params))
                            (sort_header("Fin APT", column_key(Column::FinApt), &params))
                            (sort_header("Instructeurs", column_key(Column::Instructeurs), &params))
                        } }
                        tbody {
                            @for row in &rows {
                                tr {
                                    td { a href=(format!("/admin/dossiers/{}", row.ds_id)) { (row.ds_id) } }
                                    td {
                                        (status_tag(row.status))
                                        @if row.deleted_on_ds_at.is_some() { " " span.fr-badge.fr-badge--sm.fr-badge--warning { "supprimé sur DS" } }
                                    }
                                    td { (datetime(row.created_at, tz)) }
                                    td { (row.department.as_deref().unwrap_or("—")) }
                                    td { (date(row.date_de_debut_apt)) }
                                    td { (date(row.date_de_fin_apt)) }
                                    td { (row.instructeurs.0.join(", ")) }
                                }
                            }
                            @if rows.is_empty() {
                                tr { td colspan="7" { "Aucun dossier ne correspond à ces critères." } }
                            }
                        }
                    }
                }
                (pagination(total, PER_PAGE, current_page, &params, edges(&rows, |r| r.ds_id)))
            }
            div.fr-col-12.fr-col-lg-3 {
                (facet("Par statut", "statut", &params, status_entries(&statuses)))
                (facet("Par département", "departement", &params, departments.iter().map(|(d, n)| (d.clone(), d.clone(), *n))))
            }
        }
    };
    Ok(page("Dossiers", Some(&session), "/admin/dossiers/", body))
}

/// The parameters but `keys` and those of the page shown.
fn params_without(params: &Params, keys: &[&str]) -> Vec<(String, String)> {
    KEYS.iter()
        .filter(|k| !keys.contains(k) && !PAGE_KEYS.contains(k))
        .filter_map(|k| params.get(k).map(|v| ((*k).to_owned(), v.to_owned())))
        .collect()
}

/// Year → month → day links on the creation date, as Django's `date_hierarchy`.
fn date_hierarchy(params: &Params, dates: &DateSelection, years: Option<(i32, i32)>) -> Markup {
    let clear = |keys: &[&str]| -> Params {
        let kept: Vec<(String, String)> = params_without(params, keys);
        Params::from_pairs(&kept, &KEYS)
    };
    html! {
        nav.fr-breadcrumb.wif-dates aria-label="Filtrer par date de création" {
            ol.fr-breadcrumb__list {
                li { a.fr-breadcrumb__link href=(clear(&["annee", "mois", "jour"]).with("annee", None)) { "Toutes les dates" } }
                @match (dates.year, dates.month, dates.day) {
                    (None, _, _) => {
                        @if let Some((first, last)) = years {
                            @for year in (first..=last).rev() {
                                li { a.fr-breadcrumb__link href=(clear(&["mois", "jour"]).with("annee", Some(&year.to_string()))) { (year) } }
                            }
                        }
                    }
                    (Some(year), None, _) => {
                        li { a.fr-breadcrumb__link aria-current="page" { (year) } }
                        @for (m, name) in MONTHS.iter().enumerate() {
                            li { a.fr-breadcrumb__link href=(clear(&["jour"]).with("mois", Some(&(m + 1).to_string()))) { (name) } }
                        }
                    }
                    (Some(year), Some(month), day) => {
                        li { a.fr-breadcrumb__link href=(clear(&["mois", "jour"]).with("annee", Some(&year.to_string()))) { (year) } }
                        li { a.fr-breadcrumb__link aria-current=[day.is_none().then_some("page")] href=(clear(&["jour"]).with("mois", Some(&month.to_string()))) { (MONTHS[month as usize - 1]) } }
                        @for d in 1..=days_in(year, month) {
                            li {
                                a.fr-breadcrumb__link aria-current=[(day == Some(d)).then_some("page")]
                                    href=(params.with("jour", Some(&d.to_string()))) { (d) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn days_in(year: i32, month: u32) -> u32 {
    (28..=31)
        .rev()
        .find(|d| NaiveDate::from_ymd_opt(year, month, *d).is_some())
        .unwrap_or(28)
}

pub async fn show(
    State(state): State<Arc<AppState>>,
    Extension(session): Extension<Session>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(ds_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Markup, PageError> {
    let ds_id = ds_id
        .parse::<i64>()
        .ok()
        .and_then(DsId::new)
        .ok_or(PageError::NotFound)?;
    // Another département's dossier does not exist for a limited agent.
    let stored = dossiers::get(&state.db, ds_id)
        .await?
        .filter(|stored| session.scope.allows(stored.dossier.department.as_deref()))
        .ok_or(PageError::NotFound)?;
    auth::record_access(
        &state,
        &session,
        peer,
        &headers,
        Action::DossierView,
        Some(ds_id.get()),
        None,
    )
    .await?;
    let d = &stored.dossier;
    let tz = state.time_zone;
    if let Some(erased_at) = stored.erased_at {
        return Ok(page(
            &format!("Dossier {}", ds_id.get()),
            Some(&session),
            "/admin/dossiers/",
            erased_record(&stored, erased_at, tz),
        ));
    }
    let dossier_alerts = alerts::of_dossier(&state.db, ds_id.get()).await?;
    let history = dossier_changes::history(&state.db, ds_id).await?;
    let values: HashMap<&str, &serde_json::Value> =
        d.champs.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let body = html! {
        p {
            (status_tag(d.status))
            @if let Some(at) = stored.deleted_on_ds_at {
                " " span.fr-badge.fr-badge--warning { "supprimé sur DS le " (datetime(Some(at), tz)) }
            }
            @if let Some(at) = stored.reduced_at {
                " " span.fr-badge.fr-badge--info { "données réduites à la vérification d'APT le " (datetime(Some(at), tz)) }
            }
        }
        @if !d.warnings.is_empty() {
            div.fr-alert.fr-alert--warning.fr-mb-3w {
                h2.fr-alert__title { "Valeurs illisibles" }
                ul { @for w in &d.warnings { li { (w) } } }
            }
        }
        div.fr-grid-row.fr-grid-row--gutters {
            div.fr-col-12.fr-col-md-6 {
                h2 { "Suivi" }
                dl.wif-facts {
                    dt { "Démarche" } dd { (d.procedure_id) }
                    dt { "Créé le" } dd { (datetime(d.created_at, tz)) }
                    dt { "Déposé le" } dd { (datetime(d.initiated_at, tz)) }
                    dt { "En instruction le" } dd { (datetime(d.received_at, tz)) }
                    dt { "Traité le" } dd { (datetime(d.processed_at, tz)) }
                    dt { "Modifié sur DS le" } dd { (datetime(d.updated_at, tz)) }
                    dt { "Copié pour la première fois le" } dd { (stored.first_synced_at.map_or("inconnu (avant l'historique)".to_owned(), |t| datetime(Some(t), tz))) }
                    dt { "Dernière copie le" } dd { (datetime(Some(stored.synced_at), tz)) }
                    dt { "Archivé" } dd { @if d.archived { "oui" } @else { "non" } }
                    dt { "E-mail du demandeur" } dd { (d.email.as_deref().unwrap_or("—")) }
                    dt { "Instructeurs" } dd { (if d.instructeurs.is_empty() { "—".to_owned() } else { d.instructeurs.join(", ") }) }
                    dt { "SIRET" } dd { (d.siret.as_deref().unwrap_or("—")) }
                }
            }
            div.fr-col-12.fr-col-md-6 {
                h2 { "APT" }
                dl.wif-facts {
                    dt { "Nom" } dd { (d.nom.as_deref().unwrap_or("—")) }
                    dt { "Prénom" } dd { (d.prenom.as_deref().unwrap_or("—")) }
                    dt { "Date de naissance" } dd { (date(d.date_de_naissance)) }
                    dt { "Nationalité" } dd { (d.nationalite.as_deref().unwrap_or("—")) }
                    dt { "Département du titre de séjour" } dd { (d.department.as_deref().unwrap_or("—")) }
                    dt { "Début APT" } dd { (date(d.date_de_debut_apt)) }
                    dt { "Fin APT" } dd { (date(d.date_de_fin_apt)) }
                    dt { "Expiration du titre de séjour" } dd { (date(d.date_dexpiration_titre_sejour)) }
                }
                p { a.fr-link.fr-icon-external-link-line.fr-link--icon-right href=(state.ds.dossier_url(d.procedure_id, ds_id.get())) rel="noopener" { "Ouvrir le dossier sur démarches-simplifiées" } }
            }
        }
        h2.fr-mt-4w { "Alertes" }
        @if raw.as_deref() == Some("pris=1") { (alert("success", "Alerte marquée « prise en compte ».")) }
        @if dossier_alerts.is_empty() {
            p { "Aucune alerte sur ce dossier." }
        } @else {
            (alert_table(&state, &session, &dossier_alerts, true, &format!("/admin/dossiers/{}", ds_id.get())))
        }
        h2 { "Historique de synchronisation" }
        @if history.is_empty() {
            p { "Aucun changement de statut, de dates d'APT ou de présence sur DS depuis la première copie." }
        } @else {
            div.fr-table.wif-table { table {
                caption.fr-sr-only { "Changements apportés par les synchronisations" }
                thead { tr { th scope="col" { "Date" } th scope="col" { "Changement" } th scope="col" { "Synchronisation" } } }
                tbody {
                    @for (at, run, change) in &history {
                        tr {
                            td { (datetime(Some(*at), tz)) }
                            td { (change_text(change)) }
                            td { (run.map_or("—".to_owned(), |r| format!("n° {r}"))) }
                        }
                    }
                }
            } }
            p.fr-text--xs { "Les 20 derniers changements sont gardés." }
        }
        h2 { "Champs du formulaire" }
        div.fr-table.wif-table { table {
            caption.fr-sr-only { "Champs du formulaire" }
            thead { tr { th scope="col" { "Champ" } th scope="col" { "Valeur" } } }
            tbody {
                @for def in CHAMPS.iter() {
                    tr {
                        th scope="row" { (def.libelle) @if def.private { " " span.fr-badge.fr-badge--sm { "annotation privée" } } }
                        td { (champ_text(values.get(def.slug).copied())) }
                    }
                }
            }
        } }
        details.wif-raw {
            summary { "Document JSON reçu de DS (API " (d.api_version.as_str()) ")" }
            (json_block(&d.raw))
        }
        p.fr-mt-3w { a.fr-link.fr-icon-arrow-left-line.fr-link--icon-left href="/admin/dossiers/" { "Retour à la liste" } }
    };
    Ok(page(
        &format!("Dossier {}", ds_id.get()),
        Some(&session),
        "/admin/dossiers/",
        body,
    ))
}

/// What remains of a dossier whose personal data were erased (SPEC 14): its statistical record.
fn erased_record(stored: &dossiers::StoredDossier, erased_at: DateTime<Utc>, tz: Tz) -> Markup {
    let d = &stored.dossier;
    html! {
        div.fr-alert.fr-alert--info.fr-mb-3w {
            h2.fr-alert__title { "Données personnelles effacées le " (datetime(Some(erased_at), tz)) }
            p { "Sa durée de conservation était passée : seul reste l'enregistrement statistique ci-dessous, qui n'identifie personne. Voir « Conservation des données »." }
        }
        p { (status_tag(d.status)) }
        dl.wif-facts {
            dt { "Démarche" } dd { (d.procedure_id) }
            dt { "Département du titre de séjour" } dd { (d.department.as_deref().unwrap_or("—")) }
            dt { "Nationalité" } dd { (d.nationalite.as_deref().unwrap_or("—")) }
            dt { "Créé le" } dd { (datetime(d.created_at, tz)) }
            dt { "Déposé le" } dd { (datetime(d.initiated_at, tz)) }
            dt { "En instruction le" } dd { (datetime(d.received_at, tz)) }
            dt { "Traité le" } dd { (datetime(d.processed_at, tz)) }
            dt { "Début APT" } dd { (date(d.date_de_debut_apt)) }
            dt { "Fin APT" } dd { (date(d.date_de_fin_apt)) }
            @if let Some(at) = stored.deleted_on_ds_at {
                dt { "Supprimé sur DS le" } dd { (datetime(Some(at), tz)) }
            }
        }
        p.fr-mt-3w { a.fr-link.fr-icon-arrow-left-line.fr-link--icon-left href="/admin/dossiers/" { "Retour à la liste" } }
    }
}

/// A change of the sync history in the agents' words.
fn change_text(change: &Change) -> String {
    let dates = |dates: &AptDates| match (dates.debut, dates.fin) {
        (None, None) => "aucune".to_owned(),
        (debut, fin) => {
            let day = |d: Option<NaiveDate>| {
                d.map_or("?".to_owned(), |d| d.format("%d/%m/%Y").to_string())
            };
            format!("{} – {}", day(debut), day(fin))
        }
    };
    match change {
        Change::Status { before, after } => {
            format!("Statut : {} → {}", before.label(), after.label())
        }
        Change::Apt { before, after } => {
            format!("Dates d'APT : {} → {}", dates(before), dates(after))
        }
        Change::Deleted => "Supprimé sur DS".to_owned(),
        Change::Restored => "De nouveau présent sur DS".to_owned(),
    }
}

/// A champ's value as the agents read it: dates as `DD/MM/YYYY`, nothing as a dash.
fn champ_text(value: Option<&serde_json::Value>) -> String {
    match value {
        None | Some(serde_json::Value::Null) => "—".into(),
        Some(serde_json::Value::String(s)) => crate::domain::dates::parse_iso_date(s)
            .map_or_else(|| s.clone(), |d| d.format("%d/%m/%Y").to_string()),
        Some(serde_json::Value::Bool(b)) => if *b { "oui" } else { "non" }.into(),
        Some(other) => other.to_string(),
    }
}

/// A column's name in the query string (`?o=…`).
fn column_key(column: Column) -> &'static str {
    match column {
        Column::DsId => "ds_id",
        Column::Status => "statut",
        Column::CreatedAt => "cree_le",
        Column::Department => "departement",
        Column::DebutApt => "debut_apt",
        Column::FinApt => "fin_apt",
        Column::Instructeurs => "instructeurs",
    }
}

fn column_from_key(key: &str) -> Option<Column> {
    Column::ALL.into_iter().find(|c| column_key(*c) == key)
}
