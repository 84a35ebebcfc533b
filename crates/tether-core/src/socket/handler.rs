//! Handlers: async functions whose arguments are extractors, the way axum users write them.
//!
//! Any `Fn(A, B, ...) -> impl Future` whose arguments implement [`FromEvent`] is a handler,
//! for up to eight arguments. Its future is polled once where the event arrived, so a handler
//! that does not wait answers in order with no task spawned; one that waits continues in a
//! task of its own.

use bytestring::ByteString;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::task::{Context, Waker};

use super::extract::{EventCtx, FromEvent};

/// What a handler's future may return: nothing, or a result whose error is logged.
pub trait HandlerOutput: Send + 'static {
    /// Logs a failure.
    fn report(self, event: &str);
}

impl HandlerOutput for () {
    fn report(self, _event: &str) {}
}

impl<E: std::fmt::Display + Send + 'static> HandlerOutput for Result<(), E> {
    fn report(self, event: &str) {
        if let Err(err) = self {
            tracing::warn!(event, %err, "handler failed");
        }
    }
}

/// A function usable as a handler. `T` is the tuple of its argument types (inferred).
pub trait Handler<T>: Clone + Send + Sync + 'static {
    /// Extracts the arguments and runs the handler.
    fn call(&self, ctx: EventCtx, event: &ByteString);
}

/// A type-erased handler.
pub(crate) trait ErasedHandler: Send + Sync + 'static {
    fn call(&self, ctx: EventCtx, event: &ByteString);
}

struct Erased<H, T>(H, PhantomData<fn() -> T>);

impl<H: Handler<T>, T: 'static> ErasedHandler for Erased<H, T> {
    fn call(&self, ctx: EventCtx, event: &ByteString) {
        self.0.call(ctx, event);
    }
}

pub(crate) fn erase<H: Handler<T>, T: 'static>(handler: H) -> Arc<dyn ErasedHandler> {
    Arc::new(Erased(handler, PhantomData))
}

/// Polls `fut` once here; if it is not done, it goes on in a task of its own.
pub(crate) fn run<F: Future<Output = ()> + Send + 'static>(fut: F) {
    let mut fut = Box::pin(fut);
    let mut cx = Context::from_waker(Waker::noop());
    if fut.as_mut().poll(&mut cx).is_pending() {
        tokio::spawn(fut);
    }
}

macro_rules! impl_handler {
    ($($ty:ident),*) => {
        #[allow(non_snake_case, unused_mut, unused_variables)]
        impl<F, Fut, $($ty,)*> Handler<($($ty,)*)> for F
        where
            F: Fn($($ty,)*) -> Fut + Clone + Send + Sync + 'static,
            Fut: Future + Send + 'static,
            Fut::Output: HandlerOutput,
            $($ty: FromEvent + Send + 'static,)*
        {
            fn call(&self, mut ctx: EventCtx, event: &ByteString) {
                $(
                    let $ty = match $ty::from_event(&mut ctx) {
                        Ok(value) => value,
                        Err(err) => {
                            tracing::warn!(event = &**event, %err, "handler not called");
                            return;
                        }
                    };
                )*
                let fut = (self)($($ty,)*);
                let event = event.clone();
                run(async move { fut.await.report(&event) });
            }
        }
    };
}

impl_handler!();
impl_handler!(A);
impl_handler!(A, B);
impl_handler!(A, B, C);
impl_handler!(A, B, C, D);
impl_handler!(A, B, C, D, E);
impl_handler!(A, B, C, D, E, G);
impl_handler!(A, B, C, D, E, G, H);
impl_handler!(A, B, C, D, E, G, H, I);
