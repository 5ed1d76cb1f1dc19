//! `firedrill tsdb import FILE`.

use anyhow::Result;

use crate::cli::{Cli, TsdbCmd};

pub async fn run(_cli: &Cli, _cmd: &TsdbCmd) -> Result<()> {
    anyhow::bail!("the store is not wired yet")
}
