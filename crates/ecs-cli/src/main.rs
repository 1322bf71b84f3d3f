//! `ecs-assist`: the command-line tool for ECS Cloud Assistant results.
//!
//! Layer: top (a binary over the `ecs-assist` library); it adds only
//! presentation: flags, output formats, progress and exit codes.

// A command-line tool talks to its user on the terminal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod args;
mod full_output;
mod output;
mod progress;
mod run;
mod sanitize;
mod spool;
mod ui;

use std::process::ExitCode;

use clap::{CommandFactory as _, Parser as _};

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    if let args::Command::Completions { shell } = cli.command {
        clap_complete::generate(
            shell,
            &mut args::Cli::command(),
            "ecs-assist",
            &mut std::io::stdout(),
        );
        return ExitCode::SUCCESS;
    }
    init_logging(cli.global.verbose);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::from(run::exit::FAILURE);
        }
    };
    runtime.block_on(run::run(cli))
}

/// `-v`: what each request does; `-vv`: everything. Secrets never appear
/// (the library never logs them).
fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => return,
        1 => "ecs_assist=debug",
        _ => "ecs_assist=trace,ecs_transport=trace",
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(level))
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
