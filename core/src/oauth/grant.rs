//! What a token grants: the scopes (the asked subset of the client's, all of them when
//! none are asked), the audience (an allowed `audience` parameter, else the bound API's
//! JWT audience, else the issuer) and the claims of the agreed access token format
//! (JWS ES256, `typ: at+jwt`; see docs/OAUTH.md).

use super::error::{OAuthError, OAuthErrorCode};
use serde::{Deserialize, Serialize};

/// Everything the grant decision needs; the origin looks it up, the caller supplies
/// `now_secs` and a random `jti`.
#[derive(Debug, Clone)]
pub struct GrantInput<'a> {
    /// The origin's public URL (`iss`).
    pub issuer: &'a str,
    pub client_id: &'a str,
    /// The consumer the client belongs to (`sub`).
    pub consumer_id: &'a str,
    pub plan_id: Option<&'a str>,
    pub subscription_id: Option<&'a str>,
    /// The scopes the client was registered with.
    pub client_scopes: &'a [String],
    /// The scopes asked for (`None`: the `scope` parameter was absent).
    pub requested_scope: Option<&'a [String]>,
    pub requested_audience: Option<&'a str>,
    /// The JWT audience of the API the client is bound to, when it has one.
    pub api_audience: Option<&'a str>,
    pub ttl_secs: u64,
    pub now_secs: u64,
    pub jti: &'a str,
}

/// The claims of a tollgate access token besides `exp`, `nbf` and `iat`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    /// The consumer id.
    pub sub: String,
    pub aud: String,
    pub jti: String,
    pub client_id: String,
    /// Space-separated granted scopes; absent when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The plan of the client's subscription.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tg_plan: Option<String>,
    /// The client's subscription.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tg_sub: Option<String>,
}

/// A decided grant: the claims and the token's times (unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub claims: AccessClaims,
    pub issued_at: u64,
    pub expires_at: u64,
    /// The granted scopes, sorted.
    pub scopes: Vec<String>,
}

/// Decides what a token for this request grants, or why it is refused.
pub fn grant(input: &GrantInput<'_>) -> Result<Grant, OAuthError> {
    let scopes = match input.requested_scope {
        None => input.client_scopes.to_vec(),
        Some(asked) => {
            if let Some(missing) = asked.iter().find(|s| !input.client_scopes.contains(s)) {
                return Err(OAuthError::new(
                    OAuthErrorCode::InvalidScope,
                    format!("scope `{missing}` is not granted to this client"),
                ));
            }
            asked.to_vec()
        }
    };
    let aud = match input.requested_audience {
        Some(asked) if asked == input.issuer || Some(asked) == input.api_audience => {
            asked.to_owned()
        }
        Some(asked) => {
            return Err(OAuthError::invalid_request(format!(
                "audience `{}` is not one this client may ask for; omit it to get the default",
                asked.chars().take(64).collect::<String>()
            )))
        }
        None => input.api_audience.unwrap_or(input.issuer).to_owned(),
    };
    let claims = AccessClaims {
        iss: input.issuer.to_owned(),
        sub: input.consumer_id.to_owned(),
        aud,
        jti: input.jti.to_owned(),
        client_id: input.client_id.to_owned(),
        scope: (!scopes.is_empty()).then(|| scopes.join(" ")),
        tg_plan: input.plan_id.map(str::to_owned),
        tg_sub: input.subscription_id.map(str::to_owned),
    };
    Ok(Grant {
        claims,
        issued_at: input.now_secs,
        expires_at: input.now_secs.saturating_add(input.ttl_secs),
        scopes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input<'a>(client: &'a [String], asked: Option<&'a [String]>) -> GrantInput<'a> {
        GrantInput {
            issuer: "https://tg.example",
            client_id: "tgc_1",
            consumer_id: "con_1",
            plan_id: Some("plan_1"),
            subscription_id: Some("sub_1"),
            client_scopes: client,
            requested_scope: asked,
            requested_audience: None,
            api_audience: None,
            ttl_secs: 600,
            now_secs: 1_000,
            jti: "j1",
        }
    }

    #[test]
    fn scopes_are_the_asked_subset_or_all() {
        let client = vec!["a:read".to_owned(), "b:write".to_owned()];
        let g = grant(&input(&client, None)).unwrap();
        assert_eq!(g.claims.scope.as_deref(), Some("a:read b:write"));
        assert_eq!((g.issued_at, g.expires_at), (1_000, 1_600));
        let asked = vec!["b:write".to_owned()];
        let g = grant(&input(&client, Some(&asked))).unwrap();
        assert_eq!(g.claims.scope.as_deref(), Some("b:write"));
        assert_eq!(g.claims.tg_sub.as_deref(), Some("sub_1"));
        let asked = vec!["c:admin".to_owned()];
        let e = grant(&input(&client, Some(&asked))).unwrap_err();
        assert_eq!(e.code, OAuthErrorCode::InvalidScope);
        assert!(e.description.contains("c:admin"));
        let none = grant(&input(&[], None)).unwrap();
        assert_eq!(none.claims.scope, None);
    }

    #[test]
    fn the_audience_is_allowed_asked_then_api_then_issuer() {
        let mut i = input(&[], None);
        assert_eq!(grant(&i).unwrap().claims.aud, "https://tg.example");
        i.api_audience = Some("weather-api");
        assert_eq!(grant(&i).unwrap().claims.aud, "weather-api");
        i.requested_audience = Some("https://tg.example");
        assert_eq!(grant(&i).unwrap().claims.aud, "https://tg.example");
        i.requested_audience = Some("someone-else");
        assert_eq!(grant(&i).unwrap_err().code, OAuthErrorCode::InvalidRequest);
    }

    #[test]
    fn claims_serialise_without_empty_members() {
        let g = grant(&GrantInput {
            plan_id: None,
            subscription_id: None,
            ..input(&[], None)
        })
        .unwrap();
        let json = serde_json::to_value(&g.claims).unwrap();
        assert_eq!(json.as_object().unwrap().len(), 5, "{json}");
    }
}
