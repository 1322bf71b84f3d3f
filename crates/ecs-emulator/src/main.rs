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
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use ecs_emulator::{AccessKey, DataSet, Emulator, Fault, MAX_GENERATED};

/// The allocator of the shipped binary: the crate feature `mimalloc` (on by
/// default; why, in the crate docs' feature table).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How long the process waits, once stopped, for work still running on its
/// threads (a large query) before it exits anyway.
const EXIT_GRACE: Duration = Duration::from_secs(1);

/// A faithful local emulator of the ECS Cloud Assistant
/// DescribeInvocationResults API.
///
/// Without --access-key it accepts the demo key pair
/// EmulatorAccessKeyId / EmulatorAccessKeySecret. Without --data and
/// --generate it serves the demo data set. It also serves OSS GetObject of
/// the outputs that invocations with OSS output delivery wrote (signed
/// OSS4-HMAC-SHA256, addressed path style on this address).
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

    /// Also serve N generated, deterministic results (at most 100000000),
    /// before the --data file's. One invocation in ten delivers its outputs
    /// to OSS (bucket ecs-assist-emulator), its first result longer than
    /// 24 KB.
    #[arg(long, value_name = "N", value_parser = generate_count)]
    generate: Option<u64>,

    /// The region of the generated results.
    #[arg(long, value_name = "REGION", default_value = "cn-hangzhou")]
    generate_region: String,

    /// An access key to accept, ID:SECRET or ID:SECRET:TOKEN (STS); repeatable.
    #[arg(long = "access-key", value_name = "ID:SECRET[:TOKEN]")]
    access_keys: Vec<AccessKey>,

    /// A fault to inject, KIND[:ARG]... (throttle:0.1, error500:x3,
    /// delay:200ms, reset:0.02, truncate:0.01, html, badjson, badxml,
    /// error503, replace: an OSS object overwritten after its answer), on
    /// every request or one service's (on=ecs, sts, imds, uri, sso, oauth,
    /// oss: error503:on=sts:x2, truncate:x1:on=oss); repeatable.
    #[arg(long = "fault", value_name = "SPEC")]
    faults: Vec<Fault>,

    /// Seed for faults, request ids and NextTokens (also --fault-seed). It
    /// never changes the data: a faulty run and a clean run serve the same
    /// results.
    #[arg(
        long,
        visible_alias = "fault-seed",
        value_name = "N",
        default_value_t = 0
    )]
    seed: u64,

    /// Seed for the generated results' statuses and outputs: the same data
    /// seed, the same data.
    #[arg(long, value_name = "N", default_value_t = 0)]
    data_seed: u64,

    /// At most N connections open at once; at the limit, or out of file
    /// descriptors, the connection idle the longest is closed first.
    #[arg(
        long,
        value_name = "N",
        default_value_t = ecs_emulator::DEFAULT_MAX_CONNECTIONS as u64,
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    max_connections: u64,

    /// The OIDC token STS AssumeRoleWithOIDC accepts.
    #[arg(long, value_name = "TOKEN", default_value = ecs_emulator::DEFAULT_OIDC_TOKEN)]
    oidc_token: String,

    /// The RAM role the metadata service lists and serves.
    #[arg(long, value_name = "ROLE", default_value = ecs_emulator::DEFAULT_INSTANCE_ROLE)]
    instance_role: String,

    /// Refuse metadata requests without an IMDSv2 token (HTTP 403).
    #[arg(long)]
    imdsv1_disabled: bool,

    /// The access token CloudSSO's POST /cloud-credentials accepts.
    #[arg(long, value_name = "TOKEN", default_value = ecs_emulator::DEFAULT_SSO_ACCESS_TOKEN)]
    sso_access_token: String,

    /// The refresh token OAuth's POST /v1/token accepts.
    #[arg(long, value_name = "TOKEN", default_value = ecs_emulator::DEFAULT_OAUTH_REFRESH_TOKEN)]
    oauth_refresh_token: String,

    /// At most this many seconds of life for every credential the
    /// credential services issue (to watch them expire and refresh).
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    max_session_lifetime: Option<u64>,
}

/// `--generate N`: a count of at most `MAX_GENERATED`.
fn generate_count(text: &str) -> Result<u64, String> {
    let count: u64 = text.parse().map_err(|_| {
        format!("`{text}` is not a count of results; give a whole number, at most {MAX_GENERATED}")
    })?;
    if count > MAX_GENERATED {
        return Err(format!(
            "{count} is too many results; give at most {MAX_GENERATED}"
        ));
    }
    Ok(count)
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
    let served = runtime.block_on(async move {
        let mut builder = Emulator::builder()
            .listen(args.listen)
            .data(data)
            .seed(args.seed)
            .data_seed(args.data_seed)
            .max_connections(usize::try_from(args.max_connections).unwrap_or(usize::MAX))
            .generate_region(args.generate_region)
            .oidc_token(args.oidc_token)
            .instance_role(args.instance_role)
            .imdsv1(!args.imdsv1_disabled)
            .sso_access_token(args.sso_access_token)
            .oauth_refresh_token(args.oauth_refresh_token);
        if let Some(secs) = args.max_session_lifetime {
            builder = builder.max_session_lifetime(Duration::from_secs(secs));
        }
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
        // Watch the signals before the URL is announced: whoever reads it
        // may stop the server at once.
        let stop = Shutdown::watch()?;
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "ecs-emulator listening on {}", emulator.url())?;
        stdout.flush()?;
        drop(stdout);
        stop.wait().await?;
        eprintln!("ecs-emulator: shutting down");
        emulator.shutdown().await;
        Ok(())
    });
    // A query still running on a blocking thread must not keep the process
    // alive once it has been told to stop.
    runtime.shutdown_timeout(EXIT_GRACE);
    served
}

/// SIGINT (Ctrl-C) and SIGTERM, watched from when [`Shutdown::watch`]
/// returns (a signal before that would end the process at once).
struct Shutdown {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Shutdown {
    fn watch() -> Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                interrupt: signal(SignalKind::interrupt()).context("cannot watch SIGINT")?,
                terminate: signal(SignalKind::terminate()).context("cannot watch SIGTERM")?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// Waits for either signal.
    async fn wait(mut self) -> Result<()> {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
        #[cfg(not(unix))]
        tokio::signal::ctrl_c()
            .await
            .context("cannot watch Ctrl-C")?;
        Ok(())
    }
}
