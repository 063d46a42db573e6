//! A room's `invitees`: each one's subject (an email or a group), access and expiry, and
//! the plain email check.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::manifest::desired::{DesiredInvitee, Subject};
use crate::manifest::diagnostic::Problem;
use crate::manifest::text;
use crate::manifest::yaml::{Node, Span, Value};
use crate::model::{self, Access, RoomType, SubjectKind};

use super::values::describe_control;
use super::{Cx, INVITEE_KEYS};

use crate::model::EMAIL_MAX_CHARS;

impl Cx<'_> {
    pub(super) fn invitees(
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
        if !self.invitee_options_fit(&subject, access, expires.map(|(_, s)| s), new_account) {
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

    /// The checks across an invitee's options: `expires` needs an access that can end, and
    /// `new_account` a person. True when both hold; reports the first that does not.
    fn invitee_options_fit(
        &mut self,
        subject: &Subject,
        access: Access,
        expires: Option<Span>,
        new_account: Option<(bool, Span)>,
    ) -> bool {
        if let (Access::None, Some(span)) = (access, expires) {
            self.error(
                "manifest::expires_on_none",
                "`expires` on an invitee with `access: none` means nothing",
                span,
                "nothing to expire",
                Some("`access: none` removes the subject now; remove `expires`, or give the access they should have until that moment".into()),
            );
            return false;
        }
        if let (Subject::Group(_), Some((true, span))) = (subject, new_account) {
            self.error(
                "manifest::new_account_on_group",
                "`new_account` is for a person invited by email, not a group",
                span,
                "not for a group",
                Some("groups are never created by an invitation; remove `new_account`".into()),
            );
            return false;
        }
        true
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
    pub(super) fn invitee_email(&mut self, e: &str, span: Span) -> Option<String> {
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

/// A deliberately plain email check: what the server's address validation would refuse
/// (docs/docspace-api.md, "The share call": a bad email makes the whole share call fail with 400).
pub fn check_email(email: &str) -> Result<(), String> {
    if model::server_len(email) > EMAIL_MAX_CHARS {
        return Err(format!("longer than {EMAIL_MAX_CHARS} characters"));
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
