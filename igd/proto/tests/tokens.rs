//! Token properties through the public API: known answers, attenuation never widens, tampering
//! of any kind fails.

#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::print_stdout)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use intentgate_proto::keys::{KeyRing, MasterKey};
use intentgate_proto::token::*;
use proptest::prelude::*;
use serde_json::Value;
use sha2::Sha256;

const NOW: u64 = 1_800_000_000;

fn ring() -> KeyRing {
    let mk = MasterKey::parse(&"42".repeat(32)).unwrap();
    KeyRing::new(mk.token_key(), vec![])
}

fn jti(n: u64) -> String {
    format!("{n:032x}")
}

fn root(tools: &[&str], max_calls: u64) -> String {
    mint(
        ring().current(),
        RootClaims {
            kid: String::new(),
            jti: jti(1),
            tenant: "acme".into(),
            sub: "agent-a".into(),
            tools: tools.iter().map(|s| s.to_string()).collect(),
            max_calls,
            iat: NOW - 10,
            exp: NOW + 3600,
            all_tools: tools == ["*"],
        },
    )
    .unwrap()
}

fn payload(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(&text[4..]).unwrap()
}

fn text_of(payload: &[u8]) -> String {
    format!("ig1.{}", URL_SAFE_NO_PAD.encode(payload))
}

#[test]
fn known_answer_vectors() {
    let raw = include_str!("../testdata/tokens.json");
    let doc: Value = serde_json::from_str(raw).unwrap();
    let mk = MasterKey::parse(doc["master_key"].as_str().unwrap()).unwrap();
    let key = mk.token_key();
    assert_eq!(key.kid(), doc["kid"].as_str().unwrap());
    let ring = KeyRing::new(key.clone(), vec![]);
    let vectors = doc["vectors"].as_array().unwrap();
    assert!(vectors.len() >= 3);
    for v in vectors {
        let blocks: Vec<Vec<u8>> = v["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b.as_str().unwrap().as_bytes().to_vec())
            .collect();
        let expected = v["token"].as_str().unwrap();
        assert_eq!(
            seal_blocks(&key, &blocks).unwrap(),
            expected,
            "{}",
            v["name"]
        );
        let decoded = RawToken::decode(expected).unwrap();
        assert_eq!(decoded.blocks(), blocks.as_slice());
        let verdict = verify(&ring, expected, NOW);
        match v["valid"].as_bool().unwrap() {
            true => {
                let claims = verdict.unwrap();
                assert_eq!(
                    claims.rights.tools.to_list(),
                    v["effective_tools"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|t| t.as_str().unwrap().to_string())
                        .collect::<Vec<_>>()
                );
            }
            false => assert!(verdict.is_err(), "{} should fail", v["name"]),
        }
    }
}

/// Regenerates testdata/tokens.json; run with `cargo test -p intentgate-proto -- --ignored`
/// only when the format deliberately changes.
#[test]
#[ignore]
fn regenerate_vectors() {
    let master = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    let key = MasterKey::parse(master).unwrap().token_key();
    let root = format!(
        r#"{{"kid":"{}","jti":"{}","tenant":"acme","sub":"agent-a","tools":["read_invoice","send_email"],"max_calls":100,"iat":1700000000,"exp":1900000000}}"#,
        key.kid(),
        jti(1)
    );
    let child = format!(
        r#"{{"jti":"{}","sub":"helper","tools":["read_invoice"],"max_calls":5}}"#,
        jti(2)
    );
    let widening = format!(r#"{{"jti":"{}","tools":["delete_all"]}}"#, jti(3));
    let all = format!(
        r#"{{"kid":"{}","jti":"{}","tenant":"acme","sub":"ops","tools":["*"],"max_calls":10,"iat":1700000000,"exp":1900000000,"all_tools":true}}"#,
        key.kid(),
        jti(4)
    );
    let cases: Vec<(&str, Vec<&String>, bool, Vec<&str>)> = vec![
        (
            "root",
            vec![&root],
            true,
            vec!["read_invoice", "send_email"],
        ),
        (
            "root+child",
            vec![&root, &child],
            true,
            vec!["read_invoice"],
        ),
        ("widening child", vec![&root, &widening], false, vec![]),
        (
            "all_tools root+child",
            vec![&all, &child],
            true,
            vec!["read_invoice"],
        ),
    ];
    let vectors: Vec<Value> = cases
        .into_iter()
        .map(|(name, blocks, valid, tools)| {
            let bytes: Vec<Vec<u8>> = blocks.iter().map(|b| b.as_bytes().to_vec()).collect();
            serde_json::json!({
                "name": name,
                "blocks": blocks,
                "token": seal_blocks(&key, &bytes).unwrap(),
                "valid": valid,
                "effective_tools": tools,
            })
        })
        .collect();
    let doc = serde_json::json!({
        "comment": "IntentGate capability token known-answer vectors (DESIGN §3). K_token = HKDF-SHA256(master_key, no salt, info 'intentgate token v1'); verify at unix time 1800000000.",
        "master_key": master,
        "kid": key.kid(),
        "vectors": vectors,
    });
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/tokens.json");
    std::fs::write(path, serde_json::to_string_pretty(&doc).unwrap() + "\n").unwrap();
}

#[test]
fn every_bit_flip_fails() {
    let child = attenuate(
        &root(&["a", "b"], 10),
        &ChildClaims {
            jti: jti(2),
            tools: Some(vec!["a".into()]),
            ..Default::default()
        },
    )
    .unwrap();
    verify(&ring(), &child, NOW).unwrap();
    let bytes = payload(&child);
    for i in 0..bytes.len() {
        for bit in 0..8 {
            let mut b = bytes.clone();
            b[i] ^= 1 << bit;
            assert!(
                verify(&ring(), &text_of(&b), NOW).is_err(),
                "flip byte {i} bit {bit}"
            );
        }
    }
    // Flips in the text form: prefix, characters, trailing bits.
    for i in 0..child.len() {
        let mut t = child.clone().into_bytes();
        t[i] ^= 1;
        if let Ok(s) = String::from_utf8(t) {
            assert!(verify(&ring(), &s, NOW).is_err(), "text flip at {i}");
        }
    }
}

#[test]
fn every_truncation_fails() {
    let t = root(&["a"], 1);
    for n in 0..t.len() {
        assert!(verify(&ring(), &t[..n], NOW).is_err(), "truncated to {n}");
    }
    let bytes = payload(&t);
    for n in 0..bytes.len() {
        assert!(verify(&ring(), &text_of(&bytes[..n]), NOW).is_err());
    }
}

#[test]
fn wrong_key_unknown_kid_and_retired_keys() {
    let t = root(&["a"], 1);
    let other = MasterKey::parse(&"43".repeat(32)).unwrap().token_key();
    // Same kid claimed but a different key: signature fails.
    let forged = mint(&other, {
        let raw = RawToken::decode(&t).unwrap();
        let mut c = raw.claims_unverified().unwrap().root;
        c.jti = jti(9);
        c
    })
    .unwrap();
    assert!(matches!(
        verify(&ring(), &forged, NOW),
        Err(TokenError::UnknownKid(_))
    ));
    // The old key still verifies while retired; once dropped its kid is unknown.
    let rotated = KeyRing::new(other.clone(), vec![ring().current().clone()]);
    verify(&rotated, &t, NOW).unwrap();
    let dropped = KeyRing::new(other, vec![]);
    assert!(matches!(
        verify(&dropped, &t, NOW),
        Err(TokenError::UnknownKid(_))
    ));
    // A root with the right kid but a tag from another key.
    let key2 = MasterKey::parse(&"44".repeat(32)).unwrap().token_key();
    let raw = RawToken::decode(&t).unwrap();
    let resealed = seal_blocks(&key2, raw.blocks()).unwrap();
    assert_eq!(
        verify(&ring(), &resealed, NOW).unwrap_err(),
        TokenError::BadSignature
    );
}

#[test]
fn expiry() {
    let t = root(&["a"], 1);
    assert_eq!(
        verify(&ring(), &t, NOW + 3600).unwrap_err(),
        TokenError::Expired
    );
    let claims = verify_signature(&ring(), &t).unwrap();
    assert_eq!(claims.root.tenant, "acme");
}

fn chain3() -> (String, String, String) {
    let r = root(&["a", "b", "c"], 10);
    let c1 = attenuate(
        &r,
        &ChildClaims {
            jti: jti(2),
            tools: Some(vec!["a".into(), "b".into()]),
            ..Default::default()
        },
    )
    .unwrap();
    let c2 = attenuate(
        &c1,
        &ChildClaims {
            jti: jti(3),
            tools: Some(vec!["a".into()]),
            ..Default::default()
        },
    )
    .unwrap();
    (r, c1, c2)
}

fn with_blocks(blocks: &[Vec<u8>], tag_from: &str) -> String {
    let tag = &payload(tag_from)[payload(tag_from).len() - 32..];
    let mut p = vec![1u8];
    for b in blocks {
        p.extend_from_slice(&(b.len() as u16).to_be_bytes());
        p.extend_from_slice(b);
    }
    p.extend_from_slice(tag);
    text_of(&p)
}

#[test]
fn dropping_reordering_duplicating_or_splicing_blocks_fails() {
    let (r, c1, c2) = chain3();
    let blocks = RawToken::decode(&c2).unwrap().blocks().to_vec();
    // Drop the middle block, keep either tag.
    for tag in [&c1, &c2] {
        assert!(verify(
            &ring(),
            &with_blocks(&[blocks[0].clone(), blocks[2].clone()], tag),
            NOW
        )
        .is_err());
    }
    // Drop the last block but keep its tag.
    assert!(verify(&ring(), &with_blocks(&blocks[..2], &c2), NOW).is_err());
    // Reorder.
    assert!(verify(
        &ring(),
        &with_blocks(
            &[blocks[0].clone(), blocks[2].clone(), blocks[1].clone()],
            &c2
        ),
        NOW
    )
    .is_err());
    // Duplicate a block.
    assert!(verify(
        &ring(),
        &with_blocks(
            &[blocks[0].clone(), blocks[1].clone(), blocks[1].clone()],
            &c2
        ),
        NOW
    )
    .is_err());
    // Splice a child from another chain onto this root.
    let other_root = mint(
        ring().current(),
        RootClaims {
            kid: String::new(),
            jti: jti(7),
            tenant: "acme".into(),
            sub: "agent-a".into(),
            tools: vec!["a".into(), "b".into(), "c".into()],
            max_calls: 10,
            iat: NOW - 10,
            exp: NOW + 3600,
            all_tools: false,
        },
    )
    .unwrap();
    let other_child = attenuate(
        &other_root,
        &ChildClaims {
            jti: jti(8),
            tools: Some(vec!["c".into()]),
            ..Default::default()
        },
    )
    .unwrap();
    let foreign = RawToken::decode(&other_child).unwrap().blocks()[1].clone();
    for tag in [&r, &other_child] {
        assert!(verify(
            &ring(),
            &with_blocks(&[blocks[0].clone(), foreign.clone()], tag),
            NOW
        )
        .is_err());
    }
}

#[test]
fn strict_json_in_blocks() {
    let key = ring().current().clone();
    let good = RawToken::decode(&root(&["a"], 5)).unwrap().blocks()[0].clone();
    let text = String::from_utf8(good.clone()).unwrap();
    let bad_roots = [
        text.replacen(
            "\"tenant\":\"acme\"",
            "\"tenant\":\"acme\",\"tenant\":\"evil\"",
            1,
        ),
        text.replacen("\"max_calls\":5", "\"max_calls\":5,\"admin\":true", 1),
        text.replacen("\"max_calls\":5", "\"max_calls\":-5", 1),
        text.replacen("\"max_calls\":5", "\"max_calls\":5.0", 1),
        text.replacen("\"max_calls\":5", "\"max_calls\":5e0", 1),
        text.replacen("\"tools\":[\"a\"]", "\"tools\":[\"*\"]", 1),
        text.replacen("\"tenant\":\"acme\"", "\"tenant\":\"_system\"", 1),
        format!("{text} "),
    ];
    for bad in bad_roots {
        assert_ne!(bad, text);
        let t = seal_blocks(&key, &[bad.clone().into_bytes()]).unwrap();
        assert!(verify(&ring(), &t, NOW).is_err(), "accepted {bad}");
    }
    let t = seal_blocks(&key, &[good]).unwrap();
    verify(&ring(), &t, NOW).unwrap();
}

#[test]
fn limits() {
    let mut t = root(&["a"], 100);
    for i in 0..MAX_CHILD_BLOCKS as u64 {
        t = attenuate(
            &t,
            &ChildClaims {
                jti: jti(100 + i),
                ..Default::default()
            },
        )
        .unwrap();
    }
    verify(&ring(), &t, NOW).unwrap();
    assert_eq!(
        attenuate(
            &t,
            &ChildClaims {
                jti: jti(999),
                ..Default::default()
            }
        )
        .unwrap_err(),
        TokenError::TooDeep
    );
    let r = root(&["a"], 100);
    assert!(matches!(
        attenuate(
            &r,
            &ChildClaims {
                jti: jti(1),
                ..Default::default()
            }
        ),
        Err(TokenError::DuplicateJti(_))
    ));
    assert_eq!(
        verify(&ring(), &"x".repeat(MAX_TOKEN_TEXT + 1), NOW).unwrap_err(),
        TokenError::TooLarge
    );
}

#[test]
fn child_sub_is_only_a_label() {
    let r = root(&["a"], 10);
    let c = attenuate(
        &r,
        &ChildClaims {
            jti: jti(2),
            sub: Some("admin".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let claims = verify(&ring(), &c, NOW).unwrap();
    assert_eq!(claims.root.sub, "agent-a");
    assert_eq!(claims.delegated_subject(), Some("admin"));
}

#[test]
fn widening_is_rejected_not_narrowed() {
    let r = root(&["a"], 10);
    for child in [
        ChildClaims {
            jti: jti(2),
            tools: Some(vec!["b".into()]),
            ..Default::default()
        },
        ChildClaims {
            jti: jti(2),
            max_calls: Some(11),
            ..Default::default()
        },
        ChildClaims {
            jti: jti(2),
            exp: Some(NOW + 3601),
            ..Default::default()
        },
    ] {
        assert!(
            matches!(attenuate(&r, &child), Err(TokenError::Widening(_))),
            "{child:?}"
        );
    }
    // The same widening block sealed with a valid MAC is still refused by verify.
    let raw = RawToken::decode(&r).unwrap();
    let block = format!(r#"{{"jti":"{}","max_calls":50}}"#, jti(5));
    let t = seal_blocks(
        ring().current(),
        &[raw.blocks()[0].clone(), block.into_bytes()],
    )
    .unwrap();
    assert!(matches!(
        verify(&ring(), &t, NOW),
        Err(TokenError::Widening(_))
    ));
}

#[test]
fn debug_of_raw_token_hides_the_tag() {
    let t = root(&["a"], 1);
    let raw = RawToken::decode(&t).unwrap();
    let tag_hex = hex::encode(&payload(&t)[payload(&t).len() - 32..]);
    let shown = format!("{raw:?}");
    assert!(!shown.contains(&tag_hex) && !shown.contains(&t[4..20]));
}

const TOOLS: [&str; 5] = ["a", "b", "c", "d", "e"];

fn child_strategy(
) -> impl Strategy<Value = (Option<Vec<usize>>, Option<u64>, Option<u64>, Option<bool>)> {
    (
        proptest::option::of(proptest::collection::vec(0usize..5, 0..4)),
        proptest::option::of(0u64..30),
        proptest::option::of(0u64..7200),
        proptest::option::of(any::<bool>()),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// No attenuation sequence widens rights; allow(child) ⇒ allow(parent).
    #[test]
    fn attenuation_never_widens(steps in proptest::collection::vec(child_strategy(), 1..9), all in any::<bool>()) {
        let mut current = if all { root(&["*"], 20) } else { root(&["a", "b", "c"], 20) };
        for (n, (tools, max_calls, exp_off, sub)) in (10u64..).zip(steps) {
            let parent = verify(&ring(), &current, NOW).unwrap();
            let mut tl: Vec<String> = tools.map(|v| v.into_iter().map(|i| TOOLS[i].to_string()).collect()).unwrap_or_default();
            tl.sort();
            tl.dedup();
            let child = ChildClaims {
                jti: jti(n),
                sub: sub.map(|_| "delegate".to_string()),
                tools: if tl.is_empty() { None } else { Some(tl) },
                max_calls,
                exp: exp_off.map(|o| NOW + o),
            };
            match attenuate(&current, &child) {
                Ok(next) => {
                    let c = verify_signature(&ring(), &next).unwrap();
                    prop_assert!(parent.rights.tools.includes(&c.rights.tools));
                    prop_assert!(c.rights.max_calls <= parent.rights.max_calls);
                    prop_assert!(c.rights.exp <= parent.rights.exp);
                    prop_assert_eq!(&c.root.sub, &parent.root.sub);
                    for tool in TOOLS {
                        if c.rights.tools.contains(tool) {
                            prop_assert!(parent.rights.tools.contains(tool));
                        }
                    }
                    if c.check_expiry(NOW).is_err() { break; }
                    current = next;
                }
                Err(TokenError::Widening(_)) => {
                    // Widening must really be widening.
                    let widened_tools = child.tools.as_ref().is_some_and(|t| t.iter().any(|x| !parent.rights.tools.contains(x)));
                    let widened_calls = child.max_calls.is_some_and(|m| m > parent.rights.max_calls);
                    let widened_exp = child.exp.is_some_and(|e| e > parent.rights.exp);
                    prop_assert!(widened_tools || widened_calls || widened_exp);
                }
                Err(e) => prop_assert!(false, "unexpected error {e}"),
            }
        }
    }

    /// Arbitrary bytes never verify and never panic the decoder.
    #[test]
    fn arbitrary_input_never_verifies(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        prop_assert!(verify(&ring(), &text_of(&bytes), NOW).is_err());
        let _ = RawToken::decode(&String::from_utf8_lossy(&bytes));
    }
}

/// What any token holder can do without igd and without `attenuate()`: append an arbitrary block
/// and chain the MAC by hand (tagᵢ = HMAC-SHA256(tagᵢ₋₁, blockᵢ)). Verification must judge such a
/// block as strictly as `attenuate()` does.
fn append_raw(text: &str, block: &str) -> String {
    let p = payload(text);
    let (body, tag) = p.split_at(p.len() - 32);
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(tag).unwrap();
    m.update(block.as_bytes());
    let next_tag = m.finalize().into_bytes();
    let mut out = body.to_vec();
    out.extend_from_slice(&u16::try_from(block.len()).unwrap().to_be_bytes());
    out.extend_from_slice(block.as_bytes());
    out.extend_from_slice(&next_tag);
    text_of(&out)
}

#[test]
fn hand_appended_blocks_verify_like_attenuate_ones() {
    // The helper is faithful: the block attenuate() would write, appended by hand, verifies.
    let r = root(&["a", "b"], 10);
    let by_hand = append_raw(&r, &format!(r#"{{"jti":"{}","tools":["a"]}}"#, jti(2)));
    let via_api = attenuate(
        &r,
        &ChildClaims {
            jti: jti(2),
            tools: Some(vec!["a".into()]),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(by_hand, via_api);
    assert_eq!(
        verify(&ring(), &by_hand, NOW)
            .unwrap()
            .rights
            .tools
            .to_list(),
        ["a"]
    );
}

#[test]
fn hand_appended_child_with_unknown_field_fails() {
    let r = root(&["a", "b"], 10);
    for extra in [
        r#""admin":true"#,
        r#""tenant":"other""#,
        r#""all_tools":true"#,
        r#""kid":"x""#,
    ] {
        let block = format!(r#"{{"jti":"{}",{extra},"tools":["a"]}}"#, jti(2));
        let t = append_raw(&r, &block);
        match verify(&ring(), &t, NOW) {
            Err(TokenError::Malformed(m)) => assert!(m.contains("unknown field"), "{m}"),
            other => panic!("{block} gave {other:?}"),
        }
    }
}

#[test]
fn hand_appended_duplicate_jti_fails() {
    let r = root(&["a", "b"], 10);
    // The root's own jti repeated by a child.
    let t = append_raw(&r, &format!(r#"{{"jti":"{}"}}"#, jti(1)));
    assert_eq!(
        verify(&ring(), &t, NOW).unwrap_err(),
        TokenError::DuplicateJti(jti(1))
    );
    // Two children with the same jti.
    let c1 = append_raw(&r, &format!(r#"{{"jti":"{}"}}"#, jti(2)));
    verify(&ring(), &c1, NOW).unwrap();
    let c2 = append_raw(&c1, &format!(r#"{{"jti":"{}","max_calls":3}}"#, jti(2)));
    assert_eq!(
        verify(&ring(), &c2, NOW).unwrap_err(),
        TokenError::DuplicateJti(jti(2))
    );
}

#[test]
fn hand_appended_invalid_child_claims_fail() {
    let all = root(&["*"], 10);
    let some = root(&["a", "b"], 10);
    let long = "x".repeat(MAX_NAME_LEN + 1);
    let many: Vec<String> = (0..=MAX_TOOLS).map(|i| format!("t{i}")).collect();
    let cases: Vec<(&String, String)> = vec![
        // Only a root minted with all_tools may say "*", also under such a root.
        (&all, format!(r#"{{"jti":"{}","tools":["*"]}}"#, jti(2))),
        (&all, format!(r#"{{"jti":"{}","tools":["a","*"]}}"#, jti(2))),
        (&some, format!(r#"{{"jti":"{}","tools":["*"]}}"#, jti(2))),
        (&some, r#"{"jti":"NOT-HEX"}"#.to_string()),
        (&some, format!(r#"{{"jti":"{}"}}"#, "A".repeat(32))),
        (&some, format!(r#"{{"jti":"{}","sub":""}}"#, jti(2))),
        (&some, format!(r#"{{"jti":"{}","sub":"a\u001bb"}}"#, jti(2))),
        (&some, format!(r#"{{"jti":"{}","sub":"{long}"}}"#, jti(2))),
        (
            &some,
            format!(r#"{{"jti":"{}","tools":["a","a"]}}"#, jti(2)),
        ),
        (&some, format!(r#"{{"jti":"{}","tools":[""]}}"#, jti(2))),
        (
            &all,
            format!(
                r#"{{"jti":"{}","tools":{}}}"#,
                jti(2),
                serde_json::to_string(&many).unwrap()
            ),
        ),
    ];
    for (parent, block) in cases {
        let t = append_raw(parent, &block);
        assert!(
            matches!(verify(&ring(), &t, NOW), Err(TokenError::InvalidClaims(_))),
            "{block}: {:?}",
            verify(&ring(), &t, NOW)
        );
        // attenuate() refuses to build on it too.
        assert!(attenuate(
            &t,
            &ChildClaims {
                jti: jti(3),
                ..Default::default()
            }
        )
        .is_err());
    }
    // The same shapes with valid values verify, so the refusals above are about the values.
    for (parent, block) in [
        (&all, format!(r#"{{"jti":"{}","tools":["a"]}}"#, jti(2))),
        (&some, format!(r#"{{"jti":"{}","sub":"helper"}}"#, jti(2))),
        (&some, format!(r#"{{"jti":"{}","tools":["b"]}}"#, jti(2))),
    ] {
        verify(&ring(), &append_raw(parent, &block), NOW).unwrap();
    }
}

#[test]
fn hand_appended_chain_deeper_than_the_limit_fails() {
    let mut t = root(&["a"], 10);
    for i in 0..MAX_CHILD_BLOCKS as u64 {
        t = append_raw(&t, &format!(r#"{{"jti":"{}"}}"#, jti(100 + i)));
    }
    assert_eq!(verify(&ring(), &t, NOW).unwrap().depth(), MAX_CHILD_BLOCKS);
    let deeper = append_raw(&t, &format!(r#"{{"jti":"{}"}}"#, jti(999)));
    assert_eq!(
        verify(&ring(), &deeper, NOW).unwrap_err(),
        TokenError::TooDeep
    );
    assert_eq!(RawToken::decode(&deeper).unwrap_err(), TokenError::TooDeep);
}

#[test]
fn refusal_messages_never_carry_raw_control_characters() {
    // An unknown kid and an unknown field name come from the sender; they reach refusal reasons
    // that operators read, so they are bounded and escaped.
    let hostile = "\\u001b]0;pwned\\u0007\\u001b[31m";
    let block = format!(
        r#"{{"kid":"{hostile}","jti":"{}","tenant":"acme","sub":"a","tools":["a"],"max_calls":1,"iat":1,"exp":2}}"#,
        jti(1)
    );
    let key = ring().current().clone();
    let t = seal_blocks(&key, &[block.into_bytes()]).unwrap();
    let e = verify(&ring(), &t, NOW).unwrap_err();
    assert!(matches!(e, TokenError::UnknownKid(_)), "{e:?}");
    let text = e.to_string();
    assert!(text.contains("\\u{1b}]0;pwned"), "{text}");
    assert!(!text.chars().any(char::is_control), "{text:?}");

    let r = root(&["a"], 10);
    let field = format!("x{}{}", hostile, "y".repeat(1000));
    let t = append_raw(&r, &format!(r#"{{"jti":"{}","{field}":1}}"#, jti(2)));
    let text = verify(&ring(), &t, NOW).unwrap_err().to_string();
    assert!(!text.chars().any(char::is_control), "{text:?}");
    assert!(text.len() < 400, "{} bytes", text.len());
}

// ---- edges found by mutation testing (cargo mutants over token.rs and keys.rs) ----

#[test]
fn tool_set_inclusion() {
    let only = |t: &[&str]| ToolSet::Only(t.iter().map(|s| s.to_string()).collect());
    assert!(ToolSet::All.includes(&ToolSet::All));
    assert!(ToolSet::All.includes(&only(&["a"])));
    assert!(!only(&["a", "b"]).includes(&ToolSet::All));
    assert!(only(&["a", "b"]).includes(&only(&["a"])));
    assert!(!only(&["a"]).includes(&only(&["a", "b"])));
    assert!(ToolSet::All.contains("anything") && !only(&["a"]).contains("b"));
    assert_eq!(ToolSet::All.to_list(), ["*"]);
}

#[test]
fn depth_leaf_and_call_limits() {
    let (r, c1, c2) = chain3();
    assert_eq!(RawToken::decode(&r).unwrap().depth(), 0);
    assert_eq!(RawToken::decode(&c2).unwrap().depth(), 2);
    let c3 = attenuate(
        &c2,
        &ChildClaims {
            jti: jti(4),
            max_calls: Some(3),
            ..Default::default()
        },
    )
    .unwrap();
    let claims = verify(&ring(), &c3, NOW).unwrap();
    assert_eq!(claims.leaf_jti(), jti(4));
    assert_eq!(verify(&ring(), &r, NOW).unwrap().leaf_jti(), jti(1));
    assert_eq!(verify(&ring(), &c1, NOW).unwrap().leaf_jti(), jti(2));
    // Only levels that declare max_calls are charged (root always does).
    let limits: Vec<(String, u64)> = claims
        .call_limits()
        .map(|(j, m)| (j.to_string(), m))
        .collect();
    assert_eq!(limits, [(jti(1), 10), (jti(4), 3)]);
    assert_eq!(
        claims.chain().collect::<Vec<_>>(),
        [jti(1), jti(2), jti(3), jti(4)]
    );
}

fn root_claims(sub: &str, tools: Vec<String>, iat: u64, exp: u64) -> RootClaims {
    RootClaims {
        kid: String::new(),
        jti: jti(1),
        tenant: "acme".into(),
        sub: sub.into(),
        tools,
        max_calls: 1,
        iat,
        exp,
        all_tools: false,
    }
}

#[test]
fn claim_limits_are_inclusive() {
    let key = ring().current().clone();
    let a = vec!["a".to_string()];
    // Names up to MAX_NAME_LEN bytes, up to MAX_TOOLS tools.
    mint(
        &key,
        root_claims(&"s".repeat(MAX_NAME_LEN), a.clone(), 1, 2),
    )
    .unwrap();
    assert!(matches!(
        mint(
            &key,
            root_claims(&"s".repeat(MAX_NAME_LEN + 1), a.clone(), 1, 2)
        ),
        Err(TokenError::InvalidClaims(_))
    ));
    let tools = |n: usize| (0..n).map(|i| format!("t{i}")).collect::<Vec<_>>();
    mint(&key, root_claims("s", tools(MAX_TOOLS), 1, 2)).unwrap();
    assert!(matches!(
        mint(&key, root_claims("s", tools(MAX_TOOLS + 1), 1, 2)),
        Err(TokenError::InvalidClaims(_))
    ));
    assert!(matches!(
        mint(&key, root_claims("s", vec!["".into()], 1, 2)),
        Err(TokenError::InvalidClaims(_))
    ));
    // exp must be after iat.
    assert!(matches!(
        mint(&key, root_claims("s", a.clone(), 5, 5)),
        Err(TokenError::InvalidClaims(_))
    ));
    // A child may keep exactly the parent's max_calls and exp.
    let r = root(&["a"], 10);
    attenuate(
        &r,
        &ChildClaims {
            jti: jti(2),
            max_calls: Some(10),
            exp: Some(NOW + 3600),
            ..Default::default()
        },
    )
    .unwrap();
    // Expiry is exclusive: valid one second before exp.
    verify(&ring(), &r, NOW + 3599).unwrap();
}

#[test]
fn size_limits_hold_on_every_path() {
    let key = ring().current().clone();
    let r = root(&["a"], 10);
    // A block of exactly MAX_BLOCK_BYTES is fine; one byte more is refused by attenuate, by
    // seal_blocks and by decode.
    let pad = |n: usize| {
        let base = format!(r#"{{"jti":"{}","sub":""}}"#, jti(2));
        let room = n - base.len();
        // Spaces are valid JSON whitespace and count toward the block's bytes.
        format!(
            r#"{{"jti":"{}",{}"sub":"x"}}"#,
            jti(2),
            " ".repeat(room - 1)
        )
    };
    let exact = pad(MAX_BLOCK_BYTES);
    assert_eq!(exact.len(), MAX_BLOCK_BYTES);
    let raw = RawToken::decode(&r).unwrap();
    let ok = seal_blocks(&key, &[raw.blocks()[0].clone(), exact.clone().into_bytes()]).unwrap();
    verify(&ring(), &ok, NOW).unwrap();
    let over = format!("{exact} ");
    assert_eq!(
        seal_blocks(&key, &[raw.blocks()[0].clone(), over.clone().into_bytes()]).unwrap_err(),
        TokenError::TooLarge
    );
    let mut p = payload(&r);
    let tag = p.split_off(p.len() - 32);
    p.extend_from_slice(&u16::try_from(over.len()).unwrap().to_be_bytes());
    p.extend_from_slice(over.as_bytes());
    p.extend_from_slice(&tag);
    assert!(matches!(
        RawToken::decode(&text_of(&p)),
        Err(TokenError::Malformed(_))
    ));
    // A zero-length block is malformed.
    let mut p = payload(&r);
    let tag = p.split_off(p.len() - 32);
    p.extend_from_slice(&[0, 0]);
    p.extend_from_slice(&tag);
    assert!(matches!(
        RawToken::decode(&text_of(&p)),
        Err(TokenError::Malformed(_))
    ));
    // The whole payload: three near-full child blocks fit, a fourth does not.
    let near_full: Vec<Vec<u8>> = (0..4u64)
        .map(|i| {
            pad(MAX_BLOCK_BYTES)
                .replace(&jti(2), &jti(50 + i))
                .into_bytes()
        })
        .collect();
    let mut blocks = vec![raw.blocks()[0].clone()];
    blocks.extend(near_full.clone());
    assert_eq!(
        seal_blocks(&key, &blocks).unwrap_err(),
        TokenError::TooLarge
    );
    verify(&ring(), &seal_blocks(&key, &blocks[..4]).unwrap(), NOW).unwrap();
    // attenuate() enforces the payload limit too: a root with long tool names plus three
    // near-full blocks leaves room for a small child but not for a large one.
    let long = |i: usize| format!("{i:03}{}", "t".repeat(MAX_NAME_LEN - 3));
    let tools: Vec<String> = (0..14).map(long).collect();
    let big_root = mint(
        &key,
        RootClaims {
            max_calls: 10,
            exp: NOW + 3600,
            ..root_claims("s", tools, NOW - 10, NOW + 3600)
        },
    )
    .unwrap();
    let mut blocks = vec![RawToken::decode(&big_root).unwrap().blocks()[0].clone()];
    blocks.extend(near_full[..3].iter().cloned());
    let full = seal_blocks(&key, &blocks).unwrap();
    assert!(payload(&full).len() < MAX_PAYLOAD_BYTES);
    let small = ChildClaims {
        jti: jti(70),
        ..Default::default()
    };
    attenuate(&full, &small).unwrap();
    let large = ChildClaims {
        jti: jti(71),
        sub: Some("s".repeat(MAX_NAME_LEN)),
        tools: Some(vec![long(0)]),
        ..Default::default()
    };
    assert_eq!(attenuate(&full, &large).unwrap_err(), TokenError::TooLarge);
    assert!(matches!(
        seal_blocks(&key, &[]),
        Err(TokenError::Malformed(_))
    ));
}

#[test]
fn generated_master_keys_are_fresh_hex() {
    let a = MasterKey::generate_hex();
    let b = MasterKey::generate_hex();
    assert_eq!(a.len(), 64);
    assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
    assert_ne!(a, b);
    let ka = MasterKey::parse(&a).unwrap().token_key();
    let kb = MasterKey::parse(&b).unwrap().token_key();
    assert_ne!(ka.kid(), kb.kid());
    assert_eq!(ka.kid().len(), 8);
    // A trailing newline (as in a key file) does not change the key.
    assert_eq!(
        MasterKey::parse(&format!("{a}\n"))
            .unwrap()
            .token_key()
            .kid(),
        ka.kid()
    );
}

#[test]
fn master_key_edges() {
    // A raw (non-hex) key of exactly the minimum length is accepted; one byte less is not.
    let raw = "k".repeat(intentgate_proto::keys::MIN_MASTER_KEY_BYTES);
    MasterKey::parse(&raw).unwrap();
    assert!(MasterKey::parse(&raw[1..]).is_err());
    // Debug says that it is redacted (and shows nothing of the key).
    let mk = MasterKey::parse(&"ab".repeat(32)).unwrap();
    assert_eq!(format!("{mk:?}"), "MasterKey(<redacted>)");
}

#[test]
fn oversized_text_is_refused_before_decoding() {
    // Not base64 at all: refused for its length, without being decoded.
    let text = format!("ig1.{}", "!".repeat(MAX_TOKEN_TEXT));
    assert_eq!(
        verify(&ring(), &text, NOW).unwrap_err(),
        TokenError::TooLarge
    );
    // The largest text that may be decoded is the encoding of the largest payload.
    assert_eq!(MAX_TOKEN_TEXT, 4 + (MAX_PAYLOAD_BYTES * 4).div_ceil(3));
}

#[test]
fn a_payload_of_exactly_the_limit_verifies() {
    let key = ring().current().clone();
    let root_block = RawToken::decode(&root(&["a"], 10)).unwrap().blocks()[0].clone();
    // {"jti":"<32 hex>",<spaces>"sub":"x"} of exactly n bytes.
    let block = |i: u64, n: usize| {
        format!(
            r#"{{"jti":"{}",{}"sub":"x"}}"#,
            jti(50 + i),
            " ".repeat(n - 52)
        )
        .into_bytes()
    };
    let mut blocks = vec![root_block.clone()];
    blocks.extend((0..3).map(|i| block(i, MAX_BLOCK_BYTES)));
    let used: usize = 1 + 32 + blocks.iter().map(|b| b.len() + 2).sum::<usize>();
    blocks.push(block(3, MAX_PAYLOAD_BYTES - used - 2));
    let t = seal_blocks(&key, &blocks).unwrap();
    assert_eq!(payload(&t).len(), MAX_PAYLOAD_BYTES);
    assert_eq!(t.len(), MAX_TOKEN_TEXT);
    assert_eq!(verify(&ring(), &t, NOW).unwrap().depth(), 4);
    // Debug names the block count and redacts the tag.
    assert_eq!(
        format!("{:?}", RawToken::decode(&t).unwrap()),
        "RawToken { blocks: 5, tag: <redacted> }"
    );
}

#[test]
fn block_count_and_payload_limits_are_exact() {
    let key = ring().current().clone();
    let root_block = RawToken::decode(&root(&["a"], 10)).unwrap().blocks()[0].clone();
    let child = |i: u64| format!(r#"{{"jti":"{}"}}"#, jti(100 + i)).into_bytes();
    // seal_blocks takes 1 to 9 blocks.
    let mut nine = vec![root_block.clone()];
    nine.extend((0..MAX_CHILD_BLOCKS as u64).map(child));
    verify(&ring(), &seal_blocks(&key, &nine).unwrap(), NOW).unwrap();
    let mut ten = nine.clone();
    ten.push(child(99));
    assert!(matches!(
        seal_blocks(&key, &ten),
        Err(TokenError::Malformed(_))
    ));

    // attenuate() may fill the payload exactly, not one byte more.
    let filler = |i: u64, n: usize| {
        format!(
            r#"{{"jti":"{}",{}"sub":"x"}}"#,
            jti(50 + i),
            " ".repeat(n - 52)
        )
        .into_bytes()
    };
    // The child attenuate() writes: {"jti":"<32>","sub":"<k×s>"} = 51 + k bytes.
    let k = 100;
    let child_block = 51 + k + 2;
    for (room, fits) in [(child_block, true), (child_block - 1, false)] {
        let mut blocks = vec![root_block.clone()];
        blocks.extend((0..3).map(|i| filler(i, MAX_BLOCK_BYTES)));
        let used: usize = 1 + 32 + blocks.iter().map(|b| b.len() + 2).sum::<usize>();
        blocks.push(filler(3, MAX_PAYLOAD_BYTES - used - room - 2));
        let base = seal_blocks(&key, &blocks).unwrap();
        assert_eq!(payload(&base).len(), MAX_PAYLOAD_BYTES - room);
        let next = attenuate(
            &base,
            &ChildClaims {
                jti: jti(77),
                sub: Some("s".repeat(k)),
                ..Default::default()
            },
        );
        if fits {
            let t = next.unwrap();
            assert_eq!(payload(&t).len(), MAX_PAYLOAD_BYTES);
            verify(&ring(), &t, NOW).unwrap();
        } else {
            assert_eq!(next.unwrap_err(), TokenError::TooLarge);
        }
    }
}

#[test]
fn attenuate_writes_blocks_up_to_exactly_the_block_limit() {
    // {"jti":"<32>","sub":"<k>","tools":[15 names of 256]} = 62 + k + 15·258 + 14 bytes.
    let all = root(&["*"], 10);
    let tools: Vec<String> = (0..15)
        .map(|i| format!("{i:03}{}", "t".repeat(MAX_NAME_LEN - 3)))
        .collect();
    let child = |k: usize| ChildClaims {
        jti: jti(2),
        sub: Some("s".repeat(k)),
        tools: Some(tools.clone()),
        ..Default::default()
    };
    let k = MAX_BLOCK_BYTES - 62 - (15 * 258 + 14);
    let t = attenuate(&all, &child(k)).unwrap();
    assert_eq!(
        RawToken::decode(&t).unwrap().blocks()[1].len(),
        MAX_BLOCK_BYTES
    );
    verify(&ring(), &t, NOW).unwrap();
    assert_eq!(
        attenuate(&all, &child(k + 1)).unwrap_err(),
        TokenError::TooLarge
    );
}
