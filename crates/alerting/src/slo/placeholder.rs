//! The `{{.window}}` placeholder of SLI queries (a Go template variable in
//! Sloth, written `{{.window}}` or `{{ .window }}`): checked, then filled
//! with each window.

/// The only placeholder an SLI query may use.
pub const WINDOW: &str = "{{.window}}";

/// Each `{{ … }}` of `query`: its byte range and what is inside.
fn placeholders(query: &str) -> Result<Vec<(usize, usize, &str)>, String> {
    let mut out = Vec::new();
    let mut rest = 0;
    while let Some(i) = query[rest..].find("{{") {
        let start = rest + i;
        let Some(j) = query[start + 2..].find("}}") else {
            return Err(format!(
                "a placeholder opened at {:?} is never closed; the only placeholder is {WINDOW}",
                snippet(&query[start..])
            ));
        };
        let end = start + 2 + j + 2;
        out.push((start, end, &query[start + 2..end - 2]));
        rest = end;
    }
    Ok(out)
}

fn snippet(s: &str) -> &str {
    match s.char_indices().nth(20) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn is_window(inner: &str) -> bool {
    inner.trim() == ".window"
}

/// Refuses a query that does not use `{{.window}}` (every window would
/// compute the same ratio) or uses any other placeholder.
pub fn check(query: &str) -> Result<(), String> {
    let found = placeholders(query)?;
    if let Some((s, e, _)) = found.iter().find(|(_, _, inner)| !is_window(inner)) {
        return Err(format!(
            "unknown placeholder {}; the only placeholder is {WINDOW} (the window each ratio is computed over)",
            &query[*s..*e]
        ));
    }
    if found.is_empty() {
        return Err(format!(
            "the query has no {WINDOW} placeholder, so every window would compute the same ratio; write the range as [{WINDOW}], e.g. sum(rate(http_requests_total[{WINDOW}]))"
        ));
    }
    Ok(())
}

/// `query` with each `{{.window}}` replaced by `window`; other text as is.
pub fn fill(query: &str, window: &str) -> String {
    let Ok(found) = placeholders(query) else {
        return query.to_string();
    };
    let mut out = String::with_capacity(query.len());
    let mut last = 0;
    for (s, e, inner) in found {
        out.push_str(&query[last..s]);
        if is_window(inner) {
            out.push_str(window);
        } else {
            out.push_str(&query[s..e]);
        }
        last = e;
    }
    out.push_str(&query[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_in_any_spacing_is_filled() {
        let q = "sum(rate(x[{{.window}}])) / sum(rate(y[{{ .window }}]))";
        check(q).unwrap();
        assert_eq!(fill(q, "5m"), "sum(rate(x[5m])) / sum(rate(y[5m]))");
    }

    #[test]
    fn unknown_placeholder_is_named_with_the_valid_one() {
        let e = check("sum(rate(x[{{.windw}}]))").unwrap_err();
        assert!(e.contains("unknown placeholder {{.windw}}"), "{e}");
        assert!(e.contains("{{.window}}"), "{e}");
    }

    #[test]
    fn a_query_without_the_window_is_refused() {
        let e = check("sum(rate(x[5m]))").unwrap_err();
        assert!(
            e.contains("every window would compute the same ratio"),
            "{e}"
        );
    }

    #[test]
    fn an_unclosed_placeholder_is_refused() {
        let e = check("sum(rate(x[{{.window]))").unwrap_err();
        assert!(e.contains("never closed"), "{e}");
    }
}
