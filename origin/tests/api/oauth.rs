//! The OAuth2 client credentials server: tokens verify natively against the published
//! JWKS, every refusal is the RFC 6749 error, failed authentications are throttled,
//! signing keys rotate with an overlap, clients stay inside their organisation, and
//! revoked clients reach the edge through the snapshot.

use crate::helpers::{read, TestApp};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use jwt_compact::alg::Es256;
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::{Algorithm, AlgorithmExt, UntrustedToken};
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use sqlx::Connection;

type VerifyingKey = <Es256 as Algorithm>::VerifyingKey;

async fn client(app: &TestApp, body: Value) -> Value {
    let (status, client) = app.post("/admin/v1/oauth/clients", body).await;
    assert_eq!(status, StatusCode::CREATED, "{client}");
    client
}

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

async fn token_call(
    app: &TestApp,
    authorization: Option<&str>,
    content_type: &str,
    body: &str,
) -> Response {
    let mut request = app
        .client
        .post(app.url("/oauth/token"))
        .header("content-type", content_type)
        .body(body.to_owned());
    if let Some(a) = authorization {
        request = request.header("authorization", a);
    }
    request.send().await.unwrap()
}

async fn token_with(app: &TestApp, c: &Value, extra: &str) -> Value {
    let auth = basic(
        c["client_id"].as_str().unwrap(),
        c["client_secret"].as_str().unwrap(),
    );
    let response = token_call(
        app,
        Some(&auth),
        "application/x-www-form-urlencoded",
        &format!("grant_type=client_credentials{extra}"),
    )
    .await;
    assert_eq!(response.headers()["cache-control"], "no-store");
    let (status, body) = read(response).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// Asserts an RFC 6749 §5.2 error and returns the response headers.
async fn expect_oauth_error(
    response: Response,
    status: StatusCode,
    code: &str,
) -> reqwest::header::HeaderMap {
    let headers = response.headers().clone();
    let (got, body) = read(response).await;
    assert_eq!(
        (got, body["error"].as_str()),
        (status, Some(code)),
        "{body}"
    );
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "{body}"
    );
    assert_eq!(headers["cache-control"], "no-store");
    headers
}

async fn jwks(app: &TestApp) -> Vec<Value> {
    let response = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["cache-control"], "public, max-age=300");
    let (status, body) = read(response).await;
    assert_eq!(status, StatusCode::OK);
    body["keys"].as_array().unwrap().clone()
}

/// Verifies `token` against the published JWKS the way an edge would; returns its claims.
async fn verify(app: &TestApp, token: &str) -> Result<Value, String> {
    let untrusted = UntrustedToken::new(token).map_err(|e| e.to_string())?;
    assert_eq!(untrusted.algorithm(), "ES256");
    assert_eq!(untrusted.header().token_type.as_deref(), Some("at+jwt"));
    let kid = untrusted.header().key_id.clone().ok_or("no kid")?;
    let keys = jwks(app).await;
    let jwk_value = keys
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .ok_or("kid not published")?;
    let jwk: JsonWebKey<'_> =
        serde_json::from_value(jwk_value.clone()).map_err(|e| e.to_string())?;
    let key = VerifyingKey::try_from(&jwk).map_err(|e| e.to_string())?;
    let token = Es256
        .validator::<Value>(&key)
        .validate(&untrusted)
        .map_err(|e| e.to_string())?;
    let claims = token.claims();
    let mut all = claims.custom.clone();
    all["exp"] = json!(claims.expiration.unwrap().timestamp());
    all["iat"] = json!(claims.issued_at.unwrap().timestamp());
    all["nbf"] = json!(claims.not_before.unwrap().timestamp());
    Ok(all)
}

async fn tokens_verify_against_the_published_jwks(app: TestApp) {
    let consumer = app.create_consumer().await;
    let c = client(
        &app,
        json!({"consumer_id": consumer["id"], "scopes": ["b:write", "a:read"]}),
    )
    .await;
    assert!(c["client_id"].as_str().unwrap().starts_with("tgc_"));
    assert!(c["client_secret"].as_str().unwrap().starts_with("tgcs_"));
    assert_eq!(c["scopes"], json!(["a:read", "b:write"]));
    let answer = token_with(&app, &c, "").await;
    assert_eq!(
        (answer["token_type"].as_str(), answer["expires_in"].as_u64()),
        (Some("Bearer"), Some(600))
    );
    assert_eq!(answer["scope"], "a:read b:write");
    let claims = verify(&app, answer["access_token"].as_str().unwrap())
        .await
        .unwrap();
    let (_, discovery) = app.get("/.well-known/openid-configuration").await;
    assert_eq!(claims["iss"], discovery["issuer"]);
    assert_eq!(
        claims["aud"], discovery["issuer"],
        "no API bound: the audience is the issuer"
    );
    assert_eq!(claims["sub"], consumer["id"]);
    assert_eq!(claims["client_id"], c["client_id"]);
    assert_eq!(claims["scope"], "a:read b:write");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        600
    );
    assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 16));
    assert!(claims.get("tg_plan").is_none() && claims.get("tg_sub").is_none());
    assert_eq!(
        discovery["token_endpoint"],
        format!("{}/oauth/token", discovery["issuer"].as_str().unwrap())
    );
    assert_eq!(
        discovery["grant_types_supported"],
        json!(["client_credentials"])
    );
    assert_eq!(
        discovery["token_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post"])
    );

    // client_secret_post, a scope subset, and a longer lifetime.
    let c2 = client(&app, json!({"consumer_id": consumer["id"], "scopes": ["a:read", "b:write"], "token_ttl_secs": 3600})).await;
    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}&scope=a%3Aread",
        c2["client_id"].as_str().unwrap(),
        c2["client_secret"].as_str().unwrap()
    );
    let (status, answer) =
        read(token_call(&app, None, "application/x-www-form-urlencoded", &form).await).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        (answer["scope"].as_str(), answer["expires_in"].as_u64()),
        (Some("a:read"), Some(3600))
    );
    verify(&app, answer["access_token"].as_str().unwrap())
        .await
        .unwrap();
    // A token altered in transit fails verification.
    let mut forged = answer["access_token"].as_str().unwrap().to_owned();
    forged.insert_str(forged.find('.').unwrap() + 1, "eyJzdWIiOiJldmUifQ");
    assert!(verify(&app, &forged).await.is_err());
}

async fn subscription_clients_carry_plan_and_api_audience(app: TestApp) {
    let (_, api) = app
        .post("/admin/v1/apis", json!({"name": "Jwt", "base_path": "/jwtapi", "upstream_url": "http://127.0.0.1:9",
            "auth": {"type": "jwt", "jwks_url": "http://127.0.0.1:8080/.well-known/jwks.json", "issuer": "http://127.0.0.1:8080", "audience": "weather-api"}}))
        .await;
    let consumer = app.create_consumer().await;
    let (_, plan) = app.post("/admin/v1/plans", json!({"name": "Basic"})).await;
    let (status, sub) = app
        .post(
            "/admin/v1/subscriptions",
            json!({"consumer_id": consumer["id"], "api_id": api["id"], "plan_id": plan["id"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{sub}");
    let c = client(
        &app,
        json!({"consumer_id": consumer["id"], "subscription_id": sub["id"]}),
    )
    .await;
    let claims = verify(
        &app,
        token_with(&app, &c, "").await["access_token"]
            .as_str()
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        (
            claims["aud"].as_str(),
            claims["tg_plan"].clone(),
            claims["tg_sub"].clone()
        ),
        (Some("weather-api"), plan["id"].clone(), sub["id"].clone())
    );
    assert!(claims.get("scope").is_none());
    let issuer = claims["iss"].as_str().unwrap().to_owned();
    let claims = verify(
        &app,
        token_with(&app, &c, &format!("&audience={issuer}")).await["access_token"]
            .as_str()
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(claims["aud"].as_str(), Some(issuer.as_str()));
    let auth = basic(
        c["client_id"].as_str().unwrap(),
        c["client_secret"].as_str().unwrap(),
    );
    let response = token_call(
        &app,
        Some(&auth),
        "application/x-www-form-urlencoded",
        "grant_type=client_credentials&audience=someone-else",
    )
    .await;
    expect_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
    // A subscription of another consumer, and a canceled one, are refused.
    let other = app.create_consumer().await;
    let (status, problem) = app
        .post(
            "/admin/v1/oauth/clients",
            json!({"consumer_id": other["id"], "subscription_id": sub["id"]}),
        )
        .await;
    assert_eq!(
        (status, problem["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("subscription_id"))
    );
    let (status, _) = app
        .post(
            &format!(
                "/admin/v1/subscriptions/{}/cancel",
                sub["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert!(status.is_success());
    let response = token_call(
        &app,
        Some(&auth),
        "application/x-www-form-urlencoded",
        "grant_type=client_credentials",
    )
    .await;
    expect_oauth_error(response, StatusCode::BAD_REQUEST, "unauthorized_client").await;
}

async fn token_errors_follow_rfc_6749(app: TestApp) {
    const FORM: &str = "application/x-www-form-urlencoded";
    let consumer = app.create_consumer().await;
    let c = client(
        &app,
        json!({"consumer_id": consumer["id"], "scopes": ["a:read"]}),
    )
    .await;
    let id = c["client_id"].as_str().unwrap();
    let good = basic(id, c["client_secret"].as_str().unwrap());
    let grant = "grant_type=client_credentials";
    let cases: Vec<(Option<String>, &str, String, StatusCode, &str)> = vec![
        (
            Some(basic(id, "tgcs_wrong")),
            FORM,
            grant.into(),
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            Some(basic("tgc_unknown", "tgcs_x")),
            FORM,
            grant.into(),
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            Some("Basic %%%not-base64%%%".into()),
            FORM,
            grant.into(),
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            Some(format!("Basic {}", STANDARD.encode("no-colon-here"))),
            FORM,
            grant.into(),
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            Some(format!("Basic {}", "QUFB".repeat(2000))),
            FORM,
            grant.into(),
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            Some(good.clone()),
            FORM,
            "scope=a%3Aread".into(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            Some(good.clone()),
            FORM,
            "grant_type=password&username=u&password=p".into(),
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
        ),
        (
            Some(good.clone()),
            FORM,
            format!("{grant}&scope=a%3Aread%20admin"),
            StatusCode::BAD_REQUEST,
            "invalid_scope",
        ),
        (
            Some(good.clone()),
            "application/json",
            json!({"grant_type": "client_credentials"}).to_string(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            Some(good.clone()),
            FORM,
            format!("{grant}&{grant}"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            Some(good.clone()),
            FORM,
            format!("{grant}&client_secret=also"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            None,
            FORM,
            grant.into(),
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
    ];
    for (auth, content_type, body, status, code) in cases {
        let response = token_call(&app, auth.as_deref(), content_type, &body).await;
        let headers = expect_oauth_error(response, status, code).await;
        if status == StatusCode::UNAUTHORIZED {
            assert!(
                headers["www-authenticate"]
                    .to_str()
                    .unwrap()
                    .starts_with("Basic"),
                "{body}"
            );
        }
    }
    // A wrong client_secret_post gets 401 too (and the throttle has not locked the id:
    // the failures above were two).
    let form = format!("{grant}&client_id={id}&client_secret=nope");
    expect_oauth_error(
        token_call(&app, None, FORM, &form).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    )
    .await;
    // A revoked client gets no more tokens.
    let response = app
        .admin(Method::DELETE, &format!("/admin/v1/oauth/clients/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = token_call(&app, Some(&good), FORM, grant).await;
    expect_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
    // Bad registrations are 422s naming the member.
    for (body, field) in [
        (json!({"consumer_id": "con_nope"}), "consumer_id"),
        (
            json!({"consumer_id": consumer["id"], "scopes": ["Bad Scope"]}),
            "scopes",
        ),
        (
            json!({"consumer_id": consumer["id"], "token_ttl_secs": 3601}),
            "token_ttl_secs",
        ),
        (
            json!({"consumer_id": consumer["id"], "token_ttl_secs": 5}),
            "token_ttl_secs",
        ),
    ] {
        let (status, problem) = app.post("/admin/v1/oauth/clients", body).await;
        assert_eq!(
            (status, problem["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{problem}"
        );
    }
}

async fn failed_authentications_are_throttled_per_client(app: TestApp) {
    let consumer = app.create_consumer().await;
    let c = client(&app, json!({"consumer_id": consumer["id"]})).await;
    let other = client(&app, json!({"consumer_id": consumer["id"]})).await;
    let id = c["client_id"].as_str().unwrap();
    let wrong = basic(id, "tgcs_guess");
    for _ in 0..10 {
        let response = token_call(
            &app,
            Some(&wrong),
            "application/x-www-form-urlencoded",
            "grant_type=client_credentials",
        )
        .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    for auth in [wrong, basic(id, c["client_secret"].as_str().unwrap())] {
        let response = token_call(
            &app,
            Some(&auth),
            "application/x-www-form-urlencoded",
            "grant_type=client_credentials",
        )
        .await;
        assert_eq!(
            response.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "even the right secret waits"
        );
        let retry: u64 = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry));
        assert_eq!(response.headers()["cache-control"], "no-store");
    }
    token_with(&app, &other, "").await;
}

async fn rotation_keeps_old_tokens_verifiable_for_the_overlap(app: TestApp) {
    let consumer = app.create_consumer().await;
    let c = client(&app, json!({"consumer_id": consumer["id"]})).await;
    let old_token = token_with(&app, &c, "").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let old_kid = UntrustedToken::new(&old_token)
        .unwrap()
        .header()
        .key_id
        .clone()
        .unwrap();
    let (status, rotation) = app
        .post("/admin/v1/oauth/signing-keys/rotate", json!({}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rotation}");
    assert_eq!(rotation["retired"], json!([old_kid]));
    assert_eq!(rotation["overlap_secs"], 3900);
    let new_token = token_with(&app, &c, "").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let new_kid = UntrustedToken::new(&new_token)
        .unwrap()
        .header()
        .key_id
        .clone()
        .unwrap();
    assert_eq!(rotation["kid"].as_str(), Some(new_kid.as_str()));
    assert_eq!(jwks(&app).await.len(), 2);
    verify(&app, &old_token)
        .await
        .expect("the old key stays published for the overlap");
    verify(&app, &new_token).await.unwrap();
    let (_, keys) = app.get("/admin/v1/oauth/signing-keys").await;
    let statuses: Vec<(&str, &str)> = keys
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["kid"].as_str().unwrap(), k["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        vec![(new_kid.as_str(), "active"), (old_kid.as_str(), "retiring")]
    );

    // The overlap passes (moved back in the database): the old key leaves the JWKS.
    let mut db = sqlx::AnyConnection::connect(&app.database_url)
        .await
        .unwrap();
    sqlx::query("UPDATE oauth_signing_keys SET retired_at = retired_at - 3901000 WHERE kid = $1")
        .bind(&old_kid)
        .execute(&mut db)
        .await
        .unwrap();
    db.close().await.unwrap();
    assert_eq!(jwks(&app).await.len(), 1);
    assert_eq!(
        verify(&app, &old_token).await.unwrap_err(),
        "kid not published"
    );
    verify(&app, &new_token).await.unwrap();
    let (_, keys) = app.get("/admin/v1/oauth/signing-keys").await;
    assert_eq!(keys[1]["status"], "retired");
    // Signing keys are the platform's: an audit entry records the rotation.
    let (_, audit) = app.get("/admin/v1/audit?limit=50").await;
    assert!(audit.to_string().contains("oauth_signing_key.rotate"));
    assert!(!audit
        .to_string()
        .contains(c["client_secret"].as_str().unwrap()));
}

async fn revoked_clients_reach_the_snapshot(app: TestApp) {
    let consumer = app.create_consumer().await;
    let c = client(&app, json!({"consumer_id": consumer["id"]})).await;
    let id = c["client_id"].as_str().unwrap();
    assert!(app.snapshot().await.get("revoked_oauth_clients").is_none());
    let version = app.snapshot().await["version"].as_u64().unwrap();
    for _ in 0..2 {
        let response = app
            .admin(Method::DELETE, &format!("/admin/v1/oauth/clients/{id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }
    let snapshot = app.snapshot().await;
    assert_eq!(snapshot["revoked_oauth_clients"], json!([id]));
    assert_eq!(
        snapshot["version"].as_u64().unwrap(),
        version + 1,
        "revoking twice bumps once"
    );
    let (_, list) = app
        .get(&format!(
            "/admin/v1/oauth/clients?consumer_id={}",
            consumer["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(list[0]["status"], "revoked");
    assert!(list[0].get("client_secret").is_none() && !list.to_string().contains("secret_hash"));
    let response = app
        .admin(Method::DELETE, "/admin/v1/oauth/clients/tgc_nothing")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

async fn user_token(app: &TestApp, org: &str, email: &str) -> String {
    let (_, user) = app
        .post("/admin/v1/users", json!({"email": email, "name": email}))
        .await;
    let (status, _) = app
        .post(
            &format!("/admin/v1/orgs/{org}/members"),
            json!({"user_id": user["id"], "role": "owner"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, token) = app
        .post(
            &format!("/admin/v1/users/{}/tokens", user["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    token["token"].as_str().unwrap().to_owned()
}

async fn clients_stay_inside_their_organisation(app: TestApp) {
    let (_, a) = app.post("/admin/v1/orgs", json!({"name": "A"})).await;
    let (_, b) = app.post("/admin/v1/orgs", json!({"name": "B"})).await;
    let alice = user_token(&app, a["id"].as_str().unwrap(), "alice@a.example").await;
    let bob = user_token(&app, b["id"].as_str().unwrap(), "bob@b.example").await;
    let call = |token: &str, method: Method, path: &str, body: Option<Value>| {
        let mut r = app
            .client
            .request(method, app.url(path))
            .bearer_auth(token.to_owned());
        if let Some(b) = body {
            r = r.json(&b);
        }
        r.send()
    };
    let (_, consumer) = read(
        call(
            &bob,
            Method::POST,
            "/admin/v1/consumers",
            Some(json!({"name": "B", "email": "b@b.example"})),
        )
        .await
        .unwrap(),
    )
    .await;
    let (status, c) = read(
        call(
            &bob,
            Method::POST,
            "/admin/v1/oauth/clients",
            Some(json!({"consumer_id": consumer["id"]})),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{c}");
    let id = c["client_id"].as_str().unwrap();
    // Alice cannot see, revoke or issue for Bob's.
    let (status, list) = read(
        call(&alice, Method::GET, "/admin/v1/oauth/clients", None)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, list), (StatusCode::OK, json!([])));
    let (status, _) = read(
        call(
            &alice,
            Method::DELETE,
            &format!("/admin/v1/oauth/clients/{id}"),
            None,
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let path = format!(
        "/admin/v1/oauth/clients?consumer_id={}",
        consumer["id"].as_str().unwrap()
    );
    let (status, _) = read(call(&alice, Method::GET, &path, None).await.unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, problem) = read(
        call(
            &alice,
            Method::POST,
            "/admin/v1/oauth/clients",
            Some(json!({"consumer_id": consumer["id"]})),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(
        (status, problem["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("consumer_id"))
    );
    // Signing keys are the platform operator's alone.
    let (status, _) = read(
        call(
            &bob,
            Method::POST,
            "/admin/v1/oauth/signing-keys/rotate",
            None,
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Bob's client still works, and Bob sees it.
    let (_, list) = read(
        call(&bob, Method::GET, "/admin/v1/oauth/clients", None)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(list[0]["client_id"].as_str(), Some(id));
    token_with(&app, &c, "").await;
}

crate::both_databases!(
    tokens_verify_against_the_published_jwks,
    subscription_clients_carry_plan_and_api_audience,
    token_errors_follow_rfc_6749,
    failed_authentications_are_throttled_per_client,
    rotation_keeps_old_tokens_verifiable_for_the_overlap,
    revoked_clients_reach_the_snapshot,
    clients_stay_inside_their_organisation,
);
