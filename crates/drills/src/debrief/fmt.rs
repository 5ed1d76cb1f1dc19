//! Formatting shared by the text, SVG and HTML debriefs and the history.

/// Escapes text for HTML and SVG (element content and quoted attributes).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// An offset from the drill's start: `t+mm:ss` (minutes may pass 59;
/// `t-mm:ss` before the start).
pub fn offset(t_s: f64) -> String {
    let sign = if t_s < 0.0 { '-' } else { '+' };
    let total = t_s.abs().round() as u64;
    format!("t{sign}{:02}:{:02}", total / 60, total % 60)
}

/// A duration in seconds for people: `45s`, `2m 05s`, `1h 02m`.
pub fn duration(s: f64) -> String {
    let total = s.max(0.0).round() as u64;
    match total {
        0..60 => format!("{total}s"),
        60..3600 => format!("{}m {:02}s", total / 60, total % 60),
        _ => format!("{}h {:02}m", total / 3600, (total % 3600) / 60),
    }
}

/// An optional duration; `—` for never.
pub fn maybe_duration(s: Option<f64>) -> String {
    s.map(duration).unwrap_or_else(|| "—".into())
}

/// A number without a needless `.0`, at most `digits` decimals.
pub fn number(x: f64, digits: usize) -> String {
    let s = format!("{x:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A value for an axis label: 3 significant digits, without trailing zeros.
pub fn value(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    let magnitude = x.abs().log10().floor() as i32;
    let digits = (2 - magnitude).clamp(0, 6) as usize;
    number(x, digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape(r#"<script>alert("x") & 'y'</script>"#),
            "&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;"
        );
    }

    #[test]
    fn offsets_durations_and_values() {
        assert_eq!(offset(0.0), "t+00:00");
        assert_eq!(offset(65.4), "t+01:05");
        assert_eq!(offset(3725.0), "t+62:05");
        assert_eq!(offset(-5.0), "t-00:05");
        assert_eq!(duration(45.0), "45s");
        assert_eq!(duration(125.0), "2m 05s");
        assert_eq!(duration(3720.0), "1h 02m");
        assert_eq!(maybe_duration(None), "—");
        assert_eq!(value(0.995), "0.995");
        assert_eq!(value(0.5), "0.5");
        assert_eq!(value(1234.0), "1234");
        assert_eq!(value(12.5), "12.5");
        assert_eq!(number(80.0, 1), "80");
    }
}
