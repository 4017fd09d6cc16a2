//! Signing checkpoints of every chain's head (DESIGN §5).
//!
//! The Ed25519 key lives in a PEM file (`INTENTGATE_AUDIT_SIGNING_KEY`, the systemd credential
//! `audit_signing_key`, or a generated `<data dir>/audit-signing.pem` on the embedded default),
//! never in the database. A state file beside it keeps the last (size, hash) signed per tenant:
//! the signer refuses, loudly, to sign a head that regresses or forks from it, so a restored or
//! rewritten database cannot be silently re-anchored.

use crate::audit::Record;
use crate::clock::now_us;
use crate::config::{ConfigError, Settings};
use crate::gateway::Gateway;
use crate::store::{CheckpointRecord, DynStore};
use ed25519_dalek::SigningKey;
use intentgate_proto::checkpoint::{
    signing_key_from_pem, signing_key_pem, Checkpoint, KeyVouching, VerifierKey,
};
use intentgate_proto::ids::SYSTEM_TENANT;
use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::sync::Mutex;

/// The last head signed for one tenant.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Signed {
    size: u64,
    hash: String,
}

/// The checkpoint signer.
pub struct Signer {
    key: SigningKey,
    name: String,
    deployment_id: String,
    state_path: std::sync::Arc<PathBuf>,
    state: Mutex<BTreeMap<String, Signed>>,
    /// One signing pass at a time (the ticker, a prune, the shutdown drain), so the state file
    /// never goes back to an older head.
    signing: tokio::sync::Mutex<()>,
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
        return Ok((key, path.with_extension("state")));
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
    pub fn new(
        key: SigningKey,
        deployment_id: &str,
        state_path: PathBuf,
    ) -> Result<Self, ConfigError> {
        let state = match std::fs::read_to_string(&state_path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| {
                ConfigError::new(
                    "audit_signing_key",
                    format!("signer state {} is corrupt: {e}", state_path.display()),
                )
            })?,
            Err(_) => BTreeMap::new(),
        };
        Ok(Signer {
            key,
            name: format!("intentgate/{deployment_id}"),
            deployment_id: deployment_id.to_string(),
            state_path: std::sync::Arc::new(state_path),
            state: Mutex::new(state),
            signing: tokio::sync::Mutex::new(()),
        })
    }

    /// The public key as a verifier key string.
    pub fn verifier_key(&self) -> VerifierKey {
        VerifierKey::new(&self.name, self.key.verifying_key())
    }

    /// Persist the state durably, off the async workers (an fsync would stall every request).
    async fn save_state(&self, state: BTreeMap<String, Signed>) -> std::io::Result<()> {
        let path = self.state_path.clone();
        let text = serde_json::to_string(&state).unwrap_or_default();
        tokio::task::spawn_blocking(move || {
            let tmp = path.with_extension("state.tmp");
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, path.as_path())
        })
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
        for head in heads {
            self.sign_head(store, head).await;
        }
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
        let known = self
            .state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(tenant)
            .cloned();
        if known.is_some() {
            return Ok(known);
        }
        let rows = store.checkpoints(Some(tenant), 10_000).await.map_err(|e| {
            tracing::warn!(error = %e, "checkpoint: cannot read earlier checkpoints");
        })?;
        if rows.is_empty() {
            return Ok(None);
        }
        let keys = trusted_keys_in(store, self.verifier_key(), &self.deployment_id).await;
        let origin = format!("intentgate/{}/{tenant}", self.deployment_id);
        let newest = rows
            .iter()
            .filter_map(|c| Checkpoint::open(&c.note, &keys).ok())
            .filter(|cp| cp.origin == origin)
            .max_by_key(|cp| cp.size)
            .map(|cp| Signed {
                size: cp.size,
                hash: cp.hash,
            });
        if let Some(n) = &newest {
            tracing::warn!(tenant, size = n.size, "checkpoint: the signer state holds no head for this tenant; continuing from the newest trusted checkpoint in the store");
        }
        Ok(newest)
    }

    /// Sign `head` unless it is already signed or regresses or forks from the last signed head
    /// (`last`, see [`Signer::last_signed`]).
    async fn sign_head(&self, store: &DynStore, head: crate::store::ChainHead) -> bool {
        let Ok(last) = self.last_signed(store, &head.tenant).await else {
            return false;
        };
        self.sign_after(store, head, last).await
    }

    async fn sign_after(
        &self,
        store: &DynStore,
        head: crate::store::ChainHead,
        last: Option<Signed>,
    ) -> bool {
        if let Some(last) = &last {
            if head.seq == last.size && head.hash == last.hash {
                return true;
            }
            if head.seq <= last.size {
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
        if let Err(e) = store.insert_checkpoint(&record).await {
            tracing::warn!(error = %e, "checkpoint: cannot store");
            return false;
        }
        let snapshot = {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            state.insert(
                head.tenant.clone(),
                Signed {
                    size: head.seq,
                    hash: head.hash,
                },
            );
            state.clone()
        };
        if let Err(e) = self.save_state(snapshot).await {
            tracing::error!(error = %e, path = %self.state_path.display(), "checkpoint: cannot save signer state");
            return false;
        }
        true
    }

    /// Re-baseline after a restore: anchor the chain as it is now, whatever was signed before
    /// (the only path that signs a chain not continuing the last signed head). True when signed.
    pub async fn rebaseline(&self, store: &DynStore, tenant: &str) -> bool {
        let _one_pass = self.signing.lock().await;
        match store.chain_heads().await {
            Ok(heads) => match heads.into_iter().find(|h| h.tenant == tenant) {
                Some(head) => self.sign_after(store, head, None).await,
                None => false,
            },
            Err(e) => {
                tracing::warn!(error = %e, "checkpoint: cannot read chain heads");
                false
            }
        }
    }

    /// Announce this key in `_system` (a `checkpoint-key` entry) the first time it is used.
    pub async fn announce(&self, gw: &Gateway) -> Result<(), crate::audit::AuditError> {
        let current = self.verifier_key();
        let announced = announced_keys(gw).await;
        if announced.contains(&current) {
            return Ok(());
        }
        let mut e = gw.new_entry(SYSTEM_TENANT, "checkpoint-key");
        e.actor = Some("igd".into());
        e.action = Some("checkpoint-key".into());
        e.target = Some(current.encode());
        e.reason = Some(if announced.is_empty() {
            "first audit signing key".into()
        } else {
            "audit signing key rotated".into()
        });
        gw.audit
            .append(Record {
                entry: e,
                ..Record::default()
            })
            .await?;
        Ok(())
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
pub async fn announced_keys(gw: &Gateway) -> Vec<VerifierKey> {
    let q = crate::store::AuditQuery {
        tenant: Some(SYSTEM_TENANT.to_string()),
        kind: Some("checkpoint-key".into()),
        limit: 1000,
        ..Default::default()
    };
    gw.store
        .query_entries(&q)
        .await
        .unwrap_or_default()
        .iter()
        .filter_map(|e| VerifierKey::parse(e.target.as_deref()?).ok())
        .collect()
}

/// The keys igd itself trusts to verify checkpoints: its own signing key, and the keys the
/// rotation trust path vouches for ([`KeyVouching`]: announced in `_system` and covered by a
/// `_system` checkpoint signed by an already-trusted key). A `checkpoint-key` entry alone (one
/// written into the store by hand) earns nothing.
pub async fn trusted_keys(gw: &Gateway) -> Vec<VerifierKey> {
    trusted_keys_in(&gw.store, gw.signer.verifier_key(), &gw.deployment_id).await
}

/// [`trusted_keys`] from a store, this signer's key and the deployment.
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
