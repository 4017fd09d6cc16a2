//! The SIEM sinks (DESIGN §8): Splunk HTTP Event Collector, Datadog Logs and Microsoft
//! Sentinel through the Logs Ingestion API. Each one is a [`Sink`]; the outbox hands it entries
//! past its cursor and retries a failed batch whole, so every event carries the entry's
//! `event_id` and a SIEM deduplicates a retried delivery by it.
//!
//! A batch is split into as many requests as the vendor's documented limits need (entries per
//! request and bytes per request). An entry too large for one request is never skipped: where
//! the vendor truncates it is sent whole, where it would be rejected the delivery fails with a
//! last error that names the entry, and the outbox keeps it (and the lag grows, alarmed).

mod datadog;
mod sentinel;
mod splunk;

pub use datadog::DatadogSink;
pub use sentinel::SentinelSink;
pub use splunk::SplunkSink;

use super::http::HttpClient;
use super::Sink;
use crate::ops_settings::{SiemEvents, SinkSettings};
use intentgate_proto::audit::Entry;
use std::sync::Arc;

/// The SIEM sinks the settings configure (none, one or all three), sharing `client`.
pub fn configured(sinks: &SinkSettings, client: &HttpClient) -> Vec<Arc<dyn Sink>> {
    let events = Events::from(sinks.siem_events);
    let mut out: Vec<Arc<dyn Sink>> = Vec::new();
    if let Some(s) = &sinks.splunk {
        out.push(Arc::new(SplunkSink::new(s, events, client.clone())));
    }
    if let Some(s) = &sinks.datadog {
        out.push(Arc::new(DatadogSink::new(s, events, client.clone())));
    }
    if let Some(s) = &sinks.sentinel {
        out.push(Arc::new(SentinelSink::new(s, events, client.clone())));
    }
    out
}

/// Which entries a SIEM sink delivers (`INTENTGATE_SIEM_EVENTS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Events {
    findings_only: bool,
}

impl Events {
    pub const ALL: Events = Events {
        findings_only: false,
    };
    pub const FINDINGS: Events = Events {
        findings_only: true,
    };

    pub fn wants(self, entry: &Entry) -> bool {
        !self.findings_only || super::is_finding(entry)
    }
}

impl From<Option<SiemEvents>> for Events {
    fn from(v: Option<SiemEvents>) -> Self {
        match v {
            Some(SiemEvents::Findings) => Events::FINDINGS,
            Some(SiemEvents::All) | None => Events::ALL,
        }
    }
}

/// How a vendor frames several events in one request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// A JSON array: `[a,b,c]`.
    JsonArray,
    /// One JSON document per line: `a\nb\nc\n`.
    Lines,
}

impl Framing {
    /// The bytes of a body holding `count` events of `payload` bytes in all.
    fn body_len(self, count: usize, payload: usize) -> usize {
        match self {
            Framing::JsonArray => payload + count.saturating_sub(1) + 2,
            Framing::Lines => payload + count,
        }
    }
}

/// A vendor's documented ceiling for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_events: usize,
    pub max_bytes: usize,
}

/// Pack serialized events into request bodies, in order, each within `limits`; an event that
/// alone exceeds `max_bytes` gets a body of its own (the caller decides beforehand whether the
/// vendor accepts it).
pub fn pack(events: Vec<Vec<u8>>, framing: Framing, limits: Limits) -> Vec<Vec<u8>> {
    let mut bodies = Vec::new();
    let mut current: Vec<Vec<u8>> = Vec::new();
    let mut payload = 0usize;
    for event in events {
        let grown = framing.body_len(current.len() + 1, payload + event.len());
        if !current.is_empty() && (current.len() >= limits.max_events || grown > limits.max_bytes) {
            bodies.push(frame(std::mem::take(&mut current), framing));
            payload = 0;
        }
        payload += event.len();
        current.push(event);
    }
    if !current.is_empty() {
        bodies.push(frame(current, framing));
    }
    bodies
}

fn frame(events: Vec<Vec<u8>>, framing: Framing) -> Vec<u8> {
    let payload: usize = events.iter().map(Vec::len).sum();
    let mut body = Vec::with_capacity(framing.body_len(events.len(), payload));
    match framing {
        Framing::JsonArray => {
            body.push(b'[');
            for (i, e) in events.iter().enumerate() {
                if i > 0 {
                    body.push(b',');
                }
                body.extend_from_slice(e);
            }
            body.push(b']');
        }
        Framing::Lines => {
            for e in &events {
                body.extend_from_slice(e);
                body.push(b'\n');
            }
        }
    }
    body
}

/// The one framed body of a single event (to compare with a vendor's per-request ceiling).
pub fn framed_len(event: &[u8], framing: Framing) -> usize {
    framing.body_len(1, event.len())
}

/// How an entry is named in an error: `tenant#seq (event_id)`.
pub fn entry_label(entry: &Entry) -> String {
    format!("{}#{} ({})", entry.tenant, entry.seq, entry.event_id)
}

/// An entry's `ts` (µs since the epoch) as whole seconds and microseconds, the sign apart.
fn split_micros(ts: i64) -> (bool, u64, u64) {
    let abs = ts.unsigned_abs();
    (ts < 0, abs / 1_000_000, abs % 1_000_000)
}

/// `ts` as decimal seconds with six fraction digits (`1754650000.123456`), exactly.
pub fn epoch_seconds(ts: i64) -> String {
    let (negative, secs, micros) = split_micros(ts);
    let sign = if negative { "-" } else { "" };
    format!("{sign}{secs}.{micros:06}")
}

/// `ts` as RFC 3339 UTC with microseconds (`2026-08-08T12:00:00.123456Z`); `None` outside the
/// years the calendar type covers (never for a real entry).
pub fn rfc3339_micros(ts: i64) -> Option<String> {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ts) * 1000).ok()?;
    Some(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.microsecond()
    ))
}

/// `application/x-www-form-urlencoded` for one value: unreserved bytes as they are, every
/// other byte `%XX` (so a secret with `&`, `=` or `+` reaches the token endpoint intact).
pub fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'*') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A form body from `pairs`.
pub fn form_body(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(bodies: &[Vec<u8>]) -> Vec<usize> {
        bodies.iter().map(Vec::len).collect()
    }

    #[test]
    fn pack_respects_the_count_limit() {
        let events: Vec<Vec<u8>> = (0..2500).map(|i| format!("{{\"i\":{i}}}").into()).collect();
        let limits = Limits {
            max_events: 1000,
            max_bytes: usize::MAX,
        };
        let bodies = pack(events, Framing::JsonArray, limits);
        assert_eq!(bodies.len(), 3);
        let counts: Vec<usize> = bodies
            .iter()
            .map(|b| {
                serde_json::from_slice::<Vec<serde_json::Value>>(b)
                    .map(|v| v.len())
                    .unwrap_or(0)
            })
            .collect();
        assert_eq!(counts, vec![1000, 1000, 500]);
    }

    #[test]
    fn pack_respects_the_byte_limit_exactly() {
        // Ten events of 10 bytes: a JSON array of n of them is 11n + 1 bytes.
        let events: Vec<Vec<u8>> = (0..10).map(|_| b"\"12345678\"".to_vec()).collect();
        let limits = Limits {
            max_events: 100,
            max_bytes: 34, // 3 events (34 bytes) fit, 4 (45) do not
        };
        let bodies = pack(events.clone(), Framing::JsonArray, limits);
        assert_eq!(sizes(&bodies), vec![34, 34, 34, 12]);
        for b in &bodies {
            assert!(serde_json::from_slice::<Vec<String>>(b).is_ok());
        }
        // As lines, an event costs 11 bytes: 3 per 33-byte body.
        let lines = pack(
            events,
            Framing::Lines,
            Limits {
                max_events: 100,
                max_bytes: 33,
            },
        );
        assert_eq!(sizes(&lines), vec![33, 33, 33, 11]);
    }

    #[test]
    fn an_oversized_event_travels_alone_and_nothing_is_lost() {
        let big = vec![b'x'; 100];
        let events = vec![b"1".to_vec(), big.clone(), b"2".to_vec(), b"3".to_vec()];
        let limits = Limits {
            max_events: 10,
            max_bytes: 20,
        };
        let bodies = pack(events, Framing::Lines, limits);
        assert_eq!(bodies.len(), 3);
        assert_eq!(bodies[0], b"1\n");
        assert_eq!(bodies[1].len(), 101);
        assert_eq!(bodies[2], b"2\n3\n");
        assert!(pack(Vec::new(), Framing::Lines, limits).is_empty());
    }

    #[test]
    fn times_are_exact() {
        assert_eq!(epoch_seconds(1_754_650_000_123_456), "1754650000.123456");
        assert_eq!(epoch_seconds(5), "0.000005");
        assert_eq!(epoch_seconds(-1), "-0.000001");
        assert_eq!(
            rfc3339_micros(1_754_650_000_123_456).as_deref(),
            Some("2025-08-08T10:46:40.123456Z")
        );
        assert_eq!(
            rfc3339_micros(0).as_deref(),
            Some("1970-01-01T00:00:00.000000Z")
        );
    }

    #[test]
    fn form_values_are_percent_encoded() {
        assert_eq!(
            form_encode("https://monitor.azure.com//.default"),
            "https%3A%2F%2Fmonitor.azure.com%2F%2F.default"
        );
        assert_eq!(form_encode("a b&c=d+é~"), "a%20b%26c%3Dd%2B%C3%A9%7E");
        assert_eq!(
            form_body(&[("grant_type", "client_credentials"), ("x", "1&2")]),
            "grant_type=client_credentials&x=1%262"
        );
    }

    #[test]
    fn findings_mode_filters() {
        let decision = |d: &str| Entry {
            kind: "decision".into(),
            decision: Some(d.into()),
            ..Entry::default()
        };
        assert!(Events::ALL.wants(&decision("allow")));
        assert!(!Events::FINDINGS.wants(&decision("allow")));
        assert!(Events::FINDINGS.wants(&decision("block")));
        assert!(Events::FINDINGS.wants(&decision("escalate")));
        let outcome = Entry {
            kind: "outcome".into(),
            ..Entry::default()
        };
        assert!(!Events::FINDINGS.wants(&outcome));
        assert_eq!(Events::from(Some(SiemEvents::Findings)), Events::FINDINGS);
        assert_eq!(Events::from(None), Events::ALL);
    }
}
