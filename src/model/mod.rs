//! The span-free domain vocabulary shared by every stage of the pipeline: room types, access
//! levels, user types, and the server's rules that connect them.
//!
//! Everything here mirrors docs/docspace-api.md, "Enums" and
//! docs/docspace-api.md, "Roles per room type" (which access values each room type and each
//! kind of subject accepts). The wire always carries integers;
//! names exist only for people (manifests, plans, reports).

pub mod effective;
pub mod pattern;
pub mod policy;
pub mod scopes;
pub mod template;

use std::fmt;

use serde::{Deserialize, Serialize};

/// A DocSpace room type (`roomType` on the wire, docs/docspace-api.md, "Enums").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RoomType {
    /// 1, "Form filling room".
    FormFilling,
    /// 2, "Collaboration room" (`EditingRoom`).
    Collaboration,
    /// 5, "Custom room".
    Custom,
    /// 6, "Public room".
    Public,
    /// 8, "Virtual data room".
    VirtualDataRoom,
    /// 9, "AI room". Seen on live portals; not manageable from a manifest.
    Ai,
}

impl RoomType {
    /// Every type a manifest may name, in documentation order.
    pub const MANIFEST: [RoomType; 5] = [
        RoomType::Collaboration,
        RoomType::FormFilling,
        RoomType::Custom,
        RoomType::Public,
        RoomType::VirtualDataRoom,
    ];

    /// The integer the server uses.
    pub fn wire(self) -> i64 {
        match self {
            RoomType::FormFilling => 1,
            RoomType::Collaboration => 2,
            RoomType::Custom => 5,
            RoomType::Public => 6,
            RoomType::VirtualDataRoom => 8,
            RoomType::Ai => 9,
        }
    }

    /// The type for a wire integer, if it is one the tool knows.
    pub fn from_wire(value: i64) -> Option<RoomType> {
        Some(match value {
            1 => RoomType::FormFilling,
            2 => RoomType::Collaboration,
            5 => RoomType::Custom,
            6 => RoomType::Public,
            8 => RoomType::VirtualDataRoom,
            9 => RoomType::Ai,
            _ => return None,
        })
    }

    /// The manifest (kebab-case) name.
    pub fn name(self) -> &'static str {
        match self {
            RoomType::FormFilling => "form-filling",
            RoomType::Collaboration => "collaboration",
            RoomType::Custom => "custom",
            RoomType::Public => "public",
            RoomType::VirtualDataRoom => "virtual-data-room",
            RoomType::Ai => "ai",
        }
    }

    /// DocSpace's own enum member name.
    pub fn docspace_name(self) -> &'static str {
        match self {
            RoomType::FormFilling => "FillingFormsRoom",
            RoomType::Collaboration => "EditingRoom",
            RoomType::Custom => "CustomRoom",
            RoomType::Public => "PublicRoom",
            RoomType::VirtualDataRoom => "VirtualDataRoom",
            RoomType::Ai => "AiRoom",
        }
    }

    /// Parses a manifest spelling: the kebab-case name or DocSpace's own name, any case.
    /// AI rooms are not accepted: they live under AI agents and the tool does not manage them.
    pub fn parse_manifest(text: &str) -> Option<RoomType> {
        let key = normalise_name(text);
        RoomType::MANIFEST.into_iter().find(|t| {
            matches_name(&key, t.name())
                || matches_name(&key, t.docspace_name())
                || t.aliases().iter().any(|a| matches_name(&key, a))
        })
    }

    /// Extra spellings people use (UI names).
    fn aliases(self) -> &'static [&'static str] {
        match self {
            RoomType::FormFilling => &["form-filling-room", "filling-forms", "forms"],
            RoomType::Collaboration => &["collaboration-room", "editing"],
            RoomType::Custom => &["custom-room"],
            RoomType::Public => &["public-room"],
            RoomType::VirtualDataRoom => &["vdr"],
            RoomType::Ai => &[],
        }
    }

    /// Access levels a *user* may hold in a room of this type
    /// (docs/docspace-api.md, "Roles per room type", check 1).
    pub fn user_roles(self) -> &'static [Access] {
        use Access::*;
        match self {
            RoomType::FormFilling => &[RoomManager, ContentCreator, FillForms, None],
            RoomType::Collaboration => &[RoomManager, ContentCreator, Editing, Read, None],
            RoomType::Custom => &[
                RoomManager,
                ContentCreator,
                Editing,
                Review,
                Comment,
                Read,
                None,
            ],
            RoomType::Public => &[RoomManager, ContentCreator, None],
            RoomType::VirtualDataRoom => {
                &[RoomManager, ContentCreator, Editing, Read, FillForms, None]
            }
            RoomType::Ai => &[RoomManager, ContentCreator, Read, None],
        }
    }

    /// Access levels a *group* may hold: the user table without `RoomManager`.
    pub fn group_roles(self) -> Vec<Access> {
        self.user_roles()
            .iter()
            .copied()
            .filter(|a| *a != Access::RoomManager)
            .collect()
    }

    /// Whether `access` is allowed for this room type and kind of subject.
    pub fn allows(self, access: Access, subject: SubjectKind) -> bool {
        match subject {
            SubjectKind::User => self.user_roles().contains(&access),
            SubjectKind::Group => {
                access != Access::RoomManager && self.user_roles().contains(&access)
            }
        }
    }
}

/// The use limit (`maxUseCount`) an invitation link may have (docs/docspace-api.md,
/// "Sharing links").
pub const LINK_USES_RANGE: std::ops::RangeInclusive<u32> = 1..=1000;
/// How far ahead a link's expiry may be, in years (`FilesLinkUtility.MaxLinkLifeTimeInYears`,
/// docs/docspace-api.md, "Sharing links").
pub const LINK_MAX_YEARS: u32 = 10;
/// The shortest link password a portal takes unless its policy says otherwise
/// (`PasswordSettings.GetDefault`), and the longest any portal takes
/// (`PasswordSettingsManager.MaxLength`) (docs/docspace-api.md, "Portal link policies").
pub const LINK_PASSWORD_DEFAULT_MIN: usize = 8;
pub const LINK_PASSWORD_MAX: usize = 30;

/// The symbols a portal running with `web:password:ascii:cut` takes in passwords, as its
/// special characters too (`PasswordSettingsManager.AllowedCharactersRegexStr` and
/// `SpecSymbolsRegexStr` when not `PrintableASCII`: space and `'-/=[\]`|` left out).
pub const PASSWORD_CUT_SYMBOLS: &str = "!\"#$%&()*+,.:;<>?@^_{}~";
/// `AllowedCharactersRegexStr` of such a portal, as `GET /settings/security/password` says it.
pub const PASSWORD_CUT_ALPHABET_REGEX: &str = "[0-9a-zA-Z!\"#$%&()*+,.:;<>?@^_{}~]";

/// The portal policies a plan checks links and covers against (docs/docspace-api.md,
/// "Portal link policies"), read once per run by the planner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalPolicy {
    /// External links in rooms are restricted by an admin: the server refuses them in public
    /// rooms and makes them internal elsewhere.
    pub links_restricted: bool,
    /// The policy's shortest link password.
    pub password_min: usize,
    /// The policy asks for a capital letter, a digit, a special character (`upperCase`,
    /// `digits`, `specSymbols`), which the server applies to link passwords too.
    pub password_upper: bool,
    pub password_digits: bool,
    pub password_special: bool,
    /// The portal runs with `web:password:ascii:cut`: passwords take only letters, digits
    /// and [`PASSWORD_CUT_SYMBOLS`] (read from `allowedCharactersRegexStr`).
    pub password_ascii_cut: bool,
    /// The covers rooms may use; `None` when not read (no room sets `cover`, or the key could
    /// not read the list).
    pub covers: Option<std::collections::BTreeSet<String>>,
}

impl Default for PortalPolicy {
    /// The server's defaults: no restriction, passwords of 8 to 30 characters.
    fn default() -> PortalPolicy {
        PortalPolicy {
            links_restricted: false,
            password_min: LINK_PASSWORD_DEFAULT_MIN,
            password_upper: false,
            password_digits: false,
            password_special: false,
            password_ascii_cut: false,
            covers: None,
        }
    }
}

/// What the plan may know of a link password: its length and which classes of characters
/// it has, computed where the environment variable is read; never the value
/// (docs/docspace-api.md, "Portal link policies"). The classes are the server's
/// (`PasswordSettingsManager`, with the default printable-ASCII alphabet): digits `\d`,
/// capitals `[A-Z]`, special characters `[\x21-\x2F\x3A-\x40\x5B-\x60\x7B-\x7E]`, and
/// every character printable ASCII without space (`[\x21-\x7E]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PasswordShape {
    /// UTF-16 units, as .NET counts.
    pub len: usize,
    pub has_upper: bool,
    pub has_digit: bool,
    pub has_special: bool,
    /// Only printable ASCII without space.
    pub printable_ascii: bool,
    /// Only letters, digits and [`PASSWORD_CUT_SYMBOLS`] (a portal with
    /// `web:password:ascii:cut`), and whether it has one of those symbols.
    pub cut_alphabet: bool,
    pub has_cut_symbol: bool,
}

impl PasswordShape {
    /// The shape of `password` (as the server checks it, already trimmed by the caller).
    pub fn of(password: &str) -> PasswordShape {
        let special = |b: u8| matches!(b, 0x21..=0x2F | 0x3A..=0x40 | 0x5B..=0x60 | 0x7B..=0x7E);
        let cut = |c: char| PASSWORD_CUT_SYMBOLS.contains(c);
        PasswordShape {
            len: password.encode_utf16().count(),
            has_upper: password.bytes().any(|b| b.is_ascii_uppercase()),
            has_digit: password.bytes().any(|b| b.is_ascii_digit()),
            has_special: password.bytes().any(special),
            printable_ascii: password.bytes().all(|b| (0x21..=0x7E).contains(&b)),
            cut_alphabet: password
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || cut(c)),
            has_cut_symbol: password.chars().any(cut),
        }
    }

    /// The rules of `policy` this password breaks, in words (`CheckPassword`: the policy's
    /// regular expression and the length range), empty when the server would take it.
    pub fn breaks(&self, policy: &PortalPolicy) -> Vec<String> {
        let min = policy.password_min;
        let mut out = Vec::new();
        if self.len < min || self.len > LINK_PASSWORD_MAX {
            out.push(format!(
                "{min} to {LINK_PASSWORD_MAX} characters (it has {})",
                self.len
            ));
        }
        let (alphabet, special) = if policy.password_ascii_cut {
            (self.cut_alphabet, self.has_cut_symbol)
        } else {
            (self.printable_ascii, self.has_special)
        };
        if !alphabet && policy.password_ascii_cut {
            out.push(format!(
                "only latin letters, digits and the symbols {PASSWORD_CUT_SYMBOLS}, no spaces"
            ));
        } else if !alphabet {
            out.push("only latin letters, digits and symbols, no spaces".into());
        }
        let classes = [
            (policy.password_upper, self.has_upper, "a capital letter"),
            (policy.password_digits, self.has_digit, "a digit"),
            (
                policy.password_special,
                special,
                "a special character such as ! # - _",
            ),
        ];
        for (asked, has, what) in classes {
            if asked && !has {
                out.push(what.to_string());
            }
        }
        out
    }
}

impl RoomType {
    // Room settings and sharing links per room type. The server keeps these tables in
    // `FileSecurity.AvailableRoomAccesses` (link access per subject type) and
    // `_linkCountRoomSettingsAccesses` (link counts); see docs/docspace-api.md, "Sharing links"
    // and docs/docspace-api.md, "Room settings".

    /// The kinds of sharing link a room of this type takes: every room takes the one
    /// invitation link; only custom, public and form-filling rooms take external links
    /// (docs/docspace-api.md, "Sharing links").
    pub fn link_kinds(self) -> &'static [LinkKind] {
        match self {
            RoomType::Custom | RoomType::Public | RoomType::FormFilling => {
                &[LinkKind::External, LinkKind::Invitation]
            }
            RoomType::Collaboration | RoomType::VirtualDataRoom | RoomType::Ai => {
                &[LinkKind::Invitation]
            }
        }
    }

    /// Whether this room type takes links of `kind`.
    pub fn takes_link(self, kind: LinkKind) -> bool {
        self.link_kinds().contains(&kind)
    }

    /// The access levels a link of `kind` may grant in a room of this type, `none` (revoke)
    /// excluded; empty when the type takes no such link (docs/docspace-api.md, "Sharing links").
    /// External links carry file access (viewing, editing, ...), never a member role;
    /// invitation links grant the member roles of the room except room-manager.
    pub fn link_roles(self, kind: LinkKind) -> &'static [Access] {
        use Access::*;
        match (kind, self) {
            (LinkKind::External, RoomType::Custom | RoomType::Public) => {
                &[Editing, Review, Comment, FillForms, Read]
            }
            (LinkKind::External, RoomType::FormFilling) => &[FillForms, Read],
            (LinkKind::External, _) => &[],
            (LinkKind::Invitation, RoomType::Custom) => {
                &[ContentCreator, Editing, Review, Comment, Read]
            }
            (LinkKind::Invitation, RoomType::Public) => &[ContentCreator, Read],
            (LinkKind::Invitation, RoomType::FormFilling) => &[ContentCreator, FillForms],
            (LinkKind::Invitation, RoomType::Collaboration) => &[ContentCreator, Editing, Read],
            (LinkKind::Invitation, RoomType::VirtualDataRoom) => {
                &[ContentCreator, Editing, Read, FillForms]
            }
            (LinkKind::Invitation, RoomType::Ai) => &[ContentCreator, Read],
        }
    }

    /// The most links of `kind` a room of this type holds: one invitation link; external
    /// links are the primary one plus 5 additional ones in custom and public rooms, and the
    /// primary one only in form-filling rooms (docs/docspace-api.md, "Sharing links").
    pub fn max_links(self, kind: LinkKind) -> usize {
        match (kind, self) {
            (LinkKind::Invitation, _) => MAX_INVITATION_LINKS,
            (LinkKind::External, RoomType::Custom | RoomType::Public) => {
                1 + MAX_ADDITIONAL_EXTERNAL_LINKS
            }
            (LinkKind::External, RoomType::FormFilling) => 1,
            (LinkKind::External, _) => 0,
        }
    }

    /// Whether the room keeps a primary external link the server recreates when it is
    /// revoked, and which never expires: public and form-filling rooms
    /// (docs/docspace-api.md, "Sharing links").
    pub fn has_primary_link(self) -> bool {
        matches!(self, RoomType::Public | RoomType::FormFilling)
    }

    /// Whether `indexing` means anything for this type. The server stores the flag for any
    /// room but numbers files only in virtual data rooms, and the web client offers it there
    /// only (docs/docspace-api.md, "Room settings").
    pub fn takes_indexing(self) -> bool {
        self == RoomType::VirtualDataRoom
    }

    /// Whether the automatic file lifetime applies: virtual data rooms only, as `indexing`
    /// (docs/docspace-api.md, "Room settings").
    pub fn takes_lifetime(self) -> bool {
        self == RoomType::VirtualDataRoom
    }

    /// Whether watermarks apply: virtual data rooms only, as `indexing`
    /// (docs/docspace-api.md, "Room settings").
    pub fn takes_watermark(self) -> bool {
        self == RoomType::VirtualDataRoom
    }

    /// The room types that take a setting, for help lines.
    pub fn names_where(test: impl Fn(RoomType) -> bool) -> String {
        RoomType::MANIFEST
            .into_iter()
            .filter(|t| test(*t))
            .map(RoomType::name)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The kind of a room sharing link (`linkType` on the wire, docs/docspace-api.md, "Sharing links").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkKind {
    /// A link that opens the room to people without an account (public, custom and
    /// form-filling rooms).
    External,
    /// The link that makes whoever follows it a member of the room.
    Invitation,
}

impl LinkKind {
    pub const ALL: [LinkKind; 2] = [LinkKind::External, LinkKind::Invitation];

    /// The integer the server uses for `linkType`.
    pub fn wire(self) -> i64 {
        match self {
            LinkKind::Invitation => 0,
            LinkKind::External => 1,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            LinkKind::External => "external",
            LinkKind::Invitation => "invitation",
        }
    }

    pub fn parse_manifest(text: &str) -> Option<LinkKind> {
        let key = normalise_name(text);
        LinkKind::ALL
            .into_iter()
            .find(|k| matches_name(&key, k.name()))
    }
}

impl fmt::Display for LinkKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The unit of a room's file lifetime (`RoomDataLifetimePeriod`, docs/docspace-api.md, "Enums").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LifetimePeriod {
    Days,
    Months,
    Years,
}

impl LifetimePeriod {
    pub const ALL: [LifetimePeriod; 3] = [
        LifetimePeriod::Days,
        LifetimePeriod::Months,
        LifetimePeriod::Years,
    ];

    /// The integer the server uses (0 Day, 1 Month, 2 Year).
    pub fn wire(self) -> i64 {
        match self {
            LifetimePeriod::Days => 0,
            LifetimePeriod::Months => 1,
            LifetimePeriod::Years => 2,
        }
    }

    pub fn from_wire(value: i64) -> Option<LifetimePeriod> {
        LifetimePeriod::ALL.into_iter().find(|p| p.wire() == value)
    }

    pub fn name(self) -> &'static str {
        match self {
            LifetimePeriod::Days => "days",
            LifetimePeriod::Months => "months",
            LifetimePeriod::Years => "years",
        }
    }

    /// `days`, `day`, `Day` (DocSpace's own name), any case.
    pub fn parse_manifest(text: &str) -> Option<LifetimePeriod> {
        let key = normalise_name(text);
        LifetimePeriod::ALL.into_iter().find(|p| {
            matches_name(&key, p.name()) || matches_name(&key, p.name().trim_end_matches('s'))
        })
    }
}

impl fmt::Display for LifetimePeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Information a watermark adds to its text (`WatermarkAdditions`, a set of bit flags on the
/// wire, docs/docspace-api.md, "Room settings").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WatermarkAddition {
    UserName,
    UserEmail,
    UserIp,
    CurrentDate,
    RoomName,
}

impl WatermarkAddition {
    pub const ALL: [WatermarkAddition; 5] = [
        WatermarkAddition::UserName,
        WatermarkAddition::UserEmail,
        WatermarkAddition::UserIp,
        WatermarkAddition::CurrentDate,
        WatermarkAddition::RoomName,
    ];

    /// The flag's bit on the wire.
    pub fn wire(self) -> i64 {
        match self {
            WatermarkAddition::UserName => 1,
            WatermarkAddition::UserEmail => 2,
            WatermarkAddition::UserIp => 4,
            WatermarkAddition::CurrentDate => 8,
            WatermarkAddition::RoomName => 16,
        }
    }

    /// The flags set in a wire value, in documentation order.
    pub fn from_wire(flags: i64) -> Vec<WatermarkAddition> {
        WatermarkAddition::ALL
            .into_iter()
            .filter(|a| flags & a.wire() != 0)
            .collect()
    }

    /// The manifest (snake_case) name.
    pub fn name(self) -> &'static str {
        match self {
            WatermarkAddition::UserName => "user_name",
            WatermarkAddition::UserEmail => "user_email",
            WatermarkAddition::UserIp => "user_ip",
            WatermarkAddition::CurrentDate => "current_date",
            WatermarkAddition::RoomName => "room_name",
        }
    }

    /// The manifest name, or DocSpace's own (`UserIpAdress`, sic), any case.
    pub fn parse_manifest(text: &str) -> Option<WatermarkAddition> {
        let key = normalise_name(text);
        WatermarkAddition::ALL.into_iter().find(|a| {
            matches_name(&key, a.name())
                || (*a == WatermarkAddition::UserIp
                    && (matches_name(&key, "UserIpAdress") || matches_name(&key, "UserIpAddress")))
        })
    }
}

impl fmt::Display for WatermarkAddition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The server's bounds of [`Lifetime::value`] (`RoomDataLifetimeDto`: `Range(1, 999)`).
pub const LIFETIME_VALUE_RANGE: std::ops::RangeInclusive<u16> = 1..=999;

/// A room's automatic file lifetime (`lifetime:`, virtual data rooms): the same value for the
/// manifest, the portal's room and the plan (docs/docspace-api.md, "Room settings").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lifetime {
    /// 1 to 999 `period`s (see [`LIFETIME_VALUE_RANGE`]).
    pub value: u16,
    pub period: LifetimePeriod,
    /// Delete old files for good instead of moving them to the trash.
    pub delete_permanently: bool,
}

/// A room's text watermark (`watermark:`, virtual data rooms; docs/docspace-api.md, "Room
/// settings"). Image watermarks are not managed by the tool and have no value here.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Watermark {
    /// The text shown, up to 255 characters; `None` for additions only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Information added to the text. A set: the wire is a set of bit flags, so the order
    /// written in a manifest carries no meaning and must not make a difference.
    #[serde(default)]
    pub additions: std::collections::BTreeSet<WatermarkAddition>,
    /// The angle in degrees (0 horizontal, -45 diagonal as the web client offers).
    #[serde(default)]
    pub rotation: i32,
}

impl fmt::Display for RoomType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether a share subject is a user (by id or email) or a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SubjectKind {
    User,
    Group,
}

/// A member access level (`FileShare`, docs/docspace-api.md, "Enums"). Only the values valid for
/// room members exist here; `ReadWrite`, `Restrict`, `Varies` and `CustomFilter` are refused at
/// parse time (the synthetic owner row's `1` is modelled as the owner, not as an access).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Access {
    /// 0: no access; sending it removes the member.
    None,
    /// 2: viewer.
    Read,
    /// 5
    Review,
    /// 6
    Comment,
    /// 7
    FillForms,
    /// 9 (was `RoomAdmin` before v3.0).
    RoomManager,
    /// 10
    Editing,
    /// 11 (was `Collaborator`, briefly `PowerUser`).
    ContentCreator,
}

/// Why a spelling of an access level was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessParseError {
    /// A real `FileShare` value that rooms never accept; the payload is a hint.
    NotARoomRole { hint: &'static str },
    /// Not a known name at all.
    Unknown,
}

impl Access {
    /// All member access levels, most powerful first (used for help texts and schemas).
    pub const ALL: [Access; 8] = [
        Access::RoomManager,
        Access::ContentCreator,
        Access::Editing,
        Access::Review,
        Access::Comment,
        Access::FillForms,
        Access::Read,
        Access::None,
    ];

    /// The integer the server uses. Always send this, never a name (docs/docspace-api.md, "Access as integers").
    pub fn wire(self) -> i64 {
        match self {
            Access::None => 0,
            Access::Read => 2,
            Access::Review => 5,
            Access::Comment => 6,
            Access::FillForms => 7,
            Access::RoomManager => 9,
            Access::Editing => 10,
            Access::ContentCreator => 11,
        }
    }

    /// The access for a wire integer, when it is a member role.
    pub fn from_wire(value: i64) -> Option<Access> {
        Some(match value {
            0 => Access::None,
            2 => Access::Read,
            5 => Access::Review,
            6 => Access::Comment,
            7 => Access::FillForms,
            9 => Access::RoomManager,
            10 => Access::Editing,
            11 => Access::ContentCreator,
            _ => return None,
        })
    }

    /// The manifest (kebab-case) name.
    pub fn name(self) -> &'static str {
        match self {
            Access::None => "none",
            Access::Read => "read",
            Access::Review => "review",
            Access::Comment => "comment",
            Access::FillForms => "fill-forms",
            Access::RoomManager => "room-manager",
            Access::Editing => "editing",
            Access::ContentCreator => "content-creator",
        }
    }

    /// DocSpace's current enum member name.
    pub fn docspace_name(self) -> &'static str {
        match self {
            Access::None => "None",
            Access::Read => "Read",
            Access::Review => "Review",
            Access::Comment => "Comment",
            Access::FillForms => "FillForms",
            Access::RoomManager => "RoomManager",
            Access::Editing => "Editing",
            Access::ContentCreator => "ContentCreator",
        }
    }

    /// Older names the server used before the 2024 renames (docs/docspace-api.md, "Enums").
    fn legacy_names(self) -> &'static [&'static str] {
        match self {
            Access::RoomManager => &["RoomAdmin"],
            Access::ContentCreator => &["Collaborator", "PowerUser"],
            _ => &[],
        }
    }

    /// Parses a manifest spelling: kebab-case, DocSpace names and legacy names, any case.
    pub fn parse_manifest(text: &str) -> Result<Access, AccessParseError> {
        let key = normalise_name(text);
        if let Some(found) = Access::ALL.into_iter().find(|a| {
            matches_name(&key, a.name())
                || matches_name(&key, a.docspace_name())
                || a.legacy_names().iter().any(|l| matches_name(&key, l))
        }) {
            return Ok(found);
        }
        let hint = match key.as_str() {
            "readwrite" | "fullaccess" => {
                "`ReadWrite` is not a room role; use `editing` for people who edit documents"
            }
            "restrict" | "deny" => {
                "`Restrict` is not valid in rooms; use `none` to ensure a person has no access"
            }
            "varies" | "customfilter" => {
                "this value is display-only and cannot be granted in a room"
            }
            _ => return Err(AccessParseError::Unknown),
        };
        Err(AccessParseError::NotARoomRole { hint })
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The portal-wide type of a user account (docs/docspace-api.md, "People and groups lookup").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UserType {
    DocSpaceAdmin,
    RoomAdmin,
    User,
    Guest,
}

impl UserType {
    /// Whether a user of this type may be given `access` at all
    /// (docs/docspace-api.md, "Roles per room type", check 2).
    /// Only DocSpace admins and room admins can be room managers.
    pub fn allows(self, access: Access) -> bool {
        match self {
            UserType::DocSpaceAdmin | UserType::RoomAdmin => true,
            UserType::User | UserType::Guest => access != Access::RoomManager,
        }
    }
}

/// Lower-cases and strips `-`, `_` and spaces so `room-manager`, `RoomManager` and
/// `ROOM_MANAGER` compare equal.
fn normalise_name(text: &str) -> String {
    normalised_chars(text).collect()
}

fn normalised_chars(text: &str) -> impl Iterator<Item = char> + '_ {
    text.chars()
        .filter(|c| !matches!(c, '-' | '_' | ' '))
        .flat_map(char::to_lowercase)
}

/// `key == normalise_name(known)` for an already normalised `key`, without allocating:
/// parsing runs once per invitee, so a String per candidate name was most of `validate`.
fn matches_name(key: &str, known: &str) -> bool {
    if known.is_ascii() {
        // The same comparison byte-wise: for ASCII, `char::to_lowercase` is the ASCII one.
        key.bytes().eq(known
            .bytes()
            .filter(|b| !matches!(b, b'-' | b'_' | b' '))
            .map(|b| b.to_ascii_lowercase()))
    } else {
        key.chars().eq(normalised_chars(known))
    }
}

/// Characters the server replaces with `_` when it stores a room title (docs/docspace-api.md, "Room titles").
pub const TITLE_REPLACED_CHARS: [char; 11] =
    ['\t', '*', '+', ':', '"', '<', '>', '?', '|', '\\', '/'];

/// The longest room title the server accepts.
pub const TITLE_MAX_CHARS: usize = 170;

/// The longest watermark text the server accepts (`StringLength(255)`, docs/docspace-api.md,
/// "Room settings").
pub const WATERMARK_TEXT_MAX_CHARS: usize = 255;
/// The longest cover id (docs/docspace-api.md, "Room settings").
pub const COVER_MAX_CHARS: usize = 50;
/// The longest link title the server accepts (`StringLength(255)`, docs/docspace-api.md,
/// "Sharing links").
pub const LINK_TITLE_MAX_CHARS: usize = 255;
/// The longest email the share call accepts (docs/docspace-api.md, "The share call").
pub const EMAIL_MAX_CHARS: usize = 255;
/// The longest tag name the server accepts (docs/docspace-api.md, "Tags").
pub const TAG_MAX_CHARS: usize = 255;

/// A string's length as the server's length limits count it: .NET strings are UTF-16, so a
/// character outside the Basic Multilingual Plane (an emoji) counts twice.
pub fn server_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// The title as the server will store it: trimmed, then `\t * + : " < > ? | \ /` and every
/// UTF-16 surrogate code unit replaced by `_` (docs/docspace-api.md, "Room titles").
///
/// The server's pattern is a .NET regex (`Global.cs` `InvalidTitleChars`,
/// `[\t*\+:"<>?\|\\/\p{Cs}]`), and .NET strings are UTF-16: a character outside the Basic
/// Multilingual Plane (an emoji such as 🚀) is a surrogate *pair*, so it becomes `__`. Rooms
/// are matched by this form so that a manifest title with a `:` or an emoji finds its room.
pub fn sanitize_title(title: &str) -> String {
    let mut out = String::with_capacity(title.len());
    for c in title.trim().chars() {
        if TITLE_REPLACED_CHARS.contains(&c) {
            out.push('_');
        } else if c.len_utf16() == 2 {
            // One underscore per surrogate code unit.
            out.push_str("__");
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether a live room's title is the manifest room's `stored` title (already in the stored
/// form, see [`sanitize_title`]). The live title is sanitised too before comparing: a portal
/// that stored an emoji unchanged (a rule we read in the source but could not watch on a live
/// server) still matches, instead of getting a duplicate room on every run.
pub fn title_matches(live: &str, stored: &str) -> bool {
    live == stored || sanitize_title(live) == stored
}

/// Whether two tag sets are the same on the portal: tag names compare case-insensitively
/// there (docs/docspace-api.md, "Tags"), so `Acme` asked for where `acme` exists is `acme`.
pub fn tags_match<'a>(
    a: impl IntoIterator<Item = &'a String>,
    b: impl IntoIterator<Item = &'a String>,
) -> bool {
    let fold = |set: &mut dyn Iterator<Item = &'a String>| -> std::collections::BTreeSet<String> {
        set.map(|t| t.to_lowercase()).collect()
    };
    fold(&mut a.into_iter()) == fold(&mut b.into_iter())
}

/// The canonical form of an email for comparisons: trimmed and lower-cased.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Invitation links a room holds: one, whatever its type (`FileSharing.MaxInvitationLinks`,
/// docs/docspace-api.md, "Sharing links").
pub const MAX_INVITATION_LINKS: usize = 1;

/// External links a custom or public room holds besides its primary link
/// (docs/docspace-api.md, "Sharing links"). Links made through the API take these slots; see
/// [`RoomType::max_links`], which counts the primary link too.
pub const MAX_ADDITIONAL_EXTERNAL_LINKS: usize = 5;

/// Why a `password_env` name is refused (see [`check_password_env_name`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordEnvProblem {
    /// Not `[A-Za-z_][A-Za-z0-9_]*`: most likely the password itself, so never echoed.
    NotAName,
    /// A variable this tool reads itself (every `DOCSPACE_*`, the API key among them).
    ToolSetting,
    /// A credential a CI system (or cloud) hands to each job.
    CiCredential,
    /// A variable the system sets, which holds no secret (`PATH`, `HOME`).
    NotASecret,
}

impl PasswordEnvProblem {
    /// The message, naming the variable except when it is not a name (it may be the password).
    pub fn message(self, name: &str) -> String {
        match self {
            PasswordEnvProblem::NotAName => "`password_env` looks like a value, not a variable name (it is not shown, in case it is the password)".to_string(),
            PasswordEnvProblem::ToolSetting => format!("`password_env: {name}` names a variable this tool reads itself"),
            PasswordEnvProblem::CiCredential => format!("`password_env: {name}` names a credential of the CI system"),
            PasswordEnvProblem::NotASecret => format!("`password_env: {name}` names a variable the system sets, which is no password"),
        }
    }

    /// What to write instead.
    pub fn help(self) -> &'static str {
        match self {
            PasswordEnvProblem::NotAName => {
                "write the variable's name: letters, digits and `_`, not starting with a digit, as in `password_env: SALES_LINK_PASSWORD`; the password goes in the variable, never in the manifest"
            }
            PasswordEnvProblem::ToolSetting => {
                "every room manager can read a link's password in clear text, and DOCSPACE_* variables are this tool's settings (DOCSPACE_API_KEY opens the portal): give the link a password of its own, in a variable of its own, as in `password_env: SALES_LINK_PASSWORD`"
            }
            PasswordEnvProblem::CiCredential => {
                "every room manager can read a link's password in clear text, and this token opens the CI system or the repository: give the link a password of its own, in a variable of its own, as in `password_env: SALES_LINK_PASSWORD`"
            }
            PasswordEnvProblem::NotASecret => {
                "name a variable that holds the link's password, as in `password_env: SALES_LINK_PASSWORD`"
            }
        }
    }
}

/// Variables a CI system (or a cloud) hands to its jobs as credentials, compared ignoring
/// ASCII case. A link password is readable in clear text by every room manager, so one of
/// these as a password would give the credential away.
pub const CI_CREDENTIAL_VARIABLES: &[&str] = &[
    "GITLAB_TOKEN",
    "CI_JOB_TOKEN",
    "CI_JOB_JWT",
    "CI_JOB_JWT_V1",
    "CI_JOB_JWT_V2",
    "CI_REGISTRY_PASSWORD",
    "CI_DEPLOY_PASSWORD",
    "CI_DEPENDENCY_PROXY_PASSWORD",
    "CI_REPOSITORY_URL",
    "GH_TOKEN",
    "GH_ENTERPRISE_TOKEN",
    "SYSTEM_ACCESSTOKEN",
    "BUILDKITE_AGENT_ACCESS_TOKEN",
    "BUILDKITE_AGENT_TOKEN",
    "CIRCLE_TOKEN",
    "CIRCLE_OIDC_TOKEN",
    "CIRCLE_OIDC_TOKEN_V2",
    "BITBUCKET_STEP_OIDC_TOKEN",
    "DRONE_NETRC_PASSWORD",
    "GITEA_TOKEN",
    "FORGEJO_TOKEN",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
];

/// Prefixes of variables that belong to the CI platform: GitHub reserves `GITHUB_` (with
/// `GITHUB_TOKEN`) and sets `ACTIONS_` (with `ACTIONS_RUNTIME_TOKEN` and
/// `ACTIONS_ID_TOKEN_REQUEST_TOKEN`) for its runners.
pub const CI_CREDENTIAL_PREFIXES: &[&str] = &["GITHUB_", "ACTIONS_"];

/// The prefix of every variable this tool reads (`DOCSPACE_API_KEY`, `DOCSPACE_URL`...).
pub const TOOL_VARIABLE_PREFIX: &str = "DOCSPACE_";

/// Variables shells and systems set, which hold no secret, compared ignoring ASCII case.
pub const NOT_SECRET_VARIABLES: &[&str] = &[
    "PATH",
    "HOME",
    "PWD",
    "OLDPWD",
    "USER",
    "USERNAME",
    "LOGNAME",
    "SHELL",
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "TERM",
    "TMPDIR",
    "TEMP",
    "TMP",
    "HOSTNAME",
    "MAIL",
    "EDITOR",
    "VISUAL",
    "PAGER",
    "DISPLAY",
    "SHLVL",
    "IFS",
    "PS1",
    "TZ",
    "CI",
    "USERPROFILE",
    "HOMEPATH",
    "COMSPEC",
    "SYSTEMROOT",
    "WINDIR",
];

/// An environment variable name as shells write them: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Whether `name` may hold a link's password (`password_env`): a variable name, and not one
/// of the tool's own settings, a CI credential or a system variable. The one rule for every
/// place that reads a `password_env` (the manifest, saved plans).
pub fn check_password_env_name(name: &str) -> Result<(), PasswordEnvProblem> {
    if !is_env_name(name) {
        return Err(PasswordEnvProblem::NotAName);
    }
    let upper = name.to_ascii_uppercase();
    if upper.starts_with(TOOL_VARIABLE_PREFIX) {
        Err(PasswordEnvProblem::ToolSetting)
    } else if CI_CREDENTIAL_VARIABLES.contains(&upper.as_str())
        || CI_CREDENTIAL_PREFIXES.iter().any(|p| upper.starts_with(p))
    {
        Err(PasswordEnvProblem::CiCredential)
    } else if NOT_SECRET_VARIABLES.contains(&upper.as_str()) {
        Err(PasswordEnvProblem::NotASecret)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_shape_names_each_rule_of_the_policy_it_breaks() {
        let strict = PortalPolicy {
            password_min: 10,
            password_upper: true,
            password_digits: true,
            password_special: true,
            ..PortalPolicy::default()
        };
        let plain = PasswordShape::of("abcdefgh");
        assert_eq!(
            plain.breaks(&strict),
            vec![
                "10 to 30 characters (it has 8)",
                "a capital letter",
                "a digit",
                "a special character such as ! # - _",
            ]
        );
        assert!(plain.breaks(&PortalPolicy::default()).is_empty());
        assert!(PasswordShape::of("Abcdefgh1~").breaks(&strict).is_empty());
        // The server's special characters are every printable ASCII symbol, `[`..`` ` ``
        // and `{`..`~` included; a space or a non-ASCII letter is refused by any policy.
        assert!(PasswordShape::of("`").has_special && PasswordShape::of("{").has_special);
        assert!(!PasswordShape::of("a").has_special && !PasswordShape::of("9").has_special);
        assert_eq!(
            PasswordShape::of("abcd efgh").breaks(&PortalPolicy::default()),
            vec!["only latin letters, digits and symbols, no spaces"]
        );
        assert!(!PasswordShape::of("abcdéfgh").printable_ascii);
        // A portal with `web:password:ascii:cut` takes fewer symbols: `-` is neither
        // allowed nor special there, `!` is both.
        let cut = PortalPolicy {
            password_special: true,
            password_ascii_cut: true,
            ..PortalPolicy::default()
        };
        assert_eq!(
            PasswordShape::of("abcd-efgh").breaks(&cut),
            vec![
                "only latin letters, digits and the symbols !\"#$%&()*+,.:;<>?@^_{}~, no spaces"
                    .to_string(),
                "a special character such as ! # - _".to_string(),
            ]
        );
        assert!(PasswordShape::of("abcd!efgh").breaks(&cut).is_empty());
        assert!(
            PasswordShape::of("abcd-efgh")
                .breaks(&PortalPolicy {
                    password_special: true,
                    ..PortalPolicy::default()
                })
                .is_empty()
        );
        assert_eq!(
            PasswordShape::of(&"a".repeat(31))
                .breaks(&PortalPolicy::default())
                .len(),
            1
        );
    }

    #[test]
    fn password_env_names() {
        use PasswordEnvProblem::*;
        assert_eq!(check_password_env_name("SALES_LINK_PASSWORD"), Ok(()));
        assert_eq!(check_password_env_name("_x1"), Ok(()));
        assert_eq!(check_password_env_name("1X"), Err(NotAName));
        assert_eq!(check_password_env_name(""), Err(NotAName));
        assert_eq!(check_password_env_name("A-B"), Err(NotAName));
        assert_eq!(check_password_env_name("hunter 2"), Err(NotAName));
        assert_eq!(check_password_env_name("S3cr3tValue!"), Err(NotAName));
        assert_eq!(
            check_password_env_name("DOCSPACE_API_KEY"),
            Err(ToolSetting)
        );
        assert_eq!(check_password_env_name("docspace_url"), Err(ToolSetting));
        for ci in [
            "GITHUB_TOKEN",
            "GITLAB_TOKEN",
            "CI_JOB_TOKEN",
            "ACTIONS_RUNTIME_TOKEN",
        ] {
            assert_eq!(check_password_env_name(ci), Err(CiCredential), "{ci}");
        }
        for ci in [
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            "CI_REGISTRY_PASSWORD",
            "SYSTEM_ACCESSTOKEN",
            "BUILDKITE_AGENT_ACCESS_TOKEN",
            "CIRCLE_TOKEN",
        ] {
            assert_eq!(check_password_env_name(ci), Err(CiCredential), "{ci}");
        }
        for plain in [
            "PATH", "HOME", "PWD", "USER", "SHELL", "LANG", "TERM", "TMPDIR",
        ] {
            assert_eq!(check_password_env_name(plain), Err(NotASecret), "{plain}");
        }
        for plain in ["HOSTNAME", "OLDPWD", "LOGNAME", "path"] {
            assert_eq!(check_password_env_name(plain), Err(NotASecret), "{plain}");
        }
        // The message never echoes what is not a name.
        assert!(!NotAName.message("hunter 2").contains("hunter"));
        assert!(
            ToolSetting
                .message("DOCSPACE_API_KEY")
                .contains("DOCSPACE_API_KEY")
        );
    }

    #[test]
    fn link_counts_come_from_the_named_limits() {
        assert_eq!(
            RoomType::Public.max_links(LinkKind::External),
            1 + MAX_ADDITIONAL_EXTERNAL_LINKS
        );
        assert_eq!(
            RoomType::Custom.max_links(LinkKind::Invitation),
            MAX_INVITATION_LINKS
        );
    }

    #[test]
    fn link_tables_follow_the_server() {
        use LinkKind::*;
        // External links: public, custom and form-filling rooms only.
        for t in RoomType::MANIFEST {
            assert!(t.takes_link(Invitation), "{t}");
            assert_eq!(t.max_links(Invitation), 1);
            assert_eq!(
                t.takes_link(External),
                matches!(
                    t,
                    RoomType::Public | RoomType::Custom | RoomType::FormFilling
                ),
                "{t}"
            );
            assert_eq!(t.link_roles(External).is_empty(), !t.takes_link(External));
            // Links never make room managers, and `none` is handled as a revoke.
            for kind in LinkKind::ALL {
                assert!(!t.link_roles(kind).contains(&Access::RoomManager));
                assert!(!t.link_roles(kind).contains(&Access::None));
            }
            // An invitation link grants member roles the room takes, except in public rooms,
            // where the server's table lets it grant `read` that members cannot hold.
            for a in t.link_roles(Invitation) {
                assert!(
                    t.allows(*a, SubjectKind::User)
                        || (t == RoomType::Public && *a == Access::Read),
                    "{t} {a}"
                );
            }
        }
        assert_eq!(RoomType::Custom.max_links(External), 6);
        assert_eq!(RoomType::FormFilling.max_links(External), 1);
        assert_eq!(
            RoomType::FormFilling.link_roles(External),
            &[Access::FillForms, Access::Read]
        );
        assert_eq!(
            RoomType::Public.link_roles(Invitation),
            &[Access::ContentCreator, Access::Read]
        );
        assert!(RoomType::Public.has_primary_link());
        assert!(!RoomType::Custom.has_primary_link());
    }

    #[test]
    fn vdr_only_settings() {
        for t in RoomType::MANIFEST {
            let vdr = t == RoomType::VirtualDataRoom;
            assert_eq!(t.takes_indexing(), vdr);
            assert_eq!(t.takes_lifetime(), vdr);
            assert_eq!(t.takes_watermark(), vdr);
        }
        assert_eq!(
            RoomType::names_where(RoomType::takes_indexing),
            "virtual-data-room"
        );
    }

    #[test]
    fn new_enums_parse_and_map_to_the_wire() {
        assert_eq!(
            LinkKind::parse_manifest("External"),
            Some(LinkKind::External)
        );
        assert_eq!(LinkKind::parse_manifest("public"), None);
        assert_eq!(
            (LinkKind::Invitation.wire(), LinkKind::External.wire()),
            (0, 1)
        );
        assert_eq!(
            LifetimePeriod::parse_manifest("day"),
            Some(LifetimePeriod::Days)
        );
        assert_eq!(
            LifetimePeriod::parse_manifest("Years"),
            Some(LifetimePeriod::Years)
        );
        assert_eq!(LifetimePeriod::parse_manifest("weeks"), None);
        for p in LifetimePeriod::ALL {
            assert_eq!(LifetimePeriod::from_wire(p.wire()), Some(p));
        }
        assert_eq!(
            WatermarkAddition::parse_manifest("UserIpAdress"),
            Some(WatermarkAddition::UserIp)
        );
        let all: i64 = WatermarkAddition::ALL.iter().map(|a| a.wire()).sum();
        assert_eq!(all, 31);
        assert_eq!(
            WatermarkAddition::from_wire(all),
            WatermarkAddition::ALL.to_vec()
        );
        assert_eq!(
            WatermarkAddition::from_wire(2 | 16),
            vec![WatermarkAddition::UserEmail, WatermarkAddition::RoomName]
        );
    }

    #[test]
    fn access_names_round_trip_and_legacy_names_parse() {
        for a in Access::ALL {
            assert_eq!(Access::parse_manifest(a.name()), Ok(a));
            assert_eq!(Access::parse_manifest(a.docspace_name()), Ok(a));
            assert_eq!(Access::from_wire(a.wire()), Some(a));
        }
        assert_eq!(Access::parse_manifest("RoomAdmin"), Ok(Access::RoomManager));
        assert_eq!(Access::parse_manifest("roomadmin"), Ok(Access::RoomManager));
        assert_eq!(
            Access::parse_manifest("COLLABORATOR"),
            Ok(Access::ContentCreator)
        );
        assert!(matches!(
            Access::parse_manifest("ReadWrite"),
            Err(AccessParseError::NotARoomRole { .. })
        ));
        assert_eq!(
            Access::parse_manifest("owner"),
            Err(AccessParseError::Unknown)
        );
    }

    #[test]
    fn role_tables_match_the_server() {
        use Access::*;
        assert!(RoomType::Collaboration.allows(Editing, SubjectKind::User));
        assert!(!RoomType::Collaboration.allows(Review, SubjectKind::User));
        assert!(!RoomType::Collaboration.allows(RoomManager, SubjectKind::Group));
        assert!(RoomType::FormFilling.allows(FillForms, SubjectKind::Group));
        assert!(!RoomType::Public.allows(Read, SubjectKind::User));
        assert!(RoomType::VirtualDataRoom.allows(FillForms, SubjectKind::User));
        assert_eq!(RoomType::Custom.group_roles().len(), 6);
    }

    #[test]
    fn titles_are_sanitised_like_the_server() {
        assert_eq!(sanitize_title("  a:b/c*d  "), "a_b_c_d");
        assert_eq!(sanitize_title("Plain"), "Plain");
        // Outside the BMP: a surrogate pair, two underscores.
        assert_eq!(sanitize_title("🚀 Launch"), "__ Launch");
        assert_eq!(sanitize_title("Café 東京"), "Café 東京");
        assert_eq!(sanitize_title("𠀀x"), "__x");
        assert!(title_matches("__ Launch", &sanitize_title("🚀 Launch")));
        assert!(title_matches("🚀 Launch", &sanitize_title("🚀 Launch")));
        assert!(!title_matches("Launch", &sanitize_title("🚀 Launch")));
    }
}

// Groups and people as code (docs/docspace-api.md, "Groups and people"). The rules the
// manifest, the planner, the executor and rendering share, each once.

/// The longest group name the server accepts (`GroupRequestDto.GroupName`,
/// `StringLength(128, MinimumLength = 1)`).
pub const GROUP_NAME_MAX_CHARS: usize = 128;

/// The largest `people_from` CSV file read (bytes): a list of a group's people, not a dump.
pub const PEOPLE_FROM_MAX_BYTES: u64 = 1024 * 1024;

/// The most rows a `people_from` CSV file may hold.
pub const PEOPLE_FROM_MAX_ROWS: usize = 10_000;

/// The most invitations one `POST /people/invite` carries: the server refuses a request
/// beyond the portal's invitation limit as a whole (`MaxEmailInvitationsAttribute`), and the
/// route is rate-limited per day (`RateLimiterPolicy.EmailInvitationApi`), so a plan with
/// more is refused rather than split into calls a limit could cut half-way.
pub const INVITE_BATCH_MAX: usize = 100;

/// The server's route that changes a user type downward (a background job that hands the
/// person's rooms and files to someone else): the tool never calls it, and a downgrade in a
/// manifest is a plan error that names it.
pub const TYPE_DOWNGRADE_ROUTE: &str = "POST /api/2.0/people/type";

impl UserType {
    /// Every type, highest first.
    pub const ALL: [UserType; 4] = [
        UserType::DocSpaceAdmin,
        UserType::RoomAdmin,
        UserType::User,
        UserType::Guest,
    ];

    /// The manifest's spelling (`people: [{type: ...}]`), exactly these.
    pub fn name(self) -> &'static str {
        match self {
            UserType::DocSpaceAdmin => "docspace-admin",
            UserType::RoomAdmin => "room-admin",
            UserType::User => "user",
            UserType::Guest => "guest",
        }
    }

    /// The type of a manifest spelling; only the exact spellings of [`UserType::name`].
    pub fn from_name(name: &str) -> Option<UserType> {
        UserType::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The server's `EmployeeType` number (`RoomAdmin = 1, Guest = 2, DocSpaceAdmin = 3,
    /// User = 4`), as the invite body and the `PUT /people/type/{type}` route take it.
    pub fn wire(self) -> i64 {
        match self {
            UserType::RoomAdmin => 1,
            UserType::Guest => 2,
            UserType::DocSpaceAdmin => 3,
            UserType::User => 4,
        }
    }

    /// The server's order of types (`EmployeeTypeComparer`): higher is more rights.
    pub fn rank(self) -> u8 {
        match self {
            UserType::DocSpaceAdmin => 4,
            UserType::RoomAdmin => 3,
            UserType::User => 2,
            UserType::Guest => 1,
        }
    }

    /// Whether an account of this type takes a paid seat (`CountPaidUserFeature`, "manager":
    /// DocSpace admins and room admins).
    pub fn takes_paid_seat(self) -> bool {
        matches!(self, UserType::DocSpaceAdmin | UserType::RoomAdmin)
    }

    /// Whether an account of this type may be a group member: the server skips guests
    /// (`GroupsController.ValidateUserAsync`; a create with a guest fails whole).
    pub fn may_be_group_member(self) -> bool {
        self != UserType::Guest
    }
}

/// Why the server would refuse to give a person a type, as far as the plan can see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TypeRefusal {
    /// A lower type than the person has: `PUT /people/type/{type}` refuses it, and the tool
    /// never calls [`TYPE_DOWNGRADE_ROUTE`].
    Downgrade,
    /// The portal owner's type is never changed.
    Owner,
    /// A key's user cannot change their own type.
    OwnAccount,
    /// Only the portal owner can make DocSpace admins.
    AdminNeedsOwner,
    /// Only DocSpace admins can make room admins.
    RoomAdminNeedsAdmin,
    /// Users and guests may not invite or change types.
    CallerCannot,
    /// `POST /people/invite` refuses the guest type: guests are made by a room invitation.
    GuestNotByInvite,
}

/// Who is asking, as the type rules need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    pub user_type: UserType,
    pub owner: bool,
}

impl Caller {
    /// Whether the caller may create, rename or change the members of groups: the group
    /// routes demand `Action_EditGroups` / `Action_AddRemoveUser`, which only DocSpace admins
    /// (the owner included) hold (docs/docspace-api.md, "Groups").
    pub fn may_edit_groups(self) -> bool {
        self.user_type == UserType::DocSpaceAdmin
    }

    fn grants(self, to: UserType) -> Option<TypeRefusal> {
        match to {
            _ if matches!(self.user_type, UserType::User | UserType::Guest) => {
                Some(TypeRefusal::CallerCannot)
            }
            UserType::DocSpaceAdmin if !self.owner => Some(TypeRefusal::AdminNeedsOwner),
            UserType::RoomAdmin if self.user_type != UserType::DocSpaceAdmin => {
                Some(TypeRefusal::RoomAdminNeedsAdmin)
            }
            _ => None,
        }
    }
}

/// Why `caller` cannot invite a new person as `to` (`UserController.InviteUsers`), if so.
pub fn invite_refusal(caller: Caller, to: UserType) -> Option<TypeRefusal> {
    if to == UserType::Guest {
        return Some(TypeRefusal::GuestNotByInvite);
    }
    caller.grants(to)
}

/// Why `caller` cannot change a person of type `from` to `to` with `PUT /people/type/{to}`
/// (`UserManagerWrapper.UpdateUserTypeAsync`), if so. Same type: no change, no refusal.
pub fn type_change_refusal(
    caller: Caller,
    target_owner: bool,
    target_is_caller: bool,
    from: UserType,
    to: UserType,
) -> Option<TypeRefusal> {
    if from == to {
        return None;
    }
    if target_owner {
        return Some(TypeRefusal::Owner);
    }
    if target_is_caller {
        return Some(TypeRefusal::OwnAccount);
    }
    if to.rank() < from.rank() {
        return Some(TypeRefusal::Downgrade);
    }
    caller.grants(to)
}

/// Whether `caller` must name an existing account by email, not by id, to share a room with
/// it: `VirtualRoomsController.SetRoomSecurity` keeps an entry by id only when the caller can
/// see the user (`CanUserViewAnotherUserAsync`: a room admin sees no guest outside its user
/// relations) and otherwise drops it with a 200, while by email the server finds the account
/// and makes the relation (`FileSharing.SetAceObjectAsync`). The relations cannot be read:
/// the tool knows one only when the caller created the guest (docs/docspace-api.md, "People
/// and user types").
pub fn share_by_email(caller: Caller, target: UserType, created_by_caller: bool) -> bool {
    caller.user_type == UserType::RoomAdmin && target == UserType::Guest && !created_by_caller
}

#[cfg(test)]
mod type_rule_tests {
    use super::*;

    const OWNER: Caller = Caller {
        user_type: UserType::DocSpaceAdmin,
        owner: true,
    };
    const ADMIN: Caller = Caller {
        user_type: UserType::DocSpaceAdmin,
        owner: false,
    };
    const ROOM_ADMIN: Caller = Caller {
        user_type: UserType::RoomAdmin,
        owner: false,
    };

    #[test]
    fn a_room_admin_shares_guests_it_did_not_create_by_email() {
        assert!(share_by_email(ROOM_ADMIN, UserType::Guest, false));
        assert!(!share_by_email(ROOM_ADMIN, UserType::Guest, true));
        assert!(!share_by_email(ROOM_ADMIN, UserType::User, false));
        assert!(!share_by_email(ADMIN, UserType::Guest, false));
        assert!(!share_by_email(OWNER, UserType::Guest, false));
    }

    #[test]
    fn spellings_are_exact_and_wire_numbers_are_the_servers() {
        for t in UserType::ALL {
            assert_eq!(UserType::from_name(t.name()), Some(t));
        }
        assert_eq!(UserType::from_name("DocSpaceAdmin"), None);
        assert_eq!(UserType::from_name("admin"), None);
        let wire: Vec<i64> = UserType::ALL.iter().map(|t| t.wire()).collect();
        assert_eq!(wire, [3, 1, 4, 2]);
    }

    #[test]
    fn only_the_owner_makes_admins_and_only_admins_make_room_admins() {
        use TypeRefusal::*;
        let change = |c, from, to| type_change_refusal(c, false, false, from, to);
        assert_eq!(change(OWNER, UserType::User, UserType::DocSpaceAdmin), None);
        assert_eq!(
            change(ADMIN, UserType::User, UserType::DocSpaceAdmin),
            Some(AdminNeedsOwner)
        );
        assert_eq!(change(ADMIN, UserType::Guest, UserType::RoomAdmin), None);
        assert_eq!(
            change(ROOM_ADMIN, UserType::User, UserType::RoomAdmin),
            Some(RoomAdminNeedsAdmin)
        );
        assert_eq!(change(ROOM_ADMIN, UserType::Guest, UserType::User), None);
        assert_eq!(
            change(OWNER, UserType::RoomAdmin, UserType::User),
            Some(Downgrade)
        );
        assert_eq!(change(OWNER, UserType::User, UserType::User), None);
        assert_eq!(
            type_change_refusal(OWNER, true, false, UserType::DocSpaceAdmin, UserType::User),
            Some(Owner)
        );
        assert_eq!(
            type_change_refusal(ADMIN, false, true, UserType::User, UserType::RoomAdmin),
            Some(OwnAccount)
        );
    }

    #[test]
    fn the_invite_route_refuses_guests_and_users_may_not_invite() {
        assert_eq!(
            invite_refusal(OWNER, UserType::Guest),
            Some(TypeRefusal::GuestNotByInvite)
        );
        assert_eq!(invite_refusal(ROOM_ADMIN, UserType::User), None);
        let user = Caller {
            user_type: UserType::User,
            owner: false,
        };
        assert_eq!(
            invite_refusal(user, UserType::User),
            Some(TypeRefusal::CallerCannot)
        );
        assert!(!UserType::Guest.may_be_group_member());
        assert!(UserType::RoomAdmin.takes_paid_seat() && !UserType::User.takes_paid_seat());
    }
}
