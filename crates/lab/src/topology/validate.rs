//! Turns the raw file shape into a [`Topology`], collecting every problem
//! (with line, column and field) instead of stopping at the first one.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde_saphyr::Location;

use super::duration::parse_duration;
use super::error::Problem;
use super::model::*;
use super::raw::*;
use crate::placeholders;

/// HTTP methods an endpoint, call or journey step may use.
pub const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
/// Largest `instances` a service may ask for.
pub const MAX_INSTANCES: i64 = 32;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);
const DEFAULT_BACKOFF: Duration = Duration::from_millis(25);
const DEFAULT_RESPONSE_BYTES: usize = 512;

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

struct Ctx<'a> {
    file: &'a str,
    problems: Vec<Problem>,
}

impl Ctx<'_> {
    fn at(&mut self, loc: &Location, field: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem::new(
            self.file,
            loc.line() as usize,
            loc.column() as usize,
            field,
            message,
        ));
    }

    fn duration(&mut self, v: &S<DurationText>, field: &str) -> Option<Duration> {
        match parse_duration(&v.value.0) {
            Ok(d) => Some(d),
            Err(e) => {
                self.at(&v.referenced, field, e);
                None
            }
        }
    }

    fn duration_or(
        &mut self,
        v: &Option<S<DurationText>>,
        field: &str,
        default: Duration,
    ) -> Duration {
        match v {
            Some(v) => self.duration(v, field).unwrap_or(default),
            None => default,
        }
    }

    fn latency(&mut self, v: &S<RawLatency>, field: &str) -> Latency {
        match &v.value {
            RawLatency::Fixed(t) => match parse_duration(&t.0) {
                Ok(d) => Latency { median: d, p99: d },
                Err(e) => {
                    self.at(&v.referenced, field, e);
                    Latency::ZERO
                }
            },
            RawLatency::Dist { median, p99 } => {
                let m = self.duration(median, &format!("{field}.median"));
                let p = match p99 {
                    Some(p) => self.duration(p, &format!("{field}.p99")),
                    None => m,
                };
                if let (Some(m), Some(p), Some(p99)) = (m, p, p99)
                    && p < m
                {
                    self.at(
                        &p99.referenced,
                        format!("{field}.p99"),
                        format!(
                            "p99 {} is below the median {}; p99 must be >= median",
                            p99.value.0, median.value.0
                        ),
                    );
                }
                match (m, p) {
                    (Some(m), Some(p)) => Latency {
                        median: m,
                        p99: p.max(m),
                    },
                    _ => Latency::ZERO,
                }
            }
        }
    }

    fn fraction(&mut self, v: &Option<S<f64>>, field: &str, default: f64) -> f64 {
        match v {
            Some(v) if !(0.0..=1.0).contains(&v.value) => {
                self.at(
                    &v.referenced,
                    field,
                    format!("{} is outside 0..=1 (a share: 0.3 means 30%)", v.value),
                );
                default
            }
            Some(v) => v.value,
            None => default,
        }
    }

    fn method(&mut self, v: &Option<S<String>>, field: &str) -> String {
        let Some(v) = v else {
            return "GET".to_string();
        };
        let m = v.value.trim().to_ascii_uppercase();
        if !METHODS.contains(&m.as_str()) {
            self.at(
                &v.referenced,
                field,
                format!(
                    "{:?} is not an HTTP method; use one of {}",
                    v.value,
                    METHODS.join(", ")
                ),
            );
        }
        m
    }

    fn path(&mut self, v: &S<String>, field: &str, what: &str) {
        if !v.value.starts_with('/') {
            self.at(
                &v.referenced,
                field,
                format!("{what} {:?} must start with '/'", v.value),
            );
        }
    }

    fn name(&mut self, v: &S<String>, field: &str) {
        let ok = v
            .value
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
            && v.value
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if !ok {
            self.at(
                &v.referenced,
                field,
                format!(
                    "{:?} is not a valid name; use lowercase letters, digits, '-' and '_'",
                    v.value
                ),
            );
        }
    }
}

/// A call with where it was written, for the cross-service checks.
struct CallSite<'r> {
    caller: usize,
    field: String,
    raw: &'r RawCall,
    call: Call,
}

struct CallDefaults {
    timeout: Duration,
    retries: u32,
    backoff: Duration,
}

fn convert_call<'r>(
    ctx: &mut Ctx,
    d: &CallDefaults,
    caller: usize,
    field: String,
    raw: &'r S<RawCall>,
    sites: &mut Vec<CallSite<'r>>,
) -> Call {
    let c = &raw.value;
    let method = ctx.method(&c.method, &format!("{field}.method"));
    ctx.path(&c.path, &format!("{field}.path"), "call path");
    let critical = c.critical.as_ref().map(|v| v.value).unwrap_or(true);
    let timeout = ctx.duration_or(&c.timeout, &format!("{field}.timeout"), d.timeout);
    if let Some(t) = &c.timeout
        && timeout.is_zero()
    {
        ctx.at(
            &t.referenced,
            format!("{field}.timeout"),
            "a call timeout must be more than 0",
        );
    }
    let backoff = ctx.duration_or(&c.backoff, &format!("{field}.backoff"), d.backoff);
    let fallback = match &c.fallback {
        Some(f) if critical => {
            ctx.at(
                &f.referenced,
                format!("{field}.fallback"),
                "a critical call cannot have a fallback (its failure fails the request); \
                 set `critical: false` to use one",
            );
            None
        }
        Some(f) => Some(match &f.value {
            RawFallback::Omit => Fallback::Omit,
            RawFallback::Static(s) => Fallback::Static(s.clone()),
        }),
        None => None,
    };
    let probability = ctx.fraction(&c.probability, &format!("{field}.probability"), 1.0);
    let call = Call {
        service: c.service.value.clone(),
        method,
        path: c.path.value.clone(),
        critical,
        timeout,
        retries: c.retries.unwrap_or(d.retries),
        backoff,
        fallback,
        probability,
    };
    sites.push(CallSite {
        caller,
        field,
        raw: c,
        call: call.clone(),
    });
    call
}

fn convert_version(ctx: &mut Ctx, v: &S<RawVersion>, field: &str) -> VersionProfile {
    let r = &v.value;
    let error_rate = ctx.fraction(&r.error_rate, &format!("{field}.error_rate"), 0.0);
    let error_status = match &r.error_status {
        Some(s) if !(400..=599).contains(&s.value) => {
            ctx.at(
                &s.referenced,
                format!("{field}.error_status"),
                format!("{} is not an error status; use 400..=599", s.value),
            );
            500
        }
        Some(s) => s.value,
        None => 500,
    };
    let extra_latency = r
        .extra_latency
        .as_ref()
        .map(|l| ctx.latency(l, &format!("{field}.extra_latency")));
    let slow_default = if extra_latency.is_some() { 1.0 } else { 0.0 };
    let slow_fraction = ctx.fraction(
        &r.slow_fraction,
        &format!("{field}.slow_fraction"),
        slow_default,
    );
    let cpu_factor = match &r.cpu_factor {
        Some(f) if f.value <= 0.0 || !f.value.is_finite() => {
            ctx.at(
                &f.referenced,
                format!("{field}.cpu_factor"),
                format!("{} must be more than 0 (1.0 = unchanged)", f.value),
            );
            1.0
        }
        Some(f) => f.value,
        None => 1.0,
    };
    VersionProfile {
        description: r.description.clone(),
        error_rate,
        error_status,
        affected_routes: r.affected_routes.iter().map(|s| s.value.clone()).collect(),
        extra_latency,
        slow_fraction,
        leak_bytes_per_request: r.leak_bytes_per_request.unwrap_or(0),
        cpu_factor,
    }
}

fn convert_runtime(ctx: &mut Ctx, r: &Option<RawRuntime>, field: &str) -> RuntimeDefaults {
    let mut out = RuntimeDefaults::default();
    let Some(r) = r else {
        return out;
    };
    if let Some(v) = r.concurrency_limit {
        out.concurrency_limit = v;
    }
    if let Some(v) = &r.panic_threshold_percent {
        if v.value > 100 {
            ctx.at(
                &v.referenced,
                format!("{field}.panic_threshold_percent"),
                format!("{} is not a percentage (0..=100)", v.value),
            );
        } else {
            out.panic_threshold_percent = v.value;
        }
    }
    if let Some(v) = &r.health_check_interval {
        let f = format!("{field}.health_check_interval");
        if let Some(d) = ctx.duration(v, &f) {
            if d.is_zero() {
                ctx.at(
                    &v.referenced,
                    f,
                    "the health check interval must be more than 0",
                );
            } else {
                out.health_check_interval = d;
            }
        }
    }
    if let Some(v) = r.eject_after_failures {
        out.eject_after_failures = v;
    }
    out
}

/// Builds the topology, or returns every problem found.
pub(crate) fn build(raw: &RawTopology, file: &str) -> Result<Topology, Vec<Problem>> {
    let mut ctx = Ctx {
        file,
        problems: Vec::new(),
    };
    let ctx = &mut ctx;
    ctx.name(&raw.name, "name");

    let defaults = {
        let d = raw.defaults.as_ref();
        CallDefaults {
            timeout: d
                .map(|d| ctx.duration_or(&d.timeout, "defaults.timeout", DEFAULT_TIMEOUT))
                .unwrap_or(DEFAULT_TIMEOUT),
            retries: d.and_then(|d| d.retries).unwrap_or(0),
            backoff: d
                .map(|d| ctx.duration_or(&d.backoff, "defaults.backoff", DEFAULT_BACKOFF))
                .unwrap_or(DEFAULT_BACKOFF),
        }
    };

    let mut sites: Vec<CallSite> = Vec::new();
    let mut services = Vec::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    if raw.services.value.is_empty() {
        ctx.at(
            &raw.services.referenced,
            "services",
            "no services: a lab needs at least one",
        );
    }
    for (i, rs) in raw.services.value.iter().enumerate() {
        let s = &rs.value;
        let f = format!("services[{i}]");
        ctx.name(&s.name, &format!("{f}.name"));
        if let Some(prev) = seen.insert(&s.name.value, i) {
            ctx.at(
                &s.name.referenced,
                format!("{f}.name"),
                format!(
                    "duplicate service name {:?} (also services[{prev}])",
                    s.name.value
                ),
            );
        }
        let instances = match &s.instances {
            Some(n) if !(1..=MAX_INSTANCES).contains(&n.value) => {
                ctx.at(
                    &n.referenced,
                    format!("{f}.instances"),
                    format!("{} instances: use 1..={MAX_INSTANCES}", n.value),
                );
                1
            }
            Some(n) => n.value as u32,
            None => 1,
        };

        let mut endpoints = Vec::new();
        let mut seen_ep: HashMap<(String, String), usize> = HashMap::new();
        for (j, re) in s.endpoints.iter().enumerate() {
            let e = &re.value;
            let ef = format!("{f}.endpoints[{j}]");
            let method = ctx.method(&e.method, &format!("{ef}.method"));
            ctx.path(&e.route, &format!("{ef}.route"), "route");
            if let Some(prev) = seen_ep.insert((method.clone(), e.route.value.clone()), j) {
                ctx.at(
                    &e.route.referenced,
                    format!("{ef}.route"),
                    format!(
                        "duplicate endpoint {method} {} (also endpoints[{prev}])",
                        e.route.value
                    ),
                );
            }
            let latency = e
                .latency
                .as_ref()
                .map(|l| ctx.latency(l, &format!("{ef}.latency")))
                .unwrap_or(Latency::ZERO);
            let cpu = ctx.duration_or(&e.cpu, &format!("{ef}.cpu"), Duration::ZERO);
            let calls = e
                .calls
                .iter()
                .enumerate()
                .map(|(k, c)| {
                    convert_call(ctx, &defaults, i, format!("{ef}.calls[{k}]"), c, &mut sites)
                })
                .collect();
            endpoints.push(Endpoint {
                method,
                route: e.route.value.clone(),
                handler: e.handler.unwrap_or(Handler::Generic),
                latency,
                cpu,
                response_bytes: e.response_bytes.unwrap_or(DEFAULT_RESPONSE_BYTES),
                content_type: e
                    .content_type
                    .clone()
                    .unwrap_or_else(|| "application/json".to_string()),
                calls,
                parallel_calls: e.parallel.unwrap_or(false),
            });
        }

        let mut versions = BTreeMap::new();
        match &s.versions {
            Some(vs) => {
                if vs.value.is_empty() {
                    ctx.at(
                        &vs.referenced,
                        format!("{f}.versions"),
                        "no versions; e.g. `v1: {}`",
                    );
                }
                for (name, v) in &vs.value {
                    let vf = format!("{f}.versions.{name}");
                    let profile = convert_version(ctx, v, &vf);
                    for (k, r) in v.value.affected_routes.iter().enumerate() {
                        if !endpoints.iter().any(|e| e.route == r.value) {
                            ctx.at(
                                &r.referenced,
                                format!("{vf}.affected_routes[{k}]"),
                                format!("{:?} is not a route of {}", r.value, s.name.value),
                            );
                        }
                    }
                    versions.insert(name.clone(), profile);
                }
            }
            None => {
                versions.insert(
                    "v1".to_string(),
                    VersionProfile {
                        cpu_factor: 1.0,
                        error_status: 500,
                        ..VersionProfile::default()
                    },
                );
            }
        }
        let version = s
            .version
            .as_ref()
            .map(|v| v.value.clone())
            .unwrap_or_else(|| "v1".into());
        if !versions.contains_key(&version) && !versions.is_empty() {
            let known: Vec<&str> = versions.keys().map(String::as_str).collect();
            let msg = format!(
                "version {version:?} is not in `versions` ({})",
                known.join(", ")
            );
            match (&s.version, &s.versions) {
                (Some(v), _) => ctx.at(&v.referenced, format!("{f}.version"), msg),
                (None, Some(vs)) => ctx.at(&vs.referenced, format!("{f}.versions"), msg),
                (None, None) => {}
            }
        }

        let background = s.background.as_ref().map(|b| {
            let bf = format!("{f}.background");
            let every = match ctx.duration(&b.value.every, &format!("{bf}.every")) {
                Some(d) if d.is_zero() => {
                    ctx.at(
                        &b.value.every.referenced,
                        format!("{bf}.every"),
                        "must be more than 0",
                    );
                    Duration::from_secs(1)
                }
                Some(d) => d,
                None => Duration::from_secs(1),
            };
            Background {
                every,
                cpu: ctx.duration_or(&b.value.cpu, &format!("{bf}.cpu"), Duration::ZERO),
                latency: b
                    .value
                    .latency
                    .as_ref()
                    .map(|l| ctx.latency(l, &format!("{bf}.latency")))
                    .unwrap_or(Latency::ZERO),
                calls: b
                    .value
                    .calls
                    .iter()
                    .enumerate()
                    .map(|(k, c)| {
                        convert_call(ctx, &defaults, i, format!("{bf}.calls[{k}]"), c, &mut sites)
                    })
                    .collect(),
            }
        });

        services.push(Service {
            name: s.name.value.clone(),
            description: s.description.clone(),
            instances,
            version,
            versions,
            endpoints,
            background,
            runtime: convert_runtime(ctx, &s.runtime, &format!("{f}.runtime")),
        });
    }

    let index: HashMap<&str, usize> = services
        .iter()
        .enumerate()
        .rev()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    let service_list = || {
        services
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };

    let entry = index.get(raw.entry.value.as_str()).copied();
    if entry.is_none() {
        ctx.at(
            &raw.entry.referenced,
            "entry",
            format!(
                "{:?} is not a service (services: {})",
                raw.entry.value,
                service_list()
            ),
        );
    }

    // Calls: the callee exists and serves the method and path.
    let mut edges: Vec<Vec<(usize, usize)>> = vec![Vec::new(); services.len()];
    for (n, site) in sites.iter().enumerate() {
        let Some(&callee) = index.get(site.call.service.as_str()) else {
            ctx.at(
                &site.raw.service.referenced,
                format!("{}.service", site.field),
                format!(
                    "{:?} is not a service (services: {})",
                    site.call.service,
                    service_list()
                ),
            );
            continue;
        };
        edges[site.caller].push((callee, n));
        let target = &services[callee];
        if site.call.path.starts_with('/')
            && METHODS.contains(&site.call.method.as_str())
            && matching_endpoints(target, &site.call.method, &site.call.path).is_empty()
        {
            let served: Vec<String> = target
                .endpoints
                .iter()
                .map(|e| format!("{} {}", e.method, e.route))
                .collect();
            let loc = site.raw.path.referenced;
            ctx.at(
                &loc,
                format!("{}.path", site.field),
                format!(
                    "{} does not serve {} {} (it serves: {})",
                    target.name,
                    site.call.method,
                    site.call.path,
                    if served.is_empty() {
                        "nothing".to_string()
                    } else {
                        served.join(", ")
                    }
                ),
            );
        }
    }

    // Dependency cycles between services.
    let mut state = vec![0u8; services.len()];
    let mut stack: Vec<usize> = Vec::new();
    for start in 0..services.len() {
        find_cycles(
            start, &edges, &mut state, &mut stack, &services, &sites, ctx,
        );
    }

    // Journeys.
    let mut journeys = Vec::new();
    match &raw.journeys {
        Some(js) if !js.value.is_empty() => {
            let mut seen_j: HashMap<&str, usize> = HashMap::new();
            for (i, rj) in js.value.iter().enumerate() {
                let j = &rj.value;
                let f = format!("journeys[{i}]");
                ctx.name(&j.name, &format!("{f}.name"));
                if let Some(prev) = seen_j.insert(&j.name.value, i) {
                    ctx.at(
                        &j.name.referenced,
                        format!("{f}.name"),
                        format!(
                            "duplicate journey name {:?} (also journeys[{prev}])",
                            j.name.value
                        ),
                    );
                }
                let weight = match &j.weight {
                    Some(w) if !(w.value > 0.0 && w.value.is_finite()) => {
                        ctx.at(
                            &w.referenced,
                            format!("{f}.weight"),
                            format!("weight {} must be more than 0", w.value),
                        );
                        1.0
                    }
                    Some(w) => w.value,
                    None => 1.0,
                };
                if j.steps.value.is_empty() {
                    ctx.at(
                        &j.steps.referenced,
                        format!("{f}.steps"),
                        "a journey needs at least one step",
                    );
                }
                let mut steps = Vec::new();
                for (k, rst) in j.steps.value.iter().enumerate() {
                    let st = &rst.value;
                    let sf = format!("{f}.steps[{k}]");
                    let method = ctx.method(&st.method, &format!("{sf}.method"));
                    ctx.path(&st.path, &format!("{sf}.path"), "path");
                    let checkable =
                        st.path.value.starts_with('/') && METHODS.contains(&method.as_str());
                    if let (Some(e), true) = (entry, checkable) {
                        let svc = &services[e];
                        let matched = matching_endpoints(svc, &method, &st.path.value);
                        if matched.is_empty() {
                            ctx.at(
                                &st.path.referenced,
                                format!("{sf}.path"),
                                format!(
                                    "the entry service {} does not serve {method} {}",
                                    svc.name, st.path.value
                                ),
                            );
                        }
                        for name in placeholders::names(&st.path.value) {
                            let is_route_param = matched.iter().any(|e| {
                                e.route.split('/').any(|seg| seg == format!("{{{name}}}"))
                            });
                            if !raw.params.contains_key(name) && !is_route_param {
                                ctx.at(
                                    &st.path.referenced,
                                    format!("{sf}.path"),
                                    format!(
                                        "placeholder {{{name}}} has no values: add `params: {{{name}: [...]}}`"
                                    ),
                                );
                            }
                        }
                    }
                    let think_time = ctx.duration_or(
                        &st.think_time,
                        &format!("{sf}.think_time"),
                        Duration::ZERO,
                    );
                    for (n, code) in st.expect_status.iter().enumerate() {
                        if !(100..=599).contains(code) {
                            ctx.at(
                                &rst.referenced,
                                format!("{sf}.expect_status[{n}]"),
                                format!("{code} is not an HTTP status"),
                            );
                        }
                    }
                    steps.push(Step {
                        method,
                        path: st.path.value.clone(),
                        body: st.body.clone(),
                        content_type: st.content_type.clone(),
                        think_time,
                        expect_status: st.expect_status.clone(),
                    });
                }
                journeys.push(Journey {
                    name: j.name.value.clone(),
                    weight,
                    steps,
                });
            }
        }
        Some(js) => ctx.at(
            &js.referenced,
            "journeys",
            "no journeys: add at least one so the lab gets user traffic",
        ),
        None => ctx.at(
            &raw.name.referenced,
            "journeys",
            "no journeys: add a `journeys:` list so the lab gets user traffic",
        ),
    }

    if !ctx.problems.is_empty() {
        return Err(std::mem::take(&mut ctx.problems));
    }
    Ok(Topology {
        name: raw.name.value.clone(),
        description: raw.description.clone(),
        entry: raw.entry.value.clone(),
        services,
        journeys,
        params: raw.params.clone(),
    })
}

fn find_cycles(
    node: usize,
    edges: &[Vec<(usize, usize)>],
    state: &mut [u8],
    stack: &mut Vec<usize>,
    services: &[Service],
    sites: &[CallSite],
    ctx: &mut Ctx,
) {
    if state[node] != 0 {
        return;
    }
    state[node] = 1;
    stack.push(node);
    for &(callee, site) in &edges[node] {
        match state[callee] {
            0 => find_cycles(callee, edges, state, stack, services, sites, ctx),
            1 => {
                let from = stack.iter().position(|&s| s == callee).unwrap_or(0);
                let mut names: Vec<&str> = stack[from..]
                    .iter()
                    .map(|&s| services[s].name.as_str())
                    .collect();
                names.push(services[callee].name.as_str());
                let s = &sites[site];
                ctx.at(
                    &s.raw.service.referenced,
                    format!("{}.service", s.field),
                    format!("dependency cycle: {}", names.join(" -> ")),
                );
            }
            _ => {}
        }
    }
    stack.pop();
    state[node] = 2;
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
