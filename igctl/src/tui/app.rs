//! The approvals TUI's state: the pending queue as igd pushed it, what the operator is doing
//! (selecting, filtering, typing a TOTP code or a note) and the connection.
//!
//! Pure: [`App::update`] takes an [`Event`] and returns an [`Action`] for the event loop to
//! perform. It never reads the clock (each [`Event::Tick`] brings `now`), the network or the
//! terminal, so every screen can be rebuilt in a test.

use crate::error::CliError;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use intentgate_proto::api::{Approval, ErrorCode};
use std::collections::BTreeSet;
use std::time::Duration;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// igd refuses longer notes (`MAX_NOTE_CHARS`).
pub const MAX_NOTE_CHARS: usize = 1000;
/// A TOTP code: RFC 6238, 6 digits.
pub const TOTP_DIGITS: usize = 6;
/// How long a lock-out lasts when igd's message names no duration (DESIGN §6: 30 s).
const DEFAULT_LOCKOUT_SECS: u64 = 30;
/// Lines PgUp/PgDn move the arguments by.
const SCROLL_STEP: u16 = 5;

/// Something that happened: from the stream, the keyboard, the clock or a decide call.
#[derive(Debug)]
pub enum Event {
    /// Every pending row the caller may see (the stream's first event, and after a lag).
    Snapshot(Vec<Approval>),
    /// One row changed (any status).
    Changed(Approval),
    Key(KeyEvent),
    Tick(OffsetDateTime),
    /// The terminal was resized: nothing changes but the screen is drawn again.
    Resize,
    /// The stream ended or failed; the next attempt is `retry_in` from now.
    Disconnected {
        error: String,
        retry_in: Duration,
    },
    DecideResult {
        id: String,
        decision: Decision,
        result: Result<Approval, CliError>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
}

impl Decision {
    /// The wire form (`DecideRequest.decision`).
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Reject => "reject",
        }
    }

    fn past(self) -> &'static str {
        match self {
            Decision::Approve => "approved",
            Decision::Reject => "rejected",
        }
    }
}

/// What the event loop must do after an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    None,
    Quit,
    /// Send a decision (in the background: the screen stays live meanwhile).
    Decide {
        id: String,
        decision: Decision,
        note: Option<String>,
        totp: Option<String>,
    },
}

/// What the keyboard is driving.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// Typing the filter.
    Filter,
    Help,
    /// Approving a call that needs no step-up: Enter confirms.
    ConfirmApprove {
        id: String,
    },
    /// Approving a `requires_step_up` call: the TOTP code.
    Totp {
        id: String,
        code: String,
    },
    /// Rejecting: an optional note for the audit log.
    Note {
        id: String,
        note: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    Connecting,
    Live,
    Disconnected {
        error: String,
        retry_at: OffsetDateTime,
    },
}

/// The line under the panes: the outcome of the last action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub text: String,
    pub error: bool,
}

/// The whole screen's state.
#[derive(Debug)]
pub struct App {
    pub(crate) now: OffsetDateTime,
    /// Pending rows, soonest to expire first.
    rows: Vec<Approval>,
    /// The selected row's id: a row arriving or leaving does not move the selection.
    selected: Option<String>,
    pub(crate) filter: String,
    pub(crate) mode: Mode,
    pub(crate) args_scroll: u16,
    pub(crate) connection: Connection,
    pub(crate) status: Option<Status>,
    /// Rows with a decision on its way to igd.
    in_flight: BTreeSet<String>,
    /// igd locked this identity's step-up until then (too many wrong codes).
    lockout_until: Option<OffsetDateTime>,
    /// `NO_COLOR` unset.
    pub(crate) color: bool,
}

impl App {
    pub fn new(now: OffsetDateTime, color: bool) -> Self {
        App {
            now,
            rows: Vec::new(),
            selected: None,
            filter: String::new(),
            mode: Mode::Normal,
            args_scroll: 0,
            connection: Connection::Connecting,
            status: None,
            in_flight: BTreeSet::new(),
            lockout_until: None,
            color,
        }
    }

    pub fn update(&mut self, event: Event) -> Action {
        match event {
            Event::Snapshot(rows) => {
                self.connection = Connection::Live;
                self.replace_rows(rows);
            }
            Event::Changed(row) => self.apply_change(row),
            Event::Key(key) => return self.key(key),
            Event::Tick(now) => {
                self.now = now;
                if self.lockout_until.is_some_and(|t| t <= now) {
                    self.lockout_until = None;
                }
            }
            Event::Resize => {}
            Event::Disconnected { error, retry_in } => {
                self.connection = Connection::Disconnected {
                    error,
                    retry_at: self.now + retry_in,
                };
            }
            Event::DecideResult {
                id,
                decision,
                result,
            } => self.decided(id, decision, result),
        }
        Action::None
    }

    // --- what the renderer reads ---

    /// The rows the filter lets through, in queue order.
    pub fn visible(&self) -> Vec<&Approval> {
        let needle = self.filter.to_lowercase();
        self.rows
            .iter()
            .filter(|r| needle.is_empty() || matches_filter(r, &needle))
            .collect()
    }

    pub fn pending_count(&self) -> usize {
        self.rows.len()
    }

    /// The selected row's position in [`App::visible`].
    pub fn selected_index(&self) -> Option<usize> {
        let id = self.selected.as_deref()?;
        self.visible().iter().position(|r| r.id == id)
    }

    pub fn selected_row(&self) -> Option<&Approval> {
        let id = self.selected.as_deref()?;
        self.visible().into_iter().find(|r| r.id == id)
    }

    pub fn row(&self, id: &str) -> Option<&Approval> {
        self.rows.iter().find(|r| r.id == id)
    }

    pub fn in_flight(&self, id: &str) -> bool {
        self.in_flight.contains(id)
    }

    /// Whole seconds until `row` expires (negative once past).
    pub fn seconds_left(&self, row: &Approval) -> Option<i64> {
        let expires = parse_time(&row.expires_at)?;
        Some(ceil_seconds(expires - self.now))
    }

    /// Seconds of step-up lock-out left, if locked.
    pub fn lockout_left(&self) -> Option<i64> {
        let until = self.lockout_until?;
        let left = ceil_seconds(until - self.now);
        (left > 0).then_some(left)
    }

    /// Seconds until the next connection attempt, when disconnected.
    pub fn reconnect_in(&self) -> Option<i64> {
        match &self.connection {
            Connection::Disconnected { retry_at, .. } => {
                Some(ceil_seconds(*retry_at - self.now).max(0))
            }
            _ => None,
        }
    }

    /// The keys that work now, for the bottom bar: (key, what it does).
    pub fn keys(&self) -> Vec<(&'static str, &'static str)> {
        match &self.mode {
            Mode::Normal => {
                // Fits 80 columns: `/` still edits a filter while Esc clears it.
                let mut keys = vec![("↑↓", "select")];
                if self.selected_row().is_some() {
                    keys.extend([("a", "approve"), ("r", "reject"), ("PgUp/Dn", "args")]);
                }
                if self.filter.is_empty() {
                    keys.push(("/", "filter"));
                } else {
                    keys.push(("Esc", "clear filter"));
                }
                keys.extend([("?", "help"), ("q", "quit")]);
                keys
            }
            Mode::Filter => vec![
                ("type", "filter"),
                ("↑↓", "select"),
                ("Enter", "keep"),
                ("Esc", "clear"),
            ],
            Mode::Help => vec![("Esc/?", "close help"), ("q", "quit")],
            Mode::ConfirmApprove { .. } => vec![("Enter/y", "approve"), ("Esc/n", "cancel")],
            Mode::Totp { id, .. } => {
                if self.lockout_left().is_some() || self.in_flight(id) {
                    vec![("Esc", "cancel")]
                } else {
                    vec![
                        ("0-9", "code"),
                        ("Backspace", "erase"),
                        ("Enter", "approve"),
                        ("Esc", "cancel"),
                    ]
                }
            }
            Mode::Note { .. } => vec![("type", "note"), ("Enter", "reject"), ("Esc", "cancel")],
        }
    }

    // --- queue changes ---

    fn replace_rows(&mut self, rows: Vec<Approval>) {
        let before = self.selected_index();
        self.rows = rows.into_iter().filter(is_pending).collect();
        self.sort();
        self.reselect(before);
        self.close_modal_if_gone();
    }

    fn apply_change(&mut self, row: Approval) {
        let before = self.selected_index();
        self.rows.retain(|r| r.id != row.id);
        if is_pending(&row) {
            self.rows.push(row);
            self.sort();
        } else if self.modal_target() == Some(row.id.as_str()) && !self.in_flight(&row.id) {
            // Someone else decided it (or it timed out) while this operator was typing.
            self.mode = Mode::Normal;
            self.status = Some(Status {
                text: format!(
                    "{} is now {}{}",
                    row.id,
                    row.status,
                    row.decided_by
                        .as_deref()
                        .map(|b| format!(" (by {b})"))
                        .unwrap_or_default()
                ),
                error: true,
            });
        }
        self.reselect(before);
    }

    fn sort(&mut self) {
        self.rows.sort_by(|a, b| {
            (parse_time(&a.expires_at), &a.id).cmp(&(parse_time(&b.expires_at), &b.id))
        });
    }

    /// Keep the selected row if it is still visible, else the one now at its position.
    fn reselect(&mut self, before: Option<usize>) {
        let visible = self.visible();
        let keep = self
            .selected
            .as_deref()
            .is_some_and(|id| visible.iter().any(|r| r.id == id));
        if keep {
            return;
        }
        let next = match (before, visible.len()) {
            (_, 0) => None,
            (Some(i), n) => Some(visible[i.min(n - 1)].id.clone()),
            (None, _) => Some(visible[0].id.clone()),
        };
        if next != self.selected {
            self.args_scroll = 0;
        }
        self.selected = next;
    }

    fn modal_target(&self) -> Option<&str> {
        match &self.mode {
            Mode::ConfirmApprove { id } | Mode::Totp { id, .. } | Mode::Note { id, .. } => Some(id),
            _ => None,
        }
    }

    fn close_modal_if_gone(&mut self) {
        if let Some(id) = self.modal_target() {
            if self.row(id).is_none() && !self.in_flight(id) {
                self.status = Some(Status {
                    text: format!("{id} is no longer pending"),
                    error: true,
                });
                self.mode = Mode::Normal;
            }
        }
    }

    fn decided(&mut self, id: String, decision: Decision, result: Result<Approval, CliError>) {
        self.in_flight.remove(&id);
        let here = self.modal_target() == Some(id.as_str());
        match result {
            Ok(row) => {
                self.status = Some(Status {
                    text: format!("{} {id} ({})", decision.past(), row.tool),
                    error: false,
                });
                if here {
                    self.mode = Mode::Normal;
                }
                self.apply_change(row);
            }
            Err(e) => {
                let failed = match (decision, e.code) {
                    (_, ErrorCode::Conflict) => "already decided",
                    (Decision::Approve, ErrorCode::StepUpRequired | ErrorCode::RateLimited) => {
                        "step-up failed"
                    }
                    (Decision::Approve, _) => "approve failed",
                    (Decision::Reject, _) => "reject failed",
                };
                self.status = Some(Status {
                    text: format!("{failed}: {}", e.message),
                    error: true,
                });
                if let Some(secs) = lockout_seconds(&e) {
                    self.lockout_until = Some(self.now + Duration::from_secs(secs));
                }
                let retry_code =
                    matches!(e.code, ErrorCode::StepUpRequired | ErrorCode::RateLimited)
                        || self.lockout_until.is_some();
                if here {
                    match &mut self.mode {
                        // A wrong code: the modal stays for another try (or shows the lock-out).
                        Mode::Totp { code, .. } if retry_code => code.clear(),
                        _ => self.mode = Mode::Normal,
                    }
                }
            }
        }
    }

    // --- keys ---

    fn key(&mut self, key: KeyEvent) -> Action {
        if key.kind == KeyEventKind::Release {
            return Action::None;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && key.code == KeyCode::Char('c') {
            return Action::Quit;
        }
        match self.mode.clone() {
            Mode::Normal => self.key_normal(key, ctrl),
            Mode::Filter => {
                match key.code {
                    KeyCode::Esc => {
                        self.set_filter(String::new());
                        self.mode = Mode::Normal;
                    }
                    KeyCode::Enter => self.mode = Mode::Normal,
                    KeyCode::Backspace => {
                        let mut f = self.filter.clone();
                        f.pop();
                        self.set_filter(f);
                    }
                    KeyCode::Up => self.move_selection(-1),
                    KeyCode::Down => self.move_selection(1),
                    KeyCode::Char(c) if !ctrl && !c.is_control() => {
                        let mut f = self.filter.clone();
                        f.push(c);
                        self.set_filter(f);
                    }
                    _ => {}
                }
                Action::None
            }
            Mode::Help => {
                match key.code {
                    KeyCode::Esc | KeyCode::Char('?') | KeyCode::Enter => self.mode = Mode::Normal,
                    KeyCode::Char('q') => return Action::Quit,
                    _ => {}
                }
                Action::None
            }
            Mode::ConfirmApprove { id } => match key.code {
                KeyCode::Enter | KeyCode::Char('y') => {
                    self.mode = Mode::Normal;
                    self.send(id, Decision::Approve, None, None)
                }
                KeyCode::Esc | KeyCode::Char('n') => {
                    self.mode = Mode::Normal;
                    Action::None
                }
                _ => Action::None,
            },
            Mode::Totp { id, mut code } => {
                if key.code == KeyCode::Esc {
                    self.mode = Mode::Normal;
                    return Action::None;
                }
                // Locked out, or a code already on its way: input is refused.
                if self.lockout_left().is_some() || self.in_flight(&id) {
                    return Action::None;
                }
                match key.code {
                    KeyCode::Char(c) if c.is_ascii_digit() && !ctrl && code.len() < TOTP_DIGITS => {
                        code.push(c);
                    }
                    KeyCode::Backspace => {
                        code.pop();
                    }
                    KeyCode::Enter if code.len() == TOTP_DIGITS => {
                        let action =
                            self.send(id.clone(), Decision::Approve, None, Some(code.clone()));
                        self.mode = Mode::Totp { id, code };
                        return action;
                    }
                    KeyCode::Enter => {
                        self.status = Some(Status {
                            text: format!("the code has {TOTP_DIGITS} digits"),
                            error: true,
                        });
                    }
                    _ => {}
                }
                self.mode = Mode::Totp { id, code };
                Action::None
            }
            Mode::Note { id, mut note } => {
                match key.code {
                    KeyCode::Esc => {
                        self.mode = Mode::Normal;
                        return Action::None;
                    }
                    KeyCode::Enter => {
                        self.mode = Mode::Normal;
                        let note = Some(note.trim().to_string()).filter(|n| !n.is_empty());
                        return self.send(id, Decision::Reject, note, None);
                    }
                    KeyCode::Backspace => {
                        note.pop();
                    }
                    // igd refuses control characters in notes; they cannot be typed here.
                    KeyCode::Char(c)
                        if !ctrl
                            && !intentgate_proto::text::is_unsafe_for_terminal(c)
                            && note.chars().count() < MAX_NOTE_CHARS =>
                    {
                        note.push(c);
                    }
                    _ => {}
                }
                self.mode = Mode::Note { id, note };
                Action::None
            }
        }
    }

    fn key_normal(&mut self, key: KeyEvent, ctrl: bool) -> Action {
        match key.code {
            KeyCode::Char('q') => return Action::Quit,
            KeyCode::Up | KeyCode::Char('k') => self.move_selection(-1),
            KeyCode::Down | KeyCode::Char('j') => self.move_selection(1),
            KeyCode::Home | KeyCode::Char('g') => self.move_selection(i64::MIN / 2),
            KeyCode::End | KeyCode::Char('G') => self.move_selection(i64::MAX / 2),
            KeyCode::PageDown | KeyCode::Char('J') => self.scroll_args(i32::from(SCROLL_STEP)),
            KeyCode::Char('d') if ctrl => self.scroll_args(i32::from(SCROLL_STEP)),
            KeyCode::PageUp | KeyCode::Char('K') => self.scroll_args(-i32::from(SCROLL_STEP)),
            KeyCode::Char('u') if ctrl => self.scroll_args(-i32::from(SCROLL_STEP)),
            KeyCode::Char('/') => self.mode = Mode::Filter,
            KeyCode::Char('?') => self.mode = Mode::Help,
            KeyCode::Esc => {
                if !self.filter.is_empty() {
                    self.set_filter(String::new());
                }
                self.status = None;
            }
            KeyCode::Char('a') => {
                if let Some(row) = self.selected_row() {
                    let id = row.id.clone();
                    if self.in_flight(&id) {
                        self.busy(&id);
                    } else if row.requires_step_up {
                        self.mode = Mode::Totp {
                            id,
                            code: String::new(),
                        };
                    } else {
                        self.mode = Mode::ConfirmApprove { id };
                    }
                }
            }
            KeyCode::Char('r') => {
                if let Some(row) = self.selected_row() {
                    let id = row.id.clone();
                    if self.in_flight(&id) {
                        self.busy(&id);
                    } else {
                        self.mode = Mode::Note {
                            id,
                            note: String::new(),
                        };
                    }
                }
            }
            _ => {}
        }
        Action::None
    }

    fn busy(&mut self, id: &str) {
        self.status = Some(Status {
            text: format!("a decision on {id} is already on its way"),
            error: true,
        });
    }

    fn send(
        &mut self,
        id: String,
        decision: Decision,
        note: Option<String>,
        totp: Option<String>,
    ) -> Action {
        self.in_flight.insert(id.clone());
        self.status = Some(Status {
            text: format!(
                "{} {id}…",
                match decision {
                    Decision::Approve => "approving",
                    Decision::Reject => "rejecting",
                }
            ),
            error: false,
        });
        Action::Decide {
            id,
            decision,
            note,
            totp,
        }
    }

    fn set_filter(&mut self, filter: String) {
        let before = self.selected_index();
        self.filter = filter;
        self.reselect(before.or(Some(0)));
    }

    fn move_selection(&mut self, by: i64) {
        let visible = self.visible();
        if visible.is_empty() {
            return;
        }
        let last = visible.len() as i64 - 1;
        let current = self
            .selected
            .as_deref()
            .and_then(|id| visible.iter().position(|r| r.id == id));
        let next = match current {
            None => 0,
            Some(i) => (i as i64).saturating_add(by).clamp(0, last),
        };
        let id = visible[next as usize].id.clone();
        if self.selected.as_deref() != Some(id.as_str()) {
            self.args_scroll = 0;
        }
        self.selected = Some(id);
    }

    fn scroll_args(&mut self, by: i32) {
        let lines = self.selected_row().map_or(0, |r| args_lines(&r.args).len());
        let max = i32::try_from(lines.saturating_sub(1)).unwrap_or(i32::MAX);
        let next = (i32::from(self.args_scroll) + by).clamp(0, max.max(0));
        self.args_scroll = u16::try_from(next).unwrap_or(u16::MAX);
    }
}

fn is_pending(row: &Approval) -> bool {
    row.status == "pending"
}

fn matches_filter(row: &Approval, needle_lower: &str) -> bool {
    [
        Some(row.id.as_str()),
        Some(row.tenant.as_str()),
        Some(row.subject.as_str()),
        row.delegated_subject.as_deref(),
        Some(row.tool.as_str()),
        Some(row.reason.as_str()),
    ]
    .into_iter()
    .flatten()
    .any(|field| field.to_lowercase().contains(needle_lower))
}

fn parse_time(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

/// A duration in whole seconds, rounded up (1.2 s left shows as 2 s, 0 only when it is over).
fn ceil_seconds(d: time::Duration) -> i64 {
    let whole = d.whole_seconds();
    if d.subsec_nanoseconds() > 0 {
        whole + 1
    } else {
        whole
    }
}

/// The call's arguments pretty-printed, one entry per line (untrusted: escape before showing).
pub fn args_lines(args: &serde_json::Value) -> Vec<String> {
    if args.is_null() {
        return vec!["(not kept)".to_string()];
    }
    serde_json::to_string_pretty(args)
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}

/// `9m 58s`, `42s`, `1h 02m`, or `expired`.
pub fn format_left(secs: i64) -> String {
    match secs {
        s if s <= 0 => "expired".to_string(),
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m {:02}s", s / 60, s % 60),
        s => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// Whether `e` says the caller's step-up is locked out, and for how many seconds. igd's words
/// may change: a `rate_limited` answer, or any message mentioning a lock, counts; the duration
/// is the first number followed by `s`, `sec` or `second(s)` (default 30 s).
pub fn lockout_seconds(e: &CliError) -> Option<u64> {
    let message = e.message.to_lowercase();
    if e.code != ErrorCode::RateLimited && !message.contains("lock") {
        return None;
    }
    Some(
        first_seconds(&message)
            .unwrap_or(DEFAULT_LOCKOUT_SECS)
            .min(24 * 3600),
    )
}

fn first_seconds(text: &str) -> Option<u64> {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        let number: String = chars[start..i].iter().collect();
        let mut j = i;
        while j < chars.len() && chars[j] == ' ' {
            j += 1;
        }
        if chars.get(j) == Some(&'s') {
            if let Ok(n) = number.parse() {
                return Some(n);
            }
        }
    }
    None
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    pub(crate) const NOW: OffsetDateTime = datetime!(2025-06-01 12:00:00 UTC);

    pub(crate) fn row(id: &str, tool: &str, expires_in_secs: i64, step_up: bool) -> Approval {
        let at = |d: i64| (NOW + time::Duration::seconds(d)).format(&Rfc3339).unwrap();
        Approval {
            id: id.into(),
            tenant: "acme".into(),
            subject: "billing-bot".into(),
            delegated_subject: None,
            tool: tool.into(),
            args: json!({"to": "cfo@example.com", "amount": 1200}),
            intent: json!({"summary": "pay an invoice", "category": "payment", "confidence": 0.92}),
            reason: "payments over 1000 need a person".into(),
            requires_step_up: step_up,
            args_hash: "sha256:00".into(),
            created_at: at(-60),
            expires_at: at(expires_in_secs),
            status: "pending".into(),
            decided_by: None,
            decided_at: None,
            note: None,
        }
    }

    pub(crate) fn key(code: KeyCode) -> Event {
        Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    pub(crate) fn typed(app: &mut App, text: &str) -> Vec<Action> {
        text.chars()
            .map(|c| app.update(key(KeyCode::Char(c))))
            .collect()
    }

    fn decided(mut r: Approval, status: &str) -> Approval {
        r.status = status.into();
        r.decided_by = Some("uid:1000".into());
        r
    }

    #[test]
    fn the_snapshot_fills_the_queue_and_changes_update_it() {
        let mut app = App::new(NOW, false);
        assert_eq!(app.connection, Connection::Connecting);
        app.update(Event::Snapshot(vec![
            row("apr_b", "wire", 300, true),
            row("apr_a", "email", 120, false),
        ]));
        assert_eq!(app.connection, Connection::Live);
        let ids: Vec<_> = app.visible().iter().map(|r| r.id.clone()).collect();
        assert_eq!(ids, ["apr_a", "apr_b"], "soonest to expire first");
        assert_eq!(app.selected_row().unwrap().id, "apr_a");

        app.update(key(KeyCode::Char('j')));
        assert_eq!(app.selected_row().unwrap().id, "apr_b");
        // A new row does not move the selection.
        app.update(Event::Changed(row("apr_c", "x", 60, false)));
        assert_eq!(app.selected_row().unwrap().id, "apr_b");
        assert_eq!(app.pending_count(), 3);
        // The selected row decided elsewhere leaves; the selection stays at its place.
        app.update(Event::Changed(decided(
            row("apr_b", "wire", 300, true),
            "approved",
        )));
        assert_eq!(app.pending_count(), 2);
        assert_eq!(app.selected_row().unwrap().id, "apr_a");
        app.update(key(KeyCode::Up));
        app.update(key(KeyCode::Up));
        assert_eq!(app.selected_row().unwrap().id, "apr_c");
        // A later snapshot replaces everything (and drops non-pending rows).
        app.update(Event::Snapshot(vec![decided(
            row("apr_z", "z", 5, false),
            "timeout",
        )]));
        assert_eq!(app.pending_count(), 0);
        assert!(app.selected_row().is_none());
    }

    #[test]
    fn filter_matches_tenant_agent_tool_and_reason_and_esc_clears_it() {
        let mut app = App::new(NOW, false);
        let mut other = row("apr_2", "delete_repo", 100, false);
        other.tenant = "globex".into();
        app.update(Event::Snapshot(vec![
            row("apr_1", "send_email", 50, false),
            other,
        ]));
        app.update(key(KeyCode::Char('/')));
        assert_eq!(app.mode, Mode::Filter);
        typed(&mut app, "GLOB");
        assert_eq!(app.visible().len(), 1);
        assert_eq!(app.selected_row().unwrap().id, "apr_2");
        app.update(key(KeyCode::Enter));
        assert_eq!(
            (app.mode.clone(), app.filter.as_str()),
            (Mode::Normal, "GLOB")
        );
        for (needle, n) in [("email", 1), ("billing", 2), ("1000", 2), ("nothing", 0)] {
            app.update(key(KeyCode::Esc));
            app.update(key(KeyCode::Char('/')));
            typed(&mut app, needle);
            assert_eq!(app.visible().len(), n, "{needle}");
        }
        app.update(key(KeyCode::Enter));
        app.update(key(KeyCode::Esc));
        assert_eq!(app.filter, "");
        assert_eq!(app.visible().len(), 2);
    }

    #[test]
    fn approving_a_step_up_row_asks_for_six_digits() {
        let mut app = App::new(NOW, false);
        app.update(Event::Snapshot(vec![row("apr_1", "wire", 50, true)]));
        assert_eq!(app.update(key(KeyCode::Char('a'))), Action::None);
        assert!(matches!(app.mode, Mode::Totp { .. }));
        typed(&mut app, "12x3");
        assert_eq!(
            app.mode,
            Mode::Totp {
                id: "apr_1".into(),
                code: "123".into()
            },
            "digits only"
        );
        assert_eq!(app.update(key(KeyCode::Enter)), Action::None, "too short");
        typed(&mut app, "45678");
        let action = app.update(key(KeyCode::Enter));
        assert_eq!(
            action,
            Action::Decide {
                id: "apr_1".into(),
                decision: Decision::Approve,
                note: None,
                totp: Some("123456".into())
            }
        );
        // While the code is checked, the modal stays and refuses input.
        typed(&mut app, "9");
        assert!(matches!(&app.mode, Mode::Totp { code, .. } if code == "123456"));
        app.update(Event::DecideResult {
            id: "apr_1".into(),
            decision: Decision::Approve,
            result: Err(CliError::new(
                ErrorCode::StepUpRequired,
                "invalid TOTP code",
            )),
        });
        assert!(matches!(&app.mode, Mode::Totp { code, .. } if code.is_empty()));
        assert_eq!(
            app.status.as_ref().unwrap().text,
            "step-up failed: invalid TOTP code"
        );
        typed(&mut app, "654321");
        app.update(key(KeyCode::Enter));
        let mut done = row("apr_1", "wire", 50, true);
        done.status = "approved".into();
        app.update(Event::DecideResult {
            id: "apr_1".into(),
            decision: Decision::Approve,
            result: Ok(done),
        });
        assert_eq!(app.mode, Mode::Normal);
        assert_eq!(app.pending_count(), 0);
        assert_eq!(app.status.as_ref().unwrap().text, "approved apr_1 (wire)");
    }

    #[test]
    fn approving_without_step_up_is_confirmed_and_rejecting_takes_a_note() {
        let mut app = App::new(NOW, false);
        app.update(Event::Snapshot(vec![
            row("apr_1", "email", 50, false),
            row("apr_2", "email", 60, false),
        ]));
        app.update(key(KeyCode::Char('a')));
        assert_eq!(app.mode, Mode::ConfirmApprove { id: "apr_1".into() });
        assert_eq!(app.update(key(KeyCode::Esc)), Action::None);
        app.update(key(KeyCode::Char('a')));
        assert!(matches!(
            app.update(key(KeyCode::Enter)),
            Action::Decide {
                decision: Decision::Approve,
                totp: None,
                ..
            }
        ));
        assert_eq!(app.mode, Mode::Normal);
        app.update(key(KeyCode::Char('j')));
        app.update(key(KeyCode::Char('r')));
        typed(&mut app, " not today ");
        app.update(Event::Key(KeyEvent::new(
            KeyCode::Char('\u{1b}'),
            KeyModifiers::NONE,
        )));
        assert_eq!(
            app.update(key(KeyCode::Enter)),
            Action::Decide {
                id: "apr_2".into(),
                decision: Decision::Reject,
                note: Some("not today".into()),
                totp: None
            }
        );
        app.update(Event::DecideResult {
            id: "apr_2".into(),
            decision: Decision::Reject,
            result: Err(CliError::new(
                ErrorCode::Conflict,
                "approval apr_2 is already rejected",
            )),
        });
        assert_eq!(
            app.status.as_ref().unwrap().text,
            "already decided: approval apr_2 is already rejected"
        );
    }

    #[test]
    fn a_lock_out_counts_down_and_refuses_codes_until_it_ends() {
        let mut app = App::new(NOW, false);
        app.update(Event::Snapshot(vec![row("apr_1", "wire", 500, true)]));
        app.update(key(KeyCode::Char('a')));
        typed(&mut app, "000000");
        app.update(key(KeyCode::Enter));
        app.update(Event::DecideResult {
            id: "apr_1".into(),
            decision: Decision::Approve,
            result: Err(CliError::new(
                ErrorCode::RateLimited,
                "too many failed codes: step-up locked for 27 s",
            )),
        });
        assert_eq!(app.lockout_left(), Some(27));
        typed(&mut app, "123");
        assert!(matches!(&app.mode, Mode::Totp { code, .. } if code.is_empty()));
        app.update(Event::Tick(NOW + Duration::from_millis(1500)));
        assert_eq!(app.lockout_left(), Some(26));
        app.update(Event::Tick(NOW + Duration::from_secs(27)));
        assert_eq!(app.lockout_left(), None);
        typed(&mut app, "123");
        assert!(matches!(&app.mode, Mode::Totp { code, .. } if code == "123"));
    }

    #[test]
    fn lock_out_messages_are_read_leniently() {
        let e = |code, m: &str| lockout_seconds(&CliError::new(code, m));
        assert_eq!(
            e(ErrorCode::StepUpRequired, "Locked out: try again in 27s"),
            Some(27)
        );
        assert_eq!(
            e(
                ErrorCode::StepUpRequired,
                "locked after 5 failures; 12 seconds left"
            ),
            Some(12)
        );
        assert_eq!(
            e(ErrorCode::RateLimited, "slow down (retry in 9 sec)"),
            Some(9)
        );
        assert_eq!(e(ErrorCode::Forbidden, "identity locked"), Some(30));
        assert_eq!(e(ErrorCode::StepUpRequired, "invalid TOTP code"), None);
    }

    #[test]
    fn a_row_decided_elsewhere_closes_its_modal() {
        let mut app = App::new(NOW, false);
        app.update(Event::Snapshot(vec![row("apr_1", "wire", 500, true)]));
        app.update(key(KeyCode::Char('r')));
        typed(&mut app, "no");
        app.update(Event::Changed(decided(
            row("apr_1", "wire", 500, true),
            "approved",
        )));
        assert_eq!(app.mode, Mode::Normal);
        assert_eq!(
            app.status.as_ref().unwrap().text,
            "apr_1 is now approved (by uid:1000)"
        );
    }

    #[test]
    fn time_left_and_reconnect_count_down_with_ticks() {
        let mut app = App::new(NOW, false);
        let r = row("apr_1", "wire", 90, false);
        assert_eq!(app.seconds_left(&r), Some(90));
        app.update(Event::Tick(NOW + Duration::from_secs(31)));
        assert_eq!(format_left(app.seconds_left(&r).unwrap()), "59s");
        app.update(Event::Disconnected {
            error: "igd closed the stream".into(),
            retry_in: Duration::from_secs(4),
        });
        assert_eq!(app.reconnect_in(), Some(4));
        app.update(Event::Tick(NOW + Duration::from_secs(33)));
        assert_eq!(app.reconnect_in(), Some(2));
        assert_eq!(format_left(0), "expired");
        assert_eq!(format_left(3725), "1h 02m");
    }

    #[test]
    fn quit_keys_and_the_help_overlay() {
        let mut app = App::new(NOW, false);
        app.update(key(KeyCode::Char('?')));
        assert_eq!(app.mode, Mode::Help);
        app.update(key(KeyCode::Esc));
        assert_eq!(app.mode, Mode::Normal);
        assert_eq!(app.update(key(KeyCode::Char('q'))), Action::Quit);
        app.update(key(KeyCode::Char('/')));
        assert_eq!(
            app.update(Event::Key(KeyEvent::new(
                KeyCode::Char('c'),
                KeyModifiers::CONTROL
            ))),
            Action::Quit
        );
    }
}
