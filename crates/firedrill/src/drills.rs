//! Drills inside `up`: the engine on the lab's supervisor, load generator,
//! fault controller, journal and metrics store; a drill that was running
//! when the lab stopped resumes.

use std::sync::Arc;

use chaos::FaultController;
use drills::engine::{DrillEngine, LabHands};
use lab::loadgen::LoadGen;
use lab::supervisor::Supervisor;

pub async fn start(
    sup: &Arc<Supervisor>,
    loadgen: &Arc<LoadGen>,
    faults: &Arc<FaultController>,
    journal: &store::Journal,
    monitoring: &crate::monitoring::Monitoring,
    oncall: &Arc<oncall::OnCall>,
) -> Arc<DrillEngine> {
    let hands = LabHands {
        sup: sup.clone(),
        loadgen: loadgen.clone(),
        faults: faults.clone(),
    };
    let roster = Arc::new(crate::oncall::DrillRoster(oncall.clone()));
    let engine = DrillEngine::new(
        hands,
        journal.clone(),
        monitoring.tsdb.clone(),
        Some(roster),
    );
    match engine.resume().await {
        Ok(Some(r)) => {
            tracing::info!(drill = r.id, scenario = %r.scenario.id, "resumed the drill that was running")
        }
        Ok(None) => {}
        Err(e) => tracing::error!(error = %e, "could not resume the running drill"),
    }
    engine
}
