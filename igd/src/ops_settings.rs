//! Settings of the operations side (DESIGN §8): `/metrics`, the audit fan-out sinks and OTLP
//! traces. None of them is ever on the decision path; each is all-or-nothing (a sink with a
//! URL and no key is refused, never half-configured), and an address that would carry a key
//! in clear text over a network is refused.

use crate::config::{ConfigError, Secret};
use std::net::SocketAddr;

/// Which entries a webhook delivers (`INTENTGATE_WEBHOOK_EVENTS`, DESIGN §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WebhookEvent {
    /// A call refused (decision `block`).
    Deny,
    /// A call escalated to a person.
    Escalate,
    /// A call allowed or escalated with `requires_step_up`.
    RequiresStepUp,
    /// An escalated call nobody decided in time.
    ApprovalTimeout,
}

impl WebhookEvent {
    pub const ALL: [WebhookEvent; 4] = [
        WebhookEvent::Deny,
        WebhookEvent::Escalate,
        WebhookEvent::RequiresStepUp,
        WebhookEvent::ApprovalTimeout,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            WebhookEvent::Deny => "deny",
            WebhookEvent::Escalate => "escalate",
            WebhookEvent::RequiresStepUp => "requires_step_up",
            WebhookEvent::ApprovalTimeout => "approval_timeout",
        }
    }

    pub fn parse(text: &str) -> Option<WebhookEvent> {
        WebhookEvent::ALL.into_iter().find(|e| e.as_str() == text)
    }
}

/// `INTENTGATE_WEBHOOK_*`: a signed webhook (Standard Webhooks).
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    pub url: String,
    /// The signing key's raw bytes (24 to 64), from `whsec_<base64>` or plain base64.
    pub secret: Secret,
    pub events: Vec<WebhookEvent>,
}

/// Which entries the SIEM sinks receive (`INTENTGATE_SIEM_EVENTS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiemEvents {
    /// Every audit entry (the default: a SIEM is a second, separate store of the log).
    All,
    /// Blocks, escalations, step-ups, approval decisions and admin actions only.
    Findings,
}

/// `INTENTGATE_SIEM_SPLUNK_*`: Splunk HTTP Event Collector.
#[derive(Debug, Clone)]
pub struct SplunkSettings {
    /// The HEC event endpoint (`…/services/collector/event`).
    pub url: String,
    pub token: Secret,
    pub index: Option<String>,
}

/// `INTENTGATE_SIEM_DATADOG_*`: Datadog Logs intake (v2).
#[derive(Debug, Clone)]
pub struct DatadogSettings {
    /// The site's intake URL (`https://http-intake.logs.<site>/api/v2/logs`).
    pub url: String,
    pub api_key: Secret,
    /// Extra `ddtags` (comma-separated `key:value`).
    pub tags: Option<String>,
}

/// `INTENTGATE_SIEM_SENTINEL_*`: Microsoft Sentinel through the Logs Ingestion API (a data
/// collection endpoint and rule), authenticated with an Entra ID app's client credentials.
#[derive(Debug, Clone)]
pub struct SentinelSettings {
    /// The data collection endpoint's logs ingestion URL.
    pub endpoint: String,
    /// The data collection rule's immutable id (`dcr-…`).
    pub dcr_id: String,
    /// The stream declared in the rule (`Custom-…`).
    pub stream: String,
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: Secret,
    /// The OAuth2 token endpoint (default: Entra ID's, for `tenant_id`).
    pub token_url: String,
}

/// Every sink configured at start (notification channels live in the state store).
#[derive(Debug, Clone, Default)]
pub struct SinkSettings {
    pub webhook: Option<WebhookSettings>,
    pub splunk: Option<SplunkSettings>,
    pub datadog: Option<DatadogSettings>,
    pub sentinel: Option<SentinelSettings>,
    pub siem_events: Option<SiemEvents>,
}

/// The operations settings, as `Settings` carries them.
#[derive(Debug, Clone)]
pub struct OpsSettings {
    pub metrics_enabled: bool,
    pub metrics_listen: SocketAddr,
    pub sinks: SinkSettings,
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`: OTLP/HTTP (JSON) traces go to `<endpoint>/v1/traces`.
    pub otel_endpoint: Option<String>,
}

/// The keys this module reads (lower-case, without the prefix), with whether each is a secret.
pub const KEYS: &[(&str, bool)] = &[
    ("metrics_enabled", false),
    ("metrics_listen", false),
    ("webhook_url", false),
    ("webhook_secret", true),
    ("webhook_events", false),
    ("siem_events", false),
    ("siem_splunk_url", false),
    ("siem_splunk_token", true),
    ("siem_splunk_index", false),
    ("siem_datadog_url", false),
    ("siem_datadog_api_key", true),
    ("siem_datadog_tags", false),
    ("siem_sentinel_endpoint", false),
    ("siem_sentinel_dcr_id", false),
    ("siem_sentinel_stream", false),
    ("siem_sentinel_tenant_id", false),
    ("siem_sentinel_client_id", false),
    ("siem_sentinel_client_secret", true),
    ("siem_sentinel_token_url", false),
];

/// Settings named without the `INTENTGATE_` prefix.
pub const UNPREFIXED: &[&str] = &["otel_exporter_otlp_endpoint", "otel_exporter_otlp_protocol"];

/// Read-only access to the gathered raw values (`get` filters out empty ones: set but empty
/// means unset, as for every other setting).
pub trait Values {
    fn get(&self, key: &str) -> Option<&str>;
}

/// Parse the operations settings.
pub fn parse(v: &dyn Values) -> Result<OpsSettings, ConfigError> {
    let metrics_enabled = match v
        .get("metrics_enabled")
        .map(|s| s.trim().to_ascii_lowercase())
    {
        None => false,
        Some(s) => match s.as_str() {
            "true" | "on" | "1" | "yes" => true,
            "false" | "off" | "0" | "no" => false,
            _ => {
                return Err(ConfigError::new(
                    "metrics_enabled",
                    format!("{s:?} must be true or false"),
                ))
            }
        },
    };
    let listen_text = v.get("metrics_listen").unwrap_or("127.0.0.1:9090").trim();
    let metrics_listen: SocketAddr = listen_text.parse().map_err(|_| {
        ConfigError::new(
            "metrics_listen",
            format!("{listen_text:?} is not host:port"),
        )
    })?;
    if v.get("metrics_listen").is_some() && !metrics_enabled {
        return Err(ConfigError::new(
            "metrics_listen",
            "is set but INTENTGATE_METRICS_ENABLED is not true (the listener would never open)",
        ));
    }
    let sinks = SinkSettings {
        webhook: webhook(v)?,
        splunk: splunk(v)?,
        datadog: datadog(v)?,
        sentinel: sentinel(v)?,
        siem_events: None,
    };
    let siem_events = match v.get("siem_events").map(|s| s.trim().to_ascii_lowercase()) {
        None => SiemEvents::All,
        Some(s) if s == "all" => SiemEvents::All,
        Some(s) if s == "findings" => SiemEvents::Findings,
        Some(s) => {
            return Err(ConfigError::new(
                "siem_events",
                format!("{s:?} must be all or findings"),
            ))
        }
    };
    let any_siem = sinks.splunk.is_some() || sinks.datadog.is_some() || sinks.sentinel.is_some();
    if v.get("siem_events").is_some() && !any_siem {
        return Err(ConfigError::new(
            "siem_events",
            "is set but no SIEM sink is configured (INTENTGATE_SIEM_SPLUNK_URL, _DATADOG_URL or _SENTINEL_ENDPOINT)",
        ));
    }
    let sinks = SinkSettings {
        siem_events: any_siem.then_some(siem_events),
        ..sinks
    };
    Ok(OpsSettings {
        metrics_enabled,
        metrics_listen,
        sinks,
        otel_endpoint: otel(v)?,
    })
}

/// An address a sink posts to: `https://`, or `http://` to loopback only (a key or signed
/// payload never crosses a network in clear text).
pub fn sink_url(key: &str, text: &str) -> Result<String, ConfigError> {
    let text = text.trim();
    let uri: hyper::Uri = text
        .parse()
        .map_err(|_| ConfigError::new(key, "is not a URL"))?;
    let Some(host) = uri.host() else {
        return Err(ConfigError::new(key, "has no host"));
    };
    match uri.scheme_str() {
        Some("https") => {}
        Some("http") if is_loopback(host) => {}
        Some("http") => {
            return Err(ConfigError::new(
                key,
                format!(
                    "http:// to {host} would carry its key in clear text; use https:// (http:// only to loopback)"
                ),
            ))
        }
        _ => {
            return Err(ConfigError::new(
                key,
                "must be an https:// URL",
            ))
        }
    }
    if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
        return Err(ConfigError::new(
            key,
            "credentials in the URL are refused; use the key setting",
        ));
    }
    Ok(text.to_string())
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A sink's keys are set together: `required` must all be set when any of `all` is.
fn group<'a>(
    v: &'a dyn Values,
    all: &[&str],
    required: &[&str],
) -> Result<Option<Vec<Option<&'a str>>>, ConfigError> {
    let Some(first) = all.iter().find(|k| v.get(k).is_some()) else {
        return Ok(None);
    };
    for key in required {
        if v.get(key).is_none() {
            return Err(ConfigError::new(
                key,
                format!("required when {} is set", crate::config::env_name(first)),
            ));
        }
    }
    Ok(Some(all.iter().map(|k| v.get(k).map(str::trim)).collect()))
}

fn webhook(v: &dyn Values) -> Result<Option<WebhookSettings>, ConfigError> {
    let keys = ["webhook_url", "webhook_secret", "webhook_events"];
    let Some(vals) = group(v, &keys, &["webhook_url", "webhook_secret"])? else {
        return Ok(None);
    };
    let url = sink_url("webhook_url", vals[0].unwrap_or_default())?;
    let secret = webhook_secret(vals[1].unwrap_or_default())?;
    let events = match vals[2] {
        None => WebhookEvent::ALL.to_vec(),
        Some(list) => {
            let mut events = Vec::new();
            for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let e = WebhookEvent::parse(item).ok_or_else(|| {
                    ConfigError::new(
                        "webhook_events",
                        format!(
                            "{item:?} is not deny, escalate, requires_step_up or approval_timeout"
                        ),
                    )
                })?;
                if !events.contains(&e) {
                    events.push(e);
                }
            }
            if events.is_empty() {
                return Err(ConfigError::new(
                    "webhook_events",
                    "names no event (unset it for all four)",
                ));
            }
            events
        }
    };
    Ok(Some(WebhookSettings {
        url,
        secret,
        events,
    }))
}

/// Standard Webhooks secrets are `whsec_` and the base64 of 24 to 64 random bytes.
fn webhook_secret(text: &str) -> Result<Secret, ConfigError> {
    use base64::Engine;
    // `openssl rand -base64 N` wraps its output at 64 characters: whitespace is not part of it.
    let text: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let b64 = text.strip_prefix("whsec_").unwrap_or(&text);
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| {
            ConfigError::new(
                "webhook_secret",
                "must be whsec_ followed by base64 (e.g. whsec_$(openssl rand -base64 32))",
            )
        })?;
    if !(24..=64).contains(&raw.len()) {
        return Err(ConfigError::new(
            "webhook_secret",
            format!(
                "decodes to {} bytes; a Standard Webhooks secret is 24 to 64 bytes",
                raw.len()
            ),
        ));
    }
    Ok(Secret::new(b64.to_string()))
}

/// A key sent in an HTTP header: visible ASCII only (a line break or a space would fail every
/// delivery, never at start).
fn header_secret(key: &str, text: &str) -> Result<Secret, ConfigError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ConfigError::new(
            key,
            "must be printable ASCII without spaces or line breaks",
        ));
    }
    Ok(Secret::new(text.to_string()))
}

/// A base URL other paths are appended to: no query or fragment (they would swallow what is
/// appended), and for `bare` no path either.
fn base_url(key: &str, text: &str, bare: bool) -> Result<String, ConfigError> {
    let url = sink_url(key, text)?;
    let uri: hyper::Uri = url
        .parse()
        .map_err(|_| ConfigError::new(key, "is not a URL"))?;
    if uri.query().is_some() || url.contains('#') {
        return Err(ConfigError::new(
            key,
            "must be a base URL without a query or fragment",
        ));
    }
    if bare && !matches!(uri.path(), "" | "/") {
        return Err(ConfigError::new(
            key,
            "must be the endpoint's base URL, without a path (igd appends /dataCollectionRules/…)",
        ));
    }
    Ok(url.trim_end_matches('/').to_string())
}

fn splunk(v: &dyn Values) -> Result<Option<SplunkSettings>, ConfigError> {
    let keys = ["siem_splunk_url", "siem_splunk_token", "siem_splunk_index"];
    let Some(vals) = group(v, &keys, &["siem_splunk_url", "siem_splunk_token"])? else {
        return Ok(None);
    };
    let url = sink_url("siem_splunk_url", vals[0].unwrap_or_default())?;
    let path = url
        .parse::<hyper::Uri>()
        .map(|u| u.path().trim_end_matches('/').to_string())
        .unwrap_or_default();
    if !path.ends_with("/services/collector/event") && !path.ends_with("/services/collector") {
        return Err(ConfigError::new(
            "siem_splunk_url",
            "must be the HTTP Event Collector's event endpoint (…/services/collector/event)",
        ));
    }
    Ok(Some(SplunkSettings {
        url,
        token: header_secret("siem_splunk_token", vals[1].unwrap_or_default())?,
        index: vals[2].map(String::from),
    }))
}

fn datadog(v: &dyn Values) -> Result<Option<DatadogSettings>, ConfigError> {
    let keys = [
        "siem_datadog_url",
        "siem_datadog_api_key",
        "siem_datadog_tags",
    ];
    let Some(vals) = group(v, &keys, &["siem_datadog_url", "siem_datadog_api_key"])? else {
        return Ok(None);
    };
    Ok(Some(DatadogSettings {
        url: sink_url("siem_datadog_url", vals[0].unwrap_or_default())?,
        api_key: header_secret("siem_datadog_api_key", vals[1].unwrap_or_default())?,
        tags: vals[2].map(String::from),
    }))
}

fn sentinel(v: &dyn Values) -> Result<Option<SentinelSettings>, ConfigError> {
    let keys = [
        "siem_sentinel_endpoint",
        "siem_sentinel_dcr_id",
        "siem_sentinel_stream",
        "siem_sentinel_tenant_id",
        "siem_sentinel_client_id",
        "siem_sentinel_client_secret",
        "siem_sentinel_token_url",
    ];
    let Some(vals) = group(v, &keys, &keys[..6])? else {
        return Ok(None);
    };
    let text = |i: usize| vals[i].unwrap_or_default().to_string();
    let tenant_id = text(3);
    let simple = |key: &str, s: &str| -> Result<(), ConfigError> {
        if s.is_empty()
            || !s
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        {
            return Err(ConfigError::new(
                key,
                format!("{s:?} may hold only letters, digits, '-', '_' and '.'"),
            ));
        }
        Ok(())
    };
    simple("siem_sentinel_dcr_id", &text(1))?;
    simple("siem_sentinel_stream", &text(2))?;
    simple("siem_sentinel_tenant_id", &tenant_id)?;
    let token_url = match vals[6] {
        Some(u) => sink_url("siem_sentinel_token_url", u)?,
        None => format!("https://login.microsoftonline.com/{tenant_id}/oauth2/v2.0/token"),
    };
    Ok(Some(SentinelSettings {
        endpoint: base_url("siem_sentinel_endpoint", &text(0), true)?,
        dcr_id: text(1),
        stream: text(2),
        tenant_id,
        client_id: text(4),
        client_secret: Secret::new(text(5)),
        token_url,
    }))
}

/// `OTEL_EXPORTER_OTLP_ENDPOINT` (and `_PROTOCOL`, which must be `http/json` when set: the
/// only encoding this build sends). Refused when the build lacks the `otel` feature.
fn otel(v: &dyn Values) -> Result<Option<String>, ConfigError> {
    if let Some(p) = v.get("otel_exporter_otlp_protocol") {
        if p.trim() != "http/json" {
            return Err(ConfigError::new(
                "otel_exporter_otlp_protocol",
                format!("{p:?} is not supported: igd exports OTLP over HTTP with JSON (http/json)"),
            ));
        }
    }
    let Some(endpoint) = v.get("otel_exporter_otlp_endpoint") else {
        return Ok(None);
    };
    if !cfg!(feature = "otel") {
        return Err(ConfigError::new(
            "otel_exporter_otlp_endpoint",
            "this igd was built without the otel feature; unset it or use a release build",
        ));
    }
    let url = base_url("otel_exporter_otlp_endpoint", endpoint, false)?;
    if url.ends_with("/v1/traces") {
        return Err(ConfigError::new(
            "otel_exporter_otlp_endpoint",
            "is the collector's base URL: igd appends /v1/traces itself",
        ));
    }
    Ok(Some(url))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    struct Map(BTreeMap<&'static str, &'static str>);

    impl Values for Map {
        fn get(&self, key: &str) -> Option<&str> {
            self.0.get(key).copied().filter(|v| !v.is_empty())
        }
    }

    fn parse_pairs(pairs: &[(&'static str, &'static str)]) -> Result<OpsSettings, ConfigError> {
        parse(&Map(pairs.iter().copied().collect()))
    }

    // The Standard Webhooks example secret: 24 bytes, base64.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    #[test]
    fn defaults_are_off() {
        let s = parse_pairs(&[]).unwrap();
        assert!(!s.metrics_enabled);
        assert_eq!(s.metrics_listen.to_string(), "127.0.0.1:9090");
        assert!(s.sinks.webhook.is_none() && s.sinks.siem_events.is_none());
        assert!(s.otel_endpoint.is_none());
    }

    #[test]
    fn sink_urls_need_tls_off_loopback() {
        for ok in [
            "https://hooks.example.com/x",
            "http://127.0.0.1:9/x",
            "http://[::1]:9/x",
            "http://localhost:9/x",
        ] {
            sink_url("webhook_url", ok).unwrap();
        }
        for bad in [
            "http://hooks.example.com/x",
            "http://10.0.0.1/x",
            "ftp://127.0.0.1/x",
            "https://user:pw@example.com/x",
            "not a url",
            "/relative",
        ] {
            let e = sink_url("webhook_url", bad).unwrap_err();
            assert_eq!(e.variable, "INTENTGATE_WEBHOOK_URL", "{bad}");
            assert!(
                !e.message.contains("pw") && !e.message.contains("/x"),
                "{e}"
            );
        }
    }

    #[test]
    fn webhook_secret_and_events() {
        let s = parse_pairs(&[
            ("webhook_url", "https://h.example/x"),
            ("webhook_secret", SECRET),
        ])
        .unwrap();
        let w = s.sinks.webhook.unwrap();
        assert_eq!(w.events, WebhookEvent::ALL.to_vec());
        assert!(!w.secret.expose().starts_with("whsec_"));
        let s = parse_pairs(&[
            ("webhook_url", "https://h.example/x"),
            ("webhook_secret", SECRET),
            ("webhook_events", "deny, approval_timeout,deny"),
        ])
        .unwrap();
        assert_eq!(
            s.sinks.webhook.unwrap().events,
            vec![WebhookEvent::Deny, WebhookEvent::ApprovalTimeout]
        );
        for (events, secret) in [
            ("allow", SECRET),
            (",", SECRET),
            ("deny", "whsec_c2hvcnQ="),
            ("deny", "whsec_not base64!"),
        ] {
            let e = parse_pairs(&[
                ("webhook_url", "https://h.example/x"),
                ("webhook_secret", secret),
                ("webhook_events", events),
            ])
            .unwrap_err();
            assert!(e.variable.starts_with("INTENTGATE_WEBHOOK_"), "{e}");
            assert!(
                !e.message.contains("c2hvcnQ"),
                "the secret is never echoed: {e}"
            );
        }
    }

    #[test]
    fn siem_groups_are_whole() {
        let s = parse_pairs(&[
            ("siem_sentinel_endpoint", "https://dce.example/"),
            ("siem_sentinel_dcr_id", "dcr-0123"),
            ("siem_sentinel_stream", "Custom-IntentGate_CL"),
            ("siem_sentinel_tenant_id", "72f988bf-86f1"),
            ("siem_sentinel_client_id", "app"),
            ("siem_sentinel_client_secret", "s"),
            ("siem_events", "findings"),
        ])
        .unwrap();
        let sentinel = s.sinks.sentinel.unwrap();
        assert_eq!(
            sentinel.token_url,
            "https://login.microsoftonline.com/72f988bf-86f1/oauth2/v2.0/token"
        );
        assert_eq!(s.sinks.siem_events, Some(SiemEvents::Findings));
        let e = parse_pairs(&[
            ("siem_sentinel_endpoint", "https://dce.example/"),
            ("siem_sentinel_dcr_id", "dcr/../x"),
            ("siem_sentinel_stream", "Custom-IntentGate_CL"),
            ("siem_sentinel_tenant_id", "t"),
            ("siem_sentinel_client_id", "app"),
            ("siem_sentinel_client_secret", "s"),
        ])
        .unwrap_err();
        assert_eq!(e.variable, "INTENTGATE_SIEM_SENTINEL_DCR_ID");
        let e = parse_pairs(&[("siem_datadog_api_key", "k")]).unwrap_err();
        assert_eq!(e.variable, "INTENTGATE_SIEM_DATADOG_URL");
        let s = parse_pairs(&[
            (
                "siem_splunk_url",
                "https://splunk.example:8088/services/collector/event",
            ),
            ("siem_splunk_token", "t"),
        ])
        .unwrap();
        assert_eq!(s.sinks.siem_events, Some(SiemEvents::All));
    }

    #[test]
    fn shapes_that_would_fail_every_delivery_are_refused_at_start() {
        let splunk = |url: &'static str, token: &'static str| {
            parse_pairs(&[("siem_splunk_url", url), ("siem_splunk_token", token)])
        };
        splunk("https://s.example:8088/services/collector/event", "t-1").unwrap();
        splunk("https://s.example:8088/services/collector", "t-1").unwrap();
        for (url, token, variable) in [
            (
                "https://s.example:8088",
                "t-1",
                "INTENTGATE_SIEM_SPLUNK_URL",
            ),
            (
                "https://s.example:8088/",
                "t-1",
                "INTENTGATE_SIEM_SPLUNK_URL",
            ),
            (
                "https://s.example/services/collector/event",
                "t\r\nX-Evil: 1",
                "INTENTGATE_SIEM_SPLUNK_TOKEN",
            ),
        ] {
            assert_eq!(splunk(url, token).unwrap_err().variable, variable, "{url}");
        }
        let e = parse_pairs(&[
            ("siem_datadog_url", "https://dd.example/api/v2/logs"),
            ("siem_datadog_api_key", "key with space"),
        ])
        .unwrap_err();
        assert_eq!(e.variable, "INTENTGATE_SIEM_DATADOG_API_KEY");
        let sentinel = |endpoint: &'static str| {
            parse_pairs(&[
                ("siem_sentinel_endpoint", endpoint),
                ("siem_sentinel_dcr_id", "dcr-1"),
                ("siem_sentinel_stream", "Custom-X_CL"),
                ("siem_sentinel_tenant_id", "t"),
                ("siem_sentinel_client_id", "c"),
                ("siem_sentinel_client_secret", "s"),
            ])
        };
        assert_eq!(
            sentinel("https://dce.example/")
                .unwrap()
                .sinks
                .sentinel
                .unwrap()
                .endpoint,
            "https://dce.example"
        );
        for bad in [
            "https://dce.example/x",
            "https://dce.example/?y=1",
            "https://dce.example/#f",
        ] {
            assert_eq!(
                sentinel(bad).unwrap_err().variable,
                "INTENTGATE_SIEM_SENTINEL_ENDPOINT",
                "{bad}"
            );
        }
        // A secret wrapped by `openssl rand -base64 60` (64 characters a line).
        let wrapped = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\nMfKQ9r8GKYqrTwjU\n";
        let s = parse_pairs(&[
            ("webhook_url", "https://h.example/x"),
            ("webhook_secret", wrapped),
        ])
        .unwrap();
        assert!(!s.sinks.webhook.unwrap().secret.expose().contains('\n'));
    }

    #[test]
    fn metrics_and_otel() {
        let s = parse_pairs(&[
            ("metrics_enabled", "true"),
            ("metrics_listen", "0.0.0.0:9100"),
        ])
        .unwrap();
        assert!(s.metrics_enabled);
        assert_eq!(s.metrics_listen.port(), 9100);
        let e =
            parse_pairs(&[("metrics_enabled", "true"), ("metrics_listen", "9100")]).unwrap_err();
        assert_eq!(e.variable, "INTENTGATE_METRICS_LISTEN");
        let e = parse_pairs(&[("otel_exporter_otlp_protocol", "http/protobuf")]).unwrap_err();
        assert_eq!(e.variable, "OTEL_EXPORTER_OTLP_PROTOCOL");
        if cfg!(feature = "otel") {
            let s = parse_pairs(&[
                ("otel_exporter_otlp_endpoint", "http://127.0.0.1:4318/"),
                ("otel_exporter_otlp_protocol", "http/json"),
            ])
            .unwrap();
            assert_eq!(s.otel_endpoint.as_deref(), Some("http://127.0.0.1:4318"));
            for bad in [
                "http://127.0.0.1:4318/v1/traces",
                "http://127.0.0.1:4318/?x=1",
            ] {
                let e = parse_pairs(&[("otel_exporter_otlp_endpoint", bad)]).unwrap_err();
                assert_eq!(e.variable, "OTEL_EXPORTER_OTLP_ENDPOINT", "{bad}");
            }
        }
    }
}
