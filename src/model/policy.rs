//! `policy:` rules, defined once: their names and keys (read by `manifest::validate::policy`,
//! documented in the book's "Policies and audit"), the order of access levels they compare
//! with, and the one checker, a pure function over a neutral view of rooms ([`RoomView`])
//! that `validate`/`plan` build from the manifest and `audit` from the live portal.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Access, RoomType};

/// The rules a `policy:` block may hold.
pub const RULE_KEYS: &[&str] = &["external_links", "guests", "room_managers", "rooms_tagged"];
pub const EXTERNAL_LINKS_KEYS: &[&str] = &["require", "max_days"];
pub const GUESTS_KEYS: &[&str] = &["max_access", "allowed_in", "require_expires"];
pub const ROOM_MANAGERS_KEYS: &[&str] = &["min", "max"];
pub const TAGGED_KEYS: &[&str] = &["require", "deny_download"];
/// `external_links.max_days` at most (ten years).
pub const MAX_LINK_DAYS: u32 = 3650;

/// A protection `external_links: {require: [...]}` asks of every external link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkProtection {
    Expires,
    Password,
}

impl LinkProtection {
    pub const ALL: [LinkProtection; 2] = [LinkProtection::Expires, LinkProtection::Password];
    pub fn name(self) -> &'static str {
        match self {
            LinkProtection::Expires => "expires",
            LinkProtection::Password => "password",
        }
    }
}

/// A setting `rooms_tagged: {TAG: {require: [...]}}` asks of every room with the tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TagRequirement {
    Watermark,
}

impl TagRequirement {
    pub const ALL: [TagRequirement; 1] = [TagRequirement::Watermark];
    pub fn name(self) -> &'static str {
        "watermark"
    }
}

/// `external_links:`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExternalLinksRule {
    pub require: BTreeSet<LinkProtection>,
    pub max_days: Option<u32>,
}

/// `guests:`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GuestsRule {
    pub max_access: Option<Access>,
    pub allowed_in: Option<BTreeSet<RoomType>>,
    pub require_expires: bool,
}

/// `room_managers:`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RoomManagersRule {
    pub min: Option<u32>,
    pub max: Option<u32>,
}

/// One entry of `rooms_tagged:`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TaggedRule {
    pub require: BTreeSet<TagRequirement>,
    pub deny_download: bool,
}

/// The merged `policy:` of a manifest set (and `--policy` files).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Policy {
    pub external_links: Option<ExternalLinksRule>,
    pub guests: Option<GuestsRule>,
    pub room_managers: Option<RoomManagersRule>,
    /// By tag, lower-cased (tags compare case-insensitively, see [`super::tags_match`]).
    pub rooms_tagged: BTreeMap<String, TaggedRule>,
}

impl Policy {
    pub fn is_empty(&self) -> bool {
        self == &Policy::default()
    }
}

/// The order of access levels policies compare with (the public contract): read =
/// fill-forms < comment < review < editing < content-creator < room-manager. `None` for
/// `none` (no access).
pub fn rank(access: Access) -> Option<u8> {
    Some(match access {
        Access::None => return None,
        Access::Read | Access::FillForms => 0,
        Access::Comment => 1,
        Access::Review => 2,
        Access::Editing => 3,
        Access::ContentCreator => 4,
        Access::RoomManager => 5,
    })
}

/// A room as the checker sees it, whether read from a manifest or from the portal.
#[derive(Debug, Clone, Default)]
pub struct RoomView {
    pub title: String,
    pub room_type: Option<RoomType>,
    pub tags: BTreeSet<String>,
    /// A watermark is set (a manifest room that leaves `watermark:` out has none).
    pub watermark: bool,
    pub deny_download: bool,
    pub members: Vec<MemberView>,
    pub links: Vec<LinkView>,
    /// How many room managers it has, and whether that count is complete (a manifest
    /// room's invitees are not: the live room may have more).
    pub managers: usize,
    pub managers_complete: bool,
}

/// One person's access to a room.
#[derive(Debug, Clone)]
pub struct MemberView {
    pub label: String,
    pub guest: bool,
    pub access: Access,
    /// The `expires:` of the membership (a manifest's; the portal has none).
    pub expires: Option<DateTime<Utc>>,
}

/// One sharing link.
#[derive(Debug, Clone)]
pub struct LinkView {
    pub title: String,
    /// External (not an invitation link).
    pub external: bool,
    /// The primary external link of a public or form-filling room: no expiry possible.
    pub primary: bool,
    pub expires: Option<DateTime<Utc>>,
    pub password: bool,
}

/// What a violation is about, inside its room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "on", content = "index")]
pub enum Target {
    Room,
    Member(usize),
    Link(usize),
}

/// One rule broken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Breach {
    LinkWithoutExpiry {
        link: String,
    },
    PrimaryLinkCannotExpire {
        link: String,
    },
    LinkWithoutPassword {
        link: String,
    },
    LinkExpiresTooLate {
        link: String,
        max_days: u32,
    },
    GuestAboveMax {
        person: String,
        access: Access,
        max: Access,
    },
    GuestNotAllowed {
        person: String,
        room_type: String,
    },
    GuestWithoutExpiry {
        person: String,
    },
    TooFewManagers {
        count: usize,
        min: u32,
    },
    TooManyManagers {
        count: usize,
        max: u32,
    },
    TaggedWithoutWatermark {
        tag: String,
    },
    TaggedAllowsDownload {
        tag: String,
    },
}

/// A broken rule in the room at `room` (an index into the views checked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub room: usize,
    pub target: Target,
    /// The rule as written in `policy:`, e.g. `external_links.require`.
    pub rule: String,
    #[serde(flatten)]
    pub breach: Breach,
}

impl Violation {
    /// What is wrong, in one sentence.
    pub fn message(&self) -> String {
        match &self.breach {
            Breach::LinkWithoutExpiry { link } => format!("external link `{link}` has no expiry"),
            Breach::PrimaryLinkCannotExpire { link } => format!(
                "primary link `{link}` has no expiry, and DocSpace allows none on a primary link: cannot be met"
            ),
            Breach::LinkWithoutPassword { link } => {
                format!("external link `{link}` has no password")
            }
            Breach::LinkExpiresTooLate { link, max_days } => {
                format!("external link `{link}` expires more than {max_days} days from now")
            }
            Breach::GuestAboveMax {
                person,
                access,
                max,
            } => format!(
                "guest {person} has {} access, above {}",
                access.name(),
                max.name()
            ),
            Breach::GuestNotAllowed { person, room_type } => {
                format!("guest {person} is in a {room_type} room, where guests are not allowed")
            }
            Breach::GuestWithoutExpiry { person } => {
                format!("guest {person} has no `expires:`")
            }
            Breach::TooFewManagers { count, min } => {
                format!("{count} room managers, fewer than {min}")
            }
            Breach::TooManyManagers { count, max } => {
                format!("{count} room managers, more than {max}")
            }
            Breach::TaggedWithoutWatermark { tag } => {
                format!("room tagged `{tag}` has no watermark")
            }
            Breach::TaggedAllowsDownload { tag } => {
                format!("room tagged `{tag}` allows downloads")
            }
        }
    }

    /// What would fix it.
    pub fn fix(&self) -> String {
        match &self.breach {
            Breach::LinkWithoutExpiry { .. } => "set the link's `expires:`".into(),
            Breach::PrimaryLinkCannotExpire { .. } => "restrict or remove the link".into(),
            Breach::LinkWithoutPassword { .. } => {
                "give the link a password (`password_env:`)".into()
            }
            Breach::LinkExpiresTooLate { max_days, .. } => {
                format!("set the link's `expires:` within {max_days} days")
            }
            Breach::GuestAboveMax { max, .. } => {
                format!("lower the guest's access to {} or less", max.name())
            }
            Breach::GuestNotAllowed { .. } => "remove the guest from the room".into(),
            Breach::GuestWithoutExpiry { .. } => "give the guest's membership an `expires:`".into(),
            Breach::TooFewManagers { min, .. } => {
                format!("make at least {min} members room managers")
            }
            Breach::TooManyManagers { max, .. } => format!("keep at most {max} room managers"),
            Breach::TaggedWithoutWatermark { .. } => "set the room's `watermark:`".into(),
            Breach::TaggedAllowsDownload { .. } => "set `deny_download: true`".into(),
        }
    }
}

/// Every rule of `policy` that `rooms` break, room by room, in order. `now` decides
/// `external_links.max_days`.
pub fn check(policy: &Policy, rooms: &[RoomView], now: DateTime<Utc>) -> Vec<Violation> {
    let mut out = Vec::new();
    for (index, room) in rooms.iter().enumerate() {
        let mut push = |target, rule: &str, breach| {
            out.push(Violation {
                room: index,
                target,
                rule: rule.to_string(),
                breach,
            })
        };
        if let Some(rule) = &policy.external_links {
            check_links(rule, room, now, &mut push);
        }
        if let Some(rule) = &policy.guests {
            check_guests(rule, room, &mut push);
        }
        if let Some(rule) = &policy.room_managers {
            check_managers(rule, room, &mut push);
        }
        check_tagged(&policy.rooms_tagged, room, &mut push);
    }
    out
}

type Push<'a> = dyn FnMut(Target, &str, Breach) + 'a;

fn check_links(rule: &ExternalLinksRule, room: &RoomView, now: DateTime<Utc>, push: &mut Push) {
    for (i, link) in room.links.iter().enumerate().filter(|(_, l)| l.external) {
        let name = || link.title.clone();
        let no_expiry = || {
            if link.primary {
                Breach::PrimaryLinkCannotExpire { link: name() }
            } else {
                Breach::LinkWithoutExpiry { link: name() }
            }
        };
        if link.expires.is_none() {
            // A link that never expires does not expire within `max_days` either; said once,
            // under `require` when that asks for an expiry too.
            if rule.require.contains(&LinkProtection::Expires) {
                push(Target::Link(i), "external_links.require", no_expiry());
            } else if rule.max_days.is_some() {
                push(Target::Link(i), "external_links.max_days", no_expiry());
            }
        }
        if rule.require.contains(&LinkProtection::Password) && !link.password {
            let breach = Breach::LinkWithoutPassword { link: name() };
            push(Target::Link(i), "external_links.require", breach);
        }
        if let (Some(max_days), Some(expires)) = (rule.max_days, link.expires)
            && expires > now + chrono::Duration::days(i64::from(max_days))
        {
            let breach = Breach::LinkExpiresTooLate {
                link: name(),
                max_days,
            };
            push(Target::Link(i), "external_links.max_days", breach);
        }
    }
}

fn check_guests(rule: &GuestsRule, room: &RoomView, push: &mut Push) {
    for (i, member) in room.members.iter().enumerate().filter(|(_, m)| m.guest) {
        let Some(level) = rank(member.access) else {
            continue;
        };
        let person = || member.label.clone();
        if let Some(max) = rule.max_access
            && rank(max).is_some_and(|m| level > m)
        {
            let breach = Breach::GuestAboveMax {
                person: person(),
                access: member.access,
                max,
            };
            push(Target::Member(i), "guests.max_access", breach);
        }
        if let (Some(allowed), Some(room_type)) = (&rule.allowed_in, room.room_type)
            && !allowed.contains(&room_type)
        {
            let breach = Breach::GuestNotAllowed {
                person: person(),
                room_type: room_type.name().to_string(),
            };
            push(Target::Member(i), "guests.allowed_in", breach);
        }
        if rule.require_expires && member.expires.is_none() {
            let breach = Breach::GuestWithoutExpiry { person: person() };
            push(Target::Member(i), "guests.require_expires", breach);
        }
    }
}

fn check_managers(rule: &RoomManagersRule, room: &RoomView, push: &mut Push) {
    let count = room.managers;
    if let Some(max) = rule.max
        && count > max as usize
    {
        push(
            Target::Room,
            "room_managers.max",
            Breach::TooManyManagers { count, max },
        );
    }
    if let Some(min) = rule.min
        && room.managers_complete
        && count < min as usize
    {
        push(
            Target::Room,
            "room_managers.min",
            Breach::TooFewManagers { count, min },
        );
    }
}

fn check_tagged(rules: &BTreeMap<String, TaggedRule>, room: &RoomView, push: &mut Push) {
    let tags: BTreeSet<String> = room.tags.iter().map(|t| t.to_lowercase()).collect();
    for (tag, rule) in rules.iter().filter(|(t, _)| tags.contains(*t)) {
        if rule.require.contains(&TagRequirement::Watermark) && !room.watermark {
            let breach = Breach::TaggedWithoutWatermark { tag: tag.clone() };
            push(Target::Room, &format!("rooms_tagged.{tag}.require"), breach);
        }
        if rule.deny_download && !room.deny_download {
            let breach = Breach::TaggedAllowsDownload { tag: tag.clone() };
            push(
                Target::Room,
                &format!("rooms_tagged.{tag}.deny_download"),
                breach,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(title: &str, primary: bool) -> LinkView {
        LinkView {
            title: title.into(),
            external: true,
            primary,
            expires: None,
            password: false,
        }
    }

    #[test]
    fn access_order_is_the_contract() {
        let order = [
            Access::Read,
            Access::Comment,
            Access::Review,
            Access::Editing,
            Access::ContentCreator,
            Access::RoomManager,
        ];
        assert!(order.windows(2).all(|w| rank(w[0]) < rank(w[1])));
        assert_eq!(rank(Access::FillForms), rank(Access::Read));
        assert_eq!(rank(Access::None), None);
    }

    #[test]
    fn a_primary_link_without_expiry_cannot_be_met() {
        let policy = Policy {
            external_links: Some(ExternalLinksRule {
                require: LinkProtection::ALL.into_iter().collect(),
                max_days: None,
            }),
            ..Policy::default()
        };
        let room = RoomView {
            links: vec![link("Primary", true), link("Press", false)],
            ..RoomView::default()
        };
        let found = check(&policy, &[room], Utc::now());
        let kinds: Vec<&Breach> = found.iter().map(|v| &v.breach).collect();
        assert!(matches!(kinds[0], Breach::PrimaryLinkCannotExpire { .. }));
        assert_eq!(found[0].fix(), "restrict or remove the link");
        assert!(matches!(kinds[2], Breach::LinkWithoutExpiry { .. }));
        assert_eq!(found.len(), 4);
    }

    #[test]
    fn max_days_alone_catches_a_link_that_never_expires() {
        let policy = Policy {
            external_links: Some(ExternalLinksRule {
                require: BTreeSet::new(),
                max_days: Some(90),
            }),
            ..Policy::default()
        };
        let now = Utc::now();
        let mut soon = link("Soon", false);
        soon.expires = Some(now + chrono::Duration::days(30));
        let mut late = link("Late", false);
        late.expires = Some(now + chrono::Duration::days(400));
        let room = RoomView {
            links: vec![link("Never", false), soon, late, link("Primary", true)],
            ..RoomView::default()
        };
        let found = check(&policy, &[room], now);
        let got: Vec<(&str, Target)> = found.iter().map(|v| (v.rule.as_str(), v.target)).collect();
        assert_eq!(
            got,
            [
                ("external_links.max_days", Target::Link(0)),
                ("external_links.max_days", Target::Link(2)),
                ("external_links.max_days", Target::Link(3)),
            ]
        );
        assert!(matches!(
            found[2].breach,
            Breach::PrimaryLinkCannotExpire { .. }
        ));
    }

    #[test]
    fn guests_above_the_maximum_and_tagged_rooms() {
        let policy = Policy {
            guests: Some(GuestsRule {
                max_access: Some(Access::Read),
                ..GuestsRule::default()
            }),
            rooms_tagged: [(
                "confidential".to_string(),
                TaggedRule {
                    require: [TagRequirement::Watermark].into_iter().collect(),
                    deny_download: true,
                },
            )]
            .into_iter()
            .collect(),
            ..Policy::default()
        };
        let member = |access| MemberView {
            label: "g@x".into(),
            guest: true,
            access,
            expires: None,
        };
        let room = RoomView {
            tags: ["Confidential".to_string()].into_iter().collect(),
            members: vec![member(Access::FillForms), member(Access::Editing)],
            ..RoomView::default()
        };
        let found = check(&policy, &[room], Utc::now());
        let rules: Vec<&str> = found.iter().map(|v| v.rule.as_str()).collect();
        assert_eq!(
            rules,
            [
                "guests.max_access",
                "rooms_tagged.confidential.require",
                "rooms_tagged.confidential.deny_download"
            ]
        );
        assert_eq!(found[0].target, Target::Member(1));
    }
}
