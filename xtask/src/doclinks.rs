//! The docs of each library crate built alone, as a user's `cargo doc` or a
//! docs site builds them, with their links checked.
//!
//! Built together (`cargo doc --workspace`), a crate's link to another
//! workspace crate's item finds that crate's pages next to its own. Built
//! alone, the same link has nowhere to point: rustdoc then prints the path
//! as plain text, and the docs a crate inlines from another (a `pub use`)
//! keep their unresolved links as literal `[...]`. So each crate is built in
//! an empty doc directory with `-D rustdoc::broken_intra_doc_links`, and its
//! rendered pages are scanned for link text that did not become a link and
//! for links to pages that are not there (a link with its own text, such as
//! ``[`Tag`](ecs_model::Tag)``, keeps the path as its address).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::step::{Cmd, Steps};

/// The crates a user documents: the light crates and the emulator library.
pub(crate) const LIBRARY_CRATES: &[&str] = &[
    "ecs-model",
    "ecs-sign",
    "ecs-transport",
    "ecs-credentials",
    "ecs-assist",
    "ecs-emulator",
];

/// Documents each crate alone and scans its pages.
pub(crate) fn run(steps: &mut Steps, crates: &[&str]) -> Result<()> {
    let root = steps.root().to_path_buf();
    let target = crate::target_dir(&root).join("doc-alone");
    let target_text = target.to_string_lossy().into_owned();
    let doc_dir = target.join("doc");
    for krate in crates {
        // An empty doc directory: no other crate's pages to link to, and
        // rustdoc runs again (cargo checks that its output is there).
        if doc_dir.exists() {
            std::fs::remove_dir_all(&doc_dir)
                .with_context(|| format!("cannot empty {}", doc_dir.display()))?;
        }
        steps.run(
            &format!("doc {krate} alone"),
            Cmd::cargo(["doc", "--package", krate, "--no-deps", "--all-features"])
                .env("CARGO_TARGET_DIR", &target_text)
                .env(
                    "RUSTDOCFLAGS",
                    "-D warnings -D rustdoc::broken_intra_doc_links",
                ),
        )?;
        let pages = doc_dir.join(krate.replace('-', "_"));
        steps.check(&format!("doc {krate} alone: rendered links"), || {
            check_pages(&pages)
        })?;
    }
    Ok(())
}

/// Fails with every page and text where a link did not render as a link,
/// and every link to a page that is not there.
fn check_pages(dir: &Path) -> Result<()> {
    let mut pages = Vec::new();
    html_files(dir, &mut pages)?;
    if pages.is_empty() {
        bail!("no pages in {}: did rustdoc run?", dir.display());
    }
    let mut found = Vec::new();
    for page in &pages {
        let html = std::fs::read_to_string(page)
            .with_context(|| format!("cannot read {}", page.display()))?;
        let name = page.strip_prefix(dir).unwrap_or(page).display().to_string();
        found.extend(
            unlinked(&html)
                .into_iter()
                .map(|text| format!("{name}: {text}")),
        );
        let here = page.parent().unwrap_or(dir);
        found.extend(
            relative_links(&html)
                .into_iter()
                .filter(|target| !here.join(target).is_file())
                .map(|target| format!("{name}: link to `{target}`, which is no page here")),
        );
    }
    if found.is_empty() {
        println!("{} pages, every link rendered", pages.len());
        return Ok(());
    }
    bail!(
        "{} link(s) rendered as plain text or to no page (the target is in another \
         crate, not documented with this one: link to this crate's re-export, or \
         write the text without brackets):\n  {}",
        found.len(),
        found.join("\n  ")
    )
}

fn html_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    for entry in entries {
        let path = entry
            .with_context(|| format!("cannot read {}", dir.display()))?
            .path();
        if path.is_dir() {
            html_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "html") {
            out.push(path);
        }
    }
    Ok(())
}

/// The pieces of a rendered page's prose that are link syntax left as text:
/// `[name]` or `` [`name`] `` outside code, and a path to another crate
/// (`` `crate_name::Item` ``) rendered as code where a link was written.
pub(crate) fn unlinked(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for block in own_docblocks(html) {
        let prose = strip(&strip(&block, "<pre", "</pre>"), "<script", "</script>");
        // `` [`name`] `` left as text renders as `[<code>name</code>]`.
        let mut rest = prose.as_str();
        while let Some(at) = rest.find("[<code>") {
            let after = &rest[at + 7..];
            if let Some(end) = after.find("</code>]") {
                found.push(format!("[`{}`]", text_of(&after[..end])));
                rest = &after[end..];
            } else {
                rest = after;
            }
        }
        let text = text_of(&strip(&prose, "<code>", "</code>"));
        found.extend(bracketed(&text));
    }
    found
}

/// The docblocks of a page before its trait implementation sections: those
/// repeat the traits' own docs, many from other crates (futures, tracing);
/// a trait of this crate is checked on its own page.
fn own_docblocks(html: &str) -> Vec<String> {
    let own = IMPLEMENTATION_SECTIONS
        .iter()
        .filter_map(|marker| html.find(marker))
        .min()
        .map_or(html, |end| &html[..end]);
    docblocks(own)
}

/// Where a page's sections of trait implementations start.
const IMPLEMENTATION_SECTIONS: &[&str] = &[
    "id=\"trait-implementations\"",
    "id=\"synthetic-implementations\"",
    "id=\"blanket-implementations\"",
];

/// The insides of every `class="docblock..."` element (prose written in
/// doc comments), which is where a written link can be left unlinked.
fn docblocks(html: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find("class=\"docblock") {
        let after = &rest[at..];
        let Some(open_end) = after.find('>') else {
            break;
        };
        let body = &after[open_end + 1..];
        // The element ends where its `<div` nesting closes.
        let mut depth = 1usize;
        let mut index = 0;
        let mut end = body.len();
        while index < body.len() {
            let tail = &body[index..];
            if tail.starts_with("<div") {
                depth += 1;
            } else if tail.starts_with("</div>") {
                depth -= 1;
                if depth == 0 {
                    end = index;
                    break;
                }
            }
            index += tail.chars().next().map_or(1, char::len_utf8);
        }
        blocks.push(body[..end].to_owned());
        rest = &body[end..];
    }
    blocks
}

/// The addresses of the links in a rendered page's prose that point at a
/// page of this documentation (no scheme, not a bare `#fragment`), without
/// their `#fragment` or `?query`. rustdoc writes a link whose target it
/// resolved but cannot place (an item of a crate not documented with this
/// one, linked with its own text) with the item's path as its address.
pub(crate) fn relative_links(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for block in own_docblocks(html) {
        let mut rest = block.as_str();
        while let Some(at) = rest.find("href=\"") {
            let after = &rest[at + 6..];
            let Some(end) = after.find('"') else { break };
            let address = &after[..end];
            rest = &after[end..];
            let target = address.split(['#', '?']).next().unwrap_or_default();
            let has_scheme = target.split_once(':').is_some_and(|(scheme, _)| {
                !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphabetic())
            });
            if !target.is_empty() && (!has_scheme || target.contains("::")) {
                found.push(target.to_owned());
            }
        }
    }
    found
}

/// `text` without every `open...close` span.
fn strip(text: &str, open: &str, close: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(open) {
        out.push_str(&rest[..at]);
        match rest[at..].find(close) {
            Some(end) => rest = &rest[at + end + close.len()..],
            None => {
                rest = "";
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The text of an HTML fragment: tags dropped, the common entities decoded.
fn text_of(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// `[word]` spans in prose: a bracket pair around a name or path, with no
/// space inside (prose brackets such as "[see below]" are not link syntax).
fn bracketed(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find('[') {
        let after = &rest[at + 1..];
        let Some(end) = after.find(']') else { break };
        let inner = &after[..end];
        let is_name = !inner.is_empty()
            && inner
                .chars()
                .all(|c| c.is_alphanumeric() || "_:`!()<>".contains(c))
            && inner.chars().any(char::is_alphabetic);
        if is_name {
            found.push(format!("[{inner}]"));
        }
        rest = &after[end..];
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(docblock: &str) -> String {
        format!(
            "<html><body><pre class=\"rust item-decl\">pub fn f(x: &amp;[u8]) -&gt; [u8; 4]</pre>\
             <div class=\"docblock\">{docblock}</div>\
             <h4 class=\"code-header\">fn g(&amp;self, p: &amp;[(&amp;str, &amp;str)])</h4>\
             <h2 id=\"blanket-implementations\">Blanket</h2>\
             <div class=\"docblock\">from [<code>tracing::Span</code>]</div>\
             </body></html>"
        )
    }

    #[test]
    fn a_page_whose_links_rendered_passes() {
        let html = page(
            "<p>Sends with <a href=\"struct.Client.html\"><code>Client</code></a>; \
             bytes as <code>[u8]</code>, an array <code>[0; 4]</code>, a note [see below].</p>\
             <pre class=\"rust\"><code>let x = [1, 2];\nlet y = v[i];</code></pre>",
        );
        assert!(unlinked(&html).is_empty(), "{:?}", unlinked(&html));
    }

    #[test]
    fn link_syntax_left_as_text_is_found() {
        let html = page(
            "<p>Use [<code>BlockingTransport</code>] or [Client::builder] or \
             [<code>ecs_transport::Transport</code>].</p>\
             <div class=\"example\"><p>nested [Inner]</p></div>",
        );
        assert_eq!(
            unlinked(&html),
            [
                "[`BlockingTransport`]",
                "[`ecs_transport::Transport`]",
                "[Client::builder]",
                "[Inner]",
            ]
        );
    }

    #[test]
    fn a_crate_without_pages_or_with_a_broken_link_fails() {
        let dir = std::env::temp_dir().join(format!("xtask-doclinks-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let err = check_pages(&dir).unwrap_err().to_string();
        assert!(err.contains("no pages"), "{err}");
        let broken = page("<p>see [<code>Gone</code>]</p>");
        std::fs::write(dir.join("index.html"), broken).unwrap();
        let err = check_pages(&dir).unwrap_err().to_string();
        assert!(err.contains("index.html: [`Gone`]"), "{err}");
        std::fs::write(dir.join("index.html"), page("<p>fine</p>")).unwrap();
        check_pages(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn relative_link_targets_are_read_from_the_docs_only() {
        let html = page(
            "<p><a href=\"struct.Client.html#method.send\"><code>send</code></a>, \
             <a href=\"https://doc.rust-lang.org/std/vec/struct.Vec.html\">Vec</a>, \
             <a href=\"#examples\">below</a>, <a href=\"ecs_model::Tag\"><code>Tag</code></a>, \
             <a href=\"../index.html?search=x\">search</a>, <a href=\"mailto:a@b.c\">mail</a></p>",
        );
        assert_eq!(
            relative_links(&html),
            ["struct.Client.html", "ecs_model::Tag", "../index.html"]
        );
    }

    #[test]
    fn a_link_to_a_page_that_was_not_rendered_fails() {
        let dir = std::env::temp_dir().join(format!("xtask-doclinks-href-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("config")).unwrap();
        std::fs::write(dir.join("struct.Client.html"), page("<p>fine</p>")).unwrap();
        // A link whose target rustdoc could not place (an item of another
        // crate, written with link text) keeps the path as its address.
        std::fs::write(
            dir.join("config/index.html"),
            page(
                "<p><a href=\"../struct.Client.html#method.send\">send</a>, \
                 a result's <a href=\"ecs_model::Tag\"><code>Tag</code></a></p>",
            ),
        )
        .unwrap();
        let err = check_pages(&dir).unwrap_err().to_string();
        assert!(
            err.contains("config/index.html: link to `ecs_model::Tag`"),
            "{err}"
        );
        assert!(!err.contains("struct.Client.html#"), "{err}");
        std::fs::write(
            dir.join("config/index.html"),
            page("<p><a href=\"../struct.Client.html#method.send\">send</a></p>"),
        )
        .unwrap();
        check_pages(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
