//! `plan` through the real binary against a sandbox started in this test process: text, JSON
//! and Markdown plans for the situations reviewers meet, `--detailed-exitcode`, saved plans,
//! and proof that planning never writes.

use serde_json::{Value, json};

use crate::common::{Portal, bin, run_cmd};

const UMA: &str = "5a4db0c5-0000-4000-8000-000000000004";
const RICK: &str = "5a4db0c5-0000-4000-8000-000000000003";
const MARKETING: &str = "6e0f0000-0000-4000-8000-000000000001";

fn snapshot(name: &str, text: &str) {
    insta::with_settings!({filters => vec![
        (r#""fingerprint": "[0-9a-f]{16}""#, r#""fingerprint": "[FP]""#),
        (r#""manifest_hash": "sha256:[0-9a-f]{64}""#, r#""manifest_hash": "[HASH]""#),
        (r#""desired_digest": "sha256:[0-9a-f]{64}""#, r#""desired_digest": "[HASH]""#),
        (r#""planned_at": "[^"]+""#, r#""planned_at": "[MOMENT]""#),
        (r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "[UUID]"),
    ]}, {
        insta::assert_snapshot!(name, text);
    });
}

const TEAM: &str = "version: 1
rooms:
  - title: Team Room
    type: collaboration
    tags: [team]
    invitees:
      - email: Uma.User@sandbox.test
        access: editing
      - email: rick.roomadmin@sandbox.test
        access: room-manager
      - email: new.person@example.com
        access: read
      - group: marketing
        access: read
  - title: Forms
    type: form-filling
    invitees:
      - email: gus.guest@sandbox.test
        access: fill-forms
";

#[tokio::test(flavor = "multi_thread")]
async fn empty_portal_shows_creates_and_plan_never_writes() {
    let portal = Portal::start().await;
    let (code, text) = portal.all_formats(TEAM);
    assert_eq!(code, 2, "{text}");
    snapshot("plan_empty_portal", &text);
    let stats = portal.stats().await;
    assert_eq!(stats["writes"], 0, "plan must not write: {stats}");
    assert!(stats["reads"].as_u64().unwrap() > 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn portal_in_sync_has_no_changes_and_exit_0() {
    let portal = Portal::start().await;
    let room = portal.create_room("Team Room", 2).await;
    portal
        .call(
            reqwest::Method::PUT,
            &format!("/api/2.0/files/rooms/{room}"),
            Some(json!({"tags": ["team"]})),
        )
        .await;
    portal
        .share(
            room,
            json!([
                {"id": UMA, "access": 10},
                {"id": RICK, "access": 9},
                {"email": "new.person@example.com", "access": 2},
                {"id": MARKETING, "access": 2},
            ]),
        )
        .await;
    let forms = portal.create_room("Forms", 1).await;
    portal
        .share(
            forms,
            json!([{"email": "gus.guest@sandbox.test", "access": 7}]),
        )
        .await;
    let (code, text) = portal.all_formats(TEAM);
    assert_eq!(code, 0, "{text}");
    snapshot("plan_in_sync", &text);
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_by_hand_shows_changed_role_and_missing_member() {
    let portal = Portal::start().await;
    let room = portal.create_room("Team Room", 2).await;
    portal
        .call(
            reqwest::Method::PUT,
            &format!("/api/2.0/files/rooms/{room}"),
            Some(json!({"tags": ["old"]})),
        )
        .await;
    // Uma was made a viewer by hand; Rick was removed by hand; the pending guest and the
    // group are still there.
    portal
        .share(
            room,
            json!([
                {"id": UMA, "access": 2},
                {"email": "new.person@example.com", "access": 2},
                {"id": MARKETING, "access": 2},
            ]),
        )
        .await;
    let forms = portal.create_room("Forms", 1).await;
    portal
        .share(
            forms,
            json!([{"email": "gus.guest@sandbox.test", "access": 7}]),
        )
        .await;
    let (code, text) = portal.all_formats(TEAM);
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("~ Uma.User@sandbox.test: read -> editing")
            || text.contains("~ uma.user@sandbox.test: read -> editing"),
        "{text}"
    );
    assert!(
        text.contains("+ invite rick.roomadmin@sandbox.test as room-manager"),
        "{text}"
    );
    assert!(
        !text.contains("new.person@example.com as read"),
        "a pending invitation counts as a member:\n{text}"
    );
    snapshot("plan_drift", &text);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pending_invitation_counts_as_a_member() {
    let portal = Portal::start().await;
    let room = portal.create_room("Guests", 2).await;
    portal
        .share(
            room,
            json!([{"email": "pending.one@example.com", "access": 2}]),
        )
        .await;
    let manifest = "version: 1
rooms:
  - title: Guests
    type: collaboration
    invitees:
      - email: PENDING.ONE@example.com
        access: read
";
    let (code, text) = portal.all_formats(manifest);
    assert_eq!(code, 0, "{text}");
    snapshot("plan_pending_invitation", &text);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ambiguous_title_is_a_located_error_listing_the_ids() {
    let portal = Portal::start().await;
    portal.create_room("Twins", 2).await;
    portal.create_room("Twins", 2).await;
    let manifest = "version: 1
rooms:
  - title: Twins
    type: collaboration
";
    let run = portal.plan(manifest, &[]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty());
    snapshot("plan_ambiguous_title", &portal.scrub(&run.stderr));
    assert!(run.stderr.contains("ids 1001, 1002"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn members_exact_shows_removals_but_never_the_owner() {
    let portal = Portal::start().await;
    let room = portal.create_room("Board", 5).await;
    portal
        .share(room, json!([{"id": UMA, "access": 6}, {"id": RICK, "access": 9}, {"id": MARKETING, "access": 2}]))
        .await;
    let manifest = "version: 1
rooms:
  - title: Board
    type: custom
    members: exact
    invitees:
      - email: rick.roomadmin@sandbox.test
        access: room-manager
      - email: former@example.com
        access: none
";
    let (code, text) = portal.all_formats(manifest);
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains(
            "- remove uma.user@sandbox.test (was comment; not in the manifest, members: exact)"
        ),
        "{text}"
    );
    assert!(
        text.contains("- remove group Marketing (was read; not in the manifest, members: exact)"),
        "{text}"
    );
    assert!(
        !text.contains("remove admin@sandbox.test"),
        "the owner is never removed:\n{text}"
    );
    snapshot("plan_members_exact", &text);
}

#[tokio::test(flavor = "multi_thread")]
async fn portal_checks_are_located() {
    let portal = Portal::start().await;
    let manifest = "version: 1
rooms:
  - title: Checks
    type: collaboration
    invitees:
      - email: uma.user@sandbox.test
        access: room-manager
      - email: stranger@example.com
        access: room-manager
      - group: Nobody Here
        access: read
";
    let run = portal.plan(manifest, &[]);
    assert_eq!(run.code, 1);
    snapshot("plan_portal_checks", &portal.scrub(&run.stderr));
    assert_eq!(portal.stats().await["writes"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn saved_plan_holds_hash_and_fingerprints() {
    let portal = Portal::start().await;
    let out = portal.dir.join("plan.json");
    let run = portal.plan(TEAM, &["--out", out.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(saved["format_version"], 2);
    assert!(
        saved["manifest_hash"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert!(
        saved["rooms"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["fingerprint"].as_str().unwrap().len() == 16)
    );
}

#[test]
fn markdown_is_summarised_under_the_comment_limit() {
    use docspace_provision::plan::{
        Change, Item, ItemKey, Plan, RoomChange, RoomPlan, ShareSettings, Summary, Target,
    };
    use docspace_provision::render::plan::{MARKDOWN_LIMIT, markdown};
    let rooms: Vec<RoomPlan> = (0..2000)
        .map(|i| RoomPlan {
            title: format!("Room {i:04}"),
            room_type: docspace_provision::model::RoomType::Collaboration,
            room_id: None,
            change: RoomChange::Create,
            fingerprint: "0".repeat(16),
            members_before: 0,
            notes: Vec::new(),
            items: (0..5)
                .map(|j| {
                    Item::new(
                        ItemKey::member(&format!("Room {i:04}"), &format!("user{j}@example.com")),
                        Change::Invite {
                            target: Target::NewGuest {
                                email: format!("user{j}@example.com"),
                                hidden: false,
                            },
                            access: docspace_provision::model::Access::Read,
                        },
                    )
                })
                .collect(),
        })
        .collect();
    let plan = Plan {
        format_version: 1,
        portal: "https://portal.example.com".into(),
        manifest_hash: String::new(),
        share: ShareSettings::default(),
        rooms,
        unmanaged_connected_rooms: 0,
        managed: None,
        expiring: None,
        summary: Summary {
            rooms_to_create: 2000,
            invitations: 10_000,
            new_guests: 10_000,
            ..Summary::default()
        },
        ..Plan::default()
    };
    let md = markdown(&plan);
    assert!(md.len() < MARKDOWN_LIMIT, "{}", md.len());
    assert!(md.contains("Plan: 2000 rooms to create"));
    assert!(md.contains("more changed rooms not shown"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_key_is_one_clear_message_without_the_key() {
    let portal = Portal::start().await;
    let path = portal.dir.join("rooms.yaml");
    std::fs::write(&path, TEAM).unwrap();
    let secret = format!("sk-{}", "ab".repeat(32));
    let mut cmd = bin();
    cmd.arg("plan")
        .arg(&path)
        .arg("--portal")
        .arg(portal.handle.base_url.as_str())
        .env("DOCSPACE_API_KEY", &secret);
    let run = tokio::task::block_in_place(|| run_cmd(&mut cmd));
    assert_eq!(run.code, 1);
    assert!(!run.stderr.contains(&secret) && !run.stdout.contains(&secret));
    snapshot("plan_wrong_key", &portal.scrub(&run.stderr));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_title_match_cannot_take_a_room_another_entry_pins() {
    let portal = Portal::start().await;
    portal.create_room("T_1", 2).await;
    let manifest = "version: 1
rooms:
  - title: Alpha
    type: collaboration
    id: 1001
  - title: T_1
    type: collaboration
";
    let run = portal.plan(manifest, &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr.contains(
            "room `T_1` matches room id 1001 by title, but room `Alpha` already pins that id"
        ),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_keys_own_user_in_a_new_room_is_the_owner_not_an_invitation() {
    let portal = Portal::start().await;
    let manifest = "version: 1
rooms:
  - title: Mine
    type: collaboration
    invitees:
      - email: admin@sandbox.test
        access: editing
      - email: uma.user@sandbox.test
        access: editing
";
    let path = portal.dir.join("rooms.yaml");
    std::fs::write(&path, manifest).unwrap();
    let p = path.to_str().unwrap();
    let plan = portal.run(&["plan", p]);
    assert!(
        !plan.stdout.contains("invite admin@sandbox.test"),
        "{}",
        plan.stdout
    );
    let apply = portal.run(&["apply", p, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    assert_eq!(portal.run(&["plan", p, "--detailed-exitcode"]).code, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn quotas_read_in_their_units_and_a_new_archived_room_reads_as_a_creation() {
    let portal = Portal::start().await;
    let manifest = "version: 1
rooms:
  - title: Decimal
    type: custom
    quota: 500MB
  - title: Binary
    type: custom
    quota: 1.5GiB
  - title: Old Launch
    type: public
    state: archived
";
    let (code, text) = portal.all_formats(manifest);
    assert_eq!(code, 2, "{text}");
    // 500MB is 500,000,000 bytes: the plan used to show `500000000 bytes` beside `GiB`.
    assert!(!text.contains("bytes"), "{text}");
    assert!(text.contains("+ quota: 500 MB"), "{text}");
    assert!(text.contains("+ quota: 1.5 GiB"), "{text}");
    // The JSON keeps the byte count programs read.
    assert!(text.contains(r#""quota": 500000000"#), "{text}");
    assert!(
        text.contains(r#"+ room "Old Launch" (public, archived)"#),
        "{text}"
    );
    assert!(!text.contains("state: present -> archived"), "{text}");
    snapshot("plan_units_and_archived", &text);
}

const HOSTILE: &str =
    "Notes ```\n</details><img src=x onerror=alert(1)> @everyone \u{1b}[2J\u{202e}";

/// A plan with one room whose title and member came from an attacker (the portal or a
/// contributed manifest).
fn hostile_plan() -> docspace_provision::plan::Plan {
    use docspace_provision::plan::{
        Change, Item, ItemKey, Plan, RoomChange, RoomPlan, ShareSettings, Summary, Target,
    };
    Plan {
        format_version: 1,
        portal: "https://portal.example.com".into(),
        manifest_hash: String::new(),
        share: ShareSettings::default(),
        rooms: vec![RoomPlan {
            title: HOSTILE.into(),
            room_type: docspace_provision::model::RoomType::Custom,
            room_id: Some(7),
            change: RoomChange::Update,
            fingerprint: "0".repeat(16),
            members_before: 1,
            notes: vec![docspace_provision::plan::RoomNote::SimilarRoom {
                id: 8,
                title: "```\n<details>".into(),
            }],
            items: vec![Item::new(
                ItemKey::member(HOSTILE, "x"),
                Change::Invite {
                    target: Target::Group {
                        id: "g".into(),
                        name: "````\n# Approved".into(),
                    },
                    access: docspace_provision::model::Access::Read,
                },
            )],
        }],
        summary: Summary {
            rooms_to_update: 1,
            invitations: 1,
            ..Summary::default()
        },
        unmanaged_connected_rooms: 0,
        managed: None,
        expiring: None,
        ..Plan::default()
    }
}

#[test]
fn nothing_from_the_manifest_or_portal_breaks_out_of_the_markdown_code_block() {
    let md = docspace_provision::render::plan::markdown(&hostile_plan());
    // Everything after the legend is fenced; the fence is longer than any backtick run inside.
    let body = md.split_once("`-` remove\n\n").unwrap().1;
    let mut lines = body.lines();
    let open = lines.next().unwrap();
    assert_eq!(open, "`````diff", "{md}");
    let fence = open.trim_end_matches("diff");
    let inside: Vec<&str> = lines.by_ref().take_while(|l| *l != fence).collect();
    assert!(lines.all(str::is_empty), "text after the block:\n{md}");
    // Newlines and terminal escapes are shown, not acted on: the block has exactly the
    // header, the one item (each starting with a diff sign) and the room's note.
    assert_eq!(inside.len(), 3, "{md}");
    assert!(
        inside[2].starts_with("#     an existing room has a similar title: \"```\\u{a}<details>\""),
        "{md}"
    );
    assert!(
        inside[0].starts_with("! room \"Notes ```\\u{a}</details>"),
        "{md}"
    );
    assert!(inside[0].contains("\\u{1b}[2J\\u{202e}"), "{md}");
    assert!(
        inside[1].starts_with("+     invite group ````\\u{a}# Approved"),
        "{md}"
    );
    assert!(!md.contains('\u{1b}') && !md.contains('\u{202e}'), "{md}");
    // The text plan escapes the same characters.
    let text = docspace_provision::render::plan::text(&hostile_plan(), false);
    assert!(
        !text.contains('\u{1b}') && !text.contains("```\n<"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn markdown_diff_lines_start_with_their_sign() {
    let portal = Portal::start().await;
    let room = portal.create_room("Board", 5).await;
    portal
        .share(
            room,
            json!([{"id": UMA, "access": 6}, {"id": RICK, "access": 10}]),
        )
        .await;
    let manifest = "version: 1
rooms:
  - title: Board
    type: custom
    members: exact
    invitees:
      - email: rick.roomadmin@sandbox.test
        access: read
      - group: Marketing
        access: read
  - title: Release ``` notes
    type: custom
";
    let run = portal.plan(manifest, &["--format", "markdown"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let md = run.stdout;
    for line in [
        "! room \"Board\" (custom, id ",
        "!     rick.roomadmin@sandbox.test: ",
        "+     invite group Marketing as read",
        "-     remove uma.user@sandbox.test",
        "+ room \"Release ``` notes\" (custom)",
    ] {
        assert!(
            md.lines().any(|l| l.starts_with(line)),
            "no line starting {line:?}:\n{md}"
        );
    }
    assert!(md.contains("````diff\n+ room \"Release"), "{md}");
}
