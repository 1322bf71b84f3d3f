//! The blocking client over the non-hyper example transport of
//! `ecs-transport` (ureq, no runtime on the calling thread), and over its
//! own runtime with the default transport, against the emulator.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../../ecs-transport/examples/ureq_transport.rs"]
#[allow(dead_code, unreachable_pub)]
mod ureq_transport;

use ecs_assist::{ErrorKind, PageStyle, SignatureVersion};
use ecs_emulator::{DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, DataSet, Emulator};

#[test]
fn blocking_client_pages_and_reports_errors_over_ureq() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let emulator = runtime
        .block_on(
            Emulator::builder()
                .data(DataSet::demo())
                .generate(120)
                .start(),
        )
        .unwrap();
    for version in [SignatureVersion::V3, SignatureVersion::V1] {
        let client = ecs_assist::blocking::Client::builder()
            .region("cn-hangzhou")
            .endpoint(emulator.url())
            .access_key(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
            .signature_version(version)
            .blocking_transport(ureq_transport::UreqTransport::new())
            .build()
            .unwrap();
        let page = client
            .describe_invocation_results()
            .invoke_id("t-hz0jdfwd9f1234")
            .send()
            .unwrap();
        assert_eq!(page.invocation.results.len(), 3);

        for style in [PageStyle::Token, PageStyle::Number] {
            let mut seen = std::collections::HashSet::new();
            for item in client
                .describe_invocation_results()
                .max_results(50)
                .page_size(50)
                .into_paginator()
                .page_style(style)
                .items()
            {
                let r = item.unwrap();
                assert!(seen.insert((r.invoke_id, r.instance_id, r.repeats)));
            }
            assert!(seen.len() >= 120, "{style:?}: {}", seen.len());
        }

        let err = client
            .describe_invocation_results()
            .region_id("xx-nowhere-1")
            .send()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Service);
        assert_eq!(err.code(), Some("InvalidRegionId.NotFound"));
        assert!(err.request_id().is_some());
    }
    runtime.block_on(emulator.shutdown());
}

/// Reading ahead gives the same results with one request a page: with the
/// built-in runtime it reads ahead; over ureq it does nothing.
#[test]
fn blocking_paginators_read_ahead_without_changing_results() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let emulator = runtime
        .block_on(Emulator::builder().generate(480).seed(4).start())
        .unwrap();
    let builder = || {
        ecs_assist::blocking::Client::builder()
            .region("cn-hangzhou")
            .endpoint(emulator.url())
            .access_key(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
    };
    let clients = [
        ("runtime", builder().build().unwrap()),
        (
            "ureq",
            builder()
                .blocking_transport(ureq_transport::UreqTransport::new())
                .build()
                .unwrap(),
        ),
    ];
    for (name, client) in clients {
        // After one page, the built-in runtime has the next request out;
        // ureq sends nothing until asked.
        let before = emulator.requests();
        let mut pages = client
            .describe_invocation_results()
            .max_results(50)
            .into_paginator()
            .read_ahead(true)
            .pages();
        assert_eq!(pages.next().unwrap().unwrap().results().len(), 50);
        runtime.block_on(async { tokio::time::sleep(std::time::Duration::from_millis(200)).await });
        let sent = emulator.requests() - before;
        drop(pages);
        assert_eq!(sent, if name == "runtime" { 2 } else { 1 }, "{name}");

        let walk = |read_ahead: bool| {
            let before = emulator.requests();
            let ids: Vec<_> = client
                .describe_invocation_results()
                .max_results(50)
                .into_paginator()
                .read_ahead(read_ahead)
                .items()
                .map(|r| r.unwrap().instance_id)
                .collect();
            (ids, emulator.requests() - before)
        };
        let (lazy, lazy_requests) = walk(false);
        let (ahead, ahead_requests) = walk(true);
        assert_eq!(lazy.len(), 480, "{name}");
        assert_eq!(ahead, lazy, "{name}");
        assert_eq!(lazy_requests, 10, "{name}: 480 results in pages of 50");
        assert_eq!(ahead_requests, lazy_requests, "{name}");
    }
    runtime.block_on(emulator.shutdown());
}
