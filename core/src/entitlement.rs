//! Plan entitlements: which APIs, major versions and operations a key's plan may call,
//! and the features it carries to the upstream. Every list is a whitelist, and an absent
//! list means "no restriction", so plans from before entitlements allow everything.
//!
//! Operations are `METHOD /path/{template}` rules on the path after the base path and
//! the `/v{major}` segment. The origin resolves an OpenAPI `operationId` into such rules,
//! scoped to the API and major whose document declares it, when it builds the snapshot,
//! so the edge only ever matches templates.

use crate::{ApiId, PlanId, Problem, ProblemKind};
use serde::{Deserialize, Serialize};

/// Methods an operation rule may name.
pub const METHODS: [&str; 8] = [
    "GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE",
];

/// Most rules of one list shown in a refusal.
const SHOWN: usize = 8;

/// What one plan's keys may call, as the edge enforces it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanEntitlements {
    pub plan_id: PlanId,
    /// The plan's name, for refusals.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apis: Option<Vec<ApiId>>,
    /// Major versions, e.g. `[1, 2]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versions: Option<Vec<u64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operations: Option<Vec<OperationRule>>,
    /// Sent to the upstream in `x-tollgate-features`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<String>,
}

/// One allowed operation: a method and a path template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationRule {
    /// Upper case, e.g. `GET` (which also allows `HEAD`).
    pub method: String,
    /// e.g. `/pets/{petId}`; `{name}` matches one non-empty segment.
    pub path: String,
    /// Only on this API (rules resolved from an `operationId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_id: Option<ApiId>,
    /// Only on this major version (rules resolved from an `operationId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub major: Option<u64>,
}

/// An operation as an operator writes it in a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OperationRef {
    /// `GET /pets/{petId}`.
    Route { method: String, path: String },
    /// An OpenAPI `operationId`, e.g. `showPetById`.
    OperationId(String),
}

/// Why an operation entry is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OperationError {
    #[error("write `METHOD /path/{{param}}` (e.g. `GET /pets/{{petId}}`) or an operationId of 1–128 letters, digits and `_.-`")]
    Shape,
    #[error("`{0}` is not an HTTP method; use one of GET, PUT, POST, DELETE, OPTIONS, HEAD, PATCH, TRACE")]
    Method(String),
    #[error("the path must start with `/`, have no query and pair every `{{` with a `}}`")]
    Path,
}

/// Parses `METHOD /template` or an operationId.
pub fn parse_operation(raw: &str) -> Result<OperationRef, OperationError> {
    let raw = raw.trim();
    if let Some((method, path)) = raw.split_once(' ') {
        let method = method.to_ascii_uppercase();
        if !METHODS.contains(&method.as_str()) {
            return Err(OperationError::Method(method));
        }
        let path = path.trim();
        let balanced = crate::openapi::operations::template_variables(path).is_some();
        let clean = path
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'?' && b != b'#');
        if !path.starts_with('/') || path.len() > 512 || !balanced || !clean {
            return Err(OperationError::Path);
        }
        return Ok(OperationRef::Route {
            method,
            path: path.to_owned(),
        });
    }
    let id_ok = !raw.is_empty()
        && raw.len() <= 128
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    if id_ok {
        Ok(OperationRef::OperationId(raw.to_owned()))
    } else {
        Err(OperationError::Shape)
    }
}

/// Whether `path` fits `template` segment by segment (`{x}` takes one non-empty segment).
pub fn template_matches(template: &str, path: &str) -> bool {
    let trim = |p: &str| -> String {
        let p = p.strip_suffix('/').filter(|s| !s.is_empty()).unwrap_or(p);
        p.to_owned()
    };
    let (template, path) = (trim(template), trim(path));
    let mut t = template.split('/');
    let mut p = path.split('/');
    loop {
        match (t.next(), p.next()) {
            (None, None) => return true,
            (Some(ts), Some(ps)) => {
                let wildcard = ts.starts_with('{') && ts.ends_with('}');
                if !(wildcard && !ps.is_empty() || ts == ps) {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

/// The call being decided.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    pub api_id: &'a ApiId,
    pub api_name: &'a str,
    /// The major version reached (`None` for an API without versions).
    pub major: Option<u64>,
    pub method: &'a str,
    /// The path after the base path and the `/v{major}` segment.
    pub path: &'a str,
}

impl OperationRule {
    fn applies_to(&self, call: &Call<'_>) -> bool {
        self.api_id.as_ref().is_none_or(|a| a == call.api_id)
            && self.major.is_none_or(|m| Some(m) == call.major)
    }

    fn allows(&self, call: &Call<'_>) -> bool {
        let method = call.method.to_ascii_uppercase();
        let method_ok = self.method == method || (method == "HEAD" && self.method == "GET");
        method_ok && self.applies_to(call) && template_matches(&self.path, call.path)
    }
}

fn listing(items: impl Iterator<Item = String>) -> String {
    let all: Vec<String> = items.collect();
    let mut shown = all
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if all.len() > SHOWN {
        shown.push_str(&format!(" and {} more", all.len() - SHOWN));
    }
    if shown.is_empty() {
        "none".into()
    } else {
        shown
    }
}

/// Whether a key on this plan may make `call`; the 403 names what the plan lacks.
pub fn entitle(plan: &PlanEntitlements, call: &Call<'_>) -> Result<(), Problem> {
    let refuse = |what: &str, detail: String| {
        Err(Problem::new(ProblemKind::NotEntitled, detail).with_field(what))
    };
    if let Some(apis) = &plan.apis {
        if !apis.contains(call.api_id) {
            return refuse("api", format!("your plan `{}` does not include the API `{}`; upgrade the subscription to a plan that does", plan.name, call.api_name));
        }
    }
    if let (Some(versions), Some(major)) = (&plan.versions, call.major) {
        if !versions.contains(&major) {
            let allowed = listing(versions.iter().map(|m| format!("v{m}")));
            return refuse("version", format!("your plan `{}` does not include version v{major} of `{}`; it includes {allowed}", plan.name, call.api_name));
        }
    }
    if let Some(rules) = &plan.operations {
        if !rules.iter().any(|r| r.allows(call)) {
            let allowed = listing(
                rules
                    .iter()
                    .filter(|r| r.applies_to(call))
                    .map(|r| format!("{} {}", r.method, r.path)),
            );
            return refuse("operation", format!("your plan `{}` does not include the operation `{} {}` of `{}`; it includes {allowed}", plan.name, call.method.to_ascii_uppercase(), call.path, call.api_name));
        }
    }
    Ok(())
}

/// The `x-tollgate-features` value of a plan (`None` when it names no features).
pub fn features_header(plan: &PlanEntitlements) -> Option<String> {
    (!plan.features.is_empty()).then(|| plan.features.join(","))
}

#[cfg(test)]
#[path = "entitlement_tests.rs"]
mod tests;
