//! The whole credentials chain end to end: for each source of the chain and
//! each mode of the aliyun CLI's `config.json`, the `ecs-assist` binary runs
//! against one emulator (which also serves STS, the metadata service, a
//! credentials URI, CloudSSO and OAuth) with only that source configured,
//! and gets the demo invocation's results; then credentials that expire
//! while a long paged stream runs are refreshed once, with no request
//! failed and no result lost.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use ecs_emulator::{
    DEFAULT_OAUTH_REFRESH_TOKEN, DEFAULT_OIDC_TOKEN, DEFAULT_SSO_ACCESS_TOKEN, DataSet,
    EmulatorHandle, Fault,
};
use emulator::{SECRET, STS_SECRET, STS_TOKEN, start, start_with};
use support::{clean_command, output, runtime};

#[path = "support/emulator.rs"]
#[allow(dead_code)]
mod emulator;
#[allow(dead_code)]
mod support;

/// The demo invocation every case asks for.
const INVOKE_ID: &str = "t-hz0jdfwd9f1234";
const AK_ID: &str = "EmulatorAccessKeyId";
const ROLE_ARN: &str = "acs:ram::1234567890:role/e2e";
const OIDC_PROVIDER_ARN: &str = "acs:ram::1234567890:oidc-provider/e2e";

/// A home directory of its own, removed at the end.
struct Home(PathBuf);

impl Home {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("ecs-cli-e2e-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `text` at `relative` (directories made as needed).
    fn write(&self, relative: &str, text: &str) -> PathBuf {
        let path = self.0.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    /// `~/.aliyun/config.json` with `profile` as the only, current profile.
    fn cli_profile(&self, profile: &serde_json::Value) -> PathBuf {
        let config = serde_json::json!({"current": "e2e", "profiles": [profile]});
        self.write(".aliyun/config.json", &config.to_string())
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Where a case's credentials come from, besides `HOME`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    /// Environment variables only.
    Env,
    /// `~/.aliyun/config.json` (the CLI-profile source on).
    CliProfile,
    /// The metadata service (its source on).
    Metadata,
}

/// The binary against `emulator` with no credentials but `vars` and the
/// files in `home`, and only `source`'s part of the chain on; STS, the
/// metadata service and OAuth point at the emulator.
fn ecs_assist(
    emulator: &EmulatorHandle,
    home: &Home,
    source: Source,
    vars: &[(&str, &str)],
) -> Command {
    let url = emulator.url();
    let mut cmd = clean_command();
    cmd.env("HOME", home.path())
        .env("ECS_ASSIST_STS_ENDPOINT", &url)
        .env("ECS_ASSIST_METADATA_ENDPOINT", &url)
        .env("ECS_ASSIST_OAUTH_SIGN_IN_URL", &url)
        .envs(vars.iter().copied())
        .args([
            "--endpoint",
            &url,
            "--region",
            "cn-hangzhou",
            "--output",
            "ndjson",
        ]);
    match source {
        Source::Env => {}
        Source::CliProfile => {
            cmd.env_remove("ALIBABA_CLOUD_CLI_PROFILE_DISABLED");
        }
        Source::Metadata => {
            cmd.env_remove("ALIBABA_CLOUD_ECS_METADATA_DISABLED");
        }
    }
    cmd
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn succeeded(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstderr: {}",
        out.status.code(),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Runs one case: the demo invocation's results through `source`, which
/// must equal what the plain access key gets, and the STS sessions the
/// emulator issued for it.
fn case(
    name: &str,
    source: Source,
    vars: &[(&str, &str)],
    setup: impl FnOnce(&Home, &str),
) -> (u64, Home) {
    let rt = runtime();
    let emulator = start(&rt, DataSet::demo(), None);
    let home = Home::new(name);
    setup(&home, &emulator.url());
    let expected = succeeded(&output(
        ecs_assist(
            &emulator,
            &Home::new(&format!("{name}-ak")),
            Source::Env,
            &[
                ("ALIBABA_CLOUD_ACCESS_KEY_ID", AK_ID),
                ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET),
            ],
        )
        .args(["results", "--invoke-id", INVOKE_ID]),
    ));
    assert!(expected.lines().count() >= 1, "{expected}");
    let got = succeeded(&output(ecs_assist(&emulator, &home, source, vars).args([
        "results",
        "--invoke-id",
        INVOKE_ID,
    ])));
    assert_eq!(got, expected, "{name}");
    let issued = emulator.issued_sessions();
    rt.block_on(emulator.shutdown());
    (issued, home)
}

#[test]
fn environment_access_key() {
    let vars = [
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", AK_ID),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET),
    ];
    assert_eq!(case("env-ak", Source::Env, &vars, |_, _| {}).0, 0);
}

#[test]
fn environment_sts_token() {
    let vars = [
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", "StsKeyId"),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", STS_SECRET),
        ("ALIBABA_CLOUD_SECURITY_TOKEN", STS_TOKEN),
    ];
    assert_eq!(case("env-sts", Source::Env, &vars, |_, _| {}).0, 0);
}

#[test]
fn environment_oidc() {
    let home = Home::new("env-oidc-token");
    let token_file = home.write("token", DEFAULT_OIDC_TOKEN);
    let token_file = token_file.to_str().unwrap();
    let vars = [
        ("ALIBABA_CLOUD_ROLE_ARN", ROLE_ARN),
        ("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", OIDC_PROVIDER_ARN),
        ("ALIBABA_CLOUD_OIDC_TOKEN_FILE", token_file),
    ];
    assert_eq!(case("env-oidc", Source::Env, &vars, |_, _| {}).0, 1);
}

fn ak_profile(name: &str) -> serde_json::Value {
    serde_json::json!({"name": name, "mode": "AK", "access_key_id": AK_ID, "access_key_secret": SECRET})
}

#[test]
fn cli_profile_ak() {
    let issued = case("cli-ak", Source::CliProfile, &[], |home, _| {
        home.cli_profile(&ak_profile("e2e"));
    });
    assert_eq!(issued.0, 0);
}

#[test]
fn cli_profile_sts_token() {
    let issued = case("cli-sts", Source::CliProfile, &[], |home, _| {
        home.cli_profile(&serde_json::json!({"name": "e2e", "mode": "StsToken",
            "access_key_id": "StsKeyId", "access_key_secret": STS_SECRET, "sts_token": STS_TOKEN}));
    });
    assert_eq!(issued.0, 0);
}

#[test]
fn cli_profile_ram_role_arn() {
    let issued = case("cli-ramrole", Source::CliProfile, &[], |home, _| {
        home.cli_profile(&serde_json::json!({"name": "e2e", "mode": "RamRoleArn",
            "access_key_id": AK_ID, "access_key_secret": SECRET, "ram_role_arn": ROLE_ARN,
            "ram_session_name": "e2e"}));
    });
    assert_eq!(issued.0, 1);
}

/// A chain of two roles: the source profile's role, then this one's.
#[test]
fn cli_profile_chainable_ram_role_arn() {
    let issued = case("cli-chainable", Source::CliProfile, &[], |home, _| {
        let config = serde_json::json!({"current": "e2e", "profiles": [
            {"name": "e2e", "mode": "ChainableRamRoleArn", "source_profile": "first",
             "ram_role_arn": ROLE_ARN, "ram_session_name": "second"},
            {"name": "first", "mode": "RamRoleArn", "access_key_id": AK_ID,
             "access_key_secret": SECRET, "ram_role_arn": ROLE_ARN, "ram_session_name": "first"},
        ]});
        home.write(".aliyun/config.json", &config.to_string());
    });
    assert_eq!(issued.0, 2);
}

#[test]
fn cli_profile_oidc() {
    let issued = case("cli-oidc", Source::CliProfile, &[], |home, _| {
        let file = home.write("oidc-token", DEFAULT_OIDC_TOKEN);
        home.cli_profile(&serde_json::json!({"name": "e2e", "mode": "OIDC",
            "ram_role_arn": ROLE_ARN, "oidc_provider_arn": OIDC_PROVIDER_ARN,
            "oidc_token_file": file, "role_session_name": "e2e"}));
    });
    assert_eq!(issued.0, 1);
}

#[test]
fn cli_profile_ecs_ram_role() {
    let issued = case("cli-ecsramrole", Source::CliProfile, &[], |home, _| {
        home.cli_profile(&serde_json::json!({"name": "e2e", "mode": "EcsRamRole",
            "ram_role_name": ecs_emulator::DEFAULT_INSTANCE_ROLE}));
    });
    assert_eq!(issued.0, 1);
}

#[test]
fn cli_profile_external() {
    let issued = case("cli-external", Source::CliProfile, &[], |home, _| {
        let document = serde_json::json!({"mode": "StsToken", "access_key_id": "StsKeyId",
            "access_key_secret": STS_SECRET, "sts_token": STS_TOKEN});
        let script = home.write(
            "credential-process.sh",
            &format!("#!/bin/sh\ncat <<'EOF'\n{document}\nEOF\n"),
        );
        make_executable(&script);
        home.cli_profile(&serde_json::json!({"name": "e2e", "mode": "External",
            "process_command": script}));
    });
    assert_eq!(issued.0, 0);
}

#[cfg(unix)]
fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).unwrap();
}

#[test]
fn cli_profile_cloud_sso() {
    let issued = case("cli-sso", Source::CliProfile, &[], |home, url| {
        home.cli_profile(&serde_json::json!({"name": "e2e", "mode": "CloudSSO",
            "cloud_sso_sign_in_url": format!("{url}/device/login"),
            "cloud_sso_account_id": "1234567890", "cloud_sso_access_config": "ac-e2e",
            "access_token": DEFAULT_SSO_ACCESS_TOKEN,
            // 2100-01-01: valid for the whole run.
            "cloud_sso_access_token_expire": 4_102_444_800_i64}));
    });
    assert_eq!(issued.0, 1);
}

/// An expired OAuth access token is refreshed with the refresh token and
/// exchanged for STS keys, and the new tokens written back.
#[test]
fn cli_profile_oauth() {
    let (issued, home) = case("cli-oauth", Source::CliProfile, &[], |home, _| {
        home.cli_profile(&serde_json::json!({"name": "e2e", "mode": "OAuth",
            "oauth_site_type": "CN", "oauth_access_token": "expired-access-token",
            "oauth_access_token_expire": 1, "oauth_refresh_token": DEFAULT_OAUTH_REFRESH_TOKEN}));
    });
    assert_eq!(issued, 1);
    let config: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(home.path().join(".aliyun/config.json")).unwrap(),
    )
    .unwrap();
    let profile = &config["profiles"][0];
    let access = profile["oauth_access_token"].as_str().unwrap();
    assert!(access.starts_with("oauth-"), "{profile}");
    assert!(
        profile["access_key_id"]
            .as_str()
            .unwrap()
            .starts_with("STS."),
        "{profile}"
    );
}

#[test]
fn credentials_ini_access_key() {
    let issued = case("ini-ak", Source::Env, &[], |home, _| {
        home.write(
            ".alibabacloud/credentials.ini",
            &format!("[default]\ntype = access_key\naccess_key_id = {AK_ID}\naccess_key_secret = {SECRET}\n"),
        );
    });
    assert_eq!(issued.0, 0);
}

#[test]
fn credentials_ini_ram_role_arn() {
    let issued = case("ini-ramrole", Source::Env, &[], |home, _| {
        home.write(
            ".alibabacloud/credentials.ini",
            &format!(
                "[default]\ntype = ram_role_arn\naccess_key_id = {AK_ID}\naccess_key_secret = {SECRET}\nrole_arn = {ROLE_ARN}\nrole_session_name = e2e\n"
            ),
        );
    });
    assert_eq!(issued.0, 1);
}

#[test]
fn ecs_ram_role_from_the_metadata_service() {
    assert_eq!(case("imds", Source::Metadata, &[], |_, _| {}).0, 1);
}

#[test]
fn credentials_uri() {
    let rt = runtime();
    // The URI names the emulator, known only once it runs: a case of its own.
    let emulator = start(&rt, DataSet::demo(), None);
    let home = Home::new("uri");
    let uri = format!("{}/credentials-uri", emulator.url());
    let out = output(
        ecs_assist(
            &emulator,
            &home,
            Source::Env,
            &[("ALIBABA_CLOUD_CREDENTIALS_URI", &uri)],
        )
        .args(["results", "--invoke-id", INVOKE_ID]),
    );
    let got = succeeded(&out);
    assert!(got.contains(INVOKE_ID), "{got}");
    assert_eq!(emulator.issued_sessions(), 1);
    rt.block_on(emulator.shutdown());
}

/// How many results the refresh test pages through, and how many a page.
const STREAMED: u64 = 400;
const PAGE: &str = "20";

/// Credentials that live 10 s, a stream of 20 pages slowed to 300 ms each
/// (7 s in all): the keys from `source` (set up by `setup`, given the
/// emulator's URL) go stale half-way (at 5 s) and are refreshed once,
/// between two pages; no request fails (the emulator sees exactly the pages
/// of a run with a permanent key, plus the `credential_requests` of the two
/// fetches) and every result arrives once, in order.
fn refreshes_once_mid_stream(
    name: &str,
    source: Source,
    credential_requests: u64,
    setup: impl FnOnce(&Home, &str) -> Vec<(&'static str, String)>,
) {
    let rt = runtime();
    let results =
        |emulator: &EmulatorHandle, home: &Home, source: Source, vars: &[(&str, &str)]| {
            let out = succeeded(&output(ecs_assist(emulator, home, source, vars).args([
                "results",
                "--page-size",
                PAGE,
            ])));
            let lines: Vec<String> = out.lines().map(str::to_owned).collect();
            let distinct: BTreeSet<&String> = lines.iter().collect();
            assert_eq!(lines.len() as u64, STREAMED, "{out}");
            assert_eq!(distinct.len(), lines.len());
            lines
        };
    // The pages a permanent key needs.
    let plain = start(&rt, DataSet::default(), Some(STREAMED));
    let baseline = results(
        &plain,
        &Home::new(&format!("{name}-ak")),
        Source::Env,
        &[
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", AK_ID),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET),
        ],
    );
    let pages = plain.requests();
    rt.block_on(plain.shutdown());

    let slow = start_with(&rt, DataSet::default(), Some(STREAMED), |b| {
        b.max_session_lifetime(Duration::from_secs(10))
            .fault("delay:300ms".parse::<Fault>().unwrap())
    });
    let home = Home::new(name);
    let vars = setup(&home, &slow.url());
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // How long the run took, for the failure message only.
    #[allow(clippy::disallowed_methods)]
    let started = std::time::Instant::now();
    let streamed = results(&slow, &home, source, &vars);
    let took = started.elapsed();
    assert_eq!(
        streamed, baseline,
        "{name}: the same results, in the same order"
    );
    assert_eq!(
        slow.issued_sessions(),
        2,
        "{name}: one refresh in a run of {took:?}"
    );
    assert_eq!(
        slow.requests(),
        pages + credential_requests,
        "{name}: no request failed or was retried"
    );
    rt.block_on(slow.shutdown());
}

#[test]
fn a_ram_role_refreshes_once_mid_stream() {
    refreshes_once_mid_stream("refresh-ramrole", Source::CliProfile, 2, |home, _| {
        home.cli_profile(&serde_json::json!({"name": "e2e", "mode": "RamRoleArn",
            "access_key_id": AK_ID, "access_key_secret": SECRET, "ram_role_arn": ROLE_ARN}));
        Vec::new()
    });
}

#[test]
fn an_oidc_role_refreshes_once_mid_stream() {
    refreshes_once_mid_stream("refresh-oidc", Source::Env, 2, |home, _| {
        let file = home.write("token", DEFAULT_OIDC_TOKEN);
        vec![
            ("ALIBABA_CLOUD_ROLE_ARN", ROLE_ARN.to_owned()),
            (
                "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
                OIDC_PROVIDER_ARN.to_owned(),
            ),
            (
                "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
                file.to_str().unwrap().to_owned(),
            ),
        ]
    });
}

/// The metadata service: an IMDSv2 token and the credentials at each fetch,
/// the role's name once.
#[test]
fn the_ecs_ram_role_refreshes_once_mid_stream() {
    refreshes_once_mid_stream("refresh-imds", Source::Metadata, 2 * 2 + 1, |_, _| {
        Vec::new()
    });
}

#[test]
fn a_credentials_uri_refreshes_once_mid_stream() {
    refreshes_once_mid_stream("refresh-uri", Source::Env, 2, |_, url| {
        vec![(
            "ALIBABA_CLOUD_CREDENTIALS_URI",
            format!("{url}/credentials-uri"),
        )]
    });
}

#[test]
fn cloud_sso_refreshes_once_mid_stream() {
    refreshes_once_mid_stream("refresh-sso", Source::CliProfile, 2, |home, url| {
        home.cli_profile(&serde_json::json!({"name": "e2e", "mode": "CloudSSO",
            "cloud_sso_sign_in_url": url, "cloud_sso_account_id": "1",
            "cloud_sso_access_config": "ac-e2e", "access_token": DEFAULT_SSO_ACCESS_TOKEN,
            "cloud_sso_access_token_expire": 4_102_444_800_i64}));
        Vec::new()
    });
}

/// OAuth is not refreshed half-way: as the official library and the aliyun
/// CLI do, the STS keys it exchanged (kept in the profile) are reused for
/// their whole lifetime. Over the same stream as the other sources, one
/// exchange serves every page.
#[test]
fn oauth_keys_serve_their_whole_lifetime() {
    let rt = runtime();
    let emulator = start_with(&rt, DataSet::default(), Some(STREAMED), |b| {
        b.max_session_lifetime(Duration::from_secs(10))
            .fault("delay:300ms".parse::<Fault>().unwrap())
    });
    let home = Home::new("lifetime-oauth");
    home.cli_profile(&serde_json::json!({"name": "e2e", "mode": "OAuth",
        "oauth_site_type": "CN", "oauth_access_token": "expired",
        "oauth_access_token_expire": 1, "oauth_refresh_token": DEFAULT_OAUTH_REFRESH_TOKEN}));
    let out = succeeded(&output(
        ecs_assist(&emulator, &home, Source::CliProfile, &[]).args([
            "results",
            "--page-size",
            PAGE,
        ]),
    ));
    assert_eq!(out.lines().count() as u64, STREAMED);
    assert_eq!(emulator.issued_sessions(), 1);
    rt.block_on(emulator.shutdown());
}

/// An empty `ALIBABA_CLOUD_PROFILE` counts as unset, as the library
/// counts every empty variable: the current profile is used, not a profile
/// named ``.
#[test]
fn an_empty_profile_variable_counts_as_unset() {
    let issued = case(
        "empty-profile",
        Source::CliProfile,
        &[("ALIBABA_CLOUD_PROFILE", "")],
        |home, _| {
            home.cli_profile(&ak_profile("e2e"));
        },
    );
    assert_eq!(issued.0, 0);
}

/// Four streams sharing one client (one RamRoleArn provider) cross the
/// refresh together: one refresh serves them all (single flight), and each
/// gets every result once.
#[test]
fn concurrent_streams_sharing_a_client_refresh_once() {
    use futures::StreamExt as _;
    let rt = runtime();
    let emulator = start_with(&rt, DataSet::default(), Some(STREAMED), |b| {
        b.max_session_lifetime(Duration::from_secs(10))
            .fault("delay:300ms".parse::<Fault>().unwrap())
    });
    let url = emulator.url();
    let streams = rt.block_on(async {
        let config = ecs_assist::credentials::ProviderConfig::new().sts_endpoint(url.clone());
        let provider = ecs_assist::credentials::RamRoleArnCredentialsProvider::new(
            &config,
            ecs_assist::credentials::StaticCredentialsProvider::new(AK_ID, SECRET).unwrap(),
            ROLE_ARN,
        );
        let client = ecs_assist::Client::builder()
            .region("cn-hangzhou")
            .endpoint(url.clone())
            .credentials_provider(provider)
            .build()
            .unwrap();
        let stream = |client: ecs_assist::Client| async move {
            let items: Vec<_> = client
                .describe_invocation_results()
                .max_results(20)
                .into_paginator()
                .items()
                .collect()
                .await;
            items
                .into_iter()
                .map(|item| {
                    let item = item.unwrap();
                    format!("{}/{}", item.invoke_id, item.instance_id)
                })
                .collect::<BTreeSet<String>>()
        };
        let tasks: Vec<_> = (0..4)
            .map(|_| tokio::spawn(stream(client.clone())))
            .collect();
        let mut out = Vec::new();
        for task in tasks {
            out.push(
                tokio::time::timeout(Duration::from_secs(60), task)
                    .await
                    .unwrap()
                    .unwrap(),
            );
        }
        out
    });
    for results in &streams {
        assert_eq!(results.len() as u64, STREAMED);
        assert_eq!(results, &streams[0]);
    }
    assert_eq!(
        emulator.issued_sessions(),
        2,
        "one refresh for four streams"
    );
    rt.block_on(emulator.shutdown());
}

/// STS failing while DescribeInvocationResults answers (a fault aimed at
/// STS only): the run ends with exit 1 (a source that could not deliver,
/// not bad configuration), says which service failed, and asks ECS nothing
/// it could not sign.
#[test]
fn a_failing_sts_refresh_exits_1_and_names_sts() {
    let rt = runtime();
    let emulator = start_with(&rt, DataSet::demo(), None, |builder| {
        builder.fault("error503:on=sts".parse().unwrap())
    });
    let home = Home::new("sts-fault");
    home.cli_profile(&serde_json::json!({"name": "e2e", "mode": "RamRoleArn",
        "access_key_id": AK_ID, "access_key_secret": SECRET, "ram_role_arn": ROLE_ARN,
        "ram_session_name": "e2e"}));
    let out = output(ecs_assist(&emulator, &home, Source::CliProfile, &[]).args([
        "results",
        "--invoke-id",
        INVOKE_ID,
    ]));
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("AssumeRole"), "{stderr}");
    assert!(stderr.contains("ServiceUnavailable"), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing printed as a result");
    assert_eq!(emulator.issued_sessions(), 0);
    rt.block_on(emulator.shutdown());
}
