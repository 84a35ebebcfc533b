//! Handlers: async functions whose arguments are extractors, the way axum users write them.
//!
//! Any `Fn(A, B, ...) -> impl Future` whose arguments implement [`FromEvent`] is a handler,
//! for up to eight arguments. Its future is polled once where the event arrived, so a handler
//! that does not wait answers in order with no task spawned; one that waits continues in a
//! task of its own.
//!
//! A panic in a handler, before or after its first await, is caught and logged (at error,
//! with the socket, namespace and event). It costs only that socket: an event handler's panic
//! loses that event (no acknowledgement is sent) and the socket goes on; a connect handler's
//! panic disconnects the socket (its setup did not finish), with reason "handler panic".
//!
//! Layer: above the socket core and the extractors; it implements the core's
//! [`ErasedHandler`] for every [`Handler`], and adds `Socket::on` and the disconnect hooks.

use bytestring::ByteString;
use futures_util::FutureExt;
use std::any::Any;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Instant;
use tracing::Instrument;

use super::extract::FromEvent;
use super::reason::DisconnectReason;
use super::socket::{DisconnectFn, ErasedHandler, EventCtx, Socket};

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

struct Erased<H, T>(H, PhantomData<fn() -> T>);

impl<H: Handler<T>, T: 'static> ErasedHandler for Erased<H, T> {
    fn call(&self, ctx: EventCtx, event: &ByteString) {
        self.0.call(ctx, event);
    }
}

pub(crate) fn erase<H: Handler<T>, T: 'static>(handler: H) -> Arc<dyn ErasedHandler> {
    Arc::new(Erased(handler, PhantomData))
}

/// What a handler ran for: named in the report of its panic.
#[derive(Debug, Clone)]
pub(crate) enum Origin {
    /// An event handler, with the event's name.
    Event(ByteString),
    /// The namespace's connect handler.
    Connect,
    /// A `disconnecting` hook.
    Disconnecting,
    /// A `disconnect` hook.
    Disconnect,
}

/// Polls `fut` once here; if it is not done, it goes on in a task of its own. A panic either
/// way is caught and handled by [`panicked`].
pub(crate) fn run<F: Future<Output = ()> + Send + 'static>(
    fut: F,
    socket: &Socket,
    origin: Origin,
) {
    // An event handler's time, from its first poll to its end, goes to the namespace's
    // handler-duration histogram.
    let timed = matches!(origin, Origin::Event(_)).then(Instant::now);
    let span = tracing::debug_span!("socket", id = %socket.id(), ns = socket.ns());
    let mut fut = Box::pin(AssertUnwindSafe(fut.instrument(span)).catch_unwind());
    let mut cx = Context::from_waker(Waker::noop());
    match fut.as_mut().poll(&mut cx) {
        Poll::Ready(Ok(())) => handled(socket, timed),
        Poll::Ready(Err(panic)) => panicked(socket, &origin, panic.as_ref()),
        Poll::Pending => {
            let socket = socket.clone();
            tokio::spawn(async move {
                match fut.await {
                    Ok(()) => handled(&socket, timed),
                    Err(panic) => panicked(&socket, &origin, panic.as_ref()),
                }
            });
        }
    }
}

fn handled(socket: &Socket, since: Option<Instant>) {
    if let Some(since) = since {
        socket.0.ns.stats.handled(since.elapsed());
    }
}

/// Logs a handler's panic; a connect handler's also disconnects its socket.
fn panicked(socket: &Socket, origin: &Origin, panic: &(dyn Any + Send)) {
    let message = crate::panic::message(panic);
    let event = match origin {
        Origin::Event(name) => &**name,
        Origin::Connect => "connection",
        Origin::Disconnecting => "disconnecting",
        Origin::Disconnect => "disconnect",
    };
    tracing::error!(socket = %socket.id(), ns = socket.ns(), event, panic = message, "handler panicked");
    if matches!(origin, Origin::Connect) {
        socket.disconnect_for(DisconnectReason::HandlerPanic);
    }
}

impl Socket {
    /// Registers the handler of `event`, replacing any earlier one.
    pub fn on<H: Handler<T>, T: 'static>(&self, event: impl Into<ByteString>, handler: H) {
        self.set_handler(event.into(), erase(handler));
    }

    /// Runs `f` once when the socket leaves its namespace, with the reason, after it has left
    /// its rooms. Registered after the socket left, `f` runs at once (with the reason it left
    /// for), so a hook cannot be missed by a disconnect racing its registration.
    pub fn on_disconnect<F, Fut>(&self, f: F)
    where
        F: FnOnce(Socket, DisconnectReason) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let f: DisconnectFn = Box::new(move |socket, reason| {
            let origin_socket = socket.clone();
            run(f(socket, reason), &origin_socket, Origin::Disconnect);
        });
        self.push_disconnect_hook(f);
    }

    /// Runs `f` once when the socket starts to leave its namespace (Socket.IO's
    /// `disconnecting`): it no longer receives anything, but [`Socket::rooms`] still answers as
    /// before, until `f`'s first await. Registered once the socket is leaving, `f` never runs.
    pub fn on_disconnecting<F, Fut>(&self, f: F)
    where
        F: FnOnce(Socket, DisconnectReason) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let f: DisconnectFn = Box::new(move |socket, reason| {
            let origin_socket = socket.clone();
            run(f(socket, reason), &origin_socket, Origin::Disconnecting);
        });
        self.push_disconnecting_hook(f);
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
                let socket = ctx.socket.clone();
                let origin = if ctx.connect {
                    Origin::Connect
                } else {
                    Origin::Event(event.clone())
                };
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
                run(async move { fut.await.report(&event) }, &socket, origin);
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
