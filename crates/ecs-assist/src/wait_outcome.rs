//! What a waiter saw: [`WaitOutcome`] (the results of its last poll) and
//! [`WaitSummary`] (their counts by outcome and status). Plain data, also
//! carried by a wait-timeout [`Error`](crate::Error).

use std::collections::BTreeMap;
use std::fmt;

use ecs_model::InvocationResult;

/// What a waiter saw: the results and their summary.
#[derive(Debug, Clone)]
pub struct WaitOutcome {
    results: Vec<InvocationResult>,
    summary: WaitSummary,
    polls: u32,
    stopped_early: bool,
}

impl WaitOutcome {
    pub(crate) fn new(results: Vec<InvocationResult>, polls: u32) -> Self {
        let summary = WaitSummary::of(&results);
        Self {
            results,
            summary,
            polls,
            stopped_early: false,
        }
    }

    /// The same outcome, marked as ended at the first failure (fail-fast).
    pub(crate) fn stopped_early_at_failure(self) -> Self {
        Self {
            stopped_early: true,
            ..self
        }
    }

    /// The results of the last poll.
    pub fn results(&self) -> &[InvocationResult] {
        &self.results
    }

    /// The results, owned.
    pub fn into_results(self) -> Vec<InvocationResult> {
        self.results
    }

    /// Counts by outcome and status.
    pub fn summary(&self) -> &WaitSummary {
        &self.summary
    }

    /// How many polls were made.
    pub fn polls(&self) -> u32 {
        self.polls
    }

    /// Whether every instance is in a final state.
    pub fn is_complete(&self) -> bool {
        self.summary.total > 0 && self.summary.pending == 0
    }

    /// Whether every instance succeeded.
    pub fn is_success(&self) -> bool {
        self.is_complete() && self.summary.succeeded == self.summary.total
    }

    /// Whether some instance ended in a failure state.
    pub fn has_failures(&self) -> bool {
        self.summary.failed > 0
    }

    /// Whether the wait ended at the first failure (fail-fast).
    pub fn stopped_early(&self) -> bool {
        self.stopped_early
    }
}

/// Counts of a waiter's results.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WaitSummary {
    /// Results seen.
    pub total: usize,
    /// Results with `InvocationStatus` `Success`.
    pub succeeded: usize,
    /// Results in a failure state (`Failed`, `Error`, `Timeout`, `Invalid`,
    /// `Aborted`).
    pub failed: usize,
    /// Results stopped by a user (`Cancelled`, `Terminated`).
    pub stopped: usize,
    /// Results not final yet.
    pub pending: usize,
    /// Results by `InvocationStatus` (`(none)` when absent).
    pub by_status: BTreeMap<String, usize>,
}

impl WaitSummary {
    pub(crate) fn of<'a>(results: impl IntoIterator<Item = &'a InvocationResult>) -> Self {
        let mut s = Self::default();
        for r in results {
            s.total += 1;
            let status = r.invocation_status.as_ref();
            match status {
                Some(st) if st.is_success() => s.succeeded += 1,
                Some(st) if st.is_failure() => s.failed += 1,
                Some(st) if st.is_stopped() => s.stopped += 1,
                _ => s.pending += 1,
            }
            let name = status.map_or("(none)", |st| st.as_str());
            *s.by_status.entry(name.to_owned()).or_default() += 1;
        }
        s
    }

    /// Results in a final state.
    pub fn finished(&self) -> usize {
        self.succeeded + self.failed + self.stopped
    }
}

impl fmt::Display for WaitSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} of {} finished: {} succeeded, {} failed, {} stopped",
            self.finished(),
            self.total,
            self.succeeded,
            self.failed,
            self.stopped
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ecs_model::InvocationStatus;

    fn result(instance: &str, status: InvocationStatus) -> InvocationResult {
        let mut r = InvocationResult::new("t-1", instance);
        r.invocation_status = Some(status);
        r
    }

    #[test]
    fn summary_counts_by_outcome_and_status() {
        let results = vec![
            result("i-1", InvocationStatus::Success),
            result("i-2", InvocationStatus::Failed),
            result("i-3", InvocationStatus::Running),
            result("i-4", InvocationStatus::Cancelled),
            result("i-5", InvocationStatus::Success),
        ];
        let o = WaitOutcome::new(results, 3);
        let s = o.summary();
        assert_eq!(
            (s.total, s.succeeded, s.failed, s.stopped, s.pending),
            (5, 2, 1, 1, 1)
        );
        assert_eq!(s.by_status["Success"], 2);
        assert_eq!(s.finished(), 4);
        assert!(!o.is_complete());
        assert!(o.has_failures());
        assert_eq!(
            s.to_string(),
            "4 of 5 finished: 2 succeeded, 1 failed, 1 stopped"
        );
    }

    #[test]
    fn empty_is_not_complete() {
        let o = WaitOutcome::new(Vec::new(), 1);
        assert!(!o.is_complete() && !o.is_success());
    }
}
