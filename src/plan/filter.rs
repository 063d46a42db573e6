//! Targeted runs (`plan` / `apply --room PATTERN`): a plan limited to the manifest rooms whose
//! titles match (see [`crate::model::pattern`], the one matcher of every `--room`).
//!
//! Identity is a question about the whole manifest (a room another entry pins, a create that
//! is another entry's room renamed, a case-only twin: docs/architecture.md, "Identity"), so the
//! planner reads the whole room listing and the diff ([`super::diff_selected`]) matches with
//! every manifest room; but member lists, people and links are read for the selected rooms only
//! ([`reading_scope`]), only they are planned, and [`restrict`] drops what is about the portal
//! as a whole. Nothing else is changed or pruned: `--prune` and `--resend-pending` are
//! refused with `--room` (they are about the portal, not about rooms), and the plan carries
//! the filter in its options, so that text, Markdown and JSON say it is partial and
//! `apply --plan` plans again with the same filter.
//!
//! A pattern that matches no manifest room is an error before the portal is read: a typo
//! must not turn a targeted run into an empty one that reports "in step".

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::Plan;
use crate::manifest::{Desired, Problem};
use crate::model::pattern::TitlePattern;

/// The `--room` patterns of a run, as given (in a plan's `options.filter`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomFilter {
    /// Title patterns (`*`, `?`), matched against the manifest titles as written.
    pub rooms: Vec<String>,
}

impl RoomFilter {
    /// The filter of `--room` values, or `None` when none was given.
    pub fn from_args(rooms: Vec<String>) -> Option<RoomFilter> {
        (!rooms.is_empty()).then_some(RoomFilter { rooms })
    }

    fn patterns(&self) -> Vec<TitlePattern> {
        self.rooms.iter().map(|p| TitlePattern::new(p)).collect()
    }

    /// The titles of the manifest rooms the filter selects, or a problem per pattern that
    /// selects none (with the closest titles where one is close).
    pub fn select(&self, desired: &Desired) -> Result<BTreeSet<String>, Vec<Problem>> {
        let mut selected = BTreeSet::new();
        let mut problems = Vec::new();
        for (text, pattern) in self.rooms.iter().zip(self.patterns()) {
            let mut hit = false;
            for room in desired.rooms.iter().filter(|r| pattern.matches(&r.title)) {
                hit = true;
                selected.insert(room.title.clone());
            }
            if !hit {
                problems.push(unmatched(text, &pattern, desired));
            }
        }
        if problems.is_empty() {
            Ok(selected)
        } else {
            Err(problems)
        }
    }

    /// The patterns as the plan's text quotes them.
    pub fn describe(&self, quote: &dyn Fn(&str) -> String) -> String {
        let quoted: Vec<String> = self.rooms.iter().map(|p| quote(p)).collect();
        quoted.join(", ")
    }
}

/// How many manifest titles the message of an unmatched pattern lists when none is close.
const LISTED_TITLES: usize = 10;

fn unmatched(text: &str, pattern: &TitlePattern, desired: &Desired) -> Problem {
    let what = if pattern.is_glob() {
        "pattern"
    } else {
        "title"
    };
    let problem = Problem::error(
        "plan::room_unmatched",
        format!("--room `{text}` matches no room of the manifest"),
    );
    let titles: Vec<&str> = desired.rooms.iter().map(|r| r.title.as_str()).collect();
    let close = closest(text, &titles);
    let help = if !close.is_empty() {
        let close: Vec<String> = close.iter().map(|t| format!("`{t}`")).collect();
        format!(
            "did you mean {}? The {what} is compared with the manifest's titles as written, case-sensitively (`*` matches any text, `?` one character)",
            close.join(" or ")
        )
    } else if titles.is_empty() {
        "the manifest has no rooms".to_string()
    } else {
        let shown: Vec<String> = titles
            .iter()
            .take(LISTED_TITLES)
            .map(|t| format!("`{t}`"))
            .collect();
        let more = titles.len().saturating_sub(LISTED_TITLES);
        format!(
            "the manifest's rooms are {}{}; the {what} is compared with these titles as written, case-sensitively (`*` matches any text, `?` one character)",
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        )
    };
    problem.with_help(help)
}

/// The manifest titles close to `text` (at most three, closest first): a typo or a case slip.
fn closest<'a>(text: &str, titles: &[&'a str]) -> Vec<&'a str> {
    let wanted = text.replace(['*', '?'], "").to_lowercase();
    let mut scored: Vec<(f64, &str)> = titles
        .iter()
        .map(|t| (strsim::jaro_winkler(&wanted, &t.to_lowercase()), *t))
        .filter(|(score, _)| *score > 0.8)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(3).map(|(_, t)| t).collect()
}

/// What the portal is read for under a filter: the selected rooms, and no marker tag (its
/// orphans are for `--prune`, refused with `--room`, so their member lists are not read).
///
/// Known limit: a room another, unselected entry pins by `id:` that the listing does not show
/// is not fetched, so a selected room of the same title cannot be told it is claimed twice (a
/// run without `--room` says so).
pub fn reading_scope(desired: &Desired, selected: &BTreeSet<String>) -> Desired {
    let mut scope = desired.clone();
    scope.rooms.retain(|r| selected.contains(&r.title));
    scope.managed_tag = None;
    scope
}

/// Keeps in `plan` only the rooms titled in `selected` (and their expiry warnings), and
/// drops the sections about the portal as a whole (orphans of `managed_tag`; resends are
/// refused with a filter): a partial plan says nothing about rooms it did not plan.
pub fn restrict(plan: &mut Plan, selected: &BTreeSet<String>) {
    plan.rooms.retain(|r| selected.contains(&r.title));
    plan.portal_items.clear();
    plan.portal_notes.clear();
    plan.managed = None;
    if let Some(expiring) = &mut plan.expiring {
        expiring.memberships.retain(|m| selected.contains(&m.room));
        if expiring.memberships.is_empty() {
            plan.expiring = None;
        }
    }
    plan.summary = super::summarise(&plan.rooms, &plan.portal_items);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{self, SourceFile};

    fn desired(titles: &[&str]) -> Desired {
        let mut yaml = String::from("version: 1\nrooms:\n");
        for t in titles {
            yaml.push_str(&format!("  - title: \"{t}\"\n    type: custom\n"));
        }
        let mut problems = manifest::Problems::default();
        let d = manifest::load_sources(vec![SourceFile::new("m.yaml", &yaml)], &mut problems);
        assert!(!problems.has_errors(), "{problems:?}");
        d
    }

    fn filter(rooms: &[&str]) -> RoomFilter {
        RoomFilter::from_args(rooms.iter().map(|r| r.to_string()).collect()).unwrap()
    }

    #[test]
    fn patterns_select_the_union_of_their_rooms() {
        let d = desired(&["Proj One", "Proj Two", "Team A", "Team AB"]);
        let got = filter(&["Team ?", "Proj*", "Proj One"]).select(&d).unwrap();
        let got: Vec<&str> = got.iter().map(String::as_str).collect();
        assert_eq!(got, ["Proj One", "Proj Two", "Team A"]);
        assert!(RoomFilter::from_args(Vec::new()).is_none());
    }

    #[test]
    fn an_unmatched_pattern_is_a_problem_naming_it_with_close_titles() {
        let d = desired(&["Proj One", "Proj Two", "Team A"]);
        let problems = filter(&["Proj*", "proj one", "Nothing*"])
            .select(&d)
            .unwrap_err();
        assert_eq!(problems.len(), 2);
        assert!(problems[0].message.contains("`proj one`"));
        let help = problems[0].help.as_deref().unwrap();
        assert!(help.starts_with("did you mean `Proj One`"), "{help}");
        let help = problems[1].help.as_deref().unwrap();
        assert!(
            help.contains("the manifest's rooms are `Proj One`, `Proj Two`, `Team A`"),
            "{help}"
        );
    }
}
