//! Chain verification throughput (`cargo bench -p intentgate-proto --bench audit_verify`):
//! recompute every hash and link of a 100,000-entry chain against its checkpoint on one core.

#![allow(clippy::unwrap_used)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use intentgate_proto::audit::{Anchor, ChainAudit, Entry, GENESIS_HASH};

const N: u64 = 100_000;

fn chain() -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::with_capacity(N as usize);
    for i in 1..=N {
        let mut e = Entry {
            tenant: "acme".into(),
            kind: "decision".into(),
            event_id: format!("{:032x}", i),
            ts: 1_700_000_000_000_000 + i as i64,
            instance: "0123456789abcdef0123456789abcdef".into(),
            subject: Some("agent-trade-bot".into()),
            jti: Some(format!("{:032x}", i % 97)),
            root_jti: Some(format!("{:032x}", i % 97)),
            jti_chain: Some(vec![format!("{:032x}", i % 97)]),
            method: Some("tools/call".into()),
            tool: Some("read_invoice".into()),
            decision: Some("allow".into()),
            reason: Some("read-only tool".into()),
            policy_revision: Some(format!("sha256:{}", "ab".repeat(32))),
            args_commitment: Some("cd".repeat(32)),
            ..Entry::default()
        };
        let (seq, hash) = out
            .last()
            .map(|p| (p.seq, p.hash.clone()))
            .unwrap_or((0, GENESIS_HASH.to_string()));
        e.seal(seq, &hash);
        out.push(e);
    }
    out
}

fn bench(c: &mut Criterion) {
    let entries = chain();
    let anchor = Anchor {
        size: N,
        hash: entries[N as usize - 1].hash.clone(),
    };
    let mut g = c.benchmark_group("audit");
    g.sample_size(10);
    g.throughput(Throughput::Elements(N));
    g.bench_function("verify 100k entries", |b| {
        b.iter(|| {
            let mut a = ChainAudit::new("acme", vec![anchor.clone()]);
            for e in &entries {
                a.push(e);
            }
            assert!(a.finish().ok);
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
