//! The recheck of a saved plan (`apply --plan`): re-reads the rooms the plan touches, next to
//! the rest of the portal reading ([`crate::state`], whose [`state::room_members`] it uses),
//! and says which rooms changed since the plan was made (docs/architecture.md, "Saved plans").

use std::collections::{BTreeMap, HashMap, HashSet};

use futures::stream::{self, StreamExt, TryStreamExt};

use crate::docspace::{ApiError, DocSpaceApi, RoomDto, SearchArea};
use crate::plan::{Item, Plan, RoomPlan};
use crate::state::{self, ObservedMember, ObservedRoom};

/// How many rooms of a saved plan are re-read at once.
const RECHECK_CONCURRENCY: usize = 8;

/// A room of a saved plan as re-read: `None` when it is gone (or not visible).
pub type Live = Option<(ObservedRoom, Vec<ObservedMember>)>;

/// What the recheck found.
#[derive(Debug, Default)]
pub struct Rechecked {
    /// Ids of rooms that exist now (see `apply::execute`'s `known_room_ids`).
    pub known: HashSet<i64>,
    /// The rooms whose fingerprint changed, by index in the plan, each with its live state.
    pub changed: BTreeMap<usize, Live>,
}

/// Re-reads the rooms of `plan` that have items (the others are not written to).
pub async fn recheck<A: DocSpaceApi>(api: &A, plan: &Plan) -> Result<Rechecked, ApiError> {
    // Rooms planned as creates are checked against one full listing: a title search may go
    // through the portal's full-text index, which can lag or not match exactly
    // (docs/docspace-api.md, "Room listing and the key user's preferences"), and a room made
    // by hand since the plan must not be created a second time.
    let listing = if plan
        .rooms
        .iter()
        .any(|r| r.room_id.is_none() && !r.items.is_empty())
    {
        api.list_rooms(SearchArea::Any, None)
            .await?
            .require_complete()?
            .rooms
    } else {
        Vec::new()
    };
    // Rooms by stored title, once: a saved plan of many creates must not scan the listing per
    // room (the first of several same-titled rooms counts).
    let mut by_title: HashMap<String, &RoomDto> = HashMap::new();
    for r in listing.iter().filter(|r| r.room_type.is_some()) {
        by_title
            .entry(crate::model::sanitize_title(&r.title))
            .or_insert(r);
    }
    let by_title = &by_title;
    let checked: Vec<Checked> = stream::iter(
        plan.rooms
            .iter()
            .enumerate()
            .filter(|(_, r)| !r.items.is_empty()),
    )
    .map(|(n, room)| async move {
        let (id, now, live) = match room.room_id {
            Some(id) => read_planned(api, id, room.items.iter().any(Item::is_link)).await?,
            None => read_created(api, room, by_title).await?,
        };
        Ok::<_, ApiError>((id, (now != room.fingerprint).then_some((n, live))))
    })
    .buffer_unordered(RECHECK_CONCURRENCY)
    .try_collect()
    .await?;
    // Every listed room existed before this run.
    let mut found = Rechecked {
        known: listing.iter().map(|r| r.id).collect(),
        changed: BTreeMap::new(),
    };
    for (id, changed) in checked {
        found.known.extend(id);
        found.changed.extend(changed);
    }
    Ok(found)
}

/// Per room: its id when it exists, and its index and live state when it changed.
type Checked = (Option<i64>, Option<(usize, Live)>);

/// (the id when the room exists, its fingerprint now, its live state)
type Reread = (Option<i64>, String, Live);

/// A room the plan names by id.
/// `links`: the plan changes the room's links, so they are part of its fingerprint.
async fn read_planned<A: DocSpaceApi>(api: &A, id: i64, links: bool) -> Result<Reread, ApiError> {
    match api.get_room(id).await {
        Ok(dto) => {
            let observed = ObservedRoom::from_dto(&dto);
            let members = state::room_members(api, id).await?;
            let mut now = state::fingerprint(Some(&observed), Some(&members));
            if links {
                now = state::with_links_fingerprint(now, &state::room_links(api, id).await?);
            }
            Ok((Some(dto.id), now, Some((observed, members))))
        }
        Err(e) if e.is_not_found() || e.http_status() == Some(403) => {
            Ok((None, state::fingerprint(None, None), None))
        }
        Err(e) => Err(e),
    }
}

/// A room the plan creates: stale if a room with that exact title appeared since.
async fn read_created<A: DocSpaceApi>(
    api: &A,
    room: &RoomPlan,
    by_title: &HashMap<String, &RoomDto>,
) -> Result<Reread, ApiError> {
    let Some(dto) = by_title.get(&room.title).copied() else {
        return Ok((None, state::fingerprint(None, None), None));
    };
    let observed = ObservedRoom::from_dto(dto);
    let now = state::fingerprint(Some(&observed), Some(&[]));
    if now == room.fingerprint {
        return Ok((None, now, None));
    }
    // Read only when needed: to tell an earlier apply of this plan from a room made by hand.
    let members = state::room_members(api, dto.id).await?;
    Ok((None, now, Some((observed, members))))
}
