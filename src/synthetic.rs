//! Deterministic synthetic dossiers for demonstrations, benchmarks and the DS simulator: plausible
//! French values, every status, and a share of awkward data (missing champs, invalid dates,
//! multi-byte names). The same `(seed, index)` always gives the same dossier.

use chrono::{DateTime, Days, Duration, NaiveDate, Utc};
use serde_json::{Value, json};

use crate::domain::{ApiVersion, Dossier, DsId, Status};

/// SplitMix64: small, fast and good enough to spread synthetic values.
struct Rng(u64);

impl Rng {
    fn new(seed: u64, index: u64) -> Rng {
        Rng(seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// True `percent` times out of a hundred.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const PRENOMS: [&str; 16] = [
    "Amina",
    "Mohamed",
    "Yasmine",
    "Wei",
    "Li Na",
    "Thị Ánh",
    "Karim",
    "Fatou",
    "José",
    "Zoë",
    "Aïcha",
    "Nguyễn Văn",
    "Ana Lucía",
    "Oleksandr",
    "Priya",
    "Søren",
];
const NOMS: [&str; 14] = [
    "Benali",
    "Zhang",
    "Nguyễn",
    "Diallo",
    "Silva",
    "Kowalski",
    "Haddad",
    "Ben Saïd",
    "Okafor",
    "Müller",
    "Çelik",
    "Đặng",
    "O'Brien",
    "García-López",
];
const NATIONALITES: [&str; 12] = [
    "ALGERIE",
    "MAROC",
    "TUNISIE",
    "CHINE",
    "VIET NAM",
    "SENEGAL",
    "COREE (REPUBLIQUE DE)",
    "BRESIL",
    "INDE",
    "COTE D'IVOIRE",
    "UKRAINE",
    "LIBAN",
];
const DEPARTEMENTS: [&str; 10] = [
    "75 - Paris",
    "69 - Rhône",
    "13 - Bouches-du-Rhône",
    "31 - Haute-Garonne",
    "33 - Gironde",
    "59 - Nord",
    "67 - Bas-Rhin",
    "44 - Loire-Atlantique",
    "34 - Hérault",
    "92 - Hauts-de-Seine",
];
const EMPLOIS: [&str; 6] = [
    "Serveur",
    "Commis de cuisine",
    "Vendeuse",
    "Agent d'entretien",
    "Développeur stagiaire",
    "Livreur",
];
const STATUS_WEIGHTS: [(Status, u64); 6] = [
    (Status::Draft, 3),
    (Status::Initiated, 12),
    (Status::Received, 15),
    (Status::Closed, 50),
    (Status::Refused, 12),
    (Status::WithoutContinuation, 8),
];

/// The `index`-th dossier (from 0) of the data set `seed`, for démarche `procedure_id`, with
/// timestamps spread over the two years before `now`.
pub fn dossier(seed: u64, index: u64, procedure_id: i64, now: DateTime<Utc>) -> Dossier {
    let mut rng = Rng::new(seed, index);
    let ds_id = DsId::new(100_000 + index as i64).expect("positive");
    let mut roll = rng.below(100);
    let status = STATUS_WEIGHTS
        .iter()
        .find(|(_, weight)| {
            let hit = roll < *weight;
            roll = roll.saturating_sub(*weight);
            hit
        })
        .map_or(Status::Closed, |(status, _)| *status);

    let created = now - Duration::seconds(rng.below(730 * 86_400) as i64 + 3_600);
    let received = (created + Duration::seconds(rng.below(5 * 86_400) as i64)).min(now);
    // Nothing happens after `now`: recent dossiers are decided at the latest now.
    let processed = (received + Duration::seconds(rng.below(20 * 86_400) as i64 + 3_600)).min(now);
    let completed = status.is_completed();
    let in_instruction = completed || status == Status::Received;
    let last_event = if completed { processed } else { received };
    let updated = (last_event + Duration::seconds(rng.below(3_600) as i64)).min(now);

    let today = now.date_naive();
    let debut_apt = created.date_naive() + Days::new(rng.below(30) + 15);
    let fin_apt = debut_apt + Days::new(rng.below(300) + 60);
    // A tenth of residence permits expire within 62 days, for Suivi Préfecture.
    let expiration = if rng.chance(10) {
        today + Days::new(rng.below(62))
    } else {
        created.date_naive() + Days::new(rng.below(700) + 30)
    };
    let naissance = NaiveDate::from_ymd_opt(1985 + rng.below(20) as i32, 1, 1).expect("valid")
        + Days::new(rng.below(365));
    let prenom = *rng.pick(&PRENOMS);
    let nom = *rng.pick(&NOMS);
    let email = format!("etudiant{}@example.org", ds_id);

    let iso = |d: NaiveDate| json!(d.format("%Y-%m-%d").to_string());
    let mut champs: Vec<(&str, Value)> = vec![
        ("civilite", json!(if rng.chance(50) { "Mme" } else { "M." })),
        ("nom", json!(nom)),
        ("prenom", json!(prenom)),
        ("date_de_naissance", iso(naissance)),
        ("lieu_de_naissance", json!("Ville natale")),
        ("nationalite", json!(*rng.pick(&NATIONALITES))),
        ("e_mail", json!(email)),
        (
            "telephone",
            json!(format!(
                "06 {:02} {:02} {:02} {:02}",
                rng.below(100),
                rng.below(100),
                rng.below(100),
                rng.below(100)
            )),
        ),
        ("code_postal_de_residence_en_france", json!("75013")),
        ("commune_de_residence_en_france", json!("Paris")),
        (
            "document_autorisant_le_sejour_en_france",
            json!("Titre de séjour"),
        ),
        (
            "numero",
            json!(format!("{:010}", rng.below(10_000_000_000))),
        ),
        ("delivre_par", json!("Préfecture")),
        ("date_dexpiration_titre_sejour", iso(expiration)),
        (
            "departement_titre_de_sejour",
            json!(*rng.pick(&DEPARTEMENTS)),
        ),
        (
            "demande",
            json!(if rng.chance(70) {
                "Première demande"
            } else {
                "Renouvellement"
            }),
        ),
        ("nom_de_lemployeur", json!("Martin")),
        ("prenom_de_lemployeur", json!("Claire")),
        ("e_mail_de_lemployeur", json!("rh@entreprise.example")),
        ("telephone_de_lemployeur", json!("01 23 45 67 89")),
        ("emploi_occupe", json!(*rng.pick(&EMPLOIS))),
        (
            "adresse_ou_letudiant_va_travailler",
            json!("1 rue de la République 75011 Paris"),
        ),
        (
            "type_de_contrat",
            json!(if rng.chance(60) { "CDD" } else { "CDI" }),
        ),
        ("date_de_debut", iso(debut_apt)),
        ("date_de_fin", iso(fin_apt)),
        ("nombre_dheures", json!((rng.below(20) + 5).to_string())),
        ("salaire_brut", json!(format!("{}", 400 + rng.below(1200)))),
    ];
    if status == Status::Closed {
        champs.push(("date_de_debut_apt", iso(debut_apt)));
        champs.push(("date_de_fin_apt", iso(fin_apt)));
    }
    // Awkward data: a missing nationality, an unreadable date, a name left empty.
    if rng.chance(3) {
        champs.retain(|(slug, _)| *slug != "nationalite");
    }
    if rng.chance(2) {
        champs.push(("date_de_naissance", json!("31/02/2001")));
    }
    if rng.chance(2) {
        champs.push(("nom", Value::Null));
    }

    // A small stand-in for DS's document: the benchmarks measure our columns, not its size.
    let raw = json!({"number": ds_id.get(), "state": status.as_str(), "synthetic": true});
    let dossier = Dossier {
        created_at: Some(created),
        initiated_at: (status != Status::Draft).then_some(created),
        received_at: in_instruction.then_some(received),
        processed_at: completed.then_some(processed),
        updated_at: Some(updated),
        archived: completed && rng.chance(30),
        email: Some(email),
        instructeurs: vec![format!(
            "instructeur.ud{}@dreets.gouv.fr",
            rng.below(95) + 1
        )],
        siret: Some(format!(
            "{:014}",
            10_000_000_000_000 + rng.below(89_999_999_999_999)
        )),
        ..Dossier::new(ds_id, procedure_id, status, ApiVersion::V2)
    };
    // Dossiers for every alert rule, from a stream of their own so that the values above stay
    // those of earlier versions: wrong APT dates, and messages from the applicant.
    let mut alerts = Rng::new(seed ^ 0xA1E4_7500, index);
    if status == Status::Closed {
        let wrong_dates = alerts.below(100);
        let date_slot = |slug: &str| champs.iter().position(|(s, _)| *s == slug);
        if let Some(fin) = date_slot("date_de_fin_apt") {
            match wrong_dates {
                0 => champs[fin].1 = Value::Null,
                1 => champs[fin].1 = iso(debut_apt - Days::new(10)),
                2 => champs[fin].1 = iso(debut_apt + Days::new(400)),
                _ => {}
            }
        }
    }
    let decided = completed.then_some(processed);
    let wrote = alerts.below(100);
    let applicant_message_at = match decided {
        Some(decided) if wrote < 5 => {
            Some((decided + Duration::hours(alerts.below(72) as i64 + 1)).min(now))
        }
        _ if wrote < 25 => Some(created + Duration::hours(alerts.below(24) as i64 + 1)),
        _ => None,
    }
    .filter(|at| *at <= now);
    let dossier = Dossier {
        applicant_message_at,
        ..dossier
    };
    let labelled = champs
        .into_iter()
        .filter_map(|(slug, value)| crate::domain::champs::champ_for_slug(slug).map(|c| (c, value)))
        .collect();
    dossier.with_champs(labelled, raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_dossiers() {
        let now = Utc::now();
        assert_eq!(dossier(7, 42, 1, now), dossier(7, 42, 1, now));
        assert_ne!(dossier(7, 42, 1, now).champs, dossier(8, 42, 1, now).champs);
    }

    #[test]
    fn the_data_set_covers_every_status_and_awkward_values() {
        let now = Utc::now();
        let all: Vec<Dossier> = (0..2000).map(|i| dossier(1, i, 1, now)).collect();
        for status in Status::ALL {
            assert!(all.iter().any(|d| d.status == status), "{status}");
        }
        assert!(all.iter().any(|d| !d.warnings.is_empty()));
        assert!(all.iter().any(|d| d.nationalite.is_none()));
        assert!(all.iter().any(|d| d.nom.is_none()));
        assert!(
            all.iter()
                .any(|d| d.prenom.as_deref().is_some_and(|p| !p.is_ascii()))
        );
        let today = now.date_naive();
        assert!(
            all.iter()
                .any(|d| d.status == Status::Closed && d.date_de_fin_apt < Some(today))
        );
        assert!(all.iter().any(|d| {
            d.date_dexpiration_titre_sejour
                .is_some_and(|e| e >= today && e < today + Days::new(62))
        }));
        assert!(
            all.iter()
                .all(|d| d.created_at <= Some(now) && d.updated_at >= d.created_at)
        );
    }
}
