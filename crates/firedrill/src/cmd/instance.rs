//! The hidden `__instance` command: one service instance, run by the supervisor.

use anyhow::Result;

use crate::cli::{Cli, InstanceArgs};

pub async fn run(_cli: &Cli, _args: &InstanceArgs) -> Result<()> {
    anyhow::bail!("the service runtime is not wired yet")
}
