//! Token scopes → operations: an operation listed under some scope is allowed only to
//! tokens holding one of the scopes that list it; operations listed nowhere need none.

use crate::entitlement::{parse_operation, template_matches, OperationRef};
use crate::{Problem, ProblemKind};
use serde::{Deserialize, Serialize};

/// Most scope rules on one API.
pub const MAX_SCOPE_RULES: usize = 100;

/// The operations one scope guards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeRule {
    pub scope: String,
    /// `METHOD /path/{param}` rules on the path after the base path.
    pub operations: Vec<String>,
}

/// Checks an API's scope rules (`Err`: what to fix, for a 400).
pub fn validate_scope_rules(rules: &[ScopeRule]) -> Result<(), String> {
    if rules.len() > MAX_SCOPE_RULES {
        return Err(format!("at most {MAX_SCOPE_RULES} scope rules per API"));
    }
    for rule in rules {
        if !crate::scope::is_scope(&rule.scope) {
            return Err(format!(
                "`{}` is not a scope: use 1–64 of a-z, 0-9, `:`, `.`, `_`, `-`",
                rule.scope
            ));
        }
        if rule.operations.is_empty() || rule.operations.len() > 100 {
            return Err(format!("scope `{}` must list 1–100 operations", rule.scope));
        }
        for op in &rule.operations {
            match parse_operation(op) {
                Ok(OperationRef::Route { .. }) => {}
                Ok(OperationRef::OperationId(_)) => {
                    return Err(format!("`{op}`: write operations as `METHOD /path/{{param}}` (operationIds are not resolved for scopes)"));
                }
                Err(e) => return Err(format!("`{op}`: {e}")),
            }
        }
    }
    Ok(())
}

fn guards(op: &str, method: &str, path: &str) -> bool {
    let Ok(OperationRef::Route {
        method: m,
        path: template,
    }) = parse_operation(op)
    else {
        return false;
    };
    let method = method.to_ascii_uppercase();
    (m == method || (method == "HEAD" && m == "GET")) && template_matches(&template, path)
}

/// Whether a token holding `held` may call `method path` (a 403 names the scopes needed).
pub fn authorize_scopes(
    rules: &[ScopeRule],
    method: &str,
    path: &str,
    held: &[String],
) -> Result<(), Problem> {
    let needed: Vec<&str> = rules
        .iter()
        .filter(|r| r.operations.iter().any(|op| guards(op, method, path)))
        .map(|r| r.scope.as_str())
        .collect();
    if needed.is_empty() || needed.iter().any(|s| held.iter().any(|h| h == s)) {
        return Ok(());
    }
    Err(Problem::new(
        ProblemKind::NotEntitled,
        format!(
            "`{} {path}` needs a token with the scope {}; this token has {}",
            method.to_ascii_uppercase(),
            needed
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(" or "),
            if held.is_empty() {
                "none".to_owned()
            } else {
                held.join(" ")
            }
        ),
    )
    .with_field("scope"))
}
