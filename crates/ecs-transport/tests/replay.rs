//! `StaticReplayTransport` and `CaptureTransport` (feature `test-util`).

// Test helpers may unwrap like the tests themselves (see clippy.toml); a
// panic is a test failure with a location.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bytes::Bytes;
use ecs_transport::test_util::{CaptureTransport, ReplayEvent, StaticReplayTransport};
use ecs_transport::{BlockingTransport, SharedTransport, Transport, TransportErrorKind};

/// A request shaped like the official SDK's V3 call (see the spec's
/// captures), with the given nonce, date and signature.
fn signed_v3(invoke_id: &str, nonce: &str, date: &str, signature: &str) -> http::Request<Bytes> {
    http::Request::post(format!(
        "https://ecs.cn-hangzhou.aliyuncs.com/?InvokeId={invoke_id}&RegionId=cn-hangzhou"
    ))
    .header("host", "ecs.cn-hangzhou.aliyuncs.com")
    .header("x-acs-action", "DescribeInvocationResults")
    .header("x-acs-version", "2014-05-26")
    .header("x-acs-signature-nonce", nonce)
    .header("x-acs-date", date)
    .header(
        "x-acs-content-sha256",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    )
    .header(
        "authorization",
        format!(
            "ACS3-HMAC-SHA256 Credential=ak,SignedHeaders=host;x-acs-action,Signature={signature}"
        ),
    )
    .body(Bytes::new())
    .unwrap()
}

/// A request shaped like a V1 call: everything, signature included, in the
/// query.
fn signed_v1(page: u32, nonce: &str, timestamp: &str, signature: &str) -> http::Request<Bytes> {
    http::Request::post(format!(
        "http://ecs.cn-hangzhou.aliyuncs.com/?Action=DescribeInvocationResults&Format=JSON\
         &PageNumber={page}&RegionId=cn-hangzhou&SignatureMethod=HMAC-SHA1\
         &SignatureNonce={nonce}&SignatureVersion=1.0&Timestamp={timestamp}\
         &Version=2014-05-26&Signature={signature}"
    ))
    .body(Bytes::new())
    .unwrap()
}

fn json(body: &'static str) -> http::Response<Bytes> {
    http::Response::builder()
        .status(200)
        .header("content-type", "application/json;charset=utf-8")
        .body(Bytes::from_static(body.as_bytes()))
        .unwrap()
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    // The doubles never wait, so one poll completes them.
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(output) => output,
        std::task::Poll::Pending => panic!("a test double returned a pending future"),
    }
}

#[test]
fn replays_in_order_ignoring_signature_headers_and_params() {
    let replay = StaticReplayTransport::new([
        ReplayEvent::new(
            signed_v3("t-1", "n-recorded", "2024-01-01T00:00:00Z", "aaa"),
            json(r#"{"RequestId":"r-1"}"#),
        ),
        ReplayEvent::new(
            signed_v1(2, "n1", "2024-01-01T00%3A00%3A00Z", "sig%3D"),
            json(r#"{"RequestId":"r-2"}"#),
        ),
    ]);
    let transport = SharedTransport::new(replay);
    let first =
        block_on(transport.send(signed_v3("t-1", "n-fresh", "2025-06-01T12:00:00Z", "bbb")))
            .unwrap();
    assert_eq!(first.body().as_ref(), br#"{"RequestId":"r-1"}"#);
    assert_eq!(
        first.headers()["content-type"],
        "application/json;charset=utf-8"
    );
    let second =
        block_on(transport.send(signed_v1(2, "other", "2025-06-01T12%3A00%3A00Z", "x"))).unwrap();
    assert_eq!(second.body().as_ref(), br#"{"RequestId":"r-2"}"#);
}

#[test]
fn a_mismatch_is_an_error_that_lists_every_difference() {
    let replay = StaticReplayTransport::new([ReplayEvent::new(
        signed_v3("t-1", "n", "d", "s"),
        json("{}"),
    )]);
    let mut actual = signed_v3("t-2", "n2", "d2", "s2");
    *actual.method_mut() = http::Method::GET;
    actual
        .headers_mut()
        .insert("x-acs-version", "2099-01-01".parse().unwrap());
    actual
        .headers_mut()
        .insert("user-agent", "test/1".parse().unwrap());
    actual.headers_mut().remove("x-acs-action");
    let err = BlockingTransport::send(&replay, actual).unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Other);
    let message = err.to_string();
    for expected in [
        "request 1 does not match the recording",
        "method: expected POST, got GET",
        r#"query parameter `InvokeId`: expected ["t-1"], got ["t-2"]"#,
        r#"header `x-acs-version`: expected ["2014-05-26"], got ["2099-01-01"]"#,
        r#"header `x-acs-action`: expected ["DescribeInvocationResults"], missing"#,
        r#"header `user-agent`: not expected, got ["test/1"]"#,
    ] {
        assert!(
            message.contains(expected),
            "missing {expected:?} in: {message}"
        );
    }
    // Signature material is never reported as a difference.
    assert!(!message.contains("nonce"), "{message}");
    assert!(!message.contains("authorization"), "{message}");

    let problems = replay.check_all_used().unwrap_err();
    assert!(
        problems.contains("method: expected POST, got GET"),
        "{problems}"
    );
}

#[test]
fn path_and_body_differences_are_reported() {
    let recorded = http::Request::post("https://h/a")
        .body(Bytes::from_static(b"RegionId=cn-hangzhou"))
        .unwrap();
    let replay = StaticReplayTransport::new([ReplayEvent::new(recorded, json("{}"))]);
    let actual = http::Request::post("https://h/b")
        .body(Bytes::from_static(b"RegionId=cn-beijing"))
        .unwrap();
    let message = BlockingTransport::send(&replay, actual)
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("path: expected `/a`, got `/b`"),
        "{message}"
    );
    assert!(
        message.contains(
            r#"body: expected 20 bytes "RegionId=cn-hangzhou", got 19 bytes "RegionId=cn-beijing""#
        ),
        "{message}"
    );
}

#[test]
fn extra_ignores_and_parameter_order() {
    let recorded = http::Request::get("https://h/?b=2&a=1&a=0&Stamp=1")
        .header("user-agent", "recorded/1")
        .body(Bytes::new())
        .unwrap();
    let replay = StaticReplayTransport::new([ReplayEvent::new(recorded, json("{}"))])
        .ignore_header("User-Agent")
        .ignore_query_param("Stamp");
    let actual = http::Request::get("http://other:9/?a=0&Stamp=2&a=1&b=%32")
        .header("user-agent", "current/2")
        .body(Bytes::new())
        .unwrap();
    BlockingTransport::send(&replay, actual).unwrap();
    replay.assert_all_used();
}

#[test]
fn unused_and_extra_requests_are_reported() {
    let replay = StaticReplayTransport::new([
        ReplayEvent::new(signed_v1(1, "n", "t", "s"), json("{}")),
        ReplayEvent::new(signed_v1(2, "n", "t", "s"), json("{}")),
    ]);
    assert_eq!(replay.remaining(), 2);
    BlockingTransport::send(&replay, signed_v1(1, "x", "y", "z")).unwrap();
    assert_eq!((replay.used(), replay.remaining()), (1, 1));
    let problems = replay.check_all_used().unwrap_err();
    assert!(
        problems.contains("1 of 2 recorded events were never requested"),
        "{problems}"
    );
    assert!(problems.contains("event 2: POST"), "{problems}");
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| replay.assert_all_used()));
    assert!(
        panic.is_err(),
        "assert_all_used must panic with an unused event"
    );

    BlockingTransport::send(&replay, signed_v1(2, "x", "y", "z")).unwrap();
    replay.assert_all_used();
    let err = BlockingTransport::send(&replay, signed_v1(3, "x", "y", "z")).unwrap_err();
    assert!(err.to_string().contains("request 3"), "{err}");
    assert!(
        err.to_string().contains("holds 2 events and all were used"),
        "{err}"
    );
    assert!(replay.check_all_used().is_err());
    assert_eq!(replay.actual_requests().len(), 3);
}

#[test]
fn capture_records_requests_and_answers_with_the_configured_response() {
    let capture = CaptureTransport::new().with_response(
        http::Response::builder()
            .status(503)
            .header("x-acs-request-id", "r-9")
            .body(Bytes::from_static(b"busy"))
            .unwrap(),
    );
    assert_eq!(capture.request_count(), 0);
    assert!(capture.last_request().is_none());
    let response = block_on(Transport::send(&capture, signed_v3("t-1", "n", "d", "s"))).unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["x-acs-request-id"], "r-9");
    let response = BlockingTransport::send(&capture, signed_v1(7, "n", "t", "s")).unwrap();
    assert_eq!(response.body().as_ref(), b"busy");

    let requests = capture.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[0].headers()["x-acs-action"],
        "DescribeInvocationResults"
    );
    assert!(requests[1].uri().query().unwrap().contains("PageNumber=7"));
    assert_eq!(capture.last_request().unwrap().uri(), requests[1].uri());
    assert_eq!(capture.take_requests().len(), 2);
    assert_eq!(capture.request_count(), 0);

    let default = CaptureTransport::default();
    let response = BlockingTransport::send(&default, signed_v1(1, "n", "t", "s")).unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.body().is_empty());
}
