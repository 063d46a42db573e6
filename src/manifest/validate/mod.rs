//! Turns parsed YAML trees into [`Desired`], collecting every problem on the way instead of
//! stopping at the first: unknown keys (with "did you mean"), wrong types, YAML 1.1 booleans,
//! title rules, emails, duplicates, and the server's role tables (docs/docspace-api.md, "Roles per room type").
//!
//! The key lists here are the contract the JSON Schema documents; a test keeps them in step
//! with `schema.rs`.
//!
//! One part per subject, each an `impl Cx` block: [`top`] (the document's top level),
//! [`room`] and [`title`], [`settings`], [`invitee`], [`link`], the scalar readers in
//! [`values`], and the rules across files in [`merge`]. This file holds the entry point
//! [`validate`], the key lists, and the context that reads one file and reports problems.

mod groups;
mod invitee;
mod link;
mod merge;
mod people;
mod policy;
mod room;
mod settings;
mod title;
mod top;
mod values;

use super::desired::{Defaults, Desired, Origin};
use super::diagnostic::{Problem, Problems};
use super::secrets;
use super::source::SourceFile;
use super::yaml::{Node, Span, Value};
use merge::{
    ListedSet, RoomIdent, check_duplicates, manifest_set, merge_defaults, merge_managed_tag,
};
use values::yaml11_bool_hint;

pub use invitee::{allowed_names, check_email};
pub use policy::guest_problems;
pub use values::{MomentError, did_you_mean, parse_moment, parse_quota};

pub const TOP_KEYS: &[&str] = &[
    "version",
    "managed_tag",
    "manifest_set",
    "defaults",
    "rooms",
    "policy",
    "groups",
    "people",
];
pub const DEFAULTS_KEYS: &[&str] = &["notify", "message", "culture", "new_guests"];
pub const ROOM_KEYS: &[&str] = &[
    "title",
    "type",
    "id",
    "tags",
    "quota",
    "deny_download",
    "members",
    "state",
    "invitees",
    "links",
    "links_exact",
    "color",
    "cover",
    "indexing",
    "lifetime",
    "watermark",
    "template",
];
pub const INVITEE_KEYS: &[&str] = &["email", "group", "access", "expires", "new_account"];
pub const LINK_KEYS: &[&str] = &[
    "title",
    "kind",
    "access",
    "expires",
    "internal",
    "deny_download",
    "max_uses",
    "password_env",
    "keep_password",
];
pub const GROUP_KEYS: &[&str] = &["name", "id", "manager", "people", "people_from", "members"];
pub const PERSON_KEYS: &[&str] = &["email", "type", "first_name", "last_name"];
pub const LIFETIME_KEYS: &[&str] = &["value", "period", "delete_permanently"];
pub const WATERMARK_KEYS: &[&str] = &["text", "additions", "rotation"];

/// Validates every file and merges them. Problems are returned even when the result is
/// usable (warnings); callers refuse to go on when [`Problems::has_errors`].
pub fn validate(
    files: Vec<SourceFile>,
    trees: Vec<Option<Node>>,
    problems: &mut Problems,
) -> Desired {
    let mut desired = Desired {
        files,
        ..Desired::default()
    };
    let mut defaults_seen: Option<(usize, Span, Defaults)> = None;
    let mut managed_seen: Option<(usize, Span, String)> = None;
    let mut sets: Vec<(usize, ListedSet)> = Vec::new();
    let mut idents = Vec::new();
    let mut policies = Vec::new();
    let mut portal = Portal::default();
    for (index, tree) in trees.into_iter().enumerate() {
        let Some(tree) = tree else { continue };
        let mut cx = Cx {
            file: &desired.files[index],
            index,
            problems: &mut *problems,
            idents: &mut idents,
            portal: &mut portal,
        };
        let (defaults, managed, set, rooms) = cx.document(&tree);
        policies.push((index, cx.policy_of(&tree)));
        if let Some(set) = set {
            sets.push((index, set));
        }
        if let Some(managed) = managed {
            merge_managed_tag(&desired.files, &mut managed_seen, index, managed, problems);
        }
        if let Some(defaults) = defaults {
            merge_defaults(
                &desired.files,
                &mut defaults_seen,
                index,
                defaults,
                problems,
            );
        }
        desired.rooms.extend(rooms);
    }
    if let Some((_, _, d)) = defaults_seen {
        desired.defaults = d;
    }
    manifest_set(&mut desired, managed_seen.as_ref(), sets, problems);
    desired.managed_tag_origin = managed_seen.as_ref().map(|(file, span, _)| Origin {
        file: *file,
        span: *span,
    });
    desired.managed_tag = managed_seen.map(|(_, _, tag)| tag);
    check_duplicates(&desired, &idents, problems);
    policy::merge(&desired.files, policies, &mut desired.policy, problems);
    policy::check(&desired, chrono::Utc::now(), problems);
    desired.groups = portal.groups;
    desired.people = portal.people;
    groups::check_portal(&desired, problems);
    desired
}

/// `groups:` and `people:` of every file, in file order.
#[derive(Default)]
struct Portal {
    groups: Vec<super::desired::DesiredGroup>,
    people: Vec<super::desired::DesiredPerson>,
}

struct Cx<'a> {
    file: &'a SourceFile,
    index: usize,
    problems: &'a mut Problems,
    idents: &'a mut Vec<RoomIdent>,
    portal: &'a mut Portal,
}

impl Cx<'_> {
    pub(super) fn origin(&self, span: Span) -> Origin {
        Origin {
            file: self.index,
            span,
        }
    }

    pub(super) fn error(
        &mut self,
        code: &'static str,
        message: impl Into<String>,
        span: Span,
        label: impl Into<String>,
        help: Option<String>,
    ) {
        self.emit(Problem::error(code, message), span, label, help);
    }

    pub(super) fn warning(
        &mut self,
        code: &'static str,
        message: impl Into<String>,
        span: Span,
        label: impl Into<String>,
        help: Option<String>,
    ) {
        self.emit(Problem::warning(code, message), span, label, help);
    }

    /// Locates a problem at `span` in this file and records it.
    fn emit(
        &mut self,
        problem: Problem,
        span: Span,
        label: impl Into<String>,
        help: Option<String>,
    ) {
        let mut p = problem.at(self.file, span, label);
        if let Some(h) = help {
            p = p.with_help(h);
        }
        self.problems.push(p);
    }

    pub(super) fn wrong_type(&mut self, what: &str, expected: &str, node: &Node) {
        let help = yaml11_bool_hint(node).or_else(|| match (&node.value, expected) {
            (Value::Int(_) | Value::Float(_) | Value::Bool(_), "a string") => {
                Some("quote the value to make it a string".to_string())
            }
            _ => None,
        });
        self.error(
            "manifest::wrong_type",
            format!("`{what}` must be {expected}, found {}", node.value.kind()),
            node.span,
            format!("expected {expected}"),
            help,
        );
    }

    /// Checks that `node` is a mapping whose keys are all known; returns the entries by name.
    pub(super) fn mapping<'n>(
        &mut self,
        node: &'n Node,
        what: &str,
        known: &[&str],
    ) -> Option<Vec<(&'n str, &'n Node, &'n Node)>> {
        self.mapping_with(node, what, known, false)
    }

    /// As [`Cx::mapping`]; `link` says the mapping is a link, where a secret-looking unknown
    /// key is most likely the link's password. Such keys are reported without their value
    /// (snippets mask it, see [`super::secrets`]) and without suggesting anything from it.
    pub(super) fn mapping_with<'n>(
        &mut self,
        node: &'n Node,
        what: &str,
        known: &[&str],
        link: bool,
    ) -> Option<Vec<(&'n str, &'n Node, &'n Node)>> {
        let Value::Map(entries) = &node.value else {
            self.wrong_type(what, "a mapping", node);
            return None;
        };
        let mut out = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            let Value::Str(name) = &key.value else {
                self.error(
                    "manifest::bad_key",
                    format!("keys in {what} must be names, found {}", key.value.kind()),
                    key.span,
                    "not a name",
                    Some(format!("known keys: {}", known.join(", "))),
                );
                continue;
            };
            if !known.contains(&name.as_str()) && secrets::looks_secret(name) {
                self.secret_key(name, key, what, known, link);
                continue;
            }
            if !known.contains(&name.as_str()) {
                let help = match did_you_mean(name, known) {
                    Some(s) => format!(
                        "did you mean `{s}`? Known keys in {what}: {}",
                        known.join(", ")
                    ),
                    None => format!("known keys in {what}: {}", known.join(", ")),
                };
                self.error(
                    "manifest::unknown_key",
                    format!("unknown key `{name}` in {what}"),
                    key.span,
                    "unknown key",
                    Some(help),
                );
                continue;
            }
            // `color: #1c6ddc` unquoted is the key `color` with an empty value and a comment.
            if name == "color" && matches!(value.value, Value::Null) && self.comment_follows(key) {
                self.error(
                    "manifest::color_comment",
                    "`color` is empty here: an unquoted `#` starts a YAML comment, so the colour after it is not read",
                    key.span,
                    "the value after this key is a comment",
                    Some("quote the colour, `color: \"#1c6ddc\"`, or write the digits alone, `color: 1c6ddc`".into()),
                );
                continue;
            }
            // An empty value (`quota:` or `~`) means the key is absent, as the schema allows.
            if !matches!(value.value, Value::Null) {
                out.push((name.as_str(), key, value));
            }
        }
        Some(out)
    }

    /// An unknown key that looks like it holds a secret (`password:`, `pasword_env:`,
    /// `api_token:`): refused without its value, and a misspelt `password_env` gets the real
    /// key suggested.
    fn secret_key(&mut self, name: &str, key: &Node, what: &str, known: &[&str], link: bool) {
        let (code, message, label, help) = if known.contains(&"password_env")
            && secrets::looks_like_password_env(name)
        {
            (
                "manifest::unknown_key",
                format!("unknown key `{name}` in {what}"),
                "unknown key",
                "did you mean `password_env`? It names the environment variable that holds the link's password; its value is not shown here".to_string(),
            )
        } else if secrets::looks_like_password_env(name) {
            (
                "manifest::unknown_key",
                format!("unknown key `{name}` in {what}"),
                "unknown key",
                "`password_env` belongs to a link, under the room's `links:`; its value is not shown here".to_string(),
            )
        } else if link {
            (
                "manifest::password_in_manifest",
                format!("unknown key `{name}` in a link: it looks like a password, and a link's password is never written in the manifest (its value is not shown here)"),
                "not in the manifest",
                "put the password in an environment variable and name the variable: `password_env: SALES_LINK_PASSWORD`; plans and reports show only whether a password is set. Remove the password from this file and from its history, and change it: it was committed in clear text".to_string(),
            )
        } else {
            (
                "manifest::secret_in_manifest",
                format!(
                    "unknown key `{name}` in {what}: it looks like a secret, and a manifest holds none (its value is not shown here)"
                ),
                "not in the manifest",
                format!(
                    "known keys in {what}: {}. The API key goes in DOCSPACE_API_KEY or a file named by --api-key-file, a link's password in an environment variable named by the link's `password_env`; if this is a real secret, remove it from the file and its history, and change it",
                    known.join(", ")
                ),
            )
        };
        self.error(code, message, key.span, label, Some(help));
    }

    /// Whether the rest of `key`'s line, after the `:`, is a comment (`key: # ...`).
    fn comment_follows(&self, key: &Node) -> bool {
        let text = self.file.text.as_str();
        let rest = text.get(key.span.offset + key.span.len..).unwrap_or("");
        let line = rest.split(['\n', '\r']).next().unwrap_or("");
        line.trim_start_matches(['"', '\''])
            .trim_start()
            .strip_prefix(':')
            .is_some_and(|after| after.trim_start().starts_with('#'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::desired::{Lifetime, Watermark};
    use crate::model::{Access, LifetimePeriod, LinkKind, WatermarkAddition};
    use chrono::Utc;

    fn load(text: &str) -> (Desired, Problems) {
        let mut problems = Problems::default();
        let desired =
            crate::manifest::load_sources(vec![SourceFile::new("m.yaml", text)], &mut problems);
        (desired, problems)
    }

    /// A manifest that sets every room setting and link option, with a link expiring in `year`.
    fn new_fields_manifest(year: i32) -> String {
        format!(
            "version: 1
managed_tag: ' provisioned '
rooms:
  - title: Deal
    type: vdr
    color: '#1C6DDC'
    cover: book_open
    indexing: true
    lifetime: {{value: 90, period: Month}}
    watermark: {{text: ' Secret ', additions: [room_name, UserIpAdress], rotation: -45}}
    links_exact: true
    links:
      - title: Join
        kind: invitation
        access: read
        max_uses: 5
        expires: {year}-06-01T12:00:00+02:00
    invitees:
      - email: a@b.com
        access: read
        expires: 2020-01-31
  - title: Pub
    type: custom
    color: 123456
    links:
      - title: ' Press '
        kind: External
        access: read
        internal: true
        deny_download: true
        password_env: PRESS_PW
"
        )
    }

    #[test]
    fn new_fields_become_typed_values() {
        // A link's expiry must be in the future whenever the test runs.
        let year = Utc::now().format("%Y").to_string().parse::<i32>().unwrap() + 1;
        let (desired, problems) = load(&new_fields_manifest(year));
        assert!(!problems.has_errors(), "{problems:?}");
        assert_eq!(desired.managed_tag.as_deref(), Some("provisioned"));
        let deal = &desired.rooms[0];
        assert_eq!(deal.color.as_deref(), Some("1C6DDC"));
        assert_eq!(deal.cover.as_deref(), Some("book_open"));
        assert_eq!(deal.indexing, Some(true));
        assert_eq!(
            deal.lifetime,
            Some(Lifetime {
                value: 90,
                period: LifetimePeriod::Months,
                delete_permanently: false
            })
        );
        assert_eq!(
            deal.watermark,
            Some(Watermark {
                text: Some("Secret".into()),
                additions: [WatermarkAddition::RoomName, WatermarkAddition::UserIp]
                    .into_iter()
                    .collect(),
                rotation: -45
            })
        );
        assert!(deal.links_exact);
        let join = &deal.links[0];
        assert_eq!(
            (join.kind, join.access, join.max_uses),
            (LinkKind::Invitation, Access::Read, Some(Some(5)))
        );
        assert_eq!(
            join.expires.flatten().unwrap().to_rfc3339(),
            format!("{year}-06-01T10:00:00+00:00")
        );
        assert_eq!(
            deal.invitees[0].expires.unwrap().to_rfc3339(),
            "2020-01-31T00:00:00+00:00"
        );
        let public = &desired.rooms[1];
        assert_eq!(public.color.as_deref(), Some("123456"));
        assert!(!public.links_exact);
        let press = &public.links[0];
        assert_eq!(press.title, "Press");
        assert_eq!(press.kind, LinkKind::External);
        assert_eq!(
            (press.internal, press.deny_download),
            (Some(true), Some(true))
        );
        assert_eq!(
            press.password,
            Some(crate::manifest::DesiredPassword::FromEnv("PRESS_PW".into()))
        );
        assert_eq!(press.max_uses, None);
    }

    #[test]
    fn rooms_without_the_new_fields_keep_their_defaults() {
        let (desired, problems) = load("version: 1\nrooms:\n  - title: A\n    type: custom\n");
        assert!(!problems.has_errors());
        let room = &desired.rooms[0];
        assert_eq!(desired.managed_tag, None);
        assert!(room.links.is_empty() && !room.links_exact);
        assert_eq!(
            (room.color.as_ref(), room.cover.as_ref(), room.indexing),
            (None, None, None)
        );
        assert_eq!((room.lifetime, room.watermark.as_ref()), (None, None));
    }
}
