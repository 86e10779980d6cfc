//! The simulator's GraphQL API (v2): a real GraphQL server whose types, fields, arguments and
//! enums are a subset of DS's schema (`tests/fixtures/ds-schema.graphql`), with the same names,
//! so that a query DS would reject is rejected here too. Keyset pagination of at most 100 nodes,
//! `updatedSince`, the deleted lists and DS's error shapes.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_graphql::{
    Context, EmptyMutation, EmptySubscription, Enum, ErrorExtensions, ID, InputValueError,
    InputValueResult, Interface, Object, Scalar, ScalarType, Schema, SimpleObject,
};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use chrono_tz::Europe::Paris;
use serde_json::json;

use super::{FakeDs, SimDossier};
use crate::domain::champs::CHAMPS;
use crate::domain::{Dossier, Status};

pub type DsSchema = Schema<Query, EmptyMutation, EmptySubscription>;

/// DS serves at most this many nodes per page, whatever `first` asks.
const MAX_PAGE: usize = 100;

pub fn schema(ds: FakeDs) -> DsSchema {
    Schema::build(Query, EmptyMutation, EmptySubscription)
        .data(ds)
        .finish()
}

pub fn router(ds: FakeDs) -> Router<FakeDs> {
    Router::new()
        .route("/api/v2/graphql", post(graphql))
        .with_state(schema(ds))
}

/// DS's error document: `{"data": null, "errors": [{"message", "extensions": {"code"}}]}`.
pub fn error_body(code: &str, message: &str) -> Json<serde_json::Value> {
    Json(json!({"data": null, "errors": [{"message": message, "extensions": {"code": code}}]}))
}

async fn graphql(
    State(schema): State<DsSchema>,
    Json(request): Json<async_graphql::Request>,
) -> Response {
    // DS answers a query that does not parse with 400; any other error comes with 200.
    if let Err(error) = async_graphql::parser::parse_query(&request.query) {
        return (
            StatusCode::BAD_REQUEST,
            error_body("syntax_error", &error.to_string()),
        )
            .into_response();
    }
    Json(schema.execute(request).await).into_response()
}

/// `ISO8601DateTime`: second precision, with the Europe/Paris offset, as DS writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DateTimeValue(pub DateTime<Utc>);

#[Scalar(name = "ISO8601DateTime")]
impl ScalarType for DateTimeValue {
    fn parse(value: async_graphql::Value) -> InputValueResult<Self> {
        match &value {
            async_graphql::Value::String(s) => DateTime::parse_from_rfc3339(s)
                .map(|t| DateTimeValue(t.to_utc()))
                .map_err(|_| InputValueError::custom(format!("invalid ISO8601 date-time: {s}"))),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> async_graphql::Value {
        async_graphql::Value::String(
            self.0
                .with_timezone(&Paris)
                .to_rfc3339_opts(SecondsFormat::Secs, false),
        )
    }
}

/// `ISO8601Date`: `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateValue(pub NaiveDate);

#[Scalar(name = "ISO8601Date")]
impl ScalarType for DateValue {
    fn parse(value: async_graphql::Value) -> InputValueResult<Self> {
        match &value {
            async_graphql::Value::String(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(DateValue)
                .map_err(|_| InputValueError::custom(format!("invalid ISO8601 date: {s}"))),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> async_graphql::Value {
        async_graphql::Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(rename_items = "snake_case")]
pub enum DossierState {
    Accepte,
    EnConstruction,
    EnInstruction,
    Refuse,
    SansSuite,
}

impl DossierState {
    fn of(status: Status) -> DossierState {
        match status {
            Status::Draft | Status::Initiated => DossierState::EnConstruction,
            Status::Received => DossierState::EnInstruction,
            Status::Closed => DossierState::Accepte,
            Status::Refused => DossierState::Refuse,
            Status::WithoutContinuation => DossierState::SansSuite,
        }
    }
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Civilite {
    #[graphql(name = "M")]
    M,
    #[graphql(name = "Mme")]
    Mme,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(rename_items = "snake_case")]
pub enum TraitementEvent {
    Depose,
    PasseEnInstruction,
    Accepte,
    Refuse,
    ClasseSansSuite,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(rename_items = "snake_case")]
pub enum DeletedDossierReason {
    Expired,
    UserRequest,
}

pub struct Query;

#[Object]
impl Query {
    /// Informations concernant une démarche.
    async fn demarche(&self, ctx: &Context<'_>, number: i32) -> async_graphql::Result<Demarche> {
        let ds = ctx.data_unchecked::<FakeDs>();
        if ds.procedure() != i64::from(number) {
            return Err(async_graphql::Error::new("Demarche not found")
                .extend_with(|_, e| e.set("code", "not_found")));
        }
        Ok(Demarche { number })
    }
}

pub struct Demarche {
    number: i32,
}

#[Object]
impl Demarche {
    async fn id(&self) -> ID {
        ID(format!("Procedure-{}", self.number))
    }

    async fn number(&self) -> i32 {
        self.number
    }

    /// Liste de tous les dossiers d’une démarche.
    #[allow(clippy::too_many_arguments)]
    async fn dossiers(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        archived: Option<bool>,
        created_since: Option<DateTimeValue>,
        first: Option<i32>,
        state: Option<DossierState>,
        updated_since: Option<DateTimeValue>,
    ) -> async_graphql::Result<DossierConnection> {
        let since = updated_since.map(|t| t.0);
        let ds = ctx.data_unchecked::<FakeDs>();
        // With `updatedSince`, DS orders by update time then id: a dossier changed during the
        // pass moves past the cursor and comes again.
        let key = |d: &Dossier| match since {
            Some(_) => (d.updated_at.unwrap_or_default().timestamp(), d.ds_id.get()),
            None => (0, d.ds_id.get()),
        };
        let after = after.as_deref().map(decode_cursor).transpose()?;
        let (page, has_next_page) = ds.with_dossiers(|all| {
            let listed = |s: &&SimDossier| {
                let d = &s.dossier;
                s.deleted_at.is_none()
                    && d.status != Status::Draft
                    && since.is_none_or(|t| d.updated_at.is_some_and(|u| u >= t))
                    && created_since.is_none_or(|t| d.initiated_at >= Some(t.0))
                    && archived.is_none_or(|a| d.archived == a)
                    && state.is_none_or(|s| DossierState::of(d.status) == s)
            };
            let mut matching: Vec<&Arc<Dossier>> = match since {
                // Ordered by number, as the map: read from the cursor on, one page and one more.
                None => all
                    .range(after.map_or(i64::MIN, |(_, number)| number.saturating_add(1))..)
                    .map(|(_, s)| s)
                    .filter(listed)
                    .take(page_size(first) + 1)
                    .map(|s| &s.dossier)
                    .collect(),
                Some(_) => all
                    .values()
                    .filter(listed)
                    .map(|s| &s.dossier)
                    .filter(|d| after.is_none_or(|a| key(d) > a))
                    .collect(),
            };
            matching.sort_by_key(|d| key(d));
            page_of(&matching, first, |d| GqlDossier::of(d))
        });
        let end_cursor = page.last().map(|d| encode_cursor(key(&d.source)));
        Ok(DossierConnection {
            nodes: Some(page.into_iter().map(Some).collect()),
            page_info: PageInfo::new(end_cursor, has_next_page),
        })
    }

    /// Liste de tous les dossiers supprimés d’une démarche.
    async fn deleted_dossiers(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        deleted_since: Option<DateTimeValue>,
        first: Option<i32>,
    ) -> async_graphql::Result<DeletedDossierConnection> {
        deleted(ctx, true, after, deleted_since, first)
    }

    /// Liste de tous les dossiers en attente de suppression définitive d’une démarche.
    async fn pending_deleted_dossiers(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        deleted_since: Option<DateTimeValue>,
        first: Option<i32>,
    ) -> async_graphql::Result<DeletedDossierConnection> {
        deleted(ctx, false, after, deleted_since, first)
    }
}

/// The deleted dossiers: purged ones (odd numbers) or hidden ones (even numbers).
fn deleted(
    ctx: &Context<'_>,
    purged: bool,
    after: Option<String>,
    since: Option<DateTimeValue>,
    first: Option<i32>,
) -> async_graphql::Result<DeletedDossierConnection> {
    let after = after.as_deref().map(decode_cursor).transpose()?;
    let ds = ctx.data_unchecked::<FakeDs>();
    let key = |s: &SimDossier| {
        (
            s.deleted_at.unwrap_or_default().timestamp(),
            s.dossier.ds_id.get(),
        )
    };
    let (page, has_next_page) = ds.with_dossiers(|all: &BTreeMap<i64, SimDossier>| {
        let mut matching: Vec<&SimDossier> = all
            .values()
            .filter(|s| s.dossier.status != Status::Draft)
            .filter(|s| {
                s.deleted_at
                    .is_some_and(|t| since.is_none_or(|since| t >= since.0))
            })
            .filter(|s| (s.dossier.ds_id.get() % 2 == 1) == purged)
            .filter(|s| after.is_none_or(|a| key(s) > a))
            .collect();
        matching.sort_by_key(|s| key(s));
        page_of(&matching, first, |s| (key(s), DeletedDossier::of(s)))
    });
    let end_cursor = page.last().map(|(key, _)| encode_cursor(*key));
    Ok(DeletedDossierConnection {
        nodes: Some(page.into_iter().map(|(_, d)| Some(d)).collect()),
        page_info: PageInfo::new(end_cursor, has_next_page),
    })
}

/// The first `first` items (at most `MAX_PAGE`), rendered, and whether more follow.
fn page_size(first: Option<i32>) -> usize {
    first.map_or(MAX_PAGE, |f| (f.max(0) as usize).min(MAX_PAGE))
}

fn page_of<T, U>(items: &[T], first: Option<i32>, render: impl Fn(&T) -> U) -> (Vec<U>, bool) {
    let size = page_size(first);
    let page = items.iter().take(size).map(render).collect();
    (page, items.len() > size)
}

/// Cursors are opaque to clients: the sort key of the last node, in hexadecimal.
fn encode_cursor((time, number): (i64, i64)) -> String {
    format!("{time:x}-{number:x}")
}

fn decode_cursor(cursor: &str) -> async_graphql::Result<(i64, i64)> {
    cursor
        .split_once('-')
        .and_then(|(t, n)| {
            Some((
                i64::from_str_radix(t, 16).ok()?,
                i64::from_str_radix(n, 16).ok()?,
            ))
        })
        .ok_or_else(|| async_graphql::Error::new(format!("Invalid cursor: {cursor}")))
}

#[derive(SimpleObject)]
pub struct PageInfo {
    end_cursor: Option<String>,
    has_next_page: bool,
    has_previous_page: bool,
    start_cursor: Option<String>,
}

impl PageInfo {
    fn new(end_cursor: Option<String>, has_next_page: bool) -> PageInfo {
        PageInfo {
            end_cursor,
            has_next_page,
            has_previous_page: false,
            start_cursor: None,
        }
    }
}

/// DS declares its nodes and their list nullable (`[Dossier]`); the simulator never sends a
/// null one.
#[derive(SimpleObject)]
pub struct DossierConnection {
    nodes: Option<Vec<Option<GqlDossier>>>,
    page_info: PageInfo,
}

#[derive(SimpleObject)]
pub struct DeletedDossierConnection {
    nodes: Option<Vec<Option<DeletedDossier>>>,
    page_info: PageInfo,
}

#[derive(SimpleObject)]
pub struct DeletedDossier {
    date_supression: DateTimeValue,
    id: ID,
    number: i32,
    reason: DeletedDossierReason,
    state: DossierState,
}

impl DeletedDossier {
    fn of(s: &SimDossier) -> DeletedDossier {
        let d = &s.dossier;
        DeletedDossier {
            date_supression: DateTimeValue(s.deleted_at.unwrap_or_default()),
            id: dossier_id(d),
            number: d.ds_id.get() as i32,
            reason: match d.status.is_completed() {
                true => DeletedDossierReason::Expired,
                false => DeletedDossierReason::UserRequest,
            },
            state: DossierState::of(d.status),
        }
    }
}

#[derive(SimpleObject)]
pub struct Profile {
    email: String,
    id: ID,
}

#[derive(SimpleObject)]
pub struct Traitement {
    date_traitement: DateTimeValue,
    email_agent_traitant: Option<String>,
    event: TraitementEvent,
    id: ID,
    motivation: Option<String>,
    state: DossierState,
}

#[derive(SimpleObject)]
pub struct Message {
    body: String,
    created_at: DateTimeValue,
    email: String,
    id: ID,
}

#[derive(SimpleObject)]
pub struct Entreprise {
    raison_sociale: String,
    siren: String,
    siret_siege_social: String,
}

#[derive(SimpleObject)]
pub struct PersonnePhysique {
    civilite: Option<Civilite>,
    date_de_naissance: Option<DateValue>,
    email: Option<String>,
    id: ID,
    nom: String,
    prenom: String,
}

#[derive(SimpleObject)]
pub struct PersonneMorale {
    entreprise: Option<Entreprise>,
    id: ID,
    siret: String,
}

#[derive(Interface)]
#[graphql(field(name = "id", ty = "&ID"))]
pub enum Demandeur {
    PersonnePhysique(PersonnePhysique),
    PersonneMorale(PersonneMorale),
}

/// The fields every champ has (the `Champ` interface), then each variant's own.
macro_rules! champ_types {
    ($($name:ident { $($field:ident : $ty:ty),* })*) => {$(
        #[derive(SimpleObject, Clone)]
        pub struct $name {
            champ_descriptor_id: String,
            id: ID,
            label: String,
            prefilled: bool,
            string_value: Option<String>,
            updated_at: DateTimeValue,
            $($field: $ty),*
        }
    )*};
}

champ_types! {
    TextChamp { value: Option<String> }
    DateChamp { date: Option<DateValue> }
    CheckboxChamp { value: bool }
    RepetitionChamp { rows: Vec<Row> }
}

#[derive(SimpleObject, Clone)]
pub struct Row {
    champs: Vec<Champ>,
    id: ID,
}

// Two fields of one type read to clippy as a repeated attribute.
#[allow(clippy::duplicated_attributes)]
#[derive(Interface, Clone)]
#[graphql(
    field(name = "champ_descriptor_id", ty = "&String"),
    field(name = "id", ty = "&ID"),
    field(name = "label", ty = "&String"),
    field(name = "prefilled", ty = "&bool"),
    field(name = "string_value", ty = "&Option<String>"),
    field(name = "updated_at", ty = "&DateTimeValue")
)]
pub enum Champ {
    TextChamp(TextChamp),
    DateChamp(DateChamp),
    CheckboxChamp(CheckboxChamp),
    RepetitionChamp(RepetitionChamp),
}

/// A dossier as the GraphQL API shows it.
pub struct GqlDossier {
    source: Arc<Dossier>,
}

impl GqlDossier {
    fn of(d: &Arc<Dossier>) -> GqlDossier {
        GqlDossier { source: d.clone() }
    }

    fn champ_list(&self, private: bool) -> Vec<Champ> {
        let d = &self.source;
        let updated_at = DateTimeValue(d.updated_at.unwrap_or_default());
        CHAMPS
            .iter()
            .enumerate()
            .filter(|(_, def)| def.private == private)
            .filter_map(|(place, def)| {
                let value = d.champs.get(def.slug)?.as_str()?.to_owned();
                let (champ_descriptor_id, id) = (
                    format!("Champ-{place}"),
                    ID(format!("Champ-{place}-{}", d.ds_id)),
                );
                let label = def.libelle.to_owned();
                // A date DS understood is a `DateChamp`; anything else typed in is text.
                let date = NaiveDate::parse_from_str(&value, "%Y-%m-%d").ok();
                Some(match date {
                    Some(date) => Champ::DateChamp(DateChamp {
                        champ_descriptor_id,
                        id,
                        label,
                        prefilled: false,
                        string_value: Some(french_date(date)),
                        updated_at,
                        date: Some(DateValue(date)),
                    }),
                    None => Champ::TextChamp(TextChamp {
                        champ_descriptor_id,
                        id,
                        label,
                        prefilled: false,
                        string_value: Some(value.clone()),
                        updated_at,
                        value: Some(value),
                    }),
                })
            })
            .collect()
    }
}

#[Object(name = "Dossier")]
impl GqlDossier {
    async fn annotations(&self, id: Option<ID>) -> Vec<Champ> {
        let _ = id;
        self.champ_list(true)
    }

    async fn archived(&self) -> bool {
        self.source.archived
    }

    async fn champs(&self, id: Option<ID>) -> Vec<Champ> {
        let _ = id;
        self.champ_list(false)
    }

    async fn date_depot(&self) -> DateTimeValue {
        DateTimeValue(
            self.source
                .initiated_at
                .or(self.source.created_at)
                .unwrap_or_default(),
        )
    }

    async fn date_derniere_modification(&self) -> DateTimeValue {
        DateTimeValue(self.source.updated_at.unwrap_or_default())
    }

    async fn date_passage_en_construction(&self) -> DateTimeValue {
        DateTimeValue(
            self.source
                .initiated_at
                .or(self.source.created_at)
                .unwrap_or_default(),
        )
    }

    async fn date_passage_en_instruction(&self) -> Option<DateTimeValue> {
        self.source.received_at.map(DateTimeValue)
    }

    async fn date_traitement(&self) -> Option<DateTimeValue> {
        self.source.processed_at.map(DateTimeValue)
    }

    async fn demandeur(&self) -> Demandeur {
        let d = &self.source;
        let id = ID(format!("Individual-{}", d.ds_id));
        match &d.siret {
            Some(siret) => Demandeur::PersonneMorale(PersonneMorale {
                entreprise: Some(Entreprise {
                    raison_sociale: "ENTREPRISE EXEMPLE".into(),
                    siren: siret.chars().take(9).collect(),
                    siret_siege_social: siret.clone(),
                }),
                id,
                siret: siret.clone(),
            }),
            None => Demandeur::PersonnePhysique(PersonnePhysique {
                civilite: None,
                date_de_naissance: d.date_de_naissance.map(DateValue),
                email: d.email.clone(),
                id,
                nom: d.nom.clone().unwrap_or_default(),
                prenom: d.prenom.clone().unwrap_or_default(),
            }),
        }
    }

    async fn id(&self) -> ID {
        dossier_id(&self.source)
    }

    async fn instructeurs(&self) -> Vec<Profile> {
        profiles(&self.source.instructeurs)
    }

    async fn messages(&self, id: Option<ID>) -> Vec<Message> {
        let _ = id;
        super::messages(&self.source)
            .into_iter()
            .enumerate()
            .map(|(i, (email, at, body))| Message {
                body: body.to_owned(),
                created_at: DateTimeValue(at),
                email,
                id: ID(format!("Commentaire-{}-{i}", self.source.ds_id)),
            })
            .collect()
    }

    async fn motivation(&self) -> Option<String> {
        None
    }

    async fn number(&self) -> i32 {
        self.source.ds_id.get() as i32
    }

    async fn state(&self) -> DossierState {
        DossierState::of(self.source.status)
    }

    async fn traitements(&self) -> Vec<Traitement> {
        let d = &self.source;
        let agent = d.instructeurs.first().cloned();
        let decision = match d.status {
            Status::Closed => Some(TraitementEvent::Accepte),
            Status::Refused => Some(TraitementEvent::Refuse),
            Status::WithoutContinuation => Some(TraitementEvent::ClasseSansSuite),
            _ => None,
        };
        let events = [
            (
                d.initiated_at,
                Some(TraitementEvent::Depose),
                DossierState::EnConstruction,
            ),
            (
                d.received_at,
                Some(TraitementEvent::PasseEnInstruction),
                DossierState::EnInstruction,
            ),
            (d.processed_at, decision, DossierState::of(d.status)),
        ];
        events
            .into_iter()
            .enumerate()
            .filter_map(|(i, (at, event, state))| {
                Some(Traitement {
                    date_traitement: DateTimeValue(at?),
                    email_agent_traitant: agent.clone().filter(|_| i > 0),
                    event: event?,
                    id: ID(format!("Traitement-{}-{i}", d.ds_id)),
                    motivation: None,
                    state,
                })
            })
            .collect()
    }

    async fn usager(&self) -> Profile {
        Profile {
            email: self.source.email.clone().unwrap_or_default(),
            id: ID(format!("User-{}", self.source.ds_id)),
        }
    }
}

fn dossier_id(d: &Dossier) -> ID {
    ID(format!("Dossier-{}", d.ds_id))
}

fn profiles(emails: &[String]) -> Vec<Profile> {
    emails
        .iter()
        .enumerate()
        .map(|(i, email)| Profile {
            email: email.clone(),
            id: ID(format!("Instructeur-{i}")),
        })
        .collect()
}

/// A date as DS's `stringValue` writes it: `05 mars 2024`.
fn french_date(date: NaiveDate) -> String {
    use chrono::Datelike;
    format!(
        "{:02} {} {}",
        date.day(),
        crate::web::MONTHS[date.month0() as usize],
        date.year()
    )
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::ds::v2::{DELETED_LISTS, DOSSIERS_QUERY, deleted_query};

    async fn run(ds: &FakeDs, query: &str, variables: Value) -> (Value, Vec<String>) {
        let request = async_graphql::Request::new(query)
            .variables(async_graphql::Variables::from_json(variables));
        let response = schema(ds.clone()).execute(request).await;
        let errors = response.errors.iter().map(|e| e.message.clone()).collect();
        (response.data.into_json().unwrap(), errors)
    }

    fn ds() -> FakeDs {
        FakeDs::new(150, 3, 42, "jeton")
    }

    #[tokio::test]
    async fn the_clients_queries_validate_against_the_schema() {
        let ds = ds();
        let variables = json!({"demarcheNumber": 42, "first": 100, "after": null,
                               "updatedSince": "2020-01-01T00:00:00Z"});
        let (data, errors) = run(&ds, DOSSIERS_QUERY, variables).await;
        assert_eq!(errors, Vec::<String>::new());
        let nodes = data["demarche"]["dossiers"]["nodes"].as_array().unwrap();
        assert_eq!(nodes.len(), 100, "a full page");
        assert!(nodes[0]["champs"].as_array().is_some_and(|c| !c.is_empty()));
        for list in DELETED_LISTS {
            let variables = json!({"demarcheNumber": 42, "first": 100, "deletedSince": null});
            let (data, errors) = run(&ds, &deleted_query(list), variables).await;
            assert_eq!(errors, Vec::<String>::new(), "{list}");
            assert!(data["demarche"][list]["nodes"].is_array());
        }
    }

    #[tokio::test]
    async fn queries_ds_would_reject_are_rejected() {
        let ds = ds();
        for query in [
            // `nom` belongs to the demandeur, not to the dossier.
            "{ demarche(number: 42) { dossiers { nodes { nom } } } }",
            // `number` is required.
            "{ demarche { number } }",
            // `first` is an Int.
            r#"{ demarche(number: 42) { dossiers(first: "cent") { nodes { id } } } }"#,
            // Not an ISO 8601 date-time.
            r#"{ demarche(number: 42) { dossiers(updatedSince: "hier") { nodes { id } } } }"#,
            // `date` exists on DateChamp only.
            "{ demarche(number: 42) { dossiers { nodes { champs { label date } } } } }",
            // Enum values are DS's, not v1's.
            "{ demarche(number: 42) { dossiers(state: closed) { nodes { id } } } }",
        ] {
            let (_, errors) = run(&ds, query, json!({})).await;
            assert!(!errors.is_empty(), "accepted: {query}");
        }
    }

    #[tokio::test]
    async fn pages_follow_the_cursor_and_never_exceed_100() {
        let ds = ds();
        let query = "query($after: String) { demarche(number: 42) { dossiers(first: 500, after: $after) { \
                     pageInfo { hasNextPage endCursor } nodes { number } } } }";
        let (first, _) = run(&ds, query, json!({})).await;
        let page = &first["demarche"]["dossiers"];
        assert_eq!(page["nodes"].as_array().unwrap().len(), 100);
        assert_eq!(page["pageInfo"]["hasNextPage"], true);
        let (second, _) = run(&ds, query, json!({"after": page["pageInfo"]["endCursor"]})).await;
        let rest = &second["demarche"]["dossiers"];
        assert_eq!(rest["pageInfo"]["hasNextPage"], false);
        let numbers = |page: &Value| -> Vec<i64> {
            page["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["number"].as_i64().unwrap())
                .collect()
        };
        let (a, b) = (numbers(page), numbers(rest));
        assert!(a.last() < b.first(), "keyset order, no overlap");
        let non_drafts = ds
            .dossiers()
            .iter()
            .filter(|d| d.status != Status::Draft)
            .count();
        assert_eq!(a.len() + b.len(), non_drafts);
    }

    #[tokio::test]
    async fn an_unknown_demarche_is_not_found_with_null_data() {
        let request = async_graphql::Request::new("{ demarche(number: 7) { number } }");
        let response = schema(ds()).execute(request).await;
        let body = serde_json::to_value(&response).unwrap();
        assert_eq!(body["data"], Value::Null);
        assert_eq!(body["errors"][0]["extensions"]["code"], "not_found");
    }
}
