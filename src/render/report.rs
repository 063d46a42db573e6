//! Reports for people (a line per failed or skipped item, one line for rooms an interruption
//! left unstarted, and a summary table) and for programs (versioned JSON, every item).

use std::fmt::Write;

use std::collections::BTreeSet;
use std::time::Duration;

use anstyle::{AnsiColor, Style};

use super::paint;

use crate::exit::ExitStatus;
use crate::plan::Action;
use crate::plan::approve::{StaleWhy, Verdict};
use crate::report::{Entry, Outcome, Report, SkipReason, Status, UnchangedWhy};

const GREEN: Style = AnsiColor::Green.on_default();
const YELLOW: Style = AnsiColor::Yellow.on_default();
const RED: Style = AnsiColor::Red.on_default();

/// Up to this many created rooms are listed with their ids at the end of `apply`; more are
/// counted, and the JSON report lists them.
pub const CREATED_LISTED: usize = 10;

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
/// JSON report keeps every item. `report_file` says whether a `--report` file was written;
/// `color` paints the headings of failed (red) and skipped (yellow) items.
pub fn text(report: &Report, report_file: bool, color: bool) -> String {
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
    item_list(&mut out, Status::Failed, &failed, paint_with(color, RED));
    item_list(
        &mut out,
        Status::Skipped,
        &listed_skips,
        paint_with(color, YELLOW),
    );
    already_applied(&mut out, report);
    limit_reached(&mut out, report);
    if report.interrupted {
        interrupted(&mut out, report, report_file);
    }
    let s = &report.summary;
    let _ = writeln!(out, "{:<10} {:>6}", "status", "items");
    for (name, n, style) in [
        ("applied", s.applied, GREEN),
        ("failed", s.failed, RED),
        ("skipped", s.skipped, YELLOW),
        ("unchanged", s.unchanged, Style::new()),
    ] {
        let row = format!("{name:<10} {n:>6}");
        let _ = writeln!(out, "{}", paint(color && n > 0, style, &row));
    }
    out
}

fn paint_with(color: bool, style: Style) -> impl Fn(&str) -> String {
    move |text| paint(color, style, text)
}

/// A heading and a line per entry, with its error.
fn item_list(out: &mut String, status: Status, rows: &[&Entry], heading: impl Fn(&str) -> String) {
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "{}",
        heading(&format!("{} ({}):", capitalise(status.name()), rows.len()))
    );
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

/// The line for the portal section (groups, people) of a saved plan some of whose items were
/// set aside (see [`crate::plan::approve`]).
pub fn set_aside_portal(verdicts: &[Verdict]) -> String {
    let stale = verdicts
        .iter()
        .filter(|v| matches!(v, Verdict::Stale(_)))
        .count();
    let not_approved = verdicts
        .iter()
        .filter(|v| **v == Verdict::NotApproved)
        .count();
    let mut parts = Vec::new();
    if stale > 0 {
        parts.push(format!(
            "{} skipped as stale (the saved plan was edited, or the groups or people changed on the portal since it was made)",
            count(stale, "change", "changes")
        ));
    }
    if not_approved > 0 {
        parts.push(format!(
            "{} that planning again makes now not applied, as the saved plan did not approve {}",
            count(not_approved, "change", "changes"),
            if not_approved == 1 { "it" } else { "them" }
        ));
    }
    format!("note: groups and people: {}\n", parts.join("; "))
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

/// The end of a text report: the rooms the run created with their ids (counted instead when
/// there are more than [`CREATED_LISTED`]), then one closing sentence with the elapsed time
/// that says whether the portal now matches the manifest. `report_file` is the `--report`
/// path, when one was written.
pub fn ending(
    report: &Report,
    elapsed: Duration,
    report_file: Option<&str>,
    color: bool,
) -> String {
    let mut out = created_rooms(report, report_file);
    out.push_str(&closing_sentence(report, elapsed, color));
    out.push('\n');
    out
}

/// The rooms the run created with their ids, counted instead when there are more than
/// [`CREATED_LISTED`].
fn created_rooms(report: &Report, report_file: Option<&str>) -> String {
    let mut out = String::new();
    let created: Vec<&Entry> = report
        .entries
        .iter()
        .filter(|e| e.action == Action::CreateRoom && e.status == Status::Applied)
        .collect();
    if created.len() > CREATED_LISTED {
        let _ = writeln!(
            out,
            "Created {}; {} lists their ids.",
            count(created.len(), "room", "rooms"),
            match report_file {
                Some(path) => format!("the report {path}"),
                None => "the JSON report (--report PATH or --format json)".to_string(),
            }
        );
    } else if !created.is_empty() {
        let _ = writeln!(out, "Created {}:", count(created.len(), "room", "rooms"));
        for e in &created {
            let _ = writeln!(
                out,
                "  \"{}\" (id {})",
                super::visible(e.place()),
                e.room_id
                    .map_or_else(|| "?".to_string(), |id| id.to_string())
            );
        }
    }
    out
}

/// One sentence with the elapsed time that says whether the portal now matches the manifest.
fn closing_sentence(report: &Report, elapsed: Duration, color: bool) -> String {
    let s = &report.summary;
    let rooms: BTreeSet<&str> = report
        .entries
        .iter()
        .filter(|e| e.status == Status::Applied)
        .filter_map(|e| e.room.as_deref())
        .collect();
    let took = elapsed_text(elapsed);
    let success = report.exit_status() == ExitStatus::Success;
    let done = if s.applied == 0 && success {
        format!("Nothing to apply (checked {took})")
    } else if s.applied == 0 {
        format!("No change was made {took}")
    } else if rooms.is_empty() {
        format!("Applied {} {took}", count(s.applied, "change", "changes"))
    } else {
        format!(
            "Applied {} in {} {took}",
            count(s.applied, "change", "changes"),
            count(rooms.len(), "room", "rooms")
        )
    };
    if success {
        let matches = if s.applied == 0 {
            "the portal matches the manifest"
        } else {
            "the portal now matches the manifest"
        };
        return paint(color, GREEN, &format!("{done}; {matches}."));
    }
    let undone = match (s.failed, s.skipped) {
        (0, 0) => "an item was left undone".to_string(),
        (f, 0) => count(f, "item failed", "items failed"),
        (0, k) => count(k, "item was skipped", "items were skipped"),
        (f, k) => format!(
            "{} and {k} {} skipped",
            count(f, "item failed", "items failed"),
            if k == 1 { "was" } else { "were" }
        ),
    };
    paint(
        color,
        RED,
        &format!("{done}; {undone}: the portal does not fully match (exit 3)."),
    )
}

/// `in 3.2 s`, `in 2 min 5 s`.
pub fn elapsed_text(elapsed: Duration) -> String {
    let secs = elapsed.as_secs();
    if secs >= 60 {
        format!("in {} min {} s", secs / 60, secs % 60)
    } else {
        format!("in {:.1} s", elapsed.as_secs_f64())
    }
}

use crate::text::count;

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
