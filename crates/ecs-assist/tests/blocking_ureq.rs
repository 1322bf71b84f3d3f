//! The blocking client over the non-hyper example transport of
//! `ecs-transport` (ureq, no runtime on the calling thread) against the
//! emulator.

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
