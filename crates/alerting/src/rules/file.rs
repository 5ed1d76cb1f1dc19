//! Prometheus rule files: groups of recording and alerting rules, loaded
//! with file:line:column errors for every mistake.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use serde_saphyr::Spanned;

/// One problem in a rule file (the problem type of every loader, [`diag::Problem`]).
pub use diag::Problem;
/// The shared duration grammar ([`diag::duration`]): Prometheus's units,
/// combined (`1h30m`), plus fractions (`1.5m`); a bare number other than
/// `0` is refused, as promtool does.
pub use diag::duration::parse as parse_duration;

/// Every problem found in a rule file (or another file of this crate).
pub type RuleFileError = diag::Problems;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    groups: Vec<RawGroup>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    name: Spanned<String>,
    #[serde(default)]
    interval: Option<Spanned<String>>,
    #[serde(default)]
    limit: Option<u64>,
    #[serde(default)]
    query_offset: Option<Spanned<String>>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    rules: Vec<RawRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    #[serde(default)]
    record: Option<Spanned<String>>,
    #[serde(default)]
    alert: Option<Spanned<String>>,
    expr: Spanned<String>,
    #[serde(default, rename = "for")]
    for_: Option<Spanned<String>>,
    #[serde(default)]
    keep_firing_for: Option<Spanned<String>>,
    #[serde(default)]
    labels: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    annotations: BTreeMap<String, Spanned<String>>,
}

/// What a rule does.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleKind {
    Recording {
        record: String,
    },
    Alerting {
        alert: String,
        for_: Duration,
        keep_firing_for: Duration,
        annotations: BTreeMap<String, String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub kind: RuleKind,
    pub expr: String,
    pub labels: BTreeMap<String, String>,
}

impl Rule {
    pub fn name(&self) -> &str {
        match &self.kind {
            RuleKind::Recording { record } => record,
            RuleKind::Alerting { alert, .. } => alert,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RuleGroup {
    pub name: String,
    /// Evaluation interval; `None` means the global default.
    pub interval: Option<Duration>,
    pub limit: u64,
    pub query_offset: Duration,
    pub labels: BTreeMap<String, String>,
    pub rules: Vec<Rule>,
    /// The file the group came from.
    pub file: String,
}

fn valid_metric_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars().enumerate().all(|(i, c)| {
            c == '_' || c == ':' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())
        })
}

fn valid_label_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .enumerate()
            .all(|(i, c)| c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()))
}

/// A YAML or shape error of serde-saphyr as a problem with its position
/// and plain words (see [`diag::yaml::problem`]).
pub fn yaml_error(file: &str, e: serde_saphyr::Error) -> RuleFileError {
    diag::yaml::problem(file, None, &e).into()
}

struct Checker {
    file: String,
    problems: Vec<Problem>,
}

impl Checker {
    fn at<T>(&mut self, s: &Spanned<T>, field: &str, message: impl Into<String>) {
        self.problems
            .push(Problem::at(&self.file, s, field, message));
    }

    fn duration(&mut self, s: &Option<Spanned<String>>, field: &str) -> Duration {
        match s {
            None => Duration::ZERO,
            Some(sp) => match parse_duration(&sp.value) {
                Ok(d) => d,
                Err(e) => {
                    self.at(sp, field, e);
                    Duration::ZERO
                }
            },
        }
    }
}

/// Parses rule file text; `file` names it in errors.
pub fn parse_rules(text: &str, file: &str) -> Result<Vec<RuleGroup>, RuleFileError> {
    let raw: RawFile = diag::yaml::from_str(text, file)?;
    let mut c = Checker {
        file: file.to_string(),
        problems: Vec::new(),
    };
    let mut groups = Vec::new();
    let mut names = std::collections::HashSet::new();
    // Recording rules by the series they write: (record, labels) → line.
    let mut recorded: std::collections::HashMap<(String, BTreeMap<String, String>), u64> =
        std::collections::HashMap::new();
    for (gi, g) in raw.groups.into_iter().enumerate() {
        let gf = format!("groups[{gi}]");
        if g.name.value.is_empty() {
            c.at(&g.name, &format!("{gf}.name"), "a group needs a name");
        } else if !names.insert(g.name.value.clone()) {
            c.at(
                &g.name,
                &format!("{gf}.name"),
                format!("group {:?} is defined twice in this file", g.name.value),
            );
        }
        let interval = g
            .interval
            .as_ref()
            .map(|_| c.duration(&g.interval, &format!("{gf}.interval")));
        if let (Some(d), Some(sp)) = (interval, &g.interval)
            && d.is_zero()
            && parse_duration(&sp.value).is_ok()
        {
            c.at(
                sp,
                &format!("{gf}.interval"),
                "the interval must be above zero",
            );
        }
        let query_offset = c.duration(&g.query_offset, &format!("{gf}.query_offset"));
        let mut rules = Vec::new();
        for (ri, r) in g.rules.into_iter().enumerate() {
            let rf = format!("{gf}.rules[{ri}]");
            if let Err(e) = crate::expr::parse(&r.expr.value) {
                c.at(
                    &r.expr,
                    &format!("{rf}.expr"),
                    format!("could not parse expression: {e}"),
                );
            }
            let labels: BTreeMap<String, String> = r
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.value.clone()))
                .collect();
            for (k, v) in &r.labels {
                if !valid_label_name(k) {
                    c.at(
                        v,
                        &format!("{rf}.labels"),
                        format!("invalid label name {k:?}"),
                    );
                }
                if let Err(e) = super::template::check(&v.value) {
                    c.at(v, &format!("{rf}.labels.{k}"), e);
                }
            }
            let kind = match (&r.record, &r.alert) {
                (Some(rec), None) => {
                    if !valid_metric_name(&rec.value) {
                        c.at(
                            rec,
                            &format!("{rf}.record"),
                            format!("invalid recording rule name {:?}", rec.value),
                        );
                    }
                    if let Some(f) = &r.for_ {
                        c.at(
                            f,
                            &format!("{rf}.for"),
                            "invalid field 'for' in recording rule",
                        );
                    }
                    if let Some(f) = &r.keep_firing_for {
                        c.at(
                            f,
                            &format!("{rf}.keep_firing_for"),
                            "invalid field 'keep_firing_for' in recording rule",
                        );
                    }
                    if let Some((_, a)) = r.annotations.iter().next() {
                        c.at(
                            a,
                            &format!("{rf}.annotations"),
                            "invalid field 'annotations' in recording rule",
                        );
                    }
                    let key = (rec.value.clone(), labels.clone());
                    if let Some(first) = recorded.get(&key) {
                        c.at(
                            rec,
                            &format!("{rf}.record"),
                            format!(
                                "recording rule {:?} with the same labels is already defined at line {first}: both would write the same series",
                                rec.value
                            ),
                        );
                    } else {
                        recorded.insert(key, rec.referenced.line());
                    }
                    RuleKind::Recording {
                        record: rec.value.clone(),
                    }
                }
                (None, Some(al)) => {
                    if !valid_label_name(&al.value) && !valid_metric_name(&al.value) {
                        c.at(
                            al,
                            &format!("{rf}.alert"),
                            format!("invalid alert name {:?}", al.value),
                        );
                    }
                    for (k, v) in &r.annotations {
                        if !valid_label_name(k) {
                            c.at(
                                v,
                                &format!("{rf}.annotations"),
                                format!("invalid annotation name {k:?}"),
                            );
                        }
                        if let Err(e) = super::template::check(&v.value) {
                            c.at(v, &format!("{rf}.annotations.{k}"), e);
                        }
                    }
                    RuleKind::Alerting {
                        alert: al.value.clone(),
                        for_: c.duration(&r.for_, &format!("{rf}.for")),
                        keep_firing_for: c
                            .duration(&r.keep_firing_for, &format!("{rf}.keep_firing_for")),
                        annotations: r
                            .annotations
                            .iter()
                            .map(|(k, v)| (k.clone(), v.value.clone()))
                            .collect(),
                    }
                }
                (Some(rec), Some(_)) => {
                    c.at(rec, &rf, "only one of 'record' and 'alert' must be set");
                    continue;
                }
                (None, None) => {
                    c.at(&r.expr, &rf, "one of 'record' or 'alert' must be set");
                    continue;
                }
            };
            rules.push(Rule {
                kind,
                expr: r.expr.value.clone(),
                labels,
            });
        }
        groups.push(RuleGroup {
            name: g.name.value.clone(),
            interval,
            limit: g.limit.unwrap_or(0),
            query_offset,
            labels: g.labels,
            rules,
            file: file.to_string(),
        });
    }
    if c.problems.is_empty() {
        Ok(groups)
    } else {
        Err(RuleFileError::new(c.problems))
    }
}

/// Reads and parses a rule file.
pub fn load_rules(path: &Path) -> Result<Vec<RuleGroup>, RuleFileError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| Problem::in_file(&file, format!("cannot read: {e}")))?;
    parse_rules(&text, &file)
}
