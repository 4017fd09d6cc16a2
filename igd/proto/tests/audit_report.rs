//! What a verification report says, beyond ok: the reason and position of a break, whether a
//! checkpoint was verified, and which checkpoints a marker may excuse.

#![allow(clippy::unwrap_used)]

use intentgate_proto::audit::{Anchor, ChainAudit, ChainReport, Entry, GENESIS_HASH};

fn entry(i: u64) -> Entry {
    Entry {
        tenant: "acme".into(),
        kind: "admin".into(),
        event_id: format!("{i:032x}"),
        ts: 1_700_000_000_000_000 + i as i64,
        instance: "i".into(),
        action: Some(format!("a{i}")),
        ..Entry::default()
    }
}

fn chain(n: u64) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    for i in 1..=n {
        let mut e = entry(i);
        let (seq, hash) = out
            .last()
            .map_or((0, GENESIS_HASH.to_string()), |p| (p.seq, p.hash.clone()));
        e.seal(seq, &hash);
        out.push(e);
    }
    out
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
fn a_first_entry_must_link_to_genesis() {
    let mut e = entry(1);
    e.seal(0, &"ab".repeat(32));
    let r = audit(&[e], vec![]);
    assert!(!r.ok, "{r:?}");
}

#[test]
fn no_checkpoint_is_not_verified() {
    let r = audit(&chain(3), vec![]);
    assert!(r.ok);
    assert_eq!(r.checkpoint.size, 0);
    assert!(!r.checkpoint.verified);
    assert_eq!(r.unanchored, 3);
}

#[test]
fn truncation_and_rewrite_are_told_apart() {
    let c = chain(6);
    let signed = Anchor {
        size: 6,
        hash: c[5].hash.clone(),
    };
    let r = audit(&c[..4], vec![signed.clone()]);
    let b = r.broken_at.unwrap();
    assert!(b.reason.contains("truncated or rolled back"), "{b:?}");
    assert_eq!(b.seq, 5);
    let other = Anchor {
        size: 3,
        hash: "cd".repeat(32),
    };
    let r = audit(&c, vec![other]);
    let b = r.broken_at.unwrap();
    assert!(b.reason.contains("recomputed or rewritten"), "{b:?}");
    assert_eq!(b.seq, 3);
    // A checkpoint of the head itself that differs: rewritten, not truncated.
    let head = Anchor {
        size: 6,
        hash: "cd".repeat(32),
    };
    let b = audit(&c, vec![head]).broken_at.unwrap();
    assert!(b.reason.contains("recomputed or rewritten"), "{b:?}");
    assert_eq!(b.seq, 6);
}

#[test]
fn a_prune_does_not_excuse_a_checkpoint_of_its_first_kept_entry() {
    let mut c = chain(4);
    let cut_hash = c[3].hash.clone();
    let mut m = entry(99);
    m.kind = "marker".into();
    m.action = Some("prune".into());
    m.cut_seq = Some(4);
    m.cut_hash = Some(cut_hash.clone());
    m.seal(4, &cut_hash);
    c.push(m);
    let mut next = entry(6);
    next.seal(5, &c[4].hash.clone());
    c.push(next);
    let kept = &c[4..];
    let cover = Anchor {
        size: 6,
        hash: c[5].hash.clone(),
    };
    assert!(audit(kept, vec![cover.clone()]).ok);
    // A checkpoint at the first kept entry (the marker) that the chain does not match.
    let wrong = Anchor {
        size: 5,
        hash: "ef".repeat(32),
    };
    assert!(!audit(kept, vec![cover, wrong]).ok);
}
