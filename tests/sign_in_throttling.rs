//! Sign-in throttling counts an IPv6 client by its /64: a host that picks a new address of its
//! network for each guess is still one client.

mod common;

use common::{ADMIN_PASSWORD, Agent, TestDb, create_user, start_admin_configured};
use reqwest::StatusCode;

/// Five wrong passwords from five addresses of one /64 slow down sign-in from a sixth address of
/// it, the right password included; another /64 signs in.
async fn the_addresses_of_one_ipv6_64_are_one_client(t: &TestDb) {
    create_user(t, "marie", true).await;
    let base = start_admin_configured(t, &[("WIF_TRUSTED_PROXIES", "127.0.0.1")], |_| {}).await;
    let from = |request: reqwest::RequestBuilder, address: &str| {
        request.header("x-forwarded-for", address.to_owned())
    };
    // Ready before the guesses, so that it follows the last one at once.
    let mut neighbour = Agent::new(&base);
    let right = neighbour
        .login_request("/admin/", "marie", ADMIN_PASSWORD)
        .await;
    let right = from(right, "2001:db8:5:6:ffff::beef");

    for i in 1..=5 {
        let mut guesser = Agent::new(&base);
        let request = guesser
            .login_request("/admin/", "marie", "mauvais mot de passe")
            .await;
        let answer = guesser
            .send(from(request, &format!("2001:db8:5:6:{i}:{i}:{i}:{i}")))
            .await;
        assert!(
            answer.body.contains("mot de passe incorrect"),
            "guess {i}: {}",
            answer.body
        );
    }
    let slowed = neighbour.send(right).await;
    assert_ne!(slowed.status, StatusCode::SEE_OTHER, "signed in");
    assert!(slowed.body.contains("patientez"), "{}", slowed.body);

    let mut elsewhere = Agent::new(&base);
    let request = elsewhere
        .login_request("/admin/", "marie", ADMIN_PASSWORD)
        .await;
    let signed_in = elsewhere.send(from(request, "2001:db8:5:7::1")).await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "the next /64 is another client: {}",
        signed_in.body
    );
}

both_engines!(the_addresses_of_one_ipv6_64_are_one_client);
