//! `validate`: offline checks of manifests. Every problem is shown, then a one-line summary.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::exit::ExitStatus;
use crate::manifest::{self, Desired, Problem, Problems};
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
    load_then(files, printer, None)
}

/// [`load`] for a command that could have changed the portal (`apply`): the closing error
/// line says that nothing was changed. `validate` and `plan` never change anything, so their
/// line does not say it (it would suggest that they might).
pub fn load_before_changes(files: &[PathBuf], printer: &Printer) -> Option<Desired> {
    load_then(files, printer, Some(NOTHING_CHANGED))
}

/// The end of the closing error line of a command that stopped before changing anything.
pub const NOTHING_CHANGED: &str = "nothing was changed";

fn load_then(files: &[PathBuf], printer: &Printer, tail: Option<&str>) -> Option<Desired> {
    let (desired, problems) = manifest::load(files);
    report_then(&problems, printer, tail);
    (!problems.has_errors()).then_some(desired)
}

/// How many diagnostics of one kind (one code) are shown in full before the rest are only
/// counted: a manifest generated with one systematic mistake would otherwise print thousands
/// of near-identical snippets. `-v` shows every one.
const SHOWN_WARNINGS_PER_KIND: usize = 5;
const SHOWN_ERRORS_PER_KIND: usize = 20;

/// Renders problems to stderr, followed by a count when there are errors. Repeated problems
/// of one kind are collapsed after the first few into "... and N more ... like this"; the
/// counts and the exit status still cover every problem.
pub fn report(problems: &Problems, printer: &Printer) {
    report_then(problems, printer, None);
}

/// [`report`], with `tail` added to the closing error line (`error: 2 errors; TAIL`).
pub fn report_then(problems: &Problems, printer: &Printer, tail: Option<&str>) {
    let show_all = printer.verbose() > 0;
    let visible = |p: &Problem| p.is_error() || !printer.quiet();
    let key = |p: &Problem| (p.code, p.severity as u8);
    let mut totals: HashMap<(&str, u8), usize> = HashMap::new();
    for p in problems.0.iter().filter(|p| visible(p)) {
        *totals.entry(key(p)).or_default() += 1;
    }
    let mut shown: HashMap<(&str, u8), usize> = HashMap::new();
    for p in problems.0.iter().filter(|p| visible(p)) {
        let (limit, kind) = if p.is_error() {
            (SHOWN_ERRORS_PER_KIND, ("error", "errors"))
        } else if p.is_warning() {
            (SHOWN_WARNINGS_PER_KIND, ("warning", "warnings"))
        } else {
            (SHOWN_WARNINGS_PER_KIND, ("note", "notes"))
        };
        let n = shown.entry(key(p)).or_default();
        *n += 1;
        if show_all || *n <= limit {
            if p.is_error() || p.is_warning() {
                printer.stderr(&printer.render_diagnostic(p));
            } else {
                printer.stderr(&format!("note: {}\n", p.message));
            }
        }
        let total = totals[&key(p)];
        if !show_all && *n == limit && total > limit {
            let more = total - limit;
            printer.stderr(&format!(
                "... and {more} more {} like this ({}); run with -v to see every one\n",
                if more == 1 { kind.0 } else { kind.1 },
                p.code
            ));
        }
    }
    if problems.has_errors() {
        let warnings = problems.warnings();
        printer.stderr(&format!(
            "error: {}{}{}\n",
            plural(problems.errors(), "error", "errors"),
            if warnings > 0 {
                format!(" and {}", plural(warnings, "warning", "warnings"))
            } else {
                String::new()
            },
            tail.map(|t| format!("; {t}")).unwrap_or_default()
        ));
    }
}

use crate::text::count as plural;
