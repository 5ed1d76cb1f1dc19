//! `firedrill token create|list|revoke`: named tokens with roles, through
//! the running lab's `/api/tokens` (instructor only).

use anyhow::Result;
use wire::lab::{TokenCreate, TokenCreated, TokenInfo};

use crate::cli::{Cli, TokenCmd};
use crate::client::LabClient;
use crate::output;

pub async fn run(cli: &Cli, cmd: &TokenCmd) -> Result<()> {
    let client = LabClient::new(cli);
    match cmd {
        TokenCmd::Create { name, role } => {
            let created: TokenCreated = client
                .send(
                    "/api/tokens",
                    &TokenCreate {
                        name: name.clone(),
                        role: *role,
                    },
                )
                .await?;
            output::emit(cli.output, &serde_json::to_value(&created)?, || {
                println!("{}", created.token);
                eprintln!(
                    "token for {} ({}): shown once; give it to them as FIREDRILL_TOKEN or --token",
                    created.name, created.role
                );
            });
        }
        TokenCmd::List => {
            let v = client.get("/api/tokens").await?;
            let list: Vec<TokenInfo> = serde_json::from_value(v.clone())?;
            output::emit(cli.output, &v, || {
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|t| {
                        vec![
                            t.name.clone(),
                            t.role.to_string(),
                            t.created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                            t.revoked
                                .map(|r| r.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                                .unwrap_or_else(|| "active".into()),
                        ]
                    })
                    .collect();
                output::table(&["NAME", "ROLE", "CREATED", "REVOKED"], &rows);
            });
        }
        TokenCmd::Revoke { name } => {
            let v = client.delete(&format!("/api/tokens/{name}")).await?;
            output::emit(cli.output, &v, || println!("token {name} revoked"));
        }
    }
    Ok(())
}
