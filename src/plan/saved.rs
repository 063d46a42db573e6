//! Saved plans (`plan --out`, `apply --plan`). A saved plan is an approval, not a list of
//! instructions (docs/architecture.md, "Saved plans"): `apply --plan` plans again from the
//! desired state and options the file carries ([`desired`]) and applies only the items
//! identical in both plans ([`super::approve`]). So this module only reads the file safely:
//! nothing in it is trusted to decide anything.
//!
//! The checks, in order: the size is bounded; the text is JSON (a syntax error is located by
//! line and column in the file); the format version is this release's (older plans are
//! refused with a message to plan again); every item parses (named by room, index and key
//! when it does not); the embedded desired state matches its digest (an edit is named as
//! one) and passes the same rulebook as a manifest.
//!
//! The summary is recomputed from the rooms, never read from the file.

use std::io::Read;
use std::path::Path;

use miette::{Diagnostic, NamedSource, SourceSpan};
use serde_json::Value;

use super::{FORMAT_VERSION, Item, ItemKey, Plan, RoomPlan, summarise};
use crate::manifest::{Desired, Problems, normal};

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
        help(
            "plans made before version 2 are lists of instructions this release no longer applies; run `plan --out` again with this release and apply the new plan"
        )
    )]
    Version { path: String, found: String },
    #[error("the saved plan {path} cannot be applied: {place}: {problem}")]
    #[diagnostic(
        code(saved_plan::invalid),
        help(
            "a saved plan must be as `plan --out` wrote it; make the plan again with `plan --out`"
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
    // The options are planned with again: a value the command line would refuse is refused.
    let max = super::expiry::MAX_WINDOW_DAYS;
    if plan.options.expiring_within_days > max {
        return Err(invalid(
            "the plan's options".to_string(),
            format!(
                "`expiring_within_days` is {}, more than the largest {max} the command line takes",
                plan.options.expiring_within_days
            ),
        ));
    }
    plan.summary = summarise(&plan.rooms, &plan.portal_items);
    Ok(plan)
}

/// Why the desired state a saved plan carries cannot be planned from.
#[derive(Debug)]
pub enum DesiredError {
    /// The state does not match the digest written beside it: it was edited by hand.
    Edited,
    /// The state breaks the manifest rules (every problem, located in the state as written
    /// back to text).
    Invalid(Problems),
}

/// The desired state a saved plan was computed from, read through the manifest rulebook.
pub fn desired(plan: &Plan) -> Result<Desired, DesiredError> {
    if normal::digest(&plan.desired) != plan.desired_digest {
        return Err(DesiredError::Edited);
    }
    normal::read(&plan.desired).map_err(DesiredError::Invalid)
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
            let key = item
                .get("key")
                .and_then(|k| serde_json::from_value::<ItemKey>(k.clone()).ok())
                .map(|k| k.to_string())
                .unwrap_or_default();
            if let Err(e) = serde_json::from_value::<Item>(item.clone()) {
                return Err((item_place(&place, n, &key), e.to_string()));
            }
        }
        // The rest of the room (type, change, ...) on its own too.
        if let Err(e) = serde_json::from_value::<RoomPlan>(room.clone()) {
            return Err((place, e.to_string()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_json(rooms: &str) -> String {
        format!(
            r#"{{"format_version": 2, "portal": "p", "planned_at": "2026-01-01T00:00:00Z", "manifest_hash": "",
               "options": {{"expiring_within_days": 14}}, "desired": {{}}, "desired_digest": "",
               "share": {{"notify": false}},
               "summary": {{"rooms_to_create": 0, "rooms_to_update": 0, "rooms_unchanged": 0, "invitations": 0,
               "new_guests": 0, "access_changes": 0, "removals": 0, "archives": 0, "unarchives": 0}},
               "rooms": [{rooms}]}}"#
        )
    }

    const CREATE: &str = r#"{"title": "A", "type": "custom", "room_id": null, "change": "create",
        "fingerprint": "f", "members_before": 0,
        "items": [{"key": {"kind": "room", "room": "A"}, "action": "create_room", "settings": {"title": "A"}},
                  {"key": {"kind": "member", "room": "A", "subject": "a@x.test"}, "action": "invite", "target": {"kind": "new_guest", "email": "a@x.test"}, "access": "read"}]}"#;

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
        use crate::model::Access;
        use crate::plan::{Change, Member, RemovalReason, RoomChange, RoomSettings, SettingChange};
        let mut plan = parse("p.json", plan_json(CREATE)).unwrap();
        plan.rooms[0].items[0].change = Change::CreateRoom {
            settings: RoomSettings {
                title: Some("A".into()),
                tags: Some(vec!["t".into()]),
                quota: Some(Quota::Bytes(1 << 30)),
                deny_download: Some(true),
                ..RoomSettings::default()
            },
            template: Some(crate::plan::PlannedTemplate {
                id: 7,
                title: "Project".into(),
            }),
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
            Item::new(ItemKey::room("B"), Change::Unarchive),
            Item::new(
                ItemKey::room("B"),
                Change::UpdateRoom {
                    changes: vec![SettingChange::Quota {
                        from: Quota::Unlimited,
                        to: Quota::Bytes(5),
                    }],
                },
            ),
            Item::new(
                ItemKey::member("B", "u@x.test"),
                Change::Remove {
                    target: member,
                    from_access: Some(Access::Read),
                    reason: RemovalReason::NotListed,
                },
            ),
            Item::new(ItemKey::room("B"), Change::Archive),
        ];
        plan.rooms.push(update);
        plan.summary = summarise(&plan.rooms, &plan.portal_items);
        let text = serde_json::to_string(&plan).unwrap();
        let back = parse("p.json", text).unwrap();
        assert_eq!(back, plan);
    }

    #[test]
    fn an_item_that_is_not_one_is_named_by_room_and_index() {
        let text = plan_json(&CREATE.replace(r#""action": "invite""#, r#""action": "invite_all""#));
        match parse("p.json", text) {
            Err(SavedPlanError::Invalid { place, .. }) => {
                assert!(place.starts_with("room `A`, item 2"), "{place}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn options_the_command_line_would_refuse_are_refused() {
        let text = plan_json(CREATE).replace(
            r#""expiring_within_days": 14"#,
            r#""expiring_within_days": 99999"#,
        );
        match parse("p.json", text) {
            Err(SavedPlanError::Invalid { problem, .. }) => {
                assert!(problem.contains("expiring_within_days"), "{problem}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn plans_of_format_1_are_refused_with_a_message_to_plan_again() {
        let text = plan_json(CREATE).replace(r#""format_version": 2"#, r#""format_version": 1"#);
        let e = parse("p.json", text).unwrap_err();
        assert!(matches!(e, SavedPlanError::Version { .. }));
        let help = miette::Diagnostic::help(&e).unwrap().to_string();
        assert!(help.contains("plan --out"), "{help}");
    }

    #[test]
    fn an_edited_desired_state_is_named_as_an_edit() {
        let mut plan = parse("p.json", plan_json(CREATE)).unwrap();
        plan.desired = serde_json::json!({"version": 1, "rooms": []});
        plan.desired_digest = normal::digest(&plan.desired);
        assert!(desired(&plan).is_ok());
        plan.desired =
            serde_json::json!({"version": 1, "rooms": [{"title": "X", "type": "custom"}]});
        assert!(matches!(desired(&plan), Err(DesiredError::Edited)));
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
