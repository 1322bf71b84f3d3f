//! The async client: one page, every result as a stream, and the waiter,
//! against an emulator started in-process with its demo data (so it runs
//! offline). It exits non-zero unless the answers are the demo's.
//!
//! ```text
//! cargo run -p ecs-assist --example quickstart
//! ```

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::Duration;

use ecs_assist::{Client, ContentEncoding};
use ecs_emulator::{DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, DataSet, Emulator};
use futures::TryStreamExt as _;

/// `Err(what)` unless `ok`: the example checks what it got.
fn ensure(ok: bool, what: &str) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!("unexpected answer: {what}"))
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emulator = Emulator::builder().data(DataSet::demo()).start().await?;
    // For the real service: `Client::from_env()?` (region and credentials
    // from the environment and the usual files).
    let client = Client::builder()
        .region("cn-hangzhou")
        .endpoint(emulator.url())
        .access_key(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
        .build()?;

    // One page, its output sent as plain text.
    let page = client
        .describe_invocation_results()
        .invoke_id("t-hz0jdfwd9f1234")
        .content_encoding(ContentEncoding::PlainText)
        .send()
        .await?;
    for result in &page.invocation.results {
        // Decoded in the encoding the request asked for.
        let output = result.output_text()?;
        println!(
            "{} exit={:?}\n{}",
            result.instance_id,
            result.exit_code,
            output.trim_end()
        );
    }
    let results = &page.invocation.results;
    ensure(results.len() == 3, "3 results of t-hz0jdfwd9f1234")?;
    ensure(
        results[0].output_text()?.starts_with("Filesystem"),
        "a df table from the first instance",
    )?;

    // Every result of every invocation, one page in memory at a time; the
    // next page is asked for while this one decodes.
    let mut items = client
        .describe_invocation_results()
        .max_results(4)
        .into_paginator()
        .read_ahead(true)
        .items();
    let mut count = 0u64;
    while let Some(result) = items.try_next().await? {
        result.output_text()?;
        count += 1;
    }
    println!("{count} results in total");
    ensure(
        count == 8,
        "the demo's 8 results (history runs are not asked for)",
    )?;

    // Wait until every instance of the running deployment has finished.
    let outcome = client
        .wait_for_invocation("t-hz0jdfwe1uy5678")
        .poll_interval(Duration::from_millis(500))
        .timeout(Duration::from_secs(60))
        .on_progress(|seen| eprintln!("waiting: {}", seen.summary()))
        .send()
        .await?;
    println!("done: {}", outcome.summary());
    ensure(outcome.is_success(), "the deployment succeeds")?;
    emulator.shutdown().await;
    Ok(())
}
