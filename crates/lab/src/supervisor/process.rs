//! Starting and stopping one instance's OS process.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::process::{Child, Command};

/// How to start an instance process: `program args... __instance-flags`.
#[derive(Debug, Clone)]
pub struct LaunchSpec {
    /// The firedrill binary (usually `std::env::current_exe()`).
    pub program: PathBuf,
    /// Arguments before the per-instance flags (usually `["__instance"]`).
    pub args: Vec<String>,
    pub lab: String,
    /// The resolved topology, as JSON, written by the supervisor at start.
    pub topology_json: PathBuf,
    pub data_dir: PathBuf,
    /// Where instances poll for downstream addresses.
    pub registry_url: String,
}

/// What varies per instance start.
#[derive(Debug, Clone)]
pub struct Launch<'a> {
    pub service: &'a str,
    pub index: u32,
    pub version: &'a str,
    pub addr: SocketAddr,
}

impl LaunchSpec {
    /// Spawns the instance; its stdout/stderr go to `logs/SERVICE-N.out`.
    pub fn spawn(&self, l: &Launch<'_>) -> std::io::Result<Child> {
        let logs = self.data_dir.join("logs");
        std::fs::create_dir_all(&logs)?;
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(logs.join(format!("{}-{}.out", l.service, l.index)))?;
        let err = out.try_clone()?;
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args)
            .arg("--lab")
            .arg(&self.lab)
            .arg("--topology-json")
            .arg(&self.topology_json)
            .arg("--service")
            .arg(l.service)
            .arg("--index")
            .arg(l.index.to_string())
            .arg("--version")
            .arg(l.version)
            .arg("--listen")
            .arg(l.addr.to_string())
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--registry-url")
            .arg(&self.registry_url)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .kill_on_drop(true);
        // SAFETY: the closure runs in the forked child before exec and only
        // calls prctl(2), which is async-signal-safe. It makes the kernel kill
        // the instance when the control plane dies, so no process outlives
        // its lab even after a SIGKILL of the control plane.
        unsafe {
            cmd.pre_exec(|| {
                nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(std::io::Error::from)
            });
        }
        cmd.spawn()
    }
}

/// Sends `sig` to the child if it is still running.
pub fn signal(child: &Child, sig: Signal) {
    if let Some(pid) = child.id()
        && let Ok(pid) = i32::try_from(pid)
    {
        let _ = kill(Pid::from_raw(pid), sig);
    }
}

/// SIGTERM, then SIGKILL after `grace`; waits for the exit.
pub async fn terminate(child: &mut Child, grace: Duration) {
    signal(child, Signal::SIGTERM);
    if tokio::time::timeout(grace, child.wait()).await.is_err() {
        let _ = child.start_kill();
        let _ = child.wait().await;
    }
}
