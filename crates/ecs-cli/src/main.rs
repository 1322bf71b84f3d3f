//! `ecs-assist`: the command-line tool for ECS Cloud Assistant results.
//!
//! Layer: top (a binary over the `ecs-assist` library); it adds only
//! presentation.

// A command-line tool talks to its user on the terminal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod args;
mod output;

fn main() -> std::process::ExitCode {
    use clap::Parser as _;
    let _cli = args::Cli::parse();
    eprintln!("ecs-assist: not wired to the client yet");
    std::process::ExitCode::from(2)
}
