//! The emulator's results: explicit records from a data file (or added at
//! run time) after an optional generated set, in one stable order, and the
//! query that filters and pages them.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::data::{self, InvocationMeta, InvocationSpec, Record, RepeatMode, ResultSpec, Status};

/// Results per generated invocation.
const GENERATED_PER_INVOCATION: u64 = 100;
/// Distinct instances in a generated set.
const GENERATED_INSTANCES: u64 = 1000;

/// A generated, deterministic data set of `count` results, computed on
/// demand so that a million results cost no memory.
#[derive(Debug, Clone)]
pub(crate) struct Generated {
    pub(crate) count: u64,
    pub(crate) region_id: String,
    pub(crate) seed: u64,
}

impl Generated {
    /// The invocation index and position within it of result `k`.
    fn split(k: u64) -> (u64, u64) {
        (k / GENERATED_PER_INVOCATION, k % GENERATED_PER_INVOCATION)
    }

    pub(crate) fn invoke_id(invocation: u64) -> String {
        format!("t-gen{invocation:011}")
    }

    /// The range of results of the invocation `invoke_id`, if it is one of ours.
    fn range_of(&self, invoke_id: &str) -> Option<(u64, u64)> {
        let digits = invoke_id.strip_prefix("t-gen")?;
        if digits.len() != 11 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let invocation: u64 = digits.parse().ok()?;
        let start = invocation.checked_mul(GENERATED_PER_INVOCATION)?;
        (start < self.count).then(|| (start, (start + GENERATED_PER_INVOCATION).min(self.count)))
    }

    fn record(&self, k: u64) -> Record {
        let (invocation, j) = Self::split(k);
        let mix = splitmix(self.seed ^ k);
        let (status, exit_code, error_code) = match mix % 100 {
            0..=89 => ("Success", 0, None),
            90..=96 => ("Failed", 1, Some("ExitCodeNonzero")),
            _ => ("Timeout", -1, Some("ExecutionTimeout")),
        };
        let instance = (invocation * 37 + j) % GENERATED_INSTANCES;
        let instance_id = format!("i-gen{instance:015}");
        let invoke_id = Self::invoke_id(invocation);
        let output = format!(
            "result {k} of {invoke_id} on {instance_id}: status {status}, checksum {mix:016x}\n"
        );
        let second = k % 86_400;
        let time = format!(
            "2026-11-{:02}T{:02}:{:02}:{:02}Z",
            1 + (k / 86_400) % 28,
            second / 3600,
            (second / 60) % 60,
            second % 60
        );
        let meta = InvocationMeta {
            command_id: format!("c-gen{:011}", invocation % 10),
            invoke_id,
            region_id: self.region_id.clone(),
            resource_group_id: None,
            tags: BTreeMap::new(),
            repeat_mode: RepeatMode::Once,
            username: Some("root".to_owned()),
            launcher: None,
            termination_mode: None,
            container_id: None,
            container_name: None,
            oss_output_delivery: None,
        };
        let result = ResultSpec {
            instance_id,
            status: Status::parse(status).unwrap_or(Status::SUCCESS),
            exit_code: Some(exit_code),
            output: None,
            output_base64: None,
            error_code: error_code.map(str::to_owned),
            error_info: error_code.map(|c| format!("the command ended with {c}")),
            start_time: Some(time.clone()),
            finished_time: Some(time),
            stop_time: None,
            repeats: 1,
            running_for_ms: 0,
            oss_output_status: None,
            oss_output_uri: None,
            oss_output_error_code: None,
            oss_output_error_info: None,
        };
        Record {
            invocation: Arc::new(meta),
            result: Arc::new(result),
            output: Arc::from(output.into_bytes()),
            latest: true,
        }
    }
}

/// A fast, well-mixed 64-bit hash (SplitMix64's finaliser).
pub(crate) fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// All results, generated first, then explicit ones in data order.
#[derive(Debug, Default)]
pub(crate) struct Store {
    generated: Option<Generated>,
    records: Vec<Record>,
    /// Bumped whenever the set of results changes.
    version: u64,
}

impl Store {
    pub(crate) fn new(generated: Option<Generated>, invocations: Vec<InvocationSpec>) -> Self {
        Self {
            generated,
            records: data::flatten(invocations),
            version: 0,
        }
    }

    /// Appends invocations after every existing result (tokens stay valid).
    pub(crate) fn append(&mut self, invocations: Vec<InvocationSpec>) {
        self.records.extend(data::flatten(invocations));
        self.version += 1;
    }

    pub(crate) fn version(&self) -> u64 {
        self.version
    }

    fn generated_len(&self) -> u64 {
        self.generated.as_ref().map_or(0, |g| g.count)
    }

    /// The number of results, listed or not.
    pub(crate) fn len(&self) -> u64 {
        self.generated_len() + self.records.len() as u64
    }

    /// Result `index` in the stable order.
    pub(crate) fn get(&self, index: u64) -> Option<Record> {
        let generated = self.generated_len();
        if index < generated {
            return self.generated.as_ref().map(|g| g.record(index));
        }
        let explicit = usize::try_from(index - generated).ok()?;
        self.records.get(explicit).cloned()
    }

    /// The index range that can hold results of `invoke_id` (the whole store
    /// unless the generated set can narrow it).
    pub(crate) fn candidates(&self, invoke_id: Option<&str>) -> CandidateRanges {
        let generated = self.generated_len();
        let explicit = (generated, self.len());
        match (invoke_id, &self.generated) {
            (Some(id), Some(g)) => match g.range_of(id) {
                Some(range) => CandidateRanges([Some(range), None]),
                None => CandidateRanges([None, Some(explicit)]),
            },
            (Some(_), None) => CandidateRanges([None, Some(explicit)]),
            (None, _) => CandidateRanges([Some((0, self.len())), None]),
        }
    }

    /// Whether any result (generated or not) lives in `region`.
    pub(crate) fn has_region(&self, region: &str) -> bool {
        self.generated
            .as_ref()
            .is_some_and(|g| g.region_id == region)
            || self
                .records
                .iter()
                .any(|r| r.invocation.region_id == region)
    }

    /// The number of listed results in `region` (latest runs only).
    pub(crate) fn count_in_region(&self, region: &str) -> u64 {
        let generated = self
            .generated
            .as_ref()
            .filter(|g| g.region_id == region)
            .map_or(0, |g| g.count);
        let explicit = self
            .records
            .iter()
            .filter(|r| r.latest && r.invocation.region_id == region)
            .count() as u64;
        generated + explicit
    }

    /// The repeat mode of the invocation `invoke_id`, if it exists.
    pub(crate) fn repeat_mode(&self, invoke_id: &str) -> Option<RepeatMode> {
        if let Some(g) = &self.generated
            && g.range_of(invoke_id).is_some()
        {
            return Some(RepeatMode::Once);
        }
        self.records
            .iter()
            .find(|r| r.invocation.invoke_id == invoke_id)
            .map(|r| r.invocation.repeat_mode)
    }
}

/// Up to two half-open index ranges to scan, in order.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CandidateRanges([Option<(u64, u64)>; 2]);

impl CandidateRanges {
    /// The indices from `from` on, in order.
    pub(crate) fn from(self, from: u64) -> impl Iterator<Item = u64> {
        self.0
            .into_iter()
            .flatten()
            .flat_map(move |(start, end)| start.max(from)..end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generated(count: u64) -> Store {
        Store::new(
            Some(Generated {
                count,
                region_id: "cn-hangzhou".to_owned(),
                seed: 7,
            }),
            Vec::new(),
        )
    }

    #[test]
    fn generated_results_are_deterministic_and_unique() {
        let store = generated(1_000);
        let again = generated(1_000);
        let mut seen = std::collections::HashSet::new();
        for k in 0..1_000 {
            let a = store.get(k).unwrap();
            let b = again.get(k).unwrap();
            assert_eq!(a.output, b.output);
            assert_eq!(a.result.status, b.result.status);
            assert!(seen.insert((a.invocation.invoke_id.clone(), a.result.instance_id.clone())));
        }
        assert!(store.get(1_000).is_none());
    }

    #[test]
    fn an_invoke_id_narrows_the_generated_range() {
        let store = generated(250);
        let id = Generated::invoke_id(2);
        let indices: Vec<u64> = store.candidates(Some(&id)).from(0).collect();
        assert_eq!(indices, (200..250).collect::<Vec<_>>());
        for k in indices {
            assert_eq!(store.get(k).unwrap().invocation.invoke_id, id);
        }
        assert_eq!(
            store.candidates(Some("t-gen99999999999")).from(0).count(),
            0
        );
    }
}
