//! `igctl audit verify`: the auditor's own verification. It fetches entries and checkpoints and
//! recomputes everything itself against public keys pinned out of band (`--pubkey`, or pinned
//! on first use under the user's config dir) and a pinned newest checkpoint (`--pin`); it does
//! not trust the daemon's verdict.

use crate::client::Client;
use crate::error::CliError;
use hyper::Method;
use intentgate_proto::api::{CheckpointList, ErrorCode};
use intentgate_proto::audit::{Anchor, ChainAudit, ChainReport, Entry};
use intentgate_proto::checkpoint::{Checkpoint, KeyVouching, NoteError, VerifierKey};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How the verifying keys came to be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// `--pubkey FILE`.
    Pinned,
    /// A key pinned earlier under the config dir.
    PinnedEarlier,
    /// No key was pinned: the daemon's key was taken and pinned now (trust on first use).
    FirstUse,
}

impl Trust {
    pub fn as_str(self) -> &'static str {
        match self {
            Trust::Pinned => "pinned (--pubkey)",
            Trust::PinnedEarlier => "pinned earlier (trust on first use)",
            Trust::FirstUse => "trust on first use (no key was pinned; pinned now)",
        }
    }
}

/// Where keys pinned on first use live.
pub fn pinned_keys_path() -> PathBuf {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("intentgate").join("audit-keys")
}

/// Parse verifier keys, one per line (`#` comments allowed).
pub fn read_keys(path: &Path) -> Result<Vec<VerifierKey>, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CliError::new(
            ErrorCode::Unverifiable,
            format!("cannot read {}: {e}", path.display()),
        )
    })?;
    let keys: Result<Vec<_>, _> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(VerifierKey::parse)
        .collect();
    let keys = keys
        .map_err(|e| CliError::new(ErrorCode::Unverifiable, format!("{}: {e}", path.display())))?;
    if keys.is_empty() {
        return Err(CliError::new(
            ErrorCode::Unverifiable,
            format!("{} holds no key", path.display()),
        ));
    }
    Ok(keys)
}

/// The trusted keys for this run.
pub async fn trusted_keys(
    client: &Client,
    pubkey: Option<&Path>,
) -> Result<(Vec<VerifierKey>, Trust), CliError> {
    if let Some(p) = pubkey {
        return Ok((read_keys(p)?, Trust::Pinned));
    }
    let pins = pinned_keys_path();
    if pins.exists() {
        return Ok((read_keys(&pins)?, Trust::PinnedEarlier));
    }
    let list: CheckpointList = client
        .call(
            Method::GET,
            "/v1/admin/audit/checkpoints?limit=1",
            None::<&()>,
        )
        .await?;
    let key = list.key.as_str();
    let parsed = VerifierKey::parse(key)
        .map_err(|e| CliError::new(ErrorCode::Unverifiable, e.to_string()))?;
    if let Some(dir) = pins.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    std::fs::write(&pins, format!("# audit keys pinned on first use\n{key}\n")).map_err(|e| {
        CliError::new(
            ErrorCode::Internal,
            format!("cannot pin the key in {}: {e}", pins.display()),
        )
    })?;
    Ok((vec![parsed], Trust::FirstUse))
}

/// Open a checkpoint note for `tenant` with trusted keys, checking it names this tenant's log.
/// `log`: the log name of the deployment being audited (its key's name, as the daemon serves
/// it): a checkpoint of another deployment whose key is also trusted is refused too.
fn open_for(
    note: &str,
    tenant: &str,
    keys: &[VerifierKey],
    log: Option<&str>,
) -> Result<Checkpoint, CliError> {
    let cp = Checkpoint::open(note, keys).map_err(|e| match e {
        NoteError::Untrusted => CliError::new(
            ErrorCode::Unverifiable,
            format!("the checkpoint of {tenant} is not signed by a pinned key"),
        ),
        other => CliError::new(
            ErrorCode::Tampered,
            format!("checkpoint of {tenant}: {other}"),
        ),
    })?;
    let expected = keys
        .iter()
        .any(|k| cp.origin == format!("{}/{tenant}", k.name) && log.is_none_or(|l| l == k.name));
    if !expected {
        return Err(CliError::new(
            ErrorCode::Tampered,
            format!(
                "checkpoint of another log ({}) served for {tenant}",
                cp.origin
            ),
        ));
    }
    Ok(cp)
}

/// The log name of the deployment a checkpoints answer comes from (its current key's name).
fn log_name(list: &CheckpointList) -> Option<String> {
    VerifierKey::parse(&list.key).ok().map(|k| k.name)
}

/// Every exported row of a tenant's chain as `(raw line, JSON)`, via the export endpoint,
/// continuing past its cap; `visit` returns false to stop.
pub async fn each_export_row(
    client: &Client,
    tenant: &str,
    mut visit: impl FnMut(&[u8], Value) -> Result<bool, CliError>,
) -> Result<(), CliError> {
    let mut from_seq = 1u64;
    loop {
        let path = format!(
            "/v1/admin/audit/export?format=ndjson&tenant={}&from_seq={from_seq}",
            crate::encode_query(tenant)
        );
        let mut buf = Vec::new();
        let mut expected = None;
        client
            .stream(
                &path,
                |chunk| {
                    buf.extend_from_slice(chunk);
                    Ok(())
                },
                |total, truncated| expected = total.filter(|_| !truncated),
            )
            .await?;
        let mut next = None;
        let mut rows = 0u64;
        for line in buf.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let v: Value = serde_json::from_slice(line).map_err(|e| {
                CliError::new(ErrorCode::Tampered, format!("export row is not JSON: {e}"))
            })?;
            if v["kind"] == "truncated" {
                next = v["seq"].as_u64();
                continue;
            }
            rows += 1;
            if !visit(line, v)? {
                return Ok(());
            }
        }
        // An answer shorter than igd announced is never taken for the whole chain (a longer
        // one is entries appended while it streamed).
        if let Some(total) = expected.filter(|t| rows < *t) {
            return Err(CliError::new(
                ErrorCode::Unavailable,
                format!("the export of {tenant} ended after {rows} of {total} rows"),
            ));
        }
        match next {
            Some(s) if rows > 0 => from_seq = s,
            _ => return Ok(()),
        }
    }
}

/// An exported row as a chain entry (the export-only `args` column set aside).
pub fn entry_of_row(mut v: Value) -> Result<Entry, CliError> {
    if let Some(o) = v.as_object_mut() {
        o.remove("args");
    }
    serde_json::from_value(v).map_err(|e| {
        CliError::new(
            ErrorCode::Tampered,
            format!("export row is not an audit entry: {e}"),
        )
    })
}

/// Every entry of a tenant's chain.
async fn each_entry(
    client: &Client,
    tenant: &str,
    mut visit: impl FnMut(Entry) -> bool,
) -> Result<(), CliError> {
    each_export_row(client, tenant, |_, v| Ok(visit(entry_of_row(v)?))).await
}

/// Keys announced in `_system` (`checkpoint-key` entries) whose entry is covered by a `_system`
/// checkpoint signed by an already-trusted key: trusted without pinning (DESIGN §5).
pub async fn extend_trust(
    client: &Client,
    keys: &[VerifierKey],
) -> Result<Vec<VerifierKey>, CliError> {
    let mut trusted = keys.to_vec();
    // Each round may add a key that vouches for the next rotation.
    for _ in 0..8 {
        let list: CheckpointList = client
            .call(
                Method::GET,
                "/v1/admin/audit/checkpoints?tenant=_system&limit=10000",
                None::<&()>,
            )
            .await?;
        let log = log_name(&list);
        let anchor = list
            .checkpoints
            .iter()
            .filter_map(|c| open_for(&c.note, "_system", &trusted, log.as_deref()).ok())
            .max_by_key(|cp| cp.size);
        let Some(cp) = anchor else { return Ok(trusted) };
        let mut vouching = KeyVouching::new(&cp);
        each_entry(client, "_system", |e| vouching.push(&e)).await?;
        let announced = vouching.finish();
        let before = trusted.len();
        for k in announced {
            if !trusted.contains(&k) {
                trusted.push(k);
            }
        }
        if trusted.len() == before {
            return Ok(trusted);
        }
    }
    Ok(trusted)
}

/// Verify one tenant locally. Returns the report and the newest checkpoint note.
pub async fn verify_tenant(
    client: &Client,
    tenant: &str,
    keys: &[VerifierKey],
    pinned_note: Option<&str>,
) -> Result<(ChainReport, Option<String>), CliError> {
    let list: CheckpointList = client
        .call(
            Method::GET,
            &format!(
                "/v1/admin/audit/checkpoints?tenant={}&limit=1",
                crate::encode_query(tenant)
            ),
            None::<&()>,
        )
        .await?;
    let newest = list.checkpoints.first().map(|c| c.note.clone());
    let log = log_name(&list);
    let log = log.as_deref();
    let mut anchors = Vec::new();
    let mut keys = keys.to_vec();
    if let Some(note) = &newest {
        let cp = match open_for(note, tenant, &keys, log) {
            // Signed by a rotated-in key? Trust it only through the chain of announcements.
            Err(e) if e.code == ErrorCode::Unverifiable => {
                keys = extend_trust(client, &keys).await?;
                open_for(note, tenant, &keys, log)?
            }
            other => other?,
        };
        anchors.push(Anchor {
            size: cp.size,
            hash: cp.hash,
        });
    }
    if let Some(note) = pinned_note {
        let cp = open_for(note, tenant, &keys, log)?;
        anchors.push(Anchor {
            size: cp.size,
            hash: cp.hash,
        });
    }
    let mut audit = ChainAudit::new(tenant, anchors);
    each_entry(client, tenant, |e| audit.push(&e)).await?;
    Ok((audit.finish(), newest))
}

/// Pinned newest checkpoints: tenant → note.
pub fn read_pins(path: &Path) -> Result<BTreeMap<String, String>, CliError> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| {
            CliError::new(
                ErrorCode::Unverifiable,
                format!("{} is not a pin file: {e}", path.display()),
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(CliError::new(
            ErrorCode::Unverifiable,
            format!("cannot read {}: {e}", path.display()),
        )),
    }
}

pub fn write_pins(path: &Path, pins: &BTreeMap<String, String>) -> Result<(), CliError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_string_pretty(pins).unwrap_or_default())
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|e| {
            CliError::new(
                ErrorCode::Internal,
                format!("cannot update {}: {e}", path.display()),
            )
        })
}

/// The report as printed. Unlike igd's verdict (`GET /v1/admin/audit/verify`), whose head time
/// is RFC 3339 text, a local report's `head.ts` stays the entry's microseconds.
pub fn report_json(r: &ChainReport) -> Value {
    serde_json::to_value(r).unwrap_or(Value::Null)
}
