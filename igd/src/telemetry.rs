//! Logs and traces (DESIGN §8), never on the decision path.
//!
//! Logs: one subscriber writes JSON lines (or text on a terminal) to stdout at `LOG_LEVEL`. The
//! events operators key on carry stable names as their message (`policy.decision`,
//! `audit.insert`, `upstream error`, …; README.md, "Logs and traces", lists them with their
//! fields). None carries a token or an argument value.
//!
//! Traces: `mcp.request` per MCP request, a `check.*` child per check of a gated call and
//! `upstream.call` per request sent upstream. They are TRACE spans under [`TARGET`], which the
//! log filter never shows; only the OTLP layer (the `otel` feature, when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set) accepts them. Without an endpoint no layer wants them,
//! the subscriber's maximum level stays at `LOG_LEVEL`, and a span costs one atomic load: no
//! allocation on the per-call path. With one, finished spans go to a bounded queue (full: the
//! span is counted as dropped, a call never waits) that a background task posts as OTLP/HTTP
//! JSON. Traces are diagnostics: a batch the collector keeps refusing is dropped with a warning
//! (the audit log, not the traces, is the record).

use crate::config::LogFormat;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// The target of igd's spans: exported, never logged.
pub const TARGET: &str = "igd::trace";

/// A span for one check of a gated call (`check.capability`, …), with its `decision`.
macro_rules! check_span {
    ($name:literal) => {
        tracing::trace_span!(
            target: $crate::telemetry::TARGET,
            $name,
            decision = tracing::field::Empty,
            error = tracing::field::Empty
        )
    };
}
pub(crate) use check_span;

/// Record how a check ended and close its span (a no-op when tracing is off).
pub fn end(span: tracing::Span, decision: &str) {
    span.record("decision", decision);
}

/// The running telemetry: the trace exporter when there is one.
#[derive(Default)]
pub struct Telemetry {
    #[cfg(feature = "otel")]
    exporter: Option<otlp::Exporter>,
    #[cfg(feature = "otel")]
    running: Option<(
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<()>,
    )>,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Telemetry")
    }
}

/// The longest igd waits at exit for the last spans to be exported.
#[cfg(feature = "otel")]
const FINAL_FLUSH: std::time::Duration = std::time::Duration::from_secs(3);

impl Telemetry {
    /// Start the trace exporter on `runtime` (nothing to do without an OTLP endpoint).
    pub fn start(&mut self, runtime: &tokio::runtime::Runtime) {
        #[cfg(feature = "otel")]
        if let Some(exporter) = self.exporter.take() {
            let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
            let task = runtime.spawn(exporter.run(stop_rx));
            self.running = Some((stop_tx, task));
        }
        #[cfg(not(feature = "otel"))]
        let _ = runtime;
    }

    /// Export what is still queued (for at most a few seconds), then stop the exporter.
    pub fn finish(self, runtime: &tokio::runtime::Runtime) {
        #[cfg(feature = "otel")]
        if let Some((stop, task)) = self.running {
            let _ = stop.send(());
            let _ = runtime.block_on(tokio::time::timeout(FINAL_FLUSH, task));
        }
        #[cfg(not(feature = "otel"))]
        let _ = runtime;
    }
}

/// Install the process's subscriber: logs at `level` in `format` to stdout, and span export to
/// `otel_endpoint` (`OTEL_EXPORTER_OTLP_ENDPOINT`, already validated) when set.
pub fn init(level: &str, format: LogFormat, otel_endpoint: Option<&str>) -> Telemetry {
    let mut filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Spans are for the exporter; even LOG_LEVEL=trace does not print them.
    if let Ok(off) = format!("{TARGET}=off").parse() {
        filter = filter.add_directive(off);
    }
    let logs = tracing_subscriber::fmt::layer().with_writer(std::io::stdout);
    let logs = match format {
        LogFormat::Json => logs
            .json()
            .with_current_span(false)
            .with_span_list(false)
            .with_filter(filter)
            .boxed(),
        LogFormat::Pretty => {
            use std::io::IsTerminal;
            let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            logs.with_ansi(color).with_filter(filter).boxed()
        }
    };
    let registry = tracing_subscriber::registry().with(logs);
    #[cfg(feature = "otel")]
    {
        let (layer, exporter) = match otel_endpoint {
            Some(endpoint) => {
                let (layer, exporter) = otlp::pipeline(endpoint);
                let only_spans = tracing_subscriber::filter::Targets::new()
                    .with_target(TARGET, tracing::Level::TRACE);
                (Some(layer.with_filter(only_spans)), Some(exporter))
            }
            None => (None, None),
        };
        let _ = registry.with(layer).try_init();
        Telemetry {
            exporter,
            running: None,
        }
    }
    #[cfg(not(feature = "otel"))]
    {
        // The configuration refuses an endpoint in a build without the feature.
        let _ = otel_endpoint;
        let _ = registry.try_init();
        Telemetry::default()
    }
}

#[cfg(feature = "otel")]
pub mod otlp {
    //! OTLP/HTTP JSON export of finished spans (the ExportTraceServiceRequest JSON mapping),
    //! without the OpenTelemetry SDK: a `tracing` layer that records spans, a bounded queue, a
    //! task that batches and posts them.

    use crate::sinks::http::HttpClient;
    use rand::RngCore;
    use serde_json::{json, Value};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, SystemTime, UNIX_EPOCH};
    use tokio::sync::{mpsc, oneshot};
    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::Subscriber;
    use tracing_subscriber::layer::Context;
    use tracing_subscriber::registry::LookupSpan;
    use tracing_subscriber::Layer;

    /// Finished spans waiting for the exporter; beyond this they are dropped (and counted).
    pub const QUEUE: usize = 4096;
    /// Most spans in one export request.
    pub const MAX_BATCH: usize = 512;
    /// How often a partial batch is sent.
    pub const FLUSH_EVERY: Duration = Duration::from_secs(1);
    /// Tries per batch before it is dropped.
    const ATTEMPTS: u32 = 4;
    /// The longest wait between tries (a collector's `Retry-After` included).
    const MAX_BACKOFF: Duration = Duration::from_secs(10);

    /// OTLP span kinds.
    pub const KIND_INTERNAL: u8 = 1;
    pub const KIND_SERVER: u8 = 2;
    pub const KIND_CLIENT: u8 = 3;

    /// An attribute value.
    #[derive(Debug, Clone, PartialEq)]
    pub enum AttrValue {
        Str(String),
        Int(i64),
        Bool(bool),
        Double(f64),
    }

    /// A span as exported.
    #[derive(Debug, Clone)]
    pub struct SpanData {
        pub trace_id: [u8; 16],
        pub span_id: [u8; 8],
        pub parent: Option<[u8; 8]>,
        pub name: &'static str,
        pub kind: u8,
        pub start_ns: u64,
        pub end_ns: u64,
        pub attributes: Vec<(&'static str, AttrValue)>,
        /// Set when the span recorded an `error` field: its status is then ERROR.
        pub error: Option<String>,
    }

    /// Records spans and queues them when they close.
    #[derive(Debug)]
    pub struct OtlpLayer {
        tx: mpsc::Sender<SpanData>,
        dropped: Arc<AtomicU64>,
    }

    /// Posts queued spans to the collector.
    #[derive(Debug)]
    pub struct Exporter {
        rx: mpsc::Receiver<SpanData>,
        dropped: Arc<AtomicU64>,
        url: String,
        resource: Value,
    }

    /// The layer and the exporter of one endpoint.
    pub fn pipeline(endpoint: &str) -> (OtlpLayer, Exporter) {
        pipeline_with(endpoint, QUEUE)
    }

    pub fn pipeline_with(endpoint: &str, queue: usize) -> (OtlpLayer, Exporter) {
        let (tx, rx) = mpsc::channel(queue.max(1));
        let dropped = Arc::new(AtomicU64::new(0));
        let exporter = Exporter {
            rx,
            dropped: dropped.clone(),
            url: format!("{}/v1/traces", endpoint.trim_end_matches('/')),
            resource: resource(),
        };
        (OtlpLayer { tx, dropped }, exporter)
    }

    fn resource() -> Value {
        let mut id = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut id);
        // A UUIDv4, per process: a restarted igd is a new instance.
        id[6] = (id[6] & 0x0f) | 0x40;
        id[8] = (id[8] & 0x3f) | 0x80;
        let h = hex::encode(id);
        let instance = format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        );
        json!({"attributes": [
            attribute("service.name", &AttrValue::Str("igd".into())),
            attribute("service.version", &AttrValue::Str(env!("CARGO_PKG_VERSION").into())),
            attribute("service.instance.id", &AttrValue::Str(instance)),
        ]})
    }

    fn now_ns() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
    }

    /// A random id that is not all zeros (the invalid id).
    fn random_id<const N: usize>() -> [u8; N] {
        let mut id = [0u8; N];
        while id.iter().all(|b| *b == 0) {
            rand::thread_rng().fill_bytes(&mut id);
        }
        id
    }

    struct Visitor<'a>(&'a mut SpanData);

    impl Visitor<'_> {
        fn put(&mut self, field: &Field, value: AttrValue) {
            match field.name() {
                "otel.kind" => {
                    self.0.kind = match value {
                        AttrValue::Str(s) if s == "server" => KIND_SERVER,
                        AttrValue::Str(s) if s == "client" => KIND_CLIENT,
                        _ => KIND_INTERNAL,
                    }
                }
                "error" => {
                    self.0.error = Some(match value {
                        AttrValue::Str(s) => s,
                        other => format!("{other:?}"),
                    })
                }
                name => match self.0.attributes.iter_mut().find(|(k, _)| *k == name) {
                    Some(slot) => slot.1 = value,
                    None => self.0.attributes.push((name, value)),
                },
            }
        }
    }

    impl Visit for Visitor<'_> {
        fn record_str(&mut self, field: &Field, value: &str) {
            self.put(field, AttrValue::Str(value.to_string()));
        }
        fn record_i64(&mut self, field: &Field, value: i64) {
            self.put(field, AttrValue::Int(value));
        }
        fn record_u64(&mut self, field: &Field, value: u64) {
            let v = i64::try_from(value)
                .map_or_else(|_| AttrValue::Str(value.to_string()), AttrValue::Int);
            self.put(field, v);
        }
        fn record_bool(&mut self, field: &Field, value: bool) {
            self.put(field, AttrValue::Bool(value));
        }
        fn record_f64(&mut self, field: &Field, value: f64) {
            self.put(field, AttrValue::Double(value));
        }
        fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
            self.put(field, AttrValue::Str(value.to_string()));
        }
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            self.put(field, AttrValue::Str(format!("{value:?}")));
        }
    }

    impl<S> Layer<S> for OtlpLayer
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
            let Some(span) = ctx.span(id) else {
                return;
            };
            // The nearest exported ancestor (the layer's filter hides the others).
            let parent = span.parent().and_then(|p| {
                p.extensions()
                    .get::<SpanData>()
                    .map(|d| (d.trace_id, d.span_id))
            });
            let (trace_id, parent) = match parent {
                Some((trace, span)) => (trace, Some(span)),
                None => (random_id(), None),
            };
            let mut data = SpanData {
                trace_id,
                span_id: random_id(),
                parent,
                name: attrs.metadata().name(),
                kind: KIND_INTERNAL,
                start_ns: now_ns(),
                end_ns: 0,
                attributes: Vec::new(),
                error: None,
            };
            attrs.record(&mut Visitor(&mut data));
            span.extensions_mut().insert(data);
        }

        fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
            if let Some(span) = ctx.span(id) {
                if let Some(data) = span.extensions_mut().get_mut::<SpanData>() {
                    values.record(&mut Visitor(data));
                }
            }
        }

        fn on_close(&self, id: Id, ctx: Context<'_, S>) {
            let Some(span) = ctx.span(&id) else {
                return;
            };
            let Some(mut data) = span.extensions_mut().remove::<SpanData>() else {
                return;
            };
            data.end_ns = now_ns().max(data.start_ns);
            // Never wait: a full queue (a slow or absent collector) costs spans, not calls.
            if self.tx.try_send(data).is_err() {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    impl Exporter {
        /// Batch and post spans until `stop`, then post what is queued once more.
        pub async fn run(mut self, mut stop: oneshot::Receiver<()>) {
            let client = match HttpClient::new() {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "trace export failed");
                    return;
                }
            };
            tracing::info!(url = %self.url, "trace export on");
            let mut batch = Vec::with_capacity(MAX_BATCH);
            let mut tick = tokio::time::interval(FLUSH_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    got = self.rx.recv_many(&mut batch, MAX_BATCH) => {
                        if got == 0 {
                            return;
                        }
                        if batch.len() < MAX_BATCH {
                            continue;
                        }
                    }
                    _ = tick.tick() => {}
                    _ = &mut stop => {
                        while batch.len() < MAX_BATCH * 4 {
                            let Ok(span) = self.rx.try_recv() else { break };
                            batch.push(span);
                        }
                        for chunk in batch.chunks(MAX_BATCH) {
                            self.export(&client, chunk, 1).await;
                        }
                        return;
                    }
                }
                self.report_dropped();
                if !batch.is_empty() {
                    self.export(&client, &batch, ATTEMPTS).await;
                    batch.clear();
                }
            }
        }

        fn report_dropped(&self) {
            let dropped = self.dropped.swap(0, Ordering::Relaxed);
            if dropped > 0 {
                tracing::warn!(spans = dropped, "trace spans dropped");
            }
        }

        /// Post one batch, trying up to `attempts` times with backoff; then drop it.
        async fn export(&self, client: &HttpClient, spans: &[SpanData], attempts: u32) {
            let body = match serde_json::to_vec(&request_body(&self.resource, spans)) {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, spans = spans.len(), "trace export failed");
                    return;
                }
            };
            let headers = [("content-type", "application/json".to_string())];
            let mut wait = Duration::from_secs(1);
            for attempt in 1..=attempts {
                let e = match client.post(&self.url, &headers, body.clone()).await {
                    Ok(_) => return,
                    Err(e) => e,
                };
                if e.refused || attempt == attempts {
                    tracing::warn!(
                        error = %e.message,
                        spans = spans.len(),
                        attempts = attempt,
                        "trace export failed"
                    );
                    return;
                }
                tokio::time::sleep(e.retry_after.unwrap_or(wait).min(MAX_BACKOFF)).await;
                wait = (wait * 2).min(MAX_BACKOFF);
            }
        }
    }

    /// An `ExportTraceServiceRequest` in the OTLP JSON mapping.
    pub fn request_body(resource: &Value, spans: &[SpanData]) -> Value {
        json!({"resourceSpans": [{
            "resource": resource,
            "scopeSpans": [{
                "scope": {"name": "igd", "version": env!("CARGO_PKG_VERSION")},
                "spans": spans.iter().map(span_json).collect::<Vec<_>>(),
            }],
        }]})
    }

    fn span_json(s: &SpanData) -> Value {
        let status = match &s.error {
            Some(message) => json!({"code": 2, "message": message}),
            None => json!({"code": 0}),
        };
        let mut v = json!({
            "traceId": hex::encode(s.trace_id),
            "spanId": hex::encode(s.span_id),
            "name": s.name,
            "kind": s.kind,
            "startTimeUnixNano": s.start_ns.to_string(),
            "endTimeUnixNano": s.end_ns.to_string(),
            "attributes": s.attributes.iter().map(|(k, v)| attribute(k, v)).collect::<Vec<_>>(),
            "status": status,
        });
        if let Some(parent) = s.parent {
            v["parentSpanId"] = json!(hex::encode(parent));
        }
        v
    }

    /// A `KeyValue` (64-bit integers are strings in the JSON mapping).
    fn attribute(key: &str, value: &AttrValue) -> Value {
        let value = match value {
            AttrValue::Str(s) => json!({"stringValue": s}),
            AttrValue::Int(i) => json!({"intValue": i.to_string()}),
            AttrValue::Bool(b) => json!({"boolValue": b}),
            AttrValue::Double(d) => json!({"doubleValue": d}),
        };
        json!({"key": key, "value": value})
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use tracing_subscriber::layer::SubscriberExt;

        fn collect(queue: usize, f: impl FnOnce()) -> (Vec<SpanData>, u64) {
            let (layer, mut exporter) = pipeline_with("http://127.0.0.1:1", queue);
            let subscriber = tracing_subscriber::registry().with(layer);
            tracing::subscriber::with_default(subscriber, f);
            let mut out = Vec::new();
            while let Ok(s) = exporter.rx.try_recv() {
                out.push(s);
            }
            (out, exporter.dropped.load(Ordering::Relaxed))
        }

        #[test]
        fn children_share_the_trace_and_name_their_parent() {
            let (spans, dropped) = collect(16, || {
                let root = tracing::trace_span!(
                    "mcp.request",
                    otel.kind = "server",
                    method = "tools/call",
                    status = tracing::field::Empty
                );
                root.in_scope(|| {
                    let check =
                        tracing::trace_span!("check.policy", decision = tracing::field::Empty);
                    check.record("decision", "block");
                    drop(check);
                    let up = tracing::trace_span!(
                        "upstream.call",
                        otel.kind = "client",
                        error = tracing::field::Empty
                    );
                    up.record("error", "upstream timed out");
                });
                root.record("status", 200u64);
            });
            assert_eq!(dropped, 0);
            assert_eq!(spans.len(), 3);
            let root = spans.iter().find(|s| s.name == "mcp.request").unwrap();
            assert_eq!(root.kind, KIND_SERVER);
            assert!(root.parent.is_none());
            assert!(root.attributes.contains(&("status", AttrValue::Int(200))));
            assert!(root
                .attributes
                .contains(&("method", AttrValue::Str("tools/call".into()))));
            for child in spans.iter().filter(|s| s.name != "mcp.request") {
                assert_eq!(child.trace_id, root.trace_id);
                assert_eq!(child.parent, Some(root.span_id));
                assert_ne!(child.span_id, root.span_id);
                assert!(child.end_ns >= child.start_ns);
            }
            let check = spans.iter().find(|s| s.name == "check.policy").unwrap();
            assert_eq!(check.kind, KIND_INTERNAL);
            assert_eq!(
                check.attributes,
                vec![("decision", AttrValue::Str("block".into()))]
            );
            assert!(check.error.is_none());
            let up = spans.iter().find(|s| s.name == "upstream.call").unwrap();
            assert_eq!(up.kind, KIND_CLIENT);
            assert_eq!(up.error.as_deref(), Some("upstream timed out"));
        }

        #[test]
        fn a_full_queue_drops_and_counts() {
            let (spans, dropped) = collect(2, || {
                for _ in 0..5 {
                    drop(tracing::trace_span!("check.intent"));
                }
            });
            assert_eq!(spans.len(), 2);
            assert_eq!(dropped, 3);
        }

        #[test]
        fn separate_roots_get_separate_traces() {
            let (spans, _) = collect(4, || {
                drop(tracing::trace_span!("mcp.request"));
                drop(tracing::trace_span!("mcp.request"));
            });
            assert_eq!(spans.len(), 2);
            assert_ne!(spans[0].trace_id, spans[1].trace_id);
        }

        #[test]
        fn body_follows_the_otlp_json_mapping() {
            let span = SpanData {
                trace_id: [0xab; 16],
                span_id: [0x01; 8],
                parent: Some([0x02; 8]),
                name: "upstream.call",
                kind: KIND_CLIENT,
                start_ns: 1_700_000_000_000_000_000,
                end_ns: 1_700_000_000_000_000_500,
                attributes: vec![
                    ("http.response.status_code", AttrValue::Int(200)),
                    ("ok", AttrValue::Bool(true)),
                ],
                error: Some("boom".into()),
            };
            let body = request_body(&resource(), &[span]);
            let rs = &body["resourceSpans"][0];
            let keys: Vec<&str> = rs["resource"]["attributes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["key"].as_str().unwrap())
                .collect();
            assert_eq!(
                keys,
                ["service.name", "service.version", "service.instance.id"]
            );
            assert_eq!(
                rs["resource"]["attributes"][0]["value"]["stringValue"],
                "igd"
            );
            assert_eq!(rs["scopeSpans"][0]["scope"]["name"], "igd");
            let s = &rs["scopeSpans"][0]["spans"][0];
            assert_eq!(s["traceId"], "ab".repeat(16));
            assert_eq!(s["spanId"], "01".repeat(8));
            assert_eq!(s["parentSpanId"], "02".repeat(8));
            assert_eq!(s["kind"], 3);
            assert_eq!(s["startTimeUnixNano"], "1700000000000000000");
            assert_eq!(s["endTimeUnixNano"], "1700000000000000500");
            assert_eq!(s["attributes"][0]["value"]["intValue"], "200");
            assert_eq!(s["attributes"][1]["value"]["boolValue"], true);
            assert_eq!(s["status"], json!({"code": 2, "message": "boom"}));
        }
    }
}
