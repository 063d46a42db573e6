//! `POST /api/2.0/files/rooms/{id}/resend` (`VirtualRoomsController.ResendEmailInvitations`
//! -> `FileStorageService.ResendEmailInvitationsAsync`; body `UserInvitation`:
//! `{usersIds, resendAll}`): sends the room's invitation email again, the same email the
//! share call sent (`StudioNotifyService.SendEmailRoomInviteAsync`, with a link that joins
//! this room with the member's access), written on the sandbox side from the server source.
//!
//! The server's rules, as emulated:
//! - no `usersIds` (or an empty list) and no `resendAll`: nothing at all, 200 (a body with
//!   `userIds`, the people route's spelling, binds nothing and is this silent no-op);
//! - the room must exist (404) and the caller must be able to edit it (`CanEditRoomAsync`:
//!   403 `You don't have enough permission to perform the operation`), which no one can
//!   while the room is archived;
//! - with `usersIds`: every listed user with a share in the room is mailed, active members
//!   too (`GetPureSharesAsync(room, usersIds)` filters nothing else); with `resendAll`: every
//!   pending user member;
//! - a member the caller may not see is skipped (`CanUserViewAnotherUserAsync`: a DocSpace
//!   admin sees everyone, a user or guest no one else, a room admin everyone but guests
//!   outside its relations, here the guests it did not invite);
//! - the answer is empty (`Task`): it never says who was mailed. The sandbox records each
//!   email in the state's `room_resends` (per room, per user: count and last time) so tests
//!   can;
//! - under the `SensitiveApi` rate-limit policy, partitioned per user and path, so each
//!   room's route has its own window.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use super::Shared;
use super::envelope::{ApiError, ApiResult, FOLDER_NOT_FOUND, Reply, parse_body};
use super::rules::{UserType, access};
use super::state::{ACTIVATION_PENDING, PortalState, Resend, User};

/// `FilesCommonResource.ErrorMessage_SecurityException`.
const SECURITY_MESSAGE: &str = "You don't have enough permission to perform the operation";

#[derive(Debug, Default, Deserialize)]
struct UserInvitation {
    usersids: Option<Vec<Uuid>>,
    resendall: Option<bool>,
}

/// `CanEditRoomAsync` as far as the sandbox models rights: a DocSpace admin (the owner
/// included), the room's creator, or a room manager of the room; no one for a room in the
/// Archive (`FileSecurity`: the Archive root allows reads, copies, moves, downloads and
/// deletion only, never `EditRoom`).
fn can_edit_room(s: &PortalState, caller: &User, room_id: i64) -> bool {
    let Some(room) = s.room(room_id) else {
        return false;
    };
    if room.archived {
        return false;
    }
    caller.is_owner
        || caller.user_type == UserType::DocSpaceAdmin
        || room.created_by == caller.id
        || room
            .shares
            .iter()
            .any(|sh| !sh.is_group && sh.subject == caller.id && sh.access == access::ROOM_MANAGER)
}

/// `UserManager.CanUserViewAnotherUserAsync` (`common/ASC.Core.Common/Users/UserExtensions.cs`);
/// the relations of a room admin are the guests it invited.
fn can_view(caller: &User, user: &User) -> bool {
    if caller.id == user.id || caller.is_owner || caller.user_type == UserType::DocSpaceAdmin {
        return true;
    }
    match caller.user_type {
        UserType::User | UserType::Guest => false,
        _ if user.user_type == UserType::Guest => user.invited_by == Some(caller.id),
        _ => true,
    }
}

/// The users the route mails for this request, in the room's share order.
fn recipients(s: &PortalState, caller: &User, room_id: i64, req: &UserInvitation) -> Vec<Uuid> {
    let Some(room) = s.room(room_id) else {
        return Vec::new();
    };
    let all = req.resendall.unwrap_or(false);
    let listed = req.usersids.clone().unwrap_or_default();
    room.shares
        .iter()
        .filter(|sh| !sh.is_group && sh.access != access::NONE)
        .filter_map(|sh| s.user(sh.subject))
        .filter(|u| {
            if all {
                u.activation_status == ACTIVATION_PENDING
            } else {
                listed.contains(&u.id)
            }
        })
        .filter(|u| can_view(caller, u))
        .map(|u| u.id)
        .collect()
}

pub async fn resend(State(app): State<Shared>, Path(id): Path<String>, body: Bytes) -> Response {
    let path = format!("/api/2.0/files/rooms/{id}/resend");
    if let Some(limited) = app.faults.admit_sensitive(&path, std::time::Instant::now()) {
        return limited;
    }
    let result: ApiResult = async {
        let req: UserInvitation = parse_body(&body)?;
        let all = req.resendall.unwrap_or(false);
        if !all && req.usersids.as_ref().is_none_or(Vec::is_empty) {
            return Ok(Reply::new(Value::Null));
        }
        let not_found = || ApiError::NotFound(FOLDER_NOT_FOUND.to_string());
        let room_id: i64 = id.parse().map_err(|_| not_found())?;
        app.write(|s| {
            s.room(room_id).ok_or_else(not_found)?;
            let caller = s.user(s.key_user).cloned().ok_or(ApiError::Security)?;
            if !can_edit_room(s, &caller, room_id) {
                return Err(ApiError::InvalidOperation(SECURITY_MESSAGE.to_string()));
            }
            let now = Utc::now();
            for user in recipients(s, &caller, room_id, &req) {
                let entry = s
                    .room_resends
                    .entry(room_id)
                    .or_default()
                    .entry(user)
                    .or_insert(Resend {
                        count: 0,
                        last: now,
                    });
                entry.count += 1;
                entry.last = now;
            }
            Ok(Reply::new(Value::Null))
        })
        .await
    }
    .await;
    match result {
        Ok(reply) => reply.into_response(),
        Err(e) => e.into_response(),
    }
}
