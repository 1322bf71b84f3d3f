//! How the CLI talks to its user on stderr: warnings (silenced by
//! `--quiet`) and whether progress lines are shown.

use crate::sanitize::for_terminal;

/// How the CLI talks to its user on stderr.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ui {
    pub(crate) quiet: bool,
    /// stderr is a terminal: progress lines are shown.
    pub(crate) progress: bool,
}

impl Ui {
    /// A warning on stderr, unless `--quiet`.
    pub(crate) fn warn(&self, message: &str) {
        if !self.quiet {
            eprintln!("warning: {}", for_terminal(message));
        }
    }
}
