//! Every "why" in the code points at a section of a document in the repository.
//!
//! Comments cite the design as a path under docs/ followed by a comma and the quoted `## `
//! heading (docs/architecture.md, "Invariants" is one). These tests read the sources, the
//! README and docs/*.md, and fail with a file:line list of
//!
//! - cites whose document or heading does not exist (a renamed heading breaks them), and
//! - old-style cites left in src/: section numbers of design files that are not in the
//!   repository (the `§` sign, DESIGN.md, "section 9", bare digest numbers in parentheses).
//!
//! Comments are read with their line breaks folded, so a cite wrapped over two comment lines
//! is still one cite.

use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The files whose comments or text may cite the design.
fn cited_files(dirs: &[&str], with_markdown: bool) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    for dir in dirs {
        walk(&root().join(dir), &mut files);
    }
    if with_markdown {
        files.push(root().join("README.md"));
        for entry in std::fs::read_dir(root().join("docs")).unwrap().flatten() {
            if entry.path().extension().is_some_and(|e| e == "md") {
                files.push(entry.path());
            }
        }
        // The book's pages (docs/book/src/**/*.md).
        let mut pages = Vec::new();
        walk_markdown(&root().join("docs/book/src"), &mut pages);
        files.extend(pages);
    }
    files.sort();
    files
}

fn walk_markdown(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk_markdown(&path, out);
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
}

/// The comment part of a line of Rust, or `None` when it has none. Tracks string literals so
/// that `"https://..."` is not taken for a comment.
fn rust_comment(line: &str) -> Option<&str> {
    let bytes = line.as_bytes();
    let (mut in_str, mut in_char, mut i) = (false, false, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if in_str || in_char => i += 1,
            b'"' if !in_char => in_str = !in_str,
            // A char literal such as '"'; lifetimes ('a) have no closing quote nearby.
            b'\''
                if !in_str
                    && (in_char
                        || bytes.get(i + 2) == Some(&b'\'')
                        || bytes.get(i + 1) == Some(&b'\\')) =>
            {
                in_char = !in_char;
            }
            b'/' if !in_str && !in_char && bytes.get(i + 1) == Some(&b'/') => {
                return Some(line[i..].trim_start_matches(['/', '!']));
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// A file's citable text with line breaks folded into spaces, and where each line starts in it.
struct Folded {
    text: String,
    starts: Vec<(usize, usize)>,
}

impl Folded {
    fn read(path: &Path) -> Folded {
        let source = std::fs::read_to_string(path).unwrap();
        let is_rust = path.extension().is_some_and(|e| e == "rs");
        let mut folded = Folded {
            text: String::new(),
            starts: Vec::new(),
        };
        for (n, line) in source.lines().enumerate() {
            let part = if is_rust {
                rust_comment(line)
            } else {
                Some(line)
            };
            let Some(part) = part else { continue };
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            if !folded.text.is_empty() {
                folded.text.push(' ');
            }
            folded.starts.push((folded.text.len(), n + 1));
            folded.text.push_str(part);
        }
        folded
    }

    /// The line number of a byte offset of `text`.
    fn line(&self, offset: usize) -> usize {
        let i = self.starts.partition_point(|&(start, _)| start <= offset);
        self.starts[i.saturating_sub(1)].1
    }
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The `## ` headings of a document under docs/ (the book's pages are under docs/book/src/), or
/// `None` when it does not exist. `README.md` names the README at the root.
fn headings(doc: &str) -> Option<Vec<String>> {
    let path = if doc == "README.md" {
        root().join(doc)
    } else {
        root().join("docs").join(doc)
    };
    let text = std::fs::read_to_string(path).ok()?;
    Some(
        text.lines()
            .filter_map(|l| l.strip_prefix("## "))
            .map(|h| h.trim().to_string())
            .collect(),
    )
}

/// One cite: the document's path under docs/ (or `README.md` for a cite of a README heading,
/// written README, a comma and the quoted heading), the quoted title, and where it starts.
fn cites(text: &str) -> Vec<(String, String, usize)> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices("README, \"") {
        let quoted = &text[at + "README, \"".len()..];
        if let Some(end) = quoted.find('"').filter(|&end| end <= 120) {
            found.push(("README.md".into(), quoted[..end].to_string(), at));
        }
    }
    for (at, _) in text.match_indices("docs/") {
        let rest = &text[at + "docs/".len()..];
        let name_len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '/'))
            .unwrap_or(rest.len());
        let Some(after) = rest[name_len..].strip_prefix(".md,") else {
            continue;
        };
        let Some(quoted) = after.trim_start().strip_prefix('"') else {
            continue;
        };
        let Some(end) = quoted.find('"').filter(|&end| end <= 120) else {
            continue;
        };
        found.push((
            format!("{}.md", &rest[..name_len]),
            quoted[..end].to_string(),
            at,
        ));
    }
    found
}

#[test]
fn every_cited_section_exists() {
    let mut problems = Vec::new();
    let mut count = 0;
    for path in cited_files(&["src", "tests", "benches"], true) {
        let folded = Folded::read(&path);
        for (doc, title, at) in cites(&folded.text) {
            count += 1;
            let place = format!("{}:{}", relative(&path), folded.line(at));
            let shown = if doc == "README.md" {
                doc.clone()
            } else {
                format!("docs/{doc}")
            };
            match headings(&doc) {
                None => problems.push(format!("{place}: {shown} does not exist")),
                Some(h) if !h.contains(&title) => problems.push(format!(
                    "{place}: {shown} has no section \"{title}\" (its sections: {})",
                    h.join(" | ")
                )),
                Some(_) => {}
            }
        }
    }
    // The scan itself must find the cites this repository is known to hold.
    assert!(
        count >= 20,
        "only {count} cites found: is the scanner broken?"
    );
    assert!(
        problems.is_empty(),
        "{} of {count} cites point at nothing:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// An old-style cite at the start of `s`, if any: what to report.
fn old_style_at(s: &str) -> Option<String> {
    let lower = s.to_ascii_lowercase();
    if s.starts_with("DESIGN.md") {
        return Some("DESIGN.md is not in the repository".into());
    }
    if s.starts_with('§') {
        return Some("a `§` section number".into());
    }
    if let Some(rest) = s.strip_prefix("docspace-api.md") {
        let rest = rest.trim_start();
        if rest.starts_with(|c: char| c.is_ascii_digit())
            || rest.starts_with('§')
            || rest.to_ascii_lowercase().starts_with("section")
        {
            return Some("docspace-api.md with a section number".into());
        }
    }
    for word in ["section ", "sections "] {
        if let Some(rest) = lower.strip_prefix(word)
            && rest.starts_with(|c: char| c.is_ascii_digit())
        {
            return Some("\"section N\" of a design file".into());
        }
    }
    // A bare digest number in parentheses: "(5.4)", "(2.2, 5.1)", "(5.1, section 9)".
    if let Some(inner) = s.strip_prefix('(').and_then(|r| r.split(')').next()) {
        let numbered = |part: &str| {
            let part = part.trim().trim_start_matches("section ");
            let mut halves = part.splitn(2, '.');
            let major = halves.next().unwrap_or_default();
            let minor = halves.next();
            !major.is_empty()
                && major.len() <= 2
                && major.chars().all(|c| c.is_ascii_digit())
                && minor.is_some_and(|m| !m.is_empty() && m.chars().all(|c| c.is_ascii_digit()))
        };
        if inner.split(',').any(numbered)
            && inner
                .split(',')
                .all(|p| numbered(p) || p.trim().starts_with("section "))
        {
            return Some(format!("a bare digest number ({inner})"));
        }
    }
    None
}

#[test]
fn no_old_style_cites_remain_in_src() {
    let mut problems = Vec::new();
    for path in cited_files(&["src"], false) {
        let folded = Folded::read(&path);
        let text = &folded.text;
        // One report per old cite: "docspace-api.md section 7" is not also a "section 7".
        let mut reported_until = 0;
        for (at, _) in text.char_indices() {
            let boundary = at == 0 || !text[..at].ends_with(|c: char| c.is_ascii_alphanumeric());
            if !boundary || at < reported_until {
                continue;
            }
            if let Some(what) = old_style_at(&text[at..]) {
                reported_until = at + text[at..].find([')', ':']).unwrap_or(0);
                let end = text[at..]
                    .char_indices()
                    .nth(40)
                    .map_or(text.len(), |(i, _)| at + i);
                problems.push(format!(
                    "{}:{}: {what}: \"{}\"",
                    relative(&path),
                    folded.line(at),
                    &text[at..end]
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} old-style cites in src/ (cite a `## ` section of docs/architecture.md or \
         docs/docspace-api.md instead, see docs/architecture.md):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// The scanners themselves: a wrapped cite is one cite, a bare file mention is none, and the
/// old styles are recognised while ordinary numbers are not.
#[test]
fn the_scanners_read_cites_the_way_comments_write_them() {
    let wrapped = "see (docs/docspace-api.md, \"Room listing and the key user's preferences\") and";
    let found = cites(wrapped);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, "docspace-api.md");
    assert_eq!(found[0].1, "Room listing and the key user's preferences");
    assert!(cites("the whole of docs/apply.md describes it").is_empty());
    let book = cites("(docs/book/src/howto/pruning.md, \"Which rooms a set owns\")");
    assert_eq!(book[0].0, "book/src/howto/pruning.md");
    assert_eq!(cites("(README, \"Quick start\")")[0].0, "README.md");

    assert_eq!(
        rust_comment("let u = \"https://x\"; // why (5.4)"),
        Some(" why (5.4)")
    );
    assert_eq!(rust_comment("let u = \"https://x\";"), None);
    assert_eq!(rust_comment("if c == '\"' { x } // why"), Some(" why"));
    assert_eq!(rust_comment("fn f<'a>(s: &'a str) {} // why"), Some(" why"));

    for old in [
        "DESIGN.md section 4",
        "§5.1",
        "docspace-api.md 5.4",
        "section 9: no keys",
        "(5.4)",
        "(2.2, 5.1)",
        "(5.1, section 9)",
    ] {
        assert!(old_style_at(old).is_some(), "{old} not recognised");
    }
    for fine in [
        "(v0.6)",
        "(1 s)",
        "(3 rooms)",
        "docs/docspace-api.md, \"Tags\"",
        "(HTTP 1.1 only, no h2)",
    ] {
        assert!(old_style_at(fine).is_none(), "{fine} taken for an old cite");
    }
}

/// Issues 22–25, "Must show": the README sections each issue names exist as headings, and
/// "Check your portal first" carries the scope table.
#[test]
fn the_readme_has_the_sections_issues_22_to_25_ask_for() {
    let found = headings("README.md").expect("README.md");
    for wanted in [
        "Check your portal first",
        "Groups",
        "People",
        "Rooms from templates",
        "Who can enter what",
        "Policies and audit",
    ] {
        assert!(
            found.iter().any(|h| h == wanted),
            "README has no section {wanted:?}: {found:?}"
        );
    }
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let check = &readme[readme.find("## Check your portal first").unwrap()..];
    let check = &check[..check[3..].find("\n## ").map_or(check.len(), |i| i + 3)];
    assert!(
        check.contains("<!-- scope-table:") && check.contains("| `doctor --scratch` |"),
        "{check}"
    );
}
