//! The manifest: reading files, parsing YAML (the only YAML call site, in [`yaml`]), checking
//! every rule of DESIGN.md section 3 with located diagnostics, and merging several files into
//! one [`Desired`] state.
//!
//! Invariant: [`load`] never panics on any input, and returns every problem it found; a
//! [`Desired`] with errors in its [`Problems`] must not be acted on.

pub mod desired;
pub mod diagnostic;
pub mod schema;
pub mod source;
pub mod validate;
pub mod yaml;

use std::path::PathBuf;

pub use desired::{
    Defaults, Desired, DesiredInvitee, DesiredRoom, MembersMode, Origin, Quota, RoomState, Subject,
};
pub use diagnostic::{Problem, Problems};
pub use source::SourceFile;

/// Reads, parses and validates the manifests at `paths` (files or directories).
pub fn load(paths: &[PathBuf]) -> (Desired, Problems) {
    let mut problems = Problems::default();
    let files = match source::expand(paths) {
        Ok(f) => f,
        Err(p) => {
            problems.push(p);
            return (Desired::default(), problems);
        }
    };
    let mut sources = Vec::with_capacity(files.len());
    for path in &files {
        match source::read(path) {
            Ok(s) => sources.push(s),
            Err(p) => problems.push(p),
        }
    }
    let desired = load_sources(sources, &mut problems);
    (desired, problems)
}

/// Parses and validates already-read sources (used by tests and by `load`).
pub fn load_sources(sources: Vec<SourceFile>, problems: &mut Problems) -> Desired {
    let trees = sources
        .iter()
        .map(|s| match yaml::parse(&s.text) {
            Ok(tree) => Some(tree),
            Err(e) => {
                problems.push(parse_problem(s, e));
                None
            }
        })
        .collect();
    validate::validate(sources, trees, problems)
}

/// A YAML-level error as a located diagnostic, with a hint for the usual causes.
fn parse_problem(file: &SourceFile, err: yaml::ParseError) -> Problem {
    let lower = err.message.to_lowercase();
    let (code, message, help) = if lower.contains("duplicate") {
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
            Some(
                "each key may appear once in a mapping; remove or merge the repeated key"
                    .to_string(),
            ),
        )
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
    } else {
        let tab = err
            .span
            .is_some_and(|s| line_of(file, s.offset).contains('\t'))
            || (lower.contains("tab") && file.text.contains('\t'));
        (
            "yaml::syntax",
            format!("invalid YAML: {}", err.message),
            tab.then(|| "YAML does not allow tabs for indentation; indent with spaces".to_string()),
        )
    };
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

fn line_of(file: &SourceFile, offset: usize) -> &str {
    let offset = offset.min(file.text.len());
    let start = file.text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = file.text[offset..]
        .find('\n')
        .map_or(file.text.len(), |i| offset + i);
    &file.text[start..end]
}
