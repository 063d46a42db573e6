//! Ownership and pruning (`managed_tag:`, `--prune`): which live rooms the manifest owns
//! without listing them any more, and how `--prune` archives them.
//!
//! With `managed_tag: NAME` every manifest room carries the marker tag NAME (the differ adds
//! it to creates and to the tag comparison; tag names compare case-insensitively on the
//! portal, docs/docspace-api.md, "Tags"). A live, not archived room that carries the marker
//! and that no manifest room matches (docs/architecture.md, "Identity") is an orphan: the
//! plan lists it, and `--prune` adds a room that archives it. Rooms are archived, never
//! deleted: archiving is undone with one unarchive, a deletion is not
//! (docs/docspace-api.md, "Archive and unarchive"). Without `managed_tag` nothing here runs
//! and no room outside the manifest is touched.
//!
//! What the set owns: one file declares `managed_tag` and lists the set's files in
//! `manifest_set` (kubectl's ApplySet is the model: a parent names its members; see
//! [`crate::manifest::set`]). A pruning run must be given exactly those files, or
//! [`scope_problems`] refuses it before the portal is read: `apply a.yaml --prune` of a set of
//! `a.yaml` and `b.yaml` would otherwise archive the rooms of `b.yaml`.
//!
//! What is never archived, marker or not: rooms of types a manifest cannot declare (AI rooms,
//! types this tool does not know), listed apart in the plan; and a room a planned create looks
//! like a rename of ([`note_renames`]). A planned create whose title differs from a marked
//! orphan's only in case or spacing is refused ([`twins`]): it is the same room renamed, and
//! archiving it while creating an empty twin would lose its files and members.
//!
//! The archive guard: a manifest cut short by mistake would orphan many rooms at once, so
//! archiving more than [`ARCHIVE_GUARD_SHARE`] of the rooms that carry the marker needs
//! `--allow-removals`, as the member removal guard does (docs/architecture.md, "Apply").

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    Change, GuardReason, Item, ItemKey, Plan, RoomChange, RoomNote, RoomPlan, expiry, summarise,
};
use crate::manifest::{Desired, DesiredRoom, Problem, Subject, set};
use crate::model::{self, Access, RoomType};
use crate::state::{self, MemberSubject, Observed, ObservedRoom};

/// `--prune` may archive at most this share of the rooms carrying the marker without
/// `--allow-removals`.
pub const ARCHIVE_GUARD_SHARE: f64 = 0.25;

/// What the plan knows about the rooms the manifest owns through its marker tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedRooms {
    /// The marker tag (`managed_tag:`).
    pub tag: String,
    /// Live, not archived rooms that carry the marker now (manifest rooms and orphans): what
    /// the archive guard compares with.
    pub marked_rooms: usize,
    /// Live, not archived rooms that neither a manifest room matches nor carry the marker:
    /// never touched.
    pub unmanaged_rooms: usize,
    /// Rooms carrying the marker that no manifest room matches, sorted by title then id.
    #[serde(default)]
    pub orphans: Vec<Orphan>,
    /// Whether the plan archives the orphans (`--prune`).
    #[serde(default)]
    pub prune: bool,
    /// Live rooms that carry the marker but are of a type a manifest cannot declare (AI
    /// rooms, types this tool does not know): never archived, listed so that nobody wonders.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub undeclarable: Vec<Undeclarable>,
}

/// A live room carrying the marker whose type a manifest cannot declare.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Undeclarable {
    pub id: i64,
    pub title: String,
    /// `None` when the portal reports a type this tool does not know (see `raw_room_type`).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub room_type: Option<RoomType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_room_type: Option<i64>,
}

/// A live room that carries the marker tag but that no manifest room matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Orphan {
    pub id: i64,
    pub title: String,
    #[serde(rename = "type")]
    pub room_type: RoomType,
    /// The room's fingerprint when planned (see [`crate::state::fingerprint`]), so that a
    /// saved `--prune` plan skips a room changed since as stale.
    pub fingerprint: String,
    /// Members before the plan (the owner row not counted).
    pub members_before: usize,
    /// The planned create this room looks like a rename of ([`note_renames`]): `--prune`
    /// does not archive it in this run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_to: Option<String>,
}

/// Whether `room` carries the marker tag (case-insensitively, as the portal compares tags).
pub fn carries(room: &ObservedRoom, tag: &str) -> bool {
    let tag = tag.to_lowercase();
    room.tags.iter().any(|t| t.to_lowercase() == tag)
}

/// The managed-rooms part of a plan, from the rooms the manifest matched (`planned`), or
/// `None` without `managed_tag`.
pub fn managed(
    desired: &Desired,
    observed: &Observed,
    planned: &[RoomPlan],
) -> Option<ManagedRooms> {
    let tag = desired.managed_tag.as_ref()?;
    let matched: HashSet<i64> = planned.iter().filter_map(|r| r.room_id).collect();
    // Rooms a planned create looks like a rename of, with the first such create's title.
    let mut renamed: HashMap<i64, &str> = HashMap::new();
    for room in planned {
        for note in &room.notes {
            if let RoomNote::LooksRenamed { id, .. } = note {
                renamed.entry(*id).or_insert(room.title.as_str());
            }
        }
    }
    let mut out = ManagedRooms {
        tag: tag.clone(),
        marked_rooms: 0,
        unmanaged_rooms: 0,
        orphans: Vec::new(),
        prune: false,
        undeclarable: Vec::new(),
    };
    for live in observed.rooms.iter().filter(|r| !r.archived) {
        let marked = carries(live, tag);
        // A room of a type a manifest cannot declare (an AI room, a type this tool does not
        // know) is never a manifest room's, so never archived by it, marker or not; nor does
        // it count for the archive guard.
        let declarable = live.room_type.filter(|t| RoomType::MANIFEST.contains(t));
        out.marked_rooms += usize::from(marked && declarable.is_some());
        if matched.contains(&live.id) {
            continue;
        }
        match (marked, declarable) {
            (true, Some(room_type)) => {
                let members = observed.members.get(&live.id).map(Vec::as_slice);
                out.orphans.push(Orphan {
                    id: live.id,
                    title: live.title.clone(),
                    room_type,
                    fingerprint: state::fingerprint(Some(live), members),
                    members_before: members
                        .unwrap_or_default()
                        .iter()
                        .filter(|m| !m.is_owner)
                        .count(),
                    renamed_to: renamed.get(&live.id).map(|t| t.to_string()),
                });
            }
            (true, None) => {
                out.unmanaged_rooms += 1;
                out.undeclarable.push(Undeclarable {
                    id: live.id,
                    title: live.title.clone(),
                    room_type: live.room_type,
                    raw_room_type: live.raw_room_type,
                });
            }
            (false, _) => out.unmanaged_rooms += 1,
        }
    }
    out.undeclarable
        .sort_by(|a, b| a.title.cmp(&b.title).then(a.id.cmp(&b.id)));
    out.orphans
        .sort_by(|a, b| a.title.cmp(&b.title).then(a.id.cmp(&b.id)));
    Some(out)
}

/// Why a pruning run is refused before the portal is read, or nothing when it may go on:
/// no `managed_tag`; a `managed_tag` without `manifest_set`; a set file this run was not
/// given; a file of this run the set does not list. Each names the files and is located at
/// the declaration where there is one.
///
/// A set not resolved on disk (`scope: None`: manifests built in memory) is not checked here.
pub fn scope_problems(desired: &Desired) -> Vec<Problem> {
    if desired.managed_tag.is_none() {
        return vec![
            Problem::error(
                "prune::no_managed_tag",
                "--prune needs a `managed_tag` in the manifest; without one no room outside the manifest is ever touched",
            )
            .with_help("declare `managed_tag: NAME` in one file, with `manifest_set: [...]` listing the set's files beside it: only rooms carrying that tag can be pruned"),
        ];
    }
    let Some(set) = &desired.manifest_set else {
        return vec![no_manifest_set(desired)];
    };
    match &set.scope {
        Some(scope) => scope_mismatch(desired, set, scope),
        None => Vec::new(),
    }
}

/// `problem`, located at `origin` when there is one.
fn located(
    desired: &Desired,
    problem: Problem,
    origin: Option<crate::manifest::Origin>,
    label: &str,
) -> Problem {
    match origin {
        Some(o) => problem.at(&desired.files[o.file], o.span, label),
        None => problem,
    }
}

/// `managed_tag` without `manifest_set`, with the one-file set to write as the help.
fn no_manifest_set(desired: &Desired) -> Problem {
    let name = desired.managed_tag_origin.map_or_else(
        || "rooms.yaml".to_string(),
        |o| set::file_name(&desired.files[o.file].name),
    );
    located(
        desired,
        Problem::error(
            "prune::no_manifest_set",
            "--prune needs `manifest_set` beside `managed_tag`: the list of the files that make up this manifest set",
        ),
        desired.managed_tag_origin,
        "the set's marker tag",
    )
    .with_help(format!(
        "list every file of the set, or just this one: `manifest_set: [{name}]`; a pruning run must then be given every file of the set, so that the rooms of a file left out are never archived"
    ))
}

/// The files of the set this run lacks, and the files of this run the set does not list.
fn scope_mismatch(
    desired: &Desired,
    set: &crate::manifest::set::ManifestSet,
    scope: &crate::manifest::set::SetScope,
) -> Vec<Problem> {
    let declaring = &desired.files[set.origin.file].name;
    let list = |names: &[String]| {
        names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let at = |problem: Problem| located(desired, problem, Some(set.origin), "the set's files");
    let mut out = Vec::new();
    if !scope.missing.is_empty() {
        let n = scope.missing.len();
        out.push(
            at(Problem::error(
                "prune::partial_set",
                format!(
                    "--prune is refused: this run lacks {} of the manifest set declared in {declaring}: {}",
                    if n == 1 { "1 file".to_string() } else { format!("{n} files") },
                    list(&scope.missing)
                ),
            ))
            .with_help("give every file of the set on the command line, or run without --prune: pruning with part of a set would archive the rooms of the files left out"),
        );
    }
    if !scope.unlisted.is_empty() {
        let n = scope.unlisted.len();
        let them = if n == 1 { "it" } else { "them" };
        out.push(
            at(Problem::error(
                "prune::file_outside_set",
                format!(
                    "--prune is refused: {} {} part of this run but not of the manifest set declared in {declaring}",
                    list(&scope.unlisted),
                    if n == 1 { "is" } else { "are" }
                ),
            ))
            .with_help(format!(
                "add {them} to `manifest_set`, or leave {them} out of the pruning run"
            )),
        );
    }
    out
}

/// Planned creates whose title differs from a marked, unmatched live room's only in case or
/// spacing (`beta 1` where the portal has `Beta 1`): refused, located, since creating it would
/// leave the live room an orphan that `--prune` archives with its files and members, beside
/// an empty twin. Nothing without `managed_tag` (the plan's similar-title note covers that).
/// `also_matched`: the live rooms of manifest rooms a `--room` run does not plan.
pub fn twins(
    desired: &Desired,
    observed: &Observed,
    planned: &[RoomPlan],
    also_matched: &HashSet<i64>,
) -> Vec<Problem> {
    let Some(tag) = &desired.managed_tag else {
        return Vec::new();
    };
    let mut matched: HashSet<i64> = planned.iter().filter_map(|r| r.room_id).collect();
    matched.extend(also_matched);
    let created: HashSet<&str> = planned
        .iter()
        .filter(|r| r.change == RoomChange::Create)
        .map(|r| r.title.as_str())
        .collect();
    if created.is_empty() {
        return Vec::new();
    }
    let mut marked: HashMap<String, Vec<&ObservedRoom>> = HashMap::new();
    for live in &observed.rooms {
        if !live.archived
            && !matched.contains(&live.id)
            && live
                .room_type
                .is_some_and(|t| RoomType::MANIFEST.contains(&t))
            && carries(live, tag)
        {
            marked
                .entry(super::diff::fold_title(&model::sanitize_title(&live.title)))
                .or_default()
                .push(live);
        }
    }
    let mut out = Vec::new();
    for room in desired
        .rooms
        .iter()
        .filter(|r| r.id.is_none() && created.contains(r.title.as_str()))
    {
        let Some(live) = marked
            .get(&super::diff::fold_title(&room.title))
            .and_then(|rooms| rooms.iter().min_by_key(|r| r.id))
        else {
            continue;
        };
        out.push(
            Problem::error(
                "portal::case_only_rename",
                format!(
                    "room `{}` is not on the portal, but room `{}` (id {}) is, carrying the marker tag `{tag}`: the titles differ only in case or spacing",
                    room.title, live.title, live.id
                ),
            )
            .at(&desired.files[room.origin.file], room.origin.span, "differs only in case or spacing")
            .with_help(format!(
                "if it is the same room, pin it with `id: {}` (its title is then changed to this one), or write the title as the portal has it; as written, the plan would create an empty room beside it, and --prune would archive the live room with its files",
                live.id
            )),
        );
    }
    out
}

/// Notes on each planned create whose invitees are largely the members of a live room of its
/// type that no manifest room matches (see [`state::RENAME_MIN_SHARED`]): it looks like that
/// room renamed, so the plan says so and tells to pin `id:`, and [`managed`] keeps that room
/// from `--prune`. Only rooms whose members were read are compared (see
/// [`state::rename_candidate_ids`]); the key's own user is not counted. `also_matched`: the
/// live rooms of manifest rooms a `--room` run does not plan (never "unmatched").
pub fn note_renames(
    desired: &Desired,
    observed: &Observed,
    planned: &mut [RoomPlan],
    also_matched: &HashSet<i64>,
    now: DateTime<Utc>,
) {
    if !planned.iter().any(|r| r.change == RoomChange::Create) {
        return;
    }
    let me = observed.me.as_ref().map(|u| u.email.as_str());
    let mut matched: HashSet<i64> = planned.iter().filter_map(|r| r.room_id).collect();
    matched.extend(also_matched);
    // The members of each unmatched, readable, live room, as the keys invitees are compared by.
    let candidates: Vec<(&ObservedRoom, HashSet<String>)> = observed
        .rooms
        .iter()
        .filter(|r| !r.archived && !matched.contains(&r.id))
        .filter_map(|r| {
            let members = observed.members.get(&r.id)?;
            let keys = members
                .iter()
                .filter_map(|m| match &m.subject {
                    MemberSubject::User(u) if Some(u.email.as_str()) == me => None,
                    MemberSubject::User(u) => {
                        Some(format!("e:{}", model::normalise_email(&u.email)))
                    }
                    MemberSubject::Group(g) => Some(format!("g:{}", g.name.to_lowercase())),
                })
                .collect();
            Some((r, keys))
        })
        .collect();
    if candidates.is_empty() {
        return;
    }
    let wanted: HashMap<&str, &DesiredRoom> = desired
        .rooms
        .iter()
        .filter(|r| r.id.is_none())
        .map(|r| (r.title.as_str(), r))
        .collect();
    for plan in planned
        .iter_mut()
        .filter(|r| r.change == RoomChange::Create)
    {
        let Some(room) = wanted.get(plan.title.as_str()) else {
            continue;
        };
        let invitees: BTreeSet<String> = room
            .invitees
            .iter()
            .filter(|i| i.access != Access::None && expiry::expired(i, now).is_none())
            .filter_map(|i| match &i.subject {
                Subject::Email(e) if Some(e.as_str()) == me => None,
                Subject::Email(e) => Some(format!("e:{e}")),
                Subject::Group(g) => Some(format!("g:{}", g.to_lowercase())),
            })
            .collect();
        if invitees.len() < state::RENAME_MIN_SHARED {
            continue;
        }
        let best = candidates
            .iter()
            .filter(|(r, _)| r.room_type == Some(room.room_type))
            .map(|(r, keys)| (invitees.iter().filter(|k| keys.contains(*k)).count(), *r))
            .filter(|(shared, _)| {
                *shared >= state::RENAME_MIN_SHARED
                    && *shared as f64 >= state::RENAME_MIN_SHARE * invitees.len() as f64
            })
            .max_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.id.cmp(&a.1.id)));
        if let Some((shared, live)) = best {
            plan.notes.push(RoomNote::LooksRenamed {
                id: live.id,
                title: live.title.clone(),
                shared,
                invitees: invitees.len(),
            });
        }
    }
}

/// `--prune`: adds to `plan` one room per orphan that archives it, and recomputes the
/// summary. Does nothing without `managed_tag` or when the plan already prunes.
pub fn archive_orphans(plan: &mut Plan) {
    let Some(managed) = plan.managed.as_mut() else {
        return;
    };
    if managed.prune {
        return;
    }
    managed.prune = true;
    // A room a planned create looks like a rename of stays: archiving it would take its
    // files and members away from what is probably the same room under a new title.
    for o in managed.orphans.iter().filter(|o| o.renamed_to.is_none()) {
        plan.rooms.push(RoomPlan {
            title: o.title.clone(),
            room_type: o.room_type,
            room_id: Some(o.id),
            change: RoomChange::Update,
            fingerprint: o.fingerprint.clone(),
            members_before: o.members_before,
            items: vec![Item::new(ItemKey::room(&o.title), Change::Archive)],
            notes: vec![RoomNote::Orphan],
        });
    }
    plan.rooms
        .sort_by(|a, b| a.title.cmp(&b.title).then(a.room_id.cmp(&b.room_id)));
    plan.summary = summarise(&plan.rooms, &plan.portal_items);
}

/// Why the archive guard refuses the plan's orphan archives, or `None` when it lets them
/// through: more than [`ARCHIVE_GUARD_SHARE`] of the rooms carrying the marker. A plan with
/// orphan rooms but no count of marked rooms (a hand-edited saved plan) is refused too.
pub fn guard(plan: &Plan) -> Option<GuardReason> {
    let archives = plan
        .rooms
        .iter()
        .filter(|r| r.is_orphan() && !r.items.is_empty())
        .count();
    if archives == 0 {
        return None;
    }
    let managed = plan.managed.as_ref().map_or(0, |m| m.marked_rooms);
    (archives as f64 > ARCHIVE_GUARD_SHARE * managed as f64)
        .then_some(GuardReason::TooManyRooms { archives, managed })
}

/// Notes on each orphan room that the archive guard refuses its archive (the removal-guard
/// notes were cleared by [`RoomPlan::mark_guarded_removals`] just before).
pub fn mark_guarded_archives(plan: &mut Plan, allow_removals: bool) {
    if allow_removals {
        return;
    }
    let Some(reason) = guard(plan) else {
        return;
    };
    for room in plan.rooms.iter_mut().filter(|r| r.is_orphan()) {
        room.notes.push(RoomNote::RemovalGuard {
            removals: room.items.len(),
            reason,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::tests::room;

    fn plan_with(orphans: usize, marked: usize) -> Plan {
        let mut rooms = Vec::new();
        for n in 0..orphans {
            let mut r = room(
                0,
                vec![Item::new(ItemKey::room(&format!("O{n}")), Change::Archive)],
            );
            r.title = format!("O{n}");
            r.notes.push(RoomNote::Orphan);
            rooms.push(r);
        }
        Plan {
            format_version: 1,
            portal: "p".into(),
            manifest_hash: String::new(),
            share: Default::default(),
            summary: summarise(&rooms, &[]),
            rooms,
            unmanaged_connected_rooms: 0,
            managed: Some(ManagedRooms {
                tag: "m".into(),
                marked_rooms: marked,
                unmanaged_rooms: 0,
                orphans: Vec::new(),
                prune: true,
                undeclarable: Vec::new(),
            }),
            expiring: None,
            ..Plan::default()
        }
    }

    fn desired(yaml: &str) -> Desired {
        let mut problems = crate::manifest::Problems::default();
        let files = vec![crate::manifest::SourceFile::new("m.yaml", yaml)];
        let d = crate::manifest::load_sources(files, &mut problems);
        assert!(!problems.has_errors(), "{problems:?}");
        d
    }

    fn live(id: i64, title: &str, tags: &[&str], archived: bool) -> ObservedRoom {
        ObservedRoom {
            id,
            title: title.into(),
            room_type: Some(RoomType::Custom),
            raw_room_type: Some(5),
            archived,
            tags: tags.iter().map(|t| t.to_string()).collect(),
            quota: None,
            custom_quota: false,
            deny_download: None,
            settings: Default::default(),
        }
    }

    #[test]
    fn orphans_are_live_marked_unmatched_rooms_only() {
        let observed = Observed {
            portal: "p".into(),
            rooms: vec![
                live(1, "Kept", &["Managed"], false),
                live(2, "Gone", &["MANAGED", "x"], false),
                live(3, "Old", &["managed"], true),
                live(4, "Other", &["x"], false),
                ObservedRoom {
                    room_type: None,
                    raw_room_type: Some(42),
                    ..live(5, "Strange", &["managed"], false)
                },
                ObservedRoom {
                    room_type: Some(RoomType::Ai),
                    raw_room_type: Some(9),
                    ..live(6, "Agent", &["managed"], false)
                },
            ],
            ..Observed::default()
        };
        let d = desired(
            "version: 1\nmanaged_tag: managed\nrooms:\n  - title: Kept\n    type: custom\n",
        );
        let plan = crate::plan::diff(&d, &observed, String::new(), chrono::Utc::now()).unwrap();
        let m = plan.managed.as_ref().unwrap();
        let orphans: Vec<(i64, &str)> =
            m.orphans.iter().map(|o| (o.id, o.title.as_str())).collect();
        assert_eq!(orphans, [(2, "Gone")]);
        // Kept and Gone carry the marker and count for the guard; Other, and Strange and
        // Agent (types a manifest cannot declare, marker or not) are left alone.
        assert_eq!((m.marked_rooms, m.unmanaged_rooms), (2, 3));
        let kept: Vec<(i64, Option<RoomType>)> =
            m.undeclarable.iter().map(|u| (u.id, u.room_type)).collect();
        assert_eq!(kept, [(6, Some(RoomType::Ai)), (5, None)]);
        // The manifest room already carries the marker (in another case): no change.
        assert_eq!(plan.rooms[0].change, RoomChange::Unchanged);

        let mut pruned = plan.clone();
        archive_orphans(&mut pruned);
        assert_eq!(pruned.summary.rooms_to_prune, 1);
        assert!(!pruned.rooms.iter().any(|r| r.room_id == Some(6)));
        let gone = pruned.rooms.iter().find(|r| r.title == "Gone").unwrap();
        assert_eq!(
            gone.items,
            vec![Item::new(ItemKey::room("Gone"), Change::Archive)]
        );
        assert_eq!(gone.room_id, Some(2));

        // Without `managed_tag` nothing is reported and nothing is pruned.
        let d = desired("version: 1\nrooms:\n  - title: Kept\n    type: custom\n");
        let mut plan = crate::plan::diff(&d, &observed, String::new(), chrono::Utc::now()).unwrap();
        assert!(plan.managed.is_none());
        archive_orphans(&mut plan);
        assert_eq!(plan.rooms.len(), 1);
    }

    #[test]
    fn the_marker_is_added_to_creates_and_to_rooms_without_it() {
        let observed = Observed {
            portal: "p".into(),
            rooms: vec![live(1, "Kept", &["x"], false)],
            ..Observed::default()
        };
        let d = desired(
            "version: 1\nmanaged_tag: managed\nrooms:\n  - title: Kept\n    type: custom\n  - title: New\n    type: custom\n    tags: [a]\n",
        );
        let plan = crate::plan::diff(&d, &observed, String::new(), chrono::Utc::now()).unwrap();
        let kept = &plan.rooms[0];
        assert_eq!(
            kept.items[0].change,
            Change::UpdateRoom {
                changes: vec![crate::plan::SettingChange::Tags {
                    from: vec!["x".into()],
                    to: vec!["managed".into(), "x".into()],
                }]
            }
        );
        let Change::CreateRoom { settings, .. } = &plan.rooms[1].items[0].change else {
            panic!("{:?}", plan.rooms[1]);
        };
        assert_eq!(settings.tags, Some(vec!["a".into(), "managed".into()]));
    }

    fn member(email: &str) -> state::ObservedMember {
        state::ObservedMember {
            subject: MemberSubject::User(state::ObservedUser {
                id: email.into(),
                email: email.into(),
                user_type: crate::model::UserType::User,
                pending: false,
                terminated: false,
                type_known: true,
                created: None,
                owner: false,
                invited_by: None,
            }),
            access: Some(Access::Read),
            raw_access: Access::Read.wire(),
            is_owner: false,
            can_edit_access: true,
        }
    }

    #[test]
    fn a_title_differing_from_a_marked_orphan_only_in_case_or_spacing_is_refused() {
        let observed = Observed {
            portal: "p".into(),
            rooms: vec![
                live(7, "Beta 1", &["managed"], false),
                live(8, "Gamma  Two", &["other"], false),
            ],
            ..Observed::default()
        };
        let d = desired(
            "version: 1\nmanaged_tag: managed\nrooms:\n  - title: beta 1\n    type: custom\n  - title: gamma two\n    type: custom\n",
        );
        let problems = crate::plan::diff(&d, &observed, String::new(), chrono::Utc::now())
            .expect_err("a case-only rename of a marked room");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].code, "portal::case_only_rename");
        assert_eq!(problems[0].location.as_deref(), Some("m.yaml:4:12"));
        assert!(problems[0].help.as_deref().unwrap().contains("`id: 7`"));
        // Double spaces fold alike; an unmarked room is left to the similar-title note.
        let d = desired(
            "version: 1\nmanaged_tag: managed\nrooms:\n  - title: beta  1\n    type: custom\n",
        );
        assert!(crate::plan::diff(&d, &observed, String::new(), chrono::Utc::now()).is_err());
        let d = desired("version: 1\nrooms:\n  - title: beta 1\n    type: custom\n");
        assert!(crate::plan::diff(&d, &observed, String::new(), chrono::Utc::now()).is_ok());
    }

    #[test]
    fn a_create_whose_invitees_are_an_orphans_members_is_a_rename_and_never_pruned() {
        let mut observed = Observed {
            portal: "p".into(),
            rooms: vec![
                live(7, "Old name", &["managed"], false),
                live(8, "Elsewhere", &["managed"], false),
            ],
            ..Observed::default()
        };
        observed.members.insert(
            7,
            vec![member("a@x.test"), member("b@x.test"), member("z@x.test")],
        );
        observed.members.insert(8, vec![member("a@x.test")]);
        let invitees = |emails: &[&str]| {
            emails
                .iter()
                .map(|e| format!("      - email: {e}\n        access: read\n"))
                .collect::<String>()
        };
        let d = desired(&format!(
            "version: 1\nmanaged_tag: managed\nrooms:\n  - title: New name\n    type: custom\n    invitees:\n{}",
            invitees(&["a@x.test", "b@x.test", "c@x.test", "d@x.test"])
        ));
        let mut plan = crate::plan::diff(&d, &observed, String::new(), chrono::Utc::now()).unwrap();
        assert_eq!(
            plan.rooms[0].notes,
            [RoomNote::LooksRenamed {
                id: 7,
                title: "Old name".into(),
                shared: 2,
                invitees: 4
            }]
        );
        let m = plan.managed.as_ref().unwrap();
        let renamed: Vec<(i64, Option<&str>)> = m
            .orphans
            .iter()
            .map(|o| (o.id, o.renamed_to.as_deref()))
            .collect();
        assert_eq!(renamed, [(8, None), (7, Some("New name"))]);
        archive_orphans(&mut plan);
        let archived: Vec<i64> = plan
            .rooms
            .iter()
            .filter(|r| r.is_orphan())
            .filter_map(|r| r.room_id)
            .collect();
        assert_eq!(archived, [8]);

        // Under the threshold: 2 of 5 invitees, or a single shared member, is no rename.
        for emails in [
            &["a@x.test", "b@x.test", "c@x.test", "d@x.test", "e@x.test"][..],
            &["a@x.test", "c@x.test"][..],
        ] {
            let d = desired(&format!(
                "version: 1\nmanaged_tag: managed\nrooms:\n  - title: New name\n    type: custom\n    invitees:\n{}",
                invitees(emails)
            ));
            let plan = crate::plan::diff(&d, &observed, String::new(), chrono::Utc::now()).unwrap();
            assert!(plan.rooms[0].notes.is_empty(), "{emails:?}");
        }
    }

    #[test]
    fn pruning_needs_the_whole_declared_set() {
        let mut d = desired("version: 1\nmanaged_tag: managed\nrooms: []\n");
        let p = scope_problems(&d);
        assert_eq!(p[0].code, "prune::no_manifest_set");
        assert!(
            p[0].help
                .as_deref()
                .unwrap()
                .contains("`manifest_set: [m.yaml]`"),
            "{p:?}"
        );
        d = desired(
            "version: 1\nmanaged_tag: managed\nmanifest_set: [m.yaml, b.yaml]\nrooms: []\n",
        );
        // Built in memory: nothing on disk to compare with.
        assert!(scope_problems(&d).is_empty());
        d.manifest_set.as_mut().unwrap().scope = Some(set::SetScope {
            missing: vec!["b.yaml".into()],
            unlisted: vec!["c.yaml".into()],
        });
        let codes: Vec<&str> = scope_problems(&d).iter().map(|p| p.code).collect();
        assert_eq!(codes, ["prune::partial_set", "prune::file_outside_set"]);
        assert_eq!(
            scope_problems(&desired("version: 1\nrooms: []\n"))[0].code,
            "prune::no_managed_tag"
        );
    }

    #[test]
    fn the_archive_guard_allows_a_quarter_of_the_marked_rooms() {
        assert_eq!(guard(&plan_with(1, 4)), None);
        assert_eq!(guard(&plan_with(0, 0)), None);
        assert_eq!(
            guard(&plan_with(2, 4)),
            Some(GuardReason::TooManyRooms {
                archives: 2,
                managed: 4
            })
        );
        // A lone managed room is never archived without the override.
        assert!(guard(&plan_with(1, 1)).is_some());
    }

    #[test]
    fn orphans_count_as_prunes_not_updates_and_are_guarded_in_notes() {
        let mut plan = plan_with(2, 4);
        assert_eq!(plan.summary.rooms_to_prune, 2);
        assert_eq!(plan.summary.rooms_to_update, 0);
        assert!(plan.has_changes());
        plan.mark_guarded_removals(false);
        assert!(plan.rooms.iter().all(|r| {
            r.notes
                .iter()
                .any(|n| matches!(n, RoomNote::RemovalGuard { .. }))
        }));
        plan.mark_guarded_removals(true);
        assert!(plan.rooms.iter().all(|r| {
            !r.notes
                .iter()
                .any(|n| matches!(n, RoomNote::RemovalGuard { .. }))
        }));
    }
}
