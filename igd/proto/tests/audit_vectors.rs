//! Known-answer vectors for the audit formats (testdata/audit.json, DESIGN §5): RFC 8785 JSON,
//! args commitments, entry hashes, a chain, signed-note checkpoints, and a chain written by an
//! earlier release. The expected values are derived independently by tests/audit_vectors.py
//! (hand-written JCS, hashlib, RFC 8032 Ed25519); this test checks the Rust code against them and
//! runs that derivation again.

#![allow(clippy::unwrap_used)]

use intentgate_proto::audit::{args_commitment, canonical_json, Anchor, ChainAudit, Entry};
use intentgate_proto::checkpoint::{Checkpoint, VerifierKey};
use serde_json::Value;

fn doc() -> Value {
    serde_json::from_str(include_str!("../testdata/audit.json")).unwrap()
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap()
}

#[test]
fn canonical_json_is_rfc_8785() {
    let doc = doc();
    let vectors = doc["canonical"].as_array().unwrap();
    assert!(vectors.len() >= 6);
    for v in vectors {
        let got = String::from_utf8(canonical_json(&v["value"])).unwrap();
        assert_eq!(got, text(&v["jcs"]), "{}", v["name"]);
    }
}

#[test]
fn args_commitments() {
    let doc = doc();
    for v in doc["args"].as_array().unwrap() {
        let salt = hex::decode(text(&v["salt"])).unwrap();
        let (commitment, canonical) = args_commitment(&salt, &v["args"]);
        assert_eq!(String::from_utf8(canonical).unwrap(), text(&v["canonical"]));
        assert_eq!(commitment, text(&v["commitment"]), "{}", v["name"]);
    }
}

#[test]
fn entry_hashes_and_chain() {
    let doc = doc();
    let mut entries = Vec::new();
    for v in doc["chain"].as_array().unwrap() {
        let e: Entry = serde_json::from_value(v["entry"].clone()).unwrap();
        assert_eq!(
            String::from_utf8(e.canonical_bytes()).unwrap(),
            text(&v["canonical"])
        );
        assert_eq!(e.compute_hash(), text(&v["hash"]));
        // Sealing the same fields after the same head gives the same entry.
        let mut resealed = e.clone();
        let prev = entries
            .last()
            .map_or((0, e.prev_hash.clone()), |p: &Entry| {
                (p.seq, p.hash.clone())
            });
        resealed.seal(prev.0, &prev.1);
        assert_eq!(resealed, e);
        entries.push(e);
    }
    let head = entries.last().unwrap();
    let mut audit = ChainAudit::new(
        "acme",
        vec![Anchor {
            size: head.seq,
            hash: head.hash.clone(),
        }],
    );
    assert!(entries.iter().all(|e| audit.push(e)));
    let r = audit.finish();
    assert!(r.ok && r.checkpoint.verified, "{r:?}");
    assert_eq!(r.markers.len(), 1);
}

#[test]
fn signed_note_checkpoints() {
    let doc = doc();
    for v in doc["checkpoints"].as_array().unwrap() {
        let seed: [u8; 32] = hex::decode(text(&v["seed"])).unwrap().try_into().unwrap();
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let name = text(&v["key_name"]);
        let vk = VerifierKey::new(name, key.verifying_key());
        assert_eq!(vk.encode(), text(&v["verifier_key"]));
        let cp = Checkpoint {
            origin: text(&v["origin"]).into(),
            size: v["size"].as_u64().unwrap(),
            hash: text(&v["hash"]).into(),
        };
        assert_eq!(cp.body().unwrap(), text(&v["body"]));
        assert_eq!(
            cp.sign(name, &key).unwrap(),
            text(&v["note"]),
            "{}",
            v["name"]
        );
        let parsed = VerifierKey::parse(text(&v["verifier_key"])).unwrap();
        assert_eq!(Checkpoint::open(text(&v["note"]), &[parsed]).unwrap(), cp);
    }
}

#[test]
fn a_chain_written_by_the_earlier_release_still_verifies() {
    let doc = doc();
    let legacy = &doc["legacy"];
    let key = VerifierKey::parse(text(&legacy["key"])).unwrap();
    let cp = Checkpoint::open(text(&legacy["note"]), &[key]).unwrap();
    let entries: Vec<Entry> = legacy["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| serde_json::from_value(e.clone()).unwrap())
        .collect();
    assert!(entries.iter().any(|e| e.args_commitment.is_some()));
    let mut audit = ChainAudit::new(
        text(&legacy["tenant"]),
        vec![Anchor {
            size: cp.size,
            hash: cp.hash,
        }],
    );
    for e in &entries {
        assert_eq!(e.compute_hash(), e.hash, "seq {}", e.seq);
        assert!(audit.push(e));
    }
    let r = audit.finish();
    assert!(r.ok && r.checkpoint.verified, "{r:?}");
    assert_eq!(r.verified, entries.len() as u64);
}

#[test]
fn vectors_are_rederived_independently() {
    let dir = env!("CARGO_MANIFEST_DIR");
    let out = std::process::Command::new("python3")
        .arg(format!("{dir}/tests/audit_vectors.py"))
        .arg("check")
        .arg(format!("{dir}/testdata/audit.json"))
        .output()
        .expect("python3 is needed to re-derive the audit vectors");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
