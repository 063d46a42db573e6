//! Saved plans (`plan --out`, `apply --plan`): a saved plan is a file a person can edit, so
//! loading one checks all of it before anything runs. A hand-edited or truncated plan is an
//! error that names the bad room and item, never a panic and never a write
//! (docs/architecture.md, "Saved plans").
//!
//! The checks, in order: the size is bounded; the text is JSON (a syntax error is located by
//! line and column in the file); the format version is this release's; every item parses
//! (named by room, index and key when it does not); then every room is consistent:
//! - titles and room ids are unique (a room listed twice would be created twice);
//! - a room is created exactly when it has no id and its first and only `create_room` item
//!   comes first; a room to update has a positive id and items; an unchanged room none;
//! - every item's key is its room's (`title`, or `title / subject` for member items), no
//!   (key, action) pair appears twice, and items are in execution order;
//! - member targets have non-empty ids, emails and names, and every access is one the room
//!   type allows (never `none` for an invitation or an access change);
//! - a room marked as an orphan (`--prune`) exists, only archives, and the plan says how
//!   many rooms carry the marker tag (what the archive guard needs, see `plan::prune`).
//!
//! The summary is recomputed from the rooms, never read from the file.

use std::collections::HashSet;
use std::io::Read;
use std::path::Path;

use miette::{Diagnostic, NamedSource, SourceSpan};
use serde_json::Value;

use super::{
    Action, Change, FORMAT_VERSION, Item, Member, Plan, RoomChange, RoomPlan, SettingChange,
    Target, summarise,
};
use crate::links::{LinkChange, LinkKind, ResolvedLink};
use crate::model::{Access, SubjectKind};

/// The largest saved plan read: ten times a plan of 10,000 rooms with a few changes each.
pub const MAX_BYTES: u64 = 32 * 1024 * 1024;

/// Why a saved plan cannot be used.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum SavedPlanError {
    #[error("cannot read the saved plan {path}: {source}")]
    #[diagnostic(code(saved_plan::unreadable))]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the saved plan {path} is larger than {} MiB, which no plan of this tool is", MAX_BYTES >> 20)]
    #[diagnostic(code(saved_plan::too_large), help("pass the file `plan --out` wrote"))]
    TooLarge { path: String },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Syntax(Box<SyntaxError>),
    #[error("{path} has plan format version {found}, this release reads {FORMAT_VERSION}")]
    #[diagnostic(
        code(saved_plan::version),
        help("make the plan again with this release")
    )]
    Version { path: String, found: String },
    #[error("the saved plan {path} cannot be applied: {place}: {problem}")]
    #[diagnostic(
        code(saved_plan::invalid),
        help(
            "a saved plan is applied as written, so it must be as `plan --out` wrote it; make the plan again with `plan --out`"
        )
    )]
    Invalid {
        path: String,
        place: String,
        problem: String,
    },
}

/// A saved plan that is not JSON, located in the file.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{path} is not a saved plan of this tool: {message}")]
#[diagnostic(
    code(saved_plan::syntax),
    help(
        "the file is not complete JSON (cut short, or edited); make the plan again with `plan --out`"
    )
)]
pub struct SyntaxError {
    path: String,
    message: String,
    #[source_code]
    source_code: NamedSource<String>,
    #[label("here")]
    at: SourceSpan,
}

/// Reads and checks the saved plan at `path`.
pub fn load(path: &Path) -> Result<Plan, SavedPlanError> {
    let name = path.display().to_string();
    let read_err = |source| SavedPlanError::Read {
        path: name.clone(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let mut text = String::new();
    // Bounded whatever the file claims to be (a pipe or a growing file has no honest size).
    let read = file
        .take(MAX_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(read_err)?;
    if read as u64 > MAX_BYTES {
        return Err(SavedPlanError::TooLarge { path: name });
    }
    parse(&name, text)
}

/// Parses and checks the text of a saved plan; `path` names it in errors.
pub fn parse(path: &str, text: String) -> Result<Plan, SavedPlanError> {
    let value: Value = serde_json::from_str(&text).map_err(|e| syntax(path, &text, &e))?;
    let invalid = |place: String, problem: String| SavedPlanError::Invalid {
        path: path.to_string(),
        place,
        problem,
    };
    match value.get("format_version").and_then(Value::as_u64) {
        Some(v) if v == u64::from(FORMAT_VERSION) => {}
        _ => {
            return Err(SavedPlanError::Version {
                path: path.to_string(),
                found: value
                    .get("format_version")
                    .map_or_else(|| "(none)".to_string(), Value::to_string),
            });
        }
    }
    check_item_shapes(&value).map_err(|(place, problem)| invalid(place, problem))?;
    let mut plan: Plan = serde_json::from_value(value)
        .map_err(|e| invalid("the plan".to_string(), e.to_string()))?;
    check(&plan).map_err(|(place, problem)| invalid(place, problem))?;
    plan.summary = summarise(&plan.rooms);
    Ok(plan)
}

/// A JSON syntax error, located in the file.
fn syntax(path: &str, text: &str, e: &serde_json::Error) -> SavedPlanError {
    let offset = offset_of(text, e.line(), e.column());
    SavedPlanError::Syntax(Box::new(SyntaxError {
        path: path.to_string(),
        message: e.to_string(),
        source_code: NamedSource::new(path, text.to_string()),
        at: SourceSpan::from((offset, 0)),
    }))
}

/// The byte offset of a 1-based line and column (serde_json counts columns in bytes),
/// clamped to the text.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let mut at = (start + column.saturating_sub(1)).min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// A problem with its place: "room `T`" or "room `T`, item N (`key`)".
type Found = (String, String);

fn room_place(n: usize, title: &str) -> String {
    if title.is_empty() {
        format!("room {}", n + 1)
    } else {
        format!("room `{title}`")
    }
}

fn item_place(room: &str, n: usize, key: &str) -> String {
    format!("{room}, item {} (`{key}`)", n + 1)
}

/// Parses every item on its own, so that an item that is not one (an unknown action, an
/// invite without a target) is named by its room, index and key.
fn check_item_shapes(value: &Value) -> Result<(), Found> {
    let Some(rooms) = value.get("rooms").and_then(Value::as_array) else {
        return Err(("the plan".into(), "it has no list of rooms".into()));
    };
    for (r, room) in rooms.iter().enumerate() {
        let title = room.get("title").and_then(Value::as_str).unwrap_or("");
        let place = room_place(r, title);
        let Some(items) = room.get("items").and_then(Value::as_array) else {
            return Err((place, "it has no list of items".into()));
        };
        for (n, item) in items.iter().enumerate() {
            let key = item.get("key").and_then(Value::as_str).unwrap_or("");
            if let Err(e) = serde_json::from_value::<Item>(item.clone()) {
                return Err((item_place(&place, n, key), e.to_string()));
            }
        }
        // The rest of the room (type, change, ...) on its own too.
        if let Err(e) = serde_json::from_value::<RoomPlan>(room.clone()) {
            return Err((place, e.to_string()));
        }
    }
    Ok(())
}

/// Checks that every room of a parsed plan is one the planner could have made.
fn check(plan: &Plan) -> Result<(), Found> {
    let mut titles = HashSet::new();
    let mut ids = HashSet::new();
    for (r, room) in plan.rooms.iter().enumerate() {
        let place = room_place(r, &room.title);
        if room.title.trim().is_empty() {
            return Err((place, "the room has no title".into()));
        }
        if !titles.insert(crate::model::sanitize_title(&room.title)) {
            return Err((
                place,
                "the room is listed twice (it would be changed, or created, twice)".into(),
            ));
        }
        if let Some(id) = room.room_id
            && !ids.insert(id)
        {
            return Err((place, format!("room id {id} is listed twice")));
        }
        check_room(room).map_err(|p| (place.clone(), p))?;
        check_orphan(plan, room).map_err(|p| (place.clone(), p))?;
        for (n, item) in room.items.iter().enumerate() {
            check_item(room, item).map_err(|p| (item_place(&place, n, &item.key), p))?;
        }
        check_items_together(room).map_err(|(n, p)| {
            let key = room.items.get(n).map_or("", |i| i.key.as_str());
            (item_place(&place, n, key), p)
        })?;
    }
    Ok(())
}

/// `change`, `room_id` and the room-level items agree.
fn check_room(room: &RoomPlan) -> Result<(), String> {
    let first_creates = room
        .items
        .first()
        .is_some_and(|i| i.action() == Action::CreateRoom);
    match (room.change, room.room_id) {
        (RoomChange::Create, Some(id)) => Err(format!(
            "`change: create` with room id {id}: a room to create has no id"
        )),
        (RoomChange::Create, None) if !first_creates => {
            Err("`change: create` needs a `create_room` item first".into())
        }
        (RoomChange::Create, None) => Ok(()),
        (_, None) => Err(format!(
            "`change: {}` without a room id: only a room to create has none",
            change_name(room.change)
        )),
        (_, Some(id)) if id <= 0 => Err(format!("room id {id} is not a room id")),
        (RoomChange::Update, Some(_)) if room.items.is_empty() => {
            Err("`change: update` with no items".into())
        }
        (RoomChange::Unchanged, Some(_)) if !room.items.is_empty() => {
            Err("`change: unchanged` with items".into())
        }
        (RoomChange::Update | RoomChange::Unchanged, Some(_)) => Ok(()),
    }
}

/// An orphan room of a `--prune` plan: an existing room whose only item archives it, in a
/// plan that counts the rooms carrying the marker (without that count the archive guard
/// could not be checked).
fn check_orphan(plan: &Plan, room: &RoomPlan) -> Result<(), String> {
    if !room.is_orphan() {
        return Ok(());
    }
    if room.change != RoomChange::Update
        || !room.items.iter().all(|i| i.action() == Action::Archive)
    {
        return Err("a room to prune (an orphan) may only be archived".into());
    }
    match &plan.managed {
        Some(m) if m.prune && m.marked_rooms >= plan.rooms.iter().filter(|r| r.is_orphan()).count() => Ok(()),
        _ => Err("a room to prune (an orphan) in a plan whose `managed` part does not prune or does not count the rooms carrying the marker tag".into()),
    }
}

fn change_name(c: RoomChange) -> &'static str {
    match c {
        RoomChange::Create => "create",
        RoomChange::Update => "update",
        RoomChange::Unchanged => "unchanged",
    }
}

/// One item is well-formed for its room.
fn check_item(room: &RoomPlan, item: &Item) -> Result<(), String> {
    let link = match &item.change {
        Change::Link(l) => Some(l),
        _ => None,
    };
    let expected_key = match (item.subject(), link) {
        (Some(subject), _) => format!("{} / {subject}", room.title),
        (None, Some(link)) => super::links::key(&room.title, link.title()),
        (None, None) => room.title.clone(),
    };
    if item.key != expected_key {
        return Err(format!(
            "the key is not this room's (expected `{expected_key}`)"
        ));
    }
    match &item.change {
        Change::CreateRoom { settings } => {
            super::settings::check(room.room_type, settings)?;
            match &settings.title {
                Some(t) if *t != room.title => Err(format!(
                    "the room would be created as `{t}`, not as its title"
                )),
                _ => Ok(()),
            }
        }
        Change::Unarchive if room.change == RoomChange::Create => {
            Err("a room to create cannot be unarchived".into())
        }
        Change::Unarchive | Change::Archive => Ok(()),
        // Resends are decided when `apply --resend-pending` runs, from a fresh read; a saved
        // plan never carries them (`plan` makes none).
        Change::ResendInvitation { .. } => Err(
            "`resend_invitation` items are made by `apply --resend-pending` and never saved".into(),
        ),
        Change::UpdateRoom { changes } if changes.is_empty() => {
            Err("`update_room` with no setting to change".into())
        }
        Change::UpdateRoom { changes } => {
            super::settings::check(room.room_type, &SettingChange::settings(changes))
        }
        Change::Invite { target, access } => {
            check_target(target)?;
            check_access(room, *access, target_kind(target))
        }
        Change::ChangeAccess { target, access, .. } => {
            check_member(target)?;
            check_access(room, *access, member_kind(target))
        }
        Change::Remove { target, .. } => check_member(target),
        Change::Link(LinkChange::Create { link }) => check_link(room, link),
        Change::Link(LinkChange::Update { link_id, link, .. }) => {
            non_empty_field("link id", link_id)?;
            check_link(room, link)
        }
        Change::Link(LinkChange::Revoke { link_id, title, .. }) => {
            non_empty_field("link id", link_id)?;
            non_empty_field("link title", title)
        }
    }
}

fn non_empty_field(what: &str, value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        Err(format!("the item has an empty {what}"))
    } else {
        Ok(())
    }
}

/// A link to create or change is one the room type takes, with the options of its kind
/// (docs/docspace-api.md, "Sharing links").
fn check_link(room: &RoomPlan, link: &ResolvedLink) -> Result<(), String> {
    non_empty_field("link title", &link.title)?;
    let (kind, room_type) = (link.kind, room.room_type);
    if !room_type.takes_link(kind) {
        return Err(format!("a {room_type} room takes no {kind} links"));
    }
    if !room_type.link_roles(kind).contains(&link.access) {
        return Err(format!(
            "{kind} links in a {room_type} room cannot grant access `{}`",
            link.access
        ));
    }
    match kind {
        LinkKind::Invitation
            if link.password.is_some()
                || link.keep_password
                || link.internal
                || link.deny_download =>
        {
            Err("an invitation link has no password, `internal` or `deny_download`".into())
        }
        LinkKind::Invitation => match link.max_uses {
            Some(n)
                if !u32::try_from(n).is_ok_and(|n| crate::model::LINK_USES_RANGE.contains(&n)) =>
            {
                Err(format!(
                    "`max_uses` {n} is not from {} to {}",
                    crate::model::LINK_USES_RANGE.start(),
                    crate::model::LINK_USES_RANGE.end()
                ))
            }
            _ => Ok(()),
        },
        LinkKind::External if link.keep_password && link.password.is_some() => {
            Err("a link both keeps its password and takes one from a variable".into())
        }
        LinkKind::External if link.max_uses.is_some() => {
            Err("an external link has no `max_uses`".into())
        }
        LinkKind::External => match &link.password {
            Some(p) if p.env_name.trim().is_empty() => {
                Err("the link's password names no environment variable".into())
            }
            _ => Ok(()),
        },
    }
}

/// Across a room's items: one create at most, no (key, action) twice, execution order.
fn check_items_together(room: &RoomPlan) -> Result<(), (usize, String)> {
    let mut seen = HashSet::new();
    let mut last_order = 0;
    for (n, item) in room.items.iter().enumerate() {
        let action = item.action();
        if action == Action::CreateRoom && n > 0 {
            return Err((n, "`create_room` can only be a room's first item".into()));
        }
        // One share change per member: the member items of a key are one batch entry.
        let kind = if action.is_share() {
            "member"
        } else {
            action.name()
        };
        if !seen.insert((item.key.as_str(), kind)) {
            return Err((n, format!("`{}` is listed twice", item.key)));
        }
        if action.order() < last_order {
            return Err((
                n,
                "the items are not in execution order (create or unarchive, settings, members, archive)"
                    .into(),
            ));
        }
        last_order = action.order();
    }
    Ok(())
}

fn check_access(room: &RoomPlan, access: Access, kind: SubjectKind) -> Result<(), String> {
    if access == Access::None {
        return Err(
            "access `none` is a removal, not an access to set (use a `remove` item)".into(),
        );
    }
    if !room.room_type.allows(access, kind) {
        return Err(format!(
            "a {} room does not allow access `{access}`",
            room.room_type
        ));
    }
    Ok(())
}

fn non_empty(what: &str, value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        Err(format!("the target has an empty {what}"))
    } else {
        Ok(())
    }
}

fn check_target(t: &Target) -> Result<(), String> {
    match t {
        Target::User { id, email } => non_empty("id", id).and(non_empty("email", email)),
        Target::NewGuest { email } => non_empty("email", email),
        Target::Group { id, name } => non_empty("id", id).and(non_empty("name", name)),
    }
}

fn check_member(m: &Member) -> Result<(), String> {
    match m {
        Member::User { id, email } => non_empty("id", id).and(non_empty("email", email)),
        Member::Group { id, name } => non_empty("id", id).and(non_empty("name", name)),
    }
}

fn target_kind(t: &Target) -> SubjectKind {
    match t {
        Target::User { .. } | Target::NewGuest { .. } => SubjectKind::User,
        Target::Group { .. } => SubjectKind::Group,
    }
}

fn member_kind(m: &Member) -> SubjectKind {
    match m {
        Member::User { .. } => SubjectKind::User,
        Member::Group { .. } => SubjectKind::Group,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_json(rooms: &str) -> String {
        format!(
            r#"{{"format_version": 1, "portal": "p", "manifest_hash": "", "share": {{"notify": false}},
               "summary": {{"rooms_to_create": 0, "rooms_to_update": 0, "rooms_unchanged": 0, "invitations": 0,
               "new_guests": 0, "access_changes": 0, "removals": 0, "archives": 0, "unarchives": 0}},
               "rooms": [{rooms}]}}"#
        )
    }

    const CREATE: &str = r#"{"title": "A", "type": "custom", "room_id": null, "change": "create",
        "fingerprint": "f", "members_before": 0,
        "items": [{"key": "A", "action": "create_room", "settings": {"title": "A"}},
                  {"key": "A / a@x.test", "action": "invite", "target": {"kind": "new_guest", "email": "a@x.test"}, "access": "read"}]}"#;

    fn problem(rooms: &str) -> String {
        match parse("p.json", plan_json(rooms)) {
            Err(SavedPlanError::Invalid { place, problem, .. }) => format!("{place}: {problem}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_plan_as_written_loads_and_its_summary_is_recomputed() {
        let plan = parse("p.json", plan_json(CREATE)).unwrap();
        assert_eq!(plan.summary.rooms_to_create, 1);
        assert_eq!(plan.summary.invitations, 1);
        assert_eq!(plan.summary.new_guests, 1);
    }

    #[test]
    fn every_kind_of_item_round_trips_through_a_saved_plan() {
        use crate::manifest::Quota;
        use crate::plan::{RemovalReason, RoomSettings, SettingChange};
        let mut plan = parse("p.json", plan_json(CREATE)).unwrap();
        plan.rooms[0].items[0].change = Change::CreateRoom {
            settings: RoomSettings {
                title: Some("A".into()),
                tags: Some(vec!["t".into()]),
                quota: Some(Quota::Bytes(1 << 30)),
                deny_download: Some(true),
                ..RoomSettings::default()
            },
        };
        let member = Member::User {
            id: "u".into(),
            email: "u@x.test".into(),
        };
        let mut update = plan.rooms[0].clone();
        update.title = "B".into();
        update.room_id = Some(7);
        update.change = RoomChange::Update;
        update.items = vec![
            Item::new("B", Change::Unarchive),
            Item::new(
                "B",
                Change::UpdateRoom {
                    changes: vec![SettingChange::Quota {
                        from: Quota::Unlimited,
                        to: Quota::Bytes(5),
                    }],
                },
            ),
            Item::new(
                "B / u@x.test",
                Change::Remove {
                    target: member,
                    from_access: Some(Access::Read),
                    reason: RemovalReason::NotListed,
                },
            ),
            Item::new("B", Change::Archive),
        ];
        plan.rooms.push(update);
        plan.summary = summarise(&plan.rooms);
        let text = serde_json::to_string(&plan).unwrap();
        let back = parse("p.json", text).unwrap();
        assert_eq!(back, plan);
    }

    #[test]
    fn a_room_listed_twice_is_refused() {
        assert!(problem(&format!("{CREATE}, {CREATE}")).contains("listed twice"));
    }

    #[test]
    fn an_update_without_id_is_refused() {
        let room = CREATE
            .replace(r#""room_id": null"#, r#""room_id": -1"#)
            .replace(r#""change": "create""#, r#""change": "update""#);
        let p = problem(&room);
        assert!(p.contains("room id -1"), "{p}");
    }

    #[test]
    fn access_none_and_foreign_keys_are_refused() {
        let p = problem(&CREATE.replace(r#""access": "read""#, r#""access": "none""#));
        assert!(p.starts_with("room `A`, item 2 (`A / a@x.test`)"), "{p}");
        let p = problem(&CREATE.replace("A / a@x.test", "B / a@x.test"));
        assert!(p.contains("expected `A / a@x.test`"), "{p}");
    }

    #[test]
    fn a_syntax_error_is_located() {
        let text = plan_json(CREATE);
        let cut = text[..text.len() / 2].to_string();
        assert!(matches!(
            parse("p.json", cut),
            Err(SavedPlanError::Syntax(_))
        ));
        assert_eq!(offset_of("ab\ncd", 2, 2), 4);
    }
}
