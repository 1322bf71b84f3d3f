//! The emulator end to end over loopback: the official SDKs' captured
//! requests are accepted exactly as recorded and refused when changed, and
//! every error code the emulator promises is produced by a request that
//! should produce it.

use std::sync::Arc;
use std::time::Duration;

use ecs_emulator::{AccessKey, DataSet, Emulator, EmulatorHandle, Fault};
use ecs_sign::test_util::ManualTimeSource;
use ecs_sign::{Credentials, TimeSource as _};
use time::OffsetDateTime;
use time::macros::datetime;

use crate::support::{
    CAPTURE_TOKEN, Capture, send, try_send, v1_request, v1_request_for, v3_request,
};

/// Data matching what the captures ask for, so a capture gets a real page
/// (and the all-parameters ones reach the NextToken check).
const CAPTURE_DATA: &str = r#"{"invocations":[{
  "invoke_id":"t-hz0jdfwd9f1234","command_id":"c-hz0jdfwcsr1234","region_id":"cn-hangzhou",
  "resource_group_id":"rg-acfm2abc","tags":{"env":"prod test","owner":"张三"},"repeat_mode":"Period",
  "results":[{"instance_id":"i-bp1i7gg30r52z2em1234","status":"Success","exit_code":0,"output":"ok\n"}]
}]}"#;

async fn capture_emulator(
    capture: &Capture,
    with_token: bool,
    at: OffsetDateTime,
) -> EmulatorHandle {
    let mut key = AccessKey::new("testAccessKeyId", "testAccessKeySecret");
    if with_token {
        key = key.with_security_token(CAPTURE_TOKEN);
    }
    let _ = capture;
    Emulator::builder()
        .data(DataSet::from_json(CAPTURE_DATA).unwrap())
        .access_key(key)
        .time_source(ManualTimeSource::new(at))
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn every_official_capture_is_accepted_as_recorded() {
    for capture in Capture::all() {
        let emulator = capture_emulator(&capture, capture.is_sts(), capture.time()).await;
        let reply = send(emulator.addr(), capture.request()).await;
        if capture.name.ends_with("all_params") {
            // The signature passed; the recorded NextToken is not one of ours.
            assert_eq!(reply.status, 400, "{}", capture.name);
            assert_eq!(
                reply.code(),
                "InvalidParameter.NextToken",
                "{}",
                capture.name
            );
        } else {
            let page = reply.page();
            assert_eq!(page.invocation.results.len(), 1, "{}", capture.name);
            assert_eq!(
                page.invocation.results[0].instance_id,
                "i-bp1i7gg30r52z2em1234"
            );
        }
        emulator.shutdown().await;
    }
}

#[tokio::test]
async fn a_capture_changed_by_one_byte_does_not_match() {
    for capture in Capture::all() {
        let emulator = capture_emulator(&capture, capture.is_sts(), capture.time()).await;
        let mut changed = capture.clone();
        assert!(changed.target.contains("t-hz0jdfwd9f1234"));
        changed.target = changed
            .target
            .replace("t-hz0jdfwd9f1234", "t-hz0jdfwd9f1235");
        let reply = send(emulator.addr(), changed.request()).await;
        assert_eq!(reply.status, 400, "{}", capture.name);
        assert_eq!(reply.code(), "SignatureDoesNotMatch", "{}", capture.name);
        // The answer quotes the server's string to sign, which the model
        // keeps apart from the message.
        assert!(
            String::from_utf8_lossy(&reply.body).contains("server string to sign is:"),
            "{}",
            capture.name
        );
        let error = ecs_model::decode_error(reply.status, reply.content_type(), &reply.body);
        assert!(
            error.server_string_to_sign.is_some(),
            "{}: {error:?}",
            capture.name
        );
        emulator.shutdown().await;
    }
}

#[tokio::test]
async fn replays_late_requests_and_wrong_keys_are_refused() {
    let captures = Capture::all();
    let v3 = captures
        .iter()
        .find(|c| c.name == "tea_v3_default")
        .unwrap();
    let v1 = captures.iter().find(|c| c.name == "core_v1").unwrap();
    for capture in [v3, v1] {
        // The same request twice: the nonce was used.
        let emulator = capture_emulator(capture, false, capture.time()).await;
        assert_eq!(send(emulator.addr(), capture.request()).await.status, 200);
        let again = send(emulator.addr(), capture.request()).await;
        assert_eq!(again.code(), "SignatureNonceUsed", "{}", capture.name);
        emulator.shutdown().await;

        // Sixteen minutes later: expired.
        let late = capture.time() + time::Duration::minutes(16);
        let emulator = capture_emulator(capture, false, late).await;
        let reply = send(emulator.addr(), capture.request()).await;
        assert_eq!(reply.code(), "InvalidTimeStamp.Expired", "{}", capture.name);
        emulator.shutdown().await;

        // The emulator knows the key with another secret: mismatch.
        let emulator = Emulator::builder()
            .access_key(AccessKey::new("testAccessKeyId", "anotherSecret"))
            .time_source(ManualTimeSource::new(capture.time()))
            .start()
            .await
            .unwrap();
        let reply = send(emulator.addr(), capture.request()).await;
        assert_eq!(reply.code(), "SignatureDoesNotMatch", "{}", capture.name);
        emulator.shutdown().await;

        // The emulator does not know the key at all.
        let emulator = Emulator::builder()
            .time_source(ManualTimeSource::new(capture.time()))
            .start()
            .await
            .unwrap();
        let reply = send(emulator.addr(), capture.request()).await;
        assert_eq!(reply.status, 404);
        assert_eq!(
            reply.code(),
            "InvalidAccessKeyId.NotFound",
            "{}",
            capture.name
        );
        emulator.shutdown().await;
    }
    // An STS request against a key that has no token, and the reverse.
    let sts = captures.iter().find(|c| c.name == "tea_v3_sts").unwrap();
    let emulator = capture_emulator(sts, false, sts.time()).await;
    let reply = send(emulator.addr(), sts.request()).await;
    assert_eq!(reply.code(), "InvalidSecurityToken.MismatchWithAccessKey");
    emulator.shutdown().await;
    let emulator = capture_emulator(v3, true, v3.time()).await;
    let reply = send(emulator.addr(), v3.request()).await;
    assert_eq!(reply.code(), "InvalidSecurityToken.MismatchWithAccessKey");
    emulator.shutdown().await;
}

const NOW: OffsetDateTime = datetime!(2026-11-29 12:00:00 UTC);

fn demo_credentials() -> Credentials {
    Credentials::new(
        ecs_emulator::DEMO_ACCESS_KEY_ID,
        ecs_emulator::DEMO_ACCESS_KEY_SECRET,
    )
    .unwrap()
}

async fn demo_emulator() -> (EmulatorHandle, Arc<ManualTimeSource>) {
    let clock = Arc::new(ManualTimeSource::new(NOW));
    let emulator = Emulator::builder()
        .data(DataSet::demo())
        .time_source(Arc::clone(&clock))
        .start()
        .await
        .unwrap();
    (emulator, clock)
}

#[tokio::test]
async fn every_parameter_error_has_the_service_code_and_status() {
    let (emulator, _) = demo_emulator().await;
    let creds = demo_credentials();
    let long_value = "v".repeat(129);
    // (parameters, HTTP status, code)
    type Case<'a> = (Vec<(&'a str, &'a str)>, u16, &'a str);
    let cases: Vec<Case<'_>> = vec![
        (vec![], 400, "MissingParameter.RegionId"),
        (
            vec![("RegionId", "xx-nowhere-1")],
            404,
            "InvalidRegionId.NotFound",
        ),
        (
            vec![("RegionId", "cn-hangzhou"), ("PageSize", "51")],
            400,
            "InvalidParam.PageSize",
        ),
        (
            vec![("RegionId", "cn-hangzhou"), ("PageNumber", "0")],
            400,
            "InvalidParam.PageNumber",
        ),
        (
            vec![("RegionId", "cn-hangzhou"), ("MaxResults", "100")],
            400,
            "InvalidParameter.MaxResults",
        ),
        (
            vec![("RegionId", "cn-hangzhou"), ("NextToken", "not-a-token")],
            400,
            "InvalidParameter.NextToken",
        ),
        (
            vec![("RegionId", "cn-hangzhou"), ("Tag.1.Key", "acs:env")],
            400,
            "InvalidTagKey.Malformed",
        ),
        (
            vec![
                ("RegionId", "cn-hangzhou"),
                ("Tag.1.Key", "env"),
                ("Tag.1.Value", &long_value),
            ],
            400,
            "InvalidTagValue.Malformed",
        ),
        (
            vec![("RegionId", "cn-hangzhou"), ("Tag.1.Value", "prod")],
            400,
            "MissingParameter.TagKey",
        ),
        (
            vec![
                ("RegionId", "cn-hangzhou"),
                ("Tag.1.Key", "env"),
                ("Tag.2.Key", "env"),
            ],
            400,
            "Duplicate.TagKey",
        ),
        (
            vec![("RegionId", "cn-hangzhou"), ("IncludeHistory", "true")],
            400,
            "InvalidParameter.IncludeHistory",
        ),
    ];
    for (i, (params, status, code)) in cases.iter().enumerate() {
        let nonce = format!("param-error-{i}");
        let reply = send(
            emulator.addr(),
            v1_request(emulator.addr(), params, "JSON", &creds, NOW, &nonce),
        )
        .await;
        assert_eq!(
            (reply.status, reply.code().as_str()),
            (*status, *code),
            "{params:?}"
        );
    }
    let action = v1_request_for(
        emulator.addr(),
        "RunCommand",
        "2014-05-26",
        &[("RegionId", "cn-hangzhou")],
        "JSON",
        &creds,
        NOW,
        "a1",
    );
    assert_eq!(
        send(emulator.addr(), action).await.code(),
        "InvalidAction.NotFound"
    );
    let version = v1_request_for(
        emulator.addr(),
        "DescribeInvocationResults",
        "2099-01-01",
        &[("RegionId", "cn-hangzhou")],
        "JSON",
        &creds,
        NOW,
        "a2",
    );
    assert_eq!(
        send(emulator.addr(), version).await.code(),
        "InvalidVersion"
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn errors_come_back_in_the_format_asked_for() {
    let (emulator, _) = demo_emulator().await;
    let creds = demo_credentials();
    let xml = send(
        emulator.addr(),
        v1_request(emulator.addr(), &[], "XML", &creds, NOW, "x1"),
    )
    .await;
    assert_eq!(xml.content_type(), Some("text/xml;charset=utf-8"));
    let body = String::from_utf8_lossy(&xml.body);
    assert!(
        body.contains("<Error>") && body.contains("<Code>MissingParameter.RegionId</Code>"),
        "{body}"
    );
    let json = send(
        emulator.addr(),
        v3_request(emulator.addr(), &[], "application/json", &creds, NOW, "x2"),
    )
    .await;
    assert_eq!(json.content_type(), Some("application/json;charset=utf-8"));
    let error = ecs_model::decode_error(json.status, json.content_type(), &json.body);
    assert_eq!(error.code, "MissingParameter.RegionId");
    assert!(error.request_id.is_some() && error.host_id.is_some() && error.recommend.is_some());
    emulator.shutdown().await;
}

/// Pages through every result of the demo data, V1 or V3, JSON or XML.
async fn all_results(
    emulator: &EmulatorHandle,
    v3: bool,
    xml: bool,
    extra: &[(&str, &str)],
) -> Vec<ecs_model::InvocationResult> {
    let creds = demo_credentials();
    let mut results = Vec::new();
    let mut token: Option<String> = None;
    for page_no in 0.. {
        assert!(page_no < 100, "paging does not end");
        let mut params = vec![("RegionId", "cn-hangzhou"), ("MaxResults", "3")];
        params.extend_from_slice(extra);
        if let Some(t) = &token {
            params.push(("NextToken", t));
        }
        let nonce = format!("page-{v3}-{xml}-{page_no}-{}", extra.len());
        let request = if v3 {
            v3_request(
                emulator.addr(),
                &params,
                if xml {
                    "application/xml"
                } else {
                    "application/json"
                },
                &creds,
                NOW,
                &nonce,
            )
        } else {
            v1_request(
                emulator.addr(),
                &params,
                if xml { "XML" } else { "JSON" },
                &creds,
                NOW,
                &nonce,
            )
        };
        let page = send(emulator.addr(), request).await.page();
        results.extend(page.invocation.results);
        match page.invocation.next_token.filter(|t| !t.is_empty()) {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    results
}

#[tokio::test]
async fn both_signatures_and_both_formats_page_through_the_same_results() {
    let (emulator, clock) = demo_emulator().await;
    clock.advance(time::Duration::seconds(60));
    let reference = all_results(&emulator, false, false, &[]).await;
    assert_eq!(reference.len(), 8);
    for (v3, xml) in [(false, true), (true, false), (true, true)] {
        let got = all_results(&emulator, v3, xml, &[]).await;
        assert_eq!(got, reference, "v3={v3} xml={xml}");
    }
    let keys: std::collections::HashSet<_> = reference
        .iter()
        .map(|r| (r.invoke_id.clone(), r.instance_id.clone(), r.repeats))
        .collect();
    assert_eq!(keys.len(), 8, "no result twice");
    let encoding = ecs_model::ContentEncoding::Base64;
    let df = reference
        .iter()
        .find(|r| r.instance_id == "i-bp1i7gg30r52z2em5678" && r.invoke_id == "t-hz0jdfwd9f1234")
        .unwrap();
    assert!(df.output_text_as(&encoding).unwrap().contains("82% /"));
    // PlainText gives the same text unencoded.
    let plain = all_results(&emulator, true, false, &[("ContentEncoding", "PlainText")]).await;
    let df_plain = plain
        .iter()
        .find(|r| r.instance_id == df.instance_id && r.invoke_id == df.invoke_id)
        .unwrap();
    assert_eq!(
        df_plain
            .output_text_as(&ecs_model::ContentEncoding::PlainText)
            .unwrap(),
        df.output_text_as(&encoding).unwrap()
    );
    emulator.shutdown().await;
}

async fn deploy_statuses(
    emulator: &EmulatorHandle,
    clock: &ManualTimeSource,
    nonce: &str,
) -> Vec<String> {
    let request = v1_request(
        emulator.addr(),
        &[
            ("RegionId", "cn-hangzhou"),
            ("InvokeId", "t-hz0jdfwe1uy5678"),
        ],
        "JSON",
        &demo_credentials(),
        clock.now(),
        nonce,
    );
    send(emulator.addr(), request)
        .await
        .page()
        .invocation
        .results
        .iter()
        .map(|r| r.invocation_status.as_ref().unwrap().as_str().to_owned())
        .collect()
}

#[tokio::test]
async fn results_move_from_running_to_finished_as_the_clock_moves() {
    let (emulator, clock) = demo_emulator().await;
    assert_eq!(
        deploy_statuses(&emulator, &clock, "t0").await,
        ["Running", "Running"]
    );
    clock.advance(time::Duration::milliseconds(3_500));
    assert_eq!(
        deploy_statuses(&emulator, &clock, "t1").await,
        ["Success", "Running"]
    );
    clock.advance(time::Duration::seconds(2));
    assert_eq!(
        deploy_statuses(&emulator, &clock, "t2").await,
        ["Success", "Success"]
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn long_output_is_cut_at_24_kib_with_dropped() {
    let big = "x".repeat(30_000);
    let data = format!(
        r#"{{"invocations":[{{"invoke_id":"t-big","command_id":"c-big","results":[
        {{"instance_id":"i-big","status":"Success","exit_code":0,"output":"{big}"}}]}}]}}"#
    );
    let emulator = Emulator::builder()
        .data(DataSet::from_json(&data).unwrap())
        .time_source(ManualTimeSource::new(NOW))
        .start()
        .await
        .unwrap();
    let request = v1_request(
        emulator.addr(),
        &[("RegionId", "cn-hangzhou")],
        "JSON",
        &demo_credentials(),
        NOW,
        "big",
    );
    let page = send(emulator.addr(), request).await.page();
    let result = &page.invocation.results[0];
    assert_eq!(result.dropped, 30_000 - 24 * 1024);
    let bytes = result
        .output_bytes_as(&ecs_model::ContentEncoding::Base64)
        .unwrap();
    assert_eq!(bytes.len(), 24 * 1024);
    assert!(result.is_truncated());
    emulator.shutdown().await;
}

async fn faulty(fault: &str) -> EmulatorHandle {
    Emulator::builder()
        .data(DataSet::demo())
        .fault(fault.parse::<Fault>().unwrap())
        .time_source(ManualTimeSource::new(NOW))
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn faults_answer_as_a_failing_service_would() {
    let creds = demo_credentials();
    let params = [("RegionId", "cn-hangzhou")];
    let emulator = faulty("throttle:x1:250ms").await;
    let reply = send(
        emulator.addr(),
        v1_request(emulator.addr(), &params, "JSON", &creds, NOW, "f1"),
    )
    .await;
    assert_eq!(
        (reply.status, reply.code().as_str()),
        (400, "Throttling.User")
    );
    assert_eq!(reply.headers["x-acs-retry-after"], "250");
    // Only the next one: the second request is served.
    let reply = send(
        emulator.addr(),
        v1_request(emulator.addr(), &params, "JSON", &creds, NOW, "f2"),
    )
    .await;
    assert_eq!(reply.status, 200);
    emulator.shutdown().await;

    for (fault, status, code) in [
        ("error500", 500, "InternalError"),
        ("error503", 503, "ServiceUnavailable"),
    ] {
        let emulator = faulty(fault).await;
        let reply = send(
            emulator.addr(),
            v1_request(emulator.addr(), &params, "JSON", &creds, NOW, "f3"),
        )
        .await;
        assert_eq!((reply.status, reply.code().as_str()), (status, code));
        emulator.shutdown().await;
    }

    let emulator = faulty("html").await;
    let reply = send(
        emulator.addr(),
        v1_request(emulator.addr(), &params, "JSON", &creds, NOW, "f4"),
    )
    .await;
    assert_eq!(reply.status, 502);
    let error = ecs_model::decode_error(reply.status, reply.content_type(), &reply.body);
    assert!(
        error
            .body_excerpt
            .unwrap_or_default()
            .contains("502 Bad Gateway")
    );
    emulator.shutdown().await;

    for fault in ["badjson", "badxml"] {
        let emulator = faulty(fault).await;
        let reply = send(
            emulator.addr(),
            v1_request(emulator.addr(), &params, "JSON", &creds, NOW, "f5"),
        )
        .await;
        assert_eq!(reply.status, 200);
        assert!(
            ecs_model::decode_response(reply.content_type(), &reply.body).is_err(),
            "{fault}"
        );
        emulator.shutdown().await;
    }

    for fault in ["reset", "truncate"] {
        let emulator = faulty(fault).await;
        let outcome = try_send(
            emulator.addr(),
            v1_request(emulator.addr(), &params, "JSON", &creds, NOW, "f6"),
        )
        .await;
        let err = outcome.expect_err(fault);
        assert!(!err.0.contains("timed out"), "{fault}: {}", err.0);
        emulator.shutdown().await;
    }

    let emulator = faulty("delay:300ms").await;
    let started = tokio::time::Instant::now();
    let reply = send(
        emulator.addr(),
        v1_request(emulator.addr(), &params, "JSON", &creds, NOW, "f7"),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    emulator.shutdown().await;
}

#[tokio::test]
async fn faults_can_be_changed_on_a_running_emulator() {
    let (emulator, _) = demo_emulator().await;
    let creds = demo_credentials();
    let params = [("RegionId", "cn-hangzhou")];
    emulator.set_faults(vec!["error503:x2".parse().unwrap()]);
    let mut statuses = Vec::new();
    for i in 0..3 {
        let nonce = format!("live-{i}");
        statuses.push(
            send(
                emulator.addr(),
                v1_request(emulator.addr(), &params, "JSON", &creds, NOW, &nonce),
            )
            .await
            .status,
        );
    }
    assert_eq!(statuses, [503, 503, 200]);
    emulator.shutdown().await;
}

#[tokio::test]
async fn garbage_requests_get_answers_and_the_emulator_keeps_serving() {
    let (emulator, _) = demo_emulator().await;
    let garbage = http::Request::builder()
        .method("POST")
        .uri("/?RegionId=%ZZ&Signature=%E0%80")
        .header("host", "x")
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .unwrap();
    let reply = send(emulator.addr(), garbage).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.code(), "InvalidParameter");
    let huge = http::Request::builder()
        .method("POST")
        .uri("/")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(http_body_util::Full::new(bytes::Bytes::from(vec![
            b'a';
            2 << 20
        ])))
        .unwrap();
    let reply = send(emulator.addr(), huge).await;
    assert_eq!(reply.status, 400);
    let request = v1_request(
        emulator.addr(),
        &[("RegionId", "cn-hangzhou")],
        "JSON",
        &demo_credentials(),
        NOW,
        "after",
    );
    assert_eq!(send(emulator.addr(), request).await.status, 200);
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_tag_key_without_a_value_matches_any_value_and_an_empty_value_only_empty() {
    let data = r#"{"invocations":[
        {"invoke_id":"t-prod","command_id":"c-1","tags":{"env":"prod"},
         "results":[{"instance_id":"i-1","status":"Success"}]},
        {"invoke_id":"t-empty","command_id":"c-1","tags":{"env":""},
         "results":[{"instance_id":"i-2","status":"Success"}]},
        {"invoke_id":"t-other","command_id":"c-1","tags":{"team":"x"},
         "results":[{"instance_id":"i-3","status":"Success"}]}]}"#;
    let emulator = Emulator::builder()
        .data(DataSet::from_json(data).unwrap())
        .time_source(ManualTimeSource::new(NOW))
        .start()
        .await
        .unwrap();
    let creds = demo_credentials();
    let invoke_ids = |reply: crate::support::Reply| {
        let mut ids: Vec<String> = reply
            .page()
            .invocation
            .results
            .into_iter()
            .map(|r| r.invoke_id)
            .collect();
        ids.sort();
        ids
    };
    // (raw query parameters, the invocations listed)
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str]);
    let cases: [Case<'_>; 4] = [
        (&[("Tag.1.Key", "env")], &["t-empty", "t-prod"]),
        (&[("Tag.1.Key", "env"), ("Tag.1.Value", "")], &["t-empty"]),
        (
            &[("Tag.1.Key", "env"), ("Tag.1.Value", "prod")],
            &["t-prod"],
        ),
        (&[("Tag.1.Key", "team"), ("Tag.2.Key", "env")], &[]),
    ];
    for (i, (tags, expected)) in cases.iter().enumerate() {
        let mut params = vec![("RegionId", "cn-hangzhou")];
        params.extend_from_slice(tags);
        let request = v1_request(
            emulator.addr(),
            &params,
            "JSON",
            &creds,
            NOW,
            &format!("tag-{i}"),
        );
        let ids = invoke_ids(send(emulator.addr(), request).await);
        assert_eq!(ids, *expected, "{tags:?}");
    }
    // A NextToken of the key-only filter is not one of the empty-value
    // filter: they are different queries.
    let first = v1_request(
        emulator.addr(),
        &[
            ("RegionId", "cn-hangzhou"),
            ("Tag.1.Key", "env"),
            ("MaxResults", "1"),
        ],
        "JSON",
        &creds,
        NOW,
        "tag-token-1",
    );
    let token = send(emulator.addr(), first)
        .await
        .page()
        .invocation
        .next_token
        .unwrap();
    let other = v1_request(
        emulator.addr(),
        &[
            ("RegionId", "cn-hangzhou"),
            ("Tag.1.Key", "env"),
            ("Tag.1.Value", ""),
            ("MaxResults", "1"),
            ("NextToken", &token),
        ],
        "JSON",
        &creds,
        NOW,
        "tag-token-2",
    );
    assert_eq!(
        send(emulator.addr(), other).await.code(),
        "InvalidParameter.NextToken"
    );
    emulator.shutdown().await;
}
