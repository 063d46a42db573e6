//! `docspace-provision sandbox` through the real binary (issue 10): a bad state file fails
//! before the address and key are printed, the API key survives a restart, the fault switches
//! have their own `--help` heading, and the state file is replaced safely (through symlinks,
//! keeping permissions, never over something that is not a regular file).

use std::io::{BufRead, BufReader};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use docspace_provision::sandbox::state::PortalState;
use serde_json::{Value, json};

fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_docspace-provision"));
    cmd.env("NO_COLOR", "1").env("COLUMNS", "100");
    cmd
}

/// Runs `sandbox --state STATE` and waits (bounded) for it to exit on its own.
fn run_to_exit(state: &Path) -> (Option<i32>, String, String) {
    let mut child = bin()
        .args(["sandbox", "--listen", "127.0.0.1:0", "--state"])
        .arg(state)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            return (
                status.code(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            );
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!(
                "the sandbox kept running on {}: stdout {:?}",
                state.display(),
                String::from_utf8_lossy(&out.stdout)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn an_unusable_state_file_fails_before_the_address_and_key_are_printed() {
    let dir = tempfile::tempdir().unwrap();
    let bad_json = dir.path().join("bad.json");
    std::fs::write(&bad_json, b"{not json").unwrap();
    let a_dir = dir.path().join("a-directory");
    std::fs::create_dir(&a_dir).unwrap();
    let fifo = dir.path().join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());

    let no_parent = dir.path().join("missing").join("state.json");
    for (path, says) in [
        (&bad_json, "is not a sandbox state file"),
        (&a_dir, "is a directory"),
        (&fifo, "not a regular file"),
        (&no_parent, "cannot create"),
    ] {
        let (code, stdout, stderr) = run_to_exit(path);
        assert_eq!(code, Some(1), "{}: {stderr}", path.display());
        assert_eq!(stdout, "", "nothing on stdout for {}", path.display());
        assert!(
            !stderr.contains("DOCSPACE_API_KEY") && !stderr.contains("listening"),
            "{stderr}"
        );
        assert!(stderr.contains(says), "{}: {stderr}", path.display());
        assert!(stderr.contains("--state"), "a help line: {stderr}");
    }
    // The bad file was left alone.
    assert_eq!(std::fs::read(&bad_json).unwrap(), b"{not json");

    // An unreadable file (only meaningful when not running as root, who can read anything).
    let locked = dir.path().join("locked.json");
    std::fs::write(&locked, b"{}").unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&locked).is_err() {
        let (code, stdout, stderr) = run_to_exit(&locked);
        assert_eq!(code, Some(1), "{stderr}");
        assert_eq!(stdout, "");
        assert!(stderr.contains("ermission denied"), "{stderr}");
    }
}

/// A running `sandbox`: its printed URL and key.
struct Running {
    child: Child,
    url: String,
    key: String,
}

impl Running {
    fn start(state: &Path, extra: &[&str]) -> Running {
        let mut child = bin()
            .args(["-q", "sandbox", "--listen", "127.0.0.1:0", "--state"])
            .arg(state)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let url = lines.next().and_then(Result::ok).unwrap_or_default();
            let key = lines.next().and_then(Result::ok).unwrap_or_default();
            let _ = tx.send((url, key));
        });
        let (url, key) = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("the sandbox prints its address and key");
        Running {
            child,
            url: url.strip_prefix("DOCSPACE_URL=").unwrap().to_string(),
            key: key.strip_prefix("DOCSPACE_API_KEY=").unwrap().to_string(),
        }
    }

    fn stop(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// One request; answers the status and the JSON body (null when there is none).
    fn call(&self, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let client = reqwest::Client::builder().no_proxy().build().unwrap();
            let resp = client
                .request(method, format!("{}{path}", self.url))
                .bearer_auth(&self.key)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            let text = resp.text().await.unwrap();
            (status, serde_json::from_str(&text).unwrap_or(Value::Null))
        })
    }

    fn create_room(&self, title: &str) -> Value {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let client = reqwest::Client::builder().no_proxy().build().unwrap();
            client
                .post(format!("{}/api/2.0/files/rooms", self.url))
                .bearer_auth(&self.key)
                .json(&json!({ "title": title, "roomType": 2 }))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        })
    }
}

#[test]
fn a_restarted_sandbox_keeps_its_api_key() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let first = Running::start(&state, &[]);
    let key = first.key.clone();
    assert!(key.starts_with("sk-"));
    first.stop();
    let saved: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert_eq!(
        saved["api_key"],
        key.as_str(),
        "the key is kept in the state file"
    );
    let again = Running::start(&state, &[]);
    assert_eq!(again.key, key, "same key after a restart");
    let room = again.create_room("Works with the old key");
    assert_eq!(room["response"]["title"], "Works with the old key");
    again.stop();

    // A state file from before the key was stored gets one on first load, then keeps it.
    let old = dir.path().join("old.json");
    std::fs::write(&old, serde_json::to_vec(&PortalState::seed()).unwrap()).unwrap();
    let saved: Value = serde_json::from_slice(&std::fs::read(&old).unwrap()).unwrap();
    assert!(saved.get("api_key").is_none());
    let first = Running::start(&old, &[]);
    let key = first.key.clone();
    first.stop();
    let second = Running::start(&old, &[]);
    assert_eq!(second.key, key);
    second.stop();

    // An explicit --api-key wins and is stored for the next start.
    let explicit = format!("sk-{}", "ab".repeat(32));
    let third = Running::start(&old, &["--api-key", &explicit]);
    assert_eq!(third.key, explicit);
    third.stop();
    let fourth = Running::start(&old, &[]);
    assert_eq!(fourth.key, explicit);
    fourth.stop();
}

#[test]
fn sandbox_help_groups_the_fault_switches_under_a_heading() {
    let out = bin().args(["sandbox", "--help"]).output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    let heading = help
        .find("Fault injection and server variants:")
        .unwrap_or_else(|| panic!("no fault heading in:\n{help}"));
    let (before, after) = help.split_at(heading);
    for own in ["--listen", "--state", "--api-key", "--allow-remote"] {
        assert!(before.contains(own), "{own} is a plain option");
    }
    for fault in [
        "--latency-ms",
        "--error-rate-429",
        "--commit-then-fail-rate",
        "--reject-email",
        "--rate-limit",
        "--seed",
        "--operation-delay-ms",
        "--fail-archive",
        "--case-sensitive-emails",
    ] {
        assert!(after.contains(fault), "{fault} is under the fault heading");
        assert!(
            !before.contains(fault),
            "{fault} is only under the fault heading"
        );
    }
}

#[test]
fn the_state_file_is_replaced_through_symlinks_keeping_its_permissions() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("real-state.json");
    std::fs::write(&target, serde_json::to_vec(&PortalState::seed()).unwrap()).unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
    let link = dir.path().join("state.json");
    std::os::unix::fs::symlink("real-state.json", &link).unwrap();

    let running = Running::start(&link, &[]);
    let room = running.create_room("Through the link");
    assert_eq!(room["response"]["title"], "Through the link");
    running.stop();

    let meta = std::fs::symlink_metadata(&link).unwrap();
    assert!(meta.file_type().is_symlink(), "the link is still a link");
    let saved: Value = serde_json::from_slice(&std::fs::read(&target).unwrap()).unwrap();
    assert_eq!(saved["rooms"][0]["title"], "Through the link");
    let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640, "permissions kept");

    // A new state file holds the API key: readable by its owner only.
    let fresh = dir.path().join("fresh.json");
    let running = Running::start(&fresh, &[]);
    running.stop();
    let mode = std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    // A link to something that is not a regular file is refused, and left alone.
    let fifo = dir.path().join("pipe");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let to_fifo = dir.path().join("to-fifo.json");
    std::os::unix::fs::symlink(&fifo, &to_fifo).unwrap();
    let (code, stdout, stderr) = run_to_exit(&to_fifo);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(stdout, "");
    assert!(stderr.contains("not a regular file"), "{stderr}");
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
}

/// Issue 13 through the binary: links made on a `sandbox` server outlive a restart, and the
/// `SensitiveApi` limit on resending
/// invitations is on with the command line's defaults (the CLI converts its flags into the
/// sandbox's own configuration, which keeps the settings that have no flag).
#[test]
fn links_persist_and_invitation_resends_are_rate_limited_through_the_binary() {
    use reqwest::Method;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let running = Running::start(&state, &[]);
    let room = running.create_room("Linked")["response"]["id"]
        .as_i64()
        .unwrap();
    let (status, body) = running.call(
        Method::PUT,
        &format!("/api/2.0/files/rooms/{room}/links"),
        json!({ "linkType": 0, "access": 2, "title": "Join us", "maxUseCount": 3 }),
    );
    assert_eq!(status, 200, "{body}");
    let (status, body) = running.call(
        Method::PUT,
        "/api/2.0/files/rooms/0/links",
        json!({ "linkType": 0, "access": 2 }),
    );
    assert_eq!(status, 404, "{body}");
    for _ in 0..5 {
        let (status, _) = running.call(
            Method::PUT,
            "/api/2.0/people/invite",
            json!({ "userIds": [] }),
        );
        assert_eq!(status, 200);
    }
    let (status, _) = running.call(
        Method::PUT,
        "/api/2.0/people/invite",
        json!({ "userIds": [] }),
    );
    assert_eq!(status, 429, "the 6th resend in 15 minutes is refused");
    running.stop();

    let again = Running::start(&state, &[]);
    let (status, body) = again.call(
        Method::GET,
        &format!("/api/2.0/files/rooms/{room}/links"),
        Value::Null,
    );
    assert_eq!(status, 200, "{body}");
    let links = body["response"].as_array().unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!(links[0]["sharedLink"]["title"], "Join us");
    assert_eq!(links[0]["sharedLink"]["maxUseCount"], 3);
    again.stop();
}
