//! Client-side load balancing over a downstream service's instances:
//! round robin over the healthy ones, ejection after consecutive failures
//! (active health checks and failed calls both count), and a panic threshold
//! as in Envoy: when fewer than `panic_threshold_percent` of the instances
//! are healthy, route to all of them rather than overload the few left.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

#[derive(Debug)]
struct Member {
    addr: SocketAddr,
    failures: AtomicU32,
    ejected: AtomicBool,
    /// When the instance was last ejected: it stays out at least the
    /// ejection time, even if its health check passes (as Envoy's outlier
    /// detection does), so an instance that is alive but failing requests
    /// does not flap back in at every health check.
    ejected_at: Mutex<Option<Instant>>,
}

#[derive(Debug, Default)]
struct Upstream {
    members: Vec<Arc<Member>>,
    next: AtomicUsize,
}

/// What a health report did to an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    None,
    Ejected,
    Restored,
}

/// All downstream services of one instance.
#[derive(Debug, Default)]
pub struct Balancer {
    upstreams: RwLock<HashMap<String, Upstream>>,
}

impl Balancer {
    /// Replaces the member lists from the registry, keeping the health state
    /// of instances that stay.
    pub fn update(&self, registry: &BTreeMap<String, Vec<SocketAddr>>, wanted: &[String]) {
        let mut ups = self.upstreams.write().unwrap_or_else(|e| e.into_inner());
        for name in wanted {
            let addrs = registry.get(name).cloned().unwrap_or_default();
            let up = ups.entry(name.clone()).or_default();
            let same = up.members.len() == addrs.len()
                && up.members.iter().zip(&addrs).all(|(m, a)| m.addr == *a);
            if same {
                continue;
            }
            let old: HashMap<SocketAddr, Arc<Member>> =
                up.members.iter().map(|m| (m.addr, m.clone())).collect();
            up.members = addrs
                .iter()
                .map(|a| {
                    old.get(a).cloned().unwrap_or_else(|| {
                        Arc::new(Member {
                            addr: *a,
                            failures: AtomicU32::new(0),
                            ejected: AtomicBool::new(false),
                            ejected_at: Mutex::new(None),
                        })
                    })
                })
                .collect();
        }
    }

    /// Picks an instance of `service`: round robin over healthy members, or
    /// over all members in panic mode. `None` when it has no instances.
    pub fn pick(&self, service: &str, panic_threshold_percent: u32) -> Option<SocketAddr> {
        let ups = self.upstreams.read().unwrap_or_else(|e| e.into_inner());
        let up = ups.get(service)?;
        let n = up.members.len();
        if n == 0 {
            return None;
        }
        let healthy: Vec<&Arc<Member>> = up
            .members
            .iter()
            .filter(|m| !m.ejected.load(Ordering::Relaxed))
            .collect();
        let i = up.next.fetch_add(1, Ordering::Relaxed);
        let panic = healthy.len() * 100 < n * panic_threshold_percent as usize;
        if panic || healthy.is_empty() {
            Some(up.members[i % n].addr)
        } else {
            Some(healthy[i % healthy.len()].addr)
        }
    }

    fn member(&self, service: &str, addr: SocketAddr) -> Option<Arc<Member>> {
        let ups = self.upstreams.read().unwrap_or_else(|e| e.into_inner());
        ups.get(service)?
            .members
            .iter()
            .find(|m| m.addr == addr)
            .cloned()
    }

    /// A failed call or health check.
    pub fn report_failure(&self, service: &str, addr: SocketAddr, eject_after: u32) -> Transition {
        let Some(m) = self.member(service, addr) else {
            return Transition::None;
        };
        let f = m.failures.fetch_add(1, Ordering::Relaxed) + 1;
        if f >= eject_after.max(1) && !m.ejected.swap(true, Ordering::Relaxed) {
            *m.ejected_at.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
            Transition::Ejected
        } else {
            Transition::None
        }
    }

    /// A successful call resets the failure count.
    pub fn report_success(&self, service: &str, addr: SocketAddr) {
        if let Some(m) = self.member(service, addr) {
            m.failures.store(0, Ordering::Relaxed);
        }
    }

    /// A passing health check restores an ejected instance once it has been
    /// out for `ejection_time`.
    pub fn report_healthy(
        &self,
        service: &str,
        addr: SocketAddr,
        ejection_time: Duration,
    ) -> Transition {
        let Some(m) = self.member(service, addr) else {
            return Transition::None;
        };
        if !m.ejected.load(Ordering::Relaxed) {
            m.failures.store(0, Ordering::Relaxed);
            return Transition::None;
        }
        let served = m
            .ejected_at
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_none_or(|t| t.elapsed() >= ejection_time);
        if served && m.ejected.swap(false, Ordering::Relaxed) {
            m.failures.store(0, Ordering::Relaxed);
            Transition::Restored
        } else {
            Transition::None
        }
    }

    /// Every (service, addr) pair, for the health checker.
    pub fn members(&self) -> Vec<(String, SocketAddr)> {
        let ups = self.upstreams.read().unwrap_or_else(|e| e.into_inner());
        ups.iter()
            .flat_map(|(s, u)| u.members.iter().map(move |m| (s.clone(), m.addr)))
            .collect()
    }

    /// Healthy (not ejected) instance count per service.
    pub fn healthy_counts(&self) -> Vec<(String, usize)> {
        let ups = self.upstreams.read().unwrap_or_else(|e| e.into_inner());
        ups.iter()
            .map(|(s, u)| {
                (
                    s.clone(),
                    u.members
                        .iter()
                        .filter(|m| !m.ejected.load(Ordering::Relaxed))
                        .count(),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(p: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], p))
    }

    fn balancer(ports: &[u16]) -> Balancer {
        let b = Balancer::default();
        let mut reg = BTreeMap::new();
        reg.insert("cart".to_string(), ports.iter().map(|p| addr(*p)).collect());
        b.update(&reg, &["cart".to_string(), "missing".to_string()]);
        b
    }

    #[test]
    fn round_robin_and_ejection() {
        let b = balancer(&[1, 2, 3]);
        let picks: Vec<_> = (0..6).map(|_| b.pick("cart", 50).unwrap()).collect();
        assert_eq!(picks.iter().filter(|a| **a == addr(2)).count(), 2);
        assert_eq!(b.report_failure("cart", addr(2), 2), Transition::None);
        assert_eq!(b.report_failure("cart", addr(2), 2), Transition::Ejected);
        assert!((0..10).all(|_| b.pick("cart", 50).unwrap() != addr(2)));
        assert_eq!(
            b.report_healthy("cart", addr(2), Duration::from_secs(60)),
            Transition::None
        );
        assert!((0..10).all(|_| b.pick("cart", 50).unwrap() != addr(2)));
        assert_eq!(
            b.report_healthy("cart", addr(2), Duration::ZERO),
            Transition::Restored
        );
        assert!((0..10).any(|_| b.pick("cart", 50).unwrap() == addr(2)));
        assert_eq!(b.pick("missing", 50), None);
        assert_eq!(b.pick("unknown", 50), None);
    }

    #[test]
    fn panic_mode_routes_to_all() {
        let b = balancer(&[1, 2, 3, 4]);
        for p in [1, 2, 3] {
            b.report_failure("cart", addr(p), 1);
        }
        // 25% healthy < 50% threshold: panic, all four get traffic.
        let picks: std::collections::HashSet<_> =
            (0..8).map(|_| b.pick("cart", 50).unwrap()).collect();
        assert_eq!(picks.len(), 4);
        // Threshold 0 disables panic mode: only the healthy one.
        assert!((0..8).all(|_| b.pick("cart", 0).unwrap() == addr(4)));
    }

    #[test]
    fn update_keeps_health_of_staying_members() {
        let b = balancer(&[1, 2]);
        b.report_failure("cart", addr(1), 1);
        let mut reg = BTreeMap::new();
        reg.insert("cart".to_string(), vec![addr(1), addr(3)]);
        b.update(&reg, &["cart".to_string()]);
        let counts = b.healthy_counts();
        assert!(counts.contains(&("cart".to_string(), 1)), "{counts:?}");
    }
}
