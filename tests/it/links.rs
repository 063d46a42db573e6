//! Sharing links end to end through the binary against the sandbox (issue 13, item 3): links
//! planned per room and matched by title, created, changed and revoked by apply, passwords
//! taken from the environment and never shown, `links_exact`, the primary links of public and
//! form-filling rooms, saved plans and export.

use serde_json::{Value, json};

use crate::common::{Portal, Run, bin, run_cmd};

/// The link password of these tests: it must appear in no output, file or report.
const PW: &str = "Lk-s3cret-Pw-4417";

/// Runs the binary against `portal` with the link password variable set (or not).
fn run_env(portal: &Portal, args: &[&str], password: Option<&str>) -> Run {
    let mut cmd = bin();
    cmd.args(args)
        .arg("--portal")
        .arg(portal.handle.base_url.as_str())
        .env("DOCSPACE_API_KEY", &portal.handle.api_key)
        .env_remove("LINKS_TEST_PW");
    if let Some(pw) = password {
        cmd.env("LINKS_TEST_PW", pw);
    }
    tokio::task::block_in_place(|| run_cmd(&mut cmd))
}

/// `PARTNER` written and planned with `--out`: the manifest's and the saved plan's paths.
fn saved_partner_plan(portal: &Portal) -> (std::path::PathBuf, std::path::PathBuf) {
    let manifest = portal.manifest(PARTNER);
    let saved = portal.dir.join("plan.json");
    let plan = run_env(
        portal,
        &[
            "plan",
            manifest.to_str().unwrap(),
            "--out",
            saved.to_str().unwrap(),
        ],
        Some(PW),
    );
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    (manifest, saved)
}

/// `apply --plan PLAN --auto-approve --report REPORT` with the link password set.
fn apply_saved(portal: &Portal, plan: &std::path::Path, report: &std::path::Path) -> Run {
    run_env(
        portal,
        &[
            "apply",
            "--plan",
            plan.to_str().unwrap(),
            "--auto-approve",
            "--report",
            report.to_str().unwrap(),
        ],
        Some(PW),
    )
}

fn entries(report: &Value) -> &Vec<Value> {
    report["entries"].as_array().unwrap()
}

/// The links of a room as the sandbox lists them (title, access, has password).
async fn links_of(portal: &Portal, room: i64) -> Vec<(String, i64, bool)> {
    let v = portal
        .call(
            reqwest::Method::GET,
            &format!("/api/2.0/files/rooms/{room}/links"),
            None,
        )
        .await;
    let mut out: Vec<(String, i64, bool)> = v["response"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let l = &r["sharedLink"];
            (
                l["title"].as_str().unwrap_or_default().to_string(),
                r["access"].as_i64().unwrap(),
                l["password"].as_str().is_some_and(|p| !p.is_empty()),
            )
        })
        .collect();
    out.sort();
    out
}

async fn room_id(portal: &Portal, title: &str) -> i64 {
    let v = portal
        .call(reqwest::Method::GET, "/api/2.0/files/rooms", None)
        .await;
    v["response"]["folders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["title"] == title)
        .and_then(|r| r["id"].as_i64())
        .unwrap_or_else(|| panic!("no room {title}: {v}"))
}

const PARTNER: &str = r#"version: 1
rooms:
  - title: Partner Share
    type: custom
    links:
      - title: Clients
        kind: external
        access: read
        deny_download: true
        password_env: LINKS_TEST_PW
      - title: Join us
        kind: invitation
        access: editing
        max_uses: 5
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_link_with_a_password_is_created_then_left_alone_and_never_shown() {
    let portal = Portal::start().await;
    let manifest = portal.manifest(PARTNER);
    let manifest = manifest.to_str().unwrap();
    let saved = portal.dir.join("plan.json");
    let report = portal.dir.join("report.json");

    let plan = run_env(
        &portal,
        &[
            "-vvv",
            "plan",
            manifest,
            "--detailed-exitcode",
            "--out",
            saved.to_str().unwrap(),
        ],
        Some(PW),
    );
    assert_eq!(plan.code, 2, "{}", plan.stderr);
    insta::assert_snapshot!("links_create_plan", portal.scrub(&plan.stdout));
    let json = run_env(&portal, &["plan", manifest, "--format", "json"], Some(PW));
    let md = run_env(
        &portal,
        &["plan", manifest, "--format", "markdown"],
        Some(PW),
    );
    insta::assert_snapshot!("links_create_plan_markdown", portal.scrub(&md.stdout));
    let plan_json: Value = serde_json::from_str(&json.stdout).unwrap();
    let items = plan_json["rooms"][0]["items"].as_array().unwrap();
    let actions: Vec<&str> = items
        .iter()
        .map(|i| i["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["create_room", "create_link", "create_link"]);
    assert_eq!(
        items[1]["link"]["password"],
        json!({"env_name": "LINKS_TEST_PW"}),
        "the plan names the variable only"
    );
    assert_eq!(plan_json["summary"]["links_created"], 2);

    let apply = run_env(
        &portal,
        &[
            "-vvv",
            "apply",
            manifest,
            "--auto-approve",
            "--report",
            report.to_str().unwrap(),
        ],
        Some(PW),
    );
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    let report_text = std::fs::read_to_string(&report).unwrap();
    let report_json: Value = serde_json::from_str(&report_text).unwrap();
    let links: Vec<(&str, &str)> = entries(&report_json)
        .iter()
        .filter(|e| e["action"] == "create_link")
        .map(|e| (e["key"].as_str().unwrap(), e["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        links,
        [
            ("Partner Share / link Clients", "applied"),
            ("Partner Share / link Join us", "applied")
        ]
    );
    let room = room_id(&portal, "Partner Share").await;
    assert_eq!(
        links_of(&portal, room).await,
        [
            ("Clients".to_string(), 2, true),
            ("Join us".to_string(), 10, false)
        ]
    );

    // A second apply with the same password makes no write.
    portal.reset_stats().await;
    let again = run_env(
        &portal,
        &["-vvv", "apply", manifest, "--auto-approve"],
        Some(PW),
    );
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert_eq!(portal.stats().await["writes"], 0, "{}", again.stderr);
    assert!(again.stderr.contains("No changes."), "{}", again.stderr);

    // The password is in no output at -vvv, no saved plan and no report.
    let saved_text = std::fs::read_to_string(&saved).unwrap();
    for (what, text) in [
        ("plan stdout", &plan.stdout),
        ("plan stderr", &plan.stderr),
        ("json plan", &json.stdout),
        ("markdown plan", &md.stdout),
        ("apply stdout", &apply.stdout),
        ("apply stderr", &apply.stderr),
        ("second apply stdout", &again.stdout),
        ("second apply stderr", &again.stderr),
        ("saved plan", &saved_text),
        ("report", &report_text),
    ] {
        assert!(!text.contains(PW), "the password appears in the {what}");
    }
    // -vvv did log the calls (the check above is not vacuous).
    assert!(apply.stderr.contains("/links"), "{}", apply.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_changed_password_is_an_update_that_says_so_and_a_missing_variable_is_an_error() {
    let portal = Portal::start().await;
    let manifest = portal.manifest(PARTNER);
    let manifest = manifest.to_str().unwrap();
    let first = run_env(&portal, &["apply", manifest, "--auto-approve"], Some(PW));
    assert_eq!(first.code, 0, "{}", first.stderr);

    let other = "Another-pass-99";
    let plan = run_env(&portal, &["plan", manifest], Some(other));
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert!(
        plan.stdout
            .contains("~ link \"Clients\" (external): password: changes (from $LINKS_TEST_PW)"),
        "{}",
        plan.stdout
    );
    assert!(!plan.stdout.contains(other) && !plan.stderr.contains(other));
    let apply = run_env(&portal, &["apply", manifest, "--auto-approve"], Some(other));
    assert_eq!(apply.code, 0, "{}", apply.stderr);
    // The new password took: the old one now plans a change again, the new one nothing.
    let plan = run_env(
        &portal,
        &["plan", manifest, "--detailed-exitcode"],
        Some(other),
    );
    assert_eq!(plan.code, 0, "{}", plan.stdout);

    let missing = run_env(&portal, &["plan", manifest], None);
    assert_eq!(missing.code, 1, "{}", missing.stdout);
    insta::assert_snapshot!(
        "links_missing_password_variable",
        portal.scrub(&missing.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn links_exact_revokes_unlisted_links_updates_by_title_and_keeps_the_primary_link() {
    let portal = Portal::start().await;
    let room = portal.create_room("Press Kit", 6).await;
    for (id, title, access) in [
        ("5b0e1d1c-0000-4000-8000-0000000000a1", "Old promo", 2),
        ("5b0e1d1c-0000-4000-8000-0000000000a2", "Reporters", 2),
    ] {
        portal
            .call(
                reqwest::Method::PUT,
                &format!("/api/2.0/files/rooms/{room}/links"),
                Some(json!({"linkId": id, "title": title, "access": access, "linkType": 1})),
            )
            .await;
    }
    let before = links_of(&portal, room).await;
    assert_eq!(before.len(), 3, "{before:?}");
    let manifest = portal.manifest(
        r#"version: 1
rooms:
  - title: Press Kit
    type: public
    links_exact: true
    links:
      - title: Shared link
        kind: external
        access: read
      - title: reporters
        kind: external
        access: comment
        deny_download: true
"#,
    );
    let manifest = manifest.to_str().unwrap();
    let plan = run_env(&portal, &["plan", manifest, "--detailed-exitcode"], None);
    assert_eq!(plan.code, 2, "{}", plan.stderr);
    insta::assert_snapshot!("links_exact_plan", portal.scrub(&plan.stdout));
    let apply = run_env(&portal, &["apply", manifest, "--auto-approve"], None);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    assert_eq!(
        links_of(&portal, room).await,
        [
            ("Shared link".to_string(), 2, false),
            ("reporters".to_string(), 6, false)
        ]
    );
    let again = run_env(&portal, &["plan", manifest, "--detailed-exitcode"], None);
    assert_eq!(again.code, 0, "{}", again.stdout);

    // Without the primary link in the manifest, links_exact keeps it and says why.
    let manifest = portal.manifest(
        r#"version: 1
rooms:
  - title: Press Kit
    type: public
    links_exact: true
    links:
      - title: reporters
        kind: external
        access: comment
        deny_download: true
"#,
    );
    let plan = run_env(&portal, &["plan", manifest.to_str().unwrap()], None);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert!(
        plan.stdout
            .contains("the primary link \"Shared link\" is not in the manifest; it stays"),
        "{}",
        plan.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_form_filling_room_takes_over_its_primary_link_and_a_rerun_writes_nothing() {
    let portal = Portal::start().await;
    let manifest = portal.manifest(
        r#"version: 1
rooms:
  - title: Intake
    type: form-filling
    links:
      - title: Fill the intake form
        kind: external
        access: fill-forms
        password_env: LINKS_TEST_PW
      - title: Clerks
        kind: invitation
        access: content-creator
"#,
    );
    let manifest = manifest.to_str().unwrap();
    let apply = run_env(&portal, &["apply", manifest, "--auto-approve"], Some(PW));
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    let room = room_id(&portal, "Intake").await;
    assert_eq!(
        links_of(&portal, room).await,
        [
            ("Clerks".to_string(), 11, false),
            ("Fill the intake form".to_string(), 7, true)
        ]
    );
    portal.reset_stats().await;
    let again = run_env(&portal, &["apply", manifest, "--auto-approve"], Some(PW));
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(portal.stats().await["writes"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn access_none_revokes_a_link_by_title() {
    let portal = Portal::start().await;
    let manifest = portal.manifest(PARTNER);
    let first = run_env(
        &portal,
        &["apply", manifest.to_str().unwrap(), "--auto-approve"],
        Some(PW),
    );
    assert_eq!(first.code, 0, "{}", first.stderr);
    let manifest = portal.manifest(
        r#"version: 1
rooms:
  - title: Partner Share
    type: custom
    links:
      - title: Clients
        kind: external
        access: none
"#,
    );
    let manifest = manifest.to_str().unwrap();
    let plan = run_env(&portal, &["plan", manifest], None);
    assert!(
        plan.stdout.contains("- revoke link \"Clients\" (external)"),
        "{}",
        plan.stdout
    );
    let apply = run_env(&portal, &["apply", manifest, "--auto-approve"], None);
    assert_eq!(apply.code, 0, "{}", apply.stderr);
    let room = room_id(&portal, "Partner Share").await;
    assert_eq!(
        links_of(&portal, room).await,
        [("Join us".to_string(), 10, false)]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hand_edited_link_item_of_a_saved_plan_is_never_sent() {
    let portal = Portal::start().await;
    let (_, saved) = saved_partner_plan(&portal);
    let mut value: Value = serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    assert_eq!(value["rooms"][0]["items"][2]["action"], "create_link");
    value["rooms"][0]["items"][2]["link"]["access"] = json!("room-manager");
    std::fs::write(&saved, serde_json::to_string_pretty(&value).unwrap()).unwrap();
    let apply = run_env(
        &portal,
        &["apply", "--plan", saved.to_str().unwrap(), "--auto-approve"],
        Some(PW),
    );
    // The rest of the plan is applied; the edited link is not, nor the one planning again
    // makes in its place (the saved plan did not approve it): exit 3.
    assert_eq!(apply.code, 3, "{}", apply.stderr);
    assert!(
        apply
            .stderr
            .contains("skipped as stale (the saved plan was edited"),
        "{}",
        apply.stderr
    );
    let room = room_id(&portal, "Partner Share").await;
    let links = links_of(&portal, room).await;
    let edited = value["rooms"][0]["items"][2]["link"]["title"]
        .as_str()
        .unwrap();
    assert!(
        !links.iter().any(|(title, ..)| title == edited),
        "{links:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn export_writes_links_without_passwords_and_plans_clean() {
    let portal = Portal::start().await;
    // A year ahead, whenever the test runs (a past expiry is refused).
    let expires = (chrono::Utc::now() + chrono::Duration::days(365))
        .format("%Y-%m-%dT12:00:00Z")
        .to_string();
    let manifest = portal.manifest(
        &r#"version: 1
rooms:
  - title: Partner Share
    type: custom
    links:
      - title: "Clients: read only"
        kind: external
        access: read
        expires: EXPIRES
        internal: true
        deny_download: true
        password_env: LINKS_TEST_PW
      - title: Join us
        kind: invitation
        access: editing
        max_uses: 5
  - title: Press Kit
    type: public
"#
        .replace("EXPIRES", &expires),
    );
    let apply = run_env(
        &portal,
        // One room at a time, so that the room ids in the snapshot do not depend on which
        // concurrent create the sandbox answered first.
        &[
            "apply",
            manifest.to_str().unwrap(),
            "--auto-approve",
            "--parallelism",
            "1",
        ],
        Some(PW),
    );
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    let export = run_env(
        &portal,
        &["export", "--room", "Partner Share", "--room", "Press Kit"],
        Some(PW),
    );
    assert_eq!(export.code, 0, "{}", export.stderr);
    assert!(!export.stdout.contains(PW), "the export holds the password");
    assert!(export.stdout.contains(&format!("expires: {expires}\n")));
    insta::assert_snapshot!(
        "links_export",
        portal.scrub(&export.stdout).replace(&expires, "[EXPIRES]")
    );

    // As written, the export keeps the password it cannot know (`keep_password: true`):
    // applying it changes nothing, and the link keeps its password (issue 20).
    let as_written = portal.manifest(&export.stdout);
    portal.reset_stats().await;
    let apply = run_env(
        &portal,
        &["apply", as_written.to_str().unwrap(), "--auto-approve"],
        None,
    );
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    assert!(apply.stderr.contains("No changes."), "{}", apply.stderr);
    assert_eq!(portal.stats().await["writes"], 0);
    let room = room_id(&portal, "Partner Share").await;
    assert!(
        links_of(&portal, room)
            .await
            .contains(&("Clients: read only".to_string(), 2, true)),
        "the password was lost"
    );
    // With the variable named instead, the export plans clean too.
    let exported = portal.manifest(
        &export
            .stdout
            .replace("keep_password: true  #", "password_env: LINKS_TEST_PW  #"),
    );
    let plan = run_env(
        &portal,
        &["plan", exported.to_str().unwrap(), "--detailed-exitcode"],
        Some(PW),
    );
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
    assert!(plan.stdout.contains("No changes."), "{}", plan.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_applies_its_links_and_a_room_not_created_skips_them() {
    // A create the server refuses once (a bad cover once did it; `plan` now refuses that
    // before any write): the room's link items are skipped, not sent to a room that does not
    // exist.
    let portal = Portal::seeded(crate::common::quick(), |s| {
        s.fail_create.push("Partner Share".to_string())
    })
    .await;
    let (manifest, saved) = saved_partner_plan(&portal);
    let refused_path = saved.clone();
    let report = portal.dir.join("report.json");
    let run = apply_saved(&portal, &refused_path, &report);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let links: Vec<&Value> = entries(&report)
        .iter()
        .filter(|e| e["action"] == "create_link")
        .collect();
    assert_eq!(links.len(), 2);
    for e in links {
        assert_eq!(e["status"], "skipped");
        assert_eq!(e["skip_reason"], "dependency_failed");
    }
    assert_eq!(
        portal.stats().await["routes"]["PUT /api/2.0/files/rooms/{id}/links"],
        Value::Null
    );

    // Planning again at apply time reads the password variable: without it the saved plan
    // is refused before any write, located in the plan's desired state.
    portal.reset_stats().await;
    let without = run_env(
        &portal,
        &["apply", "--plan", saved.to_str().unwrap(), "--auto-approve"],
        None,
    );
    assert_eq!(without.code, 1, "{}\n{}", without.stdout, without.stderr);
    assert!(
        without
            .stderr
            .contains("the password variable LINKS_TEST_PW is not set (or empty)"),
        "{}",
        without.stderr
    );
    assert_eq!(portal.stats().await["writes"], 0);
    let rerun = run_env(
        &portal,
        &["apply", manifest.to_str().unwrap(), "--auto-approve"],
        Some(PW),
    );
    assert_eq!(rerun.code, 0, "{}", rerun.stderr);
    let room = room_id(&portal, "Partner Share").await;
    assert_eq!(
        links_of(&portal, room).await,
        [
            ("Clients".to_string(), 2, true),
            ("Join us".to_string(), 10, false)
        ]
    );
}

/// A link changed by hand after `plan --out`: the saved plan's own link change, still what
/// planning again makes, is applied; the change planning again makes to put the other link
/// back was never reviewed, so it is not applied (exit 3), and the hand-made change stays.
#[tokio::test(flavor = "multi_thread")]
async fn a_saved_link_change_is_stale_when_the_links_changed_by_hand() {
    let portal = Portal::start().await;
    let manifest = portal.manifest(PARTNER);
    let first = run_env(
        &portal,
        &["apply", manifest.to_str().unwrap(), "--auto-approve"],
        Some(PW),
    );
    assert_eq!(first.code, 0, "{}", first.stderr);
    let changed = portal.manifest(&PARTNER.replace("access: read", "access: comment"));
    let saved = portal.dir.join("links-plan.json");
    let plan = run_env(
        &portal,
        &[
            "plan",
            changed.to_str().unwrap(),
            "--out",
            saved.to_str().unwrap(),
        ],
        Some(PW),
    );
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert!(plan.stdout.contains("Clients"), "{}", plan.stdout);

    // By hand, in the web UI: the invitation link's use limit changes.
    let id = room_id(&portal, "Partner Share").await;
    let rows = portal
        .call(
            reqwest::Method::GET,
            &format!("/api/2.0/files/rooms/{id}/links"),
            None,
        )
        .await;
    let join = rows["response"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["sharedLink"]["title"] == "Join us")
        .unwrap()
        .clone();
    portal
        .call(
            reqwest::Method::PUT,
            &format!("/api/2.0/files/rooms/{id}/links"),
            Some(json!({
                "linkId": join["sharedLink"]["id"],
                "access": join["access"],
                "linkType": 0,
                "title": "Join us",
                "maxUseCount": 7,
            })),
        )
        .await;
    portal.reset_stats().await;

    let report = portal.dir.join("stale-report.json");
    let run = apply_saved(&portal, &saved, &report);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("room `Partner Share`: 1 change that planning again makes now not applied"),
        "{}",
        run.stderr
    );
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let status = |title: &str| {
        let key = format!("Partner Share / link {title}");
        entries(&report)
            .iter()
            .find(|e| e["action"] == "update_link" && e["key"] == key.as_str())
            .map(|e| (e["status"].clone(), e["skip_reason"].clone()))
            .unwrap()
    };
    assert_eq!(status("Clients"), (json!("applied"), Value::Null));
    assert_eq!(status("Join us"), (json!("skipped"), json!("not_approved")));
    // One link write: the approved one.
    assert_eq!(
        portal.stats().await["routes"]["PUT /api/2.0/files/rooms/{id}/links"],
        1
    );
    // The invitation link keeps its hand-made use limit.
    let rows = portal
        .call(
            reqwest::Method::GET,
            &format!("/api/2.0/files/rooms/{id}/links"),
            None,
        )
        .await;
    let join = rows["response"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["sharedLink"]["title"] == "Join us")
        .unwrap()
        .clone();
    assert_eq!(join["sharedLink"]["maxUseCount"], 7, "{join}");
}

/// The links of a room exactly as the sandbox lists them (every option), to tell a change.
async fn raw_links(portal: &Portal, room: i64) -> Value {
    portal
        .call(
            reqwest::Method::GET,
            &format!("/api/2.0/files/rooms/{room}/links"),
            None,
        )
        .await["response"]
        .clone()
}

/// A moment `days` ahead of now, at noon UTC (link expiries must be in the future).
fn days_ahead(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(days))
        .format("%Y-%m-%dT12:00:00Z")
        .to_string()
}

/// A custom room whose external link has every protection and whose invitation link has a
/// use limit; `CLIENTS` and `JOIN` are replaced by each case's lines.
const GUARDED: &str = r#"version: 1
rooms:
  - title: Partner Share
    type: custom
    links:
      - title: Clients
        kind: external
        access: read
CLIENTS      - title: Join us
        kind: invitation
        access: editing
JOIN"#;

fn guarded(clients: &str, join: &str) -> String {
    GUARDED.replace("CLIENTS", clients).replace("JOIN", join)
}

/// Every option of the links in `GUARDED`, as applied first in each downgrade test.
fn protected(expires: &str) -> String {
    guarded(
        &format!(
            "        expires: {expires}\n        internal: true\n        deny_download: true\n        password_env: LINKS_TEST_PW\n"
        ),
        "        max_uses: 5\n",
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_link_written_with_only_title_and_access_keeps_its_options() {
    let portal = Portal::start().await;
    let expires = days_ahead(30);
    let full = portal.manifest(&protected(&expires));
    let first = run_env(
        &portal,
        &["apply", full.to_str().unwrap(), "--auto-approve"],
        Some(PW),
    );
    assert_eq!(first.code, 0, "{}", first.stderr);
    let room = room_id(&portal, "Partner Share").await;
    let before = raw_links(&portal, room).await;
    // Expiry, internal, deny_download, the password and the use limit are left out: they
    // are not managed, so nothing is reset (issue 20).
    let bare = portal.manifest(&guarded("", ""));
    let plan = run_env(
        &portal,
        &["plan", bare.to_str().unwrap(), "--detailed-exitcode"],
        None,
    );
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
    portal.reset_stats().await;
    let apply = run_env(
        &portal,
        &["apply", bare.to_str().unwrap(), "--auto-approve"],
        None,
    );
    assert_eq!(apply.code, 0, "{}", apply.stderr);
    assert_eq!(portal.stats().await["writes"], 0, "{}", apply.stderr);
    assert_eq!(raw_links(&portal, room).await, before);

    // Another change of the link keeps the options it leaves out, the password included.
    let comment = portal.manifest(&guarded("", "").replacen("access: read", "access: comment", 1));
    portal.reset_stats().await;
    let apply = run_env(
        &portal,
        &["apply", comment.to_str().unwrap(), "--auto-approve"],
        None,
    );
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    // One write: the link, whole.
    assert_eq!(
        portal.stats().await["writes"],
        1,
        "{}",
        portal.stats().await
    );
    let after = raw_links(&portal, room).await;
    let clients = after
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["sharedLink"]["title"] == "Clients")
        .unwrap();
    assert_eq!(clients["access"], 6, "{clients}");
    assert_eq!(clients["sharedLink"]["password"], PW, "{clients}");
    assert_eq!(clients["sharedLink"]["denyDownload"], true, "{clients}");
    assert_eq!(clients["sharedLink"]["internal"], true, "{clients}");
    assert!(
        !clients["sharedLink"]["expirationDate"].is_null(),
        "{clients}"
    );
    assert!(!apply.stderr.contains(PW) && !apply.stdout.contains(PW));
}

#[tokio::test(flavor = "multi_thread")]
async fn every_security_downgrade_needs_allow_downgrades_and_allow_removals_is_not_enough() {
    let portal = Portal::start().await;
    let expires = days_ahead(30);
    let later = days_ahead(60);
    // Its own file: `portal.manifest` rewrites the same one for each case.
    let full = portal.dir.join("protected.yaml");
    std::fs::write(&full, protected(&expires)).unwrap();
    let full = full.to_str().unwrap().to_string();
    let first = run_env(&portal, &["apply", &full, "--auto-approve"], Some(PW));
    assert_eq!(first.code, 0, "{}", first.stderr);
    let room = room_id(&portal, "Partner Share").await;
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "password removed",
            guarded("        keep_password: false\n", ""),
            "password: removed (downgrade)",
        ),
        (
            "expiry removed",
            guarded("        expires: never\n", ""),
            "expires: ",
        ),
        (
            "expiry extended",
            guarded(&format!("        expires: {later}\n"), ""),
            "expires: ",
        ),
        (
            "download allowed",
            guarded("        deny_download: false\n", ""),
            "deny_download: true -> false (downgrade)",
        ),
        (
            "made public",
            guarded("        internal: false\n", ""),
            "internal: true -> false (downgrade)",
        ),
        (
            "use limit raised",
            guarded("", "        max_uses: 50\n"),
            "max_uses: 5 -> 50 (downgrade)",
        ),
        (
            "use limit removed",
            guarded("", "        max_uses: unlimited\n"),
            "max_uses: 5 -> unlimited (downgrade)",
        ),
    ];
    for (what, text, line) in cases {
        let manifest = portal.manifest(&text);
        let manifest = manifest.to_str().unwrap();
        let plan = run_env(&portal, &["plan", manifest], None);
        assert_eq!(plan.code, 0, "{what}: {}", plan.stderr);
        assert!(
            plan.stdout.contains(line) && plan.stdout.contains("(downgrade)"),
            "{what}: {}",
            plan.stdout
        );
        assert!(
            plan.stdout
                .contains("! downgrade guard: 1 link change lowers protection"),
            "{what}: {}",
            plan.stdout
        );
        let json = run_env(&portal, &["plan", manifest, "--format", "json"], None);
        let json: Value = serde_json::from_str(&json.stdout).unwrap();
        let items = json["rooms"][0]["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{what}: {json}");
        assert_eq!(items[0]["action"], "update_link", "{what}");
        assert_eq!(items[0]["downgrade"], true, "{what}");
        assert_eq!(json["summary"]["link_downgrades"], 1, "{what}");
        assert_eq!(
            json["rooms"][0]["notes"][0],
            json!({"kind": "downgrade_guard", "downgrades": 1}),
            "{what}"
        );

        let before = raw_links(&portal, room).await;
        for extra in [&[][..], &["--allow-removals"][..]] {
            let report = portal.dir.join("report.json");
            portal.reset_stats().await;
            let mut args = vec![
                "apply",
                manifest,
                "--auto-approve",
                "--report",
                report.to_str().unwrap(),
            ];
            args.extend_from_slice(extra);
            let apply = run_env(&portal, &args, None);
            assert_eq!(apply.code, 3, "{what} {extra:?}: {}", apply.stderr);
            assert_eq!(portal.stats().await["writes"], 0, "{what} {extra:?}");
            assert_eq!(raw_links(&portal, room).await, before, "{what} {extra:?}");
            let report: Value =
                serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
            let entry = &entries(&report)[0];
            assert_eq!(entry["status"], "skipped", "{what}");
            assert_eq!(entry["skip_reason"], "downgrade_guard", "{what}");
            assert!(
                entry["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("pass --allow-downgrades"),
                "{what}: {entry}"
            );
        }
        let report = portal.dir.join("allowed.json");
        let apply = run_env(
            &portal,
            &[
                "apply",
                manifest,
                "--auto-approve",
                "--allow-downgrades",
                "--report",
                report.to_str().unwrap(),
            ],
            None,
        );
        assert_eq!(apply.code, 0, "{what}: {}\n{}", apply.stdout, apply.stderr);
        let report: Value =
            serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        assert_eq!(report["allow_downgrades"], true, "{what}");
        assert_eq!(entries(&report)[0]["status"], "applied", "{what}");
        assert_ne!(raw_links(&portal, room).await, before, "{what}");
        let again = run_env(&portal, &["plan", manifest, "--detailed-exitcode"], None);
        assert_eq!(again.code, 0, "{what}: {}", again.stdout);
        // Back to every protection: raising protection is never guarded.
        let restore = run_env(&portal, &["apply", &full, "--auto-approve"], Some(PW));
        assert_eq!(restore.code, 0, "{what}: {}", restore.stderr);
        assert_eq!(raw_links(&portal, room).await, before, "{what}: restored");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plan_marks_downgrades_and_the_guard() {
    let portal = Portal::start().await;
    let expires = days_ahead(30);
    let full = portal.manifest(&protected(&expires));
    let first = run_env(
        &portal,
        &["apply", full.to_str().unwrap(), "--auto-approve"],
        Some(PW),
    );
    assert_eq!(first.code, 0, "{}", first.stderr);
    let manifest = portal.manifest(&guarded(
        "        expires: never\n        deny_download: false\n        keep_password: false\n",
        "        max_uses: 3\n",
    ));
    let plan = run_env(&portal, &["plan", manifest.to_str().unwrap()], None);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let expires_shown = chrono::DateTime::parse_from_rfc3339(&expires)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    insta::assert_snapshot!(
        "links_downgrade_plan",
        portal
            .scrub(&plan.stdout)
            .replace(&expires_shown, "[EXPIRES]")
    );
    let md = run_env(
        &portal,
        &["plan", manifest.to_str().unwrap(), "--format", "markdown"],
        None,
    );
    assert!(md.stdout.contains("(downgrade)"), "{}", md.stdout);
    assert!(md.stdout.contains("downgrade guard"), "{}", md.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_public_room_takes_its_primary_link_and_five_more_in_one_apply() {
    let portal = Portal::start().await;
    let link = |title: &str| {
        format!("      - title: {title}\n        kind: external\n        access: read\n")
    };
    let five: String = (1..=5).map(|n| link(&format!("Extra {n}"))).collect();
    // One room names the primary link by its title; in the other, the first link without
    // an expiry takes it over.
    let manifest = portal.manifest(&format!(
        "version: 1\nrooms:\n  - title: Press Kit\n    type: public\n    links_exact: true\n    links:\n{}{five}  - title: Open Day\n    type: public\n    links:\n{}{five}",
        link("Shared link"),
        link("Front door"),
    ));
    let manifest = manifest.to_str().unwrap();
    let plan = run_env(&portal, &["plan", manifest], None);
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
    let apply = run_env(&portal, &["apply", manifest, "--auto-approve"], None);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    for (room, primary) in [("Press Kit", "Shared link"), ("Open Day", "Front door")] {
        let id = room_id(&portal, room).await;
        let links = raw_links(&portal, id).await;
        let links = links.as_array().unwrap();
        assert_eq!(links.len(), 6, "{room}: {links:?}");
        let primaries: Vec<&Value> = links
            .iter()
            .filter(|l| l["sharedLink"]["primary"] == true)
            .map(|l| &l["sharedLink"]["title"])
            .collect();
        assert_eq!(primaries, [&json!(primary)], "{room}");
    }
    portal.reset_stats().await;
    let again = run_env(&portal, &["apply", manifest, "--auto-approve"], None);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(portal.stats().await["writes"], 0, "{}", again.stderr);

    // A seventh link is refused before anything is sent (validate counts them), with help
    // that fits a new room.
    let seven = portal.manifest(&format!(
        "version: 1\nrooms:\n  - title: Seven\n    type: public\n    links:\n{}{five}{}",
        link("One"),
        link("Two"),
    ));
    let plan = run_env(&portal, &["plan", seven.to_str().unwrap()], None);
    assert_eq!(plan.code, 1, "{}", plan.stdout);
    assert!(
        plan.stderr
            .contains("a public room holds 6 external links at most"),
        "{}",
        plan.stderr
    );
    assert!(!plan.stderr.contains("links_exact"), "{}", plan.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn keep_password_on_a_link_without_one_is_a_plan_error() {
    let portal = Portal::start().await;
    let manifest = portal.manifest(&guarded("", ""));
    let first = run_env(
        &portal,
        &["apply", manifest.to_str().unwrap(), "--auto-approve"],
        None,
    );
    assert_eq!(first.code, 0, "{}", first.stderr);
    let keep = portal.manifest(&guarded("        keep_password: true\n", ""));
    portal.reset_stats().await;
    let apply = run_env(
        &portal,
        &["apply", keep.to_str().unwrap(), "--auto-approve"],
        None,
    );
    assert_eq!(apply.code, 1, "{}", apply.stderr);
    assert!(
        apply
            .stderr
            .contains("`keep_password: true`, but the link has no password on the portal"),
        "{}",
        apply.stderr
    );
    assert_eq!(portal.stats().await["writes"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_keeps_unmanaged_options_and_its_downgrades_need_the_flag_at_apply() {
    let portal = Portal::start().await;
    let expires = days_ahead(30);
    let full = portal.dir.join("protected.yaml");
    std::fs::write(&full, protected(&expires)).unwrap();
    let first = run_env(
        &portal,
        &["apply", full.to_str().unwrap(), "--auto-approve"],
        Some(PW),
    );
    assert_eq!(first.code, 0, "{}", first.stderr);
    let room = room_id(&portal, "Partner Share").await;
    let before = raw_links(&portal, room).await;
    // The words `never` and `unlimited`, `keep_password` and options left out all go through
    // the saved plan's desired state and plan the same again at apply.
    let manifest = portal.manifest(&guarded(
        "        expires: never\n        keep_password: true\n",
        "        max_uses: unlimited\n",
    ));
    let saved = portal.dir.join("plan.json");
    let plan = run_env(
        &portal,
        &[
            "plan",
            manifest.to_str().unwrap(),
            "--out",
            saved.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert_eq!(
        plan.stdout.matches("(downgrade)").count(),
        2,
        "{}",
        plan.stdout
    );
    for extra in [&[][..], &["--allow-removals"][..]] {
        let mut args = vec!["apply", "--plan", saved.to_str().unwrap(), "--auto-approve"];
        args.extend_from_slice(extra);
        portal.reset_stats().await;
        let apply = run_env(&portal, &args, None);
        assert_eq!(
            apply.code, 3,
            "{extra:?}: {}\n{}",
            apply.stdout, apply.stderr
        );
        assert_eq!(portal.stats().await["writes"], 0, "{extra:?}");
        assert_eq!(raw_links(&portal, room).await, before, "{extra:?}");
    }
    let apply = run_env(
        &portal,
        &[
            "apply",
            "--plan",
            saved.to_str().unwrap(),
            "--auto-approve",
            "--allow-downgrades",
        ],
        None,
    );
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    let after = raw_links(&portal, room).await;
    let clients = after
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["sharedLink"]["title"] == "Clients")
        .unwrap();
    assert!(
        clients["sharedLink"]["expirationDate"].is_null(),
        "{clients}"
    );
    assert_eq!(clients["sharedLink"]["password"], PW, "kept: {clients}");
    assert_eq!(clients["sharedLink"]["denyDownload"], true, "{clients}");
}
