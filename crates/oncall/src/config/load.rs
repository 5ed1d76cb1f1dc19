//! `oncall.yaml` as written (with positions) and its validation into
//! [`Config`]; every mistake is reported with file:line:column and field.

use std::collections::BTreeSet;
use std::path::Path;

use alerting::rules::file::{parse_duration, yaml_error};
use alerting::rules::{Problem, RuleFileError};
use chrono::{NaiveDateTime, NaiveTime, Weekday};
use chrono_tz::Tz;
use serde::Deserialize;
use serde_saphyr::Spanned as S;

use super::model::*;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    time_zone: Option<S<String>>,
    people: S<Vec<S<RawPerson>>>,
    #[serde(default)]
    schedules: Vec<S<RawSchedule>>,
    #[serde(default)]
    shadows: Vec<S<RawShadow>>,
    #[serde(default)]
    escalation_policies: Vec<S<RawPolicy>>,
    #[serde(default)]
    pager: Option<S<RawPager>>,
    #[serde(default)]
    tickets: Option<RawTickets>,
    #[serde(default)]
    smtp: Option<RawSmtp>,
    #[serde(default)]
    working_hours: Option<S<RawRestriction>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPerson {
    handle: S<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    contact: RawContact,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawContact {
    #[serde(default)]
    webhook: Option<S<String>>,
    #[serde(default)]
    slack: Option<S<String>>,
    #[serde(default)]
    email: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchedule {
    name: S<String>,
    #[serde(default)]
    time_zone: Option<S<String>>,
    layers: S<Vec<S<RawLayer>>>,
    #[serde(default)]
    overrides: Vec<S<RawOverride>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLayer {
    #[serde(default)]
    name: Option<String>,
    role: S<String>,
    people: S<Vec<S<String>>>,
    start: S<String>,
    rotation: S<String>,
    #[serde(default)]
    restrictions: Vec<S<RawRestriction>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRestriction {
    #[serde(default)]
    days: Option<S<Vec<S<String>>>>,
    from: S<String>,
    to: S<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOverride {
    role: S<String>,
    person: S<String>,
    from: S<String>,
    to: S<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawShadow {
    apprentice: S<String>,
    mentor: S<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    name: S<String>,
    #[serde(default)]
    repeat: u32,
    steps: S<Vec<S<RawStep>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    targets: S<Vec<S<RawTarget>>>,
    escalate_after: S<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    #[serde(default)]
    schedule: Option<S<String>>,
    #[serde(default)]
    role: Option<S<String>>,
    #[serde(default)]
    person: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPager {
    escalation_policy: S<String>,
    #[serde(default = "yes")]
    auto_resolve: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTickets {
    #[serde(default)]
    assign_to: Option<S<RawTarget>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSmtp {
    smarthost: S<String>,
    from: S<String>,
}

/// Longest rotation and window we accept, and the shortest rotation.
const MIN_ROTATION: chrono::Duration = chrono::Duration::hours(1);
const MAX_ROTATION: chrono::Duration = chrono::Duration::days(366);

struct Check {
    file: String,
    problems: Vec<Problem>,
}

impl Check {
    fn at<T>(&mut self, s: &S<T>, field: &str, message: impl Into<String>) {
        self.problems
            .push(Problem::at(&self.file, s, field, message));
    }

    fn tz(&mut self, s: &S<String>, field: &str) -> Option<Tz> {
        match s.value.parse::<Tz>() {
            Ok(tz) => Some(tz),
            Err(_) => {
                self.at(
                    s,
                    field,
                    format!(
                        "unknown time zone {:?} (use an IANA name such as Europe/Berlin or UTC)",
                        s.value
                    ),
                );
                None
            }
        }
    }

    fn role(&mut self, s: &S<String>, field: &str) -> Role {
        Role::parse(&s.value).unwrap_or_else(|| {
            self.at(
                s,
                field,
                format!("unknown role {:?}: primary or secondary", s.value),
            );
            Role::Primary
        })
    }

    fn person(&mut self, s: &S<String>, field: &str, people: &BTreeSet<String>) {
        if !people.contains(&s.value) {
            self.at(s, field, format!("no person with handle {:?}", s.value));
        }
    }

    fn local(&mut self, s: &S<String>, field: &str) -> Option<NaiveDateTime> {
        let v = s.value.trim();
        let parsed = [
            "%Y-%m-%d %H:%M",
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d %H:%M:%S",
            "%Y-%m-%dT%H:%M:%S",
        ]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(v, f).ok())
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        });
        if parsed.is_none() {
            self.at(
                s,
                field,
                format!(
                    "{v:?} is not a local date and time (write 2026-11-02 09:00, in the schedule's time zone)"
                ),
            );
        }
        parsed
    }

    fn time(&mut self, s: &S<String>, field: &str) -> NaiveTime {
        let v = s.value.trim();
        if v == "24:00" {
            return NaiveTime::MIN;
        }
        NaiveTime::parse_from_str(v, "%H:%M").unwrap_or_else(|_| {
            self.at(s, field, format!("{v:?} is not a time of day (HH:MM)"));
            NaiveTime::MIN
        })
    }

    fn restriction(&mut self, r: &S<RawRestriction>, field: &str) -> Restriction {
        let days = match &r.value.days {
            None => ALL_DAYS.to_vec(),
            Some(list) => {
                if list.value.is_empty() {
                    self.at(list, &format!("{field}.days"), "names no day");
                }
                list.value
                    .iter()
                    .enumerate()
                    .filter_map(|(i, d)| match weekday(&d.value) {
                        Some(w) => Some(w),
                        None => {
                            self.at(
                                d,
                                &format!("{field}.days[{i}]"),
                                format!("{:?} is not a day (mon, tue, … sun)", d.value),
                            );
                            None
                        }
                    })
                    .collect()
            }
        };
        let from = self.time(&r.value.from, &format!("{field}.from"));
        let to = self.time(&r.value.to, &format!("{field}.to"));
        if from == to && r.value.from.value.trim() != "00:00" {
            self.at(r, field, "from and to are equal: an empty window");
        }
        Restriction { days, from, to }
    }

    fn target(
        &mut self,
        t: &S<RawTarget>,
        field: &str,
        people: &BTreeSet<String>,
        schedules: &BTreeSet<String>,
    ) -> Option<Target> {
        match (&t.value.schedule, &t.value.role, &t.value.person) {
            (Some(s), role, None) => {
                if !schedules.contains(&s.value) {
                    self.at(
                        s,
                        &format!("{field}.schedule"),
                        format!("no schedule named {:?}", s.value),
                    );
                }
                let role = match role {
                    Some(r) => self.role(r, &format!("{field}.role")),
                    None => Role::Primary,
                };
                Some(Target::OnCall {
                    schedule: s.value.clone(),
                    role,
                })
            }
            (None, None, Some(p)) => {
                self.person(p, &format!("{field}.person"), people);
                Some(Target::Person {
                    person: p.value.clone(),
                })
            }
            _ => {
                self.at(t, field, "a target is either {schedule, role} or {person}");
                None
            }
        }
    }
}

const ALL_DAYS: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

fn weekday(s: &str) -> Option<Weekday> {
    let s = s.trim().to_ascii_lowercase();
    ALL_DAYS
        .iter()
        .copied()
        .find(|d| s.len() >= 3 && d.to_string().to_ascii_lowercase().starts_with(&s[..3]))
}

/// Parses and validates on-call YAML; `file` names it in problems.
pub fn parse(text: &str, file: &str) -> Result<Config, RuleFileError> {
    let raw: Raw = serde_saphyr::from_str(text).map_err(|e| yaml_error(file, e))?;
    let mut c = Check {
        file: file.to_string(),
        problems: Vec::new(),
    };
    let default_tz = match &raw.time_zone {
        Some(s) => c.tz(s, "time_zone").unwrap_or(Tz::UTC),
        None => Tz::UTC,
    };

    let mut handles = BTreeSet::new();
    let mut people = Vec::new();
    if raw.people.value.is_empty() {
        c.at(&raw.people, "people", "names nobody: on call needs people");
    }
    for (i, p) in raw.people.value.iter().enumerate() {
        let f = format!("people[{i}]");
        let h = &p.value.handle;
        if h.value.is_empty()
            || !h
                .value
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch))
        {
            c.at(
                h,
                &format!("{f}.handle"),
                "a handle is letters, digits, '-', '_' or '.'",
            );
        }
        if !handles.insert(h.value.clone()) {
            c.at(
                h,
                &format!("{f}.handle"),
                format!("{:?} appears twice", h.value),
            );
        }
        let mut contacts = Vec::new();
        let ct = &p.value.contact;
        for (kind, v) in [("webhook", &ct.webhook), ("slack", &ct.slack)] {
            if let Some(u) = v {
                if !(u.value.starts_with("http://") || u.value.starts_with("https://")) {
                    c.at(
                        u,
                        &format!("{f}.contact.{kind}"),
                        "must be an http:// or https:// URL",
                    );
                }
                contacts.push(if kind == "webhook" {
                    Contact::Webhook(u.value.clone())
                } else {
                    Contact::Slack(u.value.clone())
                });
            }
        }
        if let Some(e) = &ct.email {
            if !e.value.contains('@') {
                c.at(e, &format!("{f}.contact.email"), "is not an e-mail address");
            }
            if raw.smtp.is_none() {
                c.at(
                    e,
                    &format!("{f}.contact.email"),
                    "e-mail needs an smtp section (smarthost, from)",
                );
            }
            contacts.push(Contact::Email(e.value.clone()));
        }
        people.push(Person {
            handle: h.value.clone(),
            name: p.value.name.clone().unwrap_or_else(|| h.value.clone()),
            contacts,
        });
    }

    let schedule_names: BTreeSet<String> = raw
        .schedules
        .iter()
        .map(|s| s.value.name.value.clone())
        .collect();
    let mut schedules = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, s) in raw.schedules.iter().enumerate() {
        let f = format!("schedules[{i}]");
        let s = &s.value;
        if !seen.insert(s.name.value.clone()) {
            c.at(
                &s.name,
                &format!("{f}.name"),
                format!("{:?} appears twice", s.name.value),
            );
        }
        let tz = match &s.time_zone {
            Some(t) => c.tz(t, &format!("{f}.time_zone")).unwrap_or(default_tz),
            None => default_tz,
        };
        if s.layers.value.is_empty() {
            c.at(
                &s.layers,
                &format!("{f}.layers"),
                "a schedule needs at least one layer",
            );
        }
        let mut layers = Vec::new();
        for (j, l) in s.layers.value.iter().enumerate() {
            let lf = format!("{f}.layers[{j}]");
            let l = &l.value;
            let role = c.role(&l.role, &format!("{lf}.role"));
            if l.people.value.is_empty() {
                c.at(
                    &l.people,
                    &format!("{lf}.people"),
                    "a rotation needs at least one person",
                );
            }
            for (k, p) in l.people.value.iter().enumerate() {
                c.person(p, &format!("{lf}.people[{k}]"), &handles);
            }
            let start = c.local(&l.start, &format!("{lf}.start"));
            let length = match parse_duration(&l.rotation.value) {
                Ok(d) => match chrono::Duration::from_std(d) {
                    Ok(d) if (MIN_ROTATION..=MAX_ROTATION).contains(&d) => Some(d),
                    _ => {
                        c.at(
                            &l.rotation,
                            &format!("{lf}.rotation"),
                            "a rotation lasts from 1h to 366d",
                        );
                        None
                    }
                },
                Err(e) => {
                    c.at(&l.rotation, &format!("{lf}.rotation"), e);
                    None
                }
            };
            let restrictions = l
                .restrictions
                .iter()
                .enumerate()
                .map(|(k, r)| c.restriction(r, &format!("{lf}.restrictions[{k}]")))
                .collect();
            if let (Some(start), Some(length)) = (start, length) {
                layers.push(Layer {
                    name: l
                        .name
                        .clone()
                        .unwrap_or_else(|| format!("{} {}", role.as_str(), j + 1)),
                    role,
                    people: l.people.value.iter().map(|p| p.value.clone()).collect(),
                    start,
                    length,
                    restrictions,
                });
            }
        }
        let mut overrides = Vec::new();
        for (j, o) in s.overrides.iter().enumerate() {
            let of = format!("{f}.overrides[{j}]");
            let o = &o.value;
            let role = c.role(&o.role, &format!("{of}.role"));
            c.person(&o.person, &format!("{of}.person"), &handles);
            let from = c.local(&o.from, &format!("{of}.from"));
            let to = c.local(&o.to, &format!("{of}.to"));
            if let (Some(from), Some(to)) = (from, to) {
                if to <= from {
                    c.at(&o.to, &format!("{of}.to"), "ends before it starts");
                    continue;
                }
                overrides.push(Override {
                    role,
                    person: o.person.value.clone(),
                    from: crate::schedule::localize(tz, from),
                    to: crate::schedule::localize(tz, to),
                });
            }
        }
        schedules.push(Schedule {
            name: s.name.value.clone(),
            tz,
            layers,
            overrides,
        });
    }

    let mut shadows = Vec::new();
    for (i, s) in raw.shadows.iter().enumerate() {
        let f = format!("shadows[{i}]");
        c.person(&s.value.apprentice, &format!("{f}.apprentice"), &handles);
        c.person(&s.value.mentor, &format!("{f}.mentor"), &handles);
        if s.value.apprentice.value == s.value.mentor.value {
            c.at(
                &s.value.mentor,
                &format!("{f}.mentor"),
                "a person cannot shadow themself",
            );
        }
        shadows.push(Shadow {
            apprentice: s.value.apprentice.value.clone(),
            mentor: s.value.mentor.value.clone(),
        });
    }

    let mut policies = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, p) in raw.escalation_policies.iter().enumerate() {
        let f = format!("escalation_policies[{i}]");
        let p = &p.value;
        if !seen.insert(p.name.value.clone()) {
            c.at(
                &p.name,
                &format!("{f}.name"),
                format!("{:?} appears twice", p.name.value),
            );
        }
        if p.repeat > 9 {
            c.at(&p.name, &format!("{f}.repeat"), "repeat at most 9 times");
        }
        if p.steps.value.is_empty() {
            c.at(
                &p.steps,
                &format!("{f}.steps"),
                "a policy needs at least one step",
            );
        }
        let mut steps = Vec::new();
        for (j, st) in p.steps.value.iter().enumerate() {
            let sf = format!("{f}.steps[{j}]");
            let targets: Vec<Target> = st
                .value
                .targets
                .value
                .iter()
                .enumerate()
                .filter_map(|(k, t)| {
                    c.target(t, &format!("{sf}.targets[{k}]"), &handles, &schedule_names)
                })
                .collect();
            if st.value.targets.value.is_empty() {
                c.at(
                    &st.value.targets,
                    &format!("{sf}.targets"),
                    "a step needs at least one target",
                );
            }
            let after = match parse_duration(&st.value.escalate_after.value) {
                Ok(d) if d >= std::time::Duration::from_secs(1) => d,
                Ok(_) => {
                    c.at(
                        &st.value.escalate_after,
                        &format!("{sf}.escalate_after"),
                        "must be at least 1s",
                    );
                    std::time::Duration::from_secs(60)
                }
                Err(e) => {
                    c.at(&st.value.escalate_after, &format!("{sf}.escalate_after"), e);
                    std::time::Duration::from_secs(60)
                }
            };
            steps.push(Step {
                targets,
                escalate_after: after,
            });
        }
        policies.push(Policy {
            name: p.name.value.clone(),
            repeat: p.repeat,
            steps,
        });
    }

    let pager = match &raw.pager {
        Some(p) => {
            if !seen.contains(&p.value.escalation_policy.value) {
                c.at(
                    &p.value.escalation_policy,
                    "pager.escalation_policy",
                    format!(
                        "no escalation policy named {:?}",
                        p.value.escalation_policy.value
                    ),
                );
            }
            PagerSettings {
                policy: p.value.escalation_policy.value.clone(),
                auto_resolve: p.value.auto_resolve,
            }
        }
        None => match policies.first() {
            Some(p) => PagerSettings {
                policy: p.name.clone(),
                auto_resolve: true,
            },
            None => {
                c.problems.push(Problem {
                    file: file.into(),
                    line: 1,
                    column: 1,
                    field: "escalation_policies".into(),
                    message: "at least one escalation policy is needed to page anyone".into(),
                });
                PagerSettings {
                    policy: String::new(),
                    auto_resolve: true,
                }
            }
        },
    };
    let tickets = TicketSettings {
        assign_to: raw
            .tickets
            .as_ref()
            .and_then(|t| t.assign_to.as_ref())
            .and_then(|t| c.target(t, "tickets.assign_to", &handles, &schedule_names)),
    };
    let smtp = raw.smtp.as_ref().map(|s| {
        if !s.smarthost.value.contains(':') {
            c.at(&s.smarthost, "smtp.smarthost", "must be host:port");
        }
        Smtp {
            smarthost: s.smarthost.value.clone(),
            from: s.from.value.clone(),
        }
    });
    let working_hours = match &raw.working_hours {
        Some(w) => c.restriction(w, "working_hours"),
        None => Restriction {
            days: ALL_DAYS[..5].to_vec(),
            from: NaiveTime::from_hms_opt(9, 0, 0).unwrap_or(NaiveTime::MIN),
            to: NaiveTime::from_hms_opt(17, 0, 0).unwrap_or(NaiveTime::MIN),
        },
    };
    if !c.problems.is_empty() {
        c.problems.sort_by_key(|p| (p.line, p.column));
        return Err(RuleFileError {
            problems: c.problems,
        });
    }
    Ok(Config {
        people,
        schedules,
        shadows,
        policies,
        pager,
        tickets,
        smtp,
        working_hours,
        working_hours_tz: default_tz,
    })
}

/// Reads and validates an on-call file.
pub fn load(path: &Path) -> Result<Config, RuleFileError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| RuleFileError {
        problems: vec![Problem {
            file: file.clone(),
            line: 0,
            column: 0,
            field: String::new(),
            message: format!("cannot read: {e}"),
        }],
    })?;
    parse(&text, &file)
}
