//! The pure diff: (desired, observed) -> [`Plan`]. No I/O. Output order is deterministic
//! (rooms sorted by title, items by execution order, then key).

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::{
    Action, Change, FORMAT_VERSION, Item, ItemKey, Member, Plan, RemovalReason, RoomChange,
    RoomNote, RoomPlan, RoomSettings, SettingChange, ShareSettings, Target, expiry, prune,
    quota_from_wire, summarise,
};
use crate::identity::{Found, Identity};
use crate::manifest::{
    Desired, DesiredInvitee, DesiredRoom, MembersMode, Origin, Problem, RoomState, Subject,
};
use crate::model::{self, Access, RoomType, SubjectKind, UserType};
use crate::state::{self, MemberSubject, Observed, ObservedMember, ObservedRoom};

/// Problems that need the portal to see, located in the manifest. Any error here stops the
/// run before a change.
pub type PortalProblems = Vec<Problem>;

/// Diffs desired against observed at the moment `now` (which decides which `expires:` have
/// passed; the diff reads no clock). Returns the plan, or the located problems that forbid one.
pub fn diff(
    desired: &Desired,
    observed: &Observed,
    manifest_hash: String,
    now: DateTime<Utc>,
) -> Result<Plan, PortalProblems> {
    diff_selected(desired, observed, manifest_hash, now, None)
}

/// [`diff`] of the manifest rooms titled in `only` (every room when `None`: `--room`, see
/// [`super::filter`]). Identity still sees the whole manifest: the live rooms of the rooms left
/// out are theirs, so a selected room cannot claim one, nor take one for a renamed or
/// case-only twin (docs/architecture.md, "Identity").
pub fn diff_selected(
    desired: &Desired,
    observed: &Observed,
    manifest_hash: String,
    now: DateTime<Utc>,
    only: Option<&BTreeSet<String>>,
) -> Result<Plan, PortalProblems> {
    let mut problems = Vec::new();
    let mut rooms = Vec::with_capacity(desired.rooms.len());
    let index = PortalIndex::new(desired, observed);
    let selected = |r: &DesiredRoom| only.is_none_or(|titles| titles.contains(&r.title));
    for room in desired.rooms.iter().filter(|r| selected(r)) {
        match plan_room(desired, observed, room, &index, now, &mut problems) {
            Some(p) => rooms.push(p),
            None => continue,
        }
    }
    let others: HashSet<i64> = desired
        .rooms
        .iter()
        .filter(|r| !selected(r))
        .flat_map(|r| index.identity.candidates(r))
        .collect();
    problems.extend(prune::twins(desired, observed, &rooms, &others));
    // The portal section: people, then groups (rooms may share with a group it creates).
    let (portal_items, portal_notes) = super::org::plan(desired, observed, &mut problems);
    if problems.iter().any(Problem::is_error) {
        return Err(problems);
    }
    rooms.sort_by(|a, b| a.title.cmp(&b.title));
    prune::note_renames(desired, observed, &mut rooms, &others, now);
    let summary = summarise(&rooms, &portal_items);
    let managed = prune::managed(desired, observed, &rooms);
    let state = crate::manifest::normal::write(desired);
    Ok(Plan {
        format_version: FORMAT_VERSION,
        portal: observed.portal.clone(),
        planned_at: now,
        manifest_hash,
        options: super::build::Options::default(),
        filter: None,
        desired_digest: crate::manifest::normal::digest(&state),
        desired: state,
        share: ShareSettings {
            notify: desired.defaults.notify,
            message: desired.defaults.message.clone(),
            culture: desired.defaults.culture.clone(),
        },
        rooms,
        portal_items,
        portal_notes,
        group_removals_guarded: 0,
        summary,
        unmanaged_connected_rooms: observed.connected_rooms.len(),
        managed,
        expiring: None,
    })
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

/// The live room of a manifest room, as the one identity step finds it
/// ([`crate::identity`]), with its problems located in the manifest; then checks that its
/// type is the manifest's.
fn find_room<'a>(
    desired: &Desired,
    room: &DesiredRoom,
    index: &PortalIndex<'a>,
    problems: &mut Vec<Problem>,
) -> Result<Option<&'a ObservedRoom>, ()> {
    let problem = match index.identity.find(room) {
        Found::New => return Ok(None),
        Found::Room(live) => return type_checked(desired, room, live, problems).map(Some),
        Found::PinnedMissing(id) => locate(
            desired,
            room.origin,
            "portal::pinned_id_missing",
            format!("room `{}` is pinned to id {id}, but the portal has no room {id} that this key can see", room.title),
            "pinned room",
            "check the id (it is in the room's URL), or remove `id:` to match by title".into(),
        ),
        Found::ClaimedTwice { live, owner } => locate(
            desired,
            room.origin,
            "portal::room_claimed_twice",
            format!(
                "room `{}` matches room id {} by title, but room `{}` already pins that id",
                room.title, live.id, owner.title
            ),
            "same live room",
            "one live room can be managed by one manifest entry: merge the two, or give this one another title".into(),
        ),
        Found::Ambiguous(many) => {
            let ids: Vec<String> = many.iter().map(|r| r.id.to_string()).collect();
            locate(
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
            )
        }
    };
    problems.push(problem);
    Err(())
}

/// `live`, when its type is the manifest room's; a problem otherwise (DocSpace cannot change
/// a room's type).
fn type_checked<'a>(
    desired: &Desired,
    room: &DesiredRoom,
    live: &'a ObservedRoom,
    problems: &mut Vec<Problem>,
) -> Result<&'a ObservedRoom, ()> {
    if live.room_type == Some(room.room_type) {
        return Ok(live);
    }
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
    Err(())
}

/// One manifest room's plan, or `None` when a problem forbids it (pushed to `problems`).
fn plan_room<'a>(
    desired: &Desired,
    observed: &Observed,
    room: &DesiredRoom,
    index: &PortalIndex<'a>,
    now: DateTime<Utc>,
    problems: &mut Vec<Problem>,
) -> Option<RoomPlan> {
    let live = find_room(desired, room, index, problems).ok()?;
    // A template shapes a room only when it is created (docs/docspace-api.md, "Room templates").
    let template = match live {
        None => super::templates::resolve(desired, observed, room, problems).ok()?,
        Some(_) => None,
    };
    if let Some(live) = live
        && let Some(error) = observed.unreadable.get(&live.id)
    {
        return Some(unreadable(room, live, error));
    }
    let members: &[ObservedMember] = live
        .and_then(|r| observed.members.get(&r.id))
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut fingerprint = state::fingerprint(live, live.map(|_| members));
    if let Some(t) = &template {
        // The template resolved is portal state too: a saved plan whose template now
        // resolves to another one is stale because the portal changed, not edited.
        fingerprint = format!("{fingerprint}+template:{}", t.id);
    }

    // Resolve every invitee first, so that portal problems are all reported.
    let targets: Vec<Option<Target>> = room
        .invitees
        .iter()
        .map(|inv| resolve(desired, observed, room, inv, index, now, problems))
        .collect();
    if let Some(live) = live
        && live.archived
        && room.state == RoomState::Archived
    {
        // An archived room cannot be edited or shared; it is left as it is
        // (docs/docspace-api.md, "Updating rooms").
        let mut plan = left_alone(room, live, fingerprint, count_members(members));
        plan.notes.push(RoomNote::ArchivedLeftAlone);
        return Some(plan);
    }

    let links = match super::links::plan(desired, observed, room, live, now, problems) {
        Ok(links) => links,
        Err(error) => return live.map(|live| unreadable(room, live, &error)),
    };
    let mut items = room_items(room, live, desired.managed_tag.as_deref(), template);
    items.extend(links.items);
    let mut share_notes = Vec::new();
    items.extend(share_items(
        observed,
        room,
        live.is_some(),
        members,
        targets,
        now,
        &mut share_notes,
    ));
    if room.state == RoomState::Archived {
        items.push(Item::new(ItemKey::room(&room.title), Change::Archive));
    }
    sort_items(&mut items);
    let fingerprint = with_links(observed, live, &items, fingerprint);
    Some(RoomPlan {
        title: room.title.clone(),
        room_type: room.room_type,
        room_id: live.map(|r| r.id),
        change: room_change(live, &items),
        fingerprint,
        members_before: count_members(members),
        items,
        notes: room_notes(observed, room, live, index)
            .into_iter()
            .chain(links.notes)
            .chain(share_notes)
            .chain(live.and_then(|live| super::settings::logo_note(room, live)))
            .collect(),
    })
}

/// What happens to the room as a whole: created when it is not on the portal, else updated
/// when any item is planned.
fn room_change(live: Option<&ObservedRoom>, items: &[Item]) -> RoomChange {
    match (live, items.is_empty()) {
        (None, _) => RoomChange::Create,
        (Some(_), true) => RoomChange::Unchanged,
        (Some(_), false) => RoomChange::Update,
    }
}

/// Puts a room's items in execution order, then by key. Stable: link items keep the
/// diff's order (revokes before creates).
fn sort_items(items: &mut [Item]) {
    items.sort_by(|a, b| {
        let link = |i: &Item| i.action().order() == Action::CreateLink.order();
        a.action().order().cmp(&b.action().order()).then_with(|| {
            if link(a) && link(b) {
                std::cmp::Ordering::Equal
            } else {
                a.key.cmp(&b.key)
            }
        })
    });
}

/// The room's fingerprint, covering its links too when the plan changes links: a saved
/// plan that changes links must also go stale when the links change by hand.
fn with_links(
    observed: &Observed,
    live: Option<&ObservedRoom>,
    items: &[Item],
    fingerprint: String,
) -> String {
    match live {
        Some(live) if items.iter().any(Item::is_link) => state::with_links_fingerprint(
            fingerprint,
            observed.links.get(&live.id).map_or(&[][..], Vec::as_slice),
        ),
        _ => fingerprint,
    }
}

/// The room-level items: create, or unarchive and settings. `marker` is the manifest's
/// `managed_tag`, which every manifest room carries (see [`prune`]).
fn room_items(
    room: &DesiredRoom,
    live: Option<&ObservedRoom>,
    marker: Option<&str>,
    template: Option<super::PlannedTemplate>,
) -> Vec<Item> {
    let Some(live) = live else {
        let mut settings = RoomSettings {
            title: Some(room.title.clone()),
            tags: with_marker(room.tags.as_ref(), marker).map(|t| t.into_iter().collect()),
            quota: room.quota,
            deny_download: room.deny_download,
            ..RoomSettings::default()
        };
        super::settings::for_create(room, &mut settings);
        return vec![Item::new(
            ItemKey::room(&room.title),
            Change::CreateRoom { settings, template },
        )];
    };
    let mut items = Vec::new();
    if live.archived && room.state == RoomState::Present {
        items.push(Item::new(ItemKey::room(&room.title), Change::Unarchive));
    }
    let changes = setting_changes(room, live, marker);
    if !changes.is_empty() {
        items.push(Item::new(
            ItemKey::room(&room.title),
            Change::UpdateRoom { changes },
        ));
    }
    items
}

/// The member items: one per invitee whose access differs, and, in a `members: exact` room,
/// a removal per member the manifest does not list. Invitees whose `expires:` has passed and
/// who are not removed get a note in `notes` (see [`expired_note`]).
fn share_items(
    observed: &Observed,
    room: &DesiredRoom,
    exists: bool,
    members: &[ObservedMember],
    targets: Vec<Option<Target>>,
    now: DateTime<Utc>,
    notes: &mut Vec<RoomNote>,
) -> Vec<Item> {
    let mut items = Vec::new();
    let mut listed: BTreeSet<String> = BTreeSet::new();
    for (inv, target) in room.invitees.iter().zip(targets) {
        let Some(target) = target else { continue };
        listed.insert(member_key(&target));
        if let Some(at) = expiry::expired(inv, now) {
            notes.extend(expired_note(observed, exists, &target, at, members));
        }
        items.extend(invitee_item(
            observed,
            &room.title,
            exists,
            inv.access,
            expiry::expired(inv, now),
            target,
            members,
        ));
    }
    if room.members == MembersMode::Exact {
        items.extend(unlisted_removals(observed, &room.title, members, &listed));
    }
    items
}

/// The item for one invitee, or `None` when the room already matches. An invitee whose
/// `expires:` moment has passed (`expired`) is treated as `access: none`: removed when a
/// member, never invited again (see [`expiry`]).
fn invitee_item(
    observed: &Observed,
    key: &str,
    exists: bool,
    access: Access,
    expired: Option<DateTime<Utc>>,
    target: Target,
    members: &[ObservedMember],
) -> Option<Item> {
    let (access, removal) = match expired {
        Some(at) => (Access::None, RemovalReason::Expired { at }),
        None => (access, RemovalReason::AccessNone),
    };
    let current = current_member(&target, members);
    let item_key = ItemKey::member(key, target.label());
    // A room the tool creates is owned by the key's user, who then shows only in the
    // synthetic owner row (docs/docspace-api.md, "Reading members"): inviting them is
    // meaningless and the read-back could never confirm it.
    let targets_me =
        matches!((&target, &observed.me), (Target::User { id, .. }, Some(me)) if *id == me.id);
    if !exists && targets_me {
        return None;
    }
    let change = match current {
        // The owner and the key's own user cannot be re-shared; nothing to do.
        Some(m) if m.is_owner || is_me(observed, m) => return None,
        Some(m) if access == Access::None => Change::Remove {
            target: as_member(target)?,
            from_access: m.access,
            reason: removal,
        },
        Some(m) if m.access == Some(access) => return None,
        Some(m) => Change::ChangeAccess {
            target: as_member(target)?,
            access,
            from_access: m.access,
        },
        None if access == Access::None => return None,
        None => Change::Invite { target, access },
    };
    Some(Item::new(item_key, change))
}

/// The member row of `target`, when it is a member.
fn current_member<'a>(
    target: &Target,
    members: &'a [ObservedMember],
) -> Option<&'a ObservedMember> {
    members.iter().find(|m| match (target, &m.subject) {
        (Target::User { id, .. }, MemberSubject::User(u)) => &u.id == id,
        (Target::Group { id, .. }, MemberSubject::Group(g)) => &g.id == id,
        _ => false,
    })
}

/// The note for an invitee whose `expires:` (`at`) has passed and whom the plan does not
/// remove: the owner or the key's own user (kept), or someone who is not a member (nothing to
/// do). `None` when the plan removes them (the removal item says it all).
fn expired_note(
    observed: &Observed,
    exists: bool,
    target: &Target,
    at: DateTime<Utc>,
    members: &[ObservedMember],
) -> Option<RoomNote> {
    let subject = target.label().to_string();
    let targets_me =
        matches!((target, &observed.me), (Target::User { id, .. }, Some(me)) if *id == me.id);
    // A room the tool creates is owned by the key's user (see `invitee_item`).
    if !exists && targets_me {
        return Some(RoomNote::ExpiredKept {
            subject,
            at,
            who: super::KeptMember::KeyUser,
        });
    }
    match current_member(target, members) {
        None => Some(RoomNote::ExpiredNotMember { subject, at }),
        Some(m) if is_me(observed, m) || (m.is_owner && targets_me) => {
            Some(RoomNote::ExpiredKept {
                subject,
                at,
                who: super::KeptMember::KeyUser,
            })
        }
        Some(m) if m.is_owner => Some(RoomNote::ExpiredKept {
            subject,
            at,
            who: super::KeptMember::Owner,
        }),
        Some(_) => None,
    }
}

/// A target that is already a member (a user or group by id); `None` for a new guest, who
/// cannot be one.
fn as_member(t: Target) -> Option<Member> {
    match t {
        Target::User { id, email, .. } => Some(Member::User { id, email }),
        Target::Group { id, name } => Some(Member::Group { id, name }),
        Target::NewGuest { .. } | Target::NewGroup { .. } | Target::NewPerson { .. } => None,
    }
}

/// Removals of the members a `members: exact` room does not list (never the owner or the
/// key's own user).
fn unlisted_removals(
    observed: &Observed,
    key: &str,
    members: &[ObservedMember],
    listed: &BTreeSet<String>,
) -> Vec<Item> {
    let mut items = Vec::new();
    for m in members {
        // Rows without a member role (the owner's ReadWrite) are not removable.
        if m.is_owner || is_me(observed, m) || m.access.is_none() {
            continue;
        }
        let target = match &m.subject {
            MemberSubject::User(u) => Member::User {
                id: u.id.clone(),
                email: u.email.clone(),
            },
            MemberSubject::Group(g) => Member::Group {
                id: g.id.clone(),
                name: g.name.clone(),
            },
        };
        if listed.contains(&member_key(&Target::from(target.clone()))) {
            continue;
        }
        items.push(Item::new(
            ItemKey::member(key, target.label()),
            Change::Remove {
                target,
                from_access: m.access,
                reason: RemovalReason::NotListed,
            },
        ));
    }
    items
}

/// The plan of a room whose members could not be read: nothing can be compared without
/// them, so it is left out, and said so.
fn unreadable(room: &DesiredRoom, live: &ObservedRoom, error: &str) -> RoomPlan {
    let mut plan = left_alone(room, live, state::fingerprint(Some(live), None), 0);
    plan.notes.push(RoomNote::Unreadable {
        error: error.to_string(),
    });
    plan
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
        fingerprint,
        members_before,
        items: Vec::new(),
        notes: Vec::new(),
    }
}

/// What the hints need from the portal, computed once per plan rather than per manifest room
/// (a first plan of 10,000 rooms against a 10,000-room portal must not compare every pair).
struct PortalIndex<'a> {
    /// Which live room each manifest room is.
    identity: Identity<'a>,
    /// Live rooms by type and folded stored title (case and spacing ignored); the lowest id
    /// when several fold alike.
    by_folded_title: HashMap<(Option<RoomType>, String), &'a ObservedRoom>,
    /// The portal's spelling of each tag seen on a listed room, by lower-cased name.
    tag_spellings: HashMap<String, &'a str>,
    /// Whether the quadratic fuzzy comparison fits [`SIMILARITY_BUDGET`].
    fuzzy: bool,
    /// The portal's accounts, for the new-guest checks (see [`super::newguest`]).
    accounts: super::newguest::Accounts,
}

impl<'a> PortalIndex<'a> {
    fn new(desired: &'a Desired, observed: &'a Observed) -> PortalIndex<'a> {
        let mut rooms: Vec<&ObservedRoom> = observed.rooms.iter().collect();
        rooms.sort_by_key(|r| r.id);
        let mut by_folded_title = HashMap::new();
        let mut tag_spellings = HashMap::new();
        for r in rooms {
            let stored = model::sanitize_title(&r.title);
            by_folded_title
                .entry((r.room_type, fold_title(&stored)))
                .or_insert(r);
            for t in &r.tags {
                tag_spellings.entry(t.to_lowercase()).or_insert(t.as_str());
            }
        }
        PortalIndex {
            identity: Identity::new(desired, &observed.rooms),
            by_folded_title,
            tag_spellings,
            fuzzy: desired.rooms.len().saturating_mul(observed.rooms.len()) <= SIMILARITY_BUDGET,
            accounts: super::newguest::Accounts::new(observed),
        }
    }
}

/// A title with case and runs of white space folded, for "is this the same title" hints.
pub(super) fn fold_title(t: &str) -> String {
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
    if let (Some(_), Some(t)) = (live, &room.template) {
        notes.push(RoomNote::TemplateIgnored {
            template: match &t.reference {
                model::template::TemplateRef::Id(id) => id.to_string(),
                model::template::TemplateRef::Title(title) => title.clone(),
            },
        });
    }
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

fn member_key(t: &Target) -> String {
    match t {
        Target::User { id, .. } => format!("u:{id}"),
        Target::Group { id, .. } => format!("g:{id}"),
        Target::NewGuest { email, .. } | Target::NewPerson { email } => format!("e:{email}"),
        Target::NewGroup { name } => format!("n:{}", name.to_lowercase()),
    }
}

fn is_me(observed: &Observed, m: &ObservedMember) -> bool {
    matches!((&m.subject, &observed.me), (MemberSubject::User(u), Some(me)) if u.id == me.id)
}

/// Resolves an invitee to a share target and checks the rules that need the portal: unknown
/// groups, room-manager only for DocSpace admins and room admins (never for a new guest,
/// whom the server validates as a guest: docs/docspace-api.md, "Roles per room type"),
/// terminated accounts, and a new guest the manifest would invite (see
/// [`super::newguest`]).
fn resolve(
    desired: &Desired,
    observed: &Observed,
    room: &DesiredRoom,
    inv: &DesiredInvitee,
    index: &PortalIndex,
    now: DateTime<Utc>,
    problems: &mut Vec<Problem>,
) -> Option<Target> {
    match &inv.subject {
        Subject::Group(name) => resolve_group(desired, observed, inv, name, problems),
        Subject::Email(email) => {
            let target = resolve_email(desired, observed, room, inv, email, problems)?;
            // Only an invitation creates an account: not `access: none`, nor a passed
            // `expires:` (never invited again).
            if matches!(target, Target::NewGuest { hidden: false, .. })
                && inv.access != Access::None
                && expiry::expired(inv, now).is_none()
                && let Some(p) = super::newguest::check(desired, &index.accounts, inv, email)
            {
                problems.push(p);
                return None;
            }
            Some(target)
        }
    }
}

/// A group invitee: by name, ignoring case; refused when the portal has none or several.
fn resolve_group(
    desired: &Desired,
    observed: &Observed,
    inv: &DesiredInvitee,
    name: &str,
    problems: &mut Vec<Problem>,
) -> Option<Target> {
    // A group of `groups:` is the group the portal section finds or creates: by its pinned
    // id, or made by this run before the rooms (docs/architecture.md, "Adding a
    // portal-level resource").
    if let Some(declared) = desired.declared_group(name) {
        use crate::observe::groups::{GroupMatch, find};
        match find(declared, &observed.org.listing) {
            GroupMatch::Found(id) => {
                return Some(Target::Group {
                    id,
                    name: declared.name.clone(),
                });
            }
            GroupMatch::Missing => {
                return Some(Target::NewGroup {
                    name: declared.name.clone(),
                });
            }
            // Reported by the groups' plan.
            GroupMatch::PinnedMissing | GroupMatch::Ambiguous(_) => return None,
        }
    }
    if let Some(ids) = observed.ambiguous_groups.get(&name.to_lowercase()) {
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
        return None;
    }
    match observed.groups.get(&name.to_lowercase()) {
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
                {
                    let names: Vec<&str> = observed.group_names.iter().map(String::as_str).collect();
                    let hint = "group names are matched case-insensitively; create the group in DocSpace first, or fix the name";
                    match crate::manifest::validate::did_you_mean(name, &names) {
                        Some(s) => format!("did you mean `{s}`? {hint}"),
                        None => hint.into(),
                    }
                },
            ));
            None
        }
    }
}

/// A person invitee: an existing account by id, or a new guest by email.
fn resolve_email(
    desired: &Desired,
    observed: &Observed,
    room: &DesiredRoom,
    inv: &DesiredInvitee,
    email: &str,
    problems: &mut Vec<Problem>,
) -> Option<Target> {
    let problem = |code, message, label, help: &str| {
        locate(desired, inv.origin, code, message, label, help.into())
    };
    let Some(u) = observed.users.get(email) else {
        // Someone `people:` invites with a type in this run (a guest is made by this very
        // invitation instead, as any new guest).
        if let Some(person) = desired
            .person(email)
            .filter(|p| p.user_type != UserType::Guest)
        {
            if !person.user_type.allows(inv.access) {
                problems.push(problem(
                    "portal::role_not_allowed_for_user_type",
                    format!("`{email}` is invited as a {} by `people:` and cannot be a room manager", user_type_name(person.user_type)),
                    "not a room admin",
                    "only DocSpace admins and room admins can manage rooms; give the person that type in `people:`, or use `content-creator`",
                ));
                return None;
            }
            return room
                .room_type
                .allows(inv.access, SubjectKind::User)
                .then(|| Target::NewPerson {
                    email: email.to_string(),
                });
        }
        // An account the key may not see (a guest, to a room admin) is shared by email too.
        let hidden = observed.hidden_people.contains(email);
        if inv.access == Access::RoomManager {
            let why = if hidden {
                "is an account this API key may not see (a guest's), shared by email"
            } else {
                "has no account on the portal, so would be invited as a guest"
            };
            problems.push(problem(
                "portal::room_manager_for_new_guest",
                format!("`{email}` {why}, and guests cannot be room managers"),
                "new guest",
                "create the account as a room admin first (then it is invited by id), or use `content-creator`",
            ));
            return None;
        }
        return room
            .room_type
            .allows(inv.access, SubjectKind::User)
            .then(|| Target::NewGuest {
                email: email.to_string(),
                hidden,
            });
    };
    if u.terminated {
        problems.push(problem(
            "portal::terminated_user",
            format!("`{email}` is a disabled account on the portal"),
            "disabled account",
            "DocSpace silently skips disabled accounts; re-enable the account or remove the invitee",
        ));
        return None;
    }
    if !u.user_type.allows(inv.access) {
        problems.push(problem(
            "portal::role_not_allowed_for_user_type",
            format!("`{email}` is a {} and cannot be a room manager", user_type_name(u.user_type)),
            "not a room admin",
            "only DocSpace admins and room admins can manage rooms; change the person's type in DocSpace, or use `content-creator`",
        ));
        return None;
    }
    // A guest the key's user may not see is dropped when named by id (`model::share_by_email`).
    let created_by_me =
        matches!((&u.invited_by, &observed.me), (Some(by), Some(me)) if *by == me.id);
    let by_email = super::org::caller(observed)
        .is_some_and(|c| model::share_by_email(c, u.user_type, created_by_me));
    Some(Target::User {
        id: u.id.clone(),
        email: email.to_string(),
        by_email,
    })
}

fn user_type_name(t: UserType) -> &'static str {
    match t {
        UserType::DocSpaceAdmin => "DocSpace admin",
        UserType::RoomAdmin => "room admin",
        UserType::User => "user",
        UserType::Guest => "guest",
    }
}

/// The tags a manifest room asks for with the marker tag added (when the room does not
/// already name it, in any case); `None` when neither asks for tags.
fn with_marker(tags: Option<&BTreeSet<String>>, marker: Option<&str>) -> Option<BTreeSet<String>> {
    let mut out = tags.cloned();
    if let Some(marker) = marker {
        let set = out.get_or_insert_with(BTreeSet::new);
        if !set
            .iter()
            .any(|t| t.to_lowercase() == marker.to_lowercase())
        {
            set.insert(marker.to_string());
        }
    }
    out
}

/// The settings of a live room that differ from the manifest (empty when it matches).
/// `marker` (`managed_tag`) must be among the tags; a room without `tags:` keeps its other
/// tags and gains the marker.
fn setting_changes(
    room: &DesiredRoom,
    live: &ObservedRoom,
    marker: Option<&str>,
) -> Vec<SettingChange> {
    let mut out = Vec::new();
    if room.id.is_some() && live.title != room.title {
        out.push(SettingChange::Title {
            from: live.title.clone(),
            to: room.title.clone(),
        });
    }
    // A case difference in a tag is no change (see `model::tags_match`).
    let wanted = match (&room.tags, marker) {
        (Some(_), _) => with_marker(room.tags.as_ref(), marker),
        (None, Some(_)) => with_marker(Some(&live.tags), marker),
        (None, None) => None,
    };
    if let Some(tags) = &wanted
        && !model::tags_match(tags, &live.tags)
    {
        out.push(SettingChange::Tags {
            from: live.tags.iter().cloned().collect(),
            to: tags.iter().cloned().collect(),
        });
    }
    // `quotaLimit` is only reported when room quotas are enabled
    // (docs/docspace-api.md, "Reading a room"): without it, the quota cannot be compared and is not re-sent on
    // every run.
    if let Some(q) = room.quota
        && let Some(current) = live.quota
        && current != q.wire()
    {
        out.push(SettingChange::Quota {
            from: quota_from_wire(current),
            to: q,
        });
    }
    if let Some(d) = room.deny_download
        && live.deny_download != Some(d)
    {
        out.push(SettingChange::DenyDownload {
            from: live.deny_download.unwrap_or(false),
            to: d,
        });
    }
    out.extend(super::settings::changes(room, live));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{self, SourceFile};
    use crate::plan::Action;
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
            owner: false,
            invited_by: None,
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
        let plan = diff(&d, &Observed::default(), String::new(), Utc::now()).unwrap();
        // A: create, one share batch for both invitees, archive; B: create.
        assert_eq!(plan.summary.write_calls, 4);
    }

    #[test]
    fn exact_never_removes_the_owner_or_the_keys_own_user() {
        let d = desired(
            "version: 1\nrooms:\n  - title: R\n    type: collaboration\n    members: exact\n",
        );
        let plan = diff(&d, &observed(), String::new(), Utc::now()).unwrap();
        let removed: Vec<&str> = plan.rooms[0]
            .items
            .iter()
            .filter(|i| i.action() == Action::Remove)
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
        let plan = diff(&d, &o, String::new(), Utc::now()).unwrap();
        let items = &plan.rooms[0].items;
        assert_eq!(items.len(), 1);
        assert!(matches!(
            items[0].change,
            Change::Remove {
                reason: RemovalReason::AccessNone,
                ..
            }
        ));
    }

    #[test]
    fn a_changed_type_is_a_located_error() {
        let d = desired("version: 1\nrooms:\n  - title: R\n    type: custom\n");
        let problems = diff(&d, &observed(), String::new(), Utc::now()).unwrap_err();
        assert_eq!(problems[0].code, "portal::room_type_differs");
        assert_eq!(problems[0].location.as_deref(), Some("m.yaml:3:12"));
    }

    #[test]
    fn output_is_sorted_by_title_whatever_the_manifest_order() {
        let d = desired(
            "version: 1\nrooms:\n  - title: Zed\n    type: custom\n  - title: Alpha\n    type: custom\n",
        );
        let plan = diff(&d, &Observed::default(), String::new(), Utc::now()).unwrap();
        let titles: Vec<&str> = plan.rooms.iter().map(|r| r.title.as_str()).collect();
        assert_eq!(titles, ["Alpha", "Zed"]);
        assert_eq!(plan.summary.rooms_to_create, 2);
    }
}
