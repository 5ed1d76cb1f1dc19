//! The supervisor's own metrics, exposed on the control plane's `/metrics`.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

/// Restart counts per instance (`lab_instance_restarts_total{instance="cart/0"}`).
#[derive(Debug, Default, Clone)]
pub struct SupervisorMetrics {
    restarts: Family<Vec<(String, String)>, Counter>,
}

impl SupervisorMetrics {
    pub fn restarted(&self, instance: &str) {
        let service = instance.split('/').next().unwrap_or(instance);
        self.restarts
            .get_or_create(&vec![
                ("service".to_string(), service.to_string()),
                ("lab_instance".to_string(), instance.to_string()),
            ])
            .inc();
    }

    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "lab_instance_restarts",
            "Restarts of lab instances by the supervisor after a crash",
            self.restarts.clone(),
        );
    }
}
