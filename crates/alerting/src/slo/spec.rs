//! SLO specs read into one model with file:line:column errors: Sloth's
//! `prometheus/v1` and Kubernetes `PrometheusServiceLevel` documents and
//! OpenSLO v1 `SLO` documents, several to a file (`---`).

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::documents::{Document, split};
pub use super::windows::Period;
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

/// The format an SLO was written in, the `sloth_spec` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SpecFormat {
    /// Sloth's `version: prometheus/v1`.
    #[default]
    Prometheus,
    /// Sloth's Kubernetes `PrometheusServiceLevel` (`sloth.slok.dev/v1`).
    Kubernetes,
    /// OpenSLO `openslo/v1` `SLO`.
    OpenSlo,
}

impl SpecFormat {
    pub fn label(self) -> &'static str {
        match self {
            SpecFormat::Prometheus => "prometheus/v1",
            SpecFormat::Kubernetes => "sloth.slok.dev/v1",
            SpecFormat::OpenSlo => "openslo/v1",
        }
    }
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
    /// The SLO period (28 or 30 days; 30 unless the spec or caller says).
    pub period: Period,
    pub spec: SpecFormat,
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

/// Choices the spec leaves to the caller (Sloth's `generate` flags).
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The period of SLOs whose spec gives none (`--default-slo-period`).
    pub default_period: Period,
}

/// Problems found while reading one document, located in the file.
pub(crate) struct Errs {
    pub file: String,
    pub line_offset: u64,
    pub problems: Vec<Problem>,
}

impl Errs {
    pub fn at<T>(&mut self, s: &Spanned<T>, field: &str, msg: impl Into<String>) {
        let mut p = Problem::at(&self.file, s, field, msg);
        p.line += self.line_offset;
        self.problems.push(p);
    }

    /// A YAML or shape error of the document.
    pub fn yaml(&mut self, e: serde_saphyr::Error) {
        for mut p in yaml_error(&self.file, e).problems {
            if p.line > 0 {
                p.line += self.line_offset;
            }
            self.problems.push(p);
        }
    }
}

/// What a document says it is.
#[derive(Debug, Deserialize)]
struct Probe {
    #[serde(default)]
    version: Option<Spanned<String>>,
    #[serde(default, rename = "apiVersion")]
    api_version: Option<Spanned<String>>,
    #[serde(default)]
    kind: Option<Spanned<String>>,
}

const FORMATS: &str = "version: prometheus/v1 (Sloth), apiVersion: sloth.slok.dev/v1 with kind: PrometheusServiceLevel (Sloth on Kubernetes), or apiVersion: openslo/v1 with kind: SLO";

fn read_document(doc: &Document, e: &mut Errs, opts: &Options) -> Vec<(Slo, Spanned<String>)> {
    let probe: Probe = match serde_saphyr::from_str(&doc.text) {
        Ok(p) => p,
        Err(err) => {
            e.yaml(err);
            return Vec::new();
        }
    };
    match (&probe.api_version, &probe.version) {
        (Some(api), _) => {
            let kind = probe.kind.as_ref().map(|k| k.value.as_str()).unwrap_or("");
            match api.value.as_str() {
                "sloth.slok.dev/v1" if kind == "PrometheusServiceLevel" => {
                    super::sloth::read_kubernetes(&doc.text, e, opts)
                }
                "openslo/v1" if kind == "SLO" => super::openslo::read(&doc.text, e, opts),
                "openslo/v1" => {
                    e.at(
                        api,
                        "kind",
                        format!(
                            "OpenSLO kind {kind:?} is not supported: write the indicator inline in an SLO document (kind: SLO)"
                        ),
                    );
                    Vec::new()
                }
                v if v.starts_with("openslo/") => {
                    e.at(
                        api,
                        "apiVersion",
                        format!(
                            "OpenSLO {v} is not supported: write the SLO as apiVersion: openslo/v1 (kind: SLO, ratioMetric indicator), or in Sloth's prometheus/v1"
                        ),
                    );
                    Vec::new()
                }
                v => {
                    e.at(
                        api,
                        "apiVersion",
                        format!("{v} {kind} is not an SLO spec firedrill reads; use {FORMATS}"),
                    );
                    Vec::new()
                }
            }
        }
        (None, Some(_)) => super::sloth::read_prometheus(&doc.text, e, opts),
        (None, None) => {
            e.problems.push(Problem {
                file: e.file.clone(),
                line: doc.line_offset + 1,
                column: 1,
                field: "version".into(),
                message: format!("not an SLO spec: give {FORMATS}"),
            });
            Vec::new()
        }
    }
}

/// Reads every SLO of a spec file with the default options (30-day SLOs).
pub fn parse_spec(text: &str, file: &str) -> Result<Vec<Slo>, RuleFileError> {
    parse_spec_with(text, file, &Options::default())
}

/// Reads every SLO of a spec file: one or more `---`-separated documents.
pub fn parse_spec_with(text: &str, file: &str, opts: &Options) -> Result<Vec<Slo>, RuleFileError> {
    let mut e = Errs {
        file: file.into(),
        line_offset: 0,
        problems: Vec::new(),
    };
    let docs = split(text);
    if docs.is_empty() {
        e.problems.push(Problem {
            file: file.into(),
            line: 1,
            column: 1,
            field: "version".into(),
            message: format!("the file has no SLO spec; give {FORMATS}"),
        });
    }
    let mut out = Vec::new();
    let mut seen: HashMap<String, (u64, u64)> = HashMap::new();
    for doc in &docs {
        e.line_offset = doc.line_offset;
        for (slo, name) in read_document(doc, &mut e, opts) {
            let id = slo.id();
            let here = (
                name.referenced.line() + e.line_offset,
                name.referenced.column(),
            );
            if let Some((l, c)) = seen.get(&id) {
                e.at(
                    &name,
                    "slos.name",
                    format!("SLO {id:?} is defined twice (first at {file}:{l}:{c})"),
                );
                continue;
            }
            seen.insert(id, here);
            out.push(slo);
        }
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
