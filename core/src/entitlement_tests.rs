//! Tests of entitlement decisions.

use super::*;
use proptest::prelude::*;

fn plan() -> PlanEntitlements {
    PlanEntitlements {
        plan_id: PlanId::from("plan_1"),
        name: "Free".into(),
        apis: None,
        versions: None,
        operations: None,
        features: Vec::new(),
    }
}

fn rule(method: &str, path: &str) -> OperationRule {
    OperationRule {
        method: method.into(),
        path: path.into(),
        api_id: None,
        major: None,
    }
}

fn call<'a>(api: &'a ApiId, major: Option<u64>, method: &'a str, path: &'a str) -> Call<'a> {
    Call {
        api_id: api,
        api_name: "pets",
        major,
        method,
        path,
    }
}

#[test]
fn operations_parse_as_routes_or_operation_ids() {
    assert_eq!(
        parse_operation("get /pets/{petId}"),
        Ok(OperationRef::Route {
            method: "GET".into(),
            path: "/pets/{petId}".into()
        })
    );
    assert_eq!(
        parse_operation("showPetById"),
        Ok(OperationRef::OperationId("showPetById".into()))
    );
    assert_eq!(
        parse_operation("FETCH /pets"),
        Err(OperationError::Method("FETCH".into()))
    );
    for bad in ["GET pets", "GET /pets/{id", "GET /a?b=1", "GET /a}{"] {
        assert_eq!(parse_operation(bad), Err(OperationError::Path), "{bad}");
    }
    for bad in ["", "a/b", "ü", &"x".repeat(129)] {
        assert_eq!(parse_operation(bad), Err(OperationError::Shape), "{bad}");
    }
}

#[test]
fn templates_match_whole_segments() {
    assert!(template_matches("/pets/{id}", "/pets/42"));
    assert!(template_matches("/pets/{id}", "/pets/42/"));
    assert!(template_matches("/pets", "/pets"));
    assert!(template_matches("/", "/"));
    assert!(!template_matches("/pets/{id}", "/pets"));
    assert!(!template_matches("/pets/{id}", "/pets//"));
    assert!(!template_matches("/pets/{id}", "/pets/42/toys"));
    assert!(!template_matches("/pets", "/petsx"));
}

#[test]
fn an_unrestricted_plan_allows_everything() {
    let api = ApiId::from("api_1");
    assert!(entitle(&plan(), &call(&api, Some(9), "DELETE", "/x")).is_ok());
    assert_eq!(features_header(&plan()), None);
}

#[test]
fn refusals_are_403_and_name_what_is_missing() {
    let api = ApiId::from("api_1");
    let mut p = plan();
    p.apis = Some(vec![ApiId::from("api_2")]);
    let e = entitle(&p, &call(&api, None, "GET", "/")).unwrap_err();
    assert_eq!((e.status, e.field.as_deref()), (403, Some("api")));
    assert!(e.detail.contains("`pets`"), "{}", e.detail);

    let mut p = plan();
    p.versions = Some(vec![1]);
    assert!(entitle(&p, &call(&api, Some(1), "GET", "/")).is_ok());
    assert!(
        entitle(&p, &call(&api, None, "GET", "/")).is_ok(),
        "unversioned API"
    );
    let e = entitle(&p, &call(&api, Some(2), "GET", "/")).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("version"));
    assert!(
        e.detail.contains("version v2") && e.detail.contains("includes v1"),
        "{}",
        e.detail
    );

    let mut p = plan();
    p.operations = Some(vec![rule("GET", "/pets/{id}")]);
    assert!(entitle(&p, &call(&api, None, "GET", "/pets/1")).is_ok());
    assert!(
        entitle(&p, &call(&api, None, "head", "/pets/1")).is_ok(),
        "HEAD rides on GET"
    );
    let e = entitle(&p, &call(&api, None, "DELETE", "/pets/1")).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("operation"));
    assert!(
        e.detail.contains("`DELETE /pets/1`") && e.detail.contains("GET /pets/{id}"),
        "{}",
        e.detail
    );
}

#[test]
fn resolved_operation_ids_apply_to_their_api_and_major_only() {
    let (a, b) = (ApiId::from("api_a"), ApiId::from("api_b"));
    let mut p = plan();
    let mut r = rule("GET", "/pets");
    r.api_id = Some(a.clone());
    r.major = Some(1);
    p.operations = Some(vec![r]);
    assert!(entitle(&p, &call(&a, Some(1), "GET", "/pets")).is_ok());
    assert!(entitle(&p, &call(&a, Some(2), "GET", "/pets")).is_err());
    let e = entitle(&p, &call(&b, Some(1), "GET", "/pets")).unwrap_err();
    assert!(e.detail.ends_with("includes none"), "{}", e.detail);
}

#[test]
fn features_travel_as_one_header() {
    let mut p = plan();
    p.features = vec!["bulk-export".into(), "webhooks".into()];
    assert_eq!(features_header(&p).as_deref(), Some("bulk-export,webhooks"));
}

proptest! {
    #[test]
    fn a_literal_template_matches_exactly_itself(
        segs in proptest::collection::vec("[a-z0-9]{1,6}", 0..5),
        other in proptest::collection::vec("[a-z0-9]{1,6}", 0..5),
    ) {
        let path = format!("/{}", segs.join("/"));
        let other_path = format!("/{}", other.join("/"));
        prop_assert!(template_matches(&path, &path));
        prop_assert_eq!(template_matches(&path, &other_path), segs == other);
    }

    #[test]
    fn a_parameter_takes_any_one_segment(seg in "[^/]{1,12}", tail in "[a-z]{1,4}") {
        let one = format!("/pets/{seg}");
        let two = format!("/pets/{seg}/{tail}");
        let template = "/pets/{id}";
        prop_assert!(template_matches(template, &one));
        prop_assert!(!template_matches(template, &two));
    }

    #[test]
    fn a_call_is_allowed_iff_every_restriction_allows_it(
        restrict_api in any::<bool>(),
        restrict_version in any::<bool>(),
        restrict_op in any::<bool>(),
        api_listed in any::<bool>(),
        major in 0u64..4,
        method in prop::sample::select(vec!["GET", "POST", "DELETE"]),
        id in "[a-z0-9]{1,8}",
    ) {
        let api = ApiId::from("api_1");
        let mut p = plan();
        if restrict_api {
            p.apis = Some(vec![if api_listed { api.clone() } else { ApiId::from("api_x") }]);
        }
        if restrict_version {
            p.versions = Some(vec![1, 2]);
        }
        if restrict_op {
            p.operations = Some(vec![rule("GET", "/pets/{id}")]);
        }
        let path = format!("/pets/{id}");
        let expected = (!restrict_api || api_listed)
            && (!restrict_version || (1..=2).contains(&major))
            && (!restrict_op || method == "GET");
        let decided = entitle(&p, &call(&api, Some(major), method, &path));
        prop_assert_eq!(decided.is_ok(), expected);
        if let Err(problem) = decided {
            prop_assert_eq!(problem.status, 403);
            prop_assert!(problem.type_uri.ends_with("not-entitled"));
        }
    }
}
