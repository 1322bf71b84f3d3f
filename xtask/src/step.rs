//! Named steps: each prints what it runs, is timed, and on failure says which
//! step failed and how to run it again alone.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};

/// One command line to run: program, arguments, environment, directory.
#[derive(Debug, Clone)]
pub(crate) struct Cmd {
    program: OsString,
    args: Vec<OsString>,
    envs: Vec<(OsString, OsString)>,
    dir: Option<PathBuf>,
    quiet: bool,
}

impl Cmd {
    /// `cargo` (the one running xtask, when known) with these arguments.
    pub(crate) fn cargo<I, S>(args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        Self::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())).args(args)
    }

    /// Any program with these arguments.
    pub(crate) fn new(program: impl Into<OsString>) -> Self {
        Self {
            program: program.into(),
            args: Vec::new(),
            envs: Vec::new(),
            dir: None,
            quiet: false,
        }
    }

    /// Appends arguments.
    pub(crate) fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable for the command.
    pub(crate) fn env(mut self, key: &str, value: &str) -> Self {
        self.envs.push((key.into(), value.into()));
        self
    }

    /// Runs the command in `dir` instead of the workspace root.
    pub(crate) fn dir(mut self, dir: &Path) -> Self {
        self.dir = Some(dir.to_path_buf());
        self
    }

    /// Discards the command's output (for probes).
    pub(crate) fn quiet(mut self) -> Self {
        self.quiet = true;
        self
    }

    /// Whether the command runs and exits 0 (for probes such as `--version`).
    pub(crate) fn succeeds(&self, root: &Path) -> bool {
        self.command(root)
            .status()
            .map(|status| status.success())
            .unwrap_or(false)
    }

    fn command(&self, root: &Path) -> Command {
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .current_dir(self.dir.as_deref().unwrap_or(root));
        for (key, value) in &self.envs {
            command.env(key, value);
        }
        if self.quiet {
            command.stdout(Stdio::null()).stderr(Stdio::null());
        }
        command
    }

    /// The command as a person would type it.
    fn display(&self) -> String {
        let mut out = String::new();
        for (key, value) in &self.envs {
            out.push_str(&format!(
                "{}={} ",
                key.to_string_lossy(),
                shell_word(&value.to_string_lossy())
            ));
        }
        out.push_str(&self.program.to_string_lossy());
        for arg in &self.args {
            out.push(' ');
            out.push_str(&shell_word(&arg.to_string_lossy()));
        }
        if let Some(dir) = &self.dir {
            out = format!("(cd {} && {out})", dir.display());
        }
        out
    }
}

fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@+".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The steps run so far, with their durations.
#[derive(Debug)]
pub(crate) struct Steps {
    root: PathBuf,
    done: Vec<(String, Duration)>,
}

impl Steps {
    pub(crate) fn new(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
            done: Vec::new(),
        }
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// Runs `cmd` as the step `name`; a failure names the step and the command.
    pub(crate) fn run(&mut self, name: &str, cmd: Cmd) -> Result<()> {
        self.run_allowing(name, cmd, &[]).map(drop)
    }

    /// Runs `cmd` as the step `name`, taking the exit codes in `also_ok` as
    /// answers to read rather than failures; returns the exit code.
    pub(crate) fn run_allowing(&mut self, name: &str, cmd: Cmd, also_ok: &[i32]) -> Result<i32> {
        println!("\n==> [{name}] {}", cmd.display());
        #[allow(clippy::disallowed_methods)] // Wall time of a step, for the summary.
        let started = Instant::now();
        let status = cmd
            .command(&self.root)
            .status()
            .map_err(|err| anyhow!("step `{name}` could not start `{}`: {err}", cmd.display()))?;
        let code = status.code();
        if !status.success() && !code.is_some_and(|c| also_ok.contains(&c)) {
            let code = code.map_or_else(|| "a signal".to_owned(), |c| c.to_string());
            return Err(anyhow!(
                "step `{name}` failed: `{}` exited with {code}",
                cmd.display()
            ));
        }
        self.done.push((name.to_owned(), started.elapsed()));
        Ok(code.unwrap_or(0))
    }

    /// Runs an in-process check as the step `name`.
    pub(crate) fn check(&mut self, name: &str, check: impl FnOnce() -> Result<()>) -> Result<()> {
        println!("\n==> [{name}]");
        #[allow(clippy::disallowed_methods)] // Wall time of a step, for the summary.
        let started = Instant::now();
        check().map_err(|err| anyhow!("step `{name}` failed: {err:#}"))?;
        self.done.push((name.to_owned(), started.elapsed()));
        Ok(())
    }

    /// Prints every step that ran and how long it took.
    pub(crate) fn summary(&self) {
        if self.done.len() < 2 {
            return;
        }
        println!("\nxtask: all steps passed");
        for (name, took) in &self.done {
            println!("  {:>7.1}s  {name}", took.as_secs_f64());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_quotes_words_a_shell_would_split() {
        let cmd = Cmd::cargo(["fmt", "--", "it's here"]).env("RUSTDOCFLAGS", "-D warnings");
        let shown = cmd.display();
        assert!(
            shown.starts_with("RUSTDOCFLAGS='-D warnings' "),
            "got {shown}"
        );
        assert!(shown.ends_with(r"fmt -- 'it'\''s here'"), "got {shown}");
    }

    #[test]
    fn a_failing_command_names_its_step() {
        let root = std::env::temp_dir();
        let mut steps = Steps::new(&root);
        let err = steps
            .run(
                "nonsense",
                Cmd::cargo(["no-such-cargo-subcommand-xyz"]).quiet(),
            )
            .unwrap_err()
            .to_string();
        assert!(err.contains("step `nonsense` failed"), "got {err}");
        assert!(err.contains("no-such-cargo-subcommand-xyz"), "got {err}");
    }

    #[test]
    fn exit_codes_allowed_by_the_caller_are_returned_not_failures() {
        let mut steps = Steps::new(&std::env::temp_dir());
        let exit = |code: &str| Cmd::new("sh").args(["-c", &format!("exit {code}")]);
        assert_eq!(steps.run_allowing("two", exit("2"), &[2, 3]).unwrap(), 2);
        assert_eq!(steps.run_allowing("zero", exit("0"), &[2]).unwrap(), 0);
        let err = steps
            .run_allowing("four", exit("4"), &[2, 3])
            .unwrap_err()
            .to_string();
        assert!(err.contains("step `four` failed"), "got {err}");
        assert!(err.contains("exited with 4"), "got {err}");
    }
}
