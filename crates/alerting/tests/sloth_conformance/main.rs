//! firedrill's SLO rules against Sloth's own: for Sloth's examples and
//! integration-test specs (tests/sloth, copied from Sloth's repository with
//! the rules Sloth generated from them), our rule file has the same groups,
//! rule names, labels, annotations and expressions (up to formatting), and
//! Debian's `promtool test rules` on both files over the same four days of
//! synthetic input gives the same value for every recorded series and alert
//! at every evaluation step, for 30- and 28-day SLOs.

mod compare;
mod synthetic;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use alerting::slo::{Options, Period, parse_spec_with, rule_file};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sloth")
        .join(rel)
}

struct Case {
    spec: &'static str,
    expected: &'static str,
    period: Period,
    extra_labels: &'static [(&'static str, &'static str)],
    /// The synthetic timeline makes at least one alert fire.
    alerts_fire: bool,
    /// Compare values with promtool too. Not for a case whose rules (checked
    /// above) are another case's but for labels: the Kubernetes twins, the
    /// extra labels, getting-started (in-base's first SLO with other
    /// labels) and in-multifile (the multifile example's twin).
    promtool: bool,
}

/// `scripts/examplesgen.sh` runs `sloth generate --extra-labels cmd=examplesgen.sh`.
const EXAMPLES: &[(&str, &str)] = &[("cmd", "examplesgen.sh")];

fn example(name: &'static str, ext: &'static str, alerts_fire: bool) -> Case {
    let spec: &'static str = Box::leak(format!("examples/{name}.{ext}").into_boxed_str());
    let expected: &'static str = Box::leak(format!("examples/_gen/{name}.{ext}").into_boxed_str());
    Case {
        spec,
        expected,
        period: Period::Days30,
        extra_labels: EXAMPLES,
        alerts_fire,
        promtool: !name.starts_with("k8s-") && name != "getting-started",
    }
}

fn integration(spec: &'static str, expected: &'static str, period: Period) -> Case {
    Case {
        spec,
        expected,
        period,
        extra_labels: &[],
        alerts_fire: true,
        promtool: !spec.contains("-k8s") && !spec.contains("multifile"),
    }
}

fn cases() -> Vec<Case> {
    let mut v = vec![
        example("getting-started", "yml", true),
        example("k8s-getting-started", "yml", true),
        example("multifile", "yml", true),
        example("k8s-multifile", "yml", true),
        example("kubernetes-apiserver", "yml", true),
        example("home-wifi", "yml", true),
        example("k8s-home-wifi", "yml", true),
        example("raw-home-wifi", "yml", true),
        example("no-alerts", "yml", false),
        // Sloth's TestPrometheusGenerate cases.
        integration(
            "integration/in-base.yaml",
            "integration/out-base.yaml",
            Period::Days30,
        ),
        integration(
            "integration/in-base.yaml",
            "integration/out-base-28d.yaml",
            Period::Days28,
        ),
        integration(
            "integration/in-base-k8s.yaml",
            "integration/out-base-k8s.yaml",
            Period::Days30,
        ),
        integration(
            "integration/in-multifile.yaml",
            "integration/out-multifile.yaml",
            Period::Days30,
        ),
        integration(
            "integration/in-multifile-k8s.yaml",
            "integration/out-multifile-k8s.yaml",
            Period::Days30,
        ),
    ];
    v.push(Case {
        extra_labels: &[("exk1", "exv1"), ("exk2", "exv2")],
        promtool: false,
        ..integration(
            "integration/in-base.yaml",
            "integration/out-base-extra-labels.yaml",
            Period::Days30,
        )
    });
    v
}

/// Our rule file for a case, as `firedrill slo generate` writes it.
fn ours(case: &Case) -> String {
    let path = fixture(case.spec);
    let text = std::fs::read_to_string(&path).unwrap();
    let opts = Options {
        default_period: case.period,
    };
    let mut slos =
        parse_spec_with(&text, case.spec, &opts).unwrap_or_else(|e| panic!("{}: {e}", case.spec));
    for s in &mut slos {
        for (k, v) in case.extra_labels {
            s.labels.insert(k.to_string(), v.to_string());
        }
    }
    rule_file(&slos)
}

#[test]
fn rule_files_match_sloths_rule_by_rule() {
    let mut checked = 0;
    for case in cases() {
        let ours = ours(&case);
        let sloth = compare::sloth_groups(&fixture(case.expected));
        let ours_groups = compare::groups_of(&ours);
        compare::same_rules(&ours_groups, &sloth).unwrap_or_else(|e| {
            panic!("{} vs {}: {e}\n--- ours:\n{ours}", case.spec, case.expected)
        });
        // And firedrill's own loader takes the file (`rules check`).
        alerting::rules::parse_rules(&ours, case.spec)
            .unwrap_or_else(|e| panic!("{}: {e}", case.spec));
        checked += 1;
    }
    assert_eq!(checked, cases().len());
}

#[test]
fn a_changed_rule_is_noticed() {
    // The comparison can fail: a different factor, label or name shows.
    let case = integration(
        "integration/in-base.yaml",
        "integration/out-base-28d.yaml",
        Period::Days30,
    );
    let sloth = compare::sloth_groups(&fixture(case.expected));
    let e = compare::same_rules(&compare::groups_of(&ours(&case)), &sloth).unwrap_err();
    assert!(e.contains("slo:sli_error:ratio_rate"), "{e}");
}

#[test]
fn promtool_values_match_sloths_at_every_step() {
    let Some(promtool) = compare::promtool() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut totals = BTreeMap::new();
    let mut results = BTreeMap::new();
    for (i, case) in cases().iter().enumerate().filter(|(_, c)| c.promtool) {
        let text = std::fs::read_to_string(fixture(case.spec)).unwrap();
        let opts = Options {
            default_period: case.period,
        };
        let slos = parse_spec_with(&text, case.spec, &opts).unwrap();
        let input = synthetic::input_series(&slos);
        let sloth = compare::sloth_groups(&fixture(case.expected));
        let ours_path = dir.path().join(format!("{i}-ours.yml"));
        let sloth_path = dir.path().join(format!("{i}-sloth.yml"));
        std::fs::write(&ours_path, ours(case)).unwrap();
        std::fs::write(
            &sloth_path,
            serde_json::to_string(&serde_json::json!({ "groups": sloth })).unwrap(),
        )
        .unwrap();
        let run = |rules: &Path, tag: &str| {
            let test = dir.path().join(format!("{i}-{tag}.test.yml"));
            std::fs::write(&test, compare::test_file(rules, &sloth, &input)).unwrap();
            compare::run_promtool(&promtool, &test)
        };
        let (theirs, mine) = std::thread::scope(|s| {
            let theirs = s.spawn(|| run(&sloth_path, "sloth"));
            let mine = run(&ours_path, "ours");
            (theirs.join().expect("promtool thread"), mine)
        });
        let lines: usize = theirs.values().map(|g| g.matches('\n').count() + 1).sum();
        assert!(
            theirs.len() > 100,
            "{}: Sloth's rules recorded almost nothing ({} steps with data)",
            case.spec,
            theirs.len()
        );
        if case.alerts_fire {
            assert!(
                theirs.keys().any(|k| k.starts_with("alertname:")),
                "{}: no alert fired on the synthetic input",
                case.spec
            );
        }
        let diff: Vec<String> = theirs
            .keys()
            .chain(mine.keys())
            .filter(|k| theirs.get(*k) != mine.get(*k))
            .take(3)
            .map(|k| {
                format!(
                    "{k}\n  sloth: {}\n  ours:  {}",
                    theirs.get(k).map(String::as_str).unwrap_or("(nothing)"),
                    mine.get(k).map(String::as_str).unwrap_or("(nothing)")
                )
            })
            .collect();
        assert!(
            diff.is_empty(),
            "{} ({:?}): promtool values differ:\n{}",
            case.spec,
            case.period,
            diff.join("\n")
        );
        totals.insert(case.expected, (theirs.len(), lines));
        results.insert(case.expected, (theirs, mine));
    }
    // The comparison can fail: our 30-day rules against Sloth's 28-day ones
    // (same spec, same input) differ somewhere.
    let ours_30 = &results["integration/out-base.yaml"].1;
    let sloth_28 = &results["integration/out-base-28d.yaml"].0;
    assert_ne!(ours_30, sloth_28);
    eprintln!("steps with data and lines of results compared, per case: {totals:?}");
}
