//! Nothing a user sends can crash, hang or wipe the lab (issue 11): deep and
//! long queries, times out of bounds, runaway ranges, test scripts that ask
//! for too much. Each case used to abort the process, hang or answer wrongly.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use telemetry::api::PromApi;
use telemetry::model::{Appender, Labels, Sample};
use telemetry::promql::{CancelToken, Engine, EngineOptions, QueryError};
use telemetry::promqltest::run_script;
use telemetry::tsdb::{Tsdb, TsdbOptions};

fn store() -> Arc<Tsdb> {
    let db = Tsdb::in_memory(TsdbOptions {
        background: false,
        ..TsdbOptions::default()
    });
    let batch: Vec<(Labels, Sample)> = (0..20i64)
        .map(|i| {
            (
                Labels::new([("__name__", "up"), ("job", "api")]),
                Sample {
                    t: i * 15_000,
                    v: 1.0,
                },
            )
        })
        .collect();
    db.append(&batch).unwrap();
    Arc::new(db)
}

struct Server {
    url: String,
    client: reqwest::blocking::Client,
    _rt: tokio::runtime::Runtime,
}

fn serve(engine: Engine) -> Server {
    serve_until(engine, None)
}

/// A server whose queries are cancelled when `stopping` is.
fn serve_until(engine: Engine, stopping: Option<tokio_util::sync::CancellationToken>) -> Server {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let api = PromApi {
        storage: store(),
        engine,
        targets: Arc::new(Vec::new),
        metadata: Arc::new(BTreeMap::new),
        tsdb_status: None,
        version: "test".into(),
        stopping,
    };
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(async move { axum::serve(listener, api.router()).await });
    Server {
        url: format!("http://{addr}"),
        client: reqwest::blocking::Client::new(),
        _rt: rt,
    }
}

impl Server {
    /// POSTs a form (long queries do not fit a URL) → (status, body).
    fn post(&self, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
        let r = self
            .client
            .post(format!("{}{path}", self.url))
            .form(form)
            .send()
            .expect("the server answers");
        (r.status().as_u16(), r.json().expect("a JSON body"))
    }

    fn alive(&self) {
        let (status, body) = self.post("/api/v1/query", &[("query", "1+1"), ("time", "0")]);
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["result"][1], "2");
    }
}

fn assert_bad_data(status: u16, body: &Value, needle: &str) {
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["errorType"], "bad_data", "{body}");
    let msg = body["error"].as_str().unwrap_or_default();
    assert!(msg.contains(needle), "{msg:?} lacks {needle:?}");
}

fn sum_of(n: usize) -> String {
    vec!["up"; n].join("+")
}

fn nested_calls(n: usize) -> String {
    format!("{}up{}", "abs(".repeat(n), ")".repeat(n))
}

#[test]
fn deep_queries_are_refused_and_the_server_lives_on() {
    let s = serve(Engine::default());
    let sum = sum_of(10_000);
    assert!(sum.len() > 29_000);
    for q in [
        sum,
        nested_calls(10_000),
        format!("{}up", "-".repeat(10_000)),
    ] {
        let (status, body) = s.post("/api/v1/query", &[("query", &q)]);
        assert_bad_data(status, &body, "nests too deeply");
        let (status, body) = s.post(
            "/api/v1/query_range",
            &[("query", &q), ("start", "0"), ("end", "60"), ("step", "15")],
        );
        assert_bad_data(status, &body, "nests too deeply");
        let (status, body) = s.post("/api/v1/series", &[("match[]", &q)]);
        assert_bad_data(status, &body, "nests too deeply");
        s.alive();
    }
    let long = format!("up{{job=\"{}\"}}", "x".repeat(200_000));
    let (status, body) = s.post("/api/v1/query", &[("query", &long)]);
    assert_bad_data(status, &body, "bytes long");
    s.alive();
}

#[test]
fn deep_queries_within_the_limit_still_evaluate() {
    // Test threads have 2 MiB stacks, which held about 100 levels of
    // evaluation in debug builds before deep trees got a thread of their own.
    let db = store();
    let e = Engine::default();
    let r = e.instant_query(&*db, &sum_of(900), 0).unwrap();
    match r.value {
        telemetry::promql::Value::Vector(v) => assert_eq!(v[0].v, 900.0),
        other => panic!("{other:?}"),
    }
    let q = format!("{}vector(-1){}", "abs(".repeat(500), ")".repeat(500));
    let r = e.range_query(&*db, &q, 0, 60_000, 15_000).unwrap();
    match r.value {
        telemetry::promql::Value::Matrix(m) => {
            assert_eq!(m[0].samples.len(), 5);
            assert!(m[0].samples.iter().all(|s| s.v == 1.0));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn times_out_of_bounds_are_refused() {
    let s = serve(Engine::default());
    // Used to overflow the point count, pass the 11,000-point check and run
    // for ever on a core.
    let (status, body) = s.post(
        "/api/v1/query_range",
        &[
            ("query", "up"),
            ("start", "-1e300"),
            ("end", "1e300"),
            ("step", "1"),
        ],
    );
    assert_bad_data(status, &body, "timestamp out of bounds");
    // Within bounds, but too many points: counted without overflow.
    let (status, body) = s.post(
        "/api/v1/query_range",
        &[
            ("query", "up"),
            ("start", "-9.2e15"),
            ("end", "9.2e15"),
            ("step", "1"),
        ],
    );
    assert_bad_data(
        status,
        &body,
        "exceeded maximum resolution of 11,000 points",
    );
    let (status, body) = s.post("/api/v1/query", &[("query", "up"), ("time", "1e300")]);
    assert_bad_data(status, &body, "timestamp out of bounds");
    // Prometheus refuses the @ timestamp; we used to answer 200 and nothing.
    let (status, body) = s.post("/api/v1/query", &[("query", "up @ 1e30")]);
    assert_bad_data(
        status,
        &body,
        "timestamp out of bounds for @ modifier: 1000000000000000019884624838656.000000",
    );
    // promql-parser panicked on numbers as durations that fit no duration.
    for q in [
        "rate(up[1e300])",
        "up offset Inf",
        "max_over_time(up[5m:NaN])",
    ] {
        let (status, body) = s.post("/api/v1/query", &[("query", q)]);
        assert_bad_data(status, &body, "duration out of range");
        let (status, body) = s.post("/api/v1/series", &[("match[]", q)]);
        assert_bad_data(status, &body, "duration out of range");
    }
    // Prometheus's web/api/v1 TestParseDuration: an overflowing step.
    let (status, body) = s.post(
        "/api/v1/query_range",
        &[
            ("query", "up"),
            ("start", "0"),
            ("end", "60"),
            ("step", "148966367200.372"),
        ],
    );
    assert_bad_data(status, &body, "overflows int64");
    s.alive();
}

#[test]
fn the_engine_refuses_ranges_it_cannot_count() {
    let db = store();
    let e = Engine::default();
    for (start, end, step) in [(i64::MIN, i64::MAX, 1), (0, 11_001, 1), (0, 1, -1)] {
        match e.range_query(&*db, "up", start, end, step) {
            Err(QueryError::BadData(_)) => {}
            other => panic!("{start}..{end}/{step}: {other:?}"),
        }
    }
    assert!(e.range_query(&*db, "up", 0, 11_000, 1).is_ok());
}

/// A query that would run for years: a subquery of 3·10¹⁰ steps.
const ENDLESS: &str = "count_over_time(vector(1)[1y:1ms])";

#[test]
fn every_query_has_a_deadline() {
    let db = store();
    let e = Engine::new(EngineOptions {
        timeout: Duration::from_millis(20),
        ..EngineOptions::default()
    });
    match e.instant_query(&*db, ENDLESS, 0) {
        Err(QueryError::Timeout) => {}
        other => panic!("{other:?}"),
    }
    let s = serve(e);
    let (status, body) = s.post("/api/v1/query", &[("query", ENDLESS)]);
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["errorType"], "timeout");
    assert_eq!(body["error"], "query timed out in expression evaluation");
    s.alive();
}

#[test]
fn a_long_subquery_hits_the_samples_limit_as_it_goes() {
    let db = store();
    let e = Engine::new(EngineOptions {
        max_samples: 10_000,
        ..EngineOptions::default()
    });
    // Its points used to be counted only once all 3·10¹⁰ were computed.
    match e.instant_query(&*db, ENDLESS, 0) {
        Err(QueryError::TooManySamples) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_canceled_query_stops() {
    let db = store();
    let e = Engine::default();
    let cancel = CancelToken::new();
    let stopper = {
        let cancel = cancel.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            cancel.cancel();
        })
    };
    // Without the cancel this runs into the default 2-minute timeout.
    match e.range_query_with(&*db, ENDLESS, 0, 60_000, 15_000, &cancel) {
        Err(QueryError::Canceled) => {}
        other => panic!("{other:?}"),
    }
    stopper.join().unwrap();
}

/// Issue 11: queries under way are cancelled when the server stops (the
/// lab's SIGINT), and their clients are told why.
#[test]
fn a_stopping_server_cancels_queries_under_way() {
    let stopping = tokio_util::sync::CancellationToken::new();
    let s = serve_until(Engine::default(), Some(stopping.clone()));
    let (url, client) = (s.url.clone(), s.client.clone());
    let asking = std::thread::spawn(move || {
        let r = client
            .post(format!("{url}/api/v1/query"))
            .form(&[("query", ENDLESS)])
            .send()
            .expect("an answer, not a cut connection");
        (r.status().as_u16(), r.json::<Value>().expect("a JSON body"))
    });
    std::thread::sleep(Duration::from_millis(200));
    stopping.cancel();
    // Without the cancel this runs into the default 2-minute timeout.
    let (status, body) = asking.join().unwrap();
    assert_eq!(status, 499, "{body}");
    assert_eq!(body["errorType"], "canceled");
    assert_eq!(body["error"], "query canceled: the server is stopping");
}

fn failures(script: &str) -> Vec<String> {
    let r = run_script("t.test", script);
    r.failures.into_iter().map(|(_, why)| why).collect()
}

#[test]
fn test_scripts_cannot_ask_for_too_much() {
    let f = failures("load -1m\n  a 1 2 3\n");
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].contains("invalid step definition \"-1m\""), "{f:?}");

    // Used to abort on a 4 GB allocation.
    let f = failures("load 1m\n  a 0+1x99999999999\n");
    assert!(f[0].contains("too many points"), "{f:?}");

    // Used to run 3·10¹⁰ steps.
    let f = failures("load 1m\n  a 1\n\neval range from 0 to 1y step 1ms a\n");
    assert!(f[0].contains("exceeded maximum resolution"), "{f:?}");

    // Deep queries fail their case instead of the process.
    let script = format!("eval instant at 0 {}\n  1\n", nested_calls(10_000));
    let f = failures(&script);
    assert!(f[0].contains("nests too deeply"), "{f:?}");

    // Prometheus's parser refuses the @ timestamp.
    let f = failures(
        "load 1m\n  a 1\n\neval_fail instant at 0 a @ 1e30\n  expect fail msg: timestamp out of bounds for @ modifier: 1000000000000000019884624838656.000000\n",
    );
    assert!(f.is_empty(), "{f:?}");
}
