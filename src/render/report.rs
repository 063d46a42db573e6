//! Reports for people (a line per failed or skipped item, one line for rooms an interruption
//! left unstarted, and a summary table) and for programs (versioned JSON, every item).

use std::fmt::Write;

use std::collections::BTreeSet;

use crate::report::{Entry, Outcome, Report, SkipReason, Status, UnchangedWhy};

/// How the text report shows a skipped item: in the list of skips, or summed up in one line
/// (a large run can leave thousands of items for one reason).
fn summed_up(reason: &SkipReason) -> bool {
    match reason {
        SkipReason::Interrupted | SkipReason::LimitReached { .. } => true,
        SkipReason::Stale
        | SkipReason::RemovalGuard(_)
        | SkipReason::DowngradeGuard
        | SkipReason::DependencyFailed(_)
        | SkipReason::Unreadable { .. } => false,
    }
}

/// The text report: failed items (with the server's message), skipped items, then counts per
/// status. Rooms not started because of an interruption or the portal's daily limit are
/// summed up in one line each, as are items a re-applied saved plan found already done; the
/// JSON report keeps every item. `report_file` says whether a `--report` file was written.
pub fn text(report: &Report, report_file: bool) -> String {
    let mut out = String::new();
    let failed: Vec<&Entry> = report
        .entries
        .iter()
        .filter(|e| matches!(e.outcome, Outcome::Failed(_)))
        .collect();
    let listed_skips: Vec<&Entry> = report
        .entries
        .iter()
        .filter(|e| e.skip().is_some_and(|r| !summed_up(r)))
        .collect();
    item_list(&mut out, Status::Failed, &failed);
    item_list(&mut out, Status::Skipped, &listed_skips);
    already_applied(&mut out, report);
    limit_reached(&mut out, report);
    if report.interrupted {
        interrupted(&mut out, report, report_file);
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

/// A heading and a line per entry, with its error.
fn item_list(out: &mut String, status: Status, rows: &[&Entry]) {
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(out, "{} ({}):", capitalise(status.name()), rows.len());
    for e in rows {
        let link = super::links::title_in_key(&e.room, &e.key);
        let what = match (&e.subject, link) {
            (Some(s), _) => format!("{} {}", e.action.name(), s),
            (None, Some(t)) => format!("{} \"{}\"", e.action.name(), super::visible(t)),
            (None, None) => e.action.name().to_string(),
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

/// Items a re-applied saved plan found already done, per room.
fn already_applied(out: &mut String, report: &Report) {
    let already: Vec<&Entry> = report
        .entries
        .iter()
        .filter(|e| e.outcome == Outcome::Unchanged(Some(UnchangedWhy::AlreadyApplied)))
        .collect();
    if already.is_empty() {
        return;
    }
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

/// One line for the rooms the portal's daily limit left unstarted.
fn limit_reached(out: &mut String, report: &Report) {
    let limited: Vec<(&Entry, &str)> = report
        .entries
        .iter()
        .filter_map(|e| match e.skip() {
            Some(SkipReason::LimitReached { why }) => Some((e, why.as_str())),
            _ => None,
        })
        .collect();
    let Some((_, why)) = limited.first() else {
        return;
    };
    let rooms: BTreeSet<&str> = limited.iter().map(|(e, _)| e.room.as_str()).collect();
    let _ = writeln!(
        out,
        "Portal limit reached: {} not started ({} skipped); {why}.\n",
        count(rooms.len(), "room", "rooms"),
        count(limited.len(), "item", "items"),
    );
}

/// One line for the rooms an interruption left unstarted.
fn interrupted(out: &mut String, report: &Report, report_file: bool) {
    let skipped: Vec<&Entry> = report
        .entries
        .iter()
        .filter(|e| e.skip() == Some(&SkipReason::Interrupted))
        .collect();
    if skipped.is_empty() {
        out.push_str("Interrupted after every room had started.\n\n");
        return;
    }
    let rooms: BTreeSet<(&str, Option<i64>)> = skipped
        .iter()
        .map(|e| (e.room.as_str(), e.room_id))
        .collect();
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

/// What the run says about a room of a saved plan that changed since the plan was made.
pub fn changed_room(title: &str, applied: usize, planned: usize) -> String {
    if applied == planned {
        format!(
            "note: room `{title}` appears to be already applied: the portal already shows the plan's changes\n"
        )
    } else if applied > 0 {
        format!(
            "warning: room `{title}` changed since the plan was made ({applied} of {planned} changes appear to be already applied); the rest is skipped (run plan again)\n"
        )
    } else {
        format!(
            "warning: room `{title}` changed since the plan was made; it will be skipped (run plan again)\n"
        )
    }
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
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
