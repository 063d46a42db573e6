//! `access` and `audit` through the binary against the sandbox: effective access checked
//! person by person against the emulator's own share lists (groups expanded from its state,
//! the owner and DocSpace admins added), `--person`, the CSV and Markdown renderings, the
//! audit of seeded violations in managed and unmanaged rooms, and zero writes for both.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::common::{Portal, Run, bin, run_cmd};

/// Rooms built through the API (`apply`): a group share, a person with a direct share and
/// a group share, a pending guest, a guest with edit access, an external link without
/// expiry or password, and a confidential room without a watermark.
const PORTAL: &str = "version: 1
rooms:
  - title: Deal
    type: custom
    invitees:
      - email: gus.guest@sandbox.test
        access: editing
      - group: Sales
        access: read
      - group: Marketing
        access: content-creator
      - email: uma.user@sandbox.test
        access: read
      - email: new.guest@example.com
        access: read
        expires: 2099-12-31
  - title: Press Room
    type: custom
    invitees:
      - email: mia.marketing@sandbox.test
        access: editing
    links:
      - title: Press
        kind: external
        access: read
  - title: Vault
    type: virtual-data-room
    tags: [Confidential]
    invitees:
      - email: rick.roomadmin@sandbox.test
        access: room-manager
";

/// The same rooms with every violation fixed.
const FIXED: &str = "version: 1
rooms:
  - title: Deal
    type: custom
    invitees:
      - email: gus.guest@sandbox.test
        access: read
  - title: Press Room
    type: custom
    links:
      - title: Press
        kind: external
        access: read
        expires: NEXT_YEAR-01-01
        password_env: H25_PRESS_PASSWORD
  - title: Vault
    type: virtual-data-room
    watermark: {text: Confidential}
";

/// The rules, with a manifest that manages only `Deal`: the other rooms are unmanaged.
const AUDIT: &str = "version: 1
policy:
  external_links: {require: [expires, password]}
  guests: {max_access: read}
  rooms_tagged:
    confidential: {require: [watermark]}
rooms:
  - title: Deal
    type: custom
";

async fn seeded() -> Portal {
    let portal = Portal::start().await;
    let manifest = portal.manifest(PORTAL);
    // One room at a time, so room ids follow the manifest (snapshots show them).
    let (run, _) = portal.apply(&manifest, &["--parallelism", "1"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    portal
}

fn with_env(portal: &Portal, args: &[&str]) -> Run {
    let mut cmd = bin();
    cmd.args(args)
        .arg("--portal")
        .arg(portal.handle.base_url.as_str())
        .env("DOCSPACE_API_KEY", &portal.handle.api_key)
        .env("H25_PRESS_PASSWORD", "CorrectHorseBattery");
    tokio::task::block_in_place(|| run_cmd(&mut cmd))
}

/// `FileShareRecord.ShareComparer._roomShareOrder`, as the test reads the server: earlier wins
/// among groups.
const ROOM_ORDER: [i64; 8] = [0, 9, 11, 10, 7, 5, 6, 2];

fn access_name(wire: i64) -> &'static str {
    match wire {
        2 => "read",
        5 => "review",
        6 => "comment",
        7 => "fill-forms",
        9 => "room-manager",
        10 => "editing",
        11 => "content-creator",
        _ => "none",
    }
}

/// Per room title, each person's access as the emulator's state says: the owner and the
/// DocSpace admins manage, a direct share wins, else the highest group share.
fn expected_from_state(state: &Value) -> BTreeMap<String, BTreeMap<String, String>> {
    let users: BTreeMap<&str, &Value> = state["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["id"].as_str().unwrap(), u))
        .collect();
    let email = |id: &str| users[id]["email"].as_str().unwrap().to_lowercase();
    let groups: BTreeMap<&str, Vec<&str>> = state["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let members = g["members"].as_array().unwrap();
            (
                g["id"].as_str().unwrap(),
                members.iter().map(|m| m.as_str().unwrap()).collect(),
            )
        })
        .collect();
    let mut out = BTreeMap::new();
    for room in state["rooms"].as_array().unwrap() {
        let mut direct: BTreeMap<String, i64> = BTreeMap::new();
        let mut via: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        for share in room["shares"].as_array().unwrap() {
            let subject = share["subject"].as_str().unwrap();
            let access = share["access"].as_i64().unwrap();
            if share["is_group"] == true {
                for member in &groups[subject] {
                    via.entry(email(member)).or_default().push(access);
                }
            } else {
                direct.insert(email(subject), access);
            }
        }
        let mut people: BTreeMap<String, String> = BTreeMap::new();
        for (person, levels) in via {
            let best = *levels
                .iter()
                .min_by_key(|a| ROOM_ORDER.iter().position(|o| o == *a))
                .unwrap();
            people.insert(person, access_name(best).into());
        }
        for (person, access) in direct {
            people.insert(person, access_name(access).into());
        }
        for u in users.values() {
            let active = u["status"] == 1;
            if u["user_type"] == "doc-space-admin" && active {
                people.insert(email(u["id"].as_str().unwrap()), "room-manager".into());
            }
        }
        people.insert(
            email(room["created_by"].as_str().unwrap()),
            "room-manager".into(),
        );
        out.insert(room["title"].as_str().unwrap().to_string(), people);
    }
    out
}

fn people_of(json: &Value) -> BTreeMap<String, BTreeMap<String, String>> {
    json["access"]["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let people = r["people"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    let email = e["person"]["email"].as_str().unwrap().to_string();
                    (email, e["access"].as_str().unwrap().to_string())
                })
                .collect();
            (r["room"]["title"].as_str().unwrap().to_string(), people)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn access_matches_the_share_lists_person_by_person() {
    let portal = seeded().await;
    portal.reset_stats().await;
    let run = portal.run(&["access", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(people_of(&json), expected_from_state(&portal.state()));
    assert_eq!(json["access"]["partial"], serde_json::json!([]));

    let deal = json["access"]["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["room"]["title"] == "Deal")
        .unwrap();
    let entry = |email: &str| {
        deal["people"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["person"]["email"] == email)
            .unwrap()
            .clone()
    };
    // Through a group only; a direct share that wins over a higher group share; a pending
    // guest; a DocSpace admin without a share row.
    assert_eq!(entry("sam.sales@sandbox.test")["how"]["kind"], "group");
    assert_eq!(entry("sam.sales@sandbox.test")["how"]["group"], "Sales");
    let uma = entry("uma.user@sandbox.test");
    assert_eq!(
        (uma["access"].as_str(), uma["how"]["kind"].as_str()),
        (Some("read"), Some("both"))
    );
    let pending = entry("new.guest@example.com");
    assert_eq!(pending["person"]["pending"], true);
    assert_eq!(pending["person"]["user_type"], "guest");
    assert_eq!(
        entry("dana.admin@sandbox.test")["how"]["kind"],
        "docspace-admin"
    );
    // The link is listed with yes/no for its password, without its id or key.
    let press = json["access"]["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["room"]["title"] == "Press Room")
        .unwrap();
    let link = press["links"][0].as_object().unwrap();
    assert_eq!(link["password"], false);
    assert!(
        link.keys()
            .all(|k| !["id", "key", "url", "share_link"].contains(&k.as_str()))
    );
    assert_eq!(portal.stats().await["writes"], 0, "access must not write");
}

#[tokio::test(flavor = "multi_thread")]
async fn access_for_one_person_lists_exactly_their_rooms() {
    let portal = seeded().await;
    let expected = expected_from_state(&portal.state());
    for email in [
        "uma.user@sandbox.test",
        "gus.guest@sandbox.test",
        "mia.marketing@sandbox.test",
    ] {
        let run = portal.run(&["access", "--person", email, "--format", "json"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let json: Value = serde_json::from_str(&run.stdout).unwrap();
        let listed: BTreeSet<String> = json["rooms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["room"].as_str().unwrap().to_string())
            .collect();
        let wanted: BTreeSet<String> = expected
            .iter()
            .filter(|(_, people)| people.contains_key(email))
            .map(|(title, _)| title.clone())
            .collect();
        assert_eq!(listed, wanted, "{email}");
        // Not vacuous: each of these people can enter some room, and each room is listed
        // with the access the share lists give that person there.
        assert!(!wanted.is_empty(), "{email} enters no room: {expected:#?}");
        let levels: BTreeMap<String, String> = json["rooms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["room"].as_str().unwrap().to_string(),
                    r["entry"]["access"]
                        .as_str()
                        .unwrap_or_else(|| panic!("{r:#}"))
                        .to_string(),
                )
            })
            .collect();
        let wanted_levels: BTreeMap<String, String> = expected
            .iter()
            .filter_map(|(title, people)| people.get(email).map(|a| (title.clone(), a.clone())))
            .collect();
        assert_eq!(levels, wanted_levels, "{email}: {}", run.stdout);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn access_renders_a_csv_checklist_and_markdown() {
    let portal = seeded().await;
    let manifest = portal.manifest(PORTAL);
    let manifest = manifest.to_str().unwrap();
    let csv = portal.run(&["access", manifest, "--format", "csv"]);
    assert_eq!(csv.code, 0, "{}", csv.stderr);
    insta::assert_snapshot!("access_csv", portal.scrub(&csv.stdout));
    let md = portal.run(&["access", "--format", "markdown", "--room", "Press*"]);
    assert_eq!(md.code, 0, "{}", md.stderr);
    insta::assert_snapshot!("access_markdown", portal.scrub(&md.stdout));
    let text = portal.run(&["access", "--person", "gus.guest@sandbox.test"]);
    insta::assert_snapshot!("access_person_text", portal.scrub(&text.stdout));
}

#[tokio::test(flavor = "multi_thread")]
async fn access_says_when_the_view_is_partial() {
    let portal = Portal::seeded(crate::common::quick(), |s| {
        s.key_user = uuid::Uuid::from_u128(0x5a4d_b0c5_0000_4000_8000_0000_0000_0003);
    })
    .await;
    let run = portal.run(&["access"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains(
            "Partial view: the key's user (rick.roomadmin@sandbox.test) is not a DocSpace admin"
        ),
        "{}",
        run.stdout
    );
    assert!(run.stderr.contains("note: partial view"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn audit_finds_each_violation_then_passes_once_fixed() {
    let portal = seeded().await;
    let rules = portal.dir.join("audit.yaml");
    std::fs::write(&rules, AUDIT).unwrap();
    portal.reset_stats().await;
    let run = portal.run(&["audit", rules.to_str().unwrap(), "--format", "json"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(portal.stats().await["writes"], 0, "audit must not write");
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    let found: BTreeSet<(String, String, Option<bool>)> = json["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["room"].as_str().unwrap().to_string(),
                v["rule"].as_str().unwrap().to_string(),
                v["managed"].as_bool(),
            )
        })
        .collect();
    let expect =
        |room: &str, rule: &str, managed| (room.to_string(), rule.to_string(), Some(managed));
    assert_eq!(
        found,
        BTreeSet::from([
            expect("Deal", "guests.max_access", true),
            expect("Press Room", "external_links.require", false),
            expect("Vault", "rooms_tagged.confidential.require", false),
        ]),
        "{}",
        run.stdout
    );
    let text = portal.run(&["audit", "--policy", rules.to_str().unwrap()]);
    assert_eq!(text.code, 2);
    insta::assert_snapshot!("audit_text", portal.scrub(&text.stdout));
    let csv = portal.run(&["audit", rules.to_str().unwrap(), "--format", "csv"]);
    assert_eq!(csv.code, 2, "{}", csv.stderr);
    insta::assert_snapshot!("audit_csv", portal.scrub(&csv.stdout));

    let fixed = portal.dir.join("fixed.yaml");
    let next_year = chrono::Utc::now()
        .format("%Y")
        .to_string()
        .parse::<i32>()
        .unwrap()
        + 1;
    std::fs::write(&fixed, FIXED.replace("NEXT_YEAR", &next_year.to_string())).unwrap();
    let apply = with_env(
        &portal,
        &["apply", fixed.to_str().unwrap(), "--auto-approve"],
    );
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);
    let again = portal.run(&["audit", rules.to_str().unwrap()]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    assert!(
        again.stdout.contains("No violations in 3 rooms."),
        "{}",
        again.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn audit_without_rules_is_an_error() {
    let portal = Portal::start().await;
    let run = portal.run(&["audit"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("audit has no rules to check"),
        "{}",
        run.stderr
    );
}

#[test]
fn validate_refuses_a_manifest_that_breaks_a_rule_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rooms.yaml");
    // A link expiry must lie ahead, and within the server's ten years, whenever this runs.
    let next_year = chrono::Utc::now()
        .format("%Y")
        .to_string()
        .parse::<i32>()
        .unwrap()
        + 1;
    std::fs::write(
        &path,
        format!(
            "version: 1
policy:
  external_links: {{require: [expires]}}
  rooms_tagged:
    confidential: {{deny_download: true}}
rooms:
  - title: Board
    type: custom
    tags: [confidential]
    links:
      - title: Press
        kind: external
        access: read
      - title: Minutes
        kind: external
        access: read
        expires: {next_year}-01-01
    deny_download: true
  - title: Leaks
    type: custom
    tags: [Confidential]
"
        ),
    )
    .unwrap();
    let run = crate::common::run(["validate", path.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(
        "validate_policy",
        crate::common::scrub(&run.stderr, dir.path())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_refuses_a_guest_above_the_policy_at_the_invitee() {
    let portal = Portal::start().await;
    let run = portal.plan(
        "version: 1
policy:
  guests: {max_access: read}
rooms:
  - title: Team
    type: custom
    invitees:
      - email: uma.user@sandbox.test
        access: editing
      - email: gus.guest@sandbox.test
        access: editing
      - email: someone.new@example.com
        access: comment
",
        &[],
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    insta::assert_snapshot!("plan_policy_guests", portal.scrub(&run.stderr));
    assert_eq!(portal.stats().await["writes"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn audit_counts_room_managers_as_validate_does_without_the_owner() {
    let portal = seeded().await;
    // Vault: the owner and Rick (room-manager) -> one manager; the other rooms: none. A
    // manifest with one room-manager invitee passes `validate` under `max: 1`, and `audit`
    // of the room it makes agrees (the owner, in every room, is not counted by either).
    let rules = portal.dir.join("managers.yaml");
    std::fs::write(
        &rules,
        "version: 1
policy:
  room_managers: {min: 1, max: 1}
rooms:
  - title: Vault
    type: virtual-data-room
    invitees:
      - email: rick.roomadmin@sandbox.test
        access: room-manager
",
    )
    .unwrap();
    let validate = crate::common::run(["validate", rules.to_str().unwrap()]);
    assert_eq!(validate.code, 0, "{}", validate.stderr);
    let run = portal.run(&["audit", rules.to_str().unwrap(), "--format", "json"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    let found: BTreeSet<(String, String)> = json["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["room"].as_str().unwrap().into(),
                v["rule"].as_str().unwrap().into(),
            )
        })
        .collect();
    let min = |room: &str| (room.to_string(), "room_managers.min".to_string());
    assert_eq!(
        found,
        BTreeSet::from([min("Deal"), min("Press Room")]),
        "{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn access_names_a_room_pattern_that_matches_nothing_and_connected_rooms() {
    let portal = Portal::seeded(crate::common::quick(), |s| {
        let room = docspace_provision::sandbox::state::ThirdPartyRoom::new("sbox-3-7", "Boxed", 6);
        s.third_party_rooms.push(room);
    })
    .await;
    let run = portal.run(&["access", "--room", "Nope*"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("no room titled `Nope*`"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    let run = portal.run(&["access"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("Partial view: 1 room(s) in connected storage are not shown"),
        "{}",
        run.stdout
    );
}

/// A portal answered by wiremock: the key's user (a DocSpace admin), rooms 1 and 2, room 2's
/// share list naming a group by a hostile id, room 1's unreadable when `locked`, no links,
/// and the people list answered with `people_status`.
async fn mock_access_portal(locked: bool, people_status: u16) -> wiremock::MockServer {
    use serde_json::json;
    use wiremock::matchers::{method, path, path_regex};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let ok = |body: Value| {
        ResponseTemplate::new(200).set_body_json(json!({
            "response": body, "count": 1, "total": 1, "status": 0, "statusCode": 200
        }))
    };
    let me = json!({"id": "me", "email": "me@x.test", "isOwner": true, "isAdmin": true});
    let server = MockServer::start().await;
    let mount = |m: Mock| {
        let server = &server;
        async move { m.mount(server).await }
    };
    mount(
        Mock::given(method("GET"))
            .and(path("/api/2.0/people/@self"))
            .respond_with(ok(me.clone())),
    )
    .await;
    let room = |id: i64, title: &str| json!({"id": id, "title": title, "roomType": 2, "rootFolderType": 14, "tags": []});
    mount(
        Mock::given(method("GET"))
            .and(path("/api/2.0/files/rooms"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"response": {
                "folders": [room(1, "Locked"), room(2, "Open")], "startIndex": 0, "count": 2, "total": 2
            }, "status": 0, "statusCode": 200}))),
    )
    .await;
    mount(
        Mock::given(method("GET"))
            .and(path("/api/2.0/files/rooms/1/share"))
            .respond_with(if locked {
                ResponseTemplate::new(403).set_body_json(json!({
                    "error": {"message": "Access denied"}, "status": 1, "statusCode": 403
                }))
            } else {
                ok(json!([{"access": 1, "isOwner": true, "subjectType": 0, "sharedToUser": me}]))
            }),
    )
    .await;
    mount(
        Mock::given(method("GET"))
            .and(path("/api/2.0/files/rooms/2/share"))
            .respond_with(ok(json!([
                {"access": 1, "isOwner": true, "subjectType": 0, "sharedToUser": me},
                {"access": 10, "subjectType": 2,
                 "sharedToGroup": {"id": "../../people/@self", "name": "Odd"}}
            ]))),
    )
    .await;
    mount(
        Mock::given(method("GET"))
            .and(path_regex("^/api/2.0/files/rooms/[12]/links$"))
            .respond_with(ok(json!([]))),
    )
    .await;
    mount(
        Mock::given(method("GET"))
            .and(path("/api/2.0/people/filter"))
            .respond_with(if people_status == 200 {
                ok(json!([me]))
            } else {
                ResponseTemplate::new(people_status).set_body_json(json!({
                    "error": {"message": "Access denied"}, "status": 1, "statusCode": people_status
                }))
            }),
    )
    .await;
    server
}

fn run_mock(server: &wiremock::MockServer, args: &[&str]) -> Run {
    let mut cmd = bin();
    cmd.args(args)
        .args(["--portal", &server.uri()])
        .env("DOCSPACE_API_KEY", format!("sk-{}", "a".repeat(64)));
    tokio::task::block_in_place(|| run_cmd(&mut cmd))
}

#[tokio::test(flavor = "multi_thread")]
async fn access_and_audit_exit_1_when_a_room_cannot_be_read() {
    let server = mock_access_portal(true, 200).await;
    let run = run_mock(&server, &["access"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("members could not be read"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("1 room(s) could not be read whole"),
        "{}",
        run.stderr
    );
    // The group id is not a GUID: it never reaches a request path.
    let requests = server.received_requests().await.unwrap();
    let paths: Vec<String> = requests.iter().map(|r| r.url.path().to_string()).collect();
    assert!(paths.iter().all(|p| !p.contains("group")), "{paths:?}");
    assert!(
        run.stdout.contains("1 group(s) could not be read"),
        "{}",
        run.stdout
    );
    assert!(
        requests
            .iter()
            .all(|r| r.method == wiremock::http::Method::GET)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn audit_of_guest_rules_is_an_error_when_people_cannot_be_read() {
    // Every room readable, but not the people list (nor the group): who is a guest is not
    // known for everyone, so a clean `guests` audit would be a false all-clear.
    let server = mock_access_portal(false, 403).await;
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("p.yaml");
    std::fs::write(&rules, "policy:\n  guests: {max_access: read}\n").unwrap();
    let run = run_mock(&server, &["audit", "--policy", rules.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("could not be checked"),
        "{}",
        run.stderr
    );
    // Rules about links need no people: they are judged.
    std::fs::write(&rules, "policy:\n  external_links: {require: [password]}\n").unwrap();
    let run = run_mock(&server, &["audit", "--policy", rules.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    // `access` answers, and says what it could not see.
    let run = run_mock(&server, &["access"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("people list could not be read"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_policy_file_without_version_in_a_manifest_directory_is_enforced() {
    // "A file may hold only `policy:`": found in a directory of the set, it is not skipped
    // as "not a manifest", or `validate dir/` and `plan dir/` would pass what it forbids.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("policy.yaml"),
        "policy:\n  rooms_tagged:\n    confidential: {deny_download: true}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("rooms.yaml"),
        "version: 1\nrooms:\n  - title: Board\n    type: custom\n    tags: [confidential]\n",
    )
    .unwrap();
    let run = crate::common::run(["validate", dir.path().to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("rooms_tagged.confidential.deny_download"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("skipped"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn access_and_audit_show_control_characters_in_names_never_raw() {
    // A hostile portal: an account whose email and a group whose name carry terminal escapes.
    let portal = Portal::seeded(crate::common::quick(), |s| {
        let gus = s
            .users
            .iter_mut()
            .find(|u| u.email.starts_with("gus"))
            .unwrap();
        gus.email = "gus\u{1b}[2J@sandbox.test".into();
        s.groups[1].name = "Sales\u{1b}]0;pwned\u{7}".into();
    })
    .await;
    let room = portal.create_room("Deal", 5).await;
    let state = portal.state();
    let id = |email: &str| {
        state["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["email"].as_str().unwrap().starts_with(email))
            .unwrap()["id"]
            .clone()
    };
    let sales = state["groups"][1]["id"].clone();
    portal
        .share(
            room,
            serde_json::json!([{"id": id("gus"), "access": 10}, {"id": sales, "access": 2}]),
        )
        .await;
    for format in ["text", "csv", "markdown", "json"] {
        let run = portal.run(&["access", "--format", format]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(!run.stdout.contains('\u{1b}'), "{format}: {}", run.stdout);
        assert!(!run.stdout.contains('\u{7}'), "{format}: {}", run.stdout);
    }
    let run = portal.run(&["access"]);
    assert!(
        run.stdout.contains("gus\\u{1b}[2j@sandbox.test"),
        "{}",
        run.stdout
    );
    let rules = portal.dir.join("p.yaml");
    std::fs::write(&rules, "policy:\n  guests: {max_access: read}\n").unwrap();
    let run = portal.run(&["audit", "--policy", rules.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(!run.stdout.contains('\u{1b}'), "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_that_does_not_manage_a_room_is_told_its_links_are_not_shown() {
    // DocSpace answers a room's links with an empty list to a user who does not manage it
    // (FileSharing.CheckAccessAsync, ReadLinks): "no links" would be a false all-clear.
    let first = seeded().await;
    let state: docspace_provision::sandbox::state::PortalState =
        serde_json::from_value(first.state()).unwrap();
    let portal = Portal::seeded(crate::common::quick(), move |s| {
        *s = state;
        // Rick, a room admin: manages Vault, reads Deal through Sales, content creator in
        // Press Room (a member who does not manage it: a room he is not in at all is not
        // listed to him, as on the server).
        s.key_user = uuid::Uuid::from_u128(0x5a4d_b0c5_0000_4000_8000_0000_0000_0003);
        let rick = s.key_user;
        let press = s
            .rooms
            .iter_mut()
            .find(|r| r.title == "Press Room")
            .unwrap();
        press
            .shares
            .push(docspace_provision::sandbox::state::Share {
                subject: rick,
                is_group: false,
                access: 11,
            });
    })
    .await;
    let run = portal.run(&["access", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    let hidden: BTreeMap<String, bool> = json["access"]["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let title = r["room"]["title"].as_str().unwrap().to_string();
            (title, r["links_hidden"] == true)
        })
        .collect();
    let expect = |t: &str, h| (t.to_string(), h);
    assert_eq!(
        hidden,
        BTreeMap::from([
            expect("Deal", true),
            expect("Press Room", true),
            expect("Vault", false)
        ])
    );
    let text = portal.run(&["access", "--room", "Press Room"]);
    assert!(text.stdout.contains("links not shown"), "{}", text.stdout);
    assert!(!text.stdout.contains("external link"), "{}", text.stdout);
    let rules = portal.dir.join("p.yaml");
    std::fs::write(&rules, "policy:\n  external_links: {require: [expires]}\n").unwrap();
    let audit = portal.run(&["audit", "--policy", rules.to_str().unwrap()]);
    assert_eq!(audit.code, 1, "{}{}", audit.stdout, audit.stderr);
    assert!(
        audit.stderr.contains("not visible to the key's user"),
        "{}",
        audit.stderr
    );
}
