//! Generated SLO rules against Debian's promtool: `check rules` and the
//! generated `test rules` unit tests pass; our own loader accepts them.

use std::process::Command;

use alerting::rules::parse_rules;
#[path = "common/promtool.rs"]
mod common;
use common::promtool;

use alerting::slo::{
    Options, Period, bundled::bundled_spec, parse_spec, parse_spec_with, rule_file,
    tests_gen::test_file,
};

#[test]
fn bundled_slos_compile_and_pass_promtool() {
    for (lab, period) in [
        ("shop", Period::Days30),
        ("chatbot", Period::Days30),
        ("shop", Period::Days28),
    ] {
        let opts = Options {
            default_period: period,
        };
        let slos = parse_spec_with(bundled_spec(lab).unwrap(), &format!("{lab}.yaml"), &opts)
            .expect("valid spec");
        let rules = rule_file(&slos);
        let groups =
            parse_rules(&rules, "generated.yml").unwrap_or_else(|e| panic!("{e}\n{rules}"));
        assert_eq!(groups.len(), 3 * slos.len());
        // Multi-window, multi-burn-rate alerts: page 14.4x (1h/5m) and 6x (6h/30m).
        assert!(rules.contains("max(slo:sli_error:ratio_rate5m{"), "{rules}");
        assert!(
            rules.contains("> (14.4 * 0.0009999999999999432)) without (sloth_window)")
                || lab == "chatbot"
                || period == Period::Days28,
            "{rules}"
        );
        let Some(promtool) = promtool() else { continue };
        let dir = tempfile::tempdir().unwrap();
        let rp = dir.path().join(format!("{lab}.rules.yml"));
        let tp = dir.path().join(format!("{lab}.test.yml"));
        std::fs::write(&rp, &rules).unwrap();
        let out = Command::new(&promtool)
            .args(["check", "rules"])
            .arg(&rp)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "promtool check rules:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(&tp, test_file(&slos, &format!("{lab}.rules.yml"))).unwrap();
        let out = Command::new(&promtool)
            .args(["test", "rules"])
            .arg(&tp)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "promtool test rules:\n{}\n{}\n--- tests:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&tp).unwrap()
        );
    }
}

#[test]
fn spec_mistakes_are_located() {
    let bad = "version: \"prometheus/v2\"\nservice: shop\nslos:\n  - name: a\n    objective: 120\n    sli:\n      events:\n        error_query: sum(rate(x[{{.window}}])\n        total_query: sum(rate(y[{{.window}}]))\n";
    let e = parse_spec(bad, "bad.yaml").unwrap_err().to_string();
    assert!(e.contains("bad.yaml:1:10: version:"), "{e}");
    assert!(e.contains("bad.yaml:5:16: slos[0].objective:"), "{e}");
    assert!(
        e.contains("bad.yaml:8:22: slos[0].sli.events.error_query: could not parse the query"),
        "{e}"
    );
}

#[test]
fn openslo_documents_map_onto_the_same_rules() {
    let doc = r#"apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout-availability
spec:
  service: shop
  description: Checkouts
  indicator:
    metadata:
      name: checkout-errors
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            type: Prometheus
            spec:
              query: loadgen_journeys_total{journey="checkout",outcome="failure"}
        total:
          metricSource:
            type: Prometheus
            spec:
              query: loadgen_journeys_total{journey="checkout"}
  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.999
"#;
    let slos = parse_spec(doc, "openslo.yaml").expect("maps");
    assert_eq!(slos[0].objective, 99.9);
    let rules = rule_file(&slos);
    assert!(
        rules.contains(
            "sum(rate(loadgen_journeys_total{journey=\"checkout\",outcome=\"failure\"}[5m]))"
        ) || rules.contains("rate(loadgen_journeys_total"),
        "{rules}"
    );
    // 28 days keep the windows and scale the factors, as Sloth does; the
    // period window is named by its length.
    assert!(rules.contains("slo:sli_error:ratio_rate1h"), "{rules}");
    assert!(rules.contains("> (13.44 * 0.0009"), "{rules}");
    assert!(rules.contains("slo:sli_error:ratio_rate4w{"), "{rules}");
    assert!(rules.contains("sloth_spec: \"openslo/v1\""), "{rules}");
    parse_rules(&rules, "g.yml").expect("loads");
}
