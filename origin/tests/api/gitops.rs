//! `tollgate diff`, `apply` and `export` as an operator runs them: the real binary against
//! a running origin. Apply converges and is idempotent, diff's exit code tells whether
//! anything would change, export then apply is a no-op, errors name the file's line.

use crate::helpers::TestApp;
use crate::versions::testdata;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Exit code, stdout and stderr of one `tollgate` run.
struct Run {
    code: i32,
    out: String,
    err: String,
}

async fn tollgate(app: &TestApp, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tollgate"));
    for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("TOLLGATE_")) {
        command.env_remove(name);
    }
    command
        .args(args)
        .current_dir(dir)
        .env("TOLLGATE_ORIGIN_URL", &app.base)
        .env("TOLLGATE_ADMIN_TOKEN", &app.admin_token)
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied());
    // The origin runs on this test's runtime: wait for the child off it.
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        out: String::from_utf8_lossy(&output.stdout).into_owned(),
        err: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn workspace() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("specs")).unwrap();
    for (name, source) in [
        ("pets-1.yaml", "openapi/v3.0/petstore.yaml"),
        ("pets-2.yaml", "openapi/v3.0/petstore-expanded.yaml"),
    ] {
        std::fs::write(dir.path().join("specs").join(name), testdata(source)).unwrap();
    }
    let path = dir.path().to_owned();
    (dir, path)
}

const CONFIG: &str = r#"apis:
  - name: Pets
    base_path: /pets
    upstream_url: http://127.0.0.1:9090/pets
    upstream_auth:
      header: X-Api-Key
      value: "Bearer ${PETS_UPSTREAM_KEY}"
    shedding:
      max_error_percent: 50
    versions:
      - version: 1.0.0
        spec: specs/pets-1.yaml
        status: deprecated
        sunset: 2099-01-31
        migration_note: Move to 2.0.0.
      - version: 2.0.0
        spec: specs/pets-2.yaml
        status: published
  - name: Weather
    base_path: /weather
    upstream_url: http://127.0.0.1:9090/weather
    auth: {type: none}
plans:
  - name: Free
    rate_limit: {requests: 10, per_seconds: 1}
    quota: {requests: 1000, period: month}
  - name: Gold
    type: paid
    rate_limit: {requests: 100, per_seconds: 1, burst: 200}
    price: {currency: EUR, amount_minor: 4900, interval: month}
    entitlements: {features: [priority-support]}
limits:
  - name: per-ip
    api: /weather
    subject: ip
    rate_limit: {requests: 50, per_seconds: 10}
"#;

const SECRET: (&str, &str) = ("PETS_UPSTREAM_KEY", "s3cret-upstream");

async fn apply_converges_diff_tells_and_export_round_trips(app: TestApp) {
    let (_guard, dir) = workspace();
    std::fs::write(dir.join("tollgate.yaml"), CONFIG).unwrap();
    let diff = tollgate(&app, &dir, &["diff", "tollgate.yaml"], &[SECRET]).await;
    assert_eq!(diff.code, 2, "{}{}", diff.out, diff.err);
    assert!(
        diff.out.contains("+ api /pets  (tollgate.yaml:2)"),
        "{}",
        diff.out
    );
    assert!(
        diff.out
            .contains("Plan: 7 to create, 0 to update, 0 to delete"),
        "{}",
        diff.out
    );

    let apply = tollgate(&app, &dir, &["apply", "tollgate.yaml"], &[SECRET]).await;
    assert_eq!(apply.code, 0, "{}{}", apply.out, apply.err);
    assert!(apply.out.contains("Applied: 7 to create"), "{}", apply.out);
    let (_, apis) = app.get("/admin/v1/apis").await;
    let pets = apis
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["base_path"] == "/pets")
        .unwrap();
    let id = pets["id"].as_str().unwrap();
    let (_, versions) = app.get(&format!("/admin/v1/apis/{id}/versions")).await;
    assert_eq!(versions[0]["status"], "deprecated");
    assert_eq!(versions[1]["status"], "published");
    let check = json!({"header": "X-Api-Key", "value": "Bearer s3cret-upstream"});
    let (_, matched) = app
        .post(&format!("/admin/v1/apis/{id}/upstream-auth/check"), check)
        .await;
    assert_eq!(
        matched["matches"], true,
        "the ${{ENV}} value was not expanded"
    );
    let audit_len = app.get("/admin/v1/audit?limit=1000").await.1["entries"]
        .as_array()
        .unwrap()
        .len();

    // Idempotent: nothing to do, nothing written.
    let again = tollgate(&app, &dir, &["apply", "tollgate.yaml"], &[SECRET]).await;
    assert_eq!(again.code, 0, "{}{}", again.out, again.err);
    assert!(again.out.contains("No changes"), "{}", again.out);
    let diff = tollgate(&app, &dir, &["diff", "tollgate.yaml"], &[SECRET]).await;
    assert_eq!(diff.code, 0, "{}{}", diff.out, diff.err);
    assert_eq!(
        app.get("/admin/v1/audit?limit=1000").await.1["entries"]
            .as_array()
            .unwrap()
            .len(),
        audit_len
    );

    // An edit shows field by field, then applies.
    let edited = CONFIG
        .replace(
            "requests: 100, per_seconds: 1, burst: 200",
            "requests: 120, per_seconds: 1, burst: 200",
        )
        .replace("name: Weather", "name: Weather v2");
    std::fs::write(dir.join("tollgate.yaml"), edited).unwrap();
    let diff = tollgate(&app, &dir, &["diff", "tollgate.yaml"], &[SECRET]).await;
    assert_eq!(diff.code, 2, "{}{}", diff.out, diff.err);
    assert!(diff.out.contains("~ plan \"Gold\""), "{}", diff.out);
    assert!(
        diff.out.contains("name: \"Weather\" → \"Weather v2\""),
        "{}",
        diff.out
    );
    assert!(
        diff.out.contains("Plan: 0 to create, 2 to update"),
        "{}",
        diff.out
    );
    let rotated = tollgate(
        &app,
        &dir,
        &["diff", "tollgate.yaml"],
        &[("PETS_UPSTREAM_KEY", "rotated")],
    )
    .await;
    assert!(
        rotated
            .out
            .contains("upstream_auth: X-Api-Key (value not shown)"),
        "{}",
        rotated.out
    );
    assert!(
        !rotated.out.contains("rotated") && !rotated.out.contains("s3cret"),
        "{}",
        rotated.out
    );
    assert_eq!(
        tollgate(&app, &dir, &["apply", "tollgate.yaml"], &[SECRET])
            .await
            .code,
        0
    );
    assert_eq!(
        tollgate(&app, &dir, &["diff", "tollgate.yaml"], &[SECRET])
            .await
            .code,
        0
    );

    // Export, then apply of the export changes nothing.
    let export = tollgate(
        &app,
        &dir,
        &["export", "--out", "exported/tollgate.yaml"],
        &[],
    )
    .await;
    assert_eq!(export.code, 0, "{}{}", export.out, export.err);
    let text = std::fs::read_to_string(dir.join("exported/tollgate.yaml")).unwrap();
    assert!(text.contains("${TOLLGATE_UPSTREAM_PETS}"), "{text}");
    assert!(!text.contains("s3cret"), "a secret was exported: {text}");
    assert!(dir.join("exported/specs/pets-2.0.0.json").exists());
    let secret = ("TOLLGATE_UPSTREAM_PETS", "Bearer s3cret-upstream");
    let diff = tollgate(&app, &dir, &["diff", "exported/tollgate.yaml"], &[secret]).await;
    assert_eq!(diff.code, 0, "{}{}\n{text}", diff.out, diff.err);
    assert!(diff.out.contains("No changes"), "{}", diff.out);
    let stdout = tollgate(&app, &dir, &["export"], &[]).await;
    assert!(stdout.out.contains("base_path: /weather"), "{}", stdout.out);
}

async fn prune_deletes_what_the_file_leaves_out_and_the_lifecycle_only_moves_forward(app: TestApp) {
    let (_guard, dir) = workspace();
    std::fs::write(dir.join("tollgate.yaml"), CONFIG).unwrap();
    assert_eq!(
        tollgate(&app, &dir, &["apply", "tollgate.yaml"], &[SECRET])
            .await
            .code,
        0
    );
    let weatherless =
        CONFIG.split("  - name: Weather").next().unwrap().to_owned() + "plans:\n  - name: Free\n";
    std::fs::write(dir.join("small.yaml"), &weatherless).unwrap();
    let without = tollgate(&app, &dir, &["apply", "small.yaml"], &[SECRET]).await;
    assert_eq!(without.code, 0, "{}{}", without.out, without.err);
    assert!(
        without.out.contains("`--prune` would delete it"),
        "{}",
        without.out
    );
    assert_eq!(
        app.get("/admin/v1/apis").await.1.as_array().unwrap().len(),
        2
    );
    let diff = tollgate(&app, &dir, &["diff", "--prune", "small.yaml"], &[SECRET]).await;
    assert_eq!(diff.code, 2);
    assert!(diff.out.contains("- api /weather"), "{}", diff.out);
    let pruned = tollgate(&app, &dir, &["apply", "--prune", "small.yaml"], &[SECRET]).await;
    assert_eq!(pruned.code, 0, "{}{}", pruned.out, pruned.err);
    assert_eq!(
        app.get("/admin/v1/apis").await.1.as_array().unwrap().len(),
        1
    );
    assert_eq!(
        app.get("/admin/v1/plans").await.1.as_array().unwrap().len(),
        1
    );
    assert_eq!(
        app.get("/admin/v1/limits")
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        tollgate(&app, &dir, &["diff", "--prune", "small.yaml"], &[SECRET])
            .await
            .code,
        0
    );

    // Versions are immutable and their status never moves back.
    let back = weatherless.replace("status: published", "status: draft");
    std::fs::write(dir.join("back.yaml"), back).unwrap();
    let run = tollgate(&app, &dir, &["apply", "back.yaml"], &[SECRET]).await;
    assert_eq!(run.code, 1);
    assert!(
        run.err.contains("back.yaml:16") && run.err.contains("only moves forward"),
        "{}",
        run.err
    );
    let swapped = weatherless.replace("specs/pets-2.yaml", "specs/pets-1.yaml");
    std::fs::write(dir.join("swapped.yaml"), swapped).unwrap();
    let run = tollgate(&app, &dir, &["diff", "swapped.yaml"], &[SECRET]).await;
    assert_eq!(run.code, 1);
    assert!(
        run.err.contains("swapped.yaml:16") && run.err.contains("add a new version"),
        "{}",
        run.err
    );
}

async fn errors_name_the_line_and_column(app: TestApp) {
    let (_guard, dir) = workspace();
    let cases = [
        ("apis:\n  - name: [unclosed\n", "bad.yaml:3:1"),
        ("apis:\n  - name: A\n    base_path: /a\n    upstream_url: http://a\n    upstrem_url: http://b\n", "bad.yaml:5:5: unknown field `upstrem_url`"),
        ("plans:\n  - name: Free\n    rate_limit: {requests: many, per_seconds: 1}\n", "bad.yaml:3:18: invalid type"),
        ("limits:\n  - name: x\n    api: /nowhere\n    rate_limit: {requests: 1, per_seconds: 1}\n", "bad.yaml:3:5: no API has the base_path `/nowhere`"),
        ("apis:\n  - name: A\n    base_path: /a\n    upstream_url: ftp://a\n", "bad.yaml:4:5: `upstream_url`"),
        ("apis:\n  - name: A\n    base_path: /a\n    upstream_url: http://a\n    upstream_auth: {header: X, value: \"${TOLLGATE_TEST_UNSET_VAR}\"}\n", "`TOLLGATE_TEST_UNSET_VAR` is not set"),
        ("plans:\n  - name: Free\n  - name: Free\n", "bad.yaml:3:1: plan `Free` is already defined on line 2"),
    ];
    for (text, expected) in cases {
        std::fs::write(dir.join("bad.yaml"), text).unwrap();
        for command in ["diff", "apply"] {
            let run = tollgate(&app, &dir, &[command, "bad.yaml"], &[]).await;
            assert_eq!(run.code, 1, "{text}: {}{}", run.out, run.err);
            assert!(
                run.err.contains(expected),
                "{text}\nexpected {expected}, got: {}",
                run.err
            );
        }
    }
    assert_eq!(
        app.get("/admin/v1/apis").await.1,
        json!([]),
        "a refused file changed something"
    );
    // A refusal by the origin is shown with its detail and the item's line.
    let (status, _) = app
        .post(
            "/admin/v1/apis",
            json!({"name": "x", "base_path": "/x", "upstream_url": "http://x"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    std::fs::write(dir.join("bad.yaml"), "apis:\n  - name: A\n    base_path: /a\n    upstream_url: http://a\n    upstream_auth: {header: \"Bad Header\", value: x}\n").unwrap();
    let run = tollgate(&app, &dir, &["apply", "bad.yaml"], &[]).await;
    assert_eq!(run.code, 1);
    assert!(
        run.err.contains("bad.yaml:2") && run.err.contains("422"),
        "{}",
        run.err
    );
    let response = app
        .admin(Method::GET, "/admin/v1/apis")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

crate::both_databases!(
    apply_converges_diff_tells_and_export_round_trips,
    prune_deletes_what_the_file_leaves_out_and_the_lifecycle_only_moves_forward,
    errors_name_the_line_and_column,
);
