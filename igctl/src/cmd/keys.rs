//! `gen-key`: a master key, or an audit signing key (optionally announced to igd first).

use super::{connect, emit, wants_json};
use crate::cli::Cli;
use crate::error::CliError;
use hyper::Method;
use intentgate_proto::api::{AnnounceKeyRequest, AnnounceKeyResponse};

pub async fn run(
    cli: &Cli,
    audit: bool,
    announce: bool,
    totp: Option<String>,
) -> Result<(), CliError> {
    let json = wants_json(cli);
    if totp.is_some() && !announce {
        return Err(CliError::usage(
            "--totp goes with --announce only (announcing a key is step-up gated)",
        ));
    }
    if !audit {
        let key = intentgate_proto::keys::MasterKey::generate_hex();
        emit(json, &serde_json::json!({ "master_key": key }), || {
            format!("{key}\n")
        });
        return Ok(());
    }
    use base64::Engine as _;
    let (pem, public) = intentgate_proto::checkpoint::generate_signing_key_pem();
    let public = base64::engine::general_purpose::STANDARD.encode(public.as_bytes());
    if announce {
        let body = AnnounceKeyRequest {
            public_key: public.clone(),
        };
        let _: AnnounceKeyResponse = connect(cli)?
            .with_step_up(totp)
            .call(Method::POST, "/v1/admin/audit/keys", Some(&body))
            .await?;
    }
    emit(
        json,
        &serde_json::json!({ "private_key_pem": pem, "public_key": public }),
        || pem.clone(),
    );
    Ok(())
}
