//! One room's member changes: ONE share batch, verified by reading the members back.
//!
//! - The share call can drop an invitee without an error (a `warning` at most:
//!   docs/docspace-api.md, "The share call"; docs/docspace-api.md, "Email invitations"), so every requested member
//!   is verified by reading the room's members back.
//! - The share call is not transactional: an invalid entry fails the request (403) after
//!   earlier entries were applied (docs/docspace-api.md, "The share call"). After a refused
//!   batch the members are re-read and each still-missing item is sent on its own, so one bad
//!   invitee does not block the others.
//! - Access values are always sent as integers (docs/docspace-api.md, "Access as integers").

use std::collections::HashMap;

use crate::docspace::{ApiError, DocSpaceApi, Invitation, ShareRequest};
use crate::plan::ShareSettings;
use crate::plan::done::{MemberChange, Who};
use crate::report::{EntryError, Outcome};
use crate::state::{self, ObservedMember};

/// Message of a member item the read-back did not confirm.
pub const DROPPED: &str = "dropped by the server without an error";

fn invitation(m: &MemberChange<'_>) -> Invitation {
    let access = m.access.wire();
    match m.who {
        Who::User(id) | Who::Group(id) => Invitation::by_id(id.to_string(), access),
        // Email only for accounts that do not exist yet
        // (docs/docspace-api.md, "Email invitations"); removals always go by id
        // (docs/docspace-api.md, "The share call").
        Who::Email(email) => Invitation::by_email(email.to_string(), access),
    }
}

fn request(share: &ShareSettings, invitations: Vec<Invitation>) -> ShareRequest {
    ShareRequest {
        invitations,
        notify: share.notify,
        message: share.message.clone(),
        culture: share.culture.clone(),
        force: false,
    }
}

fn dropped(warning: Option<&str>) -> Outcome {
    Outcome::Failed(match warning {
        Some(w) if !w.is_empty() => {
            EntryError::new(None, format!("{DROPPED}; server warning: {w}"))
        }
        _ => EntryError::new(None, DROPPED),
    })
}

fn unverified(e: &ApiError) -> Outcome {
    let e = super::api_err(e);
    Outcome::Failed(EntryError::new(
        e.http_status,
        format!("could not read the members back to verify: {}", e.message),
    ))
}

/// The outcome of a change after a read-back.
fn verified(m: &MemberChange<'_>, members: &[ObservedMember], warning: Option<&str>) -> Outcome {
    if m.shown_by(members) {
        Outcome::Applied
    } else {
        dropped(warning)
    }
}

/// One share batch for all member changes of a room, verified by a read-back; after a
/// refused batch, the still-missing changes one by one. Returns one outcome per change, in
/// order.
pub(super) async fn apply_share<A: DocSpaceApi>(
    api: &A,
    share: &ShareSettings,
    room_id: i64,
    changes: &[MemberChange<'_>],
) -> Vec<Outcome> {
    let batch = request(share, changes.iter().map(invitation).collect());
    let warning = match api.set_share(room_id, &batch).await {
        // error 1 (FormRoleBlockingDeletion): nothing was applied; treated as refused
        // (docs/docspace-api.md, "The share call").
        Ok(r) if r.error == 0 => Some(r.warning),
        _ => None,
    };
    let members = match state::room_members(api, room_id).await {
        Ok(m) => m,
        Err(e) => return changes.iter().map(|_| unverified(&e)).collect(),
    };
    match warning {
        Some(warning) => changes
            .iter()
            .map(|m| verified(m, &members, warning.as_deref()))
            .collect(),
        None => one_by_one(api, share, room_id, changes, &members).await,
    }
}

/// After a refused batch (earlier entries may have been applied): each change the members
/// do not show yet, sent on its own, then verified by one more read-back.
async fn one_by_one<A: DocSpaceApi>(
    api: &A,
    share: &ShareSettings,
    room_id: i64,
    changes: &[MemberChange<'_>],
    members: &[ObservedMember],
) -> Vec<Outcome> {
    tracing::info!("room {room_id}: the share batch was refused; sending the rest one by one");
    let mut results: Vec<Option<Outcome>> = changes
        .iter()
        .map(|m| m.shown_by(members).then_some(Outcome::Applied))
        .collect();
    let mut warnings: HashMap<usize, Option<String>> = HashMap::new();
    for (n, m) in changes.iter().enumerate() {
        if results[n].is_some() {
            continue;
        }
        match api
            .set_share(room_id, &request(share, vec![invitation(m)]))
            .await
        {
            Ok(r) if r.error != 0 => {
                results[n] = Some(Outcome::Failed(EntryError::new(
                    None,
                    "the server refused the removal: the member holds form-filling roles (error 1)",
                )))
            }
            Ok(r) => {
                warnings.insert(n, r.warning);
            }
            Err(e) => results[n] = Some(Outcome::Failed(super::api_err(&e))),
        }
    }
    if !warnings.is_empty() {
        let reread = state::room_members(api, room_id).await;
        for (n, warning) in warnings {
            results[n] = Some(match &reread {
                Ok(members) => verified(&changes[n], members, warning.as_deref()),
                Err(e) => unverified(e),
            });
        }
    }
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| dropped(None)))
        .collect()
}
