//! Forwarding a routed request to its upstream and passing the answer back.
//!
//! Method, path, query, headers and body go through intact (the body streams, never
//! buffered); the header rules come from `tollgate_core::forward`. Redirects are passed to
//! the client, not followed. A refused connection is a 502, a slow upstream a 504.

use crate::config::EdgeConfig;
use crate::identity_jwt::identity_token;
use crate::origin_client::with_timeout;
use crate::policies::{edit_request_headers, is_websocket_upgrade, upstream_target};
use tollgate_core::credential::CredentialSource;
use tollgate_core::forward::{forward_request_header, forward_response_header, forwarded_headers};
use tollgate_core::policy::identity::{identity_headers, IDENTITY_HEADER};
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
    let target = upstream_target(route, url.query())?;
    let headers = upstream_headers(req, &url, route, caller, cfg)?;
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
    cfg: &EdgeConfig,
) -> Result<Headers, Problem> {
    let out = gateway_headers(req, url, route, &caller).map_err(|_| {
        Problem::new(
            ProblemKind::MalformedRequest,
            "a request header value is not valid; remove CR, LF and control characters",
        )
    })?;
    // Identity last: it overwrites anything the client or an edit put under these names.
    let identity = route
        .api
        .policies
        .as_ref()
        .and_then(|p| p.identity)
        .unwrap_or_default();
    let token = match (identity.jwt, caller.key) {
        (true, Some(key)) => Some(identity_token(cfg, key, route.api.id.as_str())?),
        _ => None,
    };
    let set = |name: &str, value: &str| {
        out.set(name, value)
            .map_err(|_| Problem::new(ProblemKind::Internal, "an identity header could not be set"))
    };
    if identity.headers {
        for (name, value) in identity_headers(caller.key, caller.features.as_deref()) {
            set(name, &value)?;
        }
    }
    if let Some(token) = token {
        set(IDENTITY_HEADER, &token)?;
    }
    if route.api.policies.as_ref().is_some_and(|p| p.websocket) && is_websocket_upgrade(req) {
        set("upgrade", "websocket")?;
    }
    Ok(out)
}

fn gateway_headers(
    req: &Request,
    url: &worker::Url,
    route: &RouteMatch<'_>,
    caller: &Caller<'_>,
) -> worker::Result<Headers> {
    let incoming = req.headers();
    let connection = incoming.get("connection")?;
    let out = Headers::new();
    let mut kept: Vec<(String, String)> = incoming
        .entries()
        .filter(|(name, _)| forward_request_header(name, connection.as_deref(), caller.credential))
        .collect();
    edit_request_headers(route, &mut kept);
    for (name, value) in &kept {
        out.append(name, value)?;
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
    Ok(out)
}

fn pass_back(upstream: Response) -> worker::Result<Response> {
    let status = upstream.status_code();
    if status == 101 {
        // A WebSocket the upstream accepted: hand its socket to the client.
        return match upstream.websocket() {
            Some(ws) => Response::from_websocket(ws),
            None => Err(worker::Error::RustError("101 without a WebSocket".into())),
        };
    }
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
