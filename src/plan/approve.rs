//! A saved plan is an approval, not a list of instructions (docs/architecture.md, "Saved
//! plans"). `apply --plan` plans again, with the same planner, from the desired state and
//! options the saved plan carries and the portal as it is now; this module compares the two
//! plans. Only items identical in both are applied. Nothing in the file decides anything by
//! itself: counts, ids, variable names, notes and guard figures all come from the new plan.
//!
//! The items that are not applied get a [`Verdict`]:
//! - an item only in the saved plan whose effect the portal already shows: already applied
//!   (a re-run of an apply job), which is success;
//! - an item only in the saved plan otherwise: stale, with why ([`StaleWhy`]): the plan was
//!   edited, the portal changed, or an `expires:` moment passed since the plan was made;
//! - an item only in the new plan: not approved (the portal drifted since the plan).
//!
//! Pure: the portal is read by the planner, the clock by the caller.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::done::already_done;
use super::{Action, Item, Plan, RoomChange, RoomPlan, summarise};
use crate::manifest::Desired;
use crate::state::Observed;

/// Why a saved item is not applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The portal already shows the item's effect.
    AlreadyApplied,
    /// The item is not what planning again makes.
    Stale(StaleWhy),
    /// Planning again makes this item, but the saved plan did not approve it.
    NotApproved,
}

/// Why a saved item differs from the new plan (for the message only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaleWhy {
    /// The room as read is the same as when the plan was made: the item was edited.
    Edited,
    /// The room changed on the portal since the plan was made.
    PortalChanged,
    /// An `expires:` moment of the room passed since the plan was made.
    MomentPassed,
}

/// Items of one room that are not applied, each with its verdict.
#[derive(Debug, Clone)]
pub struct SetAside {
    /// The room, holding only the set-aside items.
    pub room: RoomPlan,
    pub verdicts: Vec<Verdict>,
}

/// Everything a saved plan's approval set aside (the plan to apply holds the rest).
#[derive(Debug, Default)]
pub struct Approval {
    pub set_aside: Vec<SetAside>,
    /// Items of the portal section (groups and people) that are not applied, with their
    /// verdicts.
    pub portal: Vec<(Item, Verdict)>,
}

impl Approval {
    /// How many set-aside items have this verdict.
    pub fn count(&self, test: impl Fn(Verdict) -> bool) -> usize {
        self.set_aside
            .iter()
            .flat_map(|s| &s.verdicts)
            .chain(self.portal.iter().map(|(_, v)| v))
            .filter(|v| test(**v))
            .count()
    }
}

/// Compares the saved plan with `fresh`, the plan made again at `now` from the saved plan's
/// desired state, and keeps in `fresh` only the items the saved plan approved. Returns the
/// plan to apply and what was set aside.
pub fn approve(
    saved: &Plan,
    mut fresh: Plan,
    desired: &Desired,
    observed: &Observed,
    now: DateTime<Utc>,
) -> (Plan, Approval) {
    // A room listed twice in an edited file: the first is compared, the others are
    // saved-only (never applied).
    let mut saved_rooms: HashMap<(String, bool), &RoomPlan> = HashMap::new();
    let mut twice: Vec<&RoomPlan> = Vec::new();
    for r in &saved.rooms {
        match saved_rooms.entry((r.title.clone(), r.is_orphan())) {
            std::collections::hash_map::Entry::Occupied(_) => twice.push(r),
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(r);
            }
        }
    }
    let judge = Judge {
        saved,
        desired,
        observed,
        now,
    };
    let mut set_aside = Vec::new();
    for room in &mut fresh.rooms {
        let old = saved_rooms.remove(&(room.title.clone(), room.is_orphan()));
        set_aside.extend(judge.room(room, old));
    }
    // Rooms only in the saved plan: everything in them is saved-only.
    let mut rest: Vec<&RoomPlan> = saved_rooms.into_values().collect();
    rest.sort_by(|a, b| a.title.cmp(&b.title));
    rest.extend(twice);
    for old in rest.into_iter().filter(|r| !r.items.is_empty()) {
        let items = old.items.clone();
        set_aside.push(judge.saved_only(old, None, items));
    }
    let portal = approve_portal(saved, &mut fresh, desired);
    // A room's share of a group the portal section creates needs that create approved.
    hold_new_group_shares(&mut fresh, &mut set_aside);
    fresh.summary = summarise(&fresh.rooms, &fresh.portal_items);
    (fresh, Approval { set_aside, portal })
}

/// The portal section's groups and people items: only those identical in both plans are
/// kept; the others are not approved (new now), already applied (saved only, and planning
/// again makes nothing of that kind for that subject), or stale (edited when the desired
/// state no longer asks about that group or person, otherwise the portal changed). Resends
/// are decided at apply time and left as they are.
fn approve_portal(saved: &Plan, fresh: &mut Plan, desired: &Desired) -> Vec<(Item, Verdict)> {
    let saved_forms: HashSet<String> = saved
        .portal_items
        .iter()
        .filter(|i| i.action().is_org())
        .map(form)
        .collect();
    let items = std::mem::take(&mut fresh.portal_items);
    let made: HashSet<String> = items.iter().map(form).collect();
    let keys: HashSet<(String, super::Action)> = items
        .iter()
        .map(|i| (i.key.to_string(), i.action()))
        .collect();
    let mut out = Vec::new();
    for item in items {
        if !item.action().is_org() || saved_forms.contains(&form(&item)) {
            fresh.portal_items.push(item);
        } else {
            out.push((item, Verdict::NotApproved));
        }
    }
    for item in saved.portal_items.iter().filter(|i| i.action().is_org()) {
        if made.contains(&form(item)) {
            continue;
        }
        let asked = match &item.key {
            super::ItemKey::Person { email } => desired.person(email).is_some(),
            super::ItemKey::Group { group } | super::ItemKey::GroupMember { group, .. } => {
                desired.declared_group(group).is_some()
            }
            _ => false,
        };
        // Planning again makes nothing for this subject: the portal already shows it.
        let verdict = if !asked {
            Verdict::Stale(StaleWhy::Edited)
        } else if !keys.contains(&(item.key.to_string(), item.action())) {
            Verdict::AlreadyApplied
        } else {
            Verdict::Stale(StaleWhy::PortalChanged)
        };
        out.push((item.clone(), verdict));
    }
    out
}

/// Takes out (not approved) the share items of groups and people this run was to make when
/// their create or invitation is not approved: a room cannot be shared with them otherwise.
fn hold_new_group_shares(fresh: &mut Plan, set_aside: &mut Vec<SetAside>) {
    // (is a person, name or email) of what the approved portal section makes.
    let creates: HashSet<(bool, String)> = fresh
        .portal_items
        .iter()
        .filter_map(|i| match &i.change {
            super::Change::CreateGroup { name, .. } => Some((false, name.to_lowercase())),
            super::Change::InvitePerson { email, .. } => Some((true, email.clone())),
            _ => None,
        })
        .collect();
    for room in &mut fresh.rooms {
        let (held, kept): (Vec<Item>, Vec<Item>) = std::mem::take(&mut room.items)
            .into_iter()
            .partition(|i| match &i.change {
                super::Change::Invite {
                    target: super::Target::NewGroup { name },
                    ..
                } => !creates.contains(&(false, name.to_lowercase())),
                super::Change::Invite {
                    target: super::Target::NewPerson { email },
                    ..
                } => !creates.contains(&(true, email.clone())),
                _ => false,
            });
        room.items = kept;
        if !held.is_empty() {
            let mut r = room.clone();
            let verdicts = vec![Verdict::NotApproved; held.len()];
            r.items = held;
            set_aside.push(SetAside { room: r, verdicts });
        }
    }
}

/// An item as the saved plan writes it, which is what the reviewer approved: values kept out
/// of the file (a password's digest) are not part of the comparison.
fn form(item: &Item) -> String {
    serde_json::to_string(item).unwrap_or_default()
}

struct Judge<'a> {
    saved: &'a Plan,
    desired: &'a Desired,
    observed: &'a Observed,
    now: DateTime<Utc>,
}

impl Judge<'_> {
    /// Keeps the approved items of `room` and returns the others.
    fn room(&self, room: &mut RoomPlan, old: Option<&RoomPlan>) -> Vec<SetAside> {
        let saved_items: &[Item] = old.map_or(&[], |o| o.items.as_slice());
        let items = std::mem::take(&mut room.items);
        let saved_forms: Vec<String> = saved_items.iter().map(form).collect();
        let saved_set: HashSet<&str> = saved_forms.iter().map(String::as_str).collect();
        let approved_by_saved = |i: &Item| saved_set.contains(form(i).as_str());
        // A room that must be created or unarchived first: if that step is not approved,
        // nothing of the room can run.
        let first_ok = items.first().is_none_or(|first| {
            !matches!(first.action(), Action::CreateRoom | Action::Unarchive)
                || approved_by_saved(first)
        });
        let (approved, unapproved): (Vec<Item>, Vec<Item>) = items
            .into_iter()
            .partition(|i| first_ok && approved_by_saved(i));
        let made: HashSet<String> = approved.iter().chain(&unapproved).map(form).collect();
        let saved_only: Vec<Item> = saved_items
            .iter()
            .zip(&saved_forms)
            .filter(|(_, f)| !made.contains(*f))
            .map(|(i, _)| i.clone())
            .collect();
        room.items = approved;
        if room.items.is_empty() && room.change != RoomChange::Unchanged {
            room.change = RoomChange::Unchanged;
        }
        let mut out = Vec::new();
        if !unapproved.is_empty() {
            let verdicts = vec![Verdict::NotApproved; unapproved.len()];
            let mut r = room.clone();
            r.items = unapproved;
            out.push(SetAside { room: r, verdicts });
        }
        if let Some(old) = old.filter(|_| !saved_only.is_empty()) {
            out.push(self.saved_only(old, Some(room), saved_only));
        }
        out
    }

    /// The verdicts of `items`, saved items of `old` that planning again did not make.
    fn saved_only(&self, old: &RoomPlan, fresh: Option<&RoomPlan>, items: Vec<Item>) -> SetAside {
        let mut room = old.clone();
        room.items = items;
        let live_id = fresh.and_then(|f| f.room_id).or(old.room_id);
        let live = live_id.and_then(|id| {
            let r = self.observed.rooms.iter().find(|r| r.id == id)?;
            let members = self.observed.members.get(&id)?;
            Some((r, members.as_slice()))
        });
        let done = already_done(&room, live);
        let why = self.why(old, fresh);
        let verdicts = done
            .iter()
            .map(|&d| {
                if d {
                    Verdict::AlreadyApplied
                } else {
                    Verdict::Stale(why)
                }
            })
            .collect();
        room.room_id = live_id;
        SetAside { room, verdicts }
    }

    /// Why the saved items of `old` differ from planning again.
    fn why(&self, old: &RoomPlan, fresh: Option<&RoomPlan>) -> StaleWhy {
        let asked_for = self.desired.rooms.iter().any(|r| r.title == old.title);
        if self.moment_passed(&old.title) {
            StaleWhy::MomentPassed
        } else if fresh.is_some_and(|f| f.fingerprint == old.fingerprint) {
            StaleWhy::Edited
        } else if fresh.is_none() && !asked_for && !old.is_orphan() {
            // A room the plan's own desired state does not name, and not one pruning
            // found: an item added by hand.
            StaleWhy::Edited
        } else {
            StaleWhy::PortalChanged
        }
    }

    /// Whether an `expires:` of the room (invitees and links) fell between the plan and now.
    fn moment_passed(&self, title: &str) -> bool {
        let since = self.saved.planned_at;
        let passed = |at: &DateTime<Utc>| *at > since && *at <= self.now;
        self.desired
            .rooms
            .iter()
            .filter(|r| r.title == title)
            .any(|r| {
                r.invitees
                    .iter()
                    .filter_map(|i| i.expires.as_ref())
                    .any(passed)
                    || r.links
                        .iter()
                        .filter_map(|l| l.expires.flatten())
                        .any(|at| passed(&at))
            })
    }
}
