//! The layering check (`cargo xtask deps`): the light crates must never pull
//! in an async runtime, an HTTP implementation or a TLS stack (ARCHITECTURE.md,
//! "Layers"). A violation names the chain of crates that pulled the
//! forbidden one in, so the fix is obvious.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Crates that only the runtime layer may depend on.
pub(crate) const FORBIDDEN: &[&str] = &[
    "tokio",
    "hyper",
    "hyper-util",
    "h2",
    "rustls",
    "mio",
    "socket2",
];

/// Which feature set a package is checked with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Features {
    Default,
    All,
    None,
}

impl Features {
    fn flag(self) -> Option<&'static str> {
        match self {
            Self::Default => None,
            Self::All => Some("--all-features"),
            Self::None => Some("--no-default-features"),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Default => "default features",
            Self::All => "--all-features",
            Self::None => "--no-default-features",
        }
    }
}

/// The layering rules (ARCHITECTURE.md, "Layers"): `ecs-model` and
/// `ecs-sign` with any features; `ecs-transport`, `ecs-credentials` and
/// `ecs-assist` without their default features.
pub(crate) const RULES: &[(&str, Features)] = &[
    ("ecs-model", Features::Default),
    ("ecs-model", Features::All),
    ("ecs-model", Features::None),
    ("ecs-sign", Features::Default),
    ("ecs-sign", Features::All),
    ("ecs-sign", Features::None),
    ("ecs-transport", Features::None),
    ("ecs-credentials", Features::None),
    ("ecs-assist", Features::None),
];

/// Checks the workspace whose root manifest is `manifest`.
pub(crate) fn check_workspace(manifest: &Path) -> Result<()> {
    check(manifest, RULES)
}

/// Checks each `(package, features)` pair; reports every violation at once.
pub(crate) fn check(manifest: &Path, rules: &[(&str, Features)]) -> Result<()> {
    let mut violations = Vec::new();
    for &(package, features) in rules {
        let tree = cargo_tree(manifest, package, features)?;
        for chain in forbidden_chains(&tree) {
            violations.push(format!(
                "{package} ({}) depends on `{}` through {}",
                features.describe(),
                chain.last().map_or("?", String::as_str),
                chain.join(" -> ")
            ));
        }
        println!("deps: {package} ({}): clean", features.describe());
    }
    if !violations.is_empty() {
        bail!(
            "the layering rules are broken (ARCHITECTURE.md, \"Layers\"):\n  {}\n\
             move the dependency behind a feature of a higher crate, or out of the light crate",
            violations.join("\n  ")
        );
    }
    Ok(())
}

fn cargo_tree(manifest: &Path, package: &str, features: Features) -> Result<String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args(["tree", "--manifest-path"])
        .arg(manifest)
        .args([
            "--package",
            package,
            "--edges",
            "normal,build",
            "--prefix",
            "depth",
            "--format",
            "{p}",
            "--charset",
            "ascii",
        ]);
    if let Some(flag) = features.flag() {
        command.arg(flag);
    }
    let output = command
        .output()
        .with_context(|| format!("cannot run cargo tree for {package}"))?;
    if !output.status.success() {
        bail!(
            "cargo tree for {package} ({}) failed: {}",
            features.describe(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    String::from_utf8(output.stdout).context("cargo tree printed something that is not UTF-8")
}

/// Every chain from the root to a forbidden crate in `cargo tree --prefix
/// depth` output (lines like `2tokio v1.0.0`).
pub(crate) fn forbidden_chains(tree: &str) -> Vec<Vec<String>> {
    let mut stack: Vec<String> = Vec::new();
    let mut chains = Vec::new();
    for line in tree.lines() {
        let digits = line.bytes().take_while(u8::is_ascii_digit).count();
        let Ok(depth) = line[..digits].parse::<usize>() else {
            continue;
        };
        let Some(name) = line[digits..].split_whitespace().next() else {
            continue;
        };
        stack.truncate(depth);
        stack.push(name.to_owned());
        if FORBIDDEN.contains(&name) {
            chains.push(stack.clone());
        }
    }
    chains
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn chains_name_every_crate_on_the_path() {
        let tree = "0ecs-model v0.1.0 (/w/crates/ecs-model)\n\
                    1serde v1.0.0\n\
                    1middle v0.1.0\n\
                    2helper v0.1.0\n\
                    3tokio v1.40.0\n\
                    1hyper v1.0.0\n";
        assert_eq!(
            forbidden_chains(tree),
            vec![
                vec!["ecs-model", "middle", "helper", "tokio"],
                vec!["ecs-model", "hyper"],
            ]
        );
    }

    #[test]
    fn a_clean_tree_has_no_chains() {
        let tree = "0ecs-sign v0.1.0\n1ring v0.17.0\n2cc v1.0.0\n1base64 v0.22.0\n";
        assert!(forbidden_chains(tree).is_empty());
    }

    /// Writes a throwaway workspace in which `ecs-model` reaches a crate
    /// named `tokio` through `middle` (path crates only, so no network).
    fn throwaway_workspace(dir: &Path, with_forbidden: bool) {
        let write = |path: &str, text: &str| {
            let path = dir.join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        };
        write(
            "Cargo.toml",
            "[workspace]\nresolver = \"3\"\nmembers = [\"ecs-model\", \"middle\", \"tokio\"]\n",
        );
        let middle_dep = if with_forbidden {
            "tokio = { path = \"../tokio\" }"
        } else {
            ""
        };
        write(
            "ecs-model/Cargo.toml",
            "[package]\nname = \"ecs-model\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\
             [dependencies]\nmiddle = { path = \"../middle\" }\n",
        );
        write("ecs-model/src/lib.rs", "");
        write(
            "middle/Cargo.toml",
            &format!(
                "[package]\nname = \"middle\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\
                 [dependencies]\n{middle_dep}\n"
            ),
        );
        write("middle/src/lib.rs", "");
        write(
            "tokio/Cargo.toml",
            "[package]\nname = \"tokio\"\nversion = \"1.0.0\"\nedition = \"2024\"\n",
        );
        write("tokio/src/lib.rs", "");
    }

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-deps-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn the_check_fails_when_a_light_crate_gains_a_forbidden_dependency() {
        let dir = scratch("dirty");
        throwaway_workspace(&dir, true);
        let err = check(&dir.join("Cargo.toml"), &[("ecs-model", Features::All)])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "ecs-model (--all-features) depends on `tokio` through ecs-model -> middle -> tokio"
            ),
            "got: {err}"
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_check_passes_on_a_clean_workspace() {
        let dir = scratch("clean");
        throwaway_workspace(&dir, false);
        check(&dir.join("Cargo.toml"), &[("ecs-model", Features::None)]).unwrap();
        fs::remove_dir_all(&dir).unwrap();
    }
}
