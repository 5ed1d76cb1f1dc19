//! The Go-template subset Prometheus rules and Alertmanager notification
//! templates use: actions with pipes (`{{ .CommonLabels.alertname | toUpper }}`,
//! `{{ $labels.job }}`, `{{ $value }}`), `if`/`else if`/`else`, `range`
//! (with `else`), `with`, `define` and `template`, comments, `{{-`/`-}}`
//! trimming; the functions `humanize`, `humanize1024`, `humanizePercentage`,
//! `humanizeDuration`, `printf`, `toUpper`, `toLower`, `title`, `len`, `eq`,
//! `ne`, `lt`, `le`, `gt`, `ge`, `not`, `and`, `or`, `join`, `index`,
//! `safeHtml`, `trimSpace`, `match`, `reReplaceAll`; and on label maps
//! `.SortedPairs`, `.Names`, `.Values`, on alert lists `.Firing`,
//! `.Resolved`. Anything else is refused with a message naming it.

use std::collections::BTreeMap;

/// What a rule template can read.
pub struct Data<'a> {
    pub labels: &'a BTreeMap<String, String>,
    pub value: f64,
    pub external_labels: &'a BTreeMap<String, String>,
}

/// A template value.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Nil,
    Bool(bool),
    Num(f64),
    Str(String),
    List(Vec<Val>),
    Map(BTreeMap<String, Val>),
}

impl Val {
    pub fn labels(m: &BTreeMap<String, String>) -> Val {
        Val::Map(
            m.iter()
                .map(|(k, v)| (k.clone(), Val::Str(v.clone())))
                .collect(),
        )
    }

    fn text(&self) -> String {
        match self {
            Val::Nil => String::new(),
            Val::Bool(b) => b.to_string(),
            Val::Str(s) => s.clone(),
            Val::Num(n) => go_float(*n),
            Val::List(l) => format!(
                "[{}]",
                l.iter().map(Val::text).collect::<Vec<_>>().join(" ")
            ),
            Val::Map(m) => format!(
                "map[{}]",
                m.iter()
                    .map(|(k, v)| format!("{k}:{}", v.text()))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        }
    }

    fn num(&self) -> Result<f64, String> {
        match self {
            Val::Num(n) => Ok(*n),
            Val::Str(s) => s
                .trim()
                .parse()
                .map_err(|_| format!("{s:?} is not a number")),
            other => Err(format!("{} is not a number", other.text())),
        }
    }

    fn truthy(&self) -> bool {
        match self {
            Val::Nil => false,
            Val::Bool(b) => *b,
            Val::Num(n) => *n != 0.0,
            Val::Str(s) => !s.is_empty(),
            Val::List(l) => !l.is_empty(),
            Val::Map(m) => !m.is_empty(),
        }
    }

    /// `.Field` of this value.
    fn field(&self, name: &str) -> Result<Val, String> {
        match (self, name) {
            (Val::Map(m), "SortedPairs") if !m.contains_key(name) => Ok(Val::List(
                m.iter()
                    .map(|(k, v)| {
                        Val::Map(BTreeMap::from([
                            ("Name".to_string(), Val::Str(k.clone())),
                            ("Value".to_string(), v.clone()),
                        ]))
                    })
                    .collect(),
            )),
            (Val::Map(m), "Names") if !m.contains_key(name) => {
                Ok(Val::List(m.keys().map(|k| Val::Str(k.clone())).collect()))
            }
            (Val::Map(m), "Values") if !m.contains_key(name) => {
                Ok(Val::List(m.values().cloned().collect()))
            }
            (Val::Map(m), _) => Ok(m.get(name).cloned().unwrap_or(Val::Nil)),
            (Val::List(l), "Names" | "Values") => {
                // `.SortedPairs.Values`: the values (or names) of label pairs.
                let key = if name == "Names" { "Name" } else { "Value" };
                l.iter()
                    .map(|p| p.field(key))
                    .collect::<Result<Vec<_>, _>>()
                    .map(Val::List)
            }
            (Val::List(l), "Firing" | "Resolved") => {
                let want = if name == "Firing" {
                    "firing"
                } else {
                    "resolved"
                };
                Ok(Val::List(
                    l.iter()
                        .filter(|a| a.field("Status").ok() == Some(Val::Str(want.into())))
                        .cloned()
                        .collect(),
                ))
            }
            (Val::Nil, _) => Ok(Val::Nil),
            (v, _) => Err(format!("can't evaluate field {name} in {}", v.text())),
        }
    }
}

/// Go's `%v` of a float64 (`strconv.FormatFloat(v, 'g', -1, 64)`-like).
fn go_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else if v != 0.0 && (v.abs() >= 1e21 || v.abs() < 1e-4) {
        let s = format!("{v:e}");
        // Go writes e+06 / e-05 with at least two exponent digits.
        match s.split_once('e') {
            Some((m, e)) => {
                let (sign, digits) = if let Some(d) = e.strip_prefix('-') {
                    ("-", d)
                } else {
                    ("+", e)
                };
                format!("{m}e{sign}{digits:0>2}")
            }
            None => s,
        }
    } else {
        format!("{v}")
    }
}

/// Go's `%.{prec}g`.
pub fn fmt_g(v: f64, prec: usize) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if v == 0.0 {
        return "0".into();
    }
    let prec = prec.max(1);
    let exp = v.abs().log10().floor() as i32;
    // Round to `prec` significant digits first: it can change the exponent.
    let s = format!("{:.*e}", prec - 1, v);
    let (mant, e) = s.split_once('e').unwrap_or((&s, "0"));
    let exp_r: i32 = e.parse().unwrap_or(exp);
    if exp_r < -4 || exp_r >= prec as i32 {
        let mant = trim_zeros(mant);
        let (sign, digits) = if exp_r < 0 {
            ("-", -exp_r)
        } else {
            ("+", exp_r)
        };
        format!("{mant}e{sign}{digits:02}")
    } else {
        let decimals = (prec as i32 - 1 - exp_r).max(0) as usize;
        trim_zeros(&format!("{v:.decimals$}"))
    }
}

fn trim_zeros(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

pub fn humanize(v: f64) -> String {
    if v == 0.0 || v.is_nan() || v.is_infinite() {
        return fmt_g(v, 4);
    }
    if v.abs() >= 1.0 {
        let prefixes = ["", "k", "M", "G", "T", "P", "E", "Z", "Y"];
        let mut x = v;
        let mut i = 0;
        while x.abs() >= 1000.0 && i < prefixes.len() - 1 {
            x /= 1000.0;
            i += 1;
        }
        format!("{}{}", fmt_g(x, 4), prefixes[i])
    } else {
        let prefixes = ["", "m", "u", "n", "p", "f", "a", "z", "y"];
        let mut x = v;
        let mut i = 0;
        while x.abs() < 1.0 && i < prefixes.len() - 1 {
            x *= 1000.0;
            i += 1;
        }
        format!("{}{}", fmt_g(x, 4), prefixes[i])
    }
}

pub fn humanize1024(v: f64) -> String {
    if v.abs() <= 1.0 || v.is_nan() || v.is_infinite() {
        return fmt_g(v, 4);
    }
    let prefixes = ["", "ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"];
    let mut x = v;
    let mut i = 0;
    while x.abs() >= 1024.0 && i < prefixes.len() - 1 {
        x /= 1024.0;
        i += 1;
    }
    format!("{}{}", fmt_g(x, 4), prefixes[i])
}

pub fn humanize_duration(v: f64) -> String {
    if v.is_nan() || v.is_infinite() {
        return fmt_g(v, 4);
    }
    if v == 0.0 {
        return "0s".into();
    }
    if v.abs() >= 1.0 {
        let sign = if v < 0.0 { "-" } else { "" };
        let secs = v.abs();
        let (d, h, m, s) = (
            (secs / 86400.0).floor() as i64,
            ((secs / 3600.0).floor() as i64) % 24,
            ((secs / 60.0).floor() as i64) % 60,
            secs % 60.0,
        );
        if d > 0 {
            return format!("{sign}{d}d {h}h {m}m {}s", s as i64);
        }
        if h > 0 {
            return format!("{sign}{h}h {m}m {}s", s as i64);
        }
        if m > 0 {
            return format!("{sign}{m}m {}s", s as i64);
        }
        return format!("{sign}{}s", fmt_g(s, 4));
    }
    let prefixes = ["", "m", "u", "n", "p", "f", "a", "z", "y"];
    let mut x = v;
    let mut i = 0;
    while x.abs() < 1.0 && i < prefixes.len() - 1 {
        x *= 1000.0;
        i += 1;
    }
    format!("{}{}s", fmt_g(x, 4), prefixes[i])
}

/// A minimal `printf` for `%s %d %f %.Nf %g %.Ng %v %%`.
fn printf(fmt: &str, args: &[Val]) -> Result<String, String> {
    let mut out = String::new();
    let mut it = fmt.chars().peekable();
    let mut ai = 0;
    while let Some(c) = it.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = String::new();
        while let Some(&n) = it.peek() {
            spec.push(n);
            it.next();
            if n.is_ascii_alphabetic() || n == '%' {
                break;
            }
        }
        if spec == "%" {
            out.push('%');
            continue;
        }
        let arg = args
            .get(ai)
            .ok_or_else(|| format!("printf: missing argument for %{spec}"))?;
        ai += 1;
        let verb = spec.chars().last().unwrap_or('v');
        let precision: Option<usize> = spec
            .split_once('.')
            .and_then(|(_, p)| p.trim_end_matches(verb).parse().ok());
        out.push_str(&match verb {
            's' | 'v' => arg.text(),
            'd' => format!("{}", arg.num()? as i64),
            'f' => format!("{:.*}", precision.unwrap_or(6), arg.num()?),
            'g' => fmt_g(arg.num()?, precision.unwrap_or(17)),
            'e' => format!("{:.*e}", precision.unwrap_or(6), arg.num()?),
            other => return Err(format!("printf: unsupported verb %{other}")),
        });
    }
    Ok(out)
}

/// A parsed template: text and actions, with control structures.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    Text(String),
    Action(String),
    If(Vec<(String, Vec<Node>)>, Vec<Node>),
    Range(String, Vec<Node>, Vec<Node>),
    With(String, Vec<Node>, Vec<Node>),
    Template(String, Option<String>),
}

/// Named templates (`{{ define "name" }}`), from template files and the
/// template itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Templates {
    defs: BTreeMap<String, Vec<Node>>,
}

/// Splits text into literal pieces and actions, applying `{{-` and `-}}`.
fn lex(src: &str) -> Result<Vec<(bool, String)>, String> {
    let mut out: Vec<(bool, String)> = Vec::new();
    let mut rest = src;
    while let Some(open) = rest.find("{{") {
        let mut text = rest[..open].to_string();
        let Some(close) = rest[open..].find("}}") else {
            return Err("unclosed action: '{{' without '}}'".into());
        };
        let mut action = &rest[open + 2..open + close];
        if let Some(a) = action.strip_prefix('-') {
            action = a;
            text.truncate(text.trim_end().len());
        }
        out.push((false, text));
        let trim_after = action.ends_with('-');
        out.push((true, action.trim_end_matches('-').trim().to_string()));
        rest = &rest[open + close + 2..];
        if trim_after {
            rest = rest.trim_start();
        }
    }
    out.push((false, rest.to_string()));
    Ok(out)
}

fn keyword<'a>(a: &'a str, k: &str) -> Option<&'a str> {
    if a == k {
        return Some("");
    }
    a.strip_prefix(k)
        .filter(|r| r.starts_with(char::is_whitespace))
        .map(str::trim)
}

fn quoted_name(s: &str) -> Result<(String, Option<String>), String> {
    let s = s.trim();
    let body = s
        .strip_prefix('"')
        .ok_or("template name must be a quoted string")?;
    let end = body.find('"').ok_or("unterminated template name")?;
    let rest = body[end + 1..].trim();
    Ok((
        body[..end].to_string(),
        (!rest.is_empty()).then(|| rest.to_string()),
    ))
}

/// Parses until one of `stops`; returns the nodes and the stop action met.
fn parse_nodes(
    toks: &mut std::iter::Peekable<std::vec::IntoIter<(bool, String)>>,
    defs: &mut BTreeMap<String, Vec<Node>>,
    stops: &[&str],
) -> Result<(Vec<Node>, Option<String>), String> {
    let mut out = Vec::new();
    while let Some((is_action, t)) = toks.next() {
        if !is_action {
            if !t.is_empty() {
                out.push(Node::Text(t));
            }
            continue;
        }
        if t.starts_with("/*") && t.ends_with("*/") {
            continue;
        }
        if stops.iter().any(|s| keyword(&t, s).is_some()) {
            return Ok((out, Some(t)));
        }
        if let Some(cond) = keyword(&t, "if") {
            let mut branches = vec![];
            let mut cond = cond.to_string();
            let otherwise = loop {
                let (body, stop) = parse_nodes(toks, defs, &["else", "end"])?;
                branches.push((cond.clone(), body));
                match stop.as_deref() {
                    Some("end") => break Vec::new(),
                    Some(s) => match keyword(s, "else").and_then(|r| keyword(r, "if")) {
                        Some(c) => cond = c.to_string(),
                        None => {
                            let (body, stop) = parse_nodes(toks, defs, &["end"])?;
                            if stop.is_none() {
                                return Err("missing {{ end }} for {{ if }}".into());
                            }
                            break body;
                        }
                    },
                    None => return Err("missing {{ end }} for {{ if }}".into()),
                }
            };
            out.push(Node::If(branches, otherwise));
        } else if let Some(p) = keyword(&t, "range").or_else(|| keyword(&t, "with")) {
            let is_range = t.starts_with("range");
            if p.contains(":=") {
                return Err(format!(
                    "variable declarations are not supported: {{{{ {t} }}}}"
                ));
            }
            let (body, stop) = parse_nodes(toks, defs, &["else", "end"])?;
            let otherwise = match stop.as_deref() {
                Some("end") => Vec::new(),
                Some(_) => {
                    let (b, stop) = parse_nodes(toks, defs, &["end"])?;
                    if stop.is_none() {
                        return Err(format!("missing {{{{ end }}}} for {{{{ {t} }}}}"));
                    }
                    b
                }
                None => return Err(format!("missing {{{{ end }}}} for {{{{ {t} }}}}")),
            };
            out.push(if is_range {
                Node::Range(p.to_string(), body, otherwise)
            } else {
                Node::With(p.to_string(), body, otherwise)
            });
        } else if let Some(n) = keyword(&t, "define") {
            let (name, _) = quoted_name(n)?;
            let (body, stop) = parse_nodes(toks, defs, &["end"])?;
            if stop.is_none() {
                return Err(format!(
                    "missing {{{{ end }}}} for {{{{ define \"{name}\" }}}}"
                ));
            }
            defs.insert(name, body);
        } else if let Some(n) = keyword(&t, "template") {
            let (name, arg) = quoted_name(n)?;
            out.push(Node::Template(name, arg));
        } else if let Some(k) = ["else", "end", "block", "break", "continue"]
            .iter()
            .find(|k| keyword(&t, k).is_some())
        {
            return Err(format!("unexpected {{{{ {k} }}}}"));
        } else {
            out.push(Node::Action(t));
        }
    }
    Ok((out, None))
}

fn parse(src: &str, defs: &mut BTreeMap<String, Vec<Node>>) -> Result<Vec<Node>, String> {
    let mut toks = lex(src)?.into_iter().peekable();
    let (nodes, stop) = parse_nodes(&mut toks, defs, &[])?;
    if let Some(s) = stop {
        return Err(format!("unexpected {{{{ {s} }}}}"));
    }
    Ok(nodes)
}

impl Templates {
    /// Adds the `define`s of a template file.
    pub fn add_file(&mut self, text: &str) -> Result<(), String> {
        parse(text, &mut self.defs).map(|_| ())
    }

    pub fn names(&self) -> impl Iterator<Item = &String> {
        self.defs.keys()
    }

    /// Renders `src` with `dot` as `.` and `$`.
    pub fn render(&self, src: &str, dot: &Val) -> Result<String, String> {
        let mut defs = self.defs.clone();
        let nodes = parse(src, &mut defs)?;
        let vars = BTreeMap::from([("$".to_string(), dot.clone())]);
        let mut out = String::new();
        let ctx = Ctx {
            defs: &defs,
            vars: &vars,
            depth: 0,
        };
        ctx.run(&nodes, dot, &mut out)?;
        Ok(out)
    }
}

struct Ctx<'a> {
    defs: &'a BTreeMap<String, Vec<Node>>,
    vars: &'a BTreeMap<String, Val>,
    depth: usize,
}

impl Ctx<'_> {
    fn run(&self, nodes: &[Node], dot: &Val, out: &mut String) -> Result<(), String> {
        for n in nodes {
            match n {
                Node::Text(t) => out.push_str(t),
                Node::Action(a) => out.push_str(&self.pipeline(a, dot)?.text()),
                Node::If(branches, otherwise) => {
                    let mut done = false;
                    for (cond, body) in branches {
                        if self.pipeline(cond, dot)?.truthy() {
                            self.run(body, dot, out)?;
                            done = true;
                            break;
                        }
                    }
                    if !done {
                        self.run(otherwise, dot, out)?;
                    }
                }
                Node::Range(p, body, otherwise) => {
                    let items = match self.pipeline(p, dot)? {
                        Val::List(l) => l,
                        Val::Map(m) => m.into_values().collect(),
                        Val::Nil => Vec::new(),
                        v => return Err(format!("range can't iterate over {}", v.text())),
                    };
                    if items.is_empty() {
                        self.run(otherwise, dot, out)?;
                    }
                    for it in &items {
                        self.run(body, it, out)?;
                    }
                }
                Node::With(p, body, otherwise) => {
                    let v = self.pipeline(p, dot)?;
                    if v.truthy() {
                        self.run(body, &v, out)?;
                    } else {
                        self.run(otherwise, dot, out)?;
                    }
                }
                Node::Template(name, arg) => {
                    let body = self
                        .defs
                        .get(name)
                        .ok_or_else(|| format!("no such template {name:?}"))?;
                    if self.depth > 50 {
                        return Err(format!("template {name:?} calls itself too deeply"));
                    }
                    let d = match arg {
                        Some(a) => self.pipeline(a, dot)?,
                        None => Val::Nil,
                    };
                    let inner = Ctx {
                        defs: self.defs,
                        vars: self.vars,
                        depth: self.depth + 1,
                    };
                    inner.run(body, &d, out)?;
                }
            }
        }
        Ok(())
    }

    fn term(&self, w: &str, dot: &Val) -> Result<Option<Val>, String> {
        if let Some(s) = w.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
            return Ok(Some(Val::Str(s.replace("\\n", "\n").replace("\\\"", "\""))));
        }
        if let Some(s) = w.strip_prefix('`').and_then(|s| s.strip_suffix('`')) {
            return Ok(Some(Val::Str(s.to_string())));
        }
        if let Ok(n) = w.parse::<f64>() {
            return Ok(Some(Val::Num(n)));
        }
        if w == "true" || w == "false" {
            return Ok(Some(Val::Bool(w == "true")));
        }
        if w.starts_with('(') {
            // `(pipeline)` or `(pipeline).Field.Path`.
            let mut depth = 0;
            let close = w
                .char_indices()
                .find(|&(_, c)| {
                    depth += match c {
                        '(' => 1,
                        ')' => -1,
                        _ => 0,
                    };
                    depth == 0
                })
                .map(|(i, _)| i)
                .ok_or("unclosed '(' in template")?;
            let mut v = self.pipeline(&w[1..close], dot)?;
            for f in w[close + 1..].split('.').filter(|f| !f.is_empty()) {
                v = v.field(f)?;
            }
            return Ok(Some(v));
        }
        let (mut v, path) = if w == "." {
            return Ok(Some(dot.clone()));
        } else if let Some(p) = w.strip_prefix('.') {
            (dot.clone(), p)
        } else if w.starts_with('$') {
            let (var, p) = w.split_once('.').unwrap_or((w, ""));
            let v = self
                .vars
                .get(var)
                .cloned()
                .ok_or_else(|| format!("undefined variable {var:?}"))?;
            (v, p)
        } else {
            return Ok(None);
        };
        for f in path.split('.').filter(|f| !f.is_empty()) {
            v = v.field(f)?;
        }
        Ok(Some(v))
    }

    fn pipeline(&self, action: &str, dot: &Val) -> Result<Val, String> {
        let ws = words(action)?;
        let mut acc: Option<Val> = None;
        for stage in ws.split(|w| w == "|") {
            if stage.is_empty() {
                return Err(format!("empty pipeline stage in {{{{{action}}}}}"));
            }
            let head = &stage[0];
            let mut args: Vec<Val> = Vec::new();
            for w in &stage[1..] {
                args.push(self.term(w, dot)?.ok_or_else(|| {
                    format!("function {w:?} needs to be called in its own pipeline stage")
                })?);
            }
            if let Some(prev) = acc.take() {
                args.push(prev);
            }
            acc = Some(match self.term(head, dot)? {
                Some(v) if stage.len() == 1 && args.is_empty() => v,
                Some(v) if stage.len() == 1 => {
                    return Err(format!("can't give argument to non-function {}", v.text()));
                }
                Some(_) => return Err(format!("{head} is not a function")),
                None => call(head, args)?,
            });
        }
        Ok(acc.unwrap_or(Val::Nil))
    }
}

/// Splits an action into words, keeping quoted strings whole.
fn words(action: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut depth = 0usize;
    for c in action.chars() {
        match quote {
            Some(q) if c == q => {
                cur.push(c);
                quote = None;
            }
            Some(_) => cur.push(c),
            None if c == '"' || c == '`' => {
                cur.push(c);
                quote = Some(c);
            }
            // A parenthesized pipeline is one word.
            None if c == '(' => {
                depth += 1;
                cur.push(c);
            }
            None if c == ')' => {
                depth = depth.checked_sub(1).ok_or("unexpected ')' in template")?;
                cur.push(c);
            }
            None if depth > 0 => cur.push(c),
            None if c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            None if c == '|' => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                out.push("|".into());
            }
            None => cur.push(c),
        }
    }
    if quote.is_some() {
        return Err("unterminated string in template".into());
    }
    if depth > 0 {
        return Err("unclosed '(' in template".into());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    Ok(out)
}

fn call(f: &str, args: Vec<Val>) -> Result<Val, String> {
    let one = |args: &[Val]| {
        args.first()
            .cloned()
            .ok_or_else(|| format!("{f}: missing argument"))
    };
    Ok(match f {
        "humanize" => Val::Str(humanize(one(&args)?.num()?)),
        "humanize1024" => Val::Str(humanize1024(one(&args)?.num()?)),
        "humanizePercentage" => Val::Str(format!("{}%", fmt_g(one(&args)?.num()? * 100.0, 4))),
        "humanizeDuration" => Val::Str(humanize_duration(one(&args)?.num()?)),
        "toUpper" => Val::Str(one(&args)?.text().to_uppercase()),
        "toLower" => Val::Str(one(&args)?.text().to_lowercase()),
        "title" => {
            let s = one(&args)?.text();
            Val::Str(
                s.split(' ')
                    .map(|w| {
                        let mut c = w.chars();
                        c.next()
                            .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                            .unwrap_or_default()
                    })
                    .collect::<Vec<_>>()
                    .join(" "),
            )
        }
        "printf" => {
            let fmt = one(&args)?.text();
            Val::Str(printf(&fmt, &args[1..])?)
        }
        "len" => Val::Num(match one(&args)? {
            Val::Str(s) => s.chars().count(),
            Val::List(l) => l.len(),
            Val::Map(m) => m.len(),
            Val::Nil => 0,
            v => return Err(format!("len of {}", v.text())),
        } as f64),
        "eq" | "ne" => {
            if args.len() < 2 {
                return Err(format!("{f}: needs two arguments"));
            }
            let eq = args[1..].iter().any(|a| same(&args[0], a));
            Val::Bool(if f == "eq" { eq } else { !eq })
        }
        "lt" | "le" | "gt" | "ge" => {
            let (a, b) = match args.as_slice() {
                [a, b] => (a, b),
                _ => return Err(format!("{f}: needs two arguments")),
            };
            let ord = match (a, b) {
                (Val::Str(x), Val::Str(y)) => x.partial_cmp(y),
                _ => a.num()?.partial_cmp(&b.num()?),
            };
            let ord = ord.ok_or_else(|| format!("{f}: incomparable values"))?;
            Val::Bool(match f {
                "lt" => ord.is_lt(),
                "le" => ord.is_le(),
                "gt" => ord.is_gt(),
                _ => ord.is_ge(),
            })
        }
        "not" => Val::Bool(!one(&args)?.truthy()),
        "and" => args
            .iter()
            .find(|a| !a.truthy())
            .or(args.last())
            .cloned()
            .unwrap_or(Val::Nil),
        "or" => args
            .iter()
            .find(|a| a.truthy())
            .or(args.last())
            .cloned()
            .unwrap_or(Val::Nil),
        "join" => match args.as_slice() {
            [sep, Val::List(l)] => Val::Str(
                l.iter()
                    .map(Val::text)
                    .collect::<Vec<_>>()
                    .join(&sep.text()),
            ),
            _ => return Err("join: needs a separator and a list".into()),
        },
        "index" => match args.as_slice() {
            [v, k] => match v {
                Val::Map(m) => m.get(&k.text()).cloned().unwrap_or(Val::Nil),
                Val::List(l) => l.get(k.num()? as usize).cloned().unwrap_or(Val::Nil),
                _ => Val::Nil,
            },
            _ => return Err("index: needs a map or list and a key".into()),
        },
        "safeHtml" => one(&args)?,
        "trimSpace" => Val::Str(one(&args)?.text().trim().to_string()),
        "match" => match args.as_slice() {
            [re, s] => Val::Bool(
                regex::Regex::new(&re.text())
                    .map_err(|e| format!("match: {e}"))?
                    .is_match(&s.text()),
            ),
            _ => return Err("match: needs a pattern and a string".into()),
        },
        "reReplaceAll" => match args.as_slice() {
            [re, with, s] => Val::Str(
                regex::Regex::new(&re.text())
                    .map_err(|e| format!("reReplaceAll: {e}"))?
                    .replace_all(&s.text(), with.text().as_str())
                    .to_string(),
            ),
            _ => return Err("reReplaceAll: needs a pattern, a replacement and a string".into()),
        },
        other => return Err(format!("function {other:?} not defined")),
    })
}

fn same(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::Num(x), y) | (y, Val::Num(x)) => y.num().is_ok_and(|y| y == *x),
        _ => a == b,
    }
}

/// Expands a rule template (`$labels`, `$value`, `$externalLabels`, and
/// the same as `.Labels`, `.Value`, `.ExternalLabels`).
pub fn expand(template: &str, d: &Data) -> Result<String, String> {
    let dot = Val::Map(BTreeMap::from([
        ("Labels".to_string(), Val::labels(d.labels)),
        ("Value".to_string(), Val::Num(d.value)),
        ("ExternalLabels".to_string(), Val::labels(d.external_labels)),
    ]));
    let mut defs = BTreeMap::new();
    let nodes = parse(template, &mut defs)?;
    let vars = BTreeMap::from([
        ("$".to_string(), dot.clone()),
        ("$labels".to_string(), Val::labels(d.labels)),
        ("$value".to_string(), Val::Num(d.value)),
        (
            "$externalLabels".to_string(),
            Val::labels(d.external_labels),
        ),
    ]);
    let mut out = String::new();
    Ctx {
        defs: &defs,
        vars: &vars,
        depth: 0,
    }
    .run(&nodes, &dot, &mut out)?;
    Ok(out)
}

/// Checks a template's syntax only (names and data are not known yet).
pub fn check_syntax(template: &str) -> Result<(), String> {
    parse(template, &mut BTreeMap::new()).map(|_| ())
}

/// Checks a template with sample data (for `rules check`).
pub fn check(template: &str) -> Result<(), String> {
    let labels = BTreeMap::new();
    expand(
        template,
        &Data {
            labels: &labels,
            value: 1.0,
            external_labels: &labels,
        },
    )
    .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(t: &str, v: f64) -> String {
        let mut labels = BTreeMap::new();
        labels.insert("job".to_string(), "checkout".to_string());
        expand(
            t,
            &Data {
                labels: &labels,
                value: v,
                external_labels: &BTreeMap::new(),
            },
        )
        .unwrap()
    }

    #[test]
    fn variables_and_functions() {
        assert_eq!(
            ex("{{ $labels.job }} at {{ $value }}", 0.5),
            "checkout at 0.5"
        );
        assert_eq!(ex("{{ $value | humanize }}", 1234567.0), "1.235M");
        assert_eq!(ex("{{ humanize $value }}", 0.0123), "12.3m");
        assert_eq!(ex("{{ $value | humanizePercentage }}", 0.0512), "5.12%");
        assert_eq!(ex("{{ $value | humanizeDuration }}", 3725.0), "1h 2m 5s");
        assert_eq!(ex("{{ $value | humanize1024 }}", 2048.0), "2ki");
        assert_eq!(ex("{{ printf \"%.2f\" $value }}", 1.23456), "1.23");
        assert_eq!(ex("{{ $labels.job | toUpper }}", 0.0), "CHECKOUT");
    }

    #[test]
    fn errors_are_reported() {
        assert!(check("{{ $labels.job").is_err());
        assert!(check("{{ nosuchfn $value }}").is_err());
        assert!(check("{{ \"open }}").is_err());
    }

    #[test]
    fn go_g_format() {
        assert_eq!(fmt_g(1234.5, 4), "1234");
        assert_eq!(fmt_g(0.000012345, 4), "1.234e-05");
        assert_eq!(fmt_g(12345678.0, 4), "1.235e+07");
        assert_eq!(fmt_g(100.0, 4), "100");
    }
}

#[cfg(test)]
mod notification_tests {
    use super::*;

    fn data() -> Val {
        let alert = |status: &str, inst: &str| {
            Val::Map(BTreeMap::from([
                ("Status".to_string(), Val::Str(status.into())),
                (
                    "Labels".to_string(),
                    Val::labels(&BTreeMap::from([
                        ("alertname".to_string(), "Down".to_string()),
                        ("instance".to_string(), inst.to_string()),
                    ])),
                ),
                (
                    "Annotations".to_string(),
                    Val::labels(&BTreeMap::from([(
                        "summary".to_string(),
                        format!("{inst} is down"),
                    )])),
                ),
            ]))
        };
        Val::Map(BTreeMap::from([
            ("Status".to_string(), Val::Str("firing".into())),
            ("Receiver".to_string(), Val::Str("team".into())),
            (
                "Alerts".to_string(),
                Val::List(vec![alert("firing", "a:1"), alert("resolved", "b:2")]),
            ),
            (
                "CommonLabels".to_string(),
                Val::labels(&BTreeMap::from([(
                    "alertname".to_string(),
                    "Down".to_string(),
                )])),
            ),
        ]))
    }

    /// Forms from Alertmanager's documentation and its default templates.
    #[test]
    fn notification_templates_render() {
        let t = Templates::default();
        let r = |s: &str| t.render(s, &data()).unwrap();
        assert_eq!(
            r(
                "[{{ .Status | toUpper }}{{ if eq .Status \"firing\" }}:{{ .Alerts.Firing | len }}{{ end }}] {{ .CommonLabels.alertname }}"
            ),
            "[FIRING:1] Down"
        );
        assert_eq!(
            r("{{ range .Alerts }}{{ .Annotations.summary }};{{ end }}"),
            "a:1 is down;b:2 is down;"
        );
        assert_eq!(
            r(
                "{{ range .Alerts.Resolved }}{{ range .Labels.SortedPairs }}{{ .Name }}={{ .Value }} {{ end }}{{ end }}"
            ),
            "alertname=Down instance=b:2 "
        );
        assert_eq!(
            r("{{ with .CommonLabels.team }}{{ . }}{{ else }}none{{ end }}"),
            "none"
        );
        assert_eq!(r("{{ if gt (len .Alerts) 1 }}x{{ end }}"), "x");
        assert_eq!(r("{{ index .CommonLabels \"alertname\" }}"), "Down");
        assert_eq!(
            r("{{ reReplaceAll \":[0-9]+\" \"\" (index .Alerts 0).Labels.instance }}"),
            "a"
        );
    }

    #[test]
    fn define_and_template() {
        let mut t = Templates::default();
        t.add_file(
            "{{ define \"slack.title\" }}{{ .Receiver }}: {{ .CommonLabels.alertname }}{{ end }}",
        )
        .unwrap();
        assert_eq!(
            t.render("{{ template \"slack.title\" . }}", &data())
                .unwrap(),
            "team: Down"
        );
        assert!(
            t.render("{{ template \"nope\" . }}", &data())
                .unwrap_err()
                .contains("no such template")
        );
    }

    #[test]
    fn unsupported_forms_are_named() {
        let t = Templates::default();
        for (src, want) in [
            (
                "{{ range $i, $a := .Alerts }}{{ end }}",
                "variable declarations are not supported",
            ),
            ("{{ if .Status }}", "missing {{ end }}"),
            ("{{ end }}", "unexpected {{ end }}"),
            ("{{ nosuch .Status }}", "not defined"),
        ] {
            let e = t.render(src, &data()).unwrap_err();
            assert!(e.contains(want), "{src}: {e}");
        }
    }
}
