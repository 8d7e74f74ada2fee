//! The import rules of ARCHITECTURE.md, held by a test: it reads every `use`
//! and every `crate::…` path in `src/` and fails, naming file and line, when
//! a rule is broken.
//!
//! The breaks that exist today are listed in `KNOWN_BREAKS` and
//! `KNOWN_LOOP_EDGES`. A new break fails the test; so does a listed one that
//! is gone, so the lists only ever shrink.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// One reference from a file to a module or crate.
#[derive(Debug, Clone)]
struct Import {
    file: String,
    line: usize,
    /// `crate::remedy::Preview`, `sqlx::Pool`, `ratatui::layout::Rect`.
    path: String,
}

/// A file's place in the crate: `state/remedy.rs` is in `state`.
fn module_of(file: &str) -> String {
    let rel = file.trim_end_matches(".rs");
    let rel = rel.strip_suffix("/mod").unwrap_or(rel);
    rel.replace('/', "::")
}

fn top_of(module: &str) -> &str {
    module.split("::").next().unwrap_or(module)
}

struct Rule {
    name: &'static str,
    /// Does the rule apply to a file in this module?
    applies: fn(&str) -> bool,
    /// Path prefixes the file must not name.
    forbidden: &'static [&'static str],
}

fn is_core(m: &str) -> bool {
    m == "action" || m == "state" || m.starts_with("state::")
}
fn is_ui(m: &str) -> bool {
    m == "ui" || m.starts_with("ui::")
}
fn is_io_edge(m: &str) -> bool {
    ["sources", "remedy", "postmortem::export"]
        .iter()
        .any(|e| m == *e || m.starts_with(&format!("{e}::")))
}
/// Everything but the simulators themselves, the test fixtures and the shell
/// that wires the demo (`main`).
fn is_product(m: &str) -> bool {
    !(m == "main"
        || m == "fixtures"
        || m == "simulate"
        || m.starts_with("simulate::")
        || m == "sources::sim"
        || m.starts_with("sources::sim::"))
}

const RULES: &[Rule] = &[
    Rule {
        name: "the core (state, action) names no I/O, view or terminal module",
        applies: is_core,
        forbidden: &[
            "crate::ui",
            "crate::sources",
            "crate::remedy",
            "crate::postmortem",
            "crate::simulate",
            "sqlx",
            "lapin",
            "tokio::net",
            "crossterm",
            "ratatui",
        ],
    },
    Rule {
        name: "the view (ui) reads the state, never a source or a remediation",
        applies: is_ui,
        forbidden: &["crate::sources", "crate::remedy", "sqlx", "lapin"],
    },
    Rule {
        name: "sources, remediations and exports never draw",
        applies: is_io_edge,
        forbidden: &["crate::ui", "ratatui"],
    },
    Rule {
        name: "no product module depends on the simulators",
        applies: is_product,
        forbidden: &["crate::simulate", "crate::sources::sim"],
    },
];

/// Breaks of `RULES` that exist today: (file, forbidden prefix it names).
/// Each is to be removed by moving the shared word into the core's own
/// vocabulary (see ARCHITECTURE.md, "Known breaks of the import rules").
const KNOWN_BREAKS: &[(&str, &str)] = &[
    ("state/update.rs", "ratatui"),
    ("state/mod.rs", "ratatui"),
    ("cli.rs", "crate::simulate"),
];

/// Edges between top-level modules inside today's one import loop (fifteen
/// modules reach each other). No new edge may close a loop; these go as the
/// core gets its own vocabulary (ARCHITECTURE.md).
const KNOWN_LOOP_EDGES: &[(&str, &str)] = &[
    ("action", "alerts"),
    ("action", "state"),
    ("alerts", "config"),
    ("app", "action"),
    ("app", "postmortem"),
    ("app", "state"),
    ("app", "ui"),
    ("cli", "postmortem"),
    ("cli", "simulate"),
    ("cockpit", "action"),
    ("cockpit", "app"),
    ("cockpit", "config"),
    ("cockpit", "postmortem"),
    ("cockpit", "remedy"),
    ("cockpit", "runbook"),
    ("cockpit", "sources"),
    ("cockpit", "state"),
    ("cockpit", "terminal"),
    ("cockpit", "ui"),
    ("config", "alerts"),
    ("config", "state"),
    ("postmortem", "app"),
    ("postmortem", "config"),
    ("postmortem", "runbook"),
    ("postmortem", "state"),
    ("postmortem", "terminal"),
    ("remedy", "config"),
    ("remedy", "runbook"),
    ("remedy", "sources"),
    ("runbook", "remedy"),
    ("simulate", "cli"),
    ("simulate", "config"),
    ("simulate", "sources"),
    ("simulate", "topology"),
    ("sources", "action"),
    ("sources", "alerts"),
    ("sources", "config"),
    ("sources", "runbook"),
    ("state", "action"),
    ("state", "alerts"),
    ("state", "config"),
    ("terminal", "config"),
    ("topology", "config"),
    ("ui", "alerts"),
    ("ui", "config"),
    ("ui", "state"),
];

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The source with comments, string and char literals blanked (newlines
/// kept, so offsets still give line numbers), and unit-test modules cut: a
/// test may import what the product must not.
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let blank = |c: u8| if c == b'\n' { b'\n' } else { b' ' };
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                out.push(b' ');
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            let mut depth = 0;
            while i < b.len() {
                if b[i..].starts_with(b"/*") {
                    depth += 1;
                    out.extend_from_slice(b"  ");
                    i += 2;
                } else if b[i..].starts_with(b"*/") {
                    depth -= 1;
                    out.extend_from_slice(b"  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(b[i]));
                    i += 1;
                }
            }
        } else if b[i] == b'r' && (b[i..].starts_with(b"r\"") || b[i..].starts_with(b"r#")) {
            // Raw string: r"…", r#"…"#.
            let start = i;
            i += 1;
            let mut hashes = 0;
            while i < b.len() && b[i] == b'#' {
                hashes += 1;
                i += 1;
            }
            if i < b.len() && b[i] == b'"' {
                let close: Vec<u8> = std::iter::once(b'"')
                    .chain(std::iter::repeat_n(b'#', hashes))
                    .collect();
                i += 1;
                while i < b.len() && !b[i..].starts_with(&close) {
                    i += 1;
                }
                i = (i + close.len()).min(b.len());
                out.extend(b[start..i].iter().map(|&c| blank(c)));
            } else {
                out.extend_from_slice(&b[start..i]);
            }
        } else if b[i] == b'"' {
            out.push(b' ');
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' && i + 1 < b.len() {
                    out.push(b' ');
                    i += 1;
                }
                out.push(blank(b[i]));
                i += 1;
            }
            out.push(b' ');
            i += 1;
        } else if b[i] == b'\'' && i + 2 < b.len() && (b[i + 2] == b'\'' || b[i + 1] == b'\\') {
            // A char literal ('x', '\n', '\''), not a lifetime.
            let start = i;
            i += 1;
            if b[i] == b'\\' {
                i += 2;
            } else {
                i += 1;
            }
            while i < b.len() && b[i] != b'\'' {
                i += 1;
            }
            i = (i + 1).min(b.len());
            out.extend(b[start..i].iter().map(|&c| blank(c)));
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    let code = String::from_utf8_lossy(&out).into_owned();
    match code.find("#[cfg(test)]\nmod tests") {
        Some(at) => code[..at].to_string(),
        None => code,
    }
}

/// Expands a `use` tree (`crate::{a::B, c::{self, D}}`) into whole paths.
fn expand_use_tree(tree: &str) -> Vec<String> {
    // `D as E` keeps its name `D`; every other space goes.
    let tree = tree.split_whitespace().collect::<Vec<_>>().join(" ");
    let tree = tree.replace(" as ", "@").replace(' ', "");
    fn go(prefix: &str, tree: &str, out: &mut Vec<String>) {
        match tree.find('{') {
            None => {
                let path = tree.split('@').next().unwrap_or(tree);
                let whole = if prefix.is_empty() {
                    path.to_string()
                } else if path == "self" {
                    prefix.trim_end_matches("::").to_string()
                } else {
                    format!("{prefix}{path}")
                };
                if !whole.is_empty() {
                    out.push(whole);
                }
            }
            Some(open) => {
                let head = &tree[..open];
                let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
                let mut depth = 0;
                let mut start = 0;
                let bytes = inner.as_bytes();
                for (i, &c) in bytes.iter().enumerate() {
                    match c {
                        b'{' => depth += 1,
                        b'}' => depth -= 1,
                        b',' if depth == 0 => {
                            go(&format!("{prefix}{head}"), &inner[start..i], out);
                            start = i + 1;
                        }
                        _ => {}
                    }
                }
                if start < inner.len() {
                    go(&format!("{prefix}{head}"), &inner[start..], out);
                }
            }
        }
    }
    let mut out = Vec::new();
    go("", &tree, &mut out);
    out
}

fn line_of(code: &str, offset: usize) -> usize {
    code[..offset].bytes().filter(|&c| c == b'\n').count() + 1
}

const WATCHED_CRATES: &[&str] = &["sqlx", "lapin", "tokio", "crossterm", "ratatui"];

/// Every reference in one file: its `use` statements, expanded, and the
/// `crate::…` / watched-crate paths written inline in the code.
fn imports_of(file: &str, text: &str) -> Vec<Import> {
    let code = code_only(text);
    let mut found = Vec::new();
    // `use` statements, possibly over several lines.
    let mut search = 0;
    while let Some(pos) = code[search..].find("use ") {
        let at = search + pos;
        search = at + 4;
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let Some(end) = code[at..].find(';') else {
            break;
        };
        let body = &code[at + 4..at + end];
        for path in expand_use_tree(body) {
            found.push(Import {
                file: file.to_string(),
                line: line_of(&code, at),
                path,
            });
        }
        search = at + end;
    }
    // Inline paths: `crate::remedy::X`, `orderdeck::…` (the binary), `sqlx::…`.
    let bytes = code.as_bytes();
    for root in ["crate::", "orderdeck::"]
        .iter()
        .chain(WATCHED_CRATES.iter().map(|c| match *c {
            "sqlx" => &"sqlx::",
            "lapin" => &"lapin::",
            "tokio" => &"tokio::",
            "crossterm" => &"crossterm::",
            _ => &"ratatui::",
        }))
    {
        let mut from = 0;
        while let Some(pos) = code[from..].find(root) {
            let at = from + pos;
            from = at + root.len();
            if at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_') {
                continue;
            }
            let end = code[at..]
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .map_or(code.len(), |e| at + e);
            found.push(Import {
                file: file.to_string(),
                line: line_of(&code, at),
                path: code[at..end].trim_end_matches(':').to_string(),
            });
        }
    }
    // The binary names the library `orderdeck::`; the rules speak of `crate::`.
    for i in &mut found {
        if let Some(rest) = i.path.strip_prefix("orderdeck::") {
            i.path = format!("crate::{rest}");
        }
    }
    found
}

fn names(path: &str, prefix: &str) -> bool {
    path == prefix || path.starts_with(&format!("{prefix}::"))
}

fn all_imports() -> Vec<Import> {
    let src = src_dir();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut all = Vec::new();
    for path in files {
        let rel = path
            .strip_prefix(&src)
            .expect("under src")
            .to_string_lossy()
            .replace('\\', "/");
        // Unit-test files of a module (`mod tests;` in a `#[cfg(test)]`).
        if rel.ends_with("/tests.rs") {
            continue;
        }
        let text =
            fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        all.extend(imports_of(&rel, &text));
    }
    all
}

/// The rule breaks in `imports`: (file, forbidden prefix) → first line and rule.
fn rule_breaks(imports: &[Import]) -> BTreeMap<(String, String), (usize, &'static str, String)> {
    let mut breaks = BTreeMap::new();
    for i in imports {
        let module = module_of(&i.file);
        for rule in RULES {
            if !(rule.applies)(&module) {
                continue;
            }
            for prefix in rule.forbidden {
                if names(&i.path, prefix) {
                    breaks
                        .entry((i.file.clone(), prefix.to_string()))
                        .or_insert((i.line, rule.name, i.path.clone()));
                }
            }
        }
    }
    breaks
}

/// Edges between top-level modules, with one place each is made.
fn module_edges(imports: &[Import]) -> BTreeMap<(String, String), (String, usize)> {
    let mut edges = BTreeMap::new();
    for i in imports {
        let Some(rest) = i.path.strip_prefix("crate::") else {
            continue;
        };
        let to = rest.split("::").next().unwrap_or(rest).to_string();
        let from = top_of(&module_of(&i.file)).to_string();
        if to != from && to != "self" && to != "super" {
            edges.entry((from, to)).or_insert((i.file.clone(), i.line));
        }
    }
    edges
}

/// Strongly connected components with more than one module (Tarjan).
fn loops(edges: &BTreeSet<(String, String)>) -> Vec<BTreeSet<String>> {
    let nodes: BTreeSet<&String> = edges.iter().flat_map(|(a, b)| [a, b]).collect();
    let nodes: Vec<&String> = nodes.into_iter().collect();
    let index_of = |n: &String| nodes.iter().position(|m| *m == n).expect("node");
    let mut adj = vec![Vec::new(); nodes.len()];
    for (a, b) in edges {
        adj[index_of(a)].push(index_of(b));
    }
    struct T {
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    fn visit(v: usize, adj: &[Vec<usize>], t: &mut T) {
        t.index[v] = Some(t.next);
        t.low[v] = t.next;
        t.next += 1;
        t.stack.push(v);
        t.on[v] = true;
        for &w in &adj[v] {
            match t.index[w] {
                None => {
                    visit(w, adj, t);
                    t.low[v] = t.low[v].min(t.low[w]);
                }
                Some(iw) if t.on[w] => t.low[v] = t.low[v].min(iw),
                Some(_) => {}
            }
        }
        if Some(t.low[v]) == t.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on[w] = false;
                comp.push(w);
                if w == v {
                    break;
                }
            }
            t.out.push(comp);
        }
    }
    let n = nodes.len();
    let mut t = T {
        index: vec![None; n],
        low: vec![0; n],
        on: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if t.index[v].is_none() {
            visit(v, &adj, &mut t);
        }
    }
    t.out
        .into_iter()
        .filter(|c| c.len() > 1)
        .map(|c| c.into_iter().map(|i| nodes[i].clone()).collect())
        .collect()
}

#[test]
fn the_import_rules_hold() {
    let imports = all_imports();
    let breaks = rule_breaks(&imports);
    let known: BTreeSet<(String, String)> = KNOWN_BREAKS
        .iter()
        .map(|(f, p)| (f.to_string(), p.to_string()))
        .collect();
    let mut problems = Vec::new();
    for ((file, prefix), (line, rule, path)) in &breaks {
        if !known.contains(&(file.clone(), prefix.clone())) {
            problems.push(format!("src/{file}:{line}: names `{path}`: {rule}"));
        }
    }
    for (file, prefix) in &known {
        if !breaks.contains_key(&(file.clone(), prefix.clone())) {
            problems.push(format!(
                "src/{file} no longer names `{prefix}`: strike it from KNOWN_BREAKS"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "import rules broken:\n{}",
        problems.join("\n")
    );
}

#[test]
fn no_new_import_loop_between_top_level_modules() {
    let imports = all_imports();
    let edges = module_edges(&imports);
    let known: BTreeSet<(String, String)> = KNOWN_LOOP_EDGES
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    // Without the known loop edges, the graph must have no loop left.
    let rest: BTreeSet<(String, String)> = edges
        .keys()
        .filter(|e| !known.contains(*e))
        .cloned()
        .collect();
    let mut problems = Vec::new();
    for comp in loops(&rest) {
        let places: Vec<String> = rest
            .iter()
            .filter(|(a, b)| comp.contains(a) && comp.contains(b))
            .map(|(a, b)| {
                let (file, line) = &edges[&(a.clone(), b.clone())];
                format!("  {a} -> {b} (src/{file}:{line})")
            })
            .collect();
        problems.push(format!(
            "import loop between {}:\n{}",
            comp.iter().cloned().collect::<Vec<_>>().join(", "),
            places.join("\n")
        ));
    }
    for (a, b) in &known {
        if !edges.contains_key(&(a.clone(), b.clone())) {
            problems.push(format!(
                "{a} no longer imports {b}: strike ({a:?}, {b:?}) from KNOWN_LOOP_EDGES"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// The checker itself must be able to fail: these feed it broken code.

#[test]
fn a_core_file_naming_a_source_is_caught_with_its_line() {
    let text =
        "//! state\nuse crate::model::X;\nuse crate::{alerts::A, sources::{SourceError, store}};\n";
    let imports = imports_of("state/broken.rs", text);
    let breaks = rule_breaks(&imports);
    let (line, _, path) = breaks
        .get(&("state/broken.rs".to_string(), "crate::sources".to_string()))
        .expect("the break is found");
    assert_eq!(*line, 3);
    assert_eq!(path, "crate::sources::SourceError");
}

#[test]
fn inline_paths_count_but_comments_strings_and_tests_do_not() {
    let text = "fn f() { let r = ratatui::layout::Rect::default(); }\n\
                // use crate::remedy::X;\n\
                const S: &str = \"crate::remedy::Y\";\n\
                #[cfg(test)]\nmod tests {\n use crate::remedy::Z;\n}\n";
    let imports = imports_of("state/x.rs", text);
    let paths: Vec<&str> = imports.iter().map(|i| i.path.as_str()).collect();
    assert_eq!(paths, vec!["ratatui::layout::Rect::default"]);
}

#[test]
fn a_loop_is_found() {
    let edges: BTreeSet<(String, String)> = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")]
        .iter()
        .map(|(x, y)| (x.to_string(), y.to_string()))
        .collect();
    let found = loops(&edges);
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].iter().cloned().collect::<Vec<_>>(),
        vec!["a", "b", "c"]
    );
}

#[test]
fn use_trees_expand_to_whole_paths() {
    assert_eq!(
        expand_use_tree("crate::{a::B, c::{self, D as E}}"),
        vec!["crate::a::B", "crate::c", "crate::c::D"]
    );
}
