//! Checks of a JWT auth policy's optional members (leeway, required claims, consumer
//! claim, scope rules) before an API is stored, so the edge never gets one it cannot use.

use crate::error::AppError;
use tollgate_core::jwt::scopes::{validate_scope_rules, ScopeRule};

/// Largest clock-skew leeway accepted.
pub const MAX_LEEWAY_SECS: u64 = 3_600;
/// Most required claims per API.
const MAX_REQUIRED_CLAIMS: usize = 20;

fn claim_name(field: &str, name: &str) -> Result<(), AppError> {
    let ok =
        !name.trim().is_empty() && name.len() <= 64 && name.chars().all(|c| c.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(AppError::invalid(
            field,
            "must be a claim name of 1–64 visible ASCII characters, e.g. `sub` or `client_id`",
        ))
    }
}

/// Refuses leeway, claim names and scope rules the edge could not apply.
pub fn check_jwt_extras(
    leeway_secs: u64,
    required_claims: &[String],
    consumer_claim: &str,
    scopes: &[ScopeRule],
) -> Result<(), AppError> {
    if leeway_secs > MAX_LEEWAY_SECS {
        return Err(AppError::invalid(
            "auth.leeway_secs",
            format!("must be at most {MAX_LEEWAY_SECS} seconds"),
        ));
    }
    if required_claims.len() > MAX_REQUIRED_CLAIMS {
        return Err(AppError::invalid(
            "auth.required_claims",
            format!("at most {MAX_REQUIRED_CLAIMS} claims"),
        ));
    }
    for claim in required_claims {
        claim_name("auth.required_claims", claim)?;
    }
    claim_name("auth.consumer_claim", consumer_claim)?;
    validate_scope_rules(scopes).map_err(|detail| AppError::invalid("auth.scopes", detail))
}
