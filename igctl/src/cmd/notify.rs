//! `notify add|list|test|preview|remove`: notification channels (Slack, Teams, PagerDuty) of a
//! tenant. A webhook URL or routing key given as `-` is read from a prompt without echo (or from
//! stdin in a script), so it stays out of shell history; igd never shows it again.

use super::{connect, emit, wants_json};
use crate::cli::{Cli, NotifyAddArgs, NotifyCommand};
use crate::error::CliError;
use crate::output::{eprint, fields, print_text, table};
use hyper::Method;
use intentgate_proto::api::{
    ErrorCode, NotifyChannel, NotifyChannelList, NotifyChannelRequest, NotifyPreview,
    NotifyPreviewRequest, NotifyTestResult,
};
use std::io::{BufRead, IsTerminal};

pub async fn run(cli: &Cli, command: &NotifyCommand) -> Result<(), CliError> {
    let json = wants_json(cli);
    match command {
        NotifyCommand::Add(args) => add(cli, json, args).await,
        NotifyCommand::List { tenant, json: flag } => list(cli, json || *flag, tenant).await,
        NotifyCommand::Test { id } => test(cli, json, id).await,
        NotifyCommand::Preview { id, event } => preview(cli, json, id, event.clone()).await,
        NotifyCommand::Remove { id } => {
            let path = format!("/v1/admin/notify/{}", crate::encode_query(id));
            let ch: NotifyChannel = connect(cli)?
                .call(Method::DELETE, &path, None::<&()>)
                .await?;
            emit(json, &ch, || {
                format!(
                    "removed {} channel {} ({}) of tenant {}\n",
                    ch.kind, ch.name, ch.id, ch.tenant
                )
            });
            Ok(())
        }
    }
}

/// A secret given on the command line, or `-`: typed at a prompt without echo on a terminal,
/// else the first line of stdin.
fn secret_arg(value: Option<&String>, what: &str) -> Result<Option<String>, CliError> {
    let Some(value) = value else {
        return Ok(None);
    };
    if value != "-" {
        return Ok(Some(value.clone()));
    }
    let text = if std::io::stdin().is_terminal() {
        read_hidden(&format!("{what}: "))?
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| CliError::usage(format!("cannot read the {what} from stdin: {e}")))?;
        line
    };
    let text = text.trim().to_string();
    if text.is_empty() {
        return Err(CliError::usage(format!("no {what} given")));
    }
    Ok(Some(text))
}

/// Read a line from the terminal without echoing it.
fn read_hidden(prompt: &str) -> Result<String, CliError> {
    use crossterm::event::{read, Event, KeyCode, KeyEventKind, KeyModifiers};
    eprint(prompt);
    let failed = |e: std::io::Error| CliError::usage(format!("cannot read from the terminal: {e}"));
    crossterm::terminal::enable_raw_mode().map_err(failed)?;
    let mut text = String::new();
    let outcome = loop {
        match read() {
            Ok(Event::Key(k)) if k.kind != KeyEventKind::Release => match k.code {
                KeyCode::Enter => break Ok(()),
                KeyCode::Char('c' | 'd') if k.modifiers.contains(KeyModifiers::CONTROL) => {
                    break Err(CliError::usage("cancelled"))
                }
                KeyCode::Char(c) => text.push(c),
                KeyCode::Backspace => {
                    text.pop();
                }
                _ => {}
            },
            Ok(Event::Paste(p)) => text.push_str(&p),
            Ok(_) => {}
            Err(e) => break Err(failed(e)),
        }
    };
    let _ = crossterm::terminal::disable_raw_mode();
    eprint("\n");
    outcome.map(|()| text)
}

async fn add(cli: &Cli, json: bool, args: &NotifyAddArgs) -> Result<(), CliError> {
    let pagerduty = args.kind == "pagerduty";
    if pagerduty && args.routing_key.is_none() {
        return Err(CliError::usage(
            "a pagerduty channel needs --routing-key (the Events API v2 integration key; - to type it)",
        ));
    }
    if !pagerduty && args.webhook_url.is_none() {
        return Err(CliError::usage(format!(
            "a {} channel needs --webhook-url (the webhook URL; - to type it)",
            args.kind
        )));
    }
    if !pagerduty && (args.routing_key.is_some() || args.events_url.is_some()) {
        return Err(CliError::usage(format!(
            "--routing-key and --events-url are for pagerduty, not {}",
            args.kind
        )));
    }
    if pagerduty && args.webhook_url.is_some() {
        return Err(CliError::usage(
            "pagerduty takes --routing-key (and --events-url), not --webhook-url",
        ));
    }
    let routing_key = secret_arg(args.routing_key.as_ref(), "PagerDuty routing key")?;
    let url = match &args.events_url {
        Some(u) => Some(u.clone()),
        None => secret_arg(args.webhook_url.as_ref(), "webhook URL")?,
    };
    let req = NotifyChannelRequest {
        tenant: args.tenant.clone(),
        kind: args.kind.clone(),
        name: args.name.clone(),
        url,
        routing_key,
        events: (!args.events.is_empty()).then(|| args.events.clone()),
    };
    let ch: NotifyChannel = connect(cli)?
        .call(Method::POST, "/v1/admin/notify", Some(&req))
        .await?;
    emit(json, &ch, || {
        let mut out = format!(
            "added {} channel {} for tenant {}\n",
            ch.kind, ch.name, ch.tenant
        );
        out.push_str(&fields(&[
            ("id", ch.id.clone()),
            ("target", ch.target.clone()),
            ("events", ch.events.join(", ")),
        ]));
        out.push_str(&format!("check it with: igctl notify test {}\n", ch.id));
        out
    });
    Ok(())
}

async fn list(cli: &Cli, json: bool, tenant: &Option<String>) -> Result<(), CliError> {
    let path = match tenant {
        Some(t) => format!("/v1/admin/notify?tenant={}", crate::encode_query(t)),
        None => "/v1/admin/notify".to_string(),
    };
    let list: NotifyChannelList = connect(cli)?.call(Method::GET, &path, None::<&()>).await?;
    emit(json, &list, || {
        let rows: Vec<Vec<String>> = list
            .channels
            .iter()
            .map(|c| {
                vec![
                    c.id.clone(),
                    c.tenant.clone(),
                    c.kind.clone(),
                    c.name.clone(),
                    c.events.join(","),
                    c.target.clone(),
                    c.created_at.clone(),
                    c.created_by.clone(),
                ]
            })
            .collect();
        table(
            &[
                "ID", "TENANT", "KIND", "NAME", "EVENTS", "TARGET", "CREATED", "BY",
            ],
            &rows,
        )
    });
    Ok(())
}

async fn test(cli: &Cli, json: bool, id: &str) -> Result<(), CliError> {
    let path = format!("/v1/admin/notify/{}/test", crate::encode_query(id));
    let result: NotifyTestResult = connect(cli)?.call(Method::POST, &path, None::<&()>).await?;
    if !result.delivered {
        // Exit 1 with the receiver's answer: the channel is not working.
        return Err(CliError::new(ErrorCode::Unavailable, result.message));
    }
    emit(json, &result, || {
        let status = result
            .status
            .map(|s| format!(" (HTTP {s})"))
            .unwrap_or_default();
        format!("{}{status}\n", result.message)
    });
    Ok(())
}

async fn preview(
    cli: &Cli,
    json: bool,
    id: &str,
    event_id: Option<String>,
) -> Result<(), CliError> {
    let path = format!("/v1/admin/notify/{}/preview", crate::encode_query(id));
    let req = NotifyPreviewRequest { event_id };
    let p: NotifyPreview = connect(cli)?.call(Method::POST, &path, Some(&req)).await?;
    if json {
        emit(true, &p, String::new);
        return Ok(());
    }
    let what = match &p.event_id {
        Some(e) => format!("audit entry {e}"),
        None => "a sample blocked call".to_string(),
    };
    let mut out = format!(
        "{} channel {}: the body for {what} (nothing was sent)",
        p.kind, p.channel
    );
    if !p.would_send {
        out.push_str("; its events do not select this entry, so it would not be sent");
    }
    if !p.redacted.is_empty() {
        out.push_str(&format!("; redacted: {}", p.redacted.join(", ")));
    }
    out.push('\n');
    print_text(&out);
    // The body is JSON: exact, and its own escaping keeps control characters off the terminal.
    crate::output::print(&format!(
        "{}\n",
        serde_json::to_string_pretty(&p.body).unwrap_or_default()
    ));
    Ok(())
}
