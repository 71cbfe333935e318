//! Hostile uploads to the versions endpoint: oversized, non-UTF-8, deeply nested,
//! `$ref` loops, alias bombs, wrong media types. Each is a prompt problem+json, never a
//! hang, a crash or a 5xx.

use crate::helpers::{expect_problem, TestApp};
use crate::versions::{api_id, testdata, upload, yaml_value};
use reqwest::StatusCode;
use serde_json::json;
use std::time::{Duration, Instant};

async fn refused(
    app: &TestApp,
    api: &str,
    media: &str,
    body: Vec<u8>,
    status: StatusCode,
) -> serde_json::Value {
    let started = Instant::now();
    let problem = expect_problem(
        upload(app, api, "?version=1.0.0", media, body).await,
        status,
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    problem
}

async fn oversized_and_wrongly_typed_bodies_are_refused(app: TestApp) {
    let api = api_id(&app, "/pets").await;
    let mut huge = b"openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths: {}\nx-pad: '".to_vec();
    huge.resize(11 * 1024 * 1024, b'a');
    huge.extend_from_slice(b"'\n");
    let problem = refused(
        &app,
        &api,
        "application/yaml",
        huge,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    assert!(
        problem["detail"].as_str().unwrap().contains("10485760"),
        "{problem}"
    );
    let problem = refused(
        &app,
        &api,
        "text/plain",
        testdata("openapi/v3.0/petstore.yaml"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    )
    .await;
    assert_eq!(problem["field"], "content-type");
}

async fn non_utf8_and_deep_nesting_are_located_errors(app: TestApp) {
    let api = api_id(&app, "/pets").await;
    let mut bytes = b"openapi: 3.0.0\ninfo:\n  title: \"".to_vec();
    bytes.extend_from_slice(&[0xff, 0xfe]);
    bytes.extend_from_slice(b"\"\n");
    for media in ["application/yaml", "application/json"] {
        let problem = refused(
            &app,
            &api,
            media,
            bytes.clone(),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(
            (
                problem["errors"][0]["line"].as_u64(),
                problem["errors"][0]["column"].as_u64()
            ),
            (Some(3), Some(11)),
            "{problem}"
        );
    }
    let deep_json = format!(
        "{{\"openapi\":{}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    refused(
        &app,
        &api,
        "application/json",
        deep_json.into_bytes(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let deep_yaml = format!("openapi: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    refused(
        &app,
        &api,
        "application/yaml",
        deep_yaml.into_bytes(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let mut block = String::from("openapi: 3.0.0\nx:\n");
    for depth in 1..400 {
        block.push_str(&format!("{}k:\n", " ".repeat(depth)));
    }
    refused(
        &app,
        &api,
        "application/yaml",
        block.into_bytes(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let mut laughs = String::from("openapi: 3.0.0\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        laughs.push_str(&format!(
            "a{i}: &a{i} [{}]\n",
            vec![format!("*a{}", i - 1); 10].join(", ")
        ));
    }
    let problem = refused(
        &app,
        &api,
        "application/yaml",
        laughs.into_bytes(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("nodes"),
        "{problem}"
    );
    let (_, list) = app.get(&format!("/admin/v1/apis/{api}/versions")).await;
    assert_eq!(list, json!([]));
}

async fn ref_loops_are_errors_and_recursive_schemas_work(app: TestApp) {
    let api = api_id(&app, "/pets").await;
    let mut looped = yaml_value("openapi/v3.0/petstore.yaml");
    looped["components"]["schemas"]["A"] = json!({"$ref": "#/components/schemas/B"});
    looped["components"]["schemas"]["B"] = json!({"$ref": "#/components/schemas/A"});
    looped["components"]["schemas"]["Self"] = json!({"$ref": "#/components/schemas/Self"});
    let problem = refused(
        &app,
        &api,
        "application/json",
        looped.to_string().into_bytes(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let pointers: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    for p in [
        "/components/schemas/A/$ref",
        "/components/schemas/B/$ref",
        "/components/schemas/Self/$ref",
    ] {
        assert!(pointers.contains(&p), "{p} not in {pointers:?}");
    }
    let mut recursive = yaml_value("openapi/v3.0/petstore.yaml");
    recursive["components"]["schemas"]["Pet"]["properties"]["children"] =
        json!({"type": "array", "items": {"$ref": "#/components/schemas/Pet"}});
    let v1 = upload(
        &app,
        &api,
        "?version=1.0.0",
        "application/json",
        recursive.to_string().into_bytes(),
    )
    .await;
    assert_eq!(v1.status(), StatusCode::CREATED);
    recursive["components"]["schemas"]["Pet"]["properties"]["name"]["type"] = json!("integer");
    let v2 = upload(
        &app,
        &api,
        "?version=2.0.0",
        "application/json",
        recursive.to_string().into_bytes(),
    )
    .await;
    assert_eq!(v2.status(), StatusCode::CREATED);
    let (_, log) = app
        .get(&format!("/admin/v1/apis/{api}/versions/2.0.0/changelog"))
        .await;
    assert!(
        log["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["code"] == "type-changed" && c["breaking"] == true),
        "{log}"
    );
}

crate::both_databases!(
    oversized_and_wrongly_typed_bodies_are_refused,
    non_utf8_and_deep_nesting_are_located_errors,
    ref_loops_are_errors_and_recursive_schemas_work,
);
