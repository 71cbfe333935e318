//! Structural validation of an OpenAPI 3.0 or 3.1 document, reporting every error found
//! with the JSON pointer of its location (not just the first one), so an operator can fix
//! a spec in one pass.
//!
//! The rules are the ones of the specification's object tables that matter to a gateway:
//! the `openapi` and `info` members, path keys, operations and their responses,
//! parameters (`in`, `name`, `required` for path parameters, declared template
//! variables), unique `operationId`s, security requirements naming defined schemes,
//! component names, and every `$ref` resolving inside the document without loops.
//! Schemas themselves are not checked against JSON Schema.

use super::operations::check_path_item;
use super::pointer::{child, follow, ref_of, resolve, RefError, MAX_REF_HOPS};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};

/// Most issues reported for one document; the rest are counted.
pub const MAX_ISSUES: usize = 200;

/// One problem in a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecIssue {
    /// JSON pointer (RFC 6901) of the offending member, `""` for the whole document.
    pub pointer: String,
    pub message: String,
    /// 1-based line in the uploaded text, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// 1-based column in the uploaded text, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
}

impl SpecIssue {
    /// An issue at `pointer`, position unknown.
    pub fn at(pointer: &str, message: impl Into<String>) -> SpecIssue {
        SpecIssue {
            pointer: pointer.to_owned(),
            message: message.into(),
            line: None,
            column: None,
        }
    }
}

/// The OpenAPI minor version a document declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenApiVersion {
    V30,
    V31,
}

/// Reads `openapi` (`3.0.x` or `3.1.x`).
pub fn openapi_version(doc: &Value) -> Option<OpenApiVersion> {
    let raw = doc.get("openapi")?.as_str()?;
    let rest = raw.strip_prefix("3.")?;
    let (minor, patch) = rest.split_once('.')?;
    let patch = patch.split_once('-').map_or(patch, |(p, _)| p);
    if patch.is_empty() || !patch.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match minor {
        "0" => Some(OpenApiVersion::V30),
        "1" => Some(OpenApiVersion::V31),
        _ => None,
    }
}

/// The running state of one validation.
pub(super) struct Check<'a> {
    pub doc: &'a Value,
    pub version: OpenApiVersion,
    issues: Vec<SpecIssue>,
    dropped: usize,
    pub operation_ids: HashMap<&'a str, String>,
    pub schemes: HashSet<&'a str>,
}

impl<'a> Check<'a> {
    /// Records an issue.
    pub fn issue(&mut self, pointer: &str, message: impl Into<String>) {
        if self.issues.len() < MAX_ISSUES {
            self.issues.push(SpecIssue::at(pointer, message));
        } else {
            self.dropped += 1;
        }
    }

    /// `value` with references followed; `None` (reported by the reference walk) when
    /// they do not resolve.
    pub fn deref(&self, value: &'a Value) -> Option<&'a Value> {
        follow(self.doc, value).ok()
    }

    /// `member` of `object` as an object, reporting a wrong type.
    pub fn object(&mut self, pointer: &str, value: &'a Value) -> Option<&'a Map<String, Value>> {
        let found = value.as_object();
        if found.is_none() {
            self.issue(pointer, "must be an object");
        }
        found
    }

    /// A required string member.
    pub fn required_str(
        &mut self,
        parent: &str,
        obj: &'a Map<String, Value>,
        key: &str,
    ) -> Option<&'a str> {
        match obj.get(key) {
            Some(Value::String(s)) => Some(s),
            Some(_) => {
                self.issue(&child(parent, key), "must be a string");
                None
            }
            None => {
                self.issue(&child(parent, key), format!("`{key}` is required"));
                None
            }
        }
    }

    /// Checks a list of security requirements against the defined schemes.
    pub fn security(&mut self, pointer: &str, value: &'a Value) {
        let Some(list) = value.as_array() else {
            return self.issue(pointer, "must be an array of security requirement objects");
        };
        for (i, requirement) in list.iter().enumerate() {
            let at = child(pointer, &i.to_string());
            let Some(obj) = self.object(&at, requirement) else {
                continue;
            };
            for (name, scopes) in obj {
                if !self.schemes.contains(name.as_str()) {
                    self.issue(
                        &child(&at, name),
                        format!("`{name}` is not defined in components.securitySchemes"),
                    );
                }
                if !scopes
                    .as_array()
                    .is_some_and(|s| s.iter().all(Value::is_string))
                {
                    self.issue(&child(&at, name), "must be an array of scope names");
                }
            }
        }
    }
}

/// Every issue in `doc`; empty when it is a usable OpenAPI 3.0/3.1 document.
pub fn validate(doc: &Value) -> Vec<SpecIssue> {
    let Some(root) = doc.as_object() else {
        return vec![SpecIssue::at("", "an OpenAPI document must be an object")];
    };
    let version = openapi_version(doc);
    let mut check = Check {
        doc,
        version: version.unwrap_or(OpenApiVersion::V30),
        issues: Vec::new(),
        dropped: 0,
        operation_ids: HashMap::new(),
        schemes: HashSet::new(),
    };
    if version.is_none() {
        let message = match root.get("openapi") {
            None if root.contains_key("swagger") => {
                "Swagger 2.0 is not supported; convert the document to OpenAPI 3".to_owned()
            }
            None => "`openapi` is required (`3.0.x` or `3.1.x`)".to_owned(),
            Some(v) => format!("must be `3.0.x` or `3.1.x`, not {v}"),
        };
        check.issue("/openapi", message);
    }
    match root.get("info") {
        Some(info) => {
            if let Some(obj) = check.object("/info", info) {
                check.required_str("/info", obj, "title");
                check.required_str("/info", obj, "version");
            }
        }
        None => check.issue("/info", "`info` is required"),
    }
    check_components(&mut check, root.get("components"));
    let has = |k: &str| root.contains_key(k);
    match (check.version, root.get("paths")) {
        (OpenApiVersion::V30, None) => check.issue("/paths", "`paths` is required"),
        (OpenApiVersion::V31, None) if !has("components") && !has("webhooks") => check.issue(
            "",
            "an OpenAPI 3.1 document needs `paths`, `components` or `webhooks`",
        ),
        (_, Some(paths)) => check_paths(&mut check, "/paths", paths, true),
        _ => {}
    }
    if let Some(hooks) = root.get("webhooks") {
        check_paths(&mut check, "/webhooks", hooks, false);
    }
    if let Some(security) = root.get("security") {
        check.security("/security", security);
    }
    check_refs(&mut check);
    let mut issues = check.issues;
    if check.dropped > 0 {
        issues.push(SpecIssue::at(
            "",
            format!("… and {} more issues", check.dropped),
        ));
    }
    issues
}

fn check_paths<'a>(check: &mut Check<'a>, pointer: &str, paths: &'a Value, templated: bool) {
    let Some(obj) = check.object(pointer, paths) else {
        return;
    };
    for (key, item) in obj {
        if key.starts_with("x-") {
            continue;
        }
        let at = child(pointer, key);
        if templated && !key.starts_with('/') {
            check.issue(&at, format!("path `{key}` must start with `/`"));
            continue;
        }
        check_path_item(check, &at, templated.then_some(key.as_str()), item);
    }
}

fn component_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-_".contains(&b))
}

fn check_components<'a>(check: &mut Check<'a>, components: Option<&'a Value>) {
    let Some(components) = components else { return };
    let Some(obj) = check.object("/components", components) else {
        return;
    };
    for (section, members) in obj {
        if section.starts_with("x-") {
            continue;
        }
        let at = child("/components", section);
        let Some(members) = check.object(&at, members) else {
            continue;
        };
        for (name, member) in members {
            let here = child(&at, name);
            if !component_name_ok(name) {
                check.issue(
                    &here,
                    "component names may use letters, digits and `.-_` only",
                );
            }
            if section == "securitySchemes" {
                check.schemes.insert(name.as_str());
                check_scheme(check, &here, member);
            }
        }
    }
}

fn check_scheme<'a>(check: &mut Check<'a>, at: &str, scheme: &'a Value) {
    let Some(scheme) = check.deref(scheme) else {
        return;
    };
    let Some(obj) = check.object(at, scheme) else {
        return;
    };
    let needs: &[&str] = match check.required_str(at, obj, "type") {
        Some("apiKey") => &["name", "in"],
        Some("http") => &["scheme"],
        Some("oauth2") => &["flows"],
        Some("openIdConnect") => &["openIdConnectUrl"],
        Some("mutualTLS") if check.version == OpenApiVersion::V31 => &[],
        Some(other) => {
            check.issue(
                &child(at, "type"),
                format!("`{other}` is not a security scheme type"),
            );
            &[]
        }
        None => &[],
    };
    for key in needs {
        if !obj.contains_key(*key) {
            check.issue(
                &child(at, key),
                format!("`{key}` is required for this scheme type"),
            );
        }
    }
    if obj.get("type").and_then(Value::as_str) == Some("apiKey") {
        if let Some(place) = obj.get("in").and_then(Value::as_str) {
            if !["query", "header", "cookie"].contains(&place) {
                check.issue(&child(at, "in"), "must be `query`, `header` or `cookie`");
            }
        }
    }
}

/// Members whose values are data, not description: `$ref` inside them means nothing.
const LITERAL_KEYS: [&str; 5] = ["example", "examples", "default", "enum", "const"];

/// Every `$ref` in the document resolves locally, without loops (walked without recursion).
fn check_refs(check: &mut Check<'_>) {
    let mut stack: Vec<(&Value, String)> = vec![(check.doc, String::new())];
    while let Some((value, at)) = stack.pop() {
        match value {
            Value::Object(obj) => {
                if let Some(reference) = obj.get("$ref") {
                    match reference.as_str() {
                        Some(r) => ref_target(check, &child(&at, "$ref"), r),
                        None => check.issue(&child(&at, "$ref"), "must be a string"),
                    }
                }
                for (key, member) in obj {
                    let nested = member.is_object() || member.is_array();
                    if nested && !LITERAL_KEYS.contains(&key.as_str()) {
                        stack.push((member, child(&at, key)));
                    }
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    if item.is_object() || item.is_array() {
                        stack.push((item, child(&at, &i.to_string())));
                    }
                }
            }
            _ => {}
        }
    }
}

fn ref_target(check: &mut Check<'_>, at: &str, reference: &str) {
    let mut current = reference;
    for _ in 0..MAX_REF_HOPS {
        match resolve(check.doc, current) {
            Ok(target) => match ref_of(target) {
                Some(next) => current = next,
                None => return,
            },
            Err(e) => return check.issue(at, e.to_string()),
        }
    }
    check.issue(at, RefError::Circular(reference.to_owned()).to_string());
}

#[cfg(test)]
#[path = "validate_tests.rs"]
pub(crate) mod tests;
