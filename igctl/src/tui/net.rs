//! The approvals TUI's network side: following igd's server-sent queue changes (reconnecting
//! with backoff when the stream ends) and sending decisions. Everything it learns becomes an
//! [`Event`] on the UI's channel; it never touches the screen.

use super::app::Event;
use crate::client::{Client, EventStream};
use crate::error::CliError;
use hyper::Method;
use intentgate_proto::api::{Approval, ApprovalEvent, DecideRequest};
use std::time::Duration;
use tokio::sync::mpsc;

pub const STREAM_PATH: &str = "/v1/admin/approvals/stream";
/// igd sends a keep-alive comment every 15 s: three missed mean the connection is gone.
const IDLE: Duration = Duration::from_secs(45);
const MIN_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// One event larger than this is refused (a snapshot of 10 000 rows with their arguments fits).
const MAX_EVENT_BYTES: usize = 64 * 1024 * 1024;

/// `POST /v1/admin/approvals/{id}/decide`.
pub async fn decide(
    client: &Client,
    id: &str,
    request: &DecideRequest,
) -> Result<Approval, CliError> {
    let path = format!("/v1/admin/approvals/{}/decide", crate::encode_query(id));
    client.call(Method::POST, &path, Some(request)).await
}

/// Follow the queue until the UI goes away: read `first` (an already open stream) or open
/// one, forward its events, and after it ends wait 1 s, doubling to 10 s, before the next try
/// (reset once a snapshot arrives). Each new connection starts with a fresh snapshot.
pub async fn follow(client: Client, mut first: Option<EventStream>, tx: mpsc::Sender<Event>) {
    let mut backoff = MIN_BACKOFF;
    loop {
        let opened = match first.take() {
            Some(stream) => Ok(stream),
            None => client.event_stream(STREAM_PATH).await,
        };
        let error = match opened {
            Err(e) => e.message,
            Ok(mut stream) => match forward(&mut stream, &tx, &mut backoff).await {
                Some(why) => why,
                None => return,
            },
        };
        let gone = tx
            .send(Event::Disconnected {
                error,
                retry_in: backoff,
            })
            .await
            .is_err();
        if gone {
            return;
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Forward one connection's events; why it ended, or `None` when the UI is gone.
async fn forward(
    stream: &mut EventStream,
    tx: &mpsc::Sender<Event>,
    backoff: &mut Duration,
) -> Option<String> {
    let mut parser = SseParser::default();
    loop {
        let chunk = match tokio::time::timeout(IDLE, stream.next_chunk()).await {
            Err(_) => return Some(format!("no word from igd for {} s", IDLE.as_secs())),
            Ok(None) => return Some("igd closed the stream".to_string()),
            Ok(Some(Err(e))) => return Some(e.message),
            Ok(Some(Ok(chunk))) => chunk,
        };
        let messages = match parser.push(&chunk) {
            Ok(m) => m,
            Err(e) => return Some(e),
        };
        for message in messages {
            let Some(event) = to_event(&message) else {
                continue;
            };
            if matches!(event, Event::Snapshot(_)) {
                *backoff = MIN_BACKOFF;
            }
            if tx.send(event).await.is_err() {
                return None;
            }
        }
    }
}

/// An `approval` event's data as a UI event; anything else (a future event type) is skipped.
fn to_event(message: &SseMessage) -> Option<Event> {
    if message.event != "approval" && message.event != "message" {
        return None;
    }
    match serde_json::from_str::<ApprovalEvent>(&message.data).ok()? {
        ApprovalEvent::Snapshot { approvals } => Some(Event::Snapshot(approvals)),
        ApprovalEvent::Approval { approval } => Some(Event::Changed(approval)),
    }
}

/// One dispatched server-sent event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseMessage {
    /// `message` when the event named none.
    pub event: String,
    pub data: String,
}

/// The WHATWG `text/event-stream` format, fed in arbitrary chunks: `event:` and `data:`
/// fields (several `data:` lines join with `\n`), `:` comments (keep-alives) skipped, a blank
/// line dispatches. Lines end in `\n` or `\r\n`.
#[derive(Debug, Default)]
pub struct SseParser {
    line: Vec<u8>,
    event: String,
    data: String,
    has_data: bool,
}

impl SseParser {
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<SseMessage>, String> {
        let mut out = Vec::new();
        for &byte in chunk {
            if byte == b'\n' {
                let mut line = std::mem::take(&mut self.line);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                self.line_done(&String::from_utf8_lossy(&line), &mut out);
            } else {
                self.line.push(byte);
                if self.line.len() + self.data.len() > MAX_EVENT_BYTES {
                    return Err(format!(
                        "igd sent an event over {} MiB",
                        MAX_EVENT_BYTES / (1024 * 1024)
                    ));
                }
            }
        }
        Ok(out)
    }

    fn line_done(&mut self, line: &str, out: &mut Vec<SseMessage>) {
        if line.is_empty() {
            if self.has_data {
                let event = std::mem::take(&mut self.event);
                out.push(SseMessage {
                    event: if event.is_empty() {
                        "message".to_string()
                    } else {
                        event
                    },
                    data: std::mem::take(&mut self.data),
                });
            }
            self.event.clear();
            self.has_data = false;
            return;
        }
        if line.starts_with(':') {
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => self.event = value.to_string(),
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Endpoint;
    use crate::tui::app::tests::row;
    use intentgate_proto::api::ErrorCode;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn sse_frames_split_anywhere() {
        let text = b": keep-alive\n\nevent: approval\ndata: {\"a\":\r\ndata: 1}\r\n\r\n: keep-alive\n\ndata: x\n\n";
        for cut in 0..text.len() {
            let mut parser = SseParser::default();
            let mut got = parser.push(&text[..cut]).unwrap();
            got.extend(parser.push(&text[cut..]).unwrap());
            assert_eq!(
                got,
                vec![
                    SseMessage {
                        event: "approval".into(),
                        data: "{\"a\":\n1}".into()
                    },
                    SseMessage {
                        event: "message".into(),
                        data: "x".into()
                    }
                ],
                "cut at {cut}"
            );
        }
    }

    fn sse(event: &ApprovalEvent) -> String {
        format!(
            "event: approval\ndata: {}\n\n",
            serde_json::to_string(event).unwrap()
        )
    }

    /// A one-request-per-connection HTTP server on a Unix socket, answering each connection
    /// with the next canned response and closing.
    async fn serve(listener: tokio::net::UnixListener, answers: Vec<String>) {
        for answer in answers {
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = conn.read(&mut buf).await.unwrap();
                assert!(n > 0);
                head.extend_from_slice(&buf[..n]);
            }
            assert!(head.starts_with(b"GET /v1/admin/approvals/stream "));
            conn.write_all(answer.as_bytes()).await.unwrap();
            conn.shutdown().await.unwrap();
        }
    }

    async fn next(rx: &mut mpsc::Receiver<Event>) -> Event {
        tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .unwrap()
            .unwrap()
    }

    fn ok_stream(body: &str) -> String {
        format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n{body}"
        )
    }

    #[tokio::test]
    async fn the_stream_is_followed_across_restarts() {
        let dir = std::env::temp_dir().join(format!("igctl-sse-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let socket = dir.join("admin.sock");
        let _ = std::fs::remove_file(&socket);
        let listener = tokio::net::UnixListener::bind(&socket).unwrap();
        let first = row("apr_1", "wire", 60, true);
        let mut decided = first.clone();
        decided.status = "approved".into();
        let denied = r#"{"error":{"code":"forbidden","message":"viewer cannot watch"}}"#;
        let answers = vec![
            ok_stream(&format!(
                ": keep-alive\n\n{}{}",
                sse(&ApprovalEvent::Snapshot {
                    approvals: vec![first.clone()]
                }),
                sse(&ApprovalEvent::Approval { approval: decided })
            )),
            format!(
                "HTTP/1.1 403 Forbidden\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{denied}",
                denied.len()
            ),
            ok_stream(&sse(&ApprovalEvent::Snapshot { approvals: vec![] })),
        ];
        let server = tokio::spawn(serve(listener, answers));
        let client = Client::new(Endpoint::Socket(socket.clone())).unwrap();
        let (tx, mut rx) = mpsc::channel(16);
        let follower = tokio::spawn(follow(client, None, tx));
        assert!(
            matches!(next(&mut rx).await, Event::Snapshot(rows) if rows == vec![first.clone()])
        );
        assert!(matches!(next(&mut rx).await, Event::Changed(r) if r.status == "approved"));
        match next(&mut rx).await {
            Event::Disconnected { error, retry_in } => {
                assert_eq!(error, "igd closed the stream");
                assert_eq!(retry_in, Duration::from_secs(1));
            }
            other => panic!("{other:?}"),
        }
        match next(&mut rx).await {
            Event::Disconnected { error, retry_in } => {
                assert_eq!(error, "viewer cannot watch");
                assert_eq!(retry_in, Duration::from_secs(2), "backoff doubles");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(next(&mut rx).await, Event::Snapshot(rows) if rows.is_empty()));
        follower.abort();
        server.await.unwrap();
        // An error answer on the first connection maps to igctl's error codes.
        let listener = {
            let _ = std::fs::remove_file(&socket);
            tokio::net::UnixListener::bind(&socket).unwrap()
        };
        let answer = format!(
            "HTTP/1.1 403 Forbidden\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{denied}",
            denied.len()
        );
        let server = tokio::spawn(serve(listener, vec![answer]));
        let client = Client::new(Endpoint::Socket(socket.clone())).unwrap();
        let e = client.event_stream(STREAM_PATH).await.unwrap_err();
        assert_eq!((e.code, e.exit_code()), (ErrorCode::Forbidden, 4));
        server.await.unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
