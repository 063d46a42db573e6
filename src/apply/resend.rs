//! `apply --resend-pending`: every `resend_invitation` item of the plan, after all rooms ran,
//! through the room's own route, `POST /api/2.0/files/rooms/{id}/resend` with `usersIds`:
//! the email the share call sent, naming the room, whose link joins it (the people route,
//! `PUT /people/invite`, sends a generic invitation to the portal instead;
//! docs/docspace-api.md, "Pending invitations"). One call per room, with every id of that
//! room. Items the planner marked `not_resent` (the server would skip them for this key) are
//! reported skipped and their ids never sent. The server answers nothing and mails every
//! listed member, active or not, so only the people the plan read as pending are listed. The
//! server allows each room's path a few calls per 15 minutes (the `SensitiveApi` policy) and
//! each call sends emails, so a room's ids are never split over calls, and a refusal is
//! reported with the server's wait rather than waited out (docs/docspace-api.md, "Rate
//! limits").

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{Journal, PORTAL_SECTION, RoomLog, refused};
use crate::docspace::{ApiError, DocSpaceApi};
use crate::plan::pending::NotResent;
use crate::plan::{Change, Item, Member, Plan};
use crate::report::{Entry, EntryError, Outcome, SkipReason};

/// Sends the resends of the plan's portal section and records one entry per person.
pub(super) async fn run<A: DocSpaceApi>(
    api: &A,
    plan: &Plan,
    interrupted: &AtomicBool,
    journal: &Journal,
) {
    let items: Vec<(&Item, &str, i64, Option<NotResent>)> = plan
        .portal_items
        .iter()
        .filter_map(|item| match &item.change {
            Change::ResendInvitation {
                target: Member::User { id, .. },
                not_resent,
                room_id,
                ..
            } => Some((item, id.as_str(), *room_id, *not_resent)),
            _ => None,
        })
        .collect();
    if items.is_empty() {
        return;
    }
    let log = RoomLog {
        journal,
        room: PORTAL_SECTION,
    };
    // The people the server would skip for this key are reported, and their ids never sent.
    let mut by_room: BTreeMap<i64, Vec<(&Item, &str)>> = BTreeMap::new();
    for (item, id, room_id, not_resent) in items {
        match not_resent {
            Some(why) => log.push(Entry::of_portal_item(
                item,
                Outcome::Skipped(SkipReason::NotResent(why)),
            )),
            None => by_room.entry(room_id).or_default().push((item, id)),
        }
    }
    for (room_id, send) in by_room {
        if interrupted.load(Ordering::SeqCst) {
            for (item, _) in send {
                log.push(Entry::of_portal_item(
                    item,
                    Outcome::Skipped(SkipReason::Interrupted),
                ));
            }
            continue;
        }
        let ids: Vec<String> = send.iter().map(|(_, id)| id.to_string()).collect();
        let result = api.resend_room_invitations(room_id, &ids).await;
        for (item, _) in send {
            // The answer is empty: the server mailed each listed member it can see, and the
            // plan listed only the ones it may (see `pending::not_resent`).
            let outcome = match &result {
                Ok(()) => Outcome::Applied,
                Err(e) => Outcome::Failed(refusal(e)),
            };
            log.push(Entry::of_portal_item(item, outcome));
        }
    }
}

/// The entries of the resends the server would not send for this key (skipped,
/// `not_resent`): what a plan without any other change still reports, since `execute` does
/// not run then.
pub fn not_resent_entries(plan: &Plan) -> Vec<Entry> {
    plan.portal_items
        .iter()
        .filter_map(|item| match &item.change {
            Change::ResendInvitation {
                not_resent: Some(why),
                ..
            } => Some(Entry::of_portal_item(
                item,
                Outcome::Skipped(SkipReason::NotResent(*why)),
            )),
            _ => None,
        })
        .collect()
}

/// The error of a refused resend; a 429 carries the server's wait.
fn refusal(e: &ApiError) -> EntryError {
    refused(e, || {
        "the portal refused the resend: it allows this call only a few times per 15 minutes per room".into()
    })
}
