//! Room settings as code (issue 13 item 4) through the real binary against the sandbox:
//! colour, cover, indexing, lifetime and watermark are sent on create, shown old -> new and
//! sent on update, a second apply writes nothing, export round-trips to a clean plan, and a
//! setting a room type does not take is refused with the reason.

use serde_json::Value;

use crate::common::Portal;
use crate::common::state_room as room;

const FIRST: &str = "version: 1
rooms:
  - title: Deal room
    type: virtual-data-room
    color: '#1B6CA8'
    cover: book_open
    indexing: true
    lifetime: {value: 6, period: months}
    watermark:
      text: Confidential
      additions: [room_name, user_email]
      rotation: -45
  - title: Team
    type: collaboration
    color: 00ff00
";

const SECOND: &str = "version: 1
rooms:
  - title: Deal room
    type: virtual-data-room
    color: '#1b6ca8'
    cover: anchor
    indexing: false
    lifetime: {value: 90, period: days, delete_permanently: true}
    watermark:
      additions: [user_email, room_name, current_date]
  - title: Team
    type: collaboration
    color: FF0000
";

/// Snapshots a plan with the values that differ between runs (the manifest's temporary path
/// is in its hash) replaced.
fn snapshot(name: &str, text: &str) {
    insta::with_settings!({filters => vec![
        (r#""fingerprint": "[0-9a-f]{16}""#, r#""fingerprint": "[FP]""#),
        (r#""manifest_hash": "sha256:[0-9a-f]{64}""#, r#""manifest_hash": "[HASH]""#),
        (r#""desired_digest": "sha256:[0-9a-f]{64}""#, r#""desired_digest": "[HASH]""#),
        (r#""planned_at": "[^"]+""#, r#""planned_at": "[MOMENT]""#),
    ]}, {
        insta::assert_snapshot!(name, text);
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn settings_are_created_updated_and_a_second_apply_writes_nothing() {
    let portal = Portal::start().await;
    let (code, plan) = portal.all_formats(FIRST);
    assert_eq!(code, 2, "{plan}");
    snapshot("settings_create_plan", &plan);

    let manifest = portal.manifest(FIRST);
    // One room at a time: the update plan's snapshot shows room ids.
    let (run, _) = portal.apply(&manifest, &["--parallelism", "1"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let state = portal.state();
    let deal = room(&state, "Deal room");
    assert_eq!(deal["color"], "1b6ca8");
    assert_eq!(deal["cover"], "book_open");
    assert_eq!(deal["indexing"], true);
    assert_eq!(deal["lifetime"]["value"], 6);
    assert_eq!(deal["lifetime"]["period"], 1);
    assert_eq!(deal["watermark"]["text"], "Confidential");
    assert_eq!(deal["watermark"]["additions"], 2 | 16);
    assert_eq!(deal["watermark"]["rotate"], -45);
    assert_eq!(room(&state, "Team")["color"], "00ff00");

    portal.reset_stats().await;
    let (run, _) = portal.apply(&manifest, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let stats = portal.stats().await;
    assert_eq!(stats["writes"], 0, "a re-run must not write: {stats}");

    // Every setting changed (the colour only in case, which is no change).
    let (code, plan) = portal.all_formats(SECOND);
    assert_eq!(code, 2, "{plan}");
    snapshot("settings_update_plan", &plan);
    let manifest = portal.manifest(SECOND);
    let (run, report) = portal.apply(&manifest, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let updates: Vec<&Value> = report["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "update_room")
        .collect();
    assert_eq!(updates.len(), 2, "{report:#}");
    assert!(
        updates.iter().all(|e| e["status"] == "applied"),
        "{report:#}"
    );
    let state = portal.state();
    let deal = room(&state, "Deal room");
    assert_eq!(deal["cover"], "anchor");
    assert_eq!(deal["indexing"], false);
    assert_eq!(deal["lifetime"]["value"], 90);
    assert_eq!(deal["lifetime"]["period"], 0);
    assert_eq!(deal["lifetime"]["delete_permanently"], true);
    assert_eq!(deal["watermark"]["additions"], 2 | 8 | 16);
    assert_eq!(room(&state, "Team")["color"], "ff0000");
    let plan = portal.plan(SECOND, &["--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn export_of_room_settings_round_trips_to_a_clean_plan() {
    let portal = Portal::start().await;
    let manifest = portal.manifest(FIRST);
    // One room at a time: the snapshot shows the room id, which must not depend on which
    // concurrent create the sandbox answered first.
    let (run, _) = portal.apply(&manifest, &["--parallelism", "1"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let export = portal.run(&["export"]);
    assert_eq!(export.code, 0, "{}", export.stderr);
    let deal: String = export
        .stdout
        .split("  - title: ")
        .find(|r| r.starts_with("Deal room"))
        .unwrap()
        .to_string();
    insta::assert_snapshot!("settings_export_room", portal.scrub(&deal));
    let plan = portal.plan(&export.stdout, &["--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
}

#[test]
fn a_setting_the_room_type_does_not_take_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rooms.yaml");
    std::fs::write(
        &path,
        "version: 1\nrooms:\n  - title: Team\n    type: collaboration\n    watermark: {text: Secret}\n",
    )
    .unwrap();
    let run = crate::common::run(["validate", path.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    insta::assert_snapshot!(
        "settings_refused_for_type",
        crate::common::scrub(&run.stderr, dir.path())
    );
}

/// A change made by hand to a saved plan's JSON.
type Edit = fn(&mut Value);

/// A saved plan whose settings were edited by hand into values the server would refuse, or
/// that carries a resend (never saved by `plan`), applies none of the edited items: they are
/// not what planning again from the plan's desired state makes, so they are reported stale
/// as edits, and a room whose create was edited is not created at all.
#[tokio::test(flavor = "multi_thread")]
async fn hand_edited_settings_in_a_saved_plan_are_never_sent() {
    let edits: [(&str, Edit); 3] = [
        ("lifetime", |p| {
            p["rooms"][0]["items"][0]["settings"]["lifetime"]["value"] = 0.into()
        }),
        ("watermark-on-collaboration", |p| {
            p["rooms"][1]["items"][0]["settings"]["watermark"] =
                serde_json::json!({"text": "x", "additions": [], "rotation": 0})
        }),
        ("resend", |p| {
            p["rooms"][0]["items"]
                .as_array_mut()
                .unwrap()
                .push(serde_json::json!({
                    "key": {"kind": "person", "email": "a@x.test"}, "action": "resend_invitation",
                    "target": {"kind": "user", "id": "u", "email": "a@x.test"}, "age_hours": 400
                }))
        }),
    ];
    for (name, edit) in edits {
        // A portal of its own per edit, so that each run starts from the same state.
        let portal = Portal::start().await;
        let saved = portal.dir.join("plan.json");
        let run = portal.plan(FIRST, &["--out", saved.to_str().unwrap()]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let mut plan: Value =
            serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
        edit(&mut plan);
        std::fs::write(&saved, serde_json::to_vec_pretty(&plan).unwrap()).unwrap();
        let run = portal.run(&["apply", "--plan", saved.to_str().unwrap(), "--auto-approve"]);
        assert_eq!(run.code, 3, "{name}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr
                .contains("skipped as stale (the saved plan was edited"),
            "{name}: {}",
            run.stderr
        );
        let state = portal.state();
        let titles: Vec<&str> = state["rooms"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r["title"].as_str())
            .collect();
        let stats = portal.stats().await;
        if name == "resend" {
            assert_eq!(
                stats["routes"]["PUT /api/2.0/people/invite"],
                Value::Null,
                "{stats}"
            );
            assert_eq!(
                stats["routes"]["POST /api/2.0/files/rooms/{id}/resend"],
                Value::Null,
                "{stats}"
            );
        } else {
            let edited = if name == "lifetime" { 0 } else { 1 };
            let title = plan["rooms"][edited]["title"].as_str().unwrap();
            assert!(!titles.contains(&title), "{name}: {title} was created");
        }
    }
}

/// A second sandbox started from `portal`'s state after `edit` changed it: a portal prepared
/// by hand (an uploaded logo, a setting the server ignores).
async fn edited(portal: &Portal, edit: impl FnOnce(&mut Value)) -> Portal {
    let mut state = portal.state();
    edit(&mut state);
    let state: docspace_provision::sandbox::state::PortalState =
        serde_json::from_value(state).unwrap();
    Portal::seeded(crate::common::quick(), move |s| *s = state).await
}

fn room_mut<'a>(state: &'a mut Value, title: &str) -> &'a mut Value {
    state["rooms"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|r| r["title"] == title)
        .unwrap()
}

/// Issue 22: the server returns no colour and no cover for a room with an uploaded logo
/// (`RoomLogoManager.GetLogoAsync`). Such a room converges: the plan notes it once and plans
/// no update whatever the manifest's colour and cover, apply writes nothing, and export
/// leaves both out.
#[tokio::test(flavor = "multi_thread")]
async fn a_room_with_an_uploaded_logo_converges_and_says_so() {
    let first = Portal::start().await;
    let (run, _) = first.apply(&first.manifest(FIRST), &["--parallelism", "1"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let portal = edited(&first, |s| {
        room_mut(s, "Deal room")["logo_uploaded"] = Value::Bool(true);
    })
    .await;
    // Another colour and cover than the room stores: still nothing to do.
    let other = FIRST
        .replace("color: '#1B6CA8'", "color: '#FF0000'")
        .replace("cover: book_open", "cover: anchor");
    let plan = portal.plan(&other, &["--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    let note = "the room has an uploaded logo: `color`/`cover` are not managed while it has one";
    assert_eq!(plan.stdout.matches(note).count(), 1, "{}", plan.stdout);
    let json = portal.plan(&other, &["--format", "json"]);
    assert!(json.stdout.contains("\"uploaded_logo\""), "{}", json.stdout);

    portal.reset_stats().await;
    let (run, _) = portal.apply(&portal.manifest(&other), &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let stats = portal.stats().await;
    assert_eq!(
        stats["writes"], 0,
        "a room with a logo must converge: {stats}"
    );

    let export = portal.run(&["export"]);
    assert_eq!(export.code, 0, "{}", export.stderr);
    let deal = export
        .stdout
        .split("  - title: ")
        .find(|r| r.starts_with("Deal room"))
        .unwrap();
    assert!(
        !deal.contains("color:") && !deal.contains("cover:"),
        "{deal}"
    );
    assert!(deal.contains("indexing: true"), "{deal}");
}

/// Issue 22: an update is checked against its answer, as shares are read back: a setting
/// the portal accepted and ignored fails its item with the reason, never "applied".
#[tokio::test(flavor = "multi_thread")]
async fn an_update_the_portal_ignores_fails_with_the_reason() {
    let first = Portal::start().await;
    let (run, _) = first.apply(&first.manifest(FIRST), &["--parallelism", "1"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let portal = edited(&first, |s| {
        room_mut(s, "Team")["ignore_settings"] = serde_json::json!(["color"]);
    })
    .await;
    let manifest = portal.manifest(&FIRST.replace("color: 00ff00", "color: FF0000"));
    let (run, report) = portal.apply(&manifest, &[]);
    assert_ne!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let update = report["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "update_room" && e["key"] == "Team")
        .unwrap();
    assert_eq!(update["status"], "failed", "{report:#}");
    let message = update["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("does not show `color`: it ignored them"),
        "{message}"
    );
    assert_eq!(room(&portal.state(), "Team")["color"], "00ff00");
}

/// Issue 22: a create is checked against its answer as an update is. A portal that creates
/// the room but drops a setting asked on create (here the cover, through the sandbox's
/// `ignore_settings_on_create`) fails that room's create with the reason naming the setting,
/// not "applied"; the other room of the run is created and applied; the exit code is not 0.
#[tokio::test(flavor = "multi_thread")]
async fn a_create_whose_answer_drops_a_setting_fails_that_room_only() {
    let portal = Portal::seeded(crate::common::quick(), |s| {
        s.ignore_settings_on_create = vec!["cover".to_string()];
    })
    .await;
    let (run, report) = portal.apply(&portal.manifest(FIRST), &["--parallelism", "1"]);
    assert_ne!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let entries = report["entries"].as_array().unwrap();
    let create = |title: &str| {
        entries
            .iter()
            .find(|e| e["action"] == "create_room" && e["key"] == title)
            .unwrap_or_else(|| panic!("no create of {title}: {report:#}"))
    };
    let deal = create("Deal room");
    assert_eq!(deal["status"], "failed", "{report:#}");
    let message = deal["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("the portal accepted the create but its answer does not show `cover`"),
        "{message}"
    );
    assert!(
        !message.contains("color"),
        "only the dropped setting: {message}"
    );
    assert_eq!(create("Team")["status"], "applied", "{report:#}");
    let state = portal.state();
    assert!(room(&state, "Deal room")["cover"].is_null(), "{state}");
    assert_eq!(room(&state, "Deal room")["color"], "1b6ca8");
    assert_eq!(room(&state, "Team")["color"], "00ff00");
}
