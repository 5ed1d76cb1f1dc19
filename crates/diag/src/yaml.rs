//! serde-saphyr errors as [`Problem`]s: the position, the field at fault
//! (when the text is at hand) and a message in plain words — numbers out of
//! range are called too large (or negative), not "invalid", and a file with
//! several YAML documents is named as such instead of the library's advice
//! to call another function.

use serde::de::DeserializeOwned;
use serde_saphyr::{Error, Spanned};

use crate::node::{Node, field_at};
use crate::problem::{Problem, Problems};

/// Deserializes one YAML document; a mistake comes back as a problem in `file`.
pub fn from_str<T: DeserializeOwned>(text: &str, file: &str) -> Result<T, Problems> {
    serde_saphyr::from_str(text).map_err(|e| Problems::from(problem(file, Some(text), &e)))
}

/// `e` as a problem in `file`. With the `source` text the field at fault is
/// named; without it the value at fault is read from the error's snippet.
pub fn problem(file: &str, source: Option<&str>, e: &Error) -> Problem {
    let (mut line, mut column) = e
        .location()
        .map(|l| (l.line(), l.column()))
        .unwrap_or((0, 0));
    let line_text = source_line(source, e, line);
    let inner = original(e);
    let message = match inner {
        Error::MultipleDocuments { .. } => {
            if let Some(start) = source.and_then(|t| document_start(t, line)) {
                (line, column) = (start, 1);
            }
            "this file holds several YAML documents (the second starts here); \
             firedrill reads one: remove the `---` and what follows, or split the file"
                .to_string()
        }
        Error::InvalidScalar { ty, .. } => {
            let value = line_text
                .as_deref()
                .and_then(|l| scalar_at(l, column as usize));
            scalar_message(ty, value.as_deref())
        }
        Error::NonFiniteFloat { value, .. } => {
            let v = value.to_ascii_lowercase();
            if v.contains("nan") || v.contains("inf") {
                format!("{value} is not a finite number")
            } else {
                format!("the number {value} is out of range (too large for a 64-bit float)")
            }
        }
        Error::Eof { .. } => "the file is empty or ends too early".to_string(),
        Error::DuplicateMappingKey { key, .. } => match key {
            Some(k) => format!("the key {k:?} appears twice in this mapping"),
            None => "a key appears twice in this mapping".to_string(),
        },
        other => without_position(&other.to_string()),
    };
    let field = match source {
        Some(text) if line > 0 => serde_saphyr::from_str::<Spanned<Node>>(text)
            .map(|root| field_at(&root, line, column))
            .unwrap_or_default(),
        _ => String::new(),
    };
    Problem::new(file, line, column, field, message)
}

/// The error itself, without the snippet and alias wrappers.
fn original(mut e: &Error) -> &Error {
    loop {
        match e {
            Error::WithSnippet { error, .. } | Error::AliasError { error, .. } => e = error,
            other => return other,
        }
    }
}

/// Line `line` (1-based) of the source, or of the error's snippet.
fn source_line(source: Option<&str>, e: &Error, line: u64) -> Option<String> {
    let line = usize::try_from(line).ok()?;
    if let Some(text) = source {
        return text.lines().nth(line.checked_sub(1)?).map(str::to_string);
    }
    let Error::WithSnippet { regions, .. } = e else {
        return None;
    };
    regions
        .iter()
        .find(|r| (r.start_line..=r.end_line).contains(&line))
        .and_then(|r| r.text.lines().nth(line - r.start_line))
        .map(str::to_string)
}

/// The line of the `---` that opens the document whose content the parser
/// reported at `line`, when only blank lines and comments lie between.
fn document_start(text: &str, line: u64) -> Option<u64> {
    let lines: Vec<&str> = text.lines().collect();
    let mut n = usize::try_from(line).ok()?.min(lines.len());
    while n >= 1 {
        let l = lines[n - 1].trim();
        if l.starts_with("---") {
            return Some(n as u64);
        }
        if n as u64 != line && !(l.is_empty() || l.starts_with('#')) {
            return None;
        }
        n -= 1;
    }
    None
}

/// The plain scalar (or quoted text) starting at `column` (1-based) of `line`.
fn scalar_at(line: &str, column: usize) -> Option<String> {
    let rest: String = line.chars().skip(column.checked_sub(1)?).collect();
    for q in ['"', '\''] {
        if let Some(quoted) = rest.strip_prefix(q) {
            return quoted.split(q).next().map(str::to_string);
        }
    }
    let end = rest.find([',', ']', '}', '#']).unwrap_or(rest.len());
    let v = rest[..end].trim();
    (!v.is_empty()).then(|| v.to_string())
}

/// The range of an integer type named by serde-saphyr.
fn int_range(ty: &str) -> Option<(i128, u128)> {
    Some(match ty {
        "i8" => (i8::MIN.into(), i8::MAX as u128),
        "i16" => (i16::MIN.into(), i16::MAX as u128),
        "i32" => (i32::MIN.into(), i32::MAX as u128),
        "i64" => (i64::MIN.into(), i64::MAX as u128),
        "isize" => (isize::MIN as i128, isize::MAX as u128),
        "i128" => (i128::MIN, i128::MAX as u128),
        "u8" => (0, u8::MAX.into()),
        "u16" => (0, u16::MAX.into()),
        "u32" => (0, u32::MAX.into()),
        "u64" => (0, u64::MAX.into()),
        "usize" => (0, usize::MAX as u128),
        "u128" => (0, u128::MAX),
        _ => return None,
    })
}

/// What is wrong with a scalar that could not be read as `ty`.
fn scalar_message(ty: &str, value: Option<&str>) -> String {
    if let Some((min, max)) = int_range(ty) {
        let Some(v) = value else {
            return "not a whole number (or out of range)".to_string();
        };
        let digits: String = v.chars().filter(|c| *c != '_').collect();
        let (negative, magnitude) = match digits.strip_prefix('-') {
            Some(m) => (true, m),
            None => (false, digits.strip_prefix('+').unwrap_or(&digits)),
        };
        if magnitude.is_empty() || !magnitude.bytes().all(|b| b.is_ascii_digit()) {
            return format!("{v:?} is not a whole number");
        }
        let big = magnitude.parse::<u128>().ok();
        if negative {
            if min == 0 {
                return format!("{v} is negative: use a whole number from 0 to {max}");
            }
            if big.is_none_or(|m| m > min.unsigned_abs()) {
                return format!("{v} is out of range: the smallest allowed here is {min}");
            }
        } else if big.is_none_or(|m| m > max) {
            return format!("{v} is too large: the largest allowed here is {max}");
        }
        return format!("{v:?} is not a whole number from {min} to {max}");
    }
    match ty {
        "floating point" | "f32" | "f64" => match value {
            Some(v) if v.parse::<f64>().is_ok_and(f64::is_infinite) => {
                format!("{v} is too large for a number")
            }
            Some(v) => format!("{v:?} is not a number"),
            None => "not a number".to_string(),
        },
        "boolean" | "bool" => "not true or false".to_string(),
        other => format!("not a valid {other}"),
    }
}

/// The library's message without its ` at line L, column C` tail (the
/// position is reported separately) and its configuration advice.
fn without_position(message: &str) -> String {
    let mut m = message.to_string();
    if let Some(i) = m.rfind(" at line ")
        && m[i..].contains("column")
    {
        m.truncate(i);
    }
    for advice in [", set DuplicateKeyPolicy", "; use from_str_multiple"] {
        if let Some(i) = m.find(advice) {
            m.truncate(i);
        }
    }
    m.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Shape {
        #[serde(default)]
        services: Vec<Svc>,
        #[serde(default)]
        ratio: Option<f64>,
        #[serde(default)]
        on: Option<bool>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Svc {
        name: String,
        #[serde(default)]
        instances: Option<i64>,
        #[serde(default)]
        port: Option<u16>,
    }

    fn problem_of(text: &str) -> Problem {
        from_str::<Shape>(text, "f.yaml").unwrap_err().problems[0].clone()
    }

    #[test]
    fn a_number_too_large_is_called_too_large() {
        let p = problem_of("services:\n  - name: a\n    instances: 18446744073709551616\n");
        assert_eq!((p.line, p.column), (3, 16), "{p}");
        assert_eq!(p.field, "services[0].instances");
        assert_eq!(
            p.message,
            "18446744073709551616 is too large: the largest allowed here is 9223372036854775807"
        );
        let p = problem_of("services: [{name: a, port: 70000}]\n");
        assert_eq!(
            p.to_string(),
            "f.yaml:1:28: services[0].port: 70000 is too large: the largest allowed here is 65535"
        );
        let p = problem_of("services: [{name: a, port: -1}]\n");
        assert!(p.message.starts_with("-1 is negative"), "{p}");
        let p = problem_of("services: [{name: a, instances: -99999999999999999999}]\n");
        assert!(p.message.contains("out of range"), "{p}");
        let p = problem_of("ratio: 1e999\n");
        assert_eq!(p.message, "1e999 is too large for a number");
    }

    #[test]
    fn not_a_number_stays_not_a_number() {
        let p = problem_of("services:\n  - name: a\n    instances: lots\n");
        assert_eq!(p.message, "\"lots\" is not a whole number");
        assert_eq!((p.line, p.column), (3, 16));
        assert_eq!(problem_of("ratio: x\n").message, "\"x\" is not a number");
        assert_eq!(problem_of("on: perhaps\n").message, "not true or false");
    }

    #[test]
    fn several_documents_are_named_with_the_second_ones_position() {
        let p = problem_of("services: []\n---\nservices: []\n");
        assert_eq!((p.line, p.column), (2, 1), "{p}");
        assert!(
            p.message
                .starts_with("this file holds several YAML documents"),
            "{p}"
        );
        assert!(!p.message.contains("from_str_multiple"), "{p}");
        let p = problem_of("services: []\n---\n# two\n\nratio: 1\n");
        assert_eq!(p.line, 2, "{p}");
    }

    #[test]
    fn without_the_source_the_snippet_still_gives_the_value() {
        let e = serde_saphyr::from_str::<Shape>("services:\n  - name: a\n    port: 99999\n")
            .unwrap_err();
        let p = problem("f.yaml", None, &e);
        assert_eq!(
            p.to_string(),
            "f.yaml:3:11: 99999 is too large: the largest allowed here is 65535"
        );
        let e = serde_saphyr::from_str::<Shape>("ratio: 1\n---\nratio: 2\n").unwrap_err();
        let p = problem("f.yaml", None, &e);
        assert!(!p.message.contains("from_str_multiple"), "{p}");
    }

    #[test]
    fn other_errors_keep_their_words_without_the_position() {
        let p = problem_of("services:\n  - name: a\n    colour: red\n");
        assert_eq!(
            (p.line, p.column, p.field.as_str()),
            (3, 5, "services[0].colour")
        );
        assert!(p.message.starts_with("unknown field `colour`"), "{p}");
        assert!(!p.message.contains("at line"), "{p}");
        let p = problem_of("ratio: 1\nratio: 2\n");
        assert_eq!(p.message, "the key \"ratio\" appears twice in this mapping");
        let p = problem_of("services: [\n");
        assert!(p.line >= 1 && !p.message.is_empty(), "{p}");
        let p = problem_of("services:\n  - instances: 3\n");
        assert!(p.message.contains("missing field `name`"), "{p}");
    }

    #[test]
    fn scalars_are_read_from_their_column() {
        assert_eq!(scalar_at("a: [1, 22, 3]", 8).as_deref(), Some("22"));
        assert_eq!(scalar_at("a: \"x y\" # c", 4).as_deref(), Some("x y"));
        assert_eq!(scalar_at("a: 5 # five", 4).as_deref(), Some("5"));
        assert_eq!(scalar_at("a:", 9), None);
    }
}
