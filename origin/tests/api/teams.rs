//! Consumer teams: a provider sells a subscription to a team (through a consumer standing
//! for it); the team's members see it and manage its keys by role, and neither another
//! team nor the team itself reaches anything else.

use crate::helpers::{read, TestApp};
use crate::tenancy::{member, org};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn team(app: &TestApp, name: &str) -> String {
    let (status, org) = app
        .post("/admin/v1/orgs", json!({"name": name, "kind": "team"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{org}");
    assert_eq!(org["kind"], "team");
    org["id"].as_str().unwrap().to_owned()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

async fn members_share_the_teams_subscription_and_keys(app: TestApp) {
    let provider = org(&app, "Provider").await;
    let (t, u) = (team(&app, "Blue team").await, team(&app, "Red team").await);
    let boss = member(&app, &provider, "boss@p.example", "owner").await;
    let dev = member(&app, &t, "dev@blue.example", "developer").await;
    let viewer = member(&app, &t, "viewer@blue.example", "viewer").await;
    let red = member(&app, &u, "owner@red.example", "owner").await;

    let api = boss
        .post(
            &app,
            "/admin/v1/apis",
            json!({"name": "Pets", "base_path": "/pets", "upstream_url": "http://127.0.0.1:9"}),
        )
        .await;
    let plan = boss
        .post(&app, "/admin/v1/plans", json!({"name": "Team"}))
        .await;
    let holder = boss
        .post(
            &app,
            "/admin/v1/consumers",
            json!({"name": "Blue", "email": "blue@blue.example", "team_id": t}),
        )
        .await;
    assert_eq!(holder["team_id"], t.as_str());
    let sub = boss
        .post(
            &app,
            "/admin/v1/subscriptions",
            json!({"consumer_id": holder["id"], "api_id": api["id"], "plan_id": plan["id"]}),
        )
        .await;
    let loner = boss
        .post(
            &app,
            "/admin/v1/consumers",
            json!({"name": "Solo", "email": "solo@p.example"}),
        )
        .await;
    let solo_key = boss
        .post(
            &app,
            "/admin/v1/keys",
            json!({"consumer_id": loner["id"], "api_id": api["id"]}),
        )
        .await;

    // The team sees the subscription it holds; a developer issues a key for it.
    let subs_path = format!("/admin/v1/teams/{t}/subscriptions");
    let (status, subs) = viewer.call(&app, Method::GET, &subs_path, None).await;
    assert_eq!(status, StatusCode::OK, "{subs}");
    assert_eq!(subs.as_array().unwrap().len(), 1);
    assert_eq!(subs[0]["id"], sub["id"]);
    let keys_path = format!("/admin/v1/teams/{t}/keys");
    let key = dev
        .post(
            &app,
            &keys_path,
            json!({"subscription_id": sub["id"], "scopes": ["pets:read"]}),
        )
        .await;
    assert!(key["key"].as_str().unwrap().starts_with("tg_"));
    assert_eq!(key["consumer_id"], holder["id"]);
    assert_eq!(key["plan_id"], plan["id"]);

    // The key is the provider's row too: it shows in the provider's listing and works at the edge.
    let (_, provider_keys) = boss.call(&app, Method::GET, "/admin/v1/keys", None).await;
    assert!(provider_keys.to_string().contains(&id(&key)));
    let hash = tollgate_core::ApiKey::parse(key["key"].as_str().unwrap())
        .unwrap()
        .hash();
    let (status, record) = read(
        app.edge_get(&format!("/edge/v1/keys/{}", hash.as_str()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{record}");
    assert_eq!(record["subscription_id"], sub["id"]);

    // The team's listing holds its key and nothing of the provider's other consumers.
    let (_, team_keys) = viewer.call(&app, Method::GET, &keys_path, None).await;
    assert_eq!(team_keys.as_array().unwrap().len(), 1);
    assert!(!team_keys.to_string().contains(&id(&solo_key)));
    assert!(
        !team_keys.to_string().contains(key["key"].as_str().unwrap()),
        "plaintext listed"
    );

    // Roles: a viewer reads but does not issue or revoke.
    let (status, _) = viewer
        .call(
            &app,
            Method::POST,
            &keys_path,
            Some(json!({"subscription_id": sub["id"]})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = viewer
        .call(
            &app,
            Method::DELETE,
            &format!("{keys_path}/{}", id(&key)),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Another team: 404 on everything of Blue's, and Blue's subscription is not theirs to use.
    for (method, path) in [
        (Method::GET, subs_path.clone()),
        (Method::GET, keys_path.clone()),
        (Method::DELETE, format!("{keys_path}/{}", id(&key))),
    ] {
        let (status, body) = red.call(&app, method.clone(), &path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {body}");
        assert!(!body.to_string().contains("Blue"), "{body}");
    }
    let (status, problem) = red
        .call(
            &app,
            Method::POST,
            &format!("/admin/v1/teams/{u}/keys"),
            Some(json!({"subscription_id": sub["id"]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["field"], "subscription_id");
    // A team reaches no provider's key that is not its own, nor the provider as a "team".
    let (status, _) = dev
        .call(
            &app,
            Method::DELETE,
            &format!("{keys_path}/{}", id(&solo_key)),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = dev
        .call(
            &app,
            Method::GET,
            &format!("/admin/v1/teams/{provider}/keys"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = boss
        .call(
            &app,
            Method::GET,
            &format!("/admin/v1/teams/{provider}/keys"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a provider is not a team");

    // Revoking is idempotent and reaches the edge's revocation feed.
    for _ in 0..2 {
        let (status, body) = dev
            .call(
                &app,
                Method::DELETE,
                &format!("{keys_path}/{}", id(&key)),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }
    assert!(app.snapshot().await["revoked"]
        .to_string()
        .contains(hash.as_str()));
    let (_, after) = boss
        .call(
            &app,
            Method::GET,
            &format!("/admin/v1/keys/{}", id(&key)),
            None,
        )
        .await;
    assert_eq!(after["status"], "revoked");

    // A canceled subscription issues no more keys.
    boss.post(
        &app,
        &format!("/admin/v1/subscriptions/{}/cancel", id(&sub)),
        json!({}),
    )
    .await;
    let (status, problem) = dev
        .call(
            &app,
            Method::POST,
            &keys_path,
            Some(json!({"subscription_id": sub["id"]})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
}

async fn careless_team_input_is_refused_with_the_field(app: TestApp) {
    let provider = org(&app, "Provider").await;
    let t = team(&app, "Blue").await;
    let (status, problem) = app
        .post("/admin/v1/orgs", json!({"name": "X", "kind": "guild"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["field"], "kind");
    for bad in [json!(provider), json!("org_nope"), json!("")] {
        let (status, problem) = app
            .post(
                "/admin/v1/consumers",
                json!({"name": "A", "email": "a@a.example", "team_id": bad}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {problem}");
        assert_eq!(problem["field"], "team_id");
    }
    let (status, _) = app
        .post(
            "/admin/v1/consumers",
            json!({"name": "A", "email": "a@a.example", "team_id": 7}),
        )
        .await;
    assert!(status.is_client_error());
    let keys = format!("/admin/v1/teams/{t}/keys");
    for body in [
        json!({}),
        json!({"subscription_id": ""}),
        json!({"subscription_id": "sub_nope"}),
        json!({"subscription_id": "x", "extra": 1}),
        json!([1]),
    ] {
        let (status, problem) = app.post(&keys, body.clone()).await;
        assert!(
            status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::BAD_REQUEST,
            "{body}: {status} {problem}"
        );
    }
    let (status, _) = app.get("/admin/v1/teams/org_nope/keys").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, orgs) = app.get("/admin/v1/orgs").await;
    let kinds: Vec<&str> = orgs
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["provider", "team"]);
}

crate::both_databases!(
    members_share_the_teams_subscription_and_keys,
    careless_team_input_is_refused_with_the_field
);
