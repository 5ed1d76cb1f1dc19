//! Alertmanager label matchers: `name="value"`, `!=`, `=~`, `!~`
//! (regexes fully anchored).

use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct Matcher {
    pub name: String,
    pub op: Op,
    pub value: String,
    re: Option<regex::Regex>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Re,
    NotRe,
}

impl Matcher {
    pub fn new(name: &str, op: Op, value: &str) -> Result<Self, String> {
        let re = match op {
            Op::Re | Op::NotRe => Some(
                regex::Regex::new(&format!("^(?:{value})$"))
                    .map_err(|e| format!("bad regex {value:?}: {e}"))?,
            ),
            _ => None,
        };
        Ok(Matcher {
            name: name.to_string(),
            op,
            value: value.to_string(),
            re,
        })
    }

    /// Parses `name="value"` (quotes optional), `name!=v`, `name=~re`, `name!~re`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (i, op, len) = ["=~", "!~", "!=", "="]
            .iter()
            .filter_map(|o| s.find(o).map(|i| (i, *o)))
            .min_by_key(|(i, o)| (*i, std::cmp::Reverse(o.len())))
            .map(|(i, o)| {
                let op = match o {
                    "=~" => Op::Re,
                    "!~" => Op::NotRe,
                    "!=" => Op::Ne,
                    _ => Op::Eq,
                };
                (i, op, o.len())
            })
            .ok_or_else(|| format!("{s:?} is not a matcher (name=\"value\", !=, =~, !~)"))?;
        let name = s[..i].trim();
        let valid = !name.is_empty()
            && name
                .chars()
                .enumerate()
                .all(|(j, c)| c == '_' || c.is_ascii_alphabetic() || (j > 0 && c.is_ascii_digit()));
        if !valid {
            return Err(format!("{s:?}: invalid label name {name:?}"));
        }
        let mut value = s[i + len..].trim();
        if value.len() >= 2 && value.starts_with('"') && value.ends_with('"') {
            value = &value[1..value.len() - 1];
        }
        Matcher::new(name, op, &value.replace("\\\"", "\""))
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let v = labels.get(&self.name).map(String::as_str).unwrap_or("");
        match self.op {
            Op::Eq => v == self.value,
            Op::Ne => v != self.value,
            Op::Re => self.re.as_ref().is_some_and(|r| r.is_match(v)),
            Op::NotRe => !self.re.as_ref().is_some_and(|r| r.is_match(v)),
        }
    }
}

impl std::fmt::Display for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let op = match self.op {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Re => "=~",
            Op::NotRe => "!~",
        };
        write!(f, "{}{op}{:?}", self.name, self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_matches() {
        let mut l = BTreeMap::new();
        l.insert("severity".to_string(), "page".to_string());
        assert!(Matcher::parse("severity=\"page\"").unwrap().matches(&l));
        assert!(Matcher::parse("severity=~\"pa.*\"").unwrap().matches(&l));
        assert!(!Matcher::parse("severity!=page").unwrap().matches(&l));
        assert!(Matcher::parse("team!~\"a|b\"").unwrap().matches(&l));
        assert!(Matcher::parse("=x").is_err());
        assert!(Matcher::parse("nothing").is_err());
    }
}
