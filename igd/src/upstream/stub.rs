//! The built-in development upstream (`INTENTGATE_UPSTREAM_URL=stub`): an echo server that
//! answers like any MCP server over HTTP would, so everything past [`super::Upstream`] treats
//! it exactly as a real one.

use super::{Reply, ReplyBody, LEGACY_VERSION};
use serde_json::{json, Value};

/// The stub's answer to `message` (sent with `upstream_id`), as an HTTP reply.
pub fn reply(message: &Value, upstream_id: &Value) -> Reply {
    let method = message.get("method").and_then(Value::as_str).unwrap_or("");
    let body = match answer(method, message.get("params")) {
        Ok(result) => json!({"jsonrpc": "2.0", "id": upstream_id, "result": result}),
        Err((code, m)) => {
            json!({"jsonrpc": "2.0", "id": upstream_id, "error": {"code": code, "message": m}})
        }
    };
    Reply {
        status: 200,
        session_id: None,
        body: ReplyBody::Json(body),
    }
}

/// The built-in development echo server (`INTENTGATE_UPSTREAM_URL=stub`).
pub fn answer(method: &str, params: Option<&Value>) -> Result<Value, (i64, String)> {
    let tool = |name: &str, description: &str| json!({"name": name, "description": description, "inputSchema": {"type": "object", "additionalProperties": true}});
    match method {
        "initialize" => Ok(json!({
            "protocolVersion": params.and_then(|p| p.get("protocolVersion")).cloned().unwrap_or(json!(LEGACY_VERSION)),
            "capabilities": {"tools": {"listChanged": false}},
            "serverInfo": {"name": "intentgate-stub", "version": env!("CARGO_PKG_VERSION")},
        })),
        "ping" => Ok(json!({})),
        "tools/list" => Ok(json!({"tools": [
            tool("echo", "Echo the arguments back (development stub)."),
            tool("read_invoice", "Pretend to read an invoice (development stub)."),
            tool("send_email_internal", "Pretend to send an email (development stub)."),
        ]})),
        "tools/call" => {
            let name = params
                .and_then(|p| p.get("name"))
                .and_then(Value::as_str)
                .unwrap_or("");
            let args = params
                .and_then(|p| p.get("arguments"))
                .cloned()
                .unwrap_or(json!({}));
            Ok(
                json!({"content": [{"type": "text", "text": format!("stub {name}: {args}")}], "isError": false}),
            )
        }
        other => Err((
            crate::jsonrpc::METHOD_NOT_FOUND,
            format!("the stub upstream does not implement {other}"),
        )),
    }
}
