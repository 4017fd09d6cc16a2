//! `igctl policy draft|dry-run|diff|promote|rollback|active`: the policy store in igd.
//!
//! A draft is one policy module plus its `*_test.rego` modules, read from files or a directory;
//! igd compiles it and runs its tests before storing it, and again before promoting it.

use super::{connect, emit, wants_json};
use crate::cli::Cli;
use crate::error::CliError;
use crate::output::{fields, print_text, table};
use hyper::Method;
use intentgate_proto::api::{
    ActivePolicy, Draft, DraftList, DraftRequest, DryRunBody, DryRunReport, ErrorCode,
    PolicyChange, PolicyModule, PromoteRequest,
};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// Decisions replayed per request when igctl pages through a window (for the progress bar).
const PAGE: usize = 10_000;
const VERDICTS: [&str; 3] = ["allow", "block", "escalate"];

fn usage(message: impl Into<String>) -> CliError {
    CliError::new(ErrorCode::Usage, message)
}

/// The policy module and test modules among `paths` (files, or directories of `.rego` files).
pub fn read_modules(paths: &[PathBuf]) -> Result<(PolicyModule, Vec<PolicyModule>), CliError> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut inner: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| usage(format!("cannot read {}: {e}", p.display())))?
                .flatten()
                .map(|e| e.path())
                // The directory's own .rego files (not its subdirectories: a draft is one
                // policy); a directory that happens to end in .rego is not a module.
                .filter(|f| f.is_file() && f.extension().is_some_and(|x| x == "rego"))
                .collect();
            inner.sort();
            files.extend(inner);
        } else {
            files.push(p.clone());
        }
    }
    let mut policy = None;
    let mut tests = Vec::new();
    for f in files {
        let source = std::fs::read_to_string(&f)
            .map_err(|e| usage(format!("cannot read {}: {e}", f.display())))?;
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // The file's name only: the draft is one directory's worth of modules.
        let module = PolicyModule { name, source };
        if module.name.ends_with("_test.rego") {
            tests.push(module);
        } else if policy.is_some() {
            return Err(usage(format!(
                "a draft is one policy module (plus *_test.rego files): {} is a second one",
                f.display()
            )));
        } else {
            policy = Some(module);
        }
    }
    let policy = policy.ok_or_else(|| usage("no policy module given (only *_test.rego files)"))?;
    Ok((policy, tests))
}

fn default_name(paths: &[PathBuf]) -> String {
    paths
        .first()
        .and_then(|p| {
            let p = if p.is_dir() {
                p.as_path()
            } else {
                p.parent().unwrap_or(Path::new(""))
            };
            p.canonicalize()
                .ok()?
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "policy".to_string())
}

pub async fn draft_create(
    cli: &Cli,
    name: Option<&str>,
    paths: &[PathBuf],
) -> Result<(), CliError> {
    let (policy, tests) = read_modules(paths)?;
    let req = DraftRequest {
        name: name
            .map(String::from)
            .unwrap_or_else(|| default_name(paths)),
        source: policy.source,
        tests,
    };
    let d: Draft = connect(cli)?
        .call(Method::POST, "/v1/admin/policies/drafts", Some(&req))
        .await?;
    emit(wants_json(cli), &d, || {
        format!(
            "created draft {} ({}), revision {}; {} test(s) passed\n",
            d.id,
            d.name,
            d.revision,
            d.tests_passed.len()
        )
    });
    Ok(())
}

pub async fn draft_list(cli: &Cli) -> Result<(), CliError> {
    let list: DraftList = connect(cli)?
        .call(Method::GET, "/v1/admin/policies/drafts", None::<&()>)
        .await?;
    emit(wants_json(cli), &list, || {
        let rows: Vec<Vec<String>> = list
            .drafts
            .iter()
            .map(|d| {
                vec![
                    d.id.clone(),
                    d.name.clone(),
                    short(&d.revision),
                    d.author.clone(),
                    d.created_at.clone(),
                ]
            })
            .collect();
        table(&["ID", "NAME", "REVISION", "AUTHOR", "CREATED"], &rows)
    });
    Ok(())
}

fn draft_path(id: &str) -> Result<String, CliError> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(usage(format!("{id:?} is not a draft id (d-…)")));
    }
    Ok(format!("/v1/admin/policies/drafts/{id}"))
}

async fn fetch_draft(cli: &Cli, id: &str) -> Result<Draft, CliError> {
    connect(cli)?
        .call(Method::GET, &draft_path(id)?, None::<&()>)
        .await
}

pub async fn draft_show(cli: &Cli, id: &str) -> Result<(), CliError> {
    let d = fetch_draft(cli, id).await?;
    emit(wants_json(cli), &d, || {
        let mut out = fields(&[
            ("id", d.id.clone()),
            ("name", d.name.clone()),
            ("revision", d.revision.clone()),
            ("author", d.author.clone()),
            ("created", d.created_at.clone()),
            (
                "tests",
                d.tests
                    .iter()
                    .map(|t| t.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        ]);
        out.push('\n');
        out.push_str(d.source.as_deref().unwrap_or(""));
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out
    });
    Ok(())
}

pub async fn draft_delete(cli: &Cli, id: &str) -> Result<(), CliError> {
    let d: Draft = connect(cli)?
        .call(Method::DELETE, &draft_path(id)?, None::<&()>)
        .await?;
    emit(wants_json(cli), &d, || {
        format!("deleted draft {} ({})\n", d.id, d.name)
    });
    Ok(())
}

fn short(revision: &str) -> String {
    revision.chars().take(19).collect()
}

fn change_line(c: &PolicyChange) -> Vec<String> {
    vec![
        c.seq.to_string(),
        c.action.clone(),
        c.draft_id.clone().unwrap_or_else(|| "-".into()),
        c.name.clone().unwrap_or_else(|| "-".into()),
        c.revision
            .as_deref()
            .map(short)
            .unwrap_or_else(|| "-".into()),
        c.actor.clone(),
        c.at.clone(),
    ]
}

fn show_active(cli: &Cli, a: &ActivePolicy, verb: &str) {
    emit(wants_json(cli), a, || {
        let mut pairs = vec![
            ("layer", a.layer.clone()),
            ("revision", a.revision.clone()),
            ("origin", a.origin.clone()),
        ];
        if let Some(e) = &a.error {
            pairs.push(("error", e.clone()));
        }
        if !a.store_enabled {
            pairs.push(("policy store", "off (INTENTGATE_POLICY_STORE=off)".into()));
        }
        let mut out = verb.to_string();
        out.push_str(&fields(&pairs));
        if !a.history.is_empty() {
            out.push('\n');
            let rows: Vec<Vec<String>> = a.history.iter().map(change_line).collect();
            out.push_str(&table(
                &["CHANGE", "ACTION", "DRAFT", "NAME", "REVISION", "BY", "AT"],
                &rows,
            ));
        }
        out
    });
}

pub async fn active(cli: &Cli, clear: bool, totp: Option<String>) -> Result<(), CliError> {
    let client = connect(cli)?.with_step_up(totp);
    let (a, verb): (ActivePolicy, &str) = if clear {
        let a = client
            .call(Method::DELETE, "/v1/admin/policies/active", None::<&()>)
            .await?;
        (a, "cleared the store's active policy\n")
    } else {
        let a = client
            .call(Method::GET, "/v1/admin/policies/active", None::<&()>)
            .await?;
        (a, "")
    };
    show_active(cli, &a, verb);
    Ok(())
}

pub async fn promote(cli: &Cli, draft_id: &str, totp: Option<String>) -> Result<(), CliError> {
    draft_path(draft_id)?;
    let req = PromoteRequest {
        draft_id: draft_id.to_string(),
    };
    let a: ActivePolicy = connect(cli)?
        .with_step_up(totp)
        .call(Method::POST, "/v1/admin/policies/active", Some(&req))
        .await?;
    show_active(cli, &a, &format!("promoted {draft_id}\n"));
    Ok(())
}

pub async fn rollback(cli: &Cli, totp: Option<String>) -> Result<(), CliError> {
    let a: ActivePolicy = connect(cli)?
        .with_step_up(totp)
        .call(Method::POST, "/v1/admin/policies/rollback", None::<&()>)
        .await?;
    show_active(cli, &a, "rolled back\n");
    Ok(())
}

/// A policy named on the command line: a draft id (`d-…`) or policy files.
#[derive(Debug, Clone)]
pub enum PolicyRef {
    Draft(String),
    Files(Vec<PathBuf>),
}

impl PolicyRef {
    pub fn parse(arg: &str) -> PolicyRef {
        let p = PathBuf::from(arg);
        if !p.exists() && arg.starts_with("d-") {
            PolicyRef::Draft(arg.to_string())
        } else {
            PolicyRef::Files(vec![p])
        }
    }

    fn into_body(self) -> Result<(Option<String>, Option<String>), CliError> {
        match self {
            PolicyRef::Draft(id) => Ok((Some(id), None)),
            PolicyRef::Files(paths) => Ok((None, Some(read_modules(&paths)?.0.source))),
        }
    }

    async fn source(&self, cli: &Cli) -> Result<String, CliError> {
        match self {
            PolicyRef::Draft(id) => Ok(fetch_draft(cli, id).await?.source.unwrap_or_default()),
            PolicyRef::Files(paths) => Ok(read_modules(paths)?.0.source),
        }
    }
}

/// The window and paging of a replay.
#[derive(Debug, Clone, Default)]
pub struct Window {
    pub from: Option<String>,
    pub to: Option<String>,
    pub samples: Option<usize>,
}

/// Replay page by page (a progress bar on a terminal), summing the pages into one report.
async fn replay(
    cli: &Cli,
    candidate: PolicyRef,
    baseline: Option<PolicyRef>,
    window: &Window,
) -> Result<DryRunReport, CliError> {
    let (draft_id, source) = candidate.into_body()?;
    let (baseline_draft_id, baseline_source) = match baseline {
        Some(b) => b.into_body()?,
        None => (None, None),
    };
    let client = connect(cli)?;
    let mut body = DryRunBody {
        draft_id,
        source,
        baseline_draft_id,
        baseline_source,
        from: window.from.clone(),
        to: window.to.clone(),
        samples: window.samples,
        cursor: None,
        limit: Some(PAGE),
    };
    let bar = if std::io::stderr().is_terminal() && !wants_json(cli) {
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr())
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut total = DryRunReport::default();
    let want_samples = window.samples.unwrap_or(20);
    let mut samples = Vec::new();
    loop {
        let mut page: DryRunReport = client
            .call(Method::POST, "/v1/admin/policies/dry-run", Some(&body))
            .await?;
        if let Some(t) = page.total {
            bar.set_length(t);
            total.total = Some(t);
        }
        bar.inc(page.decisions + page.skipped);
        samples.append(&mut page.samples);
        merge(&mut total, page.clone());
        if page.next_cursor.is_some() && page.next_cursor == body.cursor {
            return Err(CliError::new(
                ErrorCode::Internal,
                "igd answered the same dry-run cursor twice; stopping",
            ));
        }
        match page.next_cursor {
            Some(c) => {
                // Later pages cover the same window: pin it, so `to = now` does not move.
                body.from = Some(total.from.clone());
                body.to = Some(total.to.clone());
                body.cursor = Some(c);
            }
            None => break,
        }
    }
    bar.finish_and_clear();
    total.samples = pick_samples(samples, want_samples);
    Ok(total)
}

/// Up to `want` samples from every page's, taken in turn from each kind of change (allow→block,
/// block→allow, …) so that a rare one shows beside a common one, as igd picks within a page.
fn pick_samples(
    samples: Vec<intentgate_proto::api::DryRunSample>,
    want: usize,
) -> Vec<intentgate_proto::api::DryRunSample> {
    let mut kinds: Vec<(String, std::collections::VecDeque<_>)> = Vec::new();
    for s in samples {
        let kind = format!("{}->{}", s.before, s.after);
        match kinds.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, q)) => q.push_back(s),
            None => kinds.push((kind, std::collections::VecDeque::from([s]))),
        }
    }
    let mut picked = Vec::new();
    while picked.len() < want && kinds.iter().any(|(_, q)| !q.is_empty()) {
        for (_, q) in kinds.iter_mut() {
            if picked.len() < want {
                if let Some(s) = q.pop_front() {
                    picked.push(s);
                }
            }
        }
    }
    picked
}

fn merge(total: &mut DryRunReport, page: DryRunReport) {
    total.decisions += page.decisions;
    total.would_allow += page.would_allow;
    total.would_block += page.would_block;
    total.would_escalate += page.would_escalate;
    total.skipped += page.skipped;
    total.args_unavailable += page.args_unavailable;
    total.args_partial += page.args_partial;
    total.errors += page.errors;
    total.baseline_errors += page.baseline_errors;
    for (k, v) in page.transitions {
        *total.transitions.entry(k).or_default() += v;
    }
    total.revision = page.revision;
    total.baseline_revision = page.baseline_revision;
    total.from = page.from;
    total.to = page.to;
    total.next_cursor = None;
}

/// The report for people: the transition matrix as a table, then the divergent samples.
fn report_text(r: &DryRunReport, before: &str) -> String {
    let mut out = fields(&[
        ("candidate", r.revision.clone()),
        ("compared with", before.to_string()),
        ("window", format!("{} .. {}", r.from, r.to)),
        ("decisions replayed", r.decisions.to_string()),
        ("would allow", r.would_allow.to_string()),
        ("would block", r.would_block.to_string()),
        ("would escalate", r.would_escalate.to_string()),
        (
            "not replayed",
            format!("{} (refused before the policy was asked)", r.skipped),
        ),
    ]);
    if r.errors > 0 {
        out.push_str(&format!(
            "warning: the candidate gave no decision for {} call(s) (an evaluation error, its time limit or an undefined decision): they count as blocks, as igd would block them; see the samples' reasons\n",
            r.errors
        ));
    }
    if r.baseline_errors > 0 {
        out.push_str(&format!(
            "warning: the baseline gave no decision for {} call(s): they count as its blocks\n",
            r.baseline_errors
        ));
    }
    if r.args_unavailable + r.args_partial > 0 {
        out.push_str(&format!(
            "note: {} decision(s) replayed without argument values and {} with strings reduced to their lengths (INTENTGATE_AUDIT_PERSIST_ARG_VALUES): rules on arguments are approximate for them\n",
            r.args_unavailable, r.args_partial
        ));
    }
    out.push('\n');
    let rows: Vec<Vec<String>> = VERDICTS
        .iter()
        .map(|b| {
            let mut row = vec![format!("{b} →")];
            row.extend(VERDICTS.iter().map(|a| {
                r.transitions
                    .get(&format!("{b}->{a}"))
                    .copied()
                    .unwrap_or(0)
                    .to_string()
            }));
            row
        })
        .collect();
    out.push_str(&table(
        &["BEFORE \\ AFTER", "ALLOW", "BLOCK", "ESCALATE"],
        &rows,
    ));
    if !r.samples.is_empty() {
        out.push('\n');
        let rows: Vec<Vec<String>> = r
            .samples
            .iter()
            .map(|s| {
                vec![
                    s.ts.clone(),
                    s.tenant.clone(),
                    s.subject.clone().unwrap_or_default(),
                    s.tool.clone().unwrap_or_default(),
                    format!("{}→{}", s.before, s.after),
                    s.reason.clone(),
                ]
            })
            .collect();
        out.push_str(&table(
            &["TIME", "TENANT", "SUBJECT", "TOOL", "CHANGE", "REASON"],
            &rows,
        ));
    }
    out
}

pub async fn dry_run(cli: &Cli, candidate: PolicyRef, window: &Window) -> Result<(), CliError> {
    let r = replay(cli, candidate, None, window).await?;
    emit(wants_json(cli), &r, || {
        report_text(&r, "the decisions as recorded")
    });
    Ok(())
}

/// `diff A B`: the source diff, then B replayed against A on the same recorded inputs.
pub async fn diff(cli: &Cli, a: PolicyRef, b: PolicyRef, window: &Window) -> Result<(), CliError> {
    let (src_a, src_b) = (a.source(cli).await?, b.source(cli).await?);
    let lines = line_diff(&src_a, &src_b)?;
    let r = replay(cli, b, Some(a), window).await?;
    if wants_json(cli) {
        let v = serde_json::json!({"diff": lines, "dry_run": r});
        emit(true, &v, String::new);
    } else {
        let mut out = lines.join("\n");
        if !out.is_empty() {
            out.push_str("\n\n");
        }
        let before = format!(
            "the baseline {} on the same recorded inputs",
            r.baseline_revision.clone().unwrap_or_default()
        );
        out.push_str(&report_text(&r, &before));
        print_text(&out);
    }
    Ok(())
}

/// Most lines `diff` compares (the table below is lines × lines).
const MAX_DIFF_LINES: usize = 20_000;

/// A line diff of `a` → `b` (longest common subsequence), as `-`/`+`/` ` lines, unchanged runs
/// longer than six lines elided.
pub fn line_diff(a: &str, b: &str) -> Result<Vec<String>, CliError> {
    let a: Vec<&str> = a.lines().collect();
    let b: Vec<&str> = b.lines().collect();
    let cells = (a.len() + 1).saturating_mul(b.len() + 1);
    if a.len() > MAX_DIFF_LINES
        || b.len() > MAX_DIFF_LINES
        || cells > MAX_DIFF_LINES.saturating_mul(MAX_DIFF_LINES) / 16
    {
        return Err(CliError::new(
            ErrorCode::InvalidRequest,
            "the policies are too large to diff here; use diff(1) on the files",
        ));
    }
    // lcs[i][j] = LCS length of a[i..] and b[j..].
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut ops: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            ops.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            // Removals before additions, as diff(1) shows a changed line.
            ops.push(('-', a[i]));
            i += 1;
        } else {
            ops.push(('+', b[j]));
            j += 1;
        }
    }
    if ops.iter().all(|(op, _)| *op == ' ') {
        return Ok(Vec::new());
    }
    // Keep three lines of context around each change.
    let near = |k: usize| {
        ops[k.saturating_sub(3)..(k + 4).min(ops.len())]
            .iter()
            .any(|(op, _)| *op != ' ')
    };
    let mut out = Vec::new();
    let mut elided = false;
    for (k, (op, line)) in ops.iter().enumerate() {
        if *op != ' ' || near(k) {
            out.push(format!("{op}{line}"));
            elided = false;
        } else if !elided {
            out.push("…".to_string());
            elided = true;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_marks_changes_with_context() {
        let a = "a\nb\nc\nd\ne\nf\ng\nh\ni\n";
        let b = "a\nb\nc\nd\nE\nf\ng\nh\ni\nj\n";
        let d = line_diff(a, b).unwrap();
        let want = [
            "…", " b", " c", " d", "-e", "+E", " f", " g", " h", " i", "+j",
        ];
        assert_eq!(d, want.map(String::from).to_vec());
        assert!(line_diff("same\n", "same\n").unwrap().is_empty());
    }
}
