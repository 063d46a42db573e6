//! Helpers shared by the integration tests: run the real binary, capture its output.

use std::path::Path;

use docspace_provision::cli::FaultArgs;
use docspace_provision::sandbox::{self, SandboxHandle};
use serde_json::{Value, json};
use std::process::Command;

/// What one run of the binary produced.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// The binary under test, with a fixed, colourless environment.
pub fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_docspace-provision"));
    cmd.env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .env_remove("DOCSPACE_URL")
        .env_remove("DOCSPACE_API_KEY")
        .env_remove("RUST_LOG")
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

/// Runs the binary with `args` and no stdin.
pub fn run<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    run_cmd(bin().args(args))
}

pub fn run_cmd(cmd: &mut Command) -> Run {
    let out = cmd
        .stdin(std::process::Stdio::null())
        .output()
        .expect("the binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Replaces the elapsed time of `apply`'s closing sentence (`in 3.2 s`, `in 2 min 5 s`) with
/// `in [ELAPSED]`: tests never assert wall-clock values.
pub fn scrub_elapsed(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("in ") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 3..];
        let digits = |s: &str| s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let n = digits(after);
        let tail = &after[n..];
        let len = if n == 0 {
            None
        } else if let Some(t) = tail.strip_prefix('.') {
            let m = digits(t);
            (m > 0 && t[m..].starts_with(" s")).then_some(n + 1 + m + 2)
        } else if let Some(t) = tail.strip_prefix(" min ") {
            let m = digits(t);
            (m > 0 && t[m..].starts_with(" s")).then_some(n + 5 + m + 2)
        } else {
            None
        };
        match len {
            Some(len) => {
                out.push_str("in [ELAPSED]");
                rest = &after[len..];
            }
            None => {
                out.push_str("in ");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Replaces a temporary directory's path with `[TMP]` so snapshots are stable.
pub fn scrub(text: &str, tmp: &Path) -> String {
    text.replace(&tmp.display().to_string(), "[TMP]")
}

/// A sandbox with the demo seed, and an HTTP client to arrange its state by hand.
pub struct Portal {
    pub handle: SandboxHandle,
    http: reqwest::Client,
    pub _dir: tempfile::TempDir,
    pub dir: std::path::PathBuf,
}

/// No faults, and archive operations that finish after 20 ms.
pub fn quick() -> FaultArgs {
    FaultArgs {
        operation_delay_ms: 20,
        ..FaultArgs::default()
    }
}

impl Portal {
    /// A sandbox without faults (archive operations finish after 20 ms).
    pub async fn start() -> Portal {
        Portal::with(quick()).await
    }

    /// A sandbox with the given fault switches.
    pub async fn with(faults: FaultArgs) -> Portal {
        Portal::seeded(faults, |_| {}).await
    }

    /// A sandbox whose state file (the demo seed) `edit` changes before it starts: a portal
    /// prepared by hand, e.g. with rooms in connected storage or many accounts.
    pub async fn seeded(
        faults: FaultArgs,
        edit: impl FnOnce(&mut sandbox::state::PortalState),
    ) -> Portal {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let mut state = sandbox::state::load_or_seed(&path).unwrap();
        edit(&mut state);
        std::fs::write(&path, serde_json::to_vec(&state).unwrap()).unwrap();
        let handle = sandbox::start_in_process(&path, faults).await.unwrap();
        Portal {
            handle,
            http: reqwest::Client::builder().no_proxy().build().unwrap(),
            dir: dir.path().to_path_buf(),
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!(
            "{}{}",
            self.handle.base_url.as_str().trim_end_matches('/'),
            path
        )
    }

    pub async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self
            .http
            .request(method, self.url(path))
            .bearer_auth(&self.handle.api_key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        resp.json().await.unwrap()
    }

    pub async fn create_room(&self, title: &str, room_type: i64) -> i64 {
        let v = self
            .call(
                reqwest::Method::POST,
                "/api/2.0/files/rooms",
                Some(json!({"title": title, "roomType": room_type})),
            )
            .await;
        v["response"]["id"].as_i64().unwrap()
    }

    pub async fn share(&self, room: i64, invitations: Value) {
        self.call(
            reqwest::Method::PUT,
            &format!("/api/2.0/files/rooms/{room}/share"),
            Some(json!({"invitations": invitations, "notify": false})),
        )
        .await;
    }

    pub async fn stats(&self) -> Value {
        self.http
            .get(self.url("/__sandbox/stats"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Writes a manifest and runs `plan` on it with extra arguments.
    pub fn plan(&self, manifest: &str, extra: &[&str]) -> Run {
        let path = self.dir.join("rooms.yaml");
        std::fs::write(&path, manifest).unwrap();
        let mut cmd = bin();
        cmd.arg("plan")
            .arg(&path)
            .arg("--portal")
            .arg(self.handle.base_url.as_str())
            .args(extra)
            .env("DOCSPACE_API_KEY", &self.handle.api_key);
        tokio::task::block_in_place(|| run_cmd(&mut cmd))
    }

    /// The three renderings of one plan, as one snapshot text with ports and ids scrubbed.
    pub fn all_formats(&self, manifest: &str) -> (i32, String) {
        let mut out = String::new();
        let mut code = 0;
        for format in ["text", "json", "markdown"] {
            let run = self.plan(manifest, &["--format", format, "--detailed-exitcode"]);
            code = run.code;
            out.push_str(&format!("--- {format} (exit {})\n{}", run.code, run.stdout));
            if run.code == 1 {
                out.push_str(&run.stderr);
            }
        }
        (code, self.scrub(&out))
    }

    /// Replaces the ephemeral port, the temporary directory and `apply`'s elapsed time so
    /// snapshots are stable.
    pub fn scrub(&self, text: &str) -> String {
        let port = self.handle.base_url.port().unwrap().to_string();
        scrub_elapsed(
            &text
                .replace(&format!(":{port}"), ":PORT")
                .replace(&self.dir.display().to_string(), "[TMP]"),
        )
    }
}

impl Portal {
    /// Runs the binary against this portal (`--portal URL`, key in the environment).
    pub fn run(&self, args: &[&str]) -> Run {
        let mut cmd = bin();
        cmd.args(args)
            .arg("--portal")
            .arg(self.handle.base_url.as_str())
            .env("DOCSPACE_API_KEY", &self.handle.api_key);
        tokio::task::block_in_place(|| run_cmd(&mut cmd))
    }
}

impl Portal {
    pub async fn reset_stats(&self) {
        self.http
            .post(self.url("/__sandbox/stats/reset"))
            .send()
            .await
            .unwrap();
    }

    /// The sandbox's state file (rooms with their shares), read without going through the
    /// (possibly faulty) API.
    pub fn state(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.dir.join("state.json")).unwrap())
            .unwrap()
    }

    /// Writes `text` as `rooms.yaml` in the test's directory.
    pub fn manifest(&self, text: &str) -> std::path::PathBuf {
        let path = self.dir.join("rooms.yaml");
        std::fs::write(&path, text).unwrap();
        path
    }

    /// `apply FILE --auto-approve --report R` plus `extra`; returns the run and the report.
    pub fn apply(&self, manifest: &std::path::Path, extra: &[&str]) -> (Run, Value) {
        let report = self.dir.join("report.json");
        let _ = std::fs::remove_file(&report);
        let mut args = vec![
            "apply",
            manifest.to_str().unwrap(),
            "--auto-approve",
            "--report",
            report.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let run = self.run(&args);
        let value = std::fs::read_to_string(&report)
            .map(|t| serde_json::from_str(&t).unwrap())
            .unwrap_or(Value::Null);
        (run, value)
    }
}

/// The room titled `title` in a sandbox state file (see [`Portal::state`]).
pub fn state_room<'a>(state: &'a Value, title: &str) -> &'a Value {
    state["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["title"] == title)
        .unwrap_or_else(|| panic!("no room {title}"))
}
