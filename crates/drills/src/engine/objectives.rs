//! Query objectives: a PromQL condition that must hold for its hold
//! window. The hold counts only once the condition has been seen broken
//! after the first root fault began (or once every root fault is
//! remedied), so an SLI that has not yet noticed the fault does not pass.

use chrono::{DateTime, Utc};
use telemetry::promql::Value;
use wire::{EventSink, NewEvent};

use super::{DrillEngine, since};
use crate::record::DrillRecord;
use crate::scenario::Check;

impl DrillEngine {
    /// The value of `expr` now: a scalar, or a vector of one sample.
    pub async fn evaluate(&self, expr: &str) -> Option<f64> {
        let storage = self.storage.clone();
        let engine = self.promql.clone();
        let expr = expr.to_string();
        let t = Utc::now().timestamp_millis();
        let result =
            tokio::task::spawn_blocking(move || engine.instant_query(storage.as_ref(), &expr, t))
                .await
                .ok()?;
        match result {
            Ok(q) => match q.value {
                Value::Scalar { v, .. } => Some(v),
                Value::Vector(v) if v.len() == 1 => Some(v[0].v),
                _ => None,
            },
            Err(e) => {
                tracing::warn!(error = %e, "drill objective query failed");
                None
            }
        }
    }

    pub(super) async fn check_objectives(&self, r: &mut DrillRecord, now: DateTime<Utc>) {
        let root_started = r
            .plan
            .faults
            .iter()
            .zip(&r.state.faults)
            .filter(|(p, _)| p.root)
            .filter_map(|(_, s)| s.started)
            .min();
        let Some(t0) = root_started else {
            return;
        };
        let roots_remedied = r
            .plan
            .faults
            .iter()
            .zip(&r.state.faults)
            .filter(|(p, _)| p.root)
            .all(|(_, s)| s.remedied.is_some());
        for k in 0..r.scenario.objectives.len() {
            if r.state.objectives[k].met.is_some() {
                continue;
            }
            let Check::Query {
                expr,
                op,
                threshold,
                hold,
                window,
            } = r.scenario.objectives[k].check.clone()
            else {
                continue;
            };
            let value = self
                .evaluate(&crate::scenario::fill_window(&expr, window))
                .await;
            let st = &mut r.state.objectives[k];
            st.value = value;
            let holds = value.is_some_and(|v| op.holds(v, threshold));
            if !holds {
                st.violated = true;
                st.since = None;
                continue;
            }
            if !(st.violated || roots_remedied) {
                continue;
            }
            let from = *st.since.get_or_insert(now.max(t0));
            if since(from, now) >= hold {
                st.met = Some(now);
                let o = &r.scenario.objectives[k];
                let ev = NewEvent::new("drill.objective_met", "drill", &r.id.to_string())
                    .attr("drill", r.id)
                    .attr("objective", o.id.clone())
                    .attr("title", o.title.clone())
                    .attr("since", from.to_rfc3339())
                    .attr("value", value);
                if let Err(e) = EventSink::append(&self.journal, ev).await {
                    tracing::error!(error = %e, "drill objective could not be journaled");
                }
            }
        }
    }
}
