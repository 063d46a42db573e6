//! Plans for people (Terraform-like text, Markdown for pull-request comments) and for
//! programs (versioned JSON).

use std::fmt::Write;

use anstyle::{AnsiColor, Style};

use super::{paint, visible};
use crate::manifest::Quota;
use crate::model::{Access, Lifetime, Watermark};
use crate::plan::org::{GroupChange, OrgNote};
use crate::plan::{
    Action, Change, Item, Member, Plan, RemovalReason, RoomChange, RoomNote, RoomPlan,
    RoomSettings, SettingChange, Summary, Target,
};

/// GitHub refuses comments over 65,536 characters; stay clearly below.
pub const MARKDOWN_LIMIT: usize = 65_000;

const GREEN: Style = AnsiColor::Green.on_default();
const YELLOW: Style = AnsiColor::Yellow.on_default();
const RED: Style = AnsiColor::Red.on_default();
const BOLD: Style = Style::new().bold();

/// The closing line, e.g. `Plan: 2 rooms to create, 1 to update; 14 invitations, 1 access
/// change, 0 removals.`
/// The note `plan` and `apply` print when the key's user is not a DocSpace admin and the
/// plan creates rooms: the portal lists such a user only the rooms it created or is a member
/// of, so a manifest room may exist unseen, and creating it makes a second room with the
/// same title (DocSpace allows duplicate titles).
pub fn partial_view_note(email: &str, creates: usize) -> String {
    format!(
        "note: partial view: the key's user ({email}) is not a DocSpace admin, so the portal \
         lists only the rooms it created or is a member of; {creates} room(s) planned as new \
         may already exist out of its sight, and creating them would make a second room with \
         the same title. Plan with a DocSpace admin's key, or pin existing rooms with `id:`.\n"
    )
}

pub fn summary_line(s: &Summary) -> String {
    if !s.has_changes() {
        return "No changes. The portal matches the manifest.".to_string();
    }
    let n = |count: usize, one: &str, many: &str| {
        format!("{count} {}", if count == 1 { one } else { many })
    };
    let prune = if s.rooms_to_prune > 0 {
        format!(", {} to prune", s.rooms_to_prune)
    } else {
        String::new()
    };
    let mut line = format!(
        "Plan: {} to create, {} to update{prune}; {}, {}, {}",
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
    let links = s.links_created + s.links_updated + s.links_revoked;
    if links > 0 {
        let downgrades = if s.link_downgrades > 0 {
            format!("; {}", n(s.link_downgrades, "downgrade", "downgrades"))
        } else {
            String::new()
        };
        line.push_str(&format!(
            ", {} ({} new, {} changed, {} revoked{downgrades})",
            n(links, "link change", "link changes"),
            s.links_created,
            s.links_updated,
            s.links_revoked
        ));
    }
    if s.resends > 0 {
        line.push_str(&format!(
            ", {}",
            n(s.resends, "invitation to resend", "invitations to resend")
        ));
    }
    if s.people_invited + s.type_changes > 0 {
        line.push_str(&format!(
            "; people: {} to invite, {}",
            s.people_invited,
            n(s.type_changes, "type change", "type changes")
        ));
    }
    if s.groups_created + s.groups_updated > 0 {
        line.push_str(&format!(
            "; groups: {} to create, {} to update ({} added, {} removed)",
            s.groups_created, s.groups_updated, s.group_additions, s.group_removals
        ));
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

/// What a line of a plan does, shown as its first character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sign {
    Add,
    Change,
    Remove,
}

impl Sign {
    /// The sign in the text plan: `+`, `~`, `-` (as Terraform).
    fn text(self) -> char {
        match self {
            Sign::Add => '+',
            Sign::Change => '~',
            Sign::Remove => '-',
        }
    }

    /// The sign in the Markdown plan's `diff` block: `!` for a change, because diff
    /// highlighters (GitHub's and GitLab's) colour `+`, `-` and `!` lines but not `~`.
    fn markdown(self) -> char {
        match self {
            Sign::Change => '!',
            other => other.text(),
        }
    }

    fn style(self) -> Style {
        match self {
            Sign::Add => GREEN,
            Sign::Change => YELLOW,
            Sign::Remove => RED,
        }
    }
}

/// A settings value as shown, with hidden characters escaped.
fn shown(text: &str) -> String {
    visible(text).into_owned()
}

fn tags_text(tags: &[String]) -> String {
    shown(&format!("[{}]", tags.join(", ")))
}

fn quota_text(q: Quota) -> String {
    super::size_human(q.wire())
}

fn access_text(a: Option<Access>) -> String {
    a.map_or_else(|| "?".to_string(), |a| a.to_string())
}

fn target_text(t: &Target) -> String {
    match t {
        Target::Group { name, .. } => format!("group {}", visible(name)),
        Target::NewGroup { name } => format!("group {} (created by this plan)", visible(name)),
        Target::User { email, .. } | Target::NewGuest { email, .. } => shown(email),
        Target::NewPerson { email } => format!("{} (invited by this plan)", shown(email)),
    }
}

fn member_text(m: &Member) -> String {
    target_text(&Target::from(m.clone()))
}

fn color_text(c: Option<&str>) -> String {
    c.map_or_else(|| "none".into(), |c| shown(&format!("#{c}")))
}

/// `6 months, to the trash` / `90 days, deleted permanently`.
fn lifetime_text(l: Option<Lifetime>) -> String {
    let Some(l) = l else {
        return "none".into();
    };
    let unit = if l.value == 1 {
        l.period.name().trim_end_matches('s')
    } else {
        l.period.name()
    };
    let end = if l.delete_permanently {
        "deleted permanently"
    } else {
        "to the trash"
    };
    format!("{} {unit}, {end}", l.value)
}

/// `"Secret" + room_name, user_email, rotated -45°`.
fn watermark_text(w: Option<&Watermark>) -> String {
    let Some(w) = w else {
        return "none".into();
    };
    let mut parts: Vec<String> = w.text.iter().map(|t| shown(&format!("{t:?}"))).collect();
    if !w.additions.is_empty() {
        let names: Vec<&str> = w.additions.iter().map(|a| a.name()).collect();
        parts.push(names.join(", "));
    }
    let mut text = parts.join(" + ");
    if w.rotation != 0 {
        let _ = write!(text, ", rotated {}°", w.rotation);
    }
    text
}

/// The lines of a create: each setting it sends (the title and the type are the header's:
/// `+ room "X" (collaboration)`).
fn create_lines(s: &RoomSettings) -> Vec<(Sign, String)> {
    let mut lines = Vec::new();
    lines.extend(s.tags.as_deref().map(|t| format!("tags: {}", tags_text(t))));
    lines.extend(s.quota.map(|q| format!("quota: {}", quota_text(q))));
    lines.extend(s.deny_download.map(|d| format!("deny_download: {d}")));
    lines.extend(
        s.color
            .as_deref()
            .map(|c| format!("color: {}", color_text(Some(c)))),
    );
    lines.extend(s.cover.as_deref().map(|c| format!("cover: {}", shown(c))));
    lines.extend(s.indexing.map(|i| format!("indexing: {i}")));
    lines.extend(
        s.lifetime
            .map(|l| format!("lifetime: {}", lifetime_text(Some(l)))),
    );
    lines.extend(
        s.watermark
            .as_ref()
            .map(|w| format!("watermark: {}", watermark_text(Some(w)))),
    );
    lines.into_iter().map(|l| (Sign::Add, l)).collect()
}

/// `field: from -> to` for one setting of a live room.
fn setting_line(c: &SettingChange) -> (Sign, String) {
    let line = match c {
        SettingChange::Title { from, to } => format!("title: {} -> {}", shown(from), shown(to)),
        SettingChange::Tags { from, to } => {
            format!("tags: {} -> {}", tags_text(from), tags_text(to))
        }
        SettingChange::Quota { from, to } => {
            format!("quota: {} -> {}", quota_text(*from), quota_text(*to))
        }
        SettingChange::DenyDownload { from, to } => format!("deny_download: {from} -> {to}"),
        SettingChange::Color { from, to } => format!(
            "color: {} -> {}",
            color_text(from.as_deref()),
            color_text(Some(to))
        ),
        SettingChange::Cover { from, to } => format!(
            "cover: {} -> {}",
            from.as_deref().map_or_else(|| "none".into(), shown),
            shown(to)
        ),
        SettingChange::Indexing { from, to } => format!("indexing: {from} -> {to}"),
        SettingChange::Lifetime { from, to } => format!(
            "lifetime: {} -> {}",
            lifetime_text(*from),
            lifetime_text(Some(*to))
        ),
        SettingChange::Watermark { from, to } => format!(
            "watermark: {} -> {}",
            watermark_text(from.as_ref()),
            watermark_text(Some(to))
        ),
    };
    (Sign::Change, line)
}

/// The lines of one item, each with its sign.
fn item_lines(item: &Item) -> Vec<(Sign, String)> {
    match &item.change {
        Change::CreateRoom { settings, .. } => create_lines(settings),
        Change::UpdateRoom { changes } => changes.iter().map(setting_line).collect(),
        Change::Invite { target, access } => {
            let mut line = format!("invite {} as {access}", target_text(target));
            match target {
                Target::NewGuest { hidden: false, .. } => {
                    line.push_str(" (new guest account, invitation email will be sent)")
                }
                Target::NewGuest { hidden: true, .. } => line.push_str(
                    " (an existing account this API key may not see: shared by email, which relates it to the key's user)",
                ),
                _ => {}
            }
            vec![(Sign::Add, line)]
        }
        Change::ChangeAccess {
            target,
            access,
            from_access,
        } => vec![(
            Sign::Change,
            format!(
                "{}: {} -> {access}",
                member_text(target),
                access_text(*from_access)
            ),
        )],
        Change::Remove {
            target,
            from_access,
            reason,
        } => {
            let why = match reason {
                RemovalReason::NotListed => "not in the manifest, members: exact".to_string(),
                RemovalReason::AccessNone => "access: none".to_string(),
                RemovalReason::Expired { at } => format!("expired {}", moment_text(*at)),
            };
            vec![(
                Sign::Remove,
                format!(
                    "remove {} (was {}; {why})",
                    member_text(target),
                    access_text(*from_access)
                ),
            )]
        }
        Change::Archive => vec![(Sign::Change, "state: present -> archived".to_string())],
        Change::Unarchive => vec![(Sign::Change, "state: archived -> present".to_string())],
        Change::Link(change) => vec![link_line(super::links::line(change))],
        Change::ResendInvitation { .. }
        | Change::InvitePerson { .. }
        | Change::ChangeUserType { .. }
        | Change::CreateGroup { .. }
        | Change::UpdateGroup { .. }
        | Change::AddGroupMember { .. }
        | Change::RemoveGroupMember { .. } => portal_item_lines(item),
    }
}

fn link_line((sign, text): (super::links::LinkSign, String)) -> (Sign, String) {
    use super::links::LinkSign;
    let sign = match sign {
        LinkSign::Add => Sign::Add,
        LinkSign::Change => Sign::Change,
        LinkSign::Remove => Sign::Remove,
    };
    (sign, text)
}

/// A room created archived: the archive step is part of the creation for a reader, not a
/// change of a room that was never present.
fn created_archived(room: &RoomPlan) -> bool {
    room.change == RoomChange::Create && room.items.iter().any(|i| i.action() == Action::Archive)
}

/// The template a room's create uses, if any.
fn room_template(room: &RoomPlan) -> Option<&crate::plan::PlannedTemplate> {
    room.items.iter().find_map(|i| match &i.change {
        Change::CreateRoom { template, .. } => template.as_ref(),
        _ => None,
    })
}

fn room_header(room: &RoomPlan) -> (Sign, String) {
    let title = visible(&room.title);
    match room.change {
        RoomChange::Create if created_archived(room) => (
            Sign::Add,
            format!("room \"{title}\" ({}, archived)", room.room_type),
        ),
        RoomChange::Create => match room_template(room) {
            Some(t) => (
                Sign::Add,
                format!("room \"{title}\" (from template \"{}\")", visible(&t.title)),
            ),
            None => (Sign::Add, format!("room \"{title}\" ({})", room.room_type)),
        },
        _ => (
            Sign::Change,
            format!(
                "room \"{title}\" ({}, id {})",
                room.room_type,
                room.room_id.unwrap_or_default()
            ),
        ),
    }
}

/// The header and item lines of one room; for a room created archived the archive item is
/// said by the header.
fn room_lines(room: &RoomPlan) -> ((Sign, String), Vec<(Sign, String)>) {
    let archived = created_archived(room);
    let lines = room
        .items
        .iter()
        .filter(|i| !(archived && i.action() == Action::Archive))
        .flat_map(item_lines)
        .collect();
    (room_header(room), lines)
}

fn room_block(room: &RoomPlan, color: bool) -> String {
    let ((sign, header), lines) = room_lines(room);
    let line =
        |sign: Sign, text: &str| paint(color, sign.style(), &format!("{} {text}", sign.text()));
    let mut out = format!("  {}\n", line(sign, &header));
    for (sign, text) in lines {
        out.push_str(&format!("      {}\n", line(sign, &text)));
    }
    for note in room.notes.iter().filter(|n| !is_guard(n)) {
        out.push_str(&format!("      # {}\n", note_text(note)));
    }
    // What a reviewer must know before apply (the removal guard) stands out.
    for note in room.notes.iter().filter(|n| is_guard(n)) {
        out.push_str(&format!("      ! {}\n", note_text(note)));
    }
    out
}

/// The lines of the plan's portal section (resends of pending invitations).
fn portal_lines(plan: &Plan) -> Vec<(Sign, String)> {
    plan.portal_items
        .iter()
        .flat_map(portal_item_lines)
        .collect()
}

fn portal_item_lines(item: &Item) -> Vec<(Sign, String)> {
    match &item.change {
        Change::ResendInvitation {
            target,
            not_resent: Some(why),
            ..
        } => vec![(
            Sign::Change,
            format!(
                "not resending the invitation to {}: {}",
                member_text(target),
                why.text()
            ),
        )],
        Change::ResendInvitation {
            target,
            age_hours,
            room,
            ..
        } => vec![(
            Sign::Change,
            format!(
                "resend the invitation to {} to join `{room}` (pending for {} days)",
                member_text(target),
                age_hours / 24
            ),
        )],
        Change::InvitePerson { email, user_type } => vec![(
            Sign::Add,
            format!(
                "invite {} as {} (new account, invitation email will be sent)",
                shown(email),
                user_type.name()
            ),
        )],
        Change::ChangeUserType { target, from, to } => vec![(
            Sign::Change,
            format!(
                "type of {}: {} -> {}",
                member_text(target),
                from.name(),
                to.name()
            ),
        )],
        Change::CreateGroup { .. }
        | Change::UpdateGroup { .. }
        | Change::AddGroupMember { .. }
        | Change::RemoveGroupMember { .. } => group_item_lines(item),
        _ => Vec::new(),
    }
}

/// The lines of a group item (`groups:`).
fn group_item_lines(item: &Item) -> Vec<(Sign, String)> {
    match &item.change {
        Change::CreateGroup { name, manager } => {
            let manager = manager
                .as_ref()
                .map(|m| format!(", manager {}", person_text(m)))
                .unwrap_or_default();
            vec![(Sign::Add, format!("group \"{}\"{manager}", visible(name)))]
        }
        Change::UpdateGroup { changes, .. } => changes
            .iter()
            .map(|c| {
                let line = match c {
                    GroupChange::Name { from, to } => {
                        format!("group \"{}\": name -> \"{}\"", visible(from), visible(to))
                    }
                    GroupChange::Manager { from, to } => format!(
                        "group \"{}\": manager {} -> {}",
                        visible(item.key.group_name().unwrap_or_default()),
                        from.as_deref().map_or_else(|| "none".into(), shown),
                        person_text(to)
                    ),
                };
                (Sign::Change, line)
            })
            .collect(),
        Change::AddGroupMember { person, .. } => vec![(
            Sign::Add,
            format!(
                "group \"{}\": add {}",
                visible(item.key.group_name().unwrap_or_default()),
                person_text(person)
            ),
        )],
        Change::RemoveGroupMember { target, .. } => vec![(
            Sign::Remove,
            format!(
                "group \"{}\": remove {} (not in the manifest, members: exact)",
                visible(item.key.group_name().unwrap_or_default()),
                member_text(target)
            ),
        )],
        _ => Vec::new(),
    }
}

/// A person of a group item: the email, and whether this run invites them.
fn person_text(p: &crate::plan::org::PersonRef) -> String {
    match p.id {
        Some(_) => shown(&p.email),
        None => format!("{} (invited by this plan)", shown(&p.email)),
    }
}

/// The notes of the portal section, as text.
fn portal_notes(plan: &Plan) -> Vec<String> {
    let mut out: Vec<String> = plan.portal_notes.iter().map(org_note_text).collect();
    if plan
        .portal_items
        .iter()
        .any(|i| i.action() == Action::ChangeUserType)
    {
        out.push("type changes go in one call per type; the server changes the people in turn and stops at a refusal, keeping the earlier changes: the report says who changed".into());
    }
    out
}

fn org_note_text(note: &OrgNote) -> String {
    match note {
        OrgNote::Seats {
            used,
            max: Some(max),
            after,
        } => format!(
            "paid seats (DocSpace admins and room admins): {used} of {max} used, {after} after this plan"
        ),
        OrgNote::Seats {
            used,
            max: None,
            after,
        } => format!(
            "paid seats (DocSpace admins and room admins): {used} used, {after} after this plan (no limit)"
        ),
        OrgNote::SeatsUnknown { needed } => format!(
            "this plan takes {needed} paid seats; the portal did not report its seats to this key (GET /api/2.0/portal/payment/quota; a key without *:read cannot read it), so they are not checked"
        ),
        OrgNote::GuestByRoom { email, room } => format!(
            "{} is made a guest by the invitation to room \"{}\" (the invite route refuses guests)",
            shown(email),
            visible(room)
        ),
    }
}

fn group_guard_text(n: usize) -> String {
    format!(
        "apply would skip {n} removal{} from groups unless --allow-removals is given",
        if n == 1 { "" } else { "s" }
    )
}

/// The portal section of the text plan: a block like a room's.
fn portal_block(plan: &Plan, color: bool) -> String {
    let line =
        |sign: Sign, text: &str| paint(color, sign.style(), &format!("{} {text}", sign.text()));
    let mut out = format!("  {}\n", line(Sign::Change, "portal"));
    for (sign, text) in portal_lines(plan) {
        out.push_str(&format!("      {}\n", line(sign, &text)));
    }
    for note in portal_notes(plan) {
        out.push_str(&format!("      # {note}\n"));
    }
    if plan.group_removals_guarded > 0 {
        out.push_str(&format!(
            "      ! {}\n",
            group_guard_text(plan.group_removals_guarded)
        ));
    }
    out
}

/// A [`RoomNote`] for people.
/// Portal text in it (titles, tags, provider names) is made visible (control and direction
/// characters escaped) like every other title.
pub fn note_text(note: &RoomNote) -> String {
    let text = match note {
        RoomNote::ConnectedNamesake { id, provider } => format!(
            "a room with this title is kept in connected storage ({}id {id}); this tool cannot manage such rooms and does not touch it",
            provider
                .as_deref()
                .map(|p| format!("{p}, "))
                .unwrap_or_default()
        ),
        RoomNote::SimilarRoom { id, title } => format!(
            "an existing room has a similar title: \"{title}\" (id {id}); if it is this room (renamed in the web UI), pin it with `id: {id}` to adopt it instead of creating another"
        ),
        RoomNote::LooksRenamed {
            id,
            title,
            shared,
            invitees,
        } => format!(
            "warning: looks like a rename of \"{title}\" (id {id}), which no manifest room matches: {shared} of this room's {invitees} invitees are members there; if it is this room, pin it with `id: {id}` to adopt it instead of creating another (--prune does not archive it while this create is planned)"
        ),
        RoomNote::TagSpelling {
            requested,
            existing,
        } => format!(
            "tag \"{requested}\" will take the portal's existing spelling \"{existing}\" (tag names are case-insensitive)"
        ),
        RoomNote::Unreadable { error } => format!(
            "could not be read, so it is left out of this plan and apply skips it: {error}; run again"
        ),
        RoomNote::TemplateIgnored { template } => format!("`template: {template}` has no effect: the room exists, and a template only shapes a room when it is created"),
        RoomNote::ArchivedLeftAlone => "archived: left as it is; its settings and members are not compared (DocSpace refuses edits to archived rooms)".to_string(),
        RoomNote::Orphan => "carries the manifest's marker tag but no manifest room matches it: --prune archives it (never deletes it)".to_string(),
        RoomNote::RemovalGuard {
            removals: _,
            reason: reason @ crate::plan::GuardReason::TooManyRooms { .. },
        } => format!(
            "archive guard: {}; apply skips this archive unless --allow-removals is given",
            crate::report::guard_reason_text(reason)
        ),
        RoomNote::PendingInvitation {
            email,
            age_hours,
            stale,
            not_resent,
            ..
        } => match not_resent {
            Some(why) => format!(
                "{}; this key cannot have it resent: {}",
                pending_text(email, age_hours.map(|h| h / 24), false),
                why.text()
            ),
            None => pending_text(email, age_hours.map(|h| h / 24), *stale),
        },
        RoomNote::RemovalGuard { removals, reason } => format!(
            "removal guard: {}; apply skips {} unless --allow-removals is given",
            crate::report::guard_reason_text(reason),
            if *removals == 1 {
                "this removal"
            } else {
                "these removals"
            }
        ),
        RoomNote::Link { note } => super::links::note_text(note),
        RoomNote::DowngradeGuard { downgrades } => super::links::downgrade_guard_text(*downgrades),
        RoomNote::ExpiredKept { subject, at, who } => format!(
            "{subject}: `expires` passed {}, but the membership is kept: the tool never removes {}",
            moment_text(*at),
            match who {
                crate::plan::KeptMember::Owner => "the room's owner",
                crate::plan::KeptMember::KeyUser => "the API key's own user",
            }
        ),
        RoomNote::UploadedLogo => "the room has an uploaded logo: `color`/`cover` are not managed while it has one (the portal shows neither)".to_string(),
        RoomNote::ExpiredNotMember { subject, at } => format!(
            "{subject}: `expires` passed {}; not a member, so nothing to remove (and not invited again)",
            moment_text(*at)
        ),
    };
    visible(&text).into_owned()
}

/// `pending invitation: x@y, sent 20 days ago, older than 14 days (...)`.
fn pending_text(email: &str, age_days: Option<i64>, stale: bool) -> String {
    let age = match age_days {
        None => "sent at an unknown date".to_string(),
        Some(0) => "sent today".to_string(),
        Some(1) => "sent 1 day ago".to_string(),
        Some(n) => format!("sent {n} days ago"),
    };
    let mut text = format!("pending invitation: {email}, {age}");
    if stale {
        let _ = write!(
            text,
            ", older than {} days (not accepted; `apply --resend-pending` sends it again)",
            crate::plan::pending::STALE_AFTER_DAYS
        );
    }
    text
}

/// One line for the pending invitations of rooms in step: `Pending invitations: 3 not yet
/// accepted in 1 room (2 older than 14 days: ...); -v lists them.` `None` when there are none.
fn pending_count_line<'a>(rooms: impl Iterator<Item = &'a RoomPlan>) -> Option<String> {
    let (mut pending, mut stale, mut in_rooms) = (0, 0, 0);
    for room in rooms {
        let before = pending;
        for note in &room.notes {
            if let RoomNote::PendingInvitation { stale: old, .. } = note {
                pending += 1;
                stale += usize::from(*old);
            }
        }
        in_rooms += usize::from(pending > before);
    }
    if pending == 0 {
        return None;
    }
    let mut line = format!(
        "Pending invitations: {pending} not yet accepted in {in_rooms} {}",
        if in_rooms == 1 { "room" } else { "rooms" }
    );
    if stale > 0 {
        let _ = write!(
            line,
            " ({stale} older than {} days: `apply --resend-pending` sends {} again)",
            crate::plan::pending::STALE_AFTER_DAYS,
            if stale == 1 { "it" } else { "them" }
        );
    }
    line.push_str("; -v lists them.");
    Some(line)
}

fn is_guard(note: &RoomNote) -> bool {
    matches!(
        note,
        RoomNote::RemovalGuard { .. } | RoomNote::DowngradeGuard { .. }
    )
}

/// A moment as plans show it: `2027-01-31 00:00 UTC`.
pub fn moment_text(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The lines about the rooms the manifest owns by its marker tag (`managed_tag`): how many
/// carry it, how many rooms are unmanaged, and each orphan with what happens to it. `quote`
/// makes portal text safe for the format (plain text or Markdown code spans).
pub fn managed_lines(plan: &Plan, quote: &dyn Fn(&str) -> String) -> Vec<String> {
    let Some(m) = &plan.managed else {
        return Vec::new();
    };
    let mut lines = vec![format!(
        "Managed rooms: {} on the portal {} the marker tag {}; {} not managed by this manifest {} left alone.",
        rooms(m.marked_rooms),
        carry(m.marked_rooms),
        quote(&m.tag),
        rooms(m.unmanaged_rooms),
        if m.unmanaged_rooms == 1 { "is" } else { "are" },
    )];
    lines.extend(orphan_lines(m, quote));
    lines.extend(undeclarable_lines(m, quote));
    lines
}

fn rooms(n: usize) -> String {
    crate::text::count(n, "room", "rooms")
}

fn carry(n: usize) -> &'static str {
    if n == 1 { "carries" } else { "carry" }
}

/// The orphans of `managed_tag`, and what pruning does with them.
fn orphan_lines(m: &crate::plan::ManagedRooms, quote: &dyn Fn(&str) -> String) -> Vec<String> {
    if m.orphans.is_empty() {
        return Vec::new();
    }
    let archived = m.orphans.iter().filter(|o| o.renamed_to.is_none()).count();
    let who = if m.prune {
        "this plan archives"
    } else {
        "`apply --prune` archives"
    };
    let what = if archived == m.orphans.len() {
        let (it, deletes) = if archived == 1 {
            ("it", "deletes it")
        } else {
            ("them", "deletes them")
        };
        format!("{who} {it} (never {deletes})")
    } else if archived == 0 {
        let kept = if m.orphans.len() == 1 {
            "it looks renamed and is kept"
        } else {
            "they look renamed and are kept"
        };
        format!("{who} none of them: {kept}")
    } else {
        format!(
            "{who} {archived} of them (never deletes them); the others look renamed and are kept"
        )
    };
    let mut lines = vec![format!(
        "Orphans: {} {} the marker tag but no manifest room; {what}:",
        rooms(m.orphans.len()),
        carry(m.orphans.len()),
    )];
    for o in &m.orphans {
        let mut line = format!("  - {} ({}, id {})", quote(&o.title), o.room_type, o.id);
        if let Some(to) = &o.renamed_to {
            let _ = write!(
                line,
                ": not archived, looks renamed to {} (most of that room's invitees are members here); pin `id: {}` on that room to adopt it",
                quote(to),
                o.id
            );
        }
        lines.push(line);
    }
    lines
}

/// Marked rooms of types a manifest cannot declare, which pruning never touches.
fn undeclarable_lines(
    m: &crate::plan::ManagedRooms,
    quote: &dyn Fn(&str) -> String,
) -> Vec<String> {
    if m.undeclarable.is_empty() {
        return Vec::new();
    }
    let n = m.undeclarable.len();
    let mut lines = vec![format!(
        "Never pruned: {} {} the marker tag but {} of a type a manifest cannot declare:",
        rooms(n),
        carry(n),
        if n == 1 { "is" } else { "are" },
    )];
    for u in &m.undeclarable {
        let kind = match u.room_type {
            Some(t) => t.to_string(),
            None => format!("type {}", u.raw_room_type.unwrap_or_default()),
        };
        lines.push(format!("  - {} ({kind}, id {})", quote(&u.title), u.id));
    }
    lines
}

/// The warning about memberships whose `expires:` falls within the plan's warning window:
/// a scheduled drift check announces these before access ends.
pub fn expiring_lines(plan: &Plan, quote: &dyn Fn(&str) -> String) -> Vec<String> {
    let Some(soon) = &plan.expiring else {
        return Vec::new();
    };
    let n = soon.memberships.len();
    let mut lines = vec![format!(
        "Warning: {} within {} {}:",
        if n == 1 {
            "1 membership expires".to_string()
        } else {
            format!("{n} memberships expire")
        },
        soon.within_days,
        if soon.within_days == 1 { "day" } else { "days" }
    )];
    for e in &soon.memberships {
        lines.push(format!(
            "  - {} / {}: access ends {}",
            quote(&e.room),
            quote(&e.subject),
            moment_text(e.at)
        ));
    }
    lines
}

/// The line about rooms in connected storage, when the portal has any.
pub fn connected_line(plan: &Plan) -> Option<String> {
    match plan.unmanaged_connected_rooms {
        0 => None,
        1 => Some("Note: 1 room in connected storage is not managed (DocSpace's own API does not reach it by id).".into()),
        n => Some(format!("Note: {n} rooms in connected storage are not managed (DocSpace's own API does not reach them by id).")),
    }
}

/// One room as the body of a Markdown `diff` block: the sign in column one (where diff
/// highlighters look for it), the nesting after it.
fn room_diff(room: &RoomPlan) -> String {
    let ((sign, header), lines) = room_lines(room);
    let mut out = format!("{} {header}\n", sign.markdown());
    for (sign, text) in lines {
        out.push_str(&format!("{}     {text}\n", sign.markdown()));
    }
    for note in room.notes.iter().filter(|n| !is_guard(n)) {
        out.push_str(&format!("#     {}\n", note_text(note)));
    }
    // What a reviewer must know before apply (the guards) closes the block, as in the text.
    for note in room.notes.iter().filter(|n| is_guard(n)) {
        out.push_str(&format!("#     ! {}\n", note_text(note)));
    }
    out
}

/// A fenced code block that its content cannot close: the fence is longer than any run of
/// backticks inside (CommonMark closes a fence only with one at least as long).
fn fenced(info: &str, body: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in body.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat((longest + 1).max(3));
    format!("{fence}{info}\n{body}{fence}\n")
}

/// An inline code span that its content cannot close (same rule as [`fenced`]).
fn code_span(text: &str) -> String {
    let text = visible(text);
    if !text.contains('`') {
        return format!("`{text}`");
    }
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let ticks = "`".repeat(longest + 1);
    format!("{ticks} {text} {ticks}")
}

/// The plan's summary with rooms created archived counted as creations only: their archive
/// step is shown as part of the creation (`+ room "X" (public, archived)`), not as a change.
fn shown_summary(plan: &Plan) -> Summary {
    let mut s = plan.summary;
    let created_archived = plan.rooms.iter().filter(|r| created_archived(r)).count();
    s.archives = s.archives.saturating_sub(created_archived);
    s
}

/// The Terraform-like text plan, with the pending invitations of rooms in step summed up in
/// one line (see [`text_with`]).
pub fn text(plan: &Plan, color: bool) -> String {
    text_with(plan, color, false)
}

/// The Terraform-like text plan. Rooms with changes show every note in their block; of the
/// rooms in step, the pending-invitation notes are summed up in one line (they would
/// otherwise repeat on every run that changes nothing) unless `all_notes` (`-v`) lists each.
pub fn text_with(plan: &Plan, color: bool, all_notes: bool) -> String {
    let mut out = changes_text(plan, color);
    out.push_str(&in_step_text(plan, all_notes));
    let plain = |t: &str| format!("\"{}\"", visible(t));
    if let Some(line) = filter_line(plan, &plain) {
        let _ = writeln!(out, "{}", paint(color, YELLOW, &line));
    }
    if let Some(line) = connected_line(plan) {
        let _ = writeln!(out, "{line}");
    }
    for line in managed_lines(plan, &plain) {
        let _ = writeln!(out, "{line}");
    }
    for line in expiring_lines(plan, &plain) {
        let _ = writeln!(out, "{}", paint(color, YELLOW, &line));
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
    out.push_str(&paint(color, BOLD, &closing_line(plan)));
    out.push('\n');
    if let Some(line) = write_calls_line(&plan.summary, plan.guarded_write_calls()) {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The changed rooms' blocks and the portal section, under one heading.
fn changes_text(plan: &Plan, color: bool) -> String {
    let mut out = String::new();
    let changed: Vec<&RoomPlan> = plan
        .rooms
        .iter()
        .filter(|r| r.change != RoomChange::Unchanged)
        .collect();
    if changed.is_empty() && plan.portal_items.is_empty() {
        return out;
    }
    out.push_str(&format!("Portal: {}\n\n", visible(&plan.portal)));
    out.push_str("docspace-provision will make these changes (+ create, ~ change, - remove):\n\n");
    for room in changed {
        out.push_str(&room_block(room, color));
        out.push('\n');
    }
    if !plan.portal_items.is_empty() {
        out.push_str(&portal_block(plan, color));
        out.push('\n');
    }
    out
}

/// The notes of rooms in step (their pending invitations summed up unless `all_notes`).
fn in_step_text(plan: &Plan, all_notes: bool) -> String {
    let mut out = String::new();
    let in_step = || {
        plan.rooms
            .iter()
            .filter(|r| r.change == RoomChange::Unchanged)
    };
    for room in in_step() {
        for note in room.notes.iter().filter(|n| all_notes || !summed_up(n)) {
            let _ = writeln!(
                out,
                "  = room \"{}\" (id {}): {}",
                room.title,
                room.room_id.unwrap_or_default(),
                note_text(note)
            );
        }
    }
    if !all_notes && let Some(line) = pending_count_line(in_step()) {
        let _ = writeln!(out, "{line}");
    }
    if !all_notes && let Some(line) = templates_ignored_line(in_step()) {
        let _ = writeln!(out, "{line}");
    }
    out
}

/// Notes of rooms in step that the text plan sums up in one line unless `-v`: they would
/// otherwise repeat for every room on every run that changes nothing.
fn summed_up(note: &RoomNote) -> bool {
    matches!(
        note,
        RoomNote::PendingInvitation { .. } | RoomNote::TemplateIgnored { .. }
    )
}

/// One line for the rooms in step whose `template:` has no effect (they exist), said once.
fn templates_ignored_line<'a>(rooms: impl Iterator<Item = &'a RoomPlan>) -> Option<String> {
    let n = rooms
        .filter(|r| {
            r.notes
                .iter()
                .any(|n| matches!(n, RoomNote::TemplateIgnored { .. }))
        })
        .count();
    (n > 0).then(|| {
        format!(
            "`template:` has no effect on {n} {} that already {} (a template only shapes a room when it is created; -v lists them)",
            if n == 1 { "room" } else { "rooms" },
            if n == 1 { "exists" } else { "exist" }
        )
    })
}

/// The notes of rooms without changes (pending invitations), as a Markdown list; empty when
/// there are none. Rooms with changes show their notes in their own block.
fn unchanged_notes_markdown(plan: &Plan) -> String {
    let mut out = String::new();
    for room in plan
        .rooms
        .iter()
        .filter(|r| r.change == RoomChange::Unchanged)
    {
        for note in room
            .notes
            .iter()
            .filter(|n| !matches!(n, RoomNote::TemplateIgnored { .. }))
        {
            let _ = writeln!(
                out,
                "- room {} (id {}): {}",
                code_span(&room.title),
                room.room_id.unwrap_or_default(),
                note_text(note)
            );
        }
    }
    let in_step = plan
        .rooms
        .iter()
        .filter(|r| r.change == RoomChange::Unchanged);
    if let Some(line) = templates_ignored_line(in_step) {
        let _ = writeln!(out, "- {line}");
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

/// The plan's summary line; a partial plan without changes says that the rooms it covers
/// match, not the whole portal.
fn closing_line(plan: &Plan) -> String {
    if plan.options.filter.is_some() && !plan.has_changes() {
        return "No changes. The selected rooms match the manifest.".to_string();
    }
    summary_line(&shown_summary(plan))
}

/// The line of a plan limited by `--room` (see [`crate::plan::filter`]): it is partial, and
/// its counts and `--detailed-exitcode` cover only the rooms it names.
pub fn filter_line(plan: &Plan, quote: &dyn Fn(&str) -> String) -> Option<String> {
    let filter = plan.options.filter.as_ref()?;
    Some(format!(
        "Partial plan: only rooms matching {} (--room); the manifest's other rooms are not planned and stay as they are.",
        filter.describe(quote)
    ))
}

/// How many write requests `apply` needs, and a warning when that exceeds the portal's daily
/// write limit (`None` when there is nothing to write). `guarded` of the summary's writes are
/// refused by a guard (see [`Plan::guarded_write_calls`]): they are not counted, and the line
/// says so.
pub fn write_calls_line(s: &Summary, guarded: usize) -> Option<String> {
    if s.write_calls == 0 {
        return None;
    }
    let n = s.write_calls.saturating_sub(guarded);
    let mut line = match n {
        0 => "Apply will send no write request (POST/PUT)".to_string(),
        1 => "Apply will send 1 write request (POST/PUT)".to_string(),
        n => format!("Apply will send {n} write requests (POST/PUT)"),
    };
    if guarded > 0 {
        let _ = write!(line, ", leaving out {guarded} refused by a guard");
    }
    line.push('.');
    if n > crate::plan::DAILY_WRITE_LIMIT {
        line.push_str(&format!(
            " Warning: that is more than the portal's default daily limit of {} POST and PUT requests per user; apply stops when the portal says the limit is spent and reports what is left, so plan to run it again the next day, or split the manifest.",
            crate::plan::DAILY_WRITE_LIMIT
        ));
    }
    Some(line)
}

/// The versioned JSON plan (`format_version` 1): the same document `plan --out` saves.
pub fn json(plan: &Plan) -> String {
    // A plan is plain data (strings, numbers, enums): serialising it cannot fail.
    let mut text = serde_json::to_string_pretty(plan).unwrap_or_default();
    text.push('\n');
    text
}

/// Markdown for a pull-request comment: the summary first, then a `diff` block per room, and
/// a note instead of the rooms that do not fit under [`MARKDOWN_LIMIT`].
///
/// Everything taken from the manifest or the portal (titles, emails, group names) is inside
/// a code block that it cannot close (see [`fenced`]), with control and bidirectional
/// characters escaped, so no title can add Markdown, HTML or @mentions to the comment.
pub fn markdown(plan: &Plan) -> String {
    let mut head = String::from("### docspace-provision plan\n\n");
    let _ = writeln!(head, "**{}**\n", closing_line(plan));
    if let Some(line) = write_calls_line(&plan.summary, plan.guarded_write_calls()) {
        let _ = writeln!(head, "{line}\n");
    }
    let _ = writeln!(head, "Portal: {}\n", code_span(&plan.portal));
    if let Some(line) = filter_line(plan, &code_span) {
        let _ = writeln!(head, "{line}\n");
    }
    if let Some(line) = connected_line(plan) {
        let _ = writeln!(head, "{line}\n");
    }
    for block in [
        managed_lines(plan, &code_span),
        expiring_lines(plan, &code_span),
    ] {
        if !block.is_empty() {
            let _ = writeln!(head, "{}\n", block.join("\n"));
        }
    }
    head.push_str(&unchanged_notes_markdown(plan));
    let changed: Vec<&RoomPlan> = plan
        .rooms
        .iter()
        .filter(|r| r.change != RoomChange::Unchanged)
        .collect();
    if !plan.portal_items.is_empty() {
        let mut lines: Vec<String> = portal_lines(plan)
            .into_iter()
            .map(|(sign, text)| format!("{} {text}", sign.markdown()))
            .collect();
        // Notes inside the fenced block, as in a room's: no text can add Markdown there.
        lines.extend(portal_notes(plan).into_iter().map(|n| format!("# {n}")));
        if plan.group_removals_guarded > 0 {
            lines.push(format!(
                "# {}",
                group_guard_text(plan.group_removals_guarded)
            ));
        }
        let _ = writeln!(
            head,
            "Portal:\n\n{}",
            fenced("diff", &(lines.join("\n") + "\n"))
        );
    }
    if changed.is_empty() {
        return head;
    }
    head.push_str("`+` create or invite, `!` change, `-` remove\n\n");
    let mut body = String::new();
    let mut shown = 0;
    // Leave room for the closing note.
    let budget = MARKDOWN_LIMIT - 400;
    for room in &changed {
        let block = fenced("diff", &room_diff(room)) + "\n";
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_write_count_is_stated_and_a_daily_limit_warned_about() {
        let mut s = Summary::default();
        assert_eq!(write_calls_line(&s, 0), None);
        s.write_calls = 1;
        assert_eq!(
            write_calls_line(&s, 0).unwrap(),
            "Apply will send 1 write request (POST/PUT)."
        );
        s.write_calls = 3;
        assert_eq!(
            write_calls_line(&s, 2).unwrap(),
            "Apply will send 1 write request (POST/PUT), leaving out 2 refused by a guard."
        );
        s.write_calls = 10_000;
        assert!(!write_calls_line(&s, 0).unwrap().contains("Warning"));
        s.write_calls = 10_002;
        assert!(!write_calls_line(&s, 2).unwrap().contains("Warning"));
        s.write_calls = 10_001;
        let line = write_calls_line(&s, 0).unwrap();
        assert!(line.contains("Warning"), "{line}");
        assert!(line.contains("daily limit of 10000 POST and PUT"), "{line}");
    }
}
