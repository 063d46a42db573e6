//! The executor of `apply`: runs a [`Plan`] against a portal and returns one report
//! [`Entry`] per item.
//!
//! Rooms run concurrently (at most `parallelism` at once; the client paces calls further),
//! each room's items in plan order: create or unarchive, settings, ONE share batch, read-back
//! verification, archive. An item failure never stops other rooms; items that depend on a
//! failed one are `skipped` with the reason. Outcomes go to a [`Journal`] as they happen, so
//! that a run abandoned mid-way (a second Ctrl-C, a hanging portal) still reports every item.
//!
//! Rules that come from the server's behaviour (docspace-api.md):
//! - A room is never created twice: titles are not unique and there is no idempotency key
//!   (5.1, 9). After an ambiguous create failure (timeout, 5xx) the rooms are re-listed by
//!   title and a new room with the exact title and type is adopted.
//! - The share call can drop an invitee without an error (a `warning` at most, 6.2, 6.5), so
//!   every requested member is verified by reading the room's members back.
//! - The share call is not transactional: an invalid entry fails the request (403) after
//!   earlier entries were applied (6.2). After a refused batch the members are re-read and each
//!   still-missing item is sent on its own, so one bad invitee does not block the others.
//! - Access values are always sent as integers (6.4).

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::stream::{self, StreamExt};

use crate::docspace::{
    ApiError, CreateRoomRequest, DocSpaceApi, Invitation, SearchArea, ShareRequest,
    UpdateRoomRequest,
};
use crate::model::Access;
use crate::plan::{Action, Item, Plan, RoomPlan, RoomSettings, ShareSettings, Target};
use crate::report::{Entry, EntryError, Status};
use crate::state::{MemberSubject, ObservedMember, ObservedRoom};

/// Removals beyond this share of a room's members need `--allow-removals`.
pub const REMOVAL_GUARD_SHARE: f64 = 0.25;
/// The share guard only applies to rooms with at least this many members.
pub const REMOVAL_GUARD_MIN_MEMBERS: usize = 4;

/// Message of a member item the read-back did not confirm.
pub const DROPPED: &str = "dropped by the server without an error";
/// Message of the items of a room that could not be created.
pub const NOT_CREATED: &str = "room was not created";
/// Message of the items of rooms not started because of Ctrl-C or SIGTERM.
pub const INTERRUPTED: &str = "interrupted";
/// The skip message of a room the planner could not read.
pub const UNREADABLE: &str = "not compared: the room could not be read from the portal";
/// How the skip message of an item not started because the portal's daily limit was reached
/// begins (the rest says when to run again).
pub const LIMIT_REACHED: &str = "not started: portal limit reached";
/// Message of the items of a room that was running when the run was abandoned (a second
/// Ctrl-C or SIGTERM, or calls still hanging when the grace time ran out).
pub const ABANDONED: &str = "interrupted while its room was in progress: the outcome is unknown (the change may have been made); run plan to see";
/// Message of the items of a room whose saved-plan fingerprint changed.
pub const STALE: &str = "stale: the room changed since the plan was made; run plan again";

/// How to run a plan.
#[derive(Debug, Clone)]
pub struct Options {
    /// Rooms worked on at once.
    pub parallelism: usize,
    /// Override the removal guard.
    pub allow_removals: bool,
    /// How long to wait for an archive / unarchive operation to finish (5.5).
    pub state_timeout: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            parallelism: 8,
            allow_removals: false,
            state_timeout: Duration::from_secs(120),
        }
    }
}

/// Runs every room of `plan` and returns one entry per item. `known_room_ids` are the ids of
/// rooms that existed before the run (to tell a room we created in an ambiguous failure from
/// an old one); `interrupted` stops new rooms from starting; `on_room_done` is called once per
/// finished room.
pub async fn execute<A: DocSpaceApi>(
    api: &A,
    plan: &Plan,
    known_room_ids: &HashSet<i64>,
    options: &Options,
    interrupted: &AtomicBool,
    on_room_done: &(dyn Fn(&RoomPlan) + Sync),
) -> Vec<Entry> {
    let journal = Journal::default();
    execute_into(
        api,
        plan,
        known_room_ids,
        options,
        interrupted,
        &journal,
        on_room_done,
    )
    .await;
    journal.finish(plan)
}

/// [`execute`], recording each item's outcome in `journal` as soon as it is known. The future
/// may be dropped part-way (a second Ctrl-C, or calls hanging past the grace time):
/// [`Journal::finish`] then still accounts for every item.
pub async fn execute_into<A: DocSpaceApi>(
    api: &A,
    plan: &Plan,
    known_room_ids: &HashSet<i64>,
    options: &Options,
    interrupted: &AtomicBool,
    journal: &Journal,
    on_room_done: &(dyn Fn(&RoomPlan) + Sync),
) {
    let parallelism = options.parallelism.max(1);
    stream::iter(plan.rooms.iter().enumerate())
        .map(|(n, room)| async move {
            let log = RoomLog { journal, room: n };
            // Checked when the room is about to start: futures are created lazily by
            // `buffer_unordered`, so rooms not yet started after Ctrl-C end up here.
            let limit = api.limit_reached();
            if interrupted.load(Ordering::SeqCst) {
                for e in skip_room(room, room.room_id, INTERRUPTED) {
                    log.push(e);
                }
            } else if let Some(why) = limit.filter(|_| !room.items.is_empty()) {
                // Section 9: a daily limit is never slept through; what is left is reported.
                for e in skip_room(room, room.room_id, &format!("{LIMIT_REACHED}: {why}")) {
                    log.push(e);
                }
            } else {
                journal.started(n);
                run_room(api, &plan.share, room, known_room_ids, options, &log).await;
            }
            on_room_done(room);
        })
        .buffer_unordered(parallelism)
        .collect::<Vec<()>>()
        .await;
}

/// The outcomes known so far, per room (by index in the plan).
#[derive(Debug, Default)]
pub struct Journal {
    inner: Mutex<JournalInner>,
}

#[derive(Debug, Default)]
struct JournalInner {
    started: HashSet<usize>,
    entries: Vec<(usize, Entry)>,
}

impl Journal {
    fn lock(&self) -> std::sync::MutexGuard<'_, JournalInner> {
        // A panic elsewhere cannot leave the data half-written (each push is one call).
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn started(&self, room: usize) {
        self.lock().started.insert(room);
    }

    /// Every item of `plan`, once: its recorded outcome; for an item without one (the run was
    /// abandoned), `skipped` ([`INTERRUPTED`]) when its room never started, and `failed`
    /// ([`ABANDONED`]) when its room was in flight, since the call may have reached the server.
    pub fn finish(&self, plan: &Plan) -> Vec<Entry> {
        let inner = std::mem::take(&mut *self.lock());
        let mut by_room: HashMap<usize, Vec<Entry>> = HashMap::new();
        for (n, e) in inner.entries {
            by_room.entry(n).or_default().push(e);
        }
        let mut out = Vec::new();
        for (n, room) in plan.rooms.iter().enumerate() {
            let done = by_room.remove(&n).unwrap_or_default();
            if !inner.started.contains(&n) && done.is_empty() {
                out.extend(skip_room(room, room.room_id, INTERRUPTED));
                continue;
            }
            let room_id = done.iter().find_map(|e| e.room_id).or(room.room_id);
            for item in &room.items {
                if !done
                    .iter()
                    .any(|e| e.key == item.key && e.action == item.action)
                {
                    out.push(entry(
                        room,
                        room_id,
                        item,
                        Status::Failed,
                        Some(err(None, ABANDONED)),
                    ));
                }
            }
            out.extend(done);
        }
        out
    }
}

/// Where one room's entries go.
struct RoomLog<'a> {
    journal: &'a Journal,
    room: usize,
}

impl RoomLog<'_> {
    fn push(&self, entry: Entry) {
        self.journal.lock().entries.push((self.room, entry));
    }
}

/// Every item of `room` as skipped with `message` (or one `unchanged` entry when it has none).
pub fn skip_room(room: &RoomPlan, room_id: Option<i64>, message: &str) -> Vec<Entry> {
    if let Some(e) = unreadable(room) {
        return vec![e];
    }
    if room.items.is_empty() {
        return vec![unchanged(room)];
    }
    room.items
        .iter()
        .map(|item| {
            entry(
                room,
                room_id,
                item,
                Status::Skipped,
                Some(err(None, message)),
            )
        })
        .collect()
}

/// The entry of a room the planner left out because it could not be read: skipped, since
/// the portal may still differ there (the run exits 3).
fn unreadable(room: &RoomPlan) -> Option<Entry> {
    let error = room.unreadable_error()?;
    let mut e = unchanged(room);
    e.status = Status::Skipped;
    e.error = Some(err(None, format!("{UNREADABLE}: {error}")));
    Some(e)
}

/// Note of an item of a re-applied saved plan whose change the portal already shows.
pub const ALREADY_APPLIED: &str =
    "appears to be already applied: the portal already shows this change";

/// For a room of a saved plan whose fingerprint changed: which items the portal already
/// shows done (`live` is the room as re-read, `None` when it is gone). A plan applied before
/// has every item done; a room changed by hand some or none.
pub fn already_done(
    room: &RoomPlan,
    live: Option<(&ObservedRoom, &[ObservedMember])>,
) -> Vec<bool> {
    let Some((live, members)) = live else {
        return vec![false; room.items.len()];
    };
    if live.room_type != Some(room.room_type) {
        return vec![false; room.items.len()];
    }
    room.items
        .iter()
        .map(|item| match item.action {
            Action::CreateRoom => {
                let s = room.create.clone().unwrap_or_default();
                crate::model::title_matches(&live.title, s.title.as_ref().unwrap_or(&room.title))
                    && settings_shown(&s, live)
            }
            Action::UpdateRoom => settings_shown(&room.update.clone().unwrap_or_default(), live),
            Action::Unarchive => !live.archived,
            Action::Archive => live.archived,
            Action::Invite | Action::ChangeAccess | Action::Remove => satisfied(item, members),
        })
        .collect()
}

/// Whether the live room shows every setting of `s`. A quota the portal does not report
/// (room quotas disabled, 5.2) cannot be compared and counts as shown, as in the planner.
fn settings_shown(s: &RoomSettings, live: &ObservedRoom) -> bool {
    s.title
        .as_ref()
        .is_none_or(|t| crate::model::title_matches(&live.title, t))
        && s.tags
            .as_ref()
            .is_none_or(|t| crate::model::tags_match(t, &live.tags))
        && s.quota.is_none_or(|q| live.quota.is_none_or(|l| l == q))
        && s.deny_download
            .is_none_or(|d| live.deny_download == Some(d))
}

/// The entries of a changed room of a saved plan: items the portal already shows are
/// `unchanged` with [`ALREADY_APPLIED`]; the others are skipped as [`STALE`].
pub fn recheck_entries(room: &RoomPlan, room_id: Option<i64>, done: &[bool]) -> Vec<Entry> {
    room.items
        .iter()
        .zip(done)
        .map(|(item, &done)| {
            if done {
                Entry {
                    note: Some(ALREADY_APPLIED.to_string()),
                    ..entry(room, room_id, item, Status::Unchanged, None)
                }
            } else {
                entry(room, room_id, item, Status::Skipped, Some(err(None, STALE)))
            }
        })
        .collect()
}

/// A room with no items gets one `unchanged` entry (action `update_room`), so every managed
/// room appears in the report.
fn unchanged(room: &RoomPlan) -> Entry {
    Entry {
        room: room.title.clone(),
        room_id: room.room_id,
        key: room.title.clone(),
        action: Action::UpdateRoom,
        subject: None,
        access: None,
        status: Status::Unchanged,
        error: None,
        note: None,
    }
}

fn entry(
    room: &RoomPlan,
    room_id: Option<i64>,
    item: &Item,
    status: Status,
    error: Option<EntryError>,
) -> Entry {
    Entry {
        room: room.title.clone(),
        room_id,
        key: item.key.clone(),
        action: item.action,
        subject: item.subject().map(str::to_string),
        access: item.access,
        status,
        error,
        note: None,
    }
}

fn err(http_status: Option<u16>, message: impl Into<String>) -> EntryError {
    EntryError {
        http_status,
        message: message.into(),
    }
}

fn api_err(e: &ApiError) -> EntryError {
    EntryError {
        http_status: e.http_status(),
        message: e
            .message()
            .map(str::to_string)
            .unwrap_or_else(|| e.to_string()),
    }
}

/// Which removal items of `room` the guard refuses (indices into `room.items`), with the
/// message their report entries carry. Empty when the guard lets them through.
pub fn guarded_removals(room: &RoomPlan) -> (Vec<usize>, Option<String>) {
    match guard(room) {
        Some((removals, reason)) => (
            removals,
            Some(format!(
                "refused by the removal guard: {reason}; pass --allow-removals to remove them"
            )),
        ),
        None => (Vec::new(), None),
    }
}

/// What the plan says about a room whose removals the guard would refuse (`None` when it
/// would not): shown to a reviewer before `apply`, with the flag that allows them.
pub fn guard_note(room: &RoomPlan) -> Option<String> {
    let (removals, reason) = guard(room)?;
    Some(format!(
        "removal guard: {reason}; apply skips {} unless --allow-removals is given",
        if removals.len() == 1 {
            "this removal"
        } else {
            "these removals"
        }
    ))
}

/// The removal items the guard refuses and why, or `None`.
fn guard(room: &RoomPlan) -> Option<(Vec<usize>, String)> {
    let removals: Vec<usize> = room
        .items
        .iter()
        .enumerate()
        .filter(|(_, i)| i.action == Action::Remove)
        .map(|(n, _)| n)
        .collect();
    if removals.is_empty() {
        return None;
    }
    let managers = removals
        .iter()
        .any(|&n| room.items[n].from_access == Some(Access::RoomManager));
    let too_many = room.members_before >= REMOVAL_GUARD_MIN_MEMBERS
        && removals.len() as f64 > REMOVAL_GUARD_SHARE * room.members_before as f64;
    let reason = match (managers, too_many) {
        (false, false) => return None,
        (true, _) => "the removals include a room manager".to_string(),
        (false, true) => format!(
            "{} of {} members would be removed (more than 25%)",
            removals.len(),
            room.members_before
        ),
    };
    Some((removals, reason))
}

/// Archives or unarchives a room and waits until it shows the new state: both run as
/// background operations on the server (5.5).
async fn set_archived<A: DocSpaceApi>(
    api: &A,
    id: i64,
    archived: bool,
    options: &Options,
) -> Result<(), ApiError> {
    let started = if archived {
        api.archive_room(id).await
    } else {
        api.unarchive_room(id).await
    };
    let operation = match started {
        Ok(op) => op,
        Err(e) => {
            // A retried call may be refused because its first attempt already ran (the room
            // is then already in the Archive, or back in Rooms): the room's state decides, not
            // the error.
            return match api.get_room(id).await {
                Ok(room) if crate::state::ObservedRoom::from_dto(&room).archived == archived => {
                    Ok(())
                }
                _ => Err(e),
            };
        }
    };
    api.wait_room_state(id, Some(&operation), archived, options.state_timeout)
        .await?;
    Ok(())
}

/// Runs one room's items in order.
async fn run_room<A: DocSpaceApi>(
    api: &A,
    share: &ShareSettings,
    room: &RoomPlan,
    known_room_ids: &HashSet<i64>,
    options: &Options,
    out: &RoomLog<'_>,
) {
    if let Some(e) = unreadable(room) {
        out.push(e);
        return;
    }
    if room.items.is_empty() {
        out.push(unchanged(room));
        return;
    }
    // A consistent plan has an id for every room it does not create; a hand-edited saved plan
    // might not, and no step can run without one.
    if room.room_id.is_none() && room.items[0].action != Action::CreateRoom {
        for item in &room.items {
            let e = err(None, "the plan has no room id and does not create the room");
            out.push(entry(room, None, item, Status::Failed, Some(e)));
        }
        return;
    }
    let mut room_id = room.room_id;

    let (guarded, guard_reason) = if options.allow_removals {
        (Vec::new(), None)
    } else {
        guarded_removals(room)
    };
    let guarded: HashSet<usize> = guarded.into_iter().collect();
    let mut share_items: Vec<&Item> = Vec::new();
    let mut archive: Option<&Item> = None;

    // Guarded removals are skipped whatever happens to the rest of the room.
    for &n in &guarded {
        let msg = guard_reason
            .as_deref()
            .unwrap_or("refused by the removal guard");
        out.push(entry(
            room,
            room_id,
            &room.items[n],
            Status::Skipped,
            Some(err(None, msg)),
        ));
    }
    for (n, item) in room.items.iter().enumerate() {
        if guarded.contains(&n) {
            continue;
        }
        match item.action {
            Action::CreateRoom => match create(api, room, known_room_ids).await {
                Ok(id) => {
                    room_id = Some(id);
                    out.push(entry(room, room_id, item, Status::Applied, None));
                }
                Err(e) => {
                    out.push(entry(room, None, item, Status::Failed, Some(e)));
                    skip_rest(room, None, n, &guarded, NOT_CREATED, out);
                    return;
                }
            },
            Action::Unarchive => {
                let id = room_id.expect("an unarchived room exists");
                let result = set_archived(api, id, false, options).await;
                match result {
                    Ok(_) => out.push(entry(room, room_id, item, Status::Applied, None)),
                    Err(e) => {
                        // The server refuses edits to archived rooms (5.4): nothing else can run.
                        out.push(entry(
                            room,
                            room_id,
                            item,
                            Status::Failed,
                            Some(api_err(&e)),
                        ));
                        skip_rest(room, room_id, n, &guarded, "room is still archived", out);
                        return;
                    }
                }
            }
            Action::UpdateRoom => {
                let id = room_id.expect("the room exists after create");
                let s = room.update.clone().unwrap_or_default();
                let request = UpdateRoomRequest {
                    title: s.title,
                    tags: s.tags,
                    quota: s.quota,
                    deny_download: s.deny_download,
                    ..UpdateRoomRequest::default()
                };
                match api.update_room(id, &request).await {
                    Ok(_) => out.push(entry(room, room_id, item, Status::Applied, None)),
                    Err(e) => out.push(entry(
                        room,
                        room_id,
                        item,
                        Status::Failed,
                        Some(api_err(&e)),
                    )),
                }
            }
            Action::Invite | Action::ChangeAccess | Action::Remove => share_items.push(item),
            Action::Archive => archive = Some(item),
        }
    }

    if !share_items.is_empty() {
        let id = room_id.expect("the room exists after create");
        let results = apply_share(api, share, id, &share_items).await;
        for (item, result) in share_items.iter().zip(results) {
            match result {
                Ok(()) => out.push(entry(room, room_id, item, Status::Applied, None)),
                Err(e) => out.push(entry(room, room_id, item, Status::Failed, Some(e))),
            }
        }
    }

    if let Some(item) = archive {
        // Archive runs even when some member items failed: they are reported, and archiving
        // is what the manifest asks for the room as a whole.
        let id = room_id.expect("an archived room exists");
        let result = set_archived(api, id, true, options).await;
        match result {
            Ok(_) => out.push(entry(room, room_id, item, Status::Applied, None)),
            Err(e) => out.push(entry(
                room,
                room_id,
                item,
                Status::Failed,
                Some(api_err(&e)),
            )),
        }
    }
}

/// Marks every item after index `after` (not already guarded) skipped.
fn skip_rest(
    room: &RoomPlan,
    room_id: Option<i64>,
    after: usize,
    guarded: &HashSet<usize>,
    message: &str,
    out: &RoomLog<'_>,
) {
    for (n, item) in room.items.iter().enumerate().skip(after + 1) {
        if !guarded.contains(&n) {
            out.push(entry(
                room,
                room_id,
                item,
                Status::Skipped,
                Some(err(None, message)),
            ));
        }
    }
}

/// Creates the room, reconciling after an ambiguous failure (5.1, DESIGN.md section 5).
async fn create<A: DocSpaceApi>(
    api: &A,
    room: &RoomPlan,
    known_room_ids: &HashSet<i64>,
) -> Result<i64, EntryError> {
    let s = room.create.clone().unwrap_or_default();
    let title = s.title.unwrap_or_else(|| room.title.clone());
    let request = CreateRoomRequest {
        title: title.clone(),
        room_type: room.room_type.wire(),
        tags: s.tags,
        quota: s.quota,
        deny_download: s.deny_download,
        ..CreateRoomRequest::default()
    };
    let mut attempt = 1;
    loop {
        let first = match api.create_room(&request).await {
            Ok(r) => return Ok(r.id),
            Err(e) => e,
        };
        if !first.is_ambiguous() {
            return Err(api_err(&first));
        }
        match reconcile(api, room, &title, known_room_ids, &first).await? {
            Some(id) => return Ok(id),
            // Not blind: the full re-list proved the room absent, and the answer shows that
            // nothing is still in flight (see `provably_finished`). Timeouts, dropped
            // connections, 502 and 504 (a gateway lost or gave up on the backend, which may
            // still be working) are never re-sent.
            None if attempt < CREATE_ATTEMPTS && provably_finished(&first) => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(500 * attempt as u64)).await;
            }
            None => return Err(api_err(&first)),
        }
    }
}

/// Whether a failed create certainly finished on the server: a 500 carrying DocSpace's JSON
/// error envelope (the application's own exception handler answered, 3.2), or a 503 (the
/// reverse proxy did not pass the request on).
fn provably_finished(e: &ApiError) -> bool {
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
    // index that lags or matches differently (5.3): when it finds nothing, a full listing
    // decides. Either way the exact title and type are re-checked, and rooms that existed
    // before this run are ignored.
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
            err(
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
        return Err(err(
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
        many => Err(err(
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

fn invitation(item: &Item) -> Invitation {
    let access = item.access.unwrap_or(Access::None).wire();
    match item.target.as_ref().expect("member items have a target") {
        Target::User { id, .. } | Target::Group { id, .. } => Invitation::by_id(id.clone(), access),
        // Email only for accounts that do not exist yet (6.5); removals always go by id (6.2).
        Target::NewGuest { email } => Invitation::by_email(email.clone(), access),
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

/// Whether `members` (as read back) show the item done.
fn satisfied(item: &Item, members: &[ObservedMember]) -> bool {
    let target = item.target.as_ref().expect("member items have a target");
    let row = members.iter().find(|m| {
        !m.is_owner
            && match (&m.subject, target) {
                (MemberSubject::User(u), Target::User { id, .. }) => &u.id == id,
                (MemberSubject::User(u), Target::NewGuest { email }) => {
                    u.email == email.to_lowercase()
                }
                (MemberSubject::Group(g), Target::Group { id, .. }) => &g.id == id,
                _ => false,
            }
    });
    match item.action {
        Action::Remove => row.is_none(),
        _ => row.is_some_and(|m| m.access == item.access),
    }
}

async fn read_members<A: DocSpaceApi>(api: &A, id: i64) -> Result<Vec<ObservedMember>, ApiError> {
    Ok(api
        .get_share(id)
        .await?
        .iter()
        .filter_map(ObservedMember::from_dto)
        .collect())
}

fn dropped(warning: Option<&str>) -> EntryError {
    match warning {
        Some(w) if !w.is_empty() => err(None, format!("{DROPPED}; server warning: {w}")),
        _ => err(None, DROPPED),
    }
}

/// One share batch for all member items of a room, verified by a read-back; after a refused
/// batch, the still-missing items one by one. Returns one result per item, in order.
async fn apply_share<A: DocSpaceApi>(
    api: &A,
    share: &ShareSettings,
    room_id: i64,
    items: &[&Item],
) -> Vec<Result<(), EntryError>> {
    let batch = request(share, items.iter().map(|i| invitation(i)).collect());
    let batch_result = api.set_share(room_id, &batch).await;
    let warning = match &batch_result {
        // error 1 (FormRoleBlockingDeletion): nothing was applied (6.2); treat as refused.
        Ok(r) if r.error == 0 => Some(r.warning.clone()),
        _ => None,
    };
    let members = match read_members(api, room_id).await {
        Ok(m) => m,
        Err(e) => {
            let e = api_err(&e);
            return items
                .iter()
                .map(|_| {
                    Err(err(
                        e.http_status,
                        format!("could not read the members back to verify: {}", e.message),
                    ))
                })
                .collect();
        }
    };
    if let Some(warning) = warning {
        return items
            .iter()
            .map(|i| {
                if satisfied(i, &members) {
                    Ok(())
                } else {
                    Err(dropped(warning.as_deref()))
                }
            })
            .collect();
    }

    // The batch was refused (or blocked): earlier entries may have been applied (6.2).
    tracing::info!("room {room_id}: the share batch was refused; sending the rest one by one");
    let mut results: Vec<Option<Result<(), EntryError>>> = items
        .iter()
        .map(|i| satisfied(i, &members).then_some(Ok(())))
        .collect();
    let mut warnings: HashMap<usize, Option<String>> = HashMap::new();
    for (n, item) in items.iter().enumerate() {
        if results[n].is_some() {
            continue;
        }
        match api
            .set_share(room_id, &request(share, vec![invitation(item)]))
            .await
        {
            Ok(r) if r.error != 0 => {
                results[n] = Some(Err(err(
                    None,
                    "the server refused the removal: the member holds form-filling roles (error 1)",
                )))
            }
            Ok(r) => {
                warnings.insert(n, r.warning);
            }
            Err(e) => results[n] = Some(Err(api_err(&e))),
        }
    }
    if !warnings.is_empty() {
        match read_members(api, room_id).await {
            Ok(members) => {
                for (n, warning) in warnings {
                    results[n] = Some(if satisfied(items[n], &members) {
                        Ok(())
                    } else {
                        Err(dropped(warning.as_deref()))
                    });
                }
            }
            Err(e) => {
                let e = api_err(&e);
                for n in warnings.into_keys() {
                    results[n] = Some(Err(err(
                        e.http_status,
                        format!("could not read the members back to verify: {}", e.message),
                    )));
                }
            }
        }
    }
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(err(None, DROPPED))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RoomType;
    use crate::plan::RoomChange;
    use crate::state::{ObservedGroup, ObservedUser};

    fn removal(n: usize, from: Access) -> Item {
        Item {
            key: format!("R / u{n}"),
            action: Action::Remove,
            target: Some(Target::User {
                id: format!("u{n}"),
                email: format!("u{n}@x.test"),
            }),
            access: Some(Access::None),
            from_access: Some(from),
            changes: Vec::new(),
            reason: None,
        }
    }

    fn room(members_before: usize, items: Vec<Item>) -> RoomPlan {
        RoomPlan {
            title: "R".into(),
            room_type: RoomType::Custom,
            room_id: Some(1),
            change: RoomChange::Update,
            create: None,
            update: None,
            fingerprint: String::new(),
            members_before,
            items,
            note: None,
            notes: Vec::new(),
        }
    }

    #[test]
    fn guard_refuses_more_than_a_quarter_of_four_or_more() {
        // 1 of 4 = 25%: allowed.
        assert!(
            guarded_removals(&room(4, vec![removal(1, Access::Read)]))
                .0
                .is_empty()
        );
        // 2 of 4: refused, with the flag named.
        let (refused, why) = guarded_removals(&room(
            4,
            vec![removal(1, Access::Read), removal(2, Access::Read)],
        ));
        assert_eq!(refused, vec![0, 1]);
        assert!(why.unwrap().contains("--allow-removals"));
        // Small rooms: the share rule does not apply.
        assert!(
            guarded_removals(&room(
                3,
                vec![removal(1, Access::Read), removal(2, Access::Read)]
            ))
            .0
            .is_empty()
        );
    }

    #[test]
    fn guard_refuses_any_room_manager() {
        let (refused, why) = guarded_removals(&room(10, vec![removal(1, Access::RoomManager)]));
        assert_eq!(refused, vec![0]);
        assert!(why.unwrap().contains("room manager"));
    }

    fn member(subject: MemberSubject, access: Access) -> ObservedMember {
        ObservedMember {
            subject,
            access: Some(access),
            raw_access: access.wire(),
            is_owner: false,
            can_edit_access: true,
        }
    }

    fn user(id: &str, email: &str) -> MemberSubject {
        MemberSubject::User(ObservedUser {
            id: id.into(),
            email: email.into(),
            user_type: crate::model::UserType::Guest,
            pending: true,
            terminated: false,
            type_known: true,
            created: None,
        })
    }

    #[test]
    fn read_back_matches_ids_emails_and_groups() {
        let members = vec![
            member(user("u1", "a@x.test"), Access::Editing),
            member(user("u2", "new@x.test"), Access::Read),
            member(
                MemberSubject::Group(ObservedGroup {
                    id: "g1".into(),
                    name: "G".into(),
                }),
                Access::Read,
            ),
        ];
        let item = |action, target, access| Item {
            key: "k".into(),
            action,
            target: Some(target),
            access: Some(access),
            from_access: None,
            changes: Vec::new(),
            reason: None,
        };
        let by_id = Target::User {
            id: "u1".into(),
            email: "a@x.test".into(),
        };
        assert!(satisfied(
            &item(Action::Invite, by_id.clone(), Access::Editing),
            &members
        ));
        assert!(!satisfied(
            &item(Action::ChangeAccess, by_id.clone(), Access::Read),
            &members
        ));
        assert!(!satisfied(
            &item(Action::Remove, by_id, Access::None),
            &members
        ));
        let guest = Target::NewGuest {
            email: "New@X.test".into(),
        };
        assert!(satisfied(
            &item(Action::Invite, guest, Access::Read),
            &members
        ));
        let missing = Target::NewGuest {
            email: "gone@x.test".into(),
        };
        assert!(!satisfied(
            &item(Action::Invite, missing.clone(), Access::Read),
            &members
        ));
        assert!(satisfied(
            &item(Action::Remove, missing, Access::None),
            &members
        ));
        let group = Target::Group {
            id: "g1".into(),
            name: "G".into(),
        };
        assert!(satisfied(
            &item(Action::Invite, group, Access::Read),
            &members
        ));
    }

    #[test]
    fn the_plan_note_names_the_guard_and_the_flag() {
        let note = guard_note(&room(
            4,
            vec![removal(1, Access::Read), removal(2, Access::Read)],
        ))
        .unwrap();
        assert_eq!(
            note,
            "removal guard: 2 of 4 members would be removed (more than 25%); apply skips these removals unless --allow-removals is given"
        );
        assert!(guard_note(&room(4, vec![removal(1, Access::Read)])).is_none());
    }

    fn plan_of(rooms: Vec<RoomPlan>) -> Plan {
        Plan {
            format_version: 1,
            portal: "p".into(),
            manifest_hash: String::new(),
            share: ShareSettings::default(),
            summary: crate::plan::summarise(&rooms),
            rooms,
            unmanaged_connected_rooms: 0,
        }
    }

    #[test]
    fn an_abandoned_run_still_accounts_for_every_item() {
        let mut started = room(4, vec![removal(1, Access::Read), removal(2, Access::Read)]);
        started.title = "Started".into();
        let mut waiting = room(4, vec![removal(3, Access::Read)]);
        waiting.title = "Waiting".into();
        let plan = plan_of(vec![started, waiting]);
        let journal = Journal::default();
        journal.started(0);
        RoomLog {
            journal: &journal,
            room: 0,
        }
        .push(entry(
            &plan.rooms[0],
            Some(1),
            &plan.rooms[0].items[0],
            Status::Applied,
            None,
        ));
        let entries = journal.finish(&plan);
        let summary: Vec<(&str, &str, Status, Option<&str>)> = entries
            .iter()
            .map(|e| {
                (
                    e.room.as_str(),
                    e.key.as_str(),
                    e.status,
                    e.error.as_ref().map(|e| e.message.as_str()),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("Started", "R / u2", Status::Failed, Some(ABANDONED)),
                ("Started", "R / u1", Status::Applied, None),
                ("Waiting", "R / u3", Status::Skipped, Some(INTERRUPTED)),
            ]
        );
    }

    fn live(archived: bool) -> ObservedRoom {
        ObservedRoom {
            id: 7,
            title: "R".into(),
            room_type: Some(RoomType::Custom),
            raw_room_type: Some(RoomType::Custom.wire()),
            archived,
            tags: ["a".to_string()].into_iter().collect(),
            quota: None,
            custom_quota: false,
            deny_download: Some(false),
            settings: Default::default(),
        }
    }

    #[test]
    fn already_done_compares_each_item_with_the_live_room() {
        let simple = |action| crate::plan::simple("R", action);
        let invite = Item {
            key: "R / u1".into(),
            action: Action::Invite,
            target: Some(Target::User {
                id: "u1".into(),
                email: "a@x.test".into(),
            }),
            access: Some(Access::Editing),
            from_access: None,
            changes: Vec::new(),
            reason: None,
        };
        let mut r = room(
            1,
            vec![
                simple(Action::UpdateRoom),
                invite,
                removal(2, Access::Read),
                simple(Action::Archive),
            ],
        );
        r.update = Some(RoomSettings {
            tags: Some(vec!["a".into()]),
            quota: Some(1024),
            ..RoomSettings::default()
        });
        let members = vec![member(user("u1", "a@x.test"), Access::Editing)];
        assert_eq!(
            already_done(&r, Some((&live(true), &members))),
            vec![true, true, true, true]
        );
        assert_eq!(
            already_done(&r, Some((&live(false), &[]))),
            vec![true, false, true, false]
        );
        r.update = Some(RoomSettings {
            deny_download: Some(true),
            ..RoomSettings::default()
        });
        assert!(!already_done(&r, Some((&live(true), &members)))[0]);
        assert_eq!(already_done(&r, None), vec![false; 4]);
        let mut other_type = live(true);
        other_type.room_type = Some(RoomType::Collaboration);
        assert_eq!(
            already_done(&r, Some((&other_type, &members))),
            vec![false; 4]
        );
    }

    #[test]
    fn a_room_without_items_is_one_unchanged_entry() {
        let entries = skip_room(&room(2, Vec::new()), Some(1), INTERRUPTED);
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].status, Status::Unchanged);
    }
}
