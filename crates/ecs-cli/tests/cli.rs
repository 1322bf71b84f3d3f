//! The `ecs-assist` binary as a person runs it, against the emulator over
//! loopback: every output format, paging through thousands of results, the
//! waiter's outcomes, every exit code, dry-run masking, bad flags, and the
//! table under a pseudo terminal.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::process::{Command, Output};

use ecs_emulator::DataSet;
use emulator::{SECRET, STS_SECRET, STS_TOKEN, cli, running_data, start};
use support::{BIN, output, output_within, runtime};

#[path = "support/emulator.rs"]
mod emulator;
mod support;

fn run(cmd: &mut Command) -> Output {
    output(cmd)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn ndjson(output: &Output) -> Vec<serde_json::Value> {
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    text(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn ndjson_json_and_raw_print_every_result_with_decoded_output() {
    let rt = runtime();
    let emulator = start(&rt, DataSet::demo(), None);
    let lines = ndjson(&run(cli(&emulator).args(["--output", "ndjson", "results"])));
    assert_eq!(lines.len(), 8);
    let df = lines
        .iter()
        .find(|l| {
            l["InstanceId"] == "i-bp1i7gg30r52z2em5678" && l["InvokeId"] == "t-hz0jdfwd9f1234"
        })
        .unwrap();
    assert!(df["Output"].as_str().unwrap().contains("82% /"));
    assert_eq!(
        df["Tags"][0],
        serde_json::json!({"TagKey": "env", "TagValue": "prod"})
    );
    let jpeg = lines
        .iter()
        .find(|l| l["InstanceId"] == "i-bp1i7gg30r52z2emdef0")
        .unwrap();
    assert!(jpeg["Output"].is_null());
    assert!(jpeg["OutputBase64"].as_str().unwrap().starts_with("/9j/"));

    let json = run(cli(&emulator).args([
        "--output",
        "json",
        "results",
        "--invoke-id",
        "t-hz0jdfwd9f1234",
    ]));
    assert!(json.status.success());
    let array: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(array.as_array().unwrap().len(), 3);

    let raw = run(cli(&emulator).args([
        "--output",
        "raw",
        "results",
        "--invoke-id",
        "t-hz0jdfwd9f1234",
        "--instance-id",
        "i-bp1i7gg30r52z2em9abc",
    ]));
    assert_eq!(text(&raw.stdout), "df: /data: No such file or directory\n");

    // Not a terminal: json by default.
    let default = run(cli(&emulator).args(["results", "--status", "Failed"]));
    let array: serde_json::Value = serde_json::from_slice(&default.stdout).unwrap();
    assert_eq!(array.as_array().unwrap().len(), 2);
}

#[test]
fn both_paging_styles_return_thousands_of_results_exactly_once() {
    let rt = runtime();
    let emulator = start(&rt, DataSet::default(), Some(2_345));
    for style in ["token", "number"] {
        let before = emulator.requests();
        let lines = ndjson(&run(cli(&emulator).args([
            "--output",
            "ndjson",
            "results",
            "--page-size",
            "50",
            "--page-style",
            style,
        ])));
        assert_eq!(lines.len(), 2_345, "{style}");
        let keys: HashSet<(String, String)> = lines
            .iter()
            .map(|l| {
                (
                    l["InvokeId"].as_str().unwrap().to_owned(),
                    l["InstanceId"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(keys.len(), 2_345, "{style}: no result twice");
        // The CLI reads ahead with tokens: still one request a page.
        assert_eq!(emulator.requests() - before, 47, "{style}: 47 pages of 50");
    }
    let capped = ndjson(&run(cli(&emulator).args([
        "--output",
        "ndjson",
        "results",
        "--max-items",
        "120",
    ])));
    assert_eq!(capped.len(), 120);
}

#[test]
fn wait_ends_with_0_3_or_4() {
    let rt = runtime();
    let ok = start(&rt, running_data(1_200, false), None);
    let out = run(cli(&ok).args([
        "--output",
        "ndjson",
        "wait",
        "--invoke-id",
        "t-wait",
        "--interval",
        "200ms",
        "--timeout",
        "30s",
    ]));
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    let lines = ndjson(&out);
    assert!(lines.iter().all(|l| l["InvocationStatus"] == "Success"));
    assert!(text(&out.stderr).contains("2 of 2 finished: 2 succeeded"));

    let failing = start(&rt, running_data(300, true), None);
    let out = run(cli(&failing).args(["wait", "--invoke-id", "t-wait", "--interval", "200ms"]));
    assert_eq!(out.status.code(), Some(3), "stderr: {}", text(&out.stderr));
    assert!(text(&out.stderr).contains("1 failed"));

    let slow = start(&rt, running_data(600_000, false), None);
    let out = run(cli(&slow).args([
        "wait",
        "--invoke-id",
        "t-wait",
        "--interval",
        "200ms",
        "--timeout",
        "1s",
    ]));
    assert_eq!(out.status.code(), Some(4), "stderr: {}", text(&out.stderr));
    // The last state seen is still printed.
    let last: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        last.as_array()
            .unwrap()
            .iter()
            .all(|l| l["InvocationStatus"] == "Running")
    );
}

#[test]
fn service_errors_exit_1_with_code_request_id_and_a_hint() {
    let rt = runtime();
    let emulator = start(&rt, DataSet::demo(), None);
    let out = run(cli(&emulator)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "TheWrongSecretValue")
        .args(["--max-attempts", "1", "results"]));
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("Code:      SignatureDoesNotMatch"),
        "{stderr}"
    );
    assert!(stderr.contains("RequestId: "), "{stderr}");
    assert!(
        stderr.contains("hint: check ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
        "{stderr}"
    );
    assert!(!stderr.contains("TheWrongSecretValue"), "{stderr}");
}

#[test]
fn bad_input_exits_2_and_sends_nothing() {
    let rt = runtime();
    let emulator = start(&rt, DataSet::demo(), None);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["results", "--page-size", "0"], "--page-size"),
        (vec!["results", "--page-size", "51"], "--page-size"),
        (vec!["results", "--tag", "=novalue"], "--tag"),
        (vec!["results", "--status", "Bogus"], "InvokeRecordStatus"),
        (vec!["results", "--include-history"], "IncludeHistory"),
        (vec!["--max-attempts", "0", "results"], "--max-attempts"),
        (
            vec!["--connect-timeout", "soon", "results"],
            "--connect-timeout",
        ),
        (vec!["--output", "yaml", "results"], "--output"),
        (vec!["wait"], "--invoke-id"),
        (
            vec!["wait", "--invoke-id", "t-1", "--timeout", "0s"],
            "--timeout",
        ),
        (vec!["results", "--tag", "aliyun:x=1"], "Tag.1.Key"),
    ];
    for (args, names) in cases {
        let out = run(cli(&emulator).args(&args));
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).contains(names),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    // No region and no endpoint.
    let out = run(Command::new(BIN)
        .env_clear()
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "x")
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "y")
        .args(["results"]));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("region"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(emulator.requests(), 0, "nothing was sent");
}

#[test]
fn dry_run_masks_every_secret_and_sends_nothing() {
    let rt = runtime();
    let emulator = start(&rt, DataSet::demo(), None);
    for signature in ["v3", "v1"] {
        let out = run(cli(&emulator)
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "StsKeyId")
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", STS_SECRET)
            .env("ALIBABA_CLOUD_SECURITY_TOKEN", STS_TOKEN)
            .args([
                "--signature",
                signature,
                "--dry-run",
                "-vv",
                "results",
                "--invoke-id",
                "t-1",
            ]));
        assert!(out.status.success(), "{}", text(&out.stderr));
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(all.contains("POST http://"), "{all}");
        assert!(all.contains("InvokeId=t-1"), "{all}");
        assert!(
            !all.contains(STS_SECRET),
            "{signature}: secret shown: {all}"
        );
        assert!(!all.contains(STS_TOKEN), "{signature}: token shown: {all}");
        let signature_shown = all
            .lines()
            .any(|l| l.contains("Signature=") && !l.contains("Signature=***"));
        assert!(!signature_shown, "{signature}: signature shown: {all}");
    }
    assert_eq!(emulator.requests(), 0);
}

/// The query parameters of a dry run's request line.
fn dry_run_query(out: &Output) -> Vec<String> {
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let line = stdout.lines().find(|l| l.starts_with("POST ")).unwrap();
    let query = line.split_once('?').unwrap().1;
    query.split('&').map(str::to_owned).collect()
}

#[test]
fn tag_filters_send_a_value_only_when_one_is_given() {
    let rt = runtime();
    let emulator = start(&rt, DataSet::demo(), None);
    for signature in ["v3", "v1"] {
        let out = run(cli(&emulator).args([
            "--signature",
            signature,
            "--dry-run",
            "results",
            "--tag",
            "env",
            "--tag",
            "team=",
            "--tag",
            "owner=ops=1",
        ]));
        let query = dry_run_query(&out);
        let tags: Vec<&str> = query
            .iter()
            .map(String::as_str)
            .filter(|p| p.starts_with("Tag."))
            .collect();
        // KEY: any value, no Tag.1.Value; KEY=: an empty value; the value
        // is what follows the first `=`.
        assert_eq!(
            tags,
            [
                "Tag.1.Key=env",
                "Tag.2.Key=team",
                "Tag.2.Value=",
                "Tag.3.Key=owner",
                "Tag.3.Value=ops%3D1"
            ],
            "{signature}"
        );
    }
    let out = run(cli(&emulator).args(["results", "--tag", "=prod"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--tag"), "{}", text(&out.stderr));
    assert_eq!(emulator.requests(), 0);
}

#[test]
fn truncated_output_is_warned_about_in_every_format() {
    let rt = runtime();
    let big = "y".repeat(25_000);
    let data = DataSet::from_json(&format!(
        r#"{{"invocations":[{{"invoke_id":"t-big","command_id":"c-big","results":[
        {{"instance_id":"i-big","status":"Success","exit_code":0,"output":"{big}"}}]}}]}}"#
    ))
    .unwrap();
    let emulator = start(&rt, data, None);
    for format in ["table", "json", "ndjson", "raw"] {
        let out = run(cli(&emulator).args(["--output", format, "results"]));
        assert!(out.status.success());
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("truncated the output of i-big")
                && stderr.contains("424 bytes dropped"),
            "{format}: {stderr}"
        );
    }
}

#[test]
fn the_table_on_a_terminal_has_colour_and_no_progress_left_over() {
    let rt = runtime();
    let emulator = start(&rt, DataSet::demo(), None);
    let command = format!(
        "{BIN} --endpoint {} --region cn-hangzhou results --invoke-id t-hz0jdfwd9f1234",
        emulator.url()
    );
    // `script` runs the command under a pseudo terminal.
    let out = run(Command::new("script")
        .args(["-qefc", &command, "/dev/null"])
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "EmulatorAccessKeyId")
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
        .env("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "true")
        .env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
        .env("TERM", "xterm")
        .env_remove("NO_COLOR"));
    let screen = text(&out.stdout);
    assert!(out.status.success(), "{screen}");
    assert!(
        screen.contains("INSTANCE"),
        "a table on a terminal: {screen}"
    );
    assert!(
        screen.contains("\x1b[1m"),
        "bold header on a terminal: {screen:?}"
    );
    assert!(screen.contains("i-bp1i7gg30r52z2em9abc"));
    // NO_COLOR turns colour off even on a terminal.
    let out = run(Command::new("script")
        .args(["-qefc", &command, "/dev/null"])
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "EmulatorAccessKeyId")
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
        .env("NO_COLOR", "1"));
    let screen = text(&out.stdout);
    assert!(
        screen.contains("INSTANCE") && !screen.contains("\x1b[1m"),
        "{screen:?}"
    );
}

#[test]
fn completions_are_printed_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let out = run(Command::new(BIN).args(["completions", shell]));
        assert!(out.status.success());
        assert!(text(&out.stdout).contains("ecs-assist"), "{shell}");
    }
}

/// The bound on every run of the binary holds: a run past it is killed and
/// fails the test instead of hanging the suite.
#[test]
#[should_panic(expected = "did not finish within")]
fn a_run_past_its_time_limit_fails_instead_of_hanging() {
    output_within(
        Command::new("sleep").arg("30"),
        std::time::Duration::from_millis(100),
    );
}
