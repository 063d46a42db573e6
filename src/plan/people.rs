//! The diff of `people:`: who is invited with which type (one `POST /people/invite` for all),
//! whose type is raised (`PUT /people/type/{type}`, one call per type), and what is refused
//! before anything is sent: a lower type (the tool never calls the server's downgrade route,
//! `model::TYPE_DOWNGRADE_ROUTE`), a type only the owner or a DocSpace admin may give, the
//! owner's or the key's own account, a disabled account, a guest the invite route refuses,
//! a portal that forbids inviting, more invitations than one call may carry, more paid seats
//! than the portal has, and a new address that is a near miss of an existing account's
//! (`plan::newguest`). People are never deleted or disabled.

use std::collections::BTreeSet;

use super::newguest::Accounts;
use super::org::{OrgNote, caller};
use super::{Change, Item, ItemKey, Member};
use crate::manifest::{Desired, DesiredPerson, Problem, Subject};
use crate::model::{
    self, INVITE_BATCH_MAX, TYPE_DOWNGRADE_ROUTE, TypeRefusal, UserType, invite_refusal,
    type_change_refusal,
};
use crate::state::Observed;

/// The people items and who they invite.
#[derive(Debug, Default)]
pub struct PeoplePlan {
    pub items: Vec<Item>,
    /// Emails `invite_person` items invite (lower-cased).
    pub invited: BTreeSet<String>,
}

/// Plans `people:` (see the module documentation).
pub fn plan(
    desired: &Desired,
    observed: &Observed,
    problems: &mut Vec<Problem>,
    notes: &mut Vec<OrgNote>,
) -> PeoplePlan {
    let mut out = PeoplePlan::default();
    let accounts = Accounts::new(observed);
    let mut changes = Vec::new();
    for person in &desired.people {
        match observed.users.get(&person.email) {
            Some(user) => {
                if let Some(item) = change_type(desired, observed, person, user, problems) {
                    changes.push(item);
                }
            }
            None => {
                if let Some(item) = invite(desired, observed, &accounts, person, problems, notes) {
                    out.invited.insert(person.email.clone());
                    out.items.push(item);
                }
            }
        }
    }
    if out.items.len() > INVITE_BATCH_MAX {
        problems.push(Problem::error(
            "portal::too_many_invitations",
            format!(
                "`people:` would invite {} people in one run; the tool sends at most {INVITE_BATCH_MAX} invitations (one call, which the portal limits per day)",
                out.items.len()
            ),
        ).with_help("split the new people over several runs"));
    }
    out.items.sort_by(|a, b| a.key.cmp(&b.key));
    changes.sort_by(|a, b| a.key.cmp(&b.key));
    out.items.extend(changes);
    seats(observed, &out.items, problems, notes);
    out
}

fn locate(desired: &Desired, person: &DesiredPerson, problem: Problem, label: &str) -> Problem {
    problem.at(
        &desired.files[person.origin.file],
        person.origin.span,
        label,
    )
}

/// A new person: invited with their type, unless the server would refuse it.
fn invite(
    desired: &Desired,
    observed: &Observed,
    accounts: &Accounts,
    person: &DesiredPerson,
    problems: &mut Vec<Problem>,
    notes: &mut Vec<OrgNote>,
) -> Option<Item> {
    let email = &person.email;
    let to = person.user_type;
    if observed.hidden_people.contains(email) {
        // Not a new account: its lookup answered 403 (docs/docspace-api.md, "People and user
        // types"), so its type is unknown and this key may not change it.
        problems.push(locate(desired, person, Problem::error(
            "portal::person_not_visible",
            format!("`{email}` has an account this API key may not see (to a room admin, a guest it has no relation with): it is not new, and its type cannot be read or changed with this key"),
        ).with_help("use a DocSpace admin's key for `people:`, or remove the entry (a room invitation by email still reaches the account)"), "account not visible to this key"));
        return None;
    }
    let refusal = caller(observed).and_then(|c| invite_refusal(c, to));
    if refusal == Some(TypeRefusal::GuestNotByInvite)
        || (refusal.is_none() && to == UserType::Guest)
    {
        // The invite route refuses guests; a room invitation makes the account instead.
        if let Some(room) = inviting_room(desired, email) {
            notes.push(OrgNote::GuestByRoom {
                email: email.clone(),
                room: room.to_string(),
            });
            return None;
        }
        problems.push(locate(desired, person, Problem::error(
            "portal::guest_not_invitable",
            format!("`{email}` has no account and is declared a guest: DocSpace's invite route (`POST /api/2.0/people/invite`) refuses the guest type"),
        ).with_help("a guest account is made by inviting the address to a room: add it to a room's `invitees:`, or give it the type `user`"), "new guest"));
        return None;
    }
    if let Some(why) = refusal {
        problems.push(locate(
            desired,
            person,
            refused(email, None, to, why),
            "cannot invite",
        ));
        return None;
    }
    if observed
        .org
        .invitations
        .is_some_and(|s| !s.allow_inviting_members)
    {
        problems.push(locate(desired, person, Problem::error(
            "portal::inviting_forbidden",
            format!("`{email}` has no account, and the portal's settings forbid inviting members"),
        ).with_help("allow inviting members in the portal's settings (Contacts), or create the account by hand"), "cannot invite"));
        return None;
    }
    if let Some(suggestion) = accounts.near_miss(email) {
        problems.push(locate(desired, person, Problem::error(
            "portal::new_person_near_miss",
            format!("`{email}` has no account on the portal, but `{suggestion}` has one: inviting it would create a new account and email an invitation"),
        ).with_help(format!("did you mean `{suggestion}`? Fix the address in `people:`")), "no account with this address"));
        return None;
    }
    Some(Item::new(
        ItemKey::person(email),
        Change::InvitePerson {
            email: email.clone(),
            user_type: to,
        },
    ))
}

/// The first room (in manifest order) that invites `email`, other than to remove it.
fn inviting_room<'a>(desired: &'a Desired, email: &str) -> Option<&'a str> {
    desired.rooms.iter().find_map(|r| {
        r.invitees
            .iter()
            .any(|i| {
                i.subject == Subject::Email(email.to_string()) && i.access != model::Access::None
            })
            .then_some(r.title.as_str())
    })
}

/// An existing account whose type differs: raised, unless the server would refuse it.
fn change_type(
    desired: &Desired,
    observed: &Observed,
    person: &DesiredPerson,
    user: &crate::state::ObservedUser,
    problems: &mut Vec<Problem>,
) -> Option<Item> {
    let (from, to) = (user.user_type, person.user_type);
    if from == to {
        return None;
    }
    if user.terminated {
        problems.push(locate(
            desired,
            person,
            Problem::error(
                "portal::terminated_user",
                format!(
                    "`{}` is a disabled account: its type cannot be changed",
                    person.email
                ),
            )
            .with_help("re-enable the account in DocSpace, or remove it from `people:`"),
            "disabled account",
        ));
        return None;
    }
    let me = observed.me.as_ref();
    let is_me = me.is_some_and(|m| m.id == user.id);
    let refusal = match caller(observed) {
        Some(c) => type_change_refusal(c, user.owner, is_me, from, to),
        None if to.rank() < from.rank() => Some(TypeRefusal::Downgrade),
        None => None,
    };
    if let Some(why) = refusal {
        problems.push(locate(
            desired,
            person,
            refused(&person.email, Some(from), to, why),
            "type",
        ));
        return None;
    }
    Some(Item::new(
        ItemKey::person(&person.email),
        Change::ChangeUserType {
            target: Member::User {
                id: user.id.clone(),
                email: person.email.clone(),
            },
            from,
            to,
        },
    ))
}

/// The plan error of a type the server would refuse (`from`: the live type, for a change).
pub fn refused(email: &str, from: Option<UserType>, to: UserType, why: TypeRefusal) -> Problem {
    let (code, message, help) = match why {
        TypeRefusal::Downgrade => (
            "portal::type_downgrade",
            format!(
                "`{email}` is a {} and the manifest asks for {}: a downgrade",
                from.map_or("?", UserType::name),
                to.name()
            ),
            format!(
                "`PUT /api/2.0/people/type` only raises types; the server's other route ({TYPE_DOWNGRADE_ROUTE}) runs a background job that hands the person's rooms and files to someone else, which a manifest never triggers. Lower the type in DocSpace by hand, or write the current type in the manifest"
            ),
        ),
        TypeRefusal::Owner => (
            "portal::type_of_owner",
            format!("`{email}` is the portal owner, whose type never changes"),
            "write `docspace-admin` for the owner, or leave the owner out of `people:`".to_string(),
        ),
        TypeRefusal::OwnAccount => (
            "portal::type_of_key_user",
            format!("`{email}` is the API key's own user, who cannot change their own type"),
            "change it with another admin's key, or write the current type".to_string(),
        ),
        TypeRefusal::AdminNeedsOwner => (
            "portal::admin_needs_owner",
            format!(
                "`{email}` would become a DocSpace admin, which only the portal owner can make"
            ),
            "run with a key of the portal owner, or choose `room-admin`".to_string(),
        ),
        TypeRefusal::RoomAdminNeedsAdmin => (
            "portal::room_admin_needs_admin",
            format!("`{email}` would become a room admin, which only DocSpace admins can make"),
            "run with a DocSpace admin's key, or choose `user`".to_string(),
        ),
        TypeRefusal::CallerCannot => (
            "portal::caller_cannot_manage_people",
            format!("the API key's user may not invite people or change types (`{email}`)"),
            "run with a DocSpace admin's key".to_string(),
        ),
        TypeRefusal::GuestNotByInvite => (
            "portal::guest_not_invitable",
            format!("`{email}` cannot be invited as a guest by the invite route"),
            "invite the address to a room instead".to_string(),
        ),
    };
    Problem::error(code, message).with_help(help)
}

/// Paid seats before and after the plan, when the plan takes any: a note, or a plan error
/// when the portal reports fewer free seats than the plan needs (the server would refuse
/// the invitation call whole, or a type change part-way).
fn seats(
    observed: &Observed,
    items: &[Item],
    problems: &mut Vec<Problem>,
    notes: &mut Vec<OrgNote>,
) {
    let needed = items
        .iter()
        .filter(|i| match &i.change {
            Change::InvitePerson { user_type, .. } => user_type.takes_paid_seat(),
            Change::ChangeUserType { from, to, .. } => {
                to.takes_paid_seat() && !from.takes_paid_seat()
            }
            _ => false,
        })
        .count();
    if needed == 0 {
        return;
    }
    match observed.org.seats {
        Some((used, max)) => {
            let after = used + needed as i64;
            // The server's "no limit" is `int.MaxValue` (`TenantQuotaFeatureCount`); some
            // answers write -1.
            let max = (0..i64::from(i32::MAX)).contains(&max).then_some(max);
            notes.push(OrgNote::Seats { used, max, after });
            if let Some(max) = max
                && after > max
            {
                problems.push(Problem::error(
                    "portal::not_enough_seats",
                    format!("the plan needs {needed} paid seats (DocSpace admins and room admins), and the portal has {} of {max} free", (max - used).max(0)),
                ).with_help("add seats to the portal's plan, or give fewer people a paid type"));
            }
        }
        None => notes.push(OrgNote::SeatsUnknown { needed }),
    }
}
