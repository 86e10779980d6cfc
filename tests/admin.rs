//! The admin web app over HTTP, on both database engines: sessions, CSRF, throttling, roles,
//! the access log, security headers, and what the lists show.

mod common;

use std::collections::HashMap;

use chrono::{Days, Utc};
use common::{
    ADMIN_PASSWORD, Agent, TestDb, create_user, seed_dossiers, start_admin, start_admin_configured,
    start_admin_with, with_form,
};
use reqwest::StatusCode;
use reqwest::header::SET_COOKIE;
use wif::domain::Status;
use wif::store::{access_log, users};

/// Every page but the login page sends a visitor without a session to the login page.
async fn every_page_requires_a_session(t: &TestDb) {
    seed_dossiers(t, 5).await;
    let mut agent = Agent::new(&start_admin(t).await);
    for path in [
        "/admin/",
        "/admin/dossiers/",
        "/admin/dossiers/100001",
        "/admin/dossiers/export.csv",
        "/admin/prefecture/",
        "/admin/stats/",
        "/admin/sync/",
        "/admin/users/",
        "/admin/access-log/",
        "/admin/media/validity_check.json",
        "/admin/dossiers/100001/raw.json",
    ] {
        let answer = agent.get(path).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{path}");
        assert!(
            answer.location().starts_with("/admin/login?next="),
            "{path}"
        );
        assert!(!answer.body.contains("100001"), "{path}");
    }
    // Outside the admin nothing is served, with or without a session.
    let api = agent
        .get("/api/v1/apt_validity_check/100001/2000-01-01")
        .await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    assert!(!api.body.contains("100001"));
    let post = agent.post("/admin/sync/", &[("csrf", "x")]).await;
    assert_eq!(post.location(), "/admin/login");
    // The public API is not served here, even signed in.
    create_user(t, "marie", true).await;
    agent.sign_in("marie", ADMIN_PASSWORD).await;
    let api = agent
        .get("/api/v1/apt_validity_check/100001/2000-01-01")
        .await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
}

/// Signing in: a new HttpOnly, SameSite=Lax session cookie (Secure unless WIF_DEBUG), a new id
/// each time; signing out ends the session on the server.
async fn sessions_are_renewed_at_sign_in_and_ended_at_sign_out(t: &TestDb) {
    create_user(t, "marie", true).await;
    let base = start_admin(t).await;
    let mut agent = Agent::new(&base);
    agent
        .cookies
        .insert("wif_session".into(), "0123456789planted".into());
    let signed_in = agent.sign_in("marie", ADMIN_PASSWORD).await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    assert_eq!(signed_in.location(), "/admin/");
    let set_cookie: Vec<&str> = signed_in
        .headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    let session_cookie = set_cookie
        .iter()
        .find(|c| c.starts_with("wif_session="))
        .unwrap();
    assert!(session_cookie.contains("HttpOnly"), "{session_cookie}");
    assert!(session_cookie.contains("SameSite=Lax"), "{session_cookie}");
    assert!(
        !session_cookie.contains("Secure"),
        "WIF_DEBUG: plain HTTP allowed"
    );
    let first = agent.cookies["wif_session"].clone();
    assert_ne!(first, "0123456789planted");
    assert_eq!(agent.get("/admin/").await.status, StatusCode::OK);

    // Signing in again gives another id; the first one no longer works.
    agent.sign_in("marie", ADMIN_PASSWORD).await;
    let second = agent.cookies["wif_session"].clone();
    assert_ne!(first, second);
    let mut replay = Agent::new(&base);
    replay.cookies.insert("wif_session".into(), first);
    assert_eq!(replay.get("/admin/").await.status, StatusCode::SEE_OTHER);

    let csrf = agent.csrf().await;
    let out = agent.post("/admin/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.location(), "/admin/login?deconnecte=1");
    let mut stolen = Agent::new(&base);
    stolen.cookies.insert("wif_session".into(), second);
    assert_eq!(
        stolen.get("/admin/").await.status,
        StatusCode::SEE_OTHER,
        "ended on the server"
    );

    // Without WIF_DEBUG the cookie is Secure.
    let url = common::start_admin_with(t, false).await;
    let mut production = Agent::new(&url);
    let answer = production.sign_in("marie", ADMIN_PASSWORD).await;
    let cookie = answer
        .headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("wif_session="))
        .unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
}

/// Every POST needs the session's CSRF token, and a form posted from another site is refused.
async fn posts_need_a_csrf_token_from_this_site(t: &TestDb) {
    create_user(t, "marie", true).await;
    let base = start_admin(t).await;
    let mut agent = Agent::new(&base);
    agent.sign_in("marie", ADMIN_PASSWORD).await;
    let csrf = agent.csrf().await;
    for form in [vec![], vec![("csrf", "0".repeat(64))]] {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let answer = agent.post("/admin/users/", &form).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN);
        assert!(answer.body.contains("Requête refusée"));
    }
    let cross_site = agent
        .send(
            with_form(
                agent.http.post(format!("{base}/admin/logout")),
                &[("csrf", csrf.as_str())],
            )
            .header("origin", "https://pirate.example"),
        )
        .await;
    assert_eq!(cross_site.status, StatusCode::FORBIDDEN);
    assert_eq!(
        agent.get("/admin/").await.status,
        StatusCode::OK,
        "still signed in"
    );

    // The login form: its token must match the cookie set with the form.
    let mut stranger = Agent::new(&base);
    let refused = stranger
        .post(
            "/admin/login",
            &[
                ("csrf", &"1".repeat(64)),
                ("username", "marie"),
                ("password", ADMIN_PASSWORD),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(!stranger.cookies.contains_key("wif_session"));
}

/// Five failures slow sign-in down, ten lock it for a while, with the same words whether the
/// account exists or not; the good password does not get through meanwhile.
async fn failed_sign_ins_are_throttled(t: &TestDb) {
    create_user(t, "marie", true).await;
    let mut agent = Agent::new(&start_admin(t).await);
    for username in ["marie", "personne"] {
        for _ in 0..5 {
            let answer = agent.sign_in(username, "mauvais mot de passe").await;
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
            assert!(
                answer
                    .body
                    .contains("Nom d'utilisateur ou mot de passe incorrect")
            );
        }
        // Same answer for an existing and an unknown name.
        let slowed = agent.sign_in(username, ADMIN_PASSWORD).await;
        assert!(slowed.body.contains("patientez"), "{username}");
    }
    assert!(!agent.cookies.contains_key("wif_session"));

    // Ten recent failures of this name at this address: locked, even with the good password.
    insert_failures(t, "user_address:marie 127.0.0.1", 10).await;
    let locked = agent.sign_in("marie", ADMIN_PASSWORD).await;
    assert!(locked.body.contains("réessayez dans"), "{}", locked.body);
    assert!(!agent.cookies.contains_key("wif_session"));
}

/// Recent failures for `key`, as if they had happened a minute ago.
async fn insert_failures(t: &TestDb, key: &str, count: usize) {
    let at = Utc::now() - chrono::Duration::minutes(1);
    for _ in 0..count {
        match &t.db {
            wif::store::Db::Sqlite(pool) => {
                sqlx::query("INSERT INTO login_failures (key, failed_at) VALUES ($1, $2)")
                    .bind(key)
                    .bind(at)
                    .execute(pool)
                    .await
                    .unwrap();
            }
            wif::store::Db::Postgres(pool) => {
                sqlx::query("INSERT INTO login_failures (key, failed_at) VALUES ($1, $2)")
                    .bind(key)
                    .bind(at)
                    .execute(pool)
                    .await
                    .unwrap();
            }
        }
    }
}

/// 100 simultaneous wrong passwords, then the right one: treated exactly as if they had come one
/// after the other (five checked, the rest slowed down, the right one refused too).
async fn parallel_sign_ins_are_counted_like_successive_ones(t: &TestDb) {
    create_user(t, "marie", true).await;
    // A hundred connections from one address: more than one client may hold (tests/listeners.rs).
    let base = start_admin_configured(t, &[], |state| {
        state.limits.max_connections_per_client = 200;
    })
    .await;
    let mut agent = Agent::new(&base);
    let csrf = agent.get("/admin/login").await.csrf();
    let cookie = format!("wif_login_csrf={csrf}");
    let post = |password: String| {
        let request = agent.http.post(format!("{base}/admin/login"));
        let form = [
            ("csrf", csrf.as_str()),
            ("next", "/admin/"),
            ("username", "marie"),
            ("password", password.as_str()),
        ];
        with_form(request, &form)
            .header("cookie", cookie.clone())
            .send()
    };
    let mut attempts: Vec<_> = (0..100).map(|i| post(format!("faux {i}"))).collect();
    attempts.push(post(ADMIN_PASSWORD.to_owned()));
    let answers = futures_util::future::join_all(attempts).await;
    let mut checked = 0;
    let mut throttled = 0;
    for (i, answer) in answers.into_iter().enumerate() {
        let answer = answer.unwrap();
        assert_ne!(
            answer.status(),
            StatusCode::SEE_OTHER,
            "attempt {i} signed in"
        );
        let body = answer.text().await.unwrap();
        checked += usize::from(body.contains("mot de passe incorrect"));
        throttled += usize::from(body.contains("Trop de tentatives"));
    }
    assert_eq!((checked, throttled), (5, 96));
    let (entries, _) = access_log::page(&t.db, 200, 0).await.unwrap();
    assert_eq!(
        entries
            .iter()
            .filter(|e| e.action == "login_failed")
            .count(),
        5,
        "only five passwords were really checked"
    );
}

/// 300 sign-ins at once for unknown names: the password checks wait in a bounded queue, those
/// beyond it are told at once to retry (503), and the pages keep answering meanwhile.
async fn a_burst_of_sign_ins_does_not_freeze_the_admin(t: &TestDb) {
    let dossiers = seed_dossiers(t, 3).await;
    create_user(t, "marie", true).await;
    let base = start_admin_configured(t, &[], |state| {
        state.password_checks = wif::admin::PasswordChecks::with_limits(1, 16);
        state.limits.max_connections_per_client = 400;
    })
    .await;
    let mut agent = Agent::new(&base);
    agent.sign_in("marie", ADMIN_PASSWORD).await;
    let csrf = Agent::new(&base).get("/admin/login").await;
    let token = csrf.csrf();
    let cookie = format!("wif_login_csrf={token}");
    let burst: Vec<_> = (0..300)
        .map(|i| {
            let username = format!("inconnu{i}");
            let form = [
                ("csrf", token.as_str()),
                ("next", "/admin/"),
                ("username", username.as_str()),
                ("password", "mauvais mot de passe"),
            ];
            with_form(agent.http.post(format!("{base}/admin/login")), &form)
                .header("cookie", cookie.clone())
                .send()
        })
        .collect();
    let burst = tokio::spawn(futures_util::future::join_all(burst));
    let page = agent
        .get(&format!("/admin/dossiers/{}", dossiers[0].ds_id))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let mut statuses = HashMap::new();
    for answer in burst.await.unwrap() {
        let answer = answer.unwrap();
        let status = answer.status();
        *statuses.entry(status).or_insert(0) += 1;
        if status == StatusCode::SERVICE_UNAVAILABLE {
            assert_eq!(answer.headers()["retry-after"], "5");
            let body = answer.text().await.unwrap();
            assert!(body.contains("réessayez dans quelques secondes"));
        }
    }
    let refused = statuses
        .get(&StatusCode::SERVICE_UNAVAILABLE)
        .copied()
        .unwrap_or(0);
    let checked = statuses
        .get(&StatusCode::UNAUTHORIZED)
        .copied()
        .unwrap_or(0);
    // Places free up as checks end, so the split varies; but a full queue refuses at once.
    assert!(refused >= 100, "{statuses:?}");
    assert!(checked >= 16, "{statuses:?}");
    assert_eq!(refused + checked, 300, "{statuses:?}");
    // A refusal for lack of time is no failed attempt: only the checked ones are counted (under
    // the name at this address, and the name anywhere).
    let sql = "SELECT COUNT(*) FROM login_failures";
    let failures: i64 = match &t.db {
        wif::store::Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
        wif::store::Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
    };
    assert_eq!(failures, 2 * checked as i64);
}

/// Behind trusted proxies, the client is the right-most forwarded address that is not a proxy:
/// throttling and the access log use it, and one address's failures never refuse another
/// person's right password. A peer outside the list cannot choose its address.
async fn clients_behind_the_proxy_are_told_apart(t: &TestDb) {
    create_user(t, "marie", true).await;
    let base = start_admin_configured(
        t,
        &[("WIF_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8")],
        |_| {},
    )
    .await;
    let mut attacker = Agent::new(&base);
    for _ in 0..10 {
        let request = attacker
            .login_request("/admin/", "marie", "mauvais mot de passe")
            .await
            .header("x-forwarded-for", "6.6.6.6, 203.0.113.66, 10.1.2.3");
        attacker.send(request).await;
    }
    let mut marie = Agent::new(&base);
    let request = marie
        .login_request("/admin/", "marie", ADMIN_PASSWORD)
        .await
        .header("x-forwarded-for", "198.51.100.7");
    let signed_in = marie.send(request).await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.body
    );
    let (entries, _) = access_log::page(&t.db, 50, 0).await.unwrap();
    assert_eq!(entries[0].action, "login");
    assert_eq!(entries[0].address, "198.51.100.7");
    assert!(
        entries[1..]
            .iter()
            .all(|e| e.action == "login_failed" && e.address == "203.0.113.66"),
        "the client's own claim and the inner proxy are not the address"
    );
}

/// Behind a proxy that rewrites `Host`, a POST from the site's public origin is accepted once
/// `WIF_ALLOWED_ORIGINS` names it; another origin stays refused.
async fn allowed_origins_pass_the_csrf_check(t: &TestDb) {
    create_user(t, "marie", true).await;
    for (allowed, expected) in [
        ("", StatusCode::FORBIDDEN),
        ("https://wif.dreets.gouv.fr", StatusCode::SEE_OTHER),
    ] {
        let base = start_admin_configured(t, &[("WIF_ALLOWED_ORIGINS", allowed)], |_| {}).await;
        for (origin, status) in [
            ("https://wif.dreets.gouv.fr", expected),
            ("https://ailleurs.example", StatusCode::FORBIDDEN),
        ] {
            let mut agent = Agent::new(&base);
            let request = agent
                .login_request("/admin/", "marie", ADMIN_PASSWORD)
                .await
                .header("origin", origin);
            assert_eq!(
                agent.send(request).await.status,
                status,
                "{allowed:?} {origin}"
            );
        }
    }
}

/// Control characters in any input answer 400 (PostgreSQL refuses NUL in text), before and
/// after sign-in; a huge page number answers a page; an unusual `next` falls back to the home.
async fn odd_input_gets_a_clear_answer(t: &TestDb) {
    seed_dossiers(t, 3).await;
    create_user(t, "admin", true).await;
    let mut agent = Agent::new(&start_admin(t).await);
    let nul = agent.sign_in("ad\0min", ADMIN_PASSWORD).await;
    assert_eq!(nul.status, StatusCode::BAD_REQUEST);
    assert!(nul.body.contains("caractère de contrôle"));
    assert!(!agent.cookies.contains_key("wif_session"));

    let odd = agent.post("/admin/login", &[]).await;
    assert_ne!(odd.status, StatusCode::INTERNAL_SERVER_ERROR);
    let signed_in = agent
        .sign_in_to("/admin/dossiers/?q=Renée", "admin", ADMIN_PASSWORD)
        .await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    assert_eq!(signed_in.location(), "/admin/");

    for path in [
        "/admin/dossiers/?q=%00",
        "/admin/dossiers/?departement=%00",
        "/admin/prefecture/?statut=%00",
        "/admin/login?next=/admin/%01",
    ] {
        let answer = agent.get(path).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{path}");
    }
    for path in [
        "/admin/dossiers/?p=92233720368547760",
        "/admin/prefecture/?p=92233720368547760",
        "/admin/access-log/?p=92233720368547760",
    ] {
        let answer = agent.get(path).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        assert!(
            answer.body.contains("fr-pagination") || answer.body.contains("Aucun"),
            "{path}"
        );
    }
}

/// Suivi Préfecture and searches by name or e-mail show personal data: each is logged with its
/// kind, never the text searched; a search by number is not.
async fn personal_data_views_are_logged(t: &TestDb) {
    seed_dossiers(t, 3).await;
    create_user(t, "marie", false).await;
    let mut agent = Agent::new(&start_admin(t).await);
    agent.sign_in("marie", ADMIN_PASSWORD).await;
    agent.get("/admin/prefecture/").await;
    agent.get("/admin/dossiers/?q=Dupont").await;
    agent
        .get("/admin/dossiers/?q=jean.dupont%40exemple.fr")
        .await;
    agent.get("/admin/dossiers/?q=12345").await;
    let (entries, _) = access_log::page(&t.db, 10, 0).await.unwrap();
    let logged: Vec<(&str, Option<&str>)> = entries
        .iter()
        .map(|e| (e.action.as_str(), e.detail.as_deref()))
        .collect();
    assert_eq!(
        logged,
        [
            ("dossier_search", Some("par e-mail")),
            ("dossier_search", Some("par nom")),
            ("prefecture_view", None),
            ("login", None),
        ]
    );
    for e in &entries {
        let shown = format!("{e:?}");
        assert!(
            !shown.contains("Dupont") && !shown.contains("dupont"),
            "{shown}"
        );
    }
}

/// HSTS outside `WIF_DEBUG`, a Permissions-Policy always; `/metrics` is not on the admin
/// listener but on its own, with a latency histogram.
async fn transport_headers_and_metrics_listener(t: &TestDb) {
    seed_dossiers(t, 3).await;
    let debug = Agent::new(&start_admin_with(t, true).await)
        .get("/admin/login")
        .await;
    assert!(debug.headers.get("strict-transport-security").is_none());
    assert!(debug.headers.get("permissions-policy").is_some());
    let production = Agent::new(&start_admin_with(t, false).await)
        .get("/admin/login")
        .await;
    assert!(
        production.headers["strict-transport-security"]
            .to_str()
            .unwrap()
            .starts_with("max-age=")
    );
    let mut agent = Agent::new(&start_admin(t).await);
    let metrics = agent.get("/metrics").await;
    assert_eq!(metrics.status, StatusCode::NOT_FOUND);
    assert!(!metrics.body.contains("wif_dossiers"));
}

/// « Synchroniser maintenant » while another sync holds the lock says it did not start.
async fn a_refused_sync_is_not_announced_as_started(t: &TestDb) {
    create_user(t, "admin", true).await;
    let vars = [
        ("DEMARCHES_SIMPLIFIEES_API_TOKEN", "jeton"),
        ("DEMARCHES_SIMPLIFIEES_PROCEDURE_ID_APT", "1"),
        ("DEMARCHES_SIMPLIFIEES_API_URL", "http://127.0.0.1:9"),
    ];
    let mut agent = Agent::new(&start_admin_configured(t, &vars, |_| {}).await);
    agent.sign_in("admin", ADMIN_PASSWORD).await;
    let now = Utc::now();
    let held = wif::store::locks::try_acquire(
        &t.db,
        "sync",
        "une autre instance",
        chrono::Duration::minutes(5),
        now,
    )
    .await
    .unwrap();
    assert!(held);
    let csrf = agent.csrf().await;
    let answer = agent.post("/admin/sync/", &[("csrf", &csrf)]).await;
    assert_eq!(answer.location(), "/admin/sync/?refusee=1");
    let page = agent.get(answer.location()).await;
    assert!(
        page.body.contains("Synchronisation non lancée"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("Synchronisation lancée"));
}

/// Staff users read; superuser pages and actions answer 403. Inactive users cannot sign in,
/// and deactivating a user ends their sessions.
async fn roles_and_inactive_accounts(t: &TestDb) {
    seed_dossiers(t, 5).await;
    create_user(t, "marie", true).await;
    let paul = create_user(t, "paul", false).await;
    let base = start_admin(t).await;
    let mut staff = Agent::new(&base);
    assert_eq!(
        staff.sign_in("paul", ADMIN_PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    for path in [
        "/admin/",
        "/admin/dossiers/",
        "/admin/prefecture/",
        "/admin/stats/",
        "/admin/sync/",
    ] {
        assert_eq!(staff.get(path).await.status, StatusCode::OK, "{path}");
    }
    for path in ["/admin/users/", "/admin/access-log/"] {
        assert_eq!(
            staff.get(path).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    let sync_page = staff.get("/admin/sync/").await.body;
    assert!(!sync_page.contains("Synchroniser maintenant"));
    let csrf = staff.csrf().await;
    let start = staff.post("/admin/sync/", &[("csrf", &csrf)]).await;
    assert_eq!(start.status, StatusCode::FORBIDDEN);
    let create = staff
        .post(
            "/admin/users/",
            &[
                ("csrf", &csrf),
                ("username", "pirate"),
                ("email", "p@x.fr"),
                ("password", "un mot de passe long"),
            ],
        )
        .await;
    assert_eq!(create.status, StatusCode::FORBIDDEN);
    assert!(
        users::find_by_username(&t.db, "pirate")
            .await
            .unwrap()
            .is_none()
    );

    // The superuser deactivates paul: his session ends, he cannot sign in again.
    let mut admin = Agent::new(&base);
    admin.sign_in("marie", ADMIN_PASSWORD).await;
    let csrf = admin.csrf().await;
    let deactivated = admin
        .post(
            &format!("/admin/users/{paul}/active"),
            &[("csrf", &csrf), ("active", "false")],
        )
        .await;
    assert_eq!(deactivated.location(), "/admin/users/?ok=desactive");
    assert_eq!(staff.get("/admin/").await.status, StatusCode::SEE_OTHER);
    let refused = staff.sign_in("paul", ADMIN_PASSWORD).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(
        refused
            .body
            .contains("Nom d'utilisateur ou mot de passe incorrect")
    );
}

/// Each view of a dossier and each sign-in, failed or not, is in the access log with the user,
/// the time and the address; the log page shows it to superusers.
async fn the_access_log_records_sign_ins_and_dossier_views(t: &TestDb) {
    let dossiers = seed_dossiers(t, 5).await;
    create_user(t, "marie", true).await;
    let mut agent = Agent::new(&start_admin(t).await);
    agent.sign_in("marie", "pas le bon").await;
    agent.sign_in("marie", ADMIN_PASSWORD).await;
    let ds_id = dossiers[2].ds_id.get();
    let page = agent.get(&format!("/admin/dossiers/{ds_id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&format!("Dossier {ds_id}")));
    let (entries, total) = access_log::page(&t.db, 10, 0).await.unwrap();
    assert_eq!(total, 3);
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["dossier_view", "login", "login_failed"]);
    assert_eq!(entries[0].ds_id, Some(ds_id));
    assert!(
        entries
            .iter()
            .all(|e| e.username == "marie" && e.address == "127.0.0.1")
    );
    assert!((Utc::now() - entries[0].at).num_seconds() < 60);
    let log = agent.get("/admin/access-log/").await.body;
    assert!(log.contains("Consultation d'un dossier") && log.contains("Connexion refusée"));
}

/// CSP without inline scripts, no sniffing, no framing, a discreet referrer, on every page.
async fn pages_carry_the_security_headers(t: &TestDb) {
    create_user(t, "marie", true).await;
    let mut agent = Agent::new(&start_admin(t).await);
    let login = agent.get("/admin/login").await;
    agent.sign_in("marie", ADMIN_PASSWORD).await;
    let home = agent.get("/admin/").await;
    let missing = agent.get("/admin/nulle-part").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    for answer in [login, home, missing] {
        let h = |name: &str| {
            answer
                .headers
                .get(name)
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned()
        };
        let csp = h("content-security-policy");
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"));
        assert_eq!(h("x-content-type-options"), "nosniff");
        assert_eq!(h("x-frame-options"), "DENY");
        assert_eq!(h("referrer-policy"), "same-origin");
        assert!(!answer.body.contains("<script>"), "no inline script");
    }
}

/// The text of every `<td>` of column `index` (from 0) of the page's table body.
fn column(body: &str, index: usize) -> Vec<String> {
    let tbody = &body[body.find("<tbody>").unwrap()..body.find("</tbody>").unwrap()];
    tbody
        .split("<tr>")
        .skip(1)
        .filter_map(|row| {
            let cell = row.split("<td").nth(index + 1)?;
            let text = &cell[cell.find('>')? + 1..];
            let text = text.split("</td>").next()?;
            // Strip tags.
            let mut out = String::new();
            let mut inside = false;
            for c in text.chars() {
                match c {
                    '<' => inside = true,
                    '>' => inside = false,
                    c if !inside => out.push(c),
                    _ => {}
                }
            }
            Some(out.trim().to_owned())
        })
        .collect()
}

fn total(body: &str) -> i64 {
    let start = body.find("wif-total").unwrap();
    let strong = &body[start..];
    let number = &strong[strong.find("<strong>").unwrap() + 8..strong.find("</strong>").unwrap()];
    number.replace('\u{202f}', "").parse().unwrap()
}

/// The dossiers list: 100 a page with the total, filters with counts, search, sort, pages.
async fn the_dossiers_list_filters_searches_sorts_and_pages(t: &TestDb) {
    let dossiers = seed_dossiers(t, 250).await;
    create_user(t, "marie", false).await;
    let mut agent = Agent::new(&start_admin(t).await);
    agent.sign_in("marie", ADMIN_PASSWORD).await;

    let all = agent.get("/admin/dossiers/").await.body;
    assert_eq!(total(&all), 250);
    assert_eq!(column(&all, 0).len(), 100);
    // Newest first by default.
    let newest = dossiers.iter().max_by_key(|d| d.created_at).unwrap();
    assert_eq!(column(&all, 0)[0], newest.ds_id.get().to_string());

    let closed = dossiers
        .iter()
        .filter(|d| d.status == Status::Closed)
        .count();
    assert!(all.contains(&format!("Accepté ({closed})")), "facet count");
    let filtered = agent.get("/admin/dossiers/?statut=closed").await.body;
    assert_eq!(total(&filtered) as usize, closed);
    assert!(column(&filtered, 1).iter().all(|s| s == "Accepté"));

    let one = dossiers[17].ds_id.get();
    let found = agent.get(&format!("/admin/dossiers/?q={one}")).await.body;
    assert_eq!(column(&found, 0), [one.to_string()]);
    let nom = dossiers.iter().find_map(|d| d.nom.clone()).unwrap();
    let prefix: String = nom.chars().take(3).collect();
    let by_name = agent
        .get(&format!("/admin/dossiers/?q={}", prefix.to_lowercase()))
        .await
        .body;
    let expected = dossiers
        .iter()
        .filter(|d| {
            [&d.nom, &d.prenom, &d.email].iter().any(|v| {
                v.as_deref()
                    .is_some_and(|v| v.to_lowercase().starts_with(&prefix.to_lowercase()))
            })
        })
        .count();
    assert_eq!(total(&by_name) as usize, expected);

    // A name starting with an accented capital, searched in lower case.
    let accented = dossiers
        .iter()
        .filter_map(|d| d.nom.clone())
        .find(|n| !n.chars().next().unwrap().is_ascii())
        .expect("the synthetic data has such names");
    let prefix: String = accented.chars().take(3).collect::<String>().to_lowercase();
    let found = agent
        .get(&format!(
            "/admin/dossiers/?{}",
            serde_urlencoded::to_string([("q", &prefix)]).unwrap()
        ))
        .await
        .body;
    let expected = dossiers
        .iter()
        .filter(|d| {
            d.nom
                .as_deref()
                .is_some_and(|n| n.to_lowercase().starts_with(&prefix))
        })
        .count();
    assert!(expected > 0);
    assert_eq!(total(&found) as usize, expected, "{prefix}");
    // The same name typed as agents do, without accents, here in capitals.
    let plain = wif::domain::text::search_key(&prefix).to_uppercase();
    assert!(plain.is_ascii(), "{plain}");
    let found = agent
        .get(&format!(
            "/admin/dossiers/?{}",
            serde_urlencoded::to_string([("q", &plain)]).unwrap()
        ))
        .await
        .body;
    assert_eq!(total(&found) as usize, expected, "{plain}");

    let sorted = agent.get("/admin/dossiers/?o=fin_apt").await.body;
    let ends: Vec<chrono::NaiveDate> = column(&sorted, 5)
        .iter()
        .filter_map(|d| chrono::NaiveDate::parse_from_str(d, "%d/%m/%Y").ok())
        .collect();
    assert!(!ends.is_empty());
    assert!(ends.windows(2).all(|w| w[0] <= w[1]), "ascending Fin APT");

    let last_page = agent.get("/admin/dossiers/?p=3").await.body;
    assert_eq!(column(&last_page, 0).len(), 50);
    assert!(last_page.contains("Page précédente"));

    // "Page suivante" and "Page précédente" find their rows next to the page shown.
    let first_page = agent.get("/admin/dossiers/?o=-fin_apt").await.body;
    let next_link = link(&first_page, "Page suivante");
    assert!(next_link.contains("apres="), "{next_link}");
    let second_page = agent
        .get(&format!("/admin/dossiers/{next_link}"))
        .await
        .body;
    let counted = agent.get("/admin/dossiers/?o=-fin_apt&p=2").await.body;
    assert_eq!(column(&second_page, 0), column(&counted, 0));
    assert!(second_page.contains(r#"aria-current="page" title="Page 2""#));
    let previous_link = link(&second_page, "Page précédente");
    let back = agent
        .get(&format!("/admin/dossiers/{previous_link}"))
        .await
        .body;
    assert_eq!(column(&back, 0), column(&first_page, 0));
    let third_link = link(&second_page, "Page suivante");
    assert!(
        third_link.contains("apres=") && third_link.contains("p=3"),
        "{third_link}"
    );
}

/// A day of the date hierarchy runs from its first instant to the next day's, even where the
/// clocks skip midnight: in Santiago, 8 September 2024 starts at 01:00 (04:00 UTC), its local
/// midnight never happened.
async fn a_day_whose_midnight_is_skipped_is_still_a_day(t: &TestDb) {
    let list = common::created(
        Status::Initiated,
        &[
            // 7 September, 23:30 local (UTC-4).
            (701, "2024-09-08T03:30:00Z"),
            // 8 September, 01:30 local (UTC-3), the first hour of the day.
            (801, "2024-09-08T04:30:00Z"),
            (901, "2024-09-09T12:00:00Z"),
        ],
    );
    wif::store::dossiers::upsert(&t.db, &list).await.unwrap();
    create_user(t, "marie", false).await;
    let base = start_admin_configured(t, &[("WIF_TIME_ZONE", "America/Santiago")], |_| {}).await;
    let mut agent = Agent::new(&base);
    agent.sign_in("marie", ADMIN_PASSWORD).await;
    for (day, expected) in [(7, "701"), (8, "801"), (9, "901")] {
        let page = agent
            .get(&format!("/admin/dossiers/?annee=2024&mois=9&jour={day}"))
            .await
            .body;
        assert_eq!(column(&page, 0), [expected], "{day} September");
    }
}

/// The address of the link labelled `label`, unescaped.
fn link(body: &str, label: &str) -> String {
    let end = body
        .find(&format!(">{label}</a>"))
        .unwrap_or_else(|| panic!("no link {label}"));
    let start = body[..end].rfind("href=\"").expect("a link") + "href=\"".len();
    let quote = body[start..].find('"').unwrap();
    body[start..start + quote].replace("&amp;", "&")
}

/// Suivi Préfecture: permits expired less than 62 days ago or later, newest first.
async fn suivi_prefecture_lists_permits_to_renew(t: &TestDb) {
    let dossiers = seed_dossiers(t, 250).await;
    create_user(t, "marie", false).await;
    let mut agent = Agent::new(&start_admin(t).await);
    agent.sign_in("marie", ADMIN_PASSWORD).await;
    let today = Utc::now()
        .with_timezone(&chrono_tz::Europe::Paris)
        .date_naive();
    let limit = today - Days::new(62);
    let expected = dossiers
        .iter()
        .filter(|d| d.date_dexpiration_titre_sejour.is_some_and(|e| e > limit))
        .count();
    let body = agent.get("/admin/prefecture/").await.body;
    assert!(body.contains(
        "Suivi Préfecture : dossiers à surveiller pour cause de renouvellement proche en Préfecture"
    ));
    assert_eq!(total(&body) as usize, expected);
    let dates: Vec<chrono::NaiveDate> = column(&body, 0)
        .iter()
        .map(|d| chrono::NaiveDate::parse_from_str(d, "%d/%m/%Y").unwrap())
        .collect();
    assert!(dates.iter().all(|d| *d > limit));
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "newest first");
}

/// A superuser creates an account (a weak password is refused with the reason) and changes a
/// password; the statistics page draws its charts with their tables.
async fn users_and_statistics(t: &TestDb) {
    seed_dossiers(t, 60).await;
    create_user(t, "marie", true).await;
    let base = start_admin(t).await;
    let mut admin = Agent::new(&base);
    admin.sign_in("marie", ADMIN_PASSWORD).await;
    let csrf = admin.csrf().await;
    let weak = admin
        .post(
            "/admin/users/",
            &[
                ("csrf", &csrf),
                ("username", "lea"),
                ("email", "lea@dreets.gouv.fr"),
                ("password", "123456789012"),
            ],
        )
        .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(weak.body.contains("fr-alert--error"));
    let created = admin
        .post(
            "/admin/users/",
            &[
                ("csrf", &csrf),
                ("username", "lea"),
                ("email", "lea@dreets.gouv.fr"),
                ("password", "une phrase de passe solide"),
            ],
        )
        .await;
    assert_eq!(created.location(), "/admin/users/?ok=cree");
    let lea = users::find_by_username(&t.db, "lea")
        .await
        .unwrap()
        .unwrap();
    assert!(!lea.is_superuser && lea.password_hash.starts_with("$argon2id$"));
    let mut agent = Agent::new(&base);
    assert_eq!(
        agent
            .sign_in("lea", "une phrase de passe solide")
            .await
            .status,
        StatusCode::SEE_OTHER
    );

    let changed = admin
        .post(
            &format!("/admin/users/{}/password", lea.id),
            &[("csrf", &csrf), ("password", "encore une autre phrase")],
        )
        .await;
    assert_eq!(changed.location(), "/admin/users/?ok=mot-de-passe");
    assert_eq!(
        agent.get("/admin/").await.status,
        StatusCode::SEE_OTHER,
        "sessions closed"
    );
    assert_eq!(
        agent.sign_in("lea", "encore une autre phrase").await.status,
        StatusCode::SEE_OTHER
    );

    let stats = admin.get("/admin/stats/").await.body;
    assert_eq!(stats.matches("<svg").count(), 5);
    assert_eq!(stats.matches("<details class=\"wif-figures\">").count(), 5);
    assert!(stats.contains("Dossiers par statut"));
}

/// `/metrics` gives figures and never personal data; `/readyz` fails when the database is gone
/// while `/healthz` stays up.
async fn metrics_and_readiness(t: &TestDb) {
    let dossiers = seed_dossiers(t, 40).await;
    create_user(t, "marie", true).await;
    let (base, metrics_base) = common::start_admin_and_metrics(t).await;
    let mut agent = Agent::new(&base);
    agent.sign_in("marie", ADMIN_PASSWORD).await;
    agent
        .get(&format!("/admin/dossiers/{}", dossiers[0].ds_id))
        .await;
    let metrics = Agent::new(&metrics_base).get("/metrics").await;
    assert_eq!(metrics.status, StatusCode::OK);
    let closed = dossiers
        .iter()
        .filter(|d| d.status == Status::Closed)
        .count();
    assert!(
        metrics
            .body
            .contains(&format!("wif_dossiers{{status=\"closed\"}} {closed}\n")),
        "{}",
        metrics.body
    );
    assert!(metrics.body.contains(
        "wif_http_request_duration_seconds_count{route=\"/admin/login\",status=\"200\"} 1\n"
    ));
    assert!(
        metrics
            .body
            .contains("route=\"/admin/dossiers/{ds_id}\",status=\"200\",le=\"+Inf\"} 1\n"),
        "a latency histogram per route: {}",
        metrics.body
    );
    assert!(
        metrics
            .body
            .contains("wif_sync_last_success_timestamp_seconds 0\n")
    );
    // The counts are the home page's, kept a minute: a scrape does not count every dossier.
    let mut one_more = common::dossier(999_999, Status::Closed);
    one_more.department = Some("75 - Paris".into());
    wif::store::dossiers::upsert(&t.db, &[one_more])
        .await
        .unwrap();
    let again = Agent::new(&metrics_base).get("/metrics").await.body;
    assert!(
        again.contains(&format!("wif_dossiers{{status=\"closed\"}} {closed}\n")),
        "{again}"
    );
    for d in &dossiers {
        assert!(
            !metrics.body.contains(&d.ds_id.to_string()),
            "no dossier number"
        );
        if let Some(email) = &d.email {
            assert!(!metrics.body.contains(email.as_str()));
        }
    }
    assert_eq!(agent.get("/readyz").await.status, StatusCode::OK);
    t.db.close().await;
    assert_eq!(
        agent.get("/readyz").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(agent.get("/healthz").await.status, StatusCode::OK);
}

/// Habits from the Python back office: a section's address without its final slash redirects
/// to it; with `WIF_DEBUG=True` only, an internal error's page gives its cause.
async fn django_habits_slash_and_debug_errors(t: &TestDb) {
    create_user(t, "marie", true).await;
    let mut agent = Agent::new(&start_admin(t).await);
    agent.sign_in("marie", ADMIN_PASSWORD).await;
    let slash = agent.get("/admin/dossiers?statut=closed&q=nguy").await;
    assert_eq!(slash.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(slash.location(), "/admin/dossiers/?statut=closed&q=nguy");
    assert_eq!(
        agent.get("/admin/alertes").await.location(),
        "/admin/alertes/"
    );
    assert_eq!(
        agent.get("/admin/nulle-part").await.status,
        StatusCode::NOT_FOUND
    );

    for debug in [true, false] {
        let db = wif::store::Db::connect(&t.url).await.unwrap();
        let debug_text = debug.to_string();
        let base = common::start_admin_configured(t, &[("WIF_DEBUG", &debug_text)], |state| {
            state.db = db.clone();
        })
        .await;
        let mut agent = Agent::new(&base);
        agent.sign_in("marie", ADMIN_PASSWORD).await;
        db.close().await;
        let failed = agent.get("/admin/dossiers/").await;
        assert_eq!(failed.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(failed.body.contains("Erreur interne"), "{}", failed.body);
        assert_eq!(
            failed.body.contains("Détail (WIF_DEBUG=True)"),
            debug,
            "{}",
            failed.body
        );
        assert_eq!(
            failed.body.contains("base de données"),
            debug,
            "{}",
            failed.body
        );
    }
}

/// A dossier's page tells when it was first copied and what later syncs changed.
async fn a_dossiers_page_shows_its_sync_history(t: &TestDb) {
    create_user(t, "marie", false).await;
    let mut d = common::dossier(77, Status::Received);
    d.updated_at = Some(common::at("2026-01-01T10:00:00Z"));
    wif::store::dossiers::upsert(&t.db, std::slice::from_ref(&d))
        .await
        .unwrap();
    d.status = Status::Closed;
    d.date_de_debut_apt = chrono::NaiveDate::from_ymd_opt(2026, 1, 31);
    d.updated_at = Some(common::at("2026-01-02T10:00:00Z"));
    wif::store::dossiers::upsert(&t.db, &[d]).await.unwrap();
    let mut agent = Agent::new(&start_admin(t).await);
    agent.sign_in("marie", ADMIN_PASSWORD).await;
    let page = agent.get("/admin/dossiers/77").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Historique de synchronisation"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("Statut : En instruction → Accepté"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("Dates d'APT : aucune → 31/01/2026 – ?"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("inconnu (avant l&#39;historique)")
            && !page.body.contains("inconnu (avant l'historique)")
    );
}

both_engines!(
    a_day_whose_midnight_is_skipped_is_still_a_day,
    a_dossiers_page_shows_its_sync_history,
    django_habits_slash_and_debug_errors,
    every_page_requires_a_session,
    sessions_are_renewed_at_sign_in_and_ended_at_sign_out,
    posts_need_a_csrf_token_from_this_site,
    failed_sign_ins_are_throttled,
    roles_and_inactive_accounts,
    the_access_log_records_sign_ins_and_dossier_views,
    pages_carry_the_security_headers,
    the_dossiers_list_filters_searches_sorts_and_pages,
    suivi_prefecture_lists_permits_to_renew,
    users_and_statistics,
    metrics_and_readiness,
    parallel_sign_ins_are_counted_like_successive_ones,
    a_burst_of_sign_ins_does_not_freeze_the_admin,
    clients_behind_the_proxy_are_told_apart,
    allowed_origins_pass_the_csrf_check,
    odd_input_gets_a_clear_answer,
    personal_data_views_are_logged,
    transport_headers_and_metrics_listener,
    a_refused_sync_is_not_announced_as_started,
    the_sessions_table_keeps_an_hmac_of_the_cookie,
);

/// `wif demo` as a new user runs it: its terminal (output and log) ends with the addresses, the
/// accounts and the password; the e-mails go to a file, and one line says how many and where;
/// the admin shows the synced dossiers, the public service confirms the example APT, and Ctrl-C
/// stops it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_serves_a_populated_product_and_stops_on_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    // Output and log in one file, in the order a terminal shows them.
    let terminal_path = dir.path().join("terminal.txt");
    let terminal = std::fs::File::create(&terminal_path).unwrap();
    let mut child = common::Running(
        std::process::Command::new(env!("CARGO_BIN_EXE_wif"))
            .current_dir(dir.path())
            .env_clear()
            .envs([
                ("WIF_BIND", "127.0.0.1:0"),
                ("WIF_PUBLIC_BIND", "127.0.0.1:0"),
            ])
            .args(["demo", "--dossiers", "300"])
            .stdout(terminal.try_clone().unwrap())
            .stderr(terminal)
            .spawn()
            .unwrap(),
    );
    let terminal = || std::fs::read_to_string(&terminal_path).unwrap();
    let password_line = "  mot de passe des deux comptes : ";
    let shown = common::poll(std::time::Duration::from_secs(60), async || {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the demo ended ({status}): {}", terminal());
        }
        Some(terminal()).filter(|shown| shown.contains(password_line))
    })
    .await
    .unwrap_or_else(|| panic!("no password after 60 s: {}", terminal()));
    let lines: Vec<&str> = shown.lines().collect();
    assert!(shown.len() < 10_000, "{shown}");
    assert!(
        !shown.contains("Bonjour"),
        "an e-mail in the terminal: {shown}"
    );
    assert_eq!(
        shown.contains("sans le style du système de design de l'État"),
        !wif::web::assets::dsfr_available(),
        "{shown}"
    );
    let value = |prefix: &str| {
        lines
            .iter()
            .find_map(|l| l.trim().strip_prefix(prefix))
            .unwrap_or_else(|| panic!("{prefix} in {shown}"))
            .trim()
            .to_owned()
    };
    let admin = value("Administration :");
    let password = value(password_line.trim());
    let check = value("vérification d'une APT :");
    let alerts = value("Alertes :");
    let (count, file) = alerts
        .split_once(" ; ")
        .and_then(|(_, e)| e.split_once(" e-mails aux instructeurs écrits dans "))
        .unwrap_or_else(|| panic!("{alerts}"));
    let count: usize = count.parse().unwrap();
    assert!(count > 0, "{alerts}");
    let emails = std::fs::read_to_string(dir.path().join(file)).unwrap();
    assert_eq!(
        emails.lines().filter(|l| l.starts_with("À : ")).count(),
        count
    );
    assert!(emails.contains("Bonjour"), "{emails}");
    let checked = lines
        .iter()
        .find_map(|l| l.strip_suffix(" - number of dossiers checked"));
    let synced: i64 = checked.unwrap().parse().unwrap();
    assert!(synced > 250, "{lines:?}");

    let base = admin.trim_end_matches("/admin/");
    let mut agent = Agent::new(base);
    assert_eq!(
        agent.sign_in("demo", &password).await.status,
        StatusCode::SEE_OTHER
    );
    let list = agent.get("/admin/dossiers/").await;
    assert_eq!(total(&list.body), synced);
    let answer = wif::ds::http_client()
        .build()
        .unwrap()
        .get(&check)
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["status"], "valid");
    let page = wif::ds::http_client()
        .build()
        .unwrap()
        .get(value("page de vérification :"))
        .send()
        .await
        .unwrap();
    assert!(page.text().await.unwrap().contains("Autorisation valide"));
    // Both services have answered: had a start-up line come after the password, it would show
    // among the log lines of these requests.
    let shown = terminal();
    let (_, after) = shown.split_once(password_line).unwrap();
    let late: Vec<&str> = after
        .lines()
        .skip(1)
        .filter(|l| !l.contains(" requête method=") && !l.contains(" connexion user_id="))
        .collect();
    assert!(late.is_empty(), "after the password: {late:?}");

    common::interrupt(&child);
    assert!(child.wait().unwrap().success(), "{}", terminal());
    let end = terminal();
    assert_eq!(end.lines().last(), Some("Démonstration arrêtée."), "{end}");
}

/// The sessions table keeps HMAC-SHA256(WIF_SECRET_KEY, token) of the cookie's token: neither
/// the token nor a plain hash of it.
async fn the_sessions_table_keeps_an_hmac_of_the_cookie(t: &TestDb) {
    use hmac::{Hmac, Mac};
    use sha2::{Digest, Sha256};
    use wif::crypto::hex;

    create_user(t, "marie", true).await;
    let mut agent = Agent::new(&start_admin(t).await);
    agent.sign_in("marie", ADMIN_PASSWORD).await;
    let token = agent.cookies["wif_session"].clone();
    let secret = common::test_secret();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()).unwrap();
    mac.update(token.as_bytes());
    let hmac = hex(&mac.finalize().into_bytes());
    let idle = chrono::Duration::weeks(2);
    let session = wif::store::sessions::touch(&t.db, &hmac, Utc::now(), idle)
        .await
        .unwrap()
        .expect("stored under the HMAC of its token");
    assert_eq!(session.user.username, "marie");
    // The former SHA-256(secret ‖ 0 ‖ token) finds nothing: such sessions end at the upgrade.
    let former = Sha256::new()
        .chain_update(secret.expose())
        .chain_update([0])
        .chain_update(&token)
        .finalize();
    let found = wif::store::sessions::touch(&t.db, &hex(&former), Utc::now(), idle).await;
    assert!(found.unwrap().is_none());
}
