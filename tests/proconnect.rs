//! ProConnect sign-in (SPEC 15) against a real OpenID provider (`tests/oidc/provider.mjs`, npm
//! `oidc-provider`, configured like ProConnect), on both engines, over HTTP.

mod common;

use common::oidc::{
    Account, Site, end_session_at_provider, http_client, refuse_at_provider, sign_in_at_provider,
    start_site,
};
use common::{ADMIN_PASSWORD, Agent, Answer, TestDb, create_user};
use reqwest::StatusCode;
use wif::store::{access_log, users};

/// The access log's entries, oldest first, as (username, action, detail).
async fn log(t: &TestDb) -> Vec<(String, String, Option<String>)> {
    let (entries, _) = access_log::page(&t.db, 1000, 0).await.unwrap();
    entries
        .into_iter()
        .rev()
        .map(|e| (e.username, e.action, e.detail))
        .collect()
}

async fn signed_in(agent: &mut Agent) -> bool {
    agent.get("/admin/").await.status == StatusCode::OK
}

async fn first_sign_in_links_by_email_then_the_sub_alone_matches(t: &TestDb) {
    let Some(site) = start_site(t, &[], |_| {}).await else {
        return;
    };
    let id = create_user(t, "camille", false).await;
    let mut agent = Agent::new(&site.base);

    let back = site.sign_in(&mut agent, "camille").await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
    assert_eq!(back.location(), "/admin/dossiers/", "the page asked for");
    assert!(signed_in(&mut agent).await);
    let user = users::get(&t.db, id).await.unwrap().unwrap();
    assert_eq!(
        user.proconnect_issuer.as_deref(),
        Some(site.provider.issuer.as_str())
    );
    assert_eq!(user.proconnect_sub.as_deref(), Some("sub-camille"));
    assert_eq!(
        (user.first_name.as_str(), user.last_name.as_str()),
        ("Camille", "Dupont")
    );
    assert!(user.last_login_at.is_some());
    assert_eq!(
        log(t).await,
        [
            ("camille".into(), "proconnect_linked".into(), None),
            ("camille".into(), "login".into(), Some("ProConnect".into())),
        ]
    );

    // What the provider was asked: ProConnect's scopes, long state and nonce, PKCE S256, acr
    // through `claims`.
    // The button is a form whose answer redirects to the provider: the pages' CSP lets forms
    // lead there, and nowhere else.
    let login = Agent::new(&site.base).get("/admin/login").await;
    let policy = login.headers["content-security-policy"].to_str().unwrap();
    let origin = site.provider.issuer.trim_end_matches("/api/v2");
    assert!(
        policy.contains(&format!("form-action 'self' {origin};")),
        "{policy}"
    );

    let requests = site.provider.log().await["authorizations"].clone();
    let request = &requests[0];
    for claim in [
        "openid",
        "email",
        "given_name",
        "usual_name",
        "uid",
        "siret",
        "idp_id",
    ] {
        let scope = request["scope"].as_str().unwrap();
        assert!(scope.split(' ').any(|s| s == claim), "{scope}");
    }
    assert!(request["state"].as_str().unwrap().len() >= 32);
    assert!(request["nonce"].as_str().unwrap().len() >= 32);
    assert_eq!(request["code_challenge_method"], "S256");
    let claims: serde_json::Value =
        serde_json::from_str(request["claims"].as_str().unwrap()).unwrap();
    assert_eq!(claims["id_token"]["acr"]["essential"], true);

    // The e-mail changes on the account's side: the identity alone still matches, and another
    // account with the provider's e-mail is not taken.
    set_email(t, id, "camille.dupont@travail.gouv.fr").await;
    let other = create_user(t, "camille2", false).await;
    set_email(t, other, "camille@dreets.gouv.fr").await;
    let mut later = Agent::new(&site.base);
    let back = site.sign_in(&mut later, "camille").await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
    assert!(signed_in(&mut later).await);
    let page = later.get("/admin/").await.body;
    assert!(page.contains("camille"), "signed in as the linked account");
    let other = users::get(&t.db, other).await.unwrap().unwrap();
    assert_eq!(other.proconnect_sub, None);
}

/// Changes an account's e-mail, as an administrator would in the database.
async fn set_email(t: &TestDb, id: i64, email: &str) {
    execute!(t, "UPDATE users SET email = $2 WHERE id = $1", id, email);
}

/// Ages every pending ProConnect request by `minutes`.
async fn age_requests(t: &TestDb, minutes: i64) {
    let at = chrono::Utc::now() + wif::store::proconnect_requests::LIFETIME
        - chrono::Duration::minutes(minutes);
    execute!(t, "UPDATE proconnect_requests SET expires_at = $1", at);
}

async fn a_new_issuer_links_the_accounts_again_by_email(t: &TestDb) {
    let id = create_user(t, "camille", false).await;
    // ProConnect's integration platform first…
    let Some(integration) = start_site(t, &[], |_| {}).await else {
        return;
    };
    let mut agent = Agent::new(&integration.base);
    assert_eq!(
        integration.sign_in(&mut agent, "camille").await.status,
        StatusCode::SEE_OTHER
    );
    // …then production: another issuer, another `sub` for the same agent.
    let Some(production) = start_site(t, &[], |config| {
        config.accounts[0].sub = "sub-de-production".into();
    })
    .await
    else {
        return;
    };
    assert_ne!(production.provider.issuer, integration.provider.issuer);
    let mut agent = Agent::new(&production.base);
    let back = production.sign_in(&mut agent, "camille").await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
    let user = users::get(&t.db, id).await.unwrap().unwrap();
    assert_eq!(
        user.proconnect_issuer.as_deref(),
        Some(production.provider.issuer.as_str())
    );
    assert_eq!(user.proconnect_sub.as_deref(), Some("sub-de-production"));
    let links = log(t)
        .await
        .into_iter()
        .filter(|(_, action, _)| action == "proconnect_linked")
        .count();
    assert_eq!(links, 2);
}

async fn logout_ends_the_session_here_and_at_the_provider(t: &TestDb) {
    let Some(site) = start_site(t, &[], |_| {}).await else {
        return;
    };
    create_user(t, "camille", false).await;
    let mut agent = Agent::new(&site.base);
    site.sign_in(&mut agent, "camille").await;
    let csrf = agent.csrf().await;

    // A page that moves on to the provider by itself: a redirect after a form would be checked
    // against the CSP's form-action all along ProConnect's way.
    let out = agent.post("/admin/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::OK);
    let refresh = out.headers["refresh"].to_str().unwrap();
    let end_session = refresh.strip_prefix("0; url=").unwrap().to_owned();
    assert!(
        out.body
            .contains(&format!("href=\"{}\"", end_session.replace('&', "&amp;"))),
        "a link for whoever's browser does not move on"
    );
    assert!(
        end_session.starts_with(&site.provider.issuer),
        "to the provider's end_session_endpoint: {end_session}"
    );
    assert!(
        !signed_in(&mut agent).await,
        "the local session ended first"
    );
    let back = end_session_at_provider(&http_client(), &end_session).await;
    let logouts = site.provider.log().await["end_sessions"].clone();
    let request = &logouts[0];
    assert!(request["id_token_hint"].as_str().unwrap().len() > 100);
    assert!(request["state"].as_str().unwrap().len() >= 32);
    assert_eq!(
        request["post_logout_redirect_uri"],
        format!("{}/admin/proconnect/logout/", site.base)
    );

    let landed = site.visit(&mut agent, &back).await;
    assert_eq!(landed.status, StatusCode::SEE_OTHER);
    assert_eq!(landed.location(), "/admin/login?deconnecte=proconnect");
    let login = agent.get(landed.location()).await;
    assert!(
        login
            .body
            .contains("Vous êtes déconnecté de ce service et de ProConnect")
    );

    // The same return again: its state was used.
    let again = site.visit(&mut agent, &back).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(
        again
            .body
            .contains("Votre session sur ce service est bien fermée")
    );
    // A forged state.
    let forged = format!("{}/admin/proconnect/logout/?state=abc", site.base);
    assert_eq!(
        site.visit(&mut agent, &forged).await.status,
        StatusCode::BAD_REQUEST
    );
}

async fn unknown_and_inactive_accounts_are_refused_with_what_to_ask(t: &TestDb) {
    let Some(site) = start_site(t, &[], |config| {
        config
            .accounts
            .push(Account::agent("dominique", "dominique@dreets.gouv.fr"));
    })
    .await
    else {
        return;
    };
    // Nobody has camille's e-mail.
    let mut agent = Agent::new(&site.base);
    let refused = site.sign_in(&mut agent, "camille").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused
            .body
            .contains("Aucun compte de ce service ne correspond")
    );
    assert!(refused.body.contains("Demandez à un administrateur"));
    assert!(refused.body.contains("Camille@DREETS.gouv.fr"));
    assert!(!signed_in(&mut agent).await);

    // An inactive account, not linked yet: refused, and not linked.
    let id = create_user(t, "dominique", false).await;
    users::set_active(&t.db, id, false).await.unwrap();
    let refused = site.sign_in(&mut Agent::new(&site.base), "dominique").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("Votre compte est désactivé"));
    assert_eq!(
        users::get(&t.db, id).await.unwrap().unwrap().proconnect_sub,
        None
    );

    // Linked, then deactivated: refused too.
    users::set_active(&t.db, id, true).await.unwrap();
    let mut agent = Agent::new(&site.base);
    assert_eq!(
        site.sign_in(&mut agent, "dominique").await.status,
        StatusCode::SEE_OTHER
    );
    users::set_active(&t.db, id, false).await.unwrap();
    let refused = site.sign_in(&mut Agent::new(&site.base), "dominique").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("Votre compte est désactivé"));

    let failures: Vec<_> = log(t)
        .await
        .into_iter()
        .filter(|(_, action, _)| action == "login_failed")
        .collect();
    assert_eq!(
        failures,
        [
            (
                "Camille@DREETS.gouv.fr".into(),
                "login_failed".into(),
                Some("ProConnect : aucun compte ne correspond".into())
            ),
            (
                "dominique".into(),
                "login_failed".into(),
                Some("ProConnect : compte désactivé".into())
            ),
            (
                "dominique".into(),
                "login_failed".into(),
                Some("ProConnect : compte désactivé".into())
            ),
        ]
    );
}

async fn two_accounts_with_the_email_are_not_guessed_between(t: &TestDb) {
    let Some(site) = start_site(t, &[], |_| {}).await else {
        return;
    };
    let first = create_user(t, "camille", false).await;
    let second = create_user(t, "camille-bis", false).await;
    set_email(t, second, "camille@dreets.gouv.fr").await;
    let refused = site.sign_in(&mut Agent::new(&site.base), "camille").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused
            .body
            .contains("Plusieurs comptes de ce service portent l'adresse")
    );
    for id in [first, second] {
        assert_eq!(
            users::get(&t.db, id).await.unwrap().unwrap().proconnect_sub,
            None
        );
    }
}

async fn a_refusal_at_the_provider_comes_back_as_a_page(t: &TestDb) {
    let Some(site) = start_site(t, &[], |_| {}).await else {
        return;
    };
    create_user(t, "camille", false).await;
    let mut agent = Agent::new(&site.base);
    let authorize = site.start(&mut agent, "/admin/").await;
    let back = refuse_at_provider(&http_client(), &authorize).await;
    assert!(back.contains("error=access_denied"), "{back}");
    let refused = site.visit(&mut agent, &back).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused
            .body
            .contains("La connexion ProConnect a été annulée ou refusée")
    );
    assert!(!signed_in(&mut agent).await);
    let (_, action, detail) = log(t).await.pop().unwrap();
    assert_eq!(action, "login_failed");
    assert_eq!(
        detail.as_deref(),
        Some("ProConnect : erreur renvoyée : access_denied")
    );
}

async fn a_wrong_replayed_or_foreign_state_is_refused(t: &TestDb) {
    let Some(site) = start_site(t, &[], |_| {}).await else {
        return;
    };
    create_user(t, "camille", false).await;
    let state_refused = |answer: &Answer, case: &str| {
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{case}: {}",
            answer.body
        );
        assert!(
            answer
                .body
                .contains("Recommencez depuis la page de connexion")
        );
    };

    // A state changed on the way back.
    let mut agent = Agent::new(&site.base);
    let authorize = site.start(&mut agent, "/admin/").await;
    let back = sign_in_at_provider(&http_client(), &authorize, "camille").await;
    let forged = back.replace("state=", "state=0");
    state_refused(&site.visit(&mut agent, &forged).await, "forged state");
    assert!(!signed_in(&mut agent).await);

    // The right return, brought by other browsers: one without the cookie of the browser that
    // left, one with a cookie of its own sign-in.
    let mut other = Agent::new(&site.base);
    state_refused(
        &site.visit(&mut other, &back).await,
        "a browser without the cookie",
    );
    assert!(!signed_in(&mut other).await);
    site.start(&mut other, "/admin/").await;
    assert!(other.cookies.contains_key("wif_proconnect"));
    state_refused(&site.visit(&mut other, &back).await, "another browser");
    assert!(!signed_in(&mut other).await);
    // Neither used the request up: the browser that left still comes back, once.
    let cookies_before = agent.cookies.clone();
    let back_home = site.visit(&mut agent, &back).await;
    assert_eq!(
        back_home.status,
        StatusCode::SEE_OTHER,
        "{}",
        back_home.body
    );
    assert!(signed_in(&mut agent).await);
    let mut replay = Agent::new(&site.base);
    replay.cookies = cookies_before;
    assert!(replay.cookies.contains_key("wif_proconnect"));
    state_refused(&site.visit(&mut replay, &back).await, "replayed");
    assert!(!signed_in(&mut replay).await);

    // A return 10 minutes after the start is too late; 9 minutes is not.
    let mut agent = Agent::new(&site.base);
    let authorize = site.start(&mut agent, "/admin/").await;
    let back = sign_in_at_provider(&http_client(), &authorize, "camille").await;
    age_requests(t, 10).await;
    state_refused(&site.visit(&mut agent, &back).await, "expired");
    let mut agent = Agent::new(&site.base);
    let authorize = site.start(&mut agent, "/admin/").await;
    let back = sign_in_at_provider(&http_client(), &authorize, "camille").await;
    age_requests(t, 9).await;
    assert_eq!(
        site.visit(&mut agent, &back).await.status,
        StatusCode::SEE_OTHER
    );

    // No state at all.
    let bare = format!("{}/admin/proconnect/callback/?code=x", site.base);
    state_refused(&site.visit(&mut agent, &bare).await, "no state");
}

async fn a_replayed_code_is_refused(t: &TestDb) {
    let Some(site) = start_site(t, &[], |_| {}).await else {
        return;
    };
    create_user(t, "camille", false).await;
    let mut first = Agent::new(&site.base);
    let authorize = site.start(&mut first, "/admin/").await;
    let back = sign_in_at_provider(&http_client(), &authorize, "camille").await;
    assert_eq!(
        site.visit(&mut first, &back).await.status,
        StatusCode::SEE_OTHER
    );

    // An attacker who saw that return starts a sign-in of their own and brings the used code
    // with their own state.
    let code = url_parameter(&back, "code");
    let mut attacker = Agent::new(&site.base);
    let theirs = site.start(&mut attacker, "/admin/").await;
    let state = url_parameter(&theirs, "state");
    let query = serde_urlencoded::to_string([("code", code), ("state", state)]).unwrap();
    let refused = attacker
        .get(&format!("/admin/proconnect/callback/?{query}"))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(
        refused
            .body
            .contains("La réponse de ProConnect n'a pas pu être vérifiée")
    );
    assert!(!signed_in(&mut attacker).await);
    assert_eq!(site.provider.log().await["token_exchanges"], 1);
}

fn url_parameter(url: &str, name: &str) -> String {
    reqwest::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no {name} in {url}"))
}

/// Each way a token can fail verification: refused with the same page, no session, and the
/// reason in the access log.
async fn tokens_that_fail_verification_are_refused(t: &TestDb) {
    create_user(t, "camille", false).await;
    for (tamper, reason) in [
        ("other-key", "jeton d'identité"),
        ("wrong-audience", "jeton d'identité"),
        ("expired", "jeton d'identité"),
        ("userinfo-sub", "le sub de userinfo diffère"),
    ] {
        let Some(site) = start_site(t, &[], |config| config.tamper = Some(tamper.into())).await
        else {
            return;
        };
        let mut agent = Agent::new(&site.base);
        let refused = site.sign_in(&mut agent, "camille").await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "{tamper}: {}",
            refused.body
        );
        assert!(
            refused
                .body
                .contains("La réponse de ProConnect n'a pas pu être vérifiée"),
            "{tamper}"
        );
        assert!(!signed_in(&mut agent).await, "{tamper}");
        let (username, action, detail) = log(t).await.pop().unwrap();
        assert_eq!(
            (username.as_str(), action.as_str()),
            ("ProConnect", "login_failed")
        );
        let detail = detail.unwrap();
        assert!(detail.contains(reason), "{tamper}: {detail}");
    }
    let user = users::find_by_username(&t.db, "camille")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.proconnect_sub, None, "no identity was linked");
}

async fn with_mfa_a_one_factor_acr_is_refused(t: &TestDb) {
    create_user(t, "camille", false).await;
    let mfa = [("WIF_PROCONNECT_MFA", "True")];
    // The provider's answer says eidas1 although eidas2 was used.
    let Some(site) = start_site(t, &mfa, |config| {
        config.accounts[0].acr = "eidas2".into();
        config.tamper = Some("acr:eidas1".into());
    })
    .await
    else {
        return;
    };
    let mut agent = Agent::new(&site.base);
    let refused = site.sign_in(&mut agent, "camille").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(
        refused
            .body
            .contains("exige une connexion ProConnect avec double authentification")
    );
    assert!(!signed_in(&mut agent).await);
    let request = site.provider.log().await["authorizations"][0].clone();
    let claims: serde_json::Value =
        serde_json::from_str(request["claims"].as_str().unwrap()).unwrap();
    assert_eq!(
        claims["id_token"]["acr"]["values"],
        serde_json::json!(["eidas1-mfa", "eidas2", "eidas3"])
    );

    // A two-factor sign-in, signed in RS256 this time.
    let Some(site) = start_site(t, &mfa, |config| {
        config.accounts[0].acr = "eidas2".into();
        config.signing = "RS256";
    })
    .await
    else {
        return;
    };
    let mut agent = Agent::new(&site.base);
    let back = site.sign_in(&mut agent, "camille").await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
    assert!(signed_in(&mut agent).await);
}

async fn a_provider_down_gives_a_page_not_an_error(t: &TestDb) {
    let Some(site) = start_site(t, &[], |_| {}).await else {
        return;
    };
    create_user(t, "camille", false).await;
    let mut signed = Agent::new(&site.base);
    site.sign_in(&mut signed, "camille").await;
    // Down between the sign-in at the provider and the return.
    let mut agent = Agent::new(&site.base);
    let authorize = site.start(&mut agent, "/admin/").await;
    let back = sign_in_at_provider(&http_client(), &authorize, "camille").await;
    let Site { base, provider } = site;
    drop(provider);
    let down = agent.get(back.strip_prefix(&base).unwrap()).await;
    assert_eq!(down.status, StatusCode::BAD_GATEWAY, "{}", down.body);
    assert!(
        down.body
            .contains("ProConnect ne répond pas pour le moment")
    );
    assert!(
        down.body
            .contains("Vous pouvez aussi vous connecter avec votre mot de passe")
    );
    assert!(!signed_in(&mut agent).await);
    let (_, action, detail) = log(t).await.pop().unwrap();
    assert_eq!(action, "login_failed");
    let detail = detail.unwrap();
    assert!(
        detail.starts_with("ProConnect : ProConnect ne répond pas"),
        "{detail}"
    );

    // Down at the logout: the session here ends all the same, and the page says what is left.
    let csrf = signed.csrf().await;
    let out = signed.post("/admin/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.location(), "/admin/login?deconnecte=sans-proconnect");
    assert!(!signed_in(&mut signed).await);
    let login = signed.get(out.location()).await.body;
    assert!(login.contains("ProConnect n'a pas pu être joint"));

    // Down at the start.
    let start = agent.get("/admin/proconnect/").await;
    assert_eq!(start.status, StatusCode::BAD_GATEWAY, "{}", start.body);
    assert!(
        start
            .body
            .contains("ProConnect ne répond pas pour le moment")
    );
    // The password still works.
    assert_eq!(
        agent.sign_in("camille", ADMIN_PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
}

async fn password_login_can_be_kept_for_administrators_or_turned_off(t: &TestDb) {
    create_user(t, "admin", true).await;
    create_user(t, "camille", false).await;
    let admins_only = [("WIF_PASSWORD_LOGIN", "administrators")];
    let Some(site) = start_site(t, &admins_only, |_| {}).await else {
        return;
    };
    let mut agent = Agent::new(&site.base);
    let page = agent.get("/admin/login").await.body;
    assert!(page.contains("S’identifier avec"));
    assert!(page.contains("Administrateurs : identifiez-vous avec votre mot de passe"));
    let refused = agent.sign_in("camille", ADMIN_PASSWORD).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(
        refused
            .body
            .contains("Les agents se connectent avec ProConnect")
    );
    assert!(!signed_in(&mut agent).await);
    // A wrong password of an agent gets the usual answer: the refusal tells nothing to a guesser.
    let wrong = agent.sign_in("camille", "pas le bon mot de passe").await;
    assert!(
        !wrong
            .body
            .contains("Les agents se connectent avec ProConnect")
    );
    let mut admin = Agent::new(&site.base);
    assert_eq!(
        admin.sign_in("admin", ADMIN_PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );

    let off = [("WIF_PASSWORD_LOGIN", "off")];
    let Some(site) = start_site(t, &off, |_| {}).await else {
        return;
    };
    let mut agent = Agent::new(&site.base);
    let page = agent.get("/admin/login").await;
    assert!(page.body.contains("S’identifier avec"));
    assert!(!page.body.contains("name=\"password\""), "no password form");
    let form = [
        ("csrf", "0".repeat(64)),
        ("username", "admin".to_owned()),
        ("password", ADMIN_PASSWORD.to_owned()),
    ];
    agent
        .cookies
        .insert("wif_login_csrf".into(), "0".repeat(64));
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let refused = agent.post("/admin/login", &form).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused
            .body
            .contains("La connexion par mot de passe est désactivée")
    );
    assert!(!signed_in(&mut agent).await);
}

async fn an_administrator_sees_and_unlinks_identities(t: &TestDb) {
    let Some(site) = start_site(t, &[], |_| {}).await else {
        return;
    };
    create_user(t, "admin", true).await;
    let camille = create_user(t, "camille", false).await;
    let mut agent = Agent::new(&site.base);
    site.sign_in(&mut agent, "camille").await;
    assert!(signed_in(&mut agent).await);

    let mut admin = Agent::new(&site.base);
    admin.sign_in("admin", ADMIN_PASSWORD).await;
    let page = admin.get("/admin/users/").await.body;
    let row = |name: &str| {
        let start = page.find(&format!("<td>{name}")).unwrap();
        page[start..start + page[start..].find("</tr>").unwrap()].to_owned()
    };
    assert!(row("camille").contains("relié"), "{}", row("camille"));
    assert!(row("camille").contains("Délier"));
    assert!(row("admin").contains("non relié"));
    assert!(!row("admin").contains("Délier"));

    let csrf = admin.csrf().await;
    let done = admin
        .post(
            &format!("/admin/users/{camille}/proconnect"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(done.location(), "/admin/users/?ok=delie");
    assert_eq!(
        users::get(&t.db, camille)
            .await
            .unwrap()
            .unwrap()
            .proconnect_sub,
        None
    );
    assert!(!signed_in(&mut agent).await, "its sessions ended");
    let (username, action, detail) = log(t).await.pop().unwrap();
    assert_eq!(
        (username.as_str(), action.as_str(), detail.as_deref()),
        ("admin", "proconnect_unlinked", Some("compte camille"))
    );
    // Its next ProConnect sign-in links it again, by e-mail.
    let mut agent = Agent::new(&site.base);
    assert_eq!(
        site.sign_in(&mut agent, "camille").await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        users::get(&t.db, camille)
            .await
            .unwrap()
            .unwrap()
            .proconnect_sub
            .as_deref(),
        Some("sub-camille")
    );
}

async fn without_proconnect_there_is_no_button_and_no_route(t: &TestDb) {
    let base = common::start_admin(t).await;
    let mut agent = Agent::new(&base);
    let page = agent.get("/admin/login").await.body;
    assert!(!page.contains("ProConnect"));
    assert!(page.contains("name=\"password\""));
    for path in [
        "/admin/proconnect/",
        "/admin/proconnect/callback/?code=x&state=y",
        "/admin/proconnect/logout/?state=y",
    ] {
        assert_eq!(
            agent.get(path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}

both_engines!(
    first_sign_in_links_by_email_then_the_sub_alone_matches,
    a_new_issuer_links_the_accounts_again_by_email,
    logout_ends_the_session_here_and_at_the_provider,
    unknown_and_inactive_accounts_are_refused_with_what_to_ask,
    two_accounts_with_the_email_are_not_guessed_between,
    a_refusal_at_the_provider_comes_back_as_a_page,
    a_wrong_replayed_or_foreign_state_is_refused,
    a_replayed_code_is_refused,
    tokens_that_fail_verification_are_refused,
    with_mfa_a_one_factor_acr_is_refused,
    a_provider_down_gives_a_page_not_an_error,
    password_login_can_be_kept_for_administrators_or_turned_off,
    an_administrator_sees_and_unlinks_identities,
    without_proconnect_there_is_no_button_and_no_route,
);
