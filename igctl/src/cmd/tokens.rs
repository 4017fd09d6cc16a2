//! `mint`, `tokens list`, `revoke` and `revocations`: root tokens as igd keeps them.

use super::{connect, emit, wants_json};
use crate::cli::{Cli, MintArgs, RevokeArgs};
use crate::error::CliError;
use crate::output::{fields, table};
use hyper::Method;
use intentgate_proto::api::{
    MintRequest, MintResponse, Revocation, RevocationList, RevokeRequest, TokenList,
};

/// What to do with root tokens.
#[derive(Debug)]
pub enum Action<'a> {
    Mint(&'a MintArgs),
    List { tenant: Option<&'a str>, all: bool },
    Revoke(&'a RevokeArgs),
    Revocations,
}

pub async fn run(cli: &Cli, action: Action<'_>) -> Result<(), CliError> {
    let json = wants_json(cli);
    match action {
        Action::Mint(args) => mint(cli, json, args).await,
        Action::List { tenant, all } => list(cli, json, tenant, all).await,
        Action::Revoke(args) => revoke(cli, json, args).await,
        Action::Revocations => revocations(cli, json).await,
    }
}

async fn mint(cli: &Cli, json: bool, args: &MintArgs) -> Result<(), CliError> {
    if args.totp.is_some() && !args.all_tools {
        // Only --all-tools is step-up gated: a code sent otherwise would prove nothing.
        return Err(CliError::usage("--totp goes with --all-tools only"));
    }
    let req = MintRequest {
        subject: args.subject.clone(),
        tenant: args.tenant.clone(),
        ttl_seconds: args.ttl,
        tools: if args.all_tools {
            vec![]
        } else {
            args.tools.clone()
        },
        max_calls: args.max_calls,
        all_tools: args.all_tools,
    };
    let resp: MintResponse = connect(cli)?
        .with_step_up(args.totp.clone())
        .call(Method::POST, "/v1/admin/mint", Some(&req))
        .await?;
    emit(json, &resp, || {
        fields(&[
            ("jti", resp.jti.clone()),
            ("tenant", resp.tenant.clone()),
            ("subject", resp.subject.clone()),
            ("expires_at", resp.expires_at.clone()),
            ("token", resp.token.clone()),
        ])
    });
    Ok(())
}

async fn list(cli: &Cli, json: bool, tenant: Option<&str>, all: bool) -> Result<(), CliError> {
    let mut path = String::from("/v1/admin/tokens?");
    if let Some(t) = tenant {
        path.push_str(&format!("tenant={t}&"));
    }
    if all {
        path.push_str("all=true");
    }
    let list: TokenList = connect(cli)?.call(Method::GET, &path, None::<&()>).await?;
    emit(json, &list, || {
        let rows: Vec<Vec<String>> = list
            .tokens
            .iter()
            .map(|t| {
                vec![
                    t.jti.clone(),
                    t.tenant.clone(),
                    t.subject.clone(),
                    t.tools.join(","),
                    t.max_calls.to_string(),
                    t.expires_at.clone(),
                    if t.revoked {
                        "revoked".into()
                    } else {
                        "live".into()
                    },
                ]
            })
            .collect();
        table(
            &[
                "JTI",
                "TENANT",
                "SUBJECT",
                "TOOLS",
                "MAX_CALLS",
                "EXPIRES_AT",
                "STATE",
            ],
            &rows,
        )
    });
    Ok(())
}

async fn revoke(cli: &Cli, json: bool, args: &RevokeArgs) -> Result<(), CliError> {
    let req = RevokeRequest {
        jti: args.jti.clone(),
        tenant: args.tenant.clone(),
        reason: args.reason.clone(),
    };
    let r: Revocation = connect(cli)?
        .call(Method::POST, "/v1/admin/revoke", Some(&req))
        .await?;
    emit(json, &r, || {
        format!(
            "revoked {} in tenant {} at {}\n",
            r.jti, r.tenant, r.revoked_at
        )
    });
    Ok(())
}

async fn revocations(cli: &Cli, json: bool) -> Result<(), CliError> {
    let list: RevocationList = connect(cli)?
        .call(Method::GET, "/v1/admin/revocations", None::<&()>)
        .await?;
    emit(json, &list, || {
        let rows: Vec<Vec<String>> = list
            .revocations
            .iter()
            .map(|r| {
                vec![
                    r.jti.clone(),
                    r.tenant.clone(),
                    r.revoked_at.clone(),
                    r.revoked_by.clone(),
                    r.reason.clone(),
                ]
            })
            .collect();
        table(
            &["JTI", "TENANT", "REVOKED_AT", "REVOKED_BY", "REASON"],
            &rows,
        )
    });
    Ok(())
}
