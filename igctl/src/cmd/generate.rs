//! `completions` and `man`: generated from the clap definitions.

use crate::cli::Cli;
use crate::error::CliError;
use crate::output::print;
use clap::CommandFactory;
use intentgate_proto::api::ErrorCode;

pub fn completions(shell: clap_complete::Shell) -> Result<(), CliError> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "igctl", &mut out);
    print(&String::from_utf8_lossy(&out));
    Ok(())
}

pub fn man() -> Result<(), CliError> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut out)
        .map_err(|e| CliError::new(ErrorCode::Internal, e.to_string()))?;
    print(&String::from_utf8_lossy(&out));
    Ok(())
}
