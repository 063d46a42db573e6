//! Turns parsed YAML trees into [`Desired`], collecting every problem on the way instead of
//! stopping at the first: unknown keys (with "did you mean"), wrong types, YAML 1.1 booleans,
//! title rules, emails, duplicates, and the server's role tables (docspace-api.md 6.3).
//!
//! The key lists here are the contract the JSON Schema documents; a test keeps them in step
//! with `schema.rs`.

use std::collections::{BTreeSet, HashMap};

use crate::model::{self, Access, AccessParseError, RoomType, SubjectKind};

use super::desired::{
    Defaults, Desired, DesiredInvitee, DesiredRoom, MembersMode, Origin, Quota, RoomState, Subject,
};
use super::diagnostic::{Problem, Problems};
use super::source::SourceFile;
use super::text;
use super::yaml::{Node, Span, Value};

pub const TOP_KEYS: &[&str] = &["version", "defaults", "rooms"];
pub const DEFAULTS_KEYS: &[&str] = &["notify", "message", "culture"];
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
];
pub const INVITEE_KEYS: &[&str] = &["email", "group", "access"];

/// The longest tag name the server stores (docspace-api.md 5.7).
const TAG_MAX_CHARS: usize = 255;
/// The longest email the share call accepts (docspace-api.md 6.2).
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
    let mut idents = Vec::new();
    for (index, tree) in trees.into_iter().enumerate() {
        let Some(tree) = tree else { continue };
        let mut cx = Cx {
            file: &desired.files[index],
            index,
            problems: &mut *problems,
            idents: &mut idents,
        };
        let (defaults, rooms) = cx.document(&tree);
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
    check_duplicates(&desired, &idents, problems);
    desired
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
        // titles (docspace-api.md 5.1) and `export` writes such portals that way.
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
            // An empty value (`quota:` or `~`) means the key is absent, as the schema allows.
            if !matches!(value.value, Value::Null) {
                out.push((name.as_str(), key, value));
            }
        }
        Some(out)
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

    fn document(&mut self, root: &Node) -> (Option<(Span, Defaults)>, Vec<DesiredRoom>) {
        if !matches!(root.value, Value::Map(_)) {
            let (message, help) = match root.value {
                Value::Null => (
                    "the manifest holds no settings (only comments or an empty document)"
                        .to_string(),
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
            return (None, Vec::new());
        }
        let Some(entries) = self.mapping(root, "the manifest", TOP_KEYS) else {
            return (None, Vec::new());
        };
        let mut version_seen = false;
        let mut defaults = None;
        let mut rooms = Vec::new();
        for (name, key, value) in entries {
            match name {
                "version" => {
                    version_seen = true;
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
                "defaults" => defaults = self.defaults(value).map(|d| (key.span, d)),
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
        (defaults, rooms)
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

    fn room(&mut self, node: &Node) -> Option<DesiredRoom> {
        let entries = self.mapping(node, "a room", ROOM_KEYS)?;
        let mut title: Option<((String, String), Span)> = None;
        let mut room_type: Option<RoomType> = None;
        let mut type_seen = false;
        let mut id = None;
        let mut tags = None;
        let mut quota = None;
        let mut deny_download = None;
        let mut members = MembersMode::Additive;
        let mut state = RoomState::Present;
        let mut invitees_node = None;
        let mut ok = true;
        for (name, _, value) in &entries {
            let name = *name;
            match name {
                "title" => title = self.title(value).map(|t| (t, value.span)),
                "type" => {
                    type_seen = true;
                    room_type = self.room_type(value);
                    ok &= room_type.is_some();
                }
                "id" => match value.value {
                    Value::Int(i) if i > 0 && i <= i128::from(i64::MAX) => id = Some(i as i64),
                    Value::Int(_) => {
                        ok = false;
                        self.error(
                            "manifest::room_id",
                            "a room id is a positive integer",
                            value.span,
                            "not a room id",
                            None,
                        );
                    }
                    _ => {
                        ok = false;
                        self.wrong_type("id", "a positive integer (the room id)", value);
                    }
                },
                "tags" => tags = self.tags(value),
                "quota" => {
                    quota = self.quota(value);
                    ok &= quota.is_some();
                }
                "deny_download" => deny_download = self.boolean("deny_download", value),
                "members" => match self.choice(value, "members", &["additive", "exact"]) {
                    Some(0) => members = MembersMode::Additive,
                    Some(_) => members = MembersMode::Exact,
                    None => ok = false,
                },
                "state" => match self.choice(value, "state", &["present", "archived"]) {
                    Some(0) => state = RoomState::Present,
                    Some(_) => state = RoomState::Archived,
                    None => ok = false,
                },
                "invitees" => invitees_node = Some(value),
                _ => unreachable!(),
            }
        }
        if !type_seen {
            ok = false;
            let names: Vec<&str> = RoomType::MANIFEST.iter().map(|t| t.name()).collect();
            self.error(
                "manifest::no_type",
                "the room has no `type`",
                title.as_ref().map_or(node.span, |(_, s)| *s),
                "this room",
                Some(format!("add `type:` with one of: {}", names.join(", "))),
            );
        }
        let title = match title {
            Some(t) => Some(t),
            None => {
                if !entries_have(&entries, "title") {
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
                None
            }
        };
        let invitees = match invitees_node {
            Some(n) => self.invitees(n, room_type),
            None => Some(Vec::new()),
        };
        let ((written, title), title_span) = title?;
        self.idents.push(RoomIdent {
            title: title.clone(),
            written,
            id,
            origin: self.origin(title_span),
        });
        if !ok {
            return None;
        }
        Some(DesiredRoom {
            title,
            room_type: room_type?,
            id,
            tags,
            quota,
            deny_download,
            members,
            state,
            invitees: invitees?,
            origin: self.origin(title_span),
        })
    }

    /// Checks a title; returns it as written (trimmed) and as the server will store it.
    fn title(&mut self, node: &Node) -> Option<(String, String)> {
        let raw = self.str_ref("title", node)?;
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            self.error(
                "manifest::empty_title",
                "the room title is empty",
                node.span,
                "empty title",
                Some("give the room a name".into()),
            );
            return None;
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
            return None;
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
            return None;
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
            return None;
        }
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
        let stored = model::sanitize_title(trimmed);
        if stored != trimmed {
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
        Some((trimmed.to_string(), stored))
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
            // `tags: [2026]` is a natural thing to write: take integers as their text.
            let tag = match &item.value {
                Value::Int(i) => Some(i.to_string()),
                _ => self.string("a tag", item),
            };
            let Some(tag) = tag else {
                ok = false;
                continue;
            };
            let tag = tag.trim().to_string();
            if tag.is_empty() {
                ok = false;
                self.error(
                    "manifest::empty_tag",
                    "a tag name is empty",
                    item.span,
                    "empty tag",
                    None,
                );
            } else if model::server_len(&tag) > TAG_MAX_CHARS {
                ok = false;
                self.error(
                    "manifest::long_tag",
                    format!("a tag name is longer than {TAG_MAX_CHARS} characters"),
                    item.span,
                    "tag too long",
                    None,
                );
            } else if !set.insert(tag.clone()) {
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

    fn invitee(&mut self, node: &Node, room_type: Option<RoomType>) -> Option<DesiredInvitee> {
        let entries = self.mapping(node, "an invitee", INVITEE_KEYS)?;
        let mut email = None;
        let mut group = None;
        let mut access: Option<(Access, Span)> = None;
        let mut access_seen = false;
        let mut ok = true;
        for (name, _, value) in &entries {
            match *name {
                "email" => match self.str_ref("email", value) {
                    Some(e) => email = Some((e, value.span)),
                    None => ok = false,
                },
                "group" => match self.str_ref("group", value) {
                    Some(g) if !g.trim().is_empty() => {
                        group = Some((g.trim().to_string(), value.span))
                    }
                    Some(_) => {
                        ok = false;
                        self.error(
                            "manifest::empty_group",
                            "the group name is empty",
                            value.span,
                            "empty",
                            None,
                        );
                    }
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
        let mut email_written: Option<String> = None;
        let subject = match (email, group) {
            (Some(_), Some((_, span))) => {
                self.error(
                    "manifest::email_and_group",
                    "an invitee has both `email` and `group`",
                    span,
                    "second subject",
                    Some("split it into two invitees: one with `email`, one with `group`".into()),
                );
                return None;
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
                return None;
            }
            (Some((e, span)), None) => {
                email_written = Some(e.to_string());
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
                (Subject::Email(normal), span)
            }
            (None, Some((g, span))) => (Subject::Group(g), span),
        };
        if !access_seen {
            let allowed = room_type.map(|t| allowed_names(t, subject.0.kind()));
            self.error(
                "manifest::no_access",
                format!("invitee `{}` has no `access`", subject.0.label()),
                subject.1,
                "no access level",
                Some(match allowed {
                    Some(names) => format!("add `access:` with one of: {names}"),
                    None => "add `access:`, e.g. `access: read`".into(),
                }),
            );
            return None;
        }
        let (access, access_span) = access?;
        if !ok {
            return None;
        }
        if let Some(room_type) = room_type {
            let kind = subject.0.kind();
            if !room_type.allows(access, kind) {
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
                return None;
            }
        }
        Some(DesiredInvitee {
            written_email: match &subject.0 {
                Subject::Email(_) => email_written.map(|e| e.trim().to_string()),
                Subject::Group(_) => None,
            },
            subject: subject.0,
            access,
            origin: self.origin(subject.1),
        })
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
/// (docspace-api.md 6.2: a bad email makes the whole share call fail with 400).
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
    fn suggestions_find_typos() {
        assert_eq!(did_you_mean("invitess", ROOM_KEYS), Some("invitees"));
        assert_eq!(did_you_mean("zzz", ROOM_KEYS), None);
    }
}
