//! The sandbox's portal state and its JSON file.
//!
//! Invariants:
//! - The file is only ever replaced whole: the new content goes to a temporary file in the same
//!   directory, is fsynced, then renamed over the old one (and the directory is fsynced), so a
//!   crash or `kill -9` leaves either the old or the new state, never a torn file.
//! - Callers hold the one state lock while they mutate *and* persist, so the file always holds a
//!   state some response was (or was about to be) computed from, and a write is on disk before
//!   its response is sent.
//! - One sandbox per state file: two processes sharing a file would overwrite each other.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use super::rules::LinkKind;
use super::rules::{EmailCollation, UserType};
pub use super::templates::{OutsideJob, SubFolder, Template, TemplateJob};

/// Id of the "Rooms" section folder (parent of active rooms). A guess: real ids vary by portal.
pub const ROOMS_FOLDER_ID: i64 = 1;
/// Id of the "Archive" section folder (parent of archived rooms). A guess, like the above.
pub const ARCHIVE_FOLDER_ID: i64 = 2;
/// First id handed to a created room.
const FIRST_ROOM_ID: i64 = 1001;

/// `EmployeeStatus` values (docs/docspace-api.md, "Enums").
pub const STATUS_ACTIVE: i64 = 1;
pub const STATUS_TERMINATED: i64 = 2;
pub const STATUS_PENDING: i64 = 4;
/// `EmployeeActivationStatus` values.
pub const ACTIVATION_ACTIVATED: i64 = 1;
pub const ACTIVATION_PENDING: i64 = 2;

/// Everything the sandbox knows. Serialised as the state file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PortalState {
    /// Format of this file, bumped on incompatible changes.
    pub version: u32,
    /// The user the API key acts as (the DocSpace owner in the demo seed).
    pub key_user: Uuid,
    pub next_room_id: i64,
    /// Fault injection: the `ignore_settings` every room created from now on gets (see
    /// [`Room::ignore_settings`]), so that a room a client makes itself (doctor's scratch
    /// rooms) can ignore a setting. Seeded through the state file; empty in the demo seed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore_settings_on_create: Vec<String>,
    pub users: Vec<User>,
    pub groups: Vec<Group>,
    pub rooms: Vec<Room>,
    /// Portal-wide tag names, in creation order (docs/docspace-api.md, "Tags": tags are
    /// portal-wide).
    pub tags: Vec<String>,
    /// Archive / unarchive / delete operations, newest last. Pending ones are finished on load;
    /// finished ones are dropped once `GET /files/fileops` has reported them (as the server's
    /// task queue does).
    #[serde(default)]
    pub operations: Vec<Operation>,
    /// The API key of this sandbox, kept so that a restart on the same file keeps the key that
    /// exported environment variables hold. Files written before it existed get one on first
    /// load.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    /// Rooms kept in connected (third-party) storage: listed with string ids, unreachable
    /// through the integer-id endpoints (see [`ThirdPartyRoom`]).
    #[serde(default)]
    pub third_party_rooms: Vec<ThirdPartyRoom>,
    /// Each user's saved default order of file lists (`FilesSettings.DefaultSortedBy` /
    /// `DefaultSortedAsc`), keyed by user id. Absent = the server's initial default,
    /// `DateAndTime` descending. `GET /files/rooms` with a valid `sortBy` writes it.
    #[serde(default)]
    pub room_sort: BTreeMap<Uuid, SavedOrder>,
    /// Invitations re-sent through `PUT /people/invite`, per user: how often and when last
    /// (the sandbox's record for tests; the server only sends the emails).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub resends: BTreeMap<Uuid, Resend>,
    /// Room invitations re-sent through `POST /files/rooms/{id}/resend`, per room, per user:
    /// how often and when last (the sandbox's record for tests; the server sends the emails
    /// and answers nothing).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub room_resends: BTreeMap<i64, BTreeMap<Uuid, Resend>>,
    /// Link restrictions and password policy an admin set (docs/docspace-api.md, "Portal
    /// link policies"); the server's defaults when absent.
    #[serde(
        default,
        skip_serializing_if = "super::portal_policy::PortalPolicy::is_default"
    )]
    pub policy: super::portal_policy::PortalPolicy,
    /// Fault injection through the state file: titles whose next create is refused with a
    /// 400, each entry used once (a create the server refuses, for tests of what depends on
    /// it, now that a bad cover is caught by `plan`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fail_create: Vec<String>,
    /// The portal's `TenantUserInvitationSettings` (docs/docspace-api.md, "People and user
    /// types"): both allowed by default (then left out of the file).
    #[serde(default, skip_serializing_if = "InvitationSettings::is_default")]
    pub invitation_settings: InvitationSettings,
    /// User relations (`UserManager.AddUserRelationAsync`): who has invited or re-invited whom,
    /// source id to target ids. A room admin sees a guest only with a relation (or as the
    /// guest's `invited_by`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub relations: BTreeMap<Uuid, Vec<Uuid>>,
    /// `RateLimiterSettings.MaxEmailInvitationsPerDay`: invitations `POST /people/invite` may
    /// send per day and portal; absent = no limit (the server's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitations_per_day: Option<u32>,
    /// The current day's window of that limit (kept in the file, as the server keeps it in
    /// Redis).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitation_window: Option<InvitationWindow>,
    /// The tariff's paid seats (`CountPaidUserFeature`: room admins and DocSpace admins, the
    /// owner included); absent = unlimited. A change beyond it is a 402.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid_seats: Option<u32>,
    /// The portal's room templates (docs/docspace-api.md, "Room templates"), listed only in
    /// the templates search area.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub templates: Vec<super::templates::Template>,
    /// The portal's one create-from-template job, running or the last finished one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_job: Option<super::templates::TemplateJob>,
    /// Fault injection: the next this-many create-from-template starts are accepted (the job
    /// runs) and then answered 504, as a proxy timing out.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub template_start_timeouts: u32,
    /// Fault injection: another user's job that begins just before the next
    /// create-from-template start (which is then refused and answered with its status).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outside_job_before_next_start: Option<super::templates::OutsideJob>,
    /// Fault injection: the next this-many create-from-template starts never reach the
    /// server (nothing runs) and are answered 504, as a proxy that gave up before passing
    /// them on; to the client they look like `template_start_timeouts`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub template_start_lost: u32,
    /// Fault injection: the next this-many status reads answer `null`, as the server does
    /// when reading its job throws (`GetRoomCreatingStatus` swallows the exception).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub template_status_nulls: u32,
}

/// `TenantUserInvitationSettings` (`common/ASC.Core.Common/Tenants/TenantUserInvitationSettings.cs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationSettings {
    /// `AllowInvitingMembers`: false makes `POST /people/invite` a 403.
    #[serde(default = "yes")]
    pub allow_inviting_members: bool,
    /// `AllowInvitingGuests`: false makes `PUT /people/type/Guest` and a share with a new email
    /// a 403.
    #[serde(default = "yes")]
    pub allow_inviting_guests: bool,
}

fn yes() -> bool {
    true
}

impl Default for InvitationSettings {
    /// `TenantUserInvitationSettings.GetDefault`: both allowed.
    fn default() -> InvitationSettings {
        InvitationSettings {
            allow_inviting_members: true,
            allow_inviting_guests: true,
        }
    }
}

impl InvitationSettings {
    pub fn is_default(&self) -> bool {
        *self == InvitationSettings::default()
    }
}

/// One day of the `EmailInvitationApi` fixed window: when it opened and how many invitations
/// it has admitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationWindow {
    pub start: DateTime<Utc>,
    pub used: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The invitations re-sent to one pending user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resend {
    pub count: u32,
    pub last: DateTime<Utc>,
}

/// A user's saved default order (`OrderBy` in `FilesSettings`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedOrder {
    /// A `SortedByType` name (`DateAndTime`, `AZ`, ...).
    pub sorted_by: String,
    pub is_asc: bool,
}

impl Default for SavedOrder {
    /// `FilesSettings.GetDefault`: `DateAndTime`, not ascending.
    fn default() -> SavedOrder {
        SavedOrder {
            sorted_by: "DateAndTime".to_string(),
            is_asc: false,
        }
    }
}

/// A room in connected storage (Box, Dropbox, WebDAV, ...). The server lists these among the
/// rooms as `FolderDto<string>` (`ProviderFolderDao.ToProviderRoom`): `id` is the provider's
/// folder id (a string such as `"sbox-3-7"`), `parentId`/`rootFolderId` are the section
/// folder's id as a string, and `providerItem`/`providerKey`/`providerId` are set. The sandbox
/// only lists them; every integer-id endpoint answers 404 for them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ThirdPartyRoom {
    pub id: String,
    pub title: String,
    /// `RoomType` wire value (1, 2, 5, 6, 8).
    pub room_type: i64,
    #[serde(default)]
    pub archived: bool,
    #[serde(default)]
    pub tags: Vec<String>,
    /// `providerKey`: `Box`, `DropboxV2`, `GoogleDrive`, `OneDrive`, `WebDav`, `kDrive`, ...
    #[serde(default = "default_provider")]
    pub provider: String,
    /// `providerId`: the connection's id on the portal.
    #[serde(default = "default_provider_id")]
    pub provider_id: i64,
    /// The user who connected it; the key's user when absent.
    #[serde(default)]
    pub created_by: Option<Uuid>,
    #[serde(default = "epoch")]
    pub created: DateTime<Utc>,
    #[serde(default = "epoch")]
    pub updated: DateTime<Utc>,
}

fn default_provider() -> String {
    "Box".to_string()
}

fn default_provider_id() -> i64 {
    3
}

fn epoch() -> DateTime<Utc> {
    // A fixed date so that a hand-written state file lists in a stable place.
    DateTime::<Utc>::from_timestamp(1_735_689_600, 0).unwrap_or_default()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub user_name: String,
    pub user_type: UserType,
    pub is_owner: bool,
    pub status: i64,
    pub activation_status: i64,
    pub culture_name: String,
    pub registration_date: DateTime<Utc>,
    /// Who created the account (`UserInfo.CreatedBy`): for an invitee, who invited them.
    /// Returned as `createdBy` and checked when an invitation is resent
    /// (`UserController.ResendUserInvites`, `HasAccessInviteAsync`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invited_by: Option<Uuid>,
}

impl User {
    /// `displayName`: "First Last", falling back to the email
    /// (docs/docspace-api.md, "Email invitations").
    pub fn display_name(&self) -> String {
        let name = format!("{} {}", self.first_name, self.last_name);
        let name = name.trim();
        if name.is_empty() {
            self.email.clone()
        } else {
            name.to_string()
        }
    }

    /// The user as the permission rules see them (`people_rules`).
    pub fn actor(&self) -> super::people_rules::Actor {
        super::people_rules::Actor {
            user_type: self.user_type,
            is_owner: self.is_owner,
        }
    }

    /// Invited by email and not registered yet.
    pub fn is_pending(&self) -> bool {
        self.status == STATUS_PENDING
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Group {
    pub id: Uuid,
    pub name: String,
    pub manager: Option<Uuid>,
    pub members: Vec<Uuid>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Room {
    pub id: i64,
    /// Stored (sanitised) title. Not unique.
    pub title: String,
    pub room_type: i64,
    pub archived: bool,
    /// Newest first.
    pub tags: Vec<String>,
    pub deny_download: bool,
    pub private: bool,
    pub indexing: bool,
    pub color: String,
    pub cover: Option<String>,
    /// `None` = portal default; `Some(-1)` = unlimited; else bytes.
    pub quota: Option<i64>,
    pub created_by: Uuid,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub shares: Vec<Share>,
    /// When true, archiving or unarchiving this room fails inside the background operation
    /// with the server's permission message, and the room stays where it was (the same as
    /// `--fail-archive` naming it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fail_archive: bool,
    /// The room has an uploaded logo image (`Folder.SettingsHasLogo`, set by
    /// `RoomLogoManager.SaveLogo`): its `logo` then carries the image URLs and no colour or
    /// cover, while colour and cover are still stored by an update (`RoomLogoManager.GetLogoAsync`,
    /// `FileStorageService.UpdateRoomAsync`). Seeded through the state file.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub logo_uploaded: bool,
    /// Fault injection: update fields (`color`, `cover`, `indexing`, `denyDownload`, `lifetime`,
    /// `watermark`, `title`, `quota`, `tags`) this room's update accepts and then ignores,
    /// answering 200 with the room unchanged there (an emulated server that ignores a
    /// setting, so that clients can prove they check the answer).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore_settings: Vec<String>,
    /// Sharing links, in creation order (docs/docspace-api.md, "Sharing links").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    /// Automatic deletion of old files (`RoomDataLifetime`); `None` when off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifetime: Option<Lifetime>,
    /// The watermark documents in the room show (`WatermarkSettings`); `None` when off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watermark: Option<Watermark>,
    /// Folders inside the room (the skeleton copied from a template).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub folders: Vec<super::templates::SubFolder>,
}

/// One sharing link of a room (`FileShareRecord` with `FileShareOptions`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Link {
    pub id: Uuid,
    pub kind: LinkKind,
    /// `FileShare` value the link grants.
    pub access: i64,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration: Option<DateTime<Utc>>,
    /// Only signed-in users of the portal may open it.
    #[serde(default)]
    pub internal: bool,
    #[serde(default)]
    pub deny_download: bool,
    /// The password as the server keeps it: a reversible key, not the text (the server signs
    /// it with a portal key, `ExternalShare.CreatePasswordKeyAsync`; here it is hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_key: Option<String>,
    /// Invitation links only: how many people may join through it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_use_count: Option<i64>,
    #[serde(default)]
    pub current_use_count: i64,
}

impl Link {
    /// The password in clear text, as the server returns it to whoever may read the links
    /// (`ExternalShare.GetPasswordAsync` in `FileSharing.ToAceAsync`).
    pub fn password(&self) -> Option<String> {
        let key = self.password_key.as_ref()?;
        if key.len() % 2 != 0 {
            return None;
        }
        let bytes: Option<Vec<u8>> = (0..key.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(key.get(i..i + 2)?, 16).ok())
            .collect();
        String::from_utf8(bytes?).ok()
    }

    /// Stores `password` the way [`Link::password`] reads it back (hex: not the text, so a
    /// glance at the state file does not show it; not a secret either).
    pub fn password_key_for(password: &str) -> String {
        password.bytes().map(|b| format!("{b:02x}")).collect()
    }
}

/// `RoomDataLifetime`: files older than `value` `period`s are deleted (to the trash, or for
/// good when `delete_permanently`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lifetime {
    #[serde(default)]
    pub delete_permanently: bool,
    /// `RoomDataLifetimePeriod`: 0 Day, 1 Month, 2 Year.
    #[serde(default)]
    pub period: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// `WatermarkSettings`: what the watermark shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Watermark {
    /// `WatermarkAdditions` flags: 1 user name, 2 user email, 4 user IP, 8 current date,
    /// 16 room name.
    #[serde(default)]
    pub additions: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default)]
    pub rotate: i64,
    #[serde(default)]
    pub image_scale: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    #[serde(default)]
    pub image_height: f64,
    #[serde(default)]
    pub image_width: f64,
}

/// A stored share. The owner has none: their row is synthesised
/// (docs/docspace-api.md, "Reading members").
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Share {
    pub subject: Uuid,
    pub is_group: bool,
    pub access: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Operation {
    pub id: Uuid,
    /// `FileOperationType`: 0 Move (archive/unarchive), 2 Delete.
    pub kind: i64,
    pub room_id: i64,
    pub action: OperationAction,
    pub finished: bool,
    pub error: String,
    /// The error this operation will finish with, decided when it starts (`--fail-archive` or
    /// the room's `fail_archive`). The room is then left where it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fails_with: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OperationAction {
    Archive,
    Unarchive,
    Delete,
}

impl PortalState {
    /// The demo portal: an owner, one user of each type, a pending guest and two groups, all on
    /// `sandbox.test` (a reserved TLD, so no mail can ever reach anyone).
    pub fn seed() -> PortalState {
        let users = seed_users();
        let id = |n: u128| Uuid::from_u128(0x5a4d_b0c5_0000_4000_8000_0000_0000_0000 | n);
        let groups = vec![
            Group {
                id: Uuid::from_u128(0x6e0f_0000_0000_4000_8000_0000_0000_0001),
                name: "Marketing".to_string(),
                manager: Some(id(6)),
                members: vec![id(6), id(4)],
            },
            Group {
                id: Uuid::from_u128(0x6e0f_0000_0000_4000_8000_0000_0000_0002),
                name: "Sales".to_string(),
                manager: Some(id(7)),
                members: vec![id(7), id(3), id(5)],
            },
        ];
        PortalState {
            version: 1,
            key_user: id(1),
            next_room_id: FIRST_ROOM_ID,
            ignore_settings_on_create: Vec::new(),
            users,
            groups,
            rooms: Vec::new(),
            tags: Vec::new(),
            operations: Vec::new(),
            api_key: None,
            third_party_rooms: Vec::new(),
            room_sort: BTreeMap::new(),
            resends: BTreeMap::new(),
            room_resends: BTreeMap::new(),
            policy: Default::default(),
            fail_create: Vec::new(),
            invitation_settings: InvitationSettings::default(),
            relations: BTreeMap::new(),
            invitations_per_day: None,
            invitation_window: None,
            paid_seats: None,
            templates: Vec::new(),
            template_job: None,
            template_start_timeouts: 0,
            outside_job_before_next_start: None,
            template_start_lost: 0,
            template_status_nulls: 0,
        }
    }

    /// Adds an account invited by email and not registered yet, created at `created` (its
    /// `registrationDate`), as the share call makes one; for tests that need a stale
    /// invitation. Returns its id.
    pub fn add_pending_user(&mut self, email: &str, created: DateTime<Utc>) -> Uuid {
        let id = Uuid::new_v4();
        self.users.push(User {
            id,
            email: email.to_string(),
            first_name: String::new(),
            last_name: String::new(),
            user_name: email.split('@').next().unwrap_or(email).to_string(),
            user_type: UserType::Guest,
            is_owner: false,
            status: STATUS_PENDING,
            activation_status: ACTIVATION_PENDING,
            culture_name: "en-US".to_string(),
            registration_date: created,
            invited_by: None,
        });
        id
    }

    /// Records who invited the account with this email (exact match), as if they had.
    /// Returns whether the account exists.
    pub fn set_invited_by(&mut self, email: &str, inviter: Uuid) -> bool {
        match self.users.iter_mut().find(|u| u.email == email) {
            Some(user) => {
                user.invited_by = Some(inviter);
                true
            }
            None => false,
        }
    }

    /// Moves the creation date of the account with this email (exact match) to `created`, so
    /// that an invitation made during a test looks old. Returns whether the account exists.
    pub fn set_registration_date(&mut self, email: &str, created: DateTime<Utc>) -> bool {
        match self.users.iter_mut().find(|u| u.email == email) {
            Some(user) => {
                user.registration_date = created;
                true
            }
            None => false,
        }
    }

    /// Adds a pending account invited by email, as `UserManagerWrapper.AddInvitedUserAsync`
    /// makes one: empty names, a user name unique on the portal (the address's local part,
    /// then with 1, 2, ... appended, `MakeUniqueNameAsync`), `CreatedBy` the caller, and a
    /// relation from the caller to it. Returns its id.
    pub fn add_invited_user(
        &mut self,
        email: &str,
        user_type: UserType,
        culture: &str,
        by: Uuid,
    ) -> Uuid {
        let email = email.trim();
        let local = email.split('@').next().unwrap_or(email).to_string();
        let mut user_name = local.clone();
        let mut n = 1;
        while self.users.iter().any(|u| u.user_name == user_name) {
            user_name = format!("{local}{n}");
            n += 1;
        }
        let id = Uuid::new_v4();
        self.users.push(User {
            id,
            email: email.to_string(),
            first_name: String::new(),
            last_name: String::new(),
            user_name,
            user_type,
            is_owner: false,
            status: STATUS_PENDING,
            activation_status: ACTIVATION_PENDING,
            culture_name: culture.to_string(),
            registration_date: Utc::now(),
            invited_by: Some(by),
        });
        self.add_relation(by, id);
        id
    }

    /// `UserManager.AddUserRelationAsync`: records that `source` knows `target` (not for
    /// oneself).
    pub fn add_relation(&mut self, source: Uuid, target: Uuid) {
        if source == target {
            return;
        }
        let targets = self.relations.entry(source).or_default();
        if !targets.contains(&target) {
            targets.push(target);
        }
    }

    /// Whether `source` has a relation with `target`: recorded, or `target` was created by
    /// `source`.
    pub fn related(&self, source: Uuid, target: Uuid) -> bool {
        self.relations
            .get(&source)
            .is_some_and(|t| t.contains(&target))
            || self.user(target).and_then(|u| u.invited_by) == Some(source)
    }

    /// Paid seats in use: room admins and DocSpace admins who are not terminated.
    pub fn paid_seats_used(&self) -> u32 {
        self.users
            .iter()
            .filter(|u| u.status != STATUS_TERMINATED)
            .filter(|u| super::people_rules::is_paid(u.user_type))
            .count() as u32
    }

    /// Adds a group as if made by hand on the portal (for tests that seed a state file): the
    /// manager is made a member, as the server does. Returns its id.
    pub fn add_group(&mut self, name: &str, manager: Option<Uuid>, members: &[Uuid]) -> Uuid {
        let id = Uuid::new_v4();
        let mut all: Vec<Uuid> = manager.into_iter().collect();
        for m in members {
            if !all.contains(m) {
                all.push(*m);
            }
        }
        self.groups.push(Group {
            id,
            name: name.to_string(),
            manager,
            members: all,
        });
        id
    }

    /// The id of the account with this email (exact match), for tests that seed a state file.
    pub fn user_id(&self, email: &str) -> Option<Uuid> {
        self.users.iter().find(|u| u.email == email).map(|u| u.id)
    }

    /// Gives the account with this email (exact match) another type, as if changed by hand.
    /// Returns whether the account exists.
    pub fn set_user_type(&mut self, email: &str, user_type: UserType) -> bool {
        match self.users.iter_mut().find(|u| u.email == email) {
            Some(user) => {
                user.user_type = user_type;
                true
            }
            None => false,
        }
    }

    pub fn group_mut(&mut self, id: Uuid) -> Option<&mut Group> {
        self.groups.iter_mut().find(|g| g.id == id)
    }

    pub fn user(&self, id: Uuid) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    pub fn group(&self, id: Uuid) -> Option<&Group> {
        self.groups.iter().find(|g| g.id == id)
    }

    /// The first user whose email equals `email` under the install's collation
    /// (`UserQueries.UserByEmailAsync`: `r.Email == email`, the database decides the case rule).
    pub fn user_by_email(&self, email: &str, collation: EmailCollation) -> Option<&User> {
        self.users.iter().find(|u| collation.same(&u.email, email))
    }

    /// The user's saved default order (the server's initial default when none was saved).
    pub fn saved_order(&self, user: Uuid) -> SavedOrder {
        self.room_sort.get(&user).cloned().unwrap_or_default()
    }

    pub fn room(&self, id: i64) -> Option<&Room> {
        self.rooms.iter().find(|r| r.id == id)
    }

    pub fn room_mut(&mut self, id: i64) -> Option<&mut Room> {
        self.rooms.iter_mut().find(|r| r.id == id)
    }

    /// Resolves tag names to the portal's spelling, creating the missing ones (tags are
    /// created on the fly, `CustomTagsService.CreateTagAsync`). A name matching an existing tag
    /// case-insensitively gets the existing spelling: the server's lookup is a database
    /// comparison under a case-insensitive collation, so asking for "Acme" when "acme" exists
    /// finds "acme" and links that. Returns the names in request order, without duplicates.
    pub fn resolve_tags(&mut self, names: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for name in names {
            let spelled = match self.tags.iter().find(|t| super::rules::same_tag(t, name)) {
                Some(existing) => existing.clone(),
                None => {
                    self.tags.push(name.clone());
                    name.clone()
                }
            };
            if !out.contains(&spelled) {
                out.push(spelled);
            }
        }
        out
    }

    /// Applies the effect of a finished operation.
    pub fn complete_operation(&mut self, op_id: Uuid) {
        let Some(op) = self.operations.iter().find(|o| o.id == op_id).cloned() else {
            return;
        };
        if op.finished {
            return;
        }
        let now = Utc::now();
        let mut error = String::new();
        match op.action {
            // The server checks the right to move inside the job and records the refusal as
            // the operation's error, moving nothing (`CopyPermissionsCheck`).
            _ if op.fails_with.is_some() => error = op.fails_with.clone().unwrap_or_default(),
            OperationAction::Archive | OperationAction::Unarchive => {
                match self.room_mut(op.room_id) {
                    Some(room) => {
                        room.archived = op.action == OperationAction::Archive;
                        room.updated = now;
                    }
                    None => error = "The required folder was not found".to_string(),
                }
            }
            OperationAction::Delete => {
                let before = self.rooms.len();
                self.rooms.retain(|r| r.id != op.room_id);
                if self.rooms.len() == before {
                    error = "The required folder was not found".to_string();
                }
            }
        }
        if let Some(op) = self.operations.iter_mut().find(|o| o.id == op_id) {
            op.finished = true;
            op.error = error;
        }
    }

    /// Finishes every pending operation (used on load: a sandbox that stopped mid-operation
    /// would otherwise leave it pending forever).
    pub fn complete_pending_operations(&mut self) {
        let pending: Vec<Uuid> = self
            .operations
            .iter()
            .filter(|o| !o.finished)
            .map(|o| o.id)
            .collect();
        for id in pending {
            self.complete_operation(id);
        }
    }
}

/// Reads the state file, or seeds and writes it when missing. Anything that is not a regular
/// file (a directory, a FIFO, a device) is refused before it is read: reading a FIFO would
/// block, and the file is later replaced by rename, which must never hit a device.
pub fn load_or_seed(path: &Path) -> std::io::Result<PortalState> {
    let target = write_target(path)?;
    match std::fs::read(&target) {
        Ok(bytes) => {
            let mut state: PortalState = serde_json::from_slice(&bytes).map_err(|e| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{} is not a sandbox state file: {e}", path.display()),
                )
            })?;
            state.complete_pending_operations();
            Ok(state)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let state = PortalState::seed();
            write_atomically(
                path,
                &serde_json::to_vec(&state).map_err(std::io::Error::other)?,
            )
            .map_err(|e| {
                let missing_dir = path
                    .parent()
                    .is_some_and(|d| !d.as_os_str().is_empty() && !d.exists());
                let why = if missing_dir {
                    "its directory does not exist".to_string()
                } else {
                    e.to_string()
                };
                std::io::Error::new(e.kind(), format!("cannot create {}: {why}", path.display()))
            })?;
            Ok(state)
        }
        Err(e) => Err(std::io::Error::new(
            e.kind(),
            format!("cannot read {}: {e}", path.display()),
        )),
    }
}

/// The file a write to `path` must replace: `path` itself, or, when it is a symbolic link, the
/// file the link chain ends at (the link stays a link). A missing final file is fine (it will be
/// created); an existing one must be a regular file.
pub fn write_target(path: &Path) -> std::io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    // The kernel's own limit on link chains is 40.
    for _ in 0..40 {
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = std::fs::read_link(&current)?;
                current = if link.is_absolute() {
                    link
                } else {
                    current.parent().map(|dir| dir.join(&link)).unwrap_or(link)
                };
            }
            Ok(meta) if meta.is_file() => return Ok(current),
            Ok(meta) => {
                let kind = if meta.is_dir() {
                    "a directory"
                } else {
                    "not a regular file"
                };
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!(
                        "{} is {kind}; the sandbox state must be a regular file (or a link to one)",
                        path.display()
                    ),
                ));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(current),
            Err(e) => {
                return Err(std::io::Error::new(
                    e.kind(),
                    format!("cannot inspect {}: {e}", current.display()),
                ));
            }
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!("{} is a loop of symbolic links", path.display()),
    ))
}

/// The temporary file a new state is written to before the rename. A fixed name next to the
/// state file: a crash can leave it behind, and the next write simply reuses it.
fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "sandbox.json".to_string());
    path.with_file_name(format!(".{name}.tmp"))
}

/// Replaces the state file with `bytes` so that a crash at any point leaves the old or the new
/// content. A symbolic link is followed and its target replaced (the link stays); the existing
/// file's permissions are kept; a new file is created readable by its owner only (it holds the
/// API key); anything that is not a regular file is refused.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let target = write_target(path)?;
    let existing = match std::fs::metadata(&target) {
        Ok(meta) => Some(meta.permissions()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let tmp = temp_path(&target);
    {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp)?;
        if let Some(perms) = existing {
            file.set_permissions(perms)?;
        }
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, &target)?;
    // Make the rename itself durable (power loss); a plain crash is already safe here.
    #[cfg(unix)]
    if let Some(dir) = target.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// Adds a connected-storage room to the state file at `path` (seeding the file first when it
/// is missing), for tests and scripts that prepare a portal before starting a sandbox on it.
/// Equivalent to appending an object to `third_party_rooms` in the JSON by hand.
pub fn add_third_party_room(path: &Path, room: ThirdPartyRoom) -> std::io::Result<()> {
    let mut state = load_or_seed(path)?;
    state.third_party_rooms.push(room);
    write_atomically(
        path,
        &serde_json::to_vec(&state).map_err(std::io::Error::other)?,
    )
}

impl ThirdPartyRoom {
    /// A room in connected storage with defaults for everything but its id, title and type
    /// (provider `Box`, connection id 3, active, no tags).
    pub fn new(id: &str, title: &str, room_type: i64) -> ThirdPartyRoom {
        ThirdPartyRoom {
            id: id.to_string(),
            title: title.to_string(),
            room_type,
            archived: false,
            tags: Vec::new(),
            provider: default_provider(),
            provider_id: default_provider_id(),
            created_by: None,
            created: epoch(),
            updated: epoch(),
        }
    }
}

/// The demo accounts of a new sandbox: the owner (the key's user), an admin, room admins,
/// users and a guest.
fn seed_users() -> Vec<User> {
    let now = Utc::now();
    let user = |n: u128, email: &str, first: &str, last: &str, t: UserType| User {
        id: Uuid::from_u128(0x5a4d_b0c5_0000_4000_8000_0000_0000_0000 | n),
        email: email.to_string(),
        first_name: first.to_string(),
        last_name: last.to_string(),
        user_name: email.split('@').next().unwrap_or(email).to_string(),
        user_type: t,
        is_owner: false,
        status: STATUS_ACTIVE,
        activation_status: ACTIVATION_ACTIVATED,
        culture_name: "en-US".to_string(),
        registration_date: now,
        invited_by: None,
    };
    let mut owner = user(
        1,
        "admin@sandbox.test",
        "Sandbox",
        "Owner",
        UserType::DocSpaceAdmin,
    );
    owner.is_owner = true;
    vec![
        owner,
        user(
            2,
            "dana.admin@sandbox.test",
            "Dana",
            "Admin",
            UserType::DocSpaceAdmin,
        ),
        user(
            3,
            "rick.roomadmin@sandbox.test",
            "Rick",
            "Roomadmin",
            UserType::RoomAdmin,
        ),
        user(4, "uma.user@sandbox.test", "Uma", "User", UserType::User),
        user(5, "gus.guest@sandbox.test", "Gus", "Guest", UserType::Guest),
        user(
            6,
            "mia.marketing@sandbox.test",
            "Mia",
            "Marketing",
            UserType::User,
        ),
        user(
            7,
            "sam.sales@sandbox.test",
            "Sam",
            "Sales",
            UserType::RoomAdmin,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_round_trips_and_is_written_when_missing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let seeded = load_or_seed(&path).unwrap();
        assert!(path.exists());
        let again = load_or_seed(&path).unwrap();
        assert_eq!(seeded.users.len(), again.users.len());
        assert_eq!(again.groups.len(), 2);
        assert!(again.user(again.key_user).unwrap().is_owner);
    }

    #[test]
    fn garbage_state_is_an_error_not_a_reseed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        std::fs::write(&path, b"{not json").unwrap();
        let err = load_or_seed(&path).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    }
}
