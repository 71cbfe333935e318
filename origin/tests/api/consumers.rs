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

crate::both_databases!(
    creates_and_reads_a_consumer,
    a_bad_email_is_422_naming_it,
    an_unknown_consumer_id_is_404,
);
