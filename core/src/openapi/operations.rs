//! Validation of path items and operations: methods, responses, parameters (with the
//! path template's variables) and request bodies. Part of `validate`.

use super::pointer::child;
use super::validate::{Check, OpenApiVersion};
use serde_json::Value;
use std::collections::BTreeSet;

/// The HTTP methods a path item can hold, in the specification's order.
pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The `{variables}` of a path template, or `None` when braces do not pair up.
pub fn template_variables(template: &str) -> Option<BTreeSet<&str>> {
    let mut vars = BTreeSet::new();
    let mut rest = template;
    while let Some(open) = rest.find(['{', '}']) {
        if rest.as_bytes()[open] == b'}' {
            return None;
        }
        let after = &rest[open + 1..];
        let close = after.find('}')?;
        let name = &after[..close];
        if name.is_empty() || name.contains('{') {
            return None;
        }
        vars.insert(name);
        rest = &after[close + 1..];
    }
    Some(vars)
}

/// Checks one path item; `template` is its key under `paths` (not for webhooks).
pub(super) fn check_path_item<'a>(
    check: &mut Check<'a>,
    at: &str,
    template: Option<&'a str>,
    item: &'a Value,
) {
    let Some(item) = check.deref(item) else {
        return;
    };
    let Some(obj) = check.object(at, item) else {
        return;
    };
    let vars = match template.map(template_variables) {
        Some(None) => {
            check.issue(at, "the path template has unbalanced or empty `{}`");
            return;
        }
        Some(Some(vars)) => Some(vars),
        None => None,
    };
    let shared = obj
        .get("parameters")
        .map(|p| parameters(check, &child(at, "parameters"), p))
        .unwrap_or_default();
    for method in METHODS {
        let Some(op) = obj.get(method) else { continue };
        let op_at = child(at, method);
        let Some(op_obj) = check.object(&op_at, op) else {
            continue;
        };
        let own = op_obj
            .get("parameters")
            .map(|p| parameters(check, &child(&op_at, "parameters"), p))
            .unwrap_or_default();
        if let Some(vars) = &vars {
            let declared: BTreeSet<&str> = shared
                .iter()
                .chain(&own)
                .filter(|(_, place, _)| *place == "path")
                .map(|(name, _, _)| *name)
                .collect();
            for var in vars.difference(&declared) {
                check.issue(
                    &op_at,
                    format!(
                        "path parameter `{var}` of `{}` is not declared",
                        template.unwrap_or_default()
                    ),
                );
            }
            for (name, place, pointer) in shared.iter().chain(&own) {
                if *place == "path" && !vars.contains(name) {
                    check.issue(
                        pointer,
                        format!("path parameter `{name}` is not in the path template"),
                    );
                }
            }
        }
        operation(check, &op_at, op_obj);
    }
}

fn operation<'a>(check: &mut Check<'a>, at: &str, op: &'a serde_json::Map<String, Value>) {
    if let Some(id) = op.get("operationId") {
        match id.as_str() {
            Some(id) => {
                let here = child(at, "operationId");
                if let Some(first) = check.operation_ids.get(id).cloned() {
                    check.issue(
                        &here,
                        format!("operationId `{id}` is already used at {first}"),
                    );
                } else {
                    check.operation_ids.insert(id, here);
                }
            }
            None => check.issue(&child(at, "operationId"), "must be a string"),
        }
    }
    match op.get("responses") {
        Some(responses) => self::responses(check, &child(at, "responses"), responses),
        None if check.version == OpenApiVersion::V30 => {
            check.issue(&child(at, "responses"), "`responses` is required")
        }
        None => {}
    }
    if let Some(body) = op.get("requestBody") {
        let here = child(at, "requestBody");
        if let Some(body) = check.deref(body) {
            if let Some(obj) = check.object(&here, body) {
                if !obj.get("content").is_some_and(Value::is_object) {
                    check.issue(
                        &child(&here, "content"),
                        "`content` is required and must be an object",
                    );
                }
            }
        }
    }
    if let Some(security) = op.get("security") {
        check.security(&child(at, "security"), security);
    }
}

fn status_key_ok(key: &str) -> bool {
    let b = key.as_bytes();
    key == "default"
        || (b.len() == 3
            && (b'1'..=b'5').contains(&b[0])
            && ((b[1].is_ascii_digit() && b[2].is_ascii_digit()) || (b[1] == b'X' && b[2] == b'X')))
}

fn responses<'a>(check: &mut Check<'a>, at: &str, value: &'a Value) {
    let Some(obj) = check.object(at, value) else {
        return;
    };
    if obj.keys().all(|k| k.starts_with("x-")) {
        check.issue(at, "at least one response is required");
    }
    for (code, response) in obj {
        if code.starts_with("x-") {
            continue;
        }
        let here = child(at, code);
        if !status_key_ok(code) {
            check.issue(
                &here,
                format!("`{code}` is not a status code, `1XX`–`5XX` or `default`"),
            );
        }
        let Some(response) = check.deref(response) else {
            continue;
        };
        if let Some(obj) = check.object(&here, response) {
            check.required_str(&here, obj, "description");
        }
    }
}

/// Checks a parameter list; returns (name, in, pointer) of each well-formed parameter.
fn parameters<'a>(
    check: &mut Check<'a>,
    at: &str,
    value: &'a Value,
) -> Vec<(&'a str, &'a str, String)> {
    let mut out: Vec<(&'a str, &'a str, String)> = Vec::new();
    let Some(list) = value.as_array() else {
        check.issue(at, "must be an array of parameters");
        return out;
    };
    for (i, param) in list.iter().enumerate() {
        let here = child(at, &i.to_string());
        let Some(param) = check.deref(param) else {
            continue;
        };
        let Some(obj) = check.object(&here, param) else {
            continue;
        };
        let name = check.required_str(&here, obj, "name");
        let place = check.required_str(&here, obj, "in");
        if let Some(p) = place {
            if !["query", "header", "path", "cookie"].contains(&p) {
                check.issue(
                    &child(&here, "in"),
                    "must be `query`, `header`, `path` or `cookie`",
                );
            }
            if p == "path" && obj.get("required") != Some(&Value::Bool(true)) {
                check.issue(
                    &child(&here, "required"),
                    "path parameters must have `required: true`",
                );
            }
        }
        if obj.contains_key("schema") && obj.contains_key("content") {
            check.issue(&here, "a parameter has `schema` or `content`, not both");
        }
        if let (Some(name), Some(place)) = (name, place) {
            if out.iter().any(|(n, p, _)| *n == name && *p == place) {
                check.issue(
                    &here,
                    format!("parameter `{name}` in {place} is declared twice"),
                );
            } else {
                out.push((name, place, here));
            }
        }
    }
    out
}
