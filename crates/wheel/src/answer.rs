//! Answer kinds and checking. A truth is a name (with the other spellings
//! that mean the same, such as `cart/1` and its address), a number with a
//! tolerance, or a set (order and case do not matter). What a player types
//! is normalised before the comparison: case, surrounding quotes and
//! spaces, a trailing unit on numbers.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Answer {
    Name {
        value: String,
        /// Other spellings accepted (an instance's address for `cart/1`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        aliases: Vec<String>,
    },
    Number {
        value: f64,
        /// Accepted when `|given - value| <= tolerance`.
        tolerance: f64,
        /// Shown after the number (`ms`, `%`, `req/s`); accepted after it.
        #[serde(default)]
        unit: String,
    },
    /// Order does not matter; an empty set is answered `none`.
    Set { values: Vec<String> },
}

impl Answer {
    pub fn name(value: impl Into<String>) -> Answer {
        Answer::Name {
            value: value.into(),
            aliases: Vec::new(),
        }
    }

    pub fn name_or(value: impl Into<String>, aliases: Vec<String>) -> Answer {
        Answer::Name {
            value: value.into(),
            aliases,
        }
    }

    pub fn number(value: f64, tolerance: f64, unit: &str) -> Answer {
        Answer::Number {
            value,
            tolerance: tolerance.abs(),
            unit: unit.into(),
        }
    }

    pub fn set<I: IntoIterator<Item = S>, S: Into<String>>(values: I) -> Answer {
        let mut values: Vec<String> = values.into_iter().map(Into::into).collect();
        values.sort();
        values.dedup();
        Answer::Set { values }
    }

    /// The kind's name, as the API shows it (`name`, `number`, `set`).
    pub fn kind(&self) -> &'static str {
        match self {
            Answer::Name { .. } => "name",
            Answer::Number { .. } => "number",
            Answer::Set { .. } => "set",
        }
    }

    /// Does `given` (as a player typed it) match this truth?
    pub fn check(&self, given: &str) -> bool {
        match self {
            Answer::Name { value, aliases } => {
                let g = normalise(given);
                !g.is_empty()
                    && std::iter::once(value)
                        .chain(aliases)
                        .any(|v| normalise(v) == g)
            }
            Answer::Number {
                value,
                tolerance,
                unit,
            } => match parse_number(given, unit) {
                Some(x) => (x - value).abs() <= *tolerance + f64::EPSILON * value.abs().max(1.0),
                None => false,
            },
            Answer::Set { values } => {
                let Some(mut g) = parse_set(given) else {
                    return false;
                };
                g.sort();
                g.dedup();
                let mut want: Vec<String> = values.iter().map(|v| normalise(v)).collect();
                want.sort();
                want.dedup();
                g == want
            }
        }
    }

    /// The truth in words (`cart/1`, `120 ms ± 30`, `ad, cart`).
    pub fn display(&self) -> String {
        match self {
            Answer::Name { value, .. } => value.clone(),
            Answer::Number {
                value,
                tolerance,
                unit,
            } => {
                let unit = if unit.is_empty() {
                    String::new()
                } else {
                    format!(" {unit}")
                };
                if *tolerance > 0.0 {
                    format!("{}{unit} ± {}", round(*value), round(*tolerance))
                } else {
                    format!("{}{unit}", round(*value))
                }
            }
            Answer::Set { values } if values.is_empty() => "none".into(),
            Answer::Set { values } => values.join(", "),
        }
    }
}

fn round(x: f64) -> String {
    let r = (x * 1000.0).round() / 1000.0;
    if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r}")
    }
}

/// Lower case, trimmed, without surrounding quotes, inner runs of spaces
/// made one.
pub fn normalise(s: &str) -> String {
    let t = s
        .trim()
        .trim_matches(|c| c == '"' || c == '\'' || c == '`')
        .trim();
    t.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// A number, optionally followed by `unit` (or `%`); commas are not
/// thousands separators here.
pub fn parse_number(given: &str, unit: &str) -> Option<f64> {
    let g = normalise(given);
    let u = unit.to_lowercase();
    let mut t = g.as_str();
    if !u.is_empty()
        && let Some(rest) = t.strip_suffix(u.as_str())
    {
        t = rest.trim();
    }
    let t = t.trim_end_matches('%').trim();
    let x: f64 = t.parse().ok()?;
    x.is_finite().then_some(x)
}

/// Items separated by commas (or spaces when there is no comma); `none`,
/// `-` or `{}` is the empty set. `None` for nothing at all.
pub fn parse_set(given: &str) -> Option<Vec<String>> {
    let g = normalise(given);
    let g = g
        .trim_start_matches(['[', '{'])
        .trim_end_matches([']', '}']);
    if g.trim().is_empty() {
        return if given.contains(['{', '[']) {
            Some(Vec::new())
        } else {
            None
        };
    }
    if matches!(g.trim(), "none" | "-" | "nothing" | "empty") {
        return Some(Vec::new());
    }
    let parts: Vec<String> = if g.contains(',') {
        g.split(',').map(normalise).collect()
    } else {
        g.split_whitespace().map(normalise).collect()
    };
    Some(parts.into_iter().filter(|p| !p.is_empty()).collect())
}

impl Answer {
    /// The truth as a player would type it (`cart/1`, `120.5`, `ad, cart`).
    pub fn typed(&self) -> String {
        match self {
            Answer::Number { value, .. } => format!("{value}"),
            other => other.display(),
        }
    }

    /// An answer this truth refuses (tests, examples).
    pub fn wrong_example(&self) -> String {
        match self {
            Answer::Name { value, .. } => format!("{value}-not"),
            Answer::Number {
                value, tolerance, ..
            } => format!("{}", value + tolerance + 1.0 + value.abs()),
            Answer::Set { values } => {
                let mut v = values.clone();
                v.push("nosuchthing".into());
                v.join(", ")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_ignore_case_quotes_and_accept_aliases() {
        let a = Answer::name_or("cart/1", vec!["127.0.0.1:9717".into()]);
        assert!(a.check("cart/1"));
        assert!(a.check("  \"CART/1\" "));
        assert!(a.check("127.0.0.1:9717"));
        assert!(!a.check("cart/0"));
        assert!(!a.check(""));
    }

    #[test]
    fn numbers_within_the_tolerance_with_or_without_unit() {
        let a = Answer::number(120.0, 30.0, "ms");
        assert!(a.check("120"));
        assert!(a.check("95 ms"));
        assert!(a.check("150ms"));
        assert!(!a.check("151"));
        assert!(!a.check("89.9"));
        assert!(!a.check("fast"));
        assert!(!a.check("NaN"));
        let exact = Answer::number(3.0, 0.0, "");
        assert!(exact.check("3"));
        assert!(exact.check("3.0"));
        assert!(!exact.check("4"));
        let pct = Answer::number(2.5, 0.5, "%");
        assert!(pct.check("2.8%"));
    }

    #[test]
    fn sets_in_any_order_and_none_for_empty() {
        let a = Answer::set(["currency", "cart", "productcatalog"]);
        assert!(a.check("cart, currency, productcatalog"));
        assert!(a.check("productcatalog currency cart"));
        assert!(a.check("[Cart,Currency, productcatalog, cart]"));
        assert!(!a.check("cart, currency"));
        assert!(!a.check("cart, currency, productcatalog, ad"));
        assert!(!a.check(""));
        let empty = Answer::set(Vec::<String>::new());
        assert!(empty.check("none"));
        assert!(empty.check("{}"));
        assert!(!empty.check("cart"));
        assert_eq!(empty.display(), "none");
    }

    #[test]
    fn display_in_words() {
        assert_eq!(
            Answer::number(12.34567, 2.0, "ms").display(),
            "12.346 ms ± 2"
        );
        assert_eq!(Answer::set(["b", "a"]).display(), "a, b");
    }

    #[test]
    fn serialised_with_its_kind() {
        let v = serde_json::to_value(Answer::number(1.0, 0.5, "s")).unwrap_or_default();
        assert_eq!(v["kind"], "number");
        let back: Answer = serde_json::from_value(v).unwrap_or(Answer::name("x"));
        assert_eq!(back, Answer::number(1.0, 0.5, "s"));
    }
}
