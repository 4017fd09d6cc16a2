//! Signing checkpoints of every chain's head (DESIGN §5).
//!
//! The Ed25519 key lives in a PEM file (`INTENTGATE_AUDIT_SIGNING_KEY`, the systemd credential
//! `audit_signing_key`, or a generated `<data dir>/audit-signing.pem` on the embedded default),
//! never in the database. A state file beside it keeps the last (size, hash) signed per tenant:
//! the signer refuses, loudly, to sign a head that regresses or forks from it, so a restored or
//! rewritten database cannot be silently re-anchored.
//!
//! With a store several replicas share, every replica signs (whichever advances first); each
//! keeps its own state file (in its data dir), continues from the newest checkpoint signed with
//! the deployment's key when another replica signed further, and shares the trust-bearing
//! entries it writes through the store, each record signed with the key: a record written into
//! the database by hand carries no valid signature and anchors nothing.

use crate::audit::AuditWriter;
use crate::audit::Record;
use crate::clock::now_us;
use crate::config::{ConfigError, Settings};
use crate::store::{CheckpointRecord, DynStore};
use ed25519_dalek::Signer as _;
use ed25519_dalek::SigningKey;
use intentgate_proto::audit::Kind;
use intentgate_proto::checkpoint::{
    signing_key_from_pem, signing_key_pem, Checkpoint, KeyVouching, VerifierKey,
};
use intentgate_proto::ids::SYSTEM_TENANT;
use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The last head signed for one tenant.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Signed {
    size: u64,
    hash: String,
}

/// A trust-bearing entry (a `marker` or a `checkpoint-key` announcement) this igd is about to
/// chain: the signer anchors such entries only when it wrote them itself, so one written into
/// the database by hand (or one of igd's edited) is never covered by a genuine checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Own {
    tenant: String,
    event_id: String,
    /// The entry's hash as if sealed at seq 0 on genesis: every field but its position.
    digest: String,
}

/// Metadata key prefix of the own entries a replica shares (followed by tenant, US, event id).
const OWN_PREFIX: &str = "signer-own\u{1f}";

impl Own {
    /// Where a shared store keeps this record.
    fn shared_key(&self) -> String {
        format!("{OWN_PREFIX}{}\u{1f}{}", self.tenant, self.event_id)
    }

    /// What the record's signature covers.
    fn message(&self) -> String {
        format!(
            "intentgate signer-own v1\n{}\n{}\n{}",
            self.tenant, self.event_id, self.digest
        )
    }

    fn of(e: &intentgate_proto::audit::Entry) -> Self {
        // Sealed the way the writer seals it, at a fixed position (entries recorded before
        // they are chained carry no version or position yet).
        let mut content = e.clone();
        content.seal(0, intentgate_proto::audit::GENESIS_HASH);
        Own {
            tenant: e.tenant.clone(),
            event_id: e.event_id.clone(),
            digest: content.compute_hash(),
        }
    }
}

/// Own entries pending per tenant at most: beyond, a new marker or announcement is refused
/// (signing of that chain is stuck and needs attention), never another tenant's evicted.
const MAX_OWN_PER_TENANT: usize = 16;

/// What the state file keeps, outside the database.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    /// The last head signed per tenant.
    heads: BTreeMap<String, Signed>,
    /// Trust-bearing entries chained by this igd that no checkpoint covers yet.
    #[serde(default)]
    own: Vec<Own>,
}

/// Entries of other than an ordinary kind read back per signing at most (markers and key
/// announcements are rare; beyond this the range is refused, not partly checked).
const MAX_UNUSUAL: u32 = 10_000;

/// The entry kinds that change what verifiers trust or excuse.
const TRUST_KINDS: [&str; 2] = [Kind::Marker.as_str(), Kind::CheckpointKey.as_str()];

/// Write the state durably: a temporary file, fsync, rename.
fn write_state_file(path: &Path, state: &State) -> std::io::Result<()> {
    let text = serde_json::to_string(state).unwrap_or_default();
    let tmp = path.with_extension("state.tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// The checkpoint signer.
pub struct Signer {
    key: SigningKey,
    name: String,
    deployment_id: String,
    state_path: std::sync::Arc<PathBuf>,
    state: Mutex<State>,
    /// Tenants whose chains existed when igd started without a state file: without a trusted
    /// checkpoint in the store to continue from, they are signed again only after a rebaseline.
    unbaselined: Mutex<std::collections::BTreeSet<String>>,
    /// One signing pass at a time (the ticker, a prune, the shutdown drain), so the state file
    /// never goes back to an older head.
    signing: tokio::sync::Mutex<()>,
    /// Set when other replicas share the store (see the module documentation).
    shared: std::sync::OnceLock<DynStore>,
    /// When a signing pass last found every chain head covered by a signed checkpoint (µs;
    /// igd's start until then): the `checkpoint_age_seconds` metric.
    covered_at: std::sync::atomic::AtomicI64,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("name", &self.name)
            .field("key", &"<redacted>")
            .finish()
    }
}

/// Read or create the signing key; returns it with the path of its state file.
pub fn load_key(
    settings: &Settings,
    env_credentials: Option<PathBuf>,
) -> Result<(SigningKey, PathBuf), ConfigError> {
    let bad = |m: String| ConfigError::new("audit_signing_key", m);
    if let Some(path) = &settings.audit_signing_key {
        let pem = std::fs::read_to_string(path)
            .map_err(|e| bad(format!("cannot read {}: {e}", path.display())))?;
        let key =
            signing_key_from_pem(&pem).map_err(|e| bad(format!("{}: {e}", path.display())))?;
        // The state sits in the key's directory under a fixed name, so installing a rotated
        // key as a new file beside the old one keeps it (a `<key>.state` of earlier builds is
        // read when that file is absent).
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        // Replicas sharing a store each keep their own state, in their own data dir.
        let state = if settings.embedded() {
            dir.join("audit-signing.state")
        } else {
            settings.data_dir.join("audit-signing.state")
        };
        let legacy = path.with_extension("state");
        if !state.exists() && legacy.exists() {
            std::fs::copy(&legacy, &state).map_err(|e| {
                bad(format!(
                    "cannot carry {} over to {}: {e}",
                    legacy.display(),
                    state.display()
                ))
            })?;
        }
        return Ok((key, state));
    }
    if let Some(cred) = env_credentials
        .map(|d| d.join("audit_signing_key"))
        .filter(|p| p.exists())
    {
        let pem = std::fs::read_to_string(&cred)
            .map_err(|e| bad(format!("cannot read credential {}: {e}", cred.display())))?;
        let key = signing_key_from_pem(&pem)
            .map_err(|e| bad(format!("credential audit_signing_key: {e}")))?;
        return Ok((key, settings.data_dir.join("audit-signing.state")));
    }
    if !settings.embedded() {
        return Err(bad(
            "required with INTENTGATE_POSTGRES_URL (replicas must sign with one key)".into(),
        ));
    }
    let path = settings.data_dir.join("audit-signing.pem");
    let pem = crate::secrets::read_or_generate(&path, "audit signing key", || {
        signing_key_pem(&SigningKey::generate(&mut rand::rngs::OsRng))
    })
    .map_err(|e| bad(format!("cannot use {}: {e}", path.display())))?;
    let key = signing_key_from_pem(&pem).map_err(|e| bad(format!("{}: {e}", path.display())))?;
    Ok((key, settings.data_dir.join("audit-signing.state")))
}

impl Signer {
    /// `existing`: the tenants whose chains are already in the store.
    pub fn new(
        key: SigningKey,
        deployment_id: &str,
        state_path: PathBuf,
        existing: Vec<String>,
    ) -> Result<Self, ConfigError> {
        let corrupt = |e: String| {
            ConfigError::new(
                "audit_signing_key",
                format!("signer state {} is corrupt: {e}", state_path.display()),
            )
        };
        let state = match std::fs::read_to_string(&state_path) {
            // The current format, or the earlier one (only the heads).
            Ok(text) => serde_json::from_str::<State>(&text).or_else(|_| {
                serde_json::from_str::<BTreeMap<String, Signed>>(&text)
                    .map(|heads| State {
                        heads,
                        own: Vec::new(),
                    })
                    .map_err(|e| corrupt(e.to_string()))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => State::default(),
            Err(e) => {
                return Err(ConfigError::new(
                    "audit_signing_key",
                    format!("cannot read signer state {}: {e}", state_path.display()),
                ))
            }
        };
        // A chain the state holds no head for (the file lost, emptied or older than the
        // chain) continues from a trusted checkpoint in the store, or waits for a rebaseline.
        let unbaselined: std::collections::BTreeSet<String> = existing
            .into_iter()
            .filter(|t| !state.heads.contains_key(t))
            .collect();
        if !unbaselined.is_empty() {
            tracing::warn!(path = %state_path.display(), tenants = unbaselined.len(), "the signer state holds no head for some chains: each continues from its newest trusted checkpoint in the store, or waits for igctl audit rebaseline");
        }
        // Fail closed at start when the state cannot be kept: a signer whose state is never
        // saved would, after a restart, continue from whatever the database says.
        write_state_file(&state_path, &state).map_err(|e| {
            ConfigError::new(
                "audit_signing_key",
                format!(
                    "cannot write the signer state {} (it must be writable by igd): {e}",
                    state_path.display()
                ),
            )
        })?;
        Ok(Signer {
            key,
            name: format!("intentgate/{deployment_id}"),
            deployment_id: deployment_id.to_string(),
            state_path: std::sync::Arc::new(state_path),
            state: Mutex::new(state),
            unbaselined: Mutex::new(unbaselined),
            signing: tokio::sync::Mutex::new(()),
            shared: std::sync::OnceLock::new(),
            covered_at: std::sync::atomic::AtomicI64::new(now_us()),
        })
    }

    /// Sign alongside other replicas of this store (see the module documentation).
    pub fn share_through(&self, store: DynStore) {
        let _ = self.shared.set(store);
    }

    /// Record an own entry in the shared store, signed.
    async fn share_own(&self, own: &Own) -> std::io::Result<()> {
        let Some(store) = self.shared.get() else {
            return Ok(());
        };
        let signature = self.key.sign(own.message().as_bytes());
        let value = format!("{} {}", own.digest, hex::encode(signature.to_bytes()));
        store
            .init_meta(&own.shared_key(), &value)
            .await
            .map(|_| ())
            .map_err(|e| std::io::Error::other(format!("cannot share with other replicas: {e}")))
    }

    /// The own entries of `tenant` any replica shared, whose signature verifies.
    async fn shared_own(&self, tenant: &str) -> Result<Vec<Own>, String> {
        let Some(store) = self.shared.get() else {
            return Ok(Vec::new());
        };
        let prefix = format!("{OWN_PREFIX}{tenant}\u{1f}");
        let rows = store
            .meta_prefixed(&prefix)
            .await
            .map_err(|e| format!("the replicas' own entries cannot be read ({e})"))?;
        let key = self.key.verifying_key();
        Ok(rows
            .into_iter()
            .filter_map(|(k, v)| {
                let (digest, signature) = v.split_once(' ')?;
                let own = Own {
                    tenant: tenant.to_string(),
                    event_id: k.strip_prefix(&prefix)?.to_string(),
                    digest: digest.to_string(),
                };
                let bytes = hex::decode(signature).ok()?;
                let signature = ed25519_dalek::Signature::from_slice(&bytes).ok()?;
                key.verify_strict(own.message().as_bytes(), &signature)
                    .ok()?;
                Some(own)
            })
            .collect())
    }

    /// Forget shared own entries (anchored, or never appended).
    async fn unshare_own(&self, tenant: &str, event_ids: &[String]) {
        let Some(store) = self.shared.get() else {
            return;
        };
        for id in event_ids {
            let own = Own {
                tenant: tenant.to_string(),
                event_id: id.clone(),
                digest: String::new(),
            };
            if let Err(e) = store.delete_meta(&own.shared_key()).await {
                tracing::warn!(error = %e, tenant, "cannot forget a shared own entry");
            }
        }
    }

    /// With a shared store: the newest checkpoint of `tenant` signed with this key by any
    /// replica, when it is past `local`.
    async fn newer_shared_head(&self, tenant: &str, local: Option<&Signed>) -> Option<Signed> {
        let store = self.shared.get()?;
        let rows = store.checkpoints(Some(tenant), 8).await.ok()?;
        let keys = [self.verifier_key()];
        let (size, hash) = self
            .trusted_heads(&rows, &keys, tenant)
            .max_by_key(|(size, _)| *size)?;
        (local.is_none_or(|l| size > l.size)).then_some(Signed { size, hash })
    }

    fn lock_state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The head this signer last signed for `tenant` (an anchor for igd's own verification).
    pub fn last_head(&self, tenant: &str) -> Option<(u64, String)> {
        self.lock_state()
            .heads
            .get(tenant)
            .map(|s| (s.size, s.hash.clone()))
    }

    /// Every tenant this signer has signed a head for (a chain deleted whole still shows here).
    pub fn signed_tenants(&self) -> Vec<String> {
        self.lock_state().heads.keys().cloned().collect()
    }

    /// Remember, durably, a trust-bearing entry igd is about to chain (before appending it), so
    /// the signer will anchor it.
    pub async fn expect(&self, e: &intentgate_proto::audit::Entry) -> std::io::Result<()> {
        let _one_pass = self.signing.lock().await;
        let snapshot = {
            let state = self.lock_state();
            let pending = state.own.iter().filter(|o| o.tenant == e.tenant).count();
            if pending >= MAX_OWN_PER_TENANT {
                return Err(std::io::Error::other(format!(
                    "{pending} markers or key announcements of {} are still unsigned (see igd's log for why it is not signed)",
                    e.tenant
                )));
            }
            let mut next = state.clone();
            next.own.push(Own::of(e));
            next
        };
        self.save_state(snapshot.clone()).await?;
        *self.lock_state() = snapshot;
        self.share_own(&Own::of(e)).await
    }

    /// Forget a recorded own entry whose append failed (it never reached the chain).
    pub async fn forget_pending(&self, e: &intentgate_proto::audit::Entry) {
        let _one_pass = self.signing.lock().await;
        let own = Own::of(e);
        let mut next = self.lock_state().clone();
        next.own.retain(|o| *o != own);
        if self.save_state(next.clone()).await.is_ok() {
            *self.lock_state() = next;
        }
        self.unshare_own(&own.tenant, std::slice::from_ref(&own.event_id))
            .await;
    }

    /// The public key as a verifier key string.
    pub fn verifier_key(&self) -> VerifierKey {
        VerifierKey::new(&self.name, self.key.verifying_key())
    }

    /// Persist the state durably, off the async workers (an fsync would stall every request).
    async fn save_state(&self, state: State) -> std::io::Result<()> {
        let path = self.state_path.clone();
        tokio::task::spawn_blocking(move || write_state_file(&path, &state))
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())))
    }

    /// Sign the head of every chain that advanced since its last checkpoint.
    pub async fn sign_heads(&self, store: &DynStore) {
        let _one_pass = self.signing.lock().await;
        let heads = match store.chain_heads().await {
            Ok(h) => h,
            Err(e) => {
                tracing::warn!(error = %e, "checkpoint: cannot read chain heads");
                return;
            }
        };
        let started = now_us();
        let mut covered = true;
        for head in heads {
            covered &= self.sign_head(store, head).await;
        }
        if covered {
            self.covered_at
                .store(started, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Seconds since a signing pass last found every chain head covered by a signed
    /// checkpoint: about one while the signer keeps up, growing while any chain goes unsigned
    /// (a refusal, an unwritable state file, an unreachable store).
    pub fn checkpoint_age_seconds(&self) -> f64 {
        let at = self.covered_at.load(std::sync::atomic::Ordering::Relaxed);
        (now_us().saturating_sub(at)).max(0) as f64 / 1e6
    }

    /// Sign one tenant's head now (a prune does this before it deletes anything, so the signed
    /// head always survives the cut). True when the head is signed.
    pub async fn sign_tenant(&self, store: &DynStore, tenant: &str) -> bool {
        let _one_pass = self.signing.lock().await;
        match store.chain_heads().await {
            Ok(heads) => match heads.into_iter().find(|h| h.tenant == tenant) {
                Some(head) => self.sign_head(store, head).await,
                None => false,
            },
            Err(e) => {
                tracing::warn!(error = %e, "checkpoint: cannot read chain heads");
                false
            }
        }
    }

    /// The last head signed for `tenant`: from the state file, or, when it holds none (a lost
    /// or new state file, such as a rotated key's), the newest checkpoint in the store signed by
    /// a trusted key, so a lost file never lets the signer anchor a rewritten chain. `Err` when
    /// the store cannot tell.
    async fn last_signed(&self, store: &DynStore, tenant: &str) -> Result<Option<Signed>, ()> {
        let known = self.lock_state().heads.get(tenant).cloned();
        if let Some(newer) = self.newer_shared_head(tenant, known.as_ref()).await {
            // Another replica signed further. Continue from there only while the chain still
            // holds what this replica signed: a restored or rewritten database must not be
            // re-anchored through a checkpoint signed after the rewrite.
            let holds_known = match &known {
                None => true,
                Some(k) => store
                    .chain_range(tenant, k.size, k.size.saturating_add(1), 2)
                    .await
                    .map(|rows| continues_from(&rows, k))
                    .map_err(|e| {
                        tracing::warn!(error = %e, "checkpoint: cannot read the chain");
                    })?,
            };
            if holds_known {
                return Ok(Some(newer));
            }
        }
        if known.is_some() {
            return Ok(known);
        }
        let rows = store.checkpoints(Some(tenant), 10_000).await.map_err(|e| {
            tracing::warn!(error = %e, "checkpoint: cannot read earlier checkpoints");
        })?;
        let unbaselined = self
            .unbaselined
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(tenant);
        if rows.is_empty() && !unbaselined {
            return Ok(None);
        }
        let keys = trusted_keys_in(store, self.verifier_key(), &self.deployment_id).await;
        let newest = self
            .trusted_heads(&rows, &keys, tenant)
            .max_by_key(|(size, _)| *size)
            .map(|(size, hash)| Signed { size, hash });
        match &newest {
            Some(n) => {
                tracing::warn!(tenant, size = n.size, "checkpoint: the signer state holds no head for this tenant; continuing from the newest trusted checkpoint in the store");
            }
            None if unbaselined => {
                crate::metrics::signer_refused();
                tracing::error!(tenant, "refusing to sign: the chain predates this signer state and no trusted checkpoint in the store anchors it (run igctl audit rebaseline after checking it)");
                return Err(());
            }
            None => {}
        }
        Ok(newest)
    }

    /// Sign `head` unless it is already signed or regresses or forks from the last signed head
    /// (`last`, see [`Signer::last_signed`]).
    async fn sign_head(&self, store: &DynStore, head: crate::store::ChainHead) -> bool {
        let Ok(last) = self.last_signed(store, &head.tenant).await else {
            return false;
        };
        let from = last.as_ref().map(|l| (l.size, l.hash.as_str()));
        match self.check_segment(store, &head, from, &[]).await {
            Ok(covered) => self.sign_after(store, head, last, &covered).await,
            Err(reason) => {
                crate::metrics::signer_refused();
                tracing::error!(tenant = %head.tenant, "refusing to sign: {reason}");
                false
            }
        }
    }

    /// Check what a checkpoint of `head` would newly cover (the entries after `from`, the last
    /// signed (size, hash); `None`: the whole chain): every entry that is not plainly an
    /// ordinary kind is read back and decoded (a kind stored oddly to hide it from a filter
    /// cannot slip past), and each trust-bearing one must be an entry igd wrote (matched by
    /// its whole content, consumed once) or one an operator accepted by seq and hash (`accept`, a
    /// rebaseline's). Returns the own entries covered. (A rewrite of ordinary unsigned
    /// entries cannot be told from igd's own writes here; verifiers see breaks in the links.)
    async fn check_segment(
        &self,
        store: &DynStore,
        head: &crate::store::ChainHead,
        from: Option<(u64, &str)>,
        accept: &[(u64, String)],
    ) -> Result<Vec<String>, String> {
        let from = from.map_or(0, |(seq, _)| seq);
        if from >= head.seq {
            // Nothing new (or a regression, which signing refuses on its own).
            return Ok(Vec::new());
        }
        let mut pending: Vec<Own> = self
            .lock_state()
            .own
            .iter()
            .filter(|o| o.tenant == head.tenant)
            .cloned()
            .collect();
        for own in self.shared_own(&head.tenant).await? {
            if !pending.contains(&own) {
                pending.push(own);
            }
        }
        let unusual = store
            .unusual_entries(&head.tenant, from + 1, head.seq, MAX_UNUSUAL + 1)
            .await
            .map_err(|e| format!("the entries to sign cannot be read ({e})"))?;
        // Never a truncated look: past the bound, nothing is signed (a flood of odd entries
        // must not push a forged one out of view).
        if unusual.len() > MAX_UNUSUAL as usize {
            return Err(format!(
                "more than {MAX_UNUSUAL} entries that are not plainly ordinary in one range to sign"
            ));
        }
        let mut covered = Vec::new();
        for seq in unusual {
            let e = store
                .chain_range(&head.tenant, seq, seq, 1)
                .await
                .map_err(|e| format!("the entries to sign cannot be read ({e})"))?
                .pop()
                .ok_or_else(|| format!("entry {seq} vanished while being read"))?;
            let accepted = accept
                .iter()
                .any(|(seq, hash)| *seq == e.seq && *hash == e.hash);
            if !TRUST_KINDS.contains(&e.kind.as_str()) || accepted {
                continue;
            }
            // A copy of an entry already in the chain (a replayed marker) is never anchored,
            // whatever record claims it.
            let twins = store
                .query_entries(&crate::store::AuditQuery {
                    tenant: Some(head.tenant.clone()),
                    event_id: Some(e.event_id.clone()),
                    limit: 2,
                    ..Default::default()
                })
                .await
                .map_err(|err| format!("the entries to sign cannot be read ({err})"))?;
            if twins.iter().any(|t| t.seq != e.seq) {
                return Err(format!(
                    "entry {} ({}) repeats the event id of another entry of the chain (a replayed trust-bearing entry?)",
                    e.seq, e.kind
                ));
            }
            let own = Own::of(&e);
            match pending.iter().position(|o| *o == own) {
                Some(i) => {
                    pending.remove(i);
                    covered.push(e.event_id.clone());
                }
                None => {
                    return Err(format!(
                        "entry {} ({}{}, hash {}) is a trust-bearing entry this igd did not write (written into the database by hand?); after checking it, a rebaseline may accept it with --accept {}:{}",
                        e.seq,
                        e.kind,
                        e.target.as_deref().map(|t| format!(", target {t}")).unwrap_or_default(),
                        e.hash,
                        e.seq,
                        e.hash
                    ))
                }
            }
        }
        Ok(covered)
    }

    /// Sign `head` after `last` (`None`: anchor the chain as it is); `covered` are the own
    /// entries the checkpoint covers, forgotten once it is signed.
    async fn sign_after(
        &self,
        store: &DynStore,
        head: crate::store::ChainHead,
        last: Option<Signed>,
        covered: &[String],
    ) -> bool {
        if let Some(last) = &last {
            if head.seq == last.size && head.hash == last.hash {
                return true;
            }
            if head.seq <= last.size {
                crate::metrics::signer_refused();
                tracing::error!(tenant = %head.tenant, signed = last.size, head = head.seq, "refusing to sign: the chain regressed or forked from the last signed checkpoint (restored database? use rebaseline)");
                return false;
            }
            // Consistency: the entry at the last signed size must still carry the signed hash,
            // or, when a retention cut removed it, the entry after it must link to that hash.
            match store
                .chain_range(&head.tenant, last.size, last.size.saturating_add(1), 2)
                .await
            {
                Ok(rows) if continues_from(&rows, last) => {}
                Ok(_) => {
                    crate::metrics::signer_refused();
                    tracing::error!(tenant = %head.tenant, signed = last.size, "refusing to sign: the chain no longer contains the last signed head (forked or rewritten)");
                    return false;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "checkpoint: cannot read the chain");
                    return false;
                }
            }
        }
        let cp = Checkpoint {
            origin: format!("intentgate/{}/{}", self.deployment_id, head.tenant),
            size: head.seq,
            hash: head.hash.clone(),
        };
        let note = match cp.sign(&self.name, &self.key) {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(error = %e, "checkpoint: cannot sign");
                return false;
            }
        };
        let record = CheckpointRecord {
            tenant: head.tenant.clone(),
            size: head.seq,
            hash: head.hash.clone(),
            note,
            created_at: now_us(),
        };
        // The state first, then the checkpoint: a head is never published before the signer
        // durably remembers it (else a restart after a failed save would sign a rewrite of
        // what was published), and memory only ever holds what is durable.
        // With a shared store, an own entry another replica already anchored is forgotten
        // too: found in the chain at or before the head now signed (never merely because its
        // shared record is gone, which anyone with database access could arrange).
        let mut anchored_elsewhere = Vec::new();
        if self.shared.get().is_some() {
            let pending: Vec<Own> = self
                .lock_state()
                .own
                .iter()
                .filter(|o| o.tenant == head.tenant && !covered.contains(&o.event_id))
                .cloned()
                .collect();
            for own in pending {
                let q = crate::store::AuditQuery {
                    tenant: Some(head.tenant.clone()),
                    event_id: Some(own.event_id.clone()),
                    limit: 2,
                    ..Default::default()
                };
                if let Ok(found) = store.query_entries(&q).await {
                    if found.iter().any(|e| e.seq <= head.seq && Own::of(e) == own) {
                        anchored_elsewhere.push(own.event_id);
                    }
                }
            }
        }
        let mut next = self.lock_state().clone();
        next.own.retain(|o| {
            !(o.tenant == head.tenant
                && (covered.contains(&o.event_id) || anchored_elsewhere.contains(&o.event_id)))
        });
        next.heads.insert(
            head.tenant.clone(),
            Signed {
                size: head.seq,
                hash: head.hash.clone(),
            },
        );
        if let Err(e) = self.save_state(next.clone()).await {
            tracing::error!(error = %e, path = %self.state_path.display(), "checkpoint: cannot save signer state; nothing signed");
            return false;
        }
        if let Err(e) = store.insert_checkpoint(&record).await {
            // Remembered but not stored: the head stays unanchored until the chain advances.
            tracing::warn!(error = %e, "checkpoint: cannot store");
            *self.lock_state() = next;
            return false;
        }
        *self.lock_state() = next;
        self.unshare_own(&head.tenant, covered).await;
        self.unbaselined
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&head.tenant);
        true
    }

    /// Re-baseline after a restore: anchor the chain as it is now, whatever was signed before
    /// (the only path that signs a chain not continuing the last signed head). True when signed.
    pub async fn rebaseline(
        &self,
        store: &DynStore,
        tenant: &str,
        cut: (u64, &str),
        accept: &[(u64, String)],
    ) -> Result<(), String> {
        let _one_pass = self.signing.lock().await;
        let (head, covered) = self.rebaseline_check(store, tenant, cut, accept).await?;
        if self.sign_after(store, head, None, &covered).await {
            Ok(())
        } else {
            Err("the checkpoint could not be signed or stored (see igd's log)".into())
        }
    }

    /// What a rebaseline would newly cover, checked (see [`Signer::rebaseline`]); run before
    /// its marker is chained too, so a refused rebaseline leaves no marker behind.
    pub async fn rebaseline_check(
        &self,
        store: &DynStore,
        tenant: &str,
        cut: (u64, &str),
        accept: &[(u64, String)],
    ) -> Result<(crate::store::ChainHead, Vec<String>), String> {
        let head = store
            .chain_heads()
            .await
            .map_err(|e| format!("cannot read chain heads: {e}"))?
            .into_iter()
            .find(|h| h.tenant == tenant)
            .ok_or_else(|| format!("tenant {tenant} has no chain"))?;
        // Past the fork point only: what the chain still shares with the signed history was
        // signed before; the rest must verify and hold no trust-bearing entry igd did not write
        // unless the operator accepted it by seq and hash.
        let from = (cut.0 > 0).then_some(cut);
        let covered = self.check_segment(store, &head, from, accept).await?;
        Ok((head, covered))
    }

    /// The (size, hash) of the stored checkpoints of `tenant` signed by one of `keys` for this
    /// deployment's log.
    fn trusted_heads<'a>(
        &self,
        rows: &'a [CheckpointRecord],
        keys: &'a [VerifierKey],
        tenant: &str,
    ) -> impl Iterator<Item = (u64, String)> + 'a {
        let origin = format!("intentgate/{}/{tenant}", self.deployment_id);
        rows.iter()
            .filter_map(|c| Checkpoint::open(&c.note, keys).ok())
            .filter(move |cp| cp.origin == origin)
            .map(|cp| (cp.size, cp.hash))
    }

    /// Where a restored or rewritten chain leaves the signed history: the newest head this
    /// signer or a trusted checkpoint signed that the chain still holds, as (seq, hash); (0,
    /// genesis) when it holds none. A re-baseline records it as its cut, so verifiers excuse
    /// only checkpoints past it.
    pub async fn fork_point(
        &self,
        store: &DynStore,
        tenant: &str,
    ) -> Result<(u64, String), crate::store::StoreError> {
        let keys = self.trusted_keys(store).await;
        let rows = store.checkpoints(Some(tenant), 10_000).await?;
        let mut candidates: Vec<(u64, String)> = self.trusted_heads(&rows, &keys, tenant).collect();
        candidates.extend(self.last_head(tenant));
        candidates.sort_by_key(|c| std::cmp::Reverse(c.0));
        let first = store.chain_range(tenant, 0, u64::MAX / 2, 1).await?;
        let first = first.first().map(|e| (e.seq, e.prev_hash.clone()));
        for (size, hash) in candidates {
            let held = store.chain_range(tenant, size, size, 1).await?;
            if held.first().is_some_and(|e| e.hash == hash) {
                return Ok((size, hash));
            }
        }
        // Nothing signed is held: the cut is where the kept chain starts.
        Ok(match first {
            Some((seq, link)) if seq > 1 => (seq - 1, link),
            _ => (0, intentgate_proto::audit::GENESIS_HASH.to_string()),
        })
    }

    /// Announce this key in `_system` (a `checkpoint-key` entry) the first time it is used.
    pub async fn announce(
        &self,
        store: &DynStore,
        audit: &AuditWriter,
    ) -> Result<(), crate::audit::AuditError> {
        let current = self.verifier_key();
        let announced = announced_keys(store).await;
        if announced.contains(&current) {
            return Ok(());
        }
        let mut e = audit.entry(SYSTEM_TENANT, Kind::CheckpointKey);
        e.actor = Some("igd".into());
        e.action = Some(Kind::CheckpointKey.as_str().into());
        e.target = Some(current.encode());
        e.reason = Some(if announced.is_empty() {
            "first audit signing key".into()
        } else {
            "audit signing key rotated".into()
        });
        self.append_own(audit, e).await?;
        Ok(())
    }

    /// Chain a trust-bearing entry igd writes (a marker, a key announcement): recorded in the
    /// signer state first, so the signer will anchor it, and forgotten again if the append
    /// fails.
    pub async fn append_own(
        &self,
        audit: &AuditWriter,
        e: intentgate_proto::audit::Entry,
    ) -> Result<intentgate_proto::audit::Entry, crate::audit::AuditError> {
        self.expect(&e)
            .await
            .map_err(|err| crate::audit::AuditError::Unavailable(format!("signer state: {err}")))?;
        let pending = e.clone();
        let appended = audit.append(Record::of(e)).await;
        if appended.is_err() {
            self.forget_pending(&pending).await;
        }
        appended
    }

    /// The keys igd itself trusts to verify checkpoints: its own signing key, and the keys the
    /// rotation trust path vouches for ([`KeyVouching`]: announced in `_system` and covered by
    /// a `_system` checkpoint signed by an already-trusted key). A `checkpoint-key` entry alone
    /// (one written into the store by hand) earns nothing.
    pub async fn trusted_keys(&self, store: &DynStore) -> Vec<VerifierKey> {
        trusted_keys_in(store, self.verifier_key(), &self.deployment_id).await
    }
}

/// Whether `rows` (the entries at `last.size` and after it) continue the signed head: the entry
/// at its size still carries its hash, or, when a retention cut removed that entry, the first
/// kept entry links to it.
fn continues_from(rows: &[intentgate_proto::audit::Entry], last: &Signed) -> bool {
    match rows.iter().find(|e| e.seq == last.size) {
        Some(e) => e.hash == last.hash,
        None => rows
            .iter()
            .any(|e| e.seq == last.size.saturating_add(1) && e.prev_hash == last.hash),
    }
}

/// Keys announced in `_system` (the daemon's own view; auditors pin keys out of band).
pub async fn announced_keys(store: &DynStore) -> Vec<VerifierKey> {
    let q = crate::store::AuditQuery {
        tenant: Some(SYSTEM_TENANT.to_string()),
        kind: Some(Kind::CheckpointKey.as_str().into()),
        limit: 1000,
        ..Default::default()
    };
    store
        .query_entries(&q)
        .await
        .unwrap_or_default()
        .iter()
        .filter_map(|e| VerifierKey::parse(e.target.as_deref()?).ok())
        .collect()
}

/// [`Signer::trusted_keys`] from a store, this signer's key and the deployment.
async fn trusted_keys_in(
    store: &DynStore,
    own: VerifierKey,
    deployment_id: &str,
) -> Vec<VerifierKey> {
    let mut trusted = vec![own];
    let origin = format!("intentgate/{deployment_id}/{SYSTEM_TENANT}");
    // Each round may add a key that vouches for the next rotation.
    for _ in 0..8 {
        let notes = store
            .checkpoints(Some(SYSTEM_TENANT), 10_000)
            .await
            .unwrap_or_default();
        let anchor = notes
            .iter()
            .filter_map(|c| Checkpoint::open(&c.note, &trusted).ok())
            .filter(|cp| cp.origin == origin)
            .max_by_key(|cp| cp.size);
        let Some(cp) = anchor else { break };
        let mut vouching = KeyVouching::new(&cp);
        let mut from = 1u64;
        'pages: loop {
            let Ok(page) = store.chain_range(SYSTEM_TENANT, from, cp.size, 1000).await else {
                return trusted;
            };
            for e in &page {
                if !vouching.push(e) {
                    break 'pages;
                }
            }
            match page.last() {
                Some(last) if page.len() == 1000 => from = last.seq + 1,
                _ => break,
            }
        }
        let before = trusted.len();
        for k in vouching.finish() {
            if !trusted.contains(&k) {
                trusted.push(k);
            }
        }
        if trusted.len() == before {
            break;
        }
    }
    trusted
}
