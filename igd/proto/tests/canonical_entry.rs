//! The direct canonical encoder of an audit entry (`Entry::canonical_bytes`, on the hot path)
//! against the generic one (`serde_json` → RFC 8785 library): byte for byte the same on
//! arbitrary entries — any Unicode and control characters in strings, absent and present
//! optional fields, integers on both sides of 2^53.

#![allow(clippy::unwrap_used)]

use intentgate_proto::audit::Entry;
use proptest::prelude::*;

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[\\x00-\\x7f]{0,40}",
        "[\"\\\\\\x00-\\x1f\\x7f\u{2028}\u{2029}é😀a]{0,20}",
    ]
}

/// Integers JCS prints as plain digits (the direct path's range), realistic sizes included.
fn exact_int() -> impl Strategy<Value = i64> {
    prop_oneof![
        -1000i64..1000,
        -(1i64 << 53)..=(1i64 << 53),
        1_000_000_000_000_000i64..9_000_000_000_000_000,
    ]
}

fn exact_uint() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..1000, 0u64..=(1u64 << 53)]
}

fn int() -> impl Strategy<Value = i64> {
    prop_oneof![
        16 => exact_int(),
        1 => any::<i64>(),
        1 => Just(1i64 << 53),
        1 => Just((1i64 << 53) + 1),
        1 => Just(-(1i64 << 53)),
        1 => Just(-(1i64 << 53) - 1),
        1 => Just(i64::MIN),
        1 => Just(i64::MAX),
    ]
}

fn uint() -> impl Strategy<Value = u64> {
    prop_oneof![
        16 => exact_uint(),
        1 => any::<u64>(),
        1 => Just(1u64 << 53),
        1 => Just((1u64 << 53) + 1)
    ]
}

/// Whether every integer of `e` is in the direct path's range.
fn exact(e: &Entry) -> bool {
    let ok = |n: i128| n.unsigned_abs() <= 1u128 << 53;
    ok(e.seq.into())
        && ok(e.ts.into())
        && e.upstream_status.is_none_or(|n| ok(n.into()))
        && e.upstream_latency_ms.is_none_or(|n| ok(n.into()))
        && e.cut_seq.is_none_or(|n| ok(n.into()))
}

prop_compose! {
    fn entry()(
        strings in proptest::collection::vec(proptest::option::of(text()), 20),
        required in proptest::collection::vec(text(), 6),
        chain in proptest::option::of(proptest::collection::vec(text(), 0..4)),
        ints in (uint(), int(), proptest::option::of(int()), proptest::option::of(int()), proptest::option::of(uint())),
        v in 0u32..3,
        step_up in proptest::option::of(any::<bool>()),
    ) -> Entry {
        let mut s = strings.into_iter();
        let mut next = || s.next().flatten();
        Entry {
            v,
            tenant: required[0].clone(),
            seq: ints.0,
            kind: required[1].clone(),
            event_id: required[2].clone(),
            ref_event_id: next(),
            ts: ints.1,
            instance: required[3].clone(),
            subject: next(),
            delegated_subject: next(),
            jti: next(),
            root_jti: next(),
            jti_chain: chain,
            method: next(),
            tool: next(),
            decision: next(),
            check: next(),
            reason: next(),
            policy_revision: next(),
            requires_step_up: step_up,
            approval_id: next(),
            decided_by: next(),
            elevation_id: next(),
            actor: next(),
            action: next(),
            target: next(),
            upstream_status: ints.2,
            upstream_latency_ms: ints.3,
            args_commitment: next(),
            cut_seq: ints.4,
            cut_hash: next(),
            prev_hash: required[4].clone(),
            hash: required[5].clone(),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5_000))]

    #[test]
    fn direct_encoding_equals_the_generic_one(e in entry()) {
        let generic = e.canonical_bytes_generic();
        prop_assert_eq!(e.canonical_bytes(), generic.clone());
        // In range, the direct path is the one taken (and agrees by itself).
        let direct = e.canonical_bytes_direct();
        prop_assert_eq!(direct.is_some(), exact(&e));
        if let Some(direct) = direct {
            prop_assert_eq!(direct, generic);
        }
    }
}

/// A typical decision entry (every common field set) goes through the direct path: the bytes
/// are the generic ones, and the hash does not depend on `hash`.
#[test]
fn a_decision_entry_encodes_alike() {
    let e = Entry {
        v: 1,
        tenant: "acme".into(),
        seq: 42,
        kind: "decision".into(),
        event_id: "0123456789abcdef0123456789abcdef".into(),
        ts: 1_764_000_000_123_456,
        instance: "i-1".into(),
        subject: Some("agent \"quoted\"\n".into()),
        jti_chain: Some(vec!["a".into(), "b\u{1}".into()]),
        requires_step_up: Some(true),
        upstream_status: Some(-1),
        prev_hash: "00".into(),
        hash: "ff".into(),
        ..Entry::default()
    };
    assert_eq!(
        e.canonical_bytes_direct(),
        Some(e.canonical_bytes_generic())
    );
    let mut other = e.clone();
    other.hash = "ee".into();
    assert_eq!(e.compute_hash(), other.compute_hash());
}
