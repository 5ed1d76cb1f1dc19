//! One service: instances, endpoints and their calls, versions, runtime
//! settings, background work.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use super::MAX_INSTANCES;
use super::ctx::Ctx;
use crate::topology::model::*;
use crate::topology::raw::*;

const DEFAULT_RESPONSE_BYTES: usize = 512;

/// A call with where it was written, for the cross-service checks.
pub(super) struct CallSite<'r> {
    pub caller: usize,
    pub field: String,
    pub raw: &'r RawCall,
    pub call: Call,
}

pub(super) struct CallDefaults {
    pub timeout: Duration,
    pub retries: u32,
    pub backoff: Duration,
}

/// `services[i]`.
pub(super) fn service<'r>(
    ctx: &mut Ctx,
    i: usize,
    s: &'r RawService,
    defaults: &CallDefaults,
    sites: &mut Vec<CallSite<'r>>,
) -> Service {
    let f = format!("services[{i}]");
    ctx.name(&s.name, &format!("{f}.name"));
    let endpoints = s
        .endpoints
        .iter()
        .enumerate()
        .map(|(j, e)| endpoint(ctx, i, &format!("{f}.endpoints[{j}]"), e, defaults, sites))
        .collect::<Vec<_>>();
    check_unique_endpoints(ctx, &f, s, &endpoints);
    let versions = versions(ctx, &f, s, &endpoints);
    let version = version(ctx, &f, s, &versions);
    let background = s
        .background
        .as_ref()
        .map(|b| background(ctx, i, &format!("{f}.background"), b, defaults, sites));
    Service {
        name: s.name.value.clone(),
        description: s.description.clone(),
        instances: instances(ctx, &f, s),
        version,
        versions,
        endpoints,
        background,
        runtime: runtime(ctx, &s.runtime, &format!("{f}.runtime")),
    }
}

/// `instances`: 1..=MAX_INSTANCES.
fn instances(ctx: &mut Ctx, f: &str, s: &RawService) -> u32 {
    match &s.instances {
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
    }
}

/// `endpoints[j]`.
fn endpoint<'r>(
    ctx: &mut Ctx,
    caller: usize,
    ef: &str,
    re: &'r S<RawEndpoint>,
    defaults: &CallDefaults,
    sites: &mut Vec<CallSite<'r>>,
) -> Endpoint {
    let e = &re.value;
    let method = ctx.method(&e.method, &format!("{ef}.method"));
    ctx.path(&e.route, &format!("{ef}.route"), "route");
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
        .map(|(k, c)| call(ctx, defaults, caller, format!("{ef}.calls[{k}]"), c, sites))
        .collect();
    Endpoint {
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
    }
}

/// No two endpoints with the same method and route.
fn check_unique_endpoints(ctx: &mut Ctx, f: &str, s: &RawService, endpoints: &[Endpoint]) {
    let mut seen: HashMap<(&str, &str), usize> = HashMap::new();
    for (j, (e, re)) in endpoints.iter().zip(&s.endpoints).enumerate() {
        if let Some(prev) = seen.insert((&e.method, &e.route), j) {
            ctx.at(
                &re.value.route.referenced,
                format!("{f}.endpoints[{j}].route"),
                format!(
                    "duplicate endpoint {} {} (also endpoints[{prev}])",
                    e.method, e.route
                ),
            );
        }
    }
}

/// One call of an endpoint or of background work.
fn call<'r>(
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

/// `versions`: names and profiles (default `{v1: {}}`).
fn versions(
    ctx: &mut Ctx,
    f: &str,
    s: &RawService,
    endpoints: &[Endpoint],
) -> BTreeMap<String, VersionProfile> {
    let Some(vs) = &s.versions else {
        let v1 = VersionProfile {
            cpu_factor: 1.0,
            error_status: 500,
            ..VersionProfile::default()
        };
        return BTreeMap::from([("v1".to_string(), v1)]);
    };
    if vs.value.is_empty() {
        ctx.at(
            &vs.referenced,
            format!("{f}.versions"),
            "no versions; e.g. `v1: {}`",
        );
    }
    let mut versions = BTreeMap::new();
    for (name, v) in &vs.value {
        let vf = format!("{f}.versions.{name}");
        ctx.name_at(name, &v.referenced, &vf);
        let profile = version_profile(ctx, v, &vf);
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
    versions
}

/// `version`: the one running, which must be in `versions`.
fn version(
    ctx: &mut Ctx,
    f: &str,
    s: &RawService,
    versions: &BTreeMap<String, VersionProfile>,
) -> String {
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
    version
}

/// `versions.<name>`: how the version behaves.
fn version_profile(ctx: &mut Ctx, v: &S<RawVersion>, field: &str) -> VersionProfile {
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

/// `runtime`: the service's runtime settings.
fn runtime(ctx: &mut Ctx, r: &Option<RawRuntime>, field: &str) -> RuntimeDefaults {
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

/// `background`: work the service does on its own, every so often.
fn background<'r>(
    ctx: &mut Ctx,
    caller: usize,
    bf: &str,
    b: &'r S<RawBackground>,
    defaults: &CallDefaults,
    sites: &mut Vec<CallSite<'r>>,
) -> Background {
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
            .map(|(k, c)| call(ctx, defaults, caller, format!("{bf}.calls[{k}]"), c, sites))
            .collect(),
    }
}
