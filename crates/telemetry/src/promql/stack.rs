//! Evaluation of deep expressions on a thread whose stack fits them: the
//! parser and the evaluator recurse once per level of the syntax tree, and
//! a caller's stack (2 MiB on tokio's blocking threads) holds only a few
//! dozen levels of evaluation in debug builds.

use super::QueryError;

/// Deepest tree evaluated on the caller's own stack (about 0.5 MiB in debug
/// builds, far less in release builds).
pub const INLINE_DEPTH: usize = 24;

/// Stack reserved per level of tree depth. Debug builds use up to ~22 KiB
/// per level (nested subqueries and function calls); the rest is margin.
const STACK_PER_LEVEL: usize = 48 * 1024;

/// Stack reserved besides the levels: storage reads, sorting, formatting.
const STACK_BASE: usize = 2 * 1024 * 1024;

/// Runs `f` inline when `depth` is small, else on a scoped thread with a
/// stack of [`STACK_BASE`] plus [`STACK_PER_LEVEL`] per level (virtual
/// memory: only what is touched is committed).
pub fn with_stack_for<T: Send>(
    depth: usize,
    f: impl FnOnce() -> Result<T, QueryError> + Send,
) -> Result<T, QueryError> {
    if depth <= INLINE_DEPTH {
        return f();
    }
    let size = STACK_BASE + depth * STACK_PER_LEVEL;
    std::thread::scope(|s| {
        let handle = std::thread::Builder::new()
            .name("promql-deep".into())
            .stack_size(size)
            .spawn_scoped(s, f)
            .map_err(|e| {
                QueryError::Execution(format!(
                    "cannot start a thread for a query {depth} levels deep: {e}"
                ))
            })?;
        handle
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}
