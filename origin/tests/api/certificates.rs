//! mTLS client certificates: a fingerprint binds to a consumer and an API as a key whose
//! hash is core's `mtls:` derivation, so the edge's key look-up finds it; duplicates,
//! malformed fingerprints and other consumers' certificates are refused.

use crate::helpers::{expect_problem, read, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::json;
use tollgate_core::mtls::CertFingerprint;

const FP: &str = "3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b";

async fn certificates_bind_fingerprints_to_the_key_path(app: TestApp) {
    let api = app.create_api("/secure").await;
    let consumer = app.create_consumer().await;
    let cid = consumer["id"].as_str().unwrap();
    let path = format!("/admin/v1/consumers/{cid}/certificates");
    let colons = FP
        .to_uppercase()
        .as_bytes()
        .chunks(2)
        .map(|c| std::str::from_utf8(c).unwrap().to_owned())
        .collect::<Vec<_>>()
        .join(":");
    let (status, cert) = app
        .post(
            &path,
            json!({"fingerprint_sha256": colons, "api_id": api["id"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{cert}");
    assert_eq!(
        (cert["fingerprint_sha256"].as_str(), cert["status"].as_str()),
        (Some(FP), Some("active"))
    );
    assert!(cert["id"].as_str().unwrap().starts_with("crt_"));

    // The edge's look-up by the derived hash finds the consumer and API.
    let hash = CertFingerprint::parse(FP).unwrap().key_hash();
    let (status, record) = read(
        app.edge_get(&format!("/edge/v1/keys/{hash}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{record}");
    assert_eq!(
        (
            &record["consumer_id"],
            &record["api_id"],
            record["status"].as_str()
        ),
        (&consumer["id"], &api["id"], Some("active"))
    );

    // Twice is a conflict; malformed fingerprints and unknown APIs are 422s.
    let (status, _) = app
        .post(
            &path,
            json!({"fingerprint_sha256": FP, "api_id": api["id"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    for (body, field) in [
        (
            json!({"fingerprint_sha256": "abc", "api_id": api["id"]}),
            "fingerprint_sha256",
        ),
        (
            json!({"fingerprint_sha256": FP.replace('a', "z"), "api_id": api["id"]}),
            "fingerprint_sha256",
        ),
        (
            json!({"fingerprint_sha256": FP.replace('3', "4"), "api_id": "api_nope"}),
            "api_id",
        ),
        (
            json!({"fingerprint_sha256": FP.replace('3', "4")}),
            "api_id",
        ),
    ] {
        let response = app
            .admin(Method::POST, &path)
            .json(&body)
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(problem["field"], field, "{body}");
    }
    let (_, list) = app.get(&path).await;
    assert_eq!(list.as_array().unwrap().len(), 1);

    // Another consumer cannot revoke it through its own path; its owner can, and the hash
    // rides the snapshot's revocation feed.
    let other = app.create_consumer().await;
    let cert_id = cert["id"].as_str().unwrap();
    let foreign = format!(
        "/admin/v1/consumers/{}/certificates/{cert_id}",
        other["id"].as_str().unwrap()
    );
    let response = app.admin(Method::DELETE, &foreign).send().await.unwrap();
    expect_problem(response, StatusCode::NOT_FOUND).await;
    let version = app.snapshot().await["version"].as_u64().unwrap();
    let response = app
        .admin(Method::DELETE, &format!("{path}/{cert_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let snapshot = app.snapshot().await;
    assert!(snapshot["revoked"]
        .as_array()
        .unwrap()
        .contains(&json!(hash.as_str())));
    assert_eq!(snapshot["version"].as_u64().unwrap(), version + 1);
    let (_, list) = app.get(&path).await;
    assert_eq!(list[0]["status"], "revoked");
}

async fn mtls_is_an_auth_type_of_apis(app: TestApp) {
    let (status, api) = app
        .post("/admin/v1/apis", json!({"name": "M", "base_path": "/m", "upstream_url": "http://127.0.0.1:9", "auth": {"type": "mtls"}}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{api}");
    assert_eq!(api["auth"], json!({"type": "mtls"}));
    let routes = app.snapshot().await["apis"].clone();
    assert_eq!(routes[0]["auth"], json!({"type": "mtls"}));
    let (status, problem) = app
        .post("/admin/v1/apis", json!({"name": "M2", "base_path": "/m2", "upstream_url": "http://127.0.0.1:9", "auth": {"type": "mtls", "ca": "x"}}))
        .await;
    assert_eq!(
        (status, problem["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("auth.ca"))
    );
}

crate::both_databases!(
    certificates_bind_fingerprints_to_the_key_path,
    mtls_is_an_auth_type_of_apis
);
