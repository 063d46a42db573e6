//! `manifest_set:`: which files make up one manifest set, so that `--prune` archives only what
//! the whole set no longer lists. kubectl's ApplySet is the model: a parent names its members.
//! Here the parent is the one file that declares `managed_tag`; it lists the set's files and
//! directories, relative to itself, and is always a member itself. A pruning run must be given
//! every file of the set and no other; `plan::prune::scope_problems` refuses it otherwise,
//! before the portal is read (docs/book/src/howto/pruning.md, "Which rooms a set owns").
//!
//! The disk is read here, once, when the manifests are loaded: [`resolve`] turns the listed
//! paths into the set's files (a directory into the manifests in it, found as `validate DIR`
//! finds them) and records which of them this run lacks and which files of the run the set
//! does not list.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use super::desired::{Desired, Origin};
use super::diagnostic::{Problem, Problems};
use super::{source, yaml};

/// `manifest_set:` as written in the file that declares `managed_tag`.
#[derive(Debug, Clone)]
pub struct ManifestSet {
    /// Where the `manifest_set` key was written.
    pub origin: Origin,
    /// The listed paths, as written, each with where.
    pub listed: Vec<ListedPath>,
    /// What this run has of the set, found on disk by [`resolve`]; `None` for manifests not
    /// read from files (tests), which no pruning run is made from.
    pub scope: Option<SetScope>,
}

/// One entry of `manifest_set:`.
#[derive(Debug, Clone)]
pub struct ListedPath {
    pub written: String,
    pub origin: Origin,
}

/// How the files of a run compare with the files of its set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SetScope {
    /// Files of the set that this run was not given (as paths from the current directory).
    pub missing: Vec<String>,
    /// Files of this run that the set does not list (as given).
    pub unlisted: Vec<String>,
}

/// Resolves the set's listed paths against the disk: a listed path that does not exist is a
/// located error; otherwise `desired.manifest_set.scope` is filled in. `paths[i]` is the
/// path `desired.files[i]` was read from.
pub fn resolve(desired: &mut Desired, paths: &[PathBuf], problems: &mut Problems) {
    let Some(set) = &desired.manifest_set else {
        return;
    };
    let Some(declaring) = paths.get(set.origin.file) else {
        return;
    };
    // Relative to the declaring file, wherever the run is started from.
    let base = declaring.parent().unwrap_or(Path::new(""));
    let loaded: Vec<PathBuf> = paths.iter().map(|p| identity(p)).collect();
    let loaded_set: HashSet<&PathBuf> = loaded.iter().collect();
    // The set's files by identity, with the name shown for each; the declaring file first.
    let mut members: BTreeMap<PathBuf, String> = BTreeMap::new();
    members.insert(identity(declaring), declaring.display().to_string());
    for entry in &set.listed {
        let path = base.join(&entry.written);
        match std::fs::metadata(&path) {
            Err(_) => {
                let file = &desired.files[entry.origin.file];
                problems.push(
                    Problem::error(
                        "manifest::set_path_missing",
                        format!(
                            "`{}` is listed in `manifest_set`, but there is no such file or directory ({})",
                            entry.written,
                            path.display()
                        ),
                    )
                    .at(file, entry.origin.span, "not found")
                    .with_help(format!(
                        "paths in `manifest_set` are relative to the file that lists them ({}); fix the path, or remove it from the list",
                        file.name
                    )),
                );
            }
            Ok(meta) if meta.is_dir() => {
                for found in source::expand(std::slice::from_ref(&path)).files {
                    let id = identity(&found.path);
                    if loaded_set.contains(&id) || is_manifest(&found.path) {
                        members
                            .entry(id)
                            .or_insert_with(|| found.path.display().to_string());
                    }
                }
            }
            Ok(_) => {
                members
                    .entry(identity(&path))
                    .or_insert_with(|| path.display().to_string());
            }
        }
    }
    let mut missing: Vec<String> = members
        .iter()
        .filter(|(id, _)| !loaded_set.contains(id))
        .map(|(_, name)| name.clone())
        .collect();
    missing.sort();
    let unlisted = loaded
        .iter()
        .enumerate()
        .filter(|(_, id)| !members.contains_key(*id))
        .map(|(i, _)| desired.files[i].name.clone())
        .collect();
    if let Some(set) = &mut desired.manifest_set {
        set.scope = Some(SetScope { missing, unlisted });
    }
}

/// What identifies a file however it is named (`./a.yaml`, `a.yaml`, through a link).
fn identity(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Whether a file found in a listed directory is a manifest, by the test `load` applies to
/// files found in a directory (a top-level `version:`, or only `policy:`): a directory of
/// the set may hold other YAML.
fn is_manifest(path: &Path) -> bool {
    let Ok(file) = source::read(path) else {
        return false;
    };
    super::may_be_a_manifest(&file.text)
        && super::not_a_manifest(&file.text, yaml::parse(&file.text).ok().as_ref()).is_none()
}

/// The last part of a manifest's path: how a `manifest_set` entry beside it names it.
pub fn file_name(name: &str) -> String {
    Path::new(name)
        .file_name()
        .map_or_else(|| name.to_string(), |n| n.to_string_lossy().into_owned())
}
