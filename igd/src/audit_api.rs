//! Admin endpoints over the audit log: list and verify.

use crate::admin::{ApiError, ApiResult, Caller};
use crate::gateway::Gateway;
use crate::http::{json_response, Body};
use hyper::{Method, Response};
use intentgate_proto::api::ErrorCode;
use std::collections::BTreeMap;

pub async fn handle(
    _gw: &Gateway,
    _caller: &Caller,
    _method: &Method,
    path: &str,
    _params: &BTreeMap<String, String>,
) -> ApiResult<Response<Body>> {
    let _ = json_response(200, &());
    Err(ApiError::new(
        ErrorCode::NotFound,
        format!("no admin endpoint {path}"),
    ))
}
