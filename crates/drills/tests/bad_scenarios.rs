//! Scenario files with mistakes (`tests/bad/*.yaml`, one mistake each but
//! the last): each is refused with the message docs/drills.md documents
//! ("Mistakes and their messages"), with file:line:column and the field.
//! And the two bundled examples, loaded into the model with their defaults.

use std::path::Path;
use std::time::Duration;

use drills::scenario::{self, Actor, Check, Cmp, Effect, FaultAction, bundled};

/// The whole error text of loading `tests/bad/{name}.yaml`.
fn refused(name: &str) -> String {
    let path = format!("tests/bad/{name}.yaml");
    match scenario::load(Path::new(&path)) {
        Ok(_) => panic!("{path} loaded, but it has a mistake"),
        Err(e) => e.to_string(),
    }
}

/// Each file and the exact message (one problem) it gets.
const CASES: &[(&str, &str)] = &[
    (
        "unknown-field",
        "tests/bad/unknown-field.yaml:5:1: colour: unknown field `colour`, expected one of id, title, topology, difficulty, skills, typical, time_limit, shadow, briefing, setup, faults, objectives, hints, wrong, scoring, ideal_path",
    ),
    (
        "wrong-type",
        "tests/bad/wrong-type.yaml:4:13: difficulty: \"hard\" is not a whole number",
    ),
    (
        "bad-duration",
        "tests/bad/bad-duration.yaml:5:10: typical: \"5\" has no unit: write e.g. 5s or 5m (units: ms, s, m, h, d, w, y)",
    ),
    (
        "bad-id",
        "tests/bad/bad-id.yaml:1:5: id: \"Tiny_Drill\" is not a scenario id: use lower-case words joined by '-' (e.g. bad-release)",
    ),
    (
        "difficulty-range",
        "tests/bad/difficulty-range.yaml:4:13: difficulty: 7 is out of range: difficulty goes from 1 (a first drill) to 5",
    ),
    (
        "unknown-topology",
        "tests/bad/unknown-topology.yaml:3:11: topology: unknown topology \"shoop\": a drill runs on a bundled lab (shop, chatbot)",
    ),
    (
        "unknown-service",
        "tests/bad/unknown-service.yaml:12:24: faults[0].release.service: the shop lab has no service \"productcatalogue\" (services: frontend, productcatalog, currency, cart, cartcache, recommendation, ad, checkout, payment, shipping, email, discount)",
    ),
    (
        "unknown-version",
        "tests/bad/unknown-version.yaml:12:49: faults[0].release.version: productcatalog has no version \"v3\" (versions: v1, v2)",
    ),
    (
        "bad-config-key",
        "tests/bad/bad-config-key.yaml:12:39: faults[0].config.set.timeout.weather-api: frontend does not call \"weather-api\"; it calls: ad, cart, checkout, currency, productcatalog, recommendation, shipping",
    ),
    (
        "inject-refused",
        "tests/bad/inject-refused.yaml:12:13: faults[0].inject: latency needs a delay (e.g. 800ms)",
    ),
    (
        "inject-for",
        "tests/bad/inject-for.yaml:12:13: faults[0].inject.for: `for` is refused: an injected fault lasts until it is remedied or the drill ends",
    ),
    (
        "two-actions",
        "tests/bad/two-actions.yaml:9:5: faults[0]: a fault does exactly one of release, inject, surge or config, or variants; this one has release and surge",
    ),
    (
        "duplicate-ids",
        "tests/bad/duplicate-ids.yaml:20:9: objectives[1].id: objective id \"acked\" is used twice (first on line 17)",
    ),
    (
        "bad-promql",
        "tests/bad/bad-promql.yaml:22:12: objectives[1].query: not valid PromQL: unclosed left parenthesis",
    ),
    (
        "unknown-event-kind",
        "tests/bad/unknown-event-kind.yaml:19:19: objectives[0].event.kind: unknown event kind \"page.acked\" (kinds of page.: page.triggered, page.escalated, page.exhausted, page.acknowledged, page.resolved, page.snoozed, page.unsnoozed, page.reassigned, page.noted, page.alerts_resolved)",
    ),
    (
        "shadow-actor",
        "tests/bad/shadow-actor.yaml:20:12: objectives[0].actor: actor shadow is only for shadow drills (shadow: true)",
    ),
    (
        "after-beyond-limit",
        "tests/bad/after-beyond-limit.yaml:11:12: faults[0].after: the fault could start at 12m, not before the time limit (10m) ends the drill",
    ),
    (
        "scale-out-of-range",
        "tests/bad/scale-out-of-range.yaml:9:43: setup[0].instances: 40 is out of range: a service runs 1 to 32 instances",
    ),
    (
        "no-root-fault",
        "tests/bad/no-root-fault.yaml:9:3: faults: at least one fault must be a root cause (root: true)",
    ),
    (
        "negative-cost",
        "tests/bad/negative-cost.yaml:21:40: hints[0].cost: a cost is a number of points, 0 or more",
    ),
    (
        "empty-remedy",
        "tests/bad/empty-remedy.yaml:14:15: faults[0].remedies[0].when: a remedy needs at least one matcher",
    ),
    (
        "no-objectives",
        "tests/bad/no-objectives.yaml:16:13: objectives: name at least one objective",
    ),
];

#[test]
fn each_mistake_gets_its_documented_message() {
    let mut wrong = Vec::new();
    for (name, want) in CASES {
        let got = refused(name);
        if got != *want {
            wrong.push(format!("{name}:\n  want {want}\n  got  {got}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_fixture_is_checked() {
    let mut files: Vec<String> = std::fs::read_dir("tests/bad")
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            p.file_stem().unwrap().to_string_lossy().into_owned()
        })
        .collect();
    files.sort();
    let mut named: Vec<String> = CASES.iter().map(|(n, _)| n.to_string()).collect();
    named.push("several-problems".into());
    named.sort();
    assert_eq!(files, named);
}

#[test]
fn the_documentation_shows_the_same_messages() {
    let doc = std::fs::read_to_string("../../docs/drills.md").unwrap();
    for (name, want) in CASES {
        assert!(
            doc.contains(want),
            "docs/drills.md lacks the message of {name}: {want}"
        );
    }
}

#[test]
fn every_problem_of_a_file_is_reported_at_once_in_file_order() {
    let got = refused("several-problems");
    let want = "4 problems:
tests/bad/several-problems.yaml:4:13: difficulty: 0 is out of range: difficulty goes from 1 (a first drill) to 5
tests/bad/several-problems.yaml:6:13: time_limit: must be longer than 0s
tests/bad/several-problems.yaml:14:50: faults[0].remedies[0].when.subject: the shop lab has no service \"productcatalogue\" (services: frontend, productcatalog, currency, cart, cartcache, recommendation, ad, checkout, payment, shipping, email, discount)
tests/bad/several-problems.yaml:19:19: objectives[0].event.kind: no event kind starts with \"pages.\" (families: lab., instance., deploy., rollback., service., config., load., alert., silence., notification., page., ticket., token., fault., experiment., drill., wheel., command.)";
    assert_eq!(got, want);
}

#[test]
fn an_unreadable_file_is_named() {
    let e = scenario::load(Path::new("tests/bad/no-such-file.yaml")).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("tests/bad/no-such-file.yaml: cannot read scenario file:"),
        "{e}"
    );
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn bad_release_loads_with_its_values_and_the_defaults() {
    let s = bundled::find("bad-release").expect("bundled");
    assert_eq!(s.title, "A release that breaks product pages");
    assert_eq!((s.topology.as_str(), s.difficulty), ("shop", 2));
    assert_eq!(s.skills, ["alerting", "deploys", "rollback"]);
    assert_eq!((s.typical, s.time_limit), (secs(15 * 60), secs(25 * 60)));
    assert!(!s.shadow);
    assert!(s.briefing.starts_with("You are on call for the shop"));
    assert!(
        !s.briefing.contains("productcatalog"),
        "never names the fault"
    );
    assert_eq!(s.setup.len(), 2);

    let [f] = s.faults.as_slice() else {
        panic!("one fault: {:?}", s.faults)
    };
    assert!(f.root, "root by default");
    assert_eq!((f.after_min, f.after_max), (secs(30), secs(90)));
    assert_eq!(
        f.variants,
        [FaultAction::Release {
            service: "productcatalog".into(),
            version: "v2".into()
        }]
    );
    assert_eq!(f.remedies.len(), 2);
    assert_eq!(f.remedies[0].effect, Effect::End);
    assert_eq!(f.remedies[0].when[0].kind, "rollback.finished");
    assert_eq!(
        f.remedies[0].when[0].subject.as_deref(),
        Some("productcatalog")
    );
    assert_eq!(f.remedies[0].when[0].actor, Actor::Anyone);
    let to = &f.remedies[1].when[0].attrs["to"];
    assert_eq!(to.equals, Some(serde_json::json!("v1")));

    let ids: Vec<&str> = s.objectives.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, ["checkout-ok", "product-pages-ok", "acked"]);
    let Check::Query {
        op,
        threshold,
        hold,
        window,
        ..
    } = &s.objectives[0].check
    else {
        panic!("a query objective")
    };
    assert_eq!((*op, *threshold), (Cmp::Ge, 0.99));
    assert_eq!(
        (*hold, *window),
        (secs(60), secs(60)),
        "window defaults to 1m"
    );
    assert_eq!(s.objectives[0].actor, Actor::Anyone, "queries: anyone");
    let promql = s.objectives[0].check.promql().unwrap();
    assert!(
        promql.contains("[1m]") && !promql.contains("{{"),
        "{promql}"
    );
    let Check::Journal { event } = &s.objectives[2].check else {
        panic!("an event objective")
    };
    assert_eq!(event.kind, "page.acknowledged");
    assert_eq!(event.actor, Actor::Trainee);
    assert_eq!(s.objectives[2].actor, Actor::Trainee, "events: the trainee");

    assert_eq!(s.hints.len(), 3);
    assert_eq!(s.hints[2].cost, 20.0);
    assert_eq!(s.wrong.len(), 2);
    assert_eq!(s.wrong[0].when.subject.as_deref(), Some("cart"));
    assert_eq!(s.scoring, scenario::DEFAULT_SCORING);
    assert_eq!(s.scoring.acknowledge, secs(300));
    assert_eq!(
        (s.scoring.objectives, s.scoring.speed, s.scoring.clean),
        (50.0, 30.0, 20.0)
    );
    assert_eq!(s.ideal_path.len(), 6);
}

#[test]
fn weather_latency_loads_with_an_injected_fault_and_an_attribute_condition() {
    let s = bundled::find("weather-latency").expect("bundled");
    assert_eq!(s.topology, "chatbot");
    let FaultAction::Inject { fault } = &s.faults[0].variants[0] else {
        panic!("an injected fault: {:?}", s.faults[0].variants)
    };
    assert_eq!(
        (fault.kind.as_str(), fault.service.as_str()),
        ("latency", "weather-api")
    );
    assert_eq!(fault.delay.as_deref(), Some("2s"));
    assert_eq!(fault.duration, None, "lasts until remedied");
    let when = &s.faults[0].remedies[0].when[0];
    assert_eq!(
        (when.kind.as_str(), when.subject.as_deref()),
        ("config.changed", Some("cmd-weather"))
    );
    let cond = &when.attrs["set/timeout.weather-api"];
    assert_eq!((cond.lte, cond.gte, &cond.equals), (Some(0.4), None, &None));
    let Check::Query { op, window, .. } = &s.objectives[1].check else {
        panic!("a query objective")
    };
    assert_eq!((*op, *window), (Cmp::Le, secs(120)));
    assert!(s.objectives[1].check.promql().unwrap().contains("[2m]"));
}

#[test]
fn a_scenario_can_be_read_from_its_text_too() {
    let (_, text) = bundled::FILES
        .iter()
        .find(|(n, _)| *n == "bad-release.yaml")
        .unwrap();
    let s = scenario::parse(text, "mine.yaml").unwrap();
    assert_eq!(s, bundled::find("bad-release").unwrap());
}

#[test]
fn the_documentation_shows_the_bundled_example_as_it_is() {
    let doc = std::fs::read_to_string("../../docs/drills.md").unwrap();
    let (_, text) = bundled::FILES
        .iter()
        .find(|(n, _)| *n == "bad-release.yaml")
        .unwrap();
    assert!(
        doc.contains(text.trim_end()),
        "docs/drills.md shows an old bad-release.yaml"
    );
}

/// A small valid scenario the next test breaks one piece at a time.
const TINY: &str = include_str!("bad/no-root-fault.yaml");

fn tiny() -> String {
    TINY.replace("    root: false\n", "")
}

/// `tiny()` with `old` replaced by `new` (which must be there).
fn with(old: &str, new: &str) -> String {
    let base = tiny();
    assert!(base.contains(old), "{old}");
    base.replacen(old, new, 1)
}

#[test]
fn the_other_documented_messages() {
    scenario::parse(&tiny(), "t.yaml").expect("the base is valid");
    let release = "    release: {service: productcatalog, version: v2}\n";
    let cases: Vec<(String, &str)> = vec![
        (
            with(release, ""),
            "a fault needs an action: one of release, inject, surge or config, or variants",
        ),
        (
            with(
                release,
                "    variants:\n      - {surge: {rps: 100}, release: {service: cart, version: v1}}\n",
            ),
            "a variant does exactly one of release, inject, surge or config; this one has release and surge",
        ),
        (
            with(release, "    variants: []\n"),
            "name at least one variant",
        ),
        (
            with(release, "    variants: [{surge: {rps: 100}}]\n")
                .replace("subject: productcatalog}", "subject: \"{service}\"}"),
            "{service} names the fault's service, but its surge has none",
        ),
        (
            with("after: 30s", "after: 2m..30s"),
            "the range 2m..30s ends before it starts",
        ),
        (
            with("typical: 5m", "typical: 30m").replace("time_limit: 10m", "time_limit: 25m"),
            "typical (30m) is longer than time_limit (25m)",
        ),
        (with("note: rolled back", "note: \"\""), "must not be empty"),
        (
            with(
                "    remedies:\n      - when: {kind: rollback.finished, subject: productcatalog}\n        note: rolled back\n",
                "    remedies: []\n",
            ),
            "a root fault needs at least one remedy (or root: false)",
        ),
        (
            with(
                "faults:\n",
                "setup:\n  - {op: scale, service: cart, instances: 2, version: v1}\nfaults:\n",
            ),
            "op scale takes service and instances; version does not go with it",
        ),
        (
            with(
                "faults:\n",
                "setup:\n  - {op: restart, service: cart}\nfaults:\n",
            ),
            "unknown op \"restart\": load, config, scale or deploy",
        ),
        (
            with("    event: {kind: page.acknowledged}\n", ""),
            "an objective has either query (a PromQL condition) or event (a journal event)",
        ),
        (
            with(
                "    event: {kind: page.acknowledged}\n",
                "    query: up\n    op: \">=\"\n    threshold: 1\n",
            ),
            "a query objective needs op (>=, <=, > or <), threshold and hold; missing: hold",
        ),
        (
            with(
                "    event: {kind: page.acknowledged}\n",
                "    event: {kind: page.acknowledged}\n    op: \">=\"\n    threshold: 1\n",
            ),
            "op, threshold belong to query objectives, not to an event objective",
        ),
        (
            with(
                "subject: productcatalog}",
                "subject: productcatalog, attrs: {to: {less: 3}}}",
            ),
            "a condition has equals, gte or lte, not \"less\"",
        ),
        (
            with("faults:\n", "setup:\n  - {op: load, rps: 0}\nfaults:\n"),
            "rps is journeys per second, above 0",
        ),
        (
            format!("{}scoring: {{weights: {{speed: -1}}}}\n", tiny()),
            "a weight is a number of points, 0 or more",
        ),
    ];
    let doc = std::fs::read_to_string("../../docs/drills.md").unwrap();
    for (text, want) in cases {
        let err = scenario::parse(&text, "t.yaml")
            .expect_err(want)
            .to_string();
        assert!(err.contains(want), "want {want}\ngot {err}\nin\n{text}");
        assert_eq!(err.lines().count(), 1, "one problem: {err}");
        assert!(
            doc.contains(&format!("`{want}`")),
            "docs/drills.md lacks `{want}`"
        );
    }
}

#[test]
fn variants_relief_and_config_values_load() {
    let text = with(
        "    release: {service: productcatalog, version: v2}\n",
        "    variants:\n      - {release: {service: productcatalog, version: v2}}\n      - {inject: {kind: error, service: cart, status: 503}}\n      - {config: {service: frontend, set: {timeout.cart: 50ms, draining: true, concurrency_limit: 4}}}\n",
    )
    .replace(
        "        note: rolled back\n",
        "        note: rolled back\n      - when: [{kind: instance.restarted, subject: \"{service}/*\"}, {kind: page.acknowledged, actor: trainee}]\n        relief: 3m\n        note: restarted {service}\n",
    );
    let s = scenario::parse(&text, "t.yaml").unwrap_or_else(|e| panic!("{e}"));
    let f = &s.faults[0];
    assert_eq!(f.variants.len(), 3);
    let FaultAction::Config { set, .. } = &f.variants[2] else {
        panic!("{:?}", f.variants[2])
    };
    assert_eq!(set["draining"], "true");
    assert_eq!(set["concurrency_limit"], "4");
    assert_eq!(f.remedies[1].when.len(), 2);
    assert_eq!(f.remedies[1].when[1].actor, Actor::Trainee);
    assert_eq!(
        f.remedies[1].effect,
        Effect::Relief {
            for_: Duration::from_secs(180)
        }
    );
    // A config value the instances refuse is refused here too.
    let bad = text.replace("timeout.cart: 50ms", "timeout.cart: soon");
    let err = scenario::parse(&bad, "t.yaml").unwrap_err().to_string();
    assert!(
        err.contains("faults[0].variants[2].config.set.timeout.cart: timeout.cart: \"soon\" is not a duration"),
        "{err}"
    );
}
