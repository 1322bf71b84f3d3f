//! One page, every result as a stream, and the waiter, against an emulator
//! started in-process (so it runs offline):
//!
//! ```text
//! cargo run -p ecs-assist --example quickstart
//! ```

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::Duration;

use ecs_assist::{Client, ContentEncoding};
use ecs_emulator::{DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, DataSet, Emulator};
use futures::TryStreamExt as _;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emulator = Emulator::builder()
        .data(DataSet::demo())
        .generate(200)
        .start()
        .await?;
    let client = Client::builder()
        .region("cn-hangzhou")
        .endpoint(emulator.url())
        .access_key(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
        .build()?;

    let page = client
        .describe_invocation_results()
        .invoke_id("t-hz0jdfwd9f1234")
        .content_encoding(ContentEncoding::PlainText)
        .send()
        .await?;
    for result in &page.invocation.results {
        println!(
            "{} {:?} exit={:?}\n{}",
            result.instance_id,
            result.invocation_status,
            result.exit_code,
            result.output.trim_end()
        );
    }

    let mut items = client
        .describe_invocation_results()
        .into_paginator()
        .items();
    let mut count = 0u64;
    while let Some(_result) = items.try_next().await? {
        count += 1;
    }
    println!("{count} results in total");

    let outcome = client
        .wait_for_invocation("t-hz0jdfwe1uy5678")
        .poll_interval(Duration::from_millis(500))
        .on_progress(|seen| eprintln!("waiting: {}", seen.summary()))
        .send()
        .await?;
    println!("done: {}", outcome.summary());
    emulator.shutdown().await;
    Ok(())
}
