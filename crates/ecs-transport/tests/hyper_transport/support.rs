//! Servers started inside the tests, on 127.0.0.1:0 only: a well-behaved
//! hyper server (plain or TLS), raw TCP servers that misbehave on purpose, and
//! a small CONNECT/forward proxy that counts what passed through it.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The bound on every test: nothing may hang longer than this.
pub(crate) const GUARD: Duration = Duration::from_secs(20);

/// Runs `test` and fails if it takes longer than [`GUARD`].
pub(crate) async fn guarded<F: Future>(test: F) -> F::Output {
    tokio::time::timeout(GUARD, test)
        .await
        .expect("the test hung past its guard")
}

/// A request for `uri` with an empty body.
pub(crate) fn get(uri: &str) -> http::Request<Bytes> {
    http::Request::get(uri).body(Bytes::new()).unwrap()
}

/// A running hyper server and how many connections it accepted.
pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    pub(crate) accepted: Arc<AtomicUsize>,
}

impl Server {
    pub(crate) fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

/// What the test servers answer: `path=<path>;version=<version>` plus the
/// request's `Proxy-Authorization`, if any, reaching the origin.
async fn echo(
    request: http::Request<hyper::body::Incoming>,
) -> Result<http::Response<Full<Bytes>>, Infallible> {
    let proxy_auth = request
        .headers()
        .get(http::header::PROXY_AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or("?").to_owned());
    let body = format!(
        "path={};version={:?};proxy-auth={proxy_auth:?}",
        request.uri().path(),
        request.version()
    );
    Ok(http::Response::new(Full::new(Bytes::from(body))))
}

/// A plain HTTP/1.1 server that answers every request with [`echo`].
pub(crate) async fn http_server() -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service_fn(echo))
                    .await;
            });
        }
    });
    Server { addr, accepted }
}

/// A self-signed certificate for `127.0.0.1` and `localhost`.
pub(crate) struct SelfSigned {
    pub(crate) cert_der: Vec<u8>,
    pub(crate) key_der: Vec<u8>,
}

pub(crate) fn self_signed() -> SelfSigned {
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    SelfSigned {
        cert_der: certified.cert.der().to_vec(),
        key_der: certified.signing_key.serialize_der(),
    }
}

/// A TLS server (HTTP/1.1 or HTTP/2 by ALPN) answering with [`echo`].
pub(crate) async fn tls_server(cert: &SelfSigned, alpn_h2: bool) -> Server {
    // Deprecated from rustls 0.23.48 (no post-quantum key exchange in ring);
    // the transport under test uses the ring provider too.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![rustls::pki_types::CertificateDer::from(
                cert.cert_der.clone(),
            )],
            rustls::pki_types::PrivateKeyDer::try_from(cert.key_der.clone()).unwrap(),
        )
        .unwrap();
    config.alpn_protocols = if alpn_h2 {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    };
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            count.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), service_fn(echo))
                    .await;
            });
        }
    });
    Server { addr, accepted }
}

/// Reads until the end of the request head (or EOF), and returns it.
pub(crate) async fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut buf = [0_u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// A raw TCP server: each accepted connection is handed to `behave`. The
/// connections are kept open until `behave` returns.
pub(crate) async fn raw_server<F, Fut>(behave: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let behave = Arc::new(behave);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(behave(stream));
        }
    });
    addr
}

/// What a [`proxy`] saw: one line per request head it received.
#[derive(Default)]
pub(crate) struct ProxyLog {
    pub(crate) heads: Mutex<Vec<String>>,
    pub(crate) tunnels: AtomicUsize,
    pub(crate) forwarded: AtomicUsize,
}

impl ProxyLog {
    pub(crate) fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

/// A small HTTP proxy: `CONNECT host:port` opens a tunnel (after checking
/// `Proxy-Authorization` when `require_auth` is set, answering 407
/// otherwise); an absolute-form request is forwarded to its host as is.
pub(crate) async fn proxy(require_auth: Option<&'static str>) -> (SocketAddr, Arc<ProxyLog>) {
    let log = Arc::new(ProxyLog::default());
    let seen = log.clone();
    let addr = raw_server(move |mut client| {
        let log = seen.clone();
        async move {
            let head = read_head(&mut client).await;
            log.heads.lock().unwrap().push(head.clone());
            let request_line = head.lines().next().unwrap_or_default().to_owned();
            let mut parts = request_line.split(' ');
            let method = parts.next().unwrap_or_default();
            let target = parts.next().unwrap_or_default().to_owned();
            if let Some(expected) = require_auth {
                let auth = format!("proxy-authorization: {expected}");
                if !head.to_ascii_lowercase().contains(&auth.to_ascii_lowercase()) {
                    let _ = client
                        .write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\ncontent-length: 0\r\n\r\n")
                        .await;
                    return;
                }
            }
            if method == "CONNECT" {
                log.tunnels.fetch_add(1, Ordering::SeqCst);
                let Ok(mut upstream) = TcpStream::connect(target.as_str()).await else {
                    let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
                    return;
                };
                let _ = client
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await;
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            } else {
                log.forwarded.fetch_add(1, Ordering::SeqCst);
                let authority = target
                    .strip_prefix("http://")
                    .and_then(|rest| rest.split('/').next())
                    .unwrap_or_default()
                    .to_owned();
                let Ok(mut upstream) = TcpStream::connect(authority.as_str()).await else {
                    let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
                    return;
                };
                let _ = upstream.write_all(head.as_bytes()).await;
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            }
        }
    })
    .await;
    (addr, log)
}

/// A port on 127.0.0.1 where nothing listens (bound, then released).
pub(crate) async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}
