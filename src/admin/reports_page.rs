//! `/admin/rapports/` (SPEC 10): a month's report, the national table or a département's
//! detail, and its downloads (XLSX workbook, CSV table). A limited agent sees its départements
//! only; any other département's detail or file answers 404.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use maud::{Markup, html};

use super::layout::{Params, alert, number, page};
use super::lists::parse_query;
use super::{AppState, PageError};
use crate::domain::report::{AptLength, Figures, Month, Report};
use crate::reports::{self, COLUMNS, NO_DEPARTMENT, csv, xlsx};
use crate::store::sessions::Session;

const KEYS: [&str; 2] = ["mois", "departement"];

/// How many months the picker offers, the current one included.
const PICKER_MONTHS: usize = 36;

/// What the query string asks for: a month (the previous one by default, or when unreadable)
/// and perhaps a département.
struct Request {
    month: Month,
    /// `?mois=` was given but is not a month.
    bad_month: bool,
    department: Option<String>,
}

fn read(state: &AppState, raw: Option<&str>) -> (Params, Request) {
    let params = Params::from_pairs(&parse_query(raw), &KEYS);
    let default = Month::before(Utc::now(), state.time_zone);
    let (month, bad_month) = match params.get("mois").map(str::parse::<Month>) {
        None => (default, false),
        Some(Ok(month)) => (month, false),
        Some(Err(_)) => (default, true),
    };
    let department = params.get("departement").map(str::to_owned);
    let request = Request {
        month,
        bad_month,
        department,
    };
    (params, request)
}

/// The report the session may see; with a département, only that one, or `NotFound` when it is
/// not among them.
async fn report_for(
    state: &AppState,
    session: &Session,
    request: &Request,
) -> Result<Report, PageError> {
    let report =
        reports::compute(&state.db, request.month, state.time_zone, &session.scope).await?;
    match &request.department {
        None => Ok(report),
        Some(department) => {
            let department = (department != NO_DEPARTMENT).then_some(department.as_str());
            report.only(department).ok_or(PageError::NotFound)
        }
    }
}

pub async fn show(
    State(state): State<Arc<AppState>>,
    Extension(session): Extension<Session>,
    RawQuery(raw): RawQuery,
) -> Result<Markup, PageError> {
    let (params, request) = read(&state, raw.as_deref());
    let report = report_for(&state, &session, &request).await?;
    let month = reports::month_label(report.month);
    let downloads = Params::from_pairs(
        &[
            ("mois".to_owned(), report.month.to_string()),
            (
                "departement".to_owned(),
                request.department.clone().unwrap_or_default(),
            ),
        ],
        &KEYS,
    )
    .with("p", None);
    let body = html! {
        @if request.bad_month {
            (alert("error", "Ce mois n'existe pas : choisissez-le dans la liste. Voici le rapport du mois précédent."))
        }
        p {
            "Dossiers acceptés, refusés ou classés sans suite au cours du mois (heure de Paris), par département du titre de séjour. "
            "La durée de l'APT va de sa date de début à sa date de fin : « ≤ 3 mois » compte trois mois civils au plus ; "
            "elle est inconnue quand une date manque, est illisible ou que la fin précède le début. "
            "Le délai court du dépôt du dossier à la décision, en jours entiers."
        }
        @if let Some(departments) = session.scope.departments() {
            (alert("info", &format!("Votre compte est limité à : {}.", departments.join(", "))))
        }
        (month_picker(&state, report.month, request.department.as_deref()))
        ul.fr-btns-group.fr-btns-group--inline-md.fr-btns-group--icon-left.fr-mb-3w {
            li { a.fr-btn.fr-btn--secondary.fr-icon-download-line href=(format!("/admin/rapports/rapport.xlsx{downloads}")) download {
                "Télécharger le classeur (XLSX)"
            } }
            li { a.fr-btn.fr-btn--secondary.fr-icon-download-line href=(format!("/admin/rapports/rapport.csv{downloads}")) download {
                "Télécharger le tableau (CSV)"
            } }
        }
        @match &request.department {
            None => (national_table(&report, &month, &session)),
            Some(department) => (detail(&state, &report, department, &month, &params)),
        }
    };
    Ok(page(
        &format!("Rapports mensuels : {month}"),
        Some(&session),
        "/admin/rapports/",
        body,
    ))
}

fn month_picker(state: &AppState, selected: Month, department: Option<&str>) -> Markup {
    let current = Month::of(Utc::now().with_timezone(&state.time_zone).date_naive());
    let mut months: Vec<Month> = std::iter::successors(Some(current), |m| Some(m.previous()))
        .take(PICKER_MONTHS)
        .collect();
    if !months.contains(&selected) {
        months.push(selected);
        months.sort_by(|a, b| b.cmp(a));
    }
    html! {
        form.fr-mb-3w method="get" action="/admin/rapports/" {
            @if let Some(department) = department {
                input type="hidden" name="departement" value=(department);
            }
            div.fr-grid-row.fr-grid-row--gutters.fr-grid-row--bottom {
                div.fr-col-12.fr-col-md-4 {
                    div.fr-select-group {
                        label.fr-label for="mois" { "Mois du rapport" }
                        select.fr-select #mois name="mois" {
                            @for month in &months {
                                option value=(month.to_string()) selected[*month == selected] {
                                    (reports::month_label(*month))
                                }
                            }
                        }
                    }
                }
                div.fr-col-12.fr-col-md-2 {
                    button.fr-btn.fr-mb-3v type="submit" { "Afficher" }
                }
            }
        }
    }
}

/// The counts and the median of a row, as table cells.
fn figure_cells(figures: &Figures) -> Markup {
    html! {
        @for n in reports::counts(figures) { td { (number(n as i64)) } }
        td { (reports::median_text(figures.median_days())) }
    }
}

fn national_table(report: &Report, month: &str, session: &Session) -> Markup {
    let mois = report.month.to_string();
    let caption = match session.scope.departments() {
        None => format!("Dossiers décidés en {month}, par département"),
        Some(_) => format!("Dossiers décidés en {month} dans vos départements"),
    };
    html! {
        div.fr-table.wif-table { table {
            caption { (caption) }
            thead { tr { @for label in COLUMNS { th scope="col" { (label) } } } }
            tbody {
                @for row in &report.departments {
                    @let name = reports::department_name(row.department.as_deref());
                    tr {
                        th scope="row" {
                            a href=(format!("/admin/rapports/{}", Params::from_pairs(&[("mois".to_owned(), mois.clone()), ("departement".to_owned(), name.to_owned())], &KEYS).with("p", None)))
                              title=(format!("Détail du rapport : {name}")) { (name) }
                        }
                        (figure_cells(&row.figures))
                    }
                }
                @if report.departments.is_empty() {
                    tr { td colspan=(COLUMNS.len()) { "Aucun département." } }
                }
                tr.wif-total {
                    th scope="row" { strong { "Total" } }
                    (figure_cells(&report.total))
                }
            }
        } }
        (rankings(&report.total, month))
    }
}

fn detail(
    state: &AppState,
    report: &Report,
    department: &str,
    month: &str,
    params: &Params,
) -> Markup {
    let figures = &report.total;
    let back = params.with("departement", None);
    html! {
        p { a.fr-link.fr-icon-arrow-left-line.fr-link--icon-left href=(format!("/admin/rapports/{back}")) { "Retour au tableau de tous les départements" } }
        h2 { (department) " : " (month) }
        div.fr-table.wif-table { table {
            caption { "Dossiers décidés en " (month) " : " (department) }
            thead { tr { th scope="col" { "Indicateur" } th scope="col" { "Valeur" } } }
            tbody {
                @for (label, n) in COLUMNS[1..].iter().zip(reports::counts(figures)) {
                    tr { th scope="row" { (label) } td { (number(n as i64)) } }
                }
                tr { th scope="row" { (COLUMNS[COLUMNS.len() - 1]) } td { (reports::median_text(figures.median_days())) } }
            }
        } }
        (rankings(figures, month))
        div.fr-table.wif-table { table {
            caption { "Dossiers refusés en " (month) " (" (number(figures.refused_dossiers.len() as i64)) ")" }
            thead { tr { th scope="col" { "Dossier" } th scope="col" { "Sur démarches-simplifiées" } } }
            tbody {
                @for d in &figures.refused_dossiers {
                    tr {
                        td { a href=(format!("/admin/dossiers/{}", d.ds_id)) { (d.ds_id) } }
                        td { a.fr-link href=(state.ds.dossier_url(d.procedure_id, d.ds_id)) rel="noopener" title=(format!("Dossier {} sur démarches-simplifiées", d.ds_id)) { "Voir sur DS" } }
                    }
                }
                @if figures.refused_dossiers.is_empty() { tr { td colspan="2" { "Aucun dossier refusé ce mois-ci." } } }
            }
        } }
    }
}

/// The most frequent nationalities among the accepted, one table per APT length.
fn rankings(figures: &Figures, month: &str) -> Markup {
    html! {
        h2.fr-h4 { "Nationalités les plus fréquentes parmi les dossiers acceptés en " (month) }
        div.fr-grid-row.fr-grid-row--gutters {
            @for length in AptLength::ALL {
                @let top = figures.top_nationalities(length);
                div.fr-col-12.fr-col-md-4 {
                    div.fr-table.wif-table { table {
                        caption { "Acceptés, " (reports::length_label(length)) }
                        thead { tr { th scope="col" { "Rang" } th scope="col" { "Nationalité" } th scope="col" { "Acceptés" } } }
                        tbody {
                            @for (rank, (name, n)) in top.iter().enumerate() {
                                tr { td { (rank + 1) } td { (name) } td { (number(*n as i64)) } }
                            }
                            @if top.is_empty() { tr { td colspan="3" { "Aucun dossier." } } }
                        }
                    } }
                }
            }
        }
    }
}

/// `/admin/rapports/rapport.xlsx`: the workbook of the report shown with the same query.
pub async fn download_xlsx(
    State(state): State<Arc<AppState>>,
    Extension(session): Extension<Session>,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let (_, request) = read(&state, raw.as_deref());
    let report = report_for(&state, &session, &request).await?;
    let name = reports::file_name(report.month, request.department.as_deref(), "xlsx");
    let ds = state.ds.clone();
    let bytes = tokio::task::spawn_blocking(move || xlsx::workbook(&report, &ds))
        .await
        .map_err(|e| PageError::Internal(e.to_string()))?
        .map_err(|e| PageError::Internal(e.to_string()))?;
    Ok(file(xlsx::CONTENT_TYPE, &name, bytes))
}

/// `/admin/rapports/rapport.csv`: the table of the report shown with the same query.
pub async fn download_csv(
    State(state): State<Arc<AppState>>,
    Extension(session): Extension<Session>,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let (_, request) = read(&state, raw.as_deref());
    let report = report_for(&state, &session, &request).await?;
    let name = reports::file_name(report.month, request.department.as_deref(), "csv");
    Ok(file(csv::CONTENT_TYPE, &name, csv::national_table(&report)))
}

fn file(content_type: &'static str, name: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        bytes,
    )
        .into_response()
}
