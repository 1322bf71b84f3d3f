//! Following runs through the binary: `wait --follow` across three regions
//! and two invocations whose instances finish at staggered times, with 5%
//! of the requests failing; many invocation ids (repeated or from stdin);
//! a region that fails without losing the others; `--follow --output json`
//! refused; the progress line on a terminal only; Ctrl-C.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ecs_emulator::{DataSet, Fault};
use ecs_emulator::EmulatorHandle;
use emulator::{SECRET, start, start_with};
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
        assert!(at_ms >= finish, "{instance} in {region} at {at_ms} ms, finishes at {finish} ms");
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
    assert_eq!(clean.len(), REGIONS.len() * INVOCATIONS.len() * PER_INVOCATION);
    assert_eq!(followed, clean);
}
