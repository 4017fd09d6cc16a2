//! Server-sent events (the WHATWG `text/event-stream` format) read incrementally from an
//! untrusted upstream: every byte is examined once (a frame never makes the parser rescan what it
//! already saw), an event larger than the cap is refused, and invalid UTF-8 is an error rather
//! than silently replaced. Pure code with no dependencies beyond `std`, so the fuzz target
//! compiles this file on its own.

use std::collections::VecDeque;

/// One server-sent event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    pub event: Option<String>,
    pub id: Option<String>,
    pub data: String,
    pub retry: Option<String>,
}

impl SseEvent {
    /// The event in wire form, ending with its blank line.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = String::with_capacity(self.data.len() + 32);
        // Field values are single lines by construction (the parser splits on line ends);
        // values built by igd never contain line breaks either.
        let mut field = |name: &str, value: &str| {
            out.push_str(name);
            out.push_str(": ");
            out.push_str(value);
            out.push('\n');
        };
        if let Some(e) = &self.event {
            field("event", e);
        }
        if let Some(id) = &self.id {
            field("id", id);
        }
        if let Some(r) = &self.retry {
            field("retry", r);
        }
        for line in self.data.split('\n') {
            field("data", line);
        }
        out.push('\n');
        out.into_bytes()
    }
}

/// Why a stream could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseError {
    /// One event (or one unfinished line) grew beyond the cap.
    EventTooLarge(usize),
    /// A line is not UTF-8.
    InvalidUtf8,
}

impl std::fmt::Display for SseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SseError::EventTooLarge(n) => write!(f, "an SSE event exceeds {n} bytes"),
            SseError::InvalidUtf8 => f.write_str("an SSE line is not valid UTF-8"),
        }
    }
}

/// An incremental parser: [`feed`](Self::feed) bytes as they arrive, take events with
/// [`next_event`](Self::next_event).
#[derive(Debug)]
pub struct SseParser {
    /// Bytes of the unfinished line (everything before it has been consumed).
    line: Vec<u8>,
    /// A `\r` ended the last line; a `\n` starting the next chunk belongs to it.
    after_cr: bool,
    /// The event being assembled.
    current: SseEvent,
    has_field: bool,
    has_data: bool,
    /// Bytes of the event being assembled, for the cap.
    event_bytes: usize,
    max_event: usize,
    ready: VecDeque<SseEvent>,
    /// Bytes examined while looking for line ends (a test hook for the linear-time promise).
    scanned: u64,
}

impl SseParser {
    /// A parser refusing events (and unfinished lines) larger than `max_event` bytes.
    pub fn new(max_event: usize) -> Self {
        SseParser {
            line: Vec::new(),
            after_cr: false,
            current: SseEvent::default(),
            has_field: false,
            has_data: false,
            event_bytes: 0,
            max_event,
            ready: VecDeque::new(),
            scanned: 0,
        }
    }

    /// Bytes examined so far: each fed byte is examined exactly once.
    pub fn bytes_scanned(&self) -> u64 {
        self.scanned
    }

    /// Parse a chunk. After an error the parser must not be used again.
    pub fn feed(&mut self, mut chunk: &[u8]) -> Result<(), SseError> {
        if self.after_cr && !chunk.is_empty() {
            self.after_cr = false;
            if let Some(rest) = chunk.strip_prefix(b"\n") {
                self.scanned += 1;
                chunk = rest;
            }
        }
        while let Some(pos) = chunk.iter().position(|&b| b == b'\n' || b == b'\r') {
            self.scanned += pos as u64 + 1;
            let (head, rest) = chunk.split_at(pos);
            let mut rest = &rest[1..];
            if chunk[pos] == b'\r' {
                match rest.first() {
                    Some(b'\n') => {
                        self.scanned += 1;
                        rest = &rest[1..];
                    }
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
            if self.line.is_empty() {
                self.take_line(head)?;
            } else {
                self.grow_line(head)?;
                let line = std::mem::take(&mut self.line);
                self.take_line(&line)?;
            }
            chunk = rest;
        }
        self.scanned += chunk.len() as u64;
        self.grow_line(chunk)
    }

    /// The next complete event, if one has been parsed.
    pub fn next_event(&mut self) -> Option<SseEvent> {
        self.ready.pop_front()
    }

    fn grow_line(&mut self, bytes: &[u8]) -> Result<(), SseError> {
        if self.event_bytes + self.line.len() + bytes.len() > self.max_event {
            return Err(SseError::EventTooLarge(self.max_event));
        }
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    fn take_line(&mut self, line: &[u8]) -> Result<(), SseError> {
        self.event_bytes += line.len() + 1;
        if self.event_bytes > self.max_event {
            return Err(SseError::EventTooLarge(self.max_event));
        }
        if line.is_empty() {
            self.dispatch();
            return Ok(());
        }
        let line = std::str::from_utf8(line).map_err(|_| SseError::InvalidUtf8)?;
        if line.starts_with(':') {
            return Ok(());
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        self.has_field = true;
        match field {
            "event" => self.current.event = Some(value.to_string()),
            "id" if !value.contains('\0') => self.current.id = Some(value.to_string()),
            "retry" => self.current.retry = Some(value.to_string()),
            "data" => {
                if self.has_data {
                    self.current.data.push('\n');
                }
                self.current.data.push_str(value);
                self.has_data = true;
            }
            _ => {}
        }
        Ok(())
    }

    fn dispatch(&mut self) {
        let ev = std::mem::take(&mut self.current);
        if self.has_field {
            self.ready.push_back(ev);
        }
        self.has_field = false;
        self.has_data = false;
        self.event_bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(chunks: &[&[u8]]) -> Result<Vec<SseEvent>, SseError> {
        let mut p = SseParser::new(1 << 20);
        let mut out = Vec::new();
        for c in chunks {
            p.feed(c)?;
            while let Some(ev) = p.next_event() {
                out.push(ev);
            }
        }
        Ok(out)
    }

    #[test]
    fn fields_comments_and_line_ends() {
        let evs = parse_all(&[b"event: message\nid: 7\ndata: {\"a\":1}\n: comment\n\n"]).unwrap();
        assert_eq!(
            evs,
            vec![SseEvent {
                event: Some("message".into()),
                id: Some("7".into()),
                data: "{\"a\":1}".into(),
                retry: None
            }]
        );
        // CRLF, lone CR, multi-line data, no space after the colon, a bare field name.
        let evs = parse_all(&[b"data:a\r\ndata: b\r\rdata\n\n: only a comment\n\n"]).unwrap();
        assert_eq!(evs.len(), 2);
        assert_eq!(evs[0].data, "a\nb");
        assert_eq!(evs[1].data, "");
        // The wire form parses back to the same event.
        let ev = SseEvent {
            event: Some("message".into()),
            id: Some("1".into()),
            data: "x\ny".into(),
            retry: Some("10".into()),
        };
        assert_eq!(parse_all(&[&ev.to_bytes()]).unwrap(), vec![ev]);
    }

    #[test]
    fn any_split_of_the_stream_gives_the_same_events() {
        let stream: &[u8] =
            b"data: one\r\n\r\nevent: e\rdata: two\r\rid: 3\ndata: {\"x\":[1,2]}\n\n: c\n\n";
        let whole = parse_all(&[stream]).unwrap();
        assert_eq!(whole.len(), 3);
        for cut in 0..stream.len() {
            let (a, b) = stream.split_at(cut);
            assert_eq!(parse_all(&[a, b]).unwrap(), whole, "split at {cut}");
        }
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(parse_all(&bytes).unwrap(), whole);
    }

    #[test]
    fn oversized_events_and_bad_utf8_are_errors() {
        let mut p = SseParser::new(16);
        assert_eq!(p.feed(b"data: 0123456789"), Ok(()));
        assert_eq!(p.feed(b"abcdef"), Err(SseError::EventTooLarge(16)));
        // Many short lines add up to one event too large.
        let mut p = SseParser::new(16);
        assert_eq!(
            p.feed(b"data: a\ndata: b\ndata: c\n"),
            Err(SseError::EventTooLarge(16))
        );
        // Small events one after another are fine forever.
        let mut p = SseParser::new(16);
        for _ in 0..1000 {
            p.feed(b"data: a\n\n").unwrap();
            assert!(p.next_event().is_some());
        }
        let mut p = SseParser::new(1024);
        assert_eq!(p.feed(b"data: \xff\n"), Err(SseError::InvalidUtf8));
    }

    /// Many small frames, and one large event arriving a byte at a time: every byte is examined
    /// once, so the work is linear in the input (a parser that rescans its buffer on every
    /// frame examines O(n²) bytes here).
    #[test]
    fn parsing_is_linear_in_the_input() {
        let frames = 20_000usize;
        let mut p = SseParser::new(1 << 24);
        let mut fed = 0u64;
        let mut events = 0;
        for i in 0..frames {
            let frame =
                format!("data: {{\"jsonrpc\":\"2.0\",\"method\":\"n\",\"params\":{i}}}\n\n");
            // Half of each frame now, the rest with the next one: no frame ends on an event.
            let (a, b) = frame.as_bytes().split_at(frame.len() / 2);
            p.feed(a).unwrap();
            p.feed(b).unwrap();
            fed += frame.len() as u64;
            while p.next_event().is_some() {
                events += 1;
            }
        }
        assert_eq!(events, frames);
        assert!(p.bytes_scanned() <= fed, "{} > {fed}", p.bytes_scanned());

        let mut p = SseParser::new(1 << 24);
        let big = format!("data: {}\n\n", "x".repeat(200_000));
        for b in big.as_bytes() {
            p.feed(std::slice::from_ref(b)).unwrap();
        }
        assert_eq!(p.next_event().map(|e| e.data.len()), Some(200_000));
        assert!(p.bytes_scanned() <= big.len() as u64);
    }
}
