//! OpenSLO v1 `SLO` documents with a ratio metric from Prometheus, mapped
//! onto the same model as Sloth specs.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::names::{check_alert_name, check_label_name, check_sloth_name};
use super::placeholder;
use super::spec::{AlertSpec, Errs, Options, Period, Sli, Slo, SpecFormat};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Doc {
    metadata: Meta,
    spec: Spec,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Meta {
    name: Spanned<String>,
    #[serde(default)]
    labels: BTreeMap<String, Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Spec {
    service: Spanned<String>,
    #[serde(default)]
    description: String,
    indicator: Option<Spanned<Indicator>>,
    #[serde(default)]
    time_window: Vec<TimeWindow>,
    objectives: Spanned<Vec<Objective>>,
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
    kind: Spanned<String>,
    spec: BTreeMap<String, Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TimeWindow {
    duration: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Objective {
    target: Spanned<f64>,
}

/// `checkout-availability` -> `CheckoutAvailability`.
pub fn camel(s: &str) -> String {
    s.split(['-', '_', '.'])
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The query of a Prometheus metric source, with `{{.window}}`: a bare
/// counter selector becomes `sum(rate(selector[{{.window}}]))`.
fn query(e: &mut Errs, s: &Source, field: &str) -> Option<String> {
    let ms = &s.metric_source;
    if !ms.kind.value.eq_ignore_ascii_case("prometheus") {
        e.at(
            &ms.kind,
            &format!("{field}.metricSource.type"),
            format!(
                "metric source type {:?} is not supported; use Prometheus",
                ms.kind.value
            ),
        );
        return None;
    }
    let Some(q) = ms.spec.get("query") else {
        e.at(
            &ms.kind,
            &format!("{field}.metricSource.spec.query"),
            "a Prometheus metric source needs spec.query",
        );
        return None;
    };
    let f = format!("{field}.metricSource.spec.query");
    if q.value.contains("{{") {
        if let Err(m) = placeholder::check(&q.value) {
            e.at(q, &f, m);
            return None;
        }
        if let Err(err) = crate::expr::parse(&placeholder::fill(&q.value, "5m")) {
            e.at(q, &f, format!("could not parse the query: {err}"));
            return None;
        }
        return Some(q.value.clone());
    }
    match crate::expr::parse(&q.value) {
        Ok(promql_parser::parser::Expr::VectorSelector(_)) => {
            Some(format!("sum(rate({}[{}]))", q.value, placeholder::WINDOW))
        }
        _ => {
            e.at(
                q,
                &f,
                format!(
                    "write the query with {w} (e.g. sum(rate(x[{w}]))) or as a bare counter selector",
                    w = placeholder::WINDOW
                ),
            );
            None
        }
    }
}

/// Reads an `openslo/v1` `SLO` document.
pub(crate) fn read(text: &str, e: &mut Errs, opts: &Options) -> Vec<(Slo, Spanned<String>)> {
    let doc: Doc = match serde_saphyr::from_str(text) {
        Ok(d) => d,
        Err(err) => {
            e.yaml(err);
            return Vec::new();
        }
    };
    let spec = doc.spec;
    if let Err(m) = check_sloth_name(&doc.metadata.name.value) {
        e.at(&doc.metadata.name, "metadata.name", format!("SLO name {m}"));
    }
    if let Err(m) = check_sloth_name(&spec.service.value) {
        e.at(&spec.service, "spec.service", format!("service {m}"));
    }
    for (k, v) in &doc.metadata.labels {
        if let Err(m) = check_label_name(k) {
            e.at(v, &format!("metadata.labels.{k}"), m);
        }
    }
    let Some(ratio) = spec
        .indicator
        .as_ref()
        .and_then(|i| i.value.spec.ratio_metric.as_ref())
    else {
        let m = "write the indicator inline with a ratioMetric (good or bad, and total); other indicators do not map onto Sloth rules";
        match &spec.indicator {
            Some(i) => e.at(i, "spec.indicator", m),
            None => e.at(&spec.service, "spec.indicator", m),
        }
        return Vec::new();
    };
    let f = "spec.indicator.spec.ratioMetric";
    let total = query(e, &ratio.total, &format!("{f}.total"));
    let error_query = match (&ratio.bad, &ratio.good) {
        (Some(b), _) => query(e, b, &format!("{f}.bad")),
        (None, Some(g)) => query(e, g, &format!("{f}.good"))
            .zip(total.as_ref())
            .map(|(g, t)| format!("({t}) - ({g})")),
        (None, None) => {
            e.at(&spec.service, f, "a ratioMetric needs good or bad");
            None
        }
    };
    let Some(objective) = spec.objectives.value.first() else {
        e.at(&spec.objectives, "spec.objectives", "no objectives");
        return Vec::new();
    };
    let target = objective.target.value;
    if !(target > 0.0 && target < 1.0) {
        e.at(
            &objective.target,
            "spec.objectives[0].target",
            format!("objective target {target} must be between 0 and 1, e.g. 0.999"),
        );
    }
    let period = match spec.time_window.first() {
        None => opts.default_period,
        Some(w) => Period::parse(&w.duration.value).unwrap_or_else(|m| {
            e.at(&w.duration, "spec.timeWindow[0].duration", m);
            opts.default_period
        }),
    };
    let name = doc.metadata.name;
    let alert_name = format!("{}HighErrorRate", camel(&name.value));
    if let Err(m) = check_alert_name(&alert_name) {
        e.at(&name, "metadata.name", format!("the alerts' name, {m}"));
    }
    let (Some(total_query), Some(error_query)) = (total, error_query) else {
        return Vec::new();
    };
    vec![(
        Slo {
            service: spec.service.value.clone(),
            name: name.value.clone(),
            description: spec.description,
            // Percent as Sloth computes it (0.999 -> 99.9).
            objective: target * 100.0,
            labels: doc
                .metadata
                .labels
                .into_iter()
                .map(|(k, v)| (k, v.value))
                .collect(),
            sli: Sli::Events {
                error_query,
                total_query,
            },
            period,
            spec: SpecFormat::OpenSlo,
            // OpenSLO names no alert: `<Name>HighErrorRate` (documented).
            alert_name,
            alert_labels: BTreeMap::new(),
            alert_annotations: BTreeMap::new(),
            page: AlertSpec::default(),
            ticket: AlertSpec::default(),
        },
        name,
    )]
}
