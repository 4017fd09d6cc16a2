//! Verification against real chains whose head was checkpointed: 10,000 random mutations (edit a
//! field, delete, swap, duplicate, insert, truncate, recompute a suffix with the public hash
//! function, roll back to an older copy) are all detected; clean chains never are; mutations of
//! the unanchored tail are never reported as anchored.

#![allow(clippy::unwrap_used)]

use intentgate_proto::audit::{Anchor, ChainAudit, Entry, GENESIS_HASH};
use proptest::prelude::*;

fn entry(tenant: &str, i: u64, salt: u64) -> Entry {
    Entry {
        tenant: tenant.into(),
        kind: if i.is_multiple_of(3) {
            "outcome".into()
        } else {
            "decision".into()
        },
        event_id: format!("{:032x}", i * 7919 + salt),
        ts: 1_700_000_000_000_000 + i as i64 * 1000,
        instance: "inst".into(),
        subject: Some(format!("agent-{}", i % 4)),
        tool: Some(format!("tool-{}", i % 5)),
        decision: Some(if i.is_multiple_of(2) {
            "allow".into()
        } else {
            "block".into()
        }),
        reason: Some(format!("reason {i} {salt}")),
        jti_chain: Some(vec![format!("{:032x}", i)]),
        ..Entry::default()
    }
}

fn chain(tenant: &str, n: u64, salt: u64) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    for i in 1..=n {
        let mut e = entry(tenant, i, salt);
        let (seq, hash) = out
            .last()
            .map(|p| (p.seq, p.hash.clone()))
            .unwrap_or((0, GENESIS_HASH.to_string()));
        e.seal(seq, &hash);
        out.push(e);
    }
    out
}

fn reseal_from(entries: &mut [Entry], from: usize) {
    for i in from..entries.len() {
        let (seq, hash) = if i == 0 {
            (0, GENESIS_HASH.to_string())
        } else {
            (entries[i - 1].seq, entries[i - 1].hash.clone())
        };
        entries[i].seal(seq, &hash);
    }
}

fn verify(entries: &[Entry], anchor: &Anchor) -> intentgate_proto::audit::ChainReport {
    let mut a = ChainAudit::new("acme", vec![anchor.clone()]);
    for e in entries {
        if !a.push(e) {
            break;
        }
    }
    a.finish()
}

#[derive(Debug, Clone)]
enum Mutation {
    Edit { at: usize, field: u8 },
    Delete { at: usize },
    Swap { a: usize, b: usize },
    Duplicate { at: usize },
    InsertForeign { at: usize },
    Truncate { keep: usize },
    RecomputeSuffix { at: usize },
    Rollback { keep: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0u8..6).prop_map(|(at, field)| Mutation::Edit { at, field }),
        any::<usize>().prop_map(|at| Mutation::Delete { at }),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::Swap { a, b }),
        any::<usize>().prop_map(|at| Mutation::Duplicate { at }),
        any::<usize>().prop_map(|at| Mutation::InsertForeign { at }),
        any::<usize>().prop_map(|keep| Mutation::Truncate { keep }),
        any::<usize>().prop_map(|at| Mutation::RecomputeSuffix { at }),
        any::<usize>().prop_map(|keep| Mutation::Rollback { keep }),
    ]
}

/// Apply a mutation to the anchored part (indices below `anchored`). Returns false when the
/// mutation would be a no-op (e.g. swapping an entry with itself).
fn apply(entries: &mut Vec<Entry>, anchored: usize, m: &Mutation, salt: u64) -> bool {
    let pick = |x: usize| x % anchored;
    match *m {
        Mutation::Edit { at, field } => {
            let e = &mut entries[pick(at)];
            match field {
                0 => e.reason = Some(format!("{} (edited)", e.reason.clone().unwrap_or_default())),
                1 => e.tool = Some("delete_everything".into()),
                2 => e.subject = None,
                3 => e.ts += 1,
                4 => {
                    e.decision = Some("allow".into())
                        .filter(|_| e.decision.as_deref() != Some("allow"))
                        .or(Some("block".into()))
                }
                _ => e.jti_chain = Some(vec![]),
            }
        }
        Mutation::Delete { at } => {
            entries.remove(pick(at));
        }
        Mutation::Swap { a, b } => {
            let (a, b) = (pick(a), pick(b));
            if a == b {
                return false;
            }
            entries.swap(a, b);
        }
        Mutation::Duplicate { at } => {
            let i = pick(at);
            let copy = entries[i].clone();
            entries.insert(i + 1, copy);
        }
        Mutation::InsertForeign { at } => {
            let i = pick(at);
            // An entry sealed onto the same predecessor, but not the one that was signed.
            let mut foreign = entry("acme", 10_000, salt + 1);
            let (seq, hash) = if i == 0 {
                (0, GENESIS_HASH.to_string())
            } else {
                (entries[i - 1].seq, entries[i - 1].hash.clone())
            };
            foreign.seal(seq, &hash);
            entries.insert(i, foreign);
        }
        Mutation::Truncate { keep } => {
            entries.truncate(pick(keep));
        }
        Mutation::RecomputeSuffix { at } => {
            let i = pick(at);
            entries[i].reason = Some("history rewritten".into());
            reseal_from(entries, i);
        }
        Mutation::Rollback { keep } => {
            // An older copy: the first `keep` entries, then a different continuation that grows
            // past the checkpoint again.
            let keep = pick(keep);
            let total = entries.len();
            entries.truncate(keep);
            for i in keep..total + 2 {
                let mut e = entry("acme", i as u64 + 1, salt + 99);
                let (seq, hash) = entries
                    .last()
                    .map(|p| (p.seq, p.hash.clone()))
                    .unwrap_or((0, GENESIS_HASH.to_string()));
                e.seal(seq, &hash);
                entries.push(e);
            }
        }
    }
    true
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    #[test]
    fn every_mutation_of_an_anchored_chain_is_detected(n in 2u64..40, tail in 0u64..6, salt in any::<u32>(), m in mutation()) {
        let salt = u64::from(salt);
        let mut entries = chain("acme", n + tail, salt);
        let anchor = Anchor { size: n, hash: entries[n as usize - 1].hash.clone() };
        // The clean chain verifies: no false positive.
        let clean = verify(&entries, &anchor);
        prop_assert!(clean.ok, "{clean:?}");
        prop_assert_eq!(clean.unanchored, tail);
        if apply(&mut entries, n as usize, &m, salt) {
            let r = verify(&entries, &anchor);
            prop_assert!(!r.ok, "mutation {m:?} went undetected: {r:?}");
        }
    }

    #[test]
    fn recomputed_unanchored_tail_is_never_called_anchored(n in 1u64..30, tail in 1u64..10, at in any::<usize>(), salt in any::<u32>()) {
        let mut entries = chain("acme", n + tail, u64::from(salt));
        let anchor = Anchor { size: n, hash: entries[n as usize - 1].hash.clone() };
        let i = n as usize + at % tail as usize;
        entries[i].reason = Some("tail rewritten".into());
        reseal_from(&mut entries, i);
        let r = verify(&entries, &anchor);
        // Internally consistent, so not "broken" — but only the signed prefix counts as anchored.
        prop_assert!(r.ok);
        prop_assert_eq!(r.checkpoint.size, n);
        prop_assert!(r.unanchored as usize >= entries.len() - i);
    }
}

#[test]
fn cross_tenant_splice_is_detected() {
    let mut a = chain("acme", 10, 1);
    let anchor = Anchor {
        size: 10,
        hash: a[9].hash.clone(),
    };
    let b = chain("other", 10, 1);
    a[4] = b[4].clone();
    assert!(!verify(&a, &anchor).ok);
}
