//! The simulator's REST API v1: the paginated list and the detail of a dossier.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::{FakeDs, v1_time};
use crate::domain::champs::CHAMPS;
use crate::domain::{Dossier, Status};

pub fn router() -> Router<FakeDs> {
    Router::new()
        .route("/api/v1/procedures/{procedure}/dossiers", get(list))
        .route("/api/v1/procedures/{procedure}/dossiers/{id}", get(detail))
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Json(json!({}))).into_response()
}

async fn list(
    State(ds): State<FakeDs>,
    Path(procedure): Path<i64>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(all) = ds.listed(procedure) else {
        return not_found();
    };
    let number = |key: &str, default: usize| {
        query
            .get(key)
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(default)
    };
    let per_page = number("resultats_par_page", 100).clamp(1, 1000);
    let page = number("page", 1).max(1);
    // v1 does not list drafts.
    let listed: Vec<&Dossier> = all.iter().filter(|d| d.status != Status::Draft).collect();
    let pages = listed.len().div_ceil(per_page).max(1);
    let items: Vec<Value> = listed
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|d| {
            json!({"id": d.ds_id.get(), "updated_at": v1_time(d.updated_at),
                   "initiated_at": v1_time(d.initiated_at), "state": d.status.as_str()})
        })
        .collect();
    Json(json!({
        "dossiers": items,
        "pagination": {"page": page, "resultats_par_page": per_page, "nombre_de_page": pages},
    }))
    .into_response()
}

async fn detail(State(ds): State<FakeDs>, Path((procedure, ds_id)): Path<(i64, i64)>) -> Response {
    match ds.visible(procedure, ds_id) {
        Some(sim) if sim.dossier.status != Status::Draft => {
            let mut body = render(&sim.dossier);
            if sim.unreadable {
                body["dossier"]["state"] = "en_attente_de_rien".into();
            }
            Json(body).into_response()
        }
        _ => not_found(),
    }
}

/// A dossier as DS v1 shows it.
pub fn render(d: &Dossier) -> Value {
    let champ = |(place, def): (usize, &crate::domain::champs::ChampDef)| {
        let value = d.champs.get(def.slug).filter(|v| !v.is_null())?;
        Some(json!({"value": value, "type_de_champ": {
            "id": 1000 + place, "libelle": def.libelle, "type_champ": "text",
            "description": "", "order_place": place}}))
    };
    let (private, public): (Vec<_>, Vec<_>) =
        CHAMPS.iter().enumerate().partition(|(_, c)| c.private);
    json!({"dossier": {
        "id": d.ds_id.get(),
        "created_at": v1_time(d.created_at),
        "updated_at": v1_time(d.updated_at),
        "archived": d.archived,
        "email": d.email,
        "state": d.status.as_str(),
        "simplified_state": d.status.label(),
        "initiated_at": v1_time(d.initiated_at),
        "received_at": v1_time(d.received_at),
        "processed_at": v1_time(d.processed_at),
        "motivation": null,
        "instructeurs": d.instructeurs,
        "individual": null,
        "entreprise": {"siren": d.siret.as_deref().map(|s| &s[..9.min(s.len())])},
        "etablissement": {"siret": d.siret},
        "cerfa": [],
        "commentaires": super::messages(d).into_iter().map(|(email, at, body)| json!({
            "email": email, "body": body, "created_at": v1_time(Some(at)),
        })).collect::<Vec<_>>(),
        "champs": public.into_iter().filter_map(champ).collect::<Vec<_>>(),
        "champs_private": private.into_iter().filter_map(champ).collect::<Vec<_>>(),
        "pieces_justificatives": [],
        "types_de_piece_justificative": [],
        "avis": [],
    }})
}
