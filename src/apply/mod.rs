//! The executor of `apply`: runs a [`Plan`] against a portal and returns one report
//! [`Entry`] per item, made from a typed [`Outcome`].
//!
//! Rooms run concurrently (at most `parallelism` at once; the client paces calls further),
//! each room's items in plan order: create or unarchive, settings, ONE share batch with a
//! read-back ([`share`]), archive. An item failure never stops other rooms; items that
//! depend on a failed one are skipped with the reason. Outcomes go to a [`Journal`] as they
//! happen, so that a run abandoned mid-way (a second Ctrl-C, a hanging portal) still reports
//! every item. A room is never created twice ([`create`]).

mod create;
mod links;
mod org;
pub mod report;
mod resend;
mod share;
mod template;

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::stream::{self, StreamExt};

use crate::docspace::{ApiError, DocSpaceApi, RoomCreateSettings, UpdateRoomRequest};
use crate::manifest::Quota;
use crate::plan::approve::Verdict;
use crate::plan::done::MemberChange;
use crate::plan::{self, Change, Item, Plan, RoomPlan, SettingChange, ShareSettings};
use crate::report::{Dependency, Entry, EntryError, Outcome, SkipReason, UnchangedWhy};
use crate::room_settings;

pub use self::resend::not_resent_entries;
pub use self::share::DROPPED;

/// Message of the items of a room that was running when the run was abandoned (a second
/// Ctrl-C or SIGTERM, or calls still hanging when the grace time ran out).
pub const ABANDONED: &str = "interrupted while its room was in progress: the outcome is unknown (the change may have been made); run plan to see";

/// How to run a plan.
#[derive(Debug, Clone)]
pub struct Options {
    /// Rooms worked on at once.
    pub parallelism: usize,
    /// Override the removal guard.
    pub allow_removals: bool,
    /// Override the downgrade guard (link changes that lower protection); independent of
    /// `allow_removals`.
    pub allow_downgrades: bool,
    /// How long to wait for an archive / unarchive operation to finish
    /// (docs/docspace-api.md, "Archive and unarchive").
    pub state_timeout: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            parallelism: 8,
            allow_removals: false,
            allow_downgrades: false,
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
    // The archive guard of `--prune` counts the whole plan, so it is decided once here
    // (docs/architecture.md, "Apply").
    let archive_guard = if options.allow_removals {
        None
    } else {
        plan::prune::guard(plan)
    };
    // People before groups before rooms: a room may be shared with a group this run makes
    // (docs/architecture.md, "Adding a portal-level resource").
    let made = org::run(api, plan, options.allow_removals, interrupted, journal).await;
    let resolved = org::resolve_rooms(plan, &made, journal);
    let rooms_plan = resolved.as_ref().unwrap_or(plan);
    stream::iter(rooms_plan.rooms.iter().enumerate())
        .map(|(n, room)| async move {
            let log = RoomLog { journal, room: n };
            // Checked when the room is about to start: futures are created lazily by
            // `buffer_unordered`, so rooms not yet started after Ctrl-C end up here.
            let limit = api.limit_reached();
            if interrupted.load(Ordering::SeqCst) {
                for e in skip_room(room, room.room_id, &SkipReason::Interrupted) {
                    log.push(e);
                }
            } else if let Some(why) = limit.filter(|_| !room.items.is_empty()) {
                // A daily limit is never slept through; what is left is reported
                // (docs/docspace-api.md, "Rate limits").
                for e in skip_room(room, room.room_id, &SkipReason::LimitReached { why }) {
                    log.push(e);
                }
            } else {
                journal.started(n);
                let guard = archive_guard.filter(|_| room.is_orphan());
                run_room(api, &plan.share, room, known_room_ids, options, guard, &log).await;
            }
            on_room_done(room);
        })
        .buffer_unordered(parallelism)
        .collect::<Vec<()>>()
        .await;
    resend::run(api, plan, interrupted, journal).await;
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
    /// abandoned), `skipped` (interrupted) when its room never started, and `failed`
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
                out.extend(skip_room(room, room.room_id, &SkipReason::Interrupted));
                continue;
            }
            let room_id = done.iter().find_map(|e| e.room_id).or(room.room_id);
            for item in &room.items {
                if !done
                    .iter()
                    .any(|e| e.key == item.key.to_string() && e.action == item.action())
                {
                    let abandoned = Outcome::Failed(EntryError::new(None, ABANDONED));
                    out.push(Entry::of_item(room, room_id, item, abandoned));
                }
            }
            out.extend(done);
        }
        // The portal section: sent after every room (see `resend`); what the run never got
        // to is skipped as interrupted.
        let done = by_room.remove(&PORTAL_SECTION).unwrap_or_default();
        for item in &plan.portal_items {
            if !done
                .iter()
                .any(|e| e.key == item.key.to_string() && e.action == item.action())
            {
                out.push(Entry::of_portal_item(
                    item,
                    Outcome::Skipped(SkipReason::Interrupted),
                ));
            }
        }
        out.extend(done);
        out
    }
}

/// The journal slot of the plan's portal section (room slots are room indices).
const PORTAL_SECTION: usize = usize::MAX;

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

/// Every item of `room` as skipped for `reason` (or one `unchanged` entry when it has none).
pub fn skip_room(room: &RoomPlan, room_id: Option<i64>, reason: &SkipReason) -> Vec<Entry> {
    if let Some(e) = unreadable(room) {
        return vec![e];
    }
    if room.items.is_empty() {
        return vec![Entry::of_room(room, Outcome::Unchanged(None))];
    }
    room.items
        .iter()
        .map(|item| Entry::of_item(room, room_id, item, Outcome::Skipped(reason.clone())))
        .collect()
}

/// The entry of a room of a plan without changes (every room then has no items: the planner
/// and the saved-plan check see to it): unchanged, or skipped when it could not be read.
pub fn unchanged_room(room: &RoomPlan) -> Entry {
    unreadable(room).unwrap_or_else(|| Entry::of_room(room, Outcome::Unchanged(None)))
}

/// The entry of a room the planner left out because it could not be read: skipped, since
/// the portal may still differ there (the run exits 3).
fn unreadable(room: &RoomPlan) -> Option<Entry> {
    let error = room.unreadable_error()?.to_string();
    Some(Entry::of_room(
        room,
        Outcome::Skipped(SkipReason::Unreadable { error }),
    ))
}

/// The entries of the items a saved plan's approval set aside (see
/// [`crate::plan::approve`]): already applied is `unchanged`; stale and not approved are
/// skipped.
pub fn set_aside_entries(room: &RoomPlan, verdicts: &[Verdict]) -> Vec<Entry> {
    room.items
        .iter()
        .zip(verdicts)
        .map(|(item, verdict)| {
            let outcome = match verdict {
                Verdict::AlreadyApplied => Outcome::Unchanged(Some(UnchangedWhy::AlreadyApplied)),
                Verdict::Stale(why) => Outcome::Skipped(SkipReason::Stale(*why)),
                Verdict::NotApproved => Outcome::Skipped(SkipReason::NotApproved),
            };
            Entry::of_item(room, room.room_id, item, outcome)
        })
        .collect()
}

/// The entries of the portal section's items a saved plan's approval set aside.
pub fn portal_set_aside_entries(items: &[(Item, Verdict)]) -> Vec<Entry> {
    items
        .iter()
        .map(|(item, verdict)| {
            let outcome = match verdict {
                Verdict::AlreadyApplied => Outcome::Unchanged(Some(UnchangedWhy::AlreadyApplied)),
                Verdict::Stale(why) => Outcome::Skipped(SkipReason::Stale(*why)),
                Verdict::NotApproved => Outcome::Skipped(SkipReason::NotApproved),
            };
            Entry::of_portal_item(item, outcome)
        })
        .collect()
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

/// The error of a call the portal refused; a 429 says `limit` and carries the server's wait.
fn refused(e: &ApiError, limit: impl FnOnce() -> String) -> EntryError {
    let mut error = api_err(e);
    if e.http_status() == Some(429) {
        let wait = e
            .retry_after()
            .map(|w| format!("try again in {} s", w.as_secs()))
            .unwrap_or_else(|| "try again later".into());
        error.message = format!("{}; {wait}", limit());
    }
    error
}

/// The error of a create or update the portal answered without showing every setting it
/// sent (`s`): it accepted the call and ignored those settings, so the item is not applied.
/// The answer is the room object, read as a plan reads a room (docs/docspace-api.md,
/// "Room settings").
fn ignored(
    s: &plan::RoomSettings,
    answer: &crate::docspace::RoomDto,
    call: &str,
) -> Option<EntryError> {
    let live = crate::state::ObservedRoom::from_dto(answer);
    let keys = plan::done::unshown(s, &live);
    if keys.is_empty() {
        return None;
    }
    let names = keys
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut message = format!(
        "the portal accepted the {call} but its answer does not show {names}: it ignored them"
    );
    if live.settings.logo_uploaded && keys.iter().any(|k| matches!(*k, "color" | "cover")) {
        message.push_str(" (the room has an uploaded logo, which hides colour and cover)");
    }
    message.push_str("; run plan to see the room as it is");
    Some(EntryError::new(None, message))
}

fn outcome_of<T>(result: Result<T, ApiError>) -> Outcome {
    match result {
        Ok(_) => Outcome::Applied,
        Err(e) => Outcome::Failed(api_err(&e)),
    }
}

/// Archives or unarchives a room and waits until it shows the new state: both run as
/// background operations on the server (docs/docspace-api.md, "Archive and unarchive").
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

/// One room's run: where its entries go, and which of its removals the guard refuses.
struct RoomRun<'a, A> {
    api: &'a A,
    room: &'a RoomPlan,
    options: &'a Options,
    out: &'a RoomLog<'a>,
    guarded: HashSet<usize>,
}

impl<A: DocSpaceApi> RoomRun<'_, A> {
    fn push(&self, room_id: Option<i64>, item: &Item, outcome: Outcome) {
        self.out
            .push(Entry::of_item(self.room, room_id, item, outcome));
    }

    /// Every item after index `after` (not already guarded) skipped for `why`.
    fn skip_rest(&self, room_id: Option<i64>, after: usize, why: Dependency) {
        for (n, item) in self.room.items.iter().enumerate().skip(after + 1) {
            if !self.guarded.contains(&n) {
                let reason = SkipReason::DependencyFailed(why.clone());
                self.push(room_id, item, Outcome::Skipped(reason));
            }
        }
    }

    /// The room's id before its items run: the live id, or the new id when the first item
    /// creates the room. `None` when the room cannot go on (its items are then reported).
    async fn open(&self, known_room_ids: &HashSet<i64>) -> Option<i64> {
        let room = self.room;
        let first = room.items.first()?;
        if let Change::CreateRoom { settings, template } = &first.change {
            let created = match template {
                Some(t) => template::create(self.api, room, settings, t, known_room_ids).await,
                None => create::create(self.api, room, settings, known_room_ids).await,
            };
            return match created {
                Ok((id, ignored)) => {
                    // A room created without some of its settings exists all the same: the
                    // rest of the room goes on.
                    let outcome = ignored.map_or(Outcome::Applied, Outcome::Failed);
                    self.push(Some(id), first, outcome);
                    Some(id)
                }
                Err(e) => {
                    self.push(None, first, Outcome::Failed(e));
                    self.skip_rest(None, 0, Dependency::NotCreated);
                    None
                }
            };
        }
        if room.room_id.is_none() {
            // A loaded saved plan is checked for this (see `plan::saved`); a plan built in
            // code might not be, and no step can run without an id.
            for (n, item) in room.items.iter().enumerate() {
                if !self.guarded.contains(&n) {
                    let e = EntryError::new(
                        None,
                        "the plan has no room id and does not create the room",
                    );
                    self.push(None, item, Outcome::Failed(e));
                }
            }
        }
        room.room_id
    }

    /// Unarchives the room; on failure the rest of the room is skipped (the server refuses
    /// edits to archived rooms: docs/docspace-api.md, "Updating rooms") and `false` returned.
    async fn unarchive(&self, id: i64, n: usize, item: &Item) -> bool {
        match set_archived(self.api, id, false, self.options).await {
            Ok(()) => {
                self.push(Some(id), item, Outcome::Applied);
                true
            }
            Err(e) => {
                self.push(Some(id), item, Outcome::Failed(api_err(&e)));
                self.skip_rest(Some(id), n, Dependency::StillArchived);
                false
            }
        }
    }

    async fn update(&self, id: i64, changes: &[SettingChange]) -> Outcome {
        let s = SettingChange::settings(changes);
        let request = UpdateRoomRequest {
            title: s.title.clone(),
            tags: s.tags.clone(),
            quota: s.quota.map(Quota::wire),
            deny_download: s.deny_download,
            indexing: s.indexing,
            lifetime: s.lifetime.as_ref().map(room_settings::lifetime_to_wire),
            watermark: s.watermark.as_ref().map(room_settings::watermark_to_wire),
            color: s.color.clone(),
            cover: s.cover.clone(),
        };
        match self.api.update_room(id, &request).await {
            Ok(answer) => match ignored(&s, &answer, "update") {
                Some(e) => Outcome::Failed(e),
                None => Outcome::Applied,
            },
            Err(e) => Outcome::Failed(api_err(&e)),
        }
    }

    async fn share(&self, id: i64, share: &ShareSettings, items: &[(&Item, MemberChange<'_>)]) {
        let changes: Vec<MemberChange> = items.iter().map(|(_, m)| *m).collect();
        let outcomes = share::apply_share(self.api, share, id, &changes).await;
        for ((item, _), outcome) in items.iter().zip(outcomes) {
            self.push(Some(id), item, outcome);
        }
    }
}

/// Runs one room's items in order.
async fn run_room<A: DocSpaceApi>(
    api: &A,
    share: &ShareSettings,
    room: &RoomPlan,
    known_room_ids: &HashSet<i64>,
    options: &Options,
    archive_guard: Option<plan::GuardReason>,
    out: &RoomLog<'_>,
) {
    if let Some(e) = unreadable(room) {
        out.push(e);
        return;
    }
    if room.items.is_empty() {
        out.push(Entry::of_room(room, Outcome::Unchanged(None)));
        return;
    }
    let guard = if options.allow_removals {
        None
    } else {
        // An orphan refused by the archive guard skips its archive.
        plan::guard(room)
            .or_else(|| archive_guard.map(|why| ((0..room.items.len()).collect(), why)))
    };
    // Every downgrade needs its own flag, whatever their number (`--allow-removals` does
    // not allow them).
    let downgrades = if options.allow_downgrades {
        Vec::new()
    } else {
        plan::downgrades(room)
    };
    let mut guarded: HashSet<usize> = guard
        .as_ref()
        .map(|(g, _)| g.iter().copied().collect())
        .unwrap_or_default();
    guarded.extend(downgrades.iter().copied());
    let run = RoomRun {
        api,
        room,
        options,
        out,
        guarded,
    };
    // Guarded removals and downgrades are skipped whatever happens to the rest of the room.
    if let Some((removals, reason)) = &guard {
        for &n in removals {
            let skip = Outcome::Skipped(SkipReason::RemovalGuard(*reason));
            run.push(room.room_id, &room.items[n], skip);
        }
    }
    for &n in &downgrades {
        run.push(
            room.room_id,
            &room.items[n],
            Outcome::Skipped(SkipReason::DowngradeGuard),
        );
    }
    let Some(id) = run.open(known_room_ids).await else {
        return;
    };
    run_steps(&run, id, share).await;
}

/// The items after the room is open: unarchive, settings, the share batch, archive.
async fn run_steps<A: DocSpaceApi>(run: &RoomRun<'_, A>, id: i64, share: &ShareSettings) {
    let mut members = Vec::new();
    let mut links = Vec::new();
    let mut archive = None;
    for (n, item) in run.room.items.iter().enumerate() {
        if run.guarded.contains(&n) {
            continue;
        }
        match &item.change {
            // Done by `open` when it is the first item; a plan that creates the room later
            // is not one the planner makes.
            Change::CreateRoom { .. } if n == 0 => {}
            Change::CreateRoom { .. } => {
                let e = EntryError::new(None, "a room can only be created by its first item");
                run.push(Some(id), item, Outcome::Failed(e));
            }
            Change::Unarchive => {
                if !run.unarchive(id, n, item).await {
                    return;
                }
            }
            Change::UpdateRoom { changes } => {
                let outcome = run.update(id, changes).await;
                run.push(Some(id), item, outcome);
            }
            Change::Invite { .. } | Change::ChangeAccess { .. } | Change::Remove { .. } => {
                members.extend(MemberChange::of(&item.change).map(|m| (item, m)));
            }
            Change::Link(_) => {
                links.push(item);
            }
            Change::Archive => archive = Some(item),
            // Sent for the whole run at once, after every room (see `resend`); the portal
            // section's items run before the rooms (see `org`).
            Change::ResendInvitation { .. }
            | Change::InvitePerson { .. }
            | Change::ChangeUserType { .. }
            | Change::CreateGroup { .. }
            | Change::UpdateGroup { .. }
            | Change::AddGroupMember { .. }
            | Change::RemoveGroupMember { .. } => {}
        }
    }
    if !members.is_empty() {
        run.share(id, share, &members).await;
    }
    if !links.is_empty() {
        let created = matches!(
            run.room.items.first().map(|i| &i.change),
            Some(Change::CreateRoom { .. })
        );
        for (item, outcome) in links::run(run.api, run.room.room_type, id, created, &links).await {
            run.push(Some(id), item, outcome);
        }
    }
    if let Some(item) = archive {
        // Archive runs even when some member items failed: they are reported, and archiving
        // is what the manifest asks for the room as a whole.
        let outcome = outcome_of(set_archived(run.api, id, true, run.options).await);
        run.push(Some(id), item, outcome);
    }
}

/// The wire form of the settings a room is created with, the same for a plain create and a
/// create from a template.
fn create_settings(s: &plan::RoomSettings) -> RoomCreateSettings {
    RoomCreateSettings {
        tags: s.tags.clone(),
        quota: s.quota.map(Quota::wire),
        deny_download: s.deny_download,
        indexing: s.indexing,
        lifetime: s.lifetime.as_ref().map(room_settings::lifetime_to_wire),
        watermark: s.watermark.as_ref().map(room_settings::watermark_to_wire),
        color: s.color.clone(),
        cover: s.cover.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Access, RoomType};
    use crate::plan::ItemKey;
    use crate::plan::{Member, RemovalReason, RoomChange};

    fn removal(n: usize) -> Item {
        Item::new(
            ItemKey::member("R", &format!("u{n}@x.test")),
            Change::Remove {
                target: Member::User {
                    id: format!("u{n}"),
                    email: format!("u{n}@x.test"),
                },
                from_access: Some(Access::Read),
                reason: RemovalReason::NotListed,
            },
        )
    }

    fn room(title: &str, items: Vec<Item>) -> RoomPlan {
        RoomPlan {
            title: title.into(),
            room_type: RoomType::Custom,
            room_id: Some(1),
            change: RoomChange::Update,
            fingerprint: String::new(),
            members_before: 4,
            items,
            notes: Vec::new(),
        }
    }

    fn plan_of(rooms: Vec<RoomPlan>) -> Plan {
        Plan {
            format_version: 1,
            portal: "p".into(),
            manifest_hash: String::new(),
            share: ShareSettings::default(),
            summary: crate::plan::summarise(&rooms, &[]),
            rooms,
            unmanaged_connected_rooms: 0,
            managed: None,
            expiring: None,
            ..Plan::default()
        }
    }

    #[test]
    fn an_abandoned_run_still_accounts_for_every_item() {
        let plan = plan_of(vec![
            room("Started", vec![removal(1), removal(2)]),
            room("Waiting", vec![removal(3)]),
        ]);
        let journal = Journal::default();
        journal.started(0);
        RoomLog {
            journal: &journal,
            room: 0,
        }
        .push(Entry::of_item(
            &plan.rooms[0],
            Some(1),
            &plan.rooms[0].items[0],
            Outcome::Applied,
        ));
        let entries = journal.finish(&plan);
        let summary: Vec<(&str, &str, &Outcome)> = entries
            .iter()
            .map(|e| (e.place(), e.key.as_str(), &e.outcome))
            .collect();
        let abandoned = Outcome::Failed(EntryError::new(None, ABANDONED));
        let interrupted = Outcome::Skipped(SkipReason::Interrupted);
        assert_eq!(
            summary,
            vec![
                ("Started", "R / u2@x.test", &abandoned),
                ("Started", "R / u1@x.test", &Outcome::Applied),
                ("Waiting", "R / u3@x.test", &interrupted),
            ]
        );
        assert_eq!(entries[2].skip_reason, Some("interrupted"));
    }

    #[test]
    fn an_answer_without_the_sent_settings_is_an_error_naming_them() {
        let sent = plan::RoomSettings {
            color: Some("ff0000".into()),
            cover: Some("anchor".into()),
            indexing: Some(true),
            ..plan::RoomSettings::default()
        };
        let answer: crate::docspace::RoomDto = serde_json::from_value(serde_json::json!({
            "id": 1, "title": "R", "roomType": 8, "indexing": true,
            "logo": {"original": "/logo.png", "large": "l", "medium": "m", "small": "s"}
        }))
        .unwrap();
        let e = ignored(&sent, &answer, "create").unwrap();
        assert!(
            e.message
                .contains("create but its answer does not show `color`, `cover`")
                && e.message.contains("uploaded logo"),
            "{}",
            e.message
        );
        let shown: crate::docspace::RoomDto = serde_json::from_value(serde_json::json!({
            "id": 1, "title": "R", "roomType": 8, "indexing": true,
            "logo": {"original": "", "color": "FF0000", "cover": {"id": "anchor"}}
        }))
        .unwrap();
        assert_eq!(ignored(&sent, &shown, "update"), None);
    }

    #[test]
    fn a_room_without_items_is_one_unchanged_entry() {
        let entries = skip_room(&room("R", Vec::new()), Some(1), &SkipReason::Interrupted);
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].outcome, Outcome::Unchanged(None));
    }
}
