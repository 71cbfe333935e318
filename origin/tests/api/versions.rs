//! API versions over HTTP: importing OpenAPI documents (JSON, YAML, wrapped), every error
//! located, the lifecycle with its illegal steps, changelogs, and what the snapshot says.

use crate::helpers::{expect_problem, read, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tollgate_core::openapi::{load_document, SourceFormat};

pub const EXAMPLES: [&str; 9] = [
    "openapi/v3.0/petstore.yaml",
    "openapi/v3.0/petstore-expanded.yaml",
    "openapi/v3.0/uspto.yaml",
    "openapi/v3.0/api-with-examples.yaml",
    "openapi/v3.0/link-example.yaml",
    "openapi/v3.0/callback-example.yaml",
    "openapi/v3.1/non-oauth-scopes.yaml",
    "openapi/v3.1/tictactoe.yaml",
    "openapi/v3.1/webhook-example.yaml",
];

pub fn testdata(rel: &str) -> Vec<u8> {
    let path = format!("{}/../../shared/testdata/{rel}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn yaml_value(rel: &str) -> Value {
    load_document(&testdata(rel), SourceFormat::Yaml)
        .unwrap()
        .value
}

/// POSTs a raw body with a media type to the versions endpoint of `api`.
pub async fn upload(
    app: &TestApp,
    api: &str,
    query: &str,
    media: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    app.admin(
        Method::POST,
        &format!("/admin/v1/apis/{api}/versions{query}"),
    )
    .header("content-type", media)
    .body(body)
    .send()
    .await
    .unwrap()
}

pub async fn api_id(app: &TestApp, base_path: &str) -> String {
    app.create_api(base_path).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn created(response: reqwest::Response) -> Value {
    let (status, body) = read(response).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

async fn every_testdata_spec_imports_as_yaml_and_json(app: TestApp) {
    let api = api_id(&app, "/pets").await;
    let medias = ["application/yaml", "application/x-yaml", "text/yaml"];
    for (i, rel) in EXAMPLES.iter().enumerate() {
        let media = medias[i % medias.len()];
        let v = created(
            upload(
                &app,
                &api,
                &format!("?version=1.{i}.0"),
                media,
                testdata(rel),
            )
            .await,
        )
        .await;
        assert_eq!(
            (v["status"].as_str(), v["spec_format"].as_str()),
            (Some("draft"), Some("yaml")),
            "{rel}"
        );
        let as_json = serde_json::to_vec(&yaml_value(rel)).unwrap();
        let v = created(
            upload(
                &app,
                &api,
                &format!("?version=2.{i}.0"),
                "application/json",
                as_json,
            )
            .await,
        )
        .await;
        assert_eq!(v["spec_format"], "json", "{rel}");
        let (status, spec) = app
            .get(&format!("/admin/v1/apis/{api}/versions/2.{i}.0/spec"))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(spec, yaml_value(rel), "{rel}");
    }
    let (_, list) = app.get(&format!("/admin/v1/apis/{api}/versions")).await;
    assert_eq!(list.as_array().unwrap().len(), 2 * EXAMPLES.len());
    assert_eq!(list[0]["version"], "1.0.0", "oldest first by semver");
    let stripe = created(
        upload(
            &app,
            &api,
            "?version=3.0.0",
            "application/json",
            testdata("stripe/spec3.json"),
        )
        .await,
    )
    .await;
    assert_eq!(stripe["openapi"], "3.0.0");
}

async fn version_comes_from_info_and_routes_by_major(app: TestApp) {
    let api = api_id(&app, "/pets").await;
    let v = created(
        upload(
            &app,
            &api,
            "",
            "application/yaml",
            testdata("openapi/v3.0/petstore.yaml"),
        )
        .await,
    )
    .await;
    assert_eq!(v["version"], "1.0.0");
    assert_eq!(v["route"], "/pets/v1");
    assert_eq!(v["title"], "Swagger Petstore");
    assert_eq!(v["openapi"], "3.0.0");
    assert!(v["changelog"].is_null());
    let (status, fetched) = app
        .get(&format!("/admin/v1/apis/{api}/versions/1.0.0"))
        .await;
    assert_eq!((status, &fetched), (StatusCode::OK, &v));
    let mut doc = yaml_value("openapi/v3.0/petstore.yaml");
    doc["info"]["version"] = json!("2.0.0-beta.1");
    let text = serde_json::to_string(&doc).unwrap();
    let wrapped = json!({"spec": text, "upstream_url": "http://127.0.0.1:9/v2/"});
    let v = created(
        upload(
            &app,
            &api,
            "",
            "application/json",
            wrapped.to_string().into_bytes(),
        )
        .await,
    )
    .await;
    assert_eq!(
        (v["version"].as_str(), v["upstream_url"].as_str()),
        (Some("2.0.0-beta.1"), Some("http://127.0.0.1:9/v2"))
    );
    let wrapped = json!({"version": "3.1.0", "spec": doc});
    let v = created(
        upload(
            &app,
            &api,
            "",
            "application/json",
            wrapped.to_string().into_bytes(),
        )
        .await,
    )
    .await;
    assert_eq!(v["changelog"]["from"], "2.0.0-beta.1");
}

async fn invalid_documents_list_every_error_with_its_location(app: TestApp) {
    let api = api_id(&app, "/pets").await;
    let yaml = "openapi: 3.0.3\ninfo:\n  title: Pets\npaths:\n  pets:\n    get: {}\n  /pets/{id}:\n    get:\n      responses:\n        '200': {}\n";
    let problem = expect_problem(
        upload(
            &app,
            &api,
            "?version=1.0.0",
            "application/yaml",
            yaml.into(),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(problem["field"], "spec");
    let errors = problem["errors"].as_array().unwrap();
    let find = |pointer: &str| {
        errors
            .iter()
            .find(|e| e["pointer"] == pointer)
            .unwrap_or_else(|| panic!("{pointer} not in {problem}"))
    };
    assert_eq!(
        (
            find("/info/version")["line"].as_u64(),
            find("/info/version")["column"].as_u64()
        ),
        (Some(2), Some(1))
    );
    assert_eq!(find("/paths/pets")["line"], 5);
    assert_eq!(find("/paths/~1pets~1{id}/get")["line"], 8);
    assert_eq!(
        find("/paths/~1pets~1{id}/get/responses/200/description")["line"],
        10
    );
    let json_doc = "{\n \"openapi\": \"3.1.0\",\n \"info\": {\"title\": \"t\", \"version\": \"1.0.0\"},\n \"paths\": {\"/a\": {\"get\": {\"responses\": {\"200\": {\"$ref\": \"#/nowhere\"}}}}}\n}";
    let problem = expect_problem(
        upload(&app, &api, "", "application/json", json_doc.into()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        problem["errors"][0]["pointer"],
        "/paths/~1a/get/responses/200/$ref"
    );
    assert_eq!(problem["errors"][0]["line"], 4);
    let problem = expect_problem(
        upload(&app, &api, "", "application/yaml", "a: [1\n".into()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(problem["errors"][0]["line"].is_u64(), "{problem}");
    for (query, field) in [
        ("?version=v1", "version"),
        ("?version=1.0.0&upstream_url=ftp://x", "upstream_url"),
    ] {
        let problem = expect_problem(
            upload(
                &app,
                &api,
                query,
                "application/yaml",
                testdata("openapi/v3.0/petstore.yaml"),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(problem["field"], field);
    }
    let mut doc = yaml_value("openapi/v3.0/petstore.yaml");
    doc["info"]["version"] = json!("latest");
    let problem = expect_problem(
        upload(&app, &api, "", "application/json", doc.to_string().into()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        problem["detail"].as_str().unwrap().contains("info.version"),
        "{problem}"
    );
    let (_, list) = app.get(&format!("/admin/v1/apis/{api}/versions")).await;
    assert_eq!(list, json!([]));
}

async fn step(
    app: &TestApp,
    api: &str,
    version: &str,
    action: &str,
    body: Value,
) -> (StatusCode, Value) {
    app.post(
        &format!("/admin/v1/apis/{api}/versions/{version}/{action}"),
        body,
    )
    .await
}

async fn lifecycle_moves_forward_and_refuses_illegal_steps(app: TestApp) {
    let api = api_id(&app, "/pets").await;
    created(
        upload(
            &app,
            &api,
            "",
            "application/yaml",
            testdata("openapi/v3.0/petstore.yaml"),
        )
        .await,
    )
    .await;
    let before = app.snapshot().await;
    assert_eq!(before["versions"][0]["status"], "draft");
    for action in ["deprecate", "retire"] {
        let body = json!({"sunset": "2099-01-01", "migration_url": "https://docs.example.com/m"});
        let (status, p) = step(&app, &api, "1.0.0", action, body).await;
        assert_eq!(status, StatusCode::CONFLICT, "{action}: {p}");
    }
    let (status, v) = step(&app, &api, "1.0.0", "publish", json!({})).await;
    assert_eq!(
        (status, v["status"].as_str()),
        (StatusCode::OK, Some("published"))
    );
    assert!(v["published_at"].is_string());
    let (status, p) = step(&app, &api, "1.0.0", "publish", json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        p["detail"].as_str().unwrap().contains("already published"),
        "{p}"
    );
    let (status, _) = step(&app, &api, "1.0.0", "retire", json!({})).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "retiring needs a deprecation first"
    );
    for (body, field) in [
        (json!({"migration_url": "https://d.example"}), "sunset"),
        (
            json!({"sunset": "soon", "migration_url": "https://d.example"}),
            "sunset",
        ),
        (
            json!({"sunset": "2001-01-01T00:00:00Z", "migration_url": "https://d.example"}),
            "sunset",
        ),
        (json!({"sunset": "2099-01-01"}), "migration_url"),
        (
            json!({"sunset": "2099-01-01", "migration_url": "docs"}),
            "migration_url",
        ),
        (
            json!({"sunset": "2099-01-01", "migration_note": "x", "extra": 1}),
            "extra",
        ),
    ] {
        let (status, p) = step(&app, &api, "1.0.0", "deprecate", body.clone()).await;
        assert_eq!(
            (status, p["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{body}"
        );
    }
    let body = json!({"sunset": "2099-01-01T00:00:00Z", "migration_url": "https://docs.example.com/m", "migration_note": "Use v2."});
    let (status, v) = step(&app, &api, "1.0.0", "deprecate", body).await;
    assert_eq!(
        (status, v["status"].as_str()),
        (StatusCode::OK, Some("deprecated")),
        "{v}"
    );
    assert_eq!(v["sunset_at"], "2099-01-01T00:00:00Z");
    let snap = app.snapshot().await;
    assert!(snap["version"].as_u64() > before["version"].as_u64());
    let entry = &snap["versions"][0];
    assert_eq!(
        (entry["status"].as_str(), entry["sunset_at"].as_u64()),
        (Some("deprecated"), Some(4_070_908_800))
    );
    assert_eq!(entry["migration_url"], "https://docs.example.com/m");
    assert!(entry["deprecated_at"].as_u64().is_some());
    let (status, v) = step(&app, &api, "1.0.0", "retire", json!({})).await;
    assert_eq!(
        (status, v["status"].as_str()),
        (StatusCode::OK, Some("retired"))
    );
    for action in ["publish", "deprecate", "retire"] {
        let body = json!({"sunset": "2099-01-01", "migration_note": "x"});
        let (status, _) = step(&app, &api, "1.0.0", action, body).await;
        assert_eq!(status, StatusCode::CONFLICT, "{action} after retire");
    }
}

async fn changelogs_classify_changes_and_follow_inserted_versions(app: TestApp) {
    let api = api_id(&app, "/pets").await;
    let v1 = yaml_value("openapi/v3.0/petstore-expanded.yaml");
    let mut v2 = v1.clone();
    v2["paths"]["/pets/{id}"]
        .as_object_mut()
        .unwrap()
        .remove("delete");
    v2["components"]["schemas"]["NewPet"]["required"] = json!(["name", "tag"]);
    v2["paths"]["/pets"]["get"]["parameters"][1]["schema"]["format"] = json!("int64");
    for (version, doc) in [("1.0.0", &v1), ("2.0.0", &v2)] {
        created(
            upload(
                &app,
                &api,
                &format!("?version={version}"),
                "application/json",
                doc.to_string().into(),
            )
            .await,
        )
        .await;
    }
    let (status, log) = app
        .get(&format!("/admin/v1/apis/{api}/versions/2.0.0/changelog"))
        .await;
    assert_eq!(status, StatusCode::OK, "{log}");
    assert_eq!(
        (
            log["from"].as_str(),
            log["to"].as_str(),
            log["required_bump"].as_str()
        ),
        (Some("1.0.0"), Some("2.0.0"), Some("major"))
    );
    let codes: Vec<(&str, bool)> = log["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["code"].as_str().unwrap(),
                c["breaking"].as_bool().unwrap(),
            )
        })
        .collect();
    for expected in [
        ("operation-removed", true),
        ("property-became-required", true),
        ("format-changed", true),
    ] {
        assert!(codes.contains(&expected), "{expected:?} not in {codes:?}");
    }
    assert_eq!(log["breaking"], 3);
    assert!(log["migration_guide"]
        .as_str()
        .unwrap()
        .contains("DELETE /pets/{id}"));
    let response = app
        .admin(
            Method::GET,
            &format!("/admin/v1/apis/{api}/versions/2.0.0/migration-guide"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/markdown"));
    assert!(response.text().await.unwrap().starts_with("# Migrating"));
    let (_, first) = app
        .get(&format!("/admin/v1/apis/{api}/versions/1.0.0/changelog"))
        .await;
    assert_eq!(
        (first["from"].clone(), first["breaking"].clone()),
        (Value::Null, json!(0))
    );
    let response = app
        .admin(
            Method::GET,
            &format!("/admin/v1/apis/{api}/versions/1.0.0/migration-guide"),
        )
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::NOT_FOUND).await;
    // A version inserted between: 2.0.0's changelog is now against 1.5.0.
    created(
        upload(
            &app,
            &api,
            "?version=1.5.0",
            "application/json",
            v1.to_string().into(),
        )
        .await,
    )
    .await;
    let (_, v) = app
        .get(&format!("/admin/v1/apis/{api}/versions/2.0.0"))
        .await;
    assert_eq!(
        (
            v["changelog"]["from"].as_str(),
            v["changelog"]["breaking"].as_u64()
        ),
        (Some("1.5.0"), Some(3))
    );
    let (_, mid) = app
        .get(&format!("/admin/v1/apis/{api}/versions/1.5.0/changelog"))
        .await;
    assert_eq!(
        (mid["from"].as_str(), mid["changes"].clone()),
        (Some("1.0.0"), json!([]))
    );
    let (_, back) = app
        .get(&format!(
            "/admin/v1/apis/{api}/versions/1.0.0/changelog?from=2.0.0"
        ))
        .await;
    assert_eq!(back["from"], "2.0.0");
    assert!(back["changes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["code"] == "operation-added"));
}

async fn unknown_ids_are_404_and_duplicates_409(app: TestApp) {
    let api = api_id(&app, "/pets").await;
    let paths = [
        "/versions",
        "/versions/1.0.0",
        "/versions/1.0.0/spec",
        "/versions/1.0.0/changelog",
        "/versions/1.0.0/migration-guide",
    ];
    for base in [
        "/admin/v1/apis/api_nope".to_owned(),
        format!("/admin/v1/apis/{api}"),
    ] {
        for path in paths
            .iter()
            .filter(|p| base.contains("api_nope") || **p != "/versions")
        {
            let response = app
                .admin(Method::GET, &format!("{base}{path}"))
                .send()
                .await
                .unwrap();
            expect_problem(response, StatusCode::NOT_FOUND).await;
        }
        for action in ["publish", "retire"] {
            let response = app
                .admin(Method::POST, &format!("{base}/versions/1.0.0/{action}"))
                .send()
                .await
                .unwrap();
            expect_problem(response, StatusCode::NOT_FOUND).await;
        }
    }
    let response = upload(
        &app,
        "api_nope",
        "",
        "application/yaml",
        testdata("openapi/v3.0/petstore.yaml"),
    )
    .await;
    expect_problem(response, StatusCode::NOT_FOUND).await;
    created(
        upload(
            &app,
            &api,
            "",
            "application/yaml",
            testdata("openapi/v3.0/petstore.yaml"),
        )
        .await,
    )
    .await;
    let response = upload(
        &app,
        &api,
        "",
        "application/yaml",
        testdata("openapi/v3.0/petstore.yaml"),
    )
    .await;
    expect_problem(response, StatusCode::CONFLICT).await;
    let response = app
        .admin(
            Method::GET,
            &format!("/admin/v1/apis/{api}/versions/1.0.0/changelog?from=9.9.9"),
        )
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::NOT_FOUND).await;
}

async fn apis_without_versions_keep_their_snapshot_shape(app: TestApp) {
    app.create_api("/plain").await;
    let snapshot = app.snapshot().await;
    assert!(snapshot.get("versions").is_none(), "{snapshot}");
    assert_eq!(snapshot["apis"][0]["base_path"], "/plain");
}

crate::both_databases!(
    every_testdata_spec_imports_as_yaml_and_json,
    version_comes_from_info_and_routes_by_major,
    invalid_documents_list_every_error_with_its_location,
    lifecycle_moves_forward_and_refuses_illegal_steps,
    changelogs_classify_changes_and_follow_inserted_versions,
    unknown_ids_are_404_and_duplicates_409,
    apis_without_versions_keep_their_snapshot_shape,
);
