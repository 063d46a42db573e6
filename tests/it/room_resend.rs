//! The room-level resend route of the sandbox, `POST /files/rooms/{id}/resend`, as the server
//! has it (`FileStorageService.ResendEmailInvitationsAsync`; docs/docspace-api.md, "Pending
//! invitations"): the body's list is `usersIds` (`userIds` binds nothing: a silent 200), a
//! listed member is mailed whether pending or active, `resendAll` mails the pending members
//! only, and only a caller who can edit the room may call it. The state's `room_resends`
//! says exactly who was mailed.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Portal, quick};

fn user_id(state: &Value, email: &str) -> String {
    state["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == email)
        .unwrap_or_else(|| panic!("no user {email}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// How many room invitations `email` got again for `room`.
fn mailed(portal: &Portal, room: i64, email: &str) -> i64 {
    let state = portal.state();
    let id = user_id(&state, email);
    state["room_resends"][room.to_string()][&id]["count"]
        .as_i64()
        .unwrap_or(0)
}

async fn post(portal: &Portal, room: i64, body: &str) -> reqwest::StatusCode {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(portal.url(&format!("/api/2.0/files/rooms/{room}/resend")))
        .bearer_auth(&portal.handle.api_key)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .status()
}

const PENDING: &str = "pending.member@example.com";
const ACTIVE: &str = "uma.user@sandbox.test";

/// A room with a pending member (invited by email) and an active one.
async fn room_with_members(portal: &Portal) -> i64 {
    let room = portal.create_room("Partner", 5).await;
    let uma = user_id(&portal.state(), ACTIVE);
    portal
        .share(
            room,
            json!([{ "email": PENDING, "access": 2 }, { "id": uma, "access": 2 }]),
        )
        .await;
    room
}

#[tokio::test(flavor = "multi_thread")]
async fn the_room_resend_route_mails_listed_members_pending_or_active_and_userids_binds_nothing() {
    let portal = Portal::with(quick()).await;
    let room = room_with_members(&portal).await;
    let state = portal.state();
    let (pending, active) = (user_id(&state, PENDING), user_id(&state, ACTIVE));
    let outsider = user_id(&state, "dana.admin@sandbox.test");

    // The people route's spelling binds nothing: 200 and no email.
    let body = json!({ "userIds": [pending.clone()] }).to_string();
    assert_eq!(post(&portal, room, &body).await, 200);
    assert!(
        portal.state()["room_resends"].is_null(),
        "{}",
        portal.state()
    );
    assert_eq!(post(&portal, room, "{}").await, 200);
    assert!(portal.state()["room_resends"].is_null());

    // `usersIds`: every listed member, the active one too; a non-member is not mailed.
    let body = json!({ "usersIds": [pending, active, outsider] }).to_string();
    assert_eq!(post(&portal, room, &body).await, 200);
    assert_eq!(mailed(&portal, room, PENDING), 1);
    assert_eq!(mailed(&portal, room, ACTIVE), 1);
    assert_eq!(mailed(&portal, room, "dana.admin@sandbox.test"), 0);

    // `resendAll`: the pending members only.
    assert_eq!(post(&portal, room, r#"{"resendAll": true}"#).await, 200);
    assert_eq!(mailed(&portal, room, PENDING), 2);
    assert_eq!(mailed(&portal, room, ACTIVE), 1);

    // The answer is empty: it never says who was mailed.
    let answer = portal
        .call(
            Method::POST,
            &format!("/api/2.0/files/rooms/{room}/resend"),
            Some(json!({ "usersIds": [user_id(&state, PENDING)] })),
        )
        .await;
    assert!(answer["response"].is_null(), "{answer}");
    assert_eq!(mailed(&portal, room, PENDING), 3);

    // The `SensitiveApi` policy: a sixth call on this room's path within the window is a
    // 429 and mails no one; another room's path has a window of its own.
    let body = json!({ "usersIds": [user_id(&state, PENDING)] }).to_string();
    assert_eq!(post(&portal, room, &body).await, 429);
    assert_eq!(mailed(&portal, room, PENDING), 3);
    let second = portal.create_room("Second", 5).await;
    // A malformed body is the binding's 400; an unknown room a 404.
    assert_eq!(post(&portal, second, "{").await, 400);
    assert_eq!(post(&portal, 999_999, &body).await, 404);
    assert_eq!(post(&portal, second, &body).await, 200);
    assert_eq!(mailed(&portal, second, PENDING), 0, "not a member there");
}

/// A caller who cannot edit the room is refused (`CanEditRoomAsync`); a room manager may
/// resend, but not to a guest it cannot see (one someone else invited).
#[tokio::test(flavor = "multi_thread")]
async fn only_a_caller_who_can_edit_the_room_resends_and_only_to_people_it_can_see() {
    let first = Portal::with(quick()).await;
    let managed = room_with_members(&first).await;
    let other = first.create_room("Not theirs", 2).await;
    let rick = user_id(&first.state(), "rick.roomadmin@sandbox.test");
    first
        .share(managed, json!([{ "id": rick, "access": 9 }]))
        .await;
    let mut state = first.state();
    state["key_user"] = Value::from(rick.clone());
    let state: docspace_provision::sandbox::state::PortalState =
        serde_json::from_value(state).unwrap();
    let portal = Portal::seeded(quick(), move |s| *s = state).await;
    let ids = |emails: &[&str]| {
        let state = portal.state();
        let ids: Vec<String> = emails.iter().map(|e| user_id(&state, e)).collect();
        json!({ "usersIds": ids }).to_string()
    };

    assert_eq!(post(&portal, other, &ids(&[ACTIVE])).await, 403);
    assert!(portal.state()["room_resends"].is_null());

    // The pending member is a guest the owner invited: a room admin cannot see it.
    assert_eq!(post(&portal, managed, &ids(&[PENDING, ACTIVE])).await, 200);
    assert_eq!(mailed(&portal, managed, PENDING), 0);
    assert_eq!(mailed(&portal, managed, ACTIVE), 1);
}
