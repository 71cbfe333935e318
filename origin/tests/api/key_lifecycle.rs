//! Key lifecycle: scopes, rotation with an overlap window (shared identity), immediate
//! rotation, and revocation by value for leaked keys.

use crate::helpers::{expect_problem, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn record_of(app: &TestApp, key: &str) -> (StatusCode, Value) {
    let hash = tollgate_core::ApiKey::parse(key).unwrap().hash();
    let response = app
        .edge_get(&format!("/edge/v1/keys/{hash}"))
        .send()
        .await
        .unwrap();
    crate::helpers::read(response).await
}

async fn issue(app: &TestApp, extra: Value) -> Value {
    let base_path = format!("/w{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let api = app.create_api(&base_path).await;
    let consumer = app.create_consumer().await;
    let mut body = json!({"consumer_id": consumer["id"], "api_id": api["id"]});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let (status, key) = app.post("/admin/v1/keys", body).await;
    assert_eq!(status, StatusCode::CREATED, "{key}");
    key
}

async fn scopes_are_checked_normalised_and_sent_to_the_edge(app: TestApp) {
    let key = issue(
        &app,
        json!({"scopes": ["weather:read", "alerts.write", "weather:read"]}),
    )
    .await;
    assert_eq!(key["scopes"], json!(["alerts.write", "weather:read"]));
    let (status, record) = record_of(&app, key["key"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(record["scopes"], json!(["alerts.write", "weather:read"]));
    assert_eq!(record["identity"], key["id"]);
    for bad in [
        json!(["Upper"]),
        json!([""]),
        json!(["has space"]),
        json!((0..51).map(|i| format!("s{i}")).collect::<Vec<_>>()),
    ] {
        let consumer = app.create_consumer().await;
        let (_, apis) = app.get("/admin/v1/apis").await;
        let body = json!({"consumer_id": consumer["id"], "api_id": apis[0]["id"], "scopes": bad});
        let response = app
            .admin(Method::POST, "/admin/v1/keys")
            .json(&body)
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(problem["field"], "scopes");
    }
}

async fn rotation_keeps_both_keys_for_the_overlap_with_one_identity(app: TestApp) {
    let old = issue(&app, json!({"scopes": ["weather:read"]})).await;
    let old_id = old["id"].as_str().unwrap();
    let (status, new) = app
        .post(
            &format!("/admin/v1/keys/{old_id}/rotate"),
            json!({"overlap_hours": 2}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{new}");
    assert_ne!(new["key"], old["key"]);
    assert_eq!(new["scopes"], json!(["weather:read"]));
    assert_eq!(new["consumer_id"], old["consumer_id"]);

    let (_, old_record) = record_of(&app, old["key"].as_str().unwrap()).await;
    let (_, new_record) = record_of(&app, new["key"].as_str().unwrap()).await;
    assert_eq!(old_record["status"], "active");
    assert_eq!(new_record["status"], "active");
    assert_eq!(
        old_record["identity"], new_record["identity"],
        "rotated keys share limits"
    );
    let expires = old_record["expires_at_ms"].as_u64().unwrap();
    let in_two_hours = crate::helpers::now_secs() * 1000 + 2 * 3_600_000;
    assert!(
        expires.abs_diff(in_two_hours) < 60_000,
        "old key expires after the overlap"
    );
    assert!(new_record["expires_at_ms"].is_null());

    // Rotating the new key again keeps the same identity.
    let new_id = new["id"].as_str().unwrap();
    let (status, newer) = app
        .post(&format!("/admin/v1/keys/{new_id}/rotate"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, newer_record) = record_of(&app, newer["key"].as_str().unwrap()).await;
    assert_eq!(newer_record["identity"], old_record["identity"]);
    let (_, listed) = app
        .get(&format!(
            "/admin/v1/keys?consumer_id={}",
            old["consumer_id"].as_str().unwrap()
        ))
        .await;
    assert!(listed
        .as_array()
        .unwrap()
        .iter()
        .all(|k| k["identity"] == old_record["identity"]));
}

async fn zero_overlap_revokes_at_once_and_bad_rotations_are_refused(app: TestApp) {
    let old = issue(&app, json!({})).await;
    let old_id = old["id"].as_str().unwrap();
    let before = app.snapshot().await["version"].as_u64().unwrap();
    let response = app
        .admin(Method::POST, &format!("/admin/v1/keys/{old_id}/rotate"))
        .json(&json!({"overlap_hours": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let (_, record) = record_of(&app, old["key"].as_str().unwrap()).await;
    assert_eq!(record["status"], "revoked");
    assert!(
        app.snapshot().await["version"].as_u64().unwrap() > before,
        "edges hear of it"
    );

    let response = app
        .admin(Method::POST, &format!("/admin/v1/keys/{old_id}/rotate"))
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::CONFLICT).await;
    let response = app
        .admin(Method::POST, "/admin/v1/keys/key_nope/rotate")
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::NOT_FOUND).await;
    let fresh = issue(&app, json!({})).await;
    for body in [json!({"overlap_hours": -1}), json!({"overlap_hours": 721})] {
        let response = app
            .admin(
                Method::POST,
                &format!("/admin/v1/keys/{}/rotate", fresh["id"].as_str().unwrap()),
            )
            .json(&body)
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(problem["field"], "overlap_hours");
    }
    let response = app
        .admin(
            Method::POST,
            &format!("/admin/v1/keys/{}/rotate", fresh["id"].as_str().unwrap()),
        )
        .body("{not json")
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::BAD_REQUEST).await;
}

async fn a_leaked_key_is_revoked_by_its_value(app: TestApp) {
    let key = issue(&app, json!({})).await;
    let plaintext = key["key"].as_str().unwrap();
    let (status, answer) = app
        .post("/admin/v1/keys/revoke-by-value", json!({"key": plaintext}))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["id"], key["id"]);
    assert_eq!(answer["newly_revoked"], true);
    let (_, record) = record_of(&app, plaintext).await;
    assert_eq!(record["status"], "revoked");
    assert!(app.snapshot().await["revoked"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h == &record["key_hash"]));
    let (_, again) = app
        .post("/admin/v1/keys/revoke-by-value", json!({"key": plaintext}))
        .await;
    assert_eq!(again["newly_revoked"], false);

    let unknown = tollgate_core::ApiKey::generate({
        let mut n = 7u8;
        move || {
            n = n.wrapping_mul(31).wrapping_add(11);
            n
        }
    });
    let response = app
        .admin(Method::POST, "/admin/v1/keys/revoke-by-value")
        .json(&json!({"key": unknown.expose()}))
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::NOT_FOUND).await;
    for bad in [
        "",
        "tg_short",
        // The checksum's last character changed (to one it is not already).
        &format!(
            "{}{}",
            &plaintext[..plaintext.len() - 1],
            if plaintext.ends_with('x') { 'y' } else { 'x' }
        ),
    ] {
        let response = app
            .admin(Method::POST, "/admin/v1/keys/revoke-by-value")
            .json(&json!({"key": bad}))
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(problem["field"], "key", "{bad}");
    }
}

crate::both_databases!(
    scopes_are_checked_normalised_and_sent_to_the_edge,
    rotation_keeps_both_keys_for_the_overlap_with_one_identity,
    zero_overlap_revokes_at_once_and_bad_rotations_are_refused,
    a_leaked_key_is_revoked_by_its_value,
);
