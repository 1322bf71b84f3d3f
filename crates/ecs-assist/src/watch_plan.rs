//! The decisions of a watch, without IO: how long to wait before the next
//! poll ([`Cadence`]), which instances left the running set and what to
//! fetch for them ([`Tracker`], [`Fetch`]). `watch.rs` does the requests.
//!
//! What a watch costs: the first poll lists every result once (in pages,
//! which fixes each instance's position in the listing); every later poll
//! lists only the still-running records (`InvokeRecordStatus=Running`). An
//! instance that was running and is no longer listed as such has finished
//! (or is stopping): its final record is fetched once, either alone (by
//! `InstanceId`) or, when several that left sit close together in the
//! listing, as one page (`PageNumber`/`PageSize`) that covers them, chosen
//! so that at least half of what it brings are records that left and none
//! is a record already finished (each finished output is downloaded
//! once). A record that a page did not bring after all (the listing moved)
//! is fetched alone.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;

use ecs_model::InvocationResult;

use crate::wait_outcome::WaitSummary;

/// The largest page the API serves.
pub(crate) const PAGE_LIMIT: u64 = 50;

/// The interval between polls: starts at `initial`, doubles (up to `max`)
/// after each poll that saw nothing change, and drops back to `initial`
/// after one that did.
#[derive(Debug, Clone)]
pub(crate) struct Cadence {
    initial: Duration,
    max: Duration,
    current: Duration,
}

impl Cadence {
    pub(crate) fn new(initial: Duration, max: Duration) -> Self {
        let initial = initial.max(Duration::from_millis(1));
        Self {
            initial,
            max: max.max(initial),
            current: initial,
        }
    }

    /// The interval before the next poll.
    pub(crate) fn current(&self) -> Duration {
        self.current
    }

    /// Records a poll's outcome: `changed` when it saw an instance finish
    /// (or the first results appear).
    pub(crate) fn after_poll(&mut self, changed: bool) {
        self.current = if changed {
            self.initial
        } else {
            self.current.saturating_mul(2).min(self.max)
        };
    }
}

/// How to fetch records that left the running set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fetch {
    /// One instance's record (`InstanceId`).
    Instance(String),
    /// One page of the listing (`PageNumber`, 1-based, and `PageSize`)
    /// expected to hold these instances.
    Window {
        page_number: u64,
        page_size: u64,
        expect: Vec<String>,
    },
}

/// One followed instance.
#[derive(Debug)]
struct Followed {
    /// Its place in the full listing (`None`: first seen later).
    position: Option<u64>,
    /// Its latest record.
    record: InvocationResult,
    finished: bool,
}

/// What a watch knows about the instances of one invocation.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    followed: HashMap<String, Followed>,
    /// Instances asked for (empty: all).
    only: HashSet<String>,
    listed: bool,
    running: usize,
    /// Listing positions of the finished instances: a page that would
    /// bring one of them again is never asked for.
    finished_at: BTreeSet<u64>,
    /// Records in the last full listing (every instance, asked for or not).
    listing_len: usize,
}

/// The requests a listing of `records` takes, pages of [`PAGE_LIMIT`]
/// (at least one: an empty listing is one request).
pub(crate) fn pages(records: usize) -> usize {
    records.div_ceil(PAGE_LIMIT as usize).max(1)
}

fn is_final(record: &InvocationResult) -> bool {
    record
        .invocation_status
        .as_ref()
        .is_some_and(ecs_model::InvocationStatus::is_final)
}

impl Tracker {
    /// A tracker of every instance, or of `only` these when not empty.
    pub(crate) fn new(only: impl IntoIterator<Item = String>) -> Self {
        Self {
            only: only.into_iter().collect(),
            ..Self::default()
        }
    }

    fn wanted(&self, instance: &str) -> bool {
        self.only.is_empty() || self.only.contains(instance)
    }

    /// Whether the full listing has been read (with some results).
    pub(crate) fn listed(&self) -> bool {
        self.listed
    }

    /// Instances followed.
    #[cfg(test)]
    pub(crate) fn total(&self) -> usize {
        self.followed.len()
    }

    /// Instances not finished yet.
    pub(crate) fn running(&self) -> usize {
        self.running
    }

    /// Reads the full listing, in order; returns the records already final
    /// (to yield). An empty listing leaves the tracker waiting for one.
    pub(crate) fn read_listing(&mut self, results: Vec<InvocationResult>) -> Vec<InvocationResult> {
        self.listing_len = results.len();
        let mut done = Vec::new();
        for (position, record) in (0u64..).zip(results) {
            if !self.wanted(&record.instance_id) {
                continue;
            }
            let finished = is_final(&record);
            if finished {
                done.push(record.clone());
                self.finished_at.insert(position);
            } else {
                self.running += 1;
            }
            self.followed
                .entry(record.instance_id.clone())
                .or_insert(Followed {
                    position: Some(position),
                    record,
                    finished,
                });
        }
        self.listed = !self.followed.is_empty();
        done
    }

    /// Reads the still-running records of a poll; returns the instances
    /// that left the running set, in listing order. An instance not seen
    /// before is followed from now on.
    pub(crate) fn read_running(&mut self, running: Vec<InvocationResult>) -> Vec<String> {
        let mut seen = HashSet::new();
        for record in running {
            if !self.wanted(&record.instance_id) {
                continue;
            }
            seen.insert(record.instance_id.clone());
            match self.followed.get_mut(&record.instance_id) {
                Some(f) if !f.finished => f.record = record,
                Some(_) => {}
                None => self.follow_from_now(record, false),
            }
        }
        let mut left: Vec<(&Option<u64>, &String)> = self
            .followed
            .iter()
            .filter(|(id, f)| !f.finished && !seen.contains(*id))
            .map(|(id, f)| (&f.position, id))
            .collect();
        // Known positions first, in order; then the rest by id.
        left.sort_by(|a, b| match (a.0, b.0) {
            (Some(x), Some(y)) => x.cmp(y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.1.cmp(b.1),
        });
        left.into_iter().map(|(_, id)| id.clone()).collect()
    }

    /// What to fetch for the instances that `left` (from
    /// [`read_running`](Self::read_running)).
    pub(crate) fn plan(&self, left: &[String]) -> Vec<Fetch> {
        let mut placed: Vec<(u64, &String)> = Vec::new();
        let mut fetches = Vec::new();
        for id in left {
            match self.followed.get(id).and_then(|f| f.position) {
                Some(position) => placed.push((position, id)),
                None => fetches.push(Fetch::Instance(id.clone())),
            }
        }
        placed.sort();
        let positions: Vec<u64> = placed.iter().map(|(p, _)| *p).collect();
        let mut i = 0;
        let finished = |start: u64, end: u64| self.finished_at.range(start..end).next().is_some();
        for (start, size, count) in windows(&positions, finished) {
            let ids = &placed[i..i + count];
            i += count;
            if count == 1 {
                fetches.push(Fetch::Instance(ids[0].1.clone()));
            } else {
                fetches.push(Fetch::Window {
                    page_number: start / size + 1,
                    page_size: size,
                    expect: ids.iter().map(|(_, id)| (*id).clone()).collect(),
                });
            }
        }
        fetches
    }

    /// The requests a full listing takes now.
    pub(crate) fn full_pages(&self) -> usize {
        pages(self.listing_len.max(self.followed.len()))
    }

    /// Reads a full listing made after the first one (a poll that lists
    /// every result again); returns the records that became final, in
    /// listing order, and how many fetches the plan for them would have
    /// taken instead (to judge which way the next poll is cheaper).
    pub(crate) fn read_relisting(
        &mut self,
        results: Vec<InvocationResult>,
    ) -> (Vec<InvocationResult>, usize) {
        self.listing_len = results.len();
        let left: Vec<String> = results
            .iter()
            .filter(|r| is_final(r))
            .filter(|r| {
                self.followed
                    .get(&r.instance_id)
                    .is_some_and(|f| !f.finished)
            })
            .map(|r| r.instance_id.clone())
            .collect();
        let fetches = self.plan(&left).len();
        let mut done = Vec::new();
        for record in results {
            if !self.wanted(&record.instance_id) {
                continue;
            }
            if self.followed.contains_key(&record.instance_id) {
                done.extend(self.read_fetched(record));
                continue;
            }
            // First seen now: followed from here on.
            let finished = is_final(&record);
            if finished {
                done.push(record.clone());
            }
            self.follow_from_now(record, finished);
        }
        (done, fetches)
    }

    /// Follows an instance first seen after the first listing (its place
    /// in the listing unknown).
    fn follow_from_now(&mut self, record: InvocationResult, finished: bool) {
        if !finished {
            self.running += 1;
        }
        self.followed.insert(
            record.instance_id.clone(),
            Followed {
                position: None,
                record,
                finished,
            },
        );
    }

    /// Reads a fetched record; returns it when it is the final record of a
    /// running instance (to yield, once).
    pub(crate) fn read_fetched(&mut self, record: InvocationResult) -> Option<InvocationResult> {
        let followed = self.followed.get_mut(&record.instance_id)?;
        if followed.finished {
            return None;
        }
        let finished = is_final(&record);
        followed.record = record;
        if !finished {
            return None;
        }
        followed.finished = true;
        if let Some(position) = followed.position {
            self.finished_at.insert(position);
        }
        self.running = self.running.saturating_sub(1);
        Some(followed.record.clone())
    }

    /// Whether `instance` is still running (not finished).
    #[cfg(test)]
    pub(crate) fn is_running(&self, instance: &str) -> bool {
        self.followed.get(instance).is_some_and(|f| !f.finished)
    }

    /// The latest record of every instance, in listing order.
    pub(crate) fn records(&self) -> Vec<InvocationResult> {
        let mut all: Vec<&Followed> = self.followed.values().collect();
        all.sort_by(|a, b| {
            (a.position.is_none(), a.position, &a.record.instance_id).cmp(&(
                b.position.is_none(),
                b.position,
                &b.record.instance_id,
            ))
        });
        all.into_iter().map(|f| f.record.clone()).collect()
    }

    /// Counts of the latest records (nothing copied).
    pub(crate) fn summary(&self) -> WaitSummary {
        WaitSummary::of(self.followed.values().map(|f| &f.record))
    }
}

/// Covers sorted listing positions with as few pages as it can: each
/// `(start, size, count)` is a page of `size` (at most [`PAGE_LIMIT`])
/// starting at `start` (a multiple of `size`, as `PageNumber`/`PageSize`
/// address pages) that holds the next `count` positions. A page may bring
/// other records, at most as many as the positions it holds, and none of
/// them `finished` (a finished output is downloaded once); else a
/// position goes alone (`size` 1). `finished(start, end)` says whether a
/// finished record sits in `start..end`. A page starts after the position
/// before its first, so no position is in two pages (pages may share
/// records that are none of the positions: still-running ones). Among the
/// coverings with the fewest pages, the one bringing the fewest other
/// records is chosen.
pub(crate) fn windows(
    positions: &[u64],
    finished: impl Fn(u64, u64) -> bool,
) -> Vec<(u64, u64, usize)> {
    /// The cheapest covering of the positions from an index on: pages,
    /// other records brought, and its first page.
    #[derive(Clone, Copy)]
    struct Cover {
        pages: usize,
        other: u64,
        first: (u64, u64, usize),
    }
    let n = positions.len();
    let mut best = vec![
        Cover {
            pages: 0,
            other: 0,
            first: (0, 0, 0),
        };
        n + 1
    ];
    for i in (0..n).rev() {
        let first = positions[i];
        let floor = match i.checked_sub(1) {
            Some(before) => positions[before].saturating_add(1),
            None => 0,
        };
        let alone = best[i + 1];
        let mut pick = Cover {
            pages: alone.pages + 1,
            other: alone.other,
            first: (first, 1, 1),
        };
        for size in 2..=PAGE_LIMIT {
            let start = first / size * size;
            let end = start.saturating_add(size);
            if start < floor || finished(start, end) {
                continue;
            }
            // Sorted: the positions below `end`, found by bisection.
            let count = positions[i..].partition_point(|&p| p < end);
            let other = size.saturating_sub(count as u64);
            if other > count as u64 {
                continue;
            }
            let rest = best[i + count];
            let candidate = Cover {
                pages: rest.pages + 1,
                other: rest.other.saturating_add(other),
                first: (start, size, count),
            };
            if (candidate.pages, candidate.other) < (pick.pages, pick.other) {
                pick = candidate;
            }
        }
        best[i] = pick;
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < n {
        let page = best[i].first;
        out.push(page);
        i += page.2;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ecs_model::InvocationStatus;

    fn record(instance: &str, status: &str) -> InvocationResult {
        let mut r = InvocationResult::new("t-1", instance);
        r.invocation_status = Some(InvocationStatus::parse(status));
        r
    }

    #[test]
    fn the_interval_grows_while_nothing_changes_and_drops_back_when_something_does() {
        let mut c = Cadence::new(Duration::from_secs(1), Duration::from_secs(5));
        assert_eq!(c.current(), Duration::from_secs(1));
        c.after_poll(false);
        assert_eq!(c.current(), Duration::from_secs(2));
        c.after_poll(false);
        c.after_poll(false);
        assert_eq!(c.current(), Duration::from_secs(5), "capped");
        c.after_poll(true);
        assert_eq!(c.current(), Duration::from_secs(1), "back to the start");
        let odd = Cadence::new(Duration::from_secs(9), Duration::from_secs(1));
        assert_eq!(odd.current(), Duration::from_secs(9), "max below start");
    }

    #[test]
    fn records_that_left_the_running_set_are_found_in_listing_order() {
        let mut t = Tracker::new(Vec::new());
        let done = t.read_listing(vec![
            record("i-0", "Success"),
            record("i-1", "Running"),
            record("i-2", "Running"),
            record("i-3", "Pending"),
        ]);
        assert_eq!(done.len(), 1);
        assert_eq!((t.total(), t.running()), (4, 3));
        let left = t.read_running(vec![record("i-2", "Running"), record("i-9", "Running")]);
        assert_eq!(left, ["i-1", "i-3"]);
        assert_eq!((t.total(), t.running()), (5, 4), "i-9 is followed now");
        assert!(t.read_fetched(record("i-1", "Failed")).is_some());
        assert!(t.read_fetched(record("i-1", "Failed")).is_none(), "once");
        assert!(t.read_fetched(record("i-3", "Stopping")).is_none());
        assert!(t.is_running("i-3"), "stopping is not final");
        assert!(
            t.read_fetched(record("i-0", "Success")).is_none(),
            "done before"
        );
        let s = t.summary();
        assert_eq!((s.total, s.failed, s.succeeded, s.pending), (5, 1, 1, 3));
    }

    #[test]
    fn only_the_instances_asked_for_are_followed() {
        let mut t = Tracker::new(vec!["i-2".to_owned()]);
        let done = t.read_listing(vec![record("i-1", "Success"), record("i-2", "Running")]);
        assert!(done.is_empty());
        assert_eq!(t.total(), 1);
        assert_eq!(t.read_running(vec![record("i-1", "Running")]), ["i-2"]);
    }

    #[test]
    fn an_empty_listing_is_not_a_listing() {
        let mut t = Tracker::new(Vec::new());
        assert!(t.read_listing(Vec::new()).is_empty());
        assert!(!t.listed());
    }

    #[test]
    fn neighbours_are_fetched_as_one_page_and_strays_alone() {
        // A run of 50 starting at 100: one page of 50.
        let none = |_: u64, _: u64| false;
        let run: Vec<u64> = (100..150).collect();
        assert_eq!(windows(&run, none), [(100, 50, 50)]);
        // A run across a page boundary: two pages, little waste.
        let run: Vec<u64> = (130..180).collect();
        let w = windows(&run, none);
        assert!(w.len() <= 3, "{w:?}");
        assert_eq!(w.iter().map(|x| x.2).sum::<usize>(), 50);
        for (start, size, count) in &w {
            assert_eq!(start % size, 0);
            assert!((size - *count as u64) * 2 <= *count as u64, "{w:?}");
        }
        // Scattered positions go alone.
        assert_eq!(
            windows(&[3, 40, 90], none),
            [(3, 1, 1), (40, 1, 1), (90, 1, 1)]
        );
        // Two neighbours: a page of 2 when aligned.
        assert_eq!(windows(&[6, 7], none), [(6, 2, 2)]);
        assert!(windows(&[], none).is_empty());
    }

    #[test]
    fn a_page_never_brings_a_finished_output_again() {
        // 130..180 left; everything before 130 finished.
        let run: Vec<u64> = (130..180).collect();
        let before = |start: u64, _end: u64| start < 130;
        let w = windows(&run, before);
        assert!(w.iter().all(|(start, _, _)| *start >= 130), "{w:?}");
        assert_eq!(w.iter().map(|x| x.2).sum::<usize>(), 50);
        assert!(w.len() <= 3, "{w:?}");
        // No position is in two pages.
        let positions = [0, 1, 2, 3, 5, 6, 7, 26, 27, 29, 30, 31, 33];
        let w = windows(&positions, |_, _| false);
        for p in positions {
            let pages = w
                .iter()
                .filter(|(s, z, _)| (*s..s + z).contains(&p))
                .count();
            assert_eq!(pages, 1, "{p} in {w:?}");
        }
        // Finished records between two that left: each goes alone.
        let between = |start: u64, end: u64| start <= 11 && 11 < end;
        assert_eq!(windows(&[10, 12], between), [(10, 1, 1), (12, 1, 1)]);
    }

    #[test]
    fn a_run_that_left_is_covered_by_the_fewest_pages_that_skip_the_finished() {
        // The poll of instances finishing in listing order: everything
        // before 130 finished, 130..180 left, the rest still running.
        // No aligned page of 50 or less holds all of it from 130 on; of the
        // two-page coverings, 130..135 and 135..180 bring nothing else.
        let run: Vec<u64> = (130..180).collect();
        let w = windows(&run, |start, _| start < 130);
        assert_eq!(w, [(130, 5, 5), (135, 45, 45)]);
        // A page may bring as many other records as records that left,
        // never more: 2 of 4 is taken, 2 of 5 is not.
        let none = |_: u64, _: u64| false;
        assert_eq!(windows(&[0, 3], none), [(0, 4, 2)]);
        assert_eq!(windows(&[0, 4], none), [(0, 1, 1), (4, 1, 1)]);
    }

    #[test]
    fn a_relisting_yields_what_finished_once_and_counts_the_fetches_it_saved() {
        let mut t = Tracker::new(Vec::new());
        let listing: Vec<_> = (0..120)
            .map(|i| {
                record(
                    &format!("i-{i:03}"),
                    if i == 0 { "Success" } else { "Running" },
                )
            })
            .collect();
        assert_eq!(t.read_listing(listing).len(), 1);
        assert_eq!(t.full_pages(), 3);
        // Scattered finishes (every tenth), and one new instance.
        let again = |status_of: &dyn Fn(usize) -> &'static str| -> Vec<InvocationResult> {
            (0..121)
                .map(|i| record(&format!("i-{i:03}"), status_of(i)))
                .collect()
        };
        let (done, fetches) = t.read_relisting(again(&|i| {
            if i % 10 == 0 { "Success" } else { "Running" }
        }));
        let ids: Vec<&str> = done.iter().map(|r| r.instance_id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "i-010", "i-020", "i-030", "i-040", "i-050", "i-060", "i-070", "i-080", "i-090",
                "i-100", "i-110", "i-120"
            ],
            "i-000 finished before; i-120 is new and finished"
        );
        assert_eq!(fetches, 11, "scattered: one fetch each for those followed");
        assert_eq!(t.running(), 119 - 11, "i-120 came finished");
        assert_eq!(t.full_pages(), 3);
        // The same listing again: nothing new.
        let (done, fetches) = t.read_relisting(again(&|i| {
            if i % 10 == 0 { "Success" } else { "Running" }
        }));
        assert!(done.is_empty());
        assert_eq!(fetches, 0);
        assert_eq!(pages(0), 1);
        assert_eq!(pages(50), 1);
        assert_eq!(pages(51), 2);
    }

    #[test]
    fn the_plan_names_pages_by_number_and_size() {
        let mut t = Tracker::new(Vec::new());
        let listing: Vec<_> = (0..60)
            .map(|i| record(&format!("i-{i:02}"), "Running"))
            .collect();
        t.read_listing(listing);
        let still: Vec<_> = (0..60)
            .filter(|i| !(10..20).contains(i) && *i != 55)
            .map(|i| record(&format!("i-{i:02}"), "Running"))
            .collect();
        let left = t.read_running(still);
        assert_eq!(left.len(), 11);
        let plan = t.plan(&left);
        assert_eq!(
            plan,
            [
                Fetch::Window {
                    page_number: 2,
                    page_size: 10,
                    expect: (10..20).map(|i| format!("i-{i:02}")).collect(),
                },
                Fetch::Instance("i-55".to_owned()),
            ]
        );
    }
}
