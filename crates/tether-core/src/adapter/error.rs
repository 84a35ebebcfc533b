//! [`AdapterError`]: why a cluster operation failed.

/// Why an operation that crosses nodes failed. Local work (this node's sockets) is done
/// whatever the other nodes do; the error says what could not be learned or sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdapterError {
    /// Not every node answered in time.
    #[error("timeout reached while waiting for {op}: {received} of {expected} answers")]
    Timeout {
        /// The operation (`"fetchSockets"`, `"serverSideEmit"`, ...).
        op: &'static str,
        /// Answers received.
        received: usize,
        /// Answers expected.
        expected: usize,
    },
    /// The other nodes cannot be reached (the broker is down, the connection closed).
    #[error("the adapter cannot reach the other nodes: {0}")]
    Unavailable(String),
    /// This adapter does not do this operation.
    #[error("this adapter does not support {0}")]
    Unsupported(&'static str),
}
