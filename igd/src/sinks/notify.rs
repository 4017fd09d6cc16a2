//! Notification channels (DESIGN §8): Slack (incoming webhook, Block Kit), Microsoft Teams
//! (Workflows or incoming webhook, an Adaptive Card) and PagerDuty (Events API v2), each scoped
//! to one tenant and stored in the state store. Each channel is one [`Sink`] of the outbox,
//! named `notify:<channel id>`, that delivers one finding per message.
//!
//! What this module owns: the sealing of a channel's URL or routing key, the three payload
//! builders (pure functions of an audit entry, so `preview` shows exactly what `deliver`
//! sends), the sinks, and handing the stored channels to the outbox whenever they change.
//!
//! Secrets: a Slack or Teams webhook URL and a PagerDuty routing key are credentials (whoever
//! holds one can post into the channel or page the on-call). They are sealed with AES-256-GCM
//! under HKDF-SHA256(`INTENTGATE_TOTP_ENCRYPTION_KEY` or the master key, "intentgate notify
//! v1"), the channel id and tenant as associated data, and are never logged, answered or put in
//! an error: people see the receiver's host (`hooks.slack.com/…`).
//!
//! Untrusted text: tool names, subjects and reasons may be written by an agent. In Slack they
//! sit in `verbatim` mrkdwn code spans with `&`, `<`, `>` as entities and a word joiner after
//! `@`, so `<!channel>`, `<http://evil|x>` and `@here` stay text; in Teams they sit only in
//! `RichTextBlock` text runs, which Adaptive Cards never read as Markdown; PagerDuty renders no
//! markup.

use super::http::HttpClient;
use super::{classes, Sink, SinkError};
use crate::clock::{now_us, rfc3339};
use crate::config::Secret;
use crate::ops_settings::WebhookEvent;
use crate::store::{DynStore, NotifyChannelRecord, StoreError};
use crate::totp::SealingKey;
use async_trait::async_trait;
use intentgate_proto::api::IntegrationStatus;
use intentgate_proto::audit::Entry;
use intentgate_proto::keys::MasterKey;
use intentgate_proto::text::escape_controls;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::fmt;
use std::sync::Arc;
use zeroize::{Zeroize, Zeroizing};

/// HKDF info label of the channel sealing key.
pub const INFO_NOTIFY: &[u8] = b"intentgate notify v1";
/// PagerDuty's Events API v2 endpoint (the EU service is `events.eu.pagerduty.com`).
pub const PAGERDUTY_EVENTS_URL: &str = "https://events.pagerduty.com/v2/enqueue";
/// The prefix of channel ids (`ntf_<32 hex>`).
pub const ID_PREFIX: &str = "ntf_";
/// Longest webhook URL accepted.
const MAX_URL: usize = 2048;

/// Slack Block Kit limits: a section's text, a field, a header's plain text.
pub const SLACK_SECTION_MAX: usize = 3000;
pub const SLACK_FIELD_MAX: usize = 2000;
pub const SLACK_HEADER_MAX: usize = 150;
/// PagerDuty's `payload.summary` limit.
pub const PAGERDUTY_SUMMARY_MAX: usize = 1024;
/// Most characters of one untrusted value shown in a Teams card (a Teams message is ≤ 28 KB).
const TEAMS_VALUE_MAX: usize = 2000;
/// Most bytes of a Teams message body igd sends (Teams refuses messages over about 28 KB).
pub const TEAMS_MAX_BYTES: usize = 24 * 1024;
/// Most bytes of a PagerDuty event igd sends (the Events API v2 refuses payloads over 512 KB).
pub const PAGERDUTY_MAX_BYTES: usize = 480 * 1024;
/// What ends an agent-controlled value cut to fit a message.
const TRUNCATED: &str = "… [truncated]";

/// The services a channel can post to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelKind {
    Slack,
    Teams,
    PagerDuty,
}

impl ChannelKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Slack => "slack",
            ChannelKind::Teams => "teams",
            ChannelKind::PagerDuty => "pagerduty",
        }
    }

    pub fn parse(text: &str) -> Option<ChannelKind> {
        match text {
            "slack" => Some(ChannelKind::Slack),
            "teams" => Some(ChannelKind::Teams),
            "pagerduty" => Some(ChannelKind::PagerDuty),
            _ => None,
        }
    }
}

/// A channel's secret part: where it posts, and PagerDuty's routing key. Never printed;
/// zeroized on drop.
#[derive(Clone, Serialize, Deserialize)]
pub struct Target {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing_key: Option<String>,
    /// Added by a tenant-confined admin: it may reach public addresses only (checked when it
    /// is added, and by the public-only client at every connection). Sealed with the rest, so
    /// it cannot be changed in the store.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub public_only: bool,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Target(<redacted>)")
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        self.url.zeroize();
        if let Some(k) = self.routing_key.as_mut() {
            k.zeroize();
        }
    }
}

impl Target {
    /// Check what an operator gave for a channel of `kind`; `public_only` for a channel a
    /// tenant-confined admin adds. Errors never repeat the URL or key.
    pub fn new(
        kind: ChannelKind,
        url: Option<&str>,
        routing_key: Option<&str>,
        public_only: bool,
    ) -> Result<Target, String> {
        match kind {
            ChannelKind::Slack | ChannelKind::Teams => {
                if routing_key.is_some() {
                    return Err(format!(
                        "a {} channel takes a webhook url, not a routing_key",
                        kind.as_str()
                    ));
                }
                let url = url.ok_or_else(|| {
                    format!(
                        "a {} channel needs the webhook url the service gave you",
                        kind.as_str()
                    )
                })?;
                Ok(Target {
                    url: checked_url(url, public_only)?,
                    routing_key: None,
                    public_only,
                })
            }
            ChannelKind::PagerDuty => {
                let key = routing_key
                    .ok_or(
                        "a pagerduty channel needs the integration's routing_key (Events API v2)",
                    )?
                    .trim();
                let key_ok = (16..=128).contains(&key.len())
                    && key
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
                if !key_ok {
                    return Err(
                        "routing_key must be 16 to 128 letters, digits, '-' or '_' (the integration key of an Events API v2 integration)"
                            .into(),
                    );
                }
                let url = match url {
                    Some(u) => checked_url(u, public_only)?,
                    None => PAGERDUTY_EVENTS_URL.to_string(),
                };
                Ok(Target {
                    url,
                    routing_key: Some(key.to_string()),
                    public_only,
                })
            }
        }
    }

    /// The receiver's host (and port), for people: `hooks.slack.com`.
    pub fn host(&self) -> String {
        self.url
            .parse::<hyper::Uri>()
            .ok()
            .and_then(|u| u.authority().map(|a| a.as_str().to_string()))
            .unwrap_or_else(|| "?".into())
    }
}

/// The rule a tenant-confined admin's channel follows, as its refusal says it.
pub const PUBLIC_ONLY_RULE: &str = "a channel added by a tenant admin may reach public addresses only: the url must be https:// to a public host, not localhost or a loopback, private, link-local, shared (100.64/10) or unspecified address";

/// `https://`, or `http://` to loopback only; bounded and printable; with `public_only`,
/// `https://` to a host that is not `localhost` nor a non-public IP literal (a name is checked
/// again at every connection). The error says why without repeating the URL (its path is the
/// credential).
fn checked_url(text: &str, public_only: bool) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() || text.len() > MAX_URL || text.chars().any(char::is_whitespace) {
        return Err(format!(
            "the url must be 1 to {MAX_URL} characters without spaces"
        ));
    }
    let https = text
        .get(..8)
        .is_some_and(|s| s.eq_ignore_ascii_case("https://"));
    if public_only && (!https || !super::http::literal_is_public(text)) {
        return Err(PUBLIC_ONLY_RULE.to_string());
    }
    crate::ops_settings::sink_url("notify_url", text).map_err(|_| {
        let lower = text.to_ascii_lowercase();
        if lower.starts_with("http://") {
            "the url is http:// to a host that is not loopback; use the https:// URL the service gave you".to_string()
        } else if !lower.starts_with("https://") {
            "the url must start with https://".to_string()
        } else {
            "the url is not usable: it needs a host and must not carry user:password@".to_string()
        }
    })
}

/// How a channel's receiver is shown: its host and an ellipsis for the secret rest.
pub fn redacted(host: &str) -> String {
    format!("{host}/…")
}

/// The AES-256-GCM key that seals channel targets. Never printed; zeroized on drop.
#[derive(Clone)]
pub struct ChannelSealer(SealingKey);

impl fmt::Debug for ChannelSealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChannelSealer(<redacted>)")
    }
}

impl ChannelSealer {
    /// From `INTENTGATE_TOTP_ENCRYPTION_KEY` when set (the key that seals igd's stored
    /// secrets), else the master key; either way under this module's own HKDF label.
    pub fn new(configured: Option<&Secret>, master: &MasterKey) -> ChannelSealer {
        let base = configured.map(|s| MasterKey::parse(s.expose()));
        ChannelSealer(match base {
            None => SealingKey::derived(master, INFO_NOTIFY),
            Some(Ok(k)) => SealingKey::derived(&k, INFO_NOTIFY),
            Some(Err(e)) => {
                // Settings refuse such a value at start; if one got here anyway, fail closed:
                // a random key opens no stored channel.
                tracing::error!(error = %e, "INTENTGATE_TOTP_ENCRYPTION_KEY is unusable; notification channels cannot be opened");
                SealingKey::random()
            }
        })
    }

    /// A sealed target is bound to its channel: copied onto another row, it does not open.
    fn aad(tenant: &str, id: &str) -> Vec<u8> {
        format!("intentgate notify channel v1\0{tenant}\0{id}").into_bytes()
    }

    /// Seal `target` for channel `id` of `tenant`: nonce ‖ ciphertext ‖ tag.
    pub fn seal(&self, tenant: &str, id: &str, target: &Target) -> Vec<u8> {
        let plain = Zeroizing::new(serde_json::to_vec(target).unwrap_or_default());
        self.0.seal_bound(&Self::aad(tenant, id), &plain)
    }

    /// Open a sealed target; `None` when it was altered, moved to another channel, or sealed
    /// under another key.
    pub fn open(&self, tenant: &str, id: &str, sealed: &[u8]) -> Option<Target> {
        let plain = self.0.unseal_bound(&Self::aad(tenant, id), sealed)?;
        serde_json::from_slice(&plain).ok()
    }
}

/// A channel's identity and selection, without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelInfo {
    pub id: String,
    pub tenant: String,
    pub kind: ChannelKind,
    pub name: String,
    pub events: Vec<WebhookEvent>,
}

impl ChannelInfo {
    /// From a stored row; `None` when the row names a kind or event this build does not know.
    pub fn of(rec: &NotifyChannelRecord) -> Option<ChannelInfo> {
        let events = rec
            .events
            .iter()
            .map(|e| WebhookEvent::parse(e))
            .collect::<Option<Vec<_>>>()?;
        Some(ChannelInfo {
            id: rec.id.clone(),
            tenant: rec.tenant.clone(),
            kind: ChannelKind::parse(&rec.kind)?,
            name: rec.name.clone(),
            events,
        })
    }

    /// Whether this channel delivers `entry`: one of its tenant's findings of a class it asked
    /// for.
    pub fn wants(&self, entry: &Entry) -> bool {
        entry.tenant == self.tenant && classes(entry).iter().any(|c| self.events.contains(c))
    }
}

// --- What a message says -----------------------------------------------------------------------

/// One notification, before a service's format: igd's own words and facts apart from text an
/// agent (or a policy quoting it) controls, which each renderer escapes its own way.
#[derive(Debug, Clone)]
pub struct Message {
    /// A synthetic message from `igctl notify test`.
    pub test: bool,
    /// igd's words: "Call blocked".
    pub headline: String,
    pub tenant: String,
    /// PagerDuty `severity`: `critical`, `error`, `warning` or `info`.
    pub severity: &'static str,
    /// The finding's class (`deny`, …, or `test`): PagerDuty `class`.
    pub class: String,
    /// PagerDuty `component`: the check that decided.
    pub component: String,
    /// (key, label, value) written by igd itself: ids, times, check, decision.
    pub facts: Vec<(&'static str, &'static str, String)>,
    /// (key, label, value) an agent or policy may have written: tool, agent, reason.
    pub untrusted: Vec<(&'static str, &'static str, String)>,
    /// The test message's explanation (igd's words).
    pub note: Option<String>,
    pub dedup_key: String,
    /// RFC 3339.
    pub timestamp: String,
}

fn headline(class: Option<WebhookEvent>, step_up: bool) -> String {
    let base = match class {
        Some(WebhookEvent::Deny) => "Call blocked",
        Some(WebhookEvent::Escalate) => "Call escalated for approval",
        Some(WebhookEvent::ApprovalTimeout) => "Escalated call timed out",
        Some(WebhookEvent::RequiresStepUp) => "Call requires step-up",
        None => "Audit entry",
    };
    if step_up && class != Some(WebhookEvent::RequiresStepUp) {
        format!("{base} (step-up required)")
    } else {
        base.to_string()
    }
}

impl Message {
    /// The message for an audit entry (a finding; any other entry renders as "Audit entry").
    pub fn of_entry(entry: &Entry) -> Message {
        let found = classes(entry);
        let class = found.first().copied();
        let step_up = found.contains(&WebhookEvent::RequiresStepUp);
        let severity = match class {
            Some(WebhookEvent::Deny | WebhookEvent::ApprovalTimeout) => "error",
            Some(WebhookEvent::Escalate | WebhookEvent::RequiresStepUp) => "warning",
            None => "info",
        };
        let mut untrusted = Vec::new();
        let mut add = |key, label, v: &Option<String>| {
            if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
                untrusted.push((key, label, v.clone()));
            }
        };
        add("tool", "Tool", &entry.tool);
        if entry.method.as_deref().is_some_and(|m| m != "tools/call") {
            add("method", "Method", &entry.method);
        }
        add("agent", "Agent", &entry.subject);
        add(
            "delegated_subject",
            "Delegated subject",
            &entry.delegated_subject,
        );
        add("reason", "Reason", &entry.reason);
        let mut facts = vec![("tenant", "Tenant", entry.tenant.clone())];
        let mut fact = |key, label, v: Option<String>| {
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                facts.push((key, label, v));
            }
        };
        fact("check", "Check", entry.check.clone());
        fact(
            "decision",
            "Decision",
            entry.decision.clone().or(entry.action.clone()),
        );
        fact("time", "Time", Some(rfc3339(entry.ts)));
        fact("event_id", "Event", Some(entry.event_id.clone()));
        fact("seq", "Seq", Some(entry.seq.to_string()));
        fact("approval_id", "Approval", entry.approval_id.clone());
        fact("ref_event_id", "Escalated call", entry.ref_event_id.clone());
        fact("policy_revision", "Policy", entry.policy_revision.clone());
        Message {
            test: false,
            headline: headline(class, step_up),
            tenant: entry.tenant.clone(),
            severity,
            class: class.map_or("other", WebhookEvent::as_str).to_string(),
            component: entry.check.clone().unwrap_or_else(|| entry.kind.clone()),
            facts,
            untrusted,
            note: None,
            dedup_key: entry.event_id.clone(),
            timestamp: rfc3339(entry.ts),
        }
    }

    /// The synthetic test message of a channel, sent by `actor`.
    pub fn test(channel: &ChannelInfo, actor: &str) -> Message {
        let now = now_us();
        Message {
            test: true,
            headline: "Test message".into(),
            tenant: channel.tenant.clone(),
            severity: "info",
            class: "test".into(),
            component: "notify".into(),
            facts: vec![
                ("tenant", "Tenant", channel.tenant.clone()),
                ("channel", "Channel", channel.name.clone()),
                ("channel_id", "Channel id", channel.id.clone()),
                ("time", "Time", rfc3339(now)),
            ],
            untrusted: vec![("sent_by", "Sent by", actor.to_string())],
            note: Some(format!(
                "TEST: this is a test of the IntentGate notification channel {} of tenant {}. No call was decided; nothing needs doing.",
                channel.name, channel.tenant
            )),
            dedup_key: format!("intentgate-test-{}", intentgate_proto::ids::new_id()),
            timestamp: rfc3339(now),
        }
    }

    /// One plain line: PagerDuty's summary and the base of the fallback texts.
    fn summary(&self) -> String {
        if self.test {
            return format!(
                "[TEST] IntentGate notification test for tenant {} (no action needed)",
                self.tenant
            );
        }
        let mut s = format!("IntentGate: {} in tenant {}", self.headline, self.tenant);
        for (key, _, v) in &self.untrusted {
            match *key {
                "tool" => s.push_str(&format!(": tool {}", escape_controls(v))),
                "agent" => s.push_str(&format!(" by {}", escape_controls(v))),
                _ => {}
            }
        }
        truncate_chars(&s, PAGERDUTY_SUMMARY_MAX)
    }
}

/// A sample finding for previews: a blocked call in `tenant`.
pub fn sample_entry(tenant: &str) -> Entry {
    Entry {
        v: 1,
        tenant: tenant.to_string(),
        seq: 0,
        kind: "decision".into(),
        event_id: "0".repeat(32),
        ts: now_us(),
        method: Some("tools/call".into()),
        tool: Some("send_email".into()),
        subject: Some("sample-agent".into()),
        decision: Some("block".into()),
        check: Some("policy".into()),
        reason: Some("sample: external recipients are not allowed".into()),
        ..Entry::default()
    }
}

// --- Size ----------------------------------------------------------------------------------------

/// `text` cut to at most `max` bytes of UTF-8 on a character boundary, ending in [`TRUNCATED`]
/// when cut.
fn truncate_bytes(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let budget = max.saturating_sub(TRUNCATED.len());
    let mut end = 0;
    for (i, c) in text.char_indices() {
        if i + c.len_utf8() > budget {
            break;
        }
        end = i + c.len_utf8();
    }
    format!("{}{TRUNCATED}", &text[..end])
}

fn json_len(v: &Value) -> usize {
    serde_json::to_vec(v).map_or(usize::MAX, |b| b.len())
}

/// `render(m)`, with the agent-controlled values of `m` cut further (their share halved each
/// time) until the body's JSON is at most `max_bytes`. igd's own text is bounded, so the
/// agent's is what gives way.
fn within(m: &Message, max_bytes: usize, render: impl Fn(&Message) -> Value) -> Value {
    let mut body = render(m);
    let mut share = max_bytes / m.untrusted.len().max(1);
    while json_len(&body) > max_bytes && !m.untrusted.is_empty() {
        let mut cut = m.clone();
        for (_, _, v) in &mut cut.untrusted {
            *v = truncate_bytes(v, share);
        }
        body = render(&cut);
        if share == 0 {
            break;
        }
        share /= 2;
    }
    body
}

// --- Escaping ------------------------------------------------------------------------------------

/// `text` cut to at most `max` characters, with `…` when cut.
fn truncate_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Text for Slack mrkdwn: control characters made visible, `&`, `<`, `>` as the entities Slack
/// asks for (no `<!channel>`, `<@U…>` or `<url|label>`), a word joiner after `@` (no `@here`),
/// and in a code span (`code`) no backtick to close it early. At most `max` characters.
fn slack_escape(text: &str, max: usize, code: bool) -> String {
    let visible = escape_controls(text);
    let reserve = if code { 3 } else { 1 };
    let budget = max.saturating_sub(reserve);
    let mut out = String::new();
    let mut used = 0usize;
    let mut cut = false;
    for c in visible.chars() {
        let piece: &str = match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            '@' => "@\u{2060}",
            '`' if code => "ˋ",
            _ => {
                if used + 1 > budget {
                    cut = true;
                    break;
                }
                out.push(c);
                used += 1;
                continue;
            }
        };
        let n = piece.chars().count();
        if used + n > budget {
            cut = true;
            break;
        }
        out.push_str(piece);
        used += n;
    }
    if cut {
        out.push('…');
    }
    if code {
        format!("`{out}`")
    } else {
        out
    }
}

/// Text igd wrote, for a Markdown-reading Adaptive Card element: Markdown punctuation escaped
/// with backslashes (nothing igd writes needs it, but a configured deployment id could).
fn card_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in escape_controls(text).chars() {
        if "\\*_[]()<>#~`!|".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

// --- Slack -----------------------------------------------------------------------------------------

fn mrkdwn(text: String) -> Value {
    json!({"type": "mrkdwn", "text": text, "verbatim": true})
}

/// The Slack incoming-webhook body: Block Kit `blocks` plus the top-level `text` fallback
/// (notifications, and clients that cannot show blocks).
pub fn slack_body(m: &Message, deployment_id: &str) -> Value {
    let icon = match (m.test, m.severity) {
        (true, _) => "🧪",
        (_, "error") => "🚫",
        (_, "warning") => "⚠️",
        _ => "ℹ️",
    };
    let header = if m.test {
        "[TEST] IntentGate notification test".to_string()
    } else {
        format!("{icon} {} · {}", m.headline, m.tenant)
    };
    let mut blocks = vec![json!({"type": "header", "text": {
        "type": "plain_text",
        "text": truncate_chars(&escape_controls(&header), SLACK_HEADER_MAX),
        "emoji": true,
    }})];
    if let Some(note) = &m.note {
        blocks.push(json!({"type": "section",
            "text": mrkdwn(slack_escape(note, SLACK_SECTION_MAX, false))}));
    }
    // Untrusted values share one section: each gets a fair part of its 3000 characters.
    if !m.untrusted.is_empty() {
        let labels: usize = m
            .untrusted
            .iter()
            .map(|(_, l, _)| l.chars().count() + 5)
            .sum();
        let share = SLACK_SECTION_MAX.saturating_sub(labels) / m.untrusted.len();
        let lines: Vec<String> = m
            .untrusted
            .iter()
            .map(|(_, label, v)| format!("*{label}:* {}", slack_escape(v, share, true)))
            .collect();
        blocks.push(json!({"type": "section", "text": mrkdwn(lines.join("\n"))}));
    }
    let fields: Vec<Value> = m
        .facts
        .iter()
        .take(10)
        .map(|(_, label, v)| {
            let text = format!(
                "*{label}*\n{}",
                slack_escape(v, SLACK_FIELD_MAX - 40, false)
            );
            mrkdwn(text)
        })
        .collect();
    if !fields.is_empty() {
        blocks.push(json!({"type": "section", "fields": fields}));
    }
    blocks.push(json!({"type": "context", "elements": [mrkdwn(format!(
        "IntentGate · deployment {}",
        slack_escape(deployment_id, 200, true)
    ))]}));
    let mut fallback = slack_escape(&m.summary(), SLACK_SECTION_MAX, false);
    if m.test {
        fallback = format!(
            "[TEST] {}",
            slack_escape(m.note.as_deref().unwrap_or_default(), 2000, false)
        );
    }
    json!({"text": fallback, "blocks": blocks})
}

// --- Microsoft Teams -------------------------------------------------------------------------------

fn text_run_pair(label: &str, value: &str) -> Value {
    json!({"type": "RichTextBlock", "inlines": [
        {"type": "TextRun", "text": format!("{label}: "), "weight": "Bolder"},
        {"type": "TextRun", "text": truncate_chars(&escape_controls(value), TEAMS_VALUE_MAX), "fontType": "Monospace"},
    ]})
}

/// The Teams message: one Adaptive Card (1.4) attachment, at most [`TEAMS_MAX_BYTES`].
pub fn teams_body(m: &Message, deployment_id: &str) -> Value {
    within(m, TEAMS_MAX_BYTES, |m| teams_card(m, deployment_id))
}

fn teams_card(m: &Message, deployment_id: &str) -> Value {
    let color = match (m.test, m.severity) {
        (true, _) => "Accent",
        (_, "error") => "Attention",
        (_, "warning") => "Warning",
        _ => "Default",
    };
    let title = if m.test {
        "[TEST] IntentGate notification test".to_string()
    } else {
        format!("{} · {}", m.headline, m.tenant)
    };
    let mut body = vec![json!({"type": "TextBlock", "text": card_text(&title),
        "size": "Medium", "weight": "Bolder", "color": color, "wrap": true})];
    if let Some(note) = &m.note {
        body.push(json!({"type": "TextBlock", "text": card_text(note), "wrap": true}));
    }
    for (_, label, v) in &m.untrusted {
        body.push(text_run_pair(label, v));
    }
    let facts: Vec<Value> = m
        .facts
        .iter()
        .map(|(_, label, v)| json!({"title": *label, "value": card_text(v)}))
        .collect();
    body.push(json!({"type": "FactSet", "facts": facts}));
    body.push(
        json!({"type": "TextBlock", "isSubtle": true, "size": "Small", "wrap": true,
        "text": card_text(&format!("IntentGate · deployment {deployment_id}"))}),
    );
    let fallback = if m.test {
        "[TEST] IntentGate notification test".to_string()
    } else {
        format!("IntentGate: {} in tenant {}", m.headline, m.tenant)
    };
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "fallbackText": fallback,
                "msteams": {"width": "Full"},
                "body": body,
            },
        }],
    })
}

// --- PagerDuty ---------------------------------------------------------------------------------------

/// The Events API v2 `trigger` event, at most [`PAGERDUTY_MAX_BYTES`]. `dedup_key` is the
/// entry's `event_id`, so a retried delivery updates the same alert instead of paging twice.
pub fn pagerduty_body(m: &Message, deployment_id: &str, routing_key: &str) -> Value {
    within(m, PAGERDUTY_MAX_BYTES, |m| {
        pagerduty_event(m, deployment_id, routing_key)
    })
}

fn pagerduty_event(m: &Message, deployment_id: &str, routing_key: &str) -> Value {
    let mut details = Map::new();
    for (key, _, v) in m.facts.iter().chain(m.untrusted.iter()) {
        details.insert((*key).to_string(), Value::String(v.clone()));
    }
    if let Some(note) = &m.note {
        details.insert("note".into(), Value::String(note.clone()));
    }
    if m.test {
        details.insert("test".into(), Value::Bool(true));
    }
    json!({
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": m.dedup_key,
        "client": "IntentGate",
        "payload": {
            "summary": m.summary(),
            "source": format!("intentgate/{deployment_id}"),
            "severity": m.severity,
            "timestamp": m.timestamp,
            "component": m.component,
            "group": m.tenant,
            "class": m.class,
            "custom_details": details,
        },
    })
}

/// The body a channel of `kind` gets for `m`. `routing_key` is PagerDuty's (or a stand-in for
/// previews).
pub fn body(kind: ChannelKind, m: &Message, deployment_id: &str, routing_key: &str) -> Value {
    match kind {
        ChannelKind::Slack => slack_body(m, deployment_id),
        ChannelKind::Teams => teams_body(m, deployment_id),
        ChannelKind::PagerDuty => pagerduty_body(m, deployment_id, routing_key),
    }
}

// --- The sink ------------------------------------------------------------------------------------------

/// One channel as an outbox sink.
pub struct ChannelSink {
    sink_name: String,
    info: ChannelInfo,
    target: Target,
    client: HttpClient,
    deployment_id: Arc<str>,
}

impl fmt::Debug for ChannelSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChannelSink")
            .field("name", &self.sink_name)
            .field("info", &self.info)
            .field("target", &self.target)
            .finish()
    }
}

impl ChannelSink {
    pub fn info(&self) -> &ChannelInfo {
        &self.info
    }

    /// Post one message; the receiver's answer on success.
    pub async fn send(&self, m: &Message) -> Result<super::http::Answer, SinkError> {
        let key = self.target.routing_key.as_deref().unwrap_or_default();
        let body = body(self.info.kind, m, &self.deployment_id, key);
        let bytes = serde_json::to_vec(&body).map_err(|e| SinkError::transient(e.to_string()))?;
        let headers = [("content-type", "application/json".to_string())];
        self.client.post(&self.target.url, &headers, bytes).await
    }
}

#[async_trait]
impl Sink for ChannelSink {
    fn name(&self) -> &str {
        &self.sink_name
    }

    fn kind(&self) -> &'static str {
        self.info.kind.as_str()
    }

    fn tenant(&self) -> Option<&str> {
        Some(&self.info.tenant)
    }

    fn wants(&self, entry: &Entry) -> bool {
        self.info.wants(entry)
    }

    /// One finding per message: each is its own Slack post, Teams card or PagerDuty alert.
    fn max_batch(&self) -> usize {
        1
    }

    async fn deliver(&self, entries: &[Entry]) -> Result<(), SinkError> {
        for entry in entries {
            self.send(&Message::of_entry(entry)).await?;
        }
        Ok(())
    }
}

// --- The channels of this igd --------------------------------------------------------------------------

/// What the last reconcile handed over, by channel id: the sinks, and the channels that could
/// not be opened (each logged once, when first seen, and shown as `unusable`).
#[derive(Default)]
struct Applied {
    sinks: std::collections::BTreeMap<String, Arc<dyn Sink>>,
    unusable: std::collections::BTreeMap<String, IntegrationStatus>,
}

impl Applied {
    /// Whether `records` are the channels this set was made of.
    fn same_ids(&self, records: &[NotifyChannelRecord]) -> bool {
        self.sinks.len() + self.unusable.len() == records.len()
            && records
                .iter()
                .all(|r| self.sinks.contains_key(&r.id) || self.unusable.contains_key(&r.id))
    }
}

impl fmt::Debug for Applied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Applied")
            .field("sinks", &self.sinks.keys().collect::<Vec<_>>())
            .field("unusable", &self.unusable.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The least time between two test messages to one channel.
pub const TEST_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// The channels service: the sealing key, the HTTP clients the channels post with (the
/// outbox's, and a public-only one for channels a tenant-confined admin added), and the sinks
/// the outbox was last given.
#[derive(Debug)]
pub struct Channels {
    sealer: ChannelSealer,
    client: HttpClient,
    /// `Err`: it could not be built, and public-only channels cannot be opened.
    public_client: Result<HttpClient, String>,
    deployment_id: Arc<str>,
    /// What the last reconcile handed over (`None`: never); held across a reconcile so two
    /// never interleave.
    applied: tokio::sync::Mutex<Option<Applied>>,
    /// The channels of the last reconcile that could not be opened, as integrations show them.
    unusable: std::sync::Mutex<Vec<IntegrationStatus>>,
    /// When each channel was last sent a test message.
    tested: std::sync::Mutex<std::collections::HashMap<String, std::time::Instant>>,
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Channels {
    pub fn new(
        configured: Option<&Secret>,
        master: &MasterKey,
        deployment_id: &str,
        client: HttpClient,
    ) -> Channels {
        let public_client = HttpClient::new_public_only();
        if let Err(e) = &public_client {
            tracing::error!(error = %e, "the public-only HTTP client cannot be built; channels added by tenant admins cannot be used");
        }
        Channels {
            sealer: ChannelSealer::new(configured, master),
            client,
            public_client,
            deployment_id: Arc::from(deployment_id),
            applied: tokio::sync::Mutex::new(None),
            unusable: std::sync::Mutex::new(Vec::new()),
            tested: std::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }

    pub fn sealer(&self) -> &ChannelSealer {
        &self.sealer
    }

    pub fn deployment_id(&self) -> &str {
        &self.deployment_id
    }

    /// A stored channel as a sink; `Err` says why it cannot be used (never the secret).
    pub fn open(&self, rec: &NotifyChannelRecord) -> Result<ChannelSink, String> {
        let info = ChannelInfo::of(rec).ok_or_else(|| {
            format!(
                "channel {} names a kind or event this igd does not know",
                rec.id
            )
        })?;
        let target = self
            .sealer
            .open(&rec.tenant, &rec.id, &rec.target_sealed)
            .ok_or_else(|| {
                format!(
                    "channel {} cannot be opened: it was sealed under another key (INTENTGATE_MASTER_KEY or INTENTGATE_TOTP_ENCRYPTION_KEY changed) or altered; remove and add it again",
                    rec.id
                )
            })?;
        let client = if target.public_only {
            self.public_client.clone().map_err(|e| {
                format!(
                    "channel {} cannot be used: the public-only HTTP client cannot be built: {e}",
                    rec.id
                )
            })?
        } else {
            self.client.clone()
        };
        Ok(ChannelSink {
            sink_name: format!("notify:{}", rec.id),
            info,
            target,
            client,
            deployment_id: self.deployment_id.clone(),
        })
    }

    /// Take the right to send channel `id` a test message now: `Err(wait)` when one was sent
    /// less than [`TEST_INTERVAL`] ago.
    pub fn take_test(&self, id: &str) -> Result<(), std::time::Duration> {
        let now = std::time::Instant::now();
        let mut tested = lock(&self.tested);
        tested.retain(|_, at| now.duration_since(*at) < TEST_INTERVAL);
        if let Some(at) = tested.get(id) {
            return Err(TEST_INTERVAL.saturating_sub(now.duration_since(*at)));
        }
        tested.insert(id.to_string(), now);
        Ok(())
    }

    /// The channels that could not be opened, as `GET /v1/admin/integrations` shows them
    /// (state `unusable`, the reason as `last_error`).
    pub fn unusable(&self) -> Vec<IntegrationStatus> {
        lock(&self.unusable).clone()
    }

    /// How a channel that cannot be opened shows among the integrations.
    fn unusable_status(rec: &NotifyChannelRecord, why: String) -> IntegrationStatus {
        IntegrationStatus {
            name: format!("notify:{}", rec.id),
            kind: rec.kind.clone(),
            tenant: Some(rec.tenant.clone()),
            state: "unusable".into(),
            holder: None,
            cursors: Vec::new(),
            lag_entries: 0,
            oldest_pending_seconds: None,
            delivered: 0,
            failed: 0,
            last_error: Some(why),
            last_error_at: None,
            last_delivery_at: None,
            next_attempt_at: None,
        }
    }

    /// The stored channels as sinks, reusing the ones already handed over (channels never
    /// change, so a running sink stays as it is, and one that did not open will not); one that
    /// does not open is logged (by id) when first seen and left out. `None` when the set of
    /// channel ids is the one last applied.
    async fn sinks(
        &self,
        store: &DynStore,
        applied: &Option<Applied>,
    ) -> Result<Option<Applied>, StoreError> {
        let records = store.notify_channels().await?;
        if applied.as_ref().is_some_and(|a| a.same_ids(&records)) {
            return Ok(None);
        }
        let mut next = Applied::default();
        for rec in &records {
            if let Some(running) = applied.as_ref().and_then(|a| a.sinks.get(&rec.id)) {
                next.sinks.insert(rec.id.clone(), running.clone());
                continue;
            }
            if let Some(known) = applied.as_ref().and_then(|a| a.unusable.get(&rec.id)) {
                next.unusable.insert(rec.id.clone(), known.clone());
                continue;
            }
            match self.open(rec) {
                Ok(sink) => {
                    next.sinks.insert(rec.id.clone(), Arc::new(sink));
                }
                Err(why) => {
                    tracing::error!(channel = %rec.id, tenant = %rec.tenant, "{why}");
                    next.unusable
                        .insert(rec.id.clone(), Self::unusable_status(rec, why));
                }
            }
        }
        Ok(Some(next))
    }
}

/// Hand the stored channels to the outbox (at start, after every add and remove, and on a
/// shared store whenever another replica changed them). Returns how many sinks it handed over,
/// `None` when nothing changed.
pub async fn reconcile(gw: &crate::gateway::Gateway) -> Result<Option<usize>, StoreError> {
    let mut applied = gw.notify.applied.lock().await;
    let Some(sinks) = gw.notify.sinks(&gw.store, &applied).await? else {
        return Ok(None);
    };
    let n = sinks.sinks.len();
    gw.outbox
        .reconcile_dynamic(sinks.sinks.values().cloned().collect());
    *lock(&gw.notify.unusable) = sinks.unusable.values().cloned().collect();
    // A new channel starts at the chain heads of now, taken before this returns: every finding
    // chained after an add has answered reaches the channel.
    gw.outbox.register().await;
    *applied = Some(sinks);
    Ok(Some(n))
}

/// How often a replica on a shared store rereads the channels (another replica may have added
/// or removed one).
const SHARED_RESYNC: std::time::Duration = std::time::Duration::from_secs(5);

/// Reconcile at start (after the outbox exists); on a shared store, again every
/// [`SHARED_RESYNC`] until `stop`; a failed first load is retried on the same tick.
pub async fn follow(
    gw: Arc<crate::gateway::Gateway>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(SHARED_RESYNC);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let loaded = gw.notify.applied.lock().await.is_some();
        // One process on SQLite: only its own adds and removes change the set, and they
        // reconcile themselves.
        if !loaded || gw.store.shared() {
            match reconcile(&gw).await {
                Ok(Some(n)) => tracing::info!(channels = n, "notification channels loaded"),
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the notification channels; keeping the current set")
                }
            }
        }
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> MasterKey {
        MasterKey::parse(&"ab".repeat(32)).unwrap()
    }

    #[test]
    fn sealed_targets_open_only_for_their_channel_and_key() {
        let sealer = ChannelSealer::new(None, &key());
        let t = Target::new(
            ChannelKind::Slack,
            Some("https://hooks.slack.com/services/T0/B0/secret"),
            None,
            false,
        )
        .unwrap();
        let sealed = sealer.seal("acme", "ntf_1", &t);
        assert!(!String::from_utf8_lossy(&sealed).contains("secret"));
        let opened = sealer.open("acme", "ntf_1", &sealed).unwrap();
        assert_eq!(opened.url, t.url);
        assert!(sealer.open("other", "ntf_1", &sealed).is_none());
        assert!(sealer.open("acme", "ntf_2", &sealed).is_none());
        let other = ChannelSealer::new(Some(&Secret::new("cd".repeat(32))), &key());
        assert!(other.open("acme", "ntf_1", &sealed).is_none());
        let mut flipped = sealed.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(sealer.open("acme", "ntf_1", &flipped).is_none());
        assert_eq!(format!("{opened:?}"), "Target(<redacted>)");
    }

    #[test]
    fn targets_are_checked_without_echoing_them() {
        let e = Target::new(
            ChannelKind::Teams,
            Some("http://example.com/secret-path"),
            None,
            false,
        )
        .unwrap_err();
        assert!(!e.contains("secret-path"), "{e}");
        assert!(Target::new(
            ChannelKind::Slack,
            Some("http://127.0.0.1:9/x"),
            None,
            false
        )
        .is_ok());
        assert!(Target::new(ChannelKind::Slack, None, None, false).is_err());
        assert!(Target::new(ChannelKind::Slack, Some("https://h/x"), Some("k"), false).is_err());
        let pd = Target::new(
            ChannelKind::PagerDuty,
            None,
            Some("R0123456789abcdef0123"),
            false,
        )
        .unwrap();
        assert_eq!(pd.url, PAGERDUTY_EVENTS_URL);
        assert_eq!(pd.host(), "events.pagerduty.com");
        assert!(Target::new(ChannelKind::PagerDuty, None, Some("short"), false).is_err());
        assert!(Target::new(
            ChannelKind::PagerDuty,
            None,
            Some("has space 0123456789"),
            false
        )
        .is_err());
    }

    #[test]
    fn tenant_admins_channels_reach_public_addresses_only() {
        const KEY: &str = "R0123456789abcdef0123";
        for url in [
            "http://127.0.0.1:9/x",
            "https://127.0.0.1/x",
            "https://169.254.169.254/latest/meta-data",
            "https://10.1.2.3/x",
            "https://172.16.0.1/x",
            "https://192.168.0.1/x",
            "https://100.64.0.1/x",
            "https://0.0.0.0/x",
            "https://[::1]/x",
            "https://[fe80::1]/x",
            "https://[fd00::1]/x",
            "https://localhost/secretPath",
            "https://localhost./x",
            "http://hooks.example.com/x",
        ] {
            let e = Target::new(ChannelKind::Slack, Some(url), None, true).unwrap_err();
            assert_eq!(e, PUBLIC_ONLY_RULE, "{url}");
            let e = Target::new(ChannelKind::PagerDuty, Some(url), Some(KEY), true).unwrap_err();
            assert_eq!(e, PUBLIC_ONLY_RULE, "{url}");
            // An unconfined admin's channel keeps the old rule.
            let old = Target::new(ChannelKind::Slack, Some(url), None, false);
            assert_eq!(
                old.is_ok(),
                url.starts_with("https://") || url.starts_with("http://127."),
                "{url}"
            );
        }
        let t = Target::new(
            ChannelKind::Teams,
            Some("https://acme.webhook.office.com/x"),
            None,
            true,
        )
        .unwrap();
        assert!(t.public_only);
        let pd = Target::new(ChannelKind::PagerDuty, None, Some(KEY), true).unwrap();
        assert!(pd.public_only);
        // The rule is sealed with the channel.
        let sealer = ChannelSealer::new(None, &key());
        let opened = sealer
            .open("acme", "ntf_1", &sealer.seal("acme", "ntf_1", &t))
            .unwrap();
        assert!(opened.public_only);
        let plain = Target::new(ChannelKind::Slack, Some("https://h/x"), None, false).unwrap();
        let opened = sealer
            .open("acme", "ntf_1", &sealer.seal("acme", "ntf_1", &plain))
            .unwrap();
        assert!(!opened.public_only);
    }

    #[test]
    fn tests_are_rate_limited_per_channel() {
        let ch = Channels::new(None, &key(), "dep", HttpClient::new().unwrap());
        assert!(ch.take_test("ntf_a").is_ok());
        let wait = ch.take_test("ntf_a").unwrap_err();
        assert!(wait <= TEST_INTERVAL && !wait.is_zero(), "{wait:?}");
        assert!(ch.take_test("ntf_b").is_ok());
    }

    /// Five agent-controlled values of 100 000 four-byte characters each (and JSON and
    /// markup punctuation).
    fn huge() -> Message {
        let mut m = Message::of_entry(&hostile());
        let big = |c: &str| format!("{}\"<>&`{}", "𝄞".repeat(50_000), "😀".repeat(50_000)) + c;
        m.untrusted = vec![
            ("tool", "Tool", big("t")),
            ("method", "Method", big("m")),
            ("agent", "Agent", big("a")),
            ("delegated_subject", "Delegated subject", big("d")),
            ("reason", "Reason", big("r")),
        ];
        m
    }

    fn reparsed(body: &Value) -> (usize, Value) {
        let bytes = serde_json::to_vec(body).unwrap();
        (bytes.len(), serde_json::from_slice(&bytes).unwrap())
    }

    #[test]
    fn every_body_stays_within_its_services_size() {
        let m = huge();
        let (size, teams) = reparsed(&teams_body(&m, "dep"));
        assert!(size <= TEAMS_MAX_BYTES, "teams: {size} bytes");
        let card = teams["attachments"][0]["content"]["body"].to_string();
        assert!(card.contains(TRUNCATED), "teams does not mark the cut");
        assert!(card.contains("Delegated subject"), "a value was dropped");
        let (size, pd) = reparsed(&pagerduty_body(&m, "dep", "KEY"));
        assert!(size <= PAGERDUTY_MAX_BYTES, "pagerduty: {size} bytes");
        let details = &pd["payload"]["custom_details"];
        assert!(details["reason"].as_str().unwrap().ends_with(TRUNCATED));
        assert!(
            pd["payload"]["summary"].as_str().unwrap().chars().count() <= PAGERDUTY_SUMMARY_MAX
        );
        // Slack's documented limits: ≤ 50 blocks, a header ≤ 150, a section's text ≤ 3000,
        // ≤ 10 fields of ≤ 2000, the top-level text ≤ 40 000 characters.
        let (_, slack) = reparsed(&slack_body(&m, "dep"));
        let blocks = slack["blocks"].as_array().unwrap();
        assert!(blocks.len() <= 50);
        assert!(slack["text"].as_str().unwrap().chars().count() <= 40_000);
        for block in blocks {
            if let Some(t) = block["text"]["text"].as_str() {
                let max = if block["type"] == "header" {
                    SLACK_HEADER_MAX
                } else {
                    SLACK_SECTION_MAX
                };
                assert!(t.chars().count() <= max, "{} chars", t.chars().count());
            }
            let fields = block["fields"].as_array().cloned().unwrap_or_default();
            assert!(fields.len() <= 10);
            for f in fields {
                assert!(f["text"].as_str().unwrap().chars().count() <= SLACK_FIELD_MAX);
            }
            for e in block["elements"].as_array().into_iter().flatten() {
                assert!(e["text"].as_str().unwrap().chars().count() <= SLACK_SECTION_MAX);
            }
        }
        assert!(slack.to_string().contains("Delegated subject"));
        // An ordinary finding is not cut.
        let (_, teams) = reparsed(&teams_body(
            &Message::of_entry(&sample_entry("acme")),
            "dep",
        ));
        assert!(!teams.to_string().contains(TRUNCATED));
    }

    #[test]
    fn truncation_keeps_characters_whole() {
        let s = truncate_bytes(&"😀".repeat(100), 50);
        assert!(s.len() <= 50 && s.ends_with(TRUNCATED), "{s}");
        assert!(s.starts_with("😀"));
        assert_eq!(truncate_bytes("short", 50), "short");
        assert_eq!(truncate_bytes("long text", 0), TRUNCATED);
    }

    fn hostile() -> Entry {
        Entry {
            tenant: "acme".into(),
            kind: "decision".into(),
            event_id: "ab".repeat(16),
            decision: Some("block".into()),
            check: Some("policy".into()),
            tool: Some("x<!channel> `<http://evil|x>` @here".into()),
            subject: Some("a".repeat(10_000)),
            reason: Some("&<>".repeat(5_000)),
            ..Entry::default()
        }
    }

    #[test]
    fn slack_escapes_and_respects_limits() {
        let body = slack_body(&Message::of_entry(&hostile()), "dep");
        let text = body.to_string();
        for bad in ["<!channel>", "<http://evil|x>", "@here"] {
            assert!(!text.contains(bad), "{bad} reached the payload");
        }
        for block in body["blocks"].as_array().unwrap() {
            if let Some(t) = block["text"]["text"].as_str() {
                let max = if block["type"] == "header" {
                    SLACK_HEADER_MAX
                } else {
                    SLACK_SECTION_MAX
                };
                assert!(t.chars().count() <= max, "{} chars", t.chars().count());
            }
            for f in block["fields"].as_array().into_iter().flatten() {
                assert!(f["text"].as_str().unwrap().chars().count() <= SLACK_FIELD_MAX);
            }
        }
    }

    #[test]
    fn escaping_never_splits_an_entity() {
        let s = slack_escape("<<<<", 8, false);
        assert_eq!(s, "&lt;…");
        let s = slack_escape("a`b", 10, true);
        assert_eq!(s, "`aˋb`");
    }

    #[test]
    fn pagerduty_summary_is_bounded_and_dedups_on_the_event() {
        let m = Message::of_entry(&hostile());
        let body = pagerduty_body(&m, "dep", "KEY");
        let summary = body["payload"]["summary"].as_str().unwrap();
        assert!(summary.chars().count() <= PAGERDUTY_SUMMARY_MAX);
        assert_eq!(body["dedup_key"], "ab".repeat(16));
        assert_eq!(body["payload"]["severity"], "error");
        assert_eq!(body["payload"]["class"], "deny");
    }

    #[test]
    fn teams_keeps_agent_text_in_text_runs() {
        let body = teams_body(&Message::of_entry(&hostile()), "dep");
        let card = &body["attachments"][0]["content"];
        assert_eq!(card["version"], "1.4");
        for el in card["body"].as_array().unwrap() {
            if el["type"] == "TextBlock" {
                assert!(!el["text"].as_str().unwrap().contains("<!channel>"));
            }
        }
    }
}
