//! Replacing and removing APIs and plans (`PUT`/`DELETE …/apis/{id}`, `…/plans/{id}`),
//! and reading back upstream-auth and load-shedding settings: validated as creation is,
//! audited with before and after, seen by the edge, refused while something uses them.

use crate::helpers::{expect_problem, read, TestApp};
use crate::versions::{testdata, upload};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = app.admin(method, path);
    if let Some(body) = body {
        request = request.json(&body);
    }
    read(request.send().await.unwrap()).await
}

async fn last_audit(app: &TestApp) -> Value {
    let (_, page) = app.get("/admin/v1/audit?limit=1000").await;
    page["entries"].as_array().unwrap().last().unwrap().clone()
}

async fn replacing_an_api_checks_like_creating_and_reaches_the_edge(app: TestApp) {
    let api = app.create_api("/weather").await;
    app.create_api("/taken").await;
    let id = api["id"].as_str().unwrap();
    let path = format!("/admin/v1/apis/{id}");
    let version = app.snapshot().await["version"].as_u64().unwrap();
    let body = json!({"name": "Weather 2", "base_path": "/weather2/", "upstream_url": "https://up.example/v2",
        "auth": {"type": "jwt", "jwks_url": "https://idp.example/jwks", "issuer": "idp", "audience": "me"}});
    let (status, replaced) = send(&app, Method::PUT, &path, Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_eq!(replaced["base_path"], "/weather2");
    assert_eq!(replaced["created_at"], api["created_at"]);
    assert_eq!(replaced["auth"]["type"], "jwt");
    let (_, read_back) = app.get(&path).await;
    assert_eq!(read_back, replaced);
    let snapshot = app.snapshot().await;
    assert!(snapshot["version"].as_u64().unwrap() > version);
    let routed: Vec<&Value> = snapshot["apis"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["base_path"])
        .collect();
    assert_eq!(routed, [&json!("/taken"), &json!("/weather2")]);
    let entry = last_audit(&app).await;
    assert_eq!(entry["action"], "api.update");
    assert_eq!(entry["before"]["base_path"], "/weather");
    assert_eq!(entry["after"]["base_path"], "/weather2");

    // Hostile and wrong bodies: the same answers creation gives.
    let cases = [
        (
            json!({"name": "x", "base_path": "/taken", "upstream_url": "http://a"}),
            StatusCode::CONFLICT,
        ),
        (
            json!({"name": "x", "base_path": "no-slash", "upstream_url": "http://a"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"name": "x", "base_path": "/a", "upstream_url": "ftp://a"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"name": "  ", "base_path": "/a", "upstream_url": "http://a"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"name": "x", "base_path": "/a", "upstream_url": "http://a", "extra": 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"name": "x", "base_path": "/a", "upstream_url": "http://a", "auth": {"type": "key", "issuer": "x"}}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"name": "x", "base_path": "/a'; DROP TABLE apis; --", "upstream_url": "http://a"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ];
    for (body, expected) in cases {
        let response = app
            .admin(Method::PUT, &path)
            .json(&body)
            .send()
            .await
            .unwrap();
        expect_problem(response, expected).await;
    }
    let response = app
        .admin(Method::PUT, &path)
        .body("{")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::BAD_REQUEST).await;
    let response = app
        .admin(Method::PUT, "/admin/v1/apis/api_nope")
        .json(&json!({"name": "x", "base_path": "/x", "upstream_url": "http://a"}))
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::NOT_FOUND).await;
    let (_, unchanged) = app.get(&path).await;
    assert_eq!(unchanged, replaced, "a refused replacement changed the API");
}

async fn removing_an_api_refuses_while_keys_or_versions_use_it_unless_cascading(app: TestApp) {
    let key = app.issue_key().await;
    let (_, apis) = app.get("/admin/v1/apis").await;
    let id = apis[0]["id"].as_str().unwrap().to_owned();
    let response = upload(
        &app,
        &id,
        "",
        "application/yaml",
        testdata("openapi/v3.0/petstore.yaml"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let (status, _) = send(
        &app,
        Method::PUT,
        &format!("/admin/v1/apis/{id}/shedding"),
        Some(json!({"max_error_percent": 50})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let path = format!("/admin/v1/apis/{id}");
    let response = app.admin(Method::DELETE, &path).send().await.unwrap();
    let problem = expect_problem(response, StatusCode::CONFLICT).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("1 key(s)"),
        "{problem}"
    );
    let response = app
        .admin(Method::DELETE, &format!("{path}?cascade=maybe"))
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(app.get(&path).await.0, StatusCode::OK);

    let (status, _) = send(&app, Method::DELETE, &format!("{path}?cascade=true"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&path).await.0, StatusCode::NOT_FOUND);
    let key_path = format!("/admin/v1/keys/{}", key["id"].as_str().unwrap());
    assert_eq!(app.get(&key_path).await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.snapshot().await["apis"], json!([]));
    let entry = last_audit(&app).await;
    assert_eq!(entry["action"], "api.delete");
    assert_eq!(entry["before"]["removed_keys"], 1);
    // The base path is free again, and an unused API goes without cascade.
    let again = app.create_api("/weather").await;
    let (status, _) = send(
        &app,
        Method::DELETE,
        &format!("/admin/v1/apis/{}", again["id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let response = app.admin(Method::DELETE, &path).send().await.unwrap();
    expect_problem(response, StatusCode::NOT_FOUND).await;
}

async fn plans_are_replaced_with_the_creation_checks_and_removed_when_unused(app: TestApp) {
    let (_, plan) = app
        .post(
            "/admin/v1/plans",
            json!({"name": "Free", "rate_limit": {"requests": 10, "per_seconds": 1}}),
        )
        .await;
    let path = format!("/admin/v1/plans/{}", plan["id"].as_str().unwrap());
    let body = json!({"name": "Free+", "quota": {"requests": 1000, "period": "month"}});
    let (status, replaced) = send(&app, Method::PUT, &path, Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_eq!(replaced["rate_limit"], Value::Null);
    assert_eq!(replaced["quota"]["requests"], 1000);
    assert_eq!(app.get(&path).await.1, replaced);
    assert_eq!(last_audit(&app).await["action"], "plan.update");
    for (body, field) in [
        (
            json!({"name": "x", "rate_limit": {"requests": 0, "per_seconds": 1}}),
            "rate_limit.requests",
        ),
        (
            json!({"name": "x", "quota": {"requests": 0, "period": "day"}}),
            "quota.requests",
        ),
        (
            json!({"name": "x", "quota": {"requests": 1, "period": "fortnight"}}),
            "quota.period",
        ),
        (json!({"name": "", "rate_limit": null}), "name"),
        (json!({"name": "x", "price": 5}), "price"),
    ] {
        let response = app
            .admin(Method::PUT, &path)
            .json(&body)
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(problem["field"], field, "{problem}");
    }
    let api = app.create_api("/weather").await;
    let consumer = app.create_consumer().await;
    let (status, _) = app
        .post(
            "/admin/v1/keys",
            json!({"consumer_id": consumer["id"], "api_id": api["id"], "plan_id": plan["id"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let response = app.admin(Method::DELETE, &path).send().await.unwrap();
    expect_problem(response, StatusCode::CONFLICT).await;
    let (_, unused) = app.post("/admin/v1/plans", json!({"name": "Unused"})).await;
    let unused_path = format!("/admin/v1/plans/{}", unused["id"].as_str().unwrap());
    assert_eq!(
        send(&app, Method::DELETE, &unused_path, None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.get(&unused_path).await.0, StatusCode::NOT_FOUND);
    assert_eq!(last_audit(&app).await["action"], "plan.delete");
}

async fn settings_read_back_without_revealing_the_secret(app: TestApp) {
    let api = app.create_api("/weather").await;
    let base = format!("/admin/v1/apis/{}", api["id"].as_str().unwrap());
    let (_, status) = app.get(&format!("{base}/upstream-auth")).await;
    assert_eq!(status, json!({"header": null, "value_set": false}));
    let response = app
        .admin(Method::GET, &format!("{base}/shedding"))
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::NOT_FOUND).await;
    let secret = json!({"header": "X-Api-Key", "value": "s3cret"});
    assert_eq!(
        send(
            &app,
            Method::PUT,
            &format!("{base}/upstream-auth"),
            Some(secret.clone())
        )
        .await
        .0,
        StatusCode::OK
    );
    let (_, status) = app.get(&format!("{base}/upstream-auth")).await;
    assert_eq!(status, json!({"header": "X-Api-Key", "value_set": true}));
    let check = format!("{base}/upstream-auth/check");
    assert_eq!(app.post(&check, secret).await.1, json!({"matches": true}));
    let wrong = json!({"header": "X-Api-Key", "value": "s3cret2"});
    assert_eq!(app.post(&check, wrong).await.1, json!({"matches": false}));
    let never = json!({"header": "X-Api-Key", "value": ""});
    let response = app
        .admin(Method::POST, &check)
        .json(&never)
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    send(
        &app,
        Method::PUT,
        &format!("{base}/shedding"),
        Some(json!({"max_error_percent": 40, "window_secs": 30})),
    )
    .await;
    let (_, rule) = app.get(&format!("{base}/shedding")).await;
    assert_eq!(
        rule,
        json!({"max_error_percent": 40, "max_latency_ms": null, "min_requests": 20, "window_secs": 30, "cooldown_secs": 5})
    );
}

async fn another_organisations_api_and_plan_cannot_be_replaced_or_removed(app: TestApp) {
    let (_, org) = app.post("/admin/v1/orgs", json!({"name": "B"})).await;
    let (_, user) = app
        .post(
            "/admin/v1/users",
            json!({"email": "b@b.example", "name": "b"}),
        )
        .await;
    let org_id = org["id"].as_str().unwrap();
    app.post(
        &format!("/admin/v1/orgs/{org_id}/members"),
        json!({"user_id": user["id"], "role": "owner"}),
    )
    .await;
    let (_, token) = app
        .post(
            &format!("/admin/v1/users/{}/tokens", user["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    let token = token["token"].as_str().unwrap();
    // Made by the platform operator, outside B.
    let api = app.create_api("/weather").await;
    let (_, plan) = app.post("/admin/v1/plans", json!({"name": "Free"})).await;
    let body = json!({"name": "mine", "base_path": "/mine", "upstream_url": "http://a"});
    for (method, path, body) in [
        (
            Method::PUT,
            format!("/admin/v1/apis/{}", api["id"].as_str().unwrap()),
            Some(body),
        ),
        (
            Method::DELETE,
            format!(
                "/admin/v1/apis/{}?cascade=true",
                api["id"].as_str().unwrap()
            ),
            None,
        ),
        (
            Method::PUT,
            format!("/admin/v1/plans/{}", plan["id"].as_str().unwrap()),
            Some(json!({"name": "mine"})),
        ),
        (
            Method::DELETE,
            format!("/admin/v1/plans/{}", plan["id"].as_str().unwrap()),
            None,
        ),
    ] {
        let mut request = app
            .client
            .request(method, app.url(&path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        expect_problem(request.send().await.unwrap(), StatusCode::NOT_FOUND).await;
    }
    assert_eq!(
        app.get(&format!("/admin/v1/apis/{}", api["id"].as_str().unwrap()))
            .await
            .1,
        api
    );
    assert_eq!(
        app.get(&format!("/admin/v1/plans/{}", plan["id"].as_str().unwrap()))
            .await
            .1["name"],
        "Free"
    );
}

crate::both_databases!(
    replacing_an_api_checks_like_creating_and_reaches_the_edge,
    removing_an_api_refuses_while_keys_or_versions_use_it_unless_cascading,
    plans_are_replaced_with_the_creation_checks_and_removed_when_unused,
    settings_read_back_without_revealing_the_secret,
    another_organisations_api_and_plan_cannot_be_replaced_or_removed,
);
