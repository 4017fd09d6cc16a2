//! `login` and `logout`: check credentials against igd and store them for later commands
//! ([`crate::credentials`]), or remove them.

use super::{emit, wants_json};
use crate::cli::Cli;
use crate::client::{self, Client, ConnectionArgs, Endpoint};
use crate::credentials::{self, Stored, TokenPlace};
use crate::error::CliError;
use crate::output::eprint;
use hyper::Method;
use intentgate_proto::api::ErrorCode;
use serde_json::{json, Value};
use std::path::PathBuf;

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// `igctl login`.
pub async fn login(cli: &Cli) -> Result<(), CliError> {
    if cli.socket.is_some() {
        return Err(CliError::usage(
            "igctl login stores credentials for a --url; the admin socket needs none (its peer uid is the identity)",
        ));
    }
    let flags = ConnectionArgs {
        socket: None,
        url: cli.url.clone(),
        token: cli.token.clone(),
        ca: cli.ca.clone(),
        cert: cli.cert.clone(),
        key: cli.key.clone(),
    };
    // The flags and the environment only: never an earlier login.
    let endpoint = client::resolve_with(&flags, &env, &|| Ok(None))?;
    let Endpoint::Http {
        url,
        token,
        ca,
        cert,
        key,
    } = endpoint.clone()
    else {
        return Err(CliError::usage(
            "igctl login needs --url (or IGCTL_URL), with --token or --cert and --key",
        ));
    };
    if token.is_none() && cert.is_none() {
        return Err(CliError::usage(
            "igctl login needs credentials: --token (an operator API token), or --cert and --key (the mTLS admin listener)",
        ));
    }
    let client = Client::new(endpoint)?;
    let who = check(&client).await?;
    // Stored paths are absolute: later commands run from anywhere.
    let absolute = |p: Option<PathBuf>| p.map(|p| std::fs::canonicalize(&p).unwrap_or(p));
    let stored = Stored {
        url: url.clone(),
        token,
        ca: absolute(ca),
        cert: absolute(cert),
        key: absolute(key),
    };
    let saved = credentials::save(&env, &stored)?;
    if let TokenPlace::File(why) = &saved.token {
        eprint(&format!(
            "igctl: warning: no usable keyring ({why}); the token is stored in {} (mode 0600) instead\n",
            saved.path.display()
        ));
    }
    let token_in = match &saved.token {
        TokenPlace::None => Value::Null,
        TokenPlace::Keyring => json!("keyring"),
        TokenPlace::File(_) => json!("file"),
    };
    let identity = who
        .get("identity")
        .and_then(Value::as_str)
        .map(String::from);
    let role = who.get("role").and_then(Value::as_str).map(String::from);
    let answer = json!({
        "url": url,
        "identity": identity,
        "role": role,
        "via": who.get("via").cloned().unwrap_or(Value::Null),
        "credentials": saved.path.display().to_string(),
        "token_in": token_in,
    });
    emit(wants_json(cli), &answer, || {
        let who = match (&identity, &role) {
            (Some(i), Some(r)) => format!(" as {i} ({r})"),
            (Some(i), None) => format!(" as {i}"),
            _ => String::new(),
        };
        let token = match &saved.token {
            TokenPlace::None => String::new(),
            TokenPlace::Keyring => "; token in the OS keyring".into(),
            TokenPlace::File(_) => "; token in that file".into(),
        };
        format!(
            "logged in to {url}{who}\ncredentials: {}{token}\n",
            saved.path.display()
        )
    });
    Ok(())
}

/// Ask igd who these credentials are; an igd without `whoami` is asked for its tenants.
async fn check(client: &Client) -> Result<Value, CliError> {
    match client
        .call::<Value>(Method::GET, "/v1/admin/whoami", None::<&()>)
        .await
    {
        Err(e) if e.code == ErrorCode::NotFound => {
            let _: Value = client
                .call(Method::GET, "/v1/admin/tenants", None::<&()>)
                .await?;
            Ok(json!({}))
        }
        other => other,
    }
}

/// `igctl logout`.
pub fn logout(cli: &Cli) -> Result<(), CliError> {
    let removed = credentials::remove(&env)?;
    let answer =
        json!({"logged_out": removed.is_some(), "url": removed.clone().filter(|u| !u.is_empty())});
    emit(wants_json(cli), &answer, || match &removed {
        Some(url) if !url.is_empty() => format!("logged out of {url}\n"),
        Some(_) => "stored credentials removed\n".into(),
        None => "not logged in\n".into(),
    });
    Ok(())
}
