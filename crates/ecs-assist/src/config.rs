//! Everything a [`ClientBuilder`](crate::ClientBuilder) can be given, in
//! one place: the plain-data settings, the endpoint types, the environment
//! variables the client reads, the waiter's limits, and the capabilities
//! the client runs on (transport, sleep, clock, nonces), so a program that
//! replaces one finds its trait here.
//!
//! Nothing in the crate depends on this module; it only gathers names.
//! Credentials have their own module, `ecs_assist::credentials` (the
//! `ecs-credentials` crate).

pub use crate::builder::{ENV_REGION_ID, ENV_USER_AGENT};
pub use crate::endpoint::{Endpoint, EndpointType, Scheme};
pub use crate::retry::RetryConfig;
pub use crate::timeouts::TimeoutConfig;
pub use crate::waiter::{DEFAULT_MAX_POLL_INTERVAL, MAX_POLL_INTERVAL, MAX_WAIT_TIMEOUT};
pub use ecs_credentials::{Environment, ProcessEnvironment};
pub use ecs_model::ResponseFormat;
pub use ecs_sign::{
    NonceSource, SignatureVersion, SystemNonceSource, SystemTimeSource, TimeSource,
};
#[cfg(feature = "hyper")]
pub use ecs_transport::TokioSleep;
pub use ecs_transport::{
    AsyncSleep, BlockingTransport, BodyStream, Buffered, SharedAsyncSleep, SharedBlockingTransport,
    SharedStreamingTransport, SharedTransport, SleepFuture, StreamingFuture, StreamingTransport,
    ThreadSleep, Transport, TransportError, TransportFuture,
};
