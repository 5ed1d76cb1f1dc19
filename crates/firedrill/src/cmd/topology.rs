//! `firedrill topology validate|show|list`.

use anyhow::Result;
use serde_json::json;

use crate::cli::{Cli, TopologyCmd};
use crate::client::LabClient;
use crate::output;

/// A topology file or bundled lab, whole.
fn local(name: &str) -> Result<(lab::topology::Topology, serde_json::Value)> {
    let t = lab::topology::resolve(name)?;
    let v = serde_json::to_value(&t)?;
    Ok((t, v))
}

/// The running lab's topology as the caller's token may see it: without
/// what its versions do, unless the caller sees hidden state.
async fn running(cli: &Cli) -> Result<(lab::topology::Topology, serde_json::Value)> {
    let v = LabClient::new(cli).get("/api/lab/topology").await?;
    let t = serde_json::from_value(v.clone())?;
    Ok((t, v))
}

pub async fn run(cli: &Cli, cmd: &TopologyCmd) -> Result<()> {
    match cmd {
        TopologyCmd::Validate { file } => {
            let t = lab::topology::load_file(file)?;
            let n: u32 = t.services.iter().map(|s| s.instances).sum();
            let v = json!({"valid": true, "name": t.name, "services": t.services.len(), "instances": n, "journeys": t.journeys.len()});
            output::emit(cli.output, &v, || {
                println!(
                    "{}: ok ({} services, {n} instances, {} journeys)",
                    file.display(),
                    t.services.len(),
                    t.journeys.len()
                )
            });
        }
        TopologyCmd::Show { name } => {
            let (t, v) = match name {
                Some(n) => local(n)?,
                None => match crate::datadir::read_record(&cli.data_dir) {
                    Some(r) => match running(cli).await {
                        Ok(tv) => tv,
                        Err(e) => {
                            tracing::debug!(error = %e, "the lab does not answer; reading its file");
                            local(&r.topology)?
                        }
                    },
                    None => local("shop")?,
                },
            };
            output::emit(cli.output, &v, || {
                print!("{}", lab::topology::render_tree(&t))
            });
        }
        TopologyCmd::List => {
            let rows: Vec<Vec<String>> = lab::topology::bundled_names()
                .iter()
                .filter_map(|n| lab::topology::resolve(n).ok())
                .map(|t| {
                    vec![
                        t.name.clone(),
                        t.services.len().to_string(),
                        t.description.lines().next().unwrap_or("").to_string(),
                    ]
                })
                .collect();
            let v = json!(
                rows.iter()
                    .map(|r| json!({"name": r[0], "services": r[1], "description": r[2]}))
                    .collect::<Vec<_>>()
            );
            output::emit(cli.output, &v, || {
                output::table(&["NAME", "SERVICES", "DESCRIPTION"], &rows)
            });
        }
    }
    Ok(())
}
