//! SLO specs: Sloth's `prometheus/v1` and OpenSLO v1 `SLO` documents, read
//! into one model with file:line:column errors.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::rules::file::{Problem, RuleFileError, yaml_error};

/// How the SLI is measured.
#[derive(Debug, Clone, PartialEq)]
pub enum Sli {
    /// Error events over total events; `{{.window}}` is replaced by each window.
    Events {
        error_query: String,
        total_query: String,
    },
    /// A ratio of errors, written for any `{{.window}}`.
    Raw { error_ratio_query: String },
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct AlertSpec {
    pub disable: bool,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Slo {
    pub service: String,
    pub name: String,
    pub description: String,
    /// Target in percent, e.g. 99.9.
    pub objective: f64,
    pub labels: BTreeMap<String, String>,
    pub sli: Sli,
    /// The SLO period (default 30 days).
    pub period: Duration,
    pub alert_name: String,
    pub alert_labels: BTreeMap<String, String>,
    pub alert_annotations: BTreeMap<String, String>,
    pub page: AlertSpec,
    pub ticket: AlertSpec,
}

impl Slo {
    /// `service-name`, the `sloth_id` label.
    pub fn id(&self) -> String {
        format!("{}-{}", self.service, self.name)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SlothFile {
    version: Spanned<String>,
    service: Spanned<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    slos: Vec<SlothSlo>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SlothSlo {
    name: Spanned<String>,
    objective: Spanned<f64>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    sli: Spanned<SlothSli>,
    #[serde(default)]
    alerting: SlothAlerting,
    #[serde(default)]
    time_window: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SlothSli {
    #[serde(default)]
    events: Option<SlothEvents>,
    #[serde(default)]
    raw: Option<SlothRaw>,
    #[serde(default)]
    plugin: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SlothEvents {
    error_query: Spanned<String>,
    total_query: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SlothRaw {
    error_ratio_query: Spanned<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SlothAlerting {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    page_alert: SlothAlert,
    #[serde(default)]
    ticket_alert: SlothAlert,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SlothAlert {
    #[serde(default)]
    disable: bool,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

struct Errs {
    file: String,
    problems: Vec<Problem>,
}

impl Errs {
    fn at<T>(&mut self, s: &Spanned<T>, field: &str, msg: impl Into<String>) {
        self.problems.push(Problem::at(&self.file, s, field, msg));
    }
}

fn check_query(e: &mut Errs, q: &Spanned<String>, field: &str) {
    let filled = q
        .value
        .replace("{{.window}}", "5m")
        .replace("{{ .window }}", "5m");
    if let Err(err) = promql_parser::parser::parse(&filled) {
        e.at(q, field, format!("could not parse the query: {err}"));
    }
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Reads a Sloth `prometheus/v1` spec or an OpenSLO v1 SLO document.
pub fn parse_spec(text: &str, file: &str) -> Result<Vec<Slo>, RuleFileError> {
    if text
        .lines()
        .any(|l| l.trim_start().starts_with("apiVersion:") && l.contains("openslo/v1"))
    {
        return super::openslo::parse(text, file);
    }
    let raw: SlothFile = serde_saphyr::from_str(text).map_err(|e| yaml_error(file, e))?;
    let mut e = Errs {
        file: file.into(),
        problems: Vec::new(),
    };
    if raw.version.value != "prometheus/v1" {
        e.at(
            &raw.version,
            "version",
            format!(
                "{:?} is not supported; use \"prometheus/v1\"",
                raw.version.value
            ),
        );
    }
    if !valid_name(&raw.service.value) {
        e.at(
            &raw.service,
            "service",
            "a service name is letters, digits, '-' and '_'",
        );
    }
    let mut out = Vec::new();
    let mut names = std::collections::HashSet::new();
    for (i, s) in raw.slos.into_iter().enumerate() {
        let f = format!("slos[{i}]");
        if !valid_name(&s.name.value) {
            e.at(
                &s.name,
                &format!("{f}.name"),
                "an SLO name is letters, digits, '-' and '_'",
            );
        } else if !names.insert(s.name.value.clone()) {
            e.at(
                &s.name,
                &format!("{f}.name"),
                format!("SLO {:?} is defined twice", s.name.value),
            );
        }
        if !(s.objective.value > 0.0 && s.objective.value < 100.0) {
            e.at(
                &s.objective,
                &format!("{f}.objective"),
                "the objective is a percentage above 0 and below 100, e.g. 99.9",
            );
        }
        let period = match &s.time_window {
            None => Duration::from_secs(30 * 86400),
            Some(w) => match promql_parser::util::parse_duration(&w.value) {
                Ok(d) if d >= Duration::from_secs(86400) => d,
                _ => {
                    e.at(
                        w,
                        &format!("{f}.time_window"),
                        "a period of at least 1d, e.g. 30d or 28d",
                    );
                    Duration::from_secs(30 * 86400)
                }
            },
        };
        let sli = match (&s.sli.value.events, &s.sli.value.raw, &s.sli.value.plugin) {
            (Some(ev), None, None) => {
                check_query(
                    &mut e,
                    &ev.error_query,
                    &format!("{f}.sli.events.error_query"),
                );
                check_query(
                    &mut e,
                    &ev.total_query,
                    &format!("{f}.sli.events.total_query"),
                );
                Sli::Events {
                    error_query: ev.error_query.value.clone(),
                    total_query: ev.total_query.value.clone(),
                }
            }
            (None, Some(r), None) => {
                check_query(
                    &mut e,
                    &r.error_ratio_query,
                    &format!("{f}.sli.raw.error_ratio_query"),
                );
                Sli::Raw {
                    error_ratio_query: r.error_ratio_query.value.clone(),
                }
            }
            (None, None, Some(_)) => {
                e.at(
                    &s.sli,
                    &format!("{f}.sli.plugin"),
                    "SLI plugins are not supported; use events or raw",
                );
                continue;
            }
            _ => {
                e.at(
                    &s.sli,
                    &format!("{f}.sli"),
                    "give exactly one of events or raw",
                );
                continue;
            }
        };
        let mut labels = raw.labels.clone();
        labels.extend(s.labels);
        out.push(Slo {
            service: raw.service.value.clone(),
            name: s.name.value.clone(),
            description: s.description,
            objective: s.objective.value,
            labels,
            sli,
            period,
            alert_name: s
                .alerting
                .name
                .clone()
                .unwrap_or_else(|| format!("{}HighErrorRate", camel(&s.name.value))),
            alert_labels: s.alerting.labels,
            alert_annotations: s.alerting.annotations,
            page: AlertSpec {
                disable: s.alerting.page_alert.disable,
                labels: s.alerting.page_alert.labels,
                annotations: s.alerting.page_alert.annotations,
            },
            ticket: AlertSpec {
                disable: s.alerting.ticket_alert.disable,
                labels: s.alerting.ticket_alert.labels,
                annotations: s.alerting.ticket_alert.annotations,
            },
        });
    }
    if e.problems.is_empty() {
        Ok(out)
    } else {
        e.problems.sort_by_key(|p| (p.line, p.column));
        Err(RuleFileError {
            problems: e.problems,
        })
    }
}

/// `checkout-availability` -> `CheckoutAvailability`.
pub fn camel(s: &str) -> String {
    s.split(['-', '_'])
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}
