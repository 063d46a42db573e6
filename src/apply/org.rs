//! The portal section of groups and people as code, run before the rooms so that a room can
//! be shared with a group (or a person in it) that the same run makes: one invitation call
//! for every new person, one type call per type, then one write per group (its create or
//! update carries its manager and people), each read back (`GET /group/{id}`) and every
//! requested member checked, as shares are. A failed step skips what depends on it, with
//! the reason; nothing else stops (docs/architecture.md, "Apply").

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};

use super::{Journal, PORTAL_SECTION, RoomLog, api_err, refused};
use crate::docspace::{
    ApiError, CreateGroupRequest, DocSpaceApi, InvitePeopleRequest, PersonInvitation,
    UpdateGroupRequest,
};
use crate::model::UserType;
use crate::observe::groups::{GroupDetail, read_group};
use crate::plan::org::{GroupChange, PersonRef};
use crate::plan::{Action, Change, GuardReason, Item, Member, Plan, Target};
use crate::report::{Dependency, Entry, EntryError, Outcome, SkipReason};
use crate::state::ObservedUser;

/// What the portal section made that the rooms may need: the ids of the groups it created
/// (lower-cased name -> id), and why a group it should have made is missing.
#[derive(Debug, Default)]
pub(super) struct Made {
    groups: HashMap<String, Result<String, ()>>,
    /// The emails `invite_person` items gave an account.
    people: std::collections::HashSet<String>,
}

/// Runs the portal section's people and group items and records one entry per item.
pub(super) async fn run<A: DocSpaceApi>(
    api: &A,
    plan: &Plan,
    allow_removals: bool,
    interrupted: &AtomicBool,
    journal: &Journal,
) -> Made {
    let log = RoomLog {
        journal,
        room: PORTAL_SECTION,
    };
    let mut made = Made::default();
    let items: Vec<&Item> = plan
        .portal_items
        .iter()
        .filter(|i| i.action().is_org())
        .collect();
    if items.is_empty() {
        return made;
    }
    // Ctrl-C is checked before each call: what has not started is reported skipped.
    let ids = invite(api, &items, interrupted, &log).await;
    made.people = ids.keys().cloned().collect();
    change_types(api, &items, interrupted, &log).await;
    let mut by_group: BTreeMap<&str, Vec<&Item>> = BTreeMap::new();
    let mut order: Vec<&str> = Vec::new();
    for item in &items {
        if let Some(name) = item.key.group_name() {
            if !by_group.contains_key(name) {
                order.push(name);
            }
            by_group.entry(name).or_default().push(item);
        }
    }
    for name in order {
        let group_items = by_group.remove(name).unwrap_or_default();
        if interrupted.load(Ordering::SeqCst) {
            for item in group_items {
                skip_interrupted(item, &mut made, &log);
            }
            continue;
        }
        write_group(
            api,
            name,
            &group_items,
            allow_removals,
            &ids,
            &mut made,
            &log,
        )
        .await;
    }
    made
}

/// The entry of an item not started because of Ctrl-C.
fn interrupted_entry(item: &Item) -> Entry {
    Entry::of_portal_item(item, Outcome::Skipped(SkipReason::Interrupted))
}

/// Reports an item not started because of Ctrl-C; a group it was to create is not made.
fn skip_interrupted(item: &Item, made: &mut Made, log: &RoomLog<'_>) {
    log.push(interrupted_entry(item));
    if let Change::CreateGroup { name, .. } = &item.change {
        made.groups.insert(name.to_lowercase(), Err(()));
    }
}

/// The entry of a refused call; a 429 carries the server's wait.
fn refusal(e: &ApiError, what: &str) -> EntryError {
    refused(e, || {
        format!("the portal refused {what}: it limits this call")
    })
}

/// Every `invite_person` item in one `POST /people/invite`, then each person looked up:
/// the server stops at the first refusal with the earlier people invited, so the outcome
/// of each is what the portal shows. Returns the ids of the accounts made (by email).
async fn invite<A: DocSpaceApi>(
    api: &A,
    items: &[&Item],
    interrupted: &AtomicBool,
    log: &RoomLog<'_>,
) -> HashMap<String, String> {
    let mut ids = HashMap::new();
    let invites: Vec<(&Item, &str, UserType)> = items
        .iter()
        .filter_map(|i| match &i.change {
            Change::InvitePerson { email, user_type } => Some((*i, email.as_str(), *user_type)),
            _ => None,
        })
        .collect();
    if invites.is_empty() {
        return ids;
    }
    if interrupted.load(Ordering::SeqCst) {
        for (item, _, _) in invites {
            log.push(interrupted_entry(item));
        }
        return ids;
    }
    let request = InvitePeopleRequest {
        invitations: invites
            .iter()
            .map(|(_, email, t)| PersonInvitation {
                email: email.to_string(),
                user_type: t.wire(),
            })
            .collect(),
        culture: None,
    };
    let sent = api.invite_people(&request).await;
    for (item, email, wanted) in invites {
        let outcome = match (api.user_by_email(email).await, &sent) {
            (Ok(Some(u)), _) => {
                let u = ObservedUser::from_dto(&u);
                ids.insert(email.to_string(), u.id.clone());
                shown_type(&u, wanted)
            }
            (Ok(None), Err(e)) => Outcome::Failed(refusal(e, "the invitation")),
            (Ok(None), Ok(_)) => Outcome::Failed(EntryError::new(
                None,
                "the portal answered but shows no account with this address: the invitation was not made",
            )),
            (Err(e), _) => Outcome::Failed(unverified(&e)),
        };
        log.push(Entry::of_portal_item(item, outcome));
    }
    ids
}

fn unverified(e: &ApiError) -> EntryError {
    let e = api_err(e);
    EntryError::new(
        e.http_status,
        format!("could not read the person back to verify: {}", e.message),
    )
}

/// Applied when the account shows the type asked for.
fn shown_type(u: &ObservedUser, wanted: UserType) -> Outcome {
    if u.user_type == wanted {
        Outcome::Applied
    } else {
        Outcome::Failed(EntryError::new(
            None,
            format!(
                "the account exists but its type is {}, not {}",
                u.user_type.name(),
                wanted.name()
            ),
        ))
    }
}

/// The `change_user_type` items, one call per type, each person read back.
async fn change_types<A: DocSpaceApi>(
    api: &A,
    items: &[&Item],
    interrupted: &AtomicBool,
    log: &RoomLog<'_>,
) {
    let mut by_type: BTreeMap<UserType, Vec<(&Item, &str, &str)>> = BTreeMap::new();
    for item in items {
        if let Change::ChangeUserType {
            target: Member::User { id, email },
            to,
            ..
        } = &item.change
        {
            by_type.entry(*to).or_default().push((item, id, email));
        }
    }
    for (to, people) in by_type {
        if interrupted.load(Ordering::SeqCst) {
            for (item, _, _) in people {
                log.push(interrupted_entry(item));
            }
            continue;
        }
        let ids: Vec<String> = people.iter().map(|(_, id, _)| id.to_string()).collect();
        let sent = api.set_user_type(to.wire(), &ids).await;
        for (item, _, email) in people {
            let outcome = match (api.user_by_email(email).await, &sent) {
                (Ok(Some(u)), Err(e)) if ObservedUser::from_dto(&u).user_type != to => {
                    Outcome::Failed(refusal(e, "the type change"))
                }
                (Ok(Some(u)), _) => shown_type(&ObservedUser::from_dto(&u), to),
                (Ok(None), _) => Outcome::Failed(EntryError::new(None, "the account is gone")),
                (Err(e), _) => Outcome::Failed(unverified(&e)),
            };
            log.push(Entry::of_portal_item(item, outcome));
        }
    }
}

/// The items of a group that are sent; the others (guarded removals, people whose
/// invitation failed) are reported skipped.
fn to_send<'a>(
    items: &[&'a Item],
    allow_removals: bool,
    ids: &HashMap<String, String>,
    log: &RoomLog<'_>,
) -> Vec<&'a Item> {
    let mut send = Vec::new();
    for item in items {
        let skip = match &item.change {
            Change::RemoveGroupMember { .. } if !allow_removals => {
                Some(SkipReason::RemovalGuard(GuardReason::GroupMember))
            }
            Change::AddGroupMember { person, .. } if person_id(person, ids).is_none() => {
                Some(SkipReason::DependencyFailed(Dependency::PersonNotInvited))
            }
            _ => None,
        };
        match skip {
            Some(why) => log.push(Entry::of_portal_item(item, Outcome::Skipped(why))),
            None => send.push(*item),
        }
    }
    send
}

/// The group's one write: a create (recording the new id, or its failure, in `made`) or an
/// update; `None` when nothing is left to send.
async fn send_write<A: DocSpaceApi>(
    api: &A,
    name: &str,
    send: &[&Item],
    ids: &HashMap<String, String>,
    made: &mut Made,
) -> Option<Result<String, ApiError>> {
    let create = send.iter().find_map(|i| match &i.change {
        Change::CreateGroup { manager, .. } => Some(manager.as_ref()),
        _ => None,
    });
    if let Some(manager) = create {
        let request = CreateGroupRequest {
            group_name: name.to_string(),
            group_manager: manager.and_then(|m| person_id(m, ids)),
            members: send.iter().filter_map(|i| added(i, ids)).collect(),
        };
        let result = api.create_group(&request).await.map(|g| g.id);
        let made_id = match &result {
            Ok(id) => Ok(id.clone()),
            Err(_) => Err(()),
        };
        made.groups.insert(name.to_lowercase(), made_id);
        return Some(result);
    }
    let id = send.iter().find_map(|i| group_id(i))?;
    let request = UpdateGroupRequest {
        // Always the manifest's name: the plan renames whenever the live one differs, and
        // an empty name would empty it (docs/docspace-api.md, "Groups and people").
        group_name: name.to_string(),
        group_manager: send.iter().find_map(|i| new_manager(i, ids)),
        members_to_add: send.iter().filter_map(|i| added(i, ids)).collect(),
        members_to_remove: send.iter().filter_map(|i| removed(i)).collect(),
    };
    Some(api.update_group(&id, &request).await.map(|_| id))
}

/// The account id of a person of a group item: known when planned, made by this run's
/// invitation, or `None` (the invitation failed).
fn person_id(p: &PersonRef, ids: &HashMap<String, String>) -> Option<String> {
    p.id.clone().or_else(|| ids.get(&p.email).cloned())
}

/// One group: its create or update in one call with every person that has an id, then a
/// read-back that decides each item.
async fn write_group<A: DocSpaceApi>(
    api: &A,
    name: &str,
    items: &[&Item],
    allow_removals: bool,
    ids: &HashMap<String, String>,
    made: &mut Made,
    log: &RoomLog<'_>,
) {
    let send = to_send(items, allow_removals, ids, log);
    let create = send.iter().any(|i| i.action() == Action::CreateGroup);
    let Some(written) = send_write(api, name, &send, ids, made).await else {
        return;
    };
    let id = match written {
        Ok(id) => id,
        Err(e) => {
            for item in send {
                let outcome = match item.action() {
                    Action::CreateGroup | Action::UpdateGroup => Outcome::Failed(api_err(&e)),
                    _ if create => {
                        Outcome::Skipped(SkipReason::DependencyFailed(Dependency::GroupNotWritten))
                    }
                    _ => Outcome::Failed(api_err(&e)),
                };
                log.push(Entry::of_portal_item(item, outcome));
            }
            return;
        }
    };
    let live = read_group(api, &id).await;
    for item in send {
        let outcome = match &live {
            Ok(g) => shown_by(item, name, g, ids),
            Err(e) => Outcome::Failed(EntryError::new(
                e.http_status(),
                format!("could not read the group back to verify: {e}"),
            )),
        };
        log.push(Entry::of_portal_item(item, outcome));
    }
}

fn added(item: &Item, ids: &HashMap<String, String>) -> Option<String> {
    match &item.change {
        Change::AddGroupMember { person, .. } => person_id(person, ids),
        _ => None,
    }
}

fn removed(item: &Item) -> Option<String> {
    match &item.change {
        Change::RemoveGroupMember {
            target: Member::User { id, .. },
            ..
        } => Some(id.clone()),
        _ => None,
    }
}

fn group_id(item: &Item) -> Option<String> {
    match &item.change {
        Change::UpdateGroup { id, .. } => Some(id.clone()),
        Change::AddGroupMember { group_id, .. } => group_id.clone(),
        Change::RemoveGroupMember { group_id, .. } => Some(group_id.clone()),
        _ => None,
    }
}

fn new_manager(item: &Item, ids: &HashMap<String, String>) -> Option<String> {
    match &item.change {
        Change::UpdateGroup { changes, .. } => changes.iter().find_map(|c| match c {
            GroupChange::Manager { to, .. } => person_id(to, ids),
            GroupChange::Name { .. } => None,
        }),
        _ => None,
    }
}

/// Whether the group as read back shows the item done (the server can skip a person, a
/// guest say, without an error).
fn shown_by(item: &Item, name: &str, g: &GroupDetail, ids: &HashMap<String, String>) -> Outcome {
    let member = |id: &str| g.members.iter().any(|m| m.id == id);
    if let Change::CreateGroup {
        manager: Some(m), ..
    } = &item.change
        && person_id(m, ids).is_none()
    {
        return Outcome::Failed(EntryError::new(
            None,
            format!(
                "the group was created without its manager: {} has no account (the invitation failed)",
                m.email
            ),
        ));
    }
    let done = match &item.change {
        Change::CreateGroup { manager, .. } => {
            g.name == name
                && manager
                    .as_ref()
                    .and_then(|m| person_id(m, ids))
                    .is_none_or(|id| g.manager.as_deref() == Some(id.as_str()))
        }
        Change::UpdateGroup { .. } => {
            g.name == name
                && new_manager(item, ids).is_none_or(|id| g.manager.as_deref() == Some(id.as_str()))
        }
        Change::AddGroupMember { person, .. } => {
            person_id(person, ids).is_some_and(|id| member(&id))
        }
        Change::RemoveGroupMember { .. } => removed(item).is_some_and(|id| !member(&id)),
        _ => true,
    };
    if done {
        Outcome::Applied
    } else {
        Outcome::Failed(EntryError::new(None, super::DROPPED))
    }
}

/// The rooms' share items of groups this run was to create, given the ids it made; items of
/// a group it did not make are taken out and reported skipped. `None`: nothing to resolve.
pub(super) fn resolve_rooms(plan: &Plan, made: &Made, journal: &Journal) -> Option<Plan> {
    let names_new_group = |i: &Item| {
        matches!(
            &i.change,
            Change::Invite {
                target: Target::NewGroup { .. } | Target::NewPerson { .. },
                ..
            }
        )
    };
    if !plan
        .rooms
        .iter()
        .any(|r| r.items.iter().any(names_new_group))
    {
        return None;
    }
    let mut resolved = plan.clone();
    for (n, room) in resolved.rooms.iter_mut().enumerate() {
        let log = RoomLog { journal, room: n };
        let mut kept = Vec::with_capacity(room.items.len());
        for mut item in std::mem::take(&mut room.items) {
            if let Change::Invite {
                target: target @ Target::NewGroup { .. },
                ..
            } = &mut item.change
            {
                let name = target.label().to_string();
                match made.groups.get(&name.to_lowercase()) {
                    Some(Ok(id)) => {
                        *target = Target::Group {
                            id: id.clone(),
                            name,
                        };
                    }
                    _ => {
                        let why = SkipReason::DependencyFailed(Dependency::GroupNotCreated {
                            group: name,
                        });
                        log.push(Entry::of_item(
                            room,
                            room.room_id,
                            &item,
                            Outcome::Skipped(why),
                        ));
                        continue;
                    }
                }
            }
            if let Change::Invite {
                target: Target::NewPerson { email },
                ..
            } = &item.change
                && !made.people.contains(email)
            {
                // Shared by email without an account, it would make a guest instead.
                let why = SkipReason::DependencyFailed(Dependency::PersonNotInvited);
                log.push(Entry::of_item(
                    room,
                    room.room_id,
                    &item,
                    Outcome::Skipped(why),
                ));
                continue;
            }
            kept.push(item);
        }
        room.items = kept;
    }
    Some(resolved)
}
