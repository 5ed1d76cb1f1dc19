//! What SLO specs are accepted and how the refused ones are told: Sloth's
//! own validation test data (tests/sloth/validate, from Sloth's
//! test/integration/prometheus/testdata) and the specs it refuses or we do
//! not support, each with one clear, located problem.

use std::path::{Path, PathBuf};

use alerting::rules::parse_rules;
use alerting::slo::{Options, Period, parse_spec, parse_spec_with, rule_file};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sloth")
        .join(rel)
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(fixture(rel)).unwrap()
}

fn files(dir: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(fixture(dir))
        .unwrap()
        .map(|e| format!("{dir}/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    v.sort();
    v
}

/// The problems of a refused spec, one a line.
fn refused(text: &str, file: &str) -> String {
    match parse_spec(text, file) {
        Ok(slos) => panic!("{file} was accepted: {slos:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn sloths_good_specs_load_and_their_rules_pass_rules_check() {
    for f in files("validate/good") {
        if f.contains("openslo") {
            continue; // OpenSLO v1alpha, refused below.
        }
        let slos = parse_spec(&read(&f), &f).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(!slos.is_empty(), "{f}");
        parse_rules(&rule_file(&slos), &f).unwrap_or_else(|e| panic!("{f}: {e}"));
    }
}

#[test]
fn sloths_bad_specs_are_refused_at_the_bad_line() {
    for f in files("validate/bad") {
        let text = read(&f);
        let e = refused(&text, &f);
        if f.contains("openslo") {
            assert!(
                e.contains("OpenSLO openslo/v1alpha is not supported"),
                "{e}"
            );
            continue;
        }
        let bad_line = text
            .lines()
            .position(|l| l.contains("# BAD!"))
            .expect("Sloth marks the bad line")
            + 1;
        assert!(
            e.lines()
                .any(|l| l.starts_with(&format!("{f}:{bad_line}:"))),
            "{f}: expected a problem on line {bad_line}:\n{e}"
        );
    }
}

#[test]
fn an_slo_defined_twice_in_one_file_is_refused() {
    let f = "validate/duplicates/bad-prom-multi-duplicates.yaml";
    let e = refused(&read(f), f);
    assert!(
        e.contains(&format!("{f}:51:")) && e.contains("\"svc01-slo1\" is defined twice"),
        "{e}"
    );
    assert!(e.contains(&format!("(first at {f}:7:")), "{e}");
}

#[test]
fn plugins_are_refused_with_one_clear_message() {
    for f in [
        "examples/plugin-getting-started.yml",
        "examples/plugin-k8s-getting-started.yml",
        "examples/slo-plugin-getting-started.yml",
        "examples/slo-plugin-k8s-getting-started.yml",
        "examples/contrib-slo-plugins.yml",
        "examples/contrib-denominator-corrected.yaml",
        "examples/victoria-metrics.yml",
        "integration/in-sli-plugin.yaml",
        "integration/in-slo-plugin.yaml",
        "integration/in-slo-plugin-k8s.yaml",
    ] {
        let e = refused(&read(f), f);
        assert!(e.contains("plugins are not supported"), "{f}: {e}");
        assert!(
            e.contains("events (error_query and total_query) or raw")
                || e.contains("remove the plugins, or generate these SLOs with Sloth"),
            "{f}: the alternative is named: {e}"
        );
        assert!(
            !e.contains("unknown field") && !e.contains("expected one of"),
            "{f}: {e}"
        );
    }
}

#[test]
fn openslo_v1alpha_is_refused_naming_v1() {
    for f in [
        "examples/openslo-getting-started.yml",
        "examples/openslo-kubernetes-apiserver.yml",
        "integration/in-openslo.yaml",
    ] {
        let e = refused(&read(f), f);
        // One problem per document (under a "N problems:" heading when several).
        for l in e.lines().filter(|l| !l.ends_with(" problems:")) {
            assert!(
                l.starts_with(&format!("{f}:"))
                    && l.contains("OpenSLO openslo/v1alpha is not supported")
                    && l.contains("apiVersion: openslo/v1"),
                "{e}"
            );
        }
    }
}

#[test]
fn an_unknown_version_is_refused() {
    let f = "integration/in-invalid-version.yaml";
    let e = refused(&read(f), f);
    assert!(
        e.contains(&format!(
            "{f}:1:10: version: \"prometheus/v999\" is not supported"
        )),
        "{e}"
    );
}

const SPEC: &str = r#"version: "prometheus/v1"
service: "myservice"
slos:
  - name: "requests-availability"
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total[{{ .window }}]))
    alerting:
      name: MyServiceHighErrorRate
      labels:
        category: availability
      page_alert:
        labels:
          severity: page
"#;

fn with(from: &str, to: &str) -> String {
    assert!(SPEC.contains(from), "{from}");
    SPEC.replacen(from, to, 1)
}

// Issue 11: what `slo generate` accepted but `rules check` refused.
#[test]
fn names_labels_and_placeholders_are_checked_where_written() {
    parse_spec(SPEC, "s.yaml").expect("the base spec loads");
    let cases = [
        (
            with("name: MyServiceHighErrorRate", "name: My Service High"),
            "s.yaml:11:13: slos[0].alerting.name: invalid alert name \"My Service High\"",
        ),
        (
            with("category: availability", "cat-egory: availability"),
            "s.yaml:13:20: slos[0].alerting.labels.cat-egory: invalid label name \"cat-egory\"",
        ),
        (
            with("severity: page", "1severity: page"),
            "s.yaml:16:22: slos[0].alerting.page_alert.labels.1severity: invalid label name",
        ),
        (
            with("[{{ .window }}]", "[5m]"),
            "s.yaml:9:22: slos[0].sli.events.total_query: the query has no {{.window}} placeholder, so every window would compute the same ratio",
        ),
        (
            with("[{{.window}}]", "[{{.windw}}]"),
            "s.yaml:8:22: slos[0].sli.events.error_query: unknown placeholder {{.windw}}; the only placeholder is {{.window}}",
        ),
        (
            with(
                "name: \"requests-availability\"",
                "name: \"requests availability\"",
            ),
            "s.yaml:4:11: slos[0].name: SLO name \"requests availability\": a name starts and ends with a letter or digit",
        ),
    ];
    for (text, want) in cases {
        let e = refused(&text, "s.yaml");
        assert!(e.contains(want), "want {want}\ngot {e}");
    }
}

#[test]
fn alerting_name_is_required_unless_both_alerts_are_disabled() {
    let no_name = with("      name: MyServiceHighErrorRate\n", "");
    let e = refused(&no_name, "s.yaml");
    assert!(
        e.contains("s.yaml:11:7: slos[0].alerting.name: alerting.name is required unless both alerts are disabled"),
        "{e}"
    );
    let disabled = format!(
        "{}      ticket_alert:\n        disable: true\n",
        no_name.replace(
            "          severity: page\n",
            "          severity: page\n        disable: true\n"
        )
    );
    let slos = parse_spec(&disabled, "s.yaml").unwrap_or_else(|e| panic!("{e}\n{disabled}"));
    let rules = rule_file(&slos);
    assert!(!rules.contains("alert:"), "{rules}");
    parse_rules(&rules, "g.yml").unwrap();
}

#[test]
fn several_specs_in_one_file_are_read_and_located() {
    let two = format!(
        "{SPEC}---\n{}",
        SPEC.replace("myservice", "other")
            .replace("objective: 99.9", "objective: 100.5")
    );
    let e = refused(&two, "two.yaml");
    // The second document's objective: SPEC is 16 lines, `---` is line 17,
    // and the objective is the 5th line after it.
    assert!(e.contains("two.yaml:22:16: slos[0].objective:"), "{e}");
    let ok = format!("---\n{SPEC}---\n{}", SPEC.replace("myservice", "other"));
    let slos = parse_spec(&ok, "two.yaml").unwrap();
    assert_eq!(slos.len(), 2);
    assert!(!e.contains("from_str_multiple"));
}

#[test]
fn kubernetes_service_levels_are_read_like_sloth_specs() {
    let f = "examples/k8s-getting-started.yml";
    let k8s = parse_spec(&read(f), f).unwrap();
    let g = "examples/getting-started.yml";
    let prom = parse_spec(&read(g), g).unwrap();
    assert_eq!(k8s.len(), 1);
    assert_eq!(k8s[0].sli, prom[0].sli);
    assert_eq!(k8s[0].page, prom[0].page);
    assert_eq!(k8s[0].ticket, prom[0].ticket);
    let rules = rule_file(&k8s);
    assert!(
        rules.contains("sloth_spec: \"sloth.slok.dev/v1\""),
        "{rules}"
    );
}

#[test]
fn default_alert_summary_is_sloths() {
    let rules = rule_file(&parse_spec(SPEC, "s.yaml").unwrap());
    assert!(
        rules.contains(
            "summary: \"{{$labels.sloth_service}} {{$labels.sloth_slo}} SLO error budget burn rate is over expected.\""
        ),
        "{rules}"
    );
}

#[test]
fn only_28_and_30_day_periods() {
    let e = refused(
        &with("    sli:\n", "    time_window: 7d\n    sli:\n"),
        "s.yaml",
    );
    assert!(
        e.contains("s.yaml:6:18: slos[0].time_window: SLO period \"7d\" is not supported: alert windows exist for 28d (4w) and 30d"),
        "{e}"
    );
    let slos = parse_spec(
        &with("    sli:\n", "    time_window: 28d\n    sli:\n"),
        "s.yaml",
    )
    .unwrap();
    assert_eq!(slos[0].period, Period::Days28);
    let slos = parse_spec_with(
        SPEC,
        "s.yaml",
        &Options {
            default_period: Period::Days28,
        },
    )
    .unwrap();
    let rules = rule_file(&slos);
    // The period SLI and burn rate refer to recorded series.
    assert!(
        rules.contains("record: slo:sli_error:ratio_rate4w"),
        "{rules}"
    );
    assert!(
        rules.contains("slo:sli_error:ratio_rate4w{sloth_id"),
        "{rules}"
    );
    assert!(
        rules.contains("record: slo:sli_error:ratio_rate5m"),
        "{rules}"
    );
    assert!(rules.contains("vector(28)"), "{rules}");
}

#[test]
fn openslo_v1_mistakes_are_located() {
    let doc = r#"apiVersion: openslo/v1
kind: SLO
metadata:
  name: 99th-latency
spec:
  service: shop
  indicator:
    spec:
      ratioMetric:
        bad:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(errors_total[{{.windw}}]))
        total:
          metricSource:
            type: Prometheus
            spec:
              query: requests_total
  timeWindow:
    - duration: 7d
  objectives:
    - target: 0.999
"#;
    let e = refused(doc, "o.yaml");
    for want in [
        "o.yaml:4:9: metadata.name: the alerts' name, invalid alert name \"99thLatencyHighErrorRate\"",
        "o.yaml:14:22: spec.indicator.spec.ratioMetric.bad.metricSource.spec.query: unknown placeholder {{.windw}}",
        "o.yaml:21:17: spec.timeWindow[0].duration: SLO period \"7d\" is not supported",
    ] {
        assert!(e.contains(want), "want {want}\ngot {e}");
    }
}

/// Issue 11: SLI queries go through the guarded parser: a deep expression
/// and a number as a range are located errors, not a crash.
#[test]
fn hostile_sli_queries_are_located_errors() {
    let sum = vec!["x"; 10_000].join(" + ");
    let spec = format!(
        "version: \"prometheus/v1\"\nservice: shop\nslos:\n  - name: a\n    objective: 99\n    sli:\n      events:\n        error_query: sum(rate(x[{{{{.window}}}}])) + {sum}\n        total_query: sum(rate(y[{{{{.window}}}}])) + rate(y[1e300])\n    alerting:\n      page_alert:\n        disable: true\n      ticket_alert:\n        disable: true\n"
    );
    let e = parse_spec(&spec, "hostile.yaml").unwrap_err().to_string();
    assert!(
        e.contains("hostile.yaml:8:22: slos[0].sli.events.error_query: could not parse the query"),
        "{e}"
    );
    assert!(
        e.contains("hostile.yaml:9:22: slos[0].sli.events.total_query: could not parse the query"),
        "{e}"
    );
}
