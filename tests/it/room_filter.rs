//! Targeted runs (`plan` / `apply --room PATTERN`) through the real binary against a sandbox:
//! only the selected manifest rooms are planned and changed, the others are neither created
//! nor changed (write counts and the sandbox's state), the plan says it is partial, a pattern
//! that selects nothing is an error before any write, and the options that are about the
//! whole portal (`--prune`, `--resend-pending`) or about a saved plan are refused.

use serde_json::Value;

use crate::common::{Portal, state_room};

const UMA: &str = "uma.user@sandbox.test";

/// Three rooms: `Alpha` and `Gamma` are new; `Beta` exists and would get an invitee.
fn three() -> String {
    format!(
        "version: 1\nrooms:\n  - title: Alpha\n    type: custom\n    invitees:\n      - email: {UMA}\n        access: editing\n  - title: Beta\n    type: custom\n    invitees:\n      - email: {UMA}\n        access: read\n  - title: Gamma\n    type: custom\n"
    )
}

fn titles(state: &Value) -> Vec<String> {
    let mut t: Vec<String> = state["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap().to_string())
        .collect();
    t.sort();
    t
}

fn shares(state: &Value, title: &str) -> usize {
    state_room(state, title)["shares"]
        .as_array()
        .map_or(0, Vec::len)
}

fn report_rooms(report: &Value) -> Vec<String> {
    let mut rooms: Vec<String> = report["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["room"].as_str().unwrap_or_default().to_string())
        .collect();
    rooms.dedup();
    rooms
}

fn plan_json(portal: &Portal, args: &[&str]) -> Value {
    let mut all = vec!["plan"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let run = portal.run(&all);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    serde_json::from_str(&run.stdout).unwrap()
}

fn planned_titles(plan: &Value) -> Vec<&str> {
    plan["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn one_room_of_three_is_planned_and_applied_and_nothing_else_is_touched() {
    let portal = Portal::start().await;
    portal.create_room("Beta", 5).await;
    let path = portal.manifest(&three());
    let file = path.to_str().unwrap();
    let before = portal.state();
    let beta_shares = shares(&before, "Beta");

    // The plan names the filter, shows only Alpha, and counts only Alpha. Beta's members are
    // not read: only the listing, which identity needs.
    portal.reset_stats().await;
    let plan = portal.run(&["plan", file, "--room", "Alpha", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
    let stats = portal.stats().await;
    assert!(
        stats["routes"]["GET /api/2.0/files/rooms/{id}/share"].is_null(),
        "{stats:#}"
    );
    assert_eq!(stats["writes"], 0);
    assert!(
        plan.stdout
            .contains("Partial plan: only rooms matching \"Alpha\" (--room)"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("\"Alpha\""), "{}", plan.stdout);
    assert!(
        !plan.stdout.contains("Beta") && !plan.stdout.contains("Gamma"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("Plan: 1 room to create, 0 to update"),
        "{}",
        plan.stdout
    );
    let markdown = portal.run(&["plan", file, "--room", "Alpha", "--format", "markdown"]);
    assert!(
        markdown
            .stdout
            .contains("Partial plan: only rooms matching `Alpha` (--room)"),
        "{}",
        markdown.stdout
    );

    portal.reset_stats().await;
    let (run, report) = portal.apply(&path, &["--room", "Alpha"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    // One create and one share batch: nothing for Beta or Gamma.
    assert_eq!(portal.stats().await["writes"], 2);
    assert_eq!(report_rooms(&report), ["Alpha"], "{report:#}");
    let state = portal.state();
    assert_eq!(titles(&state), ["Alpha", "Beta"], "Gamma is not created");
    assert_eq!(shares(&state, "Alpha"), 1, "{state:#}");
    assert_eq!(shares(&state, "Beta"), beta_shares, "Beta is not changed");

    // --detailed-exitcode covers the selected rooms only: Alpha is in step, though Beta and
    // Gamma still differ.
    portal.reset_stats().await;
    let again = portal.run(&["plan", file, "--room", "Alpha", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    assert!(
        again
            .stdout
            .contains("No changes. The selected rooms match the manifest."),
        "{}",
        again.stdout
    );
    let whole = portal.run(&["plan", file, "--detailed-exitcode"]);
    assert_eq!(whole.code, 2, "{}{}", whole.stdout, whole.stderr);
    let stats = portal.stats().await;
    assert_eq!(stats["writes"], 0);
    // Member lists: Alpha's for the filtered plan, Alpha's and Beta's for the whole one.
    assert_eq!(stats["routes"]["GET /api/2.0/files/rooms/{id}/share"], 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_glob_selects_every_matching_room_and_the_json_plan_carries_the_filter() {
    let portal = Portal::start().await;
    let path = portal.manifest(
        "version: 1\nrooms:\n  - title: Proj One\n    type: custom\n  - title: Proj Two\n    type: custom\n  - title: Team A\n    type: custom\n  - title: Team AB\n    type: custom\n",
    );
    let file = path.to_str().unwrap();

    let plan = plan_json(&portal, &[file, "--room", "Proj*"]);
    assert_eq!(planned_titles(&plan), ["Proj One", "Proj Two"]);
    assert_eq!(
        plan["options"]["filter"],
        serde_json::json!({"rooms": ["Proj*"]})
    );
    // The plan says it is partial at the top level too.
    assert_eq!(plan["filter"], serde_json::json!({"rooms": ["Proj*"]}));
    assert_eq!(plan["summary"]["rooms_to_create"], 2);
    // `?` is one character; patterns add up; a title matched twice is planned once.
    let plan = plan_json(
        &portal,
        &[
            file, "--room", "Team ?", "--room", "Proj One", "--room", "Proj*",
        ],
    );
    assert_eq!(planned_titles(&plan), ["Proj One", "Proj Two", "Team A"]);
    // Without --room there is no filter in the plan.
    let plan = plan_json(&portal, &[file]);
    assert!(plan["options"].get("filter").is_none(), "{plan:#}");
    assert!(plan.get("filter").is_none(), "{plan:#}");

    let (run, report) = portal.apply(&path, &["--room", "Proj*"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(report_rooms(&report), ["Proj One", "Proj Two"]);
    assert_eq!(titles(&portal.state()), ["Proj One", "Proj Two"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pattern_that_matches_no_room_is_an_error_and_nothing_is_written() {
    let portal = Portal::start().await;
    let path = portal.manifest(&three());
    let file = path.to_str().unwrap();
    portal.reset_stats().await;

    let plan = portal.run(&["plan", file, "--room", "alpha"]);
    assert_eq!(plan.code, 1, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stderr
            .contains("--room `alpha` matches no room of the manifest"),
        "{}",
        plan.stderr
    );
    assert!(
        plan.stderr.contains("did you mean `Alpha`"),
        "{}",
        plan.stderr
    );
    assert!(plan.stdout.is_empty(), "{}", plan.stdout);

    // One good pattern does not excuse a bad one; a far-off pattern lists the titles.
    let (run, report) = portal.apply(&path, &["--room", "Alpha", "--room", "Xylophone*"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("--room `Xylophone*` matches no room"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("`Alpha`, `Beta`, `Gamma`"),
        "{}",
        run.stderr
    );
    assert!(report.is_null() || report["entries"] == serde_json::json!([]));
    assert_eq!(portal.stats().await["writes"], 0);
    assert!(titles(&portal.state()).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn room_is_refused_with_prune_resend_pending_and_a_saved_plan() {
    let portal = Portal::start().await;
    let path = portal.manifest(&three());
    let file = path.to_str().unwrap();
    let saved = portal.dir.join("saved.json");
    let saved = saved.to_str().unwrap();
    portal.reset_stats().await;
    for args in [
        vec!["plan", file, "--room", "Alpha", "--prune"],
        vec![
            "apply",
            file,
            "--room",
            "Alpha",
            "--prune",
            "--auto-approve",
        ],
        vec![
            "apply",
            file,
            "--room",
            "Alpha",
            "--resend-pending",
            "--auto-approve",
        ],
        vec![
            "apply",
            "--plan",
            saved,
            "--room",
            "Alpha",
            "--auto-approve",
        ],
    ] {
        let run = portal.run(&args);
        assert_eq!(run.code, 1, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains("cannot be used with"),
            "{args:?}: {}",
            run.stderr
        );
        assert!(run.stderr.contains("--room"), "{args:?}: {}", run.stderr);
    }
    let stats = portal.stats().await;
    assert_eq!(stats["total"], 0, "refused before the portal is read");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_filtered_plan_applies_only_its_room() {
    let portal = Portal::start().await;
    portal.create_room("Beta", 5).await;
    let path = portal.manifest(&three());
    let file = path.to_str().unwrap();
    let saved = portal.dir.join("saved.json");
    let saved = saved.to_str().unwrap();
    let beta_shares = shares(&portal.state(), "Beta");

    let plan = portal.run(&["plan", file, "--room", "Alpha", "--out", saved]);
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    let stored: Value = serde_json::from_str(&std::fs::read_to_string(saved).unwrap()).unwrap();
    assert_eq!(
        stored["options"]["filter"],
        serde_json::json!({"rooms": ["Alpha"]})
    );
    assert_eq!(planned_titles(&stored), ["Alpha"]);

    portal.reset_stats().await;
    let run = portal.run(&[
        "apply",
        "--plan",
        saved,
        "--auto-approve",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("Partial plan: only rooms matching \"Alpha\""),
        "{}",
        run.stderr
    );
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report_rooms(&report), ["Alpha"], "{report:#}");
    assert!(
        !run.stderr.contains("stale"),
        "the other rooms are not in the saved plan, so not stale: {}",
        run.stderr
    );
    assert_eq!(portal.stats().await["writes"], 2);
    let state = portal.state();
    assert_eq!(titles(&state), ["Alpha", "Beta"]);
    assert_eq!(shares(&state, "Beta"), beta_shares);
}

#[tokio::test(flavor = "multi_thread")]
async fn identity_still_sees_the_rooms_left_out() {
    let portal = Portal::start().await;
    let id = portal.create_room("Beta", 5).await;
    // Alpha pins the live room titled Beta; the manifest's Beta would match it by title.
    let path = portal.manifest(&format!(
        "version: 1\nrooms:\n  - title: Alpha\n    type: custom\n    id: {id}\n  - title: Beta\n    type: custom\n    invitees:\n      - email: {UMA}\n        access: read\n"
    ));
    portal.reset_stats().await;
    let run = portal.run(&["plan", path.to_str().unwrap(), "--room", "Beta"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("but room `Alpha` already pins that id"),
        "{}",
        run.stderr
    );
    assert_eq!(portal.stats().await["writes"], 0);
}

/// A room left out by `--room` is still its manifest entry's: a selected create with the same
/// people is not "a rename of" it (the rename note is for rooms no manifest room matches).
#[tokio::test(flavor = "multi_thread")]
async fn a_room_left_out_is_not_taken_for_a_renamed_room() {
    let portal = Portal::start().await;
    let people = "    invitees:\n      - email: uma.user@sandbox.test\n        access: read\n      - email: mia.marketing@sandbox.test\n        access: editing\n      - email: sam.sales@sandbox.test\n        access: read\n";
    let both = format!(
        "version: 1\nrooms:\n  - title: Beta\n    type: custom\n{people}  - title: New\n    type: custom\n{people}"
    );
    let path = portal.manifest(&both);
    let (run, _) = portal.apply(&path, &["--room", "Beta"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let plan = portal.run(&["plan", path.to_str().unwrap(), "--room", "New"]);
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    assert!(plan.stdout.contains("+ room \"New\""), "{}", plan.stdout);
    assert!(!plan.stdout.contains("rename"), "{}", plan.stdout);
    // Control: with Beta gone from the manifest, the same create is noted as its rename.
    let alone = portal.manifest(&format!(
        "version: 1\nrooms:\n  - title: New\n    type: custom\n{people}"
    ));
    let plan = portal.run(&["plan", alone.to_str().unwrap()]);
    assert!(
        plan.stdout.contains("looks like a rename of \"Beta\""),
        "{}",
        plan.stdout
    );
}

/// `export --room` uses the same matcher, against the portal's titles: an exact title still
/// matches only itself.
#[tokio::test(flavor = "multi_thread")]
async fn export_takes_the_same_patterns() {
    let portal = Portal::start().await;
    for title in ["Proj One", "Proj Two", "Team A"] {
        portal.create_room(title, 5).await;
    }
    let run = portal.run(&["export", "--room", "Proj*"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("Proj One") && run.stdout.contains("Proj Two"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("Team A"), "{}", run.stdout);
    let run = portal.run(&["export", "--room", "Proj One"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stdout.contains("Proj Two"), "{}", run.stdout);
    let run = portal.run(&["export", "--room", "Proj"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr.contains("no room titled `Proj`"),
        "{}",
        run.stderr
    );
}
