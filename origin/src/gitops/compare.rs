//! Whether what the file says matches what the origin stores, member by member. The
//! origin fills in defaults (a burst equal to the request count, a shedding window of
//! 10 s) and adds answer-only members, so a member the file leaves out of a nested block
//! is not a difference; a member the file sets must match exactly.

use serde_json::Value;

/// Whether `stored` says everything `wanted` says.
pub fn covers(wanted: &Value, stored: &Value) -> bool {
    match (wanted, stored) {
        (Value::Object(w), Value::Object(s)) => w.iter().all(|(k, v)| {
            let there = s.get(k).unwrap_or(&Value::Null);
            if v.is_null() {
                there.is_null()
            } else {
                covers(v, there)
            }
        }),
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => wanted == stored,
    }
}

fn show(value: &Value) -> String {
    match value {
        Value::Null => "(none)".into(),
        other => other.to_string(),
    }
}

/// Field-level lines (`member: old → new`) for the members of `wanted` that `stored`
/// does not cover, plus each of `whole` (members absent from the file meaning "none")
/// the origin has and the file leaves out.
pub fn changes(wanted: &Value, stored: &Value, whole: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(w) = wanted.as_object() {
        for (k, v) in w {
            let there = stored.get(k).unwrap_or(&Value::Null);
            if !covers(v, there) {
                out.push(format!("{k}: {} → {}", show(there), show(v)));
            }
        }
    }
    for k in whole {
        let absent = wanted.get(*k).is_none_or(Value::is_null);
        let there = stored.get(*k).unwrap_or(&Value::Null);
        if absent && !there.is_null() {
            out.push(format!("{k}: {} → (none)", show(there)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_filled_by_the_origin_are_not_differences() {
        let wanted = json!({"name": "Free", "rate_limit": {"requests": 10, "per_seconds": 1}});
        let stored = json!({"id": "plan_1", "name": "Free", "rate_limit": {"requests": 10, "per_seconds": 1, "burst": 10}, "quota": null});
        assert!(covers(&wanted, &stored));
        assert!(changes(&wanted, &stored, &["rate_limit", "quota"]).is_empty());
    }

    #[test]
    fn set_members_must_match_and_whole_members_must_be_absent() {
        let wanted = json!({"name": "Free", "rate_limit": {"requests": 20, "per_seconds": 1}});
        let stored = json!({"name": "Free", "rate_limit": {"requests": 10, "per_seconds": 1}, "quota": {"requests": 5, "period": "day"}});
        let lines = changes(&wanted, &stored, &["rate_limit", "quota"]);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].starts_with("rate_limit: "), "{lines:?}");
        assert!(lines[1].ends_with("→ (none)"), "{lines:?}");
        assert!(!covers(&json!({"a": null}), &json!({"a": 1})));
        assert!(covers(&json!({"a": 1.0}), &json!({"a": 1})));
    }
}
