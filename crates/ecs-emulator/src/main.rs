//! `ecs-emulator`: serve the emulated `DescribeInvocationResults` API on a
//! local address until SIGINT or SIGTERM.
//!
//! Layer: top (a binary over the `ecs-emulator` library).

// A server binary talks to its user on the terminal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;
use ecs_emulator::{AccessKey, DataSet, Emulator, Fault};

/// A faithful local emulator of the ECS Cloud Assistant
/// DescribeInvocationResults API.
///
/// Without --access-key it accepts the demo key pair
/// EmulatorAccessKeyId / EmulatorAccessKeySecret. Without --data and
/// --generate it serves the demo data set.
#[derive(Debug, Parser)]
#[command(name = "ecs-emulator", version)]
struct Args {
    /// The address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,

    /// A JSON data file of invocations and results (format: the crate docs
    /// of `ecs_emulator`, module `data`).
    #[arg(long, value_name = "FILE.json")]
    data: Option<PathBuf>,

    /// Also serve N generated, deterministic results.
    #[arg(long, value_name = "N")]
    generate: Option<u64>,

    /// The region of the generated results.
    #[arg(long, value_name = "REGION", default_value = "cn-hangzhou")]
    generate_region: String,

    /// An access key to accept, ID:SECRET or ID:SECRET:TOKEN (STS); repeatable.
    #[arg(long = "access-key", value_name = "ID:SECRET[:TOKEN]")]
    access_keys: Vec<AccessKey>,

    /// A fault to inject, KIND[:ARG]... (throttle:0.1, error500:x3,
    /// delay:200ms, reset:0.02, truncate:0.01, html, badjson, badxml,
    /// error503); repeatable.
    #[arg(long = "fault", value_name = "SPEC")]
    faults: Vec<Fault>,

    /// Seed for faults, request ids and NextTokens.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("ecs-emulator: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<()> {
    let data = match &args.data {
        Some(path) => DataSet::from_file(path)?,
        None if args.generate.is_none() => DataSet::demo(),
        None => DataSet::default(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let mut builder = Emulator::builder()
            .listen(args.listen)
            .data(data)
            .seed(args.seed)
            .generate_region(args.generate_region);
        if let Some(n) = args.generate {
            builder = builder.generate(n);
        }
        for key in args.access_keys {
            builder = builder.access_key(key);
        }
        for fault in args.faults {
            builder = builder.fault(fault);
        }
        let emulator = builder.start().await?;
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "ecs-emulator listening on {}", emulator.url())?;
        stdout.flush()?;
        drop(stdout);
        shutdown_signal().await?;
        eprintln!("ecs-emulator: shutting down");
        emulator.shutdown().await;
        Ok(())
    })
}

/// Waits for SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() -> Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result.context("cannot watch SIGINT")?,
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c()
        .await
        .context("cannot watch Ctrl-C")?;
    Ok(())
}
