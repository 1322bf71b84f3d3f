//! What the `hyper` feature provides when nothing else is given: the hyper
//! transport and tokio's timer. Without the feature, the reason each is
//! missing, for the builder to report.

use std::time::Duration;

use ecs_transport::{SharedAsyncSleep, SharedStreamingTransport, SharedTransport};

/// The hyper transport with these connect and response timeouts, as the
/// API's transport and as the streaming one of downloads (one pool).
#[cfg(feature = "hyper")]
pub(crate) fn default_transport(
    connect: Duration,
    read: Duration,
) -> Result<(SharedTransport, SharedStreamingTransport), String> {
    ecs_transport::HyperTransport::builder()
        .connect_timeout(connect)
        .response_timeout(read)
        .build()
        .map(|t| {
            (
                SharedTransport::new(t.clone()),
                SharedStreamingTransport::new(t),
            )
        })
        .map_err(|e| format!("the default transport could not be built: {e}"))
}

/// Without the `hyper` feature there is no default transport.
#[cfg(not(feature = "hyper"))]
pub(crate) fn default_transport(
    _connect: Duration,
    _read: Duration,
) -> Result<(SharedTransport, SharedStreamingTransport), String> {
    Err("no transport: pass .transport(..) (the default needs the `hyper` feature)".to_owned())
}

/// Tokio's timer.
#[cfg(feature = "hyper")]
pub(crate) fn default_sleep() -> Result<SharedAsyncSleep, String> {
    Ok(SharedAsyncSleep::new(ecs_transport::TokioSleep))
}

/// Without the `hyper` feature there is no default sleep.
#[cfg(not(feature = "hyper"))]
pub(crate) fn default_sleep() -> Result<SharedAsyncSleep, String> {
    Err("no sleep: pass .sleep(..) (the default needs the `hyper` feature)".to_owned())
}
