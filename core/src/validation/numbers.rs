//! The numeric keywords (bounds, `multipleOf`, integer formats) and JSON equality for
//! `enum` and `uniqueItems`, where `1` and `1.0` are the same number.

use super::formats::check_format;
use super::schema::Schema;
use super::schema_check::Sink;
use serde_json::Value;

/// Records the violations of number `n` (at `at`) of schema `s`'s numeric keywords.
pub(super) fn number(s: &Schema, n: &serde_json::Number, at: &str, sink: &mut Sink) {
    let Some(x) = n.as_f64() else { return };
    if let Some(min) = s.minimum.filter(|&m| x < m) {
        sink.push(at, format!("must be at least {min}"));
    }
    if let Some(max) = s.maximum.filter(|&m| x > m) {
        sink.push(at, format!("must be at most {max}"));
    }
    if let Some(min) = s.exclusive_minimum.filter(|&m| x <= m) {
        sink.push(at, format!("must be greater than {min}"));
    }
    if let Some(max) = s.exclusive_maximum.filter(|&m| x >= m) {
        sink.push(at, format!("must be less than {max}"));
    }
    if let Some(m) = s.multiple_of {
        let q = x / m;
        if q.is_finite() && (q - q.round()).abs() > 1e-9 {
            sink.push(at, format!("must be a multiple of {m}"));
        }
    }
    if let Some(format) = s.format {
        if let Err(reason) = check_format(format, &Value::Number(n.clone())) {
            sink.push(at, reason);
        }
    }
}

/// JSON equality where `1` and `1.0` are the same number.
pub(super) fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}
