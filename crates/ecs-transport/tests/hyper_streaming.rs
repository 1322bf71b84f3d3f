//! `HyperTransport` as a `StreamingTransport`, against raw servers started
//! inside the tests (127.0.0.1 only): the head comes before the body ends,
//! a cut body is a retryable error after the chunks that arrived, and a
//! stalled body times out.

#![allow(clippy::unwrap_used, clippy::expect_used)]
// The shared support module has helpers this file does not use.
#![allow(dead_code)]

#[path = "hyper_transport/support.rs"]
mod support;

use std::time::Duration;

use ecs_transport::{HyperTransport, StreamingTransport, TransportErrorKind};
use tokio::io::AsyncWriteExt;
use tokio::sync::oneshot;

use support::{get, guarded};

#[tokio::test]
async fn the_head_and_first_chunk_arrive_before_the_body_ends() {
    guarded(async {
        // The server sends half the body, then waits for the test to say it
        // has read that half: a transport that buffered would never resolve.
        let (tx, rx) = oneshot::channel::<()>();
        let rx = std::sync::Mutex::new(Some(rx));
        let rx = std::sync::Arc::new(rx);
        let addr = support::raw_server(move |mut stream| {
            let rx = rx.lock().unwrap().take();
            async move {
                let _head = support::read_head(&mut stream).await;
                let half = vec![b'a'; 64 * 1024];
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n",
                    2 * half.len()
                );
                stream.write_all(head.as_bytes()).await.unwrap();
                stream.write_all(&half).await.unwrap();
                if let Some(rx) = rx {
                    let _ = rx.await;
                }
                stream.write_all(&vec![b'b'; half.len()]).await.unwrap();
            }
        })
        .await;
        let transport = HyperTransport::builder()
            .no_proxy_from_env()
            .build()
            .unwrap();
        let mut response = transport
            .send_streaming(get(&format!("http://{addr}/big")))
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let mut seen = 0usize;
        while seen < 64 * 1024 {
            let chunk = response.body_mut().chunk().await.unwrap().unwrap();
            assert!(chunk.iter().all(|&b| b == b'a'));
            seen += chunk.len();
        }
        tx.send(()).unwrap();
        let mut rest = 0usize;
        while let Some(chunk) = response.body_mut().chunk().await {
            let chunk = chunk.unwrap();
            assert!(chunk.iter().all(|&b| b == b'b'));
            rest += chunk.len();
        }
        assert_eq!(rest, 64 * 1024);
    })
    .await;
}

#[tokio::test]
async fn a_body_cut_in_the_middle_is_a_retryable_error_after_its_chunks() {
    guarded(async {
        let addr = support::raw_server(|mut stream| async move {
            let _head = support::read_head(&mut stream).await;
            stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nfirst part")
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
            let _ = stream.set_zero_linger();
        })
        .await;
        let transport = HyperTransport::builder()
            .no_proxy_from_env()
            .build()
            .unwrap();
        let mut response = transport
            .send_streaming(get(&format!("http://{addr}/cut")))
            .await
            .unwrap();
        let first = response.body_mut().chunk().await.unwrap().unwrap();
        assert_eq!(first.as_ref(), b"first part");
        let err = response.body_mut().chunk().await.unwrap().unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::Io, "{err}");
        assert!(err.is_retryable());
        assert!(response.body_mut().chunk().await.is_none());
    })
    .await;
}

#[tokio::test]
async fn a_stalled_body_times_out_after_the_response_timeout() {
    guarded(async {
        let addr = support::raw_server(|mut stream| async move {
            let _head = support::read_head(&mut stream).await;
            stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nsome")
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_secs(5)).await;
        })
        .await;
        let transport = HyperTransport::builder()
            .no_proxy_from_env()
            .response_timeout(Duration::from_millis(200))
            .build()
            .unwrap();
        let mut response = transport
            .send_streaming(get(&format!("http://{addr}/stall")))
            .await
            .unwrap();
        assert_eq!(
            response.body_mut().chunk().await.unwrap().unwrap().as_ref(),
            b"some"
        );
        let err = response.body_mut().chunk().await.unwrap().unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::Timeout, "{err}");
        assert!(err.to_string().contains("sent no data"), "{err}");
    })
    .await;
}
