//! The audit log: every write is recorded, secrets never are, pages work, and
//! `tollgate audit verify` finds edited, removed and truncated entries.

use crate::helpers::{expect_problem, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::process::Command;

async fn entries(app: &TestApp) -> Vec<Value> {
    let (status, page) = app.get("/admin/v1/audit?limit=1000").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["entries"].as_array().unwrap().clone()
}

fn verify(database_url: &str) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["audit", "verify"])
        .env("TOLLGATE_DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("tollgate runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

async fn tamper(database_url: &str, sql: &str) {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(database_url).await.unwrap();
    sqlx::query(sql).execute(&pool).await.unwrap();
    pool.close().await;
}

async fn every_write_is_recorded_without_secrets(app: TestApp) {
    let key = app.issue_key().await;
    let key_id = key["id"].as_str().unwrap();
    let response = app
        .admin(Method::DELETE, &format!("/admin/v1/keys/{key_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    let log = entries(&app).await;
    let actions: Vec<&str> = log.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        ["api.create", "consumer.create", "key.create", "key.revoke"],
        "{log:?}"
    );
    for (i, e) in log.iter().enumerate() {
        assert_eq!(e["seq"], i as i64 + 1);
        assert_eq!(e["actor"], "admin-token");
    }
    assert_eq!(log[3]["target_id"], key_id);
    assert_eq!(log[3]["before"]["status"], "active");
    assert_eq!(log[3]["after"]["status"], "revoked");
    assert_eq!(log[0]["after"]["base_path"], "/weather");
    for e in &log[1..] {
        assert_eq!(
            e["prev_hash"],
            log[e["seq"].as_i64().unwrap() as usize - 2]["hash"]
        );
    }
    let text = serde_json::to_string(&log).unwrap();
    let plaintext = key["key"].as_str().unwrap();
    assert!(
        !text.contains(plaintext),
        "the key leaked into the audit log"
    );
    assert!(
        !text.contains(&plaintext[12..]),
        "part of the key leaked into the audit log"
    );
}

async fn pages_and_bad_paging(app: TestApp) {
    app.issue_key().await;
    let (_, first) = app.get("/admin/v1/audit?limit=2").await;
    assert_eq!(first["entries"].as_array().unwrap().len(), 2);
    assert_eq!(first["next_after"], 2);
    let (_, second) = app.get("/admin/v1/audit?after=2&limit=2").await;
    assert_eq!(second["entries"][0]["seq"], 3);
    assert!(second["next_after"].is_null());
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=5000", "limit"),
        ("after=-1", "after"),
        ("limit=abc", "limit"),
        ("limit=", "limit"),
    ] {
        let response = app
            .admin(Method::GET, &format!("/admin/v1/audit?{query}"))
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(problem["field"], field, "{query}");
    }
    let response = app
        .client
        .get(app.url("/admin/v1/audit"))
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::UNAUTHORIZED).await;
}

async fn verify_finds_edits_removals_and_truncation(app: TestApp) {
    let key = app.issue_key().await;
    app.admin(
        Method::DELETE,
        &format!("/admin/v1/keys/{}", key["id"].as_str().unwrap()),
    )
    .send()
    .await
    .unwrap();
    let (ok, out) = verify(&app.database_url);
    assert!(ok, "{out}");
    assert!(out.contains("intact: 4 entries"), "{out}");

    tamper(
        &app.database_url,
        "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2",
    )
    .await;
    let (ok, out) = verify(&app.database_url);
    assert!(!ok);
    assert!(out.contains("entry 2 was edited"), "{out}");
    tamper(
        &app.database_url,
        "UPDATE audit_log SET actor = 'admin-token' WHERE seq = 2",
    )
    .await;
    assert!(
        verify(&app.database_url).0,
        "restoring the entry restores the chain"
    );

    tamper(&app.database_url, "DELETE FROM audit_log WHERE seq = 4").await;
    let (ok, out) = verify(&app.database_url);
    assert!(!ok);
    assert!(out.contains("newest entries were removed"), "{out}");

    tamper(&app.database_url, "DELETE FROM audit_log WHERE seq = 2").await;
    let (ok, out) = verify(&app.database_url);
    assert!(!ok);
    assert!(out.contains("entry 3 does not follow entry 1"), "{out}");
}

async fn concurrent_writes_keep_one_chain(app: TestApp) {
    let writes = (0..12).map(|i| {
        let app = app.clone();
        tokio::spawn(async move {
            let (status, body) = app
                .post("/admin/v1/consumers", serde_json::json!({"name": format!("c{i}"), "email": format!("c{i}@example.com")}))
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        })
    });
    for w in writes {
        w.await.unwrap();
    }
    assert_eq!(entries(&app).await.len(), 12);
    let (ok, out) = verify(&app.database_url);
    assert!(ok, "{out}");
}

async fn version_imports_and_status_changes_are_recorded(app: TestApp) {
    use crate::versions::{api_id, testdata, upload};
    let api = api_id(&app, "/pets").await;
    let spec = testdata("openapi/v3.0/petstore.yaml");
    let response = upload(&app, &api, "", "application/yaml", spec).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let version: Value = response.json().await.unwrap();
    let v = version["version"].as_str().unwrap();
    let (status, _) = app
        .post(
            &format!("/admin/v1/apis/{api}/versions/{v}/publish"),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let log = entries(&app).await;
    let actions: Vec<&str> = log.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["api.create", "version.create", "version.publish"]);
    assert_eq!(log[1]["target_id"], format!("{api}@{v}"));
    assert_eq!(log[1]["after"]["spec_sha256"].as_str().unwrap().len(), 64);
    assert_eq!(log[2]["before"]["status"], "draft");
    assert_eq!(log[2]["after"]["status"], "published");
    assert!(verify(&app.database_url).0);
}

crate::both_databases!(
    version_imports_and_status_changes_are_recorded,
    every_write_is_recorded_without_secrets,
    pages_and_bad_paging,
    verify_finds_edits_removals_and_truncation,
    concurrent_writes_keep_one_chain,
);
