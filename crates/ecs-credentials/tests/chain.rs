//! The default chain: its order, the "what I tried" error, and caching
//! under concurrency (one refresh for 100 waiting requests).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "support/server.rs"]
mod server;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ecs_credentials::{CredentialsProvider, DefaultCredentialsChain, InMemoryFileSystem};
use ecs_sign::test_util::ManualTimeSource;
use server::{Server, session_json};
use time::macros::datetime;

const T0: time::OffsetDateTime = datetime!(2026-01-01 00:00:00 UTC);
const LIMIT: Duration = Duration::from_secs(20);

fn imds(
    id: &'static str,
    fail: Arc<AtomicBool>,
) -> impl Fn(&server::Received) -> (u16, String) + Send + Sync {
    move |r| match r.path() {
        "/latest/api/token" => (200, "tok".into()),
        "/latest/meta-data/ram/security-credentials/" => (200, "Role".into()),
        _ if fail.load(Ordering::SeqCst) => (500, "down".into()),
        _ => (
            200,
            session_json(id, "imds-secret", "imds-token", "2026-01-01T06:00:00Z"),
        ),
    }
}

struct Setup {
    env: Vec<(&'static str, String)>,
    cli: bool,
    ini: bool,
}

async fn chosen(setup: &Setup, imds_url: &str, uri_url: &str, sts_url: &str) -> (String, String) {
    let mut env: HashMap<String, String> = setup
        .env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    env.insert("HOME".into(), "/home/u".into());
    if env.contains_key("URI") {
        env.remove("URI");
        env.insert(
            "ALIBABA_CLOUD_CREDENTIALS_URI".into(),
            format!("{uri_url}/c"),
        );
    }
    let mut fs = InMemoryFileSystem::new().with_file("/tok", "jwt");
    if setup.cli {
        fs = fs.with_file(
            "/home/u/.aliyun/config.json",
            r#"{"current":"p","profiles":[{"name":"p","mode":"AK","access_key_id":"CLIAK","access_key_secret":"s"}]}"#,
        );
    }
    if setup.ini {
        fs = fs.with_file(
            "/home/u/.alibabacloud/credentials.ini",
            "[default]\ntype = access_key\naccess_key_id = INIAK\naccess_key_secret = s\n",
        );
    }
    let chain = DefaultCredentialsChain::builder()
        .environment(&env)
        .file_system(fs)
        .time_source(ManualTimeSource::new(T0))
        .imds_endpoint(imds_url)
        .sts_endpoint(sts_url)
        .build();
    let c = tokio::time::timeout(LIMIT, chain.provide_credentials())
        .await
        .unwrap()
        .unwrap();
    (
        chain.chosen_source().unwrap().to_owned(),
        c.access_key_id().to_owned(),
    )
}

#[tokio::test]
async fn chain_order_table() {
    let imds_server = Server::start(imds("IMDSAK", Arc::new(AtomicBool::new(false)))).await;
    let uri =
        Server::start(|_| (200, session_json("URIAK", "s", "t", "2026-01-01T06:00:00Z"))).await;
    let sts = Server::start(|_| {
        (
            200,
            server::sts_json("OIDCAK", "s", "t", "2026-01-01T06:00:00Z"),
        )
    })
    .await;
    let env_ak = || {
        vec![
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ENVAK".to_owned()),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "s".to_owned()),
        ]
    };
    let oidc = || {
        vec![
            ("ALIBABA_CLOUD_ROLE_ARN", "acs:ram::1:role/r".to_owned()),
            (
                "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
                "acs:ram::1:oidc-provider/p".to_owned(),
            ),
            ("ALIBABA_CLOUD_OIDC_TOKEN_FILE", "/tok".to_owned()),
        ]
    };
    let no_imds = ("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true".to_owned());
    let uri_on = ("URI", String::new());
    let cases: Vec<(Setup, &str, &str)> = vec![
        (
            Setup {
                env: [env_ak(), oidc(), vec![uri_on.clone()]].concat(),
                cli: true,
                ini: true,
            },
            "environment",
            "ENVAK",
        ),
        (
            Setup {
                env: [oidc(), vec![uri_on.clone()]].concat(),
                cli: true,
                ini: true,
            },
            "oidc",
            "OIDCAK",
        ),
        (
            Setup {
                env: vec![uri_on.clone()],
                cli: true,
                ini: true,
            },
            "cli profile",
            "CLIAK",
        ),
        (
            Setup {
                env: vec![
                    uri_on.clone(),
                    ("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "true".into()),
                ],
                cli: true,
                ini: true,
            },
            "ini file",
            "INIAK",
        ),
        (
            Setup {
                env: vec![uri_on.clone()],
                cli: false,
                ini: false,
            },
            "ecs ram role",
            "IMDSAK",
        ),
        (
            Setup {
                env: vec![uri_on.clone(), no_imds.clone()],
                cli: false,
                ini: false,
            },
            "credentials uri",
            "URIAK",
        ),
    ];
    for (setup, source, id) in &cases {
        let got = chosen(setup, &imds_server.url, &uri.url, &sts.url).await;
        assert_eq!((got.0.as_str(), got.1.as_str()), (*source, *id));
    }
}

#[tokio::test]
async fn nothing_found_lists_every_source_and_why_without_secrets() {
    let env: HashMap<String, String> = [
        ("HOME", "/home/u"),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "env-secret-value"),
        ("ALIBABA_CLOUD_ROLE_ARN", "acs:ram::1:role/r"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let fs = InMemoryFileSystem::new().with_file(
        "/home/u/.alibabacloud/credentials.ini",
        "[default]\ntype = access_key\naccess_key_secret = ini-secret-value\n",
    );
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let chain = DefaultCredentialsChain::builder()
        .environment(&env)
        .file_system(fs)
        .imds_endpoint(closed)
        .build();
    let err = tokio::time::timeout(LIMIT, chain.provide_credentials())
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind(), ecs_credentials::ErrorKind::Configuration);
    let text = err.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "no credentials found; tried, in order:");
    assert_eq!(
        lines[1],
        "  environment: ALIBABA_CLOUD_ACCESS_KEY_ID is not set"
    );
    assert_eq!(
        lines[2],
        "  oidc: ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE not set"
    );
    assert_eq!(
        lines[3],
        "  cli profile: /home/u/.aliyun/config.json not found"
    );
    assert_eq!(
        lines[4],
        "  ini file: /home/u/.alibabacloud/credentials.ini: profile `[default]`: field `access_key_id` is missing or empty"
    );
    assert!(
        lines[5].starts_with("  ecs ram role: the metadata service is unreachable"),
        "{}",
        lines[5]
    );
    assert_eq!(
        lines[6],
        "  credentials uri: ALIBABA_CLOUD_CREDENTIALS_URI is not set"
    );
    assert!(
        lines[7].starts_with("set ALIBABA_CLOUD_ACCESS_KEY_ID"),
        "{text}"
    );
    for shown in [text.clone(), format!("{err:?}"), format!("{chain:?}")] {
        assert!(!shown.contains("secret-value"), "{shown}");
    }
    assert_eq!(chain.chosen_source(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_refresh_for_100_concurrent_requests_and_last_good_on_failure() {
    let fail = Arc::new(AtomicBool::new(false));
    let server =
        Server::start_with_delay(Duration::from_millis(200), imds("IMDSAK", fail.clone())).await;
    let time = Arc::new(ManualTimeSource::new(T0));
    let env: HashMap<String, String> = [("HOME".to_owned(), "/home/u".to_owned())].into();
    let chain = Arc::new(
        DefaultCredentialsChain::builder()
            .environment(&env)
            .file_system(InMemoryFileSystem::new())
            .time_source(time.clone())
            .imds_endpoint(&server.url)
            .build(),
    );
    let creds_path = "/latest/meta-data/ram/security-credentials/Role";
    let run_100 = || {
        let chain = chain.clone();
        async move {
            let tasks: Vec<_> = (0..100)
                .map(|_| {
                    let chain = chain.clone();
                    tokio::spawn(async move { chain.provide_credentials().await })
                })
                .collect();
            let mut out = Vec::new();
            for t in tasks {
                out.push(tokio::time::timeout(LIMIT, t).await.unwrap().unwrap());
            }
            out
        }
    };
    // First resolution: 100 concurrent callers, one fetch.
    let all = run_100().await;
    assert!(
        all.iter()
            .all(|r| r.as_ref().unwrap().access_key_id() == "IMDSAK")
    );
    assert_eq!(server.count(creds_path), 1);
    // Fresh: no refresh.
    time.advance(time::Duration::hours(5));
    run_100().await;
    assert_eq!(server.count(creds_path), 1);
    // Stale (within 15 min of 06:00): exactly one refresh.
    time.advance(time::Duration::minutes(50));
    let all = run_100().await;
    assert!(all.iter().all(Result::is_ok));
    assert_eq!(server.count(creds_path), 2, "one refresh for 100 requests");
    // The new credentials expire at 06:00 too (the fake's fixed Expiration),
    // fetched at 05:50: stale after half their life, 05:55. A failing
    // refresh keeps serving them until 06:00.
    fail.store(true, Ordering::SeqCst);
    time.advance(time::Duration::minutes(6));
    let all = run_100().await;
    assert!(
        all.iter()
            .all(|r| r.as_ref().unwrap().access_key_id() == "IMDSAK")
    );
    // The failed refresh asks twice: with the IMDSv2 token, then once
    // without it (as the official library does).
    assert_eq!(
        server.count(creds_path),
        4,
        "one failed refresh, then back-off"
    );
    time.advance(time::Duration::minutes(10));
    let err = tokio::time::timeout(LIMIT, chain.provide_credentials())
        .await
        .unwrap()
        .unwrap_err()
        .to_string();
    assert!(err.contains("answered HTTP 500"), "{err}");
}
