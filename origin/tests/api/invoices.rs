//! Invoices: a graduated plan and recorded usage give a draft with explained lines;
//! regenerating is idempotent; a mid-period plan change prorates; a trial costs nothing;
//! the life cycle refuses what it must with 409; credit notes are bounded; the printable
//! HTML escapes what users typed; roles and organisations are respected.

use crate::helpers::{expect_problem, TestApp};
use crate::tenancy::{member, org};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tollgate_origin::clock::parse_rfc3339;

const HOSTILE: &str = "<script>alert('x')</script> & Co";

fn at(text: &str) -> i64 {
    parse_rfc3339(text).unwrap()
}

async fn sql(app: &TestApp, statements: &[String]) {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database_url).await.unwrap();
    for statement in statements {
        sqlx::query(statement).execute(&pool).await.unwrap();
    }
    pool.close().await;
}

async fn created(app: &TestApp, path: &str, body: Value) -> String {
    let (status, value) = app.post(path, body).await;
    assert_eq!(status, StatusCode::CREATED, "{path}: {value}");
    value["id"].as_str().unwrap().to_owned()
}

struct Sub {
    api: String,
    consumer: String,
    sub: String,
    key: String,
}

/// A consumer subscribed to `plan` since September 2026, with a key.
async fn subscribed(app: &TestApp, base: &str, plan: &str) -> Sub {
    let api = app.create_api(base).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = json!({"name": HOSTILE, "email": "billing@acme.example"});
    let consumer = created(app, "/admin/v1/consumers", body).await;
    let body = json!({"consumer_id": consumer, "api_id": api, "plan_id": plan});
    let sub = created(app, "/admin/v1/subscriptions", body).await;
    let key = created(app, "/admin/v1/keys", json!({"subscription_id": sub})).await;
    let started = at("2026-09-01T00:00:00Z");
    sql(app, &[format!("UPDATE subscriptions SET started_at = {started}, trial_ends_at = NULL WHERE id = '{sub}'")]).await;
    Sub {
        api,
        consumer,
        sub,
        key,
    }
}

async fn usage(app: &TestApp, s: &Sub, rows: &[(&str, i64)]) {
    let statements: Vec<String> = rows
        .iter()
        .map(|(when, n)| {
            format!(
                "INSERT INTO usage_rollups (granularity, bucket_start, consumer_id, key_id, api_id, plan_id, \
                 requests, billable, bytes_in, bytes_out, latency_ms_sum, latency_ms_max) \
                 VALUES ('hour', {}, '{}', '{}', '{}', '', {n}, {n}, 0, 0, 0, 0)",
                at(when), s.consumer, s.key, s.api
            )
        })
        .collect();
    sql(app, &statements).await;
}

async fn graduated_plan(app: &TestApp) -> String {
    let price = json!({
        "currency": "USD", "amount_minor": 1000, "interval": "month", "included_units": 1000,
        "usage_model": "graduated",
        "tiers": [
            {"up_to": 10000, "unit_price_minor": 2, "unit_size": 10},
            {"unit_price_minor": 1, "unit_size": 10}
        ]
    });
    created(
        app,
        "/admin/v1/plans",
        json!({"name": "Pro", "type": "paid", "price": price}),
    )
    .await
}

async fn generate(app: &TestApp, consumer: &str) -> Value {
    let body = json!({"consumer_id": consumer, "period_start": "2026-10-01T00:00:00Z"});
    let (status, invoice) = app.post("/admin/v1/invoices/generate", body).await;
    assert_eq!(status, StatusCode::OK, "{invoice}");
    invoice
}

fn explanations(invoice: &Value) -> Vec<String> {
    invoice["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["explanation"].as_str().unwrap().to_owned())
        .collect()
}

fn amounts(invoice: &Value) -> Vec<i64> {
    invoice["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["amount_minor"].as_i64().unwrap())
        .collect()
}

async fn a_graduated_plan_bills_recorded_usage(app: TestApp) {
    let plan = graduated_plan(&app).await;
    let s = subscribed(&app, "/pets", &plan).await;
    // 12,500 requests in October; September and November are other periods.
    usage(
        &app,
        &s,
        &[
            ("2026-10-05T10:00:00Z", 6000),
            ("2026-10-31T23:00:00Z", 6500),
            ("2026-09-30T23:00:00Z", 77),
            ("2026-11-01T00:00:00Z", 99),
        ],
    )
    .await;
    let invoice = generate(&app, &s.consumer).await;
    assert_eq!(invoice["status"], "draft");
    assert_eq!(invoice["currency"], "USD");
    assert_eq!(
        (
            invoice["period_start"].as_str(),
            invoice["period_end"].as_str()
        ),
        (Some("2026-10-01T00:00:00Z"), Some("2026-11-01T00:00:00Z"))
    );
    assert_eq!(
        explanations(&invoice),
        [
            "Pro flat fee: $10.00",
            "12,500 requests: first 1,000 included, 11,500 billable, graduated; tier 1 (1–10,000): 10,000 × $0.002 = $20.00",
            "tier 2 (10,001 and above): 1,500 × $0.001 = $1.50",
        ]
    );
    assert_eq!(amounts(&invoice), [1000, 2000, 150]);
    assert_eq!(
        (
            invoice["subtotal_minor"].as_i64(),
            invoice["total_minor"].as_i64()
        ),
        (Some(3150), Some(3150))
    );
    assert_eq!(invoice["lines"][1]["subscription_id"], json!(s.sub));

    // Regenerating gives the same draft; new usage refreshes it.
    let again = generate(&app, &s.consumer).await;
    assert_eq!(
        (&again["id"], &again["lines"]),
        (&invoice["id"], &invoice["lines"])
    );
    usage(&app, &s, &[("2026-10-06T10:00:00Z", 500)]).await;
    let refreshed = generate(&app, &s.consumer).await;
    assert_eq!(refreshed["id"], invoice["id"]);
    assert_eq!(refreshed["subtotal_minor"], 3200);
    let (_, list) = app
        .get(&format!("/admin/v1/invoices?consumer_id={}", s.consumer))
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    let (status, fetched) = app
        .get(&format!(
            "/admin/v1/invoices/{}",
            invoice["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        (status, &fetched["lines"]),
        (StatusCode::OK, &refreshed["lines"])
    );
}

async fn a_mid_period_plan_change_is_prorated(app: TestApp) {
    let price =
        |amount: i64| json!({"currency": "USD", "amount_minor": amount, "interval": "month"});
    let basic = created(
        &app,
        "/admin/v1/plans",
        json!({"name": "Basic", "type": "paid", "price": price(3100)}),
    )
    .await;
    let plus = created(
        &app,
        "/admin/v1/plans",
        json!({"name": "Plus", "type": "paid", "price": price(6200)}),
    )
    .await;
    let s = subscribed(&app, "/pets", &basic).await;
    let (status, changed) = app
        .post(
            &format!("/admin/v1/subscriptions/{}/change-plan", s.sub),
            json!({"plan_id": plus}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    // The change was recorded; move it to 11 October (10 of 31 days on Basic).
    let when = at("2026-10-11T00:00:00Z");
    sql(
        &app,
        &[format!(
            "UPDATE subscription_plan_changes SET changed_at = {when} WHERE subscription_id = '{}'",
            s.sub
        )],
    )
    .await;
    let invoice = generate(&app, &s.consumer).await;
    assert_eq!(
        explanations(&invoice),
        [
            "Basic flat fee $31.00 for 10 of 31 days, prorated: $10.00",
            "Plus flat fee $62.00 for 21 of 31 days, prorated: $42.00",
        ]
    );
    assert_eq!(invoice["subtotal_minor"], 5200);
    assert_eq!(invoice["lines"][0]["plan_id"], json!(basic));
    assert_eq!(invoice["lines"][1]["plan_id"], json!(plus));
}

async fn a_trial_costs_nothing(app: TestApp) {
    let plan = graduated_plan(&app).await;
    let s = subscribed(&app, "/pets", &plan).await;
    let trial_end = at("2026-11-03T00:00:00Z");
    sql(
        &app,
        &[format!(
            "UPDATE subscriptions SET trial_ends_at = {trial_end} WHERE id = '{}'",
            s.sub
        )],
    )
    .await;
    usage(&app, &s, &[("2026-10-05T10:00:00Z", 50_000)]).await;
    let invoice = generate(&app, &s.consumer).await;
    assert_eq!(amounts(&invoice), [0]);
    assert_eq!(invoice["lines"][0]["kind"], "trial");
    assert_eq!(invoice["total_minor"], 0);
    // A trial ending mid-month bills only what follows it.
    let trial_end = at("2026-10-16T00:00:00Z");
    sql(
        &app,
        &[format!(
            "UPDATE subscriptions SET trial_ends_at = {trial_end} WHERE id = '{}'",
            s.sub
        )],
    )
    .await;
    usage(&app, &s, &[("2026-10-20T10:00:00Z", 1500)]).await;
    let invoice = generate(&app, &s.consumer).await;
    // Flat $10.00 × 16/31 = 516.13 → 516; allowance 1,000 × 16/31 = 516.1 → 516 requests.
    assert_eq!(amounts(&invoice), [516, 197]);
    assert!(
        explanations(&invoice)[1]
            .starts_with("1,500 requests: first 516 included for 16 of 31 days, 984 billable"),
        "{invoice}"
    );
}

async fn the_life_cycle_and_credit_notes_are_enforced(app: TestApp) {
    let plan = graduated_plan(&app).await;
    let s = subscribed(&app, "/pets", &plan).await;
    usage(&app, &s, &[("2026-10-05T10:00:00Z", 12_500)]).await;
    let invoice = generate(&app, &s.consumer).await;
    let id = invoice["id"].as_str().unwrap();
    let call = |action: &str| format!("/admin/v1/invoices/{id}/{action}");
    let conflict = |app: &TestApp, path: String, body: Value| {
        let request = app.admin(Method::POST, &path).json(&body);
        async move {
            expect_problem(request.send().await.unwrap(), StatusCode::CONFLICT).await["detail"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    assert!(conflict(&app, call("pay"), json!({}))
        .await
        .contains("finalize it before"));
    let credit = call("credit-notes");
    assert!(conflict(
        &app,
        credit.clone(),
        json!({"amount_minor": 1, "reason": "x"})
    )
    .await
    .contains("draft"));
    let (status, done) = app.post(&call("finalize"), json!({})).await;
    assert_eq!(
        (status, done["status"].as_str()),
        (StatusCode::OK, Some("finalized")),
        "{done}"
    );
    assert!(done["finalized_at"].is_string());
    assert!(conflict(&app, call("finalize"), json!({}))
        .await
        .contains("only a draft"));
    // Finalized invoices do not change, even when usage arrives late.
    usage(&app, &s, &[("2026-10-07T10:00:00Z", 5000)]).await;
    let body = json!({"consumer_id": s.consumer, "period_start": "2026-10-01T00:00:00Z"});
    assert!(conflict(&app, "/admin/v1/invoices/generate".into(), body)
        .await
        .contains("credit note"));
    // Credit notes: at most the 3,150 that remain, over several notes.
    assert!(conflict(
        &app,
        credit.clone(),
        json!({"amount_minor": 3151, "reason": "goodwill"})
    )
    .await
    .contains("3150"));
    let (status, credited) = app
        .post(&credit, json!({"amount_minor": 1000, "reason": "outage"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{credited}");
    assert_eq!(
        (
            credited["credited_minor"].as_i64(),
            credited["total_minor"].as_i64()
        ),
        (Some(1000), Some(2150))
    );
    assert!(conflict(
        &app,
        credit.clone(),
        json!({"amount_minor": 2151, "reason": "again"})
    )
    .await
    .contains("2150"));
    for bad in [
        json!({"amount_minor": 0, "reason": "x"}),
        json!({"amount_minor": 5, "reason": " "}),
        json!([5, "x"]),
    ] {
        let response = app
            .admin(Method::POST, &credit)
            .json(&bad)
            .send()
            .await
            .unwrap();
        expect_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let (status, paid) = app.post(&call("pay"), json!({})).await;
    assert_eq!(
        (status, paid["status"].as_str()),
        (StatusCode::OK, Some("paid"))
    );
    let (status, _) = app
        .post(&credit, json!({"amount_minor": 2150, "reason": "refund"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(conflict(&app, call("void"), json!({}))
        .await
        .contains("paid"));
    // A draft can be voided; a void invoice can be neither paid nor credited.
    let other = subscribed(&app, "/cats", &plan).await;
    let draft = generate(&app, &other.consumer).await;
    let void = format!("/admin/v1/invoices/{}/void", draft["id"].as_str().unwrap());
    assert_eq!(app.post(&void, json!({})).await.1["status"], "void");
    assert!(conflict(&app, void.replace("/void", "/pay"), json!({}))
        .await
        .contains("is void"));
    let credit_void = void.replace("/void", "/credit-notes");
    assert!(
        conflict(&app, credit_void, json!({"amount_minor": 1, "reason": "x"}))
            .await
            .contains("nothing to credit")
    );
    let response = app
        .admin(Method::POST, "/admin/v1/invoices/inv_nope/finalize")
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::NOT_FOUND).await;
    for bad in [
        json!({"consumer_id": s.consumer, "period_start": "October"}),
        json!({"consumer_id": ""}),
        json!(["x"]),
    ] {
        let response = app
            .admin(Method::POST, "/admin/v1/invoices/generate")
            .json(&bad)
            .send()
            .await
            .unwrap();
        expect_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let response = app
        .admin(Method::POST, "/admin/v1/invoices/generate")
        .json(&json!({"consumer_id": "con_nope"}))
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::NOT_FOUND).await;
}

async fn the_printable_invoice_escapes_user_text(app: TestApp) {
    let plan = graduated_plan(&app).await;
    let s = subscribed(&app, "/pets", &plan).await;
    let invoice = generate(&app, &s.consumer).await;
    let response = app
        .admin(
            Method::GET,
            &format!(
                "/admin/v1/invoices/{}/html",
                invoice["id"].as_str().unwrap()
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let page = response.text().await.unwrap();
    assert!(!page.contains("<script>"), "{page}");
    assert!(
        page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Co"),
        "{page}"
    );
    assert!(
        page.contains("@media print") && page.contains("Pro flat fee: $10.00"),
        "{page}"
    );
}

async fn invoices_follow_roles_and_organisations(app: TestApp) {
    let (a, b) = (org(&app, "A").await, org(&app, "B").await);
    let billing = member(&app, &a, "b@a.example", "billing").await;
    let owner = member(&app, &a, "own@a.example", "owner").await;
    let developer = member(&app, &a, "d@a.example", "developer").await;
    let outsider = member(&app, &b, "o@b.example", "owner").await;
    let consumer = owner
        .post(
            &app,
            "/admin/v1/consumers",
            json!({"name": "A's", "email": "c@a.example"}),
        )
        .await;
    let generate = json!({"consumer_id": consumer["id"], "period_start": "2026-10-01T00:00:00Z"});
    let invoice = billing
        .post(&app, "/admin/v1/invoices/generate", generate.clone())
        .await;
    let id = invoice["id"].as_str().unwrap();
    assert_eq!(invoice["currency"], "XXX", "nothing is priced");
    let (status, _) = developer
        .call(&app, Method::GET, "/admin/v1/invoices", None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, list) = billing
        .call(&app, Method::GET, "/admin/v1/invoices", None)
        .await;
    assert_eq!(
        (status, list.as_array().unwrap().len()),
        (StatusCode::OK, 1)
    );
    let (status, list) = outsider
        .call(&app, Method::GET, "/admin/v1/invoices", None)
        .await;
    assert_eq!(
        (status, list.as_array().unwrap().len()),
        (StatusCode::OK, 0)
    );
    for (method, path) in [
        (Method::GET, format!("/admin/v1/invoices/{id}")),
        (Method::GET, format!("/admin/v1/invoices/{id}/html")),
        (Method::POST, format!("/admin/v1/invoices/{id}/finalize")),
    ] {
        let (status, body) = outsider.call(&app, method, &path, Some(json!({}))).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
    }
    let (status, _) = outsider
        .call(
            &app,
            Method::POST,
            "/admin/v1/invoices/generate",
            Some(generate),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

crate::both_databases!(
    a_graduated_plan_bills_recorded_usage,
    a_mid_period_plan_change_is_prorated,
    a_trial_costs_nothing,
    the_life_cycle_and_credit_notes_are_enforced,
    the_printable_invoice_escapes_user_text,
    invoices_follow_roles_and_organisations
);
