//! The routing config: Alertmanager's format (route tree, receivers,
//! inhibit rules, `global`, `templates`, time intervals), validated as
//! Alertmanager validates it, every problem with file:line:column. What is
//! accepted but not applied is kept in [`Config::notes`].

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::matcher::{Matcher, Op, list_string, parse_matchers, valid_label_name};
use super::receivers::{Global, RawGlobal, RawReceiver, Report};
pub use super::receivers::{PagerDuty, Receiver, Slack, Webhook};
use super::timeinterval::{RawNamed, TimeInterval};
use crate::rules::file::{Problem, RuleFileError, parse_duration, yaml_error};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    global: Option<Spanned<RawGlobal>>,
    #[serde(default)]
    route: Option<Spanned<RawRoute>>,
    #[serde(default)]
    receivers: Vec<Spanned<RawReceiver>>,
    #[serde(default)]
    inhibit_rules: Vec<Spanned<RawInhibit>>,
    #[serde(default)]
    templates: Vec<Spanned<String>>,
    #[serde(default)]
    time_intervals: Vec<Spanned<RawNamed>>,
    #[serde(default)]
    mute_time_intervals: Vec<Spanned<RawNamed>>,
}

type Re = BTreeMap<String, Spanned<Option<String>>>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    #[serde(default)]
    receiver: Option<Spanned<String>>,
    #[serde(default)]
    group_by: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    group_wait: Option<Spanned<String>>,
    #[serde(default)]
    group_interval: Option<Spanned<String>>,
    #[serde(default)]
    repeat_interval: Option<Spanned<String>>,
    #[serde(default)]
    matchers: Vec<Spanned<String>>,
    #[serde(default, rename = "match")]
    match_eq: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    match_re: Re,
    #[serde(default)]
    mute_time_intervals: Vec<Spanned<String>>,
    #[serde(default)]
    active_time_intervals: Vec<Spanned<String>>,
    #[serde(default, rename = "continue")]
    cont: Option<Spanned<bool>>,
    #[serde(default)]
    routes: Vec<Spanned<RawRoute>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInhibit {
    #[serde(default)]
    source_matchers: Vec<Spanned<String>>,
    #[serde(default)]
    target_matchers: Vec<Spanned<String>>,
    #[serde(default)]
    source_match: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    target_match: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    source_match_re: Re,
    #[serde(default)]
    target_match_re: Re,
    #[serde(default)]
    equal: Vec<String>,
}

/// Labels an alert group is keyed by.
#[derive(Debug, Clone, PartialEq)]
pub enum GroupBy {
    /// `['...']`: every label; each alert is its own group.
    All,
    Labels(Vec<String>),
}

/// A route with its effective (inherited) settings.
#[derive(Debug, Clone)]
pub struct Route {
    pub receiver: String,
    pub group_by: GroupBy,
    pub group_wait: Duration,
    pub group_interval: Duration,
    pub repeat_interval: Duration,
    /// Sorted as Alertmanager sorts them (name, value, type).
    pub matchers: Vec<Matcher>,
    pub cont: bool,
    pub mute_time_intervals: Vec<String>,
    pub active_time_intervals: Vec<String>,
    /// Alertmanager's route key: `{}` for the root, `{}/{team="a"}` below.
    pub key: String,
    pub routes: Vec<Route>,
}

#[derive(Debug, Clone)]
pub struct Inhibit {
    pub source: Vec<Matcher>,
    pub target: Vec<Matcher>,
    pub equal: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub route: Route,
    pub receivers: BTreeMap<String, Receiver>,
    pub inhibit: Vec<Inhibit>,
    pub time_intervals: BTreeMap<String, TimeInterval>,
    /// `global.resolve_timeout`: alerts without an end time end this long after their last update.
    pub resolve_timeout: Duration,
    /// Template file patterns as written (relative to the config file),
    /// with their line and column.
    pub templates: Vec<(String, u64, u64)>,
    /// The files they matched (filled by [`super::load::load_config`]).
    pub template_files: Vec<std::path::PathBuf>,
    /// Settings accepted but not applied, with their positions.
    pub notes: Vec<Problem>,
    /// Notification template fields (position and field; the source as message).
    pub templated: Vec<Problem>,
}

struct Ctx<'a> {
    r: Report<'a>,
    receivers: BTreeSet<String>,
    intervals: BTreeSet<String>,
}

fn regex_map(ctx: &mut Ctx, m: &Re, field: &str, out: &mut Vec<Matcher>) {
    for (k, v) in m {
        let Some(value) = &v.value else {
            ctx.r.at(
                v,
                &format!("{field}.{k}"),
                format!("invalid regexp for label {k}: the value is empty (null)"),
            );
            continue;
        };
        if !valid_label_name(k) {
            ctx.r.at(
                v,
                &format!("{field}.{k}"),
                format!("invalid label name {k:?}"),
            );
            continue;
        }
        // Alertmanager keeps a match_re value anchored: `^(?:v)$`.
        match Matcher::new(k, Op::Re, &format!("^(?:{value})$")) {
            Ok(x) => out.push(x),
            Err(e) => ctx.r.at(v, &format!("{field}.{k}"), e),
        }
    }
}

fn eq_map(
    ctx: &mut Ctx,
    m: &BTreeMap<String, Spanned<String>>,
    field: &str,
    out: &mut Vec<Matcher>,
) {
    for (k, v) in m {
        if !valid_label_name(k) {
            ctx.r.at(
                v,
                &format!("{field}.{k}"),
                format!("invalid label name {k:?}"),
            );
            continue;
        }
        if let Ok(x) = Matcher::new(k, Op::Eq, &v.value) {
            out.push(x);
        }
    }
}

impl Ctx<'_> {
    fn dur(
        &mut self,
        s: &Option<Spanned<String>>,
        field: &str,
        inherited: Duration,
        zero_ok: bool,
    ) -> Duration {
        match s {
            None => inherited,
            Some(sp) => match if zero_duration(&sp.value) {
                Ok(Duration::ZERO)
            } else {
                parse_duration(&sp.value)
            } {
                Ok(d) if !d.is_zero() || zero_ok => d,
                Ok(_) => {
                    let name = field.rsplit('.').next().unwrap_or(field);
                    self.r.at(sp, field, format!("{name} cannot be zero"));
                    inherited
                }
                Err(e) => {
                    self.r.at(sp, field, e);
                    inherited
                }
            },
        }
    }

    fn matchers(&mut self, list: &[Spanned<String>], field: &str) -> Vec<Matcher> {
        let mut out = Vec::new();
        for (i, m) in list.iter().enumerate() {
            match parse_matchers(&m.value) {
                Ok(x) => out.extend(x),
                Err(e) => self.r.at(m, &format!("{field}[{i}]"), e),
            }
        }
        out
    }

    fn route(&mut self, sr: &Spanned<RawRoute>, parent: Option<&Route>, field: &str) -> Route {
        let r = &sr.value;
        let receiver = match (&r.receiver, parent) {
            (Some(rc), _) if !rc.value.is_empty() => {
                if !self.receivers.contains(&rc.value) {
                    self.r.at(
                        rc,
                        &format!("{field}.receiver"),
                        format!("undefined receiver {:?} used in route", rc.value),
                    );
                }
                rc.value.clone()
            }
            (_, Some(p)) => p.receiver.clone(),
            (_, None) => String::new(),
        };
        let group_by = match (&r.group_by, parent) {
            (Some(g), _) => {
                let f = format!("{field}.group_by");
                let all = g.value.iter().any(|l| l == "...");
                let mut seen = BTreeSet::new();
                for l in g.value.iter().filter(|l| *l != "...") {
                    if !valid_label_name(l) {
                        self.r
                            .at(g, &f, format!("invalid label name {l:?} in group_by list"));
                    } else if !seen.insert(l.clone()) {
                        self.r
                            .at(g, &f, format!("duplicated label {l:?} in group_by"));
                    }
                }
                if all && !seen.is_empty() {
                    self.r.at(
                        g,
                        &f,
                        "cannot have wildcard group_by (`...`) and other labels at the same time",
                    );
                }
                if all {
                    GroupBy::All
                } else {
                    GroupBy::Labels(g.value.clone())
                }
            }
            (None, Some(p)) => p.group_by.clone(),
            (None, None) => GroupBy::Labels(Vec::new()),
        };
        let d = |p: Option<&Route>, f: fn(&Route) -> Duration, default: u64| {
            p.map(f).unwrap_or(Duration::from_secs(default))
        };
        let group_wait = self.dur(
            &r.group_wait,
            &format!("{field}.group_wait"),
            d(parent, |p| p.group_wait, 30),
            true,
        );
        let group_interval = self.dur(
            &r.group_interval,
            &format!("{field}.group_interval"),
            d(parent, |p| p.group_interval, 300),
            false,
        );
        let repeat_interval = self.dur(
            &r.repeat_interval,
            &format!("{field}.repeat_interval"),
            d(parent, |p| p.repeat_interval, 4 * 3600),
            false,
        );
        let mut matchers = Vec::new();
        eq_map(self, &r.match_eq, &format!("{field}.match"), &mut matchers);
        regex_map(
            self,
            &r.match_re,
            &format!("{field}.match_re"),
            &mut matchers,
        );
        matchers.extend(self.matchers(&r.matchers, &format!("{field}.matchers")));
        matchers.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        let mut names = |list: &[Spanned<String>], f: &str| -> Vec<String> {
            for n in list {
                if !self.intervals.contains(&n.value) {
                    self.r.at(
                        n,
                        &format!("{field}.{f}"),
                        format!("undefined time interval {:?} used in route", n.value),
                    );
                }
            }
            list.iter().map(|n| n.value.clone()).collect()
        };
        let mute = names(&r.mute_time_intervals, "mute_time_intervals");
        let active = names(&r.active_time_intervals, "active_time_intervals");
        let key = match parent {
            Some(p) => format!("{}/{}", p.key, list_string(&matchers)),
            None => list_string(&matchers),
        };
        let mut node = Route {
            receiver,
            group_by,
            group_wait,
            group_interval,
            repeat_interval,
            matchers,
            cont: r.cont.as_ref().is_some_and(|c| c.value),
            mute_time_intervals: mute,
            active_time_intervals: active,
            key,
            routes: Vec::new(),
        };
        let children: Vec<Route> = r
            .routes
            .iter()
            .enumerate()
            .map(|(i, c)| self.route(c, Some(&node), &format!("{field}.routes[{i}]")))
            .collect();
        node.routes = children;
        node
    }
}

/// `0s`, `0m`, `0h0m`: zero durations Alertmanager's grammar accepts.
fn zero_duration(s: &str) -> bool {
    let s = s.trim();
    !s.is_empty() && s.starts_with('0') && s.chars().all(|c| c == '0' || "smhdwy".contains(c))
}

fn at_start(file: &str, field: &str, message: impl Into<String>) -> Problem {
    Problem {
        file: file.into(),
        line: 1,
        column: 1,
        field: field.into(),
        message: message.into(),
    }
}

/// Parses a routing config; every problem is reported.
pub fn parse_config(text: &str, file: &str) -> Result<Config, RuleFileError> {
    let raw: Option<RawConfig> = if text.trim().is_empty() {
        None
    } else {
        Some(serde_saphyr::from_str(text).map_err(|e| yaml_error(file, e))?)
    };
    let Some(raw) = raw else {
        return Err(RuleFileError {
            problems: vec![at_start(file, "route", "no route provided in config")],
        });
    };
    let mut r = Report {
        file,
        problems: Vec::new(),
        notes: Vec::new(),
        templated: Vec::new(),
    };
    let global = Global::build(raw.global.as_ref(), &mut r);
    let resolve_timeout = raw
        .global
        .as_ref()
        .and_then(|g| g.value.resolve_timeout.as_ref())
        .map(|s| match parse_duration(&s.value) {
            Ok(d) => d,
            Err(e) => {
                r.at(s, "global.resolve_timeout", e);
                Duration::from_secs(300)
            }
        })
        .unwrap_or(Duration::from_secs(300));

    let mut receivers = BTreeMap::new();
    for (i, sr) in raw.receivers.iter().enumerate() {
        let f = format!("receivers[{i}]");
        let rc = super::receivers::build(&sr.value, &global, &mut r, &f);
        match &sr.value.name {
            None => r.at(sr, &format!("{f}.name"), "missing name in receiver"),
            Some(n) if n.value.is_empty() => {
                r.at(n, &format!("{f}.name"), "missing name in receiver")
            }
            Some(n) if receivers.contains_key(&n.value) => r.at(
                n,
                &format!("{f}.name"),
                format!("notification config name {:?} is not unique", n.value),
            ),
            Some(_) => {}
        }
        receivers.insert(rc.name.clone(), rc);
    }

    let mut time_intervals = BTreeMap::new();
    for (list, what) in [
        (&raw.mute_time_intervals, "mute_time_intervals"),
        (&raw.time_intervals, "time_intervals"),
    ] {
        for (i, t) in list.iter().enumerate() {
            let f = format!("{what}[{i}]");
            let ti = super::timeinterval::build(&t.value, &mut r, &f);
            match &t.value.name {
                Some(n) if !n.value.is_empty() => {
                    if time_intervals.contains_key(&n.value) {
                        let kind = if what == "time_intervals" {
                            "time interval"
                        } else {
                            "mute time interval"
                        };
                        r.at(
                            n,
                            &format!("{f}.name"),
                            format!("{kind} {:?} is not unique", n.value),
                        );
                    }
                    time_intervals.insert(n.value.clone(), ti);
                }
                _ => {
                    let kind = if what == "time_intervals" {
                        "time interval"
                    } else {
                        "mute time interval"
                    };
                    r.at(t, &format!("{f}.name"), format!("missing name in {kind}"));
                }
            }
        }
    }

    let mut ctx = Ctx {
        r,
        receivers: receivers.keys().cloned().collect(),
        intervals: time_intervals.keys().cloned().collect(),
    };
    let Some(sroute) = raw.route.as_ref() else {
        ctx.r
            .problems
            .push(at_start(file, "route", "no routes provided"));
        return Err(finish(ctx.r.problems));
    };
    let root = &sroute.value;
    match &root.receiver {
        Some(rc) if !rc.value.is_empty() => {}
        _ => ctx.r.at(
            sroute,
            "route.receiver",
            "root route must specify a default receiver",
        ),
    }
    if !root.match_eq.is_empty() || !root.match_re.is_empty() || !root.matchers.is_empty() {
        ctx.r
            .at(sroute, "route", "root route must not have any matchers");
    }
    if let Some(m) = root.mute_time_intervals.first() {
        ctx.r.at(
            m,
            "route.mute_time_intervals",
            "root route must not have any mute time intervals",
        );
    }
    if let Some(m) = root.active_time_intervals.first() {
        ctx.r.at(
            m,
            "route.active_time_intervals",
            "root route must not have any active time intervals",
        );
    }
    if let Some(c) = root.cont.as_ref().filter(|c| c.value) {
        ctx.r
            .at(c, "route.continue", "cannot have continue in root route");
    }
    let route = ctx.route(sroute, None, "route");

    let mut inhibit = Vec::new();
    for (i, sr) in raw.inhibit_rules.iter().enumerate() {
        let f = format!("inhibit_rules[{i}]");
        let rule = &sr.value;
        let mut source = Vec::new();
        eq_map(
            &mut ctx,
            &rule.source_match,
            &format!("{f}.source_match"),
            &mut source,
        );
        regex_map(
            &mut ctx,
            &rule.source_match_re,
            &format!("{f}.source_match_re"),
            &mut source,
        );
        source.extend(ctx.matchers(&rule.source_matchers, &format!("{f}.source_matchers")));
        let mut target = Vec::new();
        eq_map(
            &mut ctx,
            &rule.target_match,
            &format!("{f}.target_match"),
            &mut target,
        );
        regex_map(
            &mut ctx,
            &rule.target_match_re,
            &format!("{f}.target_match_re"),
            &mut target,
        );
        target.extend(ctx.matchers(&rule.target_matchers, &format!("{f}.target_matchers")));
        for l in &rule.equal {
            if !valid_label_name(l) {
                ctx.r.at(
                    sr,
                    &format!("{f}.equal"),
                    format!("invalid label name {l:?} in equal list"),
                );
            }
        }
        inhibit.push(Inhibit {
            source,
            target,
            equal: rule.equal.clone(),
        });
    }

    if ctx.r.problems.is_empty() {
        Ok(Config {
            route,
            receivers,
            inhibit,
            time_intervals,
            resolve_timeout,
            templates: raw
                .templates
                .iter()
                .map(|t| (t.value.clone(), t.referenced.line(), t.referenced.column()))
                .collect(),
            template_files: Vec::new(),
            notes: ctx.r.notes,
            templated: ctx.r.templated,
        })
    } else {
        Err(finish(ctx.r.problems))
    }
}

fn finish(mut problems: Vec<Problem>) -> RuleFileError {
    problems.sort_by_key(|p| (p.line, p.column));
    RuleFileError { problems }
}

impl Route {
    /// The routes an alert goes to, in order: depth first, the first
    /// matching child unless it says `continue`, the node itself when no
    /// child matches (Alertmanager's `Route.Match`).
    pub fn matching<'a>(
        &'a self,
        labels: &BTreeMap<String, String>,
        out: &mut Vec<&'a Route>,
    ) -> bool {
        if !self.matchers.iter().all(|m| m.matches(labels)) {
            return false;
        }
        let before = out.len();
        for c in &self.routes {
            if c.matching(labels, out) && !c.cont {
                break;
            }
        }
        if out.len() == before {
            out.push(self);
        }
        true
    }
}
