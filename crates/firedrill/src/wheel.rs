//! The Wheel of Expertise inside `up`: the game on the lab's journal, its
//! facts read from the control plane's own API over loopback with the
//! lab's (instructor's) token.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use wheel::Wheel;
use wheel::game::LabFacts;

pub async fn start(
    journal: &store::Journal,
    url: &str,
    token: &str,
    data_dir: &Path,
) -> Result<Arc<Wheel>> {
    let facts = LabFacts::new(url, token, data_dir.to_path_buf());
    let wheel = Wheel::new(journal.clone(), Box::new(facts))
        .await
        .context("starting the wheel of expertise")?;
    Ok(Arc::new(wheel))
}
