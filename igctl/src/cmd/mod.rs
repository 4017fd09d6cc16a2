//! One module per command family, each with its own `run`; [`dispatch`] only picks the family.
//! What they share: the connection to igd and how an answer is printed.

mod approvals;
mod audit;
mod audit_verify;
mod elevate;
mod export;
mod generate;
mod health;
mod integrations;
mod keys;
mod login;
mod notify;
mod operator;
mod policy;
mod policy_store;
mod stop;
mod tenant;
mod token;
mod tokens;
mod totp;

use crate::cli::{Cli, Command, OutputFormat, TokensCommand};
use crate::client::{self, Client, ConnectionArgs};
use crate::error::CliError;
use crate::output::{print, print_text};
use serde::Serialize;
use serde_json::Value;

/// Run the parsed command line.
pub async fn dispatch(cli: Cli) -> Result<(), CliError> {
    let cli = &cli;
    match &cli.command {
        Command::Mint(args) => tokens::run(cli, tokens::Action::Mint(args)).await,
        Command::Tokens {
            command: TokensCommand::List { tenant, all },
        } => {
            let list = tokens::Action::List {
                tenant: tenant.as_deref(),
                all: *all,
            };
            tokens::run(cli, list).await
        }
        Command::Revoke(args) => tokens::run(cli, tokens::Action::Revoke(args)).await,
        Command::Revocations => tokens::run(cli, tokens::Action::Revocations).await,
        Command::Stop(args) => stop::run(cli, stop::Action::Place(args)).await,
        Command::Unstop(args) => stop::run(cli, stop::Action::Lift(args)).await,
        Command::Token { command } => token::run(cli, command),
        Command::GenKey {
            audit,
            announce,
            totp,
        } => keys::run(cli, *audit, *announce, totp.clone()).await,
        Command::Tenants => tenant::run(cli, tenant::Action::Tenants).await,
        Command::Agents => tenant::run(cli, tenant::Action::Agents).await,
        Command::Health => health::run(cli).await,
        Command::Audit { command } => audit::run(cli, command).await,
        Command::Policy { command } => policy::run(cli, command).await,
        Command::Approvals { command } => approvals::run(cli, command.as_ref()).await,
        Command::Operator { command } => operator::run(cli, command).await,
        Command::Totp { command } => totp::run(cli, command).await,
        Command::Elevate { command } => elevate::run(cli, command).await,
        Command::Notify { command } => notify::run(cli, command).await,
        Command::Integrations { json } => integrations::run(cli, wants_json(cli) || *json).await,
        Command::Whoami => operator::whoami(cli).await,
        Command::Login => login::login(cli).await,
        Command::Logout => login::logout(cli),
        Command::Completions { shell } => generate::completions(*shell),
        Command::Man => generate::man(),
    }
}

fn wants_json(cli: &Cli) -> bool {
    cli.output == OutputFormat::Json
}

fn connect(cli: &Cli) -> Result<Client, CliError> {
    let flags = ConnectionArgs {
        socket: cli.socket.clone(),
        url: cli.url.clone(),
        token: cli.token.clone(),
        ca: cli.ca.clone(),
        cert: cli.cert.clone(),
        key: cli.key.clone(),
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
