//! Usage reports for the current billing period.

use crate::helpers::{expect_problem, TestApp};
use reqwest::{Method, StatusCode};

async fn usage_covers_the_current_calendar_month(app: TestApp) {
    let consumer = app.create_consumer().await;
    let id = consumer["id"].as_str().unwrap();
    let (status, usage) = app.get(&format!("/admin/v1/usage?consumer_id={id}")).await;
    assert_eq!(status, StatusCode::OK, "{usage}");
    assert_eq!(usage["consumer_id"], id);
    assert_eq!(usage["billable_requests"], 0);
    let start = usage["period_start"].as_str().unwrap();
    let end = usage["period_end"].as_str().unwrap();
    assert!(start.ends_with("-01T00:00:00Z"), "{start}");
    assert!(end.ends_with("-01T00:00:00Z"), "{end}");
    let now = tollgate_origin::clock::format_rfc3339(tollgate_origin::clock::now_ms());
    assert!(
        start <= now.as_str() && now.as_str() < end,
        "{start} ≤ {now} < {end}"
    );
}

async fn usage_needs_a_known_consumer(app: TestApp) {
    let response = app
        .admin(Method::GET, "/admin/v1/usage")
        .send()
        .await
        .unwrap();
    let problem = expect_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(problem["field"], "consumer_id");
    let response = app
        .admin(Method::GET, "/admin/v1/usage?consumer_id=con_nope")
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::NOT_FOUND).await;
}

crate::both_databases!(
    usage_covers_the_current_calendar_month,
    usage_needs_a_known_consumer
);
