//! `HyperTransport` against servers started inside the tests (127.0.0.1 only).
//! Every test runs under a time guard, so a hang is a failure, not a stuck
//! run.

// Test helpers may unwrap like the tests themselves (see clippy.toml); a
// panic is a test failure with a location.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "hyper_transport/support.rs"]
mod support;

use std::error::Error as _;
use std::time::Duration;

use ecs_transport::{
    HyperTransport, Proxy, TlsRoots, Transport, TransportError, TransportErrorKind,
};
use tokio::io::AsyncWriteExt;

use support::{get, guarded};

/// A transport that ignores the machine's proxy variables, so the tests do
/// not depend on them.
fn builder() -> ecs_transport::HyperTransportBuilder {
    HyperTransport::builder().no_proxy_from_env()
}

fn body_text(response: &http::Response<bytes::Bytes>) -> String {
    String::from_utf8(response.body().to_vec()).unwrap()
}

/// Every cause in the chain, as text, for assertions on `source()`.
fn chain(err: &TransportError) -> String {
    let mut out = Vec::new();
    let mut current = err.source();
    while let Some(cause) = current {
        out.push(cause.to_string());
        current = cause.source();
    }
    out.join(" <- ")
}

#[tokio::test]
async fn reuses_one_connection_for_sequential_requests() {
    guarded(async {
        let server = support::http_server().await;
        let transport = builder().build().unwrap();
        for i in 0..50 {
            let response = transport
                .send(get(&format!("http://{}/r{i}", server.addr)))
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            assert!(body_text(&response).starts_with(&format!("path=/r{i};version=HTTP/1.1")));
        }
        assert_eq!(
            server.accepted(),
            1,
            "keep-alive should reuse one connection"
        );
    })
    .await;
}

#[tokio::test]
async fn concurrent_requests_share_a_bounded_pool() {
    guarded(async {
        let server = support::http_server().await;
        let transport = builder().build().unwrap();
        for _round in 0..5 {
            let mut set = tokio::task::JoinSet::new();
            for _ in 0..4 {
                let transport = transport.clone();
                let uri = format!("http://{}/", server.addr);
                set.spawn(async move { transport.send(get(&uri)).await });
            }
            while let Some(result) = set.join_next().await {
                assert_eq!(result.unwrap().unwrap().status(), 200);
            }
        }
        // 20 requests, at most 4 at a time. A connection goes back to the
        // pool a moment after its response completes, so a round may open a
        // spare one; without pooling this would be 20.
        let accepted = server.accepted();
        assert!(
            (1..=8).contains(&accepted),
            "accepted {accepted} connections"
        );
    })
    .await;
}

#[tokio::test]
async fn connection_refused_is_a_retryable_connect_error() {
    guarded(async {
        let port = support::closed_port().await;
        let transport = builder().build().unwrap();
        let err = transport
            .send(get(&format!("http://127.0.0.1:{port}/")))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::Connect, "{err}");
        assert!(err.is_connect() && err.is_retryable() && !err.is_timeout());
        let message = err.to_string();
        assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
        assert!(
            message.contains("check the host name, the port"),
            "{message}"
        );
        assert!(
            chain(&err).to_lowercase().contains("refused"),
            "{}",
            chain(&err)
        );
    })
    .await;
}

#[tokio::test]
async fn connect_timeout_covers_a_stalled_tls_handshake() {
    guarded(async {
        // Accepts TCP, then never answers the TLS ClientHello.
        let addr = support::raw_server(|stream| async move {
            tokio::time::sleep(Duration::from_secs(30)).await;
            drop(stream);
        })
        .await;
        let transport = builder()
            .connect_timeout(Duration::from_millis(200))
            .build()
            .unwrap();
        let err = transport
            .send(get(&format!("https://{addr}/")))
            .await
            .unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
        assert!(err.is_retryable());
        assert!(err.to_string().contains("200ms connect timeout"), "{err}");
    })
    .await;
}

#[tokio::test]
async fn response_timeout_fires_when_headers_never_come() {
    guarded(async {
        let addr = support::raw_server(|mut stream| async move {
            let _head = support::read_head(&mut stream).await;
            tokio::time::sleep(Duration::from_secs(30)).await;
        })
        .await;
        let transport = builder()
            .response_timeout(Duration::from_millis(200))
            .build()
            .unwrap();
        let err = transport
            .send(get(&format!("http://{addr}/")))
            .await
            .unwrap_err();
        assert!(err.is_timeout() && err.is_retryable(), "{err:?}");
        assert!(err.to_string().contains("200ms response timeout"), "{err}");
    })
    .await;
}

#[tokio::test]
async fn deadline_fires_when_the_body_stalls() {
    guarded(async {
        let addr = support::raw_server(|mut stream| async move {
            let _head = support::read_head(&mut stream).await;
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789")
                .await;
            tokio::time::sleep(Duration::from_secs(30)).await;
        })
        .await;
        let transport = builder()
            .response_timeout(Duration::from_secs(10))
            .deadline(Duration::from_millis(300))
            .build()
            .unwrap();
        let err = transport
            .send(get(&format!("http://{addr}/")))
            .await
            .unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
        assert!(err.to_string().contains("300ms deadline"), "{err}");
    })
    .await;
}

#[tokio::test]
async fn body_over_the_limit_is_refused() {
    guarded(async {
        // One server announces its length, the other streams chunks without one.
        let announced = support::raw_server(|mut stream| async move {
            let _head = support::read_head(&mut stream).await;
            let mut response = b"HTTP/1.1 200 OK\r\ncontent-length: 4096\r\n\r\n".to_vec();
            response.extend_from_slice(&[b'x'; 4096]);
            let _ = stream.write_all(&response).await;
            tokio::time::sleep(Duration::from_secs(30)).await;
        })
        .await;
        let chunked = support::raw_server(|mut stream| async move {
            let _head = support::read_head(&mut stream).await;
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
                .await;
            // Endless 512-byte chunks: the client must stop reading by itself.
            let chunk = [b"200\r\n".as_slice(), &[b'y'; 512], b"\r\n"].concat();
            loop {
                if stream.write_all(&chunk).await.is_err() {
                    return;
                }
            }
        })
        .await;
        let transport = builder().max_body_size(1024).build().unwrap();
        for addr in [announced, chunked] {
            let err = transport
                .send(get(&format!("http://{addr}/")))
                .await
                .unwrap_err();
            assert_eq!(err.kind(), TransportErrorKind::BodyTooLarge, "{err:?}");
            assert!(!err.is_retryable());
            assert!(err.to_string().contains("1024-byte limit"), "{err}");
        }
        // A body exactly at the limit is fine.
        let exact = support::raw_server(|mut stream| async move {
            let _head = support::read_head(&mut stream).await;
            let mut response = b"HTTP/1.1 200 OK\r\ncontent-length: 1024\r\n\r\n".to_vec();
            response.extend_from_slice(&[b'z'; 1024]);
            let _ = stream.write_all(&response).await;
        })
        .await;
        let response = transport
            .send(get(&format!("http://{exact}/")))
            .await
            .unwrap();
        assert_eq!(response.body().len(), 1024);
    })
    .await;
}

#[tokio::test]
async fn server_closing_mid_body_is_a_retryable_io_error() {
    guarded(async {
        let addr = support::raw_server(|mut stream| async move {
            let _head = support::read_head(&mut stream).await;
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789")
                .await;
            // Dropping the stream closes the connection 90 bytes short.
        })
        .await;
        let transport = builder().build().unwrap();
        let err = transport
            .send(get(&format!("http://{addr}/")))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::Io, "{err:?}");
        assert!(err.is_retryable());
        assert!(err.to_string().contains("safe to retry"), "{err}");
        assert!(err.to_string().contains("was cut short"), "{err}");
        assert!(err.source().is_some());
    })
    .await;
}

#[tokio::test]
async fn server_closing_before_answering_and_resetting_are_told_apart() {
    guarded(async {
        let closes = support::raw_server(|mut stream| async move {
            let _head = support::read_head(&mut stream).await;
            // Dropped without a byte of answer.
        })
        .await;
        let resets = support::raw_server(|mut stream| async move {
            let _head = support::read_head(&mut stream).await;
            // Linger 0: closing sends RST instead of FIN.
            let _ = stream.set_zero_linger();
        })
        .await;
        let transport = builder().build().unwrap();
        for (addr, says) in [
            (closes, "closed the connection before answering"),
            (resets, "reset the connection"),
        ] {
            let err = transport
                .send(get(&format!("http://{addr}/")))
                .await
                .unwrap_err();
            assert_eq!(err.kind(), TransportErrorKind::Io, "{err:?}");
            assert!(err.is_retryable());
            assert!(err.to_string().contains(says), "{err}");
        }
    })
    .await;
}

#[tokio::test]
async fn garbage_instead_of_http_is_an_other_error() {
    guarded(async {
        let addr = support::raw_server(|mut stream| async move {
            let _head = support::read_head(&mut stream).await;
            let _ = stream.write_all(b"SSH-2.0-OpenSSH_9.6\r\n\r\n").await;
            tokio::time::sleep(Duration::from_secs(30)).await;
        })
        .await;
        let err = builder()
            .build()
            .unwrap()
            .send(get(&format!("http://{addr}/")))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::Other, "{err:?}");
        assert!(
            err.to_string().contains("not a valid HTTP response"),
            "{err}"
        );
    })
    .await;
}

#[tokio::test]
async fn self_signed_tls_is_accepted_with_its_root_and_uses_h2_by_alpn() {
    guarded(async {
        let cert = support::self_signed();
        let server = support::tls_server(&cert, true).await;
        let transport = builder()
            .add_root_certificate(cert.cert_der.clone())
            .build()
            .unwrap();
        for _ in 0..3 {
            let response = transport
                .send(get(&format!(
                    "https://127.0.0.1:{}/tls",
                    server.addr.port()
                )))
                .await
                .unwrap();
            assert_eq!(response.version(), http::Version::HTTP_2);
            assert!(body_text(&response).starts_with("path=/tls;version=HTTP/2.0"));
        }
        assert_eq!(server.accepted(), 1, "HTTP/2 multiplexes on one connection");

        // Without ALPN h2 from the server, HTTP/1.1 over TLS.
        let h1 = support::tls_server(&cert, false).await;
        let response = transport
            .send(get(&format!("https://127.0.0.1:{}/", h1.addr.port())))
            .await
            .unwrap();
        assert_eq!(response.version(), http::Version::HTTP_11);
    })
    .await;
}

#[tokio::test]
async fn self_signed_tls_is_refused_without_its_root() {
    guarded(async {
        let cert = support::self_signed();
        let server = support::tls_server(&cert, true).await;
        let transport = builder().tls_roots(TlsRoots::WebPki).build().unwrap();
        let err = transport
            .send(get(&format!("https://127.0.0.1:{}/", server.addr.port())))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::Tls, "{err:?}");
        assert!(!err.is_retryable());
        let message = err.to_string();
        assert!(
            message.contains("TLS handshake with https://127.0.0.1:"),
            "{message}"
        );
        assert!(message.contains("certificate"), "{message}");
        assert!(message.contains("add_root_certificate"), "{message}");
        assert!(
            chain(&err).contains("UnknownIssuer") || chain(&err).contains("unknown issuer"),
            "{}",
            chain(&err)
        );
    })
    .await;
}

#[tokio::test]
async fn bad_tls_configuration_fails_at_build() {
    let err = HyperTransport::builder()
        .add_root_certificate(b"not a certificate".to_vec())
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Tls);
    assert!(err.to_string().contains("root certificate 1"), "{err}");
    let err = HyperTransport::builder()
        .tls_roots(TlsRoots::Empty)
        .build()
        .unwrap_err();
    assert!(
        err.to_string().contains("no root certificate is trusted"),
        "{err}"
    );
}

#[tokio::test]
async fn https_goes_through_a_connect_tunnel_with_credentials() {
    guarded(async {
        let cert = support::self_signed();
        let server = support::tls_server(&cert, true).await;
        let (proxy_addr, log) = support::proxy(Some("Basic dXNlcjpzM2NyZXQ=")).await;
        let transport = builder()
            .add_root_certificate(cert.cert_der.clone())
            .proxy(Proxy::new().https(format!("http://user:s3cret@{proxy_addr}")))
            .build()
            .unwrap();
        let debug = format!("{transport:?}");
        assert!(!debug.contains("s3cret"), "{debug}");
        for _ in 0..3 {
            let response = transport
                .send(get(&format!(
                    "https://127.0.0.1:{}/via",
                    server.addr.port()
                )))
                .await
                .unwrap();
            assert!(body_text(&response).starts_with("path=/via"));
            // Credentials go to the proxy in CONNECT, never to the origin.
            assert!(body_text(&response).ends_with("proxy-auth=None"));
        }
        assert_eq!(log.tunnels.load(std::sync::atomic::Ordering::SeqCst), 1);
        let heads = log.heads();
        assert!(
            heads[0].starts_with(&format!(
                "CONNECT 127.0.0.1:{} HTTP/1.1\r\n",
                server.addr.port()
            )),
            "{heads:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn http_goes_through_a_forward_proxy_in_absolute_form() {
    guarded(async {
        let server = support::http_server().await;
        let (proxy_addr, log) = support::proxy(None).await;
        let transport = builder()
            .proxy(Proxy::new().all(format!("http://u:p@{proxy_addr}")))
            .build()
            .unwrap();
        let response = transport
            .send(get(&format!("http://{}/plain?x=1", server.addr)))
            .await
            .unwrap();
        assert!(body_text(&response).starts_with("path=/plain"));
        assert_eq!(log.forwarded.load(std::sync::atomic::Ordering::SeqCst), 1);
        let head = &log.heads()[0];
        assert!(
            head.starts_with(&format!(
                "GET http://{}/plain?x=1 HTTP/1.1\r\n",
                server.addr
            )),
            "{head}"
        );
        assert!(
            head.to_lowercase()
                .contains("proxy-authorization: basic dtpw"),
            "{head}"
        );
    })
    .await;
}

#[tokio::test]
async fn no_proxy_bypasses_the_proxy() {
    guarded(async {
        let server = support::http_server().await;
        let (proxy_addr, log) = support::proxy(None).await;
        let transport = builder()
            .proxy(
                Proxy::new()
                    .all(format!("http://{proxy_addr}"))
                    .no_proxy("localhost, 127.0.0.0/8"),
            )
            .build()
            .unwrap();
        transport
            .send(get(&format!("http://{}/", server.addr)))
            .await
            .unwrap();
        assert!(log.heads().is_empty(), "the proxy saw {:?}", log.heads());
        assert_eq!(server.accepted(), 1);
    })
    .await;
}

#[tokio::test]
async fn proxy_refusals_and_outages_are_clear_connect_errors() {
    guarded(async {
        let (proxy_addr, _log) = support::proxy(Some("Basic bm9ib2R5Om5vcGU=")).await;
        let transport = builder()
            .proxy(Proxy::new().https(format!("http://{proxy_addr}")))
            .build()
            .unwrap();
        let err = transport
            .send(get("https://127.0.0.1:1/"))
            .await
            .unwrap_err();
        assert!(err.is_connect(), "{err:?}");
        assert!(err.to_string().contains("status 407"), "{err}");
        assert!(
            err.to_string().contains("http://user:password@host:port"),
            "{err}"
        );

        let dead = support::closed_port().await;
        let transport = builder()
            .proxy(Proxy::new().https(format!("127.0.0.1:{dead}")))
            .build()
            .unwrap();
        let err = transport
            .send(get("https://127.0.0.1:1/"))
            .await
            .unwrap_err();
        assert!(err.is_connect() && err.is_retryable(), "{err:?}");
        assert!(
            err.to_string().contains(&format!(
                "could not connect to the proxy http://127.0.0.1:{dead}"
            )),
            "{err}"
        );
    })
    .await;
}

#[tokio::test]
async fn invalid_requests_are_refused_before_sending() {
    guarded(async {
        let transport = builder().https_only(true).build().unwrap();
        for (uri, expected) in [
            ("/relative?SecurityToken=s3cret", "has no host"),
            ("http://127.0.0.1:1/", "https_only"),
            ("ftp://example.com/", "scheme `ftp`"),
        ] {
            let err = transport.send(get(uri)).await.unwrap_err();
            assert_eq!(err.kind(), TransportErrorKind::InvalidRequest, "{uri}");
            assert!(err.to_string().contains(expected), "{uri}: {err}");
            assert!(!err.to_string().contains("s3cret"), "{err}");
            assert!(!err.is_retryable());
        }
        let err = HyperTransport::builder()
            .proxy(Proxy::new().all("socks5://127.0.0.1:1080"))
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::InvalidRequest);
    })
    .await;
}

#[test]
fn sending_outside_a_tokio_runtime_is_an_error_not_a_panic() {
    let transport = HyperTransport::builder()
        .no_proxy_from_env()
        .build()
        .unwrap();
    let mut future = transport.send(get("http://127.0.0.1:1/"));
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(Err(err)) => {
            assert_eq!(err.kind(), TransportErrorKind::Other);
            assert!(err.to_string().contains("needs a Tokio runtime"), "{err}");
        }
        other => panic!("expected an immediate error, got {other:?}"),
    }
}

#[tokio::test]
async fn huge_timeouts_mean_no_timeout_and_never_panic() {
    guarded(async {
        let server = support::http_server().await;
        let transport = builder()
            .connect_timeout(Duration::MAX)
            .response_timeout(Duration::MAX)
            .deadline(Duration::MAX)
            .build()
            .unwrap();
        let response = transport
            .send(get(&format!("http://{}/big", server.addr)))
            .await
            .unwrap();
        assert!(body_text(&response).starts_with("path=/big"));
    })
    .await;
}
