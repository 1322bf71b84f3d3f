//! The blocking client (internal runtime, hyper transport) against an
//! emulator running on a background runtime:
//!
//! ```text
//! cargo run -p ecs-assist --example blocking
//! ```

#![allow(clippy::print_stdout)]

use ecs_emulator::{DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, DataSet, Emulator};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = tokio::runtime::Runtime::new()?;
    let emulator = server.block_on(Emulator::builder().data(DataSet::demo()).start())?;

    let client = ecs_assist::blocking::Client::builder()
        .region("cn-hangzhou")
        .endpoint(emulator.url())
        .access_key(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
        .build()?;
    for result in client
        .describe_invocation_results()
        .into_paginator()
        .items()
    {
        let result = result?;
        println!(
            "{} {} {:?}",
            result.invoke_id, result.instance_id, result.invocation_status
        );
    }
    let outcome = client.wait_for_invocation("t-hz0jdfwd9f1234").send()?;
    println!("{}", outcome.summary());
    let dry_run = client
        .describe_invocation_results()
        .invoke_id("t-hz0jdfwd9f1234")
        .prepare()?;
    print!("{}", dry_run.redacted());
    server.block_on(emulator.shutdown());
    Ok(())
}
