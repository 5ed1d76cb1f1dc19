//! New journal events against the running drill: remedies and reliefs of
//! started faults, wrong operations, and journal objectives.

use chrono::Utc;
use wire::{Event, EventSink, NewEvent};

use super::DrillEngine;
use crate::DrillError;
use crate::matcher::{People, by_drill, matches};
use crate::record::{DrillRecord, WrongRecord};
use crate::scenario::{Check, Effect};

impl DrillEngine {
    /// Reads the events since the last one seen and applies them in order.
    pub(super) async fn observe_journal(&self, r: &mut DrillRecord) -> Result<(), DrillError> {
        let mut events = self
            .journal
            .list(&store::Filter {
                after_id: Some(r.state.last_event_id),
                limit: Some(10_000),
                ..Default::default()
            })
            .await?;
        events.reverse();
        for e in &events {
            r.state.last_event_id = r.state.last_event_id.max(e.id);
            if by_drill(e) {
                continue;
            }
            self.apply_event(r, e).await;
        }
        Ok(())
    }

    async fn apply_event(&self, r: &mut DrillRecord, e: &Event) {
        let trainee = r.trainee.clone();
        let shadow = r.shadow.clone();
        let people = People {
            trainee: &trainee,
            shadow: shadow.as_deref(),
        };
        // Remedies and reliefs.
        for i in 0..r.plan.faults.len() {
            let Some(started) = r.state.faults[i].started else {
                continue;
            };
            if r.state.faults[i].remedied.is_some() || e.time < started {
                continue;
            }
            let remedies = r.plan.faults[i].remedies.clone();
            for (k, remedy) in remedies.iter().enumerate() {
                let flags = &mut r.state.faults[i].matched[k];
                for (m, matcher) in remedy.when.iter().enumerate() {
                    if matches(matcher, e, people) {
                        flags[m] = true;
                    }
                }
                if !flags.iter().all(|f| *f) {
                    continue;
                }
                let who = e.source.clone();
                match &remedy.effect {
                    Effect::End => {
                        let st = &mut r.state.faults[i];
                        self.hands.clear_injected(&mut st.chaos_id).await;
                        st.remedied = Some(e.time.max(started));
                        st.remedy = Some(remedy.note.clone());
                        st.relieved_until = None;
                        let ev = NewEvent::new("drill.fault_remedied", "drill", &r.id.to_string())
                            .attr("drill", r.id)
                            .attr("fault", r.plan.faults[i].id.clone())
                            .attr("note", remedy.note.clone())
                            .attr("by", who)
                            .attr("event_id", e.id);
                        wire::sink::append_or_log(&self.journal, ev).await;
                        break;
                    }
                    Effect::Relief { for_ } => {
                        let st = &mut r.state.faults[i];
                        st.matched[k].iter_mut().for_each(|f| *f = false);
                        let until =
                            Utc::now() + chrono::Duration::from_std(*for_).unwrap_or_default();
                        if st.chaos_id.is_some() {
                            self.hands.clear_injected(&mut st.chaos_id).await;
                            st.relieved_until = Some(until);
                        }
                        st.reliefs += 1;
                        let ev = NewEvent::new("drill.fault_relieved", "drill", &r.id.to_string())
                            .attr("drill", r.id)
                            .attr("fault", r.plan.faults[i].id.clone())
                            .attr("note", remedy.note.clone())
                            .attr("until", until.to_rfc3339())
                            .attr("by", who)
                            .attr("event_id", e.id);
                        wire::sink::append_or_log(&self.journal, ev).await;
                    }
                }
            }
        }
        // Wrong operations.
        for w in &r.scenario.wrong.clone() {
            if matches(&w.when, e, people) {
                r.state.wrong.push(WrongRecord {
                    time: e.time,
                    event_id: e.id,
                    kind: e.kind.clone(),
                    subject: e.subject.clone(),
                    source: e.source.clone(),
                    why: w.why.clone(),
                    cost: w.cost,
                });
                let ev = NewEvent::new("drill.wrong_op", "drill", &r.id.to_string())
                    .attr("drill", r.id)
                    .attr("event_id", e.id)
                    .attr("kind", e.kind.clone())
                    .attr("subject", e.subject.clone())
                    .attr("by", e.source.clone())
                    .attr("why", w.why.clone())
                    .attr("cost", w.cost);
                wire::sink::append_or_log(&self.journal, ev).await;
            }
        }
        // Journal objectives.
        for k in 0..r.scenario.objectives.len() {
            if r.state.objectives[k].met.is_some() {
                continue;
            }
            let o = &r.scenario.objectives[k];
            if let Check::Journal { event } = &o.check
                && matches(event, e, people)
            {
                r.state.objectives[k].met = Some(e.time);
                let ev = NewEvent::new("drill.objective_met", "drill", &r.id.to_string())
                    .attr("drill", r.id)
                    .attr("objective", o.id.clone())
                    .attr("title", o.title.clone())
                    .attr("since", e.time.to_rfc3339())
                    .attr("by", e.source.clone())
                    .attr("event_id", e.id);
                if let Err(err) = EventSink::append(&self.journal, ev).await {
                    tracing::error!(error = %err, "drill objective could not be journaled");
                }
            }
        }
    }
}
