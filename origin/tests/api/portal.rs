//! The developer portal over HTTP on SQLite and PostgreSQL: sign-up, subscribe and key
//! issue through the admin logic (audited as the portal user), ownership checks between
//! developers, CSRF, the log-in throttle and hostile try-it paths.

use crate::helpers::TestApp;
use crate::versions::{api_id, testdata, upload};
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

/// A browser without JavaScript: one session cookie and the last page's CSRF token.
pub(crate) struct Browser<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    pub(crate) cookie: String,
    pub(crate) csrf: String,
}

fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[at..at + 64].to_owned()
}

impl<'a> Browser<'a> {
    pub(crate) async fn open(app: &'a TestApp) -> Browser<'a> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let res = client.get(app.url("/portal/signup")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let csp = res.headers()["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert!(
            cookie.contains("HttpOnly")
                && cookie.contains("SameSite=Lax")
                && cookie.contains("Path=/portal")
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

    pub(crate) async fn get(&mut self, path: &str) -> (StatusCode, String) {
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

    pub(crate) async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Response {
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

    pub(crate) async fn sign_up(app: &'a TestApp, name: &str, email: &str) -> Browser<'a> {
        let mut b = Browser::open(app).await;
        let res = b
            .post(
                "/portal/signup",
                &[
                    ("name", name),
                    ("email", email),
                    ("password", "a long password"),
                ],
            )
            .await;
        assert_eq!(
            res.status(),
            StatusCode::SEE_OTHER,
            "{}",
            res.text().await.unwrap()
        );
        b.get("/portal/apis").await;
        b
    }
}

pub(crate) async fn published_api_and_free_plan(app: &TestApp) -> (String, String) {
    let api = api_id(app, "/pets").await;
    let res = upload(
        app,
        &api,
        "",
        "application/yaml",
        testdata("openapi/v3.0/petstore.yaml"),
    )
    .await;
    let version: Value = res.json().await.unwrap();
    let v = version["version"].as_str().unwrap();
    let (status, _) = app
        .post(
            &format!("/admin/v1/apis/{api}/versions/{v}/publish"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, plan) = app
        .post("/admin/v1/plans", json!({"name": "Free", "type": "free"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    (api, plan["id"].as_str().unwrap().to_owned())
}

async fn a_developer_subscribes_and_gets_a_key_through_the_admin_logic(app: TestApp) {
    let (api, plan) = published_api_and_free_plan(&app).await;
    let (_, paid) = app
        .post("/admin/v1/plans", json!({"name": "Gold", "type": "paid", "price": {"currency": "EUR", "amount_minor": 4900, "interval": "month"}}))
        .await;
    let mut ada = Browser::sign_up(&app, "Ada <b>Lovelace</b>", "Ada@Example.com").await;
    let (_, catalog) = ada.get("/portal/apis").await;
    assert!(
        catalog.contains("Ada &#60;b&#62;Lovelace") && !catalog.contains("<b>Lovelace"),
        "names are escaped"
    );
    let (_, page) = ada.get(&format!("/portal/apis/{api}")).await;
    assert!(
        page.contains("Subscribe to Free") && !page.contains("Gold"),
        "paid plans are not offered yet"
    );
    // Subscribing to a plan the portal does not offer is refused.
    let res = ada
        .post(
            &format!("/portal/apis/{api}/subscribe"),
            &[("plan_id", paid["id"].as_str().unwrap())],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = ada
        .post(
            &format!("/portal/apis/{api}/subscribe"),
            &[("plan_id", &plan)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // Subscribing twice keeps one subscription.
    ada.post(
        &format!("/portal/apis/{api}/subscribe"),
        &[("plan_id", &plan)],
    )
    .await;
    let (_, subs) = app
        .admin(Method::GET, "/admin/v1/subscriptions")
        .send()
        .await
        .map(|r| (r.status(), r))
        .unwrap();
    let subs: Vec<Value> = subs.json().await.unwrap();
    assert_eq!(subs.len(), 1);
    let sub = subs[0]["id"].as_str().unwrap().to_owned();
    let consumer = subs[0]["consumer_id"].as_str().unwrap().to_owned();
    ada.get("/portal/keys").await;
    let res = ada.post("/portal/keys", &[("subscription_id", &sub)]).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let html = res.text().await.unwrap();
    let at = html.find("value=\"tg_").unwrap() + 7;
    let key = &html[at..at + 41];
    let listed: Vec<Value> = app
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
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["subscription_id"], sub.as_str());
    assert!(key.starts_with(listed[0]["prefix"].as_str().unwrap()));
    let (_, keys_page) = ada.get("/portal/keys").await;
    assert!(!keys_page.contains(key), "the key is shown once");
    let audit: Value = app
        .admin(Method::GET, "/admin/v1/audit?limit=100")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let portal_acts: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"].as_str().unwrap().starts_with("portal:usr_"))
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        portal_acts,
        ["portal.sign_up", "subscription.create", "key.create"]
    );
    // Another developer can neither issue keys on Ada's subscription nor revoke her key.
    let mut eve = Browser::sign_up(&app, "Eve", "eve@example.com").await;
    assert_eq!(
        eve.post("/portal/keys", &[("subscription_id", &sub)])
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let key_id = listed[0]["id"].as_str().unwrap();
    assert_eq!(
        eve.post(&format!("/portal/keys/{key_id}/revoke"), &[])
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    // Ada revokes it.
    assert_eq!(
        ada.post(&format!("/portal/keys/{key_id}/revoke"), &[])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let key: Value = app
        .admin(Method::GET, &format!("/admin/v1/keys/{key_id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(key["status"], "revoked");
}

async fn csrf_throttle_and_hostile_inputs_are_refused(app: TestApp) {
    let (api, _) = published_api_and_free_plan(&app).await;
    let mut b = Browser::open(&app).await;
    b.csrf = "f".repeat(64);
    let res = b
        .post(
            "/portal/signup",
            &[
                ("name", "M"),
                ("email", "m@example.com"),
                ("password", "a long password"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let mut b = Browser::open(&app).await;
    for (email, password) in [
        ("not-an-email", "a long password"),
        ("x@example.com", "short"),
    ] {
        let res = b
            .post(
                "/portal/signup",
                &[("name", "M"), ("email", email), ("password", password)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let mut grace = Browser::sign_up(&app, "Grace", "grace@example.com").await;
    let res = Browser::open(&app)
        .await
        .post(
            "/portal/signup",
            &[
                ("name", "G"),
                ("email", "GRACE@example.com"),
                ("password", "a long password"),
            ],
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "one account per email"
    );
    // Hostile try-it paths never leave the edge, and anonymous visitors cannot try.
    for path in ["//evil.example/x", "/../admin", "/a/%2e%2e/b", "x"] {
        let res = grace
            .post(
                "/portal/try",
                &[("api_id", &api), ("key", "tg_x"), ("path", path)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{path}");
    }
    let mut anon = Browser::open(&app).await;
    let res = anon
        .post(
            "/portal/try",
            &[("api_id", &api), ("key", "tg_x"), ("path", "/")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "to the log-in page");
    let (status, _) = anon.get("/portal/keys").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // Throttle: five failures, then even the right password waits; a success elsewhere works.
    let mut b = Browser::open(&app).await;
    b.get("/portal/login").await;
    for _ in 0..5 {
        let res = b
            .post(
                "/portal/login",
                &[
                    ("email", "grace@example.com"),
                    ("password", "wrong password"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = b
        .post(
            "/portal/login",
            &[
                ("email", "grace@example.com"),
                ("password", "a long password"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    let mut other = Browser::sign_up(&app, "Other", "other@example.com").await;
    other.post("/portal/logout", &[]).await;
    let mut other = Browser::open(&app).await;
    let res = other
        .post(
            "/portal/login",
            &[
                ("email", "other@example.com"),
                ("password", "a long password"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // An unknown API and a page for nothing are 404 pages, not 500s.
    let (status, _) = other.get("/portal/apis/api_nothing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn a_developer_sees_their_own_quota_alerts_on_the_events_page(app: TestApp) {
    let mut ada = Browser::sign_up(&app, "Ada", "ada@example.com").await;
    let mut eve = Browser::sign_up(&app, "Eve", "eve@example.com").await;
    let (_, plan) = app
        .post(
            "/admin/v1/plans",
            json!({"name": "Two", "quota": {"requests": 2, "period": "day"}}),
        )
        .await;
    let pool = sqlx::AnyPool::connect(&app.database_url).await.unwrap();
    let (consumer,): (String,) =
        sqlx::query_as("SELECT consumer_id FROM users WHERE email = 'ada@example.com'")
            .fetch_one(&pool)
            .await
            .unwrap();
    pool.close().await;
    let ids = (
        consumer.as_str(),
        "key_ada",
        plan["id"].as_str().unwrap(),
        "api_p",
    );
    let now = tollgate_origin::clock::now_ms();
    let events = json!([
        crate::usage_meter::event("p-1", ids, 200, now),
        crate::usage_meter::event("p-2", ids, 200, now)
    ]);
    crate::usage_meter::post_events(&app, &events).await;
    let (status, page) = ada.get("/portal/events").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("href=\"/portal/events\""),
        "linked in the nav"
    );
    assert!(
        page.contains("quota.exhausted") && page.contains("quota.warning"),
        "{page}"
    );
    assert!(page.contains("Quota used up: 2 of 2 requests"), "{page}");
    let (_, page) = eve.get("/portal/events").await;
    assert!(
        !page.contains("quota."),
        "another developer's alerts: {page}"
    );
    assert!(page.contains("No event yet."));
    let mut anon = Browser::open(&app).await;
    let (status, _) = anon.get("/portal/events").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "to the log-in page");
}

crate::both_databases!(
    a_developer_sees_their_own_quota_alerts_on_the_events_page,
    a_developer_subscribes_and_gets_a_key_through_the_admin_logic,
    csrf_throttle_and_hostile_inputs_are_refused,
);
