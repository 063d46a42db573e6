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
//! The archive guard: a manifest cut short by mistake (a file left out of the command line)
//! would orphan many rooms at once, so archiving more than [`ARCHIVE_GUARD_SHARE`] of the
//! rooms that carry the marker needs `--allow-removals`, as the member removal guard does
//! (docs/architecture.md, "Apply").

use serde::{Deserialize, Serialize};

use super::{Change, GuardReason, Item, Plan, RoomChange, RoomNote, RoomPlan, summarise};
use crate::manifest::Desired;
use crate::model::RoomType;
use crate::state::{self, Observed, ObservedRoom};

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
    let matched: std::collections::HashSet<i64> =
        planned.iter().filter_map(|r| r.room_id).collect();
    let mut out = ManagedRooms {
        tag: tag.clone(),
        marked_rooms: 0,
        unmanaged_rooms: 0,
        orphans: Vec::new(),
        prune: false,
    };
    for live in observed.rooms.iter().filter(|r| !r.archived) {
        let marked = carries(live, tag);
        out.marked_rooms += usize::from(marked);
        if matched.contains(&live.id) {
            continue;
        }
        // A room of a type this tool does not know is never a manifest room's and is never
        // archived by it.
        match (marked, live.room_type) {
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
                });
            }
            (true, None) | (false, _) => out.unmanaged_rooms += 1,
        }
    }
    out.orphans
        .sort_by(|a, b| a.title.cmp(&b.title).then(a.id.cmp(&b.id)));
    Some(out)
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
    for o in &managed.orphans {
        plan.rooms.push(RoomPlan {
            title: o.title.clone(),
            room_type: o.room_type,
            room_id: Some(o.id),
            change: RoomChange::Update,
            fingerprint: o.fingerprint.clone(),
            members_before: o.members_before,
            items: vec![Item::new(&o.title, Change::Archive)],
            notes: vec![RoomNote::Orphan],
        });
    }
    plan.rooms
        .sort_by(|a, b| a.title.cmp(&b.title).then(a.room_id.cmp(&b.room_id)));
    plan.summary = summarise(&plan.rooms);
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
            let mut r = room(0, vec![Item::new(format!("O{n}"), Change::Archive)]);
            r.title = format!("O{n}");
            r.notes.push(RoomNote::Orphan);
            rooms.push(r);
        }
        Plan {
            format_version: 1,
            portal: "p".into(),
            manifest_hash: String::new(),
            share: Default::default(),
            summary: summarise(&rooms),
            rooms,
            unmanaged_connected_rooms: 0,
            managed: Some(ManagedRooms {
                tag: "m".into(),
                marked_rooms: marked,
                unmanaged_rooms: 0,
                orphans: Vec::new(),
                prune: true,
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
        // Kept, Gone and Strange carry the marker; Other and Strange are left alone.
        assert_eq!((m.marked_rooms, m.unmanaged_rooms), (3, 2));
        // The manifest room already carries the marker (in another case): no change.
        assert_eq!(plan.rooms[0].change, RoomChange::Unchanged);

        let mut pruned = plan.clone();
        archive_orphans(&mut pruned);
        assert_eq!(pruned.summary.rooms_to_prune, 1);
        let gone = pruned.rooms.iter().find(|r| r.title == "Gone").unwrap();
        assert_eq!(gone.items, vec![Item::new("Gone", Change::Archive)]);
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
        let Change::CreateRoom { settings } = &plan.rooms[1].items[0].change else {
            panic!("{:?}", plan.rooms[1]);
        };
        assert_eq!(settings.tags, Some(vec!["a".into(), "managed".into()]));
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
