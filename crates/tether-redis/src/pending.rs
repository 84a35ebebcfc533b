//! What both modes' namespaces share with the node: the [`Subscriber`] the dispatcher hands
//! messages to (in the [`Registry`]), the requests a namespace waits on ([`Pending`]), and the
//! one way to wait for the other nodes' answers ([`gather`]).

use bytestring::ByteString;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, RwLock, Weak};
use std::time::Duration;
use tether_core::adapter::{AckSink, AdapterError, BoxFuture, Room, SocketData};
use tether_core::socket::AckResponse;
use tokio::sync::mpsc;

/// A namespace of a node, as the node's dispatcher sees it.
pub(crate) trait Subscriber: Send + Sync {
    /// Handles a message if it is on one of this namespace's channels; false otherwise.
    fn on_message(self: Arc<Self>, channel: &str, payload: &[u8]) -> bool;
    /// Resolves once its channels are subscribed, room channels included as of the call.
    fn ready(&self) -> BoxFuture<()>;
}

/// The namespaces a node serves, by path, for its dispatcher.
pub(crate) type Registry = RwLock<HashMap<ByteString, Weak<dyn Subscriber>>>;

/// What a request waits for.
pub(crate) enum Pending {
    /// All rooms (classic mode only).
    Rooms(mpsc::UnboundedSender<Vec<Room>>),
    /// Fetched sockets.
    Fetch(mpsc::UnboundedSender<Vec<SocketData>>),
    /// Server-side handlers' answers.
    ServerEmit(mpsc::UnboundedSender<AckResponse>),
    /// A broadcast's counts and answers.
    BroadcastAck(AckSink),
}

/// The requests of one namespace, by id.
#[derive(Default)]
pub(crate) struct Requests(Mutex<HashMap<String, Pending>>);

impl Requests {
    /// The map, even after a panic elsewhere.
    pub(crate) fn lock(&self) -> MutexGuard<'_, HashMap<String, Pending>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Waits for `expected` answers on `rx`, or `timeout`: what came, or `AdapterError::Timeout`
/// with the count (Node's "timeout reached: only x responses received out of y").
pub(crate) async fn gather<T>(
    op: &'static str,
    rx: &mut mpsc::UnboundedReceiver<T>,
    expected: usize,
    timeout: Duration,
) -> Result<Vec<T>, AdapterError> {
    let mut got = Vec::with_capacity(expected);
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    while got.len() < expected {
        tokio::select! {
            answer = rx.recv() => match answer {
                Some(answer) => got.push(answer),
                None => break,
            },
            () = &mut deadline => break,
        }
    }
    if got.len() < expected {
        return Err(AdapterError::Timeout {
            op,
            received: got.len(),
            expected,
        });
    }
    Ok(got)
}

/// Asks the `expected` other nodes: registers the request as `pending` under `id`, has
/// `send` publish it, and gathers one answer from each within `timeout`. The entry is gone
/// when it returns, whatever happened.
pub(crate) async fn ask<T, F>(
    requests: &Requests,
    op: &'static str,
    expected: usize,
    id: String,
    pending: impl FnOnce(mpsc::UnboundedSender<T>) -> Pending,
    send: F,
    timeout: Duration,
) -> Result<Vec<T>, AdapterError>
where
    F: std::future::Future<Output = Result<(), AdapterError>>,
{
    if expected == 0 {
        return Ok(Vec::new());
    }
    let (tx, mut rx) = mpsc::unbounded_channel();
    requests.lock().insert(id.clone(), pending(tx));
    let got = match send.await {
        Ok(()) => gather(op, &mut rx, expected, timeout).await,
        Err(err) => Err(err),
    };
    requests.lock().remove(&id);
    got
}

/// Drops a broadcast-with-acks entry once its answers can no longer come.
pub(crate) fn forget_after<S: Send + Sync + 'static>(
    owner: Weak<S>,
    requests: impl Fn(&S) -> &Requests + Send + 'static,
    id: String,
    after: Duration,
) {
    tokio::spawn(async move {
        tokio::time::sleep(after).await;
        if let Some(owner) = owner.upgrade() {
            requests(&owner).lock().remove(&id);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn gathers_what_comes_or_says_how_much_was_missing() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        tx.send(1).ok();
        tx.send(2).ok();
        let got = gather("op", &mut rx, 2, Duration::from_secs(5)).await;
        assert_eq!(got, Ok(vec![1, 2]));
        tx.send(3).ok();
        let short = gather("op", &mut rx, 2, Duration::from_secs(5)).await;
        assert_eq!(
            short,
            Err(AdapterError::Timeout {
                op: "op",
                received: 1,
                expected: 2
            })
        );
    }
}
