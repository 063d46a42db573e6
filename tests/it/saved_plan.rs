//! Saved plans are approvals (docs/architecture.md, "Saved plans"): `apply --plan` plans
//! again from the desired state the plan carries and applies only the items identical in
//! both plans. Each test edits a saved plan the way the hostile round did and proves, through
//! the binary and the sandbox's write counts, that no write is made that a fresh plan would
//! not make, and that the run says why.

use serde_json::{Value, json};

use crate::common::{Portal, Run, bin, run_cmd};

const UMA: &str = "5a4db0c5-0000-4000-8000-000000000004";
const RICK: &str = "5a4db0c5-0000-4000-8000-000000000003";

/// `plan FILE --out plan.json` plus `extra`; returns the saved plan's path and its JSON.
fn save(portal: &Portal, manifest: &str, extra: &[&str]) -> (std::path::PathBuf, Value) {
    let path = portal.manifest(manifest);
    let saved = portal.dir.join("plan.json");
    let mut args = vec![
        "plan",
        path.to_str().unwrap(),
        "--out",
        saved.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let run = portal.run(&args);
    assert!(run.code == 0 || run.code == 2, "{}", run.stderr);
    let value = serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    (saved, value)
}

fn write(path: &std::path::Path, plan: &Value) {
    std::fs::write(path, serde_json::to_string_pretty(plan).unwrap()).unwrap();
}

/// `apply --plan PLAN --auto-approve` plus `extra`.
fn apply(portal: &Portal, saved: &std::path::Path, extra: &[&str]) -> Run {
    let mut args = vec!["apply", "--plan", saved.to_str().unwrap(), "--auto-approve"];
    args.extend_from_slice(extra);
    portal.run(&args)
}

/// Writes the edited `plan`, applies it with `--allow-removals`, and checks that the run
/// applies nothing, names the edit in `room`, and writes nothing.
async fn refused_as_edited(portal: &Portal, saved: &std::path::Path, plan: &Value, room: &str) {
    write(saved, plan);
    portal.reset_stats().await;
    let run = apply(portal, saved, &["--allow-removals"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let edited = format!("room `{room}`: 1 change skipped as stale (the saved plan was edited");
    assert!(run.stderr.contains(&edited), "{}", run.stderr);
    assert_eq!(portal.stats().await["writes"], 0);
}

fn room_mut<'a>(plan: &'a mut Value, title: &str) -> &'a mut Value {
    plan["rooms"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|r| r["title"] == title)
        .unwrap_or_else(|| panic!("no room {title}"))
}

fn archived_titles(portal: &Portal) -> Vec<String> {
    portal.state()["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["archived"] == true)
        .map(|r| r["title"].as_str().unwrap().to_string())
        .collect()
}

/// The marker count the archive guard compares with, raised by hand from 4 to 1000, does not
/// let `--prune` archive half of the managed rooms: the guard is computed on the plan made
/// again at apply time.
#[tokio::test(flavor = "multi_thread")]
async fn a_raised_marker_count_does_not_get_past_the_archive_guard() {
    let portal = Portal::start().await;
    let all = "version: 1\nmanaged_tag: provisioned\nmanifest_set: [rooms.yaml]\nrooms:\n  - {title: A, type: custom}\n  - {title: B, type: custom}\n  - {title: C, type: custom}\n  - {title: D, type: custom}\n";
    let (run, _) = portal.apply(&portal.manifest(all), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let two = "version: 1\nmanaged_tag: provisioned\nmanifest_set: [rooms.yaml]\nrooms:\n  - {title: A, type: custom}\n  - {title: B, type: custom}\n";
    let (saved, mut plan) = save(&portal, two, &["--prune"]);
    assert_eq!(plan["managed"]["marked_rooms"], 4, "{plan:#}");
    plan["managed"]["marked_rooms"] = json!(1000);
    write(&saved, &plan);
    portal.reset_stats().await;
    let run = apply(&portal, &saved, &[]);
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("archive guard"), "{}", run.stdout);
    assert!(archived_titles(&portal).is_empty());
    assert_eq!(portal.stats().await["writes"], 0);
}

/// A removal whose member id is swapped for another member's (here the room manager's)
/// removes nobody: the edited item is stale, and the removal planning again makes was not
/// approved by this file.
#[tokio::test(flavor = "multi_thread")]
async fn a_member_id_swapped_for_another_removes_nobody() {
    let portal = Portal::start().await;
    let room = portal.create_room("Team", 2).await;
    portal
        .share(
            room,
            json!([{"id": UMA, "access": 10}, {"id": RICK, "access": 9}]),
        )
        .await;
    let manifest = "version: 1\nrooms:\n  - title: Team\n    type: collaboration\n    invitees:\n      - {email: uma.user@sandbox.test, access: none}\n      - {email: rick.roomadmin@sandbox.test, access: room-manager}\n";
    let (saved, mut plan) = save(&portal, manifest, &[]);
    let team = room_mut(&mut plan, "Team");
    assert_eq!(team["items"][0]["action"], "remove", "{team:#}");
    team["items"][0]["target"]["id"] = json!(RICK);
    refused_as_edited(&portal, &saved, &plan, "Team").await;
    let members = portal
        .call(
            reqwest::Method::GET,
            &format!("/api/2.0/files/rooms/{room}/share"),
            None,
        )
        .await
        .to_string();
    assert!(members.contains(RICK) && members.contains(UMA), "{members}");
}

/// An archive item added by hand for a room the manifest does not manage (it carries no
/// marker) archives nothing, and the run names it as an edit.
#[tokio::test(flavor = "multi_thread")]
async fn an_archive_added_for_an_unmanaged_room_archives_nothing() {
    let portal = Portal::start().await;
    let other = portal.create_room("Finance", 2).await;
    let manifest = "version: 1\nmanaged_tag: provisioned\nmanifest_set: [rooms.yaml]\nrooms:\n  - {title: Alpha, type: custom}\n";
    let (run, _) = portal.apply(&portal.manifest(manifest), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let (saved, mut plan) = save(&portal, manifest, &["--prune"]);
    plan["rooms"].as_array_mut().unwrap().push(json!({
        "title": "Finance", "type": "collaboration", "room_id": other, "change": "update",
        "fingerprint": "0000000000000000", "members_before": 0,
        "items": [{"key": {"kind": "room", "room": "Finance"}, "action": "archive"}],
        "notes": [{"kind": "orphan"}]
    }));
    write(&saved, &plan);
    portal.reset_stats().await;
    let run = apply(&portal, &saved, &["--allow-removals"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("room `Finance`: 1 change skipped as stale"),
        "{}",
        run.stderr
    );
    assert!(archived_titles(&portal).is_empty());
    assert_eq!(portal.stats().await["writes"], 0);
}

const LINK_ROOM: &str = "version: 1
rooms:
  - title: Partner Share
    type: custom
    links:
      - title: Clients
        kind: external
        access: read
        password_env: SAVED_PLAN_TEST_PW
";

const PASSWORD: &str = "s3cret-Link-Pw1";

fn run_with_password(portal: &Portal, args: &[&str]) -> Run {
    let mut cmd = bin();
    cmd.args(args)
        .arg("--portal")
        .arg(portal.handle.base_url.as_str())
        .env("DOCSPACE_API_KEY", &portal.handle.api_key)
        .env("SAVED_PLAN_TEST_PW", PASSWORD)
        .env("OTHER_SECRET", "other-secret-value");
    tokio::task::block_in_place(|| run_cmd(&mut cmd))
}

/// `LINK_ROOM` planned with `--out` and the password variable set: the saved plan's path and
/// its JSON.
fn saved_link_plan(portal: &Portal) -> (std::path::PathBuf, Value) {
    let manifest = portal.manifest(LINK_ROOM);
    let saved = portal.dir.join("plan.json");
    let run = run_with_password(
        portal,
        &[
            "plan",
            manifest.to_str().unwrap(),
            "--out",
            saved.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let plan = serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    (saved, plan)
}

/// The variable a link's password is read from, replaced in the saved item by the password
/// itself or by another variable: nothing is sent, and neither value is printed.
#[tokio::test(flavor = "multi_thread")]
async fn a_password_variable_replaced_in_an_item_sends_nothing() {
    for replacement in ["hunter2-typed-here", "OTHER_SECRET", "PATH"] {
        let portal = Portal::start().await;
        let (saved, mut plan) = saved_link_plan(&portal);
        let items = room_mut(&mut plan, "Partner Share")["items"]
            .as_array_mut()
            .unwrap();
        let link = items
            .iter_mut()
            .find(|i| i["action"] == "create_link")
            .unwrap();
        link["link"]["password"]["env_name"] = json!(replacement);
        write(&saved, &plan);
        portal.reset_stats().await;
        let run = run_with_password(
            &portal,
            &["apply", "--plan", saved.to_str().unwrap(), "--auto-approve"],
        );
        assert_eq!(run.code, 3, "{replacement}: {}\n{}", run.stdout, run.stderr);
        assert!(
            run.stderr
                .contains("skipped as stale (the saved plan was edited"),
            "{}",
            run.stderr
        );
        let output = format!("{}{}", run.stdout, run.stderr);
        for secret in ["hunter2-typed-here", "other-secret-value", PASSWORD] {
            assert!(!output.contains(secret), "{secret} printed:\n{output}");
        }
        // The room is created (approved); no link is written.
        assert_eq!(
            portal.stats().await["routes"]["PUT /api/2.0/files/rooms/{id}/links"],
            Value::Null
        );
    }
}

/// The same variable replaced in the plan's desired state (and its digest made again): the
/// state passes the manifest's rulebook, which refuses a value where a variable name belongs
/// and variables that are not secrets, before anything is written.
#[tokio::test(flavor = "multi_thread")]
async fn a_password_variable_replaced_in_the_desired_state_is_refused_by_the_rulebook() {
    for replacement in ["hunter2 typed here", "PATH", "DOCSPACE_API_KEY"] {
        let portal = Portal::start().await;
        let (saved, mut plan) = saved_link_plan(&portal);
        plan["desired"]["rooms"][0]["links"][0]["password_env"] = json!(replacement);
        plan["desired_digest"] = json!(docspace_provision::manifest::normal::digest(
            &plan["desired"]
        ));
        write(&saved, &plan);
        portal.reset_stats().await;
        let run = run_with_password(
            &portal,
            &["apply", "--plan", saved.to_str().unwrap(), "--auto-approve"],
        );
        assert_eq!(run.code, 1, "{replacement}: {}\n{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains("breaks the manifest rules"),
            "{}",
            run.stderr
        );
        assert_eq!(portal.stats().await["writes"], 0);
        assert!(!run.stderr.contains(PASSWORD));
    }
}

/// The desired state edited without its digest: refused as an edit before any write.
#[tokio::test(flavor = "multi_thread")]
async fn a_desired_state_edited_without_its_digest_is_refused() {
    let portal = Portal::start().await;
    let (saved, mut plan) = save(
        &portal,
        "version: 1\nrooms:\n  - {title: Alpha, type: custom}\n",
        &[],
    );
    plan["desired"]["rooms"][0]["title"] = json!("Beta");
    write(&saved, &plan);
    let run = apply(&portal, &saved, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("was edited after the plan"),
        "{}",
        run.stderr
    );
    assert_eq!(portal.stats().await["writes"], 0);
}

/// A plan applied after an invitee's `expires:` has passed does not invite a guest whose
/// access has already ended: the invitation is stale, and the run says a moment passed.
#[tokio::test(flavor = "multi_thread")]
async fn a_plan_applied_after_an_expiry_passed_invites_nobody() {
    let portal = Portal::start().await;
    let at = (chrono::Utc::now() + chrono::Duration::seconds(3))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let manifest = format!(
        "version: 1\nrooms:\n  - title: Audit\n    type: custom\n    invitees:\n      - {{email: temp.auditor@example.com, access: read, expires: \"{at}\"}}\n"
    );
    let (saved, plan) = save(&portal, &manifest, &[]);
    let audit = &plan["rooms"][0];
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["action"] == "invite"),
        "{audit:#}"
    );
    std::thread::sleep(std::time::Duration::from_secs(4));
    let run = apply(&portal, &saved, &[]);
    // The room itself is still approved and created; the invitation is not sent.
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("an `expires:` moment passed since the plan was made"),
        "{}",
        run.stderr
    );
    let stats = portal.stats().await;
    assert_eq!(
        stats["routes"]["PUT /api/2.0/files/rooms/{id}/share"],
        Value::Null,
        "{stats}"
    );
    let state = portal.state().to_string();
    assert!(!state.contains("temp.auditor@example.com"), "{state}");
}

/// The desired state written into a plan and read back plans the same as the manifest it
/// came from (`manifest::normal`'s invariant): for the examples, the plan made from the
/// plan's own `desired` has the same rooms and items as the plan made from the files.
#[tokio::test(flavor = "multi_thread")]
async fn the_desired_state_a_plan_carries_plans_like_its_manifest() {
    let portal = Portal::start().await;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let plan_json = |path: &std::path::Path| -> Value {
        let mut cmd = bin();
        cmd.args([
            "plan",
            path.to_str().unwrap(),
            "--format",
            "json",
            "--portal",
        ])
        .arg(portal.handle.base_url.as_str())
        .env("DOCSPACE_API_KEY", &portal.handle.api_key)
        .env("DESIGN_PREVIEW_PASSWORD", "Preview-Pass-2026x");
        let run = tokio::task::block_in_place(|| run_cmd(&mut cmd));
        assert!(
            run.code == 0 || run.code == 2,
            "{}: {}",
            path.display(),
            run.stderr
        );
        serde_json::from_str(&run.stdout).unwrap()
    };
    for name in ["rooms.yaml", "full.yaml"] {
        let from_files = plan_json(&root.join(name));
        let mut desired = from_files["desired"].clone();
        // The set's file names are checked on disk when read from a file; a saved plan's
        // state is read from memory, where they are not looked up.
        desired.as_object_mut().unwrap().remove("manifest_set");
        let written = portal.dir.join(format!("desired-{name}"));
        std::fs::write(&written, desired.to_string()).unwrap();
        let from_state = plan_json(&written);
        assert!(
            !from_files["rooms"].as_array().unwrap().is_empty(),
            "{name}"
        );
        assert_eq!(from_state["rooms"], from_files["rooms"], "{name}");
        // And writing the state read back gives the same state.
        let (desired, problems) =
            docspace_provision::manifest::load(std::slice::from_ref(&root.join(name)));
        assert!(!problems.has_errors(), "{name}");
        let state = docspace_provision::manifest::normal::write(&desired);
        let back = docspace_provision::manifest::normal::read(&state).unwrap();
        assert_eq!(
            docspace_provision::manifest::normal::write(&back),
            state,
            "{name}"
        );
    }
}

/// A revoke whose `link_id` is swapped for the public room's primary link's id revokes
/// nothing: the primary link (and so the room's public URL) stays, and the revoke planning
/// again makes was not approved by this file.
#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_link_id_swapped_for_the_primary_links_revokes_nothing() {
    let portal = Portal::start().await;
    let room = portal.create_room("Press Kit", 6).await;
    portal
        .call(
            reqwest::Method::PUT,
            &format!("/api/2.0/files/rooms/{room}/links"),
            Some(json!({"linkId": "5b0e1d1c-0000-4000-8000-0000000000a1", "title": "Old promo", "access": 2, "linkType": 1})),
        )
        .await;
    let links = |v: &Value| -> Vec<(String, String, bool)> {
        v["response"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l["sharedLink"]["id"].as_str().unwrap().to_string(),
                    l["sharedLink"]["title"].as_str().unwrap().to_string(),
                    l["sharedLink"]["primary"] == true,
                )
            })
            .collect()
    };
    let path = format!("/api/2.0/files/rooms/{room}/links");
    let before = links(&portal.call(reqwest::Method::GET, &path, None).await);
    let primary = before.iter().find(|l| l.2).unwrap().0.clone();
    let manifest = "version: 1\nrooms:\n  - title: Press Kit\n    type: public\n    links_exact: true\n    links:\n      - {title: Shared link, kind: external, access: read}\n";
    let (saved, mut plan) = save(&portal, manifest, &[]);
    let items = room_mut(&mut plan, "Press Kit")["items"]
        .as_array_mut()
        .unwrap();
    let revoke = items
        .iter_mut()
        .find(|i| i["action"] == "revoke_link")
        .expect("the plan revokes the unlisted link");
    assert_eq!(revoke["title"], "Old promo");
    revoke["link_id"] = json!(primary);
    refused_as_edited(&portal, &saved, &plan, "Press Kit").await;
    let after = links(&portal.call(reqwest::Method::GET, &path, None).await);
    assert_eq!(after, before, "the links changed");
}

/// A plan applied after a link's `expires:` has passed does not create the link (the server
/// would drop the past date and the link would never expire): its create is stale, and the
/// run says a moment passed.
#[tokio::test(flavor = "multi_thread")]
async fn a_plan_applied_after_a_links_expiry_passed_creates_no_link() {
    let portal = Portal::start().await;
    let room = portal.create_room("Press Kit", 6).await;
    let path = format!("/api/2.0/files/rooms/{room}/links");
    let before = portal.call(reqwest::Method::GET, &path, None).await["response"].clone();
    let at = (chrono::Utc::now() + chrono::Duration::seconds(3))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let manifest = format!(
        "version: 1\nrooms:\n  - title: Press Kit\n    type: public\n    links:\n      - {{title: Reporters, kind: external, access: read, expires: \"{at}\"}}\n"
    );
    let (saved, plan) = save(&portal, &manifest, &[]);
    let items = plan["rooms"][0]["items"].as_array().unwrap();
    assert!(
        items.iter().any(|i| i["action"] == "create_link"),
        "{items:?}"
    );
    std::thread::sleep(std::time::Duration::from_secs(4));
    portal.reset_stats().await;
    let run = apply(&portal, &saved, &[]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("an `expires:` moment passed since the plan was made"),
        "{}",
        run.stderr
    );
    assert_eq!(portal.stats().await["writes"], 0);
    let after = portal.call(reqwest::Method::GET, &path, None).await["response"].clone();
    assert_eq!(after, before, "the links changed");
}
