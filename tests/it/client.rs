//! Contract and retry tests for the DocSpace client against wiremock on 127.0.0.1.
//!
//! Each contract test pins what goes on the wire for one call: method, path, exact query,
//! the bearer header, and exact JSON bodies with integer enums (docs/docspace-api.md, "Access as integers"). Retry
//! tests assert request counts, never tight timings; the one lower bound on elapsed time
//! (`Retry-After: 1`) cannot flake because a sleep never ends early.

use std::time::{Duration, Instant};

use docspace_provision::docspace::{
    ApiError, Client, ClientConfig, CreateRoomRequest, DocSpaceApi, ErrorKind, FileOperationDto,
    Invitation, NetworkKind, SearchArea, ShareRequest, UpdateRoomRequest,
};
use miette::Diagnostic;
use secrecy::SecretString;
use serde_json::{Value, json};
use url::Url;
use wiremock::matchers::{body_json, body_string, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// A distinctive key, so a leak into any message is easy to spot.
const KEY: &str = "sk-5ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7";
const BEARER: &str = "Bearer sk-5ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7";

fn config(base: &str) -> ClientConfig {
    let mut config = ClientConfig::new(
        Url::parse(base).unwrap(),
        SecretString::from(KEY.to_string()),
    );
    config.min_backoff = Duration::from_millis(10);
    config.max_backoff = Duration::from_millis(40);
    config.max_retries = 3;
    config.timeout = Duration::from_secs(5);
    config.requests_per_minute = 0;
    config
}

fn client(server: &MockServer) -> Client {
    Client::new(config(&server.uri())).unwrap()
}

/// A success envelope (docs/docspace-api.md, "Response envelopes").
fn ok(response: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "response": response, "count": 1, "links": [], "status": 0, "statusCode": 200
    }))
}

fn ok_total(response: Value, total: i64) -> ResponseTemplate {
    let count = response.as_array().map_or(1, |a| a.len());
    ResponseTemplate::new(200).set_body_json(json!({
        "response": response, "count": count, "total": total, "links": [],
        "status": 0, "statusCode": 200
    }))
}

/// An exception envelope (docs/docspace-api.md, "Response envelopes").
fn fail(status: u16, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "error": {"message": message, "type": "System.Exception", "stack": "   at X", "hresult": -1},
        "status": 1, "statusCode": status
    }))
}

fn room(id: i64, title: &str) -> Value {
    json!({"id": id, "title": title, "roomType": 2, "rootFolderType": 14, "tags": ["a"],
           "security": {"Read": true, "EditAccess": true}, "fileEntryType": 1})
}

fn user(id: &str, email: &str) -> Value {
    json!({"id": id, "email": email, "displayName": email, "status": 1, "activationStatus": 1,
           "isAdmin": false, "isOwner": false, "isRoomAdmin": false, "isCollaborator": true,
           "isVisitor": false})
}

/// The query of a received request as sorted pairs, to pin the exact parameter set.
fn query(req: &Request) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = req
        .url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.sort();
    pairs
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = list
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    v.sort();
    v
}

async fn received(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap_or_default()
}

/// Every request must carry the bearer key and ask for JSON.
async fn assert_headers(server: &MockServer) {
    for req in received(server).await {
        assert_eq!(req.headers.get("authorization").unwrap(), BEARER);
        assert_eq!(req.headers.get("accept").unwrap(), "application/json");
        if !req.body.is_empty() {
            assert_eq!(req.headers.get("content-type").unwrap(), "application/json");
        }
    }
}

fn assert_no_key(err: &ApiError) {
    let display = err.to_string();
    let debug = format!("{err:?}");
    let help = err.help().map(|h| h.to_string()).unwrap_or_default();
    for text in [&display, &debug, &help] {
        assert!(!text.contains(KEY), "key leaked: {text}");
        assert!(!text.contains("5ec7e75ec7e7"), "key leaked: {text}");
    }
    assert!(!display.contains('\n'), "one line: {display}");
}

// ---- contract: one test per call --------------------------------------------------------

#[tokio::test]
async fn me_sends_bearer_key_and_accept_json() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/people/@self"))
        .and(header("authorization", BEARER))
        .and(header("accept", "application/json"))
        .respond_with(ok(user("u1", "ops@acme.test")))
        .expect(1)
        .mount(&server)
        .await;
    let me = client(&server).me().await.unwrap();
    assert_eq!(me.id, "u1");
    assert_eq!(me.email, "ops@acme.test");
    let reqs = received(&server).await;
    assert!(query(&reqs[0]).is_empty());
}

#[tokio::test]
async fn list_rooms_pages_with_explicit_count_and_offset_and_never_sends_sort_by() {
    let server = MockServer::start().await;
    for (start, n) in [(0, 100), (100, 100), (200, 50)] {
        let folders: Vec<Value> = (start..start + n)
            .map(|i| room(i, &format!("R{i}")))
            .collect();
        Mock::given(method("GET"))
            .and(path("/api/2.0/files/rooms"))
            .and(query_param("startIndex", start.to_string()))
            .respond_with(ok(json!({
                "files": [], "folders": folders, "current": {"id": 3, "title": "Rooms"},
                "pathParts": [], "startIndex": start, "count": n, "total": 250, "new": 0
            })))
            .expect(1)
            .mount(&server)
            .await;
    }
    let rooms = client(&server)
        .list_rooms(SearchArea::Any, Some("R"))
        .await
        .unwrap();
    assert_eq!(rooms.len(), 250);
    assert_eq!(rooms.rooms[249].id, 249);
    let reqs = received(&server).await;
    assert_eq!(reqs.len(), 3);
    for (req, start) in reqs.iter().zip(["0", "100", "200"]) {
        assert_eq!(req.method.as_str(), "GET");
        assert_eq!(
            query(req),
            pairs(&[
                ("searchArea", "2"),
                ("filterValue", "R"),
                ("count", "100"),
                ("startIndex", start),
            ])
        );
        // A `sortBy` would be saved as the key user's default sort in the web UI.
        assert!(!query(req).iter().any(|(k, _)| k == "sortBy"));
    }
    assert_headers(&server).await;
}

#[tokio::test]
async fn list_rooms_keeps_connected_storage_rooms_apart() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/files/rooms"))
        .respond_with(ok(json!({
            "folders": [
                room(1, "Ours"),
                {"id": "sbox-3-7", "title": "In Box", "roomType": 2, "parentId": "sbox-3",
                 "rootFolderId": "sbox-3", "rootFolderType": 14, "providerKey": "Box",
                 "providerItem": true},
                room(2, "Also ours")
            ],
            "startIndex": 0, "count": 3, "total": 3
        })))
        .expect(1)
        .mount(&server)
        .await;
    let listing = client(&server)
        .list_rooms(SearchArea::Any, None)
        .await
        .unwrap();
    let ids: Vec<i64> = listing.rooms.iter().map(|r| r.id).collect();
    assert_eq!(ids, [1, 2]);
    assert_eq!(listing.connected.len(), 1);
    assert_eq!(listing.connected[0].id, "sbox-3-7");
    assert_eq!(listing.connected[0].provider_key.as_deref(), Some("Box"));
}

#[tokio::test]
async fn list_rooms_reads_again_when_pages_overlap_and_says_when_it_keeps_happening() {
    // Page 2 repeats a room of page 1 (a room was added at the top between the two reads).
    let server = MockServer::start().await;
    let first: Vec<Value> = (0..100).map(|i| room(i, &format!("R{i}"))).collect();
    let second: Vec<Value> = (99..150).map(|i| room(i, &format!("R{i}"))).collect();
    Mock::given(method("GET"))
        .and(path("/api/2.0/files/rooms"))
        .and(query_param("startIndex", "0"))
        .respond_with(ok(
            json!({"folders": first, "startIndex": 0, "count": 100, "total": 151}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/files/rooms"))
        .and(query_param("startIndex", "100"))
        .respond_with(ok(
            json!({"folders": second, "startIndex": 100, "count": 51, "total": 151}),
        ))
        .mount(&server)
        .await;
    let listing = client(&server)
        .list_rooms(SearchArea::Any, None)
        .await
        .unwrap();
    // Two full passes, then the listing comes back marked incomplete: what it shows is there,
    // but a plan must not be built on it.
    assert_eq!(received(&server).await.len(), 4);
    assert!(!listing.complete);
    assert_eq!(listing.rooms.len(), 150);
    let err = listing.require_complete().unwrap_err();
    assert!(
        err.to_string().contains("changed while it was read"),
        "{err}"
    );
}

#[tokio::test]
async fn people_are_paged_in_an_explicit_total_order() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/people/filter"))
        .respond_with(ok_total(json!([]), 0))
        .mount(&server)
        .await;
    let c = client(&server);
    c.people_page(0).await.unwrap();
    c.list_people().await.unwrap();
    for req in received(&server).await {
        let q = query(&req);
        assert!(
            q.contains(&("sortBy".to_string(), "Email".to_string())),
            "{q:?}"
        );
        assert!(
            q.contains(&("sortOrder".to_string(), "0".to_string())),
            "{q:?}"
        );
    }
}

#[tokio::test]
async fn email_is_looked_up_as_written_then_lower_cased_and_matched_case_insensitively() {
    // A PostgreSQL install: only the stored spelling matches.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/people/email"))
        .and(query_param("email", "Ann.Lee@Example.com"))
        .respond_with(fail(404, "The user could not be found"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/people/email"))
        .and(query_param("email", "ann.lee@example.com"))
        .respond_with(ok(json!({"id": "u-1", "email": "ann.lee@example.com"})))
        .expect(1)
        .mount(&server)
        .await;
    let user = client(&server)
        .user_by_email("Ann.Lee@Example.com")
        .await
        .unwrap()
        .expect("found through the lower-cased form");
    assert_eq!(user.id, "u-1");

    // An answer for another address (a server that matched loosely) is not taken.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/people/email"))
        .respond_with(ok(
            json!({"id": "u-2", "email": "someone.else@example.com"}),
        ))
        .mount(&server)
        .await;
    assert!(
        client(&server)
            .user_by_email("ann@example.com")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_refused_archive_fails_with_the_operation_error_without_waiting_out_the_timeout() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/files/fileops"))
        .and(query_param("id", "op-1"))
        .respond_with(ok(json!([
            {"id": "op-0", "Operation": 0, "progress": 100, "error": "", "finished": true, "status": 2},
            {"id": "op-1", "Operation": 0, "progress": 100,
             "error": "You don't have enough permission to archive the room", "finished": true, "status": 4}
        ])))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/files/rooms/7"))
        .respond_with(ok(json!({"id": 7, "title": "X", "rootFolderType": 14})))
        .mount(&server)
        .await;
    let op: FileOperationDto =
        serde_json::from_value(json!({"id": "op-1", "Operation": 0, "finished": false})).unwrap();
    let err = client(&server)
        .wait_room_state(7, Some(&op), true, Duration::from_secs(120))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Failed);
    let text = err.to_string();
    assert!(text.contains("could not archive room 7"), "{text}");
    assert!(text.contains("enough permission"), "{text}");
    // One operation read was enough: no polling of the room until the timeout.
    assert!(received(&server).await.len() <= 2);
}

#[tokio::test]
async fn an_operation_that_finished_without_moving_the_room_fails_after_a_few_rounds() {
    let server = MockServer::start().await;
    // Handed out once, then forgotten, as the server does.
    Mock::given(method("GET"))
        .and(path("/api/2.0/files/fileops"))
        .respond_with(ok(json!([
            {"id": "op-1", "Operation": 0, "progress": 100, "finished": true, "status": 2}
        ])))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/files/fileops"))
        .respond_with(ok(json!([])))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/files/rooms/7"))
        .respond_with(ok(json!({"id": 7, "title": "X", "rootFolderType": 20})))
        .mount(&server)
        .await;
    let op: FileOperationDto = serde_json::from_value(json!({"id": "op-1"})).unwrap();
    let err = client(&server)
        .wait_room_state(7, Some(&op), false, Duration::from_secs(120))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("still not active"), "{err}");
}

#[tokio::test]
async fn operations_unreadable_for_the_key_fall_back_to_watching_the_room() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/files/fileops"))
        .respond_with(ResponseTemplate::new(403))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/files/rooms/7"))
        .respond_with(ok(json!({"id": 7, "title": "X", "rootFolderType": 20})))
        .mount(&server)
        .await;
    let op: FileOperationDto = serde_json::from_value(json!({"id": "op-1"})).unwrap();
    let room = client(&server)
        .wait_room_state(7, Some(&op), true, Duration::from_secs(10))
        .await
        .unwrap();
    assert!(room.is_archived());
}

#[tokio::test]
async fn list_rooms_stops_on_an_empty_page_even_if_total_says_more() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/files/rooms"))
        .and(query_param("startIndex", "0"))
        .respond_with(ok(
            json!({"folders": [room(1, "A")], "startIndex": 0, "count": 1,
                                "total": 500}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/files/rooms"))
        .and(query_param("startIndex", "1"))
        .respond_with(ok(
            json!({"folders": [], "startIndex": 1, "count": 0, "total": 500}),
        ))
        .mount(&server)
        .await;
    let rooms = client(&server)
        .list_rooms(SearchArea::Active, None)
        .await
        .unwrap();
    assert_eq!(rooms.len(), 1);
    let reqs = received(&server).await;
    assert_eq!(reqs.len(), 2);
    assert!(
        !query(&reqs[0]).iter().any(|(k, _)| k == "filterValue"),
        "no filterValue when none is given"
    );
    assert!(query(&reqs[0]).contains(&("searchArea".into(), "0".into())));
}

#[tokio::test]
async fn get_room_reads_one_room() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/files/rooms/4821"))
        .respond_with(ok(
            json!({"id": 4821, "title": "Acme deal room", "roomType": 8,
                                "rootFolderType": 20, "quotaLimit": 1024, "denyDownload": true,
                                "createdBy": {"id": "u1", "displayName": "Ops"}}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let room = client(&server).get_room(4821).await.unwrap();
    assert_eq!(room.title, "Acme deal room");
    assert_eq!(room.room_type, Some(8));
    assert!(room.is_archived());
    assert_eq!(room.deny_download, Some(true));
    assert_eq!(room.created_by.unwrap().display_name, "Ops");
    assert_headers(&server).await;
}

#[tokio::test]
async fn create_room_posts_integer_room_type_and_skips_nulls() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/2.0/files/rooms"))
        .and(header("content-type", "application/json"))
        .and(body_string(r#"{"title":"X","roomType":2}"#))
        .respond_with(ok(room(7, "X")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/2.0/files/rooms"))
        .and(body_string(
            r#"{"title":"Y","roomType":8,"tags":["acme","2025"],"quota":1073741824,"denyDownload":true}"#,
        ))
        .respond_with(ok(room(8, "Y")))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    let created = c
        .create_room(&CreateRoomRequest {
            title: "X".into(),
            room_type: 2,
            ..CreateRoomRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(created.id, 7);
    let created = c
        .create_room(&CreateRoomRequest {
            title: "Y".into(),
            room_type: 8,
            settings: docspace_provision::docspace::RoomCreateSettings {
                tags: Some(vec!["acme".into(), "2025".into()]),
                quota: Some(1 << 30),
                deny_download: Some(true),
                ..Default::default()
            },
        })
        .await
        .unwrap();
    assert_eq!(created.id, 8);
    assert!(query(&received(&server).await[0]).is_empty());
    assert_headers(&server).await;
    assert_eq!(c.stats().posts, 2);
}

#[tokio::test]
async fn update_room_puts_only_present_fields() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/2.0/files/rooms/7"))
        .and(body_string(r#"{"title":"New","tags":[],"quota":-1}"#))
        .respond_with(ok(room(7, "New")))
        .expect(1)
        .mount(&server)
        .await;
    let updated = client(&server)
        .update_room(
            7,
            &UpdateRoomRequest {
                title: Some("New".into()),
                tags: Some(vec![]),
                quota: Some(-1),
                deny_download: None,
                ..UpdateRoomRequest::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.title, "New");
    assert_headers(&server).await;
}

#[tokio::test]
async fn archive_and_unarchive_send_delete_after_false() {
    let server = MockServer::start().await;
    for action in ["archive", "unarchive"] {
        Mock::given(method("PUT"))
            .and(path(format!("/api/2.0/files/rooms/7/{action}")))
            .and(body_string(r#"{"deleteAfter":false}"#))
            .respond_with(ok(json!({"id": format!("op-{action}"), "Operation": 0,
                                    "progress": 0, "error": null, "processed": "0",
                                    "finished": false, "status": 1})))
            .expect(1)
            .mount(&server)
            .await;
    }
    let c = client(&server);
    let op = c.archive_room(7).await.unwrap();
    assert_eq!(op.id, "op-archive");
    assert_eq!(op.operation, Some(0));
    assert!(!op.finished);
    let op = c.unarchive_room(7).await.unwrap();
    assert_eq!(op.id, "op-unarchive");
    assert_headers(&server).await;
}

#[tokio::test]
async fn delete_room_sends_a_json_body() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/api/2.0/files/rooms/7"))
        .and(body_string(r#"{"deleteAfter":false}"#))
        .respond_with(ok(json!({"id": "op", "Operation": 2, "finished": false})))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    c.delete_room(7).await.unwrap();
    assert_eq!(c.stats().deletes, 1);
    assert_headers(&server).await;
}

#[tokio::test]
async fn wait_room_state_polls_until_archived() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/files/rooms/7"))
        .respond_with(ok(json!({"id": 7, "title": "X", "rootFolderType": 14})))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/files/rooms/7"))
        .respond_with(ok(json!({"id": 7, "title": "X", "rootFolderType": 20})))
        .mount(&server)
        .await;
    let room = client(&server)
        .wait_room_state(7, None, true, Duration::from_secs(10))
        .await
        .unwrap();
    assert!(room.is_archived());
    assert_eq!(received(&server).await.len(), 3);
}

#[tokio::test]
async fn wait_room_state_times_out_with_a_clear_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/files/rooms/7"))
        .respond_with(ok(json!({"id": 7, "title": "X", "rootFolderType": 14})))
        .mount(&server)
        .await;
    let err = client(&server)
        .wait_room_state(7, None, true, Duration::from_millis(300))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WaitTimeout);
    assert!(err.to_string().contains("not archived"), "{err}");
}

#[tokio::test]
async fn wait_room_deleted_polls_until_404() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/files/rooms/7"))
        .respond_with(ok(room(7, "X")))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/files/rooms/7"))
        .respond_with(fail(404, "The required folder was not found"))
        .mount(&server)
        .await;
    client(&server)
        .wait_room_deleted(7, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(received(&server).await.len(), 2);
}

#[tokio::test]
async fn get_share_pages_by_envelope_total() {
    let server = MockServer::start().await;
    let row = |i: usize| {
        json!({"access": 10, "isOwner": i == 0, "isLocked": false, "canEditAccess": i != 0,
               "subjectType": 0, "canEditInternal": false, "canRevoke": true,
               "sharedToUser": user(&format!("u{i}"), &format!("u{i}@x.test")),
               "sharedTo": {"id": format!("u{i}")}})
    };
    let first: Vec<Value> = (0..100).map(row).collect();
    let mut second: Vec<Value> = (100..149).map(row).collect();
    second.push(
        json!({"access": 11, "subjectType": 2, "isOwner": false, "isLocked": false,
                       "canEditAccess": true, "sharedToGroup": {"id": "g1", "name": "Sales"}}),
    );
    Mock::given(method("GET"))
        .and(path("/api/2.0/files/rooms/7/share"))
        .and(query_param("startIndex", "0"))
        .respond_with(ok_total(json!(first), 150))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/files/rooms/7/share"))
        .and(query_param("startIndex", "100"))
        .respond_with(ok_total(json!(second), 150))
        .expect(1)
        .mount(&server)
        .await;
    let rows = client(&server).get_share(7).await.unwrap();
    assert_eq!(rows.len(), 150);
    assert!(rows[0].is_owner);
    assert_eq!(rows[149].shared_to_group.as_ref().unwrap().name, "Sales");
    assert_eq!(rows[149].subject_type, Some(2));
    let reqs = received(&server).await;
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        query(&reqs[1]),
        pairs(&[("filterType", "0"), ("count", "100"), ("startIndex", "100")])
    );
    assert_headers(&server).await;
}

#[tokio::test]
async fn get_share_stops_on_negative_count_and_empty_page() {
    // docs/docspace-api.md, "Response envelopes": the share list's envelope count can go negative past the end.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/files/rooms/7/share"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "response": [], "count": -5, "total": 3, "status": 0, "statusCode": 200})))
        .mount(&server)
        .await;
    let rows = client(&server).get_share(7).await.unwrap();
    assert!(rows.is_empty());
    assert_eq!(received(&server).await.len(), 1);
}

#[tokio::test]
async fn set_share_sends_integer_access_values() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/2.0/files/rooms/7/share"))
        .and(body_json(json!({
            "invitations": [
                {"id": "9c2d", "access": 9},
                {"id": "7d1a", "access": 11},
                {"email": "new.person@example.com", "access": 10},
                {"id": "gone", "access": 0}
            ],
            "notify": false, "culture": "en-US", "force": false
        })))
        .respond_with(ok(json!({
            "members": [
                {"access": 9, "subjectType": 0, "sharedToUser": {"id": "9c2d"}},
                {"access": 11, "subjectType": 2, "sharedToGroup": {"id": "7d1a"}}
            ],
            "warning": "could not invite x", "error": 0
        })))
        .expect(1)
        .mount(&server)
        .await;
    let response = client(&server)
        .set_share(
            7,
            &ShareRequest {
                invitations: vec![
                    Invitation::by_id("9c2d", 9),
                    Invitation::by_id("7d1a", 11),
                    Invitation::by_email("new.person@example.com", 10),
                    Invitation::by_id("gone", 0),
                ],
                notify: false,
                message: None,
                culture: Some("en-US".into()),
                force: false,
            },
        )
        .await
        .unwrap();
    assert_eq!(response.members.len(), 2);
    assert_eq!(
        response.members[0].shared_to_user.as_ref().unwrap().id,
        "9c2d"
    );
    assert_eq!(response.warning.as_deref(), Some("could not invite x"));
    assert_eq!(response.error, 0);
    // Integers on the wire, never names (docs/docspace-api.md, "Access as integers").
    let body: Value = serde_json::from_slice(&received(&server).await[0].body).unwrap();
    assert!(body["invitations"][0]["access"].is_i64());
    assert_headers(&server).await;
}

#[tokio::test]
async fn user_by_email_tries_the_written_form_then_lower_case_and_maps_404_to_none() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/people/email"))
        .and(query_param("email", "Example.User@Mail.com"))
        .respond_with(fail(404, "The user could not be found"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/people/email"))
        .and(query_param("email", "example.user@mail.com"))
        .respond_with(ok(user("u9", "example.user@mail.com")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/people/email"))
        .and(query_param("email", "nobody@mail.com"))
        .respond_with(fail(404, "The user could not be found"))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    let found = c.user_by_email(" Example.User@Mail.com ").await.unwrap();
    assert_eq!(found.unwrap().id, "u9");
    // Already lower case: one lookup.
    assert!(c.user_by_email("nobody@mail.com").await.unwrap().is_none());
    let reqs = received(&server).await;
    assert_eq!(reqs.len(), 3);
    assert_eq!(
        query(&reqs[0]),
        pairs(&[("email", "Example.User@Mail.com")])
    );
    assert_eq!(
        query(&reqs[1]),
        pairs(&[("email", "example.user@mail.com")])
    );
    assert_headers(&server).await;
}

#[tokio::test]
async fn user_by_email_empty_404_is_an_error_not_a_new_guest() {
    // docs/docspace-api.md, "Authentication": an unknown or suspended portal answers 404 with an empty body.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/people/email"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    let err = client(&server).user_by_email("a@b.test").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.http_status(), Some(404));
}

#[tokio::test]
async fn list_people_pages_all_areas_including_pending() {
    let server = MockServer::start().await;
    let first: Vec<Value> = (0..100)
        .map(|i| user(&format!("u{i}"), &format!("u{i}@x.test")))
        .collect();
    let pending = json!({"id": "p1", "email": "new@x.test", "displayName": "new@x.test",
                         "status": 4, "activationStatus": 2, "isVisitor": true});
    Mock::given(method("GET"))
        .and(path("/api/2.0/people/filter"))
        .and(query_param("startIndex", "0"))
        .respond_with(ok_total(json!(first), 101))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/people/filter"))
        .and(query_param("startIndex", "100"))
        .respond_with(ok_total(json!([pending]), 101))
        .expect(1)
        .mount(&server)
        .await;
    let people = client(&server).list_people().await.unwrap();
    assert_eq!(people.len(), 101);
    assert!(people[100].is_pending());
    assert_eq!(
        people[100].user_type(),
        docspace_provision::model::UserType::Guest
    );
    let reqs = received(&server).await;
    assert_eq!(
        query(&reqs[0]),
        pairs(&[
            ("area", "0"),
            ("count", "100"),
            ("sortBy", "Email"),
            ("sortOrder", "0"),
            ("startIndex", "0")
        ])
    );
    assert_headers(&server).await;
}

#[tokio::test]
async fn list_groups_pages_and_get_group_reads_one() {
    let server = MockServer::start().await;
    let first: Vec<Value> = (0..100)
        .map(|i| {
            json!({"id": format!("g{i}"), "name": format!("G{i}"), "membersCount": i,
                        "isLDAP": false, "isSystem": false})
        })
        .collect();
    Mock::given(method("GET"))
        .and(path("/api/2.0/group"))
        .and(query_param("startIndex", "0"))
        .respond_with(ok_total(json!(first), 102))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/group"))
        .and(query_param("startIndex", "100"))
        .respond_with(ok_total(
            json!([{"id": "g100", "name": "Sales"}, {"id": "g101", "name": "Ops"}]),
            102,
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/group/g100"))
        .respond_with(ok(
            json!({"id": "g100", "name": "Sales", "membersCount": 12}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    let groups = c.list_groups().await.unwrap();
    assert_eq!(groups.len(), 102);
    assert_eq!(groups[100].name, "Sales");
    let group = c.get_group("g100").await.unwrap();
    assert_eq!(group.members_count, Some(12));
    let reqs = received(&server).await;
    assert_eq!(
        query(&reqs[0]),
        pairs(&[("count", "100"), ("startIndex", "0")])
    );
    assert!(query(&reqs[2]).is_empty());
    assert_headers(&server).await;
}

// ---- envelopes and errors ---------------------------------------------------------------

#[tokio::test]
async fn status_one_inside_a_200_is_an_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/files/rooms/7"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "error": {"message": "The room is archived"}, "status": 1, "statusCode": 200})))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server).get_room(7).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Failed);
    assert_eq!(err.message(), Some("The room is archived"));
    assert_eq!(
        err.to_string(),
        "the portal reported a failure: The room is archived (GET /api/2.0/files/rooms/7, HTTP 200)"
    );
}

#[tokio::test]
async fn validation_problem_is_decoded_into_a_message() {
    // docs/docspace-api.md, "Response envelopes": HTTP 400, success envelope shape, status 1, the problem in `response`.
    let problem = json!({
        "response": {"title": "One or more validation errors occurred.", "status": 400,
                     "errors": {"Title": ["The field Title must be a string with a maximum length of 170."]},
                     "traceId": "00-abc"},
        "count": 1, "links": [], "status": 1, "statusCode": 400
    });
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/2.0/files/rooms"))
        .respond_with(ResponseTemplate::new(400).set_body_json(problem.clone()))
        .expect(1)
        .mount(&server)
        .await;
    // The same shape inside a 200 must fail too.
    Mock::given(method("PUT"))
        .and(path("/api/2.0/files/rooms/7"))
        .respond_with(ResponseTemplate::new(200).set_body_json(problem))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    let err = c
        .create_room(&CreateRoomRequest {
            title: "x".repeat(200),
            room_type: 2,
            ..CreateRoomRequest::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadRequest);
    assert_eq!(err.http_status(), Some(400));
    assert!(!err.is_ambiguous(), "a 400 is a definite no");
    assert_eq!(
        err.message(),
        Some("Title: The field Title must be a string with a maximum length of 170.")
    );
    let err = c
        .update_room(7, &UpdateRoomRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadRequest);
    assert!(err.message().unwrap().starts_with("Title:"));
}

#[tokio::test]
async fn non_json_success_is_a_decode_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/people/@self"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>login</html>"))
        .mount(&server)
        .await;
    let err = client(&server).me().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(err.help().unwrap().to_string().contains("--portal"));
}

#[tokio::test]
async fn unauthorized_names_the_problem_without_the_key() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/people/@self"))
        .respond_with(ResponseTemplate::new(401))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server).me().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert_eq!(err.http_status(), Some(401));
    assert_eq!(
        err.to_string(),
        "the portal rejected the API key (GET /api/2.0/people/@self, HTTP 401)"
    );
    assert!(err.help().unwrap().to_string().contains("sk-"));
    assert_no_key(&err);
}

#[tokio::test]
async fn forbidden_carries_the_server_message_and_scope_help() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/2.0/files/rooms/7/share"))
        .respond_with(fail(403, "The role is not available for this user type"))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .set_share(7, &ShareRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    assert_eq!(
        err.message(),
        Some("The role is not available for this user type")
    );
    assert!(err.help().unwrap().to_string().contains("rooms:write"));
    assert_no_key(&err);
}

#[tokio::test]
async fn the_key_never_appears_in_any_error_or_debug_output() {
    let server = MockServer::start().await;
    for (p, status) in [
        ("/a", 401),
        ("/b", 402),
        ("/c", 403),
        ("/d", 404),
        ("/e", 500),
    ] {
        Mock::given(path(format!("/api/2.0/group{p}")))
            .respond_with(ResponseTemplate::new(status).set_body_string(format!("echo {BEARER}")))
            .mount(&server)
            .await;
    }
    let c = client(&server);
    for id in ["a", "b", "c", "d", "e"] {
        let err = c.get_group(id).await.unwrap_err();
        assert!(err.http_status().is_some());
        assert_no_key(&err);
    }
    let refused = Client::new(config(&format!("http://127.0.0.1:{}", closed_port()))).unwrap();
    assert_no_key(&refused.me().await.unwrap_err());
    assert!(!format!("{c:?}").contains(KEY));
    assert!(!format!("{:?}", config("http://127.0.0.1:1")).contains(KEY));
}

// ---- retries ------------------------------------------------------------------------------

#[tokio::test]
async fn retry_after_on_429_is_honoured() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/people/@self"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "1")
                .insert_header("X-RateLimit-Limit", "1500")
                .insert_header("X-RateLimit-Remaining", "0"),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/people/@self"))
        .respond_with(ok(user("u1", "ops@acme.test")))
        .mount(&server)
        .await;
    let c = client(&server);
    let started = Instant::now();
    c.me().await.unwrap();
    // The backoff alone would be 10-20 ms; only Retry-After explains a wait of a second.
    assert!(started.elapsed() >= Duration::from_millis(950));
    assert_eq!(received(&server).await.len(), 2);
    let stats = c.stats();
    assert_eq!(
        (
            stats.calls,
            stats.requests,
            stats.retries,
            stats.rate_limited
        ),
        (1, 2, 1, 1)
    );
}

#[tokio::test]
async fn a_long_retry_after_fails_at_once() {
    // Section 9: daily limits send Retry-After up to 86400; do not sleep for a day.
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "86400"))
        .mount(&server)
        .await;
    let err = client(&server)
        .update_room(7, &UpdateRoomRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(86400)));
    assert_eq!(received(&server).await.len(), 1);
}

#[tokio::test]
async fn exhausted_rate_limit_window_paces_the_next_call() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/people/@self"))
        .respond_with(
            ok(user("u1", "ops@acme.test"))
                .insert_header("X-RateLimit-Remaining", "0")
                .insert_header("X-RateLimit-Reset", "1"),
        )
        .mount(&server)
        .await;
    let c = client(&server);
    c.me().await.unwrap();
    let started = Instant::now();
    c.me().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(950));
    assert_eq!(c.stats().retries, 0);
}

#[tokio::test]
async fn get_is_retried_after_503_and_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/files/rooms/7"))
        .respond_with(ResponseTemplate::new(503).set_body_string("<html>busy</html>"))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/files/rooms/7"))
        .respond_with(ok(room(7, "X")))
        .mount(&server)
        .await;
    let c = client(&server);
    assert_eq!(c.get_room(7).await.unwrap().id, 7);
    assert_eq!(received(&server).await.len(), 3);
    assert_eq!(c.stats().retries, 2);
}

#[tokio::test]
async fn get_gives_up_after_max_retries() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(502))
        .mount(&server)
        .await;
    let err = client(&server).get_room(7).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    // A read answered with a server error gets 3 more tries than max_retries (3 here).
    assert_eq!(err.attempts(), 7);
    assert!(!err.is_ambiguous(), "a read is never ambiguous");
    assert_eq!(received(&server).await.len(), 7);
}

#[tokio::test]
async fn a_write_answered_with_a_server_error_gets_max_retries_only() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(502))
        .mount(&server)
        .await;
    let request = ShareRequest {
        invitations: vec![Invitation::by_id("u1", 10)],
        notify: false,
        message: None,
        culture: None,
        force: false,
    };
    let err = client(&server).set_share(7, &request).await.unwrap_err();
    assert_eq!(err.attempts(), 4);
}

#[tokio::test]
async fn get_is_retried_after_500_but_not_after_404() {
    let server = MockServer::start().await;
    // A GET has no effect, so a 500 is retried (max_retries + 3 times); a 404 is final.
    Mock::given(path("/api/2.0/files/rooms/1"))
        .respond_with(fail(500, "boom"))
        .expect(4 + config(&server.uri()).max_retries as u64)
        .mount(&server)
        .await;
    Mock::given(path("/api/2.0/files/rooms/2"))
        .respond_with(fail(404, "The required folder was not found"))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    assert_eq!(c.get_room(1).await.unwrap_err().message(), Some("boom"));
    assert!(c.get_room(2).await.unwrap_err().is_not_found());
}

fn new_room() -> CreateRoomRequest {
    CreateRoomRequest {
        title: "X".into(),
        room_type: 2,
        ..CreateRoomRequest::default()
    }
}

#[tokio::test]
async fn create_is_not_retried_after_500_and_is_ambiguous() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/2.0/files/rooms"))
        .respond_with(fail(500, "Object reference not set"))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server).create_room(&new_room()).await.unwrap_err();
    assert_eq!(received(&server).await.len(), 1);
    assert!(err.is_ambiguous());
    assert_eq!(err.http_status(), Some(500));
    assert!(err.to_string().contains("may have been applied"), "{err}");
    assert!(err.help().unwrap().to_string().contains("list the rooms"));
}

#[tokio::test]
async fn create_is_not_retried_after_502_or_503() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server).create_room(&new_room()).await.unwrap_err();
    assert!(err.is_ambiguous());
}

#[tokio::test]
async fn create_is_not_retried_after_a_timeout_and_is_ambiguous() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/2.0/files/rooms"))
        .respond_with(ok(room(7, "X")).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let mut cfg = config(&server.uri());
    cfg.timeout = Duration::from_millis(300);
    let err = Client::new(cfg)
        .unwrap()
        .create_room(&new_room())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network(NetworkKind::Timeout));
    assert!(err.is_ambiguous());
    assert_eq!(err.attempts(), 1);
    assert_eq!(received(&server).await.len(), 1);
}

#[tokio::test]
async fn get_is_retried_after_a_timeout() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ok(room(7, "X")).set_delay(Duration::from_secs(3)))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ok(room(7, "X")))
        .mount(&server)
        .await;
    let mut cfg = config(&server.uri());
    cfg.timeout = Duration::from_millis(300);
    let room = Client::new(cfg).unwrap().get_room(7).await.unwrap();
    assert_eq!(room.id, 7);
    assert_eq!(received(&server).await.len(), 2);
}

#[tokio::test]
async fn create_is_retried_after_429() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/2.0/files/rooms"))
        .respond_with(ResponseTemplate::new(429))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/2.0/files/rooms"))
        .respond_with(ok(room(7, "X")))
        .mount(&server)
        .await;
    let c = client(&server);
    assert_eq!(c.create_room(&new_room()).await.unwrap().id, 7);
    assert_eq!(received(&server).await.len(), 2);
    assert_eq!(c.stats().rate_limited, 1);
}

/// A loopback port with nothing listening.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn connection_refused_is_a_network_error_after_retries() {
    let c = Client::new(config(&format!("http://127.0.0.1:{}", closed_port()))).unwrap();
    let err = c.list_rooms(SearchArea::Active, None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network(NetworkKind::Refused));
    assert_eq!(err.attempts(), 4);
    assert!(err.http_status().is_none());
    assert!(err.help().unwrap().to_string().contains("--portal"));
    assert!(
        err.to_string()
            .starts_with("cannot connect to the portal: connection refused"),
        "{err}"
    );
    assert_eq!(c.stats().retries, 3);
    // A refused create provably did not run: retried, and not ambiguous.
    let err = c.create_room(&new_room()).await.unwrap_err();
    assert_eq!(err.attempts(), 4);
    assert!(!err.is_ambiguous());
}

#[tokio::test]
async fn unreadable_ca_cert_is_a_config_error() {
    let mut cfg = config("https://127.0.0.1:1");
    cfg.ca_cert = Some("/nonexistent/ca.pem".into());
    let err = Client::new(cfg).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
}

// ---- the trait --------------------------------------------------------------------------

/// State-reading code is written against the trait; its futures must be Send so that apply
/// can spawn them.
async fn titles(api: &impl DocSpaceApi) -> Vec<String> {
    api.list_rooms(SearchArea::Active, None)
        .await
        .unwrap()
        .rooms
        .into_iter()
        .map(|r| r.title)
        .collect()
}

#[tokio::test]
async fn client_implements_the_trait_with_send_futures() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/files/rooms"))
        .respond_with(ok(
            json!({"folders": [room(1, "A")], "startIndex": 0, "count": 1,
                                "total": 1}),
        ))
        .mount(&server)
        .await;
    let c = client(&server);
    let handle = tokio::spawn(async move { titles(&c).await });
    assert_eq!(handle.await.unwrap(), vec!["A".to_string()]);
}

#[tokio::test]
async fn tls_failure_is_classed_as_tls_with_ca_cert_help() {
    // https:// to a plain-HTTP listener: the handshake fails inside rustls.
    let server = MockServer::start().await;
    let base = server.uri().replace("http://", "https://");
    let c = Client::new(config(&base)).unwrap();
    let err = c.me().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Tls, "{err}");
    assert_eq!(err.attempts(), 1, "a TLS failure is not retried");
    // The listener answered in plain HTTP: the help names the scheme, not --ca-cert (which
    // stays the help for certificate failures).
    assert!(
        err.help().unwrap().to_string().contains("use http://"),
        "{err}"
    );
    assert_no_key(&err);
}

#[tokio::test]
async fn delete_retried_after_a_timeout_accepts_the_404_it_caused() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(ok(json!({"id": "op"})).set_delay(Duration::from_secs(3)))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(fail(404, "The required folder was not found"))
        .mount(&server)
        .await;
    let mut cfg = config(&server.uri());
    cfg.timeout = Duration::from_millis(300);
    let c = Client::new(cfg).unwrap();
    c.delete_room(7).await.unwrap();
    assert_eq!(received(&server).await.len(), 2);
    // A first-attempt 404 is still an error: the room was never there.
    let server2 = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(fail(404, "The required folder was not found"))
        .mount(&server2)
        .await;
    assert!(
        client(&server2)
            .delete_room(7)
            .await
            .unwrap_err()
            .is_not_found()
    );
}

#[tokio::test]
async fn write_concurrency_is_capped() {
    // 6 writes taking 200 ms each through 2 write slots need at least 3 rounds.
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ok(room(7, "X")).set_delay(Duration::from_millis(200)))
        .mount(&server)
        .await;
    let mut cfg = config(&server.uri());
    cfg.max_concurrent_writes = 2;
    let c = Client::new(cfg).unwrap();
    let started = Instant::now();
    let calls = (0..6).map(|i| {
        let c = c.clone();
        tokio::spawn(async move { c.update_room(i, &UpdateRoomRequest::default()).await })
    });
    for call in calls.collect::<Vec<_>>() {
        call.await.unwrap().unwrap();
    }
    assert!(started.elapsed() >= Duration::from_millis(590));
    assert_eq!(c.stats().puts, 6);
}

#[tokio::test]
async fn the_budget_holds_requests_once_the_minute_is_spent() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ok(room(7, "X")))
        .mount(&server)
        .await;
    let mut cfg = config(&server.uri());
    cfg.requests_per_minute = 3;
    let c = Client::new(cfg).unwrap();
    // A full window goes at once...
    for _ in 0..3 {
        c.get_room(7).await.unwrap();
    }
    // ...and the next request waits for the window to slide (a minute): it has not been
    // sent after a short while.
    let fourth = tokio::time::timeout(Duration::from_millis(300), c.get_room(7)).await;
    assert!(
        fourth.is_err(),
        "the fourth request went out inside the window"
    );
    assert_eq!(received(&server).await.len(), 3);
}

#[tokio::test]
async fn an_endless_body_fails_the_call_instead_of_filling_memory() {
    let server = MockServer::start().await;
    let huge = format!(
        "{{\"response\": {{\"id\": 7, \"title\": \"{}\"}}, \"status\": 0}}",
        "x".repeat(2 * 1024 * 1024)
    );
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string(huge))
        .mount(&server)
        .await;
    let mut cfg = config(&server.uri());
    cfg.max_body_bytes = 1024 * 1024;
    let err = Client::new(cfg).unwrap().get_room(7).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(err.to_string().contains("larger than 1 MiB"), "{err}");
}

#[tokio::test]
async fn a_hostile_retry_after_does_not_panic_and_is_treated_as_a_long_limit() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(429).insert_header("Retry-After", "99999999999999999999999"),
        )
        .mount(&server)
        .await;
    let err = client(&server).get_room(7).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    // No retry: a wait that long is a daily limit, not something to sleep through.
    assert_eq!(received(&server).await.len(), 1);
}

#[tokio::test]
async fn a_share_put_is_retried_after_a_500() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(fail(500, "transient"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .respond_with(ok(json!({"members": [], "error": 0})))
        .mount(&server)
        .await;
    let request = ShareRequest {
        invitations: vec![Invitation::by_id("u1", 10)],
        notify: false,
        message: None,
        culture: None,
        force: false,
    };
    client(&server).set_share(7, &request).await.unwrap();
    assert_eq!(received(&server).await.len(), 2);
}

#[tokio::test]
async fn people_page_reads_one_page_and_the_total() {
    let server = MockServer::start().await;
    let first: Vec<Value> = (0..100)
        .map(|i| user(&format!("u{i}"), &format!("u{i}@x.test")))
        .collect();
    Mock::given(method("GET"))
        .and(path("/api/2.0/people/filter"))
        .and(query_param("startIndex", "0"))
        .respond_with(ok_total(json!(first), 4321))
        .expect(1)
        .mount(&server)
        .await;
    let (people, total) = client(&server).people_page(0).await.unwrap();
    assert_eq!(people.len(), 100);
    assert_eq!(total, Some(4321));
    let reqs = received(&server).await;
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        query(&reqs[0]),
        pairs(&[
            ("area", "0"),
            ("count", "100"),
            ("sortBy", "Email"),
            ("sortOrder", "0"),
            ("startIndex", "0")
        ])
    );
    assert_headers(&server).await;
}

#[tokio::test]
async fn a_portal_that_accepts_but_never_answers_fails_within_the_timeout() {
    // Accepts connections and reads, never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let mut cfg = config(&format!("http://{addr}"));
    cfg.timeout = Duration::from_millis(300);
    cfg.max_retries = 1;
    let started = Instant::now();
    let err = Client::new(cfg).unwrap().get_room(7).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network(NetworkKind::Timeout));
    assert_eq!(err.attempts(), 2);
    assert!(err.to_string().contains("did not answer in time"), "{err}");
    // Bounded: two attempts of 300 ms plus a short backoff, far from "minutes".
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[tokio::test]
async fn a_redirect_to_plain_http_on_another_host_is_refused_not_followed() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(307).insert_header("Location", "http://portal.example.invalid/x"),
        )
        .mount(&server)
        .await;
    let err = client(&server).get_room(7).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("plain HTTP is allowed only to loopback"),
        "{err}"
    );
    // Refused once, not retried.
    assert_eq!(received(&server).await.len(), 1);
    assert!(!err.to_string().contains(KEY));
}

#[tokio::test]
async fn an_unknown_host_name_is_not_retried() {
    let err = Client::new(config("https://no-such-host.invalid"))
        .unwrap()
        .get_room(7)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network(NetworkKind::UnknownHost));
    assert_eq!(err.attempts(), 1, "{err}");
    assert!(err.to_string().contains("does not resolve"), "{err}");
}

// ---- sharing links, room settings, pending invitations (issue 13) -----------------------

/// A link password distinctive enough to spot anywhere.
const LINK_PW: &str = "Pw-7f3a9c2e-never-shown";

fn link_rows() -> Value {
    json!([
        {"access": 2, "subjectType": 4, "isLocked": false, "isOwner": false, "canEditAccess": true,
         "sharedTo": {"id": "p1", "title": "Link to the room", "shareLink": "https://x/s?key=SECRETKEY"},
         "sharedLink": {"id": "p1", "title": "Link to the room", "shareLink": "https://x/s?key=SECRETKEY",
                        "linkType": 1, "password": LINK_PW, "denyDownload": true, "isExpired": false,
                        "primary": true, "internal": false, "requestToken": "TOKEN",
                        "expirationDate": "2027-01-31T10:00:00.0000000+01:00"}},
        {"access": 11, "subjectType": 3,
         "sharedLink": {"id": "i1", "title": "Invitation link", "linkType": 0, "primary": false,
                        "maxUseCount": 20, "currentUseCount": 3}}
    ])
}

#[tokio::test]
async fn list_links_is_one_call_and_holds_the_password_as_a_secret() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/files/rooms/7/links"))
        .respond_with(ok(link_rows()))
        .expect(1)
        .mount(&server)
        .await;
    let links = client(&server).list_links(7).await.unwrap();
    assert_eq!(links.len(), 2);
    let primary = links[0].shared_link.as_ref().unwrap();
    assert_eq!(primary.id, "p1");
    assert!(primary.primary);
    assert_eq!(primary.link_type, Some(1));
    assert_eq!(
        secrecy::ExposeSecret::expose_secret(primary.password.as_ref().unwrap()),
        LINK_PW
    );
    let invite = links[1].shared_link.as_ref().unwrap();
    assert_eq!(
        (invite.max_use_count, invite.current_use_count),
        (Some(20), Some(3))
    );
    // Neither the password nor the link's own URL or token is kept in a printable form.
    let debug = format!("{links:?}");
    for secret in [LINK_PW, "SECRETKEY", "TOKEN"] {
        assert!(!debug.contains(secret), "{secret} in {debug}");
    }
    let req = &received(&server).await[0];
    assert!(query(req).is_empty(), "the server does not page links");
    assert_headers(&server).await;
}

#[tokio::test]
async fn list_links_refuses_an_endless_list_and_rows_of_odd_shape_without_their_values() {
    let server = MockServer::start().await;
    let many: Vec<Value> = (0..101)
        .map(|i| json!({"access": 2, "sharedLink": {"id": format!("l{i}")}}))
        .collect();
    Mock::given(method("GET"))
        .and(path("/api/2.0/files/rooms/1/links"))
        .respond_with(ok(Value::Array(many)))
        .mount(&server)
        .await;
    // A password of the wrong type: the error must not quote it.
    Mock::given(method("GET"))
        .and(path("/api/2.0/files/rooms/2/links"))
        .respond_with(ok(json!([
            {"access": 2, "sharedLink": {"id": "a", "password": 734_219_556_071_u64}}
        ])))
        .mount(&server)
        .await;
    // Missing fields are fine: defaults, and a row without `sharedLink` is not a link.
    Mock::given(method("GET"))
        .and(path("/api/2.0/files/rooms/3/links"))
        .respond_with(ok(json!([{}, {"sharedLink": {"id": "b"}}])))
        .mount(&server)
        .await;
    let c = client(&server);
    let err = c.list_links(1).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(err.to_string().contains("101 links"), "{err}");
    let err = c.list_links(2).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(
        !format!("{err} {err:?}").contains("734219556071"),
        "{err:?}"
    );
    let rows = c.list_links(3).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows[0].shared_link.is_none());
    assert_eq!(rows[1].access, 0);
}

#[tokio::test]
async fn set_link_puts_the_whole_link_with_integer_enums() {
    use docspace_provision::links::{self, LinkKind, ResolvedLink};
    use docspace_provision::model::Access;
    let server = MockServer::start().await;
    let link = ResolvedLink {
        title: "Clients".into(),
        kind: LinkKind::External,
        access: Access::Read,
        expires: Some(chrono::DateTime::parse_from_rfc3339("2027-01-31T00:00:00+01:00").unwrap()),
        internal: true,
        deny_download: true,
        max_uses: None,
        password: None,
        keep_password: false,
    };
    Mock::given(method("PUT"))
        .and(path("/api/2.0/files/rooms/7/links"))
        .and(body_json(json!({
            "linkId": "5b0e1d1c-0000-4000-8000-000000000001", "access": 2,
            "expirationDate": "2027-01-31T00:00:00+01:00", "internal": true, "title": "Clients",
            "linkType": 1, "password": LINK_PW, "denyDownload": true
        })))
        .respond_with(ok(link_rows()[0].clone()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/2.0/files/rooms/7/links"))
        .and(body_json(json!({
            "linkId": "i1", "access": 0, "internal": false, "title": "Invitation link",
            "linkType": 0, "denyDownload": false
        })))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"count": 0, "links": [], "status": 0, "statusCode": 200})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    let request = links::update_request(
        "5b0e1d1c-0000-4000-8000-000000000001",
        &link,
        Some(SecretString::from(LINK_PW.to_string())),
    );
    let row = c.set_link(7, &request).await.unwrap().unwrap();
    assert_eq!(row.shared_link.unwrap().id, "p1");
    let revoked = c
        .set_link(
            7,
            &links::revoke_request("i1", "Invitation link", LinkKind::Invitation),
        )
        .await
        .unwrap();
    assert!(revoked.is_none());
    assert_headers(&server).await;
    assert_eq!(c.stats().puts, 2);
}

#[tokio::test]
async fn a_link_password_echoed_by_the_server_appears_in_no_error() {
    use docspace_provision::links::{self, LinkKind, ResolvedLink};
    use docspace_provision::model::Access;
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/2.0/files/rooms/7/links"))
        .respond_with(fail(
            400,
            &format!("Password '{LINK_PW}' does not meet the policy"),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let link = ResolvedLink {
        title: "C".into(),
        kind: LinkKind::External,
        access: Access::Read,
        expires: None,
        internal: false,
        deny_download: false,
        max_uses: None,
        password: None,
        keep_password: false,
    };
    let request = links::create_request(&link, Some(SecretString::from(LINK_PW.to_string())));
    assert!(!format!("{request:?}").contains(LINK_PW));
    let err = client(&server).set_link(7, &request).await.unwrap_err();
    let help = err.help().map(|h| h.to_string()).unwrap_or_default();
    for text in [err.to_string(), format!("{err:?}"), help] {
        assert!(!text.contains(LINK_PW), "password leaked: {text}");
    }
    assert!(
        err.to_string().contains("does not meet the policy"),
        "{err}"
    );
}

#[tokio::test]
async fn a_new_link_is_retried_under_the_same_id_after_a_server_error() {
    use docspace_provision::links::{self, LinkKind, ResolvedLink};
    use docspace_provision::model::Access;
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/2.0/files/rooms/7/links"))
        .respond_with(fail(503, "busy"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/2.0/files/rooms/7/links"))
        .respond_with(ok(link_rows()[1].clone()))
        .mount(&server)
        .await;
    let link = ResolvedLink {
        title: "Join".into(),
        kind: LinkKind::Invitation,
        access: Access::Read,
        expires: None,
        internal: false,
        deny_download: false,
        max_uses: Some(5),
        password: None,
        keep_password: false,
    };
    let request = links::create_request(&link, None);
    client(&server).set_link(7, &request).await.unwrap();
    let bodies: Vec<Value> = received(&server)
        .await
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[0], bodies[1], "a retry re-sends the same link id");
    assert_eq!(bodies[0]["maxUseCount"], 5);
    assert_eq!(bodies[0]["linkType"], 0);
}

/// The room's resend route (`POST /files/rooms/{id}/resend`): the body's list is `usersIds`
/// exactly (the server binds `UserInvitation.UsersIds`; `userIds` would bind nothing and be
/// a silent 200 that sends no email), `resendAll` is false, and the empty answer is taken.
#[tokio::test]
async fn resend_room_invitations_is_one_call_with_users_ids_and_never_repeated_when_it_may_have_run()
 {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/2.0/files/rooms/42/resend"))
        .and(body_json(
            json!({"usersIds": ["u1", "u2"], "resendAll": false}),
        ))
        .respond_with(ok(Value::Null))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    c.resend_room_invitations(42, &["u1".to_string(), "u2".to_string()])
        .await
        .unwrap();
    assert_headers(&server).await;
    let sent = received(&server).await;
    let body: Value = serde_json::from_slice(&sent[0].body).unwrap();
    assert!(body.get("userIds").is_none(), "{body}");

    // A 500 may come after the emails went out: not repeated. A 429 (the SensitiveApi
    // limiter answers before the handler runs) is.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/2.0/files/rooms/42/resend"))
        .respond_with(fail(500, "boom"))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .resend_room_invitations(42, &["u1".to_string()])
        .await
        .unwrap_err();
    assert!(err.is_ambiguous(), "{err:?}");

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/2.0/files/rooms/42/resend"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/2.0/files/rooms/42/resend"))
        .respond_with(ok(Value::Null))
        .mount(&server)
        .await;
    client(&server)
        .resend_room_invitations(42, &["u1".to_string()])
        .await
        .unwrap();
    assert_eq!(received(&server).await.len(), 2);
}

#[tokio::test]
async fn room_settings_are_sent_on_create_and_update_with_integer_enums() {
    use docspace_provision::model::{Lifetime, LifetimePeriod, Watermark, WatermarkAddition};
    use docspace_provision::room_settings::{
        lifetime_off_wire, lifetime_to_wire, watermark_off_wire, watermark_to_wire,
    };
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/2.0/files/rooms"))
        .and(body_json(json!({
            "title": "VDR", "roomType": 8, "indexing": true,
            "lifetime": {"enabled": true, "value": 6, "period": 1, "deletePermanently": false},
            "watermark": {"enabled": true, "additions": 17, "text": "Confidential", "rotate": -45},
            "color": "1b6ca8", "cover": "cover-3"
        })))
        .respond_with(ok(room(9, "VDR")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/2.0/files/rooms/9"))
        .and(body_json(json!({
            "lifetime": {"enabled": false, "period": 0, "deletePermanently": false},
            "watermark": {"enabled": false, "additions": 0, "rotate": 0}
        })))
        .respond_with(ok(room(9, "VDR")))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    let watermark = Watermark {
        text: Some("Confidential".into()),
        additions: [WatermarkAddition::UserName, WatermarkAddition::RoomName]
            .into_iter()
            .collect(),
        rotation: -45,
    };
    c.create_room(&CreateRoomRequest {
        title: "VDR".into(),
        room_type: 8,
        settings: docspace_provision::docspace::RoomCreateSettings {
            indexing: Some(true),
            lifetime: Some(lifetime_to_wire(&Lifetime {
                value: 6,
                period: LifetimePeriod::Months,
                delete_permanently: false,
            })),
            watermark: Some(watermark_to_wire(&watermark)),
            color: Some("1b6ca8".into()),
            cover: Some("cover-3".into()),
            ..Default::default()
        },
    })
    .await
    .unwrap();
    c.update_room(
        9,
        &UpdateRoomRequest {
            lifetime: Some(lifetime_off_wire()),
            watermark: Some(watermark_off_wire()),
            ..UpdateRoomRequest::default()
        },
    )
    .await
    .unwrap();
    assert_headers(&server).await;
}
