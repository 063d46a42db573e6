//! `access`: who can enter which room, and how (`observe::access`), rendered by
//! `render::access`. Reads only: never a write to the portal.

use std::path::PathBuf;

use miette::IntoDiagnostic;

use crate::cli::AccessFormat;
use crate::exit::ExitStatus;
use crate::manifest::Desired;
use crate::observe::access::{self, AccessView};
use crate::printer::Printer;
use crate::render;
use crate::settings::PortalSettings;

use super::portal::{self, Portal};
use super::validate;

pub struct AccessSettings {
    pub files: Vec<PathBuf>,
    pub person: Option<String>,
    pub rooms: Vec<String>,
    pub format: AccessFormat,
}

pub fn run(
    settings: AccessSettings,
    portal_settings: &PortalSettings,
    printer: &Printer,
) -> miette::Result<ExitStatus> {
    let desired = match settings.files.is_empty() {
        true => None,
        false => match validate::load(&settings.files, printer) {
            Some(d) => Some(d),
            None => return Ok(ExitStatus::Error),
        },
    };
    let rt = portal::runtime()?;
    let view = rt.block_on(async {
        let portal = portal::open(portal_settings).await?;
        let view = read(
            &portal,
            &settings.rooms,
            desired.as_ref(),
            printer,
            "access",
        )
        .await;
        portal.close().await;
        view
    })?;
    if !view.unmatched.is_empty() {
        let names: Vec<String> = view.unmatched.iter().map(|t| format!("`{t}`")).collect();
        return Err(miette::miette!(
            help = "titles are matched as the portal stores them, case-sensitively (`*` matches any text, `?` one character)",
            "no room titled {} on the portal",
            names.join(", ")
        ));
    }
    let text = match (&settings.person, settings.format) {
        (Some(p), AccessFormat::Text) => render::access::person_text(&view, p),
        (Some(p), AccessFormat::Json) => render::access::person_json(&view, p),
        (Some(p), AccessFormat::Csv) => render::access::person_csv(&view, p),
        (Some(p), AccessFormat::Markdown) => render::access::person_markdown(&view, p),
        (None, AccessFormat::Text) => render::access::text(&view),
        (None, AccessFormat::Json) => render::access::json(&view),
        (None, AccessFormat::Csv) => render::access::csv(&view),
        (None, AccessFormat::Markdown) => render::access::markdown(&view),
    };
    printer.stdout(&text).into_diagnostic()?;
    note_partial(&view, printer);
    Ok(unreadable_is_an_error(&view, printer, "the list above"))
}

/// A `note: partial view: …` line on stderr per reason the view is partial.
pub(super) fn note_partial(view: &AccessView, printer: &Printer) {
    for reason in &view.partial {
        printer.stderr(&format!("note: partial view: {reason}\n"));
    }
}

/// Exit 1, with a line on stderr, when a room could not be read whole (its share list or
/// its links): the answer printed is then not the portal's whole answer.
pub(super) fn unreadable_is_an_error(
    view: &AccessView,
    printer: &Printer,
    what: &str,
) -> ExitStatus {
    match view.unreadable_rooms() {
        0 => ExitStatus::Success,
        n => {
            printer.stderr(&format!(
                "error: {n} room(s) could not be read whole; {what} leaves them out in part. Run it again.\n"
            ));
            ExitStatus::Error
        }
    }
}

/// Checks the key's scopes for `command`, then reads who can enter what, with a progress bar
/// on a terminal for the member lists (most of the reading on a big portal).
pub(super) async fn read(
    portal: &Portal,
    rooms: &[String],
    desired: Option<&Desired>,
    printer: &Printer,
    command: &str,
) -> miette::Result<AccessView> {
    portal::check_scopes(portal, command).await?;
    printer.status(&format!("Reading {} ...\n", portal.display));
    let bar = printer.rooms_read_bar();
    let progress = |done: usize, total: usize| bar.show(done, total);
    let view = access::read(&portal.client, &portal.display, rooms, desired, &progress).await;
    bar.finish();
    Ok(view?)
}
