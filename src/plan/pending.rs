//! Invitations that were never accepted (issue 13 item 5): the plan notes each pending
//! member a managed room invites, with the invitation's age; `apply --resend-pending[=AGE]`
//! turns the ones older than AGE into `resend_invitation` items, which the executor sends in
//! one call (docs/docspace-api.md, "Pending invitations").
//!
//! The age is the pending account's creation date, the moment the first invitation made it:
//! the tool keeps no state, so it cannot know when an invitation was last resent.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::{Change, Item, ItemKey, Member, Plan, RoomNote, expiry, summarise};
use crate::manifest::{Desired, Subject};
use crate::model::{self, Access, UserType};
use crate::state::{MemberSubject, Observed, ObservedUser};

/// Why a pending invitation is not resent: the server's rules for the room's resend route,
/// `POST /files/rooms/{id}/resend` (`FileStorageService.ResendEmailInvitationsAsync`: the
/// caller must be able to edit the room, and a member it cannot see,
/// `CanUserViewAnotherUserAsync`, is skipped without a word), as far as the portal shows them
/// to the tool (docs/docspace-api.md, "Pending invitations"). The server answers nothing
/// either way, so only this decision tells a sent email from a skipped one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotResent {
    /// The key's user is a user or a guest: such an account manages no room and sees no
    /// one else, so the server sends no room invitation for it.
    KeyNotAdmin,
    /// A guest someone else invited, and the key's user is not a DocSpace admin: a room
    /// admin sees only the guests it invited (its user relations), so the server skips it.
    GuestOfAnother,
    /// The key's user is a room admin but neither the owner nor a room manager of this room
    /// (the only room that invites the person): the server refuses the room's resend
    /// (`CanEditRoomAsync`).
    RoomNotManaged,
}

impl NotResent {
    /// The reason in words (plan lines and the report's skip message).
    pub fn text(self) -> &'static str {
        match self {
            NotResent::KeyNotAdmin => {
                "the key's user is not an admin: DocSpace resends a room's invitations only for a room manager or an admin"
            }
            NotResent::GuestOfAnother => {
                "a guest invited by someone else: DocSpace resends it only for a DocSpace admin or whoever invited them"
            }
            NotResent::RoomNotManaged => {
                "the key's user is not a room manager of the room: DocSpace resends a room's invitations only for its owner, a room manager or an admin"
            }
        }
    }
}

/// Why the key's user `me` cannot have `user`'s pending room invitation resent, or `None`
/// when the server would send it (`ResendEmailInvitationsAsync` with
/// `CanUserViewAnotherUserAsync`: a DocSpace admin sees everyone, a user or guest no one
/// else, a room admin everyone but the guests outside its relations, which the tool reads as
/// the guests it did not invite). An unknown key user or an account of unknown type is not
/// refused: the tool cannot tell.
pub fn not_resent(me: Option<&ObservedUser>, user: &ObservedUser) -> Option<NotResent> {
    let me = me?;
    if me.id == user.id {
        return None;
    }
    match me.user_type {
        UserType::DocSpaceAdmin => None,
        UserType::User | UserType::Guest => Some(NotResent::KeyNotAdmin),
        UserType::RoomAdmin => (user.type_known
            && user.user_type == UserType::Guest
            && user.invited_by.as_deref().is_some_and(|by| by != me.id))
        .then_some(NotResent::GuestOfAnother),
    }
}

/// Whether the key's user `me` can edit a room with these members, as far as the portal
/// shows it (`CanEditRoomAsync`: a DocSpace admin edits every room, a room admin only the
/// rooms it owns or manages). Unknown (no key user) is not refused: the tool cannot tell.
fn manages(me: Option<&ObservedUser>, members: &[crate::state::ObservedMember]) -> bool {
    let Some(me) = me else { return true };
    if me.user_type != UserType::RoomAdmin {
        // An admin edits every room; a user or a guest is refused as `KeyNotAdmin`.
        return true;
    }
    members.iter().any(|m| match &m.subject {
        MemberSubject::User(u) => {
            u.id == me.id && (m.is_owner || m.access == Some(Access::RoomManager))
        }
        MemberSubject::Group(_) => false,
    })
}

/// Invitations older than this are flagged in plans, and resent by a bare `--resend-pending`.
pub const STALE_AFTER_DAYS: i64 = 14;

/// [`STALE_AFTER_DAYS`] as a duration (checked at compile time).
const STALE_AFTER: Duration = match Duration::try_days(STALE_AFTER_DAYS) {
    Some(d) => d,
    None => panic!("STALE_AFTER_DAYS is out of range"),
};

/// The longest `--resend-pending` age accepted, in days (ten years, as the `--expiring-within`
/// window): beyond it nothing is ever old enough, and a bigger number is a typo.
pub const MAX_AGE_DAYS: i64 = 3650;

/// Adds a [`RoomNote::PendingInvitation`] to each room for each pending member the manifest
/// still invites there (an access other than `none`, and an `expires:` not passed at `now`),
/// oldest first; none in a room that stays archived. `now` is when the portal was read. No one the same plan removes from any room
/// is noted: a plan that ends someone's access (a passed `expires:`, `access: none`) does not
/// also point at their invitation, which `--resend-pending` would not send (see
/// [`add_resends`]).
pub fn annotate(plan: &mut Plan, desired: &Desired, observed: &Observed, now: DateTime<Utc>) {
    let removed = removed_users(plan);
    for room in &mut plan.rooms {
        let Some(id) = room.room_id else { continue };
        // A room left in the Archive takes no invitation to join it, and its resend route
        // refuses everyone (`FileSecurity`: no `EditRoom` in the Archive).
        let unarchived = room
            .items
            .iter()
            .any(|i| matches!(i.change, Change::Unarchive));
        if !unarchived && observed.rooms.iter().any(|r| r.id == id && r.archived) {
            continue;
        }
        let Some(wanted) = desired.rooms.iter().find(|r| r.title == room.title) else {
            continue;
        };
        let invited: HashSet<&str> = wanted
            .invitees
            .iter()
            .filter(|i| i.access != Access::None && expiry::expired(i, now).is_none())
            .filter_map(|i| match &i.subject {
                Subject::Email(e) => Some(e.as_str()),
                Subject::Group(_) => None,
            })
            .collect();
        let members = observed.members.get(&id).map(Vec::as_slice).unwrap_or(&[]);
        let managed = manages(observed.me.as_ref(), members);
        let mut pending: Vec<_> = members
            .iter()
            .filter_map(|m| match &m.subject {
                MemberSubject::User(u) if u.pending && !u.terminated && !m.is_owner => Some(u),
                MemberSubject::User(_) | MemberSubject::Group(_) => None,
            })
            .filter(|u| invited.contains(model::normalise_email(&u.email).as_str()))
            .filter(|u| !removed.contains(&u.id))
            .collect();
        pending.sort_by(|a, b| {
            (a.created.is_none(), a.created, &a.email).cmp(&(
                b.created.is_none(),
                b.created,
                &b.email,
            ))
        });
        for u in pending {
            let age = u.invitation_age(now);
            room.notes.push(RoomNote::PendingInvitation {
                id: u.id.clone(),
                email: u.email.clone(),
                age_hours: age.map(|a| a.num_hours()),
                stale: age.is_some_and(|a| a > STALE_AFTER),
                not_resent: not_resent(observed.me.as_ref(), u)
                    .or((!managed).then_some(NotResent::RoomNotManaged)),
            });
        }
    }
}

/// Adds a `resend_invitation` item to the plan's portal section for each noted pending
/// invitation older than `age` (as of the read the notes were made from), once per person:
/// the invitation of the first room (in plan order) that notes them, which the executor
/// resends through that room's route (one email per person per run). An invitation of unknown date is never resent: it is not known to be old.
/// Nor is anyone the same plan removes from any room (`access: none`, a passed `expires:`,
/// `members: exact`): an invitation email must not arrive in the run that ends access.
/// Returns how many were added.
pub fn add_resends(plan: &mut Plan, age: Duration) -> usize {
    let removed = removed_users(plan);
    let mut seen: HashSet<String> = HashSet::new();
    let mut items = Vec::new();
    // A room whose route the server would take first; one that would skip the person only
    // when no room would send it.
    for sendable in [true, false] {
        for room in &plan.rooms {
            // A room the run archives takes no invitation to join it (and the server lets no
            // one edit an archived room, so its resend route would refuse).
            let archived = room
                .items
                .iter()
                .any(|i| matches!(i.change, Change::Archive));
            let Some(room_id) = room.room_id.filter(|_| !archived) else {
                continue;
            };
            for note in &room.notes {
                let RoomNote::PendingInvitation {
                    id,
                    email,
                    age_hours,
                    not_resent,
                    ..
                } = note
                else {
                    continue;
                };
                let Some(hours) = *age_hours else { continue };
                // Compared in whole hours: no duration is built from a number read back.
                if hours <= age.num_hours()
                    || removed.contains(id)
                    || not_resent.is_none() != sendable
                    || !seen.insert(id.clone())
                {
                    continue;
                }
                items.push(Item::new(
                    ItemKey::person(email),
                    Change::ResendInvitation {
                        target: Member::User {
                            id: id.clone(),
                            email: email.clone(),
                        },
                        age_hours: hours,
                        not_resent: *not_resent,
                        room_id,
                        room: room.title.clone(),
                    },
                ));
            }
        }
    }
    let added = items.len();
    plan.portal_items.extend(items);
    plan.summary = summarise(&plan.rooms, &plan.portal_items);
    added
}

/// The ids of the people the plan removes from any room.
fn removed_users(plan: &Plan) -> HashSet<String> {
    plan.rooms
        .iter()
        .flat_map(|r| &r.items)
        .filter_map(|i| match &i.change {
            Change::Remove {
                target: Member::User { id, .. },
                ..
            } => Some(id.clone()),
            _ => None,
        })
        .collect()
}

/// An age as `--resend-pending` takes it: whole days as `14d`, otherwise hours (`36h`, `0h`).
pub fn age_text(age: Duration) -> String {
    let hours = age.num_hours();
    if hours > 0 && hours % 24 == 0 {
        format!("{}d", hours / 24)
    } else {
        format!("{hours}h")
    }
}

/// Parses an age for `--resend-pending`: a whole number followed by `d` (days), `h` (hours)
/// or `w` (weeks), e.g. `14d`, `36h`, `2w`, at most [`MAX_AGE_DAYS`] days. Checked: a number
/// too big for any duration is an error, never a panic.
pub fn parse_age(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let too_long = || {
        format!(
            "`{text}` is too long an age: at most {MAX_AGE_DAYS}d (ten years), e.g. 14d, 36h, 2w"
        )
    };
    let n: i64 = match number.parse() {
        Ok(n) => n,
        // Only digits, yet no i64: the number is too big.
        Err(_) if !number.is_empty() => return Err(too_long()),
        Err(_) => {
            return Err(format!(
                "`{text}` is not an age: write a number and a unit, e.g. 14d, 36h, 2w"
            ));
        }
    };
    let age = match unit.trim().to_ascii_lowercase().as_str() {
        "h" => Duration::try_hours(n),
        "d" => Duration::try_days(n),
        "w" => Duration::try_weeks(n),
        _ => {
            return Err(format!(
                "`{text}` has no known unit: use h (hours), d (days) or w (weeks), e.g. 14d, 36h, 2w"
            ));
        }
    };
    match (age, Duration::try_days(MAX_AGE_DAYS)) {
        (Some(age), Some(max)) if age <= max => Ok(age),
        _ => Err(too_long()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RoomType;
    use crate::plan::{Action, FORMAT_VERSION, RoomChange, RoomPlan, ShareSettings, Summary};

    fn note(id: &str, age_hours: Option<i64>) -> RoomNote {
        RoomNote::PendingInvitation {
            id: id.into(),
            email: format!("{id}@x.test"),
            age_hours,
            stale: false,
            not_resent: None,
        }
    }

    fn room(title: &str, notes: Vec<RoomNote>) -> RoomPlan {
        RoomPlan {
            title: title.into(),
            room_type: RoomType::Custom,
            room_id: Some(1),
            change: RoomChange::Unchanged,
            fingerprint: String::new(),
            members_before: 0,
            items: Vec::new(),
            notes,
        }
    }

    #[test]
    fn a_room_the_run_archives_resends_nothing_and_the_next_room_does() {
        let mut archived = room("Old", vec![note("p", Some(24 * 30))]);
        archived.room_id = Some(7);
        archived
            .items
            .push(Item::new(ItemKey::room("Old"), Change::Archive));
        let mut kept = room("Kept", vec![note("p", Some(24 * 30))]);
        kept.room_id = Some(8);
        let mut plan = Plan {
            rooms: vec![archived, kept],
            ..Plan::default()
        };
        assert_eq!(add_resends(&mut plan, Duration::days(STALE_AFTER_DAYS)), 1);
        assert!(matches!(
            &plan.portal_items[0].change,
            Change::ResendInvitation { room_id: 8, room, .. } if room == "Kept"
        ));
    }

    #[test]
    fn resends_once_per_person_only_older_than_the_age_and_never_of_unknown_date() {
        let mut plan = Plan {
            format_version: FORMAT_VERSION,
            portal: String::new(),
            manifest_hash: String::new(),
            share: ShareSettings::default(),
            rooms: vec![
                room(
                    "A",
                    vec![note("old", Some(24 * 20)), note("new", Some(24 * 3))],
                ),
                room("B", vec![note("old", Some(24 * 20)), note("unknown", None)]),
            ],
            summary: Summary::default(),
            unmanaged_connected_rooms: 0,
            managed: None,
            expiring: Default::default(),
            ..Plan::default()
        };
        assert_eq!(add_resends(&mut plan, Duration::days(STALE_AFTER_DAYS)), 1);
        let keys: Vec<String> = plan
            .portal_items
            .iter()
            .map(|i| i.key.to_string())
            .collect();
        assert_eq!(keys, ["old@x.test"]);
        assert_eq!(plan.portal_items[0].action(), Action::ResendInvitation);
        assert_eq!(plan.summary.resends, 1);
        assert_eq!(plan.summary.write_calls, 1);
        assert!(plan.has_changes());
    }

    #[test]
    fn nobody_the_plan_removes_is_resent() {
        use crate::plan::RemovalReason;
        let mut a = room(
            "A",
            vec![note("old", Some(24 * 20)), note("kept", Some(24 * 20))],
        );
        let mut b = room("B", Vec::new());
        b.items.push(Item::new(
            ItemKey::member("B", "old@x.test"),
            Change::Remove {
                target: Member::User {
                    id: "old".into(),
                    email: "old@x.test".into(),
                },
                from_access: None,
                reason: RemovalReason::NotListed,
            },
        ));
        a.items.clear();
        let mut plan = Plan {
            format_version: FORMAT_VERSION,
            portal: String::new(),
            manifest_hash: String::new(),
            share: ShareSettings::default(),
            rooms: vec![a, b],
            summary: Summary::default(),
            unmanaged_connected_rooms: 0,
            managed: None,
            expiring: Default::default(),
            ..Plan::default()
        };
        assert_eq!(add_resends(&mut plan, Duration::days(STALE_AFTER_DAYS)), 1);
        assert_eq!(plan.portal_items[0].key, ItemKey::person("kept@x.test"));
    }

    fn person(id: &str, user_type: UserType, owner: bool, by: Option<&str>) -> ObservedUser {
        ObservedUser {
            id: id.into(),
            email: format!("{id}@x.test"),
            user_type,
            pending: true,
            terminated: false,
            type_known: true,
            created: None,
            owner,
            invited_by: by.map(str::to_string),
        }
    }

    #[test]
    fn who_may_resend_follows_the_servers_rules() {
        let owner = person("owner", UserType::DocSpaceAdmin, true, None);
        let admin = person("admin", UserType::DocSpaceAdmin, false, None);
        let rick = person("rick", UserType::RoomAdmin, false, None);
        let user = person("user", UserType::User, false, None);
        let theirs = person("g1", UserType::Guest, false, Some("owner"));
        let mine = person("g2", UserType::Guest, false, Some("rick"));
        let pending_admin = person("a", UserType::DocSpaceAdmin, false, Some("owner"));
        let pending_ra = person("r", UserType::RoomAdmin, false, Some("owner"));
        assert_eq!(
            not_resent(Some(&rick), &theirs),
            Some(NotResent::GuestOfAnother)
        );
        assert_eq!(not_resent(Some(&rick), &mine), None);
        assert_eq!(not_resent(Some(&admin), &theirs), None);
        // The room route does not ask `HasAccessInviteAsync`: a room admin's key resends a
        // pending admin's room invitation, which the people route refused.
        assert_eq!(not_resent(Some(&admin), &pending_admin), None);
        assert_eq!(not_resent(Some(&owner), &pending_admin), None);
        assert_eq!(not_resent(Some(&rick), &pending_admin), None);
        assert_eq!(not_resent(Some(&rick), &pending_ra), None);
        assert_eq!(not_resent(Some(&user), &mine), Some(NotResent::KeyNotAdmin));
        assert_eq!(not_resent(Some(&user), &user), None);
        assert_eq!(not_resent(None, &theirs), None);
    }

    #[test]
    fn ages_parse_in_hours_days_and_weeks() {
        assert_eq!(parse_age("14d"), Ok(Duration::days(14)));
        assert_eq!(parse_age("36h"), Ok(Duration::hours(36)));
        assert_eq!(parse_age("2W"), Ok(Duration::weeks(2)));
        assert!(parse_age("14").unwrap_err().contains("unit"));
        assert!(parse_age("d").unwrap_err().contains("not an age"));
        assert!(parse_age("3 months").is_err());
        // Too big for a duration, or for an i64: an error, never a panic.
        for big in [
            "9999999999999999w",
            "99999999999999999999999d",
            "3651d",
            "87601h",
        ] {
            assert!(parse_age(big).unwrap_err().contains("too long"), "{big}");
        }
        assert_eq!(parse_age("3650d"), Ok(Duration::days(3650)));
    }
}
