//! The client's settings that are plain data: [`TimeoutConfig`], and the
//! environment variables `Client::from_env` reads for the client itself
//! (the credentials chain reads its own, listed in `crate::credentials`).

use std::time::Duration;

/// Environment variable: region id.
pub const ENV_REGION_ID: &str = "ALIBABA_CLOUD_REGION_ID";
/// Environment variable: user agent suffix.
pub const ENV_USER_AGENT: &str = "ALIBABA_CLOUD_USER_AGENT";

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
