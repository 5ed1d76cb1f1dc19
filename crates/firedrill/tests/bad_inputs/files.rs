//! Every file format the binary reads: generated hostile inputs for each,
//! and the specific mistakes of issue 11, each with what its message must name.

use super::generate as g;
use super::runner::Case;

/// One file format: how it is checked, and a valid file to start from.
struct Format {
    name: &'static str,
    args: &'static [&'static str],
    file: &'static str,
    valid: String,
    /// Whether the format is YAML (gets the YAML-only generated cases).
    yaml: bool,
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(crate::common::repo_root().join(rel)).expect("bundled file")
}

const RULES: &str = "groups:\n  - name: g\n    rules:\n      - record: job:up:sum\n        expr: sum by (job) (up)\n      - alert: Down\n        expr: up == 0\n        for: 5m\n";

const OPENSLO: &str = "apiVersion: openslo/v1\nkind: SLO\nmetadata:\n  name: slo1\nspec:\n  service: svc01\n  budgetingMethod: Occurrences\n  indicator:\n    metadata:\n      name: ok\n    spec:\n      ratioMetric:\n        good:\n          metricSource:\n            type: Prometheus\n            spec:\n              query: sum(rate(x_total{ok=\"1\"}[{{.window}}]))\n        total:\n          metricSource:\n            type: Prometheus\n            spec:\n              query: sum(rate(x_total[{{.window}}]))\n  objectives:\n    - target: 0.999\n  timeWindow:\n    - duration: 30d\n      isRolling: true\n";

const ALERTMANAGER: &str = "route:\n  receiver: team\n  group_by: [alertname]\nreceivers:\n  - name: team\n    webhook_configs:\n      - url: http://127.0.0.1:9/hook\n";

const PROMQL_TEST: &str =
    "load 1m\n  up{job=\"a\"} 1 1 1\n\neval instant at 1m up\n  up{job=\"a\"} 1\n";

const IMPORT: &str = "# TYPE up gauge\nup{job=\"a\"} 1 1700000000\n# EOF\n";

fn formats() -> Vec<Format> {
    vec![
        Format {
            name: "topology",
            args: &["topology", "validate", "{file}"],
            file: "lab.yaml",
            valid: read("crates/lab/topologies/shop.yaml"),
            yaml: true,
        },
        Format {
            name: "rules",
            args: &["rules", "check", "{file}"],
            file: "rules.yml",
            valid: RULES.into(),
            yaml: true,
        },
        Format {
            name: "sloth",
            args: &["slo", "generate", "{file}"],
            file: "slos.yaml",
            valid: read("crates/alerting/slos/shop.yaml"),
            yaml: true,
        },
        Format {
            name: "openslo",
            args: &["slo", "generate", "{file}"],
            file: "openslo.yaml",
            valid: OPENSLO.into(),
            yaml: true,
        },
        Format {
            name: "alertmanager",
            args: &["alertmanager", "check", "{file}"],
            file: "am.yml",
            valid: ALERTMANAGER.into(),
            yaml: true,
        },
        Format {
            name: "oncall",
            args: &["oncall", "check", "{file}"],
            file: "oncall.yaml",
            valid: read("crates/oncall/oncall.yaml"),
            yaml: true,
        },
        Format {
            name: "experiment",
            args: &["experiment", "validate", "{file}"],
            file: "exp.yaml",
            valid: read("crates/chaos/experiments/ad-outage.yaml"),
            yaml: true,
        },
        Format {
            name: "promql-test",
            args: &["promql", "test", "{file}"],
            file: "t.test",
            valid: PROMQL_TEST.into(),
            yaml: false,
        },
        Format {
            name: "tsdb-import",
            args: &["tsdb", "import", "{file}", "--data-dir", "{dir}/data"],
            file: "m.om",
            valid: IMPORT.into(),
            yaml: false,
        },
    ]
}

/// Generated inputs for every format; each message must name the file.
fn generated(f: &Format) -> Vec<Case> {
    let c = |what: &str, content: Vec<u8>| {
        Case::file(
            &format!("file/{}/{what}", f.name),
            f.args,
            f.file,
            content,
            &[f.file],
        )
    };
    let mut out = vec![
        c("empty", Vec::new()),
        c("binary", g::binary(4096)),
        c("non-utf8", g::non_utf8(&f.valid)),
        c("deep-nesting", g::deep_brackets(100_000).into_bytes()),
        c("nul-bytes", f.valid.replace('\n', "\0\n").into_bytes()),
        c(
            "truncated",
            f.valid.as_bytes()[..f.valid.len() / 3].to_vec(),
        ),
    ];
    if f.yaml {
        out.extend([
            c("alias-bomb", g::yaml_bomb().into_bytes()),
            c("huge", g::huge_yaml(8).into_bytes()),
            c("scalar", b"just a string\n".to_vec()),
            c("list", b"- a\n- b\n".to_vec()),
            c(
                "second-document",
                format!("{}\n---\n{}", f.valid, f.valid).into_bytes(),
            ),
            c(
                "overflowing-number",
                format!("{}\nbogus_extra: 1e400\n", f.valid).into_bytes(),
            ),
            c("tabs", f.valid.replace("  ", "\t").into_bytes()),
        ]);
    } else {
        out.push(c("huge", format!("{}\n", "x".repeat(8 << 20)).into_bytes()));
    }
    // Not a file: a directory, and a missing one (the command names it).
    out.push(Case::cli(
        &format!("file/{}/directory", f.name),
        &f.args
            .iter()
            .map(|a| a.replace("{file}", "{dir}"))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        &["directory"],
    ));
    out.push(Case::cli(
        &format!("file/{}/missing", f.name),
        &f.args
            .iter()
            .map(|a| a.replace("{file}", "{dir}/no-such-file"))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        &["no-such-file"],
    ));
    out
}

/// `valid` with `from` replaced by `to` (which must change it).
fn edit(valid: &str, from: &str, to: &str) -> String {
    assert!(valid.contains(from), "{from:?} is not in the file");
    valid.replacen(from, to, 1)
}

/// The mistakes of issue 11 and others, format by format.
fn specific(f: &Format) -> Vec<Case> {
    let c = |what: &str, content: String, needles: &[&str]| {
        let mut n = vec![f.file];
        n.extend_from_slice(needles);
        Case::file(
            &format!("file/{}/{what}", f.name),
            f.args,
            f.file,
            content,
            &n,
        )
    };
    let v = f.valid.as_str();
    match f.name {
        "topology" => vec![
            c(
                "name-300-chars",
                edit(v, "name: shop", &format!("name: {}", "s".repeat(300))),
                &["name"],
            ),
            c(
                "instances-overflow",
                edit(v, "instances: 2", "instances: 18446744073709551616"),
                &["instances"],
            ),
            c(
                "instances-too-many",
                edit(v, "instances: 2", "instances: 100000"),
                &["instances"],
            ),
            c(
                "instances-negative",
                edit(v, "instances: 2", "instances: -1"),
                &["instances"],
            ),
            c(
                "unknown-field",
                edit(v, "name: shop", "name: shop\nflavour: spicy"),
                &["flavour"],
            ),
        ],
        "rules" => vec![
            c("for-without-unit", edit(v, "for: 5m", "for: 5"), &["for"]),
            c(
                "for-overflow",
                edit(v, "for: 5m", "for: 99999999999h"),
                &["too large"],
            ),
            c(
                "duplicate-recording-rule",
                format!("{v}      - record: job:up:sum\n        expr: sum by (job) (up)\n"),
                &["job:up:sum"],
            ),
            c(
                "deep-expression",
                edit(
                    v,
                    "expr: up == 0",
                    &format!("expr: {}", g::nested_calls(10_000)),
                ),
                &["expr"],
            ),
            c(
                "sum-of-10000",
                edit(v, "expr: up == 0", &format!("expr: {}", g::sum_of(10_000))),
                &["expr"],
            ),
            c(
                "range-1e300",
                edit(v, "expr: up == 0", "expr: rate(up[1e300s])"),
                &["expr"],
            ),
            c(
                "bad-template",
                format!("{v}        annotations:\n          summary: '{{{{ .Labels.job '\n"),
                &["summary"],
            ),
        ],
        "sloth" => vec![
            c(
                "alert-name-with-spaces",
                edit(v, "name: CheckoutAvailabilityBurn", "name: Checkout Burn"),
                &["name"],
            ),
            c(
                "invalid-label-name",
                edit(v, "category: availability", "bad-label: availability"),
                &["bad-label"],
            ),
            c(
                "query-without-window",
                edit(
                    v,
                    "total_query: sum(rate(loadgen_journeys_total{journey=\"checkout\"}[{{.window}}]))",
                    "total_query: sum(rate(loadgen_journeys_total{journey=\"checkout\"}[5m]))",
                ),
                &["window"],
            ),
            c(
                "misspelt-placeholder",
                edit(v, "[{{.window}}]", "[{{.windw}}]"),
                &["windw"],
            ),
            c(
                "objective-overflow",
                edit(v, "objective: 99.9", "objective: 1e400"),
                &["out of range"],
            ),
            c(
                "objective-100",
                edit(v, "objective: 99.9", "objective: 100.5"),
                &["objective"],
            ),
        ],
        "openslo" => vec![
            c(
                "target-overflow",
                edit(v, "target: 0.999", "target: 1e400"),
                &["out of range"],
            ),
            c(
                "v1alpha",
                edit(v, "openslo/v1", "openslo/v1alpha"),
                &["v1alpha"],
            ),
            c("unknown-kind", edit(v, "kind: SLO", "kind: SLI"), &["SLI"]),
            c(
                "duration-overflow",
                edit(v, "duration: 30d", "duration: 99999999999d"),
                &["duration"],
            ),
        ],
        "alertmanager" => vec![
            c(
                "broken-matcher",
                format!(
                    "{v}inhibit_rules:\n  - source_matchers: ['severity==\"page']\n    target_matchers: ['severity=\"ticket\"']\n"
                ),
                &["source_matchers"],
            ),
            c(
                "webhook-not-a-url",
                edit(v, "http://127.0.0.1:9/hook", "not a url"),
                &["url"],
            ),
            c(
                "webhook-file-url",
                edit(v, "http://127.0.0.1:9/hook", "file:///etc/passwd"),
                &["file"],
            ),
            c(
                "group-by-invalid-label",
                edit(v, "group_by: [alertname]", "group_by: [alert-name]"),
                &["alert-name"],
            ),
            c(
                "empty-receiver-name",
                edit(
                    &edit(v, "receiver: team", "receiver: ''"),
                    "- name: team",
                    "- name: ''",
                ),
                &["name"],
            ),
            c(
                "smarthost-without-port",
                edit(
                    v,
                    "receivers:",
                    "global:\n  smtp_smarthost: mail.example.org\n  smtp_from: a@example.org\nreceivers:",
                ),
                &["smarthost"],
            ),
            c(
                "group-wait-overflow",
                edit(
                    v,
                    "group_by: [alertname]",
                    "group_by: [alertname]\n  group_wait: 99999999999h",
                ),
                &["group_wait"],
            ),
        ],
        "oncall" => vec![
            c(
                "shadowing-each-other",
                edit(
                    v,
                    "  - apprentice: erin\n    mentor: alice\n",
                    "  - apprentice: erin\n    mentor: alice\n  - apprentice: alice\n    mentor: erin\n",
                ),
                &["shadow"],
            ),
            c(
                "rotation-overflow",
                edit(v, "rotation: 1w", "rotation: 99999999999w"),
                &["rotation"],
            ),
            c(
                "far-start",
                edit(v, "start: 2026-01-05 09:00", "start: 99999-01-05 09:00"),
                &["start"],
            ),
            c(
                "unknown-time-zone",
                edit(v, "Europe/Berlin", "Mars/Olympus"),
                &["Mars/Olympus"],
            ),
            c(
                "repeat-overflow",
                edit(v, "repeat: 2", "repeat: 18446744073709551616"),
                &["repeat"],
            ),
        ],
        "experiment" => vec![
            c(
                "unknown-slo",
                edit(
                    v,
                    "slo_burn: checkout-availability",
                    "slo_burn: no-such-slo",
                ),
                &["no-such-slo"],
            ),
            c(
                "instance-out-of-range",
                edit(
                    v,
                    "{kind: refuse, service: ad}",
                    "{kind: refuse, service: ad, instances: [7]}",
                ),
                &["7"],
            ),
            c(
                "interval-zero",
                edit(v, "recovery: 20s", "recovery: 20s\n  interval: 0s"),
                &["interval"],
            ),
            c(
                "unknown-service",
                edit(v, "service: ad}", "service: nope}"),
                &["nope"],
            ),
            c(
                "for-overflow",
                edit(v, "for: 60s", "for: 99999999999h"),
                &["too large"],
            ),
        ],
        "promql-test" => vec![
            c(
                "sum-of-10000",
                format!("eval instant at 0m {}\n", g::sum_of(10_000)),
                &["t.test:1"],
            ),
            c(
                "nested-10000",
                format!("eval instant at 0m {}\n", g::nested_calls(10_000)),
                &["t.test:1"],
            ),
            c(
                "eval-range-1ms-over-a-year",
                "load 1m\n  up 1\n\neval range from 0 to 1y step 1ms up\n  up 1\n".into(),
                &["t.test:4"],
            ),
            c(
                "load-99999999999-points",
                "load 1m\n  up 0+1x99999999999\n".into(),
                &["t.test:2"],
            ),
            c(
                "load-negative-interval",
                "load -1m\n  up 1\n".into(),
                &["t.test:1"],
            ),
            c(
                "eval-far-time",
                "eval instant at 1e30s up\n".into(),
                &["t.test:1"],
            ),
        ],
        "tsdb-import" => vec![
            c(
                "sample-in-9999",
                "# TYPE up gauge\nup 1 253402214400\n# EOF\n".into(),
                &["9999"],
            ),
            c(
                "value-overflow",
                "# TYPE up gauge\nup 1e400 1700000000\n# EOF\n".into(),
                &["m.om:2"],
            ),
            c(
                "timestamp-overflow",
                "# TYPE up gauge\nup 1 99999999999999999999999\n# EOF\n".into(),
                &["m.om:2"],
            ),
            c(
                "deep-labels",
                format!("up{{{}}} 1 1700000000\n# EOF\n", "a=\"b\",".repeat(100_000)),
                &["m.om"],
            ),
        ],
        _ => Vec::new(),
    }
}

/// Every file case.
pub fn cases() -> Vec<Case> {
    formats()
        .iter()
        .flat_map(|f| generated(f).into_iter().chain(specific(f)))
        .collect()
}
