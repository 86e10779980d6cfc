//! `/admin/prefecture/`: the dossiers whose residence permit expired less than 62 days ago or
//! expires later, for the agents who follow renewals with the prefectures.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::HeaderMap;
use chrono::{Days, Utc};
use maud::{Markup, html};

use super::layout::{Params, date, page, pagination, sort_header, status_tag, total_line};
use super::lists::{
    PER_PAGE, edges, facet, page_number, page_start, parse_query, sort_param, status_entries,
};
use super::{AppState, PageError, auth};
use crate::domain::Status;
use crate::domain::text::title_case;
use crate::store::access_log::Action;
use crate::store::dossier_lists::{self, PrefectureColumn, PrefectureQuery};
use crate::store::sessions::Session;

/// A permit that expired more than this many days ago is no longer followed.
const DAYS_BACK: u64 = 62;
const KEYS: [&str; 5] = ["statut", "o", "p", "apres", "avant"];

pub async fn list(
    State(state): State<Arc<AppState>>,
    Extension(session): Extension<Session>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Markup, PageError> {
    // The list shows names and nationalities: personal data, logged like a dossier's page.
    auth::record_access(
        &state,
        &session,
        peer,
        &headers,
        Action::PrefectureView,
        None,
        None,
    )
    .await?;
    let pairs = parse_query(raw.as_deref());
    let params = Params::from_pairs(&pairs, &KEYS);
    let today = Utc::now().with_timezone(&state.time_zone).date_naive();
    let (sort, descending) = sort_param(
        &params,
        column_from_key,
        (PrefectureColumn::Expiration, true),
    );
    let current_page = page_number(&params);
    let query = PrefectureQuery {
        scope: session.scope.clone(),
        after: today - Days::new(DAYS_BACK),
        status: params.get("statut").and_then(Status::from_v1),
        sort,
        descending,
        limit: PER_PAGE,
        start: page_start(&params, current_page, PER_PAGE),
    };
    let rows = dossier_lists::prefecture_page(&state.db, &query).await?;
    let key = format!("prefecture|{}", query.after);
    let counts = state
        .counts
        .get(key, {
            let (db, query) = (state.db.clone(), query.clone());
            async move { dossier_lists::prefecture_counts(&db, &query).await }
        })
        .await?
        .within(&session.scope);
    let total = counts.total(query.status, None);
    let statuses = counts.by_status(None);
    let name = |n: &Option<String>| n.as_deref().map_or("—".to_owned(), title_case);
    let body = html! {
        p { "Dossiers dont le titre de séjour expire après le " (date(Some(query.after))) "." }
        div.fr-grid-row.fr-grid-row--gutters {
            div.fr-col-12.fr-col-lg-9 {
                (total_line(total, "dossier"))
                div.fr-table.fr-table--no-caption.wif-table { table {
                    caption { "Suivi Préfecture" }
                    thead { tr {
                        (sort_header("Date d'expiration du titre de séjour", column_key(PrefectureColumn::Expiration), &params))
                        (sort_header("ID DS", column_key(PrefectureColumn::DsId), &params))
                        (sort_header("Nationalité", column_key(PrefectureColumn::Nationalite), &params))
                        (sort_header("Prénom", column_key(PrefectureColumn::Prenom), &params))
                        (sort_header("Nom", column_key(PrefectureColumn::Nom), &params))
                        (sort_header("Statut", column_key(PrefectureColumn::Status), &params))
                    } }
                    tbody {
                        @for row in &rows {
                            tr {
                                td { (date(row.date_dexpiration_titre_sejour)) }
                                td { a href=(format!("/admin/dossiers/{}", row.ds_id)) { (row.ds_id) } }
                                td { (name(&row.nationalite)) }
                                td { (name(&row.prenom)) }
                                td { (name(&row.nom)) }
                                td { (status_tag(row.status)) }
                            }
                        }
                        @if rows.is_empty() {
                            tr { td colspan="6" { "Aucun dossier à surveiller." } }
                        }
                    }
                } }
                (pagination(total, PER_PAGE, current_page, &params, edges(&rows, |r| r.ds_id)))
            }
            div.fr-col-12.fr-col-lg-3 {
                (facet("Par statut", "statut", &params, status_entries(&statuses)))
            }
        }
    };
    Ok(page(
        "Suivi Préfecture : dossiers à surveiller pour cause de renouvellement proche en Préfecture",
        Some(&session),
        "/admin/prefecture/",
        body,
    ))
}

/// A column's name in the query string (`?o=…`).
fn column_key(column: PrefectureColumn) -> &'static str {
    match column {
        PrefectureColumn::Expiration => "expiration",
        PrefectureColumn::DsId => "ds_id",
        PrefectureColumn::Nationalite => "nationalite",
        PrefectureColumn::Prenom => "prenom",
        PrefectureColumn::Nom => "nom",
        PrefectureColumn::Status => "statut",
    }
}

fn column_from_key(key: &str) -> Option<PrefectureColumn> {
    PrefectureColumn::ALL
        .into_iter()
        .find(|c| column_key(*c) == key)
}
