//! Budgets (DESIGN §4.5) and the policy's call counters, held in memory and persisted with the
//! audit group commit. A call reserves its charge at every chain level and against every
//! ceiling atomically; the reservation becomes a charge when the call is forwarded, or is
//! released when it is not. Exact under concurrency on one node, and after restarts (loaded
//! from the store at start).

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
        self.check_locked(tenant, subject, root_jti, levels, tool, now_us, false)
            .map(|_| ())
    }

    /// Check and hold a charge at every level and ceiling, atomically.
    #[allow(clippy::too_many_arguments)]
    pub fn reserve(
        self: &Arc<Self>,
        tenant: &str,
        subject: &str,
        root_jti: &str,
        levels: &[(&str, u64)],
        tool: &str,
        now_us: i64,
    ) -> Result<Reservation, OverBudget> {
        self.check_locked(tenant, subject, root_jti, levels, tool, now_us, true)?;
        Ok(Reservation {
            budgets: self.clone(),
            tenant: tenant.to_string(),
            subject: subject.to_string(),
            root_jti: root_jti.to_string(),
            levels: levels.iter().map(|(j, _)| j.to_string()).collect(),
            tool: tool.to_string(),
            hour: hour_of(now_us),
            cost: self.cost_of(tool),
            released: false,
        })
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
    ) -> Result<(), OverBudget> {
        let ukey = (tenant.to_string(), root_jti.to_string());
        let ckey = (tenant.to_string(), subject.to_string());
        // Fixed lock order (usage, then counts) so concurrent reservations cannot deadlock.
        let mut usage = lock(&self.usage[shard_of(&ukey)]);
        let mut counts = lock(&self.counts[shard_of(&ckey)]);
        let used = usage.get(&ukey);
        for (jti, max) in levels {
            let n = used.and_then(|u| u.get(*jti)).copied().unwrap_or(0);
            if n >= *max {
                return Err(OverBudget(format!(
                    "token max_calls exhausted ({n} of {max} used at level {jti})"
                )));
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
                    return Err(OverBudget(format!(
                        "calls_per_hour ceiling of {limit} reached for {tenant}/{subject}"
                    )));
                }
            }
            if let Some(limit) = rule.calls_per_day {
                if snap.calls_today >= limit {
                    return Err(OverBudget(format!(
                        "calls_per_day ceiling of {limit} reached for {tenant}/{subject}"
                    )));
                }
            }
            if let Some(limit) = rule.cost_per_day {
                if snap.cost_today + cost > limit {
                    return Err(OverBudget(format!(
                        "cost_per_day ceiling of {limit} reached for {tenant}/{subject}"
                    )));
                }
            }
        }
        if charge {
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
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
