//! `audit`: list, erase, prune, re-baseline, evidence packs; `audit export` and `audit verify`
//! have their own modules.

use super::{audit_verify, connect, emit, export, sorted_keys, wants_json};
use crate::cli::{AuditCommand, AuditEvidenceArgs, AuditListArgs, Cli};
use crate::encode_query;
use crate::error::CliError;
use crate::evidence;
use crate::output::table;
use hyper::Method;
use intentgate_proto::api::{
    AuditPage, EraseRequest, EraseResponse, ErrorCode, MarkerRequest, PruneResponse,
    RebaselineResponse,
};
use std::path::Path;

pub async fn run(cli: &Cli, command: &AuditCommand) -> Result<(), CliError> {
    let json = wants_json(cli);
    match command {
        AuditCommand::List(args) => list(cli, json, args).await,
        AuditCommand::Export(args) => export::run(cli, json, args).await,
        AuditCommand::Erase {
            tenant,
            subject,
            before,
            totp,
        } => erase(cli, json, tenant, subject, before, totp.clone()).await,
        AuditCommand::Prune {
            tenant,
            before,
            reason,
            totp,
        } => prune(cli, json, tenant, before, reason, totp.clone()).await,
        AuditCommand::Rebaseline {
            tenant,
            reason,
            accept,
            totp,
        } => rebaseline(cli, json, tenant, reason, accept, totp.clone()).await,
        AuditCommand::Evidence(args) => build_evidence(cli, json, args).await,
        AuditCommand::VerifyPack { pack, pubkey } => verify_pack(json, pack, pubkey),
        AuditCommand::Verify(args) if args.server => audit_verify::server(cli, json, args).await,
        AuditCommand::Verify(args) => audit_verify::local(cli, json, args).await,
    }
}

async fn list(cli: &Cli, json: bool, args: &AuditListArgs) -> Result<(), CliError> {
    let mut q = vec![format!("limit={}", args.limit)];
    for (k, v) in [
        ("tenant", &args.tenant),
        ("subject", &args.subject),
        ("tool", &args.tool),
        ("decision", &args.decision),
        ("cursor", &args.cursor),
    ] {
        if let Some(v) = v {
            q.push(format!("{k}={}", encode_query(v)));
        }
    }
    let path = format!("/v1/admin/audit?{}", q.join("&"));
    let page: AuditPage = connect(cli)?.call(Method::GET, &path, None::<&()>).await?;
    emit(json, &sorted_keys(&page), || {
        let rows: Vec<Vec<String>> = page
            .entries
            .iter()
            .map(|row| {
                let e = &row.entry;
                let s = |v: &Option<String>| v.as_deref().unwrap_or("-").to_string();
                vec![
                    e.tenant.clone(),
                    e.seq.to_string(),
                    row.time.clone(),
                    e.kind.clone(),
                    s(&e.subject),
                    s(&e.tool),
                    s(&e.decision.clone().or(e.action.clone())),
                    s(&e.reason),
                ]
            })
            .collect();
        table(
            &[
                "TENANT", "SEQ", "TS", "KIND", "SUBJECT", "TOOL", "DECISION", "REASON",
            ],
            &rows,
        )
    });
    Ok(())
}

async fn erase(
    cli: &Cli,
    json: bool,
    tenant: &str,
    subject: &str,
    before: &str,
    totp: Option<String>,
) -> Result<(), CliError> {
    let body = EraseRequest {
        tenant: tenant.to_string(),
        subject: subject.to_string(),
        before: before.to_string(),
    };
    let r: EraseResponse = connect(cli)?
        .with_step_up(totp)
        .call(Method::POST, "/v1/admin/audit/erase", Some(&body))
        .await?;
    emit(json, &r, || {
        format!(
            "erased stored arguments of {} entries of {tenant}/{subject} before {before}\n",
            r.erased
        )
    });
    Ok(())
}

async fn prune(
    cli: &Cli,
    json: bool,
    tenant: &str,
    before: &str,
    reason: &str,
    totp: Option<String>,
) -> Result<(), CliError> {
    let body = MarkerRequest {
        tenant: tenant.to_string(),
        before: Some(before.to_string()),
        reason: reason.to_string(),
        accept: Vec::new(),
    };
    let r: PruneResponse = connect(cli)?
        .with_step_up(totp)
        .call(Method::POST, "/v1/admin/audit/prune", Some(&body))
        .await?;
    emit(json, &r, || {
        format!(
            "pruned {} entries of {tenant} through seq {} (marker at seq {})\n",
            r.deleted, r.cut_seq, r.marker_seq
        )
    });
    Ok(())
}

async fn rebaseline(
    cli: &Cli,
    json: bool,
    tenant: &str,
    reason: &str,
    accept: &[String],
    totp: Option<String>,
) -> Result<(), CliError> {
    let body = MarkerRequest {
        tenant: tenant.to_string(),
        before: None,
        reason: reason.to_string(),
        accept: accept.to_vec(),
    };
    let r: RebaselineResponse = connect(cli)?
        .with_step_up(totp)
        .call(Method::POST, "/v1/admin/audit/rebaseline", Some(&body))
        .await?;
    emit(json, &r, || {
        format!(
            "re-baselined {tenant}: the chain leaves the signed history after seq {} (marker at seq {})\n",
            r.cut_seq, r.marker_seq
        )
    });
    Ok(())
}

async fn build_evidence(cli: &Cli, json: bool, args: &AuditEvidenceArgs) -> Result<(), CliError> {
    let client = connect(cli)?;
    let v = evidence::build(
        &client,
        &args.tenant,
        args.from.as_deref(),
        args.to.as_deref(),
        args.pubkey.as_deref(),
        &args.out,
    )
    .await?;
    emit(json, &v, || {
        format!(
            "wrote {} ({} entries, chain {})\n",
            args.out.display(),
            v["entries"],
            if v["ok"] == true {
                "verified"
            } else {
                "BROKEN"
            }
        )
    });
    if v["ok"] != true {
        return Err(CliError::new(
            ErrorCode::Tampered,
            "the chain in the pack does not verify",
        ));
    }
    Ok(())
}

fn verify_pack(json: bool, pack: &Path, pubkey: &Path) -> Result<(), CliError> {
    let v = evidence::verify_pack(pack, pubkey)?;
    emit(json, &v, || {
        format!(
            "{}: ok, {} entries verified up to checkpoint {}\n",
            pack.display(),
            v["report"]["verified"],
            v["report"]["checkpoint"]["size"]
        )
    });
    Ok(())
}
