//! `doctor` through the real binary against sandboxes started here: the read-only checks make
//! no writes, `--scratch` confirms every rule on the sandbox and leaves no room behind (also
//! after a failure or a signal), and a sandbox configured to differ from a rule shows exactly
//! that rule failing, with what was observed and what was expected.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use docspace_provision::cli::FaultArgs;
use docspace_provision::doctor::{RULES, SCRATCH_PREFIX};
use serde_json::Value;

use crate::common::{Portal, bin};

/// The random part of the scratch names and the call count, scrubbed so snapshots are stable.
fn snapshot(name: &str, text: &str) {
    insta::with_settings!({filters => vec![
        (r"doctor [0-9a-f]{8}", "doctor [NONCE]"),
        (r"([Dd]octor[Tt]ag)[0-9a-f]{8}", "${1}[NONCE]"),
        // Polling rounds depend on timing.
        (r"in [0-9]+ calls", "in [N] calls"),
    ]}, {
        insta::assert_snapshot!(name, text);
    });
}

/// Rooms in the sandbox's state file whose title says they are doctor's.
fn doctor_rooms(portal: &Portal) -> Vec<Value> {
    portal.state()["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["title"]
                .as_str()
                .unwrap_or("")
                .starts_with(SCRATCH_PREFIX)
        })
        .cloned()
        .collect()
}

fn statuses(json: &Value) -> Vec<(String, String)> {
    json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn status_of(json: &Value, id: &str) -> String {
    statuses(json)
        .into_iter()
        .find(|(i, _)| i == id)
        .unwrap_or_else(|| panic!("no check {id} in {json}"))
        .1
}

#[tokio::test(flavor = "multi_thread")]
async fn without_scratch_doctor_only_reads() {
    let portal = Portal::start().await;
    portal.create_room("Team Room", 2).await;
    portal.reset_stats().await;
    let run = portal.run(&["doctor"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let stats = portal.stats().await;
    assert_eq!(stats["writes"], 0, "{stats}");
    assert!(stats["reads"].as_u64().unwrap() > 0, "{stats}");
    snapshot("doctor_read_only", &portal.scrub(&run.stdout));
}

#[tokio::test(flavor = "multi_thread")]
async fn json_output_is_versioned_and_names_the_rule_of_each_check() {
    let portal = Portal::start().await;
    let run = portal.run(&["doctor", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: Value = serde_json::from_str(&run.stdout).expect("stdout is JSON");
    assert_eq!(json["format_version"], 1);
    assert_eq!(json["scratch"], false);
    let checks = json["checks"].as_array().unwrap();
    for check in checks {
        assert!(
            ["ok", "warn", "fail"].contains(&check["status"].as_str().unwrap()),
            "{check}"
        );
        assert!(!check["message"].as_str().unwrap().is_empty(), "{check}");
        if let Some(section) = check["rule"].as_str() {
            assert!(RULES.iter().any(|r| r.section == section), "{check}");
        }
    }
    for id in [
        "portal",
        "key",
        "key-scopes",
        "room-visibility",
        "room-listing",
        "people-search",
    ] {
        assert_eq!(status_of(&json, id), "ok", "{json}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_key_fails_and_exits_1() {
    let portal = Portal::start().await;
    let mut cmd = bin();
    cmd.args(["doctor", "--portal", portal.handle.base_url.as_str()])
        .env("DOCSPACE_API_KEY", format!("sk-{}", "0".repeat(64)));
    let run = tokio::task::block_in_place(|| crate::common::run_cmd(&mut cmd));
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let key = run
        .stdout
        .lines()
        .find(|l| l.starts_with("✘ key "))
        .unwrap_or_else(|| panic!("no failed key check: {}", run.stdout));
    assert!(
        key.contains("the portal refused the key: it is wrong, expired or revoked"),
        "{key}"
    );
    // Nothing after the key is checked: every other call would fail the same way.
    assert!(!run.stdout.contains("room-listing"), "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn scratch_confirms_every_rule_on_the_sandbox_and_deletes_its_room() {
    let portal = Portal::start().await;
    let run = portal.run(&[
        "doctor",
        "--scratch",
        "--invite-probe",
        "new.person@example.com",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    for rule in RULES {
        assert_eq!(status_of(&json, rule.id), "ok", "{}: {json}", rule.id);
    }
    assert!(doctor_rooms(&portal).is_empty(), "{}", portal.state());
    // The probe's guest is on the portal as a pending account, and no longer in any room.
    let state = portal.state();
    let guest = state["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "new.person@example.com")
        .expect("the invitation created an account");
    assert_eq!(guest["status"], 4, "{guest}");
    // The resend probe sent its room invitation again, once, through the room's route (the
    // one `apply --resend-pending` uses), never the people route.
    let id = guest["id"].as_str().unwrap();
    let mailed: Vec<&Value> = state["room_resends"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(|users| users.get(id))
        .collect();
    assert_eq!(mailed.len(), 1, "{}", state["room_resends"]);
    assert_eq!(mailed[0]["count"], 1, "{}", state["room_resends"]);
    assert!(state["resends"].is_null(), "{}", state["resends"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn scratch_text_output() {
    let portal = Portal::start().await;
    let run = portal.run(&["doctor", "--scratch"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(doctor_rooms(&portal).is_empty(), "{}", portal.state());
    snapshot("doctor_scratch", &portal.scrub(&run.stdout));
}

/// `doctor --scratch` passes every check on the default sandbox, and on one whose password
/// policy is the strictest a portal can set (30 characters, capitals, digits, special
/// characters) exactly the same checks pass: the probe link's password fits every policy, a
/// stricter policy being one the tool handles (book: howto/doctor.md). Before, the probe's
/// 21-character password failed `external-link` on such a portal.
#[tokio::test(flavor = "multi_thread")]
async fn scratch_passes_on_a_portal_with_the_strictest_password_policy() {
    let default = Portal::start().await;
    let run = default.run(&["doctor", "--scratch", "--format", "json"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let on_default = statuses(&serde_json::from_str(&run.stdout).unwrap());
    assert!(
        on_default.iter().all(|(_, status)| status != "fail"),
        "{on_default:?}"
    );
    assert_eq!(
        status_of(&serde_json::from_str(&run.stdout).unwrap(), "external-link"),
        "ok"
    );

    let strict = Portal::seeded(crate::common::quick(), |s| {
        s.policy.password_min_length = 30;
        s.policy.password_upper_case = true;
        s.policy.password_digits = true;
        s.policy.password_spec_symbols = true;
    })
    .await;
    let run = strict.run(&["doctor", "--scratch", "--format", "json"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let on_strict = statuses(&serde_json::from_str(&run.stdout).unwrap());
    assert_eq!(on_strict, on_default);
    assert!(doctor_rooms(&strict).is_empty(), "{}", strict.state());
}

/// A sandbox whose archive operation fails for the scratch room and which cannot create the
/// invited guest: exactly those two rules fail, each with what was observed and expected, the
/// run exits 1, and the room is deleted all the same (directly, since it cannot be archived).
#[tokio::test(flavor = "multi_thread")]
async fn a_sandbox_that_differs_shows_the_rule_failing() {
    let portal = Portal::seeded(
        FaultArgs {
            operation_delay_ms: 20,
            fail_archive: vec!["4242".to_string()],
            reject_email: vec!["refused@example.com".to_string()],
            ..FaultArgs::default()
        },
        |s| s.next_room_id = 4242,
    )
    .await;
    let run = portal.run(&[
        "doctor",
        "--scratch",
        "--invite-probe",
        "refused@example.com",
    ]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let failed: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with('✘'))
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    assert_eq!(failed, ["pending-guest", "archive"], "{}", run.stdout);
    assert!(run.stdout.contains("observed: "), "{}", run.stdout);
    assert!(run.stdout.contains("please report it"), "{}", run.stdout);
    assert!(doctor_rooms(&portal).is_empty(), "{}", portal.state());
    snapshot("doctor_differs", &portal.scrub(&run.stdout));
}

/// Ctrl-C while the probes run: they stop, the room is deleted, the run exits 1.
#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_scratch_run_still_deletes_its_room() {
    // Slow operations keep the probes busy long enough for the signal to land among them.
    let portal = Portal::with(FaultArgs {
        operation_delay_ms: 1500,
        ..FaultArgs::default()
    })
    .await;
    let child = bin()
        .args([
            "doctor",
            "--scratch",
            "--portal",
            portal.handle.base_url.as_str(),
        ])
        .env("DOCSPACE_API_KEY", &portal.handle.api_key)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Hung-test bound only; nothing asserts how fast the run was.
    let deadline = Instant::now() + Duration::from_secs(30);
    while doctor_rooms(&portal).is_empty() {
        assert!(Instant::now() < deadline, "the scratch room never appeared");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = tokio::task::block_in_place(|| child.wait_with_output()).unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("✘ interrupted"), "{stdout}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("✔ scratch-cleanup ") && l.contains(" deleted")),
        "{stdout}"
    );
    assert!(doctor_rooms(&portal).is_empty(), "{}", portal.state());
}

#[test]
fn invite_probe_needs_scratch() {
    let run = crate::common::run(["doctor", "--invite-probe", "a@example.com"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("--scratch"), "{}", run.stderr);
}

/// A portal with a room in connected storage, on PostgreSQL (emails compared with case): both
/// are things the tool handles, so they are reported as facts, not failures.
#[tokio::test(flavor = "multi_thread")]
async fn connected_storage_and_case_sensitive_emails_are_reported() {
    use docspace_provision::sandbox::state::ThirdPartyRoom;
    let portal = Portal::seeded(
        FaultArgs {
            case_sensitive_emails: true,
            ..FaultArgs::default()
        },
        |s| {
            s.third_party_rooms
                .push(ThirdPartyRoom::new("sbox-3-7", "Partner share", 2))
        },
    )
    .await;
    let run = portal.run(&["doctor"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let line = |id: &str| {
        run.stdout
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some(id))
            .unwrap_or_else(|| panic!("no {id}: {}", run.stdout))
            .to_string()
    };
    assert!(
        line("connected-storage").contains("1 room in connected storage"),
        "{}",
        run.stdout
    );
    assert!(
        line("email-case").contains("case-sensitive here (a PostgreSQL install)"),
        "{}",
        run.stdout
    );
}

/// What a real portal answers and the sandbox does not have: the build version, the key's own
/// record (whose `key` field must never be printed), a room admin's key that may not search
/// people. wiremock on 127.0.0.1 stands in for the portal.
#[tokio::test(flavor = "multi_thread")]
async fn a_room_admin_key_with_limited_scopes_on_a_real_portal_shape() {
    use wiremock::matchers::{method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    const SECRET: &str = "sk-not-to-be-printed-0123456789abcdef";
    let ok = |response: Value| {
        ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "response": response, "count": 1, "links": [], "status": 0, "statusCode": 200
        }))
    };
    let server = MockServer::start().await;
    let mount = |m: Mock| {
        let server = &server;
        async move { m.mount(server).await }
    };
    mount(
        Mock::given(method("GET"))
            .and(path("/api/2.0/settings/version/build"))
            .respond_with(ok(
                serde_json::json!({"docSpace": "3.2.1.123", "documentServer": "9.0.3"}),
            )),
    )
    .await;
    mount(
        Mock::given(method("GET"))
            .and(path("/api/2.0/people/@self"))
            .respond_with(ok(serde_json::json!({
                "id": "11111111-0000-4000-8000-000000000001",
                "email": "ci@acme.test", "displayName": "CI Bot", "isRoomAdmin": true
            }))),
    )
    .await;
    mount(
        Mock::given(method("GET"))
            .and(path("/api/2.0/keys/@self"))
            .respond_with(ok(serde_json::json!({
                "id": "22222222-0000-4000-8000-000000000002", "name": "ci", "key": SECRET,
                "permissions": ["accounts.self:read", "rooms:read", "accounts:read"], "isActive": true
            }))),
    )
    .await;
    mount(
        Mock::given(method("GET"))
            .and(path("/api/2.0/files/rooms"))
            .respond_with(ok(serde_json::json!({
                "files": [], "folders": [], "startIndex": 0, "count": 0, "total": 0
            }))),
    )
    .await;
    mount(
        Mock::given(method("GET"))
            .and(path("/api/2.0/people/filter"))
            .respond_with(ResponseTemplate::new(403).set_body_json(serde_json::json!({
                "error": {"message": "Access denied"}, "status": 1, "statusCode": 403
            }))),
    )
    .await;
    mount(
        Mock::given(method("GET"))
            .and(path("/api/2.0/people/email"))
            .and(query_param("email", "CI@ACME.TEST"))
            .respond_with(ok(serde_json::json!({
                "id": "11111111-0000-4000-8000-000000000001", "email": "ci@acme.test"
            }))),
    )
    .await;

    let mut cmd = bin();
    cmd.args(["doctor", "--format", "json", "--portal", &server.uri()])
        .env("DOCSPACE_API_KEY", format!("sk-{}", "a".repeat(64)));
    let run = tokio::task::block_in_place(|| crate::common::run_cmd(&mut cmd));
    assert!(!run.stdout.contains(SECRET) && !run.stderr.contains(SECRET));
    // A room admin is not a failure: it works, with the limits the warnings name.
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    let message = |id: &str| {
        json["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()["message"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(status_of(&json, "portal"), "ok");
    assert!(message("portal").contains("DocSpace 3.2.1.123, ONLYOFFICE Docs 9.0.3"));
    assert_eq!(status_of(&json, "key-scopes"), "warn");
    assert!(message("key-scopes").contains("apply: no, missing rooms:write, files:read"));
    assert_eq!(status_of(&json, "room-visibility"), "warn");
    assert_eq!(status_of(&json, "people-search"), "warn");
    assert!(message("people-search").contains("one call per invitee"));
    assert!(message("email-case").contains("ignore case"));
    // Read-only: only GETs reached the portal.
    let requests = server.received_requests().await.unwrap();
    assert!(requests.iter().all(|r| r.method.as_str() == "GET"));
}

/// A sandbox whose room updates take everything but the colour (answering 200 with the old
/// colour, as a portal that ignored the setting would): of all the feature probes (link,
/// colour, cover, lifetime, watermark), exactly `room-colour` fails, with what was observed and
/// expected, and every temporary room is deleted all the same.
#[tokio::test(flavor = "multi_thread")]
async fn an_ignored_colour_fails_only_the_colour_probe() {
    let portal = Portal::seeded(crate::common::quick(), |s| {
        s.ignore_settings_on_create = vec!["color".to_string()];
    })
    .await;
    let run = portal.run(&["doctor", "--scratch", "--format", "json"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    let failed: Vec<String> = statuses(&json)
        .into_iter()
        .filter(|(_, s)| s == "fail")
        .map(|(id, _)| id)
        .collect();
    assert_eq!(failed, ["room-colour"], "{json}");
    let colour = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "room-colour")
        .unwrap();
    assert_eq!(colour["rule"], "Room settings", "{colour}");
    assert!(
        colour["expected"].as_str().unwrap().contains("logo.color"),
        "{colour}"
    );
    for id in [
        "external-link",
        "room-cover",
        "room-lifetime",
        "room-watermark",
    ] {
        assert_eq!(status_of(&json, id), "ok", "{id}: {json}");
    }
    assert!(doctor_rooms(&portal).is_empty(), "{}", portal.state());
}

/// The feature probes leave nothing behind: the link room and the virtual data room are
/// deleted with the first one, and the resend probe (only with `--invite-probe`) sends one
/// `POST /files/rooms/{id}/resend`.
#[tokio::test(flavor = "multi_thread")]
async fn feature_probes_use_three_rooms_and_delete_them_all() {
    let portal = Portal::start().await;
    let run = portal.run(&["doctor", "--scratch", "--format", "json"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    // Without --invite-probe the resend is not tried.
    assert_eq!(status_of(&json, "resend"), "warn", "{json}");
    for id in [
        "external-link",
        "room-colour",
        "room-cover",
        "room-lifetime",
        "room-watermark",
    ] {
        assert_eq!(status_of(&json, id), "ok", "{id}: {json}");
    }
    let cleanup = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "scratch-cleanup")
        .unwrap();
    assert!(
        cleanup["message"].as_str().unwrap().contains("rooms"),
        "{cleanup}"
    );
    assert!(doctor_rooms(&portal).is_empty(), "{}", portal.state());
}
