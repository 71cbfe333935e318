//! Work after the answer is sent (`waitUntil`) from deep inside the pipeline, without
//! threading the fetch event's context through every phase: the context is set in a
//! thread-local around each poll of the request's future (a task-local, as tokio's
//! `task_local!` does it), so concurrent requests in one isolate never see each other's.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context as TaskContext, Poll};
use worker::Context;

thread_local! {
    static CONTEXT: RefCell<Option<Rc<Context>>> = const { RefCell::new(None) };
}

/// Runs `fut` with the fetch event's context reachable by [`in_background`]: set around
/// each poll, so concurrent requests in one isolate never see each other's context.
pub async fn with_context<F: Future>(ctx: Context, fut: F) -> F::Output {
    Scoped {
        ctx: Rc::new(ctx),
        fut: Box::pin(fut),
    }
    .await
}

struct Scoped<F> {
    ctx: Rc<Context>,
    fut: Pin<Box<F>>,
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        let previous = CONTEXT.with(|c| c.replace(Some(this.ctx.clone())));
        let out = this.fut.as_mut().poll(cx);
        CONTEXT.with(|c| *c.borrow_mut() = previous);
        out
    }
}

/// Runs `fut` after the answer is sent (`waitUntil`); without a context it is dropped,
/// which only loses a cache write.
pub fn in_background(fut: impl Future<Output = ()> + 'static) {
    let ctx = CONTEXT.with(|c| c.borrow().clone());
    match ctx {
        Some(ctx) => ctx.wait_until(fut),
        None => worker::console_warn!("edge: no event context; cache write skipped"),
    }
}

/// Like [`in_background`], but says whether there was a context to run `fut` in.
pub fn try_in_background(fut: impl Future<Output = ()> + 'static) -> bool {
    let ctx = CONTEXT.with(|c| c.borrow().clone());
    match ctx {
        Some(ctx) => {
            ctx.wait_until(fut);
            true
        }
        None => false,
    }
}
