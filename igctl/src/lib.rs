//! igctl, the IntentGate operators' CLI. `main.rs` calls [`main_with`]; tests call it too.
//!
//! `cli` holds the clap definitions, `cmd` one module per command family, `client` the
//! connection to igd; `verify` and `evidence` the auditor's own verification; `tui` the
//! approvals TUI.

pub mod cli;
pub mod client;
mod cmd;
pub mod credentials;
pub mod error;
pub mod evidence;
pub mod output;
mod tui;
pub mod verify;

use crate::cli::{Cli, OutputFormat};
use crate::error::CliError;
use crate::output::print;
use clap::Parser;

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
    match runtime.block_on(cmd::dispatch(cli)) {
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

/// A query-string value, percent-encoded.
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
