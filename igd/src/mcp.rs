//! MCP agent traffic on `POST /v1/mcp`.

use crate::gateway::Gateway;
use crate::http::{json_response, Body};
use hyper::body::Incoming;
use hyper::{Request, Response};
use std::net::SocketAddr;
use std::sync::Arc;

pub async fn handle(
    _gw: Arc<Gateway>,
    _req: Request<Incoming>,
    _remote: SocketAddr,
) -> Response<Body> {
    json_response(
        200,
        &serde_json::json!({"jsonrpc":"2.0","id":null,"error":{"code":-32601,"message":"not yet served"}}),
    )
}
