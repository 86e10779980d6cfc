//! The WIF champs: which DS label (*libellé*) each slug is read from.

use std::collections::HashMap;
use std::sync::LazyLock;

use unicode_normalization::UnicodeNormalization;

pub struct ChampDef {
    pub slug: &'static str,
    pub libelle: &'static str,
    /// An annotation filled in by the administration (v1 `champs_private`, v2 `annotations`).
    pub private: bool,
}

const fn champ(slug: &'static str, libelle: &'static str, private: bool) -> ChampDef {
    ChampDef {
        slug,
        libelle,
        private,
    }
}

/// The 35 champs of SPEC 4.1, in the seed's order.
pub const CHAMPS: [ChampDef; 35] = [
    champ("date_de_debut_apt", "Date de début APT", true),
    champ("date_de_fin_apt", "Date de fin APT", true),
    champ(
        "cadre_reserve_a_ladministration",
        "Cadre réservé à l'administration",
        true,
    ),
    champ("delivre_par", "Délivré par", false),
    champ("salaire_brut", "Salaire brut", false),
    champ("nombre_dheures", "Nombre d'heures", false),
    champ("date_de_fin", "Date de fin", false),
    champ("date_de_debut", "Date de début", false),
    champ("type_de_contrat", "Type de contrat", false),
    champ(
        "adresse_ou_letudiant_va_travailler",
        "Adresse ou l'étudiant va travailler",
        false,
    ),
    champ("emploi_occupe", "Emploi occupé", false),
    champ("telephone_de_lemployeur", "Téléphone de l'employeur", false),
    champ("e_mail_de_lemployeur", "E-mail de l'employeur", false),
    champ("prenom_de_lemployeur", "Prénom de l'employeur", false),
    champ("nom_de_lemployeur", "Nom de l'employeur", false),
    champ(
        "departement_titre_de_sejour",
        "Département qui figure sur le titre de séjour",
        false,
    ),
    champ("numero", "Numéro", false),
    champ(
        "reference_de_lancienne_autorisation_de_travail",
        "Référence de l’ancienne autorisation de travail",
        false,
    ),
    champ("demande", "Demande", false),
    champ("telephone", "Téléphone", false),
    champ("e_mail", "E-mail", false),
    champ("lieu_de_naissance", "Lieu de naissance", false),
    champ("date_de_naissance", "Date de naissance", false),
    champ("nationalite", "Nationalité", false),
    champ("prenom", "Prénom", false),
    champ("nom", "Nom", false),
    champ("civilite", "Civilité", false),
    champ(
        "code_postal_de_residence_en_france",
        "Code postal de résidence en France",
        false,
    ),
    champ(
        "commune_de_residence_en_france",
        "Commune de résidence en France",
        false,
    ),
    champ("a_propos_de_lemployeur", "À propos de l'employeur", false),
    champ(
        "informations_sur_le_contrat",
        "Informations sur le contrat",
        false,
    ),
    champ("employeur", "Employeur", false),
    champ("date_dexpiration_titre_sejour", "Date d’expiration", false),
    champ("salarie", "Salarié", false),
    champ(
        "document_autorisant_le_sejour_en_france",
        "Document autorisant le séjour en France",
        false,
    ),
];

/// The slugs whose value is a date, checked when a dossier is read.
pub const DATE_SLUGS: [&str; 6] = [
    "date_de_debut_apt",
    "date_de_fin_apt",
    "date_de_fin",
    "date_de_debut",
    "date_de_naissance",
    "date_dexpiration_titre_sejour",
];

/// The form in which labels are compared: NFC, one apostrophe, no surrounding white space.
pub fn normalize_label(label: &str) -> String {
    label
        .trim()
        .nfc()
        .map(|c| if c == '’' { '\'' } else { c })
        .collect()
}

/// The champ a DS label stands for, if it is one of ours.
pub fn champ_for_label(label: &str) -> Option<&'static ChampDef> {
    // Normalised once: every champ of every synced dossier is looked up here.
    static BY_LABEL: LazyLock<HashMap<String, &'static ChampDef>> = LazyLock::new(|| {
        CHAMPS
            .iter()
            .map(|c| (normalize_label(c.libelle), c))
            .collect()
    });
    // Most labels are already in their normal form: no allocation for them.
    BY_LABEL
        .get(label)
        .or_else(|| BY_LABEL.get(&normalize_label(label)))
        .copied()
}

/// The champ of a slug.
pub fn champ_for_slug(slug: &str) -> Option<&'static ChampDef> {
    CHAMPS.iter().find(|c| c.slug == slug)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_match_whatever_the_apostrophe_spaces_and_normal_form() {
        assert_eq!(
            champ_for_label("Date d'expiration").unwrap().slug,
            "date_dexpiration_titre_sejour"
        );
        assert_eq!(
            champ_for_label("  Nombre d’heures ").unwrap().slug,
            "nombre_dheures"
        );
        // "é" written as "e" + combining acute accent (NFD).
        assert_eq!(
            champ_for_label("Date de de\u{301}but APT").unwrap().slug,
            "date_de_debut_apt"
        );
        assert!(champ_for_label("Date de debut APT").is_none());
        assert!(champ_for_label("Pièce jointe").is_none());
    }

    #[test]
    fn slugs_and_labels_are_unique() {
        for (i, a) in CHAMPS.iter().enumerate() {
            for b in &CHAMPS[i + 1..] {
                assert_ne!(a.slug, b.slug);
                assert_ne!(normalize_label(a.libelle), normalize_label(b.libelle));
            }
        }
        for slug in DATE_SLUGS {
            assert!(champ_for_slug(slug).is_some(), "{slug}");
        }
    }

    #[test]
    fn a_slug_gives_its_own_champ() {
        let champ = champ_for_slug("nombre_dheures").unwrap();
        assert_eq!(champ.libelle, "Nombre d'heures");
        assert!(!champ.private);
        assert!(champ_for_slug("date_de_fin_apt").unwrap().private);
        assert!(champ_for_slug("pièce_jointe").is_none());
    }
}
