//! Upstream credentials: sealed at rest, delivered to the edge in the snapshot, never
//! shown or audited in clear, and re-sealed by `tollgate secrets rotate`.

use crate::helpers::{expect_problem, TestApp};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::process::Command;
use tollgate_origin::vault::{self, MasterKey, MasterKeyring};

const SECRET: &str = "Bearer upstream-s3cret-value";

async fn put(app: &TestApp, api_id: &str, body: serde_json::Value) -> reqwest::Response {
    app.admin(
        Method::PUT,
        &format!("/admin/v1/apis/{api_id}/upstream-auth"),
    )
    .json(&body)
    .send()
    .await
    .unwrap()
}

async fn sealed_rows(app: &TestApp) -> Vec<(String, String)> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database_url).await.unwrap();
    let rows = sqlx::query_as("SELECT key_id, sealed FROM secrets")
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    rows
}

async fn sealed_at_rest_and_in_the_snapshot(app: TestApp) {
    let api = app.create_api("/weather").await;
    let id = api["id"].as_str().unwrap();
    let before = app.snapshot().await["version"].as_u64().unwrap();
    let response = put(
        &app,
        id,
        json!({"header": "Authorization", "value": SECRET}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let view: serde_json::Value = response.json().await.unwrap();
    assert_eq!(view, json!({"header": "Authorization", "value_set": true}));

    let snapshot = app.snapshot().await;
    assert!(snapshot["version"].as_u64().unwrap() > before);
    assert_eq!(
        snapshot["apis"][0]["upstream_headers"],
        json!([{"name": "Authorization", "value": SECRET}])
    );

    let rows = sealed_rows(&app).await;
    assert_eq!(rows.len(), 1);
    assert!(rows[0].1.starts_with("tgv1."), "{}", rows[0].1);
    assert!(!rows[0].1.contains("s3cret"));
    let (_, audit) = app.get("/admin/v1/audit").await;
    let text = audit.to_string();
    assert!(
        text.contains("api.upstream_auth.set") && !text.contains("s3cret"),
        "{text}"
    );
    let (_, api_view) = app.get(&format!("/admin/v1/apis/{id}")).await;
    assert!(!api_view.to_string().contains("s3cret"));

    let response = app
        .admin(
            Method::DELETE,
            &format!("/admin/v1/apis/{id}/upstream-auth"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(app.snapshot().await["apis"][0]
        .get("upstream_headers")
        .is_none());
}

async fn bad_headers_and_unknown_apis_are_refused(app: TestApp) {
    let api = app.create_api("/weather").await;
    let id = api["id"].as_str().unwrap();
    for (body, field) in [
        (json!({"header": "Bad Name", "value": "x"}), "header"),
        (json!({"header": "Host", "value": "evil.example"}), "header"),
        (
            json!({"header": "Transfer-Encoding", "value": "chunked"}),
            "header",
        ),
        (
            json!({"header": "X-Key", "value": "a\r\nInjected: 1"}),
            "value",
        ),
        (json!({"header": "X-Key", "value": ""}), "value"),
        (json!({"header": "X-Key"}), "value"),
    ] {
        let problem = expect_problem(
            put(&app, id, body.clone()).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(problem["field"], field, "{body}");
    }
    expect_problem(
        put(&app, "api_nope", json!({"header": "X-Key", "value": "v"})).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert!(
        sealed_rows(&app).await.is_empty(),
        "nothing stored after refusals"
    );
}

async fn rotation_reseals_under_the_new_key(app: TestApp) {
    let api = app.create_api("/weather").await;
    let id = api["id"].as_str().unwrap();
    assert_eq!(
        put(&app, id, json!({"header": "X-Key", "value": SECRET}))
            .await
            .status(),
        StatusCode::OK
    );
    let old = MasterKey::from_bytes(app.master_key);
    let new_bytes = [9u8; 32];
    let new = MasterKey::from_bytes(new_bytes);
    let dir = tempfile::tempdir().unwrap();
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_tollgate"))
            .args(["secrets", "rotate"])
            .env("TOLLGATE_DATABASE_URL", &app.database_url)
            .env("TOLLGATE_DATA_DIR", dir.path())
            .env("TOLLGATE_ADMIN_TOKEN", "unused")
            .env("TOLLGATE_EDGE_SECRET", "unused")
            .env("TOLLGATE_MASTER_KEY", STANDARD.encode(new_bytes))
            .env(
                "TOLLGATE_MASTER_KEY_PREVIOUS",
                STANDARD.encode(app.master_key),
            )
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    let out = run();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("re-sealed 1 secrets"));
    let rows = sealed_rows(&app).await;
    assert_eq!(rows[0].0, new.id());
    let only_new = MasterKeyring::new(new.clone(), vec![]);
    let opened = vault::open(&only_new, &format!("api:{id}:upstream_auth"), &rows[0].1).unwrap();
    assert!(String::from_utf8(opened).unwrap().contains(SECRET));
    let only_old = MasterKeyring::new(old, vec![]);
    assert!(vault::open(&only_old, &format!("api:{id}:upstream_auth"), &rows[0].1).is_err());
    let again = run();
    assert!(String::from_utf8_lossy(&again.stdout).contains("re-sealed 0 secrets"));
}

crate::both_databases!(
    sealed_at_rest_and_in_the_snapshot,
    bad_headers_and_unknown_apis_are_refused,
    rotation_reseals_under_the_new_key,
);
