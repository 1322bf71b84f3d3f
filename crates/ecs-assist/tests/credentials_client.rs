//! End to end: a client given no credentials finds them through the
//! default chain (an ini file, the metadata service) and calls the emulator.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../../ecs-credentials/tests/support/server.rs"]
mod server;

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use ecs_assist::Client;
use ecs_emulator::{AccessKey, DataSet, Emulator};
use server::{Server, session_json};

const LIMIT: Duration = Duration::from_secs(30);

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ecs-assist-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// An environment naming `dir/creds.ini`, whose `[default]` key is wrong and
/// whose `[section]` holds `id` and `secret` (written as given).
fn profile_env(dir: &Path, section: &str, id: &str, secret: &str) -> HashMap<String, String> {
    let ini = dir.join("creds.ini");
    std::fs::write(
        &ini,
        format!(
            "[default]\ntype = access_key\naccess_key_id = WrongKey\naccess_key_secret = x\n\n[{section}]\ntype = access_key\naccess_key_id = {id}\naccess_key_secret = {secret}\n"
        ),
    )
    .unwrap();
    [
        ("HOME", dir.to_str().unwrap()),
        ("ALIBABA_CLOUD_CREDENTIALS_FILE", ini.to_str().unwrap()),
        ("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true"),
        ("ALIBABA_CLOUD_REGION_ID", "cn-hangzhou"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

#[tokio::test]
async fn ini_file_named_by_the_injected_environment() {
    let emulator = Emulator::builder()
        .data(DataSet::demo())
        .access_key(AccessKey::new("IniKeyId", "ini-key-secret"))
        .start()
        .await
        .unwrap();
    let dir = temp_dir("ini");
    // The comment after the secret is not part of it.
    let env = profile_env(&dir, "work", "IniKeyId", "ini-key-secret # comment");
    let client = Client::builder()
        .endpoint(emulator.url())
        .profile("work")
        .load_env(&env)
        .build()
        .unwrap();
    let page = tokio::time::timeout(
        LIMIT,
        client
            .describe_invocation_results()
            .invoke_id("t-hz0jdfwd9f1234")
            .send(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(page.invocation.results.len(), 3);
    emulator.shutdown().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn blocking_client_reads_the_named_profile() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let emulator = runtime
        .block_on(
            Emulator::builder()
                .data(DataSet::demo())
                .access_key(AccessKey::new("ProfileKeyId", "profile-secret"))
                .start(),
        )
        .unwrap();
    let dir = temp_dir("blocking-profile");
    let env = profile_env(&dir, "ops", "ProfileKeyId", "profile-secret");
    let build = |profile: Option<&str>| {
        let builder = ecs_assist::blocking::Client::builder()
            .endpoint(emulator.url())
            .configure(|b| b.max_attempts(1));
        match profile {
            Some(name) => builder.profile(name),
            None => builder,
        }
        .load_env(&env)
        .build()
        .unwrap()
    };
    let page = build(Some("ops"))
        .describe_invocation_results()
        .invoke_id("t-hz0jdfwd9f1234")
        .send()
        .unwrap();
    assert_eq!(page.invocation.results.len(), 3);
    // Without the profile, the default one's key is refused.
    let err = build(None)
        .describe_invocation_results()
        .invoke_id("t-hz0jdfwd9f1234")
        .send()
        .unwrap_err();
    assert!(err.to_string().contains("InvalidAccessKeyId"), "{err}");
    runtime.block_on(emulator.shutdown());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn ecs_ram_role_sts_credentials_are_accepted_by_the_emulator() {
    let emulator = Emulator::builder()
        .data(DataSet::demo())
        .access_key(
            AccessKey::new("STS.EcsKey", "ecs-sts-secret").with_security_token("ecs-sts-token"),
        )
        .start()
        .await
        .unwrap();
    let imds = Server::start(|r| match r.path() {
        "/latest/api/token" => (200, "v2".into()),
        "/latest/meta-data/ram/security-credentials/" => (200, "AppRole".into()),
        "/latest/meta-data/ram/security-credentials/AppRole" => (
            200,
            session_json(
                "STS.EcsKey",
                "ecs-sts-secret",
                "ecs-sts-token",
                "2099-01-01T00:00:00Z",
            ),
        ),
        _ => (404, String::new()),
    })
    .await;
    let dir = temp_dir("imds");
    let env: HashMap<String, String> =
        [("HOME".to_owned(), dir.to_str().unwrap().to_owned())].into();
    let imds_url = imds.url.clone();
    for version in [
        ecs_assist::SignatureVersion::V3,
        ecs_assist::SignatureVersion::V1,
    ] {
        let imds_url = imds_url.clone();
        let client = Client::builder()
            .region("cn-hangzhou")
            .endpoint(emulator.url())
            .signature_version(version)
            .load_env(&env)
            .default_credentials_chain(move |chain| chain.imds_endpoint(imds_url))
            .build()
            .unwrap();
        let page = tokio::time::timeout(
            LIMIT,
            client
                .describe_invocation_results()
                .invoke_id("t-hz0jdfwd9f1234")
                .send(),
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(page.invocation.results.len(), 3, "{version:?}");
    }
    emulator.shutdown().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn no_credentials_anywhere_is_a_clear_error_at_the_first_call() {
    let dir = temp_dir("none");
    let env: HashMap<String, String> = [
        ("HOME", dir.to_str().unwrap()),
        ("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let client = Client::builder()
        .region("cn-hangzhou")
        .endpoint("http://127.0.0.1:9")
        .load_env(&env)
        .build()
        .unwrap();
    let err = tokio::time::timeout(
        LIMIT,
        client.describe_invocation_results().invoke_id("t-1").send(),
    )
    .await
    .unwrap()
    .unwrap_err();
    assert_eq!(err.kind(), ecs_assist::ErrorKind::Credentials);
    let text = err.to_string();
    assert!(
        text.contains("cli profile: ") && text.contains("config.json not found"),
        "{text}"
    );
    assert!(
        text.contains("ecs ram role: disabled by ALIBABA_CLOUD_ECS_METADATA_DISABLED=true"),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
