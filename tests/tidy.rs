//! Tidy checks on the repository itself: the conventions of docs/design.md#style that a
//! compiler does not enforce, and the promise that README's commands are the
//! ones CI runs.

use std::fs;
use std::path::{Path, PathBuf};

use ecs_tests::workspace_root;

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()))
}

/// The `members = [...]` of the root manifest.
fn members() -> Vec<String> {
    let manifest = read(&workspace_root().join("Cargo.toml"));
    let start = manifest
        .find("members = [")
        .expect("root Cargo.toml has a members list");
    let rest = &manifest[start + "members = [".len()..];
    let end = rest.find(']').expect("members list is closed");
    rest[..end]
        .split(',')
        .map(|m| m.trim().trim_matches('"').to_owned())
        .filter(|m| !m.is_empty())
        .collect()
}

/// The source files that carry a crate's docs: `src/lib.rs`, `src/main.rs`,
/// or the `path =` of its `[lib]` and `[[bin]]`/`[[test]]` targets.
fn crate_roots(member: &Path) -> Vec<PathBuf> {
    let manifest = read(&member.join("Cargo.toml"));
    let mut roots: Vec<PathBuf> = manifest
        .lines()
        .filter_map(|line| line.trim().strip_prefix("path = "))
        .map(|p| member.join(p.trim_matches('"')))
        .collect();
    for default in ["src/lib.rs", "src/main.rs"] {
        let path = member.join(default);
        if path.exists() && !roots.contains(&path) {
            roots.push(path);
        }
    }
    roots
}

#[test]
fn the_workspace_has_every_crate_of_the_design() {
    let members = members();
    for expected in [
        "crates/ecs-model",
        "crates/ecs-sign",
        "crates/ecs-transport",
        "crates/ecs-credentials",
        "crates/ecs-assist",
        "crates/ecs-cli",
        "crates/ecs-emulator",
        "tests",
        "xtask",
    ] {
        assert!(
            members.iter().any(|m| m == expected),
            "{expected} is missing from the workspace members {members:?}"
        );
    }
}

#[test]
fn every_crate_uses_the_workspace_lints() {
    for member in members() {
        let manifest = read(&workspace_root().join(&member).join("Cargo.toml"));
        assert!(
            manifest.contains("[lints]\nworkspace = true"),
            "{member}/Cargo.toml must have `[lints]\\nworkspace = true`"
        );
    }
}

#[test]
fn every_crate_root_opens_with_crate_docs() {
    for member in members() {
        let roots = crate_roots(&workspace_root().join(&member));
        assert!(!roots.is_empty(), "{member} has no crate root");
        for root in roots {
            let text = read(&root);
            assert!(
                text.trim_start().starts_with("//!"),
                "{} must open with `//!` crate docs saying its role and layer",
                root.display()
            );
        }
    }
}

/// The commands README gives a new user: lines of its fenced code blocks
/// that start with `cargo xtask`.
fn readme_commands() -> Vec<String> {
    let readme = read(&workspace_root().join("README.md"));
    let mut in_block = false;
    let mut commands = Vec::new();
    for line in readme.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
        } else if in_block && line.trim().starts_with("cargo xtask ") {
            commands.push(line.trim().to_owned());
        }
    }
    commands
}

#[test]
fn readme_gives_exactly_the_two_setup_commands() {
    let commands = readme_commands();
    assert!(
        commands.contains(&"cargo xtask demo".to_owned()),
        "README must give `cargo xtask demo`; it gives {commands:?}"
    );
    assert!(
        commands.contains(&"cargo xtask ci".to_owned()),
        "README must give `cargo xtask ci`; it gives {commands:?}"
    );
}

#[test]
fn ci_runs_the_test_command_that_readme_gives() {
    let script = read(&workspace_root().join(".ci/run"));
    let runs: Vec<&str> = script
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter(|line| line.contains("cargo "))
        .collect();
    assert!(
        runs.contains(&"cargo xtask ci"),
        ".ci/run must run `cargo xtask ci` on a line of its own; its cargo lines are {runs:?}"
    );
    assert!(
        readme_commands().contains(&"cargo xtask ci".to_owned()),
        "README's test command must be the one .ci/run runs (`cargo xtask ci`)"
    );
}

#[test]
fn deny_bans_every_second_crypto_and_tls_backend() {
    let deny = read(&workspace_root().join("deny.toml"));
    for banned in [
        "openssl",
        "openssl-sys",
        "native-tls",
        "aws-lc-rs",
        "aws-lc-sys",
    ] {
        assert!(
            deny.contains(&format!("name = \"{banned}\"")),
            "deny.toml must ban {banned}"
        );
    }
}

/// Every crate that can be published carries what crates.io and docs.rs
/// show: its own README.md, a description, keywords and categories, and
/// docs.rs settings when it is a library. (`cargo xtask package` builds
/// each from its package alone.)
#[test]
fn every_publishable_crate_has_its_readme_and_metadata() {
    for member in members() {
        let dir = workspace_root().join(&member);
        let manifest = read(&dir.join("Cargo.toml"));
        if manifest.contains("publish = false") {
            continue;
        }
        assert!(
            dir.join("README.md").is_file(),
            "{member} is published but has no README.md of its own"
        );
        for field in [
            "description = ",
            "keywords = ",
            "categories = ",
            "readme = ",
        ] {
            assert!(
                manifest.lines().any(|line| line.starts_with(field)),
                "{member}/Cargo.toml has no `{}`",
                field.trim_end_matches(" = ")
            );
        }
        if dir.join("src/lib.rs").is_file() {
            assert!(
                manifest.contains("[package.metadata.docs.rs]"),
                "{member}/Cargo.toml has no [package.metadata.docs.rs]"
            );
        }
    }
}

/// A path dependency needs a version to be published; the workspace's
/// crates are named once, in `[workspace.dependencies]`.
#[test]
fn every_workspace_path_dependency_has_a_version() {
    let manifest = read(&workspace_root().join("Cargo.toml"));
    for line in manifest.lines().filter(|line| line.contains("path = ")) {
        assert!(
            line.contains("version = "),
            "a path dependency without a version cannot be published: {line}"
        );
    }
}

/// Every text file under `dir` (recursively) with one of `extensions`,
/// skipping build output and installed packages.
fn text_files(dir: &Path, extensions: &[&str], out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if !matches!(
                name.to_str(),
                Some("target" | "node_modules" | ".git" | "corpus" | "artifacts")
            ) {
                text_files(&path, extensions, out);
            }
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| extensions.contains(&e))
        {
            out.push(path);
        }
    }
}

/// The repository explains itself: no code, manifest or script cites the
/// old specification by section or the notes outside the clone; they cite
/// `docs/` and ARCHITECTURE.md instead. (The patterns are split so that this
/// file does not match itself.)
#[test]
fn nothing_refers_to_files_outside_the_repository() {
    let root = workspace_root();
    let mut files = Vec::new();
    for dir in ["crates", "tests", "xtask", "fuzz", ".ci", ".cargo"] {
        text_files(
            &root.join(dir),
            &["rs", "toml", "py", "js", "json", "md", "txt", ""],
            &mut files,
        );
    }
    for file in [
        "README.md",
        "ARCHITECTURE.md",
        "RELIABILITY.md",
        "BENCHMARKS.md",
        "Cargo.toml",
        "clippy.toml",
        "deny.toml",
    ] {
        files.push(root.join(file));
    }
    let patterns = [
        format!("{}/shared", ".."),
        format!("spec {}", '\u{a7}'),
        format!("Spec {}", '\u{a7}'),
        format!("DESIGN{}", ".md"),
        format!("STYLE{}", ".md"),
    ];
    let mut found = Vec::new();
    for file in files {
        let Ok(text) = fs::read_to_string(&file) else {
            continue;
        };
        for (number, line) in text.lines().enumerate() {
            if let Some(pattern) = patterns.iter().find(|p| line.contains(p.as_str())) {
                found.push(format!(
                    "{}:{}: cites `{pattern}`",
                    file.strip_prefix(&root).unwrap_or(&file).display(),
                    number + 1
                ));
            }
        }
    }
    assert!(
        found.is_empty(),
        "cite docs/ (see docs/README.md) or ARCHITECTURE.md instead:\n{}",
        found.join("\n")
    );
}
