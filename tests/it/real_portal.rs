//! What real portals contain and do (docs/docspace-api.md), one test per rule, each through
//! the real binary against the sandbox, whose server rules are written independently of the
//! client's: emoji titles stored with two underscores per character, case-insensitive tags,
//! rooms in connected storage, people paged in a total order, case-sensitive email lookups,
//! reads that leave no trace, and archive operations that fail.

use serde_json::{Value, json};

use crate::common::Portal;

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
"#;

#[tokio::test(flavor = "multi_thread")]
async fn an_emoji_title_and_mixed_case_tags_converge_and_a_second_apply_writes_nothing() {
    let portal = Portal::start().await;
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
        .find(|r| r["id"] != other)
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
    // Exactly one room carries the title: no duplicate was created.
    let rooms = portal.state()["rooms"].as_array().unwrap().len();
    assert_eq!(rooms, 2);
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
