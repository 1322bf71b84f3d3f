//! Each credentials failure in its class: a configured source that could
//! not deliver (unreachable, timed out, an error answer) is
//! `is_unavailable()` (`ecs_assist::Error::is_credentials_unavailable()`
//! once it reaches the client); missing or wrong configuration is not.
//! The CLI exits 1 for the first and 2 for the second.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "support/provider.rs"]
mod provider;
#[path = "support/server.rs"]
mod server;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ecs_credentials::{
    CliProfileCredentialsProvider, CredentialsProvider, CredentialsUriProvider,
    DefaultCredentialsChain, EcsRamRoleCredentialsProvider, Error, ErrorKind, InMemoryFileSystem,
    OidcRoleArnCredentialsProvider,
};
use ecs_sign::test_util::ManualTimeSource;
use ecs_transport::{AsyncSleep, SleepFuture, Transport};
use provider::{T0, config, get};
use server::{HANG_UP, Server, session_json};

async fn failure(p: &dyn CredentialsProvider) -> Error {
    get(p).await.expect_err("a failure")
}

/// Asserts the class of `err`: `unavailable` for a source that failed,
/// not for configuration.
fn assert_class(err: &Error, unavailable: bool, case: &str) {
    let kind = if unavailable {
        ErrorKind::Unavailable
    } else {
        ErrorKind::Configuration
    };
    assert_eq!(err.kind(), kind, "{case}: {err}");
    assert_eq!(err.is_unavailable(), unavailable, "{case}: {err}");
}

/// A port nobody listens on.
fn closed_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", l.local_addr().unwrap())
}

#[tokio::test]
async fn credentials_uri_failures_are_source_failures() {
    let status_500 = Server::start(|_| (500, "down".into())).await;
    let garbage = Server::start(|_| (200, "<html>".into())).await;
    let hang_up = Server::start(|_| (HANG_UP, String::new())).await;
    let closed = closed_url();
    for (case, url) in [
        ("500", status_500.url.as_str()),
        ("not json", garbage.url.as_str()),
        ("hang-up", hang_up.url.as_str()),
        ("closed port", closed.as_str()),
    ] {
        let cfg = config(&[], InMemoryFileSystem::new());
        let err = failure(&CredentialsUriProvider::new(&cfg, url)).await;
        assert_class(&err, true, case);
    }
    let cfg = config(&[], InMemoryFileSystem::new());
    let err = failure(&CredentialsUriProvider::new(&cfg, "http://exa mple/c")).await;
    assert_class(&err, false, "not a URL");
    assert!(err.to_string().contains("is not a valid URL"), "{err}");
}

/// A transport whose requests never finish.
#[derive(Debug)]
struct Never;

impl Transport for Never {
    fn send(&self, _: http::Request<Bytes>) -> ecs_transport::TransportFuture<'_> {
        Box::pin(futures::future::pending())
    }
}

/// A sleep that is over at once: every deadline has passed.
#[derive(Debug)]
struct Elapsed;

impl AsyncSleep for Elapsed {
    fn sleep(&self, _: Duration) -> SleepFuture {
        Box::pin(std::future::ready(()))
    }
}

#[tokio::test]
async fn a_credentials_uri_that_never_answers_times_out_as_a_source_failure() {
    let cfg = config(&[], InMemoryFileSystem::new())
        .transport(Never)
        .sleep(Elapsed);
    let err = failure(&CredentialsUriProvider::new(&cfg, "http://127.0.0.1:9/c")).await;
    assert_class(&err, true, "timeout");
    assert_eq!(
        err.to_string(),
        "the credentials URI http://127.0.0.1:9/c did not answer within 15000 ms"
    );
}

const STS_PROFILES: &str = r#"{"current": "role", "profiles": [
  {"name": "role", "mode": "RamRoleArn", "access_key_id": "SRCAK", "access_key_secret": "s", "ram_role_arn": "acs:ram::1:role/r"},
  {"name": "short", "mode": "RamRoleArn", "access_key_id": "SRCAK", "access_key_secret": "s", "ram_role_arn": "acs:ram::1:role/r", "expired_seconds": 60},
  {"name": "oidc", "mode": "OIDC", "ram_role_arn": "acs:ram::1:role/k", "oidc_provider_arn": "acs:ram::1:oidc-provider/p", "oidc_token_file": "/missing/token"}
]}"#;

#[tokio::test]
async fn sts_failures_are_source_failures_and_bad_settings_are_not() {
    let refused = Server::start(|_| {
        (
            403,
            r#"{"Code":"NoPermission","Message":"no","RequestId":"R1"}"#.into(),
        )
    })
    .await;
    let hang_up = Server::start(|_| (HANG_UP, String::new())).await;
    let empty = Server::start(|_| (200, r#"{"RequestId":"R2"}"#.into())).await;
    let fs = InMemoryFileSystem::new().with_file("/home/u/.aliyun/config.json", STS_PROFILES);
    for (case, url) in [
        ("403", &refused.url),
        ("hang-up", &hang_up.url),
        ("no Credentials", &empty.url),
    ] {
        let cfg = config(&[], fs.clone()).sts_endpoint(url);
        let err = failure(&CliProfileCredentialsProvider::new(&cfg)).await;
        assert_class(&err, true, case);
    }
    let cfg = config(&[("ALIBABA_CLOUD_PROFILE", "short")], fs.clone()).sts_endpoint(&refused.url);
    let err = failure(&CliProfileCredentialsProvider::new(&cfg)).await;
    assert_class(&err, false, "duration below 900 s");
    let cfg = config(&[("ALIBABA_CLOUD_PROFILE", "oidc")], fs).sts_endpoint(&refused.url);
    let err = failure(&CliProfileCredentialsProvider::new(&cfg)).await;
    assert_class(&err, false, "missing OIDC token file");
    let cfg = config(&[], InMemoryFileSystem::new()).sts_endpoint(&hang_up.url);
    let p = OidcRoleArnCredentialsProvider::new(&cfg, "acs:ram::1:role/k", "p", "/missing");
    assert_class(&failure(&p).await, false, "missing token file, direct");
    assert!(
        refused.requests().len() == 1,
        "the bad settings sent nothing"
    );
}

#[tokio::test]
async fn a_chained_role_whose_source_fails_on_the_network_is_a_source_failure() {
    // ChainableRamRoleArn signed by an ECS RAM role whose metadata service
    // is down: the chained failure keeps the class of its source's.
    let profiles = r#"{"current": "chained", "profiles": [
      {"name": "ecs", "mode": "EcsRamRole", "ram_role_name": "R"},
      {"name": "chained", "mode": "ChainableRamRoleArn", "source_profile": "ecs", "ram_role_arn": "acs:ram::1:role/x"}
    ]}"#;
    let fs = InMemoryFileSystem::new().with_file("/home/u/.aliyun/config.json", profiles);
    let cfg = config(&[], fs).imds_endpoint(closed_url());
    let err = failure(&CliProfileCredentialsProvider::new(&cfg)).await;
    assert_class(&err, true, "source role unreachable");
    assert!(
        err.to_string()
            .starts_with("the source credentials of AssumeRole are unavailable"),
        "{err}"
    );
}

#[tokio::test]
async fn ecs_ram_role_failures_by_class() {
    let closed = closed_url();
    // No role named and no metadata service: this machine has no ECS RAM
    // role, which is a matter of configuration.
    let cfg = config(&[], InMemoryFileSystem::new()).imds_endpoint(&closed);
    let err = failure(&EcsRamRoleCredentialsProvider::new(&cfg)).await;
    assert_class(&err, false, "discovery, unreachable");
    let no_role = Server::start(|r| match r.method.as_str() {
        "PUT" => (200, "tok".into()),
        _ => (404, "not found".into()),
    })
    .await;
    let cfg = config(&[], InMemoryFileSystem::new()).imds_endpoint(&no_role.url);
    let err = failure(&EcsRamRoleCredentialsProvider::new(&cfg)).await;
    assert_class(&err, false, "discovery, no role attached");
    assert!(err.to_string().contains("lists no RAM role"), "{err}");

    // A role named: the service is expected and its failures are failures.
    let cfg = config(
        &[("ALIBABA_CLOUD_ECS_METADATA", "R")],
        InMemoryFileSystem::new(),
    )
    .imds_endpoint(&closed);
    let err = failure(&EcsRamRoleCredentialsProvider::new(&cfg)).await;
    assert_class(&err, true, "named role, unreachable");
    let down = Server::start(|r| match r.method.as_str() {
        "PUT" => (200, "tok".into()),
        _ => (500, "down".into()),
    })
    .await;
    let cfg = config(
        &[("ALIBABA_CLOUD_ECS_METADATA", "R")],
        InMemoryFileSystem::new(),
    )
    .imds_endpoint(&down.url);
    let err = failure(&EcsRamRoleCredentialsProvider::new(&cfg)).await;
    assert_class(&err, true, "named role, HTTP 500");
    // Discovery that reaches a failing service is a failure too.
    let cfg = config(&[], InMemoryFileSystem::new()).imds_endpoint(&down.url);
    let err = failure(&EcsRamRoleCredentialsProvider::new(&cfg)).await;
    assert_class(&err, true, "discovery, HTTP 500");
}

#[tokio::test]
async fn a_discovered_role_whose_refresh_fails_is_a_source_failure() {
    let fail = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = fail.clone();
    let imds = Server::start(move |r| {
        if flag.load(std::sync::atomic::Ordering::SeqCst) {
            return (HANG_UP, String::new());
        }
        match (r.method.as_str(), r.path()) {
            ("PUT", _) => (200, "tok".into()),
            ("GET", "/latest/meta-data/ram/security-credentials/") => (200, "R".into()),
            _ => (200, session_json("STS.A", "s", "t", "2026-01-01T01:00:00Z")),
        }
    })
    .await;
    let time = Arc::new(ManualTimeSource::new(T0));
    let cfg = config(&[], InMemoryFileSystem::new())
        .time_source(time.clone())
        .imds_endpoint(&imds.url);
    let p = EcsRamRoleCredentialsProvider::new(&cfg);
    p.provide_credentials().await.unwrap();
    fail.store(true, std::sync::atomic::Ordering::SeqCst);
    time.advance(time::Duration::hours(2));
    assert_class(&failure(&p).await, true, "refresh of a discovered role");
}

#[tokio::test]
async fn the_chain_fails_as_a_source_failure_only_when_a_configured_source_did() {
    let closed = closed_url();
    let uri_down = Server::start(|_| (503, "busy".into())).await;
    let chain = |env: &[(&str, &str)], fs: InMemoryFileSystem| {
        DefaultCredentialsChain::builder()
            .provider_config(config(env, fs).imds_endpoint(&closed))
            .build()
    };
    // Nothing configured and no metadata service: configuration.
    let err = failure(&chain(&[], InMemoryFileSystem::new())).await;
    assert_class(&err, false, "nothing configured");
    // A broken file: configuration.
    let fs = InMemoryFileSystem::new().with_file("/home/u/.aliyun/config.json", "{broken");
    let err = failure(&chain(&[], fs)).await;
    assert_class(&err, false, "broken CLI config");
    // The credentials URI is set and fails: a source failure, whether the
    // metadata service was tried before it or not.
    let uri = format!("{}/c", uri_down.url);
    let err = failure(&chain(
        &[("ALIBABA_CLOUD_CREDENTIALS_URI", &uri)],
        InMemoryFileSystem::new(),
    ))
    .await;
    assert_class(&err, true, "credentials URI down");
    let err = failure(&chain(
        &[
            ("ALIBABA_CLOUD_CREDENTIALS_URI", &uri),
            ("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true"),
        ],
        InMemoryFileSystem::new(),
    ))
    .await;
    assert_class(&err, true, "credentials URI down, metadata off");
    assert!(err.to_string().contains("answered HTTP 503"), "{err}");
}
