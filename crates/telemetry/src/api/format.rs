//! JSON shapes of the Prometheus HTTP API.

use serde_json::{Map, Value, json};

use crate::model::Labels;
use crate::promql::{QueryResult, Value as QValue};

/// A float as Prometheus writes sample values: shortest round-trip decimal,
/// `+Inf`, `-Inf`, `NaN`.
pub fn float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v}")
    }
}

/// A timestamp in ms as the API's float seconds.
pub fn time(t_ms: i64) -> Value {
    let secs = t_ms as f64 / 1000.0;
    serde_json::Number::from_f64(secs)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

pub fn labels(l: &Labels) -> Value {
    let mut m = Map::new();
    for lb in l.iter() {
        m.insert(lb.name.clone(), Value::String(lb.value.clone()));
    }
    Value::Object(m)
}

/// `data` of a query response: `resultType` and `result`.
pub fn query_data(r: &QueryResult) -> Value {
    let result = match &r.value {
        QValue::Scalar { t, v } => json!([time(*t), float(*v)]),
        QValue::String { t, v } => json!([time(*t), v]),
        QValue::Vector(samples) => Value::Array(
            samples
                .iter()
                .map(|s| json!({"metric": labels(&s.labels), "value": [time(s.t), float(s.v)]}))
                .collect(),
        ),
        QValue::Matrix(series) => Value::Array(
            series
                .iter()
                .map(|s| {
                    json!({
                        "metric": labels(&s.labels),
                        "values": s.samples.iter().map(|p| json!([time(p.t), float(p.v)])).collect::<Vec<_>>(),
                    })
                })
                .collect(),
        ),
    };
    json!({ "resultType": r.value.type_name(), "result": result })
}

/// The success envelope, with warnings and infos when there are any.
pub fn success(data: Value, warnings: &[String], infos: &[String]) -> Value {
    let mut v = json!({ "status": "success", "data": data });
    if let Some(o) = v.as_object_mut() {
        if !warnings.is_empty() {
            o.insert("warnings".into(), json!(warnings));
        }
        if !infos.is_empty() {
            o.insert("infos".into(), json!(infos));
        }
    }
    v
}

pub fn error(error_type: &str, msg: &str) -> Value {
    json!({ "status": "error", "errorType": error_type, "error": msg })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_like_prometheus() {
        assert_eq!(float(1.0), "1");
        assert_eq!(float(0.1), "0.1");
        assert_eq!(float(1e-7), "0.0000001");
        assert_eq!(float(f64::INFINITY), "+Inf");
        assert_eq!(float(f64::NEG_INFINITY), "-Inf");
        assert_eq!(float(f64::NAN), "NaN");
        assert_eq!(time(1_435_781_451_781), json!(1435781451.781));
    }
}
