//! `label_replace` and `label_join`.

use super::value::Elem;
use crate::promql::QueryError;

pub fn valid_label_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .enumerate()
            .all(|(i, c)| c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()))
}

/// Expands `$1`, `${1}`, `$name`, `${name}` and `$$` in `template` from `caps`.
fn expand(template: &str, caps: &regex::Captures) -> String {
    let mut out = String::new();
    caps.expand(template, &mut out);
    out
}

pub fn label_replace(
    v: Vec<Elem>,
    dst: &str,
    replacement: &str,
    src: &str,
    regex: &str,
) -> Result<Vec<Elem>, QueryError> {
    let re = regex::Regex::new(&format!("^(?s:{regex})$")).map_err(|e| {
        QueryError::BadData(format!(
            "invalid regular expression in label_replace(): {regex}: {e}"
        ))
    })?;
    if !valid_label_name(dst) {
        return Err(QueryError::BadData(format!(
            "invalid destination label name in label_replace(): {dst}"
        )));
    }
    let mut out = Vec::with_capacity(v.len());
    for mut e in v {
        let value = e.labels.get(src).unwrap_or("").to_string();
        if let Some(caps) = re.captures(&value) {
            let res = expand(replacement, &caps);
            if res.is_empty() {
                e.labels.remove(dst);
            } else {
                e.labels.set(dst, &res);
            }
        }
        out.push(e);
    }
    Ok(out)
}

pub fn label_join(
    v: Vec<Elem>,
    dst: &str,
    sep: &str,
    srcs: &[String],
) -> Result<Vec<Elem>, QueryError> {
    if !valid_label_name(dst) {
        return Err(QueryError::BadData(format!(
            "invalid destination label name in label_join(): {dst}"
        )));
    }
    for s in srcs {
        if !valid_label_name(s) {
            return Err(QueryError::BadData(format!(
                "invalid source label name in label_join(): {s}"
            )));
        }
    }
    Ok(v.into_iter()
        .map(|mut e| {
            let joined: Vec<String> = srcs
                .iter()
                .map(|s| e.labels.get(s).unwrap_or("").to_string())
                .collect();
            let joined = joined.join(sep);
            if joined.is_empty() {
                e.labels.remove(dst);
            } else {
                e.labels.set(dst, &joined);
            }
            e
        })
        .collect())
}
