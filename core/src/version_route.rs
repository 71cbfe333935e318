//! Which version of an API a request reaches, and what the edge answers for it.
//!
//! An API with versions is routable at `{base_path}/v{major}/…` and at the bare
//! `{base_path}/…`, which reaches the newest published version (or, if none is published,
//! the newest deprecated one). Within a major the same rule picks the version. Once an API
//! has versions, a first segment `v{digits}` always selects a major: an unknown or
//! draft-only major is a 404, never a path passed to the default version. An API whose
//! versions are all drafts routes its bare path exactly as an unversioned API, so importing
//! a first spec as a draft does not break live traffic.
//!
//! Indexing is done once per snapshot; a request costs one hash probe for the major.

use crate::http_date::format_http_date;
use crate::route::RouteMatch;
use crate::version::{parse_version, VersionStatus};
use crate::{Problem, ProblemKind, VersionRoute};
use std::collections::HashMap;

/// The version a request reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionPick<'a> {
    /// Route to the API's own upstream, as an API without versions.
    Unversioned,
    /// A published or deprecated version.
    Live(&'a VersionRoute),
    /// A retired version and the newest live version after it, if any.
    Retired {
        version: &'a VersionRoute,
        successor: Option<&'a VersionRoute>,
    },
    /// `/v{major}` names a major with no published, deprecated or retired version.
    Unavailable { major: u64 },
}

#[derive(Debug, Clone, Copy)]
enum Slot {
    Unversioned,
    Live(usize),
    Retired {
        version: usize,
        successor: Option<usize>,
    },
    Unavailable,
}

/// The versions of one API, indexed by major.
#[derive(Debug, Default)]
pub struct VersionIndex {
    /// (major, version), oldest first.
    versions: Vec<(u64, VersionRoute)>,
    by_major: HashMap<u64, Slot>,
    bare: Option<Slot>,
}

/// The newest live version among `candidates` (indices into oldest-first order):
/// published beats deprecated.
fn newest_live(versions: &[(u64, VersionRoute)], candidates: &[usize]) -> Option<usize> {
    let newest = |status| {
        candidates
            .iter()
            .rev()
            .copied()
            .find(|&i| versions[i].1.status == status)
    };
    newest(VersionStatus::Published).or_else(|| newest(VersionStatus::Deprecated))
}

fn pick_slot(
    versions: &[(u64, VersionRoute)],
    members: &[usize],
    successor: Option<usize>,
) -> Slot {
    if let Some(live) = newest_live(versions, members) {
        return Slot::Live(live);
    }
    match members
        .iter()
        .rev()
        .copied()
        .find(|&i| versions[i].1.status == VersionStatus::Retired)
    {
        // A successor only counts if it is newer than what was retired.
        Some(retired) => Slot::Retired {
            version: retired,
            successor: successor.filter(|&s| s > retired),
        },
        None => Slot::Unavailable,
    }
}

impl VersionIndex {
    /// Indexes the versions of one API; entries whose number is not semver are skipped.
    pub fn new(versions: impl IntoIterator<Item = VersionRoute>) -> VersionIndex {
        let mut parsed: Vec<(semver::Version, VersionRoute)> = versions
            .into_iter()
            .filter_map(|v| parse_version(&v.version).ok().map(|n| (n, v)))
            .collect();
        parsed.sort_by(|a, b| a.0.cmp(&b.0));
        let versions: Vec<(u64, VersionRoute)> =
            parsed.into_iter().map(|(n, v)| (n.major, v)).collect();
        if versions.is_empty() {
            return VersionIndex::default();
        }
        let all: Vec<usize> = (0..versions.len()).collect();
        let newest = newest_live(&versions, &all);
        let mut majors: HashMap<u64, Vec<usize>> = HashMap::new();
        for (i, (major, _)) in versions.iter().enumerate() {
            majors.entry(*major).or_default().push(i);
        }
        let by_major = majors
            .into_iter()
            .map(|(major, members)| (major, pick_slot(&versions, &members, newest)))
            .collect();
        let bare = match pick_slot(&versions, &all, None) {
            Slot::Unavailable => Slot::Unversioned,
            slot => slot,
        };
        VersionIndex {
            versions,
            by_major,
            bare: Some(bare),
        }
    }

    /// Whether the API has any version at all.
    pub fn is_empty(&self) -> bool {
        self.versions.is_empty()
    }

    fn resolve(&self, slot: Slot, major: u64) -> VersionPick<'_> {
        match slot {
            Slot::Unversioned => VersionPick::Unversioned,
            Slot::Live(i) => VersionPick::Live(&self.versions[i].1),
            Slot::Retired { version, successor } => VersionPick::Retired {
                version: &self.versions[version].1,
                successor: successor.map(|s| &self.versions[s].1),
            },
            Slot::Unavailable => VersionPick::Unavailable { major },
        }
    }

    /// The version `rest` (the path after the base path) reaches, and the path to forward.
    pub fn select<'s, 'r>(&'s self, rest: &'r str) -> (VersionPick<'s>, &'r str) {
        let Some(bare) = self.bare else {
            return (VersionPick::Unversioned, rest);
        };
        match split_major(rest) {
            Some((major, after)) => {
                let slot = self
                    .by_major
                    .get(&major)
                    .copied()
                    .unwrap_or(Slot::Unavailable);
                (self.resolve(slot, major), after)
            }
            None => (self.resolve(bare, 0), rest),
        }
    }

    /// Majors that are routable, e.g. `v1, v2`.
    pub fn live_majors(&self) -> String {
        let mut majors: Vec<u64> = self
            .by_major
            .iter()
            .filter(|(_, s)| matches!(s, Slot::Live(_)))
            .map(|(m, _)| *m)
            .collect();
        majors.sort_unstable();
        let names: Vec<String> = majors.iter().map(|m| format!("v{m}")).collect();
        names.join(", ")
    }
}

/// Splits `/v{major}` (canonical digits) off the front of `rest`.
fn split_major(rest: &str) -> Option<(u64, &str)> {
    let after = rest.strip_prefix("/v")?;
    let end = after.find('/').unwrap_or(after.len());
    let digits = &after[..end];
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits.len() == 1 || !digits.starts_with('0'));
    if !canonical {
        return None;
    }
    let major = digits.parse().ok()?;
    let remainder = &after[end..];
    Some((major, if remainder.is_empty() { "/" } else { remainder }))
}

fn major_of(version: &VersionRoute) -> u64 {
    parse_version(&version.version).map_or(0, |v| v.major)
}

/// Headers a live version's answers carry (only deprecated ones have any), or the problem
/// that ends the request: 410 for a retired version, 404 for an unavailable major.
pub fn admit_version(m: &RouteMatch<'_>) -> Result<Vec<(&'static str, String)>, Problem> {
    let api = m.api;
    match m.version {
        VersionPick::Unversioned => Ok(Vec::new()),
        VersionPick::Live(v) if v.status != VersionStatus::Deprecated => Ok(Vec::new()),
        VersionPick::Live(v) => {
            let mut headers = Vec::new();
            if let Some(at) = v.deprecated_at {
                headers.push(("deprecation", format!("@{at}")));
            }
            if let Some(at) = v.sunset_at {
                headers.push(("sunset", format_http_date(at)));
            }
            if let Some(url) = &v.migration_url {
                headers.push(("link", format!("<{url}>; rel=\"deprecation\"")));
            }
            Ok(headers)
        }
        VersionPick::Retired { version, successor } => {
            let mut detail = format!(
                "version {} of `{}` has been retired",
                version.version, api.name
            );
            match successor {
                Some(next) => detail.push_str(&format!(
                    "; migrate to version {} at `{}/v{}`",
                    next.version,
                    api.base_path,
                    major_of(next)
                )),
                None => detail.push_str("; no newer version is published"),
            }
            if let Some(url) = &version.migration_url {
                detail.push_str(&format!(" (migration guide: {url})"));
            }
            Err(Problem::new(ProblemKind::Gone, detail))
        }
        VersionPick::Unavailable { major } => {
            let available = m
                .versions
                .map(VersionIndex::live_majors)
                .unwrap_or_default();
            let mut detail = format!("`{}` has no published version {major}", api.name);
            if !available.is_empty() {
                detail.push_str(&format!("; available: {available}"));
            }
            Err(Problem::new(ProblemKind::NoRoute, detail))
        }
    }
}

#[cfg(test)]
#[path = "version_route_tests.rs"]
mod tests;
