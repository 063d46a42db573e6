//! Every sandbox answer the tool relies on must parse with the official SDK's models
//! (`docspace-api-sdk` 3.7.0, Python, pydantic). This test carries the relevant part of those
//! models as a table — required fields, and the JSON type of every field the sandbox sends —
//! so it runs without Python. Each table names the SDK model file it was copied from
//! (`docspace_api_sdk/models/<file>.py`). `tools/sdk_check.py` runs the real SDK against a
//! sandbox for a developer who has it.
//!
//! What the SDK checks and this table mirrors: a required field must be present and not null;
//! `StrictInt`/`StrictStr`/`StrictBool` refuse other JSON types (no "1" for 1); `UUID` must
//! parse; enums (`RoomType`, `FolderType`, `FileShare`, ...) accept only their listed
//! integers; nested models are checked recursively; unknown keys are ignored.

use docspace_provision::sandbox::FaultConfig;
use docspace_provision::sandbox::start_in_process;
use docspace_provision::sandbox::state::{self, ThirdPartyRoom};
use reqwest::Method;
use serde_json::{Value, json};

/// A field's type as the SDK declares it.
#[derive(Clone, Copy)]
enum T {
    Str,
    Int,
    /// `Union[StrictFloat, StrictInt]`
    Num,
    Bool,
    Uuid,
    /// `ApiDateTime`: the SDK accepts the server's date string and wraps it.
    Date,
    /// An integer enum with these members.
    Enum(&'static [i64]),
    /// A nested model.
    Obj(fn() -> Model),
    /// A list of a nested model.
    Objs(fn() -> Model),
    /// `List[StrictStr]`
    Strs,
    /// A map of PascalCase action names to `StrictBool`.
    BoolMap,
    /// `Optional[Any]`
    Any,
}

struct Model {
    /// `docspace_api_sdk/models/<file>.py`
    file: &'static str,
    /// (JSON name, type, required)
    fields: Vec<(&'static str, T, bool)>,
}

const ROOM_TYPE: &[i64] = &[1, 2, 5, 6, 8, 9]; // room_type.py
const FOLDER_TYPE: &[i64] = &[
    0, 1, 2, 3, 5, 6, 8, 10, 11, 12, 13, 14, 15, 16, 19, 20, 21, 22, 25, 26, 27, 28, 29, 30, 31,
    32, 33, 34, 35,
]; // folder_type.py
const FILE_SHARE: &[i64] = &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]; // file_share.py
const SUBJECT_TYPE: &[i64] = &[0, 1, 2, 3, 4]; // subject_type.py
const TASK_STATUS: &[i64] = &[0, 1, 2, 3, 4]; // distributed_task_status.py
const OPERATION_TYPE: &[i64] = &[0, 1, 2, 3, 4, 5, 6, 7]; // file_operation_type.py
const EMPLOYEE_STATUS: &[i64] = &[1, 2, 4, 5, 7]; // employee_status.py
const ACTIVATION_STATUS: &[i64] = &[0, 1, 2, 4]; // employee_activation_status.py
const ENTRY_TYPE: &[i64] = &[1, 2]; // file_entry_type.py

fn employee_dto() -> Model {
    Model {
        file: "employee_dto.py",
        fields: vec![
            ("id", T::Uuid, false),
            ("displayName", T::Str, false),
            ("avatar", T::Str, false),
            ("avatarOriginal", T::Str, false),
            ("avatarMax", T::Str, false),
            ("avatarMedium", T::Str, false),
            ("avatarSmall", T::Str, false),
            ("profileUrl", T::Str, false),
            ("hasAvatar", T::Bool, false),
            ("isAnonim", T::Bool, false),
        ],
    }
}

fn employee_full_dto() -> Model {
    let mut fields = employee_dto().fields;
    fields.extend([
        ("firstName", T::Str, false),
        ("lastName", T::Str, false),
        ("userName", T::Str, false),
        ("email", T::Str, false),
        ("status", T::Enum(EMPLOYEE_STATUS), false),
        ("activationStatus", T::Enum(ACTIVATION_STATUS), false),
        ("terminated", T::Date, false),
        ("department", T::Str, false),
        ("groups", T::Objs(group_summary_dto), false),
        ("isAdmin", T::Bool, false),
        ("isRoomAdmin", T::Bool, false),
        ("isLDAP", T::Bool, false),
        ("isOwner", T::Bool, false),
        ("isVisitor", T::Bool, false),
        ("isCollaborator", T::Bool, false),
        ("cultureName", T::Str, false),
        ("isSSO", T::Bool, false),
        ("quotaLimit", T::Int, false),
        ("usedSpace", T::Num, false),
        ("shared", T::Bool, false),
        ("isCustomQuota", T::Bool, false),
        ("createdBy", T::Obj(employee_dto), false),
        ("registrationDate", T::Date, false),
        ("hasPersonalFolder", T::Bool, false),
    ]);
    Model {
        file: "employee_full_dto.py",
        fields,
    }
}

fn group_summary_dto() -> Model {
    Model {
        file: "group_summary_dto.py",
        fields: vec![
            ("id", T::Uuid, true),
            ("name", T::Str, false),
            // A string: the manager's user name, not a profile.
            ("manager", T::Str, false),
            ("isSystem", T::Bool, false),
        ],
    }
}

fn group_dto() -> Model {
    Model {
        file: "group_dto.py",
        fields: vec![
            ("name", T::Str, false),
            ("parent", T::Uuid, false),
            ("category", T::Uuid, true),
            ("id", T::Uuid, true),
            ("isLDAP", T::Bool, true),
            ("isSystem", T::Bool, false),
            ("manager", T::Obj(employee_full_dto), false),
            ("members", T::Objs(employee_full_dto), false),
            ("shared", T::Bool, false),
            ("membersCount", T::Int, false),
        ],
    }
}

fn tenant_user_invitation_settings_dto() -> Model {
    Model {
        file: "tenant_user_invitation_settings_dto.py",
        fields: vec![
            ("allowInvitingMembers", T::Bool, true),
            ("allowInvitingGuests", T::Bool, true),
        ],
    }
}

fn price_dto() -> Model {
    Model {
        file: "price_dto.py",
        fields: vec![
            ("value", T::Num, false),
            ("currencySymbol", T::Str, false),
            ("isoCurrencySymbol", T::Str, false),
        ],
    }
}

fn feature_used_dto() -> Model {
    Model {
        file: "feature_used_dto.py",
        fields: vec![("value", T::Any, false), ("title", T::Str, false)],
    }
}

fn tenant_quota_feature_dto() -> Model {
    Model {
        file: "tenant_quota_feature_dto.py",
        fields: vec![
            ("id", T::Str, false),
            ("title", T::Str, false),
            ("image", T::Str, false),
            ("value", T::Any, false),
            ("type", T::Str, false),
            ("used", T::Obj(feature_used_dto), false),
            ("priceTitle", T::Str, false),
        ],
    }
}

fn quota_dto() -> Model {
    Model {
        file: "quota_dto.py",
        fields: vec![
            ("id", T::Int, true),
            // `Optional[StrictStr]` without a default: present, may be null.
            ("title", T::Str, true),
            ("price", T::Obj(price_dto), true),
            ("nonProfit", T::Bool, true),
            ("free", T::Bool, true),
            ("trial", T::Bool, true),
            ("features", T::Objs(tenant_quota_feature_dto), true),
            ("dueDate", T::Date, false),
        ],
    }
}

fn logo() -> Model {
    Model {
        file: "logo.py",
        fields: vec![
            ("original", T::Str, false),
            ("large", T::Str, false),
            ("medium", T::Str, false),
            ("small", T::Str, false),
            ("color", T::Str, false),
            ("cover", T::Obj(logo_cover), false),
        ],
    }
}

fn logo_cover() -> Model {
    // Both declared `Optional[StrictStr] = Field(description=...)` without a default, which
    // pydantic treats as required (null allowed).
    Model {
        file: "logo_cover.py",
        fields: vec![("id", T::Str, true), ("data", T::Str, true)],
    }
}

/// file_entry_base_dto.py, shared by every file entry.
fn entry_base_fields() -> Vec<(&'static str, T, bool)> {
    vec![
        ("title", T::Str, false),
        ("access", T::Enum(FILE_SHARE), false),
        ("shared", T::Bool, false),
        ("created", T::Date, false),
        ("createdBy", T::Obj(employee_dto), false),
        ("updated", T::Date, false),
        ("rootFolderType", T::Enum(FOLDER_TYPE), false),
        ("parentRoomType", T::Enum(FOLDER_TYPE), false),
        ("updatedBy", T::Obj(employee_dto), false),
        ("providerItem", T::Bool, false),
        ("providerKey", T::Str, false),
        ("providerId", T::Int, false),
        ("order", T::Str, false),
        ("fileEntryType", T::Enum(ENTRY_TYPE), false),
    ]
}

fn file_entry_base_dto() -> Model {
    Model {
        file: "file_entry_base_dto.py",
        fields: entry_base_fields(),
    }
}

/// folder_dto_integer.py (with file_entry_dto_integer.py) or folder_dto_string.py (with
/// file_entry_dto_string.py): the same fields, ids typed `StrictInt` or `StrictStr`.
fn folder_dto(id: T, file: &'static str) -> Model {
    let mut fields = entry_base_fields();
    fields.extend([
        ("id", id, false),
        ("rootFolderId", id, false),
        ("parentId", id, false),
        ("canShare", T::Bool, false),
        ("security", T::BoolMap, false),
        ("filesCount", T::Int, false),
        ("foldersCount", T::Int, false),
        ("isShareable", T::Bool, false),
        ("new", T::Int, false),
        ("mute", T::Bool, false),
        ("tags", T::Strs, false),
        ("logo", T::Obj(logo), false),
        ("pinned", T::Bool, false),
        ("roomType", T::Enum(ROOM_TYPE), false),
        ("private", T::Bool, false),
        ("indexing", T::Bool, false),
        ("denyDownload", T::Bool, false),
        ("type", T::Enum(FOLDER_TYPE), false),
        ("inRoom", T::Bool, false),
        ("quotaLimit", T::Int, false),
        ("isCustomQuota", T::Bool, false),
        ("usedSpace", T::Int, false),
        ("lifetime", T::Obj(room_data_lifetime_dto), false),
        ("watermark", T::Obj(watermark_dto), false),
    ]);
    Model { file, fields }
}

fn room_data_lifetime_dto() -> Model {
    Model {
        file: "room_data_lifetime_dto.py",
        fields: vec![
            ("deletePermanently", T::Bool, false),
            // room_data_lifetime_period.py: Day 0, Month 1, Year 2.
            ("period", T::Enum(&[0, 1, 2]), false),
            ("value", T::Int, false),
            ("enabled", T::Bool, false),
        ],
    }
}

fn watermark_dto() -> Model {
    Model {
        file: "watermark_dto.py",
        fields: vec![
            // watermark_additions.py lists single flags only: the server's combined flags
            // (e.g. 3 = user name + email) do not parse with the SDK (see docs/sandbox.md).
            ("additions", T::Enum(&[1, 2, 4, 8, 16]), true),
            ("text", T::Str, false),
            ("rotate", T::Int, true),
            ("imageScale", T::Int, true),
            ("imageUrl", T::Str, false),
            ("imageHeight", T::Num, true),
            ("imageWidth", T::Num, true),
        ],
    }
}

fn file_share_link() -> Model {
    Model {
        file: "file_share_link.py",
        fields: vec![
            ("id", T::Uuid, false),
            ("title", T::Str, false),
            ("shareLink", T::Str, false),
            ("expirationDate", T::Date, false),
            // link_type.py: Invitation 0, External 1.
            ("linkType", T::Enum(&[0, 1]), false),
            ("password", T::Str, false),
            ("denyDownload", T::Bool, false),
            ("isExpired", T::Bool, false),
            ("primary", T::Bool, false),
            ("internal", T::Bool, false),
            ("requestToken", T::Str, false),
            ("maxUseCount", T::Int, false),
            ("currentUseCount", T::Int, false),
        ],
    }
}

fn covers_result_dto() -> Model {
    // Both `Optional[StrictStr] = Field(description=...)`: required, null allowed.
    Model {
        file: "covers_result_dto.py",
        fields: vec![("id", T::Str, true), ("data", T::Str, true)],
    }
}

fn folder_dto_integer() -> Model {
    folder_dto(T::Int, "folder_dto_integer.py")
}

fn folder_dto_string() -> Model {
    folder_dto(T::Str, "folder_dto_string.py")
}

fn folder_content_dto_integer() -> Model {
    Model {
        file: "folder_content_dto_integer.py",
        fields: vec![
            ("files", T::Objs(file_entry_base_dto), false),
            ("folders", T::Objs(file_entry_base_dto), false),
            ("current", T::Obj(folder_dto_integer), false),
            ("pathParts", T::Any, false),
            ("startIndex", T::Int, false),
            ("count", T::Int, false),
            ("total", T::Int, true),
            ("new", T::Int, false),
        ],
    }
}

fn file_share_dto() -> Model {
    Model {
        file: "file_share_dto.py",
        fields: vec![
            ("access", T::Enum(FILE_SHARE), false),
            ("sharedTo", T::Any, false),
            ("sharedToUser", T::Obj(employee_full_dto), false),
            ("sharedToGroup", T::Obj(group_summary_dto), false),
            ("sharedLink", T::Obj(file_share_link), false),
            ("isLocked", T::Bool, true),
            ("isOwner", T::Bool, true),
            ("canEditAccess", T::Bool, true),
            ("canEditInternal", T::Bool, true),
            ("canEditDenyDownload", T::Bool, true),
            ("canEditExpirationDate", T::Bool, true),
            ("canRevoke", T::Bool, true),
            ("subjectType", T::Enum(SUBJECT_TYPE), true),
        ],
    }
}

fn room_security_dto() -> Model {
    Model {
        file: "room_security_dto.py",
        fields: vec![
            ("members", T::Objs(file_share_dto), false),
            ("warning", T::Str, false),
            // room_security_error.py: 0 None, 1 FormRoleBlockingDeletion.
            ("error", T::Enum(&[0, 1]), false),
        ],
    }
}

fn file_operation_dto() -> Model {
    Model {
        file: "file_operation_dto.py",
        fields: vec![
            ("id", T::Str, false),
            ("Operation", T::Enum(OPERATION_TYPE), true),
            ("progress", T::Int, true),
            ("error", T::Str, false),
            ("processed", T::Str, false),
            ("finished", T::Bool, true),
            ("url", T::Str, false),
            ("files", T::Objs(file_entry_base_dto), false),
            ("folders", T::Objs(file_entry_base_dto), false),
            ("status", T::Enum(TASK_STATUS), false),
        ],
    }
}

/// The envelope every `*_wrapper.py` declares around `response`.
fn check_envelope(body: &Value, what: &str, errors: &mut Vec<String>) {
    for (name, ty) in [
        ("count", T::Int),
        ("status", T::Int),
        ("statusCode", T::Int),
    ] {
        if let Some(v) = body.get(name) {
            check_type(v, ty, &format!("{what}.{name}"), errors);
        }
    }
    match body.get("links") {
        Some(Value::Array(links)) => {
            for l in links {
                for k in ["href", "action"] {
                    if !l[k].is_string() {
                        errors.push(format!("{what}.links[].{k} is not a string"));
                    }
                }
            }
        }
        None => {}
        Some(_) => errors.push(format!("{what}.links is not a list")),
    }
}

fn check_type(value: &Value, ty: T, at: &str, errors: &mut Vec<String>) {
    if value.is_null() {
        return; // Optional fields accept null; required ones are checked by the caller.
    }
    let ok = match ty {
        T::Str => value.is_string(),
        T::Int => value.is_i64() || value.is_u64(),
        T::Num => value.is_number(),
        T::Bool => value.is_boolean(),
        T::Uuid => value
            .as_str()
            .is_some_and(|s| uuid::Uuid::parse_str(s).is_ok()),
        T::Date => value
            .as_str()
            .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok()),
        T::Enum(members) => value.as_i64().is_some_and(|n| members.contains(&n)),
        T::Strs => value
            .as_array()
            .is_some_and(|a| a.iter().all(Value::is_string)),
        T::BoolMap => value
            .as_object()
            .is_some_and(|m| m.values().all(Value::is_boolean)),
        T::Any => true,
        T::Obj(model) => {
            check_model(value, &model(), at, errors);
            true
        }
        T::Objs(model) => match value.as_array() {
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    check_model(item, &model(), &format!("{at}[{i}]"), errors);
                }
                true
            }
            None => false,
        },
    };
    if !ok {
        errors.push(format!("{at} = {value} has the wrong type"));
    }
}

fn check_model(value: &Value, model: &Model, at: &str, errors: &mut Vec<String>) {
    let Some(map) = value.as_object() else {
        errors.push(format!("{at} is not an object ({})", model.file));
        return;
    };
    for (name, ty, required) in &model.fields {
        match map.get(*name) {
            None | Some(Value::Null) if *required => {
                errors.push(format!("{at}.{name} is required by {}", model.file));
            }
            None => {}
            Some(v) => check_type(v, *ty, &format!("{at}.{name}"), errors),
        }
    }
}

/// Checks `body.response` against `model` (or each element, for lists).
fn expect(body: &Value, model: fn() -> Model, list: bool, what: &str, errors: &mut Vec<String>) {
    check_envelope(body, what, errors);
    let response = &body["response"];
    if list {
        match response.as_array() {
            Some(items) => {
                assert!(!items.is_empty(), "{what}: an empty list proves nothing");
                for (i, item) in items.iter().enumerate() {
                    check_model(item, &model(), &format!("{what}[{i}]"), errors);
                }
            }
            None => errors.push(format!("{what}: response is not a list")),
        }
    } else {
        check_model(response, &model(), what, errors);
    }
}

#[tokio::test]
async fn every_endpoint_the_tool_uses_answers_in_the_sdk_models_shapes() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let mut ext = ThirdPartyRoom::new("sbox-3-7", "Box room", 5);
    ext.tags = vec!["external".to_string()];
    state::add_third_party_room(&path, ext).unwrap();
    let handle = start_in_process(
        &path,
        FaultConfig {
            operation_delay_ms: 300,
            ..FaultConfig::default()
        },
    )
    .await
    .unwrap();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let base = handle.base_url.as_str().trim_end_matches('/').to_string();
    let call = |method: Method, p: &str, body: Option<Value>| {
        let mut req = client
            .request(method, format!("{base}{p}"))
            .bearer_auth(&handle.api_key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        async move {
            let resp = req.send().await.unwrap();
            let status = resp.status();
            let body = resp.json::<Value>().await.unwrap_or(Value::Null);
            assert!(status.is_success(), "{status}: {body}");
            body
        }
    };
    let mut errors = Vec::new();

    let room = call(
        Method::POST,
        "/api/2.0/files/rooms",
        Some(json!({ "title": "🚀 Launch", "roomType": 2, "tags": ["Acme"], "cover": "planet" })),
    )
    .await;
    expect(
        &room,
        folder_dto_integer,
        false,
        "POST /files/rooms",
        &mut errors,
    );
    let id = room["response"]["id"].as_i64().unwrap();
    let got = call(Method::GET, &format!("/api/2.0/files/rooms/{id}"), None).await;
    expect(
        &got,
        folder_dto_integer,
        false,
        "GET /files/rooms/{id}",
        &mut errors,
    );
    let ext = call(Method::GET, "/api/2.0/files/rooms/sbox-3-7", None).await;
    expect(
        &ext,
        folder_dto_string,
        false,
        "GET /files/rooms/{string}",
        &mut errors,
    );
    let updated = call(
        Method::PUT,
        &format!("/api/2.0/files/rooms/{id}"),
        Some(json!({ "title": "Renamed", "tags": ["acme"] })),
    )
    .await;
    expect(
        &updated,
        folder_dto_integer,
        false,
        "PUT /files/rooms/{id}",
        &mut errors,
    );
    let tagged = call(
        Method::PUT,
        &format!("/api/2.0/files/rooms/{id}/tags"),
        Some(json!({ "names": ["x"] })),
    )
    .await;
    expect(
        &tagged,
        folder_dto_integer,
        false,
        "PUT .../tags",
        &mut errors,
    );

    let shared = call(
        Method::PUT,
        &format!("/api/2.0/files/rooms/{id}/share"),
        Some(json!({ "invitations": [
            { "id": "6e0f0000-0000-4000-8000-000000000001", "access": 11 },
            { "id": "5a4db0c5-0000-4000-8000-000000000003", "access": 9 },
            { "email": "new@sandbox.test", "access": 2 }
        ], "notify": false })),
    )
    .await;
    expect(
        &shared,
        room_security_dto,
        false,
        "PUT .../share",
        &mut errors,
    );
    let members = call(
        Method::GET,
        &format!("/api/2.0/files/rooms/{id}/share"),
        None,
    )
    .await;
    expect(&members, file_share_dto, true, "GET .../share", &mut errors);
    let group_row = members["response"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["subjectType"] == 2)
        .unwrap();
    assert_eq!(group_row["sharedToGroup"]["manager"], "mia.marketing");
    assert_eq!(
        group_row["sharedTo"], group_row["sharedToGroup"],
        "sharedTo duplicates the subject"
    );

    let listing = call(Method::GET, "/api/2.0/files/rooms?count=100", None).await;
    expect(
        &listing,
        folder_content_dto_integer,
        false,
        "GET /files/rooms",
        &mut errors,
    );
    for (i, f) in listing["response"]["folders"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let model = if f["id"].is_string() {
            folder_dto_string()
        } else {
            folder_dto_integer()
        };
        check_model(
            f,
            &model,
            &format!("GET /files/rooms folders[{i}]"),
            &mut errors,
        );
    }
    let tags = call(Method::GET, "/api/2.0/files/tags", None).await;
    // string_array_wrapper.py: `List[StrictStr]`.
    check_envelope(&tags, "GET /files/tags", &mut errors);
    check_type(&tags["response"], T::Strs, "GET /files/tags", &mut errors);

    let op = call(
        Method::PUT,
        &format!("/api/2.0/files/rooms/{id}/archive"),
        Some(json!({ "deleteAfter": false })),
    )
    .await;
    expect(
        &op,
        file_operation_dto,
        false,
        "PUT .../archive",
        &mut errors,
    );
    let ops = call(Method::GET, "/api/2.0/files/fileops", None).await;
    expect(
        &ops,
        file_operation_dto,
        true,
        "GET /files/fileops",
        &mut errors,
    );

    for (p, model, list) in [
        (
            "/api/2.0/people/@self",
            employee_full_dto as fn() -> Model,
            false,
        ),
        (
            "/api/2.0/people/email?email=uma.user@sandbox.test",
            employee_full_dto,
            false,
        ),
        (
            "/api/2.0/people/filter?count=100&sortBy=email",
            employee_full_dto,
            true,
        ),
        ("/api/2.0/people", employee_full_dto, true),
        ("/api/2.0/group", group_dto, true),
        (
            "/api/2.0/group/6e0f0000-0000-4000-8000-000000000001?includeMembers=true",
            group_dto,
            false,
        ),
    ] {
        let body = call(Method::GET, p, None).await;
        expect(&body, model, list, &format!("GET {p}"), &mut errors);
    }
    // Issue 13: room settings, links, covers, resent invitations.
    let public = call(
        Method::POST,
        "/api/2.0/files/rooms",
        Some(json!({
            "title": "Press kit", "roomType": 6, "cover": "planet", "color": "16A34A",
            "lifetime": { "deletePermanently": false, "period": 1, "value": 6 },
            "watermark": { "additions": 16, "text": "Confidential", "rotate": -45 }
        })),
    )
    .await;
    expect(
        &public,
        folder_dto_integer,
        false,
        "POST /files/rooms (settings)",
        &mut errors,
    );
    assert!(public["response"]["lifetime"].is_object(), "{public}");
    assert!(public["response"]["watermark"].is_object(), "{public}");
    let pid = public["response"]["id"].as_i64().unwrap();
    let link = call(
        Method::PUT,
        &format!("/api/2.0/files/rooms/{pid}/links"),
        Some(json!({
            "linkType": 1, "title": "Press", "access": 2, "password": "s3cret-pass",
            "denyDownload": true, "expirationDate": "2030-01-31T00:00:00.0000000+00:00"
        })),
    )
    .await;
    expect(
        &link,
        file_share_dto,
        false,
        "PUT .../links (external)",
        &mut errors,
    );
    let invitation = call(
        Method::PUT,
        &format!("/api/2.0/files/rooms/{id}/links"),
        Some(json!({ "linkType": 0, "access": 2, "maxUseCount": 10 })),
    )
    .await;
    expect(
        &invitation,
        file_share_dto,
        false,
        "PUT .../links (invitation)",
        &mut errors,
    );
    let links = call(
        Method::GET,
        &format!("/api/2.0/files/rooms/{pid}/links"),
        None,
    )
    .await;
    expect(&links, file_share_dto, true, "GET .../links", &mut errors);
    let covers = call(Method::GET, "/api/2.0/files/rooms/covers", None).await;
    expect(
        &covers,
        covers_result_dto,
        true,
        "GET /files/rooms/covers",
        &mut errors,
    );
    let resent = call(
        Method::PUT,
        "/api/2.0/people/invite",
        Some(json!({ "userIds": ["5a4db0c5-0000-4000-8000-000000000004"] })),
    )
    .await;
    expect(
        &resent,
        employee_full_dto,
        true,
        "PUT /people/invite",
        &mut errors,
    );

    // The streamed answer's envelope says 1 whatever the list holds (`SuccessApiResponse.Count`
    // of an `IAsyncEnumerable`), not the number of accounts.
    assert_eq!(resent["count"], 1, "{resent}");

    // `GET /keys/@self`: `createBy` is the SDK's `EmployeeDto` (`ApiKeyResponseDto.CreateBy`),
    // the short profile: every key it carries is one of that model's, none of the full one's.
    let key = call(Method::GET, "/api/2.0/keys/@self", None).await;
    let create_by = &key["response"]["createBy"];
    check_model(
        create_by,
        &employee_dto(),
        "GET /keys/@self.createBy",
        &mut errors,
    );
    let short: Vec<&str> = employee_dto().fields.iter().map(|f| f.0).collect();
    for name in create_by.as_object().expect("createBy is an object").keys() {
        if !short.contains(&name.as_str()) {
            errors.push(format!(
                "GET /keys/@self.createBy.{name} is not a field of employee_dto.py"
            ));
        }
    }

    // Issue 23: groups, invitations with a type, type changes, the settings they depend on.
    let group = call(
        Method::POST,
        "/api/2.0/group",
        Some(json!({
            "groupName": "Design",
            "groupManager": "5a4db0c5-0000-4000-8000-000000000006",
            "members": ["5a4db0c5-0000-4000-8000-000000000004"]
        })),
    )
    .await;
    expect(&group, group_dto, false, "POST /group", &mut errors);
    let gid = group["response"]["id"].as_str().unwrap().to_string();
    let renamed = call(
        Method::PUT,
        &format!("/api/2.0/group/{gid}"),
        Some(json!({ "groupName": "Design team", "membersToAdd": ["5a4db0c5-0000-4000-8000-000000000003"] })),
    )
    .await;
    expect(&renamed, group_dto, false, "PUT /group/{id}", &mut errors);
    let one = call(Method::GET, &format!("/api/2.0/group/{gid}"), None).await;
    expect(&one, group_dto, false, "GET /group/{id}", &mut errors);
    let invited = call(
        Method::POST,
        "/api/2.0/people/invite",
        Some(json!({ "invitations": [{ "email": "typed@sandbox.test", "type": "User" }] })),
    )
    .await;
    expect(
        &invited,
        employee_dto,
        true,
        "POST /people/invite",
        &mut errors,
    );
    let typed = call(
        Method::PUT,
        "/api/2.0/people/type/User",
        Some(json!({ "userIds": ["5a4db0c5-0000-4000-8000-000000000005"] })),
    )
    .await;
    expect(
        &typed,
        employee_full_dto,
        true,
        "PUT /people/type/{type}",
        &mut errors,
    );
    let settings = call(Method::GET, "/api/2.0/settings/invitationsettings", None).await;
    expect(
        &settings,
        tenant_user_invitation_settings_dto,
        false,
        "GET /settings/invitationsettings",
        &mut errors,
    );
    let quota = call(Method::GET, "/api/2.0/portal/payment/quota", None).await;
    expect(
        &quota,
        quota_dto,
        false,
        "GET /portal/payment/quota",
        &mut errors,
    );

    // Groups always carry `parent`, members and manager are full profiles.
    let groups = call(Method::GET, "/api/2.0/group", None).await;
    for g in groups["response"].as_array().unwrap() {
        assert!(g.get("parent").is_some(), "{g}");
    }

    assert!(
        errors.is_empty(),
        "not in the SDK's shapes:\n{}",
        errors.join("\n")
    );
    handle.stop().await.unwrap();
}

/// The checker itself catches the shapes that broke SDK parsing before (so the table is not
/// vacuous).
#[test]
fn the_table_rejects_shapes_the_sdk_rejects() {
    let mut errors = Vec::new();
    check_model(
        &json!({ "id": "6e0f0000-0000-4000-8000-000000000001", "manager": { "id": "x" } }),
        &group_summary_dto(),
        "summary",
        &mut errors,
    );
    check_model(
        &json!({ "id": "sbox-3-7" }),
        &folder_dto_integer(),
        "int",
        &mut errors,
    );
    check_model(
        &json!({ "logo": { "cover": "planet" } }),
        &folder_dto_integer(),
        "cover",
        &mut errors,
    );
    check_model(
        &json!({ "id": "x", "name": "g" }),
        &group_dto(),
        "group",
        &mut errors,
    );
    check_model(
        &json!({ "progress": 0, "finished": false }),
        &file_operation_dto(),
        "op",
        &mut errors,
    );
    assert_eq!(errors.len(), 7, "{errors:#?}");
}
