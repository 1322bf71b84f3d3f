//! Client CPU per page, the emulator in another process: the official
//! Python SDK's paging loop, `ecs-assist`'s `.items()` stream, the CLI in
//! each output format and the bare floor (pre-signed requests, each body
//! only scanned by serde), all paging the same generated results 50 a page
//! in the same run. `xtask/interop/bench_cpu.py` runs them round by round
//! and reads each process's CPU (user + system) from `wait4`; the least of
//! the rounds is kept, the run least disturbed by other work.

use std::ffi::OsStr;
use std::path::Path;

use anyhow::{Context, Result, anyhow};
use serde_json::{Value, json};

use crate::emulator::Emulator;

/// Results paged in each walk: 2,000 pages of 50.
pub(super) const RESULTS: u64 = 100_000;
/// Rounds: each figure is the least of this many walks.
const ROUNDS: u32 = 3;

/// One measured client: its least CPU over the rounds.
#[derive(Debug, Clone)]
pub(super) struct Client {
    pub(super) name: &'static str,
    pub(super) what: &'static str,
    pub(super) cpu_seconds: f64,
    pub(super) stdout_bytes: u64,
}

/// The figures of one run.
#[derive(Debug, Clone)]
pub(super) struct Figures {
    pub(super) pages: u64,
    /// The official SDK's paging loop, CPU of the loop alone.
    pub(super) sdk_seconds: f64,
    pub(super) clients: Vec<Client>,
}

impl Figures {
    pub(super) fn client(&self, name: &str) -> Option<&Client> {
        self.clients.iter().find(|c| c.name == name)
    }

    /// Microseconds of CPU per page.
    pub(super) fn per_page_us(&self, seconds: f64) -> f64 {
        seconds * 1e6 / self.pages as f64
    }
}

/// What each measured command is, by name.
const CLIENTS: &[(&str, &str)] = &[
    ("floor", "bare floor: pre-signed requests, serde scan only"),
    (
        "library",
        "`ecs-assist` library, `.items()` (whole process)",
    ),
    ("cli_ndjson", "CLI `--output ndjson` (whole process)"),
    ("cli_json", "CLI `--output json` (whole process)"),
    ("cli_table", "CLI `--output table` (whole process)"),
    ("cli_raw", "CLI `--output raw` (whole process)"),
];

/// Runs the measurement against a fresh release emulator.
pub(super) fn measure(root: &Path, release: &Path, python: &Path) -> Result<Figures> {
    let emulator = Emulator::start_binary(
        &release.join("ecs-emulator"),
        &[OsStr::new("--generate"), OsStr::new(&RESULTS.to_string())],
    )?;
    let url = format!("http://{}", emulator.host_port());
    let work = crate::target_dir(root).join("bench-cpu");
    std::fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;

    // The floor replays the NextTokens of a first walk, signed before its loop.
    let floor = release.join("cpu-floor");
    let walk = std::process::Command::new(&floor)
        .args(["tokens", &url])
        .output()
        .with_context(|| format!("cannot run {}", floor.display()))?;
    if !walk.status.success() {
        return Err(anyhow!(
            "cpu-floor tokens failed: {}",
            String::from_utf8_lossy(&walk.stderr)
        ));
    }
    let tokens = work.join("tokens.txt");
    std::fs::write(&tokens, &walk.stdout)?;

    let path = |p: &Path| p.to_string_lossy().into_owned();
    let cli = path(&release.join("ecs-assist"));
    let cli_env = json!({
        "ALIBABA_CLOUD_ACCESS_KEY_ID": "EmulatorAccessKeyId",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "EmulatorAccessKeySecret",
        "NO_COLOR": "1",
    });
    let mut commands = vec![
        json!({"name": "floor", "argv": [path(&floor), "replay", url, path(&tokens)]}),
        json!({"name": "library", "argv": [
            path(&release.join("examples/stream_memory")), url, RESULTS.to_string()]}),
    ];
    for format in ["ndjson", "json", "table", "raw"] {
        commands.push(json!({
            "name": format!("cli_{format}"),
            "argv": [cli, "--region", "cn-hangzhou", "--endpoint", url, "--output", format,
                     "results", "--page-size", "50"],
            "env": cli_env,
        }));
    }
    let spec = json!({
        "endpoint": emulator.host_port(),
        "expected": RESULTS,
        "runs": ROUNDS,
        "commands": commands,
    });
    let spec_file = work.join("spec.json");
    std::fs::write(&spec_file, serde_json::to_vec_pretty(&spec)?)?;
    let script = root.join("xtask/interop/bench_cpu.py");
    let report = super::json_of(python, &[script.as_os_str(), spec_file.as_os_str()])?;
    println!("bench cpu: {report}");
    parse(&report)
}

/// The least of a list of CPU seconds.
fn least(list: &Value) -> Option<f64> {
    list.as_array()?
        .iter()
        .filter_map(Value::as_f64)
        .min_by(f64::total_cmp)
}

fn parse(report: &Value) -> Result<Figures> {
    let bad = || anyhow!("bench_cpu.py printed an unexpected report: {report}");
    let pages = report["sdk"]["pages"].as_u64().ok_or_else(bad)?;
    let sdk_seconds = least(&report["sdk"]["cpu"]).ok_or_else(bad)?;
    let mut clients = Vec::new();
    for &(name, what) in CLIENTS {
        let entry = &report["commands"][name];
        clients.push(Client {
            name,
            what,
            cpu_seconds: least(&entry["cpu"]).ok_or_else(bad)?,
            stdout_bytes: entry["stdout_bytes"].as_u64().ok_or_else(bad)?,
        });
    }
    if pages == 0 {
        return Err(bad());
    }
    Ok(Figures {
        pages,
        sdk_seconds,
        clients,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_round_of_each_client_is_kept() {
        let mut commands = serde_json::Map::new();
        for (name, _) in CLIENTS {
            commands.insert(
                (*name).to_owned(),
                json!({"cpu": [0.5, 0.25, 0.75], "stdout_bytes": 10}),
            );
        }
        let report = json!({"sdk": {"cpu": [3.0, 2.0], "pages": 2000}, "commands": commands});
        let figures = parse(&report).unwrap();
        assert_eq!(figures.sdk_seconds, 2.0);
        assert_eq!(figures.client("library").unwrap().cpu_seconds, 0.25);
        assert_eq!(figures.per_page_us(figures.sdk_seconds), 1000.0);
    }

    #[test]
    fn a_missing_client_is_an_error_not_a_zero() {
        let report = json!({"sdk": {"cpu": [3.0], "pages": 2000}, "commands": {}});
        assert!(parse(&report).is_err());
        let report = json!({"sdk": {"cpu": [], "pages": 2000}, "commands": {}});
        assert!(parse(&report).is_err());
    }
}
