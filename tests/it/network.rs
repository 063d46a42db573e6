//! How the tool behaves on the network, through the binary: bounded waits on a portal that
//! never answers, retries announced at the default verbosity, the `--timeout` and
//! `--rate-limit` flags.

use std::io::Read;
use std::net::TcpListener;

use crate::common::{bin, run_cmd};

/// A portal that accepts connections, reads what is sent, and never answers.
fn silent_portal() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for mut socket in listener.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = socket.set_read_timeout(Some(std::time::Duration::from_millis(50)));
            let _ = socket.read(&mut buf);
            held.push(socket);
        }
    });
    format!("http://{addr}")
}

#[test]
fn a_portal_that_never_answers_fails_within_the_timeout_and_says_it_is_retrying() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("rooms.yaml");
    std::fs::write(
        &manifest,
        "version: 1\nrooms:\n  - title: A\n    type: collaboration\n",
    )
    .unwrap();
    let run = run_cmd(
        bin()
            .arg("plan")
            .arg(&manifest)
            .args(["--portal", &silent_portal(), "--timeout", "1"])
            .env("DOCSPACE_API_KEY", KEY),
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    // Retries are announced at the default verbosity, with the attempt count...
    assert!(
        run.stderr.contains("no answer from the portal") && run.stderr.contains("attempt 2 of 5"),
        "{}",
        run.stderr
    );
    // ...and the run ends with a clear message and a hint naming the flag.
    assert!(
        run.stderr.contains("the portal did not answer in time"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--timeout"), "{}", run.stderr);
}

#[test]
fn timeout_and_rate_limit_are_portal_options_with_environment_variables() {
    let help = run_cmd(bin().args(["plan", "--help"]));
    for text in [
        "--timeout <SECONDS>",
        "DOCSPACE_TIMEOUT",
        "--rate-limit <PER_MINUTE>",
        "DOCSPACE_RATE_LIMIT",
    ] {
        assert!(
            help.stdout.contains(text),
            "{text} missing:\n{}",
            help.stdout
        );
    }
    // Out of range: a usage error before anything else.
    let run = run_cmd(bin().args(["plan", "x.yaml", "--timeout", "0"]));
    assert_eq!(run.code, 1, "{}", run.stderr);
}

/// A success envelope (docs/docspace-api.md).
fn ok(response: serde_json::Value) -> wiremock::ResponseTemplate {
    wiremock::ResponseTemplate::new(200).set_body_json(serde_json::json!({
        "response": response, "count": 1, "links": [], "status": 0, "statusCode": 200
    }))
}

/// A well-formed key nobody holds.
const KEY: &str = "sk-0000000000000000000000000000000000000000000000000000000000000000";

/// A portal on wiremock that knows the key's user (the owner) and lists `rooms`; each test
/// mounts what else it needs.
async fn mock_portal(rooms: Vec<serde_json::Value>) -> wiremock::MockServer {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer};
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/people/@self"))
        .respond_with(ok(
            serde_json::json!({"id": "me", "email": "me@x.test", "isOwner": true}),
        ))
        .mount(&server)
        .await;
    let total = rooms.len();
    Mock::given(method("GET"))
        .and(path("/api/2.0/files/rooms"))
        .respond_with(ok(serde_json::json!({
            "folders": rooms, "startIndex": 0, "count": total, "total": total
        })))
        .mount(&server)
        .await;
    server
}

/// Runs the binary with `args` against `server` (from inside a multi-threaded test runtime).
fn run_against(server: &wiremock::MockServer, args: &[&str]) -> crate::common::Run {
    let mut cmd = bin();
    cmd.args(args)
        .args(["--portal", &server.uri()])
        .env("DOCSPACE_API_KEY", KEY);
    tokio::task::block_in_place(|| run_cmd(&mut cmd))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_daily_limit_stops_new_writes_skips_the_rest_and_exits_3_without_sleeping() {
    use serde_json::json;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, ResponseTemplate};

    let server = mock_portal(Vec::new()).await;
    // The first create goes through; then the portal's daily limit is spent (section 9:
    // Retry-After up to 86,400 s).
    Mock::given(method("POST"))
        .and(path("/api/2.0/files/rooms"))
        .respond_with(ok(
            json!({"id": 1, "title": "A", "roomType": 2, "rootFolderType": 14}),
        ))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/2.0/files/rooms"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "20000"))
        .mount(&server)
        .await;

    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("rooms.yaml");
    let mut text = String::from("version: 1\nrooms:\n");
    for t in ["A", "B", "C", "D"] {
        text.push_str(&format!("  - title: {t}\n    type: collaboration\n"));
    }
    std::fs::write(&manifest, text).unwrap();
    let report = dir.path().join("report.json");
    let started = std::time::Instant::now();
    let run = run_against(
        &server,
        &[
            "apply",
            manifest.to_str().unwrap(),
            "--auto-approve",
            "--parallelism",
            "1",
            "--report",
            report.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    // Never a long sleep (a bound that only catches a hang, not a speed claim).
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let status = |room: &str| {
        report["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["room"] == room)
            .map(|e| e["status"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(status("A"), "applied");
    assert_eq!(status("B"), "failed");
    assert_eq!(status("C"), "skipped");
    assert_eq!(status("D"), "skipped");
    let skipped = report["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["room"] == "C")
        .unwrap();
    let message = skipped["error"]["message"].as_str().unwrap();
    assert!(message.contains("portal limit reached"), "{message}");
    assert!(message.contains("run again after"), "{message}");
    // The text report sums the rooms up in one line and says when to run again.
    assert!(
        run.stdout
            .contains("Portal limit reached: 2 rooms not started (2 items skipped)"),
        "{}",
        run.stdout
    );
    // Two creates reached the server, the rest were not sent.
    let posts = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "POST")
        .count();
    assert_eq!(posts, 2);
}

#[test]
fn reading_the_portal_shows_progress_on_a_terminal_only() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("s.json");
    let portal = format!("sandbox:{}", state.display());
    // The example's room exists, so the plan reads its member list.
    let apply = run_cmd(bin().args([
        "apply",
        "examples/rooms.yaml",
        "--portal",
        &portal,
        "--auto-approve",
    ]));
    assert_eq!(apply.code, 0, "{}", apply.stderr);
    let cmd = format!(
        "{} plan examples/rooms.yaml --portal {portal} --color never",
        env!("CARGO_BIN_EXE_docspace-provision"),
    );
    let out = std::process::Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("DOCSPACE_URL")
        .env_remove("DOCSPACE_API_KEY")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("util-linux `script` runs");
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(screen.contains("1/1 rooms read"), "{screen}");
    // Through a pipe: no bar.
    let piped = run_cmd(bin().args(["plan", "examples/rooms.yaml", "--portal", &portal]));
    assert_eq!(piped.code, 0, "{}", piped.stderr);
    assert!(!piped.stderr.contains("rooms read"), "{}", piped.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_room_that_cannot_be_read_is_left_out_and_the_others_go_on() {
    use serde_json::json;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, ResponseTemplate};

    let room = |id: i64, title: &str| json!({"id": id, "title": title, "roomType": 2, "rootFolderType": 14, "tags": []});
    let server = mock_portal(vec![room(1, "Locked"), room(2, "Open")]).await;
    // The key may not read this room's members (not retried: it will not heal).
    Mock::given(method("GET"))
        .and(path("/api/2.0/files/rooms/1/share"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "error": {"message": "Access denied"}, "status": 1, "statusCode": 403
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/files/rooms/2/share"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(json!({
            "response": [{"access": 1, "isOwner": true, "subjectType": 0,
                          "sharedToUser": {"id": "me", "email": "me@x.test"}}],
            "count": 1, "total": 1, "status": 0, "statusCode": 200
        })))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/2.0/files/rooms/2"))
        .respond_with(ok(json!({"id": 2, "title": "Open", "roomType": 2,
                                "rootFolderType": 14, "tags": ["x"]})))
        .expect(1)
        .mount(&server)
        .await;

    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("rooms.yaml");
    std::fs::write(
        &manifest,
        "version: 1\nrooms:\n  - title: Locked\n    type: collaboration\n    tags: [x]\n  - title: Open\n    type: collaboration\n    tags: [x]\n",
    )
    .unwrap();
    let run = |args: &[&str]| run_against(&server, args);

    // plan: the readable room is planned, the other named; exit 1 (the plan is incomplete).
    let plan = run(&["plan", manifest.to_str().unwrap()]);
    assert_eq!(plan.code, 1, "{}\n{}", plan.stdout, plan.stderr);
    assert!(plan.stdout.contains("~ room \"Open\""), "{}", plan.stdout);
    assert!(
        plan.stdout
            .contains("room \"Locked\" (id 1): could not be read"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stderr.contains("1 room could not be read"),
        "{}",
        plan.stderr
    );

    // apply: the other room is applied, this one skipped; exit 3.
    let report = dir.path().join("report.json");
    let apply = run(&[
        "apply",
        manifest.to_str().unwrap(),
        "--auto-approve",
        "--report",
        report.to_str().unwrap(),
    ]);
    assert_eq!(apply.code, 3, "{}\n{}", apply.stdout, apply.stderr);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let entry = |room: &str| {
        report["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["room"] == room)
            .cloned()
            .unwrap()
    };
    assert_eq!(entry("Open")["status"], "applied", "{report:#}");
    let locked = entry("Locked");
    assert_eq!(locked["status"], "skipped", "{report:#}");
    assert!(
        locked["error"]["message"]
            .as_str()
            .unwrap()
            .contains("could not be read"),
        "{report:#}"
    );
}
