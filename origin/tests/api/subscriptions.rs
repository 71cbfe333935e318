//! Subscriptions: trial ends from the plan, plan changes and cancellation, keys issued for
//! a subscription, and what the edge is told (key records and the snapshot's feed).

use crate::helpers::{expect_problem, read, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const DAY_MS: i64 = 86_400_000;

async fn plan(app: &TestApp, body: Value) -> String {
    let (status, plan) = app.post("/admin/v1/plans", body).await;
    assert_eq!(status, StatusCode::CREATED, "{plan}");
    plan["id"].as_str().unwrap().to_owned()
}

struct World {
    api: String,
    consumer: String,
    trial: String,
    paid: String,
    free: String,
}

async fn world(app: &TestApp) -> World {
    let api = app.create_api("/pets").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let consumer = app.create_consumer().await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let price = json!({"currency": "USD", "amount_minor": 1000, "interval": "month"});
    World {
        trial: plan(
            app,
            json!({"name": "Trial", "type": "trial", "trial_days": 7}),
        )
        .await,
        paid: plan(
            app,
            json!({"name": "Pro", "type": "paid", "trial_days": 14, "price": price}),
        )
        .await,
        free: plan(app, json!({"name": "Free", "type": "free"})).await,
        api,
        consumer,
    }
}

async fn subscribe(app: &TestApp, w: &World, plan: &str) -> Value {
    let body = json!({"consumer_id": w.consumer, "api_id": w.api, "plan_id": plan});
    let (status, sub) = app.post("/admin/v1/subscriptions", body).await;
    assert_eq!(status, StatusCode::CREATED, "{sub}");
    sub
}

fn ms(rfc3339: &Value) -> i64 {
    let text = rfc3339.as_str().unwrap();
    tollgate_origin::clock::parse_rfc3339(text).unwrap()
}

async fn key_record(app: &TestApp, key: &str) -> Value {
    let hash = tollgate_core::ApiKey::parse(key).unwrap().hash();
    let (status, record) = read(
        app.edge_get(&format!("/edge/v1/keys/{hash}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{record}");
    record
}

async fn trials_come_from_the_plan(app: TestApp) {
    let w = world(&app).await;
    let trial = subscribe(&app, &w, &w.trial).await;
    assert_eq!(trial["status"], "trialing");
    assert_eq!(
        ms(&trial["trial_ends_at"]) - ms(&trial["started_at"]),
        7 * DAY_MS
    );
    assert_eq!(
        trial["ends_at"], trial["trial_ends_at"],
        "a trial plan ends with its trial"
    );
    let paid = subscribe(&app, &w, &w.paid).await;
    assert_eq!(paid["status"], "trialing");
    assert_eq!(
        ms(&paid["trial_ends_at"]) - ms(&paid["started_at"]),
        14 * DAY_MS
    );
    assert!(
        paid["ends_at"].is_null(),
        "a paid plan goes on after its trial"
    );
    let free = subscribe(&app, &w, &w.free).await;
    assert_eq!(free["status"], "active");
    assert!(free["trial_ends_at"].is_null());
    let (_, fetched) = app
        .get(&format!(
            "/admin/v1/subscriptions/{}",
            free["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(fetched, free);
    let (_, list) = app
        .get(&format!(
            "/admin/v1/subscriptions?consumer_id={}",
            w.consumer
        ))
        .await;
    assert_eq!(list.as_array().unwrap().len(), 3);
}

async fn upgrade_downgrade_and_cancel(app: TestApp) {
    let w = world(&app).await;
    let sub = subscribe(&app, &w, &w.trial).await;
    let id = sub["id"].as_str().unwrap();
    let (status, key) = app
        .post("/admin/v1/keys", json!({"subscription_id": id}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{key}");
    assert_eq!(
        (&key["consumer_id"], &key["api_id"], &key["plan_id"]),
        (&json!(w.consumer), &json!(w.api), &json!(w.trial))
    );
    let key = key["key"].as_str().unwrap().to_owned();
    let record = key_record(&app, &key).await;
    assert_eq!(record["subscription_id"], id);
    assert_eq!(
        record["subscription_ends_at_ms"].as_i64(),
        Some(ms(&sub["ends_at"]))
    );

    // Upgrade: the trial ends, the subscription goes on, the key follows.
    let path = format!("/admin/v1/subscriptions/{id}/change-plan");
    let (status, up) = app.post(&path, json!({"plan_id": w.paid})).await;
    assert_eq!(status, StatusCode::OK, "{up}");
    assert_eq!(
        (up["status"].as_str(), up["plan_id"].as_str()),
        (Some("active"), Some(w.paid.as_str()))
    );
    assert!(up["ends_at"].is_null(), "{up}");
    let record = key_record(&app, &key).await;
    assert_eq!(record["plan_id"], w.paid);
    assert!(record.get("subscription_ends_at_ms").is_none(), "{record}");
    let feed = app.snapshot().await["subscriptions"].clone();
    assert_eq!(feed, json!([{"id": id, "plan_id": w.paid}]));

    // Downgrade to free; back to a trial plan is refused.
    let (status, down) = app.post(&path, json!({"plan_id": w.free})).await;
    assert_eq!(
        (status, down["plan_id"].as_str()),
        (StatusCode::OK, Some(w.free.as_str()))
    );
    let refused = app
        .admin(Method::POST, &path)
        .json(&json!({"plan_id": w.trial}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_problem(refused, StatusCode::UNPROCESSABLE_ENTITY).await["field"],
        "plan_id"
    );

    // Cancel: the key record and the feed say it has ended; cancel again changes nothing.
    let cancel = format!("/admin/v1/subscriptions/{id}/cancel");
    let (status, canceled) = app.post(&cancel, json!({})).await;
    assert_eq!(
        (status, canceled["status"].as_str()),
        (StatusCode::OK, Some("canceled"))
    );
    let (status, again) = app.post(&cancel, json!({})).await;
    assert_eq!((status, &again), (StatusCode::OK, &canceled));
    let ended = ms(&canceled["canceled_at"]);
    assert_eq!(
        key_record(&app, &key).await["subscription_ends_at_ms"].as_i64(),
        Some(ended)
    );
    let feed = app.snapshot().await["subscriptions"].clone();
    assert_eq!(feed[0]["ends_at_ms"].as_i64(), Some(ended));

    // An ended subscription takes no plan changes and no new keys.
    let changed = app
        .admin(Method::POST, &path)
        .json(&json!({"plan_id": w.paid}))
        .send()
        .await
        .unwrap();
    expect_problem(changed, StatusCode::CONFLICT).await;
    let issued = app
        .admin(Method::POST, "/admin/v1/keys")
        .json(&json!({"subscription_id": id}))
        .send()
        .await
        .unwrap();
    expect_problem(issued, StatusCode::CONFLICT).await;
    let (_, audit) = app.get("/admin/v1/audit?limit=100").await;
    let actions = audit.to_string();
    for action in [
        "subscription.create",
        "subscription.change_plan",
        "subscription.cancel",
    ] {
        assert!(actions.contains(action), "{action} not audited");
    }
}

async fn hostile_subscriptions_are_refused_by_member(app: TestApp) {
    let w = world(&app).await;
    let other_api = app.create_api("/other").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let only_pets = plan(
        &app,
        json!({"name": "Pets only", "entitlements": {"apis": [w.api]}}),
    )
    .await;
    let ok = |extra: Value| {
        let mut body = json!({"consumer_id": w.consumer, "api_id": w.api, "plan_id": w.free});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    for (body, status, field) in [
        (
            ok(json!({"consumer_id": "con_nope"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "consumer_id",
        ),
        (
            ok(json!({"api_id": "api_nope"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "api_id",
        ),
        (
            ok(json!({"plan_id": "plan_nope"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "plan_id",
        ),
        (
            ok(json!({"api_id": other_api, "plan_id": only_pets})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "plan_id",
        ),
        (
            ok(json!({"ends_at": 1})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "ends_at",
        ),
        (
            ok(json!({"ends_at": "soon"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "ends_at",
        ),
        (
            ok(json!({"status": "active"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "status",
        ),
        (
            json!({"consumer_id": w.consumer}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "api_id",
        ),
    ] {
        let response = app
            .admin(Method::POST, "/admin/v1/subscriptions")
            .json(&body)
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, status).await;
        assert_eq!(problem["field"], field, "{body} → {problem}");
    }
    let sub = subscribe(&app, &w, &w.free).await;
    for (body, field) in [
        (json!({"subscription_id": "sub_nope"}), "subscription_id"),
        (
            json!({"subscription_id": sub["id"], "api_id": w.api}),
            "subscription_id",
        ),
        (json!({"api_id": w.api}), "consumer_id"),
    ] {
        let response = app
            .admin(Method::POST, "/admin/v1/keys")
            .json(&body)
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(problem["field"], field, "{body} → {problem}");
    }
    for path in [
        "/admin/v1/subscriptions/sub_nope",
        "/admin/v1/subscriptions/sub_nope/cancel",
    ] {
        let method = if path.ends_with("cancel") {
            Method::POST
        } else {
            Method::GET
        };
        expect_problem(
            app.admin(method, path).send().await.unwrap(),
            StatusCode::NOT_FOUND,
        )
        .await;
    }
    let bad_json = app
        .admin(Method::POST, "/admin/v1/subscriptions")
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    expect_problem(bad_json, StatusCode::BAD_REQUEST).await;
}

async fn an_expiring_subscription_sets_its_keys_end(app: TestApp) {
    let w = world(&app).await;
    let end = tollgate_origin::clock::now_ms() + 60_000;
    let body =
        json!({"consumer_id": w.consumer, "api_id": w.api, "plan_id": w.free, "ends_at": end});
    let (status, sub) = app.post("/admin/v1/subscriptions", body).await;
    assert_eq!(status, StatusCode::CREATED, "{sub}");
    let (_, key) = app
        .post("/admin/v1/keys", json!({"subscription_id": sub["id"]}))
        .await;
    let record = key_record(&app, key["key"].as_str().unwrap()).await;
    assert_eq!(record["subscription_ends_at_ms"].as_i64(), Some(end));
    // Rotation keeps the subscription.
    let (status, rotated) = app
        .post(
            &format!("/admin/v1/keys/{}/rotate", key["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rotated}");
    assert_eq!(rotated["subscription_id"], sub["id"]);
    let (_, listed) = app
        .get(&format!(
            "/admin/v1/keys/{}",
            rotated["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(listed["subscription_id"], sub["id"]);
}

crate::both_databases!(
    trials_come_from_the_plan,
    upgrade_downgrade_and_cancel,
    hostile_subscriptions_are_refused_by_member,
    an_expiring_subscription_sets_its_keys_end,
);
