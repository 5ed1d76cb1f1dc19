//! The supervisor's own metrics, exposed on the control plane's `/metrics`.

use std::path::PathBuf;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

/// Restart counts per instance (`lab_instance_restarts_total{instance="cart/0"}`)
/// and the space of the filesystem holding the lab's data dir.
#[derive(Debug, Default, Clone)]
pub struct SupervisorMetrics {
    restarts: Family<Vec<(String, String)>, Counter>,
    data_dir: PathBuf,
}

fn instance_labels(instance: &str) -> Vec<(String, String)> {
    let service = instance.split('/').next().unwrap_or(instance);
    vec![
        ("service".to_string(), service.to_string()),
        ("lab_instance".to_string(), instance.to_string()),
    ]
}

impl SupervisorMetrics {
    pub fn new(data_dir: PathBuf) -> Self {
        SupervisorMetrics {
            data_dir,
            ..SupervisorMetrics::default()
        }
    }

    /// Creates the instance's restart counter at 0, so that `increase()`
    /// sees its first restart (a counter born at 1 shows no increase).
    pub fn started(&self, instance: &str) {
        let _ = self.restarts.get_or_create(&instance_labels(instance));
    }

    pub fn restarted(&self, instance: &str) {
        self.restarts
            .get_or_create(&instance_labels(instance))
            .inc();
    }

    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "lab_instance_restarts",
            "Restarts of lab instances by the supervisor after a crash",
            self.restarts.clone(),
        );
        registry.register_collector(Box::new(DataDirSpace(self.data_dir.clone())));
    }
}

/// Free and total bytes of the filesystem holding the data dir (the store,
/// the journal, request logs and disk faults' files), read at each scrape.
#[derive(Debug)]
struct DataDirSpace(PathBuf);

impl Collector for DataDirSpace {
    fn encode(&self, mut enc: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        // A statvfs(2) call: metadata only, no file read.
        let Ok(fs) = nix::sys::statvfs::statvfs(&self.0) else {
            return Ok(());
        };
        let block = fs.fragment_size() as f64;
        for (name, help, blocks) in [
            (
                "lab_data_dir_filesystem_avail_bytes",
                "Bytes free for unprivileged writers on the filesystem of the lab's data dir",
                fs.blocks_available() as f64,
            ),
            (
                "lab_data_dir_filesystem_size_bytes",
                "Size in bytes of the filesystem of the lab's data dir",
                fs.blocks() as f64,
            ),
        ] {
            let m = enc.encode_descriptor(name, help, None, MetricType::Gauge)?;
            ConstGauge::new(blocks * block).encode(m)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposes_restarts_from_zero_and_data_dir_space() {
        let dir = tempfile::tempdir().unwrap();
        let m = SupervisorMetrics::new(dir.path().to_path_buf());
        m.started("cart/0");
        m.started("cart/1");
        m.restarted("cart/1");
        let mut r = Registry::default();
        m.register(&mut r);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &r).unwrap();
        assert!(
            text.contains(r#"lab_instance_restarts_total{service="cart",lab_instance="cart/0"} 0"#),
            "{text}"
        );
        assert!(
            text.contains(r#"lab_instance_restarts_total{service="cart",lab_instance="cart/1"} 1"#),
            "{text}"
        );
        let value = |name: &str| -> f64 {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("{name} ")))
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{name} missing:\n{text}"))
        };
        let avail = value("lab_data_dir_filesystem_avail_bytes");
        let size = value("lab_data_dir_filesystem_size_bytes");
        assert!(size > 0.0 && avail <= size, "{text}");
    }
}
