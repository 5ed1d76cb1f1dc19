//! Alertmanager's UTF-8 matcher parser (`matcher/parse`, Alertmanager
//! 0.27+): label names and values are either unquoted runs of characters
//! that are not reserved (`{}!=~,\"'\`` and whitespace) or double-quoted
//! strings with Go escapes (`\n`, `\t`, `\"`, `\\`, `\xHH`, `\uHHHH`, ...).
//! Used where the classic parser refuses an input (see [`super::matcher`]).

use super::matcher::{Matcher, Op};

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Open,
    Close,
    Comma,
    Op(Op),
    Quoted(String),
    Unquoted(String),
}

fn reserved(c: char) -> bool {
    c.is_whitespace() || "{}!=~,\\\"'`".contains(c)
}

/// Splits the input into tokens with their 0-based column ranges.
fn lex(input: &str) -> Result<Vec<(Tok, usize, usize)>, String> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        let tok = match c {
            '{' => {
                i += 1;
                Tok::Open
            }
            '}' => {
                i += 1;
                Tok::Close
            }
            ',' => {
                i += 1;
                Tok::Comma
            }
            '=' | '!' => {
                let next = chars.get(i + 1).copied();
                let (op, len) = match (c, next) {
                    ('=', Some('~')) => (Op::Re, 2),
                    ('=', _) => (Op::Eq, 1),
                    ('!', Some('=')) => (Op::Ne, 2),
                    ('!', Some('~')) => (Op::NotRe, 2),
                    _ => {
                        return Err(format!("{}:{}: {c}: expected one of '=~'", i, i + 1));
                    }
                };
                i += len;
                Tok::Op(op)
            }
            '"' => {
                i += 1;
                let mut escaped = false;
                let mut closed = false;
                while i < chars.len() {
                    let c = chars[i];
                    i += 1;
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        closed = true;
                        break;
                    }
                }
                let text: String = chars[start..i].iter().collect();
                if !closed {
                    return Err(format!("{start}:{i}: {text}: missing end \""));
                }
                Tok::Quoted(text)
            }
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            c if !reserved(c) => {
                while i < chars.len() && !reserved(chars[i]) {
                    i += 1;
                }
                Tok::Unquoted(chars[start..i].iter().collect())
            }
            c => return Err(format!("{}:{}: {c}: invalid input", start, start + 1)),
        };
        out.push((tok, start, i));
    }
    Ok(out)
}

/// Go's `strconv.Unquote` for a double-quoted string.
pub fn go_unquote(q: &str) -> Result<String, String> {
    let inner = q
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .ok_or("not a quoted string")?;
    let mut bytes: Vec<u8> = Vec::new();
    let mut it = inner.chars().peekable();
    let hex = |it: &mut std::iter::Peekable<std::str::Chars>, n: usize| -> Result<u32, String> {
        let s: String = (0..n).filter_map(|_| it.next()).collect();
        if s.len() != n {
            return Err("short escape".into());
        }
        u32::from_str_radix(&s, 16).map_err(|_| "bad hex escape".to_string())
    };
    while let Some(c) = it.next() {
        if c == '"' || c == '\n' {
            return Err("invalid character in quoted string".into());
        }
        if c != '\\' {
            let mut b = [0u8; 4];
            bytes.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            continue;
        }
        let e = it.next().ok_or("trailing backslash")?;
        let ch = match e {
            'a' => '\x07',
            'b' => '\x08',
            'f' => '\x0c',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'v' => '\x0b',
            '\\' => '\\',
            '"' => '"',
            'x' => {
                bytes.push(hex(&mut it, 2)? as u8);
                continue;
            }
            '0'..='7' => {
                let mut v = e.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    let d = it
                        .next()
                        .and_then(|c| c.to_digit(8))
                        .ok_or("bad octal escape")?;
                    v = v * 8 + d;
                }
                if v > 255 {
                    return Err("bad octal escape".into());
                }
                bytes.push(v as u8);
                continue;
            }
            'u' => char::from_u32(hex(&mut it, 4)?).ok_or("bad \\u escape")?,
            'U' => char::from_u32(hex(&mut it, 8)?).ok_or("bad \\U escape")?,
            _ => return Err(format!("unknown escape \\{e}")),
        };
        let mut b = [0u8; 4];
        bytes.extend_from_slice(ch.encode_utf8(&mut b).as_bytes());
    }
    String::from_utf8(bytes).map_err(|_| "quoted string contains invalid UTF-8 code points".into())
}

/// Parses a list: `{a="b", c!~d}`, `a=b,c=d`, with an optional trailing comma.
pub fn parse(input: &str) -> Result<Vec<Matcher>, String> {
    let toks = lex(input)?;
    let end = input.chars().count();
    let mut i = 0;
    let open = matches!(toks.first(), Some((Tok::Open, ..)));
    if open {
        i += 1;
    }
    let mut out = Vec::new();
    let text =
        |t: &(Tok, usize, usize)| input.chars().skip(t.1).take(t.2 - t.1).collect::<String>();
    let unexpected = |t: &(Tok, usize, usize), what: &str| {
        format!("{}:{}: unexpected {}: {what}", t.1, t.2, text(t))
    };
    let value_of = |t: &(Tok, usize, usize)| -> Result<Option<String>, String> {
        match &t.0 {
            Tok::Unquoted(s) => Ok(Some(s.clone())),
            Tok::Quoted(q) => go_unquote(q)
                .map(Some)
                .map_err(|_| format!("{}:{}: {q}: invalid input", t.1, t.2)),
            _ => Ok(None),
        }
    };
    while let Some(t) = toks.get(i) {
        if t.0 == Tok::Close {
            break;
        }
        let name = value_of(t)?.ok_or_else(|| unexpected(t, "expected label name"))?;
        i += 1;
        let op = match toks.get(i) {
            Some((Tok::Op(op), ..)) => *op,
            Some(t) => {
                return Err(unexpected(
                    t,
                    "expected an operator such as '=', '!=', '=~' or '!~'",
                ));
            }
            None => return Err(format!("0:{end}: end of input: expected an operator")),
        };
        i += 1;
        let t = toks
            .get(i)
            .ok_or_else(|| format!("0:{end}: end of input: expected label value"))?;
        let value = value_of(t)?.ok_or_else(|| unexpected(t, "expected label value"))?;
        i += 1;
        out.push(
            Matcher::new(&name, op, &value)
                .map_err(|e| format!("failed to create matcher: {e}"))?,
        );
        match toks.get(i) {
            Some((Tok::Comma, ..)) => i += 1,
            Some((Tok::Close, ..)) | None => {}
            Some(t) => return Err(unexpected(t, "expected a comma or close brace")),
        }
    }
    match (open, toks.get(i)) {
        (true, Some((Tok::Close, ..))) => i += 1,
        (true, _) => return Err(format!("0:{end}: end of input: expected close brace")),
        (false, Some(t @ (Tok::Close, ..))) => {
            return Err(format!("0:{}: }}: expected opening brace", t.2));
        }
        (false, _) => {}
    }
    if let Some(t) = toks.get(i) {
        return Err(format!(
            "{}:{}: {}: expected end of input",
            t.1,
            t.2,
            text(t)
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(s: &str) -> (String, Op, String) {
        let v = parse(s).unwrap();
        assert_eq!(v.len(), 1, "{s}");
        (v[0].name.clone(), v[0].op, v[0].value.clone())
    }

    /// Cases from Alertmanager's matcher/parse/parse_test.go.
    #[test]
    fn accepts_what_alertmanager_accepts() {
        assert!(parse("").unwrap().is_empty());
        assert!(parse("{}").unwrap().is_empty());
        let s = |a: &str, op: Op, b: &str| (a.to_string(), op, b.to_string());
        assert_eq!(one("{foo=bar,}"), s("foo", Op::Eq, "bar"));
        assert_eq!(one("{foo=~[a-z]+}"), s("foo", Op::Re, "[a-z]+"));
        assert_eq!(one("{foo=🙂bar}"), s("foo", Op::Eq, "🙂bar"));
        assert_eq!(one("foo!~[a-z]+"), s("foo", Op::NotRe, "[a-z]+"));
        assert_eq!(one(r#"{"foo"=~"\\d+"}"#), s("foo", Op::Re, "\\d+"));
        assert_eq!(one(r#"{"foo"="\xf0\x9f\x99\x82"}"#), s("foo", Op::Eq, "🙂"));
        assert_eq!(one(r#"{"foo"="\U0001f642"}"#), s("foo", Op::Eq, "🙂"));
        assert_eq!(one(r#"{"foo"="bar\t"}"#), s("foo", Op::Eq, "bar\t"));
        assert_eq!(one(r#"{"foo"="\"bar\""}"#), s("foo", Op::Eq, "\"bar\""));
        assert_eq!(one(r#""foo"="bar","#), s("foo", Op::Eq, "bar"));
        assert_eq!(parse("foo=\"bar\",bar!=\"baz\"").unwrap().len(), 2);
    }

    #[test]
    fn refuses_what_alertmanager_refuses() {
        let cases = [
            (",", "0:1: unexpected ,: expected label name"),
            ("{,}", "1:2: unexpected ,: expected label name"),
            ("{", "0:1: end of input: expected close brace"),
            ("}", "0:1: }: expected opening brace"),
            ("foo=bar}", "0:8: }: expected opening brace"),
            ("{foo=bar", "0:8: end of input: expected close brace"),
            (
                "{foo=:\"bar\"}",
                "6:11: unexpected \"bar\": expected a comma or close brace",
            ),
            ("{foo=\"bar\\w\"}", "5:12: \"bar\\w\": invalid input"),
            ("{\"foo\"=~\"\\d+\"}", "8:13: \"\\d+\": invalid input"),
            (
                "{\"foo\"=\"\\xf0\\x9f\"}",
                "7:17: \"\\xf0\\x9f\": invalid input",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(parse(input).unwrap_err(), want, "{input}");
        }
        assert!(parse("{foo=bar\\n}").is_err());
    }
}
