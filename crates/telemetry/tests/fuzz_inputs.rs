//! Property tests standing in for fuzzing (cargo-fuzz needs a nightly
//! toolchain): random and garbled PromQL through the HTTP API (parameters,
//! parse, evaluation over a tiny store), random test scripts through the
//! runner, and random or mutated exposition text through its parser. None
//! may panic, overflow the stack or hang; each answers with a result or a
//! clear error. Case counts are bounded so CI stays fast (raise them with
//! `PROPTEST_CASES=100000` for a longer local run).

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::Value;
use telemetry::api::PromApi;
use telemetry::exposition::{Format, parse, parse_auto};
use telemetry::model::{Appender, Labels, Sample};
use telemetry::promql::{Engine, EngineOptions};
use telemetry::tsdb::{Tsdb, TsdbOptions};

fn config(cases: u32) -> Config {
    Config {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(cases),
        failure_persistence: None,
        ..Config::default()
    }
}

/// The engine of every property: a short timeout bounds the cases that
/// generate endless queries (`x[1y:1ms]`); a 5xx other than the timeout's,
/// a panic or a hang still fails them.
fn engine() -> Engine {
    Engine::new(EngineOptions {
        timeout: Duration::from_millis(500),
        ..EngineOptions::default()
    })
}

/// A tiny store: two counters, a histogram and a gauge over 10 minutes.
fn tiny_store() -> Arc<Tsdb> {
    let db = Tsdb::in_memory(TsdbOptions {
        background: false,
        ..TsdbOptions::default()
    });
    let mut batch = Vec::new();
    for i in 0..40i64 {
        let t = i * 15_000;
        for (labels, v) in [
            (
                Labels::new([("__name__", "http_requests_total"), ("code", "200")]),
                i as f64 * 10.0,
            ),
            (
                Labels::new([("__name__", "http_requests_total"), ("code", "500")]),
                i as f64,
            ),
            (Labels::new([("__name__", "up"), ("job", "api")]), 1.0),
            (
                Labels::new([("__name__", "lat_bucket"), ("le", "0.1")]),
                i as f64 * 3.0,
            ),
            (
                Labels::new([("__name__", "lat_bucket"), ("le", "+Inf")]),
                i as f64 * 4.0,
            ),
        ] {
            batch.push((labels, Sample { t, v }));
        }
    }
    db.append(&batch).expect("append");
    Arc::new(db)
}

struct Server {
    url: String,
    client: reqwest::blocking::Client,
    _rt: tokio::runtime::Runtime,
}

/// One server for all cases of the API property (short query timeout).
fn server() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let api = PromApi {
            storage: tiny_store(),
            engine: engine(),
            targets: Arc::new(Vec::new),
            metadata: Arc::new(BTreeMap::new),
            tsdb_status: None,
            version: "test".into(),
            stopping: None,
        };
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        rt.spawn(async move { axum::serve(listener, api.router()).await });
        Server {
            url: format!("http://{addr}"),
            client: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client"),
            _rt: rt,
        }
    })
}

fn selector() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("up".to_string()),
        Just("http_requests_total{code=\"500\"}".to_string()),
        Just("http_requests_total{code=~\"5..|2.*\"}".to_string()),
        Just("lat_bucket".to_string()),
        Just("{__name__=~\".+\"}".to_string()),
        Just("nothing_here".to_string()),
        "[a-z_]{1,6}".prop_map(|s| s),
    ]
}

fn duration() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("1m".to_string()),
        Just("5m".to_string()),
        Just("15s".to_string()),
        Just("1ms".to_string()),
        Just("1y".to_string()),
        Just("0s".to_string()),
        (
            0u64..100_000,
            prop::sample::select(vec!["ms", "s", "m", "h", "d", "w", "y"])
        )
            .prop_map(|(n, u)| format!("{n}{u}")),
        // Plain numbers are seconds; the parser used to panic on huge ones.
        number(),
    ]
}

fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        (-1000i64..1000).prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| format!("{f}")),
        prop::sample::select(vec!["Inf", "-Inf", "NaN", "0x1f", "1e30", "-1e300", "0.5"])
            .prop_map(str::to_string),
    ]
}

fn expr() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        4 => selector(),
        2 => number(),
        1 => Just("time()".to_string()),
        1 => Just("vector(1)".to_string()),
        1 => Just("\"str\"".to_string()),
    ];
    leaf.prop_recursive(6, 48, 3, |inner| {
        let binop = prop::sample::select(vec![
            "+",
            "-",
            "*",
            "/",
            "%",
            "^",
            "==",
            "!=",
            ">",
            "<",
            ">=",
            "<=",
            "and",
            "or",
            "unless",
            "atan2",
            "> bool",
            "+ on(code)",
            "* ignoring(le) group_left",
            "/ on() group_right",
        ]);
        let func = prop::sample::select(vec![
            "abs",
            "ceil",
            "exp",
            "ln",
            "sqrt",
            "sort",
            "sort_desc",
            "timestamp",
            "scalar",
            "vector",
            "absent",
            "changes",
            "deriv",
            "rate",
            "irate",
            "increase",
            "delta",
            "resets",
            "sum_over_time",
            "avg_over_time",
            "max_over_time",
            "last_over_time",
            "absent_over_time",
            "stddev_over_time",
            "days_in_month",
            "year",
            "sgn",
        ]);
        let agg = prop::sample::select(vec![
            "sum",
            "avg",
            "min",
            "max",
            "count",
            "group",
            "stddev",
            "stdvar",
            "sum by (code)",
            "count without (le)",
            "max by (__name__)",
        ]);
        let param_agg = prop::sample::select(vec!["topk", "bottomk", "quantile", "limitk"]);
        prop_oneof![
            (inner.clone(), binop, inner.clone()).prop_map(|(a, op, b)| format!("{a} {op} {b}")),
            (func, inner.clone()).prop_map(|(f, a)| format!("{f}({a})")),
            (agg, inner.clone()).prop_map(|(g, a)| format!("{g}({a})")),
            (param_agg, number(), inner.clone()).prop_map(|(g, k, a)| format!("{g}({k}, {a})")),
            (inner.clone(), duration(), duration()).prop_map(|(a, r, s)| format!("({a})[{r}:{s}]")),
            (func_over_range(), selector(), duration())
                .prop_map(|(f, s, d)| format!("{f}({s}[{d}])")),
            (
                selector(),
                prop_oneof![3 => (0i64..600).prop_map(|t| t.to_string()), 1 => number()]
            )
                .prop_map(|(a, t)| format!("{a} @ {t}")),
            (selector(), duration()).prop_map(|(a, d)| format!("{a} offset -{d}")),
            inner.clone().prop_map(|a| format!("-({a})")),
            (number(), inner.clone())
                .prop_map(|(q, a)| format!("histogram_quantile({q}, rate({a}[5m]))")),
            inner
                .clone()
                .prop_map(|a| format!("label_replace({a}, \"x\", \"$1\", \"code\", \"(.*)\")")),
            inner.prop_map(|a| format!("count_values(\"v\", {a})")),
        ]
    })
}

fn func_over_range() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "rate",
        "increase",
        "predict_linear",
        "count_over_time",
        "min_over_time",
        "quantile_over_time",
    ])
}

/// Damage to a query: a byte removed, one of PromQL's special characters
/// inserted, or a piece repeated.
#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize),
    Insert(usize, char),
    Repeat(usize, usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let special: Vec<char> = "()[]{}\"'`@:+-*/^%,=~!<>#\\ \n.eE0123456789xInfa"
        .chars()
        .collect();
    prop_oneof![
        any::<usize>().prop_map(Mutation::Delete),
        (any::<usize>(), prop::sample::select(special)).prop_map(|(i, c)| Mutation::Insert(i, c)),
        (any::<usize>(), 1usize..8, 1usize..50).prop_map(|(i, l, n)| Mutation::Repeat(i, l, n)),
    ]
}

fn apply(s: &str, muts: &[Mutation]) -> String {
    let mut c: Vec<char> = s.chars().collect();
    for m in muts {
        match *m {
            Mutation::Delete(i) if !c.is_empty() => {
                c.remove(i % c.len());
            }
            Mutation::Delete(_) => {}
            Mutation::Insert(i, ch) => {
                let at = i % (c.len() + 1);
                c.insert(at, ch);
            }
            Mutation::Repeat(i, len, n) if !c.is_empty() => {
                let at = i % c.len();
                let end = (at + len).min(c.len());
                let piece: Vec<char> = c[at..end].to_vec();
                for _ in 0..n {
                    c.splice(at..at, piece.iter().copied());
                }
            }
            Mutation::Repeat(..) => {}
        }
    }
    c.into_iter().collect()
}

fn garbled_query() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => expr(),
        3 => (expr(), prop::collection::vec(mutation(), 1..6)).prop_map(|(e, m)| apply(&e, &m)),
        1 => "\\PC{0,40}".prop_map(|s| s),
    ]
}

fn time_param() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => (0i64..600).prop_map(|s| s.to_string()),
        1 => any::<f64>().prop_map(|f| format!("{f}")),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => prop::sample::select(vec![
            "-1e300", "1e300", "NaN", "-Inf", "1970-01-01T00:05:00Z", "9999-12-31T23:59:59Z",
            "-292273086-05-16T16:47:06Z", "292277025-08-18T07:12:54.999999999Z", "soon", "",
        ])
        .prop_map(str::to_string),
    ]
}

/// `start`, `end` and `step` of a range query: mostly a valid range.
fn range_params() -> impl Strategy<Value = (String, String, String)> {
    prop_oneof![
        4 => (0i64..600, 0i64..600, 1i64..120)
            .prop_map(|(s, len, step)| (s.to_string(), (s + len).to_string(), step.to_string())),
        1 => (time_param(), time_param(), step_param()),
    ]
}

fn step_param() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => (1i64..120).prop_map(|s| s.to_string()),
        1 => duration(),
        1 => any::<f64>().prop_map(|f| format!("{f}")),
        1 => prop::sample::select(vec!["0", "-1", "1e-9", "1e300", "148966367200.372"])
            .prop_map(str::to_string),
    ]
}

/// The answer is Prometheus's shape: success with data, or an error whose
/// type matches its status; never a 5xx but a timeout's 503.
fn check_answer(status: u16, body: &Value) -> Result<(), TestCaseError> {
    match body["status"].as_str() {
        Some("success") => prop_assert_eq!(status, 200, "{}", body),
        Some("error") => {
            let kind = body["errorType"].as_str().unwrap_or_default();
            let want = match kind {
                "bad_data" => 400,
                "execution" => 422,
                "timeout" => 503,
                _ => 0,
            };
            prop_assert_eq!(status, want, "{}", body);
            prop_assert!(
                !body["error"].as_str().unwrap_or_default().is_empty(),
                "{}",
                body
            );
        }
        _ => prop_assert!(false, "not Prometheus's shape: {} {}", status, body),
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn promql_api_answers_every_query(
        q in garbled_query(),
        time in time_param(),
        (start, end, step) in range_params(),
    ) {
        let s = server();
        for (path, form) in [
            ("/api/v1/query", vec![("query", q.as_str()), ("time", time.as_str())]),
            (
                "/api/v1/query_range",
                vec![("query", q.as_str()), ("start", start.as_str()), ("end", end.as_str()), ("step", step.as_str())],
            ),
            ("/api/v1/series", vec![("match[]", q.as_str()), ("start", start.as_str())]),
        ] {
            let r = s
                .client
                .post(format!("{}{path}", s.url))
                .form(&form)
                .send();
            let r = match r {
                Ok(r) => r,
                Err(e) => return Err(TestCaseError::fail(format!("{path} {q:?}: no answer: {e}"))),
            };
            let status = r.status().as_u16();
            let body: Value = r
                .json()
                .map_err(|e| TestCaseError::fail(format!("{path} {q:?}: {e}")))?;
            check_answer(status, &body)?;
        }
    }

    #[test]
    fn engine_takes_any_times(q in garbled_query(), t in any::<i64>(), a in any::<i64>(), b in any::<i64>(), step in any::<i64>()) {
        static DB: OnceLock<Arc<Tsdb>> = OnceLock::new();
        let db = DB.get_or_init(tiny_store);
        let e = engine();
        let _ = e.instant_query(&**db, &q, t);
        let _ = e.range_query(&**db, &q, a.min(b), a.max(b), step);
    }
}

/// Valid expositions in both formats, to mutate.
const TEXT: &str = "# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000
http_requests_total{method=\"post\",code=\"400\"}    3 1395066363000
msdos_file_access_time_seconds{path=\"C:\\\\DIR\\\\FILE.TXT\",error=\"Cannot find file:\\n\\\"FILE.TXT\\\"\"} 1.458255915e9
metric_without_timestamp_and_labels 12.47
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le=\"0.05\"} 24054
http_request_duration_seconds_bucket{le=\"+Inf\"} 144320
http_request_duration_seconds_sum 53423
http_request_duration_seconds_count 144320
# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile=\"0.5\"} 4773
rpc_duration_seconds_sum 1.7560473e+07
rpc_duration_seconds_count 2693
something_weird{problem=\"division by zero\"} +Inf -3982045
";

const OPENMETRICS: &str = "# TYPE acme_http_router_request_seconds summary
# UNIT acme_http_router_request_seconds seconds
# HELP acme_http_router_request_seconds Latency though all of ACME's HTTP request router.
acme_http_router_request_seconds_sum{path=\"/api/v1\",method=\"GET\"} 9036.32 1520879607.789
acme_http_router_request_seconds_count{path=\"/api/v1\",method=\"GET\"} 807283.0
# TYPE foo histogram
foo_bucket{le=\"0.0\"} 0
foo_bucket{le=\"1e-05\"} 0 # {trace_id=\"KOO5S4vxi0o\"} 0.67
foo_bucket{le=\"+Inf\"} 17
foo_count 17
foo_sum 324789.3
foo_created 1520430000.123
# TYPE enabled stateset
enabled{enabled=\"a\"} 1
# EOF
";

fn mutated_exposition() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec![TEXT, OPENMETRICS]),
        prop::collection::vec(mutation(), 1..10),
    )
        .prop_map(|(doc, m)| apply(doc, &m))
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn exposition_parser_takes_random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse_auto(&text);
        let _ = parse(&text, Format::PrometheusText);
        let _ = parse(&text, Format::OpenMetrics);
    }

    #[test]
    fn exposition_parser_takes_mutated_documents(text in mutated_exposition()) {
        for format in [Format::PrometheusText, Format::OpenMetrics] {
            if let Err(e) = parse(&text, format) {
                // Errors name a line of the input.
                let lines = text.split('\n').count();
                prop_assert!(e.line <= lines + 1, "line {} of {}: {}", e.line, lines, e);
            }
        }
        let _ = parse_auto(&text);
    }
}

fn script() -> impl Strategy<Value = String> {
    let base = "load 1m\n  a{job=\"x\"} 0+1x10 _ stale 5\n  b 1 2 3x4\n\neval instant at 5m a + b\n  {job=\"x\"} 7\n\neval range from 0 to 5m step 1m sum(a)\n  {} 0 1 2 3 4 5\n\neval_fail instant at 0 a[\n";
    (prop::collection::vec(mutation(), 1..6), garbled_query())
        .prop_map(move |(m, q)| format!("{}\neval instant at 1m {q}\n  {{}} 1\n", apply(base, &m)))
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn test_runner_takes_garbled_scripts(s in script()) {
        let r = telemetry::promqltest::run_script_with("fuzz.test", &s, &engine());
        prop_assert_eq!(r.failed, r.failures.len());
        prop_assert!(r.failures.iter().all(|(_, why)| !why.is_empty()), "{:?}", r.failures);
    }
}
