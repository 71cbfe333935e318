//! Plan types, prices, trials and entitlements: what is stored, what the snapshot carries,
//! and hostile input refused with a 422 naming the member.

use crate::helpers::{expect_problem, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn plan(app: &TestApp, body: Value) -> Value {
    let (status, plan) = app.post("/admin/v1/plans", body).await;
    assert_eq!(status, StatusCode::CREATED, "{plan}");
    plan
}

async fn terms_are_stored_and_shown(app: TestApp) {
    let api = app.create_api("/pets").await;
    let paid = plan(
        &app,
        json!({
            "name": "Pro", "type": "paid", "trial_days": 14,
            "price": {"currency": "EUR", "amount_minor": 4900, "interval": "month",
                      "unit_price_minor": 5, "unit_size": 1000, "included_units": 100000},
            "quota": {"requests": 100000, "period": "month", "enforcement": "soft"},
            "entitlements": {"apis": [api["id"]], "versions": [2, 1, 2],
                             "operations": ["get /pets/{petId}", "listPets"], "features": ["webhooks", "bulk-export"]}
        }),
    )
    .await;
    assert_eq!(paid["type"], "paid");
    assert_eq!(paid["trial_days"], 14);
    assert_eq!(paid["price"]["amount_minor"], 4900);
    assert_eq!(paid["price"]["unit_size"], 1000);
    assert_eq!(paid["quota"]["enforcement"], "soft");
    let e = &paid["entitlements"];
    assert_eq!(e["versions"], json!([1, 2]), "sorted and deduplicated");
    assert_eq!(e["operations"], json!(["GET /pets/{petId}", "listPets"]));
    assert_eq!(e["features"], json!(["bulk-export", "webhooks"]));
    let (_, fetched) = app
        .get(&format!("/admin/v1/plans/{}", paid["id"].as_str().unwrap()))
        .await;
    assert_eq!(fetched, paid);

    let free = plan(&app, json!({"name": "Free", "type": "free"})).await;
    assert!(free["price"].is_null() && free["entitlements"].is_null());
    let legacy = plan(&app, json!({"name": "Old"})).await;
    assert_eq!(legacy["type"], "custom");

    let snapshot = app.snapshot().await;
    let entries = snapshot["entitlements"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "only plans with entitlements: {snapshot}");
    assert_eq!(entries[0]["plan_id"], paid["id"]);
    assert_eq!(entries[0]["features"], json!(["bulk-export", "webhooks"]));
    // No published version declares `listPets` yet: only the route rule is there.
    assert_eq!(
        entries[0]["operations"],
        json!([{"method": "GET", "path": "/pets/{petId}"}])
    );
}

async fn hostile_terms_are_422_naming_the_member(app: TestApp) {
    let eur = |amount: i64| json!({"currency": "EUR", "amount_minor": amount, "interval": "month"});
    for (body, field) in [
        (json!({"name": "T", "type": "trial"}), "trial_days"),
        (
            json!({"name": "T", "type": "trial", "trial_days": 0}),
            "trial_days",
        ),
        (
            json!({"name": "T", "type": "trial", "trial_days": 366}),
            "trial_days",
        ),
        (
            json!({"name": "F", "type": "free", "trial_days": 3}),
            "trial_days",
        ),
        (
            json!({"name": "F", "type": "free", "price": eur(1)}),
            "price",
        ),
        (
            json!({"name": "T", "type": "trial", "trial_days": 3, "price": eur(1)}),
            "price",
        ),
        (json!({"name": "P", "type": "paid"}), "price"),
        (
            json!({"name": "P", "type": "paid", "price": eur(0)}),
            "price.amount_minor",
        ),
        (
            json!({"name": "P", "type": "paid", "price": eur(-1)}),
            "price.amount_minor",
        ),
        (
            json!({"name": "P", "type": "paid", "price": eur(10_000_000_000_001)}),
            "price.amount_minor",
        ),
        (
            json!({"name": "P", "type": "paid", "price": {"currency": "euro", "amount_minor": 1, "interval": "month"}}),
            "price.currency",
        ),
        (
            json!({"name": "P", "type": "paid", "price": {"currency": "EUR", "amount_minor": 1, "interval": "fortnight"}}),
            "price.interval",
        ),
        (
            json!({"name": "P", "type": "paid", "price": {"currency": "EUR", "amount_minor": 1, "interval": "month", "unit_size": 10}}),
            "price.unit_size",
        ),
        (json!({"name": "P", "type": "gold"}), "type"),
        (
            json!({"name": "P", "entitlements": {"apis": []}}),
            "entitlements.apis",
        ),
        (
            json!({"name": "P", "entitlements": {"apis": ["api_nope"]}}),
            "entitlements.apis",
        ),
        (
            json!({"name": "P", "entitlements": {"versions": [-1]}}),
            "entitlements.versions",
        ),
        (
            json!({"name": "P", "entitlements": {"operations": ["FETCH /pets"]}}),
            "entitlements.operations",
        ),
        (
            json!({"name": "P", "entitlements": {"operations": ["GET pets/{id"]}}),
            "entitlements.operations",
        ),
        (
            json!({"name": "P", "entitlements": {"operations": ["drop table"]}}),
            "entitlements.operations",
        ),
        (
            json!({"name": "P", "entitlements": {"features": ["Bad Feature\r\nx-evil: 1"]}}),
            "entitlements.features",
        ),
        (
            json!({"name": "P", "entitlements": {"scopes": ["x"]}}),
            "entitlements",
        ),
    ] {
        let response = app
            .admin(Method::POST, "/admin/v1/plans")
            .json(&body)
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(
            problem["field"]
                .as_str()
                .is_some_and(|f| f.starts_with(field)),
            "{body} → {problem}"
        );
    }
}

crate::both_databases!(
    terms_are_stored_and_shown,
    hostile_terms_are_422_naming_the_member
);
