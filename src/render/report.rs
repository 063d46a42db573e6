//! Reports for people (a line per failed or skipped item and a summary table) and for programs
//! (versioned JSON).

use std::fmt::Write;

use crate::report::{Report, Status};

/// The text report: failed items (with the server's message), skipped items, then counts per
/// status.
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    for status in [Status::Failed, Status::Skipped] {
        let rows: Vec<_> = report
            .entries
            .iter()
            .filter(|e| e.status == status)
            .collect();
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{} ({}):", capitalise(status.name()), rows.len());
        for e in rows {
            let what = match &e.subject {
                Some(s) => format!("{} {}", action_name(e), s),
                None => action_name(e),
            };
            let _ = write!(out, "  {}: {what}", e.room);
            if let Some(err) = &e.error {
                match err.http_status {
                    Some(code) => {
                        let _ = write!(out, " — HTTP {code}: {}", err.message);
                    }
                    None => {
                        let _ = write!(out, " — {}", err.message);
                    }
                }
            }
            out.push('\n');
        }
        out.push('\n');
    }
    if report.interrupted {
        out.push_str("Interrupted: rooms not started were skipped.\n\n");
    }
    let s = &report.summary;
    let _ = writeln!(out, "{:<10} {:>6}", "status", "items");
    for (name, n) in [
        ("applied", s.applied),
        ("failed", s.failed),
        ("skipped", s.skipped),
        ("unchanged", s.unchanged),
    ] {
        let _ = writeln!(out, "{name:<10} {n:>6}");
    }
    out
}

fn action_name(e: &crate::report::Entry) -> String {
    serde_json::to_value(e.action)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The JSON report (`--format json`, `--report PATH`).
pub fn json(report: &Report) -> String {
    serde_json::to_string_pretty(report).unwrap_or_default() + "\n"
}
