//! Groups and people as code: the plan of the portal section (`people:` in
//! [`super::people`], `groups:` in [`super::groups`]), the values their items carry, and the
//! notes a reviewer reads beside them. People come before groups, groups before rooms, so
//! that a group can hold a person and a room a group that the same apply makes
//! (docs/architecture.md, "Adding a portal-level resource").

use serde::{Deserialize, Serialize};

use super::Item;
use crate::manifest::{Desired, Problem};
use crate::model::{Caller, UserType};
use crate::state::Observed;

/// A person a group item names: by email, with the account id when the account exists
/// before the run (`None`: invited by this run's `invite_person` item, found by email when
/// the group is written).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRef {
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// One change of an `update_group` item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "field")]
pub enum GroupChange {
    /// A pinned group renamed (or a name whose case differs made the manifest's).
    Name { from: String, to: String },
    /// Another manager (`from`: the live manager's email, when it has one).
    Manager {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<String>,
        to: PersonRef,
    },
}

/// What a reviewer should know about the portal section beyond its items. Text is made in
/// `render/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum OrgNote {
    /// Paid seats (DocSpace admins and room admins) before and after the plan; `max` is
    /// `None` when the tariff has no limit.
    Seats {
        used: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<i64>,
        after: i64,
    },
    /// The plan takes paid seats, and the portal did not report its seats to this key.
    SeatsUnknown { needed: usize },
    /// A person declared a guest without an account: the server's invite route refuses
    /// guests, so the room invitation of `room` makes the account.
    GuestByRoom { email: String, room: String },
}

/// The plan of the portal section, or nothing when the manifest has no `people:` and no
/// `groups:`. Problems that forbid a plan are pushed to `problems`.
pub fn plan(
    desired: &Desired,
    observed: &Observed,
    problems: &mut Vec<Problem>,
) -> (Vec<Item>, Vec<OrgNote>) {
    if desired.people.is_empty() && desired.groups.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let mut notes = Vec::new();
    let people = super::people::plan(desired, observed, problems, &mut notes);
    let groups = super::groups::plan(desired, observed, &people, problems);
    let mut items = people.items;
    items.extend(groups);
    (items, notes)
}

/// The key's user as the type rules need them; `None` when the read did not show them.
pub fn caller(observed: &Observed) -> Option<Caller> {
    observed.me.as_ref().map(|me| Caller {
        user_type: me.user_type,
        owner: me.owner,
    })
}

/// The type a person has once the people items ran: the manifest's for a person it invites
/// or raises, the live one otherwise.
pub fn type_after(desired: &Desired, observed: &Observed, email: &str) -> Option<UserType> {
    desired
        .person(email)
        .map(|p| p.user_type)
        .or_else(|| observed.users.get(email).map(|u| u.user_type))
}

/// The portal section's write calls and changed groups: one invitation call, one call per
/// type raised to, one write per group (its create or update carries its people).
pub fn count_calls(s: &mut super::Summary, items: &[Item]) {
    use std::collections::BTreeSet;
    let mut types = BTreeSet::new();
    let mut groups = BTreeSet::new();
    let mut updated = BTreeSet::new();
    for i in items {
        match &i.change {
            super::Change::ChangeUserType { to, .. } => {
                types.insert(*to);
            }
            super::Change::CreateGroup { .. } => {
                groups.insert(i.key.group_name().unwrap_or_default().to_string());
            }
            super::Change::UpdateGroup { .. }
            | super::Change::AddGroupMember { .. }
            | super::Change::RemoveGroupMember { .. } => {
                let name = i.key.group_name().unwrap_or_default().to_string();
                if !groups.contains(&name) {
                    updated.insert(name.clone());
                }
                groups.insert(name);
            }
            _ => {}
        }
    }
    s.write_calls += usize::from(s.people_invited > 0) + types.len() + groups.len();
    s.groups_updated = updated.len();
}

/// The groups whose only items are removals: with the removal guard up, their write is not
/// sent.
pub fn writes_only_removing(items: &[Item]) -> usize {
    use std::collections::BTreeMap;
    let mut only: BTreeMap<&str, bool> = BTreeMap::new();
    for i in items {
        if let Some(name) = i.key.group_name() {
            let removal = i.action() == super::Action::RemoveGroupMember;
            *only.entry(name).or_insert(true) &= removal;
        }
    }
    only.values().filter(|v| **v).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{Problems, SourceFile};
    use crate::plan::{Action, Change};
    use crate::state::ObservedUser;

    fn desired(text: &str) -> Desired {
        let mut problems = Problems::default();
        let d = crate::manifest::load_sources(vec![SourceFile::new("m.yaml", text)], &mut problems);
        assert!(!problems.has_errors(), "{problems:?}");
        d
    }

    fn user(id: &str, email: &str, t: UserType, owner: bool) -> ObservedUser {
        ObservedUser {
            id: id.into(),
            email: email.into(),
            user_type: t,
            pending: false,
            terminated: false,
            type_known: true,
            created: None,
            owner,
            invited_by: None,
        }
    }

    fn observed(me_owner: bool) -> Observed {
        let me = user("me", "me@x.test", UserType::DocSpaceAdmin, me_owner);
        let mut o = Observed {
            me: Some(me.clone()),
            ..Observed::default()
        };
        // As the read does: the key's own user is among the accounts found.
        for u in [
            me,
            user("u1", "uma@x.test", UserType::User, false),
            user("r1", "rick@x.test", UserType::RoomAdmin, false),
            user("g1", "gus@x.test", UserType::Guest, false),
        ] {
            o.users.insert(u.email.clone(), u);
        }
        o
    }

    const MANIFEST: &str = "version: 1
people:
  - {email: zed@x.test, type: user}
  - {email: ann@x.test, type: room-admin}
  - {email: uma@x.test, type: room-admin}
groups:
  - name: Eng
    manager: ann@x.test
    people: [uma@x.test, zed@x.test, rick@x.test]
";

    #[test]
    fn people_come_first_sorted_then_each_group_with_invited_people_by_email() {
        let mut problems = Vec::new();
        let (items, _) = plan(&desired(MANIFEST), &observed(true), &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        let actions: Vec<(Action, String)> = items
            .iter()
            .map(|i| (i.action(), i.key.to_string()))
            .collect();
        assert_eq!(
            actions,
            [
                (Action::InvitePerson, "ann@x.test".to_string()),
                (Action::InvitePerson, "zed@x.test".into()),
                (Action::ChangeUserType, "uma@x.test".into()),
                (Action::CreateGroup, "group Eng".into()),
                (Action::AddGroupMember, "group Eng / uma@x.test".into()),
                (Action::AddGroupMember, "group Eng / zed@x.test".into()),
                (Action::AddGroupMember, "group Eng / rick@x.test".into()),
            ]
        );
        let Change::CreateGroup { manager, .. } = &items[3].change else {
            panic!("{:?}", items[3]);
        };
        assert_eq!(manager.as_ref().map(|m| m.id.is_none()), Some(true));
        let Change::AddGroupMember { person, .. } = &items[4].change else {
            panic!();
        };
        assert_eq!(person.id.as_deref(), Some("u1"));
    }

    #[test]
    fn refusals_are_plan_errors_before_anything_is_sent() {
        let text = "version: 1
people:
  - {email: new@x.test, type: docspace-admin}
  - {email: rick@x.test, type: user}
  - {email: me@x.test, type: room-admin}
groups:
  - name: Eng
    people: [stranger@x.test, gus@x.test]
";
        let mut problems = Vec::new();
        plan(&desired(text), &observed(false), &mut problems);
        let codes: Vec<&str> = problems.iter().map(|p| p.code).collect();
        for code in [
            "portal::admin_needs_owner",
            "portal::type_downgrade",
            "portal::type_of_key_user",
            "portal::group_person_without_account",
            "portal::guest_in_group",
        ] {
            assert!(codes.contains(&code), "{code}: {codes:?}");
        }
    }
}
