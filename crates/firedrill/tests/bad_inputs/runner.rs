//! The one runner of the bad-input suite: a case is a command line (with
//! the files it reads) or an HTTP request; each must end with a non-zero
//! exit or a 4xx whose message names the problem, without a panic, within a
//! generous hang detector (no timing is asserted).

use std::ffi::OsString;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The hang detector: a case still running after this is a failure.
pub const HANG: Duration = Duration::from_secs(10);

pub enum Input {
    /// `firedrill ARGS`; `{dir}` in an argument becomes the case's own
    /// directory, where `files` are written first.
    Cli {
        args: Vec<OsString>,
        files: Vec<(String, Vec<u8>)>,
    },
    Http {
        method: String,
        path: String,
        content_type: Option<String>,
        /// A raw `Authorization` header value (default: the lab's token).
        authorization: Option<Vec<u8>>,
        body: Vec<u8>,
    },
}

pub struct Case {
    /// `group/what`, shown when it fails.
    pub name: String,
    pub input: Input,
    /// Each must appear in the message (ASCII case-insensitive; `a|b`:
    /// either).
    pub needles: Vec<String>,
}

impl Case {
    pub fn cli(name: &str, args: &[&str], needles: &[&str]) -> Case {
        Case {
            name: name.into(),
            input: Input::Cli {
                args: args.iter().map(OsString::from).collect(),
                files: Vec::new(),
            },
            needles: needles.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// A command reading one file `name` with `content` (`{file}` in args).
    pub fn file(
        case: &str,
        args: &[&str],
        name: &str,
        content: impl Into<Vec<u8>>,
        needles: &[&str],
    ) -> Case {
        let args = args
            .iter()
            .map(|a| OsString::from(a.replace("{file}", &format!("{{dir}}/{name}"))))
            .collect();
        Case {
            name: case.into(),
            input: Input::Cli {
                args,
                files: vec![(name.to_string(), content.into())],
            },
            needles: needles.iter().map(|s| s.to_string()).collect(),
        }
    }

    pub fn http(
        name: &str,
        method: &str,
        path: &str,
        body: impl Into<Vec<u8>>,
        needles: &[&str],
    ) -> Case {
        Case {
            name: name.into(),
            input: Input::Http {
                method: method.into(),
                path: path.into(),
                content_type: Some("application/json".into()),
                authorization: None,
                body: body.into(),
            },
            needles: needles.iter().map(|s| s.to_string()).collect(),
        }
    }

    pub fn content_type(mut self, ct: &str) -> Case {
        if let Input::Http { content_type, .. } = &mut self.input {
            *content_type = Some(ct.into());
        }
        self
    }

    pub fn authorization(mut self, value: impl Into<Vec<u8>>) -> Case {
        if let Input::Http { authorization, .. } = &mut self.input {
            *authorization = Some(value.into());
        }
        self
    }
}

/// What a case produced.
pub struct Answer {
    pub failed_cleanly: bool,
    pub message: String,
    pub took: Duration,
}

/// What a case runs against: the binary, and for HTTP cases the one lab.
pub struct Target<'a> {
    pub bin: &'a str,
    pub lab_url: Option<&'a str>,
    pub token: Option<&'a str>,
    pub http: &'a reqwest::blocking::Client,
}

fn run_cli(bin: &str, args: &[OsString], files: &[(String, Vec<u8>)]) -> Answer {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, content) in files {
        std::fs::write(dir.path().join(name), content).expect("write case file");
    }
    let d = dir.path().to_string_lossy().to_string();
    let args: Vec<OsString> = args
        .iter()
        .map(|a| match a.to_str() {
            Some(s) if s.contains("{dir}") => OsString::from(s.replace("{dir}", &d)),
            _ => a.clone(),
        })
        .collect();
    let started = Instant::now();
    let mut child = Command::new(bin)
        .args(&args)
        .env("NO_COLOR", "1")
        // No lab is reachable here unless a case names one.
        .env("FIREDRILL_URL", "http://127.0.0.1:9")
        .env_remove("FIREDRILL_TOKEN")
        .env_remove("FIREDRILL_DATA_DIR")
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn firedrill");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    // Both pipes at once: a long message on one must not block the other.
    let err_reader = std::thread::spawn(move || {
        let mut e = Vec::new();
        let _ = err.read_to_end(&mut e);
        e
    });
    let reader = std::thread::spawn(move || {
        let mut o = Vec::new();
        let _ = out.read_to_end(&mut o);
        (o, err_reader.join().unwrap_or_default())
    });
    let status = loop {
        if let Ok(Some(s)) = child.try_wait() {
            break Some(s);
        }
        if started.elapsed() > HANG {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let took = started.elapsed();
    let (o, e) = reader.join().unwrap_or_default();
    let message = format!(
        "{}{}",
        String::from_utf8_lossy(&e),
        String::from_utf8_lossy(&o)
    );
    match status {
        None => Answer {
            failed_cleanly: false,
            message: format!("HUNG (killed after {HANG:?}): {message}"),
            took,
        },
        Some(s) => Answer {
            // A signal (abort, SIGSEGV) has no exit code.
            failed_cleanly: s.code().is_some_and(|c| c != 0),
            message: if s.code().is_none() {
                format!("KILLED BY A SIGNAL ({s:?}): {message}")
            } else {
                message
            },
            took,
        },
    }
}

fn run_http(t: &Target, input: &Input) -> Answer {
    let Input::Http {
        method,
        path,
        content_type,
        authorization,
        body,
    } = input
    else {
        unreachable!()
    };
    let url = format!("{}{path}", t.lab_url.expect("a lab for HTTP cases"));
    let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut r = t.http.request(m, url).timeout(HANG);
    match authorization {
        Some(a) => match reqwest::header::HeaderValue::from_bytes(a) {
            Ok(v) => r = r.header(reqwest::header::AUTHORIZATION, v),
            Err(_) => panic!("case header is not a header value"),
        },
        None => {
            if let Some(tok) = t.token {
                r = r.bearer_auth(tok);
            }
        }
    }
    if let Some(ct) = content_type {
        r = r.header(reqwest::header::CONTENT_TYPE, ct);
    }
    if method != "GET" {
        r = r.body(body.clone());
    }
    let started = Instant::now();
    match r.send() {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let text = resp.text().unwrap_or_default();
            Answer {
                failed_cleanly: (400..500).contains(&status),
                message: format!("HTTP {status}: {text}"),
                took: started.elapsed(),
            }
        }
        Err(e) => Answer {
            failed_cleanly: false,
            message: format!("NO ANSWER: {e}"),
            took: started.elapsed(),
        },
    }
}

/// Runs every case; returns the failures (name and why) and the slowest case.
pub fn run(t: &Target, cases: &[Case]) -> (Vec<String>, Option<(String, Duration)>) {
    let mut failures = Vec::new();
    let mut slowest: Option<(String, Duration)> = None;
    for c in cases {
        let a = match &c.input {
            Input::Cli { args, files } => run_cli(t.bin, args, files),
            Input::Http { .. } => run_http(t, &c.input),
        };
        if slowest.as_ref().is_none_or(|(_, d)| a.took > *d) {
            slowest = Some((c.name.clone(), a.took));
        }
        let lower = a.message.to_ascii_lowercase();
        let mut why = Vec::new();
        if !a.failed_cleanly {
            why.push("did not fail cleanly (exit 0, a signal, a hang, or not a 4xx)".to_string());
        }
        if lower.contains("panicked") || lower.contains("rust_backtrace") {
            why.push("panicked".into());
        }
        for n in &c.needles {
            // `a|b`: either names the problem.
            if !n
                .split('|')
                .any(|alt| lower.contains(&alt.to_ascii_lowercase()))
            {
                why.push(format!("the message does not name {n:?}"));
            }
        }
        if a.message.trim().is_empty() {
            why.push("no message".into());
        }
        if !why.is_empty() {
            let shown: String = a.message.chars().take(600).collect();
            failures.push(format!("{}: {}\n    got: {shown}", c.name, why.join("; ")));
        }
    }
    (failures, slowest)
}
