//! `Client::full_output` over a scripted OSS (a `StreamingTransport` double):
//! the object streamed byte-exact, resumed with `Range` after a cut, the size
//! checked against `Content-Length`, retries of 5xx answers, the signature,
//! and every reason the complete output cannot be given.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use ecs_assist::config::{BodyStream, StreamingFuture, StreamingTransport};
use ecs_assist::{
    Client, ContentEncoding, FullOutputErrorKind, FullOutputSource, InvocationResult, RetryConfig,
};
use ecs_transport::test_util::CaptureTransport;
use ecs_transport::{TransportError, TransportErrorKind};

/// What the scripted OSS does with one request.
#[derive(Debug, Clone)]
enum Act {
    /// Serve the object (honouring `Range`), cutting the body with an I/O
    /// error after this many bytes of it.
    Serve { cut_after: Option<usize> },
    /// Serve the object but end the body cleanly after this many bytes.
    Short(usize),
    /// Answer with an error document.
    Error(u16, &'static str),
    /// Answer 200 to a `Range` request, from the start of the object.
    IgnoreRange,
    /// Serve (honouring `Range`) another version of the object: the same
    /// size, another ETag and Last-Modified, ignoring `If-Match`.
    NewVersion,
    /// Resume (206, the same ETag) as if the object were 10 bytes longer.
    OtherSize,
}

/// The ETag and Last-Modified the scripted OSS sends by default.
const ETAG: &str = "\"5B3C1A2E053D763E1B002CC607C5A0FE\"";
const MODIFIED: &str = "Mon, 07 Dec 2026 06:14:26 GMT";

#[derive(Debug)]
struct FakeOss {
    object: Bytes,
    script: Mutex<Vec<Act>>,
    requests: Mutex<Vec<http::Request<Bytes>>>,
    /// The ETag and Last-Modified of the object, when sent.
    validators: (Option<&'static str>, Option<&'static str>),
}

impl FakeOss {
    fn new(object: Bytes, script: Vec<Act>) -> Arc<Self> {
        Self::with_validators(object, script, (Some(ETAG), Some(MODIFIED)))
    }

    fn with_validators(
        object: Bytes,
        script: Vec<Act>,
        validators: (Option<&'static str>, Option<&'static str>),
    ) -> Arc<Self> {
        Arc::new(Self {
            object,
            script: Mutex::new(script),
            requests: Mutex::default(),
            validators,
        })
    }

    /// The value of `name` in each request.
    fn header_of_each(&self, name: &str) -> Vec<Option<String>> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .map(|r| {
                r.headers()
                    .get(name)
                    .map(|v| v.to_str().unwrap().to_owned())
            })
            .collect()
    }

    fn ranges(&self) -> Vec<Option<String>> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .map(|r| {
                r.headers()
                    .get("range")
                    .map(|v| v.to_str().unwrap().to_owned())
            })
            .collect()
    }
}

fn chunks(data: Bytes, cut: Option<usize>) -> BodyStream {
    let mut parts: Vec<Result<Bytes, TransportError>> = Vec::new();
    let end = cut.unwrap_or(data.len()).min(data.len());
    for start in (0..end).step_by(1000) {
        parts.push(Ok(data.slice(start..(start + 1000).min(end))));
    }
    if cut.is_some() {
        parts.push(Err(TransportError::new(
            TransportErrorKind::Io,
            "connection reset",
        )));
    }
    BodyStream::from_chunks(parts)
}

impl StreamingTransport for FakeOss {
    fn send_streaming(&self, request: http::Request<Bytes>) -> StreamingFuture<'_> {
        let range = request
            .headers()
            .get("range")
            .map(|v| v.to_str().unwrap().to_owned());
        self.requests.lock().unwrap().push(request);
        let act = {
            let mut script = self.script.lock().unwrap();
            if script.is_empty() {
                Act::Serve { cut_after: None }
            } else {
                script.remove(0)
            }
        };
        let total = self.object.len();
        let with_validators = |mut builder: http::response::Builder| {
            if let Some(etag) = self.validators.0 {
                builder = builder.header("etag", etag);
            }
            if let Some(modified) = self.validators.1 {
                builder = builder.header("last-modified", modified);
            }
            builder
        };
        let start: usize = range
            .as_deref()
            .and_then(|r| r.strip_prefix("bytes="))
            .and_then(|r| r.strip_suffix('-'))
            .map_or(0, |s| s.parse().unwrap());
        let response = match act {
            Act::Serve { cut_after } => {
                let part = self.object.slice(start..);
                let mut builder = with_validators(http::Response::builder())
                    .status(if range.is_some() { 206 } else { 200 })
                    .header("content-length", part.len());
                if range.is_some() {
                    builder = builder.header(
                        "content-range",
                        format!("bytes {start}-{}/{total}", total - 1),
                    );
                }
                builder.body(chunks(part, cut_after)).unwrap()
            }
            Act::Short(n) => with_validators(http::Response::builder())
                .status(if range.is_some() { 206 } else { 200 })
                .header("content-length", total - start)
                .header("content-range", format!("bytes {start}-{}/{total}", total - 1))
                .body(chunks(self.object.slice(start..(start + n).min(total)), None))
                .unwrap(),
            Act::IgnoreRange => with_validators(http::Response::builder())
                .status(200)
                .header("content-length", total)
                .body(chunks(self.object.clone(), None))
                .unwrap(),
            Act::NewVersion => {
                let other: Bytes = self.object.iter().map(|b| b ^ 1).collect::<Vec<u8>>().into();
                http::Response::builder()
                    .status(206)
                    .header("etag", "\"00000000000000000000000000000002\"")
                    .header("last-modified", "Mon, 07 Dec 2026 06:20:00 GMT")
                    .header("content-length", total - start)
                    .header("content-range", format!("bytes {start}-{}/{total}", total - 1))
                    .body(chunks(other.slice(start..), None))
                    .unwrap()
            }
            Act::OtherSize => with_validators(http::Response::builder())
                .status(206)
                .header("content-length", total + 10 - start)
                .header("content-range", format!("bytes {start}-{}/{}", total + 9, total + 10))
                .body(chunks(self.object.slice(start..), None))
                .unwrap(),
            Act::Error(status, code) => http::Response::builder()
                .status(status)
                .header("x-oss-request-id", "HEADER-ID")
                .body(BodyStream::from_bytes(Bytes::from(format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>{code}</Code>\n  \
                     <Message>scripted {code}</Message>\n  <RequestId>REQ-{status}</RequestId>\n</Error>"
                ))))
                .unwrap(),
        };
        Box::pin(std::future::ready(Ok(response)))
    }
}

fn client(oss: &Arc<FakeOss>) -> Client {
    Client::builder()
        .region("cn-hangzhou")
        .access_key("AKID", "SECRET")
        .transport(CaptureTransport::new())
        .streaming_transport(Arc::clone(oss))
        .retry_config(RetryConfig {
            base_delay: Duration::from_millis(1),
            throttling_base_delay: Duration::from_millis(1),
            ..RetryConfig::default()
        })
        .build()
        .unwrap()
}

fn object(len: usize) -> Bytes {
    (0..len)
        .map(|i| (i * 7 % 251) as u8)
        .collect::<Vec<u8>>()
        .into()
}

fn delivered(uri: &str) -> InvocationResult {
    let mut result = InvocationResult::new("t-1", "i-1");
    result.output = "dHJ1bmNhdGVk".to_owned();
    result.dropped = 1000;
    result.oss_output_delivery = Some("oss://bucket-a/out".to_owned());
    result.oss_output_status = Some("Finished".to_owned());
    result.oss_output_uri = Some(uri.to_owned());
    result
}

async fn read_all(
    client: &Client,
    result: &InvocationResult,
) -> Result<Vec<u8>, ecs_assist::FullOutputError> {
    let mut output = client.full_output(result).send().await?;
    let mut all = Vec::new();
    while let Some(chunk) = output.chunk().await {
        all.extend_from_slice(&chunk?);
    }
    Ok(all)
}

#[tokio::test]
async fn the_object_is_streamed_byte_exact_and_signed_for_oss() {
    let data = object(50_000);
    let oss = FakeOss::new(data.clone(), vec![]);
    let client = client(&oss);
    let result = delivered("oss://bucket-a/out/t-1/i-1.txt");
    let mut output = client.full_output(&result).send().await.unwrap();
    assert_eq!(output.content_length(), Some(50_000));
    assert!(matches!(output.source(), FullOutputSource::Oss(o) if o.key() == "out/t-1/i-1.txt"));
    let mut all = Vec::new();
    let mut chunks = 0;
    while let Some(chunk) = output.chunk().await {
        all.extend_from_slice(&chunk.unwrap());
        chunks += 1;
    }
    assert_eq!(all, data);
    assert!(chunks > 1, "handed out as it arrives, not as one buffer");
    let requests = oss.requests.lock().unwrap();
    let sent = &requests[0];
    assert_eq!(
        sent.uri().to_string(),
        "https://bucket-a.oss-cn-hangzhou.aliyuncs.com/out/t-1/i-1.txt"
    );
    let auth = sent.headers()["authorization"].to_str().unwrap();
    assert!(
        auth.starts_with("OSS4-HMAC-SHA256 Credential=AKID/")
            && auth.contains("/cn-hangzhou/oss/aliyun_v4_request"),
        "{auth}"
    );
    assert!(!auth.contains("SECRET"));
}

#[tokio::test]
async fn a_cut_body_is_resumed_with_range_from_the_bytes_received() {
    let data = object(30_000);
    let oss = FakeOss::new(
        data.clone(),
        vec![
            Act::Serve {
                cut_after: Some(12_000),
            },
            Act::Serve {
                cut_after: Some(5_000),
            },
        ],
    );
    let all = read_all(&client(&oss), &delivered("oss://bucket-a/k"))
        .await
        .unwrap();
    assert_eq!(all, data);
    assert_eq!(
        oss.ranges(),
        [
            None,
            Some("bytes=12000-".to_owned()),
            Some("bytes=17000-".to_owned())
        ]
    );
}

#[tokio::test]
async fn a_server_that_ignores_range_is_read_from_where_the_cut_was() {
    let data = object(10_000);
    let oss = FakeOss::new(
        data.clone(),
        vec![
            Act::Serve {
                cut_after: Some(4_000),
            },
            Act::IgnoreRange,
        ],
    );
    let all = read_all(&client(&oss), &delivered("oss://bucket-a/k"))
        .await
        .unwrap();
    assert_eq!(all, data);
}

#[tokio::test]
async fn a_body_shorter_than_content_length_is_resumed_then_reported() {
    let data = object(10_000);
    // Short once: resumed and completed.
    let oss = FakeOss::new(data.clone(), vec![Act::Short(3_000)]);
    assert_eq!(
        read_all(&client(&oss), &delivered("oss://bucket-a/k"))
            .await
            .unwrap(),
        data
    );
    // Short every time, without progress: an Incomplete error, not a
    // silently short output.
    let oss = FakeOss::new(
        data,
        vec![Act::Short(3_000); 1]
            .into_iter()
            .chain(vec![Act::Short(0); 10])
            .collect(),
    );
    let err = read_all(&client(&oss), &delivered("oss://bucket-a/k"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), FullOutputErrorKind::Incomplete, "{err}");
    assert!(err.to_string().contains("3000 of the 10000 bytes"), "{err}");
}

#[tokio::test]
async fn server_errors_are_retried_and_final_ones_are_typed() {
    let data = object(2_000);
    let oss = FakeOss::new(
        data.clone(),
        vec![
            Act::Error(503, "ServiceUnavailable"),
            Act::Error(500, "InternalError"),
        ],
    );
    assert_eq!(
        read_all(&client(&oss), &delivered("oss://bucket-a/k"))
            .await
            .unwrap(),
        data
    );
    assert_eq!(oss.requests.lock().unwrap().len(), 3);

    for (status, code) in [
        (404, "NoSuchKey"),
        (403, "AccessDenied"),
        (403, "SignatureDoesNotMatch"),
    ] {
        let oss = FakeOss::new(data.clone(), vec![Act::Error(status, code)]);
        let err = client(&oss)
            .full_output(&delivered("oss://bucket-a/k"))
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), FullOutputErrorKind::Oss);
        assert_eq!(err.code(), Some(code));
        assert_eq!(err.http_status(), Some(status));
        assert_eq!(err.request_id(), Some(format!("REQ-{status}").as_str()));
        assert!(err.to_string().contains(code), "{err}");
        assert_eq!(
            oss.requests.lock().unwrap().len(),
            1,
            "{code} is not retried"
        );
    }
}

#[tokio::test]
async fn every_reason_without_an_object_is_its_own_kind() {
    let oss = FakeOss::new(object(10), vec![]);
    let client = client(&oss);
    let mut not_configured = delivered("oss://bucket-a/k");
    not_configured.oss_output_delivery = None;
    not_configured.oss_output_status = None;
    not_configured.oss_output_uri = None;
    let mut in_progress = delivered("");
    in_progress.oss_output_status = Some("InProgress".to_owned());
    let mut failed = delivered("");
    failed.oss_output_status = Some("Failed".to_owned());
    failed.oss_output_error_code = Some("NoSuchBucket".to_owned());
    failed.oss_output_error_info = Some("the bucket does not exist".to_owned());
    let bad_uri = delivered("ftp://bucket-a/k");
    let no_uri = delivered(" ");
    for (result, kind, says) in [
        (
            not_configured,
            FullOutputErrorKind::NotConfigured,
            "not started with OssOutputDelivery",
        ),
        (in_progress, FullOutputErrorKind::InProgress, "InProgress"),
        (
            failed,
            FullOutputErrorKind::DeliveryFailed,
            "NoSuchBucket: the bucket does not exist",
        ),
        (bad_uri, FullOutputErrorKind::BadUri, "unknown form"),
        (no_uri, FullOutputErrorKind::BadUri, "OssOutputUri is empty"),
    ] {
        let err = client.full_output(&result).send().await.unwrap_err();
        assert_eq!(err.kind(), kind, "{err}");
        assert!(err.to_string().contains(says), "{err}");
    }
    assert_eq!(oss.requests.lock().unwrap().len(), 0, "nothing was sent");
}

#[tokio::test]
async fn output_that_was_not_truncated_is_given_inline() {
    let oss = FakeOss::new(object(10), vec![]);
    let client = client(&oss);
    let mut result = InvocationResult::new("t-1", "i-1");
    result.output = "aGVsbG8K".to_owned();
    let all = read_all(&client, &result).await.unwrap();
    assert_eq!(all, b"hello\n");
    result.output = "plain text".to_owned();
    let mut output = client
        .full_output(&result)
        .content_encoding(ContentEncoding::PlainText)
        .send()
        .await
        .unwrap();
    assert_eq!(output.source(), &FullOutputSource::Inline);
    assert_eq!(
        output.chunk().await.unwrap().unwrap().as_ref(),
        b"plain text"
    );
    assert!(output.chunk().await.is_none());
    assert_eq!(oss.requests.lock().unwrap().len(), 0);
}

#[tokio::test]
async fn the_endpoint_type_and_override_choose_the_host() {
    let oss = FakeOss::new(object(10), vec![]);
    let vpc = Client::builder()
        .region("cn-beijing")
        .endpoint_type(ecs_assist::EndpointType::Vpc)
        .access_key("AKID", "SECRET")
        .transport(CaptureTransport::new())
        .streaming_transport(Arc::clone(&oss))
        .build()
        .unwrap();
    read_all(&vpc, &delivered("oss://bucket-a/k"))
        .await
        .unwrap();
    let local = Client::builder()
        .region("cn-beijing")
        .oss_endpoint("http://127.0.0.1:9")
        .access_key("AKID", "SECRET")
        .transport(CaptureTransport::new())
        .streaming_transport(Arc::clone(&oss))
        .build()
        .unwrap();
    read_all(&local, &delivered("oss://bucket-a/k"))
        .await
        .unwrap();
    let uris: Vec<String> = oss
        .requests
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.uri().to_string())
        .collect();
    assert_eq!(
        uris,
        [
            "https://bucket-a.oss-cn-beijing-internal.aliyuncs.com/k",
            "http://127.0.0.1:9/bucket-a/k"
        ]
    );
    let err = Client::builder()
        .region("cn-beijing")
        .oss_endpoint("ftp://x")
        .access_key("AKID", "SECRET")
        .transport(CaptureTransport::new())
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("OSS endpoint `ftp://x`"), "{err}");
}

/// Reads `result` chunk by chunk: the bytes handed out before the first
/// error, and that error.
async fn read_until_error(
    client: &Client,
    result: &InvocationResult,
) -> (Vec<u8>, ecs_assist::FullOutputError) {
    let mut output = client.full_output(result).send().await.unwrap();
    let mut given = Vec::new();
    while let Some(chunk) = output.chunk().await {
        match chunk {
            Ok(chunk) => given.extend_from_slice(&chunk),
            Err(error) => return (given, error),
        }
    }
    panic!("read {} bytes without an error", given.len());
}

#[tokio::test]
async fn a_resume_holds_to_the_first_version_with_if_match() {
    let data = object(30_000);
    let oss = FakeOss::new(
        data.clone(),
        vec![Act::Serve {
            cut_after: Some(12_000),
        }],
    );
    let all = read_all(&client(&oss), &delivered("oss://bucket-a/k"))
        .await
        .unwrap();
    assert_eq!(all, data);
    assert_eq!(
        oss.header_of_each("if-match"),
        [None, Some(ETAG.to_owned())],
        "the first request has nothing to hold to; the resume holds to its ETag"
    );
    assert_eq!(oss.header_of_each("if-unmodified-since"), [None, None]);
}

#[tokio::test]
async fn an_object_replaced_before_the_resume_is_changed_never_spliced() {
    let data = object(30_000);
    // OSS refuses the resume: the object no longer has the first ETag.
    let oss = FakeOss::new(
        data.clone(),
        vec![
            Act::Serve {
                cut_after: Some(12_000),
            },
            Act::Error(412, "PreconditionFailed"),
        ],
    );
    let (given, err) = read_until_error(&client(&oss), &delivered("oss://bucket-a/k")).await;
    assert_eq!(given, data[..12_000], "only bytes of the first version");
    assert_eq!(err.kind(), FullOutputErrorKind::Changed, "{err}");
    assert_eq!(err.code(), Some("PreconditionFailed"));
    assert_eq!(err.http_status(), Some(412));
    assert_eq!(err.request_id(), Some("REQ-412"));
    let text = err.to_string();
    assert!(
        text.contains(
            "oss://bucket-a/k, the complete output of i-1 (t-1), changed while it was read"
        ) && text.contains(&format!("`if-match: {ETAG}`"))
            && text.contains("nothing after byte 12000 was used"),
        "{text}"
    );
    assert_eq!(
        oss.requests.lock().unwrap().len(),
        2,
        "a 412 is not retried"
    );

    // A server that ignores If-Match and sends the new version: its ETag
    // tells, as the official SDKs' readers check.
    let oss = FakeOss::new(
        data.clone(),
        vec![
            Act::Serve {
                cut_after: Some(5_000),
            },
            Act::NewVersion,
        ],
    );
    let (given, err) = read_until_error(&client(&oss), &delivered("oss://bucket-a/k")).await;
    assert_eq!(given, data[..5_000]);
    assert_eq!(err.kind(), FullOutputErrorKind::Changed, "{err}");
    assert!(
        err.to_string().contains(&format!(
            "ETag {ETAG} then \"00000000000000000000000000000002\""
        )),
        "{err}"
    );

    // A resume that names another size is another version, whatever the
    // validators say.
    let oss = FakeOss::new(
        data.clone(),
        vec![
            Act::Serve {
                cut_after: Some(7_000),
            },
            Act::OtherSize,
        ],
    );
    let (given, err) = read_until_error(&client(&oss), &delivered("oss://bucket-a/k")).await;
    assert_eq!(given, data[..7_000]);
    assert_eq!(err.kind(), FullOutputErrorKind::Changed, "{err}");
    assert!(
        err.to_string().contains(
            "its size was 30000 bytes, and the resumed answer says `bytes 7000-30009/30010`"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn without_an_etag_a_resume_holds_to_last_modified_and_without_either_is_refused() {
    let data = object(30_000);
    let cut = || {
        vec![Act::Serve {
            cut_after: Some(10_000),
        }]
    };
    let oss = FakeOss::with_validators(data.clone(), cut(), (None, Some(MODIFIED)));
    let all = read_all(&client(&oss), &delivered("oss://bucket-a/k"))
        .await
        .unwrap();
    assert_eq!(all, data);
    assert_eq!(oss.header_of_each("if-match"), [None, None]);
    assert_eq!(
        oss.header_of_each("if-unmodified-since"),
        [None, Some(MODIFIED.to_owned())]
    );

    let oss = FakeOss::with_validators(data.clone(), cut(), (None, None));
    let (given, err) = read_until_error(&client(&oss), &delivered("oss://bucket-a/k")).await;
    assert_eq!(given, data[..10_000]);
    assert_eq!(err.kind(), FullOutputErrorKind::Incomplete, "{err}");
    assert!(
        err.to_string()
            .contains("neither an ETag nor a Last-Modified")
            && err
                .to_string()
                .contains("nothing after byte 10000 was used"),
        "{err}"
    );
    assert_eq!(oss.requests.lock().unwrap().len(), 1, "no resume was sent");
}

#[tokio::test]
async fn the_blocking_full_output_refuses_to_block_a_runtime_thread() {
    let client = ecs_assist::blocking::Client::builder()
        .region("cn-hangzhou")
        .access_key("AKID", "SECRET")
        .build()
        .unwrap();
    let mut result = InvocationResult::new("t-1", "i-1");
    result.output = "aGVsbG8K".to_owned();
    let err = client.full_output(&result).send().unwrap_err();
    assert_eq!(err.kind(), FullOutputErrorKind::InvalidConfig, "{err}");
    assert!(
        err.to_string().contains("tokio::task::spawn_blocking"),
        "{err}"
    );
}
