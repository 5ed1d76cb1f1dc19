//! Finding downstream instances: polls the control plane's registry, and
//! actively health-checks every downstream instance.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::balancer::Transition;
use super::calls::note_transition;
use super::metrics::UpstreamLabels;
use super::state::Instance;

#[derive(serde::Deserialize)]
struct Registry {
    services: BTreeMap<String, Vec<SocketAddr>>,
}

/// Polls `url` every second and updates the balancer.
pub async fn poll_registry(inst: Arc<Instance>, url: String) {
    if inst.downstreams.is_empty() {
        inst.ready.store(true, Ordering::Relaxed);
        return;
    }
    let mut tick = tokio::time::interval(Duration::from_millis(1000));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut warned = false;
    loop {
        let got = async {
            let r = inst
                .http
                .get(&url)
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .ok()?;
            r.json::<Registry>().await.ok()
        }
        .await;
        match got {
            // A registry that does not name every downstream yet (the control
            // plane is still starting) does not make the instance ready.
            Some(reg)
                if inst
                    .downstreams
                    .iter()
                    .all(|d| reg.services.contains_key(d)) =>
            {
                inst.balancer.update(&reg.services, &inst.downstreams);
                if !inst.ready.swap(true, Ordering::Relaxed) {
                    tracing::debug!("registry received");
                }
                warned = false;
            }
            Some(_) => {}
            None if !warned => {
                tracing::warn!(%url, "could not read the registry; keeping the last one");
                warned = true;
            }
            None => {}
        }
        // Poll fast until the first answer, then every second.
        if inst.ready.load(Ordering::Relaxed) {
            tick.tick().await;
        } else {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Active health checks of all downstream instances at the configured interval.
pub async fn health_checks(inst: Arc<Instance>) {
    if inst.downstreams.is_empty() {
        return;
    }
    loop {
        let interval = inst.config().health_check_interval;
        tokio::time::sleep(interval).await;
        let cfg = inst.config();
        let (eject_after, ejection_time) = (cfg.eject_after_failures, cfg.ejection_time);
        let timeout = interval.min(Duration::from_secs(1));
        let checks = inst.balancer.members().into_iter().map(|(service, addr)| {
            let inst = inst.clone();
            async move {
                let ok = inst
                    .http
                    .get(format!("http://{addr}/readyz"))
                    .timeout(timeout)
                    .send()
                    .await
                    .map(|r| r.status().is_success())
                    .unwrap_or(false);
                let t = if ok {
                    inst.balancer.report_healthy(&service, addr, ejection_time)
                } else {
                    inst.balancer.report_failure(&service, addr, eject_after)
                };
                if t != Transition::None {
                    note_transition(&inst, &service, addr, t, "health check", "");
                }
            }
        });
        futures_util::future::join_all(checks).await;
        for (service, n) in inst.balancer.healthy_counts() {
            inst.metrics
                .healthy_upstreams
                .get_or_create(&UpstreamLabels { server: service })
                .set(n as i64);
        }
    }
}
