//! `audit export`: a tenant's chain as CSV or NDJSON, streamed.

use super::{connect, emit};
use crate::cli::{AuditExportArgs, Cli};
use crate::encode_query;
use crate::error::CliError;
use intentgate_proto::api::ErrorCode;

/// Stream an export to a file or stdout, with a progress bar on a terminal (stderr) only.
pub async fn run(cli: &Cli, json: bool, args: &AuditExportArgs) -> Result<(), CliError> {
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
