//! Creating and reading consumers.

use crate::helpers::{expect_problem, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn creates_and_reads_a_consumer(app: TestApp) {
    let consumer = app.create_consumer().await;
    let id = consumer["id"].as_str().unwrap();
    assert!(id.starts_with("con_"), "{id}");
    assert_eq!(consumer["name"], "Acme");
    assert_eq!(consumer["email"], "dev@acme.example");
    let (status, fetched) = app.get(&format!("/admin/v1/consumers/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched, consumer);
    let (_, list) = app.get("/admin/v1/consumers").await;
    assert_eq!(list, json!([consumer]));
}

async fn a_bad_email_is_422_naming_it(app: TestApp) {
    let response = app
        .admin(Method::POST, "/admin/v1/consumers")
        .json(&json!({"name": "Acme", "email": "not-an-email"}))
        .send()
        .await
        .unwrap();
    let problem = expect_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(problem["field"], "email");
    let response = app
        .admin(Method::POST, "/admin/v1/consumers")
        .json(&json!({"name": "Acme"}))
        .send()
        .await
        .unwrap();
    let problem = expect_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(problem["field"], "email");
}

async fn an_unknown_consumer_id_is_404(app: TestApp) {
    let response = app
        .admin(Method::GET, "/admin/v1/consumers/con_nope")
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::NOT_FOUND).await;
}

/// Writes that read first (a token checks its user exists) racing other writes: on SQLite a
/// deferred transaction would fail its read-to-write upgrade at once with SQLITE_BUSY.
async fn concurrent_read_then_write_requests_all_succeed(app: TestApp) {
    let (status, user) = app
        .post(
            "/admin/v1/users",
            json!({"email": "u@x.example", "name": "U"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    let tokens = format!("/admin/v1/users/{}/tokens", user["id"].as_str().unwrap());
    let calls = (0..24).map(|i| {
        let (app, tokens) = (&app, tokens.clone());
        async move {
            if i % 2 == 0 {
                app.post(&tokens, json!({})).await.0
            } else {
                app.post(
                    "/admin/v1/consumers",
                    json!({"name": format!("c{i}"), "email": "c@x.example"}),
                )
                .await
                .0
            }
        }
    });
    let statuses = futures_util::future::join_all(calls).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::CREATED),
        "{statuses:?}"
    );
}

crate::both_databases!(
    concurrent_read_then_write_requests_all_succeed,
    creates_and_reads_a_consumer,
    a_bad_email_is_422_naming_it,
    an_unknown_consumer_id_is_404,
);
