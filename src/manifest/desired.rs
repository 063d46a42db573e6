//! The desired state read from manifests: plain values the planner diffs against the portal.
//! Each room and invitee remembers where it was written ([`Origin`]) so that checks needing
//! the portal (unknown group, room-manager for a guest) can still point at the line.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use chrono::{DateTime, Utc};

use crate::model::{Access, LinkKind, RoomType, SubjectKind};
pub use crate::model::{Lifetime, Watermark};

use super::source::SourceFile;
use super::yaml::Span;

/// Where something was written: an index into [`Desired::files`] and a byte span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Origin {
    pub file: usize,
    pub span: Span,
}

/// `defaults:` of the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Defaults {
    /// Email existing users when they are added (the server emails new guests regardless).
    pub notify: bool,
    /// Note included in notifications.
    pub message: Option<String>,
    /// Language of invitation emails, e.g. `en-US`.
    pub culture: Option<String>,
    /// `new_guests: false` (or `plan`/`apply --no-new-guests`): no new guest account may be
    /// planned; every invitee without an account is a plan error (see `plan::newguest`).
    #[serde(default)]
    pub refuse_new_guests: bool,
}

/// How unlisted members are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MembersMode {
    /// Never remove members the manifest does not list.
    #[default]
    Additive,
    /// Remove members not listed (never the owner, never the key's own user).
    Exact,
}

/// Whether the room should be active or archived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RoomState {
    #[default]
    Present,
    Archived,
}

/// A room quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Quota {
    Unlimited,
    Bytes(u64),
}

impl Quota {
    /// The value sent to the server: bytes, or `-1` for unlimited (docs/docspace-api.md, "Updating rooms").
    pub fn wire(self) -> i64 {
        match self {
            Quota::Unlimited => -1,
            Quota::Bytes(b) => i64::try_from(b).unwrap_or(i64::MAX),
        }
    }

    /// Human form: `unlimited`, `10 GiB`, `1500 bytes`.
    pub fn human(self) -> String {
        match self {
            Quota::Unlimited => "unlimited".into(),
            Quota::Bytes(b) => {
                const UNITS: [(&str, u64); 4] = [
                    ("TiB", 1 << 40),
                    ("GiB", 1 << 30),
                    ("MiB", 1 << 20),
                    ("KiB", 1 << 10),
                ];
                for (name, size) in UNITS {
                    if b >= size && b % size == 0 {
                        return format!("{} {name}", b / size);
                    }
                }
                format!("{b} bytes")
            }
        }
    }
}

/// Who an invitee is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Subject {
    /// An email, lower-cased (the server compares emails case-insensitively).
    Email(String),
    /// A group name as written (matched case-insensitively against the portal's groups).
    Group(String),
}

impl Subject {
    pub fn kind(&self) -> SubjectKind {
        match self {
            Subject::Email(_) => SubjectKind::User,
            Subject::Group(_) => SubjectKind::Group,
        }
    }

    /// The text shown to people: the email or the group name.
    pub fn label(&self) -> &str {
        match self {
            Subject::Email(e) | Subject::Group(e) => e,
        }
    }
}

/// One invitee of a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredInvitee {
    pub subject: Subject,
    /// The email as the manifest spells it (the subject holds it lower-cased). Looked up as
    /// written first: PostgreSQL installs compare emails case-sensitively.
    pub written_email: Option<String>,
    pub access: Access,
    /// `expires:`: from this moment on the member is removed and never re-invited. A date
    /// alone means the start of that day in UTC. A moment in the past is valid: it asks for
    /// the removal.
    pub expires: Option<DateTime<Utc>>,
    /// `new_account: true`: the person is meant to be new to the portal, so an address close
    /// to an existing account's is not a typo (settles the near-miss check for good, see
    /// `plan::newguest`).
    pub new_account: bool,
    pub origin: Origin,
}

/// One sharing link of a room (`links:`), matched against the portal's links by title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredLink {
    /// The title, trimmed. Unique in its room, compared case-insensitively.
    pub title: String,
    /// The link's kind. A revoke (`access: none`) may leave `kind:` out, since it revokes the
    /// live link of that title whatever its kind; it then reads `External`, which a revoke
    /// does not use.
    pub kind: LinkKind,
    /// The access the link grants; `none` asks for the link to be revoked.
    pub access: Access,
    /// When the link stops working: `None` when the manifest leaves `expires` out (not
    /// managed: the live expiry stays), `Some(None)` for `expires: never`. A moment is always
    /// in the future when validated (the server refuses or drops a past expiry,
    /// docs/docspace-api.md, "Sharing links").
    pub expires: Option<Option<DateTime<Utc>>>,
    /// Only signed-in portal users may follow the link (external links only); `None`: not
    /// managed.
    pub internal: Option<bool>,
    /// Forbid download, print and copy through the link (external links only); `None`: not
    /// managed.
    pub deny_download: Option<bool>,
    /// How many people may join through the link (invitation links only): `None` when the
    /// manifest leaves it out (not managed), `Some(None)` for `max_uses: unlimited`, else
    /// within [`crate::model::LINK_USES_RANGE`].
    pub max_uses: Option<Option<u32>>,
    /// What the manifest says about the link's password (external links only); `None`: not
    /// managed (the live password, if any, stays).
    pub password: Option<DesiredPassword>,
    /// Where the link's `title` was written.
    pub origin: Origin,
}

/// A link's password as the manifest asks for it. The password itself is never in the
/// manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DesiredPassword {
    /// `password_env: NAME`: the password is the value of this environment variable, read
    /// by plan and apply.
    FromEnv(String),
    /// `keep_password: true`: the link has a password and keeps it, whatever it is (what
    /// `export` writes for a link with a password).
    Keep,
    /// `keep_password: false`: the link has no password (removing one is a downgrade).
    Remove,
}

impl DesiredPassword {
    /// The environment variable named by `password_env`, if any.
    pub fn env_name(&self) -> Option<&str> {
        match self {
            DesiredPassword::FromEnv(name) => Some(name),
            DesiredPassword::Keep | DesiredPassword::Remove => None,
        }
    }
}

/// One room of the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredRoom {
    /// The title as the server will store it (trimmed and sanitised, docs/docspace-api.md, "Room titles").
    pub title: String,
    pub room_type: RoomType,
    /// A pinned room id (`id:`), which also allows renames.
    pub id: Option<i64>,
    /// When given, the exact tag set.
    pub tags: Option<BTreeSet<String>>,
    pub quota: Option<Quota>,
    pub deny_download: Option<bool>,
    pub members: MembersMode,
    pub state: RoomState,
    pub invitees: Vec<DesiredInvitee>,
    /// `links:`, in the order written.
    pub links: Vec<DesiredLink>,
    /// `links_exact: true`: revoke the room's links the manifest does not list.
    pub links_exact: bool,
    /// The room's colour: 6 hex digits without `#`, as written (compare case-insensitively).
    pub color: Option<String>,
    /// A cover id (from `GET rooms/covers`), up to 50 characters.
    pub cover: Option<String>,
    /// Number the room's files (virtual data rooms).
    pub indexing: Option<bool>,
    pub lifetime: Option<Lifetime>,
    pub watermark: Option<Watermark>,
    /// `template:`: create the room from this template (no effect on a room that exists).
    pub template: Option<TemplateUse>,
    /// Where the room's `title` was written.
    pub origin: Origin,
}

/// A room's `template:` and where it was written (resolved against the portal's templates
/// at plan time, see `plan::templates`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateUse {
    pub reference: crate::model::template::TemplateRef,
    pub origin: Origin,
}

/// Everything the manifests ask for, merged from all files.
#[derive(Debug, Clone, Default)]
pub struct Desired {
    pub files: Vec<SourceFile>,
    pub defaults: Defaults,
    /// `managed_tag:`: the marker tag every room of the manifest carries; rooms on the
    /// portal with it that the manifest no longer lists are orphans.
    pub managed_tag: Option<String>,
    /// Where `managed_tag` was written (its value), for the diagnostics about the set.
    pub managed_tag_origin: Option<Origin>,
    /// `manifest_set:` of the file that declares `managed_tag`: the files `--prune` must be
    /// given together (see [`super::set`]).
    pub manifest_set: Option<super::set::ManifestSet>,
    pub rooms: Vec<DesiredRoom>,
    /// `policy:` of every file, merged (`manifest::validate::policy`).
    pub policy: crate::model::policy::Policy,
    /// `groups:` (top level): the portal groups the manifest manages, in the order written.
    pub groups: Vec<DesiredGroup>,
    /// `people:` (top level): accounts and their types, in the order written.
    pub people: Vec<DesiredPerson>,
}

/// A person named by a group (`manager`, `people`, a `people_from` row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupPerson {
    /// Lower-cased.
    pub email: String,
    /// Where it was written (a `people_from` row points into the manifest's `people_from`
    /// value; its row is in the diagnostics made when the file was read).
    pub origin: Origin,
}

/// One group of `groups:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredGroup {
    /// The name, trimmed (1 to `model::GROUP_NAME_MAX_CHARS` characters).
    pub name: String,
    /// A pinned group id (`id:`), which also allows renames.
    pub id: Option<String>,
    pub manager: Option<GroupPerson>,
    /// `people` and the rows of `people_from`, each email once, in the order written.
    pub people: Vec<GroupPerson>,
    /// `additive` (default): never remove people the manifest does not list; `exact`:
    /// remove them (each removal needs `--allow-removals`).
    pub members: MembersMode,
    /// Where the group's `name` was written.
    pub origin: Origin,
}

impl DesiredGroup {
    /// Every email the group names (manager first), once.
    pub fn emails(&self) -> impl Iterator<Item = &GroupPerson> {
        self.manager.iter().chain(
            self.people
                .iter()
                .filter(|p| self.manager.as_ref().is_none_or(|m| m.email != p.email)),
        )
    }
}

/// One person of `people:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredPerson {
    /// Lower-cased.
    pub email: String,
    /// As written (looked up as written first, like invitees).
    pub written_email: String,
    pub user_type: crate::model::UserType,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// Where the person's `email` was written.
    pub origin: Origin,
}

impl Desired {
    /// The `people:` entry of an email (lower-cased), if any.
    pub fn person(&self, email: &str) -> Option<&DesiredPerson> {
        self.people.iter().find(|p| p.email == email)
    }

    /// Every email of `people:` and `groups:`, lower-cased, once: the accounts the portal
    /// section needs read.
    pub fn portal_emails(&self) -> BTreeSet<&str> {
        let mut out: BTreeSet<&str> = self.people.iter().map(|p| p.email.as_str()).collect();
        for g in &self.groups {
            out.extend(g.emails().map(|p| p.email.as_str()));
        }
        out
    }
}

impl Desired {
    /// Invitees over all rooms.
    pub fn invitee_count(&self) -> usize {
        self.rooms.iter().map(|r| r.invitees.len()).sum()
    }

    /// Every invitee email (lower-cased), once.
    pub fn emails(&self) -> BTreeSet<&str> {
        let mut out: BTreeSet<&str> = self
            .invitees()
            .filter_map(|s| match s {
                Subject::Email(e) => Some(e.as_str()),
                Subject::Group(_) => None,
            })
            .collect();
        // The people and group members of the portal section are read the same way.
        out.extend(self.portal_emails());
        out
    }

    /// Each invitee email (lower-cased) with its first spelling in the manifest.
    pub fn written_emails(&self) -> std::collections::BTreeMap<&str, &str> {
        let mut out = std::collections::BTreeMap::new();
        for inv in self.rooms.iter().flat_map(|r| &r.invitees) {
            if let Subject::Email(e) = &inv.subject {
                out.entry(e.as_str())
                    .or_insert_with(|| inv.written_email.as_deref().unwrap_or(e));
            }
        }
        for p in &self.people {
            out.entry(p.email.as_str())
                .or_insert(p.written_email.as_str());
        }
        out
    }

    /// Every invitee group name, lower-cased (groups match case-insensitively), once.
    pub fn group_names(&self) -> BTreeSet<String> {
        self.invitees()
            .filter_map(|s| match s {
                Subject::Group(g) => Some(g.to_lowercase()),
                Subject::Email(_) => None,
            })
            .collect()
    }

    /// The `groups:` entry an invitee group name (any case) is, if any.
    pub fn declared_group(&self, name: &str) -> Option<&DesiredGroup> {
        let key = name.to_lowercase();
        self.groups.iter().find(|g| g.name.to_lowercase() == key)
    }

    fn invitees(&self) -> impl Iterator<Item = &Subject> {
        self.rooms
            .iter()
            .flat_map(|r| r.invitees.iter().map(|i| &i.subject))
    }

    /// A hash of every manifest's text, in order, for saved plans.
    pub fn manifest_hash(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for f in &self.files {
            h.update(f.name.as_bytes());
            h.update([0]);
            h.update(f.text.as_bytes());
            h.update([0]);
        }
        format!("sha256:{:x}", h.finalize())
    }
}
