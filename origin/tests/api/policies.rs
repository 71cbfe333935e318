//! API policies (`/admin/v1/apis/{id}/policies`): stored normalised, carried in the
//! snapshot on the API's route with a version bump, hostile configs refused with a 422
//! whose `field` is the JSON pointer of the culprit, removed with the API.

use crate::helpers::{expect_problem, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn path_of(api: &Value) -> String {
    format!("/admin/v1/apis/{}/policies", api["id"].as_str().unwrap())
}

async fn put(app: &TestApp, path: &str, body: &Value) -> reqwest::Response {
    app.admin(Method::PUT, path)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn policies_are_stored_normalised_and_reach_the_snapshot(app: TestApp) {
    let api = app.create_api("/pol").await;
    let path = path_of(&api);
    let (status, _) = app.get(&path).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no policies yet");
    let before = app.snapshot().await["version"].as_u64().unwrap();
    let body = json!({
        "request_headers": {"set": {"X-Env": "prod"}, "remove": ["cookie"]},
        "path_rewrite": {"from": "/v1/*", "to": "/api/v1/*"},
        "cors": {"allowed_origins": ["https://app.example.com"], "allowed_methods": ["get", "put"]},
        "methods": ["post", "get"],
        "ip": {"deny": ["10.0.0.0/8", "2001:db8::/32"]},
        "identity": {"jwt": true},
        "websocket": true
    });
    let response = put(&app, &path, &body).await;
    assert_eq!(response.status(), StatusCode::OK);
    let stored: Value = response.json().await.unwrap();
    assert_eq!(stored["methods"], json!(["GET", "POST"]));
    assert_eq!(stored["cors"]["allowed_methods"], json!(["GET", "PUT"]));
    assert_eq!(stored["identity"], json!({"headers": true, "jwt": true}));
    let (status, read) = app.get(&path).await;
    assert_eq!((status, &read), (StatusCode::OK, &stored));
    let snapshot = app.snapshot().await;
    assert!(
        snapshot["version"].as_u64().unwrap() > before,
        "the edge must see it"
    );
    let route = snapshot["apis"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == api["id"])
        .unwrap();
    assert_eq!(route["policies"], stored);

    let removed = app.admin(Method::DELETE, &path).send().await.unwrap();
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    let snapshot = app.snapshot().await;
    assert!(snapshot["apis"][0].get("policies").is_none());
    // An API with policies can still be deleted (its policies go with it).
    put(&app, &path, &json!({"websocket": true})).await;
    let gone = app
        .admin(
            Method::DELETE,
            &format!("/admin/v1/apis/{}", api["id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
}

async fn hostile_policies_are_422_pointing_at_the_member(app: TestApp) {
    let api = app.create_api("/hostile").await;
    let path = path_of(&api);
    for (body, field) in [
        (
            json!({"cors": {"allowed_origins": ["https://ok.example", "null"]}}),
            "/cors/allowed_origins/1",
        ),
        (
            json!({"cors": {"allowed_origins": ["*"], "allow_credentials": true}}),
            "/cors/allow_credentials",
        ),
        (
            json!({"request_headers": {"set": {"X-A": "1\r\nX-Injected: 2"}}}),
            "/request_headers/set/X-A",
        ),
        (
            json!({"request_headers": {"add": {"X-Tollgate-Consumer-Id": "spoof"}}}),
            "/request_headers/add/X-Tollgate-Consumer-Id",
        ),
        (
            json!({"response_headers": {"remove": ["Transfer-Encoding"]}}),
            "/response_headers/remove/0",
        ),
        (
            json!({"response_headers": {"set": {"Access-Control-Allow-Origin": "*"}}}),
            "/response_headers/set/Access-Control-Allow-Origin",
        ),
        (
            json!({"path_rewrite": {"from": "/v1/*", "to": "/../../etc/*"}}),
            "/path_rewrite/to",
        ),
        (
            json!({"path_rewrite": {"from": "/v1/*", "to": "/a/%2E%2e/*"}}),
            "/path_rewrite/to",
        ),
        (
            json!({"path_rewrite": {"from": "/v1", "to": "/x/*"}}),
            "/path_rewrite/to",
        ),
        (json!({"query": {"remove": ["a&b"]}}), "/query/remove/0"),
        (json!({"methods": ["GET", "GET\r\n"]}), "/methods/1"),
        (json!({"ip": {"allow": ["300.1.1.1/8"]}}), "/ip/allow/0"),
        (
            json!({"limits": {"max_body_bytes": 1_000_000_000_000u64}}),
            "/limits/max_body_bytes",
        ),
    ] {
        let problem = expect_problem(
            put(&app, &path, &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(problem["field"], field, "{body}");
        assert!(
            problem["detail"].as_str().unwrap().contains(field),
            "{problem}"
        );
    }
    // Shape errors name the member too; unknown members are refused, not ignored.
    let problem = expect_problem(
        put(&app, &path, &json!({"cors": {"allowed_origins": "x"}})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(problem["field"], "cors.allowed_origins");
    expect_problem(
        put(&app, &path, &json!({"websockets": true})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    // serde would read a struct from an array; the schema says object, so arrays are refused.
    for (body, field) in [
        (json!([null, null]), "body"),
        (json!({"cors": [["*"]]}), "/cors"),
        (json!({"ip": "10.0.0.0/8"}), "/ip"),
    ] {
        let problem = expect_problem(
            put(&app, &path, &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(problem["field"], field, "{body}");
    }
    let not_json = app
        .admin(Method::PUT, &path)
        .body("{nope")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    expect_problem(not_json, StatusCode::BAD_REQUEST).await;
    let missing = put(&app, "/admin/v1/apis/api_nope/policies", &json!({})).await;
    expect_problem(missing, StatusCode::NOT_FOUND).await;
    let (status, _) = app.get(&path).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing refused was stored");
}

crate::both_databases!(
    policies_are_stored_normalised_and_reach_the_snapshot,
    hostile_policies_are_422_pointing_at_the_member,
);
