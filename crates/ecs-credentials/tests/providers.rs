//! Each credentials source against local servers playing the metadata
//! service, a credentials URI and STS; files in memory; an injected
//! environment.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "support/provider.rs"]
mod provider;
#[path = "support/server.rs"]
mod server;

use std::sync::Arc;
use std::time::Duration;

use ecs_credentials::{
    CliProfileCredentialsProvider, CredentialsUriProvider, EcsRamRoleCredentialsProvider,
    InMemoryFileSystem, IniFileCredentialsProvider,
};
use ecs_sign::test_util::ManualTimeSource;
use provider::{T0, config_at as config, get};
use server::{HANG_UP, Server, form, session_json, sts_json};

fn imds_handler(
    role: &'static str,
    require_token: bool,
) -> impl Fn(&server::Received) -> (u16, String) + Send + Sync {
    move |r| match (r.method.as_str(), r.path()) {
        ("PUT", "/latest/api/token") if require_token => {
            assert_eq!(
                r.header("X-aliyun-ecs-metadata-token-ttl-seconds"),
                Some("21600")
            );
            (200, "tok-v2".into())
        }
        ("PUT", "/latest/api/token") => (403, "forbidden".into()),
        ("GET", p) => {
            if require_token {
                assert_eq!(
                    r.header("X-aliyun-ecs-metadata-token"),
                    Some("tok-v2"),
                    "{p}"
                );
            } else {
                assert_eq!(r.header("X-aliyun-ecs-metadata-token"), None, "{p}");
            }
            if p == "/latest/meta-data/ram/security-credentials/" {
                (200, format!("{role}\n"))
            } else if p == format!("/latest/meta-data/ram/security-credentials/{role}") {
                (
                    200,
                    session_json("STS.ECS", "ecs-secret", "ecs-token", "2026-01-01T06:00:00Z"),
                )
            } else {
                (404, "not found".into())
            }
        }
        _ => (400, String::new()),
    }
}

#[tokio::test]
async fn ecs_ram_role_with_imdsv2_token_and_role_discovery() {
    let imds = Server::start(imds_handler("MyRole", true)).await;
    let time = Arc::new(ManualTimeSource::new(T0));
    let cfg = config(&[], InMemoryFileSystem::new(), time).imds_endpoint(&imds.url);
    let p = EcsRamRoleCredentialsProvider::new(&cfg);
    let c = get(&p).await.unwrap();
    assert_eq!(
        (c.access_key_id(), c.security_token()),
        ("STS.ECS", Some("ecs-token"))
    );
    let paths: Vec<_> = imds
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path()))
        .collect();
    assert_eq!(
        paths,
        [
            "PUT /latest/api/token",
            "GET /latest/meta-data/ram/security-credentials/",
            "GET /latest/meta-data/ram/security-credentials/MyRole",
        ]
    );
    // Cached: no more requests.
    get(&p).await.unwrap();
    assert_eq!(imds.requests().len(), 3);
    assert!(!format!("{p:?}").contains("ecs-secret"));
}

#[tokio::test]
async fn ecs_ram_role_falls_back_to_v1_and_uses_the_configured_role() {
    let imds = Server::start(imds_handler("EnvRole", false)).await;
    let time = Arc::new(ManualTimeSource::new(T0));
    let cfg = config(
        &[("ALIBABA_CLOUD_ECS_METADATA", "EnvRole")],
        InMemoryFileSystem::new(),
        time,
    )
    .imds_endpoint(&imds.url);
    let c = get(&EcsRamRoleCredentialsProvider::new(&cfg))
        .await
        .unwrap();
    assert_eq!(c.access_key_id(), "STS.ECS");
    assert_eq!(
        imds.count("/latest/meta-data/ram/security-credentials/"),
        1,
        "no discovery"
    );
}

#[tokio::test]
async fn ecs_ram_role_without_v1_fails_when_no_token() {
    let imds = Server::start(imds_handler("R", false)).await;
    let time = Arc::new(ManualTimeSource::new(T0));
    let cfg = config(
        &[("ALIBABA_CLOUD_IMDSV1_DISABLED", "true")],
        InMemoryFileSystem::new(),
        time,
    )
    .imds_endpoint(&imds.url);
    let err = get(&EcsRamRoleCredentialsProvider::new(&cfg))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("gave no IMDSv2 token (HTTP 403)")
            && err.contains("ALIBABA_CLOUD_IMDSV1_DISABLED"),
        "{err}"
    );
    assert_eq!(imds.requests().len(), 1, "v1 not tried");
}

const TOKEN_HEADER: &str = "X-aliyun-ecs-metadata-token";

fn methods_and_paths(server: &Server) -> Vec<String> {
    server
        .requests()
        .iter()
        .map(|r| {
            let token = if r.header(TOKEN_HEADER).is_some() {
                " +token"
            } else {
                ""
            };
            format!("{} {}{token}", r.method, r.path())
        })
        .collect()
}

#[tokio::test]
async fn ecs_ram_role_falls_back_to_v1_when_the_token_request_fails_in_transport() {
    // The token request is cut off (a transport failure, not an HTTP
    // answer): the official library goes on with IMDSv1 unless it is
    // disabled.
    let handler = |r: &server::Received| match (r.method.as_str(), r.path()) {
        ("PUT", _) => (HANG_UP, String::new()),
        ("GET", "/latest/meta-data/ram/security-credentials/") => (200, "R\n".into()),
        ("GET", "/latest/meta-data/ram/security-credentials/R") => (
            200,
            session_json("STS.V1", "v1-secret", "v1-token", "2026-01-01T06:00:00Z"),
        ),
        _ => (404, String::new()),
    };
    let imds = Server::start(handler).await;
    let time = Arc::new(ManualTimeSource::new(T0));
    let cfg = config(&[], InMemoryFileSystem::new(), time.clone()).imds_endpoint(&imds.url);
    let c = get(&EcsRamRoleCredentialsProvider::new(&cfg))
        .await
        .unwrap();
    assert_eq!(c.access_key_id(), "STS.V1");
    assert_eq!(
        methods_and_paths(&imds),
        [
            "PUT /latest/api/token",
            "GET /latest/meta-data/ram/security-credentials/",
            "GET /latest/meta-data/ram/security-credentials/R",
        ]
    );

    let imds = Server::start(handler).await;
    let cfg = config(
        &[("ALIBABA_CLOUD_IMDSV1_DISABLED", "true")],
        InMemoryFileSystem::new(),
        time,
    )
    .imds_endpoint(&imds.url);
    let err = get(&EcsRamRoleCredentialsProvider::new(&cfg))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("the metadata service is unreachable")
            && err.ends_with("and ALIBABA_CLOUD_IMDSV1_DISABLED is true, so IMDSv1 is not tried"),
        "{err}"
    );
    assert_eq!(methods_and_paths(&imds), ["PUT /latest/api/token"]);
}

#[tokio::test]
async fn ecs_ram_role_retries_a_failed_get_once_without_the_token() {
    // Every GET with the token fails (the role list is cut off, the
    // credentials answer 500); each is tried once more without it.
    let handler = |r: &server::Received| {
        let token = r.header(TOKEN_HEADER).is_some();
        match (r.method.as_str(), r.path()) {
            ("PUT", _) => (200, "tok-v2".into()),
            ("GET", "/latest/meta-data/ram/security-credentials/") if token => {
                (HANG_UP, String::new())
            }
            ("GET", "/latest/meta-data/ram/security-credentials/") => (200, "R".into()),
            ("GET", "/latest/meta-data/ram/security-credentials/R") if token => {
                (500, "busy".into())
            }
            ("GET", "/latest/meta-data/ram/security-credentials/R") => (
                200,
                session_json("STS.V1", "v1-secret", "v1-token", "2026-01-01T06:00:00Z"),
            ),
            _ => (404, String::new()),
        }
    };
    let imds = Server::start(handler).await;
    let time = Arc::new(ManualTimeSource::new(T0));
    let cfg = config(&[], InMemoryFileSystem::new(), time.clone()).imds_endpoint(&imds.url);
    let c = get(&EcsRamRoleCredentialsProvider::new(&cfg))
        .await
        .unwrap();
    assert_eq!(c.access_key_id(), "STS.V1");
    assert_eq!(
        methods_and_paths(&imds),
        [
            "PUT /latest/api/token",
            "GET /latest/meta-data/ram/security-credentials/ +token",
            "GET /latest/meta-data/ram/security-credentials/",
            "GET /latest/meta-data/ram/security-credentials/R +token",
            "GET /latest/meta-data/ram/security-credentials/R",
        ]
    );

    // IMDSv1 disabled: no second try.
    let imds = Server::start(handler).await;
    let cfg = config(
        &[
            ("ALIBABA_CLOUD_IMDSV1_DISABLED", "true"),
            ("ALIBABA_CLOUD_ECS_METADATA", "R"),
        ],
        InMemoryFileSystem::new(),
        time,
    )
    .imds_endpoint(&imds.url);
    let err = get(&EcsRamRoleCredentialsProvider::new(&cfg))
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "the metadata service answered HTTP 500 for the RAM role `R`"
    );
    assert_eq!(
        methods_and_paths(&imds),
        [
            "PUT /latest/api/token",
            "GET /latest/meta-data/ram/security-credentials/R +token",
        ]
    );
}

#[tokio::test]
async fn ecs_ram_role_reports_both_failures_when_v1_fails_too() {
    let imds = Server::start(|r| match (r.method.as_str(), r.header(TOKEN_HEADER)) {
        ("PUT", _) => (200, "tok-v2".into()),
        ("GET", Some(_)) => (500, "busy".into()),
        ("GET", None) => (403, "v1 is off".into()),
        _ => (404, String::new()),
    })
    .await;
    let time = Arc::new(ManualTimeSource::new(T0));
    let cfg = config(
        &[("ALIBABA_CLOUD_ECS_METADATA", "R")],
        InMemoryFileSystem::new(),
        time,
    )
    .imds_endpoint(&imds.url);
    let err = get(&EcsRamRoleCredentialsProvider::new(&cfg))
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "the metadata service answered HTTP 403 for the RAM role `R` without the IMDSv2 token; with it: the metadata service answered HTTP 500 for the RAM role `R`"
    );
}

#[tokio::test]
async fn ecs_ram_role_unreachable_and_silent_services() {
    let time = Arc::new(ManualTimeSource::new(T0));
    // A port nobody listens on.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let cfg = config(&[], InMemoryFileSystem::new(), time.clone()).imds_endpoint(&closed);
    let err = get(&EcsRamRoleCredentialsProvider::new(&cfg))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("the metadata service is unreachable"),
        "{err}"
    );
    // Accepts but never answers: the 1 s timeout.
    let silent = Server::start_with_delay(Duration::from_secs(30), |_| (200, String::new())).await;
    let cfg = config(&[], InMemoryFileSystem::new(), time).imds_endpoint(&silent.url);
    let err = get(&EcsRamRoleCredentialsProvider::new(&cfg))
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(err, "the metadata service did not answer within 1000 ms");
}

#[tokio::test]
async fn credentials_uri() {
    let uri = Server::start(|r| {
        assert_eq!(r.path(), "/creds");
        (
            200,
            session_json("STS.URI", "uri-secret", "uri-token", "2026-01-01T01:00:00Z"),
        )
    })
    .await;
    let time = Arc::new(ManualTimeSource::new(T0));
    let url = format!("{}/creds?k=v", uri.url);
    let cfg = config(
        &[("ALIBABA_CLOUD_CREDENTIALS_URI", &url)],
        InMemoryFileSystem::new(),
        time,
    );
    let p = CredentialsUriProvider::from_env(&cfg).unwrap();
    let c = get(&p).await.unwrap();
    assert_eq!(
        (c.access_key_id(), c.security_token()),
        ("STS.URI", Some("uri-token"))
    );

    let bad = Server::start(|_| (200, r#"{"Code":"Failed"}"#.into())).await;
    let cfg = config(
        &[],
        InMemoryFileSystem::new(),
        Arc::new(ManualTimeSource::new(T0)),
    );
    let err = get(&CredentialsUriProvider::new(&cfg, &bad.url))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("answered Code `Failed`"), "{err}");
}

/// An STS that checks the V1 signature with `source_secret` (AssumeRole)
/// or that there is none (AssumeRoleWithOIDC), and records the form.
async fn sts(source_secret: &'static str) -> Server {
    Server::start(move |r| {
        assert_eq!(r.method, "POST");
        assert_eq!(r.header("content-type"), Some("application/x-www-form-urlencoded"));
        let query = r.target.split_once('?').map(|(_, q)| q).unwrap_or_default();
        let mut params = form(query);
        let action = params.iter().find(|(k, _)| k == "Action").map(|(_, v)| v.clone()).unwrap();
        params.extend(form(&r.body));
        match action.as_str() {
            "AssumeRole" => {
                let verified = ecs_sign::rpc_v1::verify("POST", &params, |id| (id == "SRCAK" || id == "STS.SRC").then_some(source_secret));
                match verified {
                    Ok(_) => (200, sts_json("STS.ROLE", "role-secret", "role-token", "2026-01-01T01:00:00Z")),
                    // As the real service: the message quotes the string
                    // to sign, with the caller's SecurityToken in it.
                    Err(_) => (400, r#"{"Code":"SignatureDoesNotMatch","Message":"The signature does not match. Server string to sign is:POST&%2F&AccessKeyId%3DSRCAK%26SecurityToken%3Dsecret-session-token%26Timestamp%3D1","RequestId":"R1"}"#.into()),
                }
            }
            "AssumeRoleWithOIDC" => {
                assert!(!params.iter().any(|(k, _)| k == "Signature" || k == "AccessKeyId"), "anonymous");
                let token = params.iter().find(|(k, _)| k == "OIDCToken").map(|(_, v)| v.clone()).unwrap();
                (200, sts_json(&format!("STS.OIDC.{token}"), "oidc-secret", "oidc-token", "2026-01-01T01:00:00Z"))
            }
            _ => (400, r#"{"Code":"InvalidAction"}"#.into()),
        }
    })
    .await
}

fn param(r: &server::Received, name: &str) -> Option<String> {
    form(&r.body)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

const CLI_CONFIG: &str = r#"{
  "current": "role",
  "profiles": [
    {"name": "role", "mode": "RamRoleArn", "access_key_id": "SRCAK", "access_key_secret": "src-secret",
     "ram_role_arn": "acs:ram::123:role/deploy", "ram_session_name": "sess", "expired_seconds": 1800,
     "policy": "{\"Version\":\"1\"}", "external_id": "ext-1", "sts_region": "cn-shanghai", "enable_vpc": true},
    {"name": "base", "mode": "StsToken", "access_key_id": "STS.SRC", "access_key_secret": "src-secret", "sts_token": "src-token"},
    {"name": "chained", "mode": "ChainableRamRoleArn", "source_profile": "base", "ram_role_arn": "acs:ram::123:role/next"},
    {"name": "wrongkey", "mode": "RamRoleArn", "access_key_id": "SRCAK", "access_key_secret": "not-it", "ram_role_arn": "acs:ram::123:role/x"},
    {"name": "oidc", "mode": "OIDC", "ram_role_arn": "acs:ram::123:role/k8s", "oidc_provider_arn": "acs:ram::123:oidc-provider/ack", "oidc_token_file": "/var/run/token"},
    {"name": "ecs", "mode": "EcsRamRole", "ram_role_name": "CliRole"}
  ]
}"#;

fn cli_fs() -> InMemoryFileSystem {
    InMemoryFileSystem::new()
        .with_file("/home/u/.aliyun/config.json", CLI_CONFIG)
        .with_file("/var/run/token", "jwt-1\n")
}

#[tokio::test]
async fn cli_ram_role_arn_assumes_the_role_with_a_signed_request() {
    let sts = sts("src-secret").await;
    let time = Arc::new(ManualTimeSource::new(T0));
    let cfg = config(&[], cli_fs(), time).sts_endpoint(&sts.url);
    let c = get(&CliProfileCredentialsProvider::new(&cfg))
        .await
        .unwrap();
    assert_eq!(
        (c.access_key_id(), c.security_token()),
        ("STS.ROLE", Some("role-token"))
    );
    let r = &sts.requests()[0];
    assert_eq!(
        param(r, "RoleArn").as_deref(),
        Some("acs:ram::123:role/deploy")
    );
    assert_eq!(param(r, "RoleSessionName").as_deref(), Some("sess"));
    assert_eq!(param(r, "DurationSeconds").as_deref(), Some("1800"));
    assert_eq!(param(r, "ExternalId").as_deref(), Some("ext-1"));
    assert_eq!(param(r, "Policy").as_deref(), Some(r#"{"Version":"1"}"#));
    let query = form(r.target.split_once('?').unwrap().1);
    let q = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(q("Action"), Some("AssumeRole"));
    assert_eq!(q("Version"), Some("2015-04-01"));
    assert_eq!(q("Timestamp"), Some("2026-01-01T00:00:00Z"));
}

#[tokio::test]
async fn cli_chainable_role_signs_with_the_source_profile_and_its_token() {
    let sts = sts("src-secret").await;
    let time = Arc::new(ManualTimeSource::new(T0));
    let cfg =
        config(&[("ALIBABA_CLOUD_PROFILE", "chained")], cli_fs(), time).sts_endpoint(&sts.url);
    let c = get(&CliProfileCredentialsProvider::new(&cfg))
        .await
        .unwrap();
    assert_eq!(c.access_key_id(), "STS.ROLE");
    let query = form(sts.requests()[0].target.split_once('?').unwrap().1);
    assert!(query.contains(&("SecurityToken".to_owned(), "src-token".to_owned())));
    assert!(query.contains(&("AccessKeyId".to_owned(), "STS.SRC".to_owned())));
}

#[tokio::test]
async fn sts_errors_carry_code_and_request_id() {
    let sts = sts("src-secret").await;
    let time = Arc::new(ManualTimeSource::new(T0));
    let cfg =
        config(&[("ALIBABA_CLOUD_PROFILE", "wrongkey")], cli_fs(), time).sts_endpoint(&sts.url);
    let err = get(&CliProfileCredentialsProvider::new(&cfg))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("AssumeRole")
            && err.contains("SignatureDoesNotMatch (http status 400)")
            && err.contains("request id R1"),
        "{err}"
    );
    assert!(!err.contains("not-it"), "{err}");
    assert!(!err.contains("secret-session-token"), "{err}");
    // The server's string to sign (the token masked in it) is kept apart
    // from the message, which stays on one line.
    assert!(
        !err.contains("string to sign") && !err.contains('\n'),
        "{err}"
    );
}

#[tokio::test]
async fn oidc_rereads_the_token_file_at_each_refresh() {
    let sts = sts("unused").await;
    let dir = std::env::temp_dir().join(format!("ecs-assist-oidc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let token = dir.join("token");
    std::fs::write(&token, "jwt-1").unwrap();
    let time = Arc::new(ManualTimeSource::new(T0));
    let cfg = config(&[], InMemoryFileSystem::new(), time.clone())
        .file_system(ecs_credentials::OsFileSystem)
        .sts_endpoint(&sts.url);
    let p = ecs_credentials::OidcRoleArnCredentialsProvider::new(
        &cfg,
        "acs:ram::1:role/k",
        "acs:ram::1:oidc-provider/p",
        &token,
    );
    assert_eq!(get(&p).await.unwrap().access_key_id(), "STS.OIDC.jwt-1");
    std::fs::write(&token, "jwt-2").unwrap();
    assert_eq!(
        get(&p).await.unwrap().access_key_id(),
        "STS.OIDC.jwt-1",
        "cached"
    );
    time.advance(time::Duration::minutes(50));
    assert_eq!(
        get(&p).await.unwrap().access_key_id(),
        "STS.OIDC.jwt-2",
        "refreshed with the new token"
    );
    assert_eq!(sts.requests().len(), 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn cli_oidc_and_ecs_modes() {
    let sts = sts("unused").await;
    let imds = Server::start(imds_handler("CliRole", true)).await;
    let time = Arc::new(ManualTimeSource::new(T0));
    let cfg =
        config(&[("ALIBABA_CLOUD_PROFILE", "oidc")], cli_fs(), time.clone()).sts_endpoint(&sts.url);
    let c = get(&CliProfileCredentialsProvider::new(&cfg))
        .await
        .unwrap();
    assert_eq!(c.access_key_id(), "STS.OIDC.jwt-1");
    let cfg = config(&[("ALIBABA_CLOUD_PROFILE", "ecs")], cli_fs(), time).imds_endpoint(&imds.url);
    let c = get(&CliProfileCredentialsProvider::new(&cfg))
        .await
        .unwrap();
    assert_eq!(c.access_key_id(), "STS.ECS");
    assert_eq!(
        imds.count("/latest/meta-data/ram/security-credentials/CliRole"),
        1
    );
}

#[tokio::test]
async fn ini_ram_role_arn_and_ecs_ram_role() {
    let sts = sts("ini-secret").await;
    let imds = Server::start(imds_handler("IniRole", true)).await;
    let ini = "[default]\ntype = ram_role_arn\naccess_key_id = SRCAK\naccess_key_secret = ini-secret\nrole_arn = acs:ram::1:role/ini\nrole_session_name = ini-sess\nduration_seconds = 1200\npolicy = {\"Statement\":[]}\nexternal_id = ext-1\n\n[ecs]\ntype = ecs_ram_role\nrole_name = IniRole\n";
    let fs = InMemoryFileSystem::new().with_file("/home/u/.alibabacloud/credentials.ini", ini);
    let time = Arc::new(ManualTimeSource::new(T0));
    let cfg = config(&[], fs.clone(), time.clone()).sts_endpoint(&sts.url);
    assert_eq!(
        get(&IniFileCredentialsProvider::new(&cfg))
            .await
            .unwrap()
            .access_key_id(),
        "STS.ROLE"
    );
    let r = &sts.requests()[0];
    assert_eq!(param(r, "RoleSessionName").as_deref(), Some("ini-sess"));
    assert_eq!(param(r, "DurationSeconds").as_deref(), Some("1200"));
    assert_eq!(param(r, "Policy").as_deref(), Some(r#"{"Statement":[]}"#));
    assert_eq!(param(r, "ExternalId").as_deref(), Some("ext-1"));
    let cfg = config(&[], fs, time)
        .imds_endpoint(&imds.url)
        .profile("ecs");
    assert_eq!(
        get(&IniFileCredentialsProvider::new(&cfg))
            .await
            .unwrap()
            .access_key_id(),
        "STS.ECS"
    );
}
