//! The `ecs-assist` binary never prints the secret, the STS token or a
//! signature it sent: success, every kind of error, dry-run, all at `-vv`
//! (trace logging), with both signature versions. The signatures are
//! collected by a capturing proxy between the binary and the emulator.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read as _, Write as _};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use ecs_emulator::{AccessKey, DataSet, Emulator, EmulatorHandle, Fault};
use support::{clean_command, output, runtime};

mod support;

const ID: &str = "STS.CliAccessKeyId";
const SECRET: &str = "CliStsSecretQ7wE4rT1yU8";
const TOKEN: &str = "CAIS.CliStsTokenA5sD2fG9hJ6";

/// A TCP proxy on loopback that forwards to `upstream` and records every
/// byte the client sent. Its threads end with the test process.
fn capturing_proxy(upstream: std::net::SocketAddr) -> (String, Arc<Mutex<Vec<u8>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { continue };
            let Ok(mut server) = TcpStream::connect(upstream) else {
                continue;
            };
            let (mut client_read, mut server_write) =
                (client.try_clone().unwrap(), server.try_clone().unwrap());
            let record = Arc::clone(&record);
            std::thread::spawn(move || {
                let mut buf = [0u8; 16384];
                while let Ok(n) = client_read.read(&mut buf) {
                    if n == 0 || server_write.write_all(&buf[..n]).is_err() {
                        break;
                    }
                    record.lock().unwrap().extend_from_slice(&buf[..n]);
                }
                let _ = server_write.shutdown(Shutdown::Write);
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut server, &mut client);
                let _ = client.shutdown(Shutdown::Both);
            });
        }
    });
    (url, seen)
}

/// Every `Signature=` value in the captured requests (V1 query parameters
/// and V3 `Authorization` headers), as sent and percent-decoded.
fn signatures(captured: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(captured);
    let mut out = Vec::new();
    for (at, _) in text.match_indices("Signature=") {
        let value: String = text[at + "Signature=".len()..]
            .chars()
            .take_while(|c| !matches!(c, '&' | ' ' | '\r' | '\n' | ','))
            .collect();
        if value.len() >= 20 {
            out.push(percent_decode(&value));
            out.push(value);
        }
    }
    out.sort();
    out.dedup();
    out
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn cli(url: &str, signature: &str) -> Command {
    let mut cmd = clean_command();
    cmd.env("ALIBABA_CLOUD_ACCESS_KEY_ID", ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
        .env("ALIBABA_CLOUD_SECURITY_TOKEN", TOKEN)
        .args([
            "--endpoint",
            url,
            "--region",
            "cn-hangzhou",
            "--signature",
            signature,
            "--max-attempts",
            "2",
            "-vv",
        ]);
    cmd
}

/// Stdout and stderr, ANSI colour codes removed (so no code can split a
/// value the checks look for).
fn text(output: &Output) -> String {
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let mut out = String::with_capacity(all.len());
    let mut chars = all.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Runs one case and keeps what it printed; `exit` is the expected code.
fn case(printed: &mut Vec<String>, name: &str, exit: i32, cmd: &mut Command) {
    let output = output(cmd);
    let shown = text(&output);
    assert_eq!(output.status.code(), Some(exit), "{name}: {shown}");
    printed.push(format!("== {name}\n{shown}"));
}

fn set(emulator: &EmulatorHandle, fault: &str) {
    emulator.set_faults(vec![fault.parse::<Fault>().unwrap()]);
}

#[test]
fn no_output_at_trace_level_shows_secrets_or_signatures() {
    let rt = runtime();
    let emulator = rt.block_on(async {
        Emulator::builder()
            .data(DataSet::demo())
            .access_key(AccessKey::new(ID, SECRET).with_security_token(TOKEN))
            .start()
            .await
            .unwrap()
    });
    let (url, captured) = capturing_proxy(emulator.addr());
    let mut printed = Vec::new();
    for sig in ["v3", "v1"] {
        let p = &mut printed;
        // Success: one page, every page, the waiter (which sees a failure).
        case(
            p,
            "results",
            0,
            cli(&url, sig).args([
                "--output",
                "ndjson",
                "results",
                "--invoke-id",
                "t-hz0jdfwd9f1234",
            ]),
        );
        case(
            p,
            "paging",
            0,
            cli(&url, sig).args(["--output", "json", "results", "--page-size", "2"]),
        );
        case(
            p,
            "wait",
            3,
            cli(&url, sig).args([
                "wait",
                "--invoke-id",
                "t-hz0jdfwd9f1234",
                "--interval",
                "50ms",
            ]),
        );
        // Dry-run.
        case(
            p,
            "dry-run",
            0,
            cli(&url, sig).args(["--dry-run", "results", "--invoke-id", "t-1"]),
        );
        // Service errors, transport errors, decode errors.
        for fault in [
            "throttle:10ms",
            "error503",
            "html",
            "reset",
            "truncate",
            "badjson",
            "badxml",
        ] {
            set(&emulator, fault);
            case(p, fault, 1, cli(&url, sig).args(["results"]));
        }
        set(&emulator, "delay:2s");
        case(
            p,
            "timeout",
            1,
            cli(&url, sig).args(["--read-timeout", "200ms", "results"]),
        );
        emulator.clear_faults();
        // The waiter gives up on an invocation that never appears.
        case(
            p,
            "unknown invocation",
            4,
            cli(&url, sig).args([
                "wait",
                "--invoke-id",
                "t-doesnotexist0000",
                "--timeout",
                "1s",
                "--interval",
                "100ms",
            ]),
        );
        // Bad input and bad credentials: nothing sent.
        case(
            p,
            "bad input",
            2,
            cli(&url, sig).args(["results", "--page-size", "0"]),
        );
        case(
            p,
            "bad token",
            2,
            cli(&url, sig)
                .env("ALIBABA_CLOUD_SECURITY_TOKEN", format!("{TOKEN}\u{1}x"))
                .args(["results"]),
        );
        // A signature mismatch: the V1 answer quotes the string to sign,
        // token included, which the client masks.
        case(
            p,
            "wrong secret",
            1,
            cli(&url, sig)
                .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "NotTheSecret")
                .args(["results"]),
        );
    }
    let printed = printed.join("\n");
    let sent = signatures(&captured.lock().unwrap());
    assert!(sent.len() > 40, "{} signatures captured", sent.len());
    assert!(
        printed.contains("ecs_assist.attempt"),
        "trace logging was on: {printed}"
    );
    assert!(!printed.contains(SECRET), "the secret was printed");
    assert!(!printed.contains(TOKEN), "the token was printed");
    for signature in &sent {
        assert!(
            !printed.contains(signature.as_str()),
            "signature {signature} was printed"
        );
    }
    rt.block_on(emulator.shutdown());
}

const OAUTH_REFRESH: &str = "OAuthRefreshSecretZ9x8c7V6";
const SSO_TOKEN: &str = "SsoAccessSecretK3j4h5G6";
const EXTERNAL_SECRET: &str = "ExternalSecretP0o9i8U7";

/// The aliyun CLI logins (OAuth, CloudSSO, an External command) at trace
/// level, succeeding and failing: the OAuth refresh token (and the access
/// token it is exchanged for), the SSO access token and the External
/// command's secret never appear in any output.
#[test]
fn login_tokens_and_external_secrets_never_appear() {
    let rt = runtime();
    let emulator = rt.block_on(async {
        Emulator::builder()
            .data(DataSet::demo())
            .access_key(AccessKey::new("ExtKeyId", EXTERNAL_SECRET))
            .oauth_refresh_token(OAUTH_REFRESH)
            .sso_access_token(SSO_TOKEN)
            .start()
            .await
            .unwrap()
    });
    let url = emulator.url();
    let home = std::env::temp_dir().join(format!("ecs-cli-secrets-login-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(home.join(".aliyun")).unwrap();
    let script = |name: &str, stdout: &str| {
        let path = home.join(name);
        std::fs::write(&path, format!("#!/bin/sh\ncat <<'EOF'\n{stdout}\nEOF\n")).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        path
    };
    let good = format!(
        r#"{{"mode":"AK","access_key_id":"ExtKeyId","access_key_secret":"{EXTERNAL_SECRET}"}}"#
    );
    let external = |name: &str, stdout: &str| serde_json::json!({"name": name, "mode": "External", "process_command": script(name, stdout)});
    let oauth = |name: &str, refresh: &str| {
        serde_json::json!({"name": name, "mode": "OAuth", "oauth_site_type": "CN",
            "oauth_access_token": "expired", "oauth_access_token_expire": 1,
            "oauth_refresh_token": refresh})
    };
    let sso = |name: &str, token: &str, expire: i64| {
        serde_json::json!({"name": name, "mode": "CloudSSO",
            "cloud_sso_sign_in_url": url, "cloud_sso_account_id": "1",
            "cloud_sso_access_config": "ac", "access_token": token,
            "cloud_sso_access_token_expire": expire})
    };
    let config = serde_json::json!({"current": "oauth", "profiles": [
        oauth("oauth", OAUTH_REFRESH),
        oauth("oauth-wrong", &format!("{OAUTH_REFRESH}-revoked")),
        sso("sso", SSO_TOKEN, 4_102_444_800),
        sso("sso-wrong", &format!("{SSO_TOKEN}-revoked"), 4_102_444_800),
        sso("sso-expired", SSO_TOKEN, 1),
        external("external", &good),
        external("external-cut", &good[..good.len() - 2]),
        external("external-text", &format!("access_key_secret = {EXTERNAL_SECRET}")),
        external("external-no-token", &good.replace("\"AK\"", "\"StsToken\"")),
    ]});
    std::fs::write(home.join(".aliyun/config.json"), config.to_string()).unwrap();

    let mut printed = Vec::new();
    let cases = [
        ("oauth", true),
        ("oauth-wrong", false),
        ("sso", true),
        ("sso-wrong", false),
        ("sso-expired", false),
        ("external", true),
        ("external-cut", false),
        ("external-text", false),
        ("external-no-token", false),
    ];
    for (profile, ok) in cases {
        let mut cmd = clean_command();
        cmd.env_remove("ALIBABA_CLOUD_CLI_PROFILE_DISABLED")
            .env("HOME", &home)
            .env("ALIBABA_CLOUD_PROFILE", profile)
            .env("ECS_ASSIST_OAUTH_SIGN_IN_URL", &url)
            .args(["--endpoint", &url, "--region", "cn-hangzhou", "-vv"])
            .args(["results", "--invoke-id", "t-hz0jdfwd9f1234"]);
        let out = output(&mut cmd);
        let shown = text(&out);
        assert_eq!(out.status.success(), ok, "{profile}: {shown}");
        printed.push(format!("== {profile}\n{shown}"));
    }
    let printed = printed.join("\n");
    assert!(
        printed.contains("ecs_assist.attempt"),
        "trace logging was on: {printed}"
    );
    // The access token the refresh gave, as written back into the profile.
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(home.join(".aliyun/config.json")).unwrap())
            .unwrap();
    let access = written["profiles"][0]["oauth_access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let sts_secret = written["profiles"][0]["access_key_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(access.starts_with("oauth-"), "{access}");
    for (what, secret) in [
        ("the OAuth refresh token", OAUTH_REFRESH),
        ("the OAuth access token", access.as_str()),
        ("the OAuth STS secret", sts_secret.as_str()),
        ("the SSO access token", SSO_TOKEN),
        ("the External command's secret", EXTERNAL_SECRET),
    ] {
        assert!(!printed.contains(secret), "{what} was printed: {printed}");
    }
    let _ = std::fs::remove_dir_all(&home);
    rt.block_on(emulator.shutdown());
}
