//! Reading manifest files from disk: expanding directories, refusing what is not a manifest
//! (too large, binary, not UTF-8, a special file) before it costs memory or time.
//!
//! Directory expansion follows symbolic links but never a loop: every directory and file is
//! identified by (device, inode), a directory already on the walk is not entered again, and
//! a file reached twice is read once.

#![allow(clippy::result_large_err)] // Problems are built once per file, not on a hot path.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

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
    /// Built on the first diagnostic and shared by every clone: locating a problem must not
    /// rescan the file from its start, or 16,000 diagnostics cost minutes.
    index: Arc<OnceLock<LineIndex>>,
    /// The text as diagnostics show it: the values of secret-looking keys masked (see
    /// [`super::secrets`]), built on the first snippet; `None` when nothing is masked.
    shown: Arc<OnceLock<Option<String>>>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> SourceFile {
        SourceFile {
            name: name.into(),
            text: Arc::new(text.into()),
            index: Arc::default(),
            shown: Arc::default(),
        }
    }

    fn index(&self) -> &LineIndex {
        self.index.get_or_init(|| LineIndex::new(&self.text))
    }

    /// The text every snippet is cut from: the file's own, with the values of keys that hold
    /// or may hold a secret (`password`, `password_env`, `api_token`...) replaced by `*`
    /// byte for byte. This is the one place that keeps secrets out of diagnostics, whatever
    /// the problem and wherever its label points. Offsets and lines are those of the file.
    pub fn shown(&self) -> &str {
        self.shown
            .get_or_init(|| super::secrets::mask(&self.text))
            .as_deref()
            .unwrap_or(&self.text)
    }

    /// The span a label underlines: `span` cut at the end of its first line and to at most
    /// [`MAX_LABEL_BYTES`] (at a char boundary), so that a label on a huge value (a whole
    /// 60 MB document, a long block scalar) points at where it starts instead of making the
    /// snippet print all of it.
    pub fn label_span(&self, offset: usize, len: usize) -> (usize, usize) {
        let text = self.shown();
        let offset = floor_boundary(text, offset.min(text.len()));
        let line_end = self.index().line_end(text, self.index().line_of(offset));
        let end = offset
            + len
                .min(MAX_LABEL_BYTES)
                .min(line_end.saturating_sub(offset));
        (offset, floor_boundary(text, end) - offset)
    }

    /// The 1-based line and column of a byte offset (column in characters).
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = floor_boundary(&self.text, offset.min(self.text.len()));
        let index = self.index();
        let line = index.line_of(offset);
        let start = index.line_starts[line];
        let col = index.chars_before(&self.text, offset) - index.chars_before(&self.text, start);
        (line + 1, col + 1)
    }
}

/// Where lines start, and how many characters precede every block of bytes, so that a byte
/// offset becomes a line and column in logarithmic time instead of a scan from the start.
#[derive(Debug)]
struct LineIndex {
    /// Byte offset of the start of every line. Line breaks are `\n`, `\r\n` and a lone `\r`,
    /// as in YAML (and as miette counts them).
    line_starts: Vec<usize>,
    /// `char_marks[k]`: characters before the char boundary at or below `k * BLOCK`.
    char_marks: Vec<usize>,
}

const BLOCK: usize = 4096;

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        let bytes = text.as_bytes();
        let mut line_starts = vec![0];
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => line_starts.push(i + 1),
                b'\r' if bytes.get(i + 1) != Some(&b'\n') => line_starts.push(i + 1),
                _ => {}
            }
            i += 1;
        }
        let mut char_marks = Vec::with_capacity(text.len() / BLOCK + 1);
        let (mut chars, mut prev) = (0, 0);
        let mut k = 0;
        while k * BLOCK <= text.len() {
            let b = floor_boundary(text, k * BLOCK);
            chars += text[prev..b].chars().count();
            char_marks.push(chars);
            prev = b;
            k += 1;
        }
        LineIndex {
            line_starts,
            char_marks,
        }
    }

    /// Where line `line` ends, without its line break.
    fn line_end(&self, text: &str, line: usize) -> usize {
        let start = self.line_starts[line];
        self.line_starts.get(line + 1).map_or(text.len(), |next| {
            let mut e = *next;
            while e > start && matches!(text.as_bytes()[e - 1], b'\n' | b'\r') {
                e -= 1;
            }
            e
        })
    }

    /// Whether line `line` is longer than [`LONG_LINE`].
    fn is_long(&self, text: &str, line: usize) -> bool {
        self.line_end(text, line) - self.line_starts[line] > LONG_LINE
    }

    /// The 0-based line holding byte `offset`.
    fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&s| s <= offset) - 1
    }

    /// Characters before byte `offset` (a char boundary).
    fn chars_before(&self, text: &str, offset: usize) -> usize {
        let k = offset / BLOCK;
        let b = floor_boundary(text, k * BLOCK);
        self.char_marks[k] + text[b..offset].chars().count()
    }
}

/// Lines longer than this (a minified JSON manifest is one line) are shown clipped around
/// the label, or every diagnostic would print the whole file; as neighbouring context lines
/// they are left out.
const LONG_LINE: usize = 300;
/// Bytes of a long line shown on each side of the label.
const CLIP_CONTEXT: usize = 60;
/// The most bytes a label underlines (see [`SourceFile::label_span`]): with the context on
/// each side and the ellipses, a clipped line shows at most about 330 bytes.
pub const MAX_LABEL_BYTES: usize = 200;
/// What marks a clipped line's cut ends.
const ELLIPSIS: &str = "…";
/// Bytes of clipped lines (each at most about 330) that may still be shown with ellipses in
/// this process; past it, clipped lines are shown without them.
static CLIP_BUDGET: AtomicUsize = AtomicUsize::new(4 * 1024 * 1024);

impl SourceFile {
    /// A span inside one line longer than [`LONG_LINE`]: only the part around it, without
    /// the neighbouring lines.
    ///
    /// With no context asked for, the contents are the span itself and carry its column in
    /// bytes, as miette's own reader does (the header's `file:line:column` comes from that).
    fn clip_long_line(
        &self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Option<MietteSpanContents<'_>> {
        let text = self.shown();
        let index = self.index();
        let end = span.offset() + span.len();
        let line = index.line_of(span.offset());
        let line_start = index.line_starts[line];
        let line_end = index.line_end(text, line);
        if line_end - line_start <= LONG_LINE || end > line_end {
            return None;
        }
        if context_lines_before == 0 && context_lines_after == 0 {
            // The header's location: the span itself, bounded by `label_span`.
            return Some(
                MietteSpanContents::new_named(
                    self.name.clone(),
                    &text.as_bytes()[span.offset()..end],
                    *span,
                    line,
                    span.offset() - line_start,
                    0,
                )
                .with_language("yaml"),
            );
        }
        let from = floor_boundary(
            text,
            span.offset().saturating_sub(CLIP_CONTEXT).max(line_start),
        );
        let mut to = (end + CLIP_CONTEXT).min(line_end);
        while !text.is_char_boundary(to) {
            to += 1;
        }
        // The cut ends are marked with an ellipsis, placed *before* `from` and after `to`: the
        // contents say they start `ELLIPSIS.len()` bytes before `from`, so the label (placed
        // by byte offset from the start of the data) still sits under its text.
        let marked = CLIP_BUDGET
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(to - from + 2 * ELLIPSIS.len())
            })
            .is_ok();
        if !marked {
            return Some(
                MietteSpanContents::new_named(
                    self.name.clone(),
                    &text.as_bytes()[from..to],
                    SourceSpan::new(from.into(), to - from),
                    line,
                    0,
                    0,
                )
                .with_language("yaml"),
            );
        }
        Some(self.marked_clip(text, line, (line_start, line_end), from, to))
    }

    /// The part `from..to` of `line` (which spans `line_start..line_end`), its cut ends marked
    /// with an ellipsis.
    fn marked_clip(
        &self,
        text: &str,
        line: usize,
        (line_start, line_end): (usize, usize),
        mut from: usize,
        to: usize,
    ) -> MietteSpanContents<'_> {
        let mut data = Vec::with_capacity(to - from + 2 * ELLIPSIS.len());
        if from > line_start && from >= ELLIPSIS.len() {
            data.extend_from_slice(ELLIPSIS.as_bytes());
        } else {
            from = line_start;
        }
        let data_start = from - (data.len());
        data.extend_from_slice(&text.as_bytes()[from..to]);
        if to < line_end {
            data.extend_from_slice(ELLIPSIS.as_bytes());
        }
        // miette's `SpanContents::data` must outlive the contents, so the marked copy is
        // leaked; `CLIP_BUDGET` bounds that for the whole process.
        let data: &'static [u8] = Box::leak(data.into_boxed_slice());
        MietteSpanContents::new_named(
            self.name.clone(),
            data,
            SourceSpan::new(data_start.into(), data.len()),
            line,
            0,
            0,
        )
        .with_language("yaml")
    }
}

/// The char boundary at or below `i` (`str::floor_char_boundary` is newer than the MSRV).
fn floor_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// miette reads the lines around a label through this. Its own implementation for strings
/// scans from the start of the file for every label (quadratic over many diagnostics); here
/// the line index cuts out the few lines around the span and miette's reader runs on that
/// window only, so the rendered text is the same.
impl SourceCode for SourceFile {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let text = self.shown().as_bytes();
        let end = span.offset() + span.len();
        if end > text.len() {
            return Err(MietteError::OutOfBounds);
        }
        let index = self.index();
        if let Some(clipped) = self.clip_long_line(span, context_lines_before, context_lines_after)
        {
            return Ok(Box::new(clipped));
        }
        // One line of slack on each side: miette's reader drops lines it does not need. A
        // neighbouring line longer than `LONG_LINE` ends the window: it is not shown.
        let shown = self.shown();
        let span_line = index.line_of(span.offset());
        let mut first_line = span_line;
        while first_line > 0
            && span_line - first_line <= context_lines_before
            && !index.is_long(shown, first_line - 1)
        {
            first_line -= 1;
        }
        let end_line = index.line_of(end.saturating_sub(1).max(span.offset()));
        let mut last_line = end_line;
        while last_line + 1 < index.line_starts.len()
            && last_line - end_line <= context_lines_after
            && !index.is_long(shown, last_line + 1)
        {
            last_line += 1;
        }
        let start = index.line_starts[first_line];
        let stop = index
            .line_starts
            .get(last_line + 1)
            .copied()
            .unwrap_or(text.len());
        let window = &text[start..stop];
        let relative = SourceSpan::new((span.offset() - start).into(), span.len());
        let inner = <[u8] as SourceCode>::read_span(
            window,
            &relative,
            context_lines_before,
            context_lines_after,
        )?;
        let data = inner.data();
        // The number of lines the contents cover (miette's string reader reports the lines
        // from the start of the file instead, which makes its renderer merge far-apart labels
        // into one snippet of thousands of lines).
        let line_count = data.iter().filter(|b| **b == b'\n').count();
        Ok(Box::new(
            MietteSpanContents::new_named(
                self.name.clone(),
                data,
                SourceSpan::new((inner.span().offset() + start).into(), inner.span().len()),
                inner.line() + first_line,
                inner.column(),
                line_count,
            )
            .with_language("yaml"),
        ))
    }
}

/// A file to read: named on the command line (checked fully), or found by expanding the
/// directory argument `dir` (skipped with a note when it turns out not to be a manifest).
#[derive(Debug, Clone)]
pub struct Found {
    pub path: PathBuf,
    pub dir: Option<usize>,
}

/// What expanding the command-line paths gives: the files, once each, and notes about what
/// was not followed.
#[derive(Debug, Default)]
pub struct Expansion {
    pub files: Vec<Found>,
    /// For each command-line path that is a directory, the indices in `files` of every
    /// file found under it (also those found first through another path).
    pub under: Vec<Vec<usize>>,
    pub problems: Vec<Problem>,
}

/// What identifies a file or directory however it is reached (through links or not).
#[cfg(unix)]
type FileId = (u64, u64);
#[cfg(not(unix))]
type FileId = PathBuf;

#[cfg(unix)]
fn file_id(_path: &Path, meta: &std::fs::Metadata) -> FileId {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

#[cfg(not(unix))]
fn file_id(path: &Path, _meta: &std::fs::Metadata) -> FileId {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Expands the command-line paths: files as given, directories into their `*.yaml` / `*.yml`
/// files (recursively, sorted so runs are deterministic). Hidden entries (names starting
/// with `.`, such as `.github/` or `.git/`) are not searched; a file reached twice (given
/// twice, or through a link) is listed once.
pub fn expand(paths: &[PathBuf]) -> Expansion {
    let mut walk = Walk::default();
    walk.out.under = vec![Vec::new(); paths.len()];
    for (arg, path) in paths.iter().enumerate() {
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => {
                // Per argument, so that `validate d d/sub` finds manifests under both.
                walk.dirs.clear();
                let mut stack = Vec::new();
                walk.dir(path, &meta, arg, &mut stack);
            }
            // Missing and unreadable files are reported when they are read.
            Ok(meta) => walk.file(path, Some(&meta), None),
            Err(_) => walk.file(path, None, None),
        }
    }
    walk.out
}

#[derive(Default)]
struct Walk {
    out: Expansion,
    /// Directories searched for the current argument (a second way into one is not a loop
    /// but would repeat work).
    dirs: HashSet<FileId>,
    /// Directories a loop led back to, reported once each however many links do it.
    loops: HashSet<FileId>,
    files: std::collections::HashMap<FileId, usize>,
}

impl Walk {
    fn file(&mut self, path: &Path, meta: Option<&std::fs::Metadata>, dir: Option<usize>) {
        if let Some(meta) = meta {
            let id = file_id(path, meta);
            if let Some(&i) = self.files.get(&id) {
                // Named on the command line wins: such a file is checked fully.
                match dir {
                    None => self.out.files[i].dir = None,
                    Some(arg) => self.out.under[arg].push(i),
                }
                return;
            }
            self.files.insert(id, self.out.files.len());
        }
        if let Some(arg) = dir {
            self.out.under[arg].push(self.out.files.len());
        }
        self.out.files.push(Found {
            path: path.to_path_buf(),
            dir,
        });
    }

    /// `stack` holds the directories being walked (id and path), to tell a loop (a link
    /// back to one of them) from a second way into a directory already read.
    fn dir(
        &mut self,
        dir: &Path,
        meta: &std::fs::Metadata,
        arg: usize,
        stack: &mut Vec<(FileId, PathBuf)>,
    ) {
        let id = file_id(dir, meta);
        if let Some((_, ancestor)) = stack.iter().find(|(d, _)| *d == id) {
            if !self.loops.insert(id) {
                return;
            }
            self.out.problems.push(
                Problem::warning(
                    "file::symlink_loop",
                    format!(
                        "{}: a link back to {}, which is already being searched; not followed",
                        dir.display(),
                        ancestor.display()
                    ),
                )
                .with_help("links that lead back into a directory being searched are not followed (this is reported once); every file is read once"),
            );
            return;
        }
        // `FileId` is `Copy` on Unix only.
        #[allow(clippy::clone_on_copy)]
        if !self.dirs.insert(id.clone()) {
            return;
        }
        let entries = match std::fs::read_dir(dir) {
            Ok(read) => read,
            Err(e) => {
                self.out.problems.push(Problem::error(
                    "file::read",
                    format!("{}: cannot read the directory: {e}", dir.display()),
                ));
                return;
            }
        };
        let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        stack.push((id, dir.to_path_buf()));
        for entry in entries {
            let hidden = entry
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'));
            if hidden {
                continue;
            }
            let meta = std::fs::metadata(&entry).ok();
            if let Some(meta) = meta.as_ref().filter(|m| m.is_dir()) {
                self.dir(&entry, meta, arg, stack);
            } else if matches!(
                entry.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml")
            ) {
                self.file(&entry, meta.as_ref(), Some(arg));
            }
        }
        stack.pop();
    }
}

/// Reads one manifest file, refusing directories, special files, oversized, binary and
/// non-UTF-8 content with a message that says what is wrong.
pub fn read(path: &Path) -> Result<SourceFile, Problem> {
    let name = path.display().to_string();
    check_file(path, &name)?;
    let bytes = std::fs::read(path).map_err(|e| {
        Problem::error(
            "file::read",
            format!("{name}: cannot read the manifest: {e}"),
        )
    })?;
    let text = text_of(&name, bytes)?;
    if text.trim().is_empty() {
        return Err(
            Problem::error("file::empty", format!("{name} is empty")).with_help(
                "a manifest starts with `version: 1` and a `rooms:` list; see examples/rooms.yaml",
            ),
        );
    }
    Ok(SourceFile::new(name, text))
}

/// `path` is a regular file no larger than [`MAX_FILE_BYTES`].
fn check_file(path: &Path, name: &str) -> Result<(), Problem> {
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
    Ok(())
}

/// The text of a manifest's bytes: bounded, not binary, UTF-8, without a byte-order mark.
fn text_of(name: &str, bytes: Vec<u8>) -> Result<String, Problem> {
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
        let file = SourceFile::new(name.to_string(), valid);
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
    Ok(text
        .strip_prefix('\u{feff}')
        .map(str::to_string)
        .unwrap_or(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The windowed reader must give miette exactly what its whole-file reader gives (data,
    /// offsets, line, column), for every span, with every kind of line break and multi-byte
    /// characters; only the line count differs (it is the window's, see `read_span`).
    #[test]
    fn windowed_spans_match_miettes_whole_file_reader() {
        let text =
            "version: 1\r\nrooms:\n  - title: Café 東京 🚀\n\n    type: x\rtags: [a, b]\n  - last";
        let file = SourceFile::new("m.yaml", text);
        let boundaries: Vec<usize> = (0..=text.len())
            .filter(|i| text.is_char_boundary(*i))
            .collect();
        for &start in &boundaries {
            for &end in boundaries.iter().filter(|e| **e >= start).take(12) {
                let span = SourceSpan::new(start.into(), end - start);
                for context in [0, 1, 2] {
                    let ours = file.read_span(&span, context, context).unwrap();
                    let theirs = text.read_span(&span, context, context).unwrap();
                    let at = format!("span {start}..{end}, context {context}");
                    assert_eq!(ours.data(), theirs.data(), "{at}");
                    assert_eq!(ours.span(), theirs.span(), "{at}");
                    assert_eq!(ours.line(), theirs.line(), "{at}");
                    assert_eq!(ours.column(), theirs.column(), "{at}");
                    assert_eq!(ours.name(), Some("m.yaml"));
                }
            }
        }
        assert!(
            file.read_span(&SourceSpan::new(text.len().into(), 1), 1, 1)
                .is_err()
        );
    }

    #[test]
    fn a_label_on_a_very_long_line_shows_only_the_part_around_it() {
        let rooms: Vec<String> = (0..200)
            .map(|i| format!("{{title: \"Room {i}\", type: custom}}"))
            .collect();
        let text = format!("{{version: 1, rooms: [{}]}}\n", rooms.join(", "));
        let file = SourceFile::new("m.yaml", text.as_str());
        let at = text.find("Room 150").unwrap();
        let span = SourceSpan::new(at.into(), 8);
        let around = file.read_span(&span, 1, 1).unwrap();
        let shown = std::str::from_utf8(around.data()).unwrap();
        assert!(
            shown.contains("Room 150") && shown.len() <= 8 + 2 * CLIP_CONTEXT + 2 * ELLIPSIS.len()
        );
        assert!(
            shown.starts_with(ELLIPSIS) && shown.ends_with(ELLIPSIS),
            "{shown}"
        );
        assert_eq!(around.line(), 0);
        // What the header's location is taken from: the span itself and its column.
        let exact = file.read_span(&span, 0, 0).unwrap();
        let theirs = text.as_str().read_span(&span, 0, 0).unwrap();
        assert_eq!(exact.data(), theirs.data());
        assert_eq!(exact.column(), theirs.column());
        assert_eq!(exact.line(), theirs.line());
        // Rendered, the snippet is short and the label sits under its text.
        let problem = crate::manifest::Problem::warning("t::t", "here").at(
            &file,
            crate::manifest::yaml::Span { offset: at, len: 8 },
            "this one",
        );
        let out = crate::printer::render_diagnostic(&problem, false);
        assert!(out.len() < 1000, "{out}");
        assert!(out.contains(&format!("m.yaml:1:{}", at + 1)), "{out}");
        let line = out.lines().find(|l| l.contains("Room 150")).unwrap();
        let marks = out.lines().find(|l| l.contains("─┬─")).unwrap();
        let col = |l: &str, pat: &str| l[..l.find(pat).unwrap()].chars().count();
        assert_eq!(col(line, "Room 150"), col(marks, "─"), "{out}");
    }

    #[test]
    fn line_and_column_count_characters() {
        let text = "a: 1\nb: Café 🚀 x\r\nc\rd";
        let file = SourceFile::new("m.yaml", text);
        assert_eq!(file.line_col(0), (1, 1));
        assert_eq!(file.line_col(text.find('x').unwrap()), (2, 11));
        assert_eq!(file.line_col(text.find('c').unwrap()), (3, 1));
        assert_eq!(file.line_col(text.find('d').unwrap()), (4, 1));
        assert_eq!(file.line_col(text.len() + 10), (4, 2));
        // Past a block boundary of the character index.
        let long = format!("{}\nzz", "é".repeat(5000));
        let file = SourceFile::new("m.yaml", long.as_str());
        assert_eq!(file.line_col(long.len() - 1), (2, 2));
        assert_eq!(file.line_col(4097), (1, 2049));
    }
}
