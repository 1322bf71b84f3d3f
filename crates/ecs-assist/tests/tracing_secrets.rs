//! All tracing output at trace level, for successful, retried and failed
//! calls in both signature versions, never holds the secret, the security
//! token or a signature.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use ecs_assist::{Client, SignatureVersion};
use ecs_transport::CaptureTransport;
use tracing_subscriber::fmt::MakeWriter;

const SECRET: &str = "VerySecretAccessKeySecret42";
const TOKEN: &str = "CAIS+StsSecurityTokenValue/w==";

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buffer {
    type Writer = Buffer;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Backoff without waiting: this test is about what is logged.
#[derive(Debug)]
struct NoSleep;

impl ecs_assist::AsyncSleep for NoSleep {
    fn sleep(&self, _: Duration) -> ecs_assist::SleepFuture {
        Box::pin(std::future::ready(()))
    }
}

#[tokio::test]
async fn secrets_and_signatures_never_reach_the_logs() {
    let buffer = Buffer::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(buffer.clone())
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut signatures = Vec::new();
    for version in [SignatureVersion::V3, SignatureVersion::V1] {
        let reply = http::Response::builder()
            .status(503)
            .header("content-type", "application/json")
            .body(Bytes::from_static(
                br#"{"RequestId":"R-503","Code":"ServiceUnavailable","Message":"busy"}"#,
            ))
            .unwrap();
        let transport = Arc::new(CaptureTransport::new().with_response(reply));
        let client = Client::builder()
            .region("cn-hangzhou")
            .credentials_provider(
                ecs_assist::StaticCredentialsProvider::new("AKIDPUBLIC", SECRET)
                    .unwrap()
                    .with_security_token(TOKEN)
                    .unwrap(),
            )
            .signature_version(version)
            .transport(Arc::clone(&transport))
            .sleep(NoSleep)
            .retry_config(ecs_assist::RetryConfig {
                base_delay: Duration::from_millis(1),
                max_delay: Duration::from_millis(2),
                throttling_base_delay: Duration::from_millis(1),
                ..ecs_assist::RetryConfig::default()
            })
            .build()
            .unwrap();
        let err = tokio::time::timeout(
            Duration::from_secs(10),
            client.describe_invocation_results().invoke_id("t-1").send(),
        )
        .await
        .unwrap()
        .unwrap_err();
        assert_eq!(err.attempts(), 4);
        let text = format!("{err} {err:?} {client:?}");
        assert!(!text.contains(SECRET) && !text.contains(TOKEN), "{text}");
        let prepared = client
            .describe_invocation_results()
            .prepare()
            .await
            .unwrap();
        let shown = format!("{prepared} {prepared:?}");
        assert!(!shown.contains(SECRET) && !shown.contains(TOKEN), "{shown}");
        for request in transport.requests() {
            let signature = match version {
                SignatureVersion::V3 => request.headers()["authorization"]
                    .to_str()
                    .unwrap()
                    .rsplit_once("Signature=")
                    .unwrap()
                    .1
                    .to_owned(),
                _ => request
                    .uri()
                    .query()
                    .unwrap()
                    .rsplit_once("Signature=")
                    .unwrap()
                    .1
                    .to_owned(),
            };
            assert!(!shown.contains(&signature));
            signatures.push(signature);
        }
    }
    let logs = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("ecs_assist.attempt"),
        "spans are logged: {logs}"
    );
    assert!(logs.contains("R-503"), "request ids are logged");
    assert!(logs.contains("attempt=4"), "attempt numbers are logged");
    assert!(
        logs.contains("attempts=4 request_id=\"R-503\""),
        "the call span ends with its outcome"
    );
    assert!(logs.contains("status=503"), "statuses are logged");
    assert!(!logs.contains(SECRET), "secret leaked");
    assert!(!logs.contains(TOKEN), "token leaked");
    assert!(!logs.contains("CAIS"), "token prefix leaked");
    assert_eq!(signatures.len(), 8);
    for signature in &signatures {
        assert!(
            !logs.contains(signature.as_str()),
            "signature {signature} leaked"
        );
    }
}
