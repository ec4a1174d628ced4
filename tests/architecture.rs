//! The shape of `src/`: no import cycle between files, and no file too long to read.
//!
//! A file depends on another when it names an item of it: `use crate::a::b::Item`,
//! `crate::a::f(…)`, `super::Item`, `use child::Item`. A path is resolved to the longest prefix
//! that is a module file; an item reached through a parent's re-export (`super::Item` where the
//! parent only re-exports it) counts as a dependency on the parent, which is why children name
//! their siblings directly. `lib.rs` (the composition root: module list, `note!`, `run`) and
//! each file's `#[cfg(test)]` module are left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 600;

type Module = Vec<String>;

fn module_of(src: &Path, file: &Path) -> Module {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> =
        rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The file's code without its test module, comments, string and char literals.
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    let b = text.as_bytes();
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
            }
            b'r' if b.get(i + 1) == Some(&b'#')
                || (b.get(i + 1) == Some(&b'"') && !ident(b, i)) =>
            {
                // A raw string: r"…", r#"…"#.
                let mut j = i + 1;
                let mut hashes = 0;
                while b.get(j) == Some(&b'#') {
                    hashes += 1;
                    j += 1;
                }
                if b.get(j) != Some(&b'"') {
                    out.push('r');
                    i += 1;
                    continue;
                }
                j += 1;
                let close: Vec<u8> =
                    std::iter::once(b'"').chain(std::iter::repeat_n(b'#', hashes)).collect();
                while j < b.len() && !b[j..].starts_with(&close) {
                    j += 1;
                }
                i = j + close.len();
                out.push_str("\"\"");
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                out.push_str("\"\"");
            }
            b'\'' if b.get(i + 2) == Some(&b'\'') || b.get(i + 1) == Some(&b'\\') => {
                // A char literal ('a', '\n', '\u{feff}'); a lifetime has no closing quote.
                let mut j = i + 1;
                while j < b.len() && b[j] != b'\'' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                i = j + 1;
                out.push_str("' '");
            }
            c => {
                out.push(c as char);
                i += 1;
            }
        }
    }
    out
}

fn ident(b: &[u8], i: usize) -> bool {
    i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')
}

/// Expands `a::{b, c::{d, e}}` into full paths.
fn expand(tree: &str) -> Vec<Vec<String>> {
    let tree: String = tree.chars().filter(|c| !c.is_whitespace()).collect();
    let mut out = Vec::new();
    expand_into(&tree, &mut Vec::new(), &mut out);
    out
}

fn expand_into(tree: &str, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    let Some(open) = tree.find('{') else {
        let mut path = prefix.clone();
        path.extend(
            tree.split("::")
                .filter(|s| !s.is_empty())
                .map(|s| s.split(" as ").next().unwrap().split("as").next().unwrap().to_string()),
        );
        out.push(path);
        return;
    };
    let head: Vec<String> =
        tree[..open].split("::").filter(|s| !s.is_empty()).map(str::to_string).collect();
    let inner = &tree[open + 1..tree.rfind('}').unwrap()];
    let mut depth = 0;
    let mut start = 0;
    let mut parts = Vec::new();
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    let n = prefix.len();
    prefix.extend(head);
    for p in parts.into_iter().filter(|p| !p.is_empty()) {
        expand_into(p, prefix, out);
    }
    prefix.truncate(n);
}

/// Every path the code names: `use` trees expanded, and inline `crate::…`, `super::…`,
/// `self::…` paths and paths into the module's own children (`why::label(…)`).
fn paths(code: &str, children: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("use ") {
        let before = rest[..i].chars().last();
        let after = &rest[i + 4..];
        rest = after;
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(end) = after.find(';') {
            out.extend(expand(&after[..end]));
        }
    }
    let b = code.as_bytes();
    let starts: Vec<String> = ["crate", "super", "self"]
        .iter()
        .map(|s| s.to_string())
        .chain(children.iter().cloned())
        .map(|s| format!("{s}::"))
        .collect();
    for start in starts.iter().map(String::as_str) {
        let mut from = 0;
        while let Some(k) = code[from..].find(start) {
            let i = from + k;
            from = i + start.len();
            if ident(b, i) || (i >= 2 && &code[i - 2..i] == "::") {
                continue;
            }
            let mut j = i;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] == b':') {
                j += 1;
            }
            out.push(
                code[i..j].split("::").filter(|s| !s.is_empty()).map(str::to_string).collect(),
            );
        }
    }
    out
}

/// The module file a path names from `module` (whose own file is `is_dir` a `mod.rs`).
fn resolve(path: &[String], module: &Module, modules: &BTreeSet<Module>) -> Option<Module> {
    let (mut base, rest): (Module, &[String]) = match path.first()?.as_str() {
        "crate" => (Vec::new(), &path[1..]),
        "self" => (module.clone(), &path[1..]),
        "super" => {
            let mut base = module.clone();
            let mut k = 0;
            while path.get(k).is_some_and(|s| s == "super") {
                base.pop();
                k += 1;
            }
            (base, &path[k..])
        }
        first => {
            let mut child = module.clone();
            child.push(first.to_string());
            if !modules.contains(&child) {
                return None;
            }
            (module.clone(), path)
        }
    };
    for seg in rest {
        let mut next = base.clone();
        next.push(seg.clone());
        if modules.contains(&next) {
            base = next;
        } else {
            break;
        }
    }
    Some(base)
}

fn graph() -> (BTreeMap<Module, BTreeSet<Module>>, BTreeMap<Module, usize>) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.retain(|f| !f.ends_with("main.rs"));
    let modules: BTreeSet<Module> = files.iter().map(|f| module_of(&src, f)).collect();
    let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    let mut lines = BTreeMap::new();
    for f in &files {
        let module = module_of(&src, f);
        let text = std::fs::read_to_string(f).unwrap();
        lines.insert(module.clone(), text.lines().count());
        if module.is_empty() {
            continue;
        }
        let deps = edges.entry(module.clone()).or_default();
        let children: Vec<String> = modules
            .iter()
            .filter(|m| m.len() == module.len() + 1 && m.starts_with(&module))
            .map(|m| m.last().unwrap().clone())
            .collect();
        for p in paths(&code_of(&text), &children) {
            if let Some(target) = resolve(&p, &module, &modules)
                && target != module
                && !target.is_empty()
            {
                deps.insert(target);
            }
        }
    }
    (edges, lines)
}

/// Strongly connected components of more than one file (Tarjan).
fn cycles(edges: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<String>> {
    struct State<'a> {
        edges: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<&'a Module, usize>,
        low: BTreeMap<&'a Module, usize>,
        stack: Vec<&'a Module>,
        on: BTreeSet<&'a Module>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a Module) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on.insert(v);
        for w in s.edges.get(v).into_iter().flatten() {
            let Some((w, _)) = s.edges.get_key_value(w) else { continue };
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.on.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut scc = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on.remove(w);
                scc.push(w.join("::"));
                if w == v {
                    break;
                }
            }
            if scc.len() > 1 {
                scc.sort();
                s.out.push(scc);
            }
        }
    }
    let mut s = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !s.index.contains_key(v) {
            visit(&mut s, v);
        }
    }
    s.out
}

#[test]
fn no_import_cycle_between_files() {
    let (edges, _) = graph();
    let found = cycles(&edges);
    let show: Vec<String> = found
        .iter()
        .map(|scc| {
            let within: Vec<String> = scc
                .iter()
                .flat_map(|a| {
                    let from: Module = a.split("::").map(str::to_string).collect();
                    edges[&from]
                        .iter()
                        .filter(|t| scc.contains(&t.join("::")))
                        .map(move |t| format!("{a} → {}", t.join("::")))
                })
                .collect();
            within.join("\n  ")
        })
        .collect();
    assert!(found.is_empty(), "import cycles between files:\n  {}", show.join("\n\n  "));
}

#[test]
fn the_checker_finds_a_cycle_through_a_parents_re_export() {
    let modules: BTreeSet<Module> =
        [vec!["a".to_string()], vec!["a".to_string(), "b".to_string()]].into_iter().collect();
    let child = vec!["a".to_string(), "b".to_string()];
    let parent = vec!["a".to_string()];
    let code = code_of("use super::{Thing, b::Other};\nfn f() { let s = \"crate::x\"; }\n");
    let targets: BTreeSet<Module> =
        paths(&code, &[]).iter().filter_map(|p| resolve(p, &child, &modules)).collect();
    assert!(targets.contains(&parent), "{targets:?}");
    let edges: BTreeMap<Module, BTreeSet<Module>> =
        [(parent.clone(), [child.clone()].into()), (child, [parent].into())].into();
    assert_eq!(cycles(&edges).len(), 1);
}

#[test]
fn no_file_in_src_is_over_600_lines() {
    let (_, lines) = graph();
    let long: Vec<String> = lines
        .iter()
        .filter(|(_, n)| **n > MAX_LINES)
        .map(|(m, n)| {
            format!("{} ({n} lines)", if m.is_empty() { "lib".into() } else { m.join("::") })
        })
        .collect();
    assert!(long.is_empty(), "files over {MAX_LINES} lines: {}", long.join(", "));
}

/// The layers of `src/lib.rs`'s comment, lowest first: a file names only its own layer and
/// those below it.
const LAYERS: [&str; 10] =
    ["exit", "model", "io", "metrics", "diagnosis", "render", "sim", "app", "cli", "commands"];

#[test]
fn every_layer_depends_only_on_the_layers_below_it() {
    let (edges, _) = graph();
    let rank = |m: &Module| m.first().and_then(|top| LAYERS.iter().position(|l| l == top));
    let upward: Vec<String> = edges
        .iter()
        .flat_map(|(from, deps)| deps.iter().map(move |to| (from, to)))
        .filter(|(from, to)| matches!((rank(from), rank(to)), (Some(a), Some(b)) if b > a))
        .map(|(from, to)| format!("{} → {}", from.join("::"), to.join("::")))
        .collect();
    assert!(upward.is_empty(), "imports up the layers:\n  {}", upward.join("\n  "));
}
