//! Microsoft Sentinel through Azure Monitor's Logs Ingestion API
//! (`INTENTGATE_SIEM_SENTINEL_*`): a JSON array of flat records to
//! `{endpoint}/dataCollectionRules/{dcr}/streams/{stream}?api-version=2023-01-01`, with a
//! bearer token from the OAuth2 client-credentials flow (scope
//! `https://monitor.azure.com//.default`). The legacy HTTP Data Collector API is retired and
//! not used.
//!
//! A record is the entry's columns plus `TimeGenerated` (RFC 3339 from `ts`); the data
//! collection rule's stream declares them (README, "SIEM sinks"). One call carries at most
//! 1 MB; a record that alone exceeds it cannot be ingested and is refused by name.
//!
//! The token is cached until shortly before it expires, and dropped when the endpoint answers
//! 401 or 403 (after a 401 the call is tried once more with a fresh token at once).

use super::{entry_label, form_body, framed_len, pack, rfc3339_micros, Events, Framing, Limits};
use crate::config::Secret;
use crate::ops_settings::SentinelSettings;
use crate::sinks::http::HttpClient;
use crate::sinks::{Sink, SinkError};
use async_trait::async_trait;
use intentgate_proto::audit::Entry;
use std::time::{Duration, Instant};

/// One call: 1 MB (the Logs Ingestion API's limit per call).
const LIMITS: Limits = Limits {
    max_events: 500,
    max_bytes: 1_000_000,
};

/// The audience of Azure Monitor's ingestion endpoints.
const SCOPE: &str = "https://monitor.azure.com//.default";
const API_VERSION: &str = "2023-01-01";
/// How long before its expiry a token is replaced (at most a fifth of its lifetime).
const TOKEN_MARGIN: Duration = Duration::from_secs(300);

#[derive(Debug)]
pub struct SentinelSink {
    ingest_url: String,
    token_url: String,
    client_id: String,
    client_secret: Secret,
    events: Events,
    client: HttpClient,
    token: tokio::sync::Mutex<Option<Token>>,
}

#[derive(Debug)]
struct Token {
    bearer: Secret,
    renew_at: Instant,
}

/// The token endpoint's answer (`expires_in` is a number, or a string on Entra's v1 endpoint).
#[derive(serde::Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: serde_json::Value,
    #[serde(default)]
    token_type: Option<String>,
}

impl SentinelSink {
    pub fn new(settings: &SentinelSettings, events: Events, client: HttpClient) -> Self {
        let ingest_url = format!(
            "{}/dataCollectionRules/{}/streams/{}?api-version={API_VERSION}",
            settings.endpoint.trim_end_matches('/'),
            settings.dcr_id,
            settings.stream
        );
        SentinelSink {
            ingest_url,
            token_url: settings.token_url.clone(),
            client_id: settings.client_id.clone(),
            client_secret: settings.client_secret.clone(),
            events,
            client,
            token: tokio::sync::Mutex::new(None),
        }
    }

    /// A bearer token: the cached one while it is fresh, else a new one from the token endpoint.
    async fn bearer(&self) -> Result<Secret, SinkError> {
        let mut cached = self.token.lock().await;
        if let Some(t) = cached.as_ref().filter(|t| Instant::now() < t.renew_at) {
            return Ok(t.bearer.clone());
        }
        let token = self.fetch_token().await?;
        let bearer = token.bearer.clone();
        *cached = Some(token);
        Ok(bearer)
    }

    async fn forget_token(&self) {
        *self.token.lock().await = None;
    }

    async fn fetch_token(&self) -> Result<Token, SinkError> {
        let body = form_body(&[
            ("grant_type", "client_credentials"),
            ("client_id", &self.client_id),
            ("client_secret", self.client_secret.expose()),
            ("scope", SCOPE),
        ]);
        let headers = [(
            "content-type",
            "application/x-www-form-urlencoded".to_string(),
        )];
        let started = Instant::now();
        let answer = self
            .client
            .post(&self.token_url, &headers, body.into_bytes())
            .await
            .map_err(|e| SinkError {
                message: format!("Sentinel token endpoint: {}", e.message),
                ..e
            })?;
        parse_token(&answer.body, started)
    }

    /// Every entry as a record, in calls of at most 1 MB.
    pub fn bodies(&self, entries: &[Entry]) -> Result<Vec<Vec<u8>>, SinkError> {
        let mut records = Vec::with_capacity(entries.len());
        for entry in entries {
            let record = record(entry)?;
            if framed_len(&record, Framing::JsonArray) > LIMITS.max_bytes {
                return Err(SinkError {
                    message: format!(
                        "audit entry {} is {} bytes as a Sentinel record, over the Logs \
                         Ingestion API's 1 MB per call; it stays undelivered",
                        entry_label(entry),
                        record.len()
                    ),
                    retry_after: None,
                    refused: true,
                });
            }
            records.push(record);
        }
        Ok(pack(records, Framing::JsonArray, LIMITS))
    }

    /// One call; after a 401 once more with a fresh token.
    async fn ingest(&self, body: Vec<u8>) -> Result<(), SinkError> {
        let mut retried = false;
        loop {
            let bearer = self.bearer().await?;
            let headers = [
                ("authorization", format!("Bearer {}", bearer.expose())),
                ("content-type", "application/json".to_string()),
            ];
            match self
                .client
                .post(&self.ingest_url, &headers, body.clone())
                .await
            {
                Ok(_) => return Ok(()),
                Err(e) => {
                    // The status, as `HttpClient::post` words every non-2xx answer.
                    let unauthorized = e.message.starts_with("HTTP 401");
                    if unauthorized || e.message.starts_with("HTTP 403") {
                        // Expired or revoked, or a role assigned since: a new token may do.
                        self.forget_token().await;
                    }
                    if unauthorized && !retried {
                        retried = true;
                        continue;
                    }
                    return Err(SinkError {
                        message: format!("Sentinel ingestion: {}", e.message),
                        ..e
                    });
                }
            }
        }
    }
}

/// The flat record of one entry: its columns as they are, plus `TimeGenerated`.
fn record(entry: &Entry) -> Result<Vec<u8>, SinkError> {
    let encode = |e: &dyn std::fmt::Display| {
        SinkError::transient(format!("cannot encode {}: {e}", entry_label(entry)))
    };
    let mut columns = match serde_json::to_value(entry).map_err(|e| encode(&e))? {
        serde_json::Value::Object(m) => m,
        _ => return Err(encode(&"not an object")),
    };
    let generated = rfc3339_micros(entry.ts).ok_or_else(|| encode(&"ts out of range"))?;
    columns.insert("TimeGenerated".into(), generated.into());
    serde_json::to_vec(&columns).map_err(|e| encode(&e))
}

/// A token answer: the access token (printable ASCII, as a header needs) and when to renew it.
fn parse_token(body: &[u8], started: Instant) -> Result<Token, SinkError> {
    let refused = |what: &str| SinkError {
        message: format!("Sentinel token endpoint: {what}"),
        retry_after: None,
        refused: true,
    };
    let answer: TokenAnswer =
        serde_json::from_slice(body).map_err(|_| refused("the answer is not a token answer"))?;
    if let Some(kind) = &answer.token_type {
        if !kind.eq_ignore_ascii_case("bearer") {
            return Err(refused(&format!("token_type {kind:?} is not Bearer")));
        }
    }
    let printable = !answer.access_token.is_empty()
        && answer
            .access_token
            .bytes()
            .all(|b| (0x21..0x7f).contains(&b));
    if !printable {
        return Err(refused("access_token is empty or not printable ASCII"));
    }
    let lifetime = match &answer.expires_in {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    }
    .ok_or_else(|| refused("expires_in is missing or not a number of seconds"))?;
    let lifetime = Duration::from_secs(lifetime);
    let margin = TOKEN_MARGIN.min(lifetime / 5);
    Ok(Token {
        bearer: Secret::new(answer.access_token),
        renew_at: started + lifetime.saturating_sub(margin),
    })
}

#[async_trait]
impl Sink for SentinelSink {
    fn name(&self) -> &str {
        "sentinel"
    }

    fn kind(&self) -> &'static str {
        "sentinel"
    }

    fn wants(&self, entry: &Entry) -> bool {
        self.events.wants(entry)
    }

    fn max_batch(&self) -> usize {
        LIMITS.max_events
    }

    async fn deliver(&self, entries: &[Entry]) -> Result<(), SinkError> {
        for body in self.bodies(entries)? {
            self.ingest(body).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_flat_with_time_generated() {
        let entry = Entry {
            v: 1,
            tenant: "acme".into(),
            seq: 7,
            kind: "decision".into(),
            event_id: "a".repeat(32),
            ts: 1_754_650_000_000_042,
            instance: "igd-1".into(),
            jti_chain: Some(vec!["b".repeat(32)]),
            requires_step_up: Some(true),
            prev_hash: "0".repeat(64),
            hash: "1".repeat(64),
            ..Entry::default()
        };
        let v: serde_json::Value = serde_json::from_slice(&record(&entry).unwrap()).unwrap();
        assert_eq!(v["TimeGenerated"], "2025-08-08T10:46:40.000042Z");
        assert_eq!(v["event_id"], entry.event_id);
        assert_eq!(v["seq"], 7);
        assert_eq!(v["requires_step_up"], true);
        assert_eq!(v["jti_chain"][0], "b".repeat(32));
        assert!(v.get("subject").is_none(), "absent columns are left out");
    }

    #[test]
    fn token_answers() {
        let now = Instant::now();
        let t = parse_token(
            br#"{"access_token":"abc.def","expires_in":3599,"token_type":"Bearer"}"#,
            now,
        )
        .unwrap();
        assert_eq!(t.bearer.expose(), "abc.def");
        assert_eq!(t.renew_at, now + Duration::from_secs(3599 - 300));
        // Entra's v1 endpoint sends a string; a short lifetime keeps four fifths.
        let t = parse_token(br#"{"access_token":"x","expires_in":"100"}"#, now).unwrap();
        assert_eq!(t.renew_at, now + Duration::from_secs(80));
        for bad in [
            &br#"{"access_token":"x","expires_in":10,"token_type":"mac"}"#[..],
            br#"{"access_token":"a b","expires_in":10}"#,
            br#"{"access_token":"x"}"#,
            br#"{"error":"invalid_client"}"#,
        ] {
            assert!(parse_token(bad, now).unwrap_err().refused);
        }
    }

    #[test]
    fn calls_stay_under_one_megabyte() {
        let sink = SentinelSink::new(
            &SentinelSettings {
                endpoint: "https://dce.example.ingest.monitor.azure.com/".into(),
                dcr_id: "dcr-1".into(),
                stream: "Custom-IntentGate".into(),
                tenant_id: "t".into(),
                client_id: "c".into(),
                client_secret: Secret::new("s".into()),
                token_url: "https://login.example/t/oauth2/v2.0/token".into(),
            },
            Events::ALL,
            HttpClient::new().unwrap(),
        );
        assert_eq!(
            sink.ingest_url,
            "https://dce.example.ingest.monitor.azure.com/dataCollectionRules/dcr-1/streams/Custom-IntentGate?api-version=2023-01-01"
        );
        let entry = |seq: u64, reason: usize| Entry {
            tenant: "acme".into(),
            seq,
            kind: "decision".into(),
            event_id: format!("{seq:032x}"),
            reason: Some("r".repeat(reason)),
            ..Entry::default()
        };
        let entries: Vec<Entry> = (1..=5).map(|i| entry(i, 300_000)).collect();
        let bodies = sink.bodies(&entries).unwrap();
        assert_eq!(bodies.len(), 2);
        assert!(bodies.iter().all(|b| b.len() <= 1_000_000));
        let err = sink.bodies(&[entry(9, 1_100_000)]).unwrap_err();
        assert!(
            err.refused && err.message.contains("acme#9"),
            "{}",
            err.message
        );
    }
}
