//! OpenAPI request validation at the edge, between authorisation and rate limits.
//!
//! Placement: after authentication and authorisation, so anonymous callers cannot probe
//! the specification (they get 401 first), and before rate limits and forwarding, so a
//! request that would be refused anyway costs no limiter round trip, no quota unit and
//! no upstream call; checking is pure CPU in the isolate (~1 µs natively for a petstore
//! request, see `make bench-validation`).
//!
//! Enforce: violations → 400 problem+json with `errors: [{pointer, reason}]`; a path no
//! operation of the document has → 404, a method its path does not have → 405 with
//! `Allow` (as Zuplo answers 404 for unknown paths when validation is on: the document is
//! the contract). Report: everything is forwarded; mismatches add
//! `tollgate-validation: failed; count=N` to the answer and a console line.
//!
//! Bodies are read only when the operation has a JSON body schema and the declared (or
//! actually streamed) size is within the API's `max_body_bytes`; larger ones are 413 in
//! enforce mode and forwarded unchecked in report mode. The body is read from a clone
//! (a tee), so the original still streams to the upstream.
//!
//! Answers (responses mode `report`): JSON answers of at most [`MAX_RESPONSE_BYTES`] are
//! checked against the status's schema; mismatches only add
//! `tollgate-response-validation: failed; count=N`. Never blocking.

use crate::config::EdgeConfig;
use crate::guard::guarded_forward;
use crate::isolate_cache::RoutedSnapshot;
use crate::proxy::Caller;
use futures_util::StreamExt;
use tollgate_core::problem::PROBLEM_CONTENT_TYPE;
use tollgate_core::route::RouteMatch;
use tollgate_core::validation::request::BodyInput;
use tollgate_core::validation::{
    ApiValidator, Lookup, Operation, RequestMode, RequestParts, ResponseMode, Violation,
};
use tollgate_core::version_route::VersionPick;
use tollgate_core::{Problem, ProblemKind};
use worker::{Env, Headers, Request, Response};

/// Largest answer body checked in responses report mode.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// The `title` of a validation refusal.
pub const TITLE: &str = "Request does not match the API specification";

fn internal(_: worker::Error) -> Problem {
    Problem::new(ProblemKind::Internal, "the answer could not be built")
}

/// Validates (when the API has validation on), then limits and forwards.
pub async fn validated_forward(
    req: &Request,
    env: &Env,
    cfg: &EdgeConfig,
    snapshot: &RoutedSnapshot,
    route: &RouteMatch<'_>,
    caller: Caller<'_>,
) -> Result<Response, Problem> {
    let version = match route.version {
        VersionPick::Live(v) => Some(v.version.as_str()),
        _ => None,
    };
    let Some(api) = snapshot.validation.get(&route.api.id, version) else {
        return guarded_forward(req, env, cfg, snapshot, route, caller).await;
    };
    let method = req.method().to_string();
    let found = api.validator.lookup(&method, &route.rest);
    let mut marks = Vec::new();
    let op = match found {
        Lookup::Found { op, path_params } => {
            if api.requests != RequestMode::Off {
                let violations = check_request(req, api, op, &path_params).await?;
                if !violations.is_empty() {
                    if api.requests == RequestMode::Enforce {
                        return refuse(violations);
                    }
                    worker::console_log!(
                        "validation: {} {} on {} failed: {:?}",
                        method,
                        route.rest,
                        route.api.name,
                        violations
                    );
                    marks.push((
                        "tollgate-validation",
                        format!("failed; count={}", violations.len()),
                    ));
                }
            }
            Some(op)
        }
        Lookup::UnknownPath | Lookup::MethodNotAllowed { .. }
            if api.requests == RequestMode::Report =>
        {
            worker::console_log!(
                "validation: {} {} on {} is not in the specification",
                method,
                route.rest,
                route.api.name
            );
            marks.push(("tollgate-validation", "failed; count=1".to_owned()));
            None
        }
        Lookup::UnknownPath if api.requests == RequestMode::Enforce => {
            return Err(Problem::new(
                ProblemKind::NotFound,
                format!(
                    "`{} {}` is not an operation of `{}`'s specification",
                    method, route.rest, route.api.name
                ),
            ));
        }
        Lookup::MethodNotAllowed { allowed } if api.requests == RequestMode::Enforce => {
            let problem = Problem::new(
                ProblemKind::MethodNotAllowed,
                format!(
                    "`{}` takes {}, not {method}",
                    route.rest,
                    allowed.join(", ")
                ),
            );
            let mut resp = crate::problem_response::problem_response(&problem).map_err(internal)?;
            resp.headers_mut()
                .set("allow", &allowed.join(", "))
                .map_err(internal)?;
            return Ok(resp);
        }
        _ => None,
    };
    let mut resp = guarded_forward(req, env, cfg, snapshot, route, caller).await?;
    if let (Some(op), ResponseMode::Report) = (op, api.responses) {
        if let Some(count) = check_response(api, op, &mut resp).await {
            marks.push((
                "tollgate-response-validation",
                format!("failed; count={count}"),
            ));
        }
    }
    for (name, value) in marks {
        resp.headers_mut().set(name, &value).map_err(internal)?;
    }
    Ok(resp)
}

fn declared_length(headers: &Headers) -> Option<u64> {
    headers
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse().ok())
}

fn too_large(max: u64) -> Problem {
    Problem::new(
        ProblemKind::PayloadTooLarge,
        format!("the request body is larger than this API's validation limit of {max} bytes"),
    )
}

/// Reads at most `max` bytes of the body from a tee; `None` when it is longer.
async fn read_bounded(req: &Request, max: u64) -> Result<Option<Vec<u8>>, Problem> {
    let unreadable = |_| {
        Problem::new(
            ProblemKind::MalformedRequest,
            "the request body could not be read",
        )
    };
    let mut copy = req.clone().map_err(unreadable)?;
    let mut stream = match copy.stream() {
        Ok(s) => s,
        Err(_) => return Ok(Some(Vec::new())),
    };
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        body.extend_from_slice(&chunk.map_err(unreadable)?);
        if body.len() as u64 > max {
            return Ok(None);
        }
    }
    Ok(Some(body))
}

async fn check_request(
    req: &Request,
    api: &ApiValidator,
    op: &Operation,
    path_params: &[(String, String)],
) -> Result<Vec<Violation>, Problem> {
    let headers: Vec<(String, String)> = req
        .headers()
        .entries()
        .map(|(n, v)| (n.to_ascii_lowercase(), v))
        .collect();
    let url = req.url().map_err(|_| {
        Problem::new(
            ProblemKind::MalformedRequest,
            "the request URL could not be read",
        )
    })?;
    let declared = declared_length(req.headers());
    let chunked = req.headers().has("transfer-encoding").unwrap_or(false);
    let sent = declared.is_some_and(|n| n > 0) || chunked;
    let enforce = api.requests == RequestMode::Enforce;
    let bytes;
    let body = match &op.body {
        Some(b) if b.json.is_some() && sent => {
            if declared.is_some_and(|n| n > api.max_body_bytes) {
                if enforce {
                    return Err(too_large(api.max_body_bytes));
                }
                BodyInput::Unread
            } else {
                match read_bounded(req, api.max_body_bytes).await? {
                    Some(read) => {
                        bytes = read;
                        BodyInput::Bytes(&bytes)
                    }
                    None if enforce => return Err(too_large(api.max_body_bytes)),
                    None => BodyInput::Unread,
                }
            }
        }
        _ if sent => BodyInput::Unread,
        _ => BodyInput::Absent,
    };
    let parts = RequestParts {
        query: url.query().unwrap_or_default(),
        headers: &headers,
        body,
    };
    Ok(api.validator.check_request(op, path_params, parts))
}

/// The 400 answer listing every violation.
fn refuse(violations: Vec<Violation>) -> Result<Response, Problem> {
    let mut problem = Problem::new(ProblemKind::MalformedRequest, format!("{} part(s) of the request do not match the API specification; each is listed in `errors` with its JSON pointer", violations.len()));
    problem.type_uri = "https://tollgate.dev/problems/request-validation".into();
    problem.title = TITLE.into();
    let mut body = serde_json::to_value(&problem).unwrap_or_default();
    if let Some(obj) = body.as_object_mut() {
        obj.insert(
            "errors".into(),
            serde_json::to_value(&violations).unwrap_or_default(),
        );
    }
    let headers = Headers::new();
    headers
        .set("content-type", PROBLEM_CONTENT_TYPE)
        .map_err(internal)?;
    headers.set("cache-control", "no-store").map_err(internal)?;
    Ok(Response::from_bytes(body.to_string().into_bytes())
        .map_err(internal)?
        .with_status(400)
        .with_headers(headers))
}

/// Checks a small JSON answer; the number of violations when there are any. The answer
/// is read from a tee up to [`MAX_RESPONSE_BYTES`] (the edge forwards no
/// `content-length`, so the size is only known by reading); a longer one goes unchecked.
async fn check_response(api: &ApiValidator, op: &Operation, resp: &mut Response) -> Option<usize> {
    let json = resp
        .headers()
        .get("content-type")
        .ok()
        .flatten()
        .is_some_and(|t| tollgate_core::validation::compile::is_json_media(&t));
    if !json {
        return None;
    }
    let mut stream = resp.cloned().ok()?.stream().ok()?;
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        body.extend_from_slice(&chunk.ok()?);
        if body.len() > MAX_RESPONSE_BYTES {
            return None;
        }
    }
    let violations = api.validator.check_response(op, resp.status_code(), &body);
    if violations.is_empty() {
        return None;
    }
    worker::console_log!(
        "validation: answer {} does not match: {:?}",
        resp.status_code(),
        violations
    );
    Some(violations.len())
}
