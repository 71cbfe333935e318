//! The developer side of the portal over HTTP on SQLite and PostgreSQL: usage charts' data
//! and quota bars from the ledger, key rotation with overlap, snippets with a placeholder
//! and with the real key, the OpenAPI and Postman downloads, the reference and its proxy's
//! refusals, and invoices — each with careless or hostile input and other developers' ids.

use crate::helpers::TestApp;
use crate::versions::{api_id, testdata, upload};
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use tollgate_origin::clock::{now_ms, parse_rfc3339};

/// A browser without JavaScript: a session cookie and the last page's CSRF token.
struct Dev<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    cookie: String,
    csrf: String,
}

fn csrf_of(html: &str) -> Option<String> {
    let at = html.find("name=\"csrf\" value=\"")? + 19;
    Some(html[at..at + 64].to_owned())
}

impl<'a> Dev<'a> {
    async fn sign_up(app: &'a TestApp, email: &str) -> Dev<'a> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let res = client.get(app.url("/portal/signup")).send().await.unwrap();
        let cookie = res.headers()["set-cookie"].to_str().unwrap();
        let cookie = cookie.split(';').next().unwrap().to_owned();
        let csrf = csrf_of(&res.text().await.unwrap()).unwrap();
        let mut dev = Dev {
            app,
            client,
            cookie,
            csrf,
        };
        let form = [
            ("name", "Dev"),
            ("email", email),
            ("password", "a long password"),
        ];
        let res = dev.post("/portal/signup", &form).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        dev.get("/portal/apis").await;
        dev
    }

    async fn get_raw(&self, path: &str) -> Response {
        self.client
            .get(self.app.url(path))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap()
    }

    async fn get(&mut self, path: &str) -> (StatusCode, String) {
        let res = self.get_raw(path).await;
        let status = res.status();
        let html = res.text().await.unwrap();
        if let Some(csrf) = csrf_of(&html) {
            self.csrf = csrf;
        }
        (status, html)
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Response {
        let mut fields: Vec<(&str, &str)> = vec![("csrf", &self.csrf)];
        fields.extend_from_slice(form);
        let res = self
            .client
            .post(self.app.url(path))
            .header("cookie", &self.cookie)
            .form(&fields)
            .send()
            .await
            .unwrap();
        if let Some(set) = res.headers().get("set-cookie") {
            self.cookie = set.to_str().unwrap().split(';').next().unwrap().to_owned();
        }
        res
    }
}

async fn sql(app: &TestApp, statements: &[String]) {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database_url).await.unwrap();
    for statement in statements {
        sqlx::query(statement).execute(&pool).await.unwrap();
    }
    pool.close().await;
}

/// The petstore published as 1.0.0 and a free plan with a monthly quota of 1,000.
async fn published(app: &TestApp) -> (String, String, String) {
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
    let plan =
        json!({"name": "Free", "type": "free", "quota": {"requests": 1000, "period": "month"}});
    let (status, plan) = app.post("/admin/v1/plans", plan).await;
    assert_eq!(status, StatusCode::CREATED, "{plan}");
    let plan = plan["id"].as_str().unwrap().to_owned();
    (api, plan, "1.0.0".into())
}

/// Subscribes `dev` and creates a key; returns (subscription, consumer, key id, key, page).
async fn key_for(
    dev: &mut Dev<'_>,
    api: &str,
    plan: &str,
) -> (String, String, String, String, String) {
    let res = dev
        .post(
            &format!("/portal/apis/{api}/subscribe"),
            &[("plan_id", plan)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, keys) = dev.get("/portal/keys").await;
    let sub = keys
        .split("name=\"subscription_id\" value=\"")
        .nth(1)
        .unwrap();
    let sub = sub.split('"').next().unwrap().to_owned();
    let res = dev.post("/portal/keys", &[("subscription_id", &sub)]).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let html = res.text().await.unwrap();
    let at = html.find("value=\"tg_").unwrap() + 7;
    let key = html[at..].split('"').next().unwrap().to_owned();
    let listed: Vec<Value> = dev
        .app
        .admin(Method::GET, "/admin/v1/subscriptions")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let consumer = listed.iter().find(|s| s["id"] == sub.as_str()).unwrap()["consumer_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let keys: Vec<Value> = dev
        .app
        .admin(
            Method::GET,
            &format!("/admin/v1/keys?consumer_id={consumer}"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key_id = keys[0]["id"].as_str().unwrap().to_owned();
    (sub, consumer, key_id, key, html)
}

fn rollup(g: &str, start: i64, consumer: &str, key: &str, api: &str, n: i64) -> String {
    format!(
        "INSERT INTO usage_rollups (granularity, bucket_start, consumer_id, key_id, api_id, plan_id, \
         requests, billable, bytes_in, bytes_out, latency_ms_sum, latency_ms_max) \
         VALUES ('{g}', {start}, '{consumer}', '{key}', '{api}', '', {n}, {n}, 0, 0, 0, 0)"
    )
}

async fn usage_keys_snippets_and_downloads(app: TestApp) {
    let (api, plan, v) = published(&app).await;
    let mut ada = Dev::sign_up(&app, "ada@example.com").await;
    let (_, consumer, key_id, key, created) = key_for(&mut ada, &api, &plan).await;
    // The key-created page has snippets carrying the real key, in all five languages.
    assert!(
        created.contains(&format!("Bearer {key}")),
        "snippets carry the new key"
    );
    for lang in [
        "curl -X GET",
        "await fetch(",
        "import requests",
        "net/http",
        "reqwest::Client",
    ] {
        assert!(created.contains(lang), "{lang}");
    }
    // Usage: 3 calls this hour, 5 more earlier today (day bucket), one call of a stranger.
    let now = now_ms();
    let hour = now - now.rem_euclid(3_600_000);
    let day = now - now.rem_euclid(86_400_000);
    sql(
        &app,
        &[
            rollup("hour", hour, &consumer, &key_id, &api, 3),
            rollup("day", day, &consumer, &key_id, &api, 8),
            rollup("hour", hour, "con_someone_else", "key_x", &api, 1000),
        ],
    )
    .await;
    let res = ada.get_raw("/portal/usage.json").await;
    assert_eq!(res.status(), StatusCode::OK);
    let data: Value = res.json().await.unwrap();
    assert_eq!(data["hour"]["buckets"].as_array().unwrap().len(), 48);
    assert_eq!(data["day"]["buckets"].as_array().unwrap().len(), 30);
    assert_eq!(data["hour"]["buckets"][47], hour / 1000);
    assert_eq!(data["hour"]["apis"][0]["values"][47], 3);
    assert_eq!(data["day"]["keys"][0]["values"][29], 8);
    assert!(data["hour"]["keys"][0]["label"]
        .as_str()
        .unwrap()
        .starts_with(&key[..8]));
    assert_eq!(
        data["hour"]["apis"].as_array().unwrap().len(),
        1,
        "only the developer's usage"
    );
    let (status, page) = ada.get("/portal/usage").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("max=\"1000\" value=\"3\""),
        "quota bar: 3 of 1000 this month"
    );
    assert!(
        page.contains("<td class=\"num\">8</td>"),
        "the no-JS table has the day's 8"
    );
    // Without a session: 401 for the data, the log-in page for the page.
    let anon = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    assert_eq!(
        anon.get(app.url("/portal/usage.json"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        anon.get(app.url("/portal/usage"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::SEE_OTHER
    );

    // Rotation: a careless overlap is refused, another developer cannot rotate Ada's key.
    ada.get("/portal/keys").await;
    let rotate = format!("/portal/keys/{key_id}/rotate");
    for bad in ["9999", "-1", "", "24h"] {
        let res = ada.post(&rotate, &[("overlap_hours", bad)]).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    let mut eve = Dev::sign_up(&app, "eve@example.com").await;
    assert_eq!(
        eve.post(&rotate, &[("overlap_hours", "24")]).await.status(),
        StatusCode::NOT_FOUND
    );
    let res = ada.post(&rotate, &[("overlap_hours", "24")]).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let html = res.text().await.unwrap();
    assert!(html.contains("The old key keeps working until"));
    assert!(!html.contains(&key), "the page shows the new key only");
    let keys: Vec<Value> = app
        .admin(
            Method::GET,
            &format!("/admin/v1/keys?consumer_id={consumer}"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(keys.len(), 2);
    let old = keys.iter().find(|k| k["id"] == key_id.as_str()).unwrap();
    let until = parse_rfc3339(old["expires_at"].as_str().unwrap()).unwrap();
    assert!(
        (until - now - 24 * 3_600_000).abs() < 120_000,
        "24 h overlap"
    );
    let (_, listing) = ada.get("/portal/keys").await;
    assert!(listing.contains("Expires") && listing.contains("Rotate"));

    // The version page: operations with a placeholder key; drafts and unknowns are 404.
    let (status, page) = ada.get(&format!("/portal/apis/{api}/versions/{v}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Bearer YOUR_API_KEY") && page.contains("/pets/v1/pets"));
    for missing in [
        format!("/portal/apis/{api}/versions/9.9.9"),
        format!("/portal/apis/{api}/versions/..%2F..%2Fadmin"),
        "/portal/apis/nope/versions/1.0.0".into(),
    ] {
        assert_eq!(
            ada.get(&missing).await.0,
            StatusCode::NOT_FOUND,
            "{missing}"
        );
    }
    let spec = testdata("openapi/v3.0/petstore.yaml");
    upload(&app, &api, "?version=2.0.0", "application/yaml", spec).await;
    assert_eq!(
        ada.get(&format!("/portal/apis/{api}/versions/2.0.0"))
            .await
            .0,
        StatusCode::NOT_FOUND,
        "drafts stay hidden"
    );

    // Downloads: servers point at the edge; Postman v2.1 with a bearer variable.
    let res = ada
        .get_raw(&format!("/portal/apis/{api}/versions/{v}/openapi.json"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains(".openapi.json"));
    let doc: Value = res.json().await.unwrap();
    assert!(doc["servers"][0]["url"]
        .as_str()
        .unwrap()
        .ends_with("/pets/v1"));
    assert_eq!(
        doc["components"]["securitySchemes"]["tollgate_key"]["scheme"],
        "bearer"
    );
    let res = ada
        .get_raw(&format!("/portal/apis/{api}/versions/{v}/postman.json"))
        .await;
    let collection: Value = res.json().await.unwrap();
    assert_eq!(
        collection["info"]["schema"],
        "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
    );
    assert!(!collection["item"].as_array().unwrap().is_empty());
    assert_eq!(collection["auth"]["type"], "bearer");

    // The reference loads vendored Swagger UI under the strict CSP.
    let res = ada
        .get_raw(&format!("/portal/apis/{api}/versions/{v}/reference"))
        .await;
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("connect-src 'self'"),
        "{csp}"
    );
    let html = res.text().await.unwrap();
    assert!(html.contains("/portal/static/swagger-ui.js") && !html.contains("<script>"));
    let js = ada.get_raw("/portal/static/swagger-ui.js").await;
    assert_eq!(js.status(), StatusCode::OK);
    assert!(
        js.bytes().await.unwrap().len() > 500_000,
        "the real bundle is served"
    );
    // The proxy: only with the try header, only signed in, only paths under the API.
    let proxy = |path: &str| format!("/portal/apis/{api}/proxy{path}");
    let res = ada.get_raw(&proxy("/v1/pets")).await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "no X-Tollgate-Try header"
    );
    let res = anon
        .get(app.url(&proxy("/v1/pets")))
        .header("x-tollgate-try", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // (`/%2e%2e/` or a backslash would be normalised by the client itself before sending.)
    for hostile in [
        "/v1/%2e%2e%2fadmin",
        "/v1/a%2fb",
        "/v1/%2E%2E%2F%2E%2E%2Fadmin",
    ] {
        let res = ada
            .client
            .get(app.url(&proxy(hostile)))
            .header("cookie", &ada.cookie)
            .header("x-tollgate-try", "1")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{hostile}");
    }
    let res = ada
        .client
        .get(app.url(&proxy("/v1/pets")))
        .header("cookie", &ada.cookie)
        .header("x-tollgate-try", "1")
        .header("authorization", format!("Bearer {key}"))
        .send()
        .await
        .unwrap();
    assert!(
        !res.status().is_server_error() || res.status() == StatusCode::BAD_GATEWAY,
        "{}",
        res.status()
    );
    let res = eve
        .get_raw(&format!("/portal/apis/{api}/proxy/v1/pets"))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

/// `text` as askama writes it into HTML.
fn askama_escaped(text: &str) -> String {
    text.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

async fn invoices_show_explained_lines_to_their_developer_only(app: TestApp) {
    let (api, _, _) = published(&app).await;
    let price = json!({"currency": "USD", "amount_minor": 1000, "interval": "month", "included_units": 0,
        "usage_model": "per_unit", "unit_price_minor": 1, "unit_size": 1});
    let (status, plan) = app
        .post(
            "/admin/v1/plans",
            json!({"name": "Pro", "type": "paid", "price": price}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{plan}");
    let mut ada = Dev::sign_up(&app, "ada@example.com").await;
    let (_, consumers) = app.get("/admin/v1/consumers").await;
    let consumer = consumers
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["email"] == "ada@example.com")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = json!({"consumer_id": consumer, "api_id": api, "plan_id": plan["id"]});
    let (status, sub) = app.post("/admin/v1/subscriptions", body).await;
    assert_eq!(status, StatusCode::CREATED, "{sub}");
    let started = parse_rfc3339("2026-09-01T00:00:00Z").unwrap();
    let oct = parse_rfc3339("2026-10-05T10:00:00Z").unwrap();
    sql(&app, &[
        format!("UPDATE subscriptions SET started_at = {started}, trial_ends_at = NULL WHERE id = '{}'", sub["id"].as_str().unwrap()),
        rollup("hour", oct, &consumer, "key_a", &api, 250),
    ])
    .await;
    let body = json!({"consumer_id": consumer, "period_start": "2026-10-01T00:00:00Z"});
    let (status, invoice) = app.post("/admin/v1/invoices/generate", body).await;
    assert_eq!(status, StatusCode::OK, "{invoice}");
    let id = invoice["id"].as_str().unwrap();
    let (status, list) = ada.get("/portal/invoices").await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains(id) && list.contains("2026-10-01"));
    let (status, page) = ada.get(&format!("/portal/invoices/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    for line in invoice["lines"].as_array().unwrap() {
        let explanation = line["explanation"].as_str().unwrap();
        assert!(page.contains(&askama_escaped(explanation)), "{explanation}");
    }
    let res = ada.get_raw(&format!("/portal/invoices/{id}/print")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.starts_with("default-src 'none'") && !csp.contains("script-src"),
        "{csp}"
    );
    assert!(res.text().await.unwrap().contains("Total due"));
    // Another developer, and a careless id, get 404 pages.
    let mut eve = Dev::sign_up(&app, "eve@example.com").await;
    assert_eq!(
        eve.get(&format!("/portal/invoices/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        eve.get_raw(&format!("/portal/invoices/{id}/print"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        ada.get("/portal/invoices/%27%3B--").await.0,
        StatusCode::NOT_FOUND
    );
    let (_, eves) = eve.get("/portal/invoices").await;
    assert!(!eves.contains(id));
}

crate::both_databases!(
    usage_keys_snippets_and_downloads,
    invoices_show_explained_lines_to_their_developer_only,
);
