//! The hidden `__instance` command: one service instance, run by the supervisor.

use anyhow::{Context, Result};

use crate::cli::{Cli, InstanceArgs};

pub async fn run(cli: &Cli, args: &InstanceArgs) -> Result<()> {
    let text = std::fs::read_to_string(&args.topology_json)
        .with_context(|| format!("reading {}", args.topology_json.display()))?;
    let topology: lab::topology::Topology = serde_json::from_str(&text)
        .with_context(|| format!("parsing {}", args.topology_json.display()))?;
    if topology.name != args.lab {
        anyhow::bail!(
            "{} holds topology {:?}, not {:?}",
            args.topology_json.display(),
            topology.name,
            args.lab
        );
    }
    let token = crate::datadir::read_token(&cli.data_dir)?;
    let cfg = lab::runtime::RuntimeConfig {
        topology,
        service: args.service.clone(),
        index: args.index,
        version: args.version.clone(),
        listen: args.listen,
        data_dir: cli.data_dir.clone(),
        registry_url: args.registry_url.clone(),
        token,
    };
    lab::runtime::run(cfg, terminated()).await?;
    Ok(())
}

/// Resolves on SIGTERM or SIGINT.
async fn terminated() {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
