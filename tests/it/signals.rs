//! Signals during `apply`, through the real binary: SIGTERM (what CI runners send on cancel)
//! is handled like Ctrl-C; calls that hang are abandoned after the grace time or at a second
//! signal, and the report is still written; a signal while reading a dead portal stops the run
//! with nothing changed.
//!
//! Time bounds here only fail a hung test (30 s); nothing asserts how fast a run was.

use std::net::TcpListener;
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use docspace_provision::cli::FaultArgs;
use serde_json::Value;

use crate::common::{Portal, bin};

/// How long a test waits for anything before it fails as hung.
const BOUND: Duration = Duration::from_secs(30);

/// A manifest of `n` rooms with one invitee each (two items per room).
fn rooms(n: usize) -> String {
    let mut text = String::from("version: 1\nrooms:\n");
    for r in 0..n {
        text.push_str(&format!(
            "  - title: Room {r:02}\n    type: collaboration\n    invitees:\n      - email: person{r:02}@example.com\n        access: read\n"
        ));
    }
    text
}

/// Starts `apply MANIFEST --auto-approve --parallelism 1 --report REPORT` against `portal`.
fn spawn_apply(
    portal: &str,
    key: &str,
    manifest: &std::path::Path,
    report: &std::path::Path,
) -> Child {
    bin()
        .args([
            "apply",
            manifest.to_str().unwrap(),
            "--auto-approve",
            "--parallelism",
            "1",
            "--report",
            report.to_str().unwrap(),
            "--portal",
            portal,
        ])
        .env("DOCSPACE_API_KEY", key)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{name}");
}

/// Waits for the child to end; kills it and fails the test if it is still running after
/// [`BOUND`].
fn finish(child: Child) -> Output {
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(BOUND) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("apply did not stop within {BOUND:?} of the signal");
        }
    }
}

/// Polls `ready` until it holds; fails after [`BOUND`].
async fn wait_until<F, Fut>(what: &str, mut ready: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + BOUND;
    while !ready().await {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn read_report(path: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("the report was written")).unwrap()
}

fn entries(report: &Value) -> &Vec<Value> {
    report["entries"].as_array().unwrap()
}

fn message(e: &Value) -> &str {
    e["error"]["message"].as_str().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_stops_new_rooms_like_ctrl_c_and_the_text_sums_them_up() {
    let portal = Portal::with(FaultArgs {
        latency_ms: 40,
        operation_delay_ms: 20,
        ..FaultArgs::default()
    })
    .await;
    let manifest = portal.manifest(&rooms(30));
    let report_path = portal.dir.join("report.json");
    let child = spawn_apply(
        portal.handle.base_url.as_str(),
        &portal.handle.api_key,
        &manifest,
        &report_path,
    );
    wait_until("the first create", || async {
        portal.stats().await["routes"]["POST /api/2.0/files/rooms"]
            .as_u64()
            .unwrap_or(0)
            >= 1
    })
    .await;
    signal(&child, "TERM");
    let out = tokio::task::block_in_place(|| finish(child));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");

    let report = read_report(&report_path);
    assert_eq!(report["interrupted"], true);
    let all = entries(&report);
    assert_eq!(all.len(), 60, "the report keeps every item: {report:#}");
    let skipped: Vec<&Value> = all
        .iter()
        .filter(|e| e["status"] == "skipped" && message(e) == "interrupted")
        .collect();
    assert!(!skipped.is_empty() && skipped.len() < 60, "{report:#}");
    // The room in flight had time to finish: no room is left half done.
    for pair in all.chunks(2) {
        assert_eq!(pair[0]["room"], pair[1]["room"]);
        assert_eq!(pair[0]["status"], pair[1]["status"], "{pair:#?}");
    }
    // The text says how many rooms were not started instead of a line per item.
    let rooms_not_started = skipped.len() / 2;
    assert!(
        stdout.contains(&format!(
            "Interrupted: {rooms_not_started} rooms not started ({} items skipped); the report file lists each.",
            skipped.len()
        )),
        "{stdout}"
    );
    assert!(!stdout.contains("— interrupted"), "{stdout}");
    assert!(!stdout.contains("Skipped ("), "{stdout}");
}

/// A portal that answers every read (forwarded to a sandbox) and never answers a write: the
/// portal hangs once `apply` starts changing it.
struct HangingWrites {
    url: String,
    writes: Arc<AtomicU64>,
}

#[derive(Clone)]
struct ProxyState {
    upstream: String,
    http: reqwest::Client,
    writes: Arc<AtomicU64>,
}

async fn proxy(
    axum::extract::State(p): axum::extract::State<ProxyState>,
    request: axum::extract::Request,
) -> axum::response::Response {
    if request.method() != axum::http::Method::GET {
        p.writes.fetch_add(1, Ordering::SeqCst);
        return std::future::pending::<axum::response::Response>().await;
    }
    let path = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let mut forward = p.http.get(format!("{}{path}", p.upstream));
    if let Some(auth) = request.headers().get("authorization") {
        forward = forward.header("authorization", auth.clone());
    }
    let answer = forward.send().await.unwrap();
    let status = answer.status();
    let content_type = answer.headers().get("content-type").cloned();
    let body = answer.bytes().await.unwrap();
    let mut response = axum::response::Response::new(axum::body::Body::from(body));
    *response.status_mut() = status;
    if let Some(c) = content_type {
        response.headers_mut().insert("content-type", c);
    }
    response
}

impl HangingWrites {
    async fn start(portal: &Portal) -> HangingWrites {
        let writes = Arc::new(AtomicU64::new(0));
        let state = ProxyState {
            upstream: portal
                .handle
                .base_url
                .as_str()
                .trim_end_matches('/')
                .to_string(),
            http: reqwest::Client::builder().no_proxy().build().unwrap(),
            writes: writes.clone(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new().fallback(proxy).with_state(state);
        tokio::spawn(async move { axum::serve(listener, app).await });
        HangingWrites { url, writes }
    }
}

/// Runs `apply` against a portal whose writes hang, sends `signals` once the first write is
/// in flight, and checks that the run stops, reports the hanging room as unknown and the
/// others as not started, and exits 3.
async fn abandon_after(signals: &[&str]) {
    let portal = Portal::start().await;
    let hanging = HangingWrites::start(&portal).await;
    let manifest = portal.manifest(&rooms(3));
    let report_path = portal.dir.join("report.json");
    let child = spawn_apply(
        &hanging.url,
        &portal.handle.api_key,
        &manifest,
        &report_path,
    );
    wait_until("the first write", || async {
        hanging.writes.load(Ordering::SeqCst) >= 1
    })
    .await;
    for name in signals {
        signal(&child, name);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let out = tokio::task::block_in_place(|| finish(child));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("Stopped: calls still in flight were abandoned"),
        "{stderr}"
    );

    let report = read_report(&report_path);
    assert_eq!(report["interrupted"], true);
    let all = entries(&report);
    assert_eq!(all.len(), 6, "{report:#}");
    for e in all {
        if e["room"] == "Room 00" {
            // The create hangs: whether it ran on the server is unknown.
            assert_eq!(e["status"], "failed", "{e}");
            assert!(message(e).contains("the outcome is unknown"), "{e}");
        } else {
            assert_eq!(e["status"], "skipped", "{e}");
            assert_eq!(message(e), "interrupted", "{e}");
        }
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Interrupted: 2 rooms not started (4 items skipped)"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_abandons_calls_that_hang_after_the_grace_time() {
    abandon_after(&["TERM"]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_signal_abandons_hanging_calls_at_once() {
    abandon_after(&["INT", "TERM"]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_while_reading_a_dead_portal_stops_with_nothing_changed() {
    // Accepts connections and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicU64::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
            count.fetch_add(1, Ordering::SeqCst);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("rooms.yaml");
    std::fs::write(&manifest, rooms(2)).unwrap();
    let report_path = dir.path().join("report.json");
    let child = spawn_apply(&url, "some-key", &manifest, &report_path);
    wait_until("a connection", || async {
        accepted.load(Ordering::SeqCst) >= 1
    })
    .await;
    signal(&child, "TERM");
    let out = tokio::task::block_in_place(|| finish(child));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("Interrupted before any change was made; nothing was changed."),
        "{stderr}"
    );
    let report = read_report(&report_path);
    assert_eq!(report["interrupted"], true);
    assert!(entries(&report).is_empty(), "{report:#}");
}
