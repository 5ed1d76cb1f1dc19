//! Every fault type injected into a running shop, its effect observed
//! through the lab's own metrics (PromQL over the control plane), and its
//! recovery observed after a clear or an expiry. Plus the safety rules:
//! nothing outside the lab can be targeted, and stopping the lab mid-fault
//! leaves nothing behind.

mod common;

use common::{Lab, alive, eventually};
use serde_json::{Value, json};

/// The lab under steady load, scraped every second.
fn shop() -> Lab {
    let lab = Lab::start("shop", &["--rps", "40"]);
    eventually(30, || {
        (lab.journeys(&["outcome=\"success\""]) >= 5.0).then_some(())
    })
    .expect("traffic flows");
    lab
}

/// The value of a one-series PromQL result (None: no series).
fn q(lab: &Lab, expr: &str) -> Option<f64> {
    let v = lab
        .http
        .get(format!("{}/api/v1/query", lab.url))
        .query(&[("query", expr)])
        .send()
        .ok()?
        .json::<Value>()
        .ok()?;
    v["data"]["result"][0]["value"][1].as_str()?.parse().ok()
}

/// Waits until `expr` satisfies `ok`, returning the value seen.
fn until(lab: &Lab, secs: u64, expr: &str, ok: impl Fn(f64) -> bool, what: &str) -> f64 {
    eventually(secs, || q(lab, expr).filter(|v| ok(*v)))
        .unwrap_or_else(|| panic!("{what}: `{expr}` = {:?}", q(lab, expr)))
}

fn inject(lab: &Lab, body: Value) -> String {
    let r = lab.post("/api/faults", body.clone());
    assert_eq!(r["status"], "success", "{body} -> {r}");
    r["data"]["id"].as_str().unwrap().to_string()
}

fn clear(lab: &Lab, id: &str) {
    let r = lab
        .http
        .delete(format!("{}/api/faults/{id}", lab.url))
        .bearer_auth(lab.token())
        .send()
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().unwrap_or_default());
}

#[test]
fn latency_slows_the_service_and_recovers_on_clear() {
    let lab = shop();
    let p50 = "histogram_quantile(0.5, sum by (le) (rate(http_server_request_duration_seconds_bucket{job=\"recommendation\"}[3s])))";
    until(&lab, 20, p50, |v| v < 0.1, "fast before");
    let id = inject(
        &lab,
        json!({"kind": "latency", "service": "recommendation", "delay": "300ms", "jitter": "50ms", "for": "5m"}),
    );
    let slow = until(&lab, 20, p50, |v| v > 0.2, "slow during");
    clear(&lab, &id);
    let fast = until(&lab, 20, p50, |v| v < 0.1, "fast after clear");
    println!("recommendation p50: {slow:.3}s with the fault, {fast:.3}s after");
}

#[test]
fn errors_answer_with_the_status_and_stop_on_expiry() {
    let lab = shop();
    let e503 = "sum(increase(http_server_request_duration_seconds_count{job=\"productcatalog\",http_response_status_code=\"503\"}[2s])) or vector(0)";
    inject(
        &lab,
        json!({"kind": "error", "service": "productcatalog", "status": 503, "percent": 100, "for": "6s"}),
    );
    until(&lab, 20, e503, |v| v > 0.0, "503s during");
    // No clear: it expires by itself.
    until(&lab, 30, e503, |v| v == 0.0, "no 503s after expiry");
    let ok = "sum(increase(http_server_request_duration_seconds_count{job=\"productcatalog\",http_response_status_code=\"200\"}[2s]))";
    until(&lab, 10, ok, |v| v > 0.0, "200s again");
    let ev = lab.get("/api/events?kind=fault.expired");
    assert_eq!(ev["data"].as_array().unwrap().len(), 1, "{ev}");
}

#[test]
fn a_blackhole_makes_callers_time_out() {
    let lab = shop();
    let timeouts = "sum(increase(http_client_request_duration_seconds_count{server=\"ad\",error_type=\"timeout\"}[3s])) or vector(0)";
    let id = inject(
        &lab,
        json!({"kind": "blackhole", "service": "ad", "for": "5m"}),
    );
    until(&lab, 20, timeouts, |v| v > 0.0, "callers time out");
    clear(&lab, &id);
    until(&lab, 30, timeouts, |v| v == 0.0, "no timeouts after clear");
}

#[test]
fn refused_connections_differ_from_a_blackhole_and_end_on_clear() {
    let lab = shop();
    let refused = "sum(increase(http_client_request_duration_seconds_count{server=\"currency\",error_type=\"connection_refused\"}[3s])) or vector(0)";
    let id = inject(
        &lab,
        json!({"kind": "refuse", "service": "currency", "for": "5m"}),
    );
    until(&lab, 20, refused, |v| v > 0.0, "connections refused");
    clear(&lab, &id);
    until(&lab, 30, refused, |v| v == 0.0, "accepting again");
    let ok = "sum(increase(http_client_request_duration_seconds_count{server=\"currency\",http_response_status_code=\"200\"}[2s]))";
    until(&lab, 10, ok, |v| v > 0.0, "calls succeed again");
}

#[test]
fn a_reset_mid_response_is_a_connection_error_for_callers() {
    let lab = shop();
    let errs = "sum(increase(http_client_request_duration_seconds_count{server=\"productcatalog\",error_type=\"connection_error\"}[3s])) or vector(0)";
    let id = inject(
        &lab,
        json!({"kind": "reset", "service": "productcatalog", "percent": 50, "for": "5m"}),
    );
    until(&lab, 20, errs, |v| v > 0.0, "resets seen by callers");
    clear(&lab, &id);
    until(&lab, 30, errs, |v| v == 0.0, "no resets after clear");
}

#[test]
fn a_slow_body_shows_in_the_callers_latency_not_the_servers() {
    let lab = shop();
    let client = "histogram_quantile(0.5, sum by (le) (rate(http_client_request_duration_seconds_bucket{server=\"productcatalog\"}[3s])))";
    let server = "histogram_quantile(0.5, sum by (le) (rate(http_server_request_duration_seconds_bucket{job=\"productcatalog\"}[3s])))";
    let id = inject(
        &lab,
        json!({"kind": "slow_body", "service": "productcatalog", "delay": "400ms", "for": "5m"}),
    );
    let c = until(&lab, 20, client, |v| v > 0.25, "callers wait for the body");
    let s = q(&lab, server).unwrap();
    assert!(s < 0.1, "the server's own latency stays low: {s}");
    clear(&lab, &id);
    until(&lab, 20, client, |v| v < 0.1, "fast after clear");
    println!("productcatalog p50 with a slow body: callers {c:.3}s, server {s:.3}s");
}

#[test]
fn cpu_burn_shows_in_process_cpu_and_stops() {
    let lab = shop();
    let cpu = "sum(rate(process_cpu_seconds_total{job=\"checkout\"}[3s]))";
    let id = inject(
        &lab,
        json!({"kind": "cpu", "service": "checkout", "share": 0.6, "for": "5m"}),
    );
    let busy = until(&lab, 20, cpu, |v| v > 0.25, "burning");
    clear(&lab, &id);
    let idle = until(&lab, 20, cpu, |v| v < 0.2, "cool again");
    println!("checkout CPU: {busy:.2} cores burning, {idle:.2} after");
}

#[test]
fn a_memory_leak_grows_to_its_cap_and_is_freed() {
    let lab = shop();
    let rss = "sum(process_resident_memory_bytes{job=\"cart\"})";
    let before = until(&lab, 10, rss, |v| v > 0.0, "rss");
    let id = inject(
        &lab,
        json!({"kind": "memory", "service": "cart", "instances": [0], "mb_per_s": 100, "cap_mb": 150, "for": "5m"}),
    );
    let peak = until(&lab, 20, rss, |v| v > before + 120e6, "memory grows");
    clear(&lab, &id);
    let after = until(&lab, 20, rss, |v| v < peak - 100e6, "memory freed");
    println!(
        "cart RSS: {:.0} MB before, {:.0} MB at the cap, {:.0} MB after",
        before / 1e6,
        peak / 1e6,
        after / 1e6
    );
}

#[test]
fn a_disk_fill_shows_in_the_data_dir_metric_and_its_file_goes() {
    let lab = shop();
    let bytes = "sum(lab_instance_data_bytes{job=\"email\"})";
    let id = inject(
        &lab,
        json!({"kind": "disk", "service": "email", "mb_per_s": 50, "size_mb": 40, "for": "5m"}),
    );
    until(&lab, 20, bytes, |v| v > 35e6, "disk fills");
    let dir = lab.data_dir().join(lab::runtime::faults::SPOOL_DIR);
    assert!(
        std::fs::read_dir(&dir).unwrap().count() > 0,
        "the fill file is in the data dir"
    );
    clear(&lab, &id);
    until(&lab, 20, bytes, |v| v < 10e6, "space given back");
    assert_eq!(std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0), 0);
}

#[test]
fn a_killed_instance_is_restarted_by_the_supervisor() {
    let lab = shop();
    let pid = lab.instances("cart")[1]["pid"].as_i64().unwrap() as i32;
    inject(
        &lab,
        json!({"kind": "kill", "service": "cart", "instances": [1]}),
    );
    let restarts = "sum(lab_instance_restarts_total{lab_instance=\"cart/1\"})";
    until(&lab, 20, restarts, |v| v >= 1.0, "restarted");
    assert!(!alive(pid), "the old process is gone");
    let up = "sum(up{job=\"cart\"})";
    until(&lab, 20, up, |v| v == 2.0, "both instances up again");
}

#[test]
fn a_paused_instance_stops_answering_and_continues_on_expiry() {
    let lab = shop();
    let addr = lab.addr("currency", 0);
    let up = format!("up{{job=\"currency\",instance=\"{addr}\"}}");
    inject(
        &lab,
        json!({"kind": "pause", "service": "currency", "instances": [0], "for": "6s"}),
    );
    until(&lab, 20, &up, |v| v == 0.0, "down while paused");
    until(&lab, 30, &up, |v| v == 1.0, "back after the pause expires");
    assert_eq!(
        lab.instances("currency")[0]["restarts"],
        0,
        "continued, not restarted"
    );
}

#[test]
fn a_bad_version_hurts_until_it_is_rolled_back() {
    let lab = shop();
    let id = inject(
        &lab,
        json!({"kind": "bad_version", "service": "productcatalog", "for": "5m"}),
    );
    let r = lab.get("/api/faults");
    let version = r["data"][0]["params"]["version"]
        .as_str()
        .unwrap()
        .to_string();
    until(
        &lab,
        30,
        &format!("sum(service_version_info{{job=\"productcatalog\",version=\"{version}\"}})"),
        |v| v >= 1.0,
        "buggy version running",
    );
    let errors = "sum(increase(http_server_request_duration_seconds_count{job=\"productcatalog\",http_response_status_code=~\"5..\"}[3s])) or vector(0)";
    until(&lab, 30, errors, |v| v > 0.0, "errors from the bad version");
    clear(&lab, &id);
    until(
        &lab,
        30,
        "sum(service_version_info{job=\"productcatalog\",version=\"v1\"})",
        |v| v >= 1.0,
        "rolled back",
    );
    until(&lab, 30, errors, |v| v == 0.0, "no errors after rollback");
}

#[test]
fn client_side_faults_hit_one_edge_only() {
    let lab = shop();
    let from_frontend = "sum(increase(http_client_request_duration_seconds_count{job=\"frontend\",server=\"currency\",http_response_status_code=\"503\"}[3s])) or vector(0)";
    let from_checkout = "sum(increase(http_client_request_duration_seconds_count{job=\"checkout\",server=\"currency\",http_response_status_code=\"503\"}[3s])) or vector(0)";
    let id = inject(
        &lab,
        json!({"kind": "error", "service": "currency", "caller": "frontend", "status": 503, "for": "5m"}),
    );
    until(
        &lab,
        20,
        from_frontend,
        |v| v > 0.0,
        "frontend → currency fails",
    );
    assert_eq!(
        q(&lab, from_checkout),
        Some(0.0),
        "checkout → currency untouched"
    );
    clear(&lab, &id);
    until(
        &lab,
        20,
        from_frontend,
        |v| v == 0.0,
        "edge healthy after clear",
    );
}

#[test]
fn faults_outside_the_lab_are_refused_with_a_reason() {
    let lab = Lab::start("shop", &["--rps", "5"]);
    let post = |body: Value, token: bool| {
        let mut r = lab.http.post(format!("{}/api/faults", lab.url)).json(&body);
        if token {
            r = r.bearer_auth(lab.token());
        }
        let r = r.send().unwrap();
        (r.status().as_u16(), r.json::<Value>().unwrap_or_default())
    };
    for (body, want) in [
        (
            json!({"kind": "kill", "service": "postgres"}),
            "no service \"postgres\" in the shop lab",
        ),
        (
            json!({"kind": "cpu", "service": "cart", "instances": [7]}),
            "cart has no instance 7",
        ),
        (
            json!({"kind": "error", "service": "ad", "caller": "payment"}),
            "payment does not call ad",
        ),
        (
            json!({"kind": "error", "service": "ad", "route": "/admin"}),
            "ad has no route \"/admin\"",
        ),
        (
            json!({"kind": "disk", "service": "cart", "path": "/etc/passwd"}),
            "unknown field `path`",
        ),
        (
            json!({"kind": "kill", "service": "cart", "pid": 1}),
            "unknown field `pid`",
        ),
        (
            json!({"kind": "memory", "service": "cart", "cap_mb": 100000}),
            "memory: 1 to 256 MB/s",
        ),
        (
            json!({"kind": "latency", "service": "cart", "delay": "1s", "for": "2h"}),
            "from 1s to 1h",
        ),
    ] {
        let (status, v) = post(body.clone(), true);
        assert_eq!(status, 400, "{body} -> {v}");
        assert!(
            v["error"].as_str().unwrap_or("").contains(want),
            "{body}: {v}"
        );
    }
    let (status, _) = post(json!({"kind": "kill", "service": "cart"}), false);
    assert_eq!(status, 401, "no token, no fault");
    assert!(
        lab.get("/api/faults")["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let (ok, _, err) = lab.cli(&["fault", "inject", "cpu", "--service", "mysql"]);
    assert!(!ok && err.contains("no service \"mysql\""), "{err}");
}

#[test]
fn stopping_the_lab_mid_fault_leaves_nothing_behind() {
    let mut lab = shop();
    inject(
        &lab,
        json!({"kind": "cpu", "service": "checkout", "share": 0.5}),
    );
    inject(
        &lab,
        json!({"kind": "disk", "service": "email", "mb_per_s": 50, "size_mb": 20}),
    );
    inject(
        &lab,
        json!({"kind": "pause", "service": "currency", "instances": [1]}),
    );
    inject(
        &lab,
        json!({"kind": "memory", "service": "cart", "mb_per_s": 20, "cap_mb": 50}),
    );
    let dir = lab.data_dir().join(lab::runtime::faults::SPOOL_DIR);
    eventually(10, || {
        (std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0) > 0).then_some(())
    })
    .expect("the fill file exists");
    let pids = lab.pids();
    let (ok, out, err) = lab.cli(&["fault", "list"]);
    assert!(
        ok && out.contains("pause") && out.contains("cpu"),
        "{out}{err}"
    );
    let status = lab.stop().expect("lab stopped");
    assert!(status.success(), "clean exit: {status:?}\n{}", lab.log());
    for p in pids {
        assert!(!alive(p), "instance {p} outlived the lab");
    }
    assert_eq!(
        std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0),
        0,
        "no fill file left"
    );
    let log = lab.log();
    assert!(!log.contains("panicked"), "{log}");
}
