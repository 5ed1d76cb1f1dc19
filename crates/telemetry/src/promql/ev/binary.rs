//! Binary operators: arithmetic, comparison (filtering or `bool`), set
//! operators, and vector matching (on/ignoring, group_left/group_right).

use std::collections::{HashMap, HashSet};

use promql_parser::parser::{BinModifier, BinaryExpr, LabelModifier, VectorMatchCardinality};

use super::Ev;
use super::value::{Elem, Val};
use crate::model::{Labels, METRIC_NAME};
use crate::promql::QueryError;

fn is_comparison(op: &str) -> bool {
    matches!(op, "==" | "!=" | ">" | "<" | ">=" | "<=")
}

fn is_set(op: &str) -> bool {
    matches!(op, "and" | "or" | "unless")
}

/// `(value, keep)` of `l op r`; comparisons keep `l` when true.
fn apply(op: &str, l: f64, r: f64) -> Result<(f64, bool), QueryError> {
    Ok(match op {
        "+" => (l + r, true),
        "-" => (l - r, true),
        "*" => (l * r, true),
        "/" => (l / r, true),
        "%" => (l % r, true),
        "^" => (l.powf(r), true),
        "atan2" => (l.atan2(r), true),
        "==" => (l, l == r),
        "!=" => (l, l != r),
        ">" => (l, l > r),
        "<" => (l, l < r),
        ">=" => (l, l >= r),
        "<=" => (l, l <= r),
        other => {
            return Err(QueryError::BadData(format!(
                "operator {other:?} not allowed here"
            )));
        }
    })
}

/// The label set two sides match on.
fn signature(l: &Labels, matching: Option<&LabelModifier>) -> Vec<(String, String)> {
    match matching {
        Some(LabelModifier::Include(on)) => {
            let mut names: Vec<&String> = on.labels.iter().collect();
            names.sort();
            names.dedup();
            names
                .into_iter()
                .map(|n| (n.clone(), l.get(n).unwrap_or("").to_string()))
                .filter(|(_, v)| !v.is_empty())
                .collect()
        }
        Some(LabelModifier::Exclude(ign)) => l
            .iter()
            .filter(|lb| lb.name != METRIC_NAME && !ign.labels.contains(&lb.name))
            .map(|lb| (lb.name.clone(), lb.value.clone()))
            .collect(),
        None => l
            .iter()
            .filter(|lb| lb.name != METRIC_NAME)
            .map(|lb| (lb.name.clone(), lb.value.clone()))
            .collect(),
    }
}

/// A label set as Prometheus prints one: `{__name__="x", a="b"}`.
fn go_labels(l: &Labels) -> String {
    let inner: Vec<String> = l
        .iter()
        .map(|lb| format!("{}={:?}", lb.name, lb.value))
        .collect();
    format!("{{{}}}", inner.join(", "))
}

fn fmt_sig(sig: &[(String, String)]) -> String {
    let inner: Vec<String> = sig.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    format!("{{{}}}", inner.join(", "))
}

impl Ev<'_> {
    pub fn binary(&self, b: &BinaryExpr, t: i64) -> Result<Val, QueryError> {
        let op = b.op.to_string();
        let return_bool = b.modifier.as_ref().is_some_and(|m| m.return_bool);
        let lhs = self.eval(&b.lhs, t)?;
        let rhs = self.eval(&b.rhs, t)?;
        match (lhs, rhs) {
            (Val::Scalar(l), Val::Scalar(r)) => {
                let (v, keep) = apply(&op, l, r)?;
                if is_comparison(&op) {
                    Ok(Val::Scalar(if keep { 1.0 } else { 0.0 }))
                } else {
                    Ok(Val::Scalar(v))
                }
            }
            (Val::Vector(l), Val::Scalar(r)) => Ok(Val::Vector(vector_scalar(
                &op,
                l,
                r,
                false,
                return_bool,
                t,
            )?)),
            (Val::Scalar(l), Val::Vector(r)) => {
                Ok(Val::Vector(vector_scalar(&op, r, l, true, return_bool, t)?))
            }
            (Val::Vector(l), Val::Vector(r)) => {
                let m = b.modifier.as_ref();
                if is_set(&op) {
                    return Ok(Val::Vector(set_op(
                        &op,
                        l,
                        r,
                        m.and_then(|m| m.matching.as_ref()),
                    )));
                }
                Ok(Val::Vector(vector_vector(&op, l, r, m, return_bool, t)?))
            }
            (l, r) => Err(QueryError::BadData(format!(
                "binary operator {op} between {} and {}",
                l.type_name(),
                r.type_name()
            ))),
        }
    }
}

fn vector_scalar(
    op: &str,
    v: Vec<Elem>,
    s: f64,
    swap: bool,
    return_bool: bool,
    t: i64,
) -> Result<Vec<Elem>, QueryError> {
    let mut out = Vec::with_capacity(v.len());
    let comparison = is_comparison(op);
    for mut e in v {
        let (l, r) = if swap { (s, e.v) } else { (e.v, s) };
        let (mut value, keep) = apply(op, l, r)?;
        if comparison && swap {
            value = e.v;
        }
        if return_bool {
            value = if keep { 1.0 } else { 0.0 };
        } else if !keep {
            continue;
        }
        if !comparison || return_bool {
            e.labels = e.labels.without_name();
        }
        e.v = value;
        e.t = t;
        out.push(e);
    }
    Ok(out)
}

fn set_op(op: &str, l: Vec<Elem>, r: Vec<Elem>, matching: Option<&LabelModifier>) -> Vec<Elem> {
    let rsigs: HashSet<Vec<(String, String)>> =
        r.iter().map(|e| signature(&e.labels, matching)).collect();
    match op {
        "and" => l
            .into_iter()
            .filter(|e| rsigs.contains(&signature(&e.labels, matching)))
            .collect(),
        "unless" => l
            .into_iter()
            .filter(|e| !rsigs.contains(&signature(&e.labels, matching)))
            .collect(),
        _ => {
            let lsigs: HashSet<Vec<(String, String)>> =
                l.iter().map(|e| signature(&e.labels, matching)).collect();
            let mut out = l;
            out.extend(
                r.into_iter()
                    .filter(|e| !lsigs.contains(&signature(&e.labels, matching))),
            );
            out
        }
    }
}

fn result_labels(
    many: &Labels,
    one: &Labels,
    op: &str,
    card: &VectorMatchCardinality,
    matching: Option<&LabelModifier>,
    return_bool: bool,
) -> Labels {
    let mut l = many.clone();
    if !is_comparison(op) || return_bool {
        l.remove(METRIC_NAME);
    }
    if matches!(card, VectorMatchCardinality::OneToOne) {
        match matching {
            Some(LabelModifier::Include(on)) => {
                let keep: Vec<String> = l
                    .iter()
                    .filter(|lb| !on.labels.contains(&lb.name))
                    .map(|lb| lb.name.clone())
                    .collect();
                for k in keep {
                    l.remove(&k);
                }
            }
            Some(LabelModifier::Exclude(ign)) => {
                for n in &ign.labels {
                    l.remove(n);
                }
            }
            None => {}
        }
    }
    if let Some(include) = card.labels() {
        for n in &include.labels {
            match one.get(n) {
                Some(v) if !v.is_empty() => {
                    let v = v.to_string();
                    l.set(n, &v);
                }
                _ => l.remove(n),
            }
        }
    }
    l
}

fn vector_vector(
    op: &str,
    lhs: Vec<Elem>,
    rhs: Vec<Elem>,
    m: Option<&BinModifier>,
    return_bool: bool,
    t: i64,
) -> Result<Vec<Elem>, QueryError> {
    let card = m
        .map(|m| m.card.clone())
        .unwrap_or(VectorMatchCardinality::OneToOne);
    let matching = m.and_then(|m| m.matching.as_ref());
    // The "one" side is always on the right: swap for group_right.
    let swap = matches!(card, VectorMatchCardinality::OneToMany(_));
    let (many, one) = if swap { (rhs, lhs) } else { (lhs, rhs) };
    let mut one_by_sig: HashMap<Vec<(String, String)>, &Elem> = HashMap::with_capacity(one.len());
    for e in &one {
        let sig = signature(&e.labels, matching);
        if let Some(prev) = one_by_sig.get(&sig) {
            let side = if swap { "left" } else { "right" };
            let mut pair = [go_labels(&prev.labels), go_labels(&e.labels)];
            pair.sort();
            return Err(QueryError::Execution(format!(
                "found duplicate series for the match group {} on the {side} hand-side of the operation: [{}, {}];many-to-many matching not allowed: matching labels must be unique on one side",
                fmt_sig(&sig),
                pair[0],
                pair[1]
            )));
        }
        one_by_sig.insert(sig, e);
    }
    let comparison = is_comparison(op);
    let mut matched: HashSet<Vec<(String, String)>> = HashSet::new();
    let mut produced: HashSet<Labels> = HashSet::new();
    let mut out = Vec::new();
    for e in &many {
        let sig = signature(&e.labels, matching);
        let Some(o) = one_by_sig.get(&sig) else {
            continue;
        };
        // Checked before filtering: the error must not depend on the values.
        if matches!(card, VectorMatchCardinality::OneToOne) && !matched.insert(sig) {
            return Err(QueryError::Execution(
                "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)".into(),
            ));
        }
        let (l, r) = if swap { (o.v, e.v) } else { (e.v, o.v) };
        let (mut value, keep) = apply(op, l, r)?;
        if comparison && swap {
            value = e.v;
        }
        if return_bool {
            value = if keep { 1.0 } else { 0.0 };
        } else if !keep {
            continue;
        }
        let labels = result_labels(&e.labels, &o.labels, op, &card, matching, return_bool);
        if !matches!(card, VectorMatchCardinality::OneToOne) && !produced.insert(labels.clone()) {
            return Err(QueryError::Execution(
                "multiple matches for labels: grouping labels must ensure unique matches".into(),
            ));
        }
        out.push(Elem {
            labels,
            t,
            v: value,
        });
    }
    Ok(out)
}
