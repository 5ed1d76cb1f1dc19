//! End to end: `firedrill up` with the real binary, real processes and real traffic.

mod common;

use std::time::Duration;

use common::{Lab, alive, eventually, sum_metric};
use serde_json::json;

#[test]
fn shop_serves_traffic_and_metrics_follow_the_design() {
    let lab = Lab::start("shop", &["--rps", "30"]);

    // Journeys succeed, checkout included.
    let ok = eventually(30, || {
        let n = lab.journeys(&["outcome=\"success\"", "journey=\"checkout\""]);
        (n >= 1.0).then_some(n)
    });
    assert!(
        ok.is_some(),
        "no checkout journey succeeded; log:\n{}",
        lab.log()
    );
    let good = lab.journeys(&["outcome=\"success\""]);
    let bad = lab.journeys(&["outcome=\"failure\""]);
    assert!(good >= 10.0, "only {good} journeys succeeded");
    assert!(
        bad / (good + bad) < 0.05,
        "{bad} of {} journeys failed",
        good + bad
    );

    // The home page is a page.
    let home = lab
        .http
        .get(format!("http://{}/", lab.addr("frontend", 0)))
        .send()
        .unwrap();
    assert_eq!(home.status(), 200);
    assert!(
        home.text().unwrap().contains("<html"),
        "home page is not HTML"
    );

    // Every instance exposes the DESIGN metric names and labels.
    for s in lab.services() {
        for i in s["instances"].as_array().unwrap() {
            let addr = i["addr"].as_str().unwrap();
            let text = lab
                .http
                .get(format!("http://{addr}/metrics"))
                .send()
                .unwrap()
                .text()
                .unwrap();
            let version = format!(
                "service_version_info{{version=\"{}\"}} 1",
                s["version"].as_str().unwrap()
            );
            assert!(text.contains(&version), "{addr}: no `{version}`");
            for name in [
                "process_resident_memory_bytes",
                "process_cpu_seconds_total",
                "process_open_fds",
                "process_start_time_seconds",
                "# TYPE http_server_request_duration_seconds histogram",
            ] {
                assert!(text.contains(name), "{addr} ({}): no {name}", s["name"]);
            }
        }
    }
    let front = lab
        .http
        .get(format!("http://{}/metrics", lab.addr("frontend", 0)))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let line = front
        .lines()
        .find(|l| l.starts_with("http_server_request_duration_seconds_bucket{"))
        .expect("a server bucket line");
    for label in [
        "http_route=",
        "http_request_method=",
        "http_response_status_code=",
        "le=",
    ] {
        assert!(line.contains(label), "no {label} in {line}");
    }
    assert!(
        front.lines().any(
            |l| l.starts_with("http_client_request_duration_seconds_bucket{")
                && l.contains("server=\"currency\"")
        ),
        "frontend records no client metrics for its calls to currency"
    );
    for le in [
        "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0", "10.0", "+Inf",
    ] {
        assert!(
            line.contains("le=") && front.contains(&format!("le=\"{le}\"")),
            "no bucket {le}"
        );
    }
    let lg = lab.loadgen_metrics();
    assert!(
        lg.contains("loadgen_journey_duration_seconds_bucket{"),
        "no journey histogram"
    );
    assert!(sum_metric(&lg, "loadgen_journeys_total", &[]) > 0.0);
}

#[test]
fn an_optional_dependency_degrades_and_a_critical_one_fails() {
    let lab = Lab::start("shop", &["--rps", "5"]);
    let home = format!("http://{}/", lab.addr("frontend", 0));
    let before = lab.http.get(&home).send().unwrap();
    assert_eq!(before.status(), 200);

    let r = lab.post("/api/lab/scale", json!({"service": "ad", "instances": 0}));
    assert_eq!(r["status"], "success", "{r}");
    // Callers refresh the registry every second.
    let degraded = eventually(10, || {
        let r = lab.http.get(&home).send().ok()?;
        let status = r.status();
        let body = r.text().ok()?;
        (status == 200 && !body.contains("class=\"ad\"")).then_some(body)
    });
    assert!(degraded.is_some(), "home page did not render without ads");

    let r = lab.post(
        "/api/lab/scale",
        json!({"service": "productcatalog", "instances": 0}),
    );
    assert_eq!(r["status"], "success", "{r}");
    let failed = eventually(10, || {
        let r = lab.http.get(&home).send().ok()?;
        r.status().is_server_error().then_some(r.status())
    });
    assert!(
        failed.is_some(),
        "home page still works without productcatalog"
    );

    let r = lab.post(
        "/api/lab/scale",
        json!({"service": "productcatalog", "instances": 1}),
    );
    assert_eq!(r["status"], "success", "{r}");
    let back = eventually(10, || {
        let r = lab.http.get(&home).send().ok()?;
        (r.status() == 200).then_some(())
    });
    assert!(
        back.is_some(),
        "home page did not recover after scaling productcatalog back"
    );
}

#[test]
fn a_killed_instance_is_restarted_and_errors_recover() {
    let lab = Lab::start("shop", &["--rps", "20"]);
    eventually(20, || {
        (lab.journeys(&["outcome=\"success\""]) >= 5.0).then_some(())
    })
    .expect("traffic flows");
    let victim = lab.instances("cart")[0].clone();
    let pid = victim["pid"].as_i64().unwrap() as i32;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();

    let restarted = eventually(20, || {
        let i = lab.instances("cart")[0].clone();
        (i["restarts"].as_u64()? >= 1
            && i["state"] == "running"
            && i["pid"].as_i64()? as i32 != pid)
            .then_some(i)
    });
    assert!(
        restarted.is_some(),
        "cart/0 was not restarted; log:\n{}",
        lab.log()
    );
    let events = lab.get("/api/events?kind=instance.");
    let kinds: Vec<String> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect();
    assert!(kinds.contains(&"instance.crashed".to_string()), "{kinds:?}");
    assert!(
        kinds.contains(&"instance.restarted".to_string()),
        "{kinds:?}"
    );
    let cp = lab
        .http
        .get(format!("{}/metrics", lab.url))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        sum_metric(
            &cp,
            "lab_instance_restarts_total",
            &["lab_instance=\"cart/0\""]
        ) >= 1.0,
        "{cp}"
    );
    // While it was down, its callers ejected it from their load balancing.
    let ejections: f64 = lab
        .instances("frontend")
        .iter()
        .map(|i| {
            let addr = i["addr"].as_str().unwrap();
            let m = lab
                .http
                .get(format!("http://{addr}/metrics"))
                .send()
                .unwrap()
                .text()
                .unwrap();
            sum_metric(&m, "lab_upstream_ejections_total", &["server=\"cart\""])
        })
        .sum();
    assert!(
        ejections >= 1.0,
        "no frontend ejected the dead cart instance"
    );

    // After recovery, journeys succeed again.
    let failures_then = lab.journeys(&["outcome=\"failure\""]);
    std::thread::sleep(Duration::from_secs(3));
    let ok_then = lab.journeys(&["outcome=\"success\""]);
    std::thread::sleep(Duration::from_secs(4));
    let ok_now = lab.journeys(&["outcome=\"success\""]);
    let failures_now = lab.journeys(&["outcome=\"failure\""]);
    let new_ok = ok_now - ok_then;
    assert!(new_ok > 0.0, "no journeys succeed after the restart");
    assert!(
        failures_now - failures_then <= (new_ok * 0.1).max(2.0),
        "errors did not recover: {} new failures vs {new_ok} successes",
        failures_now - failures_then
    );
}

#[test]
fn deploy_and_rollback_change_the_running_version() {
    let lab = Lab::start("shop", &["--rps", "5"]);
    let version_of = |lab: &Lab| -> Vec<String> {
        lab.instances("productcatalog")
            .iter()
            .map(|i| {
                let addr = i["addr"].as_str().unwrap();
                let text = lab
                    .http
                    .get(format!("http://{addr}/metrics"))
                    .send()
                    .unwrap()
                    .text()
                    .unwrap();
                text.lines()
                    .find(|l| l.starts_with("service_version_info{"))
                    .unwrap_or("")
                    .to_string()
            })
            .collect()
    };
    assert!(
        version_of(&lab)
            .iter()
            .all(|l| l.contains("version=\"v1\""))
    );
    let (ok, out, err) = lab.cli(&["deploy", "productcatalog", "v2"]);
    assert!(ok, "deploy failed: {out}{err}");
    assert!(
        version_of(&lab)
            .iter()
            .all(|l| l.contains("version=\"v2\"")),
        "{:?}",
        version_of(&lab)
    );
    let (ok, out, err) = lab.cli(&["rollback", "productcatalog"]);
    assert!(ok, "rollback failed: {out}{err}");
    assert!(out.contains("v1"), "{out}");
    assert!(
        version_of(&lab)
            .iter()
            .all(|l| l.contains("version=\"v1\"")),
        "{:?}",
        version_of(&lab)
    );
    let (ok, _, err) = lab.cli(&["rollback", "productcatalog"]);
    assert!(!ok && err.contains("no earlier version"), "{err}");
    let (ok, _, err) = lab.cli(&["deploy", "productcatalog", "v9"]);
    assert!(!ok && err.contains("v9"), "{err}");

    let (ok, out, _) = lab.cli(&["events", "--kind", "deploy", "--output", "json"]);
    assert!(ok);
    let events: serde_json::Value = serde_json::from_str(&out).unwrap();
    let kinds: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["deploy.started", "deploy.finished"], "{out}");
}

#[test]
fn operations_from_the_cli() {
    let lab = Lab::start("shop", &["--rps", "5"]);
    let pid_before = lab.instances("cart")[0]["pid"].as_i64();
    let (ok, out, err) = lab.cli(&["restart", "cart/0"]);
    assert!(ok, "{out}{err}");
    assert_ne!(lab.instances("cart")[0]["pid"].as_i64(), pid_before);

    let (ok, out, err) = lab.cli(&["scale", "frontend", "3"]);
    assert!(ok, "{out}{err}");
    assert_eq!(lab.instances("frontend").len(), 3);
    let (ok, _, _) = lab.cli(&["scale", "frontend", "2"]);
    assert!(ok);
    assert_eq!(lab.instances("frontend").len(), 2);

    let (ok, out, err) = lab.cli(&["drain", "cart/0"]);
    assert!(ok, "{out}{err}");
    assert_eq!(lab.instances("cart")[0]["draining"], true);
    let reg = lab.get("/api/lab/registry");
    let addr = lab.addr("cart", 0);
    assert!(
        !reg["services"]["cart"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == addr.as_str())
    );
    let (ok, _, _) = lab.cli(&["drain", "cart/0", "--undo"]);
    assert!(ok);

    let (ok, out, err) = lab.cli(&[
        "config",
        "set",
        "frontend",
        "timeout.currency=150ms",
        "retries.currency=0",
    ]);
    assert!(ok, "{out}{err}");
    let (ok, _, err) = lab.cli(&["config", "set", "frontend", "no_such_key=1"]);
    assert!(!ok && err.contains("no_such_key"), "{err}");
    let (ok, _, err) = lab.cli(&["restart", "nosuch"]);
    assert!(!ok && err.contains("nosuch"), "{err}");

    let (ok, out, _) = lab.cli(&["status", "--output", "json"]);
    assert!(ok);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        v["services"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["service"] == "checkout")
    );
    let (ok, out, _) = lab.cli(&["status"]);
    assert!(
        ok && out.contains("SERVICE") && out.contains("frontend"),
        "{out}"
    );

    let (ok, out, err) = lab.cli(&["load", "set", "--rps", "7"]);
    assert!(ok, "{out}{err}");
    let (ok, out, _) = lab.cli(&["load", "show", "--output", "json"]);
    assert!(ok);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["rps"], 7.0);
}

#[test]
fn stopping_the_lab_stops_every_process() {
    let mut lab = Lab::start("shop", &["--rps", "5"]);
    let pids = lab.pids();
    assert!(pids.len() >= 10, "only {} instances", pids.len());
    assert!(pids.iter().all(|&p| alive(p)));
    let status = lab.stop().expect("up exited");
    assert!(status.success(), "up exited with {status}");
    let left: Vec<i32> = pids.iter().copied().filter(|&p| alive(p)).collect();
    assert!(left.is_empty(), "processes outlived the lab: {left:?}");
    assert!(!lab.data_dir().join("lab.json").exists());
}

/// Issue 11: a query that would run for hours does not keep the lab from
/// stopping on Ctrl-C (SIGINT), and its client is told why instead of
/// seeing a cut connection.
#[test]
fn ctrl_c_stops_the_lab_and_cancels_queries_under_way() {
    let mut lab = Lab::start("shop", &["--rps", "5"]);
    let pids = lab.pids();
    let url = format!("{}/api/v1/query", lab.url);
    let asking = std::thread::spawn(move || {
        let r = reqwest::blocking::Client::new()
            .post(url)
            .form(&[("query", "count_over_time(vector(1)[1y:1ms])")])
            .timeout(Duration::from_secs(120))
            .send()
            .map_err(|e| e.to_string())?;
        let status = r.status().as_u16();
        let body: serde_json::Value = r.json().map_err(|e| e.to_string())?;
        Ok::<_, String>((status, body))
    });
    // The query is under way (it cannot finish in this time).
    std::thread::sleep(Duration::from_millis(500));
    assert!(!asking.is_finished(), "the endless query ended on its own");
    let status = lab
        .stop_with(nix::sys::signal::Signal::SIGINT)
        .expect("up exited");
    assert!(
        status.success(),
        "up did not stop cleanly on SIGINT: {status}"
    );
    let (code, body) = asking
        .join()
        .expect("the asking thread")
        .expect("an answer, not a cut connection");
    assert_eq!(code, 499, "{body}");
    assert_eq!(body["errorType"], "canceled", "{body}");
    let left: Vec<i32> = pids.iter().copied().filter(|&p| alive(p)).collect();
    assert!(left.is_empty(), "processes outlived the lab: {left:?}");
}
