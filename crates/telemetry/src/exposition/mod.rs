//! Parsing of the Prometheus text exposition format (0.0.4) and OpenMetrics
//! 1.0 text: samples with their labels (including `__name__`) and optional
//! timestamps, plus per-family metadata (type, help, unit).

mod parse;

pub use parse::{parse, parse_auto};

use crate::model::Labels;

/// Which text format to parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Prometheus text 0.0.4: timestamps are integer milliseconds.
    PrometheusText,
    /// OpenMetrics 1.0 text: timestamps are (float) seconds; ends with `# EOF`.
    OpenMetrics,
}

impl Format {
    /// The format a `Content-Type` header announces (text format by default).
    pub fn from_content_type(ct: &str) -> Format {
        if ct.split(';').next().is_some_and(|m| {
            m.trim()
                .eq_ignore_ascii_case("application/openmetrics-text")
        }) {
            Format::OpenMetrics
        } else {
            Format::PrometheusText
        }
    }

    /// Guesses the format from the text: OpenMetrics when it has a `# EOF` line.
    pub fn detect(text: &str) -> Format {
        if text.lines().any(|l| l.trim_end() == "# EOF") {
            Format::OpenMetrics
        } else {
            Format::PrometheusText
        }
    }
}

/// A metric family's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MetricType {
    Counter,
    Gauge,
    Histogram,
    GaugeHistogram,
    Summary,
    Info,
    StateSet,
    /// `unknown` in OpenMetrics, `untyped` in the text format.
    #[default]
    Unknown,
}

impl MetricType {
    /// Parses a `# TYPE` keyword (either format's spelling).
    pub fn parse(s: &str) -> Option<MetricType> {
        Some(match s {
            "counter" => MetricType::Counter,
            "gauge" => MetricType::Gauge,
            "histogram" => MetricType::Histogram,
            "gaugehistogram" => MetricType::GaugeHistogram,
            "summary" => MetricType::Summary,
            "info" => MetricType::Info,
            "stateset" => MetricType::StateSet,
            "unknown" | "untyped" => MetricType::Unknown,
            _ => return None,
        })
    }

    /// The name Prometheus's metadata API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::GaugeHistogram => "gaugehistogram",
            MetricType::Summary => "summary",
            MetricType::Info => "info",
            MetricType::StateSet => "stateset",
            MetricType::Unknown => "unknown",
        }
    }

    /// Sample-name suffixes this type's samples may carry.
    pub fn suffixes(self) -> &'static [&'static str] {
        match self {
            MetricType::Counter => &["_total", "_created"],
            MetricType::Histogram => &["_bucket", "_sum", "_count", "_created"],
            MetricType::GaugeHistogram => &["_bucket", "_gsum", "_gcount"],
            MetricType::Summary => &["_sum", "_count", "_created"],
            MetricType::Info => &["_info"],
            _ => &[],
        }
    }
}

/// Metadata of one metric family.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Metadata {
    /// Family name as written in `# TYPE` / `# HELP` / `# UNIT`.
    pub name: String,
    pub metric_type: MetricType,
    pub help: Option<String>,
    pub unit: Option<String>,
}

/// One parsed sample.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedSample {
    /// Labels including `__name__`.
    pub labels: Labels,
    pub value: f64,
    /// Milliseconds since the epoch, when the line had a timestamp.
    pub timestamp_ms: Option<i64>,
    /// 1-based line number.
    pub line: usize,
}

/// A parsed exposition.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Exposition {
    pub samples: Vec<ParsedSample>,
    /// Families in order of first mention.
    pub families: Vec<Metadata>,
}

impl Exposition {
    /// Metadata of the family with exactly this name.
    pub fn family(&self, name: &str) -> Option<&Metadata> {
        self.families.iter().find(|f| f.name == name)
    }

    /// Metadata of the family a sample name belongs to (`x_total` -> `x` for
    /// a counter, `x_bucket` -> `x` for a histogram, ...).
    pub fn metadata_for_sample(&self, metric_name: &str) -> Option<&Metadata> {
        if let Some(f) = self.family(metric_name) {
            return Some(f);
        }
        self.families.iter().find(|f| {
            metric_name
                .strip_prefix(f.name.as_str())
                .is_some_and(|suffix| f.metric_type.suffixes().contains(&suffix))
        })
    }
}

/// A parse error with its 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}
