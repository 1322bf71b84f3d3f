//! The `ecs-emulator` binary under load and abuse: a million generated
//! results queried with filters and deep page numbers, the largest
//! generated set together with a data file, and a process out of file
//! descriptors holding many idle connections.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use support::{BIN, call, cpu_ticks, pause, serving, start_command};

/// Wall time since `started` (what these tests bound).
#[allow(clippy::disallowed_methods)]
fn now() -> Instant {
    Instant::now()
}

#[test]
fn filtered_and_deep_pages_of_a_million_results_cost_what_the_first_page_does() {
    let running = serving(&["--generate", "1000000"]);
    let started = now();
    // 120 requests over the whole set: by status, by instance, unfiltered,
    // with page numbers anywhere in the results and with NextTokens.
    let mut token: Option<String> = None;
    for i in 0u64..120 {
        let page_number = (1 + (i * 7_919) % 2_000).to_string();
        let deep = (1 + (i * 104_729) % 20_000).to_string();
        let mut params = vec![("RegionId", "cn-hangzhou")];
        match i % 4 {
            0 => params.extend([
                ("InvokeRecordStatus", "Failed"),
                ("PageSize", "50"),
                ("PageNumber", page_number.as_str()),
            ]),
            1 => params.extend([("PageSize", "50"), ("PageNumber", deep.as_str())]),
            2 => params.extend([
                ("InstanceId", "i-gen000000000000417"),
                ("PageSize", "50"),
                ("PageNumber", "20"),
            ]),
            _ => {
                params.extend([("InvokeRecordStatus", "Finished"), ("MaxResults", "50")]);
                if let Some(t) = &token {
                    params.push(("NextToken", t.as_str()));
                }
            }
        }
        let page = call(&running.addr, &params, &format!("load-{i}")).page();
        let invocation = page.invocation;
        assert_eq!(invocation.results.len(), 50, "{params:?}");
        match i % 4 {
            0 => {
                assert!((95_000..105_000).contains(&invocation.total_count));
                assert!(invocation.results.iter().all(|r| {
                    r.invoke_record_status.as_ref().map(|s| s.as_str()) == Some("Failed")
                }));
            }
            1 => assert_eq!(invocation.total_count, 1_000_000),
            2 => {
                assert_eq!(invocation.total_count, 1_000);
                assert!(
                    invocation
                        .results
                        .iter()
                        .all(|r| r.instance_id == "i-gen000000000000417")
                );
            }
            _ => token = invocation.next_token,
        }
        // Each request over the million results: a page costs what the
        // first does (a full scan of a million took seconds each).
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{i} requests took {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn the_largest_generated_set_and_a_data_file_are_served_together() {
    let dir = std::env::temp_dir().join(format!("ecs-emulator-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("two.json");
    std::fs::write(
        &file,
        r#"{"invocations":[{"invoke_id":"t-file","command_id":"c-file","results":[
            {"instance_id":"i-file1","status":"Success","output":"one\n"},
            {"instance_id":"i-file2","status":"Failed","output":"two\n"}]}]}"#,
    )
    .unwrap();
    let path = file.to_string_lossy().into_owned();
    let running = serving(&["--generate", "100000000", "--data", &path]);
    let by_id = call(
        &running.addr,
        &[("RegionId", "cn-hangzhou"), ("InvokeId", "t-file")],
        "by-id",
    )
    .page();
    assert_eq!(by_id.invocation.results.len(), 2);
    // The file's results come after the 100,000,000 generated ones, on the
    // last page.
    let last = call(
        &running.addr,
        &[
            ("RegionId", "cn-hangzhou"),
            ("PageSize", "50"),
            ("PageNumber", "2000001"),
        ],
        "last-page",
    )
    .page();
    assert_eq!(last.invocation.total_count, 100_000_002);
    let ids: Vec<&str> = last
        .invocation
        .results
        .iter()
        .map(|r| r.instance_id.as_str())
        .collect();
    assert_eq!(ids, ["i-file1", "i-file2"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn out_of_file_descriptors_it_serves_without_spinning() {
    // 64 descriptors: fewer than the idle connections below.
    let mut command = Command::new("sh");
    command.args([
        "-c",
        &format!("ulimit -n 64 && exec {BIN} --listen 127.0.0.1:0 --generate 100"),
    ]);
    let (running, first) = start_command(command);
    assert!(!running.addr.is_empty(), "first line was {first:?}");
    let idle: Vec<TcpStream> = (0..150)
        .map(|_| TcpStream::connect(&running.addr).unwrap())
        .collect();
    pause(Duration::from_millis(500));

    // Two seconds with the idle connections held: no busy loop.
    let ticks_per_second: u64 = String::from_utf8(
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .parse()
    .unwrap();
    let before = cpu_ticks(&running.pid());
    pause(Duration::from_secs(2));
    let used = cpu_ticks(&running.pid()) - before;
    assert!(
        used * 4 < ticks_per_second * 2,
        "{used} ticks of CPU in 2 s ({ticks_per_second} a second): the accept loop spins"
    );

    // A normal call still gets through promptly.
    let started = now();
    let page = call(&running.addr, &[("RegionId", "cn-hangzhou")], "through").page();
    assert_eq!(page.invocation.total_count, 100);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the call took {:?}",
        started.elapsed()
    );
    drop(idle);
}
