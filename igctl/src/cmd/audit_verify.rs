//! `audit verify`: igd's own verdict (`--server`), or (the default) the auditor's: every entry
//! and checkpoint recomputed here against pinned keys ([`crate::verify`]).

use super::{connect, emit, sorted_keys};
use crate::cli::{AuditVerifyArgs, Cli};
use crate::encode_query;
use crate::error::CliError;
use crate::verify;
use hyper::Method;
use intentgate_proto::api::{
    AuditVerifyReport, ChainVerdict, CheckpointList, ErrorCode, TenantList,
};
use intentgate_proto::audit::{ChainReport, Head};
use serde::Serialize;
use serde_json::Value;

/// igd's verdict, as it reports it.
pub async fn server(cli: &Cli, json: bool, args: &AuditVerifyArgs) -> Result<(), CliError> {
    let path = match &args.tenant {
        Some(t) => format!("/v1/admin/audit/verify?tenant={}", encode_query(t)),
        None => "/v1/admin/audit/verify".to_string(),
    };
    let report: AuditVerifyReport = connect(cli)?.call(Method::GET, &path, None::<&()>).await?;
    let ok = report.ok;
    emit(json, &sorted_keys(&report), || {
        let mut out = String::new();
        for r in &report.tenants {
            out.push_str(&verify_line(&verdict_report(r)));
        }
        out.push_str("(igd's own verdict; run without --server to recompute locally)\n");
        out
    });
    if !ok {
        return Err(CliError::new(
            ErrorCode::Tampered,
            "audit chain verification failed",
        ));
    }
    Ok(())
}

/// Verify here: fetch entries and checkpoints and recompute everything against pinned keys.
pub async fn local(cli: &Cli, json: bool, args: &AuditVerifyArgs) -> Result<(), CliError> {
    let client = connect(cli)?;
    let (keys, trust) = verify::trusted_keys(&client, args.pubkey.as_deref()).await?;
    let mut pins = match &args.pin {
        Some(p) => verify::read_pins(p)?,
        None => Default::default(),
    };
    let tenants: Vec<String> = match &args.tenant {
        Some(t) => vec![t.clone()],
        None => {
            let list: TenantList = client
                .call(Method::GET, "/v1/admin/tenants", None::<&()>)
                .await?;
            let mut names: Vec<String> = list.tenants.into_iter().map(|t| t.name).collect();
            // Admins also see the reserved chains.
            let checkpoints: Option<CheckpointList> = client
                .call(
                    Method::GET,
                    "/v1/admin/audit/checkpoints?limit=10000",
                    None::<&()>,
                )
                .await
                .ok();
            for c in checkpoints.iter().flat_map(|l| &l.checkpoints) {
                if !names.contains(&c.tenant) {
                    names.push(c.tenant.clone());
                }
            }
            // Every pinned chain is verified: one that vanished whole fails, it is
            // not skipped.
            for t in pins.keys() {
                if !names.iter().any(|n| n == t) {
                    names.push(t.clone());
                }
            }
            names
        }
    };
    let mut reports = Vec::new();
    let mut all_ok = true;
    let mut unanchored = false;
    for t in &tenants {
        let (report, newest) =
            verify::verify_tenant(&client, t, &keys, pins.get(t).map(String::as_str)).await?;
        all_ok &= report.ok;
        unanchored |= report.unanchored > 0;
        if report.ok {
            if let Some(n) = newest {
                pins.insert(t.clone(), n);
            }
        }
        reports.push(report);
    }
    if let (Some(p), true) = (&args.pin, all_ok) {
        verify::write_pins(p, &pins)?;
    }
    let printed: Vec<Value> = reports.iter().map(verify::report_json).collect();
    let out = serde_json::json!({"ok": all_ok, "trust": trust.as_str(), "tenants": printed});
    emit(json, &out, || {
        let mut text = format!("keys: {}\n", trust.as_str());
        for r in &reports {
            text.push_str(&verify_line(r));
        }
        text
    });
    if !all_ok {
        return Err(CliError::new(
            ErrorCode::Tampered,
            "audit chain verification failed",
        ));
    }
    if args.require_anchor && unanchored {
        return Err(CliError::new(
            ErrorCode::Unverifiable,
            "entries after the newest checkpoint are not anchored yet (--require-anchor)",
        ));
    }
    Ok(())
}

/// A server verdict as a chain report, for [`verify_line`] (its head's time, text here, is left
/// out).
fn verdict_report(v: &ChainVerdict) -> ChainReport {
    let d = &v.detail;
    ChainReport {
        ok: v.ok,
        tenant: d.tenant.clone(),
        verified: d.verified,
        broken_at: d.broken_at.clone(),
        head: Head {
            seq: d.head.seq,
            hash: d.head.hash.clone(),
            ts: None,
        },
        checkpoint: d.checkpoint.clone(),
        unanchored: d.unanchored,
        markers: d.markers.clone(),
    }
}

/// A value as JSON text (`null` for none, `[1,2]` for sizes), as these lines have always shown it.
fn json_text<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

fn verify_line(r: &ChainReport) -> String {
    let tenant = &r.tenant;
    let mut markers = String::new();
    for m in &r.markers {
        let excused = match m.excused.as_slice() {
            [] => String::new(),
            sizes if m.action.as_deref() == Some("rebaseline") => format!(
                "; acknowledges the rollback of signed checkpoint(s) at size {}",
                json_text(&sizes)
            ),
            sizes => format!(
                "; signed checkpoint(s) at size {} lie before the cut",
                json_text(&sizes)
            ),
        };
        markers.push_str(&format!(
            "{tenant}: marker at seq {}: {} of everything through seq {} ({}){}{excused}\n",
            m.seq,
            m.action.as_deref().unwrap_or("cut"),
            json_text(&m.cut_seq),
            m.reason.as_deref().unwrap_or(""),
            if m.anchored {
                ""
            } else {
                "; not covered by a checkpoint yet, so it excuses nothing"
            },
        ));
    }
    let verdict = match &r.broken_at {
        None => format!(
            "{tenant}: ok, {} entries verified, head seq {}, checkpoint {} ({}), {} unanchored\n",
            r.verified,
            r.head.seq,
            r.checkpoint.size,
            if r.checkpoint.verified {
                "verified"
            } else {
                "none"
            },
            r.unanchored
        ),
        Some(b) => format!("{tenant}: BROKEN at seq {}: {}\n", b.seq, b.reason),
    };
    markers + &verdict
}
