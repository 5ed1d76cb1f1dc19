//! The line parser for both text formats.

use std::collections::HashMap;

use super::{Exposition, Format, Metadata, MetricType, ParseError, ParsedSample};
use crate::model::{Labels, METRIC_NAME};

/// Parses with the format guessed by [`Format::detect`].
pub fn parse_auto(text: &str) -> Result<Exposition, ParseError> {
    parse(text, Format::detect(text))
}

/// Parses a whole exposition.
///
/// OpenMetrics input must end with `# EOF` and have nothing after it; in the
/// text format `# EOF` is an ordinary comment. Exemplars (`# {...} v ts`
/// after an OpenMetrics sample) are skipped.
pub fn parse(text: &str, format: Format) -> Result<Exposition, ParseError> {
    let om = format == Format::OpenMetrics;
    let mut out = Exposition::default();
    let mut families: HashMap<String, usize> = HashMap::new();
    let mut seen_type: HashMap<String, usize> = HashMap::new();
    let mut seen_help: HashMap<String, usize> = HashMap::new();
    let mut seen_unit: HashMap<String, usize> = HashMap::new();
    let mut eof = false;
    let mut last_line = 0;
    for (i, raw) in text.split('\n').enumerate() {
        let line_no = i + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let err = |message: String| ParseError {
            line: line_no,
            message,
        };
        if eof {
            if !line.trim().is_empty() {
                return Err(err("content after # EOF".into()));
            }
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        last_line = line_no;
        if let Some(comment) = line.strip_prefix('#') {
            if om && line.trim_end() == "# EOF" {
                eof = true;
                continue;
            }
            let mut c = Cur::new(comment);
            if !c.skip_ws() {
                continue; // "#foo": a plain comment
            }
            let keyword = c.token();
            let (seen, kind) = match keyword {
                "HELP" => (&mut seen_help, Kw::Help),
                "TYPE" => (&mut seen_type, Kw::Type),
                "UNIT" if om => (&mut seen_unit, Kw::Unit),
                _ => continue, // other comments
            };
            c.skip_ws();
            let name = c.metric_name().map_err(err)?;
            if name.is_empty() {
                return Err(err(format!("missing metric name in # {keyword}")));
            }
            if seen.insert(name.clone(), line_no).is_some() {
                return Err(err(format!(
                    "second {keyword} line for metric name {name:?}"
                )));
            }
            let idx = *families.entry(name.clone()).or_insert_with(|| {
                out.families.push(Metadata {
                    name: name.clone(),
                    ..Metadata::default()
                });
                out.families.len() - 1
            });
            let fam = &mut out.families[idx];
            let rest = c.rest();
            let rest = rest.strip_prefix([' ', '\t']).unwrap_or(rest);
            match kind {
                Kw::Help => fam.help = Some(unescape_help(rest)),
                Kw::Type => {
                    let t = rest.trim();
                    fam.metric_type = MetricType::parse(t)
                        .ok_or_else(|| err(format!("invalid metric type {t:?}")))?;
                }
                Kw::Unit => fam.unit = Some(rest.trim().to_string()),
            }
            continue;
        }
        let sample = parse_sample(line, om).map_err(err)?;
        out.samples.push(ParsedSample {
            line: line_no,
            ..sample
        });
    }
    if om && !eof {
        return Err(ParseError {
            line: last_line + 1,
            message: "missing # EOF at the end of OpenMetrics input".into(),
        });
    }
    Ok(out)
}

enum Kw {
    Help,
    Type,
    Unit,
}

fn parse_sample(line: &str, om: bool) -> Result<ParsedSample, String> {
    let mut c = Cur::new(line);
    let mut name: Option<String> = None;
    if c.peek() != Some(b'{') {
        let n = c.metric_name()?;
        if n.is_empty() {
            return Err(format!("invalid metric name at {:?}", c.rest()));
        }
        name = Some(n);
    }
    let mut pairs: Vec<(String, String)> = Vec::new();
    if c.eat(b'{') {
        loop {
            c.skip_ws();
            if c.eat(b'}') {
                break;
            }
            let label = if c.peek() == Some(b'"') {
                let q = c.quoted()?;
                c.skip_ws();
                if matches!(c.peek(), Some(b',') | Some(b'}')) {
                    // A quoted metric name inside the braces (UTF-8 names).
                    if name.is_some() {
                        return Err("metric name given twice".into());
                    }
                    name = Some(q);
                    c.eat(b',');
                    continue;
                }
                q
            } else {
                let n = c.label_name();
                if n.is_empty() {
                    return Err(format!("invalid label name at {:?}", c.rest()));
                }
                n.to_string()
            };
            c.skip_ws();
            if !c.eat(b'=') {
                return Err(format!("expected '=' after label name {label:?}"));
            }
            c.skip_ws();
            if c.peek() != Some(b'"') {
                return Err(format!("expected quoted value for label {label:?}"));
            }
            let value = c.quoted()?;
            if pairs.iter().any(|(n, _)| *n == label) {
                return Err(format!("duplicate label name {label:?}"));
            }
            if label == METRIC_NAME {
                if name.is_some() {
                    return Err("metric name given twice".into());
                }
                name = Some(value);
            } else {
                pairs.push((label, value));
            }
            c.skip_ws();
            if c.eat(b',') {
                continue;
            }
            if c.eat(b'}') {
                break;
            }
            return Err(format!("expected ',' or '}}' at {:?}", c.rest()));
        }
    }
    let name = name.ok_or("missing metric name")?;
    if !c.skip_ws() {
        return Err(if c.at_end() {
            "missing value".into()
        } else {
            format!("unexpected {:?} after metric name", c.rest())
        });
    }
    let vtok = c.token();
    let value = parse_value(vtok).ok_or_else(|| format!("invalid value {vtok:?}"))?;
    if value.is_infinite() && !vtok.to_ascii_lowercase().ends_with("inf") {
        // Go's ParseFloat refuses it too (value out of range).
        return Err(format!("value {vtok:?} is out of range for a 64-bit float"));
    }
    c.skip_ws();
    let mut timestamp_ms = None;
    if !c.at_end() && c.peek() != Some(b'#') {
        let tok = c.token();
        let ts = if om {
            seconds_to_ms(tok)
        } else {
            tok.parse::<i64>().ok()
        };
        timestamp_ms = Some(ts.ok_or_else(|| format!("invalid timestamp {tok:?}"))?);
        c.skip_ws();
    }
    if !c.at_end() && c.peek() != Some(b'#') {
        return Err(format!("unexpected {:?} after sample", c.rest()));
    }
    // Anything from '#' on is an exemplar; it is not kept.
    pairs.push((METRIC_NAME.to_string(), name));
    Ok(ParsedSample {
        labels: Labels::new(pairs),
        value,
        timestamp_ms,
        line: 0,
    })
}

/// Parses a sample value: Go-style floats plus `+Inf`, `-Inf`, `NaN`.
fn parse_value(s: &str) -> Option<f64> {
    match s {
        "+Inf" | "Inf" | "+inf" | "inf" => return Some(f64::INFINITY),
        "-Inf" | "-inf" => return Some(f64::NEG_INFINITY),
        "NaN" | "nan" => return Some(f64::NAN),
        _ => {}
    }
    if s.is_empty()
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'))
    {
        return None;
    }
    s.parse().ok()
}

/// Converts an OpenMetrics timestamp (seconds, maybe fractional) to
/// milliseconds, exactly for plain decimals.
pub(crate) fn seconds_to_ms(tok: &str) -> Option<i64> {
    let (neg, digits) = match tok.as_bytes().first()? {
        b'-' => (true, &tok[1..]),
        b'+' => (false, &tok[1..]),
        _ => (false, tok),
    };
    let (ip, fp) = digits.split_once('.').unwrap_or((digits, ""));
    let plain = !(ip.is_empty() && fp.is_empty())
        && ip.bytes().all(|b| b.is_ascii_digit())
        && fp.bytes().all(|b| b.is_ascii_digit());
    if plain {
        let secs: i64 = if ip.is_empty() { 0 } else { ip.parse().ok()? };
        let fb = fp.as_bytes();
        let mut ms = 0i64;
        for i in 0..3 {
            ms = ms * 10 + fb.get(i).map_or(0, |d| i64::from(d - b'0'));
        }
        if fb.get(3).is_some_and(|&d| d >= b'5') {
            ms += 1;
        }
        let total = secs.checked_mul(1000)?.checked_add(ms)?;
        return Some(if neg { -total } else { total });
    }
    let f: f64 = parse_value(tok)?;
    if !f.is_finite() || (f * 1000.0).abs() >= 9.2e18 {
        return None;
    }
    Some((f * 1000.0).round() as i64)
}

fn unescape_help(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(ch) = chars.next() {
        if ch != '\\' {
            out.push(ch);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('\\') => out.push('\\'),
            Some('"') => out.push('"'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// A cursor over one line.
struct Cur<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cur<'a> {
    fn new(s: &'a str) -> Self {
        Cur { s, pos: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Skips spaces and tabs; true when any were skipped.
    fn skip_ws(&mut self) -> bool {
        let start = self.pos;
        while matches!(self.peek(), Some(b' ') | Some(b'\t')) {
            self.pos += 1;
        }
        self.pos > start
    }

    /// Up to the next space or tab.
    fn token(&mut self) -> &'a str {
        let start = self.pos;
        while !matches!(self.peek(), None | Some(b' ') | Some(b'\t')) {
            self.pos += 1;
        }
        &self.s[start..self.pos]
    }

    fn ident(&mut self, colon: bool) -> &'a str {
        let start = self.pos;
        while let Some(b) = self.peek() {
            let ok = b.is_ascii_alphabetic()
                || b == b'_'
                || (colon && b == b':')
                || (self.pos > start && b.is_ascii_digit());
            if !ok {
                break;
            }
            self.pos += 1;
        }
        &self.s[start..self.pos]
    }

    /// A metric name, plain or quoted (empty when none is there).
    fn metric_name(&mut self) -> Result<String, String> {
        if self.peek() == Some(b'"') {
            return self.quoted();
        }
        Ok(self.ident(true).to_string())
    }

    fn label_name(&mut self) -> &'a str {
        self.ident(false)
    }

    /// A double-quoted string with `\\`, `\"` and `\n` escapes.
    fn quoted(&mut self) -> Result<String, String> {
        if !self.eat(b'"') {
            return Err("expected '\"'".into());
        }
        let mut out = String::new();
        let rest = self.rest();
        let mut chars = rest.char_indices();
        while let Some((i, ch)) = chars.next() {
            match ch {
                '"' => {
                    self.pos += i + 1;
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, '\\')) => out.push('\\'),
                    Some((_, '"')) => out.push('"'),
                    Some((_, other)) => {
                        out.push('\\');
                        out.push(other);
                    }
                    None => break,
                },
                _ => out.push(ch),
            }
        }
        Err("unterminated quoted string".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name_of(s: &ParsedSample) -> &str {
        s.labels.metric_name().unwrap()
    }

    #[test]
    fn prometheus_text_format() {
        let text = r#"# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400"}    3 1395066363000

# Escaping in label values:
msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\""} 1.458255915e9

# Minimalistic line:
metric_without_timestamp_and_labels 12.47

# A weird metric from before the epoch:
something_weird{problem="division by zero"} +Inf -3982045

# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.01",} 3102
rpc_duration_seconds{quantile="0.99"} NaN
rpc_duration_seconds_sum 1.7560473e+07
rpc_duration_seconds_count 2693
# HELP http_request_duration_seconds A histogram of the request duration.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.05"} 24054
http_request_duration_seconds_bucket{le="+Inf"} 144320
http_request_duration_seconds_sum 53423
http_request_duration_seconds_count 144320
negative{a=""} -Inf
# EOF is only a comment here
"#;
        let e = parse(text, Format::PrometheusText).unwrap();
        assert_eq!(e.samples.len(), 14);
        let s = &e.samples[0];
        assert_eq!(name_of(s), "http_requests_total");
        assert_eq!(s.labels.get("code"), Some("200"));
        assert_eq!(s.value, 1027.0);
        assert_eq!(s.timestamp_ms, Some(1_395_066_363_000));
        assert_eq!(s.line, 3);
        assert_eq!(e.samples[1].value, 3.0);
        let ms = &e.samples[2];
        assert_eq!(ms.labels.get("path"), Some(r"C:\DIR\FILE.TXT"));
        assert_eq!(
            ms.labels.get("error"),
            Some("Cannot find file:\n\"FILE.TXT\"")
        );
        assert_eq!(ms.value, 1.458255915e9);
        assert_eq!(e.samples[3].timestamp_ms, None);
        assert_eq!(e.samples[4].value, f64::INFINITY);
        assert_eq!(e.samples[4].timestamp_ms, Some(-3_982_045));
        assert!(e.samples[6].value.is_nan());
        assert!(!crate::model::is_stale_nan(e.samples[6].value));
        assert_eq!(e.samples[7].value, 1.7560473e7);
        let neg = e.samples.last().unwrap();
        assert_eq!(neg.value, f64::NEG_INFINITY);
        assert_eq!(neg.labels.len(), 1, "empty label values are dropped");

        let fam = e.family("http_requests_total").unwrap();
        assert_eq!(fam.metric_type, MetricType::Counter);
        assert_eq!(
            fam.help.as_deref(),
            Some("The total number of HTTP requests.")
        );
        let h = e
            .metadata_for_sample("http_request_duration_seconds_bucket")
            .unwrap();
        assert_eq!(h.metric_type, MetricType::Histogram);
        let sm = e.metadata_for_sample("rpc_duration_seconds_count").unwrap();
        assert_eq!(sm.metric_type, MetricType::Summary);
        assert!(e.metadata_for_sample("negative").is_none());
        assert_eq!(Format::detect(text), Format::PrometheusText);
    }

    /// What `prometheus-client` 0.26 writes with `encoding::text::encode`.
    const PROMETHEUS_CLIENT: &str = "\
# HELP http_server_requests Number of HTTP requests served.
# TYPE http_server_requests counter
http_server_requests_total{route=\"/cart\",http_response_status_code=\"200\"} 1532
http_server_requests_total{route=\"/cart\",http_response_status_code=\"503\"} 7
# HELP http_server_request_duration_seconds Duration of HTTP requests.
# TYPE http_server_request_duration_seconds histogram
# UNIT http_server_request_duration_seconds seconds
http_server_request_duration_seconds_sum{route=\"/cart\"} 12.843000000000002
http_server_request_duration_seconds_count{route=\"/cart\"} 1539
http_server_request_duration_seconds_bucket{le=\"0.005\",route=\"/cart\"} 12
http_server_request_duration_seconds_bucket{le=\"0.01\",route=\"/cart\"} 402
http_server_request_duration_seconds_bucket{le=\"+Inf\",route=\"/cart\"} 1539
# HELP inflight_requests Requests being served.
# TYPE inflight_requests gauge
inflight_requests 3
# HELP cpu_ratio CPU usage.
# TYPE cpu_ratio gauge
cpu_ratio -0.25
# HELP build Build information.
# TYPE build info
build_info{version=\"0.1.0\"} 1
# HELP jobs Jobs processed.
# TYPE jobs counter
jobs_total 4 # {trace_id=\"abc\"} 1.0 1700000000.123
jobs_created 1700000000.5
# EOF
";

    #[test]
    fn prometheus_client_output() {
        assert_eq!(Format::detect(PROMETHEUS_CLIENT), Format::OpenMetrics);
        let e = parse_auto(PROMETHEUS_CLIENT).unwrap();
        assert_eq!(e.samples.len(), 12);
        let c = &e.samples[0];
        assert_eq!(name_of(c), "http_server_requests_total");
        assert_eq!(c.labels.get("http_response_status_code"), Some("200"));
        let meta = e.metadata_for_sample("http_server_requests_total").unwrap();
        assert_eq!(meta.name, "http_server_requests");
        assert_eq!(meta.metric_type, MetricType::Counter);
        assert_eq!(
            meta.help.as_deref(),
            Some("Number of HTTP requests served.")
        );
        let h = e
            .metadata_for_sample("http_server_request_duration_seconds_bucket")
            .unwrap();
        assert_eq!(h.metric_type, MetricType::Histogram);
        assert_eq!(h.unit.as_deref(), Some("seconds"));
        let inf = &e.samples[6];
        assert_eq!(inf.labels.get("le"), Some("+Inf"));
        assert_eq!(e.samples[8].value, -0.25);
        assert_eq!(
            e.metadata_for_sample("build_info").unwrap().metric_type,
            MetricType::Info
        );
        let jobs = &e.samples[10];
        assert_eq!(jobs.value, 4.0);
        assert_eq!(
            jobs.timestamp_ms, None,
            "exemplar timestamps are not the sample's"
        );
        assert_eq!(e.samples[11].value, 1_700_000_000.5);
        assert!(e.samples.iter().all(|s| s.timestamp_ms.is_none()));
        // Scraped as plain text, the same bytes parse too.
        let t = parse(PROMETHEUS_CLIENT, Format::PrometheusText).unwrap();
        assert_eq!(t.samples.len(), 12);
    }

    #[test]
    fn openmetrics_timestamps_are_seconds() {
        let text = "# TYPE a gauge\na 1 1700000000\na 2 1700000015.25\na{x=\"y\"} 3 1700000030.0005\na 4 -1.5\n# EOF\n";
        let e = parse(text, Format::OpenMetrics).unwrap();
        let ts: Vec<_> = e.samples.iter().map(|s| s.timestamp_ms.unwrap()).collect();
        assert_eq!(
            ts,
            vec![
                1_700_000_000_000,
                1_700_000_015_250,
                1_700_000_030_001,
                -1500
            ]
        );
        assert_eq!(seconds_to_ms("1.5e3"), Some(1_500_000));
        assert_eq!(seconds_to_ms(".5"), Some(500));
        assert_eq!(seconds_to_ms("abc"), None);
    }

    #[test]
    fn errors_carry_line_numbers() {
        let cases: &[(&str, Format, usize, &str)] = &[
            (
                "a 1\nb{x=\"1\" 2\n",
                Format::PrometheusText,
                2,
                "expected ','",
            ),
            (
                "a 1\n\nb{x=1} 2\n",
                Format::PrometheusText,
                3,
                "quoted value",
            ),
            ("a\n", Format::PrometheusText, 1, "missing value"),
            ("a abc\n", Format::PrometheusText, 1, "invalid value"),
            ("a 1 1.5\n", Format::PrometheusText, 1, "invalid timestamp"),
            ("a 1 2 3\n", Format::PrometheusText, 1, "unexpected"),
            (
                "# TYPE a countr\n",
                Format::PrometheusText,
                1,
                "invalid metric type",
            ),
            (
                "# TYPE a gauge\n# TYPE a gauge\n",
                Format::PrometheusText,
                2,
                "second TYPE",
            ),
            (
                "a{b=\"1\",b=\"2\"} 1\n",
                Format::PrometheusText,
                1,
                "duplicate label",
            ),
            ("a{b=\"1} 1\n", Format::PrometheusText, 1, "unterminated"),
            ("1a 1\n", Format::PrometheusText, 1, "invalid metric name"),
            ("a 1\nb 2\n", Format::OpenMetrics, 3, "missing # EOF"),
            ("a 1\n# EOF\nb 2\n", Format::OpenMetrics, 3, "after # EOF"),
        ];
        for (text, fmt, line, msg) in cases {
            let e = parse(text, *fmt).unwrap_err();
            assert_eq!(e.line, *line, "{text:?}: {e}");
            assert!(e.message.contains(msg), "{text:?}: {e}");
            assert!(e.to_string().starts_with(&format!("line {line}:")));
        }
    }

    #[test]
    fn quoted_names_and_crlf() {
        let text = "{\"my.metric\",\"my.label\"=\"v\"} 1\r\nplain{__name__=\"x\"} 2\r\n";
        let e = parse(text, Format::PrometheusText);
        // `plain{__name__=...}` names the metric twice.
        assert!(e.is_err());
        let e = parse(
            "{\"my.metric\",\"my.label\"=\"v\"} 1\r\n",
            Format::PrometheusText,
        )
        .unwrap();
        assert_eq!(e.samples[0].labels.metric_name(), Some("my.metric"));
        assert_eq!(e.samples[0].labels.get("my.label"), Some("v"));
    }

    #[test]
    fn content_type() {
        assert_eq!(
            Format::from_content_type("application/openmetrics-text; version=1.0.0; charset=utf-8"),
            Format::OpenMetrics
        );
        assert_eq!(
            Format::from_content_type("text/plain; version=0.0.4"),
            Format::PrometheusText
        );
    }
}
