//! The approvals TUI (`igctl approvals` on a terminal): a live queue pushed by igd, a detail
//! pane, approve with a TOTP step-up modal, reject with a note.
//!
//! - [`app`]: the state and what each key does (pure; returns an [`app::Action`]).
//! - [`render`]: draws the state (pure; snapshot-tested with ratatui's `TestBackend`).
//! - [`net`]: follows igd's server-sent queue changes and sends decisions.
//! - this file: the event loop that connects them, and the terminal (alternate screen and raw
//!   mode, restored on exit and on panic).
//!
//! Every source — the stream, the keyboard (a thread), a one-second clock, decide calls in
//! flight — sends [`app::Event`]s on one channel; the loop applies each to the state, performs
//! the action it returns and draws. A decide call runs in its own task: the screen stays live.

pub(crate) mod app;
pub(crate) mod net;
pub(crate) mod render;

use crate::client::{Client, EventStream};
use crate::error::CliError;
use app::{Action, App, Event};
use intentgate_proto::api::{DecideRequest, ErrorCode};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::mpsc;

/// Run the TUI on the terminal until the operator quits. `first` is the already opened stream
/// (opening it before taking over the terminal lets a refusal print as a normal error).
pub(crate) async fn run(client: Client, first: EventStream) -> Result<(), CliError> {
    // https://no-color.org: present and not empty.
    let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let (tx, mut rx) = mpsc::channel::<Event>(256);
    let network = tokio::spawn(net::follow(client.clone(), Some(first), tx.clone()));
    let clock = tokio::spawn(tick(tx.clone()));
    let mut screen = Screen::enter()?;
    let stop = Arc::new(AtomicBool::new(false));
    let keyboard = spawn_keyboard(tx.clone(), stop.clone());
    let mut app = App::new(OffsetDateTime::now_utc(), color);

    let result: Result<(), CliError> = async {
        screen.draw(&app)?;
        while let Some(event) = rx.recv().await {
            match app.update(event) {
                Action::None => {}
                Action::Quit => break,
                Action::Decide {
                    id,
                    decision,
                    note,
                    totp,
                } => {
                    let client = client.clone();
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        let request = DecideRequest {
                            decision: decision.as_str().to_string(),
                            note,
                            totp,
                        };
                        let result = net::decide(&client, &id, &request).await;
                        // A lock-out counts from the answer, not from the last tick.
                        let _ = tx.send(Event::Tick(OffsetDateTime::now_utc())).await;
                        let _ = tx
                            .send(Event::DecideResult {
                                id,
                                decision,
                                result,
                            })
                            .await;
                    });
                }
            }
            screen.draw(&app)?;
        }
        Ok(())
    }
    .await;

    stop.store(true, Ordering::Relaxed);
    network.abort();
    clock.abort();
    drop(screen);
    let _ = keyboard.join();
    result
}

async fn tick(tx: mpsc::Sender<Event>) {
    let mut every_second = tokio::time::interval(Duration::from_secs(1));
    loop {
        every_second.tick().await;
        if tx
            .send(Event::Tick(OffsetDateTime::now_utc()))
            .await
            .is_err()
        {
            return;
        }
    }
}

/// crossterm's reads block: a thread of their own, polling so that it notices `stop`.
fn spawn_keyboard(tx: mpsc::Sender<Event>, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    use crossterm::event::{poll, read, Event as Terminal};
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            match poll(Duration::from_millis(100)) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(_) => return,
            }
            let event = match read() {
                Ok(Terminal::Key(key)) => Event::Key(key),
                Ok(Terminal::Resize(..)) => Event::Resize,
                Ok(_) => continue,
                Err(_) => return,
            };
            if tx.blocking_send(event).is_err() {
                return;
            }
        }
    })
}

/// The terminal in raw mode on the alternate screen; dropping it (or a panic, through the hook
/// ratatui installs) puts the operator's shell back as it was.
struct Screen {
    terminal: ratatui::DefaultTerminal,
}

impl Screen {
    fn enter() -> Result<Self, CliError> {
        match ratatui::try_init() {
            Ok(terminal) => Ok(Screen { terminal }),
            Err(e) => {
                let _ = ratatui::try_restore();
                Err(CliError::new(
                    ErrorCode::Internal,
                    format!("cannot take over the terminal: {e}"),
                ))
            }
        }
    }

    fn draw(&mut self, app: &App) -> Result<(), CliError> {
        self.terminal
            .draw(|frame| render::render(app, frame))
            .map(|_| ())
            .map_err(|e| {
                CliError::new(
                    ErrorCode::Internal,
                    format!("cannot draw on the terminal: {e}"),
                )
            })
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        let _ = self.terminal.show_cursor();
        let _ = ratatui::try_restore();
    }
}
