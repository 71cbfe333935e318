//! Request validation settings: set, read and removed per API; hostile settings refused;
//! documents that cannot be compiled refused with their location; the snapshot carries
//! each live version's compiled document.

use crate::helpers::{expect_problem, read, TestApp};
use crate::versions::{api_id, testdata, upload};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn path(api: &str) -> String {
    format!("/admin/v1/apis/{api}/validation")
}

async fn put(app: &TestApp, api: &str, body: Value) -> (StatusCode, Value) {
    read(
        app.admin(Method::PUT, &path(api))
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn publish_petstore(app: &TestApp, api: &str) {
    let response = upload(
        app,
        api,
        "",
        "application/yaml",
        testdata("openapi/v3.0/petstore.yaml"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let (status, v) = app
        .post(
            &format!("/admin/v1/apis/{api}/versions/1.0.0/publish"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
}

async fn settings_are_set_read_and_removed(app: TestApp) {
    let api = api_id(&app, "/pets").await;
    let (status, _) = app.get(&path(&api)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "none set yet");
    publish_petstore(&app, &api).await;
    let before = app.snapshot().await["version"].as_u64().unwrap();
    let (status, set) = put(&app, &api, json!({"requests": "enforce"})).await;
    assert_eq!(status, StatusCode::OK, "{set}");
    assert_eq!(
        set,
        json!({"requests": "enforce", "responses": "off", "max_body_bytes": 1048576})
    );
    assert_eq!(app.get(&path(&api)).await, (StatusCode::OK, set));
    let snapshot = app.snapshot().await;
    assert!(
        snapshot["version"].as_u64().unwrap() > before,
        "the edge must see it"
    );
    let entry = &snapshot["validation"][0];
    assert_eq!(
        (entry["api_id"].as_str(), entry["version"].as_str()),
        (Some(api.as_str()), Some("1.0.0"))
    );
    assert_eq!(entry["requests"], "enforce");
    let ops: Vec<String> = entry["spec"]["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            format!(
                "{} {}",
                o["method"].as_str().unwrap(),
                o["path"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(ops, ["GET /pets", "POST /pets", "GET /pets/{petId}"]);

    let (status, set) = put(
        &app,
        &api,
        json!({"requests": "report", "responses": "report", "max_body_bytes": 10}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{set}");
    assert_eq!(app.snapshot().await["validation"][0]["max_body_bytes"], 10);
    let (status, _) = put(&app, &api, json!({"requests": "off"})).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        app.snapshot().await.get("validation").is_none(),
        "off everywhere: nothing to ship"
    );

    let removed = app.admin(Method::DELETE, &path(&api)).send().await.unwrap();
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.get(&path(&api)).await.0, StatusCode::NOT_FOUND);
    let audit = app.get("/admin/v1/audit?limit=50").await.1;
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"api.validation.set") && actions.contains(&"api.validation.delete"),
        "{actions:?}"
    );
}

async fn hostile_settings_are_refused(app: TestApp) {
    let api = api_id(&app, "/pets").await;
    for (body, field) in [
        (json!({"requests": "block"}), "requests"),
        (
            json!({"requests": "enforce", "responses": "enforce"}),
            "responses",
        ),
        (
            json!({"requests": "enforce", "max_body_bytes": 10485761}),
            "max_body_bytes",
        ),
        (
            json!({"requests": "enforce", "max_body_bytes": 0}),
            "max_body_bytes",
        ),
        (
            json!({"requests": "enforce", "max_body_bytes": -1}),
            "max_body_bytes",
        ),
        (
            json!({"requests": "enforce", "max_body_bytes": 1e300}),
            "max_body_bytes",
        ),
        (json!({"requests": "enforce", "surprise": 1}), "surprise"),
    ] {
        let response = app
            .admin(Method::PUT, &path(&api))
            .json(&body)
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(
            problem["field"]
                .as_str()
                .unwrap_or_default()
                .contains(field)
                || problem["detail"].as_str().unwrap().contains(field),
            "{body}: {problem}"
        );
    }
    let response = app
        .admin(Method::PUT, &path(&api))
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::BAD_REQUEST).await;
    for method in [Method::PUT, Method::GET, Method::DELETE] {
        let response = app
            .admin(method.clone(), &path("api_nope"))
            .json(&json!({"requests": "enforce"}))
            .send()
            .await
            .unwrap();
        expect_problem(response, StatusCode::NOT_FOUND).await;
    }
    let (status, org) = app.post("/admin/v1/orgs", json!({"name": "Other"})).await;
    assert_eq!(status, StatusCode::CREATED, "{org}");
    for method in [Method::PUT, Method::GET, Method::DELETE] {
        let response = app
            .admin(method.clone(), &path(&api))
            .header("x-tollgate-org", org["id"].as_str().unwrap())
            .json(&json!({"requests": "enforce"}))
            .send()
            .await
            .unwrap();
        expect_problem(response, StatusCode::NOT_FOUND).await;
    }
}

async fn documents_that_cannot_be_checked_are_400_with_their_location(app: TestApp) {
    let api = api_id(&app, "/odd").await;
    let spec = json!({
        "openapi": "3.0.3", "info": {"title": "Odd", "version": "2.0.0"},
        "paths": {"/x": {"get": {
            "parameters": [{"name": "q", "in": "query", "schema": {"type": "string", "pattern": "^(?!admin).*$"}}],
            "responses": {"200": {"description": "ok"}}
        }}}
    });
    let response = upload(
        &app,
        &api,
        "",
        "application/json",
        spec.to_string().into_bytes(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let (status, v) = app
        .post(
            &format!("/admin/v1/apis/{api}/versions/2.0.0/publish"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (status, problem) = put(&app, &api, json!({"requests": "enforce"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert_eq!(problem["errors"][0]["version"], "2.0.0");
    assert_eq!(
        problem["errors"][0]["pointer"],
        "/paths/~1x/get/parameters/0/schema/pattern"
    );
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("look-around"),
        "{problem}"
    );
    assert_eq!(
        app.get(&path(&api)).await.0,
        StatusCode::NOT_FOUND,
        "nothing stored"
    );
    let (status, _) = put(&app, &api, json!({"requests": "off"})).await;
    assert_eq!(status, StatusCode::OK, "off needs no compilation");
}

async fn an_api_with_validation_can_still_be_deleted(app: TestApp) {
    let api = api_id(&app, "/gone").await;
    let (status, _) = put(&app, &api, json!({"requests": "report"})).await;
    assert_eq!(status, StatusCode::OK);
    let response = app
        .admin(Method::DELETE, &format!("/admin/v1/apis/{api}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(app.snapshot().await.get("validation").is_none());
}

crate::both_databases!(
    settings_are_set_read_and_removed,
    hostile_settings_are_refused,
    documents_that_cannot_be_checked_are_400_with_their_location,
    an_api_with_validation_can_still_be_deleted,
);
