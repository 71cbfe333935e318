//! The operator console over HTTP on SQLite and PostgreSQL: an operator made with
//! `create_operator` logs in, creates an API, uploads, publishes and deprecates versions
//! through the admin logic (audited as `console:<user id>`); a viewer gets 403 on a
//! change and 404 on another organisation's API; CSRF is required on every form; hostile
//! strings come back escaped; careless input is a page with a reason, never a 500.
//! Consumers and plans are created and versions retired from the console the same way.

use crate::helpers::TestApp;
use crate::tenancy::org;
use crate::versions::testdata;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tollgate_core::rbac::Role;
use tollgate_origin::console::{create_operator, Grant};

const PASSWORD: &str = "a long operator password";

/// A browser without JavaScript: one console cookie and the last page's CSRF token.
struct Browser<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    cookie: String,
    csrf: String,
}

fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[at..at + 64].to_owned()
}

impl<'a> Browser<'a> {
    async fn open(app: &'a TestApp) -> Browser<'a> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let res = client.get(app.url("/console/login")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let csp = res.headers()["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
            "{csp}"
        );
        let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert!(
            cookie.starts_with("tg_console=")
                && cookie.contains("HttpOnly")
                && cookie.contains("SameSite=Strict")
                && cookie.contains("Path=/console"),
            "{cookie}"
        );
        let cookie = cookie.split(';').next().unwrap().to_owned();
        let csrf = csrf_of(&res.text().await.unwrap());
        Browser {
            app,
            client,
            cookie,
            csrf,
        }
    }

    async fn log_in(app: &'a TestApp, email: &str) -> Browser<'a> {
        let mut b = Browser::open(app).await;
        let res = b
            .post(
                "/console/login",
                &[("email", email), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(res.headers()["location"], "/console");
        let (status, html) = b.get("/console").await;
        assert_eq!(status, StatusCode::OK, "{html}");
        b
    }

    async fn get(&mut self, path: &str) -> (StatusCode, String) {
        let res = self
            .client
            .get(self.app.url(path))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        let status = res.status();
        let html = res.text().await.unwrap();
        if html.contains("name=\"csrf\"") {
            self.csrf = csrf_of(&html);
        }
        (status, html)
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let csrf = self.csrf.clone();
        let mut fields: Vec<(&str, &str)> = vec![("csrf", &csrf)];
        fields.extend_from_slice(form);
        self.post_raw(path, &fields).await
    }

    async fn post_raw(&mut self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let res = self
            .client
            .post(self.app.url(path))
            .header("cookie", &self.cookie)
            .form(fields)
            .send()
            .await
            .unwrap();
        if let Some(set) = res.headers().get("set-cookie") {
            self.cookie = set.to_str().unwrap().split(';').next().unwrap().to_owned();
        }
        res
    }
}

async fn operator(app: &TestApp, email: &str, grant: Grant) -> String {
    let db = tollgate_origin::db::connect(&app.database_url)
        .await
        .unwrap();
    let id = create_operator(&db, email, "Ops <b>&</b>", PASSWORD, grant)
        .await
        .unwrap();
    db.close().await;
    id
}

/// Runs SQL on the origin's database, to lay down usage and invoices as the edge and
/// billing would have.
async fn execute(app: &TestApp, sql: &str) {
    let db = tollgate_origin::db::connect(&app.database_url)
        .await
        .unwrap();
    sqlx::query(sql).execute(&db).await.unwrap();
    db.close().await;
}

/// The config version the edge polls for.
async fn config_version(app: &TestApp) -> u64 {
    let db = tollgate_origin::db::connect(&app.database_url)
        .await
        .unwrap();
    let version = tollgate_origin::config_version::current(&db).await.unwrap();
    db.close().await;
    version
}

fn today_ms() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    now / 86_400_000 * 86_400_000
}

async fn usage(app: &TestApp, api: &str, requests: i64) {
    execute(app, &format!(
        "INSERT INTO usage_rollups (granularity, bucket_start, consumer_id, key_id, api_id, plan_id, requests, billable, bytes_in, bytes_out, latency_ms_sum, latency_ms_max) \
         VALUES ('day', {}, 'con_x', 'key_x', '{api}', '', {requests}, {requests}, 0, 0, 0, 0)", today_ms()
    )).await;
}

fn petstore(version: &str) -> String {
    let text = String::from_utf8(testdata("openapi/v3.0/petstore.yaml")).unwrap();
    text.replacen("version: 1.0.0", &format!("version: {version}"), 1)
}

async fn versions(app: &TestApp, api: &str) -> Value {
    let (status, body) = app.get(&format!("/admin/v1/apis/{api}/versions")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn an_operator_publishes_a_new_version_and_deprecates_the_old_one(app: TestApp) {
    let user = operator(&app, "ops@example.com", Grant::Platform).await;
    let mut b = Browser::log_in(&app, "ops@example.com").await;
    // Revenue: invoices net of credit notes, void ones left out, per currency.
    let consumer = app.create_consumer().await;
    let consumer = consumer["id"].as_str().unwrap();
    for (id, status, subtotal, credited) in [
        ("inv_a", "finalized", 12_345, 345),
        ("inv_b", "void", 99_999, 0),
    ] {
        let start = today_ms() - if id == "inv_a" { 0 } else { 40 * 86_400_000 };
        execute(&app, &format!(
            "INSERT INTO invoices (id, consumer_id, org_id, period_start, period_end, currency, status, subtotal_minor, credited_minor, created_at, updated_at) \
             VALUES ('{id}', '{consumer}', NULL, {start}, {start}, 'eur', '{status}', {subtotal}, {credited}, 0, 0)"
        )).await;
    }
    usage(&app, "api_gone", 3).await;
    let (_, html) = b.get("/console").await;
    assert!(html.contains("id=\"requests-chart\"") && html.contains("<svg"));
    assert!(html.contains("Total 3;"), "{html}");
    assert!(
        html.contains("revenue-chart") && html.contains("Total 120.00 EUR;"),
        "{html}"
    );
    assert!(
        html.contains("Ops &#60;b&#62;&#38;&#60;/b&#62;"),
        "names are escaped: {html}"
    );
    let res = b
        .post(
            "/console/apis",
            &[
                ("name", "Pets"),
                ("base_path", "/pets"),
                ("upstream_url", "http://127.0.0.1:9/v1"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = res.headers()["location"].to_str().unwrap().to_owned();
    let api = page.trim_start_matches("/console/apis/").to_owned();
    for v in ["1.0.0", "2.0.0"] {
        b.get(&page).await;
        let spec = petstore(v);
        let res = b
            .post(&format!("{page}/versions"), &[("spec", &spec)])
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{v}");
        b.get(&page).await;
        let res = b.post(&format!("{page}/versions/{v}/publish"), &[]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{v}");
    }
    let (_, html) = b.get(&page).await;
    assert!(html.contains("Deprecate 1.0.0") && html.contains("Deprecate 2.0.0"));
    // Careless input: a date in the past, and no migration hint, are shown with the reason.
    let res = b
        .post(
            &format!("{page}/versions/1.0.0/deprecate"),
            &[("sunset", "2001-01-01"), ("migration_note", "use v2")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("must be in the future"));
    let res = b
        .post(
            &format!("{page}/versions/1.0.0/deprecate"),
            &[("sunset", "2099-01-31")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = b
        .post(
            &format!("{page}/versions/1.0.0/deprecate"),
            &[
                ("sunset", "2099-01-31"),
                ("migration_url", "https://docs.example.com/v2"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let all = versions(&app, &api).await;
    assert_eq!(all[0]["status"], "deprecated");
    assert_eq!(all[0]["sunset_at"], "2099-01-31T00:00:00Z");
    assert_eq!(all[1]["status"], "published");
    let (_, html) = b.get(&page).await;
    assert!(html.contains("sunset 2099-01-31T00:00:00Z"));
    // The changes are the admin API's, audited as the console operator.
    let (_, audit) = app.get("/admin/v1/audit").await;
    let actions: Vec<(String, String)> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["actor"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let me = format!("console:{user}");
    for action in ["api.create", "version.publish", "version.deprecate"] {
        assert!(
            actions.iter().any(|(a, who)| a == action && *who == me),
            "{action} by {me} in {actions:?}"
        );
    }
    let (status, html) = b.get("/console/audit").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("version.deprecate"));
    // A broken document is refused with the validator's reason, and nothing is stored.
    b.get(&page).await;
    let res = b
        .post(
            &format!("{page}/versions"),
            &[("spec", "openapi: 3.0.0\ninfo: [")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(versions(&app, &api).await.as_array().unwrap().len(), 2);
}

async fn a_viewer_reads_but_cannot_publish_and_other_orgs_are_not_found(app: TestApp) {
    let mine = org(&app, "Mine").await;
    let theirs = org(&app, "Theirs").await;
    let mut ids = Vec::new();
    for (o, base) in [(&mine, "/mine"), (&theirs, "/theirs")] {
        let res = app
            .admin(Method::POST, "/admin/v1/apis")
            .header("x-tollgate-org", o.as_str())
            .json(&json!({"name": base, "base_path": base, "upstream_url": "http://127.0.0.1:9"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let api: Value = res.json().await.unwrap();
        let id = api["id"].as_str().unwrap().to_owned();
        let res = app
            .admin(Method::POST, &format!("/admin/v1/apis/{id}/versions"))
            .header("x-tollgate-org", o.as_str())
            .header("content-type", "application/yaml")
            .body(petstore("1.0.0"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        ids.push(id);
    }
    let grant = |role| Grant::Org {
        org_id: mine.clone(),
        role,
    };
    operator(&app, "viewer@example.com", grant(Role::Viewer)).await;
    let mut b = Browser::log_in(&app, "viewer@example.com").await;
    let (status, html) = b.get(&format!("/console/apis/{}", ids[0])).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Mine · viewer") && !html.contains("Publish 1.0.0"));
    let res = b
        .post(
            &format!("/console/apis/{}/versions/1.0.0/publish", ids[0]),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.unwrap().contains("viewer"));
    assert_eq!(versions(&app, &ids[0]).await[0]["status"], "draft");
    let (status, html) = b.get("/console/apis").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("/mine") && !html.contains("/theirs"));
    assert_eq!(
        b.get(&format!("/console/apis/{}", ids[1])).await.0,
        StatusCode::NOT_FOUND
    );
    for page in ["/console/audit", "/console/audit?after=1"] {
        assert_eq!(b.get(page).await.0, StatusCode::FORBIDDEN, "{page}");
    }
    usage(&app, &ids[0], 7).await;
    usage(&app, &ids[1], 1000).await;
    let (status, html) = b.get("/console").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("requests-chart") && !html.contains("revenue-chart"));
    assert!(
        html.contains("Total 7;"),
        "only the organisation's usage: {html}"
    );
    assert!(!html.contains("href=\"/console/audit\""));
    // A member of two organisations switches between them in Settings; a third is not theirs.
    let third = org(&app, "Third").await;
    operator(
        &app,
        "viewer@example.com",
        Grant::Org {
            org_id: theirs.clone(),
            role: Role::Viewer,
        },
    )
    .await;
    let (_, html) = b.get("/console/settings").await;
    assert!(
        html.contains("id=\"switch-org\"") && !html.contains(&third),
        "{html}"
    );
    let res = b.post("/console/org", &[("org_id", &third)]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = b.post("/console/org", &[("org_id", "")]).await;
    assert_eq!(
        res.status(),
        StatusCode::NOT_FOUND,
        "members are not platform operators"
    );
    let res = b.post("/console/org", &[("org_id", &theirs)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, html) = b.get("/console/apis").await;
    assert!(
        html.contains("/theirs") && !html.contains("/mine"),
        "{html}"
    );
    b.get("/console/settings").await;
    let res = b.post("/console/org", &[("org_id", &mine)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    b.get("/console/settings").await;
    // The role is read on every request: promoted, the same session may publish.
    operator(&app, "viewer@example.com", grant(Role::Developer)).await;
    b.get(&format!("/console/apis/{}", ids[0])).await;
    let res = b
        .post(
            &format!("/console/apis/{}/versions/1.0.0/publish", ids[0]),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = b
        .post(
            &format!("/console/apis/{}/versions/1.0.0/publish", ids[1]),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(versions(&app, &ids[1]).await[0]["status"], "draft");
}

async fn forms_need_the_session_csrf_token_and_pages_a_session(app: TestApp) {
    operator(&app, "ops@example.com", Grant::Platform).await;
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for page in [
        "/console",
        "/console/apis",
        "/console/audit",
        "/console/settings",
    ] {
        let res = anonymous.get(app.url(page)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{page}");
        assert_eq!(res.headers()["location"], "/console/login");
    }
    let mut b = Browser::open(&app).await;
    let res = b
        .post_raw(
            "/console/login",
            &[("email", "ops@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "log-in without a token"
    );
    let mut b = Browser::log_in(&app, "ops@example.com").await;
    let form = [
        ("name", "X"),
        ("base_path", "/x"),
        ("upstream_url", "http://127.0.0.1:9"),
    ];
    let res = b.post_raw("/console/apis", &form).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let mut wrong = vec![("csrf", "0".repeat(64))];
    wrong.extend(form.iter().map(|(k, v)| (*k, v.to_string())));
    let wrong: Vec<(&str, &str)> = wrong.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = b.post_raw("/console/apis", &wrong).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let (_, apis) = app.get("/admin/v1/apis").await;
    assert_eq!(apis.as_array().unwrap().len(), 0, "nothing was created");
    // A developer's portal account is not an operator.
    let res = b.post("/console/logout", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(b.get("/console").await.0, StatusCode::SEE_OTHER);
    let mut b = Browser::open(&app).await;
    let res = b
        .post(
            "/console/login",
            &[
                ("email", "ops@example.com"),
                ("password", "wrong password!"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

async fn hostile_strings_are_escaped_and_careless_input_is_explained(app: TestApp) {
    operator(&app, "ops@example.com", Grant::Platform).await;
    let evil = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>";
    let (status, api) = app
        .post(
            "/admin/v1/apis",
            json!({"name": evil, "base_path": "/evil", "upstream_url": "http://127.0.0.1:9"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{api}");
    let (status, consumer) = app
        .post(
            "/admin/v1/consumers",
            json!({"name": evil, "email": "evil@example.com"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{consumer}");
    let api = api["id"].as_str().unwrap();
    let consumer = consumer["id"].as_str().unwrap();
    let mut b = Browser::log_in(&app, "ops@example.com").await;
    for page in [
        "/console/apis".to_owned(),
        format!("/console/apis/{api}"),
        "/console/consumers".to_owned(),
        format!("/console/consumers/{consumer}"),
    ] {
        let (status, html) = b.get(&page).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(
            !html.contains("<script>") && !html.contains("<img"),
            "{page}"
        );
        assert!(
            html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "{page}: {html}"
        );
    }
    // A key issued from the console is shown once; revoking it goes through the admin API.
    b.get(&format!("/console/consumers/{consumer}")).await;
    let res = b
        .post(
            &format!("/console/consumers/{consumer}/keys"),
            &[("api_id", api), ("plan_id", "")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"new-key\""));
    let (_, keys) = app
        .get(&format!("/admin/v1/keys?consumer_id={consumer}"))
        .await;
    let key = keys[0]["id"].as_str().unwrap().to_owned();
    let (_, html) = b.get(&format!("/console/consumers/{consumer}")).await;
    assert!(
        !html.contains("id=\"new-key\""),
        "the key is shown only once"
    );
    let res = b.post(&format!("/console/keys/{key}/revoke"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, keys) = app
        .get(&format!("/admin/v1/keys?consumer_id={consumer}"))
        .await;
    assert_eq!(keys[0]["status"], "revoked");
    // Careless input: each is a page with a reason, never a 500.
    b.get("/console/apis").await;
    let res = b
        .post(
            "/console/apis",
            &[
                ("name", evil),
                ("base_path", "no slash"),
                ("upstream_url", "ftp://x"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"form-error\"") && !html.contains("<script>"));
    b.get(&format!("/console/consumers/{consumer}")).await;
    let res = b
        .post(
            &format!("/console/consumers/{consumer}/keys"),
            &[("api_id", "api_nope")],
        )
        .await;
    assert!(res.status().is_client_error(), "{}", res.status());
    for (page, status) in [
        ("/console/audit?after=abc", StatusCode::UNPROCESSABLE_ENTITY),
        ("/console/audit?after=-1", StatusCode::UNPROCESSABLE_ENTITY),
        ("/console/apis/api_nope", StatusCode::NOT_FOUND),
        ("/console/consumers/%3Cscript%3E", StatusCode::NOT_FOUND),
    ] {
        let (got, html) = b.get(page).await;
        assert_eq!(got, status, "{page}");
        assert!(!html.contains("<script>"), "{page}");
    }
    let res = b
        .post(&format!("/console/apis/{api}/versions/9.9.9/publish"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let (status, html) = b.get("/console/settings").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Config version"));
    // A platform operator may act for an organisation, as its owner, and back.
    let acme = org(&app, "Acme").await;
    b.get("/console/settings").await;
    let res = b.post("/console/org", &[("org_id", &acme)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, html) = b.get("/console/apis").await;
    assert!(
        html.contains("Acme · owner") && !html.contains("/evil"),
        "{html}"
    );
    let res = b.post("/console/org", &[("org_id", "")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, html) = b.get("/console/apis").await;
    assert!(html.contains("platform operator") && html.contains("/evil"));
}

/// An API with version 1.0.0 deprecated and 2.0.0 published, made with the admin API.
async fn api_with_a_deprecated_version(app: &TestApp, org: Option<&str>) -> String {
    let send = |method, path: String| {
        let req = app.admin(method, &path);
        match org {
            Some(o) => req.header("x-tollgate-org", o),
            None => req,
        }
    };
    let res = send(Method::POST, "/admin/v1/apis".into())
        .json(&json!({"name": "Old", "base_path": "/old", "upstream_url": "http://127.0.0.1:9"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let api: Value = res.json().await.unwrap();
    let id = api["id"].as_str().unwrap().to_owned();
    for v in ["1.0.0", "2.0.0"] {
        let res = send(Method::POST, format!("/admin/v1/apis/{id}/versions"))
            .header("content-type", "application/yaml")
            .body(petstore(v))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED, "{v}");
        let res = send(
            Method::POST,
            format!("/admin/v1/apis/{id}/versions/{v}/publish"),
        )
        .send()
        .await
        .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{v}");
    }
    let res = send(
        Method::POST,
        format!("/admin/v1/apis/{id}/versions/1.0.0/deprecate"),
    )
    .json(&json!({"sunset": "2099-01-31", "migration_url": "https://docs.example.com/v2"}))
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    id
}

async fn an_operator_creates_consumers_and_plans_and_retires_a_version(app: TestApp) {
    let user = operator(&app, "ops@example.com", Grant::Platform).await;
    let mut b = Browser::log_in(&app, "ops@example.com").await;
    let evil = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>";
    // A consumer: on to its page, listed, escaped.
    let (status, html) = b.get("/console/consumers").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"create-consumer\""), "{html}");
    let res = b
        .post(
            "/console/consumers",
            &[("name", evil), ("email", " dev@acme.example ")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(page.starts_with("/console/consumers/con_"), "{page}");
    let (_, consumers) = app.get("/admin/v1/consumers").await;
    assert_eq!(consumers[0]["name"], evil);
    assert_eq!(consumers[0]["email"], "dev@acme.example");
    for at in ["/console/consumers", page.as_str()] {
        let (status, html) = b.get(at).await;
        assert_eq!(status, StatusCode::OK, "{at}");
        assert!(!html.contains("<script>") && !html.contains("<img"), "{at}");
        assert!(html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"));
    }
    // A refused consumer: the form again with the admin API's reason and the text typed.
    b.get("/console/consumers").await;
    let res = b
        .post(
            "/console/consumers",
            &[("name", evil), ("email", "not-an-email")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("id=\"form-error\"") && html.contains("email"),
        "{html}"
    );
    assert!(html.contains("value=\"not-an-email\"") && !html.contains("<script>"));
    let (_, consumers) = app.get("/admin/v1/consumers").await;
    assert_eq!(consumers.as_array().unwrap().len(), 1);
    // A plan with a rate limit and a quota.
    let (_, html) = b.get("/console/plans").await;
    assert!(html.contains("id=\"create-plan\""));
    let before = config_version(&app).await;
    let res = b
        .post(
            "/console/plans",
            &[
                ("name", evil),
                ("type", "free"),
                ("rate_requests", "10"),
                ("rate_seconds", "60"),
                ("quota_requests", "1000"),
                ("quota_period", "day"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(
        config_version(&app).await > before,
        "the edge learns of the plan"
    );
    let (_, plans) = app.get("/admin/v1/plans").await;
    let plan = &plans[0];
    assert_eq!(plan["name"], evil);
    assert_eq!(plan["type"], "free");
    assert_eq!(plan["rate_limit"]["requests"], 10);
    assert_eq!(plan["rate_limit"]["per_seconds"], 60);
    assert_eq!(plan["quota"]["requests"], 1000);
    assert_eq!(plan["quota"]["period"], "day");
    let (_, html) = b.get("/console/plans").await;
    assert!(
        html.contains("10 per 60 s") && html.contains("1000 per day"),
        "{html}"
    );
    assert!(!html.contains("<script>") && !html.contains("<img"));
    // A plan with no limits at all is the admin API's default.
    let res = b.post("/console/plans", &[("name", "Open")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // Bad numbers and names: the form again with the reason, nothing created.
    for (form, reason) in [
        (
            vec![("rate_requests", "ten"), ("rate_seconds", "60")],
            "whole number",
        ),
        (
            vec![("rate_requests", "-5"), ("rate_seconds", "60")],
            "whole number",
        ),
        (
            vec![
                ("rate_requests", "99999999999999999999999"),
                ("rate_seconds", "60"),
            ],
            "whole number",
        ),
        (vec![("rate_requests", "10")], "period"),
        (
            vec![("rate_requests", "0"), ("rate_seconds", "60")],
            "rate_limit",
        ),
        (
            vec![("quota_requests", "5"), ("quota_period", "fortnight")],
            "hour, day or month",
        ),
        (vec![("type", "paid")], "price"),
    ] {
        b.get("/console/plans").await;
        let mut fields = vec![("name", "Bad")];
        fields.extend(form.iter().copied());
        let res = b.post("/console/plans", &fields).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{form:?}");
        let html = res.text().await.unwrap();
        let error = &html[html.find("id=\"form-error\"").expect("a reason")..];
        let error = &error[..error.find("</p>").unwrap()];
        assert!(error.contains(reason), "{form:?}: {error}");
    }
    let res = b.post("/console/plans", &[("name", "")]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (_, plans) = app.get("/admin/v1/plans").await;
    assert_eq!(plans.as_array().unwrap().len(), 2, "{plans}");
    // Retire: offered on the deprecated version only; a published one is the admin API's 409.
    let api = api_with_a_deprecated_version(&app, None).await;
    let page = format!("/console/apis/{api}");
    let (_, html) = b.get(&page).await;
    assert!(
        html.contains("Retire 1.0.0") && !html.contains("Retire 2.0.0"),
        "{html}"
    );
    let res = b.post(&format!("{page}/versions/2.0.0/retire"), &[]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("id=\"form-error\""));
    b.get(&page).await;
    let before = config_version(&app).await;
    let res = b.post(&format!("{page}/versions/1.0.0/retire"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(
        config_version(&app).await > before,
        "the edge learns of the retirement"
    );
    assert_eq!(
        res.headers()["location"],
        format!("{page}#v-1.0.0").as_str()
    );
    let all = versions(&app, &api).await;
    assert_eq!(all[0]["status"], "retired");
    assert_eq!(all[1]["status"], "published");
    b.get(&page).await;
    let res = b.post(&format!("{page}/versions/1.0.0/retire"), &[]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT, "retired once");
    let res = b.post(&format!("{page}/versions/9.9.9/retire"), &[]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // All of it audited as the console operator, through the admin logic.
    let (_, audit) = app.get("/admin/v1/audit").await;
    let me = format!("console:{user}");
    for action in ["consumer.create", "plan.create", "version.retire"] {
        assert!(
            audit["entries"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["action"] == action && e["actor"] == me.as_str()),
            "{action} by {me} in {audit}"
        );
    }
}

async fn write_forms_need_the_role_and_the_csrf_token(app: TestApp) {
    let mine = org(&app, "Mine").await;
    let api = api_with_a_deprecated_version(&app, Some(&mine)).await;
    let grant = |role| Grant::Org {
        org_id: mine.clone(),
        role,
    };
    operator(&app, "viewer@example.com", grant(Role::Viewer)).await;
    let mut b = Browser::log_in(&app, "viewer@example.com").await;
    for page in ["/console/consumers", "/console/plans"] {
        let (status, html) = b.get(page).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(
            !html.contains("id=\"create-"),
            "{page}: no form for a viewer"
        );
    }
    let (_, html) = b.get(&format!("/console/apis/{api}")).await;
    assert!(!html.contains("Retire 1.0.0"));
    let plan = [
        ("name", "Sneaky"),
        ("rate_requests", "1"),
        ("rate_seconds", "1"),
    ];
    for (path, form) in [
        (
            "/console/consumers".to_owned(),
            &[("name", "Sneaky"), ("email", "s@example.com")][..],
        ),
        ("/console/plans".to_owned(), &plan[..]),
        (
            format!("/console/apis/{api}/versions/1.0.0/retire"),
            &[][..],
        ),
    ] {
        let res = b.post(&path, form).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
        assert!(res.text().await.unwrap().contains("viewer"), "{path}");
    }
    // A billing member may make plans but not consumers.
    operator(&app, "billing@example.com", grant(Role::Billing)).await;
    let mut b = Browser::log_in(&app, "billing@example.com").await;
    let (_, html) = b.get("/console/consumers").await;
    assert!(!html.contains("id=\"create-consumer\""));
    let res = b
        .post(
            "/console/consumers",
            &[("name", "Sneaky"), ("email", "s@example.com")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Without the session's token, nothing happens even for the organisation's admin.
    operator(&app, "admin@example.com", grant(Role::Admin)).await;
    let mut b = Browser::log_in(&app, "admin@example.com").await;
    b.get("/console/plans").await;
    for token in [None, Some("0".repeat(64))] {
        let with = |form: &[(&'static str, &'static str)]| {
            let mut fields: Vec<(&str, String)> =
                form.iter().map(|(k, v)| (*k, v.to_string())).collect();
            if let Some(t) = &token {
                fields.push(("csrf", t.clone()));
            }
            fields
        };
        for (path, fields) in [
            (
                "/console/consumers".to_owned(),
                with(&[("name", "Sneaky"), ("email", "s@example.com")]),
            ),
            ("/console/plans".to_owned(), with(&plan)),
            (
                format!("/console/apis/{api}/versions/1.0.0/retire"),
                with(&[]),
            ),
        ] {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let res = b.post_raw(&path, &fields).await;
            assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path} {token:?}");
        }
    }
    let scoped = |path: &str| {
        app.admin(Method::GET, path)
            .header("x-tollgate-org", mine.as_str())
    };
    for path in ["/admin/v1/consumers", "/admin/v1/plans"] {
        let got: Value = scoped(path).send().await.unwrap().json().await.unwrap();
        assert_eq!(got.as_array().unwrap().len(), 0, "nothing created: {path}");
    }
    assert_eq!(versions(&app, &api).await[0]["status"], "deprecated");
    // With it, the admin creates in the organisation.
    b.get("/console/consumers").await;
    let res = b
        .post(
            "/console/consumers",
            &[("name", "Acme app"), ("email", "a@example.com")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let got: Value = scoped("/admin/v1/consumers")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got[0]["name"], "Acme app");
}

crate::both_databases!(
    an_operator_creates_consumers_and_plans_and_retires_a_version,
    write_forms_need_the_role_and_the_csrf_token,
    an_operator_publishes_a_new_version_and_deprecates_the_old_one,
    a_viewer_reads_but_cannot_publish_and_other_orgs_are_not_found,
    forms_need_the_session_csrf_token_and_pages_a_session,
    hostile_strings_are_escaped_and_careless_input_is_explained,
);
