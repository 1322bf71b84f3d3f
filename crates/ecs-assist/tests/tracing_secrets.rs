//! All tracing output at trace level, for successful, retried and failed
//! calls in both signature versions, never holds the secret, the security
//! token or a signature.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use ecs_assist::{Client, SignatureVersion};
use ecs_transport::test_util::CaptureTransport;
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

impl ecs_assist::config::AsyncSleep for NoSleep {
    fn sleep(&self, _: Duration) -> ecs_assist::config::SleepFuture {
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
                ecs_assist::credentials::StaticCredentialsProvider::new("AKIDPUBLIC", SECRET)
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

/// Every call of these tests is bounded: a hang is a failure.
async fn within<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(30), f)
        .await
        .expect("finished in time")
}

/// The signature of a request: V3 `Authorization`'s, or V1's `Signature`.
fn signature_of(request: &http::Request<Bytes>) -> String {
    if let Some(auth) = request.headers().get("authorization") {
        return auth
            .to_str()
            .unwrap()
            .rsplit_once("Signature=")
            .unwrap()
            .1
            .to_owned();
    }
    let query = request.uri().query().unwrap();
    ecs_sign::parse_query(query)
        .unwrap()
        .into_iter()
        .find(|(k, _)| k == "Signature")
        .unwrap()
        .1
}

/// The real transport, recording every signature it sends.
#[cfg(feature = "hyper")]
#[derive(Debug)]
struct Recording {
    inner: ecs_transport::HyperTransport,
    signatures: Mutex<Vec<String>>,
}

#[cfg(feature = "hyper")]
impl ecs_transport::Transport for Recording {
    fn send(&self, request: http::Request<Bytes>) -> ecs_transport::TransportFuture<'_> {
        self.signatures.lock().unwrap().push(signature_of(&request));
        self.inner.send(request)
    }
}

/// Every outcome against the emulator, at trace level, with STS
/// credentials: success (one call, stream, waiter), every error kind the
/// client can meet (service, throttling, transport, timeout, decode,
/// deadline, invalid input, invalid config, credentials, pagination
/// stalled, wait timeout, not found) and dry-run. Neither the logs nor any
/// `Display` or `Debug` of a result, error (with its causes) or prepared
/// request holds the secret, the token or a signature that was sent.
#[cfg(feature = "hyper")]
#[tokio::test]
async fn no_outcome_shows_secrets_or_signatures() {
    use ecs_assist::ErrorKind;
    use ecs_assist::credentials::StaticCredentialsProvider;
    use ecs_emulator::{AccessKey, DataSet, Emulator, Fault};
    use futures::TryStreamExt as _;

    const ID: &str = "STS.AccessKeyIdPublic";
    const STS_SECRET: &str = "StsSecretZq8vXk3Lm9Pw2Rt7";
    const STS_TOKEN: &str = "CAIS.StsTokenYh4Nc6Bv1Gf5Jd0";

    let buffer = Buffer::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(buffer.clone())
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let emulator = Emulator::builder()
        .data(DataSet::demo())
        .access_key(AccessKey::new(ID, STS_SECRET).with_security_token(STS_TOKEN))
        .start()
        .await
        .unwrap();
    let recording = Arc::new(Recording {
        inner: ecs_transport::HyperTransport::new().unwrap(),
        signatures: Mutex::default(),
    });
    let provider = |secret: &str| {
        StaticCredentialsProvider::new(ID, secret)
            .unwrap()
            .with_security_token(STS_TOKEN)
            .unwrap()
    };
    let client = |version: SignatureVersion, secret: &str| {
        Client::builder()
            .region("cn-hangzhou")
            .endpoint(emulator.url())
            .credentials_provider(provider(secret))
            .signature_version(version)
            .transport(Arc::clone(&recording))
            .attempt_timeout(Duration::from_millis(300))
            .retry_config(ecs_assist::RetryConfig {
                max_attempts: 2,
                base_delay: Duration::from_millis(1),
                max_delay: Duration::from_millis(20),
                throttling_base_delay: Duration::from_millis(1),
                ..ecs_assist::RetryConfig::default()
            })
            .build()
            .unwrap()
    };
    // Everything a caller could print.
    let mut shown: Vec<String> = Vec::new();
    let mut kinds = std::collections::BTreeSet::new();
    let mut show_error = |e: &ecs_assist::Error, shown: &mut Vec<String>| {
        kinds.insert(format!("{:?}", e.kind()));
        shown.push(format!("{e} {e:?}"));
        let mut cause = std::error::Error::source(e);
        while let Some(c) = cause {
            shown.push(format!("{c} {c:?}"));
            cause = c.source();
        }
    };

    for version in [SignatureVersion::V3, SignatureVersion::V1] {
        let ok = client(version, STS_SECRET);
        // Success: one call, a stream, the waiter.
        let page = within(
            ok.describe_invocation_results()
                .invoke_id("t-hz0jdfwd9f1234")
                .send(),
        )
        .await
        .unwrap();
        shown.push(format!("{page:?}"));
        let items: Vec<_> = tokio::time::timeout(
            Duration::from_secs(30),
            ok.describe_invocation_results()
                .max_results(2)
                .into_paginator()
                .items()
                .try_collect::<Vec<_>>(),
        )
        .await
        .unwrap()
        .unwrap();
        assert!(items.len() >= 3);
        let outcome = tokio::time::timeout(
            Duration::from_secs(30),
            ok.wait_for_invocation("t-hz0jdfwd9f1234").send(),
        )
        .await
        .unwrap()
        .unwrap();
        shown.push(format!("{outcome:?} {}", outcome.summary()));
        // Dry run.
        let prepared = ok.describe_invocation_results().prepare().await.unwrap();
        shown.push(format!(
            "{prepared} {prepared:?} {}",
            prepared.redacted_uri()
        ));
        let sent_by_dry_run = signature_of(prepared.request());

        // Service errors: a wrong secret (whose V1 answer quotes the string
        // to sign, token included, unless the client masks it), then each
        // fault.
        let wrong = client(version, "NotTheSecretAtAll");
        let e = within(wrong.describe_invocation_results().send())
            .await
            .unwrap_err();
        assert_eq!(e.code(), Some("SignatureDoesNotMatch"));
        show_error(&e, &mut shown);
        for fault in [
            "throttle:5ms",
            "error503",
            "html",
            "reset",
            "truncate",
            "badjson",
            "badxml",
            "delay:1s",
        ] {
            emulator.set_faults(vec![fault.parse::<Fault>().unwrap()]);
            let e = within(ok.describe_invocation_results().send())
                .await
                .unwrap_err();
            show_error(&e, &mut shown);
            // The deadline, over the same fault.
            let e = within(
                ok.describe_invocation_results()
                    .with_operation_timeout(Some(Duration::from_millis(50)))
                    .send(),
            )
            .await
            .unwrap_err();
            show_error(&e, &mut shown);
        }
        emulator.clear_faults();
        // Invalid input: nothing sent.
        let e = within(ok.describe_invocation_results().page_size(0).send())
            .await
            .unwrap_err();
        show_error(&e, &mut shown);
        // The waiter: not found, and a timeout.
        let e = within(
            ok.wait_for_invocation("t-doesnotexist0000")
                .not_found_grace(Duration::ZERO)
                .send(),
        )
        .await
        .unwrap_err();
        show_error(&e, &mut shown);
        emulator.set_faults(vec!["delay:100ms".parse::<Fault>().unwrap()]);
        let e = within(
            ok.wait_for_invocation("t-hz0jdfwe1uy5678")
                .poll_interval(Duration::from_millis(10))
                .timeout(Duration::from_millis(50))
                .send(),
        )
        .await;
        match e {
            Err(e) => show_error(&e, &mut shown),
            Ok(outcome) => shown.push(format!("{outcome:?}")),
        }
        emulator.clear_faults();
        shown.push(format!("{ok:?} {wrong:?}"));
        recording.signatures.lock().unwrap().push(sent_by_dry_run);
    }

    // A stalled paginator (the same token again and again).
    let stuck = http::Response::builder()
        .header("content-type", "application/json")
        .body(Bytes::from_static(
            br#"{"RequestId":"R-1","Invocation":{"NextToken":"same","InvocationResults":{"InvocationResult":[{"InvokeId":"t-1","InstanceId":"i-1"}]}}}"#,
        ))
        .unwrap();
    let capture = Arc::new(CaptureTransport::new().with_response(stuck));
    let stalled = Client::builder()
        .region("cn-hangzhou")
        .credentials_provider(provider(STS_SECRET))
        .transport(Arc::clone(&capture))
        .build()
        .unwrap();
    let e = tokio::time::timeout(
        Duration::from_secs(30),
        stalled
            .describe_invocation_results()
            .into_paginator()
            .items()
            .try_collect::<Vec<_>>(),
    )
    .await
    .unwrap()
    .unwrap_err();
    show_error(&e, &mut shown);
    recording
        .signatures
        .lock()
        .unwrap()
        .extend(capture.requests().iter().map(signature_of));
    // A request that cannot be signed (a nonce source that gives nothing).
    #[derive(Debug)]
    struct EmptyNonce;
    impl ecs_sign::NonceSource for EmptyNonce {
        fn nonce(&self) -> Result<String, ecs_sign::SignError> {
            Ok(String::new())
        }
    }
    for version in [SignatureVersion::V3, SignatureVersion::V1] {
        let unsignable = Client::builder()
            .region("cn-hangzhou")
            .endpoint(emulator.url())
            .credentials_provider(provider(STS_SECRET))
            .signature_version(version)
            .nonce_source(EmptyNonce)
            .build()
            .unwrap();
        let e = within(unsignable.describe_invocation_results().send())
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Signing, "{e}");
        show_error(&e, &mut shown);
        let e = within(unsignable.describe_invocation_results().prepare())
            .await
            .unwrap_err();
        show_error(&e, &mut shown);
    }
    // Invalid configuration and malformed credentials.
    let e = Client::builder()
        .region("cn-hangzhou")
        .endpoint("not an endpoint at all")
        .credentials_provider(provider(STS_SECRET))
        .build()
        .unwrap_err();
    show_error(&e, &mut shown);
    let malformed = format!("{STS_SECRET}\n");
    // Seen as the credentials crate shows them, and as the client does.
    let e = StaticCredentialsProvider::new(ID, malformed.as_str()).unwrap_err();
    shown.push(format!("{e} {e:?}"));
    show_error(&e.into(), &mut shown);
    let e = StaticCredentialsProvider::new(ID, STS_SECRET)
        .unwrap()
        .with_security_token(format!("{STS_TOKEN}\n"))
        .unwrap_err();
    shown.push(format!("{e} {e:?}"));
    show_error(&e.into(), &mut shown);
    emulator.shutdown().await;

    for kind in [
        ErrorKind::Service,
        ErrorKind::Transport,
        ErrorKind::Decode,
        ErrorKind::Deadline,
        ErrorKind::InvalidInput,
        ErrorKind::InvalidConfig,
        ErrorKind::Credentials,
        ErrorKind::Signing,
        ErrorKind::PaginationStalled,
        ErrorKind::WaitTimeout,
        ErrorKind::NotFound,
    ] {
        assert!(
            kinds.contains(&format!("{kind:?}")),
            "{kind:?} not exercised: {kinds:?}"
        );
    }
    let signatures = recording.signatures.lock().unwrap().clone();
    assert!(signatures.len() > 50, "{} signatures", signatures.len());
    let logs = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("ecs_assist.attempt"),
        "trace logs were captured"
    );
    let shown = shown.join("\n");
    for (name, text) in [("logs", &logs), ("output", &shown)] {
        assert!(!text.contains(STS_SECRET), "secret in the {name}");
        assert!(!text.contains(STS_TOKEN), "token in the {name}");
        for signature in &signatures {
            assert!(
                !text.contains(signature.as_str()),
                "signature {signature} in the {name}"
            );
        }
    }
}

/// The service answers a V1 signature mismatch with its string to sign,
/// which holds the `SecurityToken` parameter; the client's error shows the
/// service's message whole, so the STS token reaches `Display` (and the
/// CLI's stderr) unless `ecs-assist` masks it, which this test checks.
#[cfg(feature = "hyper")]
#[tokio::test]
async fn v1_signature_mismatch_does_not_echo_the_token() {
    use ecs_emulator::{AccessKey, Emulator};

    const ID: &str = "STS.AccessKeyIdPublic";
    const TOKEN: &str = "CAIS.StsTokenEchoedBack42";
    let emulator = Emulator::builder()
        .access_key(AccessKey::new(ID, "TheRealSecret").with_security_token(TOKEN))
        .start()
        .await
        .unwrap();
    let client = Client::builder()
        .region("cn-hangzhou")
        .endpoint(emulator.url())
        .credentials_provider(
            ecs_assist::credentials::StaticCredentialsProvider::new(ID, "NotTheSecret")
                .unwrap()
                .with_security_token(TOKEN)
                .unwrap(),
        )
        .signature_version(SignatureVersion::V1)
        .build()
        .unwrap();
    let e = within(client.describe_invocation_results().send())
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("SignatureDoesNotMatch"));
    let text = format!("{e} {e:?} {:?}", e.service_error());
    assert!(!text.contains(TOKEN), "{text}");
    emulator.shutdown().await;
}

const OAUTH_REFRESH: &str = "OAuthRefreshSecretLib5t6y";
const SSO_TOKEN: &str = "SsoAccessSecretLib7u8i";
const EXTERNAL_SECRET: &str = "ExternalSecretLib9o0p";

/// The aliyun CLI logins through the library, against the emulator's
/// OAuth and CloudSSO services and a real External command, succeeding and
/// failing: at trace level, in errors and in Debug, the OAuth refresh token
/// (and the access token it buys), the SSO access token and the External
/// command's secret never appear.
#[tokio::test]
async fn login_tokens_never_reach_the_logs() {
    let buffer = Buffer::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(buffer.clone())
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let emulator = ecs_emulator::Emulator::builder()
        .data(ecs_emulator::DataSet::demo())
        .access_key(ecs_emulator::AccessKey::new("ExtKeyId", EXTERNAL_SECRET))
        .oauth_refresh_token(OAUTH_REFRESH)
        .sso_access_token(SSO_TOKEN)
        .start()
        .await
        .unwrap();
    let url = emulator.url();
    let good = format!(
        r#"{{"mode":"AK","access_key_id":"ExtKeyId","access_key_secret":"{EXTERNAL_SECRET}"}}"#
    );
    let external = |name: &str, stdout: &str| {
        serde_json::json!({"name": name, "mode": "External",
            "process_command": format!("printf '%s' '{stdout}'")})
    };
    let oauth = |name: &str, refresh: &str| {
        serde_json::json!({"name": name, "mode": "OAuth", "oauth_site_type": "CN",
            "oauth_access_token": "expired", "oauth_access_token_expire": 1,
            "oauth_refresh_token": refresh})
    };
    let sso = |name: &str, token: &str| {
        serde_json::json!({"name": name, "mode": "CloudSSO", "cloud_sso_sign_in_url": url,
            "cloud_sso_account_id": "1", "cloud_sso_access_config": "ac",
            "access_token": token, "cloud_sso_access_token_expire": 4_102_444_800_i64})
    };
    let config = serde_json::json!({"current": "oauth", "profiles": [
        oauth("oauth", OAUTH_REFRESH),
        oauth("oauth-wrong", &format!("{OAUTH_REFRESH}-revoked")),
        sso("sso", SSO_TOKEN),
        sso("sso-wrong", &format!("{SSO_TOKEN}-revoked")),
        external("external", &good),
        external("external-cut", &good[..good.len() - 2]),
    ]});
    let fs = ecs_assist::credentials::InMemoryFileSystem::new()
        .with_home("/home/u")
        .with_file("/home/u/.aliyun/config.json", config.to_string());
    let mut shown = Vec::new();
    for (profile, ok) in [
        ("oauth", true),
        ("oauth-wrong", false),
        ("sso", true),
        ("sso-wrong", false),
        ("external", true),
        ("external-cut", false),
    ] {
        let env: std::collections::HashMap<String, String> = [
            ("HOME", "/home/u"),
            ("ALIBABA_CLOUD_PROFILE", profile),
            (
                ecs_assist::credentials::env::ENV_OAUTH_SIGN_IN_URL,
                url.as_str(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let provider_config = ecs_assist::credentials::ProviderConfig::new()
            .environment(&env)
            .file_system(fs.clone());
        let provider =
            ecs_assist::credentials::CliProfileCredentialsProvider::new(&provider_config);
        let client = Client::builder()
            .region("cn-hangzhou")
            .endpoint(url.clone())
            .credentials_provider(provider)
            .build()
            .unwrap();
        let result = within(
            client
                .describe_invocation_results()
                .invoke_id("t-hz0jdfwd9f1234")
                .send(),
        )
        .await;
        assert_eq!(result.is_ok(), ok, "{profile}: {result:?}");
        shown.push(match &result {
            Ok(page) => format!("{page:?}"),
            Err(e) => format!("{e} {e:?}"),
        });
        shown.push(format!("{client:?} {:?}", client.credentials_provider()));
    }
    let written: serde_json::Value = serde_json::from_str(
        &ecs_assist::credentials::FileSystem::read_to_string(
            &fs,
            std::path::Path::new("/home/u/.aliyun/config.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let access = written["profiles"][0]["oauth_access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(access.starts_with("oauth-"), "written back: {access}");
    emulator.shutdown().await;
    let logs = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("ecs_assist.attempt"),
        "spans are logged: {logs}"
    );
    let everything = format!("{logs}\n{}", shown.join("\n"));
    for (what, secret) in [
        ("the OAuth refresh token", OAUTH_REFRESH),
        ("the OAuth access token", access.as_str()),
        ("the SSO access token", SSO_TOKEN),
        ("the External command's secret", EXTERNAL_SECRET),
    ] {
        assert!(!everything.contains(secret), "{what} leaked: {everything}");
    }
}
