//! `apply` through the real binary against a sandbox started in this test process (with fault
//! injection where a test needs it): reaching the manifest's state, zero writes on a re-run,
//! per-item failures, the confirmation rule, the removal guard, stale saved plans, dependency
//! skips and convergence under random faults without duplicate rooms.

use docspace_provision::cli::FaultArgs;
use serde_json::{Value, json};

use crate::common::{Portal, bin};

const UMA: &str = "5a4db0c5-0000-4000-8000-000000000004";
const DANA: &str = "5a4db0c5-0000-4000-8000-000000000002";
const GUS: &str = "5a4db0c5-0000-4000-8000-000000000005";
const MARKETING: &str = "6e0f0000-0000-4000-8000-000000000001";

fn entries(report: &Value) -> &Vec<Value> {
    report["entries"].as_array().expect("a report with entries")
}

fn find<'a>(report: &'a Value, action: &str, subject: Option<&str>) -> &'a Value {
    entries(report)
        .iter()
        .find(|e| e["action"] == action && subject.is_none_or(|s| e["subject"] == s))
        .unwrap_or_else(|| panic!("no {action} {subject:?} in {report:#}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_reaches_the_state_and_a_second_apply_writes_nothing() {
    let portal = Portal::start().await;
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/rooms.yaml");
    let (run, report) = portal.apply(&manifest, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(report["format_version"], 2);
    assert_eq!(find(&report, "create_room", None)["status"], "applied");
    let invite = find(&report, "invite", Some("example.user@mail.com"));
    assert_eq!(invite["status"], "applied");
    assert_eq!(invite["access"], "editing");
    assert!(report["room_id"].is_null() && invite["room_id"].is_i64());
    assert!(run.stdout.contains("applied"), "{}", run.stdout);

    let plan = portal.run(&["plan", manifest.to_str().unwrap(), "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);

    portal.reset_stats().await;
    let (run, report) = portal.apply(&manifest, &["--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        entries(&report).iter().all(|e| e["status"] == "unchanged"),
        "{report:#}"
    );
    let stdout: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(stdout["summary"]["unchanged"], 1);
    let stats = portal.stats().await;
    assert_eq!(stats["writes"], 0, "a re-run must not write: {stats}");
}

#[test]
fn apply_on_the_embedded_sandbox_needs_no_environment() {
    let dir = tempfile::tempdir().unwrap();
    let portal = format!("sandbox:{}", dir.path().join("s.json").display());
    let run = crate::common::run([
        "apply",
        "examples/rooms.yaml",
        "--portal",
        &portal,
        "--auto-approve",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("Plan: 1 room to create"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_email_fails_alone_with_the_servers_warning() {
    let portal = Portal::with(FaultArgs {
        reject_email: vec!["bad@example.com".into()],
        operation_delay_ms: 20,
        ..FaultArgs::default()
    })
    .await;
    let manifest = portal.manifest(
        "version: 1
rooms:
  - title: Mixed
    type: collaboration
    invitees:
      - email: uma.user@sandbox.test
        access: editing
      - email: good@example.com
        access: read
      - email: bad@example.com
        access: read
      - group: Marketing
        access: read
",
    );
    let (run, report) = portal.apply(&manifest, &[]);
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let failed: Vec<&Value> = entries(&report)
        .iter()
        .filter(|e| e["status"] == "failed")
        .collect();
    assert_eq!(failed.len(), 1, "{report:#}");
    assert_eq!(failed[0]["subject"], "bad@example.com");
    let message = failed[0]["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("dropped by the server without an error; server warning:"),
        "{message}"
    );
    assert_eq!(report["summary"]["applied"], 4, "{report:#}");
    assert!(run.stdout.contains("bad@example.com"), "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_terminal_auto_approve_is_required_and_nothing_is_written() {
    let portal = Portal::start().await;
    let run = portal.run(&["apply", "examples/rooms.yaml"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("--auto-approve"), "{}", run.stderr);
    assert_eq!(portal.stats().await["writes"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_removal_guard_needs_allow_removals() {
    let portal = Portal::start().await;
    let room = portal.create_room("Board", 5).await;
    portal
        .share(
            room,
            json!([{"id": UMA, "access": 6}, {"id": GUS, "access": 2},
                   {"id": DANA, "access": 10}, {"id": MARKETING, "access": 2}]),
        )
        .await;
    let manifest = portal.manifest(
        "version: 1
rooms:
  - title: Board
    type: custom
    members: exact
    invitees:
      - email: uma.user@sandbox.test
        access: comment
      - email: gus.guest@sandbox.test
        access: read
",
    );
    // The plan already says which removals the guard will refuse, and the flag that allows
    // them, in every format.
    let plan = portal.run(&["plan", manifest.to_str().unwrap()]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert!(
        plan.stdout.contains(
            "! removal guard: 2 of 4 members would be removed (more than 25%); apply skips these removals unless --allow-removals is given"
        ),
        "{}",
        plan.stdout
    );
    let json = portal.run(&["plan", manifest.to_str().unwrap(), "--format", "json"]);
    let json: Value = serde_json::from_str(&json.stdout).unwrap();
    let guard = &json["rooms"][0]["notes"][0];
    assert_eq!(guard["kind"], "removal_guard", "{json:#}");
    assert_eq!(guard["removals"], 2, "{json:#}");

    // Refused removals leave the portal different from the manifest: exit 3, not 0.
    let (run, report) = portal.apply(&manifest, &[]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let removals: Vec<&Value> = entries(&report)
        .iter()
        .filter(|e| e["action"] == "remove")
        .collect();
    assert_eq!(removals.len(), 2, "{report:#}");
    for r in &removals {
        assert_eq!(r["status"], "skipped");
        assert!(
            r["error"]["message"]
                .as_str()
                .unwrap()
                .contains("--allow-removals"),
            "{r}"
        );
    }
    assert_eq!(report["allow_removals"], false);

    let (run, report) = portal.apply(&manifest, &["--allow-removals"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("removal guard"), "{}", run.stderr);
    assert_eq!(report["allow_removals"], true);
    assert!(
        entries(&report)
            .iter()
            .filter(|e| e["action"] == "remove")
            .all(|e| e["status"] == "applied"),
        "{report:#}"
    );
    let plan = portal.run(&["plan", manifest.to_str().unwrap(), "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}", plan.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stale_room_of_a_saved_plan_is_skipped() {
    let portal = Portal::start().await;
    let room = portal.create_room("Changing", 2).await;
    let manifest = portal.manifest(
        "version: 1
rooms:
  - title: Changing
    type: collaboration
    invitees:
      - email: uma.user@sandbox.test
        access: editing
  - title: Fresh
    type: collaboration
    invitees:
      - email: gus.guest@sandbox.test
        access: read
",
    );
    let saved = portal.dir.join("plan.json");
    let plan = portal.run(&[
        "plan",
        manifest.to_str().unwrap(),
        "--out",
        saved.to_str().unwrap(),
    ]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    // Someone changes the room by hand after planning: uma gets another access, so the
    // saved invitation is no longer what planning again makes (that is an access change).
    // A member added by hand (dana) changes nothing the plan approved.
    portal
        .share(
            room,
            json!([{"id": UMA, "access": 2}, {"id": DANA, "access": 2}]),
        )
        .await;

    let report_path = portal.dir.join("report.json");
    let run = portal.run(&[
        "apply",
        "--plan",
        saved.to_str().unwrap(),
        "--auto-approve",
        "--report",
        report_path.to_str().unwrap(),
    ]);
    // The fresh room is applied, but an approved change was left undone: exit 3.
    assert_eq!(run.code, 3, "{}", run.stderr);
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
    let stale = find(&report, "invite", Some("uma.user@sandbox.test"));
    assert_eq!(stale["status"], "skipped");
    assert_eq!(
        stale["error"]["message"],
        "stale: the room changed on the portal since the plan was made; run plan again"
    );
    // The access change planning again makes was not approved by the saved plan.
    let drift = find(&report, "change_access", Some("uma.user@sandbox.test"));
    assert_eq!(drift["status"], "skipped");
    assert_eq!(drift["skip_reason"], "not_approved");
    assert!(
        run.stderr
            .contains("room `Changing`: 1 change skipped as stale"),
        "{}",
        run.stderr
    );
    assert_eq!(find(&report, "create_room", None)["status"], "applied");
    assert_eq!(
        find(&report, "invite", Some("gus.guest@sandbox.test"))["status"],
        "applied"
    );

    // Every change of the saved plan stale: exit 1, nothing written.
    let plan = portal.run(&[
        "plan",
        manifest.to_str().unwrap(),
        "--out",
        saved.to_str().unwrap(),
    ]);
    assert_eq!(plan.code, 0);
    portal.share(room, json!([{"id": UMA, "access": 0}])).await;
    let writes_before = portal.stats().await["writes"].as_u64().unwrap();
    let run = portal.run(&["apply", "--plan", saved.to_str().unwrap(), "--auto-approve"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("run plan again"), "{}", run.stderr);
    assert_eq!(portal.stats().await["writes"], writes_before);
}

/// Re-running an apply job with the same saved plan (a retried CI job) is not a failure:
/// every room the plan changes already shows the change, so it says so and exits 0 without a
/// write.
#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_applied_twice_appears_to_be_already_applied() {
    let portal = Portal::start().await;
    let room = portal.create_room("Existing", 2).await;
    let manifest = portal.manifest(
        "version: 1
rooms:
  - title: Existing
    type: collaboration
    tags: [team]
    invitees:
      - email: uma.user@sandbox.test
        access: editing
  - title: Fresh
    type: collaboration
    invitees:
      - email: gus.guest@sandbox.test
        access: read
",
    );
    let saved = portal.dir.join("plan.json");
    let plan = portal.run(&[
        "plan",
        manifest.to_str().unwrap(),
        "--out",
        saved.to_str().unwrap(),
    ]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let report_path = portal.dir.join("report.json");
    let apply_saved = || {
        portal.run(&[
            "apply",
            "--plan",
            saved.to_str().unwrap(),
            "--auto-approve",
            "--report",
            report_path.to_str().unwrap(),
        ])
    };
    let first = apply_saved();
    assert_eq!(first.code, 0, "{}", first.stderr);

    portal.reset_stats().await;
    let again = apply_saved();
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again
            .stderr
            .contains("note: room `Existing`: 2 changes appear to be already applied"),
        "{}",
        again.stderr
    );
    assert!(
        again.stderr.contains(
            "The saved plan appears to be already applied: the portal shows every change it makes."
        ),
        "{}",
        again.stderr
    );
    assert!(!again.stderr.contains("changed since"), "{}", again.stderr);
    assert!(
        again.stdout.contains("Already applied (4 items)"),
        "{}",
        again.stdout
    );
    assert_eq!(portal.stats().await["writes"], 0);
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
    assert_eq!(entries(&report).len(), 4, "{report:#}");
    for e in entries(&report) {
        assert_eq!(e["status"], "unchanged", "{e}");
        assert_eq!(
            e["note"],
            "appears to be already applied: the portal already shows this change"
        );
    }
    assert_eq!(find(&report, "update_room", None)["room_id"], room);
}

/// A room of a saved plan changed partly by hand: what the portal already shows is reported as
/// already applied; the rest is still what planning again makes, so it is applied (staleness
/// is per item, not per room).
#[tokio::test(flavor = "multi_thread")]
async fn a_partly_applied_room_of_a_saved_plan_says_which_changes_are_there() {
    let portal = Portal::start().await;
    let room = portal.create_room("Partial", 2).await;
    let manifest = portal.manifest(
        "version: 1
rooms:
  - title: Partial
    type: collaboration
    invitees:
      - email: uma.user@sandbox.test
        access: editing
      - email: gus.guest@sandbox.test
        access: read
  - title: Fresh
    type: collaboration
",
    );
    let saved = portal.dir.join("plan.json");
    let plan = portal.run(&[
        "plan",
        manifest.to_str().unwrap(),
        "--out",
        saved.to_str().unwrap(),
    ]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    portal.share(room, json!([{"id": UMA, "access": 10}])).await;
    let report_path = portal.dir.join("report.json");
    let run = portal.run(&[
        "apply",
        "--plan",
        saved.to_str().unwrap(),
        "--auto-approve",
        "--report",
        report_path.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("room `Partial`: 1 change appears to be already applied"),
        "{}",
        run.stderr
    );
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
    let uma = find(&report, "invite", Some("uma.user@sandbox.test"));
    assert_eq!(uma["status"], "unchanged", "{uma}");
    assert!(uma["note"].as_str().unwrap().contains("already applied"));
    let gus = find(&report, "invite", Some("gus.guest@sandbox.test"));
    assert_eq!(gus["status"], "applied", "{gus}");
    assert_eq!(find(&report, "create_room", None)["status"], "applied");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_room_that_cannot_be_created_skips_its_invitations() {
    // A create the server refuses with a 400 (a bad cover once did it; `plan` now refuses
    // that before any write, so the sandbox is told to refuse this create).
    let portal = Portal::seeded(crate::common::quick(), |s| {
        s.fail_create.push("Refused".to_string())
    })
    .await;
    let manifest = portal.manifest(
        "version: 1
rooms:
  - title: Refused
    type: collaboration
    invitees:
      - email: uma.user@sandbox.test
        access: editing
      - email: someone@example.com
        access: read
",
    );
    let saved = portal.dir.join("plan.json");
    let plan = portal.run(&[
        "plan",
        manifest.to_str().unwrap(),
        "--out",
        saved.to_str().unwrap(),
    ]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);

    let report_path = portal.dir.join("report.json");
    let run = portal.run(&[
        "apply",
        "--plan",
        saved.to_str().unwrap(),
        "--auto-approve",
        "--report",
        report_path.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
    let create = find(&report, "create_room", None);
    assert_eq!(create["status"], "failed");
    assert_eq!(create["error"]["http_status"], 400);
    for e in entries(&report).iter().filter(|e| e["action"] == "invite") {
        assert_eq!(e["status"], "skipped");
        assert_eq!(e["error"]["message"], "room was not created");
        assert_eq!(e["skip_reason"], "dependency_failed");
    }
    assert_eq!(
        portal.stats().await["routes"]["PUT /api/2.0/files/rooms/{id}/share"],
        Value::Null
    );
}

/// The issue asks for 200 rooms x 10 invitees; that size runs in the benchmark
/// (`examples/bench_apply.rs`). 40 x 5 keeps this test quick with the same fault mix.
#[tokio::test(flavor = "multi_thread")]
async fn random_faults_converge_within_two_applies_without_duplicates() {
    let portal = Portal::with(FaultArgs {
        error_rate_500: 0.05,
        error_rate_503: 0.05,
        error_rate_429: 0.0,
        commit_then_fail_rate: 0.03,
        seed: 7,
        operation_delay_ms: 20,
        ..FaultArgs::default()
    })
    .await;
    let rooms = 40;
    let invitees = 5;
    let mut text = String::from("version: 1\nrooms:\n");
    for r in 0..rooms {
        text.push_str(&format!(
            "  - title: Load {r:03}\n    type: collaboration\n    invitees:\n"
        ));
        for i in 0..invitees {
            text.push_str(&format!(
                "      - email: guest{r:03}.{i}@example.com\n        access: read\n"
            ));
        }
    }
    let manifest = portal.manifest(&text);
    let (first, _) = portal.apply(&manifest, &[]);
    assert!(first.code == 0 || first.code == 3, "{}", first.stderr);
    let (second, report) = portal.apply(&manifest, &[]);
    assert_eq!(second.code, 0, "{}\n{report:#}", second.stderr);
    // Check the result without faults: stop the faulty sandbox and plan against the embedded
    // one on the same state file.
    let state = portal.state();
    let dir = portal.dir.clone();
    let Portal { handle, _dir, .. } = portal;
    handle.stop().await.unwrap();
    let embedded = format!("sandbox:{}", dir.join("state.json").display());
    let plan = tokio::task::block_in_place(|| {
        crate::common::run([
            "plan",
            manifest.to_str().unwrap(),
            "--portal",
            &embedded,
            "--detailed-exitcode",
        ])
    });
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);

    let rooms_now = state["rooms"].as_array().unwrap();
    let mut titles: Vec<&str> = rooms_now
        .iter()
        .map(|r| r["title"].as_str().unwrap())
        .collect();
    titles.sort();
    let before = titles.len();
    titles.dedup();
    assert_eq!(before, titles.len(), "duplicate rooms: {titles:?}");
    assert_eq!(titles.len(), rooms);
    for r in rooms_now {
        assert_eq!(
            r["shares"].as_array().unwrap().len(),
            invitees,
            "room {} lost an invitee",
            r["title"]
        );
    }
}

/// Every write is performed and then answered 504 or by a dropped connection: the create is
/// ambiguous, the room is found by re-listing and adopted (never created twice), and the
/// share batch is confirmed by reading the members back.
#[tokio::test(flavor = "multi_thread")]
async fn an_ambiguous_create_is_adopted_not_repeated() {
    let portal = Portal::with(FaultArgs {
        commit_then_fail_rate: 1.0,
        operation_delay_ms: 20,
        ..FaultArgs::default()
    })
    .await;
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/rooms.yaml");
    let (run, report) = portal.apply(&manifest, &[]);
    assert_eq!(run.code, 0, "{}\n{report:#}", run.stderr);
    assert_eq!(find(&report, "create_room", None)["status"], "applied");
    assert_eq!(find(&report, "invite", None)["status"], "applied");
    let state = portal.state();
    assert_eq!(state["rooms"].as_array().unwrap().len(), 1, "{state:#}");
    assert_eq!(
        portal.stats().await["routes"]["POST /api/2.0/files/rooms"],
        1,
        "the create must not be repeated"
    );
}

/// Ctrl-C (SIGINT) after the first room was created: running rooms finish, rooms not started
/// are skipped as interrupted, the report is still written, and the exit code is 3.
#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_stops_new_rooms_and_still_writes_the_report() {
    let portal = Portal::with(FaultArgs {
        latency_ms: 40,
        operation_delay_ms: 20,
        ..FaultArgs::default()
    })
    .await;
    let mut text = String::from("version: 1\nrooms:\n");
    for r in 0..30 {
        text.push_str(&format!(
            "  - title: Slow {r:02}\n    type: collaboration\n    invitees:\n      - email: slow{r:02}@example.com\n        access: read\n"
        ));
    }
    let manifest = portal.manifest(&text);
    let report_path = portal.dir.join("report.json");
    let child = bin()
        .args([
            "apply",
            manifest.to_str().unwrap(),
            "--auto-approve",
            "--parallelism",
            "1",
            "--report",
            report_path.to_str().unwrap(),
            "--portal",
            portal.handle.base_url.as_str(),
        ])
        .env("DOCSPACE_API_KEY", &portal.handle.api_key)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the first create: by then the signal handler is installed.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let stats = portal.stats().await;
        if stats["routes"]["POST /api/2.0/files/rooms"]
            .as_u64()
            .unwrap_or(0)
            >= 1
        {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no create: {stats}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = tokio::task::block_in_place(|| child.wait_with_output().unwrap());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
    assert_eq!(report["interrupted"], true);
    let all = entries(&report);
    assert_eq!(all.len(), 60, "every item is reported");
    let skipped = all
        .iter()
        .filter(|e| e["status"] == "skipped" && e["error"]["message"] == "interrupted")
        .count();
    assert!(skipped > 0 && skipped < 60, "{report:#}");
    // Rooms are never left half done: a room's items are all applied or all skipped.
    for pair in all.chunks(2) {
        assert_eq!(pair[0]["room"], pair[1]["room"]);
        assert_eq!(pair[0]["status"], pair[1]["status"], "{pair:#?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn archive_and_unarchive_wait_for_the_new_state() {
    let portal = Portal::start().await;
    let room = |state: &str| {
        format!(
            "version: 1
rooms:
  - title: Shelf
    type: custom
    state: {state}
    invitees:
      - email: uma.user@sandbox.test
        access: read
"
        )
    };
    let manifest = portal.manifest(&room("archived"));
    let (run, report) = portal.apply(&manifest, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for action in ["create_room", "invite", "archive"] {
        assert_eq!(
            find(&report, action, None)["status"],
            "applied",
            "{report:#}"
        );
    }
    let plan = portal.run(&["plan", manifest.to_str().unwrap(), "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}", plan.stdout);

    let manifest = portal.manifest(&room("present"));
    let (run, report) = portal.apply(&manifest, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(find(&report, "unarchive", None)["status"], "applied");
    let plan = portal.run(&["plan", manifest.to_str().unwrap(), "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}", plan.stdout);
}

/// Runs `apply` on a pseudo-terminal (`script` from bsdutils, part of every Debian system),
/// answering the prompt with `answer`.
fn apply_on_a_terminal(state: &std::path::Path, answer: &str) -> crate::common::Run {
    let cmd = format!(
        "{} apply examples/rooms.yaml --portal sandbox:{} --color never",
        env!("CARGO_BIN_EXE_docspace-provision"),
        state.display()
    );
    let mut child = std::process::Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("DOCSPACE_URL")
        .env_remove("DOCSPACE_API_KEY")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("util-linux `script` runs");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{answer}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    crate::common::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn on_a_terminal_apply_asks_and_only_yes_applies() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("s.json");
    let no = apply_on_a_terminal(&state, "no");
    assert!(
        no.stdout
            .contains("Apply these changes? Type 'yes' to continue:"),
        "{}",
        no.stdout
    );
    assert!(no.stdout.contains("nothing was changed"), "{}", no.stdout);
    assert_eq!(no.code, 1);
    let yes = apply_on_a_terminal(&state, "yes");
    assert_eq!(yes.code, 0, "{}", yes.stdout);
    assert!(yes.stdout.contains("applied         2"), "{}", yes.stdout);
    // The first answer really changed nothing: the second run had the whole plan to apply.
    assert!(
        yes.stdout.contains("Plan: 1 room to create"),
        "{}",
        yes.stdout
    );
}

/// A saved plan from `tests/fixtures/saved-plans`, made for `portal`, written to its directory.
fn saved_fixture(portal: &Portal, name: &str) -> std::path::PathBuf {
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/saved-plans")
        .join(name);
    let text = std::fs::read_to_string(fixture).unwrap();
    // The fixtures carry an empty desired state (nothing planning again would make); its
    // digest is the one `plan --out` writes for it.
    let digest = docspace_provision::manifest::normal::digest(&json!({"version": 1, "rooms": []}));
    let text = text.replace("DIGEST", &digest);
    let url = portal.handle.base_url.as_str().trim_end_matches('/');
    let path = portal.dir.join(name);
    std::fs::write(&path, text.replace("PORTAL", url)).unwrap();
    path
}

/// `apply --plan PATH --auto-approve`: refused with exit 1 and nothing written. Returns the
/// scrubbed stderr.
async fn refused_saved_plan(portal: &Portal, path: &std::path::Path) -> String {
    portal.reset_stats().await;
    let run = portal.run(&["apply", "--plan", path.to_str().unwrap(), "--auto-approve"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    let stats = portal.stats().await;
    assert_eq!(stats["writes"], 0, "a refused plan must not write: {stats}");
    portal.scrub(&run.stderr)
}

/// Hand-edited, cut or hostile saved plans make no write: a file that is not a plan is refused
/// with an error that names the bad room and item (or the place in the file); a plan whose
/// items are not what planning again from its desired state makes applies none of them.
#[tokio::test(flavor = "multi_thread")]
async fn hostile_saved_plans_are_refused_with_located_errors_and_no_writes() {
    let portal = Portal::start().await;
    for name in [
        "room-listed-twice",
        "update-with-negative-id",
        "invite-without-target",
        "unknown-action",
        "truncated",
        "key-of-another-room",
        "invite-access-none",
    ] {
        let path = saved_fixture(&portal, &format!("{name}.json"));
        let stderr = refused_saved_plan(&portal, &path).await;
        insta::assert_snapshot!(format!("saved_plan_{name}"), stderr);
    }
    // No room of any of them was created.
    let titles: Vec<String> = portal.state()["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["title"].as_str().map(str::to_string))
        .collect();
    for title in [
        "Twice",
        "Negative",
        "No Target",
        "Unknown",
        "Cut",
        "Mine",
        "Nobody",
    ] {
        assert!(!titles.iter().any(|t| t == title), "{title} in {titles:?}");
    }
}

/// A saved plan larger than any plan of the tool is refused without being parsed.
#[tokio::test(flavor = "multi_thread")]
async fn a_50_mb_saved_plan_is_refused() {
    let portal = Portal::start().await;
    let path = portal.dir.join("huge.json");
    let mut text = String::from("{\"format_version\": 2, \"rooms\": [");
    let room = "{\"title\": \"x\"},";
    text.push_str(&room.repeat(50 * 1024 * 1024 / room.len()));
    text.push_str("{}]}");
    std::fs::write(&path, text).unwrap();
    let stderr = refused_saved_plan(&portal, &path).await;
    insta::assert_snapshot!("saved_plan_too_large", stderr);
}

/// The control for the hostile fixtures: the same shape, consistent, applies.
#[tokio::test(flavor = "multi_thread")]
async fn a_consistent_saved_plan_fixture_applies() {
    let portal = Portal::start().await;
    // The fingerprint of a room that does not exist yet, as `plan --out` writes it.
    let manifest = portal.manifest(
        "version: 1\nrooms:\n  - title: Valid\n    type: collaboration\n    invitees:\n      - email: new.person@example.com\n        access: read\n",
    );
    let planned = portal.dir.join("planned.json");
    let run = portal.run(&[
        "plan",
        manifest.to_str().unwrap(),
        "--out",
        planned.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let planned: Value = serde_json::from_str(&std::fs::read_to_string(&planned).unwrap()).unwrap();
    let path = saved_fixture(&portal, "valid.json");
    let mut fixture: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    fixture["rooms"][0]["fingerprint"] = planned["rooms"][0]["fingerprint"].clone();
    fixture["desired"] = planned["desired"].clone();
    fixture["desired_digest"] = planned["desired_digest"].clone();
    assert_eq!(
        fixture["rooms"], planned["rooms"],
        "the fixture is what plan writes"
    );
    std::fs::write(&path, fixture.to_string()).unwrap();
    let run = portal.run(&["apply", "--plan", path.to_str().unwrap(), "--auto-approve"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
}
