//! The lab's monitoring end to end: scraping into the store, the Prometheus
//! API on the control plane, and history kept across a restart.

mod common;

use std::time::Duration;

use common::{Lab, eventually};
use serde_json::Value;

fn series(lab: &Lab, selector: &str, start: f64, end: f64) -> Vec<Value> {
    let r: Value = lab
        .http
        .get(format!("{}/api/v1/series", lab.url))
        .query(&[
            ("match[]", selector),
            ("start", &start.to_string()),
            ("end", &end.to_string()),
        ])
        .send()
        .and_then(|r| r.json())
        .unwrap_or(Value::Null);
    r["data"].as_array().cloned().unwrap_or_default()
}

fn now() -> f64 {
    chrono::Utc::now().timestamp_millis() as f64 / 1000.0
}

#[test]
fn targets_are_scraped_and_history_survives_a_restart() {
    let lab = Lab::start("shop", &["--rps", "10"]);
    let t0 = now();
    // Every instance, the load generator and the control plane are targets, all up.
    let targets = eventually(20, || {
        let r = lab.get("/api/v1/targets");
        let active = r["data"]["activeTargets"].as_array()?.clone();
        (active.len() == 18 && active.iter().all(|t| t["health"] == "up")).then_some(active)
    });
    let targets =
        targets.unwrap_or_else(|| panic!("targets never all up: {}", lab.get("/api/v1/targets")));
    assert!(targets.iter().any(|t| t["labels"]["job"] == "loadgen"));
    // Scraped series carry job and instance; scrape-made series exist.
    let up = eventually(10, || {
        let s = series(&lab, "up", t0 - 10.0, now() + 1.0);
        (s.len() == 18).then_some(s)
    })
    .expect("18 `up` series");
    assert!(
        up.iter()
            .all(|s| s["job"].is_string() && s["instance"].is_string())
    );
    let wanted = [
        "http_server_request_duration_seconds_bucket",
        "http_client_request_duration_seconds_count",
        "loadgen_journeys_total",
        "process_resident_memory_bytes",
        "scrape_duration_seconds",
        "scrape_samples_scraped",
        "service_version_info",
    ];
    let names = || -> Vec<String> {
        let v = lab.get("/api/v1/label/__name__/values");
        v["data"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    };
    let all = eventually(15, || {
        let n = names();
        wanted.iter().all(|w| n.iter().any(|x| x == w)).then_some(n)
    });
    assert!(all.is_some(), "missing some of {wanted:?} in {:?}", names());
    let meta = lab.get("/api/v1/metadata?metric=http_server_request_duration_seconds");
    assert_eq!(
        meta["data"]["http_server_request_duration_seconds"][0]["type"], "histogram",
        "{meta}"
    );
    std::thread::sleep(Duration::from_secs(2));
    let t1 = now();

    // Restart on the same data dir: the series of the first run are still there.
    let lab = lab.restart("shop", &["--rps", "10"]);
    let before = series(&lab, "loadgen_journeys_total", t0, t1);
    assert!(
        !before.is_empty(),
        "history before the restart is gone; log:\n{}",
        lab.log()
    );
    let old = series(&lab, "up", t0, t1);
    assert!(
        old.len() >= 18,
        "only {} `up` series of the first run",
        old.len()
    );
}

#[test]
fn operations_land_in_the_journal_and_stream_live() {
    let lab = Lab::start("shop", &["--rps", "5"]);
    // Live: the stream delivers an operation as it happens.
    let url = format!("{}/api/events/stream?kind=service.scaled", lab.url);
    let reader = std::thread::spawn(move || {
        use std::io::{BufRead, BufReader};
        let resp = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap()
            .get(url)
            .send()
            .unwrap();
        for line in BufReader::new(resp).lines() {
            let line = line.unwrap_or_default();
            if let Some(data) = line.strip_prefix("data:") {
                return Some(serde_json::from_str::<Value>(data.trim()).unwrap());
            }
        }
        None
    });
    std::thread::sleep(Duration::from_millis(500));
    let r = lab.post(
        "/api/lab/scale",
        serde_json::json!({"service": "ad", "instances": 2}),
    );
    assert_eq!(r["status"], "success", "{r}");
    let streamed = reader.join().unwrap().expect("an event on the stream");
    assert!(
        streamed["kind"]
            .as_str()
            .unwrap()
            .starts_with("service.scaled"),
        "{streamed}"
    );
    // Stored: the journal lists it with filters.
    let listed = eventually(10, || {
        let v = lab.get("/api/events?kind=service.scale&subject=ad");
        let list = v["data"].as_array()?.clone();
        (!list.is_empty()).then_some(list)
    })
    .expect("the scale operation is in the journal");
    assert_eq!(listed[0]["subject"], "ad");
    assert!(lab.data_dir().join("firedrill.db").exists());
}
