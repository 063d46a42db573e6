//! `policy:` (the rules of `crate::model::policy`): reading one file's block, merging the
//! blocks of several files, and refusing a manifest that breaks a rule, located at the room,
//! invitee or link that breaks it.
//!
//! Merging: each rule (`external_links`, `guests`, `room_managers`, and each tag of
//! `rooms_tagged`) is declared by one file; the same rule in another file is accepted only
//! when it says exactly the same, otherwise it is an error naming both places (as `defaults`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::manifest::desired::{Desired, DesiredPassword, DesiredRoom, Origin, Subject};
use crate::manifest::diagnostic::{Problem, Problems};
use crate::manifest::source::SourceFile;
use crate::manifest::yaml::{Node, Span, Value};
use crate::model::policy::{
    self, EXTERNAL_LINKS_KEYS, ExternalLinksRule, GUESTS_KEYS, GuestsRule, LinkProtection,
    LinkView, MemberView, Policy, ROOM_MANAGERS_KEYS, RULE_KEYS, RoomManagersRule, RoomView,
    TAGGED_KEYS, TagRequirement, TaggedRule, Target,
};
use crate::model::{Access, LinkKind, RoomType};

use super::Cx;

/// One rule of one file's `policy:`, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Part {
    ExternalLinks(ExternalLinksRule),
    Guests(GuestsRule),
    RoomManagers(RoomManagersRule),
    Tagged(String, TaggedRule),
}

impl Part {
    /// The name the merge keys on: the rule, or `rooms_tagged.TAG`.
    fn name(&self) -> String {
        match self {
            Part::ExternalLinks(_) => "external_links".into(),
            Part::Guests(_) => "guests".into(),
            Part::RoomManagers(_) => "room_managers".into(),
            Part::Tagged(tag, _) => format!("rooms_tagged.{tag}"),
        }
    }
}

/// One file's rules with where each was written.
pub(super) type Written = Vec<(Span, Part)>;

impl Cx<'_> {
    /// `policy:` of one file.
    pub(super) fn policy(&mut self, node: &Node) -> Written {
        let Some(entries) = self.mapping(node, "policy", RULE_KEYS) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (name, key, value) in entries {
            match name {
                "external_links" => {
                    if let Some(r) = self.external_links(value) {
                        out.push((key.span, Part::ExternalLinks(r)));
                    }
                }
                "guests" => {
                    if let Some(r) = self.guests(value) {
                        out.push((key.span, Part::Guests(r)));
                    }
                }
                "room_managers" => {
                    if let Some(r) = self.room_managers(value) {
                        out.push((key.span, Part::RoomManagers(r)));
                    }
                }
                "rooms_tagged" => out.extend(self.rooms_tagged(value)),
                _ => unreachable!("mapping() only returns known keys"),
            }
        }
        out
    }

    fn external_links(&mut self, node: &Node) -> Option<ExternalLinksRule> {
        let entries = self.mapping(node, "external_links", EXTERNAL_LINKS_KEYS)?;
        let mut rule = ExternalLinksRule::default();
        for (name, _, value) in entries {
            match name {
                "require" => {
                    let names = LinkProtection::ALL.map(LinkProtection::name);
                    for i in self.choices(value, "external_links.require", &names)? {
                        rule.require.insert(LinkProtection::ALL[i]);
                    }
                }
                _ => rule.max_days = self.count("max_days", value, 1, policy::MAX_LINK_DAYS),
            }
        }
        Some(rule)
    }

    fn guests(&mut self, node: &Node) -> Option<GuestsRule> {
        let entries = self.mapping(node, "guests", GUESTS_KEYS)?;
        let mut rule = GuestsRule::default();
        for (name, _, value) in entries {
            match name {
                "max_access" => rule.max_access = self.max_access(value),
                "allowed_in" => {
                    let Value::Seq(items) = &value.value else {
                        self.wrong_type("allowed_in", "a list of room types", value);
                        continue;
                    };
                    let types = items.iter().filter_map(|i| self.room_type_name(i));
                    rule.allowed_in = Some(types.collect());
                }
                _ => rule.require_expires = self.boolean("require_expires", value)?,
            }
        }
        Some(rule)
    }

    /// `guests.max_access`: a level in the policy order; `none` compares with nothing.
    fn max_access(&mut self, node: &Node) -> Option<Access> {
        let access = self.access(node)?;
        if policy::rank(access).is_none() {
            self.error(
                "manifest::policy_value",
                "`max_access: none` is not a level guests can be kept under",
                node.span,
                "not an access level to compare with",
                Some("to keep guests out of every room, write `allowed_in: []`".into()),
            );
            return None;
        }
        Some(access)
    }

    fn room_managers(&mut self, node: &Node) -> Option<RoomManagersRule> {
        let entries = self.mapping(node, "room_managers", ROOM_MANAGERS_KEYS)?;
        let mut rule = RoomManagersRule::default();
        for (name, _, value) in entries {
            let n = self.count(name, value, 0, 1000);
            match name {
                "min" => rule.min = n,
                _ => rule.max = n,
            }
        }
        if let (Some(min), Some(max)) = (rule.min, rule.max)
            && min > max
        {
            self.error(
                "manifest::policy_value",
                format!("`room_managers` asks for at least {min} and at most {max}"),
                node.span,
                "min above max",
                Some("make `min` no greater than `max`".into()),
            );
            return None;
        }
        Some(rule)
    }

    fn rooms_tagged(&mut self, node: &Node) -> Written {
        let Value::Map(entries) = &node.value else {
            self.wrong_type("rooms_tagged", "a mapping of tag names to rules", node);
            return Vec::new();
        };
        let mut out = Vec::new();
        for (key, value) in entries {
            let Some(tag) = self.string("rooms_tagged", key) else {
                continue;
            };
            let Some(fields) = self.mapping(value, "a `rooms_tagged` rule", TAGGED_KEYS) else {
                continue;
            };
            let mut rule = TaggedRule::default();
            for (name, _, value) in fields {
                if name == "deny_download" {
                    rule.deny_download = self.boolean("deny_download", value).unwrap_or(false);
                    continue;
                }
                let names = TagRequirement::ALL.map(TagRequirement::name);
                for i in self
                    .choices(value, "rooms_tagged.require", &names)
                    .unwrap_or_default()
                {
                    rule.require.insert(TagRequirement::ALL[i]);
                }
            }
            out.push((key.span, Part::Tagged(tag.trim().to_lowercase(), rule)));
        }
        out
    }

    /// A list of names from `options` (indexes), each checked like [`Cx::choice`].
    fn choices(&mut self, node: &Node, what: &str, options: &[&str]) -> Option<Vec<usize>> {
        let Value::Seq(items) = &node.value else {
            self.wrong_type(what, &format!("a list of {}", options.join(", ")), node);
            return None;
        };
        Some(
            items
                .iter()
                .filter_map(|i| self.choice(i, what, options))
                .collect(),
        )
    }

    /// A whole number within `min..=max`.
    fn count(&mut self, what: &str, node: &Node, min: u32, max: u32) -> Option<u32> {
        match node.value {
            Value::Int(n) if (i128::from(min)..=i128::from(max)).contains(&n) => {
                u32::try_from(n).ok()
            }
            Value::Int(n) => {
                self.error(
                    "manifest::policy_value",
                    format!("`{what}` must be from {min} to {max}, found {n}"),
                    node.span,
                    "out of range",
                    None,
                );
                None
            }
            _ => {
                self.wrong_type(what, "a whole number", node);
                None
            }
        }
    }

    fn room_type_name(&mut self, node: &Node) -> Option<RoomType> {
        let text = self.str_ref("allowed_in", node)?;
        let parsed = RoomType::parse_manifest(text);
        if parsed.is_none() {
            self.error(
                "manifest::bad_value",
                format!("`{text}` is not a room type"),
                node.span,
                "unknown room type",
                Some(format!(
                    "room types: {}",
                    RoomType::names_where(|t| t != RoomType::Ai)
                )),
            );
        }
        parsed
    }
}

/// Merges the files' rules into `desired.policy` (see the module documentation).
pub(super) fn merge(
    files: &[SourceFile],
    written: Vec<(usize, Written)>,
    desired_policy: &mut Policy,
    problems: &mut Problems,
) {
    let mut seen: BTreeMap<String, (usize, Span, Part)> = BTreeMap::new();
    for (file, parts) in written {
        for (span, part) in parts {
            match seen.get(&part.name()) {
                Some((other, other_span, first)) if first != &part => {
                    let (line, col) = files[*other].line_col(other_span.offset);
                    problems.push(
                        Problem::error(
                            "manifest::conflicting_policy",
                            format!("policy rule `{}` differs between files", part.name()),
                        )
                        .at(&files[file], span, "declared again, differently")
                        .with_help(format!(
                            "it is also declared at {}:{line}:{col}; declare each rule in one file, or the same in each",
                            files[*other].name
                        )),
                    );
                }
                Some(_) => {}
                None => {
                    seen.insert(part.name(), (file, span, part));
                }
            }
        }
    }
    for (_, _, part) in seen.into_values() {
        match part {
            Part::ExternalLinks(r) => desired_policy.external_links = Some(r),
            Part::Guests(r) => desired_policy.guests = Some(r),
            Part::RoomManagers(r) => desired_policy.room_managers = Some(r),
            Part::Tagged(tag, r) => {
                desired_policy.rooms_tagged.insert(tag, r);
            }
        }
    }
}

/// Refuses, located, every manifest room that breaks a rule of `desired.policy` as written
/// (what the manifest asks for; who is a guest is known only on the portal: see
/// [`guest_problems`], which `plan` runs, and `audit`).
pub(super) fn check(desired: &Desired, now: DateTime<Utc>, problems: &mut Problems) {
    if desired.policy.is_empty() {
        return;
    }
    let views: Vec<RoomView> = desired
        .rooms
        .iter()
        .map(|r| room_view(r, &|_| false))
        .collect();
    for p in located(desired, policy::check(&desired.policy, &views, now)) {
        problems.push(p);
    }
}

/// The `guests` rules for the manifest's email invitees, once the portal has said who is a
/// guest (`is_guest(email)`: an account of type Guest, or no account at all, since an email
/// invitation makes a guest account): refused by `plan::build`, located at the invitee.
pub fn guest_problems(desired: &Desired, is_guest: &dyn Fn(&str) -> bool) -> Vec<Problem> {
    let Some(guests) = &desired.policy.guests else {
        return Vec::new();
    };
    let only_guests = Policy {
        guests: Some(guests.clone()),
        ..Policy::default()
    };
    let views: Vec<RoomView> = desired
        .rooms
        .iter()
        .map(|r| room_view(r, is_guest))
        .collect();
    // The clock decides only `external_links.max_days`, which is not checked here.
    located(
        desired,
        policy::check(&only_guests, &views, DateTime::<Utc>::MIN_UTC),
    )
}

/// Each violation as an error at the room, invitee or link that breaks the rule.
fn located(desired: &Desired, found: Vec<policy::Violation>) -> Vec<Problem> {
    found
        .into_iter()
        .map(|v| {
            let room = &desired.rooms[v.room];
            let origin: Origin = match v.target {
                Target::Room => room.origin,
                Target::Member(i) => room.invitees[i].origin,
                Target::Link(i) => room.links[i].origin,
            };
            let label = format!("breaks `{}`", v.rule);
            Problem::error("manifest::policy", v.message())
                .at(&desired.files[origin.file], origin.span, label)
                .with_help(format!("{} (policy rule `{}`)", v.fix(), v.rule))
        })
        .collect()
}

/// A manifest room as the policy checker sees it: what the manifest sets, and nothing it
/// leaves to the portal.
fn room_view(room: &DesiredRoom, is_guest: &dyn Fn(&str) -> bool) -> RoomView {
    let members = room
        .invitees
        .iter()
        .map(|i| MemberView {
            label: i.subject.label().to_string(),
            guest: matches!(&i.subject, Subject::Email(e) if is_guest(e)),
            access: i.access,
            expires: i.expires,
        })
        .collect();
    let links = room
        .links
        .iter()
        .map(|l| LinkView {
            title: l.title.clone(),
            external: l.kind == LinkKind::External && l.access != Access::None,
            // A form-filling room's one external link is its primary link, which cannot
            // expire (its `expires:` is refused by `plan`); a public room's links are matched
            // to its primary link only against the portal.
            primary: l.kind == LinkKind::External && room.room_type == RoomType::FormFilling,
            expires: l.expires.flatten(),
            password: matches!(
                l.password,
                Some(DesiredPassword::FromEnv(_) | DesiredPassword::Keep)
            ),
        })
        .collect();
    RoomView {
        title: room.title.clone(),
        room_type: Some(room.room_type),
        tags: room.tags.clone().unwrap_or_default(),
        watermark: room.watermark.is_some(),
        deny_download: room.deny_download == Some(true),
        members,
        links,
        managers: room
            .invitees
            .iter()
            .filter(|i| i.access == Access::RoomManager && matches!(i.subject, Subject::Email(_)))
            .count(),
        managers_complete: false,
    }
}

#[cfg(test)]
mod tests {
    use crate::manifest::{Problems, SourceFile, load_sources, normal};

    const FULL: &str = "version: 1
policy:
  external_links: {require: [expires, password], max_days: 90}
  guests: {max_access: fill-forms, allowed_in: [virtual-data-room, custom], require_expires: true}
  room_managers: {min: 1, max: 5}
  rooms_tagged:
    Confidential: {require: [watermark], deny_download: true}
rooms: []
";

    #[test]
    fn every_rule_is_read_and_survives_a_saved_plan() {
        let mut problems = Problems::default();
        let desired = load_sources(vec![SourceFile::new("p.yaml", FULL)], &mut problems);
        assert!(!problems.has_errors(), "{problems:?}");
        let p = &desired.policy;
        assert_eq!(p.external_links.as_ref().unwrap().max_days, Some(90));
        assert_eq!(
            p.guests
                .as_ref()
                .unwrap()
                .allowed_in
                .as_ref()
                .unwrap()
                .len(),
            2
        );
        assert_eq!(p.room_managers.as_ref().unwrap().max, Some(5));
        assert!(p.rooms_tagged["confidential"].deny_download);
        let back = normal::read(&normal::write(&desired)).unwrap();
        assert_eq!(&back.policy, p);
    }

    #[test]
    fn a_form_filling_rooms_link_is_its_primary_link_and_cannot_be_asked_to_expire() {
        let mut problems = Problems::default();
        let text = "version: 1
policy:
  external_links: {require: [expires]}
rooms:
  - title: Forms
    type: form-filling
    links:
      - title: Fill in
        kind: external
        access: fill-forms
";
        load_sources(vec![SourceFile::new("f.yaml", text)], &mut problems);
        let text = format!("{problems:?}");
        assert_eq!(problems.errors(), 1, "{text}");
        assert!(text.contains("cannot be met"), "{text}");
        assert!(text.contains("restrict or remove the link"), "{text}");
    }

    #[test]
    fn max_access_none_is_refused_not_ignored() {
        let mut problems = Problems::default();
        let file = SourceFile::new("p.yaml", "policy:\n  guests: {max_access: none}\n");
        let desired = load_sources(vec![file], &mut problems);
        let text = format!("{problems:?}");
        assert_eq!(problems.errors(), 1, "{text}");
        assert!(text.contains("allowed_in: []"), "{text}");
        assert_eq!(desired.policy.guests.and_then(|g| g.max_access), None);
    }

    #[test]
    fn a_partial_policy_survives_a_saved_plan() {
        // Rules that leave keys out (no `max_days`, no `max_access`, only `min`) round-trip.
        let text = "version: 1
policy:
  external_links: {require: [expires]}
  guests: {allowed_in: [custom]}
  room_managers: {min: 1}
  rooms_tagged:
    secret: {deny_download: true}
rooms: []
";
        let mut problems = Problems::default();
        let desired = load_sources(vec![SourceFile::new("p.yaml", text)], &mut problems);
        assert!(!problems.has_errors(), "{problems:?}");
        match normal::read(&normal::write(&desired)) {
            Ok(back) => assert_eq!(back.policy, desired.policy),
            Err(problems) => panic!("the saved plan's policy is refused: {problems:?}"),
        }
    }

    #[test]
    fn a_rule_declared_differently_in_two_files_is_an_error() {
        let mut problems = Problems::default();
        let a = SourceFile::new("a.yaml", "policy:\n  guests: {max_access: read}\n");
        let b = SourceFile::new("b.yaml", "policy:\n  guests: {max_access: editing}\n");
        let same = SourceFile::new("c.yaml", "policy:\n  guests: {max_access: read}\n");
        load_sources(vec![a, b, same], &mut problems);
        let text = format!("{problems:?}");
        assert_eq!(problems.errors(), 1, "{text}");
        assert!(text.contains("conflicting_policy"), "{text}");
    }
}
