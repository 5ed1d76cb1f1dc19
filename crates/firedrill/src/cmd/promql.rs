//! `firedrill promql test FILE...`: PromQL test scripts (Prometheus's
//! promqltest format) against our engine.

use anyhow::{Result, bail};
use serde_json::json;

use crate::cli::Output;
use crate::cli::{Cli, PromqlCmd};
use crate::output;

pub async fn run(cli: &Cli, cmd: &PromqlCmd) -> Result<()> {
    let PromqlCmd::Test { files, verbose } = cmd;
    let mut reports = Vec::new();
    for f in files {
        let path = f.clone();
        let r = tokio::task::spawn_blocking(move || telemetry::promqltest::run_file(&path)).await?;
        reports.push(r);
    }
    let (passed, failed, skipped) = reports.iter().fold((0, 0, 0), |(p, f, s), r| {
        (p + r.passed, f + r.failed, s + r.skipped)
    });
    let v = json!({
        "files": reports.iter().map(|r| json!({
            "file": r.file,
            "passed": r.passed,
            "failed": r.failed,
            "skipped": r.skipped,
            "failures": r.failures.iter().map(|(l, w)| json!({"line": l, "reason": w})).collect::<Vec<_>>(),
            "skips": r.skips.iter().map(|(l, w)| json!({"line": l, "reason": w})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "passed": passed,
        "failed": failed,
        "skipped": skipped,
    });
    output::emit(cli.output, &v, || {
        let mut rows: Vec<Vec<String>> = reports
            .iter()
            .map(|r| {
                vec![
                    r.file.clone(),
                    r.passed.to_string(),
                    r.failed.to_string(),
                    r.skipped.to_string(),
                ]
            })
            .collect();
        rows.push(vec![
            "total".into(),
            passed.to_string(),
            failed.to_string(),
            skipped.to_string(),
        ]);
        output::table(&["FILE", "PASSED", "FAILED", "SKIPPED"], &rows);
        for r in &reports {
            for (line, why) in &r.failures {
                println!("FAIL {}:{line}: {why}", r.file);
            }
            if *verbose {
                for (line, why) in &r.skips {
                    println!("SKIP {}:{line}: {why}", r.file);
                }
            }
        }
    });
    // A script that tests nothing (empty, or cut short before its first
    // `eval`) is a mistake, not a pass.
    let empty: Vec<&str> = reports
        .iter()
        .filter(|r| r.passed + r.failed + r.skipped == 0)
        .map(|r| r.file.as_str())
        .collect();
    if !empty.is_empty() {
        bail!(
            "{}: no `eval` command: nothing was tested",
            empty.join(", ")
        );
    }
    if failed > 0 {
        if matches!(cli.output, Output::Json) {
            std::process::exit(1);
        }
        bail!("{failed} case(s) failed");
    }
    Ok(())
}
