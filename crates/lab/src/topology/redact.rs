//! The topology as someone who may not see hidden state reads it: every
//! version keeps its name, but not what it does (its description and its
//! behaviour profile: error rate, latency, leak, CPU), which would name the
//! bug of a bad release before the trainee finds it.

use serde_json::{Value, json};

use super::model::Topology;

/// `t` as JSON with every version's profile left out (`"v2": {}`).
pub fn without_version_profiles(t: &Topology) -> Value {
    let mut v = serde_json::to_value(t).unwrap_or_default();
    if let Some(services) = v.get_mut("services").and_then(Value::as_array_mut) {
        for s in services {
            if let Some(versions) = s.get_mut("versions").and_then(Value::as_object_mut) {
                for profile in versions.values_mut() {
                    *profile = json!({});
                }
            }
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_keep_their_names_and_lose_their_profiles() {
        let t = crate::topology::resolve("shop").expect("bundled shop");
        let full = serde_json::to_value(&t).unwrap();
        assert!(full.to_string().contains("Bad release"));
        let v = without_version_profiles(&t);
        let text = v.to_string();
        for giveaway in ["Bad release", "error_rate", "extra_latency", "leak_bytes"] {
            assert!(!text.contains(giveaway), "{giveaway} in {text}");
        }
        let catalog = v["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "productcatalog")
            .unwrap();
        assert_eq!(catalog["versions"], json!({"v1": {}, "v2": {}}));
        assert_eq!(v["entry"], full["entry"]);
    }
}
