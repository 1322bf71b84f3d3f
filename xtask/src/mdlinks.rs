//! The links of the repository's Markdown (part of `cargo xtask doc`):
//! README.md, each crate's README.md, docs/ and the other notes. A relative
//! link must name a file or folder that exists, and a `#fragment` into a
//! Markdown file must name one of its headings, as GitHub renders them.
//! Links with a scheme (`https:`, `mailto:`) are not fetched.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// Folders that hold no notes of the project: build output, installed
/// packages, fuzzing data.
const SKIPPED_DIRS: &[&str] = &["target", "node_modules", ".git", "corpus", "artifacts"];

/// Fails with every Markdown link under `root` that points at nothing.
pub(crate) fn check_repository(root: &Path) -> Result<()> {
    let mut files = Vec::new();
    markdown_files(root, &mut files)?;
    files.sort();
    if files.is_empty() {
        bail!("no Markdown files under {}", root.display());
    }
    let mut broken = Vec::new();
    let mut count = 0;
    for file in &files {
        let text = read(file)?;
        let name = file
            .strip_prefix(root)
            .unwrap_or(file)
            .display()
            .to_string();
        for (line, target) in links(&text) {
            count += 1;
            if let Some(why) = check_link(file, &target)? {
                broken.push(format!("{name}:{line}: `{target}`: {why}"));
            }
        }
    }
    if broken.is_empty() {
        println!(
            "{} Markdown files, {count} links, every one resolves",
            files.len()
        );
        return Ok(());
    }
    bail!(
        "{} Markdown link(s) point at nothing (fix the path or heading, or write \
         the name as plain text):\n  {}",
        broken.len(),
        broken.join("\n  ")
    )
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

fn markdown_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
        let path = entry.path();
        if path.is_dir() {
            let name = entry.file_name();
            if !SKIPPED_DIRS.iter().any(|skipped| name == *skipped) {
                markdown_files(&path, out)?;
            }
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
    Ok(())
}

/// Why the link `target` written in `file` points at nothing, or `None`.
fn check_link(file: &Path, target: &str) -> Result<Option<String>> {
    if has_scheme(target) {
        return Ok(None);
    }
    let (path, fragment) = target.split_once('#').unwrap_or((target, ""));
    let path = percent_decoded(path.split('?').next().unwrap_or_default());
    let here = file.parent().unwrap_or_else(|| Path::new("."));
    let resolved = if path.is_empty() {
        file.to_path_buf()
    } else {
        here.join(&path)
    };
    if !resolved.exists() {
        return Ok(Some(format!(
            "no file or folder {path} (relative to this file)"
        )));
    }
    let is_markdown = resolved.extension().is_some_and(|e| e == "md");
    if fragment.is_empty() || !is_markdown || resolved.is_dir() {
        return Ok(None);
    }
    let fragment = percent_decoded(fragment);
    if anchors(&read(&resolved)?).contains(&fragment) {
        return Ok(None);
    }
    Ok(Some(format!(
        "no heading `#{fragment}` in {}",
        if path.is_empty() { "this file" } else { &path }
    )))
}

/// `https:`, `mailto:` and the like: an address this check does not fetch.
fn has_scheme(target: &str) -> bool {
    target.split_once(':').is_some_and(|(scheme, _)| {
        scheme.len() > 1
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    })
}

/// `%XX` escapes decoded (a link to `a%20b.md` names `a b.md`); a malformed
/// escape is kept as written.
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = (bytes[index] == b'%')
            .then(|| text.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                index += 3;
            }
            None => {
                out.push(bytes[index]);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The lines of `text` outside fenced code blocks, numbered from 1.
fn outside_fences(text: &str) -> Vec<(usize, &str)> {
    let mut fence: Option<&str> = None;
    let mut lines = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let marker = ["```", "~~~"]
            .into_iter()
            .find(|marker| trimmed.starts_with(marker));
        match (fence, marker) {
            (None, Some(marker)) => fence = Some(marker),
            (Some(open), Some(marker)) if open == marker => fence = None,
            (None, None) => lines.push((index + 1, line)),
            _ => {}
        }
    }
    lines
}

/// `line` with every code span removed: a run of backticks opens one,
/// and the next run of the same length closes it (``` ``a `b` c`` ``` is
/// one span); a run that is never closed is kept as text.
fn without_code_spans(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(at) = rest.find('`') {
        out.push_str(&rest[..at]);
        let run = rest[at..].len() - rest[at..].trim_start_matches('`').len();
        let after = &rest[at + run..];
        match closing_run(after, run) {
            Some(end) => rest = &after[end + run..],
            None => {
                out.push_str(&rest[at..at + run]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Where in `text` a run of exactly `length` backticks starts.
fn closing_run(text: &str, length: usize) -> Option<usize> {
    let mut index = 0;
    while let Some(at) = text[index..].find('`') {
        let start = index + at;
        let run = text[start..].len() - text[start..].trim_start_matches('`').len();
        if run == length {
            return Some(start);
        }
        index = start + run;
    }
    None
}

/// Every link target in the prose of `text`, with its line: inline links
/// and images (`[text](target "title")`) and reference definitions
/// (`[label]: target`).
pub(crate) fn links(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (number, line) in outside_fences(text) {
        let line = without_code_spans(line);
        let trimmed = line.trim_start();
        if trimmed.starts_with('[')
            && let Some((label, rest)) = trimmed.split_once("]:")
            && !label.contains(']')
        {
            if let Some(target) = rest.split_whitespace().next() {
                found.push((number, unbracketed(target).to_owned()));
            }
            continue;
        }
        let mut rest = line.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let end = after.find(')').unwrap_or(after.len());
            let inside = after[..end].trim();
            let target = if inside.starts_with('<') {
                inside.split_once('>').map_or(inside, |(t, _)| t)
            } else {
                inside.split_whitespace().next().unwrap_or_default()
            };
            let target = unbracketed(target);
            if !target.is_empty() {
                found.push((number, target.to_owned()));
            }
            rest = &after[end..];
        }
    }
    found
}

fn unbracketed(target: &str) -> &str {
    target.trim_start_matches('<').trim_end_matches('>')
}

/// The anchors GitHub gives the headings of a Markdown file: the heading's
/// text in lower case, without punctuation but `-` and `_`, spaces as `-`;
/// a repeated anchor gets `-1`, `-2`, ...
pub(crate) fn anchors(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (_, line) in outside_fences(text) {
        let trimmed = line.trim_start();
        let level = trimmed.chars().take_while(|&c| c == '#').count();
        if !(1..=6).contains(&level) || line.len() - trimmed.len() > 3 {
            continue;
        }
        let Some(heading) = trimmed[level..].strip_prefix([' ', '\t']) else {
            continue;
        };
        let heading = heading.trim().trim_end_matches('#').trim();
        let base = slug(&link_texts(heading));
        let mut anchor = base.clone();
        let mut repeat = 0;
        while found.contains(&anchor) {
            repeat += 1;
            anchor = format!("{base}-{repeat}");
        }
        found.insert(anchor);
    }
    found
}

/// A heading's text with each `[text](target)` reduced to its text.
fn link_texts(heading: &str) -> String {
    let mut out = String::with_capacity(heading.len());
    let mut rest = heading;
    while let Some(at) = rest.find("](") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        rest = after.find(')').map_or("", |end| &after[end + 1..]);
    }
    out.push_str(rest);
    out
}

fn slug(heading: &str) -> String {
    heading
        .to_lowercase()
        .chars()
        .filter(|&c| c.is_alphanumeric() || c == '-' || c == '_' || c == ' ')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "# ecs-assist\n\
        See [the guide](docs/guide.md#paging-and-retries), [below](#crate-features)\n\
        and ![a figure](docs/a%20figure.txt \"Figure\"), [site](https://example.com/x.md),\n\
        [mail](mailto:a@b.c), `[not](a/link.md)`, ``[`not`](either.md)``, a `` ` `` tick.\n\
        ```text\n[inside](a/fence.md)\n```\n\
        ## Crate `features`\n\
        ## Crate features\n\
        [ref]: <docs/guide.md>\n";

    #[test]
    fn links_are_read_from_prose_and_definitions_only() {
        assert_eq!(
            links(PAGE),
            [
                (2, "docs/guide.md#paging-and-retries".to_owned()),
                (2, "#crate-features".to_owned()),
                (3, "docs/a%20figure.txt".to_owned()),
                (3, "https://example.com/x.md".to_owned()),
                (4, "mailto:a@b.c".to_owned()),
                (10, "docs/guide.md".to_owned()),
            ]
        );
    }

    #[test]
    fn headings_get_github_anchors() {
        let text = "# Paging, and *retries* (V3)!\n### `Tag.N` filters\n\
                    ## [Linked](https://x.y) heading\n# Repeat\n# Repeat\n    # indented code\n";
        let found: Vec<String> = anchors(text).into_iter().collect();
        assert_eq!(
            found,
            [
                "linked-heading",
                "paging-and-retries-v3",
                "repeat",
                "repeat-1",
                "tagn-filters"
            ]
        );
    }

    #[test]
    fn a_link_to_a_missing_file_or_heading_fails_and_names_it() {
        let dir = std::env::temp_dir().join(format!("xtask-mdlinks-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("docs")).unwrap();
        std::fs::write(
            dir.join("docs/guide.md"),
            "# Guide\n## Paging and retries\n",
        )
        .unwrap();
        std::fs::write(dir.join("docs/a figure.txt"), "").unwrap();
        std::fs::write(dir.join("README.md"), PAGE).unwrap();
        check_repository(&dir).unwrap();

        std::fs::write(
            dir.join("docs/guide.md"),
            "# Guide\nBack to [the top](../README.md#crate-features-1), \
             [gone](../crates/gone/README.md), [bad](#no-such-part).\n",
        )
        .unwrap();
        let err = check_repository(&dir).unwrap_err().to_string();
        assert!(
            err.contains("README.md:2: `docs/guide.md#paging-and-retries`: no heading"),
            "{err}"
        );
        assert!(
            err.contains("docs/guide.md:2: `../crates/gone/README.md`: no file"),
            "{err}"
        );
        assert!(
            err.contains("`#no-such-part`: no heading `#no-such-part` in this file"),
            "{err}"
        );
        assert!(!err.contains("crate-features-1"), "{err}");
        assert!(err.contains("3 Markdown link(s)"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_repository_s_markdown_links_resolve() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("xtask is inside the workspace");
        check_repository(root).unwrap();
    }
}
