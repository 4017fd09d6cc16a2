//! Audit entries (DESIGN §5): the field table, the canonical encoding and the hash chain.
//!
//! `hash = SHA-256(0x00 ‖ RFC 8785 JSON of every field but hash)`, absent fields omitted, and
//! `args_commitment = SHA-256(salt ‖ RFC 8785 JSON of args)`. RFC 8785 (JCS) comes from a
//! maintained implementation: numbers as ECMAScript formats doubles, keys in UTF-16 code-unit
//! order. Entry fields are strings, booleans, string arrays and integers below 2^53, whose JCS
//! form is byte for byte what earlier versions wrote, so existing chains keep their hashes.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Format version written into every entry.
pub const ENTRY_VERSION: u32 = 1;
/// `prev_hash` of the first entry of a chain.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What an entry records (its `kind` column). Written as [`Kind::as_str`], the one spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A decision on a call or request: allow, block or escalate.
    Decision,
    /// What upstream did with an allowed call (`ref_event_id` names the decision).
    Outcome,
    /// A person's decision on an escalated call, or its time-out (`ref_event_id` names the
    /// escalate decision; `action` is approve, reject or timeout; `decided_by` who).
    Approval,
    /// A state-changing admin action.
    Admin,
    /// A retention or re-baseline cut (`cut_seq`, `cut_hash`).
    Marker,
    /// A checkpoint signing key announced in the `_system` chain.
    CheckpointKey,
}

impl Kind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Decision => "decision",
            Kind::Outcome => "outcome",
            Kind::Approval => "approval",
            Kind::Admin => "admin",
            Kind::Marker => "marker",
            Kind::CheckpointKey => "checkpoint-key",
        }
    }
}

/// A decision entry's verdict (its `decision` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    Allow,
    Block,
    /// The policy asked for a human's approval.
    Escalate,
}

impl Verdict {
    /// The verdict spelled `text` (as [`Verdict::as_str`] writes it).
    pub fn parse(text: &str) -> Option<Verdict> {
        [Verdict::Allow, Verdict::Block, Verdict::Escalate]
            .into_iter()
            .find(|v| v.as_str() == text)
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Verdict::Allow => "allow",
            Verdict::Block => "block",
            Verdict::Escalate => "escalate",
        }
    }
}

/// The check that refused a call (a decision entry's `check` column, and `error.data.check`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Check {
    /// The HTTP/JSON-RPC request itself: shape, names, version, session, method.
    Request,
    Capability,
    Policy,
    Approval,
    Budget,
    Audit,
    Upstream,
}

impl Check {
    pub const fn as_str(self) -> &'static str {
        match self {
            Check::Request => "request",
            Check::Capability => "capability",
            Check::Policy => "policy",
            Check::Approval => "approval",
            Check::Budget => "budget",
            Check::Audit => "audit",
            Check::Upstream => "upstream",
        }
    }
}

impl Entry {
    /// Whether this entry is of `kind`.
    pub fn is(&self, kind: Kind) -> bool {
        self.kind == kind.as_str()
    }
}

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
    ///
    /// Written field by field (the hot path seals two entries per call); an entry with an
    /// integer JCS would print rounded (|n| > 2^53, only in forged rows) takes the generic path, so the bytes are the same either way (property-tested against
    /// [`Entry::canonical_bytes_generic`]).
    pub fn canonical_bytes(&self) -> Vec<u8> {
        self.canonical_bytes_direct()
            .unwrap_or_else(|| self.canonical_bytes_generic())
    }

    /// The direct encoding alone: `None` when an integer needs the generic path (exposed so
    /// the property test can tell which path an entry took).
    #[doc(hidden)]
    pub fn canonical_bytes_direct(&self) -> Option<Vec<u8>> {
        canonical::entry(self)
    }

    /// RFC 8785 bytes of every field except `hash`, through `serde_json` and a general JCS
    /// implementation.
    pub fn canonical_bytes_generic(&self) -> Vec<u8> {
        let mut value = match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => map,
            // An Entry always serializes to an object.
            _ => serde_json::Map::new(),
        };
        value.remove("hash");
        canonical_json(&serde_json::Value::Object(value))
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
        // A head at u64::MAX (only a forged row can be there) seals a duplicate seq, which the
        // store's UNIQUE(tenant, seq) refuses: fail closed rather than wrap or panic.
        self.seq = prev_seq.saturating_add(1);
        self.prev_hash = prev_hash.to_string();
        self.hash = self.compute_hash();
    }
}

/// The direct RFC 8785 encoder of an [`Entry`]: keys in code-unit order (every key is ASCII, so
/// byte order), absent fields omitted, strings escaped as ECMAScript `JSON.stringify` does.
mod canonical {
    use super::Entry;

    /// Largest integer JCS prints as plain digits (2^53; beyond, doubles round).
    const EXACT: u64 = 1 << 53;

    struct Out {
        buf: Vec<u8>,
        first: bool,
    }

    impl Out {
        fn key(&mut self, k: &str) {
            self.buf.push(if self.first { b'{' } else { b',' });
            self.first = false;
            self.buf.push(b'"');
            self.buf.extend_from_slice(k.as_bytes());
            self.buf.extend_from_slice(b"\":");
        }

        fn string(&mut self, k: &str, v: &str) {
            self.key(k);
            escape(&mut self.buf, v);
        }

        fn opt_string(&mut self, k: &str, v: &Option<String>) {
            if let Some(v) = v {
                self.string(k, v);
            }
        }

        /// `None` when JCS would not print `n` as plain digits.
        fn int(&mut self, k: &str, n: i128) -> Option<()> {
            if n.unsigned_abs() > u128::from(EXACT) {
                return None;
            }
            self.key(k);
            self.buf.extend_from_slice(n.to_string().as_bytes());
            Some(())
        }

        fn opt_int(&mut self, k: &str, n: Option<i128>) -> Option<()> {
            match n {
                Some(n) => self.int(k, n),
                None => Some(()),
            }
        }
    }

    fn escape(buf: &mut Vec<u8>, s: &str) {
        buf.push(b'"');
        let bytes = s.as_bytes();
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            let esc: &[u8] = match b {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                0x08 => b"\\b",
                0x0c => b"\\f",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\t' => b"\\t",
                0..=0x1f => {
                    buf.extend_from_slice(&bytes[start..i]);
                    buf.extend_from_slice(format!("\\u{b:04x}").as_bytes());
                    start = i + 1;
                    continue;
                }
                _ => continue,
            };
            buf.extend_from_slice(&bytes[start..i]);
            buf.extend_from_slice(esc);
            start = i + 1;
        }
        buf.extend_from_slice(&bytes[start..]);
        buf.push(b'"');
    }

    /// The canonical bytes, or `None` when an integer needs the generic path.
    pub(super) fn entry(e: &Entry) -> Option<Vec<u8>> {
        let mut o = Out {
            buf: Vec::with_capacity(768),
            first: true,
        };
        let int = |n: i64| Some(i128::from(n));
        // Keys in byte order.
        o.opt_string("action", &e.action);
        o.opt_string("actor", &e.actor);
        o.opt_string("approval_id", &e.approval_id);
        o.opt_string("args_commitment", &e.args_commitment);
        o.opt_string("check", &e.check);
        o.opt_string("cut_hash", &e.cut_hash);
        o.opt_int("cut_seq", e.cut_seq.map(i128::from))?;
        o.opt_string("decided_by", &e.decided_by);
        o.opt_string("decision", &e.decision);
        o.opt_string("delegated_subject", &e.delegated_subject);
        o.opt_string("elevation_id", &e.elevation_id);
        o.string("event_id", &e.event_id);
        o.string("instance", &e.instance);
        o.opt_string("jti", &e.jti);
        if let Some(chain) = &e.jti_chain {
            o.key("jti_chain");
            o.buf.push(b'[');
            for (i, jti) in chain.iter().enumerate() {
                if i > 0 {
                    o.buf.push(b',');
                }
                escape(&mut o.buf, jti);
            }
            o.buf.push(b']');
        }
        o.string("kind", &e.kind);
        o.opt_string("method", &e.method);
        o.opt_string("policy_revision", &e.policy_revision);
        o.string("prev_hash", &e.prev_hash);
        o.opt_string("reason", &e.reason);
        o.opt_string("ref_event_id", &e.ref_event_id);
        if let Some(b) = e.requires_step_up {
            o.key("requires_step_up");
            o.buf
                .extend_from_slice(if b { b"true" as &[u8] } else { b"false" });
        }
        o.opt_string("root_jti", &e.root_jti);
        o.int("seq", i128::from(e.seq))?;
        o.opt_string("subject", &e.subject);
        o.opt_string("target", &e.target);
        o.string("tenant", &e.tenant);
        o.opt_string("tool", &e.tool);
        o.int("ts", i128::from(e.ts))?;
        o.opt_int("upstream_latency_ms", e.upstream_latency_ms.and_then(int))?;
        o.opt_int("upstream_status", e.upstream_status.and_then(int))?;
        o.int("v", i128::from(e.v))?;
        o.buf.push(b'}');
        Some(o.buf)
    }
}

/// RFC 8785 (JSON Canonicalization Scheme) bytes of a JSON value.
pub fn canonical_json(value: &serde_json::Value) -> Vec<u8> {
    // A `Value` holds only finite numbers, so canonicalization cannot fail.
    serde_json_canonicalizer::to_vec(value).unwrap_or_default()
}

/// `args_commitment`: SHA-256(salt ‖ RFC 8785 JSON of args), lowercase hex, with the canonical
/// bytes (what `raw` argument persistence keeps).
pub fn args_commitment(salt: &[u8], args: &serde_json::Value) -> (String, Vec<u8>) {
    let canonical = canonical_json(args);
    let mut h = Sha256::new();
    h.update(salt);
    h.update(&canonical);
    (hex::encode(h.finalize()), canonical)
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
        let next = self.last_seq.checked_add(1);
        if Some(e.seq) != next {
            return Err(broken(
                format!(
                    "expected seq {} but found {} (gap, deletion or reorder)",
                    next.map_or_else(|| "none (seq overflow)".to_string(), |n| n.to_string()),
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
    /// Covered by a signed checkpoint that the chain still matches: only then does it excuse
    /// anything.
    #[serde(default)]
    pub anchored: bool,
    /// Sizes of the signed checkpoints this marker excused: below a prune's cut (entries gone
    /// by design) or, for a re-baseline, the rolled-back history it acknowledges.
    #[serde(default)]
    pub excused: Vec<u64>,
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

/// How many recent entry hashes a verifier keeps to check a marker's `cut_hash` against the
/// entry it names (an honest marker names an entry a few positions back at most).
const MARKER_LOOKBACK: usize = 4096;

/// A marker met in the chain, with what verification established about it.
#[derive(Debug, Clone)]
struct MarkerState {
    seen: MarkerSeen,
    /// `cut_hash` was compared with the entry at `cut_seq` (or the first kept entry's link).
    cut_confirmed: bool,
}

/// Verifies a whole chain fed in seq order against trusted checkpoints: every hash and link,
/// and that the chain still contains exactly what was signed (no truncation, rollback or
/// recomputed suffix). A `marker` excuses a checkpoint only when it is self-consistent, covered
/// by a checkpoint the chain matches, and the excused checkpoint is one its cut put out of
/// reach: a prune's deleted prefix, or the history a re-baseline acknowledges as rolled back.
#[derive(Debug, Clone)]
pub struct ChainAudit {
    chain: ChainVerifier,
    anchors: Vec<Anchor>,
    seen: Vec<Option<String>>,
    broken: Option<BrokenAt>,
    last_ts: Option<i64>,
    /// The first entry fed: its seq and the `prev_hash` it links to.
    first: Option<(u64, String)>,
    recent: std::collections::VecDeque<(u64, String)>,
    markers: Vec<MarkerState>,
}

impl ChainAudit {
    /// `anchors`: trusted checkpoints (the newest, any pinned one, older ones), in any order.
    pub fn new(tenant: &str, anchors: Vec<Anchor>) -> Self {
        let n = anchors.len();
        ChainAudit {
            chain: ChainVerifier::new(tenant),
            anchors,
            seen: vec![None; n],
            broken: None,
            last_ts: None,
            first: None,
            recent: std::collections::VecDeque::new(),
            markers: Vec::new(),
        }
    }

    /// The hash of the kept entry at `seq`, if verification still knows it.
    fn hash_at(&self, seq: u64) -> Option<&str> {
        match &self.first {
            Some((first, link)) if seq.checked_add(1) == Some(*first) => Some(link),
            _ => self
                .recent
                .iter()
                .rev()
                .find(|(s, _)| *s == seq)
                .map(|(_, h)| h.as_str()),
        }
    }

    /// A marker must name a cut strictly before itself, and its `cut_hash` must be the hash of
    /// the entry it names whenever that entry (or the first kept entry's link) is at hand.
    fn check_marker(&self, e: &Entry) -> Result<MarkerState, String> {
        let (Some(cut), Some(cut_hash)) = (e.cut_seq, e.cut_hash.as_deref()) else {
            return Err("marker without cut_seq and cut_hash (forged)".into());
        };
        if cut >= e.seq {
            return Err(format!(
                "marker's cut_seq {cut} is not before its own seq {} (forged)",
                e.seq
            ));
        }
        let cut_confirmed = match self.hash_at(cut) {
            Some(h) if h == cut_hash => true,
            Some(_) => {
                return Err(format!(
                    "marker's cut_hash is not the hash of entry {cut} (forged)"
                ))
            }
            None => false,
        };
        Ok(MarkerState {
            seen: MarkerSeen {
                seq: e.seq,
                action: e.action.clone(),
                reason: e.reason.clone(),
                cut_seq: Some(cut),
                anchored: false,
                excused: Vec::new(),
            },
            cut_confirmed,
        })
    }

    /// Feed the next entry; returns false once the chain is known to be broken.
    pub fn push(&mut self, e: &Entry) -> bool {
        if self.broken.is_some() {
            return false;
        }
        if self.first.is_none() {
            self.first = Some((e.seq, e.prev_hash.clone()));
            // A pruned chain starts after its cut; a marker later in the chain must say so.
            if e.seq > 1 {
                self.chain = ChainVerifier::resume(&self.chain.tenant, e.seq - 1, &e.prev_hash);
            }
        }
        if let Err(b) = self.chain.push(e) {
            self.broken = Some(b);
            return false;
        }
        if e.is(Kind::Marker) {
            match self.check_marker(e) {
                Ok(m) => self.markers.push(m),
                Err(reason) => {
                    self.broken = Some(BrokenAt {
                        seq: e.seq,
                        ts: e.ts,
                        reason,
                        stored_hash: e.hash.clone(),
                        expected_hash: e.hash.clone(),
                    });
                    return false;
                }
            }
        }
        for (i, a) in self.anchors.iter().enumerate() {
            if a.size == e.seq {
                self.seen[i] = Some(e.hash.clone());
            }
        }
        if self.recent.len() == MARKER_LOOKBACK {
            self.recent.pop_front();
        }
        self.recent.push_back((e.seq, e.hash.clone()));
        self.last_ts = Some(e.ts);
        true
    }

    /// Why the checkpoint `a` (not matched by the chain) is not excused.
    fn unmatched(a: &Anchor, head: u64, seen: &Option<String>) -> BrokenAt {
        if a.size > head {
            BrokenAt {
                seq: head + 1,
                ts: 0,
                reason: format!(
                    "chain ends at {head} but a signed checkpoint covers {} (truncated or rolled back)",
                    a.size
                ),
                stored_hash: String::new(),
                expected_hash: a.hash.clone(),
            }
        } else {
            BrokenAt {
                seq: a.size,
                ts: 0,
                reason: "entry differs from the signed checkpoint (chain recomputed or rewritten)"
                    .into(),
                stored_hash: seen.clone().unwrap_or_default(),
                expected_hash: a.hash.clone(),
            }
        }
    }

    pub fn finish(mut self) -> ChainReport {
        let (seq, hash) = self.chain.head();
        let (seq, hash) = (seq, hash.to_string());
        let mut broken = self.broken.take();
        // The newest checkpoint the chain matches: it covers (anchors) every marker at or below it.
        let matched = |a: &Anchor, s: &Option<String>| a.size > 0 && s.as_deref() == Some(&a.hash);
        let newest_matched = self
            .anchors
            .iter()
            .zip(&self.seen)
            .filter(|(a, s)| matched(a, s))
            .map(|(a, _)| a.size)
            .max()
            .unwrap_or(0);
        for m in &mut self.markers {
            m.seen.anchored = m.seen.seq <= newest_matched;
        }
        let first = self.first.as_ref().map_or(1, |(s, _)| *s);
        // A chain that starts after 1 was pruned: an anchored prune marker must record exactly
        // that cut (the first kept entry links to its cut_hash, checked when it was fed).
        let prune = self.markers.iter().position(|m| {
            m.seen.anchored
                && m.cut_confirmed
                && m.seen.action.as_deref() == Some("prune")
                && m.seen.cut_seq.and_then(|c| c.checked_add(1)) == Some(first)
        });
        if broken.is_none() && first > 1 && prune.is_none() {
            let cut = first - 1;
            broken = Some(BrokenAt {
                seq: 1,
                ts: 0,
                reason: format!(
                    "entries 1..={cut} are missing and no retention marker covered by a signed checkpoint records the cut"
                ),
                stored_hash: String::new(),
                expected_hash: self.first.as_ref().map(|(_, h)| h.clone()).unwrap_or_default(),
            });
        }
        if broken.is_none() {
            let mut order: Vec<usize> = (0..self.anchors.len()).collect();
            order.sort_by_key(|&i| self.anchors[i].size);
            for i in order {
                let (a, s) = (&self.anchors[i], &self.seen[i]);
                if a.size == 0 || matched(a, s) {
                    continue;
                }
                // Deleted by an anchored prune: out of reach by design.
                if a.size < first {
                    if let Some(p) = prune {
                        self.markers[p].seen.excused.push(a.size);
                        continue;
                    }
                }
                // Past an anchored re-baseline's cut (where the chain left the signed history)
                // and signed before the marker: the rolled-back history it acknowledges. A
                // checkpoint at or below the cut is still held by the chain, so a mismatch
                // there is a rewrite, never excused.
                // (An anchored marker was written by igd itself, which signs no other; its
                // cut_hash, when the entry it names is still at hand, was checked as fed.)
                let rebaseline = self.markers.iter().position(|m| {
                    m.seen.anchored
                        && m.seen.action.as_deref() == Some("rebaseline")
                        && m.seen.cut_seq.is_some_and(|cut| a.size > cut)
                        && a.size < m.seen.seq
                });
                if let Some(r) = rebaseline {
                    self.markers[r].seen.excused.push(a.size);
                    continue;
                }
                broken = Some(Self::unmatched(a, seq, s));
                break;
            }
        }
        let ok = broken.is_none();
        let anchor_size = if ok {
            newest_matched
        } else {
            self.anchors.iter().map(|a| a.size).max().unwrap_or(0)
        };
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
            markers: self.markers.into_iter().map(|m| m.seen).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(tenant: &str) -> Entry {
        Entry {
            tenant: tenant.into(),
            kind: Kind::Admin.as_str().into(),
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

    fn chain(n: u64) -> Vec<Entry> {
        let mut out: Vec<Entry> = Vec::new();
        for i in 0..n {
            let mut e = entry("acme");
            e.target = Some(format!("t{i}"));
            let (seq, hash) = out
                .last()
                .map_or((0, GENESIS_HASH.to_string()), |p| (p.seq, p.hash.clone()));
            e.seal(seq, &hash);
            out.push(e);
        }
        out
    }

    fn mark(entries: &mut Vec<Entry>, action: &str, cut_seq: u64, cut_hash: &str) {
        let mut m = entry("acme");
        m.kind = Kind::Marker.as_str().into();
        m.action = Some(action.into());
        m.cut_seq = Some(cut_seq);
        m.cut_hash = Some(cut_hash.into());
        let last = entries.last().map(|p| (p.seq, p.hash.clone()));
        let (seq, hash) = last.unwrap_or((0, GENESIS_HASH.to_string()));
        m.seal(seq, &hash);
        entries.push(m);
    }

    fn anchor(entries: &[Entry], size: u64) -> Anchor {
        let e = entries.iter().find(|e| e.seq == size).unwrap();
        Anchor {
            size,
            hash: e.hash.clone(),
        }
    }

    fn audit(entries: &[Entry], anchors: Vec<Anchor>) -> ChainReport {
        let mut a = ChainAudit::new("acme", anchors);
        for e in entries {
            if !a.push(e) {
                break;
            }
        }
        a.finish()
    }

    #[test]
    fn seq_overflow_is_a_break_not_a_panic() {
        let mut a = entry("acme");
        a.seal(u64::MAX - 1, GENESIS_HASH);
        let mut v = ChainVerifier::resume("acme", u64::MAX - 1, GENESIS_HASH);
        v.push(&a).unwrap();
        let mut b = entry("acme");
        b.seal(u64::MAX, &a.hash);
        assert!(v.push(&b).unwrap_err().reason.contains("expected seq"));
    }

    #[test]
    fn a_marker_must_name_an_earlier_entry_by_its_hash() {
        let base = chain(5);
        let h3 = base[2].hash.clone();
        for (cut, hash, why) in [
            (6, h3.as_str(), "not before its own seq"),
            (7, h3.as_str(), "not before its own seq"),
            (3, "00", "not the hash of entry 3"),
            (5, h3.as_str(), "not the hash of entry 5"),
        ] {
            let mut e = base.clone();
            mark(&mut e, "prune", cut, hash);
            let r = audit(&e, vec![]);
            let b = r.broken_at.unwrap();
            assert!(b.reason.contains(why), "{cut}: {}", b.reason);
            assert_eq!(b.seq, 6);
        }
        let mut e = base.clone();
        mark(&mut e, "prune", 3, &h3);
        e[5].cut_hash = None;
        let last = e[4].hash.clone();
        e[5].seal(5, &last);
        assert!(audit(&e, vec![])
            .broken_at
            .unwrap()
            .reason
            .contains("without cut_seq"));
    }

    #[test]
    fn an_anchored_prune_excuses_only_the_checkpoints_below_its_cut() {
        let mut e = chain(6);
        let h4 = e[3].hash.clone();
        mark(&mut e, "prune", 4, &h4);
        let (old2, old5) = (anchor(&e, 2), anchor(&e, 5));
        let cover = anchor(&e, 7);
        let kept: Vec<Entry> = e[4..].to_vec();
        let r = audit(&kept, vec![old5.clone(), cover.clone(), old2.clone()]);
        assert!(r.ok, "{r:?}");
        assert_eq!(
            r.checkpoint,
            AnchorStatus {
                size: 7,
                verified: true
            }
        );
        assert_eq!(r.unanchored, 0);
        assert_eq!(r.markers[0].excused, vec![2]);
        assert!(r.markers[0].anchored);
        // Not covered by a checkpoint: it excuses nothing, and the cut is unexplained.
        let r = audit(&kept, vec![old5.clone(), old2]);
        assert!(!r.ok);
        assert!(!r.markers[0].anchored);
        assert!(r
            .broken_at
            .unwrap()
            .reason
            .contains("entries 1..=4 are missing"));
        // Cutting one entry more than the marker says.
        let r = audit(&kept[1..], vec![cover]);
        assert!(!r.ok);
        // A re-baseline does not excuse a deleted prefix.
        let mut e = chain(6);
        let h4 = e[3].hash.clone();
        mark(&mut e, "rebaseline", 4, &h4);
        let cover = anchor(&e, 7);
        assert!(!audit(&e[4..], vec![cover]).ok);
    }

    #[test]
    fn an_anchored_rebaseline_excuses_the_rollback_before_it_and_says_so() {
        let lost = chain(8);
        let mut e = chain(3);
        let mut other = entry("acme");
        other.target = Some("after restore".into());
        other.seal(3, &e[2].hash.clone());
        e.push(other);
        // The marker's cut is the fork point: the last entry the chain shares with what was
        // signed (entry 3); the entry after it is new history.
        let h3 = e[2].hash.clone();
        let mut at_head = e.clone();
        mark(&mut e, "rebaseline", 3, &h3);
        // A cut at the head claims the chain still holds entry 4 as signed: a checkpoint of
        // the lost entry 4 then shows a rewrite, never excused.
        let h4 = at_head[3].hash.clone();
        mark(&mut at_head, "rebaseline", 4, &h4);
        let mut tail = entry("acme");
        tail.seal(5, &at_head[4].hash.clone());
        at_head.push(tail);
        let r = audit(&at_head, vec![anchor(&lost, 4), anchor(&at_head, 5)]);
        assert!(!r.ok, "{r:?}");
        let more = entry("acme");
        let last = e[4].hash.clone();
        let mut more = more;
        more.seal(5, &last);
        e.push(more);
        let (old2, old4, old5) = (anchor(&lost, 2), anchor(&lost, 4), anchor(&lost, 5));
        let r = audit(&e, vec![old4.clone(), anchor(&e, 5), old2.clone()]);
        assert!(r.ok, "{r:?}");
        assert_eq!(r.markers[0].excused, vec![4]);
        assert_eq!(r.checkpoint.size, 5);
        assert_eq!(r.unanchored, 1);
        // A checkpoint at or past the marker is never excused: a rewrite after it.
        let r = audit(&e, vec![old5, anchor(&e, 5)]);
        assert!(!r.ok);
        // Without a covering checkpoint the rollback stands.
        let r = audit(&e, vec![old4]);
        assert!(!r.ok);
        assert!(!r.markers[0].anchored);
    }
}
