//! The live portal as a canonical manifest (`export`): rooms sorted by title (then id), each
//! pinned with `id:`, people sorted by email, then groups by name; pending invitations marked
//! by a comment; the schema modeline on top. No timestamps, so `export --check` can compare.
//!
//! The output is written by hand rather than by a YAML serialiser so it can carry comments;
//! every string that is not plainly safe is written as a JSON string, which is also a valid
//! YAML double-quoted scalar.

use std::fmt::Write;

use crate::links::ObservedLink;
use crate::manifest::Quota;
use crate::model::{RoomType, SubjectKind};
use crate::room_settings::RoomSettings;
use crate::state::{MemberSubject, Observed, ObservedMember, ObservedRoom};

/// Renders the observed portal as a manifest.
pub fn manifest(observed: &Observed) -> String {
    let mut out = String::new();
    write_header(&mut out, observed);
    let mut rooms: Vec<_> = observed.rooms.iter().collect();
    rooms.sort_by(|a, b| a.title.cmp(&b.title).then(a.id.cmp(&b.id)));
    let manageable: Vec<_> = rooms
        .iter()
        .filter(|r| r.room_type.is_some_and(|t| RoomType::MANIFEST.contains(&t)))
        .collect();
    if manageable.is_empty() {
        out.push_str("rooms: []\n");
    } else {
        out.push_str("rooms:\n");
    }
    for room in &rooms {
        write_room(&mut out, observed, room);
    }
    write_connected_rooms(&mut out, observed);
    write_groups(&mut out, observed);
    write_people(&mut out, observed);
    write_templates(&mut out, observed);
    out
}

/// The portal's groups as `groups:`, sorted by name (then id), each pinned with `id:`, with
/// its manager and people (guests and accounts without an email are comments: a manifest
/// cannot put them in a group). Additive, as rooms are: applying the export removes no one.
fn write_groups(out: &mut String, observed: &Observed) {
    let mut groups: Vec<_> = observed.org.groups.values().collect();
    if groups.is_empty() {
        return;
    }
    groups.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    out.push_str(
        "groups:
",
    );
    for g in groups {
        let _ = writeln!(out, "  - name: {}", quote(&g.name));
        let _ = writeln!(out, "    id: {}", quote(&g.id));
        let manager = g.manager_user().filter(|m| !m.email.is_empty());
        if let Some(m) = manager {
            let _ = writeln!(out, "    manager: {}", quote(&m.email));
        }
        let mut people: Vec<_> = g
            .members
            .iter()
            .filter(|m| manager.is_none_or(|mg| mg.id != m.id))
            .collect();
        people.sort_by(|a, b| a.email.cmp(&b.email));
        if people.is_empty() {
            continue;
        }
        out.push_str(
            "    people:
",
        );
        for p in people {
            if p.email.is_empty() {
                let _ = writeln!(out, "      # skipped user {} (no email address)", p.id);
                continue;
            }
            if !p.user_type.may_be_group_member() {
                let _ = writeln!(
                    out,
                    "      # skipped {} (a guest: a manifest cannot put guests in a group)",
                    quote(&p.email)
                );
                continue;
            }
            let _ = writeln!(out, "      - {}", quote(&p.email));
        }
    }
}

/// Every account as `people:` with its type (`export --people`), sorted by email; disabled
/// accounts are comments (the tool never changes them).
fn write_people(out: &mut String, observed: &Observed) {
    let Some(people) = &observed.org.people else {
        return;
    };
    let mut people: Vec<_> = people.iter().filter(|p| !p.email.is_empty()).collect();
    people.sort_by(|a, b| a.email.cmp(&b.email));
    if people.is_empty() {
        return;
    }
    out.push_str("people:\n");
    for p in people {
        if p.terminated {
            let _ = writeln!(out, "  # skipped {} (disabled account)", quote(&p.email));
            continue;
        }
        let comment = if p.pending {
            "  # pending invitation (not registered yet)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "  - {{email: {}, type: {}}}{comment}",
            quote(&p.email),
            p.user_type.name()
        );
    }
}

/// The portal's room templates, as comments: a room may name one with `template:`. The
/// export never writes `template:` itself: a room does not show which template made it.
fn write_templates(out: &mut String, observed: &Observed) {
    if observed.templates.is_empty() {
        return;
    }
    out.push_str(
        "# Room templates on the portal (a new room can be made from one with `template: TITLE`):
",
    );
    for t in &observed.templates {
        let kind = t
            .room_type
            .map_or_else(|| "unknown type".to_string(), |k| k.name().to_string());
        let _ = writeln!(out, "#   {} (id {}, {kind})", quote(&t.title), t.id);
    }
}

/// The schema modeline, where the export came from, and the format version.
fn write_header(out: &mut String, observed: &Observed) {
    out.push_str("# yaml-language-server: $schema=manifest.schema.json\n");
    out.push_str("# (write the schema next to this file with: docspace-provision schema > manifest.schema.json)\n");
    let _ = writeln!(
        out,
        "# Exported from {} by docspace-provision.",
        observed.portal
    );
    out.push_str("version: 1\n");
}

/// One room as a manifest entry, or as a comment when its type is not managed by this tool.
fn write_room(out: &mut String, observed: &Observed, room: &ObservedRoom) {
    let Some(room_type) = room.room_type.filter(|t| RoomType::MANIFEST.contains(t)) else {
        let _ = writeln!(
            out,
            "  # skipped room {} (id {}): its type ({}) is not managed by this tool",
            quote(&room.title),
            room.id,
            room.raw_room_type.unwrap_or_default()
        );
        return;
    };
    write_room_fields(out, room_type, room);
    if let Some(links) = observed.links.get(&room.id) {
        write_links(out, room_type, links);
    }
    let members = observed
        .members
        .get(&room.id)
        .map(Vec::as_slice)
        .unwrap_or_default();
    write_invitees(out, room_type, members);
}

/// A managed room's own fields: title, type, id, tags, quota, download, settings, state.
fn write_room_fields(out: &mut String, room_type: RoomType, room: &ObservedRoom) {
    let _ = writeln!(out, "  - title: {}", quote(&room.title));
    let _ = writeln!(out, "    type: {}", room_type.name());
    let _ = writeln!(out, "    id: {}", room.id);
    if !room.tags.is_empty() {
        let tags: Vec<String> = room.tags.iter().map(|t| quote(t)).collect();
        let _ = writeln!(out, "    tags: [{}]", tags.join(", "));
    }
    if room.custom_quota
        && let Some(q) = room.quota
    {
        let _ = writeln!(out, "    quota: {}", quota_text(q));
    }
    if room.deny_download == Some(true) {
        out.push_str("    deny_download: true\n");
    }
    settings(out, room_type, &room.settings);
    if room.archived {
        out.push_str("    state: archived\n");
    }
}

/// A room quota as the manifest writes it: `unlimited` for a negative quota, a whole unit
/// without the space (`10GB`) where one fits, otherwise plain bytes.
fn quota_text(q: i64) -> String {
    match q {
        q if q < 0 => "unlimited".to_string(),
        q => match Quota::Bytes(q as u64).human() {
            h if h.ends_with("bytes") => q.to_string(),
            h => h.replace(' ', ""),
        },
    }
}

/// A room's members other than the owner as `invitees:`, sorted; a member the manifest
/// could not express (an access not valid in this room type, a user without an email) is
/// a comment instead. Nothing is written when only the owner is a member.
fn write_invitees(out: &mut String, room_type: RoomType, members: &[ObservedMember]) {
    let mut rows: Vec<&ObservedMember> = members.iter().filter(|m| !m.is_owner).collect();
    rows.sort_by_key(|a| sort_key(a));
    if rows.is_empty() {
        return;
    }
    out.push_str("    invitees:\n");
    for m in rows {
        let kind = match m.subject {
            MemberSubject::User(_) => SubjectKind::User,
            MemberSubject::Group(_) => SubjectKind::Group,
        };
        let Some(access) = m.access.filter(|a| room_type.allows(*a, kind)) else {
            let _ = writeln!(
                out,
                "      # skipped {} (access {} is not valid for it in a {} room)",
                quote(m.label()),
                m.raw_access,
                room_type
            );
            continue;
        };
        match &m.subject {
            MemberSubject::User(u) => {
                if u.email.is_empty() {
                    let _ = writeln!(out, "      # skipped user {} (no email address)", u.id);
                    continue;
                }
                let comment = if u.pending {
                    "  # pending invitation (not registered yet)"
                } else {
                    ""
                };
                let _ = writeln!(out, "      - email: {}{comment}", quote(&u.email));
            }
            MemberSubject::Group(g) => {
                let _ = writeln!(out, "      - group: {}", quote(&g.name));
            }
        }
        let _ = writeln!(out, "        access: {}", access.name());
    }
}

/// Rooms in connected storage, as comments sorted by title (then id).
fn write_connected_rooms(out: &mut String, observed: &Observed) {
    let mut connected: Vec<_> = observed.connected_rooms.iter().collect();
    connected.sort_by(|a, b| a.title.cmp(&b.title).then(a.id.cmp(&b.id)));
    for room in connected {
        // Out of reach of the integer-id endpoints (docs/docspace-api.md, "Rooms in
        // connected storage"): recorded so that a reader knows it exists, never managed.
        let _ = writeln!(
            out,
            "  # skipped room {} (id {}{}): kept in connected storage, which this tool cannot manage",
            quote(&room.title),
            quote(&room.id),
            room.provider
                .as_deref()
                .map(|p| format!(", {}", quote(p)))
                .unwrap_or_default()
        );
    }
}

/// A room's sharing links as `links:` (docs/docspace-api.md, "Sharing links"), by title.
/// A password is never read back into a manifest: a link that has one gets
/// `keep_password: true` ("keep the password it has"), so that applying the export as
/// written changes nothing.
/// Expired links and links the manifest could not express are comments only, so that a plan
/// of the export leaves them as they are.
fn write_links(out: &mut String, room_type: RoomType, links: &[ObservedLink]) {
    let mut links: Vec<&ObservedLink> = links.iter().collect();
    links.sort_by(|a, b| (!a.primary, &a.title, &a.id).cmp(&(!b.primary, &b.title, &b.id)));
    let mut seen = std::collections::HashSet::new();
    let mut rows = Vec::new();
    for l in links {
        let access = l
            .access
            .filter(|a| room_type.link_roles(l.kind).contains(a));
        let skipped = if l.expired {
            Some("expired".to_string())
        } else if l.title.trim().is_empty() || !seen.insert(l.title.trim().to_lowercase()) {
            Some("its title is empty or another link's".to_string())
        } else if access.is_none() {
            Some(format!(
                "access {} is not one a manifest can give it",
                l.raw_access
            ))
        } else {
            None
        };
        rows.push((l, access, skipped));
    }
    if rows.is_empty() {
        return;
    }
    out.push_str("    links:\n");
    for (l, access, skipped) in rows {
        if let Some(why) = skipped {
            let _ = writeln!(
                out,
                "      # skipped {} link {} ({why}); it is left as it is",
                l.kind,
                quote(&l.title)
            );
            continue;
        }
        let primary = if l.primary {
            "  # the room's primary link"
        } else {
            ""
        };
        let _ = writeln!(out, "      - title: {}{primary}", quote(&l.title));
        let _ = writeln!(out, "        kind: {}", l.kind);
        if let Some(a) = access {
            let _ = writeln!(out, "        access: {}", a.name());
        }
        if let Some(at) = &l.expires {
            let _ = writeln!(
                out,
                "        expires: {}",
                at.with_timezone(&chrono::Utc)
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            );
        }
        if l.internal {
            out.push_str("        internal: true\n");
        }
        if l.deny_download {
            out.push_str("        deny_download: true\n");
        }
        if let Some(n) = l.max_uses {
            let _ = writeln!(out, "        max_uses: {n}");
        }
        if l.has_password {
            out.push_str("        keep_password: true  # or password_env: NAME, the environment variable that holds a new password (never the password itself)\n");
        }
    }
}

/// The room settings of issue 13 (docs/docspace-api.md, "Room settings"). The colour is left
/// out: the server gives every room one, picked at random when none is asked for, so an
/// exported colour would pin noise; a manifest that writes `color:` manages it. Indexing,
/// lifetime and watermark are written for virtual data rooms only, the rooms validation
/// accepts them in; an image watermark, which the tool does not manage, is only mentioned.
fn settings(out: &mut String, room_type: RoomType, s: &RoomSettings) {
    if let Some(cover) = &s.cover {
        let _ = writeln!(out, "    cover: {}", quote(cover));
    }
    if s.indexing == Some(true) && room_type.takes_indexing() {
        out.push_str("    indexing: true\n");
    }
    if let Some(l) = s.lifetime.filter(|_| room_type.takes_lifetime()) {
        let _ = writeln!(
            out,
            "    lifetime: {{value: {}, period: {}, delete_permanently: {}}}",
            l.value, l.period, l.delete_permanently
        );
    } else if s.lifetime_unknown && room_type.takes_lifetime() {
        out.push_str("    # skipped lifetime: the portal returned one this tool cannot read\n");
    }
    if !room_type.takes_watermark() {
        return;
    }
    if s.watermark_image {
        out.push_str("    # skipped watermark: an image watermark, not managed by this tool\n");
    }
    if let Some(w) = &s.watermark {
        out.push_str("    watermark:\n");
        if let Some(t) = &w.text {
            let _ = writeln!(out, "      text: {}", quote(t));
        }
        if !w.additions.is_empty() {
            let names: Vec<&str> = w.additions.iter().map(|a| a.name()).collect();
            let _ = writeln!(out, "      additions: [{}]", names.join(", "));
        }
        if w.rotation != 0 {
            let _ = writeln!(out, "      rotation: {}", w.rotation);
        }
    }
}

/// People first (by email), then groups (by name).
fn sort_key(m: &ObservedMember) -> (u8, String) {
    match &m.subject {
        MemberSubject::User(u) => (0, u.email.clone()),
        MemberSubject::Group(g) => (1, g.name.to_lowercase()),
    }
}

/// A YAML scalar for `text`: plain when it is unambiguously a string, else a JSON string.
fn quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, ' ' | '.' | '_' | '-' | '@' | '(' | ')')
        })
        && !text.starts_with([' ', '-', '.', '@'])
        && !text.ends_with(' ')
        && text.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && !matches!(
            text.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | "null" | "unlimited"
        );
    if plain && text != "unlimited" {
        text.to_string()
    } else {
        serde_json::to_string(text).expect("strings serialise")
    }
}

/// Reads what an export shows: the rooms whose titles match `titles` (`--room` patterns;
/// every room when empty) with their
/// members and links (one call per room each). An export is a whole manifest, so a room whose
/// links cannot be read is an error, and so is a title that names no room.
pub async fn read<A: crate::docspace::DocSpaceApi>(
    api: &A,
    portal: &str,
    titles: &[String],
) -> miette::Result<Observed> {
    let mut observed = crate::state::read_all(api, portal, titles).await?;
    // Listed as comments only; an export without them is still whole.
    match crate::state::read_templates(api).await {
        Ok(templates) => observed.templates = templates,
        Err(e) => tracing::warn!("the portal's room templates could not be listed: {e}"),
    }
    let ids = observed.rooms.iter().map(|r| r.id).collect();
    crate::state::read_links(api, &mut observed, &ids).await?;
    if let Some((id, e)) = observed.links_unreadable.iter().next() {
        miette::bail!("the links of room {id} could not be read: {e}");
    }
    let live = observed.rooms.iter().map(|r| r.title.as_str());
    let connected = observed.connected_rooms.iter().map(|r| r.title.as_str());
    let missing: Vec<String> = crate::model::pattern::unmatched(titles, live.chain(connected))
        .iter()
        .map(|t| format!("`{t}`"))
        .collect();
    if !missing.is_empty() {
        miette::bail!(
            help = "titles are matched as the portal stores them, case-sensitively (`*` matches any text, `?` one character)",
            "no room titled {} on the portal",
            missing.join(", ")
        );
    }
    Ok(observed)
}

/// A unified diff of two texts (for `export --check`), empty when they are equal.
pub fn diff(old_name: &str, old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(old_name, "portal (export)")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_keeps_yaml_strings_strings() {
        assert_eq!(quote("Project Collaboration"), "Project Collaboration");
        assert_eq!(quote("Q3: Plans"), "\"Q3: Plans\"");
        assert_eq!(quote("yes"), "\"yes\"");
        assert_eq!(quote("2026"), "\"2026\"");
        assert_eq!(quote("a #b"), "\"a #b\"");
        assert_eq!(quote("unlimited"), "\"unlimited\"");
        assert_eq!(quote("x@y.z"), "x@y.z");
    }
}
