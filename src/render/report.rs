//! Reports for people (a line per failed or skipped item, one line for rooms an interruption
//! left unstarted, and a summary table) and for programs (versioned JSON, every item).

use std::fmt::Write;

use std::collections::BTreeSet;

use crate::apply::{ALREADY_APPLIED, INTERRUPTED, LIMIT_REACHED};
use crate::report::{Entry, Report, Status};

/// The text report: failed items (with the server's message), skipped items, then counts per
/// status. Rooms not started because of an interruption are summed up in one line (a large
/// run can leave thousands), as are items a re-applied saved plan found already done; the JSON
/// report keeps every item. `report_file` says whether a `--report` file was written.
pub fn text(report: &Report, report_file: bool) -> String {
    let mut out = String::new();
    let not_started = |e: &&Entry| {
        e.status == Status::Skipped && e.error.as_ref().is_some_and(|e| e.message == INTERRUPTED)
    };
    let over_limit = |e: &&Entry| {
        e.status == Status::Skipped
            && e.error
                .as_ref()
                .is_some_and(|e| e.message.starts_with(LIMIT_REACHED))
    };
    for status in [Status::Failed, Status::Skipped] {
        let rows: Vec<&Entry> = report
            .entries
            .iter()
            .filter(|e| e.status == status && !not_started(e) && !over_limit(e))
            .collect();
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{} ({}):", capitalise(status.name()), rows.len());
        for e in rows {
            let what = match &e.subject {
                Some(s) => format!("{} {}", action_name(e), s),
                None => action_name(e),
            };
            let _ = write!(out, "  {}: {what}", e.room);
            if let Some(err) = &e.error {
                match err.http_status {
                    Some(code) => {
                        let _ = write!(out, " — HTTP {code}: {}", err.message);
                    }
                    None => {
                        let _ = write!(out, " — {}", err.message);
                    }
                }
            }
            out.push('\n');
        }
        out.push('\n');
    }
    let already: Vec<&Entry> = report
        .entries
        .iter()
        .filter(|e| e.status == Status::Unchanged && e.note.as_deref() == Some(ALREADY_APPLIED))
        .collect();
    if !already.is_empty() {
        let rooms: BTreeSet<&str> = already.iter().map(|e| e.room.as_str()).collect();
        let _ = writeln!(
            out,
            "Already applied ({}): the portal already showed {} of the saved plan:",
            count(already.len(), "item", "items"),
            if already.len() == 1 {
                "this change"
            } else {
                "these changes"
            }
        );
        for room in rooms {
            let n = already.iter().filter(|e| e.room == room).count();
            let _ = writeln!(out, "  {room}: {}", count(n, "change", "changes"));
        }
        out.push('\n');
    }
    let limited: Vec<&Entry> = report.entries.iter().filter(over_limit).collect();
    if let Some(first) = limited.first() {
        let rooms: BTreeSet<&str> = limited.iter().map(|e| e.room.as_str()).collect();
        let why = first
            .error
            .as_ref()
            .map(|e| {
                e.message
                    .trim_start_matches(LIMIT_REACHED)
                    .trim_start_matches(": ")
            })
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "Portal limit reached: {} not started ({} skipped); {why}.\n",
            count(rooms.len(), "room", "rooms"),
            count(limited.len(), "item", "items"),
        );
    }
    if report.interrupted {
        let skipped: Vec<&Entry> = report.entries.iter().filter(not_started).collect();
        let rooms: BTreeSet<(&str, Option<i64>)> = skipped
            .iter()
            .map(|e| (e.room.as_str(), e.room_id))
            .collect();
        if skipped.is_empty() {
            out.push_str("Interrupted after every room had started.\n\n");
        } else {
            let _ = writeln!(
                out,
                "Interrupted: {} not started ({} skipped); {} lists each.\n",
                count(rooms.len(), "room", "rooms"),
                count(skipped.len(), "item", "items"),
                if report_file {
                    "the report file"
                } else {
                    "the JSON report (--report PATH or --format json)"
                }
            );
        }
    }
    let s = &report.summary;
    let _ = writeln!(out, "{:<10} {:>6}", "status", "items");
    for (name, n) in [
        ("applied", s.applied),
        ("failed", s.failed),
        ("skipped", s.skipped),
        ("unchanged", s.unchanged),
    ] {
        let _ = writeln!(out, "{name:<10} {n:>6}");
    }
    out
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn action_name(e: &Entry) -> String {
    serde_json::to_value(e.action)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The JSON report (`--format json`, `--report PATH`).
pub fn json(report: &Report) -> String {
    serde_json::to_string_pretty(report).unwrap_or_default() + "\n"
}
