//! Limits: plan options, limits on APIs, load shedding, and what the edge's snapshot
//! carries of them.

use crate::helpers::{expect_problem, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn refused(app: &TestApp, method: Method, path: &str, body: Value, field: &str) {
    let response = app.admin(method, path).json(&body).send().await.unwrap();
    let problem = expect_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(problem["field"], field, "{body}");
}

async fn plan_options_reach_the_snapshot(app: TestApp) {
    let before = app.snapshot().await["version"].as_u64().unwrap();
    let body = json!({
        "name": "Pro",
        "rate_limit": {"requests": 600, "per_seconds": 60, "mode": "fast", "lease": 10, "fail": "closed"},
        "quota": {"requests": 1000, "period": "month", "anchor": "2026-01-15T09:30:00Z", "enforcement": "soft", "hide_headers": true}
    });
    let (status, plan) = app.post("/admin/v1/plans", body).await;
    assert_eq!(status, StatusCode::CREATED, "{plan}");
    assert_eq!(
        plan["rate_limit"]["max_over_admission"], 10,
        "600/min leased for ≤1 s"
    );
    assert!(
        plan["quota"].get("max_over_admission").is_none(),
        "strict: nothing to state"
    );
    let snapshot = app.snapshot().await;
    assert!(snapshot["version"].as_u64().unwrap() > before);
    let limits = &snapshot["plans"][0];
    assert_eq!(limits["plan_id"], plan["id"]);
    let rate = &limits["policies"][0];
    assert_eq!(rate["name"], "rate");
    assert_eq!(rate["mode"], json!({"mode": "fast", "lease": 10}));
    assert_eq!(rate["fail"], "closed");
    assert_eq!(rate["algorithm"]["type"], "gcra");
    assert_eq!(rate["algorithm"]["period_ms"], 60_000);
    let quota = &limits["policies"][1];
    assert_eq!(quota["algorithm"]["anchor_ms"], 1_768_469_400_000_i64);
    assert_eq!(quota["algorithm"]["enforcement"], "soft");
    assert_eq!(quota["hide_headers"], true);
}

async fn unenforceable_plans_are_422_naming_the_member(app: TestApp) {
    let rate = |extra: Value| {
        let mut r = json!({"requests": 10, "per_seconds": 60});
        r.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        json!({"name": "P", "rate_limit": r})
    };
    for (body, field) in [
        (rate(json!({"lease": 2})), "rate_limit.lease"),
        (
            rate(json!({"mode": "fast", "lease": 11})),
            "rate_limit.lease",
        ),
        (
            rate(json!({"mode": "fast", "algorithm": "sliding_window"})),
            "rate_limit.mode",
        ),
        (
            rate(json!({"algorithm": "fixed_window", "burst": 20})),
            "rate_limit.burst",
        ),
        (rate(json!({"requests": 2_000_000})), "rate_limit.requests"),
        (rate(json!({"fail": "sideways"})), "rate_limit.fail"),
        (
            rate(json!({"per_seconds": 40_000_000})),
            "rate_limit.per_seconds",
        ),
        (
            json!({"name": "P", "quota": {"requests": 5, "period": "day", "anchor": "last tuesday"}}),
            "quota.anchor",
        ),
    ] {
        refused(&app, Method::POST, "/admin/v1/plans", body, field).await;
    }
}

async fn limits_on_apis_are_listed_enforced_and_removed(app: TestApp) {
    let api = app.create_api("/limited").await;
    let body = json!({"name": "per-ip", "api_id": api["id"], "subject": "ip",
        "rate_limit": {"requests": 5, "per_seconds": 1, "algorithm": "sliding_window"}});
    let (status, limit) = app.post("/admin/v1/limits", body).await;
    assert_eq!(status, StatusCode::CREATED, "{limit}");
    assert!(limit["id"].as_str().unwrap().starts_with("lim_"));
    assert_eq!(limit["subject"], "ip");
    let (status, conc) = app
        .post(
            "/admin/v1/limits",
            json!({"name": "inflight", "concurrency": {"requests": 3}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{conc}");
    let (_, list) = app.get("/admin/v1/limits").await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    let snapshot = app.snapshot().await;
    assert_eq!(snapshot["limits"][0]["api_id"], api["id"]);
    assert_eq!(snapshot["limits"][0]["policy"]["subject"], "ip");
    assert_eq!(snapshot["limits"][1]["api_id"], Value::Null);
    assert_eq!(
        snapshot["limits"][1]["policy"]["algorithm"]["timeout_ms"],
        60_000
    );
    let path = format!("/admin/v1/limits/{}", limit["id"].as_str().unwrap());
    let gone = app.admin(Method::DELETE, &path).send().await.unwrap();
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    let again = app.admin(Method::DELETE, &path).send().await.unwrap();
    expect_problem(again, StatusCode::NOT_FOUND).await;
    assert_eq!(app.snapshot().await["limits"].as_array().unwrap().len(), 1);
}

async fn hostile_limits_are_422(app: TestApp) {
    let rate = json!({"requests": 1, "per_seconds": 1});
    for (body, field) in [
        (json!({"name": "bad \"name\"", "rate_limit": rate}), "name"),
        (json!({"name": "x".repeat(65), "rate_limit": rate}), "name"),
        (
            json!({"name": "two", "rate_limit": rate, "quota": {"requests": 1, "period": "day"}}),
            "rate_limit",
        ),
        (json!({"name": "none"}), "rate_limit"),
        (
            json!({"name": "a", "api_id": "api_nope", "rate_limit": rate}),
            "api_id",
        ),
        (
            json!({"name": "a", "subject": "planet", "rate_limit": rate}),
            "subject",
        ),
        (
            json!({"name": "a", "concurrency": {"requests": 0}}),
            "concurrency.requests",
        ),
    ] {
        refused(&app, Method::POST, "/admin/v1/limits", body, field).await;
    }
}

async fn shedding_rules_are_set_and_removed(app: TestApp) {
    let api = app.create_api("/shed").await;
    let path = format!("/admin/v1/apis/{}/shedding", api["id"].as_str().unwrap());
    let response = app
        .admin(Method::PUT, &path)
        .json(&json!({"max_error_percent": 50, "cooldown_secs": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let rule: Value = response.json().await.unwrap();
    assert_eq!(rule["min_requests"], 20);
    assert_eq!(rule["window_secs"], 10);
    let snapshot = app.snapshot().await;
    assert_eq!(snapshot["shedding"][0]["policy"]["cooldown_secs"], 2);
    refused(
        &app,
        Method::PUT,
        &path,
        json!({"max_error_percent": 0}),
        "max_error_percent",
    )
    .await;
    refused(
        &app,
        Method::PUT,
        &path,
        json!({"max_error_percent": 5, "window_secs": 0}),
        "window_secs",
    )
    .await;
    let missing = app
        .admin(Method::PUT, "/admin/v1/apis/api_nope/shedding")
        .json(&json!({"max_error_percent": 5}))
        .send()
        .await
        .unwrap();
    expect_problem(missing, StatusCode::NOT_FOUND).await;
    let removed = app.admin(Method::DELETE, &path).send().await.unwrap();
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.snapshot().await["shedding"], json!([]));
}

crate::both_databases!(
    plan_options_reach_the_snapshot,
    unenforceable_plans_are_422_naming_the_member,
    limits_on_apis_are_listed_enforced_and_removed,
    hostile_limits_are_422,
    shedding_rules_are_set_and_removed,
);
