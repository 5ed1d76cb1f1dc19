//! Turning a scrape response into samples and metadata.

use crate::api::MetricMetadata;
use crate::exposition::{Format, parse as parse_exposition};
use crate::model::Labels;

/// The samples of one scrape: labels (with `__name__`), value, and the
/// sample's own timestamp if the exposition carried one.
#[derive(Debug, Default)]
pub struct Scraped {
    pub samples: Vec<(Labels, f64, Option<i64>)>,
    pub metadata: Vec<(String, MetricMetadata)>,
}

/// Parses a body in the format its `Content-Type` names (or, without one,
/// the format it looks like).
pub fn parse(text: &str, content_type: Option<&str>) -> Result<Scraped, String> {
    let format = match content_type {
        Some(ct) if !ct.is_empty() => Format::from_content_type(ct),
        _ => Format::detect(text),
    };
    let exp = parse_exposition(text, format).map_err(|e| format!("parsing the exposition: {e}"))?;
    let metadata = exp
        .families
        .iter()
        .map(|f| {
            (
                f.name.clone(),
                MetricMetadata {
                    kind: f.metric_type.as_str().to_string(),
                    help: f.help.clone().unwrap_or_default(),
                    unit: f.unit.clone().unwrap_or_default(),
                },
            )
        })
        .collect();
    let samples = exp
        .samples
        .into_iter()
        .map(|s| (s.labels, s.value, s.timestamp_ms))
        .collect();
    Ok(Scraped { samples, metadata })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_prometheus_client_writes() {
        let body = "# HELP x_requests Requests.\n# TYPE x_requests counter\nx_requests_total{route=\"/\"} 3\n# EOF\n";
        let s = parse(body, Some("text/plain; version=0.0.4; charset=utf-8")).unwrap();
        assert_eq!(s.samples.len(), 1);
        assert_eq!(s.samples[0].0.metric_name(), Some("x_requests_total"));
        assert_eq!(s.samples[0].1, 3.0);
        assert_eq!(s.metadata[0].1.kind, "counter");
        assert!(parse("bad line {", None).is_err());
    }
}
