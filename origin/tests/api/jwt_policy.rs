//! A JWT auth policy's optional members: stored and sent to the edge when sound,
//! refused with a problem naming the member when not.

use crate::helpers::{expect_problem, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn api_with(auth: Value) -> Value {
    json!({"name": "J", "base_path": "/j", "upstream_url": "https://example.com", "auth": auth})
}

fn jwt(extra: Value) -> Value {
    let mut auth = json!({"type": "jwt", "jwks_url": "https://idp.example.com/jwks.json", "issuer": "https://idp.example.com", "audience": "pets"});
    for (k, v) in extra.as_object().unwrap() {
        auth[k] = v.clone();
    }
    auth
}

async fn stores_leeway_claims_and_scopes(app: TestApp) {
    let auth = jwt(json!({
        "leeway_secs": 5,
        "required_claims": ["jti"],
        "consumer_claim": "client_id",
        "scopes": [{"scope": "pets:read", "operations": ["GET /pets/{id}", "GET /pets"]}]
    }));
    let (status, api) = app.post("/admin/v1/apis", api_with(auth.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "{api}");
    assert_eq!(api["auth"], auth);
    let id = api["id"].as_str().unwrap();
    let (status, fetched) = app.get(&format!("/admin/v1/apis/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched["auth"], auth, "read back as stored");
}

async fn unsound_jwt_members_are_refused_naming_them(app: TestApp) {
    let cases = [
        (jwt(json!({"issuer": "  "})), "auth.issuer"),
        (jwt(json!({"audience": ""})), "auth.audience"),
        (
            jwt(json!({"jwks_url": "ftp://idp.example.com/jwks"})),
            "auth.jwks_url",
        ),
        (jwt(json!({"jwks_url": "/relative"})), "auth.jwks_url"),
        (jwt(json!({"leeway_secs": 86_400})), "auth.leeway_secs"),
        (jwt(json!({"leeway_secs": -1})), "auth"),
        (
            jwt(json!({"required_claims": [""]})),
            "auth.required_claims",
        ),
        (jwt(json!({"required_claims": "jti"})), "auth"),
        (
            jwt(json!({"consumer_claim": "has space"})),
            "auth.consumer_claim",
        ),
        (
            jwt(json!({"scopes": [{"scope": "Bad Scope", "operations": ["GET /x"]}]})),
            "auth.scopes",
        ),
        (
            jwt(json!({"scopes": [{"scope": "pets:read", "operations": []}]})),
            "auth.scopes",
        ),
        (
            jwt(json!({"scopes": [{"scope": "pets:read", "operations": ["FETCH /x"]}]})),
            "auth.scopes",
        ),
        (
            jwt(json!({"scopes": [{"scope": "pets:read", "operations": ["showPetById"]}]})),
            "auth.scopes",
        ),
        (jwt(json!({"scopes": [{"scope": "pets:read"}]})), "auth"),
        (jwt(json!({"jwk": {"kty": "oct"}})), "auth.jwk"),
    ];
    for (auth, field) in cases {
        let response = app
            .admin(Method::POST, "/admin/v1/apis")
            .json(&api_with(auth.clone()))
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(problem["field"], field, "{auth}");
        assert!(!problem["detail"].as_str().unwrap().is_empty());
    }
    let (_, list) = app.get("/admin/v1/apis").await;
    assert_eq!(list, json!([]), "nothing unsound was stored");
}

crate::both_databases!(
    stores_leeway_claims_and_scopes,
    unsound_jwt_members_are_refused_naming_them,
);
