//! Helpers for the tests that run the `ecs-emulator` binary: start it (and
//! kill it if a test fails half-way), and talk to it over plain blocking
//! sockets, signed with V1 as a client would.

#![allow(dead_code)] // Each test file uses its own share of the helpers.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ecs_emulator::{DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET};
use ecs_sign::{Credentials, SystemTimeSource, TimeSource as _, rpc_v1};

/// The binary under test.
pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_ecs-emulator");

/// How long one exchange may take before the test fails.
pub(crate) const EXCHANGE_LIMIT: Duration = Duration::from_secs(20);

/// A running emulator process, killed when dropped so that a failing test
/// leaves nothing behind.
pub(crate) struct Running {
    pub(crate) child: Child,
    /// `HOST:PORT` from its first line.
    pub(crate) addr: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    /// The process id, as text for `kill`.
    pub(crate) fn pid(&self) -> String {
        self.child.id().to_string()
    }

    /// Sends SIGTERM.
    pub(crate) fn terminate(&self) {
        let killed = Command::new("kill")
            .args(["-TERM", &self.pid()])
            .status()
            .unwrap();
        assert!(killed.success());
    }
}

/// Starts `command` (the binary, or a shell that execs it) and reads its
/// first line.
pub(crate) fn start_command(mut command: Command) -> (Running, String) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first).unwrap();
    let addr = first
        .trim()
        .strip_prefix("ecs-emulator listening on http://")
        .unwrap_or_default()
        .to_owned();
    (Running { child, addr }, first)
}

/// Starts the binary on a free port with `args`.
pub(crate) fn start(args: &[&str]) -> (Running, String) {
    let mut command = Command::new(BIN);
    command.args(["--listen", "127.0.0.1:0"]).args(args);
    start_command(command)
}

/// Starts the binary with `args` and fails the test unless it announces
/// its address.
pub(crate) fn serving(args: &[&str]) -> Running {
    let (running, first) = start(args);
    assert!(!running.addr.is_empty(), "first line was {first:?}");
    running
}

/// A plain HTTP/1.1 POST with `Connection: close`: the whole reply.
pub(crate) fn post(addr: &str, target: &str) -> String {
    exchange(addr, "POST", target, &[])
}

/// A plain HTTP/1.1 exchange with `Connection: close` and no body: the
/// whole reply.
pub(crate) fn exchange(addr: &str, method: &str, target: &str, headers: &[(&str, &str)]) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(EXCHANGE_LIMIT)).unwrap();
    let headers: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    write!(
        stream,
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\n{headers}Content-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    reply
}

/// An answer: its status and body.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: String,
}

impl Reply {
    /// The page (fails the test when the answer is not one).
    pub(crate) fn page(&self) -> ecs_model::DescribeInvocationResultsResponse {
        assert_eq!(self.status, 200, "expected a page, got {}", self.body);
        ecs_model::decode_response(Some("application/json"), self.body.as_bytes()).unwrap()
    }

    /// The service error's code (fails the test when it is not an error).
    pub(crate) fn code(&self) -> String {
        let error =
            ecs_model::decode_error(self.status, Some("application/json"), self.body.as_bytes());
        assert!(!error.code.is_empty(), "no error code in {}", self.body);
        error.code
    }
}

/// The query of a V1-signed `DescribeInvocationResults` request for
/// `params`, with the demo key, the system clock and `nonce`.
pub(crate) fn signed_target(params: &[(&str, &str)], nonce: &str) -> String {
    let credentials = Credentials::new(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET).unwrap();
    let request =
        rpc_v1::RpcV1Request::new("POST", "DescribeInvocationResults", "2014-05-26", params);
    let signed = rpc_v1::sign(&request, &credentials, SystemTimeSource.now(), nonce).unwrap();
    format!("/?{}", ecs_sign::encode_query(&signed))
}

/// Sends a signed request for `params` and reads the answer.
pub(crate) fn call(addr: &str, params: &[(&str, &str)], nonce: &str) -> Reply {
    let reply = post(addr, &signed_target(params, nonce));
    let status = reply
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {reply:?}"));
    let body = reply
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    Reply { status, body }
}

/// The emulator's CPU time so far (user + system), in clock ticks, from
/// `/proc/PID/stat`.
pub(crate) fn cpu_ticks(pid: &str) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The fields after the parenthesised command name; utime and stime are
    // the 14th and 15th fields of the whole line.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// Waits `duration` in real time: these tests watch another process.
#[allow(clippy::disallowed_methods)]
pub(crate) fn pause(duration: Duration) {
    std::thread::sleep(duration);
}

/// Runs `command` to its end, failing the test if it takes longer than
/// `limit` (the process is killed first, so a hang cannot outlive the test).
pub(crate) fn run_within(mut command: Command, limit: Duration) -> std::process::Output {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    let (done, outcome) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    match outcome.recv_timeout(limit) {
        Ok(output) => output.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").args(["-KILL", &pid]).status();
            panic!("{command:?} still ran after {limit:?}");
        }
    }
}

/// Waits for `running` to exit, at most `limit`; its exit status and stderr.
pub(crate) fn exit_within(
    running: &mut Running,
    limit: Duration,
) -> (std::process::ExitStatus, String) {
    let mut waited = Duration::ZERO;
    let step = Duration::from_millis(50);
    loop {
        if let Some(status) = running.child.try_wait().unwrap() {
            let mut stderr = String::new();
            if let Some(mut pipe) = running.child.stderr.take() {
                pipe.read_to_string(&mut stderr).unwrap();
            }
            return (status, stderr);
        }
        assert!(waited < limit, "still running {limit:?} after SIGTERM");
        pause(step);
        waited += step;
    }
}
