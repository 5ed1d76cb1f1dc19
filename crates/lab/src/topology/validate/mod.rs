//! Turns the raw file shape into a [`Topology`], collecting every problem
//! (with line, column and field) instead of stopping at the first one.
//! One function per section of the file: [`services`](service), the call
//! graph ([`graph`]), [`journeys`](journey).

mod ctx;
mod graph;
mod journey;
mod service;

use std::collections::HashMap;
use std::time::Duration;

use diag::Problems;

use super::model::*;
use super::raw::*;
use ctx::Ctx;
use service::{CallDefaults, CallSite};

/// HTTP methods an endpoint, call or journey step may use.
pub const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
/// Largest `instances` a service may ask for.
pub const MAX_INSTANCES: i64 = 32;
/// Most instances a lab may run in all: each is an OS process with its own
/// port and log file on the one machine `up` runs on.
pub const MAX_TOTAL_INSTANCES: u32 = 200;
/// Longest name (lab, service, version, journey): names become log file
/// names and label values, so they stay well below file-name limits.
pub const MAX_NAME_LEN: usize = 63;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);
const DEFAULT_BACKOFF: Duration = Duration::from_millis(25);

/// Whether a concrete or templated `path` is served by the route pattern
/// `route`: a `{x}` segment in the route matches any one segment, a `{*x}`
/// segment matches the rest, and a `{x}` segment in the path (filled at
/// runtime) matches anything. A query string on `path` is ignored.
pub fn route_matches(route: &str, path: &str) -> bool {
    let path = path.split(['?', '#']).next().unwrap_or("");
    let mut r = route.split('/');
    let mut p = path.split('/');
    loop {
        match (r.next(), p.next()) {
            (None, None) => return true,
            (Some(rs), _) if rs.starts_with("{*") && rs.ends_with('}') => return true,
            (Some(rs), Some(ps)) => {
                let r_param = rs.starts_with('{') && rs.ends_with('}');
                let p_param = ps.starts_with('{') && ps.ends_with('}');
                if !(r_param || p_param || rs == ps) {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

/// The endpoints of `service` that a call `method path` reaches.
pub fn matching_endpoints<'a>(service: &'a Service, method: &str, path: &str) -> Vec<&'a Endpoint> {
    service
        .endpoints
        .iter()
        .filter(|e| e.method.eq_ignore_ascii_case(method) && route_matches(&e.route, path))
        .collect()
}

/// Builds the topology, or returns every problem found.
pub(crate) fn build(raw: &RawTopology, file: &str) -> Result<Topology, Problems> {
    let mut ctx = Ctx::new(file);
    ctx.name(&raw.name, "name");
    let defaults = call_defaults(&mut ctx, raw.defaults.as_ref());
    let mut sites: Vec<CallSite> = Vec::new();
    let services = services(&mut ctx, raw, &defaults, &mut sites);
    let entry = entry(&mut ctx, raw, &services);
    graph::check_calls(&mut ctx, &services, &sites);
    let journeys = journey::journeys(&mut ctx, raw, &services, entry);
    ctx.report.finish(Topology {
        name: raw.name.value.clone(),
        description: raw.description.clone(),
        entry: raw.entry.value.clone(),
        services,
        journeys,
        params: raw.params.clone(),
    })
}

/// `defaults`: what calls use when they do not say.
fn call_defaults(ctx: &mut Ctx, d: Option<&RawDefaults>) -> CallDefaults {
    let Some(d) = d else {
        return CallDefaults {
            timeout: DEFAULT_TIMEOUT,
            retries: 0,
            backoff: DEFAULT_BACKOFF,
        };
    };
    CallDefaults {
        timeout: ctx.duration_or(&d.timeout, "defaults.timeout", DEFAULT_TIMEOUT),
        retries: d.retries.unwrap_or(0),
        backoff: ctx.duration_or(&d.backoff, "defaults.backoff", DEFAULT_BACKOFF),
    }
}

/// `services`: each service, unique names, and the instance total.
fn services<'r>(
    ctx: &mut Ctx,
    raw: &'r RawTopology,
    defaults: &CallDefaults,
    sites: &mut Vec<CallSite<'r>>,
) -> Vec<Service> {
    if raw.services.value.is_empty() {
        ctx.at(
            &raw.services.referenced,
            "services",
            "no services: a lab needs at least one",
        );
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut services = Vec::new();
    for (i, rs) in raw.services.value.iter().enumerate() {
        let name = &rs.value.name;
        if let Some(prev) = seen.insert(&name.value, i) {
            ctx.at(
                &name.referenced,
                format!("services[{i}].name"),
                format!(
                    "duplicate service name {:?} (also services[{prev}])",
                    name.value
                ),
            );
        }
        services.push(service::service(ctx, i, &rs.value, defaults, sites));
    }
    let total: u32 = services.iter().map(|s| s.instances).sum();
    if total > MAX_TOTAL_INSTANCES {
        ctx.at(
            &raw.services.referenced,
            "services",
            format!(
                "{total} instances in all: a lab runs at most {MAX_TOTAL_INSTANCES} \
                 (each is a process on this machine); lower some `instances`"
            ),
        );
    }
    services
}

/// `entry`: the service journeys enter through.
fn entry(ctx: &mut Ctx, raw: &RawTopology, services: &[Service]) -> Option<usize> {
    let entry = services.iter().position(|s| s.name == raw.entry.value);
    if entry.is_none() {
        ctx.at(
            &raw.entry.referenced,
            "entry",
            format!(
                "{:?} is not a service (services: {})",
                raw.entry.value,
                service_list(services)
            ),
        );
    }
    entry
}

fn service_list(services: &[Service]) -> String {
    services
        .iter()
        .map(|s| s.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_paths() {
        assert!(route_matches("/product/{id}", "/product/OLJCESPC7Z"));
        assert!(route_matches("/product/{id}", "/product/{product}"));
        assert!(route_matches("/commands/weather", "/commands/{command}"));
        assert!(route_matches("/", "/"));
        assert!(route_matches("/cart", "/cart?x=1"));
        assert!(route_matches("/static/{*rest}", "/static/a/b"));
        assert!(!route_matches("/", "/cart"));
        assert!(!route_matches("/product/{id}", "/product"));
        assert!(!route_matches("/product/{id}", "/product/a/b"));
        assert!(!route_matches("/cart", "/carts"));
    }
}
