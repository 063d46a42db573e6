//! `export` through the real binary: the canonical manifest of a live portal (snapshot), the
//! round trip apply -> export -> validate -> plan with no changes, `--check` and `--room`.

use serde_json::json;

use crate::common::Portal;

const UMA: &str = "5a4db0c5-0000-4000-8000-000000000004";
const RICK: &str = "5a4db0c5-0000-4000-8000-000000000003";
const MARKETING: &str = "6e0f0000-0000-4000-8000-000000000001";

#[tokio::test(flavor = "multi_thread")]
async fn export_of_pending_groups_and_archived_rooms() {
    let portal = Portal::start().await;
    let board = portal.create_room("Board: 2026", 5).await;
    portal
        .call(
            reqwest::Method::PUT,
            &format!("/api/2.0/files/rooms/{board}"),
            Some(json!({"tags": ["board", "2026"], "denyDownload": true})),
        )
        .await;
    portal
        .share(
            board,
            json!([
                {"id": RICK, "access": 9},
                {"id": UMA, "access": 6},
                {"id": MARKETING, "access": 2},
                {"email": "Pending.Person@Example.com", "access": 5},
            ]),
        )
        .await;
    let old = portal.create_room("Old launch", 6).await;
    portal.share(old, json!([{"id": UMA, "access": 11}])).await;
    portal
        .call(
            reqwest::Method::PUT,
            &format!("/api/2.0/files/rooms/{old}/archive"),
            Some(json!({"deleteAfter": false})),
        )
        .await;
    // Wait for the background archive operation (docspace-api.md 5.5).
    for _ in 0..100 {
        let room = portal
            .call(
                reqwest::Method::GET,
                &format!("/api/2.0/files/rooms/{old}"),
                None,
            )
            .await;
        if room["response"]["rootFolderType"] == 20 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let run = portal.run(&["export"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("export_portal", portal.scrub(&run.stdout));

    // The export is a valid manifest that plans to no changes.
    let path = portal.dir.join("exported.yaml");
    std::fs::write(&path, &run.stdout).unwrap();
    let p = path.to_str().unwrap();
    let validate = crate::common::run(["validate", p]);
    assert_eq!(validate.code, 0, "{}", validate.stderr);
    let plan = portal.run(&["plan", p, "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);

    // --check: equal is 0; a hand edit is 2 with a diff on stdout.
    let check = portal.run(&["export", "--check", p]);
    assert_eq!(check.code, 0, "{}", check.stderr);
    std::fs::write(&path, run.stdout.replace("access: comment", "access: read")).unwrap();
    let check = portal.run(&["export", "--check", p]);
    assert_eq!(check.code, 2, "{}", check.stderr);
    assert!(
        check.stdout.contains("-        access: read")
            && check.stdout.contains("+        access: comment"),
        "{}",
        check.stdout
    );

    // --room limits the export; an unknown title is an error.
    let one = portal.run(&["export", "--room", "Old launch"]);
    assert_eq!(one.code, 0, "{}", one.stderr);
    assert!(
        one.stdout.contains("Old launch") && !one.stdout.contains("Board"),
        "{}",
        one.stdout
    );
    let none = portal.run(&["export", "--room", "Nope"]);
    assert_eq!(none.code, 1);
    assert!(
        none.stderr.contains("no room titled `Nope`"),
        "{}",
        none.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn round_trip_apply_export_validate_plan() {
    let portal = Portal::start().await;
    let manifest = portal.dir.join("rooms.yaml");
    std::fs::write(
        &manifest,
        "version: 1
rooms:
  - title: \"Sales: EMEA\"
    type: virtual-data-room
    tags: [sales, \"2026\"]
    deny_download: true
    invitees:
      - email: rick.roomadmin@sandbox.test
        access: room-manager
      - email: new.buyer@example.com
        access: fill-forms
      - group: Sales
        access: content-creator
  - title: Twins
    type: collaboration
  - title: Archive me
    type: public
    state: archived
    invitees:
      - email: uma.user@sandbox.test
        access: content-creator
",
    )
    .unwrap();
    let m = manifest.to_str().unwrap();
    let apply = portal.run(&["apply", m, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    // A second room with the same title made by hand: export pins both by id.
    portal.create_room("Twins", 2).await;

    let exported = portal.dir.join("exported.yaml");
    let e = exported.to_str().unwrap();
    let export = portal.run(&["export", "--out", e]);
    assert_eq!(export.code, 0, "{}", export.stderr);
    let text = std::fs::read_to_string(&exported).unwrap();
    assert!(
        text.starts_with("# yaml-language-server: $schema="),
        "{text}"
    );
    assert!(text.contains("pending invitation"), "{text}");
    let validate = crate::common::run(["validate", e]);
    assert_eq!(validate.code, 0, "{}", validate.stderr);
    let plan = portal.run(&["plan", e, "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
    // A room that stays archived is not compared, and the plan says so.
    assert!(
        plan.stdout.contains("= room \"Archive me\""),
        "{}",
        plan.stdout
    );
}
