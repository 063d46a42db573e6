//! An in-memory DocSpace portal implementing [`DocSpaceApi`] directly, without HTTP.
//!
//! It keeps rooms, their members, people, groups and the API key's own user, and applies the
//! server's observable rules that the engine relies on. Those rules are written here on their
//! own, from the server's documented behaviour, never by calling the planner, the executor or
//! the model's helpers: a test that used the engine's own rules to play the server would agree
//! with any bug in them.
//!
//! Rules kept, and where each is described:
//! - Creating a room makes the key's user its owner; titles are trimmed and stored sanitised:
//!   docs/docspace-api.md, "Creating rooms"
//! - Tag names are portal-wide and compare case-insensitively (the first spelling stays):
//!   docs/docspace-api.md, "Tags"
//! - An archived room refuses settings and share changes with 403:
//!   docs/docspace-api.md, "Updating rooms"
//! - The share call processes its entries one after another without a transaction: an entry
//!   the role tables refuse fails the whole call with 403 after the earlier entries were
//!   applied; group entries run before user entries, as on the server:
//!   docs/docspace-api.md, "The share call"
//! - The role tables per room type and per user type: docs/docspace-api.md, "Roles per room type"
//! - An email with no account creates a pending guest; an email is always validated as a guest
//!   (never room manager); removal by email does nothing:
//!   docs/docspace-api.md, "Email invitations"
//! - The owner row is synthetic and listed first with access 1:
//!   docs/docspace-api.md, "Reading members"
//!
//! Scripted faults ([`Faults`]) stand for what a real portal does now and then: a create that
//! times out after it committed, an invitee the server drops without an error, an email it
//! refuses, a member list it cannot read, the daily limit reached.
//!
//! Simplifications: one section per room (no moves in progress: archive and unarchive finish at
//! once), every room visible to the key, people compared by email case-insensitively (the
//! MySQL behaviour), and share entries naming the room's owner are ignored.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::docspace::{
    ApiError, CreateRoomRequest, DocSpaceApi, ErrorKind, FileOperationDto, GroupDto, GroupRefDto,
    Invitation, LinkDto, LinkRequest, NetworkKind, PAGE_SIZE, RoomDto, RoomListing, SearchArea,
    ShareDto, ShareRequest, ShareResponse, SharedLinkDto, UpdateRoomRequest, UserDto, UserRefDto,
};
use crate::model::{Access, RoomType, UserType};

/// The id of the API key's own user in every [`MemoryPortal`].
pub const ME: &str = "u-me";
/// Its email.
pub const ME_EMAIL: &str = "me@portal.test";

/// A person on the portal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: String,
    /// As stored (compared case-insensitively).
    pub email: String,
    pub user_type: UserType,
    /// Invited by email, not registered yet.
    pub pending: bool,
    /// Disabled: share calls skip the account silently.
    pub terminated: bool,
}

/// A group on the portal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: String,
    pub name: String,
}

/// Who holds a share in a room.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Holder {
    User(String),
    Group(String),
}

/// A room as the portal stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    pub id: i64,
    pub title: String,
    /// The wire integer.
    pub room_type: i64,
    /// Newest first, as the server lists them.
    pub tags: Vec<String>,
    /// `None`: the portal default quota.
    pub quota: Option<i64>,
    pub deny_download: bool,
    pub archived: bool,
    /// A user id: shown only in the synthetic owner row, never a stored share.
    pub owner: String,
    /// Stored shares in the order they were made, access as the wire integer.
    pub members: Vec<(Holder, i64)>,
    /// Sharing links, as last set.
    pub links: Vec<Link>,
}

/// A sharing link as the portal stores it, kept simple: what a request sets is what is
/// listed. The server's finer rules are in docs/docspace-api.md, "Sharing links".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub id: String,
    /// FileShare int.
    pub access: i64,
    pub title: String,
    /// 0 invitation, 1 external.
    pub link_type: i64,
    pub internal: bool,
    pub deny_download: bool,
    pub expiration_date: Option<String>,
    pub password: Option<String>,
    pub max_use_count: Option<i64>,
}

impl Link {
    fn dto(&self) -> LinkDto {
        LinkDto {
            access: self.access,
            subject_type: Some(if self.link_type == 0 { 3 } else { 1 }),
            shared_link: Some(SharedLinkDto {
                id: self.id.clone(),
                title: Some(self.title.clone()),
                expiration_date: self.expiration_date.clone(),
                link_type: Some(self.link_type),
                password: self.password.clone().map(SecretString::from),
                deny_download: Some(self.deny_download),
                is_expired: Some(false),
                primary: false,
                internal: Some(self.internal),
                max_use_count: self.max_use_count,
                current_use_count: Some(0),
            }),
        }
    }
}

impl Room {
    /// The stored access of `holder`, if any.
    pub fn access_of(&self, holder: &Holder) -> Option<i64> {
        self.members
            .iter()
            .find(|(h, _)| h == holder)
            .map(|(_, a)| *a)
    }
}

/// A write call the portal received, in order (what the executor tests count).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    Create {
        title: String,
    },
    Update {
        room: i64,
    },
    Archive {
        room: i64,
    },
    Unarchive {
        room: i64,
    },
    /// One share call and how many entries it carried.
    Share {
        room: i64,
        entries: usize,
    },
    /// A link created, changed or revoked.
    Link {
        room: i64,
        link: String,
    },
    /// One call resending a room's invitation emails, and to how many members.
    RoomResend {
        room: i64,
        users: usize,
    },
}

/// Scripted misbehaviour.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// The next this-many creates commit the room and then answer a timeout, as a portal
    /// behind a slow proxy does: the caller cannot tell whether the room exists.
    pub creates_time_out_after_commit: usize,
    /// Invitees (lower-cased emails or ids) that share calls skip without an error or a
    /// warning, as the server does for accounts the caller may not see.
    pub dropped_invitees: BTreeSet<String>,
    /// Emails (lower-cased) whose share entry fails the whole call with 403.
    pub refused_emails: BTreeSet<String>,
    /// Rooms whose member list cannot be read (500 on every try).
    pub unreadable_members: BTreeSet<i64>,
    /// Set when the portal's daily limit is spent: why, and when to run again.
    pub limit_reached: Option<String>,
}

/// Everything the portal holds; tests read it back with [`MemoryPortal::state`].
#[derive(Debug, Clone)]
pub struct PortalState {
    /// The key's user (an id in `people`).
    pub me: String,
    pub people: Vec<Person>,
    pub groups: Vec<Group>,
    pub rooms: BTreeMap<i64, Room>,
    /// The portal-wide tag table: one spelling per name, case ignored.
    pub tags: Vec<String>,
    /// Whether rooms report `quotaLimit` (room quotas enabled on the portal).
    pub quotas_enabled: bool,
    pub faults: Faults,
    pub writes: Vec<Write>,
    next_room: i64,
    next_id: u64,
}

impl PortalState {
    fn person(&self, id: &str) -> Option<&Person> {
        self.people.iter().find(|p| p.id == id)
    }

    fn person_by_email(&self, email: &str) -> Option<&Person> {
        let email = email.trim().to_lowercase();
        self.people.iter().find(|p| p.email.to_lowercase() == email)
    }

    fn group(&self, id: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.id == id)
    }

    fn fresh_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}-{}", self.next_id)
    }

    /// The tag table's spelling of `name`, added when new.
    fn tag(&mut self, name: &str) -> String {
        let lower = name.to_lowercase();
        if let Some(t) = self.tags.iter().find(|t| t.to_lowercase() == lower) {
            return t.clone();
        }
        self.tags.push(name.to_string());
        name.to_string()
    }

    fn tag_set(&mut self, names: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for n in names.iter().rev() {
            let t = self.tag(n);
            if !out.contains(&t) {
                out.push(t);
            }
        }
        out
    }

    fn room_dto(&self, r: &Room) -> RoomDto {
        RoomDto {
            id: r.id,
            title: r.title.clone(),
            room_type: Some(r.room_type),
            root_folder_type: Some(if r.archived { 20 } else { 14 }),
            tags: r.tags.clone(),
            deny_download: Some(r.deny_download),
            // The portal default is unlimited here.
            quota_limit: self.quotas_enabled.then(|| r.quota.unwrap_or(-1)),
            is_custom_quota: self.quotas_enabled.then_some(r.quota.is_some()),
            created_by: self.person(&r.owner).map(|p| UserRefDto {
                id: p.id.clone(),
                display_name: p.email.clone(),
            }),
            ..RoomDto::default()
        }
    }

    fn share_row(&self, holder: &Holder, access: i64, room: &Room) -> Option<ShareDto> {
        match holder {
            Holder::User(id) => {
                let p = self.person(id)?;
                Some(ShareDto {
                    access,
                    shared_to_user: Some(user_dto(p)),
                    subject_type: Some(0),
                    is_owner: false,
                    is_locked: *id == self.me,
                    can_edit_access: *id != self.me && *id != room.owner,
                    ..ShareDto::default()
                })
            }
            Holder::Group(id) => {
                let g = self.group(id)?;
                Some(ShareDto {
                    access,
                    shared_to_group: Some(GroupRefDto {
                        id: g.id.clone(),
                        name: g.name.clone(),
                    }),
                    subject_type: Some(2),
                    can_edit_access: true,
                    ..ShareDto::default()
                })
            }
        }
    }

    fn rows(&self, room: &Room) -> Vec<ShareDto> {
        let mut rows = Vec::new();
        if let Some(owner) = self.person(&room.owner) {
            rows.push(ShareDto {
                access: 1,
                shared_to_user: Some(user_dto(owner)),
                subject_type: Some(0),
                is_owner: true,
                ..ShareDto::default()
            });
        }
        rows.extend(
            room.members
                .iter()
                .filter_map(|(h, a)| self.share_row(h, *a, room)),
        );
        rows
    }
}

/// A profile as the people endpoints send it, type flags included.
fn user_dto(p: &Person) -> UserDto {
    UserDto {
        id: p.id.clone(),
        email: p.email.clone(),
        display_name: p.email.clone(),
        status: Some(if p.terminated {
            2
        } else if p.pending {
            4
        } else {
            1
        }),
        activation_status: Some(if p.pending { 2 } else { 1 }),
        is_admin: p.user_type == UserType::DocSpaceAdmin,
        is_owner: false,
        is_room_admin: p.user_type == UserType::RoomAdmin,
        is_collaborator: p.user_type == UserType::User,
        is_visitor: p.user_type == UserType::Guest,
        registration_date: None,
        created_by: None,
    }
}

/// The member roles a room type takes, per subject, as wire integers; `None` for a type the
/// portal does not know. See docs/docspace-api.md, "Roles per room type".
fn room_roles(room_type: i64, group: bool) -> Option<&'static [i64]> {
    Some(match (room_type, group) {
        (1, false) => &[9, 11, 7, 0],
        (1, true) => &[11, 7, 0],
        (2, false) => &[9, 11, 10, 2, 0],
        (2, true) => &[11, 10, 2, 0],
        (5, false) => &[9, 11, 10, 5, 6, 2, 0],
        (5, true) => &[11, 10, 5, 6, 2, 0],
        (6, false) => &[9, 11, 0],
        (6, true) => &[11, 0],
        (8, false) => &[9, 11, 10, 2, 7, 0],
        (8, true) => &[11, 10, 2, 7, 0],
        (9, false) => &[9, 11, 2, 0],
        (9, true) => &[11, 2, 0],
        _ => return None,
    })
}

/// Whether a user of `user_type` may hold `access` in a room of `room_type`: the second check
/// of docs/docspace-api.md, "Roles per room type".
fn user_type_allows(user_type: UserType, room_type: i64, access: i64) -> bool {
    let admin = matches!(user_type, UserType::DocSpaceAdmin | UserType::RoomAdmin);
    let ai_guest = room_type == 9 && user_type == UserType::Guest;
    match access {
        9 => admin && !ai_guest,
        11 => !ai_guest,
        10 | 7 | 5 | 6 | 2 | 0 => true,
        _ => false,
    }
}

/// The stored form of a title: trimmed, with the characters the server refuses in names (and
/// each UTF-16 half of a character outside the BMP) replaced by `_`. See
/// docs/docspace-api.md, "Room titles".
fn stored_title(title: &str) -> String {
    let mut out = String::new();
    for c in title.trim().chars() {
        match c {
            '\t' | '*' | '+' | ':' | '"' | '<' | '>' | '?' | '|' | '\\' | '/' => out.push('_'),
            c if c.len_utf16() == 2 => out.push_str("__"),
            c => out.push(c),
        }
    }
    out
}

const ROOMS: &str = "/api/2.0/files/rooms";

fn refused(method: &str, path: String, message: &str) -> ApiError {
    ApiError::from_status(403, method, path).with_message(message)
}

fn not_found(method: &str, path: String) -> ApiError {
    ApiError::from_status(404, method, path).with_message("The required folder was not found")
}

/// The in-memory portal. Cheap to build; every call runs at once.
#[derive(Debug)]
pub struct MemoryPortal {
    state: Mutex<PortalState>,
}

impl Default for MemoryPortal {
    fn default() -> Self {
        MemoryPortal::new()
    }
}

impl MemoryPortal {
    /// An empty portal whose key belongs to a DocSpace admin ([`ME`]), with room quotas on.
    pub fn new() -> MemoryPortal {
        MemoryPortal {
            state: Mutex::new(PortalState {
                me: ME.to_string(),
                people: vec![Person {
                    id: ME.to_string(),
                    email: ME_EMAIL.to_string(),
                    user_type: UserType::DocSpaceAdmin,
                    pending: false,
                    terminated: false,
                }],
                groups: Vec::new(),
                rooms: BTreeMap::new(),
                tags: Vec::new(),
                quotas_enabled: true,
                faults: Faults::default(),
                writes: Vec::new(),
                next_room: 100,
                next_id: 0,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, PortalState> {
        // A failed assertion in another task must not hide the state from the test.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A copy of everything the portal holds.
    pub fn state(&self) -> PortalState {
        self.lock().clone()
    }

    /// Changes the portal directly (set-up, faults), outside any API call.
    pub fn with<R>(&self, f: impl FnOnce(&mut PortalState) -> R) -> R {
        f(&mut self.lock())
    }

    /// Sets the scripted faults.
    pub fn faults(&self, f: impl FnOnce(&mut Faults)) {
        f(&mut self.lock().faults)
    }

    /// Adds a registered account; returns its id.
    pub fn add_person(&self, email: &str, user_type: UserType) -> String {
        self.with(|s| {
            let id = s.fresh_id("u");
            s.people.push(Person {
                id: id.clone(),
                email: email.to_string(),
                user_type,
                pending: false,
                terminated: false,
            });
            id
        })
    }

    /// Adds a group; returns its id.
    pub fn add_group(&self, name: &str) -> String {
        self.with(|s| {
            let id = s.fresh_id("g");
            s.groups.push(Group {
                id: id.clone(),
                name: name.to_string(),
            });
            id
        })
    }

    /// Adds an active room owned by the key's user, as if created earlier; returns its id.
    pub fn add_room(&self, title: &str, room_type: RoomType) -> i64 {
        self.with(|s| {
            s.next_room += 1;
            let id = s.next_room;
            let owner = s.me.clone();
            s.rooms.insert(
                id,
                Room {
                    id,
                    title: stored_title(title),
                    room_type: room_type.wire(),
                    tags: Vec::new(),
                    quota: None,
                    deny_download: false,
                    archived: false,
                    owner,
                    members: Vec::new(),
                    links: Vec::new(),
                },
            );
            id
        })
    }

    /// Stores a share directly (set-up; no rule is checked).
    pub fn add_member(&self, room: i64, holder: Holder, access: Access) {
        self.with(|s| {
            let r = s
                .rooms
                .get_mut(&room)
                .expect("set-up names an existing room");
            r.members.retain(|(h, _)| *h != holder);
            r.members.push((holder, access.wire()));
        })
    }

    /// The room with `id`, as stored.
    pub fn room(&self, id: i64) -> Option<Room> {
        self.lock().rooms.get(&id).cloned()
    }

    /// Every room whose stored title is `title`.
    pub fn rooms_titled(&self, title: &str) -> Vec<Room> {
        self.lock()
            .rooms
            .values()
            .filter(|r| r.title == title)
            .cloned()
            .collect()
    }

    /// The account with this email (case ignored).
    pub fn person_by_email(&self, email: &str) -> Option<Person> {
        self.lock().person_by_email(email).cloned()
    }

    /// The write calls received so far.
    pub fn writes(&self) -> Vec<Write> {
        self.lock().writes.clone()
    }

    fn create(&self, request: &CreateRoomRequest) -> Result<RoomDto, ApiError> {
        let mut s = self.lock();
        let bad = |m: &str| ApiError::from_status(400, "POST", ROOMS).with_message(m);
        if room_roles(request.room_type, false).is_none() {
            return Err(bad("unknown room type"));
        }
        let title = stored_title(&request.title);
        if title.is_empty() || title.encode_utf16().count() > 170 {
            return Err(bad("The title is empty or too long"));
        }
        s.writes.push(Write::Create {
            title: title.clone(),
        });
        let tags = s.tag_set(request.settings.tags.as_deref().unwrap_or_default());
        s.next_room += 1;
        let id = s.next_room;
        let room = Room {
            id,
            title,
            room_type: request.room_type,
            tags,
            quota: request.settings.quota,
            deny_download: request.settings.deny_download.unwrap_or(false),
            archived: false,
            owner: s.me.clone(),
            members: Vec::new(),
            links: Vec::new(),
        };
        let dto = s.room_dto(&room);
        s.rooms.insert(id, room);
        if s.faults.creates_time_out_after_commit > 0 {
            s.faults.creates_time_out_after_commit -= 1;
            return Err(
                ApiError::new(ErrorKind::Network(NetworkKind::Timeout), "POST", ROOMS)
                    .with_message("operation timed out")
                    .into_ambiguous(),
            );
        }
        Ok(dto)
    }

    fn update(&self, id: i64, request: &UpdateRoomRequest) -> Result<RoomDto, ApiError> {
        let mut s = self.lock();
        let path = format!("{ROOMS}/{id}");
        // An unknown id answers 403, not 404, on this endpoint.
        let Some(room) = s.rooms.get(&id) else {
            return Err(refused("PUT", path, "The required folder was not found"));
        };
        if room.archived {
            return Err(refused(
                "PUT",
                path,
                "You don't have permission to edit the room",
            ));
        }
        s.writes.push(Write::Update { room: id });
        let tags = request.tags.as_ref().map(|t| s.tag_set(t));
        let room = s.rooms.get_mut(&id).expect("checked above");
        if let Some(t) = request.title.as_deref().filter(|t| !t.trim().is_empty()) {
            room.title = stored_title(t);
        }
        if let Some(t) = tags {
            room.tags = t;
        }
        match request.quota {
            Some(-2) => room.quota = None,
            Some(q) => room.quota = Some(q),
            None => {}
        }
        if let Some(d) = request.deny_download {
            room.deny_download = d;
        }
        let room = room.clone();
        Ok(s.room_dto(&room))
    }

    fn move_room(&self, id: i64, archived: bool) -> Result<FileOperationDto, ApiError> {
        let mut s = self.lock();
        let verb = if archived { "archive" } else { "unarchive" };
        let Some(room) = s.rooms.get_mut(&id) else {
            return Err(not_found("PUT", format!("{ROOMS}/{id}/{verb}")));
        };
        room.archived = archived;
        s.writes.push(if archived {
            Write::Archive { room: id }
        } else {
            Write::Unarchive { room: id }
        });
        Ok(FileOperationDto {
            id: s.fresh_id("op"),
            operation: Some(0),
            progress: Some(100),
            error: None,
            finished: true,
            status: Some(2),
        })
    }

    fn share(&self, room_id: i64, request: &ShareRequest) -> Result<ShareResponse, ApiError> {
        let mut s = self.lock();
        let path = format!("{ROOMS}/{room_id}/share");
        let Some(room) = s.rooms.get(&room_id) else {
            return Err(not_found("PUT", path));
        };
        if room.archived {
            return Err(refused("PUT", path, "Access denied"));
        }
        let (room_type, owner) = (room.room_type, room.owner.clone());
        s.writes.push(Write::Share {
            room: room_id,
            entries: request.invitations.len(),
        });
        // Entries that are neither an email nor a known account (groups) run first; the rest
        // keep their order.
        let (mut ordered, users): (Vec<&Invitation>, Vec<&Invitation>) =
            request.invitations.iter().partition(|i| {
                i.email.is_none() && i.id.as_deref().is_none_or(|id| s.person(id).is_none())
            });
        ordered.extend(users);
        let role_refused = || {
            refused(
                "PUT",
                format!("{ROOMS}/{room_id}/share"),
                "The role is not available for this user type",
            )
        };
        for inv in ordered {
            let holder = match (&inv.email, &inv.id) {
                (Some(email), _) => s.email_holder(room_type, inv, email),
                (None, Some(id)) => s.id_holder(room_type, inv, id),
                (None, None) => {
                    return Err(ApiError::from_status(400, "PUT", path)
                        .with_message("an invitation needs an id or an email"));
                }
            };
            let Some(holder) = holder.map_err(|RoleRefused| role_refused())? else {
                continue;
            };
            if holder == Holder::User(owner.clone()) {
                continue;
            }
            let room = s.rooms.get_mut(&room_id).expect("checked above");
            room.set_share(holder, inv.access);
        }
        Ok(ShareResponse {
            members: s.share_answer(room_id, request),
            warning: None,
            error: 0,
        })
    }
}

/// The share call refused an entry's role for its holder: the whole call fails.
struct RoleRefused;

impl PortalState {
    /// The holder an email entry shares with (an existing person, or a new pending guest),
    /// or `None` when the server drops the entry.
    fn email_holder(
        &mut self,
        room_type: i64,
        inv: &Invitation,
        email: &str,
    ) -> Result<Option<Holder>, RoleRefused> {
        // Removal by email does nothing.
        if inv.access == 0 {
            return Ok(None);
        }
        let lower = email.trim().to_lowercase();
        // Every email is validated as a guest, whoever owns the address.
        if self.faults.refused_emails.contains(&lower)
            || !room_roles(room_type, false).is_some_and(|r| r.contains(&inv.access))
            || !user_type_allows(UserType::Guest, room_type, inv.access)
        {
            return Err(RoleRefused);
        }
        if self.faults.dropped_invitees.contains(&lower) {
            return Ok(None);
        }
        let id = match self.person_by_email(&lower) {
            Some(p) => p.id.clone(),
            None => {
                let id = self.fresh_id("u");
                self.people.push(Person {
                    id: id.clone(),
                    email: email.trim().to_string(),
                    user_type: UserType::Guest,
                    pending: true,
                    terminated: false,
                });
                id
            }
        };
        Ok(Some(Holder::User(id)))
    }

    /// The holder an id entry shares with (a person or a group), or `None` when the server
    /// drops the entry (a terminated user, an id the caller cannot see, a dropped invitee).
    fn id_holder(
        &self,
        room_type: i64,
        inv: &Invitation,
        id: &str,
    ) -> Result<Option<Holder>, RoleRefused> {
        let (holder, user_type) = if let Some(p) = self.person(id) {
            if p.terminated {
                return Ok(None);
            }
            (Holder::User(id.to_string()), Some(p.user_type))
        } else if self.group(id).is_some() {
            (Holder::Group(id.to_string()), None)
        } else {
            // An id the caller cannot see is dropped without a word.
            return Ok(None);
        };
        let group = user_type.is_none();
        if !room_roles(room_type, group).is_some_and(|r| r.contains(&inv.access))
            || user_type.is_some_and(|t| !user_type_allows(t, room_type, inv.access))
        {
            return Err(RoleRefused);
        }
        if self.faults.dropped_invitees.contains(id) {
            return Ok(None);
        }
        Ok(Some(holder))
    }

    /// The share call's answer: the current shares of the ids sent; email entries are not
    /// answered for.
    fn share_answer(&self, room_id: i64, request: &ShareRequest) -> Vec<ShareDto> {
        let room = self.rooms.get(&room_id).expect("checked above");
        request
            .invitations
            .iter()
            .filter_map(|i| i.id.as_ref())
            .filter_map(|id| {
                room.members
                    .iter()
                    .find(|(h, _)| matches!(h, Holder::User(x) | Holder::Group(x) if x == id))
                    .and_then(|(h, a)| self.share_row(h, *a, room))
            })
            .collect()
    }
}

impl Room {
    /// Gives `holder` the role `access` in the room; 0 removes them.
    fn set_share(&mut self, holder: Holder, access: i64) {
        let at = self.members.iter().position(|(h, _)| *h == holder);
        match (at, access) {
            (Some(n), 0) => {
                self.members.remove(n);
            }
            (None, 0) => {}
            (Some(n), access) => self.members[n].1 = access,
            (None, access) => self.members.push((holder, access)),
        }
    }
}

impl MemoryPortal {
    fn link(&self, room_id: i64, request: &LinkRequest) -> Result<Option<LinkDto>, ApiError> {
        let mut s = self.lock();
        let path = format!("{ROOMS}/{room_id}/links");
        let Some(room) = s.rooms.get_mut(&room_id) else {
            return Err(not_found("PUT", path));
        };
        if room.archived {
            return Err(refused("PUT", path, "Access denied"));
        }
        let at = room.links.iter().position(|l| l.id == request.link_id);
        let answer = if request.access == 0 {
            if let Some(n) = at {
                room.links.remove(n);
            }
            None
        } else {
            let link = Link {
                id: request.link_id.clone(),
                access: request.access,
                title: request.title.clone(),
                // An existing link keeps its kind.
                link_type: at.map_or(request.link_type, |n| room.links[n].link_type),
                internal: request.internal,
                deny_download: request.deny_download,
                expiration_date: request.expiration_date.clone(),
                password: request
                    .password
                    .as_ref()
                    .map(|p| p.expose_secret().to_string()),
                max_use_count: request.max_use_count,
            };
            let dto = link.dto();
            match at {
                Some(n) => room.links[n] = link,
                None => room.links.push(link),
            }
            Some(dto)
        };
        s.writes.push(Write::Link {
            room: room_id,
            link: request.link_id.clone(),
        });
        Ok(answer)
    }
}

impl DocSpaceApi for MemoryPortal {
    async fn me(&self) -> Result<UserDto, ApiError> {
        let s = self.lock();
        let me = s.person(&s.me).expect("the key's user is a person");
        Ok(user_dto(me))
    }

    fn limit_reached(&self) -> Option<String> {
        self.lock().faults.limit_reached.clone()
    }

    async fn list_rooms(
        &self,
        area: SearchArea,
        filter_value: Option<&str>,
    ) -> Result<RoomListing, ApiError> {
        let s = self.lock();
        let filter = filter_value.map(str::to_lowercase);
        let rooms = s
            .rooms
            .values()
            .filter(|r| match area {
                SearchArea::Active => !r.archived,
                SearchArea::Archive => r.archived,
                SearchArea::Any => true,
                SearchArea::Templates => false,
            })
            .filter(|r| {
                filter
                    .as_deref()
                    .is_none_or(|f| r.title.to_lowercase().contains(f))
            })
            .map(|r| s.room_dto(r))
            .collect();
        Ok(RoomListing {
            rooms,
            connected: Vec::new(),
            complete: true,
        })
    }

    async fn get_room(&self, id: i64) -> Result<RoomDto, ApiError> {
        let s = self.lock();
        match s.rooms.get(&id) {
            Some(r) => Ok(s.room_dto(r)),
            None => Err(not_found("GET", format!("{ROOMS}/{id}"))),
        }
    }

    async fn create_room(&self, request: &CreateRoomRequest) -> Result<RoomDto, ApiError> {
        self.create(request)
    }

    async fn update_room(&self, id: i64, request: &UpdateRoomRequest) -> Result<RoomDto, ApiError> {
        self.update(id, request)
    }

    async fn archive_room(&self, id: i64) -> Result<FileOperationDto, ApiError> {
        self.move_room(id, true)
    }

    async fn unarchive_room(&self, id: i64) -> Result<FileOperationDto, ApiError> {
        self.move_room(id, false)
    }

    async fn wait_room_state(
        &self,
        id: i64,
        _operation: Option<&FileOperationDto>,
        archived: bool,
        _timeout: Duration,
    ) -> Result<RoomDto, ApiError> {
        let s = self.lock();
        match s.rooms.get(&id) {
            Some(r) if r.archived == archived => Ok(s.room_dto(r)),
            Some(_) => Err(ApiError::new(
                ErrorKind::WaitTimeout,
                "GET",
                format!("{ROOMS}/{id}"),
            )),
            None => Err(not_found("GET", format!("{ROOMS}/{id}"))),
        }
    }

    async fn get_share(&self, room_id: i64) -> Result<Vec<ShareDto>, ApiError> {
        let s = self.lock();
        let path = format!("{ROOMS}/{room_id}/share");
        if s.faults.unreadable_members.contains(&room_id) {
            return Err(ApiError::from_status(500, "GET", path)
                .with_message("scripted: the member list cannot be read"));
        }
        match s.rooms.get(&room_id) {
            Some(r) => Ok(s.rows(r)),
            None => Err(not_found("GET", path)),
        }
    }

    async fn set_share(
        &self,
        room_id: i64,
        request: &ShareRequest,
    ) -> Result<ShareResponse, ApiError> {
        self.share(room_id, request)
    }

    async fn list_links(&self, room_id: i64) -> Result<Vec<LinkDto>, ApiError> {
        let s = self.lock();
        match s.rooms.get(&room_id) {
            Some(r) => Ok(r.links.iter().map(Link::dto).collect()),
            None => Err(not_found("GET", format!("{ROOMS}/{room_id}/links"))),
        }
    }

    async fn set_link(
        &self,
        room_id: i64,
        request: &LinkRequest,
    ) -> Result<Option<LinkDto>, ApiError> {
        self.link(room_id, request)
    }

    async fn resend_room_invitations(
        &self,
        room_id: i64,
        user_ids: &[String],
    ) -> Result<(), ApiError> {
        let mut s = self.lock();
        s.writes.push(Write::RoomResend {
            room: room_id,
            users: user_ids.len(),
        });
        Ok(())
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<UserDto>, ApiError> {
        Ok(self.lock().person_by_email(email).map(user_dto))
    }

    async fn people_page(&self, start: i64) -> Result<(Vec<UserDto>, Option<i64>), ApiError> {
        let s = self.lock();
        let start = usize::try_from(start).unwrap_or(0);
        let page = s
            .people
            .iter()
            .skip(start)
            .take(PAGE_SIZE as usize)
            .map(user_dto)
            .collect();
        Ok((page, Some(s.people.len() as i64)))
    }

    async fn list_groups(&self) -> Result<Vec<GroupDto>, ApiError> {
        let s = self.lock();
        Ok(s.groups
            .iter()
            .map(|g| GroupDto {
                id: g.id.clone(),
                name: g.name.clone(),
                members_count: None,
                ..GroupDto::default()
            })
            .collect())
    }
}
