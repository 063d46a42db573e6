//! The sandbox's groups, invitations with a type and type changes (issue 23), each rule driven
//! over HTTP against a started sandbox and read from the DocSpace server source (see
//! docs/docspace-api.md, "Groups" and "People and user types").

use docspace_provision::sandbox::state::PortalState;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::quick;
use crate::sandbox_server_rules::{Sb, seed_with};

const OWNER: &str = "5a4db0c5-0000-4000-8000-000000000001";
const DANA_ADMIN: &str = "5a4db0c5-0000-4000-8000-000000000002";
const RICK_ROOM_ADMIN: &str = "5a4db0c5-0000-4000-8000-000000000003";
const UMA_USER: &str = "5a4db0c5-0000-4000-8000-000000000004";
const GUS_GUEST: &str = "5a4db0c5-0000-4000-8000-000000000005";
const MIA_USER: &str = "5a4db0c5-0000-4000-8000-000000000006";
const MARKETING: &str = "6e0f0000-0000-4000-8000-000000000001";

/// A sandbox on the demo seed whose key acts as `who`, after `edit`.
async fn as_user(who: &str, edit: impl FnOnce(&mut PortalState)) -> Sb {
    let who = Uuid::parse_str(who).unwrap();
    Sb::with(quick().into(), |path| {
        seed_with(path, |s| {
            s.key_user = who;
            edit(s);
        })
    })
    .await
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_string())
        .collect()
}

fn user_in_state<'a>(state: &'a Value, id: &str) -> &'a Value {
    state["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == id)
        .unwrap()
}

fn group_in_state<'a>(state: &'a Value, id: &str) -> &'a Value {
    state["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == id)
        .unwrap()
}

async fn stats(sb: &Sb) -> Value {
    let url = format!("{}__sandbox/stats", sb.handle.base_url);
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// Groups
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_created_group_has_its_manager_as_member_and_names_may_repeat() {
    let sb = as_user(OWNER, |_| {}).await;
    let body = json!({"groupName": "Design", "groupManager": MIA_USER, "members": [UMA_USER]});
    let (status, first) = sb
        .call(Method::POST, "/api/2.0/group", Some(body.clone()))
        .await;
    assert_eq!(status, 200, "{first}");
    let first = &first["response"];
    assert_eq!(first["name"], "Design");
    assert_eq!(first["manager"]["id"], MIA_USER);
    assert_eq!(ids(&first["members"]), vec![MIA_USER, UMA_USER]);
    // `AddGroup` checks no name: the same name twice makes two groups.
    let (status, second) = sb.call(Method::POST, "/api/2.0/group", Some(body)).await;
    assert_eq!(status, 200);
    assert_ne!(second["response"]["id"], first["id"]);
    let list = sb.get("/api/2.0/group?filterValue=design").await;
    assert_eq!(list["total"], 2);
    // Members come with `GET /group/{id}` (includeMembers defaults to true), not the list.
    assert!(list["response"][0].get("members").is_none());
    let id = first["id"].as_str().unwrap();
    let one = sb.get(&format!("/api/2.0/group/{id}")).await;
    assert_eq!(ids(&one["response"]["members"]), vec![MIA_USER, UMA_USER]);
    let bare = sb
        .get(&format!("/api/2.0/group/{id}?includeMembers=false"))
        .await;
    assert!(bare["response"].get("members").is_none());
    let counted = stats(&sb).await;
    assert_eq!(counted["routes"]["POST /api/2.0/group"], 2);
    assert_eq!(counted["writes"], 2);
}

#[tokio::test]
async fn creating_a_group_refuses_guests_and_names_outside_1_to_128() {
    let sb = as_user(OWNER, |_| {}).await;
    let create = |body: Value| sb.call(Method::POST, "/api/2.0/group", Some(body));
    let (status, body) = create(json!({"groupName": "G", "members": [GUS_GUEST]})).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["message"], "The user could not be found");
    let (status, _) = create(json!({"groupName": "G", "groupManager": GUS_GUEST})).await;
    assert_eq!(status, 400);
    let (status, body) = create(json!({"groupName": ""})).await;
    assert_eq!(status, 400);
    assert!(body["response"]["errors"]["GroupName"].is_array(), "{body}");
    let (status, _) = create(json!({"groupName": "x".repeat(129)})).await;
    assert_eq!(status, 400);
    let (status, body) = create(json!({"groupName": "   "})).await;
    assert_eq!(status, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("whitespace"),
        "{body}"
    );
    let (status, _) = create(json!({"members": [UMA_USER]})).await;
    assert_eq!(status, 400);
    // Nothing was made by the refused requests.
    assert_eq!(sb.state()["groups"].as_array().unwrap().len(), 2);
    // 128 UTF-16 units is the limit: 64 characters outside the BMP are 128 units.
    let (status, _) = create(json!({"groupName": "😀".repeat(64)})).await;
    assert_eq!(status, 200);
    let (status, _) = create(json!({"groupName": "😀".repeat(65)})).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn an_update_with_an_empty_name_empties_it_and_drops_guests_silently() {
    let sb = as_user(OWNER, |_| {}).await;
    let path = format!("/api/2.0/group/{MARKETING}");
    let body = json!({"groupName": "", "membersToAdd": [GUS_GUEST, RICK_ROOM_ADMIN]});
    let (status, body) = sb.call(Method::PUT, &path, Some(body)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["response"]["name"], "");
    assert_eq!(
        ids(&body["response"]["members"]),
        vec![MIA_USER, UMA_USER, RICK_ROOM_ADMIN]
    );
    // A name that is absent (null) keeps the name; removing the manager clears the manager.
    let body = json!({"membersToRemove": [MIA_USER]});
    let (status, body) = sb.call(Method::PUT, &path, Some(body)).await;
    assert_eq!(status, 200);
    assert_eq!(body["response"]["name"], "");
    assert!(body["response"].get("manager").is_none(), "{body}");
    // A new manager replaces the old one, who stays a member.
    let body = json!({"groupManager": UMA_USER});
    sb.call(Method::PUT, &path, Some(body)).await;
    let body = json!({"groupManager": RICK_ROOM_ADMIN});
    let (_, body) = sb.call(Method::PUT, &path, Some(body)).await;
    assert_eq!(body["response"]["manager"]["id"], RICK_ROOM_ADMIN);
    assert!(ids(&body["response"]["members"]).contains(&UMA_USER.to_string()));
    let (status, _) = sb
        .call(
            Method::PUT,
            &path,
            Some(json!({"groupName": "y".repeat(129)})),
        )
        .await;
    assert_eq!(status, 400);
    let unknown = format!("/api/2.0/group/{}", Uuid::new_v4());
    let (status, body) = sb.call(Method::PUT, &unknown, Some(json!({}))).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["message"], "The group could not be found");
}

#[tokio::test]
async fn deleting_a_group_answers_204_without_a_body_and_removes_its_shares() {
    let sb = as_user(OWNER, |_| {}).await;
    let (_, room) = sb
        .call(
            Method::POST,
            "/api/2.0/files/rooms",
            Some(json!({"title": "Shared", "roomType": 2})),
        )
        .await;
    let room = room["response"]["id"].as_i64().unwrap();
    let share = json!({"invitations": [{"id": MARKETING, "access": 2}], "notify": false});
    let (status, _) = sb
        .call(
            Method::PUT,
            &format!("/api/2.0/files/rooms/{room}/share"),
            Some(share),
        )
        .await;
    assert_eq!(status, 200);
    let url = format!("{}api/2.0/group/{MARKETING}", sb.handle.base_url);
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let resp = client
        .delete(&url)
        .bearer_auth(&sb.handle.api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 204);
    assert!(resp.bytes().await.unwrap().is_empty());
    let state = sb.state();
    assert_eq!(state["groups"].as_array().unwrap().len(), 1);
    let shares = &state["rooms"][0]["shares"];
    assert!(
        shares
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["subject"] != MARKETING),
        "{shares}"
    );
    let (status, _) = sb
        .call(Method::DELETE, &format!("/api/2.0/group/{MARKETING}"), None)
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn replacing_the_members_drops_the_manager() {
    let sb = as_user(OWNER, |_| {}).await;
    let path = format!("/api/2.0/group/{MARKETING}/members");
    let (status, body) = sb
        .call(
            Method::POST,
            &path,
            Some(json!({"members": [MIA_USER, RICK_ROOM_ADMIN, GUS_GUEST]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["response"].get("manager").is_none(), "{body}");
    assert_eq!(
        ids(&body["response"]["members"]),
        vec![MIA_USER, RICK_ROOM_ADMIN]
    );
    // Only invalid members: 400 `Members`, nothing changed.
    let (status, body) = sb
        .call(Method::POST, &path, Some(json!({"members": [GUS_GUEST]})))
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["message"], "Members");
    // PUT adds, DELETE removes.
    let (_, body) = sb
        .call(Method::PUT, &path, Some(json!({"members": [UMA_USER]})))
        .await;
    assert_eq!(ids(&body["response"]["members"]).len(), 3);
    let (status, body) = sb
        .call(Method::DELETE, &path, Some(json!({"members": [MIA_USER]})))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        ids(&body["response"]["members"]),
        vec![RICK_ROOM_ADMIN, UMA_USER]
    );
}

#[tokio::test]
async fn a_room_admin_setting_a_manager_changes_it_and_still_gets_403() {
    let sb = as_user(RICK_ROOM_ADMIN, |_| {}).await;
    let (status, _) = sb
        .call(
            Method::PUT,
            &format!("/api/2.0/group/{MARKETING}/manager"),
            Some(json!({"userId": UMA_USER})),
        )
        .await;
    assert_eq!(status, 403);
    let state = sb.state();
    let group = group_in_state(&state, MARKETING);
    assert_eq!(group["manager"], UMA_USER);
    // The other group writes check first and change nothing.
    let (status, _) = sb
        .call(
            Method::PUT,
            &format!("/api/2.0/group/{MARKETING}"),
            Some(json!({"groupName": "Renamed"})),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = sb
        .call(
            Method::POST,
            "/api/2.0/group",
            Some(json!({"groupName": "New"})),
        )
        .await;
    assert_eq!(status, 403);
    let state = sb.state();
    assert_eq!(group_in_state(&state, MARKETING)["name"], "Marketing");
    assert_eq!(state["groups"].as_array().unwrap().len(), 2);
    // Room admins may read groups.
    let (status, _) = sb.call(Method::GET, "/api/2.0/group", None).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn users_and_guests_cannot_read_groups() {
    for who in [UMA_USER, GUS_GUEST] {
        let sb = as_user(who, |_| {}).await;
        let (status, _) = sb.call(Method::GET, "/api/2.0/group", None).await;
        assert_eq!(status, 403);
        let (status, _) = sb
            .call(Method::GET, &format!("/api/2.0/group/{MARKETING}"), None)
            .await;
        assert_eq!(status, 403);
    }
}

// ---------------------------------------------------------------------------------------------
// Invitations with a type
// ---------------------------------------------------------------------------------------------

fn invitations(list: &[(&str, Value)]) -> Value {
    json!({
        "invitations": list
            .iter()
            .map(|(email, t)| json!({"email": email, "type": t}))
            .collect::<Vec<_>>()
    })
}

#[tokio::test]
async fn the_owner_invites_each_paid_and_free_type_and_never_a_guest() {
    let sb = as_user(OWNER, |_| {}).await;
    let body = invitations(&[
        ("new.user@sandbox.test", json!(4)),
        ("new.roomadmin@sandbox.test", json!("RoomAdmin")),
        ("new.admin@sandbox.test", json!(3)),
    ]);
    let (status, answer) = sb
        .call(Method::POST, "/api/2.0/people/invite", Some(body))
        .await;
    assert_eq!(status, 200, "{answer}");
    // The answer is every pending account the caller can see, as short profiles.
    assert_eq!(answer["count"], 3);
    assert!(answer["response"][0].get("email").is_none());
    let state = sb.state();
    let by_email = |e: &str| {
        state["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["email"] == e)
            .unwrap()
            .clone()
    };
    assert_eq!(by_email("new.user@sandbox.test")["user_type"], "user");
    assert_eq!(
        by_email("new.roomadmin@sandbox.test")["user_type"],
        "room-admin"
    );
    assert_eq!(
        by_email("new.admin@sandbox.test")["user_type"],
        "doc-space-admin"
    );
    assert_eq!(by_email("new.admin@sandbox.test")["activation_status"], 2);
    assert_eq!(by_email("new.admin@sandbox.test")["invited_by"], OWNER);
    // A guest is never invited through this route.
    let (status, _) = sb
        .call(
            Method::POST,
            "/api/2.0/people/invite",
            Some(invitations(&[("g@sandbox.test", json!(2))])),
        )
        .await;
    assert_eq!(status, 403);
    // An existing account of a lower type is upgraded; of a higher type, left alone.
    let body = invitations(&[
        ("uma.user@sandbox.test", json!(1)),
        ("dana.admin@sandbox.test", json!(4)),
    ]);
    let (status, _) = sb
        .call(Method::POST, "/api/2.0/people/invite", Some(body))
        .await;
    assert_eq!(status, 200);
    let state = sb.state();
    assert_eq!(user_in_state(&state, UMA_USER)["user_type"], "room-admin");
    assert_eq!(
        user_in_state(&state, DANA_ADMIN)["user_type"],
        "doc-space-admin"
    );
}

#[tokio::test]
async fn room_admins_invite_users_only_and_earlier_invitations_stay() {
    let sb = as_user(RICK_ROOM_ADMIN, |_| {}).await;
    let body = invitations(&[
        ("first@sandbox.test", json!("User")),
        ("second@sandbox.test", json!("RoomAdmin")),
    ]);
    let (status, _) = sb
        .call(Method::POST, "/api/2.0/people/invite", Some(body))
        .await;
    assert_eq!(status, 403);
    let state = sb.state();
    let emails: Vec<&str> = state["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert!(emails.contains(&"first@sandbox.test"));
    assert!(!emails.contains(&"second@sandbox.test"));
    let (status, body) = sb
        .call(
            Method::POST,
            "/api/2.0/people/invite",
            Some(invitations(&[("not-an-address", json!(4))])),
        )
        .await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn users_cannot_invite_and_the_portal_setting_forbids_inviting() {
    let sb = as_user(UMA_USER, |_| {}).await;
    let body = invitations(&[("x@sandbox.test", json!(4))]);
    let (status, _) = sb
        .call(Method::POST, "/api/2.0/people/invite", Some(body.clone()))
        .await;
    assert_eq!(status, 403);
    let sb = as_user(OWNER, |s| {
        s.invitation_settings.allow_inviting_members = false;
        s.invitation_settings.allow_inviting_guests = false;
    })
    .await;
    let settings = sb.get("/api/2.0/settings/invitationsettings").await;
    assert_eq!(
        settings["response"],
        json!({"allowInvitingMembers": false, "allowInvitingGuests": false})
    );
    let (status, _) = sb
        .call(Method::POST, "/api/2.0/people/invite", Some(body))
        .await;
    assert_eq!(status, 403);
    // Guests forbidden: a share with a new email is refused too.
    let (_, room) = sb
        .call(
            Method::POST,
            "/api/2.0/files/rooms",
            Some(json!({"title": "R", "roomType": 2})),
        )
        .await;
    let room = room["response"]["id"].as_i64().unwrap();
    let share = json!({"invitations": [{"email": "new.guest@sandbox.test", "access": 2}]});
    let (status, _) = sb
        .call(
            Method::PUT,
            &format!("/api/2.0/files/rooms/{room}/share"),
            Some(share),
        )
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn invitations_per_day_are_limited_when_the_portal_sets_a_limit() {
    let sb = as_user(OWNER, |s| s.invitations_per_day = Some(3)).await;
    let two = |a: &str, b: &str| invitations(&[(a, json!(4)), (b, json!(4))]);
    let (status, _) = sb
        .call(
            Method::POST,
            "/api/2.0/people/invite",
            Some(two("a@sandbox.test", "b@sandbox.test")),
        )
        .await;
    assert_eq!(status, 200);
    let url = format!("{}api/2.0/people/invite", sb.handle.base_url);
    let resp = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(url)
        .bearer_auth(&sb.handle.api_key)
        .json(&two("c@sandbox.test", "d@sandbox.test"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 429);
    assert!(resp.headers().get("retry-after").is_some());
    let state = sb.state();
    assert!(
        state["users"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["email"] != "c@sandbox.test")
    );
    let counted = stats(&sb).await;
    assert_eq!(counted["status429"], 1);
}

#[tokio::test]
async fn paid_seats_beyond_the_tariff_are_a_402() {
    let sb = as_user(OWNER, |s| s.paid_seats = Some(s.paid_seats_used())).await;
    // The seats are reported by `GET /portal/payment/quota`, feature `manager`.
    let quota = sb.get("/api/2.0/portal/payment/quota").await;
    let manager = &quota["response"]["features"][0];
    assert_eq!(manager["id"], "manager");
    // The seed's owner, Dana, Rick and Sam.
    assert_eq!(manager["value"], 4);
    assert_eq!(manager["used"]["value"], 4);
    let (status, body) = sb
        .call(
            Method::POST,
            "/api/2.0/people/invite",
            Some(invitations(&[("paid@sandbox.test", json!(1))])),
        )
        .await;
    assert_eq!(status, 402, "{body}");
    let (status, _) = sb
        .call(
            Method::POST,
            "/api/2.0/people/invite",
            Some(invitations(&[("free@sandbox.test", json!(4))])),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = sb
        .call(
            Method::PUT,
            "/api/2.0/people/type/RoomAdmin",
            Some(json!({"userIds": [UMA_USER]})),
        )
        .await;
    assert_eq!(status, 402);
    // A user sees the limit, not the count; a guest is refused.
    let sb = as_user(UMA_USER, |_| {}).await;
    let quota = sb.get("/api/2.0/portal/payment/quota").await;
    assert_eq!(quota["response"]["features"][0]["value"], -1);
    assert!(
        quota["response"]["features"][0]["used"]
            .get("value")
            .is_none()
    );
    let sb = as_user(GUS_GUEST, |_| {}).await;
    let (status, _) = sb
        .call(Method::GET, "/api/2.0/portal/payment/quota", None)
        .await;
    assert_eq!(status, 403);
}

// ---------------------------------------------------------------------------------------------
// Type changes
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_type_change_only_upgrades_and_earlier_users_keep_theirs() {
    let sb = as_user(OWNER, |_| {}).await;
    let body = json!({"userIds": [GUS_GUEST, RICK_ROOM_ADMIN, UMA_USER]});
    let (status, _) = sb
        .call(Method::PUT, "/api/2.0/people/type/RoomAdmin", Some(body))
        .await;
    assert_eq!(status, 403);
    let state = sb.state();
    assert_eq!(user_in_state(&state, GUS_GUEST)["user_type"], "room-admin");
    assert_eq!(user_in_state(&state, UMA_USER)["user_type"], "user");
    // A downgrade and the same type are refused.
    for (t, who) in [("Guest", UMA_USER), ("User", UMA_USER), ("2", MIA_USER)] {
        let (status, _) = sb
            .call(
                Method::PUT,
                &format!("/api/2.0/people/type/{t}"),
                Some(json!({"userIds": [who]})),
            )
            .await;
        assert_eq!(status, 403, "{t}");
    }
    let (status, body) = sb
        .call(
            Method::PUT,
            "/api/2.0/people/type/1",
            Some(json!({"userIds": [UMA_USER, MIA_USER]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["response"][1]["isRoomAdmin"], true);
    assert_eq!(body["count"], 1);
    let (status, _) = sb
        .call(
            Method::PUT,
            "/api/2.0/people/type/Owner",
            Some(json!({"userIds": [UMA_USER]})),
        )
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn only_the_owner_makes_docspace_admins() {
    let sb = as_user(DANA_ADMIN, |_| {}).await;
    let body = json!({"userIds": [UMA_USER]});
    let (status, _) = sb
        .call(
            Method::PUT,
            "/api/2.0/people/type/DocSpaceAdmin",
            Some(body.clone()),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = sb
        .call(
            Method::PUT,
            "/api/2.0/people/type/RoomAdmin",
            Some(body.clone()),
        )
        .await;
    assert_eq!(status, 200);
    let sb = as_user(OWNER, |_| {}).await;
    let (status, _) = sb
        .call(Method::PUT, "/api/2.0/people/type/3", Some(body))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        user_in_state(&sb.state(), UMA_USER)["user_type"],
        "doc-space-admin"
    );
}

#[tokio::test]
async fn a_room_admin_may_make_a_related_guest_a_user_only() {
    let sb = as_user(RICK_ROOM_ADMIN, |s| {
        let rick = s.key_user;
        s.set_invited_by("gus.guest@sandbox.test", rick);
    })
    .await;
    let (status, _) = sb
        .call(
            Method::PUT,
            "/api/2.0/people/type/RoomAdmin",
            Some(json!({"userIds": [GUS_GUEST]})),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = sb
        .call(
            Method::PUT,
            "/api/2.0/people/type/User",
            Some(json!({"userIds": [GUS_GUEST]})),
        )
        .await;
    assert_eq!(status, 200);
    // Without a relation the guest is invisible to a room admin: 403.
    let sb = as_user(RICK_ROOM_ADMIN, |_| {}).await;
    let (status, _) = sb
        .call(
            Method::PUT,
            "/api/2.0/people/type/User",
            Some(json!({"userIds": [GUS_GUEST]})),
        )
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn a_room_admin_sharing_with_an_unrelated_guest_by_id_is_dropped_silently() {
    let sb = as_user(RICK_ROOM_ADMIN, |_| {}).await;
    let (_, room) = sb
        .call(
            Method::POST,
            "/api/2.0/files/rooms",
            Some(json!({"title": "Rick's", "roomType": 2})),
        )
        .await;
    let room = room["response"]["id"].as_i64().unwrap();
    let share_path = format!("/api/2.0/files/rooms/{room}/share");
    let (status, body) = sb
        .call(
            Method::PUT,
            &share_path,
            Some(json!({"invitations": [{"id": GUS_GUEST, "access": 2}], "notify": false})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["response"]["members"], json!([]));
    assert!(
        sb.state()["rooms"][0]["shares"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // By email it works, and relates Rick to Gus: by id works from then on.
    let by_email = json!({"invitations": [{"email": "gus.guest@sandbox.test", "access": 2}]});
    let (status, _) = sb.call(Method::PUT, &share_path, Some(by_email)).await;
    assert_eq!(status, 200);
    assert_eq!(
        sb.state()["rooms"][0]["shares"].as_array().unwrap().len(),
        1
    );
    let (_, body) = sb
        .call(
            Method::PUT,
            &share_path,
            Some(json!({"invitations": [{"id": GUS_GUEST, "access": 2}], "notify": false})),
        )
        .await;
    assert_eq!(body["response"]["members"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn profiles_the_caller_cannot_see_are_refused() {
    let sb = as_user(RICK_ROOM_ADMIN, |_| {}).await;
    let (status, _) = sb
        .call(
            Method::GET,
            "/api/2.0/people/email?email=gus.guest@sandbox.test",
            None,
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = sb
        .call(Method::GET, &format!("/api/2.0/people/{GUS_GUEST}"), None)
        .await;
    assert_eq!(status, 403);
    let (status, _) = sb
        .call(Method::GET, &format!("/api/2.0/people/{UMA_USER}"), None)
        .await;
    assert_eq!(status, 200);
    let sb = as_user(UMA_USER, |_| {}).await;
    let (status, _) = sb
        .call(
            Method::GET,
            &format!("/api/2.0/people/{RICK_ROOM_ADMIN}"),
            None,
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = sb
        .call(
            Method::GET,
            "/api/2.0/people/email?email=uma.user@sandbox.test",
            None,
        )
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_room_admins_search_leaves_out_unrelated_guests_and_users_cannot_search() {
    let sb = as_user(RICK_ROOM_ADMIN, |_| {}).await;
    let found = sb.get("/api/2.0/people/filter?count=100").await;
    let emails: Vec<&str> = found["response"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert!(!emails.contains(&"gus.guest@sandbox.test"), "{emails:?}");
    assert!(emails.contains(&"uma.user@sandbox.test"));
    let sb = as_user(RICK_ROOM_ADMIN, |s| {
        let rick = s.key_user;
        let gus = Uuid::parse_str(GUS_GUEST).unwrap();
        s.add_relation(rick, gus);
    })
    .await;
    let found = sb.get("/api/2.0/people/filter?count=100&area=2").await;
    assert_eq!(ids(&found["response"]), vec![GUS_GUEST]);
    let sb = as_user(UMA_USER, |_| {}).await;
    for path in ["/api/2.0/people/filter", "/api/2.0/people"] {
        let (status, _) = sb.call(Method::GET, path, None).await;
        assert_eq!(status, 403, "{path}");
    }
    // `GET /people` is the same search, active accounts only.
    let sb = as_user(RICK_ROOM_ADMIN, |_| {}).await;
    let all = sb.get("/api/2.0/people?count=100").await;
    assert!(!ids(&all["response"]).contains(&GUS_GUEST.to_string()));
}

#[tokio::test]
async fn a_room_admin_resends_to_another_admins_guest_only_with_a_relation() {
    let mut ids_of = Vec::new();
    let sb = as_user(RICK_ROOM_ADMIN, |s| {
        let rick = s.key_user;
        let owner = Uuid::parse_str(OWNER).unwrap();
        for email in ["kept@sandbox.test", "stranger@sandbox.test"] {
            let id = s.add_pending_user(email, chrono::Utc::now());
            s.set_invited_by(email, owner);
            ids_of.push(id);
        }
        s.add_relation(rick, ids_of[0]);
    })
    .await;
    let (status, _) = sb
        .call(
            Method::PUT,
            "/api/2.0/people/invite",
            Some(json!({"userIds": ids_of})),
        )
        .await;
    assert_eq!(status, 200);
    let resends = sb.state()["resends"].clone();
    assert!(resends.get(ids_of[0].to_string()).is_some(), "{resends}");
    assert!(resends.get(ids_of[1].to_string()).is_none(), "{resends}");
}

#[tokio::test]
async fn a_group_seeded_by_hand_is_served_as_the_file_says() {
    use docspace_provision::sandbox::rules::UserType;
    let mut made = Uuid::nil();
    let sb = as_user(OWNER, |s| {
        let uma = s.user_id("uma.user@sandbox.test").unwrap();
        let mia = s.user_id("mia.marketing@sandbox.test").unwrap();
        made = s.add_group("marketing", Some(uma), &[mia]);
        s.set_user_type("mia.marketing@sandbox.test", UserType::Guest);
    })
    .await;
    let one = sb.get(&format!("/api/2.0/group/{made}")).await;
    assert_eq!(one["response"]["manager"]["id"], UMA_USER);
    assert_eq!(ids(&one["response"]["members"]), vec![UMA_USER, MIA_USER]);
    assert_eq!(one["response"]["members"][1]["isVisitor"], true);
    // Two groups whose names differ only in case: the server keeps both.
    let list = sb.get("/api/2.0/group?filterValue=marketing").await;
    assert_eq!(list["total"], 2);
}
