//! Reports for people (a line per failed or skipped item, one line for rooms an interruption
//! left unstarted, and a summary table) and for programs (versioned JSON, every item).

use std::fmt::Write;

use std::collections::BTreeSet;

use crate::plan::approve::{StaleWhy, Verdict};
use crate::report::{Entry, Outcome, Report, SkipReason, Status, UnchangedWhy};

/// How the text report shows a skipped item: in the list of skips, or summed up in one line
/// (a large run can leave thousands of items for one reason).
fn summed_up(reason: &SkipReason) -> bool {
    match reason {
        SkipReason::Interrupted | SkipReason::LimitReached { .. } => true,
        SkipReason::Stale(_)
        | SkipReason::NotApproved
        | SkipReason::RemovalGuard(_)
        | SkipReason::DowngradeGuard
        | SkipReason::DependencyFailed(_)
        | SkipReason::Unreadable { .. }
        | SkipReason::NotResent(_) => false,
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
        let link = e.link.as_deref();
        let what = match (&e.subject, link) {
            (Some(s), _) => format!("{} {}", e.action.name(), s),
            (None, Some(t)) => format!("{} \"{}\"", e.action.name(), super::visible(t)),
            (None, None) => e.action.name().to_string(),
        };
        let _ = write!(out, "  {}: {what}", e.place());
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
    let rooms: BTreeSet<&str> = already.iter().map(|e| e.place()).collect();
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
        let n = already.iter().filter(|e| e.place() == room).count();
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
    let rooms: BTreeSet<&str> = limited.iter().map(|(e, _)| e.place()).collect();
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
    let rooms: BTreeSet<(&str, Option<i64>)> =
        skipped.iter().map(|e| (e.place(), e.room_id)).collect();
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

/// The line for a room of a saved plan some of whose items were set aside (see
/// [`crate::plan::approve`]).
pub fn set_aside_room(title: &str, verdicts: &[Verdict]) -> String {
    let n = |test: fn(&Verdict) -> bool| verdicts.iter().filter(|v| test(v)).count();
    let done = n(|v| *v == Verdict::AlreadyApplied);
    let not_approved = n(|v| *v == Verdict::NotApproved);
    let stale = verdicts.len() - done - not_approved;
    let why = verdicts.iter().find_map(|v| match v {
        Verdict::Stale(why) => Some(*why),
        _ => None,
    });
    let mut parts = Vec::new();
    if stale > 0 {
        parts.push(format!(
            "{} skipped as stale ({})",
            count(stale, "change", "changes"),
            match why {
                Some(StaleWhy::Edited) => "the saved plan was edited: planning again from its own desired state does not make them",
                Some(StaleWhy::MomentPassed) => "an `expires:` moment passed since the plan was made",
                _ => "the room changed on the portal since the plan was made",
            }
        ));
    }
    if not_approved > 0 {
        parts.push(format!(
            "{} that planning again makes now not applied, as the saved plan did not approve {}",
            count(not_approved, "change", "changes"),
            if not_approved == 1 { "it" } else { "them" }
        ));
    }
    if parts.is_empty() {
        return format!(
            "note: room `{title}`: {} already applied: the portal already shows {}\n",
            count(done, "change appears to be", "changes appear to be"),
            if done == 1 { "it" } else { "them" }
        );
    }
    if done > 0 {
        parts.push(format!(
            "{} already applied",
            count(done, "change appears to be", "changes appear to be")
        ));
    }
    format!(
        "warning: room `{title}`: {}; run plan again\n",
        parts.join("; ")
    )
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
