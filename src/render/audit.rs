//! `audit` as text, JSON, CSV and Markdown: each violation with its room, the rule and the fix.

use serde_json::json;

use crate::model::policy::Violation;
use crate::observe::access::{AccessView, RoomAccess};

use super::access::{cell, managed_cell, md, md_code, partial_lines};

fn room_of<'a>(view: &'a AccessView, v: &Violation) -> &'a RoomAccess {
    &view.rooms[v.room]
}

/// The room's id, and whether a manifest manages it when one was given.
fn room_note(r: &RoomAccess) -> String {
    match r.managed {
        Some(true) => format!("#{}, managed", r.room.id),
        Some(false) => format!("#{}, not managed", r.room.id),
        None => format!("#{}", r.room.id),
    }
}

fn summary(view: &AccessView, found: &[Violation]) -> String {
    let rooms: std::collections::BTreeSet<usize> = found.iter().map(|v| v.room).collect();
    if found.is_empty() {
        format!("No violations in {} rooms.\n", view.rooms.len())
    } else {
        format!(
            "{} violation(s) in {} of {} rooms.\n",
            found.len(),
            rooms.len(),
            view.rooms.len()
        )
    }
}

/// One block per violation, then a summary line.
pub fn text(view: &AccessView, found: &[Violation]) -> String {
    let mut out = partial_lines(view);
    for v in found {
        let r = room_of(view, v);
        out.push_str(&format!(
            "✘ \"{}\" ({}): {}\n    rule: {}\n    fix: {}\n",
            crate::text::visible(&r.room.title),
            room_note(r),
            crate::text::visible(&v.message()),
            crate::text::visible(&v.rule),
            crate::text::visible(&v.fix())
        ));
    }
    out.push_str(&summary(view, found));
    out
}

/// Versioned JSON: the portal, whether the view is partial, and each violation.
pub fn json(view: &AccessView, found: &[Violation]) -> String {
    let violations: Vec<_> = found
        .iter()
        .map(|v| {
            let r = room_of(view, v);
            json!({
                "room_id": r.room.id,
                "room": r.room.title,
                "managed": r.managed,
                "rule": v.rule,
                "breach": v.breach,
                "message": v.message(),
                "fix": v.fix(),
            })
        })
        .collect();
    let value = json!({
        "format_version": 1,
        "portal": view.portal,
        "partial": view.partial,
        "rooms_checked": view.rooms.len(),
        "violations": violations,
    });
    serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
}

/// One row per violation (cells defused as in `access --format csv`); the partial-view
/// reasons are not rows: they go to stderr.
pub fn csv(view: &AccessView, found: &[Violation]) -> String {
    let mut out = String::from("room_id,room,managed,rule,violation,fix\n");
    for v in found {
        let r = room_of(view, v);
        let cells = [
            r.room.id.to_string(),
            cell(&r.room.title),
            managed_cell(r.managed).to_string(),
            cell(&v.rule),
            cell(&v.message()),
            cell(&v.fix()),
        ];
        out.push_str(&(cells.join(",") + "\n"));
    }
    out
}

/// A Markdown table of violations, for a ticket or a pull request.
pub fn markdown(view: &AccessView, found: &[Violation]) -> String {
    let mut out = String::from("## Policy audit\n\n");
    for p in &view.partial {
        out.push_str(&format!("> **Partial view:** {}.\n\n", md(p)));
    }
    if !found.is_empty() {
        out.push_str("| Room | Rule | Violation | Fix |\n|---|---|---|---|\n");
        for v in found {
            let r = room_of(view, v);
            out.push_str(&format!(
                "| {} ({}) | {} | {} | {} |\n",
                md(&r.room.title),
                room_note(r),
                md_code(&v.rule),
                md(&v.message()),
                md(&v.fix())
            ));
        }
        out.push('\n');
    }
    out.push_str(&summary(view, found));
    out
}
