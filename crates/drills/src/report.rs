//! A drill's numbers and views for the API: score, history rows, and the
//! debrief with its SLI series queried from the metrics store. Timings and
//! scores are always computed from the journal (`timings.rs`, `score.rs`).

use chrono::Utc;
use telemetry::promql::Value as PromValue;
use wire::Event;

use crate::DrillError;
use crate::debrief::{Debrief, Series, empty_series};
use crate::engine::{DrillEngine, HistoryFilter, persist};
use crate::history::HistoryRow;
use crate::record::DrillRecord;
use crate::score::{Role, score};
use crate::timings::{Timings, timings};

/// The trainee's total score.
pub fn trainee_score(r: &DrillRecord, events: &[Event]) -> f64 {
    score(r, &timings(r, events), &r.trainee, Role::Trainee).total
}

/// One row of `drill history`. A running drill shows no timings yet
/// (they would tell when the fault began).
pub async fn history_row(e: &DrillEngine, r: &DrillRecord) -> HistoryRow {
    let (score, t) = if r.running() {
        (0.0, Timings::default())
    } else {
        match e.events_of(r, None).await {
            Ok(ev) => {
                let t = timings(r, &ev);
                (score(r, &t, &r.trainee, Role::Trainee).total, t)
            }
            Err(err) => {
                tracing::warn!(drill = r.id, error = %err, "history row without journal");
                (0.0, Timings::default())
            }
        }
    };
    HistoryRow {
        drill: r.id,
        scenario: r.scenario.id.clone(),
        title: r.scenario.title.clone(),
        trainee: r.trainee.clone(),
        shadow: r.shadow.clone(),
        started: r.started,
        ended: r.ended,
        outcome: r.outcome,
        score,
        timings: t,
    }
}

/// The SLIs of the query objectives over the drill, a minute before it
/// began to its end (or now).
async fn series(e: &DrillEngine, r: &DrillRecord) -> Vec<Series> {
    let start = (r.started - chrono::Duration::seconds(60)).timestamp_millis();
    let end = r.ended.unwrap_or_else(Utc::now).timestamp_millis();
    let step = ((end - start) / 240).max(1000);
    let mut out = empty_series(r);
    for s in &mut out {
        // The objective's own expression, its window filled.
        let Some(expr) = r
            .scenario
            .objectives
            .iter()
            .find(|o| o.id == s.id)
            .and_then(|o| o.check.promql())
        else {
            continue;
        };
        let storage = e.storage().clone();
        let engine = e.promql().clone();
        let result = tokio::task::spawn_blocking(move || {
            engine.range_query(storage.as_ref(), &expr, start, end, step)
        })
        .await;
        match result {
            Ok(Ok(q)) => {
                if let PromValue::Matrix(m) = q.value
                    && let Some(first) = m.first()
                {
                    s.points = first
                        .samples
                        .iter()
                        .map(|p| (p.t as f64 / 1000.0, p.v))
                        .collect();
                }
            }
            Ok(Err(err)) => {
                tracing::warn!(series = %s.id, error = %err, "debrief series query failed")
            }
            Err(err) => {
                tracing::warn!(series = %s.id, error = %err, "debrief series query panicked")
            }
        }
    }
    out
}

pub async fn debrief(e: &DrillEngine, r: &DrillRecord) -> Result<Debrief, DrillError> {
    let events = e.events_of(r, None).await?;
    let series = series(e, r).await;
    Ok(crate::debrief::build(r, &events, series))
}

pub async fn debrief_html(
    e: &DrillEngine,
    r: &DrillRecord,
    d: &Debrief,
) -> Result<String, DrillError> {
    let past = persist::list(
        e.db(),
        &HistoryFilter {
            trainee: Some(r.trainee.clone()),
            limit: Some(50),
            ..Default::default()
        },
    )
    .await?;
    let mut rows = Vec::new();
    for p in past.iter().filter(|p| !p.running()) {
        rows.push(history_row(e, p).await);
    }
    rows.reverse();
    Ok(crate::debrief::html::html(d, &rows))
}

pub fn debrief_text(d: &Debrief) -> String {
    crate::debrief::text::text(d)
}

pub fn history_text(rows: &[HistoryRow]) -> String {
    crate::history::table(rows)
}
