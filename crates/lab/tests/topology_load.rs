//! The bundled topologies load and look as the rest of firedrill expects, the
//! tree marks critical and optional edges, and mistakes are reported with
//! `file:line:column` and the field at fault.

use lab::topology::*;

fn routes(t: &Topology, service: &str) -> Vec<String> {
    t.service(service)
        .unwrap_or_else(|| panic!("no service {service}"))
        .endpoints
        .iter()
        .map(|e| format!("{} {}", e.method, e.route))
        .collect()
}

fn call<'a>(t: &'a Topology, service: &str, method: &str, route: &str, callee: &str) -> &'a Call {
    t.service(service)
        .unwrap()
        .endpoint(method, route)
        .unwrap_or_else(|| panic!("{service} has no {method} {route}"))
        .calls
        .iter()
        .find(|c| c.service == callee)
        .unwrap_or_else(|| panic!("{service} {method} {route} does not call {callee}"))
}

#[test]
fn topology_shop_loads_as_expected() {
    let t = resolve("shop").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.name, "shop");
    assert_eq!(t.entry, "frontend");
    let names: Vec<&str> = t.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "frontend",
            "productcatalog",
            "currency",
            "cart",
            "cartcache",
            "recommendation",
            "ad",
            "checkout",
            "payment",
            "shipping",
            "email",
            "discount"
        ]
    );
    assert_eq!(t.service("frontend").unwrap().instances, 2);
    let fr = routes(&t, "frontend");
    for r in [
        "GET /",
        "GET /product/{id}",
        "POST /cart",
        "GET /cart",
        "POST /cart/checkout",
    ] {
        assert!(fr.contains(&r.to_string()), "{fr:?}");
    }
    assert_eq!(
        t.service("frontend")
            .unwrap()
            .endpoint("GET", "/")
            .unwrap()
            .content_type,
        "text/html"
    );

    for callee in ["currency", "productcatalog", "cart"] {
        assert!(call(&t, "frontend", "GET", "/", callee).critical);
    }
    let ad = call(&t, "frontend", "GET", "/", "ad");
    assert!(!ad.critical);
    assert_eq!(ad.fallback, Some(Fallback::Omit));
    let rec = call(&t, "frontend", "GET", "/product/{id}", "recommendation");
    assert_eq!(
        (rec.critical, rec.fallback.clone()),
        (false, Some(Fallback::Omit))
    );
    assert!(call(&t, "frontend", "POST", "/cart/checkout", "checkout").critical);

    for callee in ["cart", "productcatalog", "currency", "shipping", "payment"] {
        assert!(
            call(&t, "checkout", "POST", "/checkout", callee).critical,
            "{callee}"
        );
    }
    assert!(matches!(
        call(&t, "checkout", "POST", "/checkout", "discount").fallback,
        Some(Fallback::Static(_))
    ));
    let email = call(&t, "checkout", "POST", "/checkout", "email");
    assert_eq!(
        (email.critical, email.fallback.clone()),
        (false, Some(Fallback::Omit))
    );

    let pc = t.service("productcatalog").unwrap();
    assert_eq!(pc.version, "v1");
    let v2 = &pc.versions["v2"];
    assert!(v2.error_rate > 0.0 && v2.extra_latency.is_some());
    assert_eq!(t.params["product"].len(), 9);
    assert!(t.params["product"].contains(&"OLJCESPC7Z".to_string()));

    let journeys: Vec<&str> = t.journeys.iter().map(|j| j.name.as_str()).collect();
    assert_eq!(journeys, ["home", "product", "add_to_cart", "checkout"]);
    let checkout = t.journeys.iter().find(|j| j.name == "checkout").unwrap();
    let think: std::time::Duration = checkout.steps.iter().map(|s| s.think_time).sum();
    assert!(think <= std::time::Duration::from_secs(1), "{think:?}");
    assert_eq!(checkout.steps.last().unwrap().path, "/cart/checkout");
    assert!(
        t.journeys
            .iter()
            .any(|j| j.steps.iter().any(|s| s.path.contains("{product}")))
    );
}

#[test]
fn topology_chatbot_loads_as_expected() {
    let t = resolve("chatbot").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((t.name.as_str(), t.entry.as_str()), ("chatbot", "gateway"));
    let gw = t.service("gateway").unwrap();
    assert_eq!(gw.instances, 2);
    assert_eq!(
        gw.endpoint("POST", "/slack/events").unwrap().handler,
        Handler::SlackEvents
    );
    assert_eq!(
        gw.endpoint("POST", "/slack/commands").unwrap().handler,
        Handler::SlashCommand
    );
    assert_eq!(
        call(&t, "gateway", "POST", "/slack/commands", "router").path,
        "/commands/{command}"
    );
    for r in [
        "POST /events",
        "POST /commands/weather",
        "POST /commands/karma",
        "POST /commands/remind",
    ] {
        assert!(routes(&t, "router").contains(&r.to_string()), "{r}");
    }
    let w = call(&t, "cmd-weather", "POST", "/weather", "weather-api");
    assert!(!w.critical && matches!(w.fallback, Some(Fallback::Static(_))));
    assert_eq!(w.retries, 1);
    let q = t.service("queue").unwrap();
    assert_eq!(
        q.endpoint("POST", "/jobs").unwrap().handler,
        Handler::QueuePush
    );
    assert_eq!(
        q.endpoint("POST", "/jobs/pop").unwrap().handler,
        Handler::QueuePop
    );
    let bg = t.service("worker").unwrap().background.as_ref().unwrap();
    assert_eq!(bg.every, std::time::Duration::from_millis(200));
    let bg_calls: Vec<(&str, &str)> = bg
        .calls
        .iter()
        .map(|c| (c.service.as_str(), c.path.as_str()))
        .collect();
    assert_eq!(
        bg_calls,
        [("queue", "/jobs/pop"), ("datastore", "/reminders")]
    );
    for r in [
        "POST /messages",
        "GET /karma/{user}",
        "POST /karma/{user}",
        "POST /reminders",
    ] {
        assert!(routes(&t, "datastore").contains(&r.to_string()), "{r}");
    }
    let journeys: Vec<&str> = t.journeys.iter().map(|j| j.name.as_str()).collect();
    for j in ["message", "weather", "karma", "remind", "url_verification"] {
        assert!(journeys.contains(&j), "{journeys:?}");
    }
    let weather = t.journeys.iter().find(|j| j.name == "weather").unwrap();
    assert_eq!(
        weather.steps[0].content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    assert!(
        weather.steps[0]
            .body
            .as_deref()
            .unwrap()
            .contains("command=%2Fweather")
    );
}

#[test]
fn topology_tree_marks_critical_and_optional_edges() {
    let t = resolve("shop").unwrap();
    let tree = render_tree(&t);
    assert!(tree.starts_with("frontend (2 instances, v1)\n"), "{tree}");
    assert!(tree.contains("├── GET /\n"), "{tree}");
    assert!(
        tree.contains("currency GET /currencies (critical, timeout 300ms, retries 2)"),
        "{tree}"
    );
    assert!(
        tree.contains("ad GET /ads (optional: omit, timeout 200ms)"),
        "{tree}"
    );
    assert!(tree.contains("email POST /send (optional: omit"), "{tree}");
    assert!(
        tree.contains("discount GET /discounts (optional: static \"0%\""),
        "{tree}"
    );
    // Recursion into the callee: checkout's calls appear under the checkout call.
    let after_checkout = tree.split("checkout POST /checkout").nth(1).unwrap();
    assert!(
        after_checkout.contains("payment POST /charge (critical"),
        "{tree}"
    );

    let t = resolve("chatbot").unwrap();
    let tree = render_tree(&t);
    assert!(tree.contains("→ POST /commands/weather"), "{tree}");
    assert!(
        tree.contains("weather-api GET /forecast (optional: static"),
        "{tree}"
    );
    // The worker is not reachable from the gateway: listed after.
    let rest = tree
        .split("not reachable from gateway:")
        .nth(1)
        .expect(&tree);
    assert!(
        rest.contains("worker (1 instance, v1)") && rest.contains("every 200ms"),
        "{tree}"
    );
}

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

#[test]
fn topology_mistakes_are_reported_with_line_column_and_field() {
    let cases: &[(&str, &str, &str, &str)] = &[
        // (what, replace, with, "line:column field")
        (
            "unknown field",
            "  - name: db\n",
            "  - name: db\n    colour: red\n",
            "10:5 services[1].colour",
        ),
        (
            "wrong type",
            "  - name: db\n",
            "  - name: db\n    instances: many\n",
            "10:16 services[1].instances",
        ),
        (
            "duplicate service",
            "journeys:\n",
            "  - name: db\njourneys:\n",
            "12:11 services[2].name",
        ),
        ("entry", "entry: web", "entry: www", "2:8 entry"),
        (
            "unknown callee",
            "service: db,",
            "service: dbx,",
            "8:23 services[0].endpoints[0].calls[0].service",
        ),
        (
            "no endpoint",
            "path: /q}",
            "path: /nope}",
            "8:33 services[0].endpoints[0].calls[0].path",
        ),
        (
            "duration",
            "path: /q}",
            "path: /q, backoff: soon}",
            "8:46 services[0].endpoints[0].calls[0].backoff",
        ),
        (
            "p99",
            "      - route: /q\n",
            "      - route: /q\n        latency: {median: 5ms, p99: 1ms}\n",
            "12:37 services[1].endpoints[0].latency.p99",
        ),
        (
            "version",
            "  - name: db\n",
            "  - name: db\n    version: v9\n",
            "10:14 services[1].version",
        ),
        (
            "probability",
            "path: /q}",
            "path: /q, probability: 2}",
            "8:50 services[0].endpoints[0].calls[0].probability",
        ),
        (
            "cycle",
            "      - route: /q\n",
            "      - route: /q\n        calls: [{service: web, path: /}]\n",
            "12:27 services[1].endpoints[0].calls[0].service",
        ),
        (
            "instances",
            "  - name: db\n",
            "  - name: db\n    instances: 40\n",
            "10:16 services[1].instances",
        ),
        (
            "step not served",
            "{path: /}",
            "{path: /x}",
            "15:16 journeys[0].steps[0].path",
        ),
        (
            "weight",
            "  - name: j\n",
            "  - name: j\n    weight: -1\n",
            "14:13 journeys[0].weight",
        ),
        (
            "fallback",
            "path: /q}",
            "path: /q, fallback: {static: x}}",
            "8:47 services[0].endpoints[0].calls[0].fallback",
        ),
        (
            "method",
            "path: /q}",
            "path: /q, method: GRAB}",
            "8:45 services[0].endpoints[0].calls[0].method",
        ),
        (
            "duplicate endpoint",
            "      - route: /q\n",
            "      - route: /q\n      - route: /q\n",
            "12:16 services[1].endpoints[1].route",
        ),
        (
            "no journeys",
            "journeys:\n  - name: j\n    steps:\n      - {path: /}\n",
            "journeys: []\n",
            "12:11 journeys",
        ),
    ];
    for (what, from, to, want) in cases {
        assert!(BASE.contains(from), "{what}");
        let text = BASE.replacen(from, to, 1);
        let err = load_str(&text, "lab.yaml").expect_err(what);
        let got: Vec<String> = err
            .problems
            .iter()
            .map(|p| format!("{}:{} {}", p.line, p.column, p.field))
            .collect();
        assert_eq!(got, vec![want.to_string()], "{what}: {err}");
        let line = err.to_string();
        let (pos, field) = want.split_once(' ').unwrap();
        assert!(
            line.starts_with(&format!("lab.yaml:{pos}: {field}: ")),
            "{what}: {line}"
        );
    }
}

#[test]
fn topology_placeholder_without_params_and_yaml_syntax() {
    let text = BASE
        .replace(
            "      - route: /\n",
            "      - route: /\n      - route: /p/{id}\n",
        )
        .replace("{path: /}", "{path: \"/p/{sku}\"}");
    let err = load_str(&text, "lab.yaml").unwrap_err();
    assert_eq!(err.problems.len(), 1, "{err}");
    assert_eq!(
        (err.problems[0].line, err.problems[0].column),
        (16, 16),
        "{err}"
    );
    assert!(
        err.to_string().contains("placeholder {sku} has no values"),
        "{err}"
    );

    let err = load_str("name: t\nentry: web\nservices: [\n", "lab.yaml").unwrap_err();
    assert_eq!(err.problems.len(), 1, "{err}");
    assert!(err.problems[0].line >= 3, "{err}");
}

#[test]
fn topology_load_file_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lab.yaml");
    std::fs::write(&path, BASE.replace("entry: web", "entry: nope")).unwrap();
    let err = load_file(&path).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("{}:2:8: entry: ", path.display())),
        "{err}"
    );
    std::fs::write(&path, BASE).unwrap();
    assert_eq!(resolve(path.to_str().unwrap()).unwrap().name, "t");
}

#[test]
fn topology_docs_example_loads() {
    let doc = include_str!("../../../docs/topology.md");
    let yaml = doc
        .split("```yaml\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    let t = load_str(yaml, "docs/topology.md").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.services.len(), 3);
    let tree = render_tree(&t);
    assert!(
        tree.contains("catalog GET /products/{id} (critical, timeout 300ms, retries 2)"),
        "{tree}"
    );
    assert!(
        tree.contains("ad GET /ads (optional: omit, timeout 1s, retries 1)"),
        "{tree}"
    );
}
