//! Portal groups (docs/docspace-api.md, "Groups"), written from
//! `products/ASC.People/Server/Api/GroupsController.cs` and `UserManager`'s group methods.
//!
//! The server has no transactions here either: each member is added or removed on its own, so
//! a request refused half-way keeps what it did before the refusal ([`super::App::write`]
//! saves whatever the handler changed, error or not).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use super::Shared;
use super::envelope::{ApiError, ApiResult, Params, Reply, USER_NOT_FOUND, dotnet_len, parse_body};
use super::people_rules::{self, Actor, GROUP_NAME_MAX_UNITS};
use super::render;
use super::rules::UserType;
use super::state::{Group, PortalState, STATUS_TERMINATED};

/// `Resource.ErrorGroupNotFound`.
pub const GROUP_NOT_FOUND: &str = "The group could not be found";

fn group_not_found() -> ApiError {
    ApiError::NotFound(GROUP_NOT_FOUND.to_string())
}

/// The key's user as an actor; a key whose user is gone is refused like an unknown user.
pub(crate) fn caller(s: &PortalState) -> ApiResult<(Uuid, Actor)> {
    let user = s
        .user(s.key_user)
        .ok_or_else(|| ApiError::NotFound(USER_NOT_FOUND.to_string()))?;
    Ok((user.id, user.actor()))
}

/// `DemandPermissionsAsync(Action_EditGroups, Action_AddRemoveUser)`: DocSpace admins only.
fn demand_edit(s: &PortalState) -> ApiResult<()> {
    let (_, actor) = caller(s)?;
    if people_rules::may_edit_groups(actor) {
        Ok(())
    } else {
        Err(ApiError::Security)
    }
}

/// `DemandPermissionsAsync(Action_ReadGroups)`: DocSpace and room admins.
fn demand_read(s: &PortalState) -> ApiResult<()> {
    let (_, actor) = caller(s)?;
    if people_rules::may_read_groups(actor) {
        Ok(())
    } else {
        Err(ApiError::Security)
    }
}

/// `GroupController.ValidateUserAsync`: an existing account, not terminated, not a guest
/// (pending accounts qualify).
fn valid_member(s: &PortalState, id: Uuid) -> bool {
    !id.is_nil()
        && s.user(id)
            .is_some_and(|u| u.status != STATUS_TERMINATED && u.user_type != UserType::Guest)
}

/// `GetGroupInfoAsync`: the group or 404.
fn group_index(s: &PortalState, id: &str) -> ApiResult<usize> {
    let id = Uuid::parse_str(id).map_err(|_| group_not_found())?;
    s.groups
        .iter()
        .position(|g| g.id == id)
        .ok_or_else(group_not_found)
}

/// `TransferUserToDepartmentAsync`: skips an invalid user silently; else (as manager: replaces
/// the manager, the old one stays a member) adds them as a member, which demands
/// `Action_EditGroups` *after* the manager was set.
fn transfer(s: &mut PortalState, at: usize, user: Uuid, as_manager: bool) -> ApiResult<()> {
    if !valid_member(s, user) {
        return Ok(());
    }
    if as_manager {
        s.groups[at].manager = Some(user);
    }
    demand_edit(s)?;
    let group = &mut s.groups[at];
    if !group.members.contains(&user) {
        group.members.push(user);
    }
    Ok(())
}

/// `RemoveUserFromDepartmentAsync`: unknown users are skipped; removing the manager also
/// clears the manager (`UserManager.RemoveUserFromGroupAsync`).
fn remove_member(s: &mut PortalState, at: usize, user: Uuid) -> ApiResult<()> {
    if user.is_nil() || s.user(user).is_none() {
        return Ok(());
    }
    demand_edit(s)?;
    let group = &mut s.groups[at];
    group.members.retain(|m| *m != user);
    if group.manager == Some(user) {
        group.manager = None;
    }
    Ok(())
}

/// The answer of every group write: `GroupDto` with members (`GetGroup`, `includeMembers`
/// defaults to true), after the `Action_ReadGroups` check that `GetGroup` makes.
fn answer(s: &PortalState, at: usize) -> ApiResult {
    demand_read(s)?;
    Ok(Reply::new(render::group(s, &s.groups[at], true)))
}

/// ASP.NET's `[StringLength]` message for the group name.
fn name_too_long(min_one: bool) -> ApiError {
    let text = if min_one {
        format!(
            "The field GroupName must be a string with a minimum length of 1 and a maximum length of {GROUP_NAME_MAX_UNITS}."
        )
    } else {
        format!(
            "The field GroupName must be a string with a maximum length of {GROUP_NAME_MAX_UNITS}."
        )
    };
    ApiError::validation("GroupName", text)
}

#[derive(Debug, Deserialize)]
struct CreateRequest {
    /// Absent is a binding error (`required`); `null` reaches the handler.
    #[serde(default, deserialize_with = "present")]
    groupname: Option<Option<String>>,
    groupmanager: Option<Uuid>,
    members: Option<Vec<Uuid>>,
}

/// Tells an absent field (`None`, via `default`) from an explicit `null` (`Some(None)`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Ok(Some(Option::<String>::deserialize(d)?))
}

/// `POST /group` (`GroupController.AddGroup`).
pub async fn create(State(app): State<Shared>, body: Bytes) -> ApiResult {
    let req: CreateRequest = parse_body(&body)?;
    let Some(name) = req.groupname else {
        return Err(ApiError::validation(
            "$",
            "JSON deserialization for type 'ASC.People.ApiModels.RequestDto.GroupRequestDto' was missing required properties including: 'groupName'.",
        ));
    };
    if name
        .as_deref()
        .is_some_and(|n| n.is_empty() || dotnet_len(n) > GROUP_NAME_MAX_UNITS)
    {
        return Err(name_too_long(true));
    }
    app.write(|s| {
        demand_edit(s)?;
        let name = match name {
            None => {
                return Err(ApiError::Argument(
                    "Value cannot be null. (Parameter 'inDto.GroupName')".to_string(),
                ));
            }
            Some(n) if n.trim().is_empty() => {
                return Err(ApiError::Argument(
                    "The value cannot be an empty string or composed entirely of whitespace. (Parameter 'inDto.GroupName')".to_string(),
                ));
            }
            Some(n) => n,
        };
        let manager = req.groupmanager.filter(|m| !m.is_nil());
        let members = req.members.unwrap_or_default();
        // Every member and the manager are checked before anything is made: one guest,
        // terminated or unknown id refuses the whole request.
        if members.iter().chain(manager.iter()).any(|id| !valid_member(s, *id)) {
            return Err(ApiError::Argument(USER_NOT_FOUND.to_string()));
        }
        s.groups.push(Group {
            id: Uuid::new_v4(),
            name,
            manager: None,
            members: Vec::new(),
        });
        let at = s.groups.len() - 1;
        if let Some(m) = manager {
            transfer(s, at, m, true)?;
        }
        for m in members {
            transfer(s, at, m, false)?;
        }
        Ok(Reply::new(render::group(s, &s.groups[at], true)))
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
struct UpdateRequest {
    groupname: Option<String>,
    groupmanager: Option<Uuid>,
    memberstoadd: Option<Vec<Uuid>>,
    memberstoremove: Option<Vec<Uuid>>,
}

/// `PUT /group/{id}` (`GroupController.UpdateGroup`): name (`null` keeps it, `""` empties
/// it), then the manager (an invalid or absent one is skipped), then additions (guests and
/// unknown ids skipped silently), then removals.
pub async fn update(State(app): State<Shared>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let req: UpdateRequest = parse_body(&body)?;
    if req
        .groupname
        .as_deref()
        .is_some_and(|n| dotnet_len(n) > GROUP_NAME_MAX_UNITS)
    {
        return Err(name_too_long(false));
    }
    app.write(|s| {
        demand_edit(s)?;
        let at = group_index(s, &id)?;
        if let Some(name) = req.groupname {
            s.groups[at].name = name;
        }
        transfer(s, at, req.groupmanager.unwrap_or_default(), true)?;
        for m in req.memberstoadd.unwrap_or_default() {
            transfer(s, at, m, false)?;
        }
        for m in req.memberstoremove.unwrap_or_default() {
            remove_member(s, at, m)?;
        }
        answer(s, at)
    })
    .await
}

/// `DELETE /group/{id}` (`GroupController.DeleteGroup`): 204 with no body (a
/// `NoContentResult` escapes the response wrapper); the group's shares go too
/// (`FileSecurity.RemoveSubjectAsync`).
pub async fn delete(State(app): State<Shared>, Path(id): Path<String>) -> Response {
    let result = app
        .write(|s| {
            demand_edit(s)?;
            let at = group_index(s, &id)?;
            let gone = s.groups.remove(at).id;
            for room in &mut s.rooms {
                room.shares
                    .retain(|sh| !(sh.is_group && sh.subject == gone));
            }
            Ok(())
        })
        .await;
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Default, Deserialize)]
struct MembersRequest {
    members: Option<Vec<Uuid>>,
}

/// LINQ over a missing list: `ArgumentNullException`, answered 400.
fn null_source() -> ApiError {
    ApiError::Argument("Value cannot be null. (Parameter 'source')".to_string())
}

/// `PUT /group/{id}/members` (`AddMembersTo`): adds the valid ones, skips the rest silently.
pub async fn add_members(
    State(app): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let req: MembersRequest = parse_body(&body)?;
    app.write(|s| {
        demand_edit(s)?;
        let at = group_index(s, &id)?;
        // `foreach` over a null list.
        let members = req.members.ok_or_else(|| {
            ApiError::Internal("Object reference not set to an instance of an object.".into())
        })?;
        for m in members {
            transfer(s, at, m, false)?;
        }
        answer(s, at)
    })
    .await
}

/// `POST /group/{id}/members` (`SetMembersTo`): replaces the members. At least one listed
/// user must be valid (else 400 `Members`, checked before any permission); then every current
/// member is removed, the manager included, so the group is left **without a manager**; then
/// the list is added (guests skipped).
pub async fn set_members(
    State(app): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let req: MembersRequest = parse_body(&body)?;
    app.write(|s| {
        let members = req.members.ok_or_else(null_source)?;
        if !members.iter().any(|m| valid_member(s, *m)) {
            return Err(ApiError::Argument("Members".to_string()));
        }
        demand_edit(s)?;
        let at = group_index(s, &id)?;
        for m in s.groups[at].members.clone() {
            remove_member(s, at, m)?;
        }
        for m in members {
            transfer(s, at, m, false)?;
        }
        answer(s, at)
    })
    .await
}

/// `DELETE /group/{id}/members` (`RemoveMembersFrom`): no list removes nobody.
pub async fn remove_members(
    State(app): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let req: MembersRequest = parse_body(&body)?;
    app.write(|s| {
        demand_edit(s)?;
        let at = group_index(s, &id)?;
        for m in req.members.unwrap_or_default() {
            remove_member(s, at, m)?;
        }
        answer(s, at)
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
struct ManagerRequest {
    userid: Option<Uuid>,
}

/// `PUT /group/{id}/manager` (`SetGroupManager`): **no permission check before the change**.
/// The group must exist (404), the user too (404 `The user could not be found`); a guest or
/// terminated user is skipped silently; otherwise the manager is replaced and only then is
/// adding them as a member checked (`Action_EditGroups`): a caller who is not a DocSpace
/// admin gets a 403 with the manager already changed (and not made a member).
pub async fn set_manager(
    State(app): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let req: ManagerRequest = parse_body(&body)?;
    app.write(|s| {
        let at = group_index(s, &id)?;
        let user = req.userid.unwrap_or_default();
        if user.is_nil() || s.user(user).is_none() {
            return Err(ApiError::NotFound(USER_NOT_FOUND.to_string()));
        }
        transfer(s, at, user, true)?;
        answer(s, at)
    })
    .await
}

/// `GET /group`: case-insensitive substring on the name; envelope
/// `count = min(max(total - startIndex, 0), count)` and `total` (docs/docspace-api.md,
/// "Response envelopes"). Users and guests are refused (`Action_ReadGroups`).
pub async fn list(State(app): State<Shared>, uri: Uri) -> ApiResult {
    let params = Params::from_query(uri.query());
    let (start, count) = params.paging()?;
    let filter = params.text("filterValue").map(str::to_lowercase);
    let descending = params.int("sortOrder")?.unwrap_or(0) == 1;
    app.read(|s| {
        demand_read(s)?;
        let mut groups: Vec<_> = s
            .groups
            .iter()
            .filter(|g| {
                filter
                    .as_ref()
                    .is_none_or(|f| g.name.to_lowercase().contains(f))
            })
            .collect();
        groups.sort_by_key(|g| (g.name.to_lowercase(), g.id));
        if descending {
            groups.reverse();
        }
        let total = groups.len() as i64;
        let page: Vec<Value> = groups
            .into_iter()
            .skip(start as usize)
            .take(count as usize)
            .map(|g| render::group(s, g, false))
            .collect();
        Ok(Reply::new(Value::Array(page))
            .count((total - start).max(0).min(count))
            .total(total))
    })
    .await
}

/// `GET /group/{id}`: members are included unless `includeMembers=false`
/// (`DetailedInformationRequestDto.IncludeMembers` defaults to true).
pub async fn get_one(State(app): State<Shared>, Path(id): Path<String>, uri: Uri) -> ApiResult {
    let params = Params::from_query(uri.query());
    let include = match params.text("includeMembers") {
        None => true,
        Some(_) => params.bool("includeMembers")?,
    };
    app.read(|s| {
        demand_read(s)?;
        let at = group_index(s, &id)?;
        Ok(Reply::new(render::group(s, &s.groups[at], include)))
    })
    .await
}
