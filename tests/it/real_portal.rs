//! What real portals contain and do (docs/docspace-api.md), one test per rule, each through
//! the real binary against the sandbox, whose server rules are written independently of the
//! client's: emoji titles stored with two underscores per character, case-insensitive tags,
//! rooms in connected storage, people paged in a total order, case-sensitive email lookups,
//! reads that leave no trace, and archive operations that fail.

use docspace_provision::cli::FaultArgs;
use docspace_provision::sandbox::state::{PortalState, ThirdPartyRoom};
use serde_json::{Value, json};

use crate::common::{Portal, quick};

/// The demo seed's key user (the owner).
const OWNER: &str = "5a4db0c5-0000-4000-8000-000000000001";

/// A portal that also keeps a room in connected storage (Box), titled like a manifest room.
fn with_connected_room(state: &mut PortalState) {
    let mut room = ThirdPartyRoom::new("sbox-3-7", "Partner share", 2);
    room.tags = vec!["partners".into()];
    state.third_party_rooms.push(room);
}

fn entries(report: &Value) -> &Vec<Value> {
    report["entries"].as_array().expect("a report with entries")
}

const EMOJI_AND_TAGS: &str = r#"version: 1
rooms:
  - title: "🚀 Launch: Q3"
    type: collaboration
    tags: [Acme, launch]
    invitees:
      - email: Example.User@Mail.com
        access: editing
  - title: Partner share
    type: collaboration
"#;

#[tokio::test(flavor = "multi_thread")]
async fn an_emoji_title_and_mixed_case_tags_converge_and_a_second_apply_writes_nothing() {
    // The portal also holds a room in connected storage, titled like a manifest room.
    let portal = Portal::seeded(quick(), with_connected_room).await;
    // The portal already has the tag `acme` (on another room).
    let other = portal.create_room("Other", 2).await;
    portal
        .call(
            reqwest::Method::PUT,
            &format!("/api/2.0/files/rooms/{other}/tags"),
            Some(json!({"names": ["acme"]})),
        )
        .await;
    let manifest = portal.manifest(EMOJI_AND_TAGS);

    let plan = portal.run(&["plan", manifest.to_str().unwrap()]);
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    // The stored form is shown, and the tag spelling the portal will keep.
    assert!(
        plan.stderr.contains("`__ Launch_ Q3`"),
        "stored form: {}",
        plan.stderr
    );
    assert!(
        plan.stdout
            .contains("tag \"Acme\" will take the portal's existing spelling \"acme\""),
        "{}",
        plan.stdout
    );
    // The connected-storage room is reported, and never taken for the manifest's room.
    assert!(
        plan.stdout
            .contains("Note: 1 room in connected storage is not managed"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains(
            "a room with this title is kept in connected storage (Box, id sbox-3-7); this tool cannot manage such rooms"
        ),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("Plan: 2 rooms to create"),
        "{}",
        plan.stdout
    );

    let (run, report) = portal.apply(&manifest, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        entries(&report).iter().all(|e| e["status"] == "applied"),
        "{report:#}"
    );
    // The portal stored what the server's rules say, independently of the client.
    let state = portal.state();
    let room = state["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] != other && r["title"] != "Partner share")
        .expect("the new room");
    assert_eq!(room["title"], "__ Launch_ Q3");
    let mut tags: Vec<String> = room["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    tags.sort();
    assert_eq!(tags, ["acme", "launch"]);

    let again = portal.run(&["plan", manifest.to_str().unwrap(), "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);

    portal.reset_stats().await;
    let (run, report) = portal.apply(&manifest, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        entries(&report).iter().all(|e| e["status"] == "unchanged"),
        "{report:#}"
    );
    let stats = portal.stats().await;
    assert_eq!(stats["writes"], 0, "a re-run must not write: {stats}");
    // No duplicate was created: "Other" and the two manifest rooms; the connected room is
    // untouched.
    let state = portal.state();
    assert_eq!(state["rooms"].as_array().unwrap().len(), 3);
    assert_eq!(state["third_party_rooms"][0]["tags"], json!(["partners"]));
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_and_export_make_no_write_and_change_no_user_setting() {
    let portal = Portal::seeded(quick(), with_connected_room).await;
    portal.create_room("Existing", 2).await;
    let manifest = portal.manifest(EMOJI_AND_TAGS);
    let before = portal.state()["room_sort"].clone();
    portal.reset_stats().await;

    let plan = portal.run(&["plan", manifest.to_str().unwrap()]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let export = portal.run(&["export"]);
    assert_eq!(export.code, 0, "{}", export.stderr);
    // Connected-storage rooms are written as comments, never as managed rooms.
    assert!(
        export.stdout.contains(
            "# skipped room \"Partner share\" (id \"sbox-3-7\", Box): kept in connected storage"
        ) || export
            .stdout
            .contains("# skipped room Partner share (id sbox-3-7, Box)"),
        "{}",
        export.stdout
    );
    assert!(!export.stdout.contains("id: sbox"), "{}", export.stdout);

    let stats = portal.stats().await;
    assert_eq!(stats["writes"], 0, "reads must not write: {stats}");
    // The key user's saved sort order in the web UI is untouched: no `sortBy` was sent.
    assert_eq!(portal.state()["room_sort"], before);
    assert!(portal.state()["room_sort"].get(OWNER).is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_archive_refused_by_the_server_fails_that_item_with_the_servers_message() {
    let portal = Portal::with(FaultArgs {
        fail_archive: vec!["Vault".into()],
        ..quick()
    })
    .await;
    let manifest = portal.manifest(
        "version: 1\nrooms:\n  - title: Vault\n    type: collaboration\n    state: archived\n  - title: Open\n    type: collaboration\n",
    );
    let (run, report) = portal.apply(&manifest, &[]);
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let archive = entries(&report)
        .iter()
        .find(|e| e["action"] == "archive")
        .expect("an archive item");
    assert_eq!(archive["status"], "failed", "{report:#}");
    let message = archive["error"]["message"].as_str().unwrap();
    // The operation's own error, not "was not archived after 120 s".
    assert!(
        message.contains("You don't have enough permission to archive the room"),
        "{message}"
    );
    assert!(!message.contains("after 120 s"), "{message}");
    // The other room is unaffected.
    assert!(
        entries(&report)
            .iter()
            .filter(|e| e["room"] == "Open")
            .all(|e| e["status"] == "applied"),
        "{report:#}"
    );
}

/// 250 accounts whose first names tie (the server's default people order is status, then
/// first name), one of them a room admin far down the list.
fn crowded(state: &mut PortalState) {
    let template = state.users[3].clone(); // uma.user@sandbox.test, a User
    for n in 0..250u128 {
        let mut u = template.clone();
        u.id = uuid::Uuid::from_u128(0x7000_0000_0000_4000_8000_0000_0000_0000 | n);
        u.email = format!("alex{n:03}@crowd.test");
        u.user_name = format!("alex{n:03}");
        u.first_name = "Alex".into();
        u.last_name = format!("{n:03}");
        if n == 201 {
            u.user_type = state.users[2].user_type; // rick: a room admin
        }
        state.users.push(u);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn people_paged_in_a_total_order_find_every_account_on_a_crowded_portal() {
    let portal = Portal::seeded(quick(), crowded).await;
    // Enough emails that the planner lists everyone rather than looking each one up.
    let mut manifest = String::from(
        "version: 1\nrooms:\n  - title: Crowd\n    type: collaboration\n    invitees:\n      - email: alex201@crowd.test\n        access: room-manager\n",
    );
    for n in (1..250).step_by(3) {
        manifest.push_str(&format!(
            "      - email: alex{n:03}@crowd.test\n        access: read\n"
        ));
    }
    let run = portal.plan(&manifest, &["--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let plan: Value = serde_json::from_str(&run.stdout).unwrap();
    let items = plan["rooms"][0]["items"].as_array().unwrap();
    // Every account was found: nobody is planned as a new guest, and the room admin far down
    // the list may be a room manager.
    assert!(
        items.iter().all(|i| i["target"]["kind"] != "new_guest"),
        "{items:#?}"
    );
    assert_eq!(plan["summary"]["new_guests"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn emails_converge_on_a_case_sensitive_install_without_a_second_account() {
    let portal = Portal::seeded(
        FaultArgs {
            case_sensitive_emails: true,
            ..quick()
        },
        |state| {
            // Stored with capitals, as a directory sync writes them.
            state.users[3].email = "Uma.User@Sandbox.test".into();
        },
    )
    .await;
    let accounts = portal.state()["users"].as_array().unwrap().len();
    // Written in lower case in the manifest, and once more in yet another spelling.
    let manifest = portal.manifest(
        "version: 1\nrooms:\n  - title: Cases\n    type: collaboration\n    invitees:\n      - email: uma.user@sandbox.test\n        access: editing\n      - email: Gus.Guest@sandbox.test\n        access: read\n",
    );
    let plan = portal.run(&["plan", manifest.to_str().unwrap(), "--format", "json"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let plan: Value = serde_json::from_str(&plan.stdout).unwrap();
    assert_eq!(plan["summary"]["new_guests"], 0, "{plan:#}");

    let (run, report) = portal.apply(&manifest, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        entries(&report).iter().all(|e| e["status"] == "applied"),
        "{report:#}"
    );
    // No second account was created for either person.
    assert_eq!(portal.state()["users"].as_array().unwrap().len(), accounts);
    let again = portal.run(&["plan", manifest.to_str().unwrap(), "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_create_close_to_an_existing_title_gets_a_hint_naming_that_room() {
    let portal = Portal::start().await;
    let id = portal.create_room("Sales Team", 2).await;
    let run = portal.plan(
        "version: 1\nrooms:\n  - title: sales team\n    type: collaboration\n  - title: Sales Teams\n    type: collaboration\n",
        &[],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let hint = format!(
        "an existing room has a similar title: \"Sales Team\" (id {id}); if it is this room (renamed in the web UI), pin it with `id: {id}`"
    );
    assert_eq!(run.stdout.matches(&hint).count(), 2, "{}", run.stdout);
    // A hint, not a match: both are still planned as creates.
    assert!(
        run.stdout.contains("Plan: 2 rooms to create"),
        "{}",
        run.stdout
    );
}
