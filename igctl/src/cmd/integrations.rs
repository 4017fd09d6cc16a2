//! `integrations`: the audit fan-out's sinks as igd sees them — state, lag, last error.

use super::{connect, emit};
use crate::cli::Cli;
use crate::error::CliError;
use crate::output::{print, table};
use hyper::Method;
use intentgate_proto::api::{IntegrationList, IntegrationStatus};

/// `json`: `--output json` or the command's own `--json`.
pub async fn run(cli: &Cli, json: bool) -> Result<(), CliError> {
    let list: IntegrationList = match async {
        connect(cli)?
            .call(Method::GET, "/v1/admin/integrations", None::<&()>)
            .await
    }
    .await
    {
        Ok(list) => list,
        Err(e) => {
            // `--json` alone: the error envelope goes to stdout for the script too (igctl's
            // own line still goes to stderr).
            if json && cli.output != crate::cli::OutputFormat::Json {
                print(&format!("{}\n", e.to_json()));
            }
            return Err(e);
        }
    };
    emit(json, &list, || render(&list.integrations));
    Ok(())
}

fn render(sinks: &[IntegrationStatus]) -> String {
    if sinks.is_empty() {
        return "no sinks configured (INTENTGATE_WEBHOOK_*, INTENTGATE_SIEM_*, igctl notify)\n"
            .into();
    }
    let rows: Vec<Vec<String>> = sinks
        .iter()
        .map(|s| {
            let state = match &s.holder {
                Some(holder) => format!("{} ({holder})", s.state),
                None => s.state.clone(),
            };
            vec![
                s.name.clone(),
                s.kind.clone(),
                s.tenant.clone().unwrap_or_else(|| "*".into()),
                state,
                s.lag_entries.to_string(),
                s.oldest_pending_seconds
                    .map_or_else(|| "-".into(), |secs| format!("{secs}s")),
                s.delivered.to_string(),
                s.failed.to_string(),
                s.last_delivery_at.clone().unwrap_or_else(|| "-".into()),
                match (&s.last_error, &s.last_error_at) {
                    (Some(e), Some(at)) => format!("{at} {e}"),
                    (Some(e), None) => e.clone(),
                    _ => "-".into(),
                },
            ]
        })
        .collect();
    table(
        &[
            "NAME",
            "KIND",
            "TENANT",
            "STATE",
            "LAG",
            "OLDEST",
            "DELIVERED",
            "FAILED",
            "LAST_DELIVERY",
            "LAST_ERROR",
        ],
        &rows,
    )
}
