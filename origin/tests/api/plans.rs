//! Creating and reading plans.

use crate::helpers::{expect_problem, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn creates_a_plan_as_the_contract_shows(app: TestApp) {
    let body = json!({
        "name": "Free",
        "rate_limit": {"requests": 10, "per_seconds": 1, "burst": 20},
        "quota": {"requests": 1000, "period": "month"}
    });
    let (status, plan) = app.post("/admin/v1/plans", body).await;
    assert_eq!(status, StatusCode::CREATED, "{plan}");
    let id = plan["id"].as_str().unwrap();
    assert!(id.starts_with("plan_"), "{id}");
    assert_eq!(
        plan["rate_limit"],
        json!({"requests": 10, "per_seconds": 1, "burst": 20})
    );
    assert_eq!(plan["quota"], json!({"requests": 1000, "period": "month"}));
    let (status, fetched) = app.get(&format!("/admin/v1/plans/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched, plan);
    let (_, list) = app.get("/admin/v1/plans").await;
    assert_eq!(list, json!([plan]));
}

async fn burst_defaults_to_requests(app: TestApp) {
    let body = json!({"name": "Basic", "rate_limit": {"requests": 5, "per_seconds": 60}});
    let (status, plan) = app.post("/admin/v1/plans", body).await;
    assert_eq!(status, StatusCode::CREATED, "{plan}");
    assert_eq!(plan["rate_limit"]["burst"], 5);
    assert!(plan["quota"].is_null());
}

async fn invalid_limits_are_422_naming_them(app: TestApp) {
    for (body, field) in [
        (
            json!({"name": "P", "quota": {"requests": 1, "period": "fortnight"}}),
            "quota.period",
        ),
        (
            json!({"name": "P", "quota": {"requests": 0, "period": "day"}}),
            "quota.requests",
        ),
        (
            json!({"name": "P", "rate_limit": {"requests": 1, "per_seconds": 0}}),
            "rate_limit.per_seconds",
        ),
        (
            json!({"name": "P", "rate_limit": {"requests": -1, "per_seconds": 1}}),
            "rate_limit.requests",
        ),
        (
            json!({"rate_limit": {"requests": 1, "per_seconds": 1}}),
            "name",
        ),
    ] {
        let response = app
            .admin(Method::POST, "/admin/v1/plans")
            .json(&body)
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(problem["field"], field, "{body}");
    }
}

async fn an_unknown_plan_id_is_404(app: TestApp) {
    let response = app
        .admin(Method::GET, "/admin/v1/plans/plan_nope")
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::NOT_FOUND).await;
}

crate::both_databases!(
    creates_a_plan_as_the_contract_shows,
    burst_defaults_to_requests,
    invalid_limits_are_422_naming_them,
    an_unknown_plan_id_is_404,
);
