//! Conformance tests for the server rules the sandbox emulates on its own side (issue 9): each
//! drives a real sandbox over HTTP on 127.0.0.1 and checks one rule read from the DocSpace
//! server source (see docs/sandbox.md, "Rules read from the server source").

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use docspace_provision::sandbox::FaultConfig;
use docspace_provision::sandbox::state::{self, PortalState, ThirdPartyRoom, User};
use docspace_provision::sandbox::{SandboxHandle, start_in_process};
use reqwest::{Client, Method};
use serde_json::{Value, json};

use crate::common::quick;

const OWNER: &str = "5a4db0c5-0000-4000-8000-000000000001";

pub(crate) struct Sb {
    pub(crate) handle: SandboxHandle,
    client: Client,
    dir: tempfile::TempDir,
}

impl Sb {
    /// A sandbox on a fresh seed, after `prepare` had its way with the state file.
    pub(crate) async fn with(faults: FaultConfig, prepare: impl FnOnce(&Path)) -> Sb {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        prepare(&path);
        let handle = start_in_process(&path, faults).await.unwrap();
        Sb {
            handle,
            client: Client::builder().no_proxy().build().unwrap(),
            dir,
        }
    }

    pub(crate) async fn start() -> Sb {
        Sb::with(quick().into(), |_| {}).await
    }

    pub(crate) fn state_path(&self) -> std::path::PathBuf {
        self.dir.path().join("state.json")
    }

    pub(crate) fn state(&self) -> Value {
        serde_json::from_slice(&std::fs::read(self.state_path()).unwrap()).unwrap()
    }

    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let url = format!(
            "{}{}",
            self.handle.base_url.as_str().trim_end_matches('/'),
            path
        );
        let mut req = self
            .client
            .request(method, url)
            .bearer_auth(&self.handle.api_key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub(crate) async fn get(&self, path: &str) -> Value {
        let (status, body) = self.call(Method::GET, path, None).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    async fn create(&self, body: Value) -> Value {
        let (status, body) = self
            .call(Method::POST, "/api/2.0/files/rooms", Some(body))
            .await;
        assert_eq!(status, 200, "{body}");
        body["response"].clone()
    }

    /// Every room of the active section, paging by `count` with the given extra query.
    async fn all_rooms(&self, count: usize, query: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut start = 0;
        loop {
            let page = self
                .get(&format!(
                    "/api/2.0/files/rooms?count={count}&startIndex={start}{query}"
                ))
                .await;
            let folders = page["response"]["folders"].as_array().unwrap().clone();
            out.extend(folders);
            start += count;
            if start as i64 >= page["response"]["total"].as_i64().unwrap() {
                return out;
            }
        }
    }
}

/// Seeds the state file and lets `edit` change it before the sandbox starts.
pub(crate) fn seed_with(path: &Path, edit: impl FnOnce(&mut PortalState)) {
    let mut s = PortalState::seed();
    edit(&mut s);
    state::write_atomically(path, &serde_json::to_vec(&s).unwrap()).unwrap();
}

// ---------------------------------------------------------------------------------------------
// 1. Rooms in connected storage
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn connected_storage_rooms_are_listed_as_folder_dto_string() {
    let sb = Sb::with(quick().into(), |path| {
        let mut room = ThirdPartyRoom::new("sbox-3-7", "Box archive", 5);
        room.tags = vec!["external".to_string()];
        state::add_third_party_room(path, room).unwrap();
        let mut archived = ThirdPartyRoom::new("dropbox-4-1", "Old Dropbox", 2);
        archived.archived = true;
        archived.provider = "DropboxV2".to_string();
        archived.provider_id = 4;
        state::add_third_party_room(path, archived).unwrap();
    })
    .await;
    sb.create(json!({ "title": "Own", "roomType": 2 })).await;

    let page = sb.get("/api/2.0/files/rooms?count=1").await;
    assert_eq!(page["response"]["total"], 2, "own + connected active rooms");
    let all = sb.all_rooms(1, "").await;
    assert_eq!(all.len(), 2);
    let ext = all
        .iter()
        .find(|r| r["id"].is_string())
        .expect("a string id");
    assert_eq!(ext["id"], "sbox-3-7");
    assert_eq!(
        ext["parentId"], "1",
        "parentId is a string in FolderDto<string>"
    );
    assert_eq!(ext["rootFolderId"], "1");
    assert_eq!(ext["providerItem"], true);
    assert_eq!(ext["providerKey"], "Box");
    assert_eq!(ext["providerId"], 3);
    assert_eq!(ext["roomType"], 5);
    assert_eq!(ext["rootFolderType"], 14);
    assert_eq!(ext["tags"], json!(["external"]));
    let own = all.iter().find(|r| r["id"].is_i64()).unwrap();
    assert!(own["parentId"].is_i64());
    assert!(own.get("providerItem").is_none());

    // The archive section lists the archived one, with the archive folder as its parent.
    let archived = sb.get("/api/2.0/files/rooms?searchArea=1").await;
    assert_eq!(archived["response"]["total"], 1);
    assert_eq!(archived["response"]["folders"][0]["id"], "dropbox-4-1");
    assert_eq!(archived["response"]["folders"][0]["parentId"], "2");
    assert_eq!(archived["response"]["folders"][0]["rootFolderType"], 20);
    assert_eq!(
        sb.get("/api/2.0/files/rooms?searchArea=2").await["response"]["total"],
        3
    );

    // Filters apply to them like to any room.
    let tagged = sb
        .get("/api/2.0/files/rooms?tags=%5B%22EXTERNAL%22%5D")
        .await;
    assert_eq!(tagged["response"]["total"], 1);
    assert_eq!(tagged["response"]["folders"][0]["id"], "sbox-3-7");

    // Readable by its string id; not reachable by the integer-id write endpoints.
    let one = sb.get("/api/2.0/files/rooms/sbox-3-7").await;
    assert_eq!(one["response"]["title"], "Box archive");
    for (method, path) in [
        (Method::PUT, "/api/2.0/files/rooms/sbox-3-7/archive"),
        (Method::PUT, "/api/2.0/files/rooms/sbox-3-7/share"),
        (Method::GET, "/api/2.0/files/rooms/sbox-3-7/share"),
        (Method::PUT, "/api/2.0/files/rooms/sbox-3-7/tags"),
        (Method::DELETE, "/api/2.0/files/rooms/sbox-3-7"),
    ] {
        let (status, _) = sb.call(method.clone(), path, Some(json!({}))).await;
        assert_eq!(status, 404, "{method} {path}");
    }
    let (status, _) = sb
        .call(
            Method::PUT,
            "/api/2.0/files/rooms/sbox-3-7",
            Some(json!({ "title": "x" })),
        )
        .await;
    assert_eq!(status, 403);
    // Nothing changed.
    assert_eq!(sb.state()["third_party_rooms"][0]["title"], "Box archive");
}

/// The documented hand-written shape (docs/sandbox.md) loads: only `id`, `title` and
/// `room_type` are required, and an old state file without the field still loads.
#[tokio::test]
async fn a_hand_written_connected_room_in_the_state_file_loads() {
    let sb = Sb::with(quick().into(), |path| {
        seed_with(path, |_| {});
        let mut v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        v.as_object_mut().unwrap().remove("third_party_rooms");
        v.as_object_mut().unwrap().remove("room_sort");
        // An old file (no new fields) loads...
        std::fs::write(path, serde_json::to_vec(&v).unwrap()).unwrap();
        state::load_or_seed(path).expect("a state file without the new fields loads");
        // ... and the documented example shape is accepted.
        v["third_party_rooms"] = json!([{
            "id": "sbox-3-7",
            "title": "Partner share (Box)",
            "room_type": 2,
            "archived": false,
            "tags": ["partners"],
            "provider": "Box",
            "provider_id": 3
        }]);
        std::fs::write(path, serde_json::to_vec(&v).unwrap()).unwrap();
    })
    .await;
    let list = sb.get("/api/2.0/files/rooms").await;
    assert_eq!(list["response"]["total"], 1);
    assert_eq!(
        list["response"]["folders"][0]["title"],
        "Partner share (Box)"
    );
    assert_eq!(list["response"]["folders"][0]["id"], "sbox-3-7");
}

// ---------------------------------------------------------------------------------------------
// 2. Title sanitising per UTF-16 unit
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn titles_are_stored_trimmed_then_replaced_per_utf16_unit() {
    let sb = Sb::start().await;
    let room = sb
        .create(json!({ "title": "🚀 Launch", "roomType": 2 }))
        .await;
    assert_eq!(room["title"], "__ Launch");
    let id = room["id"].as_i64().unwrap();
    let emoji_cjk = sb
        .create(json!({ "title": "  Q3: 𠀀 plan?\t", "roomType": 2 }))
        .await;
    assert_eq!(emoji_cjk["title"], "Q3_ __ plan_");

    // Rename: same rule.
    let (status, body) = sb
        .call(
            Method::PUT,
            &format!("/api/2.0/files/rooms/{id}"),
            Some(json!({ "title": " Ops 🛠️ / Support " })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // U+1F6E0 is a surrogate pair (2 units); U+FE0F (variation selector) is in the BMP.
    assert_eq!(body["response"]["title"], "Ops __\u{FE0F} _ Support");
    let stored = sb.get(&format!("/api/2.0/files/rooms/{id}")).await;
    assert_eq!(stored["response"]["title"], "Ops __\u{FE0F} _ Support");

    // The 170 limit counts UTF-16 units: 85 emoji fit, 86 do not.
    let fits = "😀".repeat(85);
    let room = sb.create(json!({ "title": fits, "roomType": 2 })).await;
    assert_eq!(room["title"].as_str().unwrap(), "_".repeat(170));
    let (status, _) = sb
        .call(
            Method::POST,
            "/api/2.0/files/rooms",
            Some(json!({ "title": "😀".repeat(86), "roomType": 2 })),
        )
        .await;
    assert_eq!(status, 400);
}

// ---------------------------------------------------------------------------------------------
// 3. Tags are case-insensitive portal-wide; the existing spelling wins
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn tags_match_existing_spelling_ignoring_case() {
    let sb = Sb::start().await;
    sb.create(json!({ "title": "First", "roomType": 2, "tags": ["acme"] }))
        .await;
    let second = sb
        .create(json!({ "title": "Second", "roomType": 2, "tags": ["Acme", "ACME", "New"] }))
        .await;
    // Listed newest portal tag first (`FolderDtoHelper` orders by tag id, descending).
    assert_eq!(second["tags"], json!(["New", "acme"]));
    let id = second["id"].as_i64().unwrap();

    // Update (PUT room) replaces the set, each name taking the existing spelling.
    let (_, body) = sb
        .call(
            Method::PUT,
            &format!("/api/2.0/files/rooms/{id}"),
            Some(json!({ "tags": ["ACME", "new"] })),
        )
        .await;
    assert_eq!(body["response"]["tags"], json!(["New", "acme"]));

    // The tag route adds without duplicating and removes ignoring case.
    let (_, body) = sb
        .call(
            Method::PUT,
            &format!("/api/2.0/files/rooms/{id}/tags"),
            Some(json!({ "names": ["aCmE", "Beta"] })),
        )
        .await;
    assert_eq!(body["response"]["tags"], json!(["Beta", "New", "acme"]));
    let (_, body) = sb
        .call(
            Method::DELETE,
            &format!("/api/2.0/files/rooms/{id}/tags"),
            Some(json!({ "names": ["BETA", "NEW"] })),
        )
        .await;
    assert_eq!(body["response"]["tags"], json!(["acme"]));

    // One portal-wide tag per name, whatever the spelling asked for.
    let tags = sb.get("/api/2.0/files/tags").await;
    assert_eq!(tags["response"], json!(["Beta", "New", "acme"]));
    // Listing by tag ignores case too.
    let found = sb.get("/api/2.0/files/rooms?tags=%5B%22ACME%22%5D").await;
    assert_eq!(found["response"]["total"], 2);
}

// ---------------------------------------------------------------------------------------------
// 4. People paging: the server's order, ties unstable; an explicit total order pages exactly
// ---------------------------------------------------------------------------------------------

/// 150 active users all called "Anna" plus 3 pending invitees.
fn crowd(s: &mut PortalState) {
    let template = s.users[3].clone();
    for n in 0..150u32 {
        let mut u: User = template.clone();
        u.id = uuid::Uuid::from_u128(0xa000_0000_0000_4000_8000_0000_0000_0000 | u128::from(n));
        u.first_name = "Anna".to_string();
        u.last_name = format!("Crowd{n:03}");
        u.email = format!("anna{n:03}@sandbox.test");
        u.user_name = format!("anna{n:03}");
        s.users.push(u);
    }
    for (n, email) in ["zed@sandbox.test", "amy@sandbox.test", "bob@sandbox.test"]
        .iter()
        .enumerate()
    {
        let mut u: User = template.clone();
        u.id = uuid::Uuid::from_u128(0xb000_0000_0000_4000_8000_0000_0000_0000 | n as u128);
        u.first_name = String::new();
        u.last_name = String::new();
        u.email = email.to_string();
        u.user_name = email.split('@').next().unwrap().to_string();
        u.status = state::STATUS_PENDING;
        u.activation_status = state::ACTIVATION_PENDING;
        s.users.push(u);
    }
}

async fn people_pages(sb: &Sb, query: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut start = 0;
    loop {
        let page = sb
            .get(&format!(
                "/api/2.0/people/filter?count=100&startIndex={start}{query}"
            ))
            .await;
        out.extend(page["response"].as_array().unwrap().iter().cloned());
        start += 100;
        if start >= page["total"].as_i64().unwrap() {
            return out;
        }
    }
}

#[tokio::test]
async fn people_default_order_is_status_then_first_name_and_ties_page_unstably() {
    let sb = Sb::with(quick().into(), |path| seed_with(path, crowd)).await;
    let total = 7 + 150 + 3;

    // Default order: active users by first name, then pending ones by email.
    let first = sb.get("/api/2.0/people/filter?count=100").await;
    assert_eq!(first["total"], total);
    let names: Vec<&str> = first["response"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["firstName"].as_str().unwrap())
        .collect();
    assert_eq!(
        names[0], "Anna",
        "ties on first name come first alphabetically"
    );
    let all = people_pages(&sb, "").await;
    let tail: Vec<&str> = all[all.len() - 3..]
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(
        tail,
        ["amy@sandbox.test", "bob@sandbox.test", "zed@sandbox.test"]
    );
    // Descending keeps status first, reverses the names.
    let desc = sb.get("/api/2.0/people/filter?count=3&sortOrder=1").await;
    assert_eq!(desc["response"][0]["firstName"], "Uma");

    // Paging without a total order: ties come back in a different order per request, so a
    // client that pages sees duplicates and misses people (as on a real database).
    let mut broken = false;
    for _ in 0..5 {
        let ids: Vec<String> = people_pages(&sb, "")
            .await
            .iter()
            .map(|u| u["id"].as_str().unwrap().to_string())
            .collect();
        let distinct: HashSet<&String> = ids.iter().collect();
        if distinct.len() != total {
            broken = true;
        }
    }
    assert!(broken, "tie order must not be stable across requests");

    // `sortBy=email` is a total order: pages partition the list, in email order.
    for _ in 0..3 {
        let emails: Vec<String> = people_pages(&sb, "&sortBy=email&sortOrder=0")
            .await
            .iter()
            .map(|u| u["email"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(emails.len(), total);
        let distinct: HashSet<&String> = emails.iter().collect();
        assert_eq!(distinct.len(), total, "no overlap, no skip");
        let mut sorted = emails.clone();
        sorted.sort_by_key(|e| e.to_lowercase());
        assert_eq!(emails, sorted);
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Email matching: MySQL ignores case; PostgreSQL installs do not
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn emails_ignore_case_by_default() {
    let sb = Sb::start().await;
    let found = sb
        .get("/api/2.0/people/email?email=UMA.User@Sandbox.TEST")
        .await;
    assert_eq!(found["response"]["email"], "uma.user@sandbox.test");
    let room = sb.create(json!({ "title": "R", "roomType": 2 })).await;
    let id = room["id"].as_i64().unwrap();
    let (status, _) = sb
        .call(
            Method::PUT,
            &format!("/api/2.0/files/rooms/{id}/share"),
            Some(json!({ "invitations": [{ "email": "Uma.User@sandbox.test", "access": 2 }] })),
        )
        .await;
    assert_eq!(status, 200);
    let users = sb.state()["users"].as_array().unwrap().len();
    assert_eq!(users, 7, "the existing account was used");
}

#[tokio::test]
async fn case_sensitive_emails_miss_and_invite_a_second_account() {
    let sb = Sb::with(
        FaultConfig {
            case_sensitive_emails: true,
            ..quick().into()
        },
        |_| {},
    )
    .await;
    let (status, _) = sb
        .call(
            Method::GET,
            "/api/2.0/people/email?email=Uma.User@sandbox.test",
            None,
        )
        .await;
    assert_eq!(status, 404);
    let exact = sb
        .get("/api/2.0/people/email?email=uma.user@sandbox.test")
        .await;
    assert_eq!(exact["response"]["firstName"], "Uma");

    let room = sb.create(json!({ "title": "R", "roomType": 2 })).await;
    let id = room["id"].as_i64().unwrap();
    let (status, _) = sb
        .call(
            Method::PUT,
            &format!("/api/2.0/files/rooms/{id}/share"),
            Some(json!({ "invitations": [{ "email": "Uma.User@sandbox.test", "access": 2 }] })),
        )
        .await;
    assert_eq!(status, 200);
    let state = sb.state();
    let umas: Vec<&Value> = state["users"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| {
            u["email"]
                .as_str()
                .unwrap()
                .eq_ignore_ascii_case("uma.user@sandbox.test")
        })
        .collect();
    assert_eq!(umas.len(), 2, "a second, pending account was created");
    let new = umas
        .iter()
        .find(|u| u["email"] == "Uma.User@sandbox.test")
        .unwrap();
    assert_eq!(new["status"], state::STATUS_PENDING);
    assert_eq!(new["user_type"], "guest");
}

// ---------------------------------------------------------------------------------------------
// 6. Room listing sort preference
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn sort_by_on_the_room_list_is_saved_as_the_users_default() {
    let sb = Sb::start().await;
    for title in ["b", "C", "a"] {
        sb.create(json!({ "title": title, "roomType": 2 })).await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let titles = |v: &Value| -> Vec<String> {
        v["response"]["folders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["title"].as_str().unwrap().to_string())
            .collect()
    };
    // Initial default: DateAndTime descending (`FilesSettings.GetDefault`); nothing saved.
    assert_eq!(
        titles(&sb.get("/api/2.0/files/rooms").await),
        ["a", "C", "b"]
    );
    assert!(sb.state()["room_sort"].as_object().unwrap().is_empty());
    // sortOrder alone is ignored: the saved default applies as a whole.
    assert_eq!(
        titles(&sb.get("/api/2.0/files/rooms?sortOrder=0").await),
        ["a", "C", "b"]
    );
    // An unknown sortBy is ignored and not saved.
    sb.get("/api/2.0/files/rooms?sortBy=Title").await;
    assert!(sb.state()["room_sort"].as_object().unwrap().is_empty());

    // A valid sortBy is used and saved (sortOrder defaults to ascending).
    assert_eq!(
        titles(&sb.get("/api/2.0/files/rooms?sortBy=az").await),
        ["a", "b", "C"]
    );
    assert_eq!(
        sb.state()["room_sort"][OWNER],
        json!({ "sorted_by": "AZ", "is_asc": true })
    );
    // ... and now applies without sortBy.
    assert_eq!(
        titles(&sb.get("/api/2.0/files/rooms").await),
        ["a", "b", "C"]
    );
    sb.get("/api/2.0/files/rooms?sortBy=AZ&sortOrder=1").await;
    assert_eq!(
        sb.state()["room_sort"][OWNER],
        json!({ "sorted_by": "AZ", "is_asc": false })
    );
    assert_eq!(
        titles(&sb.get("/api/2.0/files/rooms").await),
        ["C", "b", "a"]
    );

    // It survives a restart (it is a stored user setting).
    let Sb {
        handle,
        dir,
        client,
    } = sb;
    handle.stop().await.unwrap();
    let handle = start_in_process(&dir.path().join("state.json"), quick())
        .await
        .unwrap();
    let sb = Sb {
        handle,
        client,
        dir,
    };
    assert_eq!(
        titles(&sb.get("/api/2.0/files/rooms").await),
        ["C", "b", "a"]
    );
}

#[tokio::test]
async fn paging_with_the_saved_default_is_stable_on_tied_keys() {
    let sb = Sb::start().await;
    // 120 rooms: 60 pairs sharing a title; DateAndTime ties are broken by title, then by
    // listing order.
    for n in 0..120 {
        sb.create(json!({ "title": format!("Room {}", n / 2), "roomType": 2 }))
            .await;
    }
    for query in ["", "&sortBy=AZ&sortOrder=0", "&sortBy=RoomType"] {
        for _ in 0..2 {
            let ids: Vec<i64> = sb
                .all_rooms(25, query)
                .await
                .iter()
                .map(|r| r["id"].as_i64().unwrap())
                .collect();
            let distinct: HashSet<&i64> = ids.iter().collect();
            assert_eq!(ids.len(), 120, "{query}");
            assert_eq!(distinct.len(), 120, "no overlap or skip with {query}");
        }
    }
    // Natural order: "Room 2" before "Room 10".
    let az = sb.all_rooms(100, "&sortBy=AZ&sortOrder=0").await;
    assert_eq!(az[4]["title"], "Room 2");
}

// ---------------------------------------------------------------------------------------------
// 7. Archive / unarchive failures are only in the operation
// ---------------------------------------------------------------------------------------------

async fn poll_until_finished(sb: &Sb, op_id: &str) -> Value {
    for _ in 0..200 {
        let ops = sb.get(&format!("/api/2.0/files/fileops?id={op_id}")).await;
        let list = ops["response"].as_array().unwrap();
        assert_eq!(list.len(), 1, "the operation is reported until it finishes");
        if list[0]["finished"] == true {
            return list[0].clone();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("operation {op_id} never finished");
}

#[tokio::test]
async fn a_refused_archive_fails_in_the_operation_and_the_room_stays() {
    let sb = Sb::with(
        FaultConfig {
            fail_archive: vec!["Doomed".to_string()],
            // Long enough that an operation is still running when first listed.
            operation_delay_ms: 300,
            ..FaultConfig::default()
        },
        |_| {},
    )
    .await;
    let room = sb.create(json!({ "title": "Doomed", "roomType": 2 })).await;
    let id = room["id"].as_i64().unwrap();
    let (status, started) = sb
        .call(
            Method::PUT,
            &format!("/api/2.0/files/rooms/{id}/archive"),
            Some(json!({ "deleteAfter": false })),
        )
        .await;
    assert_eq!(status, 200, "the request itself succeeds");
    assert_eq!(started["response"]["finished"], false);
    assert_eq!(started["response"]["error"], "");
    let op_id = started["response"]["id"].as_str().unwrap().to_string();

    let done = poll_until_finished(&sb, &op_id).await;
    assert_eq!(
        done,
        json!({
            "id": op_id,
            "Operation": 0,
            "progress": 100,
            "error": "You don't have enough permission to archive the room",
            "processed": "0",
            "finished": true,
            "status": 2,
        })
    );
    // Reported once, then dequeued (`GetOperationResults` dequeues finished tasks).
    let again = sb.get(&format!("/api/2.0/files/fileops?id={op_id}")).await;
    assert_eq!(again["response"], json!([]));
    // The room did not move.
    let room = sb.get(&format!("/api/2.0/files/rooms/{id}")).await;
    assert_eq!(room["response"]["rootFolderType"], 14);

    // A room not named archives normally; its operation is listed by type.
    let ok = sb.create(json!({ "title": "Fine", "roomType": 2 })).await;
    let ok_id = ok["id"].as_i64().unwrap();
    let (_, started) = sb
        .call(
            Method::PUT,
            &format!("/api/2.0/files/rooms/{ok_id}/archive"),
            Some(json!({})),
        )
        .await;
    let op_id = started["response"]["id"].as_str().unwrap().to_string();
    let by_type = sb.get("/api/2.0/files/fileops/move").await;
    assert!(
        by_type["response"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["id"] == op_id.as_str())
    );
    let done = poll_until_finished(&sb, &op_id).await;
    assert_eq!(done["error"], "");
    assert_eq!(done["processed"], "1");
    let room = sb.get(&format!("/api/2.0/files/rooms/{ok_id}")).await;
    assert_eq!(room["response"]["rootFolderType"], 20);
    let (status, _) = sb
        .call(Method::GET, "/api/2.0/files/fileops/import", None)
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_room_flagged_in_the_state_file_refuses_unarchive() {
    let sb = Sb::with(quick().into(), |path| {
        seed_with(path, |s| {
            let now = chrono::Utc::now();
            s.rooms.push(state::Room {
                id: 1001,
                title: "Stuck".to_string(),
                room_type: 2,
                archived: true,
                tags: Vec::new(),
                deny_download: false,
                private: false,
                indexing: false,
                color: "6D4AF2".to_string(),
                cover: None,
                quota: None,
                created_by: s.key_user,
                created: now,
                updated: now,
                shares: Vec::new(),
                fail_archive: true,
                logo_uploaded: false,
                ignore_settings: Vec::new(),
                links: Vec::new(),
                lifetime: None,
                watermark: None,
            });
            s.next_room_id = 1002;
        })
    })
    .await;
    let (_, started) = sb
        .call(
            Method::PUT,
            "/api/2.0/files/rooms/1001/unarchive",
            Some(json!({})),
        )
        .await;
    let op_id = started["response"]["id"].as_str().unwrap().to_string();
    let done = poll_until_finished(&sb, &op_id).await;
    assert_eq!(
        done["error"],
        "You don't have enough permission to unarchive the room"
    );
    let room = sb.get("/api/2.0/files/rooms/1001").await;
    assert_eq!(room["response"]["rootFolderType"], 20, "still archived");
}

// ---------------------------------------------------------------------------------------------
// 9. Independence: the sandbox does not borrow the client's rules
// ---------------------------------------------------------------------------------------------

#[test]
fn the_sandbox_does_not_import_client_code() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/sandbox");
    let forbidden = [
        "crate::model",
        "crate::docspace",
        "crate::plan",
        "crate::state",
        "crate::apply",
        "crate::export",
        "crate::manifest",
        // The command line converts its flags into `sandbox::FaultConfig` (issue 11).
        "crate::cli",
    ];
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            // Code only: comments may name the modules the sandbox must not use.
            let text: String = std::fs::read_to_string(&path)
                .unwrap()
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            // `use crate::{model, ...}` forms too.
            let squashed: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            for f in forbidden {
                let module = f.trim_start_matches("crate::");
                assert!(
                    !text.contains(f) && !squashed.contains(&format!("usecrate::{{{module}")),
                    "{} uses {f}: the sandbox must implement server rules itself",
                    path.display()
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 9, "scanned {checked} files");
}

/// `DeleteRoom` answers with the caller's first delete operation, dequeuing the finished ones
/// it reports: an unpolled finished delete is what the next delete returns.
#[tokio::test]
async fn delete_answers_with_the_first_queued_delete_operation() {
    let sb = Sb::start().await;
    let a = sb.create(json!({ "title": "A", "roomType": 2 })).await["id"]
        .as_i64()
        .unwrap();
    let b = sb.create(json!({ "title": "B", "roomType": 2 })).await["id"]
        .as_i64()
        .unwrap();
    let (_, first) = sb
        .call(
            Method::DELETE,
            &format!("/api/2.0/files/rooms/{a}"),
            Some(json!({ "deleteAfter": false })),
        )
        .await;
    let op_a = first["response"]["id"].as_str().unwrap().to_string();
    assert_eq!(first["response"]["Operation"], 2);
    // Wait for A to be gone without reading the operations.
    for _ in 0..200 {
        let (status, _) = sb
            .call(Method::GET, &format!("/api/2.0/files/rooms/{a}"), None)
            .await;
        if status == 404 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (_, second) = sb
        .call(
            Method::DELETE,
            &format!("/api/2.0/files/rooms/{b}"),
            Some(json!({ "deleteAfter": false })),
        )
        .await;
    assert_eq!(
        second["response"]["id"],
        op_a.as_str(),
        "the older operation"
    );
    assert_eq!(second["response"]["finished"], true);
    let gone = sb.get(&format!("/api/2.0/files/fileops?id={op_a}")).await;
    assert_eq!(gone["response"], json!([]), "reported once, then dequeued");
    let pending = sb.get("/api/2.0/files/fileops").await;
    assert_eq!(
        pending["response"].as_array().unwrap().len(),
        1,
        "B's delete"
    );
}

// ---------------------------------------------------------------------------------------------
// Issue 13: sharing links, room settings, pending invitations
// ---------------------------------------------------------------------------------------------

impl Sb {
    async fn put_link(&self, room: i64, body: Value) -> (u16, Value) {
        self.call(
            Method::PUT,
            &format!("/api/2.0/files/rooms/{room}/links"),
            Some(body),
        )
        .await
    }

    async fn links(&self, room: i64, query: &str) -> Vec<Value> {
        self.get(&format!("/api/2.0/files/rooms/{room}/links{query}"))
            .await["response"]
            .as_array()
            .unwrap()
            .clone()
    }

    async fn room_of_type(&self, title: &str, room_type: i64) -> i64 {
        self.create(json!({ "title": title, "roomType": room_type }))
            .await["id"]
            .as_i64()
            .unwrap()
    }
}

fn error_message(body: &Value) -> String {
    body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn a_public_room_is_born_with_a_primary_link_and_revoking_it_makes_a_new_one() {
    let sb = Sb::start().await;
    let room = sb.room_of_type("Press", 6).await;
    let links = sb.links(room, "").await;
    assert_eq!(links.len(), 1, "{links:?}");
    let primary = &links[0];
    assert_eq!(primary["sharedLink"]["primary"], true);
    assert_eq!(primary["sharedLink"]["title"], "Shared link");
    assert_eq!(primary["access"], 2);
    assert_eq!(primary["subjectType"], 4);
    assert_eq!(primary["canRevoke"], true);
    let old_id = primary["sharedLink"]["id"].as_str().unwrap().to_string();

    let (status, body) = sb
        .put_link(
            room,
            json!({ "linkId": old_id, "linkType": 1, "access": 0 }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let fresh = &body["response"]["sharedLink"];
    assert_eq!(fresh["primary"], true);
    assert_ne!(fresh["id"].as_str().unwrap(), old_id);
    assert!(
        fresh.get("requestToken").is_none(),
        "a replaced link comes back without its token: {fresh}"
    );
    let links = sb.links(room, "").await;
    assert_eq!(links.len(), 1);
    assert_eq!(links[0]["sharedLink"]["id"], fresh["id"]);
}

#[tokio::test]
async fn external_links_are_created_listed_updated_and_revoked() {
    let sb = Sb::start().await;
    let room = sb.room_of_type("Custom", 5).await;
    assert!(sb.links(room, "").await.is_empty());

    let (status, created) = sb
        .put_link(
            room,
            json!({ "linkType": 1, "title": "Partners", "access": 2, "password": "s3cret-pass",
                    "denyDownload": true, "internal": true }),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    let link = &created["response"];
    assert_eq!(link["subjectType"], 1);
    assert_eq!(
        link["sharedTo"], link["sharedLink"],
        "sharedTo duplicates it"
    );
    let shared = &link["sharedLink"];
    assert_eq!(shared["title"], "Partners");
    assert_eq!(shared["linkType"], 1);
    assert_eq!(shared["denyDownload"], true);
    assert_eq!(shared["internal"], true);
    assert_eq!(shared["primary"], false);
    assert!(shared["requestToken"].is_string());
    assert!(shared.get("maxUseCount").is_none());
    let id = shared["id"].as_str().unwrap().to_string();

    // Listed, with the password in clear text (the server decrypts it for whoever may read
    // the links); the state file keeps only a key.
    let listed = sb.links(room, "").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["sharedLink"]["password"], "s3cret-pass");
    let file = String::from_utf8(std::fs::read(sb.state_path()).unwrap()).unwrap();
    assert!(
        !file.contains("s3cret-pass"),
        "the state file holds the password"
    );

    // An update replaces every option: the password not sent again is gone.
    let (status, updated) = sb
        .put_link(
            room,
            json!({ "linkId": id, "linkType": 1, "title": "Partners 2", "access": 6 }),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    let shared = &updated["response"]["sharedLink"];
    assert_eq!(shared["id"], id.as_str());
    assert_eq!(shared["title"], "Partners 2");
    assert_eq!(updated["response"]["access"], 6);
    assert!(shared.get("password").is_none(), "{shared}");
    assert_eq!(shared["denyDownload"], false);

    let (status, revoked) = sb
        .put_link(room, json!({ "linkId": id, "linkType": 1, "access": 0 }))
        .await;
    assert_eq!(status, 200, "{revoked}");
    assert!(revoked["response"].is_null(), "{revoked}");
    assert!(sb.links(room, "").await.is_empty());
}

#[tokio::test]
async fn links_survive_a_restart_on_the_same_state_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let handle = start_in_process(&path, FaultConfig::default())
        .await
        .unwrap();
    let sb = Sb {
        handle,
        client: Client::builder().no_proxy().build().unwrap(),
        dir,
    };
    let room = sb.room_of_type("Kept", 5).await;
    let (status, _) = sb
        .put_link(
            room,
            json!({ "linkType": 1, "title": "Keep me", "access": 2 }),
        )
        .await;
    assert_eq!(status, 200);
    let saved = sb.state();
    assert_eq!(saved["rooms"][0]["links"][0]["title"], "Keep me");
    let Sb {
        handle,
        client,
        dir,
    } = sb;
    handle.stop().await.unwrap();
    let handle = start_in_process(&dir.path().join("state.json"), FaultConfig::default())
        .await
        .unwrap();
    let sb = Sb {
        handle,
        client,
        dir,
    };
    let links = sb.links(room, "").await;
    assert_eq!(links.len(), 1);
    assert_eq!(links[0]["sharedLink"]["title"], "Keep me");
}

#[tokio::test]
async fn room_types_take_only_the_link_kinds_and_roles_the_server_offers() {
    let sb = Sb::start().await;
    // Editing, virtual data and AI rooms take no external link at all.
    for room_type in [2, 8, 9] {
        let room = sb.room_of_type(&format!("T{room_type}"), room_type).await;
        let (status, body) = sb
            .put_link(room, json!({ "linkType": 1, "access": 2 }))
            .await;
        assert_eq!(status, 403, "type {room_type}: {body}");
        assert_eq!(
            error_message(&body),
            "The role is not available for this user type"
        );
        // But an invitation link, with a role the type offers.
        let (status, body) = sb
            .put_link(room, json!({ "linkType": 0, "access": 2 }))
            .await;
        assert_eq!(status, 200, "type {room_type}: {body}");
        assert_eq!(body["response"]["subjectType"], 3);
        assert_eq!(body["response"]["sharedLink"]["title"], "Invitation link");
    }
    // A public room's invitation link cannot grant editing.
    let public = sb.room_of_type("Public", 6).await;
    let (status, _) = sb
        .put_link(public, json!({ "linkType": 0, "access": 10 }))
        .await;
    assert_eq!(status, 403);
    // A form-filling room has its primary link and no room for another.
    let forms = sb.room_of_type("Forms", 1).await;
    let links = sb.links(forms, "").await;
    assert_eq!(links.len(), 1);
    assert_eq!(links[0]["sharedLink"]["title"], "Link to fill out");
    assert_eq!(links[0]["access"], 7);
    let (status, body) = sb
        .put_link(forms, json!({ "linkType": 1, "access": 7 }))
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        error_message(&body),
        "The maximum number of links may not exceed 0"
    );
    // Links of public rooms are never internal; asking is ignored on create ...
    let (status, body) = sb
        .put_link(
            public,
            json!({ "linkType": 1, "access": 2, "internal": true }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["response"]["sharedLink"]["internal"], false);
    assert_eq!(body["response"]["canEditInternal"], false);
    // ... and an update that changes it is skipped whole, silently.
    let id = body["response"]["sharedLink"]["id"].clone();
    let (status, body) = sb
        .put_link(
            public,
            json!({ "linkId": id, "linkType": 1, "access": 2, "internal": true, "title": "New" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["response"]["sharedLink"]["title"], "Shared link");
}

#[tokio::test]
async fn a_room_holds_one_invitation_link_and_five_extra_external_links() {
    let sb = Sb::start().await;
    let room = sb.room_of_type("Limits", 5).await;
    let (status, _) = sb
        .put_link(room, json!({ "linkType": 0, "access": 2 }))
        .await;
    assert_eq!(status, 200);
    let (status, body) = sb
        .put_link(room, json!({ "linkType": 0, "access": 2 }))
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        error_message(&body),
        "The maximum number of links may not exceed 1"
    );
    for i in 0..5 {
        let (status, body) = sb
            .put_link(
                room,
                json!({ "linkType": 1, "access": 2, "title": format!("L{i}") }),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, body) = sb
        .put_link(room, json!({ "linkType": 1, "access": 2, "title": "L5" }))
        .await;
    assert_eq!(status, 403);
    assert_eq!(
        error_message(&body),
        "The maximum number of links may not exceed 5"
    );
    assert_eq!(sb.links(room, "?type=0").await.len(), 1);
    assert_eq!(sb.links(room, "?type=1").await.len(), 5);
    assert_eq!(sb.links(room, "").await.len(), 6);
}

#[tokio::test]
async fn past_expiry_is_refused_on_invitation_links_and_dropped_on_external_ones() {
    let sb = Sb::start().await;
    let room = sb.room_of_type("Expiry", 5).await;
    let past = "2020-01-01T00:00:00.0000000+00:00";
    let (status, body) = sb
        .put_link(
            room,
            json!({ "linkType": 0, "access": 2, "expirationDate": past }),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        error_message(&body),
        "Value does not fall within the expected range. (Parameter 'expirationDate')"
    );
    let (status, body) = sb
        .put_link(
            room,
            json!({ "linkType": 1, "access": 2, "expirationDate": past }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["response"]["sharedLink"]
            .get("expirationDate")
            .is_none(),
        "{body}"
    );
    // More than ten years ahead is refused for both kinds.
    let far = (chrono::Utc::now() + chrono::Duration::days(366 * 11)).to_rfc3339();
    for kind in [0, 1] {
        let (status, _) = sb
            .put_link(
                room,
                json!({ "linkType": kind, "access": 2, "expirationDate": far }),
            )
            .await;
        assert_eq!(status, 400, "kind {kind}");
    }
    let soon = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
    let (status, body) = sb
        .put_link(
            room,
            json!({ "linkType": 1, "access": 2, "expirationDate": soon, "title": "Soon" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["response"]["sharedLink"]["expirationDate"].is_string());
    assert_eq!(body["response"]["sharedLink"]["isExpired"], false);
}

#[tokio::test]
async fn link_passwords_must_be_8_to_30_printable_ascii_characters() {
    let sb = Sb::start().await;
    let room = sb.room_of_type("Passwords", 5).await;
    for bad in ["short", "has a space", "naïve-password", &"x".repeat(31)] {
        let (status, body) = sb
            .put_link(room, json!({ "linkType": 1, "access": 2, "password": bad }))
            .await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(
            error_message(&body),
            "Password must contain from 8 to 30 characters, only latin letters, no spaces"
        );
    }
    // Trimmed first: surrounding spaces are not part of it.
    let (status, body) = sb
        .put_link(
            room,
            json!({ "linkType": 1, "access": 2, "password": "  12345678  " }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["response"]["sharedLink"]["password"], "12345678");
}

#[tokio::test]
async fn room_settings_round_trip_on_create_and_update() {
    let sb = Sb::start().await;
    let room = sb
        .create(json!({
            "title": "Deal room", "roomType": 8, "indexing": true, "denyDownload": true,
            "color": "16A34A", "cover": "shield",
            "lifetime": { "deletePermanently": true, "period": "Month", "value": 3 },
            "watermark": { "additions": 3, "text": "Secret", "rotate": -45 }
        }))
        .await;
    let id = room["id"].as_i64().unwrap();
    let got = sb.get(&format!("/api/2.0/files/rooms/{id}")).await["response"].clone();
    assert_eq!(got["indexing"], true);
    assert_eq!(got["denyDownload"], true);
    assert_eq!(got["logo"]["color"], "16A34A");
    assert_eq!(got["logo"]["cover"]["id"], "shield");
    assert_eq!(
        got["lifetime"],
        json!({ "deletePermanently": true, "period": 1, "value": 3 })
    );
    assert_eq!(
        got["watermark"],
        json!({ "additions": 3, "text": "Secret", "rotate": -45, "imageScale": 0,
                "imageHeight": 0.0, "imageWidth": 0.0 })
    );

    let (status, body) = sb
        .call(
            Method::PUT,
            &format!("/api/2.0/files/rooms/{id}"),
            Some(json!({
                "lifetime": { "period": 2, "value": 1 },
                "watermark": { "additions": 16, "rotate": 0 },
                "cover": ""
            })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let got = &body["response"];
    assert_eq!(
        got["lifetime"],
        json!({ "deletePermanently": false, "period": 2, "value": 1 })
    );
    assert_eq!(got["watermark"]["additions"], 16);
    assert!(got["watermark"].get("text").is_none());
    assert!(
        got["logo"].get("cover").is_none(),
        "an empty cover clears it"
    );

    // `enabled: false` switches each off.
    let (status, body) = sb
        .call(
            Method::PUT,
            &format!("/api/2.0/files/rooms/{id}"),
            Some(json!({ "lifetime": { "enabled": false }, "watermark": { "enabled": false } })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["response"].get("lifetime").is_none());
    assert!(body["response"].get("watermark").is_none());
    // And the state file keeps what GET shows.
    let saved = sb.state();
    assert!(saved["rooms"][0].get("lifetime").is_none());
}

#[tokio::test]
async fn every_room_type_takes_every_setting_as_the_server_checks_no_type() {
    let sb = Sb::start().await;
    let room = sb.room_of_type("Collab", 2).await;
    let (status, body) = sb
        .call(
            Method::PUT,
            &format!("/api/2.0/files/rooms/{room}"),
            Some(
                json!({ "indexing": true, "lifetime": { "period": 0, "value": 30 },
                         "watermark": { "additions": 1, "text": "x" } }),
            ),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["response"]["indexing"], true);
    assert_eq!(body["response"]["lifetime"]["value"], 30);
    assert_eq!(body["response"]["watermark"]["text"], "x");
}

#[tokio::test]
async fn malformed_room_settings_are_refused() {
    let sb = Sb::start().await;
    let room = sb.room_of_type("Refusals", 8).await;
    for (body, field) in [
        (
            json!({ "lifetime": { "period": 1, "value": 0 } }),
            "Lifetime.Value",
        ),
        (
            json!({ "lifetime": { "period": 1, "value": 1000 } }),
            "Lifetime.Value",
        ),
        (
            json!({ "lifetime": { "period": 5, "value": 1 } }),
            "Lifetime.Period",
        ),
        (
            json!({ "watermark": { "text": "w".repeat(256) } }),
            "Watermark.Text",
        ),
        (json!({ "color": "1234567" }), "Color"),
    ] {
        let (status, answer) = sb
            .call(
                Method::PUT,
                &format!("/api/2.0/files/rooms/{room}"),
                Some(body.clone()),
            )
            .await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(
            answer["response"]["errors"].get(field).is_some(),
            "{body}: {answer}"
        );
    }
    let (status, answer) = sb
        .call(
            Method::PUT,
            &format!("/api/2.0/files/rooms/{room}"),
            Some(json!({ "cover": "no-such-cover" })),
        )
        .await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(
        error_message(&answer),
        "Value does not fall within the expected range. (Parameter 'icon')"
    );
    let covers = sb.get("/api/2.0/files/rooms/covers").await;
    let ids: Vec<&str> = covers["response"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"shield") && ids.contains(&"planet"),
        "{ids:?}"
    );
    assert_eq!(ids.len(), 56);
}

#[tokio::test]
async fn a_pending_account_shows_its_creation_date_as_registration_date() {
    let created = chrono::Utc::now() - chrono::Duration::days(30);
    let mut pending = uuid::Uuid::nil();
    let sb = Sb::with(quick().into(), |path| {
        seed_with(path, |s| {
            pending = s.add_pending_user("old.invite@sandbox.test", created);
        })
    })
    .await;
    let user = sb.get(&format!("/api/2.0/people/{pending}")).await["response"].clone();
    assert_eq!(user["activationStatus"], 2);
    assert_eq!(user["status"], 4);
    let shown =
        chrono::DateTime::parse_from_rfc3339(user["registrationDate"].as_str().unwrap()).unwrap();
    assert_eq!(shown.timestamp(), created.timestamp());

    // An account the share call invites now can be made old afterwards by editing the state.
    let room = sb.room_of_type("Invites", 5).await;
    let (status, _) = sb
        .call(
            Method::PUT,
            &format!("/api/2.0/files/rooms/{room}/share"),
            Some(json!({ "invitations": [{ "email": "fresh@sandbox.test", "access": 2 }] })),
        )
        .await;
    assert_eq!(status, 200);
    let mut saved: PortalState =
        serde_json::from_slice(&std::fs::read(sb.state_path()).unwrap()).unwrap();
    assert!(saved.set_registration_date("fresh@sandbox.test", created));
    assert!(!saved.set_registration_date("nobody@sandbox.test", created));
}

#[tokio::test]
async fn resending_invitations_records_exactly_who_got_one() {
    let old = chrono::Utc::now() - chrono::Duration::days(20);
    let (mut stale, mut other) = (uuid::Uuid::nil(), uuid::Uuid::nil());
    let sb = Sb::with(quick().into(), |path| {
        seed_with(path, |s| {
            stale = s.add_pending_user("stale@sandbox.test", old);
            other = s.add_pending_user("other@sandbox.test", old);
        })
    })
    .await;
    let active = "5a4db0c5-0000-4000-8000-000000000004";
    let (status, body) = sb
        .call(
            Method::PUT,
            "/api/2.0/people/invite",
            Some(json!({ "userIds": [stale, active] })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // The answer lists every account asked about; only the pending one got an email.
    assert_eq!(body["response"].as_array().unwrap().len(), 2);
    let resends = sb.state()["resends"].clone();
    assert_eq!(resends.as_object().unwrap().len(), 1, "{resends}");
    assert_eq!(resends[stale.to_string()]["count"], 1);
    // `resendAll` reaches every pending account.
    let (status, _) = sb
        .call(
            Method::PUT,
            "/api/2.0/people/invite",
            Some(json!({ "resendAll": true })),
        )
        .await;
    assert_eq!(status, 200);
    let resends = sb.state()["resends"].clone();
    assert_eq!(resends[stale.to_string()]["count"], 2);
    assert_eq!(resends[other.to_string()]["count"], 1);
    assert!(resends.get(active).is_none());
}

#[tokio::test]
async fn resending_invitations_is_limited_to_five_calls_per_window() {
    let sb = Sb::start().await;
    for _ in 0..5 {
        let (status, _) = sb
            .call(
                Method::PUT,
                "/api/2.0/people/invite",
                Some(json!({ "userIds": [] })),
            )
            .await;
        assert_eq!(status, 200);
    }
    let url = format!("{}api/2.0/people/invite", sb.handle.base_url.as_str());
    let resp = sb
        .client
        .put(url)
        .bearer_auth(&sb.handle.api_key)
        .json(&json!({ "userIds": [] }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 429);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 60, "the window is 15 minutes: {retry}");
    // Other endpoints are not limited by it.
    sb.get("/api/2.0/people/@self").await;

    // Off when the configuration says 0.
    let unlimited = Sb::with(
        FaultConfig {
            sensitive_api_limit: 0,
            ..quick().into()
        },
        |_| {},
    )
    .await;
    for _ in 0..7 {
        let (status, _) = unlimited
            .call(
                Method::PUT,
                "/api/2.0/people/invite",
                Some(json!({ "userIds": [] })),
            )
            .await;
        assert_eq!(status, 200);
    }
}

// ---------------------------------------------------------------------------------------------
// Resend answers (issue 22)
// ---------------------------------------------------------------------------------------------

/// `PUT /people/invite` without `userIds`: the server hands the null list to LINQ, whose
/// `ArgumentNullException` its `ResponseWrapper` answers 400 (not a 500); a body that is not
/// JSON fails binding with 400 too. Nothing is sent either way.
#[tokio::test]
async fn a_resend_without_a_user_list_is_a_400() {
    let sb = Sb::start().await;
    for body in [
        json!({}),
        json!({ "resendAll": false }),
        json!({ "userIds": null }),
    ] {
        let (status, answer) = sb
            .call(Method::PUT, "/api/2.0/people/invite", Some(body.clone()))
            .await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(
            answer["error"]["message"], "Value cannot be null. (Parameter 'source')",
            "{answer}"
        );
    }
    let url = format!(
        "{}/api/2.0/people/invite",
        sb.handle.base_url.as_str().trim_end_matches('/')
    );
    let not_json = sb
        .client
        .put(url)
        .bearer_auth(&sb.handle.api_key)
        .header("content-type", "application/json")
        .body("{\"userIds\": [")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status().as_u16(), 400);
    assert!(
        sb.state()
            .get("resends")
            .is_none_or(|r| r.as_object().is_none_or(|m| m.is_empty())),
        "{}",
        sb.state()
    );
}

/// The answer is streamed (`IAsyncEnumerable<EmployeeFullDto>`), so the envelope's `count` is
/// 1 however many accounts it lists (`SuccessApiResponse.Count`).
#[tokio::test]
async fn a_resend_answer_counts_one_whatever_it_lists() {
    let sb = Sb::start().await;
    let ids = [OWNER, "5a4db0c5-0000-4000-8000-000000000004"];
    let (status, answer) = sb
        .call(
            Method::PUT,
            "/api/2.0/people/invite",
            Some(json!({ "userIds": ids })),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["response"].as_array().unwrap().len(), 2, "{answer}");
    assert_eq!(answer["count"], 1, "{answer}");
}
