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

/// Check the JSON-RPC 2.0 shape of one message (batches are refused).
pub fn classify(v: &Value) -> Result<Message, String> {
    let obj = match v {
        Value::Array(_) => return Err("JSON-RPC batches are not supported".into()),
        Value::Object(o) => o,
        _ => return Err("a JSON-RPC message must be an object".into()),
    };
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err("\"jsonrpc\" must be \"2.0\"".into());
    }
    let id = obj.get("id");
    if let Some(id) = id {
        if !(id.is_string() || id.is_i64() || id.is_u64()) {
            return Err("\"id\" must be a string or an integer".into());
        }
    }
    match obj.get("method") {
        Some(Value::String(method)) => {
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
                None => Ok(Message::Notification {
                    method: method.clone(),
                    params,
                }),
            }
        }
        Some(_) => Err("\"method\" must be a string".into()),
        None => {
            let has_result = obj.contains_key("result");
            let has_error = obj.contains_key("error");
            match (id, has_result ^ has_error) {
                (Some(id), true) => Ok(Message::Response { id: id.clone() }),
                _ => Err("not a request, notification or response".into()),
            }
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
        ] {
            assert!(
                classify(&parse_strict(bad.as_bytes()).unwrap()).is_err(),
                "{bad}"
            );
        }
    }
}
