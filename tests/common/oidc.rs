//! A ProConnect-like OpenID provider for the tests: `tests/oidc/provider.mjs` (the npm package
//! `oidc-provider`) run by Node, and helpers that drive its pages over plain HTTP.
//!
//! Needs `node` and `node_modules/oidc-provider` (`npm ci --ignore-scripts`); without them the
//! test is skipped, unless `CI` is set: then it fails.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{ChildStdout, Command, Stdio};

use reqwest::header::{LOCATION, SET_COOKIE};
use reqwest::{StatusCode, Url};
use serde::Serialize;

use super::Running;

/// What the provider knows: its one client, its accounts, how it signs, what it spoils.
pub struct ProviderConfig {
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uri: String,
    pub post_logout_redirect_uri: String,
    /// `ES256` or `RS256`: the ID token's and the userinfo answer's.
    pub signing: &'static str,
    pub accounts: Vec<Account>,
    /// `other-key`, `wrong-audience`, `expired`, `userinfo-sub` or `acr:<value>`: see
    /// tests/oidc/provider.mjs.
    pub tamper: Option<String>,
}

impl ProviderConfig {
    /// The client `wif-test` of the admin app at `admin_url`, with ProConnect's paths, ES256, no
    /// account and no tampering.
    pub fn for_admin(admin_url: &str) -> ProviderConfig {
        ProviderConfig {
            client_id: "wif-test".into(),
            client_secret: "secret-du-client-wif-de-test".into(),
            redirect_uri: format!("{admin_url}/admin/proconnect/callback/"),
            post_logout_redirect_uri: format!("{admin_url}/admin/proconnect/logout/"),
            signing: "ES256",
            accounts: Vec::new(),
            tamper: None,
        }
    }
}

/// An agent known to the provider; `login` is what they type on its page.
#[derive(Clone, Debug, Serialize)]
pub struct Account {
    pub login: String,
    pub sub: String,
    pub email: String,
    pub given_name: String,
    pub usual_name: String,
    pub uid: String,
    pub siret: String,
    pub idp_id: String,
    /// Given as is, whatever the relying party asked for.
    pub acr: String,
}

impl Account {
    /// An agent with `sub-<login>` as `sub`, acr `eidas1`, and plausible other claims.
    pub fn agent(login: &str, email: &str) -> Account {
        Account {
            login: login.into(),
            sub: format!("sub-{login}"),
            email: email.into(),
            given_name: "Camille".into(),
            usual_name: "Dupont".into(),
            uid: format!("uid-{login}"),
            siret: "13002526500013".into(),
            idp_id: "fia1v2".into(),
            acr: "eidas1".into(),
        }
    }
}

/// The provider process, killed on drop.
pub struct Provider {
    /// `http://127.0.0.1:PORT/api/v2`; discovery at `<issuer>/.well-known/openid-configuration`.
    pub issuer: String,
    child: Running,
    // Kept open: the process would fail writing to a closed pipe.
    _stdout: BufReader<ChildStdout>,
    _dir: tempfile::TempDir,
}

impl Provider {
    /// Starts a provider on a free port of 127.0.0.1. `None` (and a note on stderr) when `node`
    /// or `node_modules/oidc-provider` is missing, unless `CI` is set: then the test fails.
    pub fn start(config: &ProviderConfig) -> Option<Provider> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let node_missing = Command::new("node").arg("--version").output().is_err();
        let module = root.join("node_modules/oidc-provider/package.json");
        let missing = match (node_missing, module.exists()) {
            (true, _) => Some(("node is not installed", "node est introuvable")),
            (false, false) => Some((
                "node_modules/oidc-provider is missing (run `npm ci --ignore-scripts`)",
                "node_modules/oidc-provider manque (lancez `npm ci --ignore-scripts`)",
            )),
            (false, true) => None,
        };
        if let Some((missing, manque)) = missing {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but {missing}: the ProConnect tests cannot run"
            );
            eprintln!("test ignoré : {manque}");
            return None;
        }

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("provider.json");
        let json = serde_json::json!({
            "client": {
                "client_id": config.client_id,
                "client_secret": config.client_secret,
                "redirect_uris": [config.redirect_uri],
                "post_logout_redirect_uris": [config.post_logout_redirect_uri],
            },
            "signing": config.signing,
            "accounts": config.accounts,
            "tamper": config.tamper,
        });
        std::fs::write(&path, json.to_string()).unwrap();
        let mut child = Running(
            Command::new("node")
                .arg(root.join("tests/oidc/provider.mjs"))
                .arg(&path)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("node starts"),
        );
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let issuer = line
            .trim_end()
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("the provider did not start: {line:?}"))
            .to_owned();
        Some(Provider {
            issuer,
            child,
            _stdout: stdout,
            _dir: dir,
        })
    }

    /// What the provider saw: `authorizations` (each authorization request's query parameters),
    /// `end_sessions` (the same for logouts), `token_exchanges` and `userinfo_requests` (counts of
    /// successful ones), `errors` (`{event, error, description}`).
    pub async fn log(&self) -> serde_json::Value {
        let origin = self.issuer.trim_end_matches("/api/v2");
        http_client()
            .get(format!("{origin}/__test/log"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

/// The admin app at `base`, with ProConnect at `provider`.
pub struct Site {
    pub base: String,
    pub provider: Provider,
}

/// Starts a provider configured by `adjust` (one agent, `camille`, by default) and an admin app
/// that uses it; `None` when the provider cannot run here (the test is then skipped).
pub async fn start_site(
    t: &super::TestDb,
    vars: &[(&str, &str)],
    adjust: impl FnOnce(&mut ProviderConfig),
) -> Option<Site> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut config = ProviderConfig::for_admin(&base);
    config.accounts = vec![Account::agent("camille", "Camille@DREETS.gouv.fr")];
    adjust(&mut config);
    let provider = Provider::start(&config)?;
    let mut all = vec![
        ("WIF_DATABASE_URL", t.url.clone()),
        ("WIF_DEBUG", "True".to_owned()),
        ("WIF_PROCONNECT_URL", provider.issuer.clone()),
        ("WIF_PROCONNECT_CLIENT_ID", config.client_id.clone()),
        ("WIF_PROCONNECT_CLIENT_SECRET", config.client_secret.clone()),
        ("WIF_ADMIN_URL", base.clone()),
    ];
    all.extend(vars.iter().map(|(k, v)| (*k, v.to_string())));
    let settings = wif::config::Settings::from_lookup(|key| {
        all.iter()
            .rev()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.clone())
    })
    .unwrap();
    let state = wif::admin::AppState::new(t.db.clone(), &settings, super::test_secret());
    super::serve_admin(state, Some(listener)).await;
    Some(Site { base, provider })
}

impl Site {
    /// Clicks « S'identifier avec ProConnect » (asking for `next`) and returns the provider's
    /// authorization URL.
    pub async fn start(&self, agent: &mut super::Agent, next: &str) -> String {
        let query = serde_urlencoded::to_string([("next", next)]).unwrap();
        let start = agent.get(&format!("/admin/proconnect/?{query}")).await;
        assert_eq!(start.status, StatusCode::SEE_OTHER, "{}", start.body);
        assert!(
            start.location().starts_with(&self.provider.issuer),
            "{}",
            start.location()
        );
        start.location().to_owned()
    }

    /// The whole sign-in as `login` at the provider; returns the answer of the callback.
    pub async fn sign_in(&self, agent: &mut super::Agent, login: &str) -> super::Answer {
        let authorize = self.start(agent, "/admin/dossiers/").await;
        let back = sign_in_at_provider(&http_client(), &authorize, login).await;
        self.visit(agent, &back).await
    }

    /// Follows a URL of the admin app given whole (as the provider redirects).
    pub async fn visit(&self, agent: &mut super::Agent, url: &str) -> super::Answer {
        let path = url
            .strip_prefix(&self.base)
            .unwrap_or_else(|| panic!("{url} is not on {}", self.base));
        agent.get(path).await
    }
}

/// A client for the provider that follows no redirect, as the helpers below expect.
pub fn http_client() -> reqwest::Client {
    wif::ds::http_client()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Signs in as `login` on the provider's page, starting from the authorization URL the relying
/// party redirected to; returns the URL the provider then sends the browser to (the relying
/// party's redirect URI with `code` and `state`, or with `error` if the request was refused).
/// `client` must not follow redirects. Panics if the login is refused.
pub async fn sign_in_at_provider(
    client: &reqwest::Client,
    authorize_url: &str,
    login: &str,
) -> String {
    answer_login_page(client, authorize_url, "/login", &[("login", login)]).await
}

/// As `sign_in_at_provider`, clicking « Refuser »: the URL has `error=access_denied`.
pub async fn refuse_at_provider(client: &reqwest::Client, authorize_url: &str) -> String {
    answer_login_page(client, authorize_url, "/refuse", &[]).await
}

/// Follows the provider's logout from the `end_session_endpoint` URL the relying party
/// redirected to; returns the URL of the relying party the provider sends the browser back to
/// (its `post_logout_redirect_uri` with `state`). The provider's page holds a form that a script
/// submits: this posts its hidden fields (`xsrf`, `logout=yes`) with the cookies of the page.
pub async fn end_session_at_provider(client: &reqwest::Client, end_session_url: &str) -> String {
    let mut browser = Browser::new(client, end_session_url);
    let page = browser.page(browser.get(end_session_url)).await;
    let action = attributes(&page, "action")
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no form on the provider's logout page: {page}"));
    let fields: Vec<(String, String)> = page
        .split("<input ")
        .skip(1)
        .filter(|input| input.contains("type=\"hidden\""))
        .filter_map(|input| {
            Some((
                attributes(input, "name").into_iter().next()?,
                attributes(input, "value").into_iter().next()?,
            ))
        })
        .collect();
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let post = browser.post(&action, &fields);
    browser.leave(post).await
}

async fn answer_login_page(
    client: &reqwest::Client,
    authorize_url: &str,
    suffix: &str,
    form: &[(&str, &str)],
) -> String {
    let mut browser = Browser::new(client, authorize_url);
    let page = match browser.follow(browser.get(authorize_url)).await {
        Step::Left(url) => return url,
        Step::Page(200, page) => page,
        Step::Page(status, page) => panic!("the provider answered {status}: {page}"),
    };
    let action = attributes(&page, "action")
        .into_iter()
        .find(|action| action.ends_with(suffix))
        .unwrap_or_else(|| panic!("no {suffix} form on the provider's page: {page}"));
    let post = browser.post(&action, form);
    match browser.follow(post).await {
        Step::Left(url) => url,
        Step::Page(_, page) => match page.split_once("role=\"alert\">") {
            Some((_, alert)) => panic!("the provider says: {}", alert.split('<').next().unwrap()),
            None => panic!("the provider did not send the browser back: {page}"),
        },
    }
}

/// Where a request led: a page of the provider, or a URL elsewhere.
enum Step {
    Page(u16, String),
    Left(String),
}

/// The provider seen by a browser without JavaScript: its cookies, kept by hand.
struct Browser<'a> {
    client: &'a reqwest::Client,
    base: Url,
    cookies: HashMap<String, String>,
}

impl<'a> Browser<'a> {
    fn new(client: &'a reqwest::Client, url: &str) -> Browser<'a> {
        let base = Url::parse(url).expect("an absolute provider URL");
        Browser {
            client,
            base,
            cookies: HashMap::new(),
        }
    }

    fn url(&self, url: &str) -> Url {
        self.base.join(url).unwrap()
    }

    fn get(&self, url: &str) -> reqwest::RequestBuilder {
        self.client.get(self.url(url))
    }

    fn post(&self, url: &str, form: &[(&str, &str)]) -> reqwest::RequestBuilder {
        super::with_form(self.client.post(self.url(url)), form)
    }

    /// Sends `request` and follows redirects within the provider.
    async fn follow(&mut self, mut request: reqwest::RequestBuilder) -> Step {
        for _ in 0..10 {
            let cookie: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let response = request
                .header("cookie", cookie.join("; "))
                .send()
                .await
                .unwrap();
            for set in response.headers().get_all(SET_COOKIE) {
                let set = set.to_str().unwrap();
                let pair = set.split(';').next().unwrap();
                let (name, value) = pair.split_once('=').unwrap();
                match value.is_empty() {
                    true => self.cookies.remove(name),
                    false => self.cookies.insert(name.to_owned(), value.to_owned()),
                };
            }
            let status = response.status();
            if !status.is_redirection() {
                return Step::Page(status.as_u16(), response.text().await.unwrap());
            }
            let location = response.headers()[LOCATION].to_str().unwrap();
            let next = self.url(location);
            if next.origin() != self.base.origin() {
                return Step::Left(location.to_owned());
            }
            request = self.client.get(next);
        }
        panic!("more than 10 redirects within the provider");
    }

    /// A page of the provider, answered with 200.
    async fn page(&mut self, request: reqwest::RequestBuilder) -> String {
        match self.follow(request).await {
            Step::Page(200, page) => page,
            Step::Page(status, page) => panic!("the provider answered {status}: {page}"),
            Step::Left(url) => panic!("the provider sent the browser to {url} instead of a page"),
        }
    }

    /// The URL out of the provider `request` leads to.
    async fn leave(&mut self, request: reqwest::RequestBuilder) -> String {
        match self.follow(request).await {
            Step::Left(url) => url,
            Step::Page(status, page) => panic!("the provider answered {status}: {page}"),
        }
    }
}

/// The values of the attribute `name` in `html`, in order, with `&amp;` decoded.
fn attributes(html: &str, name: &str) -> Vec<String> {
    let marker = format!(" {name}=\"");
    html.match_indices(&marker)
        .map(|(at, _)| {
            let rest = &html[at + marker.len()..];
            rest[..rest.find('"').unwrap()].replace("&amp;", "&")
        })
        .collect()
}
