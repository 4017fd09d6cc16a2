//! The HTTP client every sink posts with: rustls (ring) and the system's roots, no redirects
//! (a receiver cannot bounce signed payloads or keys to another host), a bounded time per
//! request and a bounded answer.
//!
//! A second, public-only client ([`HttpClient::new_public_only`]) posts for the notification
//! channels a tenant-confined admin added: it connects to public addresses only (an IP literal
//! that is not public is refused before connecting, and its resolver drops every non-public
//! address a name resolves to, so neither a name pointing inside nor DNS rebinding reaches the
//! igd host or its network), and it ignores proxy settings (a proxy would resolve the name
//! where igd cannot check it).

use super::SinkError;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// The longest one delivery may take, connection included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// The most bytes of a receiver's answer igd reads (for error messages and token replies).
const MAX_ANSWER: usize = 64 * 1024;
/// The longest `Retry-After` honoured (a receiver asking for more is asked again then).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// What the public-only client says when a receiver is not on a public address (shown to the
/// tenant admin who tests such a channel).
pub const NOT_PUBLIC: &str =
    "the receiver is not on a public address (this channel may reach public addresses only)";

/// A shared client (one connection pool for every sink).
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    /// Connects to public addresses only (see the module documentation).
    public_only: bool,
}

/// A receiver's answer with a 2xx status.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

impl HttpClient {
    pub fn new() -> Result<Self, String> {
        Self::build(false)
    }

    /// The client that reaches public addresses only, for channels a tenant-confined admin
    /// added.
    pub fn new_public_only() -> Result<Self, String> {
        Self::build(true)
    }

    pub fn is_public_only(&self) -> bool {
        self.public_only
    }

    fn build(public_only: bool) -> Result<Self, String> {
        let mut roots = rustls::RootCertStore::empty();
        let found = rustls_native_certs::load_native_certs();
        for cert in found.certs {
            // A system root this build cannot parse is skipped, as every TLS client does.
            let _ = roots.add(cert);
        }
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| format!("TLS settings: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut builder = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("intentgate-igd/", env!("CARGO_PKG_VERSION")));
        if public_only {
            builder = builder.no_proxy().dns_resolver(Arc::new(PublicOnly));
        }
        let client = builder.build().map_err(|e| format!("HTTP client: {e}"))?;
        Ok(HttpClient {
            client,
            public_only,
        })
    }

    /// POST `body` with `headers`; a 2xx answer is `Ok`, anything else a [`SinkError`] that
    /// carries the status, the start of the answer and any `Retry-After`.
    pub async fn post(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> Result<Answer, SinkError> {
        // An IP literal is connected to without the resolver: checked here.
        if self.public_only && !literal_is_public(url) {
            return Err(SinkError {
                message: format!("cannot connect: {NOT_PUBLIC}"),
                retry_after: None,
                refused: true,
            });
        }
        let mut req = self.client.post(url).body(body);
        for (name, value) in headers {
            req = req.header(*name, value.as_str());
        }
        let resp = req
            .send()
            .await
            .map_err(|e| SinkError::transient(describe(&e)))?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let body = read_capped(resp).await;
        if (200..300).contains(&status) {
            return Ok(Answer { status, body });
        }
        let text = String::from_utf8_lossy(&body);
        let text: String = text.chars().take(300).collect();
        Err(SinkError {
            message: format!("HTTP {status}: {}", text.trim()),
            retry_after,
            refused: (400..500).contains(&status) && status != 408 && status != 429,
        })
    }
}

/// Whether `url` may be posted to by the public-only client as far as its host goes: a name
/// (its addresses are the resolver's business) other than `localhost` and `*.localhost`, or a
/// public IP literal. An unparsable URL is not.
pub fn literal_is_public(url: &str) -> bool {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return false;
    };
    let Some(host) = parsed.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return is_public(ip);
    }
    let name = bare.trim_end_matches('.').to_ascii_lowercase();
    !(name.is_empty() || name == "localhost" || name.ends_with(".localhost"))
}

/// Whether `ip` is a public unicast address: not loopback, private (10/8, 172.16/12,
/// 192.168/16, fc00::/7), link-local (169.254/16, fe80::/10), shared (100.64/10),
/// unspecified, "this network" (0/8), multicast, broadcast, reserved, documentation or
/// benchmarking; an IPv6 address that embeds an IPv4 one (mapped, compatible, NAT64, 6to4) is
/// judged by it.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let refused = a == 0
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b))
        || (a == 169 && b == 254)
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 168)
        || (a == 192 && b == 0 && c == 0)
        || (a == 192 && b == 0 && c == 2)
        || (a == 198 && (b == 18 || b == 19))
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
        || a >= 224;
    !refused
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let embedded = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    if s[..5] == [0, 0, 0, 0, 0] && (s[5] == 0xffff || s[5] == 0) {
        // ::ffff:a.b.c.d (mapped), ::a.b.c.d (compatible; :: and ::1 included).
        return is_public_v4(embedded(s[6], s[7]));
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return is_public_v4(embedded(s[6], s[7]));
    }
    if s[0] == 0x2002 {
        return is_public_v4(embedded(s[1], s[2]));
    }
    let refused = (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (s[0] & 0xffc0) == 0xfec0 // site-local fec0::/10
        || (s[0] & 0xff00) == 0xff00 // multicast
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x2001 && s[1] == 0) // Teredo (tunnels to any IPv4)
        || s[..4] == [0x100, 0, 0, 0] // discard-only 100::/64
        || s[0] == 0; // the rest of ::/16 (reserved)
    !refused
}

/// The public-only client's resolver: the system's (`getaddrinfo`), keeping public addresses
/// only; a name with none is an error that says so.
#[derive(Debug)]
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| is_public(a.ip()))
                .collect();
            if found.is_empty() {
                return Err(NOT_PUBLIC.into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

/// Reads at most [`MAX_ANSWER`] bytes of an answer.
async fn read_capped(mut resp: reqwest::Response) -> Vec<u8> {
    let mut out = Vec::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        let room = MAX_ANSWER.saturating_sub(out.len());
        out.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if out.len() >= MAX_ANSWER {
            break;
        }
    }
    out
}

/// A transport error without the URL's query (which may hold a key) repeated in it.
fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        what.to_string()
    } else {
        format!("{what}: {detail}")
    }
}

/// `Retry-After`: delay-seconds or an HTTP date, capped at an hour.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    let wait = if let Ok(secs) = value.parse::<u64>() {
        Duration::from_secs(secs)
    } else {
        let at = time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc2822)
            .ok()?;
        let secs = (at - time::OffsetDateTime::now_utc()).whole_seconds();
        Duration::from_secs(u64::try_from(secs).unwrap_or(0))
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("120"), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after("999999"), Some(MAX_RETRY_AFTER));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn public_addresses() {
        for ip in [
            "127.0.0.1",
            "127.9.9.9",
            "0.0.0.0",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a01:203",
            "2002:c0a8:0101::1",
            "2001:db8::1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip} is not public");
        }
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "100.63.255.255",
            "100.128.0.1",
            "172.15.0.1",
            "172.32.0.1",
            "52.1.2.3",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "2a00:1450:4001::1",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip} is public");
        }
    }

    #[test]
    fn literals_and_localhost_are_checked() {
        for url in [
            "http://127.0.0.1:8080/x",
            "https://169.254.169.254/latest",
            "https://10.1.2.3/x",
            "https://[::1]:9/x",
            "https://[::ffff:7f00:1]/x",
            "https://2130706433/x",
            "https://0x7f.1/x",
            "https://localhost/x",
            "https://LocalHost./x",
            "https://a.localhost/x",
            "not a url",
        ] {
            assert!(!literal_is_public(url), "{url}");
        }
        for url in [
            "https://hooks.slack.com/services/x",
            "https://8.8.8.8/x",
            "https://[2606:4700::1111]/x",
        ] {
            assert!(literal_is_public(url), "{url}");
        }
    }

    #[tokio::test]
    async fn the_public_only_client_refuses_inside_addresses() {
        use reqwest::dns::Resolve;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let client = HttpClient::new_public_only().unwrap();
        for url in [
            format!("http://127.0.0.1:{port}/x"),
            format!("http://localhost:{port}/x"),
        ] {
            let e = client.post(&url, &[], Vec::new()).await.unwrap_err();
            assert!(e.message.contains(NOT_PUBLIC), "{url}: {}", e.message);
        }
        // A name that resolves to loopback, and is not localhost, is refused by the resolver.
        let e = PublicOnly
            .resolve("localhost".parse().unwrap())
            .await
            .err()
            .unwrap();
        assert_eq!(e.to_string(), NOT_PUBLIC);
        // Nothing ever connected.
        let accepted = tokio::time::timeout(Duration::from_millis(100), listener.accept()).await;
        assert!(accepted.is_err(), "the public-only client connected inside");
    }
}
