//! `validate`: offline checks of manifests. Every problem is shown, then a one-line summary.

use std::path::PathBuf;

use crate::exit::ExitStatus;
use crate::manifest::{self, Desired, Problems};
use crate::printer::Printer;

pub fn run(files: &[PathBuf], printer: &Printer) -> miette::Result<ExitStatus> {
    match load(files, printer) {
        Some(desired) => {
            let invitees = desired.invitee_count();
            printer.status(&format!(
                "{} valid: {} {}, {} {}\n",
                plural(desired.files.len(), "manifest file", "manifest files"),
                desired.rooms.len(),
                if desired.rooms.len() == 1 {
                    "room"
                } else {
                    "rooms"
                },
                invitees,
                if invitees == 1 { "invitee" } else { "invitees" },
            ));
            Ok(ExitStatus::Success)
        }
        None => Ok(ExitStatus::Error),
    }
}

/// Loads manifests for any command: prints every problem, and returns the desired state only
/// when there are no errors (warnings are shown and do not stop the run).
pub fn load(files: &[PathBuf], printer: &Printer) -> Option<Desired> {
    let (desired, problems) = manifest::load(files);
    report(&problems, printer);
    (!problems.has_errors()).then_some(desired)
}

/// Renders problems to stderr, followed by a count when there are errors.
pub fn report(problems: &Problems, printer: &Printer) {
    for p in &problems.0 {
        if p.is_error() || !printer.quiet() {
            printer.stderr(&printer.render_diagnostic(p));
        }
    }
    if problems.has_errors() {
        let warnings = problems.warnings();
        printer.stderr(&format!(
            "error: {}{}; nothing was changed\n",
            plural(problems.errors(), "error", "errors"),
            if warnings > 0 {
                format!(" and {}", plural(warnings, "warning", "warnings"))
            } else {
                String::new()
            }
        ));
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
