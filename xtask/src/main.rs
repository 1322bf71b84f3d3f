//! `cargo xtask`: the project's task runner.
//!
//! Layer: tooling (not shipped). Every check the project has runs through one
//! of these verbs, and `cargo xtask ci` runs them all in the order in which a
//! failure is cheapest to find. Each verb prints the commands it runs and, on
//! failure, names the step that failed.

// A task runner talks to its user on the terminal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bench;
mod deps;
mod doclinks;
mod emulator;
mod fresh;
mod mdlinks;
mod modules;
mod mutants;
mod step;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

use crate::step::{Cmd, Steps};

/// The light crates: built and linted alone with `--no-default-features`.
const LIGHT_CRATES: &[&str] = &[
    "ecs-model",
    "ecs-sign",
    "ecs-transport",
    "ecs-credentials",
    "ecs-assist",
];

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "Run the project's checks", version)]
struct Cli {
    #[command(subcommand)]
    verb: Verb,
}

#[derive(Debug, Subcommand)]
enum Verb {
    /// Format every crate (with --check: fail if anything is not formatted).
    Fmt {
        /// Only check; change nothing.
        #[arg(long)]
        check: bool,
    },
    /// Clippy with warnings denied: all targets and features, then each light
    /// crate with --no-default-features.
    Lint,
    /// The layering check: light crates must not depend on runtime crates,
    /// and no crate's modules depend on each other in a cycle.
    Deps,
    /// Every test, doctests included, with all features.
    Test,
    /// Build the docs with warnings denied: the workspace's together, then
    /// each library crate's alone (as a user's `cargo doc` or a docs site
    /// builds them), with broken intra-doc links denied and the rendered
    /// pages scanned for link text that did not become a link.
    Doc,
    /// The library crates built and tested, warnings denied, against the
    /// newest dependencies their requirements allow (a fresh lockfile in a
    /// temporary copy of the workspace), as a library's users resolve them.
    /// Needs the registry. About 6 minutes on two shared cores (382 s, the
    /// dependencies partly compiled), most of it compiling; the compiled
    /// dependencies are kept in target/fresh-deps for the next run.
    FreshDeps,
    /// Package every publishable crate as crates.io would receive it and
    /// build each from its package alone.
    Package,
    /// cargo-deny: bans, licenses and sources (advisories on request).
    Deny {
        /// Also check the RustSec advisory database (needs network access to
        /// fetch it, which these machines do not have).
        #[arg(long)]
        advisories: bool,
    },
    /// Run every bench and write BENCHMARKS.md.
    Bench {
        /// Reuse the criterion results in target/criterion instead of
        /// running the criterion benches again.
        #[arg(long)]
        no_criterion: bool,
    },
    /// Run every cargo-fuzz target for a while (libFuzzer with
    /// AddressSanitizer; cargo-fuzz on the stable toolchain through
    /// RUSTC_BOOTSTRAP=1).
    Fuzz {
        /// Seconds per target.
        #[arg(long, default_value_t = 60)]
        time: u64,
        /// Executions per target instead of a time limit.
        #[arg(long, conflicts_with = "time")]
        runs: Option<u64>,
        /// Run only this target (a `[[bin]]` name in fuzz/Cargo.toml).
        #[arg(long)]
        target: Option<String>,
        /// Build without AddressSanitizer (coverage-guided only, about 2-3x
        /// the executions a second; the code under test has no `unsafe`).
        #[arg(long)]
        no_sanitizer: bool,
    },
    /// The official SDKs as the judge: the official Python SDKs against the
    /// emulator (the OSS SDK reading delivered outputs too), then the differential suites (signatures, endpoints,
    /// responses, retries) on generated inputs.
    Interop {
        /// Seed of the differential suites' inputs (printed by every run;
        /// a new one each run by default).
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Mutation testing of the sans-IO core (cargo-mutants): every viable
    /// mutant of ecs-sign and of ecs-model's paginator, decoders, retry
    /// classification and validation must be caught by its crate's own tests
    /// (scope and the uncatchable ones in .cargo/mutants.toml). About 45
    /// minutes on two cores; narrow it with --package, --file or --shard.
    Mutants {
        /// Only this crate (ecs-sign or ecs-model); repeatable.
        #[arg(long = "package", short = 'p')]
        packages: Vec<String>,
        /// Only mutants in files matching this glob (as cargo-mutants'
        /// --file), such as crates/ecs-model/src/retry.rs; repeatable.
        #[arg(long = "file", short = 'f')]
        files: Vec<String>,
        /// Only shard K of N (K/N, K from 0), as `cargo xtask ci` runs one.
        #[arg(long)]
        shard: Option<mutants::Shard>,
        /// Seconds a mutant's tests may run before it counts as a timeout.
        #[arg(long, default_value_t = mutants::TEST_TIMEOUT_SECS)]
        timeout: u64,
    },
    /// The main job for a new user: the CLI against the bundled emulator.
    Demo,
    /// Every check, in the order a failure is cheapest to find.
    Ci,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.verb) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(verb: Verb) -> Result<()> {
    let root = workspace_root()?;
    let mut steps = Steps::new(&root);
    match verb {
        Verb::Fmt { check } => fmt(&mut steps, check),
        Verb::Lint => lint(&mut steps),
        Verb::Deps => deps_step(&mut steps),
        Verb::Test => test(&mut steps),
        Verb::Doc => doc(&mut steps),
        Verb::FreshDeps => fresh::run(&mut steps, LIGHT_CRATES),
        Verb::Package => package(&mut steps),
        Verb::Deny { advisories } => deny(&mut steps, advisories),
        Verb::Bench { no_criterion } => bench(&mut steps, !no_criterion),
        Verb::Fuzz {
            time,
            runs,
            target,
            no_sanitizer,
        } => fuzz(
            &mut steps,
            &FuzzRun {
                seconds: time,
                runs,
                target,
                sanitizer: !no_sanitizer,
            },
        ),
        Verb::Interop { seed } => interop(&mut steps, seed),
        Verb::Mutants {
            packages,
            files,
            shard,
            timeout,
        } => mutants::run(
            &mut steps,
            &mutants::MutantsRun {
                packages,
                files,
                shard,
                timeout,
            },
        )
        .map(drop),
        Verb::Demo => demo(&mut steps),
        Verb::Ci => ci(&mut steps),
    }?;
    steps.summary();
    Ok(())
}

/// Where cargo puts its output: `CARGO_TARGET_DIR` when set, else
/// `<root>/target`.
pub(crate) fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map_or_else(|| root.join("target"), |dir| root.join(dir))
}

/// The workspace root: the parent of this crate's manifest directory.
fn workspace_root() -> Result<PathBuf> {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(Path::to_path_buf)
        .context("xtask's manifest directory has no parent")
}

fn fmt(steps: &mut Steps, check: bool) -> Result<()> {
    let mut cmd = Cmd::cargo(["fmt", "--all"]);
    if check {
        cmd = cmd.args(["--", "--check"]);
    }
    steps.run("fmt", cmd)
}

fn lint(steps: &mut Steps) -> Result<()> {
    steps.run(
        "lint",
        Cmd::cargo([
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    for krate in LIGHT_CRATES {
        steps.run(
            &format!("lint {krate} --no-default-features"),
            Cmd::cargo([
                "clippy",
                "--package",
                krate,
                "--lib",
                "--no-default-features",
                "--",
                "-D",
                "warnings",
            ]),
        )?;
    }
    Ok(())
}

fn deps_step(steps: &mut Steps) -> Result<()> {
    let root = steps.root().to_path_buf();
    steps.check("deps", || deps::check_workspace(&root.join("Cargo.toml")))?;
    steps.check("deps modules", || modules::check_workspace(&root))
}

fn test(steps: &mut Steps) -> Result<()> {
    steps.run(
        "test",
        Cmd::cargo(["test", "--workspace", "--all-features", "--no-fail-fast"]),
    )?;
    examples(steps)
}

/// Runs the three examples a library user starts from, each of which checks
/// its answers and exits non-zero on a wrong one: the async client and the
/// blocking client (each with its own emulator), and the call on
/// `ecs-model` + `ecs-sign` + a `ureq` transport against the emulator binary.
fn examples(steps: &mut Steps) -> Result<()> {
    for example in ["quickstart", "blocking"] {
        steps.run(
            &format!("example {example} (ecs-assist)"),
            Cmd::cargo([
                "run",
                "--quiet",
                "--package",
                "ecs-assist",
                "--example",
                example,
            ]),
        )?;
    }
    steps.run(
        "example ureq_transport build",
        Cmd::cargo([
            "build",
            "--quiet",
            "--package",
            "ecs-emulator",
            "--bin",
            "ecs-emulator",
            "--package",
            "ecs-transport",
            "--example",
            "ureq_transport",
        ]),
    )?;
    let root = steps.root().to_path_buf();
    let emulator = emulator::Emulator::start(&root, &[])?;
    steps.run(
        "example ureq_transport (ecs-model + ecs-sign + ecs-transport)",
        Cmd::new(target_dir(&root).join("debug/examples/ureq_transport"))
            .args([format!("http://{}", emulator.host_port())]),
    )
}

fn doc(steps: &mut Steps) -> Result<()> {
    let root = steps.root().to_path_buf();
    steps.check("markdown links", || mdlinks::check_repository(&root))?;
    steps.run(
        "doc",
        Cmd::cargo(["doc", "--workspace", "--no-deps", "--all-features"])
            .env("RUSTDOCFLAGS", "-D warnings"),
    )?;
    doclinks::run(steps, doclinks::LIBRARY_CRATES)
}

/// The crates that are never published (`publish = false`).
const UNPUBLISHED: &[&str] = &["ecs-tests", "xtask"];

/// `cargo package` of every publishable crate, verified: each is built from
/// its `.crate` file alone, with the workspace crates it depends on taken
/// from their own packages, so a file outside a crate's folder, a path
/// dependency without a version or a missing manifest field fails here
/// rather than at publication. A dirty tree is allowed: what is checked is
/// what would be packaged.
fn package(steps: &mut Steps) -> Result<()> {
    let crates = forget_packaged_sources(steps.root())?;
    // What the last verification compiled from the registry copies sits in
    // the target directory under the same version: `cargo clean -p` removes
    // every build of a package, whatever its source.
    let mut clean = vec!["clean".to_owned()];
    for krate in &crates {
        clean.extend(["--package".to_owned(), krate.clone()]);
    }
    steps.run("package: forget the last verification", Cmd::cargo(clean))?;
    let mut args = vec!["package", "--workspace", "--allow-dirty"];
    for krate in UNPUBLISHED {
        args.extend(["--exclude", krate]);
    }
    steps.run("package", Cmd::cargo(args))
}

/// `cargo package --workspace` builds each crate against the others
/// through a local registry, and cargo treats a registry crate of a given
/// version as never changing: it unpacks it into
/// `$CARGO_HOME/registry/src/-<hash>/<name>-<version>` once and keeps what
/// it compiled from it in `target/package`. A later run then builds against
/// the old code of a crate that changed without a new version, and a
/// correct tree fails to verify. Those unpacked copies of this workspace's
/// crates (local registries are the directories whose name starts with
/// `-`) and `target/package` are removed first; nothing else is touched.
fn forget_packaged_sources(root: &Path) -> Result<Vec<String>> {
    let packaged = crate::target_dir(root).join("package");
    if packaged.exists() {
        std::fs::remove_dir_all(&packaged)
            .with_context(|| format!("cannot remove {}", packaged.display()))?;
    }
    let crates = std::fs::read_dir(root.join("crates"))
        .with_context(|| format!("cannot list {}", root.join("crates").display()))?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .collect::<Vec<_>>();
    let Some(home) = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
    else {
        return Ok(crates);
    };
    let Ok(registries) = std::fs::read_dir(home.join("registry/src")) else {
        return Ok(crates);
    };
    for registry in registries.filter_map(Result::ok) {
        if !registry.file_name().to_string_lossy().starts_with('-') {
            continue;
        }
        let Ok(unpacked) = std::fs::read_dir(registry.path()) else {
            continue;
        };
        for entry in unpacked.filter_map(Result::ok) {
            let name = entry.file_name().to_string_lossy().into_owned();
            let ours = crates.iter().any(|krate| {
                name.strip_prefix(krate.as_str())
                    .and_then(|rest| rest.strip_prefix('-'))
                    .is_some_and(|version| version.starts_with(|c: char| c.is_ascii_digit()))
            });
            if ours {
                std::fs::remove_dir_all(entry.path())
                    .with_context(|| format!("cannot remove {}", entry.path().display()))?;
            }
        }
    }
    Ok(crates)
}

fn deny(steps: &mut Steps, advisories: bool) -> Result<()> {
    ensure_cargo_tool(steps, "cargo-deny", &["deny", "--version"])?;
    let mut checks = vec!["bans", "licenses", "sources"];
    if advisories {
        checks.push("advisories");
    } else {
        println!(
            "xtask deny: the advisories check is skipped: the RustSec database cannot be \
             fetched on these machines; run `cargo xtask deny --advisories` where it can"
        );
    }
    let mut args = vec!["deny", "--all-features", "check"];
    args.extend(checks);
    steps.run("deny", Cmd::cargo(args))
}

/// Installs a cargo subcommand with `cargo install --locked` when it is not
/// there yet.
fn ensure_cargo_tool(steps: &mut Steps, krate: &str, probe: &[&str]) -> Result<()> {
    if Cmd::cargo(probe.iter().copied())
        .quiet()
        .succeeds(steps.root())
    {
        return Ok(());
    }
    println!("xtask: {krate} is missing; installing it");
    steps.run(
        &format!("install {krate}"),
        Cmd::cargo(["install", "--locked", krate]),
    )
}

fn bench(steps: &mut Steps, criterion: bool) -> Result<()> {
    // The official SDK is the peer figure; without python3 the rest still runs.
    let python = match interop_venv(steps) {
        Ok(python) => Some(python),
        Err(err) => {
            println!("xtask bench: the official SDK figure is skipped: {err:#}");
            None
        }
    };
    bench::run(steps, python, criterion)
}

/// What `cargo xtask fuzz` runs.
struct FuzzRun {
    seconds: u64,
    runs: Option<u64>,
    /// Only this target; every target when `None`.
    target: Option<String>,
    /// AddressSanitizer on (cargo-fuzz's default).
    sanitizer: bool,
}

fn fuzz(steps: &mut Steps, run: &FuzzRun) -> Result<()> {
    let fuzz_dir = steps.root().join("fuzz");
    let mut targets = fuzz_targets(&fuzz_dir.join("Cargo.toml"))?;
    if targets.is_empty() {
        bail!("fuzz: no targets are declared in fuzz/Cargo.toml");
    }
    if let Some(only) = &run.target {
        if !targets.contains(only) {
            bail!(
                "fuzz: no target `{only}` in fuzz/Cargo.toml; the targets are: {}",
                targets.join(", ")
            );
        }
        targets = vec![only.clone()];
    }
    ensure_cargo_tool(steps, "cargo-fuzz", &["fuzz", "--version"])?;
    let limit = match run.runs {
        Some(runs) => format!("-runs={runs}"),
        None => format!("-max_total_time={}", run.seconds),
    };
    // Without a sanitizer the build differs, so it gets its own directory
    // rather than rebuilding the sanitized one each time.
    let sanitizer: &[&str] = if run.sanitizer {
        &[]
    } else {
        &["--sanitizer", "none", "--target-dir", "target-nosan"]
    };
    for target in &targets {
        // The corpus grows in fuzz/corpus (ignored by git); a crash stops
        // the step and leaves its input in fuzz/artifacts.
        let mut args = vec!["fuzz", "run"];
        args.extend_from_slice(sanitizer);
        args.extend([target.as_str(), "--", limit.as_str()]);
        steps.run(
            &format!("fuzz {target}"),
            Cmd::cargo(args).env("RUSTC_BOOTSTRAP", "1").dir(&fuzz_dir),
        )?;
    }
    println!(
        "\nxtask fuzz: {} targets ran ({limit}{}) without a crash: {}",
        targets.len(),
        if run.sanitizer {
            ", AddressSanitizer"
        } else {
            ", no sanitizer"
        },
        targets.join(", ")
    );
    Ok(())
}

/// The `[[bin]]` names in the fuzz crate's manifest.
fn fuzz_targets(manifest: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(manifest)
        .with_context(|| format!("cannot read {}", manifest.display()))?;
    let mut targets = Vec::new();
    let mut in_bin = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_bin = line == "[[bin]]";
        } else if in_bin && let Some(name) = line.strip_prefix("name = ") {
            targets.push(name.trim_matches('"').to_owned());
        }
    }
    Ok(targets)
}

/// The virtual environment with the official SDKs at the spec's versions;
/// returns its python.
fn interop_venv(steps: &mut Steps) -> Result<PathBuf> {
    let root = steps.root().to_path_buf();
    let venv = target_dir(&root).join("interop-venv");
    let python = venv.join("bin/python");
    let requirements = root.join("xtask/interop/requirements.txt");
    let stamp = venv.join("requirements.installed");
    let wanted = std::fs::read_to_string(&requirements)
        .with_context(|| format!("cannot read {}", requirements.display()))?;
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        steps.run(
            "interop venv",
            Cmd::new("python3")
                .args(["-m", "venv"])
                .args([venv.as_os_str()]),
        )?;
        steps.run(
            "interop install SDKs",
            Cmd::new(&python)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "-r",
                ])
                .args([requirements.as_os_str()]),
        )?;
        std::fs::write(&stamp, &wanted).context("cannot record the installed SDK versions")?;
    }
    Ok(python)
}

/// The official Node SDK at the versions pinned in
/// `xtask/interop/node/package.json`, installed with npm into
/// `target/interop-node`; returns that directory.
fn interop_node(steps: &mut Steps) -> Result<PathBuf> {
    let root = steps.root().to_path_buf();
    let dir = target_dir(&root).join("interop-node");
    let manifest = root.join("xtask/interop/node/package.json");
    let wanted = std::fs::read_to_string(&manifest)
        .with_context(|| format!("cannot read {}", manifest.display()))?;
    let stamp = dir.join("package.installed");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        return Ok(dir);
    }
    if !Cmd::new("node").args(["--version"]).quiet().succeeds(&root) {
        bail!(
            "interop needs Node.js (node and npm) for the official Node SDK; \
             install it (Debian: apt-get install nodejs npm) and run again"
        );
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::write(dir.join("package.json"), &wanted)
        .context("cannot copy the Node SDK manifest")?;
    steps.run(
        "interop install Node SDK",
        Cmd::new("npm")
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                "--prefix",
            ])
            .args([dir.as_os_str()]),
    )?;
    std::fs::write(&stamp, &wanted).context("cannot record the installed Node SDK versions")?;
    Ok(dir)
}

fn interop(steps: &mut Steps, seed: Option<u64>) -> Result<()> {
    let root = steps.root().to_path_buf();
    let python = interop_venv(steps)?;
    let node = interop_node(steps)?;
    steps.run(
        "interop build emulator and oracle",
        Cmd::cargo([
            "build",
            "--quiet",
            "--package",
            "ecs-emulator",
            "--bin",
            "ecs-emulator",
            "--package",
            "ecs-tests",
            "--bin",
            "interop-oracle",
        ]),
    )?;
    let data = root.join("crates/ecs-emulator/data/demo.json");
    let emulator = emulator::Emulator::start(&root, &[OsStr::new("--data"), data.as_os_str()])?;
    let endpoint = emulator.host_port().to_owned();
    steps.run(
        "interop",
        Cmd::new(&python)
            .args([root.join("xtask/interop/interop.py").as_os_str()])
            .args([OsStr::new(&endpoint), data.as_os_str()])
            .args(["EmulatorAccessKeyId", "EmulatorAccessKeySecret"]),
    )?;
    drop(emulator);
    // The official OSS SDK reads the outputs that generated invocations
    // delivered to the emulator's OSS; then, with the object overwritten
    // after the first OSS answer, its file reader refuses to mix versions,
    // as our full output does.
    let oss_runs: [(&str, &[&str], &[&str]); 2] = [
        ("interop oss", &[], &[]),
        (
            "interop oss changed",
            &["--fault", "replace:x1:on=oss"],
            &["--changed"],
        ),
    ];
    for (step, emulator_args, script_args) in oss_runs {
        let mut args = vec![OsStr::new("--generate"), OsStr::new("2000")];
        args.extend(emulator_args.iter().map(OsStr::new));
        let emulator = emulator::Emulator::start(&root, &args)?;
        let endpoint = emulator.host_port().to_owned();
        steps.run(
            step,
            Cmd::new(&python)
                .args([root.join("xtask/interop/oss_interop.py").as_os_str()])
                .args([OsStr::new(&endpoint)])
                .args(["EmulatorAccessKeyId", "EmulatorAccessKeySecret"])
                .args(script_args.iter().copied()),
        )?;
        drop(emulator);
    }
    let oracle = target_dir(&root).join("debug/interop-oracle");
    let mut differential = Cmd::new(&python)
        .args([root.join("xtask/interop/differential.py").as_os_str()])
        .args([oracle.as_os_str()])
        .args(["--self-test", "--node"])
        .args([node.as_os_str()]);
    if let Some(seed) = seed {
        differential = differential.args(["--seed".to_owned(), seed.to_string()]);
    }
    steps.run("interop differential suites", differential)
}

/// The main job for a new user: the CLI against the bundled emulator.
fn demo(steps: &mut Steps) -> Result<()> {
    let root = steps.root().to_path_buf();
    steps.run(
        "demo build",
        Cmd::cargo([
            "build",
            "--quiet",
            "--package",
            "ecs-emulator",
            "--package",
            "ecs-cli",
        ]),
    )?;
    let emulator = emulator::Emulator::start(&root, &[])?;
    let endpoint = format!("http://{}", emulator.host_port());
    let cli = target_dir(&root).join("debug/ecs-assist");
    let run = |args: &[&str]| {
        Cmd::new(&cli)
            .args(["--endpoint", endpoint.as_str(), "--region", "cn-hangzhou"])
            .args(args.iter().copied())
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "EmulatorAccessKeyId")
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "EmulatorAccessKeySecret")
            .env("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "true")
            .env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
    };
    println!(
        "\nThe emulator serves its demo data on {endpoint} and accepts the demo key \
         EmulatorAccessKeyId / EmulatorAccessKeySecret."
    );
    steps.run(
        "demo: every result, as a table",
        run(&["--output", "table", "results"]),
    )?;
    steps.run(
        "demo: what one invocation printed",
        run(&[
            "--output",
            "raw",
            "results",
            "--invoke-id",
            "t-hz0jdfwd9f1234",
        ]),
    )?;
    steps.run(
        "demo: failed results as NDJSON",
        run(&["--output", "ndjson", "results", "--status", "Failed"]),
    )?;
    steps.run(
        "demo: follow a deployment still running, each instance as it finishes \
         (polls 500ms to 1s apart, re-listing when that takes fewer requests)",
        run(&[
            "--output",
            "table",
            "wait",
            "--invoke-id",
            "t-hz0jdfwe1uy5678",
            "--follow",
            "--interval",
            "500ms",
            "--max-interval",
            "1s",
            "--fewer-requests",
            "--timeout",
            "60s",
        ]),
    )?;
    steps.run(
        "demo: wait for the same deployment, every result at the end",
        run(&[
            "--output",
            "table",
            "wait",
            "--invoke-id",
            "t-hz0jdfwe1uy5678",
            "--interval",
            "1s",
            "--timeout",
            "60s",
        ]),
    )?;
    steps.run(
        "demo: the signed request, secrets masked, nothing sent",
        run(&["--dry-run", "results", "--invoke-id", "t-hz0jdfwd9f1234"]),
    )?;
    demo_ram_role(steps, &cli, &endpoint)?;
    drop(emulator);
    demo_full_output(steps, &root, &cli)?;
    println!(
        "\nTry it yourself: target/debug/ecs-emulator, then target/debug/ecs-assist \
         --endpoint http://127.0.0.1:8080 --region cn-hangzhou results \
         (with the demo key in ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET)."
    );
    Ok(())
}

/// The demo's `--full-output` step: an emulator whose generated
/// invocations deliver their outputs to its OSS, one output cut at 24 KB
/// read whole, then saved to a file with a manifest line.
fn demo_full_output(steps: &mut Steps, root: &Path, cli: &Path) -> Result<()> {
    let emulator = emulator::Emulator::start(root, &[OsStr::new("--generate"), OsStr::new("600")])?;
    let endpoint = format!("http://{}", emulator.host_port());
    let saved = target_dir(root).join("demo-outputs");
    println!(
        "\nAn emulator on {endpoint} whose invocation t-gen00000000005 delivered its outputs to \
         OSS (OssOutputDelivery): the listing cuts i-gen000000000000185's at 24 KB, \
         --full-output reads all of it from OSS."
    );
    let run = |args: &[&OsStr]| {
        Cmd::new(cli)
            .args([
                "--endpoint",
                endpoint.as_str(),
                "--oss-endpoint",
                endpoint.as_str(),
            ])
            .args(["--region", "cn-hangzhou"])
            .args(["results", "--invoke-id", "t-gen00000000005"])
            .args(["--instance-id", "i-gen000000000000185", "--full-output"])
            .args(args.iter().copied())
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "EmulatorAccessKeyId")
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "EmulatorAccessKeySecret")
            .env("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "true")
            .env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
    };
    steps.run(
        "demo: a truncated output fetched whole from OSS (--full-output)",
        run(&[OsStr::new("--output"), OsStr::new("table")]),
    )?;
    steps.run(
        "demo: the complete output saved to a file (--save-outputs)",
        run(&[
            OsStr::new("--save-outputs"),
            saved.as_os_str(),
            OsStr::new("--overwrite"),
        ]),
    )?;
    drop(emulator);
    Ok(())
}

/// The demo's credentials step: an aliyun CLI `RamRoleArn` profile in a
/// temporary HOME, its role assumed through the emulator's STS, offline.
fn demo_ram_role(steps: &mut Steps, cli: &Path, endpoint: &str) -> Result<()> {
    let home = std::env::temp_dir().join(format!("ecs-assist-demo-home-{}", std::process::id()));
    let config = home.join(".aliyun/config.json");
    std::fs::create_dir_all(home.join(".aliyun"))
        .with_context(|| format!("cannot create {}", home.display()))?;
    std::fs::write(
        &config,
        r#"{"current": "demo", "profiles": [{"name": "demo", "mode": "RamRoleArn",
  "access_key_id": "EmulatorAccessKeyId", "access_key_secret": "EmulatorAccessKeySecret",
  "ram_role_arn": "acs:ram::1234567890:role/demo", "ram_session_name": "demo"}]}"#,
    )
    .with_context(|| format!("cannot write {}", config.display()))?;
    println!(
        "\nA RamRoleArn profile in {} (HOME); ECS_ASSIST_STS_ENDPOINT sends its AssumeRole \
         to the emulator, whose STS keys then sign the request.",
        config.display()
    );
    let home_text = home.to_string_lossy().into_owned();
    let mut cmd = Cmd::new(cli)
        .args(["--endpoint", endpoint, "--region", "cn-hangzhou"])
        .args([
            "--output",
            "table",
            "results",
            "--invoke-id",
            "t-hz0jdfwd9f1234",
        ])
        .env("HOME", &home_text)
        .env("ECS_ASSIST_STS_ENDPOINT", endpoint)
        .env("ALIBABA_CLOUD_PROFILE", "demo")
        .env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true");
    // Sources ahead of the CLI profile are emptied (empty counts as unset).
    for var in [
        "ALIBABA_CLOUD_ACCESS_KEY_ID",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        "ALIBABA_CLOUD_SECURITY_TOKEN",
        "ALIBABA_CLOUD_ROLE_ARN",
        "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
        "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
        "ALIBABA_CLOUD_CLI_PROFILE_DISABLED",
    ] {
        cmd = cmd.env(var, "");
    }
    let ran = steps.run("demo: a RamRoleArn profile, its role assumed offline", cmd);
    let _ = std::fs::remove_dir_all(&home);
    ran
}

fn ci(steps: &mut Steps) -> Result<()> {
    fmt(steps, true)?;
    lint(steps)?;
    deps_step(steps)?;
    test(steps)?;
    doc(steps)?;
    fresh::run(steps, LIGHT_CRATES)?;
    package(steps)?;
    deny(steps, false)?;
    interop(steps, None)?;
    // A sample of the mutants, so that the tests' strength cannot silently
    // fall; whole runs are `cargo xtask mutants`.
    let shard = mutants::ci_shard(steps.root());
    println!(
        "\nxtask ci: mutants shard {shard}, chosen from the commit id (from the day without \
         git); commits spread over all {} shards",
        mutants::CI_SHARDS
    );
    mutants::run(
        steps,
        &mutants::MutantsRun {
            shard: Some(shard),
            timeout: mutants::CI_TEST_TIMEOUT_SECS,
            ..mutants::MutantsRun::default()
        },
    )?;
    // A smoke of every fuzz target; long runs are `cargo xtask fuzz`.
    fuzz(
        steps,
        &FuzzRun {
            seconds: 10,
            runs: None,
            target: None,
            sanitizer: true,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuzz_targets_are_read_from_the_manifest() {
        let targets = fuzz_targets(&workspace_root().unwrap().join("fuzz/Cargo.toml")).unwrap();
        for expected in ["sign_verify_v1", "model_decode_json", "model_decode_error"] {
            assert!(targets.iter().any(|t| t == expected), "{targets:?}");
        }
    }

    #[test]
    fn fuzz_refuses_an_unknown_target_and_names_the_known_ones() {
        let mut steps = Steps::new(&workspace_root().unwrap());
        let run = FuzzRun {
            seconds: 1,
            runs: None,
            target: Some("nope".into()),
            sanitizer: false,
        };
        let err = fuzz(&mut steps, &run).unwrap_err().to_string();
        assert!(err.contains("no target `nope`"), "{err}");
        assert!(err.contains("model_decode_json"), "{err}");
    }
}
