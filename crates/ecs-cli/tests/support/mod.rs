//! Shared by the CLI tests: the binary with a clean environment, a runtime
//! for the emulator, and runs bounded in time (a hung binary fails its test
//! instead of hanging the suite).

use std::io::Read as _;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// The binary under test.
pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_ecs-assist");

/// The longest any one run of the binary may take.
const LIMIT: Duration = Duration::from_secs(60);

/// How often a running binary is checked on.
const POLL: Duration = Duration::from_millis(5);

/// A runtime that outlives the test body, so the emulator keeps serving
/// while the binary runs.
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The binary with an empty environment but `PATH` and `HOME`, and the
/// CLI-profile and metadata sources off: only what the test gives it.
pub(crate) fn clean_command() -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "true")
        .env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true");
    cmd
}

/// Runs `cmd` to its end and returns what it printed; a run longer than
/// [`LIMIT`] is killed and fails the test.
pub(crate) fn output(cmd: &mut Command) -> Output {
    output_within(cmd, LIMIT)
}

/// [`output`] with its own time limit.
pub(crate) fn output_within(cmd: &mut Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let mut polls = limit.as_millis() / POLL.as_millis();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if polls == 0 {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within {limit:?}");
        }
        polls -= 1;
        // A child process has no injectable clock: poll it.
        #[allow(clippy::disallowed_methods)]
        std::thread::sleep(POLL);
    };
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// What a run printed on stdout, each line with when it was read (from the
/// spawn), and when the process ended.
#[allow(dead_code)] // Not every test binary that shares this module reads lines as they come.
pub(crate) struct Timed {
    pub(crate) lines: Vec<(Duration, String)>,
    pub(crate) ended: Duration,
    pub(crate) status: std::process::ExitStatus,
    pub(crate) stderr: Vec<u8>,
}

/// Runs `cmd` and reads its stdout line by line as it comes, noting when
/// each line arrived relative to `since`; a run longer than [`LIMIT`] is
/// killed and fails the test.
#[allow(dead_code)]
pub(crate) fn lines_as_they_come(cmd: &mut Command, since: std::time::Instant) -> Timed {
    use std::io::BufRead as _;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .map(|line| (since.elapsed(), line))
            .collect::<Vec<_>>()
    });
    let mut stderr_pipe = child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stderr_pipe.read_to_end(&mut bytes);
        bytes
    });
    let mut polls = LIMIT.as_millis() / POLL.as_millis();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if polls == 0 {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within {LIMIT:?}");
        }
        polls -= 1;
        // A child process has no injectable clock: poll it.
        #[allow(clippy::disallowed_methods)]
        std::thread::sleep(POLL);
    };
    let ended = since.elapsed();
    Timed {
        lines: reader.join().unwrap(),
        ended,
        status,
        stderr: stderr.join().unwrap(),
    }
}
