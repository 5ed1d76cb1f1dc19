//! Every CLI flag that takes a value, found by walking `--help` of every
//! command (so a new flag is covered without editing this file): a value
//! that is not UTF-8, and for typed flags (numbers, durations, times,
//! addresses, choices) values that overflow or make no sense. The message
//! must name the flag.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use super::runner::{Case, Input};

/// A value flag: command path, flag, its value's name (`<FILE>`), and the
/// command's required arguments (placeholders).
type Flag = (Vec<String>, String, String, Vec<String>);

/// Every value flag of every command.
pub fn value_flags(bin: &str) -> Vec<Flag> {
    let mut out = Vec::new();
    let mut todo = vec![Vec::<String>::new()];
    while let Some(path) = todo.pop() {
        let help = std::process::Command::new(bin)
            .args(&path)
            .arg("--help")
            .env("NO_COLOR", "1")
            .output()
            .expect("firedrill --help");
        let text = String::from_utf8_lossy(&help.stdout).to_string();
        let mut section = "";
        let mut positionals = Vec::new();
        for line in text.lines() {
            if let Some(usage) = line.strip_prefix("Usage: ") {
                // Placeholders for required options (`--service <SERVICE>`)
                // and positionals (`<ID>`), in order.
                positionals = Vec::new();
                let words: Vec<&str> = usage.split_whitespace().collect();
                let mut i = 0;
                while i < words.len() {
                    let w = words[i];
                    if w.starts_with("--") && words.get(i + 1).is_some_and(|n| n.starts_with('<')) {
                        positionals.push(w.to_string());
                        positionals.push(placeholder(&path, words[i + 1]));
                        i += 2;
                        continue;
                    }
                    if w.starts_with("--") {
                        // A required switch (`--ics`).
                        positionals.push(w.to_string());
                    }
                    if w.starts_with('<') && !w.contains("COMMAND") {
                        positionals.push(placeholder(&path, w.trim_end_matches("...")));
                    }
                    i += 1;
                }
                continue;
            }
            if line.ends_with(':') && !line.starts_with(' ') {
                section = line;
                continue;
            }
            let t = line.trim_start();
            match section {
                "Commands:" => {
                    let name = t.split_whitespace().next().unwrap_or("");
                    if !name.is_empty() && name != "help" && line.starts_with("  ") {
                        let mut p = path.clone();
                        p.push(name.to_string());
                        todo.push(p);
                    }
                }
                "Options:" => {
                    // `  -o, --out <OUT>` or `      --limit <LIMIT>`.
                    let Some(at) = t.find("--") else { continue };
                    let mut words = t[at..].split_whitespace();
                    let flag = words.next().unwrap_or("").trim_end_matches(',');
                    let value = words.next().unwrap_or("");
                    if value.starts_with('<') && (path.is_empty() || !GLOBAL.contains(&flag)) {
                        out.push((
                            path.clone(),
                            flag.to_string(),
                            value.to_string(),
                            positionals.clone(),
                        ));
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// Global flags, shown on every command: covered once, on the top level.
const GLOBAL: &[&str] = &["--data-dir", "--url", "--token", "--output"];

fn placeholder(path: &[String], w: &str) -> String {
    let first = path.first().map(String::as_str).unwrap_or("");
    match w {
        "<TARGET>" => "cart/0".into(),
        "<DURATION>" => "10m".into(),
        "<INSTANCES>" | "<ID>" => "1".into(),
        "<KIND>" if first == "fault" => "latency".into(),
        "<KIND>" => "handoff".into(),
        "<SPEC>" => "shop".into(),
        "<SERVICE>" => "ad".into(),
        _ => "x".into(),
    }
}

/// Flags whose value is a path: any bytes name a file on Linux, so their
/// bad value is a file that cannot be there.
fn is_path(value_name: &str) -> bool {
    matches!(
        value_name,
        "<FILE>" | "<OUT>" | "<TESTS>" | "<CONFIG>" | "<DATA_DIR>"
    )
}

/// Values refused by typed flags, with what the message must say besides
/// the flag.
fn typed(flag: &str) -> &'static [&'static str] {
    match flag {
        "--rps" => &["1e308", "-1", "NaN", "inf", "1e400"],
        "--retention"
        | "--day-length"
        | "--scrape-interval"
        | "--evaluation-interval"
        | "--range"
        | "--step"
        | "--for"
        | "--since"
        | "--window"
        | "--settle"
        | "--recover"
        | "--delay"
        | "--jitter" => &["99999999999h", "5", "-1s", "0x10s"],
        "--limit" | "--before" | "--base-port" | "--percent" | "--share" | "--mb-per-s"
        | "--cap-mb" | "--size-mb" | "--instance-percent" | "--index" => {
            &["99999999999999999999999", "-1", "1e3", "NaN"]
        }
        "--time" => &["1e400", "NaN", "yesterday"],
        "--at" | "--from" | "--to" => &["99999-01-01T00:00:00Z", "-99999999999d", "tuesday"],
        "--listen" => &["127.0.0.1:99999", "not-an-address"],
        "--role" | "--output" | "--default-slo-period" => &["emperor", "1e400"],
        _ => &[],
    }
}

fn case(
    path: &[String],
    flag: &str,
    value: OsString,
    rest: &[String],
    what: &str,
    needle: &str,
) -> Case {
    let mut args: Vec<OsString> = path.iter().map(OsString::from).collect();
    // `--flag=value`: a value starting with `-` is the flag's, not a flag.
    let mut arg = OsString::from(format!("{flag}="));
    arg.push(value);
    args.push(arg);
    args.extend(rest.iter().map(OsString::from));
    let shown = if path.is_empty() {
        "firedrill".to_string()
    } else {
        path.join(" ")
    };
    Case {
        name: format!("flag/{shown} {flag}/{what}"),
        input: Input::Cli {
            args,
            files: Vec::new(),
        },
        needles: vec![needle.to_string()],
    }
}

/// Every flag case.
pub fn cases(bin: &str) -> Vec<Case> {
    let mut out = Vec::new();
    let mut flags = value_flags(bin);
    flags.sort();
    flags.dedup();
    for (path, flag, value_name, positionals) in &flags {
        let target = if path.is_empty() {
            // Global flags: on a command that uses them.
            vec!["status".to_string()]
        } else {
            path.clone()
        };
        let rest = if path.is_empty() {
            &[][..]
        } else {
            &positionals[..]
        };
        if flag == "--data-dir" {
            // A data dir that cannot be made (under a file): `up` stops
            // before it starts anything.
            out.push(case(
                &["up".to_string()],
                flag,
                OsString::from("/dev/null/fd-data"),
                &[],
                "under-a-file",
                "/dev/null/fd-data",
            ));
            continue;
        }
        if is_path(value_name) {
            out.push(case(
                &target,
                flag,
                OsString::from("{dir}/missing-dir/f"),
                rest,
                "missing-dir",
                &format!("missing-dir|{flag}"),
            ));
            continue;
        }
        out.push(case(
            &target,
            flag,
            OsString::from_vec(vec![0xff, 0xfe, b'x']),
            rest,
            "non-utf8",
            flag,
        ));
        for v in typed(flag) {
            out.push(case(&target, flag, OsString::from(v), rest, v, flag));
        }
    }
    out
}
