//! How DocSpace decides one person's access to a room when several share rows reach them: a
//! share to the person and shares to groups they belong to (docs/docspace-api.md, "Effective
//! access"). Confirmed in `products/ASC.Files/Core/Core/Security/FileSecurity.cs`
//! (`GetCurrentShareAsync`: the rows are ordered by `OrderedSubjectComparer`, the person's
//! own subject before their groups (`GetUserOrderedSubjectsAsync`: "priority order User,
//! Group, admin, everyone"), then by `FileShareRecord.ShareComparer` over
//! `_roomShareOrder`), and the first row wins.

use super::Access;

/// `FileShareRecord.ShareComparer._roomShareOrder`: among rows of the same kind of subject
/// (several groups), the one earliest here decides.
pub const ROOM_SHARE_ORDER: [Access; 8] = [
    Access::None,
    Access::RoomManager,
    Access::ContentCreator,
    Access::Editing,
    Access::FillForms,
    Access::Review,
    Access::Comment,
    Access::Read,
];

/// Which share row decides a person's access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Winner {
    /// The share to the person: it wins over every group share, higher or lower.
    Direct,
    /// The share to the group at this index of the `groups` given.
    Group(usize),
}

/// The access that decides, and where it comes from: a direct share, whatever its level,
/// wins over group shares; among groups, the earliest level in [`ROOM_SHARE_ORDER`] (the
/// highest access) wins. `None` when nothing reaches the person.
pub fn winning(direct: Option<Access>, groups: &[Access]) -> Option<(Access, Winner)> {
    if let Some(access) = direct {
        return Some((access, Winner::Direct));
    }
    let position = |a: &Access| ROOM_SHARE_ORDER.iter().position(|o| o == a);
    groups
        .iter()
        .enumerate()
        .min_by_key(|(_, a)| position(a))
        .map(|(i, a)| (*a, Winner::Group(i)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_direct_share_wins_even_when_a_group_gives_more() {
        assert_eq!(
            winning(Some(Access::Read), &[Access::Editing]),
            Some((Access::Read, Winner::Direct))
        );
    }

    #[test]
    fn among_groups_the_highest_access_wins() {
        assert_eq!(
            winning(
                None,
                &[Access::Read, Access::ContentCreator, Access::Editing]
            ),
            Some((Access::ContentCreator, Winner::Group(1)))
        );
        assert_eq!(winning(None, &[]), None);
    }
}
