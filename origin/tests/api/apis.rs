//! Creating and reading APIs, and how bad requests are answered.

use crate::helpers::{expect_problem, read, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn creates_reads_and_lists_an_api(app: TestApp) {
    let body = json!({"name": " Weather ", "base_path": "/weather/", "upstream_url": "http://127.0.0.1:9090/v1/"});
    let (status, api) = app.post("/admin/v1/apis", body).await;
    assert_eq!(status, StatusCode::CREATED, "{api}");
    let id = api["id"].as_str().unwrap();
    assert!(id.starts_with("api_"), "{id}");
    assert_eq!(api["name"], "Weather");
    assert_eq!(api["base_path"], "/weather");
    assert_eq!(api["upstream_url"], "http://127.0.0.1:9090/v1");
    assert_eq!(api["auth"], json!({"type": "key"}));
    assert!(api["created_at"].as_str().unwrap().ends_with('Z'));
    let (status, fetched) = app.get(&format!("/admin/v1/apis/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched, api);
    let (status, list) = app.get("/admin/v1/apis").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list, json!([api]));
}

async fn stores_none_and_jwt_auth(app: TestApp) {
    let (status, open) = app
        .post(
            "/admin/v1/apis",
            json!({"name": "Open", "base_path": "/open", "upstream_url": "https://example.com", "auth": {"type": "none"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{open}");
    assert_eq!(open["auth"], json!({"type": "none"}));
    let jwt = json!({"type": "jwt", "jwks_url": "https://idp.example.com/jwks.json", "issuer": "https://idp.example.com", "audience": "weather"});
    let (status, api) = app
        .post("/admin/v1/apis", json!({"name": "J", "base_path": "/j", "upstream_url": "https://example.com", "auth": jwt}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{api}");
    assert_eq!(api["auth"], jwt);
}

async fn a_duplicate_base_path_is_409(app: TestApp) {
    app.create_api("/weather").await;
    let response = app
        .admin(Method::POST, "/admin/v1/apis")
        .json(
            &json!({"name": "Again", "base_path": "/weather/", "upstream_url": "http://x.example"}),
        )
        .send()
        .await
        .unwrap();
    let problem = expect_problem(response, StatusCode::CONFLICT).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("/weather"),
        "{problem}"
    );
    let (_, list) = app.get("/admin/v1/apis").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
}

async fn bad_json_is_400(app: TestApp) {
    for body in ["{\"name\": ", "", "name=x"] {
        let response = app
            .admin(Method::POST, "/admin/v1/apis")
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        expect_problem(response, StatusCode::BAD_REQUEST).await;
    }
}

async fn post_problem(app: &TestApp, body: Value, status: StatusCode) -> Value {
    let response = app
        .admin(Method::POST, "/admin/v1/apis")
        .json(&body)
        .send()
        .await
        .unwrap();
    expect_problem(response, status).await
}

async fn missing_or_mistyped_members_are_422_naming_them(app: TestApp) {
    let problem = post_problem(
        &app,
        json!({"name": "W", "upstream_url": "http://x.example"}),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(problem["field"], "base_path");
    assert!(
        problem["detail"].as_str().unwrap().contains("base_path"),
        "{problem}"
    );
    let problem = post_problem(
        &app,
        json!({"name": "W", "base_path": "/w", "upstream_url": 5}),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(problem["field"], "upstream_url");
    let problem = post_problem(
        &app,
        json!({"name": "W", "base_path": "/w", "upstream_url": "http://x.example", "upstream": 1}),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(problem["field"], "upstream");
    let problem = post_problem(
        &app,
        json!({"name": "", "base_path": "/w", "upstream_url": "http://x.example"}),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(problem["field"], "name");
}

async fn invalid_values_are_422_naming_them(app: TestApp) {
    for base_path in ["weather", "/", "/a b", "/../x"] {
        let body = json!({"name": "W", "base_path": base_path, "upstream_url": "http://x.example"});
        let problem = post_problem(&app, body, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(problem["field"], "base_path", "{base_path}");
    }
    for url in [
        "/relative",
        "ftp://x.example",
        "http://x.example/?q=1",
        "not a url",
    ] {
        let body = json!({"name": "W", "base_path": "/w", "upstream_url": url});
        let problem = post_problem(&app, body, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(problem["field"], "upstream_url", "{url}");
    }
    let body = json!({"name": "W", "base_path": "/w", "upstream_url": "http://x.example", "auth": {"type": "magic"}});
    let problem = post_problem(&app, body, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(
        problem["field"].as_str().unwrap().starts_with("auth"),
        "{problem}"
    );
    let jwt = json!({"type": "jwt", "jwks_url": "nope", "issuer": "i", "audience": "a"});
    let body =
        json!({"name": "W", "base_path": "/w", "upstream_url": "http://x.example", "auth": jwt});
    let problem = post_problem(&app, body, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(problem["field"], "auth.jwks_url");
    let (_, list) = app.get("/admin/v1/apis").await;
    assert_eq!(list, json!([]), "nothing invalid was stored");
}

async fn an_unknown_api_id_is_404(app: TestApp) {
    let response = app
        .admin(Method::GET, "/admin/v1/apis/api_nope")
        .send()
        .await
        .unwrap();
    let problem = expect_problem(response, StatusCode::NOT_FOUND).await;
    assert!(problem["detail"].as_str().unwrap().contains("api_nope"));
}

async fn an_oversized_body_is_413(app: TestApp) {
    let name = "x".repeat(2 * 1024 * 1024);
    let body = json!({"name": name, "base_path": "/big", "upstream_url": "http://x.example"});
    let response = app
        .admin(Method::POST, "/admin/v1/apis")
        .json(&body)
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::PAYLOAD_TOO_LARGE).await;
}

async fn unknown_routes_and_methods_are_problems(app: TestApp) {
    let response = app
        .admin(Method::GET, "/admin/v1/nothing")
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::NOT_FOUND).await;
    let response = app.client.get(app.url("/")).send().await.unwrap();
    expect_problem(response, StatusCode::NOT_FOUND).await;
    let response = app
        .admin(Method::PUT, "/admin/v1/apis")
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::METHOD_NOT_ALLOWED).await;
    let (status, _) = read(app.admin(Method::PATCH, "/healthz").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

async fn auth_members_the_type_does_not_use_are_refused(app: TestApp) {
    for (auth, field) in [
        (json!({"type": "key", "jwks_url": 5}), "auth.jwks_url"),
        (json!({"type": "none", "issuer": "x"}), "auth.issuer"),
        (
            json!({"type": "jwt", "jwks_url": "https://idp.example/jwks", "issuer": "i", "audience": "a", "alg": "none"}),
            "auth.alg",
        ),
        (json!({"type": "basic"}), "auth.type"),
        (json!("key"), "auth"),
    ] {
        let body = json!({"name": "w", "base_path": "/w", "upstream_url": "http://127.0.0.1:1", "auth": auth});
        let response = app
            .admin(Method::POST, "/admin/v1/apis")
            .json(&body)
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(problem["field"], field, "{body}");
    }
    let (_, list) = app.get("/admin/v1/apis").await;
    assert_eq!(list, json!([]));
}

crate::both_databases!(
    auth_members_the_type_does_not_use_are_refused,
    creates_reads_and_lists_an_api,
    stores_none_and_jwt_auth,
    a_duplicate_base_path_is_409,
    bad_json_is_400,
    missing_or_mistyped_members_are_422_naming_them,
    invalid_values_are_422_naming_them,
    an_unknown_api_id_is_404,
    an_oversized_body_is_413,
    unknown_routes_and_methods_are_problems,
);
