//! API versions: semver numbers, the lifecycle draft → published → deprecated → retired,
//! and what the edge is told about each version in the config snapshot.
//!
//! The lifecycle only moves forward one step at a time, so every caller of a retired
//! version has seen `Deprecation` and `Sunset` headers first.

use crate::ApiId;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a version stands in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VersionStatus {
    /// Imported, not routable (404 at the edge).
    Draft,
    /// Routable.
    Published,
    /// Routable, answers carry `Deprecation`, `Sunset` and `Link`.
    Deprecated,
    /// Not routable any more: 410 with what to migrate to.
    Retired,
}

impl VersionStatus {
    /// The stored and serialised name.
    pub fn as_str(self) -> &'static str {
        match self {
            VersionStatus::Draft => "draft",
            VersionStatus::Published => "published",
            VersionStatus::Deprecated => "deprecated",
            VersionStatus::Retired => "retired",
        }
    }

    /// Parses a stored name.
    pub fn parse(raw: &str) -> Option<VersionStatus> {
        [
            VersionStatus::Draft,
            VersionStatus::Published,
            VersionStatus::Deprecated,
            VersionStatus::Retired,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }

    /// Whether the edge forwards calls to a version in this state.
    pub fn is_live(self) -> bool {
        matches!(self, VersionStatus::Published | VersionStatus::Deprecated)
    }
}

impl fmt::Display for VersionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A requested lifecycle step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Publish,
    Deprecate,
    Retire,
}

impl Transition {
    /// The status this step leads to.
    pub fn target(self) -> VersionStatus {
        match self {
            Transition::Publish => VersionStatus::Published,
            Transition::Deprecate => VersionStatus::Deprecated,
            Transition::Retire => VersionStatus::Retired,
        }
    }

    /// The status this step starts from.
    pub fn source(self) -> VersionStatus {
        match self {
            Transition::Publish => VersionStatus::Draft,
            Transition::Deprecate => VersionStatus::Published,
            Transition::Retire => VersionStatus::Deprecated,
        }
    }
}

/// Why a lifecycle step is refused (a 409: the version's state conflicts with it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("the version is already {0}")]
    Already(VersionStatus),
    #[error("a {from} version cannot become {to}; only a {needs} one can")]
    Illegal {
        from: VersionStatus,
        to: VersionStatus,
        needs: VersionStatus,
    },
}

/// The status after `step` from `from`, or why that step is not allowed.
pub fn transition(from: VersionStatus, step: Transition) -> Result<VersionStatus, TransitionError> {
    if from == step.target() {
        return Err(TransitionError::Already(from));
    }
    if from != step.source() {
        return Err(TransitionError::Illegal {
            from,
            to: step.target(),
            needs: step.source(),
        });
    }
    Ok(step.target())
}

/// Why a version number is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionNumberError {
    #[error("must be a semantic version like `1.4.0` (without a leading `v`): {0}")]
    NotSemver(String),
    #[error("build metadata (`+…`) does not order versions; leave it out")]
    BuildMetadata,
}

/// Parses a semantic version as entered by an operator.
pub fn parse_version(raw: &str) -> Result<semver::Version, VersionNumberError> {
    let version = semver::Version::parse(raw.trim())
        .map_err(|e| VersionNumberError::NotSemver(e.to_string()))?;
    if !version.build.is_empty() {
        return Err(VersionNumberError::BuildMetadata);
    }
    Ok(version)
}

/// One version of an API as the edge sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionRoute {
    pub api_id: ApiId,
    /// Semantic version, e.g. `2.1.0`; routable at `{base_path}/v{major}`.
    pub version: String,
    pub status: VersionStatus,
    /// Overrides the API's upstream for this version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_url: Option<String>,
    /// Unix seconds the version was deprecated (the `Deprecation` header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecated_at: Option<u64>,
    /// Unix seconds after which the version may stop answering (the `Sunset` header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sunset_at: Option<u64>,
    /// The migration guide (`Link: <…>; rel="deprecation"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migration_url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use VersionStatus::*;

    #[test]
    fn the_lifecycle_moves_forward_one_step_at_a_time() {
        assert_eq!(transition(Draft, Transition::Publish), Ok(Published));
        assert_eq!(transition(Published, Transition::Deprecate), Ok(Deprecated));
        assert_eq!(transition(Deprecated, Transition::Retire), Ok(Retired));
        assert_eq!(
            transition(Published, Transition::Publish),
            Err(TransitionError::Already(Published))
        );
        for (from, step) in [
            (Draft, Transition::Deprecate),
            (Draft, Transition::Retire),
            (Published, Transition::Retire),
            (Deprecated, Transition::Publish),
            (Retired, Transition::Publish),
            (Retired, Transition::Deprecate),
        ] {
            let err = transition(from, step).unwrap_err();
            assert!(
                matches!(err, TransitionError::Illegal { .. }),
                "{from} {step:?}"
            );
        }
        assert_eq!(
            transition(Retired, Transition::Retire),
            Err(TransitionError::Already(Retired))
        );
    }

    #[test]
    fn statuses_round_trip_and_only_two_are_live() {
        for s in [Draft, Published, Deprecated, Retired] {
            assert_eq!(VersionStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(VersionStatus::parse("gone"), None);
        assert!(Published.is_live() && Deprecated.is_live());
        assert!(!Draft.is_live() && !Retired.is_live());
    }

    #[test]
    fn versions_are_semver_without_build_metadata() {
        assert_eq!(parse_version(" 1.2.3 ").unwrap().major, 1);
        assert!(parse_version("2.0.0-beta.1").is_ok());
        assert!(matches!(
            parse_version("v1.2.3"),
            Err(VersionNumberError::NotSemver(_))
        ));
        assert!(matches!(
            parse_version("1.2"),
            Err(VersionNumberError::NotSemver(_))
        ));
        assert_eq!(
            parse_version("1.2.3+build.5"),
            Err(VersionNumberError::BuildMetadata)
        );
    }
}
