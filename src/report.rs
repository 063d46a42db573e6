//! The result of `apply`: one [`Entry`] per plan item (DESIGN.md section 4, "Report"), plus
//! counts per status. Rendered as text by [`crate::render::report`] and as versioned JSON
//! (`--format json`, `--report PATH`).

use serde::{Deserialize, Serialize};

use crate::exit::ExitStatus;
use crate::model::Access;
use crate::plan::Action;

/// The version of the report JSON.
pub const FORMAT_VERSION: u32 = 1;

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

/// One item of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub room: String,
    /// The room id (known after creation; `None` when the room was never created).
    pub room_id: Option<i64>,
    /// The plan item key (`room` or `room / subject`), to line up with the plan.
    pub key: String,
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub format_version: u32,
    pub portal: String,
    /// RFC 3339.
    pub started_at: String,
    /// RFC 3339.
    pub finished_at: String,
    /// `--allow-removals` was given: the removal guard was overridden.
    pub allow_removals: bool,
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
            (&a.room, &a.key, a.action.order(), a.action).cmp(&(
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
            interrupted,
            entries,
            summary,
        }
    }

    /// 3 when any item failed or was skipped (a dependency failed, the removal guard refused
    /// it, its saved-plan room was stale, or the run was interrupted: in each case the portal
    /// still differs from what was planned); else 0 (DESIGN.md section 2). Decided from
    /// statuses, never from message text: an interrupted run has an entry for every item it
    /// left undone, and one interrupted after its last room finished left nothing undone.
    pub fn exit_status(&self) -> ExitStatus {
        if self.summary.failed > 0 || self.summary.skipped > 0 {
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
mod tests {
    use super::*;

    fn entry(room: &str, key: &str, action: Action, status: Status) -> Entry {
        Entry {
            room: room.into(),
            room_id: Some(1),
            key: key.into(),
            action,
            subject: None,
            access: None,
            status,
            error: None,
            note: None,
        }
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
