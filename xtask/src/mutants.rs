//! Mutation testing of the sans-IO core (`cargo xtask mutants`).
//!
//! cargo-mutants changes the code one small way at a time (an operator, a
//! comparison, a function's whole body replaced by a plain value) and runs
//! the tests of the crate it changed. A mutant the tests do not notice is
//! *missed*: a change of behaviour that would ship unseen. The scope (all of
//! `ecs-sign`; in `ecs-model` the paginator, the decoders, retry
//! classification and validation) and the few mutants no test can catch,
//! each with its reason, are in `.cargo/mutants.toml`; RELIABILITY.md has the
//! scores.
//!
//! A whole run takes about 45 minutes on two cores, so `cargo xtask ci` runs
//! one shard of it (see [`ci_shard`]): a missed mutant fails either.

use std::fmt;
use std::path::Path;
use std::process::Command;
use std::str::FromStr;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;

use crate::step::{Cmd, Steps};

/// The crates whose mutants are tested, each by its own tests only.
pub(crate) const PACKAGES: &[&str] = &["ecs-sign", "ecs-model"];

/// How many shards `cargo xtask ci` splits the mutants into; it runs one.
/// Of 798 mutants a shard holds 20: under 2 minutes on two cores once the
/// dependencies are built, up to a minute more when it holds mutants that
/// loop until the timeout (RELIABILITY.md has the measures).
pub(crate) const CI_SHARDS: u32 = 40;

/// Seconds one mutant's tests may run before it counts as a timeout. The
/// unmutated tests take under 10 s; a mutant that makes a decoder loop also
/// grows its output by about 80 MB a second, so the limit is not much
/// higher than the margin a loaded machine needs.
pub(crate) const TEST_TIMEOUT_SECS: u64 = 60;

/// The same for the CI sample, which must stay short: a mutant that makes
/// the code loop costs this much.
pub(crate) const CI_TEST_TIMEOUT_SECS: u64 = 30;

/// Seconds one mutant's build may take (an incremental build of one crate
/// and its test binaries).
pub(crate) const BUILD_TIMEOUT_SECS: u64 = 900;

/// One shard of the mutants: `index` of `count`, from 0, as cargo-mutants'
/// `--shard index/count` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shard {
    pub(crate) index: u32,
    pub(crate) count: u32,
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let usage = || format!("`{text}` is not a shard; write K/N with 0 <= K < N, such as 3/40");
        let (index, count) = text.split_once('/').ok_or_else(usage)?;
        let index: u32 = index.trim().parse().map_err(|_| usage())?;
        let count: u32 = count.trim().parse().map_err(|_| usage())?;
        if index >= count {
            return Err(usage());
        }
        Ok(Self { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The shard of `count` that a change identified by `commit` (hex, as `git
/// rev-parse HEAD` prints it) samples: its first 16 hex digits modulo
/// `count`. Commits are spread evenly over the shards, so over time every
/// mutant is tried, and the same commit always samples the same shard, so a
/// failure can be run again. `None` when `commit` does not start with hex.
pub(crate) fn shard_of_commit(commit: &str, count: u32) -> Option<Shard> {
    let digits: String = commit
        .trim()
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .take(16)
        .collect();
    if digits.is_empty() || count == 0 {
        return None;
    }
    let value = u64::from_str_radix(&digits, 16).ok()?;
    let index = u32::try_from(value % u64::from(count)).ok()?;
    Some(Shard { index, count })
}

/// The shard `cargo xtask ci` runs: chosen from the commit checked out (one
/// commit of history is enough), or from the day when there is no git
/// checkout (a source archive).
pub(crate) fn ci_shard(root: &Path) -> Shard {
    let commit = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(root)
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).into_owned());
    if let Some(shard) = commit.and_then(|c| shard_of_commit(&c, CI_SHARDS)) {
        return shard;
    }
    #[allow(clippy::disallowed_methods)] // Only picks a sample; any day will do.
    let now = std::time::SystemTime::now();
    let days = now
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs() / 86_400);
    Shard {
        index: u32::try_from(days % u64::from(CI_SHARDS)).unwrap_or(0),
        count: CI_SHARDS,
    }
}

/// A regex matching the names of the mutants in files matching `glob`
/// (cargo-mutants names a mutant `path:line:column: change`).
pub(crate) fn file_name_re(glob: &str) -> String {
    let mut re = String::from("^");
    let mut chars = glob.trim_start_matches("./").chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                re.push_str(".*");
            }
            '*' => re.push_str("[^/:]*"),
            '?' => re.push_str("[^/:]"),
            c if ".+()|[]{}^$\\".contains(c) => {
                re.push('\\');
                re.push(c);
            }
            c => re.push(c),
        }
    }
    re.push(':');
    re
}

/// What `cargo xtask mutants` runs.
#[derive(Debug, Clone, Default)]
pub(crate) struct MutantsRun {
    /// Only these crates (from [`PACKAGES`]); all of them when empty.
    pub(crate) packages: Vec<String>,
    /// Only mutants in files matching these globs (`*` within a directory,
    /// `**` across directories), inside the scope of `.cargo/mutants.toml`.
    pub(crate) files: Vec<String>,
    /// Only this shard.
    pub(crate) shard: Option<Shard>,
    /// Seconds a mutant's tests may take.
    pub(crate) timeout: u64,
}

/// The outcomes of one crate's mutants.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Tally {
    /// A test failed: the change was noticed.
    pub(crate) caught: u64,
    /// Every test passed: the change would ship unseen.
    pub(crate) missed: u64,
    /// The mutant does not compile (nothing to test).
    pub(crate) unviable: u64,
    /// The tests did not finish in time (a mutant that makes the code loop).
    pub(crate) timeout: u64,
}

impl Tally {
    /// Mutants that compiled.
    pub(crate) fn viable(&self) -> u64 {
        self.caught + self.missed + self.timeout
    }

    /// Caught (or hung) mutants out of the viable ones, in percent.
    pub(crate) fn score(&self) -> f64 {
        match self.viable() {
            0 => 100.0,
            viable => 100.0 * (self.caught + self.timeout) as f64 / viable as f64,
        }
    }
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} caught, {} missed, {} unviable, {} timeout: {:.1}% of {} viable caught",
            self.caught,
            self.missed,
            self.unviable,
            self.timeout,
            self.score(),
            self.viable()
        )
    }
}

/// What a run found: per crate, its tally; and the names of missed mutants.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Outcomes {
    pub(crate) tallies: Vec<(String, Tally)>,
    pub(crate) missed: Vec<String>,
}

/// Reads cargo-mutants' `outcomes.json`.
pub(crate) fn read_outcomes(json: &Value) -> Result<Outcomes> {
    let list = json
        .get("outcomes")
        .and_then(Value::as_array)
        .context("outcomes.json has no `outcomes` list")?;
    let mut outcomes = Outcomes::default();
    for outcome in list {
        let Some(mutant) = outcome.pointer("/scenario/Mutant") else {
            continue; // The unmutated baseline.
        };
        let package = mutant
            .get("package")
            .and_then(Value::as_str)
            .context("a mutant without a package in outcomes.json")?;
        let summary = outcome
            .get("summary")
            .and_then(Value::as_str)
            .context("an outcome without a summary in outcomes.json")?;
        let index = match outcomes.tallies.iter().position(|(p, _)| p == package) {
            Some(index) => index,
            None => {
                outcomes
                    .tallies
                    .push((package.to_owned(), Tally::default()));
                outcomes.tallies.len() - 1
            }
        };
        let tally = &mut outcomes.tallies[index].1;
        match summary {
            "CaughtMutant" => tally.caught += 1,
            "MissedMutant" => {
                tally.missed += 1;
                let name = mutant.get("name").and_then(Value::as_str).unwrap_or("?");
                outcomes.missed.push(name.to_owned());
            }
            "Unviable" => tally.unviable += 1,
            "Timeout" => tally.timeout += 1,
            other => bail!("outcomes.json: unknown outcome `{other}` of a mutant"),
        }
    }
    Ok(outcomes)
}

/// The arguments of `cargo mutants` for `run` over `packages`, writing its
/// report under `output`.
fn cargo_mutants_args(run: &MutantsRun, packages: &[&str], output: &Path) -> Vec<String> {
    let mut args: Vec<String> = vec!["mutants".into()];
    for package in packages {
        args.extend(["--package".into(), (*package).to_owned()]);
    }
    // cargo-mutants adds `--file` globs to those of the config file rather
    // than narrowing them; a regex on the mutants' names (which start with
    // their file) narrows.
    for file in &run.files {
        args.extend(["--re".into(), file_name_re(file)]);
    }
    if let Some(shard) = run.shard {
        // Every N-th mutant, a sample across every file of both crates.
        args.extend([
            "--shard".into(),
            shard.to_string(),
            "--sharding".into(),
            "round-robin".into(),
        ]);
    }
    args.extend([
        // One build at a time: the machines have two cores.
        "--jobs".into(),
        "1".into(),
        "--timeout".into(),
        run.timeout.to_string(),
        "--build-timeout".into(),
        BUILD_TIMEOUT_SECS.to_string(),
        "--output".into(),
        output.display().to_string(),
    ]);
    // cargo-mutants builds a copy of the workspace. In the workspace's own
    // target directory the dependencies `cargo test` built are reused, so a
    // sample does not start with a cold build of every dependency. But
    // cargo names a workspace crate's artifacts after its path *within* the
    // workspace: a mutated copy would overwrite the crate's own test
    // binaries, which cargo would then take as up to date. A profile setting
    // of the two crates alone (less debug info, which also links faster)
    // gives their builds other names; the dependencies keep theirs.
    for package in PACKAGES {
        args.push(format!(
            "--cargo-arg=--config=profile.dev.package.{package}.debug=1"
        ));
    }
    args
}

/// Runs cargo-mutants over `run`'s scope and fails when a mutant is missed.
pub(crate) fn run(steps: &mut Steps, run: &MutantsRun) -> Result<Outcomes> {
    for package in &run.packages {
        if !PACKAGES.contains(&package.as_str()) {
            bail!(
                "mutants: `{package}` is not in scope; the crates are: {}",
                PACKAGES.join(", ")
            );
        }
    }
    crate::ensure_cargo_tool(steps, "cargo-mutants", &["mutants", "--version"])?;
    let root = steps.root().to_path_buf();
    let dir = crate::target_dir(&root).join("mutants");
    let packages: Vec<&str> = if run.packages.is_empty() {
        PACKAGES.to_vec()
    } else {
        run.packages.iter().map(String::as_str).collect()
    };
    let args = cargo_mutants_args(run, &packages, &dir);
    let cmd = Cmd::cargo(args).env(
        "CARGO_TARGET_DIR",
        &crate::target_dir(&root).display().to_string(),
    );
    let name = match run.shard {
        Some(shard) => format!("mutants shard {shard}"),
        None => "mutants".to_owned(),
    };
    // cargo-mutants exits with 2 when it missed mutants and 3 on timeouts:
    // the outcomes below say which, per crate.
    steps.run_allowing(&name, cmd, &[2, 3])?;
    let path = dir.join("mutants.out/outcomes.json");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let json: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    let outcomes = read_outcomes(&json)?;
    println!("\nxtask mutants ({name}):");
    for (package, tally) in &outcomes.tallies {
        println!("  {package}: {tally}");
    }
    if !outcomes.missed.is_empty() {
        let again = match run.shard {
            Some(shard) => format!("cargo xtask mutants --shard {shard}"),
            None => "cargo xtask mutants".to_owned(),
        };
        return Err(anyhow!(
            "{} mutant(s) missed: no test noticed these changes:\n  {}\nAdd a test that \
             fails with the change (the diffs are in {}), or, for a change no test can \
             observe, list it with its reason in .cargo/mutants.toml and RELIABILITY.md. \
             Run it again with `{again}`.",
            outcomes.missed.len(),
            outcomes.missed.join("\n  "),
            dir.join("mutants.out/diff").display()
        ));
    }
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_globs_become_regexes_on_mutant_names() {
        assert_eq!(
            file_name_re("crates/ecs-model/src/retry.rs"),
            "^crates/ecs-model/src/retry\\.rs:"
        );
        assert_eq!(
            file_name_re("./crates/ecs-model/src/decode/*.rs"),
            "^crates/ecs-model/src/decode/[^/:]*\\.rs:"
        );
        assert_eq!(file_name_re("crates/ecs-sign/**"), "^crates/ecs-sign/.*:");
    }

    #[test]
    fn the_command_narrows_by_name_and_keeps_the_crates_own_builds_apart() {
        let run = MutantsRun {
            files: vec!["crates/ecs-model/src/retry.rs".into()],
            shard: Some(Shard { index: 2, count: 5 }),
            timeout: 30,
            ..MutantsRun::default()
        };
        let args = cargo_mutants_args(&run, &["ecs-model"], Path::new("/t/mutants"));
        let has = |pair: [&str; 2]| args.windows(2).any(|w| w == pair);
        assert!(has(["--package", "ecs-model"]), "{args:?}");
        assert!(!args.iter().any(|a| a == "ecs-sign"), "{args:?}");
        assert!(
            has(["--re", "^crates/ecs-model/src/retry\\.rs:"]),
            "{args:?}"
        );
        assert!(
            !args.iter().any(|a| a == "--file"),
            "--file widens: {args:?}"
        );
        assert!(has(["--shard", "2/5"]), "{args:?}");
        assert!(has(["--sharding", "round-robin"]), "{args:?}");
        assert!(has(["--jobs", "1"]), "{args:?}");
        assert!(has(["--timeout", "30"]), "{args:?}");
        assert!(has(["--output", "/t/mutants"]), "{args:?}");
        // Without a profile of their own, the mutated crates' builds would
        // replace the workspace's in the shared target directory.
        for package in PACKAGES {
            let config = format!("--cargo-arg=--config=profile.dev.package.{package}.debug=1");
            assert!(args.contains(&config), "{args:?}");
        }
    }

    #[test]
    fn shards_are_read_as_k_of_n() {
        let whole = cargo_mutants_args(&MutantsRun::default(), PACKAGES, Path::new("/t"));
        assert!(!whole.iter().any(|a| a.starts_with("--shard")), "{whole:?}");
        assert_eq!(
            "3/40".parse::<Shard>(),
            Ok(Shard {
                index: 3,
                count: 40
            })
        );
        for bad in ["40/40", "3", "a/4", "1/0", "-1/4", ""] {
            let err = bad.parse::<Shard>().unwrap_err();
            assert!(err.contains("write K/N"), "{bad}: {err}");
        }
        assert_eq!(Shard { index: 0, count: 7 }.to_string(), "0/7");
    }

    #[test]
    fn a_commit_picks_the_same_shard_every_time_and_commits_cover_them_all() {
        let head = "c704614e3f0a1b2c3d4e5f60718293a4b5c6d7e8\n";
        let shard = shard_of_commit(head, CI_SHARDS).unwrap();
        assert_eq!(shard, shard_of_commit(head, CI_SHARDS).unwrap());
        assert_eq!(
            shard.index,
            u32::try_from(0xc704_614e_3f0a_1b2c_u64 % 40).unwrap()
        );
        let mut seen = [false; 40];
        for n in 0u64..4_000 {
            // Hex strings spread like commit ids.
            let commit = format!("{:016x}", n.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            seen[shard_of_commit(&commit, 40).unwrap().index as usize] = true;
        }
        assert!(seen.iter().all(|&s| s), "some shard is never sampled");
        assert_eq!(shard_of_commit("not a commit", 40), None);
        assert_eq!(shard_of_commit("abc", 0), None);
    }

    #[test]
    fn outcomes_are_tallied_per_crate() {
        let json: Value = serde_json::from_str(
            r#"{"outcomes": [
                {"scenario": "Baseline", "summary": "Success"},
                {"scenario": {"Mutant": {"package": "ecs-sign", "name": "a.rs:1:1: x"}}, "summary": "CaughtMutant"},
                {"scenario": {"Mutant": {"package": "ecs-sign", "name": "a.rs:2:1: y"}}, "summary": "MissedMutant"},
                {"scenario": {"Mutant": {"package": "ecs-model", "name": "b.rs:1:1: z"}}, "summary": "Unviable"},
                {"scenario": {"Mutant": {"package": "ecs-model", "name": "b.rs:2:1: w"}}, "summary": "Timeout"},
                {"scenario": {"Mutant": {"package": "ecs-model", "name": "b.rs:3:1: v"}}, "summary": "CaughtMutant"}
            ]}"#,
        )
        .unwrap();
        let outcomes = read_outcomes(&json).unwrap();
        assert_eq!(
            outcomes.tallies,
            [
                (
                    "ecs-sign".to_owned(),
                    Tally {
                        caught: 1,
                        missed: 1,
                        unviable: 0,
                        timeout: 0
                    }
                ),
                (
                    "ecs-model".to_owned(),
                    Tally {
                        caught: 1,
                        missed: 0,
                        unviable: 1,
                        timeout: 1
                    }
                )
            ]
        );
        assert_eq!(outcomes.missed, ["a.rs:2:1: y"]);
        let sign = outcomes.tallies[0].1;
        assert_eq!(sign.viable(), 2);
        assert_eq!(
            sign.to_string(),
            "1 caught, 1 missed, 0 unviable, 0 timeout: 50.0% of 2 viable caught"
        );
        let odd: Value = serde_json::from_str(
            r#"{"outcomes": [{"scenario": {"Mutant": {"package": "p"}}, "summary": "Exploded"}]}"#,
        )
        .unwrap();
        assert!(read_outcomes(&odd).is_err());
    }

    #[test]
    fn the_scope_file_lists_the_sans_io_core() {
        let root = crate::workspace_root().unwrap();
        let config = std::fs::read_to_string(root.join(".cargo/mutants.toml")).unwrap();
        for glob in [
            "crates/ecs-sign/src/**/*.rs",
            "crates/ecs-model/src/paginate.rs",
            "crates/ecs-model/src/paginate/window.rs",
            "crates/ecs-model/src/retry.rs",
            "crates/ecs-model/src/request/validate.rs",
            "crates/ecs-model/src/validation.rs",
        ] {
            assert!(config.contains(&format!("\"{glob}\"")), "{glob}");
        }
        for glob in [
            "crates/ecs-model/src/decode.rs",
            "crates/ecs-model/src/decode/",
        ] {
            assert!(config.contains(glob), "{glob}");
        }
    }

    #[test]
    fn a_crate_out_of_scope_is_refused_and_the_scope_named() {
        let mut steps = Steps::new(&crate::workspace_root().unwrap());
        let run = MutantsRun {
            packages: vec!["ecs-cli".into()],
            timeout: 1,
            ..MutantsRun::default()
        };
        let err = super::run(&mut steps, &run).unwrap_err().to_string();
        assert!(err.contains("`ecs-cli` is not in scope"), "{err}");
        assert!(err.contains("ecs-sign, ecs-model"), "{err}");
    }
}
