//! HTTP plumbing shared by the listeners: the response body type and small helpers.

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::Response;
use serde::Serialize;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Every response body igd sends: whole buffers or relayed streams.
pub type Body = BoxBody<Bytes, std::io::Error>;

/// A body from bytes.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// A JSON response with the given status.
pub fn json_response<T: Serialize>(status: u16, value: &T) -> Response<Body> {
    let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    let mut resp = Response::new(full(body));
    *resp.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// Why a request body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("request body exceeds {0} bytes")]
    TooLarge(usize),
    /// The client did not send the whole body before the body deadline (answer 408).
    #[error("request body not received within {0} ms")]
    TimedOut(u64),
    #[error("cannot read request body: {0}")]
    Read(String),
}

/// Read a whole request body, refusing more than `limit` bytes.
pub async fn read_body<B>(body: B, limit: usize) -> Result<Bytes, BodyError>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    match http_body_util::Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) => {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                Err(BodyError::TooLarge(limit))
            } else if let Some(t) = e
                .downcast_ref::<RequestBodyError>()
                .and_then(RequestBodyError::deadline)
            {
                Err(BodyError::TimedOut(t.0))
            } else {
                Err(BodyError::Read(e.to_string()))
            }
        }
    }
}

/// The body deadline passed (the value: the deadline in milliseconds).
#[derive(Debug, thiserror::Error)]
#[error("request body not received within {0} ms")]
pub struct BodyDeadline(pub u64);

/// Why reading a [`RequestBody`] failed.
#[derive(Debug, thiserror::Error)]
pub enum RequestBodyError {
    #[error(transparent)]
    Transport(#[from] hyper::Error),
    #[error(transparent)]
    Deadline(#[from] BodyDeadline),
}

impl RequestBodyError {
    fn deadline(&self) -> Option<&BodyDeadline> {
        match self {
            RequestBodyError::Deadline(d) => Some(d),
            RequestBodyError::Transport(_) => None,
        }
    }
}

/// A request body that must arrive whole before a deadline set when its head was read.
/// Threat: a client trickling a body one byte at a time holds its handler and connection open.
pub struct RequestBody {
    inner: Incoming,
    deadline: tokio::time::Instant,
    timeout_ms: u64,
    /// Created on the first wait only: most bodies are already buffered when read.
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl RequestBody {
    pub fn new(inner: Incoming, timeout: std::time::Duration) -> Self {
        RequestBody {
            inner,
            deadline: tokio::time::Instant::now() + timeout,
            timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
            timer: None,
        }
    }
}

impl std::fmt::Debug for RequestBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RequestBody")
    }
}

impl hyper::body::Body for RequestBody {
    type Data = Bytes;
    type Error = RequestBodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => Poll::Ready(frame.map(|r| r.map_err(RequestBodyError::from))),
            Poll::Pending => {
                let deadline = this.deadline;
                let timer = this
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                if timer.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Some(Err(BodyDeadline(this.timeout_ms).into())));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

/// A response body that holds a value (a connection's in-flight marker) until it is done.
pub struct Holding<T> {
    inner: Body,
    _held: T,
}

impl<T> std::fmt::Debug for Holding<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Holding")
    }
}

impl<T: Send + Sync + Unpin + 'static> Holding<T> {
    /// `resp` with `held` dropped only when its body has been sent or abandoned.
    pub fn attach(resp: Response<Body>, held: T) -> Response<Body> {
        resp.map(|inner| Holding { inner, _held: held }.boxed())
    }
}

impl<T: Unpin> hyper::body::Body for Holding<T> {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

/// A streamed response body fed through a channel. When the client goes away hyper drops the
/// body, and the sender's next `send` fails: that is how a relay learns of a disconnect.
pub struct ChannelBody {
    rx: tokio::sync::mpsc::Receiver<std::io::Result<Bytes>>,
}

impl std::fmt::Debug for ChannelBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChannelBody")
    }
}

impl hyper::body::Body for ChannelBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        self.rx
            .poll_recv(cx)
            .map(|item| item.map(|r| r.map(hyper::body::Frame::data)))
    }
}

/// Feeds a streaming body: chunks, then either the end (drop it) or an abort.
#[derive(Debug, Clone)]
pub struct BodySender {
    tx: tokio::sync::mpsc::Sender<std::io::Result<Bytes>>,
}

impl BodySender {
    /// Send a chunk; false once the client has gone.
    pub async fn send(&self, chunk: Bytes) -> bool {
        self.tx.send(Ok(chunk)).await.is_ok()
    }

    /// Resolves once the client has gone (the body was dropped).
    pub async fn closed(&self) {
        self.tx.closed().await;
    }

    /// End the body with an error: the connection is cut before the final chunk, so the client
    /// sees a failed transfer, never a short answer that looks complete.
    pub async fn abort(self, reason: &str) {
        let _ = self
            .tx
            .send(Err(std::io::Error::other(reason.to_string())))
            .await;
    }
}

/// A streaming body and the sender that feeds it.
pub fn channel_body() -> (BodySender, Body) {
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    (BodySender { tx }, ChannelBody { rx }.boxed())
}

/// The client's address: the peer, or — when the peer is one of `trusted_proxies` — the
/// right-most `X-Forwarded-For` hop that is not itself a trusted proxy (the address the
/// nearest trusted proxy saw). Hops a client wrote to the left of it are never believed.
pub fn client_ip(
    trusted_proxies: &[std::net::IpAddr],
    headers: &hyper::HeaderMap,
    peer: std::net::IpAddr,
) -> std::net::IpAddr {
    if !trusted_proxies.contains(&peer) {
        return peer;
    }
    let hops: Vec<std::net::IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    hops.into_iter()
        .rev()
        .find(|ip| !trusted_proxies.contains(ip))
        .unwrap_or(peer)
}
