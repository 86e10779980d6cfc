//! The legal pages (SPEC §14): the privacy notice, the accessibility statement and the legal
//! notice. One text each, drawn by both services in their own frame: the public service serves
//! them at `/donnees-personnelles`…, the admin (which does not know the public address) at
//! `/admin/donnees-personnelles`…. Every page's footer links them.
//!
//! The durations and the contacts come from the settings, never from this text: the notice must
//! say what the purge really does.

use maud::{Markup, html};

use super::Lang;
use crate::config::{LegalSettings, Settings};
use crate::domain::retention::{RetentionPolicy, SHORT_LOG_DAYS};

/// What the legal pages say that depends on the deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegalInfo {
    /// `WIF_RETENTION_MONTHS`, `WIF_RETENTION_DELETED_DAYS`, `WIF_LOG_RETENTION_MONTHS`.
    pub retention: RetentionPolicy,
    /// `WIF_DPO_CONTACT`, `WIF_PUBLISHER`, `WIF_HOSTING`.
    pub legal: LegalSettings,
}

impl LegalInfo {
    pub fn from_settings(settings: &Settings) -> LegalInfo {
        LegalInfo {
            retention: settings.retention,
            legal: settings.legal.clone(),
        }
    }
}

/// One of the three pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegalPage {
    Accessibility,
    Notice,
    Privacy,
}

/// When the accessibility statement was written; a new statement gets a new date.
const STATEMENT_DATE: (&str, &str) = ("2 décembre 2026", "2 December 2026");

impl LegalPage {
    /// In the footer's order (the DSFR's: accessibility, legal notice, personal data).
    pub const ALL: [LegalPage; 3] = [
        LegalPage::Accessibility,
        LegalPage::Notice,
        LegalPage::Privacy,
    ];

    /// The last segment of the page's address, the same on both services.
    pub fn slug(self) -> &'static str {
        match self {
            LegalPage::Accessibility => "accessibilite",
            LegalPage::Notice => "mentions-legales",
            LegalPage::Privacy => "donnees-personnelles",
        }
    }

    /// The page's address under `root` (`""` for the public service, `/admin` for the admin).
    pub fn href(self, root: &str, lang: Lang) -> String {
        with_lang(&format!("{root}/{}", self.slug()), lang)
    }

    pub fn title(self, lang: Lang) -> &'static str {
        match self {
            LegalPage::Accessibility => {
                lang.pick("Déclaration d'accessibilité", "Accessibility statement")
            }
            LegalPage::Notice => lang.pick("Mentions légales", "Legal notice"),
            LegalPage::Privacy => lang.pick("Données personnelles", "Personal data"),
        }
    }

    /// The footer's link text: the accessibility link states the compliance, as the RGAA asks.
    pub fn footer_label(self, lang: Lang) -> &'static str {
        match self {
            LegalPage::Accessibility => lang.pick(
                "Accessibilité : partiellement conforme",
                "Accessibility: partially compliant",
            ),
            other => other.title(lang),
        }
    }

    /// The page's content, under its title; links to the other pages stay under `root`.
    pub fn body(self, lang: Lang, root: &str, info: &LegalInfo) -> Markup {
        match self {
            LegalPage::Accessibility => accessibility(lang, &info.legal),
            LegalPage::Notice => notice(lang, root, &info.legal),
            LegalPage::Privacy => privacy(lang, info),
        }
    }
}

fn with_lang(path: &str, lang: Lang) -> String {
    match lang {
        Lang::Fr => path.to_owned(),
        Lang::En => format!("{path}?lang=en"),
    }
}

/// The DSFR footer's bottom list: the three pages under `root`.
pub fn footer_links(root: &str, lang: Lang) -> Markup {
    html! {
        div.fr-footer__bottom {
            ul.fr-footer__bottom-list {
                @for page in LegalPage::ALL {
                    li.fr-footer__bottom-item {
                        a.fr-footer__bottom-link href=(page.href(root, lang)) { (page.footer_label(lang)) }
                    }
                }
            }
        }
    }
}

/// A setting's free text (French as written by the operator): marked French on English pages,
/// and a link when it is an e-mail or web address.
fn setting(text: &str, lang: Lang) -> Markup {
    let text = text.trim();
    let single = !text.is_empty() && !text.contains(char::is_whitespace);
    let href = match () {
        _ if single && text.starts_with("https://") => Some(text.to_owned()),
        _ if single && text.contains('@') && !text.contains('/') => Some(format!("mailto:{text}")),
        _ => None,
    };
    let lang = (lang == Lang::En).then_some("fr");
    html! {
        @match href {
            Some(href) => a.fr-link href=(href) lang=[lang] { (text) },
            None => span lang=[lang] { (text) },
        }
    }
}

fn months(n: u32, lang: Lang) -> String {
    match (lang, n) {
        (Lang::Fr, _) => format!("{n} mois"),
        (Lang::En, 1) => "1 month".to_owned(),
        (Lang::En, _) => format!("{n} months"),
    }
}

fn days(n: u64, lang: Lang) -> String {
    match (lang, n) {
        (Lang::Fr, 0 | 1) => format!("{n} jour"),
        (Lang::Fr, _) => format!("{n} jours"),
        (Lang::En, 1) => "1 day".to_owned(),
        (Lang::En, _) => format!("{n} days"),
    }
}

/// The retention policy as a table, durations from the settings: the privacy notice shows it, and
/// any page that states the policy can too.
pub fn retention_table(policy: &RetentionPolicy, lang: Lang) -> Markup {
    let t = |fr: &'static str, en: &'static str| lang.pick(fr, en);
    let rows: [(&str, String); 6] = [
        (
            t(
                "Dossier en cours (pas encore décidé)",
                "Application still in progress (not decided yet)",
            ),
            t(
                "Tant que Démarches simplifiées le liste : DS applique sa propre durée de conservation, puis le signale comme supprimé.",
                "As long as Démarches simplifiées lists it: DS applies its own retention period, then reports it as deleted.",
            )
            .to_owned(),
        ),
        (
            t(
                "Dossier décidé (accepté, refusé ou classé sans suite)",
                "Decided application (accepted, refused or closed without decision)",
            ),
            match lang {
                Lang::Fr => format!(
                    "{} après la plus tardive de deux dates : la décision et la fin de l'autorisation provisoire de travail (APT). Ses données personnelles sont alors effacées ; seule reste une fiche statistique.",
                    months(policy.months, lang)
                ),
                Lang::En => format!(
                    "{} after the later of two dates: the decision and the end of the temporary work authorisation (APT). Its personal data are then erased; only a statistical record remains.",
                    months(policy.months, lang)
                ),
            },
        ),
        (
            t(
                "Dossier supprimé sur Démarches simplifiées",
                "Application deleted on Démarches simplifiées",
            ),
            match lang {
                Lang::Fr => format!(
                    "{} après sa suppression. Toutefois, un dossier accepté dont l'APT n'a pas pris fin garde ce que la vérification d'une autorisation demande (noms, date de naissance, SIRET de l'employeur, dates de l'APT) jusqu'à la fin de l'APT.",
                    days(u64::from(policy.deleted_days), lang)
                ),
                Lang::En => format!(
                    "{} after its deletion. However, an accepted application whose APT has not ended keeps what checking an authorisation needs (names, date of birth, employer's SIRET, APT dates) until the APT ends.",
                    days(u64::from(policy.deleted_days), lang)
                ),
            },
        ),
        (
            t(
                "Journal d'accès et journal des e-mails envoyés",
                "Access log and log of the e-mails sent",
            ),
            months(policy.log_months, lang),
        ),
        (
            t(
                "Tentatives de connexion échouées, notifications reçues de Démarches simplifiées (webhooks)",
                "Failed sign-in attempts, notifications received from Démarches simplifiées (webhooks)",
            ),
            days(SHORT_LOG_DAYS, lang),
        ),
        (
            t(
                "Sessions des agents",
                "Agents' sessions",
            ),
            t(
                "Jusqu'à leur expiration (après une période sans activité) ou la déconnexion.",
                "Until they expire (after a period without activity) or the agent signs out.",
            )
            .to_owned(),
        ),
    ];
    html! {
        div.fr-table { table {
            caption { (t("Durées de conservation", "Retention periods")) }
            thead { tr {
                th scope="col" { (t("Données", "Data")) }
                th scope="col" { (t("Conservées", "Kept")) }
            } }
            tbody {
                @for (what, until) in &rows {
                    tr { th scope="row" { (what) } td { (until) } }
                }
            }
        } }
    }
}

fn privacy(lang: Lang, info: &LegalInfo) -> Markup {
    let t = |fr: &'static str, en: &'static str| lang.pick(fr, en);
    let legal = &info.legal;
    html! {
        p.fr-text--lead { (t(
            "Cette page explique quelles données personnelles Work in France traite, pourquoi, sur quelle base légale, pendant combien de temps, qui les reçoit et comment exercer vos droits.",
            "This page explains which personal data Work in France processes, why, on which legal basis, for how long, who receives them and how to exercise your rights.")) }

        h2 { (t("Qui traite vos données", "Who processes your data")) }
        p { (t(
            "Le traitement est mis en œuvre par le ministère chargé du travail, pour instruire les demandes d'autorisation provisoire de travail (APT) des étudiants étrangers, déposées sur Démarches simplifiées (DS), et permettre de vérifier une autorisation délivrée.",
            "The processing is carried out by the ministry in charge of labour, to examine the applications for a temporary work authorisation (APT) of foreign students, filed on Démarches simplifiées (DS), and to let anyone check an authorisation granted.")) }
        p { (t("Éditeur du service : ", "Publisher of the service: ")) (setting(&legal.publisher, lang)) "." }

        h2 { (t("Quelles données, et pourquoi", "Which data, and why")) }
        ul {
            li { (t(
                "Les dossiers déposés sur Démarches simplifiées par les étudiants et leurs employeurs : identité (nom, prénoms, date et lieu de naissance, nationalité), coordonnées (adresse, e-mail, téléphone), titre de séjour, études, employeur (SIRET, raison sociale), contrat de travail et décision. Le back office les reçoit de DS pour que les agents instruisent les demandes, suivent les autorisations accordées et produisent des statistiques.",
                "The applications filed on Démarches simplifiées by the students and their employers: identity (surname, first names, date and place of birth, nationality), contact details (address, e-mail, phone), residence permit, studies, employer (SIRET, company name), employment contract and decision. The back office receives them from DS so that agents can examine the applications, follow the authorisations granted and produce statistics.")) }
            li { (t(
                "Les comptes des agents (nom d'utilisateur, e-mail, départements), le journal d'accès (chaque consultation des données d'un dossier et chaque connexion, avec l'heure et l'adresse IP), le journal des e-mails envoyés et les tentatives de connexion échouées : pour protéger l'accès aux données et en garder la trace.",
                "The agents' accounts (username, e-mail, départements), the access log (every view of an application's data and every sign-in, with the time and the IP address), the log of the e-mails sent and the failed sign-in attempts: to protect access to the data and keep track of it.")) }
            li { (t(
                "Les vérifications faites sur le service public : le numéro et la date de naissance saisis servent à répondre et ne sont pas enregistrés ; l'adresse IP n'est gardée qu'en mémoire, le temps de limiter le nombre de requêtes par adresse.",
                "The checks made on the public service: the number and date of birth entered are used to answer and are not recorded; the IP address is only kept in memory, to limit the number of requests per address.")) }
        }

        h2 { (t("Base légale", "Legal basis")) }
        p { (t(
            "Le traitement est nécessaire à l'exécution d'une mission d'intérêt public (article 6, paragraphe 1, point e, du règlement général sur la protection des données, RGPD) : la délivrance des autorisations de travail aux étudiants étrangers par le ministère chargé du travail.",
            "The processing is necessary for the performance of a task carried out in the public interest (article 6(1)(e) of the General Data Protection Regulation, GDPR): the granting of work authorisations to foreign students by the ministry in charge of labour.")) }

        h2 { (t("Durées de conservation", "How long data are kept")) }
        (retention_table(&info.retention, lang))
        p { (t(
            "Une tâche planifiée efface définitivement ce qui arrive à échéance. D'un dossier effacé ne reste qu'une fiche statistique, qui n'identifie personne : numéro du dossier sur DS, démarche, statut, département, nationalité, dates de la procédure (dépôt, instruction, décision), dates de début et de fin de l'APT.",
            "A scheduled job erases for good what falls due. Of an erased application only a statistical record remains, which identifies nobody: its number on DS, procedure, status, département, nationality, dates of the procedure (filing, review, decision), start and end dates of the APT.")) }
        p { (t(
            "Les sauvegardes de la base de données gardent les données effacées jusqu'à leur propre expiration.",
            "The database backups keep erased data until the backups themselves expire.")) }

        h2 { (t("Qui reçoit les données", "Who receives the data")) }
        ul {
            li { (t(
                "Les agents habilités des DREETS et des DDETS (services déconcentrés du ministère), pour les dossiers de leurs départements.",
                "The authorised agents of the DREETS and DDETS (the ministry's regional and departmental services), for the applications of their départements.")) }
            li { (t("Les administrateurs du service, pour l'ensemble des dossiers.", "The administrators of the service, for all applications.")) }
            li { (t(
                "Le service public de vérification ne reçoit que des données anonymisées : pour chaque autorisation en cours, les nom et prénom masqués (une seule lettre reste visible), la date de naissance (qui sert seulement à contrôler celle saisie), le SIRET de l'employeur et les dates de l'APT ; une autorisation ne s'affiche qu'à qui en connaît déjà le numéro et la date de naissance du titulaire. Les statistiques publiées ne sont que des chiffres agrégés.",
                "The public checking service only receives anonymised data: for each current authorisation, the masked surname and first name (a single letter stays visible), the date of birth (used only to check the one entered), the employer's SIRET and the APT dates; an authorisation is only shown to whoever already knows its number and the holder's date of birth. The published statistics are aggregated figures only.")) }
        }
        p { (t("Les données ne sont ni vendues ni cédées à quiconque.", "The data are neither sold nor given to anyone.")) }

        h2 { (t("Cookies", "Cookies")) }
        p { (t(
            "Le service public de vérification ne dépose aucun cookie et ne mesure pas l'audience. L'administration, réservée aux agents, dépose un seul cookie de session, strictement nécessaire à la connexion (il n'a donc pas à recueillir de consentement) ; sa page de connexion dépose en outre, pour une heure, un cookie qui protège le formulaire contre les requêtes forgées, et une connexion avec ProConnect, pour dix minutes, un cookie qui lie le retour de ProConnect au navigateur qui y est allé.",
            "The public checking service sets no cookie and does not measure its audience. The administration, for agents only, sets a single session cookie, strictly necessary to stay signed in (so it needs no consent); its sign-in page also sets, for one hour, a cookie that protects the form against forged requests, and a sign-in with ProConnect, for ten minutes, a cookie that ties the return from ProConnect to the browser that went there.")) }

        h2 { (t("Vos droits", "Your rights")) }
        p { (t(
            "Vous pouvez accéder aux données qui vous concernent, les faire rectifier, demander la limitation de leur traitement ou vous y opposer (articles 15, 16, 18 et 21 du RGPD). Comme les données d'un dossier viennent de Démarches simplifiées, une rectification passe aussi par le service qui instruit votre demande.",
            "You may access the data about you, have them corrected, ask for their processing to be restricted or object to it (articles 15, 16, 18 and 21 of the GDPR). As an application's data come from Démarches simplifiées, a correction also goes through the service examining your application.")) }
        p { (t("Pour exercer ces droits ou pour toute question sur vos données : ", "To exercise these rights or for any question about your data: ")) (setting(&legal.dpo_contact, lang)) "." }
        p {
            (t(
                "Si, après nous avoir contactés, vous estimez que vos droits ne sont pas respectés, vous pouvez adresser une réclamation à la Commission nationale de l'informatique et des libertés (CNIL) : ",
                "If, after contacting us, you consider that your rights are not respected, you may lodge a complaint with the French data protection authority (CNIL): "))
            a.fr-link href="https://www.cnil.fr/fr/plaintes" { "cnil.fr" }
            (t(" ou par courrier, ", " or by post, "))
            span lang=[(lang == Lang::En).then_some("fr")] { "CNIL, 3 place de Fontenoy, TSA 80715, 75334 Paris Cedex 07" } "."
        }
    }
}

fn accessibility(lang: Lang, legal: &LegalSettings) -> Markup {
    let t = |fr: &'static str, en: &'static str| lang.pick(fr, en);
    let fr = (lang == Lang::En).then_some("fr");
    html! {
        p.fr-text--lead { (t(
            "Le ministère chargé du travail s'engage à rendre ses services numériques accessibles, conformément à l'article 47 de la loi n° 2005-102 du 11 février 2005. Cette déclaration s'applique à Work in France : le service public de vérification des autorisations et l'administration (back office) des agents.",
            "The ministry in charge of labour is committed to making its digital services accessible, in accordance with article 47 of French law no. 2005-102 of 11 February 2005. This statement applies to Work in France: the public service for checking authorisations and the agents' administration (back office).")) }

        h2 { (t("État de conformité", "Compliance status")) }
        p {
            (t("Work in France est ", "Work in France is "))
            strong { (t("partiellement conforme", "partially compliant")) }
            (t(
                " avec le référentiel général d'amélioration de l'accessibilité (RGAA), version 4.1 : aucun audit complet du RGAA n'a encore été réalisé.",
                " with the French accessibility framework (RGAA), version 4.1: no full RGAA audit has been carried out yet."))
        }

        h2 { (t("Résultats des tests", "Test results")) }
        p { (t(
            "Chaque page du service public (formulaire, réponses, erreurs, statistiques et pages légales, en français et en anglais) et de l'administration est vérifiée automatiquement, dans un vrai navigateur (Chromium), par l'outil axe-core (version 4), sur les règles WCAG 2.1 de niveaux A et AA. Lors de la dernière exécution, ces tests n'ont relevé aucune violation (0) ; une version n'est livrée que si ces tests passent.",
            "Every page of the public service (form, answers, errors, statistics and legal pages, in French and in English) and of the administration is checked automatically, in a real browser (Chromium), by the axe-core tool (version 4), against the WCAG 2.1 level A and AA rules. At the last run, these tests found no violation (0); a version is only released when these tests pass.")) }
        p { (t(
            "Ces tests automatiques ne couvrent qu'une partie des critères du RGAA.",
            "These automated tests only cover part of the RGAA criteria.")) }

        h2 { (t("Contenus non accessibles", "Non-accessible content")) }
        h3 { (t("Non-conformités connues", "Known non-compliance")) }
        ul {
            li { (t(
                "Aucun audit manuel n'a été réalisé : la navigation au clavier, la restitution par les lecteurs d'écran, l'affichage avec un zoom de 200 % ou sur un écran étroit et la pertinence des alternatives textuelles n'ont pas été vérifiés par une personne.",
                "No manual audit has been carried out: keyboard navigation, screen reader output, display at 200% zoom or on a narrow screen and the relevance of text alternatives have not been checked by a person.")) }
            li { (t(
                "Les graphiques des statistiques sont des images dont les couleurs et les contrastes n'ont pas été vérifiés manuellement ; chacun est suivi d'un tableau qui en donne toutes les valeurs.",
                "The statistics charts are images whose colours and contrasts have not been checked manually; each one is followed by a table giving all its values.")) }
            li { (t(
                "Les longs tableaux de l'administration (listes de dossiers) peuvent demander un défilement horizontal sur un écran étroit.",
                "The administration's long tables (lists of applications) may need horizontal scrolling on a narrow screen.")) }
        }
        h3 { (t("Dérogations pour charge disproportionnée", "Exemptions for disproportionate burden")) }
        p { (t("Aucune.", "None.")) }
        h3 { (t("Contenus non soumis à l'obligation d'accessibilité", "Content not subject to the accessibility obligation")) }
        p { (t(
            "Aucun. Les pages de Démarches simplifiées, vers lesquelles l'administration renvoie, relèvent de la déclaration d'accessibilité de ce service.",
            "None. The pages of Démarches simplifiées, which the administration links to, fall under that service's own accessibility statement.")) }

        h2 { (t("Établissement de cette déclaration", "Preparation of this statement")) }
        p { (t("Cette déclaration a été établie le ", "This statement was prepared on ")) (lang.pick(STATEMENT_DATE.0, STATEMENT_DATE.1)) "." }
        ul {
            li { (t(
                "Technologies utilisées : HTML, CSS (système de design de l'État, DSFR), SVG ; aucune page ne nécessite JavaScript.",
                "Technologies used: HTML, CSS (the French State design system, DSFR), SVG; no page needs JavaScript.")) }
            li { (t(
                "Environnement de test : Chromium sous Linux, piloté par WebDriver, avec axe-core.",
                "Test environment: Chromium on Linux, driven over WebDriver, with axe-core.")) }
        }

        h2 { (t("Retour d'information et contact", "Feedback and contact")) }
        p { (t(
            "Si vous n'arrivez pas à accéder à un contenu ou à un service, contactez-nous pour être orienté vers une alternative accessible ou obtenir le contenu sous une autre forme : ",
            "If you cannot access some content or a service, contact us to be directed to an accessible alternative or to get the content in another form: ")) (setting(&legal.dpo_contact, lang)) "." }

        h2 { (t("Voies de recours", "Recourse")) }
        p { (t(
            "Si vous nous avez signalé un défaut d'accessibilité qui vous empêche d'accéder à un contenu ou à l'un des services et que vous n'avez pas obtenu de réponse satisfaisante, vous pouvez saisir le Défenseur des droits :",
            "If you have reported to us an accessibility defect that prevents you from accessing some content or one of the services and did not get a satisfactory answer, you may refer the matter to the Défenseur des droits (the French rights ombudsman):")) }
        ul {
            li { (t("par le ", "through the ")) a.fr-link href="https://formulaire.defenseurdesdroits.fr/" { (t("formulaire en ligne", "online form")) } " ;" }
            li { (t("par téléphone : ", "by phone: ")) span lang=[fr] { "09 69 39 00 00" } " ;" }
            li { (t("auprès du ", "through the ")) a.fr-link href="https://www.defenseurdesdroits.fr/carte-des-delegues" { (t("délégué du Défenseur des droits de votre région", "Défenseur des droits' delegate in your region")) } " ;" }
            li {
                (t("par courrier, gratuit et sans timbre : ", "by post, free of charge and without a stamp: "))
                span lang=[fr] { "Défenseur des droits, Libre réponse 71120, 75342 Paris CEDEX 07" } "."
            }
        }
    }
}

fn notice(lang: Lang, root: &str, legal: &LegalSettings) -> Markup {
    let t = |fr: &'static str, en: &'static str| lang.pick(fr, en);
    html! {
        h2 { (t("Éditeur", "Publisher")) }
        p { (setting(&legal.publisher, lang)) }
        h2 { (t("Hébergement", "Hosting")) }
        p { (setting(&legal.hosting, lang)) }
        h2 { (t("Contact", "Contact")) }
        p { (t("Pour toute question sur le service ou sur vos données : ", "For any question about the service or your data: ")) (setting(&legal.dpo_contact, lang)) "." }
        h2 { (t("Accessibilité", "Accessibility")) }
        p {
            (t("Work in France est partiellement conforme au RGAA : voir la ", "Work in France is partially compliant with the RGAA: see the "))
            a.fr-link href=(LegalPage::Accessibility.href(root, lang)) { (LegalPage::Accessibility.title(lang).to_lowercase()) } "."
        }
        h2 { (t("Données personnelles", "Personal data")) }
        p {
            (t("Ce que le service fait de vos données, et vos droits : voir la page ", "What the service does with your data, and your rights: see the page "))
            a.fr-link href=(LegalPage::Privacy.href(root, lang)) { (LegalPage::Privacy.title(lang)) } "."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(markup: Markup) -> String {
        markup.into_string()
    }

    #[test]
    fn the_durations_come_from_the_policy() {
        let policy = RetentionPolicy {
            months: 24,
            deleted_days: 1,
            log_months: 6,
        };
        let fr = text(retention_table(&policy, Lang::Fr));
        assert!(fr.contains("24 mois après la plus tardive"), "{fr}");
        assert!(fr.contains("1 jour après sa suppression"), "{fr}");
        assert!(fr.contains("<td>6 mois</td>"), "{fr}");
        assert!(fr.contains("<td>30 jours</td>"), "{fr}");
        let en = text(retention_table(&policy, Lang::En));
        assert!(en.contains("24 months after the later"), "{en}");
        assert!(en.contains("1 day after its deletion"), "{en}");
        assert!(en.contains("<td>6 months</td>"), "{en}");
    }

    #[test]
    fn a_contact_is_a_link_when_it_is_an_address() {
        assert!(
            text(setting("dpd@travail.gouv.fr", Lang::Fr))
                .contains("href=\"mailto:dpd@travail.gouv.fr\"")
        );
        assert!(
            text(setting("https://exemple.gouv.fr/contact", Lang::Fr))
                .contains("href=\"https://exemple.gouv.fr/contact\"")
        );
        let postal = text(setting("DPD, 14 avenue Duquesne", Lang::En));
        assert_eq!(postal, "<span lang=\"fr\">DPD, 14 avenue Duquesne</span>");
    }

    #[test]
    fn the_english_links_keep_the_language() {
        assert_eq!(
            LegalPage::Privacy.href("", Lang::En),
            "/donnees-personnelles?lang=en"
        );
        assert_eq!(
            LegalPage::Notice.href("/admin", Lang::Fr),
            "/admin/mentions-legales"
        );
    }
}
