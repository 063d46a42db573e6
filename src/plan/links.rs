//! The planner's part for sharing links (issue 13): one room's wanted links, resolved with
//! the password digests the commands read, against the links the portal has, through the
//! pure diff of [`crate::links`]. Items come out in the diff's order (revokes, updates,
//! creates: a revoke frees a slot of the server's link limits, docs/docspace-api.md,
//! "Sharing links").

use chrono::{DateTime, Utc};

use super::{Change, Item, ItemKey, RoomNote};
use crate::links::{self, LinkChange, LinkNote, LinkProblem, LiveExpiry, ObservedLink, WantedLink};
use crate::manifest::{Desired, DesiredRoom, Problem};
use crate::state::{Observed, ObservedRoom};

/// The plan item of one link write: the diff's change, whole.
pub fn item(room_title: &str, change: LinkChange) -> Item {
    Item::new(
        ItemKey::link(room_title, change.title()),
        Change::Link(change),
    )
}

/// What the planner gets for one room's links.
pub struct RoomLinks {
    pub items: Vec<Item>,
    pub notes: Vec<RoomNote>,
}

/// The link items and notes of `room` (whose live room is `live`, `None` for a room to
/// create), or `Err` with the error when its links could not be read: the room must then be
/// left out rather than planned as if it had none. Problems that forbid a link are located
/// at the link's title in the manifest. A link whose `expires:` has passed at `now` is left
/// alone with a note (see [`LinkNote::Expired`]).
pub fn plan(
    desired: &Desired,
    observed: &Observed,
    room: &DesiredRoom,
    live: Option<&ObservedRoom>,
    now: DateTime<Utc>,
    problems: &mut Vec<Problem>,
) -> Result<RoomLinks, String> {
    let mut out = RoomLinks {
        items: Vec::new(),
        notes: Vec::new(),
    };
    if room.links.is_empty() && !room.links_exact {
        return Ok(out);
    }
    let live_links = live_links(observed, live)?;
    let (expired, current): (Vec<_>, Vec<_>) = room
        .links
        .iter()
        .partition(|l| l.expires.flatten().is_some_and(|at| at <= now));
    let wanted = wanted_links(observed, &current);
    let kept: Vec<&str> = expired.iter().map(|l| l.title.as_str()).collect();
    let diff = links::diff_keeping(
        room.room_type,
        &wanted,
        live_links,
        room.links_exact,
        live.is_none(),
        &kept,
    );
    for l in &expired {
        out.notes.push(expired_note(l, live_links, now));
    }
    for p in diff.problems {
        problems.push(locate(desired, room, p));
    }
    out.items = diff
        .changes
        .into_iter()
        .map(|c| item(&room.title, c))
        .collect();
    out.notes
        .extend(diff.notes.into_iter().map(|note| RoomNote::Link { note }));
    Ok(out)
}

/// The live links of `live` (none for a room to create), or the error that kept them from
/// being read.
fn live_links<'a>(
    observed: &'a Observed,
    live: Option<&ObservedRoom>,
) -> Result<&'a [ObservedLink], String> {
    match live {
        Some(r) => {
            if let Some(error) = observed.links_unreadable.get(&r.id) {
                return Err(error.clone());
            }
            Ok(observed
                .links
                .get(&r.id)
                .map(Vec::as_slice)
                .unwrap_or_default())
        }
        // A room to create has no links yet but the primary link the server gives public and
        // form-filling rooms; `apply` compares again with the new room's links.
        None => Ok(&[]),
    }
}

/// The manifest's links that have not expired, as the diff takes them. Under the portal's
/// link restriction the server makes every external link internal (docs/docspace-api.md,
/// "Portal link policies"): an `internal` the manifest leaves out is that, so a write is
/// checked against what the portal will store. (`internal: false` and public rooms are
/// refused by `plan::portal_policy`.)
fn wanted_links(observed: &Observed, current: &[&crate::manifest::DesiredLink]) -> Vec<WantedLink> {
    let forced_internal = observed.portal_policy.links_restricted;
    current
        .iter()
        .map(|l| {
            let mut w = WantedLink::from_manifest(l, &observed.link_passwords);
            if forced_internal && l.kind == links::LinkKind::External && w.internal.is_none() {
                w.internal = Some(true);
            }
            w
        })
        .collect()
}

/// The note of a manifest link whose `expires:` has passed: left alone, and whether the live
/// link of that title is still open.
fn expired_note(
    l: &crate::manifest::DesiredLink,
    live_links: &[ObservedLink],
    now: DateTime<Utc>,
) -> RoomNote {
    let namesake = live_links
        .iter()
        .find(|live| links::same_title(&live.title, &l.title));
    RoomNote::Link {
        note: LinkNote::Expired {
            title: l.title.clone(),
            at: l.expires.flatten().unwrap_or(now),
            live: namesake.map(|live| {
                let ended = live.expired || live.expires.is_some_and(|at| at <= now);
                if ended {
                    LiveExpiry::Expired
                } else {
                    LiveExpiry::Open
                }
            }),
        },
    }
}

/// A link problem located at the link's title (or the room's, for a room-wide one).
fn locate(desired: &Desired, room: &DesiredRoom, p: LinkProblem) -> Problem {
    let origin = p
        .title
        .as_deref()
        .and_then(|t| room.links.iter().find(|l| l.title == t))
        .map_or(room.origin, |l| l.origin);
    let label = if p.title.is_some() {
        "this link"
    } else {
        "this room's links"
    };
    Problem::error("portal::link", p.message)
        .at(&desired.files[origin.file], origin.span, label)
        .with_help(p.help)
}
