//! Datadog Logs (`INTENTGATE_SIEM_DATADOG_*`): a JSON array of logs to the v2 intake
//! (`https://http-intake.logs.<site>/api/v2/logs`) with the `DD-API-KEY` header. Each log has
//! Datadog's reserved attributes (`ddsource`, `service`, `hostname`, `ddtags`, `message`,
//! `status`, `timestamp`) and the whole entry under `audit`.
//!
//! Limits per request (Datadog's "Send logs"): 5 MB uncompressed, 1,000 logs, 1 MB per log
//! (a larger log is accepted and truncated, so it is sent whole). Logs older than 18 hours are
//! not accepted under their own timestamp, so an entry delivered late (after an outage) goes
//! without `timestamp`: Datadog files it at intake time and `audit.ts` keeps when it happened.

use super::{entry_label, framed_len, pack, Events, Framing, Limits};
use crate::ops_settings::DatadogSettings;
use crate::sinks::http::HttpClient;
use crate::sinks::{Sink, SinkError};
use async_trait::async_trait;
use intentgate_proto::audit::Entry;
use serde::Serialize;

/// 5 MB and 1,000 logs per request, as Datadog documents them.
const LIMITS: Limits = Limits {
    max_events: 1000,
    max_bytes: 5_000_000,
};

/// How old a log may be and still carry its own timestamp (Datadog: 18 h; an hour of slack
/// for clocks and time in flight).
const MAX_TIMESTAMP_AGE_MS: i64 = 17 * 3600 * 1000;

/// The longest reason or tool name quoted in `message` (the entry under `audit` has it all).
const MESSAGE_FIELD_CHARS: usize = 200;

#[derive(Debug)]
pub struct DatadogSink {
    url: String,
    api_key: crate::config::Secret,
    /// The configured tags, normalized, appended to every log's own.
    tags: Vec<String>,
    events: Events,
    client: HttpClient,
}

/// One Datadog log.
#[derive(Serialize)]
struct Log<'a> {
    ddsource: &'static str,
    service: &'static str,
    hostname: &'a str,
    ddtags: String,
    message: String,
    status: &'static str,
    /// Milliseconds since the epoch (absent when too old for Datadog to accept).
    #[serde(skip_serializing_if = "Option::is_none")]
    timestamp: Option<i64>,
    audit: &'a Entry,
}

impl DatadogSink {
    pub fn new(settings: &DatadogSettings, events: Events, client: HttpClient) -> Self {
        let tags = settings
            .tags
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(tag_text)
            .collect();
        DatadogSink {
            url: settings.url.clone(),
            api_key: settings.api_key.clone(),
            tags,
            events,
            client,
        }
    }

    fn log(&self, entry: &Entry, now_ms: i64) -> Result<Vec<u8>, SinkError> {
        let mut tags = vec![
            format!("tenant:{}", tag_text(&entry.tenant)),
            format!("kind:{}", tag_text(&entry.kind)),
        ];
        if let Some(d) = &entry.decision {
            tags.push(format!("decision:{}", tag_text(d)));
        }
        tags.extend(self.tags.iter().cloned());
        let ms = entry.ts.div_euclid(1000);
        let log = Log {
            ddsource: "intentgate",
            service: "igd",
            hostname: &entry.instance,
            ddtags: tags.join(","),
            message: message(entry),
            status: status(entry),
            timestamp: (now_ms.saturating_sub(ms) < MAX_TIMESTAMP_AGE_MS).then_some(ms),
            audit: entry,
        };
        serde_json::to_vec(&log)
            .map_err(|e| SinkError::transient(format!("cannot encode {}: {e}", entry_label(entry))))
    }

    /// Every entry as a log, in request bodies within Datadog's limits.
    pub fn bodies(&self, entries: &[Entry], now_ms: i64) -> Result<Vec<Vec<u8>>, SinkError> {
        let mut logs = Vec::with_capacity(entries.len());
        for entry in entries {
            let log = self.log(entry, now_ms)?;
            if framed_len(&log, Framing::JsonArray) > LIMITS.max_bytes {
                // Datadog would answer 413 for any request holding it: say which entry.
                return Err(SinkError {
                    message: format!(
                        "audit entry {} is {} bytes as a Datadog log, over Datadog's 5 MB \
                         request limit; it stays undelivered",
                        entry_label(entry),
                        log.len()
                    ),
                    retry_after: None,
                    refused: true,
                });
            }
            logs.push(log);
        }
        Ok(pack(logs, Framing::JsonArray, LIMITS))
    }
}

/// A tag value as Datadog keeps it: `,` separates tags, so anything outside Datadog's tag
/// alphabet becomes `_`.
fn tag_text(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '_' | '-' | ':' | '.' | '/') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `error` for a refused call, `warn` for one escalated to a person, `info` otherwise.
fn status(entry: &Entry) -> &'static str {
    match (entry.kind.as_str(), entry.decision.as_deref()) {
        ("decision", Some("block")) => "error",
        ("decision", Some("escalate")) => "warn",
        _ => "info",
    }
}

/// A value an agent or caller chose, quoted and escaped (no control character reaches a
/// log viewer raw) and cut short.
fn quoted(value: &str) -> String {
    let cut: String = value.chars().take(MESSAGE_FIELD_CHARS).collect();
    let more = if cut.len() < value.len() { "…" } else { "" };
    format!("{cut:?}{more}")
}

/// A short human line: what happened, to what, by whom.
fn message(entry: &Entry) -> String {
    let mut parts: Vec<String> = vec![entry.kind.clone()];
    let mut add = |name: &str, value: &Option<String>| {
        if let Some(v) = value {
            parts.push(format!("{name}={}", quoted(v)));
        }
    };
    match entry.kind.as_str() {
        "decision" => {
            add("decision", &entry.decision);
            add("check", &entry.check);
            add("tool", &entry.tool);
            add("subject", &entry.subject);
            add("reason", &entry.reason);
        }
        "outcome" => {
            add("tool", &entry.tool);
            add("subject", &entry.subject);
            if let Some(s) = entry.upstream_status {
                parts.push(format!("upstream_status={s}"));
            }
        }
        "approval" => {
            add("action", &entry.action);
            add("tool", &entry.tool);
            add("decided_by", &entry.decided_by);
        }
        _ => {
            add("action", &entry.action);
            add("target", &entry.target);
            add("actor", &entry.actor);
            add("reason", &entry.reason);
        }
    }
    parts.push(format!("tenant={} seq={}", entry.tenant, entry.seq));
    parts.join(" ")
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[async_trait]
impl Sink for DatadogSink {
    fn name(&self) -> &str {
        "datadog"
    }

    fn kind(&self) -> &'static str {
        "datadog"
    }

    fn wants(&self, entry: &Entry) -> bool {
        self.events.wants(entry)
    }

    fn max_batch(&self) -> usize {
        LIMITS.max_events
    }

    async fn deliver(&self, entries: &[Entry]) -> Result<(), SinkError> {
        let headers = [
            ("dd-api-key", self.api_key.expose().to_string()),
            ("content-type", "application/json".to_string()),
        ];
        for body in self.bodies(entries, now_ms())? {
            self.client
                .post(&self.url, &headers, body)
                .await
                .map_err(|e| SinkError {
                    message: format!("Datadog: {}", e.message),
                    ..e
                })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn sink(tags: Option<&str>) -> DatadogSink {
        DatadogSink::new(
            &DatadogSettings {
                url: "https://http-intake.logs.datadoghq.eu/api/v2/logs".into(),
                api_key: crate::config::Secret::new("k".into()),
                tags: tags.map(String::from),
            },
            Events::ALL,
            HttpClient::new().unwrap(),
        )
    }

    fn entry(seq: u64, reason_len: usize) -> Entry {
        Entry {
            tenant: "acme".into(),
            seq,
            kind: "decision".into(),
            event_id: format!("{seq:032x}"),
            ts: 1_754_650_000_000_000,
            instance: "igd-1".into(),
            decision: Some("block".into()),
            check: Some("policy".into()),
            tool: Some("rm\n-rf".into()),
            reason: Some("r".repeat(reason_len)),
            ..Entry::default()
        }
    }

    fn parse(bodies: &[Vec<u8>]) -> Vec<Vec<Value>> {
        bodies
            .iter()
            .map(|b| serde_json::from_slice(b).unwrap())
            .collect()
    }

    #[test]
    fn a_log_has_the_reserved_attributes_and_the_entry() {
        let s = sink(Some("env:prod, team:sec ,bad tag"));
        let now = 1_754_650_000_000 + 1000;
        let bodies = parse(&s.bodies(&[entry(1, 10)], now).unwrap());
        let log = &bodies[0][0];
        assert_eq!(log["ddsource"], "intentgate");
        assert_eq!(log["service"], "igd");
        assert_eq!(log["hostname"], "igd-1");
        assert_eq!(log["status"], "error");
        assert_eq!(log["timestamp"], 1_754_650_000_000i64);
        assert_eq!(
            log["ddtags"],
            "tenant:acme,kind:decision,decision:block,env:prod,team:sec,bad_tag"
        );
        assert_eq!(log["audit"]["event_id"], format!("{:032x}", 1));
        let msg = log["message"].as_str().unwrap();
        assert!(
            msg.starts_with("decision decision=\"block\" check=\"policy\""),
            "{msg}"
        );
        assert!(
            msg.contains(r#"tool="rm\n-rf""#) && !msg.contains('\n'),
            "{msg}"
        );
        // Too old for Datadog's own timestamp: none, the entry keeps its ts.
        let late = parse(&s.bodies(&[entry(1, 10)], now + 18 * 3600 * 1000).unwrap());
        assert!(late[0][0].get("timestamp").is_none());
        assert_eq!(late[0][0]["audit"]["ts"], 1_754_650_000_000_000i64);
    }

    #[test]
    fn statuses() {
        let mut e = entry(1, 1);
        assert_eq!(status(&e), "error");
        e.decision = Some("escalate".into());
        assert_eq!(status(&e), "warn");
        e.decision = Some("allow".into());
        assert_eq!(status(&e), "info");
        e.kind = "outcome".into();
        assert_eq!(status(&e), "info");
    }

    #[test]
    fn over_a_thousand_logs_are_split() {
        let entries: Vec<Entry> = (1..=2001).map(|i| entry(i, 10)).collect();
        let bodies = parse(&sink(None).bodies(&entries, 0).unwrap());
        let counts: Vec<usize> = bodies.iter().map(Vec::len).collect();
        assert_eq!(counts, vec![1000, 1000, 1]);
        let seqs: Vec<u64> = bodies
            .iter()
            .flatten()
            .map(|l| l["audit"]["seq"].as_u64().unwrap())
            .collect();
        assert_eq!(seqs, (1..=2001).collect::<Vec<_>>(), "in order, each once");
    }

    #[test]
    fn over_five_megabytes_is_split() {
        // 12 logs of ~600 kB (each over nothing, together ~7 MB): two requests.
        let entries: Vec<Entry> = (1..=12).map(|i| entry(i, 600_000)).collect();
        let raw = sink(None).bodies(&entries, 0).unwrap();
        assert!(raw.len() >= 2);
        assert!(raw.iter().all(|b| b.len() <= 5_000_000), "each ≤ 5 MB");
        let total: usize = parse(&raw).iter().map(Vec::len).sum();
        assert_eq!(total, 12);
        // A log over 1 MB is still sent whole (Datadog truncates it).
        let big = sink(None).bodies(&[entry(1, 1_500_000)], 0).unwrap();
        assert_eq!(big.len(), 1);
        assert!(big[0].len() > 1_500_000);
        // One over 5 MB cannot be sent at all: a refusal naming it, not a silent skip.
        let err = sink(None)
            .bodies(&[entry(1, 10), entry(2, 5_100_000)], 0)
            .unwrap_err();
        assert!(
            err.refused && err.message.contains("acme#2"),
            "{}",
            err.message
        );
    }
}
