//! Chaos experiments: files (`spec.rs`), the runner and its report
//! (`run.rs`). Bundled experiments live in `crates/chaos/experiments/`.

pub mod run;
pub mod spec;

pub use run::{Report, Verdict, render, run};
pub use spec::{
    BUNDLED, Experiment, SloNames, SpecError, parse, parse_with, resolve, resolve_with,
};
