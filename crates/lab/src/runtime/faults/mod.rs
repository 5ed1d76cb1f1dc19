//! The faults active on this instance, and what they decide per request.
//! With none active the hot path costs one atomic load.

mod effects;
pub mod listener;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use rand::RngExt;

use crate::faults::{FaultKind, FaultSpec};

/// Where in the data dir disk faults write their files. Named as a
/// service's own files would be: nothing a trainee lists names a fault.
pub const SPOOL_DIR: &str = "spool";

/// What a request fault does to one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Delay(Duration),
    Error(u16),
    Blackhole,
    Refuse,
    Reset,
    SlowBody(Duration),
}

struct Active {
    spec: FaultSpec,
    until: Instant,
    /// Stops the background effect (CPU, memory, disk) when set.
    stop: Arc<AtomicBool>,
}

#[derive(Default)]
pub struct Faults {
    active: RwLock<Vec<Active>>,
    count: AtomicUsize,
    /// Server-side refusal: the listener closes while set.
    pub refusing: Arc<AtomicBool>,
    /// Where disk faults write (the lab's data dir).
    pub dir: std::path::PathBuf,
    pub instance: String,
}

impl std::fmt::Debug for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Faults({})", self.count.load(Ordering::Relaxed))
    }
}

impl Faults {
    pub fn new(dir: std::path::PathBuf, instance: String) -> Faults {
        Faults {
            dir,
            instance,
            ..Faults::default()
        }
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Vec<Active>> {
        self.active.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Undoes what a fault left behind (the disk fault's file).
    fn end(&self, a: &Active) {
        a.stop.store(true, Ordering::Release);
        if matches!(a.spec.kind, FaultKind::Disk { .. }) {
            let _ = std::fs::remove_file(self.fill_path(&a.spec.id));
        }
    }

    fn refresh(&self, list: &[Active]) {
        self.count.store(list.len(), Ordering::Release);
        let refuse = list
            .iter()
            .any(|a| a.spec.kind == FaultKind::Refuse && a.spec.to.is_none());
        self.refusing.store(refuse, Ordering::Release);
    }

    /// Adds (or replaces, by id) a fault; background effects start now.
    pub fn add(&self, spec: FaultSpec) -> Result<(), String> {
        spec.kind.validate()?;
        if !(0.0..=100.0).contains(&spec.percent) {
            return Err("percent is 0 to 100".into());
        }
        let ttl = Duration::from_millis(spec.ttl_ms.clamp(1, crate::faults::MAX_TTL_MS));
        let stop = Arc::new(AtomicBool::new(false));
        match spec.kind {
            FaultKind::Cpu { share } => effects::burn_cpu(share, stop.clone()),
            FaultKind::Memory { mb_per_s, cap_mb } => {
                effects::leak_memory(mb_per_s, cap_mb, stop.clone())
            }
            FaultKind::Disk { mb_per_s, size_mb } => {
                let path = self.fill_path(&spec.id);
                effects::fill_disk(path, mb_per_s, size_mb, stop.clone());
            }
            _ => {}
        }
        let mut list = self.write();
        if let Some(old) = list.iter().position(|a| a.spec.id == spec.id) {
            let old = list.remove(old);
            old.stop.store(true, Ordering::Release);
        }
        list.push(Active {
            spec,
            until: Instant::now() + ttl,
            stop,
        });
        self.refresh(&list);
        Ok(())
    }

    /// The file a disk fault writes: in [`SPOOL_DIR`] of the data dir, named
    /// by instance and fault id (only `[A-Za-z0-9_-]` kept), like any file a
    /// service spools to disk.
    pub fn fill_path(&self, id: &str) -> std::path::PathBuf {
        let clean = |s: &str| -> String {
            s.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect()
        };
        self.dir
            .join(SPOOL_DIR)
            .join(format!("{}-{}.spool", clean(&self.instance), clean(id)))
    }

    /// Bytes of this instance's files in the data dir: its request log and
    /// the files its disk faults write.
    pub fn data_bytes(&self) -> u64 {
        let size = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        let log = self
            .dir
            .join("logs")
            .join(format!("{}.jsonl", self.instance));
        let prefix = format!("{}-", self.instance);
        let fills: u64 = std::fs::read_dir(self.dir.join(SPOOL_DIR))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
            .map(|e| size(&e.path()))
            .sum();
        size(&log) + fills
    }

    /// Removes one fault (or all with `None`); returns how many.
    pub fn remove(&self, id: Option<&str>) -> usize {
        let mut list = self.write();
        let before = list.len();
        list.retain(|a| {
            let hit = id.is_none_or(|id| a.spec.id == id);
            if hit {
                self.end(a);
            }
            !hit
        });
        self.refresh(&list);
        before - list.len()
    }

    /// Drops faults past their time; run every few hundred milliseconds.
    pub fn expire(&self) -> usize {
        if self.count.load(Ordering::Acquire) == 0 {
            return 0;
        }
        let now = Instant::now();
        let mut list = self.write();
        let before = list.len();
        list.retain(|a| {
            let live = a.until > now;
            if !live {
                self.end(a);
            }
            live
        });
        self.refresh(&list);
        before - list.len()
    }

    pub fn list(&self) -> Vec<serde_json::Value> {
        let now = Instant::now();
        self.active
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|a| {
                let mut v = serde_json::to_value(&a.spec).unwrap_or_default();
                v["remaining_ms"] =
                    (a.until.saturating_duration_since(now).as_millis() as u64).into();
                v
            })
            .collect()
    }

    fn decide(&self, matches: impl Fn(&FaultSpec) -> bool) -> Option<Action> {
        if self.count.load(Ordering::Acquire) == 0 {
            return None;
        }
        let now = Instant::now();
        let list = self.active.read().unwrap_or_else(|e| e.into_inner());
        let mut rng = rand::rng();
        for a in list.iter() {
            let s = &a.spec;
            if a.until <= now || !s.kind.per_request() || !matches(s) {
                continue;
            }
            if s.percent < 100.0 && rng.random_range(0.0..100.0) >= s.percent {
                continue;
            }
            return Some(match s.kind {
                FaultKind::Latency {
                    delay_ms,
                    jitter_ms,
                } => {
                    let j = if jitter_ms > 0 {
                        rng.random_range(-(jitter_ms as i64)..=jitter_ms as i64)
                    } else {
                        0
                    };
                    Action::Delay(Duration::from_millis((delay_ms as i64 + j).max(0) as u64))
                }
                FaultKind::Error { status } => Action::Error(status),
                FaultKind::Blackhole => Action::Blackhole,
                FaultKind::Refuse => Action::Refuse,
                FaultKind::Reset => Action::Reset,
                FaultKind::SlowBody { delay_ms } => {
                    Action::SlowBody(Duration::from_millis(delay_ms))
                }
                _ => continue,
            });
        }
        None
    }

    /// The fault for a request this instance serves on `route`, if any.
    pub fn on_request(&self, route: &str) -> Option<Action> {
        self.decide(|s| s.to.is_none() && s.route.as_deref().is_none_or(|r| r == route))
    }

    /// The fault for a call from this instance to `service`, if any.
    pub fn on_call(&self, service: &str) -> Option<Action> {
        self.decide(|s| s.to.as_deref() == Some(service))
    }

    /// How long a server-side blackhole holds a request: until the fault
    /// ends (callers time out long before).
    pub fn blackhole_for(&self) -> Duration {
        let now = Instant::now();
        self.active
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|a| a.spec.kind == FaultKind::Blackhole)
            .map(|a| a.until.saturating_duration_since(now))
            .max()
            .unwrap_or_default()
    }

    /// Ends everything (the instance is stopping).
    pub fn clear_all(&self) {
        self.remove(None);
    }
}

/// A response body shaped by a fault: cut off halfway (reset, or refusal
/// on a connection opened before it), or sent slowly in ten chunks.
pub fn body(action: Action, text: String) -> Option<axum::body::Body> {
    use futures_util::stream;
    let bytes = bytes::Bytes::from(text);
    match action {
        Action::Reset | Action::Refuse => {
            let half = if matches!(action, Action::Reset) {
                bytes.len() / 2
            } else {
                0
            };
            let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = vec![
                Ok(bytes.slice(..half)),
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "connection reset by peer",
                )),
            ];
            Some(axum::body::Body::from_stream(stream::iter(chunks)))
        }
        Action::SlowBody(total) => {
            let n = 10usize;
            let size = bytes.len().div_ceil(n).max(1);
            let pause = total / n as u32;
            let parts: Vec<bytes::Bytes> = (0..bytes.len().max(1))
                .step_by(size)
                .map(|i| bytes.slice(i.min(bytes.len())..(i + size).min(bytes.len())))
                .collect();
            let s = stream::unfold(parts.into_iter(), move |mut it| async move {
                let next = it.next()?;
                tokio::time::sleep(pause).await;
                Some((Ok::<_, std::io::Error>(next), it))
            });
            Some(axum::body::Body::from_stream(s))
        }
        _ => None,
    }
}

/// Expires faults every 200 ms for as long as the instance runs.
pub async fn expire_loop(faults: Arc<Faults>) {
    let mut every = tokio::time::interval(Duration::from_millis(200));
    loop {
        every.tick().await;
        faults.expire();
    }
}
