//! `stop` and `unstop`: emergency stops on a tenant or one of its subjects.

use super::{connect, emit, wants_json};
use crate::cli::{Cli, StopArgs, UnstopArgs};
use crate::error::CliError;
use hyper::Method;
use intentgate_proto::api::{Stop, StopRequest};

/// Place a stop, or lift one.
#[derive(Debug)]
pub enum Action<'a> {
    Place(&'a StopArgs),
    Lift(&'a UnstopArgs),
}

pub async fn run(cli: &Cli, action: Action<'_>) -> Result<(), CliError> {
    let json = wants_json(cli);
    match action {
        Action::Place(args) => {
            let req = StopRequest {
                tenant: args.tenant.clone(),
                subject: args.subject.clone(),
                reason: args.reason.clone(),
            };
            let s: Stop = connect(cli)?
                .call(Method::POST, "/v1/admin/stops", Some(&req))
                .await?;
            emit(json, &s, || format!("stopped {}\n", stop_label(&s)));
        }
        Action::Lift(args) => {
            let req = StopRequest {
                tenant: args.tenant.clone(),
                subject: args.subject.clone(),
                reason: args.reason.clone(),
            };
            let s: Stop = connect(cli)?
                .with_step_up(args.totp.clone())
                .call(Method::DELETE, "/v1/admin/stops", Some(&req))
                .await?;
            emit(json, &s, || {
                format!("lifted the stop on {}\n", stop_label(&s))
            });
        }
    }
    Ok(())
}

fn stop_label(s: &Stop) -> String {
    match &s.subject {
        Some(sub) => format!("{}/{sub}", s.tenant),
        None => format!("tenant {}", s.tenant),
    }
}
