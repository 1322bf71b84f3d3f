//! Streams every result of a running emulator through `.items()` and reports
//! the process's peak resident memory: the memory benchmark of
//! `cargo xtask bench` (one page in memory at a time, whatever the total).
//!
//! ```text
//! ecs-emulator --listen 127.0.0.1:8080 --generate 1000000 &
//! cargo run --release -p ecs-assist --example stream_memory -- http://127.0.0.1:8080 1000000
//! ```
//!
//! Prints one JSON object: `{"results": N, "peak_rss_kib": K, "seconds": S}`
//! (`K` is `null` where the peak RSS cannot be read).

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use ecs_assist::Client;
use futures::TryStreamExt as _;

/// Peak resident set size in KiB, from `/proc/self/status` (Linux).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(endpoint), Some(expected)) = (args.next(), args.next()) else {
        eprintln!("usage: stream_memory ENDPOINT EXPECTED_RESULTS");
        return ExitCode::from(2);
    };
    let Ok(expected) = expected.parse::<u64>() else {
        eprintln!("EXPECTED_RESULTS must be a number, not {expected:?}");
        return ExitCode::from(2);
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("cannot start a runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    #[allow(clippy::disallowed_methods)] // Wall time is what a benchmark reports.
    let started = std::time::Instant::now();
    let counted = runtime.block_on(async {
        let client = Client::builder()
            .region("cn-hangzhou")
            .endpoint(endpoint)
            .access_key("EmulatorAccessKeyId", "EmulatorAccessKeySecret")
            .build()?;
        client
            .describe_invocation_results()
            .max_results(50)
            .into_paginator()
            .items()
            .try_fold(0u64, |n, _| async move { Ok(n + 1) })
            .await
    });
    let seconds = started.elapsed().as_secs_f64();
    match counted {
        Ok(n) if n == expected => {
            println!(
                "{{\"results\": {n}, \"peak_rss_kib\": {}, \"seconds\": {seconds:.3}}}",
                peak_rss_kib().map_or_else(|| "null".to_owned(), |k| k.to_string())
            );
            ExitCode::SUCCESS
        }
        Ok(n) => {
            eprintln!("streamed {n} results, expected {expected}");
            ExitCode::FAILURE
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
