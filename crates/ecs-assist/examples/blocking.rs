//! The blocking client (its own internal runtime, the hyper transport)
//! against an emulator serving its demo data from a background runtime. It
//! exits non-zero unless the answers are the demo's.
//!
//! ```text
//! cargo run -p ecs-assist --example blocking
//! ```

#![allow(clippy::print_stdout)]

use std::time::Duration;

use ecs_emulator::{DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, DataSet, Emulator};

/// `Err(what)` unless `ok`: the example checks what it got.
fn ensure(ok: bool, what: &str) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!("unexpected answer: {what}"))
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = tokio::runtime::Runtime::new()?;
    let emulator = server.block_on(Emulator::builder().data(DataSet::demo()).start())?;

    let client = ecs_assist::blocking::Client::builder()
        .region("cn-hangzhou")
        .endpoint(emulator.url())
        .access_key(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
        .build()?;

    // Every result of an invocation, page by page, as an iterator.
    let mut failed = 0;
    for result in client
        .describe_invocation_results()
        .invoke_id("t-hz0jdfwd9f1234")
        .into_paginator()
        .items()
    {
        let result = result?;
        let output = result.output_text()?;
        println!(
            "{} {:?}: {}",
            result.instance_id,
            result.invocation_status,
            output.trim_end()
        );
        failed += usize::from(output.contains("No such file"));
    }
    ensure(failed == 1, "one instance without /data")?;

    // Wait for the running deployment, polling every 200 ms.
    let outcome = client
        .wait_for_invocation("t-hz0jdfwe1uy5678")
        .configure(|waiter| waiter.poll_interval(Duration::from_millis(200)))
        .timeout(Duration::from_secs(60))
        .send()?;
    println!("{}", outcome.summary());
    ensure(outcome.is_success(), "the deployment succeeds")?;

    // A dry run: the signed request, secrets masked.
    let dry_run = client
        .describe_invocation_results()
        .invoke_id("t-hz0jdfwd9f1234")
        .prepare()?;
    print!("{}", dry_run.redacted());
    ensure(
        !dry_run.redacted().contains(DEMO_ACCESS_KEY_SECRET),
        "no secret in a dry run",
    )?;
    server.block_on(emulator.shutdown());
    Ok(())
}
