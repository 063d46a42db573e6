//! The rules across files: one file declares `managed_tag` and lists `manifest_set` beside
//! it, `defaults` agree wherever they are given, and no room or pinned id is defined twice.

use std::collections::HashMap;

use crate::manifest::desired::{Defaults, Desired, Origin};
use crate::manifest::diagnostic::{Problem, Problems};
use crate::manifest::source::SourceFile;
use crate::manifest::yaml::Span;

/// Keeps the first `managed_tag` in `seen`; a declaration in another file, even of the
/// same tag, is an error.
pub(super) fn merge_managed_tag(
    files: &[SourceFile],
    seen: &mut Option<(usize, Span, String)>,
    index: usize,
    (span, tag): (Span, String),
    problems: &mut Problems,
) {
    // One file declares the set (see `crate::manifest::set`): a second declaration, even of
    // the same tag, would let a run of that file alone prune the other's rooms.
    let Some((other, other_span, first)) = seen else {
        *seen = Some((index, span, tag));
        return;
    };
    let other_file = &files[*other];
    let (line, col) = other_file.line_col(other_span.offset);
    let message = if first.to_lowercase() == tag.to_lowercase() {
        format!(
            "`managed_tag` is declared again here, as in {}",
            other_file.name
        )
    } else {
        format!(
            "`managed_tag` is declared again here (`{tag}`; `{first}` in {})",
            other_file.name
        )
    };
    problems.push(
        Problem::error("manifest::managed_tag_twice", message)
            .at(&files[index], span, "declared again")
            .with_help(format!(
                "declare `managed_tag` once: keep the one at {}:{line}:{col}, list the set's files beside it with `manifest_set: [...]`, and remove this one",
                other_file.name
            )),
    );
}

/// Keeps the first `defaults` in `seen`; different `defaults` in another file are an error,
/// the same ones are not.
pub(super) fn merge_defaults(
    files: &[SourceFile],
    seen: &mut Option<(usize, Span, Defaults)>,
    index: usize,
    (span, defaults): (Span, Defaults),
    problems: &mut Problems,
) {
    match seen {
        Some((other, other_span, first)) if *first != defaults => {
            let other_file = &files[*other];
            let (line, col) = other_file.line_col(other_span.offset);
            let p = Problem::error(
                "manifest::conflicting_defaults",
                "`defaults` differ between manifest files",
            )
            .at(&files[index], span, "these defaults")
            .with_help(format!(
                "other defaults are at {}:{line}:{col}; give `defaults` in one file only, or the same in each",
                other_file.name
            ));
            problems.push(p);
        }
        Some(_) => {}
        None => *seen = Some((index, span, defaults)),
    }
}

/// `manifest_set:` as one file wrote it: the key's span and each path with its span.
pub(super) type ListedSet = (Span, Vec<(String, Span)>);

/// Keeps the `manifest_set` of the file that declares `managed_tag` (see [`crate::manifest::set`]); a
/// `manifest_set` in any other file is an error: the list belongs beside the marker it scopes.
pub(super) fn manifest_set(
    desired: &mut Desired,
    managed: Option<&(usize, Span, String)>,
    sets: Vec<(usize, ListedSet)>,
    problems: &mut Problems,
) {
    for (file, (key, listed)) in sets {
        if managed.is_some_and(|(declaring, _, _)| *declaring == file) {
            desired.manifest_set = Some(crate::manifest::set::ManifestSet {
                origin: Origin { file, span: key },
                listed: listed
                    .into_iter()
                    .map(|(written, span)| crate::manifest::set::ListedPath {
                        written,
                        origin: Origin { file, span },
                    })
                    .collect(),
                scope: None,
            });
            continue;
        }
        let help = match managed {
            Some((declaring, _, _)) => format!(
                "`managed_tag` is declared in {}: list the set's files there, and remove this list",
                desired.files[*declaring].name
            ),
            None => "add `managed_tag: NAME` to this file, or remove the list: a set is named by the file that declares its marker tag".to_string(),
        };
        problems.push(
            Problem::error(
                "manifest::manifest_set_without_managed_tag",
                "`manifest_set` belongs in the file that declares `managed_tag`",
            )
            .at(&desired.files[file], key, "not beside `managed_tag`")
            .with_help(help),
        );
    }
}

/// What identifies a room, kept even for rooms with other errors so that duplicates are
/// reported in the same run.
pub(super) struct RoomIdent {
    /// The title as the server will store it (the identity).
    pub(super) title: String,
    /// The title as written, for messages.
    pub(super) written: String,
    pub(super) id: Option<i64>,
    pub(super) origin: Origin,
}

/// Rooms defined twice (title compared case-insensitively after sanitising) and ids pinned twice.
pub(super) fn check_duplicates(desired: &Desired, idents: &[RoomIdent], problems: &mut Problems) {
    let mut by_title: HashMap<String, &RoomIdent> = HashMap::new();
    let mut by_id: HashMap<i64, &RoomIdent> = HashMap::new();
    for room in idents {
        let key = room.title.to_lowercase();
        // Two rooms may share a title when both pin different ids: DocSpace allows duplicate
        // titles (docs/docspace-api.md, "Creating rooms") and `export` writes such portals that way.
        let both_pinned =
            |first: &RoomIdent| matches!((first.id, room.id), (Some(a), Some(b)) if a != b);
        if let Some(first) = by_title.get(&key).filter(|f| !both_pinned(f)) {
            // "🚀 A" and "🎉 A" are one room on the server (both stored as "__ A"): say so,
            // or the error reads as nonsense.
            let message = if first.written.to_lowercase() == room.written.to_lowercase() {
                format!("room `{}` is defined twice", room.written)
            } else {
                let stored = if first.title == room.title {
                    format!("DocSpace stores both as `{}`", room.title)
                } else {
                    format!(
                        "DocSpace stores them as `{}` and `{}`",
                        first.title, room.title
                    )
                };
                format!(
                    "room `{}` is the same room as `{}`: {stored}",
                    room.written, first.written
                )
            };
            problems.push(twice(
                desired,
                "manifest::duplicate_room",
                message,
                first.origin,
                room.origin,
                "titles are compared case-insensitively, in the form the server stores (characters such as `:` and emoji replaced with `_`); rename one room or merge the two",
            ));
        } else {
            by_title.insert(key, room);
        }
        if let Some(id) = room.id {
            if let Some(first) = by_id.get(&id) {
                problems.push(twice(
                    desired,
                    "manifest::duplicate_id",
                    format!("room id {id} is pinned by two rooms"),
                    first.origin,
                    room.origin,
                    "an id names one existing room; remove `id:` from one of them",
                ));
            } else {
                by_id.insert(id, room);
            }
        }
    }
}

/// A "defined twice" error pointing at the second place, with the first as a secondary label
/// (same file) or in the help line (another file).
pub(super) fn twice(
    desired: &Desired,
    code: &'static str,
    message: String,
    first: Origin,
    second: Origin,
    help: &str,
) -> Problem {
    let second_file = &desired.files[second.file];
    let first_file = &desired.files[first.file];
    let p = Problem::error(code, message).at(second_file, second.span, "defined again here");
    if first.file == second.file {
        p.at(first_file, first.span, "first defined here")
            .with_help(help)
    } else {
        let (line, col) = first_file.line_col(first.span.offset);
        p.with_help(format!(
            "first defined at {}:{line}:{col}; {help}",
            first_file.name
        ))
    }
}
