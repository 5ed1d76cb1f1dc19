//! Scenario files: the model every part consumes (`model.rs`), the file
//! shape (`raw.rs`), its checks (`validate/`), and the bundled catalogue
//! (`bundled.rs`). The format is documented in docs/drills.md.

pub mod bundled;
mod model;
mod raw;
mod validate;

use std::path::Path;

pub use model::*;
pub use validate::DEFAULT_SCORING;

/// Parses and checks a scenario; `file` names it in problems. Every
/// mistake is reported, each with file:line:column and the field.
pub fn parse(text: &str, file: &str) -> Result<Scenario, diag::Problems> {
    let raw: raw::RawScenario = diag::yaml::from_str(text, file)?;
    validate::scenario(raw, file)
}

/// Reads, parses and checks a scenario file.
pub fn load(path: &Path) -> Result<Scenario, diag::Problems> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| diag::Problem::in_file(&file, format!("cannot read scenario file: {e}")))?;
    parse(&text, &file)
}
