//! `apply --resend-pending`: every `resend_invitation` item of the plan in ONE
//! `PUT /api/2.0/people/invite` call, after all rooms ran. Items the planner marked
//! `not_resent` (the server would not mail them for this key) are reported skipped and their
//! ids never sent; the answer lists every account, mailed or not, so an account it shows
//! active or terminated is skipped too (docs/docspace-api.md, "Pending invitations"). The server allows that path a few
//! calls per 15 minutes (the `SensitiveApi` policy) and each call sends emails, so the ids are
//! never split over calls, and a refusal is reported with the server's wait rather than
//! waited out (docs/docspace-api.md, "Pending invitations"; docs/docspace-api.md, "Rate
//! limits").

use std::sync::atomic::{AtomicBool, Ordering};

use super::{Journal, PORTAL_SECTION, RoomLog, api_err};
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
    let items: Vec<(&Item, &str, Option<NotResent>)> = plan
        .portal_items
        .iter()
        .filter_map(|item| match &item.change {
            Change::ResendInvitation {
                target: Member::User { id, .. },
                not_resent,
                ..
            } => Some((item, id.as_str(), *not_resent)),
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
    // The people the server would not send to for this key are reported, and their ids
    // never sent: a user-type key's call would be refused whole for them.
    let mut send = Vec::new();
    for (item, id, not_resent) in items {
        match not_resent {
            Some(why) => log.push(Entry::of_portal_item(
                item,
                Outcome::Skipped(SkipReason::NotResent(why)),
            )),
            None => send.push((item, id)),
        }
    }
    if send.is_empty() {
        return;
    }
    if interrupted.load(Ordering::SeqCst) {
        for (item, _) in send {
            log.push(Entry::of_portal_item(
                item,
                Outcome::Skipped(SkipReason::Interrupted),
            ));
        }
        return;
    }
    let ids: Vec<String> = send.iter().map(|(_, id)| id.to_string()).collect();
    let result = api.resend_invitations(&ids).await;
    for (item, id) in send {
        let outcome = match &result {
            // The server answers with every account it knows, sent to or not: an account
            // its answer shows active or terminated got no email (it skips those). One it
            // did not list was not sent an email either; saying "applied" would be a lie.
            Ok(users) => match users.iter().find(|u| u.id == id) {
                Some(u) if u.is_activated() || u.status == Some(2) => {
                    Outcome::Skipped(SkipReason::NotResent(NotResent::NotPending))
                }
                Some(_) => Outcome::Applied,
                None => Outcome::Failed(EntryError::new(
                    None,
                    "the portal did not list this account in its answer: it was not sent again",
                )),
            },
            Err(e) => Outcome::Failed(refusal(e)),
        };
        log.push(Entry::of_portal_item(item, outcome));
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
    let mut error = api_err(e);
    if e.http_status() == Some(429) {
        let wait = e
            .retry_after()
            .map(|w| format!("try again in {} s", w.as_secs()))
            .unwrap_or_else(|| "try again later".into());
        error.message = format!(
            "the portal refused the resend: it allows this call only a few times per 15 minutes; {wait}"
        );
    }
    error
}
