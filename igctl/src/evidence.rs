//! Evidence packs: `igctl audit evidence` writes a `.tar.gz` an auditor can take away, and
//! `igctl audit verify-pack` re-verifies it offline, with no daemon, against a pinned key.
//!
//! Contents: `entries.ndjson` (the chain from genesis to the window's end, every field of the
//! field table), `checkpoints.json` (signed notes), `public-keys.txt`, `verify-report.json`,
//! `CONTROLS.md`, and `manifest.json` with the SHA-256 of each file. The manifest must be
//! byte-exact canonical JSON, so no byte of the pack can change without detection.

use crate::client::Client;
use crate::error::CliError;
use crate::verify::{self, read_keys};
use hyper::Method;
use intentgate_proto::api::{CheckpointList, ErrorCode};
use intentgate_proto::audit::{Anchor, ChainAudit};
use intentgate_proto::checkpoint::{Checkpoint, VerifierKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

const CONTROLS: &str = include_str!("../CONTROLS.md");
const FILES: &[&str] = &[
    "entries.ndjson",
    "checkpoints.json",
    "public-keys.txt",
    "verify-report.json",
    "CONTROLS.md",
];

/// Largest member `verify-pack` reads: a pack is decompressed into memory, so a gzip bomb must
/// be refused before it is inflated.
pub const MAX_PACK_MEMBER_BYTES: u64 = 256 << 20;
/// Largest total of all members.
pub const MAX_PACK_BYTES: u64 = 512 << 20;

fn internal(e: impl std::fmt::Display) -> CliError {
    CliError::new(ErrorCode::Internal, e.to_string())
}

/// Build an evidence pack for one tenant.
pub async fn build(
    client: &Client,
    tenant: &str,
    from: Option<&str>,
    to: Option<&str>,
    pubkey: Option<&Path>,
    out: &Path,
) -> Result<Value, CliError> {
    let (keys, trust) = verify::trusted_keys(client, pubkey).await?;
    // The chain from genesis (a window cannot be verified without its prefix), read past the
    // export cap, stopping at the window's end.
    let to_us = to.map(parse_time).transpose()?;
    let mut entries = Vec::new();
    let mut last_seq = 0u64;
    verify::each_export_row(client, tenant, |line, v| {
        if to_us.is_some_and(|t| v["ts"].as_i64().unwrap_or(0) >= t) {
            return Ok(false);
        }
        last_seq = v["seq"].as_u64().unwrap_or(last_seq);
        entries.push(String::from_utf8_lossy(line).into_owned());
        Ok(true)
    })
    .await?;
    let cps: CheckpointList = client
        .call(
            Method::GET,
            &format!(
                "/v1/admin/audit/checkpoints?tenant={}&limit=10000",
                crate::encode_query(tenant)
            ),
            None::<&()>,
        )
        .await?;
    let notes: Vec<String> = cps.checkpoints.into_iter().map(|c| c.note).collect();
    let entries_text = entries.iter().map(|l| format!("{l}\n")).collect::<String>();
    // Only checkpoints the exported prefix reaches belong in the pack (by seq: a pruned chain
    // holds fewer entries than its head's seq).
    let notes: Vec<String> = notes
        .into_iter()
        .filter(|n| Checkpoint::open(n, &keys).is_ok_and(|cp| cp.size <= last_seq))
        .collect();
    let report = verify_files(&entries_text, &notes, &keys, tenant)?;
    let report_json = json!({
        "tenant": tenant, "window": {"from": from, "to": to}, "key_trust": trust.as_str(),
        "report": verify::report_json(&report), "generated_by": format!("igctl {}", env!("CARGO_PKG_VERSION")),
    });
    let keys_text: String = keys.iter().map(|k| format!("{}\n", k.encode())).collect();
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("entries.ndjson", entries_text.into_bytes()),
        (
            "checkpoints.json",
            serde_json::to_vec_pretty(&notes).map_err(internal)?,
        ),
        ("public-keys.txt", keys_text.into_bytes()),
        (
            "verify-report.json",
            serde_json::to_vec_pretty(&report_json).map_err(internal)?,
        ),
        ("CONTROLS.md", CONTROLS.as_bytes().to_vec()),
    ];
    let manifest = manifest_bytes(
        &files
            .iter()
            .map(|(n, b)| (n.to_string(), hex::encode(Sha256::digest(b))))
            .collect(),
    );
    let file = std::fs::File::create(out).map_err(|e| {
        CliError::new(
            ErrorCode::InvalidRequest,
            format!("cannot write {}: {e}", out.display()),
        )
    })?;
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
        file,
        flate2::Compression::default(),
    ));
    for (name, bytes) in files
        .iter()
        .map(|(n, b)| (*n, b.as_slice()))
        .chain([("manifest.json", manifest.as_slice())])
    {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_cksum();
        tar.append_data(&mut h, name, bytes).map_err(internal)?;
    }
    tar.into_inner()
        .and_then(|gz| gz.finish())
        .map_err(internal)?;
    Ok(
        json!({"pack": out.display().to_string(), "entries": entries.len(), "ok": report.ok, "report": verify::report_json(&report)}),
    )
}

fn parse_time(t: &str) -> Result<i64, CliError> {
    let dt = time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
        .map_err(|_| {
            CliError::usage(format!("{t:?} is not RFC 3339 (e.g. 2026-01-31T00:00:00Z)"))
        })?;
    i64::try_from(dt.unix_timestamp_nanos() / 1000)
        .map_err(|_| CliError::usage("time out of range"))
}

/// The one accepted encoding of a manifest: sorted keys, no whitespace.
fn manifest_bytes(files: &BTreeMap<String, String>) -> Vec<u8> {
    serde_json::to_vec(&json!({"format": "intentgate-evidence-v1", "sha256": files}))
        .unwrap_or_default()
}

/// Recompute a chain from exported rows against signed notes opened with `keys`.
fn verify_files(
    entries: &str,
    notes: &[String],
    keys: &[VerifierKey],
    tenant: &str,
) -> Result<intentgate_proto::audit::ChainReport, CliError> {
    let mut anchors = Vec::new();
    for note in notes {
        let cp = Checkpoint::open(note, keys)
            .map_err(|e| CliError::new(ErrorCode::Unverifiable, format!("checkpoint: {e}")))?;
        if !keys
            .iter()
            .any(|k| cp.origin == format!("{}/{tenant}", k.name))
        {
            return Err(CliError::new(
                ErrorCode::Tampered,
                format!("checkpoint of another log ({})", cp.origin),
            ));
        }
        anchors.push(Anchor {
            size: cp.size,
            hash: cp.hash,
        });
    }
    anchors.sort_by_key(|a| a.size);
    let mut audit = ChainAudit::new(tenant, anchors);
    for line in entries.lines().filter(|l| !l.is_empty()) {
        let v: Value = serde_json::from_str(line)
            .map_err(|e| CliError::new(ErrorCode::Tampered, format!("entries.ndjson: {e}")))?;
        if !audit.push(&verify::entry_of_row(v)?) {
            break;
        }
    }
    Ok(audit.finish())
}

/// Read a pack's members into memory: only the pack's own file names, each once, each at most
/// `member_cap` bytes and `total_cap` in all, whatever the tar headers claim.
fn read_members(
    file: impl Read,
    member_cap: u64,
    total_cap: u64,
) -> Result<BTreeMap<String, Vec<u8>>, CliError> {
    let tampered = |m: String| CliError::new(ErrorCode::Tampered, m);
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut total = 0u64;
    for entry in archive
        .entries()
        .map_err(|e| tampered(format!("not a tar.gz evidence pack: {e}")))?
    {
        let entry = entry.map_err(|e| tampered(format!("corrupt pack: {e}")))?;
        let name = entry
            .path()
            .map_err(|e| tampered(e.to_string()))?
            .display()
            .to_string();
        if name != "manifest.json" && !FILES.contains(&name.as_str()) {
            return Err(tampered(format!(
                "the pack holds a file the manifest does not list ({name:?})"
            )));
        }
        if files.contains_key(&name) {
            return Err(tampered(format!("{name} appears twice")));
        }
        let budget = member_cap.min(total_cap.saturating_sub(total));
        let declared = entry.header().size().unwrap_or(u64::MAX);
        if declared > budget {
            return Err(too_large(&name, declared, member_cap, total_cap));
        }
        let mut bytes = Vec::new();
        // The header is not trusted: read at most one byte past the budget.
        entry
            .take(budget.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| tampered(format!("corrupt pack: {e}")))?;
        if bytes.len() as u64 > budget {
            return Err(too_large(&name, bytes.len() as u64, member_cap, total_cap));
        }
        total += bytes.len() as u64;
        files.insert(name, bytes);
    }
    Ok(files)
}

fn too_large(name: &str, size: u64, member_cap: u64, total_cap: u64) -> CliError {
    CliError::new(
        ErrorCode::Tampered,
        format!(
            "{name:?} in the pack is {size} bytes: over the limit of {member_cap} bytes per file and {total_cap} in all (a decompression bomb?)"
        ),
    )
}

/// Re-verify a pack offline against `pubkey`.
pub fn verify_pack(pack: &Path, pubkey: &Path) -> Result<Value, CliError> {
    let keys = read_keys(pubkey)?;
    let tampered = |m: String| CliError::new(ErrorCode::Tampered, m);
    let file = std::fs::File::open(pack).map_err(|e| {
        CliError::new(
            ErrorCode::InvalidRequest,
            format!("cannot read {}: {e}", pack.display()),
        )
    })?;
    let files = read_members(file, MAX_PACK_MEMBER_BYTES, MAX_PACK_BYTES)?;
    let manifest_raw = files
        .get("manifest.json")
        .ok_or_else(|| tampered("manifest.json missing".into()))?;
    let manifest: Value = serde_json::from_slice(manifest_raw)
        .map_err(|e| tampered(format!("manifest.json: {e}")))?;
    let listed: BTreeMap<String, String> = serde_json::from_value(manifest["sha256"].clone())
        .map_err(|e| tampered(format!("manifest.json: {e}")))?;
    if manifest_bytes(&listed) != *manifest_raw || manifest["format"] != "intentgate-evidence-v1" {
        return Err(tampered(
            "manifest.json is not in its canonical form (edited)".into(),
        ));
    }
    let expected: Vec<&str> = FILES.to_vec();
    if listed.keys().map(String::as_str).collect::<Vec<_>>() != {
        let mut e = expected.clone();
        e.sort();
        e
    } {
        return Err(tampered(
            "manifest does not list exactly the pack's files".into(),
        ));
    }
    if files.len() != FILES.len() + 1 {
        return Err(tampered(
            "the pack holds files the manifest does not list".into(),
        ));
    }
    for (name, digest) in &listed {
        let bytes = files
            .get(name)
            .ok_or_else(|| tampered(format!("{name} missing")))?;
        if hex::encode(Sha256::digest(bytes)) != *digest {
            return Err(tampered(format!(
                "{name} does not match its SHA-256 in the manifest"
            )));
        }
    }
    let report_doc: Value = serde_json::from_slice(&files["verify-report.json"])
        .map_err(|e| tampered(format!("verify-report.json: {e}")))?;
    let tenant = report_doc["tenant"]
        .as_str()
        .ok_or_else(|| tampered("verify-report.json names no tenant".into()))?
        .to_string();
    let notes: Vec<String> = serde_json::from_slice(&files["checkpoints.json"])
        .map_err(|e| tampered(format!("checkpoints.json: {e}")))?;
    let entries = String::from_utf8(files["entries.ndjson"].clone())
        .map_err(|_| tampered("entries.ndjson is not UTF-8".into()))?;
    let report = verify_files(&entries, &notes, &keys, &tenant)?;
    if !report.ok {
        return Err(tampered(format!(
            "chain broken at seq {}: {}",
            report.broken_at.as_ref().map_or(0, |b| b.seq),
            report.broken_at.as_ref().map_or("", |b| b.reason.as_str())
        )));
    }
    if report.checkpoint.size == 0 {
        return Err(CliError::new(
            ErrorCode::Unverifiable,
            "no checkpoint in the pack is covered by its entries",
        ));
    }
    Ok(json!({"ok": true, "tenant": tenant, "report": verify::report_json(&report)}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pack(members: &[(&str, usize)]) -> Vec<u8> {
        let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        for (name, len) in members {
            let mut h = tar::Header::new_gnu();
            h.set_size(*len as u64);
            h.set_mode(0o644);
            h.set_cksum();
            tar.append_data(&mut h, name, std::io::repeat(b'0').take(*len as u64))
                .unwrap_or_else(|e| panic!("{e}"));
        }
        tar.into_inner()
            .and_then(|gz| gz.finish())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn message(r: Result<BTreeMap<String, Vec<u8>>, CliError>) -> String {
        match r {
            Ok(files) => format!("accepted {} files", files.len()),
            Err(e) => e.message,
        }
    }

    #[test]
    fn members_are_capped_one_by_one_and_in_all() {
        let small = pack(&[("CONTROLS.md", 100), ("entries.ndjson", 100)]);
        assert!(read_members(small.as_slice(), 100, 200).is_ok());
        // One member over the per-file cap.
        let m = message(read_members(small.as_slice(), 99, 1000));
        assert!(m.contains("over the limit"), "{m}");
        // Each under the per-file cap, together over the total.
        let m = message(read_members(small.as_slice(), 100, 199));
        assert!(
            m.contains("\"entries.ndjson\"") && m.contains("over the limit"),
            "{m}"
        );
        // Names the pack does not hold are refused before they are read.
        let stray = pack(&[("big.bin", 10)]);
        let m = message(read_members(stray.as_slice(), 100, 200));
        assert!(m.contains("does not list"), "{m}");
    }
}
