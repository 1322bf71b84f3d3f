//! The module cycle check (part of `cargo xtask deps`): inside every crate
//! of the workspace, the modules that share a parent must form no cycle, so
//! that each crate can be read from its leaves up.
//!
//! Every target root (`src/lib.rs`, `src/main.rs`, `tests/main.rs`, ...) is
//! read with `proc-macro2`'s lexer, so comments and string literals never
//! count. The module tree comes from the `mod` items (files and inline
//! modules). A module depends on another when it names it: a `use` path or a
//! path in code starting with `crate::`, `$crate::`, `self::`, `super::` or
//! a child module's name. A path through a name that a module brings in
//! with `use` (for example `crate::Client` through the crate root's
//! `pub use client::Client`) is followed to the module that defines it.
//!
//! The dependency of `a::x` on `b::y` is an edge `a -> b` between the
//! children of their common parent; a module's use of its own ancestors or
//! descendants is not an edge. A cycle is reported with the modules on it
//! and, for each edge, the file and the path that makes it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr as _;

use anyhow::{Context, Result, bail};
use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};

/// One module of a crate.
#[derive(Debug)]
struct Module {
    /// Names from the crate root, empty for the root.
    path: Vec<String>,
    parent: Option<usize>,
    /// The file the module's items are in.
    file: PathBuf,
    /// Where the files of its `mod name;` children are.
    child_dir: PathBuf,
    children: BTreeMap<String, usize>,
    /// Names brought in by `use` (re-exports included): name -> path, as
    /// written (relative to this module unless it starts with `crate`).
    bindings: BTreeMap<String, Vec<String>>,
}

/// A path named in a module, to resolve once the tree is complete.
#[derive(Debug)]
struct Reference {
    from: usize,
    path: Vec<String>,
    /// Whether the first segment may be a child module's name (a bare
    /// path); such a path is dropped when it is not.
    bare: bool,
}

/// The module tree and every path named in it, for one crate target.
#[derive(Debug, Default)]
struct Crate {
    modules: Vec<Module>,
    references: Vec<Reference>,
}

/// An edge between sibling modules: the file and the path that make it.
#[derive(Debug, Clone)]
struct Why {
    file: PathBuf,
    path: String,
}

/// A cycle among the children of one module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cycle {
    /// Every module tangled with the ones on the cycle (a strongly connected
    /// component: each reaches each other).
    pub(crate) tangled: Vec<String>,
    /// Module paths on one cycle, the first repeated at the end.
    pub(crate) modules: Vec<String>,
    /// For each edge, the file and the path that make it.
    pub(crate) reasons: Vec<String>,
}

/// Checks every target of every workspace member; reports every cycle.
pub(crate) fn check_workspace(root: &Path) -> Result<()> {
    let mut failures = Vec::new();
    let mut checked = 0;
    for (package, target) in targets(root)? {
        let cycles = cycles_of(&target)?;
        checked += 1;
        for cycle in cycles {
            failures.push(describe(&package, root, &target, &cycle));
        }
    }
    if !failures.is_empty() {
        bail!(
            "module cycles (the modules of one parent must not depend on each other in a \
             circle; move what both need into a module of its own that both use):\n{}",
            failures.join("\n")
        );
    }
    println!("deps: modules of {checked} crate targets: no cycle");
    Ok(())
}

fn describe(package: &str, root: &Path, target: &Path, cycle: &Cycle) -> String {
    let shown = target.strip_prefix(root).unwrap_or(target);
    let mut text = format!(
        "  {package} ({}): {}",
        shown.display(),
        cycle.modules.join(" -> ")
    );
    if cycle.tangled.len() + 1 > cycle.modules.len() {
        let _ = write!(
            text,
            "\n      (one of the cycles among {})",
            cycle.tangled.join(", ")
        );
    }
    for reason in &cycle.reasons {
        let _ = write!(text, "\n      {reason}");
    }
    text
}

/// `(package, root file)` of every lib, bin, test, bench and example target
/// of the workspace members, from `cargo metadata`.
fn targets(root: &Path) -> Result<Vec<(String, PathBuf)>> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = std::process::Command::new(cargo)
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--manifest-path",
        ])
        .arg(root.join("Cargo.toml"))
        .output()
        .context("cannot run cargo metadata")?;
    if !output.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).context("cargo metadata printed no JSON")?;
    let mut found = BTreeSet::new();
    for package in metadata["packages"].as_array().into_iter().flatten() {
        let name = package["name"].as_str().unwrap_or("?").to_owned();
        for target in package["targets"].as_array().into_iter().flatten() {
            let build_script = target["kind"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|kind| kind == "custom-build");
            if let Some(src) = target["src_path"].as_str()
                && !build_script
            {
                found.insert((name.clone(), PathBuf::from(src)));
            }
        }
    }
    Ok(found.into_iter().collect())
}

/// The cycles among the modules of the crate whose root file is `root_file`.
pub(crate) fn cycles_of(root_file: &Path) -> Result<Vec<Cycle>> {
    let krate = Crate::read(root_file)?;
    Ok(krate.cycles())
}

/// Splits a stream into token trees, so that patterns can look ahead.
fn trees(stream: TokenStream) -> Vec<TokenTree> {
    stream.into_iter().collect()
}

fn is_ident(tree: Option<&TokenTree>, word: &str) -> bool {
    matches!(tree, Some(TokenTree::Ident(ident)) if ident == word)
}

fn is_punct(tree: Option<&TokenTree>, ch: char) -> bool {
    matches!(tree, Some(TokenTree::Punct(punct)) if punct.as_char() == ch)
}

/// Whether `tokens[at..]` starts with `::`.
fn is_path_sep(tokens: &[TokenTree], at: usize) -> bool {
    matches!(tokens.get(at), Some(TokenTree::Punct(p)) if p.as_char() == ':' && p.spacing() == Spacing::Joint)
        && is_punct(tokens.get(at + 1), ':')
}

impl Crate {
    fn read(root_file: &Path) -> Result<Self> {
        let mut krate = Self::default();
        let child_dir = root_file
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        krate.modules.push(Module {
            path: Vec::new(),
            parent: None,
            file: root_file.to_path_buf(),
            child_dir,
            children: BTreeMap::new(),
            bindings: BTreeMap::new(),
        });
        krate.read_file(0)?;
        Ok(krate)
    }

    /// Reads the file of module `index` and, through its `mod` items, every
    /// module below it.
    fn read_file(&mut self, index: usize) -> Result<()> {
        let file = self.modules[index].file.clone();
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let stream = TokenStream::from_str(&text)
            .map_err(|err| anyhow::anyhow!("cannot lex {}: {err}", file.display()))?;
        self.walk(index, &trees(stream))
    }

    fn add_module(
        &mut self,
        parent: usize,
        name: &str,
        file: PathBuf,
        child_dir: PathBuf,
    ) -> usize {
        let mut path = self.modules[parent].path.clone();
        path.push(name.to_owned());
        let index = self.modules.len();
        self.modules.push(Module {
            path,
            parent: Some(parent),
            file,
            child_dir,
            children: BTreeMap::new(),
            bindings: BTreeMap::new(),
        });
        self.modules[parent].children.insert(name.to_owned(), index);
        index
    }

    /// Collects modules, `use` items and paths in `tokens`, which belong to
    /// module `index`.
    fn walk(&mut self, index: usize, tokens: &[TokenTree]) -> Result<()> {
        let mut at = 0;
        while at < tokens.len() {
            let previous_is_sep = at >= 2 && is_path_sep(tokens, at - 2);
            match &tokens[at] {
                // `#[path = ".."]` and other attributes: skipped whole.
                TokenTree::Punct(p) if p.as_char() == '#' => {
                    at += 1;
                    if is_punct(tokens.get(at), '!') {
                        at += 1;
                    }
                    if matches!(tokens.get(at), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Bracket)
                    {
                        at += 1;
                    }
                }
                TokenTree::Ident(ident) if ident == "mod" && !previous_is_sep => {
                    let Some(TokenTree::Ident(name)) = tokens.get(at + 1) else {
                        at += 1;
                        continue;
                    };
                    let name = name.to_string();
                    match tokens.get(at + 2) {
                        Some(TokenTree::Group(group)) if group.delimiter() == Delimiter::Brace => {
                            let dir = self.modules[index].child_dir.join(&name);
                            let file = self.modules[index].file.clone();
                            let child = self.add_module(index, &name, file, dir);
                            self.walk(child, &trees(group.stream()))?;
                        }
                        _ => {
                            let dir = self.modules[index].child_dir.clone();
                            let flat = dir.join(format!("{name}.rs"));
                            let (file, child_dir) = if flat.exists() {
                                (flat, dir.join(&name))
                            } else {
                                (dir.join(&name).join("mod.rs"), dir.join(&name))
                            };
                            if file.exists() {
                                let child = self.add_module(index, &name, file, child_dir);
                                self.read_file(child)?;
                            }
                        }
                    }
                    at += 3;
                }
                TokenTree::Ident(ident) if ident == "use" && !previous_is_sep => {
                    let end = (at + 1..tokens.len())
                        .find(|&i| is_punct(tokens.get(i), ';'))
                        .unwrap_or(tokens.len());
                    let mut leaves = Vec::new();
                    use_tree(&tokens[at + 1..end], &mut Vec::new(), &mut leaves);
                    for (binding, path) in leaves {
                        if let Some(name) = binding {
                            self.modules[index].bindings.insert(name, path.clone());
                        }
                        self.references.push(Reference {
                            from: index,
                            path,
                            bare: true,
                        });
                    }
                    at = end + 1;
                }
                TokenTree::Punct(p)
                    if p.as_char() == '$' && is_ident(tokens.get(at + 1), "crate") =>
                {
                    at += 1;
                }
                TokenTree::Ident(ident) if is_path_sep(tokens, at + 1) && !previous_is_sep => {
                    let first = ident.to_string();
                    let mut path = vec![first.clone()];
                    let mut next = at + 1;
                    while is_path_sep(tokens, next) {
                        match tokens.get(next + 2) {
                            Some(TokenTree::Ident(segment)) => {
                                path.push(segment.to_string());
                                next += 3;
                            }
                            _ => break,
                        }
                    }
                    let bare = !matches!(first.as_str(), "crate" | "self" | "super");
                    self.references.push(Reference {
                        from: index,
                        path,
                        bare,
                    });
                    at = next;
                }
                TokenTree::Group(group) => {
                    self.walk(index, &trees(group.stream()))?;
                    at += 1;
                }
                _ => at += 1,
            }
        }
        Ok(())
    }

    /// The module a path from module `from` leads to: the deepest module
    /// whose items it names, following `use` bindings (at most `depth`
    /// times, so a loop of bindings ends).
    fn resolve(&self, from: usize, path: &[String], depth: u32) -> usize {
        let mut current = from;
        for (i, segment) in path.iter().enumerate() {
            match segment.as_str() {
                "self" => {}
                "super" => current = self.modules[current].parent.unwrap_or(0),
                "crate" if i == 0 => current = 0,
                name => {
                    if let Some(&child) = self.modules[current].children.get(name) {
                        current = child;
                    } else if let Some(target) = self.modules[current].bindings.get(name)
                        && depth > 0
                    {
                        let mut rest = target.clone();
                        rest.extend_from_slice(&path[i + 1..]);
                        let start = if rest[0] == "crate" { 0 } else { current };
                        return self.resolve(start, &rest, depth - 1);
                    } else {
                        return current;
                    }
                }
            }
        }
        current
    }

    /// Module `index` and its ancestors, root first.
    fn ancestry(&self, index: usize) -> Vec<usize> {
        let mut chain = vec![index];
        let mut current = index;
        while let Some(parent) = self.modules[current].parent {
            chain.push(parent);
            current = parent;
        }
        chain.reverse();
        chain
    }

    /// Edges between siblings: parent -> (from child -> (to child -> why)).
    fn edges(&self) -> BTreeMap<usize, BTreeMap<usize, BTreeMap<usize, Why>>> {
        let mut edges: BTreeMap<usize, BTreeMap<usize, BTreeMap<usize, Why>>> = BTreeMap::new();
        for reference in &self.references {
            if reference.bare {
                let first = &reference.path[0];
                let known = self.modules[reference.from].children.contains_key(first)
                    || self.modules[reference.from].bindings.contains_key(first)
                    || first == "crate"
                    || first == "self"
                    || first == "super";
                if !known {
                    continue;
                }
            }
            let target = self.resolve(reference.from, &reference.path, 16);
            let from = self.ancestry(reference.from);
            let to = self.ancestry(target);
            let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
            let (Some(&a), Some(&b)) = (from.get(common), to.get(common)) else {
                continue; // one is the other's ancestor
            };
            let parent = from[common - 1];
            edges
                .entry(parent)
                .or_default()
                .entry(a)
                .or_default()
                .entry(b)
                .or_insert_with(|| Why {
                    file: self.modules[reference.from].file.clone(),
                    path: reference.path.join("::"),
                });
        }
        edges
    }

    fn name(&self, index: usize) -> String {
        let path = &self.modules[index].path;
        if path.is_empty() {
            "crate".to_owned()
        } else {
            path.join("::")
        }
    }

    fn cycles(&self) -> Vec<Cycle> {
        let mut cycles = Vec::new();
        for graph in self.edges().values() {
            for component in strongly_connected(graph) {
                if component.len() < 2 {
                    continue;
                }
                let ring = ring_through(graph, &component);
                let modules = ring.iter().map(|&m| self.name(m)).collect();
                let reasons = ring
                    .windows(2)
                    .map(|pair| {
                        let why = &graph[&pair[0]][&pair[1]];
                        // Shown from the package directory (`src/client.rs`).
                        let package = self.modules[0].child_dir.parent().unwrap_or(Path::new(""));
                        let file = why.file.strip_prefix(package).unwrap_or(&why.file);
                        format!(
                            "{} -> {}: {} names {}",
                            self.name(pair[0]),
                            self.name(pair[1]),
                            file.display(),
                            why.path
                        )
                    })
                    .collect();
                let tangled = component.iter().map(|&m| self.name(m)).collect();
                cycles.push(Cycle {
                    tangled,
                    modules,
                    reasons,
                });
            }
        }
        cycles
    }
}

/// Leaves of a `use` tree: `(name bound, full path)`; a glob binds nothing.
fn use_tree(
    tokens: &[TokenTree],
    prefix: &mut Vec<String>,
    out: &mut Vec<(Option<String>, Vec<String>)>,
) {
    // Visibility (`pub`, `pub(crate)`) and a leading `::` are not part of
    // the path.
    let mut at = 0;
    if is_ident(tokens.first(), "pub") {
        at = 1;
        if matches!(tokens.get(1), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis)
        {
            at = 2;
        }
    }
    let base = prefix.len();
    while at < tokens.len() {
        match &tokens[at] {
            TokenTree::Ident(ident) => {
                let word = ident.to_string();
                if word == "as" {
                    if let Some(TokenTree::Ident(alias)) = tokens.get(at + 1) {
                        let alias = alias.to_string();
                        if let Some(last) = out.last_mut() {
                            last.0 = (alias != "_").then_some(alias);
                        }
                    }
                    at += 2;
                    continue;
                }
                prefix.push(word);
                at += 1;
                if is_path_sep(tokens, at) {
                    at += 2;
                    continue;
                }
                // A leaf: `self` inside braces names the prefix itself.
                let mut path = prefix.clone();
                if path.last().is_some_and(|s| s == "self") && path.len() > 1 {
                    path.pop();
                }
                let name = path.last().cloned();
                out.push((name, path));
                prefix.truncate(base);
            }
            TokenTree::Group(group) if group.delimiter() == Delimiter::Brace => {
                let inner = trees(group.stream());
                for part in inner.split(|t| is_punct(Some(t), ',')) {
                    if !part.is_empty() {
                        use_tree(part, prefix, out);
                    }
                }
                prefix.truncate(base);
                at += 1;
            }
            TokenTree::Punct(p) if p.as_char() == '*' => {
                out.push((None, prefix.clone()));
                prefix.truncate(base);
                at += 1;
            }
            _ => at += 1,
        }
    }
    prefix.truncate(base);
}

/// Tarjan's strongly connected components of a graph given as adjacency.
fn strongly_connected(graph: &BTreeMap<usize, BTreeMap<usize, Why>>) -> Vec<Vec<usize>> {
    struct State<'a> {
        graph: &'a BTreeMap<usize, BTreeMap<usize, Why>>,
        index: BTreeMap<usize, usize>,
        low: BTreeMap<usize, usize>,
        stack: Vec<usize>,
        on_stack: BTreeSet<usize>,
        next: usize,
        components: Vec<Vec<usize>>,
    }
    fn visit(state: &mut State<'_>, node: usize) {
        state.index.insert(node, state.next);
        state.low.insert(node, state.next);
        state.next += 1;
        state.stack.push(node);
        state.on_stack.insert(node);
        let targets: Vec<usize> = state
            .graph
            .get(&node)
            .map(|t| t.keys().copied().collect())
            .unwrap_or_default();
        for target in targets {
            if !state.index.contains_key(&target) {
                visit(state, target);
                let low = state.low[&node].min(state.low[&target]);
                state.low.insert(node, low);
            } else if state.on_stack.contains(&target) {
                let low = state.low[&node].min(state.index[&target]);
                state.low.insert(node, low);
            }
        }
        if state.low[&node] == state.index[&node] {
            let mut component = Vec::new();
            while let Some(top) = state.stack.pop() {
                state.on_stack.remove(&top);
                component.push(top);
                if top == node {
                    break;
                }
            }
            component.sort_unstable();
            state.components.push(component);
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        components: Vec::new(),
    };
    let nodes: Vec<usize> = graph.keys().copied().collect();
    for node in nodes {
        if !state.index.contains_key(&node) {
            visit(&mut state, node);
        }
    }
    state.components
}

/// A shortest cycle through the first node of a strongly connected
/// component, the first node repeated at the end.
fn ring_through(graph: &BTreeMap<usize, BTreeMap<usize, Why>>, component: &[usize]) -> Vec<usize> {
    let start = component[0];
    let members: BTreeSet<usize> = component.iter().copied().collect();
    // Breadth-first from `start` inside the component, back to `start`.
    let mut came_from: BTreeMap<usize, usize> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for &next in graph.get(&node).map(BTreeMap::keys).into_iter().flatten() {
            if !members.contains(&next) {
                continue;
            }
            if next == start {
                let mut ring = vec![start];
                let mut current = node;
                while current != start {
                    ring.push(current);
                    current = came_from[&current];
                }
                ring.push(start);
                ring.reverse();
                return ring;
            }
            if let std::collections::btree_map::Entry::Vacant(entry) = came_from.entry(next) {
                entry.insert(node);
                queue.push_back(next);
            }
        }
    }
    component.to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn scratch(name: &str, files: &[(&str, &str)]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-modules-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        for (path, text) in files {
            let path = dir.join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        dir
    }

    #[test]
    fn a_cycle_through_the_roots_re_exports_is_named_with_its_paths() {
        let dir = scratch(
            "reexport",
            &[
                (
                    "src/lib.rs",
                    "mod client;\nmod config;\npub use client::Client;\npub use config::Builder;\n",
                ),
                ("src/client.rs", "use crate::Builder;\npub struct Client;\n"),
                (
                    "src/config.rs",
                    "//! crate::client::Client in a comment is no edge\npub struct Builder;\nfn f() -> crate::Client { todo!() }\n",
                ),
            ],
        );
        let cycles = cycles_of(&dir.join("src/lib.rs")).unwrap();
        assert_eq!(cycles.len(), 1, "{cycles:?}");
        assert_eq!(cycles[0].modules, ["client", "config", "client"]);
        assert_eq!(
            cycles[0].reasons,
            [
                "client -> config: src/client.rs names crate::Builder",
                "config -> client: src/config.rs names crate::Client",
            ]
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn nested_modules_count_for_their_top_sibling_and_inline_modules_are_read() {
        let dir = scratch(
            "nested",
            &[
                (
                    "src/lib.rs",
                    "mod a;\nmod b { pub fn g() { super::a::inner::f(); } }\n",
                ),
                ("src/a.rs", "pub(crate) mod inner;\n"),
                (
                    "src/a/inner.rs",
                    "pub(crate) fn f() { use crate::b as other; other::g(); }\n",
                ),
            ],
        );
        let cycles = cycles_of(&dir.join("src/lib.rs")).unwrap();
        assert_eq!(cycles.len(), 1, "{cycles:?}");
        assert_eq!(cycles[0].modules, ["a", "b", "a"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn parents_children_and_string_literals_are_no_cycle() {
        let dir = scratch(
            "clean",
            &[
                (
                    "src/main.rs",
                    "mod leaf;\nmod user;\nuse leaf::Leaf;\nfn main() { let _ = \"crate::user::X\"; user::run(); }\n",
                ),
                (
                    "src/leaf.rs",
                    "pub(crate) struct Leaf;\nmod tests { use super::*; use crate::Leaf as _; }\n",
                ),
                (
                    "src/user.rs",
                    "use crate::Leaf;\npub(crate) fn run() { let _ = Leaf; }\n",
                ),
            ],
        );
        assert!(cycles_of(&dir.join("src/main.rs")).unwrap().is_empty());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn macro_bodies_are_read() {
        let dir = scratch(
            "macro",
            &[
                (
                    "src/lib.rs",
                    "mod a;\nmod b;\npub use a::A;\npub use b::B;\n",
                ),
                (
                    "src/a.rs",
                    "pub struct A;\nmacro_rules! m { () => { $crate::B }; }\n",
                ),
                ("src/b.rs", "pub struct B(crate::a::A);\n"),
            ],
        );
        let cycles = cycles_of(&dir.join("src/lib.rs")).unwrap();
        assert_eq!(cycles.len(), 1, "{cycles:?}");
        assert_eq!(cycles[0].modules, ["a", "b", "a"]);
        fs::remove_dir_all(&dir).unwrap();
    }
}
