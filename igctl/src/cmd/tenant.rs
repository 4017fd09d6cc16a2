//! `tenants` and `agents`: who igd knows of.

use super::{connect, emit, wants_json};
use crate::cli::Cli;
use crate::error::CliError;
use crate::output::table;
use hyper::Method;
use intentgate_proto::api::{AgentList, TenantList};

/// Which listing.
#[derive(Debug, Clone, Copy)]
pub enum Action {
    Tenants,
    Agents,
}

pub async fn run(cli: &Cli, action: Action) -> Result<(), CliError> {
    let json = wants_json(cli);
    match action {
        Action::Tenants => tenants(cli, json).await,
        Action::Agents => agents(cli, json).await,
    }
}

async fn tenants(cli: &Cli, json: bool) -> Result<(), CliError> {
    let list: TenantList = connect(cli)?
        .call(Method::GET, "/v1/admin/tenants", None::<&()>)
        .await?;
    emit(json, &list, || {
        let rows: Vec<Vec<String>> = list
            .tenants
            .iter()
            .map(|t| {
                vec![
                    t.name.clone(),
                    t.tokens_live.to_string(),
                    if t.admin_scoped {
                        "yes".into()
                    } else {
                        "no".into()
                    },
                ]
            })
            .collect();
        table(&["TENANT", "TOKENS_LIVE", "TENANT_ADMIN"], &rows)
    });
    Ok(())
}

async fn agents(cli: &Cli, json: bool) -> Result<(), CliError> {
    let list: AgentList = connect(cli)?
        .call(Method::GET, "/v1/admin/agents", None::<&()>)
        .await?;
    emit(json, &list, || {
        let rows: Vec<Vec<String>> = list
            .agents
            .iter()
            .map(|a| {
                vec![
                    a.tenant.clone(),
                    a.subject.clone(),
                    a.first_seen.clone(),
                    a.last_seen.clone(),
                    a.calls.to_string(),
                    a.allowed.to_string(),
                    a.refused.to_string(),
                ]
            })
            .collect();
        table(
            &[
                "TENANT",
                "SUBJECT",
                "FIRST_SEEN",
                "LAST_SEEN",
                "CALLS",
                "ALLOWED",
                "REFUSED",
            ],
            &rows,
        )
    });
    Ok(())
}
