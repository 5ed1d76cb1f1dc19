//! Loading topologies: from text, from a file, or by bundled name.

use std::path::Path;

use diag::Problem;

use super::TopologyError;
use super::model::Topology;
use super::raw::RawTopology;
use super::validate;

const BUNDLED: &[(&str, &str)] = &[
    ("shop", include_str!("../../topologies/shop.yaml")),
    ("chatbot", include_str!("../../topologies/chatbot.yaml")),
];
const BUNDLED_NAMES: &[&str] = &["shop", "chatbot"];

/// The names of the topologies built into the binary.
pub fn bundled_names() -> &'static [&'static str] {
    BUNDLED_NAMES
}

/// The YAML text of a bundled topology.
pub fn bundled_source(name: &str) -> Option<&'static str> {
    BUNDLED.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// Parses and validates topology YAML; `file` names it in problems.
pub fn load_str(text: &str, file: &str) -> Result<Topology, TopologyError> {
    let raw: RawTopology = diag::yaml::from_str(text, file)?;
    validate::build(&raw, file)
}

/// Reads, parses and validates a topology file.
pub fn load_file(path: &Path) -> Result<Topology, TopologyError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| Problem::in_file(&file, format!("cannot read topology file: {e}")))?;
    load_str(&text, &file)
}

/// A bundled topology by name (`shop`, `chatbot`), else a topology file.
pub fn resolve(name_or_path: &str) -> Result<Topology, TopologyError> {
    if let Some(text) = bundled_source(name_or_path) {
        return load_str(text, &format!("topologies/{name_or_path}.yaml"));
    }
    let path = Path::new(name_or_path);
    if path.is_file() {
        return load_file(path);
    }
    Err(Problem::in_file(
        name_or_path,
        format!(
            "unknown topology {name_or_path:?}: not a bundled topology ({}) and not a file",
            BUNDLED_NAMES.join(", ")
        ),
    )
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small valid topology; tests break one thing in it at a time.
    const BASE: &str = "\
name: t
entry: web
services:
  - name: web
    endpoints:
      - route: /
        calls:
          - {service: db, path: /q}
  - name: db
    endpoints:
      - route: /q
journeys:
  - name: j
    steps:
      - {path: /}
";

    fn problems(text: &str) -> Vec<Problem> {
        match load_str(text, "t.yaml") {
            Ok(_) => panic!("expected problems in:\n{text}"),
            Err(e) => e.problems,
        }
    }

    /// Exactly one problem, at `line:column` on `field`, mentioning `needle`.
    #[track_caller]
    fn one(text: &str, line: u64, column: u64, field: &str, needle: &str) {
        let ps = problems(text);
        assert_eq!(ps.len(), 1, "{ps:#?}");
        let p = &ps[0];
        assert_eq!(
            (p.line, p.column, p.field.as_str()),
            (line, column, field),
            "{p}"
        );
        assert!(p.message.contains(needle), "{p}");
        assert!(
            p.to_string()
                .starts_with(&format!("t.yaml:{line}:{column}: ")),
            "{p}"
        );
    }

    fn edit(from: &str, to: &str) -> String {
        assert!(BASE.contains(from), "{from}");
        BASE.replacen(from, to, 1)
    }

    #[test]
    fn base_loads_with_defaults() {
        let t = load_str(BASE, "t.yaml").unwrap();
        let web = t.service("web").unwrap();
        assert_eq!((web.instances, web.version.as_str()), (1, "v1"));
        assert_eq!(web.versions["v1"].cpu_factor, 1.0);
        let call = &web.endpoints[0].calls[0];
        assert_eq!(
            (call.method.as_str(), call.critical, call.probability),
            ("GET", true, 1.0)
        );
        assert_eq!(call.timeout, std::time::Duration::from_secs(1));
        assert_eq!(t.journeys[0].weight, 1.0);
        assert_eq!(web.endpoints[0].content_type, "application/json");
    }

    #[test]
    fn yaml_syntax_error() {
        let ps = problems("name: t\nentry: [web\nservices: []\n");
        assert_eq!(ps.len(), 1, "{ps:?}");
        assert!(ps[0].line >= 2 && ps[0].column > 0, "{}", ps[0]);
    }

    #[test]
    fn unknown_field() {
        one(
            &edit("  - name: db\n", "  - name: db\n    colour: red\n"),
            10,
            5,
            "services[1].colour",
            "unknown field",
        );
    }

    #[test]
    fn wrong_type() {
        one(
            &edit("  - name: db\n", "  - name: db\n    instances: lots\n"),
            10,
            16,
            "services[1].instances",
            "not a whole number",
        );
    }

    #[test]
    fn duplicate_service_name() {
        let text = edit("journeys:\n", "  - name: db\njourneys:\n");
        one(
            &text,
            12,
            11,
            "services[2].name",
            "duplicate service name \"db\" (also services[1])",
        );
    }

    #[test]
    fn entry_not_a_service() {
        one(
            &edit("entry: web", "entry: www"),
            2,
            8,
            "entry",
            "not a service",
        );
    }

    #[test]
    fn call_to_unknown_service() {
        one(
            &edit("service: db,", "service: dbx,"),
            8,
            23,
            "services[0].endpoints[0].calls[0].service",
            "not a service",
        );
    }

    #[test]
    fn call_path_matches_no_endpoint() {
        one(
            &edit("path: /q}", "path: /r}"),
            8,
            33,
            "services[0].endpoints[0].calls[0].path",
            "does not serve GET /r",
        );
        one(
            &edit("path: /q}", "path: /q, method: POST}"),
            8,
            33,
            "services[0].endpoints[0].calls[0].path",
            "POST /q",
        );
    }

    #[test]
    fn invalid_duration() {
        one(
            &edit("path: /q}", "path: /q, timeout: 5 parsecs}"),
            8,
            46,
            "services[0].endpoints[0].calls[0].timeout",
            "unknown unit",
        );
    }

    #[test]
    fn p99_below_median() {
        one(
            &edit(
                "      - route: /q\n",
                "      - route: /q\n        latency: {median: 50ms, p99: 5ms}\n",
            ),
            12,
            38,
            "services[1].endpoints[0].latency.p99",
            "below the median",
        );
    }

    #[test]
    fn version_not_in_versions() {
        one(
            &edit(
                "  - name: db\n",
                "  - name: db\n    version: v3\n    versions: {v1: {}, v2: {}}\n",
            ),
            10,
            14,
            "services[1].version",
            "\"v3\" is not in `versions` (v1, v2)",
        );
    }

    #[test]
    fn shares_outside_zero_to_one() {
        one(
            &edit(
                "  - name: db\n",
                "  - name: db\n    versions: {v1: {error_rate: 1.5}}\n",
            ),
            10,
            33,
            "services[1].versions.v1.error_rate",
            "outside 0..=1",
        );
        one(
            &edit("path: /q}", "path: /q, probability: -0.1}"),
            8,
            50,
            "services[0].endpoints[0].calls[0].probability",
            "outside 0..=1",
        );
    }

    #[test]
    fn dependency_cycle() {
        one(
            &edit(
                "      - route: /q\n",
                "      - route: /q\n        calls: [{service: web, path: /}]\n",
            ),
            12,
            27,
            "services[1].endpoints[0].calls[0].service",
            "dependency cycle: web -> db -> web",
        );
    }

    #[test]
    fn instances_out_of_range() {
        one(
            &edit("  - name: db\n", "  - name: db\n    instances: 0\n"),
            10,
            16,
            "services[1].instances",
            "1..=32",
        );
        one(
            &edit("  - name: db\n", "  - name: db\n    instances: 33\n"),
            10,
            16,
            "services[1].instances",
            "1..=32",
        );
    }

    #[test]
    fn journey_step_not_served_by_entry() {
        one(
            &edit("{path: /}", "{path: /q}"),
            15,
            16,
            "journeys[0].steps[0].path",
            "entry service web does not serve GET /q",
        );
    }

    #[test]
    fn journey_weight_not_positive() {
        one(
            &edit("  - name: j\n", "  - name: j\n    weight: 0\n"),
            14,
            13,
            "journeys[0].weight",
            "more than 0",
        );
    }

    #[test]
    fn no_journeys() {
        let text = BASE.split("journeys:").next().unwrap().to_string() + "journeys: []\n";
        one(&text, 12, 11, "journeys", "no journeys");
        let text = BASE.split("journeys:").next().unwrap().to_string();
        one(&text, 1, 7, "journeys", "no journeys");
    }

    #[test]
    fn fallback_on_critical_call() {
        one(
            &edit("path: /q}", "path: /q, fallback: omit}"),
            8,
            47,
            "services[0].endpoints[0].calls[0].fallback",
            "critical call cannot have a fallback",
        );
        assert!(
            load_str(
                &edit("path: /q}", "path: /q, critical: false, fallback: omit}"),
                "t.yaml"
            )
            .is_ok()
        );
    }

    #[test]
    fn invalid_http_method() {
        one(
            &edit("{path: /}", "{path: /, method: FETCH}"),
            15,
            27,
            "journeys[0].steps[0].method",
            "not an HTTP method",
        );
    }

    #[test]
    fn duplicate_endpoint() {
        one(
            &edit(
                "      - route: /q\n",
                "      - route: /q\n      - route: /q\n",
            ),
            12,
            16,
            "services[1].endpoints[1].route",
            "duplicate endpoint GET /q",
        );
    }

    #[test]
    fn placeholder_without_values() {
        let text = edit(
            "      - route: /\n",
            "      - route: /\n      - route: /p/{id}\n",
        )
        .replace("{path: /}", "{path: \"/p/{product}\"}");
        one(
            &text,
            16,
            16,
            "journeys[0].steps[0].path",
            "placeholder {product} has no values",
        );
        // A route parameter of the same name, or a `params` entry, is fine.
        assert!(load_str(&text.replace("/p/{product}", "/p/{id}"), "t.yaml").is_ok());
        let with_params = text.replace("entry: web\n", "entry: web\nparams: {product: [a, b]}\n");
        assert!(load_str(&with_params, "t.yaml").is_ok());
    }

    #[test]
    fn reports_all_problems_at_once() {
        let text = edit("entry: web", "entry: www")
            .replace("service: db,", "service: dbx,")
            .replace("{path: /}", "{path: /, method: FETCH}");
        let ps = problems(&text);
        let at: Vec<(u64, u64)> = ps.iter().map(|p| (p.line, p.column)).collect();
        assert_eq!(at, vec![(2, 8), (8, 23), (15, 27)], "{ps:#?}");
    }

    /// Issue 11: an overflowing duration was called "not more than 0".
    #[test]
    fn a_duration_too_large_is_called_too_large() {
        one(
            &edit("path: /q}", "path: /q, timeout: 99999999999h}"),
            8,
            46,
            "services[0].endpoints[0].calls[0].timeout",
            "\"99999999999h\" is too large",
        );
        // Prometheus's combined units and fractions both work.
        let t = load_str(&edit("path: /q}", "path: /q, timeout: 1m30s}"), "t.yaml").unwrap();
        let call = &t.service("web").unwrap().endpoints[0].calls[0];
        assert_eq!(call.timeout, std::time::Duration::from_secs(90));
    }

    /// Issue 11: a number beyond i64 was called "not a whole number".
    #[test]
    fn instances_beyond_any_integer_are_too_large() {
        one(
            &edit(
                "  - name: db\n",
                "  - name: db\n    instances: 18446744073709551616\n",
            ),
            10,
            16,
            "services[1].instances",
            "18446744073709551616 is too large",
        );
    }

    /// Issue 11: a second document got the YAML library's advice to call
    /// `from_str_multiple`.
    #[test]
    fn a_second_yaml_document_is_named_with_its_position() {
        let ps = problems(&format!("{BASE}---\nname: other\n"));
        assert_eq!(ps.len(), 1, "{ps:#?}");
        assert_eq!((ps[0].line, ps[0].column), (16, 1), "{}", ps[0]);
        assert!(
            ps[0].message.contains("several YAML documents") && ps[0].message.contains("reads one"),
            "{}",
            ps[0]
        );
        assert!(!ps[0].message.contains("from_str_multiple"), "{}", ps[0]);
    }

    /// Issue 11: `validate` said ok to a 300-character name that `up` could
    /// not use as a log file name.
    #[test]
    fn names_are_limited_to_what_files_and_labels_can_hold() {
        let long = "d".repeat(300);
        let text = edit("  - name: db\n", &format!("  - name: {long}\n"))
            .replace("service: db,", &format!("service: {long},"));
        one(
            &text,
            9,
            11,
            "services[1].name",
            "300 characters is too long: at most 63",
        );
        let ok = "d".repeat(63);
        let text = edit("  - name: db\n", &format!("  - name: {ok}\n"))
            .replace("service: db,", &format!("service: {ok},"));
        assert!(load_str(&text, "t.yaml").is_ok());
        one(
            &edit(
                "  - name: db\n",
                "  - name: db\n    versions: {v1: {}, V1/x: {}}\n",
            ),
            10,
            30,
            "services[1].versions.V1/x",
            "not a valid name",
        );
        one(
            &edit("  - name: j\n", &format!("  - name: {}\n", "j".repeat(64))),
            13,
            11,
            "journeys[0].name",
            "too long",
        );
    }

    /// Issue 11: instance totals are checked against what one machine runs.
    #[test]
    fn instance_total_is_capped() {
        let mut text = BASE.split("journeys:").next().unwrap().to_string();
        text = text.replace("  - name: db\n", "  - name: db\n    instances: 32\n");
        for n in 0..6 {
            text.push_str(&format!(
                "  - name: s{n}\n    instances: 32\n    endpoints: [{{route: /}}]\n"
            ));
        }
        let ok = format!("{text}journeys:\n  - name: j\n    steps: [{{path: /}}]\n");
        // 1 + 32 + 6 * 32 = 225 > 200.
        one(
            &ok,
            4,
            3,
            "services",
            "225 instances in all: a lab runs at most 200",
        );
        let fits = ok.replacen(
            "instances: 32\n    endpoints",
            "instances: 7\n    endpoints",
            1,
        );
        let fits = fits.replacen(
            "instances: 32\n    endpoints",
            "instances: 7\n    endpoints",
            1,
        );
        // 1 + 32 + 2 * 7 + 4 * 32 = 175.
        assert!(
            load_str(&fits, "t.yaml").is_ok(),
            "{:?}",
            load_str(&fits, "t.yaml").err()
        );
    }

    #[test]
    fn resolves_bundled_names_and_rejects_unknown() {
        assert_eq!(bundled_names(), &["shop", "chatbot"]);
        for n in bundled_names() {
            let t = resolve(n).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(&t.name, n);
        }
        let e = resolve("nosuchlab").unwrap_err().to_string();
        assert!(
            e.contains("nosuchlab") && e.contains("shop, chatbot"),
            "{e}"
        );
        let e = load_file(Path::new("/nonexistent/x.yaml"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("/nonexistent/x.yaml: cannot read"), "{e}");
    }
}
