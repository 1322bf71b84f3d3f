//! The `ecs-emulator` binary as a user runs it: its first line, its answers,
//! a clean stop on SIGTERM, and clear errors for bad flags and data files.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::Read as _;
use std::process::Command;
use std::time::Duration;

use support::{BIN, exchange, exit_within, post, run_within, serving, start};

#[test]
fn it_announces_its_url_answers_and_stops_cleanly_on_sigterm() {
    let (mut running, first) = start(&["--seed", "3"]);
    assert!(!running.addr.is_empty(), "first line was {first:?}");
    // An unsigned request is refused with the service's error, as JSON.
    let reply = post(
        &running.addr,
        "/?Action=DescribeInvocationResults&Version=2014-05-26&RegionId=cn-hangzhou",
    );
    assert!(reply.starts_with("HTTP/1.1 400"), "{reply}");
    assert!(
        reply.contains("\"Code\":\"IncompleteSignature\""),
        "{reply}"
    );

    running.terminate();
    let (status, stderr) = exit_within(&mut running, Duration::from_secs(15));
    assert!(status.success(), "exit status {status:?}");
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
    let mut command = Command::new(BIN);
    command
        .args(["--listen", "127.0.0.1:0", "--data"])
        .arg(&file);
    let output = run_within(command, Duration::from_secs(30));
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
        // Above the documented maximum: bad input, not a server that
        // spins for ever on its first query.
        (
            vec![
                "--listen",
                "127.0.0.1:0",
                "--generate",
                "18446744073709551615",
            ],
            "at most 100000000",
        ),
        (
            vec!["--listen", "127.0.0.1:0", "--generate", "100000001"],
            "at most 100000000",
        ),
        (vec!["--generate=-1"], "is not a count of results"),
        (vec!["--max-connections", "0"], "--max-connections"),
    ] {
        let mut command = Command::new(BIN);
        command.args(&args);
        let output = run_within(command, Duration::from_secs(30));
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}

#[test]
fn the_help_says_what_each_seed_changes() {
    let output = run_within(
        {
            let mut c = Command::new(BIN);
            c.arg("--help");
            c
        },
        Duration::from_secs(30),
    );
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for says in [
        "--data-seed",
        "--seed",
        "--fault-seed",
        "never changes the data",
        "--generate",
        "at most 100000000",
        "--max-connections",
    ] {
        assert!(help.contains(says), "`{says}` missing from:\n{help}");
    }
}

#[test]
fn sigterm_stops_it_while_a_large_query_runs() {
    let (mut running, first) = start(&["--generate", "100000000"]);
    assert!(!running.addr.is_empty(), "first line was {first:?}");
    let addr = running.addr.clone();
    // A query over all 100,000,000 results; the answer does not matter.
    let query = std::thread::spawn(move || {
        let target = support::signed_target(
            &[
                ("RegionId", "cn-hangzhou"),
                ("InvokeRecordStatus", "Failed"),
                ("PageNumber", "100000"),
                ("PageSize", "50"),
            ],
            "large-query",
        );
        let _ = std::net::TcpStream::connect(&addr).and_then(|mut stream| {
            use std::io::Write as _;
            stream.set_read_timeout(Some(Duration::from_secs(60)))?;
            write!(
                stream,
                "POST {target} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )?;
            let mut reply = Vec::new();
            stream.read_to_end(&mut reply)
        });
    });
    // Let the query get going.
    support::pause(Duration::from_millis(500));
    running.terminate();
    let (status, stderr) = exit_within(&mut running, Duration::from_secs(15));
    assert!(status.success(), "exit status {status:?}: {stderr}");
    assert!(stderr.contains("shutting down"), "{stderr}");
    query.join().unwrap();
}

/// Every generated result's (InvokeId, InstanceId, status, output), paged
/// by number, answering 503s again with a fresh nonce.
fn all_generated(addr: &str, run: &str, count: u64) -> Vec<(String, String, String, String)> {
    let mut rows = Vec::new();
    let mut attempt = 0;
    let mut page = 1;
    while (rows.len() as u64) < count {
        attempt += 1;
        assert!(attempt < 200, "too many attempts");
        let page_number = page.to_string();
        let reply = support::call(
            addr,
            &[
                ("RegionId", "cn-hangzhou"),
                ("PageSize", "50"),
                ("PageNumber", &page_number),
                ("ContentEncoding", "PlainText"),
            ],
            &format!("{run}-{attempt}"),
        );
        if reply.status == 503 {
            continue;
        }
        let results = reply.page().invocation.results;
        assert!(!results.is_empty(), "page {page} is empty");
        rows.extend(results.into_iter().map(|r| {
            (
                r.invoke_id,
                r.instance_id,
                r.invocation_status
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                r.output,
            )
        }));
        page += 1;
    }
    rows
}

#[test]
fn a_faulty_run_and_a_clean_run_serve_the_same_data() {
    let clean = support::serving(&["--generate", "300"]);
    let faulty = support::serving(&[
        "--generate",
        "300",
        "--seed",
        "7",
        "--fault",
        "error503:0.3",
    ]);
    let clean_rows = all_generated(&clean.addr, "clean", 300);
    let faulty_rows = all_generated(&faulty.addr, "faulty", 300);
    assert_eq!(clean_rows.len(), 300);
    assert_eq!(faulty_rows, clean_rows, "the fault seed changed the data");
    // `--fault-seed` is the same seed, by its other name.
    let renamed = support::serving(&["--generate", "300", "--fault-seed", "7"]);
    assert_eq!(all_generated(&renamed.addr, "renamed", 300), clean_rows);
    // The data seed is what changes the data.
    let other = support::serving(&["--generate", "300", "--data-seed", "7"]);
    let other_rows = all_generated(&other.addr, "other", 300);
    assert_ne!(other_rows, clean_rows);
    let same_ids = |rows: &[(String, String, String, String)]| {
        rows.iter()
            .map(|r| (r.0.clone(), r.1.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(same_ids(&other_rows), same_ids(&clean_rows));
}

/// The credential services' flags: the instance's role, IMDSv1 refused,
/// and every credential's lifetime capped.
#[test]
fn the_credential_service_flags_take_effect() {
    let running = serving(&[
        "--instance-role",
        "FlagRole",
        "--imdsv1-disabled",
        "--max-session-lifetime",
        "120",
    ]);
    let addr = running.addr.as_str();
    let list = "/latest/meta-data/ram/security-credentials/";
    let refused = exchange(addr, "GET", list, &[]);
    assert!(refused.starts_with("HTTP/1.1 403"), "{refused}");
    let ttl = [("X-aliyun-ecs-metadata-token-ttl-seconds", "60")];
    let reply = exchange(addr, "PUT", "/latest/api/token", &ttl);
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    let token = reply.split_once("\r\n\r\n").unwrap().1.to_owned();
    let with = [("X-aliyun-ecs-metadata-token", token.as_str())];
    let roles = exchange(addr, "GET", list, &with);
    assert!(roles.ends_with("\r\n\r\nFlagRole"), "{roles}");
    let document = exchange(addr, "GET", &format!("{list}FlagRole"), &with);
    let body: serde_json::Value =
        serde_json::from_str(document.split_once("\r\n\r\n").unwrap().1).unwrap();
    let expiration = ecs_sign::parse_timestamp(body["Expiration"].as_str().unwrap()).unwrap();
    let left = expiration - ecs_sign::TimeSource::now(&ecs_sign::SystemTimeSource);
    assert!(left <= time::Duration::seconds(120), "{left}");
    assert!(left > time::Duration::seconds(60), "{left}");
}
