//! Alertmanager label matchers (`name="value"`, `!=`, `=~`, `!~`; regexes
//! fully anchored) and the matcher lists Alertmanager's configs and tools
//! accept: `{a="b", c!~"d.*"}`, `a=b,c!=d`, quoted values with `\"`, `\n`
//! and `\\` escapes, commas inside quotes.
//!
//! Parsing follows Alertmanager's default ("fallback") mode: the classic
//! parser ([`parse_classic`]) decides whenever it accepts the input, the
//! UTF-8 parser ([`super::matcher_utf8`]) takes inputs only it accepts
//! (label names such as `"service.name"`), and an input both refuse gets
//! the classic parser's error.

use std::collections::BTreeMap;

use super::matcher_utf8;

#[derive(Debug, Clone)]
pub struct Matcher {
    pub name: String,
    pub op: Op,
    pub value: String,
    re: Option<regex::Regex>,
}

impl PartialEq for Matcher {
    fn eq(&self, o: &Self) -> bool {
        self.name == o.name && self.op == o.op && self.value == o.value
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Op {
    Eq,
    Ne,
    Re,
    NotRe,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Re => "=~",
            Op::NotRe => "!~",
        }
    }
}

/// A classic Prometheus label name: `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn valid_label_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .enumerate()
            .all(|(i, c)| c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()))
}

impl Matcher {
    pub fn new(name: &str, op: Op, value: &str) -> Result<Self, String> {
        let re = match op {
            Op::Re | Op::NotRe => Some(
                regex::Regex::new(&format!("^(?:{value})$"))
                    .map_err(|e| format!("error parsing regexp: {}", regex_reason(&e)))?,
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

    /// Exactly one matcher, in any syntax [`parse_matchers`] accepts.
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut v = parse_matchers(s)?;
        match v.len() {
            1 => Ok(v.remove(0)),
            0 => Err(format!("{s:?}: no matchers")),
            n => Err(format!("{s:?}: expected 1 matcher, found {n}")),
        }
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

    /// Alertmanager's sort order of matchers (name, value, type).
    pub fn sort_key(&self) -> (&str, &str, Op) {
        (&self.name, &self.value, self.op)
    }
}

fn regex_reason(e: &regex::Error) -> String {
    // The regex crate's message spans several lines (pattern, caret, reason).
    let s = e.to_string();
    s.lines()
        .rev()
        .find(|l| l.trim_start().starts_with("error:"))
        .map(|l| {
            l.trim_start()
                .trim_start_matches("error:")
                .trim()
                .to_string()
        })
        .unwrap_or(s)
}

fn reserved(c: char) -> bool {
    c.is_whitespace() || "{}!=~,\\\"'`".contains(c)
}

/// OpenMetrics escaping: `\` → `\\`, newline → `\n`, `"` → `\"`.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('\n', "\\n")
        .replace('"', "\\\"")
}

impl std::fmt::Display for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.name.contains(reserved) {
            write!(f, "{:?}{}{:?}", self.name, self.op.as_str(), self.value)
        } else {
            write!(
                f,
                "{}{}\"{}\"",
                self.name,
                self.op.as_str(),
                escape(&self.value)
            )
        }
    }
}

/// `{a="b",c=~"d"}`, as Alertmanager prints a list (route keys, group keys).
pub fn list_string(ms: &[Matcher]) -> String {
    let parts: Vec<String> = ms.iter().map(|m| m.to_string()).collect();
    format!("{{{}}}", parts.join(","))
}

/// A list of matchers in Alertmanager's default parsing mode (see the module doc).
pub fn parse_matchers(s: &str) -> Result<Vec<Matcher>, String> {
    match parse_classic(s) {
        Ok(v) => Ok(v),
        Err(classic) => matcher_utf8::parse(s).map_err(|_| classic),
    }
}

/// Go RE2's `\s`: ASCII whitespace only.
fn go_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0c')
}

/// Alertmanager's classic list parser (`pkg/labels.ParseMatchers`): optional
/// braces, comma-separated outside double quotes, a trailing comma allowed.
pub fn parse_classic(s: &str) -> Result<Vec<Matcher>, String> {
    let s = s.strip_prefix('{').unwrap_or(s);
    let s = s.strip_suffix('}').unwrap_or(s);
    let mut tokens = Vec::new();
    let mut token = String::new();
    let (mut quoted, mut escaped) = (false, false);
    for c in s.chars() {
        match c {
            ',' if !quoted => {
                tokens.push(std::mem::take(&mut token));
                continue;
            }
            ',' => {}
            '"' => {
                if !escaped {
                    quoted = !quoted;
                } else {
                    escaped = false;
                }
            }
            '\\' => escaped = !escaped,
            _ => escaped = false,
        }
        token.push(c);
    }
    let last = token.trim_matches(go_space);
    if !last.is_empty() {
        tokens.push(last.to_string());
    }
    tokens.iter().map(|t| parse_classic_one(t)).collect()
}

/// One classic matcher (`pkg/labels.ParseMatcher`): a label name, an
/// operator, and a value that may be double-quoted, with `\"`, `\n` and
/// `\\` escapes (a lone backslash stays literal).
pub fn parse_classic_one(s: &str) -> Result<Matcher, String> {
    let bad = || format!("bad matcher format: {s}");
    let rest = s.trim_start_matches(go_space);
    let name_len = rest
        .char_indices()
        .find(|&(i, c)| {
            !(c == '_' || c == ':' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()))
        })
        .map(|(i, _)| i)
        .unwrap_or(rest.len());
    if name_len == 0 {
        return Err(bad());
    }
    let name = &rest[..name_len];
    let rest = rest[name_len..].trim_start_matches(go_space);
    let (op, rest) = if let Some(r) = rest.strip_prefix("=~") {
        (Op::Re, r)
    } else if let Some(r) = rest.strip_prefix("!=") {
        (Op::Ne, r)
    } else if let Some(r) = rest.strip_prefix("!~") {
        (Op::NotRe, r)
    } else if let Some(r) = rest.strip_prefix('=') {
        (Op::Eq, r)
    } else {
        return Err(bad());
    };
    let raw_all = rest.trim_matches(go_space);
    let (raw, mut expect_quote) = match raw_all.strip_prefix('"') {
        Some(r) => (r, true),
        None => (raw_all, false),
    };
    let unescaped_quote = || format!("matcher value contains unescaped double quote: {raw_all}");
    let mut value = String::new();
    let mut escaped = false;
    let chars: Vec<(usize, char)> = raw.char_indices().collect();
    for (idx, &(i, c)) in chars.iter().enumerate() {
        if escaped {
            escaped = false;
            match c {
                'n' => value.push('\n'),
                '"' | '\\' => value.push(c),
                _ => {
                    value.push('\\');
                    value.push(c);
                }
            }
            continue;
        }
        let last = idx + 1 == chars.len();
        match c {
            '\\' if !last => escaped = true,
            '\\' => value.push('\\'),
            '"' => {
                if !expect_quote || i + 1 < raw.len() {
                    return Err(unescaped_quote());
                }
                expect_quote = false;
            }
            _ => value.push(c),
        }
    }
    if expect_quote {
        return Err(unescaped_quote());
    }
    Matcher::new(name, op, &value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(name: &str, op: Op, value: &str) -> Matcher {
        Matcher::new(name, op, value).unwrap()
    }

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
        // A missing label matches as the empty value.
        assert!(Matcher::parse("team=\"\"").unwrap().matches(&l));
    }

    /// Cases from Alertmanager's pkg/labels/parse_test.go (TestMatchers).
    #[test]
    fn classic_lists() {
        use Op::*;
        let ok: &[(&str, Vec<Matcher>)] = &[
            ("{}", vec![]),
            ("{foo='}", vec![m("foo", Eq, "'")]),
            ("{foo=`}", vec![m("foo", Eq, "`")]),
            ("{foo=\\\"}", vec![m("foo", Eq, "\"")]),
            ("{foo=bar}", vec![m("foo", Eq, "bar")]),
            ("{foo=\"bar\"}", vec![m("foo", Eq, "bar")]),
            ("{foo=~bar.*}", vec![m("foo", Re, "bar.*")]),
            ("{foo!~\"bar.*\"}", vec![m("foo", NotRe, "bar.*")]),
            (
                "{foo=\"bar\",baz!~\".*quux\", derp=\"wat\"}",
                vec![
                    m("foo", Eq, "bar"),
                    m("baz", NotRe, ".*quux"),
                    m("derp", Eq, "wat"),
                ],
            ),
            ("{foo=\"\"}", vec![m("foo", Eq, "")]),
            (
                "{foo=\"bar,quux\", job=\"job1\"}",
                vec![m("foo", Eq, "bar,quux"), m("job", Eq, "job1")],
            ),
            (
                "{foo = \"bar\", dings != \"bums\", }",
                vec![m("foo", Eq, "bar"), m("dings", Ne, "bums")],
            ),
            (
                "foo=bar,dings!=bums",
                vec![m("foo", Eq, "bar"), m("dings", Ne, "bums")],
            ),
            (
                r#"{quote="She said: \"Hi, ladies! That's gender-neutral…\""}"#,
                vec![m(
                    "quote",
                    Eq,
                    r#"She said: "Hi, ladies! That's gender-neutral…""#,
                )],
            ),
            ("statuscode=~\"5..\"", vec![m("statuscode", Re, "5..")]),
            ("tricky=~~~", vec![m("tricky", Re, "~~")]),
            (r#"trickier==\\=\=\""#, vec![m("trickier", Eq, r#"=\=\=""#)]),
            (
                r#"contains_quote != "\"" , contains_comma !~ "foo,bar" , "#,
                vec![
                    m("contains_quote", Ne, "\""),
                    m("contains_comma", NotRe, "foo,bar"),
                ],
            ),
            ("{foo=bar}}", vec![m("foo", Eq, "bar}")]),
            ("{foo=bar}},}", vec![m("foo", Eq, "bar}}")]),
            ("{foo=,bar=}}", vec![m("foo", Eq, ""), m("bar", Eq, "}")]),
            ("{foo=bar\\t}", vec![m("foo", Eq, "bar\\t")]),
            ("{foo=bar\\n}", vec![m("foo", Eq, "bar\n")]),
            ("{foo=bar\\}", vec![m("foo", Eq, "bar\\")]),
            ("{foo=bar\\\\}", vec![m("foo", Eq, "bar\\")]),
            ("{foo=bar\\\"}", vec![m("foo", Eq, "bar\"")]),
            ("job=", vec![m("job", Eq, "")]),
            ("{foo=", vec![m("foo", Eq, "")]),
            ("{foo=}b", vec![m("foo", Eq, "}b")]),
        ];
        for (input, want) in ok {
            assert_eq!(&parse_matchers(input).unwrap(), want, "{input}");
        }
        let bad: &[(&str, &str)] = &[
            (",", "bad matcher format: "),
            ("{,}", "bad matcher format: "),
            (
                "job=\"value",
                "matcher value contains unescaped double quote: \"value",
            ),
            (
                "job=value\"",
                "matcher value contains unescaped double quote: value\"",
            ),
            (
                r#"trickier==\\=\=\"""#,
                r#"matcher value contains unescaped double quote: =\\=\=\"""#,
            ),
            (
                "contains_unescaped_quote = foo\"bar",
                "matcher value contains unescaped double quote: foo\"bar",
            ),
            (
                "{invalid-name = \"valid label\"}",
                "bad matcher format: invalid-name = \"valid label\"",
            ),
            ("{foo=~\"invalid[regexp\"}", "error parsing regexp: "),
            (r#""{foo=\"bar"}"#, r#"bad matcher format: "{foo=\"bar""#),
            (r#""foo=\"bar\"""#, r#"bad matcher format: "foo=\"bar\"""#),
            ("\"foo=\"bar\"\"", "bad matcher format: \"foo=\"bar\"\""),
            ("{{foo=", "bad matcher format: {foo="),
        ];
        for (input, want) in bad {
            let e = parse_classic(input).unwrap_err();
            assert!(e.starts_with(want), "{input}: {e}");
            // The default (fallback) mode refuses them too, with the classic
            // error, except a label name only the UTF-8 parser takes.
            if !input.contains("invalid-name") {
                assert_eq!(parse_matchers(input).unwrap_err(), e, "{input}");
            }
        }
        assert_eq!(
            parse_matchers("{invalid-name = \"valid label\"}").unwrap(),
            vec![m("invalid-name", Eq, "valid label")]
        );
    }

    #[test]
    fn utf8_names_fall_back_to_the_new_parser() {
        assert_eq!(
            parse_matchers("{\"service.name\"=\"api\"}").unwrap(),
            vec![m("service.name", Op::Eq, "api")]
        );
        assert_eq!(
            parse_matchers("foo=🙂bar").unwrap(),
            vec![m("foo", Op::Eq, "🙂bar")]
        );
    }

    #[test]
    fn prints_as_alertmanager() {
        assert_eq!(m("a", Op::Eq, "x\"y\n").to_string(), r#"a="x\"y\n""#);
        assert_eq!(m("a b", Op::Re, "x").to_string(), r#""a b"=~"x""#);
        assert_eq!(
            list_string(&[m("a", Op::Eq, "1"), m("b", Op::NotRe, "2")]),
            r#"{a="1",b!~"2"}"#
        );
    }
}
