//! Room members: `GET` and `PUT /api/2.0/files/rooms/{id}/share`
//! (docs/docspace-api.md, "Reading members", docs/docspace-api.md, "The share call").
//!
//! The role rules are the sandbox's own copy of the server's tables ([`rules::role_allowed`]);
//! this module adds the wire-level parts: parsing `access` like the server (docs/docspace-api.md, "Access as integers"), processing
//! invitations one by one without a transaction (docs/docspace-api.md, "The share call"), creating pending guests for unknown
//! emails (docs/docspace-api.md, "Email invitations"), and the listing order with its synthetic owner row (docs/docspace-api.md, "Reading members").

use std::cmp::Ordering;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::Uri;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::Shared;
use super::envelope::{
    ApiError, ApiResult, FOLDER_NOT_FOUND, Params, ROLE_NOT_AVAILABLE, Reply, dotnet_len,
    parse_body,
};
use super::faults::Faults;
use super::render;
use super::rules::{self, EmailCollation, Subject, UserType, access};
use super::state::{PortalState, STATUS_TERMINATED, Share, User};

/// `FileShare` member names as the server's generated parser knows them (current names only,
/// case-sensitive; docs/docspace-api.md, "Enums" and
/// docs/docspace-api.md, "Access as integers").
const FILE_SHARE_NAMES: [(&str, i64); 12] = [
    ("None", 0),
    ("ReadWrite", 1),
    ("Read", 2),
    ("Restrict", 3),
    ("Varies", 4),
    ("Review", 5),
    ("Comment", 6),
    ("FillForms", 7),
    ("CustomFilter", 8),
    ("RoomManager", 9),
    ("Editing", 10),
    ("ContentCreator", 11),
];

/// The warning for an invitee the server could not create (docs/docspace-api.md, "Email invitations").
/// The exact text is a guess.
pub const INVITEE_REJECTED: &str = "The email is linked to another account";

/// 6.4: numbers are used as they are; strings are current member names (case-sensitive) or
/// numeric strings; anything else (old names, lowercase, null, bools) silently becomes 0.
pub fn parse_access(value: Option<&Value>) -> i64 {
    match value {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) => FILE_SHARE_NAMES
            .iter()
            .find(|(name, _)| *name == s)
            .map(|(_, v)| *v)
            .or_else(|| s.parse::<i64>().ok())
            .unwrap_or(0),
        _ => 0,
    }
}

/// Both checks of 6.3 for one subject; `None` user type means a group.
fn role_allowed(room_type: i64, access: i64, user_type: Option<UserType>) -> bool {
    let subject = match user_type {
        Some(t) => Subject::User(t),
        None => Subject::Group,
    };
    rules::role_allowed(room_type, access, subject)
}

#[derive(Debug, Deserialize)]
struct Invitation {
    id: Option<Value>,
    email: Option<String>,
    access: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct ShareRequest {
    invitations: Option<Vec<Invitation>>,
    culture: Option<String>,
}

/// What an invitation's `id` field held.
fn parse_id(value: Option<&Value>) -> ApiResult<Option<Uuid>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => match Uuid::parse_str(s) {
            Ok(id) if id.is_nil() => Ok(None),
            Ok(id) => Ok(Some(id)),
            Err(_) => Err(ApiError::validation(
                "invitations[0].id",
                format!("The JSON value '{s}' could not be converted to System.Guid."),
            )),
        },
        Some(_) => Err(ApiError::validation(
            "invitations[0].id",
            "The JSON value could not be converted to System.Guid.",
        )),
    }
}

/// Sets `subject`'s access; same access is a no-op, 0 removes (docs/docspace-api.md, "The share call").
fn apply_share(shares: &mut Vec<Share>, subject: Uuid, is_group: bool, access: i64) {
    match shares.iter().position(|s| s.subject == subject) {
        Some(i) if access == 0 => {
            shares.remove(i);
        }
        Some(i) => shares[i].access = access,
        None if access == 0 => {}
        None => shares.push(Share {
            subject,
            is_group,
            access,
        }),
    }
}

/// A pending guest for an unknown email (6.5 step 3): `AddInvitedUserAsync` runs as the
/// caller, who becomes `CreatedBy`.
fn create_invitee(s: &mut PortalState, email: &str, culture: &str) -> Uuid {
    let by = s.key_user;
    s.add_invited_user(email, UserType::Guest, culture, by)
}

pub async fn set(State(app): State<Shared>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let room_id: i64 = id
        .parse()
        .map_err(|_| ApiError::NotFound(FOLDER_NOT_FOUND.to_string()))?;
    let req: ShareRequest = parse_body(&body)?;
    let invitations = req.invitations.unwrap_or_default();
    let parsed = parse_invitations(&invitations)?;
    let culture = req.culture.unwrap_or_else(|| "en-US".to_string());
    let faults = &app.faults;
    let emails = app.emails;
    app.write(|s| {
        // `VirtualRoomsController.SetRoomSecurity`: a new email with a role while the portal
        // forbids inviting guests is refused before the room is looked up.
        let new_guests = parsed
            .iter()
            .any(|(_, email, access)| email.is_some() && *access != access::NONE);
        if new_guests && !s.invitation_settings.allow_inviting_guests {
            return Err(ApiError::Security);
        }
        let room = s
            .room(room_id)
            .ok_or_else(|| ApiError::NotFound(FOLDER_NOT_FOUND.to_string()))?;
        // Members of an archived room cannot be changed (no EditAccess right; guess: 403).
        if room.archived {
            return Err(ApiError::Security);
        }
        if parsed.is_empty() {
            return Ok(Reply::new(json!({ "error": 0 })));
        }
        let owner = room.created_by;
        let room_type = room.room_type;
        let mut warning: Option<String> = None;
        let mut sent_ids: Vec<Uuid> = Vec::new();
        // Sequential, no transaction: an invalid entry fails the request after the earlier
        // ones were applied (and persisted by `write`), as the real server does
        // (docs/docspace-api.md, "The share call").
        for (id, email, access) in &parsed {
            let found = if let Some(id) = id {
                if !sent_ids.contains(id) {
                    sent_ids.push(*id);
                }
                if !visible_to_caller(s, room_id, *id, owner, *access) {
                    continue;
                }
                subject_by_id(s, *id, owner, room_type, *access)?
            } else if let Some(email) = email {
                // The email path only handles non-zero access: removal by email does nothing.
                if *access == 0 {
                    continue;
                }
                // Email invitations are validated as Guest, whoever owns the email
                // (docs/docspace-api.md, "Roles per room type").
                if !role_allowed(room_type, *access, Some(UserType::Guest)) {
                    return Err(ApiError::InvalidOperation(ROLE_NOT_AVAILABLE.to_string()));
                }
                subject_by_email(s, email, owner, faults, emails, &culture, &mut warning)
            } else {
                // Neither id nor email: nothing to do (guess).
                None
            };
            if let Some((subject, is_group)) = found {
                record_share(s, room_id, subject, is_group, *access)?;
            }
        }
        members_reply(s, room_id, &sent_ids, warning)
    })
    .await
}

/// An invitation as checked: its id, its email (blank ones dropped) and its access.
type ParsedInvitation = (Option<Uuid>, Option<String>, i64);

/// Checks every invitation of the request before anything happens, as the server's
/// attribute validation does (docs/docspace-api.md, "Response envelopes"): the id, the
/// email's form; returns each as (id, email, access).
fn parse_invitations(invitations: &[Invitation]) -> ApiResult<Vec<ParsedInvitation>> {
    let mut parsed = Vec::with_capacity(invitations.len());
    for inv in invitations {
        let id = parse_id(inv.id.as_ref())?;
        if let Some(email) = inv.email.as_deref().filter(|e| !e.is_empty())
            && (dotnet_len(email) > 255 || !super::people_rules::looks_like_email(email.trim()))
        {
            return Err(ApiError::validation(
                "Email",
                "The Email field is not a valid e-mail address.",
            ));
        }
        parsed.push((
            id,
            inv.email.clone().filter(|e| !e.trim().is_empty()),
            parse_access(inv.access.as_ref()),
        ));
    }
    Ok(parsed)
}

/// `VirtualRoomsController.SetRoomSecurity` keeps an invitation by id when the caller created
/// the room and it removes someone or names a current member, or when the caller can see the
/// subject (`UserManager.CanUserViewAnotherUserAsync`): a room admin does not see guests they
/// have no relation with, so such an id is dropped silently (the answer is still 200). Group
/// ids and unknown ids pass here (their type reads as room admin).
fn visible_to_caller(s: &PortalState, room_id: i64, id: Uuid, owner: Uuid, access: i64) -> bool {
    let caller = s.key_user;
    let member = s
        .room(room_id)
        .is_some_and(|r| r.shares.iter().any(|x| x.subject == id));
    if owner == caller && (access == access::NONE || member) {
        return true;
    }
    let Some(actor) = s.user(caller).map(User::actor) else {
        return false;
    };
    let target = s.user(id).map_or(UserType::RoomAdmin, |u| u.user_type);
    super::people_rules::can_view(actor, id == caller, target, s.related(caller, id))
}

/// The subject an invitation by id names, and whether it is a group; `None` when the
/// server skips it silently. A role the room type does not offer the subject is a 403.
fn subject_by_id(
    s: &PortalState,
    id: Uuid,
    owner: Uuid,
    room_type: i64,
    access: i64,
) -> ApiResult<Option<(Uuid, bool)>> {
    let user_type = if s.group(id).is_some() {
        None
    } else {
        match s.user(id) {
            // Terminated users are skipped silently (docs/docspace-api.md, "The share call").
            Some(u) if u.status == STATUS_TERMINATED => return Ok(None),
            Some(u) => Some(u.user_type),
            // Ids the caller cannot see are dropped silently (docs/docspace-api.md, "The share call").
            None => return Ok(None),
        }
    };
    // Guess: the owner's own (synthetic) row cannot be changed; skipped silently.
    if id == owner {
        return Ok(None);
    }
    if !role_allowed(room_type, access, user_type) {
        return Err(ApiError::InvalidOperation(ROLE_NOT_AVAILABLE.to_string()));
    }
    Ok(Some((id, user_type.is_none())))
}

/// The user an invitation by email names, created as a pending guest when the address is
/// unknown; `None` when the server skips it (terminated, the owner, or a creation that
/// failed, which leaves the first `warning`).
fn subject_by_email(
    s: &mut PortalState,
    email: &str,
    owner: Uuid,
    faults: &Faults,
    emails: EmailCollation,
    culture: &str,
    warning: &mut Option<String>,
) -> Option<(Uuid, bool)> {
    // `FileSharing`: `GetUserByEmailAsync` decides whether the address is known. On
    // a case-sensitive install "A@x.test" misses a stored "a@x.test", and the
    // invitee is created as a second, pending account (`AddInvitedUserAsync` is
    // called without its existence check, and the duplicate-email check in
    // `DbUserService.SaveUserAsync` compares under the same collation).
    let existing = s.user_by_email(email, emails).map(|u| (u.id, u.status));
    match existing {
        Some((_, STATUS_TERMINATED)) => None,
        Some((uid, _)) if uid == owner => None,
        Some((uid, _)) => {
            // `FileSharing.SetAceObjectAsync`: sharing by email relates the caller to the
            // account (`AddUserRelationAsync`), which makes a guest visible to a room admin.
            let caller = s.key_user;
            s.add_relation(caller, uid);
            Some((uid, false))
        }
        None if faults.rejects_email(email) => {
            // Creating the invitee failed: skip the entry, keep the first warning.
            warning.get_or_insert_with(|| INVITEE_REJECTED.to_string());
            None
        }
        None => Some((create_invitee(s, email, culture), false)),
    }
}

/// Gives the subject this access in the room, touching the room only when it changes.
fn record_share(
    s: &mut PortalState,
    room_id: i64,
    subject: Uuid,
    is_group: bool,
    access: i64,
) -> ApiResult<()> {
    let room = s
        .room_mut(room_id)
        .ok_or_else(|| ApiError::NotFound(FOLDER_NOT_FOUND.to_string()))?;
    let before = room
        .shares
        .iter()
        .find(|x| x.subject == subject)
        .map(|x| x.access);
    if before != Some(access) {
        apply_share(&mut room.shares, subject, is_group, access);
        room.updated = Utc::now();
    }
    Ok(())
}

/// The answer: `members` = current shares of the ids sent; email invitees are not included
/// (docs/docspace-api.md, "The share call").
fn members_reply(
    s: &PortalState,
    room_id: i64,
    sent_ids: &[Uuid],
    warning: Option<String>,
) -> ApiResult {
    let room = s
        .room(room_id)
        .ok_or_else(|| ApiError::NotFound(FOLDER_NOT_FOUND.to_string()))?;
    let members: Vec<Value> = sent_ids
        .iter()
        .filter_map(|id| room.shares.iter().find(|x| x.subject == *id))
        .filter_map(|x| render::share(s, room, x))
        .collect();
    let mut out = json!({ "members": members, "error": 0 });
    if let Some(w) = warning {
        out["warning"] = Value::String(w);
    }
    Ok(Reply::new(out))
}

/// Listing buckets after the owner row (docs/docspace-api.md, "Reading members"): room managers, groups, users, guests, pending.
fn bucket(s: &PortalState, share: &Share) -> u8 {
    if share.is_group {
        return 1;
    }
    match s.user(share.subject) {
        Some(u) if u.is_pending() => 4,
        Some(_) if share.access == access::ROOM_MANAGER => 0,
        Some(u) if u.user_type == UserType::Guest => 3,
        _ => 2,
    }
}

/// Within a bucket: by access, most powerful first (a guess for "by access"), then by name;
/// pending users by email (docs/docspace-api.md, "Reading members").
fn access_rank(value: i64) -> usize {
    const RANK: [i64; 8] = [
        access::ROOM_MANAGER,
        access::CONTENT_CREATOR,
        access::EDITING,
        access::REVIEW,
        access::COMMENT,
        access::FILL_FORMS,
        access::READ,
        access::NONE,
    ];
    RANK.iter().position(|x| *x == value).unwrap_or(usize::MAX)
}

fn sort_name(s: &PortalState, share: &Share) -> String {
    if share.is_group {
        return s
            .group(share.subject)
            .map(|g| g.name.to_lowercase())
            .unwrap_or_default();
    }
    match s.user(share.subject) {
        Some(u) if u.is_pending() => u.email.to_lowercase(),
        Some(u) => u.display_name().to_lowercase(),
        None => String::new(),
    }
}

fn user_matches(u: &User, filter: &str) -> bool {
    [&u.first_name, &u.last_name, &u.email]
        .iter()
        .any(|f| f.to_lowercase().contains(filter))
}

pub async fn list(State(app): State<Shared>, Path(id): Path<String>, uri: Uri) -> ApiResult {
    let room_id: i64 = id
        .parse()
        .map_err(|_| ApiError::NotFound(FOLDER_NOT_FOUND.to_string()))?;
    let params = Params::from_query(uri.query());
    let (start, count) = params.paging()?;
    let filter_type = params.int("filterType")?.unwrap_or(0);
    let filter = params.text("filterValue").map(str::to_lowercase);
    app.read(|s| {
        let room = s
            .room(room_id)
            .ok_or_else(|| ApiError::NotFound(FOLDER_NOT_FOUND.to_string()))?;
        if !super::room_access::can_read_room(s, room) {
            // Unreadable: an empty list, total 0 (`room_access`).
            return Ok(Reply::new(Value::Array(Vec::new()))
                .count((0 - start).min(count))
                .total(0));
        }
        let (users, groups) = match filter_type {
            0 => (true, true),
            16 => (true, false),
            32 => (false, true),
            // Link filters: the sandbox models no links, so nothing matches.
            _ => (false, false),
        };
        let mut rows: Vec<Value> = Vec::new();
        // The owner row is synthesised first and counts in `total` (docs/docspace-api.md, "Reading members").
        if users
            && let Some(owner) = s.user(room.created_by)
            && filter.as_ref().is_none_or(|f| user_matches(owner, f))
        {
            rows.push(render::owner_row(s, owner));
        }
        let mut shares: Vec<&Share> = room
            .shares
            .iter()
            .filter(|x| if x.is_group { groups } else { users })
            .filter(|x| match &filter {
                None => true,
                Some(f) if x.is_group => s
                    .group(x.subject)
                    .is_some_and(|g| g.name.to_lowercase().contains(f)),
                Some(f) => s.user(x.subject).is_some_and(|u| user_matches(u, f)),
            })
            .collect();
        shares.sort_by(|a, b| {
            bucket(s, a)
                .cmp(&bucket(s, b))
                .then(access_rank(a.access).cmp(&access_rank(b.access)))
                .then_with(|| sort_name(s, a).cmp(&sort_name(s, b)))
                .then_with(|| a.subject.cmp(&b.subject))
                .then(Ordering::Equal)
        });
        rows.extend(shares.iter().filter_map(|x| render::share(s, room, x)));
        let total = rows.len() as i64;
        let page: Vec<Value> = rows
            .into_iter()
            .skip(start as usize)
            .take(count as usize)
            .collect();
        // Envelope count = min(total - startIndex, count): negative past the end
        // (docs/docspace-api.md, "Response envelopes").
        Ok(Reply::new(Value::Array(page))
            .count((total - start).min(count))
            .total(total))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_strings_parse_like_the_server() {
        assert_eq!(parse_access(Some(&json!("Editing"))), 10);
        assert_eq!(parse_access(Some(&json!("editing"))), 0);
        assert_eq!(parse_access(Some(&json!("RoomAdmin"))), 0);
        assert_eq!(parse_access(Some(&json!("ReadWrite"))), 1);
        assert_eq!(parse_access(Some(&json!("9"))), 9);
        assert_eq!(parse_access(Some(&json!(true))), 0);
        assert_eq!(parse_access(None), 0);
    }

    #[test]
    fn both_role_checks_apply() {
        assert!(role_allowed(2, 9, Some(UserType::RoomAdmin)));
        assert!(!role_allowed(2, 9, Some(UserType::User)));
        assert!(!role_allowed(2, 9, None));
        assert!(!role_allowed(5, 1, Some(UserType::RoomAdmin)));
        assert!(!role_allowed(9, 11, Some(UserType::Guest)));
        assert!(role_allowed(9, 11, Some(UserType::User)));
    }
}
