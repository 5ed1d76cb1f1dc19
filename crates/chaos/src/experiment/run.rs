//! Running an experiment against a lab: steady state before; the method's
//! faults on their schedule while halt conditions are checked every
//! interval; the steady state during (faults still active); rollback
//! (faults cleared, then the file's lab operations); the steady state
//! after recovery; a verdict with the numbers and a timeline.

use std::time::Instant;

use serde::Serialize;
use serde_json::json;

use super::spec::{Experiment, Probe};
use crate::ChaosError;
use crate::client::ControlPlane;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The steady state held before, during and after.
    Held,
    /// It did not hold during or after the method.
    Deviated,
    /// A halt condition was breached: stopped early and rolled back.
    Halted,
    /// The steady state did not hold before: nothing was injected.
    NotRun,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Held => "hypothesis held",
            Verdict::Deviated => "hypothesis did not hold",
            Verdict::Halted => "halted",
            Verdict::NotRun => "not run: no steady state to start from",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Reading {
    pub value: f64,
    pub ok: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProbeResult {
    pub name: String,
    pub query: String,
    pub tolerance: String,
    pub before: Option<Reading>,
    pub during: Option<Reading>,
    pub after: Option<Reading>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Moment {
    /// Seconds since the experiment started.
    pub at: f64,
    pub event: String,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Halt {
    pub condition: String,
    pub value: f64,
    pub tolerance: String,
    pub at: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub title: String,
    pub hypothesis: String,
    pub topology: String,
    pub verdict: Verdict,
    pub started: chrono::DateTime<chrono::Utc>,
    pub seconds: f64,
    pub probes: Vec<ProbeResult>,
    pub halted: Option<Halt>,
    pub faults: Vec<String>,
    pub timeline: Vec<Moment>,
}

struct Clock {
    start: Instant,
    timeline: Vec<Moment>,
}

impl Clock {
    fn note(&mut self, event: &str, detail: impl Into<String>) {
        self.timeline.push(Moment {
            at: (self.start.elapsed().as_secs_f64() * 10.0).round() / 10.0,
            event: event.into(),
            detail: detail.into(),
        });
    }
}

async fn read(cp: &ControlPlane, p: &Probe) -> Reading {
    let value = cp.value(&p.query).await.unwrap_or(f64::NAN);
    Reading {
        value,
        ok: p.within(value),
    }
}

/// Runs `x`; `stop` resolving (Ctrl-C) ends it early with a rollback.
pub async fn run(
    cp: &ControlPlane,
    x: &Experiment,
    stop: impl std::future::Future<Output = ()>,
    mut progress: impl FnMut(&str),
) -> Result<Report, ChaosError> {
    let topo = cp.topology().await?;
    if topo.name != x.topology {
        return Err(ChaosError::Invalid(format!(
            "this experiment is written for the {} lab; the running lab is {}",
            x.topology, topo.name
        )));
    }
    let started = chrono::Utc::now();
    let mut clock = Clock {
        start: Instant::now(),
        timeline: Vec::new(),
    };
    let mut probes: Vec<ProbeResult> = x
        .steady_state
        .iter()
        .map(|p| ProbeResult {
            name: p.name.clone(),
            query: p.query.clone(),
            tolerance: p.tolerance(),
            before: None,
            during: None,
            after: None,
        })
        .collect();
    let _ = cp
        .record(
            "experiment.started",
            &x.title,
            json!({"hypothesis": x.hypothesis}),
        )
        .await;
    clock.note("started", &x.hypothesis);

    progress("checking the steady state");
    for (r, p) in probes.iter_mut().zip(&x.steady_state) {
        r.before = Some(read(cp, p).await);
    }
    let steady = probes
        .iter()
        .all(|r| r.before.as_ref().is_some_and(|b| b.ok));
    clock.note(
        "steady state before",
        if steady { "met" } else { "not met" },
    );
    if !steady {
        let report = finish(x, started, clock, probes, None, Vec::new(), Verdict::NotRun);
        let _ = cp
            .record(
                "experiment.finished",
                &x.title,
                json!({"verdict": report.verdict}),
            )
            .await;
        return Ok(report);
    }

    // The method: faults on their schedule, halt conditions checked.
    let mut injected = vec![false; x.method.len()];
    let mut faults: Vec<String> = Vec::new();
    let method_end = x.method_duration();
    let during_at = x
        .warmup
        .map(|w| x.method.iter().map(|s| s.after).max().unwrap_or_default() + w)
        .unwrap_or(method_end.saturating_sub(x.interval))
        .min(method_end);
    let method_start = Instant::now();
    let mut halted = None;
    let mut during_done = false;
    let mut error = None;
    tokio::pin!(stop);
    loop {
        let t = method_start.elapsed();
        for (s, done) in x.method.iter().zip(injected.iter_mut()) {
            if !*done && t >= s.after {
                *done = true;
                progress(&format!("injecting: {}", s.name));
                match cp.inject(&s.fault).await {
                    Ok(v) => {
                        let id = v["id"].as_str().unwrap_or("").to_string();
                        clock.note(
                            "fault injected",
                            format!("{} ({id}, {:.0}s)", s.name, s.duration.as_secs_f64()),
                        );
                        faults.push(id);
                    }
                    Err(e) => {
                        clock.note("fault failed", format!("{}: {e}", s.name));
                        error = Some(e);
                    }
                }
            }
        }
        if error.is_some() {
            break;
        }
        for h in &x.halt {
            let r = read(cp, h).await;
            // A halt needs evidence: no data (NaN) does not stop the run.
            if !r.ok && !r.value.is_nan() {
                clock.note(
                    "halt condition breached",
                    format!(
                        "{} = {} (tolerance {})",
                        h.name,
                        fmt(r.value),
                        h.tolerance()
                    ),
                );
                halted = Some(Halt {
                    condition: h.name.clone(),
                    value: r.value,
                    tolerance: h.tolerance(),
                    at: clock.start.elapsed().as_secs_f64(),
                });
                break;
            }
        }
        if halted.is_some() {
            break;
        }
        if !during_done && t >= during_at {
            progress("checking the steady state under the fault");
            for (r, p) in probes.iter_mut().zip(&x.steady_state) {
                r.during = Some(read(cp, p).await);
            }
            during_done = true;
            let held = probes
                .iter()
                .all(|r| r.during.as_ref().is_some_and(|d| d.ok));
            clock.note("steady state during", if held { "met" } else { "not met" });
        }
        if t >= method_end {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep(x.interval) => {}
            _ = &mut stop => {
                clock.note("interrupted", "stopped by the user");
                error = Some(ChaosError::Invalid("interrupted".into()));
                break;
            }
        }
    }

    // Rollback: faults first, then the file's operations.
    progress("rolling back");
    for id in &faults {
        match cp.clear(id).await {
            Ok(()) => clock.note("fault cleared", id.clone()),
            Err(e) => clock.note("fault clear failed", format!("{id}: {e}")),
        }
    }
    for r in &x.rollbacks {
        match cp.lab_op(&r.op, &r.body).await {
            Ok(_) => clock.note("rollback", format!("{} {}", r.op, r.body)),
            Err(e) => clock.note("rollback failed", format!("{} {}: {e}", r.op, r.body)),
        }
    }
    if let Some(e) = error {
        let _ = cp
            .record(
                "experiment.finished",
                &x.title,
                json!({"verdict": "error", "error": e.to_string()}),
            )
            .await;
        return Err(e);
    }
    progress(&format!("recovering for {:.0}s", x.recovery.as_secs_f64()));
    tokio::time::sleep(x.recovery).await;
    for (r, p) in probes.iter_mut().zip(&x.steady_state) {
        r.after = Some(read(cp, p).await);
    }
    let after_ok = probes
        .iter()
        .all(|r| r.after.as_ref().is_some_and(|a| a.ok));
    clock.note(
        "steady state after",
        if after_ok { "met" } else { "not met" },
    );
    let during_ok = probes
        .iter()
        .all(|r| r.during.as_ref().is_none_or(|d| d.ok));
    let verdict = if halted.is_some() {
        Verdict::Halted
    } else if during_ok && after_ok {
        Verdict::Held
    } else {
        Verdict::Deviated
    };
    let report = finish(x, started, clock, probes, halted, faults, verdict);
    let _ = cp
        .record(
            if verdict == Verdict::Halted {
                "experiment.halted"
            } else {
                "experiment.finished"
            },
            &x.title,
            json!({"verdict": verdict, "seconds": report.seconds, "halted": report.halted}),
        )
        .await;
    Ok(report)
}

fn finish(
    x: &Experiment,
    started: chrono::DateTime<chrono::Utc>,
    mut clock: Clock,
    probes: Vec<ProbeResult>,
    halted: Option<Halt>,
    faults: Vec<String>,
    verdict: Verdict,
) -> Report {
    clock.note("finished", verdict.as_str());
    Report {
        title: x.title.clone(),
        hypothesis: x.hypothesis.clone(),
        topology: x.topology.clone(),
        verdict,
        started,
        seconds: clock.start.elapsed().as_secs_f64(),
        probes,
        halted,
        faults,
        timeline: clock.timeline,
    }
}

pub fn fmt(v: f64) -> String {
    if v.is_nan() {
        "no data".into()
    } else if v.abs() >= 100.0 || v == v.trunc() {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}

/// The report as text.
pub fn render(r: &Report) -> String {
    let mut out = format!("{}\n  hypothesis: {}\n\n", r.title, r.hypothesis);
    let cell = |x: &Option<Reading>| match x {
        None => "-".to_string(),
        Some(v) => format!("{} {}", fmt(v.value), if v.ok { "ok" } else { "FAIL" }),
    };
    let w = r
        .probes
        .iter()
        .map(|p| p.name.len())
        .max()
        .unwrap_or(5)
        .max(5);
    out.push_str(&format!(
        "  {:<w$}  {:<16} {:<16} {:<16} {:<16}\n",
        "probe", "tolerance", "before", "during", "after"
    ));
    for p in &r.probes {
        out.push_str(&format!(
            "  {:<w$}  {:<16} {:<16} {:<16} {:<16}\n",
            p.name,
            p.tolerance,
            cell(&p.before),
            cell(&p.during),
            cell(&p.after)
        ));
    }
    out.push_str("\n  timeline:\n");
    for m in &r.timeline {
        out.push_str(&format!(
            "    +{:>6.1}s  {:<24} {}\n",
            m.at, m.event, m.detail
        ));
    }
    if let Some(h) = &r.halted {
        out.push_str(&format!(
            "\n  halted at +{:.1}s: {} = {} outside {}\n",
            h.at,
            h.condition,
            fmt(h.value),
            h.tolerance
        ));
    }
    out.push_str(&format!(
        "\n  verdict: {} ({:.0}s)\n",
        r.verdict.as_str(),
        r.seconds
    ));
    out
}

/// Default when the caller has no stop signal.
pub async fn never() {
    std::future::pending::<()>().await
}
