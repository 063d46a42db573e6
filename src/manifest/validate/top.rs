//! The top level of a manifest document: `version`, `defaults`, `managed_tag`,
//! `manifest_set` and the `rooms` list.

use crate::manifest::desired::{Defaults, DesiredRoom};
use crate::manifest::yaml::{Node, Span, Value};

use super::merge::ListedSet;
use super::{Cx, DEFAULTS_KEYS, TOP_KEYS};

impl Cx<'_> {
    /// Reports a document that is not a mapping: empty, or a scalar or list.
    fn not_a_manifest(&mut self, root: &Node) {
        let (message, help) = match root.value {
            Value::Null => (
                "the manifest holds no settings (only comments or an empty document)".to_string(),
                "a manifest starts with `version: 1` and a `rooms:` list; see examples/rooms.yaml",
            ),
            _ => (
                format!(
                    "the manifest must be a mapping with `version` and `rooms`, found {}",
                    root.value.kind()
                ),
                "start the file with `version: 1`, then `rooms:` with the list of rooms under it",
            ),
        };
        self.error(
            "manifest::not_a_manifest",
            message,
            root.span,
            "not a manifest",
            Some(help.into()),
        );
    }

    /// Checks `version`: this release reads format 1 only.
    fn version(&mut self, value: &Node) {
        match value.value {
            Value::Int(1) => {}
            Value::Int(v) => self.error(
                "manifest::version",
                format!("manifest format version {v} is not supported"),
                value.span,
                "unsupported version",
                Some("this release reads `version: 1`".into()),
            ),
            _ => self.wrong_type("version", "the integer 1", value),
        }
    }

    #[allow(clippy::type_complexity)] // One call site, which takes the tuple apart at once.
    pub(super) fn document(
        &mut self,
        root: &Node,
    ) -> (
        Option<(Span, Defaults)>,
        Option<(Span, String)>,
        Option<ListedSet>,
        Vec<DesiredRoom>,
    ) {
        if !matches!(root.value, Value::Map(_)) {
            self.not_a_manifest(root);
            return (None, None, None, Vec::new());
        }
        let Some(entries) = self.mapping(root, "the manifest", TOP_KEYS) else {
            return (None, None, None, Vec::new());
        };
        // A file may hold only `policy:` (a policy file for `audit --policy`): it needs no
        // `version`.
        let only_policy = crate::manifest::holds_only_policy(root);
        let mut version_seen = false;
        let mut defaults = None;
        let mut managed = None;
        let mut set = None;
        let mut rooms = Vec::new();
        for (name, key, value) in entries {
            match name {
                "version" => {
                    version_seen = true;
                    self.version(value);
                }
                "defaults" => defaults = self.defaults(value).map(|d| (key.span, d)),
                "managed_tag" => {
                    managed = self.tag_name("managed_tag", value).map(|t| (value.span, t))
                }
                "manifest_set" => set = self.manifest_set(value).map(|l| (key.span, l)),
                // Read by `policy_of`, merged across files by `policy::merge`.
                "policy" => {}
                "rooms" => match &value.value {
                    Value::Seq(items) => {
                        rooms.reserve(items.len());
                        for item in items {
                            if let Some(room) = self.room(item) {
                                rooms.push(room);
                            }
                        }
                    }
                    Value::Null => {}
                    _ => self.wrong_type("rooms", "a list of rooms", value),
                },
                "groups" => {
                    let groups = self.groups(value);
                    self.portal.groups.extend(groups);
                }
                "people" => {
                    let people = self.people(value);
                    self.portal.people.extend(people);
                }
                _ => unreachable!("mapping() only returns known keys"),
            }
        }
        if !version_seen && !only_policy {
            self.error(
                "manifest::no_version",
                "the manifest has no `version`",
                Span {
                    offset: root.span.offset,
                    len: 0,
                },
                "add `version: 1` here",
                Some("start the file with `version: 1`".into()),
            );
        }
        (defaults, managed, set, rooms)
    }

    /// The `policy:` block of a document (the rest of the document is read by
    /// [`Cx::document`]), or nothing.
    pub(super) fn policy_of(&mut self, root: &Node) -> super::policy::Written {
        let Value::Map(entries) = &root.value else {
            return Vec::new();
        };
        entries
            .iter()
            .find(|(k, v)| {
                matches!(&k.value, Value::Str(s) if s == "policy")
                    && !matches!(v.value, Value::Null)
            })
            .map(|(_, v)| self.policy(v))
            .unwrap_or_default()
    }

    /// `manifest_set:`: a list of file or directory paths (see [`crate::manifest::set`]).
    fn manifest_set(&mut self, node: &Node) -> Option<Vec<(String, Span)>> {
        let Value::Seq(items) = &node.value else {
            self.wrong_type("manifest_set", "a list of file or directory paths", node);
            return None;
        };
        if items.is_empty() {
            self.error(
                "manifest::empty_manifest_set",
                "`manifest_set` is empty",
                node.span,
                "no files listed",
                Some(format!(
                    "list every file of the set, or just this one: `manifest_set: [{}]`",
                    crate::manifest::set::file_name(&self.file.name)
                )),
            );
            return None;
        }
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let path = self.string("manifest_set", item)?;
            if path.trim().is_empty() {
                self.error(
                    "manifest::empty_manifest_set",
                    "a path in `manifest_set` is empty",
                    item.span,
                    "empty path",
                    None,
                );
                return None;
            }
            out.push((path, item.span));
        }
        Some(out)
    }

    fn defaults(&mut self, node: &Node) -> Option<Defaults> {
        if matches!(node.value, Value::Null) {
            return Some(Defaults::default());
        }
        let entries = self.mapping(node, "defaults", DEFAULTS_KEYS)?;
        let mut d = Defaults::default();
        for (name, _, value) in entries {
            match name {
                "notify" => d.notify = self.boolean("notify", value).unwrap_or(false),
                "message" => d.message = self.string("message", value),
                "new_guests" => {
                    d.refuse_new_guests = !self.boolean("new_guests", value).unwrap_or(true);
                }
                "culture" => {
                    if let Some(c) = self.string("culture", value) {
                        if is_culture(&c) {
                            d.culture = Some(c);
                        } else {
                            self.error(
                                "manifest::culture",
                                format!("`{c}` is not a culture name"),
                                value.span,
                                "expected a name like en-US",
                                Some("use a language tag such as en-US, de-DE or fr-FR".into()),
                            );
                        }
                    }
                }
                _ => unreachable!(),
            }
        }
        Some(d)
    }
}

fn is_culture(c: &str) -> bool {
    let mut parts = c.split('-');
    let lang = parts.next().unwrap_or_default();
    (2..=3).contains(&lang.len())
        && lang.chars().all(|ch| ch.is_ascii_alphabetic())
        && parts
            .all(|p| (2..=8).contains(&p.len()) && p.chars().all(|ch| ch.is_ascii_alphanumeric()))
}
