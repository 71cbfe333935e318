//! The request pipeline as named phases: limits → route → authenticate → authorise (key,
//! subscription, plan entitlements) →
//! OpenAPI request validation (`validation_gate`) → rate limits and load shedding (`guard`) → forward. Each phase either passes the request on or ends it with a problem.

use crate::config::{now_ms, EdgeConfig};
use crate::entitlements::{authorize_call, refresh_record};
use crate::guard::metrics_endpoint;
use crate::identity_jwt::jwks_endpoint;
use crate::key_store::find_key;
use crate::policies::{check_request_headers, early, Finish};
use crate::problem_response::problem_response;
use crate::proxy::Caller;
use crate::snapshot_store::current_snapshot;
use crate::validation_gate::validated_forward;
use tollgate_core::credential::{extract_api_key, CredentialHeaders};
use tollgate_core::forward::MAX_REQUEST_HEADER_BYTES;
use tollgate_core::key_cache::authorize_key;
use tollgate_core::version_route::admit_version;
use tollgate_core::{AuthPolicy, Problem, ProblemKind};
use worker::{Env, Request, Response};

/// Runs one request through the edge.
pub async fn handle(req: Request, env: &Env) -> worker::Result<Response> {
    let mut finish = Finish::default();
    let resp = match run(&req, env, &mut finish).await {
        Ok(resp) => resp,
        Err(problem) => problem_response(&problem)?,
    };
    finish.apply(&req, resp)
}

async fn run(req: &Request, env: &Env, finish: &mut Finish) -> Result<Response, Problem> {
    let cfg = EdgeConfig::from_env(env).map_err(|missing| {
        worker::console_error!("edge: {missing} is not set");
        Problem::new(
            ProblemKind::Internal,
            "the edge is not configured; the operator must set its variables",
        )
    })?;
    check_limits(req, &cfg)?;
    check_request_headers(req)?;
    if let Some(answer) = metrics_endpoint(req, &cfg) {
        return answer;
    }
    if let Some(answer) = jwks_endpoint(req, &cfg) {
        return answer;
    }

    let snapshot = current_snapshot(env, &cfg).await.ok_or_else(|| {
        Problem::new(
            ProblemKind::ServiceUnavailable,
            "the edge has no configuration yet; retry in a few seconds",
        )
        .with_retry_after(5)
    })?;
    let path = req.path();
    let route = snapshot.routes.match_path(&path).ok_or_else(|| {
        Problem::new(
            ProblemKind::NoRoute,
            format!("no API is published at `{path}`; check the URL"),
        )
    })?;

    crate::usage_meter::note_route(&route, req.method().as_ref());
    // Policies before credentials: IP, CORS preflight, methods, sizes, WebSocket gate.
    if let Some(answer) = early(req, &route, finish).await? {
        return Ok(answer);
    }
    // Version status before credentials: a retired or unpublished version is the same
    // answer for everyone; a deprecated one adds its headers to whatever comes back.
    let notices = admit_version(&route)?;
    let resp = match &route.api.auth {
        AuthPolicy::None => {
            validated_forward(
                req,
                env,
                &cfg,
                &snapshot,
                &route,
                Caller {
                    credential: None,
                    key: None,
                    features: None,
                },
            )
            .await
        }
        AuthPolicy::Key => {
            let headers = req.headers();
            let authorization = headers.get("authorization").ok().flatten();
            let x_api_key = headers.get("x-api-key").ok().flatten();
            let (key, source) = extract_api_key(CredentialHeaders {
                authorization: authorization.as_deref(),
                x_api_key: x_api_key.as_deref(),
            })?;
            let hash = key.hash();
            if snapshot.revoked.contains(&hash) {
                return Err(Problem::new(
                    ProblemKind::RevokedCredential,
                    "this key was revoked; create a new key in the portal",
                ));
            }
            let mut record = find_key(env, &cfg, &hash).await?;
            if let Some(r) = record.as_mut() {
                refresh_record(&snapshot, r);
            }
            let now = now_ms();
            authorize_key(record.as_ref(), route.api, now)?;
            let features = match &record {
                Some(r) => authorize_call(&snapshot, &route, req.method().as_ref(), r, now)?,
                None => None,
            };
            validated_forward(
                req,
                env,
                &cfg,
                &snapshot,
                &route,
                Caller {
                    credential: Some(source),
                    key: record.as_ref(),
                    features,
                },
            )
            .await
        }
        AuthPolicy::Jwt { .. } => {
            crate::jwt_auth::jwt_forward(req, env, &cfg, &snapshot, &route).await
        }
        AuthPolicy::Mtls => {
            let record =
                crate::mtls_auth::authenticate_certificate(req, env, &cfg, &snapshot).await?;
            let now = now_ms();
            authorize_key(Some(&record), route.api, now)?;
            let features = authorize_call(&snapshot, &route, req.method().as_ref(), &record, now)?;
            validated_forward(
                req,
                env,
                &cfg,
                &snapshot,
                &route,
                Caller {
                    credential: None,
                    key: Some(&record),
                    features,
                },
            )
            .await
        }
    };
    with_notices(resp?, notices)
}

/// Adds a deprecated version's `Deprecation`, `Sunset` and `Link` headers.
fn with_notices(
    mut resp: Response,
    notices: Vec<(&'static str, String)>,
) -> Result<Response, Problem> {
    for (name, value) in notices {
        resp.headers_mut().append(name, &value).map_err(|_| {
            Problem::new(
                ProblemKind::Internal,
                "a deprecation header could not be set",
            )
        })?;
    }
    Ok(resp)
}

fn check_limits(req: &Request, cfg: &EdgeConfig) -> Result<(), Problem> {
    let header_bytes: usize = req
        .headers()
        .entries()
        .map(|(n, v)| n.len() + v.len() + 4)
        .sum();
    if header_bytes > MAX_REQUEST_HEADER_BYTES {
        return Err(Problem::new(
            ProblemKind::HeadersTooLarge,
            format!("request headers total {header_bytes} bytes; the limit is {MAX_REQUEST_HEADER_BYTES}"),
        ));
    }
    let declared = req
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|len| len > cfg.max_body_bytes) {
        return Err(Problem::new(
            ProblemKind::PayloadTooLarge,
            format!(
                "the request body is larger than the limit of {} bytes",
                cfg.max_body_bytes
            ),
        ));
    }
    Ok(())
}
