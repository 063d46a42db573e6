//! Outputs that finish the story (issue 21 items 4 and 5), through the real binary against the
//! sandbox: `apply` ends with the rooms it created and their ids, the elapsed time and one
//! closing sentence; `-q` prints nothing on success; `--color always` colours `doctor` as it
//! does `plan`; `--resend-pending 1h` (the age read as a manifest path) gets a hint; a resend
//! run with nothing to resend says so; and the small wording fixes (no repeated type line, no
//! pending note for someone the plan removes, pending notes of rooms in step summed up, no
//! "nothing was changed" from `validate`, guarded archives left out of the write count).
//!
//! Elapsed times are never asserted: the snapshots replace them with `[ELAPSED]`.

use chrono::{Duration, Utc};
use docspace_provision::cli::FaultArgs;

use crate::common::{Portal, quick, run};

/// A snapshot with the elapsed time, the port and the temporary directory scrubbed.
fn snapshot(name: &str, text: &str) {
    insta::with_settings!({filters => vec![
        (r"in \d+\.\d s|in \d+ min \d+ s", "in [ELAPSED]"),
    ]}, {
        insta::assert_snapshot!(name, text);
    });
}

fn rooms(titles: &[&str]) -> String {
    let mut m = String::from("version: 1\nrooms:\n");
    for t in titles {
        m.push_str(&format!(
            "  - title: {t}\n    type: collaboration\n    invitees:\n      - email: {}@sandbox.test\n        access: editing\n",
            t.to_lowercase().replace(' ', ".")
        ));
    }
    m
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_ends_with_the_rooms_it_created_the_time_and_a_closing_sentence() {
    let portal = Portal::start().await;
    let path = portal.manifest(&rooms(&["Deals"]));
    let (run, report) = portal.apply(&path, &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let id = report["entries"][0]["room_id"].as_i64().unwrap();
    assert!(
        run.stdout.contains(&format!("  \"Deals\" (id {id})")),
        "{}",
        run.stdout
    );
    snapshot("apply_ending_created", &portal.scrub(&run.stdout));

    // Run again: nothing to do, and the sentence says the portal matches.
    let (run, _) = portal.apply(&path, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    snapshot("apply_ending_no_change", &portal.scrub(&run.stdout));
}

#[tokio::test(flavor = "multi_thread")]
async fn more_than_ten_created_rooms_are_counted_and_the_report_lists_their_ids() {
    let portal = Portal::start().await;
    let titles: Vec<String> = (1..=11).map(|n| format!("Room {n:02}")).collect();
    let titles: Vec<&str> = titles.iter().map(String::as_str).collect();
    let path = portal.manifest(&rooms(&titles));
    let (run, report) = portal.apply(&path, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        portal
            .scrub(&run.stdout)
            .contains("Created 11 rooms; the report [TMP]/report.json lists their ids."),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("(id "), "{}", run.stdout);
    let created = report["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "create_room" && e["room_id"].is_i64())
        .count();
    assert_eq!(created, 11);
    // Without --report, the JSON report is named instead.
    let path = portal.manifest(&rooms(&["Annex"]));
    let run = portal.run(&["apply", path.to_str().unwrap(), "--auto-approve"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("Created 1 room:\n"), "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_item_ends_with_exit_3_in_the_closing_sentence() {
    let portal = Portal::with(FaultArgs {
        reject_email: vec!["bad@sandbox.test".into()],
        ..quick()
    })
    .await;
    let path = portal.manifest(
        "version: 1
rooms:
  - title: Deals
    type: collaboration
    invitees:
      - email: bad@sandbox.test
        access: editing
",
    );
    let (run, _) = portal.apply(&path, &[]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    snapshot("apply_ending_failed", &portal.scrub(&run.stdout));

    // -q: a failure is still reported.
    let (run, _) = portal.apply(&path, &["-q"]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("1 item failed: the portal does not fully match (exit 3)."),
        "{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn quiet_apply_prints_nothing_on_success_and_json_is_unaffected() {
    let portal = Portal::start().await;
    let path = portal.manifest(&rooms(&["Deals"]));
    let (run, _) = portal.apply(&path, &["-q"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let quiet = format!(
        "--- apply -q (changes; exit {})\nstdout:\n{}stderr:\n{}",
        run.code, run.stdout, run.stderr
    );
    let (run, _) = portal.apply(&path, &["-q"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let quiet = format!(
        "{quiet}--- apply -q (no change; exit {})\nstdout:\n{}stderr:\n{}",
        run.code, run.stdout, run.stderr
    );
    snapshot("apply_quiet", &quiet);
    let (run, _) = portal.apply(&path, &["-q", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["summary"]["unchanged"], 1, "{json:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn color_always_colours_doctor_and_apply_as_it_does_plan() {
    let portal = Portal::start().await;
    let esc = "\u{1b}[";
    // NO_COLOR is set by the test environment: `always` overrides it, `auto` honours it.
    let doctor = portal.run(&["doctor", "--color", "always"]);
    assert_eq!(doctor.code, 0, "{}", doctor.stderr);
    assert!(doctor.stdout.contains(esc), "{}", doctor.stdout);
    let doctor = portal.run(&["doctor"]);
    assert!(!doctor.stdout.contains(esc), "{}", doctor.stdout);
    let path = portal.manifest(&rooms(&["Deals"]));
    let plan = portal.run(&["plan", path.to_str().unwrap(), "--color", "always"]);
    assert!(plan.stdout.contains(esc), "{}", plan.stdout);
    let apply = portal.run(&[
        "apply",
        path.to_str().unwrap(),
        "--auto-approve",
        "--color",
        "always",
    ]);
    assert_eq!(apply.code, 0, "{}", apply.stderr);
    assert!(apply.stdout.contains(esc), "{}", apply.stdout);
    assert!(apply.stderr.contains(esc), "{}", apply.stderr);
    let apply = portal.run(&["apply", path.to_str().unwrap(), "--auto-approve"]);
    assert!(!apply.stdout.contains(esc), "{}", apply.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_space_separated_resend_age_gets_a_hint_and_nothing_is_written() {
    let portal = Portal::start().await;
    let path = portal.manifest(&rooms(&["Deals"]));
    portal.reset_stats().await;
    let run = portal.run(&[
        "apply",
        path.to_str().unwrap(),
        "--resend-pending",
        "1h",
        "--auto-approve",
    ]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("did you mean `--resend-pending=1h`?"),
        "{}",
        run.stderr
    );
    snapshot("resend_space_separated_age", &portal.scrub(&run.stderr));
    assert_eq!(portal.stats().await["writes"], 0);
    // A real file named like an age is a manifest, whatever it is called.
    let aged = portal.dir.join("2w");
    std::fs::write(&aged, rooms(&["Deals"])).unwrap();
    let run = portal.run(&[
        "apply",
        aged.to_str().unwrap(),
        "--resend-pending",
        "--auto-approve",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_resend_run_with_nothing_to_resend_says_so() {
    let portal = Portal::start().await;
    let path = portal.manifest(&rooms(&["Deals"]));
    let (run, _) = portal.apply(&path, &["--resend-pending=0h"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("No pending invitation is older than 0h: nothing to resend.\n"),
        "{}",
        run.stderr
    );
    let (run, _) = portal.apply(&path, &["--resend-pending"]);
    assert!(
        run.stderr
            .contains("No pending invitation is older than 14d: nothing to resend.\n"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_room_states_its_type_once() {
    let portal = Portal::start().await;
    let path = portal.manifest(&rooms(&["Deals"]));
    let plan = portal.run(&["plan", path.to_str().unwrap()]);
    assert!(
        plan.stdout.contains("+ room \"Deals\" (collaboration)\n"),
        "{}",
        plan.stdout
    );
    assert!(!plan.stdout.contains("type:"), "{}", plan.stdout);
}

/// A person pending in two rooms whose `expires:` passed in one: the plan removes them there
/// and notes no pending invitation for them anywhere (`--resend-pending` would not send it).
#[tokio::test(flavor = "multi_thread")]
async fn no_pending_note_for_someone_the_plan_removes() {
    let now = Utc::now();
    let portal = Portal::seeded(quick(), |s| {
        s.add_pending_user("kim@sandbox.test", now - Duration::days(20));
    })
    .await;
    let both = "version: 1
rooms:
  - title: Deals
    type: collaboration
    invitees:
      - email: kim@sandbox.test
        access: editing
        EXPIRES
  - title: Legal
    type: collaboration
    invitees:
      - email: kim@sandbox.test
        access: editing
";
    let path = portal.manifest(&both.replace("EXPIRES", ""));
    let (run, _) = portal.apply(&path, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let plan = portal.run(&["plan", path.to_str().unwrap(), "-v"]);
    assert!(
        plan.stdout.contains("pending invitation: kim@sandbox.test"),
        "{}",
        plan.stdout
    );
    let path = portal.manifest(&both.replace("EXPIRES", "expires: 2020-01-01"));
    let plan = portal.run(&["plan", path.to_str().unwrap(), "-v"]);
    assert!(
        plan.stdout.contains("- remove kim@sandbox.test"),
        "{}",
        plan.stdout
    );
    assert!(!plan.stdout.contains("pending"), "{}", plan.stdout);
}

/// Pending invitations of rooms in step are one count line (they would repeat on every run
/// that changes nothing); `-v` lists each.
#[tokio::test(flavor = "multi_thread")]
async fn pending_notes_of_rooms_in_step_are_counted_and_listed_with_v() {
    let now = Utc::now();
    let portal = Portal::seeded(quick(), |s| {
        s.add_pending_user("old@sandbox.test", now - Duration::days(20));
        s.add_pending_user("new@sandbox.test", now - Duration::days(2));
    })
    .await;
    let path = portal.manifest(
        "version: 1
rooms:
  - title: Deals
    type: collaboration
    invitees:
      - email: old@sandbox.test
        access: editing
      - email: new@sandbox.test
        access: editing
",
    );
    let (run, _) = portal.apply(&path, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let plan = portal.run(&["plan", path.to_str().unwrap()]);
    let verbose = portal.run(&["plan", path.to_str().unwrap(), "-v"]);
    snapshot(
        "pending_notes_counted",
        &portal.scrub(&format!(
            "--- plan\n{}--- plan -v\n{}",
            plan.stdout, verbose.stdout
        )),
    );
}

#[test]
fn validate_never_says_nothing_was_changed_but_apply_does() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    std::fs::write(
        &path,
        "version: 1\nrooms:\n  - title: X\n    type: nonsense\n",
    )
    .unwrap();
    let validate = run(["validate", path.to_str().unwrap()]);
    assert_eq!(validate.code, 1);
    assert!(
        validate.stderr.contains("error: 1 error\n"),
        "{}",
        validate.stderr
    );
    assert!(!validate.stderr.contains("nothing was changed"));
    let apply = run([
        "apply",
        path.to_str().unwrap(),
        "--auto-approve",
        "--portal",
        "sandbox:never-started.json",
    ]);
    assert_eq!(apply.code, 1);
    assert!(
        apply
            .stderr
            .contains("error: 1 error; nothing was changed\n"),
        "{}",
        apply.stderr
    );
}

#[test]
fn the_top_level_help_uses_the_readme_sandbox_file() {
    let help = run(["--help"]);
    assert!(
        help.stdout.contains("--portal sandbox:sandbox.json"),
        "{}",
        help.stdout
    );
    assert!(!help.stdout.contains("demo.json"), "{}", help.stdout);
}

/// Prunes the archive guard refuses are not counted as writes, and apply sends none.
#[tokio::test(flavor = "multi_thread")]
async fn guarded_archives_are_left_out_of_the_write_count() {
    let portal = Portal::start().await;
    let managed = |titles: &[&str]| {
        let mut m = String::from(
            "version: 1\nmanaged_tag: provisioned\nmanifest_set: [rooms.yaml]\nrooms:\n",
        );
        for t in titles {
            m.push_str(&format!("  - title: {t}\n    type: custom\n"));
        }
        m
    };
    let path = portal.manifest(&managed(&["A", "B", "C", "D"]));
    let (run, _) = portal.apply(&path, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let path = portal.manifest(&managed(&["A", "B"]));
    let plan = portal.run(&["plan", path.to_str().unwrap(), "--prune"]);
    assert!(
        plan.stdout.contains(
            "Apply will send no write request (POST/PUT), leaving out 2 refused by a guard."
        ),
        "{}",
        plan.stdout
    );
    portal.reset_stats().await;
    let (run, _) = portal.apply(&path, &["--prune"]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert_eq!(portal.stats().await["writes"], 0);
    assert!(
        run.stdout
            .contains("2 items were skipped: the portal does not fully match (exit 3)."),
        "{}",
        run.stdout
    );
}

/// `export --check` colours its diff as plans colour their lines, only when asked.
#[tokio::test(flavor = "multi_thread")]
async fn export_check_colours_its_diff_with_color_always() {
    let portal = Portal::start().await;
    let file = portal.dir.join("export.yaml");
    std::fs::write(&file, "version: 1\nrooms: []\n").unwrap();
    portal.create_room("Deals", 2).await;
    let check = portal.run(&[
        "export",
        "--check",
        file.to_str().unwrap(),
        "--color",
        "always",
    ]);
    assert_eq!(check.code, 2, "{}", check.stderr);
    assert!(check.stdout.contains("\u{1b}[32m+"), "{}", check.stdout);
    let check = portal.run(&["export", "--check", file.to_str().unwrap()]);
    assert_eq!(check.code, 2, "{}", check.stderr);
    assert!(!check.stdout.contains('\u{1b}'), "{}", check.stdout);
}
