//! `firedrill tsdb import FILE`: backfill an exposition file with timestamps
//! into the data dir's store.

use anyhow::{Context, Result, bail};
use serde_json::json;

use crate::cli::{Cli, TsdbCmd};
use crate::output;
use crate::progress::Spinner;

pub async fn run(cli: &Cli, cmd: &TsdbCmd) -> Result<()> {
    match cmd {
        TsdbCmd::Import { file } => {
            if let Some(rec) = crate::datadir::read_record(&cli.data_dir) {
                bail!(
                    "a lab (pid {}) is using {}: stop it first (`firedrill down`), then import",
                    rec.pid,
                    cli.data_dir.display()
                );
            }
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            let dir = crate::datadir::prepare(&cli.data_dir)?.join("tsdb");
            let spinner = Spinner::new(&format!("importing {}", file.display()));
            let result = tokio::task::spawn_blocking(move || -> Result<_> {
                let opts = telemetry::tsdb::TsdbOptions {
                    background: false,
                    ..Default::default()
                };
                let db = telemetry::tsdb::Tsdb::open(&dir, opts)
                    .with_context(|| format!("opening the store in {}", dir.display()))?;
                let stats = telemetry::tsdb::import(&db, &text)?;
                db.close()?;
                Ok(stats)
            })
            .await?;
            let stats = match result {
                Ok(s) => {
                    spinner.done("imported");
                    s
                }
                Err(e) => {
                    spinner.fail();
                    // Located: FILE:LINE: what is wrong.
                    if let Some(ie) = e.downcast_ref::<telemetry::tsdb::ImportError>() {
                        let msg = ie.to_string();
                        return Err(match ie.line() {
                            Some(line) => {
                                let what =
                                    msg.strip_prefix(&format!("line {line}: ")).unwrap_or(&msg);
                                anyhow::anyhow!("{}:{line}: {what}", file.display())
                            }
                            None => anyhow::anyhow!("{}: {msg}", file.display()),
                        });
                    }
                    return Err(e.context(format!("importing {}", file.display())));
                }
            };
            let v = json!({
                "file": file.display().to_string(),
                "samples_read": stats.samples_read,
                "appended": stats.appended,
                "out_of_order": stats.out_of_order,
                "series": stats.series,
                "min_time_ms": stats.min_t,
                "max_time_ms": stats.max_t,
            });
            output::emit(cli.output, &v, || {
                println!(
                    "{}: {} samples of {} series imported ({} out of order dropped)",
                    file.display(),
                    stats.appended,
                    stats.series,
                    stats.out_of_order
                )
            });
        }
    }
    Ok(())
}
