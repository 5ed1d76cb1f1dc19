//! Test harness: a real lab started with the real binary on free loopback
//! ports in a temporary data dir, stopped (children included) on drop.
#![allow(dead_code)]

pub mod responder;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_firedrill")
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port")
}

/// The start of `n` consecutive free ports, never overlapping a block
/// handed out earlier in this process (labs of one test binary start at
/// the same moment and would otherwise both find the same ports free).
pub fn free_block(n: u16) -> u16 {
    static GIVEN: std::sync::Mutex<Vec<(u16, u16)>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    for _ in 0..200 {
        // Below Linux's ephemeral range (32768-60999), so outgoing
        // connections do not take ports of the block meanwhile.
        let base = 10_000 + (rand_u16() % 22_000);
        let overlaps = given.iter().any(|&(b, m)| base < b + m && b < base + n);
        if !overlaps && (0..n).all(|i| TcpListener::bind(("127.0.0.1", base + i)).is_ok()) {
            given.push((base, n));
            return base;
        }
    }
    panic!("no block of {n} free ports");
}

fn rand_u16() -> u16 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos();
    ((t ^ std::process::id().wrapping_mul(2_654_435_761)) % 65_521) as u16
}

pub struct Lab {
    pub child: Option<Child>,
    pub dir: tempfile::TempDir,
    pub url: String,
    pub base_port: u16,
    pub http: reqwest::blocking::Client,
}

impl Lab {
    /// Starts `firedrill up` and waits until its control plane answers.
    pub fn start(topology: &str, extra: &[&str]) -> Lab {
        Lab::start_in(tempfile::tempdir().expect("tempdir"), topology, extra)
    }

    /// Stops this lab and starts the topology again on the same data dir.
    pub fn restart(mut self, topology: &str, extra: &[&str]) -> Lab {
        self.stop();
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().expect("tempdir"));
        Lab::start_in(dir, topology, extra)
    }

    fn start_in(dir: tempfile::TempDir, topology: &str, extra: &[&str]) -> Lab {
        let port = free_port();
        let base = free_block(48);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.path().join("up.log"))
            .expect("log");
        let child = Command::new(bin())
            .args(["up", "--topology", topology, "--data-dir"])
            .arg(dir.path())
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--base-port", &base.to_string()])
            .args(["--scrape-interval", "1s"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("spawn firedrill up");
        let lab = Lab {
            child: Some(child),
            dir,
            url: format!("http://127.0.0.1:{port}"),
            base_port: base,
            http: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client"),
        };
        lab.wait_up();
        lab
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("up.log")).unwrap_or_default()
    }

    fn wait_up(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let pid = self.child.as_ref().map(|c| c.id() as u64);
        while Instant::now() < deadline {
            // The record of this `up`, not one a killed predecessor left.
            let rec: Option<Value> = std::fs::read(self.dir.path().join("lab.json"))
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok());
            if rec.is_some_and(|r| r["pid"].as_u64() == pid) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("lab did not come up; its log:\n{}", self.log());
    }

    pub fn token(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("token"))
            .expect("token")
            .trim()
            .to_string()
    }

    /// GET as the lab's owner (the data dir's token: the instructor), or
    /// anonymously when the data dir has no token (a lab being replaced).
    pub fn get(&self, path: &str) -> Value {
        let mut r = self.http.get(format!("{}{path}", self.url));
        if let Ok(t) = std::fs::read_to_string(self.dir.path().join("token")) {
            r = r.bearer_auth(t.trim());
        }
        r.send().and_then(|r| r.json()).unwrap_or(Value::Null)
    }

    /// A GET as the lab's owner; the body as text.
    pub fn get_text(&self, path: &str) -> String {
        self.http
            .get(format!("{}{path}", self.url))
            .bearer_auth(self.token())
            .send()
            .and_then(|r| r.text())
            .unwrap_or_default()
    }

    /// Any request with any token (or none): the status and JSON body.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut r = self.http.request(method, format!("{}{path}", self.url));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().expect("request");
        let status = resp.status().as_u16();
        (status, resp.json().unwrap_or(Value::Null))
    }

    /// The status of a request, without reading its body (streams).
    pub fn status_of(&self, method: &str, path: &str, token: Option<&str>) -> u16 {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut r = self.http.request(method, format!("{}{path}", self.url));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send().expect("request").status().as_u16()
    }

    /// Creates a named token with `firedrill token create`; returns its secret.
    pub fn new_token(&self, name: &str, role: &str) -> String {
        let (ok, out, err) = self.cli(&["token", "create", "--name", name, "--role", role]);
        assert!(ok, "token create failed: {err}");
        out.lines().next().expect("a token").trim().to_string()
    }

    pub fn post(&self, path: &str, body: Value) -> Value {
        self.http
            .post(format!("{}{path}", self.url))
            .bearer_auth(self.token())
            .json(&body)
            .send()
            .and_then(|r| r.json())
            .unwrap_or(Value::Null)
    }

    /// Runs a firedrill command against this lab; returns (success, stdout, stderr).
    pub fn cli(&self, args: &[&str]) -> (bool, String, String) {
        let out = Command::new(bin())
            .arg("--data-dir")
            .arg(self.dir.path())
            .args(args)
            .env("NO_COLOR", "1")
            .output()
            .expect("run firedrill");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    pub fn services(&self) -> Vec<Value> {
        self.get("/api/lab/services")["data"]["services"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    pub fn instances(&self, service: &str) -> Vec<Value> {
        self.services()
            .into_iter()
            .find(|s| s["name"] == service)
            .and_then(|s| s["instances"].as_array().cloned())
            .unwrap_or_default()
    }

    pub fn addr(&self, service: &str, index: usize) -> String {
        self.instances(service)[index]["addr"]
            .as_str()
            .expect("addr")
            .to_string()
    }

    /// The load generator's metrics text.
    pub fn loadgen_metrics(&self) -> String {
        self.http
            .get(format!("{}/loadgen/metrics", self.url))
            .send()
            .and_then(|r| r.text())
            .unwrap_or_default()
    }

    /// Sum of `loadgen_journeys_total` samples whose labels contain all `want`.
    pub fn journeys(&self, want: &[&str]) -> f64 {
        sum_metric(&self.loadgen_metrics(), "loadgen_journeys_total", want)
    }

    /// Pids of every instance.
    pub fn pids(&self) -> Vec<i32> {
        self.services()
            .iter()
            .flat_map(|s| s["instances"].as_array().cloned().unwrap_or_default())
            .filter_map(|i| i["pid"].as_i64())
            .map(|p| p as i32)
            .collect()
    }

    /// SIGKILL to `up` (a crash): no shutdown path runs. Its instances die
    /// with it (parent-death signal).
    pub fn crash(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM to `up`, then waits for it (SIGKILL after 20s).
    pub fn stop(&mut self) -> Option<std::process::ExitStatus> {
        self.stop_with(nix::sys::signal::Signal::SIGTERM)
    }

    /// `signal` to `up`, then waits for it (SIGKILL after 20s: a lab that
    /// needs it has an exit status of "killed by signal 9").
    pub fn stop_with(
        &mut self,
        signal: nix::sys::signal::Signal,
    ) -> Option<std::process::ExitStatus> {
        let mut child = self.child.take()?;
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), signal);
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(s)) = child.try_wait() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        child.wait().ok()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let pids = self.pids();
        self.stop();
        for p in pids {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(p),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

/// Whether a process exists (and is not a zombie).
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => !s
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z'),
        Err(_) => false,
    }
}

/// Sums samples of `name` (exact metric name) whose label text contains every `want`.
pub fn sum_metric(text: &str, name: &str, want: &[&str]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| {
            l.starts_with(name) && matches!(l.as_bytes().get(name.len()), Some(b'{') | Some(b' '))
        })
        .filter(|l| want.iter().all(|w| l.contains(w)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Polls `f` until it returns Some or `secs` pass.
pub fn eventually<T>(secs: u64, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A webhook receiver on loopback collecting what it is sent.
pub fn webhook() -> (
    String,
    std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>,
    tokio::runtime::Runtime,
) {
    let got: std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>> = Default::default();
    let g = got.clone();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: axum::body::Bytes| {
            let g = g.clone();
            async move {
                if let Ok(v) = serde_json::from_slice(&body) {
                    g.lock().unwrap().push(v);
                }
                "ok"
            }
        }),
    );
    rt.spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hook"), got, rt)
}
