//! The emulator under abuse: garbage bytes, oversized headers and bodies,
//! clients that send half a request and stall, many idle connections. It
//! answers with an error or closes the connection, never hangs, and keeps
//! serving: a normal signed request succeeds during and after each abuse.
//!
//! The abusive clients are plain blocking sockets (on blocking threads), so
//! they send exactly the bytes written here.

use std::io::{Read as _, Write as _};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use ecs_emulator::{DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, DataSet, Emulator, EmulatorHandle};
use ecs_sign::{Credentials, SystemTimeSource, TimeSource as _};

use crate::support;

/// How long the emulator gives a client to send its request, in these tests.
const READ_TIMEOUT: Duration = Duration::from_millis(500);
/// How long an abusive client waits for the emulator's answer or close.
const ANSWER_LIMIT: Duration = Duration::from_secs(10);

async fn emulator() -> EmulatorHandle {
    Emulator::builder()
        .data(DataSet::demo())
        .request_read_timeout(READ_TIMEOUT)
        .start()
        .await
        .unwrap()
}

/// A normal signed V3 request for the demo invocation succeeds.
async fn assert_serving(addr: SocketAddr) {
    static NONCE: AtomicU64 = AtomicU64::new(0);
    let nonce = format!("abuse-{}", NONCE.fetch_add(1, Ordering::Relaxed));
    let credentials = Credentials::new(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET).unwrap();
    let request = support::v3_request(
        addr,
        &[
            ("RegionId", "cn-hangzhou"),
            ("InvokeId", "t-hz0jdfwd9f1234"),
        ],
        "application/json",
        &credentials,
        SystemTimeSource.now(),
        &nonce,
    );
    let reply = support::send(addr, request).await;
    assert_eq!(reply.page().invocation.results.len(), 3);
}

/// What an abusive client got back.
#[derive(Debug)]
struct Seen {
    /// The bytes the emulator sent before closing (or before the limit).
    reply: Vec<u8>,
    /// Whether the emulator closed the connection (EOF or reset) in time.
    closed: bool,
}

impl Seen {
    fn status(&self) -> Option<u16> {
        let text = std::str::from_utf8(self.reply.get(..12)?).ok()?;
        text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.reply).into_owned()
    }
}

/// Connects, writes `bytes` (a write the emulator cut short is fine: it
/// closed on us), optionally stops writing, and reads until the emulator
/// closes or `ANSWER_LIMIT` passes.
fn abuse(addr: SocketAddr, bytes: &[u8], half_close: bool) -> Seen {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(ANSWER_LIMIT)).unwrap();
    stream.set_write_timeout(Some(ANSWER_LIMIT)).unwrap();
    let _ = stream.write_all(bytes);
    if half_close {
        let _ = stream.shutdown(Shutdown::Write);
    }
    read_to_close(stream)
}

fn read_to_close(mut stream: TcpStream) -> Seen {
    let mut reply = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => {
                return Seen {
                    reply,
                    closed: true,
                };
            }
            Ok(n) => reply.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Seen {
                    reply,
                    closed: false,
                };
            }
            // Reset by the emulator: closed.
            Err(_) => {
                return Seen {
                    reply,
                    closed: true,
                };
            }
        }
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::time::timeout(ANSWER_LIMIT * 3, tokio::task::spawn_blocking(f))
        .await
        .expect("the abusive client finished")
        .unwrap()
}

/// Deterministic garbage (xorshift), with no CR or LF so it is not a
/// request line.
fn garbage(len: usize) -> Vec<u8> {
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            match (x >> 24) as u8 {
                b'\r' | b'\n' => b'?',
                b => b,
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_bytes_get_400_or_a_close() {
    let emulator = emulator().await;
    let addr = emulator.addr();
    for bytes in [
        garbage(4096),
        [garbage(100), b"\r\n\r\n".to_vec()].concat(),
        b"GET / HTTP/9.9\r\n\r\n".to_vec(),
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03".to_vec(), // a TLS ClientHello
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n".to_vec(),
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n".to_vec(),
    ] {
        let shown = String::from_utf8_lossy(&bytes[..bytes.len().min(40)]).into_owned();
        let seen = blocking(move || abuse(addr, &bytes, true)).await;
        assert!(seen.closed, "{shown:?}: not closed: {}", seen.text());
        if let Some(status) = seen.status() {
            assert!((400..500).contains(&status), "{shown:?}: {}", seen.text());
        }
        assert_serving(addr).await;
    }
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_headers_get_431_or_a_close() {
    let emulator = emulator().await;
    let addr = emulator.addr();
    let huge_header = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(1 << 20)
    );
    let many_headers = format!(
        "POST / HTTP/1.1\r\nHost: x\r\n{}\r\n",
        (0..500)
            .map(|i| format!("X-H{i}: v\r\n"))
            .collect::<String>()
    );
    let huge_uri = format!(
        "POST /?{} HTTP/1.1\r\nHost: x\r\n\r\n",
        "a=b&".repeat(1 << 18)
    );
    for request in [huge_header, many_headers, huge_uri] {
        let shown = request[..40].to_owned();
        let seen = blocking(move || abuse(addr, request.as_bytes(), false)).await;
        assert!(seen.closed, "{shown:?}: not closed: {}", seen.text());
        if let Some(status) = seen.status() {
            assert!(
                [400, 414, 431].contains(&status),
                "{shown:?}: {}",
                seen.text()
            );
        }
        assert_serving(addr).await;
    }
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_are_refused_with_a_service_error() {
    let emulator = emulator().await;
    let addr = emulator.addr();
    let body = vec![b'a'; 2 << 20];
    let sized = [
        format!(
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes(),
        body.clone(),
    ]
    .concat();
    let chunk = vec![b'a'; 64 << 10];
    let mut chunked = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..32 {
        chunked.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        chunked.extend_from_slice(&chunk);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    for request in [sized, chunked] {
        let seen = blocking(move || abuse(addr, &request, true)).await;
        assert!(seen.closed, "not closed: {}", seen.text());
        // The emulator answers as the service does, or closes first while
        // the client is still writing; either way it is not stuck.
        if let Some(status) = seen.status() {
            assert_eq!(status, 400, "{}", seen.text());
            assert!(seen.text().contains("over 1 MiB"), "{}", seen.text());
        }
        assert_serving(addr).await;
    }
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stalls_mid_request_is_closed_and_others_are_served() {
    let emulator = emulator().await;
    let addr = emulator.addr();
    for half in [
        b"POST / HTTP/1.1\r\nHost: x\r\n".to_vec(),
        b"POS".to_vec(),
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nRegionId=cn".to_vec(),
    ] {
        let shown = String::from_utf8_lossy(&half).into_owned();
        // The stalled client holds its connection open (no half-close).
        let stalled = tokio::task::spawn_blocking(move || abuse(addr, &half, false));
        // Others are served while it stalls.
        assert_serving(addr).await;
        let seen = tokio::time::timeout(ANSWER_LIMIT * 2, stalled)
            .await
            .expect("the stalled client finished")
            .unwrap();
        assert!(
            seen.closed,
            "{shown:?}: a stalled client is not closed after the read timeout: {}",
            seen.text()
        );
        if shown.contains("Content-Length") {
            // A stalled body gets the service's 400 first.
            assert_eq!(seen.status(), Some(400), "{shown:?}: {}", seen.text());
            assert!(seen.text().contains("within the read timeout"), "{}", seen.text());
        } else {
            assert_eq!(seen.status(), None, "{shown:?}: {}", seen.text());
        }
        assert_serving(addr).await;
    }
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_idle_connections_do_not_stop_the_service() {
    let emulator = emulator().await;
    let addr = emulator.addr();
    let idle: Vec<TcpStream> = blocking(move || {
        (0..200)
            .map(|_| {
                let stream = TcpStream::connect(addr).unwrap();
                // Without a limit a connection left open would block the
                // read below instead of counting as not closed.
                stream.set_read_timeout(Some(ANSWER_LIMIT)).unwrap();
                stream
            })
            .collect()
    })
    .await;
    for _ in 0..5 {
        assert_serving(addr).await;
    }
    // After the read timeout the emulator has closed every one of them.
    let closed = blocking(move || {
        idle.into_iter()
            .map(read_to_close)
            .filter(|seen| seen.closed)
            .count()
    })
    .await;
    assert_eq!(closed, 200, "idle connections left open");
    assert_serving(addr).await;
    emulator.shutdown().await;
}

/// A V3 request whose `x-acs-content-sha256` says `claimed` while the
/// signature covers the hash of the body actually sent (`body`): what a
/// client that hashes one body and sends another, or a forger, produces.
fn v3_with_content_hash(
    addr: SocketAddr,
    nonce: &str,
    claimed: &str,
    body: &[u8],
) -> http::Request<http_body_util::Full<bytes::Bytes>> {
    use ecs_sign::acs3;
    let host = addr.to_string();
    let date = ecs_sign::format_timestamp(SystemTimeSource.now()).unwrap();
    let query = [("RegionId", "cn-hangzhou")];
    let mut headers = vec![
        ("host", host.as_str()),
        ("x-acs-action", "DescribeInvocationResults"),
        ("x-acs-version", "2014-05-26"),
        ("x-acs-date", date.as_str()),
        ("x-acs-signature-nonce", nonce),
        ("x-acs-content-sha256", claimed),
    ];
    let canonical = acs3::canonical_request(
        "POST",
        "/",
        &query,
        &headers,
        &acs3::SignedHeaders::Default,
        &acs3::hashed_payload(body),
    )
    .unwrap();
    let signature = acs3::signature(
        DEMO_ACCESS_KEY_SECRET,
        &acs3::string_to_sign(canonical.as_str()),
    );
    let authorization =
        acs3::authorization(DEMO_ACCESS_KEY_ID, canonical.signed_headers(), &signature);
    headers.push(("authorization", authorization.as_str()));
    let mut builder = http::Request::builder()
        .method("POST")
        .uri(format!("/?{}", ecs_sign::encode_query(&query)));
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    builder
        .body(http_body_util::Full::new(bytes::Bytes::copy_from_slice(
            body,
        )))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_content_hash_that_is_not_the_bodys_is_refused() {
    let emulator = emulator().await;
    let addr = emulator.addr();
    let empty = ecs_sign::acs3::hashed_payload(b"");
    // The signature covers the body's real hash; the header claims another.
    for (i, (claimed, body)) in [
        (ecs_sign::acs3::hashed_payload(b"another body"), &b""[..]),
        (empty.clone(), &b"x=1"[..]),
        ("not-a-hash".to_owned(), &b""[..]),
    ]
    .into_iter()
    .enumerate()
    {
        let request = v3_with_content_hash(addr, &format!("forged-{i}"), &claimed, body);
        let reply = support::send(addr, request).await;
        assert_eq!(reply.status, 400, "{claimed}");
        assert_eq!(reply.code(), "SignatureDoesNotMatch", "{claimed}");
        let message =
            ecs_model::decode_error(reply.status, reply.content_type(), &reply.body).message;
        assert!(message.contains("x-acs-content-sha256"), "{message}");
    }
    // The header that matches the body is served, with a body or without.
    let honest = v3_with_content_hash(addr, "honest", &empty, b"");
    assert_eq!(support::send(addr, honest).await.status, 200);
    let with_body = ecs_sign::acs3::hashed_payload(b"x=1");
    let honest = v3_with_content_hash(addr, "honest-body", &with_body, b"x=1");
    assert_eq!(support::send(addr, honest).await.status, 200);
    assert_serving(addr).await;
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nonce_over_128_bytes_is_refused_as_the_service_refuses_it() {
    let emulator = emulator().await;
    let addr = emulator.addr();
    let credentials = Credentials::new(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET).unwrap();
    let params = [("RegionId", "cn-hangzhou")];
    for (i, v3) in [false, true].into_iter().enumerate() {
        let long = format!("{i}{}", "n".repeat(128));
        let request = if v3 {
            support::v3_request(
                addr,
                &params,
                "application/json",
                &credentials,
                SystemTimeSource.now(),
                &long,
            )
        } else {
            support::v1_request(
                addr,
                &params,
                "JSON",
                &credentials,
                SystemTimeSource.now(),
                &long,
            )
        };
        let reply = support::send(addr, request).await;
        assert_eq!(
            (reply.status, reply.code().as_str()),
            (400, "InvalidSignatureNonce"),
            "v3={v3}"
        );
        // 128 bytes is still a nonce.
        let fits = format!("{i}{}", "m".repeat(127));
        let request = if v3 {
            support::v3_request(
                addr,
                &params,
                "application/json",
                &credentials,
                SystemTimeSource.now(),
                &fits,
            )
        } else {
            support::v1_request(
                addr,
                &params,
                "JSON",
                &credentials,
                SystemTimeSource.now(),
                &fits,
            )
        };
        assert_eq!(support::send(addr, request).await.status, 200, "v3={v3}");
    }
    emulator.shutdown().await;
}
