//! JSON-RPC 2.0 framing for MCP: strict parsing (duplicate keys refused), message shapes, and the
//! error objects igd answers with.

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{json, Map, Value};
use std::fmt;

pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;
pub const HEADER_MISMATCH: i64 = -32020;
pub const UNSUPPORTED_VERSION: i64 = -32022;

/// igd's refusal codes, outside the spec's reserved range (DESIGN §2).
pub const REFUSED_CAPABILITY: i64 = -31001;
pub const REFUSED_POLICY: i64 = -31002;
pub const REFUSED_BUDGET: i64 = -31003;
pub const REFUSED_APPROVAL: i64 = -31004;
pub const REFUSED_AUDIT: i64 = -31005;
pub const REFUSED_UPSTREAM: i64 = -31006;

/// JSON value whose objects may not repeat a key (serde_json silently keeps the last one, which
/// would let a body mean one thing to igd and another to upstream).
struct StrictValue(Value);

impl<'de> serde::Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("number out of range"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(StrictValue(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let StrictValue(v) = map.next_value()?;
            if out.insert(key.clone(), v).is_some() {
                return Err(de::Error::custom(format!("duplicate key {key:?}")));
            }
        }
        Ok(Value::Object(out))
    }
}

/// Parse JSON, refusing duplicate keys anywhere.
pub fn parse_strict(bytes: &[u8]) -> Result<Value, String> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let StrictValue(v) = serde::Deserialize::deserialize(&mut de).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(v)
}

/// What a client sent.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    Request {
        id: Value,
        method: String,
        params: Option<Value>,
    },
    Notification {
        method: String,
        params: Option<Value>,
    },
    Response {
        id: Value,
    },
}

impl Message {
    pub fn method(&self) -> Option<&str> {
        match self {
            Message::Request { method, .. } | Message::Notification { method, .. } => Some(method),
            Message::Response { .. } => None,
        }
    }

    pub fn params(&self) -> Option<&Value> {
        match self {
            Message::Request { params, .. } | Message::Notification { params, .. } => {
                params.as_ref()
            }
            Message::Response { .. } => None,
        }
    }
}

/// Members a JSON-RPC 2.0 message may carry; anything else is refused, so what igd checked is
/// all that upstream can see.
const MEMBERS: &[&str] = &["jsonrpc", "id", "method", "params", "result", "error"];

/// Check the JSON-RPC 2.0 shape of one message (batches are refused).
///
/// Only methods under `notifications/` may come without an id: any other request without one, or
/// with `"id": null`, is refused rather than taken for a notification (it would skip the pipeline).
pub fn classify(v: &Value) -> Result<Message, String> {
    let obj = match v {
        Value::Array(_) => return Err("JSON-RPC batches are not supported".into()),
        Value::Object(o) => o,
        _ => return Err("a JSON-RPC message must be an object".into()),
    };
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err("\"jsonrpc\" must be \"2.0\"".into());
    }
    if let Some(unknown) = obj.keys().find(|k| !MEMBERS.contains(&k.as_str())) {
        return Err(format!(
            "unknown member {:?} in a JSON-RPC message",
            printable_prefix(unknown, 32)
        ));
    }
    let id = obj.get("id");
    if let Some(id) = id {
        if !(id.is_string() || id.is_i64() || id.is_u64()) {
            return Err("\"id\" must be a string or an integer".into());
        }
    }
    let has_result = obj.contains_key("result");
    let has_error = obj.contains_key("error");
    match obj.get("method") {
        Some(Value::String(method)) => {
            if has_result || has_error {
                return Err("a message with a method cannot carry a result or an error".into());
            }
            let params = obj.get("params").cloned();
            if let Some(p) = &params {
                if !p.is_object() {
                    return Err("\"params\" must be an object".into());
                }
            }
            match id {
                Some(id) => Ok(Message::Request {
                    id: id.clone(),
                    method: method.clone(),
                    params,
                }),
                None if is_notification(method) => Ok(Message::Notification {
                    method: method.clone(),
                    params,
                }),
                None => Err(
                    "a request without an id is not a notification (only methods under notifications/ may omit it)"
                        .into(),
                ),
            }
        }
        Some(_) => Err("\"method\" must be a string".into()),
        None => {
            if obj.contains_key("params") {
                return Err("a response cannot carry params".into());
            }
            match (id, has_result ^ has_error) {
                (Some(id), true) => Ok(Message::Response { id: id.clone() }),
                _ => Err("not a request, notification or response".into()),
            }
        }
    }
}

/// Whether a method is a notification's (`notifications/` and nothing that could read as another
/// method to a lenient upstream, such as `notifications/../tools/call`).
pub fn is_notification(method: &str) -> bool {
    method.strip_prefix("notifications/").is_some_and(|rest| {
        rest.split('/').all(|seg| {
            !seg.is_empty()
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
    })
}

/// Longest method or tool name accepted, in bytes (DESIGN §2).
pub const MAX_NAME_BYTES: usize = 256;

/// Characters that print nothing or move the cursor: control characters (C0, DEL, C1) and the
/// invisible format and separator characters (bidi overrides, zero-width, line separators).
fn unprintable(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{ad}' | '\u{61c}' | '\u{180e}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}')
}

/// Why a method or tool name is refused: longer than [`MAX_NAME_BYTES`], empty, or holding a
/// character that does not print.
pub fn name_problem(name: &str) -> Option<String> {
    if name.len() > MAX_NAME_BYTES {
        Some(format!(
            "{} bytes, longer than {MAX_NAME_BYTES}",
            name.len()
        ))
    } else if name.is_empty() {
        Some("empty".into())
    } else if name.chars().any(unprintable) {
        Some("contains characters that do not print".into())
    } else {
        None
    }
}

/// Why a method name is refused: a bad name (see [`name_problem`]), or not `/`-separated
/// segments of letters, digits, `_`, `-` and `.` (a `.` or `..` segment, an empty one, spaces
/// and the like could make a method read as another to a lenient upstream).
pub fn method_problem(method: &str) -> Option<String> {
    if let Some(p) = name_problem(method) {
        return Some(p);
    }
    let ok = method.split('/').all(|seg| {
        !seg.is_empty()
            && seg != "."
            && seg != ".."
            && seg
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    });
    (!ok).then(|| "not /-separated segments of letters, digits, '_', '-' and '.'".into())
}

/// At most `max` bytes of `s` (whole characters), unprintable characters replaced by U+FFFD and
/// an ellipsis when something was cut: safe to store and to show on a terminal.
pub fn printable_prefix(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(max.min(s.len()) + 3);
    for c in s.chars() {
        let c = if unprintable(c) { '\u{fffd}' } else { c };
        if out.len() + c.len_utf8() > max {
            out.push('…');
            return out;
        }
        out.push(c);
    }
    out
}

/// What an audit entry may hold of a name taken from a request: the name itself when it is
/// acceptable, else a short printable prefix plus a note with its size and the SHA-256 of the
/// original (so the refusal is recorded without storing what was refused).
pub fn recordable_name(name: &str) -> (String, Option<String>) {
    match name_problem(name) {
        None => (name.to_string(), None),
        Some(problem) => {
            use sha2::{Digest, Sha256};
            let digest = hex::encode(Sha256::digest(name.as_bytes()));
            (
                printable_prefix(name, 64),
                Some(format!("{problem}; sha256 {digest}")),
            )
        }
    }
}

/// A JSON-RPC error message.
pub fn error(id: &Value, code: i64, message: &str, data: Option<Value>) -> Value {
    let mut err = json!({ "code": code, "message": message });
    if let Some(d) = data {
        err["data"] = d;
    }
    json!({ "jsonrpc": "2.0", "id": id, "error": err })
}

/// A JSON-RPC result message.
pub fn result(id: &Value, result: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "result": result })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_refused_at_any_depth() {
        assert!(parse_strict(br#"{"a":1,"a":2}"#).is_err());
        assert!(parse_strict(br#"{"p":{"name":"x","name":"y"}}"#).is_err());
        assert!(parse_strict(br#"[{"k":1},{"k":1}]"#).is_ok());
        assert!(parse_strict(br#"{"a":1} x"#).is_err());
    }

    #[test]
    fn shapes() {
        let req = parse_strict(br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#).unwrap();
        assert!(matches!(classify(&req), Ok(Message::Request { .. })));
        let note =
            parse_strict(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).unwrap();
        assert!(matches!(classify(&note), Ok(Message::Notification { .. })));
        let resp = parse_strict(br#"{"jsonrpc":"2.0","id":"a","result":{}}"#).unwrap();
        assert!(matches!(classify(&resp), Ok(Message::Response { .. })));
        for bad in [
            r#"[]"#,
            r#"{"id":1,"method":"x"}"#,
            r#"{"jsonrpc":"2.0","id":1.5,"method":"x"}"#,
            r#"{"jsonrpc":"2.0","id":null,"method":"x"}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":3}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"x","params":[1]}"#,
            r#"{"jsonrpc":"2.0","id":1,"result":{},"error":{}}"#,
            r#""text""#,
            // Only notifications may come without an id; `"id": null` is no notification either.
            r#"{"jsonrpc":"2.0","method":"tools/call","params":{"name":"x"}}"#,
            r#"{"jsonrpc":"2.0","id":null,"method":"tools/call","params":{"name":"x"}}"#,
            r#"{"jsonrpc":"2.0","id":null,"method":"notifications/initialized"}"#,
            r#"{"jsonrpc":"2.0","method":"notifications/../tools/call"}"#,
            r#"{"jsonrpc":"2.0","method":"notifications/"}"#,
            r#"{"jsonrpc":"2.0","method":"Notifications/initialized"}"#,
            r#"{"jsonrpc":"2.0","method":"notifications/initialized "}"#,
            r#"{"jsonrpc":"2.0","id":true,"method":"x"}"#,
            r#"{"jsonrpc":"2.0","id":{"a":1},"method":"x"}"#,
            r#"{"jsonrpc":"2.0","id":18446744073709551616,"method":"x"}"#,
            r#"{"jsonrpc":"2.0","id":null,"result":{}}"#,
            r#"{"jsonrpc":"2.0","result":{}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"x","result":{}}"#,
            r#"{"jsonrpc":"2.0","id":1,"result":{},"params":{}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"x","extra":1}"#,
        ] {
            assert!(
                classify(&parse_strict(bad.as_bytes()).unwrap()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn names() {
        use sha2::Digest as _;
        assert_eq!(name_problem("tools/call"), None);
        assert_eq!(name_problem(&"a".repeat(256)), None);
        assert_eq!(name_problem("caf\u{e9}"), None);
        assert!(name_problem(&"a".repeat(257)).is_some());
        assert!(name_problem("").is_some());
        for bad in [
            "a\u{1b}]0;x\u{7}",
            "a\nb",
            "a\u{7f}",
            "a\u{9b}",
            "a\u{202e}b",
            "a\u{200b}",
        ] {
            assert!(name_problem(bad).is_some(), "{bad:?}");
        }
        let long = "\u{e9}".repeat(600);
        let (kept, note) = recordable_name(&long);
        assert!(kept.len() <= 64 + '…'.len_utf8(), "{kept}");
        assert!(kept.ends_with('…'));
        let note = note.unwrap();
        assert!(note.contains("1200 bytes"), "{note}");
        assert!(note.contains(&hex::encode(sha2::Sha256::digest(long.as_bytes()))));
        assert_eq!(recordable_name("echo"), ("echo".to_string(), None));
        assert_eq!(printable_prefix("a\u{1b}[31mb", 64), "a\u{fffd}[31mb");
        assert!(is_notification("notifications/roots/list_changed"));
        assert!(!is_notification("notifications/a//b"));
        assert!(!is_notification("notifications/./x"));
        assert_eq!(method_problem("resources/templates/list"), None);
        assert_eq!(method_problem("logging/setLevel"), None);
        for bad in [
            "resources/../tools/call",
            "tools/call ",
            " tools/call",
            "tools//call",
            "tools/call\t",
            "/tools/call",
        ] {
            assert!(method_problem(bad).is_some(), "{bad:?}");
        }
    }
}
