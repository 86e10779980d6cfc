//! The admin in a real headless Chromium, driven over the W3C WebDriver protocol: sign in, the
//! dossiers list with its filters, search and date drill-down, a dossier, Suivi Préfecture, sign
//! out; the alerts and the e-mails; the Synchronisation page receiving DS webhooks; signing in
//! and out with ProConnect at a test OpenID provider. Screenshots of each step land in
//! `target/screenshots/` for a person to look at.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian's `chromium` and
//! `chromium-driver`); without them the test is skipped, unless `WIF_REQUIRE_BROWSER` or `CI` is
//! set. The accessibility checks need `node_modules/axe-core` (`npm ci`).

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use calamine::Reader;
use chrono::{Datelike, NaiveDateTime};
use common::TestDb;
use serde_json::{Value, json};
use wif::domain::alerts::{AlertCode, AlertRules};
use wif::domain::{Dossier, Status};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long a page, an element or the driver may take to show up.
const PATIENCE: Duration = Duration::from_secs(10);
/// The key of an element reference in W3C WebDriver answers.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A chromedriver of our own with one browser session; both end on drop.
struct Browser {
    http: reqwest::Client,
    /// `http://127.0.0.1:<port>/session/<id>`.
    session: String,
    /// Dropped after the session has ended: the driver, then Chromium's profile.
    _driver: Driver,
    _profile: tempfile::TempDir,
    /// `target/screenshots/`.
    shots: PathBuf,
    engine: String,
}

/// The chromedriver process, killed on drop, even when the session could not start.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// An element of the current page, as the driver names it.
struct Element(String);

impl Browser {
    async fn start(engine: &str) -> Browser {
        let mut driver = Driver(
            Command::new(CHROMEDRIVER)
                .arg("--port=0")
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("chromedriver starts"),
        );
        // With port 0, the driver listens where the system lets it, and says so on its output.
        let output = driver.0.stdout.take().unwrap();
        let port = tokio::task::spawn_blocking(move || {
            let mut lines = std::io::BufRead::lines(std::io::BufReader::new(output));
            let port = lines.by_ref().map_while(Result::ok).find_map(|line| {
                let (_, port) = line.split_once("started successfully on port ")?;
                port.trim_end_matches('.').parse::<u16>().ok()
            });
            // The rest is read and dropped, so that the driver never waits on a full pipe.
            std::thread::spawn(move || lines.for_each(drop));
            port
        })
        .await
        .unwrap()
        .expect("chromedriver says on which port it listens");
        // A bound on any command, however slow the page: a stuck browser fails the test.
        let http = wif::ds::http_client()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let root = format!("http://127.0.0.1:{port}");
        common::poll(PATIENCE, || async {
            let status: Value = http
                .get(format!("{root}/status"))
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            status["value"]["ready"].as_bool().filter(|r| *r)
        })
        .await
        .expect("chromedriver ready within 10 s");

        let profile = tempfile::tempdir().unwrap();
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1400,1000",
            // A French agent's browser: the public pages follow Accept-Language.
            "--lang=fr-FR",
        ]
        .map(String::from)
        .into_iter()
        .chain([format!("--user-data-dir={}", profile.path().display())])
        .collect::<Vec<_>>();
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args,
                "prefs": {"intl.accept_languages": "fr-FR,fr",
                    "download.default_directory": profile.path().join("downloads"),
                    "download.prompt_for_download": false}},
        }}});
        let created: Value = http
            .post(format!("{root}/session"))
            .json(&capabilities)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no browser session: {created}"));

        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        Browser {
            http,
            session: format!("{root}/session/{id}"),
            _driver: driver,
            _profile: profile,
            shots: dir,
            engine: engine.to_owned(),
        }
    }

    /// One WebDriver command; its `value`, or the driver's error.
    async fn command(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let url = format!("{}{path}", self.session);
        let request = match method {
            "GET" => self.http.get(url),
            _ => self.http.post(url).json(&body.unwrap_or(json!({}))),
        };
        let response = request.send().await.map_err(|e| e.to_string())?;
        let ok = response.status().is_success();
        let answer: Value = response.json().await.map_err(|e| e.to_string())?;
        match ok {
            true => Ok(answer["value"].clone()),
            false => Err(format!(
                "{}: {}",
                answer["value"]["error"], answer["value"]["message"]
            )),
        }
    }

    async fn must(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.command(method, path, body)
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    async fn goto(&self, url: &str) {
        self.must("POST", "/url", Some(json!({"url": url}))).await;
    }

    /// The browser's "back" button.
    async fn back(&self) {
        self.must("POST", "/back", None).await;
    }

    async fn url(&self) -> String {
        self.must("GET", "/url", None)
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn source(&self) -> String {
        self.must("GET", "/source", None)
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Polls `attempt` for at most `PATIENCE`; on failure, leaves a screenshot of the page and
    /// tells its address.
    async fn until<T>(&self, what: &str, attempt: impl AsyncFnMut() -> Option<T>) -> T {
        if let Some(value) = common::poll(PATIENCE, attempt).await {
            return value;
        }
        self.screenshot("failure").await;
        panic!(
            "waited {PATIENCE:?} for {what}; the browser is on {}",
            self.url().await
        );
    }

    /// Waits until the address satisfies `check`, and returns it.
    async fn wait_for_url(&self, what: &str, check: impl Fn(&str) -> bool) -> String {
        self.until(what, || async {
            let url = self.url().await;
            check(&url).then_some(url)
        })
        .await
    }

    /// The first element matching a CSS selector, waiting for it to appear.
    async fn find(&self, css: &str) -> Element {
        self.until(&format!("an element {css:?}"), || async {
            let body = json!({"using": "css selector", "value": css});
            let found = self.command("POST", "/element", Some(body)).await.ok()?;
            Some(Element(found[ELEMENT_KEY].as_str()?.to_owned()))
        })
        .await
    }

    /// Every element matching a CSS selector now, maybe none.
    async fn find_all(&self, css: &str) -> Vec<Element> {
        let body = json!({"using": "css selector", "value": css});
        let found = self.must("POST", "/elements", Some(body)).await;
        found
            .as_array()
            .unwrap()
            .iter()
            .map(|e| Element(e[ELEMENT_KEY].as_str().unwrap().to_owned()))
            .collect()
    }

    /// The first element matching `css` whose text satisfies `check`, waiting for it.
    async fn find_text(&self, css: &str, check: impl Fn(&str) -> bool) -> Element {
        self.until(
            &format!("an element {css:?} with the right text"),
            || async {
                for element in self.find_all(css).await {
                    if check(&self.text(&element).await) {
                        return Some(element);
                    }
                }
                None
            },
        )
        .await
    }

    async fn click(&self, element: &Element) {
        let path = format!("/element/{}/click", element.0);
        self.must("POST", &path, None).await;
    }

    async fn clear(&self, element: &Element) {
        let path = format!("/element/{}/clear", element.0);
        self.must("POST", &path, None).await;
    }

    async fn send_keys(&self, element: &Element, text: &str) {
        let path = format!("/element/{}/value", element.0);
        self.must("POST", &path, Some(json!({"text": text}))).await;
    }

    /// The text as rendered: hidden text is left out.
    async fn text(&self, element: &Element) -> String {
        let path = format!("/element/{}/text", element.0);
        self.must("GET", &path, None)
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn texts(&self, css: &str) -> Vec<String> {
        let mut texts = Vec::new();
        for element in self.find_all(css).await {
            texts.push(self.text(&element).await);
        }
        texts
    }

    async fn attribute(&self, element: &Element, name: &str) -> Option<String> {
        let path = format!("/element/{}/attribute/{name}", element.0);
        self.must("GET", &path, None)
            .await
            .as_str()
            .map(str::to_owned)
    }

    /// Runs a script in the page (arguments none) and returns its value.
    async fn execute(&self, script: &str) -> Value {
        self.must(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    /// Where the browser saves what it downloads.
    fn downloads(&self) -> PathBuf {
        self._profile.path().join("downloads")
    }

    /// Fills the login page the browser shows with `username` and the test password, sends it
    /// and waits for the page it leads to.
    async fn sign_in(&self, username: &str, then: &str) {
        self.send_keys(&self.find("#username").await, username)
            .await;
        self.send_keys(&self.find("#password").await, common::ADMIN_PASSWORD)
            .await;
        // The password form's button, not ProConnect's.
        self.click(
            &self
                .find("main form[action='/admin/login'] button[type=submit]")
                .await,
        )
        .await;
        self.wait_for_url("the page after signing in", |u| u == then)
            .await;
    }

    /// The WCAG 2.1 A and AA violations axe-core (npm `axe-core`) finds on the page: one line
    /// each, with the elements concerned.
    async fn axe_violations(&self) -> Vec<String> {
        let axe = Path::new(env!("CARGO_MANIFEST_DIR")).join("node_modules/axe-core/axe.min.js");
        let source = std::fs::read_to_string(&axe)
            .unwrap_or_else(|e| panic!("{}: {e} (npm ci installs axe-core)", axe.display()));
        let script = format!(
            "{source}\n;const done = arguments[arguments.length - 1];\n\
             axe.run(document, {{runOnly: {{type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}}}})\n\
               .then(r => done(r.violations.map(v => v.id + ': ' + v.help + ' -> ' + v.nodes.map(n => n.target.join(' ')).join(', '))),\n\
                     e => done(['axe failed: ' + e]));"
        );
        let found = self
            .must(
                "POST",
                "/execute/async",
                Some(json!({"script": script, "args": []})),
            )
            .await;
        found
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    }

    /// Fails with the list when axe-core finds a WCAG 2.1 A/AA violation on the page.
    async fn assert_accessible(&self, step: &str) {
        let violations = self.axe_violations().await;
        if !violations.is_empty() {
            self.screenshot(&format!("{step}-axe")).await;
        }
        assert!(violations.is_empty(), "{step}: {violations:#?}");
    }

    /// Saves the page as `target/screenshots/<engine>-<step>.png`.
    async fn screenshot(&self, step: &str) {
        let png = self.must("GET", "/screenshot", None).await;
        let path = self.shots.join(format!("{}-{step}.png", self.engine));
        // Standard base64, as WebDriver sends screenshots.
        let png = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        std::fs::write(&path, png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Drop cannot await: a short-lived runtime on its own thread ends the session, so that
        // Chromium quits before its driver is killed, even when the test failed. It needs a client
        // of its own: the pooled connections of `self.http` belong to the blocked test runtime.
        // The driver is killed afterwards, when the fields are dropped.
        let session = self.session.clone();
        common::block_on_thread(async move {
            let http = wif::ds::http_client().timeout(PATIENCE).build().unwrap();
            let _ = http.delete(session).send().await;
        });
    }
}

/// The number of `.wif-total` ("1 234 dossiers").
async fn total(browser: &Browser) -> usize {
    let text = browser.text(&browser.find(".wif-total").await).await;
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("a total: {text:?}"))
}

/// The DS numbers of the rows of the list.
async fn row_ids(browser: &Browser) -> BTreeSet<i64> {
    browser
        .texts("table tbody tr td:first-child a")
        .await
        .iter()
        .map(|id| id.parse().unwrap())
        .collect()
}

/// The creation instant as the admin shows it, in the service's time zone.
fn paris(d: &Dossier) -> NaiveDateTime {
    d.created_at
        .unwrap()
        .with_timezone(&chrono_tz::Europe::Paris)
        .naive_local()
}

fn browser_missing() -> bool {
    if Path::new(CHROMEDRIVER).exists() {
        return false;
    }
    assert!(
        std::env::var_os("WIF_REQUIRE_BROWSER").is_none() && std::env::var_os("CI").is_none(),
        "WIF_REQUIRE_BROWSER or CI is set but {CHROMEDRIVER} is missing: install chromium and chromium-driver"
    );
    eprintln!("browser test skipped: install chromium and chromium-driver");
    true
}

/// 300 synthetic dossiers, an administrator « marie », the admin app, and a browser of its own
/// (screenshots named after `name`) signed in as marie on the dossiers list. Returns the
/// dossiers, the admin's address and the browser.
async fn signed_in_admin(t: &TestDb, name: &str) -> (Vec<Dossier>, String, Browser) {
    let seeded = common::seed_dossiers(t, 300).await;
    common::create_user(t, "marie", true).await;
    let base = common::start_admin(t).await;
    let engine = t.url.split(':').next().unwrap();
    let browser = Browser::start(&format!("{engine}-{name}")).await;
    let list_url = format!("{base}/admin/dossiers/");
    browser.goto(&list_url).await;
    browser.sign_in("marie", &list_url).await;
    (seeded, base, browser)
}

/// Signing in from a page that needs it, the list it leads to, and signing out.
async fn signing_in_and_out_in_a_browser(t: &TestDb) {
    if browser_missing() {
        return;
    }
    let seeded = common::seed_dossiers(t, 300).await;
    common::create_user(t, "marie", true).await;
    let base = common::start_admin(t).await;
    let engine = t.url.split(':').next().unwrap();
    let browser = Browser::start(engine).await;
    let list_url = format!("{base}/admin/dossiers/");

    // Without a session, the list sends to the login page, which remembers where to go.
    browser.goto(&list_url).await;
    browser
        .wait_for_url("the login page", |u| {
            u.starts_with(&format!("{base}/admin/login?next="))
        })
        .await;
    assert_eq!(browser.text(&browser.find("h1").await).await, "Connexion");
    browser.assert_accessible("01-login").await;
    browser.screenshot("01-login").await;

    let username = browser.find("#username").await;
    browser.send_keys(&username, "marie").await;
    let password = browser.find("#password").await;
    browser.send_keys(&password, common::ADMIN_PASSWORD).await;
    browser.screenshot("02-login-filled").await;
    browser
        .click(&browser.find("main form button[type=submit]").await)
        .await;
    browser
        .wait_for_url("the dossiers list", |u| u == list_url)
        .await;
    assert_eq!(browser.text(&browser.find("h1").await).await, "Dossiers");
    let header = browser.text(&browser.find("header").await).await;
    assert!(header.contains("marie (administrateur)"), "{header}");
    assert_eq!(total(&browser).await, seeded.len());
    assert_eq!(browser.find_all("table tbody tr").await.len(), 100);
    browser.assert_accessible("03-dossiers").await;
    browser.screenshot("03-dossiers").await;

    // Signing out ends the session: the list asks to sign in again.
    let logout = browser
        .find_text("header button", |t| t == "Se déconnecter")
        .await;
    browser.click(&logout).await;
    browser
        .wait_for_url("the login page after signing out", |u| {
            u == format!("{base}/admin/login?deconnecte=1")
        })
        .await;
    browser.find("#username").await;
    browser.screenshot("12-signed-out").await;
    browser.goto(&list_url).await;
    browser
        .wait_for_url("the login page again", |u| {
            u.starts_with(&format!("{base}/admin/login?next="))
        })
        .await;
    assert_eq!(browser.text(&browser.find("h1").await).await, "Connexion");
    assert!(browser.find_all("table").await.is_empty());
    browser.screenshot("13-login-again").await;
}

/// The list's status filter, the search by number and by the start of a name, and a dossier's
/// page opened from the list, with its raw document.
async fn filters_and_search_in_a_browser(t: &TestDb) {
    if browser_missing() {
        return;
    }
    let (seeded, base, browser) = signed_in_admin(t, "search").await;
    let list_url = format!("{base}/admin/dossiers/");

    // A status of the side menu: its count, then only its dossiers.
    let refused = Status::Refused.label();
    let link = browser
        .find_text("nav.fr-sidemenu a.fr-sidemenu__link", |t| {
            t.starts_with(&format!("{refused} ("))
        })
        .await;
    let facet_text = browser.text(&link).await;
    let facet_count: usize = facet_text
        .trim_start_matches(&format!("{refused} ("))
        .trim_end_matches(')')
        .parse()
        .unwrap();
    let expected = seeded
        .iter()
        .filter(|d| d.status == Status::Refused)
        .count();
    assert_eq!(facet_count, expected, "{facet_text}");
    browser.click(&link).await;
    browser
        .wait_for_url("the list of refused dossiers", |u| {
            u.contains("statut=refused")
        })
        .await;
    assert_eq!(total(&browser).await, facet_count);
    let statuses = browser.texts("table tbody tr td:nth-child(2)").await;
    assert_eq!(statuses.len(), facet_count.min(100));
    assert!(statuses.iter().all(|s| s == refused), "{statuses:?}");
    browser.assert_accessible("04-status-filter").await;
    browser.screenshot("04-status-filter").await;

    // A DS number finds its dossier alone; the status filter goes with the "Dossiers" link.
    browser
        .click(&browser.find("nav.fr-nav a[href='/admin/dossiers/']").await)
        .await;
    browser
        .wait_for_url("the whole list", |u| u == list_url)
        .await;
    let wanted = seeded[123].ds_id.get();
    browser
        .send_keys(&browser.find("#q").await, &wanted.to_string())
        .await;
    browser
        .click(&browser.find("form[role=search] button").await)
        .await;
    browser
        .wait_for_url("the search by number", |u| {
            u.contains(&format!("q={wanted}"))
        })
        .await;
    assert_eq!(total(&browser).await, 1);
    assert_eq!(browser.find_all("table tbody tr").await.len(), 1);
    assert_eq!(row_ids(&browser).await, BTreeSet::from([wanted]));
    browser.screenshot("05-search-number").await;

    // The start of a name: exactly the dossiers whose name, first name or e-mail begins so.
    let name = seeded
        .iter()
        .filter_map(|d| d.nom.as_deref())
        .find(|n| n.len() >= 4 && n.chars().all(|c| c.is_ascii_alphabetic()))
        .unwrap();
    let prefix = &name[..3];
    let starts = |v: &Option<String>| {
        v.as_deref()
            .is_some_and(|v| v.to_lowercase().starts_with(&prefix.to_lowercase()))
    };
    let expected: BTreeSet<i64> = seeded
        .iter()
        .filter(|d| starts(&d.nom) || starts(&d.prenom) || starts(&d.email))
        .map(|d| d.ds_id.get())
        .collect();
    assert!(
        (2..=100).contains(&expected.len()),
        "{prefix}: {expected:?}"
    );
    let search = browser.find("#q").await;
    browser.clear(&search).await;
    browser.send_keys(&search, prefix).await;
    browser
        .click(&browser.find("form[role=search] button").await)
        .await;
    browser
        .wait_for_url("the search by name", |u| u.contains(&format!("q={prefix}")))
        .await;
    assert_eq!(total(&browser).await, expected.len());
    assert_eq!(row_ids(&browser).await, expected);
    browser.screenshot("06-search-name").await;

    // One of them, opened from the list: its facts, its champs, its raw document.
    let first = browser.find("table tbody tr td:first-child a").await;
    let opened: i64 = browser.text(&first).await.parse().unwrap();
    browser.click(&first).await;
    browser
        .wait_for_url("the dossier page", |u| u == format!("{list_url}{opened}"))
        .await;
    assert_eq!(
        browser.text(&browser.find("h1").await).await,
        format!("Dossier {opened}")
    );
    let terms = browser.texts("dl.wif-facts dt").await;
    let values = browser.texts("dl.wif-facts dd").await;
    let fact = |term: &str| {
        let i = terms.iter().position(|t| t == term).unwrap();
        values[i].to_lowercase()
    };
    let prefix_lower = prefix.to_lowercase();
    assert!(
        fact("Nom").starts_with(&prefix_lower)
            || fact("Prénom").starts_with(&prefix_lower)
            || fact("E-mail du demandeur").starts_with(&prefix_lower),
        "dossier {opened} does not match {prefix:?}: {terms:?} {values:?}"
    );
    let headings = browser.texts("main h2").await;
    assert!(
        headings.iter().any(|h| h == "Champs du formulaire"),
        "{headings:?}"
    );
    let champs = browser.texts(".wif-table table tbody th").await;
    assert!(champs.len() >= 10, "{champs:?}");
    assert!(champs.iter().any(|c| c == "Nom"), "{champs:?}");
    let raw = format!("\"number\": {opened}");
    let json = browser.find("details.wif-raw pre").await;
    assert_eq!(browser.text(&json).await, "", "the JSON is folded at first");
    assert!(browser.source().await.contains(&raw));
    browser.assert_accessible("07-dossier").await;
    browser.screenshot("07-dossier").await;
    browser
        .click(&browser.find("details.wif-raw summary").await)
        .await;
    browser
        .until("the JSON to unfold", || async {
            browser.text(&json).await.contains(&raw).then_some(())
        })
        .await;
    browser.screenshot("08-dossier-json").await;

    // Back to the list.
    browser
        .click(
            &browser
                .find_text("main a", |t| t == "Retour à la liste")
                .await,
        )
        .await;
    browser
        .wait_for_url("the list again", |u| u == list_url)
        .await;
}

/// The date drill-down of the list, in Paris time, and Suivi Préfecture.
async fn dates_and_prefecture_in_a_browser(t: &TestDb) {
    if browser_missing() {
        return;
    }
    let (seeded, base, browser) = signed_in_admin(t, "dates").await;

    // The date drill-down: a year, then a month that has dossiers, in Paris time.
    let when = paris(&seeded[0]);
    let (year, month) = (when.year(), when.month());
    let in_month: BTreeSet<i64> = seeded
        .iter()
        .filter(|d| {
            let c = paris(d);
            (c.year(), c.month()) == (year, month)
        })
        .map(|d| d.ds_id.get())
        .collect();
    let year_link = browser
        .find_text("nav.wif-dates a", |t| t == year.to_string())
        .await;
    browser.click(&year_link).await;
    browser
        .wait_for_url("the year", |u| u.contains(&format!("annee={year}")))
        .await;
    browser.assert_accessible("09-dates-year").await;
    browser.screenshot("09-dates-year").await;
    let month_name = wif::web::MONTHS[month as usize - 1];
    let month_link = browser
        .find_text("nav.wif-dates a", |t| t == month_name)
        .await;
    browser.click(&month_link).await;
    let url = browser
        .wait_for_url("the month", |u| u.contains(&format!("mois={month}")))
        .await;
    assert!(url.contains(&format!("annee={year}")), "{url}");
    assert_eq!(total(&browser).await, in_month.len());
    assert_eq!(row_ids(&browser).await, in_month);
    let dates = browser.texts("table tbody tr td:nth-child(3)").await;
    assert_eq!(dates.len(), in_month.len());
    for date in &dates {
        let shown = NaiveDateTime::parse_from_str(date, "%d/%m/%Y %H:%M").unwrap();
        assert_eq!((shown.year(), shown.month()), (year, month), "{date}");
    }
    browser.screenshot("10-dates-month").await;

    // Suivi Préfecture: permits that expired less than 62 days ago, or expire later.
    let link = browser
        .find_text("nav.fr-nav a", |t| t == "Suivi Préfecture")
        .await;
    assert_eq!(
        browser.attribute(&link, "href").await.as_deref(),
        Some("/admin/prefecture/")
    );
    browser.click(&link).await;
    browser
        .wait_for_url("Suivi Préfecture", |u| {
            u == format!("{base}/admin/prefecture/")
        })
        .await;
    let title = browser.text(&browser.find("h1").await).await;
    assert!(title.starts_with("Suivi Préfecture"), "{title}");
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Paris)
        .date_naive();
    let followed = seeded
        .iter()
        .filter(|d| {
            d.date_dexpiration_titre_sejour
                .is_some_and(|e| e > today - chrono::Days::new(62))
        })
        .count();
    assert_eq!(total(&browser).await, followed);
    browser.assert_accessible("11-prefecture").await;
    browser.screenshot("11-prefecture").await;
}

/// The admin's other pages, each without a WCAG 2.1 A/AA violation.
async fn admin_pages_in_a_browser(t: &TestDb) {
    if browser_missing() {
        return;
    }
    let (_, base, browser) = signed_in_admin(t, "pages").await;

    for (path, step) in [
        ("/admin/", "11a-home"),
        ("/admin/stats/", "11b-stats"),
        ("/admin/sync/", "11c-sync"),
        ("/admin/users/", "11d-users"),
        ("/admin/access-log/", "11e-access-log"),
        ("/admin/rapports/", "11f-reports"),
        (
            "/admin/rapports/?departement=75+-+Paris",
            "11g-report-detail",
        ),
    ] {
        browser.goto(&format!("{base}{path}")).await;
        let title = browser.text(&browser.find("h1").await).await;
        assert_ne!(title, "Page introuvable", "{path}");
        browser.assert_accessible(step).await;
    }
}

both_engines!(
    signing_in_and_out_in_a_browser,
    filters_and_search_in_a_browser,
    dates_and_prefecture_in_a_browser,
    admin_pages_in_a_browser,
);

/// The rows of the alerts list of `/admin/alertes/` (not those of the count tables above it).
const ALERT_ROWS: &str = ".wif-total ~ .wif-table tbody tr";

/// The alerts of 300 synthetic dossiers, every rule among them, one of them resolved (a dossier
/// long in instruction, refused at last); the admin app, and a browser signed in as its
/// administrator « marie ».
struct AlertsSeen {
    rules: AlertRules,
    /// The open alerts, oldest first.
    open: Vec<wif::store::alerts::AlertRow>,
    /// The alert resolved, and its dossier.
    late: wif::store::alerts::AlertRow,
    refused_id: i64,
    base: String,
    browser: Browser,
}

impl AlertsSeen {
    /// The browser is on `page`; its screenshots are named after `name`.
    async fn start(t: &TestDb, name: &str, page: &str) -> AlertsSeen {
        let seeded = common::seed_dossiers(t, 300).await;
        let rules = AlertRules {
            construction_days: 7,
            instruction_days: 7,
            time_zone: chrono_tz::Europe::Paris,
        };
        wif::alerts::evaluate(&t.db, &rules, chrono::Utc::now())
            .await
            .unwrap();
        let opened = wif::store::alerts::all(&t.db, false).await.unwrap();
        for code in AlertCode::ALL {
            assert!(
                opened.iter().any(|a| a.code.current() == Some(code)),
                "no alert {code} among the synthetic dossiers"
            );
        }

        // One alert resolved: a dossier long in instruction is refused at last.
        let late = opened
            .iter()
            .find(|a| a.code.current() == Some(AlertCode::InstructionTooLong))
            .unwrap();
        let mut refused = seeded
            .iter()
            .find(|d| d.ds_id.get() == late.ds_id)
            .unwrap()
            .clone();
        let refused_id = refused.ds_id.get();
        refused.status = Status::Refused;
        refused.processed_at = Some(chrono::Utc::now());
        refused.updated_at = refused.processed_at;
        wif::store::dossiers::upsert(&t.db, &[refused])
            .await
            .unwrap();
        let evaluation = wif::alerts::evaluate(&t.db, &rules, chrono::Utc::now())
            .await
            .unwrap();
        assert_eq!((evaluation.opened, evaluation.resolved), (0, 1));
        let open = wif::store::alerts::all(&t.db, false).await.unwrap();

        common::create_user(t, "marie", true).await;
        let base = common::start_admin(t).await;
        let engine = t.url.split(':').next().unwrap();
        let browser = Browser::start(&format!("{engine}-alerts-{name}")).await;
        let url = format!("{base}{page}");
        browser.goto(&url).await;
        browser.sign_in("marie", &url).await;
        let late = late.clone();
        AlertsSeen {
            rules,
            open,
            late,
            refused_id,
            base,
            browser,
        }
    }

    fn open_of(&self, code: AlertCode) -> Vec<&wif::store::alerts::AlertRow> {
        self.open
            .iter()
            .filter(|a| a.code.current() == Some(code))
            .collect()
    }
}

/// The open alerts counted per rule on the home page, listed, and filtered by a rule.
async fn alerts_by_rule_in_a_browser(t: &TestDb) {
    if browser_missing() {
        return;
    }
    let seen = AlertsSeen::start(t, "rules", "/admin/").await;
    let AlertsSeen {
        rules,
        open,
        base,
        browser,
        ..
    } = &seen;
    let open_of = |code| seen.open_of(code);
    let alerts_url = format!("{base}/admin/alertes/");

    // The home page counts the open alerts of each rule.
    let home_table = "main h2 + .wif-table tbody";
    let messages = browser.texts(&format!("{home_table} td:first-child")).await;
    let counts = browser
        .texts(&format!("{home_table} td:nth-child(2)"))
        .await;
    let expected: Vec<String> = AlertCode::ALL.map(|c| rules.message(c)).into();
    assert_eq!(messages, expected);
    let expected: Vec<String> = AlertCode::ALL.map(|c| open_of(c).len().to_string()).into();
    assert_eq!(counts, expected);
    browser.assert_accessible("01-home").await;
    browser.screenshot("01-home").await;

    // The open alerts, from the navigation.
    browser
        .click(&browser.find_text("nav.fr-nav a", |t| t == "Alertes").await)
        .await;
    browser
        .wait_for_url("the alerts", |u| u == alerts_url)
        .await;
    assert_eq!(browser.text(&browser.find("h1").await).await, "Alertes");
    assert_eq!(total(browser).await, open.len());
    assert_eq!(
        browser.find_all(ALERT_ROWS).await.len(),
        open.len().min(100)
    );
    let info = browser.text(&browser.find(".fr-alert--info").await).await;
    assert!(
        info.starts_with("WIF_SMTP_URL n'est pas configurée"),
        "{info}"
    );
    browser.assert_accessible("02-alerts").await;
    browser.screenshot("02-alerts").await;

    // A rule of « Par règle »: only its alerts, all of them.
    let rule = AlertCode::ConstructionTooLong;
    let of_rule: BTreeSet<i64> = open_of(rule).iter().map(|a| a.ds_id).collect();
    assert!((2..=100).contains(&of_rule.len()), "{of_rule:?}");
    let link = browser
        .find_text("main .fr-grid-row > div:first-child tbody a", |t| {
            t == rules.message(rule)
        })
        .await;
    browser.click(&link).await;
    browser
        .wait_for_url("the alerts of a rule", |u| {
            u.contains(&format!("regle={}", rule.as_str()))
        })
        .await;
    assert_eq!(total(browser).await, of_rule.len());
    let shown = browser
        .texts(&format!("{ALERT_ROWS} td:nth-child(2)"))
        .await;
    assert_eq!(shown.len(), of_rule.len());
    assert!(shown.iter().all(|r| *r == rules.message(rule)), "{shown:?}");
    let ids: BTreeSet<i64> = browser
        .texts(&format!("{ALERT_ROWS} td:first-child a:first-child"))
        .await
        .iter()
        .map(|id| id.parse().unwrap())
        .collect();
    assert_eq!(ids, of_rule);
    browser.screenshot("03-alerts-rule").await;

    // Back to every alert.
    browser.back().await;
    browser
        .wait_for_url("the alerts again", |u| u == alerts_url)
        .await;
    assert_eq!(total(browser).await, open.len());
}

/// « Prendre en compte » by the signed-in agent, and the alerts of the dossier concerned.
async fn taking_an_alert_into_account_in_a_browser(t: &TestDb) {
    if browser_missing() {
        return;
    }
    let seen = AlertsSeen::start(t, "acknowledged", "/admin/alertes/").await;
    let AlertsSeen {
        rules,
        open,
        base,
        browser,
        ..
    } = &seen;
    let alerts_url = format!("{base}/admin/alertes/");

    // The oldest alert is taken into account by marie.
    let first = format!("{ALERT_ROWS}:first-child");
    let acknowledged: i64 = browser
        .text(&browser.find(&format!("{first} td:first-child a")).await)
        .await
        .parse()
        .unwrap();
    assert_eq!(acknowledged, open[0].ds_id);
    let buttons = browser
        .find_all(&format!("{ALERT_ROWS} button"))
        .await
        .len();
    let button = browser
        .find_text(&format!("{first} button"), |t| t == "Prendre en compte")
        .await;
    browser.click(&button).await;
    browser
        .wait_for_url("the alerts after « prise en compte »", |u| {
            u.starts_with(&alerts_url) && u.contains("pris=1")
        })
        .await;
    let success = browser
        .text(&browser.find(".fr-alert--success").await)
        .await;
    assert_eq!(success, "Alerte marquée « prise en compte ».");
    let by = browser
        .text(&browser.find(&format!("{first} td:last-child")).await)
        .await;
    assert!(by.starts_with("par marie le "), "{by}");
    assert_eq!(
        browser
            .find_all(&format!("{ALERT_ROWS} button"))
            .await
            .len(),
        buttons - 1
    );
    browser.assert_accessible("04-acknowledged").await;
    browser.screenshot("04-acknowledged").await;

    // The dossier taken into account lists its alerts, marie's mark included.
    browser
        .goto(&format!("{base}/admin/dossiers/{acknowledged}"))
        .await;
    let headings = browser.texts("main h2").await;
    assert!(headings.iter().any(|h| h == "Alertes"), "{headings:?}");
    let rows = format!("main tbody tr:has(> td > a[href='/admin/dossiers/{acknowledged}'])");
    let shown: BTreeSet<String> = browser
        .texts(&format!("{rows} td:nth-child(2)"))
        .await
        .into_iter()
        .collect();
    let expected: BTreeSet<String> = open
        .iter()
        .filter(|a| a.ds_id == acknowledged)
        .map(|a| rules.describe(&a.code))
        .collect();
    assert_eq!(shown, expected);
    let marks = browser.texts(&format!("{rows} td:last-child")).await;
    assert!(
        marks.iter().any(|m| m.starts_with("par marie le ")),
        "{marks:?}"
    );
    browser.assert_accessible("06-dossier").await;
    browser.screenshot("06-dossier").await;
}

/// The resolved tab, the history of the refused dossier, and the e-mails page.
async fn resolved_alerts_in_a_browser(t: &TestDb) {
    if browser_missing() {
        return;
    }
    let seen = AlertsSeen::start(t, "resolved", "/admin/alertes/").await;
    let AlertsSeen {
        rules,
        late,
        refused_id,
        base,
        browser,
        ..
    } = &seen;

    // The resolved tab: the alert of the refused dossier, with the date it was resolved.
    let tab = browser
        .find_text("main a", |t| t.starts_with("Alertes résolues"))
        .await;
    assert_eq!(browser.text(&tab).await, "Alertes résolues (1)");
    browser.click(&tab).await;
    browser
        .wait_for_url("the resolved alerts", |u| u.contains("etat=resolues"))
        .await;
    assert_eq!(total(browser).await, 1);
    let cells = browser.texts(&format!("{ALERT_ROWS} td")).await;
    assert!(cells[0].starts_with(&late.ds_id.to_string()), "{cells:?}");
    assert_eq!(cells[1], rules.message(AlertCode::InstructionTooLong));
    let resolved_at = NaiveDateTime::parse_from_str(&cells[4], "%d/%m/%Y %H:%M");
    assert!(resolved_at.is_ok(), "{cells:?}");
    assert_eq!(cells[5], "—");
    browser.assert_accessible("05-resolved").await;
    browser.screenshot("05-resolved").await;

    // The refused dossier's page shows the change its sync brought, in its history.
    browser
        .goto(&format!("{base}/admin/dossiers/{refused_id}"))
        .await;
    let changes = browser.texts("main tbody td").await;
    assert!(
        changes
            .iter()
            .any(|c| c == "Statut : En instruction → Refusé"),
        "{changes:?}"
    );
    browser.assert_accessible("06-history").await;
    browser.screenshot("06-history").await;

    // The e-mails, for administrators: none, since no SMTP server is configured.
    browser
        .click(&browser.find_text("nav.fr-nav a", |t| t == "E-mails").await)
        .await;
    browser
        .wait_for_url("the e-mails", |u| u == format!("{base}/admin/emails/"))
        .await;
    let info = browser.text(&browser.find(".fr-alert--info").await).await;
    assert_eq!(
        info,
        "WIF_SMTP_URL n'est pas configurée : aucun e-mail n'est envoyé."
    );
    assert_eq!(
        browser.texts("main tbody td").await,
        ["Aucun e-mail pour l'instant."]
    );
    browser.assert_accessible("07-emails").await;
    browser.screenshot("07-emails").await;
}

both_engines!(
    alerts_by_rule_in_a_browser,
    taking_an_alert_into_account_in_a_browser,
    resolved_alerts_in_a_browser,
);

/// The public pages in Chromium: the form, a valid and an invalid check, a form error, the
/// English page, the statistics; each without a WCAG 2.1 A/AA violation under axe-core.
/// The public service of `settings` on a free port, reading `media`, with a rate limit a
/// browser walk never meets; returns its base URL.
async fn start_public(settings: &wif::config::Settings, media: &Path) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = wif::public::PublicConfig {
        media_root: media.to_owned(),
        rate_limit_per_minute: 10_000,
        ..wif::public::PublicConfig::from_settings(settings)
    };
    tokio::spawn(async move {
        wif::public::serve_on(listener, &config, std::future::pending())
            .await
            .unwrap()
    });
    base
}

#[tokio::test]
async fn public_pages_in_a_browser() {
    if browser_missing() {
        return;
    }
    let t = TestDb::sqlite(true).await;
    let seeded = common::seed_dossiers(&t, 300).await;
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Paris)
        .date_naive();
    let valid = seeded
        .iter()
        .find(|d| {
            d.status == Status::Closed
                && d.date_de_fin_apt.is_some_and(|e| e >= today)
                && d.date_de_naissance.is_some()
        })
        .expect("a valid APT among the synthetic dossiers");
    let media = tempfile::tempdir().unwrap();
    let now = chrono::Utc::now();
    let validity = wif::export::Output::File(media.path().join("validity_check.json"));
    wif::export::validity_check::export(&t.db, &validity, today)
        .await
        .unwrap();
    let stats = wif::export::stats::compute(&t.db, now, chrono_tz::Europe::Paris)
        .await
        .unwrap();
    std::fs::write(
        media.path().join("stats.json"),
        serde_json::to_vec(&stats).unwrap(),
    )
    .unwrap();
    let settings = wif::config::Settings::from_lookup(|_| None).unwrap();
    let base = start_public(&settings, media.path()).await;
    let browser = Browser::start("public").await;

    browser.goto(&format!("{base}/")).await;
    assert_eq!(
        browser.text(&browser.find("h1").await).await,
        "Vérifier une autorisation provisoire de travail"
    );
    browser.assert_accessible("01-form").await;
    browser.screenshot("01-form").await;

    // A valid check through the form (the date picker is filled by script: its keys depend on
    // the browser's locale).
    let numero = browser.find("#numero").await;
    browser.send_keys(&numero, &valid.ds_id.to_string()).await;
    let birth = valid.date_de_naissance.unwrap();
    browser
        .execute(&format!(
            "document.getElementById('date_de_naissance').value = '{birth}';"
        ))
        .await;
    browser
        .click(&browser.find("main form button[type=submit]").await)
        .await;
    browser
        .wait_for_url("the answer", |u| {
            u.starts_with(&format!("{base}/verifier?"))
        })
        .await;
    let answer = browser.text(&browser.find(".fr-alert").await).await;
    assert!(answer.starts_with("Autorisation valide"), "{answer}");
    let masked = browser.texts("td.wif-masked").await;
    let nom = valid.nom.clone().unwrap_or_default();
    assert_eq!(masked[0], wif::domain::text::obfuscate(&nom));
    browser.assert_accessible("02-valid").await;
    browser.screenshot("02-valid").await;

    // A wrong birth date: the generic answer.
    browser
        .goto(&format!(
            "{base}/verifier?numero={}&date_de_naissance=1900-01-01",
            valid.ds_id
        ))
        .await;
    let answer = browser.text(&browser.find(".fr-alert").await).await;
    assert!(answer.starts_with("Aucune autorisation valide"), "{answer}");
    browser.assert_accessible("03-invalid").await;
    browser.screenshot("03-invalid").await;

    // A form error, next to its field.
    browser
        .goto(&format!(
            "{base}/verifier?numero=12a&date_de_naissance=1997-02-30"
        ))
        .await;
    let error = browser.text(&browser.find("#numero-erreur").await).await;
    assert_eq!(error, "Le numéro doit comporter de 1 à 19 chiffres.");
    let input = browser.find("#numero").await;
    assert_eq!(
        browser.attribute(&input, "aria-invalid").await.as_deref(),
        Some("true")
    );
    browser.assert_accessible("04-form-error").await;
    browser.screenshot("04-form-error").await;

    // English, through the switch in the header.
    browser.goto(&format!("{base}/")).await;
    browser
        .click(&browser.find_text("header a", |t| t == "English").await)
        .await;
    browser
        .wait_for_url("the English page", |u| u.ends_with("lang=en"))
        .await;
    assert_eq!(
        browser.text(&browser.find("h1").await).await,
        "Check a temporary work authorisation"
    );
    assert_eq!(
        browser
            .execute("return document.documentElement.lang;")
            .await,
        "en"
    );
    browser.assert_accessible("05-english").await;
    browser.screenshot("05-english").await;

    // The statistics, from the navigation.
    browser
        .click(
            &browser
                .find_text("nav.fr-nav a", |t| t == "Statistics")
                .await,
        )
        .await;
    browser
        .wait_for_url("the statistics", |u| {
            u.starts_with(&format!("{base}/statistiques"))
        })
        .await;
    assert_eq!(browser.text(&browser.find("h1").await).await, "Statistics");
    assert_eq!(browser.find_all("figure svg").await.len(), 5);
    browser.assert_accessible("06-statistics").await;
    browser.screenshot("06-statistics").await;
}

/// The legal pages of SPEC §14 in Chromium, reached from the footer, in French and English on
/// the public service, then on the admin (login page, a signed-in page, its own copy of a text):
/// each without a WCAG 2.1 A/AA violation under axe-core.
#[tokio::test]
async fn legal_pages_in_a_browser() {
    if browser_missing() {
        return;
    }
    let media = tempfile::tempdir().unwrap();
    let settings = wif::config::Settings::from_lookup(|key| match key {
        "WIF_DPO_CONTACT" => Some("dpd-wif@travail.gouv.fr".into()),
        _ => None,
    })
    .unwrap();
    let base = start_public(&settings, media.path()).await;
    let browser = Browser::start("legal").await;

    let pages = [
        (
            "donnees-personnelles",
            "Données personnelles",
            "Personal data",
        ),
        (
            "accessibilite",
            "Déclaration d'accessibilité",
            "Accessibility statement",
        ),
        ("mentions-legales", "Mentions légales", "Legal notice"),
    ];
    for (lang, suffix) in [("fr", ""), ("en", "?lang=en")] {
        for (n, (slug, french, english)) in pages.iter().enumerate() {
            // From the footer of the home page, as a visitor finds them.
            browser.goto(&format!("{base}/{suffix}")).await;
            let href = format!("/{slug}{suffix}");
            let link = browser.find(&format!("footer a[href=\"{href}\"]")).await;
            browser.click(&link).await;
            browser
                .wait_for_url("the legal page", |u| u == format!("{base}{href}"))
                .await;
            let title = if lang == "fr" { french } else { english };
            assert_eq!(browser.text(&browser.find("h1").await).await, *title);
            let step = format!("{:02}-{slug}-{lang}", n + 1);
            browser.assert_accessible(&step).await;
            browser.screenshot(&step).await;
        }
    }

    // The footer itself, for a person to look at.
    browser.goto(&format!("{base}/")).await;
    browser
        .execute("window.scrollTo(0, document.body.scrollHeight);")
        .await;
    browser.screenshot("07-footer").await;

    // The admin: the login page's footer, a page of the admin's own copy, a signed-in page.
    let t = TestDb::sqlite(true).await;
    common::create_user(&t, "marie", true).await;
    let admin = common::start_admin(&t).await;
    browser.goto(&format!("{admin}/admin/login")).await;
    let footer = browser.texts("footer .fr-footer__bottom-link").await;
    assert_eq!(
        footer,
        [
            "Accessibilité : partiellement conforme",
            "Mentions légales",
            "Données personnelles"
        ]
    );
    browser.assert_accessible("admin-01-login").await;
    browser
        .click(
            &browser
                .find("footer a[href=\"/admin/donnees-personnelles\"]")
                .await,
        )
        .await;
    browser
        .wait_for_url("the admin's privacy notice", |u| {
            u == format!("{admin}/admin/donnees-personnelles")
        })
        .await;
    assert_eq!(
        browser.text(&browser.find("h1").await).await,
        "Données personnelles"
    );
    browser.assert_accessible("admin-02-privacy").await;
    browser.screenshot("admin-02-privacy").await;
    browser.goto(&format!("{admin}/admin/login")).await;
    browser.sign_in("marie", &format!("{admin}/admin/")).await;
    assert_eq!(
        browser.texts("footer .fr-footer__bottom-link").await.len(),
        3
    );
    browser.assert_accessible("admin-03-home").await;
    browser
        .execute("window.scrollTo(0, document.body.scrollHeight);")
        .await;
    browser.screenshot("admin-03-home-footer").await;
}

/// The secret DS signs its deliveries with, in `sync_page_with_webhooks`.
const WEBHOOK_SECRET: &str = "whsec_secret-du-moment-0123456789";

/// A DS delivery of one event of démarche 4242, as DS sends it.
fn webhook_delivery(sequence: i64, event_type: &str, dossier_number: i64) -> String {
    json!({"webhook_id": "w1", "demarche_number": 4242, "events": [{
        "sequence": sequence, "type": event_type, "dossier_number": dossier_number,
        "timestamp": "2026-03-05T14:12:31+01:00"}]})
    .to_string()
}

/// Sends `body` to `POST /webhooks/ds` with this signature header; returns the answer's status.
async fn send_webhook(base: &str, body: &str, signature: &str) -> reqwest::StatusCode {
    // The crate's builder installs the TLS crypto provider `reqwest::Client::new` would need.
    wif::ds::http_client()
        .timeout(PATIENCE)
        .build()
        .unwrap()
        .post(format!("{base}/webhooks/ds"))
        .header("Content-Type", "application/json")
        .header(wif::domain::webhook::SIGNATURE_HEADER, signature)
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
        .status()
}

/// The Synchronisation page of an admin receiving DS webhooks, in a browser: the last event
/// received, the last delivery refused and the events of 24 hours per type (a repeated delivery
/// counted once); without a WCAG 2.1 A/AA violation under axe-core.
async fn sync_page_with_webhooks(t: &TestDb) {
    if browser_missing() {
        return;
    }
    common::create_user(t, "marie", true).await;
    let vars = [
        ("WIF_DS_WEBHOOK_SECRETS", WEBHOOK_SECRET),
        ("DEMARCHES_SIMPLIFIEES_PROCEDURE_ID_APT", "4242"),
    ];
    let base = common::start_admin_configured(t, &vars, |_| {}).await;
    let sync_url = format!("{base}/admin/sync/");

    // A delivery signed with another secret is refused; two valid ones are recorded, the second
    // (the last event) twice, as DS repeats a delivery it got no answer for.
    let before = chrono::Utc::now();
    let modified = webhook_delivery(1, "dossier_modifie", 100002);
    let accepted = webhook_delivery(2, "dossier_accepte", 100001);
    let forged =
        wif::domain::webhook::sign("whsec_un-autre-secret-0123456789", accepted.as_bytes());
    assert_eq!(
        send_webhook(&base, &accepted, &forged).await,
        reqwest::StatusCode::UNAUTHORIZED
    );
    for body in [&modified, &accepted, &accepted] {
        let signature = wif::domain::webhook::sign(WEBHOOK_SECRET, body.as_bytes());
        assert_eq!(
            send_webhook(&base, body, &signature).await,
            reqwest::StatusCode::OK,
            "{body}"
        );
    }
    let after = chrono::Utc::now();
    // The minutes the page may show for a delivery, in the service's time zone.
    let minutes: BTreeSet<String> = [before, after]
        .iter()
        .map(|t| {
            t.with_timezone(&chrono_tz::Europe::Paris)
                .format("%d/%m/%Y %H:%M")
                .to_string()
        })
        .collect();

    // Signed in through the login page, which sends back to the Synchronisation page.
    let engine = t.url.split(':').next().unwrap();
    let browser = Browser::start(&format!("{engine}-sync")).await;
    browser.goto(&sync_url).await;
    browser
        .wait_for_url("the login page", |u| {
            u.starts_with(&format!("{base}/admin/login?next="))
        })
        .await;
    let username = browser.find("#username").await;
    browser.send_keys(&username, "marie").await;
    let password = browser.find("#password").await;
    browser.send_keys(&password, common::ADMIN_PASSWORD).await;
    browser
        .click(&browser.find("main form button[type=submit]").await)
        .await;
    browser
        .wait_for_url("the Synchronisation page", |u| u == sync_url)
        .await;
    assert_eq!(
        browser.text(&browser.find("h1").await).await,
        "Synchronisation"
    );
    let header = browser.text(&browser.find("header").await).await;
    assert!(header.contains("marie (administrateur)"), "{header}");

    // The webhooks section: configured, with its last event, its refusal and its counts.
    let headings = browser.texts("main h2").await;
    assert!(headings.iter().any(|h| h == "Webhooks DS"), "{headings:?}");
    let paragraphs = browser.texts("main p").await;
    assert!(
        !paragraphs
            .iter()
            .any(|p| p.starts_with("Webhooks non configurés")),
        "{paragraphs:#?}"
    );
    let shown = |label: &str, rest: &str| {
        minutes
            .iter()
            .map(|m| format!("{label} : {m} — {rest}"))
            .collect::<Vec<_>>()
    };
    let last_event = shown(
        "Dernier événement reçu",
        "dossier_accepte (démarche 4242, dossier 100001)",
    );
    assert!(
        paragraphs.iter().any(|p| last_event.contains(p)),
        "{last_event:?} in {paragraphs:#?}"
    );
    let refused = shown("Dernière livraison refusée", "signature invalide");
    assert!(
        paragraphs.iter().any(|p| refused.contains(p)),
        "{refused:?} in {paragraphs:#?}"
    );
    let per_type = browser
        .execute(
            "const table = [...document.querySelectorAll('main table')].find(t => t.caption \
             && t.caption.textContent.trim() === 'Événements reçus sur 24 heures, par type');\n\
             return table ? [...table.tBodies[0].rows].map(r => [...r.cells].map(c => c.innerText.trim())) : null;",
        )
        .await;
    assert_eq!(
        per_type,
        json!([["dossier_accepte", "1"], ["dossier_modifie", "1"]])
    );
    browser.assert_accessible("01-webhooks").await;
    browser.screenshot("01-webhooks").await;
}

both_engines!(sync_page_with_webhooks);

/// A limited agent in Chromium: an administrator limits the agent to Paris on the Users page;
/// the agent then sees only the dossiers of Paris in the list, its filters and the home page,
/// opens one, and another département's dossier answers « Page introuvable »; each page without
/// a WCAG 2.1 A/AA violation under axe-core.
async fn limited_agent_in_a_browser(t: &TestDb) {
    if browser_missing() {
        return;
    }
    let seeded = common::seed_dossiers(t, 200).await;
    let paris: Vec<&Dossier> = seeded
        .iter()
        .filter(|d| d.department.as_deref() == Some("75 - Paris"))
        .collect();
    let elsewhere = seeded
        .iter()
        .find(|d| {
            d.department
                .as_deref()
                .is_some_and(|dep| dep != "75 - Paris")
        })
        .expect("dossiers of other départements");
    assert!(paris.len() >= 2, "synthetic dossiers in Paris");
    common::create_user(t, "marie", true).await;
    let agent_id = common::create_user(t, "agent.paris", false).await;
    let base = common::start_admin(t).await;
    let engine = t.url.split(':').next().unwrap();
    let browser = Browser::start(&format!("{engine}-limited")).await;

    // The administrator ticks Paris for the agent.
    let users_url = format!("{base}/admin/users/");
    browser.goto(&users_url).await;
    browser.sign_in("marie", &users_url).await;
    let modify = browser
        .find(&format!("a[href='/admin/users/{agent_id}/departements']"))
        .await;
    browser.click(&modify).await;
    browser
        .wait_for_url("the départements form", |u| u.ends_with("/departements"))
        .await;
    browser.assert_accessible("01-departements-form").await;
    browser.screenshot("01-departements-form").await;
    let paris_box = browser
        .find_text("main .fr-checkbox-group label", |t| t == "75 - Paris")
        .await;
    browser.click(&paris_box).await;
    browser
        .click(
            &browser
                .find_text("main button", |t| t == "Enregistrer")
                .await,
        )
        .await;
    browser
        .wait_for_url("the users page", |u| {
            u.ends_with("/admin/users/?ok=departements")
        })
        .await;
    let row = browser
        .find_text("main tbody tr", |t| t.contains("agent.paris"))
        .await;
    assert!(browser.text(&row).await.contains("75 - Paris"));
    browser.assert_accessible("02-users").await;
    browser.screenshot("02-users").await;
    browser
        .click(
            &browser
                .find_text("header button", |t| t == "Se déconnecter")
                .await,
        )
        .await;
    browser
        .wait_for_url("the login page after signing out", |u| {
            u == format!("{base}/admin/login?deconnecte=1")
        })
        .await;

    // The agent sees Paris only.
    let list_url = format!("{base}/admin/dossiers/");
    browser.goto(&list_url).await;
    browser.sign_in("agent.paris", &list_url).await;
    let header = browser.text(&browser.find("header").await).await;
    assert!(header.contains("agent.paris (75 - Paris)"), "{header}");
    let nav = browser.texts("nav.fr-nav a").await;
    assert!(
        !nav.iter()
            .any(|n| n == "Synchronisation" || n == "Utilisateurs"),
        "{nav:?}"
    );
    assert_eq!(total(&browser).await, paris.len());
    let departments = browser.texts("main tbody td:nth-child(4)").await;
    assert!(
        departments.iter().all(|d| d == "75 - Paris"),
        "{departments:?}"
    );
    let facet = browser
        .texts("nav[aria-labelledby=filtre-departement] a")
        .await;
    assert_eq!(
        facet,
        ["Tous".to_owned(), format!("75 - Paris ({})", paris.len())]
    );
    browser.assert_accessible("03-list").await;
    browser.screenshot("03-list").await;
    // Its home page and statistics count its département only; both accessible.
    for (path, step) in [("/admin/", "03-home"), ("/admin/stats/", "03-stats")] {
        browser.goto(&format!("{base}{path}")).await;
        let paragraphs = browser.texts("main p").await;
        assert!(
            paragraphs.iter().any(|p| p.contains("75 - Paris")),
            "{path}: {paragraphs:?}"
        );
        browser.assert_accessible(step).await;
    }
    // The whole country's activity is refused, with a page that says why.
    browser.goto(&format!("{base}/admin/sync/")).await;
    assert_eq!(
        browser.text(&browser.find("h1").await).await,
        "Accès refusé"
    );
    browser.assert_accessible("03-forbidden").await;
    browser.goto(&list_url).await;

    let first = browser.find("main tbody td:first-child a").await;
    let number = browser.text(&first).await;
    browser.click(&first).await;
    browser
        .wait_for_url("a dossier of Paris", |u| {
            u.ends_with(&format!("/admin/dossiers/{number}"))
        })
        .await;
    assert!(
        browser
            .text(&browser.find("h1").await)
            .await
            .contains(&number)
    );
    browser.assert_accessible("04-dossier").await;

    browser
        .goto(&format!("{base}/admin/dossiers/{}", elsewhere.ds_id))
        .await;
    assert_eq!(
        browser.text(&browser.find("h1").await).await,
        "Page introuvable"
    );
    let page = browser.source().await;
    let elsewhere_department = elsewhere.department.clone().unwrap();
    assert!(!page.contains(&elsewhere_department));
    for personal in [&elsewhere.nom, &elsewhere.prenom, &elsewhere.email]
        .into_iter()
        .flatten()
    {
        assert!(
            !page.contains(personal.as_str()),
            "the 404 page shows nothing of the dossier"
        );
    }
    browser.assert_accessible("05-not-found").await;
    browser.screenshot("05-not-found").await;

    // The monthly report of a month with decisions: Paris only, downloaded as a workbook.
    let decided = paris
        .iter()
        .filter_map(|d| d.processed_at)
        .max()
        .expect("a decided dossier in Paris");
    let month = decided
        .with_timezone(&chrono_tz::Europe::Paris)
        .format("%Y-%m")
        .to_string();
    browser
        .goto(&format!("{base}/admin/rapports/?mois={month}"))
        .await;
    let title = browser.text(&browser.find("h1").await).await;
    assert!(title.starts_with("Rapports mensuels : "), "{title}");
    let shown = browser.source().await;
    assert!(shown.contains("75 - Paris") && !shown.contains(&elsewhere_department));
    browser.assert_accessible("06-reports").await;
    browser.screenshot("06-reports").await;
    let link = browser
        .find_text("main a", |t| t == "Télécharger le classeur (XLSX)")
        .await;
    browser.click(&link).await;
    let downloads = browser.downloads();
    let downloaded = browser
        .until("the workbook downloaded", || async {
            std::fs::read_dir(&downloads)
                .ok()?
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .find(|path| path.extension().is_some_and(|e| e == "xlsx"))
        })
        .await;
    let name = downloaded
        .file_name()
        .unwrap()
        .to_string_lossy()
        .to_string();
    assert!(name.contains(&month), "{name}");
    let mut workbook: calamine::Xlsx<_> = calamine::open_workbook(&downloaded).unwrap();
    let sheets = workbook.sheet_names();
    assert_eq!(sheets.len(), 2, "« Synthèse » and Paris: {sheets:?}");
    let synthese = workbook.worksheet_range(&sheets[0]).unwrap();
    let text: String = synthese.cells().map(|(_, _, v)| format!("{v} ")).collect();
    assert!(
        text.contains("75 - Paris") && !text.contains(&elsewhere_department),
        "{text}"
    );
}

both_engines!(limited_agent_in_a_browser);

/// « Conservation des données » (SPEC 14), reached from the navigation, and the page of an
/// erased dossier: 0 axe-core violations.
async fn retention_in_a_browser(t: &TestDb) {
    if browser_missing() {
        return;
    }
    let seeded = common::seed_dossiers(t, 60).await;
    let counts = common::erase_every_decided_dossier(&t.db).await;
    assert!(
        counts.dossiers_erased > 0,
        "some synthetic dossiers were decided"
    );
    let erased = {
        let mut found = None;
        for d in &seeded {
            let stored = wif::store::dossiers::get(&t.db, d.ds_id)
                .await
                .unwrap()
                .unwrap();
            if stored.erased_at.is_some() {
                found = Some(d.ds_id.get());
                break;
            }
        }
        found.expect("an erased dossier")
    };
    common::create_user(t, "marie", true).await;
    let base = common::start_admin(t).await;
    let engine = t.url.split(':').next().unwrap();
    let browser = Browser::start(&format!("{engine}-retention")).await;
    let home = format!("{base}/admin/");
    browser.goto(&home).await;
    browser.sign_in("marie", &home).await;
    let link = browser
        .find_text("nav a", |text| text == "Conservation des données")
        .await;
    browser.click(&link).await;
    browser
        .wait_for_url("the retention page", |u| {
            u.ends_with("/admin/conservation/")
        })
        .await;
    assert_eq!(
        browser.text(&browser.find("h1").await).await,
        "Conservation des données"
    );
    browser.assert_accessible("01-conservation").await;
    browser.screenshot("01-conservation").await;
    browser
        .goto(&format!("{base}/admin/dossiers/{erased}"))
        .await;
    let notice = browser.text(&browser.find(".fr-alert__title").await).await;
    assert!(
        notice.starts_with("Données personnelles effacées le"),
        "{notice}"
    );
    browser.assert_accessible("02-erased-dossier").await;
    browser.screenshot("02-erased-dossier").await;
}

both_engines!(retention_in_a_browser);

/// The top and bottom of an element on the page, in CSS pixels.
async fn vertical_extent(browser: &Browser, element: &Element) -> (f64, f64) {
    let rect = browser
        .must("GET", &format!("/element/{}/rect", element.0), None)
        .await;
    let (y, height) = (
        rect["y"].as_f64().unwrap(),
        rect["height"].as_f64().unwrap(),
    );
    (y, y + height)
}

/// The « ProConnect » column of a user's row on the Users page: its badge, and its buttons'
/// texts.
async fn proconnect_cell(browser: &Browser, username: &str) -> (String, Vec<String>) {
    let found = browser
        .execute(&format!(
            "const table = document.querySelector('main table');\n\
             const column = [...table.tHead.rows[0].cells].findIndex(c => c.textContent.trim() === 'ProConnect');\n\
             const row = [...table.tBodies[0].rows]\n\
               .find(r => r.cells[0].firstChild.textContent.trim() === {username:?});\n\
             const cell = row.cells[column];\n\
             return [cell.querySelector('.fr-badge').textContent.trim(),\n\
                     [...cell.querySelectorAll('button')].map(b => b.textContent.trim())];"
        ))
        .await;
    let badge = found[0].as_str().unwrap().to_owned();
    let buttons = found[1]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_str().unwrap().to_owned())
        .collect();
    (badge, buttons)
}

/// ProConnect (SPEC 15) in Chromium against a test OpenID provider: the button on the login
/// page, the sign-in at the provider back to the page asked for, the sign-out through the
/// provider's logout, the refusal of an identity without an account, and an administrator
/// unlinking the identity on the Users page; each page of ours without a WCAG 2.1 A/AA violation.
async fn proconnect_in_a_browser(t: &TestDb) {
    if browser_missing() {
        return;
    }
    let Some(site) = common::oidc::start_site(t, &[], |config| {
        config.accounts.push(common::oidc::Account::agent(
            "inconnu",
            "inconnu@dreets.gouv.fr",
        ));
    })
    .await
    else {
        return;
    };
    common::create_user(t, "camille", false).await;
    common::create_user(t, "marie", true).await;
    let base = &site.base;
    let provider_origin = site.provider.issuer.trim_end_matches("/api/v2").to_owned();
    let engine = t.url.split(':').next().unwrap();
    let browser = Browser::start(&format!("{engine}-proconnect")).await;
    let list_url = format!("{base}/admin/dossiers/");
    let login_url = format!("{base}/admin/login");

    // The login page: the ProConnect button and what ProConnect is, above the password form.
    browser.goto(&list_url).await;
    browser
        .wait_for_url("the login page", |u| {
            u.starts_with(&format!("{login_url}?next="))
        })
        .await;
    let button = browser.find("main button.fr-connect").await;
    assert_eq!(
        browser
            .text(&button)
            .await
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["S’identifier", "avec", "ProConnect"]
    );
    let about = browser
        .find_text("main a", |t| t == "Qu’est-ce que ProConnect ?")
        .await;
    let password_form = browser.find("main form[action='/admin/login']").await;
    let (button_top, button_bottom) = vertical_extent(&browser, &button).await;
    let (_, about_bottom) = vertical_extent(&browser, &about).await;
    let (form_top, _) = vertical_extent(&browser, &password_form).await;
    assert!(
        button_top < button_bottom && button_bottom < about_bottom && about_bottom < form_top,
        "button {button_top}-{button_bottom}, link to {about_bottom}, form from {form_top}"
    );
    browser.assert_accessible("01-login").await;
    browser.screenshot("01-login").await;

    // At the provider, camille signs in, and lands on the page asked for.
    browser.click(&button).await;
    browser
        .wait_for_url("the provider's login page", |u| {
            u.starts_with(&format!("{provider_origin}/interaction/"))
        })
        .await;
    browser
        .send_keys(&browser.find("input[name=login]").await, "camille")
        .await;
    browser.screenshot("02-provider").await;
    browser
        .click(&browser.find_text("button", |t| t == "Se connecter").await)
        .await;
    browser
        .wait_for_url("the dossiers list", |u| u == list_url)
        .await;
    assert_eq!(browser.text(&browser.find("h1").await).await, "Dossiers");
    let header = browser.text(&browser.find("header").await).await;
    assert!(
        header.contains("camille") && !header.contains("administrateur"),
        "{header}"
    );
    browser.assert_accessible("03-signed-in").await;
    browser.screenshot("03-signed-in").await;

    // Signing out goes through the provider's logout, and back to the login page.
    browser
        .click(
            &browser
                .find_text("header button", |t| t == "Se déconnecter")
                .await,
        )
        .await;
    browser
        .wait_for_url("the login page after the provider's logout", |u| {
            u == format!("{login_url}?deconnecte=proconnect")
        })
        .await;
    let notice = browser.text(&browser.find("main .fr-alert").await).await;
    assert!(
        notice.contains("Vous êtes déconnecté de ce service et de ProConnect."),
        "{notice}"
    );
    let ended = &site.provider.log().await["end_sessions"];
    assert_eq!(ended.as_array().map(Vec::len), Some(1), "{ended}");
    browser.assert_accessible("04-signed-out").await;
    browser.screenshot("04-signed-out").await;
    browser.goto(&format!("{base}/admin/")).await;
    browser
        .wait_for_url("the login page again", |u| {
            u.starts_with(&format!("{login_url}?next="))
        })
        .await;
    assert_eq!(browser.text(&browser.find("h1").await).await, "Connexion");

    // The provider's session ended too: it asks who signs in, and an identity without an account
    // here is refused with what to ask.
    browser
        .click(&browser.find("main button.fr-connect").await)
        .await;
    browser
        .wait_for_url("the provider's login page again", |u| {
            u.starts_with(&format!("{provider_origin}/interaction/"))
        })
        .await;
    browser
        .send_keys(&browser.find("input[name=login]").await, "inconnu")
        .await;
    browser
        .click(&browser.find_text("button", |t| t == "Se connecter").await)
        .await;
    browser
        .wait_for_url("the refusal", |u| {
            u.starts_with(&format!("{base}/admin/proconnect/callback/"))
        })
        .await;
    assert_eq!(
        browser.text(&browser.find("h1").await).await,
        "Connexion impossible"
    );
    let refusal = browser.text(&browser.find("main .fr-alert").await).await;
    assert!(
        refusal.contains(
            "Aucun compte de ce service ne correspond à votre identité ProConnect (inconnu@dreets.gouv.fr)."
        ),
        "{refusal}"
    );
    browser
        .find_text("main a", |t| t == "Revenir à la page de connexion")
        .await;
    browser.assert_accessible("05-refused").await;
    browser.screenshot("05-refused").await;

    // The administrator sees camille's identity linked, and unlinks it.
    let users_url = format!("{base}/admin/users/");
    browser.goto(&users_url).await;
    browser.sign_in("marie", &users_url).await;
    let (badge, buttons) = proconnect_cell(&browser, "camille").await;
    assert_eq!(badge, "relié");
    assert_eq!(buttons.len(), 1, "{buttons:?}");
    assert!(buttons[0].starts_with("Délier"), "{buttons:?}");
    let camille_row = browser
        .find_text("main tbody tr", |t| {
            t.split_whitespace().next() == Some("camille")
        })
        .await;
    let camille_text = browser.text(&camille_row).await;
    assert!(
        camille_text.contains("Camille Dupont"),
        "the names ProConnect gave: {camille_text}"
    );
    assert_eq!(
        proconnect_cell(&browser, "marie").await,
        ("non relié".to_owned(), Vec::new())
    );
    browser.assert_accessible("06-users").await;
    browser.screenshot("06-users").await;
    let unlink = browser
        .find_text("main tbody button", |t| t.starts_with("Délier"))
        .await;
    browser.click(&unlink).await;
    browser
        .wait_for_url("the users page after unlinking", |u| {
            u == format!("{users_url}?ok=delie")
        })
        .await;
    let done = browser.text(&browser.find("main .fr-alert").await).await;
    assert!(done.contains("Identité ProConnect déliée"), "{done}");
    assert_eq!(
        proconnect_cell(&browser, "camille").await,
        ("non relié".to_owned(), Vec::new())
    );
    browser.screenshot("07-unlinked").await;
}

both_engines!(proconnect_in_a_browser);
