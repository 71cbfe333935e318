//! Registered-claim checks (RFC 7519 §4.1) as a pure function of the claims, the API's
//! policy and `now`: `iss`, `aud`, `exp` (required), `nbf`, `iat` with a leeway for
//! clock skew, the operator's required claims, and the caller the token names.

use super::caller::JwtCaller;
use super::JwtError;
use serde_json::{Map, Value};

/// Most scopes taken from one token.
pub const MAX_TOKEN_SCOPES: usize = 100;
/// Longest consumer or subject value accepted.
const MAX_ID_LEN: usize = 256;

/// What an API requires of a token's claims.
#[derive(Debug, Clone, Copy)]
pub struct ClaimPolicy<'a> {
    pub issuer: &'a str,
    pub audience: &'a str,
    pub leeway_secs: u64,
    pub required_claims: &'a [String],
    /// The claim naming the consumer (`sub` by default).
    pub consumer_claim: &'a str,
}

fn numeric_date(claims: &Map<String, Value>, name: &str) -> Result<Option<u64>, JwtError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_f64()
            .filter(|f| f.is_finite() && *f >= 0.0 && *f < 1e15)
            .map(|f| Some(f.floor() as u64))
            .ok_or_else(|| JwtError::BadClaim(name.into())),
    }
}

fn string_claim(claims: &Map<String, Value>, name: &str) -> Result<Option<String>, JwtError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.is_empty() && s.len() <= MAX_ID_LEN => Ok(Some(s.clone())),
        Some(_) => Err(JwtError::BadClaim(name.into())),
    }
}

fn scopes(claims: &Map<String, Value>) -> Result<Vec<String>, JwtError> {
    let present = |name: &str| claims.get(name).filter(|v| !v.is_null());
    let mut out: Vec<String> = match (present("scope"), present("scp")) {
        (Some(Value::String(s)), _) => s.split_ascii_whitespace().map(str::to_owned).collect(),
        (Some(_), _) => return Err(JwtError::BadClaim("scope".into())),
        (None, Some(Value::Array(items))) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or_else(|| JwtError::BadClaim("scp".into()))?,
        (None, Some(Value::String(s))) => s.split_ascii_whitespace().map(str::to_owned).collect(),
        (None, Some(_)) => return Err(JwtError::BadClaim("scp".into())),
        (None, None) => Vec::new(),
    };
    if out.len() > MAX_TOKEN_SCOPES {
        return Err(JwtError::BadClaim("scope".into()));
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn audience_matches(aud: Option<&Value>, audience: &str) -> Result<bool, JwtError> {
    match aud {
        None | Some(Value::Null) => Ok(false),
        Some(Value::String(a)) => Ok(a == audience),
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
            Ok(items.iter().any(|a| a.as_str() == Some(audience)))
        }
        Some(_) => Err(JwtError::BadClaim("aud".into())),
    }
}

/// Checks verified claims against `policy` at `now_secs` and names the caller.
pub fn validate_claims(
    payload: &[u8],
    policy: &ClaimPolicy<'_>,
    now_secs: u64,
) -> Result<JwtCaller, JwtError> {
    let claims: Map<String, Value> =
        serde_json::from_slice(payload).map_err(|_| JwtError::Claims)?;
    let leeway = policy.leeway_secs;
    let exp = numeric_date(&claims, "exp")?.ok_or(JwtError::MissingExp)?;
    if now_secs >= exp.saturating_add(leeway) {
        return Err(JwtError::Expired(exp));
    }
    if let Some(nbf) = numeric_date(&claims, "nbf")? {
        if now_secs.saturating_add(leeway) < nbf {
            return Err(JwtError::NotYetValid(nbf));
        }
    }
    if let Some(iat) = numeric_date(&claims, "iat")? {
        if iat > now_secs.saturating_add(leeway) {
            return Err(JwtError::IssuedInFuture(iat));
        }
    }
    let issuer = string_claim(&claims, "iss")?.unwrap_or_default();
    if issuer != policy.issuer {
        return Err(JwtError::WrongIssuer(issuer));
    }
    if !audience_matches(claims.get("aud"), policy.audience)? {
        return Err(JwtError::WrongAudience);
    }
    if let Some(missing) = policy
        .required_claims
        .iter()
        .find(|c| claims.get(c.as_str()).is_none_or(Value::is_null))
    {
        return Err(JwtError::MissingClaim(missing.clone()));
    }
    let consumer = string_claim(&claims, policy.consumer_claim)?
        .ok_or_else(|| JwtError::MissingClaim(policy.consumer_claim.into()))?;
    let subject = string_claim(&claims, "sub")?.unwrap_or_else(|| consumer.clone());
    Ok(JwtCaller {
        issuer,
        subject,
        consumer_id: consumer,
        scopes: scopes(&claims)?,
        plan_id: string_claim(&claims, "tg_plan")?,
        subscription_id: string_claim(&claims, "tg_sub")?,
        client_id: string_claim(&claims, "client_id")?,
        expires_at_secs: exp,
    })
}
