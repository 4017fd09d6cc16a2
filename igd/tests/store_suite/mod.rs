//! The storage behaviour suite: what every [`Store`] implementation must do, written against
//! the trait only. Each backend instantiates it with [`store_suite!`] and a factory giving a
//! fresh, empty store (SQLite now: `store_sqlite.rs`; a PostgreSQL backend adds its own file
//! with the same one line).

#![allow(dead_code, clippy::unwrap_used)]

use igd::store::*;
use intentgate_proto::audit::{ChainVerifier, Entry, GENESIS_HASH};
use intentgate_proto::ids::new_id;

/// Instantiate every behaviour as a `#[tokio::test]` for a backend. `$factory` is an async fn
/// returning `(impl Store, guard)`: the guard keeps the backend's resources alive.
#[macro_export]
macro_rules! store_suite {
    ($factory:path) => {
        $crate::store_suite!(@tests $factory;
            chains_append_read_and_filter,
            chain_rejects_forks_gaps_and_duplicates_atomically,
            entries_round_trip_every_field_exactly,
            side_records_are_kept_beside_and_erasable,
            outcomes_are_found_from_their_decision,
            budgets_and_call_counts_accumulate,
            revocations,
            stops,
            sessions,
            checkpoints,
            unusual_entries_are_found_by_kind_and_bounded,
            retention_cuts_a_chain_that_keeps_growing,
            tokens_and_meta,
            agents_summarize_decisions,
            hostile_text_round_trips,
            reseal_appends_onto_the_stored_head,
            grants_never_pass_the_ceiling,
            policy_drafts_and_history,
            approvals_bind_once_and_decide_once,
            operators_are_unique_by_every_credential,
            totp_codes_are_used_once,
            elevations_are_approved_once,
            notify_channels_are_unique_per_tenant,
            sink_cursors_move_by_compare_and_set,
        );
    };
    (@tests $factory:path; $($name:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let (store, _guard) = $factory().await;
                $crate::store_suite::$name(&store).await;
            }
        )+
    };
}

const T0: i64 = 1_760_000_000_000_000;

/// A chain builder: seals entries one after another like the audit writer does.
pub struct Chain {
    pub tenant: String,
    pub head: (u64, String),
}

impl Chain {
    pub fn new(tenant: &str) -> Chain {
        Chain {
            tenant: tenant.into(),
            head: (0, GENESIS_HASH.into()),
        }
    }

    /// An unsealed entry of this chain at time `T0 + at` seconds.
    pub fn draft(&self, kind: &str, at: i64) -> Entry {
        Entry {
            v: 1,
            tenant: self.tenant.clone(),
            kind: kind.into(),
            event_id: new_id(),
            ts: T0 + at * 1_000_000,
            instance: new_id(),
            ..Entry::default()
        }
    }

    pub fn seal(&mut self, mut e: Entry) -> Entry {
        e.seal(self.head.0, &self.head.1);
        self.head = (e.seq, e.hash.clone());
        e
    }

    pub fn decision(&mut self, subject: &str, tool: &str, decision: &str, at: i64) -> Entry {
        let mut e = self.draft("decision", at);
        e.subject = Some(subject.into());
        e.jti = Some(new_id());
        e.root_jti = Some(new_id());
        e.jti_chain = Some(vec![e.root_jti.clone().unwrap_or_default()]);
        e.method = Some("tools/call".into());
        e.tool = Some(tool.into());
        e.decision = Some(decision.into());
        e.reason = Some(format!("{decision} by test"));
        e.policy_revision = Some(format!("sha256:{}{}", new_id(), new_id()));
        e.args_commitment = Some(format!("{}{}", new_id(), new_id()));
        self.seal(e)
    }
}

pub fn plain(entries: &[Entry]) -> CommitBatch {
    CommitBatch {
        entries: entries
            .iter()
            .map(|e| AppendEntry {
                entry: e.clone(),
                ..AppendEntry::default()
            })
            .collect(),
        ..CommitBatch::default()
    }
}

fn query(tenant: &str) -> AuditQuery {
    AuditQuery {
        tenant: Some(tenant.into()),
        limit: 1000,
        ..AuditQuery::default()
    }
}

fn verify(entries: &[Entry], tenant: &str) {
    let mut v = ChainVerifier::new(tenant);
    for e in entries {
        v.push(e)
            .unwrap_or_else(|b| panic!("chain broken at {}: {}", b.seq, b.reason));
    }
}

pub async fn chains_append_read_and_filter(store: &dyn Store) {
    let mut acme = Chain::new("acme");
    let mut beta = Chain::new("beta");
    let a: Vec<Entry> = (0..6)
        .map(|i| {
            acme.decision(
                if i % 2 == 0 { "alice" } else { "bob" },
                if i < 3 { "echo" } else { "send" },
                if i == 5 { "block" } else { "allow" },
                i,
            )
        })
        .collect();
    let b: Vec<Entry> = (0..3)
        .map(|i| beta.decision("carol", "echo", "allow", 10 + i))
        .collect();
    // Two tenants interleaved in one group commit, then more in a second one.
    let mut first: Vec<Entry> = a[..4].to_vec();
    first.extend(b.iter().cloned());
    store.commit(plain(&first)).await.unwrap();
    store.commit(plain(&a[4..])).await.unwrap();

    let mut heads = store.chain_heads().await.unwrap();
    heads.sort_by(|x, y| x.tenant.cmp(&y.tenant));
    assert_eq!(
        heads,
        vec![
            ChainHead {
                tenant: "acme".into(),
                seq: 6,
                hash: a[5].hash.clone()
            },
            ChainHead {
                tenant: "beta".into(),
                seq: 3,
                hash: b[2].hash.clone()
            },
        ]
    );
    let all = store
        .chain_range("acme", 1, u64::MAX / 2, 100)
        .await
        .unwrap();
    assert_eq!(all, a);
    verify(&all, "acme");
    assert_eq!(
        store.chain_range("acme", 2, 4, 100).await.unwrap(),
        a[1..4].to_vec()
    );
    assert_eq!(
        store.chain_range("acme", 2, 6, 2).await.unwrap(),
        a[1..3].to_vec()
    );

    let q = |f: &dyn Fn(&mut AuditQuery)| {
        let mut q = AuditQuery {
            limit: 1000,
            ..AuditQuery::default()
        };
        f(&mut q);
        q
    };
    let seqs = |v: Vec<Entry>| {
        v.iter()
            .map(|e| (e.tenant.clone(), e.seq))
            .collect::<Vec<_>>()
    };
    // Ordered by (tenant, seq) across tenants.
    let everything = store.query_entries(&q(&|_| {})).await.unwrap();
    assert_eq!(everything.len(), 9);
    assert_eq!(everything[0].tenant, "acme");
    assert_eq!(everything[6].tenant, "beta");
    for (filter, want) in [
        (
            q(&|q| q.subject = Some("alice".into())),
            vec![("acme", 1), ("acme", 3), ("acme", 5)],
        ),
        (
            q(&|q| q.tool = Some("send".into())),
            vec![("acme", 4), ("acme", 5), ("acme", 6)],
        ),
        (q(&|q| q.decision = Some("block".into())), vec![("acme", 6)]),
        (q(&|q| q.kind = Some("outcome".into())), vec![]),
        (
            q(&|q| q.event_id = Some(a[2].event_id.clone())),
            vec![("acme", 3)],
        ),
        (
            q(&|q| q.from_ts = Some(T0 + 2_000_000)),
            vec![
                ("acme", 3),
                ("acme", 4),
                ("acme", 5),
                ("acme", 6),
                ("beta", 1),
                ("beta", 2),
                ("beta", 3),
            ],
        ),
        (
            q(&|q| q.to_ts = Some(T0 + 2_000_000)),
            vec![("acme", 1), ("acme", 2)],
        ),
        (
            q(&|q| {
                q.tenant = Some("acme".into());
                q.from_seq = Some(5)
            }),
            vec![("acme", 5), ("acme", 6)],
        ),
        (
            q(&|q| q.after = Some(("acme".into(), 5))),
            vec![("acme", 6), ("beta", 1), ("beta", 2), ("beta", 3)],
        ),
        (
            q(&|q| q.tenants = Some(vec!["beta".into()])),
            vec![("beta", 1), ("beta", 2), ("beta", 3)],
        ),
        (q(&|q| q.tenants = Some(vec![])), vec![]),
        (q(&|q| q.limit = 2), vec![("acme", 1), ("acme", 2)]),
    ] {
        let want: Vec<(String, u64)> = want.into_iter().map(|(t, s)| (t.to_string(), s)).collect();
        let got = seqs(store.query_entries(&filter).await.unwrap());
        assert_eq!(got, want, "{filter:?}");
        let mut uncapped = filter.clone();
        uncapped.after = None;
        let count = store.count_entries(&uncapped).await.unwrap();
        if filter.limit == 1000 && filter.after.is_none() {
            assert_eq!(count, want.len() as u64, "count {filter:?}");
        }
    }
    // Newest entry recorded before a time.
    let before = store
        .last_entry_before("acme", T0 + 3_500_000)
        .await
        .unwrap();
    assert_eq!(before.map(|e| e.seq), Some(4));
    assert_eq!(store.last_entry_before("acme", T0).await.unwrap(), None);
    assert_eq!(
        store
            .last_entry_before("beta", i64::MAX)
            .await
            .unwrap()
            .map(|e| e.seq),
        Some(3)
    );
}

pub async fn chain_rejects_forks_gaps_and_duplicates_atomically(store: &dyn Store) {
    let mut acme = Chain::new("acme");
    let first: Vec<Entry> = (0..3)
        .map(|i| acme.decision("a", "echo", "allow", i))
        .collect();
    store.commit(plain(&first)).await.unwrap();

    // A second entry extending the same predecessor (a fork): UNIQUE(tenant, prev_hash).
    let mut fork = Chain {
        tenant: "acme".into(),
        head: (2, first[1].hash.clone()),
    };
    let mut forked = fork.draft("decision", 9);
    forked.reason = Some("fork".into());
    let mut forked = fork.seal(forked);
    forked.seq = 4; // even under a fresh seq
    forked.hash = forked.compute_hash();
    let err = store.commit(plain(&[forked])).await;
    assert!(matches!(err, Err(StoreError::Conflict(_))), "{err:?}");

    // A duplicate seq: UNIQUE(tenant, seq).
    let mut dup = Chain {
        tenant: "acme".into(),
        head: (2, first[1].hash.clone()),
    };
    let d = dup.decision("a", "echo", "allow", 9);
    assert!(matches!(
        store.commit(plain(&[d])).await,
        Err(StoreError::Conflict(_))
    ));

    // An entry that does not extend the stored chain (a gap, or an unknown predecessor).
    let mut gap = Chain {
        tenant: "acme".into(),
        head: (4, first[2].hash.clone()),
    };
    let g = gap.decision("a", "echo", "allow", 9);
    assert!(store.commit(plain(&[g])).await.is_err());
    let mut stranger = Chain {
        tenant: "acme".into(),
        head: (3, new_id() + &new_id()),
    };
    let s = stranger.decision("a", "echo", "allow", 9);
    assert!(store.commit(plain(&[s])).await.is_err());
    // A first entry must start from the genesis hash.
    let mut bad_start = Chain {
        tenant: "fresh".into(),
        head: (0, new_id() + &new_id()),
    };
    let bs = bad_start.decision("a", "echo", "allow", 9);
    assert!(store.commit(plain(&[bs])).await.is_err());

    // A batch with one bad entry writes nothing at all, in any tenant or table.
    let mut other = Chain::new("other");
    let good_other = other.decision("z", "echo", "allow", 1);
    let good_next = acme.decision("a", "echo", "allow", 4);
    let mut batch = plain(&[good_other, good_next.clone(), first[0].clone()]);
    batch.charges.push(BudgetCharge {
        tenant: "acme".into(),
        root_jti: "r".into(),
        jti: "r".into(),
    });
    assert!(store.commit(batch).await.is_err());
    assert_eq!(store.chain_range("acme", 1, 100, 100).await.unwrap(), first);
    assert!(store
        .chain_range("other", 1, 100, 100)
        .await
        .unwrap()
        .is_empty());
    assert!(store.budget_usage().await.unwrap().is_empty());
    // And the chain goes on from where it was.
    store.commit(plain(&[good_next])).await.unwrap();
    assert_eq!(
        store
            .chain_heads()
            .await
            .unwrap()
            .iter()
            .find(|h| h.tenant == "acme")
            .map(|h| h.seq),
        Some(4)
    );
}

pub async fn entries_round_trip_every_field_exactly(store: &dyn Store) {
    let mut c = Chain::new("acme");
    // Every field set, some hex-valued fields in forms igd never writes (upper case, odd
    // length, not hex, empty): whatever is stored must read back byte for byte, or its hash
    // would no longer verify.
    let mut full = c.draft("approval", 1);
    full.ref_event_id = Some(new_id());
    full.subject = Some("ünïcode \"quoted\" \\ subject".into());
    full.delegated_subject = Some("helper".into());
    full.jti = Some("ABCDEF0123456789ABCDEF0123456789".into());
    full.root_jti = Some("abc".into());
    full.jti_chain = Some(vec![new_id(), "not-hex".into(), String::new()]);
    full.method = Some("tools/call".into());
    full.tool = Some("send_email".into());
    full.decision = Some("escalate".into());
    full.check = Some("approval".into());
    full.reason = Some("line\nbreak".into());
    full.policy_revision = Some("sha256:short".into());
    full.requires_step_up = Some(true);
    full.approval_id = Some(new_id());
    full.decided_by = Some("ops@example".into());
    full.elevation_id = Some("".into());
    full.actor = Some("root".into());
    full.action = Some("approve".into());
    full.target = Some("acme/x".into());
    full.upstream_status = Some(-1);
    full.upstream_latency_ms = Some(i64::MAX);
    full.args_commitment = Some("00".into());
    full.cut_seq = Some(u64::try_from(i64::MAX).unwrap_or(0));
    full.cut_hash = Some(GENESIS_HASH.into());
    let full = c.seal(full);
    // Hex-valued fields in igd's own form, an empty chain, a step-up false.
    let mut normal = c.draft("decision", 2);
    normal.jti_chain = Some(vec![]);
    normal.requires_step_up = Some(false);
    normal.policy_revision = Some(format!("sha256:{}{}", new_id(), new_id()));
    let normal = c.seal(normal);
    let mut two = c.draft("decision", 3);
    two.jti_chain = Some(vec![new_id(), new_id()]);
    two.instance = "instance-name".into();
    let two = c.seal(two);
    let bare = c.seal(c.draft("marker", 4));
    let written = vec![full, normal, two, bare];
    store.commit(plain(&written)).await.unwrap();
    let read = store.chain_range("acme", 1, 10, 10).await.unwrap();
    assert_eq!(read, written);
    verify(&read, "acme");
    let listed = store.query_entries(&query("acme")).await.unwrap();
    assert_eq!(listed, written);
}

pub async fn side_records_are_kept_beside_and_erasable(store: &dyn Store) {
    let mut c = Chain::new("acme");
    let early = c.decision("alice", "echo", "allow", 1);
    let other = c.decision("bob", "echo", "allow", 2);
    let late = c.decision("alice", "echo", "allow", 10);
    let bare = c.decision("alice", "echo", "allow", 11);
    let side = |n: u8| SideRecord {
        salt: Some(format!("{:032x}", n)),
        args: Some(format!(r#"{{"n":{n}}}"#)),
        policy_context: Some(format!(r#"{{"c":[{n},0,0]}}"#)),
    };
    let mut batch = plain(&[early.clone(), other.clone(), late.clone(), bare.clone()]);
    for (i, a) in batch.entries.iter_mut().take(3).enumerate() {
        a.side = Some(side(u8::try_from(i).unwrap_or(0)));
    }
    store.commit(batch).await.unwrap();
    let key = |e: &Entry| (e.tenant.clone(), e.seq);
    let mut got = store
        .side_records(&[
            key(&early),
            key(&other),
            key(&late),
            key(&bare),
            ("acme".into(), 99),
        ])
        .await
        .unwrap();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        got,
        vec![
            (key(&early), side(0)),
            (key(&other), side(1)),
            (key(&late), side(2))
        ]
    );
    // Side data is not part of the entry and never changes it.
    assert_eq!(
        store.chain_range("acme", 1, 4, 10).await.unwrap(),
        vec![early.clone(), other.clone(), late.clone(), bare]
    );
    // GDPR erasure: alice's values, salts and policy context (her address, the intent read
    // from her arguments) before t=5; the chain intact.
    assert_eq!(
        store
            .erase_side("acme", "alice", T0 + 5_000_000)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .erase_side("acme", "alice", T0 + 5_000_000)
            .await
            .unwrap(),
        0
    );
    let mut got = store
        .side_records(&[key(&early), key(&other), key(&late)])
        .await
        .unwrap();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    // Nothing is left beside alice's early entry, so it has no side record at all.
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0], (key(&other), side(1)));
    assert_eq!(got[1], (key(&late), side(2)));
    verify(&store.chain_range("acme", 1, 4, 10).await.unwrap(), "acme");
}

pub async fn outcomes_are_found_from_their_decision(store: &dyn Store) {
    let mut acme = Chain::new("acme");
    let mut beta = Chain::new("beta");
    let d1 = acme.decision("a", "echo", "allow", 1);
    let d2 = acme.decision("a", "echo", "allow", 2);
    let b1 = beta.decision("b", "echo", "allow", 2);
    let outcome = |c: &mut Chain, d: &Entry| {
        let mut o = c.draft("outcome", 3);
        o.ref_event_id = Some(d.event_id.clone());
        o.upstream_status = Some(200);
        AppendEntry {
            entry: c.seal(o),
            ref_seq: Some(d.seq),
            side: None,
        }
    };
    store
        .commit(plain(&[d1.clone(), d2.clone(), b1.clone()]))
        .await
        .unwrap();
    let o2 = outcome(&mut acme, &d2);
    let o1 = outcome(&mut acme, &d1);
    let ob = outcome(&mut beta, &b1);
    store
        .commit(CommitBatch {
            entries: vec![o2.clone(), o1.clone(), ob.clone()],
            ..CommitBatch::default()
        })
        .await
        .unwrap();
    let got = store
        .entries_referring(&[("acme".into(), d1.seq), ("beta".into(), b1.seq)])
        .await
        .unwrap();
    assert_eq!(got, vec![o1.entry.clone(), ob.entry.clone()]);
    assert!(store.entries_referring(&[]).await.unwrap().is_empty());
    // (tenant, seq) keys never cross tenants.
    assert!(store
        .entries_referring(&[("beta".into(), d2.seq)])
        .await
        .unwrap()
        .is_empty());
}

pub async fn budgets_and_call_counts_accumulate(store: &dyn Store) {
    let mut c = Chain::new("acme");
    let charge = |jti: &str| BudgetCharge {
        tenant: "acme".into(),
        root_jti: "root".into(),
        jti: jti.into(),
    };
    let count = |tool: &str, hour: i64| CallCount {
        tenant: "acme".into(),
        subject: "alice".into(),
        tool: tool.into(),
        hour,
    };
    for (i, tool) in ["echo", "echo", "send"].iter().enumerate() {
        let mut batch = plain(&[c.decision("alice", tool, "allow", i as i64)]);
        batch.charges = vec![charge("root"), charge("child")];
        batch.calls = vec![count(tool, 100 + i as i64 / 2)];
        store.commit(batch).await.unwrap();
    }
    let mut usage = store.budget_usage().await.unwrap();
    usage.sort_by(|a, b| a.0.jti.cmp(&b.0.jti));
    assert_eq!(usage, vec![(charge("child"), 3), (charge("root"), 3)]);
    let mut counts = store.call_counts(0).await.unwrap();
    counts.sort_by(|a, b| (a.0.hour, &a.0.tool).cmp(&(b.0.hour, &b.0.tool)));
    assert_eq!(
        counts,
        vec![(count("echo", 100), 2), (count("send", 101), 1)]
    );
    assert_eq!(
        store.call_counts(101).await.unwrap(),
        vec![(count("send", 101), 1)]
    );
    // One group commit carrying several calls on the same keys counts each of them.
    let mut batch = plain(&[
        c.decision("alice", "echo", "allow", 3),
        c.decision("alice", "echo", "allow", 4),
    ]);
    batch.charges = vec![
        charge("root"),
        charge("child"),
        charge("root"),
        charge("leaf"),
        charge("leaf"),
    ];
    batch.calls = vec![
        count("echo", 100),
        count("echo", 100),
        count("send", 101),
        count("read", 102),
        count("read", 102),
    ];
    store.commit(batch).await.unwrap();
    let mut usage = store.budget_usage().await.unwrap();
    usage.sort_by(|a, b| a.0.jti.cmp(&b.0.jti));
    assert_eq!(
        usage,
        vec![
            (charge("child"), 4),
            (charge("leaf"), 2),
            (charge("root"), 5)
        ]
    );
    let mut counts = store.call_counts(0).await.unwrap();
    counts.sort_by(|a, b| (a.0.hour, &a.0.tool).cmp(&(b.0.hour, &b.0.tool)));
    assert_eq!(
        counts,
        vec![
            (count("echo", 100), 4),
            (count("send", 101), 2),
            (count("read", 102), 2)
        ]
    );
}

pub async fn revocations(store: &dyn Store) {
    let r = |jti: &str, reason: &str, prune_after: i64| RevocationRecord {
        tenant: "acme".into(),
        jti: jti.into(),
        reason: reason.into(),
        revoked_at: T0,
        revoked_by: "ops".into(),
        prune_after,
    };
    assert_eq!(
        store.revoke(&r("j1", "leaked", 100)).await.unwrap(),
        r("j1", "leaked", 100)
    );
    // Revoking again keeps (and returns) the first record.
    assert_eq!(
        store.revoke(&r("j1", "again", 500)).await.unwrap(),
        r("j1", "leaked", 100)
    );
    store.revoke(&r("j2", "old", 300)).await.unwrap();
    let mut other = r("j1", "elsewhere", 100);
    other.tenant = "beta".into();
    store.revoke(&other).await.unwrap();
    assert_eq!(store.revocations().await.unwrap().len(), 3);
    assert_eq!(store.prune_revocations(200).await.unwrap(), 2);
    assert_eq!(
        store.revocations().await.unwrap(),
        vec![r("j2", "old", 300)]
    );
}

pub async fn stops(store: &dyn Store) {
    let s = |subject: Option<&str>, reason: &str| StopRecord {
        tenant: "acme".into(),
        subject: subject.map(String::from),
        reason: reason.into(),
        created_at: T0,
        created_by: "ops".into(),
    };
    assert_eq!(
        store.put_stop(&s(Some("bot"), "first")).await.unwrap(),
        s(Some("bot"), "first")
    );
    assert_eq!(
        store.put_stop(&s(Some("bot"), "second")).await.unwrap(),
        s(Some("bot"), "first")
    );
    assert_eq!(
        store.put_stop(&s(None, "all")).await.unwrap(),
        s(None, "all")
    );
    let mut all = store.stops().await.unwrap();
    all.sort_by(|a, b| a.subject.cmp(&b.subject));
    assert_eq!(all, vec![s(None, "all"), s(Some("bot"), "first")]);
    assert!(store.delete_stop("acme", None).await.unwrap());
    assert!(!store.delete_stop("acme", None).await.unwrap());
    assert!(!store.delete_stop("beta", Some("bot")).await.unwrap());
    assert_eq!(store.stops().await.unwrap(), vec![s(Some("bot"), "first")]);
}

pub async fn policy_drafts_and_history(store: &dyn Store) {
    let draft = |id: &str, at: i64| PolicyDraftRecord {
        id: id.into(),
        name: format!("name of {id} \u{e9}"),
        source: "package intentgate.policy\n\ndecision := {\"allow\": false}\n".into(),
        tests: vec![("p_test.rego".into(), "package t\ntest_x if true\n".into())],
        revision: format!("sha256:{id}"),
        author: "uid:0".into(),
        created_at: at,
    };
    assert!(store.policy_drafts().await.unwrap().is_empty());
    store
        .insert_policy_draft(&draft("d-2", T0 + 1))
        .await
        .unwrap();
    store.insert_policy_draft(&draft("d-1", T0)).await.unwrap();
    assert!(matches!(
        store.insert_policy_draft(&draft("d-1", T0)).await,
        Err(StoreError::Conflict(_))
    ));
    let listed = |id: &str, at: i64| PolicyDraftRecord {
        source: String::new(),
        tests: Vec::new(),
        ..draft(id, at)
    };
    assert_eq!(
        store.policy_drafts().await.unwrap(),
        vec![listed("d-1", T0), listed("d-2", T0 + 1)]
    );
    assert_eq!(
        store.policy_draft("d-2").await.unwrap(),
        Some(draft("d-2", T0 + 1))
    );
    assert_eq!(store.policy_draft("d-3").await.unwrap(), None);
    assert!(store.delete_policy_draft("d-2").await.unwrap());
    assert!(!store.delete_policy_draft("d-2").await.unwrap());

    assert_eq!(store.policy_head_seq().await.unwrap(), None);
    let row =
        |seq: i64, action: &str, revision: Option<&str>, prev: Option<i64>| PolicyHistoryRecord {
            seq,
            action: action.into(),
            draft_id: revision.map(|_| "d-1".to_string()),
            name: revision.map(|_| "n".to_string()),
            revision: revision.map(String::from),
            source: revision.map(|_| "package intentgate.policy".to_string()),
            prev_seq: prev,
            actor: "uid:0".into(),
            at: T0 + seq,
        };
    store
        .append_policy_history(&row(1, "promote", Some("sha256:a"), None))
        .await
        .unwrap();
    store
        .append_policy_history(&row(2, "clear", None, Some(1)))
        .await
        .unwrap();
    // The next place is taken once: a concurrent change gets a conflict, not a fork.
    assert!(matches!(
        store
            .append_policy_history(&row(2, "promote", Some("sha256:b"), Some(1)))
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.policy_head_seq().await.unwrap(), Some(2));
    assert_eq!(
        store.policy_history(10).await.unwrap(),
        vec![
            row(2, "clear", None, Some(1)),
            // Listed without its source.
            PolicyHistoryRecord {
                source: None,
                ..row(1, "promote", Some("sha256:a"), None)
            }
        ]
    );
    assert_eq!(store.policy_history(1).await.unwrap().len(), 1);
    assert_eq!(
        store.policy_history_row(1).await.unwrap(),
        Some(row(1, "promote", Some("sha256:a"), None))
    );
    assert_eq!(store.policy_history_row(7).await.unwrap(), None);
}

pub async fn sessions(store: &dyn Store) {
    let now = igd::clock::now_us();
    let (h1_until, h2_until) = (now + 60_000_000, now + 120_000_000);
    store.delete_session("h1", h1_until).await.unwrap();
    store.delete_session("h1", h1_until).await.unwrap();
    store.delete_session("h2", h2_until).await.unwrap();
    let mut live = store.deleted_sessions(now).await.unwrap();
    live.sort();
    assert_eq!(
        live,
        vec![("h1".to_string(), h1_until), ("h2".to_string(), h2_until)]
    );
    assert_eq!(
        store.deleted_sessions(now + 90_000_000).await.unwrap(),
        vec![("h2".to_string(), h2_until)]
    );
    // Activity: batches upsert, and a later time always wins.
    store
        .touch_sessions(&[("a1".into(), now), ("a2".into(), now - 10_000_000)])
        .await
        .unwrap();
    store
        .touch_sessions(&[("a1".into(), now - 5_000_000)])
        .await
        .unwrap();
    let record = |last_active, deleted_until| SessionRecord {
        last_active,
        deleted_until,
    };
    assert_eq!(
        store.session_record("a1").await.unwrap(),
        record(Some(now), None)
    );
    assert_eq!(
        store.session_record("h1").await.unwrap(),
        record(None, Some(h1_until))
    );
    assert_eq!(
        store.session_record("zz").await.unwrap(),
        record(None, None)
    );
    // Pruning forgets expired deletions and idle activity, nothing else.
    assert_eq!(
        store
            .prune_sessions(now + 90_000_000, now - 1_000_000)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store.deleted_sessions(0).await.unwrap(),
        vec![("h2".to_string(), h2_until)]
    );
    assert_eq!(
        store.session_record("a1").await.unwrap(),
        record(Some(now), None)
    );
    assert_eq!(
        store.session_record("a2").await.unwrap(),
        record(None, None)
    );
}

pub async fn checkpoints(store: &dyn Store) {
    let cp = |tenant: &str, size: u64, at: i64| CheckpointRecord {
        tenant: tenant.into(),
        size,
        hash: format!("{size:064x}"),
        note: format!("note {tenant} {size}"),
        created_at: T0 + at,
    };
    store.insert_checkpoint(&cp("acme", 10, 1)).await.unwrap();
    store.insert_checkpoint(&cp("acme", 20, 2)).await.unwrap();
    store.insert_checkpoint(&cp("beta", 5, 3)).await.unwrap();
    // One per (tenant, size): the same note again changes nothing, and a different one (a
    // row planted at that size, or a lost timeline's) is replaced by the one just signed.
    store.insert_checkpoint(&cp("acme", 10, 1)).await.unwrap();
    let mut again = cp("acme", 10, 9);
    again.note = "other".into();
    store.insert_checkpoint(&again).await.unwrap();
    assert_eq!(
        store.checkpoints(Some("acme"), 10).await.unwrap(),
        vec![cp("acme", 20, 2), again.clone()]
    );
    store.insert_checkpoint(&cp("acme", 10, 1)).await.unwrap();
    assert_eq!(
        store.checkpoints(Some("acme"), 1).await.unwrap(),
        vec![cp("acme", 20, 2)]
    );
    assert_eq!(
        store.checkpoints(None, 10).await.unwrap(),
        vec![cp("beta", 5, 3), cp("acme", 20, 2), cp("acme", 10, 1)]
    );
}

/// What the signer reads back before anchoring a range: every entry not plainly of an ordinary
/// kind (markers, key announcements, anything odd), within the range, in seq order, bounded.
pub async fn unusual_entries_are_found_by_kind_and_bounded(store: &dyn Store) {
    let mut c = Chain::new("acme");
    let mut entries = vec![c.decision("alice", "echo", "allow", 0)];
    for (kind, at) in [
        ("marker", 1),
        ("outcome", 2),
        ("checkpoint-key", 3),
        ("Marker", 4),
    ] {
        let e = c.draft(kind, at);
        entries.push(c.seal(e));
    }
    entries.push(c.decision("alice", "echo", "allow", 5));
    store.commit(plain(&entries)).await.unwrap();
    assert_eq!(
        store.unusual_entries("acme", 1, 6, 100).await.unwrap(),
        vec![2, 4, 5]
    );
    assert_eq!(
        store.unusual_entries("acme", 3, 4, 100).await.unwrap(),
        vec![4]
    );
    assert_eq!(
        store.unusual_entries("acme", 1, 6, 2).await.unwrap(),
        vec![2, 4]
    );
    assert!(store
        .unusual_entries("beta", 1, 6, 100)
        .await
        .unwrap()
        .is_empty());
}

pub async fn retention_cuts_a_chain_that_keeps_growing(store: &dyn Store) {
    let mut c = Chain::new("acme");
    let mut keep = Chain::new("beta");
    let entries: Vec<Entry> = (0..10)
        .map(|i| c.decision("a", "echo", "allow", i))
        .collect();
    let beta: Vec<Entry> = (0..3)
        .map(|i| keep.decision("b", "echo", "allow", i))
        .collect();
    let mut batch = plain(&entries);
    for a in &mut batch.entries {
        a.side = Some(SideRecord {
            salt: None,
            args: Some("{}".into()),
            policy_context: None,
        });
    }
    store.commit(batch).await.unwrap();
    store.commit(plain(&beta)).await.unwrap();
    assert_eq!(store.delete_through("acme", 4).await.unwrap(), 4);
    assert_eq!(store.delete_through("acme", 4).await.unwrap(), 0);
    let kept = store.chain_range("acme", 1, 100, 100).await.unwrap();
    assert_eq!(kept, entries[4..].to_vec());
    // What was kept beside the cut entries went with them.
    let cut_keys: Vec<(String, u64)> = (1..=4).map(|s| ("acme".to_string(), s)).collect();
    assert!(store.side_records(&cut_keys).await.unwrap().is_empty());
    assert_eq!(
        store
            .side_records(&[("acme".into(), 5)])
            .await
            .unwrap()
            .len(),
        1
    );
    // Other tenants are untouched; the cut chain keeps growing from its head.
    assert_eq!(store.chain_range("beta", 1, 100, 100).await.unwrap(), beta);
    let next = c.decision("a", "echo", "allow", 20);
    store
        .commit(plain(std::slice::from_ref(&next)))
        .await
        .unwrap();
    let heads = store.chain_heads().await.unwrap();
    assert!(heads.contains(&ChainHead {
        tenant: "acme".into(),
        seq: 11,
        hash: next.hash.clone()
    }));
    assert_eq!(store.count_entries(&query("acme")).await.unwrap(), 7);
}

pub async fn tokens_and_meta(store: &dyn Store) {
    assert_eq!(store.meta("deployment_id").await.unwrap(), None);
    assert_eq!(
        store.init_meta("deployment_id", "one").await.unwrap(),
        "one"
    );
    assert_eq!(
        store.init_meta("deployment_id", "two").await.unwrap(),
        "one"
    );
    assert_eq!(
        store.meta("deployment_id").await.unwrap(),
        Some("one".into())
    );
    let t = |jti: &str, at: i64| TokenRecord {
        jti: jti.into(),
        tenant: "acme".into(),
        subject: "bot".into(),
        tools: vec!["echo".into(), "send".into()],
        max_calls: 10,
        issued_at: T0 + at,
        expires_at: T0 + 1000,
        minted_by: "ops".into(),
    };
    store.insert_token(&t("b", 2)).await.unwrap();
    store.insert_token(&t("a", 1)).await.unwrap();
    assert!(matches!(
        store.insert_token(&t("a", 5)).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.token("a").await.unwrap(), Some(t("a", 1)));
    assert_eq!(store.token("zz").await.unwrap(), None);
    assert_eq!(store.tokens().await.unwrap(), vec![t("a", 1), t("b", 2)]);
    // Prefixed listing and deletion (the signer's shared records live under a prefix).
    store.init_meta("own\u{1f}acme\u{1f}1", "a").await.unwrap();
    store.init_meta("own\u{1f}acme\u{1f}2", "b").await.unwrap();
    store.init_meta("own\u{1f}acmex\u{1f}1", "c").await.unwrap();
    store.init_meta("own%\u{1f}acme", "d").await.unwrap();
    let listed = store.meta_prefixed("own\u{1f}acme\u{1f}").await.unwrap();
    assert_eq!(
        listed,
        vec![
            ("own\u{1f}acme\u{1f}1".to_string(), "a".to_string()),
            ("own\u{1f}acme\u{1f}2".to_string(), "b".to_string())
        ]
    );
    store.delete_meta("own\u{1f}acme\u{1f}1").await.unwrap();
    store.delete_meta("never-there").await.unwrap();
    assert_eq!(
        store
            .meta_prefixed("own\u{1f}acme\u{1f}")
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(store.meta_prefixed("own%").await.unwrap().len(), 1);
}

pub async fn agents_summarize_decisions(store: &dyn Store) {
    let mut c = Chain::new("acme");
    let mut entries = vec![
        c.decision("alice", "echo", "allow", 1),
        c.decision("alice", "echo", "block", 5),
        c.decision("bob", "echo", "allow", 3),
    ];
    let mut o = c.draft("outcome", 6);
    o.subject = Some("alice".into());
    entries.push(c.seal(o));
    store.commit(plain(&entries)).await.unwrap();
    let agents = store.agents().await.unwrap();
    assert_eq!(
        agents,
        vec![
            AgentActivity {
                tenant: "acme".into(),
                subject: "alice".into(),
                first_seen: T0 + 1_000_000,
                last_seen: T0 + 5_000_000,
                decisions: 2,
                allowed: 1,
                refused: 1,
            },
            AgentActivity {
                tenant: "acme".into(),
                subject: "bob".into(),
                first_seen: T0 + 3_000_000,
                last_seen: T0 + 3_000_000,
                decisions: 1,
                allowed: 1,
                refused: 0,
            },
        ]
    );
}

/// Text an agent controls (tool names, subjects, reasons) may hold NUL and other odd
/// characters: it is stored and read back exactly, found by filters, and never fails the
/// commit it rides (which would refuse every other call in the group).
pub async fn hostile_text_round_trips(store: &dyn Store) {
    let mut c = Chain::new("acme");
    let mut e = c.draft("decision", 1);
    e.subject = Some("agent\0one".into());
    e.tool = Some("to\0ol\u{202e}\u{1F600}".into());
    e.decision = Some("block".into());
    e.reason = Some("\0".into());
    let e = c.seal(e);
    let mut batch = plain(std::slice::from_ref(&e));
    batch.entries[0].side = Some(SideRecord {
        salt: None,
        args: Some("{\"a\":\"\\u0000\"}".into()),
        policy_context: Some("{}".into()),
    });
    batch.calls.push(CallCount {
        tenant: "acme".into(),
        subject: "agent\0one".into(),
        tool: "to\0ol".into(),
        hour: 1,
    });
    store.commit(batch).await.unwrap();
    assert_eq!(
        store.chain_range("acme", 1, 1, 10).await.unwrap(),
        vec![e.clone()]
    );
    let found = store
        .query_entries(&AuditQuery {
            tool: e.tool.clone(),
            ..query("acme")
        })
        .await
        .unwrap();
    assert_eq!(found, vec![e.clone()]);
    let side = store
        .side_records(&[("acme".to_string(), 1)])
        .await
        .unwrap();
    assert_eq!(side[0].1.args.as_deref(), Some("{\"a\":\"\\u0000\"}"));
    assert_eq!(store.call_counts(0).await.unwrap().len(), 1);
}

/// With `reseal`, entries sealed onto a head that moved on (another replica appended) are
/// sealed again onto the stored head inside the transaction; what `commit` returns is what was
/// stored, and the chain stays gapless and verifiable. Without it they are refused.
pub async fn reseal_appends_onto_the_stored_head(store: &dyn Store) {
    // Two writers that both believe the chain is empty.
    let mut a = Chain::new("acme");
    let mut b = Chain::new("acme");
    let first: Vec<Entry> = (0..3)
        .map(|i| a.decision("a", "echo", "allow", i))
        .collect();
    let stale: Vec<Entry> = (0..2)
        .map(|i| b.decision("b", "echo", "allow", i))
        .collect();
    let committed = store.commit(plain(&first)).await.unwrap();
    assert_eq!(committed, first);
    assert!(matches!(
        store.commit(plain(&stale)).await,
        Err(StoreError::Conflict(_))
    ));
    let mut batch = plain(&stale);
    batch.reseal = true;
    let resealed = store.commit(batch).await.unwrap();
    assert_eq!(
        resealed.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![4, 5]
    );
    assert_eq!(resealed[0].prev_hash, first[2].hash);
    assert_eq!(resealed[0].event_id, stale[0].event_id);
    let all = store.chain_range("acme", 1, 100, 100).await.unwrap();
    assert_eq!(all.len(), 5);
    assert_eq!(&all[3..], &resealed[..]);
    verify(&all, "acme");
    // Entries that already extend the stored head are left exactly as sealed.
    let mut next = Chain {
        tenant: "acme".into(),
        head: (5, resealed[1].hash.clone()),
    };
    let on_head = next.decision("a", "echo", "allow", 9);
    let mut batch = plain(std::slice::from_ref(&on_head));
    batch.reseal = true;
    assert_eq!(store.commit(batch).await.unwrap(), vec![on_head]);
}

/// Budget grants: blocks shrink as the ceiling nears, the last units go one at a time, the
/// total never passes the ceiling (also with many takers at once), windows are separate.
pub async fn grants_never_pass_the_ceiling(store: &dyn Store) {
    assert_eq!(store.grant("jti/acme/r/r", 0, 100, 16).await.unwrap(), 16);
    let mut total = 16;
    loop {
        let n = store.grant("jti/acme/r/r", 0, 100, 16).await.unwrap();
        if n == 0 {
            break;
        }
        assert!(
            n <= 16 && n <= (100 - total) / 4 + 1,
            "granted {n} with {total} out"
        );
        total += n;
    }
    assert_eq!(total, 100);
    assert_eq!(store.grant("jti/acme/r/r", 0, 100, 16).await.unwrap(), 0);
    // Another window of the same key starts from nothing.
    assert_eq!(store.grant("jti/acme/r/r", 1, 3, 16).await.unwrap(), 1);
    // Many takers at once: exactly the ceiling in all.
    let takes = (0..20).map(|_| async {
        let mut mine = 0;
        loop {
            match store.grant("h/acme/agent", 7, 50, 4).await.unwrap() {
                0 => return mine,
                n => mine += n,
            }
        }
    });
    let all: u64 = join_all(takes.collect()).await.into_iter().sum();
    assert_eq!(all, 50);
    // Units given back can be granted again, never more than the ceiling.
    store.give_back("h/acme/agent", 7, 3).await.unwrap();
    assert_eq!(store.grant("h/acme/agent", 7, 50, 16).await.unwrap(), 1);
    assert_eq!(store.grant("h/acme/agent", 7, 50, 16).await.unwrap(), 1);
    assert_eq!(store.grant("h/acme/agent", 7, 50, 16).await.unwrap(), 1);
    assert_eq!(store.grant("h/acme/agent", 7, 50, 16).await.unwrap(), 0);
}

fn approval_row(id: &str, tenant: &str, args_hash: &str, at: i64, ttl: i64) -> ApprovalRecord {
    ApprovalRecord {
        id: id.into(),
        tenant: tenant.into(),
        subject: "agent-7".into(),
        delegated_subject: Some("helper \u{e9}".into()),
        root_jti: "00112233445566778899aabbccddeeff".into(),
        leaf_jti: "ffeeddccbbaa99887766554433221100".into(),
        tool: "send_email".into(),
        args_hash: args_hash.into(),
        args: Some(r#"{"to":"ceo@example.com","body":"x"}"#.into()),
        intent: Some(r#"{"label":"exfiltration","score":0.9}"#.into()),
        reason: "policy asks a human".into(),
        requires_step_up: true,
        decision_event: new_id(),
        decision_seq: 42,
        created_at: T0 + at * 1_000_000,
        expires_at: T0 + (at + ttl) * 1_000_000,
        status: "pending".into(),
        decided_by: None,
        decided_at: None,
        note: None,
    }
}

fn ids(rows: &[ApprovalRecord]) -> Vec<&str> {
    rows.iter().map(|r| r.id.as_str()).collect()
}

/// Approvals: one live row per binding (re-attach returns it), decisions are compare-and-set
/// (one winner among many), expiry moves each row once, listings filter and order.
pub async fn approvals_bind_once_and_decide_once(store: &dyn Store) {
    let s = |secs: i64| T0 + secs * 1_000_000;
    let a = approval_row("apr_a", "acme", "sha256:b1", 0, 60);
    assert_eq!(
        store.insert_approval(&a, s(0)).await.unwrap(),
        (a.clone(), true)
    );
    assert_eq!(store.approval("apr_a").await.unwrap(), Some(a.clone()));
    assert_eq!(store.approval("apr_zz").await.unwrap(), None);
    // The same binding again while it is pending: the existing row, nothing inserted.
    let a2 = approval_row("apr_a2", "acme", "sha256:b1", 1, 60);
    assert_eq!(
        store.insert_approval(&a2, s(1)).await.unwrap(),
        (a.clone(), false)
    );
    assert_eq!(store.approval("apr_a2").await.unwrap(), None);
    let c = approval_row("apr_c", "acme", "sha256:b2", 2, 8);
    assert!(store.insert_approval(&c, s(2)).await.unwrap().1);
    let o = approval_row("apr_o", "other", "sha256:b1", 3, 57);
    assert!(store.insert_approval(&o, s(3)).await.unwrap().1);

    // Decide once; `args` is replaced as given.
    let rejected = store
        .transition_approval(
            "apr_a",
            "pending",
            "rejected",
            Some("alice"),
            Some(s(4)),
            Some("no"),
            None,
        )
        .await
        .unwrap();
    let want = ApprovalRecord {
        status: "rejected".into(),
        decided_by: Some("alice".into()),
        decided_at: Some(s(4)),
        note: Some("no".into()),
        args: None,
        ..a.clone()
    };
    assert_eq!(rejected, Some(want.clone()));
    assert_eq!(store.approval("apr_a").await.unwrap(), Some(want));
    for (from, to) in [("pending", "rejected"), ("pending", "approved")] {
        assert_eq!(
            store
                .transition_approval("apr_a", from, to, Some("bob"), Some(s(5)), None, None)
                .await
                .unwrap(),
            None
        );
    }
    assert_eq!(
        store
            .transition_approval("apr_zz", "pending", "approved", None, None, None, None)
            .await
            .unwrap(),
        None
    );

    // After a rejection the binding takes a new row.
    let d = approval_row("apr_d", "acme", "sha256:b1", 5, 60);
    assert_eq!(
        store.insert_approval(&d, s(5)).await.unwrap(),
        (d.clone(), true)
    );
    // Many deciders at once: exactly one wins.
    let deciders: Vec<String> = (0..20).map(|i| format!("op-{i}")).collect();
    let tries = deciders.iter().map(|who| {
        store.transition_approval(
            "apr_d",
            "pending",
            "approved",
            Some(who),
            Some(s(7)),
            None,
            Some(r#"{"kept":true}"#),
        )
    });
    let won: Vec<ApprovalRecord> = join_all(tries.collect())
        .await
        .into_iter()
        .filter_map(Result::unwrap)
        .collect();
    assert_eq!(won.len(), 1, "{won:?}");
    let d_approved = won[0].clone();
    assert_eq!(d_approved.status, "approved");
    assert_eq!(d_approved.args.as_deref(), Some(r#"{"kept":true}"#));
    assert_eq!(
        store.approval("apr_d").await.unwrap(),
        Some(d_approved.clone())
    );
    // An approved row is live too: the same call re-attaches to it.
    let d2 = approval_row("apr_d2", "acme", "sha256:b1", 6, 60);
    assert_eq!(
        store.insert_approval(&d2, s(6)).await.unwrap(),
        (d_approved.clone(), false)
    );

    // A live row past its expiry that no sweep moved yet does not block a new one.
    let g = approval_row("apr_g", "acme", "sha256:b4", 6, 2);
    assert!(store.insert_approval(&g, s(6)).await.unwrap().1);
    let h = approval_row("apr_h", "acme", "sha256:b4", 9, 91);
    assert_eq!(
        store.insert_approval(&h, s(9)).await.unwrap(),
        (h.clone(), true)
    );
    let g_now = store.approval("apr_g").await.unwrap().unwrap();
    assert_eq!(
        (g_now.status.as_str(), g_now.decided_at),
        ("timeout", Some(s(9)))
    );

    // Expiry: pending → timeout, approved → lapsed, each row by exactly one of two sweeps.
    let (x, y) = tokio::join!(store.expire_approvals(s(70)), store.expire_approvals(s(70)));
    let mut swept: Vec<ApprovalRecord> = x.unwrap().into_iter().chain(y.unwrap()).collect();
    swept.sort_by(|p, q| p.id.cmp(&q.id));
    assert_eq!(ids(&swept), vec!["apr_c", "apr_d", "apr_o"]);
    let by_id = |id: &str| swept.iter().find(|r| r.id == id).unwrap().clone();
    assert_eq!(
        by_id("apr_c"),
        ApprovalRecord {
            status: "timeout".into(),
            decided_at: Some(s(70)),
            ..c.clone()
        }
    );
    // A lapsed row keeps its decision.
    assert_eq!(
        by_id("apr_d"),
        ApprovalRecord {
            status: "lapsed".into(),
            ..d_approved.clone()
        }
    );
    assert_eq!(by_id("apr_o").status, "timeout");
    assert!(store.expire_approvals(s(70)).await.unwrap().is_empty());
    assert_eq!(
        store.approval("apr_h").await.unwrap().unwrap().status,
        "pending"
    );

    // Many escalations of one new call at once: one row, every caller gets it.
    let racers: Vec<ApprovalRecord> = (0..20)
        .map(|i| approval_row(&format!("apr_r{i:02}"), "race", "sha256:b5", 80, 60))
        .collect();
    let tries = racers.iter().map(|r| store.insert_approval(r, s(80)));
    let results: Vec<(ApprovalRecord, bool)> = join_all(tries.collect())
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(results.iter().filter(|(_, new)| *new).count(), 1);
    let winner = &results.iter().find(|(_, new)| *new).unwrap().0;
    assert!(results.iter().all(|(r, _)| r == winner));
    let raced = store
        .approvals(&ApprovalQuery {
            tenants: Some(vec!["race".into()]),
            ..ApprovalQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(raced, vec![winner.clone()]);

    // Listings: newest first, filtered.
    let list = |q: ApprovalQuery| async move { store.approvals(&q).await.unwrap() };
    assert_eq!(
        ids(&list(ApprovalQuery::default()).await)[1..],
        ["apr_h", "apr_g", "apr_d", "apr_o", "apr_c", "apr_a"]
    );
    assert_eq!(
        ids(&list(ApprovalQuery {
            status: Some("timeout".into()),
            ..ApprovalQuery::default()
        })
        .await),
        vec!["apr_g", "apr_o", "apr_c"]
    );
    assert_eq!(
        ids(&list(ApprovalQuery {
            tenants: Some(vec!["other".into(), "nobody".into()]),
            ..ApprovalQuery::default()
        })
        .await),
        vec!["apr_o"]
    );
    assert!(list(ApprovalQuery {
        tenants: Some(Vec::new()),
        ..ApprovalQuery::default()
    })
    .await
    .is_empty());
    // Created or decided since: h (created), g (timed out at 9 s), c and o (timed out at
    // 70 s); d was decided at 7 s and lapsing keeps that.
    assert_eq!(
        ids(&list(ApprovalQuery {
            changed_since: Some(s(8)),
            ..ApprovalQuery::default()
        })
        .await),
        vec![winner.id.as_str(), "apr_h", "apr_g", "apr_o", "apr_c"]
    );
    assert_eq!(
        ids(&list(ApprovalQuery {
            status: Some("timeout".into()),
            tenants: Some(vec!["acme".into()]),
            changed_since: Some(s(8)),
            limit: 1,
        })
        .await),
        vec!["apr_g"]
    );
    assert_eq!(
        ids(&list(ApprovalQuery {
            limit: 2,
            ..ApprovalQuery::default()
        })
        .await),
        vec![winner.id.as_str(), "apr_h"]
    );
}

fn operator(
    name: &str,
    uid: Option<u32>,
    cert: Option<&str>,
    token: Option<&str>,
) -> OperatorRecord {
    OperatorRecord {
        name: name.into(),
        role: "operator".into(),
        tenant: Some("acme".into()),
        uid,
        cert_subject: cert.map(String::from),
        token_hash: token.map(String::from),
        created_at: T0,
        created_by: "uid:0".into(),
    }
}

/// Operators: the name, uid, certificate subject and token hash are each taken once (absent
/// ones never clash).
pub async fn operators_are_unique_by_every_credential(store: &dyn Store) {
    assert!(store.operators().await.unwrap().is_empty());
    let alice = operator(
        "alice",
        Some(1000),
        Some("CN=alice,O=acme"),
        Some("sha256:aa"),
    );
    store.insert_operator(&alice).await.unwrap();
    let bob = OperatorRecord {
        role: "admin".into(),
        tenant: None,
        ..operator("bob", Some(u32::MAX), None, None)
    };
    store.insert_operator(&bob).await.unwrap();
    let carol = operator("carol", None, None, None);
    store.insert_operator(&carol).await.unwrap();
    for taken in [
        operator("alice", None, None, None),
        operator("dave", Some(1000), None, None),
        operator("dave", None, Some("CN=alice,O=acme"), None),
        operator("dave", None, None, Some("sha256:aa")),
    ] {
        assert!(
            matches!(
                store.insert_operator(&taken).await,
                Err(StoreError::Conflict(_))
            ),
            "{taken:?}"
        );
    }
    assert_eq!(
        store.operators().await.unwrap(),
        vec![alice.clone(), bob.clone(), carol.clone()]
    );
    assert!(store.delete_operator("alice").await.unwrap());
    assert!(!store.delete_operator("alice").await.unwrap());
    // Her credentials are free again.
    let dave = operator(
        "dave",
        Some(1000),
        Some("CN=alice,O=acme"),
        Some("sha256:aa"),
    );
    store.insert_operator(&dave).await.unwrap();
    assert_eq!(store.operators().await.unwrap(), vec![bob, carol, dave]);
}

/// TOTP: enroll, confirm once, each time step and recovery code used once (also with many
/// takers at once), failures by time, a new enrollment starts clean, deletion takes it all.
pub async fn totp_codes_are_used_once(store: &dyn Store) {
    let id = "uid:0";
    assert_eq!(store.totp(id).await.unwrap(), None);
    assert!(!store.confirm_totp(id, &["sha256:r1".into()]).await.unwrap());
    let rec = TotpRecord {
        identity: id.into(),
        secret_sealed: vec![0, 1, 2, 0xff, 0, 0x80],
        confirmed: false,
        recovery_hashes: Vec::new(),
        created_at: T0,
    };
    store.put_totp(&rec).await.unwrap();
    assert_eq!(store.totp(id).await.unwrap(), Some(rec.clone()));
    let codes: Vec<String> = ["sha256:r2", "sha256:r1", "sha256:r3"]
        .map(String::from)
        .to_vec();
    assert!(store.confirm_totp(id, &codes).await.unwrap());
    assert!(!store.confirm_totp(id, &["sha256:x".into()]).await.unwrap());
    let confirmed = store.totp(id).await.unwrap().unwrap();
    assert!(confirmed.confirmed);
    let mut hashes = confirmed.recovery_hashes.clone();
    hashes.sort();
    assert_eq!(hashes, vec!["sha256:r1", "sha256:r2", "sha256:r3"]);

    // One step, many takers: exactly one.
    let takes = (0..50).map(|_| store.use_totp_step(id, 58_000_000));
    let firsts = join_all(takes.collect())
        .await
        .into_iter()
        .map(Result::unwrap)
        .filter(|first| *first)
        .count();
    assert_eq!(firsts, 1);
    assert!(!store.use_totp_step(id, 58_000_000).await.unwrap());
    assert!(store.use_totp_step(id, 58_000_001).await.unwrap());
    assert!(store
        .use_totp_step("operator:bob", 58_000_000)
        .await
        .unwrap());
    // An old step already used stays used while it could matter.
    assert!(!store.use_totp_step(id, 58_000_001).await.unwrap());

    // Recovery codes: once each, only the identity's own.
    assert!(store.use_recovery_code(id, "sha256:r1").await.unwrap());
    assert!(!store.use_recovery_code(id, "sha256:r1").await.unwrap());
    assert!(!store.use_recovery_code(id, "sha256:nope").await.unwrap());
    assert!(!store
        .use_recovery_code("operator:bob", "sha256:r2")
        .await
        .unwrap());
    let spends = (0..10).map(|_| store.use_recovery_code(id, "sha256:r2"));
    let spent = join_all(spends.collect())
        .await
        .into_iter()
        .map(Result::unwrap)
        .filter(|ok| *ok)
        .count();
    assert_eq!(spent, 1);
    let mut left = store.totp(id).await.unwrap().unwrap().recovery_hashes;
    left.sort();
    assert_eq!(left, vec!["sha256:r3"]);

    // Failures, by time, per identity.
    for at in [T0, T0 + 1_000_000, T0 + 2_000_000] {
        store.record_totp_failure(id, at).await.unwrap();
    }
    store
        .record_totp_failure("operator:bob", T0 + 1_000_000)
        .await
        .unwrap();
    assert_eq!(
        store.totp_failures(id, T0 + 1_000_000).await.unwrap(),
        vec![T0 + 1_000_000, T0 + 2_000_000]
    );
    assert_eq!(
        store.totp_failures(id, T0 + 3_000_000).await.unwrap(),
        Vec::<i64>::new()
    );

    // A new enrollment replaces the old one and starts clean.
    let fresh = TotpRecord {
        secret_sealed: vec![9; 44],
        created_at: T0 + 5_000_000,
        ..rec.clone()
    };
    store.put_totp(&fresh).await.unwrap();
    assert_eq!(store.totp(id).await.unwrap(), Some(fresh.clone()));
    assert!(store.totp_failures(id, 0).await.unwrap().is_empty());
    assert!(store.use_totp_step(id, 58_000_000).await.unwrap());
    assert!(!store.use_recovery_code(id, "sha256:r3").await.unwrap());
    // Another identity's state is untouched.
    assert_eq!(
        store.totp_failures("operator:bob", 0).await.unwrap(),
        vec![T0 + 1_000_000]
    );
    assert!(!store
        .use_totp_step("operator:bob", 58_000_000)
        .await
        .unwrap());

    assert!(store.delete_totp(id).await.unwrap());
    assert!(!store.delete_totp(id).await.unwrap());
    assert_eq!(store.totp(id).await.unwrap(), None);
    assert!(store.use_totp_step(id, 58_000_000).await.unwrap());
}

/// JIT elevations: listed newest first; approval is compare-and-set, one winner.
pub async fn elevations_are_approved_once(store: &dyn Store) {
    let elevation = |id: &str, at: i64| ElevationRecord {
        id: id.into(),
        identity: "operator:bob".into(),
        reason: "incident 42".into(),
        duration_secs: 900,
        requested_at: T0 + at,
        status: "pending".into(),
        approved_by: None,
        approved_at: None,
        expires_at: None,
    };
    assert!(store.elevations().await.unwrap().is_empty());
    store
        .insert_elevation(&elevation("elv_1", 0))
        .await
        .unwrap();
    store
        .insert_elevation(&elevation("elv_2", 1))
        .await
        .unwrap();
    assert!(matches!(
        store.insert_elevation(&elevation("elv_1", 5)).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.elevations().await.unwrap(),
        vec![elevation("elv_2", 1), elevation("elv_1", 0)]
    );
    let approvers: Vec<String> = (0..20).map(|i| format!("admin-{i}")).collect();
    let tries = approvers
        .iter()
        .map(|who| store.approve_elevation("elv_1", who, T0 + 10, T0 + 10 + 900_000_000));
    let won: Vec<ElevationRecord> = join_all(tries.collect())
        .await
        .into_iter()
        .filter_map(Result::unwrap)
        .collect();
    assert_eq!(won.len(), 1, "{won:?}");
    let active = ElevationRecord {
        status: "active".into(),
        approved_by: won[0].approved_by.clone(),
        approved_at: Some(T0 + 10),
        expires_at: Some(T0 + 10 + 900_000_000),
        ..elevation("elv_1", 0)
    };
    assert_eq!(won[0], active);
    assert!(approvers.contains(active.approved_by.as_ref().unwrap()));
    assert_eq!(
        store.approve_elevation("elv_1", "x", T0, T0).await.unwrap(),
        None
    );
    assert_eq!(
        store.approve_elevation("elv_9", "x", T0, T0).await.unwrap(),
        None
    );
    assert_eq!(
        store.elevations().await.unwrap(),
        vec![elevation("elv_2", 1), active]
    );
}

/// The audit fan-out's cursors: a sink is registered once, at the heads its first registrant
/// gives (concurrent registrations: one wins whole); a cursor moves only by compare-and-set
/// (concurrent advances: one wins), a chain without a cursor being at 0; on a shared store only
/// the lease holder moves it, and a lease is exclusive until it expires (the embedded store's
/// is trivially held); a deleted sink is forgotten and other sinks are untouched.
pub async fn sink_cursors_move_by_compare_and_set(store: &dyn Store) {
    const SECOND: i64 = 1_000_000;
    let advance = |tenant: &'static str, from: u64, to: u64, holder: &'static str| {
        store.advance_sink_cursor("webhook", tenant, from, to, holder, T0)
    };
    assert_eq!(store.sink_cursors("webhook").await.unwrap(), None);
    assert_eq!(
        store
            .sink_lease("webhook", "a", T0, T0 + 10 * SECOND)
            .await
            .unwrap(),
        None
    );
    assert!(!advance("acme", 0, 1, "a").await.unwrap());

    let tries: Vec<Vec<(String, u64)>> = (0..10u64)
        .map(|i| vec![("acme".to_string(), 5 + i), ("globex".to_string(), 2 + i)])
        .collect();
    let won: Vec<bool> = join_all(
        tries
            .iter()
            .map(|heads| store.register_sink("webhook", heads, T0))
            .collect(),
    )
    .await
    .into_iter()
    .map(Result::unwrap)
    .collect();
    assert_eq!(won.iter().filter(|w| **w).count(), 1, "{won:?}");
    let winner = won.iter().position(|w| *w).unwrap();
    let (acme, globex) = (tries[winner][0].1, tries[winner][1].1);
    assert_eq!(
        store.sink_cursors("webhook").await.unwrap(),
        Some(tries[winner].clone())
    );
    assert!(!store
        .register_sink("webhook", &[("acme".into(), 99)], T0)
        .await
        .unwrap());
    assert_eq!(
        store
            .sink_lease("webhook", "a", T0, T0 + 10 * SECOND)
            .await
            .unwrap()
            .as_deref(),
        Some("a")
    );

    // Only from the stored value.
    assert!(!advance("acme", acme - 1, 40, "a").await.unwrap());
    assert!(advance("acme", acme, 40, "a").await.unwrap());
    assert!(!advance("acme", acme, 41, "a").await.unwrap());
    // A chain without a cursor (it began after the sink was registered) is at 0.
    assert!(!advance("initech", 3, 4, "a").await.unwrap());
    assert!(advance("initech", 0, 4, "a").await.unwrap());
    assert!(!advance("initech", 0, 6, "a").await.unwrap());
    // Concurrent advances from one value, on an existing cursor and on a new one: one wins.
    for (tenant, from) in [("globex", globex), ("hooli", 0)] {
        let moved: Vec<bool> = join_all(
            (0..16u64)
                .map(|i| advance(tenant, from, 100 + i, "a"))
                .collect(),
        )
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
        assert_eq!(
            moved.iter().filter(|m| **m).count(),
            1,
            "{tenant}: {moved:?}"
        );
    }
    let cursors = store.sink_cursors("webhook").await.unwrap().unwrap();
    let tenants: Vec<&str> = cursors.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(tenants, ["acme", "globex", "hooli", "initech"]);
    assert_eq!(cursors[0].1, 40);
    assert!((100..116).contains(&cursors[1].1) && (100..116).contains(&cursors[2].1));
    assert_eq!(cursors[3].1, 4);

    // Another sink is its own: registered with no chain yet, untouched by this one's moves.
    assert!(store.register_sink("notify:x", &[], T0).await.unwrap());
    assert_eq!(store.sink_cursors("notify:x").await.unwrap(), Some(vec![]));

    if store.shared() {
        // a's lease is live for 10 s of the database's clock, whatever b's clock says (even an
        // hour ahead): b is refused, and cannot move the cursor.
        let lease = |holder: &'static str, at: i64| {
            store.sink_lease("webhook", holder, at, at + 10 * SECOND)
        };
        assert_eq!(lease("b", T0 + SECOND).await.unwrap().as_deref(), Some("a"));
        assert_eq!(
            lease("b", T0 + 3600 * SECOND).await.unwrap().as_deref(),
            Some("a")
        );
        assert!(!advance("acme", 40, 41, "b").await.unwrap());
        assert!(!advance("fresh", 0, 1, "b").await.unwrap());
        assert!(advance("acme", 40, 41, "a").await.unwrap());
        // Renewed by a, then handed back (a lease of length 0): b takes it over and a's moves
        // fail.
        assert_eq!(
            lease("a", T0 + 2 * SECOND).await.unwrap().as_deref(),
            Some("a")
        );
        assert_eq!(
            lease("b", T0 + 11 * SECOND).await.unwrap().as_deref(),
            Some("a")
        );
        assert_eq!(
            store
                .sink_lease("webhook", "a", T0 + 11 * SECOND, T0 + 11 * SECOND)
                .await
                .unwrap()
                .as_deref(),
            Some("a")
        );
        assert_eq!(
            lease("b", T0 + 12 * SECOND).await.unwrap().as_deref(),
            Some("b")
        );
        assert!(!advance("acme", 41, 42, "a").await.unwrap());
        assert!(!advance("fresh", 0, 1, "a").await.unwrap());
        assert!(advance("acme", 41, 42, "b").await.unwrap());
        assert_eq!(
            lease("a", T0 + 13 * SECOND).await.unwrap().as_deref(),
            Some("b")
        );
    } else {
        assert_eq!(
            store
                .sink_lease("webhook", "b", T0, T0 + SECOND)
                .await
                .unwrap()
                .as_deref(),
            Some("b")
        );
        assert!(advance("acme", 40, 42, "b").await.unwrap());
    }

    assert!(store.delete_sink("webhook").await.unwrap());
    assert_eq!(store.sink_cursors("webhook").await.unwrap(), None);
    assert!(!store.delete_sink("webhook").await.unwrap());
    assert!(!advance("acme", 42, 43, "b").await.unwrap());
    assert!(!advance("fresh", 0, 1, "b").await.unwrap());
    assert_eq!(
        store.sink_lease("webhook", "b", T0, T0).await.unwrap(),
        None
    );
    assert_eq!(store.sink_cursors("notify:x").await.unwrap(), Some(vec![]));
    // Registered anew, it starts at the heads given then.
    assert!(store
        .register_sink("webhook", &[("acme".into(), 7)], T0)
        .await
        .unwrap());
    assert_eq!(
        store.sink_cursors("webhook").await.unwrap(),
        Some(vec![("acme".to_string(), 7)])
    );
}

fn notify_channel(id: &str, tenant: &str, name: &str) -> NotifyChannelRecord {
    NotifyChannelRecord {
        id: id.into(),
        tenant: tenant.into(),
        kind: "slack".into(),
        name: name.into(),
        events: vec!["deny".into(), "approval_timeout".into()],
        // Sealed bytes are opaque to the store: every byte value must round-trip.
        target_sealed: (0u8..=255).chain([0, 0, 255]).collect(),
        target_host: "hooks.slack.com".into(),
        created_at: T0,
        created_by: "uid:0".into(),
    }
}

/// Notification channels: stored exactly (sealed bytes included), listed by (tenant, name),
/// unique by id and by name within a tenant (the same name in another tenant is fine), and
/// deleted once.
pub async fn notify_channels_are_unique_per_tenant(store: &dyn Store) {
    assert!(store.notify_channels().await.unwrap().is_empty());
    assert_eq!(store.notify_channel("ntf_1").await.unwrap(), None);
    let b = notify_channel("ntf_1", "globex", "oncall");
    let a = NotifyChannelRecord {
        kind: "pagerduty".into(),
        events: vec!["escalate".into()],
        ..notify_channel("ntf_2", "acme", "oncall")
    };
    let c = notify_channel("ntf_3", "acme", "alerts");
    for ch in [&b, &a, &c] {
        store.insert_notify_channel(ch).await.unwrap();
    }
    for taken in [
        notify_channel("ntf_1", "initech", "other"),
        notify_channel("ntf_4", "acme", "oncall"),
    ] {
        assert!(
            matches!(
                store.insert_notify_channel(&taken).await,
                Err(StoreError::Conflict(_))
            ),
            "{taken:?}"
        );
    }
    assert_eq!(
        store.notify_channels().await.unwrap(),
        vec![c.clone(), a.clone(), b.clone()]
    );
    assert_eq!(
        store.notify_channel("ntf_2").await.unwrap(),
        Some(a.clone())
    );
    assert!(store.delete_notify_channel("ntf_2").await.unwrap());
    assert!(!store.delete_notify_channel("ntf_2").await.unwrap());
    assert_eq!(store.notify_channel("ntf_2").await.unwrap(), None);
    // Its name is free again in its tenant.
    let again = notify_channel("ntf_5", "acme", "oncall");
    store.insert_notify_channel(&again).await.unwrap();
    assert_eq!(store.notify_channels().await.unwrap(), vec![c, again, b]);
}

/// Poll futures together until all are done (join_all without a futures dependency).
async fn join_all<F: std::future::Future>(fs: Vec<F>) -> Vec<F::Output> {
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = fs.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = (0..pinned.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in pinned.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}
