//! Rule files compared rule by rule, and promtool's view of their values.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

#[path = "../common/promtool.rs"]
mod common;

pub fn promtool() -> Option<PathBuf> {
    common::promtool()
}

/// The rule groups of a file Sloth generated: a Prometheus rule file, or
/// PrometheusRule objects (Kubernetes input), one or more documents.
pub fn sloth_groups(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    let docs: Vec<Value> =
        serde_saphyr::from_multiple(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    for d in docs {
        let groups = if d["kind"] == "PrometheusRule" {
            &d["spec"]["groups"]
        } else {
            &d["groups"]
        };
        out.extend(groups.as_array().cloned().unwrap_or_default());
    }
    assert!(!out.is_empty(), "{}: no rule groups", path.display());
    out
}

/// The rule groups of our rule file.
pub fn groups_of(rules: &str) -> Vec<Value> {
    let v: Value = serde_saphyr::from_str(rules).expect("our rule file is YAML");
    v["groups"].as_array().cloned().unwrap_or_default()
}

/// Each alert name of the groups, once.
pub fn alert_names(groups: &[Value]) -> BTreeSet<String> {
    groups
        .iter()
        .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
        .filter_map(|r| r["alert"].as_str().map(String::from))
        .collect()
}

fn string_map(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            let s = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), s)
        })
        .collect()
}

/// A PromQL expression in one canonical spelling.
fn canonical(expr: &str) -> Result<String, String> {
    promql_parser::parser::parse(expr)
        .map(|e| e.to_string())
        .map_err(|e| format!("{expr:?} does not parse: {e}"))
}

/// One rule as compared: kind and name, labels, annotations, expression.
type RuleKey = (
    String,
    BTreeMap<String, String>,
    BTreeMap<String, String>,
    String,
);

fn rule_key(r: &Value) -> Result<RuleKey, String> {
    let name = match (r["record"].as_str(), r["alert"].as_str()) {
        (Some(n), None) => format!("record {n}"),
        (None, Some(n)) => format!("alert {n}"),
        _ => return Err(format!("neither record nor alert: {r}")),
    };
    let mut labels = string_map(&r["labels"]);
    if name == "record sloth_slo_info" {
        // Who generated the rules: Sloth says `cli-gen-prom` and its
        // version, firedrill says `firedrill`.
        labels.remove("sloth_mode");
        labels.remove("sloth_version");
    }
    let expr = canonical(r["expr"].as_str().unwrap_or_default())?;
    Ok((name, labels, string_map(&r["annotations"]), expr))
}

/// Same groups in the same order, each with the same rules.
pub fn same_rules(ours: &[Value], sloth: &[Value]) -> Result<(), String> {
    let names = |g: &[Value]| -> Vec<String> {
        g.iter()
            .map(|g| g["name"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    if names(ours) != names(sloth) {
        return Err(format!(
            "groups differ:\n  sloth: {:?}\n  ours:  {:?}",
            names(sloth),
            names(ours)
        ));
    }
    for (o, s) in ours.iter().zip(sloth) {
        let (or, sr) = (
            o["rules"].as_array().cloned().unwrap_or_default(),
            s["rules"].as_array().cloned().unwrap_or_default(),
        );
        if or.len() != sr.len() {
            return Err(format!(
                "group {}: {} rules, Sloth has {}",
                o["name"],
                or.len(),
                sr.len()
            ));
        }
        for (a, b) in or.iter().zip(&sr) {
            let (a, b) = (rule_key(a)?, rule_key(b)?);
            if a != b {
                return Err(format!(
                    "group {}: rules differ:\n  sloth: {b:?}\n  ours:  {a:?}",
                    o["name"]
                ));
            }
        }
    }
    Ok(())
}

fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// Minutes between evaluations, and so between compared steps.
const STEP: usize = 10;

/// A promtool test over the synthetic input that expects nothing at every
/// step, so that promtool reports everything the rules produce: each
/// recorded `slo:*` series and `ALERTS`, and each alert with its
/// annotations.
/// Groups are evaluated in the file's order (promtool's default order is
/// random, so a group could read the previous step's recordings).
pub fn test_file(rules: &Path, groups: &[Value], input: &BTreeMap<String, String>) -> String {
    let alerts = alert_names(groups);
    let mut out = format!(
        "rule_files:\n  - {}\nevaluation_interval: {STEP}m\ngroup_eval_order:\n",
        q(&rules.display().to_string())
    );
    for g in groups {
        out.push_str(&format!(
            "  - {}\n",
            q(g["name"].as_str().unwrap_or_default())
        ));
    }
    out.push_str(&format!(
        "tests:\n  - interval: {}s\n    input_series:\n",
        super::synthetic::SAMPLE_SECS
    ));
    for (series, values) in input {
        out.push_str(&format!(
            "      - series: {}\n        values: {}\n",
            q(series),
            q(values)
        ));
    }
    out.push_str("    promql_expr_test:\n");
    let steps: Vec<usize> = (0..=super::synthetic::MINUTES).step_by(STEP).collect();
    for m in &steps {
        out.push_str(&format!(
            "      - expr: '{{__name__=~\"slo:.+|ALERTS\"}}'\n        eval_time: {m}m\n        exp_samples: []\n"
        ));
    }
    if !alerts.is_empty() {
        out.push_str("    alert_rule_test:\n");
        for m in &steps {
            for a in &alerts {
                out.push_str(&format!(
                    "      - eval_time: {m}m\n        alertname: {}\n        exp_alerts: []\n",
                    q(a)
                ));
            }
        }
    }
    out
}

/// What promtool reported, by step: `expr: …, time: …` or `alertname: …,
/// time: …` to what it got then.
pub fn run_promtool(promtool: &Path, test: &Path) -> BTreeMap<String, String> {
    let out = Command::new(promtool)
        .args(["test", "rules"])
        .arg(test)
        .output()
        .expect("promtool runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("FAILED") || text.contains("SUCCESS"),
        "promtool did not run the tests:\n{text}"
    );
    let mut found = BTreeMap::new();
    let mut key: Option<String> = None;
    let mut body: Vec<String> = Vec::new();
    let mut flush = |key: &mut Option<String>, body: &mut Vec<String>| {
        if let Some(k) = key.take() {
            found.insert(k, body.join("\n"));
        }
        body.clear();
    };
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with("expr: ") || t.starts_with("alertname: ") {
            flush(&mut key, &mut body);
            key = Some(t.to_string());
        } else if key.is_some() && !t.is_empty() && !t.starts_with("exp:") {
            body.push(t.to_string());
        }
    }
    flush(&mut key, &mut body);
    assert!(
        out.status.success() || !found.is_empty(),
        "promtool failed without reporting values:\n{text}"
    );
    found
}
