//! Optional single sign-on with an OpenID provider (`TOLLGATE_OIDC_ISSUER`,
//! `TOLLGATE_OIDC_CLIENT_ID`, `TOLLGATE_OIDC_CLIENT_SECRET`): the authorization code flow
//! with PKCE (S256), a `state` bound to the browser's session and used once, and a `nonce`
//! the ID token must carry. The signed-in identity (issuer, subject) is linked to a user:
//! the one it was linked to before, else the account with the same provider-verified
//! email, else a new account.

use super::accounts::page;
use super::oidc_link::link_identity;
use super::oidc_provider::{discover, redeem_code, Grant};
use super::pages::PortalError;
use super::session;
use super::verification::message;
use super::PortalSettings;
use crate::clock::{now_ms, now_secs};
use crate::routes::AppState;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Redirect, Response};
use axum::Extension;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::Rng;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;
use tollgate_core::oidc::pkce_challenge;

/// How long a started sign-in may take at the provider: 10 minutes.
const LOGIN_TTL_MS: i64 = 10 * 60 * 1000;

/// The client secret: never printed.
#[derive(Clone)]
pub struct ClientSecret(String);

impl ClientSecret {
    /// The secret, for the token request only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientSecret(…)")
    }
}

/// The provider the portal signs in with.
#[derive(Debug, Clone)]
pub struct OidcSettings {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: ClientSecret,
    /// Shown on the button: `TOLLGATE_OIDC_NAME`, else the issuer's host.
    pub display_name: String,
}

impl OidcSettings {
    /// From the environment; `None` unless issuer, client id and secret are all set.
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Option<OidcSettings> {
        let issuer = var("TOLLGATE_OIDC_ISSUER")?;
        let client_id = var("TOLLGATE_OIDC_CLIENT_ID")?;
        let secret = var("TOLLGATE_OIDC_CLIENT_SECRET")?;
        let display_name = var("TOLLGATE_OIDC_NAME").unwrap_or_else(|| {
            url::Url::parse(&issuer)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_else(|| "single sign-on".into())
        });
        Some(OidcSettings {
            issuer: issuer.trim().to_owned(),
            client_id: client_id.trim().to_owned(),
            client_secret: ClientSecret(secret),
            display_name,
        })
    }
}

fn random_b64(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill(&mut buf[..]);
    URL_SAFE_NO_PAD.encode(buf)
}

fn hash(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

fn redirect_uri(settings: &PortalSettings) -> String {
    format!("{}/portal/oidc/callback", settings.public_url)
}

fn refused(session: &session::Session, why: String) -> Result<Response, PortalError> {
    tracing::warn!(reason = %why, "portal single sign-on refused");
    message(
        StatusCode::BAD_REQUEST,
        session.chrome(),
        "Sign-in failed",
        format!("You are not signed in: {why}."),
        None,
    )
}

/// `GET /portal/oidc/start`: sends the browser to the provider.
pub async fn start(
    State(state): State<AppState>,
    Extension(settings): Extension<Arc<PortalSettings>>,
    headers: HeaderMap,
) -> Result<Response, PortalError> {
    let oidc = settings
        .oidc
        .as_ref()
        .ok_or(PortalError::NotFound("single sign-on"))?;
    let (session, cookie) = session::visit(&state.db, &settings, &headers).await?;
    let discovery = match discover(&settings.client, oidc).await {
        Ok(d) => d,
        Err(why) => return refused(&session, why),
    };
    let (login_state, nonce, verifier) = (random_b64(32), random_b64(32), random_b64(32));
    let now = now_ms();
    sqlx::query("DELETE FROM portal_oidc_logins WHERE expires_at <= $1")
        .bind(now)
        .execute(&state.db)
        .await?;
    sqlx::query(
        "INSERT INTO portal_oidc_logins (state_hash, session_hash, nonce, code_verifier, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(hash(&login_state))
    .bind(&session.id_hash)
    .bind(&nonce)
    .bind(&verifier)
    .bind(now + LOGIN_TTL_MS)
    .execute(&state.db)
    .await?;
    let mut url = url::Url::parse(&discovery.authorization_endpoint).map_err(|e| {
        PortalError::BadRequest(format!("the provider's authorization endpoint: {e}"))
    })?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &oidc.client_id)
        .append_pair("redirect_uri", &redirect_uri(&settings))
        .append_pair("scope", "openid email profile")
        .append_pair("state", &login_state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &pkce_challenge(&verifier))
        .append_pair("code_challenge_method", "S256");
    Ok(page(
        StatusCode::SEE_OTHER,
        cookie,
        Redirect::to(url.as_str()),
    ))
}

/// `GET /portal/oidc/callback`: checks state, redeems the code, links and signs in.
pub async fn callback(
    State(state): State<AppState>,
    Extension(settings): Extension<Arc<PortalSettings>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, PortalError> {
    let oidc = settings
        .oidc
        .as_ref()
        .ok_or(PortalError::NotFound("single sign-on"))?;
    let (session, cookie) = session::visit(&state.db, &settings, &headers).await?;
    let login_state = query.get("state").map(String::as_str).unwrap_or("");
    // The pending sign-in is used up whatever happens next: a state works once.
    let pending: Option<(String, String, String, i64)> = sqlx::query_as(
        "SELECT session_hash, nonce, code_verifier, expires_at FROM portal_oidc_logins WHERE state_hash = $1",
    )
    .bind(hash(login_state))
    .fetch_optional(&state.db)
    .await?;
    sqlx::query("DELETE FROM portal_oidc_logins WHERE state_hash = $1")
        .bind(hash(login_state))
        .execute(&state.db)
        .await?;
    let (nonce, verifier) =
        match pending {
            Some((session_hash, nonce, verifier, expires_at))
                if cookie.is_none() && session_hash == session.id_hash && expires_at > now_ms() =>
            {
                (nonce, verifier)
            }
            _ => return refused(
                &session,
                "this sign-in was not started in this browser, was used already or took longer \
                 than 10 minutes (the `state` does not match) — use the sign-in button again"
                    .into(),
            ),
        };
    if let Some(error) = query.get("error") {
        let detail = query
            .get("error_description")
            .map(String::as_str)
            .unwrap_or("");
        return refused(
            &session,
            format!("the provider answered `{error}` {detail}"),
        );
    }
    let Some(code) = query
        .get("code")
        .filter(|c| !c.is_empty() && c.len() <= 2048)
    else {
        return refused(&session, "the provider sent no authorization code".into());
    };
    let identity = match async {
        let discovery = discover(&settings.client, oidc).await?;
        let uri = redirect_uri(&settings);
        let grant = Grant {
            code,
            verifier: &verifier,
            nonce: &nonce,
            redirect_uri: &uri,
        };
        redeem_code(&settings.client, oidc, &discovery, &grant, now_secs()).await
    }
    .await
    {
        Ok(identity) => identity,
        Err(why) => return refused(&session, why),
    };
    let user = match link_identity(&state, &identity).await? {
        Ok(user) => user,
        Err(why) => return refused(&session, why),
    };
    tracing::info!(user_id = %user.id, issuer = %identity.issuer, "portal single sign-on");
    session::end(&state.db, &session).await?;
    let (_, cookie) = session::start(&state.db, &settings, Some(user)).await?;
    Ok(page(
        StatusCode::SEE_OTHER,
        Some(cookie),
        Redirect::to("/portal/apis"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_sign_on_needs_all_three_settings_and_never_prints_the_secret() {
        let all = |n: &str| match n {
            "TOLLGATE_OIDC_ISSUER" => Some("https://id.example.com".to_owned()),
            "TOLLGATE_OIDC_CLIENT_ID" => Some("tollgate".to_owned()),
            "TOLLGATE_OIDC_CLIENT_SECRET" => Some("s3cret-value".to_owned()),
            _ => None,
        };
        let s = OidcSettings::from_lookup(all).unwrap();
        assert_eq!(s.display_name, "id.example.com");
        assert!(!format!("{s:?}").contains("s3cret"));
        let no_secret = |n: &str| all(n).filter(|_| n != "TOLLGATE_OIDC_CLIENT_SECRET");
        assert!(OidcSettings::from_lookup(no_secret).is_none());
    }
}
