//! The subset of Go templates Prometheus rule labels and annotations use:
//! `{{ $labels.name }}`, `{{ $value }}`, `{{ $externalLabels.x }}`, pipes,
//! and the functions `humanize`, `humanize1024`, `humanizePercentage`,
//! `humanizeDuration`, `printf`, `toUpper`, `toLower`, `title`.

use std::collections::BTreeMap;

/// What a template can read.
pub struct Data<'a> {
    pub labels: &'a BTreeMap<String, String>,
    pub value: f64,
    pub external_labels: &'a BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Val {
    Str(String),
    Num(f64),
}

impl Val {
    fn text(&self) -> String {
        match self {
            Val::Str(s) => s.clone(),
            Val::Num(n) => go_float(*n),
        }
    }

    fn num(&self) -> Result<f64, String> {
        match self {
            Val::Num(n) => Ok(*n),
            Val::Str(s) => s
                .trim()
                .parse()
                .map_err(|_| format!("{s:?} is not a number")),
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

/// Splits an action into words, keeping quoted strings whole.
fn words(action: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
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
    if !cur.is_empty() {
        out.push(cur);
    }
    Ok(out)
}

fn term(w: &str, d: &Data) -> Result<Option<Val>, String> {
    if let Some(s) = w.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        return Ok(Some(Val::Str(s.replace("\\n", "\n").replace("\\\"", "\""))));
    }
    if let Some(s) = w.strip_prefix('`').and_then(|s| s.strip_suffix('`')) {
        return Ok(Some(Val::Str(s.to_string())));
    }
    if let Ok(n) = w.parse::<f64>() {
        return Ok(Some(Val::Num(n)));
    }
    let label =
        |map: &BTreeMap<String, String>, k: &str| Val::Str(map.get(k).cloned().unwrap_or_default());
    Ok(Some(match w {
        "$value" | ".Value" => Val::Num(d.value),
        _ => {
            if let Some(k) = w
                .strip_prefix("$labels.")
                .or_else(|| w.strip_prefix(".Labels."))
            {
                label(d.labels, k)
            } else if let Some(k) = w
                .strip_prefix("$externalLabels.")
                .or_else(|| w.strip_prefix(".ExternalLabels."))
            {
                label(d.external_labels, k)
            } else {
                return Ok(None);
            }
        }
    }))
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
        other => return Err(format!("function {other:?} not defined")),
    })
}

fn eval_action(action: &str, d: &Data) -> Result<String, String> {
    let ws = words(action)?;
    let mut acc: Option<Val> = None;
    for stage in ws.split(|w| w == "|") {
        if stage.is_empty() {
            return Err(format!("empty pipeline stage in {{{{{action}}}}}"));
        }
        let head = &stage[0];
        let mut args: Vec<Val> = Vec::new();
        for w in &stage[1..] {
            args.push(term(w, d)?.ok_or_else(|| format!("undefined variable {w:?}"))?);
        }
        if let Some(prev) = acc.take() {
            args.push(prev);
        }
        acc = Some(match term(head, d)? {
            Some(v) if stage.len() == 1 && args.is_empty() => v,
            Some(v) if stage.len() == 1 => {
                return Err(format!("can't give argument to non-function {}", v.text()));
            }
            Some(_) => return Err(format!("{head} is not a function")),
            None => call(head, args)?,
        });
    }
    Ok(acc.map(|v| v.text()).unwrap_or_default())
}

/// Expands `template`.
pub fn expand(template: &str, d: &Data) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find("}}") else {
            return Err("unclosed action: '{{' without '}}'".into());
        };
        let mut action = &rest[open + 2..open + close];
        if let Some(a) = action.strip_prefix('-') {
            action = a;
            out.truncate(out.trim_end().len());
        }
        let trim_after = action.ends_with('-');
        let action = action.trim_end_matches('-').trim();
        if !(action.starts_with("/*") && action.ends_with("*/")) {
            out.push_str(&eval_action(action, d)?);
        }
        rest = &rest[open + close + 2..];
        if trim_after {
            rest = rest.trim_start();
        }
    }
    out.push_str(rest);
    Ok(out)
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
