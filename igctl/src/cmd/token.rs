//! `token inspect` and `token attenuate`: offline work on a token the operator holds (igd is
//! not asked; nothing is verified).

use super::{emit, wants_json};
use crate::cli::{AttenuateArgs, Cli, TokenCommand};
use crate::error::CliError;
use crate::output::fields;
use intentgate_proto::api::ErrorCode;
use intentgate_proto::ids::new_id;
use intentgate_proto::token::{self, ChildClaims, RawToken};
use std::io::Read;

pub fn run(cli: &Cli, command: &TokenCommand) -> Result<(), CliError> {
    let json = wants_json(cli);
    match command {
        TokenCommand::Inspect { token } => inspect(json, &read_token_arg(token)?),
        TokenCommand::Attenuate(args) => attenuate(json, args),
    }
}

fn read_token_arg(arg: &str) -> Result<String, CliError> {
    if arg == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| CliError::usage(format!("cannot read the token from stdin: {e}")))?;
        Ok(text.trim().to_string())
    } else {
        Ok(arg.trim().to_string())
    }
}

fn token_error(e: token::TokenError) -> CliError {
    CliError::new(ErrorCode::InvalidRequest, e.to_string())
}

fn inspect(json: bool, text: &str) -> Result<(), CliError> {
    let raw = RawToken::decode(text).map_err(token_error)?;
    let claims = raw.claims_unverified().map_err(token_error)?;
    let chain: Vec<&str> = claims.chain().collect();
    let value = serde_json::json!({
        "signature": "not verified (offline; igd verifies)",
        "root": claims.root,
        "children": claims.children,
        "depth": claims.depth(),
        "jti_chain": chain,
        "effective": {
            "subject": claims.root.sub,
            "delegated_subject": claims.delegated_subject(),
            "tools": claims.rights.tools.to_list(),
            "max_calls": claims.rights.max_calls,
            "exp": claims.rights.exp,
        },
    });
    emit(json, &value, || {
        let mut out = fields(&[
            ("tenant", claims.root.tenant.clone()),
            ("subject", claims.root.sub.clone()),
            (
                "delegated",
                claims.delegated_subject().unwrap_or("-").to_string(),
            ),
            ("kid", claims.root.kid.clone()),
            ("root_jti", claims.root.jti.clone()),
            ("leaf_jti", claims.leaf_jti().to_string()),
            ("depth", claims.depth().to_string()),
            ("tools", claims.rights.tools.to_list().join(",")),
            ("max_calls", claims.rights.max_calls.to_string()),
            ("expires_at", unix_text(claims.rights.exp)),
        ]);
        out.push_str("signature: not verified (offline; igd verifies)\n");
        out
    });
    Ok(())
}

fn unix_text(secs: u64) -> String {
    let t = i64::try_from(secs)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok());
    t.and_then(|t| {
        t.format(&time::format_description::well_known::Rfc3339)
            .ok()
    })
    .unwrap_or_else(|| secs.to_string())
}

fn attenuate(json: bool, args: &AttenuateArgs) -> Result<(), CliError> {
    let text = read_token_arg(&args.token)?;
    let exp = match args.ttl {
        Some(ttl) => {
            let now = u64::try_from(time::OffsetDateTime::now_utc().unix_timestamp()).unwrap_or(0);
            Some(now.saturating_add(ttl))
        }
        None => None,
    };
    if args.tools.is_none() && args.max_calls.is_none() && exp.is_none() && args.sub.is_none() {
        return Err(CliError::usage(
            "say how to narrow: --tools, --max-calls, --ttl or --sub",
        ));
    }
    // A later expiry than the parent's is clamped by refusing: widening is an error.
    let child = ChildClaims {
        jti: new_id(),
        sub: args.sub.clone(),
        tools: args.tools.clone(),
        max_calls: args.max_calls,
        exp,
    };
    let narrowed = token::attenuate(&text, &child).map_err(token_error)?;
    emit(
        json,
        &serde_json::json!({ "token": narrowed, "jti": child.jti }),
        || format!("{narrowed}\n"),
    );
    Ok(())
}
