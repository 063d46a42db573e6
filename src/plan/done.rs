//! Whether the portal, as read, shows an item done: the read-back after a share call, and
//! saved items of a saved plan that planning again no longer makes (see `plan::approve`). Pure: the reading is done by the caller.

use super::{Change, Item, Member, RoomPlan, RoomSettings, SettingChange, Target};
use crate::manifest::Quota;
use crate::model::{self, Access};
use crate::state::{MemberSubject, ObservedMember, ObservedRoom};

/// Who a member item is about, as the member list shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who<'a> {
    User(&'a str),
    Group(&'a str),
    /// A new guest, known only by email until the invitation creates the account.
    Email(&'a str),
}

/// A member item as the share call and the read-back need it: who, and the access to set
/// (`none` for a removal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberChange<'a> {
    pub who: Who<'a>,
    pub access: Access,
}

impl<'a> MemberChange<'a> {
    /// The member change of a member item; `None` for a room-level item.
    pub fn of(change: &'a Change) -> Option<MemberChange<'a>> {
        let (who, access) = match change {
            Change::Invite { target, access } => (target_who(target), *access),
            Change::ChangeAccess { target, access, .. } => (member_who(target), *access),
            Change::Remove { target, .. } => (member_who(target), Access::None),
            Change::CreateRoom { .. }
            | Change::Unarchive
            | Change::UpdateRoom { .. }
            | Change::Link(_)
            | Change::Archive
            | Change::ResendInvitation { .. }
            | Change::InvitePerson { .. }
            | Change::ChangeUserType { .. }
            | Change::CreateGroup { .. }
            | Change::UpdateGroup { .. }
            | Change::AddGroupMember { .. }
            | Change::RemoveGroupMember { .. } => return None,
        };
        Some(MemberChange { who, access })
    }

    /// Whether `members` (as read back) show the change done.
    pub fn shown_by(&self, members: &[ObservedMember]) -> bool {
        let row = members.iter().find(|m| {
            !m.is_owner
                && match (&m.subject, self.who) {
                    (MemberSubject::User(u), Who::User(id)) => u.id == id,
                    (MemberSubject::User(u), Who::Email(email)) => u.email == email.to_lowercase(),
                    (MemberSubject::Group(g), Who::Group(id)) => g.id == id,
                    _ => false,
                }
        });
        match self.access {
            Access::None => row.is_none(),
            access => row.is_some_and(|m| m.access == Some(access)),
        }
    }
}

fn target_who(t: &Target) -> Who<'_> {
    match t {
        Target::User {
            email,
            by_email: true,
            ..
        } => Who::Email(email),
        Target::User { id, .. } => Who::User(id),
        Target::Group { id, .. } => Who::Group(id),
        Target::NewGuest { email, .. } | Target::NewPerson { email } => Who::Email(email),
        // Resolved to its id before the room runs (see `apply::org`); never shown as is.
        Target::NewGroup { .. } => Who::Group(""),
    }
}

fn member_who(m: &Member) -> Who<'_> {
    match m {
        Member::User { id, .. } => Who::User(id),
        Member::Group { id, .. } => Who::Group(id),
    }
}

/// For a room of a saved plan whose fingerprint changed: which items the portal already
/// shows done (`live` is the room as re-read, `None` when it is gone). A plan applied before
/// has every item done; a room changed by hand some or none.
pub fn already_done(
    room: &RoomPlan,
    live: Option<(&ObservedRoom, &[ObservedMember])>,
) -> Vec<bool> {
    let Some((live, members)) = live else {
        return vec![false; room.items.len()];
    };
    if live.room_type != Some(room.room_type) {
        return vec![false; room.items.len()];
    }
    room.items
        .iter()
        .map(|item| item_done(room, item, live, members))
        .collect()
}

fn item_done(
    room: &RoomPlan,
    item: &Item,
    live: &ObservedRoom,
    members: &[ObservedMember],
) -> bool {
    match &item.change {
        Change::CreateRoom { settings, .. } => {
            model::title_matches(&live.title, settings.title.as_ref().unwrap_or(&room.title))
                && settings_shown(settings, live)
        }
        Change::UpdateRoom { changes } => settings_shown(&SettingChange::settings(changes), live),
        Change::Unarchive => !live.archived,
        Change::Archive => live.archived,
        // An email sent leaves nothing on the portal to read back.
        Change::ResendInvitation { .. } => false,
        Change::Invite { .. } | Change::ChangeAccess { .. } | Change::Remove { .. } => {
            MemberChange::of(&item.change).is_some_and(|m| m.shown_by(members))
        }
        // Links are not compared here: a saved link item that planning again does not make is
        // not known to be done, so it is reported stale rather than sent again.
        Change::Link(_) => false,
        // Portal items are not room items.
        Change::InvitePerson { .. }
        | Change::ChangeUserType { .. }
        | Change::CreateGroup { .. }
        | Change::UpdateGroup { .. }
        | Change::AddGroupMember { .. }
        | Change::RemoveGroupMember { .. } => false,
    }
}

/// Whether the live room shows every setting of `s`. A quota the portal does not report
/// (room quotas disabled: docs/docspace-api.md, "Reading a room") cannot be compared and
/// counts as shown, as in the planner.
fn settings_shown(s: &RoomSettings, live: &ObservedRoom) -> bool {
    unshown(s, live).is_empty()
}

/// The manifest keys of the settings of `s` that `live` (a room as read, or the answer of
/// the create or update that sent them) does not show: the portal ignored them. Used by
/// `apply` to check every create and update answer, as shares are read back.
pub fn unshown(s: &RoomSettings, live: &ObservedRoom) -> Vec<&'static str> {
    let shown = [
        (
            "title",
            s.title
                .as_ref()
                .is_none_or(|t| model::title_matches(&live.title, t)),
        ),
        (
            "tags",
            s.tags
                .as_ref()
                .is_none_or(|t| model::tags_match(t, &live.tags)),
        ),
        (
            "quota",
            s.quota
                .is_none_or(|q: Quota| live.quota.is_none_or(|l| l == q.wire())),
        ),
        (
            "deny_download",
            s.deny_download
                .is_none_or(|d| live.deny_download == Some(d)),
        ),
    ];
    shown
        .into_iter()
        .filter_map(|(key, shown)| (!shown).then_some(key))
        .chain(super::settings::unshown(s, live))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RoomType;
    use crate::plan::ItemKey;
    use crate::plan::{RemovalReason, RoomChange};
    use crate::state::{ObservedGroup, ObservedUser};

    fn member(subject: MemberSubject, access: Access) -> ObservedMember {
        ObservedMember {
            subject,
            access: Some(access),
            raw_access: access.wire(),
            is_owner: false,
            can_edit_access: true,
        }
    }

    fn user(id: &str, email: &str) -> MemberSubject {
        MemberSubject::User(ObservedUser {
            id: id.into(),
            email: email.into(),
            user_type: crate::model::UserType::Guest,
            pending: true,
            terminated: false,
            type_known: true,
            created: None,
            owner: false,
            invited_by: None,
        })
    }

    fn shown(change: Change, members: &[ObservedMember]) -> bool {
        MemberChange::of(&change).unwrap().shown_by(members)
    }

    #[test]
    fn read_back_matches_ids_emails_and_groups() {
        let members = vec![
            member(user("u1", "a@x.test"), Access::Editing),
            member(user("u2", "new@x.test"), Access::Read),
            member(
                MemberSubject::Group(ObservedGroup {
                    id: "g1".into(),
                    name: "G".into(),
                }),
                Access::Read,
            ),
        ];
        let u1 = Member::User {
            id: "u1".into(),
            email: "a@x.test".into(),
        };
        let invite = |target, access| Change::Invite { target, access };
        assert!(shown(invite(u1.clone().into(), Access::Editing), &members));
        assert!(!shown(
            Change::ChangeAccess {
                target: u1.clone(),
                access: Access::Read,
                from_access: None
            },
            &members
        ));
        let remove = |target| Change::Remove {
            target,
            from_access: None,
            reason: RemovalReason::AccessNone,
        };
        assert!(!shown(remove(u1), &members));
        let guest = |email: &str| Target::NewGuest {
            email: email.into(),
            hidden: false,
        };
        assert!(shown(invite(guest("New@X.test"), Access::Read), &members));
        assert!(!shown(invite(guest("gone@x.test"), Access::Read), &members));
        assert!(shown(
            remove(Member::User {
                id: "gone".into(),
                email: "gone@x.test".into()
            }),
            &members
        ));
        let group = Target::Group {
            id: "g1".into(),
            name: "G".into(),
        };
        assert!(shown(invite(group, Access::Read), &members));
    }

    fn live(archived: bool) -> ObservedRoom {
        ObservedRoom {
            id: 7,
            title: "R".into(),
            room_type: Some(RoomType::Custom),
            raw_room_type: Some(RoomType::Custom.wire()),
            archived,
            tags: ["a".to_string()].into_iter().collect(),
            quota: None,
            custom_quota: false,
            deny_download: Some(false),
            settings: Default::default(),
        }
    }

    #[test]
    fn already_done_compares_each_item_with_the_live_room() {
        let update = |changes| Item::new(ItemKey::room("R"), Change::UpdateRoom { changes });
        let tags_and_quota = vec![
            SettingChange::Tags {
                from: vec![],
                to: vec!["a".into()],
            },
            SettingChange::Quota {
                from: Quota::Unlimited,
                to: Quota::Bytes(1024),
            },
        ];
        let items = |first| {
            vec![
                first,
                Item::new(
                    ItemKey::member("R", "a@x.test"),
                    Change::Invite {
                        target: Target::User {
                            id: "u1".into(),
                            email: "a@x.test".into(),
                            by_email: false,
                        },
                        access: Access::Editing,
                    },
                ),
                Item::new(
                    ItemKey::member("R", "u2@x.test"),
                    Change::Remove {
                        target: Member::User {
                            id: "u2".into(),
                            email: "u2@x.test".into(),
                        },
                        from_access: Some(Access::Read),
                        reason: RemovalReason::NotListed,
                    },
                ),
                Item::new(ItemKey::room("R"), Change::Archive),
            ]
        };
        let mut r = RoomPlan {
            title: "R".into(),
            room_type: RoomType::Custom,
            room_id: Some(7),
            change: RoomChange::Update,
            fingerprint: String::new(),
            members_before: 1,
            items: items(update(tags_and_quota)),
            notes: Vec::new(),
        };
        let members = vec![member(user("u1", "a@x.test"), Access::Editing)];
        assert_eq!(
            already_done(&r, Some((&live(true), &members))),
            vec![true, true, true, true]
        );
        assert_eq!(
            already_done(&r, Some((&live(false), &[]))),
            vec![true, false, true, false]
        );
        r.items = items(update(vec![SettingChange::DenyDownload {
            from: false,
            to: true,
        }]));
        assert!(!already_done(&r, Some((&live(true), &members)))[0]);
        assert_eq!(already_done(&r, None), vec![false; 4]);
        let mut other_type = live(true);
        other_type.room_type = Some(RoomType::Collaboration);
        assert_eq!(
            already_done(&r, Some((&other_type, &members))),
            vec![false; 4]
        );
    }
}
