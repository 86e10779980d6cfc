//! The legal pages of SPEC §14 over HTTP, on the public service and on the admin: they answer in
//! French and English, say what the settings say (nothing hard-coded), and every page's footer
//! links them.

mod common;

use common::{ADMIN_PASSWORD, Agent, TestDb};
use reqwest::StatusCode;
use wif::config::Settings;

/// The three pages, by their last segment.
const PAGES: [&str; 3] = ["donnees-personnelles", "accessibilite", "mentions-legales"];

/// Settings from these variables only (the machine's environment is not read).
fn settings(vars: &[(&str, &str)]) -> Settings {
    Settings::from_lookup(|key| {
        vars.iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.to_string())
    })
    .unwrap()
}

/// A public service with these settings, on a free port, with no exported file; its base URL.
async fn start_public(vars: &[(&str, &str)]) -> (String, tempfile::TempDir) {
    let media = tempfile::tempdir().unwrap();
    let config = wif::public::PublicConfig {
        media_root: media.path().to_owned(),
        rate_limit_per_minute: 100_000,
        ..wif::public::PublicConfig::from_settings(&settings(vars))
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        wif::public::serve_on(listener, &config, std::future::pending())
            .await
            .unwrap()
    });
    (base, media)
}

async fn get(url: &str) -> (StatusCode, String) {
    // The project's client: it brings the TLS provider that reqwest is built without.
    let client = wif::ds::http_client().build().unwrap();
    let response = client.get(url).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

/// The footer's list of legal links, as the page has it.
fn footer_links(page: &str) -> &str {
    let start = page
        .find("<ul class=\"fr-footer__bottom-list\">")
        .unwrap_or_else(|| panic!("no legal links in the footer: {page}"));
    let end = start + page[start..].find("</ul>").unwrap();
    &page[start..end]
}

/// Asserts that `page`'s footer links the three pages under `root`, with `suffix` (`?lang=en`).
fn assert_footer_links(page: &str, root: &str, suffix: &str) {
    let links = footer_links(page);
    for slug in PAGES {
        let href = format!("class=\"fr-footer__bottom-link\" href=\"{root}/{slug}{suffix}\"");
        assert!(links.contains(&href), "{href} not in {links}");
    }
}

/// Collapses the text of a page so that a phrase split over lines by the markup still matches.
fn text(page: &str) -> String {
    page.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[tokio::test]
async fn the_public_legal_pages_answer_in_french_and_english() {
    let (base, _media) = start_public(&[]).await;
    let titles = [
        ("Données personnelles", "Personal data"),
        ("Déclaration d'accessibilité", "Accessibility statement"),
        ("Mentions légales", "Legal notice"),
    ];
    for (slug, (french, english)) in PAGES.into_iter().zip(titles) {
        let (status, page) = get(&format!("{base}/{slug}")).await;
        assert_eq!(status, StatusCode::OK, "/{slug}");
        assert!(page.contains("<html lang=\"fr\""), "/{slug}");
        assert!(page.contains(&format!("<h1>{french}</h1>")), "{page}");
        assert_footer_links(&page, "", "");

        let (status, page) = get(&format!("{base}/{slug}?lang=en")).await;
        assert_eq!(status, StatusCode::OK, "/{slug}?lang=en");
        assert!(page.contains("<html lang=\"en\""), "/{slug}?lang=en");
        assert!(page.contains(&format!("<h1>{english}</h1>")), "{page}");
        assert_footer_links(&page, "", "?lang=en");
        // The switch back to French stays on the page.
        assert!(
            page.contains(&format!("href=\"/{slug}?lang=fr\"")),
            "{page}"
        );
    }
    // What the statement must say: its status, its recourse.
    let (_, statement) = get(&format!("{base}/accessibilite")).await;
    let statement = text(&statement);
    assert!(statement.contains("partiellement conforme"));
    assert!(statement.contains("axe-core"));
    assert!(statement.contains("Défenseur des droits, Libre réponse 71120, 75342 Paris CEDEX 07"));
    assert!(statement.contains("09 69 39 00 00"));
    assert!(statement.contains("https://formulaire.defenseurdesdroits.fr/"));
    // The defaults of the settings, shown until the operator sets them.
    let (_, notice) = get(&format!("{base}/mentions-legales")).await;
    assert!(text(&notice).contains("Ministère du Travail"), "{notice}");
    assert!(text(&notice).contains("WIF_HOSTING"), "{notice}");
}

#[tokio::test]
async fn the_durations_and_contacts_come_from_the_settings() {
    let (base, _media) = start_public(&[]).await;
    let (_, default) = get(&format!("{base}/donnees-personnelles")).await;
    let default = text(&default);
    assert!(
        default.contains("12 mois après la plus tardive"),
        "{default}"
    );
    assert!(
        default.contains("30 jours après sa suppression"),
        "{default}"
    );
    assert!(default.contains("<td>12 mois</td>"), "{default}");
    assert!(
        default.contains("<td>30 jours</td>"),
        "failed sign-ins: {default}"
    );

    let vars = [
        ("WIF_RETENTION_MONTHS", "24"),
        ("WIF_RETENTION_DELETED_DAYS", "45"),
        ("WIF_LOG_RETENTION_MONTHS", "6"),
        ("WIF_DPO_CONTACT", "dpd-wif@travail.gouv.fr"),
        (
            "WIF_PUBLISHER",
            "Direction de l'essai, 1 rue du Test, 75000 Paris",
        ),
        (
            "WIF_HOSTING",
            "Hébergeur d'essai, 2 rue du Serveur, 59000 Lille",
        ),
    ];
    let (base, _media) = start_public(&vars).await;
    let (status, page) = get(&format!("{base}/donnees-personnelles")).await;
    assert_eq!(status, StatusCode::OK);
    let page = text(&page);
    assert!(page.contains("24 mois après la plus tardive"), "{page}");
    assert!(page.contains("45 jours après sa suppression"), "{page}");
    assert!(page.contains("<td>6 mois</td>"), "{page}");
    assert!(
        !page.contains("12 mois"),
        "a default left in the text: {page}"
    );
    assert!(
        page.contains("href=\"mailto:dpd-wif@travail.gouv.fr\""),
        "{page}"
    );
    assert!(page.contains("Direction de l'essai"), "{page}");
    let (_, english) = get(&format!("{base}/donnees-personnelles?lang=en")).await;
    let english = text(&english);
    assert!(english.contains("24 months after the later"), "{english}");
    assert!(english.contains("45 days after its deletion"), "{english}");
    assert!(english.contains("<td>6 months</td>"), "{english}");
    let (_, notice) = get(&format!("{base}/mentions-legales")).await;
    let notice = text(&notice);
    assert!(notice.contains("2 rue du Serveur, 59000 Lille"), "{notice}");
    assert!(notice.contains("1 rue du Test"), "{notice}");
    assert!(notice.contains("dpd-wif@travail.gouv.fr"), "{notice}");
    let (_, statement) = get(&format!("{base}/accessibilite")).await;
    assert!(
        statement.contains("mailto:dpd-wif@travail.gouv.fr"),
        "the contact"
    );

    // The admin serves the same texts, from its own settings.
    let t = TestDb::sqlite(true).await;
    let admin = common::start_admin_configured(&t, &vars, |_| {}).await;
    let (status, page) = get(&format!("{admin}/admin/donnees-personnelles")).await;
    assert_eq!(status, StatusCode::OK);
    let page = text(&page);
    assert!(page.contains("24 mois après la plus tardive"), "{page}");
    assert!(page.contains("45 jours après sa suppression"), "{page}");
    assert!(page.contains("<td>6 mois</td>"), "{page}");
    let (_, notice) = get(&format!("{admin}/admin/mentions-legales")).await;
    assert!(text(&notice).contains("2 rue du Serveur, 59000 Lille"));
}

#[tokio::test]
async fn every_public_page_links_the_legal_pages_in_its_footer() {
    let (base, _media) = start_public(&[]).await;
    for path in [
        "/",
        "/verifier?numero=44950",
        "/verifier?numero=12a&date_de_naissance=1997-02-30",
        "/verifier?numero=44950&date_de_naissance=1978-12-20",
        "/statistiques",
    ] {
        let (_, page) = get(&format!("{base}{path}")).await;
        assert_footer_links(&page, "", "");
        let separator = if path.contains('?') { '&' } else { '?' };
        let (_, page) = get(&format!("{base}{path}{separator}lang=en")).await;
        assert_footer_links(&page, "", "?lang=en");
    }
    // The accessibility link states the compliance, as the RGAA asks.
    let (_, page) = get(&format!("{base}/")).await;
    assert!(footer_links(&page).contains("Accessibilité : partiellement conforme"));
}

#[tokio::test]
async fn the_admin_links_and_serves_the_legal_pages() {
    let t = TestDb::sqlite(true).await;
    common::create_user(&t, "marie", false).await;
    let base = common::start_admin(&t).await;
    let mut agent = Agent::new(&base);

    // Before signing in: the login page links them, and they open without a session.
    let login = agent.get("/admin/login").await;
    assert_eq!(login.status, StatusCode::OK);
    assert_footer_links(&login.body, "/admin", "");
    for slug in PAGES {
        let page = agent.get(&format!("/admin/{slug}")).await;
        assert_eq!(page.status, StatusCode::OK, "/admin/{slug}: {}", page.body);
        assert!(page.body.contains("<html lang=\"fr\""));
        assert_footer_links(&page.body, "/admin", "");
    }
    let privacy = text(&agent.get("/admin/donnees-personnelles").await.body);
    assert!(privacy.contains("mission d'intérêt public"), "{privacy}");
    assert!(privacy.contains("ne dépose aucun cookie"), "{privacy}");

    // Signed in: every page has them too.
    let signed_in = agent.sign_in("marie", ADMIN_PASSWORD).await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.body
    );
    for path in ["/admin/", "/admin/dossiers/", "/admin/stats/"] {
        let page = agent.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert_footer_links(&page.body, "/admin", "");
    }
    // An error page as well.
    let missing = agent.get("/admin/nulle-part").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_footer_links(&missing.body, "/admin", "");
}
