//! `firedrill promql test FILE...`: PromQL test scripts against our engine.

use anyhow::Result;

use crate::cli::{Cli, PromqlCmd};

pub async fn run(_cli: &Cli, _cmd: &PromqlCmd) -> Result<()> {
    anyhow::bail!("the PromQL test runner is not wired yet")
}
