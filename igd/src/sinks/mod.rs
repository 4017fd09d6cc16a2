//! Audit fan-out (DESIGN §8): the audit chain is the outbox. Each sink keeps a persisted
//! cursor per tenant chain and delivers what lies past it in the background, in batches, with
//! retry and backoff; nothing is dropped when a sink is slow or down, and nothing here is ever
//! on the decision path. With several replicas a lease on the sink makes one of them deliver.
//!
//! A sink is a [`Sink`]: the SIEM sinks and the webhook are configured at start; notification
//! channels (Slack, Teams, PagerDuty) live in the state store, scoped to one tenant each.

pub mod http;
pub mod notify;
pub mod outbox;
pub mod siem;
pub mod webhook;

use async_trait::async_trait;
use intentgate_proto::audit::Entry;
use std::time::Duration;

/// Why a delivery did not land. Every failure is retried (nothing is dropped): `retry_after`
/// is the receiver's `Retry-After`, when it sent one.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct SinkError {
    pub message: String,
    pub retry_after: Option<Duration>,
    /// The receiver refused the request itself (a 4xx other than 408/429): retrying the same
    /// bytes will not help until someone fixes the sink's settings, so the outbox backs off to
    /// its longest wait and says so.
    pub refused: bool,
}

impl SinkError {
    pub fn transient(message: impl Into<String>) -> Self {
        SinkError {
            message: message.into(),
            retry_after: None,
            refused: false,
        }
    }
}

/// One destination of the fan-out.
#[async_trait]
pub trait Sink: Send + Sync + std::fmt::Debug {
    /// Stable and unique: the key of its cursor and lease (`webhook`, `splunk`, `datadog`,
    /// `sentinel`, `notify:<channel id>`).
    fn name(&self) -> &str;
    /// What it is (`webhook`, `splunk`, `datadog`, `sentinel`, `slack`, `teams`,
    /// `pagerduty`): the `sink` label of its metrics and what integrations show.
    fn kind(&self) -> &'static str;
    /// Only this tenant's chain (notification channels), or every chain (`None`).
    fn tenant(&self) -> Option<&str> {
        None
    }
    /// Whether an entry is delivered; the cursor moves past the others.
    fn wants(&self, entry: &Entry) -> bool;
    /// The most entries one delivery carries.
    fn max_batch(&self) -> usize {
        100
    }
    /// Deliver `entries` (in chain order, all of one tenant). All or nothing from the
    /// outbox's view: an error retries the whole batch later, so a receiver may see an entry
    /// twice and deduplicates by its `event_id`.
    async fn deliver(&self, entries: &[Entry]) -> Result<(), SinkError>;
}

/// What an entry is, for the sinks that deliver findings only (the webhook's
/// `INTENTGATE_WEBHOOK_EVENTS`, notification channels, `INTENTGATE_SIEM_EVENTS=findings`).
/// An entry can be several (an escalation that asks for step-up); the first is its primary
/// class, in the order deny, escalate, approval_timeout, requires_step_up.
pub fn classes(entry: &Entry) -> Vec<crate::ops_settings::WebhookEvent> {
    use crate::ops_settings::WebhookEvent;
    let mut out = Vec::new();
    match entry.kind.as_str() {
        "decision" => {
            match entry.decision.as_deref() {
                Some("block") => out.push(WebhookEvent::Deny),
                Some("escalate") => out.push(WebhookEvent::Escalate),
                _ => {}
            }
            if entry.requires_step_up == Some(true) {
                out.push(WebhookEvent::RequiresStepUp);
            }
        }
        "approval" if entry.action.as_deref() == Some("timeout") => {
            out.push(WebhookEvent::ApprovalTimeout)
        }
        _ => {}
    }
    out
}

/// Findings for `INTENTGATE_SIEM_EVENTS=findings`: every class above, plus approval decisions
/// and admin actions (what an auditor looks for first).
pub fn is_finding(entry: &Entry) -> bool {
    !classes(entry).is_empty() || matches!(entry.kind.as_str(), "approval" | "admin")
}

/// The sinks the settings configure at start (`settings.ops.sinks`), sharing `client`.
/// Notification channels are runtime-managed: [`outbox::Outbox::reconcile_dynamic`].
pub fn configured(
    settings: &crate::config::Settings,
    client: &http::HttpClient,
) -> Vec<std::sync::Arc<dyn Sink>> {
    let mut sinks: Vec<std::sync::Arc<dyn Sink>> = Vec::new();
    if let Some(w) = &settings.ops.sinks.webhook {
        match webhook::WebhookSink::new(w, client.clone()) {
            Ok(s) => sinks.push(std::sync::Arc::new(s)),
            // Unreachable after config validation (the secret was decoded there); said loudly.
            Err(e) => tracing::error!(error = %e, "the webhook sink cannot start"),
        }
    }
    // --- SIEM sinks (Splunk, Datadog, Sentinel) are added here: ---------------------------
    sinks.extend(siem::configured(&settings.ops.sinks, client));
    sinks
}
