//! What igd accepts from upstream as the answer to a request it sent, and how that answer is
//! turned into the agent's. Upstream is not trusted to be well-formed: an answer is a JSON-RPC
//! response object for the id igd used, with an object `result` or a well-formed `error`;
//! anything else is refused (−31006), never indexed into. Pure code over `serde_json`, so the
//! fuzz target compiles this file on its own.

use serde_json::{json, Map, Value};

/// Results a 2026-era client caches: they must carry `ttlMs` and `cacheScope`.
const CACHEABLE: &[&str] = &[
    "tools/list",
    "prompts/list",
    "resources/list",
    "resources/read",
    "resources/templates/list",
];

/// A checked JSON-RPC response from upstream.
#[derive(Debug, Clone, PartialEq)]
pub struct UpstreamResponse {
    /// `{"result": {…}}` or `{"error": {…}}`; `id` and `jsonrpc` are set on the way out.
    body: Map<String, Value>,
}

/// Whether `v` is meant as the response to `id` (an object carrying that id and a result or
/// an error); other messages on a stream are notifications or requests from upstream.
pub fn answers(v: &Value, id: &Value) -> bool {
    v.get("id") == Some(id) && (v.get("result").is_some() || v.get("error").is_some())
}

/// Check an upstream answer to the request igd sent with `id`. An error with a `null` id is
/// accepted too (JSON-RPC's answer when the server could not read the id).
pub fn check_response(v: Value, id: &Value) -> Result<UpstreamResponse, String> {
    let Value::Object(mut obj) = v else {
        return Err(format!(
            "the answer is a JSON {}, not an object",
            kind_of(&v)
        ));
    };
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err("the answer is not JSON-RPC 2.0".into());
    }
    let result = obj.remove("result");
    let error = obj.remove("error");
    let got_id = obj.get("id").unwrap_or(&Value::Null);
    let id_ok = got_id == id || (got_id.is_null() && error.is_some());
    if !id_ok {
        return Err("the answer is for another request id".into());
    }
    let mut body = Map::new();
    match (result, error) {
        (Some(Value::Object(r)), None) => {
            body.insert("result".into(), Value::Object(r));
        }
        (Some(r), None) => {
            return Err(format!(
                "the result is a JSON {}, not an object",
                kind_of(&r)
            ))
        }
        (None, Some(e)) => {
            body.insert("error".into(), check_error(e)?);
        }
        (Some(_), Some(_)) => return Err("the answer has both a result and an error".into()),
        (None, None) => return Err("the answer has neither a result nor an error".into()),
    }
    Ok(UpstreamResponse { body })
}

/// A JSON-RPC error object: an integer `code`, a string `message`, any `data`.
fn check_error(e: Value) -> Result<Value, String> {
    let Value::Object(e) = e else {
        return Err("the error is not an object".into());
    };
    let code = e.get("code").and_then(Value::as_i64);
    let message = e.get("message").and_then(Value::as_str);
    let (Some(code), Some(message)) = (code, message) else {
        return Err("the error needs an integer code and a string message".into());
    };
    let mut out = json!({"code": code, "message": message});
    if let (Some(data), Some(o)) = (e.get("data"), out.as_object_mut()) {
        o.insert("data".into(), data.clone());
    }
    Ok(out)
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

impl UpstreamResponse {
    /// The result object, unless upstream answered with an error.
    pub fn result(&self) -> Option<&Map<String, Value>> {
        self.body.get("result").and_then(Value::as_object)
    }

    /// The result object, unless upstream answered with an error.
    pub fn result_mut(&mut self) -> Option<&mut Map<String, Value>> {
        self.body.get_mut("result").and_then(Value::as_object_mut)
    }

    pub fn is_error(&self) -> bool {
        self.body.contains_key("error")
    }

    /// Take the result object out (an error answer gives `None`).
    pub fn into_result(mut self) -> Option<Map<String, Value>> {
        match self.body.remove("result") {
            Some(Value::Object(r)) => Some(r),
            _ => None,
        }
    }

    /// The message for the agent: its own id back, and for a 2026-era agent the `resultType`
    /// (and caching fields on cacheable results) that a legacy upstream does not send.
    pub fn for_client(mut self, client_id: &Value, modern: bool, method: &str) -> Value {
        if modern {
            if let Some(r) = self.result_mut() {
                r.entry("resultType").or_insert(json!("complete"));
                if CACHEABLE.contains(&method) {
                    r.entry("ttlMs").or_insert(json!(0));
                    r.entry("cacheScope").or_insert(json!("private"));
                }
            }
        }
        let mut out = Map::with_capacity(3);
        out.insert("jsonrpc".into(), json!("2.0"));
        out.insert("id".into(), client_id.clone());
        out.append(&mut self.body);
        Value::Object(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_answers_pass_and_get_the_client_id() {
        let r = check_response(
            json!({"jsonrpc": "2.0", "id": 5, "result": {"a": 1}}),
            &json!(5),
        )
        .unwrap();
        assert_eq!(
            r.clone().for_client(&json!("c"), false, "tools/call"),
            json!({"jsonrpc": "2.0", "id": "c", "result": {"a": 1}})
        );
        assert_eq!(
            r.for_client(&json!(1), true, "tools/list")["result"],
            json!({"a": 1, "resultType": "complete", "ttlMs": 0, "cacheScope": "private"})
        );
        let e = check_response(
            json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32000, "message": "m", "data": [1], "x": 2}}),
            &json!(5),
        )
        .unwrap();
        assert!(e.is_error());
        assert_eq!(
            e.for_client(&json!(9), true, "tools/call"),
            json!({"jsonrpc": "2.0", "id": 9, "error": {"code": -32000, "message": "m", "data": [1]}})
        );
    }

    #[test]
    fn malformed_answers_are_refused() {
        let id = json!(5);
        for bad in [
            json!([1, 2]),
            json!("text"),
            json!(7),
            json!(null),
            json!({"jsonrpc": "2.0", "id": 5, "result": "x"}),
            json!({"jsonrpc": "2.0", "id": 5, "result": [1]}),
            json!({"jsonrpc": "2.0", "id": 5, "result": null}),
            json!({"jsonrpc": "2.0", "id": 6, "result": {}}),
            json!({"jsonrpc": "2.0", "id": "5", "result": {}}),
            json!({"jsonrpc": "2.0", "id": null, "result": {}}),
            json!({"jsonrpc": "1.0", "id": 5, "result": {}}),
            json!({"id": 5, "result": {}}),
            json!({"jsonrpc": "2.0", "id": 5}),
            json!({"jsonrpc": "2.0", "id": 5, "result": {}, "error": {"code": 1, "message": "m"}}),
            json!({"jsonrpc": "2.0", "id": 5, "error": "boom"}),
            json!({"jsonrpc": "2.0", "id": 5, "error": {"code": "1", "message": "m"}}),
            json!({"jsonrpc": "2.0", "id": 5, "error": {"code": 1.5, "message": "m"}}),
            json!({"jsonrpc": "2.0", "id": 5, "error": {"code": 1}}),
        ] {
            assert!(check_response(bad.clone(), &id).is_err(), "{bad}");
        }
    }
}
