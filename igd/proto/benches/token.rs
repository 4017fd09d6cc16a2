//! Token verify cost at depth 0 and 4 (`cargo bench -p intentgate-proto --bench token`).

#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::print_stdout)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use intentgate_proto::keys::{KeyRing, MasterKey};
use intentgate_proto::token::{attenuate, mint, verify, ChildClaims, RootClaims};

fn token_at_depth(depth: u64) -> (KeyRing, String) {
    let key = MasterKey::parse(&"42".repeat(32)).unwrap().token_key();
    let mut t = mint(
        &key,
        RootClaims {
            kid: String::new(),
            jti: format!("{:032x}", 1),
            tenant: "acme".into(),
            sub: "agent-trade-bot".into(),
            tools: vec![
                "read_invoice".into(),
                "send_email_internal".into(),
                "list_orders".into(),
            ],
            max_calls: 1000,
            iat: 1_700_000_000,
            exp: 1_900_000_000,
            all_tools: false,
        },
    )
    .unwrap();
    for i in 0..depth {
        t = attenuate(
            &t,
            &ChildClaims {
                jti: format!("{:032x}", 100 + i),
                sub: Some(format!("helper-{i}")),
                tools: Some(vec!["read_invoice".into(), "list_orders".into()]),
                max_calls: Some(500 - i),
                exp: None,
            },
        )
        .unwrap();
    }
    (KeyRing::new(key, vec![]), t)
}

fn bench(c: &mut Criterion) {
    for depth in [0u64, 4] {
        let (ring, t) = token_at_depth(depth);
        eprintln!("token length at depth {depth}: {} characters", t.len());
        c.bench_function(&format!("verify depth {depth}"), |b| {
            b.iter(|| verify(black_box(&ring), black_box(&t), 1_800_000_000).unwrap())
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
