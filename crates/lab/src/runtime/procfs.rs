//! Process metrics read from /proc on every scrape, as the Prometheus client
//! libraries export them.

use std::sync::OnceLock;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

/// A snapshot of this process's resource use.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ProcessStats {
    pub cpu_seconds: f64,
    pub resident_bytes: i64,
    pub virtual_bytes: i64,
    pub open_fds: i64,
    pub max_fds: i64,
    pub start_time_seconds: f64,
    pub threads: i64,
}

fn clock_ticks() -> f64 {
    static TICKS: OnceLock<f64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
            .ok()
            .flatten()
            .map(|t| t as f64)
            .unwrap_or(100.0)
    })
}

fn page_size() -> i64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .unwrap_or(4096)
}

fn boot_time() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    stat.lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

/// Parses `/proc/self/stat` (fields after the command name, which may hold spaces).
pub fn parse_stat(stat: &str) -> Option<(f64, i64, i64, f64, i64)> {
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // Index = field number of proc(5) minus 3: the slice starts at field 3 (state).
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    let threads: i64 = f.get(17)?.parse().ok()?;
    let start_ticks: f64 = f.get(19)?.parse().ok()?;
    let vsize: i64 = f.get(20)?.parse().ok()?;
    let rss_pages: i64 = f.get(21)?.parse().ok()?;
    let t = clock_ticks();
    Some((
        (utime + stime) / t,
        vsize,
        rss_pages,
        start_ticks / t,
        threads,
    ))
}

pub fn read() -> ProcessStats {
    let mut s = ProcessStats::default();
    if let Some((cpu, vsize, rss_pages, start, threads)) =
        std::fs::read_to_string("/proc/self/stat")
            .ok()
            .as_deref()
            .and_then(parse_stat)
    {
        s.cpu_seconds = cpu;
        s.virtual_bytes = vsize;
        s.resident_bytes = rss_pages * page_size();
        s.start_time_seconds = boot_time().unwrap_or(0.0) + start;
        s.threads = threads;
    }
    s.open_fds = std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count() as i64)
        .unwrap_or(0);
    s.max_fds = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .map(|(soft, _)| soft as i64)
        .unwrap_or(0);
    s
}

/// The memory this process may use before the kernel's OOM killer ends it:
/// the smallest cgroup limit found (v2 `memory.max`, v1
/// `memory.limit_in_bytes`, at the process's cgroup and the mount's root),
/// never more than the machine's memory (`MemTotal`). Read once: limits are
/// set before a process starts.
pub fn memory_limit_bytes() -> i64 {
    static LIMIT: OnceLock<i64> = OnceLock::new();
    *LIMIT.get_or_init(|| {
        let read = |p: String| std::fs::read_to_string(p).ok();
        let cgroups = read("/proc/self/cgroup".into()).unwrap_or_default();
        let mut files = vec![
            "/sys/fs/cgroup/memory.max".to_string(),
            "/sys/fs/cgroup/memory/memory.limit_in_bytes".to_string(),
        ];
        for (controllers, path) in cgroup_paths(&cgroups) {
            if controllers.is_empty() {
                files.push(format!("/sys/fs/cgroup{path}/memory.max"));
            } else if controllers.split(',').any(|c| c == "memory") {
                files.push(format!("/sys/fs/cgroup/memory{path}/memory.limit_in_bytes"));
            }
        }
        let total = read("/proc/meminfo".into())
            .as_deref()
            .and_then(mem_total_bytes);
        let limits = files.into_iter().filter_map(read);
        smallest_limit(limits, total)
    })
}

/// `(controllers, path)` of each line of `/proc/self/cgroup`
/// (`hierarchy-id:controllers:path`; v2's line has no controllers).
pub fn cgroup_paths(text: &str) -> Vec<(&str, &str)> {
    text.lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, ':');
            parts.next()?;
            Some((parts.next()?, parts.next()?))
        })
        .collect()
}

/// `MemTotal` of `/proc/meminfo`, in bytes.
pub fn mem_total_bytes(meminfo: &str) -> Option<i64> {
    let kb: i64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// The smallest numeric limit (`max` and unreadable ones ignored), capped
/// at the machine's memory; 0 when nothing is known.
pub fn smallest_limit(limits: impl Iterator<Item = String>, total: Option<i64>) -> i64 {
    limits
        .filter_map(|l| l.trim().parse::<i64>().ok())
        .filter(|l| *l > 0)
        .chain(total)
        .min()
        .unwrap_or(0)
}

/// Registered in an instance's registry; reads /proc at each scrape.
#[derive(Debug)]
pub struct ProcessCollector;

fn gauge<N>(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    v: N,
) -> Result<(), std::fmt::Error>
where
    ConstGauge<N>: EncodeMetric,
{
    let m = enc.encode_descriptor(name, help, None, MetricType::Gauge)?;
    ConstGauge::new(v).encode(m)
}

impl Collector for ProcessCollector {
    fn encode(&self, mut enc: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let s = read();
        let m = enc.encode_descriptor(
            "process_cpu_seconds",
            "Total user and system CPU time spent in seconds.",
            None,
            MetricType::Counter,
        )?;
        ConstCounter::new(s.cpu_seconds).encode(m)?;
        gauge(
            &mut enc,
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
            s.resident_bytes,
        )?;
        gauge(
            &mut enc,
            "process_virtual_memory_bytes",
            "Virtual memory size in bytes.",
            s.virtual_bytes,
        )?;
        gauge(
            &mut enc,
            "process_open_fds",
            "Number of open file descriptors.",
            s.open_fds,
        )?;
        gauge(
            &mut enc,
            "process_max_fds",
            "Maximum number of open file descriptors.",
            s.max_fds,
        )?;
        gauge(
            &mut enc,
            "process_threads",
            "Number of OS threads in the process.",
            s.threads,
        )?;
        gauge(
            &mut enc,
            "lab_memory_limit_bytes",
            "Memory this process may use before the OOM killer ends it: its cgroup's limit, at most the machine's memory.",
            memory_limit_bytes(),
        )?;
        gauge(
            &mut enc,
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            s.start_time_seconds,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_process() {
        let s = read();
        assert!(s.resident_bytes > 0, "{s:?}");
        assert!(s.open_fds > 0, "{s:?}");
        assert!(s.start_time_seconds > 1.0e9, "{s:?}");
    }

    #[test]
    fn memory_limit_is_the_smallest_known() {
        let meminfo = "MemTotal:       24684084 kB\nMemFree:  1 kB\n";
        let total = mem_total_bytes(meminfo);
        assert_eq!(total, Some(24684084 * 1024));
        let found = ["max\n", "9223372036854771712\n", "536870912\n", "junk"];
        let limit = smallest_limit(found.iter().map(|s| s.to_string()), total);
        assert_eq!(limit, 536870912);
        let unlimited = smallest_limit(["max".to_string()].into_iter(), total);
        assert_eq!(unlimited, 24684084 * 1024);
        assert_eq!(smallest_limit(std::iter::empty(), None), 0);
        assert!(memory_limit_bytes() > 0);
        let paths = cgroup_paths("4:memory:/lab/a\n0::/user.slice\n");
        assert_eq!(paths, vec![("memory", "/lab/a"), ("", "/user.slice")]);
    }

    #[test]
    fn command_names_with_spaces() {
        let stat = "42 (a b) c) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 1000 123456 789 18446744073709551615";
        let (cpu, vsize, rss, _start, threads) = parse_stat(stat).expect("parses");
        assert!((cpu - 300.0 / clock_ticks()).abs() < 1e-9);
        assert_eq!((vsize, rss, threads), (123456, 789, 3));
    }
}
