//! The page frame (DSFR header, navigation, footer) and the small pieces every page uses:
//! French dates, status tags, sortable headers, pagination, query strings.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use maud::{Markup, PreEscaped, html};

use crate::store::sessions::Session;
pub use crate::web::number;
use crate::web::{Frame, Lang};

/// The sections of the navigation, each shown to its audience only.
const SECTIONS: [(&str, &str, Audience); 11] = [
    ("/admin/", "Accueil", Audience::Agents),
    ("/admin/dossiers/", "Dossiers", Audience::Agents),
    ("/admin/alertes/", "Alertes", Audience::Agents),
    ("/admin/prefecture/", "Suivi Préfecture", Audience::Agents),
    ("/admin/stats/", "Statistiques", Audience::Agents),
    ("/admin/rapports/", "Rapports mensuels", Audience::Agents),
    ("/admin/sync/", "Synchronisation", Audience::NationalAgents),
    ("/admin/users/", "Utilisateurs", Audience::Administrators),
    (
        "/admin/access-log/",
        "Journal d'accès",
        Audience::Administrators,
    ),
    ("/admin/emails/", "E-mails", Audience::Administrators),
    (
        "/admin/conservation/",
        "Conservation des données",
        Audience::Administrators,
    ),
];

/// Who may open a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Agents,
    /// Agents not limited to départements (the page shows the whole country's activity).
    NationalAgents,
    Administrators,
}

impl Audience {
    pub fn admits(self, session: &Session) -> bool {
        match self {
            Audience::Agents => true,
            Audience::NationalAgents => session.scope.departments().is_none(),
            Audience::Administrators => session.user.is_superuser,
        }
    }
}

/// Whether `path` is the address of a section of the navigation.
pub fn is_section(path: &str) -> bool {
    SECTIONS.iter().any(|(href, _, _)| *href == path)
}

/// A whole page: `current` is the navigation entry to highlight.
pub fn page(title: &str, session: Option<&Session>, current: &str, body: Markup) -> Markup {
    let frame = Frame {
        lang: Lang::Fr,
        title,
        service: "Work in France — back office",
        tagline: "Autorisations provisoires de travail des étudiants étrangers",
        home: "/admin/",
        static_root: "/admin/static",
        indexed: false,
        skip_link: "Contenu",
        footer: "Back office de Work in France : suivi des demandes d'autorisation provisoire de travail. \
                 Accès réservé aux agents habilités ; chaque consultation de dossier est journalisée.",
        // The admin does not know the public service's address: it serves the same texts itself.
        legal_root: "/admin",
    };
    frame.render(tools(session), menu(session, current), body)
}

fn tools(session: Option<&Session>) -> Markup {
    html! {
        @if let Some(session) = session {
            ul.fr-btns-group {
                li {
                    span.fr-btn.fr-icon-account-circle-line { (session.user.username)
                        @if session.user.is_superuser { " (administrateur)" }
                        @if let Some(departments) = session.scope.departments() { " (" (departments.join(", ")) ")" } }
                }
                li {
                    form method="post" action="/admin/logout" {
                        (csrf_field(session))
                        button.fr-btn.fr-icon-logout-box-r-line type="submit" { "Se déconnecter" }
                    }
                }
            }
        }
    }
}

fn menu(session: Option<&Session>, current: &str) -> Markup {
    html! {
        @if let Some(session) = session {
            nav.fr-nav role="navigation" aria-label="Menu principal" {
                ul.fr-nav__list {
                    @for (href, label, audience) in SECTIONS {
                        @if audience.admits(session) {
                            li.fr-nav__item {
                                @if href == current {
                                    a.fr-nav__link href=(href) aria-current="page" { (label) }
                                } @else {
                                    a.fr-nav__link href=(href) { (label) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The hidden field every form of a signed-in user carries.
pub fn csrf_field(session: &Session) -> Markup {
    html! { input type="hidden" name="csrf" value=(session.csrf_token); }
}

/// A DSFR alert: `kind` is `error`, `success`, `info` or `warning`.
pub fn alert(kind: &str, message: &str) -> Markup {
    html! {
        div class=(format!("fr-alert fr-alert--{kind} fr-alert--sm fr-mb-3w")) role="alert" {
            p { (message) }
        }
    }
}

/// `DD/MM/YYYY`, or an em dash for nothing.
pub fn date(d: Option<NaiveDate>) -> String {
    d.map_or("—".into(), |d| d.format("%d/%m/%Y").to_string())
}

/// `DD/MM/YYYY HH:MM` in the service's time zone.
pub fn datetime(t: Option<DateTime<Utc>>, tz: Tz) -> String {
    t.map_or("—".into(), |t| {
        t.with_timezone(&tz).format("%d/%m/%Y %H:%M").to_string()
    })
}

/// The DSFR tag of a status, with its French label.
pub fn status_tag(status: crate::domain::Status) -> Markup {
    let (status, label) = (status.as_str(), status.label());
    html! { span class=(format!("fr-tag fr-tag--sm wif-status wif-status--{status}")) { (label) } }
}

/// The query string of a list page: its parameters in a stable order, to change one at a time.
#[derive(Debug, Clone, Default)]
pub struct Params(Vec<(String, String)>);

/// The parameters that say which page of a list is shown: `p`, its number, and for the pages
/// reached by "page suivante" or "page précédente", the dossier they follow or precede.
pub const PAGE_KEYS: [&str; 3] = ["p", "apres", "avant"];

impl Params {
    pub fn from_pairs(pairs: &[(String, String)], keep: &[&str]) -> Params {
        Params(
            pairs
                .iter()
                .filter(|(k, v)| keep.contains(&k.as_str()) && !v.is_empty())
                .cloned()
                .collect(),
        )
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The same parameters with `key` set to `value` (or removed when `None`), back to page 1.
    pub fn with(&self, key: &str, value: Option<&str>) -> String {
        let mut pairs: Vec<(String, String)> = self
            .0
            .iter()
            .filter(|(k, _)| k != key && !PAGE_KEYS.contains(&k.as_str()))
            .cloned()
            .collect();
        if let Some(value) = value {
            pairs.push((key.to_owned(), value.to_owned()));
        }
        pairs.sort();
        Params(pairs).to_query()
    }

    /// Page `page` of the same list.
    pub fn page(&self, page: i64) -> String {
        self.page_beside(page, None)
    }

    /// Page `page`, found next to a dossier of the page shown: `("apres", n)` or `("avant", n)`.
    fn page_beside(&self, page: i64, beside: Option<(&str, i64)>) -> String {
        let mut pairs: Vec<(String, String)> = self
            .0
            .iter()
            .filter(|(k, _)| !PAGE_KEYS.contains(&k.as_str()))
            .cloned()
            .collect();
        if page > 1 {
            pairs.push(("p".into(), page.to_string()));
            if let Some((key, ds_id)) = beside {
                pairs.push((key.into(), ds_id.to_string()));
            }
        }
        pairs.sort();
        Params(pairs).to_query()
    }

    fn to_query(&self) -> String {
        match self.0.is_empty() {
            true => "?".into(),
            false => format!(
                "?{}",
                serde_urlencoded::to_string(&self.0).unwrap_or_default()
            ),
        }
    }
}

/// A column header that sorts the list by `key`, ascending first, then descending.
pub fn sort_header(label: &str, key: &str, params: &Params) -> Markup {
    let current = params.get("o").unwrap_or_default();
    let (next, arrow, aria) = if current == key {
        (format!("-{key}"), " ▲", "ascending")
    } else if current.strip_prefix('-') == Some(key) {
        (key.to_owned(), " ▼", "descending")
    } else {
        (key.to_owned(), "", "none")
    };
    html! {
        th scope="col" aria-sort=(aria) {
            a href=(params.with("o", Some(&next))) title=(format!("Trier par {}", label.to_lowercase())) {
                (label) (arrow)
            }
        }
    }
}

/// The DSFR pagination of a list of `total` items, `per_page` at a time, on `page` (from 1).
/// With `edges`, the first and last dossier numbers of the page shown, the previous and next
/// pages are found from them rather than by counting rows.
pub fn pagination(
    total: i64,
    per_page: i64,
    page: i64,
    params: &Params,
    edges: Option<(i64, i64)>,
) -> Markup {
    let previous = params.page_beside(page - 1, edges.map(|(first, _)| ("avant", first)));
    let next = params.page_beside(page + 1, edges.map(|(_, last)| ("apres", last)));
    let pages = ((total + per_page - 1) / per_page).max(1);
    let shown: Vec<i64> = {
        let mut v: Vec<i64> = [1, page - 2, page - 1, page, page + 1, page + 2, pages]
            .into_iter()
            .filter(|p| (1..=pages).contains(p))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    html! {
        @if pages > 1 {
            nav.fr-pagination role="navigation" aria-label="Pagination" {
                ul.fr-pagination__list {
                    li {
                        @if page > 1 {
                            a.fr-pagination__link.fr-pagination__link--prev.fr-pagination__link--lg-label href=(previous) { "Page précédente" }
                        } @else {
                            a.fr-pagination__link.fr-pagination__link--prev.fr-pagination__link--lg-label aria-disabled="true" role="link" { "Page précédente" }
                        }
                    }
                    @for (i, p) in shown.iter().enumerate() {
                        @if i > 0 && shown[i - 1] + 1 < *p {
                            li { span.fr-pagination__link { "…" } }
                        }
                        li {
                            @if *p == page {
                                a.fr-pagination__link aria-current="page" title=(format!("Page {p}")) { (p) }
                            } @else {
                                a.fr-pagination__link href=(params.page(*p)) title=(format!("Page {p}")) { (p) }
                            }
                        }
                    }
                    li {
                        @if page < pages {
                            a.fr-pagination__link.fr-pagination__link--next.fr-pagination__link--lg-label href=(next) { "Page suivante" }
                        } @else {
                            a.fr-pagination__link.fr-pagination__link--next.fr-pagination__link--lg-label aria-disabled="true" role="link" { "Page suivante" }
                        }
                    }
                }
            }
        }
    }
}

/// "1 234 dossiers" above a list.
pub fn total_line(total: i64, noun: &str) -> Markup {
    html! { p.wif-total { strong { (number(total)) } " " (noun) @if total > 1 { "s" } } }
}

/// Pretty-printed JSON, escaped for HTML.
pub fn json_block(value: &serde_json::Value) -> Markup {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    html! { pre.wif-json { code { (text) } } }
}

/// Markup already escaped by its maker.
pub fn trusted(svg: String) -> Markup {
    PreEscaped(svg)
}
