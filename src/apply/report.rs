//! The result of `apply`: one [`Entry`] per plan item (docs/architecture.md, "Reports"),
//! plus counts per status; each entry is made from a typed [`Outcome`]. Rendered as text by [`crate::render::report`] and as versioned JSON
//! (`--format json`, `--report PATH`).

use serde::{Deserialize, Serialize};

use crate::exit::ExitStatus;
use crate::model::Access;
use crate::plan::approve::StaleWhy;
use crate::plan::{Action, GuardReason, Item, RoomPlan};

/// The version of the report JSON. 2: an entry of the plan's portal section (a resend) has
/// `"room": null`.
pub const FORMAT_VERSION: u32 = 2;

/// What happened to one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The change was made and, for members, verified by reading the room back.
    Applied,
    /// The server refused the change, or dropped it silently (seen on read-back).
    Failed,
    /// Not attempted: a dependency failed, the removal guard refused it, the room was stale,
    /// or the run was interrupted. `error.message` says which. The portal still differs
    /// from what was planned, so the run exits 3.
    Skipped,
    /// Nothing to do: the room already matched the manifest (or, for a saved plan, already
    /// showed the planned change; `note` says so).
    Unchanged,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Applied => "applied",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
            Status::Unchanged => "unchanged",
        }
    }
}

/// Why an item failed or was skipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryError {
    /// The HTTP status of the failing call, when there was one.
    pub http_status: Option<u16>,
    pub message: String,
}

impl EntryError {
    pub fn new(http_status: Option<u16>, message: impl Into<String>) -> EntryError {
        EntryError {
            http_status,
            message: message.into(),
        }
    }
}

/// What happened to one item, as a type: the entry's `status`, `error`, `note` and
/// `skip_reason` fields are made from it, and so is the exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    Unchanged(Option<UnchangedWhy>),
    Failed(EntryError),
    Skipped(SkipReason),
}

/// Why a planned item needed nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnchangedWhy {
    /// A re-applied saved plan: the portal already shows the change.
    AlreadyApplied,
}

/// What an item that was not attempted waited on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dependency {
    /// The room could not be created.
    NotCreated,
    /// The room could not be unarchived, and archived rooms cannot be changed
    /// (docs/docspace-api.md, "Updating rooms").
    StillArchived,
    /// The group of `groups:` this share names was not created by this run.
    GroupNotCreated { group: String },
    /// The group's create or update call failed, so its people were not written.
    GroupNotWritten,
    /// The person's invitation (`people:`) failed, so they have no account to add.
    PersonNotInvited,
}

/// Why an item was not attempted. In every case the portal may still differ from the plan,
/// so the run exits 3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// A saved plan's item that is not what planning again makes now (see
    /// [`crate::plan::approve`]); why, for the message.
    Stale(StaleWhy),
    /// An item planning again makes now that the saved plan did not approve (the portal
    /// drifted since the plan was made).
    NotApproved,
    /// Ctrl-C or SIGTERM arrived before the room started.
    Interrupted,
    /// The removal guard refused the room's removals (`--allow-removals` overrides it).
    RemovalGuard(GuardReason),
    /// The downgrade guard refused a link change that lowers the link's protection
    /// (`--allow-downgrades` overrides it; `--allow-removals` does not).
    DowngradeGuard,
    /// An earlier item of the room failed.
    DependencyFailed(Dependency),
    /// The portal's daily limit was reached before the room started; `why` says when to
    /// run again (docs/docspace-api.md, "Rate limits").
    LimitReached { why: String },
    /// The planner could not read the room's members.
    Unreadable { error: String },
    /// A resend the server would not send, or did not send, for this key
    /// (docs/docspace-api.md, "Pending invitations").
    NotResent(crate::plan::pending::NotResent),
}

impl SkipReason {
    /// The public code of the JSON entry's `skip_reason` field.
    pub fn code(&self) -> &'static str {
        match self {
            SkipReason::Stale(_) => "stale",
            SkipReason::NotApproved => "not_approved",
            SkipReason::Interrupted => "interrupted",
            SkipReason::RemovalGuard(_) => "removal_guard",
            SkipReason::DowngradeGuard => "downgrade_guard",
            SkipReason::DependencyFailed(_) => "dependency_failed",
            SkipReason::LimitReached { .. } => "limit_reached",
            SkipReason::Unreadable { .. } => "unreadable",
            SkipReason::NotResent(_) => "not_resent",
        }
    }

    /// The entry's `error.message`: the one place a skip is put in words.
    pub fn message(&self) -> String {
        match self {
            SkipReason::Stale(StaleWhy::Edited) => "stale: the saved plan was edited: this item is not what planning again from its own desired state makes; run plan again".into(),
            SkipReason::Stale(StaleWhy::PortalChanged) => {
                "stale: the room changed on the portal since the plan was made; run plan again".into()
            }
            SkipReason::Stale(StaleWhy::MomentPassed) => "stale: an `expires:` moment of the room passed since the plan was made; run plan again".into(),
            SkipReason::NotApproved => "not approved: planning again makes this change, but the saved plan does not contain it; run plan again".into(),
            SkipReason::Interrupted => "interrupted".into(),
            SkipReason::RemovalGuard(reason @ GuardReason::TooManyRooms { .. }) => format!(
                "refused by the archive guard: {}; pass --allow-removals to archive them",
                guard_reason_text(reason)
            ),
            SkipReason::RemovalGuard(reason) => format!(
                "refused by the removal guard: {}; pass --allow-removals to remove them",
                guard_reason_text(reason)
            ),
            SkipReason::DowngradeGuard => "refused by the downgrade guard: the change lowers the link's protection; pass --allow-downgrades to make it".into(),
            SkipReason::DependencyFailed(Dependency::NotCreated) => "room was not created".into(),
            SkipReason::DependencyFailed(Dependency::StillArchived) => {
                "room is still archived".into()
            }
            SkipReason::DependencyFailed(Dependency::GroupNotCreated { group }) => {
                format!("group `{group}` was not created by this run (see its own entry)")
            }
            SkipReason::DependencyFailed(Dependency::GroupNotWritten) => {
                "the group's write failed (see the group's entry)".into()
            }
            SkipReason::DependencyFailed(Dependency::PersonNotInvited) => {
                "the person's invitation failed, so there is no account to add".into()
            }
            SkipReason::LimitReached { why } => format!("not started: portal limit reached: {why}"),
            SkipReason::Unreadable { error } => {
                format!("not compared: the room could not be read from the portal: {error}")
            }
            SkipReason::NotResent(why) => format!("not resent: {}", why.text()),
        }
    }
}

/// Why the removal guard refuses, in words (plan notes and report entries say the same).
pub fn guard_reason_text(reason: &GuardReason) -> String {
    match reason {
        GuardReason::RoomManager => "the removals include a room manager".into(),
        GuardReason::GroupMember => "every removal from a group needs it".into(),
        GuardReason::TooMany { removals, members } => format!(
            "{removals} of {members} members would be removed (more than {})",
            percent(crate::plan::REMOVAL_GUARD_SHARE)
        ),
        GuardReason::TooManyRooms { archives, managed } => format!(
            "{archives} of {managed} rooms carrying the marker tag would be archived (more than {})",
            percent(crate::plan::prune::ARCHIVE_GUARD_SHARE)
        ),
    }
}

/// A guard share as people read it (`0.25` is `25%`).
pub fn percent(share: f64) -> String {
    format!("{}%", (share * 100.0).round())
}

/// The note of an item a re-applied saved plan found already done.
pub const ALREADY_APPLIED: &str =
    "appears to be already applied: the portal already shows this change";

/// One item of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The room's title; `None` for an item of the plan's portal section (a resend).
    pub room: Option<String>,
    /// The room id (known after creation; `None` when the room was never created).
    pub room_id: Option<i64>,
    /// The plan item's key as text (`room`, `room / subject`, `room / link title`, or the
    /// person's email for portal items; see [`crate::plan::ItemKey`]), to line up with the
    /// plan.
    pub key: String,
    /// The link's title, for link items (the text report names it).
    #[serde(skip)]
    pub link: Option<String>,
    pub action: Action,
    /// Email or group name, for member items.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The access requested (`none` for removals).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<Access>,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<EntryError>,
    /// Why an item needed nothing although it was planned (added in 1.x, absent before): a
    /// re-applied saved plan whose change the portal already shows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Why a skipped item was skipped, as a code (`stale`, `interrupted`, `removal_guard`,
    /// `downgrade_guard`,
    /// `dependency_failed`, `limit_reached`, `unreadable`); added in 1.x, absent before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_reason: Option<&'static str>,
    /// The typed outcome the fields above are made from.
    #[serde(skip)]
    pub outcome: Outcome,
}

impl Entry {
    /// The entry of one plan item. `room_id` is the room's id as the run knows it (a created
    /// room's new id).
    pub fn of_item(room: &RoomPlan, room_id: Option<i64>, item: &Item, outcome: Outcome) -> Entry {
        let mut e = Entry::build(
            Some(room),
            room_id,
            item.key.to_string(),
            item.action(),
            item.subject().map(str::to_string),
            item.change.access(),
            outcome,
        );
        e.link = item.key.link_title().map(str::to_string);
        e
    }

    /// The entry of an item of the plan's portal section (no room).
    pub fn of_portal_item(item: &Item, outcome: Outcome) -> Entry {
        Entry::build(
            None,
            None,
            item.key.to_string(),
            item.action(),
            item.subject().map(str::to_string),
            item.change.access(),
            outcome,
        )
    }

    /// The one entry of a room without items (action `update_room`), so that every managed
    /// room appears in the report.
    pub fn of_room(room: &RoomPlan, outcome: Outcome) -> Entry {
        Entry::build(
            Some(room),
            room.room_id,
            room.title.clone(),
            Action::UpdateRoom,
            None,
            None,
            outcome,
        )
    }

    fn build(
        room: Option<&RoomPlan>,
        room_id: Option<i64>,
        key: String,
        action: Action,
        subject: Option<String>,
        access: Option<Access>,
        outcome: Outcome,
    ) -> Entry {
        let (status, error, note, skip_reason) = match &outcome {
            Outcome::Applied => (Status::Applied, None, None, None),
            Outcome::Unchanged(why) => (
                Status::Unchanged,
                None,
                why.map(|UnchangedWhy::AlreadyApplied| ALREADY_APPLIED.to_string()),
                None,
            ),
            Outcome::Failed(e) => (Status::Failed, Some(e.clone()), None, None),
            Outcome::Skipped(reason) => (
                Status::Skipped,
                Some(EntryError::new(None, reason.message())),
                None,
                Some(reason.code()),
            ),
        };
        Entry {
            room: room.map(|r| r.title.clone()),
            room_id,
            key,
            link: None,
            action,
            subject,
            access,
            status,
            error,
            note,
            skip_reason,
            outcome,
        }
    }

    /// Where the item belongs, for people: the room's title, or `portal` for an item of the
    /// plan's portal section.
    pub fn place(&self) -> &str {
        self.room.as_deref().unwrap_or("portal")
    }

    /// Why the item was skipped, when it was.
    pub fn skip(&self) -> Option<&SkipReason> {
        match &self.outcome {
            Outcome::Skipped(reason) => Some(reason),
            Outcome::Applied | Outcome::Unchanged(_) | Outcome::Failed(_) => None,
        }
    }

    /// Whether the portal may still differ from the plan for this item.
    pub fn left_undone(&self) -> bool {
        match self.outcome {
            Outcome::Failed(_) | Outcome::Skipped(_) => true,
            Outcome::Applied | Outcome::Unchanged(_) => false,
        }
    }
}

/// Counts per status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Counts {
    pub applied: usize,
    pub failed: usize,
    pub skipped: usize,
    pub unchanged: usize,
}

impl Counts {
    pub fn of(entries: &[Entry]) -> Counts {
        let mut c = Counts::default();
        for e in entries {
            match e.status {
                Status::Applied => c.applied += 1,
                Status::Failed => c.failed += 1,
                Status::Skipped => c.skipped += 1,
                Status::Unchanged => c.unchanged += 1,
            }
        }
        c
    }
}

/// A whole report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub format_version: u32,
    pub portal: String,
    /// RFC 3339.
    pub started_at: String,
    /// RFC 3339.
    pub finished_at: String,
    /// `--allow-removals` was given: the removal guard was overridden.
    pub allow_removals: bool,
    /// `--allow-downgrades` was given: the downgrade guard was overridden.
    pub allow_downgrades: bool,
    /// Ctrl-C or SIGTERM stopped the run before every room was finished.
    pub interrupted: bool,
    pub entries: Vec<Entry>,
    pub summary: Counts,
}

impl Report {
    /// Builds a report, sorting entries by room, then item key, then execution order.
    pub fn new(
        portal: String,
        started_at: chrono::DateTime<chrono::Utc>,
        allow_removals: bool,
        interrupted: bool,
        mut entries: Vec<Entry>,
    ) -> Report {
        entries.sort_by(|a, b| {
            // Rooms first, by title; the portal section's entries last.
            (
                a.room.is_none(),
                &a.room,
                &a.key,
                a.action.order(),
                a.action,
            )
                .cmp(&(
                    b.room.is_none(),
                    &b.room,
                    &b.key,
                    b.action.order(),
                    b.action,
                ))
        });
        let summary = Counts::of(&entries);
        Report {
            format_version: FORMAT_VERSION,
            portal,
            started_at: started_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            finished_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            allow_removals,
            allow_downgrades: false,
            interrupted,
            entries,
            summary,
        }
    }

    /// 3 when any item failed or was skipped (a dependency failed, the removal guard refused
    /// it, its saved-plan room was stale, or the run was interrupted: in each case the portal
    /// still differs from what was planned); else 0
    /// (docs/architecture.md, "Commands and exit codes"). Decided from the outcomes' types, never from message text: an interrupted run
    /// has an entry for every item it left undone, and one interrupted after its last room
    /// finished left nothing undone.
    pub fn exit_status(&self) -> ExitStatus {
        if self.entries.iter().any(Entry::left_undone) {
            ExitStatus::ItemsFailed
        } else {
            ExitStatus::Success
        }
    }

    pub fn failed(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| e.status == Status::Failed)
    }
}

#[cfg(test)]
mod guard_share_tests {
    /// The help of `--allow-removals` states the guard shares in words (doc comments cannot
    /// name a constant): this keeps the words equal to the constants.
    #[test]
    fn the_flag_help_states_the_guard_shares() {
        use clap::CommandFactory;
        let mut cmd = crate::cli::Cli::command();
        let apply = cmd.find_subcommand_mut("apply").unwrap();
        let help = apply.render_long_help().to_string();
        for share in [
            crate::plan::REMOVAL_GUARD_SHARE,
            crate::plan::prune::ARCHIVE_GUARD_SHARE,
        ] {
            assert!(
                help.contains(&format!("more than {}", super::percent(share))),
                "{help}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(room: &str, key: &str, action: Action, status: Status) -> Entry {
        let outcome = match status {
            Status::Applied => Outcome::Applied,
            Status::Failed => Outcome::Failed(EntryError::new(None, "refused")),
            Status::Skipped => Outcome::Skipped(SkipReason::Interrupted),
            Status::Unchanged => Outcome::Unchanged(None),
        };
        let plan = RoomPlan {
            title: room.into(),
            room_type: crate::model::RoomType::Custom,
            room_id: Some(1),
            change: crate::plan::RoomChange::Update,
            fingerprint: String::new(),
            members_before: 0,
            items: Vec::new(),
            notes: Vec::new(),
        };
        let mut e = Entry::of_room(&plan, outcome);
        e.key = key.into();
        e.action = action;
        e
    }

    #[test]
    fn sorted_counted_and_exit_status() {
        let r = Report::new(
            "p".into(),
            chrono::Utc::now(),
            false,
            false,
            vec![
                entry("B", "B", Action::CreateRoom, Status::Applied),
                entry("A", "A / x", Action::Invite, Status::Failed),
                entry("A", "A", Action::Archive, Status::Applied),
                entry("A", "A", Action::UpdateRoom, Status::Skipped),
            ],
        );
        let order: Vec<_> = r.entries.iter().map(|e| (&*e.key, e.action)).collect();
        assert_eq!(
            order,
            vec![
                ("A", Action::UpdateRoom),
                ("A", Action::Archive),
                ("A / x", Action::Invite),
                ("B", Action::CreateRoom)
            ]
        );
        assert_eq!(r.summary.failed, 1);
        assert_eq!(r.exit_status(), ExitStatus::ItemsFailed);
        let skipped = &r.entries[0];
        assert_eq!(skipped.skip_reason, Some("interrupted"));
        assert_eq!(skipped.error.as_ref().unwrap().message, "interrupted");
    }

    #[test]
    fn a_skipped_item_means_the_portal_still_differs() {
        let report = |status| {
            Report::new(
                "p".into(),
                chrono::Utc::now(),
                false,
                false,
                vec![
                    entry("A", "A", Action::UpdateRoom, Status::Applied),
                    entry("A", "A / x", Action::Remove, status),
                ],
            )
        };
        assert_eq!(
            report(Status::Skipped).exit_status(),
            ExitStatus::ItemsFailed
        );
        assert_eq!(report(Status::Unchanged).exit_status(), ExitStatus::Success);
        assert_eq!(report(Status::Applied).exit_status(), ExitStatus::Success);
    }
}
