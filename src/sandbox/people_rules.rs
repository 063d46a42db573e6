//! Server rules on user types, invitations and groups, written on the sandbox side from the
//! DocSpace server source (hotfix 3.7.2), never from the client's model (see `rules.rs` for
//! why). docs/docspace-api.md, "Groups" and "People and user types", lists each with its file.

use super::rules::UserType;

/// `[StringLength(128, MinimumLength = 1)]` on `GroupRequestDto.GroupName` (create) and
/// `[StringLength(128)]` on `UpdateGroupRequest.GroupName` (update, no minimum), counted in
/// UTF-16 code units like every .NET string length.
pub const GROUP_NAME_MAX_UNITS: usize = 128;

/// `EmployeeType` wire values (`common/ASC.Core.Common/Core/EmployeeType.cs`): RoomAdmin 1,
/// Guest 2, DocSpaceAdmin 3, User 4 (0 is `All`, not a type a user can have).
pub fn type_wire(t: UserType) -> i64 {
    match t {
        UserType::RoomAdmin => 1,
        UserType::Guest => 2,
        UserType::DocSpaceAdmin => 3,
        UserType::User => 4,
    }
}

/// An `EmployeeType` as the server binds it: the number, or the enum name ignoring case
/// (`JsonStringEnumConverter` in bodies, the enum type converter in routes). `All` (0) and
/// numbers outside the enum are `None`: the sandbox refuses them with a 400 (a guess: the
/// server would bind them and fail later in ways not emulated).
pub fn parse_type(text: &str) -> Option<UserType> {
    let text = text.trim();
    if let Ok(n) = text.parse::<i64>() {
        return [
            UserType::RoomAdmin,
            UserType::Guest,
            UserType::DocSpaceAdmin,
            UserType::User,
        ]
        .into_iter()
        .find(|t| type_wire(*t) == n);
    }
    match text.to_ascii_lowercase().as_str() {
        "roomadmin" => Some(UserType::RoomAdmin),
        "guest" => Some(UserType::Guest),
        "docspaceadmin" => Some(UserType::DocSpaceAdmin),
        "user" => Some(UserType::User),
        _ => None,
    }
}

/// `EmployeeTypeComparer`: DocSpaceAdmin 4 > RoomAdmin 3 > User 2 > Guest 1.
pub fn type_rank(t: UserType) -> u8 {
    match t {
        UserType::DocSpaceAdmin => 4,
        UserType::RoomAdmin => 3,
        UserType::User => 2,
        UserType::Guest => 1,
    }
}

/// Whether a type takes a paid seat: `CountPaidUserStatistic` counts the virtual
/// `GroupRoomAdmin`, i.e. everyone who is neither a guest nor a user (room admins, DocSpace
/// admins, the owner) (`web/ASC.Web.Core/Quota/CountRoomAdminFeature.cs`,
/// `UserManager.IsUserInGroupInternal`).
pub fn is_paid(t: UserType) -> bool {
    matches!(t, UserType::DocSpaceAdmin | UserType::RoomAdmin)
}

/// Who is acting: their type (the owner is a DocSpace admin) and whether they own the portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub user_type: UserType,
    pub is_owner: bool,
}

/// `Action_AddRemoveUser` on a `UserSecurityProvider(type)` (`AzManager.CheckPermissionAsync`,
/// `SecurityObject.IsMatchDefaultRulesAsync`, `common/ASC.Core.Common/Security/Security.cs`):
/// DocSpace admins always; a room admin only for the types `User` and `Guest`; nobody else.
pub fn may_add_remove_user(actor: Actor, target_type: UserType) -> bool {
    match actor.user_type {
        UserType::DocSpaceAdmin => true,
        UserType::RoomAdmin => matches!(target_type, UserType::User | UserType::Guest),
        UserType::User | UserType::Guest => false,
    }
}

/// `Action_EditGroups` on a portal group (`UserGroupObject` has no target roles for a custom
/// group, and no ACL grants it): DocSpace admins only.
pub fn may_edit_groups(actor: Actor) -> bool {
    actor.user_type == UserType::DocSpaceAdmin
}

/// `Action_ReadGroups`: DocSpace admins (administrator always allowed) and room admins (the
/// ACL in `common/ASC.Core.Common/EF/Model/Core/Acl.cs` allows the RoomAdmin role and denies
/// `GroupUser`; guests get nothing).
pub fn may_read_groups(actor: Actor) -> bool {
    matches!(
        actor.user_type,
        UserType::DocSpaceAdmin | UserType::RoomAdmin
    )
}

/// `UserController.InviteUsers`, the switch on each invitation's type: a guest is never
/// invited through this route; a room admin only by a DocSpace admin; a DocSpace admin only
/// by the owner; a user by anyone who may call the route (room admins and up).
pub fn may_invite_as(actor: Actor, wanted: UserType) -> bool {
    match wanted {
        UserType::Guest => false,
        UserType::RoomAdmin => actor.user_type == UserType::DocSpaceAdmin,
        UserType::DocSpaceAdmin => actor.is_owner,
        UserType::User => true,
    }
}

/// The target of a type change, as `UserManagerWrapper.UpdateUserTypeAsync` sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub current: UserType,
    pub is_owner: bool,
    pub is_self: bool,
}

/// `UserManagerWrapper.UpdateUserTypeAsync`: whether the change happens (false = nothing
/// changed, which `PUT /people/type/{type}` answers with a 403).
/// - never for the owner, the caller themself, or when the caller is a guest;
/// - to DocSpace admin: only by the owner, from room admin, user or guest;
/// - to room admin: only by a DocSpace admin, from user or guest, and from DocSpace admin
///   when the caller is the owner (the one downgrade this route makes);
/// - to user: only from guest;
/// - to guest: never.
pub fn type_change_happens(actor: Actor, target: Target, wanted: UserType) -> bool {
    if target.is_owner || target.is_self || actor.user_type == UserType::Guest {
        return false;
    }
    match wanted {
        UserType::DocSpaceAdmin => actor.is_owner && target.current != UserType::DocSpaceAdmin,
        UserType::RoomAdmin => {
            actor.user_type == UserType::DocSpaceAdmin
                && match target.current {
                    UserType::DocSpaceAdmin => actor.is_owner,
                    UserType::User | UserType::Guest => true,
                    UserType::RoomAdmin => false,
                }
        }
        UserType::User => target.current == UserType::Guest,
        UserType::Guest => false,
    }
}

/// `UserManager.CanUserViewAnotherUserAsync`: yourself always; a DocSpace admin everyone; a
/// user or guest nobody else; a room admin everyone but guests they have no relation with.
pub fn can_view(actor: Actor, same: bool, target: UserType, related: bool) -> bool {
    if same {
        return true;
    }
    match actor.user_type {
        UserType::DocSpaceAdmin => true,
        UserType::User | UserType::Guest => false,
        UserType::RoomAdmin => target != UserType::Guest || related,
    }
}

/// A loose address check in the spirit of .NET's `[EmailAddress]` and the server's
/// `TestEmailRegex`: one `@` with text on both sides and no whitespace.
pub fn looks_like_email(email: &str) -> bool {
    let mut parts = email.split('@');
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some(local), Some(domain), None)
            if !local.is_empty() && !domain.is_empty() && !email.chars().any(char::is_whitespace)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWNER: Actor = Actor {
        user_type: UserType::DocSpaceAdmin,
        is_owner: true,
    };
    const ADMIN: Actor = Actor {
        user_type: UserType::DocSpaceAdmin,
        is_owner: false,
    };
    const ROOM_ADMIN: Actor = Actor {
        user_type: UserType::RoomAdmin,
        is_owner: false,
    };

    fn target(current: UserType) -> Target {
        Target {
            current,
            is_owner: false,
            is_self: false,
        }
    }

    #[test]
    fn types_parse_by_number_or_name() {
        assert_eq!(parse_type("3"), Some(UserType::DocSpaceAdmin));
        assert_eq!(parse_type("roomAdmin"), Some(UserType::RoomAdmin));
        assert_eq!(parse_type("0"), None);
        assert_eq!(parse_type("Owner"), None);
        for t in [
            UserType::RoomAdmin,
            UserType::Guest,
            UserType::DocSpaceAdmin,
            UserType::User,
        ] {
            assert_eq!(parse_type(&type_wire(t).to_string()), Some(t));
        }
    }

    #[test]
    fn type_changes_only_go_up_except_the_owner_demoting_an_admin() {
        let up = |a, from, to| type_change_happens(a, target(from), to);
        assert!(up(ADMIN, UserType::Guest, UserType::User));
        assert!(up(ROOM_ADMIN, UserType::Guest, UserType::User));
        assert!(up(ADMIN, UserType::User, UserType::RoomAdmin));
        assert!(!up(ADMIN, UserType::User, UserType::DocSpaceAdmin));
        assert!(up(OWNER, UserType::User, UserType::DocSpaceAdmin));
        assert!(!up(ADMIN, UserType::RoomAdmin, UserType::RoomAdmin));
        assert!(!up(ADMIN, UserType::RoomAdmin, UserType::User));
        assert!(!up(OWNER, UserType::User, UserType::Guest));
        assert!(!up(ADMIN, UserType::DocSpaceAdmin, UserType::RoomAdmin));
        assert!(up(OWNER, UserType::DocSpaceAdmin, UserType::RoomAdmin));
        let me = Target {
            is_self: true,
            ..target(UserType::RoomAdmin)
        };
        assert!(!type_change_happens(OWNER, me, UserType::DocSpaceAdmin));
    }

    #[test]
    fn room_admins_invite_users_only() {
        assert!(may_invite_as(ROOM_ADMIN, UserType::User));
        assert!(!may_invite_as(ROOM_ADMIN, UserType::RoomAdmin));
        assert!(may_invite_as(ADMIN, UserType::RoomAdmin));
        assert!(!may_invite_as(ADMIN, UserType::DocSpaceAdmin));
        assert!(may_invite_as(OWNER, UserType::DocSpaceAdmin));
        assert!(!may_invite_as(OWNER, UserType::Guest));
        assert!(may_add_remove_user(ROOM_ADMIN, UserType::Guest));
        assert!(!may_add_remove_user(ROOM_ADMIN, UserType::RoomAdmin));
    }
}
