//! Wire shapes: turns stored state into the JSON objects the real server sends (camelCase,
//! integer enums, nulls omitted, dates with 7 fractional digits). Pure functions of the state.

use chrono::{DateTime, Timelike, Utc};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::rules::UserType;
use super::rules::{self, LinkKind};
use super::state::{
    ARCHIVE_FOLDER_ID, Group, Link, Operation, PortalState, ROOMS_FOLDER_ID, Room, Share,
    ThirdPartyRoom, User,
};

/// `logo` (`RoomLogoManager.GetLogoAsync`): without an uploaded image, empty URLs with the
/// colour and the cover; with one, the image URLs only (`color` and `cover` null).
fn logo(room: &Room) -> Value {
    if room.logo_uploaded {
        let url = |size: &str| format!("/storage/room_logos/root/{}_{size}.png?hash=1", room.id);
        return json!({
            "original": url("orig"), "large": url("large"), "medium": url("medium"),
            "small": url("small"), "color": null, "cover": null,
        });
    }
    json!({
        "original": "", "large": "", "medium": "", "small": "",
        "color": room.color,
        // `Logo.Cover` is a `LogoCover` object; `data` (the cover's SVG) is left empty.
        "cover": room.cover.as_ref().map(|c| json!({ "id": c, "data": "" })),
    })
}

/// `2025-06-02T09:14:03.0000000Z`: the server's date format
/// (docs/docspace-api.md, "Response envelopes").
pub fn date(at: DateTime<Utc>) -> String {
    format!(
        "{}.{:07}Z",
        at.format("%Y-%m-%dT%H:%M:%S"),
        at.nanosecond() % 1_000_000_000 / 100
    )
}

/// `rootFolderType`: 14 VirtualRooms for active rooms, 20 Archive (docs/docspace-api.md, "Reading a room").
pub fn root_folder_type(room: &Room) -> i64 {
    if room.archived { 20 } else { 14 }
}

/// EmployeeFullDto (docs/docspace-api.md, "People and groups lookup").
pub fn user_full(state: &PortalState, user: &User) -> Value {
    let groups: Vec<Value> = state
        .groups
        .iter()
        .filter(|g| g.members.contains(&user.id))
        .map(|g| group_summary(state, g))
        .collect();
    let mut out = user_full_fields(user, groups);
    // `EmployeeFullDtoHelper.GetFullAsync`: `createdBy` is the creator's short profile, when
    // the account has a creator.
    if let Some(creator) = user.invited_by.and_then(|id| state.user(id)) {
        out["createdBy"] = user_short(creator);
    }
    out
}

fn user_full_fields(user: &User, groups: Vec<Value>) -> Value {
    json!({
        "id": user.id,
        "displayName": user.display_name(),
        "email": user.email,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "userName": user.user_name,
        "status": user.status,
        "activationStatus": user.activation_status,
        // isAdmin is "DocSpace admin and not owner"
        // (docs/docspace-api.md, "People and groups lookup").
        "isAdmin": user.user_type == UserType::DocSpaceAdmin && !user.is_owner,
        "isOwner": user.is_owner,
        "isRoomAdmin": user.user_type == UserType::RoomAdmin,
        "isCollaborator": user.user_type == UserType::User,
        "isVisitor": user.user_type == UserType::Guest,
        "isLDAP": false,
        "isSSO": false,
        "groups": groups,
        "cultureName": user.culture_name,
        "registrationDate": date(user.registration_date),
        "profileUrl": format!("/accounts/people/{}", user.id),
        "avatar": "/static/images/default_user_photo_size_82-82.png",
        "hasAvatar": false,
        "isAnonim": false,
    })
}

/// EmployeeDto: the short profile used in `createdBy` and group members.
pub fn user_short(user: &User) -> Value {
    json!({
        "id": user.id,
        "displayName": user.display_name(),
        "avatarSmall": "/static/images/default_user_photo_size_32-32.png",
        "profileUrl": format!("/accounts/people/{}", user.id),
        "hasAvatar": false,
        "isAnonim": false,
    })
}

/// GroupSummaryDto (`GroupSummaryDto.cs`), as in a profile's `groups` and a share row's
/// `sharedToGroup`: `manager` is the manager's *user name*, a string, not a profile.
fn group_summary(state: &PortalState, group: &Group) -> Value {
    let mut v = json!({ "id": group.id, "name": group.name });
    if let Some(m) = group.manager.and_then(|m| state.user(m)) {
        v["manager"] = json!(m.user_name);
    }
    v
}

/// GroupDto (`GroupDto.cs`, `GroupFullDtoHelper.Get`): `parent` is always there (the empty
/// GUID for a top-level group), `manager` and `members` are full profiles (EmployeeFullDto),
/// members only with `includeMembers=true`; `isSystem` is omitted for ordinary groups (null).
pub fn group(state: &PortalState, group: &Group, include_members: bool) -> Value {
    let mut v = json!({
        "id": group.id,
        "name": group.name,
        "parent": "00000000-0000-0000-0000-000000000000",
        "membersCount": group.members.len(),
        "isLDAP": false,
        "category": "00000000-0000-0000-0000-000000000000",
    });
    if let Some(m) = group.manager.and_then(|m| state.user(m)) {
        v["manager"] = user_full(state, m);
    }
    if include_members {
        v["members"] = group
            .members
            .iter()
            .filter_map(|id| state.user(*id))
            .map(|u| user_full(state, u))
            .collect();
    }
    v
}

/// A room's tags as the server lists them: `FolderDtoHelper.GetAsync` orders them by the tag's
/// id descending, i.e. the portal's newest tag first (not the order they were added to this
/// room). Names the portal list does not hold (hand-written connected rooms) come last.
fn ordered_tags(state: &PortalState, tags: &[String]) -> Vec<String> {
    let mut out = tags.to_vec();
    out.sort_by_key(|t| {
        std::cmp::Reverse(
            state
                .tags
                .iter()
                .position(|p| p == t)
                .map(|i| i + 1)
                .unwrap_or(0),
        )
    });
    out
}

/// The folder/room object (docs/docspace-api.md, "Reading a room") as seen by the key's user, who owns every room here.
pub fn room(state: &PortalState, room: &Room) -> Value {
    let creator = state
        .user(room.created_by)
        .map(user_short)
        .unwrap_or(Value::Null);
    let editable = !room.archived;
    let parent = if room.archived {
        ARCHIVE_FOLDER_ID
    } else {
        ROOMS_FOLDER_ID
    };
    strip_nulls(json!({
        "id": room.id,
        "title": room.title,
        "roomType": room.room_type,
        "rootFolderType": root_folder_type(room),
        "parentId": parent,
        "rootFolderId": parent,
        "fileEntryType": 1,
        "tags": ordered_tags(state, &room.tags),
        "private": room.private,
        "indexing": room.indexing,
        "denyDownload": room.deny_download,
        "pinned": false,
        "mute": false,
        "inRoom": true,
        "createdBy": creator,
        "updatedBy": creator,
        "created": date(room.created),
        "updated": date(room.updated),
        // Portal default quota is "unlimited" in the sandbox (a guess for a fresh portal).
        "quotaLimit": room.quota.unwrap_or(-1),
        "isCustomQuota": room.quota.is_some(),
        "usedSpace": 0,
        "security": security(editable),
        "filesCount": 0,
        "foldersCount": 0,
        "new": 0,
        "logo": logo(room),
        // `RoomDataLifetimeDto` and `WatermarkDto`, left out when off (null).
        "lifetime": room.lifetime.as_ref().map(|l| json!({
            "deletePermanently": l.delete_permanently,
            "period": l.period,
            "value": l.value,
            "enabled": l.enabled,
        })),
        "watermark": room.watermark.as_ref().map(|w| json!({
            "additions": w.additions,
            "text": w.text,
            "rotate": w.rotate,
            "imageScale": w.image_scale,
            "imageUrl": w.image_url,
            "imageHeight": w.image_height,
            "imageWidth": w.image_width,
        })),
    }))
}

/// A room link as `FileShareDto` (`FileShareDtoHelper.Get` over `FileSharing.ToAceAsync`): the
/// link object is both `sharedTo` (obsolete) and `sharedLink`. The password comes back in
/// clear text; `requestToken` only on external links (and not when `with_token` is false: the
/// answer to a revoke that replaced the primary link); `maxUseCount`/`currentUseCount` only on
/// invitation links. `shareLink` and `requestToken` are made up from the link id.
pub fn link(room: &Room, link: &Link, now: DateTime<Utc>, with_token: bool) -> Value {
    let invitation = link.kind == LinkKind::Invitation;
    let primary = link.kind == LinkKind::PrimaryExternal;
    let short = link.id.simple().to_string();
    let shared = strip_nulls(json!({
        "id": link.id,
        "title": link.title,
        "shareLink": format!("https://sandbox.test/s/{}", &short[..12]),
        "expirationDate": link.expiration.map(date),
        "linkType": if invitation { 0 } else { 1 },
        "password": link.password(),
        "denyDownload": link.deny_download,
        "isExpired": link.expiration.is_some_and(|at| at < now),
        "primary": primary,
        "internal": link.internal,
        "requestToken": (!invitation && with_token).then(|| format!("sbx{short}")),
        "maxUseCount": if invitation { json!(link.max_use_count) } else { Value::Null },
        "currentUseCount": if invitation { json!(link.current_use_count) } else { Value::Null },
    }));
    let room_type = room.room_type;
    json!({
        "access": link.access,
        "sharedTo": shared.clone(),
        "sharedLink": shared,
        "isLocked": false,
        "isOwner": false,
        "canEditAccess": false,
        "canEditInternal": rules::can_edit_link_internal(room_type),
        "canEditDenyDownload": room_type == 8 && !room.deny_download,
        "canEditExpirationDate": rules::can_edit_link_expiration(room_type)
            && !(room_type == 6 && primary),
        "canRevoke": (room_type == 6 && primary) || room_type == 1,
        "subjectType": link.kind.subject_type(),
    })
}

/// A room in connected storage as `FolderDto<string>` (`ProviderFolderDao.ToProviderRoom`,
/// `FolderDtoHelper.GetAsync`, `FileEntryDto` constructor): `id`, `parentId` and
/// `rootFolderId` are JSON strings (the section folder's id converted with
/// `IdConverter.Convert<string>`), and `providerItem`, `providerKey`, `providerId` are set.
/// Quota fields are left out (the server skips provider rooms when counting space; whether it
/// sends a limit for them is a guess).
pub fn third_party_room(state: &PortalState, room: &ThirdPartyRoom) -> Value {
    let owner = room.created_by.unwrap_or(state.key_user);
    let creator = state.user(owner).map(user_short).unwrap_or(Value::Null);
    let parent = if room.archived {
        ARCHIVE_FOLDER_ID
    } else {
        ROOMS_FOLDER_ID
    }
    .to_string();
    strip_nulls(json!({
        "id": room.id,
        "title": room.title,
        "roomType": room.room_type,
        "rootFolderType": if room.archived { 20 } else { 14 },
        "parentId": parent,
        "rootFolderId": parent,
        "fileEntryType": 1,
        "providerItem": true,
        "providerKey": room.provider,
        "providerId": room.provider_id,
        "tags": ordered_tags(state, &room.tags),
        "private": false,
        "indexing": false,
        "denyDownload": false,
        "pinned": false,
        "mute": false,
        "inRoom": owner == state.key_user,
        "createdBy": creator,
        "updatedBy": creator,
        "created": date(room.created),
        "updated": date(room.updated),
        "security": security(!room.archived),
        "filesCount": 0,
        "foldersCount": 0,
        "new": 0,
        "logo": { "original": "", "large": "", "medium": "", "small": "", "color": "6D4AF2" },
    }))
}

/// The PascalCase `security` map of a room as its owner sees it (keys and values partly a
/// guess, see docs/sandbox.md).
fn security(editable: bool) -> Value {
    let mut security = Map::new();
    for (action, allowed) in [
        ("Read", true),
        ("Create", editable),
        ("Delete", true),
        ("EditRoom", editable),
        ("Rename", editable),
        ("CopyTo", editable),
        ("Copy", true),
        ("MoveTo", editable),
        ("Move", true),
        ("Pin", true),
        ("Mute", true),
        ("EditAccess", editable),
        ("Duplicate", true),
        ("Download", true),
        ("CopySharedLink", editable),
        ("ChangeOwner", editable),
        ("IndexExport", true),
    ] {
        security.insert(action.to_string(), Value::Bool(allowed));
    }
    Value::Object(security)
}

/// The `current` folder of a room listing (5.3; shape partly a guess).
pub fn section(archived: bool) -> Value {
    if archived {
        json!({ "id": ARCHIVE_FOLDER_ID, "title": "Archive", "rootFolderType": 20, "fileEntryType": 1 })
    } else {
        json!({ "id": ROOMS_FOLDER_ID, "title": "Rooms", "rootFolderType": 14, "fileEntryType": 1 })
    }
}

/// FileShareDto for a stored share (docs/docspace-api.md, "Reading members").
pub fn share(state: &PortalState, room: &Room, share: &Share) -> Option<Value> {
    let editable = !room.archived && share.subject != state.key_user;
    let (subject_type, key, subject) = if share.is_group {
        // `FileShareDtoHelper.Get`: groups are GroupSummaryDto, so `manager` is a user name.
        let g = state.group(share.subject)?;
        (2, "sharedToGroup", group_summary(state, g))
    } else {
        (
            0,
            "sharedToUser",
            user_full(state, state.user(share.subject)?),
        )
    };
    Some(share_row(
        share.access,
        subject_type,
        key,
        subject,
        false,
        share.subject == state.key_user,
        editable,
    ))
}

/// The synthetic owner row: access 1 (ReadWrite), `isOwner`, not editable (docs/docspace-api.md, "Reading members").
pub fn owner_row(state: &PortalState, owner: &User) -> Value {
    share_row(
        1,
        0,
        "sharedToUser",
        user_full(state, owner),
        true,
        false,
        false,
    )
}

fn share_row(
    access: i64,
    subject_type: i64,
    key: &str,
    subject: Value,
    is_owner: bool,
    is_locked: bool,
    can_edit: bool,
) -> Value {
    let mut v = json!({
        "access": access,
        "sharedTo": subject.clone(),
        "isLocked": is_locked,
        "isOwner": is_owner,
        "canEditAccess": can_edit,
        "canEditInternal": false,
        "canEditDenyDownload": false,
        "canEditExpirationDate": false,
        "canRevoke": false,
        "subjectType": subject_type,
    });
    v[key] = subject;
    v
}

/// FileOperationDto (`FileOperationDto.cs`): note the capitalised `Operation` key. `error` is
/// `""` until something fails (`FileOperation` initialises `Err = ""`); `status` is the task
/// queue's `DistributedTaskStatus`: 1 Running, then 2 Completed — also when the job recorded an
/// error, because the file operation catches its own failures and the queue only marks
/// exceptions that escape as 4 (`DistributedTaskQueue`). `processed` counts items done.
pub fn operation(op: &Operation) -> Value {
    let done = op.finished && op.error.is_empty();
    json!({
        "id": op.id.to_string(),
        "Operation": op.kind,
        "progress": if op.finished { 100 } else { 0 },
        "error": op.error,
        "processed": if done { "1" } else { "0" },
        "finished": op.finished,
        "status": if op.finished { 2 } else { 1 },
    })
}

/// A fresh operation id.
pub fn new_operation_id() -> Uuid {
    Uuid::new_v4()
}

/// Removes `null` members recursively (the server omits null properties,
/// docs/docspace-api.md, "Response envelopes").
pub fn strip_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(strip_nulls).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn dates_have_seven_fractional_digits() {
        let at = Utc.with_ymd_and_hms(2025, 6, 2, 9, 14, 3).unwrap()
            + chrono::Duration::nanoseconds(123_456_789);
        assert_eq!(date(at), "2025-06-02T09:14:03.1234567Z");
    }
}
