//! The pure diff: (desired, observed) -> [`Plan`]. No I/O. Each change is an [`Item`] with a
//! stable key (room title + subject) so plans, reports and re-runs line up; output order is
//! deterministic (rooms and items sorted by key).
//!
//! Per room, items run in this order: create or unarchive, settings, one share batch
//! (invite / change access / remove), archive. Unarchive comes before settings because the
//! server refuses edits to archived rooms (docspace-api.md 5.4).

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::manifest::{
    Desired, DesiredRoom, MembersMode, Origin, Problem, Quota, RoomState, Subject,
};
use crate::model::{self, Access, RoomType, SubjectKind, UserType};
use crate::state::{self, MemberSubject, Observed, ObservedMember, ObservedRoom};

/// The version of the plan / saved-plan JSON.
pub const FORMAT_VERSION: u32 = 1;

/// What an item does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    CreateRoom,
    Unarchive,
    UpdateRoom,
    Invite,
    ChangeAccess,
    Remove,
    Archive,
}

impl Action {
    /// Execution order within a room.
    pub fn order(self) -> u8 {
        match self {
            Action::CreateRoom | Action::Unarchive => 0,
            Action::UpdateRoom => 1,
            Action::Invite | Action::ChangeAccess | Action::Remove => 2,
            Action::Archive => 3,
        }
    }

    pub fn is_share(self) -> bool {
        matches!(self, Action::Invite | Action::ChangeAccess | Action::Remove)
    }
}

/// Who a share item is for, as the share call needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Target {
    /// An existing account, by id.
    User {
        id: String,
        email: String,
    },
    /// No account yet: invited by email, which creates a pending guest (docspace-api.md 6.5).
    NewGuest {
        email: String,
    },
    Group {
        id: String,
        name: String,
    },
}

impl Target {
    pub fn label(&self) -> &str {
        match self {
            Target::User { email, .. } | Target::NewGuest { email } => email,
            Target::Group { name, .. } => name,
        }
    }
}

/// One setting that differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    /// Human form of the live value (`None` when the room does not exist yet).
    pub from: Option<String>,
    pub to: String,
}

/// The settings a create or update sends.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RoomSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quota: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deny_download: Option<bool>,
}

/// One planned change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// `room title` or `room title / subject`: stable across plan, report and re-runs.
    pub key: String,
    pub action: Action,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<Target>,
    /// The access to set (`none` for removals).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<Access>,
    /// The live access before the change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_access: Option<Access>,
    /// Settings changes (create_room, update_room).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
    /// Why a removal happens: `access: none` in the manifest, or `members: exact`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<RemovalReason>,
}

/// Why a member is removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RemovalReason {
    /// The manifest says `access: none`.
    AccessNone,
    /// Not listed in a `members: exact` room.
    NotListed,
}

impl Item {
    /// The subject label (email or group), where relevant.
    pub fn subject(&self) -> Option<&str> {
        self.target.as_ref().map(Target::label)
    }
}

/// Whether a room is created, changed or left alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomChange {
    Create,
    Update,
    Unchanged,
}

/// Everything planned for one room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomPlan {
    pub title: String,
    #[serde(rename = "type")]
    pub room_type: RoomType,
    /// The live room id (`None` when it is to be created).
    pub room_id: Option<i64>,
    pub change: RoomChange,
    /// Settings a create sends (only for `create`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create: Option<RoomSettings>,
    /// Settings an update sends (only when settings differ).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<RoomSettings>,
    /// Fingerprint of the observed room when planned (see [`state::fingerprint`]).
    pub fingerprint: String,
    /// Members before the plan (for the removal guard).
    pub members_before: usize,
    pub items: Vec<Item>,
    /// Something a reviewer should know: about a room the plan leaves alone, or, on a room
    /// with changes, that the removal guard would refuse its removals (set by the `plan` and
    /// `apply` commands, which know `--allow-removals`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Hints about the room's identity and settings (see [`RoomNote`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<RoomNote>,
}

/// Something a reviewer should know about a room's plan, beyond its items. Text is made in
/// `render/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum RoomNote {
    /// A room with this title is kept in connected third-party storage, which the tool cannot
    /// manage; it is not the manifest's room.
    ConnectedNamesake {
        id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        provider: Option<String>,
    },
    /// A planned create whose title is close to an existing room's (same but for case, or a
    /// small edit such as a rename in the web UI): pin it with `id:` to adopt that room.
    SimilarRoom { id: i64, title: String },
    /// Tag names compare case-insensitively on the portal: asking for `requested` gives the
    /// room the existing tag `existing`.
    TagSpelling { requested: String, existing: String },
    /// The room's members could not be read (after retries): the room is left out of this
    /// plan, `apply` skips it, and the run's exit code says the portal may still differ.
    Unreadable { error: String },
}

impl RoomPlan {
    /// Why the room was left out, when it could not be read.
    pub fn unreadable_error(&self) -> Option<&str> {
        self.notes.iter().find_map(|n| match n {
            RoomNote::Unreadable { error } => Some(error.as_str()),
            _ => None,
        })
    }

    /// Whether the room was left out because it could not be read.
    pub fn is_unreadable(&self) -> bool {
        self.unreadable_error().is_some()
    }
}

/// Invitation settings from the manifest defaults.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ShareSettings {
    pub notify: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub culture: Option<String>,
}

/// Counts for the closing line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Summary {
    pub rooms_to_create: usize,
    pub rooms_to_update: usize,
    pub rooms_unchanged: usize,
    pub invitations: usize,
    pub new_guests: usize,
    pub access_changes: usize,
    pub removals: usize,
    pub archives: usize,
    pub unarchives: usize,
    /// POST and PUT requests `apply` will send at least (a create, a settings update, one
    /// share batch, an archive or unarchive per room): what the portal's daily write limit
    /// counts (docs/docspace-api.md, "Rate limits").
    #[serde(default)]
    pub write_calls: usize,
    /// Rooms left out because they could not be read (see [`RoomNote::Unreadable`]).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub rooms_unreadable: usize,
}

/// The portal's default daily limit of POST and PUT requests per user (docs/docspace-api.md,
/// "Rate limits").
pub const DAILY_WRITE_LIMIT: usize = 10_000;

impl Summary {
    pub fn has_changes(&self) -> bool {
        self.rooms_to_create + self.rooms_to_update > 0
    }
}

/// A whole plan. Also the saved-plan format (`plan --out`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: u32,
    pub portal: String,
    /// Hash of the manifests' text (saved plans).
    pub manifest_hash: String,
    pub share: ShareSettings,
    pub rooms: Vec<RoomPlan>,
    pub summary: Summary,
    /// Rooms in connected third-party storage on the portal: listed, never managed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unmanaged_connected_rooms: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Plan {
    pub fn has_changes(&self) -> bool {
        self.summary.has_changes()
    }
}

/// Problems that need the portal to see, located in the manifest. Any error here stops the
/// run before a change.
pub type PortalProblems = Vec<Problem>;

/// Diffs desired against observed. Returns the plan, or the located problems that forbid one.
pub fn diff(
    desired: &Desired,
    observed: &Observed,
    manifest_hash: String,
) -> Result<Plan, PortalProblems> {
    let mut problems = Vec::new();
    let mut rooms = Vec::with_capacity(desired.rooms.len());
    // Pinned ids claim their live rooms first, so a title match cannot take the same room.
    let pinned: HashMap<i64, &DesiredRoom> = desired
        .rooms
        .iter()
        .filter_map(|r| r.id.map(|id| (id, r)))
        .collect();
    let index = PortalIndex::new(desired, observed);
    for room in &desired.rooms {
        match plan_room(desired, observed, room, &pinned, &index, &mut problems) {
            Some(p) => rooms.push(p),
            None => continue,
        }
    }
    if problems.iter().any(Problem::is_error) {
        return Err(problems);
    }
    rooms.sort_by(|a, b| a.title.cmp(&b.title));
    let summary = summarise(&rooms);
    Ok(Plan {
        format_version: FORMAT_VERSION,
        portal: observed.portal.clone(),
        manifest_hash,
        share: ShareSettings {
            notify: desired.defaults.notify,
            message: desired.defaults.message.clone(),
            culture: desired.defaults.culture.clone(),
        },
        rooms,
        summary,
        unmanaged_connected_rooms: observed.connected_rooms.len(),
    })
}

pub fn summarise(rooms: &[RoomPlan]) -> Summary {
    let mut s = Summary::default();
    for r in rooms {
        if r.is_unreadable() {
            s.rooms_unreadable += 1;
        }
        match r.change {
            RoomChange::Create => s.rooms_to_create += 1,
            RoomChange::Update => s.rooms_to_update += 1,
            RoomChange::Unchanged => s.rooms_unchanged += 1,
        }
        // One share batch per room, whatever the number of members (a refused batch re-sent
        // item by item costs more; this is the floor).
        s.write_calls += usize::from(r.items.iter().any(|i| i.action.is_share()));
        for i in &r.items {
            if matches!(
                i.action,
                Action::CreateRoom | Action::UpdateRoom | Action::Archive | Action::Unarchive
            ) {
                s.write_calls += 1;
            }
            match i.action {
                Action::Invite => {
                    s.invitations += 1;
                    if matches!(i.target, Some(Target::NewGuest { .. })) {
                        s.new_guests += 1;
                    }
                }
                Action::ChangeAccess => s.access_changes += 1,
                Action::Remove => s.removals += 1,
                Action::Archive => s.archives += 1,
                Action::Unarchive => s.unarchives += 1,
                Action::CreateRoom | Action::UpdateRoom => {}
            }
        }
    }
    s
}

fn locate(
    desired: &Desired,
    origin: Origin,
    code: &'static str,
    message: String,
    label: &str,
    help: String,
) -> Problem {
    Problem::error(code, message)
        .at(&desired.files[origin.file], origin.span, label)
        .with_help(help)
}

/// Finds the live room for a manifest room (DESIGN.md section 4, identity).
fn find_room<'a>(
    desired: &Desired,
    observed: &'a Observed,
    room: &DesiredRoom,
    pinned: &HashMap<i64, &DesiredRoom>,
    index: &PortalIndex<'a>,
    problems: &mut Vec<Problem>,
) -> Result<Option<&'a ObservedRoom>, ()> {
    let live = match room.id {
        Some(id) => match observed.rooms.iter().find(|r| r.id == id) {
            Some(r) => Some(r),
            None => {
                problems.push(locate(
                    desired,
                    room.origin,
                    "portal::pinned_id_missing",
                    format!("room `{}` is pinned to id {id}, but the portal has no room {id} that this key can see", room.title),
                    "pinned room",
                    "check the id (it is in the room's URL), or remove `id:` to match by title".into(),
                ));
                return Err(());
            }
        },
        None => {
            // By stored title (see `model::title_matches`), sorted by id: the listing's order is
            // the key user's own sort preference.
            let candidates: &[&ObservedRoom] = index
                .by_stored_title
                .get(&room.title)
                .map_or(&[], Vec::as_slice);
            match candidates {
                [] => None,
                [one] => {
                    // The live room is already another manifest room's by `id:`: managing it
                    // twice would fight over it on every run.
                    if let Some(owner) = pinned.get(&one.id) {
                        problems.push(locate(
                            desired,
                            room.origin,
                            "portal::room_claimed_twice",
                            format!(
                                "room `{}` matches room id {} by title, but room `{}` already pins that id",
                                room.title, one.id, owner.title
                            ),
                            "same live room",
                            "one live room can be managed by one manifest entry: merge the two, or give this one another title".into(),
                        ));
                        return Err(());
                    }
                    Some(*one)
                }
                many => {
                    let ids: Vec<String> = many.iter().map(|r| r.id.to_string()).collect();
                    problems.push(locate(
                        desired,
                        room.origin,
                        "portal::ambiguous_title",
                        format!(
                            "{} rooms on the portal are titled `{}` (ids {})",
                            many.len(),
                            room.title,
                            ids.join(", ")
                        ),
                        "ambiguous title",
                        format!(
                            "pin the room you mean with `id: {}` (or another of the ids above)",
                            many[0].id
                        ),
                    ));
                    return Err(());
                }
            }
        }
    };
    if let Some(live) = live
        && live.room_type != Some(room.room_type)
    {
        let live_type = live.room_type.map_or_else(
            || format!("type {}", live.raw_room_type.unwrap_or_default()),
            |t| t.to_string(),
        );
        problems.push(locate(
                desired,
                room.origin,
                "portal::room_type_differs",
                format!("room `{}` (id {}) is a {live_type} room on the portal, not {}", room.title, live.id, room.room_type),
                "type differs",
                format!("DocSpace cannot change a room's type: write `type: {live_type}`, or give the new room another title"),
            ));
        return Err(());
    }
    Ok(live)
}

fn plan_room<'a>(
    desired: &Desired,
    observed: &Observed,
    room: &DesiredRoom,
    pinned: &HashMap<i64, &DesiredRoom>,
    index: &PortalIndex<'a>,
    problems: &mut Vec<Problem>,
) -> Option<RoomPlan> {
    let live = find_room(desired, observed, room, pinned, index, problems).ok()?;
    if let Some(live) = live
        && let Some(error) = observed.unreadable.get(&live.id)
    {
        // Nothing can be compared without the members: left out, and said so.
        let mut plan = left_alone(room, live, state::fingerprint(Some(live), None), 0);
        plan.notes.push(RoomNote::Unreadable {
            error: error.clone(),
        });
        return Some(plan);
    }
    let members: &[ObservedMember] = live
        .and_then(|r| observed.members.get(&r.id))
        .map(Vec::as_slice)
        .unwrap_or_default();
    let fingerprint = state::fingerprint(live, live.map(|_| members));
    let key = room.title.clone();
    let mut items = Vec::new();

    // Resolve every invitee first, so that portal problems are all reported.
    let targets: Vec<Option<Target>> = room
        .invitees
        .iter()
        .map(|inv| resolve(desired, observed, room, inv, problems))
        .collect();

    let (create, update) = match live {
        None => {
            let settings = RoomSettings {
                title: Some(room.title.clone()),
                tags: room.tags.as_ref().map(|t| t.iter().cloned().collect()),
                quota: room.quota.map(Quota::wire),
                deny_download: room.deny_download,
            };
            let mut changes = vec![FieldChange {
                field: "type".into(),
                from: None,
                to: room.room_type.to_string(),
            }];
            changes.extend(describe(&settings, None));
            items.push(Item {
                key: key.clone(),
                action: Action::CreateRoom,
                target: None,
                access: None,
                from_access: None,
                changes,
                reason: None,
            });
            (Some(settings), None)
        }
        Some(live) => {
            if live.archived && room.state == RoomState::Present {
                items.push(simple(&key, Action::Unarchive));
            }
            if live.archived && room.state == RoomState::Archived {
                // An archived room cannot be edited or shared (5.4); it is left as it is.
                let mut plan = left_alone(room, live, fingerprint, count_members(members));
                plan.note = Some(
                    "archived: left as it is; its settings and members are not compared (DocSpace refuses edits to archived rooms)".into(),
                );
                return Some(plan);
            }
            let update = settings_update(room, live);
            if let Some(u) = &update {
                items.push(Item {
                    key: key.clone(),
                    action: Action::UpdateRoom,
                    target: None,
                    access: None,
                    from_access: None,
                    changes: describe(u, Some(live)),
                    reason: None,
                });
            }
            (None, update)
        }
    };

    // Share changes.
    let mut listed: BTreeSet<String> = BTreeSet::new();
    for (inv, target) in room.invitees.iter().zip(targets) {
        let Some(target) = target else { continue };
        let current = match &target {
            Target::User { id, .. } => members
                .iter()
                .find(|m| matches!(&m.subject, MemberSubject::User(u) if &u.id == id)),
            Target::Group { id, .. } => members
                .iter()
                .find(|m| matches!(&m.subject, MemberSubject::Group(g) if &g.id == id)),
            Target::NewGuest { .. } => None,
        };
        listed.insert(member_key(&target));
        let item_key = format!("{key} / {}", target.label());
        // A room the tool creates is owned by the key's user, who then shows only in the
        // synthetic owner row (6.1): inviting them is meaningless and the read-back could
        // never confirm it.
        let targets_me =
            matches!((&target, &observed.me), (Target::User { id, .. }, Some(me)) if *id == me.id);
        if live.is_none() && targets_me {
            continue;
        }
        match current {
            Some(m) if m.is_owner || is_me(observed, m) => {
                // The owner and the key's own user cannot be re-shared; nothing to do.
                continue;
            }
            Some(m) if inv.access == Access::None => items.push(Item {
                key: item_key,
                action: Action::Remove,
                target: Some(target),
                access: Some(Access::None),
                from_access: m.access,
                changes: Vec::new(),
                reason: Some(RemovalReason::AccessNone),
            }),
            Some(m) if m.access == Some(inv.access) => {}
            Some(m) => items.push(Item {
                key: item_key,
                action: Action::ChangeAccess,
                target: Some(target),
                access: Some(inv.access),
                from_access: m.access,
                changes: Vec::new(),
                reason: None,
            }),
            None if inv.access == Access::None => {}
            None => items.push(Item {
                key: item_key,
                action: Action::Invite,
                target: Some(target),
                access: Some(inv.access),
                from_access: None,
                changes: Vec::new(),
                reason: None,
            }),
        }
    }
    if room.members == MembersMode::Exact {
        for m in members {
            // Rows without a member role (the owner's ReadWrite) are not removable.
            if m.is_owner || is_me(observed, m) || m.access.is_none() {
                continue;
            }
            let target = match &m.subject {
                MemberSubject::User(u) => Target::User {
                    id: u.id.clone(),
                    email: u.email.clone(),
                },
                MemberSubject::Group(g) => Target::Group {
                    id: g.id.clone(),
                    name: g.name.clone(),
                },
            };
            if listed.contains(&member_key(&target)) {
                continue;
            }
            items.push(Item {
                key: format!("{key} / {}", target.label()),
                action: Action::Remove,
                target: Some(target),
                access: Some(Access::None),
                from_access: m.access,
                changes: Vec::new(),
                reason: Some(RemovalReason::NotListed),
            });
        }
    }
    if room.state == RoomState::Archived {
        items.push(simple(&key, Action::Archive));
    }

    items.sort_by(|a, b| {
        a.action
            .order()
            .cmp(&b.action.order())
            .then_with(|| a.key.cmp(&b.key))
    });
    let change = match (live, items.is_empty()) {
        (None, _) => RoomChange::Create,
        (Some(_), true) => RoomChange::Unchanged,
        (Some(_), false) => RoomChange::Update,
    };
    Some(RoomPlan {
        title: room.title.clone(),
        room_type: room.room_type,
        room_id: live.map(|r| r.id),
        change,
        create,
        update,
        fingerprint,
        members_before: count_members(members),
        items,
        note: None,
        notes: room_notes(observed, room, live, index),
    })
}

/// The plan of a live room the planner does not compare (no items).
fn left_alone(
    room: &DesiredRoom,
    live: &ObservedRoom,
    fingerprint: String,
    members_before: usize,
) -> RoomPlan {
    RoomPlan {
        title: room.title.clone(),
        room_type: room.room_type,
        room_id: Some(live.id),
        change: RoomChange::Unchanged,
        create: None,
        update: None,
        fingerprint,
        members_before,
        items: Vec::new(),
        note: None,
        notes: Vec::new(),
    }
}

/// What the hints need from the portal, computed once per plan rather than per manifest room
/// (a first plan of 10,000 rooms against a 10,000-room portal must not compare every pair).
struct PortalIndex<'a> {
    /// Live rooms by the stored form of their title, sorted by id (what identity matches).
    by_stored_title: HashMap<String, Vec<&'a ObservedRoom>>,
    /// Live rooms by type and folded stored title (case and spacing ignored); the lowest id
    /// when several fold alike.
    by_folded_title: HashMap<(Option<RoomType>, String), &'a ObservedRoom>,
    /// The portal's spelling of each tag seen on a listed room, by lower-cased name.
    tag_spellings: HashMap<String, &'a str>,
    /// Whether the quadratic fuzzy comparison fits [`SIMILARITY_BUDGET`].
    fuzzy: bool,
}

impl<'a> PortalIndex<'a> {
    fn new(desired: &Desired, observed: &'a Observed) -> PortalIndex<'a> {
        let mut rooms: Vec<&ObservedRoom> = observed.rooms.iter().collect();
        rooms.sort_by_key(|r| r.id);
        let mut by_stored_title: HashMap<String, Vec<&ObservedRoom>> = HashMap::new();
        let mut by_folded_title = HashMap::new();
        let mut tag_spellings = HashMap::new();
        for r in rooms {
            let stored = model::sanitize_title(&r.title);
            by_folded_title
                .entry((r.room_type, fold_title(&stored)))
                .or_insert(r);
            by_stored_title.entry(stored).or_default().push(r);
            for t in &r.tags {
                tag_spellings.entry(t.to_lowercase()).or_insert(t.as_str());
            }
        }
        PortalIndex {
            by_stored_title,
            by_folded_title,
            tag_spellings,
            fuzzy: desired.rooms.len().saturating_mul(observed.rooms.len()) <= SIMILARITY_BUDGET,
        }
    }
}

/// A title with case and runs of white space folded, for "is this the same title" hints.
fn fold_title(t: &str) -> String {
    t.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Identity and tag hints for one room (see [`RoomNote`]).
fn room_notes(
    observed: &Observed,
    room: &DesiredRoom,
    live: Option<&ObservedRoom>,
    index: &PortalIndex,
) -> Vec<RoomNote> {
    let mut notes = Vec::new();
    if room.id.is_none() {
        for c in &observed.connected_rooms {
            if model::title_matches(&c.title, &room.title) {
                notes.push(RoomNote::ConnectedNamesake {
                    id: c.id.clone(),
                    provider: c.provider.clone(),
                });
            }
        }
    }
    if live.is_none() && room.id.is_none() {
        notes.extend(similar_room(observed, room, index));
    }
    // The portal keeps one spelling per tag (its tag table compares case-insensitively).
    for tag in room.tags.iter().flatten() {
        if let Some(existing) = index.tag_spellings.get(&tag.to_lowercase())
            && *existing != tag
        {
            notes.push(RoomNote::TagSpelling {
                requested: tag.clone(),
                existing: existing.to_string(),
            });
        }
    }
    notes
}

/// How many title comparisons (manifest rooms x portal rooms) the fuzzy part of
/// [`similar_room`] may make in one plan, so that a first plan of 10,000 new rooms against a
/// 10,000-room portal stays fast; beyond it only case and spacing differences are hinted.
const SIMILARITY_BUDGET: usize = 2_000_000;

/// An existing room whose title is the planned create's but for case and spacing, or (on
/// portals small enough for the comparison budget) within a small edit of it.
fn similar_room(observed: &Observed, room: &DesiredRoom, index: &PortalIndex) -> Option<RoomNote> {
    let wanted = fold_title(&room.title);
    let hint = |r: &ObservedRoom| RoomNote::SimilarRoom {
        id: r.id,
        title: r.title.clone(),
    };
    if let Some(r) = index
        .by_folded_title
        .get(&(Some(room.room_type), wanted.clone()))
    {
        return Some(hint(r));
    }
    // Short titles are too close to everything to hint about.
    if !index.fuzzy || wanted.chars().count() < 6 {
        return None;
    }
    observed
        .rooms
        .iter()
        .filter(|r| r.room_type == Some(room.room_type))
        .map(|r| {
            (
                strsim::normalized_levenshtein(&wanted, &fold_title(&r.title)),
                r,
            )
        })
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.id.cmp(&a.1.id)))
        .map(|(_, r)| hint(r))
}

/// Members that count for the removal guard: everyone but the owner row.
fn count_members(members: &[ObservedMember]) -> usize {
    members.iter().filter(|m| !m.is_owner).count()
}

/// An item with only a key and an action (create, settings, archive, unarchive).
pub fn simple(key: &str, action: Action) -> Item {
    Item {
        key: key.to_string(),
        action,
        target: None,
        access: None,
        from_access: None,
        changes: Vec::new(),
        reason: None,
    }
}

fn member_key(t: &Target) -> String {
    match t {
        Target::User { id, .. } => format!("u:{id}"),
        Target::Group { id, .. } => format!("g:{id}"),
        Target::NewGuest { email } => format!("e:{email}"),
    }
}

fn is_me(observed: &Observed, m: &ObservedMember) -> bool {
    matches!((&m.subject, &observed.me), (MemberSubject::User(u), Some(me)) if u.id == me.id)
}

/// Resolves an invitee to a share target and checks the rules that need the portal: unknown
/// groups, room-manager only for DocSpace admins and room admins (never for a new guest,
/// whom the server validates as a guest, 6.3), terminated accounts.
fn resolve(
    desired: &Desired,
    observed: &Observed,
    room: &DesiredRoom,
    inv: &crate::manifest::DesiredInvitee,
    problems: &mut Vec<Problem>,
) -> Option<Target> {
    match &inv.subject {
        Subject::Group(name) if observed.ambiguous_groups.contains_key(&name.to_lowercase()) => {
            let ids = &observed.ambiguous_groups[&name.to_lowercase()];
            problems.push(locate(
                desired,
                inv.origin,
                "portal::ambiguous_group",
                format!(
                    "{} groups on the portal are named `{name}` when case is ignored (ids {})",
                    ids.len(),
                    ids.join(", ")
                ),
                "ambiguous group",
                "rename one of the groups in DocSpace so that each name is unique".into(),
            ));
            None
        }
        Subject::Group(name) => match observed.groups.get(&name.to_lowercase()) {
            Some(g) => Some(Target::Group {
                id: g.id.clone(),
                name: g.name.clone(),
            }),
            None => {
                problems.push(locate(
                    desired,
                    inv.origin,
                    "portal::unknown_group",
                    format!("the portal has no group named `{name}`"),
                    "unknown group",
                    "group names are matched case-insensitively; create the group in DocSpace first, or fix the name".into(),
                ));
                None
            }
        },
        Subject::Email(email) => match observed.users.get(email) {
            Some(u) => {
                if u.terminated {
                    problems.push(locate(
                        desired,
                        inv.origin,
                        "portal::terminated_user",
                        format!("`{email}` is a disabled account on the portal"),
                        "disabled account",
                        "DocSpace silently skips disabled accounts; re-enable the account or remove the invitee".into(),
                    ));
                    return None;
                }
                if !u.user_type.allows(inv.access) {
                    problems.push(locate(
                        desired,
                        inv.origin,
                        "portal::role_not_allowed_for_user_type",
                        format!("`{email}` is a {} and cannot be a room manager", user_type_name(u.user_type)),
                        "not a room admin",
                        "only DocSpace admins and room admins can manage rooms; change the person's type in DocSpace, or use `content-creator`".into(),
                    ));
                    return None;
                }
                Some(Target::User {
                    id: u.id.clone(),
                    email: email.clone(),
                })
            }
            None => {
                if inv.access == Access::RoomManager {
                    problems.push(locate(
                        desired,
                        inv.origin,
                        "portal::room_manager_for_new_guest",
                        format!("`{email}` has no account on the portal, so would be invited as a guest, and guests cannot be room managers"),
                        "new guest",
                        "create the account as a room admin first (then it is invited by id), or use `content-creator`".into(),
                    ));
                    return None;
                }
                if !room.room_type.allows(inv.access, SubjectKind::User) {
                    return None;
                }
                Some(Target::NewGuest {
                    email: email.clone(),
                })
            }
        },
    }
}

fn user_type_name(t: UserType) -> &'static str {
    match t {
        UserType::DocSpaceAdmin => "DocSpace admin",
        UserType::RoomAdmin => "room admin",
        UserType::User => "user",
        UserType::Guest => "guest",
    }
}

/// The settings a live room must change to match the manifest (`None` when it matches).
fn settings_update(room: &DesiredRoom, live: &ObservedRoom) -> Option<RoomSettings> {
    let mut u = RoomSettings::default();
    if room.id.is_some() && live.title != room.title {
        u.title = Some(room.title.clone());
    }
    // A case difference in a tag is no change (see `model::tags_match`).
    if let Some(tags) = &room.tags
        && !model::tags_match(tags, &live.tags)
    {
        u.tags = Some(tags.iter().cloned().collect());
    }
    if let Some(q) = room.quota {
        // `quotaLimit` is only reported when room quotas are enabled (5.2): without it,
        // the quota cannot be compared and is not re-sent on every run.
        if let Some(current) = live.quota
            && current != q.wire()
        {
            u.quota = Some(q.wire());
        }
    }
    if let Some(d) = room.deny_download
        && live.deny_download != Some(d)
    {
        u.deny_download = Some(d);
    }
    (u != RoomSettings::default()).then_some(u)
}

/// The human form of a quota, the same in the saved plan as on the terminal.
fn quota_human(q: i64) -> String {
    crate::render::size_human(q)
}

fn tags_human(t: &[String]) -> String {
    format!("[{}]", t.join(", "))
}

/// Human "field: from -> to" lines for settings.
fn describe(s: &RoomSettings, live: Option<&ObservedRoom>) -> Vec<FieldChange> {
    let mut out = Vec::new();
    if let Some(t) = &s.title
        && live.is_some()
    {
        out.push(FieldChange {
            field: "title".into(),
            from: live.map(|l| l.title.clone()),
            to: t.clone(),
        });
    }
    if let Some(t) = &s.tags {
        out.push(FieldChange {
            field: "tags".into(),
            from: live.map(|l| tags_human(&l.tags.iter().cloned().collect::<Vec<_>>())),
            to: tags_human(t),
        });
    }
    if let Some(q) = s.quota {
        out.push(FieldChange {
            field: "quota".into(),
            from: live.and_then(|l| l.quota).map(quota_human),
            to: quota_human(q),
        });
    }
    if let Some(d) = s.deny_download {
        out.push(FieldChange {
            field: "deny_download".into(),
            from: live.map(|l| l.deny_download.unwrap_or(false).to_string()),
            to: d.to_string(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{self, SourceFile};
    use crate::state::{ObservedGroup, ObservedUser};

    fn desired(yaml: &str) -> Desired {
        let mut problems = manifest::Problems::default();
        let d = manifest::load_sources(vec![SourceFile::new("m.yaml", yaml)], &mut problems);
        assert!(!problems.has_errors(), "{problems:?}");
        d
    }

    fn user(id: &str, email: &str, user_type: UserType) -> ObservedUser {
        ObservedUser {
            id: id.into(),
            email: email.into(),
            user_type,
            pending: false,
            terminated: false,
            type_known: true,
            created: None,
        }
    }

    fn member(subject: MemberSubject, access: Access, is_owner: bool) -> ObservedMember {
        ObservedMember {
            subject,
            access: if is_owner { None } else { Some(access) },
            raw_access: if is_owner { 1 } else { access.wire() },
            is_owner,
            can_edit_access: !is_owner,
        }
    }

    /// A portal with one collaboration room (id 5): owner `o`, the key's user `me` (a
    /// DocSpace admin who is not the owner), a user and a group.
    fn observed() -> Observed {
        let me = user("me", "me@x.test", UserType::DocSpaceAdmin);
        let members = vec![
            member(
                MemberSubject::User(user("o", "o@x.test", UserType::DocSpaceAdmin)),
                Access::None,
                true,
            ),
            member(MemberSubject::User(me.clone()), Access::RoomManager, false),
            member(
                MemberSubject::User(user("u", "u@x.test", UserType::User)),
                Access::Read,
                false,
            ),
            member(
                MemberSubject::Group(ObservedGroup {
                    id: "g".into(),
                    name: "Sales".into(),
                }),
                Access::Read,
                false,
            ),
        ];
        Observed {
            portal: "test".into(),
            me: Some(me),
            rooms: vec![ObservedRoom {
                id: 5,
                title: "R".into(),
                room_type: Some(RoomType::Collaboration),
                raw_room_type: Some(2),
                archived: false,
                tags: BTreeSet::new(),
                quota: None,
                custom_quota: false,
                deny_download: None,
                settings: Default::default(),
            }],
            members: [(5, members)].into_iter().collect(),
            ..Observed::default()
        }
    }

    #[test]
    fn write_calls_count_one_share_batch_per_room() {
        let d = desired(
            "version: 1\nrooms:\n  - title: A\n    type: collaboration\n    state: archived\n    invitees:\n      - email: a@x.test\n        access: read\n      - email: b@x.test\n        access: read\n  - title: B\n    type: collaboration\n",
        );
        let plan = diff(&d, &Observed::default(), String::new()).unwrap();
        // A: create, one share batch for both invitees, archive; B: create.
        assert_eq!(plan.summary.write_calls, 4);
    }

    #[test]
    fn exact_never_removes_the_owner_or_the_keys_own_user() {
        let d = desired(
            "version: 1\nrooms:\n  - title: R\n    type: collaboration\n    members: exact\n",
        );
        let plan = diff(&d, &observed(), String::new()).unwrap();
        let removed: Vec<&str> = plan.rooms[0]
            .items
            .iter()
            .filter(|i| i.action == Action::Remove)
            .filter_map(Item::subject)
            .collect();
        assert_eq!(removed, ["Sales", "u@x.test"]);
        assert_eq!(plan.rooms[0].members_before, 3);
    }

    #[test]
    fn additive_leaves_unlisted_members_and_none_removes() {
        let mut o = observed();
        o.users
            .insert("u@x.test".into(), user("u", "u@x.test", UserType::User));
        let d = desired(
            "version: 1\nrooms:\n  - title: R\n    type: collaboration\n    invitees:\n      - email: u@x.test\n        access: none\n",
        );
        let plan = diff(&d, &o, String::new()).unwrap();
        let items = &plan.rooms[0].items;
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].action, Action::Remove);
        assert_eq!(items[0].reason, Some(RemovalReason::AccessNone));
    }

    #[test]
    fn a_changed_type_is_a_located_error() {
        let d = desired("version: 1\nrooms:\n  - title: R\n    type: custom\n");
        let problems = diff(&d, &observed(), String::new()).unwrap_err();
        assert_eq!(problems[0].code, "portal::room_type_differs");
        assert_eq!(problems[0].location.as_deref(), Some("m.yaml:3:12"));
    }

    #[test]
    fn output_is_sorted_by_title_whatever_the_manifest_order() {
        let d = desired(
            "version: 1\nrooms:\n  - title: Zed\n    type: custom\n  - title: Alpha\n    type: custom\n",
        );
        let plan = diff(&d, &Observed::default(), String::new()).unwrap();
        let titles: Vec<&str> = plan.rooms.iter().map(|r| r.title.as_str()).collect();
        assert_eq!(titles, ["Alpha", "Zed"]);
        assert_eq!(plan.summary.rooms_to_create, 2);
    }
}
