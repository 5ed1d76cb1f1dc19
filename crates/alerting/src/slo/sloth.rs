//! Sloth's SLO documents: `version: prometheus/v1` (snake_case fields) and
//! the Kubernetes `PrometheusServiceLevel` (`sloth.slok.dev/v1`, the same
//! spec with camelCase fields), checked as Sloth checks them plus what the
//! generated rules need to load (label and alert names, the window
//! placeholder).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_saphyr::Spanned;

use super::names::{check_alert_name, check_label_name, check_sloth_name};
use super::placeholder;
use super::spec::{AlertSpec, Errs, Options, Period, Sli, Slo, SpecFormat};

type Labels = BTreeMap<String, Spanned<String>>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KubernetesDoc {
    #[serde(rename = "apiVersion")]
    _api_version: IgnoredAny,
    #[serde(rename = "kind")]
    _kind: IgnoredAny,
    #[serde(default, rename = "metadata")]
    _metadata: Option<IgnoredAny>,
    #[serde(default, rename = "status")]
    _status: Option<IgnoredAny>,
    spec: ServiceLevel,
}

/// A `prometheus/v1` document, or the `spec` of a PrometheusServiceLevel
/// (which has no `version`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceLevel {
    #[serde(default)]
    version: Option<Spanned<String>>,
    service: Spanned<String>,
    #[serde(default)]
    labels: Labels,
    #[serde(default, alias = "sloPlugins")]
    slo_plugins: Option<Spanned<IgnoredAny>>,
    #[serde(default)]
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
    labels: Labels,
    sli: Spanned<SlothSli>,
    #[serde(default)]
    alerting: Option<Spanned<SlothAlerting>>,
    #[serde(default)]
    plugins: Option<Spanned<IgnoredAny>>,
    /// A firedrill extension: the SLO period (Sloth takes it from the
    /// command line, `--default-slo-period`).
    #[serde(default, alias = "timeWindow")]
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
    plugin: Option<Spanned<IgnoredAny>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SlothEvents {
    #[serde(alias = "errorQuery")]
    error_query: Spanned<String>,
    #[serde(alias = "totalQuery")]
    total_query: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SlothRaw {
    #[serde(alias = "errorRatioQuery")]
    error_ratio_query: Spanned<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SlothAlerting {
    #[serde(default)]
    name: Option<Spanned<String>>,
    #[serde(default)]
    labels: Labels,
    #[serde(default)]
    annotations: Labels,
    #[serde(default, alias = "pageAlert")]
    page_alert: SlothAlert,
    #[serde(default, alias = "ticketAlert")]
    ticket_alert: SlothAlert,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SlothAlert {
    #[serde(default)]
    disable: bool,
    #[serde(default)]
    labels: Labels,
    #[serde(default)]
    annotations: Labels,
}

const PLUGINS: &str = "firedrill generates Sloth's default rules (SLI, metadata and alert rules) and runs no plugins; remove the plugins, or generate these SLOs with Sloth";

pub(crate) fn read_prometheus(
    text: &str,
    e: &mut Errs,
    opts: &Options,
) -> Vec<(Slo, Spanned<String>)> {
    let doc: ServiceLevel = match serde_saphyr::from_str(text) {
        Ok(d) => d,
        Err(err) => {
            e.yaml(err);
            return Vec::new();
        }
    };
    if let Some(v) = doc.version.as_ref().filter(|v| v.value != "prometheus/v1") {
        e.at(
            v,
            "version",
            format!(
                "{:?} is not supported; use \"prometheus/v1\" (or apiVersion: sloth.slok.dev/v1 for a PrometheusServiceLevel)",
                v.value
            ),
        );
    }
    read_service_level(doc, e, opts, SpecFormat::Prometheus, "")
}

pub(crate) fn read_kubernetes(
    text: &str,
    e: &mut Errs,
    opts: &Options,
) -> Vec<(Slo, Spanned<String>)> {
    match serde_saphyr::from_str::<KubernetesDoc>(text) {
        Ok(d) => {
            if let Some(v) = &d.spec.version {
                e.at(
                    v,
                    "spec.version",
                    "a PrometheusServiceLevel has no version (its apiVersion says it)",
                );
            }
            read_service_level(d.spec, e, opts, SpecFormat::Kubernetes, "spec.")
        }
        Err(err) => {
            e.yaml(err);
            Vec::new()
        }
    }
}

/// Label names and values, each checked; the plain map.
fn labels(e: &mut Errs, l: &Labels, field: &str, annotations: bool) -> BTreeMap<String, String> {
    for (k, v) in l {
        if let Err(m) = check_label_name(k) {
            let m = if annotations {
                m.replace("label name", "annotation name")
            } else {
                m
            };
            e.at(v, &format!("{field}.{k}"), m);
        }
        if v.value.is_empty() {
            e.at(v, &format!("{field}.{k}"), "the value is empty");
        }
        if let Err(m) = crate::rules::template::check(&v.value) {
            e.at(v, &format!("{field}.{k}"), m);
        }
    }
    l.iter()
        .map(|(k, v)| (k.clone(), v.value.clone()))
        .collect()
}

fn check_query(e: &mut Errs, q: &Spanned<String>, field: &str) {
    if let Err(m) = placeholder::check(&q.value) {
        e.at(q, field, m);
        return;
    }
    let filled = placeholder::fill(&q.value, "5m");
    if let Err(err) = crate::expr::parse(&filled) {
        e.at(q, field, format!("could not parse the query: {err}"));
    }
}

fn read_sli(e: &mut Errs, sli: &Spanned<SlothSli>, f: &str) -> Option<Sli> {
    match (&sli.value.events, &sli.value.raw, &sli.value.plugin) {
        (_, _, Some(p)) => {
            e.at(
                p,
                &format!("{f}.sli.plugin"),
                "SLI plugins are not supported: write the SLI as events (error_query and total_query) or raw (error_ratio_query)",
            );
            None
        }
        (Some(ev), None, None) => {
            check_query(e, &ev.error_query, &format!("{f}.sli.events.error_query"));
            check_query(e, &ev.total_query, &format!("{f}.sli.events.total_query"));
            if ev.error_query.value.trim() == ev.total_query.value.trim() {
                e.at(
                    &ev.total_query,
                    &format!("{f}.sli.events.total_query"),
                    "the error and total queries are the same",
                );
            }
            Some(Sli::Events {
                error_query: ev.error_query.value.clone(),
                total_query: ev.total_query.value.clone(),
            })
        }
        (None, Some(r), None) => {
            check_query(
                e,
                &r.error_ratio_query,
                &format!("{f}.sli.raw.error_ratio_query"),
            );
            Some(Sli::Raw {
                error_ratio_query: r.error_ratio_query.value.clone(),
            })
        }
        _ => {
            e.at(
                sli,
                &format!("{f}.sli"),
                "give exactly one of events or raw",
            );
            None
        }
    }
}

fn read_alert(e: &mut Errs, a: &SlothAlert, f: &str) -> AlertSpec {
    AlertSpec {
        disable: a.disable,
        labels: labels(e, &a.labels, &format!("{f}.labels"), false),
        annotations: labels(e, &a.annotations, &format!("{f}.annotations"), true),
    }
}

fn read_service_level(
    sl: ServiceLevel,
    e: &mut Errs,
    opts: &Options,
    spec: SpecFormat,
    prefix: &str,
) -> Vec<(Slo, Spanned<String>)> {
    let (plugins_field, page_field, ticket_field) = match spec {
        SpecFormat::Kubernetes => ("sloPlugins", "pageAlert", "ticketAlert"),
        _ => ("slo_plugins", "page_alert", "ticket_alert"),
    };
    if let Some(p) = &sl.slo_plugins {
        e.at(
            p,
            &format!("{prefix}{plugins_field}"),
            format!("SLO plugins are not supported: {PLUGINS}"),
        );
    }
    if let Err(m) = check_sloth_name(&sl.service.value) {
        e.at(
            &sl.service,
            &format!("{prefix}service"),
            format!("service {m}"),
        );
    }
    let service_labels = labels(e, &sl.labels, &format!("{prefix}labels"), false);
    let mut out = Vec::new();
    for (i, s) in sl.slos.into_iter().enumerate() {
        let f = format!("{prefix}slos[{i}]");
        if let Err(m) = check_sloth_name(&s.name.value) {
            e.at(&s.name, &format!("{f}.name"), format!("SLO name {m}"));
        }
        if !(s.objective.value > 0.0 && s.objective.value < 100.0) {
            e.at(
                &s.objective,
                &format!("{f}.objective"),
                "the objective is a percentage above 0 and below 100, e.g. 99.9",
            );
        }
        if let Some(p) = &s.plugins {
            e.at(
                p,
                &format!("{f}.plugins"),
                format!("SLO plugins are not supported: {PLUGINS}"),
            );
        }
        let period = match &s.time_window {
            None => opts.default_period,
            Some(w) => Period::parse(&w.value).unwrap_or_else(|m| {
                e.at(w, &format!("{f}.time_window"), m);
                opts.default_period
            }),
        };
        let slo_labels = labels(e, &s.labels, &format!("{f}.labels"), false);
        let sli = read_sli(e, &s.sli, &f);
        let alerting = s.alerting.unwrap_or_else(|| Spanned {
            value: SlothAlerting::default(),
            referenced: s.name.referenced,
            defined: s.name.defined,
        });
        let a = &alerting.value;
        let alert_labels = labels(e, &a.labels, &format!("{f}.alerting.labels"), false);
        let alert_annotations = labels(
            e,
            &a.annotations,
            &format!("{f}.alerting.annotations"),
            true,
        );
        let page = read_alert(e, &a.page_alert, &format!("{f}.alerting.{page_field}"));
        let ticket = read_alert(e, &a.ticket_alert, &format!("{f}.alerting.{ticket_field}"));
        let alert_name = match &a.name {
            Some(n) => {
                if let Err(m) = check_alert_name(&n.value) {
                    e.at(n, &format!("{f}.alerting.name"), m);
                }
                n.value.clone()
            }
            None => {
                if !(page.disable && ticket.disable) {
                    e.at(
                        &alerting,
                        &format!("{f}.alerting.name"),
                        format!(
                            "alerting.name is required unless both alerts are disabled (as in Sloth), e.g. name: {}HighErrorRate",
                            super::openslo::camel(&s.name.value)
                        ),
                    );
                }
                String::new()
            }
        };
        let Some(sli) = sli else { continue };
        let mut all_labels = service_labels.clone();
        all_labels.extend(slo_labels);
        out.push((
            Slo {
                service: sl.service.value.clone(),
                name: s.name.value.clone(),
                description: s.description,
                objective: s.objective.value,
                labels: all_labels,
                sli,
                period,
                spec,
                alert_name,
                alert_labels,
                alert_annotations,
                page,
                ticket,
            },
            s.name,
        ));
    }
    out
}
