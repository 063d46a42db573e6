//! Which rooms the key user can see, as the server decides it (docs/sandbox.md, "Rooms a
//! non-admin key sees").
//!
//! `FileSecurity.GetVirtualRoomsAsync` (`products/ASC.Files/Core/Core/Security/FileSecurity.cs`):
//! a DocSpace admin (the owner included, `FileSecurityCommon.IsDocSpaceAdministratorAsync`)
//! lists every room (`GetAllVirtualRoomsAsync`); anyone else lists only the rooms
//! (`GetVirtualRoomsForMeAsync`) whose ids carry a share record for the user or one of their
//! groups, or that they created (`FolderDao.GetRoomsAsync`: `roomsIds.Contains(f.Id) ||
//! f.CreateBy == CurrentAccount.ID`). A single-room read of a room outside that set is refused
//! (`FileStorageService.GetFolderAsync`: `CanReadAsync` false -> `InvalidOperationException`,
//! 403 with its own message), and its share and link lists are empty with 200
//! (`FileSharing.GetPureSharesAsync` / `GetPureSharesCountAsync`: `yield break`, count 0).

use super::rules::UserType;
use super::state::{PortalState, Room, Share, ThirdPartyRoom};

/// `FilesCommonResource.ErrorMessage_SecurityException_ReadFolder`.
pub const READ_FOLDER_REFUSED: &str = "You don't have enough permission to view the folder content";

/// Whether the key user is a DocSpace admin (or the owner), who sees every room.
pub fn key_user_sees_all(s: &PortalState) -> bool {
    s.user(s.key_user)
        .is_some_and(|u| u.is_owner || u.user_type == UserType::DocSpaceAdmin)
}

/// Whether the key user can read `room`: an admin always; else its creator or a member,
/// directly or through a group.
pub fn can_read_room(s: &PortalState, room: &Room) -> bool {
    key_user_sees_all(s)
        || room.created_by == s.key_user
        || room.shares.iter().any(|sh| names_key_user(s, sh))
}

/// The same rule for a connected-storage room: it has no share records here, so only its
/// creator (absent: the key user, as `render::third_party_room` shows it) sees it.
pub fn can_read_third_party(s: &PortalState, room: &ThirdPartyRoom) -> bool {
    key_user_sees_all(s) || room.created_by.unwrap_or(s.key_user) == s.key_user
}

/// Whether a share record is for the key user or a group they belong to.
fn names_key_user(s: &PortalState, share: &Share) -> bool {
    if share.access == super::rules::access::NONE {
        return false;
    }
    if share.is_group {
        return s
            .group(share.subject)
            .is_some_and(|g| g.members.contains(&s.key_user));
    }
    share.subject == s.key_user
}
