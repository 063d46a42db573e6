//! Files the tool writes for the user: `plan --out`, `apply --report`, `export --out`.
//!
//! Invariants (issue 10, "Files the tool writes"):
//! - Only a regular file is ever replaced. Anything else (a character device such as
//!   `/dev/null`, a FIFO, a socket, `/dev/stdout`) is written straight through, never renamed
//!   over: running as root, `--out /dev/null` once replaced the system's `/dev/null` with a
//!   regular file.
//! - A symlink is followed and its final target replaced; the link itself stays a link.
//! - A regular file is replaced atomically (a temporary file in the same directory, fsync,
//!   rename, fsync of the directory), so a crash leaves the old or the new content, never half.
//!   The replaced file keeps its permission bits (and, where allowed, its owner and group).
//! - New files that name portal members (plans, reports) are created 0600.
//! - [`OutputFile::check`] runs before any change is made (before `apply` touches the portal):
//!   a missing parent directory, a parent that is a file, a directory given as the file, or a
//!   directory the tool cannot create files in is an error then, not after the portal changed.
//!   Missing directories are not created: a typo in a path should not grow a directory tree.
//! - `/dev/stdout` (and `/dev/fd/1`, `/proc/self/fd/1`) and the stderr forms go through the
//!   [`Printer`], the same file description the rest of the output uses, so that the file
//!   offset and append mode of a shell redirection are respected.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

use crate::printer::Printer;

/// Who may read a newly created file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewFileMode {
    /// 0600: plans and reports name portal members.
    Private,
    /// The process's default (0666 minus the umask): exports are meant to be committed.
    Default,
}

/// An output path, checked: [`OutputFile::check`] before any change, [`OutputFile::write`] at
/// the end.
#[derive(Debug, Clone)]
pub struct OutputFile {
    /// The path as the user gave it (shown in messages).
    path: PathBuf,
    /// What the output is, for messages ("the report").
    what: &'static str,
}

/// Where the bytes go, decided by looking at the path when writing.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// The process's own stdout (`/dev/stdout`, `/dev/fd/1`, `/proc/self/fd/1`).
    Stdout,
    /// The process's own stderr.
    Stderr,
    /// Not a regular file: opened and written in place (append mode, no truncation).
    Stream(PathBuf),
    /// A regular file (existing or new), after following symlinks: replaced atomically.
    File { path: PathBuf, exists: bool },
}

/// Why an output path cannot be written.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("cannot write {what} to {path}: {reason}")]
#[diagnostic(code(output::unwritable))]
pub struct OutputError {
    what: &'static str,
    path: String,
    reason: String,
    #[help]
    help: Option<String>,
}

/// Symlinks followed before giving up (the kernel's own limit is 40).
const MAX_LINKS: usize = 40;

impl OutputFile {
    /// Checks that `path` can be written, without changing anything the user can see (a
    /// temporary file is created and removed again in the target's directory to prove that
    /// the replace will work). `what` names the output in messages ("the report").
    pub fn check(path: &Path, what: &'static str) -> Result<OutputFile, OutputError> {
        let out = OutputFile {
            path: path.to_path_buf(),
            what,
        };
        match out.resolve()? {
            Target::Stdout | Target::Stderr | Target::Stream(_) => {}
            Target::File { path, .. } => {
                // Proves that a temporary file can be created next to the target (the rename
                // needs nothing more). Root passes any permission check, so this is the only
                // honest test.
                let dir = parent_dir(&path);
                let (tmp, file) = create_temp(&dir, &path, 0o600).map_err(|e| out.io_error(&e))?;
                drop(file);
                let _ = fs::remove_file(tmp);
            }
        }
        Ok(out)
    }

    /// The path as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `text`: straight through to a device, FIFO or the process's stdout/stderr, or by
    /// atomically replacing a regular file (keeping its permissions; a new file gets `mode`).
    pub fn write(
        &self,
        text: &str,
        mode: NewFileMode,
        printer: &Printer,
    ) -> Result<(), OutputError> {
        // Resolved again: the path may have changed since the check (a report file that
        // appeared, a link that was repointed). Stdout and stderr go through the printer,
        // which removes the API key; files and streams are scrubbed here, since they outlive
        // the run and travel (CI artifacts).
        let scrub = |text: &str| crate::redact::scrub(text).into_owned().into_bytes();
        match self.resolve()? {
            Target::Stdout => printer.stdout(text).map_err(|e| self.io_error(&e)),
            Target::Stderr => {
                printer.stderr(text);
                Ok(())
            }
            Target::Stream(path) => OpenOptions::new()
                .append(true)
                .open(&path)
                .and_then(|mut f| {
                    f.write_all(&scrub(text))?;
                    f.flush()
                })
                .map_err(|e| self.io_error(&e)),
            Target::File { path, exists } => {
                replace(&path, exists, &scrub(text), mode).map_err(|e| self.io_error(&e))
            }
        }
    }

    fn error(&self, reason: impl Into<String>, help: Option<String>) -> OutputError {
        OutputError {
            what: self.what,
            path: self.path.display().to_string(),
            reason: reason.into(),
            help,
        }
    }

    fn io_error(&self, e: &io::Error) -> OutputError {
        let help = match e.kind() {
            io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => Some(
                "the file is replaced by creating a new one next to it: the directory must be writable"
                    .to_string(),
            ),
            _ => None,
        };
        self.error(e.to_string(), help)
    }

    /// Follows symlinks one hop at a time and decides what the path is.
    fn resolve(&self) -> Result<Target, OutputError> {
        let mut current = self.path.clone();
        for _ in 0..MAX_LINKS {
            if let Some(target) = process_stream(&current) {
                return Ok(target);
            }
            let meta = match fs::symlink_metadata(&current) {
                Ok(m) => m,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return self.new_file(current),
                Err(e) if e.kind() == io::ErrorKind::NotADirectory => {
                    return Err(self.not_a_directory(&current));
                }
                Err(e) => return Err(self.io_error(&e)),
            };
            let kind = meta.file_type();
            if kind.is_symlink() {
                let link = fs::read_link(&current).map_err(|e| self.io_error(&e))?;
                current = if link.is_absolute() {
                    link
                } else {
                    parent_dir(&current).join(link)
                };
                continue;
            }
            if kind.is_file() {
                return Ok(Target::File {
                    path: current,
                    exists: true,
                });
            }
            if kind.is_dir() {
                return Err(self.error(
                    "it is a directory",
                    Some(format!(
                        "name a file inside it, e.g. {}",
                        self.path.join(default_name(self.what)).display()
                    )),
                ));
            }
            // A character or block device, a FIFO, a socket: never replaced.
            return Ok(Target::Stream(current));
        }
        Err(self.error("too many levels of symbolic links", None))
    }

    /// A path that does not exist yet: its directory must.
    fn new_file(&self, path: PathBuf) -> Result<Target, OutputError> {
        let dir = parent_dir(&path);
        match fs::metadata(&dir) {
            Ok(m) if m.is_dir() => Ok(Target::File {
                path,
                exists: false,
            }),
            Ok(_) => Err(self.not_a_directory(&path)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(self.error(
                format!("the directory {} does not exist", dir.display()),
                Some(format!(
                    "create it first (mkdir -p {}); directories are not created",
                    dir.display()
                )),
            )),
            Err(e) if e.kind() == io::ErrorKind::NotADirectory => Err(self.not_a_directory(&path)),
            Err(e) => Err(self.io_error(&e)),
        }
    }

    /// The nearest existing ancestor of `path` is a file, not a directory.
    fn not_a_directory(&self, path: &Path) -> OutputError {
        let blocker = path
            .ancestors()
            .skip(1)
            .find(|a| fs::symlink_metadata(a).is_ok())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| parent_dir(path));
        self.error(
            format!("{} is not a directory", blocker.display()),
            Some("the file must be inside an existing directory".to_string()),
        )
    }
}

/// A name to suggest inside a directory given where a file was expected.
fn default_name(what: &str) -> &'static str {
    match what {
        "the report" => "report.json",
        "the plan" => "plan.json",
        _ => "portal.yaml",
    }
}

/// `/dev/stdout`, `/dev/stderr`, `/dev/fd/N` and `/proc/{self,thread-self,PID}/fd/N`: the
/// process's own descriptors. Their "symlink" targets are not paths (`pipe:[123]`), and
/// reopening a redirected file would start at offset 0 over what was already written.
fn process_stream(path: &Path) -> Option<Target> {
    let parts: Vec<String> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    if !path.is_absolute() {
        return None;
    }
    let fd = match parts.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["dev", "stdout"] => "1",
        ["dev", "stderr"] => "2",
        ["dev", "fd", fd] => fd,
        ["proc", "self" | "thread-self", "fd", fd] => fd,
        ["proc", pid, "fd", fd] if pid == std::process::id().to_string() => fd,
        _ => return None,
    };
    Some(match fd {
        "1" => Target::Stdout,
        "2" => Target::Stderr,
        _ => Target::Stream(path.to_path_buf()),
    })
}

/// The directory a path lives in (`.` for a bare file name).
fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Creates a new, empty temporary file next to `target` with `mode` (minus the umask).
#[cfg_attr(not(unix), allow(unused_variables))]
fn create_temp(dir: &Path, target: &Path, mode: u32) -> io::Result<(PathBuf, File)> {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".to_string());
    let pid = std::process::id();
    let mut n = 0u32;
    loop {
        let tmp = dir.join(format!(".{name}.{pid}.{n}.tmp"));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(mode);
        }
        match options.open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            // A leftover of a crashed run, or another writer: take the next name.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
            Err(e) => return Err(e),
        }
    }
}

/// Atomically replaces (or creates) the regular file `path` with `bytes`.
fn replace(path: &Path, exists: bool, bytes: &[u8], mode: NewFileMode) -> io::Result<()> {
    let dir = parent_dir(path);
    // A private or replaced file is never readable by others, not even for the moment before
    // its final mode is set.
    let initial = if exists || mode == NewFileMode::Private {
        0o600
    } else {
        0o666
    };
    let (tmp, mut file) = create_temp(&dir, path, initial)?;
    let result = (|| {
        file.write_all(bytes)?;
        set_mode(&file, path, exists, mode)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    // Makes the rename itself durable (power loss); a plain crash is already safe here.
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Gives the temporary file the final permissions: the replaced file's, or those of a new file.
#[cfg(unix)]
fn set_mode(file: &File, path: &Path, exists: bool, mode: NewFileMode) -> io::Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    if exists {
        let old = fs::metadata(path)?;
        file.set_permissions(fs::Permissions::from_mode(old.mode() & 0o7777))?;
        // Keeps the owner when root rewrites someone else's file; refused (and harmless) for
        // everyone else, whose new file is theirs anyway.
        let new = file.metadata()?;
        if new.uid() != old.uid() || new.gid() != old.gid() {
            let _ = std::os::unix::fs::fchown(file, Some(old.uid()), Some(old.gid()));
        }
        return Ok(());
    }
    match mode {
        NewFileMode::Private => file.set_permissions(fs::Permissions::from_mode(0o600)),
        // Created 0666 minus the umask, as `File::create` would.
        NewFileMode::Default => Ok(()),
    }
}

#[cfg(not(unix))]
fn set_mode(_file: &File, _path: &Path, _exists: bool, _mode: NewFileMode) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_streams_are_recognised() {
        assert_eq!(
            process_stream(Path::new("/dev/stdout")),
            Some(Target::Stdout)
        );
        assert_eq!(process_stream(Path::new("/dev/fd/2")), Some(Target::Stderr));
        assert_eq!(
            process_stream(Path::new("/proc/self/fd/1")),
            Some(Target::Stdout)
        );
        assert_eq!(
            process_stream(Path::new("/dev/fd/63")),
            Some(Target::Stream(PathBuf::from("/dev/fd/63")))
        );
        assert_eq!(process_stream(Path::new("/dev/shm/plan.json")), None);
        assert_eq!(process_stream(Path::new("dev/stdout")), None);
    }

    #[test]
    fn a_bare_file_name_lives_in_the_current_directory() {
        assert_eq!(parent_dir(Path::new("plan.json")), PathBuf::from("."));
        assert_eq!(parent_dir(Path::new("a/plan.json")), PathBuf::from("a"));
    }
}
