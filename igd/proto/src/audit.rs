//! Audit entries (DESIGN §5): the field table, the canonical encoding and the hash chain.
//!
//! `hash = SHA-256(0x00 ‖ RFC 8785 JSON of every field but hash)`, absent fields omitted. Entries
//! carry only strings, integers, booleans and arrays of strings, so RFC 8785 reduces to: keys in
//! code-unit order (all ASCII here), integers as written, strings with JSON's minimal escaping,
//! which is exactly what `serde_json` produces for a sorted map.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Format version written into every entry.
pub const ENTRY_VERSION: u32 = 1;
/// `prev_hash` of the first entry of a chain.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One chain entry. Field names are the export columns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub v: u32,
    pub tenant: String,
    pub seq: u64,
    pub kind: String,
    pub event_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ref_event_id: Option<String>,
    pub ts: i64,
    pub instance: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delegated_subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_jti: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti_chain: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_revision: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires_step_up: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elevation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_status: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_latency_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args_commitment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut_seq: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut_hash: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl Entry {
    /// RFC 8785 bytes of every field except `hash`.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut value = match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => map,
            // An Entry always serializes to an object.
            _ => serde_json::Map::new(),
        };
        value.remove("hash");
        // serde_json::Map is a BTreeMap (no preserve_order feature): keys come out sorted.
        serde_json::to_vec(&value).unwrap_or_default()
    }

    /// The hash this entry should carry, as lowercase hex.
    pub fn compute_hash(&self) -> String {
        let mut h = Sha256::new();
        h.update([0u8]);
        h.update(self.canonical_bytes());
        hex::encode(h.finalize())
    }

    /// Fill in `seq`, `prev_hash` and `hash` to append after a head.
    pub fn seal(&mut self, prev_seq: u64, prev_hash: &str) {
        self.v = ENTRY_VERSION;
        self.seq = prev_seq + 1;
        self.prev_hash = prev_hash.to_string();
        self.hash = self.compute_hash();
    }
}

/// Where a chain broke and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokenAt {
    pub seq: u64,
    pub ts: i64,
    pub reason: String,
    pub stored_hash: String,
    pub expected_hash: String,
}

/// Running verification of one tenant's chain, fed entries in seq order.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    tenant: String,
    last_seq: u64,
    last_hash: String,
    pub verified: u64,
}

impl ChainVerifier {
    /// Start at the genesis of a chain.
    pub fn new(tenant: &str) -> Self {
        Self::resume(tenant, 0, GENESIS_HASH)
    }

    /// Continue after an already-verified (seq, hash).
    pub fn resume(tenant: &str, seq: u64, hash: &str) -> Self {
        ChainVerifier {
            tenant: tenant.to_string(),
            last_seq: seq,
            last_hash: hash.to_string(),
            verified: 0,
        }
    }

    pub fn head(&self) -> (u64, &str) {
        (self.last_seq, &self.last_hash)
    }

    /// Check the next entry: version, tenant, seq continuity, link and hash.
    pub fn push(&mut self, e: &Entry) -> Result<(), BrokenAt> {
        let expected = e.compute_hash();
        let broken = |reason: String, expected_hash: String| BrokenAt {
            seq: e.seq,
            ts: e.ts,
            reason,
            stored_hash: e.hash.clone(),
            expected_hash,
        };
        if e.v != ENTRY_VERSION {
            return Err(broken(format!("unknown entry version {}", e.v), expected));
        }
        if e.tenant != self.tenant {
            return Err(broken(
                format!(
                    "entry of tenant {:?} spliced into chain {:?}",
                    e.tenant, self.tenant
                ),
                expected,
            ));
        }
        if e.seq != self.last_seq + 1 {
            return Err(broken(
                format!(
                    "expected seq {} but found {} (gap, deletion or reorder)",
                    self.last_seq + 1,
                    e.seq
                ),
                expected,
            ));
        }
        if e.prev_hash != self.last_hash {
            return Err(broken(
                "prev_hash does not link to the previous entry".to_string(),
                expected,
            ));
        }
        if e.hash != expected {
            return Err(broken(
                "entry hash does not match its fields (edited)".to_string(),
                expected,
            ));
        }
        self.last_seq = e.seq;
        self.last_hash = e.hash.clone();
        self.verified += 1;
        Ok(())
    }
}

/// A signed checkpoint already opened with a trusted key: the chain must contain it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub size: u64,
    pub hash: String,
}

/// The outcome of verifying one chain (the `GET /v1/admin/audit/verify` report's fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainReport {
    pub ok: bool,
    pub tenant: String,
    pub verified: u64,
    pub broken_at: Option<BrokenAt>,
    pub head: Head,
    pub checkpoint: AnchorStatus,
    pub unanchored: u64,
    /// Retention cuts and re-baselines met on the way (verification continued across them).
    #[serde(default)]
    pub markers: Vec<MarkerSeen>,
}

/// A `marker` entry as reported by verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkerSeen {
    pub seq: u64,
    pub action: Option<String>,
    pub reason: Option<String>,
    pub cut_seq: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    pub seq: u64,
    pub hash: String,
    pub ts: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnchorStatus {
    pub size: u64,
    pub verified: bool,
}

/// Verifies a whole chain fed in seq order against its newest trusted checkpoint: every hash
/// and link, and that the chain still contains exactly what was signed (no truncation,
/// rollback or recomputed suffix).
#[derive(Debug, Clone)]
pub struct ChainAudit {
    chain: ChainVerifier,
    anchors: Vec<Anchor>,
    seen: Vec<Option<String>>,
    broken: Option<BrokenAt>,
    last_ts: Option<i64>,
    started: bool,
    /// The chain starts after a retention cut: (cut_seq, cut_hash) a marker must confirm.
    pending_cut: Option<(u64, String)>,
    markers: Vec<MarkerSeen>,
}

impl ChainAudit {
    /// `anchors`: trusted checkpoints (the newest and any pinned one), in any order.
    pub fn new(tenant: &str, anchors: Vec<Anchor>) -> Self {
        let n = anchors.len();
        ChainAudit {
            chain: ChainVerifier::new(tenant),
            anchors,
            seen: vec![None; n],
            broken: None,
            last_ts: None,
            started: false,
            pending_cut: None,
            markers: Vec::new(),
        }
    }

    /// Feed the next entry; returns false once the chain is known to be broken.
    pub fn push(&mut self, e: &Entry) -> bool {
        if self.broken.is_some() {
            return false;
        }
        if !self.started {
            self.started = true;
            // A pruned chain starts after its cut; a marker later in the chain must say so.
            if e.seq > 1 {
                self.chain = ChainVerifier::resume(&self.chain.tenant, e.seq - 1, &e.prev_hash);
                self.pending_cut = Some((e.seq - 1, e.prev_hash.clone()));
            }
        }
        if e.kind == "marker" {
            if let (Some((cut, hash)), Some(cs), Some(ch)) =
                (&self.pending_cut, e.cut_seq, &e.cut_hash)
            {
                if *cut == cs && hash == ch {
                    self.pending_cut = None;
                }
            }
            self.markers.push(MarkerSeen {
                seq: e.seq,
                action: e.action.clone(),
                reason: e.reason.clone(),
                cut_seq: e.cut_seq,
            });
        }
        if let Err(b) = self.chain.push(e) {
            self.broken = Some(b);
            return false;
        }
        for (i, a) in self.anchors.iter().enumerate() {
            if a.size == e.seq {
                self.seen[i] = Some(e.hash.clone());
            }
        }
        self.last_ts = Some(e.ts);
        true
    }

    pub fn finish(self) -> ChainReport {
        let (seq, hash) = self.chain.head();
        let (seq, hash) = (seq, hash.to_string());
        let mut broken = self.broken;
        let anchor_size = self.anchors.iter().map(|a| a.size).max().unwrap_or(0);
        if let (None, Some((cut, hash))) = (&broken, &self.pending_cut) {
            broken = Some(BrokenAt {
                seq: 1,
                ts: 0,
                reason: format!(
                    "entries 1..={cut} are missing and no retention marker records the cut"
                ),
                stored_hash: String::new(),
                expected_hash: hash.clone(),
            });
        }
        // Checkpoints older than a retention cut cover entries that are gone by design.
        let first_kept = self
            .markers
            .iter()
            .filter_map(|m| m.cut_seq)
            .max()
            .unwrap_or(0);
        if broken.is_none() {
            for (a, seen) in self.anchors.iter().zip(&self.seen) {
                if a.size <= first_kept && seen.is_none() {
                    continue;
                }
                if a.size > seq {
                    broken = Some(BrokenAt {
                        seq: seq + 1,
                        ts: 0,
                        reason: format!("chain ends at {seq} but a signed checkpoint covers {} (truncated or rolled back)", a.size),
                        stored_hash: String::new(),
                        expected_hash: a.hash.clone(),
                    });
                    break;
                }
                if a.size > 0 && seen.as_deref() != Some(a.hash.as_str()) {
                    broken = Some(BrokenAt {
                        seq: a.size,
                        ts: 0,
                        reason: "entry differs from the signed checkpoint (chain recomputed or rewritten)".into(),
                        stored_hash: seen.clone().unwrap_or_default(),
                        expected_hash: a.hash.clone(),
                    });
                    break;
                }
            }
        }
        let ok = broken.is_none();
        ChainReport {
            ok,
            tenant: self.chain.tenant.clone(),
            verified: self.chain.verified,
            broken_at: broken,
            head: Head {
                seq,
                hash,
                ts: self.last_ts,
            },
            checkpoint: AnchorStatus {
                size: anchor_size,
                verified: ok && anchor_size > 0,
            },
            unanchored: seq.saturating_sub(anchor_size),
            markers: self.markers,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(tenant: &str) -> Entry {
        Entry {
            tenant: tenant.into(),
            kind: "admin".into(),
            event_id: "00112233445566778899aabbccddeeff".into(),
            ts: 1_700_000_000_000_000,
            instance: "i".into(),
            actor: Some("uid:0".into()),
            action: Some("mint".into()),
            ..Entry::default()
        }
    }

    #[test]
    fn canonical_form_is_sorted_and_omits_absent_fields() {
        let mut e = entry("acme");
        e.seal(0, GENESIS_HASH);
        let text = String::from_utf8(e.canonical_bytes()).unwrap();
        assert!(text.starts_with(r#"{"action":"mint","actor":"uid:0","event_id""#));
        assert!(!text.contains("hash\":\"") || text.contains("prev_hash"));
        assert!(!text.contains("subject"));
    }

    #[test]
    fn verifier_catches_edit_gap_and_splice() {
        let mut a = entry("acme");
        a.seal(0, GENESIS_HASH);
        let mut b = entry("acme");
        b.seal(a.seq, &a.hash);
        let mut v = ChainVerifier::new("acme");
        v.push(&a).unwrap();
        let mut edited = b.clone();
        edited.action = Some("revoke".into());
        assert!(v
            .clone()
            .push(&edited)
            .unwrap_err()
            .reason
            .contains("edited"));
        let mut other = entry("other");
        other.seal(a.seq, &a.hash);
        assert!(v
            .clone()
            .push(&other)
            .unwrap_err()
            .reason
            .contains("spliced"));
        let mut gap = b.clone();
        gap.seal(a.seq + 1, &a.hash);
        assert!(v
            .clone()
            .push(&gap)
            .unwrap_err()
            .reason
            .contains("expected seq"));
        v.push(&b).unwrap();
        assert_eq!(v.verified, 2);
    }
}
