//! The `ecs-assist` client end to end against the in-process emulator (and
//! a capturing transport where the wire form itself is the point).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use ecs_assist::config::{AsyncSleep, SleepFuture};
use ecs_assist::{
    Client, ContentEncoding, ErrorKind, InvocationStatus, PageStyle, ResponseFormat,
    SignatureVersion,
};
use ecs_emulator::{
    DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, DataSet, Emulator, EmulatorHandle, Fault, Trigger,
};
use ecs_sign::test_util::{ManualTimeSource, SequenceNonceSource};
use ecs_transport::test_util::CaptureTransport;
use futures::TryStreamExt as _;
use time::macros::datetime;

use crate::support::{bounded, keys};

fn client_for(emulator: &EmulatorHandle, version: SignatureVersion) -> Client {
    Client::builder()
        .region("cn-hangzhou")
        .endpoint(emulator.url())
        .access_key(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
        .signature_version(version)
        .build()
        .unwrap()
}

/// A sleep that moves the shared manual clock when awaited.
#[derive(Debug, Clone)]
struct ClockSleep(Arc<ManualTimeSource>);

impl AsyncSleep for ClockSleep {
    fn sleep(&self, duration: Duration) -> SleepFuture {
        let clock = Arc::clone(&self.0);
        Box::pin(async move { clock.advance(time::Duration::try_from(duration).unwrap()) })
    }
}

#[tokio::test]
async fn every_parameter_reaches_the_wire() {
    let ok = http::Response::builder()
        .header("content-type", "application/json")
        .body(Bytes::from_static(
            br#"{"RequestId":"R-1","Invocation":{}}"#,
        ))
        .unwrap();
    for version in [SignatureVersion::V3, SignatureVersion::V1] {
        let transport = Arc::new(CaptureTransport::new().with_response(ok.clone()));
        let client = Client::builder()
            .region("cn-beijing")
            .access_key("AKID", "SECRET")
            .signature_version(version)
            .transport(Arc::clone(&transport))
            .build()
            .unwrap();
        bounded(
            "the client call",
            client
                .describe_invocation_results()
                .invoke_id("t-1")
                .instance_id("i-1")
                .command_id("c-1")
                .invoke_record_status("Running")
                .include_history(true)
                .content_encoding(ContentEncoding::PlainText)
                .max_results(20)
                .next_token("tok en")
                .resource_group_id("rg-1")
                .tag("env", "prod test")
                .tag("owner", "")
                .send(),
        )
        .await
        .unwrap();
        let request = transport.last_request().unwrap();
        assert_eq!(request.method(), http::Method::POST);
        assert_eq!(request.uri().host(), Some("ecs.cn-beijing.aliyuncs.com"));
        assert!(request.body().is_empty());
        let query = ecs_sign::parse_query(request.uri().query().unwrap()).unwrap();
        for (k, v) in [
            ("RegionId", "cn-beijing"),
            ("InvokeId", "t-1"),
            ("InstanceId", "i-1"),
            ("CommandId", "c-1"),
            ("InvokeRecordStatus", "Running"),
            ("IncludeHistory", "true"),
            ("ContentEncoding", "PlainText"),
            ("MaxResults", "20"),
            ("NextToken", "tok en"),
            ("ResourceGroupId", "rg-1"),
            ("Tag.1.Key", "env"),
            ("Tag.1.Value", "prod test"),
            ("Tag.2.Key", "owner"),
            ("Tag.2.Value", ""),
        ] {
            assert!(
                query.iter().any(|(qk, qv)| qk == k && qv == v),
                "{version:?}: {k}={v} missing from {query:?}"
            );
        }
        assert_eq!(
            request.headers()["x-acs-action"],
            "DescribeInvocationResults"
        );
        assert_eq!(request.headers()["x-acs-version"], "2014-05-26");
        let page_params: Vec<_> = query
            .iter()
            .filter(|(k, _)| k.starts_with("Page"))
            .collect();
        assert!(page_params.is_empty(), "{page_params:?}");
    }
}

#[tokio::test]
async fn v1_and_v3_in_json_and_xml_read_the_same_page() {
    let emulator = Emulator::builder()
        .data(DataSet::demo())
        .start()
        .await
        .unwrap();
    for version in [SignatureVersion::V3, SignatureVersion::V1] {
        for format in [ResponseFormat::Json, ResponseFormat::Xml] {
            let client = client_for(&emulator, version);
            let page = bounded(
                "the client call",
                client
                    .describe_invocation_results()
                    .invoke_id("t-hz0jdfwd9f1234")
                    .with_response_format(format)
                    .send(),
            )
            .await
            .unwrap();
            let results = &page.invocation.results;
            assert_eq!(results.len(), 3, "{version:?} {format:?}");
            let failed = results
                .iter()
                .filter(|r| r.invocation_status == Some(InvocationStatus::Failed))
                .count();
            assert_eq!(failed, 1);
            let text = results[0].output_text_as(&ContentEncoding::Base64).unwrap();
            assert!(text.starts_with("Filesystem"), "{text}");
            assert!(!page.request_id.is_empty());
        }
    }
    emulator.shutdown().await;
}

#[tokio::test]
async fn both_paging_styles_return_five_thousand_results_exactly_once() {
    let emulator = Emulator::builder()
        .generate(5000)
        .seed(11)
        .start()
        .await
        .unwrap();
    let client = client_for(&emulator, SignatureVersion::V3);
    for style in [PageStyle::Token, PageStyle::Number] {
        let items: Vec<_> = bounded(
            "the client call",
            client
                .describe_invocation_results()
                .max_results(50)
                .page_size(50)
                .into_paginator()
                .page_style(style)
                .items()
                .try_collect::<Vec<_>>(),
        )
        .await
        .unwrap();
        let keys: HashSet<_> = items
            .iter()
            .map(|r| (r.invoke_id.clone(), r.instance_id.clone(), r.repeats))
            .collect();
        assert_eq!(items.len(), 5000, "{style:?}");
        assert_eq!(keys.len(), 5000, "{style:?}: duplicates");
    }
    // Max items stops early, and an interrupted run resumes where it was.
    let capped: Vec<_> = bounded(
        "the client call",
        client
            .describe_invocation_results()
            .into_paginator()
            .max_items(123)
            .items()
            .try_collect::<Vec<_>>(),
    )
    .await
    .unwrap();
    assert_eq!(capped.len(), 123);

    let mut pages = client
        .describe_invocation_results()
        .into_paginator()
        .pages();
    let mut first = Vec::new();
    let mut position = None;
    for _ in 0..10 {
        let page = bounded("the client call", pages.try_next())
            .await
            .unwrap()
            .unwrap();
        first.extend(page.results().iter().map(|r| r.instance_id.clone()));
        position = Some(page.position().clone());
    }
    drop(pages);
    let rest: Vec<_> = bounded(
        "the client call",
        client
            .describe_invocation_results()
            .into_paginator()
            .resume_from(position.unwrap())
            .items()
            .try_collect::<Vec<_>>(),
    )
    .await
    .unwrap();
    assert_eq!(first.len(), 500);
    assert_eq!(first.len() + rest.len(), 5000);
    emulator.shutdown().await;
}

#[tokio::test]
async fn retries_recover_from_throttling_and_server_errors() {
    for spec in [
        "throttle:x2:50ms",
        "error500:x2",
        "error503:x3",
        "html:x1",
        "reset:x2",
    ] {
        let fault: Fault = spec.parse().unwrap();
        let Trigger::Next(faulted) = fault.trigger else {
            panic!("{spec}: a count of faulted requests");
        };
        let emulator = Emulator::builder()
            .data(DataSet::demo())
            .fault(fault)
            .start()
            .await
            .unwrap();
        let client = client_for(&emulator, SignatureVersion::V3);
        let page = bounded(
            "the client call",
            client
                .describe_invocation_results()
                .invoke_id("t-hz0jdfwd9f1234")
                .send(),
        )
        .await
        .unwrap_or_else(|e| panic!("{spec}: {e}"));
        assert_eq!(page.invocation.results.len(), 3, "{spec}");
        assert_eq!(
            emulator.requests(),
            1 + faulted,
            "{spec}: one retry a fault"
        );
        emulator.shutdown().await;
    }
    // Past the attempt limit the throttling error comes back, typed.
    let emulator = Emulator::builder()
        .data(DataSet::demo())
        .fault("throttle:10ms".parse().unwrap())
        .start()
        .await
        .unwrap();
    let err = bounded(
        "the client call",
        client_for(&emulator, SignatureVersion::V1)
            .describe_invocation_results()
            .send(),
    )
    .await
    .unwrap_err();
    assert!(err.is_throttling(), "{err}");
    assert_eq!(err.attempts(), 4);
    assert_eq!(err.code(), Some("Throttling.User"));
    assert!(err.request_id().is_some());
    emulator.shutdown().await;
}

#[tokio::test]
async fn errors_carry_the_services_code_and_request_id() {
    let emulator = Emulator::builder()
        .data(DataSet::demo())
        .start()
        .await
        .unwrap();
    for version in [SignatureVersion::V3, SignatureVersion::V1] {
        let client = Client::builder()
            .region("cn-hangzhou")
            .endpoint(emulator.url())
            .access_key(DEMO_ACCESS_KEY_ID, "NotTheSecret")
            .signature_version(version)
            .build()
            .unwrap();
        let err = bounded(
            "the client call",
            client.describe_invocation_results().send(),
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Service);
        assert_eq!(err.code(), Some("SignatureDoesNotMatch"), "{version:?}");
        assert!(err.request_id().is_some_and(|id| !id.is_empty()));
        assert!(err.to_string().contains("secret") && err.to_string().contains("clock"));
        assert_eq!(err.attempts(), 1, "not retried");

        let err = bounded(
            "the client call",
            client_for(&emulator, version)
                .describe_invocation_results()
                .region_id("xx-nowhere-1")
                .send(),
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), Some("InvalidRegionId.NotFound"));
        assert_eq!(err.service_error().unwrap().http_status, 404);
    }
    emulator.shutdown().await;
}

#[tokio::test]
async fn the_waiter_sees_running_turn_into_finished() {
    let clock = Arc::new(ManualTimeSource::new(datetime!(2026-11-26 06:00:00 UTC)));
    let emulator = Emulator::builder()
        .data(DataSet::demo())
        .time_source(Arc::clone(&clock))
        .start()
        .await
        .unwrap();
    let client = Client::builder()
        .region("cn-hangzhou")
        .endpoint(emulator.url())
        .access_key(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
        .time_source(Arc::clone(&clock))
        .nonce_source(SequenceNonceSource::new(77))
        .sleep(ClockSleep(Arc::clone(&clock)))
        .operation_timeout(None)
        .build()
        .unwrap();

    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let outcome = bounded(
        "the client call",
        client
            .wait_for_invocation("t-hz0jdfwe1uy5678")
            .poll_interval(Duration::from_secs(1))
            .max_poll_interval(Duration::from_secs(2))
            .on_progress(move |o| log.lock().unwrap().push(o.summary().clone()))
            .send(),
    )
    .await
    .unwrap();
    assert!(outcome.is_success());
    assert_eq!(outcome.summary().succeeded, 2);
    let seen = seen.lock().unwrap().clone();
    assert!(seen.len() >= 3, "{seen:?}");
    assert_eq!(seen[0].pending, 2, "both running at first");
    assert!(
        seen.iter().any(|s| s.pending == 1),
        "one finished before the other"
    );
    assert_eq!(outcome.polls() as usize, seen.len());

    // A finished invocation with a failure: done at once, failure reported.
    let done = bounded(
        "the client call",
        client
            .wait_for_invocation("t-hz0jdfwd9f1234")
            .fail_fast(true)
            .send(),
    )
    .await
    .unwrap();
    assert!(done.has_failures() && done.is_complete() && !done.is_success());

    // A timeout ends with the last state seen.
    emulator.shutdown().await;
    let clock2 = Arc::new(ManualTimeSource::new(datetime!(2026-11-26 07:00:00 UTC)));
    let emulator = Emulator::builder()
        .data(DataSet::demo())
        .time_source(Arc::clone(&clock2))
        .start()
        .await
        .unwrap();
    let client = Client::builder()
        .region("cn-hangzhou")
        .endpoint(emulator.url())
        .access_key(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
        .time_source(Arc::clone(&clock2))
        .nonce_source(SequenceNonceSource::new(78))
        .sleep(ClockSleep(Arc::clone(&clock2)))
        .operation_timeout(None)
        .build()
        .unwrap();
    let err = bounded(
        "the client call",
        client
            .wait_for_invocation("t-hz0jdfwe1uy5678")
            .instance_id("i-bp1i7gg30r52z2em5678")
            .timeout(Duration::from_secs(2))
            .send(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WaitTimeout);
    let last = err.wait_outcome().unwrap();
    assert_eq!(last.summary().total, 1);
    assert_eq!(last.summary().pending, 1);

    // An invocation that never appears ends after the grace period.
    let err = bounded(
        "the client call",
        client
            .wait_for_invocation("t-doesnotexist0000")
            .not_found_grace(Duration::from_secs(5))
            .send(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::NotFound | ErrorKind::Service),
        "{err}"
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_prepared_request_is_what_the_server_accepts() {
    let emulator = Emulator::builder()
        .data(DataSet::demo())
        .start()
        .await
        .unwrap();
    let client = client_for(&emulator, SignatureVersion::V3);
    let prepared = bounded(
        "the client call",
        client
            .describe_invocation_results()
            .invoke_id("t-hz0jdfwd9f1234")
            .prepare(),
    )
    .await
    .unwrap();
    assert!(prepared.redacted().contains("Signature=***"));
    assert_eq!(emulator.requests(), 0, "prepare sends nothing");
    let transport = ecs_transport::HyperTransport::new().unwrap();
    let response = bounded(
        "the client call",
        ecs_transport::Transport::send(&transport, prepared.into_request()),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_ahead_gives_the_same_results_with_one_request_a_page() {
    let emulator = Emulator::builder()
        .generate(1_000)
        .seed(8)
        .start()
        .await
        .unwrap();
    for format in [ResponseFormat::Json, ResponseFormat::Xml] {
        let client = Client::builder()
            .region("cn-hangzhou")
            .endpoint(emulator.url())
            .access_key(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
            .response_format(format)
            .build()
            .unwrap();
        let walk = |read_ahead: bool| {
            client
                .describe_invocation_results()
                .max_results(50)
                .into_paginator()
                .read_ahead(read_ahead)
                .items()
                .try_collect::<Vec<_>>()
        };
        let before = emulator.requests();
        let lazy = bounded("the client call", walk(false)).await.unwrap();
        let lazy_requests = emulator.requests() - before;
        let before = emulator.requests();
        let ahead = bounded("the client call", walk(true)).await.unwrap();
        let ahead_requests = emulator.requests() - before;
        assert_eq!(lazy.len(), 1_000, "{format:?}");
        assert_eq!(keys(&ahead), keys(&lazy), "{format:?}");
        assert_eq!(ahead, lazy, "{format:?}: the same results, field for field");
        // Every request sent ahead was the next page: none wasted.
        assert_eq!(ahead_requests, lazy_requests, "{format:?}");
        assert_eq!(
            lazy_requests, 20,
            "{format:?}: 1,000 results in pages of 50"
        );
    }

    // After its first page the stream has at most the next request out,
    // and dropping it leaves only that one; with a max-items limit nothing
    // is read ahead.
    let client = client_for(&emulator, SignatureVersion::V3);
    let before = emulator.requests();
    let mut pages = client
        .describe_invocation_results()
        .max_results(50)
        .into_paginator()
        .read_ahead(true)
        .pages();
    let first = bounded("the client call", pages.try_next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.results().len(), 50);
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(pages);
    let sent = emulator.requests() - before;
    // Usually 2; 1 when the request read ahead was still waiting for the
    // pool to hand back the connection (it moves only when polled). The
    // exact count is checked on the blocking client's runtime.
    assert!((1..=2).contains(&sent), "{sent} requests for one page");
    let before = emulator.requests();
    let capped = bounded(
        "the client call",
        client
            .describe_invocation_results()
            .max_results(50)
            .into_paginator()
            .read_ahead(true)
            .max_items(120)
            .items()
            .try_collect::<Vec<_>>(),
    )
    .await
    .unwrap();
    assert_eq!(capped.len(), 120);
    assert_eq!(
        emulator.requests() - before,
        3,
        "50 + 50 + 20, nothing ahead"
    );
    emulator.shutdown().await;
}

/// A transport answering by `NextToken`: the first page's body names a
/// decoy token before the real one (the decoded page keeps the last), so
/// the request read ahead is the wrong one.
#[derive(Debug, Default)]
struct DecoyPages {
    tokens: Mutex<Vec<Option<String>>>,
}

impl ecs_transport::Transport for DecoyPages {
    fn send(&self, request: http::Request<Bytes>) -> ecs_transport::TransportFuture<'_> {
        let query = request.uri().query().unwrap_or_default().to_owned();
        let token = query
            .split('&')
            .find_map(|pair| pair.strip_prefix("NextToken="))
            .map(str::to_owned);
        let result = |id: &str| {
            format!(
                r#"{{"InvokeId":"t-1","InstanceId":"{id}","Repeats":1,"InvocationStatus":"Success","Output":""}}"#
            )
        };
        let body = match token.as_deref() {
            None => format!(
                r#"{{"RequestId":"r-1","Invocation":{{"NextToken":"decoy","NextToken":"real","InvocationResults":{{"InvocationResult":[{}]}}}}}}"#,
                result("i-first")
            ),
            Some("decoy") => format!(
                r#"{{"RequestId":"r-x","Invocation":{{"InvocationResults":{{"InvocationResult":[{}]}}}}}}"#,
                result("i-never")
            ),
            Some(_) => format!(
                r#"{{"RequestId":"r-2","Invocation":{{"InvocationResults":{{"InvocationResult":[{}]}}}}}}"#,
                result("i-second")
            ),
        };
        self.tokens.lock().unwrap().push(token);
        let response = http::Response::builder()
            .header("content-type", "application/json")
            .body(Bytes::from(body))
            .unwrap();
        Box::pin(async move { Ok(response) })
    }
}

#[tokio::test]
async fn a_request_read_ahead_that_is_not_the_next_one_is_dropped() {
    let transport = Arc::new(DecoyPages::default());
    let client = Client::builder()
        .region("cn-hangzhou")
        .access_key("AKID", "SECRET")
        .transport(Arc::clone(&transport))
        .build()
        .unwrap();
    let items = bounded(
        "the client call",
        client
            .describe_invocation_results()
            .into_paginator()
            .read_ahead(true)
            .items()
            .try_collect::<Vec<_>>(),
    )
    .await
    .unwrap();
    let ids: Vec<_> = items.iter().map(|r| r.instance_id.as_str()).collect();
    assert_eq!(ids, ["i-first", "i-second"]);
    let tokens = transport.tokens.lock().unwrap().clone();
    assert_eq!(
        tokens,
        [None, Some("decoy".to_owned()), Some("real".to_owned())],
        "the decoy was read ahead, then the real next page was asked for"
    );
}

#[tokio::test]
async fn paging_reads_ahead_by_default_and_not_when_turned_off() {
    for (read_ahead, expected) in [
        (None, vec![None, Some("decoy"), Some("real")]),
        (Some(true), vec![None, Some("decoy"), Some("real")]),
        (Some(false), vec![None, Some("real")]),
    ] {
        let transport = Arc::new(DecoyPages::default());
        let client = Client::builder()
            .region("cn-hangzhou")
            .access_key("AKID", "SECRET")
            .transport(Arc::clone(&transport))
            .build()
            .unwrap();
        let mut paginator = client.describe_invocation_results().into_paginator();
        if let Some(read_ahead) = read_ahead {
            paginator = paginator.read_ahead(read_ahead);
        }
        let items = bounded("the client call", paginator.items().try_collect::<Vec<_>>())
            .await
            .unwrap();
        assert_eq!(items.len(), 2, "{read_ahead:?}");
        let tokens = transport.tokens.lock().unwrap().clone();
        let tokens: Vec<_> = tokens.iter().map(Option::as_deref).collect();
        assert_eq!(tokens, expected, "read_ahead {read_ahead:?}");
    }
}
