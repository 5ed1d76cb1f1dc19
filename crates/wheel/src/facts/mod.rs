//! A snapshot of the lab's truth at the moment of a spin: what the
//! templates pick their subjects from and compute their answers with.
//! Plain data, so a test builds one by hand ([`Facts::sample`]) and the
//! same facts with the same seed always give the same card.

pub mod gather;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    pub lab: String,
    /// The service users talk to.
    pub entry: String,
    /// Where instances write their request logs (`DATA_DIR/logs`).
    pub logs_dir: String,
    pub services: Vec<Service>,
    pub journeys: Vec<Journey>,
    /// Each role of each schedule now, from `/api/oncall/who`.
    pub on_call: Vec<OnCall>,
    pub people: Vec<Person>,
    /// Pages, newest first.
    pub pages: Vec<Page>,
    pub alert_rules: Vec<AlertRule>,
    /// Alert names firing now.
    pub firing: Vec<String>,
    pub metrics: Metrics,
    /// A recent trace through the entry service.
    pub trace: Option<Trace>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Service {
    pub name: String,
    pub version: String,
    pub versions: Vec<String>,
    pub instances: Vec<Instance>,
    pub endpoints: Vec<Endpoint>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    pub index: u32,
    /// `127.0.0.1:PORT`, the `instance` label of its metrics.
    pub addr: String,
    pub version: String,
    pub pid: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    pub method: String,
    pub path: String,
    pub calls: Vec<Call>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Call {
    pub service: String,
    pub method: String,
    pub path: String,
    pub critical: bool,
    pub fallback: bool,
    pub timeout_ms: f64,
    pub retries: u32,
}

impl Call {
    /// Its failure fails the caller's request (critical, or optional
    /// without a fallback).
    pub fn fails_caller(&self) -> bool {
        self.critical || !self.fallback
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Journey {
    pub name: String,
    /// `METHOD PATH` of each step, paths as written (`/product/{product}`).
    pub steps: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OnCall {
    pub schedule: String,
    /// `primary` or `secondary`.
    pub role: String,
    pub person: Option<String>,
    pub next: Option<String>,
    pub shadows: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Person {
    pub handle: String,
    /// Whom this person shadows.
    pub apprentice_of: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Page {
    pub id: i64,
    pub title: String,
    pub status: String,
    pub assignee: String,
    pub acknowledged_by: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AlertRule {
    pub name: String,
    pub severity: String,
    pub query: String,
    /// The SLO it burns for (`sloth_id`), if any.
    pub slo: Option<String>,
}

/// One value of a PromQL answer, keyed by the labels that matter.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// The service (`job`).
    pub job: String,
    /// A route, an instance address, or empty.
    pub key: String,
    pub value: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// p99 server latency in seconds per route, over 5 minutes.
    pub route_p99: Vec<Sample>,
    /// p99 server latency in seconds per instance, over 5 minutes.
    pub instance_p99: Vec<Sample>,
    /// Share of 5xx answers per route, over 5 minutes.
    pub route_errors: Vec<Sample>,
    /// Requests per second per service, over 5 minutes.
    pub service_rps: Vec<Sample>,
    /// Requests per second per instance, over 5 minutes.
    pub instance_rps: Vec<Sample>,
    /// Resident memory per instance, bytes.
    pub instance_memory: Vec<Sample>,
    /// SLO journeys: which journey each SLO (`sloth_id`) measures.
    pub slo_journeys: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    pub id: String,
    pub spans: Vec<Span>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Span {
    pub service: String,
    pub instance: String,
    /// `server` or `client`.
    pub kind: String,
    pub name: String,
    pub duration_ms: f64,
}

/// The PromQL the facts come from: a card's `how` quotes them.
pub mod queries {
    pub const ROUTE_P99: &str = "histogram_quantile(0.99, sum by (job, http_route, le) (rate(http_server_request_duration_seconds_bucket[5m])))";
    pub const INSTANCE_P99: &str = "histogram_quantile(0.99, sum by (job, instance, le) (rate(http_server_request_duration_seconds_bucket[5m])))";
    pub const ROUTE_ERRORS: &str = "sum by (job, http_route) (rate(http_server_request_duration_seconds_count{http_response_status_code=~\"5..\"}[5m])) / sum by (job, http_route) (rate(http_server_request_duration_seconds_count[5m]))";
    pub const SERVICE_RPS: &str =
        "sum by (job) (rate(http_server_request_duration_seconds_count[5m]))";
    pub const INSTANCE_RPS: &str =
        "sum by (job, instance) (rate(http_server_request_duration_seconds_count[5m]))";
    pub const INSTANCE_MEMORY: &str = "process_resident_memory_bytes{job!~\"loadgen|firedrill\"}";
}

impl Facts {
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }

    /// `cart/1` for an instance address, if it is one of the lab's.
    pub fn instance_name(&self, addr: &str) -> Option<String> {
        self.services.iter().find_map(|s| {
            s.instances
                .iter()
                .find(|i| i.addr == addr)
                .map(|i| format!("{}/{}", s.name, i.index))
        })
    }

    /// The primary on call now (the first schedule's): every service pages
    /// through the pager's one policy, whose first step is the primary.
    pub fn primary(&self) -> Option<&str> {
        self.on_call
            .iter()
            .find(|o| o.role == "primary")
            .and_then(|o| o.person.as_deref())
    }

    /// Services that call `name` from any endpoint.
    pub fn callers_of(&self, name: &str) -> Vec<String> {
        self.services
            .iter()
            .filter(|s| {
                s.endpoints
                    .iter()
                    .any(|e| e.calls.iter().any(|c| c.service == name))
            })
            .map(|s| s.name.clone())
            .collect()
    }

    /// Every service a request to `service METHOD path` needs (the calls
    /// whose failure fails the caller, followed down), itself included.
    pub fn needs(&self, service: &str, method: &str, path: &str) -> Vec<String> {
        let mut out = vec![service.to_string()];
        let mut todo = vec![(service.to_string(), method.to_string(), path.to_string())];
        let mut seen = std::collections::BTreeSet::new();
        while let Some((s, m, p)) = todo.pop() {
            if !seen.insert((s.clone(), m.clone(), p.clone())) {
                continue;
            }
            let Some(svc) = self.service(&s) else {
                continue;
            };
            let Some(ep) = svc
                .endpoints
                .iter()
                .find(|e| e.method == m && path_matches(&e.path, &p))
            else {
                continue;
            };
            for c in ep.calls.iter().filter(|c| c.fails_caller()) {
                if !out.contains(&c.service) {
                    out.push(c.service.clone());
                }
                todo.push((c.service.clone(), c.method.clone(), c.path.clone()));
            }
        }
        out.sort();
        out
    }

    /// Journeys a request of which fails when `service` is down.
    pub fn journeys_needing(&self, service: &str) -> Vec<String> {
        self.journeys
            .iter()
            .filter(|j| {
                j.steps
                    .iter()
                    .any(|(m, p)| self.needs(&self.entry, m, p).iter().any(|s| s == service))
            })
            .map(|j| j.name.clone())
            .collect()
    }

    /// A fixed lab for unit tests: a small shop with numbers in it.
    pub fn sample() -> Facts {
        fn call(service: &str, path: &str, critical: bool, fallback: bool) -> Call {
            Call {
                service: service.into(),
                method: "GET".into(),
                path: path.into(),
                critical,
                fallback,
                timeout_ms: 300.0,
                retries: 1,
            }
        }
        fn inst(index: u32, port: u16) -> Instance {
            Instance {
                index,
                addr: format!("127.0.0.1:{port}"),
                version: "v1".into(),
                pid: Some(1000 + port as i64),
            }
        }
        fn ep(method: &str, path: &str, calls: Vec<Call>) -> Endpoint {
            Endpoint {
                method: method.into(),
                path: path.into(),
                calls,
            }
        }
        fn sample(job: &str, key: &str, value: f64) -> Sample {
            Sample {
                job: job.into(),
                key: key.into(),
                value,
            }
        }
        Facts {
            lab: "shop".into(),
            entry: "frontend".into(),
            logs_dir: "/data/logs".into(),
            services: vec![
                Service {
                    name: "frontend".into(),
                    version: "v1".into(),
                    versions: vec!["v1".into()],
                    instances: vec![inst(0, 9710), inst(1, 9711)],
                    endpoints: vec![
                        ep(
                            "GET",
                            "/",
                            vec![
                                call("catalog", "/products", true, false),
                                call("ad", "/ads", false, true),
                            ],
                        ),
                        ep(
                            "POST",
                            "/cart/checkout",
                            vec![call("checkout", "/checkout", true, false)],
                        ),
                    ],
                },
                Service {
                    name: "catalog".into(),
                    version: "v2".into(),
                    versions: vec!["v1".into(), "v2".into()],
                    instances: vec![inst(0, 9712)],
                    endpoints: vec![ep("GET", "/products", vec![])],
                },
                Service {
                    name: "ad".into(),
                    version: "v1".into(),
                    versions: vec!["v1".into()],
                    instances: vec![inst(0, 9713)],
                    endpoints: vec![ep("GET", "/ads", vec![])],
                },
                Service {
                    name: "checkout".into(),
                    version: "v1".into(),
                    versions: vec!["v1".into()],
                    instances: vec![inst(0, 9714), inst(1, 9715)],
                    endpoints: vec![ep(
                        "GET",
                        "/checkout",
                        vec![
                            call("payment", "/charge", true, false),
                            call("catalog", "/products", false, false),
                        ],
                    )],
                },
                Service {
                    name: "payment".into(),
                    version: "v1".into(),
                    versions: vec!["v1".into(), "v2".into()],
                    instances: vec![inst(0, 9716)],
                    endpoints: vec![ep("GET", "/charge", vec![])],
                },
            ],
            journeys: vec![
                Journey {
                    name: "home".into(),
                    steps: vec![("GET".into(), "/".into())],
                },
                Journey {
                    name: "checkout".into(),
                    steps: vec![
                        ("GET".into(), "/".into()),
                        ("POST".into(), "/cart/checkout".into()),
                    ],
                },
            ],
            on_call: vec![
                OnCall {
                    schedule: "lab".into(),
                    role: "primary".into(),
                    person: Some("bob".into()),
                    next: Some("alice".into()),
                    shadows: vec![],
                },
                OnCall {
                    schedule: "lab".into(),
                    role: "secondary".into(),
                    person: Some("dave".into()),
                    next: Some("carol".into()),
                    shadows: vec![],
                },
            ],
            people: ["ines", "alice", "bob", "carol", "dave"]
                .iter()
                .map(|h| Person {
                    handle: h.to_string(),
                    apprentice_of: vec![],
                })
                .chain(std::iter::once(Person {
                    handle: "erin".into(),
                    apprentice_of: vec!["alice".into()],
                }))
                .collect(),
            pages: vec![
                Page {
                    id: 2,
                    title: "HomeLatencyBurn".into(),
                    status: "triggered".into(),
                    assignee: "bob".into(),
                    acknowledged_by: None,
                },
                Page {
                    id: 1,
                    title: "CheckoutAvailabilityBurn".into(),
                    status: "acknowledged".into(),
                    assignee: "bob".into(),
                    acknowledged_by: Some("bob".into()),
                },
            ],
            alert_rules: vec![
                AlertRule {
                    name: "CheckoutAvailabilityBurn".into(),
                    severity: "page".into(),
                    query:
                        "slo:sli_error:ratio_rate5m{sloth_id=\"shop-checkout-availability\"} > 0.1"
                            .into(),
                    slo: Some("shop-checkout-availability".into()),
                },
                AlertRule {
                    name: "InstanceDown".into(),
                    severity: "ticket".into(),
                    query: "up{job!~\"loadgen|firedrill\"} == 0".into(),
                    slo: None,
                },
            ],
            firing: vec![],
            metrics: Metrics {
                route_p99: vec![
                    sample("frontend", "/", 0.125),
                    sample("frontend", "/cart/checkout", 0.3),
                    sample("catalog", "/products", 0.02),
                ],
                instance_p99: vec![
                    sample("frontend", "127.0.0.1:9710", 0.12),
                    sample("frontend", "127.0.0.1:9711", 0.2),
                    sample("checkout", "127.0.0.1:9714", 0.05),
                    sample("checkout", "127.0.0.1:9715", 0.04),
                ],
                route_errors: vec![
                    sample("frontend", "/", 0.0),
                    sample("frontend", "/cart/checkout", 0.02),
                ],
                service_rps: vec![sample("frontend", "", 20.0), sample("catalog", "", 18.0)],
                instance_rps: vec![
                    sample("frontend", "127.0.0.1:9710", 11.0),
                    sample("frontend", "127.0.0.1:9711", 9.0),
                ],
                instance_memory: vec![
                    sample("frontend", "127.0.0.1:9710", 9.0e6),
                    sample("catalog", "127.0.0.1:9712", 12.0e6),
                ],
                slo_journeys: vec![("shop-checkout-availability".into(), "checkout".into())],
            },
            trace: Some(Trace {
                id: "abc123".into(),
                spans: vec![
                    Span {
                        service: "frontend".into(),
                        instance: "frontend/0".into(),
                        kind: "server".into(),
                        name: "GET /".into(),
                        duration_ms: 20.0,
                    },
                    Span {
                        service: "frontend".into(),
                        instance: "frontend/0".into(),
                        kind: "client".into(),
                        name: "call catalog GET /products".into(),
                        duration_ms: 12.0,
                    },
                    Span {
                        service: "catalog".into(),
                        instance: "catalog/0".into(),
                        kind: "server".into(),
                        name: "GET /products".into(),
                        duration_ms: 11.0,
                    },
                ],
            }),
        }
    }
}

/// Does a route template (`/product/{id}`) match a path (`/product/{product}`
/// or `/product/42`)? Placeholders match any one segment.
pub fn path_matches(template: &str, path: &str) -> bool {
    let a: Vec<&str> = template.trim_end_matches('/').split('/').collect();
    let b: Vec<&str> = path
        .split('?')
        .next()
        .unwrap_or("")
        .trim_end_matches('/')
        .split('/')
        .collect();
    a.len() == b.len()
        && a.iter()
            .zip(&b)
            .all(|(x, y)| x == y || x.starts_with('{') || y.starts_with('{'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needs_follow_the_calls_that_fail_the_caller() {
        let f = Facts::sample();
        assert_eq!(f.needs("frontend", "GET", "/"), vec!["catalog", "frontend"]);
        assert_eq!(
            f.needs("frontend", "POST", "/cart/checkout"),
            vec!["catalog", "checkout", "frontend", "payment"]
        );
        assert_eq!(f.journeys_needing("payment"), vec!["checkout"]);
        assert_eq!(f.journeys_needing("ad"), Vec::<String>::new());
        assert_eq!(f.callers_of("catalog"), vec!["frontend", "checkout"]);
    }

    #[test]
    fn paths_match_placeholders() {
        assert!(path_matches("/product/{id}", "/product/{product}"));
        assert!(path_matches("/product/{id}", "/product/42"));
        assert!(path_matches("/", "/"));
        assert!(!path_matches("/cart", "/cart/checkout"));
    }
}
