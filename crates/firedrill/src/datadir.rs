//! The lab's data dir: checked writable, its token (mode 0600), and the
//! `lab.json` record that tells other commands where the control plane is.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

/// What `up` records for other commands.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabRecord {
    pub url: String,
    pub pid: u32,
    pub topology: String,
    pub started_at: chrono::DateTime<chrono::Utc>,
}

/// Creates the data dir if needed and checks that it is writable.
pub fn prepare(dir: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| {
        format!(
            "cannot create the data dir {}: choose another with --data-dir",
            dir.display()
        )
    })?;
    let probe = dir.join(".write-test");
    std::fs::write(&probe, b"ok").with_context(|| {
        format!(
            "the data dir {} is not writable: fix its permissions or choose another with --data-dir",
            dir.display()
        )
    })?;
    let _ = std::fs::remove_file(probe);
    std::fs::create_dir_all(dir.join("logs"))?;
    dir.canonicalize()
        .with_context(|| format!("cannot resolve {}", dir.display()))
}

/// Reads the lab token, creating a random one (mode 0600) the first time.
pub fn token(dir: &Path) -> Result<String> {
    let path = dir.join("token");
    if let Ok(t) = std::fs::read_to_string(&path) {
        let t = t.trim().to_string();
        if !t.is_empty() {
            return Ok(t);
        }
    }
    let mut bytes = [0u8; 24];
    let mut f = std::fs::File::open("/dev/urandom").context("reading /dev/urandom")?;
    std::io::Read::read_exact(&mut f, &mut bytes)?;
    let t: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    writeln!(out, "{t}")?;
    Ok(t)
}

/// Reads the token of an existing lab.
pub fn read_token(dir: &Path) -> Result<String> {
    let path = dir.join("token");
    let t = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "no lab token at {}: is a lab running with this --data-dir?",
            path.display()
        )
    })?;
    let t = t.trim().to_string();
    if t.is_empty() {
        bail!("the token file {} is empty", path.display());
    }
    Ok(t)
}

pub fn write_record(dir: &Path, rec: &LabRecord) -> Result<()> {
    std::fs::write(dir.join("lab.json"), serde_json::to_vec_pretty(rec)?)?;
    Ok(())
}

pub fn read_record(dir: &Path) -> Option<LabRecord> {
    let text = std::fs::read_to_string(dir.join("lab.json")).ok()?;
    serde_json::from_str(&text).ok()
}

pub fn remove_record(dir: &Path) {
    let _ = std::fs::remove_file(dir.join("lab.json"));
}
