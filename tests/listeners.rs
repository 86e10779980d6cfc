//! Both listeners close half-sent requests and idle connections, and serve a bounded number of
//! connections at once (slowloris), over raw TCP.

mod common;

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wif::http::ServerLimits;

const LIMITS: ServerLimits = ServerLimits {
    header_read_timeout: Duration::from_millis(500),
    max_connections: 2,
};

/// Reads until the server closes the connection; the bytes read, or `None` if it stays open
/// for `patience` (far longer than the limits).
async fn until_closed(stream: &mut TcpStream, patience: Duration) -> Option<Vec<u8>> {
    let mut seen = Vec::new();
    let read = async {
        let mut buffer = [0u8; 4096];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&buffer[..n]),
            }
        }
    };
    tokio::time::timeout(patience, read).await.ok()?;
    Some(seen)
}

async fn admin(t: &common::TestDb) -> String {
    common::start_admin_configured(t, &[], |state| state.limits = LIMITS).await
}

async fn public() -> (String, tempfile::TempDir) {
    let media = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let settings = wif::config::Settings::from_lookup(|_| None).unwrap();
    let config = wif::public::PublicConfig {
        media_root: media.path().to_owned(),
        limits: LIMITS,
        ..wif::public::PublicConfig::from_settings(&settings)
    };
    tokio::spawn(async move {
        wif::public::serve_on(listener, &config, std::future::pending())
            .await
            .unwrap()
    });
    (address, media)
}

async fn check_limits(address: &str) {
    let patience = Duration::from_secs(20);

    // Half a request: closed once the header timeout passes.
    let mut slow = TcpStream::connect(address).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    assert!(
        until_closed(&mut slow, patience).await.is_some(),
        "a half-sent request keeps its connection"
    );

    // An answered request, then silence: the idle keep-alive connection is closed too.
    let mut idle = TcpStream::connect(address).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let answer = until_closed(&mut idle, patience)
        .await
        .expect("an idle connection stays open");
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"));

    // Two silent connections fill the listener: a third is served only once they are closed.
    let mut first = TcpStream::connect(address).await.unwrap();
    let mut second = TcpStream::connect(address).await.unwrap();
    first.write_all(b"GET").await.unwrap();
    second.write_all(b"GET").await.unwrap();
    let mut third = TcpStream::connect(address).await.unwrap();
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let answered = until_closed(&mut third, patience).await.unwrap();
    assert!(String::from_utf8_lossy(&answered).starts_with("HTTP/1.1 200"));
    // Had it been served at once, they would still be open now (for the rest of the timeout).
    let moment = Duration::from_millis(100);
    assert!(
        until_closed(&mut first, moment).await.is_some(),
        "the third connection was served while the listener was full"
    );
    assert!(until_closed(&mut second, moment).await.is_some());
}

#[tokio::test]
async fn the_admin_listener_closes_slow_and_idle_connections() {
    let t = common::TestDb::sqlite(true).await;
    let base = admin(&t).await;
    let address = base.trim_start_matches("http://");
    check_limits(address).await;

    // A form whose body trickles in is answered 408 once the timeout has passed.
    let mut slow = TcpStream::connect(address).await.unwrap();
    slow.write_all(
        b"POST /admin/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
          Content-Length: 100\r\n\r\nusername=",
    )
    .await
    .unwrap();
    let answer = until_closed(&mut slow, Duration::from_secs(20))
        .await
        .expect("a trickling body keeps its connection");
    assert!(
        String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
}

#[tokio::test]
async fn the_public_listener_closes_slow_and_idle_connections() {
    let (address, _media) = public().await;
    check_limits(&address).await;
}
