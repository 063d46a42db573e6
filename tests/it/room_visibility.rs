//! Rooms a key whose user is not a DocSpace admin sees (docs/sandbox.md, "Rooms a non-admin
//! key sees"): `FileSecurity.GetVirtualRoomsAsync` lists every room only to a DocSpace admin;
//! anyone else sees the rooms they created or are a member of, directly or through a group.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Portal, quick};

const RICK: &str = "5a4db0c5-0000-4000-8000-000000000003";
/// The seed's "Sales" group, of which Rick is a member.
const SALES: &str = "6e0f0000-0000-4000-8000-000000000002";

/// The owner makes three rooms (one shared with Rick, one with his group, one with no one),
/// then the sandbox restarts with `key_user` set to `key_user`.
async fn portal_as(key_user: &str) -> (Portal, [i64; 3]) {
    let first = Portal::start().await;
    let direct = first.create_room("Direct", 2).await;
    let via_group = first.create_room("Via group", 2).await;
    let hidden = first.create_room("Hidden", 2).await;
    first
        .share(direct, json!([{ "id": RICK, "access": 9 }]))
        .await;
    first
        .share(via_group, json!([{ "id": SALES, "access": 2 }]))
        .await;
    let mut state = first.state();
    state["key_user"] = Value::from(key_user);
    let state: docspace_provision::sandbox::state::PortalState =
        serde_json::from_value(state).unwrap();
    let portal = Portal::seeded(quick(), move |s| *s = state).await;
    (portal, [direct, via_group, hidden])
}

async fn get(portal: &Portal, path: &str) -> (u16, Value) {
    let resp = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .request(Method::GET, portal.url(path))
        .bearer_auth(&portal.handle.api_key)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn listed(portal: &Portal) -> Vec<String> {
    let (status, body) = get(portal, "/api/2.0/files/rooms?searchArea=2").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["response"]["total"].as_u64().unwrap() as usize,
        body["response"]["folders"].as_array().unwrap().len()
    );
    let mut titles: Vec<String> = body["response"]["folders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap().to_string())
        .collect();
    titles.sort();
    titles
}

#[tokio::test(flavor = "multi_thread")]
async fn a_room_admin_key_sees_only_its_rooms() {
    let (portal, [direct, via_group, hidden]) = portal_as(RICK).await;
    // A room Rick creates is his: visible with no share row for him.
    let own = portal.create_room("Own", 2).await;
    assert_eq!(listed(&portal).await, ["Direct", "Own", "Via group"]);
    for id in [direct, via_group, own] {
        let (status, body) = get(&portal, &format!("/api/2.0/files/rooms/{id}")).await;
        assert_eq!(status, 200, "{id}: {body}");
    }
    // `FileStorageService.GetFolderAsync`: `InvalidOperationException`, 403 with its message.
    let (status, body) = get(&portal, &format!("/api/2.0/files/rooms/{hidden}")).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        body["error"]["message"],
        "You don't have enough permission to view the folder content"
    );
    // `FileSharing.GetPureSharesAsync`/`GetPureSharesCountAsync`: empty, total 0, 200.
    let (status, body) = get(&portal, &format!("/api/2.0/files/rooms/{hidden}/share")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["response"], json!([]));
    assert_eq!(body["total"], 0);
    let (status, body) = get(&portal, &format!("/api/2.0/files/rooms/{direct}/share")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["total"].as_i64().unwrap() >= 2, "{body}");
    let (status, body) = get(&portal, &format!("/api/2.0/files/rooms/{hidden}/links")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["response"], json!([]));
    // A missing room is still 404.
    let (status, _) = get(&portal, "/api/2.0/files/rooms/999999").await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_docspace_admin_key_sees_every_room() {
    let (portal, [_, _, hidden]) = portal_as("5a4db0c5-0000-4000-8000-000000000002").await;
    assert_eq!(listed(&portal).await, ["Direct", "Hidden", "Via group"]);
    let (status, _) = get(&portal, &format!("/api/2.0/files/rooms/{hidden}")).await;
    assert_eq!(status, 200);
}

/// The client on a partial view: a manifest room that exists but is hidden from a room
/// admin's key is planned as a create (the server would make a second room with that
/// title), so `plan` says the view is partial. A room the key can see is matched as usual.
#[tokio::test(flavor = "multi_thread")]
async fn plan_with_a_room_admin_key_warns_that_new_rooms_may_exist_unseen() {
    let (portal, _) = portal_as(RICK).await;
    let run = portal.plan(
        "version: 1\nrooms:\n  - title: Hidden\n    type: collaboration\n  - title: Direct\n    type: collaboration\n",
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("Hidden"), "{}", run.stdout);
    assert!(
        run.stderr.contains(
            "note: partial view: the key's user (rick.roomadmin@sandbox.test) is not a DocSpace admin"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("1 room(s) planned as new"),
        "{}",
        run.stderr
    );
    assert_eq!(portal.stats().await["writes"], 0);

    // An admin's key sees the room: nothing to create, no note.
    let (admin, _) = portal_as("5a4db0c5-0000-4000-8000-000000000002").await;
    let run = admin.plan(
        "version: 1\nrooms:\n  - title: Hidden\n    type: collaboration\n",
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("partial view"), "{}", run.stderr);
    // "Nothing to create" is the exit code, not only the missing note; the room admin's
    // key, by contrast, has the hidden room to create.
    let text = "version: 1\nrooms:\n  - title: Hidden\n    type: collaboration\n";
    let clean = admin.plan(text, &["--detailed-exitcode"]);
    assert_eq!(clean.code, 0, "{}{}", clean.stdout, clean.stderr);
    let changes = portal.plan(text, &["--detailed-exitcode"]);
    assert_eq!(changes.code, 2, "{}{}", changes.stdout, changes.stderr);
}
