//! Rooms from templates through the binary against the sandbox (docs/book/src/howto/templates.md,
//! docs/docspace-api.md, "Room templates").

use serde_json::Value;

use crate::common::{Portal, quick, state_room};

/// A user other than the key's (Dana Admin of the demo seed).
const DANA: uuid::Uuid = uuid::Uuid::from_u128(0x5a4d_b0c5_0000_4000_8000_0000_0000_0002);

/// A portal with one template, "Project", of custom rooms with three folders.
async fn with_template(
    edit: impl FnOnce(&mut docspace_provision::sandbox::state::PortalState, i64),
) -> (Portal, i64) {
    let mut id = 0;
    let portal = Portal::seeded(quick(), |s| {
        id = s.add_template("Project", 5, &["Contracts", "Drafts", "Final"]);
        edit(s, id);
    })
    .await;
    (portal, id)
}

fn five_rooms() -> String {
    let mut m = String::from("version: 1\nrooms:\n");
    for n in 1..=5 {
        m.push_str(&format!(
            "  - title: Project {n}\n    type: custom\n    template: Project\n    invitees:\n      - email: uma.user@sandbox.test\n        access: {}\n",
            if n % 2 == 0 { "editing" } else { "read" }
        ));
    }
    m
}

/// Folder titles of a room, through the server's folder listing route.
async fn folders(portal: &Portal, id: i64) -> Vec<String> {
    let v = portal
        .call(reqwest::Method::GET, &format!("/api/2.0/files/{id}"), None)
        .await;
    v["response"]["folders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["title"].as_str().unwrap().to_string())
        .collect()
}

fn rooms_titled<'a>(state: &'a Value, title: &str) -> Vec<&'a Value> {
    state["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["title"] == title)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn five_rooms_from_one_template_get_its_folders_and_their_own_members() {
    let (portal, _) = with_template(|_, _| {}).await;
    let manifest = portal.manifest(&five_rooms());
    let plan = portal.plan(&five_rooms(), &[]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert!(
        plan.stdout
            .contains("+ room \"Project 1\" (from template \"Project\")"),
        "{}",
        plan.stdout
    );
    let (run, report) = portal.apply(&manifest, &["--parallelism", "5"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        report["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["status"] == "applied")
    );
    // Not vacuous: the one apply made all five rooms.
    assert_eq!(
        report["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "create_room" && e["status"] == "applied")
            .count(),
        5,
        "{report:#}"
    );
    let state = portal.state();
    for n in 1..=5 {
        let room = state_room(&state, &format!("Project {n}"));
        assert_eq!(rooms_titled(&state, &format!("Project {n}")).len(), 1);
        assert_eq!(room["room_type"], 5);
        let id = room["id"].as_i64().unwrap();
        assert_eq!(folders(&portal, id).await, ["Contracts", "Drafts", "Final"]);
        let access = if n % 2 == 0 { 10 } else { 2 };
        let shares = room["shares"].as_array().unwrap();
        assert!(
            shares
                .iter()
                .any(|s| s["subject"] == "5a4db0c5-0000-4000-8000-000000000004"
                    && s["access"] == access),
            "{room}"
        );
    }
    // Templates never appear among the rooms: the template itself is not taken for a room.
    assert_eq!(
        portal.stats().await["routes"]["POST /api/2.0/files/rooms"],
        Value::Null
    );
    let replan = portal.plan(&five_rooms(), &[]);
    assert!(
        replan
            .stdout
            .contains("`template:` has no effect on 5 rooms that already exist"),
        "{}",
        replan.stdout
    );
    let clean = portal.plan(&five_rooms(), &["--detailed-exitcode"]);
    assert_eq!(clean.code, 0, "{}{}", clean.stdout, clean.stderr);
    portal.reset_stats().await;
    let (again, _) = portal.apply(&manifest, &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(
        portal.stats().await["writes"],
        0,
        "a second apply must not write"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_started_outside_the_tool_is_never_taken_for_ours() {
    // Another user's job runs when the tool starts: the server answers that job's status
    // (with its room id) to our start, and creates nothing for us.
    let (portal, _) = with_template(|s, id| {
        s.start_outside_template_job(DANA, id, "Someone else's room", 3);
    })
    .await;
    let text = "version: 1\nrooms:\n  - title: Ours\n    type: custom\n    template: Project\n";
    let manifest = portal.manifest(text);
    let (run, report) = portal.apply(&manifest, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let state = portal.state();
    let ours = state_room(&state, "Ours");
    let theirs = state_room(&state, "Someone else's room");
    assert_eq!(rooms_titled(&state, "Ours").len(), 1);
    assert_eq!(rooms_titled(&state, "Someone else's room").len(), 1);
    let create = report["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "create_room")
        .unwrap();
    assert_eq!(create["room_id"], ours["id"]);
    assert_ne!(create["room_id"], theirs["id"]);
    assert_eq!(
        folders(&portal, ours["id"].as_i64().unwrap()).await.len(),
        3
    );
    // The tool saw the other job running and waited for it (3 status reads end it here).
    let reads = &portal.stats().await["routes"]["GET /api/2.0/files/rooms/fromTemplate/status"];
    assert!(reads.as_u64().unwrap() >= 3, "{reads}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_started_between_our_status_check_and_our_start_is_never_taken_for_ours() {
    // The race a client cannot avoid: another user's job begins after the tool saw the
    // portal idle and before its start arrives. The start creates nothing and answers the
    // other job's status, whose `roomId` is that job's room.
    let (portal, _) = with_template(|s, id| {
        s.outside_job_before_next_start = Some(docspace_provision::sandbox::state::OutsideJob {
            user: DANA,
            template_id: id,
            title: "Raced".to_string(),
            status_reads: 2,
        });
    })
    .await;
    let text = "version: 1\nrooms:\n  - title: Ours\n    type: custom\n    template: Project\n";
    let manifest = portal.manifest(text);
    let (run, report) = portal.apply(&manifest, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let state = portal.state();
    let ours = state_room(&state, "Ours");
    let theirs = state_room(&state, "Raced");
    assert_eq!(rooms_titled(&state, "Ours").len(), 1);
    let create = report["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "create_room")
        .unwrap();
    assert_eq!(create["room_id"], ours["id"]);
    assert_ne!(create["room_id"], theirs["id"]);
    // The refused start, then ours.
    assert_eq!(
        portal.stats().await["routes"]["POST /api/2.0/files/rooms/fromTemplate"],
        2
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_start_that_times_out_after_the_server_accepted_it_yields_one_room() {
    let (portal, _) = with_template(|s, _| s.template_start_timeouts = 1).await;
    let text = "version: 1\nrooms:\n  - title: Timed out\n    type: custom\n    template: Project\n    invitees:\n      - email: uma.user@sandbox.test\n        access: read\n";
    let manifest = portal.manifest(text);
    let (first, _) = portal.apply(&manifest, &[]);
    assert_eq!(
        rooms_titled(&portal.state(), "Timed out").len(),
        1,
        "{}",
        first.stderr
    );
    let (second, _) = portal.apply(&manifest, &[]);
    assert_eq!(
        second.code, 0,
        "{}\n{}\n{}",
        first.stderr, second.stdout, second.stderr
    );
    let state = portal.state();
    assert_eq!(
        rooms_titled(&state, "Timed out").len(),
        1,
        "{}",
        first.stderr
    );
    assert_eq!(
        portal.stats().await["routes"]["POST /api/2.0/files/rooms/fromTemplate"],
        1
    );
    // The one room is the manifest's room: the template's folders and its own member,
    // and planning again is clean.
    let room = state_room(&state, "Timed out");
    assert_eq!(
        folders(&portal, room["id"].as_i64().unwrap()).await.len(),
        3,
        "{room:#}"
    );
    assert!(
        room.to_string()
            .contains("5a4db0c5-0000-4000-8000-000000000004"),
        "uma is on the room: {room:#}"
    );
    let again = portal.plan(text, &["--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_template_is_a_located_error_before_any_write() {
    let (portal, _) = with_template(|_, _| {}).await;
    let text = "version: 1\nrooms:\n  - title: Fine\n    type: custom\n  - title: New\n    type: custom\n    template: Projekt\n";
    let manifest = portal.manifest(text);
    let (run, _) = portal.apply(&manifest, &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr.contains("portal::unknown_template"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("rooms.yaml:7:"), "{}", run.stderr);
    assert!(run.stderr.contains("`Project`"), "{}", run.stderr);
    assert_eq!(portal.stats().await["writes"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_type_other_than_the_templates_and_an_ambiguous_title_are_plan_errors() {
    let (portal, _) = with_template(|s, _| {
        s.add_template("Twin", 2, &[]);
        s.add_template("Twin", 2, &[]);
    })
    .await;
    let run = portal.plan(
        "version: 1\nrooms:\n  - title: A\n    type: public\n    template: Project\n  - title: B\n    type: collaboration\n    template: Twin\n",
        &[],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr.contains("portal::template_type_differs"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("portal::ambiguous_template"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_template_on_an_existing_room_has_no_effect_and_the_plan_says_so() {
    let (portal, id) = with_template(|_, _| {}).await;
    portal.create_room("Existing", 5).await;
    let run = portal.plan(
        &format!("version: 1\nrooms:\n  - title: Existing\n    type: custom\n    template: {id}\n"),
        &["--detailed-exitcode"],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        run.stdout.matches("has no effect").count(),
        1,
        "{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn export_lists_templates_as_comments_and_writes_template_nowhere() {
    let (portal, id) = with_template(|_, _| {}).await;
    let manifest = portal.manifest(&five_rooms());
    let (run, _) = portal.apply(&manifest, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let export = portal.run(&["export"]);
    assert_eq!(export.code, 0, "{}", export.stderr);
    assert!(
        export
            .stdout
            .contains(&format!("#   Project (id {id}, custom)")),
        "{}\n{}",
        export.stdout,
        export.stderr
    );
    // No room gets the key: a room does not show which template made it.
    assert!(
        !export
            .stdout
            .lines()
            .any(|l| l.trim_start().starts_with("template:")),
        "{}",
        export.stdout
    );
    // The export is a manifest that changes nothing.
    let path = portal.dir.join("export.yaml");
    std::fs::write(&path, &export.stdout).unwrap();
    let plan = portal.run(&["plan", path.to_str().unwrap(), "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_scratch_makes_a_room_from_the_portals_template_and_deletes_it() {
    let (portal, _) = with_template(|_, _| {}).await;
    let run = portal.run(&["doctor", "--scratch"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let line = run
        .stdout
        .lines()
        .find(|l| l.contains("template-room"))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(line.contains("got its 3 folder"), "{line}");
    assert!(run.stdout.contains("templates-apart"), "{}", run.stdout);
    let state = portal.state();
    let leftovers: Vec<&Value> = state["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["title"]
                .as_str()
                .unwrap_or("")
                .starts_with(docspace_provision::doctor::SCRATCH_PREFIX)
        })
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_without_a_template_creates_nothing_for_it() {
    let portal = Portal::start().await;
    let run = portal.run(&["doctor", "--scratch"]);
    let line = run
        .stdout
        .lines()
        .find(|l| l.contains("template-room"))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(line.contains("nothing was created"), "{line}");
    assert_eq!(
        portal.stats().await["routes"]["POST /api/2.0/files/rooms/fromTemplate"],
        Value::Null
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_with_a_template_create_applies_it() {
    let (portal, _) = with_template(|_, _| {}).await;
    let manifest = portal.manifest(&five_rooms());
    let saved = portal.dir.join("plan.json");
    let plan = portal.run(&[
        "plan",
        manifest.to_str().unwrap(),
        "--out",
        saved.to_str().unwrap(),
    ]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let text = std::fs::read_to_string(&saved).unwrap();
    assert!(text.contains("\"template\""), "{text}");
    let run = portal.run(&["apply", "--plan", saved.to_str().unwrap(), "--auto-approve"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(rooms_titled(&portal.state(), "Project 3").len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sandbox_runs_one_job_per_portal_and_a_second_start_answers_the_first() {
    // Server rule (docs/docspace-api.md, "Room templates"), at the HTTP level.
    let portal = Portal::seeded(
        docspace_provision::cli::FaultArgs {
            operation_delay_ms: 60_000,
            ..docspace_provision::cli::FaultArgs::default()
        },
        |s| {
            s.add_template("Project", 5, &["A"]);
        },
    )
    .await;
    let status = portal
        .call(
            reqwest::Method::GET,
            "/api/2.0/files/rooms/fromTemplate/status",
            None,
        )
        .await;
    assert_eq!(status["response"], Value::Null);
    let start = |title: &str| serde_json::json!({"templateId": 1001, "title": title});
    let first = portal
        .call(
            reqwest::Method::POST,
            "/api/2.0/files/rooms/fromTemplate",
            Some(start("One")),
        )
        .await;
    let second = portal
        .call(
            reqwest::Method::POST,
            "/api/2.0/files/rooms/fromTemplate",
            Some(start("Two")),
        )
        .await;
    assert_eq!(first["response"]["isCompleted"], false);
    assert_eq!(second["response"]["roomId"], first["response"]["roomId"]);
    let state = portal.state();
    assert_eq!(rooms_titled(&state, "One").len(), 1);
    assert!(rooms_titled(&state, "Two").is_empty());
    // Templates are listed with searchArea 4 only.
    let rooms = portal
        .call(
            reqwest::Method::GET,
            "/api/2.0/files/rooms?searchArea=2",
            None,
        )
        .await;
    assert!(
        rooms["response"]["folders"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["id"] != 1001)
    );
    let templates = portal
        .call(
            reqwest::Method::GET,
            "/api/2.0/files/rooms?searchArea=4",
            None,
        )
        .await;
    assert_eq!(templates["response"]["folders"][0]["id"], 1001);
    assert_eq!(templates["response"]["folders"][0]["rootFolderType"], 30);
}

#[test]
fn a_template_that_is_neither_a_title_nor_an_id_is_a_located_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rooms.yaml");
    std::fs::write(
        &path,
        "version: 1\nrooms:\n  - title: A\n    type: custom\n    template: [x]\n  - title: B\n    type: custom\n    template: -2\n",
    )
    .unwrap();
    let run = crate::common::run(["validate", path.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr.matches("template").count() >= 2,
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("rooms.yaml:5:"), "{}", run.stderr);
    assert!(run.stderr.contains("rooms.yaml:8:"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_while_polling_the_job_never_makes_the_room_twice() {
    // A job that takes a while: Ctrl-C lands while the tool polls its status.
    let portal = Portal::seeded(
        docspace_provision::cli::FaultArgs {
            operation_delay_ms: 1500,
            ..docspace_provision::cli::FaultArgs::default()
        },
        |s| {
            s.add_template("Project", 5, &["A", "B"]);
        },
    )
    .await;
    let text = "version: 1\nrooms:\n  - title: Interrupted\n    type: custom\n    template: Project\n    invitees:\n      - email: uma.user@sandbox.test\n        access: read\n";
    let manifest = portal.manifest(text);
    let child = crate::common::bin()
        .args([
            "apply",
            manifest.to_str().unwrap(),
            "--auto-approve",
            "--portal",
        ])
        .arg(portal.handle.base_url.as_str())
        .env("DOCSPACE_API_KEY", &portal.handle.api_key)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while portal.stats().await["routes"]["POST /api/2.0/files/rooms/fromTemplate"].is_null() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "the job never started"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = tokio::task::block_in_place(|| child.wait_with_output()).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let (again, _) = portal.apply(&manifest, &[]);
    assert_eq!(
        again.code, 0,
        "{stderr}\n{}\n{}",
        again.stdout, again.stderr
    );
    let state = portal.state();
    assert_eq!(rooms_titled(&state, "Interrupted").len(), 1, "{stderr}");
    assert_eq!(
        portal.stats().await["routes"]["POST /api/2.0/files/rooms/fromTemplate"],
        1
    );
    let id = state_room(&state, "Interrupted")["id"].as_i64().unwrap();
    assert_eq!(folders(&portal, id).await, ["A", "B"]);
}

/// The report's entry for the room's create.
fn create_entry(report: &Value) -> &Value {
    report["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "create_room")
        .unwrap_or_else(|| panic!("no create_room entry: {report:#}"))
}

const ONE_ROOM: &str = "version: 1\nrooms:\n  - title: Lost\n    type: custom\n    template: Project\n    invitees:\n      - email: uma.user@sandbox.test\n        access: read\n";

#[tokio::test(flavor = "multi_thread")]
async fn a_start_whose_answer_is_lost_is_never_sent_again_and_the_next_apply_makes_the_room() {
    // A gateway answered 504 before the start reached the server: nothing runs. The tool
    // cannot tell this from a start still on its way to the server, so it does not send the
    // start again (a create is never repeated after a timeout): the item fails, and the next
    // apply, which finds no room by title, makes it.
    let (portal, _) = with_template(|s, _| s.template_start_lost = 1).await;
    let manifest = portal.manifest(ONE_ROOM);
    let (first, report) = portal.apply(&manifest, &[]);
    assert_eq!(first.code, 3, "{}\n{}", first.stdout, first.stderr);
    let starts = "POST /api/2.0/files/rooms/fromTemplate";
    assert_eq!(portal.stats().await["routes"][starts], 1);
    assert!(rooms_titled(&portal.state(), "Lost").is_empty());
    let create = create_entry(&report);
    assert_eq!(create["status"], "failed", "{report:#}");
    let message = create["error"]["message"].as_str().unwrap();
    assert!(message.contains("not sent again"), "{message}");

    let (second, _) = portal.apply(&manifest, &[]);
    assert_eq!(second.code, 0, "{}\n{}", second.stdout, second.stderr);
    assert_eq!(rooms_titled(&portal.state(), "Lost").len(), 1);
    assert_eq!(portal.stats().await["routes"][starts], 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_job_reports_the_servers_error_and_the_next_apply_tries_again() {
    // The job fails after making the room; the server deletes the room and reports `error`.
    let (portal, _) = with_template(|s, id| {
        let t = s.templates.iter_mut().find(|t| t.id == id).unwrap();
        t.fails_with = Some("Disk quota exceeded".into());
    })
    .await;
    let manifest = portal.manifest(ONE_ROOM);
    let (first, report) = portal.apply(&manifest, &[]);
    assert_eq!(first.code, 3, "{}\n{}", first.stdout, first.stderr);
    let create = create_entry(&report);
    assert_eq!(create["status"], "failed", "{report:#}");
    let message = create["error"]["message"].as_str().unwrap();
    assert!(message.contains("Disk quota exceeded"), "{message}");
    assert!(rooms_titled(&portal.state(), "Lost").is_empty());
    // The next run does not think the room exists: it starts again (and fails again here).
    let (second, report) = portal.apply(&manifest, &[]);
    assert_eq!(second.code, 3, "{}", second.stderr);
    assert_eq!(create_entry(&report)["status"], "failed");
    assert_eq!(
        portal.stats().await["routes"]["POST /api/2.0/files/rooms/fromTemplate"],
        2
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_that_ends_with_an_error_but_leaves_the_room_is_not_reported_as_a_clean_create() {
    // The server's delete after the failure failed too: the status has `error` and a `roomId`
    // of a room that exists, with our title. The room is ours (its members follow), but the
    // create is reported failed with the server's error: its content may be incomplete.
    let (portal, _) = with_template(|s, id| {
        let t = s.templates.iter_mut().find(|t| t.id == id).unwrap();
        t.fails_with = Some("Copy interrupted".into());
        t.keeps_room_on_failure = true;
    })
    .await;
    let manifest = portal.manifest(ONE_ROOM);
    let (first, report) = portal.apply(&manifest, &[]);
    assert_eq!(first.code, 3, "{}\n{}", first.stdout, first.stderr);
    let state = portal.state();
    assert_eq!(rooms_titled(&state, "Lost").len(), 1);
    let create = create_entry(&report);
    assert_eq!(create["status"], "failed", "{report:#}");
    assert_eq!(create["room_id"], state_room(&state, "Lost")["id"]);
    let message = create["error"]["message"].as_str().unwrap();
    assert!(message.contains("Copy interrupted"), "{message}");
    let invite = report["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "invite")
        .unwrap();
    assert_eq!(invite["status"], "applied", "{report:#}");
    // The room exists now: the next run creates nothing.
    let (second, _) = portal.apply(&manifest, &[]);
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert_eq!(rooms_titled(&portal.state(), "Lost").len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_null_status_right_after_the_start_is_read_again_not_taken_for_no_job() {
    // The server answers `null` when reading its job throws. Right after our start that
    // cannot mean "no job": the tool reads again and waits for the job it started.
    let (portal, _) = with_template(|s, _| s.template_status_nulls = 3).await;
    let manifest = portal.manifest(ONE_ROOM);
    let (run, report) = portal.apply(&manifest, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let state = portal.state();
    assert_eq!(rooms_titled(&state, "Lost").len(), 1);
    assert_eq!(
        create_entry(&report)["room_id"],
        state_room(&state, "Lost")["id"]
    );
    let id = state_room(&state, "Lost")["id"].as_i64().unwrap();
    assert_eq!(folders(&portal, id).await.len(), 3);
    assert_eq!(
        portal.stats().await["routes"]["POST /api/2.0/files/rooms/fromTemplate"],
        1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn settings_sent_with_the_start_are_kept_and_a_public_room_gets_its_primary_link() {
    // The job stores the request's lifetime and watermark and, like any create, gives a
    // public room its primary external link (docs/docspace-api.md, "Room templates"): the
    // first apply matches the manifest, the second writes nothing.
    let portal = Portal::seeded(quick(), |s| {
        s.add_template("Deal", 8, &["Due diligence"]);
        s.add_template("Site", 6, &["Assets"]);
    })
    .await;
    let text = "version: 1\nrooms:\n  - title: Deal 1\n    type: vdr\n    template: Deal\n    lifetime: {value: 2, period: years}\n    watermark: {text: Confidential}\n    color: FF0000\n  - title: Site 1\n    type: public\n    template: Site\n    links:\n      - title: Preview\n        kind: external\n        access: read\n";
    let manifest = portal.manifest(text);
    let (first, report) = portal.apply(&manifest, &[]);
    assert_eq!(
        first.code, 0,
        "{}\n{}\n{report:#}",
        first.stdout, first.stderr
    );
    let state = portal.state();
    let deal = state_room(&state, "Deal 1");
    assert_eq!(deal["lifetime"]["value"], 2, "{deal:#}");
    assert_eq!(deal["watermark"]["text"], "Confidential", "{deal:#}");
    let site = state_room(&state, "Site 1");
    assert_eq!(site["links"].as_array().map(Vec::len), Some(2), "{site:#}");
    portal.reset_stats().await;
    let (second, _) = portal.apply(&manifest, &[]);
    assert_eq!(second.code, 0, "{}\n{}", second.stdout, second.stderr);
    assert_eq!(portal.stats().await["writes"], 0, "{}", second.stdout);
}

#[test]
fn a_saved_plan_whose_template_now_resolves_to_another_is_stale_never_a_create_from_it() {
    // Between plan and apply, the portal's templates were renamed: "Project" is now another
    // template. The saved plan approved a create from the first one; planning again makes a
    // create from the second: nothing is applied, and the reason is the portal, not an edit.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let mut state = docspace_provision::sandbox::state::load_or_seed(&path).unwrap();
    state.add_template("Project", 5, &["Contracts"]);
    state.add_template("Other", 5, &["Else"]);
    std::fs::write(&path, serde_json::to_vec(&state).unwrap()).unwrap();
    let portal = format!("sandbox:{}", path.display());
    let manifest = dir.path().join("rooms.yaml");
    std::fs::write(
        &manifest,
        "version: 1\nrooms:\n  - title: SP\n    type: custom\n    template: Project\n",
    )
    .unwrap();
    let saved = dir.path().join("plan.json");
    let plan = crate::common::run([
        "plan",
        manifest.to_str().unwrap(),
        "--portal",
        &portal,
        "--out",
        saved.to_str().unwrap(),
    ]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let mut live: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    live["templates"][0]["title"] = "Old".into();
    live["templates"][1]["title"] = "Project".into();
    std::fs::write(&path, serde_json::to_vec(&live).unwrap()).unwrap();
    let run = crate::common::run([
        "apply",
        "--plan",
        saved.to_str().unwrap(),
        "--portal",
        &portal,
        "--auto-approve",
    ]);
    assert_ne!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("changed on the portal"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("edited"), "{}", run.stderr);
    let after: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert!(rooms_titled(&after, "SP").is_empty());
}

#[test]
fn a_template_title_with_an_invisible_character_is_a_warning_naming_it() {
    // `Pro\u200bject` reads as `Project` but names no template; without the warning, the
    // plan's "unknown template" would not show why.
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("rooms.yaml");
    std::fs::write(
        &manifest,
        "version: 1\nrooms:\n  - title: R\n    type: custom\n    template: \"Pro\\u200bject\"\n",
    )
    .unwrap();
    let run = crate::common::run(["validate", manifest.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("manifest::template_invisible") && run.stderr.contains("U+200B"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_room_pinned_to_a_templates_id_is_missing_never_the_template() {
    // `GET /files/rooms/{id}` answers any folder, a template too (`GetRoomInfo`): a pinned
    // id that names a template must not make the template a managed room (renamed, shared).
    let (portal, id) = with_template(|_, _| {}).await;
    let text = format!(
        "version: 1\nrooms:\n  - title: Pinned\n    id: {id}\n    type: custom\n    invitees:\n      - email: uma.user@sandbox.test\n        access: read\n"
    );
    let manifest = portal.manifest(&text);
    let (run, _) = portal.apply(&manifest, &[]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("portal::pinned_id_missing"),
        "{}",
        run.stderr
    );
    assert_eq!(portal.stats().await["writes"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn templates_are_read_only_when_a_room_is_to_be_created_from_one() {
    // `template:` has no effect on a room that exists: once the rooms are made, their plans
    // do not list the templates, so a template deleted since, or a templates listing the
    // portal refuses, never fails them.
    let (portal, _) = with_template(|_, _| {}).await;
    let with = "version: 1\nrooms:\n  - title: Made\n    type: custom\n    template: Project\n";
    let without = "version: 1\nrooms:\n  - title: Made\n    type: custom\n";
    let (run, _) = portal.apply(&portal.manifest(with), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let listings = |stats: Value| stats["routes"]["GET /api/2.0/files/rooms"].as_u64();
    portal.reset_stats().await;
    let plan = portal.plan(with, &[]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let read_with = listings(portal.stats().await);
    portal.reset_stats().await;
    assert_eq!(portal.plan(without, &[]).code, 0);
    assert_eq!(read_with, listings(portal.stats().await));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_template_title_with_line_breaks_and_hashes_stays_inside_its_export_comment() {
    // Template titles come from the portal: a line break (LF, CR, NEL, LS, PS) or `#` in
    // one must not end the comment and add keys to the exported manifest.
    let (portal, _) = with_template(|s, _| {
        s.add_template("Evil\nrooms:\n  - title: Injected # x", 5, &[]);
        s.add_template("Also\r\u{85}\u{2028}\u{2029}version: 9", 5, &[]);
    })
    .await;
    let export = portal.run(&["export"]);
    assert_eq!(export.code, 0, "{}", export.stderr);
    for line in export
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("# Room templates"))
    {
        assert!(line.starts_with('#'), "{line:?} in\n{}", export.stdout);
    }
    let path = portal.dir.join("export.yaml");
    std::fs::write(&path, &export.stdout).unwrap();
    let validate = crate::common::run(["validate", path.to_str().unwrap()]);
    assert_eq!(validate.code, 0, "{}", validate.stderr);
    assert!(
        validate.stdout.contains("0 rooms") || validate.stderr.contains("0 rooms"),
        "{}{}",
        validate.stdout,
        validate.stderr
    );
    let plan = portal.run(&["plan", path.to_str().unwrap(), "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
}

#[test]
fn a_room_from_a_template_without_type_is_told_to_write_the_templates_type() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("rooms.yaml");
    std::fs::write(
        &manifest,
        "version: 1\nrooms:\n  - title: R\n    template: Project\n",
    )
    .unwrap();
    let run = crate::common::run(["validate", manifest.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("manifest::no_type"), "{}", run.stderr);
    assert!(
        run.stderr.contains("the template's room type"),
        "{}",
        run.stderr
    );
}
