//! A room's sharing links (issue 13): the domain types for live and wanted links and the pure
//! diff between them.
//!
//! The per-room-type rules (which kinds and access levels a room takes, how many links) are
//! the tables of [`RoomType`] in `model`, which validation uses too; the diff here keeps only
//! the checks that need the live portal (links left alone that count against the limits, a
//! use count already above a wanted `max_uses`, a primary link, an unset password variable).
//! The server's rules are in docs/docspace-api.md, "Sharing links".
//!
//! Passwords. The server returns a link's password in clear text to whoever may read the
//! room's links. The tool never keeps it: it is reduced at once to a [`PasswordDigest`], a
//! hash keyed with a random key of this process, which is never serialised. The same is done
//! with the password a manifest takes from its environment variable. So the diff can tell
//! "unchanged", "set", "changed" and "removed" exactly, and a plan or report can only say
//! that, never the password or anything a password could be guessed from.
//!
//! Every link write rebuilds all of the link's options on the server: an update that left
//! the password out would remove it. So the request for an update always carries the
//! password again when the manifest names one ([`update_request`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::OnceLock;

use chrono::{DateTime, FixedOffset};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::docspace::wire::{LINK_TYPE_EXTERNAL, LinkDto, LinkRequest, parse_api_date};
use crate::manifest::{Desired, DesiredLink, DesiredPassword};
pub use crate::model::LinkKind;
use crate::model::{Access, PasswordShape, RoomType};

/// A keyed hash of a link password: equal for equal passwords within one run, meaningless
/// outside it (the key is random per process), and never serialised.
///
/// It also keeps the password's [`PasswordShape`] (its length in UTF-16 units, as .NET
/// counts, after the trim the server makes, and which classes of characters it has), which
/// the plan checks against the portal's password policy (docs/docspace-api.md, "Portal link
/// policies"); never the value.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordDigest([u8; 32], PasswordShape);

impl PasswordDigest {
    /// The password's length in UTF-16 units, after trimming.
    pub fn length(&self) -> usize {
        self.1.len
    }

    /// The password's length and classes of characters (never the value), checked against
    /// the portal's password policy.
    pub fn shape(&self) -> PasswordShape {
        self.1
    }
}

impl fmt::Debug for PasswordDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordDigest(..)")
    }
}

/// The digest of `password` as the server stores it (it trims the password it is sent).
pub fn password_digest(password: &str) -> PasswordDigest {
    static KEY: OnceLock<[u8; 32]> = OnceLock::new();
    let key = KEY.get_or_init(|| {
        use rand::TryRngCore;
        let mut key = [0u8; 32];
        rand::rngs::OsRng
            .try_fill_bytes(&mut key)
            .unwrap_or_else(|_| {
                // No OS randomness: a key from the clock and the process id still keeps digests
                // from being comparable across runs.
                let seed = format!("{:?}{}", std::time::SystemTime::now(), std::process::id());
                key.copy_from_slice(&Sha256::digest(seed.as_bytes()));
            });
        key
    });
    let mut h = Sha256::new();
    h.update(key);
    h.update(password.trim().as_bytes());
    PasswordDigest(h.finalize().into(), PasswordShape::of(password.trim()))
}

/// A link as the portal has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedLink {
    /// The link's uuid.
    pub id: String,
    pub title: String,
    pub kind: LinkKind,
    /// The primary external link of a public or form-filling room.
    #[serde(default)]
    pub primary: bool,
    /// `None` for a value that is not a room role.
    pub access: Option<Access>,
    pub raw_access: i64,
    #[serde(default)]
    pub expires: Option<DateTime<FixedOffset>>,
    #[serde(default)]
    pub expired: bool,
    /// Signed-in users only (external links).
    #[serde(default)]
    pub internal: bool,
    #[serde(default)]
    pub deny_download: bool,
    /// Invitation links.
    #[serde(default)]
    pub max_uses: Option<i64>,
    #[serde(default)]
    pub uses: Option<i64>,
    #[serde(default)]
    pub has_password: bool,
    /// Only in memory, see the module documentation.
    #[serde(skip)]
    pub password_digest: Option<PasswordDigest>,
}

impl ObservedLink {
    /// `None` for a row that is not a link (no `sharedLink`) or has no id.
    pub fn from_dto(d: &LinkDto) -> Option<ObservedLink> {
        let s = d.shared_link.as_ref()?;
        if s.id.trim().is_empty() {
            return None;
        }
        // The row's subject type is the reliable mark (3 invitation, 1/4 external);
        // `linkType` is the fallback.
        let kind = match (d.subject_type, s.link_type) {
            (Some(3), _) => LinkKind::Invitation,
            (Some(1 | 4), _) => LinkKind::External,
            (_, Some(LINK_TYPE_EXTERNAL)) => LinkKind::External,
            _ => LinkKind::Invitation,
        };
        let digest = s
            .password
            .as_ref()
            .map(|p| password_digest(p.expose_secret()));
        Some(ObservedLink {
            id: s.id.clone(),
            title: s.title.clone().unwrap_or_default(),
            kind,
            primary: s.primary || d.subject_type == Some(4),
            access: Access::from_wire(d.access),
            raw_access: d.access,
            expires: s.expiration_date.as_deref().and_then(parse_api_date),
            expired: s.is_expired.unwrap_or(false),
            internal: s.internal.unwrap_or(false),
            deny_download: s.deny_download.unwrap_or(false),
            max_uses: s.max_use_count,
            uses: s.current_use_count,
            has_password: digest.is_some(),
            password_digest: digest,
        })
    }
}

/// A stable fingerprint of a room's live links, for saved plans: it changes when a link is
/// added, revoked or changed, or gains or loses a password. A password changed to another
/// cannot show here (digests do not outlive a run, by design); the plan's own comparison
/// covered it when the plan was made.
pub fn fingerprint(links: &[ObservedLink]) -> String {
    let mut rows: Vec<String> = links
        .iter()
        .map(|l| serde_json::to_string(l).unwrap_or_default())
        .collect();
    rows.sort();
    let mut h = Sha256::new();
    for row in rows {
        h.update(row.as_bytes());
        h.update(b"\n");
    }
    format!("{:x}", h.finalize())[..16].to_string()
}

/// The link passwords of a run: each variable a manifest link names, with the digest of its
/// value, `None` when it is unset or empty. Read once by the commands (the planner is pure
/// and sees only this map), never printed, never serialised.
pub type LinkPasswords = BTreeMap<String, Option<PasswordDigest>>;

/// Reads the password variable of every link of `desired`, keeping only digests.
pub fn read_passwords(desired: &Desired) -> LinkPasswords {
    desired
        .rooms
        .iter()
        .flat_map(|r| &r.links)
        .filter_map(|l| l.password.as_ref().and_then(DesiredPassword::env_name))
        .map(|name| (name.to_string(), env_digest(name)))
        .collect()
}

fn env_digest(name: &str) -> Option<PasswordDigest> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .map(|v| password_digest(&v))
}

/// The value of a password variable when a link is written (apply time), `None` when unset
/// or empty. Registered with [`crate::redact`] by the client before it is sent.
pub fn password_value(env_name: &str) -> Option<SecretString> {
    std::env::var(env_name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .map(SecretString::from)
}

/// A link password as a manifest names it: the environment variable, and the digest of its
/// value when the variable is set (`None`: not set, which the diff reports). Only the name is
/// serialised: a saved plan says which variable to read, never what it held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordSpec {
    pub env_name: String,
    #[serde(skip)]
    pub digest: Option<PasswordDigest>,
}

/// A link as a write sends it, whole (every write rebuilds all of the link's options, see
/// the module documentation): the manifest's values, and the live values of the fields the
/// manifest leaves out. Plans carry it; its password only as a [`PasswordSpec`] (the
/// variable's name) or as `keep_password` (send back the password the link has).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvedLink {
    pub title: String,
    pub kind: LinkKind,
    /// `none`: the manifest asks for the link to be revoked.
    pub access: Access,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<DateTime<FixedOffset>>,
    /// External links: signed-in users only.
    #[serde(default)]
    pub internal: bool,
    /// External links.
    #[serde(default)]
    pub deny_download: bool,
    /// Invitation links.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_uses: Option<i64>,
    /// External links.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<PasswordSpec>,
    /// External links: the write sends the password the link has, read from the portal
    /// when the write is made (never with `password`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub keep_password: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// What the manifest asks of a link's password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WantedPassword {
    /// `password_env`: this variable's value.
    FromEnv(PasswordSpec),
    /// `keep_password: true`: the password the link has.
    Keep,
    /// `keep_password: false`: none.
    Remove,
}

/// A manifest link as the diff wants it: a field the manifest leaves out is `None` and not
/// managed (the live value stays, as with room settings); `Some(None)` for `expires` and
/// `max_uses` asks for no expiry, no use limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WantedLink {
    pub title: String,
    pub kind: LinkKind,
    pub access: Access,
    pub expires: Option<Option<DateTime<FixedOffset>>>,
    pub internal: Option<bool>,
    pub deny_download: Option<bool>,
    pub max_uses: Option<Option<i64>>,
    pub password: Option<WantedPassword>,
}

impl WantedLink {
    /// The manifest's link, with its password variable looked up in `passwords`.
    pub fn from_manifest(link: &DesiredLink, passwords: &LinkPasswords) -> WantedLink {
        WantedLink {
            title: link.title.clone(),
            kind: link.kind,
            access: link.access,
            expires: link.expires.map(|d| d.map(|d| d.fixed_offset())),
            internal: link.internal,
            deny_download: link.deny_download,
            max_uses: link.max_uses.map(|n| n.map(i64::from)),
            password: link.password.as_ref().map(|p| match p {
                DesiredPassword::FromEnv(name) => WantedPassword::FromEnv(PasswordSpec {
                    env_name: name.clone(),
                    digest: passwords.get(name).cloned().flatten(),
                }),
                DesiredPassword::Keep => WantedPassword::Keep,
                DesiredPassword::Remove => WantedPassword::Remove,
            }),
        }
    }

    /// A link written whole, every field managed (to compare the link a write answered
    /// with against what it sent).
    pub fn whole(link: &ResolvedLink) -> WantedLink {
        WantedLink {
            title: link.title.clone(),
            kind: link.kind,
            access: link.access,
            expires: Some(link.expires),
            internal: Some(link.internal),
            deny_download: Some(link.deny_download),
            max_uses: Some(link.max_uses),
            password: Some(match (&link.password, link.keep_password) {
                (Some(spec), _) => WantedPassword::FromEnv(spec.clone()),
                (None, true) => WantedPassword::Keep,
                (None, false) => WantedPassword::Remove,
            }),
        }
    }

    /// The link to write over `live` (`None`: a new link, whose unmanaged fields take the
    /// server's defaults): the manifest's values, and `live`'s for the fields it leaves out.
    pub fn on(&self, live: Option<&ObservedLink>) -> ResolvedLink {
        let (password, keep_password) = match &self.password {
            Some(WantedPassword::FromEnv(spec)) => (Some(spec.clone()), false),
            Some(WantedPassword::Keep) => (None, true),
            Some(WantedPassword::Remove) => (None, false),
            None => (None, live.is_some_and(|l| l.has_password)),
        };
        ResolvedLink {
            title: self.title.clone(),
            kind: self.kind,
            access: self.access,
            expires: self.expires.unwrap_or_else(|| live.and_then(|l| l.expires)),
            internal: self
                .internal
                .unwrap_or_else(|| live.is_some_and(|l| l.internal)),
            deny_download: self
                .deny_download
                .unwrap_or_else(|| live.is_some_and(|l| l.deny_download)),
            max_uses: self
                .max_uses
                .unwrap_or_else(|| live.and_then(|l| l.max_uses)),
            password,
            keep_password,
        }
    }
}

/// What happens to a link's password in an update.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PasswordChange {
    Unchanged,
    /// The link has none and gets one.
    Set,
    /// The link has one and gets another.
    Change,
    /// The link has one and the manifest names none.
    Remove,
}

/// One field of a link that an update changes (values as plans show them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "field")]
pub enum FieldChange {
    Title {
        from: String,
        to: String,
    },
    Access {
        from: Option<Access>,
        to: Access,
    },
    Expires {
        from: Option<DateTime<FixedOffset>>,
        to: Option<DateTime<FixedOffset>>,
    },
    Internal {
        from: bool,
        to: bool,
    },
    DenyDownload {
        from: bool,
        to: bool,
    },
    MaxUses {
        from: Option<i64>,
        to: Option<i64>,
    },
}

impl PasswordChange {
    /// Whether the change lowers the link's protection: a removed password.
    pub fn lowers_protection(self) -> bool {
        self == PasswordChange::Remove
    }
}

/// Whether a later moment (or none) replaces `from`: the link stays usable for longer.
fn later<T: PartialOrd>(from: &Option<T>, to: &Option<T>) -> bool {
    match (from, to) {
        (Some(_), None) => true,
        (Some(from), Some(to)) => to > from,
        (None, _) => false,
    }
}

impl FieldChange {
    /// Whether the change lowers the link's protection (a security downgrade, applied only
    /// with `--allow-downgrades`): an expiry extended or removed, downloads allowed again, a
    /// use limit raised or removed, a signed-in-users-only link opened to everyone.
    pub fn lowers_protection(&self) -> bool {
        match self {
            FieldChange::Expires { from, to } => {
                later(&from.map(|d| d.timestamp()), &to.map(|d| d.timestamp()))
            }
            FieldChange::Internal { from, to } | FieldChange::DenyDownload { from, to } => {
                *from && !*to
            }
            FieldChange::MaxUses { from, to } => later(from, to),
            FieldChange::Title { .. } | FieldChange::Access { .. } => false,
        }
    }

    /// The manifest key of the field.
    pub fn name(&self) -> &'static str {
        match self {
            FieldChange::Title { .. } => "title",
            FieldChange::Access { .. } => "access",
            FieldChange::Expires { .. } => "expires",
            FieldChange::Internal { .. } => "internal",
            FieldChange::DenyDownload { .. } => "deny_download",
            FieldChange::MaxUses { .. } => "max_uses",
        }
    }
}

/// Whether an update with these changes lowers the link's protection (see
/// [`FieldChange::lowers_protection`]).
pub fn is_downgrade(changes: &[FieldChange], password: PasswordChange) -> bool {
    password.lowers_protection() || changes.iter().any(FieldChange::lowers_protection)
}

/// One write the diff plans for a room's links: the one type of a link change, from the diff
/// through the plan (a plan item holds it whole, as `Change::Link`, with the `action` names
/// `create_link`, `update_link` and `revoke_link`) to the executor and the renderers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action")]
pub enum LinkChange {
    /// A new sharing link (docs/docspace-api.md, "Sharing links"); the link is carried
    /// whole, its password only as the variable's name.
    #[serde(rename = "create_link")]
    Create { link: ResolvedLink },
    /// A link whose fields or password differ; every write sends the whole link.
    #[serde(rename = "update_link")]
    Update {
        link_id: String,
        link: ResolvedLink,
        changes: Vec<FieldChange>,
        password: PasswordChange,
        /// The change lowers the link's protection (see [`LinkChange::is_downgrade`]); shown
        /// in plans, never trusted from a file.
        #[serde(default, skip_serializing_if = "is_false")]
        downgrade: bool,
    },
    #[serde(rename = "revoke_link")]
    Revoke {
        link_id: String,
        title: String,
        kind: LinkKind,
    },
}

impl LinkChange {
    /// Whether the change lowers a link's protection: a security downgrade, which `apply`
    /// makes only with `--allow-downgrades` (see [`FieldChange::lowers_protection`]).
    /// Computed from the changes, whatever the `downgrade` field says.
    pub fn is_downgrade(&self) -> bool {
        match self {
            LinkChange::Update {
                changes,
                password,
                downgrade,
                ..
            } => *downgrade || is_downgrade(changes, *password),
            LinkChange::Create { .. } | LinkChange::Revoke { .. } => false,
        }
    }

    /// The wanted (or, for a revoke, the live) title.
    pub fn title(&self) -> &str {
        match self {
            LinkChange::Create { link } | LinkChange::Update { link, .. } => &link.title,
            LinkChange::Revoke { title, .. } => title,
        }
    }
}

/// Why a wanted link cannot be planned (for the planner to report against the manifest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkProblem {
    /// The manifest link's title, when the problem belongs to one.
    pub title: Option<String>,
    pub message: String,
    pub help: String,
}

/// A live link left alone that a reader may wonder about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "why")]
pub enum LinkNote {
    /// A primary link not in a `links_exact` manifest: the server does not let it go.
    PrimaryKept { title: String },
    /// `access: none` on a primary link: the server refuses to revoke it (public rooms) or
    /// makes a fresh one (form-filling rooms), so it is left as it is.
    PrimaryNotRevoked { title: String },
    /// A live link whose expiry has passed and whose manifest entry leaves `expires` out:
    /// any write would send the past expiry again, which the server drops on an external
    /// link (it would then never expire), so the link is left as it is.
    ExpiredLeftAlone { title: String },
    /// A manifest link whose `expires:` (`at`) has passed: nothing is written for it (a write
    /// would drop a past expiry from an external link and open it again,
    /// docs/docspace-api.md, "Sharing links"), and `links_exact` does not revoke its
    /// namesake. `live` is the portal's link of that title: `None` when there is none (it is
    /// not created), else whether the portal still honours it (its own expiry not passed).
    Expired {
        title: String,
        at: chrono::DateTime<chrono::Utc>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        live: Option<LiveExpiry>,
    },
}

/// What the portal says of a link the manifest says has expired (see [`LinkNote::Expired`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LiveExpiry {
    /// The portal's link expired too: the server no longer honours it.
    Expired,
    /// The portal's link is still open (no expiry, or a later one).
    Open,
}

/// The result of [`diff`]: the writes in a safe order (revokes, then updates, then creates:
/// a revoke frees a slot of the server's link limits) and what prevents others.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkDiff {
    pub changes: Vec<LinkChange>,
    pub problems: Vec<LinkProblem>,
    pub notes: Vec<LinkNote>,
}

/// Titles compare case-insensitively, as the manifest's duplicate check does.
fn title_key(t: &str) -> String {
    t.trim().to_lowercase()
}

/// Whether two link titles name the same link (as [`diff`] matches them).
pub fn same_title(a: &str, b: &str) -> bool {
    title_key(a) == title_key(b)
}

/// Compares the wanted links of one room with its live links. The wanted links are valid
/// for the room type (validation checked them against the `model` tables). `new_room`: the
/// room is created by this run (it has no links yet but the primary link the server gives
/// public and form-filling rooms, which apply lets a wanted link take over).
///
/// Links are matched by title (case-insensitively). A wanted invitation link with a new
/// title takes over the room's invitation link (there can be only one), and in a room whose
/// only external link is the primary one (form filling), a wanted external link takes over
/// the primary link. `access: none` revokes the namesake, if any. Live links the manifest
/// does not name are left alone unless `exact`; primary links are never revoked.
pub fn diff(
    room_type: RoomType,
    desired: &[WantedLink],
    live: &[ObservedLink],
    exact: bool,
    new_room: bool,
) -> LinkDiff {
    diff_keeping(room_type, desired, live, exact, new_room, &[])
}

/// [`diff`], leaving alone the live links titled as one of `kept` (compared as titles are):
/// neither updated nor revoked, whatever `exact` says, while they still count toward the
/// room's link limits (the manifest links whose `expires:` has passed, see
/// [`LinkNote::Expired`]).
pub fn diff_keeping(
    room_type: RoomType,
    desired: &[WantedLink],
    live: &[ObservedLink],
    exact: bool,
    new_room: bool,
    kept: &[&str],
) -> LinkDiff {
    let mut out = LinkDiff::default();
    let live_by_title = index_by_title(live);
    let mut matched: BTreeSet<usize> = kept
        .iter()
        .filter_map(|t| live_by_title.get(&title_key(t)))
        .flatten()
        .copied()
        .collect();
    let mut planned = Planned::default();
    let mut unmatched_wanted = Vec::new();

    for want in desired {
        if let Some(missing) = missing_password(want) {
            out.problems.push(missing);
            continue;
        }
        match live_by_title
            .get(&title_key(&want.title))
            .map(Vec::as_slice)
        {
            Some([one]) => {
                matched.insert(*one);
                plan_namesake(room_type, want, &live[*one], &mut planned, &mut out);
            }
            Some(several) => {
                matched.extend(several.iter().copied());
                out.problems.push(problem(
                    want,
                    format!(
                        "the room has {} links called \"{}\"",
                        several.len(),
                        want.title
                    ),
                    "links are matched by title: rename or revoke all but one in DocSpace first"
                        .into(),
                ));
            }
            None if want.access == Access::None => {}
            None => unmatched_wanted.push(want),
        }
    }

    plan_takeovers(
        room_type,
        &unmatched_wanted,
        live,
        &mut matched,
        &mut planned,
        &mut out,
    );
    if exact {
        plan_unnamed(live, &matched, &mut planned, &mut out);
    }

    let room = LimitRoom {
        room_type,
        live,
        matched: &matched,
        exact,
        new_room,
    };
    room.check(&planned.revokes, &planned.creates, &mut out.problems);
    out.changes.extend(planned.revokes);
    out.changes.extend(planned.updates);
    out.changes.extend(planned.creates);
    out
}

/// The link changes planned for one room so far, kept by kind because [`diff`] lists them
/// in this order: revokes, then updates, then creates.
#[derive(Default)]
struct Planned {
    revokes: Vec<LinkChange>,
    updates: Vec<LinkChange>,
    creates: Vec<LinkChange>,
}

/// The positions of the live links under each title key (several when titles collide).
fn index_by_title(live: &[ObservedLink]) -> BTreeMap<String, Vec<usize>> {
    let mut live_by_title: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, l) in live.iter().enumerate() {
        live_by_title
            .entry(title_key(&l.title))
            .or_default()
            .push(i);
    }
    live_by_title
}

/// The problem of a wanted link whose password variable is unset or empty, if it is one.
fn missing_password(want: &WantedLink) -> Option<LinkProblem> {
    let Some(WantedPassword::FromEnv(p)) = want.password.as_ref() else {
        return None;
    };
    if p.digest.is_some() || want.access == Access::None {
        return None;
    }
    Some(problem(
        want,
        format!("the password variable {} is not set (or empty)", p.env_name),
        format!(
            "set {} in the environment of plan and apply; the password is read from it and never written anywhere",
            p.env_name
        ),
    ))
}

/// Plans a wanted link against its one live namesake: revoke it (`access: none`), update it,
/// or replace it when the kinds differ; the primary link is never revoked or replaced.
fn plan_namesake(
    room_type: RoomType,
    want: &WantedLink,
    l: &ObservedLink,
    planned: &mut Planned,
    out: &mut LinkDiff,
) {
    if want.access == Access::None {
        if l.primary {
            out.notes.push(LinkNote::PrimaryNotRevoked {
                title: l.title.clone(),
            });
        } else {
            planned.revokes.push(revoke(l));
        }
    } else if l.kind == want.kind {
        push_update(room_type, want, l, &mut planned.updates, out);
    } else if l.primary {
        out.problems.push(problem(
            want,
            format!(
                "the room's primary link is called \"{}\" and is an external link; the server keeps it, so a {} link cannot take its title",
                l.title, want.kind
            ),
            "give the link another title".into(),
        ));
    } else {
        // The server keeps a link's kind whatever a request says: replace it.
        match create(want) {
            Ok(c) => {
                planned.revokes.push(revoke(l));
                planned.creates.push(c);
            }
            Err(p) => out.problems.push(p),
        }
    }
}

/// A wanted link without a live namesake: take over the only link of its kind where the
/// server allows no second one, else create it.
fn plan_takeovers(
    room_type: RoomType,
    unmatched_wanted: &[&WantedLink],
    live: &[ObservedLink],
    matched: &mut BTreeSet<usize>,
    planned: &mut Planned,
    out: &mut LinkDiff,
) {
    for want in unmatched_wanted.iter().copied() {
        let takeover = live.iter().enumerate().position(|(i, l)| {
            !matched.contains(&i)
                && l.kind == want.kind
                && (room_type.max_links(want.kind) == 1)
                && (want.kind == LinkKind::Invitation || l.primary)
        });
        match takeover {
            Some(i) => {
                matched.insert(i);
                push_update(room_type, want, &live[i], &mut planned.updates, out);
            }
            None => match create(want) {
                Ok(c) => planned.creates.push(c),
                Err(p) => out.problems.push(p),
            },
        }
    }
}

/// Under `exact`, revokes the live links the manifest does not name; a primary link is
/// kept, with a note.
fn plan_unnamed(
    live: &[ObservedLink],
    matched: &BTreeSet<usize>,
    planned: &mut Planned,
    out: &mut LinkDiff,
) {
    for (i, l) in live.iter().enumerate() {
        if matched.contains(&i) {
            continue;
        }
        if l.primary {
            out.notes.push(LinkNote::PrimaryKept {
                title: l.title.clone(),
            });
        } else {
            planned.revokes.push(revoke(l));
        }
    }
}

/// The create of a new link; a link that must keep a password it does not have yet cannot
/// be made.
fn create(want: &WantedLink) -> Result<LinkChange, LinkProblem> {
    if want.password == Some(WantedPassword::Keep) {
        return Err(problem(
            want,
            "`keep_password: true`, but the link is new: it has no password to keep".into(),
            "name the variable that holds the new link's password with `password_env`, or leave `keep_password` out".into(),
        ));
    }
    Ok(LinkChange::Create {
        link: want.on(None),
    })
}

fn problem(want: &WantedLink, message: String, help: String) -> LinkProblem {
    LinkProblem {
        title: Some(want.title.clone()),
        message,
        help,
    }
}

fn revoke(l: &ObservedLink) -> LinkChange {
    LinkChange::Revoke {
        link_id: l.id.clone(),
        title: l.title.clone(),
        kind: l.kind,
    }
}

/// Plans an update of `l` to `want` when anything differs.
fn push_update(
    room_type: RoomType,
    want: &WantedLink,
    l: &ObservedLink,
    updates: &mut Vec<LinkChange>,
    out: &mut LinkDiff,
) {
    if l.expired && want.expires.is_none() {
        out.notes.push(LinkNote::ExpiredLeftAlone {
            title: l.title.clone(),
        });
        return;
    }
    let link = want.on(Some(l));
    match update_fields(room_type, want, &link, l) {
        Ok((changes, password)) => {
            if !changes.is_empty() || password != PasswordChange::Unchanged {
                updates.push(LinkChange::Update {
                    link_id: l.id.clone(),
                    link,
                    downgrade: is_downgrade(&changes, password),
                    changes,
                    password,
                });
            }
        }
        Err(p) => out.problems.push(p),
    }
}

/// The field changes and the password change that turn `l` into `link` (`want` resolved on
/// `l`), or the first difference the server would not carry out.
fn update_fields(
    room_type: RoomType,
    want: &WantedLink,
    link: &ResolvedLink,
    l: &ObservedLink,
) -> Result<(Vec<FieldChange>, PasswordChange), LinkProblem> {
    let mut changes = Vec::new();
    if l.title != link.title {
        changes.push(FieldChange::Title {
            from: l.title.clone(),
            to: link.title.clone(),
        });
    }
    if l.raw_access != link.access.wire() {
        changes.push(FieldChange::Access {
            from: l.access,
            to: link.access,
        });
    }
    changes.extend(expiry_change(room_type, want, link, l)?);
    let password = match link.kind {
        LinkKind::External => external_changes(room_type, want, link, l, &mut changes)?,
        LinkKind::Invitation => {
            changes.extend(max_uses_change(want, link, l)?);
            PasswordChange::Unchanged
        }
    };
    Ok((changes, password))
}

/// The expiry change, if the expiry differs and the server would change it.
fn expiry_change(
    room_type: RoomType,
    want: &WantedLink,
    link: &ResolvedLink,
    l: &ObservedLink,
) -> Result<Option<FieldChange>, LinkProblem> {
    // Compared to the second: the server stores finer, the manifest says less.
    if l.expires.map(|d| d.timestamp()) == link.expires.map(|d| d.timestamp()) {
        return Ok(None);
    }
    if l.primary && link.expires.is_some() {
        return Err(problem(
            want,
            "the room's primary link cannot expire".into(),
            "remove `expires` from this link: DocSpace keeps the primary link of public and form-filling rooms without an expiry".into(),
        ));
    }
    // The server keeps an external link's expiry in a form-filling room as it is
    // (docs/docspace-api.md, "Sharing links"): planning it would repeat on every run.
    if room_type == RoomType::FormFilling && want.kind == LinkKind::External {
        return Err(problem(
            want,
            "the server does not change the expiry of an existing link in a form-filling room".into(),
            "write the link's current expiry, or revoke the link in DocSpace and let apply make it anew".into(),
        ));
    }
    Ok(Some(FieldChange::Expires {
        from: l.expires,
        to: link.expires,
    }))
}

/// An external link's `internal` and `deny_download` changes (added to `changes`), and
/// its password change.
fn external_changes(
    room_type: RoomType,
    want: &WantedLink,
    link: &ResolvedLink,
    l: &ObservedLink,
    changes: &mut Vec<FieldChange>,
) -> Result<PasswordChange, LinkProblem> {
    if l.internal != link.internal {
        if room_type == RoomType::Public {
            return Err(problem(
                want,
                format!(
                    "the server keeps `internal` of an existing public-room link as it is (here {})",
                    l.internal
                ),
                "write the link's current `internal`, or revoke the link in DocSpace and let apply make it anew".into(),
            ));
        }
        changes.push(FieldChange::Internal {
            from: l.internal,
            to: link.internal,
        });
    }
    if l.deny_download != link.deny_download {
        changes.push(FieldChange::DenyDownload {
            from: l.deny_download,
            to: link.deny_download,
        });
    }
    password_change(want, l)
}

/// What happens to the live link's password; a password to keep that the link does not
/// have is a problem (the tool cannot invent one).
fn password_change(want: &WantedLink, l: &ObservedLink) -> Result<PasswordChange, LinkProblem> {
    Ok(match (&want.password, l.has_password) {
        // Not managed: the password stays as it is (a write sends it back).
        (None, _) | (Some(WantedPassword::Keep), true) | (Some(WantedPassword::Remove), false) => {
            PasswordChange::Unchanged
        }
        (Some(WantedPassword::Keep), false) => {
            return Err(problem(
                want,
                "`keep_password: true`, but the link has no password on the portal".into(),
                "the tool cannot invent a password: name the variable that holds one with `password_env`, or write `keep_password: false` for a link without a password".into(),
            ));
        }
        (Some(WantedPassword::Remove), true) => PasswordChange::Remove,
        (Some(WantedPassword::FromEnv(_)), false) => PasswordChange::Set,
        (Some(WantedPassword::FromEnv(p)), true)
            if p.digest.is_some() && p.digest == l.password_digest =>
        {
            PasswordChange::Unchanged
        }
        (Some(WantedPassword::FromEnv(_)), true) => PasswordChange::Change,
    })
}

/// An invitation link's use-limit change, if it differs; a limit below the use count is
/// refused by the server.
fn max_uses_change(
    want: &WantedLink,
    link: &ResolvedLink,
    l: &ObservedLink,
) -> Result<Option<FieldChange>, LinkProblem> {
    if l.max_uses == link.max_uses {
        return Ok(None);
    }
    if let (Some(max), Some(used)) = (link.max_uses, l.uses)
        && max < used
    {
        return Err(problem(
            want,
            format!("`max_uses: {max}` is below the {used} times the link was already used"),
            format!(
                "DocSpace refuses a use limit below the use count; write `max_uses: {used}` or more, or leave it out"
            ),
        ));
    }
    Ok(Some(FieldChange::MaxUses {
        from: l.max_uses,
        to: link.max_uses,
    }))
}

/// What the link count check of one room needs to know.
struct LimitRoom<'a> {
    room_type: RoomType,
    live: &'a [ObservedLink],
    /// The live links the manifest names (by index into `live`).
    matched: &'a BTreeSet<usize>,
    exact: bool,
    new_room: bool,
}

impl LimitRoom<'_> {
    /// The server's link count limits after the planned revokes and creates, counting the
    /// live links the manifest leaves alone. [`RoomType::max_links`] counts the primary
    /// external link, which the server keeps in a slot of its own: links made through the API
    /// take the others. A room created by this run gets its primary link from the server, and
    /// one wanted external link takes it over at apply (see `apply::links`), so a new public
    /// room takes its primary link and [`crate::model::MAX_ADDITIONAL_EXTERNAL_LINKS`] more in one run.
    fn check(
        &self,
        revokes: &[LinkChange],
        creates: &[LinkChange],
        problems: &mut Vec<LinkProblem>,
    ) {
        let revoked: BTreeSet<&str> = revokes
            .iter()
            .filter_map(|c| match c {
                LinkChange::Revoke { link_id, .. } => Some(link_id.as_str()),
                LinkChange::Create { .. } | LinkChange::Update { .. } => None,
            })
            .collect();
        for kind in LinkKind::ALL {
            let created: Vec<&ResolvedLink> = creates
                .iter()
                .filter_map(|c| match c {
                    LinkChange::Create { link } if link.kind == kind => Some(link),
                    _ => None,
                })
                .collect();
            if created.is_empty() {
                continue;
            }
            if self.new_room && self.room_type.has_primary_link() && kind == LinkKind::External {
                self.check_new_room(&created, problems);
                continue;
            }
            let (mut listed, mut unlisted) = (0, 0);
            for (i, l) in self.live.iter().enumerate() {
                if l.kind == kind && !l.primary && !revoked.contains(l.id.as_str()) {
                    if self.matched.contains(&i) {
                        listed += 1;
                    } else {
                        unlisted += 1;
                    }
                }
            }
            let max = self.max_besides_primary(kind);
            let total = listed + unlisted + created.len();
            if total <= max {
                continue;
            }
            let room_type = self.room_type;
            let help = if unlisted > 0 && !self.exact {
                format!(
                    "{unlisted} {kind} links on the portal that the manifest does not list stay; set `links_exact: true` to revoke them, or revoke some in DocSpace"
                )
            } else if unlisted > 0 {
                format!(
                    "{unlisted} {kind} links on the portal stay; revoke some in DocSpace, or remove links from the manifest"
                )
            } else {
                format!(
                    "the manifest asks for {} {kind} links besides the primary link; remove {} of them, or revoke some with `access: none`",
                    listed + created.len(),
                    total - max
                )
            };
            problems.push(LinkProblem {
                title: None,
                message: format!(
                    "the room would have {total} {kind} links besides its primary link; a {room_type} room holds {max} at most"
                ),
                help,
            });
        }
    }

    /// The links of `kind` an existing room holds besides its primary link (a form-filling
    /// room without a primary link may get one).
    fn max_besides_primary(&self, kind: LinkKind) -> usize {
        let max = self.room_type.max_links(kind);
        let primary_taken = self.live.iter().any(|l| l.kind == kind && l.primary) || max != 1;
        let primary_slot = usize::from(kind == LinkKind::External && max > 0 && primary_taken);
        max - primary_slot
    }

    /// A room created by this run with a primary link: the wanted external links take its
    /// primary link and the other slots; when all are needed, one of them becomes the
    /// primary link, which cannot expire.
    fn check_new_room(&self, created: &[&ResolvedLink], problems: &mut Vec<LinkProblem>) {
        let max = self.room_type.max_links(LinkKind::External);
        let room_type = self.room_type;
        let besides = max.saturating_sub(1);
        if created.len() > max {
            problems.push(LinkProblem {
                title: None,
                message: format!(
                    "the manifest asks for {} external links; a new {room_type} room holds {max}: its primary link and {besides} more",
                    created.len()
                ),
                help: format!(
                    "remove {} of them; one of the links takes over the primary link DocSpace gives the room",
                    created.len() - max
                ),
            });
        } else if created.len() > besides && created.iter().all(|l| l.expires.is_some()) {
            problems.push(LinkProblem {
                title: None,
                message: format!(
                    "one of these {} external links becomes the new room's primary link, which cannot expire",
                    created.len()
                ),
                help: "leave `expires` out of one link (or write `expires: never`); apply makes it the primary link".into(),
            });
        }
    }
}

/// An expiry as the server wants it: ISO 8601 with offset, to the second.
fn wire_date(d: &DateTime<FixedOffset>) -> String {
    d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The request that creates `link`, under a new id chosen here (a retried create then finds
/// its own link instead of making a second one). `password` is the value of the link's
/// password variable, read by the caller at apply time.
pub fn create_request(link: &ResolvedLink, password: Option<SecretString>) -> LinkRequest {
    update_request(&uuid::Uuid::new_v4().to_string(), link, password)
}

/// The request that sets link `link_id` to `link`: the whole state, password included, since
/// the server rebuilds every option of the link on each call.
pub fn update_request(
    link_id: &str,
    link: &ResolvedLink,
    password: Option<SecretString>,
) -> LinkRequest {
    let external = link.kind == LinkKind::External;
    LinkRequest {
        link_id: link_id.to_string(),
        access: link.access.wire(),
        expiration_date: link.expires.as_ref().map(wire_date),
        internal: external && link.internal,
        title: link.title.clone(),
        link_type: link.kind.wire(),
        password: if external { password } else { None },
        deny_download: external && link.deny_download,
        max_use_count: if external { None } else { link.max_uses },
    }
}

/// The request that revokes a link (access 0).
pub fn revoke_request(link_id: &str, title: &str, kind: LinkKind) -> LinkRequest {
    LinkRequest {
        link_id: link_id.to_string(),
        access: Access::None.wire(),
        expiration_date: None,
        internal: false,
        title: title.to_string(),
        link_type: kind.wire(),
        password: None,
        deny_download: false,
        max_use_count: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn date(y: i32, m: u32, d: u32) -> DateTime<FixedOffset> {
        FixedOffset::east_opt(3600)
            .unwrap()
            .with_ymd_and_hms(y, m, d, 0, 0, 0)
            .unwrap()
    }

    /// A wanted link that manages every field (no expiry, no limit, no password).
    fn want(title: &str, kind: LinkKind, access: Access) -> WantedLink {
        WantedLink {
            title: title.into(),
            kind,
            access,
            expires: Some(None),
            internal: Some(false),
            deny_download: Some(false),
            max_uses: Some(None),
            password: Some(WantedPassword::Remove),
        }
    }

    fn live(id: &str, title: &str, kind: LinkKind, access: Access) -> ObservedLink {
        ObservedLink {
            id: id.into(),
            title: title.into(),
            kind,
            primary: false,
            access: Some(access),
            raw_access: access.wire(),
            expires: None,
            expired: false,
            internal: false,
            deny_download: false,
            max_uses: None,
            uses: None,
            has_password: false,
            password_digest: None,
        }
    }

    fn with_password(mut l: WantedLink, value: &str) -> WantedLink {
        l.password = Some(WantedPassword::FromEnv(PasswordSpec {
            env_name: "LINK_PW".into(),
            digest: Some(password_digest(value)),
        }));
        l
    }

    fn live_password(mut l: ObservedLink, value: &str) -> ObservedLink {
        l.has_password = true;
        l.password_digest = Some(password_digest(value));
        l
    }

    #[test]
    fn same_links_plan_nothing() {
        let mut w = with_password(
            want("Clients", LinkKind::External, Access::Read),
            "s3cret-pass",
        );
        w.expires = Some(Some(date(2027, 1, 31)));
        w.deny_download = Some(true);
        let mut l = live_password(
            live("l1", "Clients", LinkKind::External, Access::Read),
            "s3cret-pass",
        );
        l.expires = Some(date(2027, 1, 31).with_timezone(&Utc).fixed_offset());
        l.deny_download = true;
        let d = diff(RoomType::Custom, &[w], &[l], false, false);
        assert_eq!(d, LinkDiff::default());
    }

    #[test]
    fn new_links_are_created_and_unlisted_ones_left_alone() {
        let w = with_password(want("New", LinkKind::External, Access::Read), "pw-123456");
        let w_copy = w.clone();
        let other = live("l9", "Old", LinkKind::External, Access::Read);
        let d = diff(RoomType::Custom, &[w], &[other], false, false);
        assert_eq!(
            d.changes,
            vec![LinkChange::Create {
                link: w_copy.on(None)
            }]
        );
        assert!(d.problems.is_empty());
    }

    #[test]
    fn exact_revokes_unlisted_links_but_never_a_primary_one() {
        let mut primary = live("p", "Link to the room", LinkKind::External, Access::Read);
        primary.primary = true;
        let other = live("l9", "Old", LinkKind::External, Access::Read);
        let d = diff(RoomType::Public, &[], &[primary, other], true, false);
        assert_eq!(
            d.changes,
            vec![LinkChange::Revoke {
                link_id: "l9".into(),
                title: "Old".into(),
                kind: LinkKind::External
            }]
        );
        assert_eq!(
            d.notes,
            vec![LinkNote::PrimaryKept {
                title: "Link to the room".into()
            }]
        );
    }

    #[test]
    fn changed_fields_are_listed_and_the_password_compared() {
        let mut w = with_password(want("C", LinkKind::External, Access::Read), "new-password");
        w.internal = Some(true);
        let mut l = live_password(
            live("l1", "C", LinkKind::External, Access::Comment),
            "old-password",
        );
        l.expires = Some(date(2027, 1, 1));
        let d = diff(
            RoomType::Custom,
            std::slice::from_ref(&w),
            std::slice::from_ref(&l),
            false,
            false,
        );
        assert_eq!(
            d.changes,
            vec![LinkChange::Update {
                link_id: "l1".into(),
                link: w.on(Some(&l)),
                changes: vec![
                    FieldChange::Access {
                        from: Some(Access::Comment),
                        to: Access::Read
                    },
                    FieldChange::Expires {
                        from: Some(date(2027, 1, 1)),
                        to: None
                    },
                    FieldChange::Internal {
                        from: false,
                        to: true
                    },
                ],
                password: PasswordChange::Change,
                // The expiry is removed.
                downgrade: true,
            }]
        );
        // Only the password differs: still an update; removed when the manifest has none.
        let mut same = l.clone();
        same.raw_access = Access::Read.wire();
        same.access = Some(Access::Read);
        same.expires = None;
        same.internal = true;
        let d = diff(
            RoomType::Custom,
            &[w.clone()],
            &[same.clone()],
            false,
            false,
        );
        assert!(matches!(
            &d.changes[..],
            [LinkChange::Update { changes, password: PasswordChange::Change, .. }] if changes.is_empty()
        ));
        let mut no_pw = w.clone();
        no_pw.password = Some(WantedPassword::Remove);
        let d = diff(RoomType::Custom, &[no_pw], &[same.clone()], false, false);
        assert!(matches!(
            &d.changes[..],
            [LinkChange::Update {
                password: PasswordChange::Remove,
                ..
            }]
        ));
        let mut bare = same;
        bare.password_digest = None;
        bare.has_password = false;
        let d = diff(RoomType::Custom, &[w], &[bare], false, false);
        assert!(matches!(
            &d.changes[..],
            [LinkChange::Update {
                password: PasswordChange::Set,
                ..
            }]
        ));
    }

    #[test]
    fn the_invitation_link_is_taken_over_under_a_new_title() {
        let mut w = want("Join us", LinkKind::Invitation, Access::Editing);
        w.max_uses = Some(Some(20));
        let w_copy = w.clone();
        let l = live("inv", "Invitation link", LinkKind::Invitation, Access::Read);
        let d = diff(
            RoomType::Collaboration,
            &[w],
            std::slice::from_ref(&l),
            false,
            false,
        );
        assert_eq!(
            d.changes,
            vec![LinkChange::Update {
                link_id: "inv".into(),
                link: w_copy.on(Some(&l)),
                changes: vec![
                    FieldChange::Title {
                        from: "Invitation link".into(),
                        to: "Join us".into()
                    },
                    FieldChange::Access {
                        from: Some(Access::Read),
                        to: Access::Editing
                    },
                    FieldChange::MaxUses {
                        from: None,
                        to: Some(20)
                    },
                ],
                password: PasswordChange::Unchanged,
                downgrade: false,
            }]
        );
    }

    #[test]
    fn the_primary_link_of_a_form_filling_room_is_updated_not_duplicated() {
        let w = want("Fill it", LinkKind::External, Access::FillForms);
        let mut p = live("p", "Fill out", LinkKind::External, Access::FillForms);
        p.primary = true;
        let d = diff(RoomType::FormFilling, &[w], &[p], true, false);
        assert!(matches!(
            &d.changes[..],
            [LinkChange::Update { link_id, .. }] if link_id == "p"
        ));
        assert!(d.problems.is_empty(), "{:?}", d.problems);
    }

    #[test]
    fn portal_rules_become_problems() {
        let mut unset = want("Unset", LinkKind::External, Access::Read);
        unset.password = Some(WantedPassword::FromEnv(PasswordSpec {
            env_name: "NOT_SET_PW".into(),
            digest: None,
        }));
        let d = diff(RoomType::Custom, &[unset], &[], false, false);
        assert!(d.changes.is_empty(), "{:?}", d.changes);
        assert!(d.problems[0].message.contains("NOT_SET_PW is not set"));

        // A use limit below the live use count.
        let mut w = want("Join", LinkKind::Invitation, Access::Read);
        w.max_uses = Some(Some(2));
        let mut l = live("i", "Join", LinkKind::Invitation, Access::Read);
        l.uses = Some(3);
        let d = diff(RoomType::Custom, &[w], &[l], false, false);
        assert!(d.problems[0].message.contains("below the 3 times"), "{d:?}");

        // The primary link cannot expire, and keeps its title's kind.
        let mut p = live("p", "Open", LinkKind::External, Access::Read);
        p.primary = true;
        let mut w = want("Open", LinkKind::External, Access::Read);
        w.expires = Some(Some(date(2027, 1, 31)));
        let d = diff(
            RoomType::Public,
            &[w],
            std::slice::from_ref(&p),
            false,
            false,
        );
        assert!(d.problems[0].message.contains("cannot expire"), "{d:?}");
        let w = want("Open", LinkKind::Invitation, Access::Read);
        let d = diff(
            RoomType::Public,
            &[w],
            std::slice::from_ref(&p),
            false,
            false,
        );
        assert!(d.problems[0].message.contains("primary link"), "{d:?}");

        // A second invitation link is a takeover of the live one, not a second link.
        let w = want("New invite", LinkKind::Invitation, Access::Read);
        let l = live("i", "Old invite", LinkKind::Invitation, Access::Read);
        let d = diff(RoomType::Custom, &[w], &[l], false, false);
        assert!(matches!(&d.changes[..], [LinkChange::Update { link_id, .. }] if link_id == "i"));
    }

    #[test]
    fn options_the_server_keeps_on_existing_links_are_problems_not_endless_updates() {
        // A form-filling room's link keeps its expiry (FileSecurity: no EditExpiration there).
        let mut p = live("p", "Fill", LinkKind::External, Access::FillForms);
        p.primary = true;
        let mut w = want("Fill", LinkKind::External, Access::FillForms);
        w.expires = Some(Some(date(2027, 1, 31)));
        let d = diff(RoomType::FormFilling, &[w], &[p], false, false);
        assert!(d.changes.is_empty());
        assert!(
            d.problems[0].message.contains("primary link cannot expire"),
            "{d:?}"
        );
        let l = live("l", "Extra", LinkKind::External, Access::FillForms);
        let mut w = want("Extra", LinkKind::External, Access::FillForms);
        w.expires = Some(Some(date(2027, 1, 31)));
        let d = diff(RoomType::FormFilling, &[w], &[l], false, false);
        assert!(d.problems[0].message.contains("form-filling room"), "{d:?}");
        // A public room's link keeps `internal` (no EditInternal there); a new one takes it.
        let l = live("l", "Press", LinkKind::External, Access::Read);
        let mut w = want("Press", LinkKind::External, Access::Read);
        w.internal = Some(true);
        let d = diff(
            RoomType::Public,
            std::slice::from_ref(&w),
            &[l],
            false,
            false,
        );
        assert!(d.changes.is_empty());
        assert!(d.problems[0].message.contains("`internal`"), "{d:?}");
        let d = diff(RoomType::Public, &[w.clone()], &[], false, false);
        assert_eq!(d.changes, vec![LinkChange::Create { link: w.on(None) }]);
    }

    #[test]
    fn access_none_revokes_the_namesake_but_never_a_primary_link() {
        let w = want("old", LinkKind::External, Access::None);
        let l = live("l1", "Old", LinkKind::External, Access::Read);
        let d = diff(
            RoomType::Custom,
            std::slice::from_ref(&w),
            &[l],
            false,
            false,
        );
        assert_eq!(
            d.changes,
            vec![LinkChange::Revoke {
                link_id: "l1".into(),
                title: "Old".into(),
                kind: LinkKind::External
            }]
        );
        // Nothing to revoke: nothing planned.
        assert_eq!(
            diff(
                RoomType::Custom,
                std::slice::from_ref(&w),
                &[],
                false,
                false
            ),
            LinkDiff::default()
        );
        let mut p = live("p", "Old", LinkKind::External, Access::Read);
        p.primary = true;
        let d = diff(RoomType::Public, &[w], &[p], false, false);
        assert!(d.changes.is_empty());
        assert_eq!(
            d.notes,
            vec![LinkNote::PrimaryNotRevoked {
                title: "Old".into()
            }]
        );
    }

    #[test]
    fn the_external_link_limit_counts_links_left_alone() {
        let live: Vec<ObservedLink> = (0..5)
            .map(|i| {
                live(
                    &format!("l{i}"),
                    &format!("Old {i}"),
                    LinkKind::External,
                    Access::Read,
                )
            })
            .collect();
        let w = want("Sixth", LinkKind::External, Access::Read);
        let d = diff(
            RoomType::Custom,
            std::slice::from_ref(&w),
            &live,
            false,
            false,
        );
        assert!(
            d.problems[0].message.contains("holds 5 at most"),
            "{:?}",
            d.problems
        );
        // With links_exact the old ones go first, which makes room.
        let d = diff(RoomType::Custom, &[w], &live, true, false);
        assert!(d.problems.is_empty());
        assert_eq!(d.changes.len(), 6);
        assert!(matches!(d.changes[0], LinkChange::Revoke { .. }));
        assert!(matches!(d.changes[5], LinkChange::Create { .. }));
    }

    #[test]
    fn a_kind_change_replaces_the_link_and_duplicate_live_titles_are_refused() {
        let w = want("Same", LinkKind::Invitation, Access::Read);
        let l = live("e", "Same", LinkKind::External, Access::Read);
        let d = diff(
            RoomType::Custom,
            std::slice::from_ref(&w),
            std::slice::from_ref(&l),
            false,
            false,
        );
        assert!(matches!(
            &d.changes[..],
            [LinkChange::Revoke { .. }, LinkChange::Create { .. }]
        ));
        let mut l2 = l.clone();
        l2.id = "e2".into();
        let d = diff(RoomType::Custom, &[w], &[l, l2], false, false);
        assert!(d.changes.is_empty());
        assert!(d.problems[0].message.contains("2 links called"));
    }

    #[test]
    fn requests_carry_the_whole_link_and_never_show_the_password() {
        let mut w = want("C", LinkKind::External, Access::Read);
        w.expires = Some(Some(date(2027, 1, 31)));
        w.deny_download = Some(true);
        let req = update_request(
            "id-1",
            &w.on(None),
            Some(SecretString::from("pw-visible-only-here")),
        );
        let debug = format!("{req:?}");
        assert!(!debug.contains("pw-visible-only-here"), "{debug}");
        assert_eq!(
            serde_json::to_value(&req).unwrap(),
            serde_json::json!({"linkId": "id-1", "access": 2,
                "expirationDate": "2027-01-31T00:00:00+01:00", "internal": false, "title": "C",
                "linkType": 1, "password": "pw-visible-only-here", "denyDownload": true})
        );
        let mut inv = want("I", LinkKind::Invitation, Access::Read);
        inv.max_uses = Some(Some(3));
        let req = create_request(
            &inv.on(None),
            Some(SecretString::from("ignored-for-invites")),
        );
        let body = serde_json::to_value(&req).unwrap();
        assert_eq!(body["linkType"], 0);
        assert_eq!(body["maxUseCount"], 3);
        assert!(body.get("password").is_none());
        assert!(uuid::Uuid::parse_str(body["linkId"].as_str().unwrap()).is_ok());
        let body = serde_json::to_value(revoke_request("x", "I", LinkKind::Invitation)).unwrap();
        assert_eq!(body["access"], 0);
    }

    #[test]
    fn fingerprints_ignore_order_and_see_every_change() {
        let a = live("a", "A", LinkKind::External, Access::Read);
        let b = live("b", "B", LinkKind::Invitation, Access::Read);
        let base = fingerprint(&[a.clone(), b.clone()]);
        assert_eq!(base, fingerprint(&[b.clone(), a.clone()]));
        let mut pw = a.clone();
        pw.has_password = true;
        assert_ne!(base, fingerprint(&[pw, b.clone()]));
        let mut later = a;
        later.expires = Some(date(2027, 1, 1));
        assert_ne!(base, fingerprint(&[later, b.clone()]));
        assert_ne!(base, fingerprint(&[b]));
    }

    /// A wanted link that manages only its title, kind and access.
    fn bare(title: &str, kind: LinkKind, access: Access) -> WantedLink {
        WantedLink {
            expires: None,
            internal: None,
            deny_download: None,
            max_uses: None,
            password: None,
            ..want(title, kind, access)
        }
    }

    #[test]
    fn fields_left_out_are_not_managed_and_an_update_sends_them_back() {
        let mut l = live_password(
            live("l1", "C", LinkKind::External, Access::Read),
            "old-password",
        );
        l.expires = Some(date(2027, 1, 1));
        l.internal = true;
        l.deny_download = true;
        let w = bare("C", LinkKind::External, Access::Read);
        let d = diff(
            RoomType::Custom,
            &[w],
            std::slice::from_ref(&l),
            false,
            false,
        );
        assert_eq!(d, LinkDiff::default());
        let mut inv = live("i", "Join", LinkKind::Invitation, Access::Read);
        inv.max_uses = Some(5);
        inv.expires = Some(date(2027, 1, 1));
        let w = bare("Join", LinkKind::Invitation, Access::Read);
        let d = diff(
            RoomType::Custom,
            &[w],
            std::slice::from_ref(&inv),
            false,
            false,
        );
        assert_eq!(d, LinkDiff::default());
        // Another change writes the whole link: the live values, the password kept.
        let w = bare("C", LinkKind::External, Access::Comment);
        let d = diff(
            RoomType::Custom,
            &[w],
            std::slice::from_ref(&l),
            false,
            false,
        );
        let [
            LinkChange::Update {
                link,
                changes,
                password,
                ..
            },
        ] = &d.changes[..]
        else {
            panic!("{d:?}");
        };
        assert_eq!(changes.len(), 1);
        assert_eq!(*password, PasswordChange::Unchanged);
        assert!(link.keep_password && link.password.is_none());
        assert_eq!(
            (link.expires, link.internal, link.deny_download),
            (l.expires, true, true)
        );
        assert!(!is_downgrade(changes, *password));
    }

    #[test]
    fn every_lowered_protection_is_a_downgrade_and_raised_ones_are_not() {
        let mut l = live_password(
            live("l1", "C", LinkKind::External, Access::Read),
            "old-password",
        );
        l.expires = Some(date(2027, 1, 1));
        l.internal = true;
        l.deny_download = true;
        let update = |w: WantedLink, l: &ObservedLink| {
            let d = diff(
                RoomType::Custom,
                &[w],
                std::slice::from_ref(l),
                false,
                false,
            );
            match &d.changes[..] {
                [
                    LinkChange::Update {
                        changes, password, ..
                    },
                ] => is_downgrade(changes, *password),
                _ => panic!("{d:?}"),
            }
        };
        let mut w = bare("C", LinkKind::External, Access::Read);
        w.password = Some(WantedPassword::Remove);
        assert!(update(w, &l), "password removed");
        let mut w = bare("C", LinkKind::External, Access::Read);
        w.expires = Some(None);
        assert!(update(w, &l), "expiry removed");
        let mut w = bare("C", LinkKind::External, Access::Read);
        w.expires = Some(Some(date(2027, 6, 1)));
        assert!(update(w, &l), "expiry extended");
        let mut w = bare("C", LinkKind::External, Access::Read);
        w.expires = Some(Some(date(2026, 12, 1)));
        assert!(!update(w, &l), "expiry shortened");
        let mut w = bare("C", LinkKind::External, Access::Read);
        w.deny_download = Some(false);
        assert!(update(w, &l), "download allowed");
        let mut w = bare("C", LinkKind::External, Access::Read);
        w.internal = Some(false);
        assert!(update(w, &l), "made public");
        let mut w = bare("C", LinkKind::External, Access::Read);
        w.password = Some(WantedPassword::FromEnv(PasswordSpec {
            env_name: "PW".into(),
            digest: Some(password_digest("another-pw")),
        }));
        assert!(!update(w, &l), "password changed");
        let mut inv = live("i", "Join", LinkKind::Invitation, Access::Read);
        inv.max_uses = Some(5);
        let mut w = bare("Join", LinkKind::Invitation, Access::Read);
        w.max_uses = Some(Some(10));
        assert!(update(w, &inv), "use limit raised");
        let mut w = bare("Join", LinkKind::Invitation, Access::Read);
        w.max_uses = Some(None);
        assert!(update(w, &inv), "use limit removed");
        let mut w = bare("Join", LinkKind::Invitation, Access::Read);
        w.max_uses = Some(Some(4));
        assert!(!update(w, &inv), "use limit lowered");
    }

    #[test]
    fn an_expired_link_is_left_alone_unless_the_manifest_writes_its_expiry() {
        let mut l = live("l1", "C", LinkKind::External, Access::Read);
        l.expires = Some(date(2020, 1, 1));
        l.expired = true;
        // Another change would send the past expiry again, which the server drops.
        let w = bare("C", LinkKind::External, Access::Comment);
        let d = diff(
            RoomType::Custom,
            &[w],
            std::slice::from_ref(&l),
            false,
            false,
        );
        assert!(d.changes.is_empty(), "{d:?}");
        assert_eq!(
            d.notes,
            vec![LinkNote::ExpiredLeftAlone { title: "C".into() }]
        );
        // A new expiry renews it: a downgrade.
        let mut w = bare("C", LinkKind::External, Access::Read);
        w.expires = Some(Some(date(2027, 1, 1)));
        let d = diff(RoomType::Custom, &[w], &[l], false, false);
        assert!(matches!(&d.changes[..], [c] if c.is_downgrade()), "{d:?}");
    }

    #[test]
    fn a_password_to_keep_must_exist() {
        let l = live("l1", "C", LinkKind::External, Access::Read);
        let mut w = bare("C", LinkKind::External, Access::Read);
        w.password = Some(WantedPassword::Keep);
        let d = diff(
            RoomType::Custom,
            std::slice::from_ref(&w),
            &[l],
            false,
            false,
        );
        assert!(d.changes.is_empty());
        assert!(d.problems[0].message.contains("has no password"), "{d:?}");
        let d = diff(RoomType::Custom, &[w], &[], false, false);
        assert!(d.problems[0].message.contains("the link is new"), "{d:?}");
        let kept = live_password(
            live("l1", "C", LinkKind::External, Access::Read),
            "pw-1234567",
        );
        let mut w = bare("C", LinkKind::External, Access::Read);
        w.password = Some(WantedPassword::Keep);
        assert_eq!(
            diff(RoomType::Custom, &[w], &[kept], false, false),
            LinkDiff::default()
        );
    }

    #[test]
    fn a_new_public_room_takes_its_primary_link_and_five_more() {
        let links = |n: usize| -> Vec<WantedLink> {
            (0..n)
                .map(|i| bare(&format!("L{i}"), LinkKind::External, Access::Read))
                .collect()
        };
        let max = RoomType::Public.max_links(LinkKind::External);
        let d = diff(RoomType::Public, &links(max), &[], true, true);
        assert!(d.problems.is_empty(), "{:?}", d.problems);
        let d = diff(RoomType::Public, &links(max + 1), &[], true, true);
        assert!(
            d.problems[0].message.contains("a new public room holds 6"),
            "{d:?}"
        );
        assert!(!d.problems[0].help.contains("links_exact"), "{d:?}");
        // All six expire: none can be the primary link.
        let mut all: Vec<WantedLink> = links(max);
        for w in &mut all {
            w.expires = Some(Some(date(2027, 1, 1)));
        }
        let d = diff(RoomType::Public, &all, &[], true, true);
        assert!(d.problems[0].message.contains("cannot expire"), "{d:?}");
        // An existing room: the manifest's own links over the limit say so, not links_exact.
        let mut p = live("p", "Shared link", LinkKind::External, Access::Read);
        p.primary = true;
        let d = diff(RoomType::Public, &links(max), &[p], true, false);
        assert!(
            d.problems[0].help.contains("the manifest asks for 6"),
            "{d:?}"
        );
    }

    #[test]
    fn digests_match_equal_passwords_and_do_not_serialise() {
        assert_eq!(password_digest(" abc12345 "), password_digest("abc12345"));
        assert_ne!(password_digest("abc12345"), password_digest("abc12346"));
        let spec = PasswordSpec {
            env_name: "PW".into(),
            digest: Some(password_digest("abc12345")),
        };
        let text = serde_json::to_string(&spec).unwrap();
        assert_eq!(text, r#"{"env_name":"PW"}"#);
        assert_eq!(format!("{:?}", spec.digest), "Some(PasswordDigest(..))");
    }
}
