//! Reads the live portal into [`Observed`]: the rooms the manifest names, their members, and
//! the people and groups the manifest mentions, with as few calls as possible
//! (docs/architecture.md, "Performance model"): one paged room listing, one paged member read per matched room,
//! people either listed or looked up per email (whichever needs fewer calls, and none for
//! emails already seen among members), groups listed only when a group is not already
//! visible in a member list.
//!
//! Room settings (colour, cover, indexing, lifetime, watermark) come with the room listing at
//! no extra cost; sharing links cost one call per room and are read only for the rooms a
//! caller names ([`read_links`]).
//!
//! Reading never writes. Identity problems (ambiguous titles, a pinned id that does not
//! exist, a room type that differs) are not decided here: [`crate::plan`] reports them.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use futures::stream::{self, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use chrono::{DateTime, Utc};

use crate::docspace::wire::parse_api_date;
use crate::docspace::{
    ApiError, ConnectedRoomDto, DocSpaceApi, GroupDto, PAGE_SIZE, RoomDto, RoomListing, SearchArea,
    ShareDto, UserDto,
};
use crate::links::ObservedLink;
use crate::manifest::Desired;
use crate::model::pattern::TitlePattern;
use crate::model::{self, Access, RoomType, UserType};
use crate::room_settings::RoomSettings;

/// `rootFolderType` of an archived room (docs/docspace-api.md, "Reading a room").
const ARCHIVED_FOLDER_TYPE: i64 = 20;

/// A room as the portal has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedRoom {
    pub id: i64,
    pub title: String,
    /// `None` when the portal reports a type this tool does not know.
    pub room_type: Option<RoomType>,
    pub raw_room_type: Option<i64>,
    pub archived: bool,
    pub tags: BTreeSet<String>,
    /// `quotaLimit`, when the portal reports it (-1 unlimited).
    pub quota: Option<i64>,
    /// `isCustomQuota`: the room has its own quota rather than the portal default.
    #[serde(default)]
    pub custom_quota: bool,
    pub deny_download: Option<bool>,
    /// Colour, cover, indexing, lifetime and watermark, from the same room object.
    #[serde(default)]
    pub settings: RoomSettings,
}

/// A room template of the portal (docs/docspace-api.md, "Room templates"): listed only in
/// the templates area, never among the rooms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedTemplate {
    pub id: i64,
    pub title: String,
    /// The type of the rooms made from it; `None` when the portal reports one this tool
    /// does not know.
    pub room_type: Option<RoomType>,
}

/// Reads the portal's templates (one paged listing of the templates area). Only entries whose
/// root is the templates section count: a server without templates would answer the unknown
/// area with its rooms, which must never be taken for templates.
pub async fn read_templates<A: DocSpaceApi>(api: &A) -> Result<Vec<ObservedTemplate>, ApiError> {
    let mut templates: Vec<ObservedTemplate> = api
        .list_templates()
        .await?
        .iter()
        .filter(|t| t.root_folder_type == Some(model::template::TEMPLATES_ROOT_FOLDER_TYPE))
        .map(|t| ObservedTemplate {
            id: t.id,
            title: t.title.clone(),
            room_type: t.room_type.and_then(RoomType::from_wire),
        })
        .collect();
    templates.sort_by_key(|t| t.id);
    Ok(templates)
}

/// A room in connected third-party storage (docs/docspace-api.md, "Rooms in connected
/// storage").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectedRoom {
    /// The server's string id, e.g. `sbox-3-7`.
    pub id: String,
    pub title: String,
    pub room_type: Option<RoomType>,
    /// `Box`, `WebDav`, ... when the server says.
    pub provider: Option<String>,
}

impl ConnectedRoom {
    pub fn from_dto(r: &ConnectedRoomDto) -> ConnectedRoom {
        ConnectedRoom {
            id: r.id.clone(),
            title: r.title.clone(),
            room_type: r.room_type.and_then(RoomType::from_wire),
            provider: r.provider_key.clone().filter(|p| !p.trim().is_empty()),
        }
    }
}

/// A person as the portal has them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedUser {
    pub id: String,
    /// Lower-cased.
    pub email: String,
    pub user_type: UserType,
    /// Invited by email, not registered yet.
    pub pending: bool,
    /// Terminated (disabled) accounts: the share call silently skips them
    /// (docs/docspace-api.md, "The share call").
    pub terminated: bool,
    /// Whether the profile carried its type flags. Trimmed profiles (as in some share rows)
    /// carry none and would read as `User`; they are looked up before the type is trusted.
    #[serde(default)]
    pub type_known: bool,
    /// When the account was created: for a pending invitee, when the invitation was first
    /// sent (docs/docspace-api.md, "Pending invitations"). `None` when the profile did not
    /// say (trimmed profiles) or said something unreadable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<DateTime<Utc>>,
    /// The portal's owner (a DocSpace admin with the owner's rights).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub owner: bool,
    /// Who created the account (`createdBy`): for an invitee, who invited them; `None` when
    /// the profile did not say. Decides who may resend the invitation of a guest
    /// (docs/docspace-api.md, "Pending invitations").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invited_by: Option<String>,
}

impl ObservedUser {
    /// How long ago the account was created, for a pending invitee the age of its invitation;
    /// `None` when the date is unknown (never guessed as "new" or "old").
    pub fn invitation_age(&self, now: DateTime<Utc>) -> Option<chrono::Duration> {
        self.created.map(|c| now - c)
    }

    pub fn from_dto(u: &UserDto) -> ObservedUser {
        ObservedUser {
            id: u.id.clone(),
            email: model::normalise_email(&u.email),
            user_type: u.user_type(),
            pending: u.is_pending(),
            terminated: u.status == Some(2),
            type_known: u.is_owner
                || u.is_admin
                || u.is_room_admin
                || u.is_collaborator
                || u.is_visitor,
            created: u
                .registration_date
                .as_deref()
                .and_then(parse_api_date)
                .map(|d| d.with_timezone(&Utc)),
            owner: u.is_owner,
            invited_by: u
                .created_by
                .as_ref()
                .map(|c| c.id.clone())
                .filter(|id| !id.is_empty()),
        }
    }
}

/// A person known only by email (no profile read).
pub fn unknown_user(email: &str) -> ObservedUser {
    ObservedUser {
        id: String::new(),
        email: model::normalise_email(email),
        user_type: UserType::User,
        pending: false,
        terminated: false,
        type_known: false,
        created: None,
        owner: false,
        invited_by: None,
    }
}

/// A group as the portal has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedGroup {
    pub id: String,
    pub name: String,
}

/// Who a member row is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum MemberSubject {
    User(ObservedUser),
    Group(ObservedGroup),
}

/// One row of a room's member list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedMember {
    pub subject: MemberSubject,
    /// `None` for values that are not member roles (the owner row's 1 = ReadWrite).
    pub access: Option<Access>,
    pub raw_access: i64,
    pub is_owner: bool,
    pub can_edit_access: bool,
}

impl ObservedMember {
    /// The member's email or group name, as shown in plans.
    pub fn label(&self) -> &str {
        match &self.subject {
            MemberSubject::User(u) => &u.email,
            MemberSubject::Group(g) => &g.name,
        }
    }
}

/// What the portal looks like, as far as the manifest cares.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Observed {
    /// The portal's base URL (for plans and reports).
    pub portal: String,
    /// The API key's own user (never removed).
    pub me: Option<ObservedUser>,
    /// Every room the key can see, active and archived.
    pub rooms: Vec<ObservedRoom>,
    /// The portal's room templates, read only when a manifest room names one (and by
    /// `export`, which lists them as comments).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub templates: Vec<ObservedTemplate>,
    /// Rooms kept in connected third-party storage (string ids): listed by the portal, but
    /// out of reach of the endpoints the tool uses, so never managed, only reported.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub connected_rooms: Vec<ConnectedRoom>,
    /// Members of the rooms the manifest matched, of the orphans of `managed_tag`, and of the
    /// rooms a planned create may be a rename of (see [`rename_candidate_ids`]), by room id.
    pub members: BTreeMap<i64, Vec<ObservedMember>>,
    /// Matched rooms whose member list could not be read even after retries (room id -> the
    /// error): one flaky room must not stop the others; the planner leaves it out and says so.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unreadable: BTreeMap<i64, String>,
    /// Manifest emails resolved to accounts (lower-cased email -> user). Missing: no account.
    pub users: BTreeMap<String, ObservedUser>,
    /// Manifest emails (lower-cased) of accounts that exist but that this key may not see:
    /// their lookup answered the server's 403 (a room admin and a guest it has no relation
    /// with; docs/docspace-api.md, "People and user types"). Not in `users`; never new.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub hidden_people: BTreeSet<String>,
    /// Manifest group names resolved (lower-cased name -> group). Missing: no such group.
    pub groups: BTreeMap<String, ObservedGroup>,
    /// Every account email (lower-cased) of the people listing, when the read listed people
    /// whole: the candidates of the planner's near-miss check for new guests
    /// (`plan::newguest`). `None` when the listing was not needed (every email has an
    /// account), not allowed to the key, or too long ([`NEW_GUEST_CHECK_LIMIT`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accounts: Option<BTreeSet<String>>,
    /// Every group name a group listing showed (read only when a manifest group is not
    /// among the members), for "did you mean" on an unknown group.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group_names: Vec<String>,
    /// Manifest group names that several portal groups match case-insensitively (lower-cased
    /// name -> their ids): the planner refuses to guess.
    #[serde(default)]
    pub ambiguous_groups: BTreeMap<String, Vec<String>>,
    /// Sharing links of the rooms [`read_links`] was asked for, by room id (a room read with
    /// no links has an empty list; a room not asked for has no entry).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub links: BTreeMap<i64, Vec<ObservedLink>>,
    /// Rooms whose links could not be read even after retries (room id -> the error): the
    /// planner must not plan their links as if they had none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub links_unreadable: BTreeMap<i64, String>,
    /// The link password variables the manifest names, as digests only (read by the commands
    /// with [`crate::links::read_passwords`]; never serialised).
    #[serde(skip)]
    pub link_passwords: crate::links::LinkPasswords,
    /// The portal's link restrictions, password policy and covers, as far as the plan read
    /// them (`plan::portal_policy`); the server's defaults otherwise.
    #[serde(skip)]
    pub portal_policy: crate::model::PortalPolicy,
    /// The portal section: the groups of `groups:` with their members, the seats and
    /// invitation settings for `people:` (see [`super::groups`]).
    #[serde(default)]
    pub org: super::groups::Org,
}

impl Observed {
    /// Accounts on this portal, as far as the read saw them, that are invited and have not
    /// accepted yet, oldest invitation first (unknown dates last), each once.
    pub fn pending_users(&self) -> Vec<&ObservedUser> {
        let mut seen: HashSet<&str> = HashSet::new();
        let mut out: Vec<&ObservedUser> = self
            .users
            .values()
            .chain(
                self.members
                    .values()
                    .flatten()
                    .filter_map(|m| match &m.subject {
                        MemberSubject::User(u) => Some(u),
                        MemberSubject::Group(_) => None,
                    }),
            )
            .filter(|u| u.pending && !u.terminated && seen.insert(u.id.as_str()))
            .collect();
        out.sort_by(|a, b| {
            (a.created.is_none(), a.created, &a.email).cmp(&(
                b.created.is_none(),
                b.created,
                &b.email,
            ))
        });
        out
    }
}

impl ObservedRoom {
    pub fn from_dto(r: &RoomDto) -> ObservedRoom {
        ObservedRoom {
            id: r.id,
            title: r.title.clone(),
            room_type: r.room_type.and_then(RoomType::from_wire),
            raw_room_type: r.room_type,
            archived: r.root_folder_type == Some(ARCHIVED_FOLDER_TYPE),
            tags: r.tags.iter().cloned().collect(),
            quota: r.quota_limit,
            custom_quota: r.is_custom_quota.unwrap_or(false),
            deny_download: r.deny_download,
            settings: RoomSettings::from_dto(r),
        }
    }
}

impl ObservedMember {
    pub fn from_dto(s: &ShareDto) -> Option<ObservedMember> {
        // Link rows (subjectType 1/3/4) are not members (docs/docspace-api.md, "Reading members").
        let subject = if let Some(g) = &s.shared_to_group {
            MemberSubject::Group(ObservedGroup {
                id: g.id.clone(),
                name: g.name.clone(),
            })
        } else if let Some(u) = &s.shared_to_user {
            MemberSubject::User(ObservedUser::from_dto(u))
        } else {
            return None;
        };
        Some(ObservedMember {
            subject,
            access: Access::from_wire(s.access),
            raw_access: s.access,
            is_owner: s.is_owner,
            can_edit_access: s.can_edit_access,
        })
    }
}

/// A stable fingerprint of one room's observed state (its settings and sorted members), for
/// saved plans: `apply --plan` refuses a room whose fingerprint changed since planning.
pub fn fingerprint(room: Option<&ObservedRoom>, members: Option<&[ObservedMember]>) -> String {
    let mut h = Sha256::new();
    match room {
        None => h.update(b"absent"),
        Some(r) => {
            h.update(serde_json::to_vec(r).unwrap_or_default());
            let mut rows: Vec<String> = members
                .unwrap_or_default()
                .iter()
                .map(|m| {
                    let id = match &m.subject {
                        MemberSubject::User(u) => format!("u:{}:{}", u.id, u.pending),
                        MemberSubject::Group(g) => format!("g:{}", g.id),
                    };
                    format!("{id}={}:{}", m.raw_access, m.is_owner)
                })
                .collect();
            rows.sort();
            for row in rows {
                h.update(row.as_bytes());
                h.update(b"\n");
            }
        }
    }
    format!("{:x}", h.finalize())[..16].to_string()
}

/// How many member lists are read at once.
const MEMBER_READ_CONCURRENCY: usize = 16;

/// Reads what the manifest needs from the portal.
pub async fn read<A: DocSpaceApi>(
    api: &A,
    portal: &str,
    desired: &Desired,
) -> Result<Observed, ApiError> {
    read_with_progress(api, portal, desired, &|_, _| {}).await
}

/// [`read`], calling `progress(done, total)` as the member lists of matched rooms are read
/// (one call per room: on a big portal, most of the reading).
pub async fn read_with_progress<A: DocSpaceApi>(
    api: &A,
    portal: &str,
    desired: &Desired,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Observed, ApiError> {
    let me = api.me().await?;
    let listing = api
        .list_rooms(SearchArea::Any, None)
        .await?
        .require_complete()?;
    let (rooms, connected_rooms) = observe_listing(&listing, |_| true);
    let mut observed = Observed {
        portal: portal.to_string(),
        me: Some(ObservedUser::from_dto(&me)),
        rooms,
        connected_rooms,
        ..Observed::default()
    };

    // Rooms a pinned id names but the listing did not show (e.g. in another section) are
    // fetched one by one; a 404 leaves them missing and the planner reports it.
    let listed: HashSet<i64> = observed.rooms.iter().map(|r| r.id).collect();
    for id in desired.rooms.iter().filter_map(|r| r.id) {
        if !listed.contains(&id) {
            match api.get_room(id).await {
                // The room route answers a template too (any folder): a template is never a
                // manifest room (docs/docspace-api.md, "Room templates").
                Ok(r) if is_template(&r) => {}
                Ok(r) => observed.rooms.push(ObservedRoom::from_dto(&r)),
                Err(e) if e.is_not_found() || e.http_status() == Some(403) => {}
                Err(e) => return Err(e),
            }
        }
    }

    let mut matched = crate::identity::matched_room_ids(desired, &observed.rooms);
    matched.extend(rename_candidate_ids(desired, &observed.rooms, &matched));
    let (members, unreadable) = read_members(api, matched, progress).await?;
    observed.members = members;
    observed.unreadable = unreadable
        .into_iter()
        .map(|(id, e)| (id, e.to_string()))
        .collect();

    resolve_people(api, desired, &mut observed).await?;
    resolve_groups(api, desired, &mut observed).await?;
    super::groups::read(api, desired, &mut observed).await?;
    Ok(observed)
}

/// The members of one room (link rows left out): the one place a member list is read, by
/// the planner and the executor's read-back.
pub async fn room_members<A: DocSpaceApi>(
    api: &A,
    id: i64,
) -> Result<Vec<ObservedMember>, ApiError> {
    Ok(api
        .get_share(id)
        .await?
        .iter()
        .filter_map(ObservedMember::from_dto)
        .collect())
}

/// Reads the member lists of `ids`, a few rooms at a time (one paged call per room). A room
/// whose list cannot be read (after the client's retries) is returned apart with its error,
/// so that the other rooms go on; an answer that says the whole run cannot go on (the key was
/// rejected, the portal is gone) still ends the read.
async fn read_members<A: DocSpaceApi>(
    api: &A,
    ids: impl IntoIterator<Item = i64>,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<(BTreeMap<i64, Vec<ObservedMember>>, BTreeMap<i64, ApiError>), ApiError> {
    let ids: Vec<i64> = ids.into_iter().collect();
    let total = ids.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let done = &done;
    // An error no room escapes ends the stream at once (the rooms not yet started are not
    // read); any other failure is kept with its room.
    let results: Vec<(i64, Result<Vec<ObservedMember>, ApiError>)> = stream::iter(ids)
        .map(|id| async move {
            let rows = room_members(api, id).await;
            let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            progress(n, total);
            match rows {
                Err(e) if ends_the_run(&e) => Err(e),
                rows => Ok((id, rows)),
            }
        })
        .buffer_unordered(MEMBER_READ_CONCURRENCY)
        .try_collect()
        .await?;
    let mut members = BTreeMap::new();
    let mut unreadable = BTreeMap::new();
    for (id, result) in results {
        match result {
            Ok(rows) => {
                members.insert(id, rows);
            }
            Err(e) => {
                unreadable.insert(id, e);
            }
        }
    }
    Ok((members, unreadable))
}

/// A room's fingerprint extended with its links, for the plans that change links (a link
/// changed by hand after `plan --out` is told apart as a portal change, see
/// [`crate::plan::approve`]).
pub fn with_links_fingerprint(fingerprint: String, links: &[ObservedLink]) -> String {
    format!("{fingerprint}+links:{}", crate::links::fingerprint(links))
}

/// Reads the sharing links of `room_ids` (one call per room, a few rooms at a time) into
/// `observed.links`. Meant for the rooms whose manifest entry lists `links:`: rooms that do
/// not manage links cost nothing. A room whose links cannot be read is recorded in
/// `observed.links_unreadable` and the others go on; a failure no room escapes (the key, the
/// network) ends the read.
pub async fn read_links<A: DocSpaceApi>(
    api: &A,
    observed: &mut Observed,
    room_ids: &BTreeSet<i64>,
) -> Result<(), ApiError> {
    let results: Vec<(i64, Result<Vec<ObservedLink>, ApiError>)> =
        stream::iter(room_ids.iter().copied())
            .map(|id| async move {
                match api.list_links(id).await {
                    Err(e) if ends_the_run(&e) => Err(e),
                    rows => Ok((
                        id,
                        rows.map(|rows| rows.iter().filter_map(ObservedLink::from_dto).collect()),
                    )),
                }
            })
            .buffer_unordered(MEMBER_READ_CONCURRENCY)
            .try_collect()
            .await?;
    for (id, result) in results {
        match result {
            Ok(links) => {
                observed.links_unreadable.remove(&id);
                observed.links.insert(id, links);
            }
            Err(e) => {
                observed.links.remove(&id);
                observed.links_unreadable.insert(id, e.to_string());
            }
        }
    }
    Ok(())
}

/// Failures that no other room would escape: the key, the tariff, the network, a throttle.
fn ends_the_run(e: &ApiError) -> bool {
    use crate::docspace::ErrorKind;
    matches!(
        e.kind(),
        ErrorKind::Unauthorized
            | ErrorKind::PaymentRequired
            | ErrorKind::Network(_)
            | ErrorKind::Tls
            | ErrorKind::Config
    )
}

/// Reads every room the key can see (or only those whose titles match `titles`, `--room`
/// patterns, see [`crate::model::pattern`]) with all their members, for `export`.
pub async fn read_all<A: DocSpaceApi>(
    api: &A,
    portal: &str,
    titles: &[String],
) -> Result<Observed, ApiError> {
    let (observed, unreadable) = read_rooms(api, portal, titles, &|_, _| {}).await?;
    // Export writes a whole manifest: a room it cannot read is an error, not a gap.
    if let Some((_, e)) = unreadable.into_iter().next() {
        return Err(e);
    }
    Ok(observed)
}

/// [`read_all`] that goes on past a room whose member list cannot be read (kept in
/// `unreadable` with its error) and reports `progress(done, total)` per member list: the read
/// of `access` and `audit`, paced and bounded like the planner's (one paged listing, one
/// member read per room, [`MEMBER_READ_CONCURRENCY`] at a time).
pub async fn read_every_room<A: DocSpaceApi>(
    api: &A,
    portal: &str,
    titles: &[String],
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Observed, ApiError> {
    let (mut observed, unreadable) = read_rooms(api, portal, titles, progress).await?;
    observed.unreadable = unreadable
        .into_iter()
        .map(|(id, e)| (id, e.to_string()))
        .collect();
    Ok(observed)
}

/// The room listing (narrowed by `titles`) and every listed room's members, the rooms whose
/// members could not be read apart with their errors.
async fn read_rooms<A: DocSpaceApi>(
    api: &A,
    portal: &str,
    titles: &[String],
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<(Observed, BTreeMap<i64, ApiError>), ApiError> {
    let me = api.me().await?;
    let listing = api
        .list_rooms(SearchArea::Any, None)
        .await?
        .require_complete()?;
    // The one `--room` matcher: an exact title matches itself only.
    let patterns: Vec<TitlePattern> = titles.iter().map(|t| TitlePattern::new(t)).collect();
    let (rooms, connected_rooms) = observe_listing(&listing, |title| {
        crate::model::pattern::any_matches(&patterns, title)
    });
    let (members, unreadable) = read_members(api, rooms.iter().map(|r| r.id), progress).await?;
    let observed = Observed {
        portal: portal.to_string(),
        me: Some(ObservedUser::from_dto(&me)),
        rooms,
        connected_rooms,
        members,
        ..Observed::default()
    };
    Ok((observed, unreadable))
}

/// Whether a room as listed or read is a room template (its root is the templates section).
/// The room listing never shows one, but the room route answers one by id.
fn is_template(r: &RoomDto) -> bool {
    r.root_folder_type == Some(model::template::TEMPLATES_ROOT_FOLDER_TYPE)
}

/// The rooms (of a known kind: plain folders have no type) and connected-storage rooms of a
/// listing whose title `keep` accepts.
fn observe_listing(
    listing: &RoomListing,
    keep: impl Fn(&str) -> bool,
) -> (Vec<ObservedRoom>, Vec<ConnectedRoom>) {
    let rooms = listing
        .rooms
        .iter()
        .filter(|r| r.room_type.is_some() && !is_template(r) && keep(&r.title))
        .map(ObservedRoom::from_dto)
        .collect();
    let connected = listing
        .connected
        .iter()
        .filter(|r| keep(&r.title))
        .map(ConnectedRoom::from_dto)
        .collect();
    (rooms, connected)
}

/// A planned create "looks like a rename" of a live room of its type that no manifest room
/// matches when at least this many of its invitees are members there (the key's own user
/// not counted), and they are at least [`RENAME_MIN_SHARE`] of its invitees
/// (`plan::prune::note_renames`). Two, so that one shared colleague is no evidence.
pub const RENAME_MIN_SHARED: usize = 2;
/// See [`RENAME_MIN_SHARED`]: the share of the new room's invitees (access other than
/// `none`) that must be members of the live room.
pub const RENAME_MIN_SHARE: f64 = 0.5;
/// The most member lists read for the rename check in one run: beyond it, only the rooms
/// whose members are read anyway (matched rooms and orphans of `managed_tag`) are compared
/// (docs/architecture.md, "Performance model").
pub const RENAME_CHECK_MAX_READS: usize = 100;

/// The live rooms whose members the rename check needs and `matched` does not already read:
/// not archived, matched by no manifest room, of the type of a planned create that has at
/// least [`RENAME_MIN_SHARED`] invitees. None when no such create is planned, and none when
/// there are more than [`RENAME_CHECK_MAX_READS`] (the check then compares only the rooms
/// read anyway).
pub fn rename_candidate_ids(
    desired: &Desired,
    rooms: &[ObservedRoom],
    matched: &BTreeSet<i64>,
) -> BTreeSet<i64> {
    let titles: HashSet<String> = rooms
        .iter()
        .map(|r| model::sanitize_title(&r.title))
        .collect();
    let types: HashSet<RoomType> = desired
        .rooms
        .iter()
        .filter(|r| r.id.is_none() && !titles.contains(&r.title))
        .filter(|r| {
            r.invitees
                .iter()
                .filter(|i| i.access != Access::None)
                .count()
                >= RENAME_MIN_SHARED
        })
        .map(|r| r.room_type)
        .collect();
    if types.is_empty() {
        return BTreeSet::new();
    }
    let ids: BTreeSet<i64> = rooms
        .iter()
        .filter(|r| !r.archived && r.room_type.is_some_and(|t| types.contains(&t)))
        .map(|r| r.id)
        .filter(|id| !matched.contains(id))
        .collect();
    if ids.len() > RENAME_CHECK_MAX_READS {
        tracing::info!(
            "{} unmatched rooms share a type with a planned create; over {RENAME_CHECK_MAX_READS}, so their members are not read for the rename check",
            ids.len()
        );
        return BTreeSet::new();
    }
    ids
}

/// Resolves every manifest email to an account, or to "no account" (a new guest).
async fn resolve_people<A: DocSpaceApi>(
    api: &A,
    desired: &Desired,
    observed: &mut Observed,
) -> Result<(), ApiError> {
    let wanted = desired.emails();
    let known = known_people(observed);
    let mut missing: Vec<&str> = Vec::new();
    for email in &wanted {
        match known.get(*email) {
            Some(u) => {
                observed.users.insert(email.to_string(), u.clone());
            }
            None => missing.push(email),
        }
    }
    // One lookup is cheaper than any listing; otherwise read the first page of people to
    // learn the total, and then take whichever of "list the rest" and "look up the rest"
    // needs fewer calls.
    let mut listing: Option<PeopleListing> = None;
    let mut listing_forbidden = false;
    if missing.len() > 1 {
        match list_first(api, &wanted, &mut missing, observed).await? {
            FirstPeoplePage::Resolved => return Ok(()),
            FirstPeoplePage::Stopped(at) => listing = Some(at),
            FirstPeoplePage::Forbidden => listing_forbidden = true,
        }
    }
    look_up_each(api, desired, &missing, observed).await?;
    // An email still unresolved would be invited as a new guest. On a PostgreSQL install an
    // account stored as `Ann.Lee@Example.com` is found neither as `ann.lee@example.com` nor
    // as written differently, and inviting it by email creates a *second* account
    // (docs/docspace-api.md, "Email case"). Before planning new accounts, the people list is
    // matched case-insensitively, on portals small enough for that to be cheap.
    missing.retain(|e| !observed.users.contains_key(*e) && !observed.hidden_people.contains(*e));
    if missing.is_empty() || listing_forbidden {
        return Ok(());
    }
    let (start, total) = match listing {
        Some(l) => (l.start, l.total),
        None => match api.people_page(0).await {
            Ok((first, total)) => {
                record_people(observed, &wanted, &first);
                if first.is_empty() {
                    return Ok(());
                }
                (first.len() as i64, total.unwrap_or(i64::MAX))
            }
            Err(e) if e.http_status() == Some(403) => return Ok(()),
            Err(e) => return Err(e),
        },
    };
    // The same listing gives the near-miss check of new guests its candidates
    // (`plan::newguest`); beyond the limit the check has only the accounts already seen.
    if total <= NEW_GUEST_CHECK_LIMIT {
        list_rest(api, start, total, |page| {
            record_people(observed, &wanted, page)
        })
        .await?;
    } else {
        observed.accounts = None;
    }
    Ok(())
}

/// The accounts already read, by email: the key's user, and members whose rows carried the
/// profile's type flags. They cost nothing more (the room-manager check needs the type).
fn known_people(observed: &Observed) -> BTreeMap<String, ObservedUser> {
    let mut known: BTreeMap<String, ObservedUser> = BTreeMap::new();
    for m in observed.members.values().flatten() {
        if let MemberSubject::User(u) = &m.subject
            && u.type_known
        {
            known.insert(u.email.clone(), u.clone());
        }
    }
    if let Some(me) = &observed.me {
        known.insert(me.email.clone(), me.clone());
    }
    known
}

/// Records the wanted emails among a page of people, and every email among the accounts
/// (see [`Observed::accounts`]).
fn record_people(observed: &mut Observed, wanted: &BTreeSet<&str>, people: &[UserDto]) {
    let accounts = observed.accounts.get_or_insert_with(BTreeSet::new);
    for u in people {
        let u = ObservedUser::from_dto(u);
        accounts.insert(u.email.clone());
        if wanted.contains(u.email.as_str()) {
            observed.users.insert(u.email.clone(), u);
        }
    }
}

/// What reading the first page of people settled for the emails still missing.
enum FirstPeoplePage {
    /// Nothing is left to resolve: every email was found, or the whole list was read.
    Resolved,
    /// The listing stopped here; looking the rest up costs fewer calls.
    Stopped(PeopleListing),
    /// The key may not list people: each email is looked up instead.
    Forbidden,
}

/// Reads the first page of people, drops the emails found there from `missing`, and lists
/// the rest when that costs fewer calls than looking the missing emails up one by one.
async fn list_first<A: DocSpaceApi>(
    api: &A,
    wanted: &BTreeSet<&str>,
    missing: &mut Vec<&str>,
    observed: &mut Observed,
) -> Result<FirstPeoplePage, ApiError> {
    match api.people_page(0).await {
        Ok((first, total)) => {
            record_people(observed, wanted, &first);
            missing.retain(|e| !observed.users.contains_key(*e));
            let start = first.len() as i64;
            let total = total.unwrap_or(i64::MAX);
            let pages_left = ((total - start).max(0) as u64).div_ceil(PAGE_SIZE as u64);
            if missing.is_empty() || pages_left == 0 || first.is_empty() {
                return Ok(FirstPeoplePage::Resolved);
            }
            // Emails still missing after per-email lookups (new guests, the usual case:
            // members already seen were resolved above) are checked against the whole
            // list anyway on portals within `PEOPLE_CHECK_LIMIT`, so listing first saves
            // the lookups there.
            if (pages_left as usize) < missing.len() || total <= PEOPLE_CHECK_LIMIT {
                list_rest(api, start, total, |page| {
                    record_people(observed, wanted, page)
                })
                .await?;
                return Ok(FirstPeoplePage::Resolved);
            }
            Ok(FirstPeoplePage::Stopped(PeopleListing { start, total }))
        }
        // Callers of type User or Guest may not search people (docs/docspace-api.md, "People and groups lookup"):
        // look each email up instead.
        Err(e) if e.http_status() == Some(403) => Ok(FirstPeoplePage::Forbidden),
        Err(e) => Err(e),
    }
}

/// Looks each missing email up, a few at a time, and records the accounts found.
async fn look_up_each<A: DocSpaceApi>(
    api: &A,
    desired: &Desired,
    missing: &[&str],
    observed: &mut Observed,
) -> Result<(), ApiError> {
    // Looked up as the manifest spells the address (the client falls back to lower case):
    // PostgreSQL installs compare emails case-sensitively.
    let written = desired.written_emails();
    let found: Vec<(String, Result<Option<UserDto>, ()>)> = stream::iter(missing.iter().copied())
        .map(|email| {
            let as_written = written.get(email).copied().unwrap_or(email);
            async move {
                match api.user_by_email(as_written).await {
                    Ok(user) => Ok((email.to_string(), Ok(user))),
                    // The server answers 404 for an unknown email and only then 403 with
                    // its message for an account the caller may not view
                    // (`GetProfileByEmail`): the account exists, and an email invitation
                    // reaches it (docs/docspace-api.md, "People and user types" and
                    // "Email invitations"). A bare 403 (a missing scope) says nothing.
                    Err(e) if e.http_status() == Some(403) => {
                        let hidden = e.message().is_some();
                        Ok((email.to_string(), if hidden { Err(()) } else { Ok(None) }))
                    }
                    Err(e) => Err(e),
                }
            }
        })
        .buffer_unordered(MEMBER_READ_CONCURRENCY)
        .try_collect()
        .await?;
    for (email, user) in found {
        match user {
            Ok(Some(u)) => {
                observed.users.insert(email, ObservedUser::from_dto(&u));
            }
            Err(()) => {
                observed.hidden_people.insert(email);
            }
            Ok(None) => {}
        }
    }
    Ok(())
}

/// Where a people listing stopped: the next offset and the announced total.
struct PeopleListing {
    start: i64,
    total: i64,
}

/// Up to this many accounts, the people list is read first when several emails are missing
/// (at most 50 pages), since new guests would have it read anyway.
const PEOPLE_CHECK_LIMIT: i64 = 5_000;

/// Up to this many accounts, emails still without an account after the lookups (new guests)
/// are checked against the whole people list (at most 500 pages), for a case-insensitive
/// match and for near misses (`plan::newguest`). Only plans that would create a guest
/// account pay for it (docs/architecture.md, "Performance model").
pub const NEW_GUEST_CHECK_LIMIT: i64 = 50_000;

/// Reads the people pages from `start` to `total`, handing each to `record`. Bounded like the
/// client's own paging, against servers that never end.
async fn list_rest<A: DocSpaceApi>(
    api: &A,
    mut start: i64,
    total: i64,
    mut record: impl FnMut(&[UserDto]),
) -> Result<(), ApiError> {
    for _ in 0..100_000 {
        if start >= total {
            break;
        }
        let (page, _) = api.people_page(start).await?;
        if page.is_empty() {
            break;
        }
        start += page.len() as i64;
        record(&page);
    }
    Ok(())
}

/// The most people pages a whole listing reads (50,000 accounts), against servers that never
/// end.
pub const MAX_PEOPLE_PAGES: usize = 500;

/// Reads every people page from the first, handing each to `record`, until an empty page or
/// the envelope's `total`; at most [`MAX_PEOPLE_PAGES`]. Whether it reached the end.
pub(crate) async fn all_people_pages<A: DocSpaceApi>(
    api: &A,
    mut record: impl FnMut(&[UserDto]),
) -> Result<bool, ApiError> {
    let mut start = 0i64;
    for _ in 0..MAX_PEOPLE_PAGES {
        let (page, total) = api.people_page(start).await?;
        if page.is_empty() {
            return Ok(true);
        }
        start += page.len() as i64;
        record(&page);
        if total.is_some_and(|t| start >= t) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Resolves manifest group names (case-insensitively), listing groups only when a name is not
/// already visible in a member list.
async fn resolve_groups<A: DocSpaceApi>(
    api: &A,
    desired: &Desired,
    observed: &mut Observed,
) -> Result<(), ApiError> {
    let wanted = desired.group_names();
    if wanted.is_empty() {
        return Ok(());
    }
    for m in observed.members.values().flatten() {
        if let MemberSubject::Group(g) = &m.subject {
            let key = g.name.to_lowercase();
            if wanted.contains(&key) {
                observed.groups.insert(key, g.clone());
            }
        }
    }
    if wanted.iter().all(|w| observed.groups.contains_key(w)) {
        return Ok(());
    }
    let groups: Vec<GroupDto> = api.list_groups().await?;
    observed.group_names = groups.iter().map(|g| g.name.clone()).collect();
    observed.group_names.sort();
    let mut by_name: BTreeMap<String, Vec<GroupDto>> = BTreeMap::new();
    for g in groups {
        let key = g.name.to_lowercase();
        if wanted.contains(&key) {
            by_name.entry(key).or_default().push(g);
        }
    }
    for (key, mut found) in by_name {
        if found.len() > 1 {
            observed.groups.remove(&key);
            observed
                .ambiguous_groups
                .insert(key, found.into_iter().map(|g| g.id).collect());
        } else if let Some(g) = found.pop() {
            observed.groups.entry(key).or_insert(ObservedGroup {
                id: g.id,
                name: g.name,
            });
        }
    }
    Ok(())
}
