//! Fuzz what igd reads from the wire on the relay path: the SSE parser (arbitrary bytes in
//! arbitrary chunks), strict JSON parsing and JSON-RPC classification of each event and of
//! the whole input as a body, and the checks on upstream answers. Nothing may panic; the SSE
//! parser examines each byte once and gives the same events however the input is split.
#![no_main]

#[allow(dead_code)]
#[path = "../../src/jsonrpc.rs"]
mod jsonrpc;
#[allow(dead_code)]
#[path = "../../src/upstream/reply.rs"]
mod reply;
#[allow(dead_code)]
#[path = "../../src/upstream/sse.rs"]
mod sse;

use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

/// Everything igd does with one upstream message.
fn handle_message(bytes: &[u8]) {
    let Ok(v) = jsonrpc::parse_strict(bytes) else {
        return;
    };
    let _ = jsonrpc::classify(&v);
    for id in [json!(1), json!("1"), Value::Null] {
        if reply::answers(&v, &id) {
            if let Ok(answer) = reply::check_response(v.clone(), &id) {
                let _ = answer.is_error();
                let out = answer.clone().for_client(&json!(7), true, "tools/list");
                assert!(out.is_object());
                let _ = answer.into_result();
            }
        }
    }
}

/// Parse `data` fed in chunks of `chunk` bytes; `None` if the parser refused it.
fn events(data: &[u8], chunk: usize, cap: usize) -> Option<Vec<sse::SseEvent>> {
    let mut p = sse::SseParser::new(cap);
    let mut out = Vec::new();
    for c in data.chunks(chunk) {
        p.feed(c).ok()?;
        while let Some(ev) = p.next_event() {
            out.push(ev);
        }
    }
    assert!(p.bytes_scanned() <= data.len() as u64, "a byte was examined twice");
    Some(out)
}

fuzz_target!(|input: &[u8]| {
    let Some((&selector, data)) = input.split_first() else {
        return;
    };
    handle_message(data);
    let chunked = events(data, usize::from(selector % 64) + 1, 4096);
    let whole = events(data, data.len().max(1), 4096);
    if let (Some(a), Some(b)) = (&chunked, &whole) {
        assert_eq!(a, b, "events depend on how the stream was split");
    }
    for ev in chunked.unwrap_or_default() {
        handle_message(ev.data.as_bytes());
        // What igd sends on parses back to the same event.
        let again = events(&ev.to_bytes(), 4096, 1 << 20).unwrap_or_default();
        assert_eq!(again.first().map(|e| &e.data), Some(&ev.data));
    }
});
