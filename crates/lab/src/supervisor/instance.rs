//! The keeper of one instance: starts its process, waits until it is healthy,
//! restarts it with backoff when it crashes, and carries out restart and stop
//! commands.

use std::net::SocketAddr;
use std::process::ExitStatus;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};

use wire::NewEvent;

use super::process::{Launch, terminate};
use super::{Shared, SupervisorError};

/// Lifecycle state of an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InstanceState {
    Starting,
    Running,
    /// Exited on its own; waiting for its restart backoff.
    Crashed,
    Stopping,
    Stopped,
}

/// What the control plane knows about one instance.
#[derive(Debug, Clone, Serialize)]
pub struct InstanceInfo {
    pub service: String,
    pub index: u32,
    pub addr: SocketAddr,
    pub version: String,
    pub state: InstanceState,
    /// Left out of the registry: callers stop sending it traffic.
    pub draining: bool,
    pub pid: Option<u32>,
    pub restarts: u32,
    pub started_at: Option<DateTime<Utc>>,
    pub last_exit: Option<String>,
}

impl InstanceInfo {
    pub fn name(&self) -> String {
        format!("{}/{}", self.service, self.index)
    }

    /// Whether callers should be sent to it.
    pub fn in_rotation(&self) -> bool {
        self.state == InstanceState::Running && !self.draining
    }
}

pub(crate) type Reply = oneshot::Sender<Result<(), SupervisorError>>;

pub(crate) enum Command {
    /// Stop and start again, optionally with another version; replies once healthy.
    Restart {
        version: Option<String>,
        reason: &'static str,
        /// Who asked (journaled as the event's source).
        source: String,
        reply: Reply,
    },
    /// Stop for good; replies once the process is gone.
    Stop { reply: Reply },
}

/// Handle the supervisor keeps per instance.
pub(crate) struct Keeper {
    pub info: Arc<Mutex<InstanceInfo>>,
    pub tx: mpsc::Sender<Command>,
}

const READY_TIMEOUT: Duration = Duration::from_secs(15);
const STOP_GRACE: Duration = Duration::from_secs(3);
const MIN_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A run this long resets the crash backoff.
const STABLE_RUN: Duration = Duration::from_secs(30);

impl Keeper {
    /// Starts the keeper task; `started` gets the first start's outcome.
    pub fn spawn(shared: Arc<Shared>, info: InstanceInfo, started: Reply) -> Keeper {
        shared.metrics.started(&info.name());
        let info = Arc::new(Mutex::new(info));
        let (tx, rx) = mpsc::channel(8);
        tokio::spawn(run(shared, info.clone(), rx, started));
        Keeper { info, tx }
    }

    pub fn snapshot(&self) -> InstanceInfo {
        lock(&self.info).clone()
    }

    /// Sends a command and waits for its outcome.
    pub async fn command(
        &self,
        make: impl FnOnce(Reply) -> Command,
    ) -> Result<(), SupervisorError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(make(reply))
            .await
            .map_err(|_| SupervisorError::ShuttingDown)?;
        rx.await.map_err(|_| SupervisorError::ShuttingDown)?
    }
}

pub(crate) fn lock(info: &Mutex<InstanceInfo>) -> std::sync::MutexGuard<'_, InstanceInfo> {
    info.lock().unwrap_or_else(|e| e.into_inner())
}

fn describe(status: std::io::Result<ExitStatus>) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Ok(s) => match (s.code(), s.signal()) {
            (Some(c), _) => format!("exited with code {c}"),
            (_, Some(sig)) => format!("killed by signal {sig}"),
            _ => "exited".to_string(),
        },
        Err(e) => format!("wait failed: {e}"),
    }
}

async fn run(
    shared: Arc<Shared>,
    info: Arc<Mutex<InstanceInfo>>,
    mut rx: mpsc::Receiver<Command>,
    started: Reply,
) {
    let mut pending: Option<Reply> = Some(started);
    let mut backoff = MIN_BACKOFF;
    let name = lock(&info).name();
    loop {
        let (service, index, version, addr) = {
            let mut i = lock(&info);
            i.state = InstanceState::Starting;
            (i.service.clone(), i.index, i.version.clone(), i.addr)
        };
        shared.changed();
        let launch = Launch {
            service: &service,
            index,
            version: &version,
            addr,
        };
        let mut child = match shared.launch.spawn(&launch) {
            Ok(c) => c,
            Err(source) => {
                let err = SupervisorError::Spawn {
                    who: name.clone(),
                    source,
                };
                tracing::error!(instance = %name, error = %err, "spawn failed");
                lock(&info).state = InstanceState::Stopped;
                shared.changed();
                if let Some(r) = pending.take() {
                    let _ = r.send(Err(err));
                }
                return;
            }
        };
        let pid = child.id();
        {
            let mut i = lock(&info);
            i.pid = pid;
            i.started_at = Some(Utc::now());
        }
        let spawned_at = Instant::now();

        // Wait until healthy, or until the process dies first.
        let ready = tokio::select! {
            r = wait_ready(&shared.http, addr) => r,
            status = child.wait() => {
                Err(describe(status))
            }
        };
        match ready {
            Ok(()) => {
                lock(&info).state = InstanceState::Running;
                shared.apply_overrides(&service, addr).await;
                shared.changed();
                if let Some(r) = pending.take() {
                    let _ = r.send(Ok(()));
                }
            }
            Err(why) => {
                tracing::warn!(instance = %name, reason = %why, "instance did not become ready");
                terminate(&mut child, STOP_GRACE).await;
                if let Some(r) = pending.take() {
                    let _ = r.send(Err(SupervisorError::NotReady {
                        who: name.clone(),
                        secs: READY_TIMEOUT.as_secs(),
                    }));
                }
                lock(&info).last_exit = Some(why);
                if crash_wait(&shared, &info, &mut rx, &mut backoff, &name).await {
                    return;
                }
                continue;
            }
        }

        // Running: wait for an exit or a command.
        tokio::select! {
            status = child.wait() => {
                let why = describe(status);
                if spawned_at.elapsed() >= STABLE_RUN {
                    backoff = MIN_BACKOFF;
                }
                lock(&info).last_exit = Some(why.clone());
                shared
                    .emit_or_log(
                        NewEvent::new("instance.crashed", "supervisor", &name)
                            .attr("reason", why.clone())
                            .attr("pid", pid),
                    )
                    .await;
                if crash_wait(&shared, &info, &mut rx, &mut backoff, &name).await {
                    return;
                }
            }
            cmd = rx.recv() => {
                lock(&info).state = InstanceState::Stopping;
                shared.changed();
                terminate(&mut child, STOP_GRACE).await;
                match cmd {
                    Some(Command::Restart { version, reason, source, reply }) => {
                        let v = {
                            let mut i = lock(&info);
                            if let Some(v) = version {
                                i.version = v;
                            }
                            i.restarts += 1;
                            i.version.clone()
                        };
                        // Journaled before the caller hears back.
                        shared
                            .emit_or_log(
                                NewEvent::new("instance.restarted", &source, &name)
                                    .attr("reason", reason)
                                    .attr("version", v),
                            )
                            .await;
                        pending = Some(reply);
                    }
                    Some(Command::Stop { reply }) => {
                        lock(&info).state = InstanceState::Stopped;
                        shared.changed();
                        let _ = reply.send(Ok(()));
                        return;
                    }
                    None => {
                        lock(&info).state = InstanceState::Stopped;
                        shared.changed();
                        return;
                    }
                }
            }
        }
    }
}

/// After a crash: wait out the backoff (a stop command ends the keeper,
/// a restart command skips the wait). Returns true when the keeper must end.
async fn crash_wait(
    shared: &Shared,
    info: &Mutex<InstanceInfo>,
    rx: &mut mpsc::Receiver<Command>,
    backoff: &mut Duration,
    name: &str,
) -> bool {
    lock(info).state = InstanceState::Crashed;
    shared.changed();
    let wait = *backoff;
    *backoff = (*backoff * 2).min(MAX_BACKOFF);
    tokio::select! {
        _ = tokio::time::sleep(wait) => {}
        cmd = rx.recv() => match cmd {
            Some(Command::Restart { reply, .. }) => { let _ = reply.send(Ok(())); }
            Some(Command::Stop { reply }) => {
                lock(info).state = InstanceState::Stopped;
                shared.changed();
                let _ = reply.send(Ok(()));
                return true;
            }
            None => return true,
        }
    }
    let restarts = {
        let mut i = lock(info);
        i.restarts += 1;
        i.restarts
    };
    shared.restart_counter(name);
    shared
        .emit_or_log(
            NewEvent::new("instance.restarted", "supervisor", name)
                .attr("reason", "crashed")
                .attr("backoff_ms", wait.as_millis() as u64)
                .attr("restarts", restarts),
        )
        .await;
    false
}

async fn wait_ready(http: &reqwest::Client, addr: SocketAddr) -> Result<(), String> {
    let url = format!("http://{addr}/healthz");
    let deadline = Instant::now() + READY_TIMEOUT;
    let mut delay = Duration::from_millis(5);
    while Instant::now() < deadline {
        if let Ok(r) = http.get(&url).send().await
            && r.status().is_success()
        {
            return Ok(());
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_millis(100));
    }
    Err(format!("not healthy after {}s", READY_TIMEOUT.as_secs()))
}
