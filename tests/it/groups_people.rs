//! Groups and people as code through the binary against the sandbox: one apply makes the
//! people, the groups (one from a CSV file) and a room shared with a new group; planning
//! again is clean and a second apply writes nothing; a removal from an exact group needs
//! `--allow-removals`; a downgrade is refused at plan time; a group changed by hand is
//! drift; export round-trips.

use serde_json::Value;

use crate::common::Portal;

const MANIFEST: &str = "version: 1
people:
  - {email: nora.new@sandbox.test, type: room-admin}
  - {email: ned.new@sandbox.test, type: user}
  - {email: olga.new@sandbox.test, type: user}
  - {email: dave.new@sandbox.test, type: docspace-admin}
  - {email: uma.user@sandbox.test, type: room-admin}
groups:
  - name: Engineering
    manager: nora.new@sandbox.test
    people: [ned.new@sandbox.test, uma.user@sandbox.test]
    members: exact
  - name: Sales Team
    people_from: team.csv
rooms:
  - title: Eng Room
    type: collaboration
    invitees:
      - {group: Engineering, access: editing}
";

const CSV: &str = "name,email\nOlga,olga.new@sandbox.test\nMia,mia.marketing@sandbox.test\n\"Sam, Sales\",sam.sales@sandbox.test\n";

fn entries(report: &Value) -> &Vec<Value> {
    report["entries"].as_array().expect("entries")
}

fn setup(portal: &Portal, manifest: &str) -> std::path::PathBuf {
    let path = portal.manifest(manifest);
    std::fs::write(path.with_file_name("team.csv"), CSV).unwrap();
    path
}

fn group<'a>(state: &'a Value, name: &str) -> &'a Value {
    state["groups"]
        .as_array()
        .expect("groups in the state")
        .iter()
        .find(|g| g["name"] == name)
        .unwrap_or_else(|| panic!("no group {name}: {state:#}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn people_groups_and_a_room_shared_with_a_new_group_apply_in_one_run() {
    let portal = Portal::start().await;
    let manifest = setup(&portal, MANIFEST);
    let plan = portal.plan(MANIFEST, &["--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
    for line in [
        "invite nora.new@sandbox.test as room-admin",
        "type of uma.user@sandbox.test: user -> room-admin",
        "+ group \"Engineering\", manager nora.new@sandbox.test (invited by this plan)",
        "group \"Sales Team\": add sam.sales@sandbox.test",
        "invite group Engineering (created by this plan) as editing",
    ] {
        assert!(plan.stdout.contains(line), "{line}\n{}", plan.stdout);
    }
    let (run, report) = portal.apply(&manifest, &["--format", "json"]);
    assert_eq!(run.code, 0, "{}\n{report:#}", run.stderr);
    let statuses: Vec<(&str, &str)> = entries(&report)
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["status"].as_str().unwrap()))
        .collect();
    assert!(
        statuses.iter().all(|(_, s)| *s == "applied"),
        "{statuses:?}"
    );
    for action in [
        "invite_person",
        "change_user_type",
        "create_group",
        "add_group_member",
        "create_room",
        "invite",
    ] {
        assert!(
            statuses.iter().any(|(a, _)| *a == action),
            "{action}: {statuses:?}"
        );
    }
    let state = portal.state();
    let eng = group(&state, "Engineering");
    let room = crate::common::state_room(&state, "Eng Room");
    assert!(
        room.to_string().contains(eng["id"].as_str().unwrap()),
        "the room is shared with the new group: {room:#}"
    );

    let again = portal.plan(MANIFEST, &["--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    portal.reset_stats().await;
    let (run, report) = portal.apply(&manifest, &["--format", "json"]);
    assert_eq!(run.code, 0, "{}\n{report:#}", run.stderr);
    assert_eq!(portal.stats().await["writes"], 0, "a re-run must not write");
}
