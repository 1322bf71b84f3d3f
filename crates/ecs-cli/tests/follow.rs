//! Following runs through the binary: `wait --follow` across three regions
//! and two invocations whose instances finish at staggered times, with 5%
//! of the requests failing; many invocation ids (repeated or from stdin);
//! a region that fails without losing the others; `--follow --output json`
//! refused; the progress line on a terminal only; Ctrl-C.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ecs_emulator::EmulatorHandle;
use ecs_emulator::{DataSet, Fault};
use emulator::{SECRET, cli, start, start_with};
use support::{BIN, clean_command, lines_as_they_come, output, runtime};

#[path = "support/emulator.rs"]
mod emulator;
mod support;

const REGIONS: [&str; 3] = ["cn-hangzhou", "cn-beijing", "cn-shanghai"];
const INVOCATIONS: [&str; 2] = ["t-deploy-a", "t-deploy-b"];
const PER_INVOCATION: usize = 4;

/// The binary pointed at the emulator with the test keys, no region.
fn bare(emulator: &EmulatorHandle) -> Command {
    let mut cmd = clean_command();
    cmd.env("ALIBABA_CLOUD_ACCESS_KEY_ID", "EmulatorAccessKeyId")
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
        .args(["--endpoint", &emulator.url()]);
    cmd
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// One result of the staggered data: where, which, and when it finishes.
#[derive(Debug, Clone)]
struct Planned {
    region: &'static str,
    invoke: &'static str,
    instance: String,
    status: &'static str,
    finishes_ms: u64,
}

/// 3 regions × 2 invocations × 4 instances, finishing from 0.3 s to about
/// 3.3 s after the emulator starts, interleaved across the pairs; every
/// fifth fails.
fn planned() -> Vec<Planned> {
    let mut all = Vec::new();
    let mut n = 0u64;
    for i in 0..PER_INVOCATION {
        for region in REGIONS {
            for invoke in INVOCATIONS {
                all.push(Planned {
                    region,
                    invoke,
                    instance: format!("i-{region}-{invoke}-{i}"),
                    status: if n % 5 == 4 { "Failed" } else { "Success" },
                    // Interleaved: consecutive finishes belong to different pairs.
                    finishes_ms: 300 + (n * 7 % 24) * 125,
                });
                n += 1;
            }
        }
    }
    all
}

fn data(planned: &[Planned]) -> DataSet {
    let mut invocations = Vec::new();
    for region in REGIONS {
        for invoke in INVOCATIONS {
            let results: Vec<String> = planned
                .iter()
                .filter(|p| p.region == region && p.invoke == invoke)
                .map(|p| {
                    format!(
                        r#"{{"instance_id":"{}","status":"{}","exit_code":0,"output":"deployed {} in {}\n","running_for_ms":{}}}"#,
                        p.instance, p.status, p.instance, p.region, p.finishes_ms
                    )
                })
                .collect();
            invocations.push(format!(
                r#"{{"invoke_id":"{invoke}","command_id":"c-deploy","region_id":"{region}","results":[{}]}}"#,
                results.join(",")
            ));
        }
    }
    DataSet::from_json(&format!(r#"{{"invocations":[{}]}}"#, invocations.join(","))).unwrap()
}

/// What identifies a printed result, for comparing runs.
fn key(region: &str, record: &serde_json::Value) -> (String, String, String, String, String) {
    let field = |name: &str| record[name].as_str().unwrap_or_default().to_owned();
    (
        region.to_owned(),
        field("InvokeId"),
        field("InstanceId"),
        field("InvocationStatus"),
        field("Output"),
    )
}

#[test]
fn follow_prints_each_result_after_its_finish_and_long_before_the_end_across_regions_under_faults()
{
    let rt = runtime();
    let plan = planned();
    // The binary runs on the wall clock: so does the test that times it.
    #[allow(clippy::disallowed_methods)]
    let since = Instant::now();
    let fault: Fault = "error503:0.05:on=ecs".parse().unwrap();
    let emulator = start_with(&rt, data(&plan), None, |b| b.fault(fault).seed(21));
    let mut cmd = bare(&emulator);
    cmd.args([
        "--region",
        "cn-hangzhou,cn-beijing",
        "--region",
        "cn-shanghai",
        "--output",
        "ndjson",
        // Five attempts per request: 5% faults never exhaust them here.
        "--max-attempts",
        "5",
        "wait",
        "--follow",
        "--interval",
        "100ms",
        "--timeout",
        "60s",
        "--invoke-id",
        INVOCATIONS[0],
        "--invoke-id",
        INVOCATIONS[1],
    ]);
    let run = lines_as_they_come(&mut cmd, since);
    let stderr = text(&run.stderr);
    // Some instances failed: exit 3, as `wait`.
    assert_eq!(run.status.code(), Some(3), "stderr: {stderr}");
    assert!(
        emulator.requests() > 30,
        "requests: {}",
        emulator.requests()
    );

    let finishes: BTreeMap<(String, String), u64> = plan
        .iter()
        .map(|p| ((p.region.to_owned(), p.instance.clone()), p.finishes_ms))
        .collect();
    let mut followed = BTreeSet::new();
    for (at, line) in &run.lines {
        let record: serde_json::Value = serde_json::from_str(line).unwrap();
        let region = record["RegionId"].as_str().unwrap().to_owned();
        let instance = record["InstanceId"].as_str().unwrap().to_owned();
        let finish = finishes[&(region.clone(), instance.clone())];
        let at_ms = u64::try_from(at.as_millis()).unwrap();
        // Never before it finished (the emulator started after `since`)...
        assert!(
            at_ms >= finish,
            "{instance} in {region} at {at_ms} ms, finishes at {finish} ms"
        );
        // ...and soon after: within a few poll intervals and retries.
        assert!(
            at_ms <= finish + 3_000,
            "{instance} in {region} at {at_ms} ms, finished at {finish} ms"
        );
        assert!(
            followed.insert(key(&region, &record)),
            "{instance} in {region} printed twice"
        );
    }
    // The first results arrive well before the process exits.
    let first = run.lines.first().unwrap().0;
    assert!(
        run.ended.saturating_sub(first) >= Duration::from_millis(1_500),
        "first line at {first:?}, exit at {:?}",
        run.ended
    );
    // Per pair, a summary on stderr.
    for region in REGIONS {
        for invoke in INVOCATIONS {
            assert!(stderr.contains(&format!("{region} {invoke}: ")), "{stderr}");
        }
    }

    // Exactly the union of fault-free runs of each pair, none twice.
    emulator.clear_faults();
    let mut clean = BTreeSet::new();
    for region in REGIONS {
        for invoke in INVOCATIONS {
            let out = output(bare(&emulator).args([
                "--region",
                region,
                "--output",
                "ndjson",
                "results",
                "--invoke-id",
                invoke,
            ]));
            assert!(out.status.success(), "{}", text(&out.stderr));
            for line in text(&out.stdout).lines() {
                let record: serde_json::Value = serde_json::from_str(line).unwrap();
                // The single-region command carries no RegionId.
                assert!(record.get("RegionId").is_none());
                clean.insert(key(region, &record));
            }
        }
    }
    assert_eq!(
        clean.len(),
        REGIONS.len() * INVOCATIONS.len() * PER_INVOCATION
    );
    assert_eq!(followed, clean);
}

/// Two regions of one invocation each, finished at once, and the ids of
/// both invocations.
fn two_regions() -> DataSet {
    let plan: Vec<Planned> = planned()
        .into_iter()
        .map(|p| Planned {
            finishes_ms: 0,
            ..p
        })
        .collect();
    data(&plan)
}

#[test]
fn follow_with_json_is_refused_before_anything_is_sent() {
    let rt = runtime();
    let emulator = start(&rt, two_regions(), None);
    let out = output(bare(&emulator).args([
        "--region",
        "cn-hangzhou",
        "--output",
        "json",
        "wait",
        "--follow",
        "--invoke-id",
        INVOCATIONS[0],
    ]));
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("--output ndjson"), "{stderr}");
    assert!(out.stdout.is_empty());
    assert_eq!(emulator.requests(), 0);
    // Not a terminal and no --output: ndjson, one line per result.
    let out = output(bare(&emulator).args([
        "--region",
        "cn-hangzhou",
        "wait",
        "--follow",
        "--invoke-id",
        INVOCATIONS[0],
    ]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), PER_INVOCATION);
    assert!(
        lines.iter().all(|l| l.get("RegionId").is_none()),
        "one region"
    );
}

#[test]
fn ids_from_stdin_and_repeated_ids_cover_every_invocation_in_every_region() {
    let rt = runtime();
    let emulator = start(&rt, two_regions(), None);
    // `results` with the ids on stdin, two regions: a JSON array whose
    // records carry their region.
    let mut child = bare(&emulator)
        .args([
            "--region",
            "cn-hangzhou,cn-beijing",
            "results",
            "--invoke-id",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "{}\n\n{}", INVOCATIONS[0], INVOCATIONS[1]).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let all: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(all.len(), 2 * INVOCATIONS.len() * PER_INVOCATION);
    let mut pairs = BTreeSet::new();
    for record in &all {
        let region = record["RegionId"].as_str().unwrap();
        assert!(record["InstanceId"].as_str().unwrap().contains(region));
        pairs.insert((
            region.to_owned(),
            record["InvokeId"].as_str().unwrap().to_owned(),
        ));
    }
    assert_eq!(pairs.len(), 4);
    // `wait` (no --follow) with repeated ids, a table with a region column.
    let out = output(bare(&emulator).args([
        "--region",
        "cn-shanghai,cn-beijing",
        "--output",
        "table",
        "wait",
        "--invoke-id",
        INVOCATIONS[0],
        "--invoke-id",
        INVOCATIONS[1],
    ]));
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    let rows: Vec<&str> = table.lines().collect();
    assert!(rows[0].starts_with("REGION"), "{table}");
    assert_eq!(
        rows.len(),
        1 + 2 * INVOCATIONS.len() * PER_INVOCATION,
        "{table}"
    );
    assert!(
        rows[1..]
            .iter()
            .all(|r| r.starts_with("cn-shanghai ") || r.starts_with("cn-beijing "))
    );
}

#[test]
fn a_failing_region_is_listed_at_the_end_and_the_others_complete() {
    let rt = runtime();
    let emulator = start(&rt, two_regions(), None);
    let out = output(bare(&emulator).args([
        "--region",
        "cn-hangzhou,xx-nowhere-1,cn-beijing",
        "--output",
        "ndjson",
        "wait",
        "--follow",
        "--invoke-id",
        INVOCATIONS[0],
    ]));
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines.len(),
        2 * PER_INVOCATION,
        "both good regions complete"
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("1 of the streams failed")
            && stderr.contains("xx-nowhere-1 t-deploy-a:")
            && stderr.contains("InvalidRegionId.NotFound"),
        "{stderr}"
    );
    // The failures come last, after the summaries.
    let failure_at = stderr.find("streams failed").unwrap();
    let summary_at = stderr.find("cn-beijing t-deploy-a: ").unwrap();
    assert!(summary_at < failure_at, "{stderr}");
}

#[test]
fn a_follow_past_its_timeout_exits_4_with_what_finished_printed() {
    let rt = runtime();
    let emulator = start(&rt, emulator::running_data(60_000, false), None);
    let out = output(cli(&emulator).args([
        "wait",
        "--follow",
        "--invoke-id",
        "t-wait",
        "--interval",
        "100ms",
        "--timeout",
        "500ms",
    ]));
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "nothing finished");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("cn-hangzhou t-wait: gave up waiting") && stderr.contains("0 of 2"),
        "{stderr}"
    );
}

#[test]
fn ctrl_c_stops_cleanly_keeping_what_was_printed_with_exit_130() {
    let rt = runtime();
    let data = DataSet::from_json(
        r#"{"invocations":[{"invoke_id":"t-long","command_id":"c-1","results":[
        {"instance_id":"i-quick","status":"Success","output":"quick\n"},
        {"instance_id":"i-slow","status":"Success","output":"slow\n","running_for_ms":600000}]}]}"#,
    )
    .unwrap();
    let emulator = start(&rt, data, None);
    let mut child = bare(&emulator)
        .args([
            "--region",
            "cn-hangzhou",
            "wait",
            "--follow",
            "--invoke-id",
            "t-long",
            "--interval",
            "100ms",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut first).unwrap();
    assert!(first.contains("i-quick"), "{first}");
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    #[allow(clippy::disallowed_methods)]
    let started = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("interrupted"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn the_progress_line_is_on_a_terminal_only_never_in_stdout_and_not_with_quiet() {
    let rt = runtime();
    let emulator = start(&rt, emulator::running_data(1_500, false), None);
    let dir = std::env::temp_dir().join(format!("ecs-follow-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for quiet in [false, true] {
        let file = dir.join(format!("out-{quiet}.ndjson"));
        // stderr on a pseudo terminal (`script`), stdout to a file.
        let command = format!(
            "{BIN} --endpoint {} --region cn-hangzhou --output ndjson {} wait --follow \
             --invoke-id t-wait --interval 100ms > {}",
            emulator.url(),
            if quiet { "--quiet" } else { "" },
            file.display()
        );
        let out = output(
            Command::new("script")
                .args(["-qefc", &command, "/dev/null"])
                .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "EmulatorAccessKeyId")
                .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
                .env("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "true")
                .env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
                .env("TERM", "xterm"),
        );
        let screen = text(&out.stdout);
        let printed = std::fs::read_to_string(&file).unwrap();
        assert_eq!(printed.lines().count(), 2, "{printed}");
        for line in printed.lines() {
            serde_json::from_str::<serde_json::Value>(line).unwrap();
        }
        assert!(
            !printed.contains('\r') && !printed.contains('\x1b'),
            "{printed:?}"
        );
        let progress = screen.contains("of 2 finished, 0 failed, 2 running");
        assert_eq!(progress, !quiet, "quiet: {quiet}: {screen:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn follow_prints_table_rows_and_raw_blocks_as_results_finish() {
    let rt = runtime();
    let emulator = start(&rt, two_regions(), None);
    let table = output(cli(&emulator).args([
        "--output",
        "table",
        "wait",
        "--follow",
        "--invoke-id",
        INVOCATIONS[1],
    ]));
    // One of these instances failed: exit 3.
    assert_eq!(table.status.code(), Some(3), "{}", text(&table.stderr));
    let rows: Vec<String> = text(&table.stdout).lines().map(str::to_owned).collect();
    assert!(rows[0].starts_with("INSTANCE"), "{rows:?}");
    assert_eq!(rows.len(), 1 + PER_INVOCATION, "{rows:?}");
    assert!(rows[1..].iter().all(|r| r.contains(INVOCATIONS[1])));
    // Raw blocks, one region and then two: with several, each header
    // names its region.
    for regions in [&["cn-hangzhou"][..], &["cn-hangzhou", "cn-beijing"][..]] {
        let raw = output(bare(&emulator).args([
            "--region",
            &regions.join(","),
            "--output",
            "raw",
            "wait",
            "--follow",
            "--invoke-id",
            INVOCATIONS[1],
        ]));
        assert_eq!(raw.status.code(), Some(3), "{}", text(&raw.stderr));
        let raw = text(&raw.stdout);
        for region in regions {
            let named = if regions.len() > 1 {
                format!(", {region}")
            } else {
                String::new()
            };
            for i in 0..PER_INVOCATION {
                let instance = format!("i-{region}-{}-{i}", INVOCATIONS[1]);
                let block = format!(
                    "==> {instance} ({}{named}) <==\ndeployed {instance} in {region}\n",
                    INVOCATIONS[1]
                );
                assert!(raw.contains(&block), "{block} in {raw}");
            }
        }
    }
}

#[test]
fn options_for_one_request_and_bad_concurrency_are_refused_with_several_pairs() {
    let rt = runtime();
    let emulator = start(&rt, two_regions(), None);
    let two = ["--region", "cn-hangzhou,cn-beijing"];
    let cases: [&[&str]; 5] = [
        &["--dry-run", "results", "--invoke-id", "t-deploy-a"],
        &["results", "--max-items", "3"],
        &["results", "--page-style", "number"],
        &["wait", "--invoke-id", "t-deploy-a", "--concurrency", "0"],
        &["results", "--concurrency", "65"],
    ];
    for args in cases {
        let out = output(bare(&emulator).args(two).args(args));
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    let out = output(
        bare(&emulator)
            .args(two)
            .args(["results", "--max-items", "3"]),
    );
    assert!(
        text(&out.stderr).contains("apply to one request"),
        "{}",
        text(&out.stderr)
    );
    // An endpoint and no region.
    let out = output(bare(&emulator).args(["wait", "--follow", "--invoke-id", "t-deploy-a"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("give --region"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(emulator.requests(), 0);
}

#[test]
fn the_poll_interval_grows_up_to_max_interval_in_wait_and_follow_and_a_shorter_one_is_refused() {
    let rt = runtime();
    // Two instances running for a minute: nothing finishes while each run
    // waits 2 s, so the interval grows from 100 ms unless capped.
    let emulator = start(&rt, emulator::running_data(60_000, false), None);
    let requests = |extra: &[&str]| {
        let before = emulator.requests();
        let out = output(
            cli(&emulator)
                .args(["wait", "--invoke-id", "t-wait"])
                .args(extra)
                .args(["--interval", "100ms", "--timeout", "2s"]),
        );
        assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
        emulator.requests() - before
    };
    for follow in [&[][..], &["--follow"][..]] {
        let growing = requests(follow);
        let fixed = requests(&[follow, &["--max-interval", "100ms"][..]].concat());
        // Growing: polls at 0, 0.1, 0.3, 0.7, 1.5 s and the timeout; fixed:
        // about 20 polls.
        assert!(growing <= 12, "{follow:?}: {growing} requests");
        assert!(fixed >= 15, "{follow:?}: {fixed} requests");
        // A --max-interval below --interval is bad input, nothing sent.
        let before = emulator.requests();
        let out = output(
            cli(&emulator)
                .args(["wait", "--invoke-id", "t-wait"])
                .args(follow)
                .args(["--interval", "1s", "--max-interval", "500ms"]),
        );
        assert_eq!(out.status.code(), Some(2), "{follow:?}");
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("--max-interval 500ms is shorter than --interval 1s"),
            "{stderr}"
        );
        assert_eq!(emulator.requests(), before, "nothing sent");
    }
}

/// One invocation of `count` instances finishing in a scattered order from
/// 0.2 s to about 1.8 s after the emulator starts.
fn scattered(count: u64) -> DataSet {
    let results: Vec<String> = (0..count)
        .map(|i| {
            format!(
                r#"{{"instance_id":"i-s{i:03}","status":"Success","exit_code":0,"output":"out {i}\n","running_for_ms":{}}}"#,
                200 + (i * 7_919 % count) * 1_600 / count
            )
        })
        .collect();
    DataSet::from_json(&format!(
        r#"{{"invocations":[{{"invoke_id":"t-scatter","command_id":"c-1","results":[{}]}}]}}"#,
        results.join(",")
    ))
    .unwrap()
}

#[test]
fn fewer_requests_relists_when_finishes_are_scattered_and_prints_the_same_results() {
    let rt = runtime();
    let run = |extra: &[&str]| {
        let emulator = start(&rt, scattered(200), None);
        let out = output(
            cli(&emulator)
                .args([
                    "--output",
                    "ndjson",
                    "wait",
                    "--follow",
                    "--invoke-id",
                    "t-scatter",
                ])
                .args(["--interval", "100ms", "--max-interval", "100ms"])
                .args(extra),
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let lines: Vec<String> = text(&out.stdout).lines().map(str::to_owned).collect();
        let instances: BTreeSet<String> = lines
            .iter()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["InstanceId"].as_str().unwrap().to_owned()
            })
            .collect();
        assert_eq!(lines.len(), 200, "each result once");
        assert_eq!(instances.len(), 200);
        (instances, emulator.requests())
    };
    let (plain, fetched_alone) = run(&[]);
    let (fewer, relisted) = run(&["--fewer-requests"]);
    assert_eq!(plain, fewer, "the same results");
    // Scattered finishes cost about a request each without the flag; with
    // it, about 4 pages a poll.
    assert!(
        relisted * 3 < fetched_alone * 2,
        "{relisted} requests with --fewer-requests, {fetched_alone} without"
    );
    // One wait (no --follow) lists everything each poll: the flag is
    // refused, nothing sent.
    let emulator = start(&rt, scattered(10), None);
    let out = output(cli(&emulator).args(["wait", "--invoke-id", "t-scatter", "--fewer-requests"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("add --follow"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(emulator.requests(), 0);
}
