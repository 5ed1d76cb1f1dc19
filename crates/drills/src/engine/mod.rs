//! The drill engine: one drill at a time per lab. It starts each planned
//! fault at its time, watches the journal for the operations that remedy
//! or relieve faults (and the wrong ones), checks the objectives, gives
//! hints, and ends the drill when every objective is met, when time runs
//! out, or when an instructor ends it. Every step is journaled when it
//! happens; the record in the database is a cache of the journal so a
//! restart of `up` resumes the drill where it was.

mod apply;
mod metrics;
mod objectives;
mod observe;
pub mod persist;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use telemetry::model::Storage;
use tokio::sync::Mutex;
use wire::{EventSink, NewEvent};

pub use apply::LabHands;
pub use metrics::EngineMetrics;
pub use persist::HistoryFilter;

use crate::DrillError;
use crate::plan::{PlannedFault, plan};
use crate::record::{DrillRecord, DrillState, FaultState, ObjectiveState, Outcome};
use crate::roster::Roster;
use crate::scenario::{FaultAction, Hint, Scenario};

/// What `drill start` asks for.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartRequest {
    /// A bundled scenario's id, or the name of the file in `text`.
    pub scenario: String,
    /// A scenario file's text (an instructor's own scenario); checked like
    /// the bundled ones, every mistake reported with `scenario` as its file.
    #[serde(default)]
    pub text: Option<String>,
    pub trainee: String,
    #[serde(default)]
    pub shadow: Option<String>,
    /// Default: drawn from the clock (and shown, so the drill can be replayed).
    #[serde(default)]
    pub seed: Option<u64>,
    /// Clock compression: every duration of the scenario times this
    /// (default 1; e.g. 0.1 runs a 20-minute drill in 2).
    #[serde(default)]
    pub scale: Option<f64>,
}

pub struct DrillEngine {
    hands: LabHands,
    journal: store::Journal,
    storage: Arc<dyn Storage>,
    promql: telemetry::promql::Engine,
    roster: Option<Arc<dyn Roster>>,
    current: Mutex<Option<DrillRecord>>,
    metrics: EngineMetrics,
}

fn secs(d: chrono::TimeDelta) -> Duration {
    d.to_std().unwrap_or_default()
}

fn since(t: DateTime<Utc>, now: DateTime<Utc>) -> Duration {
    secs(now - t)
}

impl DrillEngine {
    pub fn new(
        hands: LabHands,
        journal: store::Journal,
        storage: Arc<dyn Storage>,
        roster: Option<Arc<dyn Roster>>,
    ) -> Arc<DrillEngine> {
        Arc::new(DrillEngine {
            hands,
            journal,
            storage,
            promql: telemetry::promql::Engine::default(),
            roster,
            current: Mutex::new(None),
            metrics: EngineMetrics::default(),
        })
    }

    pub fn metrics(&self) -> &EngineMetrics {
        &self.metrics
    }

    pub fn db(&self) -> &store::Db {
        self.journal.db()
    }

    pub fn journal(&self) -> &store::Journal {
        &self.journal
    }

    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
    }

    /// The PromQL engine objectives and debrief charts are evaluated with.
    pub fn promql(&self) -> &telemetry::promql::Engine {
        &self.promql
    }

    pub fn topology_name(&self) -> &str {
        &self.hands.sup.topology().name
    }

    async fn emit(&self, e: NewEvent) -> Result<(), DrillError> {
        EventSink::append(&self.journal, e).await?;
        Ok(())
    }

    /// The newest journal event's id (events up to it are before the drill).
    async fn newest_event_id(&self) -> Result<i64, DrillError> {
        let last = self
            .journal
            .list(&store::Filter {
                limit: Some(1),
                ..Default::default()
            })
            .await?;
        Ok(last.first().map(|e| e.id).unwrap_or(0))
    }

    /// Starts `scenario` for `req.trainee`; when this returns the drill is
    /// stored, journaled, the trainee is on call and the setup is done.
    pub async fn start(
        &self,
        scenario: &Scenario,
        req: &StartRequest,
    ) -> Result<DrillRecord, DrillError> {
        let mut cur = self.current.lock().await;
        if let Some(r) = cur.as_ref() {
            return Err(DrillError::AlreadyRunning(r.id));
        }
        if scenario.topology != self.topology_name() {
            return Err(DrillError::WrongTopology {
                scenario: scenario.id.clone(),
                wanted: scenario.topology.clone(),
                running: self.topology_name().to_string(),
            });
        }
        let trainee = req.trainee.trim();
        if trainee.is_empty() {
            return Err(DrillError::Invalid(
                "a drill needs a trainee (--trainee NAME)".into(),
            ));
        }
        let shadow = req
            .shadow
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        match (scenario.shadow, shadow) {
            (true, None) => {
                return Err(DrillError::Invalid(format!(
                    "{} is a shadow drill: name the apprentice with --shadow NAME",
                    scenario.id
                )));
            }
            (_, Some(s)) if s == trainee => {
                return Err(DrillError::Invalid(
                    "the shadow and the trainee must be two people".into(),
                ));
            }
            _ => {}
        }
        if let Some(roster) = &self.roster {
            for who in std::iter::once(trainee).chain(shadow) {
                if !roster.knows(who) {
                    return Err(DrillError::Invalid(format!(
                        "{who:?} is not a person of the lab's on-call file; a drill pages its trainee"
                    )));
                }
            }
        }
        let scale = req.scale.unwrap_or(1.0);
        if !(scale.is_finite() && scale > 0.0 && scale <= 10.0) {
            return Err(DrillError::Invalid(format!(
                "scale {scale} is not in (0, 10]"
            )));
        }
        let seed = req
            .seed
            .unwrap_or_else(|| Utc::now().timestamp_nanos_opt().unwrap_or(0) as u64 % 1_000_000);
        let scenario = scenario.scaled(scale);
        let plan = plan(&scenario, seed);
        let started = Utc::now();
        let state = DrillState {
            faults: plan
                .faults
                .iter()
                .map(|f| FaultState {
                    matched: f
                        .remedies
                        .iter()
                        .map(|r| vec![false; r.when.len()])
                        .collect(),
                    ..Default::default()
                })
                .collect(),
            objectives: vec![ObjectiveState::default(); scenario.objectives.len()],
            last_event_id: self.newest_event_id().await?,
            ..Default::default()
        };
        let mut record = DrillRecord {
            id: 0,
            scenario,
            trainee: trainee.to_string(),
            shadow: shadow.map(str::to_string),
            seed,
            scale,
            started,
            ended: None,
            outcome: None,
            plan,
            state,
        };
        record.id = persist::insert(self.db(), &record).await?;
        self.emit(
            NewEvent::new("drill.started", "drill", &record.id.to_string())
                .at(started)
                .attr("drill", record.id)
                .attr("scenario", record.scenario.id.clone())
                .attr("title", record.scenario.title.clone())
                .attr("trainee", record.trainee.clone())
                .attr("shadow", record.shadow.clone())
                .attr("seed", record.seed)
                .attr("scale", record.scale)
                .attr("time_limit_s", record.scenario.time_limit.as_secs_f64()),
        )
        .await?;
        tracing::info!(drill = record.id, scenario = %record.scenario.id, trainee = %record.trainee, seed, "drill started");
        self.put_on_call(&record);
        if let Err(e) = self.do_setup(&record).await {
            let mut r = record;
            self.finish(&mut r, Outcome::Stopped, "drill").await;
            return Err(e);
        }
        persist::save(self.db(), &record, None).await?;
        *cur = Some(record.clone());
        Ok(record)
    }

    fn put_on_call(&self, r: &DrillRecord) {
        if let Some(roster) = &self.roster {
            let until =
                r.started + chrono::Duration::from_std(r.scenario.time_limit).unwrap_or_default();
            if let Err(e) = roster.put_on_call(&r.trainee, r.shadow.as_deref(), until) {
                tracing::warn!(error = %e, "could not put the trainee on call");
            }
        }
    }

    async fn do_setup(&self, r: &DrillRecord) -> Result<(), DrillError> {
        for step in &r.scenario.setup {
            self.hands.setup(step).await?;
        }
        Ok(())
    }

    /// After a restart of `up`: the drill that was running goes on where it
    /// was (same start, same plan); what the lab lost with its processes
    /// (setup, active faults, the trainee on call) is put back.
    pub async fn resume(&self) -> Result<Option<DrillRecord>, DrillError> {
        let Some(mut r) = persist::running(self.db()).await? else {
            return Ok(None);
        };
        let mut cur = self.current.lock().await;
        if r.scenario.topology != self.topology_name() {
            tracing::warn!(
                drill = r.id,
                "the running drill is for another topology: ended"
            );
            self.finish(&mut r, Outcome::Stopped, "drill").await;
            return Ok(None);
        }
        self.emit(
            NewEvent::new("drill.resumed", "drill", &r.id.to_string())
                .attr("drill", r.id)
                .attr("scenario", r.scenario.id.clone()),
        )
        .await?;
        self.put_on_call(&r);
        if let Err(e) = self.do_setup(&r).await {
            tracing::warn!(error = %e, "drill setup could not be repeated after the restart");
        }
        let now = Utc::now();
        for i in 0..r.plan.faults.len() {
            let st = &r.state.faults[i];
            let active = st.started.is_some()
                && st.remedied.is_none()
                && st.relieved_until.is_none_or(|t| t <= now);
            if active {
                let action = r.plan.faults[i].action.clone();
                let remaining = self.remaining(&r, now);
                match self.hands.start(&action, remaining).await {
                    Ok((chaos_id, _)) => r.state.faults[i].chaos_id = chaos_id,
                    Err(e) => tracing::warn!(error = %e, "could not re-apply a drill fault"),
                }
            } else {
                r.state.faults[i].chaos_id = None;
            }
        }
        persist::save(self.db(), &r, None).await?;
        tracing::info!(drill = r.id, "drill resumed");
        *cur = Some(r.clone());
        Ok(Some(r))
    }

    fn remaining(&self, r: &DrillRecord, now: DateTime<Utc>) -> Duration {
        r.scenario
            .time_limit
            .saturating_sub(since(r.started, now))
            .max(Duration::from_secs(1))
    }

    /// The running drill, if any.
    pub async fn current(&self) -> Option<DrillRecord> {
        self.current.lock().await.clone()
    }

    /// One step: faults due start, reliefs run out, new journal events are
    /// matched, objectives checked, and the drill ends when it is over.
    pub async fn tick(&self) -> Result<(), DrillError> {
        let mut cur = self.current.lock().await;
        let Some(r) = cur.as_mut() else {
            return Ok(());
        };
        let clock = std::time::Instant::now();
        let before = r.clone();
        let now = Utc::now();
        self.start_due(r, now).await;
        self.observe_journal(r).await?;
        self.check_objectives(r, Utc::now()).await;
        let outcome = if r.state.objectives.iter().all(|o| o.met.is_some()) {
            Some(Outcome::Completed)
        } else if since(r.started, Utc::now()) >= r.scenario.time_limit {
            Some(Outcome::TimedOut)
        } else {
            None
        };
        if let Some(o) = outcome {
            let mut done = r.clone();
            *cur = None;
            self.finish(&mut done, o, "drill").await;
        } else if *r != before {
            persist::save(self.db(), r, None).await?;
        }
        self.metrics.tick.observe(clock.elapsed().as_secs_f64());
        Ok(())
    }

    /// Starts the faults whose time has come and brings back relieved ones.
    async fn start_due(&self, r: &mut DrillRecord, now: DateTime<Utc>) {
        let elapsed = since(r.started, now);
        for i in 0..r.plan.faults.len() {
            let pf = r.plan.faults[i].clone();
            let st = &r.state.faults[i];
            if st.started.is_none() && elapsed >= pf.at {
                self.start_fault(r, i, &pf, now).await;
            } else if st.remedied.is_none()
                && st.relieved_until.is_some_and(|t| t <= now)
                && let FaultAction::Inject { fault } = &pf.action
            {
                let remaining = self.remaining(r, now);
                match self.hands.inject(fault, remaining).await {
                    Ok(id) => {
                        r.state.faults[i].chaos_id = Some(id);
                        r.state.faults[i].relieved_until = None;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "a relieved drill fault could not come back")
                    }
                }
            } else if st.relieved_until.is_some_and(|t| t <= now) {
                r.state.faults[i].relieved_until = None;
            }
        }
    }

    async fn start_fault(
        &self,
        r: &mut DrillRecord,
        i: usize,
        pf: &PlannedFault,
        now: DateTime<Utc>,
    ) {
        let remaining = self.remaining(r, now);
        // The fault begins when its action begins (a release's first
        // instance, not the end of the rollout).
        let started = Utc::now();
        let (chaos_id, undo) = match self.hands.start(&pf.action, remaining).await {
            Ok(x) => x,
            Err(e) => {
                // The fault could not start (e.g. no instance running):
                // try again at the next tick.
                tracing::warn!(drill = r.id, fault = %pf.id, error = %e, "drill fault did not start");
                return;
            }
        };
        let st = &mut r.state.faults[i];
        st.started = Some(started);
        st.chaos_id = chaos_id;
        st.undo = undo;
        let event = NewEvent::new("drill.fault_started", "drill", &r.id.to_string())
            .at(started)
            .attr("drill", r.id)
            .attr("fault", pf.id.clone())
            .attr("title", pf.title.clone())
            .attr("root", pf.root)
            .attr(
                "action",
                serde_json::to_value(&pf.action).unwrap_or_default(),
            )
            .attr("planned_s", pf.at.as_secs_f64());
        wire::sink::append_or_log(&self.journal, event).await;
        tracing::info!(drill = r.id, fault = %pf.id, "drill fault started");
    }

    /// Ends the drill: unremedied faults are undone, the schedules go back
    /// to their rotation, the end is journaled and stored.
    async fn finish(&self, r: &mut DrillRecord, outcome: Outcome, by: &str) {
        for i in 0..r.plan.faults.len() {
            let action = r.plan.faults[i].action.clone();
            let st = &mut r.state.faults[i];
            if st.started.is_some() && st.remedied.is_none() {
                let undo = st.undo.clone();
                self.hands.undo(&action, &mut st.chaos_id, &undo).await;
            } else {
                self.hands.clear_injected(&mut st.chaos_id).await;
            }
        }
        if let Some(roster) = &self.roster {
            roster.release();
        }
        let ended = Utc::now();
        r.ended = Some(ended);
        r.outcome = Some(outcome);
        let score = self.final_score(r, ended).await;
        let event = NewEvent::new("drill.ended", "drill", &r.id.to_string())
            .at(ended)
            .attr("drill", r.id)
            .attr("outcome", outcome.as_str())
            .attr("score", score)
            .attr("by", by);
        wire::sink::append_or_log(&self.journal, event).await;
        if let Err(e) = persist::save(self.db(), r, score).await {
            tracing::error!(drill = r.id, error = %e, "could not store the drill's end");
        }
        tracing::info!(
            drill = r.id,
            outcome = outcome.as_str(),
            ?score,
            "drill ended"
        );
    }

    /// The trainee's score once the drill is over (stored for history).
    async fn final_score(&self, r: &DrillRecord, ended: DateTime<Utc>) -> Option<f64> {
        let events = self.events_of(r, Some(ended)).await.ok()?;
        Some(crate::report::trainee_score(r, &events))
    }

    /// Every journal event from the drill's start to its end (or now).
    pub async fn events_of(
        &self,
        r: &DrillRecord,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<wire::Event>, DrillError> {
        let mut events = self
            .journal
            .list(&store::Filter {
                since: Some(r.started - chrono::Duration::seconds(1)),
                until: until.or(r.ended).map(|t| t + chrono::Duration::seconds(1)),
                limit: Some(100_000),
                ..Default::default()
            })
            .await?;
        events.reverse();
        Ok(events)
    }

    /// Ends the running drill now (an instructor's `drill end`).
    pub async fn end(&self, by: &str) -> Result<DrillRecord, DrillError> {
        let mut cur = self.current.lock().await;
        let Some(mut r) = cur.take() else {
            return Err(DrillError::NotRunning);
        };
        self.finish(&mut r, Outcome::Stopped, by).await;
        Ok(r)
    }

    /// The next hint; `pushed` by an instructor costs nothing.
    pub async fn hint(&self, by: &str, pushed: bool) -> Result<(usize, Hint), DrillError> {
        let mut cur = self.current.lock().await;
        let r = cur.as_mut().ok_or(DrillError::NotRunning)?;
        let index = r.state.hints_taken;
        let Some(h) = r.plan.hints.get(index).cloned() else {
            return Err(DrillError::NoMoreHints);
        };
        let cost = if pushed { 0.0 } else { h.cost };
        self.emit(
            NewEvent::new("drill.hint", "drill", &r.id.to_string())
                .attr("drill", r.id)
                .attr("index", index + 1)
                .attr("cost", cost)
                .attr("text", h.text.clone())
                .attr("by", by)
                .attr("pushed", pushed),
        )
        .await?;
        r.state.hints_taken += 1;
        r.state.hints_cost += cost;
        persist::save(self.db(), r, None).await?;
        Ok((index + 1, Hint { text: h.text, cost }))
    }

    /// An instructor adds one more fault to the running drill, now. It has
    /// no remedy of its own: it lasts until cleared or the drill ends.
    pub async fn inject_extra(
        &self,
        fault: chaos::InjectRequest,
        by: &str,
    ) -> Result<String, DrillError> {
        let mut cur = self.current.lock().await;
        let r = cur.as_mut().ok_or(DrillError::NotRunning)?;
        let now = Utc::now();
        let n = r
            .plan
            .faults
            .iter()
            .filter(|f| f.id.starts_with("extra-"))
            .count()
            + 1;
        let pf = PlannedFault {
            id: format!("extra-{n}"),
            title: format!("{} on {} (added by {by})", fault.kind, fault.service),
            root: false,
            at: since(r.started, now),
            variant: 0,
            action: FaultAction::Inject { fault },
            remedies: Vec::new(),
        };
        r.plan.faults.push(pf.clone());
        r.state.faults.push(FaultState::default());
        let i = r.plan.faults.len() - 1;
        self.start_fault(r, i, &pf, now).await;
        if r.state.faults[i].started.is_none() {
            r.plan.faults.pop();
            r.state.faults.pop();
            return Err(DrillError::Lab(
                "the fault could not be injected (see the lab's log)".into(),
            ));
        }
        persist::save(self.db(), r, None).await?;
        Ok(pf.id)
    }

    /// Runs [`DrillEngine::tick`] every `every` until aborted.
    pub async fn run(self: Arc<Self>, every: Duration) {
        let mut t = tokio::time::interval(every);
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            t.tick().await;
            if let Err(e) = self.tick().await {
                tracing::error!(error = %e, "drill engine tick");
            }
        }
    }
}
