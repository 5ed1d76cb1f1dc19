//! `firedrill alertmanager routes test` and `check` against the real
//! `amtool` (Debian's prometheus-alertmanager, 0.25): the same files and
//! labels must give the same receivers in the same order, and the same
//! verdict on good and bad configs. Route trees are from Alertmanager's
//! dispatch/route_test.go and config/testdata/conf.good.yml (adapted).

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

fn amtool() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("amtool"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        if std::env::var_os("CI").is_some() {
            panic!(
                "amtool is missing: .ci/run installs prometheus-alertmanager from Debian's packages"
            );
        }
        eprintln!("skipping: amtool is not installed");
    }
    found
}

fn run(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd.output().expect("run");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
        String::from_utf8_lossy(&out.stderr).trim().to_string(),
    )
}

const TREE: &str = r#"
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
      group_by: ['job']
  - match_re:
      owner: 'team-(B|C)'
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

const MATCHERS: &str = r#"
route:
  receiver: default
  routes:
    - matchers: ['{owner="team-A"}']
      receiver: team-A
      continue: true
    - matchers: ['severity="page"']
      receiver: pager
      continue: true
    - matchers: ['severity="page"']
      receiver: slack
      continue: true
    - matchers: ['foo=bar,dings!=bums']
      receiver: list
    - matchers: ['quote="She said: \"Hi, all\""', 'team=~"db|storage"']
      receiver: quoted
    - matchers: ['service=~"^(foo1|foo2|baz)$"']
      receiver: services
      routes:
        - matchers: [severity=critical]
          receiver: critical
receivers:
  - name: default
  - name: team-A
  - name: pager
  - name: slack
  - name: list
  - name: quoted
  - name: services
  - name: critical
"#;

/// dispatch/route_test.go TestRouteMatchers (adapted).
const BRACED: &str = r#"
route:
  receiver: 'notify-def'
  routes:
  - matchers: ['{owner="team-A"}', '{level!="critical"}']
    receiver: 'notify-A'
    routes:
    - matchers: ['{env="testing"}', '{baz!~".*quux"}']
      receiver: 'notify-testing'
    - matchers: ['{env="production"}']
      receiver: 'notify-productionA'
      continue: true
    - matchers: [ env=~"produ.*", job=~".*"]
      receiver: 'notify-productionB'
  - matchers: [owner=~"team-(B|C)"]
    receiver: 'notify-BC'
receivers:
  - name: notify-def
  - name: notify-A
  - name: notify-testing
  - name: notify-productionA
  - name: notify-productionB
  - name: notify-BC
"#;

#[test]
fn routes_test_gives_amtools_receivers() {
    let Some(amtool) = amtool() else { return };
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &[&[&str]])] = &[
        (
            TREE,
            &[
                &["owner=team-A"],
                &["owner=team-A", "env=unset"],
                &["owner=team-C"],
                &["owner=team-A", "env=testing"],
                &["owner=team-A", "env=production"],
                &["owner=team-A", "env=production", "job=x"],
                &["group_by=role"],
                &["env=testing", "group_by=role"],
                &["env=testing", "group_by=role", "wait=long"],
                &["nothing=here"],
            ],
        ),
        (
            MATCHERS,
            &[
                &["owner=team-A"],
                &["owner=team-A", "severity=page"],
                &["severity=page", "foo=bar"],
                &["foo=bar"],
                &["foo=bar", "dings=bums"],
                &["quote=\"She said: \\\"Hi, all\\\"\"", "team=db"],
                &["quote=\"She said: \\\"Hi, all\\\"\"", "team=web"],
                &["service=foo2", "severity=critical"],
                &["service=foo2", "severity=warning"],
                &["service=foo3"],
            ],
        ),
        (
            BRACED,
            &[
                &["owner=team-A"],
                &["owner=team-A", "level=critical"],
                &["owner=team-A", "env=testing"],
                &["owner=team-A", "env=testing", "baz=xquux"],
                &["owner=team-A", "env=production"],
                &["owner=team-B"],
            ],
        ),
    ];
    let mut compared = 0;
    for (i, (yaml, label_sets)) in cases.iter().enumerate() {
        let file = dir.path().join(format!("am{i}.yml"));
        std::fs::write(&file, yaml).unwrap();
        for labels in *label_sets {
            let (ok, theirs, err) = run(Command::new(&amtool)
                .args(["config", "routes", "test"])
                .arg(format!("--config.file={}", file.display()))
                .args(*labels));
            assert!(ok, "amtool failed on {labels:?}: {err}");
            let (ok, ours, err) = run(Command::new(common::bin())
                .args(["alertmanager", "routes", "test"])
                .arg(&file)
                .args(*labels));
            assert!(ok, "firedrill failed on {labels:?}: {err}");
            assert_eq!(ours, theirs, "receivers for {labels:?} in\n{yaml}");
            compared += 1;
        }
    }
    assert_eq!(compared, 26);
}

fn check(amtool: &Path, dir: &Path, name: &str, yaml: &str) -> (bool, bool, String) {
    let file = dir.join(name);
    std::fs::write(&file, yaml).unwrap();
    let (theirs, _, _) = run(Command::new(amtool).arg("check-config").arg(&file));
    let (ours, out, err) = run(Command::new(common::bin())
        .args(["alertmanager", "check"])
        .arg(&file));
    (theirs, ours, format!("{out}\n{err}"))
}

#[test]
fn check_agrees_with_amtool_check_config() {
    let Some(amtool) = amtool() else { return };
    let dir = tempfile::tempdir().unwrap();
    let good = [
        TREE,
        MATCHERS,
        "global:\n  smtp_smarthost: 'localhost:25'\n  smtp_from: 'am@example.org'\nroute:\n  receiver: mail\ninhibit_rules:\n  - source_match: {severity: critical}\n    target_match: {severity: warning}\n    equal: [alertname]\nreceivers:\n  - name: mail\n    email_configs:\n      - to: 'team@example.org'\n",
    ];
    for (i, y) in good.iter().enumerate() {
        let (theirs, ours, out) = check(&amtool, dir.path(), &format!("good{i}.yml"), y);
        assert!(theirs, "amtool refuses good{i}:\n{y}");
        assert!(ours, "we refuse good{i}: {out}");
    }
    let rx = "receivers:\n  - name: r\n";
    let bad = [
        (format!("route:\n  receiver: r\n  continue: true\n{rx}"), "cannot have continue in root route"),
        (format!("route:\n  receiver: r\n  group_by: [a, b, a]\n{rx}"), "duplicated label \"a\" in group_by"),
        (format!("route:\n  receiver: r\n  routes:\n    - matchers: ['job=\"value']\n{rx}"), "unescaped double quote"),
        (format!("route:\n  receiver: r\n  matchers: ['a=b']\n{rx}"), "root route must not have any matchers"),
        ("route:\n  receiver: r\nreceivers:\n  - name: r\n    webhook_configs:\n      - url: ftp://example.org/x\n".to_string(), "unsupported scheme \"ftp\""),
        ("route:\n  receiver: r\nreceivers:\n  - name: r\n    email_configs:\n      - to: a@example.org\n        from: b@example.org\n        smarthost: localhost\n".to_string(), "missing port"),
        ("route:\n  receiver: r\nreceivers:\n  - name: r\n    email_configs:\n      - to: a@example.org\n        smarthost: 'localhost:25'\n".to_string(), "no global SMTP from set"),
        ("route:\n  receiver: r\nreceivers:\n  - name: r\n  - name: r\n".to_string(), "is not unique"),
    ];
    for (i, (y, want)) in bad.iter().enumerate() {
        let (theirs, ours, out) = check(&amtool, dir.path(), &format!("bad{i}.yml"), y);
        assert!(!theirs, "amtool accepts bad{i}:\n{y}");
        assert!(!ours, "we accept bad{i}:\n{y}");
        assert!(out.contains(want), "bad{i}: want {want:?} in\n{out}");
        assert!(
            out.contains(&format!("bad{i}.yml:")),
            "no position in {out}"
        );
    }
}
