//! `--full-output` and `--save-outputs` through the binary, against the
//! emulator's OSS: a 5 MB output byte-exact in raw and ndjson through a
//! connection cut in the middle (resumed with Range), every reason a
//! complete output cannot be had with its warning and exit 1, files
//! written atomically with a manifest, never replaced without --overwrite.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Output;

use base64::Engine as _;
use ecs_emulator::DataSet;
use emulator::{cli, start, start_with};
use support::{output, runtime};

#[path = "support/emulator.rs"]
#[allow(dead_code)]
mod emulator;
mod support;

/// 5 MB of numbered lines: a misplaced or repeated range shows.
fn five_mb() -> String {
    let mut out = String::with_capacity(5 << 20);
    let mut i = 0u64;
    while out.len() < 5 << 20 {
        out.push_str(&format!("line {i:08} of the long output ✓\n"));
        i += 1;
    }
    out
}

/// 30 000 bytes that are not UTF-8.
fn binary() -> Vec<u8> {
    (0..30_000u32).map(|i| (i % 256) as u8).collect()
}

fn data(long: &str) -> DataSet {
    let b64 = base64::engine::general_purpose::STANDARD.encode(binary());
    let short_long = "y".repeat(30_000);
    let json = serde_json::json!({"invocations": [
        {"invoke_id": "t-big", "command_id": "c-1", "oss_output_delivery": "oss://bkt-out/logs",
         "results": [{"instance_id": "i-big", "status": "Success", "exit_code": 0, "output": long}]},
        {"invoke_id": "t-bin", "command_id": "c-1", "oss_output_delivery": "oss://bkt-out/logs",
         "results": [{"instance_id": "i-bin", "status": "Success", "output_base64": b64}]},
        {"invoke_id": "t-bad", "command_id": "c-1", "oss_output_delivery": "oss://bkt-out/logs",
         "results": [
            {"instance_id": "i-ok", "status": "Success", "output": "small\n"},
            {"instance_id": "i-gone", "status": "Success", "output": short_long,
             "oss_output_uri": "oss://bkt-out/logs/removed.txt"},
            {"instance_id": "i-failed", "status": "Success", "output": short_long,
             "oss_output_status": "Failed", "oss_output_error_code": "AccessDenied",
             "oss_output_error_info": "the role may not write"},
            {"instance_id": "i-busy", "status": "Success", "output": short_long,
             "oss_output_status": "InProgress"},
            {"instance_id": "i-form", "status": "Success", "output": short_long,
             "oss_output_uri": "s3://bkt-out/logs/x.txt"}
         ]},
        {"invoke_id": "t-none", "command_id": "c-1",
         "results": [{"instance_id": "i-none", "status": "Success", "output": short_long}]}
    ]});
    DataSet::from_json(&json.to_string()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn five_megabytes_come_back_byte_exact_in_raw_and_ndjson_through_a_cut_connection() {
    let rt = runtime();
    let long = five_mb();
    // Every OSS answer's body is cut halfway twice: each resume by Range
    // must continue where the last one stopped.
    let emulator = start_with(&rt, data(&long), None, |b| {
        b.fault("truncate:x2:on=oss".parse().unwrap())
    });
    let raw = output(cli(&emulator).args([
        "-v",
        "--oss-endpoint",
        &emulator.url(),
        "--output",
        "raw",
        "results",
        "--invoke-id",
        "t-big",
        "--instance-id",
        "i-big",
        "--encoding",
        "plaintext",
        "--full-output",
    ]));
    assert!(raw.status.success(), "{}", stderr(&raw));
    assert_eq!(raw.stdout.len(), long.len());
    assert!(raw.stdout == long.as_bytes(), "raw output differs");
    let err = stderr(&raw);
    assert!(
        err.contains("was fetched from oss://bkt-out/logs/t-big/i-big.txt"),
        "{err}"
    );
    assert_eq!(err.matches("the OSS body broke off").count(), 2, "{err}");

    let nd = output(cli(&emulator).args([
        "--oss-endpoint",
        &emulator.url(),
        "--output",
        "ndjson",
        "results",
        "--invoke-id",
        "t-big",
        "--full-output",
    ]));
    assert!(nd.status.success(), "{}", stderr(&nd));
    let line: serde_json::Value = serde_json::from_slice(&nd.stdout).unwrap();
    assert!(
        line["Output"].as_str().unwrap() == long,
        "ndjson Output differs"
    );
    assert_eq!(line["Dropped"], long.len() as u64 - 24 * 1024);
    assert_eq!(line["InstanceId"], "i-big");

    // Bytes that are not UTF-8: OutputBase64 holds them.
    let bin = output(cli(&emulator).args([
        "--oss-endpoint",
        &emulator.url(),
        "--output",
        "ndjson",
        "results",
        "--invoke-id",
        "t-bin",
        "--full-output",
    ]));
    assert!(bin.status.success(), "{}", stderr(&bin));
    let line: serde_json::Value = serde_json::from_slice(&bin.stdout).unwrap();
    assert!(line["Output"].is_null());
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(line["OutputBase64"].as_str().unwrap())
        .unwrap();
    assert_eq!(decoded, binary());
}

#[test]
fn every_output_that_cannot_be_fetched_is_warned_about_kept_truncated_and_exits_1() {
    let rt = runtime();
    let emulator = start(&rt, data("z"), None);
    for invoke in ["t-bad", "t-none"] {
        let out = output(cli(&emulator).args([
            "--oss-endpoint",
            &emulator.url(),
            "--output",
            "ndjson",
            "results",
            "--invoke-id",
            invoke,
            "--full-output",
        ]));
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let err = stderr(&out);
        let expected: &[(&str, &str)] = if invoke == "t-bad" {
            &[
                ("i-gone", "NoSuchKey"),
                (
                    "i-failed",
                    "delivery to OSS failed (AccessDenied: the role may not write)",
                ),
                ("i-busy", "not in OSS yet (OssOutputStatus InProgress)"),
                ("i-form", "has an unknown form"),
            ]
        } else {
            &[("i-none", "not started with OssOutputDelivery")]
        };
        for (instance, says) in expected {
            let warning = err
                .lines()
                .find(|l| l.contains(&format!("output of {instance} ")))
                .unwrap_or_else(|| panic!("no warning for {instance}: {err}"));
            assert!(warning.starts_with("warning: "), "{warning}");
            assert!(
                warning.contains("cannot be fetched") && warning.contains(says),
                "{warning}"
            );
            let line = lines.iter().find(|l| l["InstanceId"] == *instance).unwrap();
            assert_eq!(
                line["Output"].as_str().unwrap().len(),
                24 * 1024,
                "the truncated output is kept"
            );
        }
        // Nothing else lost: every result is printed.
        assert_eq!(lines.len(), if invoke == "t-bad" { 5 } else { 1 });
        if invoke == "t-bad" {
            let ok = lines.iter().find(|l| l["InstanceId"] == "i-ok").unwrap();
            assert_eq!(ok["Output"], "small\n");
        }
    }
}

#[test]
fn the_table_is_unchanged_and_its_warning_says_the_output_was_fetched() {
    let rt = runtime();
    let emulator = start(&rt, data(&"w".repeat(40_000)), None);
    let out = output(cli(&emulator).args([
        "--oss-endpoint",
        &emulator.url(),
        "--output",
        "table",
        "results",
        "--invoke-id",
        "t-big",
        "--full-output",
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("[truncated]"));
    assert!(
        stderr(&out).contains(
            "the complete output (40000 bytes) was fetched from oss://bkt-out/logs/t-big/i-big.txt"
        ),
        "{}",
        stderr(&out)
    );
}

#[test]
fn outputs_are_saved_with_a_manifest_and_kept_unless_overwrite() {
    let rt = runtime();
    let long = "v".repeat(50_000);
    let emulator = start(&rt, data(&long), None);
    let dir = std::env::temp_dir().join(format!("ecs-assist-save-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let save = |extra: &[&str]| {
        let mut cmd = cli(&emulator);
        cmd.args([
            "--oss-endpoint",
            &emulator.url(),
            "results",
            "--invoke-id",
            "t-big",
            "--full-output",
        ])
        .arg("--save-outputs")
        .arg(&dir)
        .args(extra);
        output(&mut cmd)
    };
    let first = save(&[]);
    assert!(first.status.success(), "{}", stderr(&first));
    let file = dir.join("t-big").join("i-big.out");
    assert_eq!(
        String::from_utf8_lossy(&first.stdout),
        format!("{}\t50000\tcomplete\n", file.display())
    );
    assert_eq!(std::fs::read(&file).unwrap(), long.as_bytes());

    std::fs::write(&file, "mine").unwrap();
    let again = save(&[]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("exists and was left as it is; pass --overwrite"),
        "{}",
        stderr(&again)
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");
    let replaced = save(&["--overwrite"]);
    assert!(replaced.status.success(), "{}", stderr(&replaced));
    assert_eq!(std::fs::read(&file).unwrap(), long.as_bytes());
    let left: Vec<String> = std::fs::read_dir(dir.join("t-big"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["i-big.out"], "no temporary file is left behind");

    // Without --full-output, a truncated result is saved as listed and
    // marked so; failures to fetch are saved truncated, warned, exit 1.
    let mut cmd = cli(&emulator);
    cmd.args([
        "--oss-endpoint",
        &emulator.url(),
        "results",
        "--invoke-id",
        "t-bad",
        "--full-output",
        "--save-outputs",
    ])
    .arg(&dir);
    let bad = output(&mut cmd);
    assert_eq!(bad.status.code(), Some(1));
    let manifest = String::from_utf8_lossy(&bad.stdout);
    assert_eq!(manifest.lines().count(), 5, "{manifest}");
    assert!(manifest.contains("i-ok.out\t6\tcomplete"), "{manifest}");
    assert!(
        manifest.contains(&format!("i-gone.out\t{}\ttruncated", 24 * 1024)),
        "{manifest}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn wait_fetches_the_complete_outputs_of_its_results() {
    let rt = runtime();
    let long = "u".repeat(60_000);
    let emulator = start(&rt, data(&long), None);
    let out = output(cli(&emulator).args([
        "--oss-endpoint",
        &emulator.url(),
        "--output",
        "raw",
        "wait",
        "--invoke-id",
        "t-big",
        "--encoding",
        "plaintext",
        "--full-output",
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.ends_with(&long), "the complete output is printed");
}

#[test]
fn follow_prints_the_complete_outputs_and_saves_them() {
    let rt = runtime();
    let long = "f".repeat(60_000);
    let emulator = start(&rt, data(&long), None);
    let out = output(cli(&emulator).args([
        "--oss-endpoint",
        &emulator.url(),
        "--output",
        "ndjson",
        "wait",
        "--invoke-id",
        "t-big",
        "--follow",
        "--encoding",
        "plaintext",
        "--full-output",
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        line["Output"].as_str() == Some(long.as_str()),
        "the complete output is printed"
    );

    // A failure to fetch, followed: warned, the truncated output kept, exit 1.
    let bad = output(cli(&emulator).args([
        "--oss-endpoint",
        &emulator.url(),
        "--output",
        "ndjson",
        "wait",
        "--invoke-id",
        "t-none",
        "--follow",
        "--full-output",
    ]));
    assert_eq!(bad.status.code(), Some(1), "{}", stderr(&bad));
    assert!(
        stderr(&bad).contains("not started with OssOutputDelivery"),
        "{}",
        stderr(&bad)
    );
    let line: serde_json::Value = serde_json::from_slice(&bad.stdout).unwrap();
    assert_eq!(line["Output"].as_str().unwrap().len(), 24 * 1024);

    // Saved while following: the file holds the complete output.
    let dir = std::env::temp_dir().join(format!("ecs-follow-save-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let saved = output(cli(&emulator).args([
        "--oss-endpoint",
        &emulator.url(),
        "wait",
        "--invoke-id",
        "t-big",
        "--follow",
        "--encoding",
        "plaintext",
        "--full-output",
        "--save-outputs",
        dir.to_str().unwrap(),
    ]));
    assert!(saved.status.success(), "{}", stderr(&saved));
    let file = std::fs::read_dir(dir.join("t-big"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), long);
    assert!(String::from_utf8_lossy(&saved.stdout).contains("complete"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn complete_outputs_over_several_regions_are_refused_before_anything_is_sent() {
    let rt = runtime();
    let emulator = start(&rt, data("z"), None);
    for command in ["results", "wait"] {
        let out = output(cli(&emulator).args([
            "--region",
            "cn-hangzhou,cn-beijing",
            "--oss-endpoint",
            &emulator.url(),
            command,
            "--invoke-id",
            "t-big",
            "--full-output",
        ]));
        assert_eq!(out.status.code(), Some(2), "{command}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("give one --region"),
            "{}",
            stderr(&out)
        );
    }
    assert_eq!(emulator.requests(), 0, "nothing was sent");
}

#[test]
fn an_object_replaced_between_two_ranges_is_warned_kept_truncated_and_exits_1() {
    let rt = runtime();
    let long = "r".repeat(100_000);
    let emulator = start(&rt, data(&long), None);
    let replaced_while_read = || {
        // The first OSS answer is cut halfway; the object is overwritten
        // (same size, other bytes) before the resume.
        emulator.set_faults(vec![
            "truncate:x1:on=oss".parse().unwrap(),
            "replace:x1:on=oss".parse().unwrap(),
        ]);
    };
    let check_warning = |out: &Output| {
        assert_eq!(out.status.code(), Some(1), "{}", stderr(out));
        let err = stderr(out);
        let warning = err
            .lines()
            .find(|l| l.contains("output of i-big "))
            .unwrap_or_else(|| panic!("no warning: {err}"));
        assert!(
            warning.starts_with("warning: ")
                && warning.contains("cannot be fetched")
                && warning.contains("changed while it was read")
                && warning.contains("PreconditionFailed")
                && warning.contains("nothing after byte 50000 was used")
                && warning.contains("the truncated output is given instead"),
            "{warning}"
        );
    };

    replaced_while_read();
    let raw = output(cli(&emulator).args([
        "--oss-endpoint",
        &emulator.url(),
        "--output",
        "raw",
        "results",
        "--invoke-id",
        "t-big",
        "--instance-id",
        "i-big",
        "--encoding",
        "plaintext",
        "--full-output",
    ]));
    check_warning(&raw);
    assert!(
        raw.stdout == long.as_bytes()[..24 * 1024],
        "the truncated output, not a mix of two versions ({} bytes)",
        raw.stdout.len()
    );

    replaced_while_read();
    let dir = std::env::temp_dir().join(format!("ecs-assist-replaced-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut cmd = cli(&emulator);
    cmd.args([
        "--oss-endpoint",
        &emulator.url(),
        "results",
        "--invoke-id",
        "t-big",
        "--encoding",
        "plaintext",
        "--full-output",
        "--save-outputs",
    ])
    .arg(&dir);
    let saved = output(&mut cmd);
    check_warning(&saved);
    let file = dir.join("t-big").join("i-big.out");
    assert_eq!(
        String::from_utf8_lossy(&saved.stdout),
        format!("{}\t{}\ttruncated\n", file.display(), 24 * 1024)
    );
    assert_eq!(std::fs::read(&file).unwrap(), long.as_bytes()[..24 * 1024]);
    std::fs::remove_dir_all(&dir).unwrap();
}
