//! A room's keys (`type`, `id`, `tags`, `quota`, `members`, `state`, `links_exact`) and the
//! checks across them; titles are in [`super::title`], settings in [`super::settings`].

use std::collections::BTreeSet;

use crate::manifest::desired::{
    DesiredLink, DesiredRoom, MembersMode, Quota, RoomState, TemplateUse,
};
use crate::manifest::yaml::{Node, Span, Value};
use crate::model::template::TemplateRef;
use crate::model::{self, Access, LinkKind, RoomType};

use super::merge::RoomIdent;
use super::settings::{RoomSettings, TypeTest};
use super::values::{did_you_mean, entries_have};
use super::{Cx, ROOM_KEYS};

use crate::model::TAG_MAX_CHARS;

impl Cx<'_> {
    /// One room: reads its keys, checks the settings its type takes and the keys it must
    /// have, then its invitees and links, and records its identity for the duplicate check.
    pub(super) fn room(&mut self, node: &Node) -> Option<DesiredRoom> {
        let entries = self.mapping(node, "a room", ROOM_KEYS)?;
        let keys = self.room_keys(&entries);
        let mut ok = keys.ok;
        if let Some(room_type) = keys.room_type {
            ok &= self.settings_fit_type(room_type, &keys.typed);
        }
        if !keys.type_seen {
            ok = false;
            let from_template = keys.template.is_some();
            self.no_room_type(node, keys.title.as_ref().map(|(_, s)| *s), from_template);
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
            template: keys.template,
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
            template: None,
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
                "template" => {
                    k.template = self.template(value);
                    k.ok &= k.template.is_some();
                }
                "links_exact" => match self.boolean("links_exact", value) {
                    Some(b) => k.links_exact = b,
                    None => k.ok = false,
                },
                _ => k.ok &= self.room_setting(name, key, value, &mut k.settings, &mut k.typed),
            }
        }
        k
    }

    /// A room's `template`: an integer is a template id, a string a template title (in the
    /// form the server stores titles: docs/docspace-api.md, "Room templates").
    fn template(&mut self, value: &Node) -> Option<TemplateUse> {
        let reference = match &value.value {
            Value::Int(i) if *i > 0 && *i <= i128::from(i64::MAX) => TemplateRef::Id(*i as i64),
            Value::Str(s) if !s.trim().is_empty() => {
                self.template_title_look(s.trim(), value.span);
                TemplateRef::Title(model::sanitize_title(s.trim()))
            }
            _ => {
                self.wrong_type(
                    "template",
                    "a template's title, or its id (a positive integer)",
                    value,
                );
                return None;
            }
        };
        Some(TemplateUse {
            reference,
            origin: self.origin(value.span),
        })
    }

    /// Warns about a template title that cannot read as it is written: a control or an
    /// invisible character makes it another title than the one seen in DocSpace, so the plan
    /// would call the template unknown without showing why.
    fn template_title_look(&mut self, title: &str, span: Span) {
        let Some(c) = title.chars().find(|c| {
            crate::manifest::text::is_control(*c) || crate::manifest::text::is_hidden_in_title(*c)
        }) else {
            return;
        };
        self.warning(
            "manifest::template_invisible",
            format!(
                "the template title contains an invisible or control character ({})",
                crate::manifest::text::code_point(c)
            ),
            span,
            "invisible character",
            Some("remove it: the title looks like one without it, but names no template DocSpace shows under that title".into()),
        );
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

    /// Reports a room without `type`, at its title when it has one. A room with `template:`
    /// needs it too: `validate` reads no portal, and the settings allowed depend on the type;
    /// the plan checks it against the template's.
    fn no_room_type(&mut self, node: &Node, title_span: Option<Span>, from_template: bool) {
        let names: Vec<&str> = RoomType::MANIFEST.iter().map(|t| t.name()).collect();
        let mut help = format!("add `type:` with one of: {}", names.join(", "));
        if from_template {
            help.push_str("; with `template:`, the template's room type (`export` lists each template's type, and `plan` says when it differs)");
        }
        self.error(
            "manifest::no_type",
            "the room has no `type`",
            title_span.unwrap_or(node.span),
            "this room",
            Some(help),
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
    pub(super) fn tag_name(&mut self, what: &str, item: &Node) -> Option<String> {
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
    template: Option<TemplateUse>,
    /// No value was refused.
    ok: bool,
}
