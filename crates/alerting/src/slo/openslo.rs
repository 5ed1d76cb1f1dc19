//! OpenSLO v1 `SLO` documents with a ratio metric from Prometheus, mapped
//! onto the same model as Sloth specs.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use super::spec::{AlertSpec, Sli, Slo, camel};
use crate::rules::file::{Problem, RuleFileError, yaml_error};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Doc {
    api_version: String,
    kind: String,
    metadata: Meta,
    spec: Spec,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Meta {
    name: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Spec {
    service: String,
    #[serde(default)]
    description: String,
    indicator: Option<Indicator>,
    #[serde(default)]
    time_window: Vec<TimeWindow>,
    objectives: Vec<Objective>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Indicator {
    spec: IndicatorSpec,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct IndicatorSpec {
    ratio_metric: Option<Ratio>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Ratio {
    good: Option<Source>,
    bad: Option<Source>,
    total: Source,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Source {
    metric_source: MetricSource,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MetricSource {
    #[serde(rename = "type")]
    kind: String,
    spec: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TimeWindow {
    duration: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Objective {
    target: f64,
}

fn err(file: &str, msg: impl Into<String>) -> RuleFileError {
    RuleFileError {
        problems: vec![Problem {
            file: file.into(),
            line: 1,
            column: 1,
            field: "spec".into(),
            message: msg.into(),
        }],
    }
}

fn query(s: &Source, file: &str) -> Result<String, RuleFileError> {
    if !s.metric_source.kind.eq_ignore_ascii_case("prometheus") {
        return Err(err(
            file,
            format!(
                "metric source type {:?} is not supported; use Prometheus",
                s.metric_source.kind
            ),
        ));
    }
    let q = s
        .metric_source
        .spec
        .get("query")
        .ok_or_else(|| err(file, "a Prometheus metric source needs spec.query"))?;
    if q.contains("{{.window}}") || q.contains("{{ .window }}") {
        return Ok(q.clone());
    }
    // A bare counter selector: its rate over each window.
    match promql_parser::parser::parse(q) {
        Ok(promql_parser::parser::Expr::VectorSelector(_)) => {
            Ok(format!("sum(rate({q}[{{{{.window}}}}]))"))
        }
        _ => Err(err(
            file,
            format!(
                "query {q:?}: write it with {{{{.window}}}} (e.g. sum(rate(x[{{{{.window}}}}]))) or as a bare counter selector"
            ),
        )),
    }
}

pub fn parse(text: &str, file: &str) -> Result<Vec<Slo>, RuleFileError> {
    let doc: Doc = serde_saphyr::from_str(text).map_err(|e| yaml_error(file, e))?;
    if doc.api_version != "openslo/v1" || doc.kind != "SLO" {
        return Err(err(
            file,
            format!("{} {} is not an openslo/v1 SLO", doc.api_version, doc.kind),
        ));
    }
    let ratio = doc
        .spec
        .indicator
        .and_then(|i| i.spec.ratio_metric)
        .ok_or_else(|| {
            err(
                file,
                "only inline indicators with a ratioMetric map onto firedrill SLOs",
            )
        })?;
    let total = query(&ratio.total, file)?;
    let error_query = match (&ratio.bad, &ratio.good) {
        (Some(b), _) => query(b, file)?,
        (None, Some(g)) => format!("({total}) - ({})", query(g, file)?),
        (None, None) => return Err(err(file, "a ratioMetric needs good or bad")),
    };
    let objective = doc
        .spec
        .objectives
        .first()
        .ok_or_else(|| err(file, "no objectives"))?
        .target;
    if !(objective > 0.0 && objective < 1.0) {
        return Err(err(
            file,
            format!("objective target {objective} must be between 0 and 1"),
        ));
    }
    let period = doc
        .spec
        .time_window
        .first()
        .and_then(|w| promql_parser::util::parse_duration(&w.duration).ok())
        .unwrap_or(Duration::from_secs(30 * 86400));
    Ok(vec![Slo {
        service: doc.spec.service.clone(),
        name: doc.metadata.name.clone(),
        description: doc.spec.description,
        objective: objective * 100.0,
        labels: doc.metadata.labels,
        sli: Sli::Events {
            error_query,
            total_query: total,
        },
        period,
        alert_name: format!("{}HighErrorRate", camel(&doc.metadata.name)),
        alert_labels: BTreeMap::new(),
        alert_annotations: BTreeMap::new(),
        page: AlertSpec::default(),
        ticket: AlertSpec::default(),
    }])
}
