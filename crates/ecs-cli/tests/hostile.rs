//! The `ecs-assist` binary under hostile input: empty filters, durations
//! past their limits, values too long to send, runs that fail halfway, and
//! servers whose answers carry terminal escapes. Each case runs the binary.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use ecs_emulator::{DataSet, EmulatorHandle, Fault};
use emulator::{cli, running_data, start};
use server::Server;
use support::{clean_command, output, runtime};

#[path = "support/emulator.rs"]
mod emulator;
#[path = "../../ecs-credentials/tests/support/server.rs"]
mod server;
mod support;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs a case expected to be refused before anything is sent: exit 2,
/// nothing on stdout, and stderr naming `names`.
fn refused(emulator: &EmulatorHandle, args: &[&str], names: &str) {
    let out = output(cli(emulator).args(args));
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(
        stderr.contains(names),
        "{args:?} should name {names}: {stderr}"
    );
    assert!(out.stdout.is_empty(), "{args:?}: {}", text(&out.stdout));
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
}

#[test]
fn empty_filters_are_bad_input_and_nothing_is_sent() {
    let rt = runtime();
    let emulator = start(&rt, DataSet::demo(), None);
    let cases: &[(&[&str], &str)] = &[
        (&["results", "--invoke-id", ""], "--invoke-id"),
        (&["wait", "--invoke-id", ""], "--invoke-id"),
        (&["wait", "--invoke-id", "  "], "--invoke-id"),
        (&["results", "--instance-id", " "], "--instance-id"),
        (&["results", "--command-id", ""], "--command-id"),
        (&["results", "--status", ""], "--status"),
        (
            &["results", "--resource-group-id", "\t"],
            "--resource-group-id",
        ),
        (&["results", "--tag", ""], "--tag"),
        (&["results", "--tag", " =prod"], "--tag"),
        (&["results", "--tag", "env=prod", "--tag", "  "], "--tag"),
        (
            &["wait", "--invoke-id", "t-1", "--instance-id", ""],
            "--instance-id",
        ),
        (&["wait", "--invoke-id", "t-1", "--status", " "], "--status"),
        (
            &["--output", "table", "results", "--invoke-id", ""],
            "--invoke-id",
        ),
    ];
    for (args, flag) in cases {
        refused(&emulator, args, flag);
    }
    assert_eq!(emulator.requests(), 0, "nothing was sent");
}

#[test]
fn durations_past_their_limits_are_bad_input_and_never_panic() {
    let rt = runtime();
    let emulator = start(&rt, running_data(600_000, false), None);
    for (flag, value, limit) in [
        ("--interval", "18446744073709551615s", "1h"),
        ("--interval", "5000000000y", "1h"),
        ("--interval", "61m", "1h"),
        ("--timeout", "18446744073709551615s", "7days"),
        ("--timeout", "8d", "7days"),
    ] {
        refused(
            &emulator,
            &["wait", "--invoke-id", "t-wait", flag, value],
            &format!("at most {limit}"),
        );
        refused(
            &emulator,
            &["wait", "--invoke-id", "t-wait", flag, value],
            flag,
        );
    }
    assert_eq!(emulator.requests(), 0, "nothing was sent");
}

#[test]
fn an_interval_longer_than_the_time_left_polls_again_at_the_timeout() {
    let rt = runtime();
    let emulator = start(&rt, running_data(600_000, false), None);
    // A child process has no injectable clock: measure it.
    #[allow(clippy::disallowed_methods)]
    let started = Instant::now();
    let out = output(cli(&emulator).args([
        "wait",
        "--invoke-id",
        "t-wait",
        "--interval",
        "1h",
        "--timeout",
        "2s",
    ]));
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    // It waited the whole timeout and polled at its end; the message says
    // how long it waited (it used to give up at once and claim the timeout).
    assert!(started.elapsed() >= Duration::from_secs(2), "{stderr}");
    assert_eq!(emulator.requests(), 2, "{stderr}");
    assert!(
        stderr.contains("after 2 s (the timeout is 2 s)"),
        "{stderr}"
    );
}

#[test]
fn a_failed_run_never_prints_json_that_parses_as_complete() {
    let rt = runtime();
    // An immediate failure: nothing on stdout, not even `[]`.
    let emulator = start(&rt, DataSet::demo(), None);
    emulator.set_faults(vec!["error500".parse::<Fault>().unwrap()]);
    let out = output(cli(&emulator).args(["--max-attempts", "1", "--output", "json", "results"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("the output is incomplete: no results were printed"),
        "{}",
        text(&out.stderr)
    );
    emulator.clear_faults();
    // A run without results still prints a complete, empty array.
    let out = output(cli(&emulator).args(["--output", "json", "results", "--invoke-id", "t-none"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "[]\n");

    // A failure halfway: the first page is answered (after a delay, during
    // which the fault is switched on), the second meets the fault.
    let emulator = start(&rt, DataSet::default(), Some(100));
    emulator.set_faults(vec!["delay:2s".parse::<Fault>().unwrap()]);
    let mut cmd = cli(&emulator);
    cmd.args([
        "--max-attempts",
        "1",
        "--output",
        "json",
        "results",
        "--page-size",
        "10",
    ]);
    let run = std::thread::spawn(move || output(&mut cmd));
    // A child process has no injectable clock: poll the emulator, then give
    // the first request time to draw its faults (the delay).
    #[allow(clippy::disallowed_methods)]
    let sleep = std::thread::sleep;
    let mut polls = 0;
    while emulator.requests() == 0 {
        polls += 1;
        assert!(polls < 6_000, "no request came within 30 s");
        sleep(Duration::from_millis(5));
    }
    sleep(Duration::from_millis(300));
    emulator.set_faults(vec!["error500".parse::<Fault>().unwrap()]);
    let out: Output = run.join().unwrap();
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(emulator.requests(), 2, "{stderr}");
    assert!(stdout.starts_with("[\n  {"), "{stdout}");
    assert_eq!(stdout.matches("\"InstanceId\"").count(), 10, "{stdout}");
    assert!(
        serde_json::from_str::<serde_json::Value>(&stdout).is_err(),
        "the array is left open: {stdout}"
    );
    assert!(
        stderr.contains("the output is incomplete: 10 results were printed"),
        "{stderr}"
    );
}

/// The control characters a terminal acts on (C0 but the line break, DEL,
/// C1), found in `text`.
fn controls(text: &str) -> Vec<char> {
    text.chars()
        .filter(|c| c.is_control() && *c != '\n')
        .collect()
}

/// A page of one result whose ids, status and error text carry terminal
/// escapes (`ESC [ 2 J` clears the screen, `ESC ] 0 ;` sets the title,
/// U+009B is the one-character CSI), its output cut (a warning names it).
const HOSTILE_PAGE: &str = r#"{"RequestId":"R-1","Invocation":{"InvocationResults":{"InvocationResult":[{"InstanceId":"i-\u001b[2Jx","InvokeId":"t-\u001b]0;owned\u0007y","CommandId":"c-\u009b31mz","InvocationStatus":"Fail\u001b[5med","ExitCode":1,"Output":"b2sKG1szMW0K","Dropped":3,"ErrorInfo":"bad\u001b[0m"}]}}}"#;

fn hostile_server(rt: &tokio::runtime::Runtime, status: u16, body: &'static str) -> Server {
    rt.block_on(Server::start(move |_| (status, body.to_owned())))
}

fn against(server: &Server) -> Command {
    let mut cmd = clean_command();
    cmd.env("ALIBABA_CLOUD_ACCESS_KEY_ID", "id")
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "secret")
        .args([
            "--endpoint",
            &server.url,
            "--region",
            "cn-hangzhou",
            "--max-attempts",
            "1",
        ]);
    cmd
}

#[test]
fn nothing_the_server_sends_moves_the_terminal() {
    let rt = runtime();
    let server = hostile_server(&rt, 200, HOSTILE_PAGE);
    for args in [
        &["--output", "table", "results"][..],
        &["--output", "raw", "results"],
        // The status is not one the waiter knows, so it waits to the end.
        &[
            "--output",
            "table",
            "wait",
            "--invoke-id",
            "t-1",
            "--timeout",
            "1s",
            "--interval",
            "200ms",
        ],
    ] {
        let out = output(against(&server).args(args));
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        let code = if args.contains(&"wait") { 4 } else { 0 };
        assert_eq!(out.status.code(), Some(code), "{stderr}");
        // Made visible, not dropped: the ids can still be told apart.
        assert!(stderr.contains(r"i-\e[2Jx (t-\e]0;owned\ay)"), "{stderr}");
        assert!(controls(&stderr).is_empty(), "{args:?}: {stderr:?}");
        if args.contains(&"raw") {
            // The output bytes are the user's data and stay as they are;
            // the header above them is cleaned.
            assert!(
                stdout.starts_with("==> i-\\e[2Jx (t-\\e]0;owned\\ay) <==\nok\n\u{1b}[31m\n"),
                "{stdout:?}"
            );
        } else {
            assert!(controls(&stdout).is_empty(), "{args:?}: {stdout:?}");
            assert!(stdout.contains(r"i-\e[2Jx"), "{stdout}");
            assert!(stdout.contains(r"Fail\e[5med"), "{stdout}");
        }
    }
    // JSON escapes control characters itself.
    let out = output(against(&server).args(["--output", "ndjson", "results"]));
    let record: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(record["InstanceId"], "i-\u{1b}[2Jx");
}

#[test]
fn service_errors_are_printed_without_their_escapes() {
    let rt = runtime();
    let server = hostile_server(
        &rt,
        400,
        r#"{"RequestId":"R-\u001b[31m1","Code":"Bad\u001b]0;owned\u0007Code","Message":"see \u009b2J\u001b[2J here\nerror: forged line"}"#,
    );
    let out = output(against(&server).args(["results"]));
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(controls(&stderr).is_empty(), "{stderr:?}");
    assert!(
        stderr.contains(r"Code:      Bad\e]0;owned\aCode"),
        "{stderr}"
    );
    assert!(
        stderr.contains(r"see \u{9b}2J\e[2J here\nerror: forged line"),
        "{stderr}"
    );
    assert!(stderr.contains(r"RequestId: R-\e[31m1"), "{stderr}");
    assert!(
        !stderr.lines().any(|l| l.starts_with("error: forged")),
        "a line break from the server starts no line: {stderr}"
    );
}

#[test]
fn errors_blame_the_real_culprit_and_show_their_cause() {
    let rt = runtime();
    let emulator = start(&rt, DataSet::demo(), None);
    // A 100 KB id: the flag and its limit, not the endpoint or the user agent.
    let long = "t".repeat(100_000);
    let out = output(cli(&emulator).args(["results", "--invoke-id", &long]));
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--invoke-id (InvokeId): is 100000 characters; ids are at most 256"),
        "{stderr}"
    );
    assert!(!stderr.contains("user agent"), "{stderr}");
    assert!(
        stderr.len() < 2_000,
        "the value is not echoed back: {}",
        stderr.len()
    );
    assert_eq!(emulator.requests(), 0);

    // A body the decoder cannot read: its own words, on one line.
    let server = hostile_server(
        &rt,
        200,
        r#"{"RequestId":"R-1","Invocation":{"TotalCount":1,,}"#,
    );
    let out = output(against(&server).args(["results"]));
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let cause = stderr
        .lines()
        .find(|l| l.starts_with("  cause: "))
        .unwrap_or_else(|| panic!("no cause line: {stderr}"));
    assert!(cause.contains("line 1"), "{stderr}");

    // A connection that breaks: the transport's words, not just its kind.
    emulator.set_faults(vec!["reset".parse::<Fault>().unwrap()]);
    let out = output(cli(&emulator).args(["--max-attempts", "1", "results"]));
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.lines().any(|l| l.starts_with("  cause: ")),
        "{stderr}"
    );
}
