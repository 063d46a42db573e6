//! Pending invitations (issue 13 item 5) through the real binary against the sandbox: `plan`
//! shows each pending invitee of a managed room with the invitation's age and flags the ones
//! older than 14 days; `apply --resend-pending[=AGE]` resends the stale ones through the
//! room's resend route (`POST /files/rooms/{id}/resend`, one call per room) and none of the
//! younger; a `SensitiveApi` refusal is reported as failed with the server's wait.

use chrono::{Duration, Utc};
use serde_json::Value;

use crate::common::{Portal, quick};

const MANIFEST: &str = "version: 1
rooms:
  - title: Deals
    type: collaboration
    invitees:
      - email: old@sandbox.test
        access: editing
      - email: older@sandbox.test
        access: read
      - email: young@sandbox.test
        access: read
";

/// A portal with three pending accounts invited 20, 30 and 3 days ago, and the manifest's
/// room already shared with them (so the only work left is the resend).
async fn portal_with_pending() -> Portal {
    let now = Utc::now();
    let portal = Portal::seeded(quick(), |s| {
        s.add_pending_user("old@sandbox.test", now - Duration::days(20));
        s.add_pending_user("older@sandbox.test", now - Duration::days(30));
        s.add_pending_user("young@sandbox.test", now - Duration::days(3));
    })
    .await;
    let manifest = portal.manifest(MANIFEST);
    let (run, _) = portal.apply(&manifest, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    portal
}

fn resends(report: &Value) -> Vec<(String, String)> {
    report["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "resend_invitation")
        .map(|e| {
            (
                e["subject"].as_str().unwrap_or_default().to_string(),
                e["status"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Who got a room invitation again, in any room (the sandbox's `room_resends`); the people
/// route's record (`resends`) must stay empty: the tool no longer calls it.
fn resent_emails(portal: &Portal) -> Vec<String> {
    let state = portal.state();
    assert!(
        state["resends"].is_null(),
        "people route used: {}",
        state["resends"]
    );
    let email = |id: &str| {
        state["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["id"] == id)
            .map(|u| u["email"].as_str().unwrap().to_string())
            .unwrap_or_default()
    };
    let mut out: Vec<String> = state["room_resends"]
        .as_object()
        .into_iter()
        .flat_map(|rooms| rooms.values())
        .flat_map(|users| users.as_object().unwrap().keys())
        .map(|id| email(id))
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_shows_pending_invitees_with_their_age_and_flags_the_stale() {
    let portal = portal_with_pending().await;
    let run = portal.plan(MANIFEST, &["--detailed-exitcode"]);
    // Pending invitations are information, not changes.
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    insta::assert_snapshot!("pending_plan_text", portal.scrub(&run.stdout));
}

#[tokio::test(flavor = "multi_thread")]
async fn resend_pending_resends_every_stale_invitation_in_one_call_and_no_younger() {
    let portal = portal_with_pending().await;
    portal.reset_stats().await;
    let manifest = portal.manifest(MANIFEST);
    let (run, report) = portal.apply(&manifest, &["--resend-pending"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        resends(&report),
        vec![
            ("old@sandbox.test".to_string(), "applied".to_string()),
            ("older@sandbox.test".to_string(), "applied".to_string()),
        ],
        "{report:#}"
    );
    // The room already matched: the one write is the room's resend.
    let stats = portal.stats().await;
    assert_eq!(stats["writes"], 1, "{stats}");
    assert_eq!(
        resent_emails(&portal),
        vec!["old@sandbox.test", "older@sandbox.test"]
    );
    insta::assert_snapshot!("pending_resend_apply_text", portal.scrub(&run.stdout));
    // What apply said it would do, before doing it.
    assert!(
        run.stderr.contains(
            "  ~ portal\n      ~ resend the invitation to older@sandbox.test to join `Deals` (pending for 30 days)\n      ~ resend the invitation to old@sandbox.test to join `Deals` (pending for 20 days)\n"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("2 invitations to resend"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("resend the invitation to young"),
        "{}",
        run.stderr
    );

    // A shorter age takes the younger one too; the default leaves it alone.
    let (run, report) = portal.apply(&manifest, &["--resend-pending=36h"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(resends(&report).len(), 3, "{report:#}");
    assert_eq!(
        resent_emails(&portal),
        vec![
            "old@sandbox.test",
            "older@sandbox.test",
            "young@sandbox.test"
        ]
    );
    // Without the flag nothing is resent.
    let (run, report) = portal.apply(&manifest, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(resends(&report).is_empty(), "{report:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_resend_is_reported_failed_with_the_servers_wait() {
    let portal = portal_with_pending().await;
    let room = crate::common::state_room(&portal.state(), "Deals")["id"]
        .as_i64()
        .unwrap();
    // Use up the room route's calls of this window (the server allows 5 per 15 minutes).
    for _ in 0..5 {
        portal
            .call(
                reqwest::Method::POST,
                &format!("/api/2.0/files/rooms/{room}/resend"),
                Some(serde_json::json!({"usersIds": [], "resendAll": false})),
            )
            .await;
    }
    let manifest = portal.manifest(MANIFEST);
    let (run, report) = portal.apply(&manifest, &["--resend-pending=2w"]);
    assert_ne!(run.code, 0, "{}", run.stdout);
    let entries: Vec<&Value> = report["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "resend_invitation")
        .collect();
    assert_eq!(entries.len(), 2, "{report:#}");
    for e in entries {
        assert_eq!(e["status"], "failed", "{e:#}");
        let message = e["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("try again in"), "{e:#}");
    }
}

#[test]
fn an_age_without_a_unit_is_refused() {
    let run = crate::common::run(["apply", "x.yaml", "--resend-pending=14"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr.contains("h (hours), d (days) or w (weeks)"),
        "{}",
        run.stderr
    );
}

/// Issue 20: `--resend-pending` never mails anyone the same run removes: a pending invitee
/// whose `expires:` has passed (removed from the room), nor one still wanted in a room but
/// removed from another (`members: exact`). The removals happen; the resend call is never
/// made.
#[tokio::test(flavor = "multi_thread")]
async fn resend_pending_skips_everyone_the_run_removes() {
    let now = Utc::now();
    let portal = Portal::seeded(quick(), |s| {
        s.add_pending_user("old@sandbox.test", now - Duration::days(20));
        s.add_pending_user("older@sandbox.test", now - Duration::days(30));
    })
    .await;
    let both = portal.manifest(
        "version: 1
rooms:
  - title: Deals
    type: collaboration
    invitees:
      - email: old@sandbox.test
        access: editing
      - email: older@sandbox.test
        access: read
  - title: Other
    type: collaboration
    invitees:
      - email: older@sandbox.test
        access: read
",
    );
    let (run, _) = portal.apply(&both, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    portal.reset_stats().await;
    let ending = portal.manifest(
        "version: 1
rooms:
  - title: Deals
    type: collaboration
    invitees:
      - email: old@sandbox.test
        access: editing
        expires: 2020-01-01
      - email: older@sandbox.test
        access: read
  - title: Other
    type: collaboration
    members: exact
",
    );
    let (run, report) = portal.apply(&ending, &["--resend-pending", "--allow-removals"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(resends(&report).is_empty(), "{report:#}");
    let removals: Vec<(&str, &str)> = report["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "remove")
        .map(|e| {
            (
                e["subject"].as_str().unwrap_or_default(),
                e["status"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        removals,
        [
            ("old@sandbox.test", "applied"),
            ("older@sandbox.test", "applied")
        ],
        "{report:#}"
    );
    // No resend call at all, and no email recorded.
    let stats = portal.stats().await;
    let invite_calls: u64 = stats["routes"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(route, _)| route.contains("resend") || route.contains("people/invite"))
        .map(|(_, n)| n.as_u64().unwrap_or_default())
        .sum();
    assert_eq!(invite_calls, 0, "{stats}");
    assert!(resent_emails(&portal).is_empty());
    // The old invitation is not even noted as pending in the plan any more.
    let plan = portal.plan(
        &std::fs::read_to_string(&ending).unwrap(),
        &["--detailed-exitcode"],
    );
    assert!(
        !plan.stdout.contains("pending invitation: old@"),
        "{}",
        plan.stdout
    );
}

/// Issue 22: the room's resend route answers nothing, so the plan decides who the server
/// would mail. With a room-admin key, a guest someone else invited is one the key's user
/// cannot see (`CanUserViewAnotherUserAsync`), which the server skips without a word: the
/// plan says so, apply reports it skipped and never sends its id. An account that accepted
/// between the read and the send (seeded as pending in `status` with an activated
/// `activationStatus`) is mailed all the same, as the server mails active members too: it is
/// reported applied, which it was.
#[tokio::test(flavor = "multi_thread")]
async fn resends_the_server_would_not_send_are_reported_skipped() {
    let now = Utc::now();
    let portal = Portal::seeded(quick(), |s| {
        let rick = s
            .users
            .iter()
            .find(|u| u.email == "rick.roomadmin@sandbox.test")
            .unwrap()
            .id;
        let owner = s.key_user;
        s.key_user = rick;
        for email in [
            "old@sandbox.test",
            "older@sandbox.test",
            "young@sandbox.test",
        ] {
            s.add_pending_user(email, now - Duration::days(20));
        }
        s.set_invited_by("old@sandbox.test", rick);
        s.set_invited_by("older@sandbox.test", owner);
        s.set_invited_by("young@sandbox.test", rick);
        // Rick must see the guest the owner invited to share with it by id: a room admin's
        // share by id with a guest it has no relation with is dropped silently
        // (docs/docspace-api.md, "People and user types"). The relation would also let the
        // server resend to it, but the tool cannot see relations and rules it out from
        // `createdBy` alone, so its id is never sent.
        let older = s
            .users
            .iter()
            .find(|u| u.email == "older@sandbox.test")
            .unwrap()
            .id;
        s.add_relation(rick, older);
        let raced = s
            .users
            .iter_mut()
            .find(|u| u.email == "young@sandbox.test")
            .unwrap();
        raced.activation_status = 1;
    })
    .await;
    let manifest = portal.manifest(MANIFEST);
    let (run, _) = portal.apply(&manifest, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    // A room in step sums its pending invitations up in one line; -v lists each.
    let plan = portal.plan(MANIFEST, &["-v"]);
    assert!(
        plan.stdout.contains("older@sandbox.test, sent 20 days ago; this key cannot have it resent: a guest invited by someone else"),
        "{}",
        plan.stdout
    );

    let (run, report) = portal.apply(&manifest, &["--resend-pending"]);
    assert_ne!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    // The plan apply shows (on stderr) says so before anything is sent.
    assert!(
        run.stderr.contains(
            "not resending the invitation to older@sandbox.test: a guest invited by someone else"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(
        resends(&report),
        [
            ("old@sandbox.test".to_string(), "applied".to_string()),
            ("older@sandbox.test".to_string(), "skipped".to_string()),
            ("young@sandbox.test".to_string(), "applied".to_string()),
        ],
        "{report:#}"
    );
    let entries = report["entries"].as_array().unwrap();
    let message = |email: &str| {
        entries
            .iter()
            .find(|e| e["action"] == "resend_invitation" && e["subject"] == email)
            .map(|e| (e["skip_reason"].clone(), e["error"]["message"].clone()))
            .unwrap()
    };
    let (code, text) = message("older@sandbox.test");
    assert_eq!(code, "not_resent");
    assert!(
        text.as_str().unwrap().contains("invited by someone else"),
        "{text}"
    );
    // The sandbox's record: the emails the server sent, none to the guest it skipped.
    assert_eq!(
        resent_emails(&portal),
        ["old@sandbox.test", "young@sandbox.test"]
    );

    // With nothing else to do, the skipped resend is still reported, and nothing is sent.
    let only_theirs = portal.manifest(
        "version: 1\nrooms:\n  - title: Deals\n    type: collaboration\n    invitees:\n      - email: older@sandbox.test\n        access: read\n",
    );
    portal.reset_stats().await;
    let (run, report) = portal.apply(&only_theirs, &["--resend-pending"]);
    assert_ne!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        resends(&report),
        [("older@sandbox.test".to_string(), "skipped".to_string())],
        "{report:#}"
    );
    assert_eq!(portal.stats().await["writes"], 0);
    assert_eq!(
        resent_emails(&portal),
        ["old@sandbox.test", "young@sandbox.test"]
    );
}

/// A room already archived on the portal cannot carry a resend: DocSpace lets no one edit a
/// room in the Archive (`FileSecurity`: the Archive root allows no `EditRoom`), so its resend
/// route refuses (`FileStorageService.ResendEmailInvitationsAsync`, `CanEditRoomAsync`). A
/// person pending in an archived room and in a live one is resent once, through the live
/// room; one pending only in the archived room is not resent, and nothing is sent there.
#[tokio::test(flavor = "multi_thread")]
async fn no_resend_goes_through_a_room_already_archived() {
    let now = Utc::now();
    let portal = Portal::seeded(quick(), |s| {
        s.add_pending_user("old@sandbox.test", now - Duration::days(20));
        s.add_pending_user("older@sandbox.test", now - Duration::days(30));
    })
    .await;
    let live = "version: 1
rooms:
  - title: Shelved
    type: collaboration
    invitees:
      - email: old@sandbox.test
        access: read
      - email: older@sandbox.test
        access: read
  - title: Open
    type: collaboration
    invitees:
      - email: old@sandbox.test
        access: read
";
    let manifest = portal.manifest(live);
    let (run, _) = portal.apply(&manifest, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let shelved = live.replacen(
        "type: collaboration\n",
        "type: collaboration\n    state: archived\n",
        1,
    );
    let manifest = portal.manifest(&shelved);
    let (run, _) = portal.apply(&manifest, &["--allow-removals"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        crate::common::state_room(&portal.state(), "Shelved")["archived"],
        true
    );

    portal.reset_stats().await;
    let (run, report) = portal.apply(&manifest, &["--resend-pending", "--allow-removals"]);
    assert_eq!(run.code, 0, "{}\n{}\n{report:#}", run.stdout, run.stderr);
    assert_eq!(
        resends(&report),
        vec![("old@sandbox.test".to_string(), "applied".to_string())],
        "{report:#}"
    );
    assert!(
        run.stderr
            .contains("resend the invitation to old@sandbox.test to join `Open`"),
        "{}",
        run.stderr
    );
    assert_eq!(portal.stats().await["writes"], 1);
    assert_eq!(resent_emails(&portal), ["old@sandbox.test"]);
}

/// The `SensitiveApi` limit (5 calls per 15 minutes) is per user and request path
/// (`BaseStartup.cs`: the partition key is `sensitive_api_{user}|{path}`), so resends in
/// more than five rooms are one call per room, each on its own path, none refused: seven
/// rooms, seven calls, seven applied, no retry.
#[tokio::test(flavor = "multi_thread")]
async fn resends_in_more_than_five_rooms_are_one_call_per_room_and_none_refused() {
    let now = Utc::now();
    let portal = Portal::seeded(quick(), |s| {
        for i in 0..7 {
            s.add_pending_user(&format!("p{i}@sandbox.test"), now - Duration::days(20));
        }
    })
    .await;
    let mut manifest = String::from("version: 1\nrooms:\n");
    for i in 0..7 {
        manifest.push_str(&format!(
            "  - title: Room {i}\n    type: custom\n    invitees:\n      - email: p{i}@sandbox.test\n        access: read\n"
        ));
    }
    let path = portal.manifest(&manifest);
    let (run, _) = portal.apply(&path, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    portal.reset_stats().await;
    let (run, report) = portal.apply(&path, &["--resend-pending"]);
    assert_eq!(run.code, 0, "{}\n{}\n{report:#}", run.stdout, run.stderr);
    let sent = resends(&report);
    assert_eq!(sent.len(), 7, "{report:#}");
    assert!(sent.iter().all(|(_, s)| s == "applied"), "{sent:?}");
    let stats = portal.stats().await;
    assert_eq!(stats["writes"], 7, "{stats}");
    assert_eq!(resent_emails(&portal).len(), 7);
}

/// A room-admin key edits only the rooms it owns or manages (`CanEditRoomAsync`), so the
/// server refuses its resend in a room where it is a plain member. A person pending there and
/// in a room it manages is resent through the managed room; one pending only there is
/// reported skipped with the reason, and no call goes to that room.
#[tokio::test(flavor = "multi_thread")]
async fn a_room_admin_key_resends_only_through_rooms_it_manages() {
    let now = Utc::now();
    let first = Portal::seeded(quick(), |s| {
        s.add_pending_user("both@sandbox.test", now - Duration::days(20));
        s.add_pending_user("theirs@sandbox.test", now - Duration::days(20));
    })
    .await;
    let manifest = "version: 1
rooms:
  - title: Theirs
    type: custom
    invitees:
      - email: rick.roomadmin@sandbox.test
        access: editing
      - email: both@sandbox.test
        access: read
      - email: theirs@sandbox.test
        access: read
  - title: Managed
    type: custom
    invitees:
      - email: rick.roomadmin@sandbox.test
        access: room-manager
      - email: both@sandbox.test
        access: read
";
    let (run, _) = first.apply(&first.manifest(manifest), &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let mut state: docspace_provision::sandbox::state::PortalState =
        serde_json::from_value(first.state()).unwrap();
    let rick = state
        .users
        .iter()
        .find(|u| u.email == "rick.roomadmin@sandbox.test")
        .unwrap()
        .id;
    state.key_user = rick;
    // Guests Rick invited himself, so only the room decides.
    state.set_invited_by("both@sandbox.test", rick);
    state.set_invited_by("theirs@sandbox.test", rick);
    let portal = Portal::seeded(quick(), |s| *s = state).await;
    let (run, report) = portal.apply(&portal.manifest(manifest), &["--resend-pending"]);
    assert_ne!(run.code, 1, "{}\n{}\n{report:#}", run.stdout, run.stderr);
    assert_eq!(
        resends(&report),
        [
            ("both@sandbox.test".to_string(), "applied".to_string()),
            ("theirs@sandbox.test".to_string(), "skipped".to_string()),
        ],
        "{report:#}"
    );
    assert!(
        run.stderr
            .contains("resend the invitation to both@sandbox.test to join `Managed`"),
        "{}",
        run.stderr
    );
    let skipped = report["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "resend_invitation" && e["subject"] == "theirs@sandbox.test")
        .unwrap();
    assert!(
        skipped["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not a room manager of the room"),
        "{skipped:#}"
    );
    assert_eq!(resent_emails(&portal), ["both@sandbox.test"]);
}

/// Issue 22: a member whose account is already active is never resent an invitation, even
/// with an age that takes every pending one: no resend entry names it, applied or otherwise,
/// and the server mails it nothing.
#[tokio::test(flavor = "multi_thread")]
async fn an_active_member_is_never_resent_an_invitation() {
    let portal = portal_with_pending().await;
    let with_active =
        format!("{MANIFEST}      - email: uma.user@sandbox.test\n        access: read\n");
    let manifest = portal.manifest(&with_active);
    let (run, _) = portal.apply(&manifest, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let (run, report) = portal.apply(&manifest, &["--resend-pending=1h"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        resends(&report),
        vec![
            ("old@sandbox.test".to_string(), "applied".to_string()),
            ("older@sandbox.test".to_string(), "applied".to_string()),
            ("young@sandbox.test".to_string(), "applied".to_string()),
        ],
        "{report:#}"
    );
    assert!(
        !run.stderr.contains("resend the invitation to uma.user"),
        "{}",
        run.stderr
    );
    assert!(
        !resent_emails(&portal)
            .iter()
            .any(|e| e == "uma.user@sandbox.test"),
        "{:?}",
        resent_emails(&portal)
    );
}
