//! Process faults: burning CPU, leaking memory, filling disk. Each runs on
//! its own thread until its stop flag is set, and undoes itself then. The
//! threads are named as a service's own background work would be (`ps -T`
//! shows them), and their log lines read like it.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const SLICE: Duration = Duration::from_millis(10);

/// Busy for `share` of every 10 ms slice, asleep for the rest.
pub fn burn_cpu(share: f64, stop: Arc<AtomicBool>) {
    let _ = std::thread::Builder::new()
        .name("compactor".into())
        .spawn(move || {
            let busy = SLICE.mul_f64(share.clamp(0.0, 1.0));
            let mut x: u64 = 1;
            while !stop.load(Ordering::Acquire) {
                let start = Instant::now();
                while start.elapsed() < busy {
                    x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                }
                std::hint::black_box(x);
                std::thread::sleep(SLICE.saturating_sub(busy));
            }
        });
}

/// Allocates and touches 1 MiB blocks at `mb_per_s` up to `cap_mb`; frees
/// them all when stopped.
pub fn leak_memory(mb_per_s: u64, cap_mb: u64, stop: Arc<AtomicBool>) {
    let _ = std::thread::Builder::new()
        .name("cache-loader".into())
        .spawn(move || {
            let mut held: Vec<Vec<u8>> = Vec::new();
            let tick = Duration::from_millis(100);
            let mut owed = 0.0;
            while !stop.load(Ordering::Acquire) {
                owed += mb_per_s as f64 / 10.0;
                while owed >= 1.0 && (held.len() as u64) < cap_mb {
                    // Non-zero bytes on every page: resident, not just reserved.
                    held.push(vec![0xA5; 1 << 20]);
                    owed -= 1.0;
                }
                if held.len() as u64 >= cap_mb {
                    owed = 0.0;
                }
                std::thread::sleep(tick);
            }
            drop(held);
        });
}

/// Writes `path` at `mb_per_s` up to `size_mb`; deletes it when stopped.
pub fn fill_disk(path: PathBuf, mb_per_s: u64, size_mb: u64, stop: Arc<AtomicBool>) {
    let _ = std::thread::Builder::new()
        .name("spooler".into())
        .spawn(move || {
            let run = || -> std::io::Result<()> {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                let mut f = std::fs::File::create(&path)?;
                let block = vec![0x5Au8; 1 << 20];
                let (mut written, mut owed) = (0u64, 0.0);
                while !stop.load(Ordering::Acquire) {
                    owed += mb_per_s as f64 / 10.0;
                    while owed >= 1.0 && written < size_mb {
                        f.write_all(&block)?;
                        written += 1;
                        owed -= 1.0;
                    }
                    if written >= size_mb {
                        owed = 0.0;
                    }
                    f.flush()?;
                    std::thread::sleep(Duration::from_millis(100));
                }
                Ok(())
            };
            if let Err(e) = run() {
                tracing::warn!(error = %e, path = %path.display(), "could not write the spool file");
            }
            let _ = std::fs::remove_file(&path);
        });
}
