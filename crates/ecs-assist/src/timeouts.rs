//! [`TimeoutConfig`]: how long a connection, an attempt and a whole call
//! may take.

use std::time::Duration;

/// Timeouts. The connect and read timeouts configure the default transport;
/// the attempt and operation timeouts are enforced by the client whatever
/// the transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeoutConfig {
    /// Connecting (default transport only; default 5 s, as the SDKs).
    pub connect: Duration,
    /// Waiting for the response (default transport only; default 10 s).
    pub read: Duration,
    /// One attempt, send to body (default `None`: the transport's own).
    pub attempt: Option<Duration>,
    /// The whole call, retries and backoff included (default 120 s).
    pub operation: Option<Duration>,
}

impl Default for TimeoutConfig {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            read: Duration::from_secs(10),
            attempt: None,
            operation: Some(Duration::from_secs(120)),
        }
    }
}
