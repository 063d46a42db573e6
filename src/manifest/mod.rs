//! The manifest: reading files, parsing YAML (the only YAML call site, in [`yaml`]), checking
//! every rule of docs/architecture.md, "The manifest" with located diagnostics, and merging several files into
//! one [`Desired`] state.
//!
//! Invariant: [`load`] never panics on any input, and returns every problem it found; a
//! [`Desired`] with errors in its [`Problems`] must not be acted on.

pub mod desired;
pub mod diagnostic;
pub mod normal;
pub mod schema;
pub mod secrets;
pub mod set;
pub mod source;
pub mod text;
pub mod validate;
pub mod yaml;

use std::path::PathBuf;

pub use desired::{
    Defaults, Desired, DesiredInvitee, DesiredLink, DesiredPassword, DesiredRoom, Lifetime,
    MembersMode, Origin, Quota, RoomState, Subject, Watermark,
};
pub use desired::{DesiredGroup, DesiredPerson, GroupPerson};
pub use diagnostic::{Problem, Problems};
pub use source::SourceFile;

/// Reads, parses and validates the manifests at `paths` (files or directories).
///
/// A file named on the command line is always checked fully. A YAML file found by expanding
/// a directory is first asked whether it is a manifest at all (a top-level `version:` key):
/// a repository holds other YAML (CI workflows, compose files), and `validate .` must not
/// fail on them. Such files are skipped with a one-line note; a directory that yields no
/// manifest at all is an error.
pub fn load(paths: &[PathBuf]) -> (Desired, Problems) {
    let mut problems = Problems::default();
    let expansion = source::expand(paths);
    problems.0.extend(expansion.problems);
    // Per file found: taken as a manifest, skipped as not one, or failed to read.
    #[derive(Clone, Copy, PartialEq)]
    enum Fate {
        Taken,
        Skipped,
        Failed,
    }
    let mut fates = Vec::with_capacity(expansion.files.len());
    let mut sources = Vec::with_capacity(expansion.files.len());
    let mut trees = Vec::with_capacity(expansion.files.len());
    // The path of each taken file, for `manifest_set:` (see [`set`]).
    let mut taken = Vec::with_capacity(expansion.files.len());
    for found in &expansion.files {
        let file = match source::read(&found.path) {
            Ok(s) => s,
            // An empty YAML file found in a directory has no `version:` either.
            Err(p) if found.dir.is_some() && p.code == "file::empty" => {
                problems.push(skipped_note(&found.path.display().to_string(), NO_VERSION));
                fates.push(Fate::Skipped);
                continue;
            }
            Err(p) => {
                problems.push(p);
                fates.push(Fate::Failed);
                continue;
            }
        };
        // A file without the word `version` (or `policy`, for a policy file) anywhere is no
        // manifest: not worth parsing (a repository may hold large YAML files of other tools).
        if found.dir.is_some() && !may_be_a_manifest(&file.text) {
            problems.push(skipped_note(&file.name, NO_VERSION));
            fates.push(Fate::Skipped);
            continue;
        }
        let parsed = yaml::parse(&file.text);
        let skip = found
            .dir
            .and_then(|_| not_a_manifest(&file.text, parsed.as_ref().ok()));
        if let Some(why) = skip {
            problems.push(skipped_note(&file.name, why));
            fates.push(Fate::Skipped);
            continue;
        }
        fates.push(Fate::Taken);
        taken.push(found.path.clone());
        trees.push(tree_or_problem(&file, parsed, &mut problems));
        sources.push(file);
    }
    for (path, under) in paths.iter().zip(&expansion.under) {
        let fate = |f: Fate| under.iter().any(|&i| fates[i] == f);
        if path.is_dir() && !fate(Fate::Taken) && !fate(Fate::Failed) {
            problems.push(no_manifest_in(path, under.len()));
        }
    }
    let mut desired = validate::validate(sources, trees, &mut problems);
    set::resolve(&mut desired, &taken, &mut problems);
    (desired, problems)
}

/// Parses and validates already-read sources (used by tests and by `load`).
pub fn load_sources(sources: Vec<SourceFile>, problems: &mut Problems) -> Desired {
    let trees = sources
        .iter()
        .map(|s| tree_or_problem(s, yaml::parse(&s.text), problems))
        .collect();
    validate::validate(sources, trees, problems)
}

fn tree_or_problem(
    file: &SourceFile,
    parsed: Result<yaml::Node, yaml::ParseError>,
    problems: &mut Problems,
) -> Option<yaml::Node> {
    parsed
        .map_err(|e| problems.push(parse_problem(file, e)))
        .ok()
}

const NO_VERSION: &str = "no top-level `version:`";

/// Why a file found under a directory is not taken as a manifest, or `None` when it is one:
/// its top level is a mapping with a `version` key. A `version` other than 1 in a file
/// without `rooms` belongs to another tool (Docker Compose writes `version: "3.8"`) and is
/// skipped too. When the YAML does not parse, a line starting with `version:` decides, so
/// that a manifest with a syntax error is still reported, not skipped.
fn not_a_manifest(text: &str, tree: Option<&yaml::Node>) -> Option<&'static str> {
    let Some(node) = tree else {
        let has_version = text.lines().any(|line| {
            ["version", "\"version\"", "'version'"].iter().any(|key| {
                line.strip_prefix(key)
                    .is_some_and(|rest| rest.trim_start().starts_with(':'))
            })
        });
        return (!has_version).then_some(NO_VERSION);
    };
    let yaml::Value::Map(entries) = &node.value else {
        return Some(NO_VERSION);
    };
    let value_of = |name: &str| {
        entries
            .iter()
            .find(|(k, _)| matches!(&k.value, yaml::Value::Str(s) if s == name))
            .map(|(_, v)| v)
    };
    let Some(version) = value_of("version") else {
        return (!holds_only_policy(node)).then_some(NO_VERSION);
    };
    if matches!(version.value, yaml::Value::Int(1)) || value_of("rooms").is_some() {
        return None;
    }
    Some("its `version:` is not 1 and it has no `rooms:`")
}

/// Whether a file's text names a top-level key a manifest must have (`version`, or `policy`
/// for a file that holds only that): the cheap test before parsing a file found in a
/// directory.
fn may_be_a_manifest(text: &str) -> bool {
    text.contains("version") || text.contains("policy")
}

/// A file that holds only `policy:` (a policy file): a manifest without `version:`, in a
/// directory of the set as on the command line.
pub(crate) fn holds_only_policy(root: &yaml::Node) -> bool {
    matches!(&root.value, yaml::Value::Map(entries) if !entries.is_empty()
        && entries.iter().all(|(k, _)| matches!(&k.value, yaml::Value::Str(s) if s == "policy")))
}

fn skipped_note(name: &str, why: &str) -> Problem {
    Problem::note(
        "file::not_a_manifest",
        format!("{name}: skipped, not a manifest ({why})"),
    )
}

fn no_manifest_in(dir: &std::path::Path, skipped: usize) -> Problem {
    let message = match skipped {
        0 => format!(
            "{}: no manifest found: the directory holds no .yaml or .yml files",
            dir.display()
        ),
        1 => format!(
            "{}: no manifest found: the one YAML file found is not a manifest",
            dir.display()
        ),
        n => format!(
            "{}: no manifest found: none of the {n} YAML files found is a manifest",
            dir.display()
        ),
    };
    Problem::error("file::no_manifest", message).with_help(
        "a manifest starts with `version: 1`; hidden folders (such as .github) are not searched; a file named on the command line is checked fully",
    )
}

/// A YAML-level error as a located diagnostic, with a hint for the usual causes.
fn parse_problem(file: &SourceFile, err: yaml::ParseError) -> Problem {
    let lower = err.message.to_lowercase();
    let (code, message, help) = if lower.contains("duplicate") {
        duplicate_key(&err)
    } else if lower.contains("unknown anchor") || lower.contains("undefined alias") {
        // Checked before the budget branch below: the parser's text mentions "alias" here
        // too, and "expands to too many values" sent users hunting for a bomb.
        undefined_alias(file, &err)
    } else if lower.contains("documents") {
        // The budget allows one document per file (`max_documents: 1`).
        (
            "yaml::several_documents",
            "a manifest file holds one YAML document, this one has several (`---`)".to_string(),
            Some("put each document in a file of its own; several files are merged".to_string()),
        )
    } else if lower.contains("budget")
        || lower.contains("alias")
        || lower.contains("depth")
        || lower.contains("nesting")
    {
        too_complex(&lower)
    } else if let Some(tab) = indentation_tab(file, &err, &lower) {
        // The parser notices a tab only when it reads past it, often at the end of the line
        // before; point at the tab itself.
        return Problem::error(
            "yaml::syntax",
            "invalid YAML: a tab is used for indentation",
        )
        .at(file, tab, "tab")
        .with_help("YAML does not allow tabs for indentation; indent with spaces");
    } else {
        let help = if lower.contains("mapping values are not allowed") {
            unquoted_colon_hint(file, &err)
        } else {
            None
        };
        (
            "yaml::syntax",
            format!("invalid YAML: {}", err.message),
            help,
        )
    };
    locate_parse_problem(file, &err, code, message, help)
}

/// A diagnostic's code, message and help line, before it is located.
type Explained = (&'static str, String, Option<String>);

/// For `title: Sales: Q3`: a `: ` inside an unquoted value starts a mapping, which YAML
/// refuses there. Says to quote the value, written out from the line, unless the key may hold
/// a secret (then without the value).
fn unquoted_colon_hint(file: &SourceFile, err: &yaml::ParseError) -> Option<String> {
    let offset = err.span?.offset.min(file.text.len());
    let text = file.text.as_str();
    let start = text[..offset].rfind(['\n', '\r']).map_or(0, |i| i + 1);
    let end = text[start..]
        .find(['\n', '\r'])
        .map_or(text.len(), |i| start + i);
    let line = text[start..end].trim_start();
    let line = line.strip_prefix("- ").unwrap_or(line).trim_start();
    let (key, value) = line.split_once(": ")?;
    let value = value.trim();
    // The colon the parser stopped at must be inside the value; a value already quoted or a
    // flow collection has another problem.
    if offset <= start + (text[start..end].len() - line.len()) + key.len()
        || key.is_empty()
        || key.contains([' ', '"', '\'', '{', '['])
        || value.starts_with(['"', '\'', '{', '[', '|', '>'])
    {
        return None;
    }
    const WHY: &str = "in YAML, a `: ` inside an unquoted value starts a mapping";
    if secrets::looks_secret(key) {
        return Some(format!("quote the value of `{key}` ({WHY})"));
    }
    // Comments are not part of the value.
    let value = value.split(" #").next().unwrap_or(value).trim_end();
    let quoted = if value.contains('"') {
        format!("'{}'", value.replace('\'', "''"))
    } else {
        format!("\"{value}\"")
    };
    Some(format!("quote the value: `{key}: {quoted}` ({WHY})"))
}

/// A key repeated in one mapping, named without the parser's advice about its own options.
fn duplicate_key(err: &yaml::ParseError) -> Explained {
    // The parser's text names its own option ("set DuplicateKeyPolicy..."): keep the key only.
    let key = err
        .message
        .split_once(':')
        .map(|(_, rest)| rest.split(',').next().unwrap_or(rest).trim().to_string())
        .unwrap_or_default();
    (
        "yaml::duplicate_key",
        if key.is_empty() {
            "duplicate key".to_string()
        } else {
            format!("duplicate key `{key}`")
        },
        Some("each key may appear once in a mapping; remove or merge the repeated key".to_string()),
    )
}

/// An alias whose anchor is not defined, named when the source shows it.
fn undefined_alias(file: &SourceFile, err: &yaml::ParseError) -> Explained {
    let alias = err
        .span
        .and_then(|s| alias_at(&file.text, s.offset))
        .map(|a| format!(" `*{a}`"))
        .unwrap_or_default();
    (
        "yaml::undefined_alias",
        format!("the alias{alias} refers to an anchor that is not defined"),
        Some("define the anchor first (`&name` before a value, above this line), or write the value itself".to_string()),
    )
}

/// A document refused by the reading budget, saying which limit it crossed.
fn too_complex(lower: &str) -> Explained {
    let what = if lower.contains("depth") || lower.contains("nesting") {
        "it is nested more than 32 levels deep"
    } else if lower.contains("anchor") || lower.contains("alias") {
        "its anchors and aliases expand to too many values"
    } else {
        "it has too many values"
    };
    (
        "yaml::too_complex",
        format!("the manifest is refused as unsafe to read: {what}"),
        Some("manifests are plain lists of rooms; anchors and aliases that expand to huge documents, and nesting deeper than 32 levels, are refused".to_string()),
    )
}

/// The diagnostic at the parser's span, clamped to the file; without a span, the message
/// names the file instead.
fn locate_parse_problem(
    file: &SourceFile,
    err: &yaml::ParseError,
    code: &'static str,
    message: String,
    help: Option<String>,
) -> Problem {
    let mut p = Problem::error(code, message);
    if let Some(span) = err.span {
        let span = yaml::Span {
            offset: span.offset.min(file.text.len()),
            len: span
                .len
                .min(file.text.len() - span.offset.min(file.text.len())),
        };
        p = p.at(file, span, "here");
    } else {
        p.message = format!("{}: {}", file.name, p.message);
    }
    if let Some(h) = help {
        p = p.with_help(h);
    }
    p
}

/// The name of the alias (`*name`) written at `offset`, if there is one.
fn alias_at(text: &str, offset: usize) -> Option<&str> {
    let rest = text.get(offset..)?.strip_prefix('*')?;
    let end = rest
        .find(|c: char| c.is_whitespace() || matches!(c, ',' | '[' | ']' | '{' | '}'))
        .unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

/// The tab that caused a syntax error: the first tab in the indentation of the error's line
/// or of the next two lines (the parser may report the line before). Only when the error
/// is about a tab, or such a tab is there to blame.
fn indentation_tab(file: &SourceFile, err: &yaml::ParseError, lower: &str) -> Option<yaml::Span> {
    let offset = err.span?.offset.min(file.text.len());
    let text = file.text.as_str();
    let line_start = text[..offset].rfind(['\n', '\r']).map_or(0, |i| i + 1);
    let mut start = line_start;
    for _ in 0..3 {
        let line = &text[start..];
        let line = &line[..line.find(['\n', '\r']).unwrap_or(line.len())];
        let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
        if let Some(i) = line[..indent].find('\t') {
            return Some(yaml::Span {
                offset: start + i,
                len: 1,
            });
        }
        // Only the error line itself unless the parser says a tab is to blame.
        if !lower.contains("tab") {
            return None;
        }
        let next = start + line.len();
        if next >= text.len() {
            return None;
        }
        start = next
            + if text[next..].starts_with("\r\n") {
                2
            } else {
                1
            };
    }
    None
}
