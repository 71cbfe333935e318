//! The authentication phase of APIs with `auth: jwt`: the bearer token is verified against
//! the API's JWKS (no per-request call to anyone once the keys are cached), its claims
//! checked, and the caller it names goes through the same subscription, entitlement and
//! limit checks as a key's — plus the API's scope rules. The decisions are core's.

use crate::config::{now_ms, EdgeConfig};
use crate::entitlements::{authorize_call, refresh_record};
use crate::isolate_cache::RoutedSnapshot;
use crate::jwks_store::{keys_for, refetch_for_unknown_kid};
use crate::problem_response::problem_response;
use crate::proxy::Caller;
use crate::validation_gate::validated_forward;
use std::cell::RefCell;
use tollgate_core::credential::CredentialSource;
use tollgate_core::jwt::jws::parse_compact;
use tollgate_core::jwt::scopes::authorize_scopes;
use tollgate_core::jwt::verified_cache::{token_key, VerifiedTokens};
use tollgate_core::jwt::{
    bearer_token, validate_claims, verify_jws, ClaimPolicy, JwtCaller, JwtError,
};
use tollgate_core::route::RouteMatch;
use tollgate_core::{AuthPolicy, Problem, ProblemKind};
use worker::{Env, Request, Response};

thread_local! {
    static VERIFIED: RefCell<VerifiedTokens> = RefCell::new(VerifiedTokens::default());
}

/// Why a request did not get past authentication.
enum Refusal {
    /// A 401 with its `WWW-Authenticate` challenge.
    Challenge(Problem, String),
    Other(Problem),
}

impl From<Problem> for Refusal {
    fn from(p: Problem) -> Refusal {
        Refusal::Other(p)
    }
}

fn refused(e: JwtError) -> Refusal {
    Refusal::Challenge(e.to_problem(), e.www_authenticate())
}

fn refetch_interval_ms(env: &Env) -> u64 {
    env.var("JWKS_REFETCH_SECS")
        .ok()
        .and_then(|v| v.to_string().trim().parse::<u64>().ok())
        .map_or(tollgate_core::jwt::jwks_cache::REFETCH_INTERVAL_MS, |s| {
            s.max(1) * 1_000
        })
}

async fn verify(
    env: &Env,
    cfg: &EdgeConfig,
    jwks_url: &str,
    token: &str,
    policy: &ClaimPolicy<'_>,
) -> Result<JwtCaller, Refusal> {
    let now_secs = now_ms() / 1_000;
    let cache_key = token_key(jwks_url, token);
    let cached = VERIFIED.with(|v| v.borrow().get(&cache_key, now_secs).map(<[u8]>::to_vec));
    if let Some(payload) = cached {
        return validate_claims(&payload, policy, now_secs).map_err(refused);
    }
    // Shape and header first: garbage, `alg: none` or a token carrying its own keys is
    // refused without touching the JWKS.
    parse_compact(token).map_err(refused)?;
    let keys = keys_for(env, cfg, jwks_url).await?;
    let payload = match verify_jws(token, &keys) {
        Err(e) if e.wants_new_keys() => {
            match refetch_for_unknown_kid(env, cfg, jwks_url, refetch_interval_ms(env)).await {
                Some(newer) => verify_jws(token, &newer),
                None => Err(e),
            }
        }
        other => other,
    }
    .map_err(refused)?;
    let caller = validate_claims(&payload, policy, now_secs).map_err(refused)?;
    let until = caller.expires_at_secs.saturating_add(policy.leeway_secs);
    VERIFIED.with(|v| v.borrow_mut().insert(cache_key, payload, until, now_secs));
    Ok(caller)
}

async fn run(
    req: &Request,
    env: &Env,
    cfg: &EdgeConfig,
    snapshot: &RoutedSnapshot,
    route: &RouteMatch<'_>,
) -> Result<Response, Refusal> {
    let AuthPolicy::Jwt {
        jwks_url,
        issuer,
        audience,
        leeway_secs,
        required_claims,
        consumer_claim,
        scopes,
    } = &route.api.auth
    else {
        return Err(Problem::new(ProblemKind::Internal, "not a JWT route").into());
    };
    let authorization = req.headers().get("authorization").ok().flatten();
    let token = bearer_token(authorization.as_deref())
        .map_err(|p| Refusal::Challenge(p, "Bearer".to_owned()))?;
    let policy = ClaimPolicy {
        issuer,
        audience,
        leeway_secs: *leeway_secs,
        required_claims,
        consumer_claim,
    };
    let caller = verify(env, cfg, jwks_url, token, &policy).await?;
    if caller.client_revoked(&snapshot.revoked_oauth_clients) {
        return Err(Refusal::Challenge(
            Problem::new(
                ProblemKind::RevokedCredential,
                "the OAuth client this token was issued to was revoked; ask the API provider for new client credentials",
            ),
            r#"Bearer error="invalid_token", error_description="the client was revoked""#.to_owned(),
        ));
    }
    let method = req.method();
    authorize_scopes(scopes, method.as_ref(), &route.rest, &caller.scopes)?;
    let mut record = caller.to_key_record(&route.api.id);
    refresh_record(snapshot, &mut record);
    let features = authorize_call(snapshot, route, method.as_ref(), &record, now_ms())?;
    let who = Caller {
        credential: Some(CredentialSource::Authorization),
        key: Some(&record),
        features,
    };
    Ok(validated_forward(req, env, cfg, snapshot, route, who).await?)
}

/// Authenticates a request to a JWT route and, if it may pass, forwards it.
pub async fn jwt_forward(
    req: &Request,
    env: &Env,
    cfg: &EdgeConfig,
    snapshot: &RoutedSnapshot,
    route: &RouteMatch<'_>,
) -> Result<Response, Problem> {
    match run(req, env, cfg, snapshot, route).await {
        Ok(resp) => Ok(resp),
        Err(Refusal::Other(p)) => Err(p),
        Err(Refusal::Challenge(problem, challenge)) => {
            let internal = |_| Problem::new(ProblemKind::Internal, "the answer could not be built");
            let mut resp = problem_response(&problem).map_err(internal)?;
            resp.headers_mut()
                .set("www-authenticate", &challenge)
                .map_err(internal)?;
            Ok(resp)
        }
    }
}
