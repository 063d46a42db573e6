//! The documentation book in `docs/book/` (mdBook layout) stays true without building it:
//!
//! - every page is in `SUMMARY.md` and every `SUMMARY.md` entry is a page; every relative link
//!   and `{{#include}}` of a page (and of the README) resolves, anchors included; a link to a
//!   file of this repository on GitHub names a file that exists;
//! - every command, every long flag and every manifest key (the validator's key lists and the
//!   JSON Schema's properties) has an entry in the reference pages;
//! - the tutorial's sandbox steps (blocks marked ```` ```sh tutorial ````, and the files it
//!   asks to write, ```` ```yaml tutorial file=PATH ````) run as written, in order, against
//!   the sandbox; its real-portal steps (```` ```sh real-portal ````) are shown, not run;
//! - the README stays short, with the two quick-start commands first.
//!
//! `mdbook build` itself runs in the release workflow (installing mdBook here takes too long).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use clap::CommandFactory;
use docspace_provision::cli::Cli;
use docspace_provision::manifest::validate::{
    DEFAULTS_KEYS, GROUP_KEYS, INVITEE_KEYS, LIFETIME_KEYS, LINK_KEYS, PERSON_KEYS, ROOM_KEYS,
    TOP_KEYS, WATERMARK_KEYS,
};

/// Where links to files of this repository point, so they work on the built book too.
const REPO_BLOB: &str = "https://github.com/docspace-provision/docspace-provision/blob/main/";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn book_src() -> PathBuf {
    root().join("docs/book/src")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every Markdown page under `docs/book/src`, relative to it.
fn pages() -> BTreeSet<PathBuf> {
    fn walk(dir: &Path, base: &Path, out: &mut BTreeSet<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, base, out);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.insert(path.strip_prefix(base).unwrap().to_path_buf());
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(&book_src(), &book_src(), &mut out);
    out
}

/// A page's text outside fenced code blocks (where `](x)` is code, not a link).
fn prose(text: &str) -> String {
    let mut out = String::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The targets of the Markdown links `[text](target)` of some prose.
fn link_targets(prose: &str) -> Vec<String> {
    prose
        .match_indices("](")
        .filter_map(|(at, _)| {
            let rest = &prose[at + 2..];
            let end = rest.find([')', ' ', '\n'])?;
            Some(rest[..end].to_string())
        })
        .collect()
}

/// mdBook's id for a heading: lower case, spaces to `-`, only letters, digits, `-` and `_`.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a page's headings.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut fenced = false;
    let mut out = BTreeSet::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced && line.starts_with('#') {
            out.insert(anchor(line.trim_start_matches('#')));
        }
    }
    out
}

/// Problems with one link target of the file `from`.
fn check_link(from: &Path, target: &str, problems: &mut Vec<String>) {
    let place = from
        .strip_prefix(root())
        .unwrap_or(from)
        .display()
        .to_string();
    if let Some(path) = target.strip_prefix(REPO_BLOB) {
        let path = path.split('#').next().unwrap_or_default();
        if !root().join(path).exists() {
            problems.push(format!(
                "{place}: {target}: no file {path} in the repository"
            ));
        }
        return;
    }
    if target.contains("://") || target.starts_with("mailto:") {
        return;
    }
    let (file, fragment) = target.split_once('#').unwrap_or((target, ""));
    let linked = if file.is_empty() {
        from.to_path_buf()
    } else {
        from.parent().unwrap().join(file)
    };
    if !linked.exists() {
        problems.push(format!("{place}: link {target}: {file} does not exist"));
        return;
    }
    if !fragment.is_empty()
        && linked.extension().is_some_and(|e| e == "md")
        && !anchors(&read(&linked)).contains(fragment)
    {
        problems.push(format!("{place}: link {target}: no heading #{fragment}"));
    }
}

#[test]
fn every_page_is_in_the_summary_and_every_entry_is_a_page() {
    let summary = read(&book_src().join("SUMMARY.md"));
    let listed: BTreeSet<PathBuf> = link_targets(&prose(&summary))
        .into_iter()
        .map(PathBuf::from)
        .collect();
    let mut problems = Vec::new();
    for entry in &listed {
        if !book_src().join(entry).is_file() {
            problems.push(format!(
                "SUMMARY.md lists {} but it does not exist",
                entry.display()
            ));
        }
    }
    for page in pages() {
        if page != Path::new("SUMMARY.md") && !listed.contains(&page) {
            problems.push(format!("{} is not in SUMMARY.md", page.display()));
        }
    }
    let toml = read(&root().join("docs/book/book.toml"));
    assert!(
        toml.contains("[book]") && toml.contains("src = \"src\""),
        "{toml}"
    );
    assert!(listed.len() >= 10, "only {} pages listed", listed.len());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_link_and_include_of_the_book_and_the_readme_resolves() {
    let mut problems = Vec::new();
    let mut files: Vec<PathBuf> = pages().iter().map(|p| book_src().join(p)).collect();
    files.push(root().join("README.md"));
    let mut count = 0;
    for file in &files {
        let text = read(file);
        for target in link_targets(&prose(&text)) {
            count += 1;
            check_link(file, &target, &mut problems);
        }
        // `{{#include path}}`, `{{#include path:anchor}}`, `{{#include path:2:10}}`.
        for (at, _) in text.match_indices("{{#include ") {
            let rest = &text[at + "{{#include ".len()..];
            let Some(end) = rest.find("}}") else {
                problems.push(format!("{}: unclosed include", file.display()));
                continue;
            };
            let path = rest[..end].trim().split(':').next().unwrap_or_default();
            if !file.parent().unwrap().join(path).is_file() {
                problems.push(format!("{}: include {path} does not exist", file.display()));
            }
        }
    }
    assert!(
        count >= 30,
        "only {count} links found: is the scanner broken?"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The text of a page's `## ` section with this heading.
fn section<'a>(page: &'a str, heading: &str) -> Option<&'a str> {
    let heading = format!("\n## {heading}\n");
    let start = page.find(&heading)? + heading.len();
    let rest = &page[start..];
    Some(&rest[..rest.find("\n## ").unwrap_or(rest.len())])
}

/// The reference's text about one command: its `` ## `name` `` section of the commands page.
fn command_section<'a>(page: &'a str, name: &str) -> Option<&'a str> {
    section(page, &format!("`{name}`"))
}

/// Whether `text` documents the flag `--long` (as `` `--long` ``, `` `--long VALUE` ``,
/// `` `--long=VALUE` `` or `` `--long[=AGE]` ``).
fn documents_flag(text: &str, long: &str) -> bool {
    let needle = format!("`--{long}");
    text.match_indices(&needle).any(|(at, _)| {
        matches!(
            text[at + needle.len()..].chars().next(),
            Some('`' | ' ' | '=' | '[')
        )
    })
}

#[test]
fn every_command_and_flag_has_a_reference_entry() {
    let page = read(&book_src().join("reference/commands.md"));
    let common = [
        section(&page, "Options of every command"),
        section(&page, "Portal options"),
    ];
    let mut problems = Vec::new();
    let mut flags = 0;
    let cli = Cli::command();
    for global in cli.get_arguments() {
        if let Some(long) = global.get_long()
            && !common.iter().flatten().any(|s| documents_flag(s, long))
        {
            problems.push(format!("--{long} (every command) has no entry"));
        }
    }
    for sub in cli.get_subcommands() {
        let name = sub.get_name();
        let Some(section) = command_section(&page, name) else {
            problems.push(format!("command `{name}` has no `## `{name}`` section"));
            continue;
        };
        for arg in sub.get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            flags += 1;
            // Options every command or every portal command takes are documented once.
            let documented = documents_flag(section, long)
                || common.iter().flatten().any(|s| documents_flag(s, long));
            if !documented {
                problems.push(format!("{name} --{long} has no entry"));
            }
        }
    }
    assert!(flags >= 40, "only {flags} flags found");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_manifest_key_has_a_reference_entry() {
    let page = read(&book_src().join("reference/manifest.md"));
    let mut problems = Vec::new();
    use docspace_provision::model::policy as rules;
    let groups: [(&str, &[&str]); 14] = [
        ("groups[].", GROUP_KEYS),
        ("people[].", PERSON_KEYS),
        ("", TOP_KEYS),
        ("defaults.", DEFAULTS_KEYS),
        ("rooms[].", ROOM_KEYS),
        ("invitees[].", INVITEE_KEYS),
        ("links[].", LINK_KEYS),
        ("lifetime.", LIFETIME_KEYS),
        ("watermark.", WATERMARK_KEYS),
        ("policy.", rules::RULE_KEYS),
        ("external_links.", rules::EXTERNAL_LINKS_KEYS),
        ("guests.", rules::GUESTS_KEYS),
        ("room_managers.", rules::ROOM_MANAGERS_KEYS),
        ("rooms_tagged.TAG.", rules::TAGGED_KEYS),
    ];
    let mut documented = BTreeSet::new();
    for (prefix, keys) in groups {
        for key in keys {
            let entry = format!("| `{prefix}{key}` |");
            if page.contains(&entry) {
                documented.insert(key.to_string());
            } else {
                problems.push(format!("manifest key {prefix}{key} has no row `{entry}`"));
            }
        }
    }
    // The schema editors use names no key the reference leaves out.
    let schema: serde_json::Value =
        serde_json::from_str(&read(&root().join("schemas/manifest.schema.json"))).unwrap();
    fn properties(v: &serde_json::Value, out: &mut BTreeSet<String>) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    if k == "properties"
                        && let Some(props) = v.as_object()
                    {
                        out.extend(props.keys().cloned());
                    }
                    properties(v, out);
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| properties(v, out)),
            _ => {}
        }
    }
    let mut in_schema = BTreeSet::new();
    properties(&schema, &mut in_schema);
    assert!(in_schema.len() >= 30, "{in_schema:?}");
    for name in in_schema.difference(&documented) {
        problems.push(format!("schema property {name} has no reference row"));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// One step of the tutorial: a file to write or a command with the exit code it expects.
#[derive(Debug)]
enum Step {
    Write { path: String, text: String },
    Run { line: String, code: i32 },
}

fn tutorial_steps(text: &str) -> (Vec<Step>, usize) {
    let mut steps = Vec::new();
    let mut shown = 0;
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let Some(info) = line.strip_prefix("```").filter(|i| !i.is_empty()) else {
            continue;
        };
        let words: Vec<&str> = info.split_whitespace().collect();
        let mut body = String::new();
        for l in lines.by_ref() {
            if l.starts_with("```") {
                break;
            }
            body.push_str(l);
            body.push('\n');
        }
        if words.contains(&"real-portal") {
            shown += 1;
        }
        if !words.contains(&"tutorial") {
            continue;
        }
        if let Some(path) = words.iter().find_map(|w| w.strip_prefix("file=")) {
            steps.push(Step::Write {
                path: path.to_string(),
                text: body,
            });
            continue;
        }
        assert_eq!(words[0], "sh", "a tutorial block is sh or a file: {info}");
        for l in body.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let (command, comment) = l.split_once("  #").unwrap_or((l, ""));
            let code = comment
                .trim()
                .strip_prefix("exits ")
                .and_then(|c| c.split(':').next())
                .map_or(0, |c| c.trim().parse().unwrap());
            steps.push(Step::Run {
                line: command.trim().to_string(),
                code,
            });
        }
    }
    (steps, shown)
}

#[test]
fn the_tutorial_runs_as_written_against_the_sandbox() {
    let text = read(&book_src().join("tutorial.md"));
    let (steps, shown) = tutorial_steps(&text);
    assert!(shown >= 2, "the tutorial shows no real-portal steps");
    let runs = steps
        .iter()
        .filter(|s| matches!(s, Step::Run { .. }))
        .count();
    assert!(runs >= 10, "only {runs} tutorial commands: {steps:#?}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("examples")).unwrap();
    for example in ["rooms.yaml", "full.yaml"] {
        std::fs::copy(
            root().join("examples").join(example),
            dir.path().join("examples").join(example),
        )
        .unwrap();
    }
    let binary = env!("CARGO_BIN_EXE_docspace-provision");
    for step in &steps {
        match step {
            Step::Write { path, text } => {
                let path = dir.path().join(path);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, text).unwrap();
            }
            Step::Run { line, code } => {
                let command = line
                    .strip_prefix("cargo run --release --")
                    .unwrap_or_else(|| panic!("not a `cargo run --release --` command: {line}"));
                let out = Command::new("sh")
                    .arg("-c")
                    .arg(format!("'{binary}'{command}"))
                    .current_dir(dir.path())
                    .env("NO_COLOR", "1")
                    .env_remove("DOCSPACE_URL")
                    .env_remove("DOCSPACE_API_KEY")
                    .stdin(Stdio::null())
                    .output()
                    .unwrap();
                assert_eq!(
                    out.status.code(),
                    Some(*code),
                    "tutorial step `{line}`:\n{}\n{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
    }
}

#[test]
fn the_readme_is_short_and_starts_with_the_quick_start() {
    let readme = read(&root().join("README.md"));
    let lines = readme.lines().count();
    // The sections issues ask for by name are a few lines each, with a link into the book.
    assert!(lines < 180, "README.md has {lines} lines");
    let first_block = readme
        .split_once("```sh\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .map(|(block, _)| block)
        .unwrap();
    assert_eq!(
        first_block,
        "cargo run --release -- apply examples/rooms.yaml --portal sandbox:sandbox.json \
         --auto-approve\ncargo test\n"
    );
    // It points into the book.
    for page in [
        "tutorial.md",
        "reference/commands.md",
        "reference/manifest.md",
    ] {
        assert!(
            readme.contains(&format!("docs/book/src/{page}")),
            "README.md does not link {page}"
        );
    }
}

/// The CI page documents the commands the action and the component run in each mode (the
/// shipping tests check those commands against action.yml, the component and the CLI).
#[test]
fn the_ci_page_documents_each_mode_command() {
    let page = read(&book_src().join("howto/ci.md"));
    let page = page.split_whitespace().collect::<Vec<_>>().join(" ");
    for command in crate::shipping::MODE_COMMANDS {
        assert!(
            page.contains(&format!("`{command}`")),
            "howto/ci.md lacks `{command}`"
        );
    }
}

/// The release workflow builds the book with mdBook and deploys it to GitHub Pages.
#[test]
fn the_release_workflow_publishes_the_book() {
    let release = crate::shipping::yaml_docs(".github/workflows/release.yml").remove(0);
    let job = &release["jobs"]["book"];
    assert_eq!(job["permissions"]["pages"], "write", "{job}");
    let steps = job["steps"].as_array().unwrap();
    let runs: Vec<&str> = steps.iter().filter_map(|s| s["run"].as_str()).collect();
    assert!(runs.contains(&"mdbook build docs/book"), "{runs:?}");
    assert!(
        runs.iter()
            .any(|r| r.starts_with("cargo install --locked mdbook")),
        "{runs:?}"
    );
    let uses: Vec<&str> = steps.iter().filter_map(|s| s["uses"].as_str()).collect();
    assert!(
        uses.iter().any(|u| u.starts_with("actions/deploy-pages@")),
        "{uses:?}"
    );
    let upload = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/upload-pages-artifact@"))
        })
        .unwrap();
    // mdBook writes the site to `build-dir`, `book` beside book.toml by default.
    assert_eq!(upload["with"]["path"], "docs/book/book");
}

/// Splits a shell command line into words: whitespace separates, `'...'` and `"..."` quote.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.get_or_insert_default().push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                word.get_or_insert_default();
            }
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (None, c) => word.get_or_insert_default().push(c),
        }
    }
    words.extend(word);
    words
}

/// Every `docspace-provision ...` (or `cargo run --release -- ...`) line of the book's `sh`
/// blocks, the tutorial's real-portal steps included, is accepted by the real CLI, so that no
/// page shows a flag or command that does not exist (or no longer does).
#[test]
fn every_command_line_in_the_book_is_accepted_by_the_cli() {
    let mut checked = 0;
    for page in pages() {
        let text = read(&book_src().join(&page));
        let mut in_sh = false;
        for line in text.lines() {
            if let Some(info) = line.strip_prefix("```") {
                in_sh = !in_sh && info.split_whitespace().next() == Some("sh");
                continue;
            }
            if !in_sh {
                continue;
            }
            let line = line.split(" #").next().unwrap_or_default().trim();
            let rest = line
                .strip_prefix("docspace-provision ")
                .or_else(|| line.strip_prefix("cargo run --release -- "));
            let Some(rest) = rest else { continue };
            let mut cmd = vec!["docspace-provision".to_string()];
            cmd.extend(
                shell_words(rest)
                    .into_iter()
                    .take_while(|w| !matches!(w.as_str(), ">" | "|" | "&&")),
            );
            crate::shipping::accepted(&page.display().to_string(), &cmd);
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} command lines found");
    assert_eq!(
        shell_words(r#"plan rooms/ --room "Team Room" --room 'A *'"#),
        ["plan", "rooms/", "--room", "Team Room", "--room", "A *"]
    );
}

#[test]
fn the_scope_tables_of_the_book_and_readme_are_the_code_s() {
    let start = "<!-- scope-table: generated from src/model/scopes.rs; a test keeps it equal -->\n";
    let tables = [
        (
            book_src().join("reference/portal.md"),
            docspace_provision::model::scopes::markdown_table(),
        ),
        (
            root().join("README.md"),
            docspace_provision::model::scopes::command_table(),
        ),
    ];
    for (path, want) in tables {
        let page = read(&path);
        let table = page
            .split_once(start)
            .and_then(|(_, rest)| rest.split_once("<!-- /scope-table -->"))
            .map(|(table, _)| table)
            .unwrap_or_else(|| {
                panic!("{} has the scope table between its markers", path.display())
            });
        assert_eq!(
            table,
            want,
            "{}: write the scope table the code has (src/model/scopes.rs)",
            path.display()
        );
    }
}
