//! The wire details of `/v1/mcp` shared by its parts: the protocol versions served, JSON-RPC
//! answers as HTTP responses, headers, and the name a gated method acts on.

use crate::http::{full, json_response, Body};
use crate::jsonrpc;
use crate::pipeline::Refusal;
use bytes::Bytes;
use hyper::header::HeaderMap;
use hyper::{Response, StatusCode};
use serde_json::Value;

/// Protocol versions served, oldest first.
pub const SUPPORTED_VERSIONS: &[&str] = &["2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"];

pub(super) use crate::upstream::DEFAULT_VERSION;

pub(super) fn http_json(status: u16, value: &Value) -> Response<Body> {
    json_response(status, value)
}

pub(super) fn rpc_error(
    status: u16,
    id: &Value,
    code: i64,
    message: &str,
    data: Option<Value>,
) -> Response<Body> {
    http_json(status, &jsonrpc::error(id, code, message, data))
}

pub(super) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

pub(super) fn accepts(headers: &HeaderMap) -> bool {
    let accept = header(headers, "accept").unwrap_or("");
    let any = accept.contains("*/*");
    any || (accept.contains("application/json") && accept.contains("text/event-stream"))
}

/// Decode a Base64 header sentinel `=?base64?…?=`.
pub(super) fn decode_sentinel(v: &str) -> Option<String> {
    use base64::Engine as _;
    match v
        .strip_prefix("=?base64?")
        .and_then(|r| r.strip_suffix("?="))
    {
        Some(b64) => base64::engine::general_purpose::STANDARD
            .decode(b64)
            .ok()
            .and_then(|b| String::from_utf8(b).ok()),
        None => Some(v.to_string()),
    }
}

/// The name a gated method acts on (DESIGN §2 `input.tool`): a tool or prompt name, a resource
/// URI, for `completion/complete` the field of `params.ref` its `type` names, and for methods
/// acting on no single name (`resources/list`, `prompts/list`…) the method's own name — never a
/// field the method does not define (an agent could put an allowed name there and act on
/// another). `Err` when the method's name is missing or not a string.
pub(super) fn decided_name(method: &str, params: Option<&Value>) -> Result<String, String> {
    let field = |v: Option<&Value>, what: &str| {
        v.and_then(Value::as_str)
            .map(String::from)
            .ok_or_else(|| format!("{method} needs {what} as a string"))
    };
    match method {
        "tools/call" | "prompts/get" => field(params.and_then(|p| p.get("name")), "params.name"),
        "resources/read" | "resources/subscribe" | "resources/unsubscribe" => {
            field(params.and_then(|p| p.get("uri")), "params.uri")
        }
        "completion/complete" => {
            let r = params.and_then(|p| p.get("ref"));
            match r.and_then(|r| r.get("type")).and_then(Value::as_str) {
                Some("ref/prompt") => field(r.and_then(|r| r.get("name")), "params.ref.name"),
                Some("ref/resource") => field(r.and_then(|r| r.get("uri")), "params.ref.uri"),
                _ => Err(format!(
                    "{method} needs params.ref.type \"ref/prompt\" or \"ref/resource\""
                )),
            }
        }
        m => Ok(m.to_string()),
    }
}

/// The name a gated method acts on, as far as it can be read (for checks and the record);
/// `None` for methods acting on no single name.
pub(super) fn target_name(method: &str, params: Option<&Value>) -> Option<String> {
    match method {
        "tools/call"
        | "prompts/get"
        | "resources/read"
        | "resources/subscribe"
        | "resources/unsubscribe"
        | "completion/complete" => decided_name(method, params).ok(),
        _ => None,
    }
}

/// The method and target of a message as far as they can be read (for the record).
pub(super) fn names_of(value: &Value) -> (Option<&str>, Option<String>) {
    let method = value.get("method").and_then(Value::as_str);
    let tool = method.and_then(|m| target_name(m, value.get("params")));
    (method, tool)
}

pub(super) fn accepted() -> Response<Body> {
    let mut resp = Response::new(full(Bytes::new()));
    *resp.status_mut() = StatusCode::ACCEPTED;
    resp
}

pub(super) fn json_ok(id: &Value, result: Value) -> Response<Body> {
    http_json(200, &jsonrpc::result(id, result))
}

pub(super) fn refusal_response(id: &Value, refusal: &Refusal) -> Response<Body> {
    http_json(200, &refusal.to_jsonrpc(id))
}
