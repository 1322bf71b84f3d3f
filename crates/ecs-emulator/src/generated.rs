//! The generated data set: `count` deterministic results computed from
//! their position, and the position sets of its filters worked out by
//! arithmetic (an invocation is a range, a command or an instance a
//! periodic pattern) so that no filter scans it. Only the status filter
//! needs an index: the positions of the failed results (about a tenth),
//! built once, on the first query that asks for a status.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

use crate::data::{InvocationMeta, Record, RepeatMode, ResultSpec, Status};
use crate::positions::Set;

/// The most results `--generate` serves: positions and the failed-result
/// index stay in 32 bits, and the index stays small (about 40 MB here).
pub const MAX_GENERATED: u64 = 100_000_000;
/// Results per generated invocation.
const PER_INVOCATION: u64 = 100;
/// Distinct instances in a generated set.
const INSTANCES: u64 = 1000;
/// Distinct commands in a generated set.
const COMMANDS: u64 = 10;
/// The instance of result `j` of invocation `i` is `(i * STRIDE + j) % INSTANCES`.
const STRIDE: u64 = 37;
/// `STRIDE`'s inverse modulo `INSTANCES`: which invocation holds an
/// instance at a given result is one multiplication.
const STRIDE_INVERSE: u64 = 973;
const _: () = assert!(STRIDE * STRIDE_INVERSE % INSTANCES == 1);
// Each invocation's results are on distinct instances.
const _: () = assert!(PER_INVOCATION <= INSTANCES);

/// The bucket the generated invocations deliver their outputs to.
pub(crate) const GENERATED_BUCKET: &str = "ecs-assist-emulator";
/// The prefix of their objects.
const GENERATED_PREFIX: &str = "generated";
/// One generated invocation in this many delivers its outputs to OSS.
const DELIVERY_EVERY: u64 = 10;
/// Size of the long output of the first result of a delivering invocation.
const LONG_OUTPUT_BYTES: usize = 40 * 1024;

/// A fast, well-mixed 64-bit hash (SplitMix64's finaliser).
pub(crate) fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Appends `n` in decimal, with leading zeros up to `width` digits (a
/// page's results are built by the thousand a second: this is cheaper
/// than the formatting machinery).
fn push_number(out: &mut String, n: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut at = digits.len();
    let mut rest = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    let start = at.min(digits.len().saturating_sub(width));
    out.extend(digits[start..].iter().map(|&d| char::from(d)));
}

/// `prefix` then `n` on `width` digits.
fn id(prefix: &str, n: u64, width: usize) -> String {
    let mut out = String::with_capacity(prefix.len() + width);
    out.push_str(prefix);
    push_number(&mut out, n, width);
    out
}

/// A generated, deterministic data set of `count` results.
#[derive(Debug)]
pub(crate) struct Generated {
    count: u64,
    region_id: String,
    seed: u64,
    /// The positions of the failed results, sorted; built on first use.
    failed: OnceLock<Arc<[u32]>>,
    /// The invocation parts of recent results, by invocation modulo the
    /// number of slots: a page's results mostly share their invocation,
    /// and building them is most of the cost of a generated result.
    recent: Box<[Mutex<Option<Recent>>]>,
}

/// An invocation's number and its part of its results.
type Recent = (u64, Arc<InvocationMeta>);

/// Slots of [`Generated::recent`]: enough that the invocations of one
/// instance's results (one in ten, spread over the whole set) mostly stay
/// cached between the pages of a query by instance; about 100 KB.
const RECENT_SLOTS: usize = 4096;

/// The classes of final status a generated result can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Success,
    Failed,
    Timeout,
}

impl Generated {
    /// `count` results (at most [`MAX_GENERATED`], checked by the builder)
    /// in `region_id`, their statuses and outputs drawn from `seed`.
    pub(crate) fn new(count: u64, region_id: String, seed: u64) -> Self {
        Self {
            count: count.min(MAX_GENERATED),
            region_id,
            seed,
            failed: OnceLock::new(),
            recent: (0..RECENT_SLOTS).map(|_| Mutex::new(None)).collect(),
        }
    }

    /// The invocation part of the results of `invocation`.
    fn invocation_meta(&self, invocation: u64) -> Arc<InvocationMeta> {
        let slot = &self.recent[(invocation % RECENT_SLOTS as u64) as usize];
        if let Ok(recent) = slot.lock()
            && let Some((at, meta)) = recent.as_ref()
            && *at == invocation
        {
            return Arc::clone(meta);
        }
        let meta = Arc::new(InvocationMeta {
            command_id: Self::command_id(invocation % COMMANDS),
            invoke_id: Self::invoke_id(invocation),
            region_id: self.region_id.clone(),
            resource_group_id: None,
            tags: BTreeMap::new(),
            repeat_mode: RepeatMode::Once,
            username: Some("root".to_owned()),
            launcher: None,
            termination_mode: None,
            container_id: None,
            container_name: None,
            oss_output_delivery: Self::delivers(invocation)
                .then(|| format!("oss://{GENERATED_BUCKET}/{GENERATED_PREFIX}")),
        });
        if let Ok(mut recent) = slot.lock() {
            *recent = Some((invocation, Arc::clone(&meta)));
        }
        meta
    }

    pub(crate) fn len(&self) -> u64 {
        self.count
    }

    pub(crate) fn region_id(&self) -> &str {
        &self.region_id
    }

    fn invoke_id(invocation: u64) -> String {
        id("t-gen", invocation, 11)
    }

    fn instance_id(instance: u64) -> String {
        id("i-gen", instance, 15)
    }

    fn command_id(command: u64) -> String {
        id("c-gen", command, 11)
    }

    /// The number in an id `prefix` + `digits` decimal digits.
    fn number(id: &str, prefix: &str, digits: usize) -> Option<u64> {
        let text = id.strip_prefix(prefix)?;
        if text.len() != digits || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        text.parse().ok()
    }

    /// Whether generated invocation `invocation` delivers its outputs to
    /// OSS (a few do; the first result of each has an output longer than
    /// 24 KB, so the listing truncates it).
    fn delivers(invocation: u64) -> bool {
        invocation % DELIVERY_EVERY == DELIVERY_EVERY / 2
    }

    /// Whether any generated invocation delivers to OSS.
    pub(crate) fn has_deliveries(&self) -> bool {
        self.count > (DELIVERY_EVERY / 2) * PER_INVOCATION
    }

    /// The complete output a generated invocation delivered at `key`
    /// (`generated/<invoke-id>/<instance-id>.txt`).
    pub(crate) fn object(&self, key: &str) -> Option<Arc<[u8]>> {
        let rest = key.strip_prefix(GENERATED_PREFIX)?.strip_prefix('/')?;
        let (invoke_id, file) = rest.split_once('/')?;
        let invocation = Self::number(invoke_id, "t-gen", 11)?;
        let instance = Self::number(file.strip_suffix(".txt")?, "i-gen", 15)?;
        if !Self::delivers(invocation) {
            return None;
        }
        let first = ((invocation % INSTANCES) * STRIDE) % INSTANCES;
        let j = (instance + INSTANCES - first) % INSTANCES;
        let k = invocation.checked_mul(PER_INVOCATION)?.checked_add(j)?;
        (j < PER_INVOCATION && k < self.count).then(|| self.record(k).output)
    }

    /// The instance of result `k` (`k / 100` is its invocation).
    fn instance_of(k: u64) -> u64 {
        let (invocation, j) = (k / PER_INVOCATION, k % PER_INVOCATION);
        ((invocation % INSTANCES) * STRIDE + j) % INSTANCES
    }

    fn outcome(&self, k: u64) -> (Outcome, u64) {
        let mix = splitmix(self.seed ^ k);
        let outcome = match mix % 100 {
            0..=89 => Outcome::Success,
            90..=96 => Outcome::Failed,
            _ => Outcome::Timeout,
        };
        (outcome, mix)
    }

    /// Whether the invocation `invoke_id` is one of the generated ones.
    pub(crate) fn has_invocation(&self, invoke_id: &str) -> bool {
        self.invocation(invoke_id).len() > 0
    }

    /// All generated positions.
    pub(crate) fn all(&self) -> Set {
        Set::Range {
            start: 0,
            end: self.count,
        }
    }

    /// The results of the invocation `invoke_id`: one range.
    pub(crate) fn invocation(&self, invoke_id: &str) -> Set {
        let Some(start) = Self::number(invoke_id, "t-gen", 11)
            .and_then(|invocation| invocation.checked_mul(PER_INVOCATION))
            .filter(|start| *start < self.count)
        else {
            return Set::Empty;
        };
        Set::Range {
            start,
            end: start.saturating_add(PER_INVOCATION).min(self.count),
        }
    }

    /// The results of the command `command_id`: the invocations `c`,
    /// `c + 10`, `c + 20`, ... (100 results each).
    pub(crate) fn command(&self, command_id: &str) -> Set {
        let Some(command) = Self::number(command_id, "c-gen", 11).filter(|c| *c < COMMANDS) else {
            return Set::Empty;
        };
        let first = command * PER_INVOCATION;
        Set::Periodic {
            period: COMMANDS * PER_INVOCATION,
            offsets: (first..first + PER_INVOCATION).collect(),
            end: self.count,
        }
    }

    /// The results on the instance `instance_id`: one in each of 100 of
    /// every 1,000 invocations, in the same places in each 1,000.
    pub(crate) fn instance(&self, instance_id: &str) -> Set {
        let Some(instance) = Self::number(instance_id, "i-gen", 15).filter(|i| *i < INSTANCES)
        else {
            return Set::Empty;
        };
        // Invocation `r` (modulo 1,000) holds the instance at result `j`
        // when `(r * STRIDE + j) % INSTANCES == instance`: for each of the
        // 100 results `j`, one `r`, found with STRIDE's inverse. Every
        // query by instance builds this list: 100 steps and a sort.
        let mut offsets: Vec<u64> = (0..PER_INVOCATION)
            .map(|j| {
                let r = ((instance + INSTANCES - j) % INSTANCES) * STRIDE_INVERSE % INSTANCES;
                r * PER_INVOCATION + j
            })
            .collect();
        offsets.sort_unstable();
        let offsets: Arc<[u64]> = offsets.into();
        Set::Periodic {
            period: INSTANCES * PER_INVOCATION,
            offsets,
            end: self.count,
        }
    }

    /// What [`status`](Self::status) costs for `wanted`: a pass over every
    /// result the first time it needs the failed-result index, else 0.
    pub(crate) fn status_cost(&self, wanted: &str) -> u64 {
        let needs_index = matches!(wanted, "Failed" | "Finished");
        if needs_index && self.failed.get().is_none() {
            self.count
        } else {
            0
        }
    }

    /// The results listed under the record status `wanted`: `Failed`
    /// (failed and timed out), `Finished` (succeeded), none for the others.
    /// Builds the failed-result index the first time (a pass over every
    /// result: see [`status_cost`](Self::status_cost)).
    pub(crate) fn status(&self, wanted: &str) -> Set {
        let failed = || {
            Arc::clone(self.failed.get_or_init(|| {
                (0..self.count)
                    .filter(|k| self.outcome(*k).0 != Outcome::Success)
                    // Below MAX_GENERATED, so within 32 bits.
                    .filter_map(|k| u32::try_from(k).ok())
                    .collect()
            }))
        };
        match wanted {
            "Failed" => Set::List {
                base: 0,
                items: failed(),
            },
            "Finished" => Set::Without {
                end: self.count,
                excluded: failed(),
            },
            _ => Set::Empty,
        }
    }

    /// Result `k` (below `len()`).
    pub(crate) fn record(&self, k: u64) -> Record {
        let invocation = k / PER_INVOCATION;
        let (outcome, mix) = self.outcome(k);
        let (status, exit_code, error_code) = match outcome {
            Outcome::Success => ("Success", 0, None),
            Outcome::Failed => ("Failed", 1, Some("ExitCodeNonzero")),
            Outcome::Timeout => ("Timeout", -1, Some("ExecutionTimeout")),
        };
        let instance_id = Self::instance_id(Self::instance_of(k));
        let meta = self.invocation_meta(invocation);
        // "result K of INVOKE on INSTANCE: status STATUS, checksum HEX\n"
        // 115 bytes at most (20-digit numbers), so the line never grows.
        let mut output = String::with_capacity(128);
        output.push_str("result ");
        push_number(&mut output, k, 0);
        output.push_str(" of ");
        output.push_str(&meta.invoke_id);
        output.push_str(" on ");
        output.push_str(&instance_id);
        output.push_str(": status ");
        output.push_str(status);
        output.push_str(", checksum ");
        const HEX: &[u8; 16] = b"0123456789abcdef";
        output.extend(
            (0..16)
                .rev()
                .map(|i| char::from(HEX[((mix >> (i * 4)) & 0xF) as usize])),
        );
        output.push('\n');
        let delivers = Self::delivers(invocation);
        if delivers && k.is_multiple_of(PER_INVOCATION) {
            let line = output.clone();
            while output.len() < LONG_OUTPUT_BYTES {
                output.push_str(&line);
            }
        }
        // "2026-11-DDTHH:MM:SSZ"
        let second = k % 86_400;
        let mut time = String::with_capacity(20);
        time.push_str("2026-11-");
        push_number(&mut time, 1 + (k / 86_400) % 28, 2);
        time.push('T');
        push_number(&mut time, second / 3600, 2);
        time.push(':');
        push_number(&mut time, (second / 60) % 60, 2);
        time.push(':');
        push_number(&mut time, second % 60, 2);
        time.push('Z');
        let delivered = delivers.then(|| {
            Arc::new((
                GENERATED_BUCKET.to_owned(),
                format!("{GENERATED_PREFIX}/{}/{instance_id}.txt", meta.invoke_id),
            ))
        });
        let result = ResultSpec {
            instance_id,
            status: Status::parse(status).unwrap_or(Status::SUCCESS),
            exit_code: Some(exit_code),
            output: None,
            output_base64: None,
            error_code: error_code.map(str::to_owned),
            error_info: error_code.map(|c| ["the command ended with ", c].concat()),
            start_time: Some(time.clone()),
            finished_time: Some(time),
            stop_time: None,
            repeats: 1,
            running_for_ms: 0,
            oss_output_status: delivers.then(|| "Finished".to_owned()),
            oss_output_uri: delivered
                .as_ref()
                .map(|object| format!("oss://{}/{}", object.0, object.1)),
            oss_output_error_code: None,
            oss_output_error_info: None,
        };
        Record {
            invocation: meta,
            result: Arc::new(result),
            output: Arc::from(output.into_bytes()),
            latest: true,
            delivered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generated(count: u64) -> Generated {
        Generated::new(count, "cn-hangzhou".to_owned(), 7)
    }

    #[test]
    fn generated_results_are_deterministic_and_unique() {
        let set = generated(1_000);
        let again = generated(1_000);
        let mut seen = std::collections::HashSet::new();
        for k in 0..1_000 {
            let (a, b) = (set.record(k), again.record(k));
            assert_eq!(a.output, b.output);
            assert_eq!(a.result.status, b.result.status);
            assert!(seen.insert((a.invocation.invoke_id.clone(), a.result.instance_id.clone())));
        }
        // Another seed, other data.
        let other = Generated::new(1_000, "cn-hangzhou".to_owned(), 8);
        assert!((0..1_000).any(|k| other.record(k).output != set.record(k).output));
    }

    /// Each arithmetic set holds exactly the results whose record says so.
    #[test]
    fn filter_sets_hold_exactly_the_matching_records() {
        let count = 250_123;
        let set = generated(count);
        assert_eq!(set.status_cost("Failed"), count);
        assert_eq!(set.status_cost("Running"), 0);
        let records: Vec<Record> = (0..count).map(|k| set.record(k)).collect();
        let check = |filter: Set, matches: &dyn Fn(&Record) -> bool| {
            let expected: Vec<u64> = (0..count)
                .filter(|k| matches(&records[*k as usize]))
                .collect();
            assert_eq!(filter.len(), expected.len() as u64);
            for (m, pos) in expected.iter().enumerate().step_by(97) {
                assert_eq!(filter.nth(m as u64), Some(*pos));
                assert_eq!(filter.rank(*pos), m as u64);
                assert!(filter.contains(*pos));
            }
        };
        check(set.invocation("t-gen00000002500"), &|r| {
            r.invocation.invoke_id == "t-gen00000002500"
        });
        check(set.invocation("t-gen00000002502"), &|_| false);
        check(set.command("c-gen00000000003"), &|r| {
            r.invocation.command_id == "c-gen00000000003"
        });
        for instance in [
            "i-gen000000000000417",
            "i-gen000000000000000",
            "i-gen000000000000999",
        ] {
            check(set.instance(instance), &|r| {
                r.result.instance_id == instance
            });
        }
        check(set.status("Failed"), &|r| {
            r.result.status.record_status().as_str() == "Failed"
        });
        check(set.status("Finished"), &|r| {
            r.result.status.record_status().as_str() == "Finished"
        });
        check(set.status("Running"), &|_| false);
        assert_eq!(set.status_cost("Failed"), 0);
    }

    #[test]
    fn ids_outside_the_set_match_nothing() {
        let set = generated(250);
        for id in [
            "t-gen99999999999",
            "t-gen1",
            "t-genxxxxxxxxxxx",
            "t-gen00000000003",
        ] {
            assert_eq!(set.invocation(id).len(), 0, "{id}");
        }
        assert_eq!(set.command("c-gen00000000010").len(), 0);
        assert_eq!(set.instance("i-gen000000000001000").len(), 0);
        assert_eq!(set.invocation("t-gen00000000002").len(), 50);
    }
}
