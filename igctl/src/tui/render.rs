//! Drawing the approvals TUI: a function of [`App`], nothing else (no clock, no IO).
//!
//! Narrow terminals (an 80×24 SSH session) get the queue on top and the detail below; wide
//! ones the queue on the left. Every string that came from igd — and so possibly from an agent:
//! tool names, subjects, arguments, reasons, error messages — passes through [`clean`] first.

use super::app::{args_lines, format_left, App, Connection, Mode, TOTP_DIGITS};
use intentgate_proto::api::Approval;
use intentgate_proto::text::escape_controls;
use ratatui::layout::{Alignment, Constraint, Layout, Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, List, ListItem, ListState, Paragraph};
use ratatui::Frame;

/// From this width on, the queue sits left of the detail.
const WIDE: u16 = 110;
/// The label column of the detail pane.
const LABEL: usize = 9;
/// A long value (reason, tool, agent) takes at most this many lines in the detail pane.
const MAX_VALUE_LINES: usize = 3;
/// One argument line longer than the pane takes at most this many rows.
const MAX_ARG_ROWS: usize = 12;

/// Untrusted text made safe for a terminal: control characters (C0, DEL, C1), bidirectional
/// overrides and line separators become visible `\u{…}` escapes, so a value can neither emit
/// an escape sequence nor reorder or break the line it is shown on.
pub fn clean(text: &str) -> String {
    escape_controls(text).into_owned()
}

pub fn render(app: &App, frame: &mut Frame) {
    let area = frame.area();
    let [header, body, status, keys] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let theme = Theme::new(app.color);
    render_header(app, &theme, frame, header);
    let (queue, detail) = if area.width >= WIDE {
        let [q, d] =
            Layout::horizontal([Constraint::Percentage(40), Constraint::Min(30)]).areas(body);
        (q, d)
    } else {
        let rows = u16::try_from(app.visible().len()).unwrap_or(u16::MAX);
        let height = rows.saturating_add(2).clamp(3, 7);
        let [q, d] = Layout::vertical([Constraint::Length(height), Constraint::Min(3)]).areas(body);
        (q, d)
    };
    render_queue(app, &theme, frame, queue);
    render_detail(app, &theme, frame, detail);
    render_status(app, &theme, frame, status);
    render_keys(app, &theme, frame, keys);
    match &app.mode {
        Mode::Help => render_help(&theme, frame, area),
        Mode::ConfirmApprove { id } => render_confirm(app, &theme, frame, area, id),
        Mode::Totp { id, code } => render_totp(app, &theme, frame, area, id, code),
        Mode::Note { id, note } => render_note(app, &theme, frame, area, id, note),
        Mode::Normal | Mode::Filter => {}
    }
}

/// Colours when `NO_COLOR` is unset; modifiers alone otherwise.
struct Theme {
    color: bool,
}

impl Theme {
    fn new(color: bool) -> Self {
        Theme { color }
    }
    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }
    fn badge(&self) -> Style {
        if self.color {
            Style::new()
                .fg(Color::White)
                .bg(Color::Red)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        }
    }
    fn error(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }
    fn label(&self) -> Style {
        self.fg(Color::Cyan)
    }
    fn key(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }
}

fn agent(row: &Approval) -> String {
    match &row.delegated_subject {
        Some(d) => format!("{}/{}", clean(&row.subject), clean(d)),
        None => clean(&row.subject),
    }
}

fn time_left(app: &App, row: &Approval) -> String {
    app.seconds_left(row)
        .map_or_else(|| "?".to_string(), format_left)
}

fn render_header(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let mut left = format!(" IntentGate approvals · {} pending", app.pending_count());
    if !app.filter.is_empty() {
        left.push_str(&format!(
            " · {} match /{}",
            app.visible().len(),
            clean(&app.filter)
        ));
    }
    let (right, style) = match &app.connection {
        Connection::Connecting => ("connecting… ".to_string(), theme.fg(Color::Yellow)),
        Connection::Live => ("● live ".to_string(), theme.fg(Color::Green)),
        Connection::Disconnected { .. } => (
            format!(
                "disconnected — reconnecting in {}s ",
                app.reconnect_in().unwrap_or(0)
            ),
            theme.error(),
        ),
    };
    let right_width = u16::try_from(right.chars().count()).unwrap_or(u16::MAX);
    let [l, r] =
        Layout::horizontal([Constraint::Min(0), Constraint::Length(right_width)]).areas(area);
    frame.render_widget(
        Paragraph::new(left).style(Style::new().add_modifier(Modifier::BOLD)),
        l,
    );
    frame.render_widget(
        Paragraph::new(right)
            .style(style)
            .alignment(Alignment::Right),
        r,
    );
}

fn render_queue(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let visible = app.visible();
    let title = if app.filter.is_empty() {
        format!(" Queue ({}) ", visible.len())
    } else {
        format!(" Queue ({} of {}) ", visible.len(), app.pending_count())
    };
    let block = Block::bordered().title(title);
    if visible.is_empty() {
        let text = if app.pending_count() == 0 {
            "No pending approvals."
        } else {
            "No approval matches the filter (Esc clears it)."
        };
        frame.render_widget(Paragraph::new(text).block(block), area);
        return;
    }
    let items: Vec<ListItem> = visible
        .iter()
        .map(|row| {
            let mut spans = vec![Span::raw(format!("{:>7} ", time_left(app, row)))];
            if row.requires_step_up {
                spans.push(Span::styled("STEP-UP", theme.badge()));
                spans.push(Span::raw(" "));
            } else {
                spans.push(Span::raw("        "));
            }
            spans.push(Span::raw(format!(
                "{} · {} · {}",
                clean(&row.tenant),
                clean(&row.tool),
                agent(row)
            )));
            if app.in_flight(&row.id) {
                spans.push(Span::styled(" (sending…)", theme.fg(Color::Yellow)));
            }
            ListItem::new(Line::from(spans))
        })
        .collect();
    let list = List::new(items)
        .block(block)
        .highlight_symbol("> ")
        .highlight_style(Style::new().add_modifier(Modifier::REVERSED));
    let mut state = ListState::default().with_selected(app.selected_index());
    frame.render_stateful_widget(list, area, &mut state);
}

/// `text` cut into pieces at most `width` columns wide (by character; wide characters count
/// two columns).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut out = vec![String::new()];
    let mut used = 0;
    for c in text.chars() {
        let w = Span::raw(c.to_string()).width();
        if used + w > width && used > 0 {
            out.push(String::new());
            used = 0;
        }
        if let Some(last) = out.last_mut() {
            last.push(c);
        }
        used += w;
    }
    out
}

/// A `label   value` field, the value wrapped under itself and cut at `max_lines`.
fn field<'a>(
    theme: &Theme,
    label: &str,
    value: Vec<Span<'a>>,
    width: usize,
    max_lines: usize,
) -> Vec<Line<'a>> {
    let plain: String = value.iter().map(|s| s.content.as_ref()).collect();
    let value_width = width.saturating_sub(LABEL);
    let label_span = Span::styled(format!("{label:<LABEL$}"), theme.label());
    // A single styled span (or one that fits) keeps its styles; a long value is re-cut plain.
    if Line::from(value.clone()).width() <= value_width {
        let mut spans = vec![label_span];
        spans.extend(value);
        return vec![Line::from(spans)];
    }
    let style = value.first().map(|s| s.style).unwrap_or_default();
    let mut pieces = wrap(&plain, value_width);
    if pieces.len() > max_lines {
        pieces.truncate(max_lines);
        if let Some(last) = pieces.last_mut() {
            last.pop();
            last.push('…');
        }
    }
    pieces
        .into_iter()
        .enumerate()
        .map(|(i, piece)| {
            let head = if i == 0 {
                label_span.clone()
            } else {
                Span::raw(" ".repeat(LABEL))
            };
            Line::from(vec![head, Span::styled(piece, style)])
        })
        .collect()
}

fn intent_text(intent: &serde_json::Value) -> String {
    match intent {
        serde_json::Value::Null => "none".to_string(),
        serde_json::Value::Object(o) => {
            let text = |k: &str| match o.get(k) {
                Some(serde_json::Value::String(s)) => Some(clean(s)),
                Some(serde_json::Value::Null) | None => None,
                Some(other) => Some(clean(&other.to_string())),
            };
            let confidence = o
                .get("confidence")
                .and_then(serde_json::Value::as_f64)
                .map(|c| format!("confidence {c:.2}"));
            let parts: Vec<String> = [text("summary"), text("category"), confidence]
                .into_iter()
                .flatten()
                .collect();
            if parts.is_empty() {
                "none".to_string()
            } else {
                parts.join(" · ")
            }
        }
        other => clean(&other.to_string()),
    }
}

fn render_detail(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let Some(row) = app.selected_row() else {
        frame.render_widget(
            Paragraph::new("Nothing selected.").block(Block::bordered().title(" Detail ")),
            area,
        );
        return;
    };
    let mut block = Block::bordered().title(format!(" {} ", clean(&row.id)));
    if row.requires_step_up {
        block =
            block.title_top(Line::from(Span::styled(" STEP-UP ", theme.badge())).right_aligned());
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = usize::from(inner.width);

    let mut status = vec![Span::raw(clean(&row.status))];
    match app.seconds_left(row) {
        Some(s) if s > 0 => status.push(Span::raw(format!(" · {} left", format_left(s)))),
        Some(_) => status.push(Span::styled(" · expired", theme.error())),
        None => {}
    }
    if app.in_flight(&row.id) {
        status.push(Span::styled(" · decision sent…", theme.fg(Color::Yellow)));
    }
    let mut lines = Vec::new();
    lines.extend(field(theme, "Status", status, width, 1));
    let mut who = clean(&row.subject);
    if let Some(d) = &row.delegated_subject {
        who.push_str(&format!(" (delegated: {})", clean(d)));
    }
    lines.extend(field(theme, "Agent", vec![Span::raw(who)], width, 2));
    lines.extend(field(
        theme,
        "Tenant",
        vec![Span::raw(clean(&row.tenant))],
        width,
        1,
    ));
    lines.extend(field(
        theme,
        "Tool",
        vec![Span::raw(clean(&row.tool))],
        width,
        2,
    ));
    lines.extend(field(
        theme,
        "Intent",
        vec![Span::raw(intent_text(&row.intent))],
        width,
        2,
    ));
    lines.extend(field(
        theme,
        "Reason",
        vec![Span::raw(clean(&row.reason))],
        width,
        MAX_VALUE_LINES,
    ));
    if row.requires_step_up {
        lines.extend(field(
            theme,
            "Step-up",
            vec![
                Span::styled("STEP-UP", theme.badge()),
                Span::raw(" approving needs a TOTP code"),
            ],
            width,
            1,
        ));
    }
    let args = args_lines(&row.args);
    let first = usize::from(app.args_scroll).min(args.len().saturating_sub(1));
    let height = usize::from(inner.height);
    let room = height.saturating_sub(lines.len() + 1);
    let mut shown = Vec::new();
    let mut last = first;
    'fill: for (i, line) in args.iter().enumerate().skip(first) {
        for (n, piece) in wrap(&clean(line), width).into_iter().enumerate() {
            if shown.len() == room || n == MAX_ARG_ROWS {
                if shown.len() == room {
                    break 'fill;
                }
                break;
            }
            shown.push(Line::from(piece));
        }
        last = i;
    }
    let position = if args.len() > 1 && (first > 0 || last + 1 < args.len()) {
        format!(
            " lines {}-{} of {} (PgUp/PgDn)",
            first + 1,
            last + 1,
            args.len()
        )
    } else {
        String::new()
    };
    lines.push(Line::from(vec![
        Span::styled("Arguments", theme.label()),
        Span::raw(position),
    ]));
    lines.extend(shown);
    frame.render_widget(Paragraph::new(lines), inner);
}

fn render_status(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let line = if app.mode == Mode::Filter {
        let text = format!("/{}", clean(&app.filter));
        let x = area
            .x
            .saturating_add(u16::try_from(Line::from(text.as_str()).width()).unwrap_or(0));
        frame.set_cursor_position(Position::new(x.min(area.right().saturating_sub(1)), area.y));
        Line::from(text)
    } else if let Some(status) = &app.status {
        let style = if status.error {
            theme.error()
        } else {
            theme.fg(Color::Green)
        };
        Line::from(Span::styled(clean(&status.text), style))
    } else if let Connection::Disconnected { error, .. } = &app.connection {
        Line::from(Span::styled(
            format!("disconnected: {}", clean(error)),
            theme.error(),
        ))
    } else {
        Line::default()
    };
    frame.render_widget(Paragraph::new(line), area);
}

fn render_keys(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let mut spans = Vec::new();
    for (i, (key, what)) in app.keys().into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw("  "));
        }
        spans.push(Span::styled(key, theme.key()));
        spans.push(Span::raw(format!(" {what}")));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// A box of `width`×`height` (at most the screen) in the middle of `area`, cleared.
fn modal(frame: &mut Frame, area: Rect, width: u16, height: u16, title: String) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    let rect = Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    );
    frame.render_widget(Clear, rect);
    let block = Block::bordered().title(title);
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    inner
}

fn call_line(app: &App, id: &str) -> String {
    match app.row(id) {
        Some(row) => format!(
            "{} for {} in {}",
            clean(&row.tool),
            agent(row),
            clean(&row.tenant)
        ),
        None => "(no longer pending)".to_string(),
    }
}

fn render_help(theme: &Theme, frame: &mut Frame, area: Rect) {
    let keys: [(&str, &str); 10] = [
        ("↑/↓  j/k", "select a call"),
        ("g/G", "first / last call"),
        ("PgUp/PgDn", "scroll the arguments (also K/J)"),
        ("a", "approve (a TOTP code when STEP-UP)"),
        ("r", "reject, with a note for the audit log"),
        ("/", "filter: tenant, agent, tool, reason"),
        ("Esc", "clear the filter / close a dialog"),
        ("Enter", "submit a dialog"),
        ("?", "this help"),
        ("q  Ctrl-C", "quit"),
    ];
    let inner = modal(frame, area, 56, 14, " Keys ".to_string());
    let mut lines: Vec<Line> = keys
        .iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(format!("{k:<11}"), theme.label()),
                Span::raw(*what),
            ])
        })
        .collect();
    lines.push(Line::default());
    lines.push(Line::from("Esc or ? closes this help."));
    frame.render_widget(Paragraph::new(lines), inner);
}

fn render_confirm(app: &App, theme: &Theme, frame: &mut Frame, area: Rect, id: &str) {
    let inner = modal(frame, area, 60, 6, format!(" Approve {}? ", clean(id)));
    let lines = vec![
        Line::from(call_line(app, id)),
        Line::default(),
        Line::from(vec![
            Span::styled("Enter", theme.key()),
            Span::raw(" approve  "),
            Span::styled("Esc", theme.key()),
            Span::raw(" cancel"),
        ]),
    ];
    frame.render_widget(Paragraph::new(lines), inner);
}

fn render_totp(app: &App, theme: &Theme, frame: &mut Frame, area: Rect, id: &str, code: &str) {
    let inner = modal(
        frame,
        area,
        60,
        8,
        format!(" Step-up: approve {} ", clean(id)),
    );
    let mut boxes = String::new();
    for i in 0..TOTP_DIGITS {
        boxes.push(code.chars().nth(i).unwrap_or('_'));
        if i + 1 < TOTP_DIGITS {
            boxes.push(' ');
        }
    }
    let mut lines = vec![
        Line::from(call_line(app, id)),
        Line::default(),
        Line::from(vec![
            Span::raw("TOTP code (6 digits): "),
            Span::styled(boxes, Style::new().add_modifier(Modifier::BOLD)),
        ]),
        Line::default(),
    ];
    if let Some(left) = app.lockout_left() {
        lines.push(Line::from(Span::styled(
            format!("locked for {left}s — too many wrong codes"),
            theme.error(),
        )));
    } else if app.in_flight(id) {
        lines.push(Line::from(Span::styled(
            "checking…",
            theme.fg(Color::Yellow),
        )));
    } else if let Some(status) = app.status.as_ref().filter(|s| s.error) {
        lines.push(Line::from(Span::styled(clean(&status.text), theme.error())));
    }
    frame.render_widget(Paragraph::new(lines), inner);
    if app.lockout_left().is_none() && !app.in_flight(id) {
        let typed = u16::try_from(code.len().min(TOTP_DIGITS - 1) * 2).unwrap_or(0);
        frame.set_cursor_position(Position::new(inner.x + 22 + typed, inner.y + 2));
    }
}

fn render_note(app: &App, theme: &Theme, frame: &mut Frame, area: Rect, id: &str, note: &str) {
    let inner = modal(frame, area, 64, 7, format!(" Reject {} ", clean(id)));
    // Show the end of a long note: that is where the typing happens.
    let room = usize::from(inner.width).saturating_sub(3).max(1);
    let chars: Vec<char> = note.chars().collect();
    let tail: String = chars[chars.len().saturating_sub(room)..].iter().collect();
    let lines = vec![
        Line::from(call_line(app, id)),
        Line::from(Span::styled(
            "Note for the audit log (optional):",
            theme.label(),
        )),
        Line::from(format!("> {}", clean(&tail))),
        Line::default(),
        Line::from(vec![
            Span::styled("Enter", theme.key()),
            Span::raw(" reject  "),
            Span::styled("Esc", theme.key()),
            Span::raw(" cancel"),
        ]),
    ];
    frame.render_widget(Paragraph::new(lines), inner);
    let x = inner.x + 2 + u16::try_from(Line::from(clean(&tail)).width()).unwrap_or(0);
    frame.set_cursor_position(Position::new(
        x.min(inner.right().saturating_sub(1)),
        inner.y + 2,
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::CliError;
    use crate::tui::app::tests::{key, row, typed, NOW};
    use crate::tui::app::{Decision, Event};
    use crossterm::event::KeyCode;
    use intentgate_proto::api::ErrorCode;
    use intentgate_proto::text::is_unsafe_for_terminal;
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;
    use serde_json::json;
    use std::path::PathBuf;
    use std::time::Duration;

    const SIZES: [(u16, u16); 2] = [(80, 24), (160, 40)];

    /// The screen as text, one line per row, trailing blanks cut.
    fn draw(app: &App, width: u16, height: u16) -> String {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal.draw(|f| render(app, f)).unwrap();
        let buffer = terminal.backend().buffer();
        let mut out = String::new();
        for y in 0..height {
            let mut line = String::new();
            for x in 0..width {
                line.push_str(buffer.content()[usize::from(y * width + x)].symbol());
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    /// Compare with `igctl/tests/snapshots/NAME.txt`; `UPDATE_SNAPSHOTS=1` rewrites it.
    fn assert_snapshot(name: &str, screen: &str) {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/snapshots")
            .join(format!("{name}.txt"));
        if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, screen).unwrap();
            return;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (UPDATE_SNAPSHOTS=1 writes it); the screen:\n{screen}",
                path.display()
            )
        });
        assert!(
            want == screen,
            "{} differs (UPDATE_SNAPSHOTS=1 rewrites it)\n--- want\n{want}--- got\n{screen}",
            path.display()
        );
    }

    fn assert_terminal_safe(screen: &str) {
        let bad: Vec<char> = screen
            .chars()
            .filter(|c| *c != '\n' && is_unsafe_for_terminal(*c))
            .collect();
        assert!(
            bad.is_empty(),
            "raw control characters {bad:?} in\n{screen}"
        );
    }

    /// An agent that tries to rewrite the operator's terminal through every field it controls.
    fn hostile() -> Approval {
        let mut r = row("apr_evil", "exfil\u{1b}]0;pwned\u{7}", 200, false);
        r.subject = "bot\u{202e}gpj.exe".into();
        r.delegated_subject = Some("sub\u{2066}agent".into());
        r.tenant = "acme".into();
        r.reason = "looks \u{1b}[31mfine\u{1b}[0m\r\nreally".into();
        r.intent = serde_json::Value::Null;
        r.args = json!({
            "cmd": "rm -rf / \u{1b}[2J",
            "csi": "\u{9b}31m",
            "bidi": "abc\u{202e}fed",
            "nested": {"k": [1, 2, 3]},
        });
        r
    }

    fn queue_app() -> App {
        let mut app = App::new(NOW, false);
        let mut delegated = row("apr_0002", "send_email", 45, false);
        delegated.delegated_subject = Some("summarizer".into());
        app.update(Event::Snapshot(vec![
            row("apr_0001", "wire_transfer", 598, true),
            delegated,
            hostile(),
        ]));
        app.update(Event::Tick(NOW + Duration::from_secs(2)));
        app
    }

    #[test]
    fn queue_screen() {
        for (w, h) in SIZES {
            let app = queue_app();
            let screen = draw(&app, w, h);
            assert_terminal_safe(&screen);
            assert!(screen.contains("3 pending"), "{screen}");
            assert!(screen.contains("● live"), "{screen}");
            assert!(screen.contains("STEP-UP"), "{screen}");
            // The soonest to expire first, its time left counted from the injected clock.
            assert!(screen.contains(">     43s"), "{screen}");
            assert!(screen.contains("9m 56s"), "{screen}");
            for k in ["approve", "reject", "filter", "help", "quit"] {
                assert!(screen.contains(k), "key {k} missing at {w}x{h}:\n{screen}");
            }
            assert_snapshot(&format!("approvals_queue_{w}x{h}"), &screen);
        }
    }

    #[test]
    fn detail_screen_shows_hostile_text_escaped() {
        for (w, h) in SIZES {
            let mut app = queue_app();
            app.update(key(KeyCode::Char('j')));
            assert_eq!(app.selected_row().unwrap().id, "apr_evil");
            let screen = draw(&app, w, h);
            assert_terminal_safe(&screen);
            assert!(!screen.contains('\u{1b}'), "{screen}");
            // The escapes are visible instead: the operator sees what the agent sent.
            for shown in [
                "exfil\\u{1b}]0;pwned\\u{7}",
                "bot\\u{202e}gpj.exe",
                "sub\\u{2066}agent",
                "\\u{9b}31m",
                "abc\\u{202e}fed",
                "looks \\u{1b}[31mfine",
            ] {
                assert!(screen.contains(shown), "{shown} at {w}x{h}:\n{screen}");
            }
            assert!(screen.contains("Intent   none"), "{screen}");
            assert!(
                screen.contains("\"cmd\": \"rm -rf / \\u001b[2J\""),
                "{screen}"
            );
            assert_snapshot(&format!("approvals_detail_{w}x{h}"), &screen);
        }
    }

    #[test]
    fn totp_modal() {
        for (w, h) in SIZES {
            let mut app = queue_app();
            app.update(key(KeyCode::Char('G')));
            app.update(key(KeyCode::Char('a')));
            typed(&mut app, "123");
            let screen = draw(&app, w, h);
            assert_terminal_safe(&screen);
            assert!(screen.contains("Step-up: approve apr_0001"), "{screen}");
            assert!(
                screen.contains("TOTP code (6 digits): 1 2 3 _ _ _"),
                "{screen}"
            );
            assert!(screen.contains("Enter approve  Esc cancel"), "{screen}");
            assert!(
                !screen.contains("q quit"),
                "only the modal's keys: {screen}"
            );
            assert_snapshot(&format!("approvals_totp_{w}x{h}"), &screen);
        }
    }

    #[test]
    fn lockout_screen_counts_down() {
        for (w, h) in SIZES {
            let mut app = queue_app();
            app.update(key(KeyCode::Char('G')));
            app.update(key(KeyCode::Char('a')));
            typed(&mut app, "000000");
            app.update(key(KeyCode::Enter));
            app.update(Event::DecideResult {
                id: "apr_0001".into(),
                decision: Decision::Approve,
                result: Err(CliError::new(
                    ErrorCode::StepUpRequired,
                    "step-up locked out after 5 failed codes; try again in 30 seconds",
                )),
            });
            app.update(Event::Tick(NOW + Duration::from_secs(5)));
            let screen = draw(&app, w, h);
            assert_terminal_safe(&screen);
            assert!(screen.contains("locked for 27s"), "{screen}");
            assert!(
                screen.contains("step-up failed: step-up locked out"),
                "{screen}"
            );
            assert!(screen.contains("Esc cancel"), "{screen}");
            assert!(
                !screen.contains("0-9"),
                "input refused while locked: {screen}"
            );
            assert_snapshot(&format!("approvals_lockout_{w}x{h}"), &screen);
            app.update(Event::Tick(NOW + Duration::from_secs(6)));
            assert!(draw(&app, w, h).contains("locked for 26s"));
            app.update(Event::Tick(NOW + Duration::from_secs(40)));
            let after = draw(&app, w, h);
            assert!(!after.contains("locked for"), "{after}");
            assert!(after.contains("0-9"), "{after}");
        }
    }

    #[test]
    fn disconnected_header_counts_down_to_the_retry() {
        let mut app = queue_app();
        app.update(Event::Disconnected {
            error: "igd closed the stream".into(),
            retry_in: Duration::from_secs(4),
        });
        let screen = draw(&app, 80, 24);
        assert!(
            screen.contains("disconnected — reconnecting in 4s"),
            "{screen}"
        );
        assert!(
            screen.contains("disconnected: igd closed the stream"),
            "{screen}"
        );
        app.update(Event::Tick(NOW + Duration::from_secs(5)));
        assert!(draw(&app, 80, 24).contains("reconnecting in 1s"));
        app.update(Event::Snapshot(vec![]));
        let screen = draw(&app, 80, 24);
        assert!(screen.contains("● live"), "{screen}");
        assert!(screen.contains("No pending approvals."), "{screen}");
    }

    #[test]
    fn help_filter_and_note_fit_80x24() {
        let mut app = queue_app();
        app.update(key(KeyCode::Char('?')));
        let screen = draw(&app, 80, 24);
        assert!(screen.contains("reject, with a note"), "{screen}");
        assert!(screen.contains("Esc or ? closes this help."), "{screen}");
        app.update(key(KeyCode::Esc));
        app.update(key(KeyCode::Char('/')));
        typed(&mut app, "mail");
        let screen = draw(&app, 80, 24);
        assert!(screen.contains("/mail"), "{screen}");
        assert!(screen.contains("Queue (1 of 3)"), "{screen}");
        assert!(screen.contains("Enter keep"), "{screen}");
        app.update(key(KeyCode::Enter));
        app.update(key(KeyCode::Char('r')));
        typed(&mut app, "ask finance first");
        let screen = draw(&app, 80, 24);
        assert!(screen.contains("Reject apr_0002"), "{screen}");
        assert!(screen.contains("> ask finance first"), "{screen}");
    }

    #[test]
    fn long_arguments_scroll() {
        let mut app = App::new(NOW, false);
        let mut r = row("apr_1", "bulk", 100, false);
        r.args = json!({ "items": (0..40).collect::<Vec<_>>() });
        app.update(Event::Snapshot(vec![r]));
        let screen = draw(&app, 80, 24);
        assert!(screen.contains("lines 1-"), "{screen}");
        assert!(!screen.contains("    39"), "{screen}");
        for _ in 0..7 {
            app.update(key(KeyCode::PageDown));
        }
        let screen = draw(&app, 80, 24);
        assert!(screen.contains("lines 36-44 of 44 (PgUp/PgDn)"), "{screen}");
        assert!(screen.contains("    39"), "{screen}");
        assert!(screen.contains("}"), "{screen}");
    }
}
