//! Tests of the caching rules as a client or operator would notice them.

use super::*;
use crate::ApiId;

fn policy() -> CachePolicy {
    serde_json::from_str(
        r#"{"enabled":true,"default_ttl_secs":60,"max_ttl_secs":3600,"cache_authenticated":false,
            "routes":[{"path":"/forecast/*","methods":["GET"],"ttl_secs":30,"tags":["forecast"]},
                      {"path":"/live","enabled":false}]}"#,
    )
    .unwrap()
}

fn rule(p: &CachePolicy) -> RouteRule<'_> {
    p.rule_for("GET", "/other").unwrap()
}

fn resp(status: u16, cc: Option<&'static str>) -> ResponseFacts<'static> {
    ResponseFacts {
        status,
        cache_control: cc,
        now_secs: 1_000_000,
        ..ResponseFacts::default()
    }
}

#[test]
fn routes_override_the_default_and_head_follows_get() {
    let p = policy();
    let r = p.rule_for("GET", "/forecast/berlin").unwrap();
    assert_eq!(r.default_ttl_secs, 30);
    assert_eq!(r.tags, ["forecast".to_owned()]);
    assert!(p.rule_for("HEAD", "/forecast/berlin").is_some());
    assert!(p.rule_for("GET", "/live").is_none());
    assert_eq!(p.rule_for("GET", "/other").unwrap().default_ttl_secs, 60);
}

#[test]
fn unsafe_methods_ranges_credentials_and_no_store_are_not_served_from_cache() {
    let p = policy();
    let r = rule(&p);
    let req = |method, cc, has_range, authenticated| RequestFacts {
        method,
        cache_control: cc,
        has_range,
        authenticated,
    };
    assert_eq!(
        request_decision(&r, &req("POST", None, false, false)),
        RequestDecision::Method
    );
    assert_eq!(
        request_decision(&r, &req("GET", None, true, false)),
        RequestDecision::Bypass("range")
    );
    assert_eq!(
        request_decision(&r, &req("GET", None, false, true)),
        RequestDecision::Bypass("authenticated")
    );
    assert_eq!(
        request_decision(&r, &req("GET", Some("no-store"), false, false)),
        RequestDecision::Bypass("no-store")
    );
    assert_eq!(
        request_decision(&r, &req("GET", Some("no-cache"), false, false)),
        RequestDecision::Lookup,
        "request no-cache is not honoured: clients cannot force upstream load"
    );
    assert_eq!(
        request_decision(&r, &req("HEAD", None, false, false)),
        RequestDecision::Lookup
    );
    let mut shared = policy();
    shared.cache_authenticated = true;
    assert_eq!(
        request_decision(&rule(&shared), &req("GET", None, false, true)),
        RequestDecision::Lookup
    );
}

#[test]
fn answers_that_must_not_be_shared_are_never_stored() {
    let p = policy();
    let r = rule(&p);
    assert_eq!(storable(&r, &resp(500, None)), Err(StoreRefusal::Status));
    assert_eq!(storable(&r, &resp(206, None)), Err(StoreRefusal::Status));
    assert_eq!(
        storable(&r, &resp(200, Some("no-store"))),
        Err(StoreRefusal::NoStore)
    );
    assert_eq!(
        storable(&r, &resp(200, Some("private, max-age=60"))),
        Err(StoreRefusal::Private)
    );
    assert_eq!(
        storable(&r, &resp(200, Some("no-cache"))),
        Err(StoreRefusal::NoCache)
    );
    let cookie = ResponseFacts {
        has_set_cookie: true,
        ..resp(200, Some("max-age=60"))
    };
    assert_eq!(storable(&r, &cookie), Err(StoreRefusal::SetCookie));
    let star = ResponseFacts {
        vary: Some("Accept, *"),
        ..resp(200, None)
    };
    assert_eq!(storable(&r, &star), Err(StoreRefusal::VaryStar));
    assert_eq!(
        storable(&r, &resp(200, Some("max-age=0"))),
        Err(StoreRefusal::ZeroLifetime)
    );
}

#[test]
fn lifetime_prefers_s_maxage_then_max_age_then_expires_and_is_capped() {
    let p = policy();
    let r = rule(&p);
    assert_eq!(
        storable(&r, &resp(200, Some("max-age=10, s-maxage=20"))),
        Ok(20)
    );
    assert_eq!(storable(&r, &resp(200, Some("max-age=10"))), Ok(10));
    assert_eq!(storable(&r, &resp(200, Some("max-age=999999"))), Ok(3600));
    assert_eq!(
        storable(&r, &resp(404, None)),
        Ok(60),
        "policy default when silent"
    );
    let expires = ResponseFacts {
        expires: Some("Sun, 06 Nov 1994 08:49:37 GMT"),
        date: Some("Sun, 06 Nov 1994 08:49:07 GMT"),
        ..resp(200, None)
    };
    assert_eq!(storable(&r, &expires), Ok(30));
    let bogus = ResponseFacts {
        expires: Some("0"),
        ..resp(200, None)
    };
    assert_eq!(
        storable(&r, &bogus),
        Err(StoreRefusal::ZeroLifetime),
        "invalid Expires is past"
    );
}

#[test]
fn keys_sort_the_query_and_separate_consumers_generations_and_apis() {
    let base = KeyParts {
        api_id: "api_1",
        generation: 0,
        path: "/w/forecast",
        query: Some("b=2&a=1"),
        consumer: None,
    };
    let k = primary_key(&base);
    assert_eq!(
        k,
        primary_key(&KeyParts {
            query: Some("a=1&b=2"),
            ..base
        })
    );
    assert_ne!(
        k,
        primary_key(&KeyParts {
            consumer: Some("con_a"),
            ..base
        })
    );
    assert_ne!(
        primary_key(&KeyParts {
            consumer: Some("con_a"),
            ..base
        }),
        primary_key(&KeyParts {
            consumer: Some("con_b"),
            ..base
        })
    );
    assert_ne!(
        k,
        primary_key(&KeyParts {
            generation: 1,
            ..base
        })
    );
    assert_ne!(
        k,
        primary_key(&KeyParts {
            api_id: "api_2",
            ..base
        })
    );
    assert_ne!(
        k,
        primary_key(&KeyParts {
            query: None,
            ..base
        })
    );
    assert_eq!(k.len(), 64);
}

#[test]
fn vary_values_separate_variants() {
    let names = vary_names("Accept-Language, accept-language , bad header, Accept");
    assert_eq!(names, ["accept", "accept-language"]);
    let de = variant_key("k", &names, |n| {
        (n == "accept-language").then(|| "de".to_owned())
    });
    let fr = variant_key("k", &names, |n| {
        (n == "accept-language").then(|| "fr".to_owned())
    });
    let de2 = variant_key("k", &names, |n| {
        (n == "accept-language").then(|| " de ".to_owned())
    });
    assert_ne!(de, fr);
    assert_eq!(de, de2);
}

#[test]
fn conditional_requests_use_the_weak_comparison_and_if_none_match_first() {
    let v = Validators {
        etag: Some("W/\"abc\""),
        last_modified: Some("Sun, 06 Nov 1994 08:49:37 GMT"),
    };
    assert!(is_not_modified(Some("\"abc\""), None, &v));
    assert!(is_not_modified(Some("\"x\", W/\"abc\""), None, &v));
    assert!(!is_not_modified(
        Some("\"abd\""),
        Some("Sun, 06 Nov 1994 08:49:37 GMT"),
        &v
    ));
    assert!(is_not_modified(
        None,
        Some("Sun, 06 Nov 1994 08:49:37 GMT"),
        &v
    ));
    assert!(!is_not_modified(
        None,
        Some("Sun, 06 Nov 1994 08:49:36 GMT"),
        &v
    ));
    assert!(!is_not_modified(None, Some("yesterday"), &v));
    assert!(is_not_modified(Some("*"), None, &Validators::default()));
    assert!(!is_not_modified(
        Some("\"abc\""),
        None,
        &Validators::default()
    ));
}

#[test]
fn cache_status_follows_rfc_9211() {
    assert_eq!(
        cache_status_field(&CacheStatus::Hit { ttl_secs: 12 }),
        "tollgate;hit;ttl=12"
    );
    assert_eq!(
        cache_status_field(&CacheStatus::Forward {
            fwd: Forward::UriMiss,
            fwd_status: Some(200),
            stored: true,
            detail: None
        }),
        "tollgate;fwd=uri-miss;fwd-status=200;stored"
    );
    assert_eq!(
        cache_status_field(&CacheStatus::Forward {
            fwd: Forward::Bypass,
            fwd_status: None,
            stored: false,
            detail: Some("authenticated")
        }),
        "tollgate;fwd=bypass;detail=authenticated"
    );
    let parsed = sfv::Parser::new("tollgate;fwd=stale;detail=zero-lifetime").parse::<sfv::List>();
    assert!(parsed.is_ok());
}

#[test]
fn purges_invalidate_only_what_they_name_and_only_older_entries() {
    let api = ApiId("api_1".into());
    let index = CacheIndex::new(
        vec![],
        vec![
            CachePurge {
                api_id: api.clone(),
                tag: Some("forecast".into()),
                prefix: None,
                at_ms: 100,
            },
            CachePurge {
                api_id: api.clone(),
                tag: None,
                prefix: Some("/maps".into()),
                at_ms: 200,
            },
        ],
    );
    assert!(index.is_purged(&api, "/forecast/x", &["forecast"], 50));
    assert!(!index.is_purged(&api, "/forecast/x", &["forecast"], 150));
    assert!(!index.is_purged(&api, "/forecast/x", &[], 50));
    assert!(index.is_purged(&api, "/maps/eu", &[], 200));
    assert!(!index.is_purged(&ApiId("api_2".into()), "/maps/eu", &[], 10));
}

#[test]
fn policies_and_purges_with_careless_members_are_refused_naming_the_member() {
    let bad = |f: fn(&mut CachePolicy), field: &str| {
        let mut p = policy();
        f(&mut p);
        assert_eq!(p.check().unwrap_err().field, field);
    };
    bad(|p| p.max_ttl_secs = 0, "max_ttl_secs");
    bad(|p| p.max_ttl_secs = MAX_TTL_SECS + 1, "max_ttl_secs");
    bad(|p| p.default_ttl_secs = 4000, "default_ttl_secs");
    bad(|p| p.routes[0].path = "forecast".into(), "routes[0].path");
    bad(|p| p.routes[0].path = "/a//b".into(), "routes[0].path");
    bad(|p| p.routes[0].path = "/a/../b".into(), "routes[0].path");
    bad(
        |p| p.routes[0].methods = vec!["POST".into()],
        "routes[0].methods",
    );
    bad(|p| p.routes[0].methods = vec![], "routes[0].methods");
    bad(|p| p.routes[0].ttl_secs = Some(4000), "routes[0].ttl_secs");
    bad(|p| p.routes[1].tags = vec!["-x".into()], "routes[1].tags");
    bad(|p| p.routes[1].tags = vec!["a b".into()], "routes[1].tags");
    bad(
        |p| p.routes[1].tags = vec!["x".repeat(65)],
        "routes[1].tags",
    );
    let mut ok = policy();
    ok.routes[0].methods = vec!["get".into(), "head".into()];
    assert!(ok.check().is_ok());
    assert_eq!(ok.routes[0].methods, ["GET", "HEAD"]);

    let both = PurgeRequest {
        tags: Some(vec!["a".into()]),
        path_prefix: Some("/x".into()),
    };
    assert_eq!(both.check(), Err(PurgeError::Both));
    assert_eq!(
        PurgeRequest {
            tags: Some(vec![]),
            ..Default::default()
        }
        .check(),
        Err(PurgeError::TagCount)
    );
    assert!(matches!(
        PurgeRequest {
            tags: Some(vec!["ok".into(), "bad tag".into()]),
            ..Default::default()
        }
        .check(),
        Err(PurgeError::Tag(_))
    ));
    assert_eq!(
        PurgeRequest {
            path_prefix: Some("x".into()),
            ..Default::default()
        }
        .check(),
        Err(PurgeError::Prefix)
    );
    assert!(PurgeRequest::default().check().is_ok());
}

proptest::proptest! {
    #[test]
    fn arbitrary_header_values_never_panic(
        cc in "\\PC{0,80}", expires in "\\PC{0,40}", vary in "\\PC{0,40}",
        inm in "\\PC{0,40}", ims in "\\PC{0,40}", status in 0u16..1000, path in "\\PC{0,40}",
    ) {
        let p = policy();
        let r = rule(&p);
        let facts = ResponseFacts {
            status,
            cache_control: Some(&cc),
            expires: Some(&expires),
            date: Some(&ims),
            vary: Some(&vary),
            has_set_cookie: false,
            now_secs: 1_000,
        };
        if let Ok(ttl) = storable(&r, &facts) {
            proptest::prop_assert!(ttl >= 1 && ttl <= r.max_ttl_secs);
        }
        let _ = request_decision(&r, &RequestFacts { method: "GET", cache_control: Some(&cc), has_range: false, authenticated: false });
        let names = vary_names(&vary);
        let _ = variant_key("k", &names, |_| Some(cc.clone()));
        let _ = is_not_modified(Some(&inm), Some(&ims), &Validators { etag: Some(&cc), last_modified: Some(&expires) });
        let _ = p.rule_for("GET", &path);
        let _ = cache_status_field(&CacheStatus::Forward { fwd: Forward::Bypass, fwd_status: Some(status), stored: false, detail: Some(&cc) });
        let mut q = p.clone();
        q.routes[0].path = path.clone();
        q.routes[0].tags = vec![vary.clone()];
        let _ = q.check();
    }
}
