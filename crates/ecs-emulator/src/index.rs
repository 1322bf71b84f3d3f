//! The index of the explicit results (from a data file or added at run
//! time): for each value of each filter, the sorted positions of the
//! results that have it, so that a query intersects a few lists instead of
//! reading every result.

use std::collections::HashMap;
use std::sync::Arc;

use crate::data::{Record, RepeatMode};
use crate::positions::Set;

/// Sorted positions (relative to the first explicit result) by key.
type Lists<K> = HashMap<K, Arc<[u32]>>;

/// The index of the explicit results, which start at position `base`.
#[derive(Debug, Default)]
pub(crate) struct Index {
    base: u64,
    len: u64,
    region: Lists<String>,
    invoke: Lists<String>,
    instance: Lists<String>,
    command: Lists<String>,
    resource_group: Lists<String>,
    tag_key: Lists<String>,
    tag: Lists<(String, String)>,
    latest: Arc<[u32]>,
    /// By the record status of the final status.
    status: Lists<&'static str>,
    /// The results that read `Running` for a while before their final
    /// status (of another record status), as (for how long, position),
    /// sorted by how long.
    running: Vec<(u64, u32)>,
    repeat_mode: HashMap<String, RepeatMode>,
}

fn freeze<K: std::hash::Hash + Eq>(lists: HashMap<K, Vec<u32>>) -> Lists<K> {
    lists.into_iter().map(|(k, v)| (k, v.into())).collect()
}

impl Index {
    /// Indexes `records`, the first of which is at position `base`.
    /// Positions past 32 bits are not indexed (a data file that large does
    /// not fit in memory first).
    pub(crate) fn build(base: u64, records: &[Record]) -> Self {
        let mut region: HashMap<String, Vec<u32>> = HashMap::new();
        let mut invoke: HashMap<String, Vec<u32>> = HashMap::new();
        let mut instance: HashMap<String, Vec<u32>> = HashMap::new();
        let mut command: HashMap<String, Vec<u32>> = HashMap::new();
        let mut resource_group: HashMap<String, Vec<u32>> = HashMap::new();
        let mut tag_key: HashMap<String, Vec<u32>> = HashMap::new();
        let mut tag: HashMap<(String, String), Vec<u32>> = HashMap::new();
        let mut status: HashMap<&'static str, Vec<u32>> = HashMap::new();
        let mut latest = Vec::new();
        let mut running = Vec::new();
        let mut repeat_mode = HashMap::new();
        for (at, record) in records.iter().enumerate() {
            let Ok(at) = u32::try_from(at) else { break };
            let inv = &record.invocation;
            let res = &record.result;
            let add = |lists: &mut HashMap<String, Vec<u32>>, key: &str| {
                lists.entry(key.to_owned()).or_default().push(at);
            };
            add(&mut region, &inv.region_id);
            add(&mut invoke, &inv.invoke_id);
            add(&mut instance, &res.instance_id);
            add(&mut command, &inv.command_id);
            if let Some(rg) = &inv.resource_group_id {
                add(&mut resource_group, rg);
            }
            for (k, v) in &inv.tags {
                add(&mut tag_key, k);
                tag.entry((k.clone(), v.clone())).or_default().push(at);
            }
            if record.latest {
                latest.push(at);
            }
            let class = res.status.record_status().as_str();
            status.entry(class).or_default().push(at);
            if res.running_for_ms > 0 && class != "Running" {
                running.push((res.running_for_ms, at));
            }
            repeat_mode
                .entry(inv.invoke_id.clone())
                .or_insert(inv.repeat_mode);
        }
        running.sort_unstable();
        Self {
            base,
            len: records.len() as u64,
            region: freeze(region),
            invoke: freeze(invoke),
            instance: freeze(instance),
            command: freeze(command),
            resource_group: freeze(resource_group),
            tag_key: freeze(tag_key),
            tag: freeze(tag),
            latest: latest.into(),
            status: freeze(status),
            running,
            repeat_mode,
        }
    }

    fn list(&self, items: Option<&Arc<[u32]>>) -> Set {
        match items {
            Some(items) => Set::List {
                base: self.base,
                items: Arc::clone(items),
            },
            None => Set::Empty,
        }
    }

    /// Every explicit position.
    pub(crate) fn all(&self) -> Set {
        Set::Range {
            start: self.base,
            end: self.base + self.len,
        }
    }

    pub(crate) fn has_region(&self, region: &str) -> bool {
        self.region.contains_key(region)
    }

    pub(crate) fn repeat_mode(&self, invoke_id: &str) -> Option<RepeatMode> {
        self.repeat_mode.get(invoke_id).copied()
    }

    pub(crate) fn region(&self, region: &str) -> Set {
        self.list(self.region.get(region))
    }

    pub(crate) fn invocation(&self, invoke_id: &str) -> Set {
        self.list(self.invoke.get(invoke_id))
    }

    pub(crate) fn instance(&self, instance_id: &str) -> Set {
        self.list(self.instance.get(instance_id))
    }

    pub(crate) fn command(&self, command_id: &str) -> Set {
        self.list(self.command.get(command_id))
    }

    pub(crate) fn resource_group(&self, resource_group_id: &str) -> Set {
        self.list(self.resource_group.get(resource_group_id))
    }

    /// The results tagged `key`, with any value when `value` is `None`.
    pub(crate) fn tag(&self, key: &str, value: Option<&str>) -> Set {
        match value {
            None => self.list(self.tag_key.get(key)),
            Some(value) => self.list(self.tag.get(&(key.to_owned(), value.to_owned()))),
        }
    }

    /// The latest run of each (invocation, instance).
    pub(crate) fn latest(&self) -> Set {
        self.list(Some(&self.latest))
    }

    /// How many of the results that read `Running` at first have reached
    /// their final status `elapsed_ms` after the start: a number that only
    /// grows, and names the moment's statuses.
    pub(crate) fn finished_runs(&self, elapsed_ms: u64) -> usize {
        self.running.partition_point(|(ms, _)| *ms <= elapsed_ms)
    }

    /// What [`status`](Self::status) costs for `class` at `finished_runs`:
    /// 0 when no result is still running (the final lists serve as they
    /// are), else the size of the list it builds.
    pub(crate) fn status_cost(&self, class: &str, finished_runs: usize) -> u64 {
        let still_running = self.running.len().saturating_sub(finished_runs);
        if still_running == 0 {
            return 0;
        }
        let listed = self.status.get(class).map_or(0, |l| l.len());
        (listed + still_running) as u64
    }

    /// The results listed under the record status `class` once
    /// `finished_runs` of the results that start `Running` have finished:
    /// those still running are listed as `Running` only.
    pub(crate) fn status(&self, class: &str, finished_runs: usize) -> Set {
        let listed = self.status.get(class);
        let still = self.running.get(finished_runs..).unwrap_or_default();
        if still.is_empty() {
            return self.list(listed);
        }
        let mut still: Vec<u32> = still.iter().map(|(_, at)| *at).collect();
        still.sort_unstable();
        let listed: &[u32] = listed.map_or(&[], |l| l);
        let items: Vec<u32> = if class == "Running" {
            let mut all: Vec<u32> = listed.iter().chain(&still).copied().collect();
            all.sort_unstable();
            all.dedup();
            all
        } else {
            listed
                .iter()
                .copied()
                .filter(|at| still.binary_search(at).is_err())
                .collect()
        };
        Set::List {
            base: self.base,
            items: items.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{DataSet, flatten};

    fn demo() -> Index {
        Index::build(1_000, &flatten(DataSet::demo().invocations))
    }

    fn positions(set: &Set) -> Vec<u64> {
        (0..set.len()).filter_map(|m| set.nth(m)).collect()
    }

    #[test]
    fn lists_hold_the_positions_of_their_values() {
        let index = demo();
        assert_eq!(index.all().len(), 10);
        assert_eq!(
            positions(&index.invocation("t-hz0jdfwd9f1234")),
            [1_000, 1_001, 1_002]
        );
        assert_eq!(index.instance("i-bp1i7gg30r52z2em1234").len(), 5);
        assert_eq!(index.tag("env", Some("prod")).len(), 3);
        assert_eq!(index.tag("env", None).len(), 3);
        assert_eq!(index.tag("env", Some("")).len(), 0);
        assert_eq!(index.tag("owner", None).len(), 0);
        assert_eq!(index.invocation("t-none").len(), 0);
        assert_eq!(index.latest().len(), 8);
        assert!(index.has_region("cn-hangzhou"));
        assert_eq!(
            index.repeat_mode("t-hz0jdfwg2ab9abc"),
            Some(RepeatMode::Period)
        );
    }

    #[test]
    fn results_still_running_are_listed_as_running_only() {
        let index = demo();
        // The demo's deploy invocation: two results, running 3 s and 5 s.
        let at_start = index.finished_runs(0);
        let later = index.finished_runs(3_500);
        let at_end = index.finished_runs(u64::MAX);
        assert!(at_start < later && later < at_end);
        let running = |n| index.status("Running", n).len();
        let finished = |n| index.status("Finished", n).len();
        assert_eq!(running(at_start), running(at_end) + 2);
        assert_eq!(finished(at_start) + 2, finished(at_end));
        assert_eq!(running(later), running(at_end) + 1);
        assert_eq!(index.status_cost("Finished", at_end), 0);
        assert!(index.status_cost("Finished", at_start) > 0);
    }
}
