//! Credentials sources under abuse, through the binary: devices and FIFOs
//! where a credentials file should be, and the exit code of each class of
//! failure (1 for a source that could not deliver, 2 for configuration).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use support::{clean_command, output_within};

// The shared helpers: this file needs only some of them.
#[allow(dead_code)]
mod support;

/// Credentials failures are found before anything is sent; none of these
/// runs may take long.
const PROMPT: Duration = Duration::from_secs(20);

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A home directory of its own for the test `name`.
fn home(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ecs-cli-creds-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The binary with no credentials but what the test adds, asked for one
/// page (the endpoint is never reached: credentials fail first).
fn ecs_assist(home: &std::path::Path) -> Command {
    let mut cmd = clean_command();
    cmd.env("HOME", home).args([
        "--region",
        "cn-hangzhou",
        "--endpoint",
        "http://127.0.0.1:9",
        "--read-timeout",
        "1s",
        "results",
        "--invoke-id",
        "t-x",
    ]);
    cmd
}

fn run(cmd: &mut Command) -> Output {
    output_within(cmd, PROMPT)
}

/// Asserts the exit code and that stderr holds every one of `wanted`.
fn assert_exit(out: &Output, code: i32, wanted: &[&str]) {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "stderr: {stderr}");
    for w in wanted {
        assert!(stderr.contains(w), "`{w}` not in stderr: {stderr}");
    }
}

/// A local server for the credentials URI: every connection gets `reply`
/// after its request head, or (`None`) is held open unanswered.
fn credentials_uri(reply: Option<&'static str>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/creds", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match stream.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => return,
                    }
                }
                match reply {
                    Some(reply) => {
                        let _ = stream.write_all(reply.as_bytes());
                    }
                    // Held until the client goes away.
                    None => while matches!(stream.read(&mut byte), Ok(1)) {},
                }
            });
        }
    });
    url
}

fn http(status: &str, body: &str) -> &'static str {
    let reply = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    Box::leak(reply.into_boxed_str())
}

#[test]
fn a_credentials_uri_that_times_out_exits_1() {
    let home = home("uri-timeout");
    let url = credentials_uri(None);
    let out = run(ecs_assist(&home).env("ALIBABA_CLOUD_CREDENTIALS_URI", &url));
    assert_exit(
        &out,
        1,
        &[
            "credentials uri: the credentials URI",
            "unreachable (timeout)",
        ],
    );
    std::fs::remove_dir_all(&home).unwrap();
}

#[test]
fn every_credentials_uri_failure_exits_1() {
    let home = home("uri-failures");
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/creds", l.local_addr().unwrap())
    };
    let cases = [
        (closed, "unreachable (connect)"),
        (
            credentials_uri(Some(http("500 Internal Server Error", "down"))),
            "answered HTTP 500",
        ),
        (
            credentials_uri(Some(http("200 OK", "<html>"))),
            "answered with a body that is not JSON",
        ),
        (
            credentials_uri(Some(http("200 OK", r#"{"Code":"Failed"}"#))),
            "answered Code `Failed`",
        ),
    ];
    for (url, wanted) in cases {
        let out = run(ecs_assist(&home).env("ALIBABA_CLOUD_CREDENTIALS_URI", &url));
        assert_exit(&out, 1, &[wanted]);
    }
    std::fs::remove_dir_all(&home).unwrap();
}

#[test]
fn every_credentials_configuration_problem_exits_2() {
    let home = home("config");
    let ini = home.join("creds.ini");
    let file = ini.to_str().unwrap().to_owned();
    // The environment, the ini file's text, what stderr must say.
    type Case<'a> = (Vec<(&'a str, &'a str)>, Option<&'a str>, String);
    let cases: Vec<Case<'_>> = vec![
        (vec![], None, "no credentials found".to_owned()),
        (
            vec![("ALIBABA_CLOUD_CREDENTIALS_URI", "http://exa mple/creds")],
            None,
            "is not a valid URL".to_owned(),
        ),
        (
            vec![("ALIBABA_CLOUD_CREDENTIALS_FILE", &file)],
            Some("[default]\ntype = access_key\naccess_key_id = A\naccess_key_id = B\n"),
            format!("{file}: line 4: key `access_key_id` appears twice"),
        ),
        (
            vec![("ALIBABA_CLOUD_CREDENTIALS_FILE", &file)],
            Some(
                "[default]\ntype = access_key\naccess_key_id = A\naccess_key_secret = XyZ\u{1b}[2JqQ\n",
            ),
            "access key secret".to_owned(),
        ),
        (
            vec![
                ("ALIBABA_CLOUD_ROLE_ARN", "acs:ram::1:role/r"),
                (
                    "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
                    "acs:ram::1:oidc-provider/p",
                ),
                ("ALIBABA_CLOUD_OIDC_TOKEN_FILE", "/nonexistent/token"),
            ],
            None,
            "the OIDC token file /nonexistent/token cannot be read".to_owned(),
        ),
    ];
    for (env, contents, wanted) in cases {
        if let Some(contents) = contents {
            std::fs::write(&ini, contents).unwrap();
        }
        let mut cmd = ecs_assist(&home);
        cmd.envs(env);
        let out = run(&mut cmd);
        assert_exit(&out, 2, &[&wanted]);
        let stderr = text(&out.stderr);
        assert!(
            !stderr.contains("XyZ") && !stderr.contains("qQ"),
            "{stderr}"
        );
    }
    std::fs::remove_dir_all(&home).unwrap();
}

#[cfg(unix)]
#[test]
fn a_device_as_the_credentials_file_exits_2_at_once() {
    let home = home("urandom");
    let out = run(ecs_assist(&home).env("ALIBABA_CLOUD_CREDENTIALS_FILE", "/dev/urandom"));
    assert_exit(
        &out,
        2,
        &["ini file: /dev/urandom cannot be read (it is a character device, not a regular file)"],
    );
    std::fs::remove_dir_all(&home).unwrap();
}

#[cfg(unix)]
fn mkfifo(path: &std::path::Path) {
    let made = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(made.success(), "mkfifo {}", path.display());
}

#[cfg(unix)]
#[test]
fn a_fifo_as_a_credentials_file_exits_2_at_once() {
    let home = home("fifo");
    std::fs::create_dir_all(home.join(".aliyun")).unwrap();
    let config = home.join(".aliyun").join("config.json");
    mkfifo(&config);
    let out = run(ecs_assist(&home).env_remove("ALIBABA_CLOUD_CLI_PROFILE_DISABLED"));
    assert_exit(
        &out,
        2,
        &[&format!(
            "cli profile: {} cannot be read (it is a FIFO, not a regular file)",
            config.display()
        )],
    );
    let ini = home.join("creds.ini");
    mkfifo(&ini);
    let out = run(ecs_assist(&home).env("ALIBABA_CLOUD_CREDENTIALS_FILE", &ini));
    assert_exit(
        &out,
        2,
        &[&format!(
            "ini file: {} cannot be read (it is a FIFO, not a regular file)",
            ini.display()
        )],
    );
    std::fs::remove_dir_all(&home).unwrap();
}
