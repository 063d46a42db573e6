//! Plans for people (Terraform-like text, Markdown for pull-request comments) and for
//! programs (versioned JSON).

use std::fmt::Write;

use anstyle::{AnsiColor, Style};

use crate::plan::{Action, Item, Plan, RemovalReason, RoomChange, RoomPlan, Summary, Target};

/// GitHub refuses comments over 65,536 characters; stay clearly below.
pub const MARKDOWN_LIMIT: usize = 65_000;

fn paint(color: bool, style: Style, text: &str) -> String {
    if color {
        format!("{style}{text}{style:#}")
    } else {
        text.to_string()
    }
}

const GREEN: Style = AnsiColor::Green.on_default();
const YELLOW: Style = AnsiColor::Yellow.on_default();
const RED: Style = AnsiColor::Red.on_default();
const BOLD: Style = Style::new().bold();

/// The closing line, e.g. `Plan: 2 rooms to create, 1 to update; 14 invitations, 1 access
/// change, 0 removals.`
pub fn summary_line(s: &Summary) -> String {
    if !s.has_changes() {
        return "No changes. The portal matches the manifest.".to_string();
    }
    let n = |count: usize, one: &str, many: &str| {
        format!("{count} {}", if count == 1 { one } else { many })
    };
    let mut line = format!(
        "Plan: {} to create, {} to update; {}, {}, {}",
        n(s.rooms_to_create, "room", "rooms"),
        s.rooms_to_update,
        n(s.invitations, "invitation", "invitations"),
        n(s.access_changes, "access change", "access changes"),
        n(s.removals, "removal", "removals"),
    );
    if s.archives > 0 {
        line.push_str(&format!(", {}", n(s.archives, "archive", "archives")));
    }
    if s.unarchives > 0 {
        line.push_str(&format!(", {}", n(s.unarchives, "unarchive", "unarchives")));
    }
    line.push('.');
    if s.new_guests > 0 {
        line.push_str(&format!(
            " {} will be created and emailed an invitation.",
            n(s.new_guests, "new guest account", "new guest accounts")
        ));
    }
    line
}

/// One line per item, with its sign: `+` add, `~` change, `-` remove.
fn item_line(item: &Item, color: bool) -> Vec<String> {
    let access =
        |a: Option<crate::model::Access>| a.map_or_else(|| "?".to_string(), |a| a.to_string());
    let who = |t: &Target| match t {
        Target::Group { name, .. } => format!("group {name}"),
        Target::User { email, .. } | Target::NewGuest { email } => email.clone(),
    };
    match item.action {
        Action::CreateRoom => item
            .changes
            .iter()
            .map(|c| paint(color, GREEN, &format!("+ {}: {}", c.field, c.to)))
            .collect(),
        Action::UpdateRoom => item
            .changes
            .iter()
            .map(|c| {
                paint(
                    color,
                    YELLOW,
                    &format!(
                        "~ {}: {} -> {}",
                        c.field,
                        c.from.as_deref().unwrap_or("(unset)"),
                        c.to
                    ),
                )
            })
            .collect(),
        Action::Invite => {
            let t = item.target.as_ref().expect("invites have a target");
            let mut line = format!("+ invite {} as {}", who(t), access(item.access));
            if matches!(t, Target::NewGuest { .. }) {
                line.push_str(" (new guest account, invitation email will be sent)");
            }
            vec![paint(color, GREEN, &line)]
        }
        Action::ChangeAccess => {
            let t = item.target.as_ref().expect("changes have a target");
            vec![paint(
                color,
                YELLOW,
                &format!(
                    "~ {}: {} -> {}",
                    who(t),
                    access(item.from_access),
                    access(item.access)
                ),
            )]
        }
        Action::Remove => {
            let t = item.target.as_ref().expect("removals have a target");
            let why = match item.reason {
                Some(RemovalReason::NotListed) => "not in the manifest, members: exact",
                _ => "access: none",
            };
            vec![paint(
                color,
                RED,
                &format!(
                    "- remove {} (was {}; {why})",
                    who(t),
                    access(item.from_access)
                ),
            )]
        }
        Action::Archive => vec![paint(color, YELLOW, "~ state: present -> archived")],
        Action::Unarchive => vec![paint(color, YELLOW, "~ state: archived -> present")],
    }
}

fn room_header(room: &RoomPlan, color: bool) -> String {
    match room.change {
        RoomChange::Create => paint(
            color,
            GREEN,
            &format!("+ room \"{}\" ({})", room.title, room.room_type),
        ),
        _ => paint(
            color,
            YELLOW,
            &format!(
                "~ room \"{}\" ({}, id {})",
                room.title,
                room.room_type,
                room.room_id.unwrap_or_default()
            ),
        ),
    }
}

fn room_block(room: &RoomPlan, color: bool) -> String {
    let mut out = format!("  {}\n", room_header(room, color));
    for item in &room.items {
        for line in item_line(item, color) {
            out.push_str(&format!("      {line}\n"));
        }
    }
    // A changed room's note is what a reviewer must know before apply (the removal guard).
    if let Some(note) = &room.note {
        out.push_str(&format!("      ! {note}\n"));
    }
    out
}

/// The Terraform-like text plan.
pub fn text(plan: &Plan, color: bool) -> String {
    let mut out = String::new();
    let changed: Vec<&RoomPlan> = plan
        .rooms
        .iter()
        .filter(|r| r.change != RoomChange::Unchanged)
        .collect();
    if !changed.is_empty() {
        out.push_str(&format!("Portal: {}\n\n", plan.portal));
        out.push_str(
            "docspace-provision will make these changes (+ create, ~ change, - remove):\n\n",
        );
        for room in changed {
            out.push_str(&room_block(room, color));
            out.push('\n');
        }
    }
    for room in plan
        .rooms
        .iter()
        .filter(|r| r.change == RoomChange::Unchanged)
    {
        if let Some(note) = &room.note {
            let _ = writeln!(
                out,
                "  = room \"{}\" (id {}): {note}",
                room.title,
                room.room_id.unwrap_or_default()
            );
        }
    }
    let unchanged = plan.summary.rooms_unchanged;
    if unchanged > 0 {
        let _ = writeln!(
            out,
            "{unchanged} {} already in step.",
            if unchanged == 1 {
                "room is"
            } else {
                "rooms are"
            }
        );
    }
    out.push_str(&paint(color, BOLD, &summary_line(&plan.summary)));
    out.push('\n');
    out
}

/// The versioned JSON plan (`format_version` 1): the same document `plan --out` saves.
pub fn json(plan: &Plan) -> String {
    let mut text = serde_json::to_string_pretty(plan).expect("a plan always serialises");
    text.push('\n');
    text
}

/// Markdown for a pull-request comment: the summary first, then a `diff` block per room, and
/// a note instead of the rooms that do not fit under [`MARKDOWN_LIMIT`].
pub fn markdown(plan: &Plan) -> String {
    let mut head = String::from("### docspace-provision plan\n\n");
    let _ = writeln!(head, "**{}**\n", summary_line(&plan.summary));
    let _ = writeln!(head, "Portal: `{}`\n", plan.portal);
    let changed: Vec<&RoomPlan> = plan
        .rooms
        .iter()
        .filter(|r| r.change != RoomChange::Unchanged)
        .collect();
    if changed.is_empty() {
        return head;
    }
    let mut body = String::new();
    let mut shown = 0;
    // Leave room for the closing note.
    let budget = MARKDOWN_LIMIT - 400;
    for room in &changed {
        let block = format!(
            "```diff\n{}```\n\n",
            room_block(room, false).replace("      ", "    ")
        );
        if head.len() + body.len() + block.len() > budget {
            break;
        }
        body.push_str(&block);
        shown += 1;
    }
    if shown < changed.len() {
        let _ = writeln!(
            body,
            "_…and {} more changed rooms not shown (comment size limit). Run `docspace-provision plan` for the full plan._",
            changed.len() - shown
        );
    }
    head + &body
}
