//! The shared state of a running igd: settings, keys, store, audit writer, and the in-memory
//! revocation and stop sets that every call is checked against without touching the database.

use crate::audit::AuditWriter;
use crate::budget::Budgets;
use crate::checkpoints::Signer;
use crate::config::Settings;
use crate::intent::Extractor;
use crate::policies::PolicyLayers;
use crate::policy::PolicySnapshot;
use crate::revocations::Revocations;
use crate::secrets::Keys;
use crate::server_requests::ServerRequests;
use crate::sessions::Sessions;
use crate::store::DynStore;
use crate::unauth::UnauthenticatedLog;
use crate::upstream::Upstream;
use arc_swap::ArcSwap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Everything a request handler needs.
#[derive(Debug)]
pub struct Gateway {
    pub settings: Settings,
    pub keys: Keys,
    pub store: DynStore,
    pub audit: AuditWriter,
    pub instance: String,
    pub deployment_id: String,
    /// The policy in force, read by every call.
    pub policy: ArcSwap<PolicySnapshot>,
    /// Which policy layer decides, and the store's active pointer.
    pub policies: PolicyLayers,
    pub budgets: Arc<Budgets>,
    pub sessions: Sessions,
    pub upstream: Upstream,
    pub unauthenticated: UnauthenticatedLog,
    /// Requests upstream sent to 2025-era client sessions, awaiting the client's response.
    pub server_requests: ServerRequests,
    pub signer: Arc<Signer>,
    pub revocations: Revocations,
    /// The intent classifier (`INTENTGATE_EXTRACTOR`).
    pub intent: Extractor,
    /// The approvals queue (`None`: `INTENTGATE_APPROVAL_QUEUE=off`).
    pub approvals: Option<Arc<crate::approvals::Approvals>>,
    /// TOTP step-up: sealed secrets, code checks, lock-out.
    pub totp: crate::totp::TotpService,
    /// The audit fan-out: sinks, their cursors and status (DESIGN §8).
    pub outbox: Arc<crate::sinks::outbox::Outbox>,
    /// Notification channels (Slack, Teams, PagerDuty): sealing key and HTTP client.
    pub notify: crate::sinks::notify::Channels,
    ready: AtomicBool,
}

/// What a [`Gateway`] is built from.
#[derive(Debug)]
pub struct Parts {
    pub settings: Settings,
    pub keys: Keys,
    pub store: DynStore,
    pub audit: AuditWriter,
    pub instance: String,
    pub deployment_id: String,
    pub policy: PolicySnapshot,
    pub budgets: Arc<Budgets>,
    pub upstream: Upstream,
    pub signer: Arc<Signer>,
    pub intent: Extractor,
    pub outbox: Arc<crate::sinks::outbox::Outbox>,
}

impl Gateway {
    pub fn new(p: Parts) -> Self {
        let sessions = Sessions::new(
            p.keys.master.derive(intentgate_proto::keys::INFO_SESSION),
            p.settings.session_idle_timeout,
            p.settings.session_ops_per_minute,
        );
        let unauthenticated = UnauthenticatedLog::new(p.audit.clone(), p.settings.audit_unauth_rps);
        let policies = PolicyLayers::new(
            p.policy.clone(),
            p.settings.policy_file.is_some(),
            p.settings.policy_store,
            std::time::Duration::from_millis(p.settings.policy_timeout_ms),
        );
        let approvals = p.settings.approval_queue.then(|| {
            Arc::new(crate::approvals::Approvals::new(
                p.store.clone(),
                p.audit.clone(),
                p.settings.approval_timeout_secs,
                p.settings.audit_persist_arg_values,
            ))
        });
        let totp = crate::totp::TotpService::new(
            p.store.clone(),
            p.settings.totp_encryption_key.as_ref(),
            &p.keys.master,
        );
        let notify = crate::sinks::notify::Channels::new(
            p.settings.totp_encryption_key.as_ref(),
            &p.keys.master,
            &p.deployment_id,
            p.outbox.http_client().clone(),
        );
        Gateway {
            approvals,
            totp,
            outbox: p.outbox,
            notify,
            settings: p.settings,
            keys: p.keys,
            store: p.store,
            audit: p.audit,
            instance: p.instance,
            deployment_id: p.deployment_id,
            policy: ArcSwap::from_pointee(p.policy),
            policies,
            budgets: p.budgets,
            sessions,
            upstream: p.upstream,
            unauthenticated,
            server_requests: ServerRequests::default(),
            signer: p.signer,
            revocations: Revocations::default(),
            intent: p.intent,
            ready: AtomicBool::new(false),
        }
    }

    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Release);
    }

    /// True once revocations and stops are loaded and the store answered.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// The handles a call's pipeline runs with.
    pub fn pipeline(&self) -> crate::pipeline::Handles<'_> {
        crate::pipeline::Handles {
            revocations: &self.revocations,
            policy: &self.policy,
            budgets: &self.budgets,
            intent: &self.intent,
            audit: &self.audit,
            persist_args: self.settings.audit_persist_arg_values,
            approvals: self.approvals.as_deref(),
        }
    }
}
