//! `/admin/alertes/` (SPEC 9.2): the open alerts, oldest first, with counts per rule and per
//! département and filters; the resolved ones on a second tab; « prise en compte » by an agent.
//! `/admin/emails/`: the e-mails sent and failed, for administrators.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use chrono::Utc;
use maud::{Markup, html};
use serde::Deserialize;

use super::layout::{Params, alert, csrf_field, datetime, number, page, pagination, total_line};
use super::lists::{PER_PAGE, page_number, parse_query};
use super::{AppState, PageError, auth, require_superuser};
use crate::domain::Scope;
use crate::domain::alerts::{AlertCode, StoredRule};
use crate::store::access_log::Action;
use crate::store::alerts::{self, AlertCount, AlertFilter, AlertRow};
use crate::store::emails;
use crate::store::sessions::Session;

const KEYS: [&str; 4] = ["etat", "regle", "departement", "p"];
/// The département filter's value for alerts of dossiers without one.
const NO_DEPARTMENT: &str = "Non renseigné";

pub async fn list(
    State(state): State<Arc<AppState>>,
    Extension(session): Extension<Session>,
    RawQuery(raw): RawQuery,
) -> Result<Markup, PageError> {
    let pairs = parse_query(raw.as_deref());
    let params = Params::from_pairs(&pairs, &KEYS);
    let acknowledged = pairs.iter().any(|(k, v)| k == "pris" && v == "1");
    let resolved = params.get("etat") == Some("resolues");
    let code = params
        .get("regle")
        .and_then(|c| c.parse::<AlertCode>().ok());
    let department = params.get("departement").map(str::to_owned);
    let page_number = page_number(&params);

    let counts = alert_counts(&state, resolved, &session.scope).await?;
    let other_tab = alert_counts(&state, !resolved, &session.scope).await?;
    let sum = |counts: &[AlertCount]| counts.iter().map(|c| c.count).sum::<i64>();
    let dept_name = |d: &Option<String>| d.clone().unwrap_or_else(|| NO_DEPARTMENT.to_owned());
    let wanted_department =
        |d: &Option<String>| department.as_ref().is_none_or(|w| *w == dept_name(d));
    let wanted_code = |c: &StoredRule| code.is_none_or(|w| c.current() == Some(w));
    let mut per_rule: BTreeMap<AlertCode, i64> = BTreeMap::new();
    let mut per_department: BTreeMap<String, i64> = BTreeMap::new();
    let mut total = 0;
    for c in &counts {
        if let (true, Some(rule)) = (wanted_department(&c.department), c.code.current()) {
            *per_rule.entry(rule).or_default() += c.count;
        }
        if wanted_code(&c.code) {
            *per_department.entry(dept_name(&c.department)).or_default() += c.count;
        }
        if wanted_department(&c.department) && wanted_code(&c.code) {
            total += c.count;
        }
    }
    let filter = AlertFilter {
        scope: session.scope.clone(),
        resolved,
        code,
        department: department
            .clone()
            .map(|d| (d != NO_DEPARTMENT).then_some(d)),
        ds_id: None,
    };
    let rows = alerts::list(&state.db, &filter, (page_number - 1) * PER_PAGE, PER_PAGE).await?;
    let (open_total, resolved_total) = match resolved {
        false => (sum(&counts), sum(&other_tab)),
        true => (sum(&other_tab), sum(&counts)),
    };
    let tab = |label: &str, etat: Option<&str>, n: i64, current: bool| {
        html! {
            li { a.fr-btn.fr-btn--sm.fr-btn--secondary[!current] href=(params.with("etat", etat)) aria-current=[current.then_some("page")] {
                (label) " (" (number(n)) ")"
            } }
        }
    };
    let rules = &state.alert_rules;
    let back = format!("/admin/alertes/{}", params.page(page_number));
    let body = html! {
        @if !state.email_on {
            (alert("info", "WIF_SMTP_URL n'est pas configurée : les alertes ne sont pas envoyées par e-mail, seulement montrées ici."))
        }
        @if acknowledged { (alert("success", "Alerte marquée « prise en compte ».")) }
        ul.fr-btns-group.fr-btns-group--inline-sm.fr-mb-2w {
            (tab("Alertes ouvertes", None, open_total, !resolved))
            (tab("Alertes résolues", Some("resolues"), resolved_total, resolved))
        }
        div.fr-grid-row.fr-grid-row--gutters {
            div.fr-col-12.fr-col-md-6 {
                div.fr-table.wif-table { table {
                    caption { "Par règle" }
                    thead { tr { th scope="col" { "Règle" } th scope="col" { "Alertes" } } }
                    tbody {
                        @for c in AlertCode::ALL {
                            tr {
                                td { a href=(params.with("regle", Some(c.as_str()))) aria-current=[(code == Some(c)).then_some("true")] { (rules.message(c)) } }
                                td { (number(per_rule.get(&c).copied().unwrap_or(0))) }
                            }
                        }
                    }
                } }
            }
            div.fr-col-12.fr-col-md-6 {
                div.fr-table.wif-table { table {
                    caption { "Par département" }
                    thead { tr { th scope="col" { "Département" } th scope="col" { "Alertes" } } }
                    tbody {
                        @for (d, n) in &per_department {
                            tr {
                                td { a href=(params.with("departement", Some(d))) aria-current=[(department.as_deref() == Some(d)).then_some("true")] { (d) } }
                                td { (number(*n)) }
                            }
                        }
                        @if per_department.is_empty() { tr { td colspan="2" { "Aucune alerte." } } }
                    }
                } }
            }
        }
        @if code.is_some() || department.is_some() {
            p {
                "Filtré : "
                @if let Some(c) = code { strong { (rules.message(c)) } " " }
                @if let Some(d) = &department { strong { (d) } " " }
                a.fr-link href=(Params::from_pairs(&[], &[]).with("etat", resolved.then_some("resolues"))) { "Retirer les filtres" }
            }
        }
        (total_line(total, "alerte"))
        (alert_table(&state, &session, &rows, resolved, &back))
        (pagination(total, PER_PAGE, page_number, &params, None))
    };
    Ok(page("Alertes", Some(&session), "/admin/alertes/", body))
}

/// How many alerts, open or resolved, per rule and département of `scope`: counted over every
/// département and kept a minute, like the dossiers list's counts (a count may lag an evaluation
/// by that much; the rows never do).
pub async fn alert_counts(
    state: &Arc<AppState>,
    resolved: bool,
    scope: &Scope,
) -> Result<Vec<AlertCount>, PageError> {
    let db = state.db.clone();
    let compute = async move { alerts::counts(&db, resolved).await };
    let counts = state
        .alert_counts
        .get(format!("alerts|{resolved}"), compute)
        .await?;
    Ok(counts
        .iter()
        .filter(|c| scope.allows(c.department.as_deref()))
        .cloned()
        .collect())
}

/// The alerts `rows` in a table: dossier, rule, département, dates, « prise en compte ».
/// `back` is where acknowledging one returns to.
pub fn alert_table(
    state: &AppState,
    session: &Session,
    rows: &[AlertRow],
    with_resolution: bool,
    back: &str,
) -> Markup {
    let tz = state.time_zone;
    html! {
        div.fr-table.wif-table { table {
            caption.fr-sr-only { "Alertes" }
            thead { tr {
                th scope="col" { "Dossier" } th scope="col" { "Règle" } th scope="col" { "Département" }
                th scope="col" { "Ouverte le" }
                @if with_resolution { th scope="col" { "Résolue le" } }
                th scope="col" { "Prise en compte" }
            } }
            tbody {
                @for a in rows {
                    tr {
                        td {
                            a href=(format!("/admin/dossiers/{}", a.ds_id)) { (a.ds_id) }
                            @if let Some(procedure) = a.procedure_id {
                                br;
                                a.fr-link.fr-link--sm href=(state.ds.dossier_url(procedure, a.ds_id)) rel="noopener" title=(format!("Dossier {} sur démarches-simplifiées", a.ds_id)) { "sur DS" }
                            }
                        }
                        td { (state.alert_rules.describe(&a.code)) }
                        td { (a.department.as_deref().unwrap_or(NO_DEPARTMENT)) }
                        td { (datetime(Some(a.opened_at), tz)) }
                        @if with_resolution { td { (datetime(a.resolved_at, tz)) } }
                        td {
                            @if let Some(at) = a.acknowledged_at {
                                "par " (a.acknowledged_by.as_deref().unwrap_or("—")) " le " (datetime(Some(at), tz))
                            } @else if a.resolved_at.is_none() {
                                form method="post" action=(format!("/admin/alertes/{}/prise-en-compte", a.id)) {
                                    (csrf_field(session))
                                    input type="hidden" name="retour" value=(back);
                                    button.fr-btn.fr-btn--sm.fr-btn--tertiary type="submit" title=(format!("Marquer l'alerte du dossier {} comme prise en compte", a.ds_id)) { "Prendre en compte" }
                                }
                            } @else { "—" }
                        }
                    }
                }
                @if rows.is_empty() { tr { td colspan="6" { "Aucune alerte." } } }
            }
        } }
    }
}

#[derive(Deserialize)]
pub struct AcknowledgeForm {
    #[serde(default)]
    retour: String,
}

/// `POST /admin/alertes/{id}/prise-en-compte`: who and when are kept, and written to the access
/// log; then back to the page the agent came from.
pub async fn acknowledge(
    State(state): State<Arc<AppState>>,
    Extension(session): Extension<Session>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<AcknowledgeForm>,
) -> Result<Response, PageError> {
    let Some((ds_id, code)) = alerts::acknowledge(
        &state.db,
        id,
        &session.scope,
        &session.user.username,
        Utc::now(),
    )
    .await?
    else {
        return Err(PageError::NotFound);
    };
    auth::record_access(
        &state,
        &session,
        peer,
        &headers,
        Action::AlertAcknowledged,
        Some(ds_id),
        Some(code.as_str()),
    )
    .await?;
    // Only back to our own pages, never to an address taken from the form as it is.
    let back = match form.retour.as_str() {
        r if (r.starts_with("/admin/alertes/") || r.starts_with("/admin/dossiers/"))
            && !r.contains("//") =>
        {
            r.to_owned()
        }
        _ => "/admin/alertes/".to_owned(),
    };
    let back = back.trim_end_matches(['?', '&']);
    let separator = if back.contains('?') { '&' } else { '?' };
    Ok(Redirect::to(&format!("{back}{separator}pris=1")).into_response())
}

/// `/admin/emails/`: the last e-mails, sent or failed (administrators only).
pub async fn emails(
    State(state): State<Arc<AppState>>,
    Extension(session): Extension<Session>,
) -> Result<Markup, PageError> {
    require_superuser(&session)?;
    let rows = emails::latest(&state.db, 200).await?;
    let tz = state.time_zone;
    let body = html! {
        @if !state.email_on {
            (alert("info", "WIF_SMTP_URL n'est pas configurée : aucun e-mail n'est envoyé."))
        }
        p { "Les 200 derniers e-mails, du plus récent au plus ancien. Un e-mail d'alertes en échec est renvoyé au passage suivant de WIF_ALERTS_SCHEDULE (ou par « wif alerts notify ») ; un rapport mensuel en échec, par « wif report --month AAAA-MM --send »." }
        div.fr-table.wif-table { table {
            caption { "E-mails envoyés et en échec" }
            thead { tr {
                th scope="col" { "Date" } th scope="col" { "Destinataire" } th scope="col" { "Objet" }
                th scope="col" { "Type" } th scope="col" { "Résultat" }
            } }
            tbody {
                @for e in &rows {
                    tr {
                        td { (datetime(Some(e.at), tz)) }
                        td { (e.recipient) }
                        td { (e.subject) }
                        td { (match e.kind.as_str() {
                            crate::alerts::DIGEST_KIND => "Alertes",
                            crate::reports::EMAIL_KIND => "Rapport mensuel",
                            other => other,
                        }) }
                        td {
                            @if e.sent { span.fr-badge.fr-badge--sm.fr-badge--success { "Envoyé" } }
                            @else {
                                span.fr-badge.fr-badge--sm.fr-badge--error { "Échec" }
                                @if let Some(error) = &e.error { p.fr-text--xs.fr-mb-0 { (error) } }
                            }
                        }
                    }
                }
                @if rows.is_empty() { tr { td colspan="5" { "Aucun e-mail pour l'instant." } } }
            }
        } }
    };
    Ok(page("E-mails", Some(&session), "/admin/emails/", body))
}
