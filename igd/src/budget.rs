//! Budgets (DESIGN §4.5) and the policy's call counters, held in memory and persisted with the
//! audit group commit. A call reserves its charge at every chain level and against every
//! ceiling atomically; the reservation becomes a charge when the call is forwarded, or is
//! released when it is not. Exact under concurrency on one node, and after restarts (loaded
//! from the store at start).
//!
//! With a store several replicas share (PostgreSQL), each budget dimension (a token level's
//! `max_calls`, a ceiling in its hour or day) is also leased: a replica takes units from the
//! store in blocks ([`Store::grant`](crate::store::Store::grant): at most [`LEASE_BLOCK`], and
//! at most a quarter of what is left, so the last units go out one at a time) and spends them
//! from memory; a call waits on the database only when its replica's block is used up. The
//! store never grants past a ceiling, so all replicas together never pass it. Units a replica
//! has not touched for [`GIVE_BACK_IDLE`] go back to the store, and a call the store granted
//! nothing waits once (1.2 s) for them before it is refused, so a limit is reached exactly
//! while every replica runs. Under-use is temporary: units of a replica that crashed stay
//! granted, at most [`LEASE_BLOCK`] per dimension and window per crash (a stopping replica
//! gives its units back).
//! The counters the policy sees are this replica's, merged every resync (about 0.5 s) with
//! what every replica has committed: they lag other replicas' calls by at most that interval.

use crate::config::{BudgetRule, Settings};
use crate::store::{BudgetCharge, CallCount, DynStore, StoreError};
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

const SHARDS: usize = 32;
/// Hour buckets kept per subject (today plus yesterday's tail).
const HOURS_KEPT: i64 = 48;

/// Forwarded-call counts of one (tenant, root subject).
#[derive(Debug, Default, Clone)]
struct SubjectCounts {
    /// hour → (calls, cost, per-tool calls)
    hours: BTreeMap<i64, (u64, u64, HashMap<String, u64>)>,
}

impl SubjectCounts {
    fn prune(&mut self, now_hour: i64) {
        while let Some((&h, _)) = self.hours.first_key_value() {
            if h > now_hour - HOURS_KEPT {
                break;
            }
            self.hours.remove(&h);
        }
    }

    fn snapshot(&self, tool: &str, now_hour: i64) -> Counters {
        let day_start = now_hour - now_hour.rem_euclid(24);
        let mut c = Counters::default();
        for (&h, (calls, cost, tools)) in self.hours.range(day_start..) {
            c.calls_today += calls;
            c.cost_today += cost;
            c.calls_today_for_tool += tools.get(tool).copied().unwrap_or(0);
            if h == now_hour {
                c.calls_this_hour += calls;
            }
        }
        c
    }

    fn add(&mut self, hour: i64, tool: &str, cost: u64, sign: i64) {
        let slot = self.hours.entry(hour).or_default();
        let apply = |v: &mut u64, d: u64| {
            if sign >= 0 {
                *v += d
            } else {
                *v = v.saturating_sub(d)
            }
        };
        apply(&mut slot.0, 1);
        apply(&mut slot.1, cost);
        apply(slot.2.entry(tool.to_string()).or_default(), 1);
    }
}

/// The counters a policy sees (calls forwarded, not counting the call being decided).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counters {
    pub calls_today: u64,
    pub calls_today_for_tool: u64,
    pub calls_this_hour: u64,
    pub cost_today: u64,
}

/// What the policy is told of a call's budget before deciding it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Quote {
    pub counters: Counters,
    /// Calls left at the tightest level of the token's chain.
    pub remaining: u64,
}

/// Why a call is over budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverBudget(pub String);

/// Why a reservation was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// A limit is reached.
    Over(OverBudget),
    /// The shared store could not be asked for more units (fail closed).
    Unavailable(String),
}

/// Most units of one dimension a replica takes from a shared store at once.
pub const LEASE_BLOCK: u64 = 16;

/// One budget dimension a call spends from, in a shared store.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Dim {
    key: String,
    win: i64,
    limit: u64,
    units: u64,
    /// Why a call is refused when the store grants no more.
    exhausted: String,
}

/// Units of one dimension a replica holds.
#[derive(Debug)]
struct Held {
    units: u64,
    /// Last spent, leased or given back to.
    touched: std::time::Instant,
}

impl Default for Held {
    fn default() -> Self {
        Held {
            units: 0,
            touched: std::time::Instant::now(),
        }
    }
}

/// Units leased from a shared store and not yet spent, per (key, window), and the dimensions
/// recently found exhausted.
#[derive(Debug)]
struct Leases {
    store: DynStore,
    held: Mutex<HashMap<(String, i64), Held>>,
    /// (key, window) → when the store last granted nothing even after waiting for give-backs.
    exhausted: Mutex<HashMap<(String, i64), std::time::Instant>>,
}

/// Units a replica has not touched for this long go back to the store (another replica may
/// need them to reach the limit exactly).
pub const GIVE_BACK_IDLE: std::time::Duration = std::time::Duration::from_millis(500);
/// How long a call the store granted nothing waits, once, for other replicas' idle units to
/// come back before it is refused.
const GIVE_BACK_WAIT: std::time::Duration = std::time::Duration::from_millis(1200);
/// Most lease rounds one reservation makes before it is refused as contended.
const MAX_LEASE_ROUNDS: u32 = 32;
/// A dimension found exhausted after that wait refuses at once for this long.
const EXHAUSTED_FOR: std::time::Duration = std::time::Duration::from_secs(5);

/// Why a reservation could not be made from memory.
enum Short {
    Over(OverBudget),
    /// This dimension needs more units from the store.
    Lease(usize),
}

/// A held charge: call [`Reservation::release`] if the call is not forwarded.
#[derive(Debug)]
pub struct Reservation {
    budgets: Arc<Budgets>,
    tenant: String,
    subject: String,
    root_jti: String,
    levels: Vec<String>,
    tool: String,
    hour: i64,
    cost: u64,
    /// Leased units spent (shared store only), given back to the lease on release.
    dims: Vec<Dim>,
    released: bool,
}

impl Reservation {
    /// What to persist with the decision entry so the charge survives a restart.
    pub fn persisted(&self) -> (Vec<BudgetCharge>, Vec<CallCount>) {
        let charges = self
            .levels
            .iter()
            .map(|jti| BudgetCharge {
                tenant: self.tenant.clone(),
                root_jti: self.root_jti.clone(),
                jti: jti.clone(),
            })
            .collect();
        let calls = vec![CallCount {
            tenant: self.tenant.clone(),
            subject: self.subject.clone(),
            tool: self.tool.clone(),
            hour: self.hour,
        }];
        (charges, calls)
    }

    /// Undo the charge (the call was not forwarded).
    pub fn release(mut self) {
        self.released = true;
        self.budgets.undo(&self);
    }

    /// Keep the charge (the call was forwarded).
    pub fn commit(mut self) {
        self.released = true;
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        // Dropped without a verdict (a panic or a cancelled task): fail safe by keeping the
        // charge; over-counting refuses early, under-counting would let calls through.
        if !self.released {
            tracing::debug!(tenant = %self.tenant, "budget reservation dropped; charge kept");
        }
    }
}

/// Calls charged per jti, keyed by (tenant, root_jti).
type UsageShard = Mutex<HashMap<(String, String), HashMap<String, u64>>>;
/// Forwarded-call counts keyed by (tenant, subject).
type CountShard = Mutex<HashMap<(String, String), SubjectCounts>>;

/// All in-memory budget state.
#[derive(Debug)]
pub struct Budgets {
    /// (tenant, root_jti) → jti → calls charged
    usage: Vec<UsageShard>,
    /// (tenant, subject) → counts
    counts: Vec<CountShard>,
    rules: Vec<BudgetRule>,
    tool_costs: BTreeMap<String, u64>,
    /// Set when the store is shared by replicas.
    leases: Option<Leases>,
}

fn shard_of<K: Hash>(key: &K) -> usize {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut h);
    (h.finish() as usize) % SHARDS
}

/// The current UTC hour number.
pub fn hour_of(us: i64) -> i64 {
    us.div_euclid(3_600_000_000)
}

impl Budgets {
    /// Load charges and the last two days of counts from the store.
    pub async fn load(store: &DynStore, settings: &Settings) -> Result<Arc<Budgets>, StoreError> {
        let budgets = Budgets {
            usage: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            counts: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            rules: settings.budgets.clone(),
            tool_costs: settings.tool_costs.clone(),
            leases: store.shared().then(|| Leases {
                store: store.clone(),
                held: Mutex::new(HashMap::new()),
                exhausted: Mutex::new(HashMap::new()),
            }),
        };
        for (charge, used) in store.budget_usage().await? {
            let key = (charge.tenant, charge.root_jti);
            let mut shard = lock(&budgets.usage[shard_of(&key)]);
            shard.entry(key).or_default().insert(charge.jti, used);
        }
        let now_hour = hour_of(crate::clock::now_us());
        for (c, calls) in store.call_counts(now_hour - HOURS_KEPT).await? {
            let key = (c.tenant, c.subject);
            let cost = budgets.cost_of(&c.tool);
            let mut shard = lock(&budgets.counts[shard_of(&key)]);
            let slot = shard
                .entry(key)
                .or_default()
                .hours
                .entry(c.hour)
                .or_default();
            slot.0 += calls;
            slot.1 += calls * cost;
            *slot.2.entry(c.tool).or_default() += calls;
        }
        Ok(Arc::new(budgets))
    }

    fn cost_of(&self, tool: &str) -> u64 {
        self.tool_costs.get(tool).copied().unwrap_or(1)
    }

    /// The counters of (tenant, subject) and the calls left in the chain, for the policy input.
    pub fn quote(
        &self,
        tenant: &str,
        subject: &str,
        root_jti: &str,
        levels: &[(&str, u64)],
        tool: &str,
        now_us: i64,
    ) -> Quote {
        Quote {
            counters: self.counters(tenant, subject, tool, now_us),
            remaining: self.remaining(tenant, root_jti, levels),
        }
    }

    /// Counters of (tenant, subject) for the policy input.
    fn counters(&self, tenant: &str, subject: &str, tool: &str, now_us: i64) -> Counters {
        let key = (tenant.to_string(), subject.to_string());
        let shard = lock(&self.counts[shard_of(&key)]);
        shard
            .get(&key)
            .map(|c| c.snapshot(tool, hour_of(now_us)))
            .unwrap_or_default()
    }

    /// Calls left at the tightest level of a chain.
    fn remaining(&self, tenant: &str, root_jti: &str, levels: &[(&str, u64)]) -> u64 {
        let key = (tenant.to_string(), root_jti.to_string());
        let shard = lock(&self.usage[shard_of(&key)]);
        let used = shard.get(&key);
        levels
            .iter()
            .map(|(jti, max)| {
                max.saturating_sub(used.and_then(|u| u.get(*jti)).copied().unwrap_or(0))
            })
            .min()
            .unwrap_or(0)
    }

    fn matching_rules<'a>(
        &'a self,
        tenant: &'a str,
        subject: &'a str,
    ) -> impl Iterator<Item = &'a BudgetRule> + 'a {
        self.rules
            .iter()
            .filter(move |r| r.tenant == tenant && (r.subject == "*" || r.subject == subject))
    }

    /// Check without charging (before escalating).
    pub fn check(
        &self,
        tenant: &str,
        subject: &str,
        root_jti: &str,
        levels: &[(&str, u64)],
        tool: &str,
        now_us: i64,
    ) -> Result<(), OverBudget> {
        self.check_locked(tenant, subject, root_jti, levels, tool, now_us, false, &[])
            .map_err(|short| match short {
                Short::Over(over) => over,
                Short::Lease(_) => OverBudget("budget lease needed".into()),
            })
    }

    /// Check and hold a charge at every level and ceiling, atomically. With a shared store the
    /// charge is also spent from leased units, taking more from the store when they run out.
    #[allow(clippy::too_many_arguments)]
    pub async fn reserve(
        self: &Arc<Self>,
        tenant: &str,
        subject: &str,
        root_jti: &str,
        levels: &[(&str, u64)],
        tool: &str,
        now_us: i64,
    ) -> Result<Reservation, Refused> {
        let dims = match &self.leases {
            Some(_) => self.dims(tenant, subject, root_jti, levels, tool, now_us),
            None => Vec::new(),
        };
        let mut rounds = 0;
        loop {
            match self.check_locked(tenant, subject, root_jti, levels, tool, now_us, true, &dims) {
                Ok(()) => break,
                Err(Short::Over(over)) => return Err(Refused::Over(over)),
                Err(Short::Lease(i)) => {
                    // Concurrent calls may spend what this one leased: bounded, never a loop
                    // without end.
                    rounds += 1;
                    if rounds > MAX_LEASE_ROUNDS {
                        return Err(Refused::Over(OverBudget(format!(
                            "{} (budget contended across replicas)",
                            dims[i].exhausted
                        ))));
                    }
                    // In a task of its own: a grant the store committed is always credited,
                    // even when the caller goes away meanwhile.
                    let (budgets, dim) = (self.clone(), dims[i].clone());
                    tokio::spawn(async move { budgets.lease(&dim).await })
                        .await
                        .map_err(|e| Refused::Unavailable(format!("budget lease: {e}")))??;
                }
            }
        }
        Ok(Reservation {
            budgets: self.clone(),
            tenant: tenant.to_string(),
            subject: subject.to_string(),
            root_jti: root_jti.to_string(),
            levels: levels.iter().map(|(j, _)| j.to_string()).collect(),
            tool: tool.to_string(),
            hour: hour_of(now_us),
            cost: self.cost_of(tool),
            dims,
            released: false,
        })
    }

    /// Take more units of `dim` from the shared store. None left: wait once for other replicas'
    /// idle units to come back ([`GIVE_BACK_WAIT`]), then over budget (remembered for
    /// [`EXHAUSTED_FOR`], so calls past a limit are refused at once).
    async fn lease(&self, dim: &Dim) -> Result<(), Refused> {
        let Some(leases) = &self.leases else {
            return Err(Refused::Unavailable("no shared store to lease from".into()));
        };
        let key = (dim.key.clone(), dim.win);
        let recently = lock(&leases.exhausted)
            .get(&key)
            .is_some_and(|at| at.elapsed() < EXHAUSTED_FOR);
        let mut waited = recently;
        loop {
            // Until this replica holds the units one call spends (a cost weight may need more
            // than one grant).
            let have = lock(&leases.held).get(&key).map_or(0, |h| h.units);
            if have >= dim.units {
                return Ok(());
            }
            let n = leases
                .store
                .grant(
                    &dim.key,
                    dim.win,
                    dim.limit,
                    LEASE_BLOCK.max(dim.units - have),
                )
                .await
                .map_err(|e| Refused::Unavailable(format!("budget storage unavailable: {e}")))?;
            if n > 0 {
                lock(&leases.exhausted).remove(&key);
                let mut held = lock(&leases.held);
                let h = held.entry(key.clone()).or_default();
                h.units += n;
                h.touched = std::time::Instant::now();
                continue;
            }
            if waited {
                lock(&leases.exhausted).insert(key, std::time::Instant::now());
                return Err(Refused::Over(OverBudget(dim.exhausted.clone())));
            }
            waited = true;
            tokio::time::sleep(GIVE_BACK_WAIT).await;
        }
    }

    /// Give units not touched for [`GIVE_BACK_IDLE`] back to the shared store (called by the
    /// replica resync, about twice a second), or all of them (`all`: the replica is stopping).
    pub async fn give_back_idle(&self, all: bool) {
        let Some(leases) = &self.leases else {
            return;
        };
        let idle: Vec<((String, i64), u64)> = {
            let mut held = lock(&leases.held);
            let mut out = Vec::new();
            held.retain(|k, h| {
                if !all && h.touched.elapsed() < GIVE_BACK_IDLE {
                    return true;
                }
                if h.units > 0 {
                    out.push((k.clone(), h.units));
                }
                false
            });
            out
        };
        for ((key, win), units) in idle {
            if let Err(e) = leases.store.give_back(&key, win, units).await {
                // The store may have taken them back all the same (a reply lost): dropped here,
                // never spent twice (under-use, not over-use).
                tracing::warn!(error = %e, units, "cannot give budget units back; they stay granted");
            }
        }
    }

    /// The shared dimensions a call spends from: each chain level, and the tightest matching
    /// ceiling of each kind in its window.
    fn dims(
        &self,
        tenant: &str,
        subject: &str,
        root_jti: &str,
        levels: &[(&str, u64)],
        tool: &str,
        now_us: i64,
    ) -> Vec<Dim> {
        const SEP: &str = "\u{1f}";
        let hour = hour_of(now_us);
        let day = hour.div_euclid(24);
        let mut dims: Vec<Dim> = levels
            .iter()
            .map(|(jti, max)| Dim {
                key: ["jti", tenant, root_jti, jti].join(SEP),
                win: 0,
                limit: *max,
                units: 1,
                exhausted: format!("token max_calls exhausted ({max} used at level {jti})"),
            })
            .collect();
        let tightest = |f: fn(&BudgetRule) -> Option<u64>| {
            self.matching_rules(tenant, subject).filter_map(f).min()
        };
        let ceilings: [(&str, Option<u64>, i64, u64, &str); 3] = [
            (
                "h",
                tightest(|r| r.calls_per_hour),
                hour,
                1,
                "calls_per_hour",
            ),
            ("d", tightest(|r| r.calls_per_day), day, 1, "calls_per_day"),
            (
                "c",
                tightest(|r| r.cost_per_day),
                day,
                self.cost_of(tool),
                "cost_per_day",
            ),
        ];
        for (kind, limit, win, units, name) in ceilings {
            if let Some(limit) = limit {
                dims.push(Dim {
                    key: [kind, tenant, subject].join(SEP),
                    win,
                    limit,
                    units,
                    exhausted: format!("{name} ceiling of {limit} reached for {tenant}/{subject}"),
                });
            }
        }
        dims
    }

    /// Merge what every replica has committed into the in-memory usage and counters (a
    /// shared store; each value becomes the larger of the two).
    pub async fn refresh(&self, store: &DynStore) -> Result<(), StoreError> {
        let usage = store.budget_usage().await?;
        let now_hour = hour_of(crate::clock::now_us());
        let counts = store.call_counts(now_hour - HOURS_KEPT).await?;
        for (charge, used) in usage {
            let key = (charge.tenant, charge.root_jti);
            let mut shard = lock(&self.usage[shard_of(&key)]);
            let n = shard.entry(key).or_default().entry(charge.jti).or_default();
            *n = (*n).max(used);
        }
        for (c, calls) in counts {
            let key = (c.tenant, c.subject);
            let mut shard = lock(&self.counts[shard_of(&key)]);
            let slot = shard
                .entry(key)
                .or_default()
                .hours
                .entry(c.hour)
                .or_default();
            let n = slot.2.entry(c.tool).or_default();
            *n = (*n).max(calls);
            slot.0 = slot.2.values().sum();
            slot.1 = slot.2.iter().map(|(t, n)| n * self.cost_of(t)).sum();
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn check_locked(
        &self,
        tenant: &str,
        subject: &str,
        root_jti: &str,
        levels: &[(&str, u64)],
        tool: &str,
        now_us: i64,
        charge: bool,
        dims: &[Dim],
    ) -> Result<(), Short> {
        let ukey = (tenant.to_string(), root_jti.to_string());
        let ckey = (tenant.to_string(), subject.to_string());
        // Fixed lock order (usage, then counts) so concurrent reservations cannot deadlock.
        let mut usage = lock(&self.usage[shard_of(&ukey)]);
        let mut counts = lock(&self.counts[shard_of(&ckey)]);
        let used = usage.get(&ukey);
        for (jti, max) in levels {
            let n = used.and_then(|u| u.get(*jti)).copied().unwrap_or(0);
            if n >= *max {
                return Err(Short::Over(OverBudget(format!(
                    "token max_calls exhausted ({n} of {max} used at level {jti})"
                ))));
            }
        }
        let hour = hour_of(now_us);
        let cost = self.cost_of(tool);
        let snap = counts
            .get(&ckey)
            .map(|c| c.snapshot(tool, hour))
            .unwrap_or_default();
        for rule in self.matching_rules(tenant, subject) {
            if let Some(limit) = rule.calls_per_hour {
                if snap.calls_this_hour >= limit {
                    return Err(Short::Over(OverBudget(format!(
                        "calls_per_hour ceiling of {limit} reached for {tenant}/{subject}"
                    ))));
                }
            }
            if let Some(limit) = rule.calls_per_day {
                if snap.calls_today >= limit {
                    return Err(Short::Over(OverBudget(format!(
                        "calls_per_day ceiling of {limit} reached for {tenant}/{subject}"
                    ))));
                }
            }
            if let Some(limit) = rule.cost_per_day {
                if snap.cost_today + cost > limit {
                    return Err(Short::Over(OverBudget(format!(
                        "cost_per_day ceiling of {limit} reached for {tenant}/{subject}"
                    ))));
                }
            }
        }
        if charge {
            if let Some(leases) = &self.leases {
                // Spend leased units for every dimension, or none of them.
                let mut held = lock(&leases.held);
                if let Some(i) = dims.iter().position(|d| {
                    held.get(&(d.key.clone(), d.win)).map_or(0, |h| h.units) < d.units
                }) {
                    return Err(Short::Lease(i));
                }
                let now = std::time::Instant::now();
                for d in dims {
                    if let Some(h) = held.get_mut(&(d.key.clone(), d.win)) {
                        h.units -= d.units;
                        h.touched = now;
                    }
                }
            }
            let slot = usage.entry(ukey).or_default();
            for (jti, _) in levels {
                *slot.entry((*jti).to_string()).or_default() += 1;
            }
            let c = counts.entry(ckey).or_default();
            c.prune(hour);
            c.add(hour, tool, cost, 1);
        }
        Ok(())
    }

    fn undo(&self, r: &Reservation) {
        let ukey = (r.tenant.clone(), r.root_jti.clone());
        let ckey = (r.tenant.clone(), r.subject.clone());
        let mut usage = lock(&self.usage[shard_of(&ukey)]);
        let mut counts = lock(&self.counts[shard_of(&ckey)]);
        if let Some(slot) = usage.get_mut(&ukey) {
            for jti in &r.levels {
                if let Some(n) = slot.get_mut(jti) {
                    *n = n.saturating_sub(1);
                }
            }
        }
        if let Some(c) = counts.get_mut(&ckey) {
            c.add(r.hour, &r.tool, r.cost, -1);
        }
        if let Some(leases) = &self.leases {
            let mut held = lock(&leases.held);
            for d in &r.dims {
                let h = held.entry((d.key.clone(), d.win)).or_default();
                h.units += d.units;
                h.touched = std::time::Instant::now();
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
