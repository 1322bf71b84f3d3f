//! Turning hyper, rustls and connector errors into a [`TransportError`] whose
//! message says what to check.

use std::error::Error as StdError;
use std::time::Duration;

use http::Uri;

use super::connector::{ConnectError, ConnectFailure};
use crate::{TransportError, TransportErrorKind};

/// Where a request was going, for messages: `https://host:port` without path,
/// query or credentials.
pub(crate) fn target(uri: &Uri) -> String {
    let scheme = uri.scheme_str().unwrap_or("https");
    let host = uri.host().unwrap_or("<no host>");
    match uri.port_u16() {
        Some(port) => format!("{scheme}://{host}:{port}"),
        None => format!("{scheme}://{host}"),
    }
}

/// What was found walking an error's source chain.
#[derive(Default)]
struct Findings<'a> {
    connect: Option<&'a ConnectFailure>,
    tls: bool,
    hyper: Option<&'a hyper::Error>,
    /// The kind of the first I/O error.
    io: Option<std::io::ErrorKind>,
}

fn walk<'a>(err: &'a (dyn StdError + 'static)) -> Findings<'a> {
    let mut found = Findings::default();
    let mut current = Some(err);
    // Chains are short; the bound only guards against a cycle.
    for _ in 0..32 {
        let Some(err) = current else { break };
        if let Some(connect) = err.downcast_ref::<ConnectError>() {
            found.connect.get_or_insert(&connect.failure);
        }
        if err.is::<rustls::Error>() {
            found.tls = true;
        }
        if let Some(hyper) = err.downcast_ref::<hyper::Error>() {
            found.hyper.get_or_insert(hyper);
        }
        let io = err.downcast_ref::<std::io::Error>();
        if let Some(io) = io {
            found.io.get_or_insert(io.kind());
        }
        current = match io {
            // `io::Error::source` skips the wrapped error itself, which is
            // where tokio-rustls puts the `rustls::Error`.
            Some(io) => match io.get_ref() {
                Some(inner) => Some(inner as &(dyn StdError + 'static)),
                None => err.source(),
            },
            None => err.source(),
        };
    }
    found
}

/// Classifies an error from the pooled client's `request()`.
pub(crate) fn request_error(err: hyper_util::client::legacy::Error, uri: &Uri) -> TransportError {
    let is_connect = err.is_connect();
    let found = walk(&err);
    let target = target(uri);
    let error = if let Some(ConnectFailure::TimedOut(after)) = found.connect {
        TransportError::new(
            TransportErrorKind::Timeout,
            format!(
                "could not connect to {target} within the {after:?} connect timeout \
                 (TCP, proxy and TLS handshakes included): check the host, the port, \
                 the network and any proxy, or raise the connect timeout"
            ),
        )
    } else if found.tls {
        TransportError::new(
            TransportErrorKind::Tls,
            format!(
                "the TLS handshake with {target} failed: check that the server certificate \
                 is valid for this host name and issued by a trusted root (add a private root \
                 with HyperTransportBuilder::add_root_certificate), and that no proxy \
                 intercepts TLS"
            ),
        )
    } else if let Some(failure) = found.connect {
        connect_failure(failure, &target)
    } else if is_connect {
        TransportError::new(
            TransportErrorKind::Connect,
            format!("could not connect to {target}: check the host name, the port and the network"),
        )
    } else if let Some(hyper) = found.hyper {
        hyper_error(hyper, &target)
    } else {
        TransportError::new(
            TransportErrorKind::Other,
            format!("sending the request to {target} failed"),
        )
    };
    error.with_source(err)
}

fn connect_failure(failure: &ConnectFailure, target: &str) -> TransportError {
    let message = match failure {
        ConnectFailure::Direct | ConnectFailure::TimedOut(_) => format!(
            "could not connect to {target}: check the host name, the port and the network, \
             and set HTTPS_PROXY if this network needs a proxy"
        ),
        ConnectFailure::ProxyUnreachable { proxy } => format!(
            "could not connect to the proxy {proxy} on the way to {target}: check the proxy \
             host and port (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY or the configured proxy), or \
             list the host in NO_PROXY"
        ),
        ConnectFailure::ProxyRefused { proxy, status: 407 } => format!(
            "the proxy {proxy} refused a tunnel to {target} with status 407: it needs \
             credentials; give them in the proxy URL as http://user:password@host:port"
        ),
        ConnectFailure::ProxyRefused { proxy, status } => format!(
            "the proxy {proxy} refused a tunnel to {target} with status {status}: check that \
             the proxy allows CONNECT to this host and port"
        ),
        ConnectFailure::ProxyProtocol { proxy, detail } => format!(
            "the proxy {proxy} {detail} on the way to {target}: check that the proxy URL \
             points at an HTTP proxy"
        ),
    };
    TransportError::new(TransportErrorKind::Connect, message)
}

/// Classifies a hyper error raised while the request or the response was in
/// flight (including while reading the body).
pub(crate) fn hyper_error(err: &hyper::Error, target: &str) -> TransportError {
    if err.is_timeout() {
        TransportError::new(
            TransportErrorKind::Timeout,
            format!("the connection to {target} timed out: retry, or raise the timeouts"),
        )
    } else if err.is_parse() || err.is_parse_status() {
        TransportError::new(
            TransportErrorKind::Other,
            format!(
                "{target} answered with something that is not a valid HTTP response: check \
                 that the endpoint is the ECS API and that no proxy rewrites the traffic"
            ),
        )
    } else if err.is_user() {
        TransportError::new(
            TransportErrorKind::InvalidRequest,
            format!(
                "the request to {target} could not be sent as given: check its headers and body"
            ),
        )
    } else {
        let io = walk(err).io;
        let what = if err.is_incomplete_message() {
            format!("{target} closed the connection before answering")
        } else if io == Some(std::io::ErrorKind::ConnectionReset) {
            format!("{target} reset the connection")
        } else if io == Some(std::io::ErrorKind::UnexpectedEof) {
            format!(
                "the response body from {target} was cut short (the connection closed before its end)"
            )
        } else {
            format!(
                "the connection to {target} failed while the request or the response was in \
                 flight"
            )
        };
        TransportError::new(
            TransportErrorKind::Io,
            format!("{what}: the request is read-only and safe to retry"),
        )
    }
}

/// The response headers did not arrive within the response timeout.
pub(crate) fn response_timeout(uri: &Uri, after: Duration) -> TransportError {
    TransportError::new(
        TransportErrorKind::Timeout,
        format!(
            "no response from {} within the {after:?} response timeout: the server or the \
             network is slow; retry, or raise the response timeout",
            target(uri)
        ),
    )
}

/// The whole request did not finish before the deadline.
pub(crate) fn deadline(uri: &Uri, after: Duration) -> TransportError {
    TransportError::new(
        TransportErrorKind::Timeout,
        format!(
            "the request to {} did not complete within the {after:?} deadline (connect, \
             response and body included): retry, or raise the deadline",
            target(uri)
        ),
    )
}

/// The body was larger than the limit.
pub(crate) fn body_too_large(uri: &Uri, limit: usize) -> TransportError {
    TransportError::new(
        TransportErrorKind::BodyTooLarge,
        format!(
            "the response body from {} is larger than the {limit}-byte limit, so reading \
             stopped: ask for fewer results per page, or raise \
             HyperTransportBuilder::max_body_size",
            target(uri)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_drops_path_query_and_userinfo() {
        let uri: Uri = "https://user:pw@ecs.example:8443/a?b=c".parse().unwrap();
        assert_eq!(target(&uri), "https://ecs.example:8443");
        let uri: Uri = "http://127.0.0.1/".parse().unwrap();
        assert_eq!(target(&uri), "http://127.0.0.1");
    }

    #[test]
    fn tls_error_inside_io_error_is_found() {
        let tls = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, tls);
        let outer = TransportError::new(TransportErrorKind::Other, "x").with_source(io);
        assert!(walk(&outer).tls);
        assert!(!walk(&std::io::Error::other("plain")).tls);
    }

    #[test]
    fn messages_name_the_target_and_what_to_do() {
        let uri: Uri = "https://ecs.example/".parse().unwrap();
        let err = response_timeout(&uri, Duration::from_secs(3));
        assert!(err.is_timeout());
        assert!(err.to_string().contains("https://ecs.example"));
        assert!(err.to_string().contains("3s"));
        let err = body_too_large(&uri, 10);
        assert!(err.is_body_too_large());
        assert!(err.to_string().contains("10-byte limit"));
        let err = deadline(&uri, Duration::from_millis(1500));
        assert!(err.to_string().contains("1.5s deadline"), "{err}");
        let err = connect_failure(
            &ConnectFailure::ProxyRefused {
                proxy: "http://p:1".into(),
                status: 407,
            },
            "https://h",
        );
        assert!(err.is_connect());
        assert!(err.to_string().contains("credentials"));
    }
}
