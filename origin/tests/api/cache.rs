//! Response-caching policies and purges: set, read back and removed; careless and
//! hostile bodies are 422 naming the member; unknown and foreign APIs are 404; the
//! snapshot carries policies (with a generation a purge-all bumps) and purges.

use crate::helpers::{expect_problem, read, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn policy() -> Value {
    json!({"enabled": true, "default_ttl_secs": 60, "max_ttl_secs": 3600,
           "routes": [{"path": "/forecast/*", "methods": ["GET"], "ttl_secs": 30, "tags": ["forecast"]}]})
}

async fn put(app: &TestApp, id: &str, body: Value) -> (StatusCode, Value) {
    let path = format!("/admin/v1/apis/{id}/cache");
    read(
        app.admin(Method::PUT, &path)
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn cache_policies_are_set_read_purged_and_removed(app: TestApp) {
    let api = app.create_api("/cached").await;
    let id = api["id"].as_str().unwrap();
    let before = app.snapshot().await["version"].as_u64().unwrap();
    let (status, set) = put(&app, id, policy()).await;
    assert_eq!(status, StatusCode::OK, "{set}");
    assert_eq!(set["cache_authenticated"], false);
    assert_eq!(set["routes"][0]["enabled"], true);
    let (status, got) = app.get(&format!("/admin/v1/apis/{id}/cache")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got, set);
    let snapshot = app.snapshot().await;
    assert!(snapshot["version"].as_u64().unwrap() > before);
    assert_eq!(snapshot["cache"][0]["api_id"], id);
    assert_eq!(
        snapshot["cache"][0]["policy"]["routes"][0]["tags"][0],
        "forecast"
    );
    let generation = snapshot["cache"][0]["generation"].as_u64().unwrap();

    let purge = format!("/admin/v1/apis/{id}/cache/purge");
    let (status, answer) = app.post(&purge, json!({"tags": ["forecast"]})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer["scope"], "tags");
    let (status, _) = app.post(&purge, json!({"path_prefix": "/forecast"})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let snapshot = app.snapshot().await;
    let purges = snapshot["cache_purges"].as_array().unwrap();
    assert_eq!(purges.len(), 2);
    assert_eq!(purges[0]["tag"], "forecast");
    assert_eq!(purges[1]["prefix"], "/forecast");
    assert_eq!(
        snapshot["cache"][0]["generation"].as_u64().unwrap(),
        generation
    );
    let (status, answer) = app.post(&purge, json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(answer["scope"], "all");
    let snapshot = app.snapshot().await;
    assert!(
        snapshot["cache"][0]["generation"].as_u64().unwrap() > generation,
        "a purge-all changes every key"
    );
    let (_, audit) = app.get("/admin/v1/audit?limit=50").await;
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(actions.contains(&"api.cache.set") && actions.contains(&"api.cache.purge"));

    let path = format!("/admin/v1/apis/{id}/cache");
    let removed = app.admin(Method::DELETE, &path).send().await.unwrap();
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    assert!(app.snapshot().await.get("cache").is_none());
    let gone = app.admin(Method::GET, &path).send().await.unwrap();
    expect_problem(gone, StatusCode::NOT_FOUND).await;
    // The API can still be deleted with its cache rows.
    let deleted = app
        .admin(Method::DELETE, &format!("/admin/v1/apis/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
}

async fn careless_cache_bodies_are_422_naming_the_member(app: TestApp) {
    let api = app.create_api("/careful").await;
    let id = api["id"].as_str().unwrap();
    let with = |f: &dyn Fn(&mut Value)| {
        let mut p = policy();
        f(&mut p);
        p
    };
    for (body, field) in [
        (
            with(&|p| p["default_ttl_secs"] = json!(-5)),
            "default_ttl_secs",
        ),
        (
            with(&|p| p["max_ttl_secs"] = json!(10_000_000_000_i64)),
            "max_ttl_secs",
        ),
        (with(&|p| p["max_ttl_secs"] = json!(86_401)), "max_ttl_secs"),
        (with(&|p| p["max_ttl_secs"] = json!(0)), "max_ttl_secs"),
        (
            with(&|p| p["default_ttl_secs"] = json!(7200)),
            "default_ttl_secs",
        ),
        (
            with(&|p| p["routes"][0]["ttl_secs"] = json!(-1)),
            "routes[0].ttl_secs",
        ),
        (
            with(&|p| p["routes"][0]["ttl_secs"] = json!(4000)),
            "routes[0].ttl_secs",
        ),
        (
            with(&|p| p["routes"][0]["tags"] = json!(["ok", "not ok"])),
            "routes[0].tags",
        ),
        (
            with(&|p| p["routes"][0]["tags"] = json!(["-dash"])),
            "routes[0].tags",
        ),
        (
            with(&|p| p["routes"][0]["tags"] = json!(["x".repeat(65)])),
            "routes[0].tags",
        ),
        (
            with(&|p| p["routes"][0]["path"] = json!("forecast")),
            "routes[0].path",
        ),
        (
            with(&|p| p["routes"][0]["path"] = json!("/a/../b")),
            "routes[0].path",
        ),
        (
            with(&|p| p["routes"][0]["path"] = json!("/a b")),
            "routes[0].path",
        ),
        (
            with(&|p| p["routes"][0]["methods"] = json!(["POST"])),
            "routes[0].methods",
        ),
        (
            with(&|p| p["routes"][0]["surprise"] = json!(1)),
            "routes[0].surprise",
        ),
        (with(&|p| p["enabled"] = json!("yes")), "enabled"),
        (json!([true, 60, 3600, null, null]), "body"),
    ] {
        let (status, problem) = put(&app, id, body.clone()).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {problem}"
        );
        assert_eq!(problem["field"], field, "{body}: {problem}");
    }
    let purge = format!("/admin/v1/apis/{id}/cache/purge");
    for (body, field) in [
        (json!({"tags": ["a"], "path_prefix": "/x"}), "path_prefix"),
        (json!({"tags": []}), "tags"),
        (json!({"tags": ["fine", "bad tag"]}), "tags"),
        (json!({"path_prefix": "no-slash"}), "path_prefix"),
        (json!({"path_prefix": "/with space"}), "path_prefix"),
        (json!({"everything": true}), "everything"),
        (json!([null, null]), "body"),
    ] {
        let (status, problem) = app.post(&purge, body.clone()).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {problem}"
        );
        assert_eq!(problem["field"], field, "{body}: {problem}");
    }
    assert_eq!(
        app.snapshot().await.get("cache_purges"),
        None,
        "nothing recorded"
    );
}

async fn unknown_and_foreign_apis_are_404(app: TestApp) {
    for (method, path, body) in [
        (Method::PUT, "/admin/v1/apis/api_nope/cache", Some(policy())),
        (Method::GET, "/admin/v1/apis/api_nope/cache", None),
        (Method::DELETE, "/admin/v1/apis/api_nope/cache", None),
        (
            Method::POST,
            "/admin/v1/apis/api_nope/cache/purge",
            Some(json!({})),
        ),
    ] {
        let mut request = app.admin(method.clone(), path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        expect_problem(request.send().await.unwrap(), StatusCode::NOT_FOUND).await;
    }
    let (_, a) = app.post("/admin/v1/orgs", json!({"name": "A"})).await;
    let (_, b) = app.post("/admin/v1/orgs", json!({"name": "B"})).await;
    let (a, b) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    let created = app
        .admin(Method::POST, "/admin/v1/apis")
        .header("x-tollgate-org", a)
        .json(&json!({"name": "mine", "base_path": "/mine", "upstream_url": "http://127.0.0.1:9"}))
        .send()
        .await
        .unwrap();
    let (status, api) = read(created).await;
    assert_eq!(status, StatusCode::CREATED, "{api}");
    let path = format!("/admin/v1/apis/{}/cache", api["id"].as_str().unwrap());
    let mine = app
        .admin(Method::PUT, &path)
        .header("x-tollgate-org", a)
        .json(&policy())
        .send()
        .await
        .unwrap();
    assert_eq!(mine.status(), StatusCode::OK);
    for (method, path) in [
        (Method::GET, path.clone()),
        (Method::PUT, path.clone()),
        (Method::DELETE, path.clone()),
        (Method::POST, format!("{path}/purge")),
    ] {
        let foreign = app
            .admin(method, &path)
            .header("x-tollgate-org", b)
            .json(&policy())
            .send()
            .await
            .unwrap();
        expect_problem(foreign, StatusCode::NOT_FOUND).await;
    }
}

crate::both_databases!(
    cache_policies_are_set_read_purged_and_removed,
    careless_cache_bodies_are_422_naming_the_member,
    unknown_and_foreign_apis_are_404,
);
