//! The one identity step: which live room each manifest room is (docs/architecture.md,
//! "Identity"). The planner, the portal reading (whose members and links to read) and the
//! pruning pass all ask this module; none matches rooms on its own.
//!
//! The rules: a pinned `id:` wins, and claims its live room first; otherwise the manifest
//! title, in the form the server stores (docs/docspace-api.md, "Room titles"), is compared
//! exactly with the stored form of each live title. No match: the room is new. One match: it
//! is managed, unless another manifest room pins it. Several: ambiguous (the user pins one).
//! Rooms in connected third-party storage are never among the candidates: the portal lists
//! them apart (`Observed::connected_rooms`) and the tool cannot manage them. Whether the
//! matched room's type is the manifest's is the planner's check, since it is a problem of the
//! plan, not of identity.

use std::collections::{BTreeSet, HashMap};

use crate::manifest::{Desired, DesiredRoom};
use crate::model;
use crate::state::ObservedRoom;

/// What identity found for one manifest room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found<'a> {
    /// No live room: the room is to be created.
    New,
    /// The live room this manifest room is.
    Room(&'a ObservedRoom),
    /// Pinned to an id the key cannot see.
    PinnedMissing(i64),
    /// The one room with this title is pinned by another manifest room.
    ClaimedTwice {
        live: &'a ObservedRoom,
        owner: &'a DesiredRoom,
    },
    /// Several live rooms have this title (sorted by id).
    Ambiguous(Vec<&'a ObservedRoom>),
}

/// Live rooms indexed for matching manifest rooms.
pub struct Identity<'a> {
    rooms: &'a [ObservedRoom],
    /// Live rooms by the stored form of their title, sorted by id (the listing's order is
    /// the key user's own sort preference, so it must not decide anything).
    by_stored_title: HashMap<String, Vec<&'a ObservedRoom>>,
    /// Manifest rooms by the id they pin.
    pinned: HashMap<i64, &'a DesiredRoom>,
}

impl<'a> Identity<'a> {
    pub fn new(desired: &'a Desired, rooms: &'a [ObservedRoom]) -> Identity<'a> {
        let mut sorted: Vec<&ObservedRoom> = rooms.iter().collect();
        sorted.sort_by_key(|r| r.id);
        let mut by_stored_title: HashMap<String, Vec<&ObservedRoom>> = HashMap::new();
        for r in sorted {
            by_stored_title
                .entry(model::sanitize_title(&r.title))
                .or_default()
                .push(r);
        }
        let pinned = desired
            .rooms
            .iter()
            .filter_map(|r| r.id.map(|id| (id, r)))
            .collect();
        Identity {
            rooms,
            by_stored_title,
            pinned,
        }
    }

    /// Which live room `room` is.
    pub fn find(&self, room: &DesiredRoom) -> Found<'a> {
        if let Some(id) = room.id {
            return match self.rooms.iter().find(|r| r.id == id) {
                Some(r) => Found::Room(r),
                None => Found::PinnedMissing(id),
            };
        }
        match self.titled(&room.title) {
            [] => Found::New,
            [one] => match self.pinned.get(&one.id) {
                // The live room is already another manifest room's by `id:`: managing it
                // twice would fight over it on every run.
                Some(owner) => Found::ClaimedTwice { live: one, owner },
                None => Found::Room(one),
            },
            many => Found::Ambiguous(many.to_vec()),
        }
    }

    /// The live rooms whose stored title is `stored_title`, sorted by id.
    pub fn titled(&self, stored_title: &str) -> &[&'a ObservedRoom] {
        self.by_stored_title
            .get(stored_title)
            .map_or(&[], Vec::as_slice)
    }

    /// Every live room `room` could be: its match, and every candidate of an ambiguous title
    /// (whose members are read so that the planner can say which is which).
    pub fn candidates(&self, room: &DesiredRoom) -> Vec<i64> {
        match self.find(room) {
            Found::Room(r) => vec![r.id],
            Found::ClaimedTwice { live, .. } => vec![live.id],
            Found::Ambiguous(many) => many.iter().map(|r| r.id).collect(),
            Found::New | Found::PinnedMissing(_) => Vec::new(),
        }
    }
}

/// The ids of live rooms the manifest's rooms are or may be (every candidate of an ambiguous
/// title), plus the rooms carrying `managed_tag` that are not archived (orphans are
/// fingerprinted with their members): the member lists a plan reads.
pub fn matched_room_ids(desired: &Desired, rooms: &[ObservedRoom]) -> BTreeSet<i64> {
    let identity = Identity::new(desired, rooms);
    let mut ids: BTreeSet<i64> = desired
        .rooms
        .iter()
        .flat_map(|r| identity.candidates(r))
        .collect();
    if let Some(tag) = &desired.managed_tag {
        let tag = tag.to_lowercase();
        ids.extend(
            rooms
                .iter()
                .filter(|r| !r.archived && r.tags.iter().any(|t| t.to_lowercase() == tag))
                .map(|r| r.id),
        );
    }
    ids
}

/// Whether some manifest room with `template:` is not on the portal (it would be created):
/// only then are the portal's templates read, since `template:` has no effect on a room that
/// exists (docs/docspace-api.md, "Room templates"). A template deleted after its rooms were
/// made then never fails the plans of those rooms.
pub fn creates_from_template(desired: &Desired, rooms: &[ObservedRoom]) -> bool {
    let identity = Identity::new(desired, rooms);
    desired
        .rooms
        .iter()
        .any(|r| r.template.is_some() && identity.candidates(r).is_empty())
}

/// The live rooms that manifest rooms with `links:` or `links_exact` are: the rooms whose
/// links a plan reads (one call each).
pub fn link_room_ids(desired: &Desired, rooms: &[ObservedRoom]) -> BTreeSet<i64> {
    let identity = Identity::new(desired, rooms);
    desired
        .rooms
        .iter()
        .filter(|r| !r.links.is_empty() || r.links_exact)
        .flat_map(|r| identity.candidates(r))
        .collect()
}
