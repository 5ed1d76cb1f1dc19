//! The cause-based rules bundled with the labs (crates/alerting/rules/):
//! our loader accepts them, every alert says how it is routed and why and
//! has a runbook, and Debian's promtool checks them and passes their unit
//! tests (rules/tests/), one or more for every alert.

use std::path::{Path, PathBuf};
use std::process::Command;

use alerting::rules::bundled::{BundledRules, CHATBOT, LAB, bundled_rules};
use alerting::rules::{RuleKind, parse_rules};
#[path = "common/promtool.rs"]
mod common;
use common::promtool;

const FILES: [BundledRules; 2] = [LAB, CHATBOT];

fn rules_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")
}

fn test_file(b: &BundledRules) -> PathBuf {
    rules_dir()
        .join("tests")
        .join(b.name.replace(".yaml", "_test.yaml"))
}

#[test]
fn every_bundled_lab_has_cause_rules() {
    assert_eq!(bundled_rules("shop"), &[LAB]);
    assert_eq!(bundled_rules("chatbot"), &[LAB, CHATBOT]);
    assert!(bundled_rules("my-lab").is_empty());
    for b in FILES {
        let on_disk = std::fs::read_to_string(rules_dir().join(b.name)).unwrap();
        assert_eq!(on_disk, b.text, "{} is the file compiled in", b.name);
    }
}

#[test]
fn every_alert_is_routed_with_a_reason_and_a_runbook() {
    let mut names = Vec::new();
    for b in FILES {
        let groups = parse_rules(b.text, b.name).unwrap_or_else(|e| panic!("{e}"));
        let tests = std::fs::read_to_string(test_file(&b)).unwrap();
        for rule in groups.iter().flat_map(|g| &g.rules) {
            let RuleKind::Alerting {
                alert, annotations, ..
            } = &rule.kind
            else {
                panic!("{}: only alerts are bundled", b.name);
            };
            names.push(alert.clone());
            let severity = rule.labels.get("severity").map(String::as_str);
            assert!(
                matches!(severity, Some("page" | "ticket")),
                "{alert}: severity page or ticket, not {severity:?}"
            );
            for key in ["summary", "description", "routing", "runbook"] {
                assert!(
                    annotations.get(key).is_some_and(|v| !v.trim().is_empty()),
                    "{alert}: annotation {key} missing"
                );
            }
            let routing = &annotations["routing"];
            assert!(
                routing.starts_with(severity.unwrap_or_default()),
                "{alert}: routing {routing:?} explains severity {severity:?}"
            );
            assert!(
                annotations["runbook"].contains("firedrill "),
                "{alert}: the runbook names firedrill commands"
            );
            assert!(
                tests.contains(&format!("alertname: {alert}\n")),
                "{alert} has no promtool unit test in {}",
                test_file(&b).display()
            );
        }
    }
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        names.len(),
        "alert names are unique: {names:?}"
    );
}

fn run(promtool: &Path, args: &[&str], file: &Path) {
    let out = Command::new(promtool)
        .args(args)
        .arg(file)
        .current_dir(file.parent().unwrap())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promtool {} {}:\n{}\n{}",
        args.join(" "),
        file.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn promtool_checks_the_rules_and_passes_their_unit_tests() {
    let Some(promtool) = promtool() else { return };
    for b in FILES {
        run(&promtool, &["check", "rules"], &rules_dir().join(b.name));
        run(&promtool, &["test", "rules"], &test_file(&b));
    }
}
