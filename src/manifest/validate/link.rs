//! A room's `links`: each link's keys and options, the checks across them, and the room
//! type's limits on kinds, access and counts.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::manifest::desired::{DesiredLink, DesiredPassword};
use crate::manifest::diagnostic::Problem;
use crate::manifest::text;
use crate::manifest::yaml::{Node, Span, Value};
use crate::model::{self, Access, LINK_MAX_YEARS, LINK_USES_RANGE, LinkKind, RoomType};

use super::values::{describe_control, did_you_mean, entries_have};
use super::{Cx, LINK_KEYS};

use crate::model::LINK_TITLE_MAX_CHARS;

impl Cx<'_> {
    /// `links:` of a room: each link checked, then the room's rules over all of them:
    /// titles unique, at most one invitation link, the external links the type holds.
    pub(super) fn links(
        &mut self,
        node: &Node,
        room_type: Option<RoomType>,
    ) -> Option<Vec<DesiredLink>> {
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
        let k = self.link_keys(&entries, room_type);
        let mut ok = k.ok;
        let revoked = matches!(k.access, Some((Access::None, _)));
        ok &= self.link_keys_present(node, &entries, revoked);
        ok &= self.link_password_keys(&entries);
        ok &= self.link_consistent(&k.options, k.kind, k.access, room_type);
        if !ok {
            return None;
        }
        let (title, title_span) = k.title?;
        Some(DesiredLink {
            title,
            // A revoke written without `kind` (see `link_keys_present`): the kind is not used
            // for a revoke, which takes the live link's own.
            kind: k.kind.map_or(LinkKind::External, |(k, _)| k),
            access: k.access?.0,
            expires: k.expires,
            internal: k.internal,
            deny_download: k.deny_download,
            max_uses: k.max_uses,
            password: k.password,
            origin: self.origin(title_span),
        })
    }

    /// Reads each key of a link into [`LinkKeys`], reporting the values it refuses; the
    /// checks across keys come after, in [`Cx::link`].
    fn link_keys<'n>(
        &mut self,
        entries: &[(&'n str, &'n Node, &'n Node)],
        room_type: Option<RoomType>,
    ) -> LinkKeys<'n> {
        let mut k = LinkKeys {
            ok: true,
            ..LinkKeys::default()
        };
        let now = Utc::now();
        for (name, key, value) in entries {
            let name = *name;
            if !matches!(name, "title" | "kind" | "access") {
                k.options.push((name, key.span));
            }
            match name {
                "title" => match self.link_title(value) {
                    Some(t) => k.title = Some((t, value.span)),
                    None => k.ok = false,
                },
                "kind" => match self.link_kind(value) {
                    Some(kind) => k.kind = Some((kind, value.span)),
                    None => k.ok = false,
                },
                "access" => match self.access(value) {
                    Some(a) => k.access = Some((a, value.span)),
                    None => k.ok = false,
                },
                // `never`: the link must not expire (removing an expiry is a downgrade).
                "expires" if is_word(value, "never") => k.expires = Some(None),
                "expires" => match self.link_expires(value, now) {
                    Some(m) => k.expires = Some(Some(m)),
                    None => k.ok = false,
                },
                "internal" => match self.link_internal(value, room_type) {
                    Some(b) => k.internal = Some(b),
                    None => k.ok = false,
                },
                "deny_download" => match self.boolean("deny_download", value) {
                    Some(b) => k.deny_download = Some(b),
                    None => k.ok = false,
                },
                "max_uses" if is_word(value, "unlimited") => k.max_uses = Some(None),
                "max_uses" => match self.max_uses(value) {
                    Some(n) => k.max_uses = Some(Some(n)),
                    None => k.ok = false,
                },
                "password_env" => match self.password_env(value) {
                    Some(v) => k.password = Some(DesiredPassword::FromEnv(v)),
                    None => k.ok = false,
                },
                "keep_password" => match self.boolean("keep_password", value) {
                    Some(true) => k.password = Some(DesiredPassword::Keep),
                    Some(false) => k.password = Some(DesiredPassword::Remove),
                    None => k.ok = false,
                },
                _ => unreachable!(),
            }
        }
        k
    }

    /// A link's `internal`. The server stores every public-room link as not internal,
    /// whatever is sent (docs/docspace-api.md, "Sharing links"): asking for it would be a
    /// change on every plan, so `internal: true` in a public room is refused.
    fn link_internal(&mut self, value: &Node, room_type: Option<RoomType>) -> Option<bool> {
        let internal = self.boolean("internal", value)?;
        if internal && room_type == Some(RoomType::Public) {
            self.error(
                "manifest::link_internal_in_public_room",
                "links of a public room cannot be limited to signed-in users",
                value.span,
                "not in a public room",
                Some("DocSpace stores `internal: false` on every public-room link; remove `internal: true`, or use a custom room".into()),
            );
            return None;
        }
        Some(internal)
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
}

/// What a link's keys said, before the checks that need several of them.
#[derive(Default)]
struct LinkKeys<'n> {
    title: Option<(String, Span)>,
    kind: Option<(LinkKind, Span)>,
    access: Option<(Access, Span)>,
    /// `Some(None)`: `expires: never`.
    expires: Option<Option<DateTime<Utc>>>,
    internal: Option<bool>,
    deny_download: Option<bool>,
    /// `Some(None)`: `max_uses: unlimited`.
    max_uses: Option<Option<u32>>,
    password: Option<DesiredPassword>,
    /// Options present, with their key, for the checks that depend on kind and access.
    options: Vec<(&'n str, Span)>,
    /// No value was refused.
    ok: bool,
}

/// Whether `node` is the string `word` (case-insensitively, trimmed): the words a link key
/// takes besides its value (`expires: never`, `max_uses: unlimited`).
fn is_word(node: &Node, word: &str) -> bool {
    matches!(&node.value, Value::Str(s) if s.trim().eq_ignore_ascii_case(word))
}
