//! One usage event per request, built once the answer is known: the pipeline notes the
//! route and the caller as it learns them (a per-request note, reachable like the
//! background context: set around each poll of the request's future), and [`metered`]
//! turns the note and the answer into a `dev.tollgate.request` event for the queue and
//! strips the upstream's `tollgate-meter` header from the answer the client gets.

use crate::config::now_ms;
use crate::usage_queue;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context as TaskContext, Poll};
use tollgate_core::route::RouteMatch;
use tollgate_core::usage::meters::METER_HEADER;
use tollgate_core::usage::time::format_rfc3339_ms;
use tollgate_core::usage::{billable, parse_meter_header, UsageData, UsageEvent, EVENT_TYPE};
use tollgate_core::version_route::VersionPick;
use tollgate_core::KeyRecord;
use worker::{Env, Response};

/// What the pipeline learned about a request.
#[derive(Debug, Default)]
struct Note {
    api_id: Option<String>,
    version: Option<String>,
    operation: Option<String>,
    consumer_id: Option<String>,
    key_id: Option<String>,
    plan_id: Option<String>,
}

thread_local! {
    static CURRENT: RefCell<Option<Rc<RefCell<Note>>>> = const { RefCell::new(None) };
}

fn with_note(f: impl FnOnce(&mut Note)) {
    CURRENT.with(|c| {
        if let Some(note) = c.borrow().as_ref() {
            f(&mut note.borrow_mut());
        }
    });
}

fn bounded(s: String, max: usize) -> String {
    s.chars().filter(|c| !c.is_control()).take(max).collect()
}

/// Notes the matched route (the API, its version, `METHOD /rest`).
pub fn note_route(route: &RouteMatch<'_>, method: &str) {
    with_note(|n| {
        n.api_id = Some(route.api.id.to_string());
        n.version = match route.version {
            VersionPick::Live(v) => Some(v.version.clone()),
            VersionPick::Retired { version, .. } => Some(version.version.clone()),
            _ => None,
        };
        n.operation = Some(bounded(format!("{method} {}", route.rest), 256));
    });
}

/// Notes the authenticated caller.
pub fn note_caller(key: Option<&KeyRecord>) {
    if let Some(k) = key {
        with_note(|n| {
            n.consumer_id = Some(k.consumer_id.to_string());
            n.key_id = Some(k.key_id.to_string());
            n.plan_id = k.plan_id.as_ref().map(|p| p.to_string());
        });
    }
}

struct Scoped<F> {
    note: Rc<RefCell<Note>>,
    fut: Pin<Box<F>>,
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        let previous = CURRENT.with(|c| c.replace(Some(this.note.clone())));
        let out = this.fut.as_mut().poll(cx);
        CURRENT.with(|c| *c.borrow_mut() = previous);
        out
    }
}

fn event_id() -> String {
    let mut bytes = [0u8; 10];
    if getrandom::getrandom(&mut bytes).is_err() {
        // No randomness: time and a counter still make ids unique within this isolate.
        thread_local!(static N: std::cell::Cell<u64> = const { std::cell::Cell::new(0) });
        let n = N.with(|c| {
            c.set(c.get() + 1);
            c.get()
        });
        return format!("evt_{}_{n}", now_ms());
    }
    tollgate_core::usage::time_ordered_id(now_ms(), bytes)
}

fn header(resp: &Response, name: &str) -> Option<String> {
    resp.headers().get(name).ok().flatten()
}

fn build_event(note: &Note, resp: &Response, started_ms: u64, bytes_in: u64) -> Option<UsageEvent> {
    let api_id = note.api_id.clone()?;
    let status = resp.status_code();
    let now = now_ms();
    let meters = header(resp, METER_HEADER)
        .map(|v| parse_meter_header(&v))
        .unwrap_or_default();
    Some(UsageEvent {
        specversion: "1.0".into(),
        id: event_id(),
        source: "tollgate-edge".into(),
        kind: EVENT_TYPE.into(),
        time: format_rfc3339_ms(i64::try_from(now).unwrap_or(0)),
        subject: note.consumer_id.clone(),
        datacontenttype: Some("application/json".into()),
        data: UsageData {
            api_id,
            version: note.version.clone(),
            operation: note.operation.clone(),
            consumer_id: note.consumer_id.clone(),
            key_id: note.key_id.clone(),
            plan_id: note.plan_id.clone(),
            status,
            billable: billable(status),
            bytes_in,
            bytes_out: header(resp, "content-length")
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0),
            latency_ms: now.saturating_sub(started_ms),
            cache: header(resp, "cache-status").map(|v| bounded(v, 128)),
            meters: if meters.is_empty() {
                BTreeMap::new()
            } else {
                meters
            },
        },
    })
}

/// Runs the request's pipeline and queues its usage event (requests that matched no
/// API have none) without delaying the answer.
pub async fn metered<F>(env: &Env, bytes_in: u64, fut: F) -> F::Output
where
    F: Future<Output = worker::Result<Response>>,
{
    let note = Rc::new(RefCell::new(Note::default()));
    let started = now_ms();
    let mut out = Scoped {
        note: note.clone(),
        fut: Box::pin(fut),
    }
    .await;
    if let Ok(resp) = &mut out {
        if let Some(event) = build_event(&note.borrow(), resp, started, bytes_in) {
            usage_queue::enqueue(env, event);
        }
        // The meter header is the upstream's report to the gateway, not part of the answer.
        if resp.headers().has(METER_HEADER).unwrap_or(false) {
            resp.headers_mut().delete(METER_HEADER)?;
        }
    }
    out
}
