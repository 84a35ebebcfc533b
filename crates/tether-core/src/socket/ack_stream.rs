//! [`AckStream`]: the answers to a broadcast with acknowledgement, from every node, until all
//! came or the timeout.
//!
//! Layer: names the adapter's reports, the ack errors, and the local waits ([`LocalAcks`]).

use futures_util::Stream;
use futures_util::stream::FuturesUnordered;
use std::collections::VecDeque;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Sleep;

use super::ack::{AckError, AckOwner};
use crate::adapter::{AckEvent, AdapterError, BoxFuture};
use crate::protocol::AckResponse;

/// Everything a broadcast with acknowledgement gathered, as it was seen: each client's
/// answer, each local socket the event could not be sent to, and a final
/// `Err(AckError::Timeout)` when answers were still missing at the timeout.
pub type BroadcastAcks = Vec<Result<AckResponse, AckError>>;

/// The answers this node's clients owe to one broadcast. Dropping it forgets the ones still
/// awaited, so a client's late answer finds nothing.
pub(crate) struct LocalAcks {
    waiting: FuturesUnordered<oneshot::Receiver<AckResponse>>,
    owners: Vec<(std::sync::Arc<dyn AckOwner>, u64)>,
}

impl LocalAcks {
    pub(crate) fn new() -> LocalAcks {
        LocalAcks {
            waiting: FuturesUnordered::new(),
            owners: Vec::new(),
        }
    }

    pub(crate) fn push(
        &mut self,
        rx: oneshot::Receiver<AckResponse>,
        owner: std::sync::Arc<dyn AckOwner>,
        id: u64,
    ) {
        self.waiting.push(rx);
        self.owners.push((owner, id));
    }

    /// How many answers are awaited.
    pub(crate) fn len(&self) -> usize {
        self.waiting.len()
    }

    /// The next answer, `Err(Disconnected)` for a socket that left first; `None` when none is
    /// awaited any more.
    pub(crate) fn poll_next_answer(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<AckResponse, AckError>>> {
        Pin::new(&mut self.waiting)
            .poll_next(cx)
            .map(|next| next.map(|answer| answer.map_err(|_| AckError::Disconnected)))
    }

    /// Forwards every answer to `report` until all came, `timeout` passed, or `stop` resolves.
    pub(crate) async fn forward(
        mut self,
        timeout: Duration,
        stop: impl Future<Output = ()>,
        report: impl Fn(AckResponse),
    ) {
        let all = async {
            while let Some(next) = std::future::poll_fn(|cx| self.poll_next_answer(cx)).await {
                if let Ok(answer) = next {
                    report(answer);
                }
            }
        };
        tokio::select! {
            () = all => {}
            () = tokio::time::sleep(timeout) => {}
            () = stop => {}
        }
    }
}

impl Drop for LocalAcks {
    fn drop(&mut self) {
        for (owner, id) in self.owners.drain(..) {
            owner.forget_ack(id);
        }
    }
}

/// The other nodes' reports, and how many nodes there are.
pub(crate) type Remote = (
    mpsc::UnboundedReceiver<AckEvent>,
    BoxFuture<Result<usize, AdapterError>>,
);

enum Nodes {
    Asking(BoxFuture<Result<usize, AdapterError>>),
    Known(usize),
}

/// The answers to a broadcast with acknowledgement, as they come: this node's clients' and,
/// through the adapter, the other nodes'. It ends when every node has said how many clients it
/// reached and all of them answered, or with one `Err(AckError::Timeout)` at the timeout.
///
/// Use it as a stream ([`AckStream::next`]), or `.await` it for all of them at once
/// ([`BroadcastAcks`]).
#[must_use = "the answers are lost unless awaited"]
pub struct AckStream {
    failed: VecDeque<AckError>,
    local: Option<LocalAcks>,
    remote: Option<mpsc::UnboundedReceiver<AckEvent>>,
    nodes: Nodes,
    reports: usize,
    expected: usize,
    answered: usize,
    deadline: Pin<Box<Sleep>>,
    done: bool,
}

impl fmt::Debug for AckStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AckStream")
            .field(
                "local_waiting",
                &self.local.as_ref().map_or(0, LocalAcks::len),
            )
            .field("remote_expected", &self.expected)
            .field("remote_answered", &self.answered)
            .finish_non_exhaustive()
    }
}

impl AckStream {
    /// `failed`: local sockets the event did not reach; `remote`: the other nodes' reports
    /// (none for a local broadcast); `nodes`: how many nodes serve the namespace.
    pub(crate) fn new(
        failed: Vec<AckError>,
        local: LocalAcks,
        remote: Option<Remote>,
        timeout: Duration,
    ) -> AckStream {
        let (remote, nodes) = match remote {
            Some((rx, nodes)) => (Some(rx), Nodes::Asking(nodes)),
            None => (None, Nodes::Known(1)),
        };
        AckStream {
            failed: failed.into(),
            local: Some(local),
            remote,
            nodes,
            reports: 0,
            expected: 0,
            answered: 0,
            deadline: Box::pin(tokio::time::sleep(timeout)),
            done: false,
        }
    }

    /// The next answer (or failure); `None` once all came or the timeout was reported.
    pub async fn next(&mut self) -> Option<Result<AckResponse, AckError>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    fn remote_complete(&self) -> bool {
        matches!(self.nodes, Nodes::Known(n) if self.reports + 1 >= n)
            && self.answered >= self.expected
    }
}

impl Stream for AckStream {
    type Item = Result<AckResponse, AckError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        if let Some(why) = this.failed.pop_front() {
            return Poll::Ready(Some(Err(why)));
        }
        if let Nodes::Asking(count) = &mut this.nodes
            && let Poll::Ready(count) = count.as_mut().poll(cx)
        {
            match count {
                Ok(n) => this.nodes = Nodes::Known(n),
                Err(err) => {
                    tracing::warn!(%err, "broadcast acks: the node count is unknown");
                    // Take the nodes heard from so far as all of them.
                    this.nodes = Nodes::Known(this.reports + 1);
                    return Poll::Ready(Some(Err(AckError::Adapter)));
                }
            }
        }
        if let Some(local) = &mut this.local {
            match local.poll_next_answer(cx) {
                Poll::Ready(Some(answer)) => return Poll::Ready(Some(answer)),
                Poll::Ready(None) => this.local = None,
                Poll::Pending => {}
            }
        }
        if let Some(rx) = &mut this.remote {
            loop {
                match rx.poll_recv(cx) {
                    Poll::Ready(Some(AckEvent::Reached(n))) => {
                        this.reports += 1;
                        this.expected += n;
                    }
                    Poll::Ready(Some(AckEvent::Answer(answer))) => {
                        this.answered += 1;
                        return Poll::Ready(Some(Ok(answer)));
                    }
                    Poll::Ready(None) => {
                        this.remote = None;
                        break;
                    }
                    Poll::Pending => break,
                }
            }
        }
        if this.local.is_none() && this.remote_complete() {
            this.done = true;
            return Poll::Ready(None);
        }
        if this.deadline.as_mut().poll(cx).is_ready() {
            this.done = true;
            this.local = None;
            this.remote = None;
            return Poll::Ready(Some(Err(AckError::Timeout)));
        }
        Poll::Pending
    }
}

impl IntoFuture for AckStream {
    type Output = BroadcastAcks;
    type IntoFuture = BoxFuture<BroadcastAcks>;

    fn into_future(mut self) -> Self::IntoFuture {
        Box::pin(async move {
            let mut all = Vec::new();
            while let Some(next) = self.next().await {
                all.push(next);
            }
            all
        })
    }
}
