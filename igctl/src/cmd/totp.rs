//! `totp enroll|confirm|disable`: TOTP step-up for the caller's own identity.
//!
//! On a terminal `enroll` draws the otpauth:// URI as a QR code (Unicode half blocks), asks for
//! the first code and prints the recovery codes; otherwise it prints the secret and URI and a
//! script confirms with `totp confirm --code`.

use super::{connect, emit, wants_json};
use crate::cli::{Cli, TotpCommand};
use crate::client::Client;
use crate::error::CliError;
use crate::output::{eprint, print_text};
use hyper::Method;
use intentgate_proto::api::{ErrorCode, TotpConfirm, TotpConfirmed, TotpDisable, TotpEnrollment};
use std::io::{BufRead, IsTerminal};

/// Tries at the first code on a terminal before giving up.
const PROMPT_TRIES: usize = 3;

pub async fn run(cli: &Cli, command: &TotpCommand) -> Result<(), CliError> {
    let json = wants_json(cli);
    match command {
        TotpCommand::Enroll { totp } => enroll(cli, json, totp.clone()).await,
        TotpCommand::Confirm { code } => {
            let confirmed = confirm(&connect(cli)?, code).await?;
            show_recovery(json, &confirmed);
            Ok(())
        }
        TotpCommand::Disable { identity, totp } => {
            let req = TotpDisable {
                identity: identity.clone(),
            };
            let answer: serde_json::Value = connect(cli)?
                .with_step_up(totp.clone())
                .call(Method::POST, "/v1/admin/totp/disable", Some(&req))
                .await?;
            emit(json, &answer, || {
                format!(
                    "disabled TOTP of {}\n",
                    answer["identity"].as_str().unwrap_or("?")
                )
            });
            Ok(())
        }
    }
}

async fn confirm(client: &Client, code: &str) -> Result<TotpConfirmed, CliError> {
    let req = TotpConfirm {
        code: code.trim().to_string(),
    };
    client
        .call(Method::POST, "/v1/admin/totp/confirm", Some(&req))
        .await
}

/// The URI as a QR code drawn with half blocks, light modules dark: readable on dark and
/// light terminal themes alike thanks to the quiet zone.
fn qr(uri: &str) -> Option<String> {
    use qrcode::render::unicode::Dense1x2;
    let code = qrcode::QrCode::new(uri.as_bytes()).ok()?;
    Some(
        code.render::<Dense1x2>()
            .dark_color(Dense1x2::Light)
            .light_color(Dense1x2::Dark)
            .quiet_zone(true)
            .build(),
    )
}

async fn enroll(cli: &Cli, json: bool, totp: Option<String>) -> Result<(), CliError> {
    let client = connect(cli)?;
    let enrollment: TotpEnrollment = client
        .clone()
        .with_step_up(totp)
        .call(Method::POST, "/v1/admin/totp/enroll", None::<&()>)
        .await?;
    let interactive = std::io::stdin().is_terminal();
    if !interactive {
        // A script: the secret (for its own authenticator), then `totp confirm --code`.
        emit(json, &enrollment, || {
            format!(
                "secret:      {}\notpauth URI: {}\npending: confirm with `igctl totp confirm --code CODE`\n",
                enrollment.secret, enrollment.otpauth_uri
            )
        });
        return Ok(());
    }
    if !json && std::io::stdout().is_terminal() {
        if let Some(picture) = qr(&enrollment.otpauth_uri) {
            // The picture is igctl's own output: printed as is.
            crate::output::print(&format!("{picture}\n"));
        }
    }
    if json {
        eprint(&format!("otpauth URI: {}\n", enrollment.otpauth_uri));
    } else {
        print_text(&format!(
            "Scan the QR code, or add this to your authenticator app:\n  secret:      {}\n  otpauth URI: {}\n",
            enrollment.secret, enrollment.otpauth_uri
        ));
    }
    let stdin = std::io::stdin();
    let mut last = None;
    for _ in 0..PROMPT_TRIES {
        eprint("First code from the app: ");
        let mut line = String::new();
        if stdin.lock().read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        match confirm(&client, &line).await {
            Ok(confirmed) => {
                show_recovery(json, &confirmed);
                return Ok(());
            }
            Err(e)
                if matches!(
                    e.code,
                    ErrorCode::StepUpRequired | ErrorCode::InvalidRequest
                ) =>
            {
                eprint(&format!("{}\n", e.message));
                last = Some(e);
            }
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        CliError::new(
            ErrorCode::Usage,
            "no code given: the enrollment is pending; confirm it with `igctl totp confirm --code CODE`",
        )
    }))
}

fn show_recovery(json: bool, confirmed: &TotpConfirmed) {
    emit(json, confirmed, || {
        let mut out = format!(
            "TOTP enrolled for {}. Recovery codes (each works once instead of a code; shown only now, keep them offline):\n",
            confirmed.identity
        );
        for c in &confirmed.recovery_codes {
            out.push_str(&format!("  {c}\n"));
        }
        out
    });
}
