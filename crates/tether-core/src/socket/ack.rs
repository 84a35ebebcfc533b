//! Acknowledgements awaited from a client: the table of pending ids ([`AckTable`]), the future
//! of one answer ([`AckFuture`]) and why an answer may not come ([`AckError`]).
//!
//! Layer: names only the protocol (answers) and the socket layer's errors. The socket that owns
//! a table is reached through [`AckOwner`], so this module never names it.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use tokio::time::Sleep;

use super::emit::EmitError;
use crate::protocol::AckResponse;

/// Why no answer to an ack came.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AckError {
    /// No answer within the timeout.
    #[error("no acknowledgement within the timeout")]
    Timeout,
    /// The socket disconnected first (or, in a broadcast, was closed as a slow consumer).
    #[error("socket disconnected before acknowledging")]
    Disconnected,
    /// In a broadcast: the socket already awaited `max_pending_acks` acknowledgements, so
    /// the event was not sent to it.
    #[error("too many acknowledgements pending on this socket: the event was not sent to it")]
    TooManyPending,
    /// In a volatile broadcast: the socket's outbox was full, so the event was dropped for it.
    #[error("the socket was not keeping up: the volatile event was dropped for it")]
    Dropped,
    /// In a broadcast: the other nodes could not be reached, so their clients' answers are
    /// missing (this node's still come).
    #[error("the adapter could not reach the other nodes")]
    Adapter,
}

/// The acknowledgements one socket awaits, by id, at most `limit` at once.
#[derive(Debug)]
pub(crate) struct AckTable {
    /// Each waiter, with when it started waiting.
    pending: Mutex<HashMap<u64, (oneshot::Sender<AckResponse>, Instant)>>,
}

impl AckTable {
    pub(crate) fn new() -> AckTable {
        AckTable {
            pending: Mutex::new(HashMap::new()),
        }
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<u64, (oneshot::Sender<AckResponse>, Instant)>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers id `id`; its answer comes through the receiver.
    pub(crate) fn expect(
        &self,
        id: u64,
        limit: usize,
    ) -> Result<oneshot::Receiver<AckResponse>, EmitError> {
        let mut pending = self.lock();
        if pending.len() >= limit {
            return Err(EmitError::TooManyPendingAcks);
        }
        let (tx, rx) = oneshot::channel();
        pending.insert(id, (tx, Instant::now()));
        Ok(rx)
    }

    /// Hands an answer to its waiter, and says how long it waited; unknown (late, forged) ids
    /// are ignored.
    pub(crate) fn resolve(&self, id: u64, answer: AckResponse) -> Option<Duration> {
        let (tx, since) = self.lock().remove(&id)?;
        let _ = tx.send(answer);
        Some(since.elapsed())
    }

    /// Forgets id `id` (its waiter gave up).
    pub(crate) fn forget(&self, id: u64) {
        self.lock().remove(&id);
    }

    /// Forgets every id: each waiter sees [`AckError::Disconnected`].
    pub(crate) fn clear(&self) {
        self.lock().clear();
    }

    /// How many answers are awaited.
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }
}

/// The owner of an [`AckTable`] entry, told when its waiter gives up.
pub(crate) trait AckOwner: Send + Sync + 'static {
    /// Forgets pending ack `id`.
    fn forget_ack(&self, id: u64);
}

/// The client's answer to `Socket::emit_with_ack`, or [`AckError`] at the timeout.
#[must_use = "the answer is lost unless awaited"]
pub struct AckFuture {
    rx: oneshot::Receiver<AckResponse>,
    timeout: Pin<Box<Sleep>>,
    cleanup: Option<(Arc<dyn AckOwner>, u64)>,
}

impl std::fmt::Debug for AckFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AckFuture").finish_non_exhaustive()
    }
}

impl AckFuture {
    pub(crate) fn new(
        rx: oneshot::Receiver<AckResponse>,
        timeout: Duration,
        owner: Arc<dyn AckOwner>,
        id: u64,
    ) -> Self {
        AckFuture {
            rx,
            timeout: Box::pin(tokio::time::sleep(timeout)),
            cleanup: Some((owner, id)),
        }
    }

    /// Waits `timeout` from now instead of the default `ack_timeout`.
    pub fn timeout(mut self, timeout: Duration) -> AckFuture {
        self.timeout
            .as_mut()
            .reset(tokio::time::Instant::now() + timeout);
        self
    }
}

impl Future for AckFuture {
    type Output = Result<AckResponse, AckError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Poll::Ready(answer) = Pin::new(&mut self.rx).poll(cx) {
            self.cleanup = None;
            return Poll::Ready(answer.map_err(|_| AckError::Disconnected));
        }
        if self.timeout.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Err(AckError::Timeout));
        }
        Poll::Pending
    }
}

impl Drop for AckFuture {
    fn drop(&mut self) {
        if let Some((owner, id)) = self.cleanup.take() {
            owner.forget_ack(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_bounds_resolves_once_and_ignores_unknown_ids() {
        let table = AckTable::new();
        let mut a = table.expect(1, 2).expect("room for one");
        let _b = table.expect(2, 2).expect("room for two");
        assert!(matches!(
            table.expect(3, 2),
            Err(EmitError::TooManyPendingAcks)
        ));
        table.resolve(9, AckResponse::default());
        table.resolve(
            1,
            AckResponse {
                args: vec!["1".into()],
                attachments: vec![],
            },
        );
        assert_eq!(a.try_recv().map(|r| r.args), Ok(vec!["1".into()]));
        table.resolve(1, AckResponse::default());
        assert_eq!(table.len(), 1);
        table.clear();
        assert_eq!(table.len(), 0);
    }
}
