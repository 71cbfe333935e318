//! Forwarding a routed request to its upstream and passing the answer back.
//!
//! Method, path, query, headers and body go through intact (the body streams, never
//! buffered); the header rules come from `tollgate_core::forward`. Redirects are passed to
//! the client, not followed. A refused connection is a 502, a slow upstream a 504.

use crate::config::EdgeConfig;
use crate::origin_client::with_timeout;
use tollgate_core::credential::CredentialSource;
use tollgate_core::forward::{
    forward_request_header, forward_response_header, forwarded_headers, upstream_url,
};
use tollgate_core::route::RouteMatch;
use tollgate_core::{KeyRecord, Problem, ProblemKind};
use worker::{Fetch, Headers, Method, Request, RequestInit, RequestRedirect, Response};

/// Who is calling, for identity headers to the upstream.
pub struct Caller<'a> {
    pub credential: Option<CredentialSource>,
    pub key: Option<&'a KeyRecord>,
    /// The plan's features, sent as `x-tollgate-features`.
    pub features: Option<String>,
}

/// Sends `req` to the upstream of `route` and returns the upstream's answer.
pub async fn forward(
    req: &Request,
    route: &RouteMatch<'_>,
    caller: Caller<'_>,
    cfg: &EdgeConfig,
) -> Result<Response, Problem> {
    let url = req.url().map_err(|_| {
        Problem::new(
            ProblemKind::MalformedRequest,
            "the request URL could not be read",
        )
    })?;
    let target = upstream_url(route.upstream_url(), &route.rest, url.query());

    let headers = upstream_headers(req, &url, route, caller).map_err(|_| {
        Problem::new(
            ProblemKind::MalformedRequest,
            "a request header value is not valid; remove CR, LF and control characters",
        )
    })?;
    let method = req.method();
    let mut init = RequestInit::new();
    init.with_method(method.clone())
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual);
    if !matches!(method, Method::Get | Method::Head) {
        init.with_body(req.inner().body().map(Into::into));
    }
    let upstream_req = Request::new_with_init(&target, &init).map_err(|_| {
        Problem::new(
            ProblemKind::Internal,
            "the upstream request could not be built; check the API's upstream_url",
        )
    })?;

    let answer = with_timeout(cfg.upstream_timeout_ms, Fetch::Request(upstream_req).send()).await;
    let upstream = match answer {
        Some(Ok(resp)) => resp,
        Some(Err(e)) => {
            worker::console_warn!("edge: upstream of {} failed: {e}", route.api.name);
            return Err(Problem::new(
                ProblemKind::UpstreamUnreachable,
                format!(
                    "the upstream of `{}` could not be reached; retry later",
                    route.api.name
                ),
            )
            .with_retry_after(5));
        }
        None => {
            return Err(Problem::new(
                ProblemKind::UpstreamTimeout,
                format!(
                    "the upstream of `{}` did not answer within {} s",
                    route.api.name,
                    cfg.upstream_timeout_ms / 1_000
                ),
            )
            .with_retry_after(5))
        }
    };
    pass_back(upstream).map_err(|_| {
        Problem::new(
            ProblemKind::UpstreamUnreachable,
            "the upstream's answer could not be read",
        )
    })
}

fn upstream_headers(
    req: &Request,
    url: &worker::Url,
    route: &RouteMatch<'_>,
    caller: Caller<'_>,
) -> worker::Result<Headers> {
    let incoming = req.headers();
    let connection = incoming.get("connection")?;
    let out = Headers::new();
    for (name, value) in incoming.entries() {
        if forward_request_header(&name, connection.as_deref(), caller.credential) {
            out.append(&name, &value)?;
        }
    }
    // Cloudflare sets cf-connecting-ip itself (clients cannot spoof it through the edge).
    let client_ip = incoming.get("cf-connecting-ip")?;
    let host = incoming
        .get("host")?
        .unwrap_or_else(|| url.host_str().unwrap_or_default().to_owned());
    for (name, value) in forwarded_headers(client_ip.as_deref(), url.scheme(), &host) {
        out.set(name, &value)?;
    }
    // The operator's upstream credential replaces anything the client sent by that name.
    for header in &route.api.upstream_headers {
        out.set(&header.name, &header.value)?;
    }
    if let Some(key) = caller.key {
        out.set("x-tollgate-consumer-id", key.consumer_id.as_str())?;
        out.set("x-tollgate-key-id", key.key_id.as_str())?;
        if let Some(plan) = &key.plan_id {
            out.set("x-tollgate-plan-id", plan.as_str())?;
        }
    }
    if let Some(features) = &caller.features {
        out.set("x-tollgate-features", features)?;
    }
    Ok(out)
}

fn pass_back(upstream: Response) -> worker::Result<Response> {
    let status = upstream.status_code();
    let connection = upstream.headers().get("connection")?;
    let headers = Headers::new();
    for (name, value) in upstream.headers().entries() {
        if forward_response_header(&name, connection.as_deref()) {
            headers.append(&name, &value)?;
        }
    }
    let (_, body) = upstream.into_parts();
    Ok(Response::builder()
        .with_status(status)
        .with_headers(headers)
        .body(body))
}
