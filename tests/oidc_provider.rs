//! The ProConnect-like provider of the tests (tests/oidc/provider.mjs) on its own, driven by hand
//! as a relying party would: these prove the harness that the ProConnect tests build on.

mod common;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::oidc::{
    Account, Provider, ProviderConfig, end_session_at_provider, http_client, refuse_at_provider,
    sign_in_at_provider,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

const RP: &str = "http://127.0.0.1:9";

fn config(signing: &'static str, tamper: Option<&str>) -> ProviderConfig {
    let mut alice = Account::agent("alice", "alice@dreets.gouv.fr");
    alice.acr = "eidas2".into();
    ProviderConfig {
        signing,
        accounts: vec![alice],
        tamper: tamper.map(str::to_owned),
        ..ProviderConfig::for_admin(RP)
    }
}

async fn get_json(url: &str) -> Value {
    http_client()
        .get(url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn random() -> String {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).unwrap();
    URL_SAFE_NO_PAD.encode(bytes)
}

fn query(url: &str) -> std::collections::HashMap<String, String> {
    reqwest::Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

fn claims_of(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn header_of(jwt: &str) -> Value {
    serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(jwt.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap()
}

/// A relying party's request in progress: the authorization URL and what it must remember.
struct Request {
    url: String,
    state: String,
    nonce: String,
    verifier: String,
}

async fn authorization_request(provider: &Provider, config: &ProviderConfig) -> Request {
    let discovery = get_json(&format!(
        "{}/.well-known/openid-configuration",
        provider.issuer
    ))
    .await;
    let (state, nonce, verifier) = (random(), random(), random());
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let claims = r#"{"id_token":{"acr":{"essential":true,"values":["eidas2","eidas3"]}}}"#;
    let mut url =
        reqwest::Url::parse(discovery["authorization_endpoint"].as_str().unwrap()).unwrap();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &config.client_id)
        .append_pair("redirect_uri", &config.redirect_uri)
        .append_pair(
            "scope",
            "openid email given_name usual_name uid siret idp_id",
        )
        .append_pair("state", &state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("claims", claims);
    Request {
        url: url.to_string(),
        state,
        nonce,
        verifier,
    }
}

/// The token endpoint's answer to `code`, the client authenticated with HTTP Basic or in the body.
async fn exchange(
    provider: &Provider,
    config: &ProviderConfig,
    code: &str,
    verifier: &str,
    basic: bool,
) -> Value {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", &config.redirect_uri),
        ("code_verifier", verifier),
    ];
    let request = http_client().post(format!("{}/token", provider.issuer));
    let request = if basic {
        let credentials = STANDARD.encode(format!("{}:{}", config.client_id, config.client_secret));
        request.header("authorization", format!("Basic {credentials}"))
    } else {
        form.extend([
            ("client_id", config.client_id.as_str()),
            ("client_secret", config.client_secret.as_str()),
        ]);
        request
    };
    let response = common::with_form(request, &form).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// Signs alice in and exchanges the code: the token answer, and the request's nonce.
async fn sign_in(provider: &Provider, config: &ProviderConfig, basic: bool) -> (Value, String) {
    let request = authorization_request(provider, config).await;
    let back = sign_in_at_provider(&http_client(), &request.url, "alice").await;
    assert!(back.starts_with(&config.redirect_uri), "{back}");
    let params = query(&back);
    assert_eq!(params["state"], request.state);
    let tokens = exchange(provider, config, &params["code"], &request.verifier, basic).await;
    (tokens, request.nonce)
}

/// The userinfo answer to the access token of `tokens`.
async fn userinfo(provider: &Provider, tokens: &Value) -> reqwest::Response {
    http_client()
        .get(format!("{}/userinfo", provider.issuer))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn discovery_says_what_proconnect_says() {
    for signing in ["ES256", "RS256"] {
        let config = config(signing, None);
        let Some(provider) = Provider::start(&config) else {
            return;
        };
        assert!(provider.issuer.ends_with("/api/v2"), "{}", provider.issuer);
        let d = get_json(&format!(
            "{}/.well-known/openid-configuration",
            provider.issuer
        ))
        .await;
        assert_eq!(d["issuer"], provider.issuer.as_str());
        assert_eq!(
            d["end_session_endpoint"],
            format!("{}/session/end", provider.issuer)
        );
        assert_eq!(
            d["userinfo_signing_alg_values_supported"],
            serde_json::json!([signing])
        );
        assert_eq!(
            d["id_token_signing_alg_values_supported"],
            serde_json::json!([signing])
        );
        assert_eq!(d["claims_parameter_supported"], true);
        assert_eq!(
            d["code_challenge_methods_supported"],
            serde_json::json!(["S256"])
        );
        for scope in [
            "openid",
            "email",
            "given_name",
            "usual_name",
            "uid",
            "siret",
            "idp_id",
        ] {
            assert!(
                d["scopes_supported"]
                    .as_array()
                    .unwrap()
                    .contains(&scope.into()),
                "{scope}"
            );
        }
        let jwks = get_json(d["jwks_uri"].as_str().unwrap()).await;
        assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
        assert_eq!(jwks["keys"][0]["alg"], signing);
        assert!(jwks["keys"][0].get("d").is_none(), "no private part");
    }
}

#[tokio::test]
async fn authorization_code_flow_with_pkce_and_signed_userinfo() {
    for (signing, basic) in [("ES256", true), ("RS256", false)] {
        let config = config(signing, None);
        let Some(provider) = Provider::start(&config) else {
            return;
        };
        let (tokens, nonce) = sign_in(&provider, &config, basic).await;
        let id_token = tokens["id_token"].as_str().unwrap();
        assert_eq!(header_of(id_token)["alg"], signing);
        let claims = claims_of(id_token);
        assert_eq!(claims["iss"], provider.issuer.as_str());
        assert_eq!(claims["aud"], config.client_id.as_str());
        assert_eq!(claims["sub"], "sub-alice");
        assert_eq!(claims["nonce"], nonce.as_str());
        assert_eq!(claims["acr"], "eidas2");

        let userinfo = userinfo(&provider, &tokens).await;
        assert_eq!(userinfo.status(), 200);
        let kind = userinfo.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(kind.starts_with("application/jwt"), "{kind}");
        let userinfo = userinfo.text().await.unwrap();
        assert_eq!(header_of(&userinfo)["alg"], signing);
        let claims = claims_of(&userinfo);
        assert_eq!(claims["iss"], provider.issuer.as_str());
        assert_eq!(claims["aud"], config.client_id.as_str());
        assert_eq!(claims["sub"], "sub-alice");
        assert_eq!(claims["email"], "alice@dreets.gouv.fr");
        assert_eq!(claims["given_name"], "Camille");
        assert_eq!(claims["usual_name"], "Dupont");
        assert_eq!(claims["uid"], "uid-alice");
        assert_eq!(claims["siret"], "13002526500013");
        assert_eq!(claims["idp_id"], "fia1v2");

        let log = provider.log().await;
        assert_eq!(log["token_exchanges"], 1);
        assert_eq!(log["userinfo_requests"], 1);
        assert_eq!(log["errors"], serde_json::json!([]));
    }
}

#[tokio::test]
async fn the_log_records_authorization_requests() {
    let config = config("ES256", None);
    let Some(provider) = Provider::start(&config) else {
        return;
    };
    let request = authorization_request(&provider, &config).await;
    sign_in_at_provider(&http_client(), &request.url, "alice").await;
    let log = provider.log().await;
    let seen = &log["authorizations"][0];
    assert_eq!(log["authorizations"].as_array().unwrap().len(), 1);
    assert_eq!(seen["state"], request.state.as_str());
    assert_eq!(seen["nonce"], request.nonce.as_str());
    assert_eq!(seen["code_challenge_method"], "S256");
    assert_eq!(
        seen["scope"],
        "openid email given_name usual_name uid siret idp_id"
    );
    let claims: Value = serde_json::from_str(seen["claims"].as_str().unwrap()).unwrap();
    assert_eq!(claims["id_token"]["acr"]["essential"], true);
    assert_eq!(log["token_exchanges"], 0);
}

#[tokio::test]
async fn pkce_is_required() {
    let config = config("ES256", None);
    let Some(provider) = Provider::start(&config) else {
        return;
    };
    let request = authorization_request(&provider, &config).await;
    let mut url = reqwest::Url::parse(&request.url).unwrap();
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .into_owned()
        .filter(|(k, _)| !k.starts_with("code_challenge"))
        .collect();
    url.query_pairs_mut().clear().extend_pairs(kept);
    let back = sign_in_at_provider(&http_client(), url.as_str(), "alice").await;
    assert_eq!(query(&back)["error"], "invalid_request", "{back}");
}

#[tokio::test]
async fn refusing_sends_access_denied_back() {
    let config = config("ES256", None);
    let Some(provider) = Provider::start(&config) else {
        return;
    };
    let request = authorization_request(&provider, &config).await;
    let back = refuse_at_provider(&http_client(), &request.url).await;
    assert!(back.starts_with(&config.redirect_uri), "{back}");
    let params = query(&back);
    assert_eq!(params["error"], "access_denied");
    assert_eq!(params["state"], request.state);
    assert!(!params.contains_key("code"));
}

#[tokio::test]
async fn an_unknown_login_stays_on_the_provider() {
    let config = config("ES256", None);
    let Some(provider) = Provider::start(&config) else {
        return;
    };
    let request = authorization_request(&provider, &config).await;
    let signing_in =
        tokio::spawn(
            async move { sign_in_at_provider(&http_client(), &request.url, "mallory").await },
        );
    let panic = signing_in.await.unwrap_err().into_panic();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(
        message.contains("Identifiant inconnu : mallory"),
        "{message}"
    );
}

#[tokio::test]
async fn end_session_returns_to_the_relying_party_with_state() {
    let config = config("ES256", None);
    let Some(provider) = Provider::start(&config) else {
        return;
    };
    let (tokens, _) = sign_in(&provider, &config, true).await;
    let state = random();
    let mut url = reqwest::Url::parse(&format!("{}/session/end", provider.issuer)).unwrap();
    url.query_pairs_mut()
        .append_pair("id_token_hint", tokens["id_token"].as_str().unwrap())
        .append_pair("state", &state)
        .append_pair("post_logout_redirect_uri", &config.post_logout_redirect_uri);
    let back = end_session_at_provider(&http_client(), url.as_str()).await;
    assert_eq!(
        back,
        format!("{}?state={state}", config.post_logout_redirect_uri)
    );
    let log = provider.log().await;
    assert_eq!(log["end_sessions"][0]["state"], state.as_str());
    assert_eq!(
        log["end_sessions"][0]["post_logout_redirect_uri"],
        config.post_logout_redirect_uri.as_str()
    );
}

/// Whether the provider's end_session endpoint takes `id_token` as `id_token_hint`: it checks
/// its signature against the provider's key and its audience.
async fn accepted_as_hint(provider: &Provider, id_token: &str) -> bool {
    let url = format!("{}/session/end?id_token_hint={id_token}", provider.issuer);
    http_client().get(url).send().await.unwrap().status() == 200
}

#[tokio::test]
async fn tamper_modes_spoil_what_they_say() {
    for mode in [
        "",
        "other-key",
        "wrong-audience",
        "expired",
        "acr:eidas3",
        "userinfo-sub",
    ] {
        let config = config("ES256", Some(mode).filter(|m| !m.is_empty()));
        let Some(provider) = Provider::start(&config) else {
            return;
        };
        let (tokens, nonce) = sign_in(&provider, &config, true).await;
        let id_token = tokens["id_token"].as_str().unwrap();
        let claims = claims_of(id_token);
        assert_eq!(claims["nonce"], nonce.as_str(), "{mode}");
        let jwks = get_json(&format!("{}/jwks", provider.issuer)).await;
        assert_eq!(header_of(id_token)["kid"], jwks["keys"][0]["kid"], "{mode}");
        assert_eq!(header_of(id_token)["alg"], "ES256", "{mode}");
        let now = chrono::Utc::now().timestamp();
        let accepted = accepted_as_hint(&provider, id_token).await;
        match mode {
            "other-key" => assert!(!accepted, "signed by another key"),
            "wrong-audience" => assert_eq!(claims["aud"], "another-client"),
            "expired" => {
                assert!(accepted, "signed by the real key");
                assert!((claims["exp"].as_i64().unwrap() - (now - 3600)).abs() < 5);
                assert!((claims["iat"].as_i64().unwrap() - (now - 7200)).abs() < 5);
            }
            "acr:eidas3" => {
                assert!(accepted, "signed by the real key");
                assert_eq!(claims["acr"], "eidas3");
            }
            _ => {
                assert!(accepted, "{mode}: the ID token is left alone");
                assert_eq!(claims["aud"], config.client_id.as_str());
                assert_eq!(claims["acr"], "eidas2");
                let userinfo = userinfo(&provider, &tokens).await.text().await.unwrap();
                assert_eq!(header_of(&userinfo)["kid"], jwks["keys"][0]["kid"]);
                let sub = claims_of(&userinfo)["sub"].clone();
                match mode {
                    "" => assert_eq!(sub, "sub-alice"),
                    _ => assert_ne!(sub, "sub-alice"),
                }
            }
        }
    }
}
