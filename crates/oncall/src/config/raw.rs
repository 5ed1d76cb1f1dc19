//! `oncall.yaml` as written, with positions; `load` validates it into
//! [`Config`](super::Config).

use serde::Deserialize;
use serde_saphyr::Spanned as S;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Raw {
    #[serde(default)]
    pub time_zone: Option<S<String>>,
    pub people: S<Vec<S<RawPerson>>>,
    #[serde(default)]
    pub schedules: Vec<S<RawSchedule>>,
    #[serde(default)]
    pub shadows: Vec<S<RawShadow>>,
    #[serde(default)]
    pub escalation_policies: Vec<S<RawPolicy>>,
    #[serde(default)]
    pub pager: Option<S<RawPager>>,
    #[serde(default)]
    pub tickets: Option<RawTickets>,
    #[serde(default)]
    pub smtp: Option<RawSmtp>,
    #[serde(default)]
    pub working_hours: Option<S<RawRestriction>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPerson {
    pub handle: S<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub contact: RawContact,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawContact {
    #[serde(default)]
    pub webhook: Option<S<String>>,
    #[serde(default)]
    pub slack: Option<S<String>>,
    #[serde(default)]
    pub email: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSchedule {
    pub name: S<String>,
    #[serde(default)]
    pub time_zone: Option<S<String>>,
    pub layers: S<Vec<S<RawLayer>>>,
    #[serde(default)]
    pub overrides: Vec<S<RawOverride>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLayer {
    #[serde(default)]
    pub name: Option<String>,
    pub role: S<String>,
    pub people: S<Vec<S<String>>>,
    pub start: S<String>,
    pub rotation: S<String>,
    #[serde(default)]
    pub restrictions: Vec<S<RawRestriction>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRestriction {
    #[serde(default)]
    pub days: Option<S<Vec<S<String>>>>,
    pub from: S<String>,
    pub to: S<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOverride {
    pub role: S<String>,
    pub person: S<String>,
    pub from: S<String>,
    pub to: S<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawShadow {
    pub apprentice: S<String>,
    pub mentor: S<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPolicy {
    pub name: S<String>,
    #[serde(default)]
    pub repeat: u32,
    pub steps: S<Vec<S<RawStep>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStep {
    pub targets: S<Vec<S<RawTarget>>>,
    pub escalate_after: S<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTarget {
    #[serde(default)]
    pub schedule: Option<S<String>>,
    #[serde(default)]
    pub role: Option<S<String>>,
    #[serde(default)]
    pub person: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPager {
    pub escalation_policy: S<String>,
    #[serde(default = "yes")]
    pub auto_resolve: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTickets {
    #[serde(default)]
    pub assign_to: Option<S<RawTarget>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSmtp {
    pub smarthost: S<String>,
    pub from: S<String>,
}
