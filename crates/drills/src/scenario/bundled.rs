//! The scenarios built into firedrill: every `crates/drills/scenarios/*.yaml`
//! (the build script lists them). A bundled file that does not load is a
//! bug, caught by this module's test.

use std::path::Path;
use std::sync::OnceLock;

use super::{Scenario, load, parse};
use crate::DrillError;

/// `(file name, text)` of every bundled scenario, by file name.
pub const FILES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/bundled.rs"));

/// Every bundled scenario, in file-name order.
pub fn all() -> Vec<Scenario> {
    static ALL: OnceLock<Vec<Scenario>> = OnceLock::new();
    ALL.get_or_init(|| {
        FILES
            .iter()
            .map(|(name, text)| {
                parse(text, &format!("scenarios/{name}"))
                    .unwrap_or_else(|e| panic!("bundled scenario {name} does not load: {e}"))
            })
            .collect()
    })
    .clone()
}

/// The bundled scenario `id`.
pub fn find(id: &str) -> Option<Scenario> {
    all().into_iter().find(|s| s.id == id)
}

/// A bundled scenario by id, else a scenario file.
pub fn find_or_load(id_or_path: &str) -> Result<Scenario, DrillError> {
    if let Some(s) = find(id_or_path) {
        return Ok(s);
    }
    let path = Path::new(id_or_path);
    if path.is_file() {
        return Ok(load(path)?);
    }
    Err(DrillError::UnknownScenario(id_or_path.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_scenario_loads_and_is_named_after_its_file() {
        assert!(!FILES.is_empty());
        for (name, text) in FILES {
            let s = parse(text, &format!("scenarios/{name}"))
                .unwrap_or_else(|e| panic!("{name}:\n{e}"));
            assert_eq!(
                format!("{}.yaml", s.id),
                *name,
                "a scenario's file is its id"
            );
        }
        let ids: Vec<String> = all().into_iter().map(|s| s.id).collect();
        assert_eq!(ids.len(), FILES.len());
    }

    #[test]
    fn finds_by_id_or_path_and_names_what_is_unknown() {
        assert_eq!(
            find("bad-release").map(|s| s.topology).as_deref(),
            Some("shop")
        );
        assert!(find("no-such-drill").is_none());
        let err = find_or_load("no-such-drill").unwrap_err();
        assert!(matches!(err, DrillError::UnknownScenario(ref s) if s == "no-such-drill"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mine.yaml");
        let (_, text) = FILES
            .iter()
            .find(|(n, _)| *n == "bad-release.yaml")
            .unwrap();
        std::fs::write(&path, text.replace("id: bad-release", "id: mine")).unwrap();
        let s = find_or_load(path.to_str().unwrap()).unwrap();
        assert_eq!(s.id, "mine");
        std::fs::write(&path, "id: [").unwrap();
        let err = find_or_load(path.to_str().unwrap()).unwrap_err();
        assert!(matches!(err, DrillError::Scenario(_)), "{err}");
    }
}
