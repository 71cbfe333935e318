//! Outgoing webhooks through a real receiver on 127.0.0.1: events arrive signed, in order,
//! at least once after the receiver's failures, with both secrets during a rotation; one
//! organisation's endpoint never receives another's events; careless input is refused.

use crate::helpers::TestApp;
use crate::tenancy::{member, org};
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tollgate_core::webhook::{parse_secret, sign};

/// What the receiver saw: (webhook-id, webhook-timestamp, webhook-signature, body, answered).
pub(crate) type Seen = Arc<Mutex<Vec<(String, String, String, String, u16)>>>;

/// A receiver that answers 503 to its first `failures` requests, then 204.
pub(crate) async fn receiver(failures: usize) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let handler = move |headers: HeaderMap, body: String| {
        let log = log.clone();
        async move {
            let mut log = log.lock().unwrap();
            let status = if log.len() < failures { 503 } else { 204 };
            let h = |n: &str| {
                headers
                    .get(n)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned()
            };
            log.push((
                h("webhook-id"),
                h("webhook-timestamp"),
                h("webhook-signature"),
                body,
                status,
            ));
            AxumStatus::from_u16(status).unwrap()
        }
    };
    let app = axum::Router::new().route("/hook", axum::routing::post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

/// Waits (up to 20 s) until the receiver has answered 2xx `n` times.
pub(crate) async fn delivered(seen: &Seen, n: usize) -> Vec<(String, String, String, String, u16)> {
    for _ in 0..200 {
        let log = seen.lock().unwrap().clone();
        if log.iter().filter(|e| e.4 < 300).count() >= n {
            return log;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("fewer than {n} deliveries: {:?}", seen.lock().unwrap());
}

pub(crate) fn verifies(secret: &str, entry: &(String, String, String, String, u16)) -> bool {
    let key = parse_secret(secret).unwrap();
    let expected = sign(&key, &entry.0, entry.1.parse().unwrap(), entry.3.as_bytes());
    entry.2.split(' ').any(|s| s == expected)
}

async fn events_arrive_signed_in_order_after_failures(app: TestApp) {
    let (url, seen) = receiver(2).await;
    let (status, hook) = app
        .post(
            "/admin/v1/webhooks",
            json!({"url": url, "events": ["key.*"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hook}");
    let secret = hook["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    let key = app.issue_key().await; // api.create and consumer.create are not asked for
    let (status, _) = app
        .post(
            &format!("/admin/v1/keys/{}/rotate", key["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);

    let log = delivered(&seen, 2).await;
    let ok: Vec<_> = log.iter().filter(|e| e.4 < 300).collect();
    let types: Vec<String> = ok
        .iter()
        .map(|e| {
            serde_json::from_str::<Value>(&e.3).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(types[0], "key.create", "{types:?}");
    assert!(types[1].starts_with("key."), "{types:?}");
    // The two failures were the first event, retried with the same id.
    assert_eq!(log[0].0, log[1].0);
    assert_eq!(log[0].0, ok[0].0);
    for entry in &log {
        assert!(verifies(&secret, entry), "bad signature {entry:?}");
        assert!(
            !entry.3.contains(key["key"].as_str().unwrap()),
            "plaintext key sent"
        );
    }
    let body: Value = serde_json::from_str(&ok[0].3).unwrap();
    assert_eq!(body["data"]["target_id"], key["id"]);

    // The endpoint's state says what happened.
    let (_, state) = app
        .get(&format!(
            "/admin/v1/webhooks/{}",
            hook["id"].as_str().unwrap()
        ))
        .await;
    assert!(state["delivered"].as_i64().unwrap() >= 2, "{state}");
    assert_eq!(state["attempts"], 0);
    assert_eq!(state["last_status"], 204);
    assert!(state.get("secret").is_none());

    // Rotation: for a day both secrets sign, so the receiver can switch at its pace.
    let (status, rotated) = app
        .post(
            &format!(
                "/admin/v1/webhooks/{}/rotate-secret",
                hook["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    let before = seen.lock().unwrap().len();
    let (status, _) = app
        .post(
            "/admin/v1/keys",
            json!({"consumer_id": key["consumer_id"], "api_id": key["api_id"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let log = delivered(&seen, ok.len() + 1).await;
    let latest = &log[before..].iter().find(|e| e.4 < 300).unwrap().clone();
    assert_eq!(latest.2.split(' ').count(), 2, "{}", latest.2);
    assert!(verifies(&new_secret, latest) && verifies(&secret, latest));
}

async fn endpoints_see_only_their_organisation_and_refuse_careless_input(app: TestApp) {
    let (a, b) = (org(&app, "A").await, org(&app, "B").await);
    let alice = member(&app, &a, "alice@a.example", "owner").await;
    let bob = member(&app, &b, "bob@b.example", "owner").await;
    let viewer = member(&app, &a, "dev@a.example", "developer").await;
    let (url_a, seen_a) = receiver(0).await;
    let (url_b, seen_b) = receiver(0).await;
    let hook_a = alice
        .post(
            &app,
            "/admin/v1/webhooks",
            json!({"url": url_a, "events": ["consumer.create"]}),
        )
        .await;
    bob.post(
        &app,
        "/admin/v1/webhooks",
        json!({"url": url_b, "events": ["*"]}),
    )
    .await;
    // A dead endpoint in A must not hold up the live one.
    alice
        .post(
            &app,
            "/admin/v1/webhooks",
            json!({"url": "http://127.0.0.1:9/hook", "events": ["*"]}),
        )
        .await;

    alice
        .post(
            &app,
            "/admin/v1/consumers",
            json!({"name": "Secret A customer", "email": "c@a.example"}),
        )
        .await;
    bob.post(
        &app,
        "/admin/v1/consumers",
        json!({"name": "B customer", "email": "c@b.example"}),
    )
    .await;
    let got_a = delivered(&seen_a, 1).await;
    let got_b = delivered(&seen_b, 1).await;
    assert!(
        got_a.iter().all(|e| !e.3.contains("B customer")),
        "{got_a:?}"
    );
    assert!(
        got_b.iter().all(|e| !e.3.contains("Secret A customer")),
        "{got_b:?}"
    );

    // Another organisation's endpoint is a 404.
    let hook_path = format!("/admin/v1/webhooks/{}", hook_a["id"].as_str().unwrap());
    for method in [Method::GET, Method::DELETE] {
        let (status, _) = bob.call(&app, method, &hook_path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let (status, _) = bob
        .call(
            &app,
            Method::POST,
            &format!("{hook_path}/rotate-secret"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Endpoints carry the audit trail: only those who may read it (owners, admins) see them.
    for (method, body) in [
        (Method::GET, None),
        (Method::POST, Some(json!({"url": url_a, "events": ["*"]}))),
    ] {
        let (status, _) = viewer.call(&app, method, "/admin/v1/webhooks", body).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let (_, list) = alice
        .call(&app, Method::GET, "/admin/v1/webhooks", None)
        .await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    for (body, field) in [
        (json!({"url": "ftp://x.example/h", "events": ["*"]}), "url"),
        (
            json!({"url": "http://user:pw@x.example/h", "events": ["*"]}),
            "url",
        ),
        (json!({"url": "/relative", "events": ["*"]}), "url"),
        (json!({"url": "http://x.example/h", "events": []}), "events"),
        (
            json!({"url": "http://x.example/h", "events": ["Key.Create"]}),
            "events",
        ),
        (
            json!({"url": "http://x.example/h", "events": ["key.**"]}),
            "events",
        ),
    ] {
        let (status, problem) = alice
            .call(&app, Method::POST, "/admin/v1/webhooks", Some(body.clone()))
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {problem}"
        );
        assert_eq!(problem["field"], field, "{body}: {problem}");
    }
    let (status, _) = alice
        .call(
            &app,
            Method::POST,
            "/admin/v1/webhooks",
            Some(json!({"url": "http://x.example/h"})),
        )
        .await;
    assert!(status.is_client_error());
    let (status, _) = alice.call(&app, Method::DELETE, &hook_path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = alice.call(&app, Method::GET, &hook_path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

crate::both_databases!(
    events_arrive_signed_in_order_after_failures,
    endpoints_see_only_their_organisation_and_refuse_careless_input
);
