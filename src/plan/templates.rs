//! `template:` resolved among the portal's templates (docs/docspace-api.md, "Room
//! templates"): by id, or by title in the form the server stores titles. An unknown or
//! ambiguous template, or one whose room type is not the manifest room's, is a located
//! error, so nothing is written.

use super::PlannedTemplate;
use crate::manifest::{Desired, DesiredRoom, Problem};
use crate::model::{self, template::TemplateRef};
use crate::state::{Observed, ObservedTemplate};

/// How many of the portal's templates an "unknown template" error lists.
const LISTED: usize = 10;

/// The template a room to be created uses, if it names one; `Err` when a problem (pushed to
/// `problems`) forbids the room's plan.
pub(super) fn resolve(
    desired: &Desired,
    observed: &Observed,
    room: &DesiredRoom,
    problems: &mut Vec<Problem>,
) -> Result<Option<PlannedTemplate>, ()> {
    let Some(wanted) = &room.template else {
        return Ok(None);
    };
    let candidates: Vec<&ObservedTemplate> = observed
        .templates
        .iter()
        .filter(|t| match &wanted.reference {
            TemplateRef::Id(id) => t.id == *id,
            TemplateRef::Title(title) => model::title_matches(&t.title, title),
        })
        .collect();
    let at = |code: &'static str, message: String, label: &str, help: String| {
        Problem::error(code, message)
            .at(
                &desired.files[wanted.origin.file],
                wanted.origin.span,
                label,
            )
            .with_help(help)
    };
    let label = wanted.reference.label();
    let problem = match candidates.as_slice() {
        [] => at(
            "portal::unknown_template",
            format!(
                "room `{}` names template {label}, but the portal has no such template that this key can see",
                room.title
            ),
            "unknown template",
            available(observed),
        ),
        [one] if one.room_type == Some(room.room_type) => {
            return Ok(Some(PlannedTemplate {
                id: one.id,
                title: one.title.clone(),
            }));
        }
        [one] => {
            let kind = one
                .room_type
                .map_or_else(|| "an unknown type of".to_string(), |t| t.to_string());
            at(
                "portal::template_type_differs",
                format!(
                    "template `{}` (id {}) makes {kind} rooms, but room `{}` is `type: {}`",
                    one.title, one.id, room.title, room.room_type
                ),
                "type differs",
                format!(
                    "a room made from a template has the template's type: write `type: {kind}`, or choose another template"
                ),
            )
        }
        many => {
            let ids: Vec<String> = many.iter().map(|t| t.id.to_string()).collect();
            at(
                "portal::ambiguous_template",
                format!(
                    "{} templates on the portal are titled {label} (ids {})",
                    many.len(),
                    ids.join(", ")
                ),
                "ambiguous template",
                format!(
                    "name the one you mean by its id: `template: {}`",
                    many[0].id
                ),
            )
        }
    };
    problems.push(problem);
    Err(())
}

/// The help of an unknown template: the templates the key can see, or that there are none.
fn available(observed: &Observed) -> String {
    if observed.templates.is_empty() {
        return "the portal has no room templates this key can see (templates are made in the web UI: a room's menu, \"Save as template\")".to_string();
    }
    let mut names: Vec<String> = observed
        .templates
        .iter()
        .take(LISTED)
        .map(|t| format!("`{}` (id {})", t.title, t.id))
        .collect();
    if observed.templates.len() > LISTED {
        names.push(format!("and {} more", observed.templates.len() - LISTED));
    }
    format!("the portal's templates: {}", names.join(", "))
}
