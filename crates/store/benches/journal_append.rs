//! Journal appends per second on SQLite (a file, WAL) and on PostgreSQL
//! (loopback; `FIREDRILL_TEST_POSTGRES_URL`, skipped with a message when
//! unset). Each append is awaited until stored, as components do: one
//! writer appending in a loop, and 8 concurrent writers. 5 rounds of 2,000
//! appends each (1,000 per writer when concurrent), interleaved between
//! backends; medians reported.
//!
//! Run: `cargo bench -p store --bench journal_append`

use std::time::Instant;

use store::{Db, Journal};

async fn round(j: &Journal, writers: usize, total: usize) -> f64 {
    let start = Instant::now();
    let per = total / writers;
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let j = j.clone();
            tokio::spawn(async move {
                for i in 0..per {
                    j.append(
                        "bench.event",
                        "bench",
                        &format!("writer-{w}"),
                        serde_json::json!({"i": i, "note": "an ordinary attribute payload"}),
                    )
                    .await
                    .expect("append");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("task");
    }
    total as f64 / start.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut backends = vec![(
            "SQLite (WAL, synchronous=NORMAL)",
            Journal::new(Db::open(&Db::sqlite_url(dir.path())).await.expect("sqlite")),
        )];
        match std::env::var("FIREDRILL_TEST_POSTGRES_URL") {
            Ok(base) => {
                let name = format!("firedrill_bench_{}", std::process::id());
                let url = store::db::fresh_postgres(&base, &name)
                    .await
                    .expect("postgres");
                backends.push((
                    "PostgreSQL 15 (loopback)",
                    Journal::new(Db::open(&url).await.expect("postgres db")),
                ));
            }
            Err(_) => eprintln!("PostgreSQL skipped: set FIREDRILL_TEST_POSTGRES_URL"),
        }
        let pg_bench_db = std::env::var("FIREDRILL_TEST_POSTGRES_URL")
            .ok()
            .map(|base| (base, format!("firedrill_bench_{}", std::process::id())));
        for writers in [1, 8] {
            let mut results: Vec<Vec<f64>> = vec![Vec::new(); backends.len()];
            for _ in 0..5 {
                for (i, (_, j)) in backends.iter().enumerate() {
                    results[i].push(round(j, writers, 2000).await);
                }
            }
            for ((name, _), r) in backends.iter().zip(results) {
                let runs: Vec<String> = r.iter().map(|x| format!("{x:.0}")).collect();
                println!(
                    "{name}, {writers} writer(s): median {:.0} appends/s (runs {})",
                    median(r),
                    runs.join(", ")
                );
            }
        }
        for (_, j) in &backends {
            j.db().close().await;
        }
        if let Some((base, name)) = pg_bench_db {
            store::db::drop_postgres(&base, &name).await;
        }
    });
}
