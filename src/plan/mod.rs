//! Plans: what `apply` will change, as data. The pure diff (desired, observed) -> [`Plan`]
//! is in [`diff`]; loading and checking a saved plan is in [`saved`].
//!
//! A plan holds domain values only: no display text (made in `render/`) and no wire
//! encodings (made where the client request is built). Each change is an [`Item`] with a
//! stable key (room title + subject) so that plans, reports and re-runs line up, and a
//! [`Change`] that carries exactly what that kind of change needs.
//!
//! Per room, items run in this order: create or unarchive, settings, one share batch
//! (invite / change access / remove), sharing links, archive. Unarchive comes before settings
//! and links before archive because the server refuses edits to archived rooms
//! (docs/docspace-api.md, "Updating rooms").

pub mod approve;
pub mod build;
mod diff;
pub mod done;
pub mod expiry;
pub mod filter;
pub mod groups;
pub mod links;
pub mod newguest;
pub mod org;
pub mod pending;
pub mod people;
pub mod portal_policy;
pub mod prune;
pub mod saved;
mod settings;
mod templates;

use serde::{Deserialize, Serialize};

pub use self::diff::{PortalProblems, diff, diff_selected};
pub use self::expiry::{Expiring, ExpiringSoon};
pub use self::prune::ManagedRooms;
use crate::links::LinkChange;
use crate::manifest::Quota;
use crate::model::{Access, Lifetime, RoomType, Watermark};

/// The version of the plan / saved-plan JSON. 2: a plan carries the desired state and the
/// options it was computed from, and `apply --plan` plans again from them (earlier plans are
/// refused with a message to plan again).
pub const FORMAT_VERSION: u32 = 2;

/// What an item does: the public `action` names of plans and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    CreateRoom,
    Unarchive,
    UpdateRoom,
    Invite,
    ChangeAccess,
    Remove,
    CreateLink,
    UpdateLink,
    RevokeLink,
    Archive,
    /// `apply --resend-pending`: the invitation email of a pending account sent again.
    ResendInvitation,
    /// `people:`: a person without an account invited with a type.
    InvitePerson,
    /// `people:`: an account raised to a higher type.
    ChangeUserType,
    /// `groups:`: a group created.
    CreateGroup,
    /// `groups:`: a group renamed or given another manager.
    UpdateGroup,
    /// `groups:`: a person added to a group.
    AddGroupMember,
    /// `groups:`: a person removed from a `members: exact` group.
    RemoveGroupMember,
}

impl Action {
    /// Execution order within a room.
    pub fn order(self) -> u8 {
        match self {
            Action::CreateRoom | Action::Unarchive => 0,
            Action::UpdateRoom => 1,
            Action::Invite | Action::ChangeAccess | Action::Remove => 2,
            Action::CreateLink | Action::UpdateLink | Action::RevokeLink => 3,
            Action::Archive => 4,
            // Sent once for the whole run, after every room (see `apply::resend`).
            Action::ResendInvitation => 5,
            // The portal section runs before the rooms (see `apply::org`): people, then
            // groups, each group's write before its members.
            Action::InvitePerson | Action::ChangeUserType => 6,
            Action::CreateGroup | Action::UpdateGroup => 7,
            Action::AddGroupMember | Action::RemoveGroupMember => 8,
        }
    }

    pub fn is_share(self) -> bool {
        matches!(self, Action::Invite | Action::ChangeAccess | Action::Remove)
    }

    /// The public name (`create_room`, `invite`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Action::CreateRoom => "create_room",
            Action::Unarchive => "unarchive",
            Action::UpdateRoom => "update_room",
            Action::Invite => "invite",
            Action::ChangeAccess => "change_access",
            Action::Remove => "remove",
            Action::CreateLink => "create_link",
            Action::UpdateLink => "update_link",
            Action::RevokeLink => "revoke_link",
            Action::Archive => "archive",
            Action::ResendInvitation => "resend_invitation",
            Action::InvitePerson => "invite_person",
            Action::ChangeUserType => "change_user_type",
            Action::CreateGroup => "create_group",
            Action::UpdateGroup => "update_group",
            Action::AddGroupMember => "add_group_member",
            Action::RemoveGroupMember => "remove_group_member",
        }
    }

    /// Whether the item belongs to groups and people as code (see [`org`]).
    pub fn is_org(self) -> bool {
        self.order() >= 6
    }
}

/// Every [`Action`] name, in its order (the message of an unknown `action` lists them).
const ACTION_NAMES: &[&str] = &[
    "create_room",
    "unarchive",
    "update_room",
    "invite",
    "change_access",
    "remove",
    "create_link",
    "update_link",
    "revoke_link",
    "archive",
    "resend_invitation",
    "invite_person",
    "change_user_type",
    "create_group",
    "update_group",
    "add_group_member",
    "remove_group_member",
];

/// Who an invitation is for, as the share call needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Target {
    /// An existing account, by id; by email when `by_email` (the key's user may not see the
    /// account, so an entry by id would be dropped: `model::share_by_email`).
    User {
        id: String,
        email: String,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        by_email: bool,
    },
    /// No account yet: invited by email, which creates a pending guest
    /// (docs/docspace-api.md, "Email invitations"). `hidden`: an account exists but this key
    /// may not see it (its lookup answered 403, `Observed::hidden_people`); the email share
    /// reaches that account and relates it to the key's user, no account is made
    /// (`model::share_by_email`).
    NewGuest {
        email: String,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        hidden: bool,
    },
    Group {
        id: String,
        name: String,
    },
    /// A group of `groups:` that this run creates (in the portal section, before the
    /// rooms): its id is known only once it is made (see `apply::org`).
    NewGroup {
        name: String,
    },
    /// A person of `people:` that this run invites with their type (in the portal section,
    /// before the rooms); shared with by email once the account exists, and skipped when the
    /// invitation failed (never made a guest by the share).
    NewPerson {
        email: String,
    },
}

impl Target {
    pub fn label(&self) -> &str {
        match self {
            Target::User { email, .. }
            | Target::NewGuest { email, .. }
            | Target::NewPerson { email } => email,
            Target::Group { name, .. } | Target::NewGroup { name } => name,
        }
    }
}

/// An existing member of a room: a user or a group, always by id. Only an invitation can
/// name someone without an account (a [`Target::NewGuest`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Member {
    User { id: String, email: String },
    Group { id: String, name: String },
}

impl Member {
    pub fn label(&self) -> &str {
        match self {
            Member::User { email, .. } => email,
            Member::Group { name, .. } => name,
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Member::User { id, .. } | Member::Group { id, .. } => id,
        }
    }
}

impl From<Member> for Target {
    fn from(m: Member) -> Target {
        match m {
            Member::User { id, email } => Target::User {
                id,
                email,
                by_email: false,
            },
            Member::Group { id, name } => Target::Group { id, name },
        }
    }
}

/// The settings a create sends (domain values; the client makes the wire form).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RoomSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "quota_json::option"
    )]
    pub quota: Option<Quota>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deny_download: Option<bool>,
    /// Hex without `#`, lower-cased (see `plan::settings` for these five).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cover: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indexing: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifetime: Option<Lifetime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watermark: Option<Watermark>,
}

/// The room template a create uses, as `plan` resolved it among the portal's templates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedTemplate {
    pub id: i64,
    pub title: String,
}

/// One setting of a live room that differs, with its live value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "field")]
pub enum SettingChange {
    /// A pinned room renamed to the manifest's title.
    Title {
        from: String,
        to: String,
    },
    Tags {
        from: Vec<String>,
        to: Vec<String>,
    },
    Quota {
        #[serde(with = "quota_json")]
        from: Quota,
        #[serde(with = "quota_json")]
        to: Quota,
    },
    DenyDownload {
        from: bool,
        to: bool,
    },
    /// `from` is `None` when the room reports no colour.
    Color {
        from: Option<String>,
        to: String,
    },
    Cover {
        from: Option<String>,
        to: String,
    },
    Indexing {
        from: bool,
        to: bool,
    },
    /// `from` is `None` when the room has no lifetime, or one the tool cannot read.
    Lifetime {
        from: Option<Lifetime>,
        to: Lifetime,
    },
    Watermark {
        from: Option<Watermark>,
        to: Watermark,
    },
}

impl SettingChange {
    /// The settings an update sends: the `to` value of each change.
    pub fn settings(changes: &[SettingChange]) -> RoomSettings {
        let mut s = RoomSettings::default();
        for c in changes {
            match c {
                SettingChange::Title { to, .. } => s.title = Some(to.clone()),
                SettingChange::Tags { to, .. } => s.tags = Some(to.clone()),
                SettingChange::Quota { to, .. } => s.quota = Some(*to),
                SettingChange::DenyDownload { to, .. } => s.deny_download = Some(*to),
                SettingChange::Color { to, .. } => s.color = Some(to.clone()),
                SettingChange::Cover { to, .. } => s.cover = Some(to.clone()),
                SettingChange::Indexing { to, .. } => s.indexing = Some(*to),
                SettingChange::Lifetime { to, .. } => s.lifetime = Some(*to),
                SettingChange::Watermark { to, .. } => s.watermark = Some(to.clone()),
            }
        }
        s
    }
}

/// Why a member is removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RemovalReason {
    /// The manifest says `access: none`.
    AccessNone,
    /// Not listed in a `members: exact` room.
    NotListed,
    /// The invitee's `expires:` moment has passed (see [`expiry`]); never re-invited.
    Expired { at: chrono::DateTime<chrono::Utc> },
}

/// What one item changes, with exactly what that change needs.
///
/// In JSON the `action` field names the change; a link change keeps the `action` names of
/// [`LinkChange`]. (`remote = "Self"` lets the trait impls below route link actions to
/// `LinkChange` and every other action to the derived code, which skips `Link`.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action", remote = "Self")]
pub enum Change {
    /// Create the room (its type is the room's); `settings` are sent with the create.
    /// With `template`, the room is made from that template (docs/docspace-api.md, "Room
    /// templates"), the settings going with the start of the job.
    CreateRoom {
        settings: RoomSettings,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        template: Option<PlannedTemplate>,
    },
    Unarchive,
    UpdateRoom {
        changes: Vec<SettingChange>,
    },
    Invite {
        target: Target,
        access: Access,
    },
    ChangeAccess {
        target: Member,
        access: Access,
        /// The live access before the change (`None` when the server reported a role this
        /// tool does not know).
        #[serde(default)]
        from_access: Option<Access>,
    },
    Remove {
        target: Member,
        #[serde(default)]
        from_access: Option<Access>,
        reason: RemovalReason,
    },
    Archive,
    /// Send the invitation of a pending account again (`apply --resend-pending`; never in a
    /// saved plan).
    ResendInvitation {
        target: Member,
        /// Whole hours since the first invitation, when the run read the portal.
        age_hours: i64,
        /// Why the server would not send this invitation for this key, as far as the
        /// portal shows (see `pending::not_resent`): the item is then reported skipped and
        /// its id never sent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        not_resent: Option<pending::NotResent>,
        /// The room whose invitation is resent (`POST /files/rooms/{id}/resend`): the first
        /// managed room, in plan order, where the person is a pending member.
        #[serde(default)]
        room_id: i64,
        #[serde(default)]
        room: String,
    },
    /// `people:`: invite a person who has no account, with a type (one call for all).
    InvitePerson {
        email: String,
        user_type: crate::model::UserType,
    },
    /// `people:`: raise an account's type (one call per type).
    ChangeUserType {
        target: Member,
        from: crate::model::UserType,
        to: crate::model::UserType,
    },
    /// `groups:`: create the group, with its manager (the members are their own items,
    /// sent in the same call).
    CreateGroup {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        manager: Option<org::PersonRef>,
    },
    /// `groups:`: rename a pinned group and/or set its manager.
    UpdateGroup {
        id: String,
        changes: Vec<org::GroupChange>,
    },
    /// `groups:`: add a person to a group (`group_id` is `None` for a group this run
    /// creates).
    AddGroupMember {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        group_id: Option<String>,
        person: org::PersonRef,
    },
    /// `groups:`: remove a person from a `members: exact` group (needs `--allow-removals`).
    RemoveGroupMember {
        group_id: String,
        target: Member,
    },
    /// A sharing link created, changed or revoked: the link change as the diff made it
    /// (its own `action` names: `create_link`, `update_link`, `revoke_link`).
    #[serde(skip)]
    Link(LinkChange),
}

impl Serialize for Change {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Change::Link(link) => link.serialize(s),
            other => Change::serialize(other, s),
        }
    }
}

impl<'de> Deserialize<'de> for Change {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Change, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        let action = value.get("action").and_then(serde_json::Value::as_str);
        if let Some(action) = action.filter(|a| !ACTION_NAMES.contains(a)) {
            return Err(serde::de::Error::unknown_variant(action, ACTION_NAMES));
        }
        let link = matches!(action, Some("create_link" | "update_link" | "revoke_link"));
        let change = if link {
            LinkChange::deserialize(value).map(Change::Link)
        } else {
            Change::deserialize(value)
        };
        change.map_err(serde::de::Error::custom)
    }
}

impl Change {
    /// Whether the item is a security downgrade of a link, which `apply` makes only with
    /// `--allow-downgrades` (see [`LinkChange::is_downgrade`]).
    pub fn is_downgrade(&self) -> bool {
        matches!(self, Change::Link(l) if l.is_downgrade())
    }

    pub fn action(&self) -> Action {
        match self {
            Change::CreateRoom { .. } => Action::CreateRoom,
            Change::Unarchive => Action::Unarchive,
            Change::UpdateRoom { .. } => Action::UpdateRoom,
            Change::Invite { .. } => Action::Invite,
            Change::ChangeAccess { .. } => Action::ChangeAccess,
            Change::Remove { .. } => Action::Remove,
            Change::Link(LinkChange::Create { .. }) => Action::CreateLink,
            Change::Link(LinkChange::Update { .. }) => Action::UpdateLink,
            Change::Link(LinkChange::Revoke { .. }) => Action::RevokeLink,
            Change::Archive => Action::Archive,
            Change::ResendInvitation { .. } => Action::ResendInvitation,
            Change::InvitePerson { .. } => Action::InvitePerson,
            Change::ChangeUserType { .. } => Action::ChangeUserType,
            Change::CreateGroup { .. } => Action::CreateGroup,
            Change::UpdateGroup { .. } => Action::UpdateGroup,
            Change::AddGroupMember { .. } => Action::AddGroupMember,
            Change::RemoveGroupMember { .. } => Action::RemoveGroupMember,
        }
    }

    /// The member or invitee label (email or group name), for member items.
    pub fn subject(&self) -> Option<&str> {
        match self {
            Change::Invite { target, .. } => Some(target.label()),
            Change::ChangeAccess { target, .. }
            | Change::Remove { target, .. }
            | Change::ResendInvitation { target, .. }
            | Change::ChangeUserType { target, .. }
            | Change::RemoveGroupMember { target, .. } => Some(target.label()),
            Change::InvitePerson { email, .. } => Some(email),
            Change::AddGroupMember { person, .. } => Some(&person.email),
            Change::CreateRoom { .. }
            | Change::Unarchive
            | Change::UpdateRoom { .. }
            | Change::Link(_)
            | Change::Archive
            | Change::CreateGroup { .. }
            | Change::UpdateGroup { .. } => None,
        }
    }

    /// The access the item sets (`none` for removals), for member items.
    pub fn access(&self) -> Option<Access> {
        match self {
            Change::Invite { access, .. } | Change::ChangeAccess { access, .. } => Some(*access),
            Change::Remove { .. } => Some(Access::None),
            Change::CreateRoom { .. }
            | Change::Unarchive
            | Change::UpdateRoom { .. }
            | Change::Link(_)
            | Change::Archive
            | Change::ResendInvitation { .. } => None,
            _ => None,
        }
    }

    /// The live access a member item changes or removes.
    pub fn from_access(&self) -> Option<Access> {
        match self {
            Change::ChangeAccess { from_access, .. } | Change::Remove { from_access, .. } => {
                *from_access
            }
            Change::CreateRoom { .. }
            | Change::Unarchive
            | Change::UpdateRoom { .. }
            | Change::Invite { .. }
            | Change::Link(_)
            | Change::Archive
            | Change::ResendInvitation { .. } => None,
            _ => None,
        }
    }
}

/// What an item is about: a typed key, stable across plan, report and re-runs. Room entries
/// of a plan hold `Room`, `Member` and `Link` keys; the portal section holds portal subjects
/// (`Person` now; groups and people as code will add their own).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ItemKey {
    /// The room itself: create, unarchive, settings, archive.
    Room { room: String },
    /// A member or invitee of a room: an email or a group name.
    Member { room: String, subject: String },
    /// A sharing link of a room, by title.
    Link { room: String, link: String },
    /// A person on the portal, by email (a portal-level item).
    Person { email: String },
    /// A group of `groups:`, by its manifest name (a portal-level item).
    Group { group: String },
    /// A person of a group (a portal-level item).
    GroupMember { group: String, email: String },
}

impl ItemKey {
    pub fn room(title: &str) -> ItemKey {
        ItemKey::Room {
            room: title.to_string(),
        }
    }

    pub fn member(room: &str, subject: &str) -> ItemKey {
        ItemKey::Member {
            room: room.to_string(),
            subject: subject.to_string(),
        }
    }

    pub fn link(room: &str, link: &str) -> ItemKey {
        ItemKey::Link {
            room: room.to_string(),
            link: link.to_string(),
        }
    }

    pub fn person(email: &str) -> ItemKey {
        ItemKey::Person {
            email: email.to_string(),
        }
    }

    pub fn group(name: &str) -> ItemKey {
        ItemKey::Group {
            group: name.to_string(),
        }
    }

    pub fn group_member(group: &str, email: &str) -> ItemKey {
        ItemKey::GroupMember {
            group: group.to_string(),
            email: email.to_string(),
        }
    }

    /// The group a portal item is about, if any.
    pub fn group_name(&self) -> Option<&str> {
        match self {
            ItemKey::Group { group } | ItemKey::GroupMember { group, .. } => Some(group),
            _ => None,
        }
    }

    /// The link title of a link key.
    pub fn link_title(&self) -> Option<&str> {
        match self {
            ItemKey::Link { link, .. } => Some(link),
            _ => None,
        }
    }
}

/// The key as reports write it (`room`, `room / subject`, `room / link title`, or the
/// person's email): the report's `key` field, which lines entries up with plan items.
impl std::fmt::Display for ItemKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ItemKey::Room { room } => f.write_str(room),
            ItemKey::Member { room, subject } => write!(f, "{room} / {subject}"),
            ItemKey::Link { room, link } => write!(f, "{room} / link {link}"),
            ItemKey::Person { email } => f.write_str(email),
            ItemKey::Group { group } => write!(f, "group {group}"),
            ItemKey::GroupMember { group, email } => write!(f, "group {group} / {email}"),
        }
    }
}

/// One planned change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// What the item is about (see [`ItemKey`]).
    pub key: ItemKey,
    #[serde(flatten)]
    pub change: Change,
}

impl Item {
    /// Whether the item changes one of the room's sharing links.
    pub fn is_link(&self) -> bool {
        matches!(self.change, Change::Link(_))
    }

    pub fn new(key: ItemKey, change: Change) -> Item {
        Item { key, change }
    }

    pub fn action(&self) -> Action {
        self.change.action()
    }

    /// The subject label (email or group), where relevant.
    pub fn subject(&self) -> Option<&str> {
        self.change.subject()
    }
}

/// Whether a room is created, changed or left alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomChange {
    Create,
    Update,
    Unchanged,
}

/// Everything planned for one room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomPlan {
    pub title: String,
    #[serde(rename = "type")]
    pub room_type: RoomType,
    /// The live room id (`None` when it is to be created).
    pub room_id: Option<i64>,
    pub change: RoomChange,
    /// Fingerprint of the observed room when planned (see [`crate::state::fingerprint`]).
    pub fingerprint: String,
    /// Members before the plan (for the removal guard).
    pub members_before: usize,
    pub items: Vec<Item>,
    /// What a reviewer should know beyond the items (see [`RoomNote`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<RoomNote>,
}

/// Who is never removed from a room, whatever the manifest says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeptMember {
    /// The room's owner.
    Owner,
    /// The API key's own user.
    KeyUser,
}

/// Why the removal guard refuses a room's removals (see [`guard`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "why")]
pub enum GuardReason {
    /// One of the removals is a room manager.
    RoomManager,
    /// More than [`REMOVAL_GUARD_SHARE`] of the room's members would go.
    TooMany { removals: usize, members: usize },
    /// `--prune` would archive more than [`prune::ARCHIVE_GUARD_SHARE`] of the rooms that
    /// carry the manifest's marker tag (see [`prune::guard`]).
    TooManyRooms { archives: usize, managed: usize },
    /// A person removed from a `members: exact` group: every such removal is guarded.
    GroupMember,
}

/// Something a reviewer should know about a room's plan, beyond its items. Text is made in
/// `render/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum RoomNote {
    /// A room with this title is kept in connected third-party storage, which the tool cannot
    /// manage; it is not the manifest's room.
    ConnectedNamesake {
        id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        provider: Option<String>,
    },
    /// A planned create whose title is close to an existing room's (same but for case, or a
    /// small edit such as a rename in the web UI): pin it with `id:` to adopt that room.
    SimilarRoom { id: i64, title: String },
    /// A planned create whose invitees are largely the members of a live room of its type
    /// that no manifest room matches (a room renamed in the web UI, say): `shared` of its
    /// `invitees` are members there. Pin it with `id:` to adopt that room; `--prune` does not
    /// archive that room in this run (see [`prune::note_renames`]).
    LooksRenamed {
        id: i64,
        title: String,
        shared: usize,
        invitees: usize,
    },
    /// Tag names compare case-insensitively on the portal: asking for `requested` gives the
    /// room the existing tag `existing`.
    TagSpelling { requested: String, existing: String },
    /// The room's members could not be read (after retries): the room is left out of this
    /// plan, `apply` skips it, and the run's exit code says the portal may still differ.
    Unreadable { error: String },
    /// `template:` on a room that exists: a template only shapes a room when it is created,
    /// so it has no effect here (docs/docspace-api.md, "Room templates").
    TemplateIgnored { template: String },
    /// An archived room the manifest wants archived: left as it is, since the server
    /// refuses edits to archived rooms (docs/docspace-api.md, "Updating rooms").
    ArchivedLeftAlone,
    /// `apply` would skip the room's `removals` unless `--allow-removals` is given (set by
    /// the `plan` and `apply` commands, which know the flag).
    RemovalGuard {
        removals: usize,
        reason: GuardReason,
    },
    /// The room carries the manifest's marker tag but no manifest room matches it: `--prune`
    /// archives it (see [`prune`]). Apply checks the archive guard for these rooms.
    Orphan,
    /// A live sharing link the plan leaves as it is, and why (a primary link).
    Link { note: crate::links::LinkNote },
    /// `apply` would skip the room's `downgrades` (link changes that lower protection, see
    /// [`Change::is_downgrade`]) unless `--allow-downgrades` is given (set by the `plan` and
    /// `apply` commands, which know the flag).
    DowngradeGuard { downgrades: usize },
    /// An invitee whose `expires:` (`at`) has passed who stays a member all the same: the
    /// tool never removes the room's owner or the key's own user (see [`expiry`]).
    ExpiredKept {
        subject: String,
        at: chrono::DateTime<chrono::Utc>,
        /// `owner` or `key_user`.
        who: KeptMember,
    },
    /// An invitee whose `expires:` (`at`) has passed and who is not a member: nothing to
    /// remove, and never invited again (see [`expiry`]).
    ExpiredNotMember {
        subject: String,
        at: chrono::DateTime<chrono::Utc>,
    },
    /// A member the manifest invites whose account is still pending (see `plan::pending`).
    PendingInvitation {
        id: String,
        email: String,
        /// Whole hours since the first invitation created the account, when the plan was
        /// made (`None`: the portal did not say). An age, not a date, so that plans of the
        /// same portal state compare equal.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        age_hours: Option<i64>,
        /// Older than [`pending::STALE_AFTER_DAYS`].
        stale: bool,
        /// Why this key cannot have the invitation resent (see `pending::not_resent`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        not_resent: Option<pending::NotResent>,
    },
    /// The manifest sets `color` or `cover`, and the live room has an uploaded logo: the
    /// portal shows neither while it has one, so they are not managed (see `settings`).
    UploadedLogo,
}

impl RoomPlan {
    /// Why the room was left out, when it could not be read.
    pub fn unreadable_error(&self) -> Option<&str> {
        self.notes.iter().find_map(|n| match n {
            RoomNote::Unreadable { error } => Some(error.as_str()),
            _ => None,
        })
    }

    /// Whether the room was left out because it could not be read.
    pub fn is_unreadable(&self) -> bool {
        self.unreadable_error().is_some()
    }

    /// Whether the room is an orphan that `--prune` archives (see [`prune`]).
    pub fn is_orphan(&self) -> bool {
        self.notes.iter().any(|n| matches!(n, RoomNote::Orphan))
    }

    /// Notes, when `allow_removals` is not given, which removals the guard would refuse
    /// (replacing any such note a saved plan carries). Only rooms with items are touched.
    pub fn mark_guarded_removals(&mut self, allow_removals: bool) {
        self.notes
            .retain(|n| !matches!(n, RoomNote::RemovalGuard { .. }));
        if allow_removals || self.items.is_empty() {
            return;
        }
        if let Some((removals, reason)) = guard(self) {
            self.notes.push(RoomNote::RemovalGuard {
                removals: removals.len(),
                reason,
            });
        }
    }
}

impl RoomPlan {
    /// Notes, when `allow_downgrades` is not given, how many link changes of the room the
    /// downgrade guard refuses (replacing any such note a saved plan carries). Every
    /// downgrade needs `--allow-downgrades`, whatever their number; `--allow-removals` does
    /// not allow them.
    pub fn mark_guarded_downgrades(&mut self, allow_downgrades: bool) {
        self.notes
            .retain(|n| !matches!(n, RoomNote::DowngradeGuard { .. }));
        let downgrades = downgrades(self).len();
        if !allow_downgrades && downgrades > 0 {
            self.notes.push(RoomNote::DowngradeGuard { downgrades });
        }
    }
}

/// The items of `room` that lower a link's protection (indices into `room.items`): `apply`
/// skips them unless `--allow-downgrades` is given.
pub fn downgrades(room: &RoomPlan) -> Vec<usize> {
    room.items
        .iter()
        .enumerate()
        .filter(|(_, i)| i.change.is_downgrade())
        .map(|(n, _)| n)
        .collect()
}

/// Removals beyond this share of a room's members need `--allow-removals`.
pub const REMOVAL_GUARD_SHARE: f64 = 0.25;
/// The share guard only applies to rooms with at least this many members.
pub const REMOVAL_GUARD_MIN_MEMBERS: usize = 4;

/// The removal items of `room` the guard refuses (indices into `room.items`) and why, or
/// `None` when it lets them through.
pub fn guard(room: &RoomPlan) -> Option<(Vec<usize>, GuardReason)> {
    let removals: Vec<usize> = room
        .items
        .iter()
        .enumerate()
        .filter(|(_, i)| i.action() == Action::Remove)
        .map(|(n, _)| n)
        .collect();
    if removals.is_empty() {
        return None;
    }
    let managers = removals
        .iter()
        .any(|&n| room.items[n].change.from_access() == Some(Access::RoomManager));
    let too_many = room.members_before >= REMOVAL_GUARD_MIN_MEMBERS
        && removals.len() as f64 > REMOVAL_GUARD_SHARE * room.members_before as f64;
    let reason = match (managers, too_many) {
        (false, false) => return None,
        (true, _) => GuardReason::RoomManager,
        (false, true) => GuardReason::TooMany {
            removals: removals.len(),
            members: room.members_before,
        },
    };
    Some((removals, reason))
}

/// Invitation settings from the manifest defaults.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ShareSettings {
    pub notify: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub culture: Option<String>,
}

/// Counts for the closing line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Summary {
    pub rooms_to_create: usize,
    pub rooms_to_update: usize,
    pub rooms_unchanged: usize,
    pub invitations: usize,
    pub new_guests: usize,
    pub access_changes: usize,
    pub removals: usize,
    pub archives: usize,
    pub unarchives: usize,
    /// Sharing links to create, change and revoke (left out of the JSON when 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub links_created: usize,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub links_updated: usize,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub links_revoked: usize,
    /// Link changes that lower protection, applied only with `--allow-downgrades` (counted
    /// in `links_updated` too; left out of the JSON when 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub link_downgrades: usize,
    /// POST and PUT requests `apply` will send at least (a create, a settings update, one
    /// share batch, an archive or unarchive per room): what the portal's daily write limit
    /// counts (docs/docspace-api.md, "Rate limits").
    #[serde(default)]
    pub write_calls: usize,
    /// Rooms left out because they could not be read (see [`RoomNote::Unreadable`]).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub rooms_unreadable: usize,
    /// Orphaned managed rooms `apply --prune` archives (see [`prune`]); not counted in
    /// `rooms_to_update`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub rooms_to_prune: usize,
    /// Invitations `apply --resend-pending` sends again (all in one call).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub resends: usize,
    /// `people:`: people invited (one call), types raised (one call per type).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub people_invited: usize,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub type_changes: usize,
    /// `groups:`: groups created, groups changed (renamed, manager, people), people added
    /// and removed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub groups_created: usize,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub groups_updated: usize,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub group_additions: usize,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub group_removals: usize,
}

/// The portal's default daily limit of POST and PUT requests per user
/// (docs/docspace-api.md, "Rate limits").
pub const DAILY_WRITE_LIMIT: usize = 10_000;

impl Summary {
    pub fn has_changes(&self) -> bool {
        self.rooms_to_create
            + self.rooms_to_update
            + self.rooms_to_prune
            + self.resends
            + self.people_invited
            + self.type_changes
            + self.groups_created
            + self.groups_updated
            > 0
    }
}

/// A whole plan. Also the saved-plan format (`plan --out`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: u32,
    pub portal: String,
    /// When the plan was made (a saved plan's messages say whether an `expires:` moment
    /// passed since; nothing is decided by it).
    pub planned_at: chrono::DateTime<chrono::Utc>,
    /// Hash of the manifests' text.
    pub manifest_hash: String,
    /// The options that shaped the plan; `apply --plan` plans again with them.
    pub options: build::Options,
    /// `--room`: the plan is partial, limited to the manifest rooms matching these patterns
    /// (a copy of `options.filter` for readers of the JSON; absent for a whole plan).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<filter::RoomFilter>,
    pub share: ShareSettings,
    pub rooms: Vec<RoomPlan>,
    /// The portal section: items about the portal rather than one room (resends of pending
    /// invitations now; groups and people as code next). Never in a saved plan's approval.
    #[serde(default)]
    pub portal_items: Vec<Item>,
    /// What a reviewer should know about the portal section (paid seats, guests made by a
    /// room invitation; see [`org::OrgNote`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub portal_notes: Vec<org::OrgNote>,
    /// Removals from groups `apply` skips unless `--allow-removals` is given (set by the
    /// `plan` and `apply` commands, which know the flag; see [`Plan::mark_guarded_removals`]).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub group_removals_guarded: usize,
    pub summary: Summary,
    /// Rooms in connected third-party storage on the portal: listed, never managed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unmanaged_connected_rooms: usize,
    /// With `managed_tag`: the marker, how many rooms carry it, how many are unmanaged, and
    /// the orphans (see [`prune`]). `None` without `managed_tag`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed: Option<ManagedRooms>,
    /// Memberships whose `expires:` falls within the warning window (see [`expiry`]), set by
    /// the `plan` and `apply` commands, which know the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiring: Option<ExpiringSoon>,
    /// The desired state the plan was computed from, as one manifest document
    /// ([`crate::manifest::normal`]); `apply --plan` plans again from it.
    pub desired: serde_json::Value,
    /// A digest of `desired` as written (messages only: tells an edited plan apart).
    pub desired_digest: String,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Plan {
    pub fn has_changes(&self) -> bool {
        self.summary.has_changes()
    }

    /// Sets or clears every changed room's removal-guard note (see
    /// [`RoomPlan::mark_guarded_removals`]).
    pub fn mark_guarded_removals(&mut self, allow_removals: bool) {
        for room in &mut self.rooms {
            room.mark_guarded_removals(allow_removals);
        }
        prune::mark_guarded_archives(self, allow_removals);
        // Every removal from a group needs `--allow-removals` (docs/apply.md).
        self.group_removals_guarded = if allow_removals {
            0
        } else {
            self.portal_items
                .iter()
                .filter(|i| i.action() == Action::RemoveGroupMember)
                .count()
        };
    }

    /// Sets or clears every room's downgrade-guard note (see
    /// [`RoomPlan::mark_guarded_downgrades`]).
    pub fn mark_guarded_downgrades(&mut self, allow_downgrades: bool) {
        for room in &mut self.rooms {
            room.mark_guarded_downgrades(allow_downgrades);
        }
    }

    /// The write calls of `summary.write_calls` that apply will not send because a guard
    /// note refuses them: an archive the archive guard refuses (`--prune`), a link change the
    /// downgrade guard refuses. Read from the notes [`Plan::mark_guarded_removals`] and
    /// [`Plan::mark_guarded_downgrades`] set.
    pub fn guarded_write_calls(&self) -> usize {
        let mut n = 0;
        for room in &self.rooms {
            for note in &room.notes {
                n += match note {
                    RoomNote::RemovalGuard {
                        reason: GuardReason::TooManyRooms { .. },
                        ..
                    } => room
                        .items
                        .iter()
                        .filter(|i| i.action() == Action::Archive)
                        .count(),
                    RoomNote::DowngradeGuard { downgrades } => *downgrades,
                    _ => 0,
                };
            }
        }
        if self.group_removals_guarded > 0 {
            n += org::writes_only_removing(&self.portal_items);
        }
        n
    }
}

/// The counts of a plan's rooms and portal items, computed from them (never read from a saved
/// file).
pub fn summarise(rooms: &[RoomPlan], portal_items: &[Item]) -> Summary {
    let mut s = Summary::default();
    for r in rooms {
        if r.is_unreadable() {
            s.rooms_unreadable += 1;
        }
        match r.change {
            RoomChange::Create => s.rooms_to_create += 1,
            RoomChange::Update if r.is_orphan() => s.rooms_to_prune += 1,
            RoomChange::Update => s.rooms_to_update += 1,
            RoomChange::Unchanged => s.rooms_unchanged += 1,
        }
        // One share batch per room, whatever the number of members (a refused batch re-sent
        // item by item costs more; this is the floor).
        s.write_calls += usize::from(r.items.iter().any(|i| i.action().is_share()));
        for i in &r.items {
            count_item(&mut s, &i.change);
        }
    }
    for i in portal_items {
        count_item(&mut s, &i.change);
    }
    // The resends of the run go in one call per room (docs/docspace-api.md, "Pending
    // invitations").
    let resend_rooms: std::collections::BTreeSet<i64> = portal_items
        .iter()
        .filter_map(|i| match &i.change {
            Change::ResendInvitation {
                not_resent: None,
                room_id,
                ..
            } => Some(*room_id),
            _ => None,
        })
        .collect();
    s.write_calls += resend_rooms.len();
    org::count_calls(&mut s, portal_items);
    s
}

fn count_item(s: &mut Summary, change: &Change) {
    match change {
        Change::CreateRoom { .. } | Change::UpdateRoom { .. } => s.write_calls += 1,
        Change::Archive => {
            s.write_calls += 1;
            s.archives += 1;
        }
        Change::Unarchive => {
            s.write_calls += 1;
            s.unarchives += 1;
        }
        Change::Invite { target, .. } => {
            s.invitations += 1;
            if matches!(target, Target::NewGuest { hidden: false, .. }) {
                s.new_guests += 1;
            }
        }
        Change::ChangeAccess { .. } => s.access_changes += 1,
        Change::Remove { .. } => s.removals += 1,
        // One PUT each: the server changes one link per call.
        Change::Link(LinkChange::Create { .. }) => {
            s.write_calls += 1;
            s.links_created += 1;
        }
        Change::Link(LinkChange::Update { .. }) => {
            s.write_calls += 1;
            s.links_updated += 1;
            s.link_downgrades += usize::from(change.is_downgrade());
        }
        Change::Link(LinkChange::Revoke { .. }) => {
            s.write_calls += 1;
            s.links_revoked += 1;
        }
        // One the server would not send is reported, not sent, and no write.
        Change::ResendInvitation { not_resent, .. } => {
            s.resends += usize::from(not_resent.is_none());
        }
        // The portal section's calls are counted per call in `summarise` (one invite call,
        // one call per type, one write per group).
        Change::InvitePerson { .. } => s.people_invited += 1,
        Change::ChangeUserType { .. } => s.type_changes += 1,
        Change::CreateGroup { .. } => s.groups_created += 1,
        Change::UpdateGroup { .. } => {}
        Change::AddGroupMember { .. } => s.group_additions += 1,
        Change::RemoveGroupMember { .. } => s.group_removals += 1,
    }
}

/// A quota in plan JSON: a number of bytes, or `"unlimited"` (the plan's readers compare
/// bytes; the manifest's own `{bytes: N}` form would be new to them).
mod quota_json {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::manifest::Quota;

    #[derive(Serialize, Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Bytes(u64),
        Word(Unlimited),
    }

    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Unlimited {
        Unlimited,
    }

    fn repr(q: Quota) -> Repr {
        match q {
            Quota::Unlimited => Repr::Word(Unlimited::Unlimited),
            Quota::Bytes(b) => Repr::Bytes(b),
        }
    }

    fn quota(r: Repr) -> Quota {
        match r {
            Repr::Word(Unlimited::Unlimited) => Quota::Unlimited,
            Repr::Bytes(b) => Quota::Bytes(b),
        }
    }

    pub fn serialize<S: Serializer>(q: &Quota, s: S) -> Result<S::Ok, S::Error> {
        repr(*q).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Quota, D::Error> {
        Repr::deserialize(d).map(quota)
    }

    pub mod option {
        use super::*;

        pub fn serialize<S: Serializer>(q: &Option<Quota>, s: S) -> Result<S::Ok, S::Error> {
            q.map(repr).serialize(s)
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Quota>, D::Error> {
            Option::<Repr>::deserialize(d).map(|r| r.map(quota))
        }
    }
}

/// A quota as the portal reports it (`-1`, or any negative value, for unlimited), in the
/// manifest's terms (docs/docspace-api.md, "Reading a room").
pub fn quota_from_wire(q: i64) -> Quota {
    u64::try_from(q).map_or(Quota::Unlimited, Quota::Bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn removal(n: usize, from: Access) -> Item {
        Item::new(
            ItemKey::member("R", &format!("u{n}")),
            Change::Remove {
                target: Member::User {
                    id: format!("u{n}"),
                    email: format!("u{n}@x.test"),
                },
                from_access: Some(from),
                reason: RemovalReason::NotListed,
            },
        )
    }

    pub(crate) fn room(members_before: usize, items: Vec<Item>) -> RoomPlan {
        RoomPlan {
            title: "R".into(),
            room_type: RoomType::Custom,
            room_id: Some(1),
            change: RoomChange::Update,
            fingerprint: String::new(),
            members_before,
            items,
            notes: Vec::new(),
        }
    }

    #[test]
    fn guard_refuses_more_than_a_quarter_of_four_or_more() {
        // 1 of 4 = 25%: allowed.
        assert!(guard(&room(4, vec![removal(1, Access::Read)])).is_none());
        let (refused, why) = guard(&room(
            4,
            vec![removal(1, Access::Read), removal(2, Access::Read)],
        ))
        .unwrap();
        assert_eq!(refused, vec![0, 1]);
        assert_eq!(
            why,
            GuardReason::TooMany {
                removals: 2,
                members: 4
            }
        );
        // Small rooms: the share rule does not apply.
        assert!(
            guard(&room(
                3,
                vec![removal(1, Access::Read), removal(2, Access::Read)]
            ))
            .is_none()
        );
    }

    #[test]
    fn guard_refuses_any_room_manager() {
        let (refused, why) = guard(&room(10, vec![removal(1, Access::RoomManager)])).unwrap();
        assert_eq!(refused, vec![0]);
        assert_eq!(why, GuardReason::RoomManager);
    }

    #[test]
    fn items_keep_the_action_field_and_round_trip() {
        let item = Item::new(
            ItemKey::member("R", "a@x.test"),
            Change::Invite {
                target: Target::NewGuest {
                    email: "a@x.test".into(),
                    hidden: false,
                },
                access: Access::Read,
            },
        );
        let json = serde_json::to_value(&item).unwrap();
        assert_eq!(json["action"], "invite");
        assert_eq!(json["target"]["kind"], "new_guest");
        assert_eq!(json["access"], "read");
        let back: Item = serde_json::from_value(json).unwrap();
        assert_eq!(back, item);
    }

    #[test]
    fn action_names_are_the_actions() {
        for name in ACTION_NAMES {
            let action: Action = serde_json::from_value(serde_json::json!(name)).unwrap();
            assert_eq!(action.name(), *name);
        }
        let mut orders: Vec<Action> = ACTION_NAMES
            .iter()
            .map(|n| serde_json::from_value(serde_json::json!(n)).unwrap())
            .collect();
        let sorted = orders.clone();
        orders.sort();
        assert_eq!(orders, sorted, "in the order of `Action`");
    }

    #[test]
    fn link_items_keep_their_action_names_and_round_trip() {
        use crate::links::{FieldChange, LinkKind, PasswordChange, ResolvedLink};
        let link = ResolvedLink {
            title: "Clients".into(),
            kind: LinkKind::External,
            access: Access::Read,
            expires: None,
            internal: false,
            deny_download: false,
            max_uses: None,
            password: None,
            keep_password: true,
        };
        let update = Item::new(
            ItemKey::link("R", "Clients"),
            Change::Link(LinkChange::Update {
                link_id: "l1".into(),
                link: link.clone(),
                changes: vec![FieldChange::DenyDownload {
                    from: true,
                    to: false,
                }],
                password: PasswordChange::Unchanged,
                downgrade: true,
            }),
        );
        let json = serde_json::to_value(&update).unwrap();
        assert_eq!(json["action"], "update_link");
        assert_eq!(json["downgrade"], true);
        assert_eq!(json["link"]["keep_password"], true);
        assert_eq!(serde_json::from_value::<Item>(json).unwrap(), update);
        assert_eq!(update.action(), Action::UpdateLink);
        assert!(update.change.is_downgrade());
        let create = Item::new(
            ItemKey::link("R", "Clients"),
            Change::Link(LinkChange::Create { link }),
        );
        let json = serde_json::to_value(&create).unwrap();
        assert_eq!(json["action"], "create_link");
        assert_eq!(serde_json::from_value::<Item>(json).unwrap(), create);
        // A `downgrade: false` written over a downgrade does not hide it.
        let mut edited = serde_json::to_value(&update).unwrap();
        edited["downgrade"] = serde_json::json!(false);
        let edited: Item = serde_json::from_value(edited).unwrap();
        assert!(edited.change.is_downgrade());
        let unknown = serde_json::json!({"key": "R", "action": "delete_link", "link_id": "x"});
        assert!(serde_json::from_value::<Item>(unknown).is_err());
    }

    #[test]
    fn quotas_are_bytes_or_unlimited_in_json() {
        let s = RoomSettings {
            quota: Some(Quota::Bytes(500)),
            ..RoomSettings::default()
        };
        assert_eq!(serde_json::to_string(&s).unwrap(), r#"{"quota":500}"#);
        let back: RoomSettings = serde_json::from_str(r#"{"quota":"unlimited"}"#).unwrap();
        assert_eq!(back.quota, Some(Quota::Unlimited));
        assert!(serde_json::from_str::<RoomSettings>(r#"{"quota":-5}"#).is_err());
    }

    #[test]
    fn quotas_from_the_wire() {
        assert_eq!(quota_from_wire(-1), Quota::Unlimited);
        assert_eq!(quota_from_wire(1024), Quota::Bytes(1024));
    }
}
