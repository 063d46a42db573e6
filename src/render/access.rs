//! `access` as text, JSON, CSV (the access-review checklist a room owner signs) and Markdown
//! (for a pull request or a ticket). Link passwords and keys are not in the view, so they
//! cannot be printed.

use serde_json::json;

use crate::observe::access::{AccessView, Entry, How, LinkSummary, RoomAccess};

/// "how" in words (group names as the portal gives them, control characters shown).
pub fn how(e: &Entry) -> String {
    let words = match &e.how {
        How::RoomOwner => "room owner".into(),
        How::DocspaceAdmin { owner: true } => {
            "portal owner (DocSpace admin, no share needed)".into()
        }
        How::DocspaceAdmin { owner: false } => "DocSpace admin (no share needed)".into(),
        How::Direct => "direct".into(),
        How::Group { group, groups } if groups.len() > 1 => {
            format!(
                "through groups {} ({group} wins: highest access)",
                groups.join(", ")
            )
        }
        How::Group { group, .. } => format!("through group {group}"),
        How::Both { groups } => format!(
            "direct and through group {} (direct wins)",
            groups.join(", ")
        ),
    };
    crate::text::visible(&words).into_owned()
}

/// "guest", "pending", "guest, pending" or empty.
pub fn account(e: &Entry) -> String {
    let mut parts = Vec::new();
    if e.guest() {
        parts.push("guest");
    }
    if e.person.pending {
        parts.push("pending");
    }
    if e.person.terminated {
        parts.push("disabled");
    }
    parts.join(", ")
}

fn expires(e: &Entry) -> String {
    e.expires
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

fn room_head(r: &RoomAccess) -> String {
    let mut parts = vec![format!("#{}", r.room.id)];
    if let Some(t) = r.room.room_type {
        parts.push(t.name().to_string());
    }
    if r.room.archived {
        parts.push("archived".into());
    }
    match r.managed {
        Some(true) => parts.push("managed".into()),
        Some(false) => parts.push("not managed".into()),
        None => {}
    }
    format!(
        "{} ({})",
        crate::text::visible(&r.room.title),
        parts.join(", ")
    )
}

/// One link in words: kind, access, expiry, password yes/no.
pub fn link(l: &LinkSummary) -> String {
    let kind = if l.primary {
        "primary external".to_string()
    } else {
        l.kind.name().to_string()
    };
    let access = l.access.map_or("unknown", |a| a.name());
    let expiry = match (l.expires, l.expired) {
        (_, true) => "expired".to_string(),
        (Some(t), false) => format!("expires {}", t.format("%Y-%m-%d")),
        (None, false) => "no expiry".to_string(),
    };
    let password = if l.password {
        "password: yes"
    } else {
        "password: no"
    };
    let mut out = format!(
        "{kind} link \"{}\": {access}, {expiry}, {password}",
        crate::text::visible(&l.title)
    );
    if l.internal {
        out.push_str(", signed-in users only");
    }
    if l.deny_download {
        out.push_str(", no download");
    }
    out
}

/// A `Partial view: ….` line per reason the view is partial (also `audit`'s text).
pub(super) fn partial_lines(view: &AccessView) -> String {
    view.partial
        .iter()
        .map(|p| format!("Partial view: {p}.\n"))
        .collect()
}

/// Every room with each person who can enter it.
pub fn text(view: &AccessView) -> String {
    let mut out = partial_lines(view);
    for r in &view.rooms {
        out.push_str(&format!("\n{}\n", room_head(r)));
        if let Some(e) = &r.members_unreadable {
            out.push_str(&format!("  members could not be read: {e}\n"));
        }
        let email = |e: &Entry| crate::text::visible(&e.person.email).into_owned();
        let width = r.people.iter().map(|e| email(e).len()).max().unwrap_or(0);
        for e in &r.people {
            let mut line = format!("  {:width$}  {:15} {}", email(e), e.access.name(), how(e));
            for extra in [account(e), expires(e)] {
                if !extra.is_empty() {
                    line.push_str(&format!("; {extra}"));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        for l in &r.links {
            out.push_str(&format!("  {}\n", link(l)));
        }
        if r.links_hidden {
            out.push_str("  links not shown: the key's user does not manage this room\n");
        }
        if let Some(e) = &r.links_unreadable {
            out.push_str(&format!("  links could not be read: {e}\n"));
        }
    }
    let people: std::collections::BTreeSet<&str> = view
        .rooms
        .iter()
        .flat_map(|r| r.people.iter().map(|e| e.person.email.as_str()))
        .collect();
    out.push_str(&format!(
        "\n{}, {} with access.\n",
        crate::text::count(view.rooms.len(), "room", "rooms"),
        crate::text::count(people.len(), "person", "people")
    ));
    out
}

/// Every room one person can enter.
pub fn person_text(view: &AccessView, email: &str) -> String {
    let mut out = partial_lines(view);
    let rooms = view.of_person(email);
    out.push_str(&format!(
        "{} can enter {} room(s):\n",
        crate::text::visible(&crate::model::normalise_email(email)),
        rooms.len()
    ));
    for (r, e) in rooms {
        let mut line = format!("  {}: {}, {}", room_head(r), e.access.name(), how(e));
        for extra in [account(e), expires(e)] {
            if !extra.is_empty() {
                line.push_str(&format!("; {extra}"));
            }
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The view as versioned JSON.
pub fn json(view: &AccessView) -> String {
    let value = json!({ "format_version": 1, "access": view });
    serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
}

/// One person's rooms as versioned JSON.
pub fn person_json(view: &AccessView, email: &str) -> String {
    let rooms: Vec<_> = view
        .of_person(email)
        .into_iter()
        .map(|(r, e)| json!({ "room_id": r.room.id, "room": r.room.title, "managed": r.managed, "entry": e }))
        .collect();
    let value = json!({
        "format_version": 1,
        "portal": view.portal,
        "person": crate::model::normalise_email(email),
        "partial": view.partial,
        "rooms": rooms,
    });
    serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
}

const CSV_HEADER: &str = "room_id,room,room_type,managed,person,access,how,account,expires,keep_access,reviewed_by,reviewed_on\n";

/// A CSV cell: quoted when needed, and a leading `=`, `+`, `-` or `@` (which a spreadsheet
/// would run as a formula) defused with a `'`.
pub(super) fn cell(text: &str) -> String {
    let text = crate::text::visible(text);
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.into_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// The `managed` cell: `yes`, `no`, or empty when it is not known.
pub(super) fn managed_cell(managed: Option<bool>) -> &'static str {
    match managed {
        Some(true) => "yes",
        Some(false) => "no",
        None => "",
    }
}

fn csv_row(r: &RoomAccess, e: &Entry) -> String {
    let cells = [
        r.room.id.to_string(),
        cell(&r.room.title),
        r.room.room_type.map_or("", |t| t.name()).to_string(),
        managed_cell(r.managed).to_string(),
        cell(&e.person.email),
        e.access.name().to_string(),
        cell(&how(e)),
        cell(&account(e)),
        expires(e),
        String::new(),
        String::new(),
        String::new(),
    ];
    cells.join(",") + "\n"
}

/// The access-review checklist: a row per room and person, with empty `keep_access`,
/// `reviewed_by` and `reviewed_on` columns for the room owner to fill in.
pub fn csv(view: &AccessView) -> String {
    let mut out = CSV_HEADER.to_string();
    for r in &view.rooms {
        for e in &r.people {
            out.push_str(&csv_row(r, e));
        }
    }
    out
}

/// The checklist of one person's rooms.
pub fn person_csv(view: &AccessView, email: &str) -> String {
    let mut out = CSV_HEADER.to_string();
    for (r, e) in view.of_person(email) {
        out.push_str(&csv_row(r, e));
    }
    out
}

/// Text safe in a Markdown table cell: a title cannot end the cell, open a link or an
/// image, start emphasis or code, or carry HTML.
pub fn md(text: &str) -> String {
    let mut out = String::new();
    for c in crate::text::visible(text).chars() {
        match c {
            '\\' | '|' | '[' | ']' | '`' | '*' | '_' | '~' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Text safe in a Markdown code span inside a table cell.
pub fn md_code(text: &str) -> String {
    format!(
        "`{}`",
        crate::text::visible(text)
            .replace('`', "'")
            .replace('|', "\\|")
            .replace(['\n', '\r'], " ")
    )
}

fn md_row(e: &Entry) -> String {
    format!(
        "| {} | {} | {} | {} | {} |\n",
        md(&e.person.email),
        e.access.name(),
        md(&how(e)),
        account(e),
        expires(e)
    )
}

/// Every room as a Markdown section with a table of people and a list of links.
pub fn markdown(view: &AccessView) -> String {
    let mut out = String::from("## Who can enter what\n\n");
    for p in &view.partial {
        out.push_str(&format!("> **Partial view:** {}.\n\n", md(p)));
    }
    for r in &view.rooms {
        out.push_str(&format!("### {}\n\n", md(&room_head(r))));
        out.push_str("| Person | Access | How | Account | Expires |\n|---|---|---|---|---|\n");
        for e in &r.people {
            out.push_str(&md_row(e));
        }
        if !r.links.is_empty() {
            out.push('\n');
            for l in &r.links {
                out.push_str(&format!("- {}\n", md(&link(l))));
            }
        }
        if r.links_hidden {
            out.push_str("\n- links not shown: the key's user does not manage this room\n");
        }
        out.push('\n');
    }
    out
}

/// One person's rooms as a Markdown table.
pub fn person_markdown(view: &AccessView, email: &str) -> String {
    let mut out = format!(
        "## Rooms {} can enter\n\n",
        md(&crate::model::normalise_email(email))
    );
    for p in &view.partial {
        out.push_str(&format!("> **Partial view:** {}.\n\n", md(p)));
    }
    out.push_str("| Room | Access | How | Account | Expires |\n|---|---|---|---|---|\n");
    for (r, e) in view.of_person(email) {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            md(&room_head(r)),
            e.access.name(),
            md(&how(e)),
            account(e),
            expires(e)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_cells_carry_no_links_emphasis_html_or_cell_breaks() {
        let cell = md("[click](http://evil.test) ![i](x) *a* _b_ `c` <b>|\nnext &amp;");
        assert_eq!(
            cell,
            "\\[click\\](http://evil.test) \\!\\[i\\](x) \\*a\\* \\_b\\_ \\`c\\` &lt;b&gt;\\|\\\\u{a}next &amp;amp;"
        );
        assert_eq!(
            md_code("rooms_tagged.a`|b.require"),
            "`rooms_tagged.a'\\|b.require`"
        );
    }

    #[test]
    fn csv_cells_defuse_formulas_and_controls() {
        assert_eq!(cell("=1+1"), "'=1+1");
        assert_eq!(cell("-2+3,x"), "\"'-2+3,x\"");
        assert_eq!(cell("@sam@x.test"), "'@sam@x.test");
        // Tab and carriage return are written visibly, so they cannot lead a formula.
        assert!(!cell("\t=1").starts_with('\t'), "{}", cell("\t=1"));
        assert!(!cell("\r=1").contains('\r'));
    }
}
