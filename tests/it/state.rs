//! Reading the portal (state.rs) against exact wiremock servers: the fallbacks for keys that
//! may not search or view people, and trimmed profiles in share rows.

use docspace_provision::docspace::{Client, ClientConfig};
use docspace_provision::manifest::{self, SourceFile};
use docspace_provision::{plan, state};
use secrecy::SecretString;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client(server: &MockServer) -> Client {
    let mut config = ClientConfig::new(
        server.uri().parse().unwrap(),
        SecretString::from(format!("sk-{}", "0".repeat(64))),
    );
    config.min_backoff = std::time::Duration::from_millis(5);
    config.max_backoff = std::time::Duration::from_millis(20);
    config.requests_per_minute = 0;
    Client::new(config).unwrap()
}

fn ok(response: Value, total: Option<i64>) -> ResponseTemplate {
    let mut body =
        json!({"response": response, "count": 1, "links": [], "status": 0, "statusCode": 200});
    if let Some(t) = total {
        body["total"] = json!(t);
    }
    ResponseTemplate::new(200).set_body_json(body)
}

fn profile(id: &str, email: &str, flag: &str) -> Value {
    let mut u =
        json!({"id": id, "email": email, "displayName": email, "status": 1, "activationStatus": 1});
    u[flag] = json!(true);
    u
}

fn desired(yaml: &str) -> manifest::Desired {
    let mut problems = manifest::Problems::default();
    let d = manifest::load_sources(vec![SourceFile::new("m.yaml", yaml)], &mut problems);
    assert!(!problems.has_errors(), "{problems:?}");
    d
}

async fn mount_basics(server: &MockServer, folders: Value) {
    Mock::given(method("GET"))
        .and(path("/api/2.0/people/@self"))
        .respond_with(ok(profile("me", "me@x.test", "isOwner"), None))
        .mount(server)
        .await;
    let n = folders.as_array().unwrap().len();
    Mock::given(method("GET"))
        .and(path("/api/2.0/files/rooms"))
        .respond_with(ok(
            json!({"folders": folders, "files": [], "startIndex": 0, "count": n, "total": n}),
            None,
        ))
        .mount(server)
        .await;
}

#[tokio::test]
async fn people_search_forbidden_falls_back_to_lookups_and_hidden_accounts_are_new() {
    let server = MockServer::start().await;
    mount_basics(&server, json!([])).await;
    // User-type keys may not search people (docs/docspace-api.md, "People and groups lookup").
    Mock::given(method("GET"))
        .and(path("/api/2.0/people/filter"))
        .respond_with(ResponseTemplate::new(403))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/people/email"))
        .and(query_param("email", "a@x.test"))
        .respond_with(ok(profile("ua", "a@x.test", "isCollaborator"), None))
        .expect(1)
        .mount(&server)
        .await;
    // An account the key may not view.
    Mock::given(method("GET"))
        .and(path("/api/2.0/people/email"))
        .and(query_param("email", "b@x.test"))
        .respond_with(ResponseTemplate::new(403))
        .expect(1)
        .mount(&server)
        .await;
    let d = desired(
        "version: 1\nrooms:\n  - title: R\n    type: collaboration\n    invitees:\n      - email: a@x.test\n        access: editing\n      - email: b@x.test\n        access: read\n",
    );
    let observed = state::read(&client(&server), "mock", &d).await.unwrap();
    assert_eq!(observed.users["a@x.test"].id, "ua");
    assert!(!observed.users.contains_key("b@x.test"));
    let plan = plan::diff(&d, &observed, String::new(), chrono::Utc::now()).unwrap();
    let json = serde_json::to_value(&plan).unwrap();
    let targets: Vec<&Value> = json["rooms"][0]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["target"])
        .collect();
    assert!(
        targets.contains(&&json!({"kind": "user", "id": "ua", "email": "a@x.test"})),
        "{targets:?}"
    );
    assert!(
        targets.contains(&&json!({"kind": "new_guest", "email": "b@x.test"})),
        "{targets:?}"
    );
}

#[tokio::test]
async fn trimmed_share_rows_are_looked_up_before_their_type_is_trusted() {
    let server = MockServer::start().await;
    mount_basics(
        &server,
        json!([{"id": 7, "title": "R", "roomType": 2, "rootFolderType": 14, "tags": []}]),
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/files/rooms/7/share"))
        .respond_with(ok(
            json!([
                {"access": 1, "isOwner": true, "subjectType": 0, "sharedToUser": profile("me", "me@x.test", "isOwner")},
                // A trimmed profile: no type flags, so it would read as a plain user.
                {"access": 2, "isOwner": false, "canEditAccess": true, "subjectType": 0,
                 "sharedToUser": {"id": "ra", "email": "ra@x.test", "displayName": "RA"}}
            ]),
            Some(2),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/people/email"))
        .and(query_param("email", "ra@x.test"))
        .respond_with(ok(profile("ra", "ra@x.test", "isRoomAdmin"), None))
        .expect(1)
        .mount(&server)
        .await;
    let d = desired(
        "version: 1\nrooms:\n  - title: R\n    type: collaboration\n    invitees:\n      - email: ra@x.test\n        access: room-manager\n",
    );
    let observed = state::read(&client(&server), "mock", &d).await.unwrap();
    let plan = plan::diff(&d, &observed, String::new(), chrono::Utc::now())
        .expect("a room admin may be a room manager");
    assert_eq!(plan.summary.access_changes, 1);
}

#[tokio::test]
async fn an_archive_refused_because_it_already_ran_counts_as_applied() {
    use docspace_provision::plan::{
        Change, Item, ItemKey, Plan, RoomChange, RoomPlan, ShareSettings, Summary,
    };
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/2.0/files/rooms/7/archive"))
        .respond_with(ResponseTemplate::new(403).set_body_json(
            json!({"error": {"message": "Access denied"}, "status": 1, "statusCode": 403}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/files/rooms/7"))
        .respond_with(ok(
            json!({"id": 7, "title": "R", "roomType": 2, "rootFolderType": 20}),
            None,
        ))
        .mount(&server)
        .await;
    let room = RoomPlan {
        title: "R".into(),
        room_type: docspace_provision::model::RoomType::Collaboration,
        room_id: Some(7),
        change: RoomChange::Update,
        fingerprint: String::new(),
        members_before: 0,
        notes: Vec::new(),
        items: vec![Item::new(ItemKey::room("R"), Change::Archive)],
    };
    let plan = Plan {
        format_version: 1,
        portal: "mock".into(),
        manifest_hash: String::new(),
        share: ShareSettings::default(),
        rooms: vec![room],
        summary: Summary::default(),
        unmanaged_connected_rooms: 0,
        managed: None,
        expiring: None,
        ..Plan::default()
    };
    let entries = docspace_provision::apply::execute(
        &client(&server),
        &plan,
        &Default::default(),
        &Default::default(),
        &std::sync::atomic::AtomicBool::new(false),
        &|_| {},
    )
    .await;
    assert_eq!(entries.len(), 1);
    assert_eq!(
        entries[0].status,
        docspace_provision::report::Status::Applied,
        "{entries:?}"
    );
}

#[tokio::test]
async fn two_groups_matching_a_name_are_refused_not_guessed() {
    let server = MockServer::start().await;
    mount_basics(&server, json!([])).await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/group"))
        .respond_with(ok(
            json!([{"id": "g1", "name": "Sales"}, {"id": "g2", "name": "sales"}]),
            Some(2),
        ))
        .mount(&server)
        .await;
    let d = desired(
        "version: 1\nrooms:\n  - title: R\n    type: collaboration\n    invitees:\n      - group: SALES\n        access: read\n",
    );
    let observed = state::read(&client(&server), "mock", &d).await.unwrap();
    let problems =
        plan::diff(&d, &observed, String::new(), chrono::Utc::now()).expect_err("ambiguous group");
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].message.contains("ids g1, g2"),
        "{}",
        problems[0].message
    );
}

// ---- issue 13: room settings, sharing links, pending invitations ---------------------------

const LINK_PW: &str = "Pw-state-4411-never-shown";

#[tokio::test]
async fn room_settings_come_with_the_listing_and_pending_members_with_their_invitation_date() {
    let server = MockServer::start().await;
    mount_basics(
        &server,
        json!([{"id": 7, "title": "R", "roomType": 8, "rootFolderType": 14, "tags": [],
                "indexing": true,
                "logo": {"original": "", "large": "", "medium": "", "small": "", "color": "FF8800",
                         "cover": {"id": "cover-1", "data": "<svg/>"}},
                "lifetime": {"deletePermanently": false, "period": 0, "value": 30},
                "watermark": {"additions": 3, "text": "Draft", "rotate": 0, "imageScale": 0,
                              "imageHeight": 0, "imageWidth": 0}}]),
    )
    .await;
    // No single-room read: the listing carried the settings.
    Mock::given(method("GET"))
        .and(path("/api/2.0/files/rooms/7"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let mut pending = profile("pa", "pa@x.test", "isVisitor");
    pending["activationStatus"] = json!(2);
    pending["status"] = json!(4);
    pending["registrationDate"] = json!("2026-10-01T09:30:00.0000000+02:00");
    Mock::given(method("GET"))
        .and(path("/api/2.0/files/rooms/7/share"))
        .respond_with(ok(
            json!([
                {"access": 1, "isOwner": true, "subjectType": 0, "sharedToUser": profile("me", "me@x.test", "isOwner")},
                {"access": 2, "isOwner": false, "canEditAccess": true, "subjectType": 0, "sharedToUser": pending}
            ]),
            Some(2),
        ))
        .mount(&server)
        .await;
    let d = desired(
        "version: 1\nrooms:\n  - title: R\n    type: virtual-data-room\n    invitees:\n      - email: pa@x.test\n        access: read\n",
    );
    let observed = state::read(&client(&server), "mock", &d).await.unwrap();
    let s = &observed.rooms[0].settings;
    assert_eq!(s.color.as_deref(), Some("ff8800"));
    assert_eq!(s.cover.as_deref(), Some("cover-1"));
    assert_eq!(s.indexing, Some(true));
    assert_eq!(s.lifetime.as_ref().map(|l| l.value), Some(30));
    assert_eq!(
        s.watermark.as_ref().map(|w| w.additions.len()),
        Some(2),
        "{s:?}"
    );
    let user = &observed.users["pa@x.test"];
    assert!(user.pending);
    assert_eq!(
        user.created.map(|c| c.to_rfc3339()),
        Some("2026-10-01T07:30:00+00:00".to_string())
    );
    let pending: Vec<&str> = observed
        .pending_users()
        .iter()
        .map(|u| u.email.as_str())
        .collect();
    assert_eq!(pending, ["pa@x.test"]);
}

#[tokio::test]
async fn links_are_read_only_for_the_rooms_asked_for_and_no_password_is_kept() {
    use docspace_provision::links::LinkKind;
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/files/rooms/7/links"))
        .respond_with(ok(
            json!([
                {"access": 2, "subjectType": 1,
                 "sharedLink": {"id": "l1", "title": "Clients", "linkType": 1, "password": LINK_PW,
                                "denyDownload": true, "internal": true, "primary": false,
                                "shareLink": "https://x/s?key=LINKKEY",
                                "expirationDate": "2027-01-31T00:00:00.0000000+00:00"}},
                {"access": 11, "subjectType": 3,
                 "sharedLink": {"id": "i1", "title": "Invite", "linkType": 0, "maxUseCount": 4,
                                "currentUseCount": 1}},
                {"access": 2, "subjectType": 0, "sharedToUser": profile("u", "u@x.test", "isVisitor")}
            ]),
            None,
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/files/rooms/8/links"))
        .respond_with(ok(json!([]), None))
        .expect(0)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/files/rooms/9/links"))
        .respond_with(ResponseTemplate::new(404).set_body_json(
            json!({"error": {"message": "The required folder was not found"}, "status": 1, "statusCode": 404}),
        ))
        .mount(&server)
        .await;
    let mut observed = state::Observed::default();
    let ids = [7, 9].into_iter().collect();
    state::read_links(&client(&server), &mut observed, &ids)
        .await
        .unwrap();
    let links = &observed.links[&7];
    assert_eq!(links.len(), 2, "the member row is not a link: {links:?}");
    let ext = &links[0];
    assert_eq!(ext.kind, LinkKind::External);
    assert!(ext.has_password && ext.deny_download && ext.internal);
    assert_eq!(
        ext.expires.map(|d| d.timestamp()),
        Some(
            chrono::DateTime::parse_from_rfc3339("2027-01-31T00:00:00Z")
                .unwrap()
                .timestamp()
        )
    );
    let inv = &links[1];
    assert_eq!(inv.kind, LinkKind::Invitation);
    assert_eq!((inv.max_uses, inv.uses), (Some(4), Some(1)));
    assert!(!observed.links.contains_key(&8));
    assert!(
        observed.links_unreadable[&9].contains("not found"),
        "{:?}",
        observed.links_unreadable
    );
    // What a plan or report could carry of the observed state: no password, no link URL.
    let text = format!(
        "{} {:?}",
        serde_json::to_string(&observed).unwrap(),
        observed
    );
    assert!(!text.contains(LINK_PW), "{text}");
    assert!(!text.contains("LINKKEY"), "{text}");
    insta::assert_json_snapshot!(
        "observed_links",
        serde_json::to_value(&observed.links[&7]).unwrap()
    );
}

#[test]
fn pending_invitees_sort_oldest_first_with_unknown_dates_last() {
    use chrono::TimeZone;
    let user = |id: &str, created: Option<(i32, u32, u32)>, pending: bool| state::ObservedUser {
        id: id.into(),
        email: format!("{id}@x.test"),
        user_type: docspace_provision::model::UserType::Guest,
        pending,
        terminated: false,
        type_known: true,
        created: created.map(|(y, m, d)| chrono::Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap()),
        owner: false,
        invited_by: None,
    };
    let mut observed = state::Observed::default();
    for u in [
        user("young", Some((2026, 11, 20)), true),
        user("unknown", None, true),
        user("old", Some((2026, 9, 1)), true),
        user("active", Some((2020, 1, 1)), false),
    ] {
        observed.users.insert(u.email.clone(), u);
    }
    let order: Vec<&str> = observed
        .pending_users()
        .iter()
        .map(|u| u.id.as_str())
        .collect();
    assert_eq!(order, ["old", "young", "unknown"]);
    let now = chrono::Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap();
    assert_eq!(
        observed.users["young@x.test"]
            .invitation_age(now)
            .map(|a| a.num_days()),
        Some(10)
    );
    assert_eq!(observed.users["unknown@x.test"].invitation_age(now), None);
}

/// Answers the invitation call and then sets the interrupt flag, as Ctrl-C during it would.
struct InterruptAfter(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl wiremock::Respond for InterruptAfter {
    fn respond(&self, _: &wiremock::Request) -> ResponseTemplate {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
        ok(json!([]), None)
    }
}

#[tokio::test]
async fn ctrl_c_during_the_portal_section_starts_no_further_call() {
    use docspace_provision::model::UserType;
    use docspace_provision::plan::{Change, Item, ItemKey, Member, Plan};
    let server = MockServer::start().await;
    let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    Mock::given(method("POST"))
        .and(path("/api/2.0/people/invite"))
        .respond_with(InterruptAfter(flag.clone()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/2.0/people/email"))
        .respond_with(ok(profile("n1", "new@x.test", "isCollaborator"), None))
        .mount(&server)
        .await;
    for (verb, route) in [
        ("PUT", "/api/2.0/people/type/1"),
        ("POST", "/api/2.0/group"),
    ] {
        Mock::given(method(verb))
            .and(path(route))
            .respond_with(ResponseTemplate::new(500))
            .expect(0)
            .mount(&server)
            .await;
    }
    let plan = Plan {
        format_version: 1,
        portal: "mock".into(),
        portal_items: vec![
            Item::new(
                ItemKey::person("new@x.test"),
                Change::InvitePerson {
                    email: "new@x.test".into(),
                    user_type: UserType::User,
                },
            ),
            Item::new(
                ItemKey::person("b@x.test"),
                Change::ChangeUserType {
                    target: Member::User {
                        id: "u2".into(),
                        email: "b@x.test".into(),
                    },
                    from: UserType::User,
                    to: UserType::RoomAdmin,
                },
            ),
            Item::new(
                ItemKey::group("G"),
                Change::CreateGroup {
                    name: "G".into(),
                    manager: None,
                },
            ),
        ],
        ..Plan::default()
    };
    let entries = docspace_provision::apply::execute(
        &client(&server),
        &plan,
        &Default::default(),
        &Default::default(),
        &flag,
        &|_| {},
    )
    .await;
    assert_eq!(entries.len(), 3, "{entries:#?}");
    let by_key = |k: &str| entries.iter().find(|e| e.key == k).unwrap();
    // The invitation was sent: its outcome is what the portal shows, never "interrupted".
    assert_ne!(by_key("new@x.test").skip_reason, Some("interrupted"));
    for key in ["b@x.test", "group G"] {
        let e = by_key(key);
        assert_eq!(e.skip_reason, Some("interrupted"), "{e:#?}");
    }
}
