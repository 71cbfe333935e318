//! Health and the OpenAPI document.

use crate::helpers::{read, TestApp};
use reqwest::StatusCode;
use serde_json::json;

async fn healthz_answers_ok(app: TestApp) {
    let (status, body) = read(app.client.get(app.url("/healthz")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"status": "ok"}));
}

async fn openapi_json_lists_every_admin_path(app: TestApp) {
    let (status, doc) = read(
        app.client
            .get(app.url("/openapi.json"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/admin/v1/apis",
        "/admin/v1/apis/{id}",
        "/admin/v1/consumers",
        "/admin/v1/consumers/{id}",
        "/admin/v1/plans",
        "/admin/v1/keys",
        "/admin/v1/keys/{id}",
        "/admin/v1/usage",
        "/edge/v1/snapshot",
        "/edge/v1/keys/{key_hash}",
        "/healthz",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    assert!(doc["paths"]["/admin/v1/keys/{id}"]["delete"].is_object());
    assert_eq!(
        doc["components"]["securitySchemes"]["admin_token"]["scheme"],
        "bearer"
    );
}

crate::both_databases!(healthz_answers_ok, openapi_json_lists_every_admin_path);
