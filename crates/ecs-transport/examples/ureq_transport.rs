//! A `BlockingTransport` built on `ureq` 3 instead of hyper: no async runtime,
//! no tokio, plain `http://` only (ureq is built without TLS here).
//!
//! This is how to plug a different HTTP client (an embedded stack, a corporate
//! client, a custom runtime) under ecs-assist: implement one method, map the
//! client's errors onto `TransportErrorKind` so retries behave, bound the
//! body size and the time, and send the signed request as it is (see the
//! contract in `ecs_transport::Transport`'s docs: ureq takes the request's
//! `host` header rather than adding a second one).
//!
//! Run it against any local HTTP server, for instance the emulator:
//!
//! ```text
//! cargo run -p ecs-transport --example ureq_transport -- http://127.0.0.1:8080/
//! ```

// An example program reports to its user on the terminal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::Duration;

use ecs_transport::bytes::Bytes;
use ecs_transport::{BlockingTransport, TransportError, TransportErrorKind, http};

/// A [`BlockingTransport`] over a `ureq::Agent`, which pools connections.
#[derive(Debug, Clone)]
pub struct UreqTransport {
    agent: ureq::Agent,
    max_body_size: u64,
}

impl UreqTransport {
    /// A transport with a 5 s connect timeout, a 60 s deadline, an 8 MiB body
    /// limit, and ureq's reading of the proxy environment variables.
    pub fn new() -> Self {
        let agent = Self::config()
            .timeout_connect(Some(Duration::from_secs(5)))
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .new_agent();
        Self::with_agent(agent, 8 * 1024 * 1024)
    }

    /// The settings every agent used as a transport needs: status codes are
    /// data, not errors, and redirects are not followed (the transport
    /// contract leaves both to the client).
    pub fn config() -> ureq::config::ConfigBuilder<ureq::typestate::AgentScope> {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
    }

    /// Wraps an agent made from [`config`](Self::config); bodies over
    /// `max_body_size` bytes fail with `BodyTooLarge`.
    pub fn with_agent(agent: ureq::Agent, max_body_size: u64) -> Self {
        Self {
            agent,
            max_body_size,
        }
    }
}

impl Default for UreqTransport {
    fn default() -> Self {
        Self::new()
    }
}

impl BlockingTransport for UreqTransport {
    fn send(&self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> {
        let target = match (request.uri().host(), request.uri().port_u16()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            (None, _) => String::from("<no host>"),
        };
        let request = request.map(|body| body.to_vec());
        let response = self
            .agent
            .run(request)
            .map_err(|err| map_error(err, &target, self.max_body_size))?;
        let (parts, body) = response.into_parts();
        let body = body
            .into_with_config()
            .limit(self.max_body_size)
            .read_to_vec()
            .map_err(|err| map_error(err, &target, self.max_body_size))?;
        Ok(http::Response::from_parts(parts, Bytes::from(body)))
    }
}

/// Maps a ureq error onto the transport's kinds, with a message that says
/// what to check.
fn map_error(err: ureq::Error, target: &str, limit: u64) -> TransportError {
    let (kind, message) = match &err {
        ureq::Error::Timeout(which) => (
            TransportErrorKind::Timeout,
            format!("the request to {target} timed out ({which:?}): retry, or raise the timeout"),
        ),
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => (
            TransportErrorKind::Connect,
            format!("could not connect to {target}: check the host name, the port and the network"),
        ),
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => (
            TransportErrorKind::Connect,
            format!("could not connect to {target}: check the host name, the port and the network"),
        ),
        ureq::Error::Io(_) => (
            TransportErrorKind::Io,
            format!("the connection to {target} failed mid-exchange: the request is safe to retry"),
        ),
        ureq::Error::BodyExceedsLimit(_) => (
            TransportErrorKind::BodyTooLarge,
            format!("the response body from {target} is larger than the {limit}-byte limit"),
        ),
        ureq::Error::BadUri(_) | ureq::Error::Http(_) => (
            TransportErrorKind::InvalidRequest,
            format!("the request to {target} is not valid: give an absolute http:// URI"),
        ),
        _ => (
            TransportErrorKind::Other,
            format!("the request to {target} failed"),
        ),
    };
    TransportError::new(kind, message).with_source(err)
}

#[allow(dead_code)] // The test includes this file as a module and never calls main.
fn main() {
    let Some(url) = std::env::args().nth(1) else {
        eprintln!("usage: ureq_transport http://HOST:PORT/PATH");
        std::process::exit(2);
    };
    let request = match http::Request::get(url.as_str()).body(Bytes::new()) {
        Ok(request) => request,
        Err(err) => {
            eprintln!("invalid URL {url}: {err}");
            std::process::exit(2);
        }
    };
    match UreqTransport::new().send(request) {
        Ok(response) => {
            println!("{} ({} bytes)", response.status(), response.body().len());
            println!("{}", String::from_utf8_lossy(response.body()));
        }
        Err(err) => {
            let retry = if err.is_retryable() {
                "retryable"
            } else {
                "final"
            };
            eprintln!("error ({}, {retry}): {err}", err.kind());
            std::process::exit(1);
        }
    }
}
