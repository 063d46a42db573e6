//! Who can enter which room, and how: the read behind `access` and `audit`.
//!
//! It reads every room the key can see, managed or not, with its share list
//! ([`state::read_every_room`]: the planner's paced, bounded member reads, with progress),
//! the rooms' sharing links ([`state::read_links`]), the people list (for the DocSpace admins,
//! who enter every room without a share row, and for each account's pending and guest
//! status), and the members of every group a share list names (`GET /group/{id}`). Then it
//! decides each person's effective access with the server's rule ([`effective::winning`]:
//! a share to the person wins over shares to their groups; among groups the highest access).
//!
//! Reading never writes. A key whose user is not a DocSpace admin sees only the rooms it is
//! a member of: the view says it is partial.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, FixedOffset, Utc};
use futures::stream::{self, StreamExt};
use serde::Serialize;

use crate::docspace::{ApiError, DocSpaceApi};
use crate::links::ObservedLink;
use crate::manifest::{Desired, Subject};
use crate::model::effective::{self, Winner};
use crate::model::policy::{LinkView, MemberView, RoomView};
use crate::model::{Access, LinkKind, UserType};

use super::identity::{Found, Identity};
use super::state::{self, MemberSubject, Observed, ObservedMember, ObservedRoom, ObservedUser};

/// Group member lists read at once.
const GROUP_READ_CONCURRENCY: usize = 8;

/// How a person gets into a room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum How {
    /// The room's owner (the share list's owner row).
    RoomOwner,
    /// A DocSpace admin (or the portal owner): enters every room, share row or not.
    DocspaceAdmin { owner: bool },
    /// A share to the person only.
    Direct,
    /// Shares to groups only; `group` is the one that decides (the highest access).
    Group { group: String, groups: Vec<String> },
    /// A share to the person and to groups: the person's own share wins, as on the server.
    Both { groups: Vec<String> },
}

/// One person's effective access to one room.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub person: ObservedUser,
    pub access: Access,
    pub how: How,
    /// The access a share to the person gives, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direct: Option<Access>,
    /// The access each of their groups' shares gives.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub via_groups: Vec<(String, Access)>,
    /// The `expires:` a given manifest sets for this membership.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<DateTime<Utc>>,
}

impl Entry {
    pub fn guest(&self) -> bool {
        self.person.user_type == UserType::Guest
    }
}

/// A sharing link as `access` shows it: never the password, never the link's key or URL.
#[derive(Debug, Clone, Serialize)]
pub struct LinkSummary {
    pub title: String,
    pub kind: LinkKind,
    pub primary: bool,
    pub access: Option<Access>,
    pub expires: Option<DateTime<FixedOffset>>,
    pub expired: bool,
    pub password: bool,
    pub internal: bool,
    pub deny_download: bool,
}

impl LinkSummary {
    fn of(l: &ObservedLink) -> LinkSummary {
        LinkSummary {
            title: l.title.clone(),
            kind: l.kind,
            primary: l.primary,
            access: l.access,
            expires: l.expires,
            expired: l.expired,
            password: l.has_password,
            internal: l.internal,
            deny_download: l.deny_download,
        }
    }
}

/// One room and everyone who can enter it.
#[derive(Debug, Clone, Serialize)]
pub struct RoomAccess {
    pub room: ObservedRoom,
    /// Sorted by email.
    pub people: Vec<Entry>,
    pub links: Vec<LinkSummary>,
    /// Whether a given manifest manages the room (`None` without a manifest).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed: Option<bool>,
    /// Why the share list could not be read (the people above are then only the admins).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members_unreadable: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub links_unreadable: Option<String>,
    /// The key's user neither is a DocSpace admin nor manages the room: DocSpace then answers
    /// its links with an empty list (`FileSharing.CheckAccessAsync`: `ReadLinks` is for room
    /// managers), so `links` says nothing.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub links_hidden: bool,
}

/// Who can enter what, as far as the key can see.
#[derive(Debug, Clone, Serialize)]
pub struct AccessView {
    pub portal: String,
    /// The key's user (email).
    pub key_user: String,
    /// Why the view is partial, when it is (the key's user is not a DocSpace admin, people
    /// or groups could not be read): each reason once.
    pub partial: Vec<String>,
    pub rooms: Vec<RoomAccess>,
    /// The people list or a group's members could not be read: who is a guest, and who a
    /// group share lets in, is then not known for everyone (`audit` cannot judge its
    /// `guests` and `room_managers` rules).
    #[serde(skip)]
    pub people_unknown: bool,
    /// The `--room` patterns that matched no room on the portal.
    #[serde(skip)]
    pub unmatched: Vec<String>,
}

impl AccessView {
    /// How many rooms' links the key may not see ([`RoomAccess::links_hidden`]).
    pub fn hidden_links(&self) -> usize {
        self.rooms.iter().filter(|r| r.links_hidden).count()
    }
}

/// What the read found beyond the rooms: accounts by id, and group members by group id.
#[derive(Default)]
struct Directory {
    people: BTreeMap<String, ObservedUser>,
    people_listed: bool,
    groups: BTreeMap<String, Vec<ObservedUser>>,
    groups_unread: BTreeSet<String>,
}

/// Reads the portal into an [`AccessView`]; `rooms` narrows it (`--room` patterns), `desired`
/// (when manifests were given) adds `expires:` and which rooms are managed.
pub async fn read<A: DocSpaceApi>(
    api: &A,
    portal: &str,
    rooms: &[String],
    desired: Option<&Desired>,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<AccessView, ApiError> {
    let mut observed = state::read_every_room(api, portal, rooms, progress).await?;
    let ids: BTreeSet<i64> = observed.rooms.iter().map(|r| r.id).collect();
    state::read_links(api, &mut observed, &ids).await?;
    let mut dir = Directory::default();
    read_people(api, &mut dir).await?;
    read_groups(api, &observed, &mut dir).await?;
    let mut view = view(&observed, &dir, desired);
    let titles = observed.rooms.iter().map(|r| r.title.as_str());
    let connected = observed.connected_rooms.iter().map(|r| r.title.as_str());
    view.unmatched = crate::model::pattern::unmatched(rooms, titles.chain(connected));
    Ok(view)
}

/// Every account (pending included), bounded by [`state::MAX_PEOPLE_PAGES`]. A key that may not list
/// people leaves the directory empty (the admins are then unknown: the view says so).
async fn read_people<A: DocSpaceApi>(api: &A, dir: &mut Directory) -> Result<(), ApiError> {
    let people = &mut dir.people;
    let listed = state::all_people_pages(api, |page| {
        for u in page {
            let u = ObservedUser::from_dto(u);
            people.insert(u.id.clone(), u);
        }
    })
    .await;
    match listed {
        Ok(listed) => dir.people_listed = listed,
        Err(e) if e.http_status() == Some(403) => {}
        Err(e) => return Err(e),
    }
    Ok(())
}

/// What reading one group's members gave.
type GroupAnswer = Result<Option<Vec<crate::docspace::UserDto>>, ApiError>;

/// The members of every group a share list names, a few groups at a time.
async fn read_groups<A: DocSpaceApi>(
    api: &A,
    observed: &Observed,
    dir: &mut Directory,
) -> Result<(), ApiError> {
    let ids: BTreeSet<String> = observed
        .members
        .values()
        .flatten()
        .filter_map(|m| match &m.subject {
            MemberSubject::Group(g) => Some(g.id.clone()),
            MemberSubject::User(_) => None,
        })
        .collect();
    // Group ids are GUIDs; anything else a share list says is not put into a request path.
    let (ids, odd): (BTreeSet<String>, BTreeSet<String>) = ids
        .into_iter()
        .partition(|id| uuid::Uuid::parse_str(id).is_ok());
    dir.groups_unread.extend(odd);
    let answers: Vec<(String, GroupAnswer)> = stream::iter(ids)
        .map(|id| async move {
            let members = api.group_members(&id).await;
            (id, members)
        })
        .buffer_unordered(GROUP_READ_CONCURRENCY)
        .collect()
        .await;
    for (id, answer) in answers {
        match answer {
            Ok(Some(members)) => {
                let members = members.iter().map(ObservedUser::from_dto).collect();
                dir.groups.insert(id, members);
            }
            Ok(None) => {
                dir.groups_unread.insert(id);
            }
            Err(e) if e.is_not_found() || e.http_status() == Some(403) => {
                dir.groups_unread.insert(id);
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The view of what was read (pure).
fn view(observed: &Observed, dir: &Directory, desired: Option<&Desired>) -> AccessView {
    let me = observed
        .me
        .clone()
        .unwrap_or_else(|| state::unknown_user(""));
    let mut partial = Vec::new();
    if me.user_type != UserType::DocSpaceAdmin {
        partial.push(format!(
            "the key's user ({}) is not a DocSpace admin: only the rooms it is a member of are shown",
            me.email
        ));
    }
    if !dir.people_listed {
        partial.push("the people list could not be read whole: DocSpace admins without a share row, and some guest and pending statuses, may be missing".to_string());
    }
    if !dir.groups_unread.is_empty() {
        partial.push(format!(
            "{} group(s) could not be read: their members are not shown",
            dir.groups_unread.len()
        ));
    }
    if !observed.connected_rooms.is_empty() {
        partial.push(format!(
            "{} room(s) in connected storage are not shown: DocSpace does not give their share lists to this tool",
            observed.connected_rooms.len()
        ));
    }
    let wanted = desired.map(|d| wanted_rooms(d, &observed.rooms));
    let mut rooms: Vec<RoomAccess> = observed
        .rooms
        .iter()
        .map(|room| room_access(observed, dir, room, wanted.as_ref()))
        .collect();
    rooms.sort_by(|a, b| (&a.room.title, a.room.id).cmp(&(&b.room.title, b.room.id)));
    if me.user_type != UserType::DocSpaceAdmin {
        hide_unmanaged_links(&mut rooms, &me, &mut partial);
    }
    AccessView {
        portal: observed.portal.clone(),
        key_user: me.email,
        partial,
        rooms,
        people_unknown: !dir.people_listed || !dir.groups_unread.is_empty(),
        unmatched: Vec::new(),
    }
}

/// Marks the rooms the key's user does not manage (not a DocSpace admin): their links are
/// not shown to it, and the view says how many.
fn hide_unmanaged_links(rooms: &mut [RoomAccess], me: &ObservedUser, partial: &mut Vec<String>) {
    let mut hidden = 0;
    for r in rooms.iter_mut() {
        let manages = r
            .people
            .iter()
            .any(|e| e.person.id == me.id && e.access == Access::RoomManager);
        if !manages {
            r.links_hidden = true;
            r.links.clear();
            hidden += 1;
        }
    }
    if hidden > 0 {
        partial.push(format!(
            "the links of {hidden} room(s) are not shown: DocSpace lists a room's links only to its room managers and DocSpace admins"
        ));
    }
}

/// The manifest room that manages each live room, by live id (identity's one rule).
fn wanted_rooms<'a>(
    desired: &'a Desired,
    rooms: &[ObservedRoom],
) -> BTreeMap<i64, &'a crate::manifest::DesiredRoom> {
    let identity = Identity::new(desired, rooms);
    let mut out = BTreeMap::new();
    for r in &desired.rooms {
        if let Found::Room(live) = identity.find(r) {
            out.entry(live.id).or_insert(r);
        }
    }
    out
}

fn room_access(
    observed: &Observed,
    dir: &Directory,
    room: &ObservedRoom,
    wanted_by_id: Option<&BTreeMap<i64, &crate::manifest::DesiredRoom>>,
) -> RoomAccess {
    let rows: &[ObservedMember] = observed.members.get(&room.id).map_or(&[], Vec::as_slice);
    let wanted = wanted_by_id.and_then(|m| m.get(&room.id).copied());
    let mut people: Vec<Entry> = entries(rows, dir)
        .into_iter()
        .map(|mut e| {
            e.expires = wanted.and_then(|w| manifest_expiry(w, &e));
            e
        })
        .collect();
    people.sort_by(|a, b| (&a.person.email, &a.person.id).cmp(&(&b.person.email, &b.person.id)));
    RoomAccess {
        room: room.clone(),
        people,
        links: observed
            .links
            .get(&room.id)
            .map(|l| l.iter().map(LinkSummary::of).collect())
            .unwrap_or_default(),
        managed: wanted_by_id.map(|m| m.contains_key(&room.id)),
        members_unreadable: observed.unreadable.get(&room.id).cloned(),
        links_unreadable: observed.links_unreadable.get(&room.id).cloned(),
        links_hidden: false,
    }
}

/// The `expires:` the manifest room sets for this person: their own invitee's, else the one
/// of the group that decides their access.
fn manifest_expiry(room: &crate::manifest::DesiredRoom, e: &Entry) -> Option<DateTime<Utc>> {
    let own = room
        .invitees
        .iter()
        .find(|i| i.subject == Subject::Email(e.person.email.clone()));
    let group = match &e.how {
        How::Group { group, .. } => Some(group.to_lowercase()),
        _ => None,
    };
    own.or_else(|| {
        room.invitees
            .iter()
            .find(|i| matches!(&i.subject, Subject::Group(g) if Some(g.to_lowercase()) == group))
    })
    .and_then(|i| i.expires)
}

/// The share rows that reach one person.
struct Reach {
    person: ObservedUser,
    owner: bool,
    direct: Option<Access>,
    groups: Vec<(String, Access)>,
}

/// What reaches each person: the owner row, direct rows, group rows expanded, and the
/// DocSpace admins of the people list.
fn entries(rows: &[ObservedMember], dir: &Directory) -> Vec<Entry> {
    let mut reach: BTreeMap<String, Reach> = BTreeMap::new();
    for row in rows {
        match &row.subject {
            MemberSubject::User(u) => {
                let r = reach_of(&mut reach, dir, u);
                r.owner |= row.is_owner;
                if !row.is_owner {
                    r.direct = row.access;
                }
            }
            MemberSubject::Group(g) => {
                let Some(access) = row.access else { continue };
                for u in dir.groups.get(&g.id).into_iter().flatten() {
                    reach_of(&mut reach, dir, u)
                        .groups
                        .push((g.name.clone(), access));
                }
            }
        }
    }
    for admin in dir
        .people
        .values()
        .filter(|u| u.user_type == UserType::DocSpaceAdmin && !u.pending && !u.terminated)
    {
        reach_of(&mut reach, dir, admin);
    }
    reach.into_values().filter_map(decide).collect()
}

/// The person's entry, made on first sight with the fullest profile known (the people list
/// has type flags that trimmed share rows lack).
fn reach_of<'a>(
    reach: &'a mut BTreeMap<String, Reach>,
    dir: &Directory,
    u: &ObservedUser,
) -> &'a mut Reach {
    reach.entry(u.id.clone()).or_insert_with(|| Reach {
        person: dir.people.get(&u.id).cloned().unwrap_or_else(|| u.clone()),
        owner: false,
        direct: None,
        groups: Vec::new(),
    })
}

/// The effective access of what reaches one person; `None` when nothing lets them in (a
/// share of `none`).
fn decide(r: Reach) -> Option<Entry> {
    let group_names = || r.groups.iter().map(|(g, _)| g.clone()).collect::<Vec<_>>();
    let (access, how) = if r.owner {
        (Access::RoomManager, How::RoomOwner)
    } else if r.person.user_type == UserType::DocSpaceAdmin {
        let owner = r.person.owner;
        (Access::RoomManager, How::DocspaceAdmin { owner })
    } else {
        let levels: Vec<Access> = r.groups.iter().map(|(_, a)| *a).collect();
        let (access, winner) = effective::winning(r.direct, &levels)?;
        let how = match winner {
            Winner::Direct if r.groups.is_empty() => How::Direct,
            Winner::Direct => How::Both {
                groups: group_names(),
            },
            Winner::Group(i) => How::Group {
                group: r.groups[i].0.clone(),
                groups: group_names(),
            },
        };
        (access, how)
    };
    (access != Access::None).then(|| Entry {
        access,
        how,
        direct: r.direct,
        via_groups: r.groups.clone(),
        expires: None,
        person: r.person,
    })
}

impl AccessView {
    /// How many rooms could not be read whole (their share list or their links).
    pub fn unreadable_rooms(&self) -> usize {
        self.rooms
            .iter()
            .filter(|r| r.members_unreadable.is_some() || r.links_unreadable.is_some())
            .count()
    }

    /// Every room `email` can enter, with how (case-insensitive email).
    pub fn of_person(&self, email: &str) -> Vec<(&RoomAccess, &Entry)> {
        let email = crate::model::normalise_email(email);
        self.rooms
            .iter()
            .filter_map(|r| {
                r.people
                    .iter()
                    .find(|e| e.person.email == email)
                    .map(|e| (r, e))
            })
            .collect()
    }

    /// The rooms as the policy checker sees them (`audit`): every person's effective access,
    /// live links that still work, and the room managers by share (neither the owner nor
    /// the admins counted, as `validate` counts a manifest's `room-manager` invitees).
    pub fn policy_views(&self) -> Vec<RoomView> {
        self.rooms.iter().map(RoomAccess::policy_view).collect()
    }
}

impl RoomAccess {
    fn policy_view(&self) -> RoomView {
        let members: Vec<MemberView> = self
            .people
            .iter()
            .map(|e| MemberView {
                label: e.person.email.clone(),
                guest: e.guest(),
                access: e.access,
                expires: e.expires,
            })
            .collect();
        let links = self
            .links
            .iter()
            .filter(|l| !l.expired && l.access.is_some_and(|a| a != Access::None))
            .map(|l| LinkView {
                title: l.title.clone(),
                external: l.kind == LinkKind::External,
                primary: l.primary,
                expires: l.expires.map(|t| t.with_timezone(&Utc)),
                password: l.password,
            })
            .collect();
        let managers = self
            .people
            .iter()
            .filter(|e| e.access == Access::RoomManager)
            .filter(|e| !matches!(e.how, How::DocspaceAdmin { .. } | How::RoomOwner))
            .count();
        RoomView {
            title: self.room.title.clone(),
            room_type: self.room.room_type,
            tags: self.room.tags.clone(),
            watermark: self.room.settings.watermark.is_some() || self.room.settings.watermark_image,
            deny_download: self.room.deny_download == Some(true),
            members,
            links,
            managers,
            managers_complete: self.members_unreadable.is_none(),
        }
    }
}
