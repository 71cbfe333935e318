//! Route matching: which API a request path belongs to, by longest base-path prefix, and
//! which of its versions (see `version_route`).
//!
//! Base paths are indexed in a hash map, and a match probes one entry per path segment
//! (longest first) plus one for a `/v{major}` segment, so matching costs O(segments),
//! independent of how many APIs and versions exist.

use crate::version_route::{VersionIndex, VersionPick};
use crate::{ApiId, ApiRoute, VersionRoute};
use std::collections::HashMap;

/// A matched route: the API, the version reached and the rest of the path to forward.
#[derive(Debug)]
pub struct RouteMatch<'a> {
    pub api: &'a ApiRoute,
    /// Always starts with `/` (just `/` when the request hit the base path itself); a
    /// `/v{major}` segment that selected a version is not part of it.
    pub rest: String,
    pub version: VersionPick<'a>,
    /// The API's versions, when it has any.
    pub versions: Option<&'a VersionIndex>,
}

impl RouteMatch<'_> {
    /// Where to forward: the version's own upstream, else the API's.
    pub fn upstream_url(&self) -> &str {
        match self.version {
            VersionPick::Live(v) => v.upstream_url.as_deref().unwrap_or(&self.api.upstream_url),
            _ => &self.api.upstream_url,
        }
    }
}

#[derive(Debug)]
struct RouteEntry {
    api: ApiRoute,
    versions: Option<VersionIndex>,
}

/// An index of base paths built once per snapshot.
#[derive(Debug, Default)]
pub struct RouteTable {
    by_base_path: HashMap<String, RouteEntry>,
}

/// Why a base path is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BasePathError {
    #[error("base_path must start with `/`, have at least one segment and no trailing `/`, e.g. `/weather`")]
    Shape,
    #[error("base_path segments may use letters, digits and `-._~` only")]
    Characters,
}

/// Normalises and checks a base path as entered by an operator.
pub fn parse_base_path(raw: &str) -> Result<String, BasePathError> {
    let trimmed = raw.trim();
    let path = trimmed.strip_suffix('/').unwrap_or(trimmed);
    if !path.starts_with('/') || path.len() < 2 {
        return Err(BasePathError::Shape);
    }
    for segment in path[1..].split('/') {
        if segment.is_empty() || segment == "." || segment == ".." {
            return Err(BasePathError::Shape);
        }
        if !segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
        {
            return Err(BasePathError::Characters);
        }
    }
    Ok(path.to_owned())
}

impl RouteTable {
    /// Indexes the given APIs; a later duplicate base path replaces an earlier one.
    pub fn new(apis: impl IntoIterator<Item = ApiRoute>) -> RouteTable {
        RouteTable::with_versions(apis, [])
    }

    /// Indexes APIs and their versions (versions of unknown APIs are ignored).
    pub fn with_versions(
        apis: impl IntoIterator<Item = ApiRoute>,
        versions: impl IntoIterator<Item = VersionRoute>,
    ) -> RouteTable {
        let mut grouped: HashMap<ApiId, Vec<VersionRoute>> = HashMap::new();
        for v in versions {
            grouped.entry(v.api_id.clone()).or_default().push(v);
        }
        RouteTable {
            by_base_path: apis
                .into_iter()
                .map(|api| {
                    let versions = grouped
                        .remove(&api.id)
                        .map(VersionIndex::new)
                        .filter(|index| !index.is_empty());
                    (api.base_path.clone(), RouteEntry { api, versions })
                })
                .collect(),
        }
    }

    /// Number of routes.
    pub fn len(&self) -> usize {
        self.by_base_path.len()
    }

    /// Whether there are no routes.
    pub fn is_empty(&self) -> bool {
        self.by_base_path.is_empty()
    }

    /// Finds the API whose base path is the longest whole-segment prefix of `path`.
    pub fn match_path(&self, path: &str) -> Option<RouteMatch<'_>> {
        if !path.starts_with('/') {
            return None;
        }
        let mut end = path.len();
        loop {
            let candidate = path[..end].strip_suffix('/').unwrap_or(&path[..end]);
            if let Some(entry) = self.by_base_path.get(candidate) {
                let rest = &path[candidate.len()..];
                let rest = if rest.is_empty() { "/" } else { rest };
                let (version, rest) = match &entry.versions {
                    Some(index) => index.select(rest),
                    None => (VersionPick::Unversioned, rest),
                };
                return Some(RouteMatch {
                    api: &entry.api,
                    rest: rest.to_owned(),
                    version,
                    versions: entry.versions.as_ref(),
                });
            }
            match candidate.rfind('/') {
                Some(0) | None => return None,
                Some(i) => end = i,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AuthPolicy;
    use proptest::prelude::*;

    fn api(base: &str) -> ApiRoute {
        ApiRoute {
            id: ApiId::from(base),
            name: base.into(),
            base_path: base.into(),
            upstream_url: "http://up".into(),
            auth: AuthPolicy::Key,
            upstream_headers: Vec::new(),
            policies: None,
        }
    }

    #[test]
    fn longest_whole_segment_prefix_wins() {
        let t = RouteTable::new([api("/a"), api("/a/b"), api("/ab")]);
        let m = t.match_path("/a/b/c").unwrap();
        assert_eq!((m.api.base_path.as_str(), m.rest.as_str()), ("/a/b", "/c"));
        let m = t.match_path("/a/bc").unwrap();
        assert_eq!((m.api.base_path.as_str(), m.rest.as_str()), ("/a", "/bc"));
        let m = t.match_path("/ab").unwrap();
        assert_eq!((m.api.base_path.as_str(), m.rest.as_str()), ("/ab", "/"));
        let m = t.match_path("/a/").unwrap();
        assert_eq!(m.rest, "/");
        assert!(t.match_path("/abc").is_none());
        assert!(t.match_path("/").is_none());
        assert!(t.match_path("").is_none());
        assert!(t.match_path("a/b").is_none());
    }

    #[test]
    fn base_paths_are_normalised_and_checked() {
        assert_eq!(parse_base_path("/weather/"), Ok("/weather".into()));
        assert_eq!(parse_base_path("/v1/pets"), Ok("/v1/pets".into()));
        for bad in ["", "/", "weather", "//x", "/a//b", "/../x"] {
            assert_eq!(parse_base_path(bad), Err(BasePathError::Shape), "{bad}");
        }
        assert_eq!(parse_base_path("/a b"), Err(BasePathError::Characters));
        assert_eq!(parse_base_path("/a?b"), Err(BasePathError::Characters));
    }

    proptest! {
        #[test]
        fn a_match_is_always_a_segment_prefix(segs in proptest::collection::vec("[a-c]{1,2}", 1..5), path in "(/[a-c]{0,2}){0,6}") {
            let base = format!("/{}", segs.join("/"));
            let t = RouteTable::new([api(&base)]);
            if let Some(m) = t.match_path(&path) {
                prop_assert!(path.starts_with(&base));
                prop_assert!(path.len() == base.len() || path.as_bytes()[base.len()] == b'/');
                prop_assert!(m.rest.starts_with('/'));
            } else {
                let with_slash = format!("{}/", base);
                prop_assert!(!(path == base || path.starts_with(&with_slash)));
            }
        }
    }
}
