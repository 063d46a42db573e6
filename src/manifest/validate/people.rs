//! `people:` (top level): each person's `email`, `type` (`docspace-admin`, `room-admin`,
//! `user`, `guest`, exactly these spellings) and optional `first_name`, `last_name`.

use crate::manifest::desired::DesiredPerson;
use crate::manifest::yaml::{Node, Span, Value};
use crate::model::UserType;

use super::groups::type_names;
use super::{Cx, PERSON_KEYS};

/// The longest first or last name the tool accepts (the server's profile fields).
const NAME_MAX_CHARS: usize = 255;

impl Cx<'_> {
    /// `people:`: a list of people.
    pub(super) fn people(&mut self, node: &Node) -> Vec<DesiredPerson> {
        let Value::Seq(items) = &node.value else {
            self.wrong_type("people", "a list of people", node);
            return Vec::new();
        };
        items.iter().filter_map(|item| self.person(item)).collect()
    }

    fn person(&mut self, node: &Node) -> Option<DesiredPerson> {
        let entries = self.mapping(node, "a person", PERSON_KEYS)?;
        let mut ok = true;
        let mut email = None;
        let mut user_type = None;
        let (mut first_name, mut last_name) = (None, None);
        let mut type_seen = false;
        for (key, _, value) in entries {
            match key {
                "email" => {
                    email = self.str_ref("email", value).and_then(|e| {
                        let written = e.trim().to_string();
                        let normal = self.invitee_email(&written, value.span)?;
                        Some((written, normal, value.span))
                    });
                    ok &= email.is_some();
                }
                "type" => {
                    type_seen = true;
                    user_type = self.user_type(value);
                    ok &= user_type.is_some();
                }
                "first_name" => first_name = self.person_name("first_name", value),
                "last_name" => last_name = self.person_name("last_name", value),
                _ => unreachable!("mapping() only returns known keys"),
            }
        }
        let at = Span {
            offset: node.span.offset,
            len: 0,
        };
        if email.is_none() && ok {
            self.error(
                "manifest::no_person_email",
                "the person has no `email`",
                at,
                "this person",
                Some("every person needs an `email:`; people are matched by it".into()),
            );
            return None;
        }
        if !type_seen {
            self.error(
                "manifest::no_person_type",
                "the person has no `type`",
                at,
                "this person",
                Some(format!("add `type:`, one of {}", type_names().join(", "))),
            );
            return None;
        }
        let (written_email, email, span) = email?;
        Some(DesiredPerson {
            email,
            written_email,
            user_type: user_type?,
            first_name,
            last_name,
            origin: self.origin(span),
        })
        .filter(|_| ok)
    }

    /// A `type`: exactly one of the manifest spellings.
    fn user_type(&mut self, node: &Node) -> Option<UserType> {
        let text = self.str_ref("type", node)?;
        if let Some(t) = UserType::from_name(text.trim()) {
            return Some(t);
        }
        let names = type_names();
        let hint = super::did_you_mean(text.trim(), &names)
            .map(|s| format!("did you mean `{s}`? "))
            .unwrap_or_default();
        self.error(
            "manifest::user_type",
            format!("unknown user type `{}`", text.escape_debug()),
            node.span,
            "unknown type",
            Some(format!(
                "{hint}a person's type is one of {}",
                names.join(", ")
            )),
        );
        None
    }

    fn person_name(&mut self, what: &str, node: &Node) -> Option<String> {
        let text = self.str_ref(what, node)?.trim();
        if text.is_empty()
            || text.chars().count() > NAME_MAX_CHARS
            || text.chars().any(char::is_control)
        {
            self.error(
                "manifest::person_name",
                format!(
                    "`{what}` must be 1 to {NAME_MAX_CHARS} characters without control characters"
                ),
                node.span,
                "bad name",
                None,
            );
            return None;
        }
        Some(text.to_string())
    }
}
