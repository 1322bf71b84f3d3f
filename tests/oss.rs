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

use crate::support::{Reply, send};

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

/// A GET of `path` (path style) signed for OSS with the demo key, with
/// `headers` added (and signed when they are OSS's default-signed ones).
async fn signed_get(emulator: &EmulatorHandle, path: &str, headers: &[(&str, &str)]) -> Reply {
    let (bucket, key) = path.split_once('/').unwrap();
    let credentials =
        ecs_sign::Credentials::new(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET).unwrap();
    let unsigned = ecs_sign::oss_v4::OssRequest::new("GET", bucket, key).with_headers(headers);
    let added = ecs_sign::oss_v4::sign(
        &unsigned,
        &credentials,
        ecs_sign::TimeSource::now(&ecs_sign::SystemTimeSource),
        "cn-hangzhou",
    )
    .unwrap();
    let mut request = http::Request::get(format!("{}/{path}", emulator.url()))
        .header("host", emulator.addr().to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    for (name, value) in &added {
        request = request.header(*name, value);
    }
    send(
        emulator.addr(),
        request.body(Full::new(Bytes::new())).unwrap(),
    )
    .await
}

fn header<'a>(reply: &'a Reply, name: &str) -> &'a str {
    reply
        .headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name}: {:?}", reply.headers))
        .to_str()
        .unwrap()
}

const LONG_KEY: &str = "out-bucket/runs/t-oss/i-long.txt";

#[tokio::test]
async fn objects_carry_an_etag_and_last_modified_and_if_match_is_honoured() {
    let emulator = start(&[]).await;
    let whole = signed_get(&emulator, LONG_KEY, &[]).await;
    assert_eq!(whole.status, 200);
    let etag = header(&whole, "etag").to_owned();
    // OSS's form: the quoted upper-case hex of a digest of the content.
    assert!(
        etag.len() == 34
            && etag.starts_with('"')
            && etag.ends_with('"')
            && etag[1..33]
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()),
        "{etag}"
    );
    let modified = header(&whole, "last-modified").to_owned();
    assert!(modified.ends_with(" GMT"), "{modified}");

    let same = signed_get(
        &emulator,
        LONG_KEY,
        &[("range", "bytes=100-"), ("if-match", &etag)],
    )
    .await;
    assert_eq!(same.status, 206);
    assert_eq!(same.body, long_output().as_bytes()[100..]);
    assert_eq!(header(&same, "etag"), etag);
    // Not modified since its Last-Modified: served.
    let unmodified = signed_get(
        &emulator,
        LONG_KEY,
        &[("range", "bytes=100-"), ("if-unmodified-since", &modified)],
    )
    .await;
    assert_eq!(unmodified.status, 206);

    for condition in [
        ("if-match", "\"0123456789ABCDEF0123456789ABCDEF\""),
        ("if-unmodified-since", "Mon, 01 Jan 2001 00:00:00 GMT"),
    ] {
        let refused = signed_get(&emulator, LONG_KEY, &[("range", "bytes=100-"), condition]).await;
        assert_eq!(refused.status, 412, "{condition:?}");
        let text = String::from_utf8_lossy(&refused.body);
        assert!(
            text.contains("<Code>PreconditionFailed</Code>")
                && text.contains("At least one of the pre-conditions you specified did not hold")
                && text.contains("<EC>0017-00001001</EC>"),
            "{text}"
        );
        assert_eq!(refused.headers["content-type"], "application/xml");
    }
    emulator.shutdown().await;
}

#[tokio::test]
async fn the_replace_fault_overwrites_the_object_after_its_answer() {
    let emulator = start(&["replace:x1:on=oss"]).await;
    let first = signed_get(&emulator, LONG_KEY, &[]).await;
    assert_eq!(first.status, 200);
    assert_eq!(
        first.body,
        long_output().as_bytes(),
        "answered before the change"
    );
    let second = signed_get(&emulator, LONG_KEY, &[]).await;
    assert_eq!(second.status, 200);
    assert_eq!(second.body.len(), first.body.len(), "the same size");
    assert_ne!(second.body, first.body, "other bytes");
    assert_ne!(header(&second, "etag"), header(&first, "etag"));
    let parse = |reply: &Reply| {
        let format = time::format_description::parse_borrowed::<1>(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT",
        )
        .unwrap();
        time::PrimitiveDateTime::parse(header(reply, "last-modified"), &format).unwrap()
    };
    assert!(parse(&second) > parse(&first), "a later Last-Modified");
    // The first version's validators no longer hold.
    let stale = signed_get(
        &emulator,
        LONG_KEY,
        &[("range", "bytes=10-"), ("if-match", header(&first, "etag"))],
    )
    .await;
    assert_eq!(stale.status, 412);
    emulator.shutdown().await;
}

#[tokio::test]
async fn an_object_replaced_between_two_ranges_is_an_error_never_a_splice() {
    // The first answer is cut halfway, and the object is overwritten (the
    // same size, other bytes) before the client resumes.
    let emulator = start(&["truncate:x1:on=oss", "replace:x1:on=oss"]).await;
    let client = client(&emulator, DEMO_ACCESS_KEY_SECRET);
    let listed = results(&client).await;
    let mut output = client
        .full_output(of(&listed, "i-long"))
        .content_encoding(ContentEncoding::PlainText)
        .send()
        .await
        .unwrap();
    let mut given = Vec::new();
    let error = loop {
        match output.chunk().await {
            Some(Ok(chunk)) => given.extend_from_slice(&chunk),
            Some(Err(error)) => break error,
            None => panic!("the output ended without an error"),
        }
    };
    let original = long_output();
    assert_eq!(given.len(), original.len() / 2, "the cut answer's half");
    assert_eq!(
        given,
        original.as_bytes()[..given.len()],
        "first version only"
    );
    assert_eq!(error.kind(), FullOutputErrorKind::Changed, "{error}");
    assert_eq!(error.code(), Some("PreconditionFailed"));
    assert_eq!(error.http_status(), Some(412));
    let text = error.to_string();
    assert!(
        text.contains("changed while it was read")
            && text.contains(&format!("nothing after byte {} was used", given.len())),
        "{text}"
    );
    assert!(output.chunk().await.is_none(), "nothing after the error");
    // Read again: the new version, whole.
    let again = full(&client, of(&listed, "i-long")).await.unwrap();
    assert_eq!(again.len(), original.len());
    assert_ne!(again, original.as_bytes());
    emulator.shutdown().await;
}

#[test]
fn the_blocking_client_reads_a_delivered_output_through_io_read() {
    use std::io::Read as _;

    // The first OSS answer is cut halfway: the blocking reader resumes it.
    let emulator = Emulator::builder()
        .data(data())
        .fault("truncate:x1:on=oss".parse().unwrap())
        .start_blocking()
        .unwrap();
    let client = ecs_assist::blocking::Client::builder()
        .region("cn-hangzhou")
        .endpoint(emulator.url())
        .access_key(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
        .configure(|b| b.oss_endpoint(emulator.url()))
        .build()
        .unwrap();
    let listed: Vec<InvocationResult> = client
        .describe_invocation_results()
        .content_encoding(ContentEncoding::PlainText)
        .into_paginator()
        .items()
        .collect::<Result<_, _>>()
        .unwrap();
    let long = of(&listed, "i-long");
    assert!(long.dropped > 0);
    let before = emulator.requests();
    let mut output = client
        .full_output(long)
        .content_encoding(ContentEncoding::PlainText)
        .send()
        .unwrap();
    assert_eq!(output.content_length(), Some(95_000));
    assert!(matches!(
        output.source(),
        ecs_assist::FullOutputSource::Oss(_)
    ));
    // Small reads: every byte in order, across chunks and the resume.
    let mut all = Vec::new();
    let mut buf = [0u8; 7];
    loop {
        let n = output.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        all.extend_from_slice(&buf[..n]);
    }
    assert!(all == long_output().as_bytes(), "byte-exact");
    assert_eq!(
        emulator.requests() - before,
        2,
        "one cut answer, one resumed"
    );

    // Not truncated: the listing's own Output.
    let mut short = String::new();
    client
        .full_output(of(&listed, "i-short"))
        .content_encoding(ContentEncoding::PlainText)
        .send()
        .unwrap()
        .read_to_string(&mut short)
        .unwrap();
    assert_eq!(short, "short\n");

    // Replaced between two ranges: an io::Error holding the typed error,
    // after the first version's bytes only; later reads fail the same way.
    emulator.set_faults(vec![
        "truncate:x1:on=oss".parse().unwrap(),
        "replace:x1:on=oss".parse().unwrap(),
    ]);
    let mut output = client
        .full_output(long)
        .content_encoding(ContentEncoding::PlainText)
        .send()
        .unwrap();
    let mut given = Vec::new();
    let error = output.read_to_end(&mut given).unwrap_err();
    assert_eq!(given, long_output().as_bytes()[..95_000 / 2]);
    let typed = error
        .get_ref()
        .and_then(|e| e.downcast_ref::<ecs_assist::FullOutputError>())
        .unwrap();
    assert_eq!(typed.kind(), FullOutputErrorKind::Changed, "{typed}");
    let again = output.read(&mut buf).unwrap_err();
    assert!(
        again.to_string().contains("changed while it was read"),
        "{again}"
    );
    emulator.shutdown();
}
