//! The fresh-dependencies step: the library crates built and tested, with
//! warnings denied, against the newest dependency versions their
//! requirements allow, as a project that adds them today resolves them.
//!
//! The workspace's `Cargo.lock` pins what the other steps build; a library's
//! users never see it. So this step copies the workspace (without
//! `Cargo.lock`, `target`, `.git` and the separate `fuzz` crate) into a
//! temporary directory, resolves a new lockfile there with
//! `cargo generate-lockfile` (the registry must be reachable), and runs the
//! library crates' tests in it. A dependency's new deprecation or a changed
//! API fails here before a user reports it. The compiled dependencies are
//! kept in `target/fresh-deps`, so a second run only rebuilds the workspace
//! crates (and whatever was released since).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::step::{Cmd, Steps};

/// Entries of the workspace that the copy leaves out: the lockfile (the point
/// of the step), build output, git's data, and the fuzz crate (outside the
/// workspace, with its own lockfile and target).
const LEFT_OUT: &[&str] = &["Cargo.lock", "target", ".git", "fuzz"];

/// Copies the workspace, resolves fresh dependencies and tests `crates`.
pub(crate) fn run(steps: &mut Steps, crates: &[&str]) -> Result<()> {
    let root = steps.root().to_path_buf();
    let copy = std::env::temp_dir().join(format!("ecs-assist-fresh-deps-{}", std::process::id()));
    let result = copy_and_test(steps, &root, &copy, crates);
    // The copy is small and rebuilt each run; the compiled dependencies stay.
    let _ = std::fs::remove_dir_all(&copy);
    result
}

fn copy_and_test(steps: &mut Steps, root: &Path, copy: &Path, crates: &[&str]) -> Result<()> {
    if copy.exists() {
        std::fs::remove_dir_all(copy)
            .with_context(|| format!("cannot empty {}", copy.display()))?;
    }
    copy_tree(root, copy, true)?;
    println!(
        "\nxtask fresh-deps: the workspace copied to {} without Cargo.lock",
        copy.display()
    );
    steps.run(
        "fresh-deps resolve",
        Cmd::cargo(["generate-lockfile"]).dir(copy),
    )?;
    let target: PathBuf = crate::target_dir(root).join("fresh-deps");
    let target_text = target.to_string_lossy().into_owned();
    let mut args = vec!["test", "--no-fail-fast"];
    for krate in crates {
        args.extend(["--package", krate]);
    }
    steps.run(
        "fresh-deps test",
        Cmd::cargo(args)
            .dir(copy)
            .env("CARGO_TARGET_DIR", &target_text)
            .env("RUSTFLAGS", "-D warnings")
            .env("RUSTDOCFLAGS", "-D warnings"),
    )
}

/// Copies `from` into `to` (created), leaving out [`LEFT_OUT`] at the top
/// level and any `target` directory below it.
fn copy_tree(from: &Path, to: &Path, top: bool) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    let entries =
        std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read {}", from.display()))?;
        let name = entry.file_name();
        let name_text = name.to_string_lossy();
        if (top && LEFT_OUT.contains(&name_text.as_ref())) || name_text == "target" {
            continue;
        }
        let kind = entry
            .file_type()
            .with_context(|| format!("cannot stat {}", entry.path().display()))?;
        let dest = to.join(&name);
        if kind.is_dir() {
            copy_tree(&entry.path(), &dest, false)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &dest).with_context(|| {
                format!(
                    "cannot copy {} to {}",
                    entry.path().display(),
                    dest.display()
                )
            })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copy_leaves_out_the_lockfile_and_build_output() {
        let base = std::env::temp_dir().join(format!("xtask-fresh-copy-{}", std::process::id()));
        let from = base.join("from");
        let to = base.join("to");
        for dir in [
            "crates/a/src",
            "crates/a/target/debug",
            "target/debug",
            ".git",
            "fuzz",
        ] {
            std::fs::create_dir_all(from.join(dir)).unwrap();
        }
        for file in [
            "Cargo.toml",
            "Cargo.lock",
            "crates/a/src/lib.rs",
            "crates/a/target/debug/x",
            "target/debug/y",
            ".git/HEAD",
            "fuzz/Cargo.toml",
        ] {
            std::fs::write(from.join(file), file).unwrap();
        }
        copy_tree(&from, &to, true).unwrap();
        assert_eq!(
            std::fs::read_to_string(to.join("crates/a/src/lib.rs")).unwrap(),
            "crates/a/src/lib.rs"
        );
        assert!(to.join("Cargo.toml").is_file());
        for gone in ["Cargo.lock", "target", "crates/a/target", ".git", "fuzz"] {
            assert!(!to.join(gone).exists(), "{gone} was copied");
        }
        std::fs::remove_dir_all(&base).unwrap();
    }
}
