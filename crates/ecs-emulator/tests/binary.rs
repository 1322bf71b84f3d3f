//! The `ecs-emulator` binary as a user runs it: its first line, its answers,
//! a clean stop on SIGTERM, and clear errors for bad flags and data files.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_ecs-emulator");

/// Kills the child if a test fails half-way, so nothing is left running.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(args: &[&str]) -> (Running, String) {
    let mut child = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first).unwrap();
    (Running(child), first)
}

/// A plain HTTP/1.1 exchange with `Connection: close`.
fn get(addr: &str, target: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "POST {target} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    reply
}

#[test]
fn it_announces_its_url_answers_and_stops_cleanly_on_sigterm() {
    let (mut running, first) = start(&["--seed", "3"]);
    let url = first
        .trim()
        .strip_prefix("ecs-emulator listening on http://")
        .unwrap_or_else(|| panic!("first line was {first:?}"));
    // An unsigned request is refused with the service's error, as JSON.
    let reply = get(
        url,
        "/?Action=DescribeInvocationResults&Version=2014-05-26&RegionId=cn-hangzhou",
    );
    assert!(reply.starts_with("HTTP/1.1 400"), "{reply}");
    assert!(
        reply.contains("\"Code\":\"IncompleteSignature\""),
        "{reply}"
    );

    let pid = running.0.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let status = running.0.wait().unwrap();
    assert!(status.success(), "exit status {status:?}");
    let mut stderr = String::new();
    running
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(stderr.contains("shutting down"), "{stderr}");
}

#[test]
fn a_bad_data_file_is_named_with_its_line_and_field() {
    let dir = std::env::temp_dir().join(format!("ecs-emulator-bin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.json");
    std::fs::write(
        &file,
        "{\n  \"invocations\": [\n    {\"invoke_id\": \"t-1\", \"command_id\": \"c-1\",\n     \"results\": [{\"instance_id\": \"i-1\", \"status\": \"Finished\"}]}\n  ]\n}\n",
    )
    .unwrap();
    let output = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--data"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("invocations[0].results[0].status"),
        "{stderr}"
    );
    assert!(stderr.contains("line 4"), "{stderr}");
    assert!(stderr.contains("unknown status `Finished`"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_flags_say_what_is_wrong() {
    for (args, says) in [
        (vec!["--fault", "explode"], "unknown kind `explode`"),
        (vec!["--access-key", "nocolon"], "ID:SECRET"),
        (vec!["--listen", "nowhere"], "invalid socket address"),
    ] {
        let output = Command::new(BIN).args(&args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}
