//! The emulator's data: a documented JSON file of invocations and their
//! per-instance results, or a large deterministic generated set.
//!
//! # The data file
//!
//! ```json
//! {
//!   "invocations": [
//!     {
//!       "invoke_id": "t-hz0jdfwd9f1234",
//!       "command_id": "c-hz0jdfwcsr1234",
//!       "region_id": "cn-hangzhou",
//!       "resource_group_id": "rg-acfm2abc",
//!       "tags": { "env": "prod" },
//!       "repeat_mode": "Once",
//!       "username": "root",
//!       "results": [
//!         {
//!           "instance_id": "i-bp1i7gg30r52z2em1234",
//!           "status": "Success",
//!           "exit_code": 0,
//!           "output": "hello\n",
//!           "start_time": "2026-11-26T05:02:36Z",
//!           "finished_time": "2026-11-26T05:02:37Z"
//!         }
//!       ]
//!     }
//!   ]
//! }
//! ```
//!
//! Invocation fields: `invoke_id` and `command_id` (required), `region_id`
//! (default `cn-hangzhou`), `resource_group_id`, `tags` (key to value),
//! `repeat_mode` (`Once` (default), `Period`, `NextRebootOnly`,
//! `EveryReboot`, `RunOnce`; `IncludeHistory` needs `Period` or
//! `EveryReboot`), `username`, `launcher`, `termination_mode`,
//! `container_id`, `container_name`, `oss_output_delivery`, `results`.
//!
//! Result fields: `instance_id` (required), `status` (one of the twelve
//! `InvocationStatus` values, required), `exit_code`, `output` (text) or
//! `output_base64` (bytes), `error_code`, `error_info`, `start_time`,
//! `finished_time`, `stop_time` (ISO-8601 UTC), `repeats` (default 1; several
//! results of one instance with different `repeats` are the runs of a
//! periodic invocation: only the highest is listed unless `IncludeHistory`),
//! `running_for_ms` (the result reads `Running` until that long after the
//! emulator started, then `status`: waiters see a real transition),
//! `oss_output_status`, `oss_output_uri`, `oss_output_error_code`,
//! `oss_output_error_info`.
//!
//! An invocation with `oss_output_delivery: "oss://<bucket>/<prefix>"`
//! delivers each result's complete output to that bucket, as the service
//! does: the emulator serves it over OSS `GetObject` at
//! `<prefix>/<invoke-id>/<instance-id>[.<repeats>].txt` (the repeat after
//! the first run), lists `Output` cut at 24 KB with `Dropped`, and reports
//! `OssOutputStatus` `Finished` (`InProgress` while the result is running)
//! and `OssOutputUri` `oss://<bucket>/<key>`, unless the result sets its own
//! `oss_output_*` fields (a `Failed` delivery, an object that is gone).
//!
//! A field the format does not know, a missing required field or a bad
//! value is an error naming its path (`invocations[0].results[2].status`)
//! and its line and column.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use ecs_model::{InvocationStatus, InvokeRecordStatus};
use serde::Deserialize;
use serde::de::{self, Deserializer};

/// A data file that cannot be used: what is wrong and where.
#[derive(Debug)]
pub struct DataError {
    message: String,
}

impl DataError {
    fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DataError {}

/// The contents of a data file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSet {
    /// The invocations, in the order the emulator lists their results.
    pub invocations: Vec<InvocationSpec>,
}

/// How an invocation repeats (`RepeatMode` in the API's `RunCommand`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum RepeatMode {
    /// Runs once, now.
    #[default]
    Once,
    /// Runs on a schedule; keeps the history of its runs.
    Period,
    /// Runs at the next reboot.
    NextRebootOnly,
    /// Runs at every reboot; keeps the history of its runs.
    EveryReboot,
    /// Runs once the instance is ready.
    RunOnce,
}

impl RepeatMode {
    /// Whether `IncludeHistory` applies (Period and EveryReboot;
    /// docs/api/describe-invocation-results.md#includehistory).
    pub fn keeps_history(self) -> bool {
        matches!(self, Self::Period | Self::EveryReboot)
    }
}

/// One invocation (a command run on some instances).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvocationSpec {
    /// `InvokeId`, `t-...`.
    pub invoke_id: String,
    /// `CommandId`, `c-...`.
    pub command_id: String,
    /// The region the invocation lives in.
    #[serde(default = "default_region")]
    pub region_id: String,
    /// `ResourceGroupId` the invocation was created with.
    #[serde(default)]
    pub resource_group_id: Option<String>,
    /// Tags of the invocation.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// How the invocation repeats.
    #[serde(default)]
    pub repeat_mode: RepeatMode,
    /// `Username` the command runs as.
    #[serde(default)]
    pub username: Option<String>,
    /// `Launcher`.
    #[serde(default)]
    pub launcher: Option<String>,
    /// `TerminationMode`.
    #[serde(default)]
    pub termination_mode: Option<String>,
    /// `ContainerId`.
    #[serde(default)]
    pub container_id: Option<String>,
    /// `ContainerName`.
    #[serde(default)]
    pub container_name: Option<String>,
    /// `OssOutputDelivery`, e.g. `oss://bucket/prefix`.
    #[serde(default)]
    pub oss_output_delivery: Option<String>,
    /// The per-instance results.
    pub results: Vec<ResultSpec>,
}

fn default_region() -> String {
    "cn-hangzhou".to_owned()
}

/// One instance's result of an invocation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultSpec {
    /// `InstanceId`.
    pub instance_id: String,
    /// The final `InvocationStatus`.
    pub status: Status,
    /// `ExitCode`.
    #[serde(default)]
    pub exit_code: Option<i64>,
    /// The output as text.
    #[serde(default)]
    pub output: Option<String>,
    /// The output as Base64 bytes (for output that is not UTF-8).
    #[serde(default, deserialize_with = "base64_bytes")]
    pub output_base64: Option<Vec<u8>>,
    /// `ErrorCode`.
    #[serde(default)]
    pub error_code: Option<String>,
    /// `ErrorInfo`.
    #[serde(default)]
    pub error_info: Option<String>,
    /// `StartTime`.
    #[serde(default, deserialize_with = "iso_time")]
    pub start_time: Option<String>,
    /// `FinishedTime`.
    #[serde(default, deserialize_with = "iso_time")]
    pub finished_time: Option<String>,
    /// `StopTime`.
    #[serde(default, deserialize_with = "iso_time")]
    pub stop_time: Option<String>,
    /// `Repeats`: which run of a periodic invocation this is.
    #[serde(default = "one")]
    pub repeats: u32,
    /// Reads `Running` until this many milliseconds after the emulator starts.
    #[serde(default)]
    pub running_for_ms: u64,
    /// `OssOutputStatus`.
    #[serde(default)]
    pub oss_output_status: Option<String>,
    /// `OssOutputUri`.
    #[serde(default)]
    pub oss_output_uri: Option<String>,
    /// `OssOutputErrorCode`.
    #[serde(default)]
    pub oss_output_error_code: Option<String>,
    /// `OssOutputErrorInfo`.
    #[serde(default)]
    pub oss_output_error_info: Option<String>,
}

fn one() -> u32 {
    1
}

/// One of the twelve `InvocationStatus` values the API documents (the
/// known values of `ecs_model::InvocationStatus`), in the exact spelling; a cheap
/// copy of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status(&'static InvocationStatus);

impl Status {
    /// `Success`.
    pub const SUCCESS: Self = Self(&InvocationStatus::Success);
    /// `Running`.
    pub const RUNNING: Self = Self(&InvocationStatus::Running);

    /// The status named `name` (exact spelling), if it is one the API
    /// documents.
    pub fn parse(name: &str) -> Option<Self> {
        InvocationStatus::KNOWN
            .iter()
            .find(|status| status.as_str() == name)
            .map(Self)
    }

    /// The status as the model has it.
    pub fn invocation_status(self) -> &'static InvocationStatus {
        self.0
    }

    /// The API's spelling.
    pub fn as_str(self) -> &'static str {
        self.0.as_str()
    }

    /// The per-instance `InvokeRecordStatus` this status is listed under
    /// (the emulator's model of the service: running, stopping, finished,
    /// stopped or failed).
    pub fn record_status(self) -> &'static InvokeRecordStatus {
        match self.0 {
            InvocationStatus::Pending | InvocationStatus::Scheduled | InvocationStatus::Running => {
                &InvokeRecordStatus::Running
            }
            InvocationStatus::Stopping => &InvokeRecordStatus::Stopping,
            InvocationStatus::Success => &InvokeRecordStatus::Finished,
            InvocationStatus::Cancelled | InvocationStatus::Terminated => {
                &InvokeRecordStatus::Stopped
            }
            _ => &InvokeRecordStatus::Failed,
        }
    }
}

impl<'de> Deserialize<'de> for Status {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Self::parse(&name).ok_or_else(|| {
            let known: Vec<&str> = InvocationStatus::KNOWN
                .iter()
                .map(InvocationStatus::as_str)
                .collect();
            de::Error::custom(format!(
                "unknown status `{name}`; expected one of {}",
                known.join(", ")
            ))
        })
    }
}

fn base64_bytes<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Vec<u8>>, D::Error> {
    let Some(text) = Option::<String>::deserialize(deserializer)? else {
        return Ok(None);
    };
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map(Some)
        .map_err(|err| de::Error::custom(format!("output_base64 is not valid Base64: {err}")))
}

fn iso_time<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let Some(text) = Option::<String>::deserialize(deserializer)? else {
        return Ok(None);
    };
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::PrimitiveDateTime::parse(&text, format).map_err(|_| {
        de::Error::custom(format!(
            "`{text}` is not an ISO-8601 UTC time like 2026-11-26T05:02:36Z"
        ))
    })?;
    Ok(Some(text))
}

impl DataSet {
    /// Parses a data file's text; an error names the field path, line and
    /// column of the first problem.
    pub fn from_json(text: &str) -> Result<Self, DataError> {
        let deserializer = &mut serde_json::Deserializer::from_str(text);
        let data: Self = serde_path_to_error::deserialize(deserializer).map_err(|err| {
            let path = err.path().to_string();
            let inner = err.into_inner();
            DataError::new(format!(
                "data file: at {path} (line {}, column {}): {}",
                inner.line(),
                inner.column(),
                strip_position(&inner.to_string())
            ))
        })?;
        data.check()?;
        Ok(data)
    }

    /// Reads and parses a data file.
    pub fn from_file(path: &Path) -> Result<Self, DataError> {
        let text = std::fs::read_to_string(path)
            .map_err(|err| DataError::new(format!("cannot read {}: {err}", path.display())))?;
        Self::from_json(&text).map_err(|err| DataError::new(format!("{}: {err}", path.display())))
    }

    /// The demo data set shipped with the crate, in region `cn-hangzhou`:
    /// four invocations, named in [`demo`](crate::demo).
    ///
    /// | invocation | results |
    /// |---|---|
    /// | [`demo::DISK_CHECK`](crate::demo::DISK_CHECK) `t-hz0jdfwd9f1234` | 3 instances: 2 `Success`, 1 `Failed` (exit 1); tags `env=prod`, `team=web`, resource group `rg-acfm2abc` |
    /// | [`demo::DEPLOYMENT`](crate::demo::DEPLOYMENT) `t-hz0jdfwe1uy5678` | 2 instances `Running` for 3 s and 5 s after the emulator starts, then `Success`: a waiter's case |
    /// | [`demo::PERIODIC`](crate::demo::PERIODIC) `t-hz0jdfwg2ab9abc` | a `Period` invocation: 3 runs (`repeats` 1-3) on one instance |
    /// | [`demo::BINARY_OUTPUT`](crate::demo::BINARY_OUTPUT) `t-hz0jdfwj3ef0def` | 1 `Success` whose output is binary (a JPEG head), 1 `Failed` (`InstanceNotRunning`) |
    pub fn demo() -> Self {
        // The file is part of the crate and checked by a test, so it parses.
        Self::from_json(include_str!("../data/demo.json")).unwrap_or_default()
    }

    /// The invocation ids of this data set, in order.
    pub fn invoke_ids(&self) -> impl Iterator<Item = &str> {
        self.invocations.iter().map(|i| i.invoke_id.as_str())
    }

    /// Checks what the types cannot: unique runs, one output form.
    fn check(&self) -> Result<(), DataError> {
        let mut runs = std::collections::HashSet::new();
        for (i, inv) in self.invocations.iter().enumerate() {
            for (field, value) in [
                ("invoke_id", &inv.invoke_id),
                ("command_id", &inv.command_id),
            ] {
                if value.trim().is_empty() {
                    return Err(DataError::new(format!(
                        "data file: at invocations[{i}].{field}: must not be empty"
                    )));
                }
            }
            for (j, res) in inv.results.iter().enumerate() {
                let at = format!("invocations[{i}].results[{j}]");
                if res.instance_id.trim().is_empty() {
                    return Err(DataError::new(format!(
                        "data file: at {at}.instance_id: must not be empty"
                    )));
                }
                if res.output.is_some() && res.output_base64.is_some() {
                    return Err(DataError::new(format!(
                        "data file: at {at}: give `output` or `output_base64`, not both"
                    )));
                }
                if !runs.insert((&inv.invoke_id, &res.instance_id, res.repeats)) {
                    return Err(DataError::new(format!(
                        "data file: at {at}: invoke {} already has a result for instance {} \
                         with repeats {}; give each run its own `repeats`",
                        inv.invoke_id, res.instance_id, res.repeats
                    )));
                }
            }
        }
        Ok(())
    }
}

/// serde_json appends " at line L column C"; the message already says where.
fn strip_position(message: &str) -> &str {
    message
        .rfind(" at line ")
        .map_or(message, |at| &message[..at])
}

/// The invocation-level fields shared by all results of one invocation.
#[derive(Debug)]
pub(crate) struct InvocationMeta {
    pub(crate) invoke_id: String,
    pub(crate) command_id: String,
    pub(crate) region_id: String,
    pub(crate) resource_group_id: Option<String>,
    pub(crate) tags: BTreeMap<String, String>,
    pub(crate) repeat_mode: RepeatMode,
    pub(crate) username: Option<String>,
    pub(crate) launcher: Option<String>,
    pub(crate) termination_mode: Option<String>,
    pub(crate) container_id: Option<String>,
    pub(crate) container_name: Option<String>,
    pub(crate) oss_output_delivery: Option<String>,
}

/// One listed result, as the store keeps it.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub(crate) invocation: Arc<InvocationMeta>,
    pub(crate) result: Arc<ResultSpec>,
    /// The output bytes (from `output` or `output_base64`).
    pub(crate) output: Arc<[u8]>,
    /// Whether this is the latest run of its (invocation, instance).
    pub(crate) latest: bool,
    /// The OSS bucket and key its complete output was delivered to, when
    /// the invocation has an `oss_output_delivery`.
    pub(crate) delivered: Option<Arc<(String, String)>>,
}

/// `oss://<bucket>[/<prefix>]` as a bucket and a prefix (without slashes
/// around it); `None` for any other form.
pub(crate) fn delivery_target(delivery: &str) -> Option<(String, String)> {
    let rest = delivery.trim().strip_prefix("oss://")?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    (!bucket.is_empty()).then(|| (bucket.to_owned(), prefix.trim_matches('/').to_owned()))
}

/// The key a delivered output is written to:
/// `<prefix>/<invoke-id>/<instance-id>[.<repeats>].txt` (the repeat only
/// after the first run).
pub(crate) fn delivered_key(
    prefix: &str,
    invoke_id: &str,
    instance_id: &str,
    repeats: u32,
) -> String {
    let run = if repeats > 1 {
        format!(".{repeats}")
    } else {
        String::new()
    };
    let slash = if prefix.is_empty() { "" } else { "/" };
    format!("{prefix}{slash}{invoke_id}/{instance_id}{run}.txt")
}

impl Record {
    /// The status the record shows `elapsed_ms` after the emulator started:
    /// `Running` for its `running_for_ms`, then its own.
    pub(crate) fn status_at(&self, elapsed_ms: u64) -> Status {
        if elapsed_ms < self.result.running_for_ms {
            Status::RUNNING
        } else {
            self.result.status
        }
    }
}

/// Flattens invocations into records, in data order.
pub(crate) fn flatten(invocations: Vec<InvocationSpec>) -> Vec<Record> {
    let mut records = Vec::new();
    for inv in invocations {
        let mut latest: BTreeMap<&str, u32> = BTreeMap::new();
        for res in &inv.results {
            let top = latest.entry(res.instance_id.as_str()).or_insert(0);
            *top = (*top).max(res.repeats);
        }
        let latest: BTreeMap<String, u32> =
            latest.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        let meta = Arc::new(InvocationMeta {
            invoke_id: inv.invoke_id,
            command_id: inv.command_id,
            region_id: inv.region_id,
            resource_group_id: inv.resource_group_id,
            tags: inv.tags,
            repeat_mode: inv.repeat_mode,
            username: inv.username,
            launcher: inv.launcher,
            termination_mode: inv.termination_mode,
            container_id: inv.container_id,
            container_name: inv.container_name,
            oss_output_delivery: inv.oss_output_delivery,
        });
        let target = meta
            .oss_output_delivery
            .as_deref()
            .and_then(delivery_target);
        for mut res in inv.results {
            let delivered = target.as_ref().map(|(bucket, prefix)| {
                let key = delivered_key(prefix, &meta.invoke_id, &res.instance_id, res.repeats);
                Arc::new((bucket.clone(), key))
            });
            if let Some(object) = &delivered {
                res.oss_output_uri
                    .get_or_insert_with(|| format!("oss://{}/{}", object.0, object.1));
                res.oss_output_status
                    .get_or_insert_with(|| "Finished".to_owned());
            }
            let output: Arc<[u8]> = match (&res.output, &res.output_base64) {
                (Some(text), _) => Arc::from(text.as_bytes()),
                (None, Some(bytes)) => Arc::from(bytes.as_slice()),
                (None, None) => Arc::from(&[][..]),
            };
            let is_latest = latest.get(&res.instance_id) == Some(&res.repeats);
            records.push(Record {
                invocation: Arc::clone(&meta),
                result: Arc::new(res),
                output,
                latest: is_latest,
                delivered,
            });
        }
    }
    records
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_constants_name_the_demo_invocations() {
        let data = DataSet::demo();
        assert_eq!(
            data.invoke_ids().collect::<Vec<_>>(),
            crate::demo::INVOKE_IDS
        );
        let results = |id: &str| {
            let inv = data.invocations.iter().find(|i| i.invoke_id == id).unwrap();
            inv.results
                .iter()
                .map(|r| r.status.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            results(crate::demo::DISK_CHECK),
            ["Success", "Success", "Failed"]
        );
        assert_eq!(results(crate::demo::DEPLOYMENT), ["Success", "Success"]);
        let deployment = data
            .invocations
            .iter()
            .find(|i| i.invoke_id == crate::demo::DEPLOYMENT);
        let running: Vec<u64> = deployment
            .unwrap()
            .results
            .iter()
            .map(|r| r.running_for_ms)
            .collect();
        assert_eq!(running, [3000, 5000]);
        assert_eq!(results(crate::demo::PERIODIC).len(), 3);
        assert_eq!(results(crate::demo::BINARY_OUTPUT), ["Success", "Failed"]);
    }

    #[test]
    fn the_demo_data_set_parses() {
        let text = include_str!("../data/demo.json");
        let data = DataSet::from_json(text).unwrap();
        assert!(data.invocations.len() >= 3);
        assert!(
            data.invocations
                .iter()
                .any(|i| i.repeat_mode.keeps_history())
        );
    }

    #[test]
    fn an_unknown_status_names_its_path_line_and_column() {
        let text = r#"{
  "invocations": [
    {
      "invoke_id": "t-1",
      "command_id": "c-1",
      "results": [
        { "instance_id": "i-1", "status": "Done" }
      ]
    }
  ]
}"#;
        let err = DataSet::from_json(text).unwrap_err().to_string();
        assert!(err.contains("invocations[0].results[0].status"), "{err}");
        assert!(err.contains("line 7"), "{err}");
        assert!(err.contains("unknown status `Done`"), "{err}");
    }

    #[test]
    fn an_unknown_field_is_refused() {
        let text = r#"{"invocations":[{"invoke_id":"t-1","command_id":"c-1","result":[]}]}"#;
        let err = DataSet::from_json(text).unwrap_err().to_string();
        assert!(err.contains("unknown field `result`"), "{err}");
    }

    #[test]
    fn a_bad_time_and_bad_base64_are_refused() {
        let bad_time = r#"{"invocations":[{"invoke_id":"t-1","command_id":"c-1","results":[
            {"instance_id":"i-1","status":"Success","start_time":"yesterday"}]}]}"#;
        let err = DataSet::from_json(bad_time).unwrap_err().to_string();
        assert!(
            err.contains("start_time") && err.contains("ISO-8601"),
            "{err}"
        );
        let bad_b64 = r#"{"invocations":[{"invoke_id":"t-1","command_id":"c-1","results":[
            {"instance_id":"i-1","status":"Success","output_base64":"!!"}]}]}"#;
        let err = DataSet::from_json(bad_b64).unwrap_err().to_string();
        assert!(err.contains("output_base64"), "{err}");
    }

    #[test]
    fn duplicate_runs_are_refused() {
        let text = r#"{"invocations":[{"invoke_id":"t-1","command_id":"c-1","results":[
            {"instance_id":"i-1","status":"Success"},{"instance_id":"i-1","status":"Failed"}]}]}"#;
        let err = DataSet::from_json(text).unwrap_err().to_string();
        assert!(err.contains("already has a result"), "{err}");
    }

    #[test]
    fn only_the_highest_repeat_is_latest() {
        let text = r#"{"invocations":[{"invoke_id":"t-1","command_id":"c-1","repeat_mode":"Period","results":[
            {"instance_id":"i-1","status":"Success","repeats":1},
            {"instance_id":"i-1","status":"Success","repeats":2},
            {"instance_id":"i-2","status":"Success","repeats":1}]}]}"#;
        let records = flatten(DataSet::from_json(text).unwrap().invocations);
        let latest: Vec<bool> = records.iter().map(|r| r.latest).collect();
        assert_eq!(latest, [false, true, true]);
    }
}
