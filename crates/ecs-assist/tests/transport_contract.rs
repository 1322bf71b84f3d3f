//! The transport contract seen from the client: a raw HTTP/1.1 transport that
//! sends the request's headers as they are works; one that also writes its
//! own `Host` line (as raw HTTP/1.1 clients do) sends two and gets a clear
//! error that names the duplicate, never a `SignatureDoesNotMatch`.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::{Read as _, Write as _};
use std::net::TcpStream;

use bytes::Bytes;
use ecs_assist::{ErrorKind, SignatureVersion};
use ecs_emulator::{DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, DataSet, Emulator};
use ecs_transport::{BlockingTransport, TransportError, TransportErrorKind};

/// HTTP/1.1 written by hand over a `TcpStream`, one connection a request.
#[derive(Debug)]
struct RawHttp1 {
    /// Writes `Host: <authority of the URI>` before the request's headers.
    adds_own_host: bool,
}

fn io_error(err: std::io::Error) -> TransportError {
    TransportError::new(TransportErrorKind::Io, "raw HTTP/1.1 exchange failed").with_source(err)
}

impl BlockingTransport for RawHttp1 {
    fn send(&self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> {
        let uri = request.uri();
        let authority = uri.authority().expect("an absolute URI").as_str();
        let mut head = format!(
            "{} {} HTTP/1.1\r\n",
            request.method(),
            uri.path_and_query().map_or("/", |p| p.as_str())
        );
        if self.adds_own_host {
            head.push_str(&format!("Host: {authority}\r\n"));
        }
        for (name, value) in request.headers() {
            head.push_str(&format!("{name}: {}\r\n", value.to_str().unwrap()));
        }
        head.push_str(&format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            request.body().len()
        ));
        let mut stream = TcpStream::connect(authority).map_err(io_error)?;
        stream.write_all(head.as_bytes()).map_err(io_error)?;
        stream.write_all(request.body()).map_err(io_error)?;
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply).map_err(io_error)?;
        Ok(parse_response(&reply))
    }
}

/// A `Connection: close` response: status line, headers, then the body.
fn parse_response(reply: &[u8]) -> http::Response<Bytes> {
    let end = reply
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head");
    let head = std::str::from_utf8(&reply[..end]).unwrap();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let mut builder = http::Response::builder().status(status);
    for line in lines {
        let (name, value) = line.split_once(':').unwrap();
        builder = builder.header(name.trim(), value.trim());
    }
    builder
        .body(Bytes::copy_from_slice(&reply[end + 4..]))
        .unwrap()
}

fn client(
    url: &str,
    version: SignatureVersion,
    adds_own_host: bool,
) -> ecs_assist::blocking::Client {
    ecs_assist::blocking::Client::builder()
        .region("cn-hangzhou")
        .endpoint(url)
        .access_key(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
        .signature_version(version)
        .configure(|b| b.retry_config(ecs_assist::RetryConfig::disabled()))
        .blocking_transport(RawHttp1 { adds_own_host })
        .build()
        .unwrap()
}

#[test]
fn a_raw_transport_that_sends_the_headers_unchanged_works() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let emulator = runtime
        .block_on(Emulator::builder().data(DataSet::demo()).start())
        .unwrap();
    for version in [SignatureVersion::V3, SignatureVersion::V1] {
        let page = client(&emulator.url(), version, false)
            .describe_invocation_results()
            .invoke_id("t-hz0jdfwd9f1234")
            .send()
            .unwrap();
        assert_eq!(page.invocation.results.len(), 3, "{version:?}");
    }
    runtime.block_on(emulator.shutdown());
}

#[test]
fn a_transport_that_adds_its_own_host_gets_a_clear_error() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let emulator = runtime
        .block_on(Emulator::builder().data(DataSet::demo()).start())
        .unwrap();
    for version in [SignatureVersion::V3, SignatureVersion::V1] {
        let err = client(&emulator.url(), version, true)
            .describe_invocation_results()
            .invoke_id("t-hz0jdfwd9f1234")
            .send()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Service, "{version:?}: {err}");
        assert_ne!(err.code(), Some("SignatureDoesNotMatch"), "{err}");
        assert_eq!(err.code(), Some("InvalidParameter"), "{err}");
        let message = err.to_string();
        assert!(message.contains("2 Host headers"), "{message}");
        assert!(message.contains("adds its own"), "{message}");
    }
    runtime.block_on(emulator.shutdown());
}
