//! The lab a scenario runs on: its topology (a bundled one), and what the
//! scenario names in it — services, versions, runtime config keys, scale —
//! checked as the lab itself will check them. Setup steps are here too:
//! they are nothing but lab operations.

use std::collections::BTreeMap;

use lab::runtime::LiveConfig;
use lab::topology::{Service, Topology};
use serde_saphyr::Spanned as S;

use super::Ctx;
use crate::scenario::model::SetupStep;
use crate::scenario::raw::{Pairs, RawSetup, Text};

/// The most instances the supervisor scales a service to.
pub const MAX_INSTANCES: i64 = 32;

/// The bundled topology `name`; anything else is a problem (a drill is
/// written for a lab everyone has).
pub(super) fn resolve(c: &mut Ctx, name: &S<String>) -> Option<Topology> {
    let Some(text) = lab::topology::bundled_source(&name.value) else {
        c.at(
            name,
            "topology",
            format!(
                "unknown topology {:?}: a drill runs on a bundled lab ({})",
                name.value,
                lab::topology::bundled_names().join(", ")
            ),
        );
        return None;
    };
    match lab::topology::load_str(text, &format!("topologies/{}.yaml", name.value)) {
        Ok(t) => Some(t),
        Err(e) => {
            c.at(
                name,
                "topology",
                format!("cannot load the bundled topology: {e}"),
            );
            None
        }
    }
}

impl Ctx {
    /// The service `name` of the lab; `None` (and a problem) when the lab
    /// has none, or when the lab is unknown (already reported).
    pub(super) fn service(&mut self, name: &S<String>, field: &str) -> Option<Service> {
        let topo = self.topo.as_ref()?;
        match topo.service(&name.value) {
            Some(s) => Some(s.clone()),
            None => {
                let message = format!(
                    "the {} lab has no service {:?} (services: {})",
                    topo.name,
                    name.value,
                    topo.services
                        .iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                self.at(name, field, message);
                None
            }
        }
    }

    /// `version` is one of the service's versions.
    pub(super) fn version(&mut self, svc: &Service, version: &S<String>, field: &str) {
        if !svc.versions.contains_key(&version.value) {
            self.at(
                version,
                field,
                format!(
                    "{} has no version {:?} (versions: {})",
                    svc.name,
                    version.value,
                    svc.versions.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            );
        }
    }

    /// Runtime config pairs for `service`, each checked by the instances'
    /// own config (keys, the services named in `timeout.<service>` and
    /// `retries.<service>`, values).
    pub(super) fn config(
        &mut self,
        service: &S<String>,
        set: &S<Pairs<Text>>,
        field: &str,
    ) -> BTreeMap<String, String> {
        let svc = self.service(service, &format!("{field}.service"));
        if set.value.0.is_empty() {
            self.at(set, &format!("{field}.set"), "set names no config key");
        }
        let mut out = BTreeMap::new();
        for (key, value) in &set.value.0 {
            if let Some(svc) = &svc
                && let Err(e) = LiveConfig::new(&svc.runtime).set(svc, &key.value, &value.value.0)
            {
                self.at(key, &format!("{field}.set.{}", key.value), e);
            }
            out.insert(key.value.clone(), value.value.0.clone());
        }
        out
    }
}

/// One setup step; `None` when it cannot be built (problems recorded).
pub(super) fn setup(c: &mut Ctx, s: &S<RawSetup>, field: &str) -> Option<SetupStep> {
    let r = &s.value;
    let given = [
        ("rps", r.rps.is_some()),
        ("service", r.service.is_some()),
        ("set", r.set.is_some()),
        ("instances", r.instances.is_some()),
        ("version", r.version.is_some()),
    ];
    let takes: &[&str] = match r.op.value.as_str() {
        "load" => &["rps"],
        "config" => &["service", "set"],
        "scale" => &["service", "instances"],
        "deploy" => &["service", "version"],
        other => {
            c.at(
                &r.op,
                &format!("{field}.op"),
                format!("unknown op {other:?}: load, config, scale or deploy"),
            );
            return None;
        }
    };
    let op = r.op.value.as_str();
    let extra: Vec<&str> = given
        .iter()
        .filter(|(n, on)| *on && !takes.contains(n))
        .map(|(n, _)| *n)
        .collect();
    let missing: Vec<&str> = given
        .iter()
        .filter(|(n, on)| !*on && takes.contains(n))
        .map(|(n, _)| *n)
        .collect();
    if !extra.is_empty() {
        c.at(
            s,
            field,
            format!(
                "op {op} takes {}; {} does not go with it",
                takes.join(" and "),
                extra.join(" and ")
            ),
        );
    }
    if !missing.is_empty() {
        c.at(s, field, format!("op {op} needs {}", missing.join(" and ")));
    }
    if !extra.is_empty() || !missing.is_empty() {
        return None;
    }
    match (op, &r.rps, &r.service, &r.set, &r.instances, &r.version) {
        ("load", Some(rps), ..) => Some(SetupStep::Load {
            rps: c.rps(rps, &format!("{field}.rps")),
        }),
        ("config", _, Some(service), Some(set), ..) => Some(SetupStep::Config {
            service: service.value.clone(),
            set: c.config(service, set, field),
        }),
        ("scale", _, Some(service), _, Some(n), _) => {
            c.service(service, &format!("{field}.service"));
            if !(1..=MAX_INSTANCES).contains(&n.value) {
                c.at(
                    n,
                    &format!("{field}.instances"),
                    format!(
                        "{} is out of range: a service runs 1 to {MAX_INSTANCES} instances",
                        n.value
                    ),
                );
            }
            Some(SetupStep::Scale {
                service: service.value.clone(),
                instances: n.value.clamp(1, MAX_INSTANCES) as u32,
            })
        }
        ("deploy", _, Some(service), _, _, Some(version)) => {
            if let Some(svc) = c.service(service, &format!("{field}.service")) {
                c.version(&svc, version, &format!("{field}.version"));
            }
            Some(SetupStep::Deploy {
                service: service.value.clone(),
                version: version.value.clone(),
            })
        }
        _ => None,
    }
}

impl Ctx {
    /// A load generator rate: journeys per second, above 0.
    pub(super) fn rps(&mut self, rps: &S<f64>, field: &str) -> f64 {
        if !rps.value.is_finite() || rps.value <= 0.0 {
            self.at(rps, field, "rps is journeys per second, above 0");
        }
        rps.value
    }
}
