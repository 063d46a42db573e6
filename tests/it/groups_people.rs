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
      - {email: olga.new@sandbox.test, access: read}
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
        "invite olga.new@sandbox.test (invited by this plan) as read",
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
    // The portal itself (not only the tool's reading of it) holds the people with their
    // types and the groups with their members, the CSV group's taken from every row.
    let users = state["users"].as_array().expect("users in the state");
    let user = |email: &str| {
        users
            .iter()
            .find(|u| u["email"] == email)
            .unwrap_or_else(|| panic!("no user {email}: {state:#}"))
    };
    for (email, kind) in [
        ("nora.new@sandbox.test", "room-admin"),
        ("ned.new@sandbox.test", "user"),
        ("olga.new@sandbox.test", "user"),
        ("uma.user@sandbox.test", "room-admin"),
    ] {
        assert_eq!(user(email)["user_type"], kind, "{email}: {:#}", user(email));
    }
    let dave = user("dave.new@sandbox.test")["user_type"].as_str().unwrap();
    assert!(
        dave.contains("admin") && dave != "room-admin",
        "dave is a DocSpace admin: {dave}"
    );
    let emails = |g: &Value| {
        let mut out: Vec<String> = g["members"]
            .as_array()
            .expect("members")
            .iter()
            .map(|id| {
                users
                    .iter()
                    .find(|u| u["id"] == *id)
                    .and_then(|u| u["email"].as_str())
                    .unwrap_or_else(|| panic!("member {id} is no user"))
                    .to_string()
            })
            .collect();
        out.sort();
        out
    };
    assert_eq!(
        eng["manager"],
        user("nora.new@sandbox.test")["id"],
        "Engineering's manager: {eng:#}"
    );
    let eng_members = emails(eng);
    for email in ["ned.new@sandbox.test", "uma.user@sandbox.test"] {
        assert!(
            eng_members.iter().any(|m| m == email),
            "{email}: {eng_members:?}"
        );
    }
    assert_eq!(
        emails(group(&state, "Sales Team")),
        vec![
            "mia.marketing@sandbox.test",
            "olga.new@sandbox.test",
            "sam.sales@sandbox.test"
        ],
        "the CSV group holds its three rows"
    );

    let again = portal.plan(MANIFEST, &["--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    portal.reset_stats().await;
    let (run, report) = portal.apply(&manifest, &["--format", "json"]);
    assert_eq!(run.code, 0, "{}\n{report:#}", run.stderr);
    assert_eq!(portal.stats().await["writes"], 0, "a re-run must not write");
}

/// Applies [`MANIFEST`] on a fresh sandbox and returns it with the manifest's path.
async fn applied() -> (Portal, std::path::PathBuf) {
    let portal = Portal::start().await;
    let manifest = setup(&portal, MANIFEST);
    let (run, report) = portal.apply(&manifest, &[]);
    assert_eq!(run.code, 0, "{}\n{report:#}", run.stderr);
    (portal, manifest)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_person_left_out_of_an_exact_group_is_removed_only_with_allow_removals() {
    let (portal, _) = applied().await;
    let without_uma = MANIFEST.replace(
        "people: [ned.new@sandbox.test, uma.user@sandbox.test]",
        "people: [ned.new@sandbox.test]",
    );
    let manifest = setup(&portal, &without_uma);
    let plan = portal.plan(&without_uma, &["--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout.contains("- group \"Engineering\": remove uma.user@sandbox.test (not in the manifest, members: exact)")
            && plan.stdout.contains("! apply would skip 1 removal from groups unless --allow-removals is given"),
        "{}",
        plan.stdout
    );
    let (run, report) = portal.apply(&manifest, &["--format", "json"]);
    assert_eq!(run.code, 3, "guarded: {}\n{report:#}", run.stderr);
    let removal = entries(&report)
        .iter()
        .find(|e| e["action"] == "remove_group_member")
        .expect("a removal entry");
    assert_eq!(
        (
            removal["action"].as_str(),
            removal["status"].as_str(),
            removal["skip_reason"].as_str()
        ),
        (
            Some("remove_group_member"),
            Some("skipped"),
            Some("removal_guard")
        ),
        "{report:#}"
    );
    let members = |state: &Value| group(state, "Engineering").to_string();
    let uma = "5a4db0c5-0000-4000-8000-000000000004";
    assert!(members(&portal.state()).contains(uma), "still a member");
    let (run, report) = portal.apply(&manifest, &["--allow-removals"]);
    assert_eq!(run.code, 0, "{}\n{report:#}", run.stderr);
    assert!(
        !members(&portal.state()).contains(uma),
        "removed: {}",
        members(&portal.state())
    );
    assert_eq!(portal.plan(&without_uma, &["--detailed-exitcode"]).code, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_downgrade_is_refused_at_plan_time_naming_the_route_the_tool_never_calls() {
    let (portal, _) = applied().await;
    let lower = MANIFEST.replace(
        "{email: uma.user@sandbox.test, type: room-admin}",
        "{email: uma.user@sandbox.test, type: user}",
    );
    setup(&portal, &lower);
    let plan = portal.plan(&lower, &["--detailed-exitcode"]);
    assert_eq!(plan.code, 1, "{}{}", plan.stdout, plan.stderr);
    insta::assert_snapshot!("groups_people_downgrade", portal.scrub(&plan.stderr));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_group_changed_by_hand_is_drift_and_apply_puts_it_back() {
    let (portal, manifest) = applied().await;
    let state = portal.state();
    let eng = group(&state, "Engineering")["id"]
        .as_str()
        .unwrap()
        .to_string();
    portal
        .call(
            reqwest::Method::PUT,
            &format!("/api/2.0/group/{eng}"),
            Some(serde_json::json!({
                "groupName": "Engineering",
                "membersToRemove": ["5a4db0c5-0000-4000-8000-000000000004"],
                "membersToAdd": ["5a4db0c5-0000-4000-8000-000000000006"],
            })),
        )
        .await;
    let plan = portal.plan(MANIFEST, &["--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
    for line in [
        "+ group \"Engineering\": add uma.user@sandbox.test",
        "- group \"Engineering\": remove mia.marketing@sandbox.test",
    ] {
        assert!(plan.stdout.contains(line), "{line}\n{}", plan.stdout);
    }
    let (run, report) = portal.apply(&manifest, &["--allow-removals"]);
    assert_eq!(run.code, 0, "{}\n{report:#}", run.stderr);
    assert_eq!(portal.plan(MANIFEST, &["--detailed-exitcode"]).code, 0);
    // A pinned group renamed by hand is renamed back.
    let pinned = MANIFEST.replace(
        "  - name: Engineering\n",
        &format!("  - name: Engineering\n    id: {eng}\n"),
    );
    portal
        .call(
            reqwest::Method::PUT,
            &format!("/api/2.0/group/{eng}"),
            Some(serde_json::json!({"groupName": "Engineering (old)"})),
        )
        .await;
    let plan = portal.plan(&pinned, &["--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout
            .contains("~ group \"Engineering (old)\": name -> \"Engineering\""),
        "{}",
        plan.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn export_with_people_then_plan_is_clean() {
    let (portal, _) = applied().await;
    let export = portal.run(&["export", "--people"]);
    assert_eq!(export.code, 0, "{}", export.stderr);
    for part in [
        "groups:\n  - name: Engineering\n",
        "manager: nora.new@sandbox.test",
        "people:\n  - {email: admin@sandbox.test, type: docspace-admin}",
    ] {
        assert!(export.stdout.contains(part), "{part}\n{}", export.stdout);
    }
    let plan = portal.plan(&export.stdout, &["--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    assert!(
        portal
            .run(&["export", "--people", "--room", "Eng Room"])
            .code
            != 0,
        "--people is about the whole portal"
    );
}

/// `validate` on a manifest (and a CSV file beside it): the located diagnostics, scrubbed.
fn validate(manifest: &str, csv: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("org.yaml");
    std::fs::write(&path, manifest).unwrap();
    std::fs::write(dir.path().join("team.csv"), csv).unwrap();
    let out = crate::common::run(["validate", path.to_str().unwrap()]);
    format!(
        "exit code: {}\n{}",
        out.code,
        crate::common::scrub(&out.stderr, dir.path())
    )
}

#[test]
fn a_bad_email_in_the_csv_is_located_at_its_row() {
    let out = validate(
        "version: 1\ngroups:\n  - name: Sales\n    people_from: team.csv\n",
        "name,email\nOlga,olga@sandbox.test\nBad,not-an-email\n",
    );
    insta::assert_snapshot!("groups_people_csv_bad_row", out);
}

#[test]
fn an_unknown_user_type_is_located_with_the_spellings() {
    let out = validate(
        "version: 1\npeople:\n  - email: ann@sandbox.test\n    type: admin\n",
        "email\n",
    );
    insta::assert_snapshot!("groups_people_unknown_type", out);
}

#[test]
fn duplicate_groups_a_guest_member_and_a_path_outside_are_located() {
    let out = validate(
        "version: 1
people:
  - {email: gus@sandbox.test, type: guest}
groups:
  - name: Sales
    people: [gus@sandbox.test]
  - name: sales
  - name: Outside
    people_from: ../team.csv
",
        "email\n",
    );
    insta::assert_snapshot!("groups_people_duplicates_guest_path", out);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_applies_its_groups_and_people_and_an_edited_item_is_stale() {
    let portal = Portal::start().await;
    let manifest = setup(&portal, MANIFEST);
    let saved = manifest.with_file_name("plan.json");
    let plan = portal.run(&[
        "plan",
        manifest.to_str().unwrap(),
        "--out",
        saved.to_str().unwrap(),
    ]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    // An edited item: Nora invited as a DocSpace admin instead of a room admin.
    let text = std::fs::read_to_string(&saved).unwrap();
    let edited = text.replacen(
        "\"user_type\": \"room-admin\"",
        "\"user_type\": \"doc-space-admin\"",
        1,
    );
    assert_ne!(text, edited, "the saved plan carries the invitation's type");
    let edited_path = manifest.with_file_name("edited.json");
    std::fs::write(&edited_path, edited).unwrap();
    let report = manifest.with_file_name("edited-report.json");
    let run = portal.run(&[
        "apply",
        "--plan",
        edited_path.to_str().unwrap(),
        "--auto-approve",
        "--report",
        report.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let nora: Vec<&Value> = entries(&report)
        .iter()
        .filter(|e| e["key"] == "nora.new@sandbox.test" && e["action"] == "invite_person")
        .collect();
    assert_eq!(
        nora.len(),
        2,
        "the edited item stale, the new one not approved: {report:#}"
    );
    assert!(nora.iter().all(|e| e["status"] == "skipped"), "{report:#}");
    let failed: Vec<&Value> = entries(&report)
        .iter()
        .filter(|e| e["action"] == "create_group" && e["status"] == "failed")
        .collect();
    assert_eq!(
        failed.len(),
        1,
        "Engineering was made without its manager: {report:#}"
    );
    // The untouched saved plan still approves Nora's invitation; the manager is drift a
    // fresh plan sets.
    let run = portal.run(&["apply", "--plan", saved.to_str().unwrap(), "--auto-approve"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let fresh = portal.plan(MANIFEST, &["--detailed-exitcode"]);
    assert_eq!(fresh.code, 2);
    assert!(
        fresh
            .stdout
            .contains("~ group \"Engineering\": manager none -> nora.new@sandbox.test"),
        "{}",
        fresh.stdout
    );
    let (run, _) = portal.apply(&manifest, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(portal.plan(MANIFEST, &["--detailed-exitcode"]).code, 0);
}

/// The exact requests of the group and people calls, against wiremock.
mod contracts {
    use std::time::Duration;

    use docspace_provision::docspace::{
        Client, ClientConfig, CreateGroupRequest, DocSpaceApi, InvitePeopleRequest,
        PersonInvitation, UpdateGroupRequest,
    };
    use secrecy::SecretString;
    use serde_json::{Value, json};
    use url::Url;
    use wiremock::matchers::{body_json, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn client(server: &MockServer) -> Client {
        let mut config = ClientConfig::new(
            Url::parse(&server.uri()).unwrap(),
            SecretString::from("sk-test".to_string()),
        );
        config.min_backoff = Duration::from_millis(10);
        config.max_backoff = Duration::from_millis(40);
        config.max_retries = 3;
        config.requests_per_minute = 0;
        Client::new(config).unwrap()
    }

    fn ok(response: Value) -> ResponseTemplate {
        ResponseTemplate::new(200).set_body_json(
            json!({"response": response, "count": 1, "status": 0, "statusCode": 200}),
        )
    }

    fn group(id: &str) -> Value {
        json!({"id": id, "name": "Eng", "manager": {"id": "m1", "email": "m@x.test"},
               "members": [{"id": "m1", "email": "m@x.test"}, {"id": "u2", "email": "u@x.test"}]})
    }

    #[tokio::test]
    async fn a_group_is_created_and_updated_with_the_servers_field_names() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/api/2.0/group"))
            .and(body_json(
                json!({"groupName": "Eng", "groupManager": "m1", "members": ["u2"]}),
            ))
            .respond_with(ok(group("g1")))
            .expect(1)
            .mount(&server)
            .await;
        // The name is always sent: an empty one would empty it, a missing one keeps it.
        Mock::given(method("PUT"))
            .and(path("/api/2.0/group/g1"))
            .and(body_json(
                json!({"groupName": "Eng", "membersToAdd": ["u3"], "membersToRemove": ["u2"]}),
            ))
            .respond_with(ok(group("g1")))
            .expect(1)
            .mount(&server)
            .await;
        let c = client(&server);
        let made = DocSpaceApi::create_group(
            &c,
            &CreateGroupRequest {
                group_name: "Eng".into(),
                group_manager: Some("m1".into()),
                members: vec!["u2".into()],
            },
        )
        .await
        .unwrap();
        assert_eq!(made.members.map(|m| m.len()), Some(2));
        DocSpaceApi::update_group(
            &c,
            "g1",
            &UpdateGroupRequest {
                group_name: "Eng".into(),
                group_manager: None,
                members_to_add: vec!["u3".into()],
                members_to_remove: vec!["u2".into()],
            },
        )
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn an_invitation_call_that_failed_is_never_sent_again() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/api/2.0/people/invite"))
            .and(body_json(json!({"invitations": [{"email": "n@x.test", "type": 1}, {"email": "o@x.test", "type": 4}]})))
            .respond_with(ResponseTemplate::new(500))
            .expect(1)
            .mount(&server)
            .await;
        let request = InvitePeopleRequest {
            invitations: vec![
                PersonInvitation {
                    email: "n@x.test".into(),
                    user_type: 1,
                },
                PersonInvitation {
                    email: "o@x.test".into(),
                    user_type: 4,
                },
            ],
            culture: None,
        };
        assert!(
            DocSpaceApi::invite_people(&client(&server), &request)
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn a_type_change_names_the_type_in_the_route_and_seats_come_from_the_manager_feature() {
        let server = MockServer::start().await;
        Mock::given(method("PUT"))
            .and(path("/api/2.0/people/type/1"))
            .and(body_json(
                json!({"userIds": ["u1", "u2"], "resendAll": false}),
            ))
            .respond_with(ok(json!([])))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/api/2.0/portal/payment/quota"))
            .respond_with(ok(json!({"features": [
                {"id": "room", "value": 12},
                {"id": "manager", "value": 10, "used": {"value": 4}}
            ]})))
            .mount(&server)
            .await;
        let c = client(&server);
        DocSpaceApi::set_user_type(&c, 1, &["u1".into(), "u2".into()])
            .await
            .unwrap();
        assert_eq!(DocSpaceApi::paid_seats(&c).await.unwrap(), Some((4, 10)));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn paid_seats_are_shown_and_a_plan_needing_more_than_are_free_is_refused() {
    let portal = Portal::seeded(crate::common::quick(), |s| s.paid_seats = Some(6)).await;
    let one = "version: 1\npeople:\n  - {email: nora.new@sandbox.test, type: room-admin}\n";
    let plan = portal.plan(one, &["--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout.contains(
            "# paid seats (DocSpace admins and room admins): 4 of 6 used, 5 after this plan"
        ),
        "{}",
        plan.stdout
    );
    setup(&portal, MANIFEST);
    let plan = portal.plan(MANIFEST, &["--detailed-exitcode"]);
    assert_eq!(plan.code, 1, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stderr
            .contains("the plan needs 3 paid seats (DocSpace admins and room admins), and the portal has 2 of 6 free"),
        "{}",
        plan.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_groups_of_one_name_are_refused_with_their_ids_until_one_is_pinned() {
    let mut ids = Vec::new();
    let portal = Portal::seeded(crate::common::quick(), |s| {
        ids.push(s.add_group("Ops", None, &[]).to_string());
        ids.push(s.add_group("OPS", None, &[]).to_string());
    })
    .await;
    let manifest = "version: 1\ngroups:\n  - name: ops\n    people: [uma.user@sandbox.test]\n";
    let plan = portal.plan(manifest, &["--detailed-exitcode"]);
    assert_eq!(plan.code, 1, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stderr
            .contains("2 groups on the portal are named `ops` when case is ignored")
            && ids.iter().all(|id| plan.stderr.contains(id.as_str())),
        "{}",
        plan.stderr
    );
    let pinned = format!(
        "version: 1\ngroups:\n  - name: Ops\n    id: {}\n    people: [uma.user@sandbox.test]\n",
        ids[0]
    );
    let plan = portal.plan(&pinned, &["--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout
            .contains("+ group \"Ops\": add uma.user@sandbox.test"),
        "{}",
        plan.stdout
    );
}

/// A room admin's share by id with a guest it has no relation with is dropped with a 200
/// (`SetRoomSecurity`); by email it works. The guest is known from another room's members,
/// so the tool has its id, and shares by email all the same: applied, verified, then clean.
#[tokio::test(flavor = "multi_thread")]
async fn a_room_admin_shares_a_guest_someone_else_invited_by_email() {
    let first = Portal::start().await;
    let shared = first.create_room("Shared", 2).await;
    let ids = |state: &Value, email: &str| -> String {
        state["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["email"] == email)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let state = first.state();
    let (rick, gus) = (
        ids(&state, "rick.roomadmin@sandbox.test"),
        ids(&state, "gus.guest@sandbox.test"),
    );
    first
        .share(
            shared,
            serde_json::json!([{"id": rick, "access": 9}, {"id": gus, "access": 2}]),
        )
        .await;
    let mut state = first.state();
    state["key_user"] = Value::from(rick);
    let state: docspace_provision::sandbox::state::PortalState =
        serde_json::from_value(state).unwrap();
    let portal = Portal::seeded(crate::common::quick(), move |s| *s = state).await;
    let manifest = portal.manifest(
        "version: 1
rooms:
  - title: Shared
    type: collaboration
    invitees:
      - {email: gus.guest@sandbox.test, access: read}
      - {email: rick.roomadmin@sandbox.test, access: room-manager}
  - title: Rick's
    type: collaboration
    invitees:
      - {email: gus.guest@sandbox.test, access: read}
",
    );
    let (run, report) = portal.apply(&manifest, &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        entries(&report).iter().all(|e| e["status"] != "failed"),
        "{report:#}"
    );
    let room = crate::common::state_room(&portal.state(), "Rick's").clone();
    assert!(room.to_string().contains(&gus), "{room:#}");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let plan = portal.plan(&text, &["--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
}

/// The invite route's daily limit (429 for a day) is that route's own: the invitation fails,
/// what needs the people is skipped, and the group and the room are still made (the
/// client's "daily write limit" stop is for the whole user's writes, not this).
#[tokio::test(flavor = "multi_thread")]
async fn the_daily_invitation_limit_fails_the_invitations_and_nothing_else() {
    let portal = Portal::seeded(crate::common::quick(), |s| s.invitations_per_day = Some(1)).await;
    let manifest = portal.manifest(
        "version: 1
people:
  - {email: a.new@sandbox.test, type: user}
  - {email: b.new@sandbox.test, type: user}
groups:
  - name: NewG
    people: [a.new@sandbox.test, uma.user@sandbox.test]
rooms:
  - title: R
    type: collaboration
    invitees:
      - {group: NewG, access: read}
",
    );
    let (run, report) = portal.apply(&manifest, &[]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    let status = |action: &str, key: &str| -> String {
        entries(&report)
            .iter()
            .find(|e| e["action"] == action && e.to_string().contains(key))
            .unwrap_or_else(|| panic!("no {action} {key}: {report:#}"))["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(status("invite_person", "a.new@sandbox.test"), "failed");
    assert_eq!(status("create_group", "NewG"), "applied");
    assert_eq!(
        status("add_group_member", "uma.user@sandbox.test"),
        "applied"
    );
    assert_eq!(status("add_group_member", "a.new@sandbox.test"), "skipped");
    assert_eq!(status("invite", "NewG"), "applied");
    assert!(
        !run.stdout.contains("request limit for this user is spent"),
        "{}",
        run.stdout
    );
    group(&portal.state(), "NewG");
}

/// Renaming a pinned group to the name another group has would make two groups the tool
/// can no longer tell apart (the server allows it): a plan error naming both ids.
#[tokio::test(flavor = "multi_thread")]
async fn a_pinned_group_is_not_renamed_to_the_name_of_another_group() {
    let portal = Portal::start().await;
    let state = portal.state();
    let id = |name: &str| group(&state, name)["id"].as_str().unwrap().to_string();
    let (marketing, sales) = (id("Marketing"), id("Sales"));
    let manifest = format!("version: 1\ngroups:\n  - name: SALES\n    id: {marketing}\n");
    let plan = portal.plan(&manifest, &["--detailed-exitcode"]);
    assert_eq!(plan.code, 1, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stderr.contains("portal::group_name_taken")
            && plan.stderr.contains(&marketing)
            && plan.stderr.contains(&sales),
        "{}",
        plan.stderr
    );
    let manifest = format!("version: 1\ngroups:\n  - name: Brand\n    id: {marketing}\n");
    let plan = portal.plan(&manifest, &["--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
}

/// Only DocSpace admins may write groups (403 otherwise): with a room admin's key a group
/// that needs changes is a plan error, not a failure mid-apply; one in step is fine.
#[tokio::test(flavor = "multi_thread")]
async fn a_room_admins_key_cannot_plan_group_changes() {
    let portal = Portal::seeded(crate::common::quick(), |s| {
        s.key_user = uuid::Uuid::from_u128(0x5a4d_b0c5_0000_4000_8000_0000_0000_0003);
    })
    .await;
    let plan = portal.plan(
        "version: 1\ngroups:\n  - name: New Team\n    people: [uma.user@sandbox.test]\n",
        &["--detailed-exitcode"],
    );
    assert_eq!(plan.code, 1, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stderr.contains("portal::caller_cannot_manage_groups"),
        "{}",
        plan.stderr
    );
    let plan = portal.plan(
        "version: 1\ngroups:\n  - name: Marketing\n    people: [uma.user@sandbox.test]\n",
        &["--detailed-exitcode"],
    );
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
}

/// A group found by its name (not pinned) is never renamed: a name that differs only in case
/// is the same name, as group names are matched everywhere. A pinned one is renamed.
#[tokio::test(flavor = "multi_thread")]
async fn a_group_found_by_name_is_not_renamed_for_a_case_difference() {
    let portal = Portal::start().await;
    let plan = portal.plan(
        "version: 1\ngroups:\n  - name: MARKETING\n",
        &["--detailed-exitcode"],
    );
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    let id = group(&portal.state(), "Marketing")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let plan = portal.plan(
        &format!("version: 1\ngroups:\n  - name: MARKETING\n    id: {id}\n"),
        &["--detailed-exitcode"],
    );
    assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout.contains("name -> \"MARKETING\""),
        "{}",
        plan.stdout
    );
}

/// With a room admin's key, a guest it has no relation with is hidden from it (the email
/// lookup answers 403, not 404): the plan must not call that account new nor promise a new
/// guest account; sharing by email relates it, and the next plan is clean.
#[tokio::test(flavor = "multi_thread")]
async fn a_guest_hidden_from_a_room_admin_is_not_planned_as_a_new_account() {
    let portal = Portal::seeded(crate::common::quick(), |s| {
        s.key_user = uuid::Uuid::from_u128(0x5a4d_b0c5_0000_4000_8000_0000_0000_0003);
    })
    .await;
    let text = "version: 1
rooms:
  - title: Hidden guest
    type: collaboration
    invitees:
      - {email: gus.guest@sandbox.test, access: read}
";
    let plan = portal.plan(text, &["--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
    assert!(!plan.stdout.contains("new guest"), "{}", plan.stdout);
    assert!(
        plan.stdout
            .contains("an existing account this API key may not see"),
        "{}",
        plan.stdout
    );
    let manifest = portal.manifest(text);
    let (run, _) = portal.apply(&manifest, &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let guests = portal.state()["users"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["email"] == "gus.guest@sandbox.test")
        .count();
    assert_eq!(guests, 1, "no second account is made");
    let again = portal.plan(text, &["--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
}

/// `people:` naming an account hidden from a room admin's key is not a new person to invite:
/// a plan error, never "new account, invitation email will be sent".
#[tokio::test(flavor = "multi_thread")]
async fn a_person_hidden_from_a_room_admin_is_a_plan_error_not_an_invitation() {
    let portal = Portal::seeded(crate::common::quick(), |s| {
        s.key_user = uuid::Uuid::from_u128(0x5a4d_b0c5_0000_4000_8000_0000_0000_0003);
    })
    .await;
    let plan = portal.plan(
        "version: 1\npeople:\n  - {email: gus.guest@sandbox.test, type: user}\n",
        &["--detailed-exitcode"],
    );
    assert_eq!(plan.code, 1, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stderr.contains("portal::person_not_visible"),
        "{}",
        plan.stderr
    );
    assert!(!plan.stdout.contains("new account"), "{}", plan.stdout);
}
