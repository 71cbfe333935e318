//! The edge-facing API: signatures, snapshot versions and ETags, key look-up.

use crate::helpers::{expect_problem, now_secs, read, TestApp};
use reqwest::StatusCode;
use serde_json::json;
use tollgate_core::edge_auth::{sign_edge_request, EDGE_SIGNATURE_HEADER};
use tollgate_core::ApiKey;

async fn unsigned_or_badly_signed_requests_are_401(app: TestApp) {
    let issued = app.issue_key().await;
    let hash = ApiKey::parse(issued["key"].as_str().unwrap())
        .unwrap()
        .hash();
    for path in [
        "/edge/v1/snapshot".to_owned(),
        format!("/edge/v1/keys/{hash}"),
    ] {
        let url = app.url(&path);
        let unsigned = app.client.get(&url).send().await.unwrap();
        expect_problem(unsigned, StatusCode::UNAUTHORIZED).await;
        let garbage = app
            .client
            .get(&url)
            .header(EDGE_SIGNATURE_HEADER, "t=1,s=zz")
            .send()
            .await
            .unwrap();
        expect_problem(garbage, StatusCode::UNAUTHORIZED).await;
        let wrong_secret = sign_edge_request(b"not the secret", now_secs(), "GET", &path);
        let response = app
            .client
            .get(&url)
            .header(EDGE_SIGNATURE_HEADER, wrong_secret)
            .send()
            .await
            .unwrap();
        expect_problem(response, StatusCode::UNAUTHORIZED).await;
        let other_path = sign_edge_request(&app.edge_secret, now_secs(), "GET", "/edge/v1/other");
        let response = app
            .client
            .get(&url)
            .header(EDGE_SIGNATURE_HEADER, other_path)
            .send()
            .await
            .unwrap();
        expect_problem(response, StatusCode::UNAUTHORIZED).await;
        let stale = sign_edge_request(&app.edge_secret, now_secs() - 3600, "GET", &path);
        let response = app
            .client
            .get(&url)
            .header(EDGE_SIGNATURE_HEADER, stale)
            .send()
            .await
            .unwrap();
        expect_problem(response, StatusCode::UNAUTHORIZED).await;
        let consumer_key = app
            .client
            .get(&url)
            .bearer_auth(issued["key"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        expect_problem(consumer_key, StatusCode::UNAUTHORIZED).await;
        let admin_token = app
            .client
            .get(&url)
            .bearer_auth(&app.admin_token)
            .send()
            .await
            .unwrap();
        expect_problem(admin_token, StatusCode::UNAUTHORIZED).await;
    }
}

async fn the_signature_covers_the_query_string(app: TestApp) {
    let response = app
        .edge_get("/edge/v1/snapshot?shard=3")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let signed_without_query =
        sign_edge_request(&app.edge_secret, now_secs(), "GET", "/edge/v1/snapshot");
    let response = app
        .client
        .get(app.url("/edge/v1/snapshot?shard=3"))
        .header(EDGE_SIGNATURE_HEADER, signed_without_query)
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::UNAUTHORIZED).await;
}

async fn the_snapshot_is_versioned_with_an_etag(app: TestApp) {
    let first = app.edge_get("/edge/v1/snapshot").send().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let (_, snapshot) = read(first).await;
    assert_eq!(etag, format!("\"v{}\"", snapshot["version"]));
    assert_eq!(snapshot["apis"], json!([]));

    let unchanged = app
        .edge_get("/edge/v1/snapshot")
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(unchanged.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(unchanged.headers()["etag"], etag.as_str());
    assert!(unchanged.text().await.unwrap().is_empty());

    let api = app.create_api("/weather").await;
    let changed = app
        .edge_get("/edge/v1/snapshot")
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    let new_etag = changed.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(new_etag, etag);
    let (_, snapshot) = read(changed).await;
    assert!(snapshot["version"].as_u64() > Some(0));
    assert_eq!(
        snapshot["apis"],
        json!([{"id": api["id"], "name": "Weather", "base_path": "/weather", "upstream_url": "http://127.0.0.1:9090/v1", "auth": {"type": "key"}}])
    );
    let parsed: tollgate_core::ConfigSnapshot =
        serde_json::from_value(snapshot).expect("core reads the snapshot");
    assert_eq!(parsed.etag(), new_etag);
}

async fn keys_are_looked_up_by_hash(app: TestApp) {
    let issued = app.issue_key().await;
    let hash = ApiKey::parse(issued["key"].as_str().unwrap())
        .unwrap()
        .hash();
    let key_path = format!("/admin/v1/keys/{}", issued["id"].as_str().unwrap());
    assert!(
        app.get(&key_path).await.1["last_used_at"].is_null(),
        "never used yet"
    );
    let response = app
        .edge_get(&format!("/edge/v1/keys/{hash}"))
        .send()
        .await
        .unwrap();
    let (status, record) = read(response).await;
    assert_eq!(status, StatusCode::OK, "{record}");
    let record: tollgate_core::KeyRecord =
        serde_json::from_value(record).expect("core reads the record");
    assert_eq!(record.key_hash, hash);
    assert_eq!(record.key_id.as_str(), issued["id"].as_str().unwrap());
    assert_eq!(
        record.consumer_id.as_str(),
        issued["consumer_id"].as_str().unwrap()
    );
    assert_eq!(record.api_id.as_str(), issued["api_id"].as_str().unwrap());
    assert_eq!(record.status, tollgate_core::KeyStatus::Active);
    // An edge look-up is a use: the key's listing shows when.
    let last_used = app.get(&key_path).await.1["last_used_at"].clone();
    assert!(
        last_used.as_str().is_some_and(|t| t.starts_with("20")),
        "{last_used}"
    );

    let unknown = ApiKey::generate(|| 42).hash();
    let response = app
        .edge_get(&format!("/edge/v1/keys/{unknown}"))
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::NOT_FOUND).await;
    for bad in [
        hash.as_str().to_uppercase(),
        "abc".into(),
        format!("{}0", hash.as_str()),
    ] {
        let response = app
            .edge_get(&format!("/edge/v1/keys/{bad}"))
            .send()
            .await
            .unwrap();
        expect_problem(response, StatusCode::BAD_REQUEST).await;
    }
}

async fn revoked_keys_are_still_found_marked_revoked(app: TestApp) {
    let issued = app.issue_key().await;
    let hash = ApiKey::parse(issued["key"].as_str().unwrap())
        .unwrap()
        .hash();
    let path = format!("/admin/v1/keys/{}", issued["id"].as_str().unwrap());
    let response = app
        .admin(reqwest::Method::DELETE, &path)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let (status, record) = read(
        app.edge_get(&format!("/edge/v1/keys/{hash}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(record["status"], "revoked");
}

crate::both_databases!(
    unsigned_or_badly_signed_requests_are_401,
    the_signature_covers_the_query_string,
    the_snapshot_is_versioned_with_an_etag,
    keys_are_looked_up_by_hash,
    revoked_keys_are_still_found_marked_revoked,
);
