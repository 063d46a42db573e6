//! Reading manifest files from disk: expanding directories, refusing what is not a manifest
//! (too large, binary, not UTF-8, a special file) before it costs memory or time.

#![allow(clippy::result_large_err)] // Problems are built once per file, not on a hot path.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::diagnostic::Problem;

/// The largest manifest file accepted, checked before reading. A 50,000-room x 10-invitee
/// manifest is about 30 MB.
pub const MAX_FILE_BYTES: u64 = 100 * 1024 * 1024;

/// One manifest file's text and the name shown in diagnostics.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as the user gave it (or as found under a directory they gave).
    pub name: String,
    pub text: Arc<String>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> SourceFile {
        SourceFile {
            name: name.into(),
            text: Arc::new(text.into()),
        }
    }

    /// The 1-based line and column of a byte offset (column in characters).
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = before[line_start..].chars().count() + 1;
        (line, col)
    }
}

/// Expands the command-line paths: files as given, directories into their `*.yaml` / `*.yml`
/// files (recursively, sorted so runs are deterministic).
pub fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Problem> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            let before = out.len();
            walk_dir(path, &mut out)?;
            if out.len() == before {
                return Err(Problem::error(
                    "file::empty_dir",
                    format!(
                        "{}: the directory holds no .yaml or .yml files",
                        path.display()
                    ),
                )
                .with_help(
                    "point at a manifest file, or put manifests ending in .yaml in the directory",
                ));
            }
        } else {
            out.push(path.clone());
        }
    }
    Ok(out)
}

fn walk_dir(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Problem> {
    let read = std::fs::read_dir(dir).map_err(|e| {
        Problem::error(
            "file::read",
            format!("{}: cannot read the directory: {e}", dir.display()),
        )
    })?;
    let mut entries: Vec<PathBuf> = read.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            walk_dir(&entry, out)?;
        } else if matches!(
            entry.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            out.push(entry);
        }
    }
    Ok(())
}

/// Reads one manifest file, refusing directories, special files, oversized, binary and
/// non-UTF-8 content with a message that says what is wrong.
pub fn read(path: &Path) -> Result<SourceFile, Problem> {
    let name = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| {
        let what = match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ => e.to_string(),
        };
        Problem::error(
            "file::read",
            format!("{name}: cannot read the manifest: {what}"),
        )
        .with_help("check the path; several files and directories may be given")
    })?;
    if meta.is_dir() {
        return Err(Problem::error(
            "file::is_dir",
            format!("{name} is a directory"),
        ));
    }
    if !meta.is_file() {
        return Err(
            Problem::error("file::special", format!("{name} is not a regular file")).with_help(
                "manifests are read from regular files; save the manifest to a file first",
            ),
        );
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(Problem::error(
            "file::too_large",
            format!(
                "{name} is {} bytes, over the {} MiB limit for one manifest file",
                meta.len(),
                MAX_FILE_BYTES / 1024 / 1024
            ),
        )
        .with_help("split the rooms over several files; they are merged"));
    }
    let bytes = std::fs::read(path).map_err(|e| {
        Problem::error(
            "file::read",
            format!("{name}: cannot read the manifest: {e}"),
        )
    })?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Problem::error(
            "file::too_large",
            format!(
                "{name} grew past the {} MiB limit while being read",
                MAX_FILE_BYTES / 1024 / 1024
            ),
        ));
    }
    if bytes.contains(&0) {
        return Err(Problem::error(
            "file::binary",
            format!("{name} looks like a binary file (it contains NUL bytes), not a YAML manifest"),
        ));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let valid = String::from_utf8_lossy(&e.as_bytes()[..at]).into_owned();
        let file = SourceFile::new(name.clone(), valid);
        let (line, col) = file.line_col(at);
        Problem::error(
            "file::encoding",
            format!(
                "{name}: not valid UTF-8 (first bad byte at line {line}, column {col}, byte {at})"
            ),
        )
        .with_help("save the manifest as UTF-8")
    })?;
    // A UTF-8 byte-order mark is harmless but would shift every span by three bytes.
    let text = text
        .strip_prefix('\u{feff}')
        .map(str::to_string)
        .unwrap_or(text);
    if text.trim().is_empty() {
        return Err(
            Problem::error("file::empty", format!("{name} is empty")).with_help(
                "a manifest starts with `version: 1` and a `rooms:` list; see examples/rooms.yaml",
            ),
        );
    }
    Ok(SourceFile::new(name, text))
}
