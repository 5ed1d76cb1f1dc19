//! The routing config: a subset of Alertmanager's (route tree, receivers,
//! inhibit rules), loaded with file:line:column errors.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::matcher::{Matcher, Op};
use crate::rules::file::{Problem, RuleFileError, parse_duration, yaml_error};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    global: Option<serde_json::Value>,
    route: RawRoute,
    #[serde(default)]
    receivers: Vec<RawReceiver>,
    #[serde(default)]
    inhibit_rules: Vec<RawInhibit>,
    #[serde(default)]
    templates: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    #[serde(default)]
    receiver: Option<Spanned<String>>,
    #[serde(default)]
    group_by: Option<Vec<String>>,
    #[serde(default)]
    group_wait: Option<Spanned<String>>,
    #[serde(default)]
    group_interval: Option<Spanned<String>>,
    #[serde(default)]
    repeat_interval: Option<Spanned<String>>,
    #[serde(default)]
    matchers: Vec<Spanned<String>>,
    #[serde(default, rename = "match")]
    match_eq: BTreeMap<String, String>,
    #[serde(default)]
    match_re: BTreeMap<String, String>,
    #[serde(default, rename = "continue")]
    cont: bool,
    #[serde(default)]
    routes: Vec<RawRoute>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReceiver {
    name: Spanned<String>,
    #[serde(default)]
    webhook_configs: Vec<Webhook>,
    #[serde(default)]
    slack_configs: Vec<Slack>,
    #[serde(default)]
    pagerduty_configs: Vec<PagerDuty>,
    #[serde(default)]
    email_configs: Vec<super::email::EmailConfig>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Webhook {
    pub url: String,
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default)]
    pub max_alerts: usize,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Slack {
    pub api_url: String,
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub send_resolved: bool,
}

fn pd_url() -> String {
    "https://events.pagerduty.com/v2/enqueue".into()
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PagerDuty {
    pub routing_key: String,
    #[serde(default = "pd_url")]
    pub url: String,
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default)]
    pub severity: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInhibit {
    #[serde(default)]
    source_matchers: Vec<Spanned<String>>,
    #[serde(default)]
    target_matchers: Vec<Spanned<String>>,
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
    pub matchers: Vec<Matcher>,
    pub cont: bool,
    pub routes: Vec<Route>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Receiver {
    pub name: String,
    pub webhooks: Vec<Webhook>,
    pub slack: Vec<Slack>,
    pub pagerduty: Vec<PagerDuty>,
    pub email: Vec<super::email::EmailConfig>,
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
}

struct Ctx {
    file: String,
    problems: Vec<Problem>,
    receivers: Vec<String>,
}

impl Ctx {
    fn at<T>(&mut self, s: &Spanned<T>, field: &str, msg: impl Into<String>) {
        self.problems.push(Problem::at(&self.file, s, field, msg));
    }

    fn dur(&mut self, s: &Option<Spanned<String>>, field: &str, inherited: Duration) -> Duration {
        match s {
            None => inherited,
            Some(sp) => match parse_duration(&sp.value) {
                Ok(d) if !d.is_zero() => d,
                Ok(_) => {
                    self.at(sp, field, "must be above zero");
                    inherited
                }
                Err(e) => {
                    self.at(sp, field, e);
                    inherited
                }
            },
        }
    }

    fn matchers(&mut self, list: &[Spanned<String>], field: &str) -> Vec<Matcher> {
        let mut out = Vec::new();
        for (i, m) in list.iter().enumerate() {
            match Matcher::parse(&m.value) {
                Ok(x) => out.push(x),
                Err(e) => self.at(m, &format!("{field}[{i}]"), e),
            }
        }
        out
    }

    fn route(&mut self, r: RawRoute, parent: Option<&Route>, field: &str) -> Route {
        let receiver = match (&r.receiver, parent) {
            (Some(rc), _) => {
                if !self.receivers.contains(&rc.value) {
                    self.at(
                        rc,
                        &format!("{field}.receiver"),
                        format!("undefined receiver {:?} used in route", rc.value),
                    );
                }
                rc.value.clone()
            }
            (None, Some(p)) => p.receiver.clone(),
            (None, None) => String::new(),
        };
        let group_by = match (&r.group_by, parent) {
            (Some(g), _) if g.iter().any(|l| l == "...") => GroupBy::All,
            (Some(g), _) => GroupBy::Labels(g.clone()),
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
        );
        let group_interval = self.dur(
            &r.group_interval,
            &format!("{field}.group_interval"),
            d(parent, |p| p.group_interval, 300),
        );
        let repeat_interval = self.dur(
            &r.repeat_interval,
            &format!("{field}.repeat_interval"),
            d(parent, |p| p.repeat_interval, 4 * 3600),
        );
        let mut matchers = self.matchers(&r.matchers, &format!("{field}.matchers"));
        for (k, v) in &r.match_eq {
            if let Ok(m) = Matcher::new(k, Op::Eq, v) {
                matchers.push(m);
            }
        }
        for (k, v) in &r.match_re {
            match Matcher::new(k, Op::Re, v) {
                Ok(m) => matchers.push(m),
                Err(e) => self.problems.push(Problem {
                    file: self.file.clone(),
                    line: 0,
                    column: 0,
                    field: format!("{field}.match_re.{k}"),
                    message: e,
                }),
            }
        }
        let mut node = Route {
            receiver,
            group_by,
            group_wait,
            group_interval,
            repeat_interval,
            matchers,
            cont: r.cont,
            routes: Vec::new(),
        };
        let children: Vec<Route> = r
            .routes
            .into_iter()
            .enumerate()
            .map(|(i, c)| self.route(c, Some(&node), &format!("{field}.routes[{i}]")))
            .collect();
        node.routes = children;
        node
    }
}

/// Parses a routing config; every problem is reported.
pub fn parse_config(text: &str, file: &str) -> Result<Config, RuleFileError> {
    let raw: RawConfig = serde_saphyr::from_str(text).map_err(|e| yaml_error(file, e))?;
    let _ = (&raw.global, &raw.templates);
    let mut ctx = Ctx {
        file: file.into(),
        problems: Vec::new(),
        receivers: raw.receivers.iter().map(|r| r.name.value.clone()).collect(),
    };
    let mut receivers = BTreeMap::new();
    for (i, r) in raw.receivers.iter().enumerate() {
        if receivers.contains_key(&r.name.value) {
            ctx.at(
                &r.name,
                &format!("receivers[{i}].name"),
                format!("receiver {:?} is defined twice", r.name.value),
            );
        }
        receivers.insert(
            r.name.value.clone(),
            Receiver {
                name: r.name.value.clone(),
                webhooks: r.webhook_configs.clone(),
                slack: r.slack_configs.clone(),
                pagerduty: r.pagerduty_configs.clone(),
                email: r.email_configs.clone(),
            },
        );
    }
    let root_receiver = raw.route.receiver.clone();
    let route = ctx.route(raw.route, None, "route");
    if root_receiver.is_none() {
        ctx.problems.push(Problem {
            file: file.into(),
            line: 1,
            column: 1,
            field: "route.receiver".into(),
            message: "the root route must have a receiver".into(),
        });
    }
    let inhibit = raw
        .inhibit_rules
        .iter()
        .enumerate()
        .map(|(i, r)| Inhibit {
            source: ctx.matchers(
                &r.source_matchers,
                &format!("inhibit_rules[{i}].source_matchers"),
            ),
            target: ctx.matchers(
                &r.target_matchers,
                &format!("inhibit_rules[{i}].target_matchers"),
            ),
            equal: r.equal.clone(),
        })
        .collect();
    if ctx.problems.is_empty() {
        Ok(Config {
            route,
            receivers,
            inhibit,
        })
    } else {
        ctx.problems.sort_by_key(|p| (p.line, p.column));
        Err(RuleFileError {
            problems: ctx.problems,
        })
    }
}

impl Route {
    /// The routes an alert goes to: depth first, first matching child
    /// unless it says `continue`, the node itself when no child matches.
    pub fn matching<'a>(
        &'a self,
        labels: &BTreeMap<String, String>,
        out: &mut Vec<&'a Route>,
    ) -> bool {
        if !self.matchers.iter().all(|m| m.matches(labels)) {
            return false;
        }
        let mut matched_child = false;
        for c in &self.routes {
            if c.matching(labels, out) {
                matched_child = true;
                if !c.cont {
                    break;
                }
            }
        }
        if !matched_child {
            out.push(self);
        }
        true
    }
}
