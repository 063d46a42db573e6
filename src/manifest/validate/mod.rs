//! Turns parsed YAML trees into [`Desired`], collecting every problem on the way instead of
//! stopping at the first: unknown keys (with "did you mean"), wrong types, YAML 1.1 booleans,
//! title rules, emails, duplicates, and the server's role tables (docs/docspace-api.md, "Roles per room type").
//!
//! The key lists here are the contract the JSON Schema documents; a test keeps them in step
//! with `schema.rs`.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use crate::model::{
    self, Access, AccessParseError, LifetimePeriod, LinkKind, RoomType, SubjectKind,
    WatermarkAddition,
};

use super::desired::{
    Defaults, Desired, DesiredInvitee, DesiredLink, DesiredPassword, DesiredRoom, Lifetime,
    MembersMode, Origin, Quota, RoomState, Subject, Watermark,
};
use super::diagnostic::{Problem, Problems};
use super::secrets;
use super::source::SourceFile;
use super::text;
use super::yaml::{Node, Span, Value};

pub const TOP_KEYS: &[&str] = &[
    "version",
    "managed_tag",
    "manifest_set",
    "defaults",
    "rooms",
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
pub const LIFETIME_KEYS: &[&str] = &["value", "period", "delete_permanently"];
pub const WATERMARK_KEYS: &[&str] = &["text", "additions", "rotation"];

/// The longest link title and watermark text the server accepts (`StringLength(255)` on
/// both, docs/docspace-api.md, "Sharing links" and docs/docspace-api.md, "Room settings").
const LINK_TITLE_MAX_CHARS: usize = 255;
const WATERMARK_TEXT_MAX_CHARS: usize = 255;
/// The longest cover id (docs/docspace-api.md, "Room settings").
const COVER_MAX_CHARS: usize = 50;
use crate::model::{LINK_MAX_YEARS, LINK_USES_RANGE};
/// `lifetime.value`: 1 to 999 periods (docs/docspace-api.md, "Room settings").
const LIFETIME_MAX: i128 = *model::LIFETIME_VALUE_RANGE.end() as i128;

/// The longest tag name the server stores (docs/docspace-api.md, "Tags").
const TAG_MAX_CHARS: usize = 255;
/// The longest email the share call accepts (docs/docspace-api.md, "The share call").
const EMAIL_MAX_CHARS: usize = 255;

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
    for (index, tree) in trees.into_iter().enumerate() {
        let Some(tree) = tree else { continue };
        let mut cx = Cx {
            file: &desired.files[index],
            index,
            problems: &mut *problems,
            idents: &mut idents,
        };
        let (defaults, managed, set, rooms) = cx.document(&tree);
        if let Some(set) = set {
            sets.push((index, set));
        }
        if let Some((span, tag)) = managed {
            match &managed_seen {
                // One file declares the set (see `super::set`): a second declaration, even of
                // the same tag, would let a run of that file alone prune the other's rooms.
                Some((other, other_span, seen)) => {
                    let other_file = &desired.files[*other];
                    let (line, col) = other_file.line_col(other_span.offset);
                    let message = if seen.to_lowercase() == tag.to_lowercase() {
                        format!(
                            "`managed_tag` is declared again here, as in {}",
                            other_file.name
                        )
                    } else {
                        format!(
                            "`managed_tag` is declared again here (`{tag}`; `{seen}` in {})",
                            other_file.name
                        )
                    };
                    problems.push(
                        Problem::error("manifest::managed_tag_twice", message)
                            .at(&desired.files[index], span, "declared again")
                            .with_help(format!(
                                "declare `managed_tag` once: keep the one at {}:{line}:{col}, list the set's files beside it with `manifest_set: [...]`, and remove this one",
                                other_file.name
                            )),
                    );
                }
                None => managed_seen = Some((index, span, tag)),
            }
        }
        if let Some((span, defaults)) = defaults {
            match &defaults_seen {
                Some((other, other_span, seen)) if *seen != defaults => {
                    let other_file = &desired.files[*other];
                    let (line, col) = other_file.line_col(other_span.offset);
                    let p = Problem::error(
                        "manifest::conflicting_defaults",
                        "`defaults` differ between manifest files",
                    )
                    .at(&desired.files[index], span, "these defaults")
                    .with_help(format!(
                        "other defaults are at {}:{line}:{col}; give `defaults` in one file only, or the same in each",
                        other_file.name
                    ));
                    problems.push(p);
                }
                Some(_) => {}
                None => defaults_seen = Some((index, span, defaults)),
            }
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
    desired
}

/// `manifest_set:` as one file wrote it: the key's span and each path with its span.
type ListedSet = (Span, Vec<(String, Span)>);

/// Keeps the `manifest_set` of the file that declares `managed_tag` (see [`super::set`]); a
/// `manifest_set` in any other file is an error: the list belongs beside the marker it scopes.
fn manifest_set(
    desired: &mut Desired,
    managed: Option<&(usize, Span, String)>,
    sets: Vec<(usize, ListedSet)>,
    problems: &mut Problems,
) {
    for (file, (key, listed)) in sets {
        if managed.is_some_and(|(declaring, _, _)| *declaring == file) {
            desired.manifest_set = Some(super::set::ManifestSet {
                origin: Origin { file, span: key },
                listed: listed
                    .into_iter()
                    .map(|(written, span)| super::set::ListedPath {
                        written,
                        origin: Origin { file, span },
                    })
                    .collect(),
                scope: None,
            });
            continue;
        }
        let help = match managed {
            Some((declaring, _, _)) => format!(
                "`managed_tag` is declared in {}: list the set's files there, and remove this list",
                desired.files[*declaring].name
            ),
            None => "add `managed_tag: NAME` to this file, or remove the list: a set is named by the file that declares its marker tag".to_string(),
        };
        problems.push(
            Problem::error(
                "manifest::manifest_set_without_managed_tag",
                "`manifest_set` belongs in the file that declares `managed_tag`",
            )
            .at(&desired.files[file], key, "not beside `managed_tag`")
            .with_help(help),
        );
    }
}

/// What identifies a room, kept even for rooms with other errors so that duplicates are
/// reported in the same run.
struct RoomIdent {
    /// The title as the server will store it (the identity).
    title: String,
    /// The title as written, for messages.
    written: String,
    id: Option<i64>,
    origin: Origin,
}

/// Rooms defined twice (title compared case-insensitively after sanitising) and ids pinned twice.
fn check_duplicates(desired: &Desired, idents: &[RoomIdent], problems: &mut Problems) {
    let mut by_title: HashMap<String, &RoomIdent> = HashMap::new();
    let mut by_id: HashMap<i64, &RoomIdent> = HashMap::new();
    for room in idents {
        let key = room.title.to_lowercase();
        // Two rooms may share a title when both pin different ids: DocSpace allows duplicate
        // titles (docs/docspace-api.md, "Creating rooms") and `export` writes such portals that way.
        let both_pinned =
            |first: &RoomIdent| matches!((first.id, room.id), (Some(a), Some(b)) if a != b);
        if let Some(first) = by_title.get(&key).filter(|f| !both_pinned(f)) {
            // "🚀 A" and "🎉 A" are one room on the server (both stored as "__ A"): say so,
            // or the error reads as nonsense.
            let message = if first.written.to_lowercase() == room.written.to_lowercase() {
                format!("room `{}` is defined twice", room.written)
            } else {
                let stored = if first.title == room.title {
                    format!("DocSpace stores both as `{}`", room.title)
                } else {
                    format!(
                        "DocSpace stores them as `{}` and `{}`",
                        first.title, room.title
                    )
                };
                format!(
                    "room `{}` is the same room as `{}`: {stored}",
                    room.written, first.written
                )
            };
            problems.push(twice(
                desired,
                "manifest::duplicate_room",
                message,
                first.origin,
                room.origin,
                "titles are compared case-insensitively, in the form the server stores (characters such as `:` and emoji replaced with `_`); rename one room or merge the two",
            ));
        } else {
            by_title.insert(key, room);
        }
        if let Some(id) = room.id {
            if let Some(first) = by_id.get(&id) {
                problems.push(twice(
                    desired,
                    "manifest::duplicate_id",
                    format!("room id {id} is pinned by two rooms"),
                    first.origin,
                    room.origin,
                    "an id names one existing room; remove `id:` from one of them",
                ));
            } else {
                by_id.insert(id, room);
            }
        }
    }
}

/// A "defined twice" error pointing at the second place, with the first as a secondary label
/// (same file) or in the help line (another file).
fn twice(
    desired: &Desired,
    code: &'static str,
    message: String,
    first: Origin,
    second: Origin,
    help: &str,
) -> Problem {
    let second_file = &desired.files[second.file];
    let first_file = &desired.files[first.file];
    let p = Problem::error(code, message).at(second_file, second.span, "defined again here");
    if first.file == second.file {
        p.at(first_file, first.span, "first defined here")
            .with_help(help)
    } else {
        let (line, col) = first_file.line_col(first.span.offset);
        p.with_help(format!(
            "first defined at {}:{line}:{col}; {help}",
            first_file.name
        ))
    }
}

struct Cx<'a> {
    file: &'a SourceFile,
    index: usize,
    problems: &'a mut Problems,
    idents: &'a mut Vec<RoomIdent>,
}

impl Cx<'_> {
    fn origin(&self, span: Span) -> Origin {
        Origin {
            file: self.index,
            span,
        }
    }

    fn error(
        &mut self,
        code: &'static str,
        message: impl Into<String>,
        span: Span,
        label: impl Into<String>,
        help: Option<String>,
    ) {
        self.emit(Problem::error(code, message), span, label, help);
    }

    fn warning(
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

    fn wrong_type(&mut self, what: &str, expected: &str, node: &Node) {
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
    fn mapping<'n>(
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
    fn mapping_with<'n>(
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

    fn string(&mut self, what: &str, node: &Node) -> Option<String> {
        self.str_ref(what, node).map(str::to_owned)
    }

    /// As [`Cx::string`], borrowed from the tree: most values are only inspected, and a
    /// copy per scalar was a measurable share of validating a large manifest.
    fn str_ref<'n>(&mut self, what: &str, node: &'n Node) -> Option<&'n str> {
        match &node.value {
            Value::Str(s) => Some(s),
            _ => {
                self.wrong_type(what, "a string", node);
                None
            }
        }
    }

    fn boolean(&mut self, what: &str, node: &Node) -> Option<bool> {
        match &node.value {
            Value::Bool(b) => Some(*b),
            _ => {
                self.wrong_type(what, "true or false", node);
                None
            }
        }
    }

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
    fn document(
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
                _ => unreachable!("mapping() only returns known keys"),
            }
        }
        if !version_seen {
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

    /// `manifest_set:`: a list of file or directory paths (see [`super::set`]).
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
                    super::set::file_name(&self.file.name)
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

    /// One room: reads its keys, checks the settings its type takes and the keys it must
    /// have, then its invitees and links, and records its identity for the duplicate check.
    fn room(&mut self, node: &Node) -> Option<DesiredRoom> {
        let entries = self.mapping(node, "a room", ROOM_KEYS)?;
        let keys = self.room_keys(&entries);
        let mut ok = keys.ok;
        if let Some(room_type) = keys.room_type {
            ok &= self.settings_fit_type(room_type, &keys.typed);
        }
        if !keys.type_seen {
            ok = false;
            self.no_room_type(node, keys.title.as_ref().map(|(_, s)| *s));
        }
        if keys.title.is_none() && !entries_have(&entries, "title") {
            self.error(
                "manifest::no_title",
                "the room has no `title`",
                Span {
                    offset: node.span.offset,
                    len: 0,
                },
                "this room",
                Some("every room needs a `title:`; rooms are matched by it".into()),
            );
        }
        let room_type = keys.room_type;
        let invitees = match keys.invitees_node {
            Some(n) => self.invitees(n, room_type),
            None => Some(Vec::new()),
        };
        let links = match keys.links_node {
            Some(n) => self.links(n, room_type),
            None => Some(Vec::new()),
        };
        if let (true, Some(t), Some(links)) = (keys.links_exact, room_type, &links) {
            self.check_primary_link_listed(t, links, &entries);
        }
        let ((written, title), title_span) = keys.title?;
        self.idents.push(RoomIdent {
            title: title.clone(),
            written,
            id: keys.id,
            origin: self.origin(title_span),
        });
        if !ok {
            return None;
        }
        let settings = keys.settings;
        Some(DesiredRoom {
            title,
            room_type: room_type?,
            id: keys.id,
            tags: keys.tags,
            quota: keys.quota,
            deny_download: keys.deny_download,
            members: keys.members,
            state: keys.state,
            invitees: invitees?,
            links: links?,
            links_exact: keys.links_exact,
            color: settings.color,
            cover: settings.cover,
            indexing: settings.indexing,
            lifetime: settings.lifetime,
            watermark: settings.watermark,
            origin: self.origin(title_span),
        })
    }

    /// Reads each key of a room into [`RoomKeys`], reporting the values it refuses; the
    /// checks across keys come after, in [`Cx::room`].
    fn room_keys<'n>(&mut self, entries: &[(&'n str, &'n Node, &'n Node)]) -> RoomKeys<'n> {
        let mut k = RoomKeys {
            title: None,
            room_type: None,
            type_seen: false,
            id: None,
            tags: None,
            quota: None,
            deny_download: None,
            members: MembersMode::Additive,
            state: RoomState::Present,
            invitees_node: None,
            links_node: None,
            links_exact: false,
            settings: RoomSettings::default(),
            typed: Vec::new(),
            ok: true,
        };
        for (name, key, value) in entries {
            let name = *name;
            match name {
                "title" => k.title = self.title(value).map(|t| (t, value.span)),
                "type" => {
                    k.type_seen = true;
                    k.room_type = self.room_type(value);
                    k.ok &= k.room_type.is_some();
                }
                "id" => {
                    k.id = self.room_id(value);
                    k.ok &= k.id.is_some();
                }
                "tags" => k.tags = self.tags(value),
                "quota" => {
                    k.quota = self.quota(value);
                    k.ok &= k.quota.is_some();
                }
                "deny_download" => k.deny_download = self.boolean("deny_download", value),
                "members" => match self.choice(value, "members", &["additive", "exact"]) {
                    Some(0) => k.members = MembersMode::Additive,
                    Some(_) => k.members = MembersMode::Exact,
                    None => k.ok = false,
                },
                "state" => match self.choice(value, "state", &["present", "archived"]) {
                    Some(0) => k.state = RoomState::Present,
                    Some(_) => k.state = RoomState::Archived,
                    None => k.ok = false,
                },
                "invitees" => k.invitees_node = Some(*value),
                "links" => k.links_node = Some(*value),
                "links_exact" => match self.boolean("links_exact", value) {
                    Some(b) => k.links_exact = b,
                    None => k.ok = false,
                },
                _ => k.ok &= self.room_setting(name, key, value, &mut k.settings, &mut k.typed),
            }
        }
        k
    }

    /// A room's `id`: a positive integer that fits the server's 64-bit ids.
    fn room_id(&mut self, value: &Node) -> Option<i64> {
        match value.value {
            Value::Int(i) if i > 0 && i <= i128::from(i64::MAX) => Some(i as i64),
            Value::Int(_) => {
                self.error(
                    "manifest::room_id",
                    "a room id is a positive integer",
                    value.span,
                    "not a room id",
                    None,
                );
                None
            }
            _ => {
                self.wrong_type("id", "a positive integer (the room id)", value);
                None
            }
        }
    }

    /// Reads one of the room settings (`color`, `cover`, `indexing`, `lifetime`,
    /// `watermark`) into `settings`, noting in `typed` those only some room types take;
    /// false when its value is refused.
    fn room_setting<'k>(
        &mut self,
        name: &'k str,
        key: &Node,
        value: &Node,
        settings: &mut RoomSettings,
        typed: &mut Vec<(&'k str, Span, TypeTest)>,
    ) -> bool {
        match name {
            "color" => {
                settings.color = self.color(value);
                settings.color.is_some()
            }
            "cover" => {
                settings.cover = self.cover(value);
                settings.cover.is_some()
            }
            "indexing" => {
                settings.indexing = self.boolean("indexing", value);
                typed.push(("indexing", key.span, RoomType::takes_indexing));
                settings.indexing.is_some()
            }
            "lifetime" => {
                settings.lifetime = self.lifetime(value);
                typed.push(("lifetime", key.span, RoomType::takes_lifetime));
                settings.lifetime.is_some()
            }
            "watermark" => {
                settings.watermark = self.watermark(value);
                typed.push(("watermark", key.span, RoomType::takes_watermark));
                settings.watermark.is_some()
            }
            _ => unreachable!(),
        }
    }

    /// Reports each setting in `typed` that the room type does not take; true when the
    /// type takes them all.
    fn settings_fit_type(&mut self, room_type: RoomType, typed: &[(&str, Span, TypeTest)]) -> bool {
        let mut ok = true;
        for &(setting, span, takes) in typed {
            if takes(room_type) {
                continue;
            }
            ok = false;
            self.error(
                "manifest::setting_not_for_type",
                format!("`{setting}` is not available in a {room_type} room"),
                span,
                "not for this room type",
                // The server stores these for any room but acts on them in virtual data
                // rooms only (docs/docspace-api.md, "Room settings").
                Some(format!(
                    "DocSpace applies `{setting}` only in {} rooms; remove it from this room",
                    RoomType::names_where(takes)
                )),
            );
        }
        ok
    }

    /// Reports a room without `type`, at its title when it has one.
    fn no_room_type(&mut self, node: &Node, title_span: Option<Span>) {
        let names: Vec<&str> = RoomType::MANIFEST.iter().map(|t| t.name()).collect();
        self.error(
            "manifest::no_type",
            "the room has no `type`",
            title_span.unwrap_or(node.span),
            "this room",
            Some(format!("add `type:` with one of: {}", names.join(", "))),
        );
    }

    /// Warns when `links_exact` is set in a room that always keeps a primary external link
    /// but no external link is listed.
    ///
    /// Public and form-filling rooms always keep a primary external link: revoking it
    /// makes the server create a fresh one (docs/docspace-api.md, "Sharing links"), so
    /// `links_exact` without it would revoke a new primary link on every apply.
    fn check_primary_link_listed(
        &mut self,
        t: RoomType,
        links: &[DesiredLink],
        entries: &[(&str, &Node, &Node)],
    ) {
        if t.has_primary_link()
            && !links
                .iter()
                .any(|l| l.kind == LinkKind::External && l.access != Access::None)
            && let Some((_, key, _)) = entries.iter().find(|(n, _, _)| *n == "links_exact")
        {
            self.warning(
                "manifest::links_exact_primary",
                format!("`links_exact` in a {t} room that lists no external link"),
                key.span,
                "would revoke the primary link",
                Some("DocSpace keeps a primary external link in this room and creates a new one when it is revoked: every apply would revoke it again. List the primary link under `links` by its title".into()),
            );
        }
    }

    /// Checks a title; returns it as written (trimmed) and as the server will store it.
    fn title(&mut self, node: &Node) -> Option<(String, String)> {
        let raw = self.str_ref("title", node)?;
        let trimmed = raw.trim();
        if !self.title_usable(trimmed, node) {
            return None;
        }
        self.title_look_warnings(trimmed, node);
        let stored = model::sanitize_title(trimmed);
        if stored != trimmed {
            self.title_changed_warning(trimmed, &stored, node);
        }
        Some((trimmed.to_string(), stored))
    }

    /// Refuses a trimmed title the server cannot take or nobody could read: empty, with a
    /// control character, blank to the eye, or too long; true when it is usable.
    fn title_usable(&mut self, trimmed: &str, node: &Node) -> bool {
        if trimmed.is_empty() {
            self.error(
                "manifest::empty_title",
                "the room title is empty",
                node.span,
                "empty title",
                Some("give the room a name".into()),
            );
            return false;
        }
        // Control characters (NUL, ESC, BEL, newlines, tab) come from YAML escapes or block
        // scalars; the server would store them as they are (a tab as `_`), and a NUL or ESC
        // in a title breaks the web UI, terminals and plans.
        if let Some(c) = trimmed.chars().find(|c| text::is_control(*c)) {
            self.error(
                "manifest::title_control",
                format!(
                    "the room title contains a control character ({})",
                    describe_control(c)
                ),
                node.span,
                "control character",
                Some("remove it; in a double-quoted YAML string, escapes such as \\0, \\e, \\a, \\t and \\n produce one, and a `|` block keeps its line breaks".into()),
            );
            return false;
        }
        if trimmed.chars().all(text::is_blank) {
            let shown: Vec<String> = dedup(trimmed.chars().filter(|c| !c.is_whitespace()))
                .into_iter()
                .map(text::code_point)
                .collect();
            self.error(
                "manifest::blank_title",
                format!(
                    "the room title is blank to the eye: it holds only invisible characters ({})",
                    shown.join(", ")
                ),
                node.span,
                "invisible title",
                Some("give the room a name that can be read; a room nobody can see the name of cannot be told apart".into()),
            );
            return false;
        }
        let chars = model::server_len(trimmed);
        if chars > model::TITLE_MAX_CHARS {
            self.error(
                "manifest::long_title",
                format!(
                    "the room title is {chars} characters long as DocSpace counts them (UTF-16 units); the limit is {}",
                    model::TITLE_MAX_CHARS
                ),
                node.span,
                "title too long",
                Some("shorten the title (the server counts UTF-16 units: an emoji counts as two)".into()),
            );
            return false;
        }
        true
    }

    /// Warns about a title that does not read as it is written: bidirectional controls,
    /// invisible characters, or look-alike letters of mixed scripts.
    fn title_look_warnings(&mut self, trimmed: &str, node: &Node) {
        if let Some(c) = trimmed.chars().find(|c| text::is_bidi_control(*c)) {
            self.warning(
                "manifest::title_bidi",
                format!(
                    "the room title contains a bidirectional control ({}), which changes how it is displayed",
                    text::code_point(c)
                ),
                node.span,
                "reorders the text around it",
                Some("remove it unless you mean it: the title will not read in DocSpace the way it is written here".into()),
            );
        } else if let Some(c) = trimmed.chars().find(|c| text::is_hidden_in_title(*c)) {
            // "Sa\u{200B}les" looks like "Sales" but is another room to the server.
            self.warning(
                "manifest::title_invisible",
                format!(
                    "the room title contains an invisible character ({})",
                    text::code_point(c)
                ),
                node.span,
                "invisible character",
                Some("remove it: the title looks like one without it, but is a different room to DocSpace".into()),
            );
        }
        if let Some(mixed) = text::mixed_script_word(trimmed) {
            self.warning(
                "manifest::confusable_title",
                format!(
                    "the room title mixes scripts in the word `{}`: {}",
                    mixed.word,
                    mixed.describe()
                ),
                node.span,
                "look-alike letters",
                Some("letters of different scripts that look alike make two titles look the same; write each word in one script".into()),
            );
        }
    }

    /// Warns that the server will store the title with some characters replaced, and says which.
    fn title_changed_warning(&mut self, trimmed: &str, stored: &str, node: &Node) {
        let mut what = Vec::new();
        if trimmed
            .chars()
            .any(|c| model::TITLE_REPLACED_CHARS.contains(&c))
        {
            what.push("the characters \\t * + : \" < > ? | \\ / become `_`");
        }
        if trimmed.chars().any(|c| c.len_utf16() == 2) {
            what.push("emoji and other characters outside the Basic Multilingual Plane become `__` (one `_` per UTF-16 unit)");
        }
        self.warning(
            "manifest::title_changed",
            format!("DocSpace will store this title as `{stored}`"),
            node.span,
            "contains characters the server replaces with `_`",
            Some(format!(
                "{}; the room is matched by the stored title, so this works, but DocSpace will show `{stored}`: choose a title without them to see it as written",
                what.join("; ")
            )),
        );
    }

    fn room_type(&mut self, node: &Node) -> Option<RoomType> {
        let text = self.str_ref("type", node)?;
        if let Some(t) = RoomType::parse_manifest(text) {
            return Some(t);
        }
        let names: Vec<&str> = RoomType::MANIFEST.iter().map(|t| t.name()).collect();
        let help = match did_you_mean(text, &names) {
            Some(s) => format!("did you mean `{s}`? Room types: {}", names.join(", ")),
            None => format!("room types: {}", names.join(", ")),
        };
        self.error(
            "manifest::room_type",
            format!("unknown room type `{text}`"),
            node.span,
            "unknown room type",
            Some(help),
        );
        None
    }

    fn choice(&mut self, node: &Node, what: &str, options: &[&str]) -> Option<usize> {
        let text = self.str_ref(what, node)?;
        if let Some(i) = options
            .iter()
            .position(|o| o.eq_ignore_ascii_case(text.trim()))
        {
            return Some(i);
        }
        self.error(
            "manifest::bad_value",
            format!(
                "`{what}` must be one of {}, found `{text}`",
                options.join(", ")
            ),
            node.span,
            "unknown value",
            did_you_mean(text, options).map(|s| format!("did you mean `{s}`?")),
        );
        None
    }

    fn tags(&mut self, node: &Node) -> Option<BTreeSet<String>> {
        let Value::Seq(items) = &node.value else {
            self.wrong_type("tags", "a list of tag names", node);
            return None;
        };
        let mut set = BTreeSet::new();
        let mut ok = true;
        for item in items {
            let Some(tag) = self.tag_name("a tag", item) else {
                ok = false;
                continue;
            };
            if !set.insert(tag.clone()) {
                self.warning(
                    "manifest::duplicate_tag",
                    format!("tag `{tag}` is listed twice"),
                    item.span,
                    "listed again",
                    None,
                );
            }
        }
        ok.then_some(set)
    }

    /// A tag name (of `tags:` or `managed_tag:`), trimmed; the same rules for both, since the
    /// marker is an ordinary tag on the portal (docs/docspace-api.md, "Tags").
    fn tag_name(&mut self, what: &str, item: &Node) -> Option<String> {
        // `tags: [2026]` is a natural thing to write: take integers as their text.
        let tag = match &item.value {
            Value::Int(i) => i.to_string(),
            _ => self.string(what, item)?,
        };
        let tag = tag.trim().to_string();
        if tag.is_empty() {
            self.error(
                "manifest::empty_tag",
                "a tag name is empty",
                item.span,
                "empty tag",
                None,
            );
            return None;
        }
        if model::server_len(&tag) > TAG_MAX_CHARS {
            self.error(
                "manifest::long_tag",
                format!("a tag name is longer than {TAG_MAX_CHARS} characters"),
                item.span,
                "tag too long",
                None,
            );
            return None;
        }
        Some(tag)
    }

    fn quota(&mut self, node: &Node) -> Option<Quota> {
        let parsed = match &node.value {
            Value::Int(i) if *i >= 0 => u64::try_from(*i).ok().map(Quota::Bytes),
            Value::Str(s) => parse_quota(s),
            _ => None,
        };
        if parsed.is_none() {
            self.error(
                "manifest::quota",
                format!("`quota` must be a size such as 10GiB, a number of bytes, or unlimited; found {}", match &node.value {
                    Value::Str(s) => format!("`{s}`"),
                    other => other.kind().to_string(),
                }),
                node.span,
                "not a size",
                Some("units: B, KB, MB, GB, TB (powers of 1000) and KiB, MiB, GiB, TiB (powers of 1024)".into()),
            );
        }
        parsed
    }

    fn invitees(
        &mut self,
        node: &Node,
        room_type: Option<RoomType>,
    ) -> Option<Vec<DesiredInvitee>> {
        let items = match &node.value {
            Value::Seq(items) => items,
            Value::Null => return Some(Vec::new()),
            _ => {
                self.wrong_type("invitees", "a list of invitees", node);
                return None;
            }
        };
        let mut out = Vec::with_capacity(items.len());
        let mut seen: HashMap<Subject, Span> = HashMap::new();
        let mut ok = true;
        for item in items {
            let Some(inv) = self.invitee(item, room_type) else {
                ok = false;
                continue;
            };
            let key = match &inv.subject {
                Subject::Group(g) => Subject::Group(g.to_lowercase()),
                s => s.clone(),
            };
            if let Some(first) = seen.get(&key) {
                ok = false;
                let p = Problem::error(
                    "manifest::duplicate_invitee",
                    format!("`{}` is listed twice in this room", inv.subject.label()),
                )
                .at(self.file, inv.origin.span, "listed again here")
                .at(self.file, *first, "first listed here")
                .with_help("emails and group names are compared case-insensitively; keep one entry with the access you want");
                self.problems.push(p);
            } else {
                seen.insert(key, inv.origin.span);
                out.push(inv);
            }
        }
        ok.then_some(out)
    }

    /// One invitee of a room: reads its keys, settles its subject (a person or a group),
    /// then checks its access against the room type.
    fn invitee(&mut self, node: &Node, room_type: Option<RoomType>) -> Option<DesiredInvitee> {
        let entries = self.mapping(node, "an invitee", INVITEE_KEYS)?;
        let mut email = None;
        let mut group = None;
        let mut access: Option<(Access, Span)> = None;
        let mut access_seen = false;
        let mut expires: Option<(DateTime<Utc>, Span)> = None;
        let mut new_account: Option<(bool, Span)> = None;
        let mut ok = true;
        for (name, key, value) in &entries {
            match *name {
                "new_account" => match self.boolean("new_account", value) {
                    Some(b) => new_account = Some((b, key.span)),
                    None => ok = false,
                },
                "expires" => match self.moment("expires", value) {
                    Some(m) => expires = Some((m, key.span)),
                    None => ok = false,
                },
                "email" => match self.str_ref("email", value) {
                    Some(e) => email = Some((e, value.span)),
                    None => ok = false,
                },
                "group" => match self.group_name(value) {
                    Some(g) => group = Some((g, value.span)),
                    None => ok = false,
                },
                "access" => {
                    access_seen = true;
                    match self.access(value) {
                        Some(a) => access = Some((a, value.span)),
                        None => ok = false,
                    }
                }
                _ => unreachable!(),
            }
        }
        let (subject, subject_span) = self.invitee_subject(node, email, group, ok)?;
        if !access_seen {
            self.no_access(&subject, subject_span, room_type);
            return None;
        }
        let (access, access_span) = access?;
        if !ok {
            return None;
        }
        if let (Access::None, Some((_, span))) = (access, expires) {
            self.error(
                "manifest::expires_on_none",
                "`expires` on an invitee with `access: none` means nothing",
                span,
                "nothing to expire",
                Some("`access: none` removes the subject now; remove `expires`, or give the access they should have until that moment".into()),
            );
            return None;
        }
        if let (Subject::Group(_), Some((true, span))) = (&subject, new_account) {
            self.error(
                "manifest::new_account_on_group",
                "`new_account` is for a person invited by email, not a group",
                span,
                "not for a group",
                Some("groups are never created by an invitation; remove `new_account`".into()),
            );
            return None;
        }
        if let Some(room_type) = room_type
            && !self.invitee_access_fits(room_type, subject.kind(), (access, access_span))
        {
            return None;
        }
        Some(DesiredInvitee {
            new_account: new_account.is_some_and(|(b, _)| b),
            written_email: match &subject {
                Subject::Email(_) => email.map(|(e, _)| e.trim().to_string()),
                Subject::Group(_) => None,
            },
            subject,
            access,
            expires: expires.map(|(m, _)| m),
            origin: self.origin(subject_span),
        })
    }

    /// Reports an invitee without `access`, listing the levels the room type offers it.
    fn no_access(&mut self, subject: &Subject, span: Span, room_type: Option<RoomType>) {
        let allowed = room_type.map(|t| allowed_names(t, subject.kind()));
        self.error(
            "manifest::no_access",
            format!("invitee `{}` has no `access`", subject.label()),
            span,
            "no access level",
            Some(match allowed {
                Some(names) => format!("add `access:` with one of: {names}"),
                None => "add `access:`, e.g. `access: read`".into(),
            }),
        );
    }

    /// An invitee's `group`: the group's name, trimmed and not empty.
    fn group_name(&mut self, value: &Node) -> Option<String> {
        let g = self.str_ref("group", value)?;
        if g.trim().is_empty() {
            self.error(
                "manifest::empty_group",
                "the group name is empty",
                value.span,
                "empty",
                None,
            );
            return None;
        }
        Some(g.trim().to_string())
    }

    /// The invitee's subject and where it is written: exactly one of `email` and `group`.
    /// A missing subject is reported only when the invitee had no other mistake (`ok`).
    fn invitee_subject(
        &mut self,
        node: &Node,
        email: Option<(&str, Span)>,
        group: Option<(String, Span)>,
        ok: bool,
    ) -> Option<(Subject, Span)> {
        match (email, group) {
            (Some(_), Some((_, span))) => {
                self.error(
                    "manifest::email_and_group",
                    "an invitee has both `email` and `group`",
                    span,
                    "second subject",
                    Some("split it into two invitees: one with `email`, one with `group`".into()),
                );
                None
            }
            (None, None) => {
                if ok {
                    self.error(
                        "manifest::no_subject",
                        "an invitee needs `email` or `group`",
                        Span {
                            offset: node.span.offset,
                            len: 0,
                        },
                        "this invitee",
                        Some("write `email: person@example.com` or `group: Team name`".into()),
                    );
                }
                None
            }
            (Some((e, span)), None) => Some((Subject::Email(self.invitee_email(e, span)?), span)),
            (None, Some((g, span))) => Some((Subject::Group(g), span)),
        }
    }

    /// An invitee's email, normalised: refused when invalid, warned about when it mixes
    /// scripts.
    fn invitee_email(&mut self, e: &str, span: Span) -> Option<String> {
        let normal = model::normalise_email(e);
        if let Err(why) = check_email(&normal) {
            self.error(
                "manifest::email",
                format!("`{}` is not a valid email address: {why}", e.escape_debug()),
                span,
                "invalid email",
                Some("write the address as name@domain.tld".into()),
            );
            return None;
        }
        // A homograph domain can be registered by anyone: the invitation would go
        // to them. Valid, so a warning, but one that says which letter is odd.
        if let Some(mixed) = text::mixed_script_word(&normal) {
            self.warning(
                "manifest::confusable_email",
                format!(
                    "the email `{e}` mixes scripts in `{}`: {}",
                    mixed.word,
                    mixed.describe()
                ),
                span,
                "look-alike letters",
                Some("check that this is the address you mean: a look-alike domain may belong to someone else".into()),
            );
        }
        Some(normal)
    }

    /// Checks that the room type lets this kind of subject have this access; true when it
    /// does (docs/docspace-api.md, "Roles per room type").
    fn invitee_access_fits(
        &mut self,
        room_type: RoomType,
        kind: SubjectKind,
        (access, access_span): (Access, Span),
    ) -> bool {
        if room_type.allows(access, kind) {
            return true;
        }
        let message = if kind == SubjectKind::Group && access == Access::RoomManager {
            "a group cannot be a room manager".to_string()
        } else {
            format!(
                "`{access}` is not available {} in a {} room",
                if kind == SubjectKind::Group {
                    "for groups"
                } else {
                    "for people"
                },
                room_type
            )
        };
        self.error(
            "manifest::access_not_allowed",
            message,
            access_span,
            "not allowed here",
            Some(format!(
                "a {} room accepts for {}: {}",
                room_type,
                if kind == SubjectKind::Group {
                    "groups"
                } else {
                    "people"
                },
                allowed_names(room_type, kind)
            )),
        );
        false
    }

    /// A moment (`expires:`): a date, meaning the start of that day in UTC, or a date and
    /// time with its offset. A time without an offset is refused: the tool would have to
    /// guess a time zone, and a CI runner's is rarely the author's.
    fn moment(&mut self, what: &str, node: &Node) -> Option<DateTime<Utc>> {
        const FORMS: &str = "a date (2027-01-31, the start of that day in UTC) or a date and time with offset (2027-01-31T18:00:00+01:00)";
        let Value::Str(text) = &node.value else {
            self.wrong_type(what, "a date such as 2027-01-31", node);
            return None;
        };
        match parse_moment(text) {
            Ok(m) => Some(m),
            Err(MomentError::NoOffset) => {
                self.error(
                    "manifest::expires_no_offset",
                    format!("`{what}` has a time but no offset: `{}`", text.trim()),
                    node.span,
                    "which time zone?",
                    Some(format!(
                        "add the offset, as in `{}+01:00`, or `Z` for UTC; a date alone (2027-01-31) means the start of that day in UTC",
                        text.trim()
                    )),
                );
                None
            }
            Err(MomentError::Invalid) => {
                self.error(
                    "manifest::expires",
                    format!("`{what}` is not a date: `{}`", text.trim()),
                    node.span,
                    "not a date",
                    Some(format!("write {FORMS}")),
                );
                None
            }
        }
    }

    /// `color:` 6 hex digits; a leading `#` is dropped, since the server stores the digits
    /// only and refuses 7 characters (docs/docspace-api.md, "Room settings").
    fn color(&mut self, node: &Node) -> Option<String> {
        let text = match &node.value {
            Value::Str(s) => s.trim().to_string(),
            // `color: 123456` reads as a number; its digits are still a colour.
            Value::Int(i) if i.to_string() == self.written(node) => i.to_string(),
            // `001122`, `1e3456` or `0x1c6ddc` read as a number that is not what is written:
            // show it as written, and say to quote it.
            Value::Int(_) | Value::Float(_) => {
                self.color_number(node);
                return None;
            }
            _ => {
                self.wrong_type("color", "6 hex digits such as 1c6ddc", node);
                return None;
            }
        };
        let digits = text.strip_prefix('#').unwrap_or(&text);
        if digits.len() == 6 && digits.chars().all(|c| c.is_ascii_hexdigit()) {
            return Some(digits.to_string());
        }
        self.error(
            "manifest::color",
            format!("`{text}` is not a colour: DocSpace takes 6 hex digits"),
            node.span,
            "not 6 hex digits",
            Some("write 6 hex digits such as 1c6ddc (a leading # is dropped); quote a colour that starts with # or with 0".into()),
        );
        None
    }

    /// A `color:` that YAML reads as a number other than its digits (`001122` is 1122,
    /// `0x1c6ddc` is 1863132): named as written, with the quoted form to write instead.
    fn color_number(&mut self, node: &Node) {
        let written = self.written(node).to_string();
        let digits = written
            .strip_prefix("0x")
            .or_else(|| written.strip_prefix("0X"))
            .unwrap_or(&written);
        let hex = digits.len() == 6 && digits.chars().all(|c| c.is_ascii_hexdigit());
        let (message, label, help) = if hex && digits == written {
            (
                format!("`color: {written}` is read as a number, not as the colour {written}"),
                "read as a number",
                format!(
                    "quote the colour: `color: \"{written}\"` (YAML reads unquoted digits as a number, and leading zeros or an `e` change it)"
                ),
            )
        } else if hex {
            (
                format!("`{written}` is not a colour: DocSpace takes 6 hex digits, without `0x`"),
                "not 6 hex digits",
                format!("write the digits alone, quoted: `color: \"{digits}\"`"),
            )
        } else {
            (
                format!("`{written}` is not a colour: DocSpace takes 6 hex digits"),
                "not 6 hex digits",
                "write 6 hex digits such as 1c6ddc, quoted: `color: \"1c6ddc\"`".to_string(),
            )
        };
        self.error("manifest::color", message, node.span, label, Some(help));
    }

    /// The text of `node` as written in the file (quotes included).
    fn written(&self, node: &Node) -> &str {
        self.file
            .text
            .get(node.span.offset..node.span.offset + node.span.len)
            .unwrap_or_default()
            .trim()
    }

    /// `cover:` a cover id. The ids come from the portal (`GET rooms/covers`) and cannot be
    /// checked offline: only the server's length limit is.
    fn cover(&mut self, node: &Node) -> Option<String> {
        let text = self.str_ref("cover", node)?.trim();
        let problem = if text.is_empty() {
            Some("the cover id is empty".to_string())
        } else if model::server_len(text) > COVER_MAX_CHARS {
            Some(format!(
                "the cover id is longer than {COVER_MAX_CHARS} characters"
            ))
        } else if text
            .chars()
            .any(|c| text::is_control(c) || c.is_whitespace())
        {
            Some("the cover id contains spaces or control characters".to_string())
        } else {
            None
        };
        if let Some(message) = problem {
            self.error(
                "manifest::cover",
                message,
                node.span,
                "not a cover id",
                Some("use an id from the portal's list of covers (GET /api/2.0/files/rooms/covers), up to 50 characters".into()),
            );
            return None;
        }
        Some(text.to_string())
    }

    fn lifetime(&mut self, node: &Node) -> Option<Lifetime> {
        let entries = self.mapping(node, "lifetime", LIFETIME_KEYS)?;
        let mut value = None;
        let mut period = None;
        let mut delete_permanently = Some(false);
        let mut ok = true;
        for (name, _, v) in &entries {
            match *name {
                "value" => {
                    value = self.lifetime_value(v);
                    ok &= value.is_some();
                }
                "period" => {
                    period = self.lifetime_period(v);
                    ok &= period.is_some();
                }
                "delete_permanently" => {
                    delete_permanently = self.boolean("lifetime.delete_permanently", v);
                    ok &= delete_permanently.is_some();
                }
                _ => unreachable!(),
            }
        }
        let missing: Vec<&str> = ["value", "period"]
            .into_iter()
            .filter(|k| !entries_have(&entries, k))
            .collect();
        if !missing.is_empty() {
            self.error(
                "manifest::lifetime_incomplete",
                format!(
                    "`lifetime` needs {}",
                    missing
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(" and ")
                ),
                node.span,
                "incomplete lifetime",
                Some("write for example `lifetime: {value: 90, period: days}`: files older than that are removed".into()),
            );
            return None;
        }
        if !ok {
            return None;
        }
        Some(Lifetime {
            value: value?,
            period: period?,
            delete_permanently: delete_permanently?,
        })
    }

    /// `lifetime.value`: a whole number of periods from 1 to [`LIFETIME_MAX`].
    fn lifetime_value(&mut self, v: &Node) -> Option<u16> {
        match v.value {
            Value::Int(i) if (1..=LIFETIME_MAX).contains(&i) => Some(i as u16),
            Value::Int(_) => {
                self.error(
                    "manifest::lifetime_value",
                    format!("`lifetime.value` must be from 1 to {LIFETIME_MAX}"),
                    v.span,
                    "out of range",
                    Some("DocSpace keeps files for 1 to 999 days, months or years".into()),
                );
                None
            }
            _ => {
                self.wrong_type("lifetime.value", "a whole number from 1 to 999", v);
                None
            }
        }
    }

    /// `lifetime.period`: days, months or years, with a suggestion for a typo.
    fn lifetime_period(&mut self, v: &Node) -> Option<LifetimePeriod> {
        let text = self.str_ref("lifetime.period", v)?;
        let period = LifetimePeriod::parse_manifest(text);
        if period.is_none() {
            let names: Vec<&str> = LifetimePeriod::ALL.iter().map(|p| p.name()).collect();
            self.error(
                "manifest::lifetime_period",
                format!("unknown lifetime period `{text}`"),
                v.span,
                "unknown period",
                Some(match did_you_mean(text, &names) {
                    Some(s) => format!("did you mean `{s}`? Periods: {}", names.join(", ")),
                    None => format!("periods: {}", names.join(", ")),
                }),
            );
        }
        period
    }

    /// A room's `watermark`: text, additions and rotation, showing at least something.
    fn watermark(&mut self, node: &Node) -> Option<Watermark> {
        let entries = self.mapping(node, "watermark", WATERMARK_KEYS)?;
        let mut text = None;
        let mut additions = BTreeSet::new();
        let mut rotation = 0;
        let mut ok = true;
        for (name, _, v) in &entries {
            match *name {
                "text" => match self.watermark_text(v) {
                    Some(t) => text = t,
                    None => ok = false,
                },
                "additions" => match self.watermark_additions(v) {
                    Some(a) => additions = a,
                    None => ok = false,
                },
                "rotation" => match self.watermark_rotation(v) {
                    Some(r) => rotation = r,
                    None => ok = false,
                },
                _ => unreachable!(),
            }
        }
        if !ok {
            return None;
        }
        if text.is_none() && additions.is_empty() {
            self.error(
                "manifest::watermark_empty",
                "the watermark shows nothing: it has no `text` and no `additions`",
                node.span,
                "empty watermark",
                Some("give `text`, `additions` (user_name, user_email, user_ip, current_date, room_name), or both".into()),
            );
            return None;
        }
        Some(Watermark {
            text,
            additions,
            rotation,
        })
    }

    /// `watermark.text`, trimmed: `Some(None)` when empty, `None` when refused (too long,
    /// or holding a control character).
    fn watermark_text(&mut self, v: &Node) -> Option<Option<String>> {
        let t = self.str_ref("watermark.text", v)?.trim();
        if model::server_len(t) > WATERMARK_TEXT_MAX_CHARS {
            self.error(
                "manifest::watermark_text",
                format!("the watermark text is longer than {WATERMARK_TEXT_MAX_CHARS} characters"),
                v.span,
                "too long",
                Some(
                    "shorten the text (the server counts UTF-16 units: an emoji counts as two)"
                        .into(),
                ),
            );
            None
        } else if let Some(c) = t.chars().find(|c| text::is_control(*c)) {
            self.error(
                "manifest::watermark_text",
                format!(
                    "the watermark text contains a control character ({})",
                    describe_control(c)
                ),
                v.span,
                "control character",
                None,
            );
            None
        } else {
            Some((!t.is_empty()).then(|| t.to_string()))
        }
    }

    /// `watermark.additions`: known names, each once (a repeat is a warning); `None` when
    /// any item is refused, after reporting every one.
    fn watermark_additions(&mut self, v: &Node) -> Option<BTreeSet<WatermarkAddition>> {
        let Value::Seq(items) = &v.value else {
            self.wrong_type("watermark.additions", "a list of names", v);
            return None;
        };
        let names: Vec<&str> = WatermarkAddition::ALL.iter().map(|a| a.name()).collect();
        let mut additions = BTreeSet::new();
        let mut ok = true;
        for item in items {
            let Some(written) = self.str_ref("a watermark addition", item) else {
                ok = false;
                continue;
            };
            match WatermarkAddition::parse_manifest(written) {
                Some(a) if additions.contains(&a) => self.warning(
                    "manifest::duplicate_watermark_addition",
                    format!("`{a}` is listed twice"),
                    item.span,
                    "listed again",
                    None,
                ),
                Some(a) => {
                    additions.insert(a);
                }
                None => {
                    ok = false;
                    self.error(
                        "manifest::watermark_addition",
                        format!("unknown watermark addition `{written}`"),
                        item.span,
                        "unknown addition",
                        Some(match did_you_mean(written, &names) {
                            Some(s) => {
                                format!("did you mean `{s}`? Additions: {}", names.join(", "))
                            }
                            None => format!("additions: {}", names.join(", ")),
                        }),
                    );
                }
            }
        }
        ok.then_some(additions)
    }

    /// `watermark.rotation`: whole degrees from -360 to 360.
    fn watermark_rotation(&mut self, v: &Node) -> Option<i32> {
        match v.value {
            Value::Int(i) if (-360..=360).contains(&i) => Some(i as i32),
            _ => {
                self.error(
                    "manifest::watermark_rotation",
                    "`watermark.rotation` must be an angle in whole degrees from -360 to 360",
                    v.span,
                    "not an angle",
                    Some("0 is horizontal and -45 diagonal, the two angles the DocSpace web client offers".into()),
                );
                None
            }
        }
    }

    /// `links:` of a room: each link checked, then the room's rules over all of them:
    /// titles unique, at most one invitation link, the external links the type holds.
    fn links(&mut self, node: &Node, room_type: Option<RoomType>) -> Option<Vec<DesiredLink>> {
        let items = match &node.value {
            Value::Seq(items) => items,
            _ => {
                self.wrong_type("links", "a list of links", node);
                return None;
            }
        };
        let mut out = Vec::with_capacity(items.len());
        let mut seen: HashMap<String, Span> = HashMap::new();
        let mut counts: HashMap<LinkKind, usize> = HashMap::new();
        let mut ok = true;
        for item in items {
            let Some(link) = self.link(item, room_type) else {
                ok = false;
                continue;
            };
            // Links are matched by title; the portal shows titles that differ in case alike.
            let key = link.title.to_lowercase();
            if let Some(first) = seen.get(&key) {
                ok = false;
                let p = Problem::error(
                    "manifest::duplicate_link",
                    format!("the link `{}` is listed twice in this room", link.title),
                )
                .at(self.file, link.origin.span, "listed again here")
                .at(self.file, *first, "first listed here")
                .with_help("links are matched by title, compared case-insensitively; give each link a title of its own");
                self.problems.push(p);
                continue;
            }
            seen.insert(key, link.origin.span);
            if let (Some(room_type), false) = (room_type, link.access == Access::None) {
                let count = counts.entry(link.kind).or_default();
                *count += 1;
                let max = room_type.max_links(link.kind);
                // A kind the type does not take at all was reported on the link itself.
                if *count > max && max > 0 {
                    ok = false;
                    let (message, help) = match link.kind {
                        LinkKind::Invitation => (
                            "a room has one invitation link at most".to_string(),
                            "DocSpace keeps a single invitation link per room; remove this one or merge it into the first".to_string(),
                        ),
                        LinkKind::External if room_type == RoomType::FormFilling => (
                            "a form-filling room has one external link: its primary link".to_string(),
                            "DocSpace allows no additional external links in form-filling rooms; declare the primary link once".to_string(),
                        ),
                        LinkKind::External => (
                            format!("a {room_type} room holds {max} external links at most"),
                            format!(
                                "DocSpace allows the primary external link and {} more; remove the links beyond",
                                model::MAX_ADDITIONAL_EXTERNAL_LINKS
                            ),
                        ),
                    };
                    self.error(
                        "manifest::too_many_links",
                        message,
                        link.origin.span,
                        "one too many",
                        Some(help),
                    );
                }
            }
            out.push(link);
        }
        ok.then_some(out)
    }

    /// One link of a room: reads its keys, then checks that they fit together and fit the
    /// room type, reporting every mistake of the link in one run.
    fn link(&mut self, node: &Node, room_type: Option<RoomType>) -> Option<DesiredLink> {
        let entries = self.mapping_with(node, "a link", LINK_KEYS, true)?;
        let mut title: Option<(String, Span)> = None;
        let mut kind: Option<(LinkKind, Span)> = None;
        let mut access: Option<(Access, Span)> = None;
        let mut expires = None;
        let mut internal = None;
        let mut deny_download = None;
        let mut max_uses = None;
        let mut password = None;
        // Options present, with their key, for the checks that depend on kind and access.
        let mut options: Vec<(&str, Span)> = Vec::new();
        let mut ok = true;
        let now = Utc::now();
        for (name, key, value) in &entries {
            let name = *name;
            if !matches!(name, "title" | "kind" | "access") {
                options.push((name, key.span));
            }
            match name {
                "title" => match self.link_title(value) {
                    Some(t) => title = Some((t, value.span)),
                    None => ok = false,
                },
                "kind" => match self.link_kind(value) {
                    Some(k) => kind = Some((k, value.span)),
                    None => ok = false,
                },
                "access" => match self.access(value) {
                    Some(a) => access = Some((a, value.span)),
                    None => ok = false,
                },
                // `never`: the link must not expire (removing an expiry is a downgrade).
                "expires" if is_word(value, "never") => expires = Some(None),
                "expires" => match self.link_expires(value, now) {
                    Some(m) => expires = Some(Some(m)),
                    None => ok = false,
                },
                "internal" => match self.boolean("internal", value) {
                    // The server stores every public-room link as not internal, whatever is
                    // sent (docs/docspace-api.md, "Sharing links"): asking for it would be a
                    // change on every plan.
                    Some(true) if room_type == Some(RoomType::Public) => {
                        ok = false;
                        self.error(
                            "manifest::link_internal_in_public_room",
                            "links of a public room cannot be limited to signed-in users",
                            value.span,
                            "not in a public room",
                            Some("DocSpace stores `internal: false` on every public-room link; remove `internal: true`, or use a custom room".into()),
                        );
                    }
                    Some(b) => internal = Some(b),
                    None => ok = false,
                },
                "deny_download" => match self.boolean("deny_download", value) {
                    Some(b) => deny_download = Some(b),
                    None => ok = false,
                },
                "max_uses" if is_word(value, "unlimited") => max_uses = Some(None),
                "max_uses" => match self.max_uses(value) {
                    Some(n) => max_uses = Some(Some(n)),
                    None => ok = false,
                },
                "password_env" => match self.password_env(value) {
                    Some(v) => password = Some(DesiredPassword::FromEnv(v)),
                    None => ok = false,
                },
                "keep_password" => match self.boolean("keep_password", value) {
                    Some(true) => password = Some(DesiredPassword::Keep),
                    Some(false) => password = Some(DesiredPassword::Remove),
                    None => ok = false,
                },
                _ => unreachable!(),
            }
        }
        let revoked = matches!(access, Some((Access::None, _)));
        ok &= self.link_keys_present(node, &entries, revoked);
        ok &= self.link_password_keys(&entries);
        ok &= self.link_consistent(&options, kind, access, room_type);
        if !ok {
            return None;
        }
        let (title, title_span) = title?;
        Some(DesiredLink {
            title,
            // A revoke written without `kind` (see `link_keys_present`): the kind is not used
            // for a revoke, which takes the live link's own.
            kind: kind.map_or(LinkKind::External, |(k, _)| k),
            access: access?.0,
            expires,
            internal,
            deny_download,
            max_uses,
            password,
            origin: self.origin(title_span),
        })
    }

    /// A link's `kind`: `external` or `invitation`, with a suggestion for a typo.
    fn link_kind(&mut self, value: &Node) -> Option<LinkKind> {
        let text = self.str_ref("kind", value)?;
        let kind = LinkKind::parse_manifest(text);
        if kind.is_none() {
            self.error(
                "manifest::link_kind",
                format!("unknown link kind `{text}`"),
                value.span,
                "unknown kind",
                Some(
                    match did_you_mean(text, &["external", "invitation"]) {
                        Some(s) => format!("did you mean `{s}`? Link kinds: external, invitation"),
                        None => "link kinds: external (opens the room to people without an account), invitation (makes whoever follows it a member)".to_string(),
                    },
                ),
            );
        }
        kind
    }

    /// A link's `expires`: a moment at most [`LINK_MAX_YEARS`] ahead of `now`, the range the
    /// server accepts. A moment already past is valid: the plan leaves such a link as it is,
    /// with a note (a time-boxed link that ran out is not an error in the manifest).
    fn link_expires(&mut self, value: &Node, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let m = self.moment("expires", value)?;
        // Checked: `now` plus the server's limit cannot overflow today, but no time
        // arithmetic here may panic.
        let latest = now
            .checked_add_months(chrono::Months::new(12 * LINK_MAX_YEARS))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        if m > latest {
            self.error(
                "manifest::link_expires_too_late",
                format!("the link's `expires` is more than {LINK_MAX_YEARS} years ahead"),
                value.span,
                "too far ahead",
                Some(format!("DocSpace refuses link expiry dates more than {LINK_MAX_YEARS} years ahead; write `expires: never` for a link that does not expire")),
            );
            None
        } else {
            Some(m)
        }
    }

    /// A link's `max_uses`: a whole number within [`LINK_USES_RANGE`].
    fn max_uses(&mut self, value: &Node) -> Option<u32> {
        match value.value {
            Value::Int(i)
                if let Ok(n) = u32::try_from(i)
                    && LINK_USES_RANGE.contains(&n) =>
            {
                Some(n)
            }
            _ => {
                self.error(
                    "manifest::max_uses",
                    format!(
                        "`max_uses` must be a whole number from {} to {}, or `unlimited`",
                        LINK_USES_RANGE.start(),
                        LINK_USES_RANGE.end()
                    ),
                    value.span,
                    "not a use count",
                    Some("the number of people who may join through the invitation link; `unlimited` removes the limit, and leaving it out keeps the link's current limit".into()),
                );
                None
            }
        }
    }

    /// `password_env` and `keep_password` say two things about one password: both on one
    /// link is an error. True when at most one is there.
    fn link_password_keys(&mut self, entries: &[(&str, &Node, &Node)]) -> bool {
        if !(entries_have(entries, "password_env") && entries_have(entries, "keep_password")) {
            return true;
        }
        let Some((_, key, _)) = entries.iter().find(|(name, _, _)| *name == "keep_password") else {
            return true;
        };
        self.error(
            "manifest::link_password_twice",
            "`keep_password` and `password_env` on one link",
            key.span,
            "one or the other",
            Some("`password_env` sets the password from an environment variable; `keep_password: true` keeps the password the link has. Remove one of them".into()),
        );
        false
    }

    /// A link's `password_env`: the name of an environment variable, never the password, and
    /// not a variable that holds something else ([`model::check_password_env_name`]). The
    /// snippet masks the value; the message names it only when it is a known variable.
    fn password_env(&mut self, value: &Node) -> Option<String> {
        let name = match &value.value {
            Value::Str(v) => v.as_str(),
            _ => "",
        };
        match model::check_password_env_name(name) {
            Ok(()) => Some(name.to_string()),
            Err(problem) => {
                let label = match problem {
                    model::PasswordEnvProblem::NotAName => "not a variable name",
                    _ => "not for a link password",
                };
                self.error(
                    "manifest::password_env",
                    problem.message(name),
                    value.span,
                    label,
                    Some(problem.help().to_string()),
                );
                None
            }
        }
    }

    /// Reports each of `title`, `kind` and `access` the link lacks; true when none is missing.
    /// A link with `access: none` needs no `kind`: it revokes the live link of that title,
    /// whatever its kind, and takes no other option.
    fn link_keys_present(
        &mut self,
        node: &Node,
        entries: &[(&str, &Node, &Node)],
        revoked: bool,
    ) -> bool {
        let start = Span {
            offset: node.span.offset,
            len: 0,
        };
        let mut ok = true;
        for (key, code, message, help) in [
            (
                "title",
                "manifest::no_link_title",
                "the link has no `title`",
                "every link needs a `title:`; links are matched by it",
            ),
            (
                "kind",
                "manifest::no_link_kind",
                "the link has no `kind`",
                "add `kind: external` (opens the room to people without an account) or `kind: invitation` (makes whoever follows it a member)",
            ),
            (
                "access",
                "manifest::no_link_access",
                "the link has no `access`",
                "add `access:` with what the link grants, e.g. `access: read`; `none` revokes the link",
            ),
        ] {
            let needed = !(revoked && key == "kind");
            if needed && !entries_have(entries, key) {
                ok = false;
                self.error(code, message, start, "this link", Some(help.into()));
            }
        }
        ok
    }

    /// The checks across a link's keys, made with whatever is known so that one run reports
    /// every mistake of a link: its options against its kind and access, its kind and access
    /// against the room type. True when all pass.
    fn link_consistent(
        &mut self,
        options: &[(&str, Span)],
        kind: Option<(LinkKind, Span)>,
        access: Option<(Access, Span)>,
        room_type: Option<RoomType>,
    ) -> bool {
        let mut ok = self.link_options_fit(options, kind.map(|(k, _)| k), access.map(|(a, _)| a));
        if let (Some(room_type), Some(kind)) = (room_type, kind) {
            ok &= self.link_fits_room(room_type, kind, access);
        }
        ok
    }

    /// Reports each option that means nothing for the link's kind or for a revoked link;
    /// true when every option fits.
    fn link_options_fit(
        &mut self,
        options: &[(&str, Span)],
        kind: Option<LinkKind>,
        access: Option<Access>,
    ) -> bool {
        let mut ok = true;
        for (option, span) in options {
            let refused = if access == Some(Access::None) {
                Some((
                    "manifest::link_revoked_options",
                    format!("`{option}` on a link with `access: none` means nothing"),
                    format!("`access: none` revokes the link; remove `{option}`"),
                ))
            } else if kind == Some(LinkKind::Invitation)
                && matches!(
                    *option,
                    "internal" | "deny_download" | "password_env" | "keep_password"
                )
            {
                Some((
                    "manifest::link_option_not_for_kind",
                    format!("`{option}` applies to external links only"),
                    "an invitation link makes people members of the room; only external links can be limited to signed-in users, forbid downloads or have a password".to_string(),
                ))
            } else if kind == Some(LinkKind::External) && *option == "max_uses" {
                Some((
                    "manifest::link_option_not_for_kind",
                    "`max_uses` applies to invitation links only".to_string(),
                    "DocSpace counts uses of invitation links only; an external link has no use limit".to_string(),
                ))
            } else {
                None
            };
            if let Some((code, message, help)) = refused {
                ok = false;
                self.error(code, message, *span, "not for this link", Some(help));
            }
        }
        ok
    }

    /// Checks that the room type takes links of this kind, and that the link's access is one
    /// such links may grant there; true when both hold.
    fn link_fits_room(
        &mut self,
        room_type: RoomType,
        (kind, kind_span): (LinkKind, Span),
        access: Option<(Access, Span)>,
    ) -> bool {
        if !room_type.takes_link(kind) {
            self.error(
                "manifest::link_kind_not_allowed",
                format!("a {room_type} room takes no {kind} links"),
                kind_span,
                "not for this room type",
                Some(format!(
                    "{kind} links exist in {} rooms; a {room_type} room takes the invitation link only",
                    RoomType::names_where(|t| t.takes_link(kind))
                )),
            );
            return false;
        }
        if let Some((access, access_span)) =
            access.filter(|(a, _)| *a != Access::None && !room_type.link_roles(kind).contains(a))
        {
            let names: Vec<&str> = room_type
                .link_roles(kind)
                .iter()
                .map(|a| a.name())
                .collect();
            self.error(
                "manifest::link_access_not_allowed",
                format!("`{access}` is not available for {kind} links in a {room_type} room"),
                access_span,
                "not allowed here",
                Some(format!(
                    "{kind} links in a {room_type} room grant: {}; `none` revokes the link",
                    names.join(", ")
                )),
            );
            return false;
        }
        true
    }

    /// A link title, trimmed: not empty, no control characters, at most 255 characters.
    fn link_title(&mut self, node: &Node) -> Option<String> {
        let title = self.str_ref("title", node)?.trim();
        let problem = if title.is_empty() {
            Some((
                "manifest::empty_link_title",
                "the link title is empty".to_string(),
            ))
        } else if let Some(c) = title.chars().find(|c| text::is_control(*c)) {
            Some((
                "manifest::link_title_control",
                format!(
                    "the link title contains a control character ({})",
                    describe_control(c)
                ),
            ))
        } else if model::server_len(title) > LINK_TITLE_MAX_CHARS {
            Some((
                "manifest::long_link_title",
                format!("the link title is longer than {LINK_TITLE_MAX_CHARS} characters"),
            ))
        } else {
            None
        };
        if let Some((code, message)) = problem {
            self.error(
                code,
                message,
                node.span,
                "not a link title",
                Some("links are matched by title: give each link a short, readable one".into()),
            );
            return None;
        }
        Some(title.to_string())
    }

    fn access(&mut self, node: &Node) -> Option<Access> {
        let text = match &node.value {
            Value::Str(s) => s.as_str(),
            Value::Int(i) => {
                let hint = i64::try_from(*i)
                    .ok()
                    .and_then(Access::from_wire)
                    .map(|a| format!("write the name: `{a}` is {i} on the wire"))
                    .unwrap_or_else(|| format!("access levels: {}", all_access_names()));
                self.error(
                    "manifest::access_number",
                    "`access` is written as a name, not a number",
                    node.span,
                    "a number",
                    Some(hint),
                );
                return None;
            }
            _ => {
                self.wrong_type("access", "an access level name", node);
                return None;
            }
        };
        match Access::parse_manifest(text) {
            Ok(a) => Some(a),
            Err(AccessParseError::NotARoomRole { hint }) => {
                self.error(
                    "manifest::access_not_room_role",
                    format!("`{text}` is not a room role"),
                    node.span,
                    "not valid in rooms",
                    Some(hint.to_string()),
                );
                None
            }
            Err(AccessParseError::Unknown) => {
                let names: Vec<&str> = Access::ALL.iter().map(|a| a.name()).collect();
                let help = match did_you_mean(text, &names) {
                    Some(s) => format!("did you mean `{s}`? Access levels: {}", names.join(", ")),
                    None => format!("access levels: {}", names.join(", ")),
                };
                self.error(
                    "manifest::access",
                    format!("unknown access level `{text}`"),
                    node.span,
                    "unknown access level",
                    Some(help),
                );
                None
            }
        }
    }
}

/// Whether a room type takes a setting ([`RoomType::takes_indexing`] and the like).
type TypeTest = fn(RoomType) -> bool;

/// A room's settings as read, before they go into its [`DesiredRoom`].
#[derive(Default)]
struct RoomSettings {
    color: Option<String>,
    cover: Option<String>,
    indexing: Option<bool>,
    lifetime: Option<Lifetime>,
    watermark: Option<Watermark>,
}

/// What a room's keys said, before the checks that need several of them.
struct RoomKeys<'n> {
    title: Option<((String, String), Span)>,
    room_type: Option<RoomType>,
    /// `type` was given, even if its value was refused.
    type_seen: bool,
    id: Option<i64>,
    tags: Option<BTreeSet<String>>,
    quota: Option<Quota>,
    deny_download: Option<bool>,
    members: MembersMode,
    state: RoomState,
    invitees_node: Option<&'n Node>,
    links_node: Option<&'n Node>,
    links_exact: bool,
    settings: RoomSettings,
    /// Settings only some room types take: the key, where it is, and the type's test.
    typed: Vec<(&'n str, Span, TypeTest)>,
    /// No value was refused.
    ok: bool,
}

/// Why an `expires:` value was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MomentError {
    /// A date and time without an offset: which time zone is meant is unknown.
    NoOffset,
    /// Not a date at all.
    Invalid,
}

/// Parses an `expires:` value: `2027-01-31` (the start of that day in UTC) or a date and
/// time with an offset (`2027-01-31T18:00:00+01:00`, `...Z`; seconds may be left out).
pub fn parse_moment(text: &str) -> Result<DateTime<Utc>, MomentError> {
    let t = text.trim();
    if let Ok(date) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(date.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    if let Ok(m) = DateTime::parse_from_rfc3339(t) {
        return Ok(m.with_timezone(&Utc));
    }
    for form in ["%Y-%m-%dT%H:%M%#z", "%Y-%m-%d %H:%M%#z"] {
        if let Ok(m) = DateTime::parse_from_str(t, form) {
            return Ok(m.with_timezone(&Utc));
        }
    }
    let naive = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ];
    if naive
        .iter()
        .any(|form| NaiveDateTime::parse_from_str(t, form).is_ok())
    {
        return Err(MomentError::NoOffset);
    }
    Err(MomentError::Invalid)
}

/// Whether `node` is the string `word` (case-insensitively, trimmed): the words a link key
/// takes besides its value (`expires: never`, `max_uses: unlimited`).
fn is_word(node: &Node, word: &str) -> bool {
    matches!(&node.value, Value::Str(s) if s.trim().eq_ignore_ascii_case(word))
}

fn entries_have(entries: &[(&str, &Node, &Node)], key: &str) -> bool {
    entries.iter().any(|(name, _, _)| *name == key)
}

fn all_access_names() -> String {
    Access::ALL
        .iter()
        .map(|a| a.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The access names a room type accepts for a kind of subject, for help lines.
pub fn allowed_names(room_type: RoomType, kind: SubjectKind) -> String {
    Access::ALL
        .iter()
        .filter(|a| room_type.allows(**a, kind))
        .map(|a| a.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// When a boolean was expected but a YAML 1.1 spelling was found, says what to write.
fn yaml11_bool_hint(node: &Node) -> Option<String> {
    let Value::Str(s) = &node.value else {
        return None;
    };
    let lower = s.to_ascii_lowercase();
    let value = match lower.as_str() {
        "yes" | "y" | "on" => "true",
        "no" | "n" | "off" => "false",
        _ => return None,
    };
    Some(format!(
        "`{s}` is a YAML 1.1 boolean, which this tool does not accept; write `{value}`"
    ))
}

/// The closest known name, when it is close enough to be a likely typo.
pub fn did_you_mean<'a>(input: &str, known: &[&'a str]) -> Option<&'a str> {
    let input = input.to_lowercase();
    known
        .iter()
        .map(|k| (*k, strsim::jaro_winkler(&input, &k.to_lowercase())))
        .filter(|(_, score)| *score > 0.8)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(k, _)| k)
}

/// Parses `unlimited`, `1500`, `10GiB`, `2.5 GB`, `512MiB`.
pub fn parse_quota(text: &str) -> Option<Quota> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("unlimited") {
        return Some(Quota::Unlimited);
    }
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let unit = unit.trim();
    let factor: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "tib" => 1 << 40,
        _ => return None,
    };
    if number.is_empty() {
        return None;
    }
    if let Ok(n) = number.parse::<u64>() {
        return n.checked_mul(factor).map(Quota::Bytes);
    }
    let f: f64 = number.parse().ok()?;
    let bytes = f * factor as f64;
    (bytes.is_finite() && bytes >= 0.0 && bytes < u64::MAX as f64 && bytes.fract() == 0.0)
        .then_some(Quota::Bytes(bytes as u64))
}

/// A deliberately plain email check: what the server's address validation would refuse
/// (docs/docspace-api.md, "The share call": a bad email makes the whole share call fail with 400).
pub fn check_email(email: &str) -> Result<(), String> {
    if model::server_len(email) > EMAIL_MAX_CHARS {
        return Err("longer than 255 characters".into());
    }
    if let Some(c) = email.chars().find(|c| text::is_control(*c)) {
        return Err(format!(
            "it contains a control character ({})",
            describe_control(c)
        ));
    }
    if let Some(c) = email.chars().find(|c| text::is_bidi_control(*c)) {
        return Err(format!(
            "it contains a bidirectional control ({}), which changes how the address is displayed",
            text::code_point(c)
        ));
    }
    if let Some(c) = email.chars().find(|c| text::is_invisible(*c)) {
        return Err(format!(
            "it contains an invisible character ({})",
            text::code_point(c)
        ));
    }
    if email.chars().any(char::is_whitespace) {
        return Err("it contains spaces".into());
    }
    let Some((local, domain)) = email.rsplit_once('@') else {
        return Err("there is no `@`".into());
    };
    if local.is_empty() {
        return Err("nothing before the `@`".into());
    }
    if local.contains('@') {
        return Err("more than one `@`".into());
    }
    if domain.is_empty()
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || domain.contains("..")
    {
        return Err("the domain after `@` is not a domain name".into());
    }
    if email.contains(['<', '>', '(', ')', ',', ';', ':', '[', ']', '\\', '"']) {
        return Err("it contains characters not allowed in an address".into());
    }
    Ok(())
}

/// `U+0000 (NUL)`: control characters have well-known names, and none of them prints.
fn describe_control(c: char) -> String {
    let name = match c {
        '\0' => "NUL",
        '\u{7}' => "BEL",
        '\u{8}' => "backspace",
        '\t' => "tab",
        '\n' => "line feed",
        '\r' => "carriage return",
        '\u{1b}' => "ESC",
        '\u{7f}' => "DEL",
        _ => return text::code_point(c),
    };
    format!("{} {name}", text::code_point(c))
}

/// The characters of `chars` in first-seen order, once each.
fn dedup(chars: impl Iterator<Item = char>) -> Vec<char> {
    let mut out = Vec::new();
    for c in chars {
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

fn is_culture(c: &str) -> bool {
    let mut parts = c.split('-');
    let lang = parts.next().unwrap_or_default();
    (2..=3).contains(&lang.len())
        && lang.chars().all(|ch| ch.is_ascii_alphabetic())
        && parts
            .all(|p| (2..=8).contains(&p.len()) && p.chars().all(|ch| ch.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotas_parse() {
        assert_eq!(parse_quota("unlimited"), Some(Quota::Unlimited));
        assert_eq!(parse_quota("10GiB"), Some(Quota::Bytes(10 << 30)));
        assert_eq!(parse_quota("1.5 KB"), Some(Quota::Bytes(1500)));
        assert_eq!(parse_quota("42"), Some(Quota::Bytes(42)));
        assert_eq!(parse_quota("10 parsecs"), None);
        assert_eq!(parse_quota("GiB"), None);
        assert_eq!(parse_quota("0.5B"), None);
    }

    #[test]
    fn emails_are_checked_plainly() {
        assert!(check_email("example.user@mail.com").is_ok());
        assert!(check_email("nobody").is_err());
        assert!(check_email("a@b").is_err());
        assert!(check_email("a b@c.d").is_err());
        assert!(check_email("@c.d").is_err());
        // Each refusal names what is wrong (a NUL used to be "it contains spaces").
        let why = |e: &str| check_email(e).unwrap_err();
        assert_eq!(
            why("a\0b@c.de"),
            "it contains a control character (U+0000 NUL)"
        );
        assert_eq!(
            why("a\u{200B}@c.de"),
            "it contains an invisible character (U+200B)"
        );
        assert!(why("a@\u{202E}c.de").starts_with("it contains a bidirectional control (U+202E)"));
        assert_eq!(why("a b@c.de"), "it contains spaces");
        // A look-alike is valid (a warning says so), not refused.
        assert!(check_email("a@ex\u{0430}mple.com").is_ok());
    }

    #[test]
    fn moments_are_dates_or_times_with_offsets() {
        let utc = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert_eq!(parse_moment("2027-01-31"), Ok(utc("2027-01-31T00:00:00Z")));
        assert_eq!(
            parse_moment("2027-01-31T18:00:00+01:00"),
            Ok(utc("2027-01-31T17:00:00Z"))
        );
        assert_eq!(
            parse_moment(" 2027-01-31T18:00Z "),
            Ok(utc("2027-01-31T18:00:00Z"))
        );
        assert_eq!(
            parse_moment("2027-01-31 18:00:00-05:00"),
            Ok(utc("2027-01-31T23:00:00Z"))
        );
        assert_eq!(
            parse_moment("2027-01-31T18:00:00"),
            Err(MomentError::NoOffset)
        );
        assert_eq!(parse_moment("2027-01-31 18:00"), Err(MomentError::NoOffset));
        assert_eq!(parse_moment("2027-02-30"), Err(MomentError::Invalid));
        assert_eq!(parse_moment("31.01.2027"), Err(MomentError::Invalid));
        assert_eq!(parse_moment("tomorrow"), Err(MomentError::Invalid));
    }

    fn load(text: &str) -> (Desired, Problems) {
        let mut problems = Problems::default();
        let desired =
            crate::manifest::load_sources(vec![SourceFile::new("m.yaml", text)], &mut problems);
        (desired, problems)
    }

    #[test]
    fn new_fields_become_typed_values() {
        // A link's expiry must be in the future whenever the test runs.
        let year = Utc::now().format("%Y").to_string().parse::<i32>().unwrap() + 1;
        let (desired, problems) = load(&format!(
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
        ));
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

    #[test]
    fn suggestions_find_typos() {
        assert_eq!(did_you_mean("invitess", ROOM_KEYS), Some("invitees"));
        assert_eq!(did_you_mean("zzz", ROOM_KEYS), None);
    }
}
