//! What the fault check costs a request: `on_request` and `on_call` with no
//! fault active (the lab's normal state: one atomic load), and for contrast
//! with one fault active on another route (the list is walked). Median of
//! 15 rounds of 2 million calls each, side by side in one run.
//!
//! Run: `cargo bench -p lab --bench fault_check`

use std::hint::black_box;
use std::time::Instant;

use lab::faults::{FaultKind, FaultSpec};
use lab::runtime::faults::Faults;

fn ns_per_call(f: &Faults, n: u32) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        black_box(f.on_request(black_box("/product/{id}")));
        black_box(f.on_call(black_box("currency")));
    }
    start.elapsed().as_nanos() as f64 / (2.0 * n as f64)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let idle = Faults::new(std::env::temp_dir(), "bench-0".into());
    let busy = Faults::new(std::env::temp_dir(), "bench-1".into());
    busy.add(FaultSpec {
        id: "f1".into(),
        kind: FaultKind::Latency {
            delay_ms: 100,
            jitter_ms: 0,
        },
        percent: 100.0,
        route: Some("/cart".into()),
        to: None,
        ttl_ms: 3_600_000,
    })
    .expect("fault");
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..15 {
        a.push(ns_per_call(&idle, 2_000_000));
        b.push(ns_per_call(&busy, 2_000_000));
    }
    let (a, b) = (median(a), median(b));
    println!("fault check, no fault active: median {a:.2} ns per check");
    println!(
        "fault check, one fault active elsewhere: median {b:.2} ns per check ({:.1}x)",
        b / a
    );
}
