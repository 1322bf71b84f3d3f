//! The connector stack under the pooled client:
//! `ConnectTimeout<HttpsConnector<ProxyConnector>>`.
//!
//! `ProxyConnector` opens the TCP connection, directly or through a proxy
//! (a `CONNECT` tunnel for https destinations, absolute-form forwarding for
//! http ones); hyper-rustls does TLS on top; `ConnectTimeout` bounds the whole
//! of it (TCP, proxy handshake and TLS handshake) by the connect timeout.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower_service::Service;

use crate::error::BoxError;

/// The largest proxy answer to `CONNECT` that is read before giving up.
const MAX_CONNECT_RESPONSE: usize = 16 * 1024;

type ConnectFuture<T> = Pin<Box<dyn Future<Output = Result<T, BoxError>> + Send>>;

/// Why a connection could not be made, placed in the error chain so the
/// transport can say what to check.
#[derive(Debug)]
pub(crate) enum ConnectFailure {
    /// The TCP connection to the destination itself failed.
    Direct,
    /// The TCP connection to the proxy failed.
    ProxyUnreachable { proxy: String },
    /// The proxy answered `CONNECT` with a status other than 2xx.
    ProxyRefused { proxy: String, status: u16 },
    /// The proxy closed the connection or answered something that is not
    /// HTTP.
    ProxyProtocol { proxy: String, detail: &'static str },
    /// The connect timeout passed before TCP, the proxy handshake and TLS
    /// were all done.
    TimedOut(Duration),
}

impl fmt::Display for ConnectFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Direct => f.write_str("tcp connect failed"),
            Self::ProxyUnreachable { proxy } => write!(f, "could not reach the proxy {proxy}"),
            Self::ProxyRefused { proxy, status } => {
                write!(f, "the proxy {proxy} answered CONNECT with status {status}")
            }
            Self::ProxyProtocol { proxy, detail } => write!(f, "the proxy {proxy} {detail}"),
            Self::TimedOut(after) => write!(f, "connect timed out after {after:?}"),
        }
    }
}

/// A [`ConnectFailure`] with its cause, so both stay in the chain.
#[derive(Debug)]
pub(crate) struct ConnectError {
    pub(crate) failure: ConnectFailure,
    cause: Option<BoxError>,
}

impl ConnectError {
    fn new(failure: ConnectFailure, cause: impl Into<Option<BoxError>>) -> Self {
        Self {
            failure,
            cause: cause.into(),
        }
    }
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.failure.fmt(f)
    }
}

impl StdError for ConnectError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.cause
            .as_deref()
            .map(|cause| cause as &(dyn StdError + 'static))
    }
}

/// Opens TCP connections, through a proxy when the matcher says so.
#[derive(Clone)]
pub(crate) struct ProxyConnector {
    http: HttpConnector,
    proxy: Option<Arc<Matcher>>,
}

impl ProxyConnector {
    pub(crate) fn new(http: HttpConnector, proxy: Option<Arc<Matcher>>) -> Self {
        Self { http, proxy }
    }
}

impl Service<Uri> for ProxyConnector {
    type Response = Conn;
    type Error = BoxError;
    type Future = ConnectFuture<Conn>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.http.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let intercept = self.proxy.as_ref().and_then(|m| m.intercept(&dst));
        let Some(intercept) = intercept else {
            let connecting = self.http.call(dst);
            return Box::pin(async move {
                let io = connecting.await.map_err(|err| {
                    ConnectError::new(ConnectFailure::Direct, BoxError::from(err))
                })?;
                Ok(Conn::new(io, false))
            });
        };
        let proxy_uri = intercept.uri().clone();
        let proxy = format!(
            "{}://{}",
            proxy_uri.scheme_str().unwrap_or("http"),
            proxy_uri.authority().map_or("", |a| a.as_str())
        );
        let auth = intercept.basic_auth().cloned();
        let connecting = self.http.call(proxy_uri);
        let tunnel = dst.scheme_str() != Some("http");
        Box::pin(async move {
            let io = connecting.await.map_err(|err| {
                ConnectError::new(
                    ConnectFailure::ProxyUnreachable {
                        proxy: proxy.clone(),
                    },
                    BoxError::from(err),
                )
            })?;
            if !tunnel {
                // Plain http through a forward proxy: the pooled client sends
                // the request in absolute form because `Connected::proxy` is
                // set, and the transport adds `Proxy-Authorization`.
                return Ok(Conn::new(io, true));
            }
            let stream = open_tunnel(io.into_inner(), &dst, auth.as_ref(), &proxy).await?;
            Ok(Conn::new(TokioIo::new(stream), false))
        })
    }
}

/// Sends `CONNECT host:port` on `stream` and reads the proxy's answer.
async fn open_tunnel(
    mut stream: TcpStream,
    dst: &Uri,
    auth: Option<&http::HeaderValue>,
    proxy: &str,
) -> Result<TcpStream, ConnectError> {
    let protocol = |detail| ConnectFailure::ProxyProtocol {
        proxy: proxy.to_owned(),
        detail,
    };
    let host = dst.host().unwrap_or_default();
    let port = dst.port_u16().unwrap_or(443);
    // An IPv6 literal keeps its brackets in `host()`, as CONNECT needs.
    let mut head =
        format!("CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n").into_bytes();
    if let Some(auth) = auth {
        head.extend_from_slice(b"Proxy-Authorization: ");
        head.extend_from_slice(auth.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    stream.write_all(&head).await.map_err(|err| {
        ConnectError::new(
            protocol("closed the connection before CONNECT was sent"),
            BoxError::from(err),
        )
    })?;

    // The proxy says nothing after its answer until the TLS client speaks, so
    // reading up to the blank line never consumes tunnelled bytes.
    let mut answer = Vec::with_capacity(256);
    let mut chunk = [0_u8; 1024];
    loop {
        let n = stream.read(&mut chunk).await.map_err(|err| {
            ConnectError::new(
                protocol("failed while answering CONNECT"),
                BoxError::from(err),
            )
        })?;
        if n == 0 {
            return Err(ConnectError::new(
                protocol("closed the connection without answering CONNECT"),
                None,
            ));
        }
        answer.extend_from_slice(&chunk[..n]);
        if answer.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
        if answer.len() > MAX_CONNECT_RESPONSE {
            return Err(ConnectError::new(
                protocol("sent an over-long answer to CONNECT"),
                None,
            ));
        }
    }
    let status = parse_status(&answer).ok_or_else(|| {
        ConnectError::new(
            protocol("answered CONNECT with something other than HTTP"),
            None,
        )
    })?;
    if (200..300).contains(&status) {
        Ok(stream)
    } else {
        Err(ConnectError::new(
            ConnectFailure::ProxyRefused {
                proxy: proxy.to_owned(),
                status,
            },
            None,
        ))
    }
}

/// The status code of an `HTTP/1.x NNN ...` status line.
fn parse_status(answer: &[u8]) -> Option<u16> {
    let line_end = answer.iter().position(|&b| b == b'\r')?;
    let line = std::str::from_utf8(&answer[..line_end]).ok()?;
    let mut parts = line.split(' ');
    let version = parts.next()?;
    if !version.starts_with("HTTP/1.") {
        return None;
    }
    let code = parts.next()?;
    if code.len() != 3 {
        return None;
    }
    code.parse().ok()
}

/// A TCP connection that remembers whether it leads to a forward proxy.
pub(crate) struct Conn {
    io: TokioIo<TcpStream>,
    forward_proxy: bool,
}

impl Conn {
    fn new(io: TokioIo<TcpStream>, forward_proxy: bool) -> Self {
        Self { io, forward_proxy }
    }
}

impl Connection for Conn {
    fn connected(&self) -> Connected {
        self.io.connected().proxy(self.forward_proxy)
    }
}

impl Read for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl Write for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
}

/// Bounds a whole connect (TCP, proxy handshake, TLS handshake) by a timeout.
#[derive(Clone)]
pub(crate) struct ConnectTimeout<C> {
    inner: C,
    timeout: Duration,
}

impl<C> ConnectTimeout<C> {
    pub(crate) fn new(inner: C, timeout: Duration) -> Self {
        Self { inner, timeout }
    }
}

impl<C> Service<Uri> for ConnectTimeout<C>
where
    C: Service<Uri>,
    C::Future: Send + 'static,
    C::Response: Send + 'static,
    C::Error: Into<BoxError>,
{
    type Response = C::Response;
    type Error = BoxError;
    type Future = ConnectFuture<C::Response>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let connecting = self.inner.call(dst);
        let timeout = self.timeout;
        Box::pin(async move {
            match tokio::time::timeout(timeout, connecting).await {
                Ok(result) => result.map_err(Into::into),
                Err(elapsed) => Err(Box::new(ConnectError::new(
                    ConnectFailure::TimedOut(timeout),
                    BoxError::from(elapsed),
                )) as BoxError),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines() {
        assert_eq!(
            parse_status(b"HTTP/1.1 200 Connection established\r\n\r\n"),
            Some(200)
        );
        assert_eq!(parse_status(b"HTTP/1.0 407 Proxy Auth\r\n\r\n"), Some(407));
        assert_eq!(parse_status(b"HTTP/1.1 200\r\n\r\n"), Some(200));
        assert_eq!(parse_status(b"SSH-2.0-OpenSSH\r\n\r\n"), None);
        assert_eq!(parse_status(b"HTTP/1.1 20 x\r\n\r\n"), None);
        assert_eq!(parse_status(b"HTTP/1.1 abc x\r\n\r\n"), None);
        assert_eq!(parse_status(b"HTTP/1.1 200 no line end"), None);
    }

    #[test]
    fn failures_display_without_credentials() {
        let failure = ConnectFailure::ProxyRefused {
            proxy: "http://p:1".into(),
            status: 407,
        };
        assert_eq!(
            failure.to_string(),
            "the proxy http://p:1 answered CONNECT with status 407"
        );
    }
}
