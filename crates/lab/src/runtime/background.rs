//! Work an instance does on its own: a worker draining a job queue.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::json;

use super::handler::run_calls;
use super::state::Instance;
use super::trace::TraceContext;
use super::work;

/// Runs the service's background work every `every` until the task is dropped.
pub async fn run(inst: Arc<Instance>) {
    let Some(bg) = inst.service.background.clone() else {
        return;
    };
    let mut tick = tokio::time::interval(bg.every.max(std::time::Duration::from_millis(10)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if inst.draining() {
            continue;
        }
        // Drain what is there, one job per round, until the first call finds nothing.
        for _ in 0..32 {
            let ctx = TraceContext::from_header(None);
            let Some(first) = bg.calls.first() else { break };
            let outcomes = run_calls(
                &inst,
                std::slice::from_ref(first),
                false,
                &HashMap::new(),
                None,
                &ctx,
            )
            .await;
            let Some((_, Some(o))) = outcomes.first() else {
                break;
            };
            if !o.ok() || o.status == Some(204) {
                break;
            }
            let wait = work::sample(&bg.latency);
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            work::burn_cpu_async(bg.cpu).await;
            let rest = run_calls(
                &inst,
                &bg.calls[1..],
                false,
                &HashMap::new(),
                o.body.clone(),
                &ctx,
            )
            .await;
            let failed: Vec<&str> = rest
                .iter()
                .filter_map(|(c, o)| o.as_ref().filter(|o| !o.ok()).map(|_| c.service.as_str()))
                .collect();
            inst.log.write(
                if failed.is_empty() { "info" } else { "error" },
                "job processed",
                &ctx.trace_id,
                &[("failed_calls", json!(failed))],
            );
        }
    }
}
