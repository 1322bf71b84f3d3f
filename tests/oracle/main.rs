//! `interop-oracle`: our side of the differential suites of `cargo xtask
//! interop`.
//!
//! It reads one JSON object a line on stdin, each naming a `suite`, answers
//! it with this workspace's code (`ecs-sign`, `ecs-model`, `ecs-assist`),
//! and writes one JSON object a line on stdout, in order. The Python side
//! (`xtask/interop/differential.py`) sends the same inputs through the
//! official SDKs and compares. Nothing here decides whether an answer is
//! right; it only reports what our code does.

// A command-line helper talks on stdout.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{BufRead as _, Write as _};

use serde_json::{Value, json};

mod credentials;
mod suites;

fn main() -> std::process::ExitCode {
    let stdin = std::io::stdin().lock();
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    for (number, line) in stdin.lines().enumerate() {
        let line = match line {
            Ok(line) => line,
            Err(err) => {
                eprintln!("interop-oracle: cannot read line {}: {err}", number + 1);
                return std::process::ExitCode::FAILURE;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let answer = match serde_json::from_str::<Value>(&line) {
            Ok(case) => suites::answer(&case),
            Err(err) => json!({ "oracle_error": format!("line {}: {err}", number + 1) }),
        };
        if writeln!(stdout, "{answer}").is_err() {
            return std::process::ExitCode::FAILURE;
        }
    }
    if stdout.flush().is_err() {
        return std::process::ExitCode::FAILURE;
    }
    std::process::ExitCode::SUCCESS
}
