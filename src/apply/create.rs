//! Creating a room without ever creating it twice: titles are not unique and there is no
//! idempotency key (docs/docspace-api.md, "Creating rooms";
//! docs/docspace-api.md, "Retries and idempotency"), so after an ambiguous failure the rooms are re-listed and a new room with the exact title and
//! type is adopted.

use std::collections::HashSet;
use std::time::Duration;

use crate::docspace::{ApiError, CreateRoomRequest, DocSpaceApi, SearchArea};
use crate::plan::{RoomPlan, RoomSettings};
use crate::report::EntryError;

/// Creates the room, reconciling after an ambiguous failure (docs/docspace-api.md, "Creating rooms";
/// docs/architecture.md, "Talking to DocSpace"). With the new id comes the error of settings
/// the create's answer does not show (the portal ignored them), if any.
pub(super) async fn create<A: DocSpaceApi>(
    api: &A,
    room: &RoomPlan,
    settings: &RoomSettings,
    known_room_ids: &HashSet<i64>,
) -> Result<(i64, Option<EntryError>), EntryError> {
    let title = settings.title.clone().unwrap_or_else(|| room.title.clone());
    let request = CreateRoomRequest::new(
        title.clone(),
        room.room_type.wire(),
        super::create_settings(settings),
    );
    let mut attempt = 1;
    loop {
        let first = match api.create_room(&request).await {
            Ok(r) => return Ok((r.id, super::ignored(settings, &r, "create"))),
            Err(e) => e,
        };
        if !first.is_ambiguous() {
            return Err(super::api_err(&first));
        }
        match reconcile(api, room, &title, known_room_ids, &first).await? {
            // Adopted after an ambiguous failure: no answer to check.
            Some(id) => return Ok((id, None)),
            // Not blind: the full re-list proved the room absent, and the answer shows that
            // nothing is still in flight (see `provably_finished`). Timeouts, dropped
            // connections, 502 and 504 (a gateway lost or gave up on the backend, which may
            // still be working) are never re-sent.
            None if attempt < CREATE_ATTEMPTS && provably_finished(&first) => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(500 * attempt as u64)).await;
            }
            None => return Err(super::api_err(&first)),
        }
    }
}

/// Whether a failed create certainly finished on the server: a 500 carrying DocSpace's JSON
/// error envelope (the application's own exception handler answered:
/// docs/docspace-api.md, "Response envelopes"), or a 503 (the reverse proxy did not pass the
/// request on).
pub(super) fn provably_finished(e: &ApiError) -> bool {
    match e.http_status() {
        Some(500) => e.message().is_some(),
        Some(503) => true,
        _ => false,
    }
}

/// How often a create is sent when the server answers an error that provably finished and
/// re-listing proves the room absent.
const CREATE_ATTEMPTS: usize = 3;

/// After an ambiguous create failure: the id of the room it created, if re-listing shows
/// exactly one new room with the exact title and type; `None` if none; an error if several.
async fn reconcile<A: DocSpaceApi>(
    api: &A,
    room: &RoomPlan,
    title: &str,
    known_room_ids: &HashSet<i64>,
    first: &ApiError,
) -> Result<Option<i64>, EntryError> {
    // The create may have run. The title search is cheap but may go through a full-text
    // index that lags or matches differently
    // (docs/docspace-api.md, "Room listing and the key user's preferences"): when it finds
    // nothing, a full listing decides. Either way the exact title and type are re-checked,
    // and rooms that existed before this run are ignored.
    let relist = |filter: Option<&str>| {
        let filter = filter.map(str::to_string);
        async move { api.list_rooms(SearchArea::Any, filter.as_deref()).await }
    };
    let matches = |listed: &crate::docspace::RoomListing| -> Vec<i64> {
        listed
            .rooms
            .iter()
            .filter(|r| {
                crate::model::title_matches(&r.title, title)
                    && r.room_type == Some(room.room_type.wire())
                    && !known_room_ids.contains(&r.id)
            })
            .map(|r| r.id)
            .collect()
    };
    let mut listed = relist(Some(title)).await;
    if listed.as_ref().is_ok_and(|l| matches(l).is_empty()) {
        listed = relist(None).await;
    }
    let listed = listed
        .map_err(|e| {
            EntryError::new(
                first.http_status(),
                format!(
                    "the create failed ambiguously ({first}) and the rooms could not be re-listed to check: {e}"
                ),
            )
        })?;
    let candidates = matches(&listed);
    if candidates.is_empty() && !listed.complete {
        // Other rooms were being created while the listing was read: it may have skipped
        // this one, so its absence is not proven and the create is not re-sent.
        return Err(EntryError::new(
            first.http_status(),
            format!(
                "the create failed ambiguously ({first}) and the room listing kept changing while it was re-read, so whether the room exists could not be confirmed; run plan again to see"
            ),
        ));
    }
    match candidates.as_slice() {
        [id] => {
            tracing::info!(
                "room `{title}`: the create answered an error but the room exists (id {id}); adopting it"
            );
            Ok(Some(*id))
        }
        [] => Ok(None),
        many => Err(EntryError::new(
            first.http_status(),
            format!(
                "the create failed ambiguously and several new rooms titled `{title}` exist (ids {}); pin one with `id:` and delete the others",
                many.iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}
