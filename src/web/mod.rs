//! What the two web services share to draw pages: the DSFR page frame, the charts, the embedded
//! static files, the legal pages' texts. Pages themselves live with their service (`admin/`,
//! `public/`).

use maud::{DOCTYPE, Markup, html};

pub mod assets;
pub mod charts;
pub mod legal;
pub mod statistics;

/// The language of a page: French, or English on the public pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Fr,
    En,
}

impl Lang {
    /// The text of the page's language.
    pub fn pick<'a>(self, fr: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Fr => fr,
            Lang::En => en,
        }
    }

    pub fn code(self) -> &'static str {
        self.pick("fr", "en")
    }
}

/// The frame of a page: DSFR header, main content under its title, footer.
pub struct Frame<'a> {
    /// The page's `lang`, and the language of the footer's links.
    pub lang: Lang,
    /// The `<title>` (with the service's name) and the `h1`.
    pub title: &'a str,
    pub service: &'a str,
    pub tagline: &'a str,
    /// Where the service's name leads.
    pub home: &'a str,
    /// Where the embedded static files are served: `/admin/static` or `/static`.
    pub static_root: &'a str,
    /// Whether search engines may index the page (the public pages), or not (the admin).
    pub indexed: bool,
    /// The label of the skip link to the content.
    pub skip_link: &'a str,
    pub footer: &'a str,
    /// Where the service serves the legal pages the footer links: `""` or `/admin`.
    pub legal_root: &'a str,
}

impl Frame<'_> {
    /// The whole page: `tools` go to the header's right (account, language), `menu` under it.
    pub fn render(&self, tools: Markup, menu: Markup, body: Markup) -> Markup {
        let root = self.static_root;
        html! {
            (DOCTYPE)
            html lang=(self.lang.code()) data-fr-scheme="light" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    @if !self.indexed { meta name="robots" content="noindex, nofollow"; }
                    title { (self.title) " — " (self.service) }
                    @if assets::dsfr_available() {
                        link rel="stylesheet" href=(format!("{root}/dsfr/dsfr.min.css"));
                        link rel="icon" href=(format!("{root}/dsfr/favicon/favicon.svg")) type="image/svg+xml";
                    }
                    link rel="stylesheet" href=(format!("{root}/wif.css"));
                }
                body {
                    div.fr-skiplinks {
                        nav.fr-container role="navigation" aria-label=(self.skip_link) {
                            ul.fr-skiplinks__list { li { a.fr-link href="#contenu" { (self.skip_link) } } }
                        }
                    }
                    header.fr-header role="banner" {
                        div.fr-header__body {
                            div.fr-container {
                                div.fr-header__body-row {
                                    div.fr-header__brand.fr-enlarge-link {
                                        div.fr-header__brand-top {
                                            div.fr-header__logo {
                                                p.fr-logo { "République" br; "Française" }
                                            }
                                        }
                                        div.fr-header__service {
                                            a href=(self.home) title=(format!("{} — {}", self.service, self.tagline)) {
                                                p.fr-header__service-title { (self.service) }
                                            }
                                            p.fr-header__service-tagline { (self.tagline) }
                                        }
                                    }
                                    div.fr-header__tools {
                                        div.fr-header__tools-links { (tools) }
                                    }
                                }
                            }
                        }
                        div.fr-header__menu {
                            div.fr-container { (menu) }
                        }
                    }
                    main #contenu .fr-container.fr-my-4w role="main" {
                        h1 { (self.title) }
                        (body)
                    }
                    footer.fr-footer role="contentinfo" {
                        div.fr-container {
                            div.fr-footer__body {
                                div.fr-footer__brand.fr-enlarge-link {
                                    p.fr-logo { "République" br; "Française" }
                                }
                                div.fr-footer__content {
                                    p.fr-footer__content-desc { (self.footer) }
                                }
                            }
                            (legal::footer_links(self.legal_root, self.lang))
                        }
                    }
                }
            }
        }
    }
}

/// The months in French, January first.
pub const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// A number with a thin space between thousands, as French writes it (English pages too: the
/// figures stay readable).
pub fn number(n: i64) -> String {
    let digits = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    if n < 0 {
        out.insert(0, '-');
    }
    out
}
