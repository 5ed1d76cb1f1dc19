//! Every route of the control plane (`firedrill __routes`): a malformed
//! Authorization header on each guarded route, hostile bodies on each route
//! that takes one, and bad parameters and path values where a route has
//! them. (Wrong and missing tokens per role: `tests/access.rs`; PromQL's
//! limits in depth: `crates/telemetry/tests/hostile_input.rs`.)

use super::generate as g;
use super::runner::Case;

pub fn routes(bin: &str) -> Vec<(String, String, String)> {
    let out = std::process::Command::new(bin)
        .arg("__routes")
        .output()
        .expect("firedrill __routes");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut p = l.split(' ');
            Some((
                p.next()?.to_string(),
                p.next()?.to_string(),
                p.next()?.to_string(),
            ))
        })
        .collect()
}

/// Routes that take no input at all and change the lab when called: only
/// their header is tried (a body would be ignored and the call succeed).
/// (A body sent to them is never read: the server may answer and close the
/// connection while the client is still writing it.)
const NO_INPUT: &[(&str, &str)] = &[
    ("POST", "/api/lab/shutdown"),
    ("DELETE", "/api/faults"),
    ("DELETE", "/api/faults/{id}"),
    ("DELETE", "/api/v2/silence/{id}"),
    ("POST", "/api/drills/current/hint"),
    ("POST", "/api/drills/current/push-hint"),
    ("POST", "/api/drills/current/end"),
];

/// Path values naming nothing, or nothing sensible.
fn concrete(path: &str, id: &str) -> String {
    path.replace("{id}", id)
        .replace("{name}", "nobody")
        .replace("{action}", "ack")
}

/// Hostile bodies for a route that reads one; (what, content type, body).
fn bodies() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let json = "application/json";
    vec![
        ("not-json", json, b"{not json".to_vec()),
        ("binary", json, g::binary(2048)),
        (
            "non-utf8-string",
            json,
            [&b"{\"a\": \""[..], &[0xff, 0xfe], &b"\"}"[..]].concat(),
        ),
        ("deep", json, g::deep_json(100_000)),
        // Just under the server's 2 MiB body limit, so that it is read and
        // answered (beyond it the server answers 413 and closes the
        // connection while the client may still be writing).
        (
            "huge",
            json,
            format!("{{\"a\": \"{}\"}}", "x".repeat((2 << 20) - 100)).into_bytes(),
        ),
        (
            "overflowing-number",
            json,
            b"{\"rps\": 1e400, \"instances\": 18446744073709551616, \"id\": 99999999999999999999}"
                .to_vec(),
        ),
        ("wrong-type", json, b"[1, 2, 3]".to_vec()),
        ("text-plain", "text/plain", b"{\"kind\": \"kill\"}".to_vec()),
    ]
}

/// Bad parameters of GET routes, and what the answer must name.
fn parameters() -> Vec<(&'static str, String, Vec<&'static str>)> {
    let far = "start=-1e300&end=1e300&step=1";
    vec![
        ("/api/v1/query", "query=".into(), vec!["query"]),
        (
            "/api/v1/query",
            format!("query={}", g::sum_of(10_000)),
            vec!["query"],
        ),
        (
            "/api/v1/query",
            format!("query={}", g::nested_calls(10_000)),
            vec!["query"],
        ),
        (
            "/api/v1/query",
            "query=up%20%40%201e30".into(),
            vec!["timestamp"],
        ),
        ("/api/v1/query", "query=up&time=1e400".into(), vec!["time"]),
        ("/api/v1/query", "query=up&time=NaN".into(), vec!["time"]),
        (
            "/api/v1/query",
            "query=rate(up%5B1e300s%5D)".into(),
            vec!["duration"],
        ),
        ("/api/v1/query", "query=%FF%FE".into(), vec!["query"]),
        (
            "/api/v1/query_range",
            format!("query=up&{far}"),
            vec!["start"],
        ),
        (
            "/api/v1/query_range",
            "query=up&start=0&end=60&step=0".into(),
            vec!["step"],
        ),
        (
            "/api/v1/query_range",
            "query=up&start=0&end=1e9&step=1ms".into(),
            vec!["points"],
        ),
        (
            "/api/v1/query_range",
            "query=up&start=60&end=0&step=1".into(),
            vec!["end"],
        ),
        ("/api/v1/series", "match[]=%7B".into(), vec!["match"]),
        (
            "/api/v1/series",
            "match[]=up&start=abc".into(),
            vec!["start"],
        ),
        ("/api/v1/labels", "start=abc".into(), vec!["start"]),
        ("/api/v1/labels", "match[]=%7B%7D".into(), vec!["match"]),
        (
            "/api/v1/label/{name}/values",
            "start=1e400".into(),
            vec!["start"],
        ),
        (
            "/api/v1/query_exemplars",
            "query=up&start=abc&end=1".into(),
            vec!["start"],
        ),
        ("/api/lab/notifications", "limit=abc".into(), vec!["limit"]),
        ("/api/lab/notifications", "limit=0".into(), vec!["limit"]),
        (
            "/api/lab/notifications",
            "limit=99999999999999999999".into(),
            vec!["limit"],
        ),
        ("/api/lab/notifications", "before=-1".into(), vec!["before"]),
        ("/api/events", "since=abc".into(), vec!["since"]),
        ("/api/events", "limit=-1".into(), vec!["limit"]),
        (
            "/api/events",
            "limit=99999999999999999999".into(),
            vec!["limit"],
        ),
        (
            "/api/events",
            "until=99999-01-01T00:00:00Z".into(),
            vec!["until"],
        ),
        ("/api/events/stream", "after=abc".into(), vec!["after"]),
        ("/api/oncall/who", "at=garbage".into(), vec!["at"]),
        (
            "/api/oncall/who",
            "at=99999-01-01T00:00:00Z".into(),
            vec!["at"],
        ),
        ("/api/oncall/schedule", "from=garbage".into(), vec!["from"]),
        (
            "/api/oncall/schedule",
            "from=2026-01-01T00:00:00Z&to=9999-01-01T00:00:00Z".into(),
            vec!["400 days"],
        ),
        (
            "/api/oncall/calendar.ics",
            "from=garbage".into(),
            vec!["from"],
        ),
        (
            "/api/oncall/reports/handoff",
            "from=garbage".into(),
            vec!["from"],
        ),
        (
            "/api/oncall/reports/load",
            "from=garbage".into(),
            vec!["from"],
        ),
        ("/api/pages", "status=bogus".into(), vec!["status"]),
        ("/api/tickets", "status=bogus".into(), vec!["status"]),
    ]
}

/// Every HTTP case for the routes the binary serves.
pub fn cases(bin: &str) -> Vec<Case> {
    let mut out = Vec::new();
    let all = routes(bin);
    for (method, path, access) in &all {
        let url = concrete(path, "999999");
        let name = |what: &str| format!("http/{method} {path}/{what}");
        if access != "Public" {
            // A header that is not `Bearer <token>`: refused, said why.
            out.push(
                Case::http(
                    &name("auth-non-ascii"),
                    method,
                    &url,
                    Vec::new(),
                    &["Authorization"],
                )
                .authorization(vec![b'B', b'e', b'a', b'r', b'e', b'r', b' ', 0xff, 0xfe]),
            );
            out.push(
                Case::http(
                    &name("auth-basic"),
                    method,
                    &url,
                    Vec::new(),
                    &["Authorization"],
                )
                .authorization(b"Basic dXNlcjpwYXNz".to_vec()),
            );
        } else {
            // Public expositions take no input: a method they do not serve.
            out.push(Case::http(
                &name("wrong-method"),
                "PUT",
                &url,
                Vec::new(),
                &[],
            ));
        }
        if method != "GET" && !NO_INPUT.contains(&(method.as_str(), path.as_str())) {
            for (what, ct, body) in bodies() {
                out.push(Case::http(&name(what), method, &url, body, &[]).content_type(ct));
            }
        }
        if path.contains("{id}") {
            for id in ["abc", "99999999999999999999", "-1", "%FF%FE"] {
                out.push(Case::http(
                    &name(&format!("id-{id}")),
                    method,
                    &concrete(path, id),
                    b"{}".to_vec(),
                    &[],
                ));
            }
        }
        if path.contains("{action}") {
            out.push(Case::http(
                &name("action-explode"),
                method,
                &path.replace("{id}", "1").replace("{action}", "explode"),
                b"{}".to_vec(),
                &["explode"],
            ));
        }
    }
    for (path, query, needles) in parameters() {
        assert!(
            all.iter().any(|(_, p, _)| p == path),
            "{path} is not a route any more"
        );
        let url = format!("{}?{query}", concrete(path, "999999"));
        let shown: String = query.chars().take(40).collect();
        out.push(Case::http(
            &format!("http/GET {path}/{shown}"),
            "GET",
            &url,
            Vec::new(),
            &needles,
        ));
    }
    // Issue 11: the token is checked before a broken body is read.
    out.push(
        Case::http(
            "http/POST /api/faults/no-token-broken-body",
            "POST",
            "/api/faults",
            b"{broken".to_vec(),
            &["token"],
        )
        .authorization(b"Bearer not-a-token".to_vec()),
    );
    out
}
