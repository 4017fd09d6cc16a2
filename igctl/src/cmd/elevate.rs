//! `elevate request|list|approve`: just-in-time admin for an operator, approved by another
//! admin with step-up.

use super::{connect, emit, wants_json};
use crate::cli::{Cli, ElevateCommand};
use crate::error::CliError;
use crate::output::{fields, table};
use hyper::Method;
use intentgate_proto::api::{Elevation, ElevationList, ElevationRequest};

pub async fn run(cli: &Cli, command: &ElevateCommand) -> Result<(), CliError> {
    let json = wants_json(cli);
    match command {
        ElevateCommand::Request { reason, duration } => {
            let req = ElevationRequest {
                reason: reason.clone(),
                duration_seconds: *duration,
            };
            let e: Elevation = connect(cli)?
                .call(Method::POST, "/v1/admin/elevations", Some(&req))
                .await?;
            emit(json, &e, || {
                format!(
                    "{}requested: another admin approves it with `igctl elevate approve {} --totp CODE`\n",
                    show(&e),
                    e.id
                )
            });
        }
        ElevateCommand::List => {
            let list: ElevationList = connect(cli)?
                .call(Method::GET, "/v1/admin/elevations", None::<&()>)
                .await?;
            emit(json, &list, || {
                let rows: Vec<Vec<String>> = list
                    .elevations
                    .iter()
                    .map(|e| {
                        vec![
                            e.id.clone(),
                            e.identity.clone(),
                            e.status.clone(),
                            minutes(e.duration_seconds),
                            e.approved_by.clone().unwrap_or_default(),
                            e.expires_at.clone().unwrap_or_default(),
                            e.reason.clone(),
                        ]
                    })
                    .collect();
                table(
                    &[
                        "ID",
                        "IDENTITY",
                        "STATUS",
                        "FOR",
                        "APPROVED BY",
                        "EXPIRES",
                        "REASON",
                    ],
                    &rows,
                )
            });
        }
        ElevateCommand::Approve { id, totp } => {
            let path = format!("/v1/admin/elevations/{}/approve", crate::encode_query(id));
            let e: Elevation = connect(cli)?
                .with_step_up(totp.clone())
                .call(Method::POST, &path, None::<&()>)
                .await?;
            emit(json, &e, || format!("{}approved\n", show(&e)));
        }
    }
    Ok(())
}

fn minutes(secs: u64) -> String {
    if secs.is_multiple_of(3600) {
        format!("{}h", secs / 3600)
    } else {
        format!("{}m", secs / 60)
    }
}

fn show(e: &Elevation) -> String {
    let mut pairs = vec![
        ("id", e.id.clone()),
        ("identity", e.identity.clone()),
        ("status", e.status.clone()),
        ("duration", minutes(e.duration_seconds)),
        ("reason", e.reason.clone()),
    ];
    if let Some(by) = &e.approved_by {
        pairs.push(("approved_by", by.clone()));
    }
    if let Some(x) = &e.expires_at {
        pairs.push(("expires_at", x.clone()));
    }
    fields(&pairs)
}
