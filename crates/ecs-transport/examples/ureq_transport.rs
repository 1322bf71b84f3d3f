//! Bring your own HTTP client: `DescribeInvocationResults` on `ecs-model`
//! (the request, the sans-IO paginator, decoding), `ecs-sign` (a V1
//! signature) and a `BlockingTransport` built on `ureq` 3 instead of hyper.
//! No async runtime, no tokio, no hyper; plain `http://` only (ureq is built
//! without TLS here).
//!
//! This is how to plug a different HTTP client (an embedded stack, a corporate
//! client, a custom runtime) under ecs-assist: implement one method, map the
//! client's errors onto `TransportErrorKind` so retries behave, bound the
//! body size and the time, and send the signed request as it is (see the
//! contract in `ecs_transport::Transport`'s docs: ureq takes the request's
//! `host` header rather than adding a second one). With a transport of your
//! own, the shortest path is `ecs-assist` without its default features plus
//! the transport (`ecs_assist::blocking::ClientBuilder::blocking_transport`):
//! it adds endpoints, credentials, retries and the waiter. The loop below is
//! what that client does for you, for code that wants none of it.
//!
//! Run it against an emulator serving its demo data; it fetches the results
//! of the demo invocation `t-hz0jdfwd9f1234` and exits 1 unless they are the
//! three the demo holds:
//!
//! ```text
//! ecs-emulator --listen 127.0.0.1:8080 &
//! cargo run -p ecs-transport --example ureq_transport -- http://127.0.0.1:8080
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

/// The emulator's demo access key (`ecs_emulator::DEMO_ACCESS_KEY_ID` and
/// its secret); the real service needs your own.
const DEMO_KEY: (&str, &str) = ("EmulatorAccessKeyId", "EmulatorAccessKeySecret");

/// The demo invocation: three instances ran `df -h /data`.
const DEMO_INVOKE_ID: &str = "t-hz0jdfwd9f1234";

/// Every result of `invoke_id` from `endpoint`, page by page, through
/// `transport`.
fn fetch_all(
    transport: &dyn BlockingTransport,
    endpoint: &str,
    credentials: &ecs_sign::Credentials,
    invoke_id: &str,
) -> Result<Vec<ecs_model::InvocationResult>, Box<dyn std::error::Error>> {
    use ecs_model::{
        ACTION, API_VERSION, ContentEncoding, DescribeInvocationResultsRequest, PageStyle,
        Paginator,
    };
    use ecs_sign::{NonceSource as _, SystemNonceSource, SystemTimeSource, TimeSource as _};

    let request = DescribeInvocationResultsRequest::builder()
        .region_id("cn-hangzhou")
        .invoke_id(invoke_id)
        .content_encoding(ContentEncoding::PlainText)
        .max_results(2)
        .build();
    request.validate()?;
    let mut paginator = Paginator::new(request, PageStyle::Token);
    let mut results = Vec::new();
    while let Some(page_request) = paginator.next_request()? {
        // The model's query pairs go to the signer as they are.
        let query = page_request.to_query();
        let nonce = SystemNonceSource::new().nonce()?;
        let unsigned = ecs_sign::rpc_v1::RpcV1Request::new("POST", ACTION, API_VERSION, &query);
        let signed =
            ecs_sign::rpc_v1::sign(&unsigned, credentials, SystemTimeSource.now(), &nonce)?;
        let uri = format!(
            "{}/?{}",
            endpoint.trim_end_matches('/'),
            ecs_sign::encode_query(&signed)
        );
        let response = transport.send(http::Request::post(uri).body(Bytes::new())?)?;
        let content_type = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        if !response.status().is_success() {
            let error =
                ecs_model::decode_error(response.status().as_u16(), content_type, response.body());
            return Err(error.into());
        }
        let page = ecs_model::decode_response(content_type, response.body())?;
        // The paginator drops repeats and marks each result with the
        // request's encoding, so `output_text()` needs no argument.
        results.extend(paginator.handle_page(page)?.invocation.results);
    }
    Ok(results)
}

#[allow(dead_code)] // The test includes this file as a module and never calls main.
fn main() -> std::process::ExitCode {
    use std::process::ExitCode;

    let Some(endpoint) = std::env::args().nth(1) else {
        eprintln!("usage: ureq_transport http://HOST:PORT (an ecs-emulator with its demo data)");
        return ExitCode::from(2);
    };
    let credentials = match ecs_sign::Credentials::new(DEMO_KEY.0, DEMO_KEY.1) {
        Ok(credentials) => credentials,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    let results = match fetch_all(
        &UreqTransport::new(),
        &endpoint,
        &credentials,
        DEMO_INVOKE_ID,
    ) {
        Ok(results) => results,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    let mut outputs = Vec::new();
    for result in &results {
        match result.output_text() {
            Ok(text) => {
                println!(
                    "{} {:?}: {}",
                    result.instance_id,
                    result.exit_code,
                    text.trim_end()
                );
                outputs.push(text);
            }
            Err(err) => {
                eprintln!("error: {err}");
                return ExitCode::FAILURE;
            }
        }
    }
    // The demo's answer: two instances printed the `df` table, one failed.
    let tables = outputs
        .iter()
        .filter(|o| o.starts_with("Filesystem"))
        .count();
    let failed = outputs
        .iter()
        .filter(|o| o.contains("No such file"))
        .count();
    if (results.len(), tables, failed) != (3, 2, 1) {
        eprintln!(
            "error: expected the demo's 3 results (2 df tables, 1 failure), got {} ({tables} tables, {failed} failures)",
            results.len()
        );
        return ExitCode::FAILURE;
    }
    println!("{} results of {DEMO_INVOKE_ID}", results.len());
    ExitCode::SUCCESS
}
