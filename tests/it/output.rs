//! The files the tool writes (`plan --out`, `apply --report`, `export --out`), through the real
//! binary: FIFOs, character devices and `/dev/stdout` are written through and never replaced;
//! symlinks are followed; permissions are kept (new plans and reports are 0600); regular
//! files are replaced atomically; and an impossible path is refused before anything happens.
//!
//! The real `/dev/null` is never a target here: the character device is a node made with
//! `mknod` in a temporary directory (or, where that is not allowed, `/dev/zero`, which an
//! unprivileged process could not replace anyway).

use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::common::{Portal, Run, bin, run_cmd};

const MANIFEST: &str = "version: 1
rooms:
  - title: Output
    type: collaboration
    invitees:
      - email: uma.user@sandbox.test
        access: editing
";

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Files in `dir` whose name marks them as a temporary left behind.
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect()
}

/// stderr with miette's line wrapping undone, so that a message can be searched whole.
fn unwrapped(stderr: &str) -> String {
    stderr.replace("\n  │ ", " ")
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
}

/// Reads a FIFO on a thread until the writer closes it. A FIFO that was replaced by a regular
/// file leaves the reader blocked forever on the old node: [`Drain::text`] then fails the test
/// instead of hanging it.
struct Drain(std::sync::mpsc::Receiver<String>);

fn drain(fifo: &Path) -> Drain {
    let fifo = fifo.to_path_buf();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(std::fs::read_to_string(fifo).unwrap());
    });
    Drain(rx)
}

impl Drain {
    fn text(self) -> String {
        self.0
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("nothing was written to the FIFO (was it replaced?)")
    }
}

/// A character device to write to: a fresh null device node in `dir` when `mknod` is allowed
/// (root), else `/dev/zero`.
fn char_device(dir: &Path) -> PathBuf {
    let node = dir.join("null-device");
    let made = Command::new("mknod")
        .arg(&node)
        .args(["c", "1", "3"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if made {
        node
    } else {
        PathBuf::from("/dev/zero")
    }
}

impl Portal {
    /// Runs the binary against this portal with stdout going to `stdout`.
    fn run_with_stdout(&self, args: &[&str], stdout: Stdio) -> std::process::Output {
        let mut cmd = bin();
        cmd.args(args)
            .arg("--portal")
            .arg(self.handle.base_url.as_str())
            .env("DOCSPACE_API_KEY", &self.handle.api_key)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::piped());
        tokio::task::block_in_place(|| cmd.output().unwrap())
    }

    /// Runs the binary in `sh` with umask 022, so that a new file's default mode is known.
    fn run_umask_022(&self, args: &[&str]) -> Run {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg("umask 022; exec \"$@\"")
            .arg("sh")
            .arg(env!("CARGO_BIN_EXE_docspace-provision"))
            .args(args)
            .arg("--portal")
            .arg(self.handle.base_url.as_str())
            .env("NO_COLOR", "1")
            .env_remove("DOCSPACE_URL")
            .env("DOCSPACE_API_KEY", &self.handle.api_key)
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        tokio::task::block_in_place(|| run_cmd(&mut cmd))
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_out_writes_through_a_fifo_and_leaves_it_a_fifo() {
    let portal = Portal::start().await;
    let manifest = portal.manifest(MANIFEST);
    let fifo = portal.dir.join("plan.fifo");
    mkfifo(&fifo);
    let reader = drain(&fifo);
    let run = portal.run(&[
        "plan",
        manifest.to_str().unwrap(),
        "--out",
        fifo.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let saved: Value = serde_json::from_str(&reader.text()).unwrap();
    assert_eq!(saved["format_version"], 2);
    assert_eq!(saved["rooms"][0]["title"], "Output");
    let meta = std::fs::symlink_metadata(&fifo).unwrap();
    assert!(meta.file_type().is_fifo(), "the FIFO was replaced");
    assert!(leftovers(&portal.dir).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_report_and_an_export_go_through_a_fifo_too() {
    let portal = Portal::start().await;
    let manifest = portal.manifest(MANIFEST);
    let fifo = portal.dir.join("report.fifo");
    mkfifo(&fifo);
    let reader = drain(&fifo);
    let run = portal.run(&[
        "apply",
        manifest.to_str().unwrap(),
        "--auto-approve",
        "--report",
        fifo.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: Value = serde_json::from_str(&reader.text()).unwrap();
    assert_eq!(report["summary"]["applied"], 2, "{report:#}");
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );

    let reader = drain(&fifo);
    let run = portal.run(&["export", "--out", fifo.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(reader.text().contains("title: Output"));
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_character_device_is_written_through_not_replaced() {
    let portal = Portal::start().await;
    let manifest = portal.manifest(MANIFEST);
    let device = char_device(&portal.dir);
    let before = std::fs::metadata(&device).unwrap();
    let run = portal.run(&[
        "plan",
        manifest.to_str().unwrap(),
        "--out",
        device.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let (run, _) = portal.apply(&manifest, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = portal.run(&[
        "apply",
        manifest.to_str().unwrap(),
        "--auto-approve",
        "--report",
        device.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = portal.run(&["export", "--out", device.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let after = std::fs::metadata(&device).unwrap();
    assert!(
        after.file_type().is_char_device(),
        "the device was replaced"
    );
    assert_eq!((after.ino(), after.rdev()), (before.ino(), before.rdev()));
    assert!(leftovers(&portal.dir).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_out_dev_stdout_writes_to_the_captured_stdout() {
    let portal = Portal::start().await;
    let manifest = portal.manifest(MANIFEST);
    // stdout is a pipe.
    let out = portal.run_with_stdout(
        &["plan", manifest.to_str().unwrap(), "--out", "/dev/stdout"],
        Stdio::piped(),
    );
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("\"format_version\": 2"), "{stdout}");
    assert!(stdout.contains("Plan: 1 room to create"), "{stdout}");

    // stdout is a regular file (a shell redirection): the saved plan and the text plan both
    // land in it, one after the other; neither overwrites the other.
    let file = portal.dir.join("stdout.txt");
    let out = portal.run_with_stdout(
        &["plan", manifest.to_str().unwrap(), "--out", "/dev/stdout"],
        Stdio::from(std::fs::File::create(&file).unwrap()),
    );
    assert_eq!(out.status.code(), Some(0));
    let text = std::fs::read_to_string(&file).unwrap();
    let json_end = text.find("\n}\n").expect("the saved plan") + 3;
    let saved: Value = serde_json::from_str(&text[..json_end]).unwrap();
    assert_eq!(saved["rooms"][0]["title"], "Output");
    assert!(
        text[json_end..].contains("Plan: 1 room to create"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_symlink_is_followed_and_its_target_replaced_keeping_its_mode() {
    let portal = Portal::start().await;
    let manifest = portal.manifest(MANIFEST);
    let real = portal.dir.join("real-plan.json");
    std::fs::write(&real, "old").unwrap();
    set_mode(&real, 0o640);
    let link = portal.dir.join("plan.json");
    std::os::unix::fs::symlink("real-plan.json", &link).unwrap();
    let run = portal.run(&[
        "plan",
        manifest.to_str().unwrap(),
        "--out",
        link.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        std::fs::read_link(&link).unwrap(),
        PathBuf::from("real-plan.json")
    );
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&real).unwrap()).unwrap();
    assert_eq!(saved["format_version"], 2);
    assert_eq!(mode(&real), 0o640);

    // A dangling link: its target is created (0600, as a new plan), the link stays.
    let dangling = portal.dir.join("dangling.json");
    std::os::unix::fs::symlink("created-by-plan.json", &dangling).unwrap();
    let run = portal.run(&[
        "plan",
        manifest.to_str().unwrap(),
        "--out",
        dangling.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        std::fs::symlink_metadata(&dangling)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(mode(&portal.dir.join("created-by-plan.json")), 0o600);
    assert!(leftovers(&portal.dir).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn permissions_are_kept_and_new_plans_and_reports_are_private() {
    let portal = Portal::start().await;
    let manifest = portal.manifest(MANIFEST);
    let m = manifest.to_str().unwrap();

    // New files, created under umask 022: plans and reports name members, so 0600; an export
    // is meant to be committed, so the usual 0644.
    let plan = portal.dir.join("new-plan.json");
    let run = portal.run_umask_022(&["plan", m, "--out", plan.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(mode(&plan), 0o600);
    let report = portal.dir.join("new-report.json");
    let run = portal.run_umask_022(&[
        "apply",
        m,
        "--auto-approve",
        "--report",
        report.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(mode(&report), 0o600);
    let export = portal.dir.join("new-export.yaml");
    let run = portal.run_umask_022(&["export", "--out", export.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(mode(&export), 0o644);

    // Existing files keep their mode, whatever it is, and are replaced (a new inode: the
    // rename of a complete temporary file), never rewritten in place.
    for (path, old_mode) in [(&plan, 0o644), (&report, 0o644), (&export, 0o600)] {
        set_mode(path, old_mode);
    }
    let inodes: Vec<u64> = [&plan, &report, &export]
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().ino())
        .collect();
    let run = portal.run_umask_022(&["plan", m, "--out", plan.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = portal.run_umask_022(&[
        "apply",
        m,
        "--auto-approve",
        "--report",
        report.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = portal.run_umask_022(&["export", "--out", export.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(mode(&plan), 0o644);
    assert_eq!(mode(&report), 0o644);
    assert_eq!(mode(&export), 0o600);
    for (path, old) in [&plan, &report, &export].iter().zip(inodes) {
        assert_ne!(std::fs::metadata(path).unwrap().ino(), old, "{path:?}");
    }
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(report["summary"]["unchanged"], 1, "{report:#}");
    assert!(leftovers(&portal.dir).is_empty());
}

/// Paths that cannot be written: a missing directory, a parent that is a regular file, a
/// directory given as the file.
fn impossible_paths(dir: &Path) -> Vec<(PathBuf, &'static str)> {
    let file = dir.join("a-file");
    std::fs::write(&file, "x").unwrap();
    let subdir = dir.join("a-dir");
    std::fs::create_dir_all(&subdir).unwrap();
    vec![
        (dir.join("missing/out.json"), "does not exist"),
        (file.join("out.json"), "is not a directory"),
        (subdir, "it is a directory"),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn an_impossible_report_path_is_refused_before_any_change() {
    let portal = Portal::start().await;
    let manifest = portal.manifest(MANIFEST);
    for (path, reason) in impossible_paths(&portal.dir) {
        portal.reset_stats().await;
        let run = portal.run(&[
            "apply",
            manifest.to_str().unwrap(),
            "--auto-approve",
            "--report",
            path.to_str().unwrap(),
        ]);
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(
            unwrapped(&run.stderr).contains("cannot write the report to")
                && unwrapped(&run.stderr).contains(reason),
            "{reason}: {}",
            run.stderr
        );
        let stats = portal.stats().await;
        assert_eq!(stats["writes"], 0, "the portal was changed: {stats}");
        assert_eq!(stats["total"], 0, "the portal was even read: {stats}");
    }
    assert!(
        portal
            .run(&["plan", manifest.to_str().unwrap(), "--detailed-exitcode"])
            .code
            == 2
    );
    let missing = portal.dir.join("missing/out.json");
    let run = portal.run(&[
        "apply",
        manifest.to_str().unwrap(),
        "--auto-approve",
        "--report",
        missing.to_str().unwrap(),
    ]);
    assert!(
        run.stderr.contains("mkdir -p") && !portal.dir.join("missing").exists(),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn impossible_plan_and_export_paths_are_refused_before_reading() {
    let portal = Portal::start().await;
    let manifest = portal.manifest(MANIFEST);
    for (path, reason) in impossible_paths(&portal.dir) {
        portal.reset_stats().await;
        let run = portal.run(&[
            "plan",
            manifest.to_str().unwrap(),
            "--out",
            path.to_str().unwrap(),
        ]);
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(
            unwrapped(&run.stderr).contains("cannot write the plan to")
                && unwrapped(&run.stderr).contains(reason),
            "{reason}: {}",
            run.stderr
        );
        let run = portal.run(&["export", "--out", path.to_str().unwrap()]);
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(
            unwrapped(&run.stderr).contains("cannot write the export to")
                && unwrapped(&run.stderr).contains(reason),
            "{reason}: {}",
            run.stderr
        );
        assert_eq!(portal.stats().await["total"], 0);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_message_for_a_missing_directory() {
    let portal = Portal::start().await;
    let manifest = portal.manifest(MANIFEST);
    let run = portal.run(&[
        "plan",
        manifest.to_str().unwrap(),
        "--out",
        portal.dir.join("plans/next.json").to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(portal.scrub(&run.stderr));
}
