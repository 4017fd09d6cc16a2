//! Splunk HTTP Event Collector (`INTENTGATE_SIEM_SPLUNK_*`): events in HEC's JSON envelope,
//! one per line, to the `/services/collector/event` endpoint, with `Authorization: Splunk
//! <token>`. HEC's answer is checked: a 2xx is a delivery only when its JSON says `code` 0.
//! That 200 means HEC accepted the events, not that an indexer stored them (indexer
//! acknowledgement is not used: Splunk Cloud does not offer it for HEC); retries plus the
//! `event_id` in every event make the delivery at least once and deduplicable.

use super::{entry_label, epoch_seconds, framed_len, pack, Events, Framing, Limits};
use crate::ops_settings::SplunkSettings;
use crate::sinks::http::HttpClient;
use crate::sinks::{Sink, SinkError};
use async_trait::async_trait;
use intentgate_proto::audit::Entry;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// One request's ceiling: HEC's `max_content_length` has been 1 MB by default (and still is
/// the conservative bound for Splunk Cloud); an event larger than that is sent alone and HEC's
/// own answer (413) becomes the last error.
const LIMITS: Limits = Limits {
    max_events: 500,
    max_bytes: 1_000_000,
};

#[derive(Debug)]
pub struct SplunkSink {
    url: String,
    auth: crate::config::Secret,
    index: Option<String>,
    events: Events,
    client: HttpClient,
}

/// HEC's event envelope.
#[derive(Serialize)]
struct Envelope<'a> {
    /// Seconds since the epoch with the entry's microseconds, written exactly.
    time: &'a RawValue,
    host: &'a str,
    source: &'static str,
    sourcetype: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<&'a str>,
    event: &'a Entry,
}

/// HEC's answer: `{"text":"Success","code":0}` on success.
#[derive(Deserialize)]
struct HecAnswer {
    code: Option<i64>,
    #[serde(default)]
    text: String,
}

impl SplunkSink {
    pub fn new(settings: &SplunkSettings, events: Events, client: HttpClient) -> Self {
        SplunkSink {
            url: settings.url.clone(),
            auth: crate::config::Secret::new(format!("Splunk {}", settings.token.expose())),
            index: settings.index.clone(),
            events,
            client,
        }
    }

    /// The envelope of one entry, serialized.
    fn envelope(&self, entry: &Entry) -> Result<Vec<u8>, SinkError> {
        let time = RawValue::from_string(epoch_seconds(entry.ts))
            .map_err(|e| SinkError::transient(format!("Splunk time of {}: {e}", entry.seq)))?;
        let env = Envelope {
            time: &time,
            host: &entry.instance,
            source: "intentgate",
            sourcetype: "_json",
            index: self.index.as_deref(),
            event: entry,
        };
        serde_json::to_vec(&env)
            .map_err(|e| SinkError::transient(format!("cannot encode {}: {e}", entry_label(entry))))
    }
}

/// Whether HEC's 2xx answer acknowledges the events; a non-zero code (or no JSON answer at
/// all, as from a proxy that is not HEC) is a failure.
fn check_answer(body: &[u8]) -> Result<(), SinkError> {
    let answer: HecAnswer = serde_json::from_slice(body).map_err(|_| SinkError {
        message: format!(
            "Splunk HEC answered 2xx without its JSON acknowledgement ({:?}); is the URL the \
             /services/collector/event endpoint?",
            String::from_utf8_lossy(&body[..body.len().min(120)])
        ),
        retry_after: None,
        refused: true,
    })?;
    match answer.code {
        Some(0) => Ok(()),
        code => Err(SinkError {
            message: format!(
                "Splunk HEC answered code {}: {}",
                code.map_or_else(|| "none".to_string(), |c| c.to_string()),
                answer.text
            ),
            retry_after: None,
            // 8 (internal error) and 9 (server busy) pass; the others name a setting to fix.
            refused: !matches!(code, Some(8) | Some(9)),
        }),
    }
}

#[async_trait]
impl Sink for SplunkSink {
    fn name(&self) -> &str {
        "splunk"
    }

    fn kind(&self) -> &'static str {
        "splunk"
    }

    fn wants(&self, entry: &Entry) -> bool {
        self.events.wants(entry)
    }

    fn max_batch(&self) -> usize {
        LIMITS.max_events
    }

    async fn deliver(&self, entries: &[Entry]) -> Result<(), SinkError> {
        let mut events = Vec::with_capacity(entries.len());
        // Entries over the request ceiling, in order: each travels alone, and if HEC refuses
        // it (413 beyond its max_content_length) the last error names it.
        let mut oversized = std::collections::VecDeque::new();
        for entry in entries {
            let env = self.envelope(entry)?;
            if framed_len(&env, Framing::Lines) > LIMITS.max_bytes {
                oversized.push_back(format!(
                    "audit entry {} is {} bytes, sent alone (raise [http_input] \
                     max_content_length if HEC refuses it)",
                    entry_label(entry),
                    env.len()
                ));
            }
            events.push(env);
        }
        let headers = [
            ("authorization", self.auth.expose().to_string()),
            ("content-type", "application/json".to_string()),
        ];
        for body in pack(events, Framing::Lines, LIMITS) {
            let alone = if body.len() > LIMITS.max_bytes {
                oversized.pop_front()
            } else {
                None
            };
            let answer = self
                .client
                .post(&self.url, &headers, body)
                .await
                .map_err(|e| SinkError {
                    message: match &alone {
                        Some(note) => format!("Splunk HEC: {}; {note}", e.message),
                        None => format!("Splunk HEC: {}", e.message),
                    },
                    ..e
                })?;
            check_answer(&answer.body)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_checked() {
        assert!(check_answer(br#"{"text":"Success","code":0}"#).is_ok());
        let busy = check_answer(br#"{"text":"Server is busy","code":9}"#).unwrap_err();
        assert!(!busy.refused && busy.message.contains("Server is busy"));
        let index = check_answer(br#"{"text":"Incorrect index","code":7}"#).unwrap_err();
        assert!(index.refused && index.message.contains("code 7"));
        assert!(check_answer(b"<html>ok</html>").unwrap_err().refused);
        assert!(check_answer(b"{}").is_err());
    }

    /// A one-shot receiver answering `status` with `body`; returns its URL.
    fn one_answer(status: u16, body: &'static str) -> String {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            // The whole request (head, then Content-Length bytes), then the answer.
            let mut raw = Vec::new();
            let mut buf = vec![0u8; 1 << 16];
            let mut need = usize::MAX;
            while raw.len() < need {
                let n = s.read(&mut buf).unwrap();
                assert!(n > 0, "the client hung up");
                raw.extend_from_slice(&buf[..n]);
                if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
                    let len = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap();
                    need = end + 4 + len;
                }
            }
            let head = format!(
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            s.write_all(head.as_bytes()).unwrap();
            s.write_all(body.as_bytes()).unwrap();
        });
        format!("http://{addr}/services/collector/event")
    }

    #[tokio::test]
    async fn an_entry_hec_refuses_as_too_large_is_named() {
        let url = one_answer(
            413,
            r#"{"text":"Content-Length of 1200000 too large (maximum is 1000000)","code":27}"#,
        );
        let sink = SplunkSink::new(
            &SplunkSettings {
                url,
                token: crate::config::Secret::new("t".into()),
                index: None,
            },
            Events::ALL,
            HttpClient::new().unwrap(),
        );
        let entry = Entry {
            tenant: "acme".into(),
            seq: 4,
            kind: "decision".into(),
            event_id: "e".repeat(32),
            reason: Some("r".repeat(1_200_000)),
            ..Entry::default()
        };
        let err = sink.deliver(&[entry]).await.unwrap_err();
        assert!(err.refused, "{}", err.message);
        assert!(
            err.message.contains("HTTP 413") && err.message.contains("acme#4"),
            "{}",
            err.message
        );
    }

    #[test]
    fn the_envelope_carries_time_host_and_the_entry() {
        let sink = SplunkSink::new(
            &SplunkSettings {
                url: "https://hec.example/services/collector/event".into(),
                token: crate::config::Secret::new("t".into()),
                index: Some("sec".into()),
            },
            Events::ALL,
            HttpClient::new().unwrap(),
        );
        let entry = Entry {
            tenant: "acme".into(),
            seq: 3,
            kind: "decision".into(),
            event_id: "e".repeat(32),
            ts: 1_754_650_000_000_001,
            instance: "igd-1".into(),
            ..Entry::default()
        };
        let bytes = sink.envelope(&entry).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert!(
            text.starts_with(r#"{"time":1754650000.000001,"host":"igd-1""#),
            "{text}"
        );
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["source"], "intentgate");
        assert_eq!(v["sourcetype"], "_json");
        assert_eq!(v["index"], "sec");
        assert_eq!(v["event"]["event_id"], entry.event_id);
        assert_eq!(v["event"]["seq"], 3);
    }
}
