//! Critical-path analysis: under the lab's own traffic, take each service
//! down in turn (its connections refused on every instance), count what
//! happened to each user journey, and compare with what the topology
//! declares. A cell where the two disagree is a mismatch: a "non-critical"
//! call without a fallback breaks the journey anyway, or a "critical" one
//! turns out not to matter.

pub mod expect;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Serialize;

pub use expect::{Expected, Impact, declared};

use crate::ChaosError;
use crate::client::ControlPlane;
use crate::faults::InjectRequest;

#[derive(Debug, Clone)]
pub struct Options {
    /// Time after the outage starts before counting (in-flight journeys end,
    /// callers eject the dead instances).
    pub settle: Duration,
    /// Time over which journeys are counted.
    pub window: Duration,
    /// Time after the service is back before the next one goes down.
    pub recover: Duration,
    /// The whole run stops (and clears its fault) after this.
    pub max_time: Duration,
    /// Only these services (default: all).
    pub services: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            settle: Duration::from_secs(2),
            window: Duration::from_secs(6),
            recover: Duration::from_secs(3),
            max_time: Duration::from_secs(15 * 60),
            services: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    pub journey: String,
    pub service: String,
    pub expected: Impact,
    /// The declared impact needs a call made only some of the time.
    pub sometimes: bool,
    pub observed: Impact,
    pub journeys: f64,
    pub failure_ratio: f64,
    pub degraded_ratio: f64,
    pub mismatch: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Matrix {
    pub topology: String,
    pub journeys: Vec<String>,
    pub services: Vec<String>,
    pub window_seconds: f64,
    pub cells: Vec<Cell>,
    /// Journeys counted with every service up, per journey.
    pub baseline_failure_ratio: BTreeMap<String, f64>,
    pub seconds: f64,
}

impl Matrix {
    pub fn mismatches(&self) -> impl Iterator<Item = &Cell> {
        self.cells.iter().filter(|c| c.mismatch)
    }

    pub fn cell(&self, journey: &str, service: &str) -> Option<&Cell> {
        self.cells
            .iter()
            .find(|c| c.journey == journey && c.service == service)
    }
}

/// Observed impact from the share of journeys that failed or came back
/// degraded. Thresholds leave room for the lab's background noise.
pub fn classify(failure_ratio: f64, degraded_ratio: f64) -> Impact {
    if failure_ratio >= 0.2 {
        Impact::Broken
    } else if failure_ratio >= 0.03 || degraded_ratio >= 0.1 {
        Impact::Degraded
    } else {
        Impact::Ok
    }
}

fn consistent(e: Expected, observed: Impact) -> bool {
    if e.sometimes && e.impact == Impact::Broken {
        // A call made some of the time breaks some of the journeys.
        return observed != Impact::Ok;
    }
    if e.sometimes && e.impact == Impact::Degraded {
        return observed != Impact::Broken;
    }
    e.impact == observed
}

type Counters = BTreeMap<(String, String, String), f64>;

/// Per journey: (finished, failed, degraded) between two readings.
fn delta(before: &Counters, after: &Counters, journey: &str) -> (f64, f64, f64) {
    let get = |c: &Counters, m: &str, o: &str| {
        c.get(&(m.to_string(), journey.to_string(), o.to_string()))
            .copied()
            .unwrap_or(0.0)
    };
    let d = |m: &str, o: &str| (get(after, m, o) - get(before, m, o)).max(0.0);
    let ok = d("loadgen_journeys_total", "success");
    let failed = d("loadgen_journeys_total", "failure");
    let degraded = d("loadgen_journeys_degraded_total", "");
    (ok + failed, failed, degraded)
}

async fn count(cp: &ControlPlane, window: Duration) -> Result<(Counters, Counters), ChaosError> {
    let before = cp.journey_counters().await?;
    tokio::time::sleep(window).await;
    let after = cp.journey_counters().await?;
    Ok((before, after))
}

/// Runs the analysis; `progress(done, total, service)` reports each step.
pub async fn run(
    cp: &ControlPlane,
    opts: &Options,
    mut progress: impl FnMut(usize, usize, &str),
) -> Result<Matrix, ChaosError> {
    let started = Instant::now();
    let topo = cp.topology().await?;
    let expected = declared(&topo);
    let services: Vec<String> = if opts.services.is_empty() {
        topo.services.iter().map(|s| s.name.clone()).collect()
    } else {
        for s in &opts.services {
            if topo.service(s).is_none() {
                return Err(ChaosError::OutsideLab(format!(
                    "no service {s:?} in the {} lab",
                    topo.name
                )));
            }
        }
        opts.services.clone()
    };
    let journeys: Vec<String> = topo.journeys.iter().map(|j| j.name.clone()).collect();
    let per_service = opts.settle + opts.window + opts.recover;
    let needed = opts.window + per_service * services.len() as u32;
    if needed > opts.max_time {
        return Err(ChaosError::Invalid(format!(
            "{} services × {:.0}s need {:.0}s, more than the {:.0}s allowed: raise --max-time or narrow --services",
            services.len(),
            per_service.as_secs_f64(),
            needed.as_secs_f64(),
            opts.max_time.as_secs_f64()
        )));
    }
    let total = services.len() + 1;
    progress(0, total, "baseline");
    let (b0, b1) = count(cp, opts.window).await?;
    let baseline: BTreeMap<String, f64> = journeys
        .iter()
        .map(|j| {
            let (n, f, _) = delta(&b0, &b1, j);
            (j.clone(), if n > 0.0 { f / n } else { 0.0 })
        })
        .collect();
    let mut cells = Vec::new();
    for (i, s) in services.iter().enumerate() {
        progress(i + 1, total, s);
        let fault = cp
            .inject(&InjectRequest {
                kind: "refuse".into(),
                service: s.clone(),
                duration: Some(format!("{}s", (per_service.as_secs() + 30).min(3600))),
                ..Default::default()
            })
            .await?;
        let id = fault["id"].as_str().unwrap_or("").to_string();
        let measured = async {
            tokio::time::sleep(opts.settle).await;
            count(cp, opts.window).await
        }
        .await;
        // The service comes back whatever happened while it was down.
        cp.clear(&id).await?;
        let (c0, c1) = measured?;
        for j in &journeys {
            let (n, failed, degraded) = delta(&c0, &c1, j);
            let (fr, dr) = if n > 0.0 {
                (failed / n, degraded / n)
            } else {
                (0.0, 0.0)
            };
            let observed = classify(fr, dr);
            let e = expected
                .get(j)
                .and_then(|m| m.get(s))
                .copied()
                .unwrap_or(Expected {
                    impact: Impact::Ok,
                    sometimes: false,
                });
            cells.push(Cell {
                journey: j.clone(),
                service: s.clone(),
                expected: e.impact,
                sometimes: e.sometimes,
                observed,
                journeys: n,
                failure_ratio: fr,
                degraded_ratio: dr,
                // Too few journeys to judge: not a finding.
                mismatch: n >= 3.0 && !consistent(e, observed),
            });
        }
        tokio::time::sleep(opts.recover).await;
    }
    progress(total, total, "done");
    Ok(Matrix {
        topology: topo.name.clone(),
        journeys,
        services,
        window_seconds: opts.window.as_secs_f64(),
        cells,
        baseline_failure_ratio: baseline,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The matrix as text: journeys down, services across; `!` marks a
/// mismatch with the topology.
pub fn render(m: &Matrix) -> String {
    let short = |i: Impact| match i {
        Impact::Ok => "ok",
        Impact::Degraded => "degr",
        Impact::Broken => "BROKEN",
    };
    let jw = m.journeys.iter().map(|j| j.len()).max().unwrap_or(7).max(7);
    let mut out = format!("{:<jw$}", "journey");
    for s in &m.services {
        out.push_str(&format!(" {:>w$}", s, w = s.len().max(7)));
    }
    out.push('\n');
    for j in &m.journeys {
        out.push_str(&format!("{j:<jw$}"));
        for s in &m.services {
            let text = m
                .cell(j, s)
                .map(|c| format!("{}{}", short(c.observed), if c.mismatch { "!" } else { "" }))
                .unwrap_or_default();
            out.push_str(&format!(" {:>w$}", text, w = s.len().max(7)));
        }
        out.push('\n');
    }
    let mismatches: Vec<&Cell> = m.mismatches().collect();
    if mismatches.is_empty() {
        out.push_str("\nEvery cell matches the topology's declared criticality.\n");
    } else {
        out.push_str(&format!(
            "\n{} mismatch(es) with the topology:\n",
            mismatches.len()
        ));
        for c in mismatches {
            let why = match (c.expected, c.observed) {
                (Impact::Degraded | Impact::Ok, Impact::Broken) => {
                    "a hidden critical dependency: declared non-critical, but the journey fails (no fallback, or no timeout)"
                }
                (Impact::Broken, _) => "declared critical, but the journey survives without it",
                _ => "the journey is affected differently than declared",
            };
            out.push_str(&format!(
                "  {} without {}: expected {}, observed {} ({:.0}% failed, {:.0}% degraded of {:.0}): {why}\n",
                c.journey,
                c.service,
                c.expected.as_str(),
                c.observed.as_str(),
                c.failure_ratio * 100.0,
                c.degraded_ratio * 100.0,
                c.journeys
            ));
        }
    }
    out
}
