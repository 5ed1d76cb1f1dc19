//! `firedrill topology validate|show|list`.

use anyhow::Result;
use serde_json::json;

use crate::cli::{Cli, TopologyCmd};
use crate::output;

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
            let name = name
                .clone()
                .or_else(|| crate::datadir::read_record(&cli.data_dir).map(|r| r.topology))
                .unwrap_or_else(|| "shop".to_string());
            let t = lab::topology::resolve(&name)?;
            let v = serde_json::to_value(&t)?;
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
