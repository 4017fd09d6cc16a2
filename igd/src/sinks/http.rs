//! The HTTP client every sink posts with: rustls (ring) and the system's roots, no redirects
//! (a receiver cannot bounce signed payloads or keys to another host), a bounded time per
//! request and a bounded answer.

use super::SinkError;
use std::time::Duration;

/// The longest one delivery may take, connection included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// The most bytes of a receiver's answer igd reads (for error messages and token replies).
const MAX_ANSWER: usize = 64 * 1024;
/// The longest `Retry-After` honoured (a receiver asking for more is asked again then).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// A shared client (one connection pool for every sink).
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
}

/// A receiver's answer with a 2xx status.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

impl HttpClient {
    pub fn new() -> Result<Self, String> {
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
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("intentgate-igd/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(HttpClient { client })
    }

    /// POST `body` with `headers`; a 2xx answer is `Ok`, anything else a [`SinkError`] that
    /// carries the status, the start of the answer and any `Retry-After`.
    pub async fn post(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> Result<Answer, SinkError> {
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
}
