//! `approvals list|decide`: the queue of calls the policy escalated (DESIGN §4 approval, §6).
//! `approvals` alone is the live TUI on a terminal (stdin and stdout both TTYs, table output)
//! and the same as `approvals list` anywhere else, so a script never gets a TUI.

use super::{connect, emit, wants_json};
use crate::cli::{ApprovalsCommand, ApprovalsListArgs, Cli, DecideArgs};
use crate::error::CliError;
use crate::output::{fields, table};
use crate::tui;
use hyper::Method;
use intentgate_proto::api::{Approval, ApprovalList, DecideRequest};
use std::io::IsTerminal;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub async fn run(cli: &Cli, command: Option<&ApprovalsCommand>) -> Result<(), CliError> {
    let json = wants_json(cli);
    match command {
        Some(ApprovalsCommand::List(args)) => list(cli, json, args).await,
        Some(ApprovalsCommand::Decide(args)) => decide(cli, json, args).await,
        None if !json && std::io::stdout().is_terminal() && std::io::stdin().is_terminal() => {
            let client = connect(cli)?;
            let first = client.event_stream(tui::net::STREAM_PATH).await?;
            tui::run(client, first).await
        }
        None => list(cli, json, &ApprovalsListArgs::default()).await,
    }
}

async fn list(cli: &Cli, json: bool, args: &ApprovalsListArgs) -> Result<(), CliError> {
    let mut path = format!(
        "/v1/admin/approvals?status={}",
        crate::encode_query(&args.status)
    );
    if let Some(t) = &args.tenant {
        path.push_str(&format!("&tenant={}", crate::encode_query(t)));
    }
    if let Some(n) = args.limit {
        path.push_str(&format!("&limit={n}"));
    }
    let list: ApprovalList = connect(cli)?.call(Method::GET, &path, None::<&()>).await?;
    let now = OffsetDateTime::now_utc();
    emit(json, &list, || {
        let rows: Vec<Vec<String>> = list
            .approvals
            .iter()
            .map(|a| {
                vec![
                    a.id.clone(),
                    a.tenant.clone(),
                    agent(a),
                    a.tool.clone(),
                    a.reason.clone(),
                    if a.requires_step_up {
                        "STEP-UP".into()
                    } else {
                        String::new()
                    },
                    left_or_status(a, now),
                ]
            })
            .collect();
        table(
            &[
                "ID",
                "TENANT",
                "AGENT",
                "TOOL",
                "REASON",
                "STEP_UP",
                "LEFT/STATUS",
            ],
            &rows,
        )
    });
    Ok(())
}

async fn decide(cli: &Cli, json: bool, args: &DecideArgs) -> Result<(), CliError> {
    let decision = args
        .decision()
        .ok_or_else(|| CliError::usage("name the decision: approve or reject"))?;
    let request = DecideRequest {
        decision: decision.to_string(),
        note: args.note.clone(),
        totp: args.totp.clone(),
    };
    let row = tui::net::decide(&connect(cli)?, &args.id, &request).await?;
    emit(json, &row, || {
        let mut pairs = vec![
            ("id", row.id.clone()),
            ("status", row.status.clone()),
            ("tenant", row.tenant.clone()),
            ("agent", agent(&row)),
            ("tool", row.tool.clone()),
            ("reason", row.reason.clone()),
        ];
        for (key, value) in [
            ("decided_by", &row.decided_by),
            ("decided_at", &row.decided_at),
            ("note", &row.note),
        ] {
            if let Some(v) = value {
                pairs.push((key, v.clone()));
            }
        }
        fields(&pairs)
    });
    Ok(())
}

fn agent(a: &Approval) -> String {
    match &a.delegated_subject {
        Some(d) => format!("{}/{d}", a.subject),
        None => a.subject.clone(),
    }
}

/// A pending row's time left (`9m 58s`), else its status.
fn left_or_status(a: &Approval, now: OffsetDateTime) -> String {
    if a.status != "pending" {
        return a.status.clone();
    }
    match OffsetDateTime::parse(&a.expires_at, &Rfc3339) {
        Ok(expires) => {
            let d = expires - now;
            let secs = d.whole_seconds() + i64::from(d.subsec_nanoseconds() > 0);
            tui::app::format_left(secs)
        }
        Err(_) => a.status.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Command;
    use clap::Parser;

    fn decision_of(args: &[&str]) -> Result<Option<&'static str>, clap::error::ErrorKind> {
        let cli = Cli::try_parse_from(["igctl", "approvals", "decide"].iter().chain(args))
            .map_err(|e| e.kind())?;
        match cli.command {
            Command::Approvals {
                command: Some(ApprovalsCommand::Decide(d)),
            } => Ok(d.decision()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_decision_is_positional_or_a_flag_and_exactly_one() {
        assert_eq!(decision_of(&["apr_1", "approve"]), Ok(Some("approve")));
        assert_eq!(
            decision_of(&["apr_1", "reject", "--note", "no"]),
            Ok(Some("reject"))
        );
        assert_eq!(
            decision_of(&["apr_1", "--approve", "--totp", "123456"]),
            Ok(Some("approve"))
        );
        assert_eq!(decision_of(&["apr_1", "--reject"]), Ok(Some("reject")));
        for bad in [
            &["apr_1"][..],
            &["apr_1", "maybe"],
            &["apr_1", "--approve", "--reject"],
            &["apr_1", "approve", "--reject"],
        ] {
            assert!(decision_of(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn bare_approvals_and_list_defaults() {
        let cli = Cli::try_parse_from(["igctl", "approvals"]).unwrap();
        assert!(matches!(cli.command, Command::Approvals { command: None }));
        let cli = Cli::try_parse_from(["igctl", "approvals", "list", "--tenant", "acme"]).unwrap();
        match cli.command {
            Command::Approvals {
                command: Some(ApprovalsCommand::List(l)),
            } => {
                assert_eq!(
                    (l.status.as_str(), l.tenant.as_deref()),
                    ("pending", Some("acme"))
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(Cli::try_parse_from(["igctl", "approvals", "list", "--status", "open"]).is_err());
        assert_eq!(ApprovalsListArgs::default().status, "pending");
    }

    #[test]
    fn pending_rows_show_time_left_and_decided_ones_their_status() {
        let mut row = crate::tui::app::tests::row("apr_1", "wire", 90, true);
        let now = crate::tui::app::tests::NOW;
        assert_eq!(left_or_status(&row, now), "1m 30s");
        row.status = "forwarded".into();
        assert_eq!(left_or_status(&row, now), "forwarded");
        row.delegated_subject = Some("helper".into());
        assert_eq!(agent(&row), "billing-bot/helper");
    }
}
