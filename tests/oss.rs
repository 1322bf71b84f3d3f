//! OSS delivery end to end: the emulator lists a delivered output truncated
//! with `Dropped`, `OssOutputStatus` and `OssOutputUri`, serves the object
//! over a signed `GetObject` (with `Range`), refuses what OSS refuses with
//! its XML error codes, applies its faults, and `Client::full_output` reads
//! it back byte-exact through them.

use bytes::Bytes;
use ecs_assist::{Client, ContentEncoding, FullOutputErrorKind, InvocationResult};
use ecs_emulator::{DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, DataSet, Emulator, EmulatorHandle};
use futures::TryStreamExt as _;
use http_body_util::Full;

use crate::support::send;

/// 95 000 bytes of text, every line numbered, so a misplaced range shows.
fn long_output() -> String {
    (0..5_000).map(|i| format!("line {i:07}, xxxx\n")).collect()
}

fn data() -> DataSet {
    let out = long_output();
    let json = serde_json::json!({"invocations": [
        {"invoke_id": "t-oss", "command_id": "c-oss", "oss_output_delivery": "oss://out-bucket/runs",
         "results": [
            {"instance_id": "i-long", "status": "Success", "exit_code": 0, "output": out},
            {"instance_id": "i-short", "status": "Success", "exit_code": 0, "output": "short\n"},
            {"instance_id": "i-gone", "status": "Success", "output": out,
             "oss_output_uri": "oss://out-bucket/runs/deleted.txt"},
            {"instance_id": "i-failed", "status": "Success", "output": out,
             "oss_output_status": "Failed", "oss_output_error_code": "NoSuchBucket",
             "oss_output_error_info": "the bucket does not exist"},
            {"instance_id": "i-running", "status": "Success", "output": out, "running_for_ms": 3_600_000},
            {"instance_id": "i-delivering", "status": "Success", "output": out, "oss_output_status": "InProgress"}
         ]},
        {"invoke_id": "t-plain", "command_id": "c-plain",
         "results": [{"instance_id": "i-plain", "status": "Success", "output": out}]}
    ]});
    DataSet::from_json(&json.to_string()).unwrap()
}

async fn start(faults: &[&str]) -> EmulatorHandle {
    let mut builder = Emulator::builder().data(data());
    for fault in faults {
        builder = builder.fault(fault.parse().unwrap());
    }
    builder.start().await.unwrap()
}

fn client(emulator: &EmulatorHandle, secret: &str) -> Client {
    Client::builder()
        .region("cn-hangzhou")
        .endpoint(emulator.url())
        .oss_endpoint(emulator.url())
        .access_key(DEMO_ACCESS_KEY_ID, secret)
        .build()
        .unwrap()
}

async fn results(client: &Client) -> Vec<InvocationResult> {
    client
        .describe_invocation_results()
        .content_encoding(ContentEncoding::PlainText)
        .into_paginator()
        .items()
        .try_collect()
        .await
        .unwrap()
}

fn of<'a>(results: &'a [InvocationResult], instance: &str) -> &'a InvocationResult {
    results.iter().find(|r| r.instance_id == instance).unwrap()
}

async fn full(
    client: &Client,
    result: &InvocationResult,
) -> Result<Vec<u8>, ecs_assist::FullOutputError> {
    let mut output = client
        .full_output(result)
        .content_encoding(ContentEncoding::PlainText)
        .send()
        .await?;
    let mut all = Vec::new();
    while let Some(chunk) = output.chunk().await {
        all.extend_from_slice(&chunk?);
    }
    Ok(all)
}

#[tokio::test]
async fn a_delivered_output_is_listed_truncated_and_read_whole_from_oss() {
    let emulator = start(&[]).await;
    let client = client(&emulator, DEMO_ACCESS_KEY_SECRET);
    let listed = results(&client).await;
    let long = of(&listed, "i-long");
    assert_eq!(long.output.len(), 24 * 1024);
    assert_eq!(long.dropped, 95_000 - 24 * 1024);
    assert_eq!(
        long.oss_output_delivery.as_deref(),
        Some("oss://out-bucket/runs")
    );
    assert_eq!(long.oss_output_status.as_deref(), Some("Finished"));
    assert_eq!(
        long.oss_output_uri.as_deref(),
        Some("oss://out-bucket/runs/t-oss/i-long.txt")
    );
    assert_eq!(full(&client, long).await.unwrap(), long_output().as_bytes());
    // Not truncated: the listing's own Output, no request to OSS.
    assert_eq!(
        full(&client, of(&listed, "i-short")).await.unwrap(),
        b"short\n"
    );
    assert_eq!(
        of(&listed, "i-running").oss_output_status.as_deref(),
        Some("InProgress")
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn every_failure_is_the_error_oss_or_the_listing_says() {
    let emulator = start(&[]).await;
    let good = client(&emulator, DEMO_ACCESS_KEY_SECRET);
    let listed = results(&good).await;
    let kind_and_code = |r: Result<Vec<u8>, ecs_assist::FullOutputError>| {
        let e = r.unwrap_err();
        (e.kind(), e.code().map(str::to_owned))
    };
    assert_eq!(
        kind_and_code(full(&good, of(&listed, "i-gone")).await),
        (FullOutputErrorKind::Oss, Some("NoSuchKey".to_owned()))
    );
    assert_eq!(
        kind_and_code(full(&good, of(&listed, "i-failed")).await),
        (
            FullOutputErrorKind::DeliveryFailed,
            Some("NoSuchBucket".to_owned())
        )
    );
    assert_eq!(
        kind_and_code(full(&good, of(&listed, "i-delivering")).await).0,
        FullOutputErrorKind::InProgress
    );
    assert_eq!(
        kind_and_code(full(&good, of(&listed, "i-plain")).await).0,
        FullOutputErrorKind::NotConfigured
    );
    let wrong = client(&emulator, "not-the-secret");
    assert_eq!(
        kind_and_code(full(&wrong, of(&listed, "i-long")).await),
        (
            FullOutputErrorKind::Oss,
            Some("SignatureDoesNotMatch".to_owned())
        )
    );
    // Unsigned: AccessDenied, in OSS's XML document.
    let request = http::Request::get(format!(
        "{}/out-bucket/runs/t-oss/i-long.txt",
        emulator.url()
    ))
    .header("host", emulator.addr().to_string())
    .body(Full::new(Bytes::new()))
    .unwrap();
    let reply = send(emulator.addr(), request).await;
    assert_eq!(reply.status, 403);
    let text = String::from_utf8_lossy(&reply.body);
    assert!(
        text.contains("<Code>AccessDenied</Code>") && text.contains("<RequestId>"),
        "{text}"
    );
    assert_eq!(reply.headers["content-type"], "application/xml");
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_connection_cut_in_the_middle_is_resumed_with_range() {
    // The first OSS answer stops halfway and the connection closes; the
    // client asks for the rest with Range and gets a 206.
    let emulator = start(&["truncate:x1:on=oss"]).await;
    let client = client(&emulator, DEMO_ACCESS_KEY_SECRET);
    let listed = results(&client).await;
    let before = emulator.requests();
    assert_eq!(
        full(&client, of(&listed, "i-long")).await.unwrap(),
        long_output().as_bytes()
    );
    assert_eq!(
        emulator.requests() - before,
        2,
        "one cut answer, one resumed"
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn oss_server_errors_are_retried() {
    let emulator = start(&["error503:x2:on=oss"]).await;
    let client = client(&emulator, DEMO_ACCESS_KEY_SECRET);
    let listed = results(&client).await;
    assert_eq!(
        full(&client, of(&listed, "i-long")).await.unwrap(),
        long_output().as_bytes()
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn generated_data_has_a_few_delivered_outputs() {
    let emulator = Emulator::builder().generate(1_000).start().await.unwrap();
    let client = client(&emulator, DEMO_ACCESS_KEY_SECRET);
    let listed: Vec<InvocationResult> = client
        .describe_invocation_results()
        .into_paginator()
        .items()
        .try_collect()
        .await
        .unwrap();
    let delivered: Vec<&InvocationResult> = listed
        .iter()
        .filter(|r| r.oss_output_uri.is_some())
        .collect();
    assert_eq!(delivered.len(), 100, "one invocation in ten");
    let truncated: Vec<&&InvocationResult> = delivered.iter().filter(|r| r.dropped > 0).collect();
    assert_eq!(truncated.len(), 1);
    let whole = full(&client, truncated[0]).await.unwrap();
    assert_eq!(whole.len() as i64, 24 * 1024 + truncated[0].dropped);
    emulator.shutdown().await;
}
