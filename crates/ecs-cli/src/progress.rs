//! A one-line progress report on stderr while paging or waiting, shown only
//! on a terminal and erased before anything else is written.

use std::io::{self, Write as _};

use std::time::Duration;

use ecs_assist::WaitSummary;

/// The progress line; does nothing when stderr is not a terminal.
#[derive(Debug)]
pub(crate) struct Progress {
    enabled: bool,
    shown: bool,
    pages: u64,
    results: u64,
}

impl Progress {
    pub(crate) fn new(enabled: bool) -> Self {
        Self {
            enabled,
            shown: false,
            pages: 0,
            results: 0,
        }
    }

    fn show(&mut self, line: &str) {
        if !self.enabled {
            return;
        }
        let mut err = io::stderr().lock();
        // `\r` + clear-to-end-of-line keeps it on one line.
        let _ = write!(err, "\r\x1b[2K{line}");
        let _ = err.flush();
        self.shown = true;
    }

    /// One more page of `results` was fetched.
    pub(crate) fn page(&mut self, results: usize) {
        self.pages += 1;
        self.results += results as u64;
        let line = format!("fetched {} pages, {} results…", self.pages, self.results);
        self.show(&line);
    }

    /// A waiter's poll saw `summary`.
    pub(crate) fn waiting(&mut self, invoke_id: &str, summary: &WaitSummary) {
        let line = format!(
            "waiting for {}: {} of {} instances finished ({} failed)…",
            crate::sanitize::for_terminal(invoke_id),
            summary.finished(),
            summary.total,
            summary.failed
        );
        self.show(&line);
    }

    /// `results` results were fetched so far (over many requests at once).
    pub(crate) fn fetched(&mut self, results: u64) {
        let line = format!("fetched {results} results…");
        self.show(&line);
    }

    /// A followed run stands at `summary`, `elapsed` after it started.
    pub(crate) fn following(&mut self, summary: &WaitSummary, elapsed: Duration) {
        let line = following_line(summary, elapsed);
        self.show(&line);
    }

    /// Erases the line (before results or messages are written).
    pub(crate) fn clear(&mut self) {
        if self.shown {
            let mut err = io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            self.shown = false;
        }
    }
}

/// `finished of total, failed, running, elapsed`, e.g.
/// `12 of 40 finished, 1 failed, 28 running, 1m 5s`.
fn following_line(summary: &WaitSummary, elapsed: Duration) -> String {
    let elapsed = Duration::from_secs(elapsed.as_secs());
    format!(
        "{} of {} finished, {} failed, {} running, {}",
        summary.finished(),
        summary.total,
        summary.failed,
        summary.pending,
        humantime::format_duration(elapsed)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_follow_line_says_finished_of_total_failed_running_and_elapsed() {
        let mut summary = WaitSummary::default();
        summary.total = 40;
        summary.succeeded = 11;
        summary.failed = 1;
        summary.pending = 28;
        assert_eq!(
            following_line(&summary, Duration::from_millis(65_400)),
            "12 of 40 finished, 1 failed, 28 running, 1m 5s"
        );
    }
}
