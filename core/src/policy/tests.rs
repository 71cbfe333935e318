use super::access::{check_client_headers, check_method};
use super::cors::{is_preflight, CorsRefusal};
use super::identity::{identity_claims, identity_headers, parse_signing_seed};
use super::rewrite::UnsafePath;
use super::*;
use crate::{ApiId, ConsumerId, KeyHash, KeyId, KeyRecord, KeyStatus, PlanId};
use serde_json::json;

fn policies(v: serde_json::Value) -> ApiPolicies {
    serde_json::from_value(v).unwrap()
}

fn pointer(v: serde_json::Value) -> String {
    policies(v).validate().unwrap_err().pointer
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

#[test]
fn hostile_configs_are_refused_with_a_pointer() {
    assert_eq!(
        pointer(json!({"cors": {"allowed_origins": ["https://a.example", "javascript:x"]}})),
        "/cors/allowed_origins/1"
    );
    assert_eq!(
        pointer(json!({"cors": {"allowed_origins": ["*"], "allow_credentials": true}})),
        "/cors/allow_credentials"
    );
    assert_eq!(
        pointer(json!({"cors": {"allowed_origins": ["https://a.example/"]}})),
        "/cors/allowed_origins/0"
    );
    assert_eq!(
        pointer(json!({"cors": {"allowed_origins": []}})),
        "/cors/allowed_origins"
    );
    assert_eq!(
        pointer(json!({"request_headers": {"set": {"X-A": "a\r\nInjected: 1"}}})),
        "/request_headers/set/X-A"
    );
    assert_eq!(
        pointer(json!({"request_headers": {"set": {"bad name": "v"}}})),
        "/request_headers/set/bad name"
    );
    assert_eq!(
        pointer(json!({"request_headers": {"remove": ["ok", "Transfer-Encoding"]}})),
        "/request_headers/remove/1"
    );
    assert_eq!(
        pointer(json!({"response_headers": {"rename": {"a/b": "c"}}})),
        "/response_headers/rename/a~1b"
    );
    assert_eq!(
        pointer(json!({"request_headers": {"add": {"X-Tollgate-Consumer-Id": "spoof"}}})),
        "/request_headers/add/X-Tollgate-Consumer-Id"
    );
    assert_eq!(
        pointer(json!({"request_headers": {"set": {"X-A": "caf\u{e9}"}}})),
        "/request_headers/set/X-A"
    );
    assert_eq!(
        pointer(json!({"path_rewrite": {"from": "/v1/*", "to": "/../*"}})),
        "/path_rewrite/to"
    );
    assert_eq!(
        pointer(json!({"path_rewrite": {"from": "/v1/*", "to": "/a/%2e%2E/*"}})),
        "/path_rewrite/to"
    );
    assert_eq!(
        pointer(json!({"path_rewrite": {"from": "/v1/*", "to": "/api"}})),
        "/path_rewrite/to"
    );
    assert_eq!(
        pointer(json!({"path_rewrite": {"from": "v1", "to": "/api"}})),
        "/path_rewrite/from"
    );
    assert_eq!(
        pointer(json!({"path_rewrite": {"from": "/a*b", "to": "/api"}})),
        "/path_rewrite/from"
    );
    assert_eq!(
        pointer(json!({"query": {"set": {"a b": "1"}}})),
        "/query/set/a b"
    );
    assert_eq!(pointer(json!({"methods": ["GET", "G ET"]})), "/methods/1");
    assert_eq!(pointer(json!({"methods": []})), "/methods");
    assert_eq!(
        pointer(json!({"ip": {"allow": ["10.0.0.0/8", "10.0.0.0/33"]}})),
        "/ip/allow/1"
    );
    assert_eq!(pointer(json!({"ip": {"deny": ["nope"]}})), "/ip/deny/0");
    assert_eq!(
        pointer(json!({"limits": {"max_header_bytes": 10}})),
        "/limits/max_header_bytes"
    );
    assert!(serde_json::from_value::<ApiPolicies>(json!({"unknown": 1})).is_err());
}

#[test]
fn a_typical_policy_is_accepted_and_normalised() {
    let p = policies(json!({
        "request_headers": {"set": {"X-Env": "prod"}, "remove": ["cookie"], "rename": {"x-old": "x-new"}},
        "response_headers": {"add": {"X-Served-By": "edge"}},
        "path_rewrite": {"from": "/v1/*", "to": "/api/v1/*"},
        "query": {"set": {"source": "edge gw"}, "remove": ["debug"]},
        "identity": {"jwt": true},
        "cors": {"allowed_origins": ["https://app.example.com", "http://[::1]:3000"], "allowed_methods": ["get", "PUT"], "allow_credentials": true},
        "limits": {"max_body_bytes": 1024},
        "methods": ["post", "GET", "GET"],
        "ip": {"allow": ["203.0.113.0/24", "2001:db8::/32", "192.0.2.7"]},
        "websocket": true
    }));
    let n = p.normalized().unwrap();
    assert_eq!(n.methods, Some(vec!["GET".into(), "POST".into()]));
    assert_eq!(n.cors.as_ref().unwrap().allowed_methods, vec!["GET", "PUT"]);
    assert!(
        n.identity.unwrap().headers,
        "identity headers stay on unless turned off"
    );
    let back: ApiPolicies = serde_json::from_str(&serde_json::to_string(&n).unwrap()).unwrap();
    assert_eq!(back, n);
}

#[test]
fn header_edits_apply_in_order() {
    let edits: HeaderEdits = serde_json::from_value(json!({
        "set": {"X-Env": "prod"}, "add": {"Via-Edge": "1"}, "remove": ["Cookie"], "rename": {"x-old": "X-New"}
    }))
    .unwrap();
    let mut h = pairs(&[
        ("cookie", "a=b"),
        ("x-old", "1"),
        ("x-env", "client"),
        ("via-edge", "0"),
    ]);
    edits.apply(&mut h);
    assert_eq!(
        h,
        pairs(&[
            ("X-New", "1"),
            ("via-edge", "0"),
            ("X-Env", "prod"),
            ("Via-Edge", "1")
        ])
    );
}

#[test]
fn rewrites_match_on_segment_boundaries() {
    let r = PathRewrite {
        from: "/v1/*".into(),
        to: "/api/v1/*".into(),
    };
    assert_eq!(r.apply("/v1/users").unwrap(), "/api/v1/users");
    assert_eq!(r.apply("/v1").unwrap(), "/api/v1");
    assert_eq!(r.apply("/v10/x").unwrap(), "/v10/x");
    assert_eq!(r.apply("/other").unwrap(), "/other");
    let to_root = PathRewrite {
        from: "/legacy".into(),
        to: "/".into(),
    };
    assert_eq!(to_root.apply("/legacy/a").unwrap(), "/a");
    assert_eq!(to_root.apply("/legacy").unwrap(), "/");
    let from_root = PathRewrite {
        from: "/".into(),
        to: "/base".into(),
    };
    assert_eq!(from_root.apply("/x").unwrap(), "/base/x");
    assert_eq!(r.apply("/v1/%2e%2e/admin"), Err(UnsafePath::DotSegment));
    assert_eq!(r.apply("/v1/a%2Fb"), Err(UnsafePath::Character));
    assert_eq!(r.apply("/v1/a\\..\\b"), Err(UnsafePath::Character));
}

#[test]
fn query_edits_decode_names_and_encode_values() {
    let q: QueryEdits = serde_json::from_value(json!({
        "set": {"source": "edge gw&x=1"}, "remove": ["api_key"], "rename": {"q": "query"}
    }))
    .unwrap();
    assert_eq!(
        q.apply(Some("%61pi_key=secret&q=a%20b&keep=1&source=client"))
            .as_deref(),
        Some("query=a%20b&keep=1&source=edge%20gw%26x%3D1")
    );
    assert_eq!(q.apply(None).as_deref(), Some("source=edge%20gw%26x%3D1"));
    let only_remove = QueryEdits {
        remove: vec!["a".into()],
        ..QueryEdits::default()
    };
    assert_eq!(only_remove.apply(Some("a=1")), None);
    assert_eq!(
        only_remove.apply(Some("b&&a=2&c=")).as_deref(),
        Some("b&c=")
    );
}

#[test]
fn cors_preflights_are_answered_or_refused() {
    let c: CorsPolicy = serde_json::from_value(json!({
        "allowed_origins": ["https://app.example.com"], "allowed_methods": ["GET", "PUT"],
        "allowed_headers": ["X-Request-Id"], "expose_headers": ["x-trace"], "max_age_secs": 600, "allow_credentials": true
    }))
    .unwrap();
    let c = c.normalized();
    let ok = c
        .preflight(
            "https://app.example.com",
            "PUT",
            Some("content-type, X-Request-ID"),
        )
        .unwrap();
    assert!(ok.contains(&(
        "access-control-allow-origin",
        "https://app.example.com".into()
    )));
    assert!(ok.contains(&(
        "access-control-allow-headers",
        "content-type, x-request-id".into()
    )));
    assert!(ok.contains(&("access-control-max-age", "600".into())));
    assert!(ok.contains(&("access-control-allow-credentials", "true".into())));
    assert_eq!(
        c.preflight("https://evil.example", "GET", None),
        Err(CorsRefusal::Origin("https://evil.example".into()))
    );
    assert_eq!(
        c.preflight("https://app.example.com", "DELETE", None),
        Err(CorsRefusal::Method("DELETE".into()))
    );
    assert_eq!(
        c.preflight("https://app.example.com", "GET", Some("x-secret")),
        Err(CorsRefusal::Header("x-secret".into()))
    );
    let actual = c.response_headers("https://app.example.com");
    assert!(actual.contains(&("vary", "Origin".into())));
    assert!(actual.contains(&("access-control-expose-headers", "x-trace".into())));
    assert!(c.response_headers("https://evil.example").is_empty());
    let any: CorsPolicy = serde_json::from_value(json!({"allowed_origins": ["*"]})).unwrap();
    assert_eq!(any.response_headers("https://x.example")[0].1, "*");
    assert!(is_preflight("OPTIONS", Some("https://a"), Some("GET")));
    assert!(!is_preflight("OPTIONS", Some("https://a"), None));
}

#[test]
fn ip_rules_deny_first_then_allow_v4_and_v6() {
    let r = IpRules {
        allow: vec!["203.0.113.0/24".into(), "2001:db8::/32".into()],
        deny: vec!["203.0.113.66".into()],
    };
    assert!(r.check(Some("203.0.113.5")).is_ok());
    assert!(r.check(Some("2001:db8::1")).is_ok());
    assert_eq!(r.check(Some("203.0.113.66")).unwrap_err().status, 403);
    assert_eq!(r.check(Some("198.51.100.1")).unwrap_err().status, 403);
    assert_eq!(r.check(Some("2001:db9::1")).unwrap_err().status, 403);
    assert_eq!(
        r.check(None).unwrap_err().status,
        403,
        "unknown client address fails closed"
    );
    assert_eq!(r.check(Some("not an ip")).unwrap_err().status, 403);
    assert!(IpRules::default().check(None).is_ok());
    let deny_only = IpRules {
        allow: vec![],
        deny: vec!["10.0.0.0/8".into()],
    };
    assert!(deny_only.check(Some("11.0.0.1")).is_ok());
    assert!(deny_only.check(Some("10.9.9.9")).is_err());
}

#[test]
fn methods_sizes_and_client_headers() {
    let refused = check_method(&["GET".into(), "POST".into()], "DELETE").unwrap_err();
    let problem = refused.problem("DELETE");
    assert_eq!(
        (problem.status, refused.allow.as_str()),
        (405, "GET, POST, HEAD")
    );
    assert_eq!(problem.field.as_deref(), Some("method"));
    assert!(check_method(&["GET".into()], "HEAD").is_ok());
    let limits = SizeLimits {
        max_header_bytes: Some(300),
        max_body_bytes: Some(10),
    };
    assert_eq!(limits.check_headers(301).unwrap_err().status, 431);
    assert_eq!(limits.check_body(11).unwrap_err().status, 413);
    assert!(limits.check_body(10).is_ok());
    let bad = check_client_headers([("x-ok", "fine"), ("X-Evil", "a\u{1}b")]).unwrap_err();
    assert_eq!((bad.status, bad.field.as_deref()), (400, Some("x-evil")));
    assert!(check_client_headers([("x", "tab\tok caf\u{e9}")]).is_ok());
}

fn record() -> KeyRecord {
    KeyRecord {
        key_id: KeyId("key_1".into()),
        key_hash: KeyHash::parse(&"a".repeat(64)).unwrap(),
        consumer_id: ConsumerId("con_1".into()),
        api_id: ApiId("api_1".into()),
        plan_id: Some(PlanId("plan_1".into())),
        status: KeyStatus::Active,
        expires_at_ms: None,
        identity: None,
        scopes: vec!["pets:read".into(), "pets:write".into()],
        subscription_id: None,
        subscription_ends_at_ms: None,
    }
}

#[test]
fn identity_has_one_set_of_names() {
    let h = identity_headers(Some(&record()), Some("bulk"));
    assert!(h.contains(&("x-tollgate-consumer-id", "con_1".into())));
    assert!(h.contains(&("x-tollgate-plan-id", "plan_1".into())));
    assert!(h.contains(&("x-tollgate-scopes", "pets:read pets:write".into())));
    assert!(h.contains(&("x-tollgate-features", "bulk".into())));
    assert!(identity_headers(None, None).is_empty());
    let c = identity_claims(&record(), "api_1", 1_000);
    assert_eq!(
        (c.sub.as_str(), c.exp, c.scope.as_str()),
        ("con_1", 1_060, "pets:read pets:write")
    );
}

#[test]
fn signing_keys_are_read_from_a_jwk_or_a_base64_seed() {
    let seed = [7u8; 32];
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(seed);
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(seed);
    assert_eq!(parse_signing_seed(&b64), Ok(seed));
    assert_eq!(parse_signing_seed(&format!(" {b64url}\n")), Ok(seed));
    let jwk = format!(r#"{{"kty":"OKP","crv":"Ed25519","d":"{b64url}","x":"ignored"}}"#);
    assert_eq!(parse_signing_seed(&jwk), Ok(seed));
    assert!(parse_signing_seed(r#"{"kty":"EC","crv":"P-256","d":"AA"}"#).is_err());
    assert!(parse_signing_seed("c2hvcnQ=").is_err());
    assert!(parse_signing_seed("").is_err());
}
