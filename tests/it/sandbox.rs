//! Conformance tests for the sandbox: each drives a real sandbox over HTTP on 127.0.0.1 and
//! checks the exact JSON for an item of the emulator checklist (docspace-api.md section 10).
//! Ids, dates and ports are redacted before snapshots; seed ids are fixed and kept.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use docspace_provision::sandbox::FaultConfig;
use docspace_provision::sandbox::{SandboxHandle, start_in_process};
use reqwest::{Client, Method};
use serde_json::{Value, json};

// Seed ids (see src/sandbox/state.rs).
const OWNER: &str = "5a4db0c5-0000-4000-8000-000000000001";
const DOCSPACE_ADMIN: &str = "5a4db0c5-0000-4000-8000-000000000002";
const ROOM_ADMIN: &str = "5a4db0c5-0000-4000-8000-000000000003";
const USER: &str = "5a4db0c5-0000-4000-8000-000000000004";
const GUEST: &str = "5a4db0c5-0000-4000-8000-000000000005";
const MARKETING: &str = "6e0f0000-0000-4000-8000-000000000001";
const SALES: &str = "6e0f0000-0000-4000-8000-000000000002";

struct Sandbox {
    handle: SandboxHandle,
    client: Client,
    dir: tempfile::TempDir,
}

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
    text: String,
}

fn client() -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder().no_proxy().build().unwrap()
}

impl Sandbox {
    async fn start() -> Sandbox {
        Sandbox::with(FaultConfig {
            operation_delay_ms: 20,
            ..FaultConfig::default()
        })
        .await
    }

    async fn with(faults: FaultConfig) -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        let handle = start_in_process(&dir.path().join("state.json"), faults)
            .await
            .unwrap();
        Sandbox {
            handle,
            client: client(),
            dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!(
            "{}{}",
            self.handle.base_url.as_str().trim_end_matches('/'),
            path
        )
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let mut req = self
            .client
            .request(method, self.url(path))
            .bearer_auth(&self.handle.api_key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        answer(req.send().await.unwrap()).await
    }

    async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(body)).await
    }

    async fn put(&self, path: &str, body: Value) -> Answer {
        self.call(Method::PUT, path, Some(body)).await
    }

    async fn delete(&self, path: &str, body: Value) -> Answer {
        self.call(Method::DELETE, path, Some(body)).await
    }

    /// Creates a room and returns its id.
    async fn room(&self, title: &str, room_type: i64) -> i64 {
        let a = self
            .post(
                "/api/2.0/files/rooms",
                json!({ "title": title, "roomType": room_type }),
            )
            .await;
        assert_eq!(a.status, 200, "{}", a.text);
        a.body["response"]["id"].as_i64().unwrap()
    }

    async fn share(&self, room: i64, invitations: Value) -> Answer {
        self.put(
            &format!("/api/2.0/files/rooms/{room}/share"),
            json!({ "invitations": invitations, "notify": false }),
        )
        .await
    }

    /// (subject id or email, access) of every row of GET share, in order.
    async fn members(&self, room: i64) -> Vec<(String, i64)> {
        let a = self
            .get(&format!("/api/2.0/files/rooms/{room}/share"))
            .await;
        assert_eq!(a.status, 200, "{}", a.text);
        rows(&a.body["response"])
    }
}

async fn answer(resp: reqwest::Response) -> Answer {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        body,
        text,
    }
}

fn rows(list: &Value) -> Vec<(String, i64)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let subject = if row["subjectType"] == 2 {
                row["sharedToGroup"]["name"].as_str().unwrap().to_string()
            } else {
                row["sharedToUser"]["email"].as_str().unwrap().to_string()
            };
            (subject, row["access"].as_i64().unwrap())
        })
        .collect()
}

/// Replaces values that change between runs: dates, trace ids, ports, random uuids.
fn redact(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = match k.as_str() {
                        "created" | "updated" | "registrationDate" => json!("[date]"),
                        "traceId" => json!("[trace]"),
                        "href" => json!(
                            v.as_str()
                                .unwrap_or("")
                                .split_once("/api/")
                                .map(|(_, p)| format!("http://[host]/api/{p}"))
                                .unwrap_or_default()
                        ),
                        _ => redact(v),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        Value::String(s) => json!(
            s.split('/')
                .map(|part| {
                    let fixed = part.starts_with("5a4db0c5-")
                        || part.starts_with("6e0f0000-")
                        || part == "00000000-0000-0000-0000-000000000000";
                    if uuid::Uuid::parse_str(part).is_ok() && !fixed {
                        "[uuid]"
                    } else {
                        part
                    }
                })
                .collect::<Vec<_>>()
                .join("/")
        ),
        other => other.clone(),
    }
}

async fn wait_for(sb: &Sandbox, room: i64, want: impl Fn(&Answer) -> bool) -> Answer {
    for _ in 0..100 {
        let a = sb.get(&format!("/api/2.0/files/rooms/{room}")).await;
        if want(&a) {
            return a;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("room {room} never reached the expected state");
}

#[tokio::test]
async fn requests_without_the_bearer_key_get_an_empty_401() {
    let sb = Sandbox::start().await;
    let url = sb.url("/api/2.0/people/@self");
    for req in [
        sb.client.get(&url),
        sb.client.get(&url).bearer_auth("sk-wrong"),
        // A bare key without `Bearer ` is not an API key (2.1).
        sb.client
            .get(&url)
            .header("Authorization", sb.handle.api_key.clone()),
    ] {
        let a = answer(req.send().await.unwrap()).await;
        assert_eq!(a.status, 401);
        assert_eq!(a.text, "");
    }
    let me = sb.get("/api/2.0/people/@self").await;
    assert_eq!(me.status, 200);
    insta::assert_json_snapshot!("people_self", redact(&me.body));
}

#[tokio::test]
async fn create_room_answers_the_room_in_the_success_envelope() {
    let sb = Sandbox::start().await;
    let a = sb
        .post(
            "/api/2.0/files/rooms",
            json!({ "title": "  Deal: <Acme> / 2025 ", "roomType": "VirtualDataRoom",
                    "tags": ["acme", "2025"], "denyDownload": true, "color": "ff0000" }),
        )
        .await;
    assert_eq!(a.status, 200);
    insta::assert_json_snapshot!("room_created", redact(&a.body));
}

#[tokio::test]
async fn titles_are_sanitised_and_not_unique() {
    let sb = Sandbox::start().await;
    let a = sb.room("Q3: plan*", 2).await;
    let b = sb.room("Q3: plan*", 2).await;
    assert_ne!(a, b);
    let list = sb
        .get("/api/2.0/files/rooms?filterValue=q3_%20PLAN&count=100&sortBy=AZ&sortOrder=0")
        .await;
    let titles: Vec<&str> = list.body["response"]["folders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Q3_ plan_", "Q3_ plan_"]);
}

#[tokio::test]
async fn create_room_validation_errors() {
    let sb = Sandbox::start().await;
    let create = |body: Value| sb.post("/api/2.0/files/rooms", body);
    let long = "x".repeat(171);
    let a = create(json!({ "title": long, "roomType": 2 })).await;
    assert_eq!(a.status, 400);
    insta::assert_json_snapshot!("room_title_too_long", redact(&a.body));
    assert_eq!(
        create(json!({ "title": "x".repeat(170), "roomType": 2 }))
            .await
            .status,
        200
    );
    for body in [
        json!({ "title": "", "roomType": 2 }),
        json!({ "title": "   ", "roomType": 2 }),
        json!({ "roomType": 2 }),
        json!({ "title": "c", "roomType": 2, "color": "#ff0000" }),
        json!({ "title": "c", "roomType": "NotAType" }),
    ] {
        let a = create(body.clone()).await;
        assert_eq!(a.status, 400, "{body}");
        assert_eq!(a.body["status"], 1);
        assert!(a.body["response"]["errors"].is_object(), "{}", a.text);
    }
    // An unknown room type int is an argument error: the error envelope, still 400.
    let a = create(json!({ "title": "c", "roomType": 3 })).await;
    assert_eq!(a.status, 400);
    assert_eq!(a.body["statusCode"], 400);
    assert!(a.body["error"]["message"].is_string());
}

#[tokio::test]
async fn room_list_pages_inside_the_response() {
    let sb = Sandbox::start().await;
    for (title, t) in [("Alpha", 2), ("beta", 5), ("Gamma", 2)] {
        sb.room(title, t).await;
    }
    let a = sb
        .get("/api/2.0/files/rooms?count=2&startIndex=0&sortBy=AZ&sortOrder=0")
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["count"], 1);
    assert!(a.body.get("total").is_none());
    let r = &a.body["response"];
    assert_eq!(
        (
            r["startIndex"].clone(),
            r["count"].clone(),
            r["total"].clone()
        ),
        (json!(0), json!(2), json!(3))
    );
    assert_eq!(r["files"], json!([]));
    assert_eq!(r["current"]["rootFolderType"], 14);
    let titles: Vec<&str> = r["folders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Alpha", "beta"]);

    // Past the end: an empty page, total still 3.
    let a = sb.get("/api/2.0/files/rooms?count=2&startIndex=10").await;
    assert_eq!(a.body["response"]["folders"], json!([]));
    assert_eq!(a.body["response"]["count"], 0);
    assert_eq!(a.body["response"]["total"], 3);

    for q in ["count=0", "count=101", "count=abc"] {
        let a = sb.get(&format!("/api/2.0/files/rooms?{q}")).await;
        assert_eq!(a.status, 400, "{q}");
        assert_eq!(a.body["status"], 1);
    }
    let a = sb.get("/api/2.0/files/rooms?count=0").await;
    insta::assert_json_snapshot!("room_list_count_0", redact(&a.body));

    // filterValue is a case-insensitive substring; `type` repeats.
    let a = sb.get("/api/2.0/files/rooms?filterValue=AMM").await;
    assert_eq!(a.body["response"]["total"], 1);
    let a = sb.get("/api/2.0/files/rooms?type=5&type=8").await;
    assert_eq!(a.body["response"]["total"], 1);
    let a = sb.get("/api/2.0/files/rooms?type=2&type=5").await;
    assert_eq!(a.body["response"]["total"], 3);
}

#[tokio::test]
async fn update_applies_present_fields_and_replaces_tags() {
    let sb = Sandbox::start().await;
    let a = sb
        .post(
            "/api/2.0/files/rooms",
            json!({ "title": "Keep", "roomType": 2, "tags": ["a", "b"], "quota": 1000 }),
        )
        .await;
    let id = a.body["response"]["id"].as_i64().unwrap();
    assert_eq!(a.body["response"]["quotaLimit"], 1000);
    assert_eq!(a.body["response"]["isCustomQuota"], true);
    let path = format!("/api/2.0/files/rooms/{id}");
    let a = sb
        .put(&path, json!({ "title": "  ", "tags": ["c"], "quota": -1 }))
        .await;
    assert_eq!(a.status, 200);
    let r = &a.body["response"];
    assert_eq!(r["title"], "Keep");
    assert_eq!(r["tags"], json!(["c"]));
    assert_eq!(
        (r["quotaLimit"].clone(), r["isCustomQuota"].clone()),
        (json!(-1), json!(true))
    );
    let a = sb.put(&path, json!({ "quota": -2, "tags": [] })).await;
    assert_eq!(a.body["response"]["isCustomQuota"], false);
    assert_eq!(a.body["response"]["tags"], json!([]));
    // Tags are portal-wide: all ever used are listed, newest first (`TagDao` orders by id
    // descending).
    let tags = sb.get("/api/2.0/files/tags").await;
    assert_eq!(tags.body["response"], json!(["c", "b", "a"]));
    // Tag routes add (newest first) and remove.
    let a = sb
        .put(&format!("{path}/tags"), json!({ "names": ["x", "y"] }))
        .await;
    assert_eq!(a.body["response"]["tags"], json!(["y", "x"]));
    let a = sb
        .delete(&format!("{path}/tags"), json!({ "names": ["x"] }))
        .await;
    assert_eq!(a.body["response"]["tags"], json!(["y"]));

    // Unknown id on update: 403 with the not-found message (5.4); on get: 404.
    let a = sb
        .put("/api/2.0/files/rooms/999999", json!({ "title": "x" }))
        .await;
    assert_eq!(a.status, 403);
    insta::assert_json_snapshot!("room_update_unknown", redact(&a.body));
    let a = sb.get("/api/2.0/files/rooms/999999").await;
    assert_eq!(a.status, 404);
    assert_eq!(
        a.body["error"]["message"],
        "The required folder was not found"
    );
}

#[tokio::test]
async fn archive_unarchive_and_delete_run_as_operations() {
    let sb = Sandbox::start().await;
    let id = sb.room("Old project", 2).await;
    let a = sb
        .put(
            &format!("/api/2.0/files/rooms/{id}/archive"),
            json!({ "deleteAfter": false }),
        )
        .await;
    assert_eq!(a.status, 200);
    insta::assert_json_snapshot!("archive_operation", redact(&a.body));
    let op_id = a.body["response"]["id"].as_str().unwrap().to_string();
    let room = wait_for(&sb, id, |a| a.body["response"]["rootFolderType"] == 20).await;
    assert_eq!(room.body["response"]["security"]["EditRoom"], false);
    let ops = sb.get(&format!("/api/2.0/files/fileops?id={op_id}")).await;
    assert_eq!(ops.body["response"][0]["finished"], true);
    assert_eq!(ops.body["response"][0]["status"], 2);
    // Archived: listed under searchArea=1 only, and not editable.
    let active = sb.get("/api/2.0/files/rooms").await;
    assert_eq!(active.body["response"]["total"], 0);
    let archived = sb.get("/api/2.0/files/rooms?searchArea=1").await;
    assert_eq!(archived.body["response"]["total"], 1);
    assert_eq!(archived.body["response"]["current"]["rootFolderType"], 20);
    let a = sb
        .put(
            &format!("/api/2.0/files/rooms/{id}"),
            json!({ "title": "New" }),
        )
        .await;
    assert_eq!(a.status, 403);
    assert_eq!(
        a.body["error"]["message"],
        "You don't have permission to edit the room"
    );

    let a = sb
        .put(
            &format!("/api/2.0/files/rooms/{id}/unarchive"),
            json!({ "deleteAfter": false }),
        )
        .await;
    assert_eq!(a.body["response"]["Operation"], 0);
    wait_for(&sb, id, |a| a.body["response"]["rootFolderType"] == 14).await;

    let a = sb
        .delete(
            &format!("/api/2.0/files/rooms/{id}"),
            json!({ "deleteAfter": false }),
        )
        .await;
    assert_eq!(a.body["response"]["Operation"], 2);
    wait_for(&sb, id, |a| a.status == 404).await;
    let a = sb
        .put(
            "/api/2.0/files/rooms/424242/archive",
            json!({ "deleteAfter": false }),
        )
        .await;
    assert_eq!(a.status, 404);
}

#[tokio::test]
async fn share_list_has_the_owner_first_and_the_documented_order() {
    let sb = Sandbox::start().await;
    let room = sb.room("Ordering", 5).await;
    let a = sb
        .share(
            room,
            json!([
                { "email": "zed.pending@example.com", "access": 2 },
                { "id": GUEST, "access": 6 },
                { "id": USER, "access": 5 },
                { "id": DOCSPACE_ADMIN, "access": 10 },
                { "id": SALES, "access": 2 },
                { "id": MARKETING, "access": 11 },
                { "id": ROOM_ADMIN, "access": 9 },
                { "email": "amy.pending@example.com", "access": 10 },
            ]),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(
        sb.members(room).await,
        [
            ("admin@sandbox.test".to_string(), 1),
            ("rick.roomadmin@sandbox.test".to_string(), 9),
            ("Marketing".to_string(), 11),
            ("Sales".to_string(), 2),
            ("dana.admin@sandbox.test".to_string(), 10),
            ("uma.user@sandbox.test".to_string(), 5),
            ("gus.guest@sandbox.test".to_string(), 6),
            ("amy.pending@example.com".to_string(), 10),
            ("zed.pending@example.com".to_string(), 2),
        ]
    );
    let full = sb
        .get(&format!("/api/2.0/files/rooms/{room}/share?count=3"))
        .await;
    assert_eq!(
        (full.body["count"].clone(), full.body["total"].clone()),
        (json!(3), json!(9))
    );
    insta::assert_json_snapshot!("share_list_first_page", redact(&full.body));

    // filterType 16: users only (with the owner row); 32: groups only.
    let users = sb
        .get(&format!("/api/2.0/files/rooms/{room}/share?filterType=16"))
        .await;
    assert_eq!(users.body["total"], 7);
    let groups = sb
        .get(&format!("/api/2.0/files/rooms/{room}/share?filterType=32"))
        .await;
    assert_eq!(rows(&groups.body["response"]).len(), 2);
    // filterValue: substring of names/email; the owner row drops out when it does not match.
    let found = sb
        .get(&format!(
            "/api/2.0/files/rooms/{room}/share?filterValue=PENDING"
        ))
        .await;
    assert_eq!(found.body["total"], 2);
    let found = sb
        .get(&format!(
            "/api/2.0/files/rooms/{room}/share?filterValue=sandbox"
        ))
        .await;
    assert_eq!(found.body["response"][0]["isOwner"], true);
}

#[tokio::test]
async fn share_paging_edges() {
    let sb = Sandbox::start().await;
    let room = sb.room("Paging", 2).await;
    sb.share(room, json!([{ "id": USER, "access": 10 }])).await;
    let path = format!("/api/2.0/files/rooms/{room}/share");
    // Past the end: envelope count goes negative, total counts the owner row (3.1).
    let a = sb.get(&format!("{path}?startIndex=5&count=10")).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["response"], json!([]));
    assert_eq!(
        (a.body["count"].clone(), a.body["total"].clone()),
        (json!(-3), json!(2))
    );
    let a = sb.get(&format!("{path}?startIndex=1&count=1")).await;
    assert_eq!(
        rows(&a.body["response"]),
        [("uma.user@sandbox.test".to_string(), 10)]
    );
    assert_eq!(a.body["count"], 1);
    for q in ["count=0", "count=101"] {
        assert_eq!(sb.get(&format!("{path}?{q}")).await.status, 400, "{q}");
    }
}

/// docspace-api.md 6.3 check 1, written out independently of `model.rs`.
fn documented_user_roles(room_type: i64) -> &'static [i64] {
    match room_type {
        1 => &[9, 11, 7, 0],
        2 => &[9, 11, 10, 2, 0],
        5 => &[9, 11, 10, 5, 6, 2, 0],
        6 => &[9, 11, 0],
        8 => &[9, 11, 10, 2, 7, 0],
        9 => &[9, 11, 2, 0],
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn role_tables_for_every_room_type_user_and_group() {
    let sb = Sandbox::start().await;
    for room_type in [1, 2, 5, 6, 8, 9] {
        let room = sb.room(&format!("Roles {room_type}"), room_type).await;
        for access in 0..=12 {
            let user_ok = documented_user_roles(room_type).contains(&access);
            let group_ok = user_ok && access != 9;
            for (subject, ok) in [(ROOM_ADMIN, user_ok), (MARKETING, group_ok)] {
                let a = sb
                    .share(room, json!([{ "id": subject, "access": access }]))
                    .await;
                let label = format!("type {room_type}, access {access}, subject {subject}");
                if ok {
                    assert_eq!(a.status, 200, "{label}: {}", a.text);
                    let members = &a.body["response"]["members"];
                    if access == 0 {
                        assert_eq!(members, &json!([]), "{label}");
                    } else {
                        assert_eq!(members[0]["access"], access, "{label}");
                    }
                    sb.share(room, json!([{ "id": subject, "access": 0 }]))
                        .await;
                } else {
                    assert_eq!(a.status, 403, "{label}: {}", a.text);
                    assert_eq!(
                        a.body["error"]["message"], "The role is not available for this user type",
                        "{label}"
                    );
                }
            }
        }
        // Check 2: a User-type user can never be a room manager; neither an email invitee.
        let a = sb.share(room, json!([{ "id": USER, "access": 9 }])).await;
        assert_eq!(a.status, 403, "type {room_type}");
        let a = sb
            .share(
                room,
                json!([{ "email": "rick.roomadmin@sandbox.test", "access": 9 }]),
            )
            .await;
        assert_eq!(a.status, 403, "type {room_type}");
    }
    // Guests in AI rooms cannot be content creators either.
    let ai = sb.room("AI", 9).await;
    assert_eq!(
        sb.share(ai, json!([{ "id": GUEST, "access": 11 }]))
            .await
            .status,
        403
    );
    assert_eq!(
        sb.share(ai, json!([{ "id": USER, "access": 11 }]))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn email_invitation_creates_a_pending_guest_not_in_members() {
    let sb = Sandbox::start().await;
    let room = sb.room("Invites", 2).await;
    let a = sb
        .share(
            room,
            json!([
                { "email": "New.Person@Example.com", "access": 10 },
                { "id": USER, "access": 2 },
            ]),
        )
        .await;
    assert_eq!(a.status, 200);
    insta::assert_json_snapshot!("share_set_response", redact(&a.body));
    let who = sb
        .get("/api/2.0/people/email?email=new.person%40example.com")
        .await;
    assert_eq!(who.status, 200);
    insta::assert_json_snapshot!("pending_guest", redact(&who.body));
    // Pending users are not "active".
    let active = sb.get("/api/2.0/people").await;
    assert!(!active.text.contains("New.Person@Example.com"));
    assert_eq!(
        sb.members(room).await.last().unwrap(),
        &("New.Person@Example.com".to_string(), 10)
    );
    // A second invitation of the same email reuses the user.
    sb.share(
        room,
        json!([{ "email": "new.person@example.com", "access": 2 }]),
    )
    .await;
    let guests = sb
        .get("/api/2.0/people/filter?filterValue=new.person")
        .await;
    assert_eq!(guests.body["total"], 1);
    // Malformed email: model validation 400, nothing applied.
    let a = sb
        .share(room, json!([{ "email": "not-an-email", "access": 2 }]))
        .await;
    assert_eq!(a.status, 400);
    assert!(a.body["response"]["errors"]["Email"].is_array());
}

#[tokio::test]
async fn removal_is_by_id_and_email_removal_does_nothing() {
    let sb = Sandbox::start().await;
    let room = sb.room("Removal", 2).await;
    sb.share(
        room,
        json!([{ "id": USER, "access": 10 }, { "id": SALES, "access": 2 }]),
    )
    .await;
    let a = sb
        .share(
            room,
            json!([{ "email": "uma.user@sandbox.test", "access": 0 }]),
        )
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(sb.members(room).await.len(), 3);
    let a = sb
        .share(
            room,
            json!([{ "id": USER, "access": 0 }, { "id": SALES, "access": 0 }]),
        )
        .await;
    assert_eq!(a.body["response"], json!({ "members": [], "error": 0 }));
    assert_eq!(
        sb.members(room).await,
        [("admin@sandbox.test".to_string(), 1)]
    );
    // Removing a non-member is a no-op; an empty request changes nothing.
    assert_eq!(
        sb.share(room, json!([{ "id": USER, "access": 0 }]))
            .await
            .status,
        200
    );
    let a = sb.share(room, json!([])).await;
    assert_eq!(a.body["response"], json!({ "error": 0 }));
}

#[tokio::test]
async fn string_access_is_parsed_like_the_server() {
    let sb = Sandbox::start().await;
    let room = sb.room("Strings", 2).await;
    let a = sb
        .share(room, json!([{ "id": USER, "access": "Editing" }]))
        .await;
    assert_eq!(a.body["response"]["members"][0]["access"], 10);
    // Lowercase and legacy names are not parsed: they silently become 0 = removal (6.4).
    for spelling in ["editing", "RoomAdmin"] {
        sb.share(room, json!([{ "id": USER, "access": 10 }])).await;
        let a = sb
            .share(room, json!([{ "id": USER, "access": spelling }]))
            .await;
        assert_eq!(a.status, 200, "{spelling}");
        assert_eq!(a.body["response"]["members"], json!([]), "{spelling}");
    }
    // "ReadWrite" parses to 1 and is then refused.
    let a = sb
        .share(room, json!([{ "id": USER, "access": "ReadWrite" }]))
        .await;
    assert_eq!(a.status, 403);
}

#[tokio::test]
async fn an_invalid_entry_fails_after_earlier_ones_were_applied() {
    let sb = Sandbox::start().await;
    let room = sb.room("No transaction", 2).await;
    let a = sb
        .share(
            room,
            json!([
                { "id": USER, "access": 10 },
                { "id": MARKETING, "access": 9 },
                { "id": GUEST, "access": 2 },
            ]),
        )
        .await;
    assert_eq!(a.status, 403);
    insta::assert_json_snapshot!("share_role_refused", redact(&a.body));
    assert_eq!(
        sb.members(room).await,
        [
            ("admin@sandbox.test".to_string(), 1),
            ("uma.user@sandbox.test".to_string(), 10),
        ]
    );
}

#[tokio::test]
async fn rejected_emails_are_skipped_with_a_warning() {
    let sb = Sandbox::with(FaultConfig {
        reject_email: vec!["taken@elsewhere.test".to_string()],
        ..FaultConfig::default()
    })
    .await;
    let room = sb.room("Warnings", 2).await;
    let a = sb
        .share(
            room,
            json!([
                { "email": "Taken@Elsewhere.test", "access": 10 },
                { "id": USER, "access": 10 },
            ]),
        )
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(
        a.body["response"]["warning"],
        "The email is linked to another account"
    );
    assert_eq!(rows(&a.body["response"]["members"]).len(), 1);
    assert_eq!(sb.members(room).await.len(), 2);
    let who = sb
        .get("/api/2.0/people/email?email=taken%40elsewhere.test")
        .await;
    assert_eq!(who.status, 404);
    assert_eq!(who.body["error"]["message"], "The user could not be found");
}

#[tokio::test]
async fn people_and_groups_lookups() {
    let sb = Sandbox::start().await;
    let a = sb
        .get("/api/2.0/people/filter?filterValue=sandbox.test&area=2&count=100")
        .await;
    assert_eq!(
        (a.body["count"].clone(), a.body["total"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(a.body["response"][0]["isVisitor"], true);
    let a = sb.get("/api/2.0/people/filter?count=2&startIndex=1").await;
    assert_eq!(
        (a.body["count"].clone(), a.body["total"].clone()),
        (json!(2), json!(7))
    );
    // All whitespace-separated terms must match.
    let a = sb
        .get("/api/2.0/people/filter?filterValue=dana%20admin")
        .await;
    assert_eq!(a.body["total"], 1);
    let a = sb.get(&format!("/api/2.0/people/{ROOM_ADMIN}")).await;
    assert_eq!(
        (
            a.body["response"]["isRoomAdmin"].clone(),
            a.body["response"]["isAdmin"].clone()
        ),
        (json!(true), json!(false))
    );
    let a = sb.get(&format!("/api/2.0/people/{DOCSPACE_ADMIN}")).await;
    assert_eq!(a.body["response"]["isAdmin"], true);
    let a = sb
        .get("/api/2.0/people/email?email=ADMIN%40sandbox.test")
        .await;
    assert_eq!(a.body["response"]["id"], OWNER);
    let a = sb
        .get("/api/2.0/people/email?email=nobody%40sandbox.test")
        .await;
    assert_eq!(a.status, 404);
    assert_eq!(sb.get("/api/2.0/people/email?email=").await.status, 400);

    let a = sb.get("/api/2.0/group?filterValue=SAL").await;
    insta::assert_json_snapshot!("groups_filtered", redact(&a.body));
    let a = sb.get("/api/2.0/group?count=1&startIndex=5").await;
    assert_eq!(
        (a.body["count"].clone(), a.body["total"].clone()),
        (json!(0), json!(2))
    );
    let a = sb
        .get(&format!("/api/2.0/group/{MARKETING}?includeMembers=true"))
        .await;
    assert_eq!(a.body["response"]["members"].as_array().unwrap().len(), 2);
    assert_eq!(sb.get("/api/2.0/group?count=101").await.status, 400);
}

#[tokio::test]
async fn injected_errors_and_stats() {
    let sb = Sandbox::with(FaultConfig {
        error_rate_500: 1.0,
        ..FaultConfig::default()
    })
    .await;
    let a = sb.get("/api/2.0/files/rooms").await;
    assert_eq!(a.status, 500);
    assert_eq!(a.body["status"], 1);
    assert!(a.body["error"]["message"].is_string());
    // The stats route needs no key and is never faulted.
    let stats: Value = sb
        .client
        .get(sb.url("/__sandbox/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["status5xx"], 1);
    assert_eq!(stats["routes"]["GET /api/2.0/files/rooms"], 1);
    assert_eq!(stats["maxInFlight"], 1);
    let reset: Value = sb
        .client
        .post(sb.url("/__sandbox/stats/reset"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(reset["total"], 0);

    let sb = Sandbox::with(FaultConfig {
        error_rate_503: 1.0,
        ..FaultConfig::default()
    })
    .await;
    let a = sb.get("/api/2.0/files/rooms").await;
    assert_eq!(a.status, 503);
    assert!(a.text.contains("<html>"));

    let sb = Sandbox::with(FaultConfig {
        error_rate_429: 1.0,
        ..FaultConfig::default()
    })
    .await;
    let a = sb.get("/api/2.0/files/rooms").await;
    assert_eq!(a.status, 429);
    assert_eq!(a.headers["retry-after"], "1");
    assert!(a.headers.contains_key("x-ratelimit-reset"));
}

#[tokio::test]
async fn the_same_seed_repeats_the_same_faults() {
    let mut runs = Vec::new();
    for _ in 0..2 {
        let sb = Sandbox::with(FaultConfig {
            error_rate_500: 0.5,
            seed: 42,
            ..FaultConfig::default()
        })
        .await;
        let mut statuses = Vec::new();
        for _ in 0..20 {
            statuses.push(sb.get("/api/2.0/people/@self").await.status);
        }
        runs.push(statuses);
    }
    assert_eq!(runs[0], runs[1]);
    assert!(runs[0].contains(&500) && runs[0].contains(&200));
}

#[tokio::test]
async fn rate_limiter_window_and_headers() {
    let sb = Sandbox::with(FaultConfig {
        rate_limit: true,
        rate_limit_per_minute: 3,
        ..FaultConfig::default()
    })
    .await;
    for _ in 0..3 {
        let a = sb.get("/api/2.0/people/@self").await;
        assert_eq!(a.status, 200);
        // As the server: rate headers come only with a 429.
        assert!(!a.headers.contains_key("x-ratelimit-limit"));
        assert!(!a.headers.contains_key("x-ratelimit-remaining"));
    }
    let a = sb.get("/api/2.0/people/@self").await;
    assert_eq!(a.status, 429);
    let retry: u64 = a.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    assert_eq!(a.headers["x-ratelimit-limit"], "3");
    assert_eq!(a.headers["x-ratelimit-remaining"], "0");
}

#[tokio::test]
async fn rate_limiter_caps_concurrent_writes() {
    let sb = Arc::new(
        Sandbox::with(FaultConfig {
            rate_limit: true,
            max_concurrent_writes: 2,
            latency_ms: 300,
            ..FaultConfig::default()
        })
        .await,
    );
    let mut tasks = Vec::new();
    for i in 0..6 {
        let sb = Arc::clone(&sb);
        tasks.push(tokio::spawn(async move {
            sb.post(
                "/api/2.0/files/rooms",
                json!({ "title": format!("c{i}"), "roomType": 2 }),
            )
            .await
            .status
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        2,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        4,
        "{statuses:?}"
    );
    let stats: Value = sb
        .client
        .get(sb.url("/__sandbox/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // The two admitted writes were in flight while the others were refused.
    assert!(stats["maxInFlight"].as_u64().unwrap() >= 3, "{stats}");
    assert_eq!(stats["status429"], 4);
    assert_eq!(stats["writes"], 6);
}

#[tokio::test]
async fn commit_then_fail_performs_the_write() {
    let sb = Sandbox::with(FaultConfig {
        commit_then_fail_rate: 1.0,
        seed: 1,
        ..FaultConfig::default()
    })
    .await;
    let mut outcomes = Vec::new();
    for i in 0..8 {
        let res = sb
            .client
            .post(sb.url("/api/2.0/files/rooms"))
            .bearer_auth(&sb.handle.api_key)
            .json(&json!({ "title": format!("ctf {i}"), "roomType": 2 }))
            .send()
            .await;
        let outcome = match res {
            Ok(r) => {
                let status = r.status().as_u16();
                match r.text().await {
                    Ok(_) => status.to_string(),
                    Err(_) => "dropped".to_string(),
                }
            }
            Err(_) => "dropped".to_string(),
        };
        outcomes.push(outcome);
    }
    assert!(
        outcomes.iter().all(|o| o == "504" || o == "dropped"),
        "{outcomes:?}"
    );
    assert!(outcomes.contains(&"504".to_string()) && outcomes.contains(&"dropped".to_string()));
    // Reads are not affected, and every write happened.
    let list = sb.get("/api/2.0/files/rooms").await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body["response"]["total"], 8);
}

#[tokio::test]
async fn state_survives_a_restart() {
    let sb = Sandbox::start().await;
    let id = sb.room("Persistent", 8).await;
    sb.share(id, json!([{ "email": "p@example.com", "access": 2 }]))
        .await;
    let path = sb.dir.path().join("state.json");
    let Sandbox { handle, dir, .. } = sb;
    handle.stop().await.unwrap();
    let handle = start_in_process(&path, FaultConfig::default())
        .await
        .unwrap();
    let again = Sandbox {
        handle,
        client: client(),
        dir,
    };
    let a = again.get(&format!("/api/2.0/files/rooms/{id}")).await;
    assert_eq!(a.body["response"]["title"], "Persistent");
    assert_eq!(again.members(id).await.len(), 2);
}

#[test]
fn the_sandbox_command_refuses_remote_addresses_and_bad_keys() {
    let bin = env!("CARGO_BIN_EXE_docspace-provision");
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("s.json");
    let out = Command::new(bin)
        .args(["sandbox", "--listen", "0.0.0.0:0", "--state"])
        .arg(&state)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--allow-remote"));
    let out = Command::new(bin)
        .args([
            "sandbox",
            "--listen",
            "127.0.0.1:0",
            "--api-key",
            "sk-123",
            "--state",
        ])
        .arg(&state)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(!state.exists());
}

/// The state file stays valid when the process is killed (SIGKILL) in the middle of a burst of
/// writes, and holds every room whose creation was acknowledged.
#[test]
fn state_survives_kill_9_during_a_burst_of_writes() {
    let bin = env!("CARGO_BIN_EXE_docspace-provision");
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("burst.json");
    let mut child = Command::new(bin)
        .args(["-q", "sandbox", "--listen", "127.0.0.1:0", "--state"])
        .arg(&state)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url_line = lines.next().unwrap().unwrap();
    let key_line = lines.next().unwrap().unwrap();
    let url = url_line.strip_prefix("DOCSPACE_URL=").unwrap().to_string();
    let key = key_line
        .strip_prefix("DOCSPACE_API_KEY=")
        .unwrap()
        .to_string();
    assert!(
        !url.ends_with(":0"),
        "the printed URL shows the real port: {url}"
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let acked: Arc<Mutex<Vec<i64>>> = Arc::default();
    runtime.block_on(async {
        let client = client();
        let mut tasks = Vec::new();
        for t in 0..6 {
            let (client, url, key, acked) =
                (client.clone(), url.clone(), key.clone(), Arc::clone(&acked));
            tasks.push(tokio::spawn(async move {
                for i in 0.. {
                    let res = client
                        .post(format!("{url}/api/2.0/files/rooms"))
                        .bearer_auth(&key)
                        .json(&json!({ "title": format!("burst {t}-{i}"), "roomType": 2 }))
                        .send()
                        .await;
                    let Ok(res) = res else { break };
                    let Ok(body) = res.json::<Value>().await else {
                        break;
                    };
                    acked
                        .lock()
                        .unwrap()
                        .push(body["response"]["id"].as_i64().unwrap());
                }
            }));
        }
        while acked.lock().unwrap().len() < 40 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        child.kill().unwrap();
        child.wait().unwrap();
        for t in tasks {
            t.await.unwrap();
        }
    });

    let acked = acked.lock().unwrap().clone();
    let text = std::fs::read_to_string(&state).unwrap();
    let saved: Value = serde_json::from_str(&text).expect("the state file is valid JSON");
    let saved_ids: Vec<i64> = saved["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    for id in &acked {
        assert!(saved_ids.contains(id), "acknowledged room {id} was lost");
    }

    // A new sandbox loads the file and serves the rooms.
    runtime.block_on(async {
        let handle = start_in_process(&state, FaultConfig::default())
            .await
            .unwrap();
        let client = client();
        let base = handle.base_url.as_str().trim_end_matches('/').to_string();
        let mut seen = Vec::new();
        let mut start = 0;
        loop {
            let page: Value = client
                .get(format!(
                    "{base}/api/2.0/files/rooms?count=100&startIndex={start}"
                ))
                .bearer_auth(&handle.api_key)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let folders = page["response"]["folders"].as_array().unwrap();
            seen.extend(folders.iter().map(|f| f["id"].as_i64().unwrap()));
            start += 100;
            if start >= page["response"]["total"].as_i64().unwrap() {
                break;
            }
        }
        for id in &acked {
            assert!(seen.contains(id), "room {id} not served after reload");
        }
        handle.stop().await.unwrap();
    });
}
