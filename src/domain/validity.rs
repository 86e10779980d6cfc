//! A record of `validity_check.json` (SPEC 5.1): what the public may know of an accepted APT.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ProcedureKind;
use super::champs::champ_for_slug;
use super::dates::has_expired;
use super::text::obfuscate;

/// The champs an introduction record carries: none of them is personal data.
pub const INTRODUCTION_CHAMPS: [&str; 3] = ["type_de_contrat", "emploi_occupe", "nombre_dheures"];

/// Written by our exports, and read back by the public service, which also accepts the files of
/// the Python back office's exporter while a site switches over: no `type` (an authorization),
/// `has_expired` null or missing (it is recomputed anyway), names null, and dates as it wrote
/// them (`YYYY-MM-DD`, `DD/MM/YYYY`, or free text such as « à définir », read as no date).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidityRecord {
    pub ds_id: i64,
    #[serde(rename = "type", default)]
    pub kind: ProcedureKind,
    #[serde(default)]
    pub siret: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub prenom: String,
    #[serde(default, deserialize_with = "lenient::text")]
    pub nom: String,
    #[serde(default, deserialize_with = "lenient::date")]
    pub date_de_naissance: Option<NaiveDate>,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub has_expired: bool,
    #[serde(default, deserialize_with = "lenient::date")]
    pub date_de_debut_apt: Option<NaiveDate>,
    #[serde(default, deserialize_with = "lenient::date")]
    pub date_de_fin_apt: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub champs: Option<Vec<ExportedChamp>>,
}

/// The old exporter's variants, read into our values.
mod lenient {
    use chrono::NaiveDate;
    use serde::{Deserialize, Deserializer};

    use crate::domain::dates::parse_date;

    /// A date in either of the formats DS dossiers hold; any other text is no date, which for
    /// an APT's end means expired.
    pub fn date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
        Ok(Option::<String>::deserialize(d)?.and_then(|text| parse_date(&text)))
    }

    pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        Ok(Option::<bool>::deserialize(d)?.unwrap_or(false))
    }

    pub fn text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportedChamp {
    pub value: Value,
    pub type_de_champ: TypeDeChamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypeDeChamp {
    pub libelle: String,
}

/// What an accepted dossier gives to the public record.
pub struct AcceptedDossier<'a> {
    pub ds_id: i64,
    pub kind: ProcedureKind,
    pub siret: Option<String>,
    pub prenom: Option<&'a str>,
    pub nom: Option<&'a str>,
    pub date_de_naissance: Option<NaiveDate>,
    pub date_de_debut_apt: Option<NaiveDate>,
    pub date_de_fin_apt: Option<NaiveDate>,
    pub champs: Option<&'a BTreeMap<String, Value>>,
}

impl ValidityRecord {
    /// The public record of an accepted dossier: names obfuscated, expiry as of `today`.
    pub fn new(dossier: AcceptedDossier<'_>, today: NaiveDate) -> ValidityRecord {
        let champs = (dossier.kind == ProcedureKind::Introduction).then(|| {
            INTRODUCTION_CHAMPS
                .iter()
                .map(|slug| ExportedChamp {
                    value: dossier
                        .champs
                        .and_then(|c| c.get(*slug))
                        .cloned()
                        .unwrap_or(Value::Null),
                    type_de_champ: TypeDeChamp {
                        libelle: champ_for_slug(slug).map_or(*slug, |c| c.libelle).to_owned(),
                    },
                })
                .collect()
        });
        ValidityRecord {
            ds_id: dossier.ds_id,
            kind: dossier.kind,
            siret: dossier.siret,
            prenom: obfuscate(dossier.prenom.unwrap_or_default()),
            nom: obfuscate(dossier.nom.unwrap_or_default()),
            date_de_naissance: dossier.date_de_naissance,
            has_expired: has_expired(dossier.date_de_fin_apt, today),
            date_de_debut_apt: dossier.date_de_debut_apt,
            date_de_fin_apt: dossier.date_de_fin_apt,
            champs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn accepted<'a>(
        kind: ProcedureKind,
        champs: Option<&'a BTreeMap<String, Value>>,
    ) -> AcceptedDossier<'a> {
        AcceptedDossier {
            ds_id: 44950,
            kind,
            siret: Some("52222222222222".into()),
            prenom: Some(" Emma Louise    "),
            nom: Some("Zoë"),
            date_de_naissance: NaiveDate::from_ymd_opt(1978, 12, 20),
            date_de_debut_apt: NaiveDate::from_ymd_opt(2018, 3, 27),
            date_de_fin_apt: NaiveDate::from_ymd_opt(2018, 5, 10),
            champs,
        }
    }

    #[test]
    fn an_authorization_record_has_the_seeds_shape() {
        let today = NaiveDate::from_ymd_opt(2018, 5, 11).unwrap();
        let record = ValidityRecord::new(accepted(ProcedureKind::Authorization, None), today);
        assert_eq!(
            serde_json::to_string(&record).unwrap(),
            r#"{"ds_id":44950,"type":"authorization","siret":"52222222222222","prenom":"*m** ******","nom":"*o*","date_de_naissance":"1978-12-20","has_expired":true,"date_de_debut_apt":"2018-03-27","date_de_fin_apt":"2018-05-10"}"#
        );
        let on_last_day = NaiveDate::from_ymd_opt(2018, 5, 10).unwrap();
        assert!(
            !ValidityRecord::new(accepted(ProcedureKind::Authorization, None), on_last_day)
                .has_expired
        );
    }

    #[test]
    fn an_introduction_record_carries_three_champs_only() {
        let champs: BTreeMap<String, Value> = [
            ("type_de_contrat", json!("CDD")),
            ("emploi_occupe", json!("Serveuse")),
            ("nombre_dheures", json!(20)),
            ("e_mail", json!("emma@example.org")),
            ("telephone", json!("06 12 34 56 78")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let today = NaiveDate::from_ymd_opt(2018, 4, 1).unwrap();
        let record =
            ValidityRecord::new(accepted(ProcedureKind::Introduction, Some(&champs)), today);
        let json = serde_json::to_value(&record).unwrap();
        assert_eq!(json["type"], "introduction");
        assert_eq!(
            json["champs"],
            json!([
                {"value": "CDD", "type_de_champ": {"libelle": "Type de contrat"}},
                {"value": "Serveuse", "type_de_champ": {"libelle": "Emploi occupé"}},
                {"value": 20, "type_de_champ": {"libelle": "Nombre d'heures"}},
            ])
        );
        let text = json.to_string();
        assert!(!text.contains("emma@example.org") && !text.contains("06 12"));
    }

    #[test]
    fn records_of_the_python_exporter_are_read() {
        let file = r#"[
            {"ds_id": 1, "siret": "52222222222222", "prenom": "*m**", "nom": "*o*",
             "date_de_naissance": "1978-12-20", "has_expired": false,
             "date_de_debut_apt": "2018-03-27", "date_de_fin_apt": "2018-05-10"},
            {"ds_id": 2, "siret": null, "prenom": null, "nom": "*a*",
             "date_de_naissance": "20/12/1978", "has_expired": null,
             "date_de_debut_apt": "27/03/2018", "date_de_fin_apt": "10/05/2030"},
            {"ds_id": 3, "prenom": "*i*", "nom": "*u*", "date_de_naissance": "1990-01-01",
             "date_de_debut_apt": "à définir", "date_de_fin_apt": "à définir"},
            {"ds_id": 4, "type": "introduction", "prenom": "", "nom": "",
             "date_de_naissance": null, "has_expired": true, "date_de_debut_apt": null,
             "date_de_fin_apt": "31/02/2030", "champs": []}
        ]"#;
        let records: Vec<ValidityRecord> = serde_json::from_str(file).unwrap();
        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
        assert!(
            records[..3]
                .iter()
                .all(|r| r.kind == ProcedureKind::Authorization)
        );
        assert_eq!(records[0].date_de_fin_apt, date(2018, 5, 10));
        assert_eq!(records[1].date_de_naissance, date(1978, 12, 20));
        assert_eq!(records[1].date_de_debut_apt, date(2018, 3, 27));
        assert_eq!(records[1].date_de_fin_apt, date(2030, 5, 10));
        assert_eq!(
            (records[1].prenom.as_str(), records[1].has_expired),
            ("", false)
        );
        assert_eq!(
            (records[2].date_de_debut_apt, records[2].date_de_fin_apt),
            (None, None)
        );
        assert_eq!(records[2].siret, None);
        assert_eq!(records[3].kind, ProcedureKind::Introduction);
        assert_eq!(records[3].date_de_fin_apt, None, "not a real date");
        assert!(records[3].has_expired);
        // What is not a record at all is still refused.
        assert!(serde_json::from_str::<Vec<ValidityRecord>>(r#"[{"prenom": "x"}]"#).is_err());
        assert!(
            serde_json::from_str::<Vec<ValidityRecord>>(r#"[{"ds_id": 1, "date_de_fin_apt": 5}]"#)
                .is_err()
        );
    }

    #[test]
    fn missing_names_and_dates_give_empty_strings_and_nulls() {
        let mut dossier = accepted(ProcedureKind::Authorization, None);
        dossier.prenom = None;
        dossier.nom = None;
        dossier.date_de_fin_apt = None;
        dossier.date_de_naissance = None;
        dossier.siret = None;
        let record = ValidityRecord::new(dossier, NaiveDate::from_ymd_opt(2000, 1, 1).unwrap());
        let json = serde_json::to_value(&record).unwrap();
        assert_eq!(json["prenom"], "");
        assert_eq!(json["nom"], "");
        assert_eq!(json["date_de_fin_apt"], Value::Null);
        assert_eq!(json["date_de_naissance"], Value::Null);
        assert_eq!(json["siret"], Value::Null);
        assert_eq!(json["has_expired"], true, "a missing end date has expired");
    }
}
