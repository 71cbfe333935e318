//! Issuing, listing and revoking keys.

use crate::helpers::{expect_problem, read, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::json;
use tollgate_core::ApiKey;

async fn an_issued_key_has_the_documented_shape(app: TestApp) {
    let issued = app.issue_key().await;
    let key = issued["key"].as_str().unwrap();
    assert!(key.starts_with("tg_"), "{key}");
    assert_eq!(key.len(), 41);
    let parsed = ApiKey::parse(key).expect("the key parses with tollgate-core");
    assert_eq!(issued["prefix"], parsed.display_prefix());
    assert!(issued["id"].as_str().unwrap().starts_with("key_"));
    assert_eq!(issued["status"], "active");
    assert!(issued["plan_id"].is_null());
    assert!(issued.get("key_hash").is_none(), "{issued}");
}

async fn listings_never_show_the_key_or_its_hash(app: TestApp) {
    let issued = app.issue_key().await;
    let key = ApiKey::parse(issued["key"].as_str().unwrap()).unwrap();
    let consumer_id = issued["consumer_id"].as_str().unwrap();
    for path in [
        format!("/admin/v1/keys?consumer_id={consumer_id}"),
        "/admin/v1/keys".into(),
        format!("/admin/v1/keys/{}", issued["id"].as_str().unwrap()),
    ] {
        let response = app.admin(Method::GET, &path).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let text = response.text().await.unwrap();
        assert!(!text.contains(key.expose()), "{path} shows the key");
        assert!(!text.contains(key.hash().as_str()), "{path} shows the hash");
        assert!(
            text.contains(key.display_prefix()),
            "{path} lacks the prefix"
        );
    }
    let (_, list) = app
        .get(&format!("/admin/v1/keys?consumer_id={consumer_id}"))
        .await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], issued["id"]);
    assert!(list[0].get("key").is_none());
}

async fn listing_by_consumer_filters_and_knows_its_consumers(app: TestApp) {
    let issued = app.issue_key().await;
    let other = app.create_consumer().await;
    let (status, list) = app
        .get(&format!(
            "/admin/v1/keys?consumer_id={}",
            other["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list, json!([]));
    let (_, all) = app.get("/admin/v1/keys").await;
    assert_eq!(all.as_array().unwrap().len(), 1);
    assert_eq!(all[0]["id"], issued["id"]);
    let response = app
        .admin(Method::GET, "/admin/v1/keys?consumer_id=con_nope")
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::NOT_FOUND).await;
}

async fn unknown_references_are_422_naming_them(app: TestApp) {
    let api = app.create_api("/weather").await;
    let consumer = app.create_consumer().await;
    for (body, field) in [
        (
            json!({"consumer_id": "con_nope", "api_id": api["id"]}),
            "consumer_id",
        ),
        (
            json!({"consumer_id": consumer["id"], "api_id": "api_nope"}),
            "api_id",
        ),
        (
            json!({"consumer_id": consumer["id"], "api_id": api["id"], "plan_id": "plan_nope"}),
            "plan_id",
        ),
        (json!({"api_id": api["id"]}), "consumer_id"),
        (
            json!({"consumer_id": consumer["id"], "api_id": api["id"], "expires_at": "2001-01-01T00:00:00Z"}),
            "expires_at",
        ),
        (
            json!({"consumer_id": consumer["id"], "api_id": api["id"], "expires_at": "soon"}),
            "expires_at",
        ),
        (
            json!({"consumer_id": consumer["id"], "api_id": api["id"], "expires_at": i64::MAX}),
            "expires_at",
        ),
    ] {
        let response = app
            .admin(Method::POST, "/admin/v1/keys")
            .json(&body)
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(problem["field"], field, "{body}");
    }
    let (_, list) = app.get("/admin/v1/keys").await;
    assert_eq!(list, json!([]));
}

async fn a_key_can_carry_a_plan_and_an_expiry(app: TestApp) {
    let api = app.create_api("/weather").await;
    let consumer = app.create_consumer().await;
    let (_, plan) = app.post("/admin/v1/plans", json!({"name": "Free"})).await;
    let body = json!({"consumer_id": consumer["id"], "api_id": api["id"], "plan_id": plan["id"], "expires_at": "2099-01-01T00:00:00Z"});
    let (status, issued) = app.post("/admin/v1/keys", body).await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    assert_eq!(issued["plan_id"], plan["id"]);
    assert_eq!(issued["expires_at"], "2099-01-01T00:00:00Z");
    let in_millis = json!({"consumer_id": consumer["id"], "api_id": api["id"], "expires_at": 4_070_908_800_000_i64});
    let (status, issued) = app.post("/admin/v1/keys", in_millis).await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    assert_eq!(issued["expires_at"], "2099-01-01T00:00:00Z");
    let hash = ApiKey::parse(issued["key"].as_str().unwrap())
        .unwrap()
        .hash();
    let (_, record) = read(
        app.edge_get(&format!("/edge/v1/keys/{hash}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(record["expires_at_ms"], 4_070_908_800_000_i64);
}

async fn revoking_bumps_the_version_and_feeds_the_hash_to_edges(app: TestApp) {
    let issued = app.issue_key().await;
    let hash = ApiKey::parse(issued["key"].as_str().unwrap())
        .unwrap()
        .hash();
    let before = app.snapshot().await;
    assert_eq!(before["revoked"], json!([]));
    let path = format!("/admin/v1/keys/{}", issued["id"].as_str().unwrap());
    let response = app.admin(Method::DELETE, &path).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let after = app.snapshot().await;
    assert!(
        after["version"].as_u64() > before["version"].as_u64(),
        "{before} → {after}"
    );
    assert_eq!(after["revoked"], json!([hash.as_str()]));
    let (_, key) = app.get(&path).await;
    assert_eq!(key["status"], "revoked");
    assert!(key["revoked_at"].is_string());
    // Idempotent: a second DELETE is another 204 and changes nothing.
    let response = app.admin(Method::DELETE, &path).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.snapshot().await["version"], after["version"]);
}

async fn revoking_an_unknown_key_is_404(app: TestApp) {
    let response = app
        .admin(Method::DELETE, "/admin/v1/keys/key_nope")
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::NOT_FOUND).await;
    let response = app
        .admin(Method::GET, "/admin/v1/keys/key_nope")
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::NOT_FOUND).await;
}

crate::both_databases!(
    an_issued_key_has_the_documented_shape,
    listings_never_show_the_key_or_its_hash,
    listing_by_consumer_filters_and_knows_its_consumers,
    unknown_references_are_422_naming_them,
    a_key_can_carry_a_plan_and_an_expiry,
    revoking_bumps_the_version_and_feeds_the_hash_to_edges,
    revoking_an_unknown_key_is_404,
);
