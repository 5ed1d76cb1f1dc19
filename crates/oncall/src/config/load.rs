//! Validation of `oncall.yaml` into [`Config`], one function per section;
//! every mistake is reported with file:line:column and field.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use chrono::NaiveTime;
use chrono_tz::Tz;
use diag::{Problem, Problems, Report};
use serde_saphyr::Spanned as S;

use super::check::{ALL_DAYS, Check};
use super::model::*;
use super::raw::*;

/// Every problem found in an on-call file.
pub type ConfigError = Problems;

/// Longest rotation and window we accept, and the shortest rotation.
const MIN_ROTATION: chrono::Duration = chrono::Duration::hours(1);
const MAX_ROTATION: chrono::Duration = chrono::Duration::days(366);
const DEFAULT_ESCALATE_AFTER: Duration = Duration::from_secs(60);

/// Parses and validates on-call YAML; `file` names it in problems.
pub fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
    let raw: Raw = diag::yaml::from_str(text, file)?;
    let mut c = Check {
        report: Report::new(file),
    };
    let default_tz = match &raw.time_zone {
        Some(s) => c.tz(s, "time_zone").unwrap_or(Tz::UTC),
        None => Tz::UTC,
    };
    let people = people(&mut c, &raw);
    let handles: BTreeSet<String> = people.iter().map(|p| p.handle.clone()).collect();
    let schedule_names: BTreeSet<String> = raw
        .schedules
        .iter()
        .map(|s| s.value.name.value.clone())
        .collect();
    let schedules = schedules(&mut c, &raw, default_tz, &handles);
    let shadows = shadows(&mut c, &raw, &handles);
    let policies = policies(&mut c, &raw, &handles, &schedule_names);
    let pager = pager(&mut c, &raw, &policies);
    let tickets = TicketSettings {
        assign_to: raw
            .tickets
            .as_ref()
            .and_then(|t| t.assign_to.as_ref())
            .and_then(|t| c.target(t, "tickets.assign_to", &handles, &schedule_names)),
    };
    let smtp = raw.smtp.as_ref().map(|s| smtp(&mut c, s));
    let working_hours = match &raw.working_hours {
        Some(w) => c.restriction(w, "working_hours"),
        None => Restriction {
            days: ALL_DAYS[..5].to_vec(),
            from: NaiveTime::from_hms_opt(9, 0, 0).unwrap_or(NaiveTime::MIN),
            to: NaiveTime::from_hms_opt(17, 0, 0).unwrap_or(NaiveTime::MIN),
        },
    };
    c.report.finish(Config {
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
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| Problem::in_file(&file, format!("cannot read: {e}")))?;
    parse(&text, &file)
}

/// `people`: unique handles and their contacts.
fn people(c: &mut Check, raw: &Raw) -> Vec<Person> {
    if raw.people.value.is_empty() {
        c.at(&raw.people, "people", "names nobody: on call needs people");
    }
    let mut handles = BTreeSet::new();
    let mut people = Vec::new();
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
        people.push(Person {
            handle: h.value.clone(),
            name: p.value.name.clone().unwrap_or_else(|| h.value.clone()),
            contacts: contacts(c, raw, &f, &p.value.contact),
        });
    }
    people
}

/// `people[i].contact`: URLs and an e-mail address (which needs `smtp`).
fn contacts(c: &mut Check, raw: &Raw, f: &str, ct: &RawContact) -> Vec<Contact> {
    let mut contacts = Vec::new();
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
    contacts
}

/// `schedules`: unique names, each with its layers and overrides.
fn schedules(
    c: &mut Check,
    raw: &Raw,
    default_tz: Tz,
    handles: &BTreeSet<String>,
) -> Vec<Schedule> {
    let mut seen = BTreeSet::new();
    let mut schedules = Vec::new();
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
        let layers = s
            .layers
            .value
            .iter()
            .enumerate()
            .filter_map(|(j, l)| layer(c, &format!("{f}.layers[{j}]"), j, &l.value, handles))
            .collect();
        let overrides = s
            .overrides
            .iter()
            .enumerate()
            .filter_map(|(j, o)| {
                override_(c, &format!("{f}.overrides[{j}]"), &o.value, tz, handles)
            })
            .collect();
        schedules.push(Schedule {
            name: s.name.value.clone(),
            tz,
            layers,
            overrides,
        });
    }
    schedules
}

/// `layers[j]`: a rotation of people.
fn layer(
    c: &mut Check,
    lf: &str,
    j: usize,
    l: &RawLayer,
    handles: &BTreeSet<String>,
) -> Option<Layer> {
    let role = c.role(&l.role, &format!("{lf}.role"));
    if l.people.value.is_empty() {
        c.at(
            &l.people,
            &format!("{lf}.people"),
            "a rotation needs at least one person",
        );
    }
    for (k, p) in l.people.value.iter().enumerate() {
        c.person(p, &format!("{lf}.people[{k}]"), handles);
    }
    let start = c.local(&l.start, &format!("{lf}.start"));
    let length = rotation(c, &l.rotation, &format!("{lf}.rotation"));
    let restrictions = l
        .restrictions
        .iter()
        .enumerate()
        .map(|(k, r)| c.restriction(r, &format!("{lf}.restrictions[{k}]")))
        .collect();
    Some(Layer {
        name: l
            .name
            .clone()
            .unwrap_or_else(|| format!("{} {}", role.as_str(), j + 1)),
        role,
        people: l.people.value.iter().map(|p| p.value.clone()).collect(),
        start: start?,
        length: length?,
        restrictions,
    })
}

/// `rotation`: a duration from 1h to 366d.
fn rotation(c: &mut Check, s: &S<String>, field: &str) -> Option<chrono::Duration> {
    let d = c.report.duration(s, field)?;
    match chrono::Duration::from_std(d) {
        Ok(d) if (MIN_ROTATION..=MAX_ROTATION).contains(&d) => Some(d),
        _ => {
            c.at(s, field, "a rotation lasts from 1h to 366d");
            None
        }
    }
}

/// `overrides[j]`: someone else on call for a while.
fn override_(
    c: &mut Check,
    of: &str,
    o: &RawOverride,
    tz: Tz,
    handles: &BTreeSet<String>,
) -> Option<Override> {
    let role = c.role(&o.role, &format!("{of}.role"));
    c.person(&o.person, &format!("{of}.person"), handles);
    let from = c.local(&o.from, &format!("{of}.from"));
    let to = c.local(&o.to, &format!("{of}.to"));
    let (from, to) = (from?, to?);
    if to <= from {
        c.at(&o.to, &format!("{of}.to"), "ends before it starts");
        return None;
    }
    Some(Override {
        role,
        person: o.person.value.clone(),
        from: crate::schedule::localize(tz, from),
        to: crate::schedule::localize(tz, to),
    })
}

/// `shadows`: known people, nobody shadowing themself, and no cycles
/// (alice shadows bob who shadows alice).
fn shadows(c: &mut Check, raw: &Raw, handles: &BTreeSet<String>) -> Vec<Shadow> {
    let mut mentors: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut shadows = Vec::new();
    for (i, s) in raw.shadows.iter().enumerate() {
        let f = format!("shadows[{i}]");
        let (apprentice, mentor) = (&s.value.apprentice, &s.value.mentor);
        c.person(apprentice, &format!("{f}.apprentice"), handles);
        c.person(mentor, &format!("{f}.mentor"), handles);
        if apprentice.value == mentor.value {
            c.at(
                mentor,
                &format!("{f}.mentor"),
                "a person cannot shadow themself",
            );
        } else if let Some(path) = mentor_path(&mentors, &mentor.value, &apprentice.value) {
            let mut cycle = vec![apprentice.value.as_str()];
            cycle.extend(path);
            c.at(
                mentor,
                &format!("{f}.mentor"),
                format!(
                    "shadowing goes round in a circle: {} (an apprentice shadows someone \
                     more experienced, who cannot shadow them back)",
                    cycle.join(" shadows ")
                ),
            );
        }
        mentors
            .entry(&apprentice.value)
            .or_default()
            .push(&mentor.value);
        shadows.push(Shadow {
            apprentice: apprentice.value.clone(),
            mentor: mentor.value.clone(),
        });
    }
    shadows
}

/// The chain `from` shadows … shadows `to`, if `from` reaches `to` through
/// the mentors recorded so far.
fn mentor_path<'a>(
    mentors: &BTreeMap<&'a str, Vec<&'a str>>,
    from: &'a str,
    to: &str,
) -> Option<Vec<&'a str>> {
    let mut stack = vec![vec![from]];
    let mut seen = BTreeSet::new();
    while let Some(path) = stack.pop() {
        let last = *path.last()?;
        if last == to {
            return Some(path);
        }
        if !seen.insert(last) {
            continue;
        }
        for m in mentors.get(last).into_iter().flatten() {
            let mut next = path.clone();
            next.push(m);
            stack.push(next);
        }
    }
    None
}

/// `escalation_policies`: unique names, steps with targets and delays.
fn policies(
    c: &mut Check,
    raw: &Raw,
    handles: &BTreeSet<String>,
    schedules: &BTreeSet<String>,
) -> Vec<Policy> {
    let mut seen = BTreeSet::new();
    let mut policies = Vec::new();
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
        let steps = p
            .steps
            .value
            .iter()
            .enumerate()
            .map(|(j, st)| step(c, &format!("{f}.steps[{j}]"), &st.value, handles, schedules))
            .collect();
        policies.push(Policy {
            name: p.name.value.clone(),
            repeat: p.repeat,
            steps,
        });
    }
    policies
}

/// `steps[j]`: whom to page and how long before the next step.
fn step(
    c: &mut Check,
    sf: &str,
    st: &RawStep,
    handles: &BTreeSet<String>,
    schedules: &BTreeSet<String>,
) -> Step {
    let targets = st
        .targets
        .value
        .iter()
        .enumerate()
        .filter_map(|(k, t)| c.target(t, &format!("{sf}.targets[{k}]"), handles, schedules))
        .collect();
    if st.targets.value.is_empty() {
        c.at(
            &st.targets,
            &format!("{sf}.targets"),
            "a step needs at least one target",
        );
    }
    let field = format!("{sf}.escalate_after");
    let escalate_after = match c.report.duration(&st.escalate_after, &field) {
        Some(d) if d >= Duration::from_secs(1) => d,
        Some(_) => {
            c.at(&st.escalate_after, &field, "must be at least 1s");
            DEFAULT_ESCALATE_AFTER
        }
        None => DEFAULT_ESCALATE_AFTER,
    };
    Step {
        targets,
        escalate_after,
    }
}

/// `pager`: the policy alerts page with (default: the first one).
fn pager(c: &mut Check, raw: &Raw, policies: &[Policy]) -> PagerSettings {
    if let Some(p) = &raw.pager {
        let name = &p.value.escalation_policy;
        if !policies.iter().any(|x| x.name == name.value) {
            c.at(
                name,
                "pager.escalation_policy",
                format!("no escalation policy named {:?}", name.value),
            );
        }
        return PagerSettings {
            policy: name.value.clone(),
            auto_resolve: p.value.auto_resolve,
        };
    }
    match policies.first() {
        Some(p) => PagerSettings {
            policy: p.name.clone(),
            auto_resolve: true,
        },
        None => {
            let file = c.report.file().to_string();
            c.report.push(Problem::new(
                file,
                1,
                1,
                "escalation_policies",
                "at least one escalation policy is needed to page anyone",
            ));
            PagerSettings {
                policy: String::new(),
                auto_resolve: true,
            }
        }
    }
}

/// `smtp`: where e-mail goes out.
fn smtp(c: &mut Check, s: &RawSmtp) -> Smtp {
    if !s.smarthost.value.contains(':') {
        c.at(&s.smarthost, "smtp.smarthost", "must be host:port");
    }
    Smtp {
        smarthost: s.smarthost.value.clone(),
        from: s.from.value.clone(),
    }
}
