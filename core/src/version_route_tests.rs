//! Tests of version selection and the edge's answers per version status.

use super::*;
use crate::route::RouteTable;
use crate::{ApiId, ApiRoute, AuthPolicy};
use proptest::prelude::*;
use VersionStatus::*;

fn api() -> ApiRoute {
    ApiRoute {
        id: ApiId::from("api_pets"),
        name: "pets".into(),
        base_path: "/pets".into(),
        upstream_url: "http://up".into(),
        auth: AuthPolicy::Key,
        upstream_headers: Vec::new(),
        policies: None,
    }
}

fn v(version: &str, status: VersionStatus) -> VersionRoute {
    VersionRoute {
        api_id: ApiId::from("api_pets"),
        version: version.into(),
        status,
        upstream_url: None,
        deprecated_at: None,
        sunset_at: None,
        migration_url: None,
    }
}

fn table(versions: Vec<VersionRoute>) -> RouteTable {
    RouteTable::with_versions([api()], versions)
}

/// (version reached or a marker, forwarded rest) for a path.
fn reach(t: &RouteTable, path: &str) -> (String, String) {
    let m = t.match_path(path).unwrap();
    let what = match m.version {
        VersionPick::Unversioned => "unversioned".to_owned(),
        VersionPick::Live(v) => v.version.clone(),
        VersionPick::Retired { version, successor } => format!(
            "retired {} -> {}",
            version.version,
            successor.map_or("none", |s| s.version.as_str())
        ),
        VersionPick::Unavailable { major } => format!("unavailable {major}"),
    };
    (what, m.rest)
}

fn pair(a: &str, b: &str) -> (String, String) {
    (a.to_owned(), b.to_owned())
}

#[test]
fn bare_path_reaches_the_newest_published_and_majors_their_own() {
    let t = table(vec![
        v("1.0.0", Deprecated),
        v("1.1.0", Published),
        v("2.0.0", Published),
        v("3.0.0-beta.1", Draft),
    ]);
    assert_eq!(reach(&t, "/pets/dogs"), pair("2.0.0", "/dogs"));
    assert_eq!(reach(&t, "/pets"), pair("2.0.0", "/"));
    assert_eq!(reach(&t, "/pets/v1/dogs?x"), pair("1.1.0", "/dogs?x"));
    assert_eq!(reach(&t, "/pets/v2"), pair("2.0.0", "/"));
    assert_eq!(reach(&t, "/pets/v3/dogs"), pair("unavailable 3", "/dogs"));
    assert_eq!(reach(&t, "/pets/v9/dogs"), pair("unavailable 9", "/dogs"));
    // Not canonical version segments: plain paths of the default version.
    assert_eq!(reach(&t, "/pets/v01/x"), pair("2.0.0", "/v01/x"));
    assert_eq!(reach(&t, "/pets/version"), pair("2.0.0", "/version"));
    assert_eq!(reach(&t, "/pets/v/x"), pair("2.0.0", "/v/x"));
}

#[test]
fn published_beats_a_newer_deprecated_version() {
    let t = table(vec![v("1.0.0", Published), v("2.0.0", Deprecated)]);
    assert_eq!(reach(&t, "/pets/x").0, "1.0.0");
    assert_eq!(reach(&t, "/pets/v2/x").0, "2.0.0");
    let only_deprecated = table(vec![v("1.0.0", Deprecated), v("1.2.0", Deprecated)]);
    assert_eq!(reach(&only_deprecated, "/pets/x").0, "1.2.0");
}

#[test]
fn drafts_alone_leave_the_api_routing_as_before() {
    let t = table(vec![v("1.0.0", Draft)]);
    assert_eq!(reach(&t, "/pets/dogs"), pair("unversioned", "/dogs"));
    assert_eq!(reach(&t, "/pets/v1/dogs"), pair("unavailable 1", "/dogs"));
    let none = table(vec![]);
    assert_eq!(
        reach(&none, "/pets/v1/dogs"),
        pair("unversioned", "/v1/dogs")
    );
}

#[test]
fn retired_versions_name_their_successor() {
    let t = table(vec![
        v("1.0.0", Retired),
        v("2.0.0", Published),
        v("3.0.0", Retired),
    ]);
    assert_eq!(reach(&t, "/pets/v1/a").0, "retired 1.0.0 -> 2.0.0");
    assert_eq!(reach(&t, "/pets/v3/a").0, "retired 3.0.0 -> none");
    let all_retired = table(vec![v("1.0.0", Retired)]);
    assert_eq!(reach(&all_retired, "/pets/a").0, "retired 1.0.0 -> none");
}

#[test]
fn deprecated_answers_carry_rfc_headers() {
    let mut dep = v("1.0.0", Deprecated);
    dep.deprecated_at = Some(1_688_169_599);
    dep.sunset_at = Some(1_542_412_799);
    dep.migration_url = Some("https://docs.example.com/migrate".into());
    dep.upstream_url = Some("http://v1-upstream".into());
    let t = table(vec![dep, v("2.0.0", Published)]);
    let m = t.match_path("/pets/v1/x").unwrap();
    assert_eq!(m.upstream_url(), "http://v1-upstream");
    assert_eq!(
        admit_version(&m).unwrap(),
        vec![
            ("deprecation", "@1688169599".to_owned()),
            ("sunset", "Fri, 16 Nov 2018 23:59:59 GMT".to_owned()),
            (
                "link",
                "<https://docs.example.com/migrate>; rel=\"deprecation\"".to_owned()
            ),
        ]
    );
    let m = t.match_path("/pets/x").unwrap();
    assert_eq!(m.upstream_url(), "http://up");
    assert_eq!(admit_version(&m).unwrap(), vec![]);
}

#[test]
fn retired_is_410_and_unavailable_404_with_what_to_do() {
    let mut old = v("1.4.0", Retired);
    old.migration_url = Some("https://docs.example.com/v2".into());
    let t = table(vec![old, v("2.1.0", Published), v("3.0.0", Draft)]);
    let p = admit_version(&t.match_path("/pets/v1/x").unwrap()).unwrap_err();
    assert_eq!(p.status, 410);
    assert!(p.detail.contains("1.4.0"), "{}", p.detail);
    assert!(p.detail.contains("`/pets/v2`"), "{}", p.detail);
    assert!(
        p.detail.contains("https://docs.example.com/v2"),
        "{}",
        p.detail
    );
    let p = admit_version(&t.match_path("/pets/v3/x").unwrap()).unwrap_err();
    assert_eq!(p.status, 404);
    assert!(p.detail.contains("available: v2"), "{}", p.detail);
}

#[test]
fn unversioned_apis_are_untouched() {
    let t = RouteTable::new([api()]);
    let m = t.match_path("/pets/v1/x").unwrap();
    assert_eq!(m.rest, "/v1/x");
    assert_eq!(m.version, VersionPick::Unversioned);
    assert!(admit_version(&m).unwrap().is_empty());
}

fn status() -> impl Strategy<Value = VersionStatus> {
    prop_oneof![
        Just(Draft),
        Just(Published),
        Just(Deprecated),
        Just(Retired)
    ]
}

proptest! {
    #[test]
    fn picks_follow_the_rules(
        entries in proptest::collection::btree_map((0u64..4, 0u64..3), status(), 0..8),
        major in 0u64..5,
    ) {
        let versions: Vec<VersionRoute> = entries
            .iter()
            .map(|(&(maj, min), &s)| v(&format!("{maj}.{min}.0"), s))
            .collect();
        let t = table(versions.clone());
        let prefix = format!("{}.", major);
        let in_major: Vec<&VersionRoute> = versions
            .iter()
            .filter(|x| x.version.starts_with(&prefix))
            .collect();
        let m = t.match_path(&format!("/pets/v{major}/x")).unwrap();
        match m.version {
            VersionPick::Live(x) => {
                prop_assert!(x.status.is_live());
                prop_assert!(x.version.starts_with(&prefix));
                if x.status == Deprecated {
                    prop_assert!(in_major.iter().all(|y| y.status != Published));
                }
                prop_assert_eq!(m.rest, "/x");
            }
            VersionPick::Retired { .. } => {
                prop_assert!(in_major.iter().all(|y| !y.status.is_live()));
                prop_assert!(in_major.iter().any(|y| y.status == Retired));
            }
            VersionPick::Unavailable { major: got } => {
                prop_assert_eq!(got, major);
                prop_assert!(in_major.iter().all(|y| y.status == Draft));
            }
            VersionPick::Unversioned => prop_assert!(versions.is_empty()),
        }
        let bare = t.match_path("/pets/x").unwrap().version;
        let any_live = versions.iter().any(|x| x.status.is_live());
        prop_assert_eq!(matches!(bare, VersionPick::Live(_)), any_live);
    }
}
