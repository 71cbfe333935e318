//! RFC 9457 problem details: the one error shape every tollgate answer uses.
//!
//! Each [`ProblemKind`] knows its status, its stable `type` URI and whose fault it is, so
//! the edge and origin render identical errors and logs can tell client mistakes from
//! upstream trouble from our own bugs.

use serde::{Deserialize, Serialize};

/// Media type of a problem document.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";
const TYPE_BASE: &str = "https://tollgate.dev/problems/";

/// Which side caused a failure (decides 4xx vs 5xx and how loudly to log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The caller sent something wrong.
    Client,
    /// The upstream service failed or could not be reached.
    Upstream,
    /// tollgate itself failed.
    Internal,
}

/// Every kind of error tollgate answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    MissingCredential,
    InvalidCredential,
    RevokedCredential,
    ExpiredCredential,
    NotEntitled,
    Forbidden,
    NoRoute,
    MalformedRequest,
    ValidationFailed,
    NotFound,
    Conflict,
    Gone,
    PayloadTooLarge,
    UnsupportedMediaType,
    HeadersTooLarge,
    RateLimited,
    MethodNotAllowed,
    UpstreamUnreachable,
    UpstreamTimeout,
    ServiceUnavailable,
    Internal,
}

impl ProblemKind {
    /// HTTP status code.
    pub fn status(self) -> u16 {
        use ProblemKind::*;
        match self {
            MalformedRequest => 400,
            MissingCredential | InvalidCredential | RevokedCredential | ExpiredCredential => 401,
            NotEntitled | Forbidden => 403,
            NoRoute | NotFound => 404,
            MethodNotAllowed => 405,
            Conflict => 409,
            Gone => 410,
            PayloadTooLarge => 413,
            UnsupportedMediaType => 415,
            ValidationFailed => 422,
            RateLimited => 429,
            HeadersTooLarge => 431,
            Internal => 500,
            UpstreamUnreachable => 502,
            ServiceUnavailable => 503,
            UpstreamTimeout => 504,
        }
    }

    /// Stable slug used in the `type` URI.
    pub fn slug(self) -> &'static str {
        use ProblemKind::*;
        match self {
            MissingCredential => "missing-credential",
            InvalidCredential => "invalid-credential",
            RevokedCredential => "revoked-credential",
            ExpiredCredential => "expired-credential",
            NotEntitled => "not-entitled",
            Forbidden => "forbidden",
            NoRoute => "no-route",
            MalformedRequest => "malformed-request",
            ValidationFailed => "validation-failed",
            NotFound => "not-found",
            Conflict => "conflict",
            Gone => "gone",
            PayloadTooLarge => "payload-too-large",
            UnsupportedMediaType => "unsupported-media-type",
            HeadersTooLarge => "headers-too-large",
            RateLimited => "rate-limited",
            MethodNotAllowed => "method-not-allowed",
            UpstreamUnreachable => "upstream-unreachable",
            UpstreamTimeout => "upstream-timeout",
            ServiceUnavailable => "service-unavailable",
            Internal => "internal",
        }
    }

    /// Short human summary, the same for every occurrence.
    pub fn title(self) -> &'static str {
        use ProblemKind::*;
        match self {
            MissingCredential => "Missing credential",
            InvalidCredential => "Invalid credential",
            RevokedCredential => "Revoked credential",
            ExpiredCredential => "Expired credential",
            NotEntitled => "Not entitled",
            Forbidden => "Forbidden",
            NoRoute => "No route",
            MalformedRequest => "Malformed request",
            ValidationFailed => "Validation failed",
            NotFound => "Not found",
            Conflict => "Conflict",
            Gone => "Gone",
            PayloadTooLarge => "Payload too large",
            UnsupportedMediaType => "Unsupported media type",
            HeadersTooLarge => "Request headers too large",
            RateLimited => "Too many requests",
            MethodNotAllowed => "Method not allowed",
            UpstreamUnreachable => "Upstream unreachable",
            UpstreamTimeout => "Upstream timeout",
            ServiceUnavailable => "Service unavailable",
            Internal => "Internal error",
        }
    }

    /// Whose fault this kind of error is.
    pub fn fault(self) -> Fault {
        match self.status() {
            502..=504 => Fault::Upstream,
            500..=501 => Fault::Internal,
            _ => Fault::Client,
        }
    }
}

/// A problem+json document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The request field or parameter at fault, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Seconds after which retrying may succeed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

/// The members a 429 adds: `violated-policies` as in draft-ietf-httpapi-ratelimit-headers,
/// and the refusing policy's `limit` and `reset` (seconds until it has room again).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Violation {
    #[serde(rename = "violated-policies")]
    pub violated_policies: Vec<String>,
    pub limit: u64,
    pub reset: u64,
}

/// A 429 problem document: the problem members plus the [`Violation`] ones. Kept apart
/// from [`Problem`] so every other error stays small.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateLimitedProblem {
    #[serde(flatten)]
    pub problem: Problem,
    #[serde(flatten)]
    pub violation: Violation,
}

impl RateLimitedProblem {
    /// The JSON body.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| self.problem.to_json())
    }
}

impl Problem {
    /// A problem of `kind` with a detail that tells the caller what to do next.
    pub fn new(kind: ProblemKind, detail: impl Into<String>) -> Problem {
        Problem {
            type_uri: format!("{TYPE_BASE}{}", kind.slug()),
            title: kind.title().to_owned(),
            status: kind.status(),
            detail: detail.into(),
            field: None,
            retry_after: None,
        }
    }

    /// Names the offending field.
    pub fn with_field(mut self, field: impl Into<String>) -> Problem {
        self.field = Some(field.into());
        self
    }

    /// Adds a retry hint (also sent as `Retry-After`).
    pub fn with_retry_after(mut self, seconds: u64) -> Problem {
        self.retry_after = Some(seconds);
        self
    }

    /// The JSON body.
    pub fn to_json(&self) -> String {
        // Serialising plain strings and integers cannot fail.
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_rfc9457_members() {
        let p = Problem::new(
            ProblemKind::MissingCredential,
            "send `Authorization: Bearer <key>`",
        );
        let v: serde_json::Value = serde_json::from_str(&p.to_json()).unwrap();
        assert_eq!(
            v["type"],
            "https://tollgate.dev/problems/missing-credential"
        );
        assert_eq!(v["status"], 401);
        assert_eq!(v["title"], "Missing credential");
        assert!(v.get("field").is_none());
    }

    #[test]
    fn refusals_name_the_violated_policy_and_plain_problems_do_not() {
        let p = RateLimitedProblem {
            problem: Problem::new(ProblemKind::RateLimited, "slow down").with_retry_after(6),
            violation: Violation {
                violated_policies: vec!["rate".into()],
                limit: 10,
                reset: 6,
            },
        };
        let v: serde_json::Value = serde_json::from_str(&p.to_json()).unwrap();
        assert_eq!(v["violated-policies"], serde_json::json!(["rate"]));
        assert_eq!(
            (v["limit"].as_u64(), v["reset"].as_u64()),
            (Some(10), Some(6))
        );
        assert_eq!(v["status"], 429);
        let back: RateLimitedProblem = serde_json::from_str(&p.to_json()).unwrap();
        assert_eq!(back, p);
        assert!(!Problem::new(ProblemKind::NoRoute, "x")
            .to_json()
            .contains("violated"));
    }

    #[test]
    fn faults_follow_status() {
        assert_eq!(ProblemKind::UpstreamTimeout.fault(), Fault::Upstream);
        assert_eq!(ProblemKind::Internal.fault(), Fault::Internal);
        assert_eq!(ProblemKind::NoRoute.fault(), Fault::Client);
    }
}
