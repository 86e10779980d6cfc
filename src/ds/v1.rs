//! The legacy REST API (v1): a paginated list of dossiers, then each dossier's detail.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{DsClient, DsError};
use crate::domain::dates::parse_timestamp;

pub const PAGE_SIZE: u32 = 1000;

/// A dossier as the list shows it: enough to know whether its detail must be fetched.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub id: i64,
    pub updated_at: Option<DateTime<Utc>>,
}

/// One page of the list, and how many pages there are.
pub async fn list_page(
    client: &DsClient,
    procedure: i64,
    page: u32,
) -> Result<(Vec<Listed>, u32), DsError> {
    let path = format!(
        "/api/v1/procedures/{procedure}/dossiers?page={page}&resultats_par_page={PAGE_SIZE}&order=asc"
    );
    let body = client
        .get_json(&path)
        .await?
        .ok_or(DsError::ProcedureNotFound(procedure))?;
    let pages = body
        .pointer("/pagination/nombre_de_page")
        .and_then(Value::as_u64)
        .unwrap_or(1) as u32;
    let items = body
        .get("dossiers")
        .and_then(Value::as_array)
        .ok_or_else(|| DsError::Invalid("la liste n'a pas de « dossiers »".into()))?;
    let listed = items
        .iter()
        .filter_map(|item| {
            Some(Listed {
                id: item.get("id")?.as_i64()?,
                updated_at: item
                    .get("updated_at")
                    .and_then(Value::as_str)
                    .and_then(parse_timestamp),
            })
        })
        .collect();
    Ok((listed, pages))
}

/// The detail of one dossier, `{"dossier": {…}}` as DS sent it; `None` if it vanished meanwhile.
pub async fn dossier(client: &DsClient, procedure: i64, id: i64) -> Result<Option<Value>, DsError> {
    client
        .get_json(&format!("/api/v1/procedures/{procedure}/dossiers/{id}"))
        .await
}
