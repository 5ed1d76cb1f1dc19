//! Roles on every route of the control plane. The routes come from the
//! binary itself (`firedrill __routes`, the tables the guard enforces), so
//! a new route cannot slip through: each is called with no token, a bad
//! token, a viewer's, a trainee's and (for reads) the instructor's, and the
//! answer is checked against the access it declares.

mod common;

use common::Lab;
use serde_json::{Value, json};

fn routes() -> Vec<(String, String, String)> {
    let out = std::process::Command::new(common::bin())
        .arg("__routes")
        .output()
        .expect("firedrill __routes");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let mut p = l.split(' ');
            (
                p.next().unwrap().to_string(),
                p.next().unwrap().to_string(),
                p.next().unwrap().to_string(),
            )
        })
        .collect()
}

/// A concrete path for a route: parameters filled with values that name
/// nothing, so no call changes the lab.
fn concrete(path: &str) -> String {
    path.replace("{id}", "999999")
        .replace("{name}", "nobody")
        .replace("{action}", "ack")
}

fn refused(status: u16) -> bool {
    status == 401 || status == 403
}

#[test]
fn every_route_answers_each_role_as_it_declares() {
    let lab = Lab::start("shop", &["--rps", "2"]);
    let viewer = lab.new_token("vic", "viewer");
    let trainee = lab.new_token("alice", "trainee");
    let all = routes();
    assert!(all.len() >= 50, "{all:?}");
    let mut checked = 0;
    for (method, path, access) in &all {
        let url = concrete(path);
        // Bodies that are valid JSON but change nothing (or are refused).
        let body = (method != "GET").then(|| json!({}));
        // A stream never ends: only its status is read.
        let stream = path.ends_with("/stream");
        let call = |token: Option<&str>| {
            if stream {
                (lab.status_of(method, &url, token), Value::Null)
            } else {
                lab.call(method, &url, token, body.clone())
            }
        };
        let none = call(None);
        let bad = call(Some("not-a-token"));
        let as_viewer = call(Some(&viewer));
        let as_trainee = call(Some(&trainee));
        let what = format!("{method} {path} ({access})");
        if access != "Public" {
            assert_eq!(bad.0, 401, "{what}: a bad token → {bad:?}");
            assert!(
                stream || bad.1["error"].as_str().is_some_and(|e| e.contains("token")),
                "{what}: the refusal says why: {bad:?}"
            );
        }
        match access.as_str() {
            "Public" | "Read" => {
                // Loopback lab: reads are open, and every role may read.
                for (who, r) in [
                    ("no token", &none),
                    ("viewer", &as_viewer),
                    ("trainee", &as_trainee),
                ] {
                    assert!(!refused(r.0), "{what}: {who} refused: {r:?}");
                }
            }
            "Operate" => {
                assert_eq!(none.0, 401, "{what}: no token → {none:?}");
                assert_eq!(as_viewer.0, 403, "{what}: viewer → {as_viewer:?}");
                assert!(
                    stream
                        || as_viewer.1["error"]
                            .as_str()
                            .is_some_and(|e| e.contains("trainee role")),
                    "{what}: {as_viewer:?}"
                );
                assert!(
                    !refused(as_trainee.0),
                    "{what}: trainee refused: {as_trainee:?}"
                );
            }
            "Instruct" => {
                assert_eq!(none.0, 401, "{what}: no token → {none:?}");
                assert_eq!(as_viewer.0, 403, "{what}: viewer → {as_viewer:?}");
                assert_eq!(as_trainee.0, 403, "{what}: trainee → {as_trainee:?}");
                assert!(
                    stream
                        || as_trainee.1["error"]
                            .as_str()
                            .is_some_and(|e| e.contains("alice") && e.contains("instructor role")),
                    "{what}: {as_trainee:?}"
                );
                if method == "GET" {
                    let owner = call(Some(&lab.token()));
                    assert!(!refused(owner.0), "{what}: instructor refused: {owner:?}");
                }
            }
            other => panic!("{what}: unknown access {other}"),
        }
        checked += 1;
    }
    assert_eq!(checked, all.len());

    // Hidden state: a trainee cannot see faults, neither listed nor in the
    // journal; the instructor sees both.
    let fault = lab.post(
        "/api/faults",
        json!({"kind": "latency", "service": "ad", "delay": "50ms", "for": "1m"}),
    );
    assert_eq!(fault["status"], "success", "{fault}");
    let (s, _) = lab.call("GET", "/api/faults", Some(&trainee), None);
    assert_eq!(s, 403);
    let kinds = |token: Option<&str>| -> Vec<String> {
        let (s, v) = lab.call("GET", "/api/events?limit=1000", token, None);
        assert_eq!(s, 200, "{v}");
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(kinds(Some(&lab.token())).contains(&"fault.injected".to_string()));
    for who in [Some(trainee.as_str()), Some(viewer.as_str()), None] {
        let k = kinds(who);
        assert!(
            k.iter().all(|k| !k.starts_with("fault.")),
            "{who:?} sees {k:?}"
        );
        assert!(k.contains(&"token.created".to_string()), "{k:?}");
    }

    // A trainee's operations are journaled under their name; a revoked
    // token stops working at once.
    let (s, v) = lab.call(
        "POST",
        "/api/lab/config",
        Some(&trainee),
        Some(json!({"service": "cart", "set": {"retries.cartcache": "1"}})),
    );
    assert_eq!(s, 200, "{v}");
    let ev = lab.get("/api/events?kind=config.changed");
    let last: &Value = ev["data"].as_array().unwrap().last().unwrap();
    assert_eq!(last["source"], "alice", "{last}");
    let (ok, _, err) = lab.cli(&["token", "revoke", "alice"]);
    assert!(ok, "{err}");
    let (s, v) = lab.call("GET", "/api/lab/services", Some(&trainee), None);
    assert_eq!(s, 401, "{v}");
    let (ok, out, _) = lab.cli(&["token", "list", "--output", "json"]);
    assert!(ok);
    let list: Value = serde_json::from_str(&out).unwrap();
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "alice" && !t["revoked"].is_null()),
        "{list}"
    );
    assert!(!out.contains(&trainee), "secrets are never listed");
}

#[test]
fn a_trainee_cli_works_with_its_own_token_and_is_refused_hidden_state() {
    let lab = Lab::start("shop", &["--rps", "2"]);
    let trainee = lab.new_token("bob", "trainee");
    // A trainee runs the CLI elsewhere: no access to the data dir's token.
    let run = |args: &[&str]| {
        let out = std::process::Command::new(common::bin())
            .args([
                "--url",
                &lab.url,
                "--data-dir",
                "/nonexistent-firedrill-dir",
            ])
            .args(args)
            .env("FIREDRILL_TOKEN", &trainee)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, out, err) = run(&["status"]);
    assert!(ok, "{err}");
    assert!(out.contains("cart"), "{out}");
    let (ok, _, err) = run(&["scale", "ad", "2"]);
    assert!(ok, "{err}");
    let (ok, _, err) = run(&["fault", "list"]);
    assert!(!ok);
    assert!(err.contains("instructor role"), "{err}");
    let (ok, _, err) = run(&["down"]);
    assert!(!ok, "a trainee cannot stop the lab");
    assert!(err.contains("instructor role"), "{err}");
}
