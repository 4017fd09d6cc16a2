//! A `tools/call` that may wait for a person (DESIGN §4 approval), for a client that accepts a
//! stream.
//!
//! The call runs in a task of its own. If it is decided without waiting, its answer is returned
//! as usual. If it starts waiting for an approval, the client is answered at once with a
//! `text/event-stream` that carries a keep-alive comment every 15 s (so no client or proxy read
//! time-out cuts a wait of up to `INTENTGATE_APPROVAL_TIMEOUT`), then the call's answer as one
//! `message` event (or, if upstream streamed, upstream's events). The agent going away drops
//! the task: the approval stays pending for an identical call to re-attach to.

use super::{dispatch, rpc_error, Ctx};
use crate::http::{channel_body, Body};
use crate::jsonrpc;
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::header::{HeaderMap, HeaderValue};
use hyper::Response;
use serde_json::Value;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tracing::Instrument;

/// Between keep-alive comments while a call waits.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Whether the client accepts a `text/event-stream` answer.
pub(super) fn streams(headers: &HeaderMap) -> bool {
    headers
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/event-stream"))
}

/// Aborts the call's task when dropped: the agent went away.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Run the call; answer as usual, or switch to a stream once it waits for a person.
pub(super) async fn run(
    mut ctx: Ctx,
    value: Value,
    id: Value,
    params: Option<Value>,
) -> Response<Body> {
    let (held_tx, mut held_rx) = oneshot::channel::<()>();
    let held_tx = Mutex::new(Some(held_tx));
    ctx.on_hold = Some(Box::new(move || {
        if let Some(tx) = held_tx.lock().ok().and_then(|mut t| t.take()) {
            let _ = tx.send(());
        }
    }));
    let (done_tx, mut done_rx) = oneshot::channel::<Response<Body>>();
    // The task stays in the request's span (its checks are the request's children).
    let task = AbortOnDrop(tokio::spawn(
        async move {
            let resp = dispatch(&ctx, &value, id, "tools/call", params.as_ref()).await;
            let _ = done_tx.send(resp);
        }
        .in_current_span(),
    ));
    tokio::select! {
        biased;
        done = &mut done_rx => answered(done),
        held = &mut held_rx => match held {
            Ok(()) => stream(task, done_rx),
            // The call ended without signalling (it was decided): its answer is on the way.
            Err(_) => answered(done_rx.await),
        },
    }
}

fn answered(done: Result<Response<Body>, oneshot::error::RecvError>) -> Response<Body> {
    done.unwrap_or_else(|_| {
        rpc_error(
            500,
            &Value::Null,
            jsonrpc::REFUSED_AUDIT,
            "the call ended without an answer",
            None,
        )
    })
}

/// The waiting answer: keep-alives, then the call's own answer as events.
fn stream(task: AbortOnDrop, mut done_rx: oneshot::Receiver<Response<Body>>) -> Response<Body> {
    let (tx, body) = channel_body();
    tokio::spawn(async move {
        // Owned here: the client going away ends this loop, which drops (aborts) the call.
        let _task = task;
        let mut tick = tokio::time::interval(KEEP_ALIVE);
        tick.tick().await;
        if !tx
            .send(Bytes::from_static(b": waiting for approval\n\n"))
            .await
        {
            return;
        }
        let resp = loop {
            tokio::select! {
                done = &mut done_rx => break answered(done),
                // The agent went away: drop (abort) the wait now, so an approval given from
                // here on is left for the agent's identical call to use.
                () = tx.closed() => {
                    tracing::info!("agent went away while its call waited for approval; the approval stays");
                    return;
                }
                _ = tick.tick() => {
                    if !tx.send(Bytes::from_static(b": keep-alive\n\n")).await {
                        return;
                    }
                }
            }
        };
        let is_stream = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("text/event-stream"));
        let mut body = resp.into_body();
        if is_stream {
            // Upstream streamed: relay its events as they come.
            while let Some(frame) = body.frame().await {
                match frame {
                    Ok(f) => {
                        if let Ok(data) = f.into_data() {
                            if !tx.send(data).await {
                                return;
                            }
                        }
                    }
                    Err(e) => {
                        tx.abort(&e.to_string()).await;
                        return;
                    }
                }
            }
        } else {
            match body.collect().await {
                Ok(all) => {
                    let json = all.to_bytes();
                    let mut event = Vec::with_capacity(json.len() + 24);
                    event.extend_from_slice(b"event: message\ndata: ");
                    // JSON from serde has no raw newlines; split defensively anyway.
                    for (i, line) in json.split(|b| *b == b'\n').enumerate() {
                        if i > 0 {
                            event.extend_from_slice(b"\ndata: ");
                        }
                        event.extend_from_slice(line);
                    }
                    event.extend_from_slice(b"\n\n");
                    let _ = tx.send(Bytes::from(event)).await;
                }
                Err(e) => tx.abort(&e.to_string()).await,
            }
        }
    });
    let mut resp = Response::new(body);
    let h = resp.headers_mut();
    h.insert(
        "content-type",
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert("cache-control", HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    resp
}
