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
    shutdown_grace: wif::shutdown::DEFAULT_GRACE,
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

/// Room for two connections, and half-sent requests kept far longer than the test.
const FULL: ServerLimits = ServerLimits {
    header_read_timeout: Duration::from_secs(120),
    ..LIMITS
};

async fn admin(t: &common::TestDb, limits: ServerLimits) -> String {
    common::start_admin_configured(t, &[], |state| state.limits = limits).await
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
}

/// How many connections wait in the accept queue of the listener on `address`: made by the
/// system, not yet taken by the server (Linux's `/proc/net/tcp`, where a listening socket's
/// receive queue is its accept queue).
fn waiting_to_be_accepted(address: &str) -> usize {
    let port: u16 = address.rsplit(':').next().unwrap().parse().unwrap();
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    table
        .lines()
        .skip(1)
        .find_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let local_port = u16::from_str_radix(fields[1].rsplit(':').next()?, 16).ok()?;
            let listening = fields[3] == "0A";
            let queued = fields[4].split(':').nth(1)?;
            (listening && local_port == port).then(|| usize::from_str_radix(queued, 16).unwrap())
        })
        .expect("the server's listening socket")
}

/// One answer on a kept-alive connection: the head, then `Content-Length` bytes of body.
async fn answer_on(stream: &mut TcpStream) -> String {
    let mut seen = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let n = stream.read(&mut buffer).await.unwrap();
        assert!(n > 0, "closed before the answer");
        seen.extend_from_slice(&buffer[..n]);
        let text = String::from_utf8_lossy(&seen).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")?
                        .parse()
                        .ok()
                })
                .unwrap_or(0);
            if body.len() >= length {
                return text;
            }
        }
    }
}

/// On a listener with room for two connections that keeps half-sent requests longer than the
/// test: two connections fill it, and a third is not even accepted until one of them goes away.
async fn check_full_listener(address: &str) {
    let mut first = TcpStream::connect(address).await.unwrap();
    let mut second = TcpStream::connect(address).await.unwrap();
    first.write_all(b"GET").await.unwrap();
    second.write_all(b"GET").await.unwrap();
    let mut third = TcpStream::connect(address).await.unwrap();
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    // The second request ends and is answered: the server has run since the third connected,
    // and would have taken it by now, were there room.
    second
        .write_all(b" /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert!(answer_on(&mut second).await.starts_with("HTTP/1.1 200"));
    common::until(
        "the third connection to wait in the listener's queue",
        async || waiting_to_be_accepted(address) == 1,
    )
    .await;
    assert!(still_open(&third), "the third connection was answered");

    drop(first);
    let answered = until_closed(&mut third, Duration::from_secs(20))
        .await
        .expect("the third connection is served once the first is gone");
    assert!(String::from_utf8_lossy(&answered).starts_with("HTTP/1.1 200"));
    assert!(still_open(&second), "the second connection was closed");
}

#[tokio::test]
async fn the_admin_listener_closes_slow_and_idle_connections() {
    let t = common::TestDb::sqlite(true).await;
    let base = admin(&t, LIMITS).await;
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

#[tokio::test]
async fn the_admin_listener_serves_a_bounded_number_of_connections() {
    let t = common::TestDb::sqlite(true).await;
    let base = admin(&t, FULL).await;
    check_full_listener(base.trim_start_matches("http://")).await;
}

#[tokio::test]
async fn the_public_listener_serves_a_bounded_number_of_connections() {
    let (address, _media) = public_with(FULL, TrustedProxies::default()).await;
    check_full_listener(&address).await;
}

/// Room for eight connections, three per client, and half-sent requests that would hold their
/// connection far longer than the test.
const PER_CLIENT: ServerLimits = ServerLimits {
    header_read_timeout: Duration::from_secs(120),
    max_connections: 8,
    max_connections_per_client: 3,
    shutdown_grace: wif::shutdown::DEFAULT_GRACE,
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
