//! The operation-level half of the diff: paths (matched by template shape), methods and
//! parameters; bodies, responses and security have their own modules, schemas `schema`.

use super::bodies::{diff_request_body, diff_responses};
use super::security::diff_security;
use super::{Ctx, Differ, Direction};
use crate::openapi::operations::METHODS;
use crate::openapi::pointer::{child, follow};
use serde_json::Value;
use std::collections::BTreeMap;

static EMPTY: Value = Value::Null;

/// `/pets/{id}` → `/pets/{}`: templates that differ only in variable names match.
fn shape(template: &str) -> String {
    let mut out = String::with_capacity(template.len());
    let mut inside = false;
    for c in template.chars() {
        match c {
            '{' => {
                inside = true;
                out.push_str("{}");
            }
            '}' => inside = false,
            _ if inside => {}
            _ => out.push(c),
        }
    }
    out
}

fn paths_by_shape(doc: &Value) -> BTreeMap<String, (&str, &Value)> {
    doc.get("paths")
        .and_then(Value::as_object)
        .map(|paths| {
            paths
                .iter()
                .filter(|(k, _)| k.starts_with('/'))
                .map(|(k, v)| (shape(k), (k.as_str(), follow(doc, v).unwrap_or(v))))
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn doc_ctx(place: &str) -> Ctx {
    Ctx {
        operation: None,
        place: place.to_owned(),
    }
}

pub(super) fn diff_paths(d: &mut Differ<'_>) {
    let old_paths = paths_by_shape(d.old);
    let new_paths = paths_by_shape(d.new);
    for (key, (old_key, old_item)) in &old_paths {
        let old_at = child("/paths", old_key);
        match new_paths.get(key) {
            None => {
                let methods: Vec<String> = METHODS
                    .iter()
                    .filter(|m| old_item.get(**m).is_some())
                    .map(|m| m.to_uppercase())
                    .collect();
                d.push(
                    "path-removed",
                    true,
                    &doc_ctx(&format!("path {old_key}")),
                    "",
                    &old_at,
                    format!("`{old_key}` was removed ({})", methods.join(", ")),
                );
            }
            Some((new_key, new_item)) => {
                diff_path_item(d, (old_key, old_item), (new_key, new_item));
            }
        }
    }
    for (key, (new_key, _)) in &new_paths {
        if !old_paths.contains_key(key) {
            d.push(
                "path-added",
                false,
                &doc_ctx(&format!("path {new_key}")),
                "",
                &child("/paths", new_key),
                format!("`{new_key}` was added"),
            );
        }
    }
}

fn diff_path_item(
    d: &mut Differ<'_>,
    (old_key, old_item): (&str, &Value),
    (new_key, new_item): (&str, &Value),
) {
    let new_at = child("/paths", new_key);
    for method in METHODS {
        let name = format!("{} {new_key}", method.to_uppercase());
        let ctx = Ctx {
            operation: Some(name.clone()),
            place: String::new(),
        };
        match (old_item.get(method), new_item.get(method)) {
            (Some(_), None) => d.push(
                "operation-removed",
                true,
                &ctx,
                "operation",
                &child(&child("/paths", old_key), method),
                format!("`{name}` was removed"),
            ),
            (None, Some(_)) => d.push(
                "operation-added",
                false,
                &ctx,
                "operation",
                &child(&new_at, method),
                format!("`{name}` was added"),
            ),
            (Some(o), Some(n)) => diff_operation(
                d,
                &ctx,
                (old_key, old_item, o),
                (new_key, new_item, n),
                &child(&new_at, method),
            ),
            (None, None) => {}
        }
    }
}

/// Parameters of an operation merged with its path item's, keyed by (in, name); path
/// parameters are keyed by their position in the template.
fn parameters<'a>(
    doc: &'a Value,
    template: &str,
    item: &'a Value,
    op: &'a Value,
) -> BTreeMap<(String, String), &'a Value> {
    // Everything after each `{` up to its `}`: the template's variable names.
    let mut pieces = template.split('{');
    pieces.next();
    let vars: Vec<&str> = pieces.filter_map(|s| s.split('}').next()).collect();
    let mut out = BTreeMap::new();
    for list in [item.get("parameters"), op.get("parameters")]
        .into_iter()
        .flatten()
    {
        for p in list.as_array().into_iter().flatten() {
            let p = follow(doc, p).unwrap_or(p);
            let (Some(name), Some(place)) = (
                p.get("name").and_then(Value::as_str),
                p.get("in").and_then(Value::as_str),
            ) else {
                continue;
            };
            let name = match place {
                "path" => vars
                    .iter()
                    .position(|v| *v == name)
                    .map_or(name.to_owned(), |i| format!("#{i}")),
                "header" => name.to_ascii_lowercase(),
                _ => name.to_owned(),
            };
            out.insert((place.to_owned(), name), p);
        }
    }
    out
}

fn flag(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn diff_operation(
    d: &mut Differ<'_>,
    ctx: &Ctx,
    old: (&str, &Value, &Value),
    new: (&str, &Value, &Value),
    at: &str,
) {
    let (old_key, old_item, old_op) = old;
    let (new_key, new_item, new_op) = new;
    if !flag(old_op, "deprecated") && flag(new_op, "deprecated") {
        d.push(
            "operation-deprecated",
            false,
            ctx,
            "operation",
            at,
            "the operation is now deprecated".into(),
        );
    }
    let old_params = parameters(d.old, old_key, old_item, old_op);
    let new_params = parameters(d.new, new_key, new_item, new_op);
    for (key, old_p) in &old_params {
        let label = param_label(old_p);
        let here = Ctx {
            operation: ctx.operation.clone(),
            place: label.clone(),
        };
        match new_params.get(key) {
            None => d.push(
                "parameter-removed",
                true,
                &here,
                "",
                at,
                format!("{label} was removed"),
            ),
            Some(new_p) => {
                match (flag(old_p, "required"), flag(new_p, "required")) {
                    (false, true) => d.push(
                        "parameter-became-required",
                        true,
                        &here,
                        "",
                        at,
                        format!("{label} is now required"),
                    ),
                    (true, false) => d.push(
                        "parameter-became-optional",
                        false,
                        &here,
                        "",
                        at,
                        format!("{label} is now optional"),
                    ),
                    _ => {}
                }
                for key in ["style", "explode"] {
                    if old_p.get(key) != new_p.get(key) {
                        d.push(
                            "parameter-serialization-changed",
                            true,
                            &here,
                            "",
                            at,
                            format!("{label}: `{key}` changed"),
                        );
                    }
                }
                let (o, n) = (
                    old_p.get("schema").unwrap_or(&EMPTY),
                    new_p.get("schema").unwrap_or(&EMPTY),
                );
                if !o.is_null() && !n.is_null() {
                    d.schema(o, n, Direction::Request, &here, "", at, 0);
                }
            }
        }
    }
    for (key, new_p) in &new_params {
        if !old_params.contains_key(key) {
            let label = param_label(new_p);
            let here = Ctx {
                operation: ctx.operation.clone(),
                place: label.clone(),
            };
            let required = flag(new_p, "required");
            let code = if required {
                "parameter-added-required"
            } else {
                "parameter-added"
            };
            d.push(
                code,
                required,
                &here,
                "",
                at,
                format!(
                    "{label} was added{}",
                    if required { " as required" } else { "" }
                ),
            );
        }
    }
    diff_request_body(
        d,
        ctx,
        old_op.get("requestBody"),
        new_op.get("requestBody"),
        at,
    );
    diff_responses(d, ctx, old_op.get("responses"), new_op.get("responses"), at);
    diff_security(d, ctx, old_op, new_op, at);
}

fn param_label(p: &Value) -> String {
    let place = p.get("in").and_then(Value::as_str).unwrap_or("?");
    let name = p.get("name").and_then(Value::as_str).unwrap_or("?");
    format!("{place} parameter `{name}`")
}
