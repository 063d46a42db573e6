//! `managed_tag` and `--prune` through the real binary against a sandbox: every manifest room
//! carries the marker tag, a managed room dropped from the manifest is listed as an orphan by
//! `plan` and archived (never deleted) by `apply --prune`, rooms without the marker are never
//! touched, and the archive guard refuses archiving more than a quarter of the managed rooms
//! without `--allow-removals`.

use serde_json::Value;

use crate::common::Portal;
use crate::common::state_room as room;

fn snapshot(name: &str, text: &str) {
    insta::with_settings!({filters => vec![
        (r#""fingerprint": "[0-9a-f]{16}""#, r#""fingerprint": "[FP]""#),
        (r#""manifest_hash": "sha256:[0-9a-f]{64}""#, r#""manifest_hash": "[HASH]""#),
        (r#""desired_digest": "sha256:[0-9a-f]{64}""#, r#""desired_digest": "[HASH]""#),
        (r#""planned_at": "[^"]+""#, r#""planned_at": "[MOMENT]""#),
        // Rooms are created concurrently: their ids vary from run to run.
        (r#"(id |"room_id": |"id": )\d+"#, "${1}[ID]"),
    ]}, {
        insta::assert_snapshot!(name, text);
    });
}

/// A manifest managing the rooms `titles` under the marker `provisioned`.
fn managed(titles: &[&str]) -> String {
    let mut m = String::from("version: 1\nmanaged_tag: provisioned\nrooms:\n");
    for t in titles {
        m.push_str(&format!("  - title: {t}\n    type: custom\n"));
    }
    m
}

fn archived(state: &Value, title: &str) -> bool {
    room(state, title)["archived"].as_bool().unwrap()
}

fn entries(report: &Value) -> &Vec<Value> {
    report["entries"].as_array().unwrap()
}

const FIVE: [&str; 5] = ["Alpha", "Bravo", "Charlie", "Delta", "Echo"];

#[tokio::test(flavor = "multi_thread")]
async fn removing_a_managed_room_and_applying_with_prune_archives_exactly_that_room() {
    let portal = Portal::start().await;
    // A room the manifest never managed: no marker, never touched.
    let loose = portal.create_room("Loose Ends", 5).await;
    let path = portal.manifest(&managed(&FIVE));
    let (run, _) = portal.apply(&path, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let state = portal.state();
    for t in FIVE {
        let tags = room(&state, t)["tags"].as_array().unwrap();
        assert!(tags.iter().any(|x| x == "provisioned"), "{t}: {tags:?}");
    }

    // Echo leaves the manifest: plan lists it as an orphan, but without --prune it is not a
    // change (exit 0 with --detailed-exitcode) and apply leaves it alone.
    let path = portal.manifest(&managed(&FIVE[..4]));
    let plan = portal.run(&["plan", path.to_str().unwrap(), "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    snapshot("plan_lists_orphans", &portal.scrub(&plan.stdout));

    // With --prune the plan archives it, in every format.
    let mut shown = String::new();
    for format in ["text", "markdown", "json"] {
        let run = portal.run(&[
            "plan",
            path.to_str().unwrap(),
            "--prune",
            "--detailed-exitcode",
            "--format",
            format,
        ]);
        assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
        shown.push_str(&format!("--- {format}\n{}", run.stdout));
    }
    snapshot("plan_prune_all_formats", &portal.scrub(&shown));

    let (run, report) = portal.apply(&path, &["--prune"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let written: Vec<(&str, &str, &str)> = entries(&report)
        .iter()
        .filter(|e| e["status"] != "unchanged")
        .map(|e| {
            (
                e["room"].as_str().unwrap(),
                e["action"].as_str().unwrap(),
                e["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(written, [("Echo", "archive", "applied")], "{report:#}");
    let state = portal.state();
    assert!(archived(&state, "Echo"));
    for t in FIVE[..4].iter().chain(&["Loose Ends"]) {
        assert!(!archived(&state, t), "{t} must stay");
    }
    assert_eq!(room(&state, "Loose Ends")["id"], loose);
    // Archived, not deleted.
    assert_eq!(state["rooms"].as_array().unwrap().len(), 6);

    // Once archived it is no orphan: the next run writes nothing.
    portal.reset_stats().await;
    let (run, _) = portal.apply(&path, &["--prune"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(portal.stats().await["writes"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_archive_guard_refuses_more_than_a_quarter_of_the_managed_rooms() {
    let portal = Portal::start().await;
    let path = portal.manifest(&managed(&FIVE[..4]));
    let (run, _) = portal.apply(&path, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);

    // Two of four managed rooms would go: the plan warns, apply skips both (exit 3).
    let path = portal.manifest(&managed(&FIVE[..2]));
    let plan = portal.run(&["plan", path.to_str().unwrap(), "--prune"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert!(
        plan.stdout.contains("! archive guard: 2 of 4 rooms carrying the marker tag would be archived (more than 25%); apply skips this archive unless --allow-removals is given"),
        "{}",
        plan.stdout
    );
    let (run, report) = portal.apply(&path, &["--prune"]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    let archives: Vec<&Value> = entries(&report)
        .iter()
        .filter(|e| e["action"] == "archive")
        .collect();
    assert_eq!(archives.len(), 2, "{report:#}");
    for a in &archives {
        assert_eq!(a["status"], "skipped", "{a}");
        assert_eq!(a["skip_reason"], "removal_guard", "{a}");
        let message = a["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("archive guard") && message.contains("--allow-removals"),
            "{message}"
        );
    }
    let state = portal.state();
    assert!(FIVE[..4].iter().all(|t| !archived(&state, t)));

    let (run, _) = portal.apply(&path, &["--prune", "--allow-removals"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let state = portal.state();
    assert!(archived(&state, "Charlie") && archived(&state, "Delta"));
    assert!(!archived(&state, "Alpha") && !archived(&state, "Bravo"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_prune_plan_archives_the_orphan_it_names() {
    let portal = Portal::start().await;
    let path = portal.manifest(&managed(&FIVE));
    assert_eq!(portal.apply(&path, &[]).0.code, 0);
    let path = portal.manifest(&managed(&FIVE[..4]));
    let saved = portal.dir.join("prune.json");
    let plan = portal.run(&[
        "plan",
        path.to_str().unwrap(),
        "--prune",
        "--out",
        saved.to_str().unwrap(),
    ]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let run = portal.run(&["apply", "--plan", saved.to_str().unwrap(), "--auto-approve"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(archived(&portal.state(), "Echo"));

    // A hand-edited plan that turns the orphan into something else applies nothing: the
    // item is not what planning again makes.
    let mut json: Value = serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    let echo = json["rooms"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|r| r["title"] == "Echo")
        .unwrap();
    echo["items"][0] = serde_json::json!({"key": "Echo", "action": "unarchive"});
    std::fs::write(&saved, serde_json::to_string(&json).unwrap()).unwrap();
    let run = portal.run(&["apply", "--plan", saved.to_str().unwrap(), "--auto-approve"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("room `Echo`: 1 change skipped as stale"),
        "{}",
        run.stderr
    );
    assert!(archived(&portal.state(), "Echo"));
}

#[tokio::test(flavor = "multi_thread")]
async fn without_managed_tag_prune_is_refused_and_nothing_outside_the_manifest_is_touched() {
    let portal = Portal::start().await;
    portal.create_room("Elsewhere", 5).await;
    let path = portal.manifest("version: 1\nrooms:\n  - title: Alpha\n    type: custom\n");
    let (run, _) = portal.apply(&path, &["--prune"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("--prune needs a `managed_tag`"),
        "{}",
        run.stderr
    );
    let (run, _) = portal.apply(&path, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let state = portal.state();
    assert!(!archived(&state, "Elsewhere"));
    // No marker tag is added without `managed_tag`.
    assert_eq!(room(&state, "Alpha")["tags"], serde_json::json!([]));
    let plan = portal.run(&["plan", path.to_str().unwrap()]);
    assert!(!plan.stdout.contains("Managed rooms"), "{}", plan.stdout);
}
