//! The public pages (`wif serve-public`): verify an APT with a form, and the statistics, in
//! French or English, without JavaScript. They read the exported files only, like the API.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use maud::{Markup, html};

use super::{AppState, check, rate_limited};
use crate::domain::dates::parse_iso_date;
use crate::domain::validity::ValidityRecord;
use crate::domain::{DsId, ProcedureKind};
use crate::export::stats::StatsFile;
use crate::web::legal::LegalPage;
use crate::web::{Frame, Lang, statistics};

/// The query of the pages: the form's fields and the language.
#[derive(Debug, Default, serde::Deserialize)]
struct PageQuery {
    numero: Option<String>,
    date_de_naissance: Option<String>,
    lang: Option<String>,
}

fn parse_query(raw: Option<&str>) -> PageQuery {
    serde_urlencoded::from_str(raw.unwrap_or_default()).unwrap_or_default()
}

/// `?lang=` first, then the browser's first preferred language; French by default.
fn language(query: &PageQuery, headers: &HeaderMap) -> Lang {
    let asked = query.lang.as_deref().or_else(|| {
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
    });
    match asked.map(|l| l.trim().to_ascii_lowercase()) {
        Some(l) if l == "en" || l.starts_with("en-") => Lang::En,
        _ => Lang::Fr,
    }
}

/// The navigation entries: (path, French, English).
const SECTIONS: [(&str, &str, &str); 2] = [
    ("/", "Vérifier une autorisation", "Check an authorisation"),
    ("/statistiques", "Statistiques", "Statistics"),
];

/// The navigation entry of a page: the answers belong to the form's.
fn section(path: &str) -> &str {
    match path {
        "/verifier" => "/",
        other => other,
    }
}

fn with_lang(path: &str, lang: Lang) -> String {
    match lang {
        Lang::Fr => path.to_owned(),
        Lang::En => format!("{path}?lang=en"),
    }
}

/// A public page: `path` is the address shown (for the navigation and the language switch, which
/// keeps `query`).
fn page(lang: Lang, title: &str, path: &str, query: &PageQuery, body: Markup) -> Markup {
    let t = |fr: &'static str, en: &'static str| lang.pick(fr, en);
    let switch = |to: Lang| {
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        if let Some(n) = query.numero.as_deref() {
            pairs.push(("numero", n));
        }
        if let Some(d) = query.date_de_naissance.as_deref() {
            pairs.push(("date_de_naissance", d));
        }
        pairs.push(("lang", to.code()));
        format!(
            "{path}?{}",
            serde_urlencoded::to_string(pairs).unwrap_or_default()
        )
    };
    let tools = html! {
        ul.fr-btns-group {
            @for (to, label) in [(Lang::Fr, "Français"), (Lang::En, "English")] {
                li {
                    a.fr-btn.fr-btn--tertiary-no-outline href=(switch(to)) lang=(to.code()) hreflang=(to.code())
                        aria-current=[(to == lang).then_some("true")] { (label) }
                }
            }
        }
    };
    let menu = html! {
        nav.fr-nav role="navigation" aria-label=(t("Menu principal", "Main menu")) {
            ul.fr-nav__list {
                @for (href, fr, en) in SECTIONS {
                    li.fr-nav__item {
                        a.fr-nav__link href=(with_lang(href, lang)) aria-current=[(href == section(path)).then_some("page")] { (lang.pick(fr, en)) }
                    }
                }
            }
        }
    };
    let frame = Frame {
        lang,
        title,
        service: "Work in France",
        tagline: t(
            "Autorisations provisoires de travail des étudiants étrangers",
            "Temporary work authorisations of foreign students",
        ),
        home: if lang == Lang::En { "/?lang=en" } else { "/" },
        static_root: "/static",
        indexed: true,
        skip_link: t("Contenu", "Content"),
        footer: t(
            "Work in France : vérification des autorisations provisoires de travail délivrées aux étudiants étrangers. \
             Les noms sont masqués ; aucune donnée n'est conservée sur les vérifications.",
            "Work in France: checking the temporary work authorisations granted to foreign students. \
             Names are masked; nothing is kept about the checks.",
        ),
        legal_root: "",
    };
    frame.render(tools, menu, body)
}

/// What the form says is wrong, per field.
#[derive(Default)]
struct FormErrors {
    numero: Option<&'static str>,
    date: Option<&'static str>,
}

impl FormErrors {
    fn any(&self) -> bool {
        self.numero.is_some() || self.date.is_some()
    }
}

fn form(lang: Lang, query: &PageQuery, errors: &FormErrors) -> Markup {
    let t = |fr: &'static str, en: &'static str| lang.pick(fr, en);
    let field = |id: &str,
                 label: &str,
                 hint: &str,
                 kind: &str,
                 value: &str,
                 error: Option<&str>,
                 extra: Markup| {
        let described = match error {
            Some(_) => format!("{id}-aide {id}-erreur"),
            None => format!("{id}-aide"),
        };
        html! {
            div class=(if error.is_some() { "fr-input-group fr-input-group--error" } else { "fr-input-group" }) {
                label.fr-label for=(id) { (label) span.fr-hint-text #(format!("{id}-aide")) { (hint) } }
                input class=(if error.is_some() { "fr-input fr-input--error" } else { "fr-input" })
                    #(id) name=(id) type=(kind) value=(value) aria-describedby=(described)
                    aria-invalid=[error.map(|_| "true")] required;
                @if let Some(error) = error {
                    p.fr-error-text #(format!("{id}-erreur")) { (error) }
                }
                (extra)
            }
        }
    };
    html! {
        form method="get" action="/verifier" novalidate {
            @if lang == Lang::En { input type="hidden" name="lang" value="en"; }
            fieldset.fr-fieldset {
                legend.fr-fieldset__legend { (t("Informations figurant sur l'attestation", "Details printed on the certificate")) }
                div.fr-fieldset__element {
                    (field("numero", t("Numéro de l'autorisation", "Authorisation number"),
                        t("Le numéro de dossier de l'attestation, en chiffres (exemple : 44950)", "The application number on the certificate, in digits (example: 44950)"),
                        "text", query.numero.as_deref().unwrap_or_default(), errors.numero,
                        html! {}))
                }
                div.fr-fieldset__element {
                    (field("date_de_naissance", t("Date de naissance du titulaire", "Holder's date of birth"),
                        t("Format : AAAA-MM-JJ (exemple : 1998-05-17)", "Format: YYYY-MM-DD (example: 1998-05-17)"),
                        "date", query.date_de_naissance.as_deref().unwrap_or_default(), errors.date,
                        html! {}))
                }
                div.fr-fieldset__element {
                    button.fr-btn type="submit" { (t("Vérifier", "Check")) }
                }
            }
        }
    }
}

fn html_response(status: StatusCode, markup: Markup) -> Response {
    (status, markup).into_response()
}

/// `GET /`: the verification form.
pub async fn home(visit: Visit) -> Response {
    let Visit { query, lang, .. } = visit;
    let title = lang.pick(
        "Vérifier une autorisation provisoire de travail",
        "Check a temporary work authorisation",
    );
    let body = html! {
        p.fr-text--lead { (lang.pick(
            "Employeurs, forces de l'ordre : vérifiez qu'une attestation d'autorisation provisoire de travail (APT) délivrée à un étudiant étranger est authentique et en cours de validité.",
            "Employers, police officers: check that a temporary work authorisation certificate (APT) granted to a foreign student is authentic and still valid.")) }
        (form(lang, &query, &FormErrors::default()))
    };
    html_response(StatusCode::OK, page(lang, title, "/", &query, body))
}

/// `GET /verifier?numero=…&date_de_naissance=…`: the answer, or the form with its errors; with
/// the number alone (a QR code on a certificate), the form with the number filled in.
pub async fn verify(visit: Visit) -> Response {
    let Visit { state, query, lang } = visit;
    let t = |fr: &'static str, en: &'static str| lang.pick(fr, en);
    let numero = query.numero.as_deref().map(str::trim).unwrap_or_default();
    let date = query
        .date_de_naissance
        .as_deref()
        .map(str::trim)
        .unwrap_or_default();
    let title = t(
        "Vérifier une autorisation provisoire de travail",
        "Check a temporary work authorisation",
    );
    if date.is_empty() && !numero.is_empty() && numero.parse::<DsId>().is_ok() {
        let body = html! {
            p { (t("Indiquez la date de naissance du titulaire pour vérifier l'autorisation.", "Enter the holder's date of birth to check the authorisation.")) }
            (form(lang, &query, &FormErrors::default()))
        };
        return html_response(StatusCode::OK, page(lang, title, "/verifier", &query, body));
    }
    let ds_id = numero.parse::<DsId>();
    let birth_date = parse_iso_date(date);
    let errors = FormErrors {
        numero: ds_id.is_err().then(|| match numero.is_empty() {
            true => t(
                "Indiquez le numéro de l'autorisation.",
                "Enter the authorisation number.",
            ),
            false => t(
                "Le numéro doit comporter de 1 à 19 chiffres.",
                "The number must have 1 to 19 digits.",
            ),
        }),
        date: birth_date.is_none().then(|| match date.is_empty() {
            true => t("Indiquez la date de naissance.", "Enter the date of birth."),
            false => t(
                "La date de naissance doit être une date réelle au format AAAA-MM-JJ.",
                "The date of birth must be a real date, as YYYY-MM-DD.",
            ),
        }),
    };
    if let (Ok(ds_id), Some(birth_date), false) = (ds_id, birth_date, errors.any()) {
        let found = check(&state, ds_id, birth_date);
        let body = answer(lang, found.first(), &query);
        return html_response(StatusCode::OK, page(lang, title, "/verifier", &query, body));
    }
    let error_title = format!("{} {title}", t("Erreur :", "Error:"));
    let body = html! {
        div.fr-alert.fr-alert--error.fr-alert--sm.fr-mb-3w role="alert" {
            p { (t("Le formulaire contient des erreurs : corrigez les champs signalés.", "The form has errors: correct the fields shown.")) }
        }
        (form(lang, &query, &errors))
    };
    html_response(
        StatusCode::BAD_REQUEST,
        page(lang, &error_title, "/verifier", &query, body),
    )
}

fn date_text(date: Option<NaiveDate>, lang: Lang) -> String {
    date.map_or("—".to_owned(), |d| match lang {
        Lang::Fr => d.format("%d/%m/%Y").to_string(),
        Lang::En => d.format("%Y-%m-%d").to_string(),
    })
}

/// The answer to a complete form: the record as exported when valid; one generic answer
/// otherwise, that does not tell whether the number exists.
fn answer(lang: Lang, record: Option<&ValidityRecord>, query: &PageQuery) -> Markup {
    let t = |fr: &'static str, en: &'static str| lang.pick(fr, en);
    let again = PageQuery {
        numero: None,
        date_de_naissance: None,
        lang: query.lang.clone(),
    };
    html! {
        @match record {
            Some(r) => {
                div.fr-alert.fr-alert--success.fr-mb-3w role="status" {
                    h2.fr-alert__title { (t("Autorisation valide", "Valid authorisation")) }
                    p { (t("Cette autorisation existe et est en cours de validité aujourd'hui. Vérifiez que les lettres visibles du nom correspondent à la personne.",
                           "This authorisation exists and is valid today. Check that the visible letters of the name match the person.")) }
                }
                div.fr-table { table {
                    caption { (t("L'autorisation", "The authorisation")) " n° " (r.ds_id) }
                    tbody {
                        tr { th scope="row" { (t("Nom", "Surname")) } td.wif-masked { (r.nom) } }
                        tr { th scope="row" { (t("Prénom", "First name")) } td.wif-masked { (r.prenom) } }
                        tr { th scope="row" { (t("Type", "Type")) } td { (match r.kind {
                            ProcedureKind::Authorization => t("Autorisation provisoire de travail", "Temporary work authorisation"),
                            ProcedureKind::Introduction => t("Demande d'introduction", "Introduction request"),
                        }) } }
                        tr { th scope="row" { (t("Début", "Start")) } td { (date_text(r.date_de_debut_apt, lang)) } }
                        tr { th scope="row" { (t("Fin", "End")) } td { (date_text(r.date_de_fin_apt, lang)) } }
                    }
                } }
            }
            None => {
                div.fr-alert.fr-alert--warning.fr-mb-3w role="status" {
                    h2.fr-alert__title { (t("Aucune autorisation valide", "No valid authorisation")) }
                    p { (t("Aucune autorisation valide ne correspond à ce numéro et à cette date de naissance. Vérifiez qu'ils sont recopiés exactement depuis l'attestation ; une autorisation dont la date de fin est passée n'est plus valide.",
                           "No valid authorisation matches this number and date of birth. Check that they are copied exactly from the certificate; an authorisation whose end date has passed is no longer valid.")) }
                }
            }
        }
        h2 { (t("Vérifier une autre autorisation", "Check another authorisation")) }
        (form(lang, &again, &FormErrors::default()))
    }
}

/// `GET /statistiques`: the figures of the exported `stats.json`.
pub async fn statistics_page(visit: Visit) -> Response {
    let Visit { state, query, lang } = visit;
    let t = |fr: &'static str, en: &'static str| lang.pick(fr, en);
    let stats: Option<StatsFile> = state
        .data
        .stats()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    let body = match &stats {
        Some(stats) => html! {
            p.fr-text--sm { (t("Mises à jour le ", "Updated on ")) (stats.data.last_update.get(..10).unwrap_or(&stats.data.last_update)) "." }
            (statistics::figures(stats, lang))
        },
        None => html! {
            div.fr-alert.fr-alert--info.fr-alert--sm role="status" {
                p { (t("Les statistiques ne sont pas encore disponibles : revenez plus tard.", "The statistics are not available yet: come back later.")) }
            }
        },
    };
    let title = t("Statistiques", "Statistics");
    html_response(
        StatusCode::OK,
        page(lang, title, "/statistiques", &query, body),
    )
}

/// `GET /donnees-personnelles`, `/accessibilite`, `/mentions-legales` (SPEC §14).
pub async fn legal(visit: Visit, legal: LegalPage) -> Response {
    let Visit { state, query, lang } = visit;
    let body = legal.body(lang, "", &state.legal);
    let path = format!("/{}", legal.slug());
    html_response(
        StatusCode::OK,
        page(lang, legal.title(lang), &path, &query, body),
    )
}

/// What every page starts from: its query and language, once one request has been taken from
/// the visitor's allowance (the pages share the API's); beyond it, the `429` page.
pub struct Visit {
    state: Arc<AppState>,
    query: PageQuery,
    lang: Lang,
}

impl FromRequestParts<Arc<AppState>> for Visit {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Visit, Response> {
        let query = parse_query(parts.uri.query());
        let lang = language(&query, &parts.headers);
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| *peer)
            .ok_or_else(|| StatusCode::INTERNAL_SERVER_ERROR.into_response())?;
        match rate_limited(state, peer, &parts.headers) {
            Some(seconds) => Err(too_many_requests(lang, seconds)),
            None => Ok(Visit {
                state: state.clone(),
                query,
                lang,
            }),
        }
    }
}

/// The `429` page of the pages, in the visitor's language.
pub fn too_many_requests(lang: Lang, seconds: u64) -> Response {
    let t = |fr: &'static str, en: &'static str| lang.pick(fr, en);
    let body = html! {
        div.fr-alert.fr-alert--error role="alert" {
            p { (t("Trop de requêtes depuis votre adresse : réessayez dans quelques secondes.", "Too many requests from your address: try again in a few seconds.")) }
        }
        p { a.fr-link href=(with_lang("/", lang)) { (t("Retour au formulaire", "Back to the form")) } }
    };
    let mut response = html_response(
        StatusCode::TOO_MANY_REQUESTS,
        page(
            lang,
            t("Trop de requêtes", "Too many requests"),
            "",
            &PageQuery::default(),
            body,
        ),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, seconds.into());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(accept: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_LANGUAGE, accept.parse().unwrap());
        headers
    }

    #[test]
    fn the_language_comes_from_the_query_then_the_browser() {
        let none = PageQuery::default();
        assert_eq!(language(&none, &HeaderMap::new()), Lang::Fr);
        assert_eq!(language(&none, &headers("en-GB,en;q=0.9")), Lang::En);
        assert_eq!(language(&none, &headers("fr-FR,en;q=0.5")), Lang::Fr);
        let asked = PageQuery {
            lang: Some("fr".into()),
            ..PageQuery::default()
        };
        assert_eq!(language(&asked, &headers("en")), Lang::Fr);
        let english = parse_query(Some("numero=12&lang=en"));
        assert_eq!(language(&english, &HeaderMap::new()), Lang::En);
    }
}
