//! Room sharing links: `GET` and `PUT /files/rooms/{id}/links`
//! (docs/docspace-api.md, "Sharing links").
//!
//! Written from `VirtualRoomsController.SetRoomLink` / `GetRoomLinks`,
//! `FileStorageService.SetInvitationLinkAsync` / `SetExternalLinkAsync`,
//! `FileSharing.SetAceObjectAsync` and `FileShareDtoHelper.Get`. The rules, in the server's
//! order:
//! - the room must exist (404) and not be archived (403 `Access denied`);
//! - `linkType` 0 is an invitation link, 1 an external link; anything else is a 403;
//! - an existing `linkId` keeps its own kind whatever `linkType` says;
//! - invitation links: an expiry in the past or more than ten years ahead is a 400; a
//!   `maxUseCount` below the current use count is a 400; no password, internal or deny-download;
//! - external links: an expiry in the past is dropped silently (the link never expires), more
//!   than ten years ahead is a 400; the password is trimmed;
//! - the access must be one the room type offers that kind of link (403 `The role is not
//!   available for this user type`): editing, virtual data and AI rooms take no external link;
//! - primary links of public and form-filling rooms never expire; links of virtual data rooms
//!   are always internal, those of public rooms never;
//! - changing `internal` where it cannot change (public, virtual data rooms), or the expiry
//!   where it cannot change (form-filling rooms), leaves the link as it was, silently;
//! - a password must be 8 (the portal policy's `minLength`) to 30 printable ASCII characters
//!   without spaces (400);
//! - under the portal's link restriction (`policy.links_restricted`), an external link of a
//!   public room not asked internal is a 403 and revoking a public room's primary link (or a
//!   form-filling room's one that is not internal) too; other external links become internal;
//! - an invitation link update without `maxUseCount` resets the use count to 0;
//! - a new link beyond the room's limit is a 403 `The maximum number of links may not exceed N`;
//! - access 0 revokes: the answer is `null`, except for the primary link of a public or
//!   form-filling room, which is replaced at once by a fresh default one (returned);
//! - an update replaces every option: a password not sent again is removed.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::Uri;
use chrono::{DateTime, Months, NaiveDate, NaiveDateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use super::Shared;
use super::envelope::{
    ApiError, ApiResult, FOLDER_NOT_FOUND, Params, ROLE_NOT_AVAILABLE, Reply, dotnet_len,
    parse_body,
};
use super::render;
use super::rules::{self, LinkKind, access};
use super::state::{Link, PortalState, Room};

fn not_found() -> ApiError {
    ApiError::NotFound(FOLDER_NOT_FOUND.to_string())
}

/// `ArgumentException(null, name)`: .NET's default message names the parameter.
fn argument(name: &str) -> ApiError {
    ApiError::Argument(format!(
        "Value does not fall within the expected range. (Parameter '{name}')"
    ))
}

#[derive(Debug, Default, Deserialize)]
struct LinkRequest {
    linkid: Option<String>,
    access: Option<i64>,
    expirationdate: Option<Value>,
    internal: Option<bool>,
    title: Option<String>,
    linktype: Option<Value>,
    password: Option<String>,
    denydownload: Option<bool>,
    maxusecount: Option<i64>,
}

/// `LinkType` from the body: 0 / `Invitation`, 1 / `External` (the standard enum converter).
/// Other numbers bind but match no branch of the controller's switch: a 403.
fn link_type(value: Option<&Value>) -> ApiResult<LinkKind> {
    let invalid_state = || {
        ApiError::InvalidOperation(
            "Operation is not valid due to the current state of the object.".to_string(),
        )
    };
    match value {
        None | Some(Value::Null) => Ok(LinkKind::Invitation),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(0) => Ok(LinkKind::Invitation),
            Some(1) => Ok(LinkKind::External),
            _ => Err(invalid_state()),
        },
        Some(Value::String(s)) => match s.trim() {
            t if t.eq_ignore_ascii_case("invitation") || t == "0" => Ok(LinkKind::Invitation),
            t if t.eq_ignore_ascii_case("external") || t == "1" => Ok(LinkKind::External),
            t if t.parse::<i64>().is_ok() => Err(invalid_state()),
            _ => Err(ApiError::validation(
                "linkType",
                format!("The JSON value '{s}' could not be converted to LinkType."),
            )),
        },
        Some(_) => Err(ApiError::validation(
            "linkType",
            "The JSON value could not be converted to LinkType.",
        )),
    }
}

/// An `ApiDateTime` from the body: an ISO date-time (with or without offset; without one it is
/// the portal's time, UTC here) or a bare date. Absent, null or empty: no expiry
/// (`DateTime.MinValue`).
fn expiry(value: Option<&Value>) -> ApiResult<Option<DateTime<Utc>>> {
    let text = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
        Some(Value::String(s)) => s.trim().to_string(),
        Some(other) => other.to_string(),
    };
    let invalid = || {
        ApiError::validation(
            "expirationDate",
            format!("The JSON value '{text}' could not be converted to ApiDateTime."),
        )
    };
    if let Ok(at) = DateTime::parse_from_rfc3339(&text) {
        return Ok(Some(at.with_timezone(&Utc)));
    }
    if let Ok(at) = NaiveDateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M:%S%.f") {
        return Ok(Some(at.and_utc()));
    }
    if let Ok(day) = NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
        return Ok(day.and_hms_opt(0, 0, 0).map(|at| at.and_utc()));
    }
    Err(invalid())
}

/// Model validation of `RoomLinkRequest` (`[StringLength(255)]` on title and password,
/// `[Range(1, 1000)]` on `maxUseCount`).
fn validate(req: &LinkRequest) -> ApiResult<()> {
    let mut errors = Vec::new();
    if req.title.as_deref().is_some_and(|t| dotnet_len(t) > 255) {
        errors.push((
            "Title".to_string(),
            "The field Title must be a string with a maximum length of 255.".to_string(),
        ));
    }
    if req.password.as_deref().is_some_and(|p| dotnet_len(p) > 255) {
        errors.push((
            "Password".to_string(),
            "The field Password must be a string with a maximum length of 255.".to_string(),
        ));
    }
    if req.maxusecount.is_some_and(|m| !(1..=1000).contains(&m)) {
        errors.push((
            "MaxUseCount".to_string(),
            "The field MaxUseCount must be between 1 and 1000.".to_string(),
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

fn room_id(raw: &str) -> ApiResult<i64> {
    raw.parse::<i64>().map_err(|_| not_found())
}

/// The furthest expiry the server takes (`now + MaxLinkLifeTimeInYears`).
fn latest_expiry(now: DateTime<Utc>) -> DateTime<Utc> {
    now.checked_add_months(Months::new(12 * rules::LINK_MAX_YEARS as u32))
        .unwrap_or(now)
}

pub async fn set(State(app): State<Shared>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let id = room_id(&id)?;
    let req: LinkRequest = parse_body(&body)?;
    validate(&req)?;
    let requested_kind = link_type(req.linktype.as_ref())?;
    let link_id = link_id(req.linkid.as_deref())?;
    let access = req.access.unwrap_or(access::NONE);
    let expiration = expiry(req.expirationdate.as_ref())?;
    app.write(|s| {
        let now = Utc::now();
        let room = s.room(id).ok_or_else(not_found)?;
        if room.archived {
            return Err(ApiError::Security);
        }
        let room_type = room.room_type;
        let existing = (!link_id.is_nil())
            .then(|| room.links.iter().find(|l| l.id == link_id).cloned())
            .flatten();
        // The options the service builds for the requested kind of link.
        let mut wanted = match requested_kind {
            LinkKind::Invitation => {
                // `SetInvitationLinkAsync` keeps the use count only when the request carries
                // `maxUseCount`; without it the rebuilt link starts again from 0.
                let current = match req.maxusecount {
                    Some(_) => existing.as_ref().map_or(0, |l| l.current_use_count),
                    None => 0,
                };
                invitation_link(&req, link_id, current, expiration, now)?
            }
            _ => external_link(&req, link_id, expiration, now)?,
        };
        // `SetAceObjectAsync`: an existing link keeps its kind.
        if let Some(old) = &existing {
            wanted.kind = old.kind;
        }
        let kind = wanted.kind;
        if !rules::link_roles(room_type, kind).contains(&access) {
            return Err(ApiError::InvalidOperation(ROLE_NOT_AVAILABLE.to_string()));
        }
        if kind == LinkKind::PrimaryExternal && matches!(room_type, 6 | 1) {
            wanted.expiration = None;
        }
        restrict(
            s.policy.links_restricted,
            room_type,
            access,
            &mut wanted,
            existing.as_ref(),
        )?;
        if let Some(old) = &existing
            && is_frozen(room_type, old, &wanted)
        {
            // The server skips the whole change and answers with the link as it was.
            let room = s.room(id).ok_or_else(not_found)?;
            return Ok(Reply::new(render::link(room, old, now, true)));
        }
        if kind.is_external() {
            wanted.internal = match room_type {
                8 => true,
                6 => false,
                _ => wanted.internal,
            };
        }
        if access != access::NONE
            && let Some(password) = wanted.password()
            && !(rules::link_password_ok(&password) && s.policy.password_ok(&password))
        {
            return Err(ApiError::Argument(s.policy.password_rule()));
        }
        match existing {
            None => add_link(s, id, room_type, wanted, now),
            Some(old) if access == access::NONE => revoke_link(s, id, room_type, &old, now),
            Some(old) => replace_link(s, id, &old, wanted, now),
        }
    })
    .await
}

/// The portal's link restriction (`restricted`), before the existing link is compared.
/// `ResolveRequiredAuthAsync`: a public room refuses an external link that is not asked
/// internal, and any other room gets it internal (docs/docspace-api.md, "Portal link
/// policies"); `CheckPrimaryLinkRevokeAsync`: a primary link of a public room, or a
/// form-filling room's that is not internal, cannot be revoked.
fn restrict(
    restricted: bool,
    room_type: i64,
    access: i64,
    wanted: &mut Link,
    existing: Option<&Link>,
) -> ApiResult<()> {
    if !restricted {
        return Ok(());
    }
    let kind = wanted.kind;
    if kind.is_external() && access != access::NONE {
        if room_type == 6 && !wanted.internal {
            return Err(ApiError::Security);
        }
        wanted.internal = true;
    }
    if kind == LinkKind::PrimaryExternal
        && access == access::NONE
        && existing.is_some_and(|old| room_type == 6 || (room_type == 1 && !old.internal))
    {
        return Err(ApiError::Security);
    }
    Ok(())
}

/// The `linkId` of a request: nil when absent or empty (a new link), else a GUID.
fn link_id(text: Option<&str>) -> ApiResult<Uuid> {
    match text.map(str::trim) {
        None | Some("") => Ok(Uuid::nil()),
        Some(text) => Uuid::parse_str(text).map_err(|_| {
            ApiError::validation(
                "linkId",
                format!("The JSON value '{text}' could not be converted to System.Guid."),
            )
        }),
    }
}

/// The invitation link `SetInvitationLinkAsync` builds from the request: refuses a use limit
/// below the link's `current` use count and an expiry in the past or too far ahead.
fn invitation_link(
    req: &LinkRequest,
    link_id: Uuid,
    current: i64,
    expiration: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> ApiResult<Link> {
    if req.maxusecount.is_some_and(|max| max < current) {
        return Err(argument("maxUseCount"));
    }
    if let Some(at) = expiration
        && (at < now || at > latest_expiry(now))
    {
        return Err(argument("expirationDate"));
    }
    Ok(Link {
        id: link_id,
        kind: LinkKind::Invitation,
        access: req.access.unwrap_or(access::NONE),
        title: non_empty(req.title.as_deref())
            .unwrap_or(rules::DEFAULT_INVITATION_LINK_TITLE)
            .to_string(),
        expiration,
        internal: false,
        deny_download: false,
        password_key: None,
        max_use_count: req.maxusecount,
        current_use_count: current,
    })
}

/// The external link `SetExternalLinkAsync` builds from the request.
fn external_link(
    req: &LinkRequest,
    link_id: Uuid,
    expiration: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> ApiResult<Link> {
    // A past expiry is dropped, not refused (`SetExternalLinkAsync` only keeps a
    // future one); too far ahead is refused.
    let expiration = expiration.filter(|at| *at > now);
    if expiration.is_some_and(|at| at > latest_expiry(now)) {
        return Err(argument("expirationDate"));
    }
    let password = req
        .password
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    Ok(Link {
        id: link_id,
        kind: LinkKind::External,
        access: req.access.unwrap_or(access::NONE),
        title: non_empty(req.title.as_deref())
            .unwrap_or(rules::DEFAULT_EXTERNAL_LINK_TITLE)
            .to_string(),
        expiration,
        internal: req.internal.unwrap_or(false),
        deny_download: req.denydownload.unwrap_or(false),
        password_key: password.map(Link::password_key_for),
        max_use_count: None,
        current_use_count: 0,
    })
}

/// Whether the change touches an option the room type keeps as it is: `internal` in public
/// and virtual data rooms, the expiry of external links in form-filling rooms.
fn is_frozen(room_type: i64, old: &Link, wanted: &Link) -> bool {
    let internal_changed = old.internal != wanted.internal;
    let expiry_changed = old.expiration != wanted.expiration;
    (internal_changed && !rules::can_edit_link_internal(room_type))
        || (expiry_changed
            && wanted.kind != LinkKind::Invitation
            && !rules::can_edit_link_expiration(room_type))
}

/// Adds a link the room does not hold yet, within the per-kind limit (checked also for a
/// revoke of an unknown link, which then answers `null`).
fn add_link(
    s: &mut PortalState,
    id: i64,
    room_type: i64,
    mut wanted: Link,
    now: DateTime<Utc>,
) -> ApiResult {
    let room = s.room_mut(id).ok_or_else(not_found)?;
    let kind = wanted.kind;
    let limit = rules::link_limit(room_type, kind);
    let held = room.links.iter().filter(|l| l.kind == kind).count();
    if held >= limit {
        return Err(ApiError::InvalidOperation(format!(
            "The maximum number of links may not exceed {limit}"
        )));
    }
    if wanted.access == access::NONE {
        // Nothing to revoke: the server finds no link to answer with.
        return Ok(Reply::new(Value::Null));
    }
    if wanted.id.is_nil() {
        wanted.id = Uuid::new_v4();
    }
    room.links.push(wanted.clone());
    room.updated = now;
    let room = s.room(id).ok_or_else(not_found)?;
    Ok(Reply::new(render::link(room, &wanted, now, true)))
}

/// Revokes a link (`null`); the primary link of a public or form-filling room is replaced
/// at once by a fresh default one, which is the answer.
fn revoke_link(
    s: &mut PortalState,
    id: i64,
    room_type: i64,
    old: &Link,
    now: DateTime<Utc>,
) -> ApiResult {
    let room = s.room_mut(id).ok_or_else(not_found)?;
    room.links.retain(|l| l.id != old.id);
    room.updated = now;
    if old.kind == LinkKind::PrimaryExternal && matches!(room_type, 6 | 1) {
        // Public and form-filling rooms always have a primary link: a fresh default
        // one replaces it at once, and that is the answer (without `requestToken`,
        // since its id differs from the one asked for).
        let fresh = default_primary_link(room_type);
        room.links.insert(0, fresh.clone());
        let room = s.room(id).ok_or_else(not_found)?;
        return Ok(Reply::new(render::link(room, &fresh, now, false)));
    }
    Ok(Reply::new(Value::Null))
}

/// Replaces every option of an existing link with the requested ones, keeping its id.
fn replace_link(
    s: &mut PortalState,
    id: i64,
    old: &Link,
    mut wanted: Link,
    now: DateTime<Utc>,
) -> ApiResult {
    let room = s.room_mut(id).ok_or_else(not_found)?;
    wanted.id = old.id;
    if let Some(slot) = room.links.iter_mut().find(|l| l.id == old.id) {
        *slot = wanted.clone();
    }
    room.updated = now;
    let room = s.room(id).ok_or_else(not_found)?;
    Ok(Reply::new(render::link(room, &wanted, now, true)))
}

fn non_empty(text: Option<&str>) -> Option<&str> {
    text.filter(|t| !t.is_empty())
}

/// The primary link the server makes for a new public room (`Shared link`, read) or
/// form-filling room (`Link to fill out`, fill forms), and again when it is revoked.
pub fn default_primary_link(room_type: i64) -> Link {
    let (title, access) = if room_type == 1 {
        (rules::FILL_OUT_LINK_TITLE, access::FILL_FORMS)
    } else {
        (rules::DEFAULT_EXTERNAL_LINK_TITLE, access::READ)
    };
    Link {
        id: Uuid::new_v4(),
        kind: LinkKind::PrimaryExternal,
        access,
        title: title.to_string(),
        expiration: None,
        internal: false,
        deny_download: false,
        password_key: None,
        max_use_count: None,
        current_use_count: 0,
    }
}

/// `GET /files/rooms/{id}/links[?type=0|1]`: the room's links (all, invitation only, or
/// external only, primary included), in creation order, at most 100, with the envelope count.
pub async fn list(State(app): State<Shared>, Path(id): Path<String>, uri: Uri) -> ApiResult {
    let id = room_id(&id)?;
    let params = Params::from_query(uri.query());
    let wanted =
        match params.text("type") {
            None => None,
            Some(t) => Some(link_type(Some(&Value::String(t.to_string()))).map_err(|_| {
                ApiError::validation("type", format!("The value '{t}' is not valid."))
            })?),
        };
    app.read(|s| {
        let room: &Room = s.room(id).ok_or_else(not_found)?;
        if !super::room_access::can_read_room(s, room) {
            // Unreadable: an empty list (`room_access`).
            return Ok(Reply::new(Value::Array(Vec::new())).count(0));
        }
        let now = Utc::now();
        let rows: Vec<Value> = room
            .links
            .iter()
            .filter(|l| match wanted {
                None => true,
                Some(LinkKind::Invitation) => l.kind == LinkKind::Invitation,
                Some(_) => l.kind.is_external(),
            })
            .take(100)
            .map(|l| render::link(room, l, now, true))
            .collect();
        let count = rows.len() as i64;
        Ok(Reply::new(Value::Array(rows)).count(count))
    })
    .await
}
