//! The admin API opens only to the admin token.

use crate::helpers::{expect_problem, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::json;
use tollgate_core::edge_auth::{sign_edge_request, EDGE_SIGNATURE_HEADER};

async fn no_token_is_401_problem(app: TestApp) {
    for (method, path) in [
        (Method::GET, "/admin/v1/apis"),
        (Method::POST, "/admin/v1/apis"),
        (Method::GET, "/admin/v1/keys"),
        (Method::DELETE, "/admin/v1/keys/key_x"),
        (Method::GET, "/admin/v1/usage?consumer_id=con_x"),
    ] {
        let response = app
            .client
            .request(method, app.url(path))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, StatusCode::UNAUTHORIZED).await;
        assert!(
            problem["type"]
                .as_str()
                .unwrap()
                .ends_with("missing-credential"),
            "{problem}"
        );
    }
}

async fn wrong_token_is_401_problem(app: TestApp) {
    let wrong = format!("{}x", app.admin_token);
    let response = app
        .client
        .get(app.url("/admin/v1/apis"))
        .bearer_auth(wrong)
        .send()
        .await
        .unwrap();
    let problem = expect_problem(response, StatusCode::UNAUTHORIZED).await;
    assert!(
        problem["type"]
            .as_str()
            .unwrap()
            .ends_with("invalid-credential"),
        "{problem}"
    );
    let basic = app
        .client
        .get(app.url("/admin/v1/apis"))
        .basic_auth("admin", Some(&app.admin_token))
        .send()
        .await
        .unwrap();
    expect_problem(basic, StatusCode::UNAUTHORIZED).await;
}

async fn an_edge_signature_does_not_open_the_admin_api(app: TestApp) {
    let signature = sign_edge_request(
        &app.edge_secret,
        crate::helpers::now_secs(),
        "GET",
        "/admin/v1/apis",
    );
    let response = app
        .client
        .get(app.url("/admin/v1/apis"))
        .header(EDGE_SIGNATURE_HEADER, signature)
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::UNAUTHORIZED).await;
}

async fn auth_is_checked_before_the_body_is_read(app: TestApp) {
    let response = app
        .client
        .post(app.url("/admin/v1/apis"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::UNAUTHORIZED).await;
}

crate::both_databases!(
    no_token_is_401_problem,
    wrong_token_is_401_problem,
    an_edge_signature_does_not_open_the_admin_api,
    auth_is_checked_before_the_body_is_read,
);
