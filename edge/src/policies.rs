//! Applying an API's policies (`tollgate_core::policy`) at the right phase of the pipeline:
//! - `early`, right after routing and before authentication: WebSocket gate, client IP,
//!   CORS preflight, method allow-list, header and body size limits;
//! - `upstream_target` and `edit_request_headers`, while building the upstream request;
//! - `Finish::apply`, on every answer (the upstream's and the edge's own problems):
//!   response header edits and CORS headers, so browsers can read a 401 or 429 too.

use crate::problem_response::problem_response;
use futures_util::StreamExt;
use std::borrow::Cow;
use tollgate_core::forward::upstream_url;
use tollgate_core::policy::access::{check_client_headers, check_method, header_bytes};
use tollgate_core::policy::cors::is_preflight;
use tollgate_core::policy::{ApiPolicies, CorsPolicy, HeaderEdits, SizeLimits};
use tollgate_core::route::RouteMatch;
use tollgate_core::{Problem, ProblemKind};
use worker::{Headers, Request, Response};

fn internal(_: worker::Error) -> Problem {
    Problem::new(ProblemKind::Internal, "the answer could not be built")
}

fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}

/// Whether the client asks to switch to the WebSocket protocol.
pub fn is_websocket_upgrade(req: &Request) -> bool {
    header(req, "upgrade").is_some_and(|u| u.to_ascii_lowercase().contains("websocket"))
}

/// Refuses client header values that cannot be forwarded (400, never a 500 later).
pub fn check_request_headers(req: &Request) -> Result<(), Problem> {
    let entries: Vec<(String, String)> = req.headers().entries().collect();
    check_client_headers(entries.iter().map(|(n, v)| (n.as_str(), v.as_str())))
}

/// What the answer needs from the route's policies once the pipeline is done.
#[derive(Default)]
pub struct Finish {
    cors: Option<CorsPolicy>,
    response_headers: Option<HeaderEdits>,
}

impl Finish {
    fn capture(&mut self, policies: &ApiPolicies) {
        self.cors.clone_from(&policies.cors);
        self.response_headers.clone_from(&policies.response_headers);
    }

    /// Response header edits, then CORS headers for an allowed `Origin`.
    pub fn apply(&self, req: &Request, resp: Response) -> worker::Result<Response> {
        if self.cors.is_none() && self.response_headers.is_none() {
            return Ok(resp);
        }
        let mut resp = resp;
        let headers = resp.headers_mut();
        if let Some(edits) = &self.response_headers {
            apply_edits(headers, edits)?;
        }
        if let (Some(cors), Some(origin)) = (&self.cors, header(req, "origin")) {
            for (name, value) in cors.response_headers(&origin) {
                if name == "vary" {
                    headers.append(name, &value)?;
                } else {
                    headers.set(name, &value)?;
                }
            }
        }
        Ok(resp)
    }
}

/// Applies header edits to a live header set through the core's list semantics.
fn apply_edits(headers: &Headers, edits: &HeaderEdits) -> worker::Result<()> {
    let mut list: Vec<(String, String)> = headers.entries().collect();
    let before: Vec<String> = list.iter().map(|(n, _)| n.clone()).collect();
    edits.apply(&mut list);
    for name in before {
        headers.delete(&name)?;
    }
    for (name, value) in &list {
        headers.append(name, value)?;
    }
    Ok(())
}

/// Request header edits towards the upstream.
pub fn edit_request_headers(route: &RouteMatch<'_>, headers: &mut Vec<(String, String)>) {
    if let Some(edits) = route
        .api
        .policies
        .as_ref()
        .and_then(|p| p.request_headers.as_ref())
    {
        edits.apply(headers);
    }
}

/// The upstream URL after the path rewrite and query edits.
pub fn upstream_target(route: &RouteMatch<'_>, query: Option<&str>) -> Result<String, Problem> {
    let Some(p) = route.api.policies.as_deref() else {
        return Ok(upstream_url(route.upstream_url(), &route.rest, query));
    };
    let rest = match &p.path_rewrite {
        Some(r) => r.apply(&route.rest).map_err(|e| {
            Problem::new(
                ProblemKind::MalformedRequest,
                format!("this path cannot be forwarded: {e}"),
            )
            .with_field("path")
        })?,
        None => Cow::Borrowed(route.rest.as_str()),
    };
    let edited = p.query.as_ref().map(|q| q.apply(query));
    let query = match &edited {
        Some(q) => q.as_deref(),
        None => query,
    };
    Ok(upstream_url(route.upstream_url(), &rest, query))
}

/// The early phase; `Some` is a finished answer (a preflight's 204, a 405 with `Allow`).
pub async fn early(
    req: &Request,
    route: &RouteMatch<'_>,
    finish: &mut Finish,
) -> Result<Option<Response>, Problem> {
    let policies = route.api.policies.as_deref();
    if is_websocket_upgrade(req) && !policies.is_some_and(|p| p.websocket) {
        return Err(Problem::new(
            ProblemKind::MalformedRequest,
            format!("`{}` does not accept WebSocket upgrades; the operator can enable `websocket` in its policies", route.api.name),
        )
        .with_field("upgrade"));
    }
    let Some(policies) = policies else {
        return Ok(None);
    };
    finish.capture(policies);
    if let Some(ip) = &policies.ip {
        ip.check(header(req, "cf-connecting-ip").as_deref())?;
    }
    let method = req.method();
    let origin = header(req, "origin");
    let request_method = header(req, "access-control-request-method");
    if let Some(cors) = &policies.cors {
        if is_preflight(
            method.as_ref(),
            origin.as_deref(),
            request_method.as_deref(),
        ) {
            return preflight(
                req,
                cors,
                origin.as_deref().unwrap_or(""),
                request_method.as_deref().unwrap_or(""),
            )
            .map(Some);
        }
    }
    if let Some(allowed) = &policies.methods {
        if let Err(refused) = check_method(allowed, method.as_ref()) {
            let mut resp = problem_response(&refused.problem(method.as_ref())).map_err(internal)?;
            resp.headers_mut()
                .set("allow", &refused.allow)
                .map_err(internal)?;
            return Ok(Some(resp));
        }
    }
    if let Some(limits) = &policies.limits {
        let entries: Vec<(String, String)> = req.headers().entries().collect();
        limits.check_headers(header_bytes(
            entries.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        ))?;
        check_body(req, limits).await?;
    }
    Ok(None)
}

fn preflight(
    req: &Request,
    cors: &CorsPolicy,
    origin: &str,
    method: &str,
) -> Result<Response, Problem> {
    let asked = header(req, "access-control-request-headers");
    let allowed = cors
        .preflight(origin, method, asked.as_deref())
        .map_err(|refusal| {
            Problem::new(
                ProblemKind::Forbidden,
                format!("CORS preflight refused: {refusal}"),
            )
            .with_field("origin")
        })?;
    let headers = Headers::new();
    for (name, value) in allowed {
        headers.set(name, &value).map_err(internal)?;
    }
    Ok(Response::empty()
        .map_err(internal)?
        .with_status(204)
        .with_headers(headers))
}

/// The body limit: by `Content-Length` when declared; otherwise a copy of the streamed
/// body is counted while it arrives (the original keeps the bytes for the upstream, so
/// at most the limit is held in memory, plus up to `DRAIN_BYTES` read past it so the
/// client sees the 413 rather than a reset).
async fn check_body(req: &Request, limits: &SizeLimits) -> Result<(), Problem> {
    if limits.max_body_bytes.is_none() || req.inner().body().is_none() {
        return Ok(());
    }
    if let Some(len) = header(req, "content-length").and_then(|v| v.trim().parse::<u64>().ok()) {
        return limits.check_body(len);
    }
    let unreadable = |_| {
        Problem::new(
            ProblemKind::MalformedRequest,
            "the request body could not be read",
        )
    };
    let mut copy = req.clone().map_err(unreadable)?;
    let mut stream = copy.stream().map_err(unreadable)?;
    let mut seen = 0u64;
    let mut refusal = None;
    while let Some(chunk) = stream.next().await {
        seen += chunk.map_err(unreadable)?.len() as u64;
        if let Err(problem) = limits.check_body(seen) {
            refusal = Some(problem);
            // Read on a little so the client can finish sending and see the 413 instead
            // of a reset connection; beyond DRAIN_BYTES it gets the reset.
            if seen > limits.max_body_bytes.unwrap_or(0) + DRAIN_BYTES {
                break;
            }
        }
    }
    refusal.map_or(Ok(()), Err)
}

/// How much of an over-limit streamed body is read and dropped before answering 413.
const DRAIN_BYTES: u64 = 1024 * 1024;
