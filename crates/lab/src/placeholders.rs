//! `{name}` placeholders in journey and call paths, filled at request time.

/// Replaces every `{name}` in `template` with `lookup(name)`; a placeholder
/// without a value is left as it is (the callee then answers 404, which shows
/// up in metrics instead of vanishing).
pub fn fill(template: &str, mut lookup: impl FnMut(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        out.push_str(&rest[..open]);
        let name = &rest[open + 1..open + close];
        match lookup(name) {
            Some(v) => out.push_str(&v),
            None => out.push_str(&rest[open..=open + close]),
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

/// The placeholder names in `template`, in order.
pub fn names(template: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        out.push(&rest[open + 1..open + close]);
        rest = &rest[open + close + 1..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_known_and_keeps_unknown() {
        let s = fill("/product/{id}/x/{other}", |n| {
            (n == "id").then(|| "42".to_string())
        });
        assert_eq!(s, "/product/42/x/{other}");
        assert_eq!(names("/a/{b}/{c}"), vec!["b", "c"]);
        assert_eq!(fill("/plain", |_| None), "/plain");
        assert_eq!(fill("/broken{", |_| Some("x".into())), "/broken{");
    }
}
