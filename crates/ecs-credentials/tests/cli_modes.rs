//! The aliyun CLI's `External`, `CloudSSO` and `OAuth` profile modes, as the
//! official credentials library reads them: a real command, local servers
//! playing the SSO portal and the OAuth service, and (for OAuth) the
//! refreshed tokens written back into a real `config.json`.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "support/provider.rs"]
mod provider;
#[path = "support/server.rs"]
mod server;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ecs_credentials::env::ENV_OAUTH_SIGN_IN_URL;
use ecs_credentials::{
    CliProfileCredentialsProvider, ExternalProcessCredentialsProvider, InMemoryFileSystem,
    OsFileSystem, ProviderConfig,
};
use ecs_sign::test_util::ManualTimeSource;
use provider::{T0, config, get};
use server::Server;
use time::macros::datetime;

fn cli_file(profiles: &str, current: &str) -> InMemoryFileSystem {
    InMemoryFileSystem::new().with_file(
        "/home/u/.aliyun/config.json",
        format!(r#"{{"current": "{current}", "profiles": [{profiles}]}}"#),
    )
}

// ------------------------------------------------------------- External

#[tokio::test]
async fn external_runs_the_command_and_reads_its_json() {
    let json = r#"{"mode":"StsToken","access_key_id":"EXT.AK","access_key_secret":"ext-secret","sts_token":"ext-token","expiration":"2026-01-01T06:00:00Z"}"#;
    let profile = serde_json::json!({
        "name": "x", "mode": "External", "process_command": format!("printf '%s' '{json}'"),
    });
    let fs = cli_file(&profile.to_string(), "x");
    let c = get(&CliProfileCredentialsProvider::new(&config(&[], fs)))
        .await
        .unwrap();
    assert_eq!(
        (c.access_key_id(), c.security_token()),
        ("EXT.AK", Some("ext-token"))
    );
}

#[tokio::test]
async fn a_failing_external_command_names_the_profile_and_its_first_stderr_line() {
    let fs = cli_file(
        r#"{"name": "x", "mode": "External", "process_command": "sh -c 'echo ext-secret; echo \"not signed in\" >&2; exit 7'"}"#,
        "x",
    );
    let err = get(&CliProfileCredentialsProvider::new(&config(&[], fs)))
        .await
        .unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains("profile `x`"), "{text}");
    assert!(text.contains("not signed in"), "{text}");
    assert!(!text.contains("ext-secret"), "stdout never shown: {text}");
    assert!(err.is_unavailable(), "{text}");
}

#[tokio::test]
async fn an_external_command_that_hangs_is_stopped() {
    let cfg = config(&[], InMemoryFileSystem::new());
    let p = ExternalProcessCredentialsProvider::with_timeout(
        &cfg,
        "slow",
        "sleep 30",
        Duration::from_millis(300),
    )
    .unwrap();
    let err = get(&p).await.unwrap_err().to_string();
    assert!(err.contains("did not finish within 300ms"), "{err}");
    let err = ExternalProcessCredentialsProvider::new(&cfg, "bad", "echo 'open")
        .unwrap_err()
        .to_string();
    assert!(err.contains("single quote that does not close"), "{err}");
}

// ------------------------------------------------------------- CloudSSO

fn sso_profile(url: &str, expire: i64) -> String {
    format!(
        r#"{{"name": "sso", "mode": "CloudSSO", "cloud_sso_sign_in_url": "{url}/device/login",
            "cloud_sso_account_id": "1234", "cloud_sso_access_config": "ac-5678",
            "access_token": "SSO-ACCESS-TOKEN", "cloud_sso_access_token_expire": {expire}}}"#
    )
}

#[tokio::test]
async fn cloud_sso_asks_the_portal_with_the_bearer_token() {
    let portal = Server::start(|r| match (r.method.as_str(), r.path()) {
        ("POST", "/cloud-credentials") => (
            200,
            r#"{"CloudCredential":{"AccessKeyId":"STS.SSO","AccessKeySecret":"sso-secret","SecurityToken":"sso-token","Expiration":"2026-01-01T01:00:00Z"},"RequestId":"r"}"#.into(),
        ),
        _ => (404, "{}".into()),
    })
    .await;
    let fs = cli_file(&sso_profile(&portal.url, T0.unix_timestamp() + 3600), "sso");
    let p = CliProfileCredentialsProvider::new(&config(&[], fs));
    let c = get(&p).await.unwrap();
    assert_eq!(
        (c.access_key_id(), c.security_token()),
        ("STS.SSO", Some("sso-token"))
    );
    let r = &portal.requests()[0];
    assert_eq!(r.header("authorization"), Some("Bearer SSO-ACCESS-TOKEN"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"AccountId": "1234", "AccessConfigurationId": "ac-5678"})
    );
    // Cached: a second ask sends nothing.
    get(&p).await.unwrap();
    assert_eq!(portal.count("/cloud-credentials"), 1);
}

#[tokio::test]
async fn an_expired_sso_access_token_says_to_sign_in_again() {
    let portal = Server::start(|_| (500, "{}".into())).await;
    for expire in [T0.unix_timestamp() - 1, 0] {
        let fs = cli_file(&sso_profile(&portal.url, expire), "sso");
        let err = get(&CliProfileCredentialsProvider::new(&config(&[], fs)))
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("aliyun configure --profile sso --mode CloudSSO"),
            "{text}"
        );
        assert!(!text.contains("SSO-ACCESS-TOKEN"), "{text}");
        assert!(!err.is_unavailable(), "a sign-in, not an outage");
    }
    assert_eq!(
        portal.requests().len(),
        0,
        "nothing sent with an expired token"
    );
}

// ---------------------------------------------------------------- OAuth

fn temp_home(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ecs-assist-oauth-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join(".aliyun")).unwrap();
    dir
}

fn os_config(home: &Path, oauth: &str) -> ProviderConfig {
    let vars: HashMap<String, String> = [
        ("HOME".to_owned(), home.display().to_string()),
        (ENV_OAUTH_SIGN_IN_URL.to_owned(), oauth.to_owned()),
    ]
    .into();
    ProviderConfig::new()
        .environment(&vars)
        .file_system(OsFileSystem)
        .time_source(Arc::new(ManualTimeSource::new(T0)))
}

fn oauth_service() -> impl Fn(&server::Received) -> (u16, String) + Send + Sync {
    |r| {
        match (r.method.as_str(), r.path()) {
        ("POST", "/v1/token") => (
            200,
            r#"{"access_token":"NEW-ACCESS","refresh_token":"NEW-REFRESH","expires_in":7200}"#
                .into(),
        ),
        ("POST", "/v1/exchange") if r.header("authorization") == Some("Bearer NEW-ACCESS") => (
            200,
            r#"{"AccessKeyId":"STS.OAUTH","AccessKeySecret":"oauth-secret","SecurityToken":"oauth-token","Expiration":"2026-01-01T03:00:00Z"}"#.into(),
        ),
        _ => (401, r#"{"error":"invalid_token"}"#.into()),
    }
    }
}

#[tokio::test]
async fn oauth_refreshes_exchanges_and_writes_the_tokens_back() {
    let service = Server::start(oauth_service()).await;
    let home = temp_home("refresh");
    let file = home.join(".aliyun/config.json");
    let other = r#"{"name": "keep", "mode": "AK", "access_key_id": "KEEP", "access_key_secret": "keep-secret"}"#;
    std::fs::write(
        &file,
        format!(
            r#"{{"current": "o", "profiles": [{other}, {{"name": "o", "mode": "OAuth", "oauth_site_type": "CN",
                "oauth_access_token": "OLD-ACCESS", "oauth_access_token_expire": {},
                "oauth_refresh_token": "OLD-REFRESH"}}], "meta_path": ""}}"#,
            T0.unix_timestamp() - 10
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let c = get(&CliProfileCredentialsProvider::new(&os_config(
        &home,
        &service.url,
    )))
    .await
    .unwrap();
    assert_eq!(
        (c.access_key_id(), c.security_token()),
        ("STS.OAUTH", Some("oauth-token"))
    );
    let token = &service.requests()[0];
    assert_eq!(token.path(), "/v1/token");
    let form = server::form(&token.body);
    let f = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(f("grant_type"), Some("refresh_token"));
    assert_eq!(f("refresh_token"), Some("OLD-REFRESH"));
    assert_eq!(f("client_id"), Some("4038181954557748008"));
    assert_eq!(service.requests()[1].path(), "/v1/exchange");

    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let profiles = written["profiles"].as_array().unwrap();
    let o = profiles.iter().find(|p| p["name"] == "o").unwrap();
    assert_eq!(o["oauth_access_token"], "NEW-ACCESS");
    assert_eq!(o["oauth_refresh_token"], "NEW-REFRESH");
    assert_eq!(o["oauth_access_token_expire"], T0.unix_timestamp() + 7200);
    assert_eq!(o["access_key_id"], "STS.OAUTH");
    assert_eq!(o["sts_token"], "oauth-token");
    assert_eq!(
        o["sts_expiration"],
        datetime!(2026-01-01 03:00:00 UTC).unix_timestamp()
    );
    let keep: serde_json::Value = serde_json::from_str(other).unwrap();
    assert_eq!(
        profiles.iter().find(|p| p["name"] == "keep").unwrap(),
        &keep
    );
    assert_eq!(written["current"], "o");
    assert_eq!(written["meta_path"], "");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the file's permissions are kept");
    }
    // A second client reads the cached STS credentials from the file and
    // asks nothing.
    let before = service.requests().len();
    let c = get(&CliProfileCredentialsProvider::new(&os_config(
        &home,
        &service.url,
    )))
    .await
    .unwrap();
    assert_eq!(c.access_key_id(), "STS.OAUTH");
    assert_eq!(service.requests().len(), before);
    let _ = std::fs::remove_dir_all(&home);
}

#[tokio::test]
async fn oauth_without_a_refresh_token_says_to_sign_in_again() {
    let service = Server::start(oauth_service()).await;
    let home = temp_home("norefresh");
    std::fs::write(
        home.join(".aliyun/config.json"),
        r#"{"current": "o", "profiles": [{"name": "o", "mode": "OAuth", "oauth_access_token": "OLD"}]}"#,
    )
    .unwrap();
    let err = get(&CliProfileCredentialsProvider::new(&os_config(
        &home,
        &service.url,
    )))
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("aliyun configure --mode OAuth"), "{err}");
    assert_eq!(service.requests().len(), 0);
    let _ = std::fs::remove_dir_all(&home);
}
