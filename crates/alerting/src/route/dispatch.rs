//! The dispatcher: alerts are deduplicated by fingerprint, routed, grouped,
//! and turned into notifications as Alertmanager does (group_wait, then
//! group_interval for changes, repeat_interval for reminders, a notification
//! on resolve), minus silenced and inhibited alerts. Time is passed in, so
//! tests control the clock.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Duration as CDuration, Utc};

use super::config::{Config, GroupBy, Route};
use super::silence::Silences;
use crate::rules::OutgoingAlert;

/// FNV-1a of `bytes`: stable across Rust releases and runs.
fn fnv1a(bytes: impl IntoIterator<Item = u8>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// A label set's stable fingerprint (FNV-1a).
pub fn fingerprint(labels: &BTreeMap<String, String>) -> u64 {
    fnv1a(
        labels
            .iter()
            .flat_map(|(k, v)| k.bytes().chain([0xff]).chain(v.bytes()).chain([0xff])),
    )
}

#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub generator_url: String,
}

impl Alert {
    pub fn resolved(&self, now: DateTime<Utc>) -> bool {
        self.ends_at <= now
    }
}

/// One notification for one receiver.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub receiver: String,
    pub group_key: String,
    pub group_labels: BTreeMap<String, String>,
    /// Firing first, then resolved.
    pub alerts: Vec<Alert>,
    pub now: DateTime<Utc>,
}

impl Notification {
    pub fn firing(&self) -> impl Iterator<Item = &Alert> {
        self.alerts.iter().filter(|a| !a.resolved(self.now))
    }

    pub fn status(&self) -> &'static str {
        if self.firing().next().is_some() {
            "firing"
        } else {
            "resolved"
        }
    }

    fn common(&self, f: fn(&Alert) -> &BTreeMap<String, String>) -> BTreeMap<String, String> {
        let mut it = self.alerts.iter();
        let Some(first) = it.next() else {
            return BTreeMap::new();
        };
        let mut c = f(first).clone();
        for a in it {
            c.retain(|k, v| f(a).get(k) == Some(v));
        }
        c
    }

    pub fn common_labels(&self) -> BTreeMap<String, String> {
        self.common(|a| &a.labels)
    }

    pub fn common_annotations(&self) -> BTreeMap<String, String> {
        self.common(|a| &a.annotations)
    }
}

struct RouteInfo {
    path: String,
    receiver: String,
    group_by: GroupBy,
    group_wait: CDuration,
    group_interval: CDuration,
    repeat_interval: CDuration,
    mute: Vec<String>,
    active: Vec<String>,
}

struct Group {
    route: usize,
    labels: BTreeMap<String, String>,
    alerts: BTreeSet<u64>,
    next_flush: DateTime<Utc>,
    flushed: bool,
    last_firing: BTreeSet<u64>,
    last_sent: Option<DateTime<Utc>>,
}

pub struct Dispatcher {
    config: Config,
    routes: Vec<RouteInfo>,
    alerts: HashMap<u64, Alert>,
    /// Per route (pre-order index) and group key, as Alertmanager keeps
    /// groups per route: sibling routes with equal matchers (and so equal
    /// keys) still have groups of their own.
    groups: BTreeMap<(usize, String), Group>,
}

fn flatten(r: &Route, out: &mut Vec<RouteInfo>) {
    let d = |x: std::time::Duration| CDuration::from_std(x).unwrap_or(CDuration::seconds(30));
    out.push(RouteInfo {
        path: r.key.clone(),
        receiver: r.receiver.clone(),
        group_by: r.group_by.clone(),
        group_wait: d(r.group_wait),
        group_interval: d(r.group_interval),
        repeat_interval: d(r.repeat_interval),
        mute: r.mute_time_intervals.clone(),
        active: r.active_time_intervals.clone(),
    });
    for c in &r.routes {
        flatten(c, out);
    }
}

/// Indices (pre-order, as [`flatten`]) of the routes an alert goes to,
/// in order ([`Route::matching`] decides).
fn route_ids(root: &Route, labels: &BTreeMap<String, String>) -> Vec<usize> {
    fn preorder<'a>(r: &'a Route, out: &mut Vec<&'a Route>) {
        out.push(r);
        for c in &r.routes {
            preorder(c, out);
        }
    }
    let mut all = Vec::new();
    preorder(root, &mut all);
    let mut hits = Vec::new();
    root.matching(labels, &mut hits);
    hits.iter()
        .filter_map(|h| all.iter().position(|r| std::ptr::eq(*r, *h)))
        .collect()
}

impl Dispatcher {
    pub fn new(config: Config) -> Self {
        let mut routes = Vec::new();
        flatten(&config.route, &mut routes);
        Dispatcher {
            config,
            routes,
            alerts: HashMap::new(),
            groups: BTreeMap::new(),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Takes alerts in (new, updated or resolved).
    pub fn receive(&mut self, alerts: Vec<OutgoingAlert>, now: DateTime<Utc>) {
        for a in alerts {
            let fp = fingerprint(&a.labels);
            let alert = Alert {
                labels: a.labels,
                annotations: a.annotations,
                starts_at: a.starts_at,
                ends_at: a.ends_at,
                generator_url: a.generator_url,
            };
            if let Some(old) = self.alerts.get(&fp)
                && old.resolved(now)
                && alert.resolved(now)
            {
                continue;
            }
            for id in route_ids(&self.config.route, &alert.labels) {
                let r = &self.routes[id];
                let group_labels: BTreeMap<String, String> = match &r.group_by {
                    GroupBy::All => alert.labels.clone(),
                    GroupBy::Labels(ls) => ls
                        .iter()
                        .filter_map(|l| alert.labels.get(l).map(|v| (l.clone(), v.clone())))
                        .collect(),
                };
                let key = format!(
                    "{}:{{{}}}",
                    r.path,
                    group_labels
                        .iter()
                        .map(|(k, v)| format!("{k}={v:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                let g = self.groups.entry((id, key)).or_insert_with(|| Group {
                    route: id,
                    labels: group_labels,
                    alerts: BTreeSet::new(),
                    next_flush: now + r.group_wait,
                    flushed: false,
                    last_firing: BTreeSet::new(),
                    last_sent: None,
                });
                g.alerts.insert(fp);
            }
            self.alerts.insert(fp, alert);
        }
    }

    fn inhibited(&self, a: &Alert, now: DateTime<Utc>) -> bool {
        self.config.inhibit.iter().any(|rule| {
            rule.target.iter().all(|m| m.matches(&a.labels))
                && self.alerts.values().any(|src| {
                    !src.resolved(now)
                        && src.labels != a.labels
                        && rule.source.iter().all(|m| m.matches(&src.labels))
                        && rule
                            .equal
                            .iter()
                            .all(|l| src.labels.get(l) == a.labels.get(l))
                })
        })
    }

    /// Notifications due at `now`.
    pub fn tick(&mut self, now: DateTime<Utc>, silences: &Silences) -> Vec<Notification> {
        let mut out = Vec::new();
        let keys: Vec<(usize, String)> = self.groups.keys().cloned().collect();
        for key in keys {
            let Some(g) = self.groups.get(&key) else {
                continue;
            };
            if now < g.next_flush {
                continue;
            }
            let r = &self.routes[g.route];
            let members: Vec<(u64, &Alert)> = g
                .alerts
                .iter()
                .filter_map(|fp| self.alerts.get(fp).map(|a| (*fp, a)))
                .collect();
            let visible: Vec<(u64, &Alert)> = members
                .iter()
                .filter(|(_, a)| !silences.mutes(&a.labels, now) && !self.inhibited(a, now))
                .cloned()
                .collect();
            let firing: BTreeSet<u64> = visible
                .iter()
                .filter(|(_, a)| !a.resolved(now))
                .map(|(f, _)| *f)
                .collect();
            let resolved: Vec<u64> = members
                .iter()
                .filter(|(_, a)| a.resolved(now))
                .map(|(f, _)| *f)
                .collect();
            let resolved_visible: Vec<u64> = visible
                .iter()
                .filter(|(_, a)| a.resolved(now))
                .map(|(f, _)| *f)
                .collect();
            if self.muted(r, now) {
                // Muted by a time interval: nothing is sent and nothing
                // counts as sent, so the group notifies once unmuted.
                let interval = r.group_interval;
                let g = self.groups.get_mut(&key).expect("group exists");
                g.next_flush = now + interval;
                continue;
            }
            let changed = firing != g.last_firing;
            let repeat =
                !firing.is_empty() && g.last_sent.is_some_and(|t| now - t >= r.repeat_interval);
            let newly_resolved = resolved_visible.iter().any(|f| g.last_firing.contains(f));
            let notify = (!g.flushed && !firing.is_empty())
                || (g.flushed && (changed && !firing.is_empty() || repeat || newly_resolved));
            if notify {
                let mut alerts: Vec<Alert> = firing
                    .iter()
                    .filter_map(|f| self.alerts.get(f).cloned())
                    .collect();
                alerts.extend(
                    resolved_visible
                        .iter()
                        .filter(|f| g.last_firing.contains(f))
                        .filter_map(|f| self.alerts.get(f).cloned()),
                );
                out.push(Notification {
                    receiver: r.receiver.clone(),
                    group_key: key.1.clone(),
                    group_labels: g.labels.clone(),
                    alerts,
                    now,
                });
            }
            let interval = r.group_interval;
            let g = self.groups.get_mut(&key).expect("group exists");
            g.next_flush = now + interval;
            if notify {
                g.flushed = true;
                g.last_sent = Some(now);
                g.last_firing = firing;
            } else if firing.is_empty() {
                g.last_firing.clear();
            }
            // Resolved alerts leave the group once they were (or need not be) notified.
            for f in resolved {
                g.alerts.remove(&f);
            }
            if g.alerts.is_empty() {
                self.groups.remove(&key);
            }
        }
        // Forget resolved alerts no group holds any more.
        let held: BTreeSet<u64> = self
            .groups
            .values()
            .flat_map(|g| g.alerts.iter().copied())
            .collect();
        self.alerts
            .retain(|fp, a| held.contains(fp) || !a.resolved(now));
        out
    }

    /// Alerts currently known, for `GET /api/v2/alerts`.
    pub fn alerts(&self) -> Vec<(u64, Alert)> {
        let mut v: Vec<(u64, Alert)> = self.alerts.iter().map(|(f, a)| (*f, a.clone())).collect();
        v.sort_by(|a, b| a.1.labels.cmp(&b.1.labels));
        v
    }

    pub fn is_inhibited(&self, a: &Alert, now: DateTime<Utc>) -> bool {
        self.inhibited(a, now)
    }

    /// Whether a route's time intervals mute it at `now`: inside one of its
    /// `mute_time_intervals`, or outside all of its `active_time_intervals`.
    fn muted(&self, r: &RouteInfo, now: DateTime<Utc>) -> bool {
        let within = |name: &String| {
            self.config
                .time_intervals
                .get(name)
                .is_some_and(|t| t.contains(now))
        };
        r.mute.iter().any(within) || (!r.active.is_empty() && !r.active.iter().any(within))
    }

    /// The receivers an alert with these labels goes to, in route order
    /// (the alerts API's `receivers`).
    pub fn receivers_for(&self, labels: &BTreeMap<String, String>) -> Vec<String> {
        route_ids(&self.config.route, labels)
            .into_iter()
            .map(|i| self.routes[i].receiver.clone())
            .collect()
    }
}

/// Hash of a group key, for PagerDuty's dedup_key: stable (FNV-1a), so a
/// resolve sent by another build or after a restart closes the same incident.
pub fn key_hash(key: &str) -> String {
    format!("{:016x}", fnv1a(key.bytes()))
}
