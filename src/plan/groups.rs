//! The diff of `groups:`: a group the portal lacks is created (with its manager and people
//! in the same call), a pinned group renamed, the manager set, people added and, for
//! `members: exact`, removed (each removal needs `--allow-removals`). Groups the manifest
//! does not list are never touched. A person of a group is an account (by id), or someone the
//! same run invites (`people:`); anyone else, and a guest, is a plan error
//! (docs/docspace-api.md, "Groups and people").

use super::org::{GroupChange, PersonRef, type_after};
use super::people::PeoplePlan;
use super::{Change, Item, ItemKey, Member};
use crate::manifest::{Desired, DesiredGroup, GroupPerson, MembersMode, Problem};
use crate::observe::groups::{GroupDetail, GroupMatch, find};
use crate::state::Observed;

/// Plans every group of `groups:`, in the order written; each group's write first, then its
/// members, additions before removals.
pub fn plan(
    desired: &Desired,
    observed: &Observed,
    people: &PeoplePlan,
    problems: &mut Vec<Problem>,
) -> Vec<Item> {
    let mut items = Vec::new();
    let may_edit = super::org::caller(observed).is_none_or(|c| c.may_edit_groups());
    for group in &desired.groups {
        let at = |p: Problem, label: &str| {
            p.at(&desired.files[group.origin.file], group.origin.span, label)
        };
        let before = items.len();
        match find(group, &observed.org.listing) {
            GroupMatch::Ambiguous(ids) => problems.push(at(
                Problem::error(
                    "portal::ambiguous_group",
                    format!(
                        "{} groups on the portal are named `{}` when case is ignored (ids {})",
                        ids.len(),
                        group.name,
                        ids.join(", ")
                    ),
                )
                .with_help("pin one with `id:`, or rename the others in DocSpace"),
                "ambiguous group",
            )),
            GroupMatch::PinnedMissing => problems.push(at(
                Problem::error(
                    "portal::unknown_group_id",
                    format!(
                        "no group on the portal has the id {}",
                        group.id.as_deref().unwrap_or_default()
                    ),
                )
                .with_help("remove `id:` to create the group, or fix the id (see `export`)"),
                "unknown group id",
            )),
            GroupMatch::Missing => items.extend(create(desired, observed, people, group, problems)),
            GroupMatch::Found(id) => match observed.org.groups.get(&id) {
                Some(_) if let Some(taken) = name_taken(group, &id, observed) => problems.push(at(
                    Problem::error(
                        "portal::group_name_taken",
                        format!(
                            "renaming group {id} to `{}` would give two groups that name: group {taken} has it (case ignored)",
                            group.name
                        ),
                    )
                    .with_help("DocSpace allows two groups of one name, but the tool could then no longer tell them apart: rename or remove the other group in DocSpace first, or choose another name"),
                    "name taken",
                )),
                Some(live) => {
                    items.extend(update(desired, observed, people, group, live, problems))
                }
                None => problems.push(at(
                    Problem::error(
                        "portal::group_unread",
                        format!("group `{}` was found but not read", group.name),
                    ),
                    "group",
                )),
            },
        }
        if !may_edit && items.len() > before {
            items.truncate(before);
            problems.push(at(
                Problem::error(
                    "portal::caller_cannot_manage_groups",
                    format!(
                        "group `{}` needs changes, and only DocSpace admins may create or change groups (the server answers 403)",
                        group.name
                    ),
                )
                .with_help("run with a DocSpace admin's key, or make the group match the portal"),
                "needs a DocSpace admin",
            ));
        }
    }
    items
}

/// The id of another live group that already has the name a pinned group is renamed to
/// (compared as group names are matched: case ignored). A pinned group that keeps its name
/// is how two groups of one name are told apart, so only a rename is refused.
fn name_taken(group: &DesiredGroup, id: &str, observed: &Observed) -> Option<String> {
    let key = group.name.to_lowercase();
    let live = observed.org.listing.iter().find(|g| g.id == id)?;
    if live.name.to_lowercase() == key {
        return None;
    }
    observed
        .org
        .listing
        .iter()
        .find(|g| g.id != id && g.name.to_lowercase() == key)
        .map(|g| g.id.clone())
}

/// A person of a group as the write needs them: an account id, or the email of someone this
/// run invites; `None` (with a located problem) otherwise.
fn person_ref(
    desired: &Desired,
    observed: &Observed,
    people: &PeoplePlan,
    group: &DesiredGroup,
    person: &GroupPerson,
    problems: &mut Vec<Problem>,
) -> Option<PersonRef> {
    let email = &person.email;
    let at = |p: Problem, label: &str| {
        p.at(
            &desired.files[person.origin.file],
            person.origin.span,
            label,
        )
    };
    let id = match observed.users.get(email) {
        Some(u) if u.terminated => {
            problems.push(at(
                Problem::error(
                    "portal::terminated_user",
                    format!(
                        "`{email}` is a disabled account and cannot be in group `{}`",
                        group.name
                    ),
                )
                .with_help("re-enable the account in DocSpace, or take it out of the group"),
                "disabled account",
            ));
            return None;
        }
        Some(u) => Some(u.id.clone()),
        None if people.invited.contains(email) => None,
        None => {
            problems.push(at(Problem::error(
                "portal::group_person_without_account",
                format!("`{email}` of group `{}` has no account on the portal, and `people:` does not say which type to invite them as", group.name),
            ).with_help(format!("add `{{email: {email}, type: user}}` (or another type) to `people:`, or fix the address")), "no account"));
            return None;
        }
    };
    if type_after(desired, observed, email).is_some_and(|t| !t.may_be_group_member()) {
        problems.push(at(Problem::error(
            "portal::guest_in_group",
            format!("`{email}` is a guest and cannot be in group `{}`", group.name),
        ).with_help(format!("DocSpace leaves guests out of groups; raise `{email}` to `user` in `people:`, or take them out of the group")), "a guest"));
        return None;
    }
    Some(PersonRef {
        email: email.clone(),
        id,
    })
}

/// A new group: the create (with its manager) and one item per other person.
fn create(
    desired: &Desired,
    observed: &Observed,
    people: &PeoplePlan,
    group: &DesiredGroup,
    problems: &mut Vec<Problem>,
) -> Vec<Item> {
    let manager = group
        .manager
        .as_ref()
        .and_then(|m| person_ref(desired, observed, people, group, m, problems));
    let mut items = vec![Item::new(
        ItemKey::group(&group.name),
        Change::CreateGroup {
            name: group.name.clone(),
            manager,
        },
    )];
    for person in &group.people {
        if group
            .manager
            .as_ref()
            .is_some_and(|m| m.email == person.email)
        {
            continue;
        }
        if let Some(p) = person_ref(desired, observed, people, group, person, problems) {
            items.push(Item::new(
                ItemKey::group_member(&group.name, &person.email),
                Change::AddGroupMember {
                    group_id: None,
                    person: p,
                },
            ));
        }
    }
    items
}

/// A live group: rename and manager in one `update_group` item, then additions and (for
/// `members: exact`) removals.
fn update(
    desired: &Desired,
    observed: &Observed,
    people: &PeoplePlan,
    group: &DesiredGroup,
    live: &GroupDetail,
    problems: &mut Vec<Problem>,
) -> Vec<Item> {
    let mut changes = Vec::new();
    // Only a pinned group is renamed: one found by its name is that name, case ignored, as
    // group names are matched everywhere (a case-only difference is not a change).
    if group.id.is_some() && live.name != group.name {
        changes.push(GroupChange::Name {
            from: live.name.clone(),
            to: group.name.clone(),
        });
    }
    let live_manager = live.manager_user().map(|u| u.email.clone());
    if let Some(m) = &group.manager
        && live_manager.as_deref() != Some(m.email.as_str())
        && let Some(to) = person_ref(desired, observed, people, group, m, problems)
    {
        changes.push(GroupChange::Manager {
            from: live_manager.clone(),
            to,
        });
    }
    let mut items = Vec::new();
    if !changes.is_empty() {
        items.push(Item::new(
            ItemKey::group(&group.name),
            Change::UpdateGroup {
                id: live.id.clone(),
                changes,
            },
        ));
    }
    let is_member = |email: &str| live.members.iter().any(|m| m.email == email);
    for person in &group.people {
        let manager_set = group
            .manager
            .as_ref()
            .is_some_and(|m| m.email == person.email);
        if is_member(&person.email) || manager_set {
            continue;
        }
        if let Some(p) = person_ref(desired, observed, people, group, person, problems) {
            items.push(Item::new(
                ItemKey::group_member(&group.name, &person.email),
                Change::AddGroupMember {
                    group_id: Some(live.id.clone()),
                    person: p,
                },
            ));
        }
    }
    if group.members == MembersMode::Exact {
        let wanted: std::collections::BTreeSet<&str> =
            group.emails().map(|p| p.email.as_str()).collect();
        for member in &live.members {
            if wanted.contains(member.email.as_str()) {
                continue;
            }
            items.push(Item::new(
                ItemKey::group_member(&group.name, &member.email),
                Change::RemoveGroupMember {
                    group_id: live.id.clone(),
                    target: Member::User {
                        id: member.id.clone(),
                        email: member.email.clone(),
                    },
                },
            ));
        }
    }
    items
}
