//! Both listeners close half-sent requests and idle connections, and serve a bounded number of
//! connections at once, and of one client at once (slowloris), over raw TCP.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use wif::http::{ServerLimits, TrustedProxies};

const LIMITS: ServerLimits = ServerLimits {
    header_read_timeout: Duration::from_millis(500),
    max_connections: 2,
    max_connections_per_client: 2,
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
    public_with(LIMITS, TrustedProxies::default()).await
}

async fn public_with(
    limits: ServerLimits,
    trusted_proxies: TrustedProxies,
) -> (String, tempfile::TempDir) {
    let media = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let settings = wif::config::Settings::from_lookup(|_| None).unwrap();
    let config = wif::public::PublicConfig {
        media_root: media.path().to_owned(),
        limits,
        trusted_proxies,
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

/// Room for eight connections, three per client, and half-sent requests that would hold their
/// connection far longer than the test.
const PER_CLIENT: ServerLimits = ServerLimits {
    header_read_timeout: Duration::from_secs(120),
    max_connections: 8,
    max_connections_per_client: 3,
};

/// A connection from `local` (any address of 127/8 is this machine on Linux).
async fn connect_from(local: &str, server: &str) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket
        .bind(format!("{local}:0").parse::<SocketAddr>().unwrap())
        .unwrap();
    socket.connect(server.parse().unwrap()).await.unwrap()
}

/// `count` connections from `local` that each send half a request.
async fn half_sent(local: &str, server: &str, count: usize) -> Vec<TcpStream> {
    let mut streams = Vec::new();
    for _ in 0..count {
        let mut stream = connect_from(local, server).await;
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\n")
            .await
            .unwrap();
        streams.push(stream);
    }
    streams
}

/// A whole request from `local`; the answer, or `None` if none comes in time.
async fn answer_from(local: &str, server: &str) -> Option<String> {
    let mut stream = connect_from(local, server).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let answer = until_closed(&mut stream, Duration::from_secs(10)).await?;
    Some(String::from_utf8_lossy(&answer).into_owned())
}

/// Whether the server has left `stream` open (nothing to read, no end).
fn still_open(stream: &TcpStream) -> bool {
    let mut buffer = [0u8; 16];
    matches!(stream.try_read(&mut buffer), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}

#[tokio::test]
async fn one_client_cannot_take_every_connection() {
    let (server, _media) = public_with(PER_CLIENT, TrustedProxies::default()).await;

    // More half-sent requests from one address than the whole listener serves: another client
    // is still served at once.
    let mut attacker = half_sent("127.0.0.1", &server, 10).await;
    let answer = answer_from("127.0.0.2", &server)
        .await
        .expect("another client waits behind one client's half-sent requests");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // Those beyond the bound were closed at once, long before the header timeout, and took no
    // place in the listener: three more connections and a fourth client fit in.
    for (i, stream) in attacker.iter_mut().enumerate().skip(3) {
        assert!(
            until_closed(stream, Duration::from_secs(10))
                .await
                .is_some(),
            "connection {i} beyond the client's bound stays open"
        );
    }
    let _more = half_sent("127.0.0.3", &server, 3).await;
    let answer = answer_from("127.0.0.4", &server)
        .await
        .expect("the refused connections took places in the listener");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // The first three are served as before (until the header timeout).
    assert!(attacker[..3].iter().all(still_open));
}

#[tokio::test]
async fn a_trusted_proxy_is_not_bound_per_client() {
    // Behind the proxy every visitor shares its address: its connections count only in the
    // listener's budget.
    let proxy = TrustedProxies::parse("127.0.0.1").unwrap();
    let (server, _media) = public_with(PER_CLIENT, proxy).await;
    let waiting = half_sent("127.0.0.1", &server, 5).await;
    let answer = answer_from("127.0.0.1", &server)
        .await
        .expect("the proxy's sixth connection is served");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(waiting.iter().all(still_open));
}
