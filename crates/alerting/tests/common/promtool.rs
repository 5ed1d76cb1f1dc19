//! Debian's promtool for the SLO tests: missing fails under CI, skips with a
//! printed reason otherwise.

use std::path::PathBuf;

pub fn promtool() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("promtool"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        if std::env::var_os("CI").is_some() {
            panic!("promtool is missing: .ci/run installs Debian's prometheus package");
        }
        eprintln!("skipping: promtool is not installed");
    }
    found
}
