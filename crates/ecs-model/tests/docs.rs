//! The crate's documentation explains itself: it speaks of the API
//! reference, never of "the seed", a page its readers have never seen.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, test modules (`tests.rs`) left out.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs")
            && path.file_name().is_some_and(|n| n != "tests.rs")
        {
            out.push(path);
        }
    }
}

#[test]
fn doc_comments_do_not_speak_of_the_seed_page() {
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    assert!(files.len() > 10, "the sources were not found: {files:?}");
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim_start();
            let is_doc = line.starts_with("///") || line.starts_with("//!");
            let lower = line.to_ascii_lowercase();
            let cites = ["the seed", "seed page", "api page's", "api page "]
                .iter()
                .any(|phrase| lower.contains(phrase));
            if is_doc && cites {
                found.push(format!("{}:{}: {line}", file.display(), n + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "doc comments that cite the seed page:\n{}",
        found.join("\n")
    );
}
