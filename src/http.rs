//! What both web servers share: the accept loop with its limits, the client's address behind a
//! reverse proxy, the key that every per-client limit counts against, and the request log.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use ipnet::IpNet;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// How long a connection may take to send a request's headers, counted from the moment it
/// connects or from the end of the previous answer: it closes half-sent requests (slowloris) and
/// idle keep-alive connections alike.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(15);
/// Connections served at once by one listener; beyond, new ones wait in the kernel's backlog.
pub const MAX_CONNECTIONS: usize = 512;
/// Connections served at once for one client (`ClientKey` of the connected peer), unless the
/// peer is a trusted proxy: one host cannot take the whole of `MAX_CONNECTIONS`.
pub const MAX_CONNECTIONS_PER_CLIENT: usize = 32;

/// The limits of one listener (the defaults above; tests shorten them).
#[derive(Debug, Clone, Copy)]
pub struct ServerLimits {
    pub header_read_timeout: Duration,
    pub max_connections: usize,
    pub max_connections_per_client: usize,
    /// Once the listener is closed, how long the requests under way may take to end
    /// (`WIF_SHUTDOWN_GRACE`).
    pub shutdown_grace: Duration,
}

impl Default for ServerLimits {
    fn default() -> ServerLimits {
        ServerLimits {
            header_read_timeout: HEADER_READ_TIMEOUT,
            max_connections: MAX_CONNECTIONS,
            max_connections_per_client: MAX_CONNECTIONS_PER_CLIENT,
            shutdown_grace: crate::shutdown::DEFAULT_GRACE,
        }
    }
}

/// Serves `router` on `listener` (HTTP/1.1) within `limits`, each request carrying the peer's
/// `ConnectInfo<SocketAddr>`, until `shutdown` resolves; then closes the listener and lets the
/// requests under way end, for at most `limits.shutdown_grace`.
/// Written on hyper rather than `axum::serve`, which sets no header-read timeout.
///
/// A connection beyond `max_connections_per_client` is closed at once, keeping its slot of
/// `max_connections` for the next one. Connections from `proxies` are not counted per client:
/// behind a proxy every client shares its address, and the proxy receives whole requests before
/// it forwards them.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServerLimits,
    proxies: TrustedProxies,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let per_client = Arc::new(OpenConnections::default());
    let graceful = GracefulShutdown::new();
    // One accepted connection, ready to serve, with what to drop when it ends; or its slot back
    // when the client has too many connections open.
    let open = |stream: tokio::net::TcpStream, peer: SocketAddr, slot, http: &Http1| {
        let client = if proxies.is_proxy(peer.ip()) {
            None
        } else {
            let key = ClientKey::of(peer.ip());
            match per_client.open(key, limits.max_connections_per_client) {
                Some(client) => Some(client),
                None => {
                    tracing::debug!("connexion fermée : trop de connexions de ce client");
                    return Err(slot);
                }
            }
        };
        let service =
            router
                .clone()
                .map_request(move |mut request: Request<hyper::body::Incoming>| {
                    request.extensions_mut().insert(ConnectInfo(peer));
                    request
                });
        let connection =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        Ok((connection, (client, slot)))
    };
    tokio::pin!(shutdown);
    // A slot taken but not used (refused connection, accept error) serves the next one.
    let mut spare = None;
    loop {
        let slot = match spare.take() {
            Some(slot) => slot,
            None => tokio::select! {
                slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
                () = &mut shutdown => break,
            },
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, say: wait rather than spin.
                    tracing::warn!(%error, "connexion refusée");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    spare = Some(slot);
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        match open(stream, peer, slot, &http) {
            Ok((connection, guards)) => {
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    // A client that goes away or times out is no error of ours.
                    let _ = connection.await;
                    drop(guards);
                });
            }
            Err(slot) => spare = Some(slot),
        }
    }
    drop(spare);
    // Idle connections close now, busy ones after their answer.
    let watched = tokio::spawn(graceful.shutdown());
    // The connections already in the listener's queue were accepted by the system: a proxy sent
    // them a request and counts on an answer. Each is served one request before the process
    // ends, so that a rolling restart loses none.
    let queued = queued(listener);
    let mut once = http.clone();
    once.keep_alive(false);
    let ended = async {
        let mut drained = Vec::new();
        for (stream, peer) in queued {
            let slot = slots.clone().acquire_owned().await;
            let slot = slot.expect("the semaphore is never closed");
            if let Ok((connection, guards)) = open(stream, peer, slot, &once) {
                drained.push(tokio::spawn(async move {
                    let _ = connection.await;
                    drop(guards);
                }));
            }
        }
        let _ = watched.await;
        for connection in drained {
            let _ = connection.await;
        }
    };
    if tokio::time::timeout(limits.shutdown_grace, ended)
        .await
        .is_err()
    {
        tracing::warn!("délai d'arrêt écoulé : requêtes en cours abandonnées");
    }
    Ok(())
}

/// Closes `listener`, returning the connections still in its queue: asked directly of the
/// system, which the runtime's readiness events may not have reported yet.
fn queued(listener: TcpListener) -> Vec<(tokio::net::TcpStream, SocketAddr)> {
    let Ok(listener) = listener.into_std() else {
        return Vec::new();
    };
    let mut queued = Vec::new();
    while let Ok((stream, peer)) = listener.accept() {
        let stream = stream
            .set_nonblocking(true)
            .and_then(|()| tokio::net::TcpStream::from_std(stream));
        if let Ok(stream) = stream {
            queued.push((stream, peer));
        }
    }
    queued
}

type Http1 = hyper::server::conn::http1::Builder;

/// The connections open per client, for `max_connections_per_client`. Only connections being
/// served hold an entry, so the table never outgrows `max_connections`.
#[derive(Default)]
struct OpenConnections(Mutex<HashMap<ClientKey, usize>>);

/// One connection of a client, counted until dropped.
struct OpenConnection {
    table: Arc<OpenConnections>,
    key: ClientKey,
}

impl OpenConnections {
    /// Counts one more connection of `key`, unless it already has `bound` (at least one).
    fn open(self: &Arc<Self>, key: ClientKey, bound: usize) -> Option<OpenConnection> {
        let mut table = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let count = table.entry(key).or_default();
        if *count >= bound.max(1) {
            return None;
        }
        *count += 1;
        Some(OpenConnection {
            table: self.clone(),
            key,
        })
    }

    #[cfg(test)]
    fn clients(&self) -> usize {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        let mut table = self.table.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Entry::Occupied(mut count) = table.entry(self.key) {
            *count.get_mut() -= 1;
            if *count.get() == 0 {
                count.remove();
            }
        }
    }
}

/// Whom a per-client limit counts against: an IPv4 address, or the /64 network of an IPv6
/// address, since one IPv6 host (one subscriber's line) commonly holds a whole /64 and can use
/// any of its 2^64 addresses. An IPv4 address seen through an IPv6 socket (`::ffff:a.b.c.d`) is
/// that IPv4 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientKey(IpAddr);

impl ClientKey {
    pub fn of(address: IpAddr) -> ClientKey {
        match address.to_canonical() {
            IpAddr::V4(v4) => ClientKey(IpAddr::V4(v4)),
            IpAddr::V6(v6) => {
                let network = u128::from(v6) & !(u128::MAX >> 64);
                ClientKey(IpAddr::V6(Ipv6Addr::from(network)))
            }
        }
    }
}

/// `203.0.113.7`, or `2001:db8:1:2::/64`.
impl fmt::Display for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            IpAddr::V4(v4) => write!(f, "{v4}"),
            IpAddr::V6(v6) => write!(f, "{v6}/64"),
        }
    }
}

/// The reverse proxies whose `X-Forwarded-For` is believed (`WIF_TRUSTED_PROXIES`, or with
/// `WIF_TRUST_PROXY=True` whatever peer is directly connected).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    /// `WIF_TRUST_PROXY=True`: the connected peer is a proxy, whatever its address.
    pub any_peer: bool,
    pub networks: Vec<IpNet>,
}

impl TrustedProxies {
    /// A comma-separated list of addresses and CIDR networks.
    pub fn parse(list: &str) -> Result<TrustedProxies, String> {
        let networks = list
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| {
                item.parse::<IpNet>()
                    .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        format!("« {item} » n'est ni une adresse IP ni un réseau CIDR (exemple : 172.16.0.0/12)")
                    })
            })
            .collect::<Result<_, _>>()?;
        Ok(TrustedProxies {
            any_peer: false,
            networks,
        })
    }

    fn contains(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        self.networks.iter().any(|net| net.contains(&address))
    }

    /// Whether the connected peer is a trusted proxy.
    pub fn is_proxy(&self, peer: IpAddr) -> bool {
        self.any_peer || self.contains(peer)
    }

    /// The client's address: the peer itself, unless it is a trusted proxy; then, walking
    /// `X-Forwarded-For` from the right, the first address that is not a trusted proxy (entries
    /// further left were written by the client and prove nothing).
    pub fn client_address(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.is_proxy(peer) {
            return peer;
        }
        let mut forwarded: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(forwarded_address)
            .collect();
        if self.any_peer && self.networks.is_empty() {
            return forwarded.pop().unwrap_or(peer);
        }
        let mut last = peer;
        while let Some(address) = forwarded.pop() {
            if !self.contains(address) {
                return address;
            }
            last = address;
        }
        last
    }

    /// The key of the client's address (`client_address`), for per-client limits.
    pub fn client_key(&self, peer: IpAddr, headers: &HeaderMap) -> ClientKey {
        ClientKey::of(self.client_address(peer, headers))
    }
}

/// One entry of `X-Forwarded-For`: `203.0.113.7`, `203.0.113.7:51234`, `2001:db8::1` or
/// `[2001:db8::1]:51234`.
fn forwarded_address(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    if let Ok(address) = entry.parse::<IpAddr>() {
        return Some(address.to_canonical());
    }
    entry
        .parse::<SocketAddr>()
        .ok()
        .map(|s| s.ip().to_canonical())
}

/// Headers of every answer of both listeners: no MIME sniffing, no browser feature the pages
/// do not use, and, unless `hsts` is off (`WIF_DEBUG`), HTTPS only for a year.
pub async fn transport_headers(
    axum::extract::State(hsts): axum::extract::State<bool>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        "permissions-policy",
        HeaderValue::from_static(
            "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
        ),
    );
    if hsts {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}

/// The pages' policy: no script or style but the site's own files, forms sent to the site only,
/// or also to `form_origin` (`https://host[:port]`).
pub fn content_security_policy(form_origin: Option<&str>) -> HeaderValue {
    let form_action = match form_origin {
        Some(origin) => format!("'self' {origin}"),
        None => "'self'".to_owned(),
    };
    HeaderValue::from_str(&format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         font-src 'self' data:; form-action {form_action}; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ))
    .expect("an origin of visible ASCII characters")
}

/// Headers that keep the pages from being framed, sniffed, leaked in a `Referer` or cached, and
/// `content_security_policy(None)`.
pub async fn page_security_headers(request: Request, next: Next) -> Response {
    page_security_headers_with(State(content_security_policy(None)), request, next).await
}

/// As `page_security_headers`, with this policy.
pub async fn page_security_headers_with(
    State(policy): State<HeaderValue>,
    request: Request,
    next: Next,
) -> Response {
    // The embedded static files (`/admin/static/…`, `/static/…`) may be cached.
    let is_asset = request.uri().path().contains("/static/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |headers: &mut axum::http::HeaderMap, name, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    set(headers, header::REFERRER_POLICY, "same-origin");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    if !is_asset {
        set(headers, header::CACHE_CONTROL, "no-store");
    }
    response
}

/// One line per request with the route's pattern, never the path itself: it can hold a birth
/// date or a dossier number.
pub async fn access_log(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("(inconnue)".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    tracing::info!(
        %method,
        route,
        status = response.status().as_u16(),
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        "requête"
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(forwarded: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in forwarded {
            headers.append("x-forwarded-for", value.parse().unwrap());
        }
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn without_a_trusted_proxy_the_peer_is_the_client() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client_address(ip("10.0.0.5"), &headers(&["1.2.3.4"])),
            ip("10.0.0.5")
        );
        let other = TrustedProxies::parse("172.16.0.0/12").unwrap();
        assert_eq!(
            other.client_address(ip("10.0.0.5"), &headers(&["1.2.3.4"])),
            ip("10.0.0.5"),
            "a peer outside the list cannot choose its address"
        );
    }

    #[test]
    fn the_right_most_untrusted_forwarded_address_is_the_client() {
        let proxies = TrustedProxies::parse("172.16.0.0/12, 10.0.0.1").unwrap();
        let forwarded = headers(&["6.6.6.6, 203.0.113.7", "172.17.0.3"]);
        assert_eq!(
            proxies.client_address(ip("10.0.0.1"), &forwarded),
            ip("203.0.113.7"),
            "the client's own claim (6.6.6.6) and the inner proxy are skipped"
        );
        assert_eq!(
            proxies.client_address(ip("172.20.0.2"), &headers(&[])),
            ip("172.20.0.2"),
            "no header: the proxy itself"
        );
    }

    #[test]
    fn ports_and_ipv6_forms_are_read() {
        let proxies = TrustedProxies::parse("::1, 127.0.0.1").unwrap();
        assert_eq!(
            proxies.client_address(ip("127.0.0.1"), &headers(&["203.0.113.7:51234"])),
            ip("203.0.113.7")
        );
        assert_eq!(
            proxies.client_address(ip("::1"), &headers(&["[2001:db8::1]:443"])),
            ip("2001:db8::1")
        );
        assert_eq!(
            proxies.client_address(ip("::ffff:127.0.0.1"), &headers(&["2001:db8::2"])),
            ip("2001:db8::2"),
            "an IPv4 peer seen through an IPv6 socket is still the proxy"
        );
    }

    #[test]
    fn trust_proxy_true_believes_the_connected_peer_only() {
        let alias = TrustedProxies {
            any_peer: true,
            networks: Vec::new(),
        };
        assert_eq!(
            alias.client_address(ip("192.0.2.1"), &headers(&["6.6.6.6, 203.0.113.7"])),
            ip("203.0.113.7")
        );
    }

    fn key(text: &str) -> ClientKey {
        ClientKey::of(ip(text))
    }

    #[test]
    fn an_ipv6_client_is_its_64_network() {
        assert_eq!(
            key("2001:db8:1:2:aaaa:bbbb:cccc:dddd"),
            key("2001:db8:1:2::1")
        );
        assert_eq!(
            key("2001:db8:1:2:ffff:ffff:ffff:ffff"),
            key("2001:db8:1:2::")
        );
        assert_ne!(
            key("2001:db8:1:2::1"),
            key("2001:db8:1:3::1"),
            "the next /64 is another client"
        );
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db9:1:2::1"));
        assert_eq!(key("2001:db8:1:2::1").to_string(), "2001:db8:1:2::/64");
    }

    #[test]
    fn an_ipv4_client_is_its_address() {
        assert_eq!(key("203.0.113.7").to_string(), "203.0.113.7");
        assert_ne!(key("203.0.113.7"), key("203.0.113.8"));
        assert_eq!(
            key("::ffff:203.0.113.7"),
            key("203.0.113.7"),
            "an IPv4 client seen through an IPv6 socket"
        );
        assert_ne!(
            key("::ffff:203.0.113.7"),
            key("::ffff:198.51.100.1"),
            "IPv4 clients do not share the /64 of mapped addresses"
        );
    }

    #[test]
    fn the_client_key_follows_the_client_address() {
        let proxies = TrustedProxies::parse("10.0.0.1").unwrap();
        assert_eq!(
            proxies.client_key(ip("10.0.0.1"), &headers(&["2001:db8::7"])),
            key("2001:db8::8")
        );
        assert_eq!(
            proxies.client_key(ip("::ffff:10.0.0.1"), &headers(&["203.0.113.7"])),
            key("203.0.113.7")
        );
        assert_eq!(
            TrustedProxies::default().client_key(ip("2001:db8::7"), &headers(&["1.2.3.4"])),
            key("2001:db8::")
        );
    }

    #[test]
    fn connections_are_counted_per_client_up_to_the_bound() {
        let table = Arc::new(OpenConnections::default());
        let (a, b) = (key("2001:db8::1"), key("2001:db8::2"));
        let first = table.open(a, 2).expect("first");
        let second = table.open(b, 2).expect("same /64, second");
        assert!(table.open(a, 2).is_none(), "a third of the same /64");
        assert!(table.open(key("2001:db8:0:1::1"), 2).is_some());
        drop(first);
        let again = table
            .open(a, 2)
            .expect("a closed connection frees its place");
        assert!(table.open(a, 2).is_none());
        drop(again);
        drop(second);
        assert_eq!(
            table.clients(),
            0,
            "a client without connections is forgotten"
        );
    }

    #[test]
    fn a_wrong_entry_is_named() {
        let error = TrustedProxies::parse("10.0.0.0/8, proxy.local").unwrap_err();
        assert!(error.contains("proxy.local"), "{error}");
    }
}
