//! The signed webhook (`INTENTGATE_WEBHOOK_*`, DESIGN §8), per Standard Webhooks: one finding
//! per request, `{"type":"intentgate.<class>","timestamp":<RFC 3339>,"data":<the entry>}`,
//! with `webhook-id` (the entry's `event_id`, the same on every retry so receivers deduplicate),
//! `webhook-timestamp` (unix seconds of this attempt) and `webhook-signature`
//! (`v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`).
//!
//! Which entries: those with a class (`sinks::classes`) among `INTENTGATE_WEBHOOK_EVENTS`; the
//! body's class is the entry's primary one. Failures are the outbox's: retried with backoff,
//! never dropped (a 410 Gone included: the sink shows `refused` and keeps trying at the
//! longest wait, for an operator to fix the URL).

use super::http::HttpClient;
use super::{classes, Sink, SinkError};
use crate::ops_settings::{WebhookEvent, WebhookSettings};
use async_trait::async_trait;
use base64::Engine;
use hmac::{Hmac, Mac};
use intentgate_proto::audit::Entry;
use serde::Serialize;
use sha2::Sha256;
use zeroize::Zeroizing;

/// The signing key's raw bytes (the base64-decoded secret); never printed.
struct SigningKey(Zeroizing<Vec<u8>>);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The webhook sink.
#[derive(Debug)]
pub struct WebhookSink {
    url: String,
    key: SigningKey,
    events: Vec<WebhookEvent>,
    client: HttpClient,
}

/// The body of one request.
#[derive(Serialize)]
struct Envelope<'a> {
    #[serde(rename = "type")]
    kind: String,
    timestamp: String,
    data: &'a Entry,
}

impl WebhookSink {
    /// From the settings (the secret is kept there as base64 text, without `whsec_`).
    pub fn new(settings: &WebhookSettings, client: HttpClient) -> Result<WebhookSink, String> {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(settings.secret.expose())
            .map_err(|_| "INTENTGATE_WEBHOOK_SECRET is not base64".to_string())?;
        Ok(WebhookSink {
            url: settings.url.clone(),
            key: SigningKey(Zeroizing::new(raw)),
            events: settings.events.clone(),
            client,
        })
    }

    /// The request body for `entry`.
    pub fn body(entry: &Entry) -> Result<Vec<u8>, SinkError> {
        let class = classes(entry)
            .first()
            .map_or("audit", |c| c.as_str())
            .to_string();
        let envelope = Envelope {
            kind: format!("intentgate.{class}"),
            timestamp: crate::clock::rfc3339(entry.ts),
            data: entry,
        };
        serde_json::to_vec(&envelope)
            .map_err(|e| SinkError::transient(format!("cannot encode entry: {e}")))
    }
}

/// `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`.
pub fn sign(key: &[u8], id: &str, timestamp: u64, body: &[u8]) -> String {
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let tag = mac.finalize().into_bytes();
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(tag)
    )
}

#[async_trait]
impl Sink for WebhookSink {
    fn name(&self) -> &str {
        "webhook"
    }

    fn kind(&self) -> &'static str {
        "webhook"
    }

    fn wants(&self, entry: &Entry) -> bool {
        classes(entry).iter().any(|c| self.events.contains(c))
    }

    /// One event per request, and the cursor moves after each: a crash between a delivery and
    /// its cursor update repeats at most one event.
    fn max_batch(&self) -> usize {
        1
    }

    async fn deliver(&self, entries: &[Entry]) -> Result<(), SinkError> {
        for entry in entries {
            let body = Self::body(entry)?;
            let timestamp = crate::clock::now_secs();
            let signature = sign(&self.key.0, &entry.event_id, timestamp, &body);
            let headers = [
                ("webhook-id", entry.event_id.clone()),
                ("webhook-timestamp", timestamp.to_string()),
                ("webhook-signature", signature),
                ("content-type", "application/json".to_string()),
            ];
            self.client.post(&self.url, &headers, body).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Standard Webhooks specification's published vector: a receiver's library accepts
    /// what igd signs only if this reproduces exactly.
    #[test]
    fn signature_matches_the_standard_webhooks_vector() {
        let key = base64::engine::general_purpose::STANDARD
            .decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .unwrap_or_default();
        assert_eq!(
            sign(
                &key,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn body_names_the_primary_class() {
        let entry = Entry {
            tenant: "acme".into(),
            kind: "decision".into(),
            decision: Some("escalate".into()),
            requires_step_up: Some(true),
            event_id: "e1".into(),
            ts: 1_700_000_000_000_000,
            ..Entry::default()
        };
        let body: serde_json::Value =
            serde_json::from_slice(&WebhookSink::body(&entry).unwrap_or_default())
                .unwrap_or_default();
        assert_eq!(body["type"], "intentgate.escalate");
        assert_eq!(body["timestamp"], "2023-11-14T22:13:20Z");
        assert_eq!(body["data"]["event_id"], "e1");
        assert_eq!(body["data"]["requires_step_up"], true);
    }
}
