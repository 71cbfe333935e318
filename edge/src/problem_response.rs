//! Renders a core `Problem` as the worker's HTTP answer: the edge's one error renderer.

use tollgate_core::problem::{RateLimitedProblem, PROBLEM_CONTENT_TYPE};
use tollgate_core::Problem;
use worker::{Headers, Response};

/// A problem+json response, with `Retry-After` when the problem carries a hint.
pub fn problem_response(problem: &Problem) -> worker::Result<Response> {
    render(problem, problem.to_json())
}

/// A 429 problem+json response naming the violated policy (plus `Retry-After`).
pub fn rate_limited_response(refusal: &RateLimitedProblem) -> worker::Result<Response> {
    render(&refusal.problem, refusal.to_json())
}

fn render(problem: &Problem, body: String) -> worker::Result<Response> {
    let headers = Headers::new();
    headers.set("content-type", PROBLEM_CONTENT_TYPE)?;
    headers.set("cache-control", "no-store")?;
    if let Some(secs) = problem.retry_after {
        headers.set("retry-after", &secs.to_string())?;
    }
    Ok(Response::from_bytes(body.into_bytes())?
        .with_status(problem.status)
        .with_headers(headers))
}
