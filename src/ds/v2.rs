//! The GraphQL API (v2): dossiers changed since a date, page by page with a cursor, and the
//! dossiers deleted since a date. An answer carrying `errors` is never taken as a page.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::{DsClient, DsError};

/// At most this many dossiers per page (DS caps `first` at 100).
pub const PAGE_SIZE: u32 = 100;

/// Every field the sync stores, for dossiers and for the champs of their repetitions.
pub const DOSSIERS_QUERY: &str = r#"
query getDossiers($demarcheNumber: Int!, $first: Int, $after: String, $updatedSince: ISO8601DateTime) {
  demarche(number: $demarcheNumber) {
    number
    dossiers(first: $first, after: $after, updatedSince: $updatedSince) {
      pageInfo { hasNextPage endCursor }
      nodes { ...DossierFields }
    }
  }
}

fragment DossierFields on Dossier {
  id
  number
  state
  archived
  dateDepot
  datePassageEnConstruction
  datePassageEnInstruction
  dateTraitement
  dateDerniereModification
  motivation
  usager { email }
  instructeurs { email }
  traitements { event emailAgentTraitant dateTraitement motivation }
  demandeur {
    __typename
    ... on PersonnePhysique { civilite nom prenom dateDeNaissance }
    ... on PersonneMorale { siret entreprise { siren raisonSociale } }
  }
  champs { ...ChampFields ...RepetitionFields }
  annotations { ...ChampFields ...RepetitionFields }
  messages { email createdAt }
}

fragment ChampFields on Champ {
  __typename
  id
  champDescriptorId
  label
  stringValue
  updatedAt
  ... on DateChamp { date }
  ... on CheckboxChamp { checked: value }
}

fragment RepetitionFields on RepetitionChamp {
  rows { id champs { ...ChampFields } }
}
"#;

/// The lists of dossiers DS has deleted (`deletedDossiers`) or hidden before deleting them
/// (`pendingDeletedDossiers`).
pub const DELETED_LISTS: [&str; 2] = ["deletedDossiers", "pendingDeletedDossiers"];

/// The query reading one page of the deleted list `list`.
pub fn deleted_query(list: &str) -> String {
    format!(
        "query getDeletedDossiers($demarcheNumber: Int!, $first: Int, $after: String, $deletedSince: ISO8601DateTime) {{
  demarche(number: $demarcheNumber) {{
    {list}(first: $first, after: $after, deletedSince: $deletedSince) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ id number dateSupression state reason }}
    }}
  }}
}}"
    )
}

/// One page of a connection.
#[derive(Debug)]
pub struct Page {
    pub nodes: Vec<Value>,
    pub end_cursor: Option<String>,
    pub has_next_page: bool,
}

/// The dossiers updated since `since` (all of them when `None`), after `cursor`.
pub async fn dossiers_page(
    client: &DsClient,
    procedure: i64,
    since: Option<DateTime<Utc>>,
    cursor: Option<&str>,
) -> Result<Page, DsError> {
    let variables = json!({
        "demarcheNumber": procedure,
        "first": PAGE_SIZE,
        "after": cursor,
        "updatedSince": since.map(iso8601),
    });
    let data = query(client, procedure, DOSSIERS_QUERY, variables).await?;
    connection(&data, "/demarche/dossiers")
}

/// The numbers of the dossiers deleted or hidden since `since`, every page of both lists read.
pub async fn deleted_numbers(
    client: &DsClient,
    procedure: i64,
    since: Option<DateTime<Utc>>,
) -> Result<Vec<i64>, DsError> {
    let mut numbers = Vec::new();
    for list in DELETED_LISTS {
        let text = deleted_query(list);
        let mut cursor: Option<String> = None;
        loop {
            let variables = json!({
                "demarcheNumber": procedure,
                "first": PAGE_SIZE,
                "after": cursor,
                "deletedSince": since.map(iso8601),
            });
            let data = query(client, procedure, &text, variables).await?;
            let page = connection(&data, &format!("/demarche/{list}"))?;
            numbers.extend(page.nodes.iter().filter_map(|n| n.get("number")?.as_i64()));
            if !page.has_next_page || page.end_cursor.is_none() {
                break;
            }
            cursor = page.end_cursor;
        }
    }
    Ok(numbers)
}

/// Sends a query and returns its `data`, or the error its `errors` entry means.
async fn query(
    client: &DsClient,
    procedure: i64,
    text: &str,
    variables: Value,
) -> Result<Value, DsError> {
    let body = json!({"query": text, "variables": variables});
    let answer = client
        .post_json("/api/v2/graphql", &body)
        .await?
        .ok_or_else(|| {
            DsError::Invalid("l'adresse de l'API GraphQL est introuvable (HTTP 404)".into())
        })?;
    if let Some(error) = answer
        .get("errors")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        let code = error
            .pointer("/extensions/code")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_default();
        return Err(match code {
            "not_found" => DsError::ProcedureNotFound(procedure),
            "unauthorized" | "forbidden" => DsError::Unauthorized(403),
            _ => DsError::Invalid(format!("erreur GraphQL « {message} » ({code})")),
        });
    }
    answer
        .get("data")
        .filter(|d| !d.is_null())
        .cloned()
        .ok_or_else(|| DsError::Invalid("réponse GraphQL sans « data »".into()))
}

fn connection(data: &Value, path: &str) -> Result<Page, DsError> {
    let missing = || DsError::Invalid(format!("réponse GraphQL sans « {path} »"));
    let connection = data.pointer(path).ok_or_else(missing)?;
    let nodes = connection
        .get("nodes")
        .and_then(Value::as_array)
        .ok_or_else(missing)?
        .clone();
    Ok(Page {
        nodes,
        end_cursor: connection
            .pointer("/pageInfo/endCursor")
            .and_then(Value::as_str)
            .map(str::to_owned),
        has_next_page: connection
            .pointer("/pageInfo/hasNextPage")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}

/// A date-time as GraphQL's `ISO8601DateTime` reads it.
fn iso8601(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}
