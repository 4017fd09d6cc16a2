//! The relay: send a message igd has checked to the upstream and turn upstream's answer into
//! the agent's, as one JSON response or a relayed SSE stream. Upstream is untrusted input like
//! the agent: its answers are checked ([`crate::upstream::reply`]) and capped, never indexed
//! into; whatever goes wrong, the agent gets a JSON-RPC answer (−31006 when upstream failed)
//! and a gated call gets its outcome entry. When the agent goes away mid-stream, upstream is
//! told to stop (`notifications/cancelled`, or the 2026-era stream is closed).

use crate::gateway::Gateway;
use crate::http::{channel_body, json_response, Body};
use crate::jsonrpc::parse_strict;
use crate::pipeline::{Check, Owed, Refusal};
use crate::upstream::{
    check_response, reply, ReplyBody, Route, SseEvent, SseStream, UpstreamError,
};
use hyper::header::HeaderValue;
use hyper::Response;
use serde_json::Value;
use std::sync::Arc;

/// Where and how one message goes upstream.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub gw: Arc<Gateway>,
    pub route: Route,
    /// The agent speaks 2026-07-28.
    pub modern: bool,
    /// `Mcp-Param-*` headers, forwarded unchanged to a 2026-era upstream.
    pub param_headers: Vec<(String, String)>,
    /// Hash of the agent's 2025-era session id: requests upstream sends the agent on it are
    /// noted, so the agent's answers may travel back ([`crate::server_requests`]).
    pub session_hash: Option<String>,
}

/// A refusal for the agent because upstream failed.
pub fn upstream_refusal(id: &Value, e: &UpstreamError, decision_id: Option<String>) -> Value {
    Refusal {
        check: Check::Upstream,
        reason: e.to_string(),
        decision_id,
    }
    .to_jsonrpc(id)
}

/// Forward a request upstream and relay the answer; settle what the call owes (`outcome`:
/// the outcome entries of the decisions that cleared it, nothing for lifecycle methods)
/// whatever happens.
pub async fn forward(
    ex: &Exchange,
    message: &Value,
    client_id: &Value,
    method: &str,
    name: Option<&str>,
    outcome: Owed,
) -> Response<Body> {
    let upstream = &ex.gw.upstream;
    let upstream_id = upstream.next_id();
    // Until upstream answers, an agent that goes away (hyper drops this future) cancels the
    // request upstream, as the SSE pump does once the answer streams.
    let mut cancel = CancelOnDrop {
        ex: Some(ex),
        upstream_id: &upstream_id,
    };
    let sent = upstream
        .send(
            &ex.route,
            message,
            &upstream_id,
            method,
            name,
            &ex.param_headers,
        )
        .await;
    // Upstream answered, or the request failed in a way that says nothing is running there
    // (refused connection, no upstream): nothing to cancel. A request that timed out may
    // still be running upstream: the guard cancels it.
    if !matches!(sent, Err(UpstreamError::Timeout(_))) {
        cancel.ex = None;
    }
    drop(cancel);
    let reply = match sent {
        Ok(r) => r,
        Err(e) => return refuse(outcome, client_id, &e).await,
    };
    let status = reply.status;
    match reply.body {
        ReplyBody::Json(v) => match check_response(v, &upstream_id) {
            Ok(answer) => {
                outcome.settle(i64::from(status));
                let http_status = if status >= 400 { status } else { 200 };
                json_response(
                    http_status,
                    &answer.for_client(client_id, ex.modern, method),
                )
            }
            Err(reason) => refuse(outcome, client_id, &UpstreamError::Protocol(reason)).await,
        },
        ReplyBody::Empty => {
            let e = UpstreamError::Protocol(format!("HTTP {status} without a body"));
            refuse(outcome, client_id, &e).await
        }
        ReplyBody::Sse(stream) => {
            let (tx, body) = channel_body();
            let pump = Pump {
                ex: ex.clone(),
                client_id: client_id.clone(),
                upstream_id,
                method: method.to_string(),
                status,
                tx,
            };
            tokio::spawn(pump.run(stream, outcome));
            sse_response(body)
        }
    }
}

/// Cancels an upstream request when dropped armed: the agent went away while igd awaited
/// upstream's answer, or the wait ended without one (time-out, lost connection).
struct CancelOnDrop<'a> {
    ex: Option<&'a Exchange>,
    upstream_id: &'a Value,
}

impl Drop for CancelOnDrop<'_> {
    fn drop(&mut self) {
        let Some(ex) = self.ex.take() else {
            return;
        };
        let (ex, id) = (ex.clone(), self.upstream_id.clone());
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if ex.gw.upstream.cancel(&ex.route, &id).await {
                    tracing::info!("upstream request cancelled (agent gone or upstream timed out)");
                }
            });
        }
    }
}

async fn refuse(outcome: Owed, client_id: &Value, e: &UpstreamError) -> Response<Body> {
    let id = outcome.decision_id();
    outcome.settle(e.status());
    json_response(200, &upstream_refusal(client_id, e, id))
}

fn sse_response(body: Body) -> Response<Body> {
    let mut resp = Response::new(body);
    let headers = resp.headers_mut();
    headers.insert(
        "content-type",
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert("cache-control", HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    resp
}

/// What one upstream event becomes for the agent.
#[derive(Debug)]
enum Relayed {
    /// Not a JSON-RPC message: not relayed.
    Skip,
    /// A notification or request from upstream, re-serialized.
    Message(SseEvent),
    /// The answer to the forwarded request: the last event.
    Answer(SseEvent),
    /// An answer to the forwarded request that is not a valid response.
    Invalid(String),
}

/// Relays one SSE answer to the agent, event by event, without buffering the stream.
struct Pump {
    ex: Exchange,
    client_id: Value,
    upstream_id: Value,
    method: String,
    status: u16,
    tx: crate::http::BodySender,
}

impl Pump {
    async fn run(self, mut stream: Box<SseStream>, outcome: Owed) {
        let failure = loop {
            let ev = match stream.next_event().await {
                Ok(Some(ev)) => ev,
                Ok(None) => {
                    break UpstreamError::Protocol("stream ended without a response".into())
                }
                Err(e) => break e,
            };
            let (ev, last) = match self.relay(ev) {
                Relayed::Skip => continue,
                Relayed::Message(ev) => (ev, false),
                Relayed::Answer(ev) => (ev, true),
                Relayed::Invalid(reason) => break UpstreamError::Protocol(reason),
            };
            if !self.send(&ev).await {
                // The agent went away mid-call: stop upstream too.
                drop(stream);
                self.cancel().await;
                return outcome.settle(499);
            }
            if last {
                return outcome.settle(i64::from(self.status));
            }
        };
        drop(stream);
        let refusal = upstream_refusal(&self.client_id, &failure, outcome.decision_id());
        let ev = SseEvent {
            event: Some("message".into()),
            data: refusal.to_string(),
            ..SseEvent::default()
        };
        let _ = self.send(&ev).await;
        self.cancel().await;
        outcome.settle(failure.status());
    }

    /// Classify an upstream event. Its data must be one JSON object (no duplicate keys); igd
    /// relays what it parsed, re-serialized, without upstream's event ids.
    fn relay(&self, ev: SseEvent) -> Relayed {
        let Ok(v) = parse_strict(ev.data.as_bytes()) else {
            tracing::debug!("upstream SSE event without JSON data skipped");
            return Relayed::Skip;
        };
        if !v.is_object() {
            return Relayed::Skip;
        }
        let event = ev.event.filter(|e| !e.is_empty());
        if reply::answers(&v, &self.upstream_id) {
            return match check_response(v, &self.upstream_id) {
                Ok(answer) => Relayed::Answer(SseEvent {
                    event,
                    data: answer
                        .for_client(&self.client_id, self.ex.modern, &self.method)
                        .to_string(),
                    ..SseEvent::default()
                }),
                Err(reason) => Relayed::Invalid(reason),
            };
        }
        if let (Some(h), Some(rid), Some(_)) = (&self.ex.session_hash, v.get("id"), v.get("method"))
        {
            // A request upstream sends the agent: its answer may come back.
            let gw = &self.ex.gw;
            let now = crate::clock::now_secs();
            let expires = now.saturating_add(gw.settings.session_idle_timeout);
            gw.server_requests.note(h, rid, expires, now);
        }
        Relayed::Message(SseEvent {
            event,
            data: v.to_string(),
            ..SseEvent::default()
        })
    }

    /// Send one event to the agent; false when the agent has gone away.
    async fn send(&self, ev: &SseEvent) -> bool {
        self.tx.send(ev.to_bytes().into()).await
    }

    async fn cancel(&self) {
        self.ex
            .gw
            .upstream
            .cancel(&self.ex.route, &self.upstream_id)
            .await;
        tracing::info!(method = %self.method, "upstream request cancelled");
    }
}
