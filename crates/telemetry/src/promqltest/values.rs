//! The expanding value notation of test scripts: `1+2x3` is 1 3 5 7, `_` a
//! missing point, `stale` a staleness marker, `1x3` four ones.

/// One point of a series line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Point {
    Value(f64),
    Missing,
    Stale,
}

pub fn parse_float(s: &str) -> Result<f64, String> {
    match s {
        "Inf" | "+Inf" | "inf" | "+inf" => Ok(f64::INFINITY),
        "-Inf" | "-inf" => Ok(f64::NEG_INFINITY),
        "NaN" | "nan" => Ok(f64::NAN),
        _ => {
            if let Some(hex) = s.strip_prefix("0x") {
                return i64::from_str_radix(hex, 16)
                    .map(|v| v as f64)
                    .map_err(|_| format!("bad number {s:?}"));
            }
            s.parse::<f64>().map_err(|_| format!("bad number {s:?}"))
        }
    }
}

/// Most points the series lines of one script may expand to, all lines
/// together (a point takes 16 bytes before it is stored): `0+1x99999999999`
/// is refused instead of allocating terabytes.
pub const MAX_SCRIPT_POINTS: usize = 5_000_000;

/// Takes `n` points from what is left of the script's `budget`.
fn spend(budget: &mut usize, n: usize, tok: &str) -> Result<(), String> {
    match budget.checked_sub(n) {
        Some(left) => {
            *budget = left;
            Ok(())
        }
        None => Err(format!(
            "{tok:?} expands to too many points: a script may hold at most {MAX_SCRIPT_POINTS}"
        )),
    }
}

/// Expands the values of a series line, taking them from `budget` (see
/// [`MAX_SCRIPT_POINTS`]).
pub fn expand(tokens: &[&str], budget: &mut usize) -> Result<Vec<Point>, String> {
    let mut out = Vec::new();
    for tok in tokens {
        spend(budget, 1, tok)?;
        if *tok == "_" {
            out.push(Point::Missing);
            continue;
        }
        if *tok == "stale" {
            out.push(Point::Stale);
            continue;
        }
        if let Some(times) = tok.strip_prefix("_x") {
            let n: usize = times
                .parse()
                .map_err(|_| format!("bad repetition {tok:?}"))?;
            spend(budget, n, tok)?;
            out.extend(std::iter::repeat_n(Point::Missing, n));
            continue;
        }
        match tok.rfind('x') {
            Some(xi)
                if xi > 0
                    && tok[xi + 1..].chars().all(|c| c.is_ascii_digit())
                    && !tok[xi + 1..].is_empty() =>
            {
                let n: usize = tok[xi + 1..]
                    .parse()
                    .map_err(|_| format!("bad repetition {tok:?}"))?;
                let head = &tok[..xi];
                // `a+b`, `a-b` (a may itself be negative), or just `a`.
                let split = head
                    .char_indices()
                    .skip(1)
                    .find(|(i, c)| {
                        (*c == '+' || *c == '-') && !matches!(head.as_bytes()[i - 1], b'e' | b'E')
                    })
                    .map(|(i, _)| i);
                let (start, inc) = match split {
                    Some(i) => {
                        let start = parse_float(&head[..i])?;
                        let mut inc = parse_float(&head[i + 1..])?;
                        if &head[i..=i] == "-" {
                            inc = -inc;
                        }
                        (start, inc)
                    }
                    None => (parse_float(head)?, 0.0),
                };
                spend(budget, n, tok)?;
                for k in 0..=n {
                    out.push(Point::Value(start + inc * k as f64));
                }
            }
            _ => out.push(Point::Value(parse_float(tok)?)),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(s: &str) -> Vec<Point> {
        let mut budget = MAX_SCRIPT_POINTS;
        expand(&s.split_whitespace().collect::<Vec<_>>(), &mut budget).unwrap()
    }

    #[test]
    fn expanding_notation() {
        assert_eq!(vals("1+2x3"), [1.0, 3.0, 5.0, 7.0].map(Point::Value));
        assert_eq!(vals("10-2x2"), [10.0, 8.0, 6.0].map(Point::Value));
        assert_eq!(vals("-1+1x2"), [-1.0, 0.0, 1.0].map(Point::Value));
        assert_eq!(vals("1x2"), [1.0, 1.0, 1.0].map(Point::Value));
        assert_eq!(
            vals("_ stale 3"),
            vec![Point::Missing, Point::Stale, Point::Value(3.0)]
        );
        assert_eq!(vals("_x2"), vec![Point::Missing, Point::Missing]);
        assert_eq!(vals("1e3"), vec![Point::Value(1000.0)]);
    }
}

#[cfg(test)]
mod budget_tests {
    use super::*;

    #[test]
    fn expansion_is_bounded_before_allocating() {
        for tok in ["0+1x99999999999", "_x99999999999", "1x5000000"] {
            let mut budget = MAX_SCRIPT_POINTS;
            let e = expand(&[tok], &mut budget).unwrap_err();
            assert!(e.contains("too many points"), "{tok}: {e}");
        }
        // The budget is shared by all lines of a script.
        let mut budget = 10;
        assert_eq!(expand(&["1+1x5"], &mut budget).unwrap().len(), 6);
        assert_eq!(budget, 4);
        assert!(expand(&["1+1x5"], &mut budget).is_err());
        assert_eq!(budget, 3);
        assert_eq!(expand(&["1x2"], &mut budget).unwrap().len(), 3);
    }
}
