//! What a user of `ecs_assist` alone can write: every type its API returns
//! is named here through an `ecs_assist::...` path only (this file imports
//! no other workspace crate but the emulator), so a re-export that goes
//! missing fails to compile; and results decode their output in the
//! encoding their request asked for.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::error::Error as _;

use ecs_assist::{Client, ContentEncoding, ErrorKind, InvocationResult};
use ecs_emulator::{DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, DataSet, Emulator};
use futures::TryStreamExt as _;

/// The demo emulator and a client of it.
macro_rules! emulator_and_client {
    () => {{
        let emulator = Emulator::builder()
            .data(DataSet::demo())
            .start()
            .await
            .unwrap();
        let client = Client::builder()
            .region("cn-hangzhou")
            .endpoint(emulator.url())
            .access_key(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
            .build()
            .unwrap();
        (emulator, client)
    }};
}

/// Every result of `t-hz0jdfwd9f1234` (its `df` output holds `%`, which is
/// not Base64), asked for in `encoding`.
async fn df_results(client: &Client, encoding: ContentEncoding) -> Vec<InvocationResult> {
    client
        .describe_invocation_results()
        .invoke_id("t-hz0jdfwd9f1234")
        .content_encoding(encoding)
        .into_paginator()
        .items()
        .try_collect()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_plain_text_result_decodes_without_being_told_its_encoding() {
    let (emulator, client) = emulator_and_client!();
    let plain = df_results(&client, ContentEncoding::PlainText).await;
    let base64 = df_results(&client, ContentEncoding::Base64).await;
    assert_eq!(plain.len(), 3);
    for (plain, base64) in plain.iter().zip(&base64) {
        assert_eq!(plain.content_encoding, ContentEncoding::PlainText);
        assert_eq!(base64.content_encoding, ContentEncoding::Base64);
        let text = plain.output_text().unwrap();
        // The wire form was the text itself, and both encodings read alike.
        assert_eq!(text, plain.output);
        assert_eq!(text, base64.output_text().unwrap());
        assert_eq!(
            plain.output_bytes().unwrap().as_ref(),
            base64.output_bytes().unwrap().as_ref()
        );
    }
    assert!(plain[0].output_text().unwrap().contains("Use%"));

    // One page with `send()` knows it too.
    let page = client
        .describe_invocation_results()
        .invoke_id("t-hz0jdfwd9f1234")
        .content_encoding(ContentEncoding::PlainText)
        .send()
        .await
        .unwrap();
    let first = &page.invocation.results[0];
    assert_eq!(first.output_text().unwrap(), first.output);

    // The explicit variant reads what it is told: plain text read as
    // Base64 is the error the one-encoding-fits-all call used to give.
    let err = first.output_text_as(&ContentEncoding::Base64).unwrap_err();
    assert!(err.to_string().contains("invalid Base64"), "{err}");
    emulator.shutdown().await;
}

/// A decoding error converts into the crate's error with `?`.
fn text_of(result: &InvocationResult) -> Result<String, ecs_assist::Error> {
    Ok(result.output_text_as(&ContentEncoding::Base64)?)
}

#[tokio::test]
async fn a_decode_error_converts_into_the_crate_error() {
    let (emulator, client) = emulator_and_client!();
    let plain = df_results(&client, ContentEncoding::PlainText).await;
    let err = text_of(&plain[0]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert_eq!(
        err.to_string(),
        "the output of instance i-bp1i7gg30r52z2em1234 could not be decoded"
    );
    let cause = err
        .source()
        .and_then(|s| s.downcast_ref::<ecs_assist::error::DecodeError>())
        .unwrap();
    assert_eq!(cause.instance_id(), Some("i-bp1i7gg30r52z2em1234"));
    emulator.shutdown().await;
}

/// Each function names, by an `ecs_assist` path, a type that a public item
/// returns; the body calls that item.
mod names {
    use ecs_assist::error::{
        DecodeError, PaginationError, Position, SignError, TransportError, TransportErrorKind,
        ValidationError, ValidationErrors,
    };
    use ecs_assist::{
        InvocationResult, Page, PaginatorPosition, PreparedRequest, ServiceError, Timestamp,
        Truncation, WaitOutcome, WaitSummary,
    };

    pub(super) fn output(r: &InvocationResult) -> Result<String, DecodeError> {
        r.output_text()
    }
    pub(super) fn decode_position(e: &DecodeError) -> Option<Position> {
        e.position()
    }
    pub(super) fn started(r: &InvocationResult) -> Option<&Timestamp> {
        r.start_time.as_ref()
    }
    pub(super) fn truncation(r: &InvocationResult) -> Option<Truncation<'_>> {
        r.truncation()
    }
    pub(super) fn tags(r: &InvocationResult) -> &[ecs_assist::model::Tag] {
        &r.tags
    }
    pub(super) fn error_code(r: &InvocationResult) -> Option<&ecs_assist::model::ErrorCode> {
        r.error_code.as_ref()
    }
    pub(super) fn validation(e: &ecs_assist::Error) -> Option<&ValidationErrors> {
        e.validation_errors()
    }
    pub(super) fn first_problem(e: &ValidationErrors) -> Option<&ValidationError> {
        e.iter().next()
    }
    pub(super) fn service(e: &ecs_assist::Error) -> Option<&ServiceError> {
        e.service_error()
    }
    pub(super) fn pagination(e: &ecs_assist::Error) -> Option<&PaginationError> {
        std::error::Error::source(e).and_then(|s| s.downcast_ref())
    }
    pub(super) fn transport_kind(e: &TransportError) -> TransportErrorKind {
        e.kind()
    }
    pub(super) fn nonce(source: &dyn ecs_assist::config::NonceSource) -> Result<String, SignError> {
        source.nonce()
    }
    pub(super) fn position(page: &Page) -> &PaginatorPosition {
        page.position()
    }
    pub(super) fn wait(outcome: &WaitOutcome) -> &WaitSummary {
        outcome.summary()
    }
    pub(super) fn http_request(
        prepared: &PreparedRequest,
    ) -> &ecs_assist::http::Request<ecs_assist::bytes::Bytes> {
        prepared.request()
    }
    pub(super) fn credentials(
        chain: ecs_assist::credentials::DefaultCredentialsChainBuilder,
    ) -> ecs_assist::credentials::DefaultCredentialsChain {
        chain.build()
    }
    pub(super) fn request(
        op: &ecs_assist::DescribeInvocationResults,
    ) -> &ecs_assist::DescribeInvocationResultsRequest {
        op.as_request()
    }
}

#[tokio::test]
async fn every_type_the_api_returns_is_named_from_this_crate() {
    let (emulator, client) = emulator_and_client!();
    let results = df_results(&client, ContentEncoding::Base64).await;
    assert!(names::output(&results[0]).unwrap().contains("Use%"));
    assert!(names::started(&results[0]).is_some());
    assert_eq!(names::truncation(&results[0]), None);
    assert!(names::tags(&results[0]).len() < 21);
    assert!(names::error_code(&results[2]).is_some());

    let broken = {
        let mut r = results[0].clone();
        r.output = "%%%".into();
        r
    };
    assert_eq!(
        names::output(&broken)
            .map(|_| ())
            .map_err(|e| names::decode_position(&e)),
        Err(None)
    );

    let invalid = client
        .describe_invocation_results()
        .max_results(0)
        .send()
        .await
        .unwrap_err();
    let problems = names::validation(&invalid).unwrap();
    assert_eq!(
        names::first_problem(problems).unwrap().parameter(),
        "MaxResults"
    );
    assert!(names::service(&invalid).is_none());
    assert!(names::pagination(&invalid).is_none());

    let refused = Client::builder()
        .region("cn-hangzhou")
        .endpoint(emulator.url())
        .access_key(DEMO_ACCESS_KEY_ID, "not-the-secret")
        .build()
        .unwrap()
        .describe_invocation_results()
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        names::service(&refused).map(|s| s.code.as_str()),
        Some("SignatureDoesNotMatch")
    );

    let page = client
        .describe_invocation_results()
        .max_results(2)
        .into_paginator()
        .pages()
        .try_next()
        .await
        .unwrap()
        .unwrap();
    assert!(!names::position(&page).finished);
    let outcome = client
        .wait_for_invocation("t-hz0jdfwd9f1234")
        .send()
        .await
        .unwrap();
    assert_eq!(names::wait(&outcome).total, 3);

    let op = client.describe_invocation_results().invoke_id("t-1");
    assert_eq!(names::request(&op).invoke_id.as_deref(), Some("t-1"));
    let prepared = op.prepare().await.unwrap();
    assert_eq!(names::http_request(&prepared).method(), "POST");

    let nonce = names::nonce(&ecs_assist::config::SystemNonceSource::new()).unwrap();
    assert!(!nonce.is_empty());
    let timeout = ecs_assist::error::TransportError::new(
        ecs_assist::error::TransportErrorKind::Timeout,
        "slow",
    );
    assert_eq!(
        names::transport_kind(&timeout),
        ecs_assist::error::TransportErrorKind::Timeout
    );
    let _ = names::credentials;
    emulator.shutdown().await;
}
