//! Organisations and roles: each role can do exactly what the matrix says, and one
//! organisation can neither read nor change anything of another's, on every admin route
//! (enumerated from /openapi.json, so a new route is covered without touching this file).

use crate::helpers::TestApp;
use crate::versions::{testdata, upload};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::HashMap;

/// A user of one organisation, with a token.
pub(crate) struct Member {
    token: String,
    org: String,
}

impl Member {
    pub(crate) async fn call(
        &self,
        app: &TestApp,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = app
            .client
            .request(method, app.url(path))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        crate::helpers::read(request.send().await.unwrap()).await
    }

    pub(crate) async fn post(&self, app: &TestApp, path: &str, body: Value) -> Value {
        let (status, value) = self.call(app, Method::POST, path, Some(body)).await;
        assert!(status.is_success(), "{path}: {status} {value}");
        value
    }
}

pub(crate) async fn member(app: &TestApp, org: &str, email: &str, role: &str) -> Member {
    let (status, user) = app
        .post("/admin/v1/users", json!({"email": email, "name": email}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    let (status, _) = app
        .post(
            &format!("/admin/v1/orgs/{org}/members"),
            json!({"user_id": user["id"], "role": role}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, token) = app
        .post(
            &format!("/admin/v1/users/{}/tokens", user["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{token}");
    assert!(token["token"].as_str().unwrap().starts_with("tgu_"));
    Member {
        token: token["token"].as_str().unwrap().to_owned(),
        org: org.to_owned(),
    }
}

pub(crate) async fn org(app: &TestApp, name: &str) -> String {
    let (status, org) = app.post("/admin/v1/orgs", json!({"name": name})).await;
    assert_eq!(status, StatusCode::CREATED, "{org}");
    org["id"].as_str().unwrap().to_owned()
}

/// Everything an organisation can own, made by its owner; returns ids by path parameter.
async fn populate(app: &TestApp, owner: &Member, base: &str) -> HashMap<&'static str, String> {
    let api = owner.post(app, "/admin/v1/apis", json!({"name": base, "base_path": format!("/{base}"), "upstream_url": "http://127.0.0.1:9"})).await;
    let api_id = api["id"].as_str().unwrap().to_owned();
    let consumer = owner
        .post(
            app,
            "/admin/v1/consumers",
            json!({"name": base, "email": format!("{base}@example.com")}),
        )
        .await;
    let plan = owner
        .post(app, "/admin/v1/plans", json!({"name": base}))
        .await;
    let subscription = owner
        .post(
            app,
            "/admin/v1/subscriptions",
            json!({"consumer_id": consumer["id"], "api_id": api_id, "plan_id": plan["id"]}),
        )
        .await;
    let key = owner
        .post(
            app,
            "/admin/v1/keys",
            json!({"subscription_id": subscription["id"]}),
        )
        .await;
    let webhook = owner
        .post(
            app,
            "/admin/v1/webhooks",
            json!({"url": "http://127.0.0.1:9/hook", "events": ["*"]}),
        )
        .await;
    let invoice = owner
        .post(
            app,
            "/admin/v1/invoices/generate",
            json!({"consumer_id": consumer["id"]}),
        )
        .await;
    let spec = testdata("openapi/v3.0/petstore.yaml");
    let response = app
        .client
        .post(app.url(&format!("/admin/v1/apis/{api_id}/versions")))
        .bearer_auth(&owner.token)
        .header("content-type", "application/yaml")
        .body(spec)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let _ = upload; // the same upload path the version tests use
    HashMap::from([
        ("apis", api_id),
        ("consumers", consumer["id"].as_str().unwrap().to_owned()),
        ("plans", plan["id"].as_str().unwrap().to_owned()),
        ("keys", key["id"].as_str().unwrap().to_owned()),
        (
            "subscriptions",
            subscription["id"].as_str().unwrap().to_owned(),
        ),
        ("orgs", owner.org.clone()),
        ("teams", owner.org.clone()),
        ("webhooks", webhook["id"].as_str().unwrap().to_owned()),
        ("invoices", invoice["id"].as_str().unwrap().to_owned()),
        ("users", "usr_unknown".to_owned()),
        ("versions", "1.0.0".to_owned()),
        ("key", key["key"].as_str().unwrap().to_owned()),
    ])
}

/// Fills a route template with the other organisation's ids.
fn fill(template: &str, ids: &HashMap<&'static str, String>) -> String {
    let parts: Vec<&str> = template.split('/').collect();
    parts
        .iter()
        .enumerate()
        .map(|(i, seg)| {
            if seg.starts_with('{') {
                ids.get(parts[i - 1]).cloned().unwrap_or_else(|| "x".into())
            } else {
                seg.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn visible_ids(app: &TestApp, who: &Member) -> String {
    let mut seen = String::new();
    for list in [
        "/admin/v1/apis",
        "/admin/v1/consumers",
        "/admin/v1/plans",
        "/admin/v1/keys",
        "/admin/v1/subscriptions",
        "/admin/v1/audit?limit=1000",
        "/admin/v1/orgs",
    ] {
        let (status, body) = who.call(app, Method::GET, list, None).await;
        assert_eq!(status, StatusCode::OK, "{list}: {body}");
        seen.push_str(&body.to_string());
    }
    seen
}

async fn no_route_reaches_another_organisations_data(app: TestApp) {
    let (a, b) = (org(&app, "A").await, org(&app, "B").await);
    let alice = member(&app, &a, "alice@a.example", "owner").await;
    let bob = member(&app, &b, "bob@b.example", "owner").await;
    populate(&app, &alice, "alpha").await;
    let theirs = populate(&app, &bob, "beta").await;
    let before = visible_ids(&app, &bob).await;

    let (_, doc) = app.get("/openapi.json").await;
    let mut tried = 0;
    for (template, ops) in doc["paths"].as_object().unwrap() {
        if !template.starts_with("/admin/") || !template.contains('{') {
            continue;
        }
        for method in ops.as_object().unwrap().keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let path = fill(template, &theirs);
            let (status, body) = alice
                .call(&app, method.clone(), &path, Some(json!({})))
                .await;
            tried += 1;
            assert!(
                status == StatusCode::NOT_FOUND || status == StatusCode::FORBIDDEN,
                "{method} {path} with another organisation's ids answered {status}: {body}"
            );
            // The 404 may echo the id the caller sent, but nothing of B's own data.
            assert!(
                !body.to_string().contains("beta"),
                "{method} {path} leaked B's data: {body}"
            );
        }
    }
    assert!(tried >= 20, "only {tried} routes with ids were tried");

    // Lists and body references: nothing of B's is visible or usable from A.
    let seen_by_alice = visible_ids(&app, &alice).await;
    for id in ["apis", "consumers", "plans", "keys", "subscriptions"] {
        assert!(!seen_by_alice.contains(&theirs[id]), "A sees B's {id}");
    }
    let (status, problem) = alice
        .call(
            &app,
            Method::POST,
            "/admin/v1/keys",
            Some(json!({"consumer_id": theirs["consumers"], "api_id": theirs["apis"]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let (status, _) = alice
        .call(
            &app,
            Method::POST,
            "/admin/v1/keys/revoke-by-value",
            Some(json!({"key": theirs["key"]})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = alice
        .call(
            &app,
            Method::GET,
            &format!("/admin/v1/usage?consumer_id={}", theirs["consumers"]),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(visible_ids(&app, &bob).await, before, "B's data changed");

    // The platform operator sees both.
    let (_, all) = app.get("/admin/v1/apis").await;
    assert_eq!(all.as_array().unwrap().len(), 2);
}

async fn roles_do_what_the_matrix_says(app: TestApp) {
    let a = org(&app, "A").await;
    let owner = member(&app, &a, "o@a.example", "owner").await;
    let ids = populate(&app, &owner, "alpha").await;
    let viewer = member(&app, &a, "v@a.example", "viewer").await;
    let developer = member(&app, &a, "d@a.example", "developer").await;
    let billing = member(&app, &a, "b@a.example", "billing").await;
    let admin = member(&app, &a, "a@a.example", "admin").await;
    let new_key = json!({"consumer_id": ids["consumers"], "api_id": ids["apis"]});
    let cases: Vec<(&Member, Method, &str, Option<Value>, StatusCode)> = vec![
        (&viewer, Method::GET, "/admin/v1/apis", None, StatusCode::OK),
        (
            &viewer,
            Method::POST,
            "/admin/v1/consumers",
            Some(json!({"name": "x", "email": "x@a.example"})),
            StatusCode::FORBIDDEN,
        ),
        (
            &viewer,
            Method::GET,
            "/admin/v1/audit",
            None,
            StatusCode::FORBIDDEN,
        ),
        (
            &developer,
            Method::POST,
            "/admin/v1/keys",
            Some(new_key.clone()),
            StatusCode::CREATED,
        ),
        (
            &developer,
            Method::POST,
            "/admin/v1/plans",
            Some(json!({"name": "p"})),
            StatusCode::FORBIDDEN,
        ),
        (
            &developer,
            Method::GET,
            "/admin/v1/audit",
            None,
            StatusCode::FORBIDDEN,
        ),
        (
            &billing,
            Method::POST,
            "/admin/v1/plans",
            Some(json!({"name": "p"})),
            StatusCode::CREATED,
        ),
        (
            &billing,
            Method::POST,
            "/admin/v1/keys",
            Some(new_key.clone()),
            StatusCode::FORBIDDEN,
        ),
        (&admin, Method::GET, "/admin/v1/audit", None, StatusCode::OK),
        (
            &owner,
            Method::POST,
            "/admin/v1/orgs",
            Some(json!({"name": "mine"})),
            StatusCode::FORBIDDEN,
        ),
        (
            &owner,
            Method::POST,
            "/admin/v1/users",
            Some(json!({"email": "n@a.example", "name": "n"})),
            StatusCode::FORBIDDEN,
        ),
    ];
    for (who, method, path, body, expected) in cases {
        let (status, answer) = who.call(&app, method.clone(), path, body).await;
        assert_eq!(status, expected, "{method} {path}: {answer}");
        if status == StatusCode::FORBIDDEN {
            assert_eq!(answer["status"], 403);
            assert!(
                answer["detail"].as_str().unwrap().contains("role"),
                "{answer}"
            );
        }
    }
    // Only owners make owners.
    let (status, user) = app
        .post(
            "/admin/v1/users",
            json!({"email": "c@a.example", "name": "c"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let grant = |role: &str| json!({"user_id": user["id"], "role": role});
    let members = format!("/admin/v1/orgs/{a}/members");
    assert_eq!(
        admin
            .call(&app, Method::POST, &members, Some(grant("owner")))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        admin
            .call(&app, Method::POST, &members, Some(grant("developer")))
            .await
            .0,
        StatusCode::CREATED
    );
    assert_eq!(
        owner
            .call(&app, Method::POST, &members, Some(grant("owner")))
            .await
            .0,
        StatusCode::CREATED
    );
    assert_eq!(
        developer
            .call(&app, Method::POST, &members, Some(grant("viewer")))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
}

async fn tokens_and_organisation_choice(app: TestApp) {
    let (a, b) = (org(&app, "A").await, org(&app, "B").await);
    let both = member(&app, &a, "m@x.example", "viewer").await;
    let users: Value = app.get("/admin/v1/orgs").await.1;
    assert_eq!(users.as_array().unwrap().len(), 2);
    let (_, members) = app.get(&format!("/admin/v1/orgs/{a}/members")).await;
    let user_id = members[0]["user_id"].clone();
    let (status, _) = app
        .post(
            &format!("/admin/v1/orgs/{b}/members"),
            json!({"user_id": user_id, "role": "viewer"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, problem) = both.call(&app, Method::GET, "/admin/v1/apis", None).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "must name an organisation: {problem}"
    );
    assert_eq!(problem["field"], "x-tollgate-org");
    let chosen = app
        .client
        .get(app.url("/admin/v1/apis"))
        .bearer_auth(&both.token)
        .header("x-tollgate-org", &b)
        .send()
        .await
        .unwrap();
    assert_eq!(chosen.status(), StatusCode::OK);
    let stranger = app
        .client
        .get(app.url("/admin/v1/apis"))
        .bearer_auth(&both.token)
        .header("x-tollgate-org", "org_nope")
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.status(), StatusCode::NOT_FOUND);
    let forged = app
        .client
        .get(app.url("/admin/v1/apis"))
        .bearer_auth("tgu_0000")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    let (status, _) = app
        .post(
            "/admin/v1/users",
            json!({"email": "M@X.example", "name": "dup"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "emails are unique regardless of case"
    );
}

/// One generated request: a route, a method, where each path id comes from, and a body.
#[derive(Debug, Clone)]
struct Probe {
    route: usize,
    method: usize,
    /// Per path parameter: 0 = B's id of that collection, 1 = B's id of another
    /// collection, 2 = random text.
    id_sources: Vec<u8>,
    noise: String,
    /// 0 = `{}`, 1 = a body naming B's ids, 2 = not JSON.
    body: u8,
}

fn probes() -> impl proptest::strategy::Strategy<Value = Probe> {
    use proptest::prelude::*;
    (
        any::<usize>(),
        any::<usize>(),
        proptest::collection::vec(0u8..3, 3),
        "[a-z0-9_]{1,12}",
        0u8..3,
    )
        .prop_map(|(route, method, id_sources, noise, body)| Probe {
            route,
            method,
            id_sources,
            noise,
            body,
        })
}

async fn random_requests_from_one_tenant_never_touch_another(app: TestApp) {
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let (a, b) = (org(&app, "A").await, org(&app, "B").await);
    let alice = member(&app, &a, "alice@a.example", "owner").await;
    let bob = member(&app, &b, "bob@b.example", "owner").await;
    populate(&app, &alice, "alpha").await;
    let theirs = populate(&app, &bob, "beta").await;
    let before = visible_ids(&app, &bob).await;
    let (_, doc) = app.get("/openapi.json").await;
    let routes: Vec<(String, Vec<String>)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(t, _)| t.starts_with("/admin/"))
        .map(|(t, ops)| {
            (
                t.clone(),
                ops.as_object().unwrap().keys().cloned().collect(),
            )
        })
        .collect();
    let collections = [
        "apis",
        "consumers",
        "plans",
        "keys",
        "subscriptions",
        "orgs",
    ];
    // A fixed seed keeps the run deterministic; every case is a fresh draw.
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let strategy = probes();
    for case in 0..300 {
        let probe = strategy.new_tree(&mut runner).unwrap().current();
        let (template, methods) = &routes[probe.route % routes.len()];
        let method = Method::from_bytes(
            methods[probe.method % methods.len()]
                .to_uppercase()
                .as_bytes(),
        )
        .unwrap();
        let parts: Vec<&str> = template.split('/').collect();
        let mut param = 0;
        let path = parts
            .iter()
            .enumerate()
            .map(|(i, seg)| {
                if !seg.starts_with('{') {
                    return seg.to_string();
                }
                param += 1;
                match probe.id_sources[(param - 1) % 3] {
                    0 => theirs
                        .get(parts[i - 1])
                        .cloned()
                        .unwrap_or_else(|| probe.noise.clone()),
                    1 => theirs[collections[(param + case) % collections.len()]].clone(),
                    _ => probe.noise.clone(),
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let mut request = app
            .client
            .request(method.clone(), app.url(&path))
            .bearer_auth(&alice.token);
        request = match probe.body {
            0 => request.json(&json!({})),
            1 => request.json(&json!({
                "consumer_id": theirs["consumers"], "api_id": theirs["apis"], "plan_id": theirs["plans"],
                "subscription_id": theirs["subscriptions"], "key": theirs["key"], "user_id": "usr_unknown",
                "name": "probe", "email": "probe@a.example", "role": "viewer",
            })),
            _ => request.header("content-type", "application/json").body("{not json"),
        };
        let (status, body) = crate::helpers::read(request.send().await.unwrap()).await;
        assert!(
            !status.is_server_error(),
            "case {case}: {method} {path} → {status}: {body}"
        );
        assert!(
            !body.to_string().contains("beta"),
            "case {case}: {method} {path} leaked B's data: {body}"
        );
    }
    assert_eq!(
        visible_ids(&app, &bob).await,
        before,
        "B's data changed under A's requests"
    );
}

crate::both_databases!(
    random_requests_from_one_tenant_never_touch_another,
    no_route_reaches_another_organisations_data,
    roles_do_what_the_matrix_says,
    tokens_and_organisation_choice,
);
