//! What names in an SLO spec may be, so that the generated rule file passes
//! `firedrill rules check` and `promtool check rules`.

/// Sloth's rule for service and SLO names (and so the `sloth_id`):
/// `^[A-Za-z0-9][-A-Za-z0-9_.]*[A-Za-z0-9]$`.
pub fn check_sloth_name(s: &str) -> Result<(), String> {
    let ok_inner = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let ok = s.len() >= 2
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
        && s.chars().all(ok_inner);
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{s:?}: a name starts and ends with a letter or digit and has only letters, digits, '.', '_' and '-' (as in Sloth)"
        ))
    }
}

fn is_label_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .enumerate()
            .all(|(i, c)| c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()))
}

/// A Prometheus label (or annotation) name: `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn check_label_name(s: &str) -> Result<(), String> {
    if s == "__name__" {
        return Err("the label name \"__name__\" is reserved".into());
    }
    if is_label_name(s) {
        Ok(())
    } else {
        Err(format!(
            "invalid label name {s:?}: use letters, digits and '_', not starting with a digit"
        ))
    }
}

/// An alert name as Prometheus and `rules check` take it:
/// `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub fn check_alert_name(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.chars().enumerate().all(|(i, c)| {
            c == '_' || c == ':' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid alert name {s:?}: use letters, digits, '_' and ':', not starting with a digit (e.g. MyServiceHighErrorRate)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(check_sloth_name("requests-availability").is_ok());
        assert!(check_sloth_name("k8s.apiserver_1").is_ok());
        for bad in ["a", "-a", "a-", "a b", "", "a/b"] {
            assert!(check_sloth_name(bad).is_err(), "{bad}");
        }
        assert!(check_label_name("slack_channel").is_ok());
        for bad in ["1a", "a-b", "a b", "", "__name__"] {
            assert!(check_label_name(bad).is_err(), "{bad}");
        }
        assert!(check_alert_name("MyServiceHighErrorRate").is_ok());
        assert!(check_alert_name("slo:burn").is_ok());
        for bad in ["My Alert", "a-b", "1a", ""] {
            assert!(check_alert_name(bad).is_err(), "{bad}");
        }
    }
}
