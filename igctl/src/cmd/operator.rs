//! `operator add|list|remove` and `whoami`: operator accounts, and the identity igd resolves
//! for this connection.

use super::{connect, emit, wants_json};
use crate::cli::{Cli, OperatorAddArgs, OperatorCommand};
use crate::error::CliError;
use crate::output::{fields, table};
use hyper::Method;
use intentgate_proto::api::{Operator, OperatorList, OperatorRequest, WhoAmI};

pub async fn run(cli: &Cli, command: &OperatorCommand) -> Result<(), CliError> {
    let json = wants_json(cli);
    match command {
        OperatorCommand::Add(args) => add(cli, json, args).await,
        OperatorCommand::List => list(cli, json).await,
        OperatorCommand::Remove { name, totp } => {
            let path = format!("/v1/admin/operators/{}", crate::encode_query(name));
            let op: Operator = connect(cli)?
                .with_step_up(totp.clone())
                .call(Method::DELETE, &path, None::<&()>)
                .await?;
            emit(json, &op, || format!("removed operator {}\n", op.name));
            Ok(())
        }
    }
}

async fn add(cli: &Cli, json: bool, args: &OperatorAddArgs) -> Result<(), CliError> {
    let req = OperatorRequest {
        name: args.name.clone(),
        role: args.role.clone(),
        tenant: args.tenant.clone(),
        uid: args.uid,
        cert_subject: args.cert_subject.clone(),
        token: args.issue_token,
    };
    let op: Operator = connect(cli)?
        .with_step_up(args.totp.clone())
        .call(Method::POST, "/v1/admin/operators", Some(&req))
        .await?;
    emit(json, &op, || {
        let mut out = format!("added operator {} ({})\n", op.name, op.role);
        if let Some(t) = &op.token {
            out.push_str(&format!(
                "API token (shown once; igd keeps only its hash):\n{t}\n"
            ));
        }
        out
    });
    Ok(())
}

fn how(op: &Operator) -> String {
    let mut ways = Vec::new();
    if let Some(u) = op.uid {
        ways.push(format!("uid {u}"));
    }
    if let Some(s) = &op.cert_subject {
        ways.push(format!("cert {s}"));
    }
    if op.has_token {
        ways.push("token".to_string());
    }
    ways.join(", ")
}

async fn list(cli: &Cli, json: bool) -> Result<(), CliError> {
    let list: OperatorList = connect(cli)?
        .call(Method::GET, "/v1/admin/operators", None::<&()>)
        .await?;
    emit(json, &list, || {
        let rows: Vec<Vec<String>> = list
            .operators
            .iter()
            .map(|o| {
                vec![
                    o.name.clone(),
                    o.role.clone(),
                    o.tenant.clone().unwrap_or_else(|| "*".into()),
                    how(o),
                    if o.totp_enrolled { "yes" } else { "no" }.to_string(),
                    o.created_at.clone(),
                    o.created_by.clone(),
                ]
            })
            .collect();
        table(
            &[
                "NAME",
                "ROLE",
                "TENANT",
                "AUTHENTICATES BY",
                "TOTP",
                "CREATED",
                "BY",
            ],
            &rows,
        )
    });
    Ok(())
}

pub async fn whoami(cli: &Cli) -> Result<(), CliError> {
    let me: WhoAmI = connect(cli)?
        .call(Method::GET, "/v1/admin/whoami", None::<&()>)
        .await?;
    emit(wants_json(cli), &me, || {
        fields(&[
            ("identity", me.identity.clone()),
            ("role", me.role.clone().unwrap_or_else(|| "none".into())),
            ("tenant", me.tenant.clone().unwrap_or_else(|| "*".into())),
            ("via", me.via.clone()),
            (
                "totp",
                if me.totp_enrolled {
                    "enrolled"
                } else {
                    "not enrolled"
                }
                .to_string(),
            ),
            (
                "elevation",
                me.elevation_id.clone().unwrap_or_else(|| "none".into()),
            ),
        ])
    });
    Ok(())
}
