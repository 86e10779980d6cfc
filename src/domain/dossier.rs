//! A dossier as the back office stores it, read from either DS API (SPEC 4.1).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

use super::champs::{CHAMPS, ChampDef, DATE_SLUGS, champ_for_label, champ_for_slug};
use super::dates::{parse_date, parse_timestamp};
use super::status::Status;

/// A DS dossier number: 1 to 19 digits, positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DsId(i64);

impl DsId {
    pub fn new(id: i64) -> Option<DsId> {
        (id > 0).then_some(DsId(id))
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

impl FromStr for DsId {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(());
        }
        s.parse().ok().and_then(DsId::new).ok_or(())
    }
}

impl fmt::Display for DsId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Which DS API a dossier was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    V1,
    V2,
}

impl ApiVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiVersion::V1 => "v1",
            ApiVersion::V2 => "v2",
        }
    }
}

impl FromStr for ApiVersion {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "v1" => Ok(ApiVersion::V1),
            "v2" => Ok(ApiVersion::V2),
            _ => Err(()),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dossier {
    pub ds_id: DsId,
    pub procedure_id: i64,
    pub status: Status,
    pub created_at: Option<DateTime<Utc>>,
    pub initiated_at: Option<DateTime<Utc>>,
    pub received_at: Option<DateTime<Utc>>,
    pub processed_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub archived: bool,
    pub email: Option<String>,
    pub instructeurs: Vec<String>,
    pub siret: Option<String>,
    /// Every slug of `CHAMPS`, `null` when the dossier does not have it.
    pub champs: BTreeMap<String, Value>,
    pub department: Option<String>,
    pub nationalite: Option<String>,
    pub nom: Option<String>,
    pub prenom: Option<String>,
    pub date_de_naissance: Option<NaiveDate>,
    pub date_de_debut_apt: Option<NaiveDate>,
    pub date_de_fin_apt: Option<NaiveDate>,
    pub date_dexpiration_titre_sejour: Option<NaiveDate>,
    /// When the applicant last wrote a message on DS (its text is never kept).
    pub applicant_message_at: Option<DateTime<Utc>>,
    /// What could not be read, in French, for the agents.
    pub warnings: Vec<String>,
    /// The document exactly as DS returned it.
    pub raw: Value,
    pub api_version: ApiVersion,
}

/// A DS document that cannot be read as a dossier: it is skipped, the others are kept.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("dossier {}: {reason}", ds_id.map_or("sans numéro".to_owned(), |id| id.to_string()))]
pub struct DossierError {
    pub ds_id: Option<i64>,
    pub reason: String,
}

impl Dossier {
    /// A dossier with nothing known but its identity: no dates, no champs, no raw document.
    pub fn new(ds_id: DsId, procedure_id: i64, status: Status, api_version: ApiVersion) -> Dossier {
        Dossier {
            ds_id,
            procedure_id,
            status,
            created_at: None,
            initiated_at: None,
            received_at: None,
            processed_at: None,
            updated_at: None,
            archived: false,
            email: None,
            instructeurs: Vec::new(),
            siret: None,
            champs: BTreeMap::new(),
            department: None,
            nationalite: None,
            nom: None,
            prenom: None,
            date_de_naissance: None,
            date_de_debut_apt: None,
            date_de_fin_apt: None,
            date_dexpiration_titre_sejour: None,
            applicant_message_at: None,
            warnings: Vec::new(),
            raw: Value::Null,
            api_version,
        }
    }

    /// How long the dossier took to be processed (SPEC 5.2), in milliseconds (truncated): from
    /// dépôt to decision, or from creation to the last update when either is missing. Defined
    /// whatever the status; the statistics count it for accepted dossiers only.
    pub fn processing_ms(&self) -> Option<i64> {
        let (start, end) = match (self.initiated_at, self.processed_at) {
            (Some(start), Some(end)) => (start, end),
            _ => (self.created_at?, self.updated_at?),
        };
        Some((end - start).num_milliseconds())
    }

    /// Reads a DS v1 dossier, `{"dossier": {…}}` or the inner object.
    pub fn from_v1(procedure_id: i64, mut raw: Value) -> Result<Dossier, DossierError> {
        strip_nul(&mut raw);
        forget_message_texts(raw.get_mut("dossier"), "commentaires");
        let d = raw.get("dossier").unwrap_or(&raw);
        let ds_id = d.get("id").and_then(Value::as_i64);
        let fail = |reason: String| DossierError { ds_id, reason };
        if !d.is_object() {
            return Err(fail("le document n'est pas un objet JSON".into()));
        }
        let ds_id = ds_id
            .and_then(DsId::new)
            .ok_or_else(|| fail("numéro « id » absent ou invalide".into()))?;
        let state = d.get("state").and_then(Value::as_str).unwrap_or_default();
        let status =
            Status::from_v1(state).ok_or_else(|| fail(format!("état « {state} » inconnu")))?;
        let timestamp = |key: &str| timestamp_field(d, key).map_err(fail);

        let mut labelled = Vec::new();
        for key in ["champs", "champs_private"] {
            for item in list_field(d, key).map_err(fail)? {
                let label = item
                    .pointer("/type_de_champ/libelle")
                    .and_then(Value::as_str);
                if let Some(champ) = label.and_then(champ_for_label) {
                    labelled.push((champ, item.get("value").cloned().unwrap_or(Value::Null)));
                }
            }
        }
        let instructeurs = match d.get("instructeurs") {
            Some(list) if !list.is_null() => list,
            _ => d.get("accompagnateurs").unwrap_or(&Value::Null),
        };

        let dossier = Dossier {
            created_at: timestamp("created_at")?,
            initiated_at: timestamp("initiated_at")?,
            received_at: timestamp("received_at")?,
            processed_at: timestamp("processed_at")?,
            updated_at: timestamp("updated_at")?,
            archived: d.get("archived").and_then(Value::as_bool).unwrap_or(false),
            email: d.get("email").and_then(text),
            instructeurs: emails(instructeurs),
            siret: d.pointer("/etablissement/siret").and_then(text),
            applicant_message_at: applicant_message_at(d, "commentaires", "created_at"),
            ..Dossier::new(ds_id, procedure_id, status, ApiVersion::V1)
        };
        Ok(dossier.with_champs(labelled, raw))
    }

    /// Reads a DS v2 (GraphQL) `Dossier` node.
    pub fn from_v2(procedure_id: i64, mut raw: Value) -> Result<Dossier, DossierError> {
        strip_nul(&mut raw);
        forget_message_texts(Some(&mut raw), "messages");
        let d = &raw;
        let ds_id = d.get("number").and_then(Value::as_i64);
        let fail = |reason: String| DossierError { ds_id, reason };
        if !d.is_object() {
            return Err(fail("le document n'est pas un objet JSON".into()));
        }
        let ds_id = ds_id
            .and_then(DsId::new)
            .ok_or_else(|| fail("numéro « number » absent ou invalide".into()))?;
        let state = d.get("state").and_then(Value::as_str).unwrap_or_default();
        let status =
            Status::from_v2(state).ok_or_else(|| fail(format!("état « {state} » inconnu")))?;
        let timestamp = |key: &str| timestamp_field(d, key).map_err(fail);

        let mut labelled = Vec::new();
        for key in ["champs", "annotations"] {
            for item in list_field(d, key).map_err(fail)? {
                let label = item.get("label").and_then(Value::as_str);
                if let Some(champ) = label.and_then(champ_for_label) {
                    labelled.push((champ, v2_champ_value(item)));
                }
            }
        }
        let demandeur = d.get("demandeur").unwrap_or(&Value::Null);
        let personne_physique =
            demandeur.get("__typename").and_then(Value::as_str) == Some("PersonnePhysique");
        let depot = timestamp("dateDepot")?;

        let dossier = Dossier {
            created_at: depot,
            initiated_at: depot,
            received_at: timestamp("datePassageEnInstruction")?,
            processed_at: timestamp("dateTraitement")?,
            updated_at: timestamp("dateDerniereModification")?,
            archived: d.get("archived").and_then(Value::as_bool).unwrap_or(false),
            email: d.pointer("/usager/email").and_then(text),
            instructeurs: emails(d.get("instructeurs").unwrap_or(&Value::Null)),
            siret: demandeur.get("siret").and_then(text),
            applicant_message_at: applicant_message_at(d, "messages", "createdAt"),
            ..Dossier::new(ds_id, procedure_id, status, ApiVersion::V2)
        };
        if personne_physique {
            // The identity champs may be missing when the form relies on the account's identity.
            for (slug, key) in [
                ("nom", "nom"),
                ("prenom", "prenom"),
                ("date_de_naissance", "dateDeNaissance"),
            ] {
                let has_champ = labelled
                    .iter()
                    .any(|(champ, value)| !value.is_null() && champ.slug == slug);
                if let (false, Some(value), Some(champ)) =
                    (has_champ, demandeur.get(key), champ_for_slug(slug))
                {
                    labelled.push((champ, value.clone()));
                }
            }
        }
        Ok(dossier.with_champs(labelled, raw))
    }

    /// Fills the champs map and the typed columns from `(champ, value)` pairs, in DS order: a
    /// later pair (a private annotation) wins over an earlier one for the same champ.
    pub(crate) fn with_champs(
        mut self,
        labelled: Vec<(&'static ChampDef, Value)>,
        raw: Value,
    ) -> Dossier {
        let mut champs: BTreeMap<String, Value> = CHAMPS
            .iter()
            .map(|c| (c.slug.to_owned(), Value::Null))
            .collect();
        for (champ, value) in labelled {
            champs.insert(champ.slug.to_owned(), value);
        }

        let mut warnings = Vec::new();
        let mut dates = BTreeMap::new();
        for slug in DATE_SLUGS {
            let value = &champs[slug];
            let date = value.as_str().and_then(parse_date);
            if date.is_none() && text(value).is_some() {
                let label = champ_for_slug(slug).map_or(slug, |c| c.libelle);
                warnings.push(format!(
                    "« {label} » : la valeur « {} » n'est pas une date (attendu AAAA-MM-JJ ou JJ/MM/AAAA)",
                    text(value).unwrap_or_default()
                ));
            }
            dates.insert(slug, date);
        }

        self.department = text(&champs["departement_titre_de_sejour"]);
        self.nationalite = text(&champs["nationalite"]);
        self.nom = text(&champs["nom"]);
        self.prenom = text(&champs["prenom"]);
        self.date_de_naissance = dates["date_de_naissance"];
        self.date_de_debut_apt = dates["date_de_debut_apt"];
        self.date_de_fin_apt = dates["date_de_fin_apt"];
        self.date_dexpiration_titre_sejour = dates["date_dexpiration_titre_sejour"];
        self.champs = champs;
        self.warnings = warnings;
        self.raw = raw;
        self
    }
}

/// Removes the NUL characters of every string and key of a DS document: JSON allows them
/// (`\u0000`), PostgreSQL stores them neither in `text` nor in `jsonb`, and no champ needs one.
fn strip_nul(value: &mut Value) {
    match value {
        Value::String(text) => text.retain(|c| c != '\0'),
        Value::Array(items) => items.iter_mut().for_each(strip_nul),
        Value::Object(map) => {
            if map.keys().any(|key| key.contains('\0')) {
                *map = std::mem::take(map)
                    .into_iter()
                    .map(|(mut key, item)| {
                        key.retain(|c| c != '\0');
                        (key, item)
                    })
                    .collect();
            }
            map.values_mut().for_each(strip_nul);
        }
        _ => {}
    }
}

/// The value of a v2 champ: the ISO date of a `DateChamp`, the boolean of a checkbox
/// (queried as `checked: value`), otherwise its `stringValue`.
fn v2_champ_value(champ: &Value) -> Value {
    let key = match champ.get("__typename").and_then(Value::as_str) {
        Some("DateChamp") => "date",
        Some("CheckboxChamp") => "checked",
        _ => "stringValue",
    };
    champ.get(key).cloned().unwrap_or(Value::Null)
}

/// A non-empty trimmed text, from a JSON string or number.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// E-mails from a list of strings (v1) or of `{"email": …}` objects (v1 and v2).
fn emails(list: &Value) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| item.get("email").unwrap_or(item).as_str())
        .map(str::to_owned)
        .collect()
}

/// Removes the text of every message of `d[key]`: only senders and dates are kept (SPEC 9.1).
fn forget_message_texts(d: Option<&mut Value>, key: &str) {
    let messages = d.and_then(|d| d.get_mut(key)).and_then(Value::as_array_mut);
    for message in messages.into_iter().flatten() {
        if let Some(message) = message.as_object_mut() {
            message.remove("body");
        }
    }
}

/// When the applicant last wrote, among the messages of `d[key]` dated by `date_key`; a message
/// without a readable sender or date is not theirs as far as we know.
fn applicant_message_at(d: &Value, key: &str, date_key: &str) -> Option<DateTime<Utc>> {
    let applicant = d
        .pointer("/usager/email")
        .or_else(|| d.get("email"))
        .and_then(Value::as_str);
    let messages = d.get(key).and_then(Value::as_array).into_iter().flatten();
    super::alerts::applicant_message_at(
        applicant,
        messages.filter_map(|m| {
            let sender = m.get("email")?.as_str()?;
            let at = parse_timestamp(m.get(date_key)?.as_str()?)?;
            Some((sender, at))
        }),
    )
}

fn timestamp_field(d: &Value, key: &str) -> Result<Option<DateTime<Utc>>, String> {
    match d.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => parse_timestamp(s)
            .map(Some)
            .ok_or_else(|| format!("horodatage « {key} » illisible : « {s} »")),
        Some(other) => Err(format!("horodatage « {key} » illisible : {other}")),
    }
}

fn list_field<'a>(d: &'a Value, key: &str) -> Result<&'a [Value], String> {
    match d.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(format!("« {key} » n'est pas une liste")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fixture(name: &str) -> Value {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    fn at(rfc3339: &str) -> Option<DateTime<Utc>> {
        parse_timestamp(rfc3339)
    }

    #[test]
    fn processing_runs_from_depot_to_decision_else_creation_to_update() {
        let mut d = Dossier::new(DsId::new(1).unwrap(), 1, Status::Closed, ApiVersion::V1);
        assert_eq!(d.processing_ms(), None);
        d.created_at = at("2024-04-01T10:00:00Z");
        d.updated_at = at("2024-04-03T10:00:00.0009Z");
        assert_eq!(
            d.processing_ms(),
            Some(172_800_000),
            "truncated to the millisecond"
        );
        d.initiated_at = at("2024-04-02T10:00:00Z");
        assert_eq!(
            d.processing_ms(),
            Some(172_800_000),
            "no decision: the fallback"
        );
        d.processed_at = at("2024-04-01T10:00:00.0004Z");
        assert_eq!(
            d.processing_ms(),
            Some(-86_399_999),
            "towards zero when negative"
        );
    }

    #[test]
    fn reads_a_v1_dossier() {
        let raw = fixture("dossier_v1.json");
        let d = Dossier::from_v1(1234, raw.clone()).unwrap();
        assert_eq!(d.ds_id.get(), 44950);
        assert_eq!(d.procedure_id, 1234);
        assert_eq!(d.status, Status::Closed);
        assert_eq!(d.created_at, at("2018-03-27T08:49:51.491Z"));
        assert_eq!(d.initiated_at, at("2018-03-27T08:51:02.120Z"));
        assert_eq!(d.received_at, at("2018-03-27T09:01:44Z"));
        assert_eq!(d.processed_at, at("2018-03-27T09:15:10.700Z"));
        assert_eq!(d.updated_at, at("2018-03-27T09:15:10.780Z"));
        assert!(!d.archived);
        assert_eq!(d.email.as_deref(), Some("emma.zhang@example.org"));
        // Old payloads call the instructeurs `accompagnateurs`.
        assert_eq!(
            d.instructeurs,
            ["agent.paris@direccte.gouv.fr", "chef.ud75@direccte.gouv.fr"]
        );
        assert_eq!(d.siret.as_deref(), Some("52222222222222"));
        assert_eq!(d.department.as_deref(), Some("75 - Paris"));
        assert_eq!(d.nationalite.as_deref(), Some("CHINE"));
        assert_eq!(d.nom.as_deref(), Some("Zhang"));
        assert_eq!(d.prenom.as_deref(), Some("Emma Louise"));
        assert_eq!(d.date_de_naissance, date(1978, 12, 20));
        assert_eq!(d.date_de_debut_apt, date(2018, 3, 27));
        assert_eq!(d.date_de_fin_apt, date(2018, 5, 10));
        // Typed as DD/MM/YYYY, under a label with a straight apostrophe.
        assert_eq!(d.date_dexpiration_titre_sejour, date(2019, 9, 30));
        assert_eq!(d.warnings, Vec::<String>::new());
        assert_eq!(d.api_version, ApiVersion::V1);
        assert_eq!(d.applicant_message_at, None);
        let mut expected = raw;
        expected["dossier"]["commentaires"][0]
            .as_object_mut()
            .unwrap()
            .remove("body");
        assert_eq!(d.raw, expected);
    }

    #[test]
    fn v1_champs_map_has_all_35_slugs_with_raw_values() {
        let d = Dossier::from_v1(1234, fixture("dossier_v1.json")).unwrap();
        assert_eq!(d.champs.len(), 35);
        assert_eq!(d.champs["nombre_dheures"], json!(20));
        assert_eq!(d.champs["salaire_brut"], json!("1 250,50"));
        assert_eq!(d.champs["prenom"], json!(" Emma Louise    "));
        assert_eq!(
            d.champs["date_dexpiration_titre_sejour"],
            json!("30/09/2019")
        );
        assert_eq!(
            d.champs["reference_de_lancienne_autorisation_de_travail"],
            json!("")
        );
        assert_eq!(d.champs["cadre_reserve_a_ladministration"], Value::Null);
        assert_eq!(d.champs["date_de_fin_apt"], json!("2018-05-10"));
        assert_eq!(
            d.champs["e_mail_de_lemployeur"],
            json!("rh@boulangerie-exemple.fr")
        );
        assert!(!d.champs.contains_key("piece_didentite"));
    }

    #[test]
    fn reads_a_v2_dossier() {
        let raw = fixture("dossier_v2.json");
        let d = Dossier::from_v2(5678, raw.clone()).unwrap();
        assert_eq!(d.ds_id.get(), 184023);
        assert_eq!(d.status, Status::Closed);
        // v2 has no creation time: the dépôt stands for it.
        assert_eq!(d.created_at, at("2024-03-05T13:12:31Z"));
        assert_eq!(d.initiated_at, d.created_at);
        assert_eq!(d.received_at, at("2024-03-06T08:00:00Z"));
        assert_eq!(d.processed_at, at("2024-03-20T15:45:10Z"));
        assert_eq!(d.updated_at, at("2024-03-21T07:30:00Z"));
        assert!(d.archived);
        assert_eq!(d.email.as_deref(), Some("anh.nguyen@example.org"));
        assert_eq!(d.instructeurs, ["instructeur.ud69@dreets.gouv.fr"]);
        assert_eq!(d.siret.as_deref(), Some("41816609600069"));
        assert_eq!(d.department.as_deref(), Some("69 – Rhône"));
        assert_eq!(d.nationalite.as_deref(), Some("VIET NAM"));
        assert_eq!(d.nom.as_deref(), Some("Nguye\u{302}\u{303}n"));
        assert_eq!(d.prenom.as_deref(), Some("Thị Ánh"));
        assert_eq!(d.date_de_naissance, date(2001, 7, 14));
        assert_eq!(d.date_de_debut_apt, date(2024, 4, 1));
        assert_eq!(d.date_de_fin_apt, date(2024, 9, 30));
        assert_eq!(d.date_dexpiration_titre_sejour, date(2025, 1, 15));
        assert_eq!(d.warnings, Vec::<String>::new());
        assert_eq!(d.api_version, ApiVersion::V2);
        // The only message is DS's own, not the applicant's.
        assert_eq!(d.applicant_message_at, None);
        let mut expected = raw;
        expected["messages"][0]
            .as_object_mut()
            .unwrap()
            .remove("body");
        assert_eq!(d.raw, expected);
    }

    #[test]
    fn keeps_when_the_applicant_wrote_never_what() {
        let mut v2 = fixture("dossier_v2.json");
        v2["messages"].as_array_mut().unwrap().extend([
            json!({"email": "ANH.NGUYEN@example.org", "body": "Merci !", "createdAt": "2024-03-21T09:00:00+01:00"}),
            json!({"email": "anh.nguyen@example.org", "body": "Bonjour", "createdAt": "2024-03-05T14:00:00+01:00"}),
            json!({"email": "anh.nguyen@example.org", "createdAt": "pas une date"}),
        ]);
        let d = Dossier::from_v2(5678, v2).unwrap();
        assert_eq!(d.applicant_message_at, at("2024-03-21T08:00:00Z"));
        assert!(!d.raw.to_string().contains("Merci"));

        let mut v1 = fixture("dossier_v1.json");
        v1["dossier"]["commentaires"].as_array_mut().unwrap().push(
            json!({"email": "emma.zhang@example.org", "body": "Une question", "created_at": "2018-03-28T10:00:00.000Z"}),
        );
        let d = Dossier::from_v1(1234, v1).unwrap();
        assert_eq!(d.applicant_message_at, at("2018-03-28T10:00:00Z"));
        assert!(!d.raw.to_string().contains("question"));
        assert!(!d.raw.to_string().contains("Bonjour"));
    }

    #[test]
    fn v2_values_follow_the_champ_type() {
        let d = Dossier::from_v2(5678, fixture("dossier_v2.json")).unwrap();
        assert_eq!(d.champs.len(), 35);
        // A DateChamp gives its ISO date, not the localised stringValue.
        assert_eq!(d.champs["date_de_debut"], json!("2024-04-01"));
        assert_eq!(d.champs["date_de_naissance"], json!("2001-07-14"));
        assert_eq!(d.champs["nombre_dheures"], json!("18"));
        assert_eq!(d.champs["informations_sur_le_contrat"], Value::Null);
        assert_eq!(
            d.champs["reference_de_lancienne_autorisation_de_travail"],
            json!("APT-2023-0042")
        );
        assert_eq!(d.champs["date_de_fin_apt"], json!("2024-09-30"));
        assert_eq!(
            v2_champ_value(
                &json!({"__typename": "CheckboxChamp", "stringValue": "Oui", "checked": true})
            ),
            json!(true)
        );
    }

    #[test]
    fn missing_champs_give_null_and_never_fail() {
        let v1 = json!({"dossier": {"id": 7, "state": "initiated", "champs": [], "champs_private": null}});
        let d = Dossier::from_v1(1, v1).unwrap();
        assert_eq!(d.champs.len(), 35);
        assert!(d.champs.values().all(Value::is_null));
        assert_eq!((d.nom, d.date_de_fin_apt, d.department), (None, None, None));
        assert_eq!(d.created_at, None);
        assert!(d.warnings.is_empty());

        let v2 = json!({"number": 8, "state": "en_construction"});
        let d = Dossier::from_v2(1, v2).unwrap();
        assert_eq!(d.status, Status::Initiated);
        assert!(d.champs.values().all(Value::is_null));
    }

    #[test]
    fn nul_characters_are_removed_everywhere_in_both_apis() {
        let mut v1 = fixture("dossier_v1.json");
        v1["dossier"]["email"] = Value::from("ab\u{0}c@example.org");
        v1["dossier"]["extra\u{0}key"] = Value::from(vec!["x\u{0}y"]);
        let d = Dossier::from_v1(1234, v1).unwrap();
        assert_eq!(d.email.as_deref(), Some("abc@example.org"));
        assert!(!d.raw.to_string().contains("\\u0000"));
        assert_eq!(d.raw["dossier"]["extrakey"][0], "xy");

        let mut v2 = fixture("dossier_v2.json");
        v2["usager"]["email"] = Value::from("\u{0}jean@example.org");
        v2["champs"][0]["label"] = Value::from("N\u{0}om");
        let d = Dossier::from_v2(5678, v2).unwrap();
        assert_eq!(d.email.as_deref(), Some("jean@example.org"));
        assert!(!d.raw.to_string().contains("\\u0000"));
        assert!(
            serde_json::to_string(&d.champs)
                .unwrap()
                .find('\0')
                .is_none()
        );
    }

    #[test]
    fn invalid_dates_keep_the_raw_value_and_warn() {
        let champ = |label: &str, value: Value| json!({"value": value, "type_de_champ": {"libelle": label}});
        let v1 = json!({"dossier": {"id": 9, "state": "received", "champs": [
            champ("Date de naissance", json!("31/02/2001")),
            champ("Date d’expiration", json!("bientôt")),
            champ("Date de début", json!(20240101)),
            champ("Nom", json!(null)),
        ], "champs_private": [champ("Date de fin APT", json!("2024-13-01"))]}});
        let d = Dossier::from_v1(1, v1).unwrap();
        assert_eq!(d.date_de_naissance, None);
        assert_eq!(d.date_dexpiration_titre_sejour, None);
        assert_eq!(d.date_de_fin_apt, None);
        assert_eq!(d.champs["date_de_naissance"], json!("31/02/2001"));
        assert_eq!(d.champs["date_dexpiration_titre_sejour"], json!("bientôt"));
        assert_eq!(d.champs["nom"], Value::Null);
        assert_eq!(d.warnings.len(), 4, "{:?}", d.warnings);
        assert!(
            d.warnings
                .iter()
                .any(|w| w.contains("Date de naissance") && w.contains("31/02/2001"))
        );
        assert!(
            d.warnings
                .iter()
                .any(|w| w.contains("Date de fin APT") && w.contains("2024-13-01"))
        );
        assert!(
            d.warnings
                .iter()
                .any(|w| w.contains("Date de début") && w.contains("20240101"))
        );
    }

    #[test]
    fn a_private_annotation_wins_over_a_public_champ_of_the_same_label() {
        let champ =
            |label: &str, value: &str| json!({"value": value, "type_de_champ": {"libelle": label}});
        let v1 = json!({"dossier": {"id": 10, "state": "closed",
            "champs": [champ("Date de fin APT", "2020-01-01")],
            "champs_private": [champ("Date de fin APT", "2021-06-30")]}});
        let d = Dossier::from_v1(1, v1).unwrap();
        assert_eq!(d.date_de_fin_apt, date(2021, 6, 30));
    }

    #[test]
    fn a_personne_physique_fills_missing_identity_champs() {
        let v2 = json!({"number": 11, "state": "en_instruction",
            "demandeur": {"__typename": "PersonnePhysique", "civilite": "M", "nom": "Ben Saïd",
                          "prenom": "Karim", "dateDeNaissance": "1999-02-03"},
            "champs": [{"__typename": "TextChamp", "label": "Prénom", "stringValue": "Karim Ali"},
                       {"__typename": "TextChamp", "label": "Nom", "stringValue": null}]});
        let d = Dossier::from_v2(1, v2).unwrap();
        assert_eq!(d.nom.as_deref(), Some("Ben Saïd"));
        assert_eq!(
            d.prenom.as_deref(),
            Some("Karim Ali"),
            "a present champ is kept"
        );
        assert_eq!(d.date_de_naissance, date(1999, 2, 3));
        assert_eq!(d.siret, None);
    }

    #[test]
    fn unreadable_documents_are_refused_with_their_id_and_reason() {
        let cases = [
            (
                Dossier::from_v1(1, json!({"dossier": {"state": "closed"}})),
                None,
                "id",
            ),
            (
                Dossier::from_v1(1, json!({"dossier": {"id": 3, "state": "lost"}})),
                Some(3),
                "lost",
            ),
            (
                Dossier::from_v1(
                    1,
                    json!({"dossier": {"id": 4, "state": "closed", "champs": "x"}}),
                ),
                Some(4),
                "champs",
            ),
            (
                Dossier::from_v1(
                    1,
                    json!({"dossier": {"id": 5, "state": "closed", "updated_at": "hier"}}),
                ),
                Some(5),
                "updated_at",
            ),
            (
                Dossier::from_v2(1, json!({"number": 6, "state": "closed"})),
                Some(6),
                "closed",
            ),
            (
                Dossier::from_v2(1, json!({"number": 7, "state": "accepte", "dateDepot": 12})),
                Some(7),
                "dateDepot",
            ),
            (Dossier::from_v2(1, json!([1, 2])), None, "objet"),
        ];
        for (result, id, word) in cases {
            let error = result.unwrap_err();
            assert_eq!(error.ds_id, id);
            assert!(error.to_string().contains(word), "{error}");
        }
    }

    #[test]
    fn ds_ids_are_one_to_nineteen_digits() {
        assert_eq!("44950".parse::<DsId>(), Ok(DsId(44950)));
        assert!("0".parse::<DsId>().is_err());
        assert!("".parse::<DsId>().is_err());
        assert!("-3".parse::<DsId>().is_err());
        assert!("+3".parse::<DsId>().is_err());
        assert!("12a".parse::<DsId>().is_err());
        assert!("9223372036854775807".parse::<DsId>().is_ok());
        assert!("9999999999999999999".parse::<DsId>().is_err());
        assert!("12345678901234567890".parse::<DsId>().is_err());
        // Leading zeros count: 19 digits are read, 20 are refused even when the number is small.
        assert_eq!("0000000000000000001".parse::<DsId>(), Ok(DsId(1)));
        assert!("00000000000000000001".parse::<DsId>().is_err());
    }

    #[test]
    fn api_versions_are_stored_as_v1_and_v2_and_read_back() {
        // The stored form is in every database already written: it must not change.
        assert_eq!(
            (ApiVersion::V1.as_str(), ApiVersion::V2.as_str()),
            ("v1", "v2")
        );
        for version in [ApiVersion::V1, ApiVersion::V2] {
            assert_eq!(version.as_str().parse(), Ok(version));
        }
        assert_eq!(" V2 ".parse(), Ok(ApiVersion::V2));
        assert!("v3".parse::<ApiVersion>().is_err());
    }

    #[test]
    fn v1_reads_instructeurs_else_accompagnateurs_and_the_archived_flag() {
        let mut v1 = fixture("dossier_v1.json");
        v1["dossier"]["instructeurs"] = json!([{"email": "instructeur.ud75@dreets.gouv.fr"}]);
        v1["dossier"]["archived"] = json!(true);
        let d = Dossier::from_v1(1234, v1.clone()).unwrap();
        assert_eq!(d.instructeurs, ["instructeur.ud75@dreets.gouv.fr"]);
        assert!(d.archived);

        v1["dossier"]["instructeurs"] = Value::Null;
        let d = Dossier::from_v1(1234, v1).unwrap();
        assert_eq!(
            d.instructeurs,
            ["agent.paris@direccte.gouv.fr", "chef.ud75@direccte.gouv.fr"]
        );
    }
}
