//! The catalog's SLO status from the usage ledger: 5xx answers ingested through
//! `POST /edge/v1/usage` become the availability, error budget and status shown for the
//! API on `/portal/apis` and `/portal/apis/{id}`; 4xx answers, other APIs' traffic and
//! day roll-ups older than 30 days do not count.

use crate::helpers::{now_secs, read, TestApp};
use crate::versions::{api_id, testdata, upload};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tollgate_core::edge_auth::{sign_edge_request, EDGE_SIGNATURE_HEADER};
use tollgate_core::usage::time::format_rfc3339_ms;

fn now_ms() -> i64 {
    tollgate_origin::clock::now_ms()
}

fn event(id: String, api: &str, status: u16, time_ms: i64) -> Value {
    json!({
        "specversion": "1.0", "id": id, "source": "tollgate-edge/test",
        "type": "dev.tollgate.request", "time": format_rfc3339_ms(time_ms),
        "datacontenttype": "application/json",
        "data": {"api_id": api, "consumer_id": "con_slo", "key_id": "key_slo", "status": status,
                 "billable": status < 400, "bytes_in": 10, "bytes_out": 20, "latency_ms": 5}
    })
}

/// Ingests `events` through the edge's usage endpoint, in batches of 1,000.
async fn ingest(app: &TestApp, events: Vec<Value>) {
    for batch in events.chunks(1_000) {
        let sig = sign_edge_request(&app.edge_secret, now_secs(), "POST", "/edge/v1/usage");
        let res = app
            .client
            .post(app.url("/edge/v1/usage"))
            .header(EDGE_SIGNATURE_HEADER, sig)
            .header("content-type", "application/json")
            .body(Value::Array(batch.to_vec()).to_string())
            .send()
            .await
            .unwrap();
        let (status, body) = read(res).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            body["accepted"].as_u64(),
            Some(batch.len() as u64),
            "{body}"
        );
    }
}

async fn page(app: &TestApp, path: &str) -> String {
    let res = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    res.text().await.unwrap()
}

/// The SLO paragraph of a page (the catalog has one API here).
fn slo_of(html: &str) -> String {
    let at = html.find("<p class=\"slo\">").expect("an SLO paragraph");
    let end = at + html[at..].find("</p>").unwrap();
    html[at..end]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

async fn published(app: &TestApp) -> String {
    let api = api_id(app, "/pets").await;
    let spec = testdata("openapi/v3.0/petstore.yaml");
    let res = upload(app, &api, "?version=1.0.0", "application/yaml", spec).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let (status, _) = app
        .post(
            &format!("/admin/v1/apis/{api}/versions/1.0.0/publish"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    api
}

async fn sql(app: &TestApp, statement: &str) {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database_url).await.unwrap();
    sqlx::query(statement).execute(&pool).await.unwrap();
    pool.close().await;
}

async fn catalog_shows_availability_budget_and_status_from_ingested_usage(app: TestApp) {
    let api = published(&app).await;
    let both = |html: &str, want: &[&str]| {
        let slo = slo_of(html);
        for w in want {
            assert!(slo.contains(w), "wanted {w:?} in {slo}");
        }
    };
    let catalog = page(&app, "/portal/apis").await;
    both(
        &catalog,
        &[
            "SLO: no traffic",
            "No requests in the last 30 days (objective 99.9 %)",
        ],
    );

    // 2,000 requests: 1 server error, and 4xx answers that are the caller's fault.
    let t = now_ms() - 60_000;
    let mut events: Vec<Value> = (0..2_000)
        .map(|i| {
            let status = match i {
                0 => 503,
                1..=40 => 429,
                41..=60 => 404,
                _ => 200,
            };
            event(format!("evt-slo-{i}"), &api, status, t)
        })
        .collect();
    // Another API's failures do not count against this one.
    events.extend((0..50).map(|i| event(format!("evt-other-{i}"), "api_other", 500, t)));
    ingest(&app, events).await;
    // An absurd latency (it would overflow the roll-up sums) is refused with its reason.
    let mut absurd = event("evt-other-slow".into(), "api_other", 200, t);
    absurd["data"]["latency_ms"] = json!(u64::MAX);
    refused(&app, absurd, "latency_ms").await;
    // A day older than the window with many failures is outside the 30 days.
    let old_day = (now_ms() / 86_400_000 - 40) * 86_400_000;
    sql(
        &app,
        &format!(
            "INSERT INTO usage_rollups (granularity, bucket_start, consumer_id, key_id, api_id, \
             plan_id, requests, billable, bytes_in, bytes_out, latency_ms_sum, latency_ms_max, \
             server_errors) VALUES ('day', {old_day}, 'con_slo', 'key_slo', '{api}', '', 500, 0, \
             0, 0, 0, 0, 500)"
        ),
    )
    .await;

    let meeting = [
        "SLO: meeting",
        "99.950 % available over the last 30 days (objective 99.9 %)",
        "error budget left: 50 %",
        "mean latency 5.0 ms",
    ];
    both(&page(&app, "/portal/apis").await, &meeting);
    both(&page(&app, &format!("/portal/apis/{api}")).await, &meeting);

    // One more 5xx: 2 of the 2.001 allowed are spent.
    ingest(&app, vec![event("evt-slo-more-1".into(), &api, 500, t)]).await;
    let at_risk = [
        "SLO: at risk",
        "99.900 % available",
        "error budget left: 0 %",
    ];
    both(&page(&app, "/portal/apis").await, &at_risk);

    // And another: over budget.
    ingest(&app, vec![event("evt-slo-more-2".into(), &api, 502, t)]).await;
    let breached = [
        "SLO: breached",
        "99.850 % available",
        "error budget left: 0 %",
    ];
    both(&page(&app, "/portal/apis").await, &breached);
    both(&page(&app, &format!("/portal/apis/{api}")).await, &breached);

    // A redelivered batch counts once: still breached with the same figures.
    ingest_duplicate(&app, event("evt-slo-more-2".into(), &api, 502, t)).await;
    both(&page(&app, "/portal/apis").await, &breached);
}

async fn refused(app: &TestApp, e: Value, reason: &str) {
    let sig = sign_edge_request(&app.edge_secret, now_secs(), "POST", "/edge/v1/usage");
    let res = app
        .client
        .post(app.url("/edge/v1/usage"))
        .header(EDGE_SIGNATURE_HEADER, sig)
        .header("content-type", "application/json")
        .body(json!([e]).to_string())
        .send()
        .await
        .unwrap();
    let (status, body) = read(res).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["accepted"].as_u64(), Some(0), "{body}");
    let why = body["rejected"][0]["reason"].as_str().unwrap_or_default();
    assert!(why.contains(reason), "{body}");
}

async fn ingest_duplicate(app: &TestApp, e: Value) {
    let sig = sign_edge_request(&app.edge_secret, now_secs(), "POST", "/edge/v1/usage");
    let res = app
        .client
        .post(app.url("/edge/v1/usage"))
        .header(EDGE_SIGNATURE_HEADER, sig)
        .header("content-type", "application/json")
        .body(json!([e]).to_string())
        .send()
        .await
        .unwrap();
    let (status, body) = read(res).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["duplicates"].as_u64(), Some(1), "{body}");
}

async fn an_unknown_api_page_is_still_404(app: TestApp) {
    published(&app).await;
    let res = app
        .client
        .get(app.url("/portal/apis/api_nope'%20OR%201=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

crate::both_databases!(
    catalog_shows_availability_budget_and_status_from_ingested_usage,
    an_unknown_api_page_is_still_404
);
