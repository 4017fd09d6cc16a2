//! igctl, the IntentGate operators' CLI. `main.rs` calls [`main_with`]; tests call it too.

pub mod cli;
pub mod client;
pub mod error;
pub mod evidence;
pub mod output;
pub mod verify;

use crate::cli::*;
use crate::client::{Client, ConnectionArgs};
use crate::error::CliError;
use crate::output::{fields, print, print_text, table};
use clap::{CommandFactory, Parser};
use hyper::Method;
use intentgate_proto::api::*;
use intentgate_proto::audit::{ChainReport, Head};
use intentgate_proto::ids::new_id;
use intentgate_proto::token::{self, ChildClaims, RawToken};
use serde::Serialize;
use serde_json::Value;
use std::io::Read;

/// Run igctl with `args` (including the program name); returns the exit code.
pub fn main_with(args: Vec<String>) -> i32 {
    let wants_json = args
        .windows(2)
        .any(|w| (w[0] == "--output" || w[0] == "-o") && w[1] == "json")
        || args.iter().any(|a| a == "--output=json");
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                print(&e.to_string());
                return 0;
            }
            if wants_json {
                let detail = e.to_string();
                let head = detail.split("\n\nUsage:").next().unwrap_or(&detail);
                let message = head
                    .trim_start_matches("error: ")
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                print(&format!("{}\n", CliError::usage(message).to_json()));
            } else {
                output::eprint(&e.to_string());
            }
            return 2;
        }
    };
    let json = cli.output == OutputFormat::Json;
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            output::eprint(&format!("igctl: cannot start: {e}\n"));
            return 1;
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(()) => 0,
        Err(e) => {
            if json {
                print(&format!("{}\n", e.to_json()));
            } else {
                output::eprint(&format!("igctl: {}: {}\n", e.code, e.message));
            }
            e.exit_code()
        }
    }
}

fn connect(cli: &Cli) -> Result<Client, CliError> {
    let flags = ConnectionArgs {
        socket: cli.socket.clone(),
        url: cli.url.clone(),
        token: cli.token.clone(),
        ca: cli.ca.clone(),
    };
    let endpoint = client::resolve(&flags, &|k| std::env::var(k).ok())?;
    Client::new(endpoint)
}

fn emit<T: Serialize>(json: bool, value: &T, human: impl FnOnce() -> String) {
    if json {
        print(&format!(
            "{}\n",
            serde_json::to_string(value).unwrap_or_default()
        ));
    } else {
        print_text(&human());
    }
}

/// An answer as igctl has always printed it: with its keys sorted (serde_json's maps are), whatever
/// order the type declares them in.
fn sorted_keys<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

fn read_token_arg(arg: &str) -> Result<String, CliError> {
    if arg == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| CliError::usage(format!("cannot read the token from stdin: {e}")))?;
        Ok(text.trim().to_string())
    } else {
        Ok(arg.trim().to_string())
    }
}

async fn dispatch(cli: Cli) -> Result<(), CliError> {
    let json = cli.output == OutputFormat::Json;
    match &cli.command {
        Command::Mint(args) => {
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
            let resp: MintResponse = connect(&cli)?
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
        }
        Command::Tokens {
            command: TokensCommand::List { tenant, all },
        } => {
            let mut path = String::from("/v1/admin/tokens?");
            if let Some(t) = tenant {
                path.push_str(&format!("tenant={t}&"));
            }
            if *all {
                path.push_str("all=true");
            }
            let list: TokenList = connect(&cli)?.call(Method::GET, &path, None::<&()>).await?;
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
        }
        Command::Revoke(args) => {
            let req = RevokeRequest {
                jti: args.jti.clone(),
                tenant: args.tenant.clone(),
                reason: args.reason.clone(),
            };
            let r: Revocation = connect(&cli)?
                .call(Method::POST, "/v1/admin/revoke", Some(&req))
                .await?;
            emit(json, &r, || {
                format!(
                    "revoked {} in tenant {} at {}\n",
                    r.jti, r.tenant, r.revoked_at
                )
            });
        }
        Command::Revocations => {
            let list: RevocationList = connect(&cli)?
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
        }
        Command::Stop(args) => {
            let req = StopRequest {
                tenant: args.tenant.clone(),
                subject: args.subject.clone(),
                reason: args.reason.clone(),
            };
            let s: Stop = connect(&cli)?
                .call(Method::POST, "/v1/admin/stops", Some(&req))
                .await?;
            emit(json, &s, || format!("stopped {}\n", stop_label(&s)));
        }
        Command::Unstop(args) => {
            let req = StopRequest {
                tenant: args.tenant.clone(),
                subject: args.subject.clone(),
                reason: args.reason.clone(),
            };
            let s: Stop = connect(&cli)?
                .call(Method::DELETE, "/v1/admin/stops", Some(&req))
                .await?;
            emit(json, &s, || {
                format!("lifted the stop on {}\n", stop_label(&s))
            });
        }
        Command::Token {
            command: TokenCommand::Inspect { token },
        } => inspect(json, &read_token_arg(token)?)?,
        Command::Token {
            command: TokenCommand::Attenuate(args),
        } => attenuate(json, args)?,
        Command::GenKey { audit: false, .. } => {
            let key = intentgate_proto::keys::MasterKey::generate_hex();
            emit(json, &serde_json::json!({ "master_key": key }), || {
                format!("{key}\n")
            });
        }
        Command::GenKey {
            audit: true,
            announce,
        } => {
            use base64::Engine as _;
            let (pem, public) = intentgate_proto::checkpoint::generate_signing_key_pem();
            let public = base64::engine::general_purpose::STANDARD.encode(public.as_bytes());
            if *announce {
                let body = AnnounceKeyRequest {
                    public_key: public.clone(),
                };
                let _: AnnounceKeyResponse = connect(&cli)?
                    .call(Method::POST, "/v1/admin/audit/keys", Some(&body))
                    .await?;
            }
            emit(
                json,
                &serde_json::json!({ "private_key_pem": pem, "public_key": public }),
                || pem.clone(),
            );
        }
        Command::Tenants => {
            let list: TenantList = connect(&cli)?
                .call(Method::GET, "/v1/admin/tenants", None::<&()>)
                .await?;
            emit(json, &list, || {
                let rows: Vec<Vec<String>> = list
                    .tenants
                    .iter()
                    .map(|t| {
                        vec![
                            t.name.clone(),
                            t.tokens_live.to_string(),
                            if t.admin_scoped {
                                "yes".into()
                            } else {
                                "no".into()
                            },
                        ]
                    })
                    .collect();
                table(&["TENANT", "TOKENS_LIVE", "TENANT_ADMIN"], &rows)
            });
        }
        Command::Agents => {
            let list: AgentList = connect(&cli)?
                .call(Method::GET, "/v1/admin/agents", None::<&()>)
                .await?;
            emit(json, &list, || {
                let rows: Vec<Vec<String>> = list
                    .agents
                    .iter()
                    .map(|a| {
                        vec![
                            a.tenant.clone(),
                            a.subject.clone(),
                            a.first_seen.clone(),
                            a.last_seen.clone(),
                            a.calls.to_string(),
                            a.allowed.to_string(),
                            a.refused.to_string(),
                        ]
                    })
                    .collect();
                table(
                    &[
                        "TENANT",
                        "SUBJECT",
                        "FIRST_SEEN",
                        "LAST_SEEN",
                        "CALLS",
                        "ALLOWED",
                        "REFUSED",
                    ],
                    &rows,
                )
            });
        }
        Command::Health => {
            let client = connect(&cli)?;
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
        }
        Command::Audit { command } => audit(&cli, json, command).await?,
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "igctl", &mut out);
            print(&String::from_utf8_lossy(&out));
        }
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut out)
                .map_err(|e| CliError::new(ErrorCode::Internal, e.to_string()))?;
            print(&String::from_utf8_lossy(&out));
        }
    }
    Ok(())
}

fn stop_label(s: &Stop) -> String {
    match &s.subject {
        Some(sub) => format!("{}/{sub}", s.tenant),
        None => format!("tenant {}", s.tenant),
    }
}

fn token_error(e: token::TokenError) -> CliError {
    CliError::new(ErrorCode::InvalidRequest, e.to_string())
}

fn inspect(json: bool, text: &str) -> Result<(), CliError> {
    let raw = RawToken::decode(text).map_err(token_error)?;
    let claims = raw.claims_unverified().map_err(token_error)?;
    let chain: Vec<&str> = claims.chain().collect();
    let value = serde_json::json!({
        "signature": "not verified (offline; igd verifies)",
        "root": claims.root,
        "children": claims.children,
        "depth": claims.depth(),
        "jti_chain": chain,
        "effective": {
            "subject": claims.root.sub,
            "delegated_subject": claims.delegated_subject(),
            "tools": claims.rights.tools.to_list(),
            "max_calls": claims.rights.max_calls,
            "exp": claims.rights.exp,
        },
    });
    emit(json, &value, || {
        let mut out = fields(&[
            ("tenant", claims.root.tenant.clone()),
            ("subject", claims.root.sub.clone()),
            (
                "delegated",
                claims.delegated_subject().unwrap_or("-").to_string(),
            ),
            ("kid", claims.root.kid.clone()),
            ("root_jti", claims.root.jti.clone()),
            ("leaf_jti", claims.leaf_jti().to_string()),
            ("depth", claims.depth().to_string()),
            ("tools", claims.rights.tools.to_list().join(",")),
            ("max_calls", claims.rights.max_calls.to_string()),
            ("expires_at", unix_text(claims.rights.exp)),
        ]);
        out.push_str("signature: not verified (offline; igd verifies)\n");
        out
    });
    Ok(())
}

fn unix_text(secs: u64) -> String {
    let t = i64::try_from(secs)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok());
    t.and_then(|t| {
        t.format(&time::format_description::well_known::Rfc3339)
            .ok()
    })
    .unwrap_or_else(|| secs.to_string())
}

fn attenuate(json: bool, args: &AttenuateArgs) -> Result<(), CliError> {
    let text = read_token_arg(&args.token)?;
    let exp = match args.ttl {
        Some(ttl) => {
            let now = u64::try_from(time::OffsetDateTime::now_utc().unix_timestamp()).unwrap_or(0);
            Some(now.saturating_add(ttl))
        }
        None => None,
    };
    if args.tools.is_none() && args.max_calls.is_none() && exp.is_none() && args.sub.is_none() {
        return Err(CliError::usage(
            "say how to narrow: --tools, --max-calls, --ttl or --sub",
        ));
    }
    // A later expiry than the parent's is clamped by refusing: widening is an error.
    let child = ChildClaims {
        jti: new_id(),
        sub: args.sub.clone(),
        tools: args.tools.clone(),
        max_calls: args.max_calls,
        exp,
    };
    let narrowed = token::attenuate(&text, &child).map_err(token_error)?;
    emit(
        json,
        &serde_json::json!({ "token": narrowed, "jti": child.jti }),
        || format!("{narrowed}\n"),
    );
    Ok(())
}

async fn audit(cli: &Cli, json: bool, command: &AuditCommand) -> Result<(), CliError> {
    match command {
        AuditCommand::List(args) => {
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
        }
        AuditCommand::Export(args) => export(cli, json, args).await?,
        AuditCommand::Erase {
            tenant,
            subject,
            before,
        } => {
            let body = EraseRequest {
                tenant: tenant.clone(),
                subject: subject.clone(),
                before: before.clone(),
            };
            let r: EraseResponse = connect(cli)?
                .call(Method::POST, "/v1/admin/audit/erase", Some(&body))
                .await?;
            emit(json, &r, || {
                format!(
                    "erased stored arguments of {} entries of {tenant}/{subject} before {before}\n",
                    r.erased
                )
            });
        }
        AuditCommand::Prune {
            tenant,
            before,
            reason,
        } => {
            let body = MarkerRequest {
                tenant: tenant.clone(),
                before: Some(before.clone()),
                reason: reason.clone(),
                accept: Vec::new(),
            };
            let r: PruneResponse = connect(cli)?
                .call(Method::POST, "/v1/admin/audit/prune", Some(&body))
                .await?;
            emit(json, &r, || {
                format!(
                    "pruned {} entries of {tenant} through seq {} (marker at seq {})\n",
                    r.deleted, r.cut_seq, r.marker_seq
                )
            });
        }
        AuditCommand::Rebaseline {
            tenant,
            reason,
            accept,
        } => {
            let body = MarkerRequest {
                tenant: tenant.clone(),
                before: None,
                reason: reason.clone(),
                accept: accept.clone(),
            };
            let r: RebaselineResponse = connect(cli)?
                .call(Method::POST, "/v1/admin/audit/rebaseline", Some(&body))
                .await?;
            emit(json, &r, || {
                format!(
                    "re-baselined {tenant}: the chain leaves the signed history after seq {} (marker at seq {})\n",
                    r.cut_seq, r.marker_seq
                )
            });
        }
        AuditCommand::Evidence(args) => {
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
        }
        AuditCommand::VerifyPack { pack, pubkey } => {
            let v = evidence::verify_pack(pack, pubkey)?;
            emit(json, &v, || {
                format!(
                    "{}: ok, {} entries verified up to checkpoint {}\n",
                    pack.display(),
                    v["report"]["verified"],
                    v["report"]["checkpoint"]["size"]
                )
            });
        }
        AuditCommand::Verify(args) if args.server => {
            let path = match &args.tenant {
                Some(t) => format!("/v1/admin/audit/verify?tenant={}", encode_query(t)),
                None => "/v1/admin/audit/verify".to_string(),
            };
            let report: AuditVerifyReport =
                connect(cli)?.call(Method::GET, &path, None::<&()>).await?;
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
        }
        AuditCommand::Verify(args) => {
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
                    verify::verify_tenant(&client, t, &keys, pins.get(t).map(String::as_str))
                        .await?;
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
            let out =
                serde_json::json!({"ok": all_ok, "trust": trust.as_str(), "tenants": printed});
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
        }
    }
    Ok(())
}

/// Stream an export to a file or stdout, with a progress bar on a terminal (stderr) only.
async fn export(cli: &Cli, json: bool, args: &AuditExportArgs) -> Result<(), CliError> {
    use std::io::{IsTerminal, Write};
    let mut q = vec![
        format!("tenant={}", encode_query(&args.tenant)),
        format!("format={}", args.format),
    ];
    for (k, v) in [("from", &args.from), ("to", &args.to)] {
        if let Some(v) = v {
            q.push(format!("{k}={}", encode_query(v)));
        }
    }
    if let Some(s) = args.from_seq {
        q.push(format!("from_seq={s}"));
    }
    let path = format!("/v1/admin/audit/export?{}", q.join("&"));
    let mut out: Box<dyn Write> = match &args.out {
        Some(p) => Box::new(std::io::BufWriter::new(std::fs::File::create(p).map_err(
            |e| {
                CliError::new(
                    ErrorCode::InvalidRequest,
                    format!("cannot write {}: {e}", p.display()),
                )
            },
        )?)),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let show_progress =
        std::io::stderr().is_terminal() && (args.out.is_some() || !std::io::stdout().is_terminal());
    let bar = indicatif::ProgressBar::hidden();
    let mut rows = 0u64;
    let mut was_truncated = false;
    connect(cli)?
        .stream(
            &path,
            |chunk| {
                rows += chunk.iter().filter(|b| **b == b'\n').count() as u64;
                bar.set_position(rows);
                out.write_all(chunk)
                    .map_err(|e| CliError::new(ErrorCode::Internal, format!("write failed: {e}")))
            },
            |total, truncated| {
                was_truncated = truncated;
                if show_progress {
                    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                    if let Some(t) = total {
                        bar.set_length(t + u64::from(args.format == "csv"));
                    }
                }
            },
        )
        .await?;
    out.flush()
        .map_err(|e| CliError::new(ErrorCode::Internal, format!("write failed: {e}")))?;
    bar.finish_and_clear();
    if args.out.is_some() {
        let summary = serde_json::json!({"rows": rows, "truncated": was_truncated});
        emit(json, &summary, || {
            format!(
                "exported {rows} lines{}\n",
                if was_truncated {
                    " (truncated: continue with the from_seq named in the last row)"
                } else {
                    ""
                }
            )
        });
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

pub(crate) fn encode_query(v: &str) -> String {
    v.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
