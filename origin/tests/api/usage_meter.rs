//! Quota alerts (80 % / 100 % of a plan's quota, once each, delivered as signed webhooks
//! to the consumer's organisation and listed per tenant) and the reconciliation report
//! (edge events = ledger = roll-ups = invoice), with careless and hostile queries.

use crate::helpers::{expect_problem, now_secs, read, TestApp};
use crate::tenancy::{member, org};
use crate::webhooks::{delivered, receiver, verifies};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;
use tollgate_core::edge_auth::{sign_edge_request, EDGE_SIGNATURE_HEADER};
use tollgate_core::usage::time::format_rfc3339_ms;

fn now_ms() -> i64 {
    tollgate_origin::clock::now_ms()
}

/// A usage event of `key` on `plan` for `consumer` on `api`.
pub(crate) fn event(id: &str, ids: (&str, &str, &str, &str), status: u16, time_ms: i64) -> Value {
    let (consumer, key, plan, api) = ids;
    json!({
        "specversion": "1.0", "id": id, "source": "tollgate-edge/test",
        "type": "dev.tollgate.request", "time": format_rfc3339_ms(time_ms),
        "data": {"api_id": api, "consumer_id": consumer, "key_id": key, "plan_id": plan,
                 "status": status, "operation": "GET /x", "meters": {"tokens": 3}}
    })
}

pub(crate) async fn post_events(app: &TestApp, events: &Value) -> Value {
    let sig = sign_edge_request(&app.edge_secret, now_secs(), "POST", "/edge/v1/usage");
    let response = app
        .client
        .post(app.url("/edge/v1/usage"))
        .header(EDGE_SIGNATURE_HEADER, sig)
        .json(events)
        .send()
        .await
        .unwrap();
    let (status, body) = read(response).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn batch(prefix: &str, range: std::ops::Range<u32>, ids: (&str, &str, &str, &str)) -> Value {
    let now = now_ms();
    Value::Array(
        range
            .map(|i| event(&format!("{prefix}-{i}"), ids, 200, now))
            .collect(),
    )
}

fn kinds(alerts: &Value) -> Vec<String> {
    alerts["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["type"].as_str().unwrap().to_owned())
        .collect()
}

async fn quota_alerts_fire_once_and_reach_the_organisations_webhook(app: TestApp) {
    let (a, b) = (org(&app, "A").await, org(&app, "B").await);
    let alice = member(&app, &a, "alice@a.example", "owner").await;
    let bob = member(&app, &b, "bob@b.example", "owner").await;
    let (url, seen) = receiver(0).await;
    let hook = alice
        .post(
            &app,
            "/admin/v1/webhooks",
            json!({"url": url, "events": ["quota.*"]}),
        )
        .await;
    let secret = hook["secret"].as_str().unwrap().to_owned();
    let plan = alice
        .post(
            &app,
            "/admin/v1/plans",
            json!({"name": "ten", "quota": {"requests": 10, "period": "month"}}),
        )
        .await;
    let consumer = alice
        .post(
            &app,
            "/admin/v1/consumers",
            json!({"name": "Quota user", "email": "q@a.example"}),
        )
        .await;
    let (con, plan) = (
        consumer["id"].as_str().unwrap(),
        plan["id"].as_str().unwrap(),
    );
    let ids = (con, "key_q", plan, "api_q");
    let alerts_path = format!("/admin/v1/usage/alerts?consumer_id={con}");

    post_events(&app, &batch("q", 0..7, ids)).await;
    // Refusals and failures are not billable and do not use the quota.
    let now = now_ms();
    post_events(
        &app,
        &json!([event("q-429", ids, 429, now), event("q-502", ids, 502, now)]),
    )
    .await;
    let (status, alerts) = alice.call(&app, Method::GET, &alerts_path, None).await;
    assert_eq!(status, StatusCode::OK, "{alerts}");
    assert_eq!(
        kinds(&alerts),
        Vec::<String>::new(),
        "7 of 10 is below 80 %"
    );

    post_events(&app, &batch("q", 7..8, ids)).await;
    // Redelivered, sequentially and concurrently: no second warning.
    post_events(&app, &batch("q", 0..8, ids)).await;
    let posts: Vec<_> = (0..20)
        .map(|_| {
            let (app, events) = (app.clone(), batch("q", 5..8, ids));
            tokio::spawn(async move { post_events(&app, &events).await })
        })
        .collect();
    for p in posts {
        p.await.unwrap();
    }
    let (_, alerts) = alice.call(&app, Method::GET, &alerts_path, None).await;
    assert_eq!(kinds(&alerts), ["quota.warning"], "{alerts}");
    assert_eq!(alerts["alerts"][0]["used"], 8);
    assert_eq!(alerts["alerts"][0]["quota"], 10);
    assert_eq!(alerts["alerts"][0]["limit_id"], format!("{plan}.quota"));

    // Twenty new events at once, in concurrent batches: one exhaustion alert.
    let posts: Vec<_> = (0..4)
        .map(|i| {
            let (app, events) = (app.clone(), batch("q", 10 + i * 5..15 + i * 5, ids));
            tokio::spawn(async move { post_events(&app, &events).await })
        })
        .collect();
    for p in posts {
        p.await.unwrap();
    }
    let (_, alerts) = alice.call(&app, Method::GET, &alerts_path, None).await;
    assert_eq!(
        kinds(&alerts),
        ["quota.exhausted", "quota.warning"],
        "{alerts}"
    );

    // Signed webhooks to the organisation's endpoint, one per alert.
    let got = delivered(&seen, 2).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let got_after = seen.lock().unwrap().clone();
    assert_eq!(got_after.len(), got.len(), "no further deliveries");
    let types: Vec<String> = got
        .iter()
        .map(|e| {
            assert!(verifies(&secret, e), "signed: {e:?}");
            let body: Value = serde_json::from_str(&e.3).unwrap();
            assert_eq!(body["data"]["after"]["consumer_id"], con);
            body["type"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(types, ["quota.warning", "quota.exhausted"]);

    // Another organisation sees neither the alerts nor the consumer.
    let (status, theirs) = bob
        .call(&app, Method::GET, "/admin/v1/usage/alerts", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(kinds(&theirs), Vec::<String>::new());
    let (status, _) = bob.call(&app, Method::GET, &alerts_path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The platform operator sees them.
    let (_, all) = app.get("/admin/v1/usage/alerts").await;
    assert_eq!(kinds(&all).len(), 2);

    for (bad, status) in [
        ("limit=0", StatusCode::UNPROCESSABLE_ENTITY),
        ("limit=100000", StatusCode::UNPROCESSABLE_ENTITY),
        ("limit=-1", StatusCode::UNPROCESSABLE_ENTITY),
        ("limit=ten", StatusCode::BAD_REQUEST),
        ("consumer_id=con_nope", StatusCode::NOT_FOUND),
    ] {
        let response = app
            .admin(Method::GET, &format!("/admin/v1/usage/alerts?{bad}"))
            .send()
            .await
            .unwrap();
        expect_problem(response, status).await;
    }
}

async fn created(app: &TestApp, path: &str, body: Value) -> String {
    let (status, value) = app.post(path, body).await;
    assert_eq!(status, StatusCode::CREATED, "{path}: {value}");
    value["id"].as_str().unwrap().to_owned()
}

fn day_rows(report: &Value) -> Vec<(i64, i64, i64, i64, i64)> {
    report["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let n = |f: &str| r[f].as_i64().unwrap();
            (
                n("events_received"),
                n("billable_units"),
                n("rolled_up_units"),
                n("invoiced_units"),
                n("difference"),
            )
        })
        .collect()
}

async fn reconciliation_agrees_from_edge_events_to_the_invoice(app: TestApp) {
    let api = app.create_api("/rec").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let price =
        json!({"currency": "USD", "amount_minor": 0, "interval": "month", "unit_price_minor": 2});
    let plan = created(
        &app,
        "/admin/v1/plans",
        json!({"name": "metered", "type": "paid", "price": price}),
    )
    .await;
    let con = created(
        &app,
        "/admin/v1/consumers",
        json!({"name": "Rec", "email": "rec@example.com"}),
    )
    .await;
    let body = json!({"consumer_id": con, "api_id": api, "plan_id": plan});
    let sub = created(&app, "/admin/v1/subscriptions", body).await;
    let key = created(&app, "/admin/v1/keys", json!({"subscription_id": sub})).await;
    // The subscription starts mid-hour: the invoice counts that hour's calls from the ledger.
    let ids = (con.as_str(), key.as_str(), plan.as_str(), api.as_str());
    let now = now_ms();
    let mut events: Vec<Value> = (0..25)
        .map(|i| event(&format!("r-{i}"), ids, 200, now))
        .collect();
    events.extend((0..4).map(|i| event(&format!("r-x{i}"), ids, 503, now)));
    post_events(&app, &Value::Array(events.clone())).await;
    post_events(&app, &Value::Array(events)).await; // redelivered: no change

    let day = now - now.rem_euclid(86_400_000);
    let path = format!(
        "/admin/v1/usage/reconciliation?consumer_id={con}&from={}&to={}",
        format_rfc3339_ms(day),
        format_rfc3339_ms(day + 86_400_000)
    );
    let (status, report) = app.get(&path).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(day_rows(&report), [(29, 25, 25, 0, 25)], "not invoiced yet");
    assert_eq!(report["days"][0]["key_id"], key);

    let (status, invoice) = app
        .post("/admin/v1/invoices/generate", json!({"consumer_id": con}))
        .await;
    assert_eq!(status, StatusCode::OK, "{invoice}");
    let (_, report) = app.get(&path).await;
    assert_eq!(day_rows(&report), [(29, 25, 25, 25, 0)], "{report}");
    let inv = &report["invoices"][0];
    assert_eq!(
        (
            inv["ledger_units"].as_i64(),
            inv["billed_units"].as_i64(),
            inv["difference"].as_i64()
        ),
        (Some(25), Some(25), Some(0)),
        "{report}"
    );
    assert_eq!(inv["invoice_id"], invoice["id"]);

    // Usage after the draft was made shows as a difference until it is refreshed.
    post_events(&app, &json!([event("r-late", ids, 200, now_ms())])).await;
    let (_, report) = app.get(&path).await;
    assert_eq!(report["invoices"][0]["difference"], 1, "{report}");
    app.post("/admin/v1/invoices/generate", json!({"consumer_id": con}))
        .await;
    let (_, report) = app.get(&path).await;
    assert_eq!(report["invoices"][0]["difference"], 0, "{report}");
    assert_eq!(day_rows(&report), [(30, 26, 26, 26, 0)], "{report}");

    for (bad, status) in [
        ("", StatusCode::UNPROCESSABLE_ENTITY),
        (
            "from=2026-11-01T00:00:00Z",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "from=yesterday&to=2026-11-01T00:00:00Z",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "from=2020-01-01T00:00:00Z&to=2026-11-01T00:00:00Z",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z&consumer_id=con_nope",
            StatusCode::NOT_FOUND,
        ),
        (
            "from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z&from=x",
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let response = app
            .admin(
                Method::GET,
                &format!("/admin/v1/usage/reconciliation?{bad}"),
            )
            .send()
            .await
            .unwrap();
        expect_problem(response, status).await;
    }
}

async fn meters_count_unique_values_and_bucket_by_billing_period(app: TestApp) {
    let con = created(
        &app,
        "/admin/v1/consumers",
        json!({"name": "Meters", "email": "m@example.com"}),
    )
    .await;
    let now = now_ms();
    let mut events = Vec::new();
    for i in 0..12u32 {
        let key = format!("key_{}", i % 3);
        let mut e = event(&format!("m-{i}"), (&con, &key, "plan_m", "api_m"), 200, now);
        e["data"]["operation"] = json!(format!("GET /op{}", i % 4));
        e["data"]["meters"] = json!({"tokens": i});
        events.push(e);
    }
    post_events(&app, &Value::Array(events)).await;
    let (month_start, _) = tollgate_origin::clock::calendar_month(now);
    let path = format!(
        "/admin/v1/usage/aggregates?consumer_id={con}&granularity=period&unique=key&from={}",
        format_rfc3339_ms(now - 3_600_000)
    );
    let (status, agg) = app.get(&path).await;
    assert_eq!(status, StatusCode::OK, "{agg}");
    assert_eq!(agg["granularity"], "period");
    let rows = agg["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{agg}");
    assert_eq!(rows[0]["bucket_start"], format_rfc3339_ms(month_start));
    assert_eq!(rows[0]["requests"], 12);
    assert_eq!(rows[0]["unique"], 3, "three keys");
    assert_eq!(rows[0]["meters"]["tokens"], json!({"sum": 66, "max": 11}));

    let (_, agg) = app
        .get(&format!(
            "/admin/v1/usage/aggregates?consumer_id={con}&group_by=key&unique=operation"
        ))
        .await;
    let uniques: Vec<(String, i64)> = agg["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["group"].as_str().unwrap().to_owned(),
                r["unique"].as_i64().unwrap(),
            )
        })
        .collect();
    // key_0 has calls 0, 3, 6, 9 → operations 0, 3, 2, 1: four distinct.
    assert_eq!(
        uniques,
        [
            ("key_0".to_owned(), 4),
            ("key_1".to_owned(), 4),
            ("key_2".to_owned(), 4)
        ],
        "{agg}"
    );
    for bad in ["unique=plan", "unique=", "granularity=week"] {
        let response = app
            .admin(
                Method::GET,
                &format!("/admin/v1/usage/aggregates?consumer_id={con}&{bad}"),
            )
            .send()
            .await
            .unwrap();
        expect_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
}

crate::both_databases!(
    meters_count_unique_values_and_bucket_by_billing_period,
    quota_alerts_fire_once_and_reach_the_organisations_webhook,
    reconciliation_agrees_from_edge_events_to_the_invoice
);
