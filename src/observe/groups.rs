//! The portal section as read: the groups `groups:` names, each with its manager and members
//! (`GET /group/{id}`, the only route that lists members), the group listing they are found
//! in, and for `people:` the paid seats and the invitation settings. And the one identity
//! step of a manifest group: a pinned `id` wins, else the name compared case-insensitively;
//! several groups of one name are ambiguous (the server allows duplicates), never guessed
//! (docs/docspace-api.md, "Groups and people").

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::state::{Observed, ObservedGroup, ObservedUser};
use crate::docspace::{ApiError, DocSpaceApi, GroupDto, InvitationSettingsDto};
use crate::manifest::{Desired, DesiredGroup};

/// A group with its manager and members, as `GET /group/{id}` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupDetail {
    pub id: String,
    pub name: String,
    /// The manager's user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager: Option<String>,
    /// Every member (the manager included, as the server lists them).
    pub members: Vec<ObservedUser>,
}

impl GroupDetail {
    /// A group as the server answered it; `None` when the answer lists no members at all
    /// (a listing row, not the group read).
    pub fn from_dto(g: &GroupDto) -> Option<GroupDetail> {
        let members = g.members.as_ref()?;
        Some(GroupDetail {
            id: g.id.clone(),
            name: g.name.clone(),
            manager: g
                .manager
                .as_ref()
                .map(|m| m.id.clone())
                .filter(|id| !id.is_empty()),
            members: members.iter().map(ObservedUser::from_dto).collect(),
        })
    }

    /// The manager's record among the members, when the server listed it.
    pub fn manager_user(&self) -> Option<&ObservedUser> {
        let id = self.manager.as_deref()?;
        self.members.iter().find(|m| m.id == id)
    }
}

/// What the portal section read.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Org {
    /// Every group of the listing (read only when the manifest has `groups:`).
    pub listing: Vec<ObservedGroup>,
    /// The groups the manifest's groups are, by id, with their members.
    pub groups: BTreeMap<String, GroupDetail>,
    /// Paid seats `(used, max)`, when `people:` is given and the portal reported them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seats: Option<(i64, i64)>,
    /// `people:` is given and the seats could not be read with this key.
    #[serde(default)]
    pub seats_unreadable: bool,
    /// The invitation settings, when `people:` is given and the portal said.
    #[serde(skip)]
    pub invitations: Option<InvitationSettingsDto>,
    /// Every account, for `export --people` only.
    #[serde(skip)]
    pub people: Option<Vec<ObservedUser>>,
}

/// Which live group a manifest group is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupMatch {
    /// This live group (by id).
    Found(String),
    /// No group: it is created.
    Missing,
    /// The pinned id names no group.
    PinnedMissing,
    /// Several groups have this name when case is ignored: their ids.
    Ambiguous(Vec<String>),
}

/// The identity of `group` among the `listing`.
pub fn find(group: &DesiredGroup, listing: &[ObservedGroup]) -> GroupMatch {
    if let Some(id) = &group.id {
        return match listing.iter().find(|g| g.id.eq_ignore_ascii_case(id)) {
            Some(g) => GroupMatch::Found(g.id.clone()),
            None => GroupMatch::PinnedMissing,
        };
    }
    let key = group.name.to_lowercase();
    let ids: Vec<String> = listing
        .iter()
        .filter(|g| g.name.to_lowercase() == key)
        .map(|g| g.id.clone())
        .collect();
    match ids.len() {
        0 => GroupMatch::Missing,
        1 => GroupMatch::Found(ids.into_iter().next().unwrap_or_default()),
        _ => GroupMatch::Ambiguous(ids),
    }
}

/// Reads what `groups:` and `people:` need into `observed.org`: nothing when the manifest
/// has neither. One listing of groups, one read per matched group, and for `people:` the
/// seats and invitation settings (each a call; a key that may not read them gets a note).
pub async fn read<A: DocSpaceApi>(
    api: &A,
    desired: &Desired,
    observed: &mut Observed,
) -> Result<(), ApiError> {
    if !desired.groups.is_empty() {
        let listing = api.list_groups().await?;
        observed.org.listing = listing
            .iter()
            .map(|g| ObservedGroup {
                id: g.id.clone(),
                name: g.name.clone(),
            })
            .collect();
        for group in &desired.groups {
            if let GroupMatch::Found(id) = find(group, &observed.org.listing) {
                let detail = read_group(api, &id).await?;
                observed.org.groups.insert(id, detail);
            }
        }
    }
    if !desired.people.is_empty() {
        observed.org.seats = api.paid_seats().await?;
        observed.org.seats_unreadable = observed.org.seats.is_none();
        observed.org.invitations = api.invitation_settings().await?;
    }
    Ok(())
}

/// Every group with its members and, with `people`, every account: what `export` writes as
/// `groups:` and `people:` (one call per group, one per 100 accounts).
pub async fn read_all<A: DocSpaceApi>(
    api: &A,
    observed: &mut Observed,
    people: bool,
) -> Result<(), ApiError> {
    let listing = api.list_groups().await?;
    for g in &listing {
        observed.org.listing.push(ObservedGroup {
            id: g.id.clone(),
            name: g.name.clone(),
        });
        let detail = read_group(api, &g.id).await?;
        observed.org.groups.insert(g.id.clone(), detail);
    }
    if people {
        let mut all = Vec::new();
        super::state::all_people_pages(api, |page| {
            all.extend(page.iter().map(ObservedUser::from_dto))
        })
        .await?;
        observed.org.people = Some(all);
    }
    Ok(())
}

/// One group with its members; an answer without a member list is an error (the plan would
/// otherwise add everyone again, or remove no one).
pub async fn read_group<A: DocSpaceApi>(api: &A, id: &str) -> Result<GroupDetail, ApiError> {
    let dto = api.get_group(id).await?;
    GroupDetail::from_dto(&dto).ok_or_else(|| {
        ApiError::new(
            crate::docspace::ErrorKind::Decode,
            "GET",
            format!("/api/2.0/group/{id}"),
        )
        .with_message("the group's answer lists no members")
    })
}
