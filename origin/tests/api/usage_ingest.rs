//! Usage ingestion (`POST /edge/v1/usage`): idempotent on event id (sequential and
//! concurrent redeliveries count once), per-event refusals with reasons, the grace window
//! for late events, and the aggregates query.

use crate::helpers::{expect_problem, now_secs, read, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tollgate_core::edge_auth::{sign_edge_request, EDGE_SIGNATURE_HEADER};
use tollgate_core::usage::time::format_rfc3339_ms;

fn now_ms() -> i64 {
    tollgate_origin::clock::now_ms()
}

fn event(id: &str, consumer: &str, key: &str, status: u16, time_ms: i64) -> Value {
    json!({
        "specversion": "1.0", "id": id, "source": "tollgate-edge/test",
        "type": "dev.tollgate.request", "time": format_rfc3339_ms(time_ms),
        "subject": consumer, "datacontenttype": "application/json",
        "data": {"api_id": "api_t", "consumer_id": consumer, "key_id": key, "status": status,
                 "billable": status < 400, "bytes_in": 10, "bytes_out": 20, "latency_ms": 5,
                 "meters": {"tokens": 7}}
    })
}

async fn post_raw(app: &TestApp, body: String) -> reqwest::Response {
    let sig = sign_edge_request(&app.edge_secret, now_secs(), "POST", "/edge/v1/usage");
    app.client
        .post(app.url("/edge/v1/usage"))
        .header(EDGE_SIGNATURE_HEADER, sig)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn post_events(app: &TestApp, events: &Value) -> Value {
    let (status, body) = read(post_raw(app, events.to_string()).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn billable(app: &TestApp, consumer: &str) -> u64 {
    let (status, usage) = app
        .get(&format!("/admin/v1/usage?consumer_id={consumer}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{usage}");
    usage["billable_requests"].as_u64().unwrap()
}

async fn consumer_id(app: &TestApp) -> String {
    app.create_consumer().await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn the_same_event_three_times_counts_once(app: TestApp) {
    let con = consumer_id(&app).await;
    let batch = json!([event("evt-seq-1", &con, "key_a", 200, now_ms())]);
    let first = post_events(&app, &batch).await;
    assert_eq!(
        (first["accepted"].as_u64(), first["duplicates"].as_u64()),
        (Some(1), Some(0))
    );
    for _ in 0..2 {
        let again = post_events(&app, &batch).await;
        assert_eq!(
            (again["accepted"].as_u64(), again["duplicates"].as_u64()),
            (Some(0), Some(1))
        );
    }
    assert_eq!(billable(&app, &con).await, 1);
    // The same id twice inside one batch is one event too.
    let twice = json!([
        event("evt-seq-2", &con, "key_a", 200, now_ms()),
        event("evt-seq-2", &con, "key_a", 200, now_ms())
    ]);
    let answer = post_events(&app, &twice).await;
    assert_eq!(
        (answer["accepted"].as_u64(), answer["duplicates"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(billable(&app, &con).await, 2);
}

async fn fifty_concurrent_deliveries_count_once(app: TestApp) {
    let con = consumer_id(&app).await;
    let now = now_ms();
    let batch = json!([
        event("evt-c-1", &con, "key_a", 200, now),
        event("evt-c-2", &con, "jwt_sub", 201, now),
        event("evt-c-3", &con, "key_a", 429, now)
    ]);
    let posts = (0..50).map(|_| {
        let app = app.clone();
        let batch = batch.clone();
        tokio::spawn(async move { post_events(&app, &batch).await })
    });
    let mut accepted = 0;
    for p in posts {
        accepted += p.await.unwrap()["accepted"].as_u64().unwrap();
    }
    assert_eq!(accepted, 3);
    assert_eq!(billable(&app, &con).await, 2);
}

async fn a_mixed_batch_keeps_the_good_events(app: TestApp) {
    let con = consumer_id(&app).await;
    let now = now_ms();
    let mut missing_id = event("x", &con, "k", 200, now);
    missing_id.as_object_mut().unwrap().remove("id");
    let mut wrong_type = event("evt-m-type", &con, "k", 200, now);
    wrong_type["type"] = json!("com.example.other");
    let mut oversized = event("evt-m-big", &con, "k", 200, now);
    oversized["data"]["operation"] = json!("x".repeat(20_000));
    let mut bad_meter = event("evt-m-meter", &con, "k", 200, now);
    bad_meter["data"]["meters"] = json!({"Tokens!": 1});
    let batch = json!([
        event("evt-m-1", &con, "k", 200, now),
        missing_id,
        42,
        wrong_type,
        oversized,
        bad_meter,
        event("evt-m-2", &con, "k", 401, now),
        event("evt-m-3", &con, "k", 302, now),
    ]);
    let answer = post_events(&app, &batch).await;
    assert_eq!(answer["accepted"], 3, "{answer}");
    let rejected = answer["rejected"].as_array().unwrap();
    let indexes: Vec<u64> = rejected
        .iter()
        .map(|r| r["index"].as_u64().unwrap())
        .collect();
    assert_eq!(indexes, [1, 2, 3, 4, 5], "{answer}");
    assert!(rejected
        .iter()
        .all(|r| !r["reason"].as_str().unwrap().is_empty()));
    assert_eq!(rejected[2]["id"], "evt-m-type");
    assert!(rejected[2]["reason"].as_str().unwrap().contains("`type`"));
    assert!(rejected[3]["reason"].as_str().unwrap().contains("limit"));
    assert_eq!(billable(&app, &con).await, 2);

    let not_array = post_raw(&app, "{\"id\":1}".into()).await;
    expect_problem(not_array, StatusCode::BAD_REQUEST).await;
    let not_json = post_raw(&app, "[{".into()).await;
    expect_problem(not_json, StatusCode::BAD_REQUEST).await;
    let too_many = Value::Array(vec![json!({}); 1_001]);
    expect_problem(
        post_raw(&app, too_many.to_string()).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let too_big = format!("[\"{}\"]", "a".repeat(5 * 1024 * 1024));
    expect_problem(post_raw(&app, too_big).await, StatusCode::PAYLOAD_TOO_LARGE).await;
    let unsigned = app
        .client
        .post(app.url("/edge/v1/usage"))
        .body("[]")
        .send()
        .await
        .unwrap();
    expect_problem(unsigned, StatusCode::UNAUTHORIZED).await;
}

async fn late_events_count_in_their_hour_within_grace(app: TestApp) {
    let con = consumer_id(&app).await;
    let late = now_ms() - 30 * 3_600_000;
    let hour = late - late.rem_euclid(3_600_000);
    let answer = post_events(
        &app,
        &json!([
            event("evt-late-1", &con, "k", 200, late),
            event("evt-late-2", &con, "k", 200, now_ms() - 49 * 3_600_000),
            event("evt-late-3", &con, "k", 200, now_ms() + 3_600_000),
        ]),
    )
    .await;
    assert_eq!(answer["accepted"], 1, "{answer}");
    let reasons: Vec<&str> = answer["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reason"].as_str().unwrap())
        .collect();
    assert!(reasons[0].contains("grace"), "{reasons:?}");
    assert!(reasons[1].contains("future"), "{reasons:?}");
    let from = format_rfc3339_ms(hour - 3_600_000);
    let to = format_rfc3339_ms(hour + 2 * 3_600_000);
    let (status, agg) = app
        .get(&format!(
            "/admin/v1/usage/aggregates?consumer_id={con}&from={from}&to={to}"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{agg}");
    let rows = agg["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{agg}");
    assert_eq!(rows[0]["bucket_start"], format_rfc3339_ms(hour));
    assert_eq!(rows[0]["billable"], 1);
}

async fn aggregates_group_by_key_api_and_consumer(app: TestApp) {
    let con = consumer_id(&app).await;
    let other = consumer_id(&app).await;
    let now = now_ms();
    post_events(
        &app,
        &json!([
            event("evt-g-1", &con, "key_a", 200, now),
            event("evt-g-2", &con, "key_a", 200, now),
            event("evt-g-3", &con, "jwt_b", 200, now),
            event("evt-g-4", &con, "jwt_b", 429, now),
            event("evt-g-5", &other, "key_c", 200, now),
        ]),
    )
    .await;
    let (status, agg) = app
        .get(&format!(
            "/admin/v1/usage/aggregates?consumer_id={con}&group_by=key&granularity=minute"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{agg}");
    let by_key: Vec<(String, i64, i64)> = agg["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["group"].as_str().unwrap().to_owned(),
                r["requests"].as_i64().unwrap(),
                r["billable"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        by_key,
        [("jwt_b".to_owned(), 2, 1), ("key_a".to_owned(), 2, 2)],
        "{agg}"
    );
    let (_, agg) = app
        .get("/admin/v1/usage/aggregates?group_by=consumer&granularity=day")
        .await;
    let rows = agg["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{agg}");
    let (_, agg) = app
        .get(&format!(
            "/admin/v1/usage/aggregates?consumer_id={con}&group_by=api"
        ))
        .await;
    assert_eq!(agg["rows"][0]["group"], "api_t");
    assert_eq!(agg["rows"][0]["billable"], 3);
    assert_eq!(
        agg["rows"][0]["meters"]["tokens"],
        json!({"sum": 21, "max": 7})
    );
    for bad in [
        "granularity=week",
        "group_by=plan",
        "from=yesterday",
        "from=2020-01-01T00:00:00Z&granularity=minute",
        "from=2030-01-01T00:00:00Z&to=2029-01-01T00:00:00Z",
    ] {
        let response = app
            .admin(Method::GET, &format!("/admin/v1/usage/aggregates?{bad}"))
            .send()
            .await
            .unwrap();
        expect_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let response = app
        .admin(
            Method::GET,
            "/admin/v1/usage/aggregates?consumer_id=con_nope",
        )
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::NOT_FOUND).await;
}

async fn total_requests(app: &TestApp, con: &str, granularity: &str) -> i64 {
    let from = format_rfc3339_ms(now_ms() - 2 * 86_400_000);
    let (status, body) = app
        .get(&format!(
            "/admin/v1/usage/aggregates?consumer_id={con}&granularity={granularity}&from={from}"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["requests"].as_i64().unwrap())
        .sum()
}

/// Batches arrive while readers fold (each aggregates query catches up) and the background
/// folder runs: every event is folded exactly once, at every granularity.
async fn ingest_while_folding_counts_every_event_once(app: TestApp) {
    let con = consumer_id(&app).await;
    let now = now_ms();
    let posts: Vec<_> = (0..20)
        .map(|b| {
            let app = app.clone();
            let con = con.clone();
            tokio::spawn(async move {
                let batch: Vec<Value> = (0..50)
                    .map(|i| {
                        event(
                            &format!("evt-f-{b}-{i}"),
                            &con,
                            &format!("key_{}", i % 5),
                            200,
                            now,
                        )
                    })
                    .collect();
                post_events(&app, &Value::Array(batch)).await["accepted"]
                    .as_u64()
                    .unwrap()
            })
        })
        .collect();
    let readers: Vec<_> = (0..5)
        .map(|_| {
            let app = app.clone();
            let con = con.clone();
            tokio::spawn(async move { total_requests(&app, &con, "minute").await })
        })
        .collect();
    let mut accepted = 0;
    for p in posts {
        accepted += p.await.unwrap();
    }
    for r in readers {
        assert!(r.await.unwrap() <= 1_000);
    }
    assert_eq!(accepted, 1_000);
    for g in ["minute", "hour", "day"] {
        assert_eq!(total_requests(&app, &con, g).await, 1_000, "{g}");
    }
    assert_eq!(billable(&app, &con).await, 1_000);
}

/// Concurrent batches that share ids (on SQLite, committed together by the group commit):
/// every id counts once, and each batch's answer accounts for every one of its events.
async fn overlapping_concurrent_batches_each_get_their_own_answer(app: TestApp) {
    let con = consumer_id(&app).await;
    let now = now_ms();
    // Batch b carries ids b*10 .. b*10+20: each overlaps the next by half.
    let posts: Vec<_> = (0..12)
        .map(|b| {
            let app = app.clone();
            let con = con.clone();
            tokio::spawn(async move {
                let batch: Vec<Value> = (b * 10..b * 10 + 20)
                    .map(|i| event(&format!("evt-o-{i}"), &con, "key_o", 200, now))
                    .collect();
                post_events(&app, &Value::Array(batch)).await
            })
        })
        .collect();
    let mut accepted = 0;
    for p in posts {
        let answer = p.await.unwrap();
        let (a, d) = (
            answer["accepted"].as_u64().unwrap(),
            answer["duplicates"].as_u64().unwrap(),
        );
        assert_eq!(a + d, 20, "{answer}");
        assert_eq!(answer["rejected"], json!([]));
        accepted += a;
    }
    assert_eq!(accepted, 130, "ids 0..130, each once");
    assert_eq!(billable(&app, &con).await, 130);
}

crate::both_databases!(
    overlapping_concurrent_batches_each_get_their_own_answer,
    the_same_event_three_times_counts_once,
    fifty_concurrent_deliveries_count_once,
    a_mixed_batch_keeps_the_good_events,
    late_events_count_in_their_hour_within_grace,
    aggregates_group_by_key_api_and_consumer,
    ingest_while_folding_counts_every_event_once
);
