//! Clear errors, a non-zero exit and nothing left running.

mod common;

use std::process::Command;

use common::{bin, free_block, free_port};

fn up(args: &[&str], dir: &std::path::Path) -> (bool, String) {
    let out = Command::new(bin())
        .arg("up")
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn instances_of(dir: &std::path::Path) -> usize {
    let needle = dir.display().to_string();
    std::fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(Result::ok)
                .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
                .filter(|c| {
                    let s = String::from_utf8_lossy(c);
                    s.contains("__instance") && s.contains(&needle)
                })
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn control_plane_port_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let (ok, err) = up(
        &[
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--base-port",
            &free_block(40).to_string(),
        ],
        dir.path(),
    );
    assert!(!ok);
    assert!(
        err.contains(&port.to_string()) && err.contains("--listen"),
        "{err}"
    );
    assert_eq!(instances_of(dir.path()), 0);
}

#[test]
fn instance_port_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let base = free_block(40);
    let _busy = std::net::TcpListener::bind(("127.0.0.1", base + 3)).unwrap();
    let (ok, err) = up(
        &[
            "--listen",
            &format!("127.0.0.1:{}", free_port()),
            "--base-port",
            &base.to_string(),
        ],
        dir.path(),
    );
    assert!(!ok);
    assert!(
        err.contains(&(base + 3).to_string()) && err.contains("--base-port"),
        "{err}"
    );
    assert_eq!(instances_of(dir.path()), 0);
}

#[test]
fn unknown_topology() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, err) = up(&["--topology", "nosuchlab"], dir.path());
    assert!(!ok);
    assert!(
        err.contains("nosuchlab") && err.contains("shop") && err.contains("chatbot"),
        "{err}"
    );
}

#[test]
fn data_dir_not_writable() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let (ok, err) = up(&[], &file.join("sub"));
    assert!(!ok);
    assert!(
        err.contains("data dir") && err.contains("--data-dir"),
        "{err}"
    );
}

#[test]
fn commands_without_a_lab_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(bin())
        .arg("--data-dir")
        .arg(dir.path())
        .args([
            "--url",
            &format!("http://127.0.0.1:{}", free_port()),
            "status",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("firedrill up"), "{err}");
}

#[test]
fn help_has_examples() {
    for cmd in [
        &["up", "--help"][..],
        &["status", "--help"],
        &["config", "set", "--help"],
        &["topology", "show", "--help"],
    ] {
        let out = Command::new(bin()).args(cmd).output().unwrap();
        assert!(out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Example"),
            "{cmd:?}"
        );
    }
}

/// Issue 11: rates and durations `up` cannot honour are refused before
/// anything starts, naming the flag and the accepted range.
#[test]
fn out_of_range_up_flags_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (flag, expected) in [
        ("--rps=1e308", "the rate must be 0 to 100000"),
        ("--rps=-5", "the rate must be 0 to 100000"),
        ("--rps=NaN", "the rate must be 0 to 100000"),
        ("--rps=inf", "the rate must be 0 to 100000"),
        ("--retention=0s", "at least 1m"),
        ("--retention=59s", "at least 1m"),
        ("--day-length=0s", "at least 60s"),
    ] {
        let (ok, err) = up(&[flag], dir.path());
        assert!(!ok, "{flag} was accepted");
        let name = flag.split('=').next().unwrap();
        assert!(
            err.contains(name) && err.contains(expected),
            "{flag}: {err}"
        );
        assert_eq!(instances_of(dir.path()), 0);
    }
}

/// Issue 11: a corrupt silences file stops `up` with the file and the JSON
/// problem; the file is left as it was and nothing is left running.
#[test]
fn corrupt_silences_file_is_refused_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("silences.json");
    std::fs::write(&path, "[{\"id\": ").unwrap();
    let (ok, err) = up(
        &[
            "--listen",
            &format!("127.0.0.1:{}", free_port()),
            "--base-port",
            &free_block(40).to_string(),
        ],
        dir.path(),
    );
    assert!(!ok);
    assert!(
        err.contains(&format!(
            "{}:1:8: the silences are not valid JSON (EOF while parsing a value); fix or move the file away",
            path.display()
        )) && err.matches("EOF while parsing").count() == 1,
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "[{\"id\": ");
    assert_eq!(instances_of(dir.path()), 0);
}

/// Issue 11: `experiment validate` checks `slo_burn` against the SLOs `up`
/// loads for the topology: a halt on an unknown SLO would never fire.
#[test]
fn experiment_validate_knows_the_topologys_slos() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.yaml");
    std::fs::write(
        &file,
        "title: t\ntopology: shop\nhypothesis: h\nsteady_state:\n  - {name: up, query: up, min: 1}\nmethod:\n  - fault: {kind: latency, service: ad, delay: 1s}\n    for: 10s\nhalt:\n  - {name: burn, slo_burn: no-such-slo, max: 10}\n",
    )
    .unwrap();
    let validate = |what: &str| {
        let out = Command::new(bin())
            .args(["experiment", "validate", what])
            .env("NO_COLOR", "1")
            .output()
            .expect("run");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, err) = validate(file.to_str().unwrap());
    assert!(!ok);
    assert!(
        err.contains(":10:28: halt[0].slo_burn: topology shop has no SLO \"no-such-slo\"")
            && err.contains("checkout-availability"),
        "{err}"
    );
    // A bundled experiment halting on a bundled SLO validates.
    let (ok, err) = validate("ad-outage");
    assert!(ok, "{err}");
}
