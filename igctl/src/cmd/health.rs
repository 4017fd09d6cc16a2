//! `health`: is igd up and ready.

use super::{connect, emit, wants_json};
use crate::cli::Cli;
use crate::error::CliError;
use hyper::Method;
use intentgate_proto::api::{ErrorCode, Health};

pub async fn run(cli: &Cli) -> Result<(), CliError> {
    let json = wants_json(cli);
    let client = connect(cli)?;
    let (status, body) = client.raw(Method::GET, "/healthz", None::<&()>).await?;
    let health: Health = serde_json::from_slice(&body).map_err(|_| {
        CliError::new(
            ErrorCode::Internal,
            format!("igd answered HTTP {status} without health JSON"),
        )
    })?;
    // JSON output is one document: the health, or (not ready) the error.
    if health.ok || !json {
        emit(json, &health, || {
            format!(
                "igd {} is {}\n",
                health.version,
                if health.ok { "ready" } else { "not ready" }
            )
        });
    }
    if !health.ok {
        return Err(CliError::new(
            ErrorCode::Unavailable,
            format!("igd {} is not ready (HTTP {status})", health.version),
        ));
    }
    Ok(())
}
