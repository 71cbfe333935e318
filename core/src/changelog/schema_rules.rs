//! The leaf rules of the schema diff: type sets (an integer is a number; `nullable` adds
//! `null`), enums and the numeric and length constraints of values a client sends.

use super::{Ctx, Differ};
use serde_json::Value;
use std::collections::{BTreeSet, HashSet};

pub(super) fn types(schema: &Value) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = match schema.get("type") {
        Some(Value::String(t)) => [t.clone()].into_iter().collect(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => BTreeSet::new(),
    };
    if schema.get("nullable") == Some(&Value::Bool(true)) && !out.is_empty() {
        out.insert("null".into());
    }
    out
}

/// Whether every type in `from` is still accepted by `to` (an integer is a number).
pub(super) fn covered(from: &BTreeSet<String>, to: &BTreeSet<String>) -> bool {
    from.iter()
        .all(|t| to.contains(t) || (t == "integer" && to.contains("number")))
}

fn enum_values(schema: &Value) -> Option<HashSet<String>> {
    schema
        .get("enum")?
        .as_array()
        .map(|vs| vs.iter().map(Value::to_string).collect())
}

pub(super) fn required(schema: &Value) -> BTreeSet<&str> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

fn number(schema: &Value, key: &str) -> Option<f64> {
    schema.get(key).and_then(Value::as_f64)
}

impl Differ<'_> {
    pub(super) fn enums(
        &mut self,
        old: &Value,
        new: &Value,
        request: bool,
        ctx: &Ctx,
        loc: &str,
        pointer: &str,
    ) {
        let (oe, ne) = (enum_values(old), enum_values(new));
        let (removed, added): (Vec<String>, Vec<String>) = match (&oe, &ne) {
            (Some(o), Some(n)) => (
                o.difference(n).cloned().collect(),
                n.difference(o).cloned().collect(),
            ),
            (None, Some(_)) => (vec!["(any value)".into()], Vec::new()),
            (Some(_), None) => (Vec::new(), vec!["(any value)".into()]),
            (None, None) => return,
        };
        let sorted = |mut v: Vec<String>| {
            v.sort();
            v.join(", ")
        };
        if !removed.is_empty() {
            self.push(
                "enum-narrowed",
                request,
                ctx,
                loc,
                pointer,
                format!("values no longer allowed: {}", sorted(removed)),
            );
        }
        if !added.is_empty() {
            self.push(
                "enum-widened",
                !request,
                ctx,
                loc,
                pointer,
                format!("values added: {}", sorted(added)),
            );
        }
    }

    pub(super) fn constraints(
        &mut self,
        old: &Value,
        new: &Value,
        ctx: &Ctx,
        loc: &str,
        pointer: &str,
    ) {
        // (member, true when a larger value is tighter)
        for (key, larger_is_tighter) in [
            ("maxLength", false),
            ("maximum", false),
            ("maxItems", false),
            ("minLength", true),
            ("minimum", true),
            ("minItems", true),
        ] {
            let (o, n) = (number(old, key), number(new, key));
            let tighter = match (o, n) {
                (None, Some(_)) => true,
                (Some(o), Some(n)) => {
                    if larger_is_tighter {
                        n > o
                    } else {
                        n < o
                    }
                }
                _ => false,
            };
            if tighter {
                let show = |v: Option<f64>| v.map_or("none".to_owned(), |v| v.to_string());
                self.push(
                    "constraint-tightened",
                    true,
                    ctx,
                    loc,
                    pointer,
                    format!("`{key}` tightened from {} to {}", show(o), show(n)),
                );
            }
        }
        let (op, np) = (old.get("pattern"), new.get("pattern"));
        if np.is_some() && op != np {
            self.push(
                "constraint-tightened",
                true,
                ctx,
                loc,
                pointer,
                "`pattern` changed".into(),
            );
        }
    }
}
