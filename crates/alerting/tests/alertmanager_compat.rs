//! Alertmanager compatibility, case by case from Alertmanager's own tests:
//! config/config_test.go and config/testdata/* (good files load, or are
//! refused only for receiver types we do not support; bad files are refused
//! naming the same problem), dispatch/route_test.go (receivers and route
//! keys, in order), and the grouping rule of dispatch/dispatch.go (groups
//! per route). The YAML below is our own, written from those cases.

use std::collections::BTreeMap;

use alerting::route::dispatch::Dispatcher;
use alerting::route::parse_config;
use alerting::route::silence::Silences;
use alerting::rules::OutgoingAlert;
use chrono::{Duration, TimeZone, Utc};

fn problems(yaml: &str) -> Vec<String> {
    match parse_config(yaml, "am.yml") {
        Ok(_) => Vec::new(),
        Err(e) => e.problems.iter().map(|p| p.to_string()).collect(),
    }
}

fn refused_with(yaml: &str, want: &str) {
    let ps = problems(yaml);
    assert!(
        ps.iter().any(|p| p.contains(want)),
        "expected {want:?}, got {ps:?} for\n{yaml}"
    );
    // Every problem is located: file:line:column.
    for p in &ps {
        let mut parts = p.splitn(4, ':');
        assert_eq!(parts.next(), Some("am.yml"), "{p}");
        let line: u64 = parts.next().and_then(|l| l.parse().ok()).unwrap_or(0);
        assert!(line > 0, "no line in {p}");
    }
}

const RX: &str = "receivers:\n  - name: team-X\n";

/// config_test.go: one case per test function that refuses a config.
#[test]
fn bad_configs_are_refused_naming_the_problem() {
    let cases: Vec<(String, &str)> = vec![
        ("".into(), "no route provided in config"),
        (format!("route:\n  group_by: [alertname]\n{RX}"), "root route must specify a default receiver"),
        (
            "route:\n  receiver: team-X\nreceivers:\n  - name: team-X\n  - name: team-X\n".into(),
            "notification config name \"team-X\" is not unique",
        ),
        (
            "route:\n  receiver: team-Y\nreceivers:\n  - name: team-Y\n  - name: team-Z\nxx: 1\n".into(),
            "unknown field",
        ),
        ("route:\n  receiver: team-X\nreceivers:\n  - name: team-Y\n".into(), "undefined receiver \"team-X\" used in route"),
        (
            format!("route:\n  receiver: team-X\n  routes:\n    - match: {{foo: bar}}\n      routes:\n        - receiver: nonexistent\n{RX}"),
            "undefined receiver \"nonexistent\" used in route",
        ),
        ("route:\n  receiver: team-X\nreceivers:\n  - email_configs: []\n".into(), "missing name in receiver"),
        (
            format!("route:\n  receiver: team-X\n  routes:\n    - receiver: team-X\n      mute_time_intervals: [business_hours]\n{RX}"),
            "undefined time interval \"business_hours\" used in route",
        ),
        (
            format!("route:\n  receiver: team-X\n  routes:\n    - receiver: team-X\n      active_time_intervals: [business_hours]\n{RX}"),
            "undefined time interval \"business_hours\" used in route",
        ),
        (
            format!("time_intervals:\n  - time_intervals:\n      - times: [{{start_time: '09:00', end_time: '17:00'}}]\nroute:\n  receiver: team-X\n{RX}"),
            "missing name in time interval",
        ),
        (
            format!("mute_time_intervals:\n  - name: duplicate\n    time_intervals: [{{weekdays: [monday]}}]\n  - name: duplicate\n    time_intervals: [{{weekdays: [tuesday]}}]\nroute:\n  receiver: team-X\n{RX}"),
            "mute time interval \"duplicate\" is not unique",
        ),
        (format!("route:\n  receiver: team-X\n  group_by: [alertname, cluster, service, cluster]\n{RX}"), "duplicated label \"cluster\" in group_by"),
        (
            format!("route:\n  receiver: team-X\n  group_by: [alertname, cluster, '...']\n{RX}"),
            "cannot have wildcard group_by (`...`) and other labels at the same time",
        ),
        (format!("route:\n  receiver: team-X\n  group_by: ['-invalid-']\n{RX}"), "invalid label name \"-invalid-\" in group_by list"),
        (RX.to_string(), "no routes provided"),
        (
            format!("time_intervals:\n  - name: business_hours\n    time_intervals: [{{weekdays: ['monday:friday']}}]\nroute:\n  receiver: team-X\n  mute_time_intervals: [business_hours]\n{RX}"),
            "root route must not have any mute time intervals",
        ),
        (
            format!("time_intervals:\n  - name: business_hours\n    time_intervals: [{{weekdays: ['monday:friday']}}]\nroute:\n  receiver: team-X\n  active_time_intervals: [business_hours]\n{RX}"),
            "root route must not have any active time intervals",
        ),
        (format!("route:\n  receiver: team-X\n  match: {{severity: critical}}\n{RX}"), "root route must not have any matchers"),
        (format!("route:\n  receiver: team-X\n  match_re: {{severity: crit.*}}\n{RX}"), "root route must not have any matchers"),
        (format!("route:\n  receiver: team-X\n  matchers: ['severity=critical']\n{RX}"), "root route must not have any matchers"),
        (format!("route:\n  receiver: team-X\n  continue: true\n{RX}"), "cannot have continue in root route"),
        (format!("route:\n  receiver: team-X\n  group_interval: 0s\n{RX}"), "group_interval cannot be zero"),
        (format!("route:\n  receiver: team-X\n  repeat_interval: 0s\n{RX}"), "repeat_interval cannot be zero"),
        // testdata/conf.nil-match_re-route.yml and the inhibition twins.
        (
            "route:\n  receiver: empty\n  routes:\n    - match_re:\n        invalid_label:\n      receiver: empty\nreceivers:\n  - name: empty\n".into(),
            "invalid_label",
        ),
        (
            "route:\n  receiver: empty\nreceivers:\n  - name: empty\ninhibit_rules:\n  - source_match_re:\n      invalid_source_label:\n    target_match_re:\n      severity: critical\n".into(),
            "invalid_source_label",
        ),
        (
            "route:\n  receiver: empty\nreceivers:\n  - name: empty\ninhibit_rules:\n  - source_match_re:\n      severity: critical\n    target_match_re:\n      invalid_target_label:\n".into(),
            "invalid_target_label",
        ),
        // testdata/conf.smtp-both-password-and-file.yml
        (
            format!("global:\n  smtp_smarthost: 'localhost:25'\n  smtp_from: am@example.org\n  smtp_auth_password: pw\n  smtp_auth_password_file: /tmp/pw\nroute:\n  receiver: team-X\n{RX}"),
            "at most one of smtp_auth_password & smtp_auth_password_file must be configured",
        ),
        // TestSecretTemplURL: a URL needs http(s) and a host.
        (
            "route:\n  receiver: w\nreceivers:\n  - name: w\n    webhook_configs:\n      - url: example.com/webhook\n".into(),
            "unsupported scheme \"\" for URL",
        ),
        (
            "route:\n  receiver: w\nreceivers:\n  - name: w\n    webhook_configs:\n      - url: ftp://example.com/webhook\n".into(),
            "unsupported scheme \"ftp\" for URL",
        ),
        ("route:\n  receiver: w\nreceivers:\n  - name: w\n    webhook_configs:\n      - send_resolved: true\n".into(), "one of url or url_file must be configured"),
        // TestSecretTemplURL: a templated URL is checked for its syntax only.
        (
            "route:\n  receiver: w\nreceivers:\n  - name: w\n    webhook_configs:\n      - url: 'http://example.com/{{ .Invalid'\n".into(),
            "invalid template syntax",
        ),
        // HostPort: a smarthost needs a port.
        (
            "route:\n  receiver: m\nreceivers:\n  - name: m\n    email_configs:\n      - to: a@example.org\n        from: b@example.org\n        smarthost: localhost\n".into(),
            "missing port in address",
        ),
        (
            "route:\n  receiver: m\nreceivers:\n  - name: m\n    email_configs:\n      - to: a@example.org\n        from: b@example.org\n        smarthost: 'localhost:'\n".into(),
            "port cannot be empty",
        ),
        // No global defaults to fall back on.
        (
            "global:\n  smtp_smarthost: 'localhost:25'\nroute:\n  receiver: m\nreceivers:\n  - name: m\n    email_configs:\n      - to: a@example.org\n".into(),
            "no global SMTP from set",
        ),
        (
            "route:\n  receiver: m\nreceivers:\n  - name: m\n    email_configs:\n      - to: a@example.org\n        from: b@example.org\n".into(),
            "no global SMTP smarthost set",
        ),
        (
            "route:\n  receiver: s\nreceivers:\n  - name: s\n    slack_configs:\n      - channel: '#x'\n".into(),
            "no Slack API URL nor App token set either inline or in a file",
        ),
        (
            "route:\n  receiver: p\nreceivers:\n  - name: p\n    pagerduty_configs:\n      - severity: critical\n".into(),
            "missing service or routing key in PagerDuty config",
        ),
        // Matchers: Alertmanager's parse errors.
        (
            format!("route:\n  receiver: team-X\n  routes:\n    - matchers: ['job=\"value']\n{RX}"),
            "matcher value contains unescaped double quote: \"value",
        ),
        (
            format!("route:\n  receiver: team-X\n  routes:\n    - matchers: ['foo=~\"invalid[regexp\"']\n{RX}"),
            "error parsing regexp",
        ),
        (format!("route:\n  receiver: team-X\n  routes:\n    - match: {{'-bad': x}}\n{RX}"), "invalid label name \"-bad\""),
        // testdata/conf.slack-both-url-and-token.yml, conf.slack-update-message-and-webhook.yml
        (
            "global:\n  slack_app_token: 'xoxb-1234-abcdefgh'\n  slack_api_url: 'https://hooks.slack.com/services/T0/B0/X'\nroute:\n  receiver: s\nreceivers:\n  - name: s\n    slack_configs:\n      - channel: '#alerts1'\n".into(),
            "at most one of slack_app_token/slack_app_token_file & slack_api_url/slack_api_url_file must be configured",
        ),
        (
            "route:\n  receiver: s\nreceivers:\n  - name: s\n    slack_configs:\n      - channel: '#alerts1'\n        api_url: 'https://hooks.slack.com/services/T0/B0/X'\n        update_message: true\n".into(),
            "update_message can only be used with bot tokens. api_url must be set to https://slack.com/api/chat.postMessage",
        ),
        // testdata/conf.slack-default-app-token.yml: Slack's app API is a
        // feature we do not have, refused by name.
        (
            "global:\n  slack_app_token: 'xoxb-1234-abcdefgh'\nroute:\n  receiver: s\nreceivers:\n  - name: s\n    slack_configs:\n      - channel: '#alerts1'\n".into(),
            "Slack app tokens (chat.postMessage) are not supported",
        ),
        // A global key Alertmanager does not know.
        (format!("global:\n  smtp_fromm: x\nroute:\n  receiver: team-X\n{RX}"), "unknown field"),
    ];
    for (yaml, want) in &cases {
        refused_with(yaml, want);
    }
}

#[test]
fn unsupported_receiver_types_are_named_not_listed_as_serde_fields() {
    let yaml = "route:\n  receiver: ops\nreceivers:\n  - name: ops\n    opsgenie_configs:\n      - api_key: secret\n    msteams_configs:\n      - webhook_url: https://example.org/x\n";
    let ps = problems(yaml);
    assert_eq!(ps.len(), 2, "{ps:?}");
    assert_eq!(
        ps[0],
        "am.yml:6:7: receivers[0].opsgenie_configs: receiver type opsgenie is not supported (supported: email, pagerduty, slack, webhook)"
    );
    assert!(ps[1].starts_with(
        "am.yml:8:7: receivers[0].msteams_configs: receiver type msteams is not supported"
    ));
}

/// config/testdata good files, adapted: each loads, or is refused only for
/// receiver types we do not support.
#[test]
fn good_configs_load() {
    // conf.good.yml: global SMTP and Slack defaults used by receivers that
    // do not repeat them; source_match/target_match inhibition.
    let good = r#"
global:
  smtp_smarthost: 'localhost:25'
  smtp_from: 'alertmanager@example.org'
  smtp_auth_username: 'alertmanager'
  smtp_auth_password: "multiline\nmysecret"
  smtp_hello: "host.example.org"
  slack_api_url: "http://mysecret.example.com/"
  http_config:
    proxy_url: 'http://127.0.0.1:1025'
templates:
  - '/etc/alertmanager/template/*.tmpl'
route:
  group_by: ['alertname', 'cluster', 'service']
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 3h
  receiver: team-X-mails
  routes:
    - match_re:
        service: ^(foo1|foo2|baz)$
      receiver: team-X-mails
      routes:
        - match:
            severity: critical
          receiver: team-X-pager
    - match:
        service: database
      receiver: team-DB-pager
      group_by: [alertname, cluster, database]
      routes:
        - match:
            owner2: team-X
          receiver: team-X-pager
          continue: true
inhibit_rules:
  - source_match:
      severity: 'critical'
    target_match:
      severity: 'warning'
    equal: ['alertname', 'cluster', 'service']
receivers:
  - name: 'team-X-mails'
    email_configs:
      - to: 'team-X+alerts@example.org'
  - name: 'team-X-pager'
    email_configs:
      - to: 'team-X+alerts-critical@example.org'
    pagerduty_configs:
      - routing_key: "mysecret"
  - name: 'team-DB-pager'
    pagerduty_configs:
      - routing_key: "mysecret"
  - name: slack-receiver
    slack_configs:
      - channel: '#my-channel'
        image_url: 'http://some.img.com/img.png'
"#;
    let c = parse_config(good, "good.yml").unwrap();
    let mail = &c.receivers["team-X-mails"].email[0];
    assert_eq!(mail.from, "alertmanager@example.org");
    assert_eq!(mail.smarthost, "localhost:25");
    assert_eq!(
        c.receivers["slack-receiver"].slack[0].api_url,
        "http://mysecret.example.com/"
    );
    assert_eq!(
        c.receivers["team-DB-pager"].pagerduty[0].url,
        "https://events.pagerduty.com/v2/enqueue"
    );
    assert_eq!(c.inhibit[0].source[0].to_string(), "severity=\"critical\"");
    assert_eq!(c.inhibit[0].target[0].to_string(), "severity=\"warning\"");
    // What is accepted but not applied is said, with its place.
    assert!(
        c.notes.iter().any(|n| n.field == "global.http_config"),
        "{:?}",
        c.notes
    );

    // The same file with conf.good.yml's other receivers: refused only for those.
    let more = format!(
        "{good}  - name: victorOps-receiver\n    victorops_configs:\n      - api_key: mysecret\n        routing_key: Sample_route\n  - name: opsGenie-receiver\n    opsgenie_configs:\n      - api_key: mysecret\n  - name: pushover-receiver\n    pushover_configs:\n      - token: mysecret\n        user_key: key\n"
    );
    let ps = problems(&more);
    assert_eq!(ps.len(), 3, "{ps:?}");
    assert!(
        ps.iter()
            .all(|p| p.contains("is not supported (supported: email, pagerduty, slack, webhook)"))
    );

    // conf.group-by-all.yml, conf.http-config.good.yml, conf.empty-fields.yml,
    // conf.smtp-no-username-or-password.yml, conf.smtp-password-global-and-local.yml.
    let others = [
        "route:\n  group_by: ['...']\n  group_wait: 30s\n  group_interval: 5m\n  repeat_interval: 3h\n  receiver: team-X\nreceivers:\n  - name: 'team-X'\n",
        "global:\n  slack_api_url: 'https://slack.com/webhook'\n  http_config:\n    follow_redirects: false\nroute:\n  receiver: team-X-slack\nreceivers:\n  - name: 'team-X-slack'\n    slack_configs:\n      - http_config:\n          proxy_url: foo\n",
        "global:\n  smtp_smarthost: 'localhost:25'\n  smtp_from: 'alertmanager@example.org'\n  smtp_auth_username: ''\n  smtp_auth_password: ''\n  smtp_hello: ''\n  slack_api_url: 'https://slack.com/webhook'\ntemplates:\n  - '/etc/alertmanager/template/*.tmpl'\nroute:\n  group_by: ['alertname', 'cluster', 'service']\n  receiver: team-X-mails\n  routes:\n    - match_re:\n        service: ^(foo1|foo2|baz)$\n      receiver: team-X-mails\nreceivers:\n  - name: 'team-X-mails'\n    email_configs:\n      - to: 'team-X+alerts@example.org'\n",
        "global:\n  smtp_smarthost: 'localhost:25'\n  smtp_from: 'alertmanager@example.org'\n  smtp_hello: \"host.example.org\"\nroute:\n  receiver: 'email-notifications'\nreceivers:\n  - name: 'email-notifications'\n    email_configs:\n      - to: 'one@example.org'\n",
        "global:\n  smtp_smarthost: 'localhost:25'\n  smtp_from: 'alertmanager@example.org'\n  smtp_auth_username: 'globaluser'\n  smtp_auth_password_file: '/tmp/globaluserpassword'\n  smtp_auth_secret_file: '/tmp/globalusersecret'\n  smtp_hello: \"host.example.org\"\nroute:\n  receiver: 'email-notifications'\nreceivers:\n  - name: 'email-notifications'\n    email_configs:\n      - to: 'one@example.org'\n      - to: 'two@example.org'\n        auth_username: 'localuser1'\n        auth_password_file: '/tmp/localuser1password'\n      - to: 'three@example.org'\n        auth_username: 'localuser2'\n        auth_password: 'mysecret'\n",
    ];
    for y in others {
        if let Err(e) = parse_config(y, "good.yml") {
            panic!("{e}\n{y}");
        }
    }
}

/// dispatch/route_test.go TestRouteMatch: its tree, its label sets, its
/// receivers and route keys in order.
const ROUTE_TREE: &str = r#"
route:
  receiver: 'notify-def'
  routes:
  - match:
      owner: 'team-A'
    receiver: 'notify-A'
    routes:
    - match:
        env: 'testing'
      receiver: 'notify-testing'
      group_by: [...]
    - match:
        env: "production"
      receiver: 'notify-productionA'
      group_wait: 1m
      continue: true
    - match_re:
        env: "produ.*"
        job: ".*"
      receiver: 'notify-productionB'
      group_wait: 30s
      group_interval: 5m
      repeat_interval: 1h
      group_by: ['job']
  - match_re:
      owner: 'team-(B|C)'
    group_by: ['foo', 'bar']
    group_wait: 2m
    receiver: 'notify-BC'
  - match:
      group_by: 'role'
    group_by: ['role']
    routes:
    - match:
        env: 'testing'
      receiver: 'notify-testing'
      routes:
      - match:
          wait: 'long'
        group_wait: 2m
receivers:
  - name: notify-def
  - name: notify-A
  - name: notify-testing
  - name: notify-productionA
  - name: notify-productionB
  - name: notify-BC
"#;

pub fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn route_tree_matches_as_alertmanager() {
    let c = parse_config(ROUTE_TREE, "tree.yml").unwrap();
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a [(&'a str, &'a str, u64)]);
    let cases: &[Case] = &[
        (
            &[("owner", "team-A")],
            &[("notify-A", "{}/{owner=\"team-A\"}", 30)],
        ),
        (
            &[("owner", "team-A"), ("env", "unset")],
            &[("notify-A", "{}/{owner=\"team-A\"}", 30)],
        ),
        (
            &[("owner", "team-C")],
            &[("notify-BC", "{}/{owner=~\"^(?:team-(B|C))$\"}", 120)],
        ),
        (
            &[("owner", "team-A"), ("env", "testing")],
            &[(
                "notify-testing",
                "{}/{owner=\"team-A\"}/{env=\"testing\"}",
                30,
            )],
        ),
        (
            &[("owner", "team-A"), ("env", "production")],
            &[
                (
                    "notify-productionA",
                    "{}/{owner=\"team-A\"}/{env=\"production\"}",
                    60,
                ),
                (
                    "notify-productionB",
                    "{}/{owner=\"team-A\"}/{env=~\"^(?:produ.*)$\",job=~\"^(?:.*)$\"}",
                    30,
                ),
            ],
        ),
        (
            &[("group_by", "role")],
            &[("notify-def", "{}/{group_by=\"role\"}", 30)],
        ),
        (
            &[("env", "testing"), ("group_by", "role")],
            &[(
                "notify-testing",
                "{}/{group_by=\"role\"}/{env=\"testing\"}",
                30,
            )],
        ),
        (
            &[("env", "testing"), ("group_by", "role"), ("wait", "long")],
            &[(
                "notify-testing",
                "{}/{group_by=\"role\"}/{env=\"testing\"}/{wait=\"long\"}",
                120,
            )],
        ),
    ];
    for (input, want) in cases {
        let mut got = Vec::new();
        c.route.matching(&labels(input), &mut got);
        let got: Vec<(String, String, u64)> = got
            .iter()
            .map(|r| (r.receiver.clone(), r.key.clone(), r.group_wait.as_secs()))
            .collect();
        let want: Vec<(String, String, u64)> = want
            .iter()
            .map(|(a, b, w)| (a.to_string(), b.to_string(), *w))
            .collect();
        assert_eq!(got, want, "{input:?}");
    }
    // Group-by inheritance as in the test's RouteOpts.
    let mut r = Vec::new();
    c.route
        .matching(&labels(&[("owner", "team-A"), ("env", "testing")]), &mut r);
    assert_eq!(r[0].group_by, alerting::route::config::GroupBy::All);
    r.clear();
    c.route.matching(
        &labels(&[("env", "testing"), ("group_by", "role"), ("wait", "long")]),
        &mut r,
    );
    assert_eq!(
        r[0].group_by,
        alerting::route::config::GroupBy::Labels(vec!["role".into()])
    );
}

/// The usual "send to two receivers": two sibling routes with the same
/// matchers and `continue: true`. Alertmanager keeps groups per route, so
/// both receivers are notified (before, the second shared the first's group).
#[test]
fn sibling_routes_with_equal_matchers_each_notify() {
    let yaml = r#"
route:
  receiver: default
  group_by: [alertname]
  group_wait: 30s
  routes:
    - matchers: ['severity="page"']
      receiver: pager
      continue: true
    - matchers: ['severity="page"']
      receiver: slack
receivers:
  - name: default
  - name: pager
  - name: slack
"#;
    let mut d = Dispatcher::new(parse_config(yaml, "am.yml").unwrap());
    let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap();
    let l = labels(&[("alertname", "Down"), ("severity", "page")]);
    assert_eq!(d.receivers_for(&l), vec!["pager", "slack"]);
    d.receive(
        vec![OutgoingAlert {
            labels: l,
            annotations: BTreeMap::new(),
            starts_at: t0,
            ends_at: t0 + Duration::hours(1),
            generator_url: String::new(),
        }],
        t0,
    );
    let ns = d.tick(t0 + Duration::seconds(30), &Silences::open(None).unwrap());
    let mut rx: Vec<&str> = ns.iter().map(|n| n.receiver.as_str()).collect();
    rx.sort();
    assert_eq!(rx, vec!["pager", "slack"]);
    // Alertmanager's group key is the same string for both.
    assert_eq!(ns[0].group_key, ns[1].group_key);
}

/// Business-hours routing: a route muted outside its active interval
/// notifies once the interval begins; a mute interval holds notifications.
#[test]
fn time_intervals_mute_and_activate_routes() {
    let yaml = r#"
time_intervals:
  - name: office
    time_intervals:
      - weekdays: ['monday:friday']
        times: [{start_time: '09:00', end_time: '17:00'}]
  - name: maintenance
    time_intervals:
      - times: [{start_time: '12:00', end_time: '13:00'}]
route:
  receiver: default
  group_by: [alertname]
  group_wait: 10s
  group_interval: 1m
  routes:
    - matchers: ['team="a"']
      receiver: office-only
      active_time_intervals: [office]
    - matchers: ['team="b"']
      receiver: not-at-noon
      mute_time_intervals: [maintenance]
receivers:
  - name: default
  - name: office-only
  - name: not-at-noon
"#;
    let mut d = Dispatcher::new(parse_config(yaml, "am.yml").unwrap());
    // Thursday 2026-01-01, 08:00 UTC.
    let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 8, 0, 0).unwrap();
    let alert = |team: &str| OutgoingAlert {
        labels: labels(&[("alertname", "X"), ("team", team)]),
        annotations: BTreeMap::new(),
        starts_at: t0,
        ends_at: t0 + Duration::days(1),
        generator_url: String::new(),
    };
    let s = Silences::open(None).unwrap();
    d.receive(vec![alert("a")], t0);
    assert!(
        d.tick(t0 + Duration::seconds(10), &s).is_empty(),
        "before office hours"
    );
    let at_nine = d.tick(Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 30).unwrap(), &s);
    assert_eq!(at_nine.len(), 1);
    assert_eq!(at_nine[0].receiver, "office-only");

    let noon = Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap();
    d.receive(vec![alert("b")], noon);
    let ns = d.tick(noon + Duration::seconds(10), &s);
    assert!(
        ns.iter().all(|n| n.receiver != "not-at-noon"),
        "muted at noon"
    );
    let ns = d.tick(Utc.with_ymd_and_hms(2026, 1, 1, 13, 0, 10).unwrap(), &s);
    assert!(
        ns.iter().any(|n| n.receiver == "not-at-noon"),
        "sent after the mute"
    );
}

/// The alerts API names each alert's receivers (in route order), and an
/// alert posted without an end time ends after `global.resolve_timeout`.
#[test]
fn alerts_api_shows_receivers_and_honours_resolve_timeout() {
    use alerting::notify::{NotificationLog, RetryPolicy, Sender};
    use alerting::route::Router;
    use std::sync::Arc;

    let yaml = "global:\n  resolve_timeout: 2h\nroute:\n  receiver: default\n  routes:\n    - matchers: ['{severity=\"page\"}']\n      receiver: pager\n      continue: true\n    - matchers: ['severity=page,team=~\"db|storage\"']\n      receiver: db\nreceivers:\n  - name: default\n  - name: pager\n  - name: db\n";
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (url, _router) = rt.block_on(async {
        let log = NotificationLog::open_sqlite(&dir.path().join("log"))
            .await
            .unwrap();
        let router = Router::new(
            parse_config(yaml, "am.yml").unwrap(),
            Arc::new(Silences::open(None).unwrap()),
            Sender::start(log, RetryPolicy::default()),
            "",
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = router.clone().api();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (format!("http://{addr}"), router)
    });
    let client = reqwest::blocking::Client::new();
    let posted = client
        .post(format!("{url}/api/v2/alerts"))
        .json(&serde_json::json!([
            {"labels": {"alertname": "Disk", "severity": "page", "team": "db"}, "startsAt": "2026-01-01T12:00:00Z"},
            {"labels": {"alertname": "Slow", "severity": "ticket"}, "startsAt": "2026-01-01T12:00:00Z"}
        ]))
        .send()
        .unwrap();
    assert!(posted.status().is_success(), "{:?}", posted.text());
    let got: serde_json::Value = client
        .get(format!("{url}/api/v2/alerts"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let by_name = |n: &str| {
        got.as_array()
            .unwrap()
            .iter()
            .find(|a| a["labels"]["alertname"] == n)
            .cloned()
            .unwrap_or_else(|| panic!("{n} in {got}"))
    };
    let disk = by_name("Disk");
    assert_eq!(
        disk["receivers"],
        serde_json::json!([{"name": "pager"}, {"name": "db"}])
    );
    assert_eq!(
        by_name("Slow")["receivers"],
        serde_json::json!([{"name": "default"}])
    );
    // No endsAt was posted: it ends 2h (resolve_timeout) after receipt, not 5m.
    let ends: chrono::DateTime<Utc> = disk["endsAt"].as_str().unwrap().parse().unwrap();
    assert!(ends > Utc::now() + Duration::minutes(90), "{ends}");
    drop(rt);
}

/// testdata/conf.slack-default-api-url-file.yml (adapted): URLs and keys in
/// files, from `global` or the receiver, are read when a notification goes out.
#[test]
fn secrets_in_files_are_read_at_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let g = dir.path().join("global_file");
    let o = dir.path().join("override_file");
    let k = dir.path().join("key");
    std::fs::write(&g, "http://global.example.org/hook\n").unwrap();
    std::fs::write(&o, "http://override.example.org/hook").unwrap();
    std::fs::write(&k, "abc123\n").unwrap();
    let yaml = format!(
        "global:\n  slack_api_url_file: '{}'\nroute:\n  receiver: slack\nreceivers:\n  - name: slack\n    slack_configs:\n      - channel: '#alerts1'\n        text: 'test'\n      - channel: '#alerts2'\n        api_url_file: '{}'\n      - channel: '#alerts3'\n        api_url: 'http://mysecret.example.com/'\n    webhook_configs:\n      - url_file: '{}'\n    pagerduty_configs:\n      - routing_key_file: '{}'\n",
        g.display(),
        o.display(),
        o.display(),
        k.display()
    );
    let c = parse_config(&yaml, "am.yml").unwrap();
    let r = &c.receivers["slack"];
    let urls: Vec<String> = r.slack.iter().map(|s| s.target()).collect();
    assert_eq!(
        urls,
        vec![
            "http://global.example.org/hook",
            "http://override.example.org/hook",
            "http://mysecret.example.com/"
        ]
    );
    let n = alerting::route::dispatch::Notification {
        receiver: "slack".into(),
        group_key: String::new(),
        group_labels: labels(&[("team", "db")]),
        alerts: Vec::new(),
        now: Utc::now(),
    };
    assert_eq!(
        r.webhooks[0].target(&n, ""),
        "http://override.example.org/hook"
    );
    assert_eq!(r.pagerduty[0].key(), "abc123");
    // The `text` template is kept for rendering.
    assert_eq!(r.slack[0].text.as_deref(), Some("test"));
}

/// Notification templates (Alertmanager's documentation forms): `define`s
/// from template files next to the config, Slack `title`/`text`, e-mail
/// `Subject`/`html`/`text`; a bad or undefined template is refused at load
/// with its position.
#[test]
fn notification_templates_are_loaded_and_rendered() {
    use alerting::route::dispatch::{Alert, Notification};
    use alerting::route::{load_config, payload};

    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("templates")).unwrap();
    std::fs::write(
        dir.path().join("templates/slack.tmpl"),
        "{{ define \"slack.myorg.text\" }}{{ range .Alerts }}*{{ .Labels.alertname }}* {{ .Annotations.summary }}\n{{ end }}{{ end }}",
    )
    .unwrap();
    let cfg = dir.path().join("am.yml");
    std::fs::write(
        &cfg,
        "templates: ['templates/*.tmpl']\nroute:\n  receiver: team\nreceivers:\n  - name: team\n    slack_configs:\n      - api_url: http://127.0.0.1:9/hook\n        title: '[{{ .Status | toUpper }}{{ if eq .Status \"firing\" }}:{{ .Alerts.Firing | len }}{{ end }}] {{ .CommonLabels.alertname }}'\n        text: '{{ template \"slack.myorg.text\" . }}'\n    email_configs:\n      - to: a@example.org\n        from: b@example.org\n        smarthost: '127.0.0.1:25'\n        headers: {Subject: '{{ .CommonLabels.alertname }} ({{ .Status }})'}\n        html: '<b>{{ .CommonLabels.alertname }}</b>'\n",
    )
    .unwrap();
    let c = load_config(&cfg).unwrap();
    let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap();
    let alert = |name: &str| Alert {
        labels: labels(&[("alertname", "Down"), ("instance", name)]),
        annotations: labels(&[("summary", &format!("{name} is down"))]),
        starts_at: t0,
        ends_at: t0 + Duration::hours(1),
        generator_url: String::new(),
    };
    let n = Notification {
        receiver: "team".into(),
        group_key: "{}:{}".into(),
        group_labels: BTreeMap::new(),
        alerts: vec![alert("a"), alert("b")],
        now: t0,
    };
    let slack = &c.receivers["team"].slack[0];
    let v = payload::slack_templated(&n, slack, "");
    assert_eq!(v["text"], "[FIRING:2] Down");
    assert_eq!(
        v["blocks"][1]["text"]["text"],
        "*Down* a is down\n*Down* b is down\n"
    );
    let mail = &c.receivers["team"].email[0];
    assert_eq!(
        payload::render(&mail.templates, mail.subject.as_deref(), &n, "").as_deref(),
        Some("Down (firing)")
    );
    assert_eq!(
        payload::render(&mail.templates, mail.html.as_deref(), &n, "").as_deref(),
        Some("<b>Down</b>")
    );

    // An undefined template is refused at load, where it is written.
    std::fs::write(
        &cfg,
        "route:\n  receiver: team\nreceivers:\n  - name: team\n    slack_configs:\n      - api_url: http://127.0.0.1:9/hook\n        text: '{{ template \"slack.nope\" . }}'\n",
    )
    .unwrap();
    let e = load_config(&cfg).unwrap_err().to_string();
    assert!(
        e.contains(":7:15: receivers[0].slack_configs[0].text: no such template \"slack.nope\""),
        "{e}"
    );
    // A syntax error is refused by the config parser itself.
    let ps = problems(
        "route:\n  receiver: team\nreceivers:\n  - name: team\n    slack_configs:\n      - api_url: http://127.0.0.1:9/hook\n        title: '{{ if .Status }}x'\n",
    );
    assert!(
        ps.iter()
            .any(|p| p
                .contains("am.yml:7:16: receivers[0].slack_configs[0].title: missing {{ end }}")),
        "{ps:?}"
    );
}

/// TestSecretTemplURL: templated webhook URLs are not validated as URLs and
/// are rendered for each notification.
#[test]
fn templated_webhook_urls_are_rendered() {
    let yaml = "route:\n  receiver: w\nreceivers:\n  - name: w\n    webhook_configs:\n      - url: 'http://127.0.0.1:9/{{ .GroupLabels.team }}'\n      - url: 'not-a-url-{{ .GroupLabels.team }}'\n";
    let c = parse_config(yaml, "am.yml").unwrap();
    let n = alerting::route::dispatch::Notification {
        receiver: "w".into(),
        group_key: String::new(),
        group_labels: labels(&[("team", "db")]),
        alerts: Vec::new(),
        now: Utc::now(),
    };
    let w = &c.receivers["w"].webhooks;
    assert_eq!(w[0].target(&n, ""), "http://127.0.0.1:9/db");
    assert_eq!(w[1].target(&n, ""), "not-a-url-db");
}

/// dispatch/route_test.go TestRouteMatchers: the same tree written with
/// `matchers` (braces, unquoted lists); keys list matchers sorted by name.
#[test]
fn route_tree_with_matchers_syntax() {
    let yaml = r#"
route:
  receiver: 'notify-def'
  routes:
  - matchers: ['{owner="team-A"}', '{level!="critical"}']
    receiver: 'notify-A'
    routes:
    - matchers: ['{env="testing"}', '{baz!~".*quux"}']
      receiver: 'notify-testing'
      group_by: [...]
    - matchers: ['{env="production"}']
      receiver: 'notify-productionA'
      group_wait: 1m
      continue: true
    - matchers: [ env=~"produ.*", job=~".*"]
      receiver: 'notify-productionB'
      group_by: ['job']
  - matchers: [owner=~"team-(B|C)"]
    group_by: ['foo', 'bar']
    receiver: 'notify-BC'
  - matchers: [group_by="role"]
    group_by: ['role']
    routes:
    - matchers: ['{env="testing"}']
      receiver: 'notify-testing'
      routes:
      - matchers: [wait="long"]
        group_wait: 2m
receivers:
  - name: notify-def
  - name: notify-A
  - name: notify-testing
  - name: notify-productionA
  - name: notify-productionB
  - name: notify-BC
"#;
    let c = parse_config(yaml, "m.yml").unwrap();
    type Pairs<'a> = &'a [(&'a str, &'a str)];
    let cases: &[(Pairs, Pairs)] = &[
        (
            &[("owner", "team-A")],
            &[("notify-A", r#"{}/{level!="critical",owner="team-A"}"#)],
        ),
        (
            &[("owner", "team-C")],
            &[("notify-BC", r#"{}/{owner=~"team-(B|C)"}"#)],
        ),
        (
            &[("owner", "team-A"), ("env", "testing")],
            &[(
                "notify-testing",
                r#"{}/{level!="critical",owner="team-A"}/{baz!~".*quux",env="testing"}"#,
            )],
        ),
        (
            &[("owner", "team-A"), ("env", "production")],
            &[
                (
                    "notify-productionA",
                    r#"{}/{level!="critical",owner="team-A"}/{env="production"}"#,
                ),
                (
                    "notify-productionB",
                    r#"{}/{level!="critical",owner="team-A"}/{env=~"produ.*",job=~".*"}"#,
                ),
            ],
        ),
        (
            &[("env", "testing"), ("group_by", "role"), ("wait", "long")],
            &[(
                "notify-testing",
                r#"{}/{group_by="role"}/{env="testing"}/{wait="long"}"#,
            )],
        ),
        // level=critical fails team-A's `level!="critical"`: the root takes it.
        (
            &[("owner", "team-A"), ("level", "critical")],
            &[("notify-def", "{}")],
        ),
    ];
    for (input, want) in cases {
        let mut got = Vec::new();
        c.route.matching(&labels(input), &mut got);
        let got: Vec<(&str, &str)> = got
            .iter()
            .map(|r| (r.receiver.as_str(), r.key.as_str()))
            .collect();
        assert_eq!(&got, want, "{input:?}");
    }
}

/// dispatch/route_test.go TestInheritParentGroupByAll.
#[test]
fn group_by_all_is_inherited_until_overridden() {
    let yaml = "route:\n  receiver: r\n  routes:\n  - match: {env: parent}\n    group_by: ['...']\n    routes:\n    - match: {env: child1}\n    - match: {env: child2}\n      group_by: ['foo']\nreceivers:\n  - name: r\n";
    use alerting::route::config::GroupBy;
    let c = parse_config(yaml, "g.yml").unwrap();
    let parent = &c.route.routes[0];
    assert_eq!(parent.group_by, GroupBy::All);
    assert_eq!(parent.routes[0].group_by, GroupBy::All);
    assert_eq!(
        parent.routes[1].group_by,
        GroupBy::Labels(vec!["foo".into()])
    );
}
