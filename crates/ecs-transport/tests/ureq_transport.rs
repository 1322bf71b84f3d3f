//! The `ureq_transport` example (a `BlockingTransport` not built on hyper)
//! against local std::net servers on 127.0.0.1.

// Test helpers may unwrap like the tests themselves (see clippy.toml); a
// panic is a test failure with a location.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../examples/ureq_transport.rs"]
#[allow(dead_code, unreachable_pub)]
mod ureq_transport;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

use bytes::Bytes;
use ecs_transport::{BlockingTransport, SharedBlockingTransport, TransportErrorKind};
use ureq_transport::UreqTransport;

/// Runs `test` on its own thread and fails if it takes longer than 20 s.
fn guarded(test: impl FnOnce() + Send + 'static) {
    let (done, wait) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        test();
        let _ = done.send(());
    });
    match wait.recv_timeout(Duration::from_secs(20)) {
        Ok(()) => handle.join().unwrap(),
        // The test thread panicked: join to surface its message.
        Err(mpsc::RecvTimeoutError::Disconnected) => handle.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("the test hung past its guard"),
    }
}

/// Reads a request head (until the blank line or EOF).
fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut buf = [0_u8; 512];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// A server thread that handles `connections` connections with `behave`.
fn server(connections: usize, behave: impl Fn(TcpStream) + Send + 'static) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(connections) {
            match stream {
                Ok(stream) => behave(stream),
                Err(_) => return,
            }
        }
    });
    addr
}

fn transport(max_body: u64, timeout: Duration) -> UreqTransport {
    let agent = UreqTransport::config()
        .proxy(None)
        .timeout_global(Some(timeout))
        .build()
        .new_agent();
    UreqTransport::with_agent(agent, max_body)
}

#[test]
fn sends_the_request_and_returns_status_headers_and_body() {
    guarded(|| {
        let (heads_tx, heads) = mpsc::channel();
        let addr = server(1, move |mut stream| {
            let head = read_head(&mut stream);
            let _ = heads_tx.send(head);
            let _ = stream.write_all(
                b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\n\
                  x-acs-request-id: r-1\r\ncontent-length: 27\r\nconnection: close\r\n\r\n\
                  {\"Code\":\"InvalidRegionId\"}\n",
            );
        });
        let transport = SharedBlockingTransport::new(transport(1024, Duration::from_secs(10)));
        let request = http::Request::post(format!(
            "http://{addr}/?Action=DescribeInvocationResults&RegionId=cn-hangzhou"
        ))
        .header("x-acs-action", "DescribeInvocationResults")
        .body(Bytes::new())
        .unwrap();
        let response = transport.send(request).unwrap();
        // A 404 is data for the client to decode, not a transport error.
        assert_eq!(response.status(), 404);
        assert_eq!(response.headers()["x-acs-request-id"], "r-1");
        assert_eq!(
            response.body().as_ref(),
            b"{\"Code\":\"InvalidRegionId\"}\n"
        );
        let head = heads.recv().unwrap();
        assert!(
            head.starts_with(
                "POST /?Action=DescribeInvocationResults&RegionId=cn-hangzhou HTTP/1.1\r\n"
            ),
            "{head}"
        );
        assert!(
            head.to_lowercase()
                .contains("x-acs-action: describeinvocationresults"),
            "{head}"
        );
    });
}

#[test]
fn connection_refused_is_a_retryable_connect_error() {
    guarded(|| {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let request = http::Request::get(format!("http://127.0.0.1:{port}/"))
            .body(Bytes::new())
            .unwrap();
        let err = transport(1024, Duration::from_secs(5))
            .send(request)
            .unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::Connect, "{err:?}");
        assert!(err.is_retryable());
        assert!(
            err.to_string().contains(&format!("127.0.0.1:{port}")),
            "{err}"
        );
    });
}

#[test]
fn body_over_the_limit_is_refused() {
    guarded(|| {
        let addr = server(1, |mut stream| {
            let _ = read_head(&mut stream);
            let mut response = b"HTTP/1.1 200 OK\r\ncontent-length: 2048\r\n\r\n".to_vec();
            response.extend_from_slice(&[b'x'; 2048]);
            let _ = stream.write_all(&response);
        });
        let request = http::Request::get(format!("http://{addr}/"))
            .body(Bytes::new())
            .unwrap();
        let err = transport(1024, Duration::from_secs(5))
            .send(request)
            .unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::BodyTooLarge, "{err:?}");
        assert!(!err.is_retryable());
    });
}

#[test]
fn a_stalled_server_times_out() {
    guarded(|| {
        let addr = server(1, |mut stream| {
            let _ = read_head(&mut stream);
            // Say nothing; block until the client gives up and closes.
            let mut rest = Vec::new();
            let _ = stream.read_to_end(&mut rest);
        });
        let request = http::Request::get(format!("http://{addr}/"))
            .body(Bytes::new())
            .unwrap();
        let err = transport(1024, Duration::from_millis(300))
            .send(request)
            .unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
        assert!(err.is_retryable());
    });
}
