//! Doctor's answer as people read it (text) and as programs do (JSON, `--format json`).

use anstyle::{AnsiColor, Style};

use super::paint;

use crate::doctor::{Outcome, REPORT_URL, Status};

/// The colour of a status, as plans colour their lines (green, yellow, red).
fn style(status: Status) -> Style {
    match status {
        Status::Ok => AnsiColor::Green.on_default(),
        Status::Warn => AnsiColor::Yellow.on_default(),
        Status::Fail => AnsiColor::Red.on_default(),
    }
}

/// The symbol of a check's status at the start of its line.
fn symbol(status: Status) -> &'static str {
    match status {
        Status::Ok => "✔",
        Status::Warn => "⚠",
        Status::Fail => "✘",
    }
}

/// The text answer: a line per check, details under the ones that differ, a summary. `color`
/// paints each check's symbol and the summary by status (`--color`, as for plans).
pub fn text(outcome: &Outcome, color: bool) -> String {
    let width = outcome
        .checks
        .iter()
        .map(|c| c.id.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = format!("Doctor: {}\n\n", outcome.portal);
    for check in &outcome.checks {
        out.push_str(&format!(
            "{} {:width$}  {}\n",
            paint(color, style(check.status), symbol(check.status)),
            check.id,
            check.message
        ));
        if let Some(observed) = &check.observed {
            out.push_str(&format!("  {:width$}  observed: {observed}\n", ""));
        }
        if let Some(expected) = &check.expected {
            out.push_str(&format!("  {:width$}  expected: {expected}\n", ""));
        }
        if check.status != Status::Ok
            && let Some(section) = check.rule
        {
            out.push_str(&format!(
                "  {:width$}  rule: docs/docspace-api.md, \"{section}\"\n",
                ""
            ));
        }
    }
    let (ok, warn, fail) = (
        outcome.count(Status::Ok),
        outcome.count(Status::Warn),
        outcome.count(Status::Fail),
    );
    let worst = if fail > 0 {
        Status::Fail
    } else if warn > 0 {
        Status::Warn
    } else {
        Status::Ok
    };
    let summary = format!(
        "{ok} ok, {warn} warning{}, {fail} failure{}.",
        if warn == 1 { "" } else { "s" },
        if fail == 1 { "" } else { "s" }
    );
    out.push_str(&format!("\n{}\n", paint(color, style(worst), &summary)));
    if outcome.checks.iter().any(|c| c.expected.is_some()) {
        out.push_str(&format!(
            "This portal differs from what the tool expects: please report it, with this \
             output, at {REPORT_URL}\n"
        ));
    }
    if !outcome.scratch && outcome.healthy() {
        out.push_str(
            "Run with --scratch to confirm the server rules on a temporary room as well.\n",
        );
    }
    out
}

/// The JSON answer (`format_version` 1).
pub fn json(outcome: &Outcome) -> String {
    serde_json::to_string_pretty(outcome).unwrap_or_default() + "\n"
}
