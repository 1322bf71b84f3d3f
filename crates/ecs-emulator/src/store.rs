//! The emulator's results at one moment: the generated set first, then the
//! explicit results in data order, with the index of the explicit ones,
//! and the engine that turns a filter into the positions it lists.
//!
//! A store never changes: adding results makes a new one, which the
//! server swaps in (NextTokens stay valid: positions only grow). A query
//! therefore holds no lock while it runs. A filter's positions come from
//! arithmetic sets and index lists in constant or logarithmic time; only an
//! intersection of several filters, or the first status filter over the
//! generated set, needs work proportional to a list, and it is built once
//! and kept (up to a memory budget). Work above [`INLINE_COST`] is
//! reported, so the server can do it away from the async workers.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use crate::data::{self, InvocationSpec, Record, RepeatMode};
use crate::filter::Filter;
use crate::generated::Generated;
use crate::index::Index;
use crate::positions::{Matches, Set, intersect, intersection_cost};

/// The most checks a query makes on the async workers; more is done on a
/// blocking thread.
pub(crate) const INLINE_COST: u64 = 16_384;
/// Memory for the built position lists, per store.
const CACHE_BYTES: usize = 64 << 20;

/// Built position lists, by what they list; the oldest go first when the
/// budget is spent.
#[derive(Debug, Default)]
struct Built {
    sets: HashMap<String, Set>,
    order: VecDeque<String>,
    bytes: usize,
}

impl Built {
    fn cost(key: &str, set: &Set) -> usize {
        key.len()
            + usize::try_from(set.len())
                .unwrap_or(usize::MAX)
                .saturating_mul(8)
    }

    fn put(&mut self, key: String, set: Set) {
        let cost = Self::cost(&key, &set);
        if cost > CACHE_BYTES || self.sets.contains_key(&key) {
            return;
        }
        while self.bytes + cost > CACHE_BYTES {
            let Some(old) = self.order.pop_front() else {
                break;
            };
            if let Some(gone) = self.sets.remove(&old) {
                self.bytes -= Self::cost(&old, &gone);
            }
        }
        self.bytes += cost;
        self.order.push_back(key.clone());
        self.sets.insert(key, set);
    }
}

/// All results, generated first, then explicit ones in data order.
#[derive(Debug)]
pub(crate) struct Store {
    generated: Option<Arc<Generated>>,
    records: Vec<Record>,
    index: Index,
    built: Mutex<Built>,
    /// The explicit records whose complete output OSS holds, by bucket and
    /// key.
    objects: HashMap<(String, String), usize>,
}

impl Store {
    pub(crate) fn new(generated: Option<Generated>, invocations: Vec<InvocationSpec>) -> Self {
        Self::with(generated.map(Arc::new), data::flatten(invocations))
    }

    fn with(generated: Option<Arc<Generated>>, records: Vec<Record>) -> Self {
        let base = generated.as_ref().map_or(0, |g| g.len());
        let objects = records
            .iter()
            .enumerate()
            .filter_map(|(i, record)| record.delivered.as_ref().map(|o| ((**o).clone(), i)))
            .collect();
        Self {
            objects,
            index: Index::build(base, &records),
            generated,
            records,
            built: Mutex::new(Built::default()),
        }
    }

    /// A new store: these results after every existing one.
    pub(crate) fn appended(&self, invocations: Vec<InvocationSpec>) -> Self {
        let mut records = self.records.clone();
        records.extend(data::flatten(invocations));
        Self::with(self.generated.clone(), records)
    }

    fn generated_len(&self) -> u64 {
        self.generated.as_ref().map_or(0, |g| g.len())
    }

    /// Result `position` in the stable order.
    pub(crate) fn get(&self, position: u64) -> Option<Record> {
        let generated = self.generated_len();
        if position < generated {
            return self.generated.as_ref().map(|g| g.record(position));
        }
        let explicit = usize::try_from(position - generated).ok()?;
        self.records.get(explicit).cloned()
    }

    /// Whether results were delivered to `bucket`.
    pub(crate) fn has_bucket(&self, bucket: &str) -> bool {
        (bucket == crate::generated::GENERATED_BUCKET
            && self.generated.as_ref().is_some_and(|g| g.has_deliveries()))
            || self.objects.keys().any(|(b, _)| b == bucket)
    }

    /// The complete output delivered to `bucket` at `key`.
    pub(crate) fn oss_object(&self, bucket: &str, key: &str) -> Option<bytes::Bytes> {
        if bucket == crate::generated::GENERATED_BUCKET
            && let Some(generated) = &self.generated
            && let Some(output) = generated.object(key)
        {
            return Some(bytes::Bytes::from_owner(output));
        }
        let at = *self.objects.get(&(bucket.to_owned(), key.to_owned()))?;
        self.records
            .get(at)
            .map(|record| bytes::Bytes::from_owner(std::sync::Arc::clone(&record.output)))
    }

    /// Whether any result (generated or not) lives in `region`.
    pub(crate) fn has_region(&self, region: &str) -> bool {
        self.generated
            .as_ref()
            .is_some_and(|g| g.region_id() == region)
            || self.index.has_region(region)
    }

    /// The repeat mode of the invocation `invoke_id`, if it exists.
    pub(crate) fn repeat_mode(&self, invoke_id: &str) -> Option<RepeatMode> {
        if self
            .generated
            .as_ref()
            .is_some_and(|g| g.has_invocation(invoke_id))
        {
            return Some(RepeatMode::Once);
        }
        self.index.repeat_mode(invoke_id)
    }

    /// The positions `filter` lists `elapsed_ms` after the start, or `None`
    /// when finding them costs more than [`INLINE_COST`] and `heavy` is
    /// false (with `heavy`, always `Some`).
    pub(crate) fn select(&self, filter: &Filter, elapsed_ms: u64, heavy: bool) -> Option<Matches> {
        let first = match &self.generated {
            Some(generated) => self.generated_side(generated, filter, heavy)?,
            None => Set::Empty,
        };
        let second = self.explicit_side(filter, elapsed_ms, heavy)?;
        Some(Matches::new(first, second))
    }

    fn generated_side(&self, generated: &Generated, filter: &Filter, heavy: bool) -> Option<Set> {
        // Generated results have no resource group and no tags.
        if generated.region_id() != filter.region_id
            || filter.resource_group_id.is_some()
            || !filter.tags.is_empty()
        {
            return Some(Set::Empty);
        }
        let mut sets = Vec::new();
        if let Some(id) = &filter.invoke_id {
            sets.push(generated.invocation(id));
        }
        if let Some(id) = &filter.instance_id {
            sets.push(generated.instance(id));
        }
        if let Some(id) = &filter.command_id {
            sets.push(generated.command(id));
        }
        if sets.iter().any(|s| s.len() == 0) {
            return Some(Set::Empty);
        }
        if let Some(class) = filter.status_class() {
            if generated.status_cost(class) > INLINE_COST && !heavy {
                return None;
            }
            sets.push(generated.status(class));
        }
        let key = || format!("generated\n{}", filter.fingerprint());
        self.combine(key, sets, generated.all(), heavy)
    }

    fn explicit_side(&self, filter: &Filter, elapsed_ms: u64, heavy: bool) -> Option<Set> {
        let index = &self.index;
        let mut sets = vec![index.region(&filter.region_id)];
        if let Some(id) = &filter.invoke_id {
            sets.push(index.invocation(id));
        }
        if let Some(id) = &filter.instance_id {
            sets.push(index.instance(id));
        }
        if let Some(id) = &filter.command_id {
            sets.push(index.command(id));
        }
        if let Some(id) = &filter.resource_group_id {
            sets.push(index.resource_group(id));
        }
        for (key, value) in &filter.tags {
            sets.push(index.tag(key, value.as_deref()));
        }
        if !filter.include_history {
            sets.push(index.latest());
        }
        if sets.iter().any(|s| s.len() == 0) {
            return Some(Set::Empty);
        }
        // Statuses change as results finish running: the moment is part
        // of what a built list lists.
        let mut moment = 0;
        if let Some(class) = filter.status_class() {
            moment = index.finished_runs(elapsed_ms);
            sets.push(self.explicit_status(class, moment, heavy)?);
        }
        let key = || format!("explicit\n{moment}\n{}", filter.fingerprint());
        self.combine(key, sets, index.all(), heavy)
    }

    fn explicit_status(&self, class: &str, moment: usize, heavy: bool) -> Option<Set> {
        let cost = self.index.status_cost(class, moment);
        if cost == 0 {
            return Some(self.index.status(class, moment));
        }
        let key = format!("status\n{class}\n{moment}");
        if let Some(set) = self.cached(&key) {
            return Some(set);
        }
        if cost > INLINE_COST && !heavy {
            return None;
        }
        let set = self.index.status(class, moment);
        self.keep(key, set.clone());
        Some(set)
    }

    /// The intersection of `sets`, all within `side`: `side` itself when no
    /// set narrows it, built (and kept under `key()`) when several do.
    fn combine(
        &self,
        key: impl FnOnce() -> String,
        mut sets: Vec<Set>,
        side: Set,
        heavy: bool,
    ) -> Option<Set> {
        let whole = side.len();
        // A set as large as the side it lies in is all of it.
        sets.retain(|s| s.len() != whole);
        if sets.iter().any(|s| s.len() == 0) {
            return Some(Set::Empty);
        }
        if sets.len() < 2 {
            return Some(sets.pop().unwrap_or(side));
        }
        let key = key();
        if let Some(set) = self.cached(&key) {
            return Some(set);
        }
        if intersection_cost(&sets) > INLINE_COST && !heavy {
            return None;
        }
        let set = intersect(sets);
        self.keep(key, set.clone());
        Some(set)
    }

    fn cached(&self, key: &str) -> Option<Set> {
        self.built.lock().ok()?.sets.get(key).cloned()
    }

    fn keep(&self, key: String, set: Set) {
        if let Ok(mut built) = self.built.lock() {
            built.put(key, set);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{DataSet, Status};

    /// The filter as a predicate on one record: the meaning every index
    /// set must agree with.
    fn lists(filter: &Filter, record: &Record, status: Status) -> bool {
        let inv = &record.invocation;
        inv.region_id == filter.region_id
            && filter
                .invoke_id
                .as_ref()
                .is_none_or(|id| *id == inv.invoke_id)
            && filter
                .instance_id
                .as_ref()
                .is_none_or(|id| *id == record.result.instance_id)
            && filter
                .command_id
                .as_ref()
                .is_none_or(|id| *id == inv.command_id)
            && filter
                .resource_group_id
                .as_ref()
                .is_none_or(|rg| inv.resource_group_id.as_ref() == Some(rg))
            && filter.tags.iter().all(|(key, value)| {
                inv.tags
                    .get(key)
                    .is_some_and(|v| value.as_ref().is_none_or(|want| v == want))
            })
            && (filter.include_history || record.latest)
            && filter.record_status.is_none_or(|wanted| match wanted {
                "Success" => status.as_str() == "Success",
                "PartialFailed" => false,
                other => status.record_status().as_str() == other,
            })
    }

    /// 3,000 generated results, then explicit ones of every kind.
    fn store() -> Store {
        let mut text = String::from(r#"{"invocations":["#);
        for i in 0..60 {
            let region = if i % 7 == 0 {
                "cn-beijing"
            } else {
                "cn-hangzhou"
            };
            let tags = match i % 4 {
                0 => r#"{"env":"prod"}"#,
                1 => r#"{"env":""}"#,
                2 => r#"{"team":"x","env":"dev"}"#,
                _ => "{}",
            };
            let rg = if i % 3 == 0 {
                r#""resource_group_id":"rg-1","#
            } else {
                ""
            };
            let mode = if i % 5 == 0 { "Period" } else { "Once" };
            if i > 0 {
                text.push(',');
            }
            text.push_str(&format!(
                r#"{{"invoke_id":"t-{i}","command_id":"c-{}","region_id":"{region}",{rg}"tags":{tags},"repeat_mode":"{mode}","results":["#,
                i % 3
            ));
            for j in 0..5 {
                let status = [
                    "Success",
                    "Failed",
                    "Running",
                    "Cancelled",
                    "Stopping",
                    "Timeout",
                ][(i + j) % 6];
                let repeats = if mode == "Period" { j % 2 + 1 } else { 1 };
                let instance = if mode == "Period" { j / 2 } else { j };
                let running = if (i + j) % 4 == 0 { 1_000 * j } else { 0 };
                if j > 0 {
                    text.push(',');
                }
                text.push_str(&format!(
                    r#"{{"instance_id":"i-{instance}","status":"{status}","repeats":{repeats},"running_for_ms":{running}}}"#
                ));
            }
            text.push_str("]}");
        }
        text.push_str("]}");
        let data = DataSet::from_json(&text).unwrap();
        Store::new(
            Some(Generated::new(3_000, "cn-hangzhou".to_owned(), 5)),
            data.invocations,
        )
    }

    fn filters() -> Vec<Filter> {
        let base = Filter {
            region_id: "cn-hangzhou".to_owned(),
            invoke_id: None,
            instance_id: None,
            command_id: None,
            record_status: None,
            include_history: false,
            resource_group_id: None,
            tags: Vec::new(),
        };
        let mut all = vec![
            base.clone(),
            Filter {
                region_id: "cn-beijing".to_owned(),
                ..base.clone()
            },
        ];
        for status in [
            None,
            Some("Running"),
            Some("Finished"),
            Some("Success"),
            Some("Failed"),
            Some("Stopped"),
            Some("Stopping"),
            Some("PartialFailed"),
        ] {
            for (invoke, instance, command) in [
                (None, None, None),
                (Some("t-gen00000000012"), None, None),
                (Some("t-10"), None, None),
                (Some("t-15"), None, None),
                (None, Some("i-gen000000000000417"), None),
                (None, Some("i-3"), None),
                (None, None, Some("c-gen00000000003")),
                (None, None, Some("c-1")),
                (None, Some("i-1"), Some("c-2")),
                (None, Some("i-gen000000000000002"), Some("c-gen00000000000")),
            ] {
                let with = |include_history: bool| Filter {
                    invoke_id: invoke.map(str::to_owned),
                    instance_id: instance.map(str::to_owned),
                    command_id: command.map(str::to_owned),
                    record_status: status,
                    include_history,
                    ..base.clone()
                };
                all.push(with(false));
                all.push(with(invoke == Some("t-15")));
            }
            all.push(Filter {
                record_status: status,
                resource_group_id: Some("rg-1".to_owned()),
                ..base.clone()
            });
            for tags in [
                vec![("env".to_owned(), None)],
                vec![("env".to_owned(), Some(String::new()))],
                vec![("env".to_owned(), Some("prod".to_owned()))],
                vec![
                    ("team".to_owned(), None),
                    ("env".to_owned(), Some("dev".to_owned())),
                ],
            ] {
                all.push(Filter {
                    record_status: status,
                    tags,
                    ..base.clone()
                });
            }
        }
        all
    }

    #[test]
    fn every_filter_lists_what_the_records_say_at_every_moment() {
        let store = store();
        let total = store.generated_len() + store.records.len() as u64;
        for elapsed in [0, 1_500, 2_500, 10_000] {
            for filter in filters() {
                let expected: Vec<u64> = (0..total)
                    .filter(|pos| {
                        let record = store.get(*pos).unwrap();
                        let status = record.status_at(elapsed);
                        lists(&filter, &record, status)
                    })
                    .collect();
                let matches = store.select(&filter, elapsed, true).unwrap();
                let got: Vec<u64> = (0..matches.len()).filter_map(|m| matches.nth(m)).collect();
                assert_eq!(got, expected, "{filter:?} at {elapsed} ms");
                for (m, pos) in expected.iter().enumerate() {
                    assert_eq!(matches.rank(*pos), m as u64);
                }
                // And again, from what was built.
                let again = store.select(&filter, elapsed, false).unwrap();
                assert_eq!(again.len(), matches.len());
            }
        }
    }

    #[test]
    fn large_work_is_reported_and_done_once() {
        let store = Store::new(
            Some(Generated::new(1_000_000, "cn-hangzhou".to_owned(), 0)),
            DataSet::demo().invocations,
        );
        let base = Filter {
            region_id: "cn-hangzhou".to_owned(),
            invoke_id: None,
            instance_id: None,
            command_id: None,
            record_status: None,
            include_history: false,
            resource_group_id: None,
            tags: Vec::new(),
        };
        // Arithmetic and index sets: always at once.
        for filter in [
            base.clone(),
            Filter {
                instance_id: Some("i-gen000000000000417".to_owned()),
                ..base.clone()
            },
            Filter {
                command_id: Some("c-gen00000000003".to_owned()),
                ..base.clone()
            },
        ] {
            assert!(store.select(&filter, 0, false).is_some(), "{filter:?}");
        }
        // The first status filter builds the status index; an intersection
        // of a command (100,000 results) and a status is built: both later.
        let failed = Filter {
            record_status: Some("Failed"),
            ..base.clone()
        };
        assert!(store.select(&failed, 0, false).is_none());
        let both = Filter {
            command_id: Some("c-gen00000000003".to_owned()),
            ..failed.clone()
        };
        assert!(store.select(&both, 0, true).is_some());
        assert!(store.select(&failed, 0, false).is_some());
        assert!(store.select(&both, 0, false).is_some());
        // A new store shares the generated set and its status index.
        let bigger = store.appended(DataSet::demo().invocations);
        assert!(bigger.select(&failed, 0, false).is_some());
        assert_eq!(
            bigger.select(&base, 1_000_000, false).unwrap().len(),
            1_000_000 + 16
        );
    }
}
