//! Runs the `ecs-emulator` binary for a verb (interop, demo): started on a
//! free port, its URL read from its first line, stopped when dropped.

use std::ffi::OsStr;
use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};

/// A running emulator process.
#[derive(Debug)]
pub(crate) struct Emulator {
    child: Child,
    host_port: String,
}

impl Emulator {
    /// Starts `target/debug/ecs-emulator` (built beforehand) with `args`.
    pub(crate) fn start(root: &Path, args: &[&OsStr]) -> Result<Self> {
        Self::start_binary(&crate::target_dir(root).join("debug/ecs-emulator"), args)
    }

    /// Starts the emulator binary at `binary` with `args`.
    pub(crate) fn start_binary(binary: &Path, args: &[&OsStr]) -> Result<Self> {
        println!("\n==> {} --listen 127.0.0.1:0 ...", binary.display());
        let mut child = Command::new(binary)
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let stdout = child.stdout.take().context("no stdout from the emulator")?;
        let mut first = String::new();
        BufReader::new(stdout)
            .read_line(&mut first)
            .context("cannot read the emulator's first line")?;
        let Some(host_port) = first
            .trim()
            .strip_prefix("ecs-emulator listening on http://")
            .map(str::to_owned)
        else {
            let _ = child.kill();
            bail!("the emulator did not start: its first line was {first:?}");
        };
        println!("emulator listening on http://{host_port}");
        Ok(Self { child, host_port })
    }

    /// `HOST:PORT`.
    pub(crate) fn host_port(&self) -> &str {
        &self.host_port
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
