//! Prometheus metrics (DESIGN §8): counters and histograms kept in atomics, rendered on
//! `INTENTGATE_METRICS_LISTEN` when `INTENTGATE_METRICS_ENABLED=true`.
//!
//! Every family is fixed: statics of relaxed atomics, histograms with fixed bucket arrays,
//! labels from small enums (a check, a decision, a status class, a lookup result) or from
//! configuration (a sink's name). Nothing is labelled by agent, tool, token or tenant, so the
//! number of series does not grow with traffic. Recording a value is a relaxed load of the
//! enabled flag and, when enabled, one or two relaxed atomic adds (a histogram also reads the
//! clock twice): no allocation, no lock, no lookup by name. Values that live elsewhere (pending
//! approvals, checkpoint age, readiness, sinks) are read at scrape time ([`Live`]).
//!
//! The listener is its own (default `127.0.0.1:9090`), never the agent port: plain HTTP, `GET
//! /metrics` only, one request per connection, a few connections at once, each closed after
//! [`CONNECTION_DEADLINE`]; a scrape never touches the database.

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use intentgate_proto::audit::Check;
use std::convert::Infallible;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The prefix of every family (the Go seed's namespace, kept for existing dashboards).
pub const PREFIX: &str = "intentgate_gateway_";

/// The content type of the Prometheus text format.
pub const CONTENT_TYPE_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Turn recording on (at start, when `INTENTGATE_METRICS_ENABLED=true`). Off, every recording
/// function returns after one relaxed load and the clock is never read for metrics.
pub fn enable() {
    ENABLED.store(true, Relaxed);
}

/// Whether metrics are recorded.
#[inline]
pub fn enabled() -> bool {
    ENABLED.load(Relaxed)
}

/// The start of something to time: `None` while metrics are off (no clock read).
#[inline]
pub fn start() -> Option<Instant> {
    enabled().then(Instant::now)
}

// ---------------------------------------------------------------------------------------------
// Histograms

/// Most buckets a histogram has (its bounds plus `+Inf`).
const MAX_BUCKETS: usize = 17;

/// Check and commit latencies: sub-millisecond first (an in-memory check takes microseconds),
/// up to one second (the policy time-out is 50 ms by default). Nanoseconds.
const FAST_BOUNDS: [u64; 15] = [
    25_000,
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
];

/// Upstream latencies: half a millisecond up to a minute (the upstream time-out is 5 s by
/// default). Nanoseconds.
const UPSTREAM_BOUNDS: [u64; 16] = [
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    2_500_000_000,
    5_000_000_000,
    10_000_000_000,
    30_000_000_000,
    60_000_000_000,
];

const _: () = assert!(FAST_BOUNDS.len() < MAX_BUCKETS && UPSTREAM_BOUNDS.len() < MAX_BUCKETS);

/// A histogram with fixed bounds: per-bucket counts (not cumulative; made cumulative when
/// rendered) and the sum in nanoseconds.
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [u64],
    buckets: [AtomicU64; MAX_BUCKETS],
    sum_ns: AtomicU64,
}

impl Histogram {
    const fn new(bounds: &'static [u64]) -> Histogram {
        Histogram {
            bounds,
            buckets: [const { AtomicU64::new(0) }; MAX_BUCKETS],
            sum_ns: AtomicU64::new(0),
        }
    }

    /// Two relaxed adds: the bucket and the sum.
    #[inline]
    fn observe(&self, elapsed: Duration) {
        let ns = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        // The first bound at or above the value; past the last, the `+Inf` bucket.
        let i = self.bounds.partition_point(|&b| b < ns);
        if let Some(bucket) = self.buckets.get(i) {
            bucket.fetch_add(1, Relaxed);
        }
        self.sum_ns.fetch_add(ns, Relaxed);
    }

    /// Observe the time since `started` (nothing when it is `None`: metrics off).
    #[inline]
    fn since(&self, started: Option<Instant>) {
        if let Some(t) = started {
            self.observe(t.elapsed());
        }
    }

    /// Cumulative counts per bound (the last one is `+Inf`, the count), and the sum in seconds.
    fn snapshot(&self) -> (Vec<u64>, f64) {
        let mut running = 0u64;
        let counts = self.buckets[..=self.bounds.len()]
            .iter()
            .map(|b| {
                running = running.saturating_add(b.load(Relaxed));
                running
            })
            .collect();
        (counts, self.sum_ns.load(Relaxed) as f64 / 1e9)
    }
}

// ---------------------------------------------------------------------------------------------
// What is recorded

/// A step of the pipeline, as the `check` label names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Capability,
    /// The intent classifier: timed only (it never decides; policy does).
    Intent,
    Policy,
    /// A person's decision on an escalated call: counted only (a person's time is not a
    /// check's latency).
    Approval,
    Budget,
    /// The allow decision's commit (the call is forwarded only once it is durable).
    Audit,
}

const STAGES: usize = 6;

impl Stage {
    const ALL: [Stage; STAGES] = [
        Stage::Capability,
        Stage::Intent,
        Stage::Policy,
        Stage::Approval,
        Stage::Budget,
        Stage::Audit,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Stage::Capability => "capability",
            Stage::Intent => "intent",
            Stage::Policy => "policy",
            Stage::Approval => "approval",
            Stage::Budget => "budget",
            Stage::Audit => "audit",
        }
    }

    /// The stage a refusal at `check` counts against (request and upstream refusals are not
    /// the pipeline's).
    pub const fn of(check: Check) -> Option<Stage> {
        match check {
            Check::Capability => Some(Stage::Capability),
            Check::Policy => Some(Stage::Policy),
            Check::Approval => Some(Stage::Approval),
            Check::Budget => Some(Stage::Budget),
            Check::Audit => Some(Stage::Audit),
            Check::Request | Check::Upstream => None,
        }
    }

    /// The decisions this stage takes (what is rendered, zeros included).
    const fn decisions(self) -> &'static [Decision] {
        match self {
            Stage::Intent => &[],
            Stage::Policy => &[Decision::Allow, Decision::Block, Decision::Escalate],
            _ => &[Decision::Allow, Decision::Block],
        }
    }

    /// Whether this stage is timed.
    const fn timed(self) -> bool {
        !matches!(self, Stage::Approval)
    }
}

/// What a check decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Block,
    Escalate,
}

impl Decision {
    pub const fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Block => "block",
            Decision::Escalate => "escalate",
        }
    }
}

/// What [`crate::revocations::Revocations::check`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    NotRevoked,
    Revoked,
    Stopped,
    Expired,
}

impl Lookup {
    const ALL: [Lookup; 4] = [
        Lookup::NotRevoked,
        Lookup::Revoked,
        Lookup::Stopped,
        Lookup::Expired,
    ];

    const fn as_str(self) -> &'static str {
        match self {
            Lookup::NotRevoked => "not_revoked",
            Lookup::Revoked => "revoked",
            Lookup::Stopped => "stopped",
            Lookup::Expired => "expired",
        }
    }
}

/// The `status` label of upstream exchanges.
const STATUS_CLASSES: [&str; 5] = ["2xx", "3xx", "4xx", "5xx", "error"];

static DECISIONS: [[AtomicU64; 3]; STAGES] = [const { [const { AtomicU64::new(0) }; 3] }; STAGES];
static CHECK_LATENCY: [Histogram; STAGES] = [const { Histogram::new(&FAST_BOUNDS) }; STAGES];
static UPSTREAM_LATENCY: Histogram = Histogram::new(&UPSTREAM_BOUNDS);
static UPSTREAM_STATUS: [AtomicU64; 5] = [const { AtomicU64::new(0) }; 5];
static LOOKUPS: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];
static AUDIT_INSERTS: AtomicU64 = AtomicU64::new(0);
static AUDIT_WAIT: Histogram = Histogram::new(&FAST_BOUNDS);
static SIGNER_REFUSALS: AtomicU64 = AtomicU64::new(0);

/// A check decided (one relaxed add).
#[inline]
pub fn decided(stage: Stage, decision: Decision) {
    if enabled() {
        DECISIONS[stage as usize][decision as usize].fetch_add(1, Relaxed);
    }
}

/// A check ran since `started` (from [`start`]; nothing when metrics are off).
#[inline]
pub fn timed(stage: Stage, started: Option<Instant>) {
    CHECK_LATENCY[stage as usize].since(started);
}

/// A check decided, timed since `started`.
#[inline]
pub fn checked(stage: Stage, decision: Decision, started: Option<Instant>) {
    decided(stage, decision);
    timed(stage, started);
}

/// A call refused at `check` (counted as that stage's `block`).
#[inline]
pub fn refused(check: Check) {
    if let Some(stage) = Stage::of(check) {
        decided(stage, Decision::Block);
    }
}

/// One liveness lookup of a token.
#[inline]
pub fn lookup(result: Lookup) {
    if enabled() {
        LOOKUPS[result as usize].fetch_add(1, Relaxed);
    }
}

/// One HTTP exchange with upstream since `started`: its status, or `None` when it failed
/// without one (connect, time-out, an unreadable answer).
#[inline]
pub fn upstream(started: Option<Instant>, status: Option<u16>) {
    if started.is_none() {
        return;
    }
    let class = match status {
        Some(200..=299) => 0,
        Some(300..=399) => 1,
        Some(400..=499) => 2,
        Some(500..=599) => 3,
        _ => 4,
    };
    UPSTREAM_STATUS[class].fetch_add(1, Relaxed);
    UPSTREAM_LATENCY.since(started);
}

/// A group commit made `entries` entries durable (one add per commit, not per entry).
#[inline]
pub fn audit_inserted(entries: usize) {
    if enabled() {
        AUDIT_INSERTS.fetch_add(entries as u64, Relaxed);
    }
}

/// An entry handed to the writer at `enqueued` is durable now.
#[inline]
pub fn audit_waited(enqueued: Option<Instant>) {
    AUDIT_WAIT.since(enqueued);
}

/// The checkpoint signer refused to sign a head (regressed, forked, unanchored).
#[inline]
pub fn signer_refused() {
    if enabled() {
        SIGNER_REFUSALS.fetch_add(1, Relaxed);
    }
}

// ---------------------------------------------------------------------------------------------
// Rendering

/// One sink's delivery state, as rendered (`sink` label).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SinkRow {
    pub sink: String,
    /// Entries not yet delivered.
    pub lag: u64,
    /// Age of the oldest undelivered entry (0 when none).
    pub oldest_age_seconds: f64,
    pub delivered: u64,
    pub failures: u64,
}

/// What is read at scrape time from the services that own it.
#[derive(Debug, Clone, Default)]
pub struct Live {
    /// Serving and the store writable (what `/healthz` answers 200 for).
    pub ready: bool,
    /// Approvals waiting for a person; `None` when the queue is off.
    pub pending_approvals: Option<u64>,
    /// Seconds since every chain head was last covered by a signed checkpoint.
    pub checkpoint_age_seconds: Option<f64>,
    pub sinks: Vec<SinkRow>,
}

/// The sink rows of the outbox's status: a configured sink (webhook, Splunk, Datadog,
/// Sentinel) under its name; notification channels (`notify:<id>`, one per channel and tenant)
/// added up per kind, so the number of series never grows with channels. Lag, deliveries and
/// failures are summed; the oldest undelivered age is the oldest of them.
pub fn sink_rows(statuses: &[intentgate_proto::api::IntegrationStatus]) -> Vec<SinkRow> {
    let mut rows: std::collections::BTreeMap<&str, SinkRow> = std::collections::BTreeMap::new();
    for s in statuses {
        let label = sink_label(s);
        let row = rows.entry(label).or_insert_with(|| SinkRow {
            sink: label.to_string(),
            ..SinkRow::default()
        });
        row.lag = row.lag.saturating_add(s.lag_entries);
        let age = s.oldest_pending_seconds.unwrap_or(0) as f64;
        row.oldest_age_seconds = row.oldest_age_seconds.max(age);
        row.delivered = row.delivered.saturating_add(s.delivered);
        row.failures = row.failures.saturating_add(s.failed);
    }
    rows.into_values().collect()
}

/// The `sink` label of a sink: its name, or its kind for a notification channel.
fn sink_label(s: &intentgate_proto::api::IntegrationStatus) -> &str {
    if s.name.starts_with("notify:") || s.tenant.is_some() {
        s.kind.as_str()
    } else {
        s.name.as_str()
    }
}

/// Keeps `sink_delivered_total` and `sink_failures_total` monotonic across scrapes. A label
/// adds up several channels; when one is removed its counts leave the outbox's status, and a
/// counter that went down would read as a reset to Prometheus (`rate` and `increase` would
/// then count the whole remaining total again). The counts of sinks gone since igd started
/// stay in their label's row.
#[derive(Debug, Default)]
pub struct SinkTotals {
    /// Each sink's last seen (label, delivered, failed), by sink name.
    seen: std::collections::BTreeMap<String, (String, u64, u64)>,
    /// Deliveries and failures of the sinks gone, by label.
    gone: std::collections::BTreeMap<String, (u64, u64)>,
}

impl SinkTotals {
    /// The rows of this scrape ([`sink_rows`], plus what the sinks gone had counted).
    pub fn rows(&mut self, statuses: &[intentgate_proto::api::IntegrationStatus]) -> Vec<SinkRow> {
        let SinkTotals { seen, gone } = self;
        let present: std::collections::BTreeSet<&str> =
            statuses.iter().map(|s| s.name.as_str()).collect();
        seen.retain(|name, (label, delivered, failed)| {
            if present.contains(name.as_str()) {
                return true;
            }
            let g = gone.entry(std::mem::take(label)).or_default();
            g.0 = g.0.saturating_add(*delivered);
            g.1 = g.1.saturating_add(*failed);
            false
        });
        for s in statuses {
            seen.insert(
                s.name.clone(),
                (sink_label(s).to_string(), s.delivered, s.failed),
            );
        }
        let mut rows = sink_rows(statuses);
        for (label, (delivered, failed)) in gone.iter() {
            match rows.iter_mut().find(|r| &r.sink == label) {
                Some(row) => {
                    row.delivered = row.delivered.saturating_add(*delivered);
                    row.failures = row.failures.saturating_add(*failed);
                }
                None => rows.push(SinkRow {
                    sink: label.clone(),
                    delivered: *delivered,
                    failures: *failed,
                    ..SinkRow::default()
                }),
            }
        }
        rows.sort_by(|a, b| a.sink.cmp(&b.sink));
        rows
    }
}

/// Escape a label value (backslash, double quote, newline).
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The text one scrape answers with.
pub fn render(live: &Live) -> String {
    let mut out = String::with_capacity(16 * 1024);
    let o = &mut out;
    header(o, "up", "gauge", "1 while igd answers scrapes.");
    sample(o, "up", "", 1);
    header(
        o,
        "ready",
        "gauge",
        "1 while igd serves calls and its store is writable (what /healthz answers 200 for).",
    );
    sample(o, "ready", "", u64::from(live.ready));
    header(o, "build_info", "gauge", "The running igd's version.");
    let version = format!("version=\"{}\"", escape(env!("CARGO_PKG_VERSION")));
    sample(o, "build_info", &version, 1);
    render_checks(o);
    render_upstream(o);
    header(
        o,
        "revocation_lookups_total",
        "counter",
        "Liveness lookups of a token (at authentication and before each decision), by result.",
    );
    for result in Lookup::ALL {
        let labels = format!("result=\"{}\"", result.as_str());
        let n = LOOKUPS[result as usize].load(Relaxed);
        sample(o, "revocation_lookups_total", &labels, n);
    }
    header(
        o,
        "audit_chain_inserts_total",
        "counter",
        "Audit entries made durable on their chains by this igd.",
    );
    sample(
        o,
        "audit_chain_inserts_total",
        "",
        AUDIT_INSERTS.load(Relaxed),
    );
    header(
        o,
        "audit_chain_lock_wait_seconds",
        "histogram",
        "Time from handing an entry to the audit writer until its group commit is durable.",
    );
    histogram(o, "audit_chain_lock_wait_seconds", "", &AUDIT_WAIT);
    render_live(o, live);
    out
}

fn render_checks(o: &mut String) {
    header(
        o,
        "check_decisions_total",
        "counter",
        "Decisions of the pipeline's checks: each time a check runs on a call, what it decided.",
    );
    for stage in Stage::ALL {
        for decision in stage.decisions() {
            let labels = format!(
                "check=\"{}\",decision=\"{}\"",
                stage.as_str(),
                decision.as_str()
            );
            let n = DECISIONS[stage as usize][*decision as usize].load(Relaxed);
            sample(o, "check_decisions_total", &labels, n);
        }
    }
    header(
        o,
        "check_latency_seconds",
        "histogram",
        "Time each check of the pipeline took (audit: the allow decision's commit).",
    );
    for stage in Stage::ALL.into_iter().filter(|s| s.timed()) {
        let labels = format!("check=\"{}\"", stage.as_str());
        histogram(
            o,
            "check_latency_seconds",
            &labels,
            &CHECK_LATENCY[stage as usize],
        );
    }
}

fn render_upstream(o: &mut String) {
    header(
        o,
        "upstream_latency_seconds",
        "histogram",
        "HTTP exchanges with the upstream MCP server: time to its answer (a JSON body read whole; an SSE stream to its headers).",
    );
    histogram(o, "upstream_latency_seconds", "", &UPSTREAM_LATENCY);
    header(
        o,
        "upstream_status_total",
        "counter",
        "HTTP exchanges with the upstream MCP server by status class (error: no usable answer).",
    );
    for (i, class) in STATUS_CLASSES.iter().enumerate() {
        let labels = format!("status=\"{class}\"");
        sample(
            o,
            "upstream_status_total",
            &labels,
            UPSTREAM_STATUS[i].load(Relaxed),
        );
    }
}

fn render_live(o: &mut String, live: &Live) {
    header(
        o,
        "pending_approvals",
        "gauge",
        "Escalated calls waiting for a person (0 when the approvals queue is off).",
    );
    sample(
        o,
        "pending_approvals",
        "",
        live.pending_approvals.unwrap_or(0),
    );
    if let Some(age) = live.checkpoint_age_seconds {
        header(
            o,
            "checkpoint_age_seconds",
            "gauge",
            "Seconds since every audit chain head was last covered by a signed checkpoint.",
        );
        sample_f(o, "checkpoint_age_seconds", "", age);
    }
    header(
        o,
        "checkpoint_signer_refusals_total",
        "counter",
        "Times the checkpoint signer refused to sign a chain head (regressed, forked or unanchored; repeated every signing pass until resolved).",
    );
    sample(
        o,
        "checkpoint_signer_refusals_total",
        "",
        SIGNER_REFUSALS.load(Relaxed),
    );
    render_sinks(o, &live.sinks);
}

fn render_sinks(o: &mut String, sinks: &[SinkRow]) {
    type Field = fn(&SinkRow) -> f64;
    let families: [(&str, &str, &str, Field); 4] = [
        (
            "sink_lag_entries",
            "gauge",
            "Audit entries a sink has not delivered yet.",
            |s| s.lag as f64,
        ),
        (
            "sink_oldest_undelivered_age_seconds",
            "gauge",
            "Age of the oldest audit entry a sink has not delivered yet (0 when none).",
            |s| s.oldest_age_seconds,
        ),
        (
            "sink_delivered_total",
            "counter",
            "Audit entries a sink delivered.",
            |s| s.delivered as f64,
        ),
        (
            "sink_failures_total",
            "counter",
            "Failed delivery attempts of a sink (each retried).",
            |s| s.failures as f64,
        ),
    ];
    for (name, kind, help, field) in families {
        header(o, name, kind, help);
        for s in sinks {
            let labels = format!("sink=\"{}\"", escape(&s.sink));
            sample_f(o, name, &labels, field(s));
        }
    }
}

fn header(o: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(o, "# HELP {PREFIX}{name} {help}");
    let _ = writeln!(o, "# TYPE {PREFIX}{name} {kind}");
}

fn sample(o: &mut String, name: &str, labels: &str, value: u64) {
    if labels.is_empty() {
        let _ = writeln!(o, "{PREFIX}{name} {value}");
    } else {
        let _ = writeln!(o, "{PREFIX}{name}{{{labels}}} {value}");
    }
}

fn sample_f(o: &mut String, name: &str, labels: &str, value: f64) {
    let value = if value.is_finite() { value } else { 0.0 };
    if labels.is_empty() {
        let _ = writeln!(o, "{PREFIX}{name} {value}");
    } else {
        let _ = writeln!(o, "{PREFIX}{name}{{{labels}}} {value}");
    }
}

fn histogram(o: &mut String, name: &str, labels: &str, h: &Histogram) {
    let (counts, sum) = h.snapshot();
    let sep = if labels.is_empty() { "" } else { "," };
    let bounds = h.bounds.iter().map(|ns| (*ns as f64 / 1e9).to_string());
    for (le, count) in bounds.chain(["+Inf".to_string()]).zip(&counts) {
        let _ = writeln!(
            o,
            "{PREFIX}{name}_bucket{{{labels}{sep}le=\"{le}\"}} {count}"
        );
    }
    let count = counts.last().copied().unwrap_or(0);
    if labels.is_empty() {
        let _ = writeln!(o, "{PREFIX}{name}_sum {sum}");
        let _ = writeln!(o, "{PREFIX}{name}_count {count}");
    } else {
        let _ = writeln!(o, "{PREFIX}{name}_sum{{{labels}}} {sum}");
        let _ = writeln!(o, "{PREFIX}{name}_count{{{labels}}} {count}");
    }
}

// ---------------------------------------------------------------------------------------------
// The listener

/// Scrapes served at once; a connection beyond is closed at accept (a flood of scrapes must
/// not become a way to exhaust igd).
pub const MAX_CONNECTIONS: usize = 8;
/// The longest one connection lives, request head included (a client that trickles its head
/// holds a slot at most this long).
pub const CONNECTION_DEADLINE: Duration = Duration::from_secs(10);
/// The most bytes of a request head read (hyper's smallest buffer).
const MAX_HEAD_BYTES: usize = 8192;

/// Serve `GET /metrics` on `listener` until `stop` flips; `live` reads the scrape-time values.
pub async fn serve<F>(
    listener: tokio::net::TcpListener,
    live: F,
    mut stop: tokio::sync::watch::Receiver<bool>,
) where
    F: Fn() -> Live + Send + Sync + 'static,
{
    let live = Arc::new(live);
    let limiter = crate::connections::ConnLimiter::new(MAX_CONNECTIONS, usize::MAX, Vec::new());
    loop {
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "metrics listener accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.changed() => return,
        };
        let Ok(permit) = limiter.admit(None) else {
            continue;
        };
        let live = live.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                let resp = answer(&req, live.as_ref());
                async move { Ok::<_, Infallible>(resp) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .keep_alive(false)
                .max_buf_size(MAX_HEAD_BYTES)
                .serve_connection(TokioIo::new(stream), svc);
            let _ = tokio::time::timeout(CONNECTION_DEADLINE, conn).await;
        });
    }
}

/// The answer to one request: the metrics for `GET /metrics`, 405 for another method there,
/// 404 anywhere else.
fn answer<F: Fn() -> Live>(req: &Request<Incoming>, live: &F) -> Response<Full<Bytes>> {
    let plain = |status: StatusCode, text: &'static str| {
        let mut r = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
        *r.status_mut() = status;
        r.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        r
    };
    if req.uri().path() != "/metrics" {
        return plain(
            StatusCode::NOT_FOUND,
            "not found: only GET /metrics is served here\n",
        );
    }
    if req.method() != Method::GET {
        let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "only GET /metrics\n");
        r.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET"));
        return r;
    }
    let mut r = Response::new(Full::new(Bytes::from(render(&live()))));
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE_TEXT));
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use intentgate_proto::api::IntegrationStatus;

    #[test]
    fn buckets_hold_values_at_or_below_their_bound() {
        let h = Histogram::new(&FAST_BOUNDS);
        h.observe(Duration::from_micros(25));
        h.observe(Duration::from_nanos(25_001));
        h.observe(Duration::from_secs(2));
        let (counts, sum) = h.snapshot();
        assert_eq!(counts.len(), FAST_BOUNDS.len() + 1);
        assert_eq!(counts[0], 1, "25 µs is in the 25 µs bucket");
        assert_eq!(counts[1], 2, "25.001 µs is in the 50 µs bucket");
        assert_eq!(counts[FAST_BOUNDS.len() - 1], 2, "nothing up to 1 s more");
        assert_eq!(counts[FAST_BOUNDS.len()], 3, "+Inf holds everything");
        assert!((sum - 2.000_050_001).abs() < 1e-9, "{sum}");
    }

    #[test]
    fn rendered_histogram_is_cumulative_with_sum_and_count() {
        let h = Histogram::new(&UPSTREAM_BOUNDS);
        h.observe(Duration::from_millis(3));
        let mut o = String::new();
        histogram(&mut o, "x_seconds", "a=\"b\"", &h);
        assert!(o.contains("intentgate_gateway_x_seconds_bucket{a=\"b\",le=\"0.0025\"} 0\n"));
        assert!(o.contains("intentgate_gateway_x_seconds_bucket{a=\"b\",le=\"0.005\"} 1\n"));
        assert!(o.contains("intentgate_gateway_x_seconds_bucket{a=\"b\",le=\"+Inf\"} 1\n"));
        assert!(o.contains("intentgate_gateway_x_seconds_sum{a=\"b\"} 0.003\n"));
        assert!(o.contains("intentgate_gateway_x_seconds_count{a=\"b\"} 1\n"));
    }

    fn status(name: &str, kind: &str, lag: u64, age: Option<u64>) -> IntegrationStatus {
        let tenant = name.starts_with("notify:").then(|| format!("t-{name}"));
        serde_json::from_value(serde_json::json!({
            "name": name, "kind": kind, "tenant": tenant, "state": "ok", "cursors": [],
            "lag_entries": lag, "oldest_pending_seconds": age, "delivered": 10, "failed": 1,
        }))
        .unwrap_or_else(|e| panic!("status: {e}"))
    }

    #[test]
    fn notification_channels_add_up_per_kind() {
        let rows = sink_rows(&[
            status("splunk", "splunk", 5, Some(7)),
            status("notify:a1", "slack", 2, Some(3)),
            status("notify:b2", "slack", 4, Some(9)),
            status("notify:c3", "pagerduty", 0, None),
            status("webhook", "webhook", 0, None),
        ]);
        let names: Vec<&str> = rows.iter().map(|r| r.sink.as_str()).collect();
        assert_eq!(names, ["pagerduty", "slack", "splunk", "webhook"]);
        let slack = &rows[1];
        assert_eq!((slack.lag, slack.delivered, slack.failures), (6, 20, 2));
        assert_eq!(slack.oldest_age_seconds, 9.0);
        assert_eq!(rows[2].lag, 5);
        assert_eq!(rows[0].oldest_age_seconds, 0.0);
    }

    /// A notification channel removed between two scrapes: its label's counters stay where
    /// they were (the stateless `sink_rows` alone would go from 20 down to 11).
    #[test]
    fn sink_counters_never_go_down_when_a_channel_is_removed() {
        let mut totals = SinkTotals::default();
        let both = [
            status("notify:a1", "slack", 0, None),
            status("notify:b2", "slack", 1, Some(4)),
            status("splunk", "splunk", 0, None),
        ];
        let rows = totals.rows(&both);
        assert_eq!((rows[0].sink.as_str(), rows[0].delivered), ("slack", 20));
        assert_eq!(rows[0].failures, 2);
        let mut b2 = status("notify:b2", "slack", 3, Some(5));
        b2.delivered = 11;
        let one = [b2, status("splunk", "splunk", 0, None)];
        assert_eq!(sink_rows(&one)[0].delivered, 11, "what a scrape saw before");
        let rows = totals.rows(&one);
        let slack = rows.iter().find(|r| r.sink == "slack").unwrap();
        assert_eq!((slack.delivered, slack.failures), (21, 2));
        assert_eq!((slack.lag, slack.oldest_age_seconds), (3, 5.0));
        // Every channel gone: the series stays, with no lag.
        let rows = totals.rows(&[status("splunk", "splunk", 0, None)]);
        let names: Vec<&str> = rows.iter().map(|r| r.sink.as_str()).collect();
        assert_eq!(names, ["slack", "splunk"]);
        assert_eq!(
            (rows[0].delivered, rows[0].failures, rows[0].lag),
            (21, 2, 0)
        );
        // Scraped again: counted once, not once per scrape.
        let rows = totals.rows(&[status("splunk", "splunk", 0, None)]);
        assert_eq!(rows[0].delivered, 21);
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        let mut o = String::new();
        render_sinks(
            &mut o,
            &[SinkRow {
                sink: "we\"ird".into(),
                lag: 3,
                ..SinkRow::default()
            }],
        );
        assert!(o.contains("intentgate_gateway_sink_lag_entries{sink=\"we\\\"ird\"} 3\n"));
    }
}
